"""Scheduler benchmark: the real scheduling cycle over the database, decisions and bindings.

Builds the cluster of ``bench/scheduler_core.py`` in a fresh database (by default 1,000 nodes:
3 tainted control-plane nodes, workers in three zones, 1 % cordoned, 1 % NotReady with the
not-ready taint, a few PreferNoSchedule taints, images reported; 10,000 pending pods from 50
templates with requests, tolerations, node selectors and preferred zones, so every plugin has
work), then runs ``cluster.scheduler.runner.schedule_pending`` until no pod is pending, as the
``kubarium.schedule`` task does (cycles of ``SCHEDULE_LIMIT`` pods). Every placed pod is bound
through the store (a revision and a change-log row), gets a ``Scheduled`` event and a
``SchedulingDecision``. It prints pods bound per second (wall clock, and per CPU second of this
process, which other busy processes disturb less) and the time per pod of each phase: snapshot
(the pending pods and the node snapshot read from the database), filter+score
(``schedule_batch``) and commit (bindings, events, decisions).

Baseline, in the same run: the naive way, one pod at a time straight through the ORM. For each
pod: read every schedulable, Ready node's allocatable cpu, memory and pods, and the sums of the
requests of the pods bound to each node (one aggregate query), take the first node where the
pod fits by plain arithmetic, and save the pod row with its node. No plugins, no decision, no
event, no revision, no change log. It runs on ``--baseline-pods`` extra pending pods (500 by
default) after the real run, so it sees the same nodes with the same bound pods.

The setup is not timed in the result. ``--setup batch`` (the default) creates the nodes and pods
through ``cluster.store.batch.create_many`` in transactions of ``--setup-batch`` objects (the
write path's validation, defaults, change-log rows and notifications, one revision increment
per transaction); ``--setup write`` uses ``write.create`` one by one. The control plane's
dispatcher is off: nothing is enqueued, no Redis is needed.

The database is a temporary SQLite file, removed at the end (``--keep-db`` keeps it);
``--postgres URL`` creates a scratch database on that server instead (and drops it after);
``DATABASE_URL`` set in the environment is used as it is.

    python bench/scheduler.py [--nodes 1000] [--pods 10000] [--baseline-pods 500]
                              [--setup batch|write] [--postgres URL] [--profile FILE]

``--profile FILE`` runs the real path under cProfile and writes the statistics to FILE (the
figures printed are then slower than without it).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import random
import shutil
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _setup import setup_django

Obj = dict[str, Any]
NAMESPACE = "bench"
BASELINE_NAMESPACE = "baseline"


# --- the database of one run -----------------------------------------------------------------


@contextlib.contextmanager
def bench_database(postgres: str | None = None, *, keep: bool = False) -> Iterator[str]:
    """Set ``DATABASE_URL`` for this run and clean up afterwards; yields the URL.

    ``DATABASE_URL`` already set: used as it is, nothing removed. ``postgres`` (a server URL):
    a scratch database ``kubarium_bench_<pid>`` is created there and dropped at the end.
    Otherwise a SQLite file in a new temporary directory, removed at the end unless ``keep``.
    """
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    if postgres:
        name = f"kubarium_bench_{os.getpid()}"
        url = _create_postgres_database(postgres, name)
        os.environ["DATABASE_URL"] = url
        try:
            yield url
        finally:
            _close_django_connections()
            if keep:
                print(f"kept the database {url}")
            else:
                _drop_postgres_database(postgres, name)
        return
    directory = Path(tempfile.mkdtemp(prefix="kubarium-bench-"))
    url = f"sqlite:///{directory / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = url
    try:
        yield url
    finally:
        _close_django_connections()
        if keep:
            print(f"kept the database {url}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


def _create_postgres_database(server: str, name: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urllib.parse.urlsplit(server)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def _drop_postgres_database(server: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _close_django_connections() -> None:
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


# --- the cluster -----------------------------------------------------------------------------


def node_objects(count: int, seed: int = 1) -> list[Obj]:
    """The nodes of ``scheduler_core.make_nodes`` as Node manifests (capacity = allocatable)."""
    from scheduler_core import make_nodes

    nodes = []
    for node in make_nodes(count, random.Random(seed)):
        status = node["status"]
        status["capacity"] = dict(status["allocatable"])
        nodes.append({"apiVersion": "v1", "kind": "Node", **node})
    return nodes


def pod_objects(count: int, namespace: str, templates: int = 50, seed: int = 1) -> list[Obj]:
    """``count`` pending pods from ``templates`` templates, each template's replicas together
    (as a ReplicaSet creates them), labelled ``app=app-<template>``."""
    from scheduler_core import make_pods, make_templates

    rng = random.Random(seed)
    specs = make_templates(templates, rng)
    pods = []
    for pod in make_pods(count, specs, False, rng):
        name = pod["metadata"]["name"]
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": {"app": name.rsplit("-", 1)[0]},
                },
                "spec": pod["spec"],
            }
        )
    return pods


def create(objs: list[Obj], how: str, per_transaction: int) -> float:
    """Create ``objs`` (``how`` = ``batch`` or ``write``); return the seconds it took."""
    from django.db import transaction

    from cluster.store import batch, write

    started = time.perf_counter()
    for first in range(0, len(objs), per_transaction):
        chunk = objs[first : first + per_transaction]
        with transaction.atomic():
            if how == "batch":
                errors = batch.errors_of(batch.create_many(chunk, actor="bench"))
                if errors:
                    raise errors[0]
            else:
                for obj in chunk:
                    write.create(obj, actor="bench")
    return time.perf_counter() - started


# --- the two ways of scheduling --------------------------------------------------------------


def run_real(profile: str | None = None) -> dict[str, float]:
    """``schedule_pending`` in cycles until nothing is pending; the totals of its RunStats.

    Adds ``seconds`` (wall clock) and ``cpu_seconds`` (this process) of the whole loop.
    """
    from cluster.scheduler.runner import schedule_pending
    from cluster.tasks import SCHEDULE_LIMIT

    totals: dict[str, float] = {"pending": 0, "bound": 0, "unschedulable": 0, "cycles": 0}
    phases = {"snapshot": 0.0, "schedule": 0.0, "commit": 0.0}
    profiler = cProfile.Profile() if profile else None
    started, cpu_started = time.perf_counter(), time.process_time()
    while True:
        if profiler:
            profiler.enable()
        stats = schedule_pending(SCHEDULE_LIMIT)
        if profiler:
            profiler.disable()
        if not stats.pending:
            break
        totals["cycles"] += 1
        totals["pending"] += stats.pending
        totals["bound"] += stats.bound
        totals["unschedulable"] += stats.unschedulable
        for phase in phases:
            phases[phase] += stats.seconds.get(phase, 0.0)
        if stats.bound == 0:  # what is left fits nowhere: do not go round again
            break
    totals["seconds"] = time.perf_counter() - started
    totals["cpu_seconds"] = time.process_time() - cpu_started
    totals.update(phases)
    if profiler and profile:
        profiler.dump_stats(profile)
    return totals


def decision_size() -> tuple[int, float]:
    """How many SchedulingDecision rows there are, and their diagnosis' average JSON length."""
    from django.db.models import Avg, Count, TextField
    from django.db.models.functions import Cast, Length

    from cluster.models import SchedulingDecision

    found = SchedulingDecision.objects.aggregate(
        rows=Count("pod_uid"), size=Avg(Length(Cast("diagnosis", TextField())))
    )
    return found["rows"], float(found["size"] or 0.0)


def naive_schedule(namespace: str) -> tuple[int, int, float]:
    """The baseline: every pending pod of ``namespace``, one at a time through the ORM.

    A pod fits a node when ``bound cpu + pod cpu <= allocatable cpu``, the same for memory, and
    ``bound pods + 1 <= allocatable pods``; e.g. a 500m pod fits a node of 8 cpus whose pods
    request 7500m (7500 + 500 = 8000 <= 8000) but not one at 7600m. The first schedulable,
    Ready node by name that fits wins. Returns (pods, bound, seconds).
    """
    from django.db.models import Count, Sum

    from cluster.models import Node, Pod

    started = time.perf_counter()
    pending = list(Pod.objects.filter(namespace=namespace, node_name="").order_by("name"))
    bound = 0
    for pod in pending:
        nodes = (
            Node.objects.filter(unschedulable=False, ready="True")
            .order_by("name")
            .values_list("name", "cpu_allocatable", "memory_allocatable", "pods_allocatable")
        )
        used = {
            row["node_name"]: row
            for row in Pod.objects.exclude(node_name="")
            .values("node_name")
            .annotate(cpu=Sum("cpu_request"), memory=Sum("memory_request"), pods=Count("id"))
        }
        for name, cpu, memory, pods in nodes:
            on_node = used.get(name, {"cpu": 0, "memory": 0, "pods": 0})
            if (
                on_node["cpu"] + pod.cpu_request <= cpu
                and on_node["memory"] + pod.memory_request <= memory
                and on_node["pods"] + 1 <= pods
            ):
                pod.node_name = name
                pod.save(update_fields=["node_name"])
                bound += 1
                break
    return len(pending), bound, time.perf_counter() - started


# --- the run ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--baseline-pods", type=int, default=500)
    parser.add_argument("--templates", type=int, default=50)
    parser.add_argument("--setup", choices=("batch", "write"), default="batch")
    parser.add_argument("--setup-batch", type=int, default=1000, help="objects per transaction")
    parser.add_argument("--postgres", metavar="URL", help="a scratch database on this server")
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the real path into FILE")
    args = parser.parse_args()

    os.environ["KUBARIUM_CONTROL_PLANE"] = "0"  # no Redis, no Celery: the scheduler alone
    os.environ.setdefault("DEBUG", "0")  # DEBUG keeps every query in memory
    with bench_database(args.postgres, keep=args.keep_db):
        run(args)


def run(args: argparse.Namespace) -> None:
    database = setup_django()
    from cluster import dispatch
    from cluster.store import write

    dispatch.disconnect()
    for name in (NAMESPACE, BASELINE_NAMESPACE):
        write.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    setup_seconds = create(node_objects(args.nodes), args.setup, args.setup_batch)
    setup_seconds += create(
        pod_objects(args.pods, NAMESPACE, args.templates), args.setup, args.setup_batch
    )
    print(f"database: {database}")
    print(
        f"setup (--setup {args.setup}, not timed below): {args.nodes} nodes and {args.pods} "
        f"pending pods in {setup_seconds:.1f} s"
    )

    real = run_real(args.profile)
    bound = max(real["bound"], 1)
    rate = real["bound"] / real["seconds"]
    print(
        f"real path: {real['pending']:.0f} pods in {real['cycles']:.0f} cycles, "
        f"{real['bound']:.0f} bound, {real['unschedulable']:.0f} unschedulable, in "
        f"{real['seconds']:.2f} s = {rate:,.0f} pods/s "
        f"({real['bound'] / real['cpu_seconds']:,.0f} pods per CPU second)"
    )
    print(
        "per pod: "
        + ", ".join(
            f"{label} {real[phase] / bound * 1000:.3f} ms ({real[phase] / real['seconds']:.0%})"
            for phase, label in (
                ("snapshot", "snapshot"),
                ("schedule", "filter+score"),
                ("commit", "commit"),
            )
        )
    )
    decisions, size = decision_size()
    print(f"decisions: {decisions} rows, {size / 1024:,.1f} KiB of diagnosis JSON each on average")
    if args.profile:
        print(f"profile written to {args.profile} (python -m pstats {args.profile})")

    create(
        pod_objects(args.baseline_pods, BASELINE_NAMESPACE, args.templates, seed=2),
        args.setup,
        args.setup_batch,
    )
    pods, naive_bound, seconds = naive_schedule(BASELINE_NAMESPACE)
    baseline = naive_bound / seconds if seconds else 0.0
    print(
        f"baseline (naive ORM loop, on a subset of {pods} pods, {naive_bound} bound, against "
        f"the same {args.nodes} nodes and {real['bound']:.0f} bound pods): {seconds:.2f} s = "
        f"{baseline:,.0f} pods/s"
    )
    print(f"scheduler: {rate:.0f} pods/s (baseline {baseline:.0f} pods/s)")


if __name__ == "__main__":
    main()
