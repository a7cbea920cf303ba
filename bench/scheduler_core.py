"""Scheduler core benchmark: the pure path, no database and no Celery.

Builds a synthetic cluster (by default 1,000 nodes: 3 tainted control-plane nodes, workers in
three zones, a few cordoned and a few NotReady with the not-ready taint, images reported) and
10,000 pending pods from 50 templates (requests from BestEffort to 1 cpu / 2Gi, some with
tolerations, node selectors or preferred zones), then times ``schedule_batch`` with the adaptive
percentage of nodes to score. Building the PodInfos is timed apart. Besides wall-clock pods/s it
prints pods per CPU second (``time.process_time``), which other busy processes disturb less.

    python bench/scheduler_core.py [--nodes 1000] [--pods 10000] [--templates 50]
                                   [--shuffle] [--no-memo] [--percentage 0] [--seed 1]
                                   [--repeat 1]

``--shuffle`` interleaves the templates (the worst case for the per-template memo) instead of
creating each template's replicas together, as a ReplicaSet does. ``run()`` is importable for
bench/scheduler.py.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cluster.scheduler import PodInfo, Snapshot, schedule_batch  # noqa: E402

ZONES = ("zone-a", "zone-b", "zone-c")
IMAGES = ("nginx:1.27", "redis:7.4", "postgres:17", "busybox:1.36", "python:3.12-slim")


def make_nodes(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """Node dicts: 3 control-plane nodes, the rest workers; 1 % cordoned, 1 % NotReady."""
    nodes = []
    for i in range(count):
        control_plane = i < 3
        name = f"control-plane-{i}" if control_plane else f"worker-{i:04d}"
        labels = {"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": ZONES[i % 3]}
        taints = []
        if control_plane:
            labels["node-role.kubernetes.io/control-plane"] = ""
            taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
        ready = not (i % 100 == 50)
        if not ready:
            taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
        if i % 97 == 13:
            taints.append({"key": "spot", "value": "true", "effect": "PreferNoSchedule"})
        images = [
            {"names": [image], "sizeBytes": rng.randrange(20, 400) * 1024 * 1024}
            for image in rng.sample(IMAGES, 2)
        ]
        nodes.append(
            {
                "metadata": {"name": name, "labels": labels},
                "spec": {"taints": taints, "unschedulable": i % 100 == 77},
                "status": {
                    "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"},
                    "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                    "images": images,
                },
            }
        )
    return nodes


def make_templates(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """Pod specs, one per template."""
    templates = []
    for t in range(count):
        container: dict[str, Any] = {"name": "main", "image": IMAGES[t % len(IMAGES)]}
        if t % 10 != 9:  # every tenth template is BestEffort
            container["resources"] = {
                "requests": {
                    "cpu": f"{rng.choice((100, 250, 500, 750, 1000))}m",
                    "memory": f"{rng.choice((128, 256, 512, 1024, 2048))}Mi",
                }
            }
        spec: dict[str, Any] = {"containers": [container]}
        if t % 7 == 3:
            spec["tolerations"] = [{"key": "spot", "operator": "Exists"}]
        if t % 11 == 5:
            spec["nodeSelector"] = {"topology.kubernetes.io/zone": ZONES[t % 3]}
        if t % 5 == 2:
            spec["affinity"] = {
                "nodeAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 50,
                            "preference": {
                                "matchExpressions": [
                                    {
                                        "key": "topology.kubernetes.io/zone",
                                        "operator": "In",
                                        "values": [ZONES[(t + 1) % 3]],
                                    }
                                ]
                            },
                        }
                    ]
                }
            }
        templates.append(spec)
    return templates


def make_pods(count: int, templates: list[dict[str, Any]], shuffle: bool, rng: random.Random):
    per_template = [
        (t, r) for t in range(len(templates)) for r in range(count // len(templates) + 1)
    ][:count]
    if shuffle:
        rng.shuffle(per_template)
    return [
        {
            "metadata": {"name": f"app-{t}-{r:05d}", "namespace": "bench"},
            "spec": templates[t],
        }
        for t, r in per_template
    ]


def run(
    nodes: int = 1000,
    pods: int = 10_000,
    templates: int = 50,
    *,
    shuffle: bool = False,
    memoize: bool = True,
    percentage: int = 0,
    seed: int = 1,
) -> dict[str, float]:
    """Build the cluster, schedule every pod; return counts, seconds and pods per second."""
    rng = random.Random(seed)
    node_dicts = make_nodes(nodes, rng)
    pod_dicts = make_pods(pods, make_templates(templates, rng), shuffle, rng)

    started = time.perf_counter()
    snapshot = Snapshot.from_objects(node_dicts)
    infos = [PodInfo.from_pod(p) for p in pod_dicts]
    built = time.perf_counter() - started

    started, cpu_started = time.perf_counter(), time.process_time()
    results = schedule_batch(
        infos,
        snapshot,
        random.Random(seed),
        percentage_of_nodes_to_score=percentage,
        memoize=memoize,
    )
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    scheduled = sum(1 for r in results if r.node_name is not None)
    return {
        "nodes": nodes,
        "pods": pods,
        "scheduled": scheduled,
        "build_seconds": built,
        "schedule_seconds": elapsed,
        "schedule_cpu_seconds": cpu,
        "pods_per_second": pods / elapsed,
        "pods_per_cpu_second": pods / cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--templates", type=int, default=50)
    parser.add_argument("--shuffle", action="store_true", help="interleave the templates")
    parser.add_argument("--no-memo", action="store_true", help="turn the per-template memo off")
    parser.add_argument("--percentage", type=int, default=0, help="0 = adaptive (upstream)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="run N times, report the best")
    args = parser.parse_args()
    results = []
    for _ in range(args.repeat):
        result = run(
            args.nodes,
            args.pods,
            args.templates,
            shuffle=args.shuffle,
            memoize=not args.no_memo,
            percentage=args.percentage,
            seed=args.seed,
        )
        results.append(result)
        print(
            f"scheduler core: {result['nodes']} nodes, {result['pods']} pods "
            f"({result['scheduled']} scheduled), snapshot + PodInfo build "
            f"{result['build_seconds']:.2f}s, schedule_batch {result['schedule_seconds']:.2f}s: "
            f"{result['pods_per_second']:,.0f} pods/s ({result['pods_per_cpu_second']:,.0f} pods "
            f"per CPU second)"
        )
    if args.repeat > 1:
        best = max(results, key=lambda r: r["pods_per_second"])
        print(f"best of {args.repeat}: {best['pods_per_second']:,.0f} pods/s")


if __name__ == "__main__":
    main()
