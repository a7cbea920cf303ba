"""The Architecture page: the control plane, the scheduling queue and the nodes with their pods.

One module serves both the HTTP view (a full page, or its ``#live`` part for htmx) and the live
stream (fragments re-rendered when changes arrive), so both always render the same thing.

Sizes stay bounded however big the cluster is (1,000 nodes and 10,000 pods must stay usable):

- up to ``SHOW_ALL_NODES`` nodes, every node card is shown, grouped by zone;
- beyond that, zones are summaries (nodes, readiness, pods by state, cpu) and one zone at a time
  is opened (``?zone=``), ``NODES_PER_PAGE`` cards per page;
- a node shows its pods as tiles up to ``POD_TILES``; beyond that, counts by state and a link
  that opens the node (``?node=``) with all its tiles;
- the queue lists ``QUEUE_SHOWN`` waiting pods and counts the rest.

Everything the page shows is in its URL's query (``Focus``), so it can be bookmarked, and the
websocket, which receives the same query, knows exactly which fragments the page holds.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from django.db.models import CharField, Count, Q, Sum
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from cluster import clock, faults
from cluster.kubelet.runner import KUBELET_STOPPED
from cluster.models import Change, Node, Pod, SchedulingDecision
from cluster.store import kinds, tables
from cluster.store.objects import to_dict
from cluster.store.read import current_revision
from cluster.usage import node_usage
from dashboard import broadcast
from dashboard.broadcast import Notice
from dashboard.pages import captions, states
from dashboard.pages.states import StateCount, state_counts
from dashboard.templatetags.kubarium import binary_bytes, cores

TEMPLATE = "dashboard/architecture.html"
STREAM_PATH = "/ws/architecture"
ZONE_LABEL = "topology.kubernetes.io/zone"
# "?zone=-" opens the nodes without a zone label ("-" is not a valid label value).
NO_ZONE_PARAM = "-"
SHOW_ALL_NODES = 24
NODES_PER_PAGE = 40
POD_TILES = 12
POD_TILES_OPEN = 250
QUEUE_SHOWN = 8
# A live renderer reads its nodes' figures whole again after this many seconds.
FACTS_SECONDS = 30.0
# How far back in the change log the captions of a freshly rendered page look.
RECENT_CHANGES = 300
# Time travel's replay speeds, in changes a second (``?speed=``).
REPLAY_SPEEDS = ("1", "2", "5", "10", "50")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


# --- what the page shows: its query -------------------------------------------------------


@dataclass(frozen=True)
class Focus:
    """The page's query: a namespace filter, the opened zone, the opened node and a page.

    ``zone`` is None when no zone is opened, "" for the nodes without a zone label.
    Invalid values are dropped, never echoed.
    """

    namespace: str = ""
    zone: str | None = None
    node: str = ""
    page: int = 1
    at: int = 0  # time travel: the past revision shown (0: now; ``dashboard.pages.history``)
    speed: int = 0  # time travel: replaying forward at this many changes a second (0: still)

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> Focus:
        namespace = str(query.get("namespace") or "")
        zone_param = query.get("zone")
        zone: str | None = None
        if zone_param == NO_ZONE_PARAM:
            zone = ""
        elif zone_param and _LABEL_VALUE.match(str(zone_param)):
            zone = str(zone_param)
        node = str(query.get("node") or "")
        page = str(query.get("page") or "1")
        at, speed = str(query.get("at") or ""), str(query.get("speed") or "")
        return cls(
            namespace=namespace if _DNS_LABEL.match(namespace) else "",
            zone=zone,
            node=node if _DNS_SUBDOMAIN.match(node) else "",
            page=max(1, min(int(page), 10_000)) if page.isdigit() else 1,
            at=int(at) if at.isdigit() and len(at) < 19 else 0,
            speed=int(speed) if speed in REPLAY_SPEEDS else 0,
        )

    def params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.namespace:
            params["namespace"] = self.namespace
        if self.zone is not None:
            params["zone"] = self.zone or NO_ZONE_PARAM
        if self.node:
            params["node"] = self.node
        if self.page > 1:
            params["page"] = str(self.page)
        if self.at:
            params["at"] = str(self.at)
            if self.speed:
                params["speed"] = str(self.speed)
        return params

    def query(self) -> str:
        """``?namespace=shop&zone=zone-a`` (defaults left out; "" when all are defaults)."""
        params = self.params()
        return "?" + urlencode(params) if params else ""

    def stream_url(self, since: int) -> str:
        """The page's websocket: the same query, plus the revision the page was rendered at."""
        return STREAM_PATH + "?" + urlencode({**self.params(), "since": str(since)})

    def with_zone(self, zone: str | None, page: int = 1) -> Focus:
        return replace(self, zone=zone, node="", page=page)

    def with_node(self, node: str) -> Focus:
        return replace(self, node=node)


# --- layout: which nodes get a card -------------------------------------------------------


@dataclass
class ZoneLayout:
    zone: str
    nodes: list[str]  # every node in the zone, by name
    shown: list[str]  # the ones with a card on this page
    open: bool
    collapsible: bool = True  # False when every node is shown anyway
    page: int = 1
    pages: int = 1


def zone_sort_key(zone: str) -> tuple[bool, str]:
    return (zone == "", zone)


def plan_layout(zone_of: Mapping[str, str], focus: Focus) -> list[ZoneLayout]:
    """Which zones are open and which node cards are shown (pure).

    Small clusters (at most ``SHOW_ALL_NODES`` nodes) show every card. Otherwise only the zone
    in ``focus`` (or the zone of the node in ``focus``) is open, one page of ``NODES_PER_PAGE``
    cards at a time: 1,000 nodes in zone-a open on page 3 show nodes 81-120 in name order
    (``pages = ceil(1000 / 40) = 25``).
    """
    zones: dict[str, list[str]] = {}
    for name in sorted(zone_of):
        zones.setdefault(zone_of[name], []).append(name)
    show_all = len(zone_of) <= SHOW_ALL_NODES
    opened, page = focus.zone, focus.page
    if not show_all and focus.node in zone_of and opened is None:
        opened = zone_of[focus.node]
        page = zones[opened].index(focus.node) // NODES_PER_PAGE + 1
    layouts = []
    for zone in sorted(zones, key=zone_sort_key):
        names = zones[zone]
        if show_all:
            layouts.append(ZoneLayout(zone, names, list(names), open=True, collapsible=False))
            continue
        if zone != opened:
            layouts.append(ZoneLayout(zone, names, [], open=False))
            continue
        pages = max(1, math.ceil(len(names) / NODES_PER_PAGE))
        current = min(page, pages)
        start = (current - 1) * NODES_PER_PAGE
        shown = names[start : start + NODES_PER_PAGE]
        layouts.append(ZoneLayout(zone, names, shown, open=True, page=current, pages=pages))
    return layouts


def zone_dom_id(zone: str) -> str:
    return zone or NO_ZONE_PARAM


# --- what a live batch changes ------------------------------------------------------------


@dataclass
class Update:
    """The fragments one batch of notices makes stale (computed by ``plan_update``)."""

    activities: dict[str, captions.Activity] = field(default_factory=dict)
    queue: bool = False
    nodes: set[str] = field(default_factory=set)
    structure: bool = False  # nodes came or went: the whole node section
    arrived: set[str] = field(default_factory=set)  # "namespace/name" of pods new on a node
    kubelets: set[str] = field(default_factory=set)  # nodes whose kubelet just acted


def in_focus(notice: Notice, namespace: str) -> bool:
    return not namespace or notice.namespace in ("", namespace)


def plan_update(focus: Focus, notices: Sequence[Notice], nodes: Iterable[str]) -> Update:
    """What to re-render for a batch (pure).

    - each control plane component that acted gets its caption (etcd its revision);
    - the queue, when a pod without a node changed or the scheduler acted on one;
    - a node card, when the node or a pod on it changed (``nodes`` adds the nodes whose pods
      changed in other namespaces: their resource bars count every pod);
    - the whole node section when a node was added or deleted.
    """
    mine = [n for n in notices if in_focus(n, focus.namespace)]
    update = Update(activities=captions.activities(mine), nodes=set(nodes))
    for notice in mine:
        if notice.kind == "Node":
            update.nodes.add(notice.name)
            if notice.type in ("ADDED", "DELETED"):
                update.structure = True
        elif notice.kind == "Pod":
            scheduler = captions.component_of(notice.actor) == captions.SCHEDULER
            if not notice.node or scheduler:
                update.queue = True
            if notice.node:
                update.nodes.add(notice.node)
            # New in the queue, or new on a node (created there, or just bound).
            if notice.type == "ADDED" or (scheduler and notice.node and notice.type == "MODIFIED"):
                update.arrived.add(f"{notice.namespace}/{notice.name}")
    update.kubelets = captions.kubelet_nodes(mine)
    return update


# --- reading the cluster ------------------------------------------------------------------


def _zone_of_every_node() -> dict[str, str]:
    zone = Cast(KeyTextTransform(ZONE_LABEL, "labels"), CharField())
    return {name: z or "" for name, z in Node.objects.annotate(z=zone).values_list("name", "z")}


def _pods(namespace: str):
    queryset = Pod.objects.all()
    return queryset.filter(namespace=namespace) if namespace else queryset


@dataclass
class Usage:
    """Requests of the non-terminated pods on a node (every namespace), against allocatable."""

    cpu: int = 0
    memory: int = 0
    pods: int = 0


def _usage(nodes: Iterable[str] | None = None) -> dict[str, Usage]:
    queryset = Pod.objects.exclude(node_name="").exclude(phase__in=("Succeeded", "Failed"))
    if nodes is not None:
        queryset = queryset.filter(node_name__in=list(nodes))
    rows = queryset.values("node_name").annotate(
        cpu=Sum("cpu_request"), memory=Sum("memory_request"), n=Count("pk")
    )
    return {r["node_name"]: Usage(r["cpu"] or 0, r["memory"] or 0, r["n"]) for r in rows}


def _state_counts(namespace: str, nodes: Iterable[str] | None = None) -> dict[str, dict[str, int]]:
    """Per node, pods in ``namespace`` by coarse state key (one grouped query)."""
    queryset = _pods(namespace)
    if nodes is not None:
        queryset = queryset.filter(node_name__in=list(nodes))
    rows = queryset.values("node_name", "phase", "ready").annotate(
        n=Count("pk"), deleting=Count("pk", filter=Q(deletion_timestamp__isnull=False))
    )
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        per_node = counts.setdefault(row["node_name"], {})
        alive = row["n"] - row["deleting"]
        for terminating, n in ((False, alive), (True, row["deleting"])):
            if n:
                bound = bool(row["node_name"])
                key = states.coarse_pod_state(row["phase"], row["ready"], terminating, bound).key
                per_node[key] = per_node.get(key, 0) + n
    return counts


@dataclass
class PodTile:
    namespace: str
    name: str
    status: str  # kubectl's STATUS cell
    ready: str  # kubectl's READY cell, "1/1"
    restarts: str
    state: states.State
    arrived: bool = False

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def short_name(self) -> str:
        return short_pod_name(self.name)


def short_pod_name(name: str, limit: int = 18) -> str:
    """A pod name that fits a tile, keeping what tells pods apart: the owner, the start of the
    template hash (old and new ReplicaSets differ there) and the random suffix.

    ``backend-849d74649c-cx4f4`` (24 characters) becomes ``backend-849d…-cx4f4``; names up to
    ``limit`` characters, and names without two dashes, stay whole (CSS cuts them if need be).
    """
    if len(name) <= limit:
        return name
    parts = name.rsplit("-", 2)
    if len(parts) < 3:
        return name
    owner, middle, suffix = parts
    return f"{owner}-{middle[:4]}…-{suffix}"


def pod_tile(pod: dict[str, Any], now, arrived: bool = False) -> PodTile:
    cells = tables.cells_for(pod, now, "Pod")
    _name, ready, status, restarts = cells[0], cells[1], cells[2], cells[3]
    meta = pod["metadata"]
    return PodTile(
        namespace=meta.get("namespace", ""),
        name=meta["name"],
        status=status,
        ready=ready,
        restarts=restarts,
        state=states.pod_state(status, ready),
        arrived=arrived,
    )


def _tiles(nodes: Sequence[str], namespace: str, arrived: set[str]) -> dict[str, list[PodTile]]:
    if not nodes:
        return {}
    kind = kinds.by_kind("Pod")
    now = clock.now_datetime()
    tiles: dict[str, list[PodTile]] = {}
    rows = _pods(namespace).filter(node_name__in=list(nodes)).order_by("namespace", "name")
    for row in rows:
        pod = to_dict(row, kind, copy_content=False)
        key = f"{row.namespace}/{row.name}"
        tiles.setdefault(row.node_name, []).append(pod_tile(pod, now, key in arrived))
    return tiles


@dataclass
class Bar:
    """A requested-of-allocatable bar: ``percent`` is clamped to 100 for drawing. ``used`` is
    what the running containers use (``cluster.usage``), drawn over it; None: not measured
    (zone summaries)."""

    requested: int
    allocatable: int
    used: int | None = None

    @property
    def percent(self) -> int:
        """Rounded down: 1500m of 4000m is ``1500 * 100 // 4000 = 37``."""
        return min(100, self.requested * 100 // self.allocatable) if self.allocatable else 0

    @property
    def used_percent(self) -> int:
        """Rounded down like ``percent``: 230m used of 4000m is ``5``."""
        if not self.used or not self.allocatable:
            return 0
        return min(100, self.used * 100 // self.allocatable)

    @property
    def over(self) -> bool:
        return self.requested > self.allocatable


@dataclass
class NodeCard:
    name: str
    zone: str
    roles: list[str]
    condition: states.NodeCondition
    cordoned: bool
    taints: list[str]
    kubelet_running: bool
    kubelet_acting: bool
    runtime: str
    cpu: Bar
    memory: Bar
    pods_total: int  # pods in the focus namespace on this node
    pods_elsewhere: int  # pods of other namespaces (a filtered page)
    counts: list[StateCount]
    tiles: list[PodTile] | None  # None: too many, counts only
    focus: Focus = field(default_factory=Focus)
    more_tiles: int = 0  # pods beyond POD_TILES_OPEN on an opened node

    @property
    def opened(self) -> bool:
        return self.name == self.focus.node

    @property
    def open_query(self) -> str:
        return self.focus.with_node(self.name).query()

    @property
    def close_query(self) -> str:
        return self.focus.with_node("").query() or "?"

    @property
    def cpu_text(self) -> str:
        """``1.5 / 4``: cores requested of allocatable."""
        return f"{cores(self.cpu.requested)} / {cores(self.cpu.allocatable)}"

    @property
    def memory_text(self) -> str:
        return f"{binary_bytes(self.memory.requested)} / {binary_bytes(self.memory.allocatable)}"

    @property
    def cpu_used_text(self) -> str:
        return cores(self.cpu.used or 0)

    @property
    def memory_used_text(self) -> str:
        return binary_bytes(self.memory.used or 0)


def _taint_text(taint: Mapping[str, Any]) -> str:
    key, value, effect = taint.get("key", ""), taint.get("value", ""), taint.get("effect", "")
    return f"{key}={value}:{effect}" if value else f"{key}:{effect}"


def _roles(labels: Mapping[str, str]) -> list[str]:
    prefix = "node-role.kubernetes.io/"
    return sorted(k.removeprefix(prefix) for k in labels if k.startswith(prefix) and k != prefix)


def _runtime(status: Mapping[str, Any]) -> str:
    version = str((status.get("nodeInfo") or {}).get("containerRuntimeVersion") or "")
    return version.split("://", 1)[0] or "containerd"


def node_cards(
    names: Sequence[str], focus: Focus, update: Update | None = None
) -> dict[str, NodeCard]:
    """The cards of nodes ``names`` (missing nodes are left out)."""
    if not names:
        return {}
    arrived = update.arrived if update else set()
    kubelets = update.kubelets if update else set()
    rows = {n.name: n for n in Node.objects.filter(name__in=list(names))}
    usage = _usage(rows)
    counts = _state_counts(focus.namespace, rows)
    others = _state_counts("", rows) if focus.namespace else counts
    tile_nodes = [
        name
        for name in rows
        if name == focus.node or sum(counts.get(name, {}).values()) <= POD_TILES
    ]
    tiles = _tiles(tile_nodes, focus.namespace, arrived)
    cards = {}
    measured = node_usage([name for name in names if name in rows])
    for name in names:
        row = rows.get(name)
        if row is None:
            continue
        used = usage.get(name, Usage())
        mine = counts.get(name, {})
        total = sum(mine.values())
        node_tiles = tiles.get(name, []) if name in tile_nodes else None
        more = 0
        if node_tiles is not None and len(node_tiles) > POD_TILES_OPEN:
            more = len(node_tiles) - POD_TILES_OPEN
            node_tiles = node_tiles[:POD_TILES_OPEN]
        labels = row.labels or {}
        cards[name] = NodeCard(
            name=name,
            zone=str(labels.get(ZONE_LABEL, "")),
            roles=_roles(labels),
            condition=states.node_condition(row.ready),
            cordoned=row.unschedulable,
            taints=[_taint_text(t) for t in (row.spec or {}).get("taints") or []],
            kubelet_running=(row.annotations or {}).get(KUBELET_STOPPED) != "true",
            kubelet_acting=name in kubelets,
            runtime=_runtime(row.status or {}),
            cpu=Bar(used.cpu, row.cpu_allocatable, measured[name][0]),
            memory=Bar(used.memory, row.memory_allocatable, measured[name][1]),
            pods_total=total,
            pods_elsewhere=sum(others.get(name, {}).values()) - total,
            counts=state_counts(mine),
            tiles=node_tiles,
            focus=focus,
            more_tiles=more,
        )
    return cards


@dataclass
class ZoneSummary:
    zone: str
    nodes: int
    ready: int
    not_ready: int
    unknown: int  # the kubelet stopped reporting
    cordoned: int
    counts: list[StateCount]
    cpu: Bar
    memory: Bar


@dataclass
class NodeFacts:
    """Per node, what the zone summaries add up: its zone, its row (Ready, cordoned, cpu and
    memory allocatable), the requests on it (every namespace) and its pods in ``namespace`` by
    state. Read for the whole cluster (three grouped queries, no thousand-name IN lists), then,
    in a live renderer's cache, refreshed only for the nodes a batch touched (``refresh``), so
    that redrawing one zone's line costs that batch's nodes, not the cluster."""

    namespace: str
    zone_of: dict[str, str] = field(default_factory=dict)
    rows: dict[str, tuple[str, bool, int, int]] = field(default_factory=dict)
    usage: dict[str, Usage] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    read_at: float = field(default_factory=time.monotonic)

    @classmethod
    def read(cls, namespace: str) -> NodeFacts:
        facts = cls(namespace)
        facts._read(None)
        return facts

    def refresh(self, names: Iterable[str]) -> None:
        """Read ``names`` again (a node that is gone is forgotten)."""
        names = sorted(set(names))
        if not names:
            return
        for name in names:
            self.zone_of.pop(name, None)
            self.rows.pop(name, None)
            self.usage.pop(name, None)
            self.counts.pop(name, None)
        self._read(names)

    def _read(self, names: list[str] | None) -> None:
        zone = Cast(KeyTextTransform(ZONE_LABEL, "labels"), CharField())
        rows = Node.objects.annotate(z=zone)
        if names is not None:
            rows = rows.filter(name__in=names)
        for name, z, ready, cordoned, cpu, memory in rows.values_list(
            "name", "z", "ready", "unschedulable", "cpu_allocatable", "memory_allocatable"
        ):
            self.zone_of[name] = z or ""
            self.rows[name] = (ready, bool(cordoned), cpu, memory)
        self.usage.update(_usage(names))
        self.counts.update(_state_counts(self.namespace, names))


def zone_summaries(
    zone_of: Mapping[str, str], zones: Iterable[str], focus: Focus, facts: NodeFacts | None = None
) -> dict[str, ZoneSummary]:
    """Per zone in ``zones``: node readiness, pods by (coarse) state, cpu and memory requested.

    ``zone_of`` (node name → zone) decides membership, so a node that joins meanwhile cannot
    make the summaries disagree with the layout; every wanted zone gets a summary. ``facts``:
    the nodes' figures already read (else read now, for the whole cluster).
    """
    if facts is None or facts.namespace != focus.namespace:
        facts = NodeFacts.read(focus.namespace)
    summaries = {z: ZoneSummary(z, 0, 0, 0, 0, 0, [], Bar(0, 0), Bar(0, 0)) for z in zones}
    totals: dict[str, dict[str, int]] = {z: {} for z in summaries}
    for name, (ready, cordoned, cpu, memory) in facts.rows.items():
        z = zone_of.get(name)
        if z not in summaries:
            continue
        summary = summaries[z]
        summary.nodes += 1
        summary.ready += ready == "True"
        summary.not_ready += ready == "False"
        summary.unknown += ready not in ("True", "False")
        summary.cordoned += cordoned
        used = facts.usage.get(name, Usage())
        summary.cpu = Bar(summary.cpu.requested + used.cpu, summary.cpu.allocatable + cpu)
        summary.memory = Bar(
            summary.memory.requested + used.memory, summary.memory.allocatable + memory
        )
        for key, n in facts.counts.get(name, {}).items():
            totals[z][key] = totals[z].get(key, 0) + n
    for z, summary in summaries.items():
        summary.counts = state_counts(totals[z])
    return summaries


@dataclass
class Waiting:
    namespace: str
    name: str
    message: str  # Kubernetes' words (PodScheduled message / FailedScheduling), untranslated
    sentence: str  # the scheduler's plain-language explanation, when it has one
    arrived: bool = False


@dataclass
class Queue:
    pods: list[Waiting]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.pods)


def _scheduled_condition_message(status: Mapping[str, Any]) -> str:
    for condition in status.get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == "PodScheduled":
            return str(condition.get("message") or "")
    return ""


def scheduling_queue(namespace: str, arrived: set[str] | None = None) -> Queue:
    """Pods without a node, oldest first, with why they wait."""
    queryset = (
        _pods(namespace)
        .filter(node_name="", deletion_timestamp__isnull=True)
        .exclude(phase__in=("Succeeded", "Failed"))
    )
    total = queryset.count()
    rows = list(
        queryset.order_by("creation_timestamp", "namespace", "name").only(
            "uid", "namespace", "name", "status"
        )[:QUEUE_SHOWN]
    )
    decisions = {
        d.pod_uid: d for d in SchedulingDecision.objects.filter(pod_uid__in=[r.uid for r in rows])
    }
    pods = []
    for row in rows:
        decision = decisions.get(row.uid)
        message = _scheduled_condition_message(row.status or {})
        sentence = ""
        if decision is not None:
            message = message or decision.message
            sentence = str((decision.diagnosis or {}).get("sentence") or "")
        key = f"{row.namespace}/{row.name}"
        pods.append(Waiting(row.namespace, row.name, message, sentence, key in (arrived or ())))
    return Queue(pods, total)


@dataclass
class ComponentView:
    key: str
    role: str
    caption: str
    acting: bool
    more: int = 0
    stopped: bool = False  # switched off in the failure palette (``cluster.faults``)


def recent_notices(
    namespace: str, limit: int = RECENT_CHANGES, upto: int | None = None
) -> list[Notice]:
    """The latest ``limit`` changes of the log as notices (newest last), for fresh captions;
    ``upto``: the latest at or before that revision (time travel)."""
    node = KeyTextTransform("nodeName", KeyTransform("spec", "object"))
    queryset = Change.objects.order_by("-revision")
    if upto is not None:
        queryset = queryset.filter(revision__lte=upto)
    if namespace:
        queryset = queryset.filter(namespace__in=(namespace, ""))
    rows = queryset.annotate(node=node).values_list(
        "revision", "type", "kind", "namespace", "name", "actor", "node"
    )[:limit]
    return [
        Notice(rev, type_, kind, ns, name, actor, (node or "") if kind == "Pod" else "")
        for rev, type_, kind, ns, name, actor, node in reversed(rows)
    ]


def control_plane(
    activities: Mapping[str, captions.Activity],
    acting: bool,
    revision: int,
    stopped: Iterable[str] | None = None,
) -> list[ComponentView]:
    """The components as the page shows them; ``stopped``: the switched-off ones (default: as
    ``cluster.faults`` says now)."""
    down = set(faults.stopped() if stopped is None else stopped)
    views = []
    for component in captions.CONTROL_PLANE:
        activity = activities.get(component.key)
        caption = activity.caption if activity else ""
        if component.key == captions.ETCD and not activity:
            caption = _("revision %(revision)s") % {"revision": revision}
        views.append(
            ComponentView(
                key=component.key,
                role=str(component.role),
                caption=caption,
                acting=acting and activity is not None,
                more=activity.more if activity else 0,
                stopped=component.key in down,
            )
        )
    return views


# --- contexts and rendering -----------------------------------------------------------------


@dataclass
class ZoneView:
    layout: ZoneLayout
    summary: ZoneSummary
    cards: list[NodeCard]
    focus: Focus

    @property
    def dom_id(self) -> str:
        return zone_dom_id(self.layout.zone)

    @property
    def open_query(self) -> str:
        return self.focus.with_zone(self.layout.zone).query()

    @property
    def close_query(self) -> str:
        return self.focus.with_zone(None).query() or "?"

    def page_query(self, page: int) -> str:
        return self.focus.with_zone(self.layout.zone, page).query()

    @property
    def previous_query(self) -> str:
        return self.page_query(self.layout.page - 1) if self.layout.page > 1 else ""

    @property
    def next_query(self) -> str:
        layout = self.layout
        return self.page_query(layout.page + 1) if layout.page < layout.pages else ""

    @property
    def first_shown(self) -> int:
        return (self.layout.page - 1) * NODES_PER_PAGE + 1

    @property
    def last_shown(self) -> int:
        return self.first_shown + len(self.layout.shown) - 1


def zone_views(focus: Focus, update: Update | None = None) -> list[ZoneView]:
    zone_of = _zone_of_every_node()
    layouts = plan_layout(zone_of, focus)
    summaries = zone_summaries(zone_of, (layout.zone for layout in layouts), focus)
    shown = [name for layout in layouts for name in layout.shown]
    cards = node_cards(shown, focus, update)
    return [
        ZoneView(
            layout=layout,
            summary=summaries[layout.zone],
            cards=[cards[n] for n in layout.shown if n in cards],
            focus=focus,
        )
        for layout in layouts
    ]


def region_context(focus: Focus) -> dict[str, Any]:
    """Everything the live region shows, freshly read (no highlights); the past, read from the
    change log, when ``focus.at`` is an earlier revision (``dashboard.pages.history``)."""
    from dashboard.pages import history  # it builds on this module

    revision = current_revision()
    if focus.at and focus.at < revision:
        return history.region_context(focus, revision)
    focus = replace(focus, at=0, speed=0)
    activities = captions.activities(recent_notices(focus.namespace))
    return {
        "focus": focus,
        "revision": revision,
        "stream_url": focus.stream_url(revision),
        "control_plane": control_plane(activities, acting=False, revision=revision),
        "queue": scheduling_queue(focus.namespace),
        "zones": zone_views(focus),
        "pod_states": states.POD_STATES,
        "travel": history.Travel(focus, revision),
    }


def _fragment(name: str, context: dict[str, Any]) -> str:
    return render_to_string(f"{TEMPLATE}#{name}", context)


def render_region(focus: Focus) -> str:
    """The whole live region (what a (re)connecting page gets)."""
    return _fragment("region", region_context(focus))


def render_update(
    focus: Focus, messages: Sequence[Mapping[str, Any]], cache: dict[str, Any] | None = None
) -> str:
    """The fragments a batch of received messages makes stale, concatenated ("" for none).

    ``cache``: a live renderer's, kept between its batches (``dashboard.renderers``): the
    nodes' figures (``NodeFacts``) are kept there and refreshed for the nodes each batch
    touched, and read whole again after ``FACTS_SECONDS`` or a node added or deleted."""
    notices, nodes, revision, overflow = broadcast.decode(messages)
    if overflow:
        if cache is not None:
            cache.clear()
        return render_region(focus)
    update = plan_update(focus, notices, nodes)
    parts: list[str] = []
    base = {"focus": focus}
    lit = control_plane(update.activities, acting=True, revision=revision)
    for component in lit:
        if component.acting:
            parts.append(_fragment("component", {**base, "component": component}))
    if update.queue:
        queue = scheduling_queue(focus.namespace, update.arrived)
        parts.append(_fragment("queue", {**base, "queue": queue}))
    if update.structure:
        if cache is not None:
            cache.pop("facts", None)
        parts.append(_fragment("nodes", {**base, "zones": zone_views(focus, update)}))
    elif update.nodes:
        parts.extend(_node_fragments(focus, update, _facts(focus, update, cache)))
    return "".join(parts)


def _facts(focus: Focus, update: Update, cache: dict[str, Any] | None) -> NodeFacts:
    """The nodes' figures as of now: the cache's, refreshed for the batch's nodes, or read."""
    facts = cache.get("facts") if cache is not None else None
    if (
        not isinstance(facts, NodeFacts)
        or facts.namespace != focus.namespace
        or time.monotonic() - facts.read_at > FACTS_SECONDS
    ):
        facts = NodeFacts.read(focus.namespace)
    else:
        facts.refresh(update.nodes)
    if cache is not None:
        cache["facts"] = facts
    return facts


def _node_fragments(focus: Focus, update: Update, facts: NodeFacts) -> list[str]:
    zone_of = facts.zone_of
    layouts = plan_layout(zone_of, focus)
    shown = {name for layout in layouts for name in layout.shown}
    changed = [n for n in sorted(update.nodes) if n in zone_of]
    zones = {zone_of[n] for n in changed}
    parts = []
    summaries = zone_summaries(zone_of, zones, focus, facts)
    for zone in sorted(zones, key=zone_sort_key):
        context = {"focus": focus, "summary": summaries[zone], "zone_id": zone_dom_id(zone)}
        parts.append(_fragment("zone-summary", context))
    cards = node_cards([n for n in changed if n in shown], focus, update)
    for card in cards.values():
        parts.append(_fragment("node", {"focus": focus, "node": card}))
    return parts


def is_current(since: int) -> bool:
    """Whether a page rendered at revision ``since`` is still current (nothing written since)."""
    return since > 0 and since == current_revision()
