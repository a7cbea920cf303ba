"""The cloud-controller-manager's service controller, for a simulated cloud, as a pure function.

Kubernetes' service controller (``k8s.io/cloud-provider/controllers/service``) asks the cloud
for a load balancer for every ``type: LoadBalancer`` Service and writes the address it gets to
``status.loadBalancer.ingress``. Kubarium's cloud is an address pool (``203.0.113.0/24``,
TEST-NET-3, by default):

* A LoadBalancer Service without an ingress gets the lowest free address of the pool: not the
  network or broadcast address, and not one any Service already shows in its status. The
  Service's deprecated ``spec.loadBalancerIP``, when set, is honoured if it is in the pool and
  free. Events, as upstream: ``EnsuringLoadBalancer`` "Ensuring load balancer", then on success
  ``EnsuredLoadBalancer`` "Ensured load balancer". The status written is
  ``{"loadBalancer": {"ingress": [{"ip": "203.0.113.1", "ipMode": "VIP"}]}}``.
* When nothing is free the Service keeps waiting, with a Warning ``SyncLoadBalancerFailed``
  "Error syncing load balancer: failed to ensure load balancer: no free IP address in pool
  203.0.113.0/24 (254 in use)".
* A Service that stopped being a LoadBalancer (``kubectl patch svc web -p
  '{"spec":{"type":"ClusterIP"}}'``) has its ingress cleared: ``DeletingLoadBalancer``
  "Deleting load balancer", then ``DeletedLoadBalancer`` "Deleted load balancer".
* Services with ``spec.loadBalancerClass`` belong to another controller and are left alone.

Services are served oldest first (then by namespace and name), so the first LoadBalancer of a
cluster gets ``.1``. Worked example: ``.1`` and ``.3`` are taken; the next Service gets ``.2``,
the one after it ``.4``.

Kubarium adds no ``service.kubernetes.io/load-balancer-cleanup`` finalizer: a deleted Service
simply disappears from the list and its address is free for the next plan. A Service being
deleted that carries that finalizer anyway (imported from a real cluster) has it removed, with
the Deleting/Deleted events.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from cluster.controllers.actions import (
    NORMAL,
    WARNING,
    Action,
    Event,
    Patch,
    Plan,
    UpdateStatus,
    object_reference,
)
from cluster.controllers.podutil import creation_time, is_terminating, meta

__all__ = ["DEFAULT_POOL", "LB_CLEANUP_FINALIZER", "plan_cloud"]

DEFAULT_POOL = "203.0.113.0/24"
LB_CLEANUP_FINALIZER = "service.kubernetes.io/load-balancer-cleanup"


def _spec(service: Mapping[str, Any]) -> Mapping[str, Any]:
    return service.get("spec") or {}


def _ingress(service: Mapping[str, Any]) -> list[dict[str, Any]]:
    load_balancer = (service.get("status") or {}).get("loadBalancer") or {}
    return [dict(i) for i in load_balancer.get("ingress") or [] if isinstance(i, Mapping)]


def _wants_load_balancer(service: Mapping[str, Any]) -> bool:
    """``wantsLoadBalancer``: type LoadBalancer, no loadBalancerClass, not being deleted."""
    spec = _spec(service)
    return (
        spec.get("type") == "LoadBalancer"
        and not spec.get("loadBalancerClass")
        and not is_terminating(service)
    )


def _free_addresses(
    network: ipaddress.IPv4Network | ipaddress.IPv6Network, used: set[str]
) -> Iterator[str]:
    """Usable host addresses of the pool, lowest first, skipping ``used``.

    ``hosts()`` leaves out the network and broadcast addresses: a /24 offers .1 to .254.
    """
    for address in network.hosts():
        text = str(address)
        if text not in used:
            yield text


def _requested(
    service: Mapping[str, Any],
    network: ipaddress.IPv4Network | ipaddress.IPv6Network,
    used: set[str],
) -> tuple[str | None, str]:
    """The address ``spec.loadBalancerIP`` asks for, or why it cannot have it."""
    raw = str(_spec(service).get("loadBalancerIP") or "")
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return None, f"requested IP {raw} is not a valid IP address"
    if address not in network or address in (network.network_address, network.broadcast_address):
        return None, f"requested IP {raw} is not in pool {network}"
    if str(address) in used:
        return None, f"requested IP {raw} is already in use"
    return str(address), ""


def plan_cloud(services: Sequence[Mapping[str, Any]], pool: str = DEFAULT_POOL) -> Plan:
    """Plan one pass of the service controller over every Service of the cluster."""
    network = ipaddress.ip_network(pool, strict=False)
    used = {str(i.get("ip")) for service in services for i in _ingress(service) if i.get("ip")}
    free = _free_addresses(network, used)
    actions: list[Action] = []
    notes: list[str] = []

    def order(service: Mapping[str, Any]) -> tuple[float, str, str]:
        created = creation_time(service)
        return (
            created.timestamp() if created else 0.0,
            str(meta(service).get("namespace", "")),
            str(meta(service).get("name", "")),
        )

    for service in sorted(services, key=order):
        namespace = str(meta(service).get("namespace", ""))
        name = str(meta(service).get("name", ""))
        involved = object_reference(service)
        if _spec(service).get("loadBalancerClass"):
            continue

        if _wants_load_balancer(service):
            if _ingress(service):
                continue
            ensuring = Event(involved, NORMAL, "EnsuringLoadBalancer", "Ensuring load balancer")
            if _spec(service).get("loadBalancerIP"):
                address, problem = _requested(service, network, used)
            else:
                address = next(free, None)
                problem = f"no free IP address in pool {network} ({_in_pool(used, network)} in use)"
            if address is None:
                actions.append(ensuring)
                actions.append(
                    Event(
                        involved,
                        WARNING,
                        "SyncLoadBalancerFailed",
                        "Error syncing load balancer: failed to ensure load balancer: " + problem,
                    )
                )
                notes.append(f"Service {namespace}/{name}: {problem}")
                continue
            used.add(address)
            status = {
                **dict(service.get("status") or {}),
                "loadBalancer": {"ingress": [{"ip": address, "ipMode": "VIP"}]},
            }
            actions.append(ensuring)
            actions.append(
                UpdateStatus(
                    "Service",
                    namespace,
                    name,
                    status,
                    meta(service).get("resourceVersion"),
                    on_success=(
                        Event(involved, NORMAL, "EnsuredLoadBalancer", "Ensured load balancer"),
                    ),
                )
            )
            notes.append(f"Service {namespace}/{name}: load balancer at {address}")
            continue

        finalizers = [str(f) for f in meta(service).get("finalizers") or []]
        if is_terminating(service):
            if LB_CLEANUP_FINALIZER in finalizers:
                actions.append(
                    Event(involved, NORMAL, "DeletingLoadBalancer", "Deleting load balancer")
                )
                keep = [f for f in finalizers if f != LB_CLEANUP_FINALIZER]
                preconditions = {
                    k: v
                    for k, v in (
                        ("uid", meta(service).get("uid")),
                        ("resourceVersion", meta(service).get("resourceVersion")),
                    )
                    if v
                }
                actions.append(
                    Patch(
                        "Service",
                        namespace,
                        name,
                        {"metadata": {**preconditions, "finalizers": keep or None}},
                        on_success=(
                            Event(involved, NORMAL, "DeletedLoadBalancer", "Deleted load balancer"),
                        ),
                    )
                )
            continue

        if _ingress(service):
            actions.append(
                Event(involved, NORMAL, "DeletingLoadBalancer", "Deleting load balancer")
            )
            status = {**dict(service.get("status") or {}), "loadBalancer": {}}
            actions.append(
                UpdateStatus(
                    "Service",
                    namespace,
                    name,
                    status,
                    meta(service).get("resourceVersion"),
                    on_success=(
                        Event(involved, NORMAL, "DeletedLoadBalancer", "Deleted load balancer"),
                    ),
                )
            )
            notes.append(f"Service {namespace}/{name}: no longer a LoadBalancer, address released")

    return Plan.of(actions, notes=notes)


def _in_pool(used: set[str], network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> int:
    """How many of the ``used`` addresses belong to the pool."""
    count = 0
    for text in used:
        try:
            count += ipaddress.ip_address(text) in network
        except ValueError:
            continue
    return count
