"""The Endpoints controller's planner (``pkg/controller/endpoint``), as a pure function.

``plan_endpoints(service, pods)`` returns the Endpoints object the Service should have, or
``None`` when this controller manages no Endpoints for it: a Service without a selector (its
Endpoints are written by hand, so they are left alone, not deleted) or of type
``ExternalName``. Deleting the Endpoints of a deleted Service is the reconcile task's job.

For each pod the selector matches in the Service's namespace, as upstream's ``syncService``:

* skipped when terminal (Succeeded/Failed), without an IP, or being deleted (unless the Service
  sets ``publishNotReadyAddresses``);
* its address is the pod IP of the Service's IP family (``ipFamilies[0]``, default IPv4), with
  ``nodeName`` and ``targetRef`` (kind, namespace, name, uid), and ``hostname`` when the pod's
  ``subdomain`` is the Service's name (StatefulSet pods behind their headless Service);
* for each Service port, the pod's port: a number as is, a name looked up among the pod's
  container ports (and restartable init containers) with the same protocol. A pod lacking a
  named port is left out of that port's subset only;
* ready pods (or every pod with ``publishNotReadyAddresses``) go to ``addresses``, others to
  ``notReadyAddresses``.

The per-port subsets are then repacked as ``RepackSubsets`` does: addresses grouped by the set
of ports they offer, not-ready winning over ready for the same address and port, addresses
sorted by IP then uid. Upstream sorts subsets and ports by the MD5 of their Go struct dump;
Kubarium sorts by the MD5 of their canonical JSON, so the order is as stable but may differ.

Worked example: port ``http`` (targetPort ``web``) and ``metrics`` (targetPort 9090); pod a
(10.0.0.1, ready) names ``web`` 8080, pod b (10.0.0.2, not ready) has no ``web`` port. Port
``http 8080`` is offered by {a ready}, port ``metrics 9090`` by {a ready, b not ready}: two
different address sets, so two subsets, ``{addresses:[a], ports:[http 8080]}`` and
``{addresses:[a], notReadyAddresses:[b], ports:[metrics 9090]}`` (a is listed in both).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Mapping, Sequence
from typing import Any

from cluster.controllers.podutil import is_pod_ready, is_terminal, labels_of, meta, semantic

__all__ = ["HEADLESS_LABEL", "endpoints_need_update", "find_port", "plan_endpoints"]

HEADLESS_LABEL = "service.kubernetes.io/headless"
_IPV6 = "IPv6"


def _is_ipv6(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 6
    except ValueError:
        return False


def _service_family(service: Mapping[str, Any], pod: Mapping[str, Any]) -> str:
    """``ipFamilies[0]``; else the ClusterIP's family; headless: the pod IP's family."""
    spec = service.get("spec") or {}
    families = spec.get("ipFamilies") or []
    if families:
        return str(families[0])
    cluster_ip = str(spec.get("clusterIP") or "")
    if cluster_ip and cluster_ip != "None":
        return _IPV6 if _is_ipv6(cluster_ip) else "IPv4"
    return _IPV6 if _is_ipv6(str((pod.get("status") or {}).get("podIP") or "")) else "IPv4"


def _pod_ips(pod: Mapping[str, Any]) -> list[str]:
    status = pod.get("status") or {}
    ips = [str(entry.get("ip")) for entry in status.get("podIPs") or [] if entry.get("ip")]
    if not ips and status.get("podIP"):
        ips = [str(status["podIP"])]
    return ips


def _address(service: Mapping[str, Any], pod: Mapping[str, Any]) -> dict[str, Any] | None:
    """``podToEndpointAddressForService`` (+ hostname): None when no IP of the family."""
    family = _service_family(service, pod)
    ip = next((ip for ip in _pod_ips(pod) if _is_ipv6(ip) == (family == _IPV6)), None)
    if ip is None:
        return None
    address: dict[str, Any] = {"ip": ip}
    pod_spec = pod.get("spec") or {}
    if (
        pod_spec.get("hostname")
        and pod_spec.get("subdomain") == meta(service).get("name")
        and meta(pod).get("namespace", "") == meta(service).get("namespace", "")
    ):
        address["hostname"] = pod_spec["hostname"]
    if pod_spec.get("nodeName"):
        address["nodeName"] = pod_spec["nodeName"]
    target = {
        "kind": "Pod",
        "namespace": meta(pod).get("namespace", ""),
        "name": meta(pod).get("name", ""),
    }
    if meta(pod).get("uid"):
        target["uid"] = meta(pod)["uid"]
    address["targetRef"] = target
    return address


def find_port(pod: Mapping[str, Any], service_port: Mapping[str, Any]) -> int | None:
    """``podutil.FindPort``: the pod port a Service port's ``targetPort`` means, or None.

    A number is used as is (``targetPort`` defaults to ``port``); a name must be a container
    port of that name and the same protocol (TCP by default), in the pod's containers or its
    restartable (sidecar) init containers.
    """
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    if target is None:
        return None
    name = str(target)
    protocol = service_port.get("protocol") or "TCP"
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or []) + [
        container
        for container in spec.get("initContainers") or []
        if container.get("restartPolicy") == "Always"
    ]
    for container in containers:
        for port in container.get("ports") or []:
            if port.get("name") == name and (port.get("protocol") or "TCP") == protocol:
                return int(port["containerPort"])
    return None


def _endpoint_port(service_port: Mapping[str, Any], number: int) -> dict[str, Any]:
    """``endpointPortFromServicePort``: name (if any), port, protocol, appProtocol."""
    port: dict[str, Any] = {}
    if service_port.get("name"):
        port["name"] = service_port["name"]
    port["port"] = number
    port["protocol"] = service_port.get("protocol") or "TCP"
    if service_port.get("appProtocol"):
        port["appProtocol"] = service_port["appProtocol"]
    return port


def _should_be_in_endpoints(pod: Mapping[str, Any], include_terminating: bool) -> bool:
    """``ShouldPodBeInEndpoints``: not terminal, has an IP, not being deleted (unless asked)."""
    if is_terminal(pod) or not _pod_ips(pod):
        return False
    return include_terminating or not meta(pod).get("deletionTimestamp")


def _md5(value: Any) -> str:
    return hashlib.md5(  # noqa: S324 - a sort key, as upstream's, not security
        json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")
    ).hexdigest()


def _address_key(address: Mapping[str, Any]) -> tuple[str, str]:
    return str(address.get("ip", "")), str((address.get("targetRef") or {}).get("uid", ""))


def _address_sort_key(address: Mapping[str, Any]) -> tuple[bytes, int, str]:
    """``LessEndpointAddress``: IP bytes, then no targetRef first, then uid."""
    ref = address.get("targetRef")
    return (
        str(address.get("ip", "")).encode("utf-8"),
        0 if ref is None else 1,
        str((ref or {}).get("uid", "")),
    )


def repack_subsets(subsets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``RepackSubsets``: group addresses by the ports they offer (see the module docstring)."""
    addresses: dict[tuple[str, str], dict[str, Any]] = {}
    port_keys: dict[str, dict[str, Any] | None] = {}
    # port key -> address key -> ready
    port_to_ready: dict[str, dict[tuple[str, str], bool]] = {}
    for subset in subsets:
        ports = subset.get("ports") or [None]  # None: the "no ports" sentinel
        for port in ports:
            port_key = json.dumps(port, sort_keys=True)
            port_keys[port_key] = port
            ready_map = port_to_ready.setdefault(port_key, {})
            for field, ready in (("addresses", True), ("notReadyAddresses", False)):
                for address in subset.get(field) or []:
                    key = _address_key(address)
                    addresses.setdefault(key, dict(address))
                    if key not in ready_map or ready_map[key]:
                        ready_map[key] = ready
    groups: dict[str, tuple[dict[tuple[str, str], bool], list[dict[str, Any]]]] = {}
    for port_key, ready_map in port_to_ready.items():
        group_key = json.dumps(sorted((list(key), ready) for key, ready in ready_map.items()))
        entry = groups.setdefault(group_key, (ready_map, []))
        port = port_keys[port_key]
        if port is not None:
            entry[1].append(port)
    final = []
    for ready_map, ports in groups.values():
        ready = [addresses[key] for key, is_ready in ready_map.items() if is_ready]
        not_ready = [addresses[key] for key, is_ready in ready_map.items() if not is_ready]
        subset: dict[str, Any] = {}
        if ready:
            subset["addresses"] = sorted(ready, key=_address_sort_key)
        if not_ready:
            subset["notReadyAddresses"] = sorted(not_ready, key=_address_sort_key)
        if ports:
            subset["ports"] = sorted(ports, key=_md5)
        final.append(subset)
    return sorted(final, key=_md5)


def plan_endpoints(
    service: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """The desired Endpoints for ``service``, or None when this controller leaves them alone."""
    spec = service.get("spec") or {}
    if spec.get("type") == "ExternalName" or not spec.get("selector"):
        return None
    selector = dict(spec["selector"])
    namespace = meta(service).get("namespace", "")
    publish_not_ready = bool(spec.get("publishNotReadyAddresses"))
    ports = spec.get("ports") or []
    headless = spec.get("clusterIP") == "None"

    subsets: list[dict[str, Any]] = []
    for pod in pods:
        if meta(pod).get("namespace", "") != namespace:
            continue
        labels = labels_of(pod)
        if any(labels.get(key) != value for key, value in selector.items()):
            continue
        if not _should_be_in_endpoints(pod, publish_not_ready):
            continue
        address = _address(service, pod)
        if address is None:
            continue
        field = "addresses" if publish_not_ready or is_pod_ready(pod) else "notReadyAddresses"
        if not ports:
            if headless:
                subsets.append({field: [address]})
            continue
        for service_port in ports:
            number = find_port(pod, service_port)
            if number is None:
                continue
            subsets.append({field: [address], "ports": [_endpoint_port(service_port, number)]})

    labels = dict(meta(service).get("labels") or {})
    if headless or not spec.get("clusterIP"):
        labels[HEADLESS_LABEL] = ""
    else:
        labels.pop(HEADLESS_LABEL, None)
    endpoints: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": meta(service).get("name", ""), "namespace": namespace},
    }
    if labels:
        endpoints["metadata"]["labels"] = labels
    repacked = repack_subsets(subsets)
    if repacked:
        endpoints["subsets"] = repacked
    return endpoints


def endpoints_need_update(current: Mapping[str, Any] | None, desired: Mapping[str, Any]) -> bool:
    """Whether ``current`` differs from ``desired`` in subsets or labels (upstream's check).

    ``targetRef.resourceVersion`` is ignored, as upstream ignores it.
    """
    if current is None:
        return True

    def comparable(obj: Mapping[str, Any]) -> Any:
        subsets = json.loads(json.dumps(obj.get("subsets") or []))
        for subset in subsets:
            for field in ("addresses", "notReadyAddresses"):
                for address in subset.get(field) or []:
                    (address.get("targetRef") or {}).pop("resourceVersion", None)
        return semantic({"subsets": subsets, "labels": meta(obj).get("labels") or {}})

    return comparable(current) != comparable(desired)
