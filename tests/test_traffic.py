"""Requests through the cluster and steady flows, against the store."""

from __future__ import annotations

import pytest

from cluster import proxy, traffic
from cluster.models import TrafficFlow
from cluster.store import write

pytestmark = pytest.mark.django_db


def ready_pod(name: str, ip: str, app: str = "web") -> None:
    write.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": app}},
            "spec": {
                "containers": [
                    {"name": "main", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}
                ],
                "nodeName": "n1",
            },
        }
    )
    write.mutate(
        "Pod",
        "default",
        name,
        lambda p: {
            **p,
            "status": {
                "phase": "Running",
                "podIP": ip,
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        },
        subresource="status",
    )


@pytest.fixture
def web():
    write.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
        }
    )
    addresses = []
    for i, ip in enumerate(("10.244.1.2", "10.244.1.3")):
        ready_pod(f"web-{i}", ip)
        pod = write.mutate("Pod", "default", f"web-{i}", lambda p: p)
        addresses.append(
            {
                "ip": ip,
                "nodeName": "n1",
                "targetRef": {
                    "kind": "Pod",
                    "namespace": "default",
                    "name": f"web-{i}",
                    "uid": pod["metadata"]["uid"],
                },
            }
        )
    write.create(
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "web"},
            "subsets": [{"addresses": addresses, "ports": [{"port": 80, "protocol": "TCP"}]}],
        }
    )


def test_requests_to_a_service_take_turns_over_its_endpoints(web):
    """Round-robin state is kept between requests: two requests reach two pods, and each pod
    remembers the request for its log."""
    routes = [traffic.send(proxy.Request(service=("default", "web"), port=80)) for _ in range(2)]
    assert all(r.ok and r.status == 200 for r in routes)
    assert {r.pod for r in routes} == {("default", "web-0"), ("default", "web-1")}
    assert len(traffic.recent_requests("default", "web-0")) == 1


def test_a_flow_spreads_its_load_over_the_ready_endpoints(web):
    """A steady 100 req/s at the Service gives each of the two ready pods 50 req/s."""
    TrafficFlow.objects.create(namespace="default", service="web", rps=100)
    load = traffic.load_by_pod()
    assert sorted(load.values()) == [50.0, 50.0]


def test_a_request_to_a_missing_service_fails_with_the_reason():
    route = traffic.send(proxy.Request(service=("default", "nothing"), port=80))
    assert not route.ok and route.status == 503
    assert 'services "nothing" not found' in route.error
