"""The live clock: speed, pause, step, and a paused cluster that does not progress."""

from __future__ import annotations

import pytest

from cluster import clock, controlplane, simclock
from cluster.kubelet.runner import KUBELET_STOPPED, stop_kubelet
from cluster.models import NodeHeartbeat, Timer
from cluster.store import write
from tests.builders import configmap, deployment, node

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_clock")]


def test_pause_freezes_simulated_time_and_step_advances_it():
    """Paused, the clock reads the same; a step moves it by exactly one tick."""
    clock.pause()
    frozen = clock.now()
    assert clock.now() == frozen
    clock.step()
    assert clock.now() == pytest.approx(frozen + 1.0)
    clock.step(30)
    assert clock.now() == pytest.approx(frozen + 31.0)


def test_speed_out_of_range_is_refused():
    """Speeds are 0 (paused) or 0.25 to 1000."""
    with pytest.raises(simclock.ClockError) as raised:
        clock.set_speed(5000)
    assert "between 0.25 and 1000" in str(raised.value)
    assert clock.set_speed(0).paused


def test_object_timestamps_follow_the_simulated_clock():
    """Objects are stamped with the cluster's (simulated) time."""
    clock.pause()
    clock.step(3600)
    created = write.create(configmap("cfg"))
    stamped = simclock.parse_time(created["metadata"]["creationTimestamp"])
    assert abs((stamped - clock.now_datetime()).total_seconds()) < 1.5


def test_a_paused_cluster_does_not_progress_but_writes_land():
    """While paused, the tick does nothing (no heartbeats, no due timers), yet API writes land."""
    write.create(node("n1"))
    clock.pause()
    Timer.objects.create(key="kubelet_sync|n1", due=0)
    assert controlplane.tick() == {"paused": 1}
    assert Timer.objects.filter(key="kubelet_sync|n1").exists()
    assert not NodeHeartbeat.objects.exists()
    write.create(configmap("written-while-paused"))


@pytest.mark.parametrize(
    ("housekeeping", "speed", "period"),
    [
        # The resync: every 30 simulated seconds, but never more often than every 3 real ones.
        (controlplane.resync_period, 1.0, 30.0),  # real time: every 30 simulated seconds
        (controlplane.resync_period, 10.0, 30.0),  # 3 s of real time
        (controlplane.resync_period, 20.0, 60.0),  # 30 would be 1.5 real s: every 3 instead
        (controlplane.resync_period, 1000.0, 3000.0),
        # A running kubelet's Lease: every 10 simulated seconds, at most every 2 real ones.
        (controlplane.lease_renew_period, 1.0, 10.0),
        (controlplane.lease_renew_period, 5.0, 10.0),  # 2 s of real time
        (controlplane.lease_renew_period, 20.0, 40.0),  # 10 would be 0.5 real s: every 2
        (controlplane.lease_renew_period, 1000.0, 2000.0),
    ],
    ids=[
        "resync-1x",
        "resync-10x",
        "resync-20x",
        "resync-1000x",
        "lease-1x",
        "lease-5x",
        "lease-20x",
        "lease-1000x",
    ],
)
def test_housekeeping_runs_every_so_many_simulated_seconds_but_not_too_often_in_real_time(
    housekeeping, speed, period
):
    state = simclock.new_clock(0.0, speed=speed)
    assert housekeeping(state) == period


def test_the_tick_renews_only_leases_older_than_the_renewal_period():
    """A fresh record is left alone (no write); an old one of a running kubelet is renewed; a
    stopped kubelet's record is never renewed and hands the node to the node lifecycle."""
    for name in ("fresh", "old", "stopped"):
        write.create(node(name))
    write.patch("Node", "", "stopped", {"metadata": {"annotations": {KUBELET_STOPPED: "true"}}})
    clock.pause()
    now = clock.now()
    NodeHeartbeat.objects.create(node_name="fresh", sim_time=now - 5)
    NodeHeartbeat.objects.create(node_name="old", sim_time=now - 600)
    NodeHeartbeat.objects.create(node_name="stopped", sim_time=now - 600)
    clock.resume()

    done = controlplane.tick()

    beats = dict(NodeHeartbeat.objects.values_list("node_name", "sim_time"))
    assert done["heartbeats"] == 1
    assert beats["fresh"] == pytest.approx(now - 5)
    assert beats["old"] >= now
    assert beats["stopped"] == pytest.approx(now - 600)
    assert done["lifecycle"] == 1  # only "stopped" is handed over: the others run and are Ready


def test_with_no_resync_planned_the_tick_resyncs_at_once_and_plans_the_next():
    """The control plane's first tick on a database (objects loaded while no worker ran, as
    `make demo` seeds them) looks at everything then, as controllers list everything when they
    start, and plans the next resync a period later; the next tick has none to do."""
    write.create(configmap("cfg"))
    write.create(node("n1"))
    write.create(deployment("web", replicas=2))
    assert not Timer.objects.filter(key=controlplane.RESYNC_KEY).exists()

    done = controlplane.tick()

    assert done["resync"] == len(controlplane.resync_keys()) > 0
    planned = Timer.objects.get(key=controlplane.RESYNC_KEY).due
    assert planned > clock.now()
    assert controlplane.tick()["resync"] == 0
    assert Timer.objects.get(key=controlplane.RESYNC_KEY).due == planned


def test_stopping_a_kubelet_records_its_last_heartbeat_at_that_moment():
    """However long ago the tick last renewed the Lease, the grace period starts at the stop."""
    write.create(node("n1"))
    NodeHeartbeat.objects.create(node_name="n1", sim_time=clock.now() - 3000)

    stop_kubelet("n1", actor="teacher")

    beat = NodeHeartbeat.objects.get(node_name="n1").sim_time
    assert beat == pytest.approx(clock.now(), abs=5.0)


@pytest.mark.parametrize(
    ("objects", "speed", "period"),
    [
        (20, 20.0, 60.0),  # a classroom cluster: every 3 real seconds
        (600, 20.0, 60.0),  # 600 x 5 ms = 3 s
        (2000, 20.0, 200.0),  # 10 real seconds
        (11200, 1000.0, 56000.0),  # 1,000 nodes, 10,000 pods: 56 real seconds
        (11200, 1.0, 56.0),  # at 1x the same 56 seconds, simulated and real
    ],
)
def test_a_large_clusters_resync_comes_less_often_in_real_time(objects, speed, period):
    """5 ms of real time per object the resync looks at, so its cost stays a small share."""
    state = simclock.new_clock(0.0, speed=speed)
    assert controlplane.resync_period(state, objects) == pytest.approx(period)
