"""The scheduler's loop: take the pending pods, place them on one snapshot, bind in batches.

``schedule_pending()`` runs as the Celery task on the ``scheduler`` queue (one consumer, so no
pod is placed twice). It builds one snapshot of every node and the pods bound to them (the memo
of the pure framework lives in the snapshot, so one snapshot serves the whole batch), schedules
every pending pod in order, then writes: for each placed pod a binding (``spec.nodeName`` and
the ``PodScheduled`` condition, guarded by the pod's uid and by it still being unbound) and a
``Scheduled`` event; for each pod that fits nowhere the ``PodScheduled=False/Unschedulable``
condition and a ``FailedScheduling`` event with Kubernetes' message. Every decision is kept in
``SchedulingDecision`` so the dashboard can explain it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from cluster import clock
from cluster.models import (
    Node,
    PersistentVolumeClaim,
    Pod,
    SchedulingDecision,
    StorageClass,
)
from cluster.scheduler import (
    PodInfo,
    Snapshot,
    failed_scheduling_message,
    plain_language,
    schedule_batch,
)
from cluster.scheduler.explain import event_message
from cluster.store import events, kinds, read, write
from cluster.store.errors import Conflict, NotFound, StoreError
from cluster.store.objects import format_time, to_dict

logger = logging.getLogger(__name__)

SCHEDULER_NAME = "default-scheduler"
COMPONENT = "default-scheduler"
BIND_BATCH = 200
# How many nodes a kept decision lists (the chosen one first, then the best runners-up).
DECISION_NODES = 25


@dataclass
class RunStats:
    pending: int = 0
    bound: int = 0
    unschedulable: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def pending_pods(limit: int) -> list[dict[str, Any]]:
    pod_kind = kinds.by_kind("Pod")
    rows = Pod.objects.filter(
        node_name="", deletion_timestamp__isnull=True, phase="Pending"
    ).order_by("creation_timestamp", "namespace", "name")[:limit]
    pods = [to_dict(row, pod_kind, copy_content=False) for row in rows]
    return [p for p in pods if (p["spec"].get("schedulerName") or SCHEDULER_NAME) == SCHEDULER_NAME]


def snapshot() -> Snapshot:
    """Every node, and every non-terminal pod bound to one (only the fields the plugins read)."""
    node_kind = kinds.by_kind("Node")
    nodes = [to_dict(row, node_kind, copy_content=False) for row in Node.objects.all()]
    bound = (
        Pod.objects.exclude(node_name="")
        .exclude(phase__in=["Succeeded", "Failed"])
        .values_list("namespace", "name", "node_name", "spec", "phase")
    )
    pods = [
        {
            "metadata": {"namespace": ns, "name": name},
            "spec": {**(spec or {}), "nodeName": node},
            "status": {"phase": phase},
        }
        for ns, name, node, spec, phase in bound
    ]
    return Snapshot.from_objects(nodes, pods)


def schedule_pending(limit: int = 5000) -> RunStats:
    """One scheduling cycle over up to ``limit`` pending pods."""
    stats = RunStats()
    started = time.perf_counter()
    pods = pending_pods(limit)
    stats.pending = len(pods)
    if not pods:
        return stats
    snap = snapshot()
    stats.seconds["snapshot"] = time.perf_counter() - started
    pods = _volumes_ready(pods, len(snap), stats)
    infos = [PodInfo.from_pod(p) for p in pods]
    rng = clock.rng("scheduler", read.current_revision())
    t = time.perf_counter()
    results = schedule_batch(infos, snap, rng)
    stats.seconds["schedule"] = time.perf_counter() - t
    t = time.perf_counter()
    total_nodes = len(snap)
    for first in range(0, len(pods), BIND_BATCH):
        chunk = list(
            zip(
                pods[first : first + BIND_BATCH],
                infos[first : first + BIND_BATCH],
                results[first : first + BIND_BATCH],
                strict=True,
            )
        )
        with transaction.atomic():
            for pod, info, result in chunk:
                if result.node_name:
                    stats.bound += _bind(pod, result)
                else:
                    stats.unschedulable += 1
                    _unschedulable(pod, info, result, snap, total_nodes)
    stats.seconds["commit"] = time.perf_counter() - t
    return stats


def _volumes_ready(
    pods: list[dict[str, Any]], total_nodes: int, stats: RunStats
) -> list[dict[str, Any]]:
    """The pods whose claims allow scheduling; the others are marked, as the VolumeBinding
    plugin's PreFilter rejects them before any node is looked at."""
    claims = {
        (ns, name): (phase, sc)
        for ns, name, phase, sc in PersistentVolumeClaim.objects.values_list(
            "namespace", "name", "phase", "storage_class_name"
        )
    }
    waiting = set(
        StorageClass.objects.filter(body__volumeBindingMode="WaitForFirstConsumer").values_list(
            "name", flat=True
        )
    )
    ready = []
    for pod in pods:
        problem = ""
        for volume in pod["spec"].get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            found = claims.get((pod["metadata"]["namespace"], claim))
            if found is None:
                problem = f'persistentvolumeclaim "{claim}" not found'
                break
            if found[0] != "Bound" and found[1] not in waiting:
                problem = "pod has unbound immediate PersistentVolumeClaims"
                break
        if not problem:
            ready.append(pod)
            continue
        stats.unschedulable += 1
        message = (
            f"0/{total_nodes} nodes are available: {problem}. preemption: "
            f"0/{total_nodes} nodes are available: {total_nodes} Preemption is not "
            f"helpful for scheduling."
        )
        _mark_unschedulable(pod, message, problem[0].upper() + problem[1:] + ".")
    return ready


def _condition(status: str, reason: str = "", message: str = "") -> dict[str, Any]:
    condition: dict[str, Any] = {
        "type": "PodScheduled",
        "status": status,
        "lastProbeTime": None,
        "lastTransitionTime": format_time(clock.now_datetime()),
    }
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def _set_condition(status: dict[str, Any], condition: dict[str, Any]) -> dict[str, Any]:
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
    return {**status, "conditions": [condition, *conditions]}


def _bind(pod: dict[str, Any], result) -> int:
    namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    uid, node = pod["metadata"]["uid"], result.node_name

    def binding(current: dict[str, Any]) -> dict[str, Any]:
        if current["metadata"]["uid"] != uid or current["spec"].get("nodeName"):
            raise Conflict(
                "pods/binding",
                "",
                name,
                f'pod {name} is already assigned to node "{current["spec"].get("nodeName")}"',
            )
        current["spec"]["nodeName"] = node
        current["status"] = _set_condition(current.get("status") or {}, _condition("True"))
        return current

    try:
        # The binding subresource: the only spec change a pod accepts, and its status with it.
        bound = write.mutate(
            "Pod", namespace, name, binding, actor=COMPONENT, subresource="binding"
        )
    except (NotFound, Conflict):
        return 0
    except StoreError as error:
        logger.warning("binding %s/%s to %s failed: %s", namespace, name, node, error.message)
        return 0
    _decide(bound, node, "", result.diagnosis)
    events.record(
        bound,
        "Scheduled",
        f"Successfully assigned {namespace}/{name} to {node}",
        component=COMPONENT,
    )
    return 1


def _unschedulable(
    pod: dict[str, Any], info: PodInfo, result, snap: Snapshot, total_nodes: int
) -> None:
    message = failed_scheduling_message(total_nodes, result.diagnosis)
    if _mark_unschedulable(pod, message, ""):
        _decide(pod, "", plain_language(info, result.diagnosis, snap), result.diagnosis, message)


def _mark_unschedulable(pod: dict[str, Any], message: str, sentence: str) -> bool:
    """Set PodScheduled=False/Unschedulable (when it changed) and record FailedScheduling."""
    namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    current = next(
        (c for c in pod["status"].get("conditions") or [] if c.get("type") == "PodScheduled"), {}
    )
    if current.get("status") != "False" or current.get("message") != message:

        def mark(obj: dict[str, Any]) -> dict[str, Any]:
            obj["status"] = _set_condition(
                obj.get("status") or {}, _condition("False", "Unschedulable", message)
            )
            return obj

        try:
            write.mutate("Pod", namespace, name, mark, subresource="status", actor=COMPONENT)
        except (NotFound, Conflict):
            return False
    if sentence:
        SchedulingDecision.objects.update_or_create(
            pod_uid=pod["metadata"]["uid"],
            defaults={
                "namespace": namespace,
                "name": name,
                "node_name": "",
                "message": message,
                "diagnosis": {"sentence": sentence},
                "decided_at": clock.now_datetime(),
            },
        )
    events.record(
        pod, "FailedScheduling", event_message(message), type="Warning", component=COMPONENT
    )
    return True


def _decide(pod: dict[str, Any], node: str, sentence: str, diagnosis, message: str = "") -> None:
    statuses = {
        name: {"plugin": status.plugin, "reasons": list(status.reasons)}
        for name, status in diagnosis.node_statuses.items()
        if not status.is_success
    }
    if len(statuses) > DECISION_NODES:  # at scale, keep the counts rather than every node
        statuses = {"counts": dict(diagnosis.reason_counts())}
    rows = sorted(diagnosis.scores(), key=lambda row: (not row.selected, -row.total))
    scores = [
        {"node": row.node, "scores": row.scores, "total": row.total, "selected": row.selected}
        for row in rows[:DECISION_NODES]
    ]
    SchedulingDecision.objects.update_or_create(
        pod_uid=pod["metadata"]["uid"],
        defaults={
            "namespace": pod["metadata"]["namespace"],
            "name": pod["metadata"]["name"],
            "node_name": node,
            "message": message or sentence,
            "diagnosis": {
                "filtered": statuses,
                "scores": scores,
                "sentence": sentence,
                "evaluated": diagnosis.evaluated_nodes,
            },
            "decided_at": clock.now_datetime(),
        },
    )
