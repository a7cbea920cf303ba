"""Helpers shared by the controller planners: pod state, owner references, hashes, ordering.

Everything here is pure: dicts in, values out. Objects are Kubernetes JSON dicts.

Pod state, as ``k8s.io/kubernetes/pkg/api/v1/pod`` and ``pkg/controller`` define it:

* :func:`is_pod_ready`: the ``Ready`` condition is ``"True"``.
* :func:`is_pod_available`: ready, and ready for *more than* ``minReadySeconds``
  (``lastTransitionTime + minReadySeconds < now``; with ``minReadySeconds == 0`` a ready pod
  is available at once).
* :func:`is_active`: not being deleted (no ``deletionTimestamp``) and not ``Succeeded`` or
  ``Failed``: the pods a ReplicaSet counts.

The pod-template hash (:func:`compute_hash`) has upstream's *shape* but not its values:
Kubernetes hashes the Go struct dump (``spew``) of the template with FNV-32a, then appends the
collision count. Python cannot reproduce that dump, so Kubarium hashes the template's canonical
JSON instead (see :func:`canonical_json`), keeps FNV-32a and the collision count, and renders the
32-bit value the way Kubernetes does (decimal digits, each mapped through
``rand.SafeEncodeString``), so names look like ``web-7d8f6b5c94``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cluster.controllers.actions import Patch
from cluster.store.jsondata import copy_json
from cluster.store.selectors import matches_selector_dict

__all__ = [
    "API_VERSIONS",
    "CONTROLLER_REVISION_HASH_LABEL",
    "POD_TEMPLATE_HASH_LABEL",
    "active_pods_sort_key",
    "adopt_patch",
    "as_utc",
    "available_at",
    "canonical_json",
    "claim",
    "ClaimResult",
    "compute_hash",
    "controller_of",
    "controller_ref",
    "creation_time",
    "fnv32a",
    "format_time",
    "is_active",
    "is_controlled_by",
    "is_pod_available",
    "is_pod_ready",
    "is_terminal",
    "is_terminating",
    "labels_of",
    "max_container_restarts",
    "meta",
    "parse_time",
    "pod_from_template",
    "pod_phase",
    "pod_ready_condition",
    "pod_ready_time",
    "random_suffix",
    "release_patch",
    "round_half_away",
    "safe_encode",
    "scaled_value",
    "semantic",
    "status_differs",
    "templates_equal_ignoring_hash",
    "without_zeros",
]

POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
CONTROLLER_REVISION_HASH_LABEL = "controller-revision-hash"

# apiVersion of the kinds that own things, for ownerReferences.
API_VERSIONS = {
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Pod": "v1",
}

# rand.SafeEncodeString / utilrand: consonants and digits that cannot spell words.
SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


# ----------------------------------------------------------------------------------- metadata


def meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """``obj["metadata"]`` or an empty mapping."""
    return obj.get("metadata") or {}


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict(meta(obj).get("labels") or {})


def parse_time(value: Any) -> dt.datetime | None:
    """An RFC 3339 timestamp (``2024-05-01T10:00:00Z``) as an aware datetime, else None."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def as_utc(now: dt.datetime) -> dt.datetime:
    """``now`` as an aware datetime; a naive one is taken to be UTC already."""
    return now if now.tzinfo else now.replace(tzinfo=dt.UTC)


def format_time(value: dt.datetime) -> str:
    """RFC 3339 in UTC at second precision, as ``metav1.Time`` marshals."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def creation_time(obj: Mapping[str, Any]) -> dt.datetime | None:
    return parse_time(meta(obj).get("creationTimestamp"))


def _time_or_epoch(value: dt.datetime | None) -> dt.datetime:
    return value or _EPOCH


# ------------------------------------------------------------------------------------ pod state


def pod_phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def pod_ready_condition(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition
    return None


def is_pod_ready(pod: Mapping[str, Any]) -> bool:
    """The pod's ``Ready`` condition is ``"True"`` (``podutil.IsPodReady``)."""
    condition = pod_ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


def pod_ready_time(pod: Mapping[str, Any]) -> dt.datetime | None:
    """When a ready pod last became ready (its Ready condition's lastTransitionTime)."""
    if not is_pod_ready(pod):
        return None
    condition = pod_ready_condition(pod) or {}
    return parse_time(condition.get("lastTransitionTime"))


def is_pod_available(pod: Mapping[str, Any], min_ready_seconds: int, now: dt.datetime) -> bool:
    """Ready for more than ``min_ready_seconds`` (``podutil.IsPodAvailable``).

    Worked example: ready since 10:00:00 with ``minReadySeconds: 5`` is available at 10:00:06
    (10:00:05 < 10:00:06) but not at 10:00:05 (the comparison is strict).
    """
    if not is_pod_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    since = pod_ready_time(pod)
    return since is not None and since + dt.timedelta(seconds=min_ready_seconds) < now


def available_at(pod: Mapping[str, Any], min_ready_seconds: int) -> dt.datetime | None:
    """The first whole second at which a ready pod counts as available, or None.

    ``is_pod_available`` needs ``ready + minReadySeconds < now``; timestamps have second
    precision, so that is ``ready + minReadySeconds + 1s``.
    """
    since = pod_ready_time(pod)
    if since is None:
        return None
    if not min_ready_seconds:
        return since
    return since + dt.timedelta(seconds=min_ready_seconds + 1)


def is_terminating(obj: Mapping[str, Any]) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def is_terminal(pod: Mapping[str, Any]) -> bool:
    """``Succeeded`` or ``Failed``: the pod's containers will not run again."""
    return pod_phase(pod) in ("Succeeded", "Failed")


def is_active(pod: Mapping[str, Any]) -> bool:
    """Not terminal and not being deleted (``controller.IsPodActive``)."""
    return not is_terminal(pod) and not is_terminating(pod)


def max_container_restarts(pod: Mapping[str, Any]) -> int:
    """The highest ``restartCount`` among the pod's containers (init containers included)."""
    status = pod.get("status") or {}
    counts = [
        int(cs.get("restartCount") or 0)
        for key in ("containerStatuses", "initContainerStatuses")
        for cs in status.get(key) or []
    ]
    return max(counts, default=0)


def _deletion_cost(pod: Mapping[str, Any]) -> int:
    """``controller.kubernetes.io/pod-deletion-cost`` (an int32; invalid or missing is 0)."""
    raw = (meta(pod).get("annotations") or {}).get("controller.kubernetes.io/pod-deletion-cost")
    try:
        cost = int(str(raw))
    except (TypeError, ValueError):
        return 0
    return cost if -(2**31) <= cost < 2**31 else 0


_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


def active_pods_sort_key(
    ranks: Mapping[str, int] | None = None,
) -> Callable[[Mapping[str, Any]], tuple]:
    """A sort key putting the pods to delete first, as upstream's ``ActivePodsWithRanks``.

    Earlier (deleted first) is:

    1. unscheduled before scheduled;
    2. ``Pending`` < ``Unknown`` < ``Running``;
    3. not ready before ready;
    4. lower ``controller.kubernetes.io/pod-deletion-cost`` first;
    5. higher rank first (``ranks``: pod name -> number of related pods on the same node, so
       doubled-up pods go first);
    6. among ready pods, the more recently ready first;
    7. more container restarts first;
    8. newer (later ``creationTimestamp``) first.

    Ties keep the input order (Python's sort is stable). Kubernetes' LogarithmicScaleDown
    buckets timestamps by powers of two; Kubarium compares them exactly (the feature-off order).
    """
    ranks = ranks or {}

    def key(pod: Mapping[str, Any]) -> tuple:
        ready = is_pod_ready(pod)
        ready_since = pod_ready_time(pod) if ready else None
        created = creation_time(pod)
        return (
            1 if (pod.get("spec") or {}).get("nodeName") else 0,
            _PHASE_ORDINAL.get(pod_phase(pod), 0),
            1 if ready else 0,
            _deletion_cost(pod),
            -ranks.get(str(meta(pod).get("name", "")), 0),
            # afterOrZero: a zero time sorts first, then the later time.
            (0, 0.0) if ready_since is None else (1, -ready_since.timestamp()),
            -max_container_restarts(pod),
            (0, 0.0) if created is None else (1, -created.timestamp()),
        )

    return key


# --------------------------------------------------------------------------- owner references


def controller_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ownerReference with ``controller: true`` (``metav1.GetControllerOf``), or None."""
    for ref in meta(obj).get("ownerReferences") or []:
        if isinstance(ref, Mapping) and ref.get("controller"):
            return ref
    return None


def is_controlled_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    ref = controller_of(obj)
    return ref is not None and str(ref.get("uid")) == str(meta(owner).get("uid"))


def controller_ref(owner: Mapping[str, Any]) -> dict[str, Any]:
    """``metav1.NewControllerRef``: controller and blockOwnerDeletion both true."""
    kind = str(owner.get("kind", ""))
    return {
        "apiVersion": owner.get("apiVersion") or API_VERSIONS.get(kind, "v1"),
        "kind": kind,
        "name": meta(owner).get("name", ""),
        "uid": meta(owner).get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _preconditions(obj: Mapping[str, Any]) -> dict[str, Any]:
    found = {"uid": meta(obj).get("uid"), "resourceVersion": meta(obj).get("resourceVersion")}
    return {key: value for key, value in found.items() if value}


def adopt_patch(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> Patch:
    """Make ``owner`` the controller of ``obj`` (``ownerRefControllerPatch``).

    A merge patch replaces the whole list, so the patch keeps the other references and carries
    ``uid`` and ``resourceVersion`` as preconditions.
    """
    owner_uid = str(meta(owner).get("uid", ""))
    refs = [
        copy_json(ref)
        for ref in meta(obj).get("ownerReferences") or []
        if str(ref.get("uid")) != owner_uid
    ]
    refs.append(controller_ref(owner))
    return Patch(
        str(obj.get("kind", "")),
        str(meta(obj).get("namespace", "")),
        str(meta(obj).get("name", "")),
        {"metadata": {**_preconditions(obj), "ownerReferences": refs}},
    )


def release_patch(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> Patch:
    """Remove ``owner``'s reference from ``obj`` (``deleteOwnerRefStrategicMergePatch``)."""
    owner_uid = str(meta(owner).get("uid", ""))
    refs = [
        copy_json(ref)
        for ref in meta(obj).get("ownerReferences") or []
        if str(ref.get("uid")) != owner_uid
    ]
    return Patch(
        str(obj.get("kind", "")),
        str(meta(obj).get("namespace", "")),
        str(meta(obj).get("name", "")),
        {"metadata": {**_preconditions(obj), "ownerReferences": refs or None}},
    )


@dataclass
class ClaimResult:
    """What ``claim`` found: the objects the owner controls now, and the patches to get there."""

    owned: list[dict[str, Any]] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    patches: list[Patch] = field(default_factory=list)


def claim(
    owner: Mapping[str, Any],
    objects: Iterable[Mapping[str, Any]],
    selector: Mapping[str, Any] | None,
    *,
    extra_match: Callable[[Mapping[str, Any]], bool] | None = None,
) -> ClaimResult:
    """Adopt matching orphans and release non-matching dependents (``ControllerRefManager``).

    For each object in the owner's namespace:

    * controlled by someone else: ignored;
    * controlled by ``owner`` and matching: owned;
    * controlled by ``owner`` but no longer matching: released (unless the owner is being
      deleted);
    * an orphan that matches, while neither it nor the owner is being deleted: adopted (and
      owned from now on, as upstream counts a successful adoption at once).

    ``selector`` is a LabelSelector dict; ``extra_match`` narrows the match (StatefulSets also
    require the pod's name to be ``<set>-<ordinal>``). Adopted objects come back with the new
    reference already in their metadata.
    """
    namespace = meta(owner).get("namespace", "")
    owner_uid = str(meta(owner).get("uid", ""))
    owner_deleting = is_terminating(owner)
    result = ClaimResult()

    def matches(obj: Mapping[str, Any]) -> bool:
        if not matches_selector_dict(selector, labels_of(obj)):
            return False
        return extra_match is None or extra_match(obj)

    for obj in objects:
        if namespace and meta(obj).get("namespace", "") != namespace:
            continue
        ref = controller_of(obj)
        name = str(meta(obj).get("name", ""))
        if ref is not None:
            if str(ref.get("uid")) != owner_uid:
                continue
            if matches(obj):
                result.owned.append(dict(obj))
            elif not owner_deleting:
                result.released.append(name)
                result.patches.append(release_patch(obj, owner))
            continue
        if owner_deleting or not matches(obj) or is_terminating(obj):
            continue
        patch = adopt_patch(obj, owner)
        adopted = copy_json(dict(obj))
        adopted.setdefault("metadata", {})["ownerReferences"] = patch.merge_patch["metadata"][
            "ownerReferences"
        ]
        result.owned.append(adopted)
        result.adopted.append(name)
        result.patches.append(patch)
    return result


# --------------------------------------------------------------------------------- templates


def pod_from_template(
    template: Mapping[str, Any],
    owner: Mapping[str, Any],
    *,
    name: str | None = None,
    generate_name: str | None = None,
) -> dict[str, Any]:
    """A Pod from a pod template, controlled by ``owner`` (``controller.GetPodFromTemplate``).

    Labels, annotations and finalizers come from the template's metadata; the spec is copied.
    Without ``name`` the pod gets ``generateName: <owner>-`` (or ``generate_name``), and the
    store appends five random characters.
    """
    template_meta = template.get("metadata") or {}
    pod_meta: dict[str, Any] = {}
    if name:
        pod_meta["name"] = name
    else:
        pod_meta["generateName"] = generate_name or f"{meta(owner).get('name', '')}-"
    if meta(owner).get("namespace"):
        pod_meta["namespace"] = meta(owner)["namespace"]
    pod_meta["labels"] = dict(template_meta.get("labels") or {})
    if template_meta.get("annotations"):
        pod_meta["annotations"] = dict(template_meta["annotations"])
    if template_meta.get("finalizers"):
        pod_meta["finalizers"] = list(template_meta["finalizers"])
    pod_meta["ownerReferences"] = [controller_ref(owner)]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": pod_meta,
        "spec": copy_json(dict(template.get("spec") or {})),
    }


def random_suffix(rng: random.Random, length: int = 5) -> str:
    """``utilrand.String(5)``: random characters from the name-safe alphabet."""
    return "".join(rng.choice(SAFE_ALPHANUMS) for _ in range(length))


# Fields whose empty value ``{}`` means the same as a missing field (Go maps or value structs).
_EMPTY_MEANS_ABSENT = frozenset(
    {"labels", "annotations", "nodeSelector", "limits", "requests", "resources"}
)


def semantic(value: Any, key: str | None = None) -> Any:
    """``value`` with "no value" spellings removed, for equality and hashing.

    Mirrors ``apiequality.Semantic.DeepEqual`` on JSON: ``null`` fields and empty lists are
    dropped, as are empty maps where Go has a map or a value struct (``labels: {}``,
    ``resources: {}``). Empty objects that mean something (``emptyDir: {}``) are kept.
    """
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for sub_key, sub_value in value.items():
            cleaned = semantic(sub_value, sub_key)
            if cleaned is None or cleaned == []:
                continue
            if cleaned == {} and sub_key in _EMPTY_MEANS_ABSENT:
                continue
            out[sub_key] = cleaned
        return out
    if isinstance(value, list | tuple):
        return [semantic(item) for item in value]
    return value


def canonical_json(value: Any) -> bytes:
    """Sorted-key compact JSON of :func:`semantic` ``(value)``: the bytes Kubarium hashes."""
    return json.dumps(
        semantic(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def fnv32a(data: bytes, seed: int = 0x811C9DC5) -> int:
    """FNV-1a, 32 bits: ``h = (h ^ byte) * 16777619 mod 2**32`` from 2166136261."""
    value = seed
    for byte in data:
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """``rand.SafeEncodeString``: each character -> ``SAFE_ALPHANUMS[ord(c) % 27]``.

    Digits map as 0->4, 1->5, 2->6, 3->7, 4->8, 5->9, 6->b, 7->c, 8->d, 9->f, so the
    decimal ``"1234"`` becomes ``"5678"``.
    """
    return "".join(SAFE_ALPHANUMS[ord(char) % len(SAFE_ALPHANUMS)] for char in text)


def compute_hash(template: Mapping[str, Any], collision_count: int | None = None) -> str:
    """The pod-template hash (``controller.ComputeHash``, Kubarium's variant).

    1. FNV-32a over :func:`canonical_json` of the template;
    2. if ``collision_count`` is set, also over 8 bytes: the count as little-endian uint32,
       then four zero bytes (upstream writes a uint32 into an 8-byte buffer);
    3. the 32-bit value in decimal, each digit safe-encoded.

    Example: a hash value of 1234567890 renders as ``safe_encode("1234567890")`` =
    ``"56789bcdf4"``.
    """
    hashed = fnv32a(canonical_json(template))
    if collision_count is not None:
        extra = (int(collision_count) & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4)
        hashed = fnv32a(extra, hashed)
    return safe_encode(str(hashed))


def templates_equal_ignoring_hash(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """``EqualIgnoreHash``: equal pod templates once the pod-template-hash label is dropped."""

    def without_hash(template: Mapping[str, Any]) -> Any:
        copied = copy_json(dict(template or {}))
        labels = (copied.get("metadata") or {}).get("labels")
        if isinstance(labels, dict):
            labels.pop(POD_TEMPLATE_HASH_LABEL, None)
        return semantic(copied)

    return without_hash(a) == without_hash(b)


# ------------------------------------------------------------------------------ int or percent


def scaled_value(value: int | str | None, total: int, round_up: bool, default: int = 0) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``: an int, or a percentage of ``total``.

    ``"25%"`` of 10 is 2.5: rounded up it is 3 (maxSurge), rounded down 2 (maxUnavailable).
    A digit string (``"2"``) is read as the number, where Kubernetes would have rejected it.
    """
    if value is None:
        return default
    if isinstance(value, bool):
        raise ValueError(f"invalid value for IntOrString: {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.endswith("%"):
        percent = int(text[:-1])
        exact = percent * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    if text.lstrip("-").isdigit():
        return int(text)
    raise ValueError("invalid value for IntOrString: invalid type: string is not a percentage")


def round_half_away(value: float) -> int:
    """Go's ``math.Round`` (halves away from zero), unlike Python's banker's ``round``."""
    return int(math.floor(value + 0.5)) if value >= 0 else -int(math.floor(-value + 0.5))


def without_zeros(status: Mapping[str, Any], required: Iterable[str] = ()) -> dict[str, Any]:
    """A status dict as Go's ``omitempty`` marshals it: zero, empty and None fields dropped.

    Fields named in ``required`` (no ``omitempty`` upstream, e.g. a ReplicaSet's ``replicas``)
    are kept even when zero.
    """
    keep = set(required)
    return {
        key: value
        for key, value in status.items()
        if key in keep or value not in (None, 0, "", [], {})
    }


def status_differs(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """Whether writing ``new`` would change the stored status (empty values ignored)."""
    return semantic(without_zeros(old or {})) != semantic(without_zeros(new))
