"""Strategic merge patch (``application/strategic-merge-patch+json``), as the apiserver applies it.

A strategic merge patch is a JSON merge patch that knows the Kubernetes types: lists whose Go
field carries ``patchStrategy:"merge"`` merge element by element, matched by their
``patchMergeKey`` (containers by ``name``, container ports by ``containerPort``, conditions by
``type``...), and lists of strings with the merge strategy (``finalizers``, ``podCIDRs``) merge
as sets. Every other list is replaced whole, and maps merge recursively with ``null`` deleting a
key, as in a merge patch. :data:`TYPES` is the table of those field tags for the kinds Kubarium
serves (from ``k8s.io/api`` v1.32); fields it does not name behave as in a merge patch.

Directives (kubectl-contract §6; semantics of ``k8s.io/apimachinery/.../strategicpatch``):

- ``{"$patch": "delete", "<key>": v}`` in a merge list removes the element whose key is ``v``;
  ``{"$patch": "replace"}`` in a merge list makes the patch's elements the whole list;
  ``"$patch": "replace"`` in a map replaces the map, ``"$patch": "delete"`` empties it.
- ``"$setElementOrder/<list>": [...]`` orders the merged list: elements it names come in its
  order, elements only the server has keep their place relative to them.
- ``"$retainKeys": [...]`` drops the keys of the live map that it does not list (union types
  such as a Deployment's ``strategy`` or a volume's source).
- ``"$deleteFromPrimitiveList/<list>": [...]`` removes those values from a set list.
- ``"key": null`` deletes the key; ``"list": null`` deletes the whole list.

Ordering of a merged list (``normalizeElementOrder``): the patch's elements in patch order, the
server-only elements in live order, interleaved so each server-only element stays before the
patch elements that followed it in the live list. E.g. live ``[a, b, c]``, patch ``[c', d]``:
patch items ``[c', d]``, server-only ``[a, b]``; ``a`` and ``b`` come before ``c`` live, so the
result is ``[a, b, c', d]``.

No ``$``-prefixed key is ever stored: directives are consumed, also inside values that the live
object did not have yet.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from cluster.store.errors import BadRequest

Obj = dict[str, Any]

PATCH = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ELEMENT_ORDER = "$setElementOrder/"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/"


class PatchError(BadRequest):
    """A malformed strategic merge patch (HTTP 400)."""


@dataclass(frozen=True)
class MergeList:
    """A list field with ``patchStrategy:"merge"``.

    ``key`` is its ``patchMergeKey`` (None for a list of primitives, merged as a set); ``item``
    names the element type in :data:`TYPES` (None when it has no merge lists of its own).
    """

    key: str | None = None
    item: str | None = None


Field = str | MergeList
# Type name -> {field: nested type name | MergeList}. Only fields that lead to a merge list.
TYPES: dict[str, dict[str, Field]] = {
    "ObjectMeta": {"ownerReferences": MergeList("uid"), "finalizers": MergeList()},
    "PodTemplateSpec": {"metadata": "ObjectMeta", "spec": "PodSpec"},
    "PodSpec": {
        "volumes": MergeList("name"),
        "initContainers": MergeList("name", "Container"),
        "containers": MergeList("name", "Container"),
        "ephemeralContainers": MergeList("name", "Container"),
        "imagePullSecrets": MergeList("name"),
        "hostAliases": MergeList("ip"),
        "topologySpreadConstraints": MergeList("topologyKey"),
        "schedulingGates": MergeList("name"),
        "resourceClaims": MergeList("name"),
    },
    "Container": {
        "ports": MergeList("containerPort"),
        "env": MergeList("name"),
        "volumeMounts": MergeList("mountPath"),
        "volumeDevices": MergeList("devicePath"),
    },
    "ContainerStatus": {
        "volumeMounts": MergeList("mountPath"),
        "allocatedResourcesStatus": MergeList("name"),
    },
    "PodStatus": {
        "conditions": MergeList("type"),
        "hostIPs": MergeList("ip"),
        "podIPs": MergeList("ip"),
        "resourceClaimStatuses": MergeList("name"),
    },
    "WorkloadSpec": {"template": "PodTemplateSpec"},
    "ConditionsStatus": {"conditions": MergeList("type")},
    "ServiceSpec": {"ports": MergeList("port")},
    "NodeSpec": {"podCIDRs": MergeList()},
    "NodeStatus": {"conditions": MergeList("type"), "addresses": MergeList("type")},
}

_WORKLOAD = {"metadata": "ObjectMeta", "spec": "WorkloadSpec", "status": "ConditionsStatus"}
_CONDITIONS = {"metadata": "ObjectMeta", "status": "ConditionsStatus"}
# Kind -> {top-level field: type}. Kinds not listed only have ObjectMeta's merge lists.
KIND_FIELDS: dict[str, dict[str, Field]] = {
    "Pod": {"metadata": "ObjectMeta", "spec": "PodSpec", "status": "PodStatus"},
    "Deployment": _WORKLOAD,
    "ReplicaSet": _WORKLOAD,
    "StatefulSet": _WORKLOAD,
    "DaemonSet": _WORKLOAD,
    "Service": {"metadata": "ObjectMeta", "spec": "ServiceSpec", "status": "ConditionsStatus"},
    "Node": {"metadata": "ObjectMeta", "spec": "NodeSpec", "status": "NodeStatus"},
    "Namespace": _CONDITIONS,
    "PersistentVolumeClaim": _CONDITIONS,
    "HorizontalPodAutoscaler": _CONDITIONS,
}


def root_type(kind: str | None) -> str:
    """The type name of a kind's top level (registered on the fly in :data:`TYPES`)."""
    name = f"<{kind or ''}>"
    if name not in TYPES:
        TYPES[name] = dict(KIND_FIELDS.get(kind or "", {"metadata": "ObjectMeta"}))
    return name


def field_of(type_name: str | None, key: str) -> Field | None:
    """What ``key`` of a ``type_name`` map is: a nested type, a merge list, or None."""
    if type_name is None:
        return None
    return TYPES.get(type_name, {}).get(key)


# --- public API ------------------------------------------------------------------------------


def strategic_merge_patch(original: Any, patch: Any, kind: str | None = None) -> Obj:
    """Apply a strategic merge patch to ``original`` (an object of ``kind``); returns a new
    object, ``original`` is left alone. Raises :class:`PatchError` for a malformed patch.

    >>> live = {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b"}]}}
    >>> strategic_merge_patch(live, {"spec": {"containers": [{"name": "a", "image": "y"}]}}, "Pod")
    {'spec': {'containers': [{'name': 'a', 'image': 'y'}, {'name': 'b'}]}}
    """
    if not isinstance(patch, dict):
        raise PatchError("the strategic merge patch must be a JSON object")
    base = original if isinstance(original, dict) else {}
    return _merge_map(base, patch, root_type(kind if kind else _kind_of(base)))


def _kind_of(obj: Obj) -> str | None:
    kind = obj.get("kind")
    return kind if isinstance(kind, str) else None


def merge_keys_of(type_name: str | None, key: str) -> MergeList | None:
    """The merge list meta of a field, if it is one (used by server-side apply)."""
    found = field_of(type_name, key)
    return found if isinstance(found, MergeList) else None


# --- maps ------------------------------------------------------------------------------------


def _merge_map(original: Obj, patch: Obj, type_name: str | None) -> Obj:
    patch = dict(patch)
    if PATCH in patch:
        directive = patch.pop(PATCH)
        if directive == "replace":
            return _merge_map({}, patch, type_name)
        if directive == "delete":
            return {}
        raise PatchError(f"Unknown patch type: {directive!r} in map: {_text(patch)}")

    result = copy.deepcopy(original)
    retain = patch.pop(RETAIN_KEYS, None)
    orders: dict[str, Any] = {}
    deletions: dict[str, Any] = {}
    for key in list(patch):
        if key.startswith(SET_ELEMENT_ORDER):
            orders[key[len(SET_ELEMENT_ORDER) :]] = patch.pop(key)
        elif key.startswith(DELETE_FROM_PRIMITIVE_LIST):
            deletions[key[len(DELETE_FROM_PRIMITIVE_LIST) :]] = patch.pop(key)
        elif key.startswith("$"):
            raise PatchError(f"unknown strategic merge patch directive: {key}")

    if retain is not None:
        _retain_keys(result, patch, retain)
    for key, values in deletions.items():
        _delete_from_primitive_list(result, key, values)

    # Lists with an order directive first, merged and then ordered together (Go's
    # mergePatchIntoOriginal), then every other key.
    for key, order in orders.items():
        meta = field_of(type_name, key)
        live = result.get(key)
        value = patch.pop(key, None) if isinstance(patch.get(key), list) else None
        server_order = live if isinstance(live, list) else []
        if isinstance(live, list) and value is not None and isinstance(meta, MergeList):
            merged, server_order = _merge_list_ordered(live, value, meta)
        elif value is not None:
            merged = _fresh(value, meta)
        elif isinstance(live, list):
            merged = live
        else:
            continue
        result[key] = _apply_element_order(merged, order, server_order, meta)

    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
            continue
        meta = field_of(type_name, key)
        if key in result:
            result[key] = _merge_value(result[key], value, meta)
        else:
            result[key] = _fresh(value, meta)
    return result


def _retain_keys(result: Obj, patch: Obj, retain: Any) -> None:
    if not isinstance(retain, list):
        raise PatchError(f"$retainKeys must be a list, got {_text(retain)}")
    kept = set(retain)
    for key, value in patch.items():
        if value is not None and key not in kept:
            raise PatchError(
                "doesn't satisfy strategic merge patch format: all keys in the patch must be "
                f"present in $retainKeys, but {key!r} is not"
            )
    for key in list(result):
        if key not in kept:
            del result[key]


def _delete_from_primitive_list(result: Obj, key: str, values: Any) -> None:
    if not isinstance(values, list):
        raise PatchError(f"{DELETE_FROM_PRIMITIVE_LIST}{key} must be a list")
    current = result.get(key)
    if isinstance(current, list):
        result[key] = [item for item in current if item not in values]


def _merge_value(original: Any, patch: Any, meta: Field | None) -> Any:
    if isinstance(patch, dict):
        if isinstance(original, dict):
            return _merge_map(original, patch, meta if isinstance(meta, str) else None)
        return _fresh(patch, meta)
    if isinstance(patch, list):
        if isinstance(meta, MergeList) and isinstance(original, list):
            return _merge_list(original, patch, meta)
        return _fresh(patch, meta)
    return copy.deepcopy(patch)


def _fresh(value: Any, meta: Field | None) -> Any:
    """A patch value for a key the live object lacks: its directives consumed, nulls gone."""
    if isinstance(value, dict):
        return _merge_map({}, value, meta if isinstance(meta, str) else None)
    if isinstance(value, list):
        if isinstance(meta, MergeList):
            return _merge_list([], value, meta)
        return [
            _fresh(item, None) if isinstance(item, dict) else copy.deepcopy(item) for item in value
        ]
    return copy.deepcopy(value)


# --- lists -----------------------------------------------------------------------------------


def _ident(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _key_of(item: Any, key: str | None) -> str:
    if key is None:
        return _ident(item)
    if not isinstance(item, dict) or key not in item:
        raise PatchError(f"map: {_text(item)} does not contain declared merge key: {key}")
    return _ident(item[key])


def _merge_list(original: list, patch: list, meta: MergeList) -> list:
    return _merge_list_ordered(original, patch, meta)[0]


def _merge_list_ordered(original: list, patch: list, meta: MergeList) -> tuple[list, list]:
    """The merged list, and the live order a ``$setElementOrder`` pass compares against.

    That live order is what Go's in-place slice edits leave in the live list's first
    ``len(live)`` slots: the elements kept after ``$patch: delete``, then the appended new
    elements (e.g. live ``[1, 2, 4]``, patch ``[3, {1: delete}]``: ``[2, 4, 3]``).
    """
    if meta.key is None:
        return _merge_primitive_list(original, patch), original
    key = meta.key
    items: list[Obj] = []
    replace = False
    remaining = list(original)
    for element in patch:
        if not isinstance(element, dict):
            raise PatchError(
                f"doesn't satisfy strategic merge patch format: the list elements of a merge "
                f"list must be objects with the merge key {key!r}, got {_text(element)}"
            )
        directive = element.get(PATCH)
        if directive is None:
            items.append(element)
        elif directive == "delete":
            doomed = _key_of(element, key)
            remaining = [
                item
                for item in remaining
                if not (isinstance(item, dict) and key in item and _ident(item[key]) == doomed)
            ]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise PatchError("merging lists cannot yet be specified in the patch")
        else:
            raise PatchError(f"Unknown patch type: {directive!r} in map: {_text(element)}")
    if replace:
        replaced = [_merge_map({}, item, meta.item) for item in items]
        return replaced, original

    merged = [copy.deepcopy(item) for item in remaining]
    positions = {
        _ident(item[key]): index
        for index, item in enumerate(merged)
        if isinstance(item, dict) and key in item
    }
    for element in items:
        ident = _key_of(element, key)
        if ident in positions:
            index = positions[ident]
            merged[index] = _merge_map(merged[index], element, meta.item)
        else:
            positions[ident] = len(merged)
            merged.append(_merge_map({}, element, meta.item))
    order = [_key_of(element, key) for element in items]
    server_order = merged[: len(original)]
    return _normalize_order(merged, order, remaining, key), server_order


def _merge_primitive_list(original: list, patch: list) -> list:
    for value in patch:
        if isinstance(value, dict | list):
            raise PatchError(
                f"doesn't satisfy strategic merge patch format: a list of primitives cannot "
                f"hold {_text(value)}"
            )
    merged: list = []
    seen: set[str] = set()
    for value in [*original, *patch]:
        ident = _ident(value)
        if ident not in seen:
            seen.add(ident)
            merged.append(copy.deepcopy(value))
    return _normalize_order(merged, [_ident(v) for v in patch], original, None)


def _normalize_order(merged: list, order: list[str], live: list, key: str | None) -> list:
    """Patch elements (named in ``order``) in that order, server-only elements in ``live``
    order, interleaved by their live positions (``mergeSortedSlice``)."""

    def ident(item: Any) -> str | None:
        if key is None:
            return _ident(item)
        return _ident(item[key]) if isinstance(item, dict) and key in item else None

    order_index = {value: index for index, value in enumerate(dict.fromkeys(order))}
    live_index: dict[str, int] = {}
    for index, item in enumerate(live):
        found = ident(item)
        if found is not None:
            live_index.setdefault(found, index)
    in_order = [item for item in merged if ident(item) in order_index]
    server_only = [item for item in merged if ident(item) not in order_index]
    in_order.sort(key=lambda item: order_index[ident(item)])
    server_only.sort(key=lambda item: live_index.get(ident(item) or "", len(live)))

    result: list = []
    i = j = 0
    while i < len(server_only) or j < len(in_order):
        if j >= len(in_order):
            result.append(server_only[i])
            i += 1
        elif i >= len(server_only):
            result.append(in_order[j])
            j += 1
        else:
            left = live_index.get(ident(server_only[i]) or "")
            right = live_index.get(ident(in_order[j]) or "")
            if left is not None and right is not None and left < right:
                result.append(server_only[i])
                i += 1
            else:
                result.append(in_order[j])
                j += 1
    return result


def _apply_element_order(merged: list, order: Any, live: list, meta: Field | None) -> list:
    if not isinstance(order, list):
        raise PatchError(f"{SET_ELEMENT_ORDER} must be a list, got {_text(order)}")
    key = meta.key if isinstance(meta, MergeList) else None
    if key is None and any(isinstance(item, dict) for item in merged):
        return merged  # a list replaced whole: its order is the patch's own
    return _normalize_order(merged, [_key_of(item, key) for item in order], live, key)


def _text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)
