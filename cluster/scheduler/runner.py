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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import transaction

from cluster import clock
from cluster.models import (
    Change,
    Node,
    PersistentVolumeClaim,
    Pod,
    SchedulingDecision,
    StorageClass,
)
from cluster.scheduler import (
    NodeInfo,
    PodInfo,
    Snapshot,
    failed_scheduling_message,
    plain_language,
    schedule_batch,
)
from cluster.scheduler.explain import event_message
from cluster.store import batch, events, kinds, read
from cluster.store.errors import Conflict, NotFound, StoreError
from cluster.store.objects import format_time, to_dict

logger = logging.getLogger(__name__)

SCHEDULER_NAME = "default-scheduler"
COMPONENT = "default-scheduler"
BIND_BATCH = 200
# How many nodes a kept decision lists (the chosen one first, then the best runners-up).
DECISION_NODES = 10


@dataclass
class RunStats:
    pending: int = 0
    bound: int = 0
    unschedulable: int = 0
    halted: bool = False  # stopped before committing everything (see schedule_pending)
    seconds: dict[str, float] = field(default_factory=dict)


def pending_pods(limit: int) -> list[dict[str, Any]]:
    pod_kind = kinds.by_kind("Pod")
    rows = Pod.objects.filter(
        node_name="", deletion_timestamp__isnull=True, phase="Pending"
    ).order_by("creation_timestamp", "namespace", "name")[:limit]
    pods = [to_dict(row, pod_kind, copy_content=False) for row in rows]
    return [p for p in pods if (p["spec"].get("schedulerName") or SCHEDULER_NAME) == SCHEDULER_NAME]


@dataclass
class _Cache:
    """The scheduler's view of the nodes and the pods bound to them, kept between cycles.

    kube-scheduler keeps such a cache, fed by its informers; here the change log feeds it. A
    cycle applies the Pod and Node changes committed since the last one (each change carries
    the whole object, applied in revision order, so the result is the current state) instead
    of reading and parsing every bound pod again: with 10,000 bound pods that is most of a
    cycle. ``marker`` is the uid of the change at ``revision``: if that row is gone (the log
    was compacted, or the database flushed and refilled), everything is read afresh.

    The nodes' ``NodeInfo`` are kept too (a snapshot never changes one in place: assuming a pod
    makes a new one) and built again only for the nodes that changed, or whose pods did in a
    way that counts on a node (placement, requests, priority): a kubelet's status write does
    not, and most of a thousand nodes see no change between two cycles.
    """

    revision: int = 0
    marker: str = ""
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    bound: dict[tuple[str, str], PodInfo] = field(default_factory=dict)
    by_node: dict[str, dict[tuple[str, str], PodInfo]] = field(default_factory=dict)
    infos: dict[str, NodeInfo] = field(default_factory=dict)
    stale: set[str] = field(default_factory=set)  # nodes whose NodeInfo is to be built again

    def still_valid(self, current: int) -> bool:
        if not self.revision or self.revision > current:
            return False
        return Change.objects.filter(revision=self.revision, uid=self.marker).exists()

    def reload(self, current: int) -> None:
        node_kind = kinds.by_kind("Node")
        self.nodes = {
            row.name: to_dict(row, node_kind, copy_content=False) for row in Node.objects.all()
        }
        rows = (
            Pod.objects.exclude(node_name="")
            .exclude(phase__in=TERMINAL)
            .values_list("namespace", "name", "node_name", "spec", "phase")
        )
        self.bound = {
            (ns, name): PodInfo.from_pod(
                {
                    "metadata": {"namespace": ns, "name": name},
                    "spec": {**(spec or {}), "nodeName": node},
                    "status": {"phase": phase},
                }
            )
            for ns, name, node, spec, phase in rows
        }
        self.by_node = {}
        for key, info in self.bound.items():
            self.by_node.setdefault(info.node_name, {})[key] = info
        self.infos, self.stale = {}, set(self.nodes)
        self._mark(current)

    def catch_up(self, current: int) -> None:
        changes = (
            Change.objects.filter(
                revision__gt=self.revision, revision__lte=current, kind__in=("Pod", "Node")
            )
            .order_by("revision")
            .values_list("kind", "type", "object")
        )
        for kind, change_type, obj in changes.iterator():
            meta = obj.get("metadata") or {}
            if kind == "Node":
                name = meta.get("name", "")
                if change_type == Change.Type.DELETED:
                    self.nodes.pop(name, None)
                    self.infos.pop(name, None)
                else:
                    self.nodes[name] = obj
                    self.stale.add(name)
                continue
            key = (meta.get("namespace", ""), meta.get("name", ""))
            spec, status = obj.get("spec") or {}, obj.get("status") or {}
            old = self.bound.get(key)
            if (
                change_type == Change.Type.DELETED
                or not spec.get("nodeName")
                or status.get("phase") in TERMINAL
            ):
                if old is not None:
                    self._unplace(key, old)
                continue
            new = PodInfo.from_pod(obj)
            if old is not None and _same_on_node(old, new):
                continue  # the node's NodeInfo counts it as it is
            if old is not None:
                self._unplace(key, old)
            self.bound[key] = new
            self.by_node.setdefault(new.node_name, {})[key] = new
            self.stale.add(new.node_name)
        self._mark(current)

    def _unplace(self, key: tuple[str, str], info: PodInfo) -> None:
        del self.bound[key]
        self.by_node.get(info.node_name, {}).pop(key, None)
        self.stale.add(info.node_name)

    def node_infos(self) -> list[NodeInfo]:
        """Every node's NodeInfo with its bound pods, in the nodes' order; the stale ones built
        again."""
        for name in self.stale:
            node = self.nodes.get(name)
            if node is not None:
                self.infos[name] = NodeInfo.from_node(node, self.by_node.get(name, {}).values())
        self.stale.clear()
        return [self.infos[name] for name in self.nodes]

    def _mark(self, current: int) -> None:
        marker = Change.objects.filter(revision=current).values_list("uid", flat=True).first()
        self.revision, self.marker = (current, str(marker)) if marker else (0, "")


def _same_on_node(old: PodInfo, new: PodInfo) -> bool:
    """Whether a node counts ``new`` as it counted ``old`` (the fields a NodeInfo sums or the
    preemption check reads)."""
    return (
        old.node_name == new.node_name
        and old.cpu == new.cpu
        and old.memory == new.memory
        and old.nonzero_cpu == new.nonzero_cpu
        and old.nonzero_memory == new.nonzero_memory
        and old.priority == new.priority
    )


TERMINAL = ("Succeeded", "Failed")
_cache = _Cache()


def snapshot() -> Snapshot:
    """Every node, and every non-terminal pod bound to one (only the fields the plugins read),
    from the scheduler's cache brought up to the current revision."""
    current = read.current_revision()
    if _cache.still_valid(current):
        _cache.catch_up(current)
    else:
        _cache.reload(current)
    return Snapshot(_cache.node_infos())


def schedule_pending(limit: int = 5000, may_bind: Callable[[], bool] | None = None) -> RunStats:
    """One scheduling cycle over up to ``limit`` pending pods.

    ``may_bind`` is asked before each batch is committed: when it answers False (the scheduler
    was stopped meanwhile), the cycle ends there and binds nothing more (``stats.halted``).
    """
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
        if may_bind is not None and not may_bind():
            stats.halted = True
            break
        chunk = list(
            zip(
                pods[first : first + BIND_BATCH],
                infos[first : first + BIND_BATCH],
                results[first : first + BIND_BATCH],
                strict=True,
            )
        )
        unplaced = []
        for pod, info, result in chunk:
            if not result.node_name:
                message = failed_scheduling_message(total_nodes, result.diagnosis)
                sentence = plain_language(info, result.diagnosis, snap)
                decision = _decision(pod, "", sentence, result.diagnosis, message)
                unplaced.append(_Unschedulable(pod, message, decision))
        placed = [(pod, result) for pod, _, result in chunk if result.node_name]
        # What needs no lock is made before the transaction: on SQLite every writer waits
        # while one is open.
        decisions = batch.row_values(
            SchedulingDecision, [_decision(pod, r.node_name, "", r.diagnosis) for pod, r in placed]
        )
        notes = [_scheduled(pod, r.node_name) for pod, r in placed]
        prepared = events.prepare(notes)
        with transaction.atomic():
            stats.bound += _bind_all(placed, decisions, notes, prepared)
            _mark_unschedulable(unplaced)
        stats.unschedulable += len(unplaced)
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
    ready, waiting_for_claims = [], []
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
        message = (
            f"0/{total_nodes} nodes are available: {problem}. preemption: "
            f"0/{total_nodes} nodes are available: {total_nodes} Preemption is not "
            f"helpful for scheduling."
        )
        sentence = problem[0].upper() + problem[1:] + "."
        waiting_for_claims.append(
            _Unschedulable(pod, message, _sentence_only(pod, message, sentence))
        )
    with transaction.atomic():
        _mark_unschedulable(waiting_for_claims)
    stats.unschedulable += len(waiting_for_claims)
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


def _bind_all(
    placed: list[tuple[dict[str, Any], Any]],
    decisions: list[list[Any]],
    notes: list[events.Note],
    prepared: events.PreparedEvents,
) -> int:
    """Bind every placed pod with one ``pods/binding`` batch (guarded by the pod's uid and by
    it still being unbound), then keep the decisions (their rows' values) and record the
    ``Scheduled`` events (``notes``, made ready as ``prepared``), a few statements in all. Pods deleted
    or bound meanwhile are skipped, with their decisions and events."""
    if not placed:
        return 0
    answers = batch.bind_pods(
        [
            batch.Binding(
                p["metadata"]["namespace"], p["metadata"]["name"], r.node_name, p["metadata"]["uid"]
            )
            for p, r in placed
        ],
        actor=COMPONENT,
    )
    bound = []
    for position, ((pod, result), answer) in enumerate(zip(placed, answers, strict=True)):
        if isinstance(answer, StoreError):
            if not isinstance(answer, NotFound | Conflict):
                logger.warning(
                    "binding %s/%s to %s failed: %s",
                    pod["metadata"]["namespace"],
                    pod["metadata"]["name"],
                    result.node_name,
                    answer.message,
                )
            continue
        bound.append(position)
    if len(bound) < len(placed):  # rare: the events are made again for the pods bound
        decisions = [decisions[position] for position in bound]
        prepared = events.prepare([notes[position] for position in bound])
    _keep_decisions(decisions)
    events.write_prepared(prepared)
    return len(bound)


def _scheduled(pod: dict[str, Any], node: str) -> events.Note:
    """The ``Scheduled`` event of ``pod`` bound to ``node``."""
    return events.Note(
        events.involved_object(pod),
        "Scheduled",
        f"Successfully assigned {pod['metadata']['namespace']}/{pod['metadata']['name']} to {node}",
        component=COMPONENT,
    )


class _Unschedulable(NamedTuple):
    """A pod that fits nowhere: Kubernetes' FailedScheduling message and the kept decision."""

    pod: dict[str, Any]
    message: str
    decision: SchedulingDecision


def _mark_unschedulable(unplaced: list[_Unschedulable]) -> None:
    """Set ``PodScheduled=False/Unschedulable`` where it changed, keep the decisions and record
    the ``FailedScheduling`` events (repeats aggregate), in a few statements for the list."""
    if not unplaced:
        return

    def mark(message: str):
        def change(obj: dict[str, Any]) -> dict[str, Any]:
            obj["status"] = _set_condition(
                obj.get("status") or {}, _condition("False", "Unschedulable", message)
            )
            return obj

        return change

    changed = [
        item
        for item in unplaced
        if (
            (scheduled := _scheduled_condition(item.pod)).get("status") != "False"
            or scheduled.get("message") != item.message
        )
    ]
    marked = batch.mutate_many(
        "Pod",
        [
            (i.pod["metadata"]["namespace"], i.pod["metadata"]["name"], mark(i.message))
            for i in changed
        ],
        subresource="status",
        actor=COMPONENT,
    )
    gone = {
        id(item)
        for item, answer in zip(changed, marked, strict=True)
        if isinstance(answer, StoreError)
    }
    still_pending = [item for item in unplaced if id(item) not in gone]
    _keep_decisions(batch.row_values(SchedulingDecision, [i.decision for i in still_pending]))
    events.record_many(
        [
            events.Note(
                events.involved_object(item.pod),
                "FailedScheduling",
                event_message(item.message),
                type="Warning",
                component=COMPONENT,
            )
            for item in still_pending
        ]
    )


def _scheduled_condition(pod: dict[str, Any]) -> dict[str, Any]:
    conditions = pod["status"].get("conditions") or []
    return next((c for c in conditions if c.get("type") == "PodScheduled"), {})


def _sentence_only(pod: dict[str, Any], message: str, sentence: str) -> SchedulingDecision:
    """The decision kept when no node was looked at (a PreFilter rejected the pod)."""
    return SchedulingDecision(
        pod_uid=pod["metadata"]["uid"],
        namespace=pod["metadata"]["namespace"],
        name=pod["metadata"]["name"],
        node_name="",
        message=message,
        diagnosis={"sentence": sentence},
        decided_at=clock.now_datetime(),
    )


def _decision(
    pod: dict[str, Any], node: str, sentence: str, diagnosis, message: str = ""
) -> SchedulingDecision:
    """The kept record of one decision: the nodes filtered out (or, at scale, the counts per
    reason), the best scores, the plain-language sentence."""
    if diagnosis.failed_count > DECISION_NODES:  # at scale, the counts rather than every node
        statuses: dict[str, Any] = {"counts": dict(diagnosis.reason_counts())}
    else:
        statuses = {
            name: {"plugin": status.plugin, "reasons": list(status.reasons)}
            for name, status in diagnosis.node_statuses.items()
            if not status.is_success
        }
    scores = [
        {"node": row.node, "scores": row.scores, "total": row.total, "selected": row.selected}
        for row in diagnosis.scores(limit=DECISION_NODES)
    ]
    return SchedulingDecision(
        pod_uid=pod["metadata"]["uid"],
        namespace=pod["metadata"]["namespace"],
        name=pod["metadata"]["name"],
        node_name=node,
        message=message or sentence,
        diagnosis={
            "filtered": statuses,
            "scores": scores,
            "sentence": sentence,
            "evaluated": diagnosis.evaluated_nodes,
        },
        decided_at=clock.now_datetime(),
    )


def _keep_decisions(values: list[list[Any]]) -> None:
    """Store decisions (their rows' values, ``batch.row_values``), each replacing the pod's
    previous one (one upsert)."""
    batch.upsert_values(SchedulingDecision, values, unique="pod_uid")
