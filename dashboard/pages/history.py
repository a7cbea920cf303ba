"""Time travel on the Architecture page: the cluster as it was at an earlier revision.

``?at=R`` shows the control plane, the scheduling queue and the nodes with their pods as the
change log says they were at revision ``R`` (``cluster.store.history.objects_at``), drawn with
the same fragments as the live page and clearly marked as the past: no live stream, a banner with
the revision and the simulated time. Beside it, the scrubber (a range over the log's revisions,
steps to the previous and next change) and the timeline: the changes around ``R``, each naming
the component or user that made it.

Replay (``?at=R&speed=S``) moves forward ``S`` changes a second, driven by the browser: each
rendered step carries one element that asks for the next step after a delay (htmx ``load
delay``), so there is one request per step and none while nobody watches; the last step, at the
present, stops and offers to go back to the live page.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from cluster import faults
from cluster.kubelet.runner import KUBELET_STOPPED
from cluster.models import Change
from cluster.simclock import parse_time
from cluster.store import history, kinds
from dashboard.pages import architecture as arch
from dashboard.pages import captions, states

TIMELINE_BEFORE = 12
TIMELINE_AFTER = 4
# A replay step is at least this far apart in the browser; faster speeds skip changes per step.
REPLAY_MIN_INTERVAL_MS = 250


def replay_step(speed: int) -> tuple[int, int]:
    """``(changes per step, milliseconds between steps)`` for a replay at ``speed`` changes a
    second: at most four requests a second. 2/s is one change every 500 ms; 50/s is
    ``50 * 250 / 1000 = 12.5``, so 13 changes every 250 ms."""
    interval = max(REPLAY_MIN_INTERVAL_MS, 1000 // max(1, speed))
    return max(1, round(speed * interval / 1000 + 1e-9)), interval


# --- the past, from the change log --------------------------------------------------------


# The indexed columns the page reads, as the store projects them (``cluster.store.kinds``).
COLUMNS = {
    "Node": ("ready", "unschedulable", "cpu_allocatable", "memory_allocatable"),
    "Pod": ("node_name", "phase", "ready", "cpu_request", "memory_request"),
}
KINDS = tuple(COLUMNS)
# A step forward of at most this many changes moves the last state; further, it is read anew.
ADVANCE_LIMIT = 5000


def _projected(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    columns = {c.name: c for c in kinds.by_kind(kind).columns}
    return {name: columns[name].value(obj) for name in COLUMNS[kind]}


@dataclass(frozen=True)
class Snapshot:
    """The nodes and pods at one revision with their projected columns. Never changed once
    built: a newer one is a copy moved forward (``history.advance``)."""

    revision: int
    objects: dict[history.Key, dict[str, Any]]
    columns: dict[history.Key, dict[str, Any]]
    written: dt.datetime | None  # when its revision was written: tells a log started anew


def _written(revision: int) -> dt.datetime | None:
    return Change.objects.filter(pk=revision).values_list("created_at", flat=True).first()


_last: Snapshot | None = None
_last_lock = threading.Lock()


def snapshot_at(revision: int) -> Snapshot:
    """The nodes and pods at ``revision``. The last one built in this process is kept: a
    replay's next step (a few changes later) moves it forward instead of reading every object
    of the cluster again."""
    global _last
    with _last_lock:
        last = _last
    if last is not None and _written(last.revision) != last.written:
        last = None  # the log was started anew (a fresh database): nothing to build on
    if last is not None and last.revision == revision:
        return last
    entries = None
    if last is not None and last.revision < revision:
        entries = history.entries_between(last.revision, revision, KINDS, ADVANCE_LIMIT)
        if len(entries) > ADVANCE_LIMIT:
            entries = None
    if entries is not None and last is not None:
        objects, columns = dict(last.objects), dict(last.columns)
        for key in history.advance(objects, entries):
            if key in objects:
                columns[key] = _projected(key[0], objects[key])
            else:
                columns.pop(key, None)
    else:
        objects = history.objects_at(revision, KINDS)
        columns = {key: _projected(key[0], obj) for key, obj in objects.items()}
    snapshot = Snapshot(revision, objects, columns, _written(revision))
    with _last_lock:
        _last = snapshot
    return snapshot


@dataclass
class PastCluster:
    """The nodes and pods at one revision, with the columns the live page reads from SQL."""

    nodes: dict[str, dict[str, Any]]  # name -> node
    pods: list[dict[str, Any]]  # every namespace
    node_columns: dict[str, dict[str, Any]]
    pod_columns: list[dict[str, Any]]

    @classmethod
    def at(cls, revision: int) -> PastCluster:
        snapshot = snapshot_at(revision)
        nodes, node_columns, pods, pod_columns = {}, {}, [], []
        for key in sorted(snapshot.objects):
            kind, _ns, name = key
            if kind == "Node":
                nodes[name] = snapshot.objects[key]
                node_columns[name] = snapshot.columns[key]
            elif kind == "Pod":
                pods.append(snapshot.objects[key])
                pod_columns.append(snapshot.columns[key])
        return cls(nodes=nodes, pods=pods, node_columns=node_columns, pod_columns=pod_columns)

    def pods_in(self, namespace: str):
        for pod, columns in zip(self.pods, self.pod_columns, strict=True):
            if not namespace or pod["metadata"].get("namespace") == namespace:
                yield pod, columns


def _zone_of(past: PastCluster) -> dict[str, str]:
    return {
        name: str(((node.get("metadata") or {}).get("labels") or {}).get(arch.ZONE_LABEL) or "")
        for name, node in past.nodes.items()
    }


def _usage(past: PastCluster) -> dict[str, arch.Usage]:
    usage: dict[str, arch.Usage] = {}
    for _pod, columns in past.pods_in(""):
        if not columns["node_name"] or columns["phase"] in ("Succeeded", "Failed"):
            continue
        used = usage.setdefault(columns["node_name"], arch.Usage())
        used.cpu += columns["cpu_request"]
        used.memory += columns["memory_request"]
        used.pods += 1
    return usage


def _counts(past: PastCluster, namespace: str) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for pod, columns in past.pods_in(namespace):
        node = columns["node_name"]
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        key = states.coarse_pod_state(columns["phase"], columns["ready"], terminating, bool(node))
        per_node = counts.setdefault(node, {})
        per_node[key.key] = per_node.get(key.key, 0) + 1
    return counts


def _cards(
    past: PastCluster, names: list[str], focus: arch.Focus, now: dt.datetime
) -> dict[str, arch.NodeCard]:
    usage = _usage(past)
    counts = _counts(past, focus.namespace)
    others = _counts(past, "") if focus.namespace else counts
    tiles: dict[str, list[arch.PodTile]] = {}
    for pod, columns in past.pods_in(focus.namespace):
        if columns["node_name"] in names:
            tiles.setdefault(columns["node_name"], []).append(arch.pod_tile(pod, now))
    cards = {}
    for name in names:
        node, columns = past.nodes[name], past.node_columns[name]
        meta, spec = node.get("metadata") or {}, node.get("spec") or {}
        used = usage.get(name, arch.Usage())
        mine = counts.get(name, {})
        total = sum(mine.values())
        shown = tiles.get(name, [])
        node_tiles = shown if name == focus.node or total <= arch.POD_TILES else None
        more = 0
        if node_tiles is not None and len(node_tiles) > arch.POD_TILES_OPEN:
            more = len(node_tiles) - arch.POD_TILES_OPEN
            node_tiles = node_tiles[: arch.POD_TILES_OPEN]
        labels = meta.get("labels") or {}
        cards[name] = arch.NodeCard(
            name=name,
            zone=str(labels.get(arch.ZONE_LABEL, "")),
            roles=arch._roles(labels),
            condition=states.node_condition(columns["ready"]),
            cordoned=bool(columns["unschedulable"]),
            taints=[arch._taint_text(t) for t in spec.get("taints") or []],
            kubelet_running=(meta.get("annotations") or {}).get(KUBELET_STOPPED) != "true",
            kubelet_acting=False,
            runtime=arch._runtime(node.get("status") or {}),
            cpu=arch.Bar(used.cpu, columns["cpu_allocatable"]),
            memory=arch.Bar(used.memory, columns["memory_allocatable"]),
            pods_total=total,
            pods_elsewhere=sum(others.get(name, {}).values()) - total,
            counts=arch.state_counts(mine),
            tiles=node_tiles,
            focus=focus,
            more_tiles=more,
        )
    return cards


def _summaries(
    past: PastCluster, zone_of: dict[str, str], zones: list[str], focus: arch.Focus
) -> dict[str, arch.ZoneSummary]:
    empty = arch.Bar(0, 0)
    summaries = {z: arch.ZoneSummary(z, 0, 0, 0, 0, 0, [], empty, empty) for z in zones}
    usage = _usage(past)
    counts = _counts(past, focus.namespace)
    totals: dict[str, dict[str, int]] = {z: {} for z in zones}
    for name, columns in past.node_columns.items():
        summary = summaries.get(zone_of[name])
        if summary is None:
            continue
        ready = columns["ready"]
        summary.nodes += 1
        summary.ready += ready == "True"
        summary.not_ready += ready == "False"
        summary.unknown += ready not in ("True", "False")
        summary.cordoned += bool(columns["unschedulable"])
        used = usage.get(name, arch.Usage())
        summary.cpu = arch.Bar(
            summary.cpu.requested + used.cpu, summary.cpu.allocatable + columns["cpu_allocatable"]
        )
        summary.memory = arch.Bar(
            summary.memory.requested + used.memory,
            summary.memory.allocatable + columns["memory_allocatable"],
        )
        for key, n in counts.get(name, {}).items():
            totals[zone_of[name]][key] = totals[zone_of[name]].get(key, 0) + n
    for zone, summary in summaries.items():
        summary.counts = arch.state_counts(totals[zone])
    return summaries


def _queue(past: PastCluster, namespace: str) -> arch.Queue:
    waiting = [
        pod
        for pod, columns in past.pods_in(namespace)
        if not columns["node_name"]
        and not pod["metadata"].get("deletionTimestamp")
        and columns["phase"] not in ("Succeeded", "Failed")
    ]
    waiting.sort(
        key=lambda p: (
            str(p["metadata"].get("creationTimestamp") or ""),
            p["metadata"].get("namespace", ""),
            p["metadata"]["name"],
        )
    )
    shown = [
        arch.Waiting(
            p["metadata"].get("namespace", ""),
            p["metadata"]["name"],
            arch._scheduled_condition_message(p.get("status") or {}),
            "",
        )
        for p in waiting[: arch.QUEUE_SHOWN]
    ]
    return arch.Queue(shown, len(waiting))


def stopped_at(revision: int) -> set[str]:
    """The components the failure palette had stopped at ``revision``: for each, whether its
    latest ``ComponentStopped``/``ComponentStarted`` event then was a stop (one query each)."""
    down = set()
    for component in faults.COMPONENTS:
        latest = (
            Change.objects.filter(
                revision__lte=revision,
                kind="Event",
                object__reason__in=[faults.REASON_STOPPED, faults.REASON_STARTED],
                object__message__startswith=component + " was ",
            )
            .order_by("-revision")
            .values_list("object", flat=True)
            .first()
        )
        if latest and latest.get("reason") == faults.REASON_STOPPED:
            down.add(component)
    return down


def region_context(focus: arch.Focus, latest: int) -> dict[str, Any]:
    """What the live region shows at ``focus.at`` (an earlier revision than ``latest``)."""
    revision = focus.at
    past = PastCluster.at(revision)
    travel = Travel(focus, latest)
    now = travel.simulated_datetime or timezone.now()
    zone_of = _zone_of(past)
    layouts = arch.plan_layout(zone_of, focus)
    summaries = _summaries(past, zone_of, [layout.zone for layout in layouts], focus)
    cards = _cards(past, [n for layout in layouts for n in layout.shown], focus, now)
    zones = [
        arch.ZoneView(
            layout=layout,
            summary=summaries[layout.zone],
            cards=[cards[n] for n in layout.shown if n in cards],
            focus=focus,
        )
        for layout in layouts
    ]
    activities = captions.activities(arch.recent_notices(focus.namespace, upto=revision))
    return {
        "focus": focus,
        "revision": revision,
        "stream_url": "",
        "control_plane": arch.control_plane(
            activities, acting=False, revision=revision, stopped=stopped_at(revision)
        ),
        "queue": _queue(past, focus.namespace),
        "zones": zones,
        "pod_states": states.POD_STATES,
        "past": travel,
        "travel": travel,
    }


# --- the scrubber and the timeline ----------------------------------------------------------


@dataclass
class TimelineRow:
    revision: int
    written: dt.datetime
    type: str
    kind: str
    object: str
    actor: str
    component: str
    current: bool
    future: bool
    query: str


class Travel:
    """The scrubber's and timeline's data for a page at ``focus`` (live when ``focus.at`` is 0);
    everything is read lazily, when the template asks."""

    def __init__(self, focus: arch.Focus, latest: int) -> None:
        self.focus = focus
        self.latest = latest

    @property
    def past(self) -> bool:
        return bool(self.focus.at) and self.focus.at < self.latest

    @property
    def revision(self) -> int:
        return self.focus.at if self.past else self.latest

    @cached_property
    def first(self) -> int:
        return history.first_revision()

    @cached_property
    def _neighbours(self) -> tuple[int, int]:
        return history.neighbours(self.revision)

    def query_at(self, revision: int, speed: int = 0) -> str:
        """The page's query at ``revision`` (the present when it is ``latest`` or later)."""
        if not revision or revision >= self.latest:
            return replace(self.focus, at=0, speed=0).query() or "?"
        return replace(self.focus, at=revision, speed=speed).query()

    @property
    def previous_query(self) -> str:
        before = self._neighbours[0]
        return self.query_at(before) if before else ""

    @property
    def next_query(self) -> str:
        after = self._neighbours[1]
        return self.query_at(after) if after and self.past else ""

    @property
    def now_query(self) -> str:
        return self.query_at(0)

    @property
    def namespace(self) -> str:
        return self.focus.namespace

    @property
    def speeds(self) -> tuple[str, ...]:
        return arch.REPLAY_SPEEDS

    @property
    def speed(self) -> int:
        return self.focus.speed if self.past else 0

    @cached_property
    def replay(self) -> tuple[str, int] | None:
        """While replaying: the next step's query and the delay before asking for it (None at
        the end, or when not replaying)."""
        if not self.speed:
            return None
        changes, interval = replay_step(self.speed)
        after = history.neighbours(self.revision, changes)[1]
        if not after:
            last = history.neighbours(self.revision)[1]
            if not last:
                return (self.now_query, interval)
            after = Change.objects.order_by("-revision").values_list("revision", flat=True)[0]
        return (self.query_at(after, self.speed), interval)

    @property
    def pause_query(self) -> str:
        return self.query_at(self.revision)

    @cached_property
    def simulated_time(self) -> str:
        return history.simulated_time_at(self.revision)

    @cached_property
    def simulated_datetime(self) -> dt.datetime | None:
        text = self.simulated_time
        try:
            return parse_time(text) if text else None
        except ValueError:
            return None

    @property
    def simulated_text(self) -> str:
        """``2026-11-26 12:03:04 UTC`` (or a dash when the log records no time yet)."""
        when = self.simulated_datetime
        return when.strftime("%Y-%m-%d %H:%M:%S UTC") if when else "—"

    @cached_property
    def timeline(self) -> list[TimelineRow]:
        """The changes up to the revision shown (newest first) and a few after it, Events left
        out (they record what happened; the other writes are what happened)."""
        moving = Change.objects.exclude(kind="Event")
        fields = ("revision", "created_at", "type", "kind", "namespace", "name", "actor")
        before = list(
            moving.filter(revision__lte=self.revision)
            .order_by("-revision")
            .values_list(*fields)[:TIMELINE_BEFORE]
        )
        after = list(
            moving.filter(revision__gt=self.revision)
            .order_by("revision")
            .values_list(*fields)[:TIMELINE_AFTER]
        )
        rows = []
        for revision, written, type_, kind, namespace, name, actor in reversed(after):
            rows.append(self._row(revision, written, type_, kind, namespace, name, actor, True))
        for revision, written, type_, kind, namespace, name, actor in before:
            rows.append(self._row(revision, written, type_, kind, namespace, name, actor, False))
        return rows

    def _row(self, revision, written, type_, kind, namespace, name, actor, future) -> TimelineRow:
        return TimelineRow(
            revision=revision,
            written=written,
            type=type_,
            kind=kind,
            object=f"{namespace}/{name}" if namespace else name,
            actor=actor or _("unknown"),
            component=captions.component_of(actor or ""),
            current=revision == self.revision,
            future=future,
            query=self.query_at(revision),
        )
