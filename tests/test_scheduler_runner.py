"""The scheduling cycle against the database: bindings, refusals with Kubernetes' message,
held-back pods with unbound claims, and the same placements for the same seed."""

from __future__ import annotations

import pytest
from django.db import transaction

from cluster import clock
from cluster.models import Event, Pod, SchedulingDecision
from cluster.scheduler.runner import schedule_pending
from cluster.store import read, write
from tests.builders import node, pod

pytestmark = pytest.mark.django_db


def control_plane_node() -> dict:
    obj = node("control-plane", cpu="2")
    obj["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] = ""
    obj["spec"]["taints"] = [
        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
    ]
    return obj


@pytest.fixture
def cluster():
    write.create(control_plane_node())
    for name in ("worker-1", "worker-2", "worker-3"):
        write.create(node(name, cpu="1"))


def test_pods_are_bound_with_a_scheduled_event(cluster):
    """Pods that fit are bound to a worker, with PodScheduled=True and a Scheduled event."""
    for i in range(3):
        write.create(pod(f"web-{i}", cpu="500m"))
    stats = schedule_pending()
    assert (stats.pending, stats.bound, stats.unschedulable) == (3, 3, 0)
    placed = read.get("pods", "default", "web-0")
    assert placed["spec"]["nodeName"].startswith("worker-")
    condition = next(c for c in placed["status"]["conditions"] if c["type"] == "PodScheduled")
    assert condition["status"] == "True"
    event = Event.objects.get(involved_name="web-0", reason="Scheduled")
    assert (
        event.body["message"]
        == f"Successfully assigned default/web-0 to {placed['spec']['nodeName']}"
    )
    assert event.source_component == "default-scheduler"
    decision = SchedulingDecision.objects.get(name="web-0")
    assert decision.node_name == placed["spec"]["nodeName"]


def test_a_pod_that_fits_nowhere_stays_pending_and_says_why(cluster):
    """No node has 2 cpu free: PodScheduled=False/Unschedulable and Kubernetes' message."""
    write.create(pod("big", cpu="2"))
    stats = schedule_pending()
    assert stats.unschedulable == 1
    expected = (
        "0/4 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu. preemption: 0/4 "
        "nodes are available: 1 Preemption is not helpful for scheduling, 3 No "
        "preemption victims found for incoming pod."
    )
    stored = read.get("pods", "default", "big")
    condition = next(c for c in stored["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (condition["status"], condition["reason"]) == ("False", "Unschedulable")
    assert condition["message"] == expected
    event = Event.objects.get(involved_name="big", reason="FailedScheduling")
    assert event.type == "Warning" and event.body["message"] == expected
    assert "cpu" in SchedulingDecision.objects.get(name="big").diagnosis["sentence"]
    schedule_pending()  # tried again, nothing changed: the event is counted, not repeated
    assert Event.objects.get(involved_name="big", reason="FailedScheduling").count == 2


def test_a_pod_with_an_unbound_claim_waits(cluster):
    """A pod whose claim is missing or unbound is held back before any node is looked at."""
    obj = pod("db")
    obj["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    write.create(obj)
    schedule_pending()
    condition = next(
        c
        for c in read.get("pods", "default", "db")["status"]["conditions"]
        if c["type"] == "PodScheduled"
    )
    assert condition["message"].startswith(
        '0/4 nodes are available: persistentvolumeclaim "data" not found.'
    )
    write.create(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "none",
                "resources": {"requests": {"storage": "1Gi"}},
            },
        }
    )
    schedule_pending()
    condition = next(
        c
        for c in read.get("pods", "default", "db")["status"]["conditions"]
        if c["type"] == "PodScheduled"
    )
    assert "pod has unbound immediate PersistentVolumeClaims" in condition["message"]
    assert Pod.objects.get(name="db").node_name == ""


def test_the_same_scenario_gives_the_same_placements(cluster):
    """With the same seed and the same state, the scheduler places every pod the same way."""

    def scenario() -> list[tuple[str, str]]:
        with transaction.atomic():
            for i in range(12):
                write.create(pod(f"p-{i}", cpu="100m"))
            schedule_pending()
            placements = sorted(Pod.objects.values_list("name", "node_name"))
            transaction.set_rollback(True)
        return placements

    clock.pause()  # the scenario runs in simulated time: same clock, same timestamps
    first, second = scenario(), scenario()
    assert first == second
    assert len({n for _, n in first}) == 3  # spread over the three workers
