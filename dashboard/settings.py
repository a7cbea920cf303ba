"""Django settings for Kubarium.

Everything that differs between a laptop demo and production comes from the environment:

- ``DATABASE_URL``: a database URL (PostgreSQL in production); default a SQLite file ``db.sqlite3``.
- ``REDIS_URL``: the Redis used as Celery broker and Channels layer; ``make demo`` and ``make test``
  start a private one when it is not set.
- ``SECRET_KEY``: required when ``DEBUG`` is off; a per-checkout random key is generated otherwise.
- ``DEBUG``: ``1``/``true`` to enable (default on for the embedded demo).
- ``ALLOWED_HOSTS``: comma-separated host names (default ``localhost,127.0.0.1,[::1]``).
- ``KUBARIUM_SPEED``: the simulation clock's speed at start (see ``docs/configuration.md``).
- ``KUBARIUM_ANONYMOUS_READ``: ``1`` lets people who are not signed in (and API requests without
  a token) read everything but Secrets, for classroom projectors (default off).
- ``KUBARIUM_AUTHORIZATION_MODE``: ``RBAC`` (default) or ``AlwaysAllow`` (no access control at
  all, for throwaway sandboxes and tests).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("KUBARIUM_STATE_DIR", BASE_DIR / ".kubarium"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """The key from the environment, or one generated once per checkout (never committed)."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    path = STATE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    "cluster",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Dashboard pages need a signed-in user unless anonymous read is on (``cluster.access``).
    "dashboard.middleware.SignInRequired",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
ASGI_APPLICATION = "dashboard.asgi.application"
# The Kubernetes API has no trailing slashes; never redirect to add one.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # Projector mode, presenting and following (classroom follow mode).
                "dashboard.follow.context",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (Daphne, the Celery worker, beat, management commands) share the file.
    # WAL lets readers proceed during a write; IMMEDIATE takes the write lock when a transaction
    # starts, so two writers queue behind the busy timeout instead of failing with "database is
    # locked" when a read transaction tries to upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("KUBARIUM_TEST_DB") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# The language comes from the session's choice (the header's selector posts to Django's
# set_language view), else the browser's Accept-Language (LocaleMiddleware), else English.
# Catalogs live in each app's own locale/ folder (cluster/locale, dashboard/locale; the .mo files
# are committed, see dashboard/catalogs.py); there is no project-level locale folder.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS: list[Path] = []
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL]},
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task taken by a worker that dies (kill -9) is handed out again after this many seconds.
# Kubarium's tasks are short and idempotent, so a short window is safe and heals quickly.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 30}
# The scheduler has a queue of its own, consumed by one worker process, so no pod is placed twice;
# the clock's tick has one too, so that it never waits behind the controllers' work
# (``cluster.services.worker_roles``). Everything else goes to the default queue, "celery".
CELERY_TASK_ROUTES = {
    "kubarium.schedule": {"queue": "scheduler"},
    "kubarium.tick": {"queue": "clock"},
    "kubarium.kubelet_sync": {"queue": "kubelets"},
    "kubarium.kubelets": {"queue": "kubelets"},
}
CELERY_BEAT_SCHEDULE = {
    "clock-tick": {"task": "kubarium.tick", "schedule": 0.5, "options": {"expires": 2}},
}

KUBARIUM = {
    # Whether committed writes enqueue the control plane's work (off only in unit tests).
    "CONTROL_PLANE": env_bool("KUBARIUM_CONTROL_PLANE", True),
    # Simulated seconds per real second at start; 0 is paused.
    "SPEED": float(os.environ.get("KUBARIUM_SPEED", "1")),
    # Largest manifest accepted by the apply path, in bytes.
    "MAX_MANIFEST_BYTES": int(os.environ.get("KUBARIUM_MAX_MANIFEST_BYTES", str(3 * 1024 * 1024))),
    # Threads of Daphne that run Kubernetes API requests, each keeping its database connection
    # across requests (``cluster.api.server``; the dashboard's requests follow CONN_MAX_AGE).
    "API_THREADS": int(os.environ.get("KUBARIUM_API_THREADS", "4")),
}

# Access (``cluster.access``): anonymous read-only access for classroom projectors, and the
# authorization mode, as kube-apiserver's --authorization-mode names it.
KUBARIUM_ANONYMOUS_READ = env_bool("KUBARIUM_ANONYMOUS_READ", False)
KUBARIUM_AUTHORIZATION_MODE = os.environ.get("KUBARIUM_AUTHORIZATION_MODE", "RBAC").strip()
if KUBARIUM_AUTHORIZATION_MODE not in ("RBAC", "AlwaysAllow"):
    raise ValueError(
        f"KUBARIUM_AUTHORIZATION_MODE must be RBAC or AlwaysAllow, not {KUBARIUM_AUTHORIZATION_MODE!r}"
    )
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "architecture"
LOGOUT_REDIRECT_URL = "login"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
