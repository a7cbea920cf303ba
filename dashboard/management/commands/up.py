"""``manage.py up``: run the whole of Kubarium in the foreground (what ``make demo`` ends with).

Starts a private Redis (unless ``REDIS_URL`` is set), four Celery workers (the clock with beat,
the scheduler, the kubelets, the controllers: ``cluster.services.worker_roles``) and Daphne on
127.0.0.1:``PORT``; waits until each answers; prints the URL; then supervises. Ctrl-C or SIGTERM
stops everything (exit status 0); if any of them dies, the others are stopped too and the command
fails, naming the one that died.

Daphne also serves HTTPS on ``HTTPS_PORT`` (default ``PORT`` + 443, so 8443): kubectl sends
tokens only over TLS. On first run it makes, in ``.kubarium/``, a certificate authority and a
server certificate (``cluster.tls``), the superuser ``admin`` with a random password, and
``kubeconfig`` with an admin token (``cluster.kubeconfig``), and prints how to use them. The
dashboard is open read-only to people who are not signed in (``KUBARIUM_ANONYMOUS_READ``, on
here unless set to 0), for classroom projectors.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cluster import kubeconfig, tls
from cluster.services import (
    LOCALHOST,
    PrivateRedis,
    ServiceError,
    StartupAborted,
    Supervisor,
    celery_worker_answers,
    celery_worker_argv,
    daphne_argv,
    http_answers,
    port_is_free,
    redis_ping,
    worker_roles,
)

DEFAULT_PORT = 8000


def port_from(environ: Mapping[str, str], name: str = "PORT", default: int = DEFAULT_PORT) -> int:
    """A TCP port from the environment variable ``name`` (``PORT``), else ``default``."""
    value = environ.get(name, "").strip() or str(default)
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise CommandError(f"{name} must be a TCP port number, not {value!r}")
    return int(value)


def https_port_from(environ: Mapping[str, str], port: int) -> int:
    """The HTTPS port: ``HTTPS_PORT`` from the environment, else the HTTP port + 443."""
    return port_from(environ, "HTTPS_PORT", port + 443 if port + 443 < 65536 else port - 443)


class Command(BaseCommand):
    help = (
        "Start Kubarium: a private Redis (unless REDIS_URL is set), Celery workers (clock with "
        "beat, scheduler, kubelets, controllers) and Daphne on 127.0.0.1:$PORT (default 8000). "
        "Ctrl-C stops them all."
    )
    requires_migrations_checks = True

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, help="HTTP port (default: $PORT, else 8000)")
        parser.add_argument(
            "--concurrency",
            type=int,
            default=2,
            help="pool processes of the controllers' worker (default 2)",
        )
        parser.add_argument(
            "--ready-timeout",
            type=float,
            default=60.0,
            help="seconds each process may take to become ready (default 60)",
        )

    def log(self, message: str) -> None:
        self.stdout.write(f"kubarium: {message}")
        self.stdout.flush()

    def handle(self, *args, port: int | None, concurrency: int, ready_timeout: float, **options):
        port = port or port_from(os.environ)
        if not port_is_free(port):
            raise CommandError(
                f"port {port} on {LOCALHOST} is in use; choose another with PORT=..."
            )
        self.https_port = https_port_from(os.environ, port)
        if not port_is_free(self.https_port):
            raise CommandError(
                f"port {self.https_port} on {LOCALHOST} is in use; "
                "choose another with HTTPS_PORT=..."
            )
        self.access_lines: list[str] = []
        url = f"http://{LOCALHOST}:{port}/"
        with Supervisor(log=self.log) as supervisor:
            try:
                self.start(supervisor, port, concurrency, ready_timeout)
            except StartupAborted as aborted:
                if aborted.outcome.requested:
                    self.log(f"{aborted.outcome} while starting; stopping")
                    return
                raise CommandError(
                    f"{aborted.outcome} while starting; stopped everything"
                ) from None
            except ServiceError as error:
                raise CommandError(f"{error}; stopped everything") from None
            self.stdout.write(f"\nKubarium is running at {url}  (Ctrl-C to stop)\n")
            for line in self.access_lines:
                self.stdout.write(f"  {line}\n")
            self.stdout.flush()
            outcome = supervisor.wait()
            if outcome.requested:
                self.log(f"{outcome}; stopping")
        if not outcome.requested:
            raise CommandError(f"{outcome}; stopped everything")
        self.log("stopped")

    def start(
        self, supervisor: Supervisor, port: int, concurrency: int, ready_timeout: float
    ) -> None:
        """Start Redis (if needed), the worker and Daphne; return when all three answer."""
        redis_url = os.environ.get("REDIS_URL", "")
        if redis_url:
            if not redis_ping(redis_url, timeout=2.0):
                raise ServiceError(f"REDIS_URL={redis_url} does not answer PING")
            self.log(f"redis   {redis_url} (REDIS_URL)")
        else:
            redis = supervisor.enter_context(PrivateRedis())
            assert redis.child is not None
            supervisor.watch(redis.child)
            redis_url = redis.url
            self.log(f"redis   {redis_url} (private, pid {redis.child.pid})")

        env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "dashboard.settings"
            ),
            "PYTHONUNBUFFERED": "1",
            # The demo is for classrooms: people may look at the dashboard without signing in.
            "KUBARIUM_ANONYMOUS_READ": os.environ.get("KUBARIUM_ANONYMOUS_READ", "1"),
        }
        state_dir = settings.STATE_DIR
        state_dir.mkdir(parents=True, exist_ok=True)
        certificates = tls.ensure_certificates(state_dir / "tls")
        workers = []
        for role in worker_roles(concurrency):
            nodename = f"{role.name}-{os.getpid()}@{socket.gethostname()}"
            argv = celery_worker_argv(
                nodename,
                beat=role.beat,
                concurrency=role.concurrency,
                # Quiet by default: a line per task (twice a second for the tick alone) would
                # bury the URL and the instructions; LOG_LEVEL=INFO shows them.
                loglevel=os.environ.get("LOG_LEVEL", "WARNING"),
                schedule_file=state_dir / "celerybeat-schedule",
                queues=role.queues,
            )
            child = supervisor.start(f"{role.name} worker", argv, env=env, cwd=settings.BASE_DIR)
            workers.append((role, nodename, child))
        daphne = supervisor.start(
            "daphne",
            tls.with_tls(daphne_argv(port), tls.daphne_endpoint(self.https_port, certificates)),
            env=env,
            cwd=settings.BASE_DIR,
        )

        for role, nodename, child in workers:
            supervisor.wait_ready(
                child,
                lambda name=nodename: celery_worker_answers(name, redis_url),
                timeout=ready_timeout,
            )
            self.log(
                f"worker  {nodename} answers ping (queues {','.join(role.queues)}, pid {child.pid})"
            )
        url = f"http://{LOCALHOST}:{port}/"
        supervisor.wait_ready(daphne, lambda: http_answers(url), timeout=ready_timeout)
        self.log(f"daphne  {url} answers HTTP (pid {daphne.pid})")
        https_url = f"https://{LOCALHOST}:{self.https_port}"
        supervisor.wait_ready(
            daphne, lambda: tls.https_answers(https_url, certificates.ca), timeout=ready_timeout
        )
        self.log(f"daphne  {https_url}/ answers HTTPS")
        made = kubeconfig.ensure_demo_access(state_dir, https_url, certificates.ca_pem())
        if made.token_created:
            self.log(f"wrote   {made.kubeconfig} (a new token for {made.username})")
        anonymous = env["KUBARIUM_ANONYMOUS_READ"].strip().lower() in {"1", "true", "yes", "on"}
        self.access_lines = kubeconfig.instructions(made, https_url, anonymous, Path.cwd())
