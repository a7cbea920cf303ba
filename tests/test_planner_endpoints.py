"""The Endpoints planner: which pods, which addresses, which ports, how subsets are packed."""

from __future__ import annotations

from typing import Any

import pytest

from cluster.controllers.endpoints import (
    endpoints_need_update,
    find_port,
    plan_endpoints,
    repack_subsets,
)


def make_service(
    *,
    ports: list[dict[str, Any]] | None = None,
    selector: dict[str, str] | None = None,
    cluster_ip: str = "10.96.0.10",
    publish_not_ready: bool = False,
    labels: dict[str, str] | None = None,
    type_: str = "ClusterIP",
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "type": type_,
        "clusterIP": cluster_ip,
        "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]
        if ports is None
        else ports,
    }
    if selector != {}:
        spec["selector"] = selector or {"app": "web"}
    if publish_not_ready:
        spec["publishNotReadyAddresses"] = True
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default", "uid": "uid-svc"},
        "spec": spec,
    }
    if labels:
        service["metadata"]["labels"] = labels
    return service


def make_pod(
    name: str,
    ip: str | None,
    *,
    ready: bool = True,
    labels: dict[str, str] | None = None,
    ports: list[dict[str, Any]] | None = None,
    phase: str = "Running",
    node: str = "node-1",
    deleting: bool = False,
    namespace: str = "default",
    hostname: str | None = None,
    subdomain: str | None = None,
) -> dict[str, Any]:
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "labels": labels or {"app": "web"},
        },
        "spec": {
            "nodeName": node,
            "containers": [{"name": "main", "image": "nginx", "ports": ports or []}],
        },
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }
    if ip:
        pod["status"]["podIP"] = ip
        pod["status"]["podIPs"] = [{"ip": ip}]
    if deleting:
        pod["metadata"]["deletionTimestamp"] = "2025-01-01T10:00:00Z"
    if hostname:
        pod["spec"]["hostname"] = hostname
    if subdomain:
        pod["spec"]["subdomain"] = subdomain
    return pod


def address(name: str, ip: str, node: str = "node-1", **extra: Any) -> dict[str, Any]:
    return {
        "ip": ip,
        **extra,
        "nodeName": node,
        "targetRef": {"kind": "Pod", "namespace": "default", "name": name, "uid": f"uid-{name}"},
    }


HTTP = {"name": "http", "port": 8080, "protocol": "TCP"}


# ------------------------------------------------------------------------------ who is in


def test_ready_and_not_ready_pods():
    """Ready pods are addresses, not-ready ones notReadyAddresses, in one subset."""
    pods = [
        make_pod("b", "10.0.0.2"),
        make_pod("a", "10.0.0.1"),
        make_pod("c", "10.0.0.3", ready=False),
    ]
    endpoints = plan_endpoints(make_service(), pods)
    assert endpoints is not None
    assert endpoints["metadata"] == {"name": "web", "namespace": "default"}
    assert endpoints["subsets"] == [
        {
            "addresses": [address("a", "10.0.0.1"), address("b", "10.0.0.2")],
            "notReadyAddresses": [address("c", "10.0.0.3")],
            "ports": [HTTP],
        }
    ]


@pytest.mark.parametrize(
    "pod",
    [
        pytest.param(make_pod("x", None), id="no IP yet"),
        pytest.param(make_pod("x", "10.0.0.9", phase="Succeeded"), id="terminal"),
        pytest.param(make_pod("x", "10.0.0.9", deleting=True), id="terminating"),
        pytest.param(make_pod("x", "10.0.0.9", labels={"app": "db"}), id="selector mismatch"),
        pytest.param(make_pod("x", "10.0.0.9", namespace="other"), id="other namespace"),
    ],
)
def test_pods_left_out(pod: dict[str, Any]):
    """Pods without an IP, terminal, terminating, unselected or elsewhere are left out."""
    endpoints = plan_endpoints(make_service(), [pod])
    assert endpoints is not None and "subsets" not in endpoints


def test_publish_not_ready_addresses_lists_everyone_as_ready():
    """publishNotReadyAddresses: not-ready and terminating pods are plain addresses."""
    pods = [make_pod("a", "10.0.0.1", ready=False), make_pod("b", "10.0.0.2", deleting=True)]
    endpoints = plan_endpoints(make_service(publish_not_ready=True), pods)
    assert endpoints["subsets"] == [
        {"addresses": [address("a", "10.0.0.1"), address("b", "10.0.0.2")], "ports": [HTTP]}
    ]


@pytest.mark.parametrize(
    "service",
    [
        pytest.param(make_service(selector={}), id="no selector: hand-made endpoints"),
        pytest.param(make_service(type_="ExternalName"), id="ExternalName"),
    ],
)
def test_services_this_controller_leaves_alone(service: dict[str, Any]):
    """Services without a selector, and ExternalName ones, get None."""
    assert plan_endpoints(service, [make_pod("a", "10.0.0.1")]) is None


# ---------------------------------------------------------------------------------- ports


@pytest.mark.parametrize(
    ("service_port", "container_ports", "expected"),
    [
        pytest.param({"port": 80, "targetPort": 8080}, [], 8080, id="number is used as is"),
        pytest.param({"port": 80}, [], 80, id="no targetPort means port"),
        pytest.param(
            {"port": 80, "targetPort": "web"},
            [{"name": "web", "containerPort": 3000}],
            3000,
            id="name looked up",
        ),
        pytest.param(
            {"port": 80, "targetPort": "web"},
            [{"name": "admin", "containerPort": 9000}],
            None,
            id="name missing",
        ),
        pytest.param(
            {"port": 53, "targetPort": "dns", "protocol": "UDP"},
            [{"name": "dns", "containerPort": 53, "protocol": "TCP"}],
            None,
            id="name with another protocol does not count",
        ),
    ],
)
def test_find_port(service_port, container_ports, expected):
    """Named target ports resolve through the pod's container ports of the same protocol."""
    assert find_port(make_pod("a", "10.0.0.1", ports=container_ports), service_port) == expected


def test_sidecar_init_container_ports_count():
    """Restartable init containers (sidecars) may provide the named port."""
    pod = make_pod("a", "10.0.0.1")
    pod["spec"]["initContainers"] = [
        {
            "name": "proxy",
            "restartPolicy": "Always",
            "ports": [{"name": "web", "containerPort": 15001}],
        }
    ]
    assert find_port(pod, {"port": 80, "targetPort": "web"}) == 15001


def test_pods_without_a_named_port_are_grouped_apart():
    """The docstring's example: ports offered by different address sets form two subsets."""
    service = make_service(
        ports=[
            {"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"},
            {"name": "metrics", "port": 9090, "targetPort": 9090, "protocol": "TCP"},
        ]
    )
    pods = [
        make_pod("a", "10.0.0.1", ports=[{"name": "web", "containerPort": 8080}]),
        make_pod("b", "10.0.0.2", ready=False),
    ]
    subsets = plan_endpoints(service, pods)["subsets"]
    assert sorted(subsets, key=lambda s: s["ports"][0]["name"]) == [
        {"addresses": [address("a", "10.0.0.1")], "ports": [HTTP]},
        {
            "addresses": [address("a", "10.0.0.1")],
            "notReadyAddresses": [address("b", "10.0.0.2")],
            "ports": [{"name": "metrics", "port": 9090, "protocol": "TCP"}],
        },
    ]


def test_same_port_set_pods_share_a_subset():
    """Pods offering the same ports land in the same subset, sorted by IP."""
    service = make_service(
        ports=[
            {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
            {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"},
        ]
    )
    pods = [make_pod("z", "10.0.0.9"), make_pod("y", "10.0.0.10")]
    (subset,) = plan_endpoints(service, pods)["subsets"]
    # Byte order of the text, as upstream: "10.0.0.10" < "10.0.0.9".
    assert [a["ip"] for a in subset["addresses"]] == ["10.0.0.10", "10.0.0.9"]
    assert sorted(p["port"] for p in subset["ports"]) == [8080, 8443]


def test_repack_not_ready_wins_for_a_duplicate_address():
    """The same address ready in one subset and not ready in another ends up not ready."""
    addr = address("a", "10.0.0.1")
    subsets = [
        {"addresses": [addr], "ports": [HTTP]},
        {"notReadyAddresses": [addr], "ports": [HTTP]},
    ]
    assert repack_subsets(subsets) == [{"notReadyAddresses": [addr], "ports": [HTTP]}]


# ------------------------------------------------------------------------ headless and more


def test_headless_service_gets_hostnames_and_the_headless_label():
    """StatefulSet pods behind their headless Service carry hostname; the label marks it."""
    service = make_service(cluster_ip="None", labels={"team": "data"})
    pods = [make_pod("db-0", "10.0.0.5", hostname="db-0", subdomain="web")]
    endpoints = plan_endpoints(service, pods)
    assert endpoints["metadata"]["labels"] == {
        "team": "data",
        "service.kubernetes.io/headless": "",
    }
    assert endpoints["subsets"][0]["addresses"] == [address("db-0", "10.0.0.5", hostname="db-0")]


def test_headless_service_without_ports_lists_addresses():
    """A headless Service with no ports still lists its pods (with no ports)."""
    service = make_service(cluster_ip="None", ports=[])
    endpoints = plan_endpoints(service, [make_pod("a", "10.0.0.1")])
    assert endpoints["subsets"] == [{"addresses": [address("a", "10.0.0.1")]}]


def test_portless_cluster_ip_service_has_no_subsets():
    """A ClusterIP Service without ports gets an empty Endpoints object."""
    endpoints = plan_endpoints(make_service(ports=[]), [make_pod("a", "10.0.0.1")])
    assert endpoints is not None and "subsets" not in endpoints


def test_ipv6_service_picks_the_ipv6_pod_address():
    """A dual-stack pod is listed by the address of the Service's family."""
    service = make_service()
    service["spec"]["ipFamilies"] = ["IPv6"]
    pod = make_pod("a", "10.0.0.1")
    pod["status"]["podIPs"] = [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}]
    assert plan_endpoints(service, [pod])["subsets"][0]["addresses"][0]["ip"] == "fd00::1"


def test_update_check_ignores_target_resource_versions():
    """Endpoints equal but for targetRef.resourceVersion need no update; a change does."""
    desired = plan_endpoints(make_service(), [make_pod("a", "10.0.0.1")])
    current = {
        **desired,
        "subsets": [
            {
                "addresses": [
                    {
                        **address("a", "10.0.0.1"),
                        "targetRef": {
                            **address("a", "10.0.0.1")["targetRef"],
                            "resourceVersion": "9",
                        },
                    }
                ],
                "ports": [HTTP],
            }
        ],
    }
    assert not endpoints_need_update(current, desired)
    assert endpoints_need_update(None, desired)
    moved = plan_endpoints(make_service(), [make_pod("a", "10.0.0.2")])
    assert endpoints_need_update(current, moved)
