"""Store benchmark: 10,000 pods through the write path, then a label-selector list.

Baseline, in the same run: the same pods through plain ``Pod.objects.bulk_create`` and the same
list as a plain queryset. The write path does much more per object (validation, defaults, a
revision, a change-log row, the full Kubernetes JSON), so the ratio says what that costs.

    python bench/store.py [--pods 10000] [--batch 500]
"""

from __future__ import annotations

import argparse
import time
import uuid

from _setup import setup_django


def pod(i: int) -> dict:
    app = f"app-{i % 20}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"pod-{i:05d}",
            "namespace": "bench",
            "labels": {"app": app, "tier": "web" if i % 2 else "api"},
        },
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "nginx:1.27",
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                }
            ]
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument(
        "--batch",
        type=int,
        default=500,
        help="writes per transaction (1 = one transaction per write)",
    )
    args = parser.parse_args()
    database = setup_django()

    from django.db import transaction
    from django.utils import timezone

    from cluster.models import Pod
    from cluster.store import read, write

    write.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}})
    write.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "baseline"}})
    n = args.pods

    started = time.perf_counter()
    for first in range(0, n, args.batch):
        with transaction.atomic():
            for i in range(first, min(first + args.batch, n)):
                write.create(pod(i), actor="bench")
    write_seconds = time.perf_counter() - started

    started = time.perf_counter()
    now = timezone.now()
    Pod.objects.bulk_create(
        [
            Pod(
                name=f"pod-{i:05d}",
                namespace="baseline",
                uid=uuid.uuid4(),
                labels=pod(i)["metadata"]["labels"],
                spec=pod(i)["spec"],
                creation_timestamp=now,
                resource_version=i,
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    baseline_write_seconds = time.perf_counter() - started

    started = time.perf_counter()
    listed = read.list_objects("pods", "bench", "app=app-3")
    list_seconds = time.perf_counter() - started
    started = time.perf_counter()
    plain = list(
        Pod.objects.filter(namespace="baseline", labels__app="app-3").order_by("namespace", "name")
    )
    baseline_list_seconds = time.perf_counter() - started
    assert len(listed.items) == len(plain) == n // 20

    started = time.perf_counter()
    everything = read.list_objects("pods", "bench")
    list_all_seconds = time.perf_counter() - started
    assert len(everything.items) == n

    print(f"database: {database}")
    print(
        f"write path: {n} pods in {write_seconds:.2f} s = {n / write_seconds:,.0f} writes/s "
        f"(batches of {args.batch})"
    )
    print(
        f"baseline bulk_create: {n} rows in {baseline_write_seconds:.2f} s = "
        f"{n / baseline_write_seconds:,.0f} rows/s"
    )
    print(
        f"list app=app-3 ({len(listed.items)} of {n}): {list_seconds * 1000:.0f} ms "
        f"(baseline queryset {baseline_list_seconds * 1000:.0f} ms)"
    )
    print(f"list all {n} as Kubernetes JSON: {list_all_seconds * 1000:.0f} ms")
    print(
        f"store: {n / write_seconds:,.0f} writes/s (baseline {n / baseline_write_seconds:,.0f} "
        f"rows/s), list {list_seconds * 1000:.0f} ms (baseline {baseline_list_seconds * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
