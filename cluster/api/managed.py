"""Field ownership (``metadata.managedFields``) and server-side apply.

Every write through the REST API records which *field manager* (``?fieldManager=``, or the
User-Agent's product) set which fields, as the apiserver does: a create or an update gives the
manager the fields it changed (operation ``Update``), taking them away from other managers; an
apply (``application/apply-patch+yaml``, kubectl-contract §7.5) makes the manager own exactly
the fields of its configuration (operation ``Apply``).

A field set is a set of paths in the ``FieldsV1`` notation: ``("f:spec", "f:replicas")``; list
elements of merge lists are ``k:{"name":"web"}`` (by their merge key, see
``cluster.api.strategic.TYPES``), values of set lists ``v:"x"``. Other lists and scalars are
leaves. Identity and server-owned metadata (name, namespace, uid, resourceVersion...) and
``status`` are never owned through the main resource.

Server-side apply (:func:`apply`), Kubarium's faithful-enough version of structured-merge-diff:

1. a field the configuration sets that another manager owns with a *different* value is a
   conflict (409, ``Apply failed with 1 conflict: conflict with "kubectl-client-side-apply"
   using apps/v1: .spec.replicas``), unless ``force`` takes it over;
2. fields this manager applied before and no longer applies are removed, unless another
   manager owns them (or something under them);
3. the configuration is merged into the live object (maps by key, merge lists by their merge
   key, set lists as sets; other lists and scalars replaced);
4. the manager's ``Apply`` entry becomes the configuration's field set.

Simplifications: list elements are matched by one merge key (the apiserver's ``listMapKeys``
can be two, e.g. ``containerPort`` and ``protocol``); a map's own node (``"."``) is recorded for
list elements only; values are compared as JSON, so ``"0.5"`` and ``"500m"`` differ.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cluster.api.strategic import MergeList, field_of, root_type, strategic_merge_patch
from cluster.store.errors import BadRequest, StoreError

Obj = dict[str, Any]
Path = tuple[str, ...]

APPLY, UPDATE = "Apply", "Update"
# Top-level and metadata fields nobody owns through the main resource.
UNOWNED_TOP = {"apiVersion", "kind", "status"}
UNOWNED_METADATA = {
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
}
_MISSING = object()


# --- field sets ------------------------------------------------------------------------------


def _key_token(key: str, value: Any) -> str:
    return "k:" + json.dumps({key: value}, separators=(",", ":"), sort_keys=True)


def _value_token(value: Any) -> str:
    return "v:" + json.dumps(value, separators=(",", ":"), sort_keys=True)


def field_set(obj: Obj, kind: str | None = None) -> set[Path]:
    """The owned paths of an object's fields (leaves, and the elements of merge lists).

    >>> sorted(field_set({"kind": "Pod", "metadata": {"name": "a", "labels": {"app": "x"}}}))
    [('f:metadata', 'f:labels', 'f:app')]
    """
    out: set[Path] = set()
    top = {k: v for k, v in obj.items() if k not in UNOWNED_TOP}
    meta = top.get("metadata")
    if isinstance(meta, dict):
        top["metadata"] = {k: v for k, v in meta.items() if k not in UNOWNED_METADATA}
        if not top["metadata"]:
            del top["metadata"]
    _walk(top, root_type(kind or obj.get("kind")), (), out)
    return out


def _walk(value: Obj, type_name: str | None, prefix: Path, out: set[Path]) -> None:
    for key, child in value.items():
        if child is None:
            continue
        path = (*prefix, f"f:{key}")
        meta = field_of(type_name, key)
        if isinstance(child, dict) and child:
            _walk(child, meta if isinstance(meta, str) else None, path, out)
        elif isinstance(child, list) and child and isinstance(meta, MergeList):
            for item in child:
                if meta.key is None:
                    out.add((*path, _value_token(item)))
                elif isinstance(item, dict) and meta.key in item:
                    item_path = (*path, _key_token(meta.key, item[meta.key]))
                    out.add(item_path)
                    _walk(item, meta.item, item_path, out)
        else:
            out.add(path)


def value_at(obj: Any, path: Path) -> Any:
    """The value at ``path`` in ``obj``, or a private sentinel when absent."""
    current = obj
    for token in path:
        if token.startswith("f:"):
            if not isinstance(current, dict) or token[2:] not in current:
                return _MISSING
            current = current[token[2:]]
        elif token.startswith("k:"):
            ((key, wanted),) = json.loads(token[2:]).items()
            found = _MISSING
            for item in current if isinstance(current, list) else []:
                if isinstance(item, dict) and item.get(key, _MISSING) == wanted:
                    found = item
                    break
            if found is _MISSING:
                return _MISSING
            current = found
        elif token.startswith("v:"):
            wanted = json.loads(token[2:])
            if not isinstance(current, list) or wanted not in current:
                return _MISSING
            current = wanted
        else:
            return _MISSING
    return current


def _is_element(path: Path) -> bool:
    return bool(path) and path[-1][:2] in ("k:", "v:")


def remove_paths(obj: Obj, paths: Iterable[Path]) -> Obj:
    """A copy of ``obj`` without the fields at ``paths``; maps emptied by it are dropped."""
    result = copy.deepcopy(obj)
    for path in sorted(paths, key=len):  # a removed list element takes its fields with it
        _remove(result, path)
    return result


def _remove(obj: Obj, path: Path) -> None:
    parents: list[tuple[Any, str]] = []
    current: Any = obj
    for token in path[:-1]:
        step = value_at(current, (token,))
        if step is _MISSING:
            return
        parents.append((current, token))
        current = step
    last = path[-1]
    if last.startswith("f:") and isinstance(current, dict):
        current.pop(last[2:], None)
    elif last.startswith("k:") and isinstance(current, list):
        ((key, wanted),) = json.loads(last[2:]).items()
        current[:] = [i for i in current if not (isinstance(i, dict) and i.get(key) == wanted)]
    elif last.startswith("v:") and isinstance(current, list):
        wanted = json.loads(last[2:])
        current[:] = [i for i in current if i != wanted]
    # Drop maps left empty by the removal (never the object itself).
    while parents and isinstance(current, dict) and not current:
        parent, token = parents.pop()
        if token.startswith("f:") and isinstance(parent, dict):
            parent.pop(token[2:], None)
        current = parent


# --- FieldsV1 --------------------------------------------------------------------------------


def to_fields_v1(paths: Iterable[Path]) -> Obj:
    """``{("f:spec","f:replicas")}`` -> ``{"f:spec": {"f:replicas": {}}}``; list elements of
    merge lists get their own ``"."`` node, as the apiserver writes them."""
    tree: Obj = {}
    for path in sorted(paths):
        node = tree
        for token in path:
            node = node.setdefault(token, {})
        if path and path[-1].startswith("k:"):
            node["."] = {}
    return tree


def from_fields_v1(tree: Any, prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    if not isinstance(tree, dict):
        return out
    for token, child in tree.items():
        if token == ".":
            if prefix:
                out.add(prefix)
            continue
        path = (*prefix, token)
        if not child or token.startswith("v:"):
            out.add(path)
        if isinstance(child, dict) and child:
            out |= from_fields_v1(child, path)
    return out


@dataclass
class Entry:
    """One ``managedFields`` entry, its fields as a set of paths."""

    manager: str
    operation: str
    api_version: str
    time: str
    fields: set[Path] = field(default_factory=set)
    subresource: str = ""

    @classmethod
    def parse(cls, raw: Any) -> Entry | None:
        if not isinstance(raw, dict) or not raw.get("manager"):
            return None
        return cls(
            manager=str(raw["manager"]),
            operation=str(raw.get("operation") or UPDATE),
            api_version=str(raw.get("apiVersion") or ""),
            time=str(raw.get("time") or ""),
            fields=from_fields_v1(raw.get("fieldsV1")),
            subresource=str(raw.get("subresource") or ""),
        )

    def render(self) -> Obj:
        entry: Obj = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
        }
        if self.time:
            entry["time"] = self.time
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = to_fields_v1(self.fields)
        if self.subresource:
            entry["subresource"] = self.subresource
        return entry

    @property
    def identity(self) -> tuple[str, str, str]:
        """Who an entry is: the same name applying and updating are two managers."""
        return (self.manager, self.operation, self.subresource)

    def describe(self) -> str:
        """How conflicts name a manager: ``"kubectl"``, ``"x" using apps/v1``."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text


def entries_of(obj: Obj) -> list[Entry]:
    raw = (obj.get("metadata") or {}).get("managedFields")
    parsed = [Entry.parse(item) for item in raw] if isinstance(raw, list) else []
    return [entry for entry in parsed if entry is not None]


def _store_entries(obj: Obj, entries: list[Entry]) -> None:
    meta = obj.setdefault("metadata", {})
    kept = [entry.render() for entry in entries if entry.fields]
    if kept:
        meta["managedFields"] = kept
    else:
        meta.pop("managedFields", None)


def _owned_prefixes(entries: Iterable[Entry]) -> set[Path]:
    prefixes: set[Path] = set()
    for entry in entries:
        for path in entry.fields:
            for length in range(1, len(path) + 1):
                prefixes.add(path[:length])
    return prefixes


# --- updates ---------------------------------------------------------------------------------


def record_update(
    old: Obj | None,
    new: Obj,
    manager: str,
    api_version: str,
    now: str,
    kind: str | None = None,
    subresource: str = "",
) -> Obj:
    """``new`` with its managedFields after ``manager`` wrote it over ``old`` (None: create).

    The manager's ``Update`` entry (one per subresource: ``kubectl scale`` writes through
    ``/scale``) gains the fields whose value it set or changed; every other entry loses them,
    and fields the write removed leave every entry.
    """
    result = copy.deepcopy(new)
    entries = entries_of(result)
    new_fields = field_set(result, kind)
    old_fields = field_set(old, kind) if old is not None else set()
    changed = {
        path
        for path in new_fields
        if path not in old_fields
        or (not _is_element(path) and value_at(old, path) != value_at(result, path))
    }
    removed = old_fields - new_fields
    for entry in entries:
        if entry.fields & (changed | removed):
            entry.fields -= changed | removed
    if changed:
        mine = _entry(entries, manager, UPDATE, api_version, now, subresource)
        mine.fields |= changed
        mine.time = now
    _store_entries(result, entries)
    return result


def _entry(
    entries: list[Entry],
    manager: str,
    operation: str,
    api_version: str,
    now: str,
    subresource: str = "",
) -> Entry:
    """The entry of (manager, operation, subresource), added when missing."""
    for entry in entries:
        if entry.identity == (manager, operation, subresource):
            entry.api_version = api_version
            return entry
    entry = Entry(manager, operation, api_version, now, subresource=subresource)
    entries.append(entry)
    return entry


# --- server-side apply -----------------------------------------------------------------------


class ApplyConflict(StoreError):
    """409: the configuration sets fields other managers own with other values."""

    code = 409
    reason = "Conflict"

    def __init__(self, conflicts: list[tuple[Entry, Path]]):
        causes = [
            {
                "reason": "FieldManagerConflict",
                "message": f"conflict with {entry.describe()}",
                "field": path_text(path),
            }
            for entry, path in conflicts
        ]
        super().__init__(conflict_message(conflicts), details={"causes": causes})


def conflict_message(conflicts: list[tuple[Entry, Path]]) -> str:
    """The apiserver's text, e.g. ``Apply failed with 1 conflict: conflict with "kubectl"
    using apps/v1: .spec.replicas``; several are grouped by manager, one ``- path`` a line."""
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {entry.describe()}: {path_text(path)}"
    by_manager: dict[str, list[str]] = {}
    for entry, path in conflicts:
        by_manager.setdefault(entry.describe(), []).append(path_text(path))
    lines: list[str] = []
    for manager in sorted(by_manager):
        lines.append(f"conflicts with {manager}:")
        lines.extend(f"- {path}" for path in by_manager[manager])
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)


def path_text(path: Path) -> str:
    """``.spec.template.spec.containers[name="web"].image``, as structured-merge-diff prints."""
    text = ""
    for token in path:
        if token.startswith("f:"):
            text += "." + token[2:]
        elif token.startswith("k:"):
            keys = json.loads(token[2:])
            text += (
                "["
                + ",".join(
                    f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in sorted(keys.items())
                )
                + "]"
            )
        elif token.startswith("v:"):
            text += f"[={token[2:]}]"
    return text


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_nulls(v)
            for k, v in value.items()
            if v is not None and not k.startswith("$")
        }
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def configuration(applied: Any, api_version: str, kind: str, name: str) -> Obj:
    """Check an apply body against the URL and clean it (no nulls, no ``$`` directives)."""
    if not isinstance(applied, dict):
        raise BadRequest("the apply configuration must be an object")
    if applied.get("apiVersion") != api_version or applied.get("kind") != kind:
        raise BadRequest(
            f"the apply configuration's apiVersion/kind ({applied.get('apiVersion')}/"
            f"{applied.get('kind')}) does not match the URL ({api_version}/{kind})"
        )
    meta = applied.get("metadata")
    if not isinstance(meta, dict) or not meta.get("name"):
        raise BadRequest("metadata.name is required for apply")
    if meta["name"] != name:
        raise BadRequest(
            f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
        )
    return _without_nulls(applied)


def apply(live: Obj | None, config: Obj, manager: str, *, force: bool, now: str, kind: str) -> Obj:
    """The object after ``manager`` applies ``config`` (cleaned by :func:`configuration`)
    over ``live`` (None: the object is created). Raises :class:`ApplyConflict`."""
    api_version = str(config.get("apiVersion", ""))
    applied_fields = field_set(config, kind)
    if live is None:
        created = copy.deepcopy(config)
        _store_entries(created, [Entry(manager, APPLY, api_version, now, applied_fields)])
        return created

    entries = entries_of(live)
    me = (manager, APPLY, "")
    others = [e for e in entries if e.identity != me]
    conflicts: list[tuple[Entry, Path]] = []
    for entry in others:
        for path in sorted(entry.fields & applied_fields):
            if _is_element(path):
                continue
            current = value_at(live, path)
            if current is not _MISSING and current != value_at(config, path):
                conflicts.append((entry, path))
    if conflicts and not force:
        raise ApplyConflict(conflicts)
    for entry, path in conflicts:
        entry.fields.discard(path)

    mine = next((e for e in entries if e.identity == me), None)
    previous = mine.fields if mine is not None else set()
    kept_by_others = _owned_prefixes(others)
    dropped = {path for path in previous - applied_fields if path not in kept_by_others}
    merged = strategic_merge_patch(remove_paths(live, dropped), _merge_body(config), kind)

    if mine is None:
        mine = Entry(manager, APPLY, api_version, now)
        entries.append(mine)
    if mine.fields != applied_fields or mine.api_version != api_version:
        mine.time = now
    mine.fields, mine.api_version = set(applied_fields), api_version
    _store_entries(merged, entries)
    return merged


def _merge_body(config: Obj) -> Obj:
    """What of the configuration merges into the live object: no status, no identity."""
    body = {k: copy.deepcopy(v) for k, v in config.items() if k != "status"}
    meta = body.get("metadata")
    if isinstance(meta, dict):
        for key in UNOWNED_METADATA - {"name", "namespace", "resourceVersion", "uid"}:
            meta.pop(key, None)
    return body
