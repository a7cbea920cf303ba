"""Simulated time: the clock every timed thing in Kubarium runs on.

Image pulls, container starts, heartbeats and their grace periods, back-off and autoscaler
windows are all measured in *simulated seconds since* ``sim_epoch``. The clock maps wall time
(``time.time()``) to simulated time through an anchor pair and a speed::

    sim_now = sim_anchor + (wall_time - wall_anchor) * speed        (running)
    sim_now = sim_anchor                                             (paused)

Worked example: anchored at wall 1000.0 / sim 50.0 with speed 2, the wall time 1010.0 gives
``50 + (1010 - 1000) * 2 = 70`` simulated seconds. Changing the speed re-anchors at the current
instant, so simulated time never jumps: at wall 1010.0 switching to speed 10 stores wall anchor
1010.0 and sim anchor 70.0, and wall 1011.0 then reads ``70 + 1 * 10 = 80``.

Everything here is pure: functions take a :class:`ClockState` and return a new one. Where the
state lives (Redis, the database) is the caller's business; :func:`to_dict` and
:func:`from_dict` give it a JSON form.

Randomness (jitter, scheduler tie-breaks, traffic) comes from :func:`rng_for`, which derives a
generator from the cluster seed and a *scope* with SHA-256, so the same scope gives the same
numbers in every process (Python's ``hash()`` is salted per process and is never used).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import random
from collections.abc import Mapping
from typing import Any

__all__ = [
    "DEFAULT_EPOCH",
    "MAX_SPEED",
    "MIN_SPEED",
    "SPEED_CHOICES",
    "ClockError",
    "ClockState",
    "format_time",
    "from_datetime",
    "from_dict",
    "new_clock",
    "parse_time",
    "pause",
    "resume",
    "rng_for",
    "seed_for",
    "set_speed",
    "sim_now",
    "step",
    "to_datetime",
    "to_dict",
    "to_iso",
    "wall_time_for",
]

DEFAULT_EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
MIN_SPEED = 0.25
MAX_SPEED = 1000.0  # far beyond the dashboard's choices; benchmarks run this fast
SPEED_CHOICES: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)


class ClockError(ValueError):
    """An operation the clock refuses: a speed out of range, stepping a running clock."""


@dataclasses.dataclass(frozen=True)
class ClockState:
    """The clock's complete state; see the module docstring for the arithmetic.

    ``speed`` is the speed the clock runs at when not paused; pausing keeps it, so that
    :func:`resume` returns to the same speed. ``step_seconds`` is the size of one tick of
    :func:`step`.
    """

    sim_epoch: dt.datetime
    wall_anchor: float
    sim_anchor: float
    speed: float
    paused: bool
    seed: int
    step_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.sim_epoch.tzinfo is None:
            raise ClockError("sim_epoch must be timezone-aware")
        _check_speed(self.speed, allow_zero=False)
        if not _finite(self.step_seconds) or self.step_seconds <= 0:
            raise ClockError(f"step_seconds must be a positive number, not {self.step_seconds!r}")


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_speed(speed: Any, *, allow_zero: bool) -> float:
    if not _finite(speed):
        raise ClockError(f"speed must be a number, not {speed!r}")
    if speed == 0 and allow_zero:
        return 0.0
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise ClockError(
            f"speed must be 0 (paused) or between {MIN_SPEED:g} and {MAX_SPEED:g}, not {speed:g}"
        )
    return float(speed)


def new_clock(
    wall_time: float,
    *,
    seed: int = 0,
    speed: float = 1.0,
    paused: bool = False,
    sim_epoch: dt.datetime = DEFAULT_EPOCH,
    step_seconds: float = 1.0,
) -> ClockState:
    """A clock reading 0 simulated seconds at ``wall_time``."""
    return ClockState(
        sim_epoch=sim_epoch,
        wall_anchor=float(wall_time),
        sim_anchor=0.0,
        speed=_check_speed(speed, allow_zero=False),
        paused=paused,
        seed=int(seed),
        step_seconds=step_seconds,
    )


def period(state: ClockState, sim_seconds: float, min_real_seconds: float) -> float:
    """Simulated seconds between two runs of periodic housekeeping (a resync, a status
    re-post): ``sim_seconds``, but never more often than every ``min_real_seconds`` of real
    time, however fast the clock runs. At 20x, 30 simulated seconds with a 3-second floor
    become ``max(30, 3 * 20) = 60``."""
    return max(sim_seconds, min_real_seconds * state.speed)


def sim_now(state: ClockState, wall_time: float) -> float:
    """Simulated seconds since ``sim_epoch`` at ``wall_time``.

    Running: ``sim_anchor + (wall_time - wall_anchor) * speed``; paused: ``sim_anchor``.
    A wall time before the anchor (a clock set back) reads the anchor: simulated time never
    runs backwards.
    """
    if state.paused:
        return state.sim_anchor
    return state.sim_anchor + max(0.0, wall_time - state.wall_anchor) * state.speed


def set_speed(state: ClockState, speed: float, wall_time: float) -> ClockState:
    """Run at ``speed`` from ``wall_time`` on, without a jump in simulated time.

    ``0`` pauses (keeping the previous speed for :func:`resume`); a positive speed, which must
    lie between ``MIN_SPEED`` and ``MAX_SPEED``, also runs a paused clock.
    """
    speed = _check_speed(speed, allow_zero=True)
    if speed == 0:
        return pause(state, wall_time)
    return dataclasses.replace(
        state,
        wall_anchor=float(wall_time),
        sim_anchor=sim_now(state, wall_time),
        speed=speed,
        paused=False,
    )


def pause(state: ClockState, wall_time: float) -> ClockState:
    """Freeze simulated time at its reading at ``wall_time``. Pausing a paused clock is a no-op."""
    if state.paused:
        return state
    return dataclasses.replace(
        state, wall_anchor=float(wall_time), sim_anchor=sim_now(state, wall_time), paused=True
    )


def resume(state: ClockState, wall_time: float) -> ClockState:
    """Run again from ``wall_time`` at the stored speed. Resuming a running clock is a no-op."""
    if not state.paused:
        return state
    return dataclasses.replace(state, wall_anchor=float(wall_time), paused=False)


def step(state: ClockState, seconds: float | None = None) -> ClockState:
    """Advance a paused clock by one tick (``step_seconds``, or ``seconds`` when given)."""
    if not state.paused:
        raise ClockError("only a paused clock can be stepped")
    amount = state.step_seconds if seconds is None else seconds
    if not _finite(amount) or amount <= 0:
        raise ClockError(f"a step must be a positive number of seconds, not {amount!r}")
    return dataclasses.replace(state, sim_anchor=state.sim_anchor + float(amount))


def wall_time_for(state: ClockState, sim_seconds: float) -> float | None:
    """The wall time at which the clock will read ``sim_seconds``; None while paused.

    The inverse of :func:`sim_now`: ``wall_anchor + (sim_seconds - sim_anchor) / speed``.
    A time already reached gives the anchor or earlier, i.e. "now". Celery ETAs for
    ``PodStep.wake_at`` come from here.
    """
    if state.paused:
        return None
    return state.wall_anchor + (sim_seconds - state.sim_anchor) / state.speed


def to_datetime(state: ClockState, sim_seconds: float) -> dt.datetime:
    """The simulated instant as an aware UTC datetime: ``sim_epoch + sim_seconds``."""
    return (state.sim_epoch + dt.timedelta(seconds=sim_seconds)).astimezone(dt.UTC)


def from_datetime(state: ClockState, when: dt.datetime) -> float:
    """Simulated seconds since ``sim_epoch`` for an aware datetime (inverse of to_datetime)."""
    return (when - state.sim_epoch).total_seconds()


def format_time(when: dt.datetime) -> str:
    """RFC 3339 at second precision, as ``metav1.Time`` serialises: ``2025-01-01T00:00:05Z``."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> dt.datetime:
    """Parse an RFC 3339 timestamp (``Z`` or an offset) into an aware datetime."""
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def to_iso(state: ClockState, sim_seconds: float) -> str:
    """:func:`to_datetime` formatted as Kubernetes timestamps are (whole seconds, floored)."""
    return format_time(to_datetime(state, math.floor(sim_seconds)))


def to_dict(state: ClockState) -> dict[str, Any]:
    """A JSON-ready form of the state (``sim_epoch`` as RFC 3339)."""
    data = dataclasses.asdict(state)
    data["sim_epoch"] = state.sim_epoch.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return data


def from_dict(data: Mapping[str, Any]) -> ClockState:
    """The inverse of :func:`to_dict`; unknown keys are ignored, missing optional ones defaulted."""
    return ClockState(
        sim_epoch=parse_time(str(data["sim_epoch"])),
        wall_anchor=float(data["wall_anchor"]),
        sim_anchor=float(data["sim_anchor"]),
        speed=float(data["speed"]),
        paused=bool(data["paused"]),
        seed=int(data["seed"]),
        step_seconds=float(data.get("step_seconds", 1.0)),
    )


def seed_for(seed: int, *scope: Any) -> int:
    """A 64-bit seed derived from ``seed`` and ``scope``, identical in every process.

    The scope parts are encoded as JSON (``str()`` for anything JSON cannot encode), so
    ``("a", "bc")`` and ``("ab", "c")`` give different seeds; the first 8 bytes of the SHA-256
    of that text are the seed.
    """
    text = json.dumps([seed, *scope], default=str, separators=(",", ":"), ensure_ascii=False)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def rng_for(seed: int, *scope: Any) -> random.Random:
    """A deterministic generator for one scope, e.g. ``rng_for(seed, "scheduler", revision)``."""
    return random.Random(seed_for(seed, *scope))
