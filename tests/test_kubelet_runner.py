"""The kubelets task: the nodes due for a sync are taken from one set and synced together."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cluster import clock, dispatch, tasks
from cluster.kubelet.runner import KUBELET_STOPPED, sync_nodes
from cluster.models import Pod, Timer
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
