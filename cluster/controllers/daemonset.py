"""The DaemonSet controller's planner (``pkg/controller/daemon``), as a pure function.

One pod per eligible node. A node is eligible (``NodeShouldRunDaemonPod``) when the template's
``nodeName`` (if any) is that node, the node matches the template's ``nodeSelector`` and
required node affinity, and every ``NoSchedule``/``NoExecute`` taint is tolerated by the
template's tolerations plus the ones every daemon pod gets (``not-ready`` and ``unreachable``
NoExecute; ``disk-pressure``, ``memory-pressure``, ``pid-pressure``, ``unschedulable``
NoSchedule; ``network-unavailable`` NoSchedule with ``hostNetwork``). A pod already running
may stay on a node whose only untolerated taints are ``NoSchedule`` ("should continue running").
The matching reuses the scheduler's compiled node-selector terms and toleration rules
(:mod:`cluster.scheduler.snapshot`).

Each pod is pinned to its node as upstream does: the template's required node affinity is
replaced by one term, ``matchFields: metadata.name In [<node>]``, and the scheduler places it.
Pods carry ``controller-revision-hash: <hash>`` (:func:`cluster.controllers.podutil.compute_hash`
of the template and ``status.collisionCount``; Kubarium has no ControllerRevision objects) and
``pod-template-generation`` when the DaemonSet has the ``deprecated.daemonset.template.generation``
annotation.

One reconcile, as upstream's ``syncDaemonSet``:

1. ``manage``: create a pod on each eligible node without one; delete daemon pods from nodes
   that should not run them, failed or succeeded pods (``FailedDaemonPod`` warning), and all but
   the oldest when a node has several; delete unscheduled pods meant for nodes that are gone.
2. If ``manage`` changed nothing and the strategy is ``RollingUpdate``: replace out-of-date pods
   while at most ``maxUnavailable`` (default 1; a percentage of the desired number, rounded up)
   are unavailable; with ``maxSurge`` the new pod starts first and the old one goes once the new
   one is available.
3. Status: ``desiredNumberScheduled``, ``currentNumberScheduled``, ``numberMisscheduled``,
   ``numberReady``, ``numberAvailable``, ``numberUnavailable``, ``updatedNumberScheduled``,
   ``observedGeneration``, counted from the pods as they were before this reconcile.

Worked example (3 eligible nodes, maxUnavailable 1, all pods old and available): node a's old
pod is a candidate, numUnavailable 0 < 1, so 1 pod is deleted; the next reconcile's ``manage``
creates its replacement, and nothing else is deleted until that one is available.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from cluster.controllers.actions import (
    NORMAL,
    WARNING,
    Action,
    Create,
    Delete,
    Event,
    Plan,
    UpdateStatus,
    object_reference,
)
from cluster.controllers.podutil import (
    CONTROLLER_REVISION_HASH_LABEL,
    as_utc,
    available_at,
    claim,
    compute_hash,
    creation_time,
    is_pod_available,
    is_pod_ready,
    is_terminal,
    is_terminating,
    labels_of,
    meta,
    pod_from_template,
    pod_phase,
    scaled_value,
    status_differs,
    without_zeros,
)
from cluster.scheduler.plugins import untolerated_taint
from cluster.scheduler.snapshot import NodeSelectorTerm, Taint, Toleration

__all__ = [
    "DAEMON_POD_TOLERATIONS",
    "TEMPLATE_GENERATION_ANNOTATION",
    "TEMPLATE_GENERATION_LABEL",
    "daemon_pod_template",
    "node_should_run_daemon_pod",
    "plan_daemonset",
    "target_node_name",
]

TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
BURST_REPLICAS = 250
OBJECT_NAME_FIELD = "metadata.name"

# util.AddOrUpdateDaemonPodTolerations: what every daemon pod tolerates.
DAEMON_POD_TOLERATIONS = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
NETWORK_UNAVAILABLE_TOLERATION = {
    "key": "node.kubernetes.io/network-unavailable",
    "operator": "Exists",
    "effect": "NoSchedule",
}


# ------------------------------------------------------------------------------ node checks


def _with_daemon_tolerations(spec: dict[str, Any]) -> None:
    """Add the daemon tolerations the spec does not have yet (``AddOrUpdateToleration...``)."""
    tolerations = list(spec.get("tolerations") or [])
    wanted = list(DAEMON_POD_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append(NETWORK_UNAVAILABLE_TOLERATION)
    for toleration in wanted:
        if not any(
            all(existing.get(key) == toleration.get(key) for key in ("key", "operator", "effect"))
            and not existing.get("value")
            for existing in tolerations
        ):
            tolerations.append(dict(toleration))
    spec["tolerations"] = tolerations


def _fits_affinity(spec: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """``nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)``: selector, then terms (ORed)."""
    labels = labels_of(node)
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if required is None:
        return True
    name = str(meta(node).get("name", ""))
    return any(
        NodeSelectorTerm.from_dict(term).matches(labels, name)
        for term in required.get("nodeSelectorTerms") or []
    )


def _untolerated(
    spec: Mapping[str, Any], node: Mapping[str, Any], effects: tuple[str, ...]
) -> Taint | None:
    taints = [
        Taint.from_dict(taint)
        for taint in (node.get("spec") or {}).get("taints") or []
        if taint.get("effect") in effects
    ]
    tolerations = [Toleration.from_dict(t) for t in spec.get("tolerations") or []]
    return untolerated_taint(tolerations, taints)


def node_should_run_daemon_pod(node: Mapping[str, Any], ds: Mapping[str, Any]) -> tuple[bool, bool]:
    """``NodeShouldRunDaemonPod``: (should run, should continue running)."""
    template_spec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    node_name = str(meta(node).get("name", ""))
    if template_spec.get("nodeName") and template_spec["nodeName"] != node_name:
        return False, False
    spec = copy.deepcopy(dict(template_spec))
    _with_daemon_tolerations(spec)
    if not _fits_affinity(spec, node):
        return False, False
    if _untolerated(spec, node, ("NoSchedule", "NoExecute")) is not None:
        return False, _untolerated(spec, node, ("NoExecute",)) is None
    return True, True


def target_node_name(pod: Mapping[str, Any]) -> str | None:
    """``GetTargetNodeName``: ``spec.nodeName``, else the node the affinity pins it to."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == OBJECT_NAME_FIELD and field.get("operator") == "In":
                values = field.get("values") or []
                return str(values[0]) if len(values) == 1 else None
    return None


# ---------------------------------------------------------------------------------- templates


def _template_generation(ds: Mapping[str, Any]) -> str | None:
    value = (meta(ds).get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)
    return None if value is None else str(value)


def daemon_pod_template(ds: Mapping[str, Any], hash_: str) -> dict[str, Any]:
    """``CreatePodTemplate``: tolerations added, generation and revision-hash labels set."""
    template = copy.deepcopy(dict((ds.get("spec") or {}).get("template") or {}))
    spec = template.setdefault("spec", {})
    _with_daemon_tolerations(spec)
    labels = template.setdefault("metadata", {}).setdefault("labels", {})
    generation = _template_generation(ds)
    if generation is not None:
        labels[TEMPLATE_GENERATION_LABEL] = generation
    if hash_:
        labels[CONTROLLER_REVISION_HASH_LABEL] = hash_
    return template


def _pin_to_node(spec: dict[str, Any], node_name: str) -> None:
    """``ReplaceDaemonSetPodNodeNameNodeAffinity``: one term, metadata.name In [node]."""
    term = {"matchFields": [{"key": OBJECT_NAME_FIELD, "operator": "In", "values": [node_name]}]}
    affinity = spec.setdefault("affinity", {}) or {}
    spec["affinity"] = affinity
    node_affinity = affinity.setdefault("nodeAffinity", {}) or {}
    affinity["nodeAffinity"] = node_affinity
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
            "nodeSelectorTerms": [term]
        }
    else:
        required["nodeSelectorTerms"] = [term]


def _is_updated(pod: Mapping[str, Any], hash_: str, generation: str | None) -> bool:
    """``IsPodUpdated``: the revision hash or the template generation label matches."""
    labels = labels_of(pod)
    template_matches = (
        generation is not None and labels.get(TEMPLATE_GENERATION_LABEL) == generation
    )
    hash_matches = bool(hash_) and labels.get(CONTROLLER_REVISION_HASH_LABEL) == hash_
    return hash_matches or template_matches


def _by_creation_and_phase(pods: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``podByCreationTimestampAndPhase``: scheduled first, then oldest, then by name."""

    def key(pod: Mapping[str, Any]) -> tuple:
        created = creation_time(pod)
        return (
            0 if (pod.get("spec") or {}).get("nodeName") else 1,
            created.timestamp() if created else float("-inf"),
            str(meta(pod).get("name", "")),
        )

    return sorted(pods, key=key)


# ----------------------------------------------------------------------------------- planner


class _Sync:
    def __init__(self, ds: Mapping[str, Any], now: dt.datetime, hash_: str):
        self.ds = ds
        self.now = now
        self.hash = hash_
        self.generation = _template_generation(ds)
        self.min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        self.involved = object_reference(ds)
        self.namespace = str(meta(ds).get("namespace", ""))
        self.actions: list[Action] = []
        self.notes: list[str] = []

    def available(self, pod: Mapping[str, Any]) -> bool:
        return is_pod_available(pod, self.min_ready, self.now)

    def sync_nodes(self, to_delete: Sequence[Mapping[str, Any]], to_create: Sequence[str]) -> None:
        """``syncNodes``: pods for ``to_create`` (at most 250), deletion of ``to_delete``."""
        template = daemon_pod_template(self.ds, self.hash)
        for node_name in list(to_create)[:BURST_REPLICAS]:
            pod = pod_from_template(template, self.ds)
            _pin_to_node(pod["spec"], node_name)
            self.actions.append(
                Create(
                    pod,
                    on_success=(
                        Event(self.involved, NORMAL, "SuccessfulCreate", "Created pod: {name}"),
                    ),
                    on_failure=(
                        Event(self.involved, WARNING, "FailedCreate", "Error creating: {error}"),
                    ),
                )
            )
        for pod in list(to_delete)[:BURST_REPLICAS]:
            name = str(meta(pod).get("name", ""))
            self.actions.append(
                Delete(
                    "Pod",
                    self.namespace,
                    name,
                    meta(pod).get("uid"),
                    on_success=(
                        Event(self.involved, NORMAL, "SuccessfulDelete", f"Deleted pod: {name}"),
                    ),
                    on_failure=(
                        Event(self.involved, WARNING, "FailedDelete", "Error deleting: {error}"),
                    ),
                )
            )


def _surge_allowed(ds: Mapping[str, Any]) -> bool:
    return _surge_count(ds, 1) > 0


def _rolling(ds: Mapping[str, Any]) -> dict[str, Any] | None:
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    if (strategy.get("type") or "RollingUpdate") != "RollingUpdate":
        return None
    rolling = dict(strategy.get("rollingUpdate") or {})
    rolling.setdefault("maxUnavailable", 1)
    rolling.setdefault("maxSurge", 0)
    return rolling


def _surge_count(ds: Mapping[str, Any], desired: int) -> int:
    """``SurgeCount``: maxSurge of the desired number, rounded up (0 when not rolling)."""
    rolling = _rolling(ds)
    return 0 if rolling is None else scaled_value(rolling.get("maxSurge"), desired, round_up=True)


def _unavailable_count(ds: Mapping[str, Any], desired: int) -> int:
    """``UnavailableCount``: maxUnavailable of the desired number, rounded *up*.

    Example: ``maxUnavailable: 10%`` of 15 nodes is ceil(1.5) = 2.
    """
    rolling = _rolling(ds)
    return (
        0
        if rolling is None
        else scaled_value(rolling.get("maxUnavailable"), desired, round_up=True)
    )


def _pods_should_be_on_node(
    sync: _Sync,
    node: Mapping[str, Any],
    daemon_pods: Sequence[Mapping[str, Any]] | None,
) -> tuple[bool, list[Mapping[str, Any]]]:
    """``podsShouldBeOnNode``: (needs a new pod, pods to delete)."""
    node_name = str(meta(node).get("name", ""))
    should_run, should_continue = node_should_run_daemon_pod(node, sync.ds)
    exists = daemon_pods is not None and len(daemon_pods) > 0
    to_delete: list[Mapping[str, Any]] = []
    if should_run and not exists:
        return True, []
    if should_continue:
        running = []
        for pod in daemon_pods or []:
            if is_terminating(pod):
                continue
            if pod_phase(pod) == "Failed":
                message = (
                    f"Found failed daemon pod {meta(pod).get('namespace')}/{meta(pod).get('name')}"
                    f" on node {node_name}, will try to kill it"
                )
                sync.actions.append(Event(sync.involved, WARNING, "FailedDaemonPod", message))
                to_delete.append(pod)
            elif pod_phase(pod) == "Succeeded":
                message = (
                    f"Found succeeded daemon pod {meta(pod).get('namespace')}/"
                    f"{meta(pod).get('name')} on node {node_name}, will try to delete it"
                )
                sync.actions.append(Event(sync.involved, WARNING, "SucceededDaemonPod", message))
                to_delete.append(pod)
            else:
                running.append(pod)
        if not _surge_allowed(sync.ds):
            if len(running) > 1:
                to_delete.extend(_by_creation_and_phase(running)[1:])
            return False, to_delete
        if len(running) <= 1:
            return (not running and should_run), to_delete
        oldest_new = oldest_old = None
        for pod in _by_creation_and_phase(running):
            if labels_of(pod).get(CONTROLLER_REVISION_HASH_LABEL) == sync.hash:
                if oldest_new is None:
                    oldest_new = pod
                    continue
            elif oldest_old is None:
                oldest_old = pod
                continue
            to_delete.append(pod)
        if oldest_new is not None and oldest_old is not None:
            if not is_pod_ready(oldest_old) or sync.available(oldest_new):
                to_delete.append(oldest_old)
        return False, to_delete
    if not should_continue and exists:
        to_delete.extend(pod for pod in daemon_pods or [] if not is_terminating(pod))
    return False, to_delete


def _updated_pods_on_node(
    sync: _Sync, pods: Sequence[Mapping[str, Any]] | None
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None, bool]:
    """``findUpdatedPodsOnNode``: (new pod, old pod, ok); not ok with two of a kind."""
    new_pod = old_pod = None
    for pod in pods or []:
        if is_terminating(pod):
            continue
        if _is_updated(pod, sync.hash, sync.generation):
            if new_pod is not None:
                return None, None, False
            new_pod = pod
        else:
            if old_pod is not None:
                return None, None, False
            old_pod = pod
    return new_pod, old_pod, True


def _rolling_update(
    sync: _Sync,
    nodes: Sequence[Mapping[str, Any]],
    node_to_pods: dict[str, list[Mapping[str, Any]]],
) -> None:
    """``rollingUpdate`` (both the maxUnavailable and the maxSurge variant)."""
    desired = 0
    by_name = {str(meta(node).get("name", "")): node for node in nodes}
    table: dict[str, list[Mapping[str, Any]] | None] = dict(node_to_pods)
    for node in nodes:
        if node_should_run_daemon_pod(node, sync.ds)[0]:
            desired += 1
            table.setdefault(str(meta(node).get("name", "")), None)
    max_surge = _surge_count(sync.ds, desired)
    max_unavailable = _unavailable_count(sync.ds, desired)
    if desired > 0 and max_unavailable == 0 and max_surge == 0:
        max_unavailable = 1

    if max_surge == 0:
        unavailable = 0
        allowed: list[Mapping[str, Any]] = []
        candidates: list[Mapping[str, Any]] = []
        for node_name in sorted(table):
            new_pod, old_pod, ok = _updated_pods_on_node(sync, table[node_name])
            if not ok:
                unavailable += 1
                continue
            if (old_pod is None) == (new_pod is None):
                unavailable += 1
            elif new_pod is not None:
                if not sync.available(new_pod):
                    unavailable += 1
            else:
                assert old_pod is not None
                if not sync.available(old_pod):
                    allowed.append(old_pod)
                    unavailable += 1
                elif unavailable >= max_unavailable:
                    continue
                else:
                    candidates.append(old_pod)
        remaining = min(max(max_unavailable - unavailable, 0), len(candidates))
        sync.sync_nodes([*allowed, *candidates[:remaining]], [])
        return

    to_delete: list[Mapping[str, Any]] = []
    should_not_run: list[Mapping[str, Any]] = []
    candidate_nodes: list[str] = []
    allowed_nodes: list[str] = []
    surge = available = 0
    for node_name in sorted(table):
        new_pod, old_pod, ok = _updated_pods_on_node(sync, table[node_name])
        if not ok:
            surge += 1
            continue
        if old_pod is not None:
            available += 1 if sync.available(old_pod) else 0
        elif new_pod is not None:
            available += 1 if sync.available(new_pod) else 0
        if old_pod is None:
            continue
        node = by_name.get(node_name)
        should_run = node is not None and node_should_run_daemon_pod(node, sync.ds)[0]
        if new_pod is None:
            if not sync.available(old_pod):
                if not should_run:
                    to_delete.append(old_pod)
                    continue
                allowed_nodes.append(node_name)
            else:
                if not should_run:
                    should_not_run.append(old_pod)
                    continue
                if surge >= max_surge:
                    continue
                candidate_nodes.append(node_name)
        else:
            if not sync.available(new_pod):
                surge += 1
                continue
            to_delete.append(old_pod)
    deletable = available - desired
    if deletable > 0:
        to_delete.extend(should_not_run[: min(deletable, len(should_not_run))])
    remaining = min(max(max_surge - surge, 0), len(candidate_nodes))
    sync.sync_nodes(to_delete, [*allowed_nodes, *candidate_nodes[:remaining]])


def _status(
    sync: _Sync,
    nodes: Sequence[Mapping[str, Any]],
    node_to_pods: Mapping[str, list[Mapping[str, Any]]],
) -> dict[str, Any]:
    """``updateDaemonSetStatus``: counted per node from the oldest daemon pod on it."""
    desired = current = misscheduled = ready = updated = available = 0
    for node in nodes:
        should_run, _ = node_should_run_daemon_pod(node, sync.ds)
        daemon_pods = node_to_pods.get(str(meta(node).get("name", ""))) or []
        if should_run:
            desired += 1
            if not daemon_pods:
                continue
            current += 1
            pod = _by_creation_and_phase(daemon_pods)[0]
            if is_pod_ready(pod):
                ready += 1
                if sync.available(pod):
                    available += 1
            if _is_updated(pod, sync.hash, sync.generation):
                updated += 1
        elif daemon_pods:
            misscheduled += 1
    status: dict[str, Any] = {
        "currentNumberScheduled": current,
        "numberMisscheduled": misscheduled,
        "desiredNumberScheduled": desired,
        "numberReady": ready,
        "observedGeneration": meta(sync.ds).get("generation"),
        "updatedNumberScheduled": updated,
        "numberAvailable": available,
        "numberUnavailable": desired - available,
    }
    old = sync.ds.get("status") or {}
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if old.get("conditions"):
        status["conditions"] = old["conditions"]
    return without_zeros(
        status,
        required=(
            "currentNumberScheduled",
            "numberMisscheduled",
            "desiredNumberScheduled",
            "numberReady",
            "collisionCount",
        ),
    )


def _requeue(sync: _Sync, node_to_pods: Mapping[str, list[Mapping[str, Any]]]) -> float | None:
    if not sync.min_ready:
        return None
    waits = []
    for pods in node_to_pods.values():
        for pod in pods:
            if is_pod_ready(pod) and not sync.available(pod):
                when = available_at(pod, sync.min_ready)
                if when is not None:
                    waits.append(max((when - sync.now).total_seconds(), 0.0))
    return float(math.ceil(min(waits))) if waits else None


def plan_daemonset(
    ds: Mapping[str, Any],
    nodes: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    now: dt.datetime,
) -> Plan:
    """Plan one reconcile of ``ds`` given every node and the pods of its namespace."""
    now = as_utc(now)
    spec = ds.get("spec") or {}
    hash_ = compute_hash(spec.get("template") or {}, (ds.get("status") or {}).get("collisionCount"))
    sync = _Sync(ds, now, hash_)
    if meta(ds).get("deletionTimestamp"):
        return Plan()
    claimed = claim(ds, pods, spec.get("selector"))
    sync.actions.extend(claimed.patches)

    node_to_pods: dict[str, list[Mapping[str, Any]]] = {}
    for pod in claimed.owned:
        if is_terminal(pod) and is_terminating(pod):
            continue
        node_name = target_node_name(pod)
        if node_name is None:
            sync.notes.append(f"Failed to get target node name of Pod {meta(pod).get('name')}")
            continue
        node_to_pods.setdefault(node_name, []).append(pod)

    # manage
    to_create: list[str] = []
    to_delete: list[Mapping[str, Any]] = []
    for node in sorted(nodes, key=lambda n: str(meta(n).get("name", ""))):
        name = str(meta(node).get("name", ""))
        needs_pod, deletions = _pods_should_be_on_node(sync, node, node_to_pods.get(name))
        if needs_pod:
            to_create.append(name)
        to_delete.extend(deletions)
    known = {str(meta(node).get("name", "")) for node in nodes}
    for node_name, node_pods in sorted(node_to_pods.items()):
        if node_name in known:
            continue
        to_delete.extend(pod for pod in node_pods if not (pod.get("spec") or {}).get("nodeName"))
    sync.sync_nodes(to_delete, to_create)

    # Upstream waits for its creations and deletions to be observed before a rolling update.
    if not to_create and not to_delete and _rolling(ds) is not None:
        _rolling_update(sync, nodes, node_to_pods)

    status = _status(sync, nodes, node_to_pods)
    if status_differs(ds.get("status"), status):
        sync.actions.append(
            UpdateStatus(
                "DaemonSet",
                sync.namespace,
                str(meta(ds).get("name", "")),
                status,
                meta(ds).get("resourceVersion"),
            )
        )
    return Plan.of(sync.actions, _requeue(sync, node_to_pods), sync.notes)
