"""The simulation clock: speed, pause, step, persistence and seeded randomness."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cluster import simclock
from cluster.simclock import ClockError, ClockState

REPO = Path(__file__).resolve().parents[1]


def clock(**overrides) -> ClockState:
    values = dict(
        sim_epoch=simclock.DEFAULT_EPOCH,
        wall_anchor=1000.0,
        sim_anchor=50.0,
        speed=2.0,
        paused=False,
        seed=7,
    )
    values.update(overrides)
    return ClockState(**values)


@pytest.mark.parametrize(
    ("state", "wall", "expected"),
    [
        pytest.param(clock(), 1000.0, 50.0, id="at the anchor"),
        pytest.param(clock(), 1010.0, 70.0, id="running at 2x: 50 + 10 * 2"),
        pytest.param(clock(speed=0.25), 1010.0, 52.5, id="quarter speed: 50 + 10 * 0.25"),
        pytest.param(clock(paused=True), 5000.0, 50.0, id="paused: frozen"),
        pytest.param(clock(), 990.0, 50.0, id="wall clock set back: never runs backwards"),
    ],
)
def test_sim_now(state, wall, expected):
    """Simulated time is sim_anchor + (wall - wall_anchor) * speed, frozen while paused."""
    assert simclock.sim_now(state, wall) == pytest.approx(expected)


def test_changing_speed_keeps_time_continuous():
    """Switching speed re-anchors at the current instant, so simulated time does not jump."""
    state = clock()
    faster = simclock.set_speed(state, 10, 1010.0)
    assert simclock.sim_now(faster, 1010.0) == pytest.approx(70.0)
    assert simclock.sim_now(faster, 1011.0) == pytest.approx(80.0)
    assert faster.speed == 10 and faster.paused is False


def test_speed_zero_pauses_and_resume_restores_the_speed():
    """Speed 0 pauses; resume runs again at the previous speed from where time stood."""
    paused = simclock.set_speed(clock(), 0, 1010.0)
    assert paused.paused is True and paused.speed == 2.0
    assert simclock.sim_now(paused, 9999.0) == pytest.approx(70.0)
    running = simclock.resume(paused, 2000.0)
    assert simclock.sim_now(running, 2001.0) == pytest.approx(72.0)


def test_positive_speed_runs_a_paused_clock():
    """Choosing a speed while paused runs the clock at that speed."""
    paused = simclock.pause(clock(), 1010.0)
    running = simclock.set_speed(paused, 5, 3000.0)
    assert running.paused is False
    assert simclock.sim_now(running, 3002.0) == pytest.approx(80.0)


def test_pause_and_resume_are_idempotent():
    """Pausing a paused clock or resuming a running one changes nothing."""
    paused = simclock.pause(clock(), 1010.0)
    assert simclock.pause(paused, 2000.0) == paused
    running = clock()
    assert simclock.resume(running, 2000.0) == running


@pytest.mark.parametrize(
    "speed",
    [
        pytest.param(0.25, id="slowest dashboard speed"),
        pytest.param(20, id="fastest dashboard speed"),
        pytest.param(100, id="benchmark speed"),
        pytest.param(1000, id="maximum"),
    ],
)
def test_allowed_speeds(speed):
    """Speeds from 0.25 up to 1000 are accepted."""
    assert simclock.set_speed(clock(), speed, 1000.0).speed == speed


@pytest.mark.parametrize(
    "speed",
    [
        pytest.param(0.1, id="too slow"),
        pytest.param(1001, id="too fast"),
        pytest.param(-1, id="negative"),
        pytest.param(float("nan"), id="not a number"),
        pytest.param(float("inf"), id="infinite"),
        pytest.param(True, id="a boolean"),
        pytest.param("2", id="a string"),
    ],
)
def test_rejected_speeds(speed):
    """Speeds outside 0 or 0.25..1000 are refused with ClockError."""
    with pytest.raises(ClockError):
        simclock.set_speed(clock(), speed, 1000.0)


def test_step_advances_a_paused_clock_by_one_tick():
    """Stepping adds step_seconds (or the given seconds) to a paused clock."""
    paused = simclock.pause(clock(step_seconds=0.5), 1000.0)
    assert simclock.sim_now(simclock.step(paused), 1000.0) == pytest.approx(50.5)
    assert simclock.sim_now(simclock.step(paused, 5), 1000.0) == pytest.approx(55.0)


@pytest.mark.parametrize(
    ("state", "seconds"),
    [
        pytest.param(clock(), None, id="running clock"),
        pytest.param(clock(paused=True), 0, id="zero seconds"),
        pytest.param(clock(paused=True), -1, id="negative seconds"),
    ],
)
def test_step_refusals(state, seconds):
    """Only a paused clock can be stepped, and only forwards."""
    with pytest.raises(ClockError):
        simclock.step(state, seconds)


def test_wall_time_for_inverts_sim_now():
    """wall_time_for gives the wall time at which a simulated time is reached; None when paused."""
    state = clock()
    wall = simclock.wall_time_for(state, 90.0)
    assert wall == pytest.approx(1020.0)
    assert simclock.sim_now(state, wall) == pytest.approx(90.0)
    assert simclock.wall_time_for(clock(paused=True), 90.0) is None


def test_datetimes_and_timestamps():
    """Simulated seconds map to datetimes after sim_epoch; timestamps are whole seconds."""
    state = clock()
    assert simclock.to_datetime(state, 61.9) == dt.datetime(
        2025, 1, 1, 0, 1, 1, 900000, tzinfo=dt.UTC
    )
    assert simclock.to_iso(state, 61.9) == "2025-01-01T00:01:01Z"
    assert simclock.from_datetime(state, dt.datetime(2025, 1, 1, 0, 2, tzinfo=dt.UTC)) == 120.0


def test_state_round_trips_through_json():
    """to_dict/from_dict keep every field, through real JSON."""
    state = clock(step_seconds=0.5, paused=True)
    assert simclock.from_dict(json.loads(json.dumps(simclock.to_dict(state)))) == state
    assert simclock.to_dict(state)["sim_epoch"] == "2025-01-01T00:00:00Z"


def test_state_validation():
    """A naive epoch or an out-of-range stored speed is refused."""
    with pytest.raises(ClockError):
        clock(sim_epoch=dt.datetime(2025, 1, 1))
    with pytest.raises(ClockError):
        clock(speed=0)


def test_new_clock_starts_at_zero():
    """A new clock reads 0 at its wall time."""
    state = simclock.new_clock(500.0, seed=3)
    assert simclock.sim_now(state, 500.0) == 0.0
    assert simclock.sim_now(state, 501.0) == 1.0
    assert state.seed == 3


@pytest.mark.parametrize(
    ("scope_a", "scope_b", "same"),
    [
        pytest.param(("scheduler", 5), ("scheduler", 5), True, id="same scope, same numbers"),
        pytest.param(("scheduler", 5), ("scheduler", 6), False, id="another revision"),
        pytest.param(("a", "bc"), ("ab", "c"), False, id="parts are not simply concatenated"),
    ],
)
def test_rng_for_is_deterministic_per_scope(scope_a, scope_b, same):
    """rng_for gives the same sequence for the same seed and scope, a different one otherwise."""
    a = [simclock.rng_for(1, *scope_a).random() for _ in range(3)]
    b = [simclock.rng_for(1, *scope_b).random() for _ in range(3)]
    assert (a == b) is same


def test_rng_for_is_stable_across_processes():
    """The derived seed does not depend on Python's per-process hash salt."""
    code = "from cluster.simclock import seed_for; print(seed_for(42, 'scheduler', 7))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(salt), "PYTHONPATH": str(REPO)},
        ).stdout.strip()
        for salt in (1, 2)
    }
    assert outputs == {str(simclock.seed_for(42, "scheduler", 7))}
