"""Watches: ``GET <collection>?watch=true``, streamed from the store's change log.

One JSON event per line (kubectl-contract §5.2), flushed as it happens:
``{"type":"ADDED|MODIFIED|DELETED","object":{...}}``. How a watch starts (§5.3):

- ``resourceVersion`` unset or ``"0"``: synthetic ``ADDED`` events for every current match
  first (the Python client's ``watch.stream`` and ``kubectl get pod X -w``), then live changes;
- ``resourceVersion=N``: every change after revision N, including those made before the
  watch connected (kubectl's reflector resumes this way); when the log no longer reaches back
  to N, a single ``ERROR`` event carrying a 410 ``Expired`` Status;
- ``sendInitialEvents=true`` (watch-list): the synthetic ADDED events, then a ``BOOKMARK``
  annotated ``k8s.io/initial-events-end``.

Changes are filtered by namespace, label selector and field selector, applied to the logged
object. An object that stops matching is sent as ``DELETED`` and one that starts matching as
``ADDED``, as the apiserver does: whether it matched before is remembered per uid (or read from
its previous log row). ``BOOKMARK`` events only come when ``allowWatchBookmarks=true`` (an
unrequested one breaks ``kubectl get -w``). When the Accept header asks for Tables, every
event's object is a one-row Table (column definitions in the first only).

The headers go out at once (an empty first chunk: Daphne writes them with the first body
bytes), so a client knows the watch is established before any event. The stream polls the
change log every 100 ms (one tiny query for the current revision, one more
when it moved), which is simple and works across processes; it ends after ``timeoutSeconds``
(default 30 minutes) or when the client goes away.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, StreamingHttpResponse

from cluster import clock
from cluster.api import auth, metrics
from cluster.api.http import (
    JSON,
    conversion,
    method_not_allowed,
    parse_bool,
    parse_int,
    reconnecting,
)
from cluster.api.routes import Route
from cluster.models import Change
from cluster.store import read, tables
from cluster.store.errors import BadRequest, Gone, StoreError
from cluster.store.kinds import Kind, get_path
from cluster.store.selectors import (
    FieldRequirement,
    LabelSelector,
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)

Obj = dict[str, Any]

POLL_SECONDS = 0.1
DEFAULT_TIMEOUT_SECONDS = 1800
BOOKMARK_SECONDS = 30.0
BATCH = 500
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


def is_watch(request: HttpRequest, route: Route) -> bool:
    return route.watch or parse_bool(request.GET.get("watch"), "watch")


@dataclass
class Filter:
    """Which logged objects a watch delivers, and whether each matched before."""

    namespace: str | None
    labels: LabelSelector | None
    fields: list[FieldRequirement]
    matched: dict[str, bool] = field(default_factory=dict)

    @property
    def selective(self) -> bool:
        return self.labels is not None or bool(self.fields)

    def matches(self, obj: Obj) -> bool:
        meta = obj.get("metadata") or {}
        if self.labels is not None and not self.labels.matches(meta.get("labels") or {}):
            return False
        for requirement in self.fields:
            if (field_text(obj, requirement.field) == requirement.value) != (requirement.op == "="):
                return False
        return True

    def event(self, change: Change) -> tuple[str, Obj] | None:
        """The event a change means to this watch (None: not for it)."""
        if self.namespace and change.namespace != self.namespace:
            return None
        obj = change.object
        uid = str(change.uid)
        if not self.selective:
            return change.type, obj
        now = change.type != "DELETED" and self.matches(obj)
        before = self._matched_before(change)
        if change.type == "DELETED":
            self.matched.pop(uid, None)
            return ("DELETED", obj) if before or self.matches(obj) else None
        self.matched[uid] = now
        if now and before:
            return "MODIFIED", obj
        if now:
            return "ADDED", obj
        if before:
            return "DELETED", obj
        return None

    def _matched_before(self, change: Change) -> bool:
        uid = str(change.uid)
        if uid in self.matched:
            return self.matched[uid]
        if change.type == "ADDED":
            return False
        previous = (
            Change.objects.filter(uid=change.uid, revision__lt=change.revision)
            .order_by("-revision")
            .values_list("type", "object")
            .first()
        )
        return bool(previous) and previous[0] != "DELETED" and self.matches(previous[1])


def field_text(obj: Obj, path: str) -> str:
    """A field as field selectors compare it: strings as they are, booleans ``true``/``false``."""
    value = get_path(obj, path)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def make_filter(kind: Kind, namespace: str | None, query: Any) -> Filter:
    labels = None
    text = query.get("labelSelector") or ""
    if text.strip():
        try:
            labels = parse_label_selector(text)
        except SelectorError as error:
            raise BadRequest(f"unable to parse requirement: {error}") from None
    try:
        fields = parse_field_selector(query.get("fieldSelector") or "")
    except SelectorError as error:
        raise BadRequest(f"invalid field selector: {error}") from None
    selectable = kind.field_selectors
    for requirement in fields:
        if requirement.field not in selectable:
            raise BadRequest(
                f'"{requirement.field}" is not a known field selector: only '
                f'"{", ".join(sorted(selectable))}"'
            )
    return Filter(namespace if kind.namespaced else None, labels, fields)


@dataclass
class Encoder:
    """Events as JSON lines, objects wrapped in one-row Tables when the client asks."""

    kind: Kind
    table_version: str | None
    include_object: str
    sent_columns: bool = False

    def line(self, event_type: str, obj: Obj) -> bytes:
        return (
            json.dumps({"type": event_type, "object": obj}, separators=(",", ":")) + "\n"
        ).encode()

    def event(self, event_type: str, obj: Obj) -> bytes:
        if self.table_version is None:
            return self.line(event_type, obj)
        try:
            table = tables.table(
                self.kind.kind,
                [obj],
                clock.now_datetime(),
                resource_version=str((obj.get("metadata") or {}).get("resourceVersion", "")),
                include_object=self.include_object,
            )
        except ValueError as error:
            raise BadRequest(str(error)) from None
        table["apiVersion"] = f"meta.k8s.io/{self.table_version}"
        if self.sent_columns:
            table["columnDefinitions"] = []
        self.sent_columns = True
        return self.line(event_type, table)

    def bookmark(self, revision: int, annotations: dict[str, str] | None = None) -> bytes:
        meta: Obj = {"resourceVersion": str(revision)}
        if annotations:
            meta["annotations"] = annotations
        if self.table_version is not None:
            obj: Obj = {
                "kind": "Table",
                "apiVersion": f"meta.k8s.io/{self.table_version}",
                "metadata": meta,
                "columnDefinitions": [],
                "rows": [],
            }
        else:
            obj = {"kind": self.kind.kind, "apiVersion": self.kind.api_version, "metadata": meta}
        return self.line("BOOKMARK", obj)

    def error(self, error: StoreError) -> bytes:
        return self.line("ERROR", error.as_status())


@dataclass
class Watch:
    kind: Kind
    filter: Filter
    encoder: Encoder
    revision: int
    timeout: float
    bookmarks: bool
    initial: list[bytes]


def _start(request: HttpRequest, route: Route) -> Watch:
    """Check the request, and list the current matches when the watch starts from "now"."""
    kind = route.kind
    assert kind is not None
    if metrics.is_metrics(kind):  # metrics-server serves get and list only
        raise method_not_allowed()
    auth.authorize(request, "watch", kind, route.namespace)
    query = request.GET
    target, version = conversion(request)
    encoder = Encoder(kind, version if target == "Table" else None, query.get("includeObject", ""))
    watch_filter = make_filter(kind, route.namespace, query)
    timeout = parse_int(query.get("timeoutSeconds"), "timeoutSeconds")
    bookmarks = parse_bool(query.get("allowWatchBookmarks"), "allowWatchBookmarks")
    send_initial = parse_bool(query.get("sendInitialEvents"), "sendInitialEvents")
    resource_version = query.get("resourceVersion", "")
    initial: list[bytes] = []
    if resource_version in ("", "0") or send_initial:
        listed = read.list_objects(
            kind,
            route.namespace,
            label_selector=query.get("labelSelector"),
            field_selector=query.get("fieldSelector"),
        )
        revision = listed.resource_version
        for item in listed.items:
            watch_filter.matched[item["metadata"]["uid"]] = True
            initial.append(encoder.event("ADDED", item))
        if send_initial:
            initial.append(encoder.bookmark(revision, {INITIAL_EVENTS_END: "true"}))
    else:
        try:
            revision = int(resource_version)
        except ValueError:
            raise BadRequest(f"invalid resource version: {resource_version!r}") from None
        try:
            read.changes_since(revision, [kind.kind], limit=1)
        except Gone as gone:
            initial.append(encoder.error(gone))
            revision = -1
    return Watch(
        kind,
        watch_filter,
        encoder,
        revision,
        float(timeout if timeout and timeout > 0 else DEFAULT_TIMEOUT_SECONDS),
        bookmarks,
        initial,
    )


def _poll(watch: Watch) -> tuple[list[bytes], bool]:
    """The events of one batch of changes after the watch's revision (advancing it), and
    whether the watch has caught up with the log. One batch per call, so a failed call loses
    no event: the revision only moves once the batch's events are in hand."""
    current = read.current_revision()
    if watch.revision >= current:
        return [], True
    try:
        changes = read.changes_since(watch.revision, [watch.kind.kind], limit=BATCH)
    except Gone as gone:
        watch.revision = -1
        return [watch.encoder.error(gone)], True
    changes = [c for c in changes if c.revision <= current]
    lines: list[bytes] = []
    for change in changes:
        event = watch.filter.event(change)
        if event is not None:
            lines.append(watch.encoder.event(*event))
    caught_up = len(changes) < BATCH
    watch.revision = current if caught_up else changes[-1].revision
    return lines, caught_up


async def stream(request: HttpRequest, route: Route) -> StreamingHttpResponse:
    watch = await sync_to_async(_start)(request, route)
    poll = sync_to_async(reconnecting(_poll), thread_sensitive=False)

    async def events() -> AsyncIterator[bytes]:
        yield b""  # sends the headers now: the client's request returns before any event
        for line in watch.initial:
            yield line
        if watch.revision < 0:
            return
        deadline = time.monotonic() + watch.timeout
        last_bookmark = time.monotonic()
        while time.monotonic() < deadline:
            lines, caught_up = await poll(watch)
            for line in lines:
                yield line
            if watch.revision < 0:
                return
            if watch.bookmarks and time.monotonic() - last_bookmark >= BOOKMARK_SECONDS:
                last_bookmark = time.monotonic()
                yield watch.encoder.bookmark(watch.revision)
            if caught_up:
                await asyncio.sleep(POLL_SECONDS)

    return StreamingHttpResponse(events(), content_type=JSON)
