"""The StatefulSet controller's planner (``pkg/controller/statefulset``), as a pure function.

Identity: pod ``<set>-<ordinal>`` for ordinals ``start .. start + replicas - 1`` (``start`` is
``spec.ordinals.start``, default 0), labelled ``statefulset.kubernetes.io/pod-name: <pod>`` and
``apps.kubernetes.io/pod-index: <ordinal>``, with ``hostname: <pod>`` and
``subdomain: <serviceName>`` so that its DNS name is ``<pod>.<svc>.<ns>.svc.cluster.local``.

Storage: one PersistentVolumeClaim per ``volumeClaimTemplates`` entry, named
``<template>-<set>-<ordinal>`` (``data-db-0``), labelled with the set's ``matchLabels``, created
*before* its pod and never deleted by this controller (retention policy ``Retain``); the pod
mounts it through a volume named after the template.

Revisions: Kubernetes stores templates in ControllerRevision objects; Kubarium has no such kind,
so a revision is named ``<set>-<hash>`` with ``hash`` =
:func:`cluster.controllers.podutil.compute_hash` of ``spec.template`` and
``status.collisionCount``. Pods carry ``controller-revision-hash: <revision>``. The *update*
revision is the current template's; the *current* revision is ``status.currentRevision`` (or the
update revision on the first sync). To recreate a missing pod below the partition at the current
revision, pass ``revisions={name: template}``; without it such a pod is created from the current
template (the only place Kubarium differs).

One reconcile, as upstream's ``updateStatefulSet`` (non-MaxUnavailable path):

1. Claim pods named ``<set>-<n>`` that the selector matches; split them into *replicas*
   (ordinal in range) and *condemned* (ordinal beyond it, highest first).
2. For each replica slot in ordinal order: a Failed/Succeeded pod is deleted (it comes back
   next time); a missing pod is created with its claims first. With ``OrderedReady`` (the
   default) processing stops at the first pod created, or the first pod that is terminating,
   not Running and Ready, or not yet available: pod N is only created once 0..N-1 are Running,
   Ready and available. With ``Parallel`` every slot is handled at once.
3. Condemned pods are deleted from the highest ordinal down, one at a time with
   ``OrderedReady`` (waiting for termination, and for the pod to be Running and Ready unless it
   is the first unhealthy one), all at once with ``Parallel``.
4. ``RollingUpdate``: from the highest ordinal down to ``partition``, delete the first pod
   whose revision is not the update revision (one per reconcile) and wait while a pod on the
   way is unhealthy; the replacement is created at the update revision. ``OnDelete`` stops here.

Status: ``replicas``, ``readyReplicas``, ``availableReplicas``, ``currentReplicas``,
``updatedReplicas``, ``currentRevision``, ``updateRevision``, ``observedGeneration``; once every
pod is updated and ready, ``currentRevision`` becomes the update revision. Events:
``SuccessfulCreate`` "create Claim data-db-0 Pod db-0 in StatefulSet db success" and "create Pod
db-0 in StatefulSet db successful"; ``SuccessfulDelete`` "delete Pod db-2 in StatefulSet db
successful".
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cluster.controllers.actions import (
    NORMAL,
    WARNING,
    Action,
    Create,
    Delete,
    Event,
    Patch,
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
    is_pod_available,
    is_pod_ready,
    is_terminating,
    labels_of,
    meta,
    pod_from_template,
    pod_phase,
    status_differs,
    without_zeros,
)

__all__ = [
    "POD_INDEX_LABEL",
    "POD_NAME_LABEL",
    "claim_name",
    "plan_statefulset",
    "revision_name",
    "statefulset_pod",
]

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
_ORDINAL_RE = re.compile(r"^(.*)-([0-9]+)$")


# ------------------------------------------------------------------------------------ helpers


def _spec(sts: Mapping[str, Any]) -> Mapping[str, Any]:
    return sts.get("spec") or {}


def _replicas(sts: Mapping[str, Any]) -> int:
    value = _spec(sts).get("replicas")
    return 1 if value is None else int(value)


def _start_ordinal(sts: Mapping[str, Any]) -> int:
    return int((_spec(sts).get("ordinals") or {}).get("start") or 0)


def _monotonic(sts: Mapping[str, Any]) -> bool:
    """OrderedReady (the default) handles one pod at a time; Parallel bursts."""
    return _spec(sts).get("podManagementPolicy", "OrderedReady") != "Parallel"


def _update_strategy(sts: Mapping[str, Any]) -> tuple[str, int]:
    """(type, partition): RollingUpdate with partition 0 unless the spec says otherwise."""
    strategy = _spec(sts).get("updateStrategy") or {}
    kind = strategy.get("type") or "RollingUpdate"
    partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
    return kind, partition


def parent_and_ordinal(pod: Mapping[str, Any]) -> tuple[str, int]:
    """``getParentNameAndOrdinal``: ``db-12`` -> ("db", 12); no ordinal -> ("", -1)."""
    match = _ORDINAL_RE.match(str(meta(pod).get("name", "")))
    if not match:
        return "", -1
    return match.group(1), int(match.group(2))


def revision_name(sts: Mapping[str, Any], template: Mapping[str, Any] | None = None) -> str:
    """``<set>-<hash>`` of ``template`` (default: the set's) and ``status.collisionCount``."""
    if template is None:
        template = _spec(sts).get("template") or {}
    collision = (sts.get("status") or {}).get("collisionCount")
    return f"{meta(sts).get('name', '')}-{compute_hash(template, collision)}"


def claim_name(template_name: str, sts: Mapping[str, Any], ordinal: int) -> str:
    """``getPersistentVolumeClaimName``: ``data`` + ``db`` + 0 -> ``data-db-0``."""
    return f"{template_name}-{meta(sts).get('name', '')}-{ordinal}"


def _claims(sts: Mapping[str, Any], ordinal: int) -> list[dict[str, Any]]:
    """``getPersistentVolumeClaims``: the claims the pod with ``ordinal`` needs."""
    match_labels = dict((_spec(sts).get("selector") or {}).get("matchLabels") or {})
    claims = []
    for template in _spec(sts).get("volumeClaimTemplates") or []:
        template_meta = template.get("metadata") or {}
        name = claim_name(str(template_meta.get("name", "")), sts, ordinal)
        claim_meta: dict[str, Any] = {"name": name, "namespace": meta(sts).get("namespace", "")}
        labels = template_meta.get("labels")
        claim_meta["labels"] = {**labels, **match_labels} if labels else dict(match_labels)
        if template_meta.get("annotations"):
            claim_meta["annotations"] = dict(template_meta["annotations"])
        claims.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": claim_meta,
                "spec": copy.deepcopy(dict(template.get("spec") or {})),
                "_template": str(template_meta.get("name", "")),
            }
        )
    return claims


def statefulset_pod(
    sts: Mapping[str, Any], ordinal: int, revision: str, template: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``newVersionedStatefulSetPod``: the pod for ``ordinal`` at ``revision``.

    Name ``<set>-<ordinal>``, identity labels, ``controller-revision-hash``, hostname and
    subdomain, and one PVC volume per claim template ahead of the template's other volumes.
    """
    template = template if template is not None else (_spec(sts).get("template") or {})
    name = f"{meta(sts).get('name', '')}-{ordinal}"
    pod = pod_from_template(template, sts, name=name)
    labels = pod["metadata"].setdefault("labels", {})
    labels[POD_NAME_LABEL] = name
    labels[POD_INDEX_LABEL] = str(ordinal)
    labels[CONTROLLER_REVISION_HASH_LABEL] = revision
    spec = pod["spec"]
    spec["hostname"] = name
    if _spec(sts).get("serviceName"):
        spec["subdomain"] = _spec(sts)["serviceName"]
    claim_volumes = [
        {
            "name": claim["_template"],
            "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]},
        }
        for claim in _claims(sts, ordinal)
    ]
    taken = {volume["name"] for volume in claim_volumes}
    others = [volume for volume in spec.get("volumes") or [] if volume.get("name") not in taken]
    if claim_volumes or others:
        spec["volumes"] = claim_volumes + others
    return pod


def _is_created(pod: Mapping[str, Any] | None) -> bool:
    """``isCreated``: the pod exists and has a phase."""
    return pod is not None and bool(pod_phase(pod))


def _running_and_ready(pod: Mapping[str, Any] | None) -> bool:
    return pod is not None and pod_phase(pod) == "Running" and is_pod_ready(pod)


def _running_and_available(pod: Mapping[str, Any] | None, min_ready: int, now: dt.datetime) -> bool:
    return pod is not None and pod_phase(pod) == "Running" and is_pod_available(pod, min_ready, now)


def _healthy(pod: Mapping[str, Any] | None) -> bool:
    """``isHealthy``: Running and Ready, and not being deleted."""
    return _running_and_ready(pod) and not is_terminating(pod or {})


def _revision_of(pod: Mapping[str, Any] | None) -> str:
    return labels_of(pod or {}).get(CONTROLLER_REVISION_HASH_LABEL, "")


# ------------------------------------------------------------------------------------- the sync


@dataclass
class _Sync:
    sts: Mapping[str, Any]
    now: dt.datetime
    pvcs: dict[str, Mapping[str, Any]]
    current_revision: str
    update_revision: str
    templates: dict[str, Mapping[str, Any]]
    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    failed: bool = False

    @property
    def name(self) -> str:
        return str(meta(self.sts).get("name", ""))

    @property
    def namespace(self) -> str:
        return str(meta(self.sts).get("namespace", ""))

    @property
    def involved(self) -> dict[str, Any]:
        return object_reference(self.sts)

    def pod_event(self, verb: str, pod_name: str) -> tuple[tuple[Event, ...], tuple[Event, ...]]:
        """``recordPodEvent``: (success events, failure events) for ``verb`` on a pod."""
        success = Event(
            self.involved,
            NORMAL,
            f"Successful{verb.title()}",
            f"{verb} Pod {pod_name} in StatefulSet {self.name} successful",
        )
        failure = Event(
            self.involved,
            WARNING,
            f"Failed{verb.title()}",
            f"{verb} Pod {pod_name} in StatefulSet {self.name} failed error: {{error}}",
        )
        return (success,), (failure,)

    def delete_pod(self, pod: Mapping[str, Any]) -> None:
        pod_name = str(meta(pod).get("name", ""))
        success, failure = self.pod_event("delete", pod_name)
        self.actions.append(
            Delete("Pod", self.namespace, pod_name, meta(pod).get("uid"), success, failure)
        )
        self.deleted.add(pod_name)

    def create_missing_claims(self, ordinal: int, pod_name: str) -> bool:
        """Create the pod's missing PVCs; False when one is being deleted (no pod then)."""
        ok = True
        for pvc in _claims(self.sts, ordinal):
            pvc_name = pvc["metadata"]["name"]
            existing = self.pvcs.get(pvc_name)
            if existing is None:
                body = {key: value for key, value in pvc.items() if key != "_template"}
                self.actions.append(
                    Create(
                        body,
                        on_success=(
                            Event(
                                self.involved,
                                NORMAL,
                                "SuccessfulCreate",
                                f"create Claim {pvc_name} Pod {pod_name} in StatefulSet "
                                f"{self.name} success",
                            ),
                        ),
                        on_failure=(
                            Event(
                                self.involved,
                                WARNING,
                                "FailedCreate",
                                f"create Claim {pvc_name} for Pod {pod_name} in StatefulSet "
                                f"{self.name} failed error: {{error}}",
                            ),
                        ),
                    )
                )
                self.pvcs[pvc_name] = body
            elif is_terminating(existing):
                ok = False
                self.actions.append(
                    Event(
                        self.involved,
                        WARNING,
                        "FailedCreate",
                        f"create Pod {pod_name} in StatefulSet {self.name} failed error: "
                        f"pvc {pvc_name} is being deleted",
                    )
                )
        return ok

    def create_pod(self, ordinal: int) -> bool:
        """``CreateStatefulPod``: claims first, then the pod. False if it could not be made."""
        kind, partition = _update_strategy(self.sts)
        revision = self.update_revision
        start = _start_ordinal(self.sts)
        if (
            kind == "RollingUpdate"
            and ordinal - start < partition
            and self.current_revision != self.update_revision
        ):
            revision = self.current_revision
        template = self.templates.get(revision) or _spec(self.sts).get("template") or {}
        pod = statefulset_pod(self.sts, ordinal, revision, template)
        pod_name = pod["metadata"]["name"]
        if not self.create_missing_claims(ordinal, pod_name):
            self.failed = True
            return False
        success, failure = self.pod_event("create", pod_name)
        self.actions.append(Create(pod, success, failure))
        return True


def _identity_matches(sts: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    parent, ordinal = parent_and_ordinal(pod)
    labels = labels_of(pod)
    name = str(meta(pod).get("name", ""))
    return (
        ordinal >= 0
        and parent == meta(sts).get("name")
        and meta(pod).get("namespace", "") == meta(sts).get("namespace", "")
        and labels.get(POD_NAME_LABEL) == name
        and labels.get(POD_INDEX_LABEL) == str(ordinal)
    )


def _process_replica(
    sync: _Sync, slot: Mapping[str, Any] | None, ordinal: int, monotonic: bool
) -> bool:
    """``processReplica``; True means "stop here" (in OrderedReady mode)."""
    sts = sync.sts
    min_ready = int(_spec(sts).get("minReadySeconds") or 0)
    pod_name = f"{sync.name}-{ordinal}"
    if slot is not None and pod_phase(slot) in ("Failed", "Succeeded"):
        if not is_terminating(slot):
            sync.delete_pod(slot)
            sync.notes.append(f"Pod {pod_name} has finished running: deleting it to recreate it")
        return True
    if slot is None:
        if not sync.create_pod(ordinal):
            return True
        if monotonic:
            sync.notes.append(f"Created {pod_name}; waiting for it before going on")
            return True
        return False
    if pod_phase(slot) == "Pending":
        sync.create_missing_claims(ordinal, pod_name)
    if is_terminating(slot) and monotonic:
        sync.notes.append(f"StatefulSet is waiting for Pod {pod_name} to Terminate")
        return True
    if not _running_and_ready(slot) and monotonic:
        sync.notes.append(f"StatefulSet is waiting for Pod {pod_name} to be Running and Ready")
        return True
    if not _running_and_available(slot, min_ready, sync.now) and monotonic:
        sync.notes.append(f"StatefulSet is waiting for Pod {pod_name} to be Available")
        return True
    if not _identity_matches(sts, slot):
        success, failure = sync.pod_event("update", pod_name)
        sync.actions.append(
            Patch(
                "Pod",
                sync.namespace,
                pod_name,
                {
                    "metadata": {
                        "uid": meta(slot).get("uid"),
                        "labels": {POD_NAME_LABEL: pod_name, POD_INDEX_LABEL: str(ordinal)},
                    }
                },
                success,
                failure,
            )
        )
    return False


def _process_condemned(
    sync: _Sync, pod: Mapping[str, Any], first_unhealthy: Mapping[str, Any] | None, monotonic: bool
) -> bool:
    """``processCondemned``; True means "stop here" (in OrderedReady mode)."""
    name = str(meta(pod).get("name", ""))
    min_ready = int(_spec(sync.sts).get("minReadySeconds") or 0)
    if is_terminating(pod):
        if monotonic:
            sync.notes.append(
                f"StatefulSet is waiting for Pod {name} to Terminate prior to scale down"
            )
        return monotonic
    is_first_unhealthy = first_unhealthy is not None and meta(first_unhealthy).get("name") == name
    if not _running_and_ready(pod) and monotonic and not is_first_unhealthy:
        sync.notes.append(
            f"StatefulSet is waiting for Pod {name} to be Running and Ready prior to scale down"
        )
        return True
    if (
        not _running_and_available(pod, min_ready, sync.now)
        and monotonic
        and not is_first_unhealthy
    ):
        sync.notes.append(
            f"StatefulSet is waiting for Pod {name} to be Available prior to scale down"
        )
        return True
    sync.delete_pod(pod)
    sync.notes.append(f"Pod {name} of StatefulSet is terminating for scale down")
    return True


def _status(
    sync: _Sync, slots: Sequence[Mapping[str, Any] | None], condemned: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """``updateStatus`` over replicas and condemned pods (pods not yet created do not count)."""
    min_ready = int(_spec(sync.sts).get("minReadySeconds") or 0)
    counts = {"replicas": 0, "ready": 0, "available": 0, "current": 0, "updated": 0}
    for pod in [*slots, *condemned]:
        if not _is_created(pod):
            continue
        assert pod is not None
        counts["replicas"] += 1
        if _running_and_ready(pod):
            counts["ready"] += 1
            if _running_and_available(pod, min_ready, sync.now):
                counts["available"] += 1
        if not is_terminating(pod):
            revision = _revision_of(pod)
            if revision == sync.current_revision:
                counts["current"] += 1
            if revision == sync.update_revision:
                counts["updated"] += 1
    old = sync.sts.get("status") or {}
    status: dict[str, Any] = {
        "observedGeneration": meta(sync.sts).get("generation"),
        "replicas": counts["replicas"],
        "readyReplicas": counts["ready"],
        "currentReplicas": counts["current"],
        "updatedReplicas": counts["updated"],
        "currentRevision": sync.current_revision,
        "updateRevision": sync.update_revision,
        "availableReplicas": counts["available"],
    }
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if old.get("conditions"):
        status["conditions"] = old["conditions"]
    return status


def _complete_rolling_update(sts: Mapping[str, Any], status: dict[str, Any]) -> None:
    """``completeRollingUpdate``: every pod updated and ready -> the update is current."""
    kind, _ = _update_strategy(sts)
    if (
        kind == "RollingUpdate"
        and status["updatedReplicas"] == status["replicas"]
        and status["readyReplicas"] == status["replicas"]
    ):
        status["currentReplicas"] = status["updatedReplicas"]
        status["currentRevision"] = status["updateRevision"]


def _requeue(
    sts: Mapping[str, Any], pods: Sequence[Mapping[str, Any] | None], now: dt.datetime
) -> float | None:
    min_ready = int(_spec(sts).get("minReadySeconds") or 0)
    if not min_ready:
        return None
    waits = []
    for pod in pods:
        if pod is not None and is_pod_ready(pod) and not is_pod_available(pod, min_ready, now):
            when = available_at(pod, min_ready)
            if when is not None:
                waits.append(max((when - now).total_seconds(), 0.0))
    return float(math.ceil(min(waits))) if waits else None


def plan_statefulset(
    sts: Mapping[str, Any],
    pods: Sequence[Mapping[str, Any]],
    pvcs: Sequence[Mapping[str, Any]],
    now: dt.datetime,
    *,
    revisions: Mapping[str, Mapping[str, Any]] | None = None,
) -> Plan:
    """Plan one reconcile of ``sts`` given the pods and PVCs of its namespace.

    ``revisions`` maps revision names to their pod templates, for pods that must be recreated at
    the current (older) revision below a partition.
    """
    now = as_utc(now)
    name = str(meta(sts).get("name", ""))
    namespace = str(meta(sts).get("namespace", ""))
    update_revision = revision_name(sts)
    current_revision = str((sts.get("status") or {}).get("currentRevision") or update_revision)
    templates: dict[str, Mapping[str, Any]] = dict(revisions or {})
    templates[update_revision] = _spec(sts).get("template") or {}
    sync = _Sync(
        sts=sts,
        now=now,
        pvcs={
            str(meta(pvc).get("name", "")): pvc
            for pvc in pvcs
            if meta(pvc).get("namespace", "") == namespace
        },
        current_revision=current_revision,
        update_revision=update_revision,
        templates=templates,
    )

    claimed = claim(
        sts,
        pods,
        _spec(sts).get("selector"),
        extra_match=lambda pod: parent_and_ordinal(pod)[0] == name,
    )
    sync.actions.extend(claimed.patches)

    start, count = _start_ordinal(sts), _replicas(sts)
    slots: list[Mapping[str, Any] | None] = [None] * count
    condemned: list[Mapping[str, Any]] = []
    for pod in claimed.owned:
        _, ordinal = parent_and_ordinal(pod)
        if start <= ordinal < start + count:
            slots[ordinal - start] = pod
        elif ordinal >= 0:
            condemned.append(pod)
    condemned.sort(key=lambda pod: parent_and_ordinal(pod)[1], reverse=True)

    # The first unhealthy pod in ordinal order: a missing replica counts (and is no condemned
    # pod), then the condemned pods from the lowest ordinal up.
    first_unhealthy: Mapping[str, Any] | None = None
    if all(_healthy(slot) for slot in slots):
        first_unhealthy = next((pod for pod in reversed(condemned) if not _healthy(pod)), None)

    monotonic = _monotonic(sts)
    stopped = bool(meta(sts).get("deletionTimestamp"))
    if not stopped:
        for index, slot in enumerate(slots):
            if _process_replica(sync, slot, start + index, monotonic) and monotonic:
                stopped = True
                break
            if sync.failed:
                stopped = True
                break
    if not stopped:
        for pod in condemned:
            if _process_condemned(sync, pod, first_unhealthy, monotonic) and monotonic:
                stopped = True
                break

    status = _status(sync, slots, condemned)
    kind, partition = _update_strategy(sts)
    if not stopped and kind == "RollingUpdate":
        for index in range(len(slots) - 1, partition - 1, -1):
            pod = slots[index]
            if pod is None or pod.get("metadata", {}).get("name") in sync.deleted:
                break
            if _revision_of(pod) != update_revision and not is_terminating(pod):
                sync.delete_pod(pod)
                sync.notes.append(
                    f"Pod {meta(pod).get('name')} of StatefulSet is terminating for update"
                )
                status["currentReplicas"] -= 1
                break
            if not _healthy(pod):
                sync.notes.append(
                    f"StatefulSet is waiting for Pod {meta(pod).get('name')} to update"
                )
                break

    _complete_rolling_update(sts, status)
    status = without_zeros(status, required=("replicas", "availableReplicas", "collisionCount"))
    if status_differs(sts.get("status"), status):
        sync.actions.append(
            UpdateStatus("StatefulSet", namespace, name, status, meta(sts).get("resourceVersion"))
        )
    return Plan.of(sync.actions, _requeue(sts, [*slots, *condemned], now), sync.notes)
