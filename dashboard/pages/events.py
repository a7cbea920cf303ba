"""The Events page: a live timeline of Kubernetes events, newest first, paginated.

Filters are a GET form (bookmarkable): namespace (the page's selector), the involved object's
kind, the reason and the type (Normal or Warning). Each row shows what ``kubectl get events``
shows: type, reason, object, message, source component, when it was last and first seen, and
how many times it happened (the recorder aggregates repeats into one Event with a count).

The list is the live fragment ``#events``: a new or repeated event re-renders it, and so does
the tick every ``AGE_TICKS`` seconds when the ages it shows have moved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import F

from cluster import clock
from cluster.models import Event
from cluster.store import kinds, tables
from cluster.store.objects import to_dict
from cluster.store.read import current_revision
from dashboard.pages import listing, states

TEMPLATE = "dashboard/events.html"
VIEW = "events"
# Reading the page needs "list" on this resource (and API group) in its namespace.
READ = ("events", "")
PER_PAGE = 50
TYPES = ("Normal", "Warning")
LIVE = {"events": frozenset({"Event"})}
CHOICES_LIMIT = 200
# The list's ages ("45s", "3m") are re-rendered every this many ticks (seconds).
AGE_TICKS = 5


@dataclass(frozen=True)
class Focus:
    namespace: str = ""
    kind: str = ""
    reason: str = ""
    type: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> Focus:
        kind = str(query.get("kind") or "")
        reason = str(query.get("reason") or "")
        type_ = str(query.get("type") or "")
        return cls(
            namespace=listing.clean_namespace(query.get("namespace")),
            kind=kind if kind.isalnum() and len(kind) <= 64 else "",
            reason=reason if reason.isalnum() and len(reason) <= 128 else "",
            type=type_ if type_ in TYPES else "",
            page=listing.clean_page(query.get("page")),
        )

    def params(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "kind": self.kind,
            "reason": self.reason,
            "type": self.type,
            "page": self.page,
        }

    def query(self, **changes: Any) -> str:
        return listing.query_string({**self.params(), **changes})


@dataclass
class EventRow:
    type: str
    state: states.State
    reason: str
    kind: str
    object: str  # "pod/web-1", as kubectl prints it
    url: str
    namespace: str
    message: str
    source: str
    last_seen: str
    first_seen: str
    count: int


def _queryset(focus: Focus):
    rows = Event.objects.all()
    if focus.namespace:
        rows = rows.filter(namespace=focus.namespace)
    if focus.kind:
        rows = rows.filter(involved_kind=focus.kind)
    if focus.reason:
        rows = rows.filter(reason=focus.reason)
    if focus.type:
        rows = rows.filter(type=focus.type)
    return rows.order_by(
        F("last_timestamp").desc(nulls_last=True), "-creation_timestamp", "-resource_version"
    )


def _object_url(kind: str, namespace: str, name: str) -> str:
    try:
        scoped = kinds.by_kind(kind).namespaced
    except kinds.UnknownKind:  # an event about a kind Kubarium does not store (a Lease...)
        return ""
    return listing.object_url(kind, namespace if scoped else "", name) if name else ""


def event_rows(rows: Sequence[Event]) -> list[EventRow]:
    now = clock.now_datetime()
    kind = kinds.by_kind("Event")
    result = []
    for row in rows:
        cells = tables.cells_for(to_dict(row, kind, copy_content=False), now, "Event")
        last_seen, type_, reason, target, _field, source, message, first_seen, count = cells[:9]
        result.append(
            EventRow(
                type=type_,
                state=states.FAILING if type_ == "Warning" else states.READY,
                reason=reason,
                kind=row.involved_kind,
                object=target,
                url=_object_url(row.involved_kind, row.involved_namespace, row.involved_name),
                namespace=row.namespace,
                message=message,
                source=source,
                last_seen=last_seen,
                first_seen=first_seen,
                count=count,
            )
        )
    return result


def choices(focus: Focus) -> dict[str, list[str]]:
    """The kinds and reasons there are events for (in the namespace): two distinct queries."""
    rows = Event.objects.all()
    if focus.namespace:
        rows = rows.filter(namespace=focus.namespace)

    def distinct(column: str) -> list[str]:
        values = rows.order_by(column).values_list(column, flat=True).distinct()
        return [v for v in values[:CHOICES_LIMIT] if v]

    return {"kinds": distinct("involved_kind"), "reasons": distinct("reason"), "types": list(TYPES)}


def region_context(focus: Focus, only: Sequence[str] | None = None) -> dict[str, Any]:
    revision = current_revision()
    params = tuple((k, str(v)) for k, v in focus.params().items() if k != "page")
    rows, pager = listing.paginate(_queryset(focus), focus.page, PER_PAGE, params=params)
    return {
        "focus": focus,
        "revision": revision,
        "stream_url": listing.stream_url(VIEW, focus.params(), revision),
        "events": event_rows(rows),
        "pager": pager,
        "choices": choices(focus),
        "filtered": bool(focus.kind or focus.reason or focus.type),
    }


def render_region(focus: Focus) -> str:
    return listing.render_sections(TEMPLATE, ["region"], region_context(focus))


def render_update(focus: Focus, messages: Sequence[Mapping[str, Any]]) -> str:
    # One section, so its context is the whole region's.
    return listing.render_update(TEMPLATE, messages, LIVE, lambda _only: region_context(focus))


def render_tick(focus: Focus, previous: tuple[int, str] | None) -> tuple[str, tuple[int, str]]:
    """Every ``AGE_TICKS`` ticks, ``#events`` again if it changed (its ages moved with the
    simulated clock); state: ``(ticks, the last HTML sent or rendered)``."""
    ticks, last = previous or (0, "")
    ticks += 1
    if ticks % AGE_TICKS:
        return "", (ticks, last)
    html = listing.render_sections(TEMPLATE, ["events"], region_context(focus))
    return ("" if html == last else html), (ticks, html)
