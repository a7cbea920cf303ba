"""The Object detail page: one object of any kind, as Kubernetes would show it, and around it.

- its YAML, as ``kubectl get -o yaml`` prints it: the object the REST API serves
  (``cluster.store.read.get``, the same ``to_dict`` the API answers with), keys sorted,
  ``managedFields`` left out (kubectl hides them by default); a Secret's values are masked unless
  the user may read Secret data there (``cluster.access.may_read_secret_data``) *and* asked to
  see them (``?reveal=1``);
- kubectl's one-line summary (the printer columns of ``cluster.store.tables``), the status
  fields and the conditions as tables, each state shown by a symbol and a word as well as colour;
- related objects: the owner chain up, the dependents down, a workload's selected pods, a
  Service's pods, Endpoints and Ingresses, a Pod's node, the Services that select it and the
  Ingresses that route to those Services, what it mounts, a Node's pods, a claim's volume;
- its events, newest first;
- for a Pod, the scheduling explanation from the scheduler's recorded ``SchedulingDecision``:
  a table of the examined nodes (the filter that rejected each, the scores of the feasible ones)
  and a plain-language sentence.

The page's live region is re-rendered whole when a change touches the object or anything it
shows (:func:`touches`); the action forms live outside it, so typing is never interrupted.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import yaml
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cluster import access, clock
from cluster.kubelet.runner import KUBELET_STOPPED
from cluster.manifests import LAST_APPLIED
from cluster.models import Event, Pod, SchedulingDecision
from cluster.store import kinds, read, tables
from cluster.store.errors import NotFound
from cluster.store.kinds import Kind, get_path
from cluster.store.objects import to_dict
from cluster.store.read import current_revision
from cluster.store.selectors import matches_selector_dict
from dashboard import broadcast
from dashboard.broadcast import Notice
from dashboard.pages import states

TEMPLATE = "dashboard/detail.html"
STREAM_PATH = "/ws/objects"
EVENTS_SHOWN = 30
RELATED_SHOWN = 100
OWNER_DEPTH = 5
WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet")
SCALABLE_KINDS = ("Deployment", "ReplicaSet", "StatefulSet")
# Node conditions whose *False* is the healthy state (MemoryPressure=False is good news).
NEGATIVE_CONDITIONS = frozenset(
    {"MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable", "ReplicaFailure"}
)


# --- which object: the URL ----------------------------------------------------------------


def kind_of_plural(plural: str) -> Kind | None:
    """The kind whose resource name is ``plural`` (``deployments``, ``ingresses``), or None."""
    return next((k for k in kinds.KINDS if k.plural == plural), None)


def object_url(kind: Kind | str, namespace: str, name: str) -> str:
    """``/objects/deployments/shop/web``; cluster-scoped kinds: ``/objects/nodes/worker-1``."""
    kind = kind if isinstance(kind, Kind) else kinds.by_kind(kind)
    if kind.namespaced:
        return reverse("object-detail", args=[kind.plural, namespace, name])
    return reverse("object-detail-cluster", args=[kind.plural, name])


@dataclass(frozen=True)
class Target:
    """The object a page shows, and whether it asks to see a Secret's values."""

    kind: Kind
    namespace: str
    name: str
    reveal: bool = False

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> Target | None:
        kind = kind_of_plural(str(query.get("kind") or ""))
        name = str(query.get("name") or "")
        if kind is None or not name:
            return None
        namespace = str(query.get("namespace") or "") if kind.namespaced else ""
        if kind.namespaced and not namespace:
            return None
        return cls(kind, namespace, name, str(query.get("reveal") or "") == "1")

    @property
    def url(self) -> str:
        return object_url(self.kind, self.namespace, self.name)

    def params(self) -> dict[str, str]:
        params = {"kind": self.kind.plural, "name": self.name}
        if self.namespace:
            params["namespace"] = self.namespace
        if self.reveal:
            params["reveal"] = "1"
        return params

    def stream_url(self, since: int) -> str:
        return STREAM_PATH + "?" + urlencode({**self.params(), "since": str(since)})


# --- YAML ---------------------------------------------------------------------------------


class _KubectlDumper(yaml.SafeDumper):
    """Block style, a sequence's dashes under its key (PyYAML's default), and strings that need
    quotes in double quotes (``resourceVersion: "42"``), as kubectl (go-yaml) prints them."""

    def choose_scalar_style(self):
        style = super().choose_scalar_style()
        return '"' if style == "'" else style


def masked_secret(obj: dict[str, Any]) -> dict[str, Any]:
    """A Secret with every value replaced by its size, and kubectl's last-applied copy (which
    holds the values too) hidden."""
    masked = copy.deepcopy(obj)
    for section in ("data", "stringData"):
        values = masked.get(section)
        if isinstance(values, dict):
            masked[section] = {
                key: _("(hidden: %(size)d bytes)") % {"size": len(str(value or ""))}
                for key, value in values.items()
            }
    annotations = (masked.get("metadata") or {}).get("annotations") or {}
    if LAST_APPLIED in annotations:
        annotations[LAST_APPLIED] = _("(hidden: holds the Secret's values)")
    return masked


def as_yaml(obj: dict[str, Any]) -> str:
    """The object as ``kubectl get -o yaml`` prints it (without ``managedFields``)."""
    shown = copy.deepcopy(obj)
    (shown.get("metadata") or {}).pop("managedFields", None)
    return yaml.dump(
        shown,
        Dumper=_KubectlDumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000_000,
    )


# --- status and conditions ----------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """A condition's or a check's outcome: CSS key, symbol and the word Kubernetes uses."""

    key: str
    symbol: str
    text: str


def condition_verdict(condition_type: str, status: str) -> Verdict:
    good = "False" if condition_type in NEGATIVE_CONDITIONS else "True"
    if status == good:
        return Verdict("ready", "✓", status)
    if status in ("True", "False"):
        return Verdict("failing", "✕", status)
    return Verdict("unknown", "?", status or "Unknown")


@dataclass
class ConditionRow:
    type: str
    status: Verdict
    reason: str
    message: str
    last_transition: str


def conditions_of(obj: dict[str, Any]) -> list[ConditionRow]:
    rows = []
    for condition in get_path(obj, "status.conditions", []) or []:
        if not isinstance(condition, dict):
            continue
        kind_of_condition = str(condition.get("type") or "")
        rows.append(
            ConditionRow(
                type=kind_of_condition,
                status=condition_verdict(kind_of_condition, str(condition.get("status") or "")),
                reason=str(condition.get("reason") or ""),
                message=str(condition.get("message") or ""),
                last_transition=str(condition.get("lastTransitionTime") or ""),
            )
        )
    return rows


def status_fields(obj: dict[str, Any]) -> list[tuple[str, str]]:
    """The status's plain fields (phase, replicas, podIP...), as ``path``/value rows."""
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key in sorted(value):
                if key != "conditions":
                    walk(f"{prefix}.{key}" if prefix else key, value[key])
        elif isinstance(value, list):
            if value and all(not isinstance(v, dict | list) for v in value):
                rows.append((prefix, ", ".join(str(v) for v in value)))
            elif value:
                rows.append(
                    (prefix, ngettext("%(n)d item", "%(n)d items", len(value)) % {"n": len(value)})
                )
        elif value not in (None, ""):
            rows.append((prefix, str(value).lower() if isinstance(value, bool) else str(value)))

    walk("", obj.get("status") or {})
    return rows


@dataclass
class Summary:
    """kubectl's row for the object: ``kubectl get <kind> <name>``'s columns and cells."""

    headers: list[str]
    cells: list[str]


def summary_of(kind: Kind, obj: dict[str, Any], now) -> Summary:
    columns = tables.columns_for(kind.kind)
    cells = tables.cells_for(obj, now, kind.kind)
    shown = [(c.name.upper(), cell) for c, cell in zip(columns, cells, strict=False)]
    return Summary([h for h, _c in shown], ["" if c is None else str(c) for _h, c in shown])


# --- related objects ----------------------------------------------------------------------


@dataclass
class Link:
    kind: str
    namespace: str
    name: str
    note: str = ""
    state: Any = None  # a pod's states.State, shown beside its STATUS

    @property
    def url(self) -> str:
        return object_url(self.kind, self.namespace, self.name)

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass
class Related:
    title: str
    links: list[Link]
    more: int = 0


def _pod_link(pod: dict[str, Any], now) -> Link:
    cells = tables.cells_for(pod, now, "Pod")
    ready, status = str(cells[1]), str(cells[2])
    node = get_path(pod, "spec.nodeName", "") or ""
    note = f"{status} {ready}" + (f" · {node}" if node else "")
    meta = pod["metadata"]
    return Link(
        "Pod", meta.get("namespace", ""), meta["name"], note, states.pod_state(status, ready)
    )


def _links(kind: str, rows: Iterable, now=None) -> list[Link]:
    found = []
    for row in rows:
        if kind == "Pod":
            found.append(_pod_link(to_dict(row, kinds.by_kind("Pod"), copy_content=False), now))
        else:
            found.append(Link(kind, row.namespace, row.name))
    return found


def _section(title: str, links: list[Link], total: int | None = None) -> Related | None:
    """A titled list of at most ``RELATED_SHOWN`` links; ``total`` when more exist than given."""
    if not links:
        return None
    total = len(links) if total is None else total
    return Related(title, links[:RELATED_SHOWN], max(0, total - RELATED_SHOWN))


def _pods_where(namespace: str, wanted, now, field: str = "labels") -> tuple[list[Link], int]:
    """The pods of a namespace whose ``labels`` (or ``spec``) ``wanted`` accepts: the test
    runs over that one column, then only the pods shown are read whole (a namespace may hold
    thousands of pods)."""
    names = [
        name
        for name, value in Pod.objects.filter(namespace=namespace).values_list("name", field)
        if wanted(value or {})
    ]
    names.sort()
    rows = Pod.objects.filter(namespace=namespace, name__in=names[:RELATED_SHOWN]).order_by("name")
    return _links("Pod", rows, now), len(names)


def owner_chain(obj: dict[str, Any]) -> list[Link]:
    """The controller owner, its owner, and so on (a Pod -> ReplicaSet -> Deployment)."""
    chain: list[Link] = []
    current = obj
    namespace = get_path(obj, "metadata.namespace", "") or ""
    for _depth in range(OWNER_DEPTH):
        refs = [
            r
            for r in get_path(current, "metadata.ownerReferences", []) or []
            if isinstance(r, dict)
        ]
        ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
        if ref is None:
            break
        owner_kind = kinds.by_api(str(ref.get("apiVersion") or ""), str(ref.get("kind") or ""))
        if owner_kind is None:
            break
        owner_namespace = namespace if owner_kind.namespaced else ""
        try:
            current = read.get(owner_kind, owner_namespace, str(ref.get("name") or ""))
        except NotFound:
            chain.append(Link(owner_kind.kind, owner_namespace, str(ref.get("name")), _("gone")))
            break
        chain.append(Link(owner_kind.kind, owner_namespace, current["metadata"]["name"]))
    return chain


def dependents(uid: str, now) -> list[Link]:
    """Objects whose controller is this one (a Deployment's ReplicaSets, a ReplicaSet's Pods)."""
    found: list[Link] = []
    for kind in kinds.KINDS:
        if kind.kind == "Event":
            continue
        rows = kind.model.objects.filter(controller_uid=uid).order_by("namespace", "name")
        found.extend(_links(kind.kind, rows[: RELATED_SHOWN + 1], now))
    return found


def _selected_pods(namespace: str, selector: Any, now) -> tuple[list[Link], int]:
    """A workload's pods: its label selector (``matchLabels`` and ``matchExpressions``)."""
    if not isinstance(selector, dict) or not selector:
        return [], 0
    return _pods_where(namespace, lambda labels: matches_selector_dict(selector, labels), now)


def _service_selects(service_selector: Any, labels: Mapping[str, str]) -> bool:
    """A Service's selector is a plain map; an empty one selects nothing (no endpoints)."""
    if not isinstance(service_selector, dict) or not service_selector:
        return False
    return all(labels.get(k) == v for k, v in service_selector.items())


def ingress_backends(ingress: dict[str, Any]) -> set[str]:
    """The names of the Services an Ingress routes to (default backend and every path)."""
    spec = ingress.get("spec") or {}
    names = {get_path(spec, "defaultBackend.service.name")}
    for rule in spec.get("rules") or []:
        for path in get_path(rule, "http.paths", []) or []:
            names.add(get_path(path, "backend.service.name"))
    return {n for n in names if isinstance(n, str) and n}


def _ingresses_to(namespace: str, services: set[str]) -> list[Link]:
    if not services:
        return []
    kind = kinds.by_kind("Ingress")
    found = []
    for row in kind.model.objects.filter(namespace=namespace).order_by("name"):
        routed = ingress_backends(to_dict(row, kind, copy_content=False)) & services
        if routed:
            found.append(Link("Ingress", row.namespace, row.name, " → ".join(sorted(routed))))
    return found


def _mounted(pod: dict[str, Any]) -> list[Link]:
    """ConfigMaps, Secrets and claims a pod mounts or reads its environment from."""
    namespace = pod["metadata"].get("namespace", "")
    spec = pod.get("spec") or {}
    wanted: set[tuple[str, str]] = set()
    for volume in spec.get("volumes") or []:
        if not isinstance(volume, dict):
            continue
        if get_path(volume, "configMap.name"):
            wanted.add(("ConfigMap", volume["configMap"]["name"]))
        if get_path(volume, "secret.secretName"):
            wanted.add(("Secret", volume["secret"]["secretName"]))
        if get_path(volume, "persistentVolumeClaim.claimName"):
            wanted.add(("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]))
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if not isinstance(container, dict):
            continue
        for source in container.get("envFrom") or []:
            if get_path(source, "configMapRef.name"):
                wanted.add(("ConfigMap", source["configMapRef"]["name"]))
            if get_path(source, "secretRef.name"):
                wanted.add(("Secret", source["secretRef"]["name"]))
        for env in container.get("env") or []:
            if get_path(env, "valueFrom.configMapKeyRef.name"):
                wanted.add(("ConfigMap", env["valueFrom"]["configMapKeyRef"]["name"]))
            if get_path(env, "valueFrom.secretKeyRef.name"):
                wanted.add(("Secret", env["valueFrom"]["secretKeyRef"]["name"]))
    return [Link(kind, namespace, name) for kind, name in sorted(wanted) if isinstance(name, str)]


def related_of(kind: Kind, obj: dict[str, Any], now) -> list[Related]:
    """The related objects worth a link, in sections."""
    meta = obj["metadata"]
    namespace, name = meta.get("namespace", ""), meta["name"]
    sections: list[Related | None] = [
        _section(_("Owned by (controller chain)"), owner_chain(obj)),
        _section(_("Owns"), dependents(meta["uid"], now)),
    ]
    if kind.kind in WORKLOAD_KINDS:
        selector = get_path(obj, "spec.selector")
        sections.append(_section(_("Pods it selects"), *_selected_pods(namespace, selector, now)))
    elif kind.kind == "Pod":
        labels = meta.get("labels") or {}
        node = get_path(obj, "spec.nodeName", "")
        if node:
            sections.append(_section(_("Runs on"), [Link("Node", "", node)]))
        service_kind = kinds.by_kind("Service")
        services = [
            row
            for row in service_kind.model.objects.filter(namespace=namespace).order_by("name")
            if _service_selects((row.spec or {}).get("selector"), labels)
        ]
        sections.append(_section(_("Services that select it"), _links("Service", services)))
        sections.append(
            _section(
                _("Ingresses that route to those Services"),
                _ingresses_to(namespace, {s.name for s in services}),
            )
        )
        sections.append(_section(_("Uses"), _mounted(obj)))
    elif kind.kind == "Service":
        selector = get_path(obj, "spec.selector")
        pods, total = [], 0
        if isinstance(selector, dict) and selector:
            pods, total = _pods_where(
                namespace, lambda labels: _service_selects(selector, labels), now
            )
        sections.append(_section(_("Pods it selects"), pods, total))
        endpoints = kinds.by_kind("Endpoints").model.objects.filter(namespace=namespace, name=name)
        sections.append(_section(_("Endpoints"), _links("Endpoints", endpoints)))
        sections.append(_section(_("Ingresses that route to it"), _ingresses_to(namespace, {name})))
    elif kind.kind == "Ingress":
        links = [Link("Service", namespace, s) for s in sorted(ingress_backends(obj))]
        sections.append(_section(_("Services it routes to"), links))
    elif kind.kind == "Endpoints":
        sections.append(_section(_("Service"), [Link("Service", namespace, name)]))
    elif kind.kind == "Node":
        rows = Pod.objects.filter(node_name=name).order_by("namespace", "name")
        total = rows.count()
        sections.append(
            _section(_("Pods on this node"), _links("Pod", rows[:RELATED_SHOWN], now), total)
        )
    elif kind.kind == "PersistentVolumeClaim":
        volume = get_path(obj, "spec.volumeName", "")
        if volume:
            sections.append(_section(_("Bound volume"), [Link("PersistentVolume", "", volume)]))

        def mounts(spec: dict) -> bool:
            return any(
                get_path(v, "persistentVolumeClaim.claimName") == name
                for v in spec.get("volumes") or []
                if isinstance(v, dict)
            )

        users, total = _pods_where(namespace, mounts, now, field="spec")
        sections.append(_section(_("Pods that mount it"), users, total))
    elif kind.kind == "PersistentVolume":
        claim = get_path(obj, "spec.claimRef") or {}
        if claim.get("name"):
            link = Link("PersistentVolumeClaim", claim.get("namespace", ""), claim["name"])
            sections.append(_section(_("Bound claim"), [link]))
    elif kind.kind == "HorizontalPodAutoscaler":
        target = get_path(obj, "spec.scaleTargetRef") or {}
        target_kind = kinds.by_api(
            str(target.get("apiVersion") or ""), str(target.get("kind") or "")
        )
        if target_kind is not None and target.get("name"):
            link = Link(target_kind.kind, namespace, target["name"])
            sections.append(_section(_("Scales"), [link]))
    return [s for s in sections if s is not None]


# --- events -------------------------------------------------------------------------------


@dataclass
class EventRow:
    type: str
    warning: bool
    reason: str
    age: str
    source: str
    message: str
    count: int


def events_of(kind: Kind, obj: dict[str, Any], now) -> list[EventRow]:
    meta = obj["metadata"]
    rows = (
        Event.objects.filter(
            involved_kind=kind.kind,
            involved_name=meta["name"],
            involved_namespace=meta.get("namespace", ""),
        )
        .filter(Q(involved_uid=meta["uid"]) | Q(involved_uid=""))
        .order_by("-last_timestamp", "-resource_version")[:EVENTS_SHOWN]
    )
    found = []
    for row in rows:
        event = to_dict(row, kinds.by_kind("Event"), copy_content=False)
        last = row.last_timestamp or row.creation_timestamp
        found.append(
            EventRow(
                type=row.type,
                warning=row.type == "Warning",
                reason=row.reason,
                age=tables.human_duration(max(0.0, (now - last).total_seconds())) if last else "",
                source=row.source_component,
                message=str(event.get("message") or ""),
                count=row.count,
            )
        )
    return found


# --- a pod's scheduling explanation -------------------------------------------------------


@dataclass
class NodeVerdict:
    node: str
    verdict: Verdict
    plugin: str = ""
    reasons: list[str] = field(default_factory=list)
    scores: list[int | None] = field(default_factory=list)
    total: int | None = None


@dataclass
class Scheduling:
    sentence: str
    message: str = ""  # the PodScheduled condition's message, Kubernetes' words
    plugins: list[str] = field(default_factory=list)  # the score columns
    rows: list[NodeVerdict] = field(default_factory=list)
    counts: list[tuple[str, int]] = field(default_factory=list)  # at scale: reason -> nodes
    evaluated: int = 0
    total_nodes: int = 0


def scheduled_sentence(node: str, feasible: int) -> str:
    """The sentence for a placed pod (the scheduler keeps one only for pending pods); the same
    words as ``cluster.scheduler.explain.plain_language``."""
    if feasible <= 1:
        return _("Scheduled on %(node)s, the only suitable node examined.") % {"node": node}
    return ngettext(
        "Scheduled on %(node)s, the best of %(count)d suitable node.",
        "Scheduled on %(node)s, the best of %(count)d suitable nodes.",
        feasible,
    ) % {"node": node, "count": feasible}


def scheduling_of(pod: dict[str, Any]) -> Scheduling:
    """What the scheduler decided for ``pod`` and why, from its recorded decision."""
    from cluster.models import Node

    node = get_path(pod, "spec.nodeName", "") or ""
    message = next(
        (
            str(c.get("message") or "")
            for c in get_path(pod, "status.conditions", []) or []
            if isinstance(c, dict) and c.get("type") == "PodScheduled" and c.get("status") != "True"
        ),
        "",
    )
    decision = SchedulingDecision.objects.filter(pod_uid=pod["metadata"]["uid"]).first()
    total_nodes = Node.objects.count()
    if decision is None:
        if node:
            sentence = _(
                "Assigned to %(node)s directly (spec.nodeName): the scheduler was not involved."
            ) % {"node": node}
        else:
            sentence = _("Not yet looked at by the scheduler.")
        return Scheduling(sentence, message, total_nodes=total_nodes)
    diagnosis = decision.diagnosis or {}
    scores = [s for s in diagnosis.get("scores") or [] if isinstance(s, dict)]
    plugins: list[str] = []
    for row in scores:
        for plugin in row.get("scores") or {}:
            if plugin not in plugins:
                plugins.append(plugin)
    rows: list[NodeVerdict] = []
    for row in scores:
        chosen = bool(row.get("selected"))
        verdict = (
            Verdict("ready", "★", _("Chosen"))
            if chosen
            else Verdict("creating", "✓", _("Feasible"))
        )
        rows.append(
            NodeVerdict(
                node=str(row.get("node") or ""),
                verdict=verdict,
                scores=[(row.get("scores") or {}).get(p) for p in plugins],
                total=row.get("total"),
            )
        )
    if decision.node_name and not any(r.verdict.text == _("Chosen") for r in rows):
        rows.insert(0, NodeVerdict(decision.node_name, Verdict("ready", "★", _("Chosen"))))
    filtered = diagnosis.get("filtered") or {}
    counts: list[tuple[str, int]] = []
    if isinstance(filtered.get("counts"), dict):
        counts = sorted(filtered["counts"].items(), key=lambda item: (-item[1], item[0]))
    else:
        for name, status in filtered.items():
            if not isinstance(status, dict):
                continue
            rows.append(
                NodeVerdict(
                    node=name,
                    verdict=Verdict("failing", "✕", _("Rejected")),
                    plugin=str(status.get("plugin") or ""),
                    reasons=[str(r) for r in status.get("reasons") or []],
                    scores=[None] * len(plugins),
                )
            )
    sentence = str(diagnosis.get("sentence") or "")
    if not sentence and decision.node_name:
        sentence = scheduled_sentence(decision.node_name, max(1, len(scores)))
    if not sentence:
        sentence = decision.message
    return Scheduling(
        sentence=sentence,
        message=message or ("" if decision.node_name else decision.message),
        plugins=plugins,
        rows=rows,
        counts=counts,
        evaluated=int(diagnosis.get("evaluated") or len(rows)),
        total_nodes=total_nodes,
    )


# --- the page -----------------------------------------------------------------------------


@dataclass
class NodeFacts:
    cordoned: bool
    kubelet_running: bool
    condition: states.NodeCondition


def node_facts(obj: dict[str, Any]) -> NodeFacts:
    annotations = obj["metadata"].get("annotations") or {}
    ready = next(
        (
            str(c.get("status") or "")
            for c in get_path(obj, "status.conditions", []) or []
            if isinstance(c, dict) and c.get("type") == "Ready"
        ),
        "Unknown",
    )
    return NodeFacts(
        cordoned=bool(get_path(obj, "spec.unschedulable", False)),
        kubelet_running=annotations.get(KUBELET_STOPPED) != "true",
        condition=states.node_condition(ready),
    )


def may_view(user, target: Target) -> bool:
    """Reading a page needs ``get`` on the object; a Secret's page (values masked) only needs
    to be allowed to read its namespace's ConfigMaps, as a viewer may."""
    kind = target.kind
    if access.allows(user, "get", kind.plural, target.namespace or None, kind.group):
        return True
    return kind.kind == "Secret" and access.allows(user, "get", "configmaps", target.namespace)


def can_reveal(user, target: Target) -> bool:
    return target.kind.kind == "Secret" and access.may_read_secret_data(user, target.namespace)


def region_context(target: Target, user) -> dict[str, Any]:
    """Everything the live region shows, freshly read; ``gone`` when the object is not there."""
    revision = current_revision()
    base: dict[str, Any] = {
        "target": target,
        "kind": target.kind,
        "revision": revision,
        "stream_url": target.stream_url(revision),
    }
    try:
        obj = read.get(target.kind, target.namespace, target.name)
    except NotFound:
        return {**base, "gone": True}
    now = clock.now_datetime()
    revealed = target.reveal and can_reveal(user, target)
    shown = obj if target.kind.kind != "Secret" or revealed else masked_secret(obj)
    context = {
        **base,
        "gone": False,
        "obj": obj,
        "meta": obj["metadata"],
        "yaml": as_yaml(shown),
        "summary": summary_of(target.kind, obj, now),
        "status_rows": status_fields(obj),
        "conditions": conditions_of(obj),
        "related": related_of(target.kind, obj, now),
        "events": events_of(target.kind, obj, now),
        "terminating": bool(obj["metadata"].get("deletionTimestamp")),
        "secret": target.kind.kind == "Secret",
        "revealed": revealed,
        "may_reveal": can_reveal(user, target) and not revealed,
    }
    if target.kind.kind == "Pod":
        context["scheduling"] = scheduling_of(obj)
        cells = tables.cells_for(obj, now, "Pod")
        context["pod_state"] = states.pod_state(str(cells[2]), str(cells[1]))
        context["pod_status"] = str(cells[2])
    if target.kind.kind == "Node":
        context["node"] = node_facts(obj)
    return context


def _fragment(name: str, context: dict[str, Any]) -> str:
    return render_to_string(f"{TEMPLATE}#{name}", context)


def render_region(target: Target, user=None) -> str:
    from django.contrib.auth.models import AnonymousUser

    return _fragment("region", region_context(target, user or AnonymousUser()))


# --- live updates -------------------------------------------------------------------------


def groups_for(target: Target) -> list[str]:
    """A namespaced object's page hears its namespace; a Node's page hears cluster-scoped
    changes (with the nodes whose pods changed) and ``default``, where its events go."""
    if target.kind.namespaced:
        return [broadcast.namespace_group(target.namespace)]
    if target.kind.kind == "Node":
        return [broadcast.GROUP_CLUSTER, broadcast.namespace_group("default")]
    return [broadcast.GROUP_ALL]


def touches(target: Target, notices: Sequence[Notice], nodes: Iterable[str]) -> bool:
    """Whether a batch of changes may change what the page shows.

    The object itself; an event about it (events are named ``<object>.<suffix>``); for a
    namespaced object, any other object in its namespace (its pods, owners, Services...); for a
    Node, its pods; for other cluster-scoped kinds, anything but events.
    """
    if target.kind.kind == "Node" and target.name in set(nodes):
        return True
    for notice in notices:
        if notice.kind == target.kind.kind and notice.name == target.name:
            if notice.namespace == target.namespace:
                return True
        if notice.kind == "Event":
            if notice.name.startswith(target.name + "."):
                return True
            continue
        if target.kind.namespaced and notice.namespace == target.namespace:
            return True
        if target.kind.kind == "Node" and notice.node == target.name:
            return True
        if not target.kind.namespaced and target.kind.kind != "Node":
            return True
    return False


def render_update(target: Target, messages: Sequence[Mapping[str, Any]], user=None) -> str:
    notices, nodes, _revision, overflow = broadcast.decode(messages)
    if overflow or touches(target, notices, nodes):
        return render_region(target, user)
    return ""


def is_current(since: int) -> bool:
    return since > 0 and since == current_revision()
