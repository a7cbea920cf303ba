"""The live clock: speed, pause, step, and a paused cluster that does not progress."""

from __future__ import annotations

import pytest

from cluster import clock, controlplane, simclock
from cluster.models import NodeHeartbeat, Timer
from cluster.store import write
from tests.builders import configmap, node

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
    ("speed", "period"),
    [
        (1.0, 30.0),  # real time: every 30 simulated seconds, as ever
        (10.0, 30.0),  # 3 s of real time
        (20.0, 60.0),  # 30 simulated seconds would be 1.5 s: once every 3 real seconds instead
        (1000.0, 3000.0),
    ],
)
def test_the_resync_comes_every_30_simulated_seconds_but_never_more_than_every_3_real(
    speed, period
):
    state = simclock.new_clock(0.0, speed=speed)
    assert controlplane.resync_period(state) == period
