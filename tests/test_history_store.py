"""Time travel's store side: the cluster at a past revision, rebuilt from the change log."""

from __future__ import annotations

import pytest

from cluster.models import Change
from cluster.store import history, read, write
from cluster.store.history import LogEntry, state_at
from tests.builders import node, pod


def entry(revision: int, type_: str, name: str, uid: str, kind: str = "Pod") -> LogEntry:
    obj = {"kind": kind, "metadata": {"name": name, "namespace": "default", "uid": uid}}
    return LogEntry(revision, kind, "default", name, type_, obj)


LOG = [
    entry(5, "ADDED", "web-1", "u1"),
    entry(6, "ADDED", "web-2", "u2"),
    entry(8, "MODIFIED", "web-1", "u1"),
    entry(12, "DELETED", "web-1", "u1"),
    entry(15, "ADDED", "web-1", "u3"),
    entry(16, "ADDED", "web-1", "n1", kind="Node"),
]


@pytest.mark.parametrize(
    ("revision", "expected"),
    [
        pytest.param(4, {}, id="before anything: nothing"),
        pytest.param(5, {"Pod/web-1": ("u1", 5)}, id="created"),
        pytest.param(7, {"Pod/web-1": ("u1", 5), "Pod/web-2": ("u2", 6)}, id="two created"),
        pytest.param(9, {"Pod/web-1": ("u1", 8), "Pod/web-2": ("u2", 6)}, id="modified"),
        pytest.param(12, {"Pod/web-2": ("u2", 6)}, id="deleted"),
        pytest.param(14, {"Pod/web-2": ("u2", 6)}, id="still deleted"),
        pytest.param(
            15, {"Pod/web-1": ("u3", 15), "Pod/web-2": ("u2", 6)}, id="recreated with a new uid"
        ),
        pytest.param(
            99,
            {"Pod/web-1": ("u3", 15), "Pod/web-2": ("u2", 6), "Node/web-1": ("n1", 16)},
            id="same name, other kind",
        ),
    ],
)
def test_state_at_follows_the_log(revision, expected):
    """Each object is its latest change at or before the revision, unless that is a deletion."""
    revisions = {id(e.object): e.revision for e in LOG}
    state = state_at(reversed(LOG), revision)  # order does not matter
    seen = {
        f"{kind}/{name}": (obj["metadata"]["uid"], revisions[id(obj)])
        for (kind, _ns, name), obj in state.items()
    }
    assert seen == expected


def test_advancing_a_state_equals_the_state_later():
    """The state at A moved through the entries in (A, B] is the state at B, for every A < B."""
    for a in range(0, 17):
        for b in range(a, 18):
            state = state_at(LOG, a)
            later = sorted((e for e in LOG if a < e.revision <= b), key=lambda e: e.revision)
            changed = history.advance(state, later)
            assert state == state_at(LOG, b), (a, b)
            assert changed == {(e.kind, e.namespace, e.name) for e in later}


@pytest.mark.django_db
def test_objects_at_agrees_with_the_log_at_every_revision():
    """The database's answer equals ``state_at`` over every change-log row, at every revision,
    through creates, updates, deletes and a recreate with a new uid."""
    write.create(node("n1"))
    write.create(pod("a", node="n1"))
    write.create(pod("b"))
    write.patch("pods", "default", "a", {"metadata": {"labels": {"tier": "x"}}})
    first_a = read.get("pods", "default", "a")["metadata"]["uid"]
    write.delete("pods", "default", "a", grace_period_seconds=0)
    write.create(pod("a", node="n1"))
    write.patch("nodes", "", "n1", {"spec": {"unschedulable": True}})
    write.delete("pods", "default", "b", grace_period_seconds=0)
    log = list(Change.objects.all())
    for revision in range(0, read.current_revision() + 1):
        expected = {
            key: obj for key, obj in state_at(log, revision).items() if key[0] in ("Pod", "Node")
        }
        assert history.objects_at(revision, ("Pod", "Node")) == expected, revision
    assert history.objects_at(read.current_revision(), ("Pod",))[("Pod", "default", "a")][
        "metadata"
    ]["uid"] not in ("", first_a)


@pytest.mark.django_db
def test_objects_at_a_revision_matches_the_objects_then():
    """Reading at a past revision gives the objects exactly as the API served them then."""
    write.create(node("n1"))
    then = write.create(pod("a", node="n1"))
    revision = read.current_revision()
    write.patch("pods", "default", "a", {"metadata": {"labels": {"later": "yes"}}})
    write.create(pod("c"))
    past = history.objects_at(revision, ("Pod",), namespace="default")
    assert list(past) == [("Pod", "default", "a")]
    assert past[("Pod", "default", "a")] == then
    assert history.objects_at(revision, ("Pod",), namespace="other") == {}


@pytest.mark.django_db
def test_neighbours_step_over_events():
    """The previous and next change skip Events (they change nothing the view draws)."""
    from cluster.store import events

    write.create(node("n1"))
    first = read.current_revision()
    events.record(read.get("nodes", "", "n1"), "Something", "happened", component="test")
    write.create(pod("a"))
    second = read.current_revision()
    assert history.neighbours(first) == (first - 1, second)
    assert history.neighbours(second) == (first, 0)
    assert history.neighbours(second, 2)[0] == first - 1


@pytest.mark.django_db
def test_simulated_time_at_is_the_latest_time_the_log_recorded():
    """An added object's creationTimestamp (simulated time) tells when its revision was."""
    from cluster import clock

    clock.pause()
    a = write.create(pod("a"))
    revision_a = read.current_revision()
    clock.step(3600)
    b = write.create(pod("b"))
    revision_b = read.current_revision()
    assert history.simulated_time_at(revision_a) == a["metadata"]["creationTimestamp"]
    assert history.simulated_time_at(revision_b) == b["metadata"]["creationTimestamp"]
    assert b["metadata"]["creationTimestamp"] > a["metadata"]["creationTimestamp"]
    assert history.simulated_time_at(0) == ""
    assert history.first_revision() == 1
    clock.invalidate()
