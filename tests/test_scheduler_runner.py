"""The scheduling cycle against the database: bindings, refusals with Kubernetes' message,
held-back pods with unbound claims, and the same placements for the same seed."""

from __future__ import annotations

import pytest
from django.db import transaction

from cluster import clock
from cluster.models import Event, Node, Pod, SchedulingDecision
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


def test_a_pod_that_fits_later_is_bound_and_its_decision_replaced(cluster):
    """The kept decision is the last one: Unschedulable first, then the node it went to."""
    write.create(pod("big", cpu="2"))
    schedule_pending()
    assert SchedulingDecision.objects.get(name="big").node_name == ""
    write.create(node("worker-4", cpu="4"))
    stats = schedule_pending()
    assert stats.bound == 1
    decision = SchedulingDecision.objects.get(name="big")
    assert decision.node_name == "worker-4"
    # The only feasible node is taken without scoring (as upstream does); the others say why.
    assert decision.diagnosis["scores"] == []
    assert sorted(decision.diagnosis["filtered"]) == [
        "control-plane",
        "worker-1",
        "worker-2",
        "worker-3",
    ]
    assert decision.diagnosis["filtered"]["worker-1"]["reasons"] == ["Insufficient cpu"]
    assert Event.objects.filter(involved_name="big", reason="Scheduled").count() == 1


def test_a_pod_bound_or_deleted_during_the_cycle_is_skipped(cluster, monkeypatch):
    """Between the snapshot and the commit another binder took one pod and one was deleted:
    the binding's preconditions refuse both, the third is bound, nothing is recorded for
    the two (no decision, no Scheduled event)."""
    from cluster.scheduler import runner

    for name in ("taken", "gone", "free"):
        write.create(pod(name, cpu="100m"))
    real = runner.schedule_batch

    def meanwhile(*args, **kwargs):
        results = real(*args, **kwargs)
        write.mutate(
            "Pod",
            "default",
            "taken",
            lambda p: {**p, "spec": {**p["spec"], "nodeName": "worker-1"}},
            subresource="binding",
            actor="other-scheduler",
        )
        write.delete("Pod", "default", "gone", grace_period_seconds=0)
        return results

    monkeypatch.setattr(runner, "schedule_batch", meanwhile)
    stats = schedule_pending()
    assert stats.bound == 1
    assert sorted(SchedulingDecision.objects.values_list("name", flat=True)) == ["free"]
    scheduled = Event.objects.filter(reason="Scheduled", source_component="default-scheduler")
    assert [e.involved_name for e in scheduled] == ["free"]
    assert read.get("pods", "default", "taken")["spec"]["nodeName"] == "worker-1"


def cache_view() -> tuple[set[str], dict[tuple[str, str], tuple]]:
    from cluster.scheduler import runner

    bound = {
        key: (info.node_name, info.cpu, info.memory) for key, info in runner._cache.bound.items()
    }
    return set(runner._cache.nodes), bound, node_summary(runner._cache.node_infos())


def fresh_view() -> tuple[set[str], dict[tuple[str, str], tuple]]:
    from cluster.scheduler import runner

    fresh = runner._Cache()
    fresh.reload(read.current_revision())
    bound = {key: (info.node_name, info.cpu, info.memory) for key, info in fresh.bound.items()}
    return set(fresh.nodes), bound, node_summary(fresh.node_infos())


def node_summary(infos) -> list[tuple]:
    """What the plugins read of each node, in the snapshot's order."""
    return [
        (
            n.name,
            n.labels,
            n.taints,
            n.unschedulable,
            n.ready,
            (n.allocatable_cpu, n.allocatable_memory, n.allocatable_pods),
            (n.requested_cpu, n.requested_memory, n.nonzero_cpu, n.nonzero_memory),
            sorted(p.key for p in n.pods),
        )
        for n in infos
    ]


def test_the_scheduler_cache_follows_the_change_log(cluster):
    """Between cycles the cache takes the committed changes; it always equals a fresh read."""
    from cluster.scheduler import runner

    runner.snapshot()
    assert runner._cache.revision == read.current_revision()
    for i in range(3):
        write.create(pod(f"p-{i}", cpu="200m"))
    schedule_pending()  # binds the three: the cache learns them from the log next time
    write.delete("Pod", "default", "p-0", grace_period_seconds=0)  # gone
    write.mutate(  # finished: no longer counts on its node
        "Pod",
        "default",
        "p-1",
        lambda p: {**p, "status": {"phase": "Succeeded"}},
        subresource="status",
    )
    write.create(node("worker-9", cpu="2"))
    write.delete("Node", "", "worker-3")
    revision_before = runner._cache.revision
    runner.snapshot()

    assert runner._cache.revision > revision_before  # caught up, not reloaded from scratch
    assert cache_view() == fresh_view()
    nodes, bound, _ = cache_view()
    assert "worker-9" in nodes and "worker-3" not in nodes
    assert set(bound) == {("default", "p-2")}


def test_a_node_is_built_again_only_when_what_it_counts_changed(cluster):
    """A status write by the kubelet (same requests, same node) keeps the node's NodeInfo; a
    new label on the node, or a pod bound to it, makes a new one; the cache equals a fresh
    read throughout."""
    from cluster.scheduler import runner

    write.create(pod("p", cpu="200m"))
    schedule_pending()
    runner.snapshot()
    where = read.get("pods", "default", "p")["spec"]["nodeName"]
    before = {n.name: n for n in runner._cache.node_infos()}

    write.mutate(
        "Pod",
        "default",
        "p",
        lambda p: {**p, "status": {**p["status"], "phase": "Running", "podIP": "10.244.1.5"}},
        subresource="status",
    )
    runner.snapshot()
    after = {n.name: n for n in runner._cache.node_infos()}
    assert after[where] is before[where]
    assert cache_view() == fresh_view()

    other = next(name for name in after if name != where)
    write.patch("Node", "", other, {"metadata": {"labels": {"disk": "ssd"}}}, "merge")
    write.create(pod("q", cpu="300m", node=where))
    runner.snapshot()
    latest = {n.name: n for n in runner._cache.node_infos()}
    assert latest[other] is not after[other] and latest[other].labels["disk"] == "ssd"
    assert latest[where] is not after[where] and latest[where].requested_cpu == 500
    unchanged = set(latest) - {where, other}
    assert all(latest[name] is after[name] for name in unchanged)
    assert cache_view() == fresh_view()


def test_a_flushed_change_log_makes_the_cache_read_everything_again(cluster):
    from cluster.models import Change
    from cluster.scheduler import runner

    runner.snapshot()
    # A flushed and refilled database: the log the cache knew is gone, and a row vanished
    # without a change of its own (only a fresh read can know).
    Change.objects.all().delete()
    Node.objects.filter(name="worker-1").delete()
    write.create(node("worker-9", cpu="2"))
    runner.snapshot()
    assert cache_view() == fresh_view()
    assert "worker-9" in cache_view()[0] and "worker-1" not in cache_view()[0]


def test_a_scheduler_stopped_during_its_cycle_binds_nothing_more(cluster):
    """``may_bind`` is asked before each batch is committed: answering False ends the cycle
    there (the palette's "stop the scheduler" thrown while a cycle runs)."""
    for i in range(3):
        write.create(pod(f"p-{i}", cpu="100m"))
    asked = []
    stats = schedule_pending(may_bind=lambda: asked.append(1) and False)
    assert stats.halted and stats.bound == 0 and asked == [1]
    assert not Pod.objects.exclude(node_name="").exists()
    assert schedule_pending(may_bind=lambda: True).bound == 3
