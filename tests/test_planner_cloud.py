"""The cloud controller planner: load balancer addresses from a simulated pool. No database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cluster.controllers.actions import Event, Patch, UpdateStatus
from cluster.controllers.cloud import plan_cloud

T0 = dt.datetime(2025, 1, 1, 10, 0, 0, tzinfo=dt.UTC)


def make_service(
    name: str,
    *,
    type: str = "LoadBalancer",
    ip: str | None = None,
    created: float = 0,
    namespace: str = "default",
    load_balancer_ip: str | None = None,
    load_balancer_class: str | None = None,
    finalizers: list[str] | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": type, "ports": [{"port": 80}], "clusterIP": "10.96.0.10"}
    if load_balancer_ip:
        spec["loadBalancerIP"] = load_balancer_ip
    if load_balancer_class:
        spec["loadBalancerClass"] = load_balancer_class
    status: dict[str, Any] = {"loadBalancer": {}}
    if ip:
        status["loadBalancer"] = {"ingress": [{"ip": ip, "ipMode": "VIP"}]}
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{name}",
        "resourceVersion": "9",
        "creationTimestamp": (T0 + dt.timedelta(seconds=created)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if finalizers:
        metadata["finalizers"] = finalizers
    if deleting:
        metadata["deletionTimestamp"] = "2025-01-01T11:00:00Z"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": spec,
        "status": status,
    }


def assigned(plan) -> dict[str, str | None]:
    """Service name -> the ingress IP its status update writes (None when cleared)."""
    found: dict[str, str | None] = {}
    for action in plan.of_type(UpdateStatus):
        ingress = action.status["loadBalancer"].get("ingress") or [{}]
        found[action.name] = ingress[0].get("ip")
    return found


@pytest.mark.parametrize(
    ("services", "pool", "expected"),
    [
        pytest.param(
            [make_service("web")],
            "203.0.113.0/24",
            {"web": "203.0.113.1"},
            id="first address of the pool",
        ),
        pytest.param(
            [
                make_service("a", ip="203.0.113.1"),
                make_service("b", ip="203.0.113.3"),
                make_service("c", created=10),
                make_service("d", created=20),
            ],
            "203.0.113.0/24",
            {"c": "203.0.113.2", "d": "203.0.113.4"},
            id="lowest free addresses, oldest service first",
        ),
        pytest.param(
            [make_service("late", created=60), make_service("early", created=0)],
            "203.0.113.0/24",
            {"early": "203.0.113.1", "late": "203.0.113.2"},
            id="creation order, not list order",
        ),
        pytest.param(
            [make_service("web", ip="198.51.100.7")],
            "203.0.113.0/24",
            {},
            id="already has an address: nothing to do",
        ),
        pytest.param(
            [make_service("web", type="ClusterIP"), make_service("np", type="NodePort")],
            "203.0.113.0/24",
            {},
            id="not a LoadBalancer: nothing to do",
        ),
        pytest.param(
            [make_service("web", load_balancer_class="example.com/metal")],
            "203.0.113.0/24",
            {},
            id="another controller's class: left alone",
        ),
        pytest.param(
            [make_service("web", load_balancer_ip="203.0.113.77")],
            "203.0.113.0/24",
            {"web": "203.0.113.77"},
            id="requested loadBalancerIP in the pool: granted",
        ),
        pytest.param(
            [make_service("web")],
            "192.0.2.8/30",
            {"web": "192.0.2.9"},
            id="a small pool: .9 and .10",
        ),
    ],
)
def test_addresses_are_assigned(services, pool, expected):
    """LoadBalancer Services without an address get the lowest free one of the pool."""
    assert assigned(plan_cloud(services, pool)) == expected


def test_status_and_events_of_an_assignment():
    """Ensuring, then the status with ipMode VIP, and Ensured once it is written."""
    plan = plan_cloud([make_service("web")])
    ensuring, update = plan.actions
    assert isinstance(ensuring, Event)
    assert (ensuring.type, ensuring.reason, ensuring.message) == (
        "Normal",
        "EnsuringLoadBalancer",
        "Ensuring load balancer",
    )
    assert update == UpdateStatus(
        "Service",
        "default",
        "web",
        {"loadBalancer": {"ingress": [{"ip": "203.0.113.1", "ipMode": "VIP"}]}},
        "9",
        on_success=update.on_success,
    )
    assert [(e.reason, e.message) for e in update.on_success] == [
        ("EnsuredLoadBalancer", "Ensured load balancer")
    ]


def test_network_and_broadcast_addresses_are_never_given():
    """A /30 has two usable addresses; the third Service waits."""
    services = [make_service(name, created=i) for i, name in enumerate(("a", "b", "c"))]
    plan = plan_cloud(services, "192.0.2.8/30")
    assert assigned(plan) == {"a": "192.0.2.9", "b": "192.0.2.10"}


@pytest.mark.parametrize(
    ("services", "pool", "message"),
    [
        pytest.param(
            [
                make_service("a", ip="192.0.2.9"),
                make_service("b", ip="192.0.2.10"),
                make_service("c"),
            ],
            "192.0.2.8/30",
            "Error syncing load balancer: failed to ensure load balancer: no free IP address in "
            "pool 192.0.2.8/30 (2 in use)",
            id="pool exhausted",
        ),
        pytest.param(
            [
                make_service("a", ip="203.0.113.5"),
                make_service("c", load_balancer_ip="203.0.113.5"),
            ],
            "203.0.113.0/24",
            "Error syncing load balancer: failed to ensure load balancer: requested IP "
            "203.0.113.5 is already in use",
            id="requested address taken",
        ),
        pytest.param(
            [make_service("c", load_balancer_ip="10.0.0.1")],
            "203.0.113.0/24",
            "Error syncing load balancer: failed to ensure load balancer: requested IP 10.0.0.1 "
            "is not in pool 203.0.113.0/24",
            id="requested address outside the pool",
        ),
    ],
)
def test_sync_failures_are_warnings(services, pool, message):
    """When no address can be given the Service waits, with SyncLoadBalancerFailed."""
    plan = plan_cloud(services, pool)
    assert not plan.of_type(UpdateStatus)
    assert [(e.type, e.reason, e.message) for e in plan.events] == [
        ("Normal", "EnsuringLoadBalancer", "Ensuring load balancer"),
        ("Warning", "SyncLoadBalancerFailed", message),
    ]


def test_service_no_longer_a_load_balancer_is_cleared():
    """Changing the type away from LoadBalancer clears the ingress and frees the address."""
    plan = plan_cloud([make_service("web", type="ClusterIP", ip="203.0.113.1")])
    deleting, update = plan.actions
    assert (deleting.reason, deleting.message) == ("DeletingLoadBalancer", "Deleting load balancer")
    assert update.status == {"loadBalancer": {}}
    assert [(e.reason, e.message) for e in update.on_success] == [
        ("DeletedLoadBalancer", "Deleted load balancer")
    ]


def test_deleted_service_address_is_reused():
    """A Service that is gone no longer holds its address."""
    plan = plan_cloud([make_service("b", ip="203.0.113.2"), make_service("new", created=30)])
    assert assigned(plan) == {"new": "203.0.113.1"}


@pytest.mark.parametrize(
    ("finalizers", "patched"),
    [
        pytest.param(
            ["service.kubernetes.io/load-balancer-cleanup"], True, id="cleanup finalizer: removed"
        ),
        pytest.param(None, False, id="no finalizer: nothing to do"),
    ],
)
def test_service_being_deleted(finalizers, patched):
    """A terminating Service is not given an address; a leftover cleanup finalizer goes."""
    service = make_service("web", ip="203.0.113.1", finalizers=finalizers, deleting=True)
    plan = plan_cloud([service])
    assert not plan.of_type(UpdateStatus)
    patches = plan.of_type(Patch)
    assert bool(patches) is patched
    if patched:
        assert patches[0].merge_patch == {
            "metadata": {"uid": "uid-web", "resourceVersion": "9", "finalizers": None}
        }
