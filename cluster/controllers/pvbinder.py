"""The PersistentVolume controller's planner (``pkg/controller/volume/persistentvolume``).

One reconcile covers every claim and volume (the binder must see them all to avoid giving one
volume to two claims). Claims are handled oldest first, then the volumes nobody touched.

**Claims** (``syncClaim``). A claim without the ``pv.kubernetes.io/bind-completed`` annotation
is *unbound*:

* Its class is ``spec.storageClassName``; when that field is absent, the default StorageClass
  (annotation ``storageclass.kubernetes.io/is-default-class: "true"``; the newest when several,
  then by name) stands in, and is written to the claim, as the ``DefaultStorageClass``
  admission plugin and the controller's retroactive assignment would. ``""`` means "no class".
* Without ``spec.volumeName`` it gets the best matching volume: ``Available``, not claimed (or
  pre-bound to this claim, which always wins), not being deleted, same class, same
  ``volumeMode``, matching ``spec.selector``, offering every requested access mode and at least
  the requested storage. Among those the one with the fewest access modes, then the smallest,
  then the first by name (upstream's index by access modes, then ``FindMatchingVolume``).
  Worked example: a claim for 3Gi RWO with volumes of 10Gi (RWO), 5Gi (RWO, RWX) and 4Gi
  (RWO): the 4Gi one (one mode, smallest).
* No match: with ``volumeBindingMode: WaitForFirstConsumer`` and no node chosen yet, it waits
  (``WaitForFirstConsumer`` "waiting for first consumer to be created before binding", or
  ``WaitForPodScheduled`` "waiting for pod web-0 to be scheduled" while a pod using it is
  pending). Otherwise, with a class, a volume is provisioned: ``pvc-<claim uid>``, a
  ``hostPath`` under ``/var/lib/kubarium/pv/``, the claim's size, modes and volume mode, the
  class's reclaim policy (default ``Delete``) and mount options, annotation
  ``pv.kubernetes.io/provisioned-by``, node affinity to the chosen node under
  WaitForFirstConsumer, and bound at once: ``ProvisioningSucceeded`` "Successfully provisioned
  volume pvc-... using kubarium.io/simulated". A missing class is ``ProvisioningFailed``
  (``storageclass.storage.k8s.io "fast" not found``); ``kubernetes.io/no-provisioner`` only
  records ``ExternalProvisioning``. Without a class: ``FailedBinding`` "no persistent volumes
  available for this claim and no storage class is set".
* With ``spec.volumeName`` the user chose the volume: it is bound if free and suitable
  (``VolumeMismatch`` "Cannot bind to requested volume "pv1": requested PV is too small"
  otherwise), or if pre-bound to this claim; claimed by another claim it is ``FailedBinding``
  "volume "pv1" already bound to a different claim.".

A *bound* claim whose volume is gone becomes ``Lost`` (``ClaimLost`` "Bound claim has lost its
PersistentVolume. Data on the volume is lost!"); whose volume names another claim, ``Lost``
with ``ClaimMisbound``. A bound claim is re-bound idempotently, repairing whatever half of the
binding is missing.

**Binding** (``bind``), in upstream's order: the volume's ``spec.claimRef`` (and
``pv.kubernetes.io/bound-by-controller: "yes"`` when the controller chose it), its status
``Bound``; the claim's ``spec.volumeName`` (with ``bound-by-controller``), annotation
``pv.kubernetes.io/bind-completed: "yes"``, then its status ``Bound`` with the volume's access
modes and capacity. Only the parts that differ are written.

**Volumes** (``syncVolume``): unclaimed, or pre-bound to a claim without uid, is ``Available``;
claimed by a claim that exists and names it, ``Bound``. Claimed by a claim that is gone (or was
recreated with another uid) it is ``Released`` and its reclaim policy runs: ``Retain`` keeps
it, ``Delete`` deletes it, ``Recycle`` scrubs it (``VolumeRecycled`` "Volume recycled") and
makes it ``Available`` again; an unknown policy is ``Failed`` (``VolumeUnknownReclaimPolicy``).

Kubarium's simplifications: binding under WaitForFirstConsumer happens here once a node is
known (the scheduler's VolumeBinding plugin is not modelled); the node comes from the claim's
``volume.kubernetes.io/selected-node`` annotation or from a scheduled pod that uses the claim
(the annotation is then written, as the scheduler would). Volume node affinity is not checked.
Every provisioner except ``kubernetes.io/no-provisioner`` is simulated in-tree. The volume's
``status.lastPhaseTransitionTime`` (set by the API server since 1.31) is written here. Claims
being deleted are neither bound nor provisioned.
"""

from __future__ import annotations

import copy
import datetime as dt
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
from cluster.controllers.podutil import creation_time, format_time, is_terminating, meta
from cluster.quantity import Quantity, QuantityError
from cluster.store.selectors import matches_selector_dict

__all__ = [
    "ANN_BIND_COMPLETED",
    "ANN_BOUND_BY_CONTROLLER",
    "ANN_PROVISIONED_BY",
    "ANN_SELECTED_NODE",
    "HOSTPATH_ROOT",
    "default_storage_class",
    "plan_pv_binder",
]

ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANN_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
ANN_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
ANN_BETA_DEFAULT_CLASS = "storageclass.beta.kubernetes.io/is-default-class"
NO_PROVISIONER = "kubernetes.io/no-provisioner"
HOSTPATH_ROOT = "/var/lib/kubarium/pv"

MSG_NO_CLASS = "no persistent volumes available for this claim and no storage class is set"
MSG_WAIT_CONSUMER = "waiting for first consumer to be created before binding"
MSG_EXTERNAL = (
    "Waiting for a volume to be created either by the external provisioner '{provisioner}' or "
    "manually by the system administrator. If volume creation is delayed, please verify that "
    "the provisioner is running and correctly registered."
)
MSG_LOST = "Bound claim has lost its PersistentVolume. Data on the volume is lost!"
MSG_LOST_REFERENCE = (
    "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!"
)
MSG_MISBOUND = "Two claims are bound to the same volume, this one is bound incorrectly"


# ------------------------------------------------------------------------------------- helpers


def _annotations(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict(meta(obj).get("annotations") or {})


def _name(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("name", ""))


def _namespace(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("namespace", ""))


def _uid(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("uid") or "")


def _storage(resources: Mapping[str, Any] | None) -> int:
    """Bytes of a ``storage`` quantity (rounded up, as ``Quantity.Value()``); 0 if unusable."""
    raw = (resources or {}).get("storage")
    if raw is None:
        return 0
    try:
        return Quantity.parse(raw).value()
    except QuantityError:
        return 0


def _volume_mode(spec: Mapping[str, Any]) -> str:
    return str(spec.get("volumeMode") or "Filesystem")


def _preconditions(obj: Mapping[str, Any]) -> dict[str, Any]:
    found = {"uid": meta(obj).get("uid"), "resourceVersion": meta(obj).get("resourceVersion")}
    return {key: value for key, value in found.items() if value}


def default_storage_class(storage_classes: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """``GetDefaultClass``: of the classes marked default, the newest; ties by name."""
    marked = [
        sc
        for sc in storage_classes
        if _annotations(sc).get(ANN_DEFAULT_CLASS) == "true"
        or _annotations(sc).get(ANN_BETA_DEFAULT_CLASS) == "true"
    ]
    if not marked:
        return None

    def newest_first(sc: Mapping[str, Any]) -> tuple[float, str]:
        created = creation_time(sc)
        return (-(created.timestamp() if created else 0.0), _name(sc))

    return sorted(marked, key=newest_first)[0]


def _claim_ref(claim: Mapping[str, Any]) -> dict[str, Any]:
    """``reference.GetReference`` of a claim, as it goes into ``spec.claimRef``."""
    ref = {
        "kind": "PersistentVolumeClaim",
        "namespace": _namespace(claim),
        "name": _name(claim),
        "uid": _uid(claim),
        "apiVersion": "v1",
        "resourceVersion": meta(claim).get("resourceVersion"),
    }
    return {key: value for key, value in ref.items() if value}


def _bound_to_claim(volume: Mapping[str, Any], claim: Mapping[str, Any]) -> bool:
    """``IsVolumeBoundToClaim``: claimRef names the claim and (if it has one) its uid."""
    ref = (volume.get("spec") or {}).get("claimRef")
    if not ref:
        return False
    if ref.get("name") != _name(claim) or (ref.get("namespace") or "") != _namespace(claim):
        return False
    return not ref.get("uid") or str(ref["uid"]) == _uid(claim)


def _access_modes_ok(claim_spec: Mapping[str, Any], volume_spec: Mapping[str, Any]) -> bool:
    offered = set(volume_spec.get("accessModes") or [])
    return all(mode in offered for mode in claim_spec.get("accessModes") or [])


def _mismatch(volume: Mapping[str, Any], claim: Mapping[str, Any], claim_class: str) -> str:
    """``checkVolumeSatisfyClaim``: why the volume cannot serve the claim, or ``""``."""
    claim_spec = claim.get("spec") or {}
    volume_spec = volume.get("spec") or {}
    if is_terminating(volume):
        return f'the volume is marked for deletion "{_name(volume)}"'
    if _storage(volume_spec.get("capacity")) < _storage(
        (claim_spec.get("resources") or {}).get("requests")
    ):
        return "requested PV is too small"
    if str(volume_spec.get("storageClassName") or "") != claim_class:
        return "storageClassName does not match"
    if _volume_mode(volume_spec) != _volume_mode(claim_spec):
        return "incompatible volumeMode"
    if not _access_modes_ok(claim_spec, volume_spec):
        return "incompatible accessMode"
    return ""


@dataclass
class _World:
    """Working copies: what the cluster will look like as the plan's actions land."""

    volumes: dict[str, dict[str, Any]]
    claims: dict[tuple[str, str], Mapping[str, Any]]
    classes: dict[str, Mapping[str, Any]]
    default_class: Mapping[str, Any] | None
    pods: Sequence[Mapping[str, Any]]
    now_stamp: str
    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)

    def volume_status(self, volume: dict[str, Any], phase: str) -> None:
        """Set a volume's phase, with ``lastPhaseTransitionTime``, if it differs."""
        status = dict(volume.get("status") or {})
        if status.get("phase") == phase:
            return
        new_status = {**status, "phase": phase, "lastPhaseTransitionTime": self.now_stamp}
        new_status.pop("message", None)
        self.actions.append(UpdateStatus("PersistentVolume", "", _name(volume), new_status))
        volume["status"] = new_status


# ------------------------------------------------------------------------------------ matching


def _find_best_match(
    world: _World, claim: Mapping[str, Any], claim_class: str, delay_binding: bool
) -> dict[str, Any] | None:
    """``findBestMatchForClaim`` over the working copies of the volumes."""
    claim_spec = claim.get("spec") or {}
    requested = _storage((claim_spec.get("resources") or {}).get("requests"))
    selector = claim_spec.get("selector")
    candidates: list[tuple[int, int, str]] = []
    for name, volume in sorted(world.volumes.items()):
        volume_spec = volume.get("spec") or {}
        if is_terminating(volume) or _volume_mode(volume_spec) != _volume_mode(claim_spec):
            continue
        if _bound_to_claim(volume, claim):
            return volume
        if delay_binding:
            continue  # only pre-bound volumes until a node is chosen
        if volume_spec.get("claimRef"):
            continue
        if (volume.get("status") or {}).get("phase") not in (None, "", "Pending", "Available"):
            continue
        if selector is not None and not matches_selector_dict(
            selector, meta(volume).get("labels") or {}
        ):
            continue
        if str(volume_spec.get("storageClassName") or "") != claim_class:
            continue
        if not _access_modes_ok(claim_spec, volume_spec):
            continue
        capacity = _storage(volume_spec.get("capacity"))
        if capacity < requested:
            continue
        candidates.append((len(volume_spec.get("accessModes") or []), capacity, name))
    if not candidates:
        return None
    return world.volumes[min(candidates)[2]]


# ------------------------------------------------------------------------------------- binding


def _bind(
    world: _World,
    volume: dict[str, Any],
    claim: Mapping[str, Any],
    claim_patch: Mapping[str, Any],
) -> None:
    """Plan ``bind(volume, claim)``: volume, volume status, claim, claim status.

    ``claim_patch`` holds extra claim changes to write in the same patch (class, annotations).
    """
    planned = len(world.actions)
    claim_ref = _claim_ref(claim)
    volume_name = _name(volume)
    spec = dict(volume.get("spec") or {})
    old_ref = spec.get("claimRef") or {}
    volume_meta: dict[str, Any] = {}
    if not _bound_to_claim(volume, claim) and not _annotations(volume).get(ANN_BOUND_BY_CONTROLLER):
        volume_meta["annotations"] = {ANN_BOUND_BY_CONTROLLER: "yes"}
    if any(old_ref.get(k) != claim_ref.get(k) for k in ("name", "namespace", "uid")):
        spec["claimRef"] = claim_ref
        patch = {"spec": {"claimRef": claim_ref}}
    else:
        patch = {}
    if patch or volume_meta:
        world.actions.append(
            Patch(
                "PersistentVolume",
                "",
                volume_name,
                {"metadata": {**_preconditions(volume), **volume_meta}, **patch},
            )
        )
        volume["spec"] = spec
        if volume_meta:
            volume.setdefault("metadata", {})["annotations"] = {
                **_annotations(volume),
                **volume_meta["annotations"],
            }
    world.volume_status(volume, "Bound")
    world.touched.add(volume_name)

    annotations = dict(claim_patch.get("annotations") or {})
    claim_spec_patch = dict(claim_patch.get("spec") or {})
    claim_spec = claim.get("spec") or {}
    have = _annotations(claim)
    if claim_spec.get("volumeName") != volume_name:
        claim_spec_patch["volumeName"] = volume_name
        if ANN_BOUND_BY_CONTROLLER not in have:
            annotations[ANN_BOUND_BY_CONTROLLER] = "yes"
    if ANN_BIND_COMPLETED not in have:
        annotations[ANN_BIND_COMPLETED] = "yes"
    annotations = {k: v for k, v in annotations.items() if have.get(k) != v}
    _patch_claim(world, claim, annotations, claim_spec_patch)

    status = dict(claim.get("status") or {})
    volume_spec = volume.get("spec") or {}
    new_status = {
        **status,
        "phase": "Bound",
        "accessModes": list(volume_spec.get("accessModes") or []),
    }
    if status.get("phase") != "Bound" or not status.get("capacity"):
        new_status["capacity"] = dict(volume_spec.get("capacity") or {})
    if new_status != status:
        world.actions.append(
            UpdateStatus("PersistentVolumeClaim", _namespace(claim), _name(claim), new_status)
        )
    if len(world.actions) > planned:
        world.notes.append(
            f"Claim {_namespace(claim)}/{_name(claim)} bound to volume {volume_name}"
        )


def _patch_claim(
    world: _World,
    claim: Mapping[str, Any],
    annotations: Mapping[str, str],
    spec: Mapping[str, Any],
) -> None:
    if not annotations and not spec:
        return
    body: dict[str, Any] = {"metadata": _preconditions(claim)}
    if annotations:
        body["metadata"]["annotations"] = dict(annotations)
    if spec:
        body["spec"] = dict(spec)
    world.actions.append(Patch("PersistentVolumeClaim", _namespace(claim), _name(claim), body))


def _claim_status(
    world: _World, claim: Mapping[str, Any], phase: str, event: Event | None = None
) -> None:
    """``updateClaimStatus(claim, phase, nil)``, with ``event`` only when the phase changes."""
    status = dict(claim.get("status") or {})
    new_status = {k: v for k, v in status.items() if k not in ("accessModes", "capacity")}
    new_status["phase"] = phase
    if new_status == status:
        return
    events = (event,) if event is not None and status.get("phase") != phase else ()
    world.actions.append(
        UpdateStatus(
            "PersistentVolumeClaim",
            _namespace(claim),
            _name(claim),
            new_status,
            on_success=events,
        )
    )


# ---------------------------------------------------------------------------------- provisioning


def _provisioned_volume(
    claim: Mapping[str, Any], storage_class: Mapping[str, Any], node: str | None
) -> dict[str, Any]:
    """The PersistentVolume the simulated provisioner creates for ``claim``."""
    claim_spec = claim.get("spec") or {}
    name = f"pvc-{_uid(claim)}"
    requests = (claim_spec.get("resources") or {}).get("requests") or {}
    spec: dict[str, Any] = {
        "capacity": {"storage": requests.get("storage", "0")},
        "accessModes": list(claim_spec.get("accessModes") or []),
        "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy") or "Delete",
        "storageClassName": _name(storage_class),
        "volumeMode": _volume_mode(claim_spec),
        "hostPath": {"path": f"{HOSTPATH_ROOT}/{name}"},
        "claimRef": _claim_ref(claim),
    }
    if storage_class.get("mountOptions"):
        spec["mountOptions"] = list(storage_class["mountOptions"])
    if node:
        spec["nodeAffinity"] = {
            "required": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}
                        ]
                    }
                ]
            }
        }
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": name,
            "annotations": {
                ANN_PROVISIONED_BY: str(storage_class.get("provisioner") or ""),
                ANN_BOUND_BY_CONTROLLER: "yes",
            },
        },
        "spec": spec,
    }


def _pods_using(world: _World, claim: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = []
    for pod in world.pods:
        if _namespace(pod) != _namespace(claim) or is_terminating(pod):
            continue
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            source = (volume or {}).get("persistentVolumeClaim") or {}
            if source.get("claimName") == _name(claim):
                found.append(pod)
                break
    return sorted(found, key=_name)


def _selected_node(world: _World, claim: Mapping[str, Any]) -> tuple[str | None, bool]:
    """The node chosen for the claim's first consumer, and whether to annotate the claim."""
    annotated = _annotations(claim).get(ANN_SELECTED_NODE)
    if annotated:
        return annotated, False
    for pod in _pods_using(world, claim):
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            return str(node), True
    return None, False


# --------------------------------------------------------------------------------------- claims


def _sync_unbound(world: _World, claim: Mapping[str, Any]) -> None:
    involved = object_reference(claim)
    claim_spec = claim.get("spec") or {}
    key = f"{_namespace(claim)}/{_name(claim)}"
    annotations: dict[str, str] = {}
    spec_patch: dict[str, Any] = {}

    class_name = claim_spec.get("storageClassName")
    if class_name is None and world.default_class is not None:
        class_name = _name(world.default_class)
        spec_patch["storageClassName"] = class_name
    claim_class = str(class_name or "")
    storage_class = world.classes.get(claim_class) if claim_class else None

    requested_volume = claim_spec.get("volumeName")
    if requested_volume:
        volume = world.volumes.get(str(requested_volume))
        if volume is None:
            _patch_claim(world, claim, {}, spec_patch)
            _claim_status(world, claim, "Pending")
            world.notes.append(f"Claim {key}: requested volume {requested_volume} does not exist")
            return
        if not (volume.get("spec") or {}).get("claimRef"):
            problem = _mismatch(volume, claim, claim_class)
            if problem:
                _patch_claim(world, claim, {}, spec_patch)
                world.actions.append(
                    Event(
                        involved,
                        WARNING,
                        "VolumeMismatch",
                        f'Cannot bind to requested volume "{_name(volume)}": {problem}',
                    )
                )
                _claim_status(world, claim, "Pending")
                return
            _bind(world, volume, claim, {"annotations": annotations, "spec": spec_patch})
            return
        if _bound_to_claim(volume, claim):
            _bind(world, volume, claim, {"annotations": annotations, "spec": spec_patch})
            return
        _patch_claim(world, claim, {}, spec_patch)
        world.actions.append(
            Event(
                involved,
                WARNING,
                "FailedBinding",
                f'volume "{_name(volume)}" already bound to a different claim.',
            )
        )
        _claim_status(world, claim, "Pending")
        return

    delay_binding = bool(
        storage_class is not None
        and storage_class.get("volumeBindingMode") == "WaitForFirstConsumer"
    )
    node: str | None = None
    if delay_binding:
        node, annotate = _selected_node(world, claim)
        if annotate and node:
            annotations[ANN_SELECTED_NODE] = node
    volume = _find_best_match(world, claim, claim_class, delay_binding and node is None)
    if volume is not None:
        _bind(world, volume, claim, {"annotations": annotations, "spec": spec_patch})
        return

    if delay_binding and node is None:
        _patch_claim(world, claim, annotations, spec_patch)
        waiting = [
            _name(p) for p in _pods_using(world, claim) if not (p.get("spec") or {}).get("nodeName")
        ]
        if len(waiting) > 1:
            event = Event(
                involved,
                NORMAL,
                "WaitForPodScheduled",
                f"waiting for pods {','.join(waiting)} to be scheduled",
            )
        elif waiting:
            event = Event(
                involved,
                NORMAL,
                "WaitForPodScheduled",
                f"waiting for pod {waiting[0]} to be scheduled",
            )
        else:
            event = Event(involved, NORMAL, "WaitForFirstConsumer", MSG_WAIT_CONSUMER)
        world.actions.append(event)
        _claim_status(world, claim, "Pending")
        return

    if not claim_class:
        _patch_claim(world, claim, annotations, spec_patch)
        world.actions.append(Event(involved, NORMAL, "FailedBinding", MSG_NO_CLASS))
        _claim_status(world, claim, "Pending")
        return

    if storage_class is None:
        _patch_claim(world, claim, annotations, spec_patch)
        world.actions.append(
            Event(
                involved,
                WARNING,
                "ProvisioningFailed",
                f'storageclass.storage.k8s.io "{claim_class}" not found',
            )
        )
        _claim_status(world, claim, "Pending")
        return

    provisioner = str(storage_class.get("provisioner") or "")
    annotations[ANN_STORAGE_PROVISIONER] = provisioner
    annotations[ANN_BETA_STORAGE_PROVISIONER] = provisioner
    annotations = {k: v for k, v in annotations.items() if _annotations(claim).get(k) != v}
    if provisioner == NO_PROVISIONER:
        _patch_claim(world, claim, annotations, spec_patch)
        world.actions.append(
            Event(
                involved,
                NORMAL,
                "ExternalProvisioning",
                MSG_EXTERNAL.format(provisioner=provisioner),
            )
        )
        _claim_status(world, claim, "Pending")
        return

    pv = _provisioned_volume(claim, storage_class, node)
    pv_name = _name(pv)
    if pv_name in world.volumes:
        world.notes.append(f"Claim {key}: volume {pv_name} exists but is not usable")
        return
    world.actions.append(
        Create(
            pv,
            on_success=(
                Event(
                    involved,
                    NORMAL,
                    "ProvisioningSucceeded",
                    f"Successfully provisioned volume {pv_name} using {provisioner}",
                ),
            ),
            on_failure=(
                Event(
                    involved,
                    WARNING,
                    "ProvisioningFailed",
                    f"Error creating provisioned PV object for claim {key}: {{error}}",
                ),
            ),
        )
    )
    created = copy.deepcopy(pv)
    created["status"] = {"phase": "Pending"}
    world.volumes[pv_name] = created
    world.notes.append(f"Claim {key}: provisioning volume {pv_name} with {provisioner}")
    _bind(world, created, claim, {"annotations": annotations, "spec": spec_patch})


def _sync_bound(world: _World, claim: Mapping[str, Any]) -> None:
    involved = object_reference(claim)
    volume_name = (claim.get("spec") or {}).get("volumeName")
    if not volume_name:
        _claim_status(
            world, claim, "Lost", Event(involved, WARNING, "ClaimLost", MSG_LOST_REFERENCE)
        )
        return
    volume = world.volumes.get(str(volume_name))
    if volume is None:
        _claim_status(world, claim, "Lost", Event(involved, WARNING, "ClaimLost", MSG_LOST))
        return
    ref = (volume.get("spec") or {}).get("claimRef")
    if not ref or str(ref.get("uid") or "") == _uid(claim):
        _bind(world, volume, claim, {})
        return
    _claim_status(world, claim, "Lost", Event(involved, WARNING, "ClaimMisbound", MSG_MISBOUND))


# -------------------------------------------------------------------------------------- volumes


def _sync_volume(world: _World, volume: dict[str, Any]) -> None:
    spec = volume.get("spec") or {}
    ref = spec.get("claimRef")
    name = _name(volume)
    if not ref or not ref.get("uid"):
        world.volume_status(volume, "Available")
        return
    claim = world.claims.get((str(ref.get("namespace") or ""), str(ref.get("name") or "")))
    if claim is not None and _uid(claim) != str(ref.get("uid")):
        claim = None
    if claim is None:
        if (volume.get("status") or {}).get("phase") not in ("Released", "Failed"):
            world.volume_status(volume, "Released")
        _reclaim(world, volume)
        return
    claimed_volume = (claim.get("spec") or {}).get("volumeName")
    if not claimed_volume:
        return  # the claim's sync finishes the binding
    if claimed_volume == name:
        world.volume_status(volume, "Bound")
        return
    # The claim is bound to another volume.
    if (
        _annotations(volume).get(ANN_PROVISIONED_BY)
        and spec.get("persistentVolumeReclaimPolicy") == "Delete"
    ):
        if (volume.get("status") or {}).get("phase") not in ("Released", "Failed"):
            world.volume_status(volume, "Released")
        _reclaim(world, volume)
        return
    _unbind(world, volume)


def _unbind(world: _World, volume: dict[str, Any]) -> None:
    """``unbindVolume``: forget a controller-made binding, or only the uid of a user's."""
    annotations = _annotations(volume)
    if annotations.get(ANN_BOUND_BY_CONTROLLER):
        body = {
            "metadata": {
                **_preconditions(volume),
                "annotations": {ANN_BOUND_BY_CONTROLLER: None},
            },
            "spec": {"claimRef": None},
        }
    else:
        body = {"metadata": _preconditions(volume), "spec": {"claimRef": {"uid": None}}}
    world.actions.append(Patch("PersistentVolume", "", _name(volume), body))
    world.volume_status(volume, "Available")
    world.notes.append(f"Volume {_name(volume)}: unbound")


def _reclaim(world: _World, volume: dict[str, Any]) -> None:
    policy = (volume.get("spec") or {}).get("persistentVolumeReclaimPolicy") or "Retain"
    name = _name(volume)
    if policy == "Retain":
        world.notes.append(f"Volume {name}: released, retained")
    elif policy == "Delete":
        if not is_terminating(volume):
            world.actions.append(Delete("PersistentVolume", "", name, _uid(volume) or None))
            world.notes.append(f"Volume {name}: released, deleting")
    elif policy == "Recycle":
        world.actions.append(
            Event(object_reference(volume), NORMAL, "VolumeRecycled", "Volume recycled")
        )
        _unbind(world, volume)
    else:
        if (volume.get("status") or {}).get("phase") != "Failed":
            world.volume_status(volume, "Failed")
            world.actions.append(
                Event(
                    object_reference(volume),
                    WARNING,
                    "VolumeUnknownReclaimPolicy",
                    "Volume has unrecognized PersistentVolumeReclaimPolicy",
                )
            )


# ---------------------------------------------------------------------------------- the planner


def plan_pv_binder(
    pvcs: Sequence[Mapping[str, Any]],
    pvs: Sequence[Mapping[str, Any]],
    storage_classes: Sequence[Mapping[str, Any]],
    now: dt.datetime,
    *,
    pods: Sequence[Mapping[str, Any]] = (),
) -> Plan:
    """Plan one pass of the PersistentVolume controller over every claim and volume.

    ``pods``: the pods that may use the claims (for WaitForFirstConsumer); ``now`` stamps
    ``lastPhaseTransitionTime``. See the module docstring for the rules.
    """
    world = _World(
        volumes={_name(v): copy.deepcopy(dict(v)) for v in pvs},
        claims={(_namespace(c), _name(c)): c for c in pvcs},
        classes={_name(sc): sc for sc in storage_classes},
        default_class=default_storage_class(storage_classes),
        pods=pods,
        now_stamp=format_time(now),
    )

    def claim_order(claim: Mapping[str, Any]) -> tuple[float, str, str]:
        created = creation_time(claim)
        return (created.timestamp() if created else 0.0, _namespace(claim), _name(claim))

    for claim in sorted(pvcs, key=claim_order):
        if _annotations(claim).get(ANN_BIND_COMPLETED):
            _sync_bound(world, claim)
        elif not is_terminating(claim):
            _sync_unbound(world, claim)

    for name in sorted(world.volumes):
        if name not in world.touched:
            _sync_volume(world, world.volumes[name])

    return Plan.of(world.actions, notes=world.notes)
