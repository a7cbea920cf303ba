"""Recording Kubernetes Events (core/v1), the way client-go's event recorder does.

An event names the object it is about (``involvedObject``), a reason, a message, a type
(``Normal`` or ``Warning``) and the component that reported it. Repeats of the same event
(same object, reason, message, type and source) are aggregated: the existing Event's ``count``
goes up and its ``lastTimestamp`` moves, instead of a new object each time.

``record_many`` records a whole list with a handful of statements (one query finds the events
to aggregate, one batched create, one batched update): the scheduler binding hundreds of pods
and a kubelet starting a node's pods report their events that way. ``record`` and
``record_reference`` are the one-event forms of the same thing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from cluster.models import Event
from cluster.store.objects import format_time

Obj = dict[str, Any]


class Note(NamedTuple):
    """One event to record: about the object ``involved`` refers to (see ``involved_object``)."""

    involved: Obj
    reason: str
    message: str
    type: str = "Normal"
    component: str = ""
    host: str = ""
    now: dt.datetime | None = None


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
    result = record_many([Note(involved, reason, message, type, component, host, now)])[0]
    if isinstance(result, Exception):
        raise result
    return result


def record_many(notes: Sequence[Note]) -> list[Any]:
    """Record (or aggregate) every event of ``notes``, in order; the Events or errors.

    A note whose event already exists (the newest one with the same object uid and name,
    reason, type, source and message: client-go's aggregation key) bumps that event's
    ``count`` and ``lastTimestamp``; so does a repeat within ``notes``. The others are created,
    with their source component as the change log's actor. Errors concern one event each (a
    ``StoreError`` in its place, as ``batch`` returns them); the rest are still written.
    """
    return write_prepared(prepare(notes))


class PreparedEvents(NamedTuple):
    """``notes`` made ready to write (see ``prepare``)."""

    keys: list[tuple]  # the aggregation key of each note, in order
    # Per component, the new events: their keys and their ``batch.Prepared``.
    creates: list[tuple[str, list[tuple], Any]]
    bumps: list[tuple[str, str, list[tuple[tuple, _Plan]]]]  # (namespace, component, plans)


def prepare(notes: Sequence[Note]) -> PreparedEvents:
    """What ``record_many`` does before it writes: the events made, the stored ones to
    aggregate with found (a read), the new ones defaulted and validated. A writer that holds a
    transaction for its own changes prepares its events before opening it, and writes them
    inside with ``write_prepared``. Two writers recording the same event at once may then both
    create it rather than one aggregating (as two of client-go's recorders would)."""
    from cluster import clock
    from cluster.store import batch

    if not notes:
        return PreparedEvents([], [], [])
    default_now = clock.now_datetime()
    made = [_prepared(note, default_now) for note in notes]
    stored = _latest_events({key for key, _ in made})
    plans: dict[tuple, _Plan] = {}
    for key, event in made:
        plan = plans.get(key)
        if plan is None:
            found = stored.get(key)
            if found is not None:
                plans[key] = _Plan(found[0], None, 1, event["lastTimestamp"])
            else:
                plans[key] = _Plan(event["metadata"]["name"], event, 0, event["lastTimestamp"])
            continue
        plan.add += 1
        plan.last = max(plan.last, event["lastTimestamp"])

    creates: dict[str, list[tuple[tuple, _Plan]]] = {}
    bumps: dict[tuple[str, str], list[tuple[tuple, _Plan]]] = {}
    for key, plan in plans.items():
        # Creates grouped by component (the actor); bumps by namespace and component.
        if plan.new is not None:
            plan.new["count"] += plan.add
            plan.new["lastTimestamp"] = plan.last
            creates.setdefault(key[5], []).append((key, plan))
        else:
            bumps.setdefault((key[0], key[5]), []).append((key, plan))
    return PreparedEvents(
        [key for key, _ in made],
        [
            (
                component,
                [key for key, _ in items],
                batch.prepare_creates([plan.new for _, plan in items]),
            )
            for component, items in creates.items()
        ],
        [(namespace, component, items) for (namespace, component), items in bumps.items()],
    )


def write_prepared(prepared: PreparedEvents) -> list[Any]:
    """Write what ``prepare`` made ready; the Events or errors, one per note."""
    from cluster.store import batch

    outcome: dict[tuple, Any] = {}
    for component, keys, ready in prepared.creates:
        results = batch.create_prepared(ready, actor=component)
        outcome.update(zip(keys, results, strict=True))
    for namespace, component, items in prepared.bumps:
        changes = [(namespace, plan.name, _bump(plan.add, plan.last)) for _, plan in items]
        results = batch.mutate_many("Event", changes, actor=component)
        outcome.update(zip((key for key, _ in items), results, strict=True))
    return [outcome[key] for key in prepared.keys]


@dataclass
class _Plan:
    """What becomes of one aggregation key: the event it goes to, created anew (``new``) or
    bumped by ``add``, and the newest timestamp among its notes."""

    name: str
    new: Obj | None
    add: int
    last: str


def _bump(add: int, last: str):
    def bump(event: Obj) -> Obj:
        event["count"] = int(event.get("count") or 1) + add
        event["lastTimestamp"] = max(event.get("lastTimestamp") or "", last)
        return event

    return bump


def _prepared(note: Note, default_now: dt.datetime) -> tuple[tuple, Obj]:
    """The aggregation key of ``note`` and the Event that records it the first time."""
    now = (note.now or default_now).replace(microsecond=0)
    involved = {k: v for k, v in note.involved.items() if v not in (None, "")}
    involved.setdefault("uid", "")
    namespace = involved.get("namespace") or "default"
    key = (
        namespace,
        involved["uid"],
        involved["name"],
        note.reason,
        note.type,
        note.component,
        note.message,
    )
    source: Obj = {"component": note.component}
    if note.host:
        source["host"] = note.host
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{involved['name']}.{secrets.token_hex(8)}", "namespace": namespace},
        "involvedObject": involved,
        "reason": note.reason,
        "message": note.message,
        "type": note.type,
        "source": source,
        "count": 1,
        "firstTimestamp": format_time(now),
        "lastTimestamp": format_time(now),
        "reportingComponent": note.component,
        "reportingInstance": note.host,
    }
    return key, event


def _latest_events(keys: set[tuple]) -> dict[tuple, tuple[str, Obj]]:
    """For each aggregation key, the newest stored event's name and body (one query; the
    rows it reads beyond the keys are few: events of the same objects and reasons)."""
    if not keys:
        return {}
    rows = (
        Event.objects.filter(
            namespace__in={key[0] for key in keys},
            involved_uid__in={key[1] for key in keys},
            reason__in={key[3] for key in keys},
        )
        .order_by("last_timestamp", "id")
        .values_list(
            "namespace",
            "involved_uid",
            "involved_name",
            "reason",
            "type",
            "source_component",
            "name",
            "body",
        )
    )
    latest: dict[tuple, tuple[str, Obj]] = {}
    for namespace, uid, involved_name, reason, type_, component, name, body in rows.iterator():
        key = (namespace, uid, involved_name, reason, type_, component, body.get("message"))
        if key in keys:
            latest[key] = (name, body)  # ordered oldest first: the newest wins
    return latest
