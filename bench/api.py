"""REST API benchmark: ``kubectl get pods -A`` over 10,000 pods, and GET/PATCH latency under
20 concurrent clients, against Daphne (the production ASGI server).

Set-up: a fresh database with 20 nodes and ``--pods`` running pods (10 namespaces) written
through ``cluster.store.batch`` (the write path in bulk), then Daphne on a free port with the
control plane off (nothing else writes) and access control off (``AlwaysAllow``: kubectl sends
no token over plain HTTP).

Measured:

- ``kubectl get pods -A`` wall time (the real binary, discovery cached by a first run, output to
  a pipe): kubectl pages with ``limit=500``, so this is 20 server-side Table pages;
- single-object ``GET`` and ``PATCH`` (a strategic merge patch of a label, as ``kubectl label``
  sends) of random pods by ``--clients`` threads with a keep-alive connection each
  (``http.client``, the lightest client at hand: the clients share the machine's CPUs with the
  server): p50 and p99.

Server CPU (Daphne's own user + system time, from ``/proc``) is printed beside each figure: it
is steadier than wall time on a shared machine.

Baselines, in the same run: the same 10,000 pods listed by a plain queryset and ``json.dumps``
in this process (no HTTP, no Table, no Kubernetes shape), and ``GET /version`` (no database)
under the same concurrency (what the server costs before any resource work).

    DEBUG=0 python bench/api.py [--pods 10000] [--clients 20] [--requests 50]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from _setup import ROOT, setup_django

NAMESPACES = 10
NODES = 20
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process ``pid`` has used so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def node(i: int) -> dict:
    capacity = {"cpu": "64", "memory": "256Gi", "pods": "1000"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": f"node-{i:02d}",
            "labels": {"kubernetes.io/hostname": f"node-{i:02d}"},
        },
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def pod(i: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"web-{i:05d}",
            "namespace": f"team-{i % NAMESPACES}",
            "labels": {"app": f"app-{i % 20}", "tier": "web" if i % 2 else "api"},
        },
        "spec": {
            "nodeName": f"node-{i % NODES:02d}",
            "containers": [
                {
                    "name": "main",
                    "image": "nginx:1.27",
                    "ports": [{"containerPort": 80}],
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                }
            ],
        },
    }


def populate(n: int, chunk: int = 500) -> None:
    """Nodes, namespaces and ``n`` pods, each pod Running and Ready as a kubelet reports it."""
    from cluster import clock
    from cluster.store import batch
    from cluster.store.objects import format_time

    def check(results) -> None:
        errors = batch.errors_of(results)
        if errors:
            raise SystemExit(f"set-up failed: {errors[:3]}")

    namespaces = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"team-{i}"}}
        for i in range(NAMESPACES)
    ]
    check(batch.create_many(namespaces + [node(i) for i in range(NODES)], actor="bench"))
    started = format_time(clock.now_datetime())

    def run(current: dict) -> dict:
        ip = sum(ord(c) for c in current["metadata"]["name"]) % 250 + 2
        current["status"].update(
            phase="Running",
            podIP=f"10.244.{int(current['spec']['nodeName'][-2:])}.{ip}",
            startTime=started,
            conditions=[
                {"type": "Initialized", "status": "True"},
                {"type": "Ready", "status": "True"},
                {"type": "ContainersReady", "status": "True"},
                {"type": "PodScheduled", "status": "True"},
            ],
            containerStatuses=[
                {
                    "name": "main",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "image": "nginx:1.27",
                    "imageID": "",
                    "state": {"running": {"startedAt": started}},
                }
            ],
        )
        return current

    for first in range(0, n, chunk):
        pods = [pod(i) for i in range(first, min(first + chunk, n))]
        check(batch.create_many(pods, actor="bench"))
        changes = [(p["metadata"]["namespace"], p["metadata"]["name"], run) for p in pods]
        check(batch.mutate_many("Pod", changes, actor="kubelet", subresource="status"))


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def concurrently(
    clients: int, requests: int, one: Callable[[object, int], float], session_factory
) -> tuple[list[float], float]:
    """Each of ``clients`` threads runs ``one(session, i)`` ``requests`` times: the latencies,
    and the wall time of the whole run."""
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)
    failures: list[BaseException] = []

    def client(index: int) -> None:
        session = session_factory()
        mine = []
        try:
            barrier.wait()
            for i in range(requests):
                mine.append(one(session, index * requests + i))
        except BaseException as error:  # reported after the run
            failures.append(error)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - begin
    if failures:
        raise failures[0]
    return latencies, wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50, help="requests per client and verb")
    parser.add_argument("--kubectl-runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("DEBUG", "0")
    os.environ["KUBARIUM_CONTROL_PLANE"] = "0"
    os.environ["KUBARIUM_AUTHORIZATION_MODE"] = "AlwaysAllow"
    database = setup_django()

    from cluster import services
    from cluster.models import Pod

    n = args.pods
    started = time.perf_counter()
    populate(n)
    print(f"database: {database}")
    print(f"set-up: {NODES} nodes, {n} running pods in {time.perf_counter() - started:.1f} s")

    workdir = Path(tempfile.mkdtemp(prefix="kubarium-bench-api-"))
    port = services.find_free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with (workdir / "daphne.log").open("ab") as log:
        daphne = services.spawn(
            "daphne", services.daphne_argv(port), env=env, cwd=ROOT, stdout=log, stderr=log
        )
    url = f"http://{services.LOCALHOST}:{port}"
    try:
        services.wait_for(lambda: services.http_answers(url + "/version"), timeout=60)

        # kubectl get pods -A: a first run fills the discovery cache, then the timed runs.
        kubectl = [
            "kubectl",
            f"--server={url}",
            f"--cache-dir={workdir / 'kube-cache'}",
            "get",
            "pods",
            "-A",
        ]
        kubectl_env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        kubectl_env["HOME"] = str(workdir)

        def get_all() -> float:
            begin = time.perf_counter()
            done = subprocess.run(kubectl, capture_output=True, text=True, env=kubectl_env)
            seconds = time.perf_counter() - begin
            if done.returncode != 0 or len(done.stdout.splitlines()) != n + 1:
                raise SystemExit(f"kubectl get pods -A failed: {done.stderr[-500:]}")
            return seconds

        get_all()
        cpu_before = cpu_seconds(daphne.pid)
        list_seconds = statistics.median(get_all() for _ in range(args.kubectl_runs))
        list_cpu = (cpu_seconds(daphne.pid) - cpu_before) / args.kubectl_runs

        begin = time.perf_counter()
        rows = list(Pod.objects.order_by("namespace", "name").values())
        text = json.dumps(rows, default=str)
        baseline_list_seconds = time.perf_counter() - begin
        assert len(rows) == n and text

        names = [(f"team-{i % NAMESPACES}", f"web-{i:05d}") for i in range(n)]
        rng = random.Random(0)
        picks = [rng.choice(names) for _ in range(args.clients * args.requests)]

        def connect() -> http.client.HTTPConnection:
            return http.client.HTTPConnection(services.LOCALHOST, port, timeout=60)

        def timed(
            connection: http.client.HTTPConnection,
            method: str,
            path: str,
            body: str | None = None,
            headers: dict[str, str] | None = None,
        ) -> float:
            begin = time.perf_counter()
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
            seconds = time.perf_counter() - begin
            if response.status != 200:
                raise SystemExit(f"{method} {path}: {response.status}: {data[:300]!r}")
            return seconds

        def get_one(connection, i: int) -> float:
            namespace, name = picks[i]
            return timed(connection, "GET", f"/api/v1/namespaces/{namespace}/pods/{name}")

        def patch_one(connection, i: int) -> float:
            namespace, name = picks[i]
            body = json.dumps({"metadata": {"labels": {"bench": f"r{i}"}}})
            content_type = {"Content-Type": "application/strategic-merge-patch+json"}
            path = f"/api/v1/namespaces/{namespace}/pods/{name}"
            return timed(connection, "PATCH", path, body, content_type)

        def version(connection, i: int) -> float:
            return timed(connection, "GET", "/version")

        clients, each = args.clients, args.requests
        server_cpu: dict[str, float] = {}

        def measured(label: str, one: Callable[[object, int], float]):
            before = cpu_seconds(daphne.pid)
            result = concurrently(clients, each, one, connect)
            server_cpu[label] = (cpu_seconds(daphne.pid) - before) / (clients * each)
            return result

        base, base_wall = measured("baseline GET /version", version)
        gets, gets_wall = measured("GET pod", get_one)
        patches, patches_wall = measured("PATCH pod", patch_one)
    finally:
        daphne.stop(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)  # kept (with Daphne's log) when a step failed

    def ms(values: list[float], q: float) -> float:
        return percentile(values, q) * 1000

    print(
        f"kubectl get pods -A ({n} pods, median of {args.kubectl_runs}): {list_seconds:.2f} s, "
        f"server CPU {list_cpu:.2f} s (baseline queryset + json.dumps in-process: "
        f"{baseline_list_seconds:.2f} s)"
    )
    for label, (values, wall) in (
        ("GET pod", (gets, gets_wall)),
        ("PATCH pod", (patches, patches_wall)),
        ("baseline GET /version", (base, base_wall)),
    ):
        print(
            f"{label}, {clients} clients x {each}: p50 {ms(values, 0.5):.0f} ms, "
            f"p99 {ms(values, 0.99):.0f} ms ({len(values) / wall:,.0f} requests/s, "
            f"server CPU {server_cpu[label] * 1000:.1f} ms per request)"
        )
    print(
        f"api: get pods -A {list_seconds:.1f} s, GET p99 {ms(gets, 0.99):.0f} ms, "
        f"PATCH p99 {ms(patches, 0.99):.0f} ms (baseline list {baseline_list_seconds:.1f} s, "
        f"/version p99 {ms(base, 0.99):.0f} ms)"
    )


if __name__ == "__main__":
    main()
