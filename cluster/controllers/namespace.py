"""The namespace controller's planner (``pkg/controller/namespace/deletion``), as a pure function.

A namespace with a ``deletionTimestamp`` is emptied, then finalized:

1. Every object in it that is not already being deleted is deleted (pods included; the
   executor deletes in the background, as the namespace deleter does). Bound pods go
   gracefully and objects with finalizers wait for them, so some content lingers.
2. ``status`` becomes ``phase: Terminating`` with the five conditions the deleter maintains,
   each ``False`` with its "ok" reason unless something is wrong:

   ================================================  ============================  =========================
   condition                                         reason when ``False``         reason when ``True``
   ================================================  ============================  =========================
   ``NamespaceDeletionDiscoveryFailure``             ``ResourcesDiscovered``       never
   ``NamespaceDeletionGroupVersionParsingFailure``   ``ParsedGroupVersions``       never
   ``NamespaceDeletionContentFailure``               ``ContentDeleted``            ``ContentDeletionFailed``
   ``NamespaceContentRemaining``                     ``ContentRemoved``            ``SomeResourcesRemain``
   ``NamespaceFinalizersRemaining``                  ``ContentHasNoFinalizers``    ``SomeFinalizersRemain``
   ================================================  ============================  =========================

   "Remaining" content is what will still exist after this plan's deletes: objects with
   finalizers, objects already terminating, and bound pods that are not finished (graceful
   deletion). Messages follow upstream: "Some resources are remaining: deployments.apps has 1
   resource instances, pods. has 2 resource instances" (resource, a dot, the group: empty for
   the core group), "Some content in the namespace has finalizers remaining:
   foregroundDeletion in 1 resource instances". Content that lingers past its estimate with no
   finalizer to explain it sets ``NamespaceDeletionContentFailure`` to ``True``
   (``ContentDeletionFailed``, "Failed to delete all resource types, 1 remaining: unexpected
   items still remain in namespace: shop for gvr: /v1, Resource=pods"): pods stuck on a dead
   node show up that way.
3. Once the namespace is observed empty, ``kubernetes`` is removed from ``spec.finalizers``.
   This is a ``Patch`` of ``{"spec": {"finalizers": [...]}}`` on the namespace itself (Kubernetes
   uses the ``/finalize`` subresource; Kubarium's store accepts the change on the object and
   removes a terminating namespace whose finalizers are all gone). The list is written even
   when empty: ``[]``, not ``null``, because a missing list would be defaulted back to
   ``["kubernetes"]``.

Requeue: while any content is still observed, after ``estimate // 2 + 1`` seconds, as the namespace
controller does with a ``ResourcesRemainingError``. The estimate is the longest
``terminationGracePeriodSeconds`` of the unfinished pods (0 once that long has passed since the
namespace's deletion), or 15 s when something waits on finalizers. Worked example: pods with a
30 s grace period, namespace deleted 10 s ago: estimate 30, look again in ``30 // 2 + 1 = 16`` s.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cluster.controllers.actions import Action, Delete, Patch, Plan, UpdateStatus
from cluster.controllers.podutil import format_time, is_terminal, is_terminating, meta, parse_time
from cluster.store import kinds

__all__ = ["FINALIZER_KUBERNETES", "namespace_conditions", "plan_namespace"]

FINALIZER_KUBERNETES = "kubernetes"
# finalizerEstimateSeconds: how long to wait for finalizers before looking again.
FINALIZER_ESTIMATE_SECONDS = 15
DEFAULT_GRACE_SECONDS = 30

CONDITION_TYPES = (
    "NamespaceDeletionDiscoveryFailure",
    "NamespaceDeletionGroupVersionParsingFailure",
    "NamespaceDeletionContentFailure",
    "NamespaceContentRemaining",
    "NamespaceFinalizersRemaining",
)
OK_REASONS = {
    "NamespaceDeletionDiscoveryFailure": "ResourcesDiscovered",
    "NamespaceDeletionGroupVersionParsingFailure": "ParsedGroupVersions",
    "NamespaceDeletionContentFailure": "ContentDeleted",
    "NamespaceContentRemaining": "ContentRemoved",
    "NamespaceFinalizersRemaining": "ContentHasNoFinalizers",
}
OK_MESSAGES = {
    "NamespaceDeletionDiscoveryFailure": "All resources successfully discovered",
    "NamespaceDeletionGroupVersionParsingFailure": "All legacy kube types successfully parsed",
    "NamespaceDeletionContentFailure": (
        "All content successfully deleted, may be waiting on finalization"
    ),
    "NamespaceContentRemaining": "All content successfully removed",
    "NamespaceFinalizersRemaining": "All content-preserving finalizers finished",
}


def _resource(kind: str) -> tuple[str, str, str]:
    """(group, version, plural) of a kind, from the store's registry."""
    try:
        found = kinds.by_kind(kind)
    except kinds.UnknownKind:
        return "", "v1", kind.lower() + "s"
    return found.group, found.version, found.plural


def _lingers(obj: Mapping[str, Any]) -> bool:
    """Whether ``obj`` will still exist right after it is deleted."""
    if meta(obj).get("finalizers") or is_terminating(obj):
        return True
    if obj.get("kind") == "Pod":
        return bool((obj.get("spec") or {}).get("nodeName")) and not is_terminal(obj)
    return False


def _grace_estimate(
    pods: Iterable[Mapping[str, Any]], deleted_at: dt.datetime | None, now: dt.datetime
) -> int:
    """``estimateGracefulTerminationForPods``, zeroed once that long has passed since the
    namespace was deleted."""
    estimate = 0
    for pod in pods:
        if is_terminal(pod):
            continue
        grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
        estimate = max(estimate, int(DEFAULT_GRACE_SECONDS if grace is None else grace))
    if deleted_at is not None and (now - deleted_at).total_seconds() >= estimate:
        return 0
    return estimate


def namespace_conditions(
    name: str,
    remaining: Mapping[str, Sequence[Mapping[str, Any]]],
    deleted_at: dt.datetime | None,
    now: dt.datetime,
) -> tuple[dict[str, dict[str, str]], int]:
    """The failing conditions (type -> status/reason/message) for ``remaining`` content, by
    kind, and the estimate in seconds (``deleteAllContent``)."""
    failing: dict[str, dict[str, str]] = {}
    counts: list[str] = []
    by_finalizer: Counter[str] = Counter()
    errors: list[str] = []
    estimate = 0
    for kind, objects in remaining.items():
        if not objects:
            continue
        group, version, plural = _resource(kind)
        counts.append(f"{plural}.{group} has {len(objects)} resource instances")
        finalizers = Counter(str(f) for obj in objects for f in meta(obj).get("finalizers") or [])
        by_finalizer.update(finalizers)
        kind_estimate = _grace_estimate(objects, deleted_at, now) if kind == "Pod" else 0
        if kind_estimate:
            estimate = max(estimate, kind_estimate)
        elif finalizers:
            estimate = max(estimate, FINALIZER_ESTIMATE_SECONDS)
        else:
            errors.append(
                f"unexpected items still remain in namespace: {name} for gvr: "
                f"{group}/{version}, Resource={plural}"
            )
    if counts:
        failing["NamespaceContentRemaining"] = {
            "status": "True",
            "reason": "SomeResourcesRemain",
            "message": "Some resources are remaining: " + ", ".join(sorted(counts)),
        }
    if by_finalizer:
        parts = sorted(f"{f} in {n} resource instances" for f, n in by_finalizer.items())
        failing["NamespaceFinalizersRemaining"] = {
            "status": "True",
            "reason": "SomeFinalizersRemain",
            "message": "Some content in the namespace has finalizers remaining: "
            + ", ".join(parts),
        }
    if errors:
        failing["NamespaceDeletionContentFailure"] = {
            "status": "True",
            "reason": "ContentDeletionFailed",
            "message": f"Failed to delete all resource types, {len(errors)} remaining: "
            + ", ".join(sorted(errors)),
        }
    return failing, estimate


def _merged_conditions(
    old: Sequence[Mapping[str, Any]], failing: Mapping[str, Mapping[str, str]], now_stamp: str
) -> list[dict[str, Any]]:
    """``updateConditions``: each owned type set to its failure or its ok variant; the
    transition time moves only when the status does; other types are kept."""
    conditions = [dict(c) for c in old]
    for kind in CONDITION_TYPES:
        wanted = failing.get(kind) or {
            "status": "False",
            "reason": OK_REASONS[kind],
            "message": OK_MESSAGES[kind],
        }
        index = next((i for i, c in enumerate(conditions) if c.get("type") == kind), None)
        if index is None:
            conditions.append({"type": kind, **wanted, "lastTransitionTime": now_stamp})
            continue
        current = conditions[index]
        if all(current.get(field) == wanted[field] for field in ("status", "reason", "message")):
            continue
        updated = {**current, **wanted}
        if current.get("status") != wanted["status"]:
            updated["lastTransitionTime"] = now_stamp
        conditions[index] = updated
    return conditions


def plan_namespace(
    namespace: Mapping[str, Any],
    contents: Mapping[str, Sequence[Mapping[str, Any]]],
    now: dt.datetime | None = None,
) -> Plan:
    """Plan one reconcile of ``namespace``.

    ``contents`` maps a kind (``"Pod"``, ``"Deployment"``...) to the objects of that kind in the
    namespace. ``now`` stamps condition transitions and ages the pods' grace estimate; it
    defaults to the namespace's ``deletionTimestamp``. A namespace that is not being deleted,
    or is already finalized, needs nothing.
    """
    deleted_at = parse_time(meta(namespace).get("deletionTimestamp"))
    if deleted_at is None:
        return Plan()
    spec_finalizers = [str(f) for f in (namespace.get("spec") or {}).get("finalizers") or []]
    if FINALIZER_KUBERNETES not in spec_finalizers:
        return Plan()
    now = now or deleted_at
    name = str(meta(namespace).get("name", ""))
    actions: list[Action] = []
    notes: list[str] = []

    remaining: dict[str, list[Mapping[str, Any]]] = {}
    present = 0
    for kind, objects in contents.items():
        for obj in sorted(objects, key=lambda o: str(meta(o).get("name", ""))):
            present += 1
            obj_kind = str(obj.get("kind") or kind)
            if not is_terminating(obj):
                actions.append(
                    Delete(obj_kind, name, str(meta(obj).get("name", "")), meta(obj).get("uid"))
                )
            if _lingers({**obj, "kind": obj_kind}):
                remaining.setdefault(obj_kind, []).append(obj)
    if actions:
        notes.append(f"Deleting {len(actions)} object(s) in namespace {name}")

    failing, estimate = namespace_conditions(name, remaining, deleted_at, now)
    old_status = dict(namespace.get("status") or {})
    status = {
        **old_status,
        "phase": "Terminating",
        "conditions": _merged_conditions(
            old_status.get("conditions") or [], failing, format_time(now)
        ),
    }
    if status != old_status:
        actions.append(
            UpdateStatus("Namespace", "", name, status, meta(namespace).get("resourceVersion"))
        )

    if present:
        return Plan.of(actions, float(estimate // 2 + 1), notes)

    keep = sorted({f for f in spec_finalizers if f != FINALIZER_KUBERNETES})
    preconditions = {"uid": meta(namespace)["uid"]} if meta(namespace).get("uid") else {}
    actions.append(
        Patch("Namespace", "", name, {"metadata": preconditions, "spec": {"finalizers": keep}})
    )
    notes.append(f"Namespace {name} is empty: finalizing")
    return Plan.of(actions, notes=notes)
