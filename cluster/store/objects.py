"""Kubernetes JSON in and out of the models.

``to_dict(row)`` gives the object as the API server would print it; ``fill(row, obj)`` stores an
object dict on a row (metadata in columns, the rest verbatim in JSON, projections recomputed).
A round trip loses nothing a manifest said: unknown metadata goes to ``extra_metadata`` and
every top-level field other than metadata/spec/status goes to ``body``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from cluster.store.jsondata import copy_json
from cluster.store.kinds import Kind, for_model

# Metadata that lives in real columns; everything else in metadata is kept verbatim.
_COLUMN_METADATA = {
    "name",
    "namespace",
    "uid",
    "labels",
    "annotations",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
    "finalizers",
}
# Metadata a client may not set: the server owns it.
SERVER_METADATA = {
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
}


def format_time(value: dt.datetime | None) -> str | None:
    """RFC 3339 in UTC with second precision, as Kubernetes' metav1.Time marshals."""
    if value is None:
        return None
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    if value.year < 1000:  # strftime does not pad the year; keep what it printed
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"  # faster than strftime


def parse_time(value: Any) -> dt.datetime | None:
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def controller_of(owner_references: list[dict]) -> dict | None:
    for ref in owner_references or []:
        if isinstance(ref, dict) and ref.get("controller"):
            return ref
    return None


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def metadata_of(row) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": row.name}
    if row.namespace:
        meta["namespace"] = row.namespace
    meta["uid"] = str(row.uid)
    meta["resourceVersion"] = str(row.resource_version)
    meta["generation"] = row.generation
    meta["creationTimestamp"] = format_time(row.creation_timestamp)
    if row.deletion_timestamp is not None:
        meta["deletionTimestamp"] = format_time(row.deletion_timestamp)
        if row.deletion_grace_period_seconds is not None:
            meta["deletionGracePeriodSeconds"] = row.deletion_grace_period_seconds
    if row.labels:
        meta["labels"] = dict(row.labels)
    if row.annotations:
        meta["annotations"] = dict(row.annotations)
    if row.owner_references:
        meta["ownerReferences"] = copy_json(row.owner_references)
    if row.finalizers:
        meta["finalizers"] = list(row.finalizers)
    for key, value in (row.extra_metadata or {}).items():
        meta.setdefault(key, copy_json(value))
    return meta


def _same(value: Any) -> Any:
    return value


def to_dict(row, kind: Kind | None = None, *, copy_content: bool = True) -> dict[str, Any]:
    """The object as Kubernetes JSON: apiVersion, kind, metadata, spec, other fields, status.

    The content is deep-copied so callers may change the result freely; a caller that owns a
    freshly loaded row (a list) passes ``copy_content=False`` to skip the copy.
    """
    kind = kind or for_model(row)
    clone = copy_json if copy_content else _same
    obj: dict[str, Any] = {
        "apiVersion": kind.api_version,
        "kind": kind.kind,
        "metadata": metadata_of(row),
    }
    if not kind.has_spec:  # ConfigMaps, Secrets, Events... carry no generation in Kubernetes
        obj["metadata"].pop("generation", None)
    if kind.has_spec:
        obj["spec"] = clone(row.spec or {})
    for key, value in (row.body or {}).items():
        obj[key] = clone(value)
    if kind.status_subresource:
        obj["status"] = clone(row.status or {})
    return obj


def content_of(obj: dict[str, Any], kind: Kind) -> tuple[dict, dict, dict]:
    """Split an object into (spec, body, status) the way rows store them."""
    spec = obj.get("spec") if kind.has_spec else None
    status = obj.get("status") if kind.status_subresource else None
    body = {
        k: v
        for k, v in obj.items()
        if k not in {"apiVersion", "kind", "metadata", "status"}
        and (k != "spec" or not kind.has_spec)
    }
    return (
        copy_json(spec) if isinstance(spec, dict) else {},
        copy_json(body),
        copy_json(status) if isinstance(status, dict) else {},
    )


def fill(row, obj: dict[str, Any], kind: Kind) -> None:
    """Store ``obj`` on ``row``: client-settable metadata, content and the column projections.

    Server-owned metadata (uid, resourceVersion, generation, timestamps) is the write path's job.
    """
    meta = obj.get("metadata") or {}
    row.name = meta.get("name", "")
    row.namespace = meta.get("namespace", "") if kind.namespaced else ""
    row.labels = dict(meta.get("labels") or {})
    row.annotations = dict(meta.get("annotations") or {})
    row.owner_references = copy_json(meta.get("ownerReferences") or [])
    row.finalizers = list(meta.get("finalizers") or [])
    controller = controller_of(row.owner_references)
    row.controller_uid = _uuid_or_none(controller.get("uid")) if controller else None
    row.extra_metadata = {
        k: copy_json(v)
        for k, v in meta.items()
        if k not in _COLUMN_METADATA and k not in SERVER_METADATA
    }
    row.spec, row.body, row.status = content_of(obj, kind)
    project(row, obj, kind)


def project(row, obj: dict[str, Any], kind: Kind) -> None:
    """Recompute the indexed columns from the object."""
    for column in kind.columns:
        setattr(row, column.name, column.value(obj))
