"""One worker per key, as Kubernetes' work queues guarantee, with a re-run when asked meanwhile."""

from __future__ import annotations

import pytest

from cluster import dispatch, services, tasks


@pytest.fixture(autouse=True)
def clean(redis_url):
    dispatch._redis().delete(
        "kubarium:lock:probe|k", "kubarium:again:probe|k", "kubarium:queued:probe|k"
    )
    yield


def test_a_key_being_worked_on_is_not_worked_on_twice(monkeypatch):
    """While one run holds the key, another does nothing but ask for a re-run afterwards."""
    enqueued: list[tuple[str, ...]] = []
    monkeypatch.setattr(dispatch, "enqueue", lambda *item: enqueued.append(item))
    runs: list[str] = []

    def outer() -> str:
        inner = tasks._one_at_a_time("probe", "k", work=lambda: runs.append("inner") or "inner")
        assert inner is None  # the key was busy
        runs.append("outer")
        return "outer"

    assert tasks._one_at_a_time("probe", "k", work=outer) == "outer"
    assert runs == ["outer"]
    assert enqueued == [("probe", "k")]  # the busy caller's wish is honoured after


def test_a_free_key_runs_at_once_and_needs_no_rerun(monkeypatch):
    enqueued: list[tuple[str, ...]] = []
    monkeypatch.setattr(dispatch, "enqueue", lambda *item: enqueued.append(item))
    assert tasks._one_at_a_time("probe", "k", work=lambda: 42) == 42
    assert enqueued == []


@pytest.fixture
def probe_args(redis_url):
    """A unique argument, and afterwards no trace of it in the markers or the queues."""
    import uuid

    marker = uuid.uuid4().hex
    yield marker
    client = dispatch._redis()
    for key in client.scan_iter(f"kubarium:queued:*{marker}*"):
        client.delete(key)
    for queue in services.WORKER_QUEUES:
        for message in client.lrange(queue, 0, -1):
            if marker.encode() in message:
                client.lrem(queue, 0, message)


def queued_with(marker: str) -> dict[str, int]:
    """How many messages mentioning ``marker`` wait in each queue."""
    client = dispatch._redis()
    counts = {}
    for queue in services.WORKER_QUEUES:
        found = sum(marker.encode() in m for m in client.lrange(queue, 0, -1))
        if found:
            counts[queue] = found
    return counts


def test_enqueue_many_sends_each_key_once_to_its_queue(probe_args):
    """One round trip for the markers; a key already queued (in the list or before) is not
    sent again; every task goes to the queue its route names."""
    node = f"node-{probe_args}"
    sent = dispatch.enqueue_many(
        [
            ("kubelet_sync", (node,)),
            ("reconcile", ("ReplicaSet", "default", probe_args)),
            ("kubelet_sync", (node,)),  # the same key twice in one list
        ]
    )
    assert sent == 2
    assert queued_with(probe_args) == {"kubelets": 1, "celery": 1}
    assert dispatch.enqueue_many([("kubelet_sync", (node,))]) == 0  # still queued: not again
    dispatch.started("kubelet_sync", node)  # the task began: a new change queues it again
    assert dispatch.enqueue_many([("kubelet_sync", (node,))]) == 1
    assert queued_with(probe_args) == {"kubelets": 2, "celery": 1}


def test_an_unknown_task_queues_nothing(probe_args):
    with pytest.raises(KeyError):
        dispatch.enqueue_many([("kubelet_sync", (probe_args,)), ("no-such-task", ())])
    assert queued_with(probe_args) == {}
