"""Recording Kubernetes Events (core/v1), the way client-go's event recorder does.

An event names the object it is about (``involvedObject``), a reason, a message, a type
(``Normal`` or ``Warning``) and the component that reported it. Repeats of the same event
(same object, reason, message, type and source) are aggregated: the existing Event's ``count``
goes up and its ``lastTimestamp`` moves, instead of a new object each time.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from cluster.models import Event
from cluster.store import write
from cluster.store.objects import format_time

Obj = dict[str, Any]


def involved_object(obj: Obj, field_path: str = "") -> Obj:
    """The ``ObjectReference`` of ``obj``, as events carry it."""
    meta = obj.get("metadata") or {}
    reference = {
        "apiVersion": obj.get("apiVersion", ""),
        "kind": obj.get("kind", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    if meta.get("namespace"):
        reference["namespace"] = meta["namespace"]
    if field_path:
        reference["fieldPath"] = field_path
    return reference


def record(
    obj: Obj,
    reason: str,
    message: str,
    *,
    type: str = "Normal",
    component: str,
    host: str = "",
    field_path: str = "",
    now: dt.datetime | None = None,
) -> Obj:
    """Record (or aggregate) an event about ``obj`` from ``component``; returns the Event."""
    return record_reference(
        involved_object(obj, field_path),
        reason,
        message,
        type=type,
        component=component,
        host=host,
        now=now,
    )


def record_reference(
    involved: Obj,
    reason: str,
    message: str,
    *,
    type: str = "Normal",
    component: str,
    host: str = "",
    now: dt.datetime | None = None,
) -> Obj:
    """Record (or aggregate) an event about the object ``involved`` refers to."""
    from cluster import clock

    now = (now or clock.now_datetime()).replace(microsecond=0)
    involved = {k: v for k, v in involved.items() if v not in (None, "")}
    involved.setdefault("uid", "")
    namespace = involved.get("namespace") or "default"
    existing = (
        Event.objects.filter(
            namespace=namespace,
            involved_uid=involved.get("uid", ""),
            involved_name=involved["name"],
            reason=reason,
            type=type,
            source_component=component,
        )
        .order_by("-last_timestamp")
        .values_list("name", "body")
        .first()
    )
    if existing and existing[1].get("message") == message:

        def bump(event: Obj) -> Obj:
            event["count"] = int(event.get("count") or 1) + 1
            event["lastTimestamp"] = format_time(now)
            return event

        return write.mutate("Event", namespace, existing[0], bump, actor=component)

    source: Obj = {"component": component}
    if host:
        source["host"] = host
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{involved['name']}.{secrets.token_hex(8)}", "namespace": namespace},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": type,
        "source": source,
        "count": 1,
        "firstTimestamp": format_time(now),
        "lastTimestamp": format_time(now),
        "reportingComponent": component,
        "reportingInstance": host,
    }
    return write.create(event, actor=component)
