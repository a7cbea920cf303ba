"""The ReplicaSet controller's planner (``pkg/controller/replicaset``), as a pure function.

One reconcile, as upstream's ``syncReplicaSet``:

1. Take the *active* pods of the namespace (not terminal, not being deleted) and claim them:
   adopt orphans the selector matches, release owned pods it no longer matches.
2. Unless the ReplicaSet is being deleted, compare the number of owned active pods with
   ``spec.replicas`` (default 1):

   * too few: create the missing ones, at most ``burst_replicas`` (500) per reconcile;
     ``SuccessfulCreate`` "Created pod: web-6d4cf56db6-x8k2p" for each;
   * too many: delete the surplus, choosing victims in upstream's ``ActivePodsWithRanks``
     order (:func:`cluster.controllers.podutil.active_pods_sort_key`: unscheduled, pending,
     not ready, cheap to delete, doubled up on a node, recently ready, restarting, new go
     first); ``SuccessfulDelete`` "Deleted pod: web-6d4cf56db6-x8k2p" for each.

3. Write the status counted from the claimed pods *before* this reconcile's creates and
   deletes (the next reconcile, triggered by those pod changes, counts them):
   ``replicas`` (owned active pods), ``fullyLabeledReplicas`` (those carrying every template
   label), ``readyReplicas``, ``availableReplicas`` (ready for more than ``minReadySeconds``)
   and ``observedGeneration``.

Worked example: ``replicas: 3`` with pods a (Running, ready since 10:00), b (Running, ready since
10:05) and c, d (Pending, unscheduled) owned: 4 > 3, so one victim; sorted, the unscheduled
pending pods come first and the newer of c and d is deleted. Status: replicas 4, ready 2.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
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
    active_pods_sort_key,
    as_utc,
    available_at,
    claim,
    is_active,
    is_pod_available,
    is_pod_ready,
    labels_of,
    meta,
    pod_from_template,
    random_suffix,
    status_differs,
    without_zeros,
)

__all__ = ["BURST_REPLICAS", "plan_replicaset", "replicaset_status"]

# kube-controller-manager's --concurrent... burstReplicas for ReplicaSets.
BURST_REPLICAS = 500
# validation.DNS1123SubdomainMaxLength (253) does not bite; generated names keep 58 + 5.
MAX_GENERATED_PREFIX = 58


def _replicas(rs: Mapping[str, Any]) -> int:
    value = (rs.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def replicaset_status(
    rs: Mapping[str, Any], owned_pods: Sequence[Mapping[str, Any]], now: dt.datetime
) -> dict[str, Any]:
    """The status upstream's ``calculateStatus`` + ``updateReplicaSetStatus`` would write.

    ``owned_pods`` are the claimed active pods. ``conditions`` are kept as they are.
    """
    spec = rs.get("spec") or {}
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    min_ready = int(spec.get("minReadySeconds") or 0)
    fully_labeled = ready = available = 0
    for pod in owned_pods:
        labels = labels_of(pod)
        if all(labels.get(key) == value for key, value in template_labels.items()):
            fully_labeled += 1
        if is_pod_ready(pod):
            ready += 1
            if is_pod_available(pod, min_ready, now):
                available += 1
    status: dict[str, Any] = {
        "replicas": len(owned_pods),
        "fullyLabeledReplicas": fully_labeled,
        "readyReplicas": ready,
        "availableReplicas": available,
        "observedGeneration": meta(rs).get("generation"),
    }
    conditions = (rs.get("status") or {}).get("conditions")
    if conditions:
        status["conditions"] = conditions
    return without_zeros(status, required=("replicas",))


def _requeue_for_availability(
    pods: Sequence[Mapping[str, Any]], min_ready_seconds: int, now: dt.datetime
) -> float | None:
    """Seconds until the next ready-but-not-yet-available pod becomes available, if any."""
    if not min_ready_seconds:
        return None
    waits = []
    for pod in pods:
        if is_pod_ready(pod) and not is_pod_available(pod, min_ready_seconds, now):
            when = available_at(pod, min_ready_seconds)
            if when is not None:
                waits.append(max((when - now).total_seconds(), 0.0))
    return float(math.ceil(min(waits))) if waits else None


def _pod_names(rs_name: str, count: int, taken: set[str], rng: random.Random) -> list[str]:
    prefix = f"{rs_name}-"[:MAX_GENERATED_PREFIX]
    names: list[str] = []
    while len(names) < count:
        candidate = prefix + random_suffix(rng)
        if candidate not in taken:
            taken.add(candidate)
            names.append(candidate)
    return names


def plan_replicaset(
    rs: Mapping[str, Any],
    pods: Sequence[Mapping[str, Any]],
    now: dt.datetime,
    *,
    rng: random.Random | None = None,
    related_pods: Sequence[Mapping[str, Any]] | None = None,
    burst_replicas: int = BURST_REPLICAS,
) -> Plan:
    """Plan one reconcile of ``rs`` given the pods of its namespace.

    ``rng``: when given, new pods get names ``<rs>-<5 random characters>`` chosen here (for
    replayable scenarios); otherwise they carry ``generateName: <rs>-`` and the store picks.
    ``related_pods``: the pods of every ReplicaSet with the same owner (for the "doubled up on
    a node" rank); defaults to this ReplicaSet's own pods.
    """
    now = as_utc(now)
    spec = rs.get("spec") or {}
    name = str(meta(rs).get("name", ""))
    namespace = str(meta(rs).get("namespace", ""))
    involved = object_reference(rs)
    actions: list[Action] = []
    notes: list[str] = []

    active = [pod for pod in pods if is_active(pod)]
    claimed = claim(rs, active, spec.get("selector"))
    actions.extend(claimed.patches)
    owned = claimed.owned

    if not meta(rs).get("deletionTimestamp"):
        diff = len(owned) - _replicas(rs)
        if diff < 0:
            actions.extend(_creates(rs, min(-diff, burst_replicas), involved, pods, rng))
            notes.append(
                f"Too few replicas: need {_replicas(rs)}, creating {min(-diff, burst_replicas)}"
            )
        elif diff > 0:
            victims = _pods_to_delete(owned, related_pods, min(diff, burst_replicas))
            notes.append(f"Too many replicas: need {_replicas(rs)}, deleting {len(victims)}")
            for pod in victims:
                pod_name = str(meta(pod).get("name", ""))
                actions.append(
                    Delete(
                        "Pod",
                        namespace,
                        pod_name,
                        meta(pod).get("uid"),
                        on_success=(
                            Event(involved, NORMAL, "SuccessfulDelete", f"Deleted pod: {pod_name}"),
                        ),
                        on_failure=(
                            Event(involved, WARNING, "FailedDelete", "Error deleting: {error}"),
                        ),
                    )
                )

    status = replicaset_status(rs, owned, now)
    if status_differs(rs.get("status"), status):
        actions.append(
            UpdateStatus("ReplicaSet", namespace, name, status, meta(rs).get("resourceVersion"))
        )
    requeue = _requeue_for_availability(owned, int(spec.get("minReadySeconds") or 0), now)
    return Plan.of(actions, requeue, notes)


def _creates(
    rs: Mapping[str, Any],
    count: int,
    involved: Mapping[str, Any],
    pods: Sequence[Mapping[str, Any]],
    rng: random.Random | None,
) -> list[Create]:
    template = (rs.get("spec") or {}).get("template") or {}
    rs_name = str(meta(rs).get("name", ""))
    names: list[str | None]
    if rng is not None:
        taken = {str(meta(pod).get("name", "")) for pod in pods}
        names = list(_pod_names(rs_name, count, taken, rng))
    else:
        names = [None] * count
    creates = []
    for pod_name in names:
        pod = pod_from_template(
            template,
            rs,
            name=pod_name,
            generate_name=f"{rs_name}-"[:MAX_GENERATED_PREFIX],
        )
        creates.append(
            Create(
                pod,
                on_success=(Event(involved, NORMAL, "SuccessfulCreate", "Created pod: {name}"),),
                on_failure=(Event(involved, WARNING, "FailedCreate", "Error creating: {error}"),),
            )
        )
    return creates


def _pods_to_delete(
    owned: Sequence[Mapping[str, Any]],
    related_pods: Sequence[Mapping[str, Any]] | None,
    count: int,
) -> list[Mapping[str, Any]]:
    """``getPodsToDelete``: rank by related active pods on the same node, sort, take ``count``."""
    if count >= len(owned):
        return list(owned)
    related = owned if related_pods is None else related_pods
    per_node = Counter(
        str((pod.get("spec") or {}).get("nodeName") or "") for pod in related if is_active(pod)
    )
    ranks = {
        str(meta(pod).get("name", "")): per_node[str((pod.get("spec") or {}).get("nodeName") or "")]
        for pod in owned
    }
    return sorted(owned, key=active_pods_sort_key(ranks))[:count]
