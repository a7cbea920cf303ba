"""kube-proxy and the Ingress controller as one pure function: where does a request go?

:func:`route` follows a request through the cluster and explains every hop:

1. **Ingress** (a request with a host and/or path): the rules of every Ingress are merged, as
   ingress-nginx does. The host picks the rules: an exact host first, else a wildcard host
   (``*.example.com`` matches exactly one extra label: ``shop.example.com`` but neither
   ``example.com`` nor ``a.shop.example.com``), else the rules without a host. Among those rules'
   paths the longest match wins, counted in path elements; on a tie ``Exact`` beats ``Prefix``
   (so an ``Exact`` match always wins, since it matches every element of the request path).
   ``Prefix`` matches element by element, ignoring trailing slashes: ``/foo`` matches ``/foo``,
   ``/foo/`` and ``/foo/bar`` but not ``/foobar``; ``Exact`` compares the strings, so ``/foo``
   does not match ``/foo/``. ``ImplementationSpecific`` is treated as ``Prefix`` (ingress-nginx
   does the same for plain paths). With no matching path the ``defaultBackend`` is used (of an
   Ingress whose host rules were chosen, else of any Ingress, oldest first); without one the
   answer is 404. A host listed under ``spec.tls`` is noted on the hop.
2. **Service** (from the Ingress backend, a ``(namespace, name)`` and port, or a node port):
   the port is found by number or name (the first port when none is given).
3. **Endpoint**: only ready addresses count (``notReadyAddresses`` and endpoints whose
   ``conditions.ready`` is false are skipped). The endpoint is picked round-robin per Service
   port, as IPVS's ``rr`` scheduler does (iptables mode would pick at random); with
   ``sessionAffinity: ClientIP`` a client keeps its endpoint until the affinity times out
   (``timeoutSeconds``, 10800 by default) or the endpoint goes away.

The round-robin counters and affinity table live in a :class:`RoundRobinState` that the caller
keeps between requests; :func:`route` updates it in place and touches nothing else. Endpoints
may be given as core/v1 ``Endpoints`` or discovery/v1 ``EndpointSlice`` objects.

Reasons on hops are for people and go through gettext; error texts that Kubernetes itself
produces (``no endpoints available for service "web"``) stay as Kubernetes writes them.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

__all__ = ["Hop", "Request", "RoundRobinState", "Route", "match_host", "match_path", "route"]

Obj = Mapping[str, Any]
DEFAULT_AFFINITY_TIMEOUT = 10800


@dataclasses.dataclass(frozen=True)
class Request:
    """A request entering the cluster.

    Give ``host``/``path`` for Ingress routing, ``service`` (``(namespace, name)``) with an
    optional ``port`` (number or name) for a Service's cluster IP, or ``node_port`` for a
    NodePort. ``now`` (simulated seconds) lets ClientIP affinity expire; without it affinity
    never times out.
    """

    host: str | None = None
    path: str | None = None
    service: tuple[str, str] | None = None
    port: int | str | None = None
    node_port: int | None = None
    client_ip: str = "10.244.0.1"
    now: float | None = None


@dataclasses.dataclass(frozen=True)
class Hop:
    """One step of a route: the component that acted, what it chose, and why."""

    component: str
    target: str
    reason: str


@dataclasses.dataclass(frozen=True)
class Route:
    """Where a request went. ``status`` is the HTTP status the client sees (200 when a pod was
    reached); ``pod`` is ``(namespace, name)`` of the pod that served it."""

    hops: list[Hop]
    ok: bool
    status: int
    pod: tuple[str, str] | None
    error: str | None
    endpoint: str | None = None


@dataclasses.dataclass
class RoundRobinState:
    """Per-Service-port round-robin counters and the ClientIP affinity table.

    ``counters`` maps ``namespace/name:port`` to the number of picks so far; ``affinity`` maps
    ``namespace/name:port|client`` to ``{"endpoint": "ip:port", "at": seconds or None}``.
    """

    counters: dict[str, int] = dataclasses.field(default_factory=dict)
    affinity: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "counters": dict(self.counters),
            "affinity": {k: dict(v) for k, v in self.affinity.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RoundRobinState:
        data = data or {}
        return cls(
            counters={str(k): int(v) for k, v in (data.get("counters") or {}).items()},
            affinity={str(k): dict(v) for k, v in (data.get("affinity") or {}).items()},
        )


# --------------------------------------------------------------------------------------------
# Matching


def _meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def _namespace(obj: Obj) -> str:
    return str(_meta(obj).get("namespace") or "default")


def _name(obj: Obj) -> str:
    return str(_meta(obj).get("name", ""))


def _normal_host(host: str | None) -> str | None:
    """Lower-case, without a port or a trailing dot; None for no host."""
    if not host:
        return None
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8080
        host = host[1 : host.index("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".") or None


def match_host(rule_host: str | None, host: str | None) -> str | None:
    """How a rule's host matches a request host: ``"exact"``, ``"wildcard"``, ``"any"`` (the rule
    has no host), or None."""
    if not rule_host:
        return "any"
    host = _normal_host(host)
    if host is None:
        return None
    rule = rule_host.lower()
    if rule == host:
        return "exact"
    if rule.startswith("*."):
        label, _dot, rest = host.partition(".")
        if label and rest == rule[2:]:
            return "wildcard"
    return None


def _elements(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def match_path(path_type: str, rule_path: str, request_path: str) -> int | None:
    """The match length (path elements) of a rule path against a request path, None if none.

    ``Exact`` compares strings; ``Prefix`` and ``ImplementationSpecific`` compare elements
    (``/foo`` matches ``/foo/bar`` but not ``/foobar``; trailing slashes are ignored).
    """
    rule_path = rule_path or "/"
    if path_type == "Exact":
        return len(_elements(rule_path)) if rule_path == request_path else None
    rule, request = _elements(rule_path), _elements(request_path)
    return len(rule) if request[: len(rule)] == rule else None


@dataclasses.dataclass(frozen=True)
class _Candidate:
    ingress: Obj
    host: str  # the rule's host, "" for any
    host_class: str
    path: str
    path_type: str
    backend: Obj


def _sorted_ingresses(ingresses: Iterable[Obj]) -> list[Obj]:
    """Oldest first (ingress-nginx resolves conflicts in favour of the oldest), then by name."""
    return sorted(
        ingresses,
        key=lambda i: (str(_meta(i).get("creationTimestamp") or ""), _namespace(i), _name(i)),
    )


def _request_path(path: str | None) -> str:
    path = (path or "/").split("?", 1)[0].split("#", 1)[0]
    return path if path.startswith("/") else "/" + path


def _tls_secret(ingress: Obj, host: str | None) -> str | None:
    for entry in (ingress.get("spec") or {}).get("tls") or []:
        for tls_host in entry.get("hosts") or []:
            if host and match_host(str(tls_host), host) in ("exact", "wildcard"):
                return str(entry.get("secretName") or "")
    return None


def _ingress_stage(
    request: Request, ingresses: list[Obj]
) -> tuple[list[Hop], tuple[str, Obj] | None, Route | None]:
    """Pick the backend: ``(hops, (namespace, backend), failure)``."""
    host = _normal_host(request.host)
    path = _request_path(request.path)
    candidates: list[_Candidate] = []
    for ingress in ingresses:
        for rule in (ingress.get("spec") or {}).get("rules") or []:
            klass = match_host(rule.get("host"), host)
            if klass is None:
                continue
            for entry in (rule.get("http") or {}).get("paths") or []:
                candidates.append(
                    _Candidate(
                        ingress=ingress,
                        host=str(rule.get("host") or ""),
                        host_class=klass,
                        path=str(entry.get("path") or "/"),
                        path_type=str(entry.get("pathType") or "ImplementationSpecific"),
                        backend=entry.get("backend") or {},
                    )
                )
    chosen_class = next(
        (k for k in ("exact", "wildcard", "any") if any(c.host_class == k for c in candidates)),
        None,
    )
    in_class = [c for c in candidates if c.host_class == chosen_class]
    best: tuple[tuple[int, int], _Candidate] | None = None
    for candidate in in_class:
        length = match_path(candidate.path_type, candidate.path, path)
        if length is None:
            continue
        rank = (length, 1 if candidate.path_type == "Exact" else 0)
        if best is None or rank > best[0]:
            best = (rank, candidate)
    shown_host = host or "*"
    if best is not None:
        c = best[1]
        kind = c.path_type
        if kind == "ImplementationSpecific":
            kind = _("ImplementationSpecific, as Prefix")
        reason = _("rule %(host)s %(path)s (%(type)s) matched") % {
            "host": c.host or "*",
            "path": c.path,
            "type": kind,
        }
        secret = _tls_secret(c.ingress, host)
        if secret is not None:
            reason = _("%(reason)s; TLS for %(host)s terminated with secret %(secret)s") % {
                "reason": reason,
                "host": shown_host,
                "secret": secret or "-",
            }
        hop = Hop("ingress", f"{_namespace(c.ingress)}/{_name(c.ingress)}", reason)
        return [hop], (_namespace(c.ingress), c.backend), None
    owners = _sorted_ingresses({id(c.ingress): c.ingress for c in in_class}.values())
    for ingress in [*owners, *ingresses]:
        default = (ingress.get("spec") or {}).get("defaultBackend")
        if isinstance(default, dict) and default:
            reason = _("no rule matched %(host)s%(path)s; default backend used") % {
                "host": shown_host,
                "path": path,
            }
            hop = Hop("ingress", f"{_namespace(ingress)}/{_name(ingress)}", reason)
            return [hop], (_namespace(ingress), default), None
    error = _(
        "no Ingress rule matches host %(host)s path %(path)s and there is no default backend"
    ) % {
        "host": shown_host,
        "path": path,
    }
    hop = Hop("ingress", "-", error)
    return [hop], None, Route(hops=[hop], ok=False, status=404, pod=None, error=error)


# --------------------------------------------------------------------------------------------
# Services and endpoints


def _find_service(services: Iterable[Obj], namespace: str, name: str) -> Obj | None:
    for service in services:
        if _namespace(service) == namespace and _name(service) == name:
            return service
    return None


def _service_port(service: Obj, port: int | str | None) -> Obj | None:
    ports = [p for p in (service.get("spec") or {}).get("ports") or [] if isinstance(p, dict)]
    if not ports:
        return None
    if port is None:
        return ports[0]
    for entry in ports:
        if isinstance(port, int) and not isinstance(port, bool) and entry.get("port") == port:
            return entry
        if isinstance(port, str) and (entry.get("name") == port or str(entry.get("port")) == port):
            return entry
    return None


@dataclasses.dataclass(frozen=True)
class _Endpoint:
    ip: str
    port: int
    pod: str | None
    pod_namespace: str | None
    node: str | None

    @property
    def address(self) -> str:
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"


def _endpoints_for(
    endpoints: Iterable[Obj], namespace: str, service: str, port_name: str
) -> tuple[list[_Endpoint], int]:
    """Ready endpoints of a Service port (sorted by address) and the number skipped as not ready."""
    ready: dict[tuple[str, int], _Endpoint] = {}
    not_ready = 0
    for obj in endpoints:
        if _namespace(obj) != namespace:
            continue
        if obj.get("kind") == "EndpointSlice" or "endpoints" in obj and "subsets" not in obj:
            owner = (_meta(obj).get("labels") or {}).get("kubernetes.io/service-name")
            if owner != service:
                continue
            ports = [p for p in obj.get("ports") or [] if (p.get("name") or "") == port_name]
            for endpoint in obj.get("endpoints") or []:
                ref = endpoint.get("targetRef") or {}
                is_ready = (endpoint.get("conditions") or {}).get("ready") is not False
                for port in ports:
                    for ip in endpoint.get("addresses") or []:
                        if not is_ready:
                            not_ready += 1
                            continue
                        ready[(str(ip), int(port.get("port")))] = _Endpoint(
                            str(ip),
                            int(port.get("port")),
                            ref.get("name"),
                            ref.get("namespace"),
                            endpoint.get("nodeName"),
                        )
            continue
        if _name(obj) != service:
            continue
        for subset in obj.get("subsets") or []:
            ports = [p for p in subset.get("ports") or [] if (p.get("name") or "") == port_name]
            for port in ports:
                not_ready += len(subset.get("notReadyAddresses") or [])
                for address in subset.get("addresses") or []:
                    ref = address.get("targetRef") or {}
                    ip = str(address.get("ip"))
                    ready[(ip, int(port.get("port")))] = _Endpoint(
                        ip,
                        int(port.get("port")),
                        ref.get("name"),
                        ref.get("namespace"),
                        address.get("nodeName"),
                    )

    def order(endpoint: _Endpoint) -> tuple[int, int, int]:
        try:
            address = ipaddress.ip_address(endpoint.ip)
            return (address.version, int(address), endpoint.port)
        except ValueError:
            return (9, 0, endpoint.port)

    return sorted(ready.values(), key=order), not_ready


def _pod_for(
    endpoint: _Endpoint, pods: Iterable[Obj], namespace: str
) -> tuple[str, str | None, str | None]:
    """``(namespace, pod name, node)`` of an endpoint, looked up by IP when the reference is
    missing."""
    name, node = endpoint.pod, endpoint.node
    pod_namespace = endpoint.pod_namespace or namespace
    if name is None or node is None:
        for pod in pods:
            status = pod.get("status") or {}
            if (
                status.get("podIP") == endpoint.ip
                or name is not None
                and _name(pod) == name
                and _namespace(pod) == pod_namespace
            ):
                name = name or _name(pod)
                pod_namespace = _namespace(pod)
                node = node or (pod.get("spec") or {}).get("nodeName")
                break
    return pod_namespace, name, node


def _service_stage(
    request: Request,
    namespace: str,
    name: str,
    port: int | str | None,
    services: list[Obj],
    endpoints: list[Obj],
    pods: list[Obj],
    state: RoundRobinState,
    hops: list[Hop],
) -> Route:
    service = _find_service(services, namespace, name)
    if service is None:
        error = f'services "{name}" not found'
        hops.append(Hop("kube-proxy", f"{namespace}/{name}", error))
        return Route(hops=hops, ok=False, status=503, pod=None, error=error)
    spec = service.get("spec") or {}
    if spec.get("type") == "ExternalName":
        error = _(
            "service %(name)s is of type ExternalName (%(external)s); the request leaves the cluster"
        ) % {
            "name": name,
            "external": spec.get("externalName", ""),
        }
        hops.append(Hop("kube-proxy", f"{namespace}/{name}", error))
        return Route(hops=hops, ok=False, status=503, pod=None, error=error)
    service_port = _service_port(service, port)
    if service_port is None:
        error = _("service %(name)s has no port %(port)s") % {"name": name, "port": port}
        hops.append(Hop("kube-proxy", f"{namespace}/{name}", error))
        return Route(hops=hops, ok=False, status=503, pod=None, error=error)
    port_name = str(service_port.get("name") or "")
    port_label = str(service_port.get("port"))
    key = f"{namespace}/{name}:{port_label}"
    ready, not_ready = _endpoints_for(endpoints, namespace, name, port_name)
    reason = ngettext(
        "service %(name)s port %(port)s (%(ip)s) has %(count)d ready endpoint",
        "service %(name)s port %(port)s (%(ip)s) has %(count)d ready endpoints",
        len(ready),
    ) % {
        "name": name,
        "port": port_label,
        "ip": spec.get("clusterIP") or "None",
        "count": len(ready),
    }
    if not_ready:
        reason += "; " + ngettext(
            "%(count)d not-ready endpoint skipped",
            "%(count)d not-ready endpoints skipped",
            not_ready,
        ) % {"count": not_ready}
    hops.append(Hop("kube-proxy", key, reason))
    if not ready:
        error = f'no endpoints available for service "{name}"'
        return Route(hops=hops, ok=False, status=503, pod=None, error=error)

    picked: _Endpoint | None = None
    how = "round-robin"
    affinity_key = f"{key}|{request.client_ip}"
    if spec.get("sessionAffinity") == "ClientIP":
        timeout = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get(
            "timeoutSeconds"
        ) or DEFAULT_AFFINITY_TIMEOUT
        remembered = state.affinity.get(affinity_key)
        if remembered is not None:
            fresh = (
                request.now is None
                or remembered.get("at") is None
                or request.now - float(remembered["at"]) <= float(timeout)
            )
            match = next((e for e in ready if e.address == remembered.get("endpoint")), None)
            if fresh and match is not None:
                picked, how = match, "affinity"
    if picked is None:
        index = state.counters.get(key, 0)
        picked = ready[index % len(ready)]
        state.counters[key] = index + 1
    if spec.get("sessionAffinity") == "ClientIP":
        state.affinity[affinity_key] = {"endpoint": picked.address, "at": request.now}

    pod_namespace, pod_name, node = _pod_for(picked, pods, namespace)
    values = {
        "endpoint": picked.address,
        "pod": pod_name or picked.ip,
        "node": node or "?",
        "client": request.client_ip,
    }
    if how == "affinity":
        reason = (
            _(
                "endpoint %(endpoint)s (pod %(pod)s on %(node)s) kept by ClientIP session affinity for %(client)s"
            )
            % values
        )
    else:
        reason = _("endpoint %(endpoint)s (pod %(pod)s on %(node)s) picked by round-robin") % values
    hops.append(Hop("kube-proxy", picked.address, reason))
    pod = (pod_namespace, pod_name) if pod_name else None
    if pod is not None:
        hops.append(
            Hop(
                "pod",
                f"{pod_namespace}/{pod_name}",
                _("pod %(pod)s serves the request on port %(port)d")
                % {"pod": pod_name, "port": picked.port},
            )
        )
    return Route(hops=hops, ok=True, status=200, pod=pod, error=None, endpoint=picked.address)


def route(
    request: Request,
    ingresses: Iterable[Obj],
    services: Iterable[Obj],
    endpoints: Iterable[Obj],
    pods: Iterable[Obj],
    state: RoundRobinState,
) -> Route:
    """Follow ``request`` through Ingress, Service and endpoint; see the module docstring."""
    services, endpoints, pods = list(services), list(endpoints), list(pods)
    hops: list[Hop] = []
    if request.node_port is not None:
        for service in sorted(services, key=lambda s: (_namespace(s), _name(s))):
            spec = service.get("spec") or {}
            if spec.get("type") not in ("NodePort", "LoadBalancer"):
                continue
            for entry in spec.get("ports") or []:
                if entry.get("nodePort") == request.node_port:
                    hops.append(
                        Hop(
                            "kube-proxy",
                            f"node port {request.node_port}",
                            _(
                                "node port %(node_port)d belongs to service %(service)s port %(port)s"
                            )
                            % {
                                "node_port": request.node_port,
                                "service": f"{_namespace(service)}/{_name(service)}",
                                "port": entry.get("port"),
                            },
                        )
                    )
                    return _service_stage(
                        request,
                        _namespace(service),
                        _name(service),
                        entry.get("port"),
                        services,
                        endpoints,
                        pods,
                        state,
                        hops,
                    )
        error = _("no service uses node port %(node_port)d") % {"node_port": request.node_port}
        hops.append(Hop("kube-proxy", f"node port {request.node_port}", error))
        return Route(hops=hops, ok=False, status=503, pod=None, error=error)
    if request.service is not None:
        namespace, name = request.service
        return _service_stage(
            request, namespace, name, request.port, services, endpoints, pods, state, hops
        )

    ordered = _sorted_ingresses(ingresses)
    ingress_hops, target, failure = _ingress_stage(request, ordered)
    if failure is not None:
        return failure
    hops.extend(ingress_hops)
    assert target is not None
    namespace, backend = target
    service_ref = backend.get("service") if isinstance(backend, dict) else None
    if not isinstance(service_ref, dict):
        error = _("the backend is not a Service; resource backends are not supported")
        hops.append(Hop("ingress", "-", error))
        return Route(hops=hops, ok=False, status=503, pod=None, error=error)
    port_ref = service_ref.get("port") or {}
    port: int | str | None = port_ref.get("number") or port_ref.get("name") or None
    return _service_stage(
        request,
        namespace,
        str(service_ref.get("name", "")),
        port,
        services,
        endpoints,
        pods,
        state,
        hops,
    )
