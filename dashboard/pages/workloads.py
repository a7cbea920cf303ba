"""The Workloads page: Deployments, ReplicaSets, StatefulSets, DaemonSets and autoscalers.

Each kind is a section with its counts (desired, current, ready, updated), paginated
(``PER_PAGE`` rows; ``?kind=deployments&page=3`` pages through one kind alone). A Deployment in
the middle of a rollout shows its old and new ReplicaSets side by side; a StatefulSet shows its
ordinals; an autoscaler its metric against its target. Pods are grouped under their owner as
counts by state (one grouped query for the whole page); ``?open=ReplicaSet/shop/web-7d4f`` shows
that owner's pods one by one (at most ``OPEN_TILES``).

The page's sections are also its live fragments: ``#deployments``, ``#replicasets``,
``#statefulsets``, ``#daemonsets``, ``#hpas`` and ``#opened``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cluster import clock
from cluster.models import (
    DaemonSet,
    Deployment,
    HorizontalPodAutoscaler,
    Pod,
    ReplicaSet,
    StatefulSet,
)
from cluster.store import kinds
from cluster.store.objects import to_dict
from cluster.store.read import current_revision
from dashboard.pages import listing, states
from dashboard.pages.architecture import PodTile, pod_tile

TEMPLATE = "dashboard/workloads.html"
VIEW = "workloads"
# Reading the page needs "list" on this resource (and API group) in its namespace.
READ = ("deployments", "apps")
PER_PAGE = 20
OPEN_TILES = 200
ORDINALS_SHOWN = 40
REVISION = "deployment.kubernetes.io/revision"

# Section key → (model, kind, title).
SECTIONS: dict[str, tuple[Any, str, Any]] = {
    "deployments": (Deployment, "Deployment", _("Deployments")),
    "replicasets": (ReplicaSet, "ReplicaSet", _("ReplicaSets")),
    "statefulsets": (StatefulSet, "StatefulSet", _("StatefulSets")),
    "daemonsets": (DaemonSet, "DaemonSet", _("DaemonSets")),
    "hpas": (HorizontalPodAutoscaler, "HorizontalPodAutoscaler", _("Autoscalers")),
}
OWNER_KINDS = {"ReplicaSet": ReplicaSet, "StatefulSet": StatefulSet, "DaemonSet": DaemonSet}

# Which kinds each live fragment shows (a notice of one of them makes it stale).
LIVE = {
    "deployments": frozenset({"Deployment", "ReplicaSet", "Pod"}),
    "replicasets": frozenset({"ReplicaSet", "Pod"}),
    "statefulsets": frozenset({"StatefulSet", "Pod"}),
    "daemonsets": frozenset({"DaemonSet", "Pod"}),
    "hpas": frozenset({"HorizontalPodAutoscaler"}),
    "opened": frozenset({"Pod", "ReplicaSet", "StatefulSet", "DaemonSet"}),
}


@dataclass(frozen=True)
class Focus:
    """The page's query: namespace, one kind alone (or every kind), its page, an opened owner."""

    namespace: str = ""
    kind: str = ""  # a key of SECTIONS, or "" for all
    page: int = 1
    open: tuple[str, str, str] | None = None  # (kind, namespace, name)

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> Focus:
        kind = str(query.get("kind") or "")
        opened = None
        parts = str(query.get("open") or "").split("/")
        if len(parts) == 3 and parts[0] in OWNER_KINDS:
            namespace, name = listing.clean_namespace(parts[1]), listing.clean_name(parts[2])
            if namespace and name:
                opened = (parts[0], namespace, name)
        return cls(
            namespace=listing.clean_namespace(query.get("namespace")),
            kind=kind if kind in SECTIONS else "",
            page=listing.clean_page(query.get("page")),
            open=opened,
        )

    def params(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "kind": self.kind,
            "page": self.page,
            "open": "/".join(self.open) if self.open else "",
        }

    def query(self, **changes: Any) -> str:
        return listing.query_string({**self.params(), **changes})

    def open_query(self, kind: str, namespace: str, name: str) -> str:
        return self.query(open=f"{kind}/{namespace}/{name}")

    @property
    def close_query(self) -> str:
        return self.query(open="")


# --- rows -----------------------------------------------------------------------------------


@dataclass
class Owner:
    """A row: one workload object and its pods summarised."""

    kind: str
    namespace: str
    name: str
    url: str
    image: str
    desired: int
    current: int
    ready: int
    updated: int | None
    available: int | None
    counts: list[states.StateCount]
    open_query: str
    revision: str = ""
    owner: str = ""  # the controlling object, "Deployment web"
    opened: bool = False

    @property
    def settled(self) -> bool:
        return self.ready >= self.desired and self.current == self.desired

    @property
    def state(self) -> states.State:
        if self.desired == 0:
            return states.COMPLETED
        if self.ready >= self.desired:
            return states.READY
        return states.NOT_READY if self.ready else states.CREATING


@dataclass
class DeploymentRow(Owner):
    replicasets: list[Owner] = field(default_factory=list)  # old ones first, the new one last

    @property
    def rolling(self) -> bool:
        """A rollout is in progress: an old ReplicaSet still has pods, or the new one is not
        complete yet."""
        return len(self.replicasets) > 1 or not self.settled


@dataclass
class Ordinal:
    index: int
    name: str
    state: states.State | None  # None: no pod with this ordinal


@dataclass
class StatefulRow(Owner):
    ordinals: list[Ordinal] = field(default_factory=list)
    more_ordinals: int = 0


@dataclass
class HpaRow:
    namespace: str
    name: str
    url: str
    target: str
    target_url: str
    current_metric: int | None
    target_metric: int | None
    min_replicas: int
    max_replicas: int
    current_replicas: int
    desired_replicas: int
    limited: str  # the ScalingLimited condition's reason when it is True
    active: bool  # ScalingActive

    @property
    def state(self) -> states.State:
        if not self.active:
            return states.UNKNOWN
        if self.current_replicas != self.desired_replicas:
            return states.CREATING
        return states.READY


@dataclass
class Section:
    key: str
    title: Any
    rows: list[Any]
    pager: listing.Pager
    alone: bool  # ?kind= shows only this section
    focus: Focus

    @property
    def more_query(self) -> str:
        """On the overview, the link to this kind alone (with all its pages)."""
        return self.focus.query(kind=self.key, page=1, open="")


def _ints(status: Mapping[str, Any], key: str) -> int:
    value = status.get(key)
    return int(value) if isinstance(value, int) else 0


def _queryset(model, namespace: str):
    rows = model.objects.all()
    return rows.filter(namespace=namespace) if namespace else rows


def _page(key: str, focus: Focus):
    model, _kind, _title = SECTIONS[key]
    page = focus.page if focus.kind == key else 1
    params = tuple((k, str(v)) for k, v in {**focus.params(), "kind": key}.items() if k != "page")
    return listing.paginate(
        _queryset(model, focus.namespace).order_by("namespace", "name"),
        page,
        PER_PAGE,
        params=params,
    )


def _controller_name(row) -> str:
    for ref in row.owner_references or []:
        if isinstance(ref, dict) and ref.get("controller"):
            return f"{ref.get('kind', '')} {ref.get('name', '')}"
    return ""


def _owner(row, kind: str, focus: Focus, counts, **values: Any) -> Owner | Any:
    cls = values.pop("cls", Owner)
    return cls(
        kind=kind,
        namespace=row.namespace,
        name=row.name,
        url=listing.object_url(kind, row.namespace, row.name),
        image=row.image,
        counts=states.state_counts(counts.get(str(row.uid), {})),
        open_query=focus.open_query(kind, row.namespace, row.name),
        owner=_controller_name(row),
        opened=focus.open == (kind, row.namespace, row.name),
        **values,
    )


def _replicaset(row, focus: Focus, counts) -> Owner:
    status = row.status or {}
    return _owner(
        row,
        "ReplicaSet",
        focus,
        counts,
        desired=row.replicas,
        current=_ints(status, "replicas"),
        ready=row.ready_replicas,
        updated=None,
        available=row.available_replicas,
        revision=str((row.annotations or {}).get(REVISION, "")),
    )


def _revision_number(rs: Owner) -> int:
    return int(rs.revision) if rs.revision.isdigit() else 0


def deployment_rows(rows: Sequence[Deployment], focus: Focus) -> list[DeploymentRow]:
    """Deployments with their ReplicaSets that still have pods (and the newest one)."""
    replicasets = list(ReplicaSet.objects.filter(controller_uid__in=[r.uid for r in rows]))
    counts = listing.pod_counts(rs.uid for rs in replicasets)
    by_owner: dict[str, list[Owner]] = {}
    for rs in replicasets:
        by_owner.setdefault(str(rs.controller_uid), []).append(_replicaset(rs, focus, counts))
    result = []
    for row in rows:
        status = row.status or {}
        owned = sorted(by_owner.get(str(row.uid), []), key=_revision_number)
        total: dict[str, int] = {}
        for rs in owned:
            for c in rs.counts:
                total[c.state.key] = total.get(c.state.key, 0) + c.count
        newest = owned[-1:] if owned else []
        shown = [rs for rs in owned[:-1] if rs.desired or rs.current] + newest
        deployment = _owner(
            row,
            "Deployment",
            focus,
            {str(row.uid): total},
            cls=DeploymentRow,
            desired=row.replicas,
            current=_ints(status, "replicas"),
            ready=row.ready_replicas,
            updated=row.updated_replicas,
            available=row.available_replicas,
            revision=str((row.annotations or {}).get(REVISION, "")),
        )
        deployment.replicasets = shown
        result.append(deployment)
    return result


def replicaset_rows(rows: Sequence[ReplicaSet], focus: Focus) -> list[Owner]:
    counts = listing.pod_counts(r.uid for r in rows)
    return [_replicaset(row, focus, counts) for row in rows]


def statefulset_rows(rows: Sequence[StatefulSet], focus: Focus) -> list[StatefulRow]:
    """StatefulSets with their ordinals 0..N-1 (``ORDINALS_SHOWN`` at most), each with the
    coarse state of the pod that holds it, or none."""
    counts = listing.pod_counts(r.uid for r in rows)
    pods: dict[tuple[str, str], Pod] = {}
    if rows:
        owned = Pod.objects.filter(controller_uid__in=[r.uid for r in rows]).only(
            "name", "namespace", "phase", "ready", "node_name", "deletion_timestamp"
        )
        pods = {(p.namespace, p.name): p for p in owned}
    result = []
    for row in rows:
        status = row.status or {}
        wanted = max(row.replicas, _ints(status, "replicas"))
        ordinals = []
        for index in range(min(wanted, ORDINALS_SHOWN)):
            name = f"{row.name}-{index}"
            pod = pods.get((row.namespace, name))
            state = None
            if pod is not None:
                state = states.coarse_pod_state(
                    pod.phase, pod.ready, pod.deletion_timestamp is not None, bool(pod.node_name)
                )
            ordinals.append(Ordinal(index, name, state))
        sts = _owner(
            row,
            "StatefulSet",
            focus,
            counts,
            cls=StatefulRow,
            desired=row.replicas,
            current=_ints(status, "currentReplicas") or _ints(status, "replicas"),
            ready=row.ready_replicas,
            updated=_ints(status, "updatedReplicas"),
            available=_ints(status, "availableReplicas"),
        )
        sts.ordinals = ordinals
        sts.more_ordinals = max(0, wanted - ORDINALS_SHOWN)
        result.append(sts)
    return result


def daemonset_rows(rows: Sequence[DaemonSet], focus: Focus) -> list[Owner]:
    counts = listing.pod_counts(r.uid for r in rows)
    result = []
    for row in rows:
        status = row.status or {}
        result.append(
            _owner(
                row,
                "DaemonSet",
                focus,
                counts,
                desired=row.desired_number_scheduled,
                current=_ints(status, "currentNumberScheduled"),
                ready=row.number_ready,
                updated=_ints(status, "updatedNumberScheduled"),
                available=_ints(status, "numberAvailable"),
            )
        )
    return result


def _cpu_metric(metrics: Any, which: str) -> int | None:
    """The cpu utilisation of ``status.currentMetrics`` (``which="current"``) or of
    ``spec.metrics`` (``which="target"``), in percent of the request."""
    for metric in metrics or []:
        if not isinstance(metric, dict) or metric.get("type") != "Resource":
            continue
        resource = metric.get("resource") or {}
        if resource.get("name") == "cpu":
            value = (resource.get(which) or {}).get("averageUtilization")
            return int(value) if isinstance(value, int) else None
    return None


def _condition(status: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    for condition in status.get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == kind:
            return condition
    return {}


def hpa_rows(rows: Sequence[HorizontalPodAutoscaler], focus: Focus) -> list[HpaRow]:
    result = []
    for row in rows:
        status, spec = row.status or {}, row.spec or {}
        limited = _condition(status, "ScalingLimited")
        active = _condition(status, "ScalingActive")
        target_kind = row.scale_target_kind or "Deployment"
        target_url = ""
        if target_kind in ("Deployment", "StatefulSet", "ReplicaSet"):
            target_url = listing.object_url(target_kind, row.namespace, row.scale_target_name)
        result.append(
            HpaRow(
                namespace=row.namespace,
                name=row.name,
                url=listing.object_url("HorizontalPodAutoscaler", row.namespace, row.name),
                target=f"{target_kind}/{row.scale_target_name}",
                target_url=target_url,
                current_metric=_cpu_metric(status.get("currentMetrics"), "current"),
                target_metric=row.target_cpu_utilization
                or _cpu_metric(spec.get("metrics"), "target"),
                min_replicas=row.min_replicas,
                max_replicas=row.max_replicas,
                current_replicas=row.current_replicas,
                desired_replicas=row.desired_replicas,
                limited=str(limited.get("reason") or "") if limited.get("status") == "True" else "",
                active=active.get("status", "True") == "True" if active else bool(status),
            )
        )
    return result


ROWS = {
    "deployments": deployment_rows,
    "replicasets": replicaset_rows,
    "statefulsets": statefulset_rows,
    "daemonsets": daemonset_rows,
    "hpas": hpa_rows,
}


def section(key: str, focus: Focus) -> Section:
    rows, pager = _page(key, focus)
    return Section(
        key=key,
        title=SECTIONS[key][2],
        rows=ROWS[key](rows, focus),
        pager=pager,
        alone=focus.kind == key,
        focus=focus,
    )


# --- an opened owner's pods -------------------------------------------------------------------


@dataclass
class Opened:
    kind: str
    namespace: str
    name: str
    url: str
    tiles: list[PodTile]
    total: int
    found: bool
    close_query: str

    @property
    def more(self) -> int:
        return self.total - len(self.tiles)


def opened_pods(focus: Focus) -> Opened | None:
    if focus.open is None:
        return None
    kind, namespace, name = focus.open
    owner = OWNER_KINDS[kind].objects.filter(namespace=namespace, name=name).only("uid").first()
    tiles: list[PodTile] = []
    total = 0
    if owner is not None:
        pods = Pod.objects.filter(controller_uid=owner.uid).order_by("name")
        total = pods.count()
        pod_kind, now = kinds.by_kind("Pod"), clock.now_datetime()
        tiles = [pod_tile(to_dict(p, pod_kind, copy_content=False), now) for p in pods[:OPEN_TILES]]
    return Opened(
        kind=kind,
        namespace=namespace,
        name=name,
        url=listing.object_url(kind, namespace, name),
        tiles=tiles,
        total=total,
        found=owner is not None,
        close_query=focus.close_query,
    )


def standalone_pods(namespace: str) -> int:
    """Pods no controller owns (created directly)."""
    return _queryset(Pod, namespace).filter(Q(controller_uid__isnull=True)).count()


# --- contexts and rendering -------------------------------------------------------------------


def section_keys(focus: Focus) -> list[str]:
    return [focus.kind] if focus.kind else list(SECTIONS)


def region_context(focus: Focus, only: Sequence[str] | None = None) -> dict[str, Any]:
    """What the live region shows; ``only`` limits the work to some fragments."""
    revision = current_revision()
    wanted = set(only) if only is not None else {*section_keys(focus), "opened", "standalone"}
    sections = {key: section(key, focus) for key in section_keys(focus) if key in wanted}
    return {
        "focus": focus,
        "revision": revision,
        "stream_url": listing.stream_url(VIEW, focus.params(), revision),
        **{f"section_{key}": value for key, value in sections.items()},
        "sections": list(sections.values()),
        "opened": opened_pods(focus) if "opened" in wanted else None,
        "standalone": standalone_pods(focus.namespace) if "standalone" in wanted else 0,
        "pod_states": states.POD_STATES,
        "kind_links": kind_links(focus),
    }


@dataclass(frozen=True)
class KindLink:
    query: str
    title: Any
    current: bool


def kind_links(focus: Focus) -> list[KindLink]:
    """ "All kinds", then one link per kind (each shows that kind alone, page by page)."""
    links = [KindLink(focus.query(kind="", page=1, open=""), _("All kinds"), not focus.kind)]
    for key, (_model, _kind, title) in SECTIONS.items():
        links.append(KindLink(focus.query(kind=key, page=1, open=""), title, focus.kind == key))
    return links


def render_region(focus: Focus) -> str:
    return listing.render_sections(TEMPLATE, ["region"], region_context(focus))


def render_update(focus: Focus, messages: Sequence[Mapping[str, Any]]) -> str:
    # Only the sections the page shows (one kind, or all), and the opened tiles if any.
    shown = {k: v for k, v in LIVE.items() if k in section_keys(focus) or k == "opened"}
    if focus.open is None:
        shown.pop("opened")
    return listing.render_update(
        TEMPLATE, messages, shown, lambda only: region_context(focus, only=only), _render_stale
    )


def _render_stale(stale: Sequence[str], context: Mapping[str, Any]) -> str:
    """The opened tiles with their own partial; each list section with ``#section`` (its
    ``s``)."""
    parts = []
    for key in stale:
        if key == "opened":
            parts.append(listing.render_sections(TEMPLATE, ["opened"], context))
        else:
            parts.append(
                listing.render_sections(
                    TEMPLATE, ["section"], {**context, "s": context[f"section_{key}"]}
                )
            )
    return "".join(parts)
