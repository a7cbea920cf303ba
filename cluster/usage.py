"""What the containers use: simulated cpu and memory, per container, pod and node.

One source for every reader: ``kubectl top`` (``cluster.api.metrics``), the HorizontalPodAutoscaler
and the dashboard's "used" bars. A container uses something only while it runs; its usage is
``cluster.kubelet.logs.usage`` under its share of the requests per second its pod receives from
the running traffic flows (``cluster.traffic.load_by_pod``), split evenly over the pod's
containers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from cluster.kubelet.logs import usage as container_usage
from cluster.models import Pod
from cluster.store import kinds
from cluster.store.kinds import get_path
from cluster.store.objects import to_dict


def container_usages(pod: Mapping[str, Any], pod_rps: float) -> list[tuple[str, int, int]]:
    """``(container, cpu millicores, memory bytes)`` for each running container of a pod that
    receives ``pod_rps`` requests per second, split evenly over its containers as the HPA
    splits it.

    Worked example: nginx and a sidecar share 100 rps, so each container's usage is computed
    at 50 rps (nginx with factor 1.0: ``1 + 0.2 * 50 = 11m``).
    """
    containers = [c for c in get_path(pod, "spec.containers") or [] if isinstance(c, dict)]
    running = {
        status.get("name")
        for status in get_path(pod, "status.containerStatuses") or []
        if isinstance(status, dict) and "running" in (status.get("state") or {})
    }
    per_container = pod_rps / max(len(containers), 1)
    usages = []
    for container in containers:
        name = container.get("name", "")
        if name in running:
            cpu, memory = container_usage(pod, name, per_container)
            usages.append((name, cpu, memory))
    return usages


def node_usage(
    nodes: Iterable[str], load: Mapping[str, float] | None = None
) -> dict[str, tuple[int, int]]:
    """``{node: (cpu millicores, memory bytes)}``: the sum over the running pods on each of
    ``nodes`` (one query for the pods; ``load`` is ``traffic.load_by_pod()`` when not given)."""
    from cluster import traffic

    names = list(nodes)
    if load is None:
        load = traffic.load_by_pod()
    cpu: dict[str, int] = defaultdict(int)
    memory: dict[str, int] = defaultdict(int)
    pod_kind = kinds.by_kind("Pod")
    for row in Pod.objects.filter(node_name__in=names, phase="Running"):
        pod = to_dict(row, pod_kind, copy_content=False)
        for _, cores, used in container_usages(pod, load.get(str(row.uid), 0.0)):
            cpu[row.node_name] += cores
            memory[row.node_name] += used
    return {name: (cpu[name], memory[name]) for name in names}
