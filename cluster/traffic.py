"""Traffic through the cluster: single requests routed hop by hop, and steady flows.

``send(request)`` follows one request through kube-proxy's routing (``cluster.proxy.route``)
with the round-robin and session-affinity state kept between requests, and remembers it so the
chosen pod's log shows an access line. ``load_by_pod()`` spreads every ``TrafficFlow`` over the
ready endpoints of the Service it reaches: the load the pods' simulated cpu follows, which the
HorizontalPodAutoscaler reads.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction

from cluster import clock, proxy
from cluster.models import ControllerMemory, Endpoints, Ingress, Pod, Service, TrafficFlow
from cluster.store import kinds
from cluster.store.objects import to_dict

PROXY_STATE = "kube-proxy"
RECENT_REQUESTS = 50


def _objects(model, namespace: str | None = None) -> list[dict[str, Any]]:
    kind = kinds.for_model(model)
    rows = model.objects.all() if namespace is None else model.objects.filter(namespace=namespace)
    return [to_dict(row, kind, copy_content=False) for row in rows]


def send(request: proxy.Request) -> proxy.Route:
    """Route one request, updating round-robin state and the pod's recent requests."""
    with transaction.atomic():
        memory, _ = ControllerMemory.objects.select_for_update().get_or_create(key=PROXY_STATE)
        state = proxy.RoundRobinState.from_dict(memory.data or {})
        route = proxy.route(
            request, _objects(Ingress), _objects(Service), _objects(Endpoints), _objects(Pod), state
        )
        memory.data = state.to_dict()
        memory.save(update_fields=["data"])
        if route.ok and route.pod:
            _remember(route, request)
    return route


def _remember(route: proxy.Route, request: proxy.Request) -> None:
    namespace, name = route.pod
    key = f"requests:{namespace}/{name}"
    memory, _ = ControllerMemory.objects.get_or_create(key=key, defaults={"data": {"items": []}})
    items = list((memory.data or {}).get("items", []))
    items.append([clock.now(), "GET", request.path or "/", route.status])
    memory.data = {"items": items[-RECENT_REQUESTS:]}
    memory.save(update_fields=["data"])


def recent_requests(namespace: str, name: str) -> list[tuple[float, str, str, int]]:
    memory = ControllerMemory.objects.filter(key=f"requests:{namespace}/{name}").first()
    return [tuple(item) for item in (memory.data or {}).get("items", [])] if memory else []


def _flow_service(
    flow: TrafficFlow, ingresses, services, endpoints, pods
) -> tuple[str, str] | None:
    if flow.service:
        return (flow.namespace, flow.service)
    route = proxy.route(
        proxy.Request(host=flow.host, path=flow.path or "/"),
        ingresses,
        services,
        endpoints,
        pods,
        proxy.RoundRobinState(),
    )
    for hop in route.hops:
        if hop.component == "kube-proxy":  # the first kube-proxy hop names "namespace/service..."
            namespace, _, rest = hop.target.partition("/")
            return (namespace, rest.split(":", 1)[0])
    return None


def load_by_pod() -> dict[str, float]:
    """Requests per second each pod (by uid) receives from the running flows."""
    flows = list(TrafficFlow.objects.all())
    if not flows:
        return {}
    ingresses, services = _objects(Ingress), _objects(Service)
    endpoints, pods = _objects(Endpoints), _objects(Pod)
    by_name = {(e["metadata"]["namespace"], e["metadata"]["name"]): e for e in endpoints}
    load: dict[str, float] = defaultdict(float)
    for flow in flows:
        target = _flow_service(flow, ingresses, services, endpoints, pods)
        ready = _ready_pod_uids(by_name.get(target)) if target else []
        for uid in ready:
            load[uid] += flow.rps / len(ready)
    return dict(load)


def _ready_pod_uids(endpoints: dict[str, Any] | None) -> list[str]:
    uids: list[str] = []
    for subset in (endpoints or {}).get("subsets") or []:
        for address in subset.get("addresses") or []:
            uid = (address.get("targetRef") or {}).get("uid")
            if uid and uid not in uids:
                uids.append(uid)
    return uids
