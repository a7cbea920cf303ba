"""The kubelets task: the nodes due for a sync are taken from one set and synced together."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cluster import clock, dispatch, tasks
from cluster.kubelet.runner import KUBELET_STOPPED, sync_nodes
from cluster.models import Event, Pod, Timer
from cluster.store import write
from tests.builders import node, pod
from tests.queries import statements

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_clock")]


@pytest.fixture
def due(redis_url, monkeypatch):
    """Nodes made due through the dispatcher, with no Celery message sent (a worker of
    another module may be consuming); nothing due and no lock left afterwards."""
    client = dispatch._redis()
    for task in tasks.TASKS.values():
        monkeypatch.setattr(task, "apply_async", lambda *args, **kwargs: None)

    def clear() -> None:
        client.delete(dispatch.KUBELETS_DUE)
        for pattern in ("kubarium:queued:kubelets|*", "kubarium:*:kubelet_sync|*"):
            for key in client.scan_iter(pattern):
                client.delete(key)

    clear()
    yield lambda *names: dispatch.enqueue_many([("kubelet_sync", (n,)) for n in names])
    clear()


def cluster_of(nodes: int, pods_per_node: int, *, stopped: tuple[str, ...] = ()) -> list[str]:
    names = [f"n{i}" for i in range(nodes)]
    for name in names:
        obj = node(name)
        if name in stopped:
            obj["metadata"]["annotations"] = {KUBELET_STOPPED: "true"}
        write.create(obj)
        for j in range(pods_per_node):
            write.create(pod(f"{name}-p{j}", node=name))
    return names


def test_one_task_syncs_every_due_node_and_asks_to_be_woken_for_each(due):
    """Each pod starts (its image is being pulled), and each node has a timer for its next
    transition; the set of due nodes is empty after."""
    clock.pause()
    names = cluster_of(3, 2)
    now = clock.now()
    assert due(*names) == 3

    assert tasks.kubelets.run("0") == 3

    for row in Pod.objects.all():
        waiting = row.status["containerStatuses"][0]["state"]["waiting"]
        assert (row.phase, waiting["reason"]) == ("Pending", "ContainerCreating")
        assert row.status["hostIP"]
    timers = dict(Timer.objects.filter(key__startswith="kubelet_sync|").values_list("key", "due"))
    assert set(timers) == {f"kubelet_sync|{n}" for n in names}
    assert all(at > now for at in timers.values())
    assert dispatch.nodes_due() == 0


def test_a_node_whose_kubelet_is_stopped_does_nothing(due):
    clock.pause()
    cluster_of(2, 1, stopped=("n1",))

    wakes = sync_nodes(["n0", "n1", "no-such-node"])

    assert set(wakes) == {"n0"}
    assert Pod.objects.get(name="n0-p0").status.get("hostIP")
    assert "hostIP" not in Pod.objects.get(name="n1-p0").status  # as the API server made it


def test_syncing_many_nodes_costs_the_queries_of_one():
    """The reads and writes are per batch, not per node: ten nodes (thirty pods) take no more
    statements than one node with three pods."""
    clock.pause()
    cluster_of(11, 3)

    with CaptureQueriesContext(connection) as one:
        sync_nodes(["n0"])
    with CaptureQueriesContext(connection) as ten:
        sync_nodes([f"n{i}" for i in range(1, 11)])

    assert Pod.objects.filter(status__hostIP__isnull=False).count() == 33
    assert statements(ten) <= statements(one)


def test_a_pod_deleted_between_the_read_and_the_write_leaves_no_event(monkeypatch):
    """The kubelets make their events before the transaction opens; a pod deleted meanwhile
    gets no status write and none of its events, and the other pods get theirs."""
    from cluster.kubelet import runner

    clock.pause()
    cluster_of(1, 2)
    made = runner._notes
    earlier: set[int] = set()  # the events before the sync of the deletion

    def then_delete(*args):
        notes = made(*args)
        if not earlier and {note.involved["name"] for _, note in notes} == {"n0-p0", "n0-p1"}:
            earlier.update(Event.objects.values_list("id", flat=True))
            earlier.add(0)  # marks the deletion done even with no earlier event
            write.delete("Pod", "default", "n0-p0", grace_period_seconds=0)
        return notes

    monkeypatch.setattr(runner, "_notes", then_delete)
    for _ in range(10):  # the first sync with events for both pods (the clock decides which)
        sync_nodes(["n0"])
        if earlier:
            break
        clock.step(5)
    assert earlier, "no sync reported events for both pods"

    reasons = set(
        Event.objects.filter(source_component="kubelet")
        .exclude(id__in=earlier)
        .values_list("involved_name", "reason")
    )
    assert {reason for name, reason in reasons if name == "n0-p1"}
    assert not {reason for name, reason in reasons if name == "n0-p0"}
    assert not Pod.objects.filter(name="n0-p0").exists()
    assert Pod.objects.get(name="n0-p1").status.get("hostIP")


def settle(names: list[str]) -> None:
    """Sync until every pod is Running and Ready (a few simulated seconds apart)."""
    for _ in range(20):
        if not Pod.objects.exclude(phase="Running", ready=True).exists():
            return
        clock.step(5)
        sync_nodes(names)
    raise AssertionError("the pods did not become Running and Ready")


@pytest.fixture
def advanced(monkeypatch) -> list[str]:
    """The names of the pods ``advance_pod`` is called for, call after call."""
    from cluster.kubelet import runner

    seen: list[str] = []
    real = runner.advance_pod

    def spy(pod, *args, **kwargs):
        seen.append(pod["metadata"]["name"])
        return real(pod, *args, **kwargs)

    monkeypatch.setattr(runner, "advance_pod", spy)
    return seen


def test_a_settled_pod_is_not_synced_again_until_it_changes(advanced):
    """A Running, Ready pod that nobody changed and for which nothing is due is left out of the
    node's sync; a change to it (a new label: a new resourceVersion) or its deletion brings it
    back, and the deletion goes through (Killing, then the pod is removed)."""
    clock.pause()
    cluster_of(1, 2)
    sync_nodes(["n0"])
    settle(["n0"])
    advanced.clear()

    clock.step(5)
    sync_nodes(["n0"])
    assert advanced == []

    write.patch("Pod", "default", "n0-p0", {"metadata": {"labels": {"tier": "web"}}}, "merge")
    clock.step(5)
    sync_nodes(["n0"])
    assert advanced == ["n0-p0"]

    advanced.clear()
    write.delete("Pod", "default", "n0-p1")
    sync_nodes(["n0"])
    assert advanced == ["n0-p1"]
    assert Event.objects.filter(involved_name="n0-p1", reason="Killing").exists()


def test_a_new_pod_on_the_node_leaves_the_settled_ones_alone(advanced):
    """The common case at scale: pods arrive on a node one scheduling cycle at a time, and
    each sync advances the newcomers only."""
    clock.pause()
    cluster_of(1, 2)
    sync_nodes(["n0"])
    settle(["n0"])
    write.create(pod("n0-late", node="n0"))
    advanced.clear()

    sync_nodes(["n0"])
    assert advanced == ["n0-late"]
    settle(["n0"])  # however many syncs the newcomer needs (the clock decides), it alone

    assert set(advanced) == {"n0-late"}
    late = Pod.objects.get(name="n0-late")
    others = {row.status["podIP"] for row in Pod.objects.exclude(name="n0-late")}
    assert late.status["podIP"] not in others  # the skipped pods' addresses are still taken
