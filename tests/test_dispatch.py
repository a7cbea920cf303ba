"""One worker per key, as Kubernetes' work queues guarantee, with a re-run when asked meanwhile."""

from __future__ import annotations

import pytest

from cluster import dispatch, tasks


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
