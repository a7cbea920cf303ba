"""The component switches (``cluster.faults``): persisted, held work, catching up on restart."""

from __future__ import annotations

import pytest

from cluster import faults
from cluster.models import Event, Timer

pytestmark = pytest.mark.django_db


def test_a_stopped_component_is_remembered_with_who_stopped_it():
    """Stopping records who did it, once; starting forgets it."""
    assert faults.stopped() == {}
    assert faults.stop(faults.SCHEDULER, actor="dashboard:alice") is True
    assert faults.stop(faults.SCHEDULER, actor="dashboard:bob") is False
    assert faults.stopped()[faults.SCHEDULER]["by"] == "dashboard:alice"
    assert not faults.running(faults.SCHEDULER)
    assert faults.running(faults.CONTROLLER_MANAGER)
    assert faults.start(faults.SCHEDULER, actor="dashboard:alice") is True
    assert faults.start(faults.SCHEDULER, actor="dashboard:alice") is False
    assert faults.stopped() == {}


def test_stopping_and_starting_leave_events_naming_the_user():
    """Each switch leaves an Event about the kube-system Namespace naming the component and
    the user."""
    faults.stop(faults.CONTROLLER_MANAGER, actor="dashboard:alice")
    faults.start(faults.CONTROLLER_MANAGER, actor="dashboard:carol")
    events = {e.reason: e for e in Event.objects.filter(involved_name="kube-system")}
    stopped = events[faults.REASON_STOPPED]
    assert stopped.body["message"] == "kube-controller-manager was stopped by dashboard:alice"
    assert stopped.body["type"] == "Warning"
    assert stopped.body["involvedObject"]["kind"] == "Namespace"
    assert stopped.body["involvedObject"]["name"] == "kube-system"
    assert "dashboard:carol" in events[faults.REASON_STARTED].body["message"]


def test_work_of_a_stopped_component_is_held_not_lost():
    """A task of a stopped component holds its key (a timer that never comes due); other
    components' tasks run; starting the component makes its held keys due at once."""
    faults.stop(faults.CONTROLLER_MANAGER, actor="t")
    assert faults.hold_if_stopped("reconcile", "ReplicaSet", "default", "web") is True
    assert faults.hold_if_stopped("garbage_collect", "1234") is True
    assert faults.hold_if_stopped("schedule") is False
    assert faults.hold_if_stopped("kubelet_sync", "n1") is False
    held = dict(Timer.objects.values_list("key", "due"))
    assert held == {
        "reconcile|ReplicaSet|default|web": faults.HELD_DUE,
        "garbage_collect|1234": faults.HELD_DUE,
    }
    faults.start(faults.CONTROLLER_MANAGER, actor="t")
    assert all(due < faults.HELD_DUE for due in Timer.objects.values_list("due", flat=True))


def test_an_earlier_timer_is_kept_when_work_is_held():
    """A key already due earlier keeps its time (it runs then, and is held again if need be)."""
    Timer.objects.create(key="reconcile|Deployment|default|web", due=5.0)
    faults.stop(faults.CONTROLLER_MANAGER, actor="t")
    faults.hold_if_stopped("reconcile", "Deployment", "default", "web")
    assert Timer.objects.get(key="reconcile|Deployment|default|web").due == 5.0


@pytest.mark.parametrize(
    ("down", "kept"),
    [
        pytest.param([], {"schedule", "reconcile", "kubelet_sync", "node_lifecycle"}, id="all run"),
        pytest.param(
            [faults.SCHEDULER],
            {"reconcile", "kubelet_sync", "node_lifecycle"},
            id="scheduler stopped",
        ),
        pytest.param(
            [faults.CONTROLLER_MANAGER], {"schedule", "kubelet_sync"}, id="controllers stopped"
        ),
    ],
)
def test_the_tick_holds_the_work_of_stopped_components(down, kept):
    """The tick's list (timers, node monitor, resync) loses the stopped components' tasks, which
    are held instead; the kubelets keep going."""
    for component in down:
        faults.stop(component, actor="t")
    work = [
        ("schedule", ()),
        ("reconcile", ("ReplicaSet", "default", "web")),
        ("kubelet_sync", ("n1",)),
        ("node_lifecycle", ("n1",)),
    ]
    assert {name for name, _ in faults.running_work(work)} == kept
    held = {key.split("|")[0] for key in Timer.objects.values_list("key", flat=True)}
    assert held == {name for name, _ in work} - kept


def test_an_unknown_component_is_refused():
    with pytest.raises(faults.UnknownComponent):
        faults.stop("etcd", actor="t")
