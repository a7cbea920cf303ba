"""Real processes for the live dashboard tests: Daphne, and a Celery worker that publishes.

Both run against the test database (``test_database_url``) and the run's Redis, so a write in
the test process, in the worker or in Daphne reaches a websocket the way it does in production.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from cluster import services

READY_TIMEOUT = 60.0
LAUNCHER = Path(__file__).resolve().parent / "worker_with_broadcast.py"


@dataclass(frozen=True)
class Server:
    child: services.Child
    url: str  # http://127.0.0.1:PORT
    log: Path

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def environment(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DEBUG": "1",  # Daphne serves the static files itself
        # Whichever process creates the clock's row first gives it this process's speed.
        "KUBARIUM_SPEED": str(settings.KUBARIUM["SPEED"]),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


@contextlib.contextmanager
def daphne(
    database_url: str, redis_url: str, directory: Path, port: int | None = None
) -> Iterator[Server]:
    """Daphne on ``port`` (default: a free one), serving the dashboard and its websockets;
    stopped on exit."""
    port = port or services.find_free_port()
    log = directory / "daphne.log"
    with log.open("ab") as output:
        child = services.spawn(
            "daphne",
            services.daphne_argv(port),
            env=environment(database_url, redis_url, KUBARIUM_CONTROL_PLANE="0"),
            cwd=settings.BASE_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server(child, f"http://{services.LOCALHOST}:{port}", log)
    try:
        with contextlib.suppress(TimeoutError):
            services.wait_for(
                lambda: child.returncode is not None or services.http_answers(server.url + "/"),
                timeout=READY_TIMEOUT,
                interval=0.1,
            )
        if child.returncode is not None or not services.http_answers(server.url + "/"):
            raise RuntimeError(
                f"Daphne did not start ({child.describe_exit()}):\n{server.log_tail()}"
            )
        yield server
    finally:
        child.stop(timeout=10.0)


@contextlib.contextmanager
def publishing_worker(
    database_url: str, redis_url: str, directory: Path, speed: float
) -> Iterator[Server]:
    """A Celery worker with beat (the whole control plane) whose writes reach the live stream."""
    nodename = f"kubarium-live-{os.getpid()}-{id(directory)}@{socket.gethostname()}"
    argv = services.celery_worker_argv(
        nodename, beat=True, schedule_file=str(directory / "beat-schedule")
    )
    argv = [sys.executable, str(LAUNCHER), *argv[argv.index("-m") + 2 :]]
    log = directory / "worker.log"
    env = environment(
        database_url, redis_url, KUBARIUM_SPEED=str(speed), KUBARIUM_CONTROL_PLANE="1"
    )
    with log.open("ab") as output:
        child = services.spawn(
            "control plane",
            argv,
            env=env,
            cwd=settings.BASE_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server(child, "", log)
    try:
        with contextlib.suppress(TimeoutError):
            services.wait_for(
                lambda: (
                    child.returncode is not None
                    or services.celery_worker_answers(nodename, redis_url)
                ),
                timeout=READY_TIMEOUT,
                interval=0.2,
            )
        if child.returncode is not None or not services.celery_worker_answers(nodename, redis_url):
            raise RuntimeError(f"the worker did not start:\n{server.log_tail()}")
        yield server
    finally:
        child.stop(timeout=20.0)
