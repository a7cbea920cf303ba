"""The Networking page: Services and their endpoints, the Ingress routing diagram, sending a
request through the cluster and a steady load spreading over the endpoints.

- **Services** (paginated): type, cluster IP, external IP and ports (the cells ``kubectl get
  services`` prints), and the endpoints of each, ready and not ready.
- **Routing** (``#routing``): for each Ingress, its rules (host and path) → the Service each
  rule sends to → the Service's endpoints, the Pods and the nodes they run on.
- **Send a request**: ``cluster.traffic.send`` routes it with ``cluster.proxy.route`` (the same
  round-robin state as every other request) and the page replays its route hop by hop, each
  hop with its reason, or the hop where it failed and why (404: no rule; 503: no ready endpoint).
  The diagram marks the rule, the Service and the Pod the request went through.
- **Traffic** (``#traffic``): ``TrafficFlow`` rows are steady loads (requests per second at a
  host and path, or a Service). Each flow's load is spread evenly over the ready endpoints, as
  kube-proxy's round-robin does; the page tallies the requests each endpoint received in
  simulated time (``tally``) and re-renders the tally every second.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from cluster import access, clock, proxy, traffic
from cluster.models import ControllerMemory, Endpoints, Ingress, Service, TrafficFlow
from cluster.store import kinds, tables
from cluster.store.objects import to_dict
from cluster.store.read import current_revision
from dashboard.pages import listing

TEMPLATE = "dashboard/networking.html"
VIEW = "networking"
# Reading the page needs "list" on this resource (and API group) in its namespace.
READ = ("services", "")
PER_PAGE = 25
INGRESSES_SHOWN = 12
PODS_PER_BACKEND = 12
MAX_RPS = 10_000.0
TALLY_KEY = "dashboard:traffic-tally"

LIVE = {
    "services": frozenset({"Service", "Endpoints"}),
    "routing": frozenset({"Ingress", "Service", "Endpoints"}),
}


@dataclass(frozen=True)
class Focus:
    namespace: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> Focus:
        return cls(
            namespace=listing.clean_namespace(query.get("namespace")),
            page=listing.clean_page(query.get("page")),
        )

    def params(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "page": self.page}

    def query(self, **changes: Any) -> str:
        return listing.query_string({**self.params(), **changes})


def _in(queryset, namespace: str):
    return queryset.filter(namespace=namespace) if namespace else queryset


def _dict(row, kind: str) -> dict[str, Any]:
    return to_dict(row, kinds.by_kind(kind), copy_content=False)


# --- endpoints --------------------------------------------------------------------------------


@dataclass
class EndpointView:
    ip: str
    pod: str
    namespace: str
    node: str
    ready: bool
    url: str = ""
    on_route: bool = False


def endpoint_views(endpoints: Mapping[str, Any] | None) -> list[EndpointView]:
    """Every address of an Endpoints object, ready ones first, each with its pod and node."""
    views: dict[tuple[str, bool], EndpointView] = {}
    namespace = str(((endpoints or {}).get("metadata") or {}).get("namespace") or "")
    for subset in (endpoints or {}).get("subsets") or []:
        for ready, key in ((True, "addresses"), (False, "notReadyAddresses")):
            for address in subset.get(key) or []:
                ref = address.get("targetRef") or {}
                pod = str(ref.get("name") or "")
                pod_ns = str(ref.get("namespace") or namespace)
                ip = str(address.get("ip") or "")
                views[(ip, ready)] = EndpointView(
                    ip=ip,
                    pod=pod,
                    namespace=pod_ns,
                    node=str(address.get("nodeName") or ""),
                    ready=ready,
                    url=listing.object_url("Pod", pod_ns, pod) if pod else "",
                )
    return sorted(views.values(), key=lambda e: (not e.ready, e.pod, e.ip))


def _endpoints_of(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The Endpoints objects of some Services, by ``(namespace, name)``: one query."""
    wanted = set(pairs)
    if not wanted:
        return {}
    condition = Q()
    for namespace in {ns for ns, _name in wanted}:
        names = [name for ns, name in wanted if ns == namespace]
        condition |= Q(namespace=namespace, name__in=names)
    return {
        (e.namespace, e.name): _dict(e, "Endpoints") for e in Endpoints.objects.filter(condition)
    }


# --- services ---------------------------------------------------------------------------------


@dataclass
class ServiceRow:
    namespace: str
    name: str
    url: str
    type: str
    cluster_ip: str
    external_ip: str
    ports: str
    ready: int
    not_ready: int

    @property
    def state_key(self) -> str:
        if self.type == "ExternalName":
            return "completed"
        if self.ready:
            return "ready" if not self.not_ready else "not-ready"
        return "failing"


def service_rows(rows: Sequence[Service]) -> list[ServiceRow]:
    now = clock.now_datetime()
    endpoints = _endpoints_of((r.namespace, r.name) for r in rows)
    result = []
    for row in rows:
        cells = tables.cells_for(_dict(row, "Service"), now, "Service")
        addresses = endpoint_views(endpoints.get((row.namespace, row.name)))
        result.append(
            ServiceRow(
                namespace=row.namespace,
                name=row.name,
                url=listing.object_url("Service", row.namespace, row.name),
                type=cells[1],
                cluster_ip=cells[2],
                external_ip=cells[3],
                ports=cells[4],
                ready=sum(1 for a in addresses if a.ready),
                not_ready=sum(1 for a in addresses if not a.ready),
            )
        )
    return result


def services_section(focus: Focus) -> tuple[list[ServiceRow], listing.Pager]:
    params = tuple((k, str(v)) for k, v in focus.params().items() if k != "page")
    rows, pager = listing.paginate(
        _in(Service.objects.all(), focus.namespace).order_by("namespace", "name"),
        focus.page,
        PER_PAGE,
        params=params,
    )
    return service_rows(rows), pager


# --- the routing diagram ----------------------------------------------------------------------


@dataclass
class Backend:
    namespace: str
    service: str
    port: str
    url: str
    exists: bool
    endpoints: list[EndpointView]
    more: int = 0
    on_route: bool = False

    @property
    def ready(self) -> int:
        return sum(1 for e in self.endpoints if e.ready)


@dataclass
class RuleView:
    host: str
    path: str
    path_type: str
    backend: Backend
    default: bool = False  # the Ingress's defaultBackend
    on_route: bool = False


@dataclass
class IngressView:
    namespace: str
    name: str
    url: str
    class_name: str
    tls_hosts: list[str]
    rules: list[RuleView]
    on_route: bool = False


@dataclass
class Marks:
    """Where a request went, for the diagram: the Ingress, its rule, the Service and the Pod."""

    ingress: str = ""  # "namespace/name"
    service: tuple[str, str] | None = None
    pod: tuple[str, str] | None = None
    host: str | None = None
    path: str = "/"


def _backend_ref(backend: Mapping[str, Any]) -> tuple[str, str]:
    service = backend.get("service") or {}
    port = service.get("port") or {}
    return str(service.get("name") or ""), str(port.get("number") or port.get("name") or "")


def routing(focus: Focus, marks: Marks | None = None) -> tuple[list[IngressView], int]:
    """The Ingresses of the namespace (``INGRESSES_SHOWN`` at most) and their routes."""
    marks = marks or Marks()
    queryset = _in(Ingress.objects.all(), focus.namespace).order_by("namespace", "name")
    total = queryset.count()
    ingresses = [_dict(i, "Ingress") for i in queryset[:INGRESSES_SHOWN]]
    wanted: set[tuple[str, str]] = set()
    for ingress in ingresses:
        namespace = ingress["metadata"]["namespace"]
        spec = ingress.get("spec") or {}
        for backend in _all_backends(spec):
            wanted.add((namespace, _backend_ref(backend)[0]))
    existing = set()
    if wanted:
        condition = Q()
        for namespace, name in wanted:
            condition |= Q(namespace=namespace, name=name)
        existing = set(Service.objects.filter(condition).values_list("namespace", "name"))
    endpoints = _endpoints_of(wanted)
    views = []
    for ingress in ingresses:
        meta, spec = ingress["metadata"], ingress.get("spec") or {}
        namespace = meta["namespace"]
        key = f"{namespace}/{meta['name']}"
        rules: list[RuleView] = []
        for rule in spec.get("rules") or []:
            for entry in (rule.get("http") or {}).get("paths") or []:
                rules.append(
                    RuleView(
                        host=str(rule.get("host") or "*"),
                        path=str(entry.get("path") or "/"),
                        path_type=str(entry.get("pathType") or "ImplementationSpecific"),
                        backend=_backend(
                            namespace, entry.get("backend") or {}, existing, endpoints
                        ),
                    )
                )
        default = spec.get("defaultBackend")
        if isinstance(default, dict) and default:
            rules.append(
                RuleView("*", "*", "", _backend(namespace, default, existing, endpoints), True)
            )
        tls_hosts = [str(h) for t in spec.get("tls") or [] for h in t.get("hosts") or []]
        view = IngressView(
            namespace=namespace,
            name=meta["name"],
            url=listing.object_url("Ingress", namespace, meta["name"]),
            class_name=str(spec.get("ingressClassName") or ""),
            tls_hosts=tls_hosts,
            rules=rules,
            on_route=marks.ingress == key,
        )
        if view.on_route:
            _mark_rule(view, marks)
        views.append(view)
    return views, total


def _all_backends(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    backends = [
        entry.get("backend") or {}
        for rule in spec.get("rules") or []
        for entry in (rule.get("http") or {}).get("paths") or []
    ]
    if isinstance(spec.get("defaultBackend"), dict):
        backends.append(spec["defaultBackend"])
    return backends


def _backend(namespace, backend, existing, endpoints) -> Backend:
    name, port = _backend_ref(backend)
    addresses = endpoint_views(endpoints.get((namespace, name)))
    return Backend(
        namespace=namespace,
        service=name,
        port=port,
        url=listing.object_url("Service", namespace, name) if name else "",
        exists=(namespace, name) in existing,
        endpoints=addresses[:PODS_PER_BACKEND],
        more=max(0, len(addresses) - PODS_PER_BACKEND),
    )


def _mark_rule(view: IngressView, marks: Marks) -> None:
    """Mark the rule the request took: the longest matching path among the rules of the best
    host class that send to the Service the request reached (or the default backend)."""
    best: tuple[tuple[int, int], RuleView] | None = None
    for rule in view.rules:
        if rule.default or marks.service != (rule.backend.namespace, rule.backend.service):
            continue
        if proxy.match_host(None if rule.host == "*" else rule.host, marks.host) is None:
            continue
        length = proxy.match_path(rule.path_type, rule.path, marks.path)
        if length is None:
            continue
        rank = (0 if rule.host == "*" else 1, length)
        if best is None or rank > best[0]:
            best = (rank, rule)
    chosen = best[1] if best else next((r for r in view.rules if r.default), None)
    if chosen is None:
        return
    chosen.on_route = True
    chosen.backend.on_route = True
    for endpoint in chosen.backend.endpoints:
        endpoint.on_route = (endpoint.namespace, endpoint.pod) == marks.pod


# --- sending a request ------------------------------------------------------------------------


@dataclass
class HopView:
    step: int
    component: str
    target: str
    reason: str
    failed: bool = False


@dataclass
class RouteView:
    request: str  # what was sent, as people write it
    hops: list[HopView]
    ok: bool
    status: int
    error: str
    pod: str
    marks: Marks


class SendError(ValueError):
    """The form asked for nothing that can be sent: ``field`` names the input."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass
class Target:
    """A request's or a flow's target: a host and path (through an Ingress) or a Service."""

    host: str = ""
    path: str = "/"
    service: tuple[str, str] | None = None

    @classmethod
    def from_form(cls, data: Mapping[str, Any]) -> Target:
        host = str(data.get("host") or "").strip()[:253]
        path = str(data.get("path") or "").strip()[:1024] or "/"
        service = str(data.get("service") or "").strip()
        if service:
            namespace, _sep, name = service.partition("/")
            if not (listing.clean_namespace(namespace) and listing.clean_name(name)):
                raise SendError("service", _("Choose a Service as namespace/name."))
            return cls(service=(namespace, name))
        if not path.startswith("/"):
            raise SendError("path", _("A path starts with /."))
        if host and not listing.DNS_SUBDOMAIN.match(host.lower().split(":", 1)[0]):
            raise SendError("host", _("A host is a DNS name, such as shop.example.com."))
        return cls(host=host, path=path)

    def text(self) -> str:
        if self.service:
            return _("Service %(service)s") % {"service": "/".join(self.service)}
        return f"http://{self.host or '*'}{self.path}"


def check_allowed(user, verb: str, target: Target, namespace: str) -> None:
    """Refuse a user whose roles do not allow ``verb`` on ``services/proxy`` (what sending
    traffic to a Service through the apiserver needs) where the request goes: the Service's
    namespace, else the page's, else the whole cluster. Sending one request is a read
    (``get``), a steady flow a write (``create``): viewers may send requests, editors traffic."""
    where = target.service[0] if target.service else (namespace or None)
    if not access.allows(user, verb, "services/proxy", where):
        if verb == "get":
            message = _("Your roles do not allow sending requests here.")
        else:
            message = _("Your roles do not allow starting traffic here (an editor role is needed).")
        raise SendError("service", message)


def send_request(target: Target) -> RouteView:
    """Send one request through the cluster (``cluster.traffic.send``) and describe its route."""
    request = proxy.Request(
        host=target.host or None,
        path=target.path,
        service=target.service,
        now=clock.now(),
    )
    route = traffic.send(request)
    return route_view(target, route)


def route_view(target: Target, route: proxy.Route) -> RouteView:
    hops = [HopView(0, _("client"), target.text(), _("the request enters the cluster"))]
    marks = Marks(host=target.host or None, path=target.path)
    service: tuple[str, str] | None = target.service
    for hop in route.hops:
        hops.append(HopView(len(hops), hop.component, hop.target, hop.reason))
        if hop.component == "ingress" and hop.target != "-":
            marks.ingress = hop.target
        if hop.component == "kube-proxy" and service is None and "/" in hop.target:
            namespace, _sep, rest = hop.target.partition("/")
            service = (namespace, rest.split(":", 1)[0])
    marks.service = service
    marks.pod = route.pod
    if not route.ok:
        hops[-1].failed = True
    return RouteView(
        request=target.text(),
        hops=hops,
        ok=route.ok,
        status=route.status,
        error=route.error or "",
        pod="/".join(route.pod) if route.pod else "",
        marks=marks,
    )


# --- steady traffic ---------------------------------------------------------------------------


@dataclass
class Share:
    pod: str
    namespace: str
    node: str
    url: str
    rps: float
    requests: int
    percent: int = 0


@dataclass
class FlowView:
    id: int
    target: str
    rps: float
    service: str  # "namespace/name" the flow reaches, "" when it reaches none
    via_ingress: bool = False  # sent at a host and path, not at the Service itself
    shares: list[Share] = field(default_factory=list)
    problem: str = ""


def _flow_target(flow: TrafficFlow) -> Target:
    if flow.service:
        return Target(service=(flow.namespace, flow.service))
    return Target(host=flow.host, path=flow.path or "/")


def _reached_service(target: Target, ingresses, services) -> tuple[tuple[str, str] | None, str]:
    """The Service a flow's requests reach, or why none: the Ingress stage of ``proxy.route``
    with no endpoints (so nothing is picked and no round-robin state moves)."""
    if target.service:
        return target.service, ""
    route = proxy.route(
        proxy.Request(host=target.host or None, path=target.path),
        ingresses,
        services,
        [],
        [],
        proxy.RoundRobinState(),
    )
    for hop in route.hops:
        if hop.component == "kube-proxy" and "/" in hop.target:
            namespace, _sep, rest = hop.target.partition("/")
            return (namespace, rest.split(":", 1)[0]), ""
    return None, route.error or ""


def tally(now: float) -> tuple[list[FlowView], bool]:
    """The running flows and the requests each endpoint received so far; (flows, any running).

    Kept in one ``ControllerMemory`` row: ``{flow id: {"at": seconds, "counts": {pod: n}}}``.
    Each call adds, per flow, ``rps / ready endpoints * (now - at)`` to every ready endpoint
    (simulated seconds, so a paused clock adds nothing): a flow of 10 req/s over 4 endpoints
    for 2 simulated seconds adds ``10 / 4 * 2 = 5`` requests to each. Any number of pages may
    call it; each adds only the time since the last call.
    """
    flows = list(TrafficFlow.objects.order_by("id"))
    if not flows:
        if ControllerMemory.objects.filter(key=TALLY_KEY).exists():  # no write when idle
            ControllerMemory.objects.filter(key=TALLY_KEY).delete()
        return [], False
    ingresses = [_dict(i, "Ingress") for i in Ingress.objects.all()]
    reached: dict[int, tuple[tuple[str, str] | None, str]] = {}
    needs_services = any(not f.service for f in flows)
    services = [_dict(s, "Service") for s in Service.objects.all()] if needs_services else []
    for flow in flows:
        reached[flow.id] = _reached_service(_flow_target(flow), ingresses, services)
    endpoints = _endpoints_of(t for t, _why in reached.values() if t)
    views = []
    with transaction.atomic():
        memory, _created = ControllerMemory.objects.select_for_update().get_or_create(
            key=TALLY_KEY, defaults={"data": {}}
        )
        data = dict(memory.data or {})
        kept: dict[str, Any] = {}
        moved = set(data) != {str(flow.id) for flow in flows}
        for flow in flows:
            target, problem = reached[flow.id]
            ready = [e for e in endpoint_views(endpoints.get(target)) if e.ready] if target else []
            entry = data.get(str(flow.id)) or {"at": now, "counts": {}}
            counts = {str(k): float(v) for k, v in (entry.get("counts") or {}).items()}
            elapsed = max(0.0, now - float(entry.get("at", now)))
            moved = moved or elapsed > 0
            share = flow.rps / len(ready) if ready else 0.0
            for endpoint in ready:
                key = f"{endpoint.namespace}/{endpoint.pod or endpoint.ip}"
                counts[key] = counts.get(key, 0.0) + share * elapsed
            kept[str(flow.id)] = {"at": now, "counts": counts}
            if target and not ready and not problem:
                problem = f'no endpoints available for service "{target[1]}"'
            shares = [
                Share(
                    pod=e.pod or e.ip,
                    namespace=e.namespace,
                    node=e.node,
                    url=e.url,
                    rps=share,
                    requests=int(counts.get(f"{e.namespace}/{e.pod or e.ip}", 0.0)),
                )
                for e in ready
            ]
            top = max((s.requests for s in shares), default=0)
            for s in shares:
                s.percent = s.requests * 100 // top if top else 0
            views.append(
                FlowView(
                    id=flow.id,
                    target=_flow_target(flow).text(),
                    rps=flow.rps,
                    service="/".join(target) if target else "",
                    via_ingress=not flow.service,
                    shares=shares,
                    problem=problem,
                )
            )
        if moved:  # a paused clock writes nothing
            memory.data = kept
            memory.save(update_fields=["data"])
    return views, True


def start_flow(target: Target, rps: str, who: str) -> TrafficFlow:
    try:
        value = float(rps)
    except ValueError:
        value = -1.0
    if not 0 < value <= MAX_RPS:
        raise SendError("rps", _("Requests per second: a number above 0, at most 10000."))
    namespace = target.service[0] if target.service else "default"
    return TrafficFlow.objects.create(
        namespace=namespace,
        service=target.service[1] if target.service else "",
        host=target.host,
        path=target.path,
        rps=value,
        started_by=who,
    )


def stop_flow(flow_id: str) -> int:
    if not str(flow_id).isdigit():
        return 0
    return TrafficFlow.objects.filter(id=int(flow_id)).delete()[0]


# --- contexts and rendering -------------------------------------------------------------------


def service_choices(namespace: str) -> list[str]:
    """``namespace/name`` of the Services a request can be sent to (first 200)."""
    queryset = _in(Service.objects.all(), namespace).order_by("namespace", "name")
    return [f"{ns}/{name}" for ns, name in queryset.values_list("namespace", "name")[:200]]


def region_context(
    focus: Focus, only: Sequence[str] | None = None, result: RouteView | None = None
) -> dict[str, Any]:
    revision = current_revision()
    wanted = set(only) if only is not None else {"services", "routing", "traffic", "send"}
    context: dict[str, Any] = {
        "focus": focus,
        "revision": revision,
        "stream_url": listing.stream_url(VIEW, focus.params(), revision),
        "result": result,
    }
    if "services" in wanted:
        context["services"], context["pager"] = services_section(focus)
    if "routing" in wanted:
        context["ingresses"], context["ingress_total"] = routing(
            focus, result.marks if result else None
        )
    if "traffic" in wanted:
        context["flows"], _running = tally(clock.now())
    if "send" in wanted:
        context["service_choices"] = service_choices(focus.namespace)
    return context


def render_region(focus: Focus) -> str:
    return listing.render_sections(TEMPLATE, ["region"], region_context(focus))


def render_update(focus: Focus, messages: Sequence[Mapping[str, Any]]) -> str:
    # The traffic tallies are not here: they move with the clock (``render_tick``).
    return listing.render_update(
        TEMPLATE, messages, LIVE, lambda only: region_context(focus, only=only)
    )


def render_tick(focus: Focus, previous: str | None) -> tuple[str, str]:
    """``#traffic`` on the first tick (what moved since the page was rendered), then whenever
    it differs from what was last sent: tallies move every second while traffic flows, and a
    flow started or stopped elsewhere shows within a second."""
    flows, _running = tally(clock.now())
    html = render_to_string(f"{TEMPLATE}#traffic", {"focus": focus, "flows": flows})
    return ("" if html == previous else html), html
