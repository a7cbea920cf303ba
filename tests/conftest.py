"""Fixtures shared by the whole suite: the run's Redis, a real Celery worker, waiting for things.

Redis: ``make test`` runs pytest under ``python -m cluster.services run-with-redis``, which sets
``REDIS_URL`` to a private Redis (or keeps the one given). Tests that need Redis ask for
``redis_url``, which fails (never skips) when there is none.

Database: with SQLite the test database is a file, not Django's in-memory default, so that other
processes (a real Celery worker, ``manage.py up``) can open it: ``KUBARIUM_TEST_DB`` when set,
else a file in pytest's temporary directory. With ``DATABASE_URL`` pointing at PostgreSQL,
pytest-django creates ``test_<name>`` there. Rows another process must see have to be committed:
mark such tests ``@pytest.mark.django_db(transaction=True)``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from cluster import services

# The database the settings name before pytest-django swaps in the test database.
CONFIGURED_DB_NAME = str(settings.DATABASES["default"]["NAME"])
WORKER_READY_TIMEOUT = 60.0


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory
):
    """With SQLite, make the test database a file other processes can open."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        return
    test = database.setdefault("TEST", {})
    if not test.get("NAME"):
        test["NAME"] = str(tmp_path_factory.getbasetemp() / "kubarium-test.sqlite3")


@pytest.fixture(scope="session")
def test_database_url(django_db_setup: None) -> str:
    """A ``DATABASE_URL`` for the test database, for processes the tests start."""
    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    if name == CONFIGURED_DB_NAME:
        pytest.fail(
            "the test database was not set up: mark the test @pytest.mark.django_db(transaction=True)",
            pytrace=False,
        )
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(name).resolve()}"
    configured = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return urllib.parse.urlunsplit(configured._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The run's Redis (``REDIS_URL``), checked with PING."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.fail(
            "REDIS_URL is not set. Run the suite with `make test` (it starts a private Redis), "
            "or `.venv/bin/python -m cluster.services run-with-redis -- .venv/bin/python -m pytest "
            "...`, or set REDIS_URL to a Redis of your own.",
            pytrace=False,
        )
    if not services.redis_ping(url, timeout=2.0):
        pytest.fail(f"REDIS_URL={url} does not answer PING", pytrace=False)
    return url


@dataclass(frozen=True)
class WorkerProcess:
    """A real ``celery -A cluster worker`` process started for the test session."""

    nodename: str
    child: services.Child
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def celery_worker_process(
    redis_url: str, test_database_url: str, tmp_path_factory
) -> Iterator[WorkerProcess]:
    """One Celery worker (prefork, 2 processes, no beat) on the run's Redis and test database.

    It sees only committed rows: use it from ``django_db(transaction=True)`` tests.
    Module-scoped: it consumes every queue, so it must be gone before another module's
    control plane starts (two workers would share, and race for, that module's work).
    """
    nodename = f"kubarium-test-{os.getpid()}@{socket.gethostname()}"
    log = tmp_path_factory.mktemp("celery-worker") / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("ab") as output:
        child = services.spawn(
            "celery worker",
            services.celery_worker_argv(nodename, beat=False),
            env=env,
            cwd=settings.BASE_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    worker = WorkerProcess(nodename, child, log)
    with contextlib.suppress(TimeoutError):
        services.wait_for(
            lambda: (
                child.returncode is not None or services.celery_worker_answers(nodename, redis_url)
            ),
            timeout=WORKER_READY_TIMEOUT,
            interval=0.2,
        )
    if child.returncode is not None or not services.celery_worker_answers(nodename, redis_url):
        state = child.describe_exit()
        child.stop()
        pytest.fail(f"the Celery worker did not answer ping ({state}):\n{worker.log_tail()}")
    yield worker
    child.stop(timeout=20.0)


@pytest.fixture(scope="session")
def wait_for() -> Callable[..., Any]:
    """``wait_for(predicate, timeout=10, interval=0.05)``: poll until truthy, instead of sleeping.

    Returns the predicate's value; raises ``TimeoutError`` after ``timeout`` seconds.
    """
    return services.wait_for


@pytest.fixture(autouse=True, scope="session")
def _access_open_by_default() -> Iterator[None]:
    """Tests that are not about access run with access control off
    (``KUBARIUM_AUTHORIZATION_MODE=AlwaysAllow``): the plain test ``client``, kubectl over
    plain HTTP (which never sends a token) and the servers tests start (they inherit the
    environment) may do everything. Tests of access itself ask for ``access_enforced``, or start
    their server with ``KUBARIUM_AUTHORIZATION_MODE=RBAC``."""
    from cluster import access

    previous = os.environ.get("KUBARIUM_AUTHORIZATION_MODE")
    os.environ["KUBARIUM_AUTHORIZATION_MODE"] = access.ALWAYS_ALLOW
    settings.KUBARIUM_AUTHORIZATION_MODE = access.ALWAYS_ALLOW
    settings.KUBARIUM_ANONYMOUS_READ = False
    yield
    if previous is None:
        os.environ.pop("KUBARIUM_AUTHORIZATION_MODE", None)
    else:
        os.environ["KUBARIUM_AUTHORIZATION_MODE"] = previous


@pytest.fixture
def access_enforced(settings) -> None:
    """Access control on, as in production: role bindings decide, anonymous read off (a test
    may turn ``settings.KUBARIUM_ANONYMOUS_READ`` on)."""
    from cluster import access

    settings.KUBARIUM_AUTHORIZATION_MODE = access.RBAC
    settings.KUBARIUM_ANONYMOUS_READ = False


@pytest.fixture
def fresh_clock() -> Iterator[None]:
    """The clock read again from the database before and after the test (``clock.invalidate``:
    no cached speed or pause from another test). A module that needs it for every test says
    ``pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_clock")]``."""
    from cluster import clock

    clock.invalidate()
    yield
    clock.invalidate()


@pytest.fixture(autouse=True, scope="session")
def _control_plane_off_by_default():
    """Unit tests write without waking the control plane or the live stream; the
    ``control_plane`` fixture and the dashboard's stream tests switch them on."""
    from cluster import dispatch
    from dashboard import broadcast

    dispatch.disconnect()
    broadcast.disconnect()
    yield


@dataclass
class ControlPlane:
    """A running control plane: real workers (the first with beat) on the test database, and the
    dispatcher on in this process. Workers can be killed and started again."""

    redis_url: str
    database_url: str
    directory: Path
    speed: float
    workers: list[WorkerProcess] = field(default_factory=list)

    def set_speed(self, speed: float) -> None:
        from cluster import clock

        clock.set_speed(speed)
        self.speed = speed

    def start_worker(self, *, beat: bool = True) -> WorkerProcess:
        index = len(self.workers)
        nodename = f"kubarium-cp{index}-{os.getpid()}@{socket.gethostname()}"
        log = self.directory / f"worker-{index}.log"
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "KUBARIUM_SPEED": str(self.speed),
            "KUBARIUM_CONTROL_PLANE": "1",
            "PYTHONUNBUFFERED": "1",
        }
        argv = services.celery_worker_argv(
            nodename, beat=beat, schedule_file=self.directory / f"beat-{index}"
        )
        with log.open("ab") as output:
            child = services.spawn(
                f"worker {index}",
                argv,
                env=env,
                cwd=settings.BASE_DIR,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        worker = WorkerProcess(nodename, child, log)
        with contextlib.suppress(TimeoutError):
            services.wait_for(
                lambda: (
                    child.returncode is not None
                    or services.celery_worker_answers(nodename, self.redis_url)
                ),
                timeout=WORKER_READY_TIMEOUT,
                interval=0.2,
            )
        if child.returncode is not None:
            pytest.fail(f"a control plane worker died:\n{worker.log_tail()}")
        self.workers.append(worker)
        return worker

    def kill(self, worker: WorkerProcess) -> None:
        """``kill -9`` the worker and its pool processes at once, mid-task."""
        os.killpg(worker.child.pid, signal.SIGKILL)
        worker.child.stop(timeout=5.0)
        self.workers.remove(worker)

    def begin(self) -> None:
        """Start a test on a clock every process agrees on. The flush that ended the previous
        test deleted the clock's row, and a worker process may hold the old state in its cache
        for up to ``clock.CACHE_SECONDS``: a timestamp or a timer written from it would be
        minutes off the new clock (a kubelet's back-off due long after the test's deadline).
        Past that time, every process reads the row this test's clock lives in."""
        from cluster import clock

        clock.invalidate()
        time.sleep(clock.CACHE_SECONDS)

    def quiesce(self, timeout: float = 60.0) -> None:
        """Pause the clock and wait until no task is queued or running, so the test database
        can be flushed without a writer in the way (on PostgreSQL a TRUNCATE racing the
        worker's writes deadlocks). Every control-plane task holds a ``kubarium:lock:*`` key
        while it runs; the tick does nothing while the clock is paused."""
        import redis as redis_client

        from cluster import clock

        clock.pause()
        client = redis_client.Redis.from_url(self.redis_url)

        def idle() -> bool:
            return (
                not any(client.llen(queue) for queue in services.WORKER_QUEUES)
                and not client.scard("kubarium:kubelets:due")
                and not any(True for _ in client.scan_iter("kubarium:lock:*"))
            )

        services.wait_for(lambda: idle() and idle() and idle(), timeout=timeout, interval=0.1)

    def stop(self) -> None:
        for worker in reversed(self.workers):
            worker.child.stop(timeout=20.0)
        self.workers.clear()


@pytest.fixture(scope="module")
def control_plane(
    redis_url: str, test_database_url: str, tmp_path_factory
) -> Iterator[ControlPlane]:
    """A Celery worker with beat (every queue) on the test database, the clock at 20x, and
    committed writes enqueueing work. Module-scoped: it stops before other modules run.

    Tests using it must be ``django_db(transaction=True)``: the worker sees only commits.
    """
    from cluster import dispatch
    from cluster.store import notify

    speed = 20.0
    settings.KUBARIUM["SPEED"] = speed
    plane = ControlPlane(
        redis_url, test_database_url, tmp_path_factory.mktemp("control-plane"), speed
    )
    plane.start_worker(beat=True)
    notify.subscribe_many(dispatch.on_changes)
    try:
        yield plane
    finally:
        notify.unsubscribe_many(dispatch.on_changes)
        plane.stop()
        settings.KUBARIUM["SPEED"] = 1.0
        _forget_queued_work(redis_url)


def _forget_queued_work(redis_url: str) -> None:
    """Drop the control plane's queued tasks and markers, so no later test inherits them."""
    import redis as redis_client

    client = redis_client.Redis.from_url(redis_url)
    keys = list(client.scan_iter("kubarium:*")) + [q.encode() for q in services.WORKER_QUEUES]
    client.delete(*keys)
