"""Cluster benchmark: 1,000 nodes and 10,000 pods (100 Deployments of 100) come up, for real.

Everything is real: a private Redis (``services.PrivateRedis``), the Celery workers as ``make
demo`` starts them, one per queue (``services.worker_roles``: clock with beat, scheduler,
kubelets, controllers; the kubelets' and controllers' ``-c`` is ``--concurrency``, by default the number of CPUs;
``make demo`` uses 2), the benchmark's own database (a temporary SQLite file by default;
``--postgres URL`` makes a scratch database on that server and drops it after), and the control
plane's dispatcher on in this process, so every committed write enqueues its work. The simulation clock runs at its maximum speed
(``simclock.MAX_SPEED``, 1000 simulated seconds per second): image pulls, container starts and
readiness take no wall time of their own.

This process writes what a user would: the nodes (through ``cluster.store.batch.create_many``,
500 per transaction, with a Ready condition, 8 cpus, 32Gi and 110 pods each), then the
Deployments (through ``write.create``). From then on the control plane does everything: the
Deployment controller makes ReplicaSets, the ReplicaSet controller makes pods, the scheduler
binds them, each node's kubelet pulls, starts and readies them. The clock starts before the
first node is written and stops when every pod is Running and Ready.

Every ``--progress`` seconds it prints how many pods exist, are bound, Running, Ready, the
Celery queue lengths and the store's write rate. At the end: the time, what the worker spent
its time on (the ``succeeded in`` lines of its log, by task), the writes by component (the
change log's actors), and how busy the CPUs were (the worker's processes and this one, from
``/proc``), which together say what limited the run. The last line is one-line summary.

    python bench/cluster.py [--nodes 1000] [--pods 10000] [--replicas 100]
                            [--concurrency N] [--speed 1000] [--timeout 600]
                            [--postgres URL] [--keep-db]

Every process it starts (Redis, the worker and its pool and beat) is stopped at the end, after a
Ctrl-C, and on failure.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This file's name would hide the ``cluster`` package: the project root goes first.
sys.path.insert(0, str(ROOT))

from _setup import cpu_seconds, machine_cpu, setup_django  # noqa: E402
from scheduler import bench_database  # noqa: E402

from cluster import services  # noqa: E402  (no Django at import time)

Obj = dict[str, Any]
NAMESPACE = "bench"
WORKER_READY_TIMEOUT = 60.0
TASK_LINE = re.compile(r"Task (kubarium\.\w+)\[[^\]]+\] succeeded in ([0-9.]+)s")


# --- what to create --------------------------------------------------------------------------


def node_object(index: int) -> Obj:
    """Worker node ``index``: 8 cpus, 32Gi, 110 pods, Ready, its own /24 of pod addresses
    (``10.244.0.0/24`` for node 0, ``10.245.4.0/24`` for node 260: 244 + 260 // 256, 260 % 256)."""
    name = f"node-{index:04d}"
    capacity = {"cpu": "8", "memory": "32Gi", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {"podCIDR": f"10.{244 + index // 256}.{index % 256}.0/24"},
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def deployment_object(index: int, replicas: int) -> Obj:
    """Deployment ``app-NNN`` of ``replicas`` nginx pods requesting 100m and 64Mi each."""
    name = f"app-{index:03d}"
    labels = {"app": name}
    container = {
        "name": "main",
        "image": "nginx:1.27",
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def deployment_sizes(pods: int, replicas: int) -> list[int]:
    """Deployments of ``replicas`` pods, the last one smaller: 250 by 100 -> [100, 100, 50]."""
    sizes = [replicas] * (pods // replicas)
    if pods % replicas:
        sizes.append(pods % replicas)
    return sizes


# --- watching the run ------------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    pods: int
    bound: int
    running: int
    ready: int
    revision: int
    queued: int
    scheduler_queued: int
    kubelets_queued: int


@dataclass
class Progress:
    """The samples of one run, and when each milestone was first reached."""

    target: int
    samples: list[Sample] = field(default_factory=list)
    milestones: dict[str, float] = field(default_factory=dict)

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)
        for name, value in (
            ("all pods exist", sample.pods),
            ("all pods bound", sample.bound),
            ("all pods Running", sample.running),
            ("all pods Ready", sample.ready),
        ):
            if value >= self.target and name not in self.milestones:
                self.milestones[name] = sample.seconds

    @property
    def done(self) -> bool:
        return bool(self.samples) and self.samples[-1].ready >= self.target


def sample(seconds: float, redis_client) -> Sample:
    """Count the pods by stage (one query), the revision, and the Celery queues."""
    from django.db.models import Count, Q

    from cluster.models import Pod
    from cluster.store.read import current_revision

    counts = Pod.objects.filter(namespace=NAMESPACE).aggregate(
        pods=Count("id"),
        bound=Count("id", filter=~Q(node_name="")),
        running=Count("id", filter=Q(phase="Running")),
        ready=Count("id", filter=Q(phase="Running", ready=True)),
    )
    return Sample(
        seconds=seconds,
        revision=current_revision(),
        queued=redis_client.llen("celery"),
        scheduler_queued=redis_client.llen("scheduler"),
        kubelets_queued=redis_client.llen("kubelets"),
        **counts,
    )


def print_sample(current: Sample, previous: Sample | None, target: int) -> None:
    rate = 0.0
    if previous is not None and current.seconds > previous.seconds:
        rate = (current.revision - previous.revision) / (current.seconds - previous.seconds)
    print(
        f"{current.seconds:7.1f} s  pods {current.pods:>6}/{target}  bound {current.bound:>6}  "
        f"running {current.running:>6}  ready {current.ready:>6}  queued {current.queued:>5} "
        f"(+{current.scheduler_queued} scheduler, {current.kubelets_queued:>5} kubelets)  "
        f"writes {rate:7.0f}/s",
        flush=True,
    )


# --- the worker's log ------------------------------------------------------------------------


def tick_fate(log: Path) -> tuple[int, int]:
    """(ticks beat sent, ticks discarded because they expired in the queue) from the log."""
    text = log.read_text(errors="replace")
    return (
        text.count("Sending due task clock-tick"),
        text.count("Discarding revoked task: kubarium.tick"),
    )


def log_problems(log: Path) -> list[str]:
    """The WARNING and ERROR lines of the worker's log."""
    return [
        line
        for line in log.read_text(errors="replace").splitlines()
        if "WARNING/" in line or "ERROR/" in line or "CRITICAL/" in line
    ]


def task_times(log: Path) -> dict[str, tuple[int, float]]:
    """Per task name: (how many ran, seconds they took), from the worker's INFO log."""
    found: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])
    for match in TASK_LINE.finditer(log.read_text(errors="replace")):
        entry = found[match.group(1)]
        entry[0] += 1
        entry[1] += float(match.group(2))
    return {name: (int(count), seconds) for name, (count, seconds) in found.items()}


def writes_by_actor(since: int) -> list[tuple[str, str, int]]:
    """(actor, kind, writes) in the change log after revision ``since``, most first."""
    from django.db.models import Count

    from cluster.models import Change

    rows = (
        Change.objects.filter(revision__gt=since)
        .values_list("actor", "kind")
        .annotate(writes=Count("revision"))
        .order_by("-writes")
    )
    return [(actor or "?", kind, writes) for actor, kind, writes in rows]


# --- the run ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--replicas", type=int, default=100, help="pods per Deployment")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--speed", type=float, default=0.0, help="clock speed (0: the maximum)")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after (seconds)")
    parser.add_argument("--progress", type=float, default=2.0, help="seconds between lines")
    parser.add_argument("--postgres", metavar="URL", help="a scratch database on this server")
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    from cluster import simclock

    speed = args.speed or simclock.MAX_SPEED
    os.environ.update(
        {
            "KUBARIUM_CONTROL_PLANE": "1",
            "KUBARIUM_SPEED": str(speed),
            "DEBUG": os.environ.get("DEBUG", "0"),
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        }
    )
    workdir = Path(tempfile.mkdtemp(prefix="kubarium-cluster-bench-"))
    try:
        with bench_database(args.postgres, keep=args.keep_db):
            with services.Supervisor(stop_timeout=20.0, log=print) as supervisor:
                return run(args, speed, supervisor, workdir)
    finally:
        log = workdir / "worker.log"
        if args.keep_db and log.exists():
            print(f"worker log: {log}")
        else:
            for path in workdir.iterdir():
                path.unlink()
            workdir.rmdir()


def run(args: argparse.Namespace, speed: float, supervisor: services.Supervisor, workdir: Path):
    redis = supervisor.enter_context(services.PrivateRedis())
    os.environ["REDIS_URL"] = redis.url
    database = setup_django()

    import redis as redis_module
    from django.conf import settings
    from django.db import transaction

    from cluster import clock
    from cluster.store import batch, write
    from cluster.store.read import current_revision

    log = workdir / "worker.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard.settings", "PYTHONUNBUFFERED": "1"}
    workers = []  # (nodename, child): the workers of make demo, one per queue
    for role in services.worker_roles(args.concurrency):
        nodename = f"{role.name}-bench-{os.getpid()}@{socket.gethostname()}"
        argv = services.celery_worker_argv(
            nodename,
            beat=role.beat,
            concurrency=role.concurrency,
            loglevel="INFO",
            schedule_file=workdir / "beat-schedule",
            queues=role.queues,
        )
        with log.open("ab") as output:
            child = supervisor.start(
                f"{role.name} worker",
                argv,
                env=env,
                cwd=settings.BASE_DIR,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        workers.append((nodename, child))
    for nodename, child in workers:
        supervisor.wait_ready(
            child,
            lambda name=nodename: services.celery_worker_answers(name, redis.url),
            timeout=WORKER_READY_TIMEOUT,
        )
    clock.set_speed(speed)
    client = redis_module.Redis.from_url(redis.url)
    write.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    sizes = deployment_sizes(args.pods, args.replicas)
    names = ", ".join(f"{name} (pid {child.pid})" for name, child in workers)
    print(f"database: {database}; redis {redis.url}; workers {names}")
    print(
        f"creating {args.nodes} nodes and {len(sizes)} Deployments ({args.pods} pods) at clock "
        f"speed {speed:g}x, worker concurrency {args.concurrency}"
    )

    def worker_pids() -> list[int]:
        return [pid for _, child in workers for pid in services.group_members(child.pgid)]

    start_revision = current_revision()
    cpu_start = cpu_seconds(worker_pids()) + time.process_time()
    machine_start = machine_cpu()
    load_start = os.getloadavg()[0]
    started = time.monotonic()
    for first in range(0, args.nodes, 500):
        with transaction.atomic():
            nodes = [node_object(i) for i in range(first, min(first + 500, args.nodes))]
            errors = batch.errors_of(batch.create_many(nodes, actor="bench"))
        if errors:
            raise errors[0]
    for index, replicas in enumerate(sizes):
        write.create(deployment_object(index, replicas), actor="bench")
    created = time.monotonic() - started
    print(f"{created:7.1f} s  nodes and Deployments written")

    progress = Progress(args.pods)
    previous: Sample | None = None
    stopped = ""
    while True:
        current = sample(time.monotonic() - started, client)
        progress.add(current)
        print_sample(current, previous, args.pods)
        previous = current
        if progress.done:
            break
        if outcome := supervisor.check():
            stopped = str(outcome)
            break
        if current.seconds >= args.timeout:
            stopped = f"timeout after {args.timeout:g} s"
            break
        time.sleep(max(0.0, args.progress - (time.monotonic() - started - current.seconds)))
    elapsed = time.monotonic() - started
    ours = cpu_seconds(worker_pids()) + time.process_time() - cpu_start
    busy, total = (end - start for end, start in zip(machine_cpu(), machine_start, strict=True))
    cpu = {"ours": ours, "machine": busy / total if total else 0.0, "load": load_start}
    report(args, progress, elapsed, created, cpu, start_revision, log, stopped)
    return 0 if progress.done else 1


def report(
    args: argparse.Namespace,
    progress: Progress,
    elapsed: float,
    created: float,
    cpu: dict[str, float],
    start_revision: int,
    log: Path,
    stopped: str,
) -> None:
    from cluster.store.read import current_revision

    last = progress.samples[-1]
    writes = current_revision() - start_revision
    cpus = os.cpu_count() or 1
    print()
    for name, seconds in progress.milestones.items():
        print(f"{name}: {seconds:.1f} s")
    print(
        f"store: {writes} writes in {elapsed:.1f} s = {writes / elapsed:,.0f} writes/s "
        f"({writes / max(args.pods, 1):.1f} per pod)"
    )
    print(
        f"CPU: the worker's processes and this one used {cpu['ours']:.0f} s of "
        f"{elapsed * cpus:.0f} ({cpus} CPUs x {elapsed:.0f} s) = "
        f"{cpu['ours'] / (elapsed * cpus):.0%}; the whole machine was {cpu['machine']:.0%} busy "
        f"(the database server and anything else running count there; load average "
        f"{cpu['load']:.1f} at the start)"
    )
    times = sorted(task_times(log).items(), key=lambda item: -item[1][1])
    busy = sum(seconds for _, (_, seconds) in times) or 1.0
    print("worker time by task (from its log):")
    for name, (count, seconds) in times[:8]:
        print(
            f"  {name:<26} {count:>7} runs  {seconds:8.1f} s  ({seconds / busy:.0%}, "
            f"{seconds / max(count, 1) * 1000:.0f} ms each)"
        )
    sent, expired = tick_fate(log)
    ran = dict(times).get("kubarium.tick", (0, 0.0))[0]
    print(
        f"clock ticks: beat sent {sent}, {ran} ran, {expired} expired waiting in the queue "
        f"(timers, heartbeats and resyncs only move when a tick runs)"
    )
    problems = log_problems(log)
    print(f"worker log: {len(problems)} warnings and errors")
    for line in problems[:5]:
        print(f"  {line[:160]}")
    print("writes by component (change log):")
    for actor, kind, count in writes_by_actor(start_revision)[:10]:
        print(f"  {actor:<26} {kind:<12} {count:>7}")
    summary = f"cluster: {args.nodes} nodes, {args.pods} pods"
    if progress.done:
        goal = "; goal 30 s" if (args.nodes, args.pods) == (1000, 10000) else ""
        print(
            f"{summary} Running and Ready in {elapsed:.1f} s (writes done in {created:.1f} s{goal})"
        )
    else:
        print(
            f"{summary}: {last.ready} Running and Ready, {last.bound} bound, {last.pods} created "
            f"after {elapsed:.1f} s ({stopped})"
        )


if __name__ == "__main__":
    sys.exit(main())
