"""The real ``kubectl`` and the API server it talks to, for tests.

``api_server`` (session-scoped) starts Daphne, the production ASGI server, on a free port
against the test database, with the control plane off (nothing reconciles: what a test writes
stays as written). Tests that use it must be ``@pytest.mark.django_db(transaction=True)`` so
their writes are committed where Daphne can see them.

``kubectl`` (per test) runs ``/usr/bin/kubectl --server=URL --cache-dir=<fresh dir>`` with an
empty ``HOME`` and no ``KUBECONFIG``, so no cached discovery or ``/version`` answer and no
user configuration leaks between tests (kubectl-contract §3.6). ``kubectl.start(...)`` runs a
long command (``get -w``, ``logs -f``) in the background and collects its output lines.

``live_api_server`` (module-scoped) is the same Daphne with the control plane on, next to the
``control_plane`` fixture's worker: ``kubectl rollout status``, ``drain`` or ``top`` then see a
cluster that moves. ``live_kubectl`` is ``kubectl`` against it.

Use the fixtures in a test module by naming them there:
``from tests import kubectl as kubectl_tools`` then ``kubectl = kubectl_tools.kubectl``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

from cluster import services

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
READY_TIMEOUT = 60.0
COMMAND_TIMEOUT = 60.0


@dataclass(frozen=True)
class ApiServer:
    url: str  # http://127.0.0.1:PORT
    child: services.Child
    log: Path

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def serve(
    database_url: str, directory: Path, extra_env: dict[str, str] | None = None
) -> Iterator[ApiServer]:
    """Daphne serving the API on a free port against ``database_url``; stopped on exit.

    The control plane is off unless ``extra_env`` turns it on (``KUBARIUM_CONTROL_PLANE=1``
    with a ``REDIS_URL``: then the API's writes enqueue the workers' reconciles)."""
    port = services.find_free_port()
    log = directory / "daphne.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "KUBARIUM_CONTROL_PLANE": "0",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    with log.open("ab") as output:
        child = services.spawn(
            "daphne",
            services.daphne_argv(port),
            env=env,
            cwd=settings.BASE_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = ApiServer(f"http://{services.LOCALHOST}:{port}", child, log)
    try:
        with contextlib.suppress(TimeoutError):
            services.wait_for(
                lambda: (
                    child.returncode is not None or services.http_answers(server.url + "/version")
                ),
                timeout=READY_TIMEOUT,
                interval=0.1,
            )
        if child.returncode is not None or not services.http_answers(server.url + "/version"):
            raise RuntimeError(
                f"Daphne did not start ({child.describe_exit()}):\n{server.log_tail()}"
            )
        yield server
    finally:
        child.stop(timeout=10.0)


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    def __str__(self) -> str:
        return (
            f"kubectl {' '.join(self.args)} -> {self.returncode}\n"
            f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        )


@dataclass
class Background:
    """A kubectl command running in the background, its output collected line by line."""

    process: subprocess.Popen[str]
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for stream, sink in (
            (self.process.stdout, self.stdout),
            (self.process.stderr, self.stderr),
        ):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()

    @staticmethod
    def _pump(stream, sink: list[str]) -> None:
        for line in stream:
            sink.append(line.rstrip("\n"))

    def wait_for_line(
        self, predicate: Callable[[str], bool], timeout: float = 20.0, *, stderr: bool = False
    ) -> str:
        """The first output line (of stderr with ``stderr=True``) satisfying ``predicate``
        (waits for it)."""
        lines = self.stderr if stderr else self.stdout
        return services.wait_for(
            lambda: next((line for line in list(lines) if predicate(line)), None),
            timeout=timeout,
            message=f"no such line; stdout={self.stdout!r} stderr={self.stderr!r}",
        )

    def wait(self, timeout: float = 20.0) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Kubectl:
    """``kubectl --server=URL --cache-dir=DIR`` with a private, empty home."""

    def __init__(self, server: str, home: Path):
        self.server = server
        self.home = home
        self.cache_dir = home / "kube-cache"
        self.background: list[Background] = []

    def argv(self, *args: str) -> list[str]:
        return [KUBECTL, f"--server={self.server}", f"--cache-dir={self.cache_dir}", *args]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        env["HOME"] = str(self.home)
        return env

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        check: bool = True,
        timeout: float = COMMAND_TIMEOUT,
    ) -> Result:
        done = subprocess.run(
            self.argv(*args),
            input=input,
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=self.home,
            timeout=timeout,
        )
        result = Result(args, done.returncode, done.stdout, done.stderr)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl failed: {result}")
        return result

    def fails(self, *args: str, input: str | None = None) -> Result:
        """Run a command that must fail (exit code 1); returns its result."""
        result = self(*args, input=input, check=False)
        assert result.returncode == 1, str(result)
        return result

    def start(self, *args: str) -> Background:
        process = subprocess.Popen(
            self.argv(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=self.env(),
            cwd=self.home,
        )
        running = Background(process)
        self.background.append(running)
        return running

    def write(self, name: str, text: str) -> str:
        """Write a manifest into the private home, kubectl's working directory; returns the
        relative name to pass to ``-f`` (kubectl prints it in errors)."""
        (self.home / name).write_text(text)
        return name

    def close(self) -> None:
        for running in self.background:
            running.stop()


@pytest.fixture(scope="session")
def api_server(test_database_url: str, tmp_path_factory) -> Iterator[ApiServer]:
    """Daphne serving the Kubernetes API on the test database (control plane off)."""
    with serve(test_database_url, tmp_path_factory.mktemp("api-server")) as server:
        yield server


@pytest.fixture
def kubectl(api_server: ApiServer, tmp_path: Path) -> Iterator[Kubectl]:
    """The real kubectl against ``api_server``, with a fresh cache and home per test."""
    runner = Kubectl(api_server.url, tmp_path)
    try:
        yield runner
    finally:
        runner.close()


@pytest.fixture(scope="module")
def live_api_server(control_plane, test_database_url: str, tmp_path_factory) -> Iterator[ApiServer]:
    """Daphne serving the Kubernetes API on the test database with the control plane on: the
    API's writes wake the ``control_plane`` fixture's worker, as in ``make demo``.
    Module-scoped, like the worker it shares the database with."""
    extra = {
        "KUBARIUM_CONTROL_PLANE": "1",
        "REDIS_URL": control_plane.redis_url,
        "KUBARIUM_SPEED": str(control_plane.speed),
    }
    with serve(test_database_url, tmp_path_factory.mktemp("live-api-server"), extra) as server:
        yield server


@pytest.fixture
def live_kubectl(live_api_server: ApiServer, tmp_path: Path) -> Iterator[Kubectl]:
    """The real kubectl against ``live_api_server``, with a fresh cache and home per test."""
    runner = Kubectl(live_api_server.url, tmp_path)
    try:
        yield runner
    finally:
        runner.close()
