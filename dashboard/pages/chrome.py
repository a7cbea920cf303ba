"""What every dashboard page has around its content: the namespace selector and the clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cluster import clock, simclock
from cluster.models import Namespace


@dataclass(frozen=True)
class ClockView:
    """The simulation clock as the header shows it.

    ``time`` is the simulated wall clock (UTC); ``day`` counts from the clock's epoch, starting
    at 1: 90,000 simulated seconds after the epoch is day ``90000 // 86400 + 1 = 2``.
    """

    time: str
    date: str
    day: int
    speed: float
    paused: bool
    speeds: tuple[float, ...]

    @property
    def controls_key(self) -> tuple[float, bool]:
        """What the controls depend on: a change re-renders them."""
        return (self.speed, self.paused)


def clock_view(state: simclock.ClockState | None = None) -> ClockView:
    state = state or clock.state()
    seconds = clock.now(state)
    moment: dt.datetime = simclock.to_datetime(state, seconds)
    speeds = simclock.SPEED_CHOICES
    if state.speed not in speeds:
        speeds = tuple(sorted({*speeds, state.speed}))
    return ClockView(
        time=moment.strftime("%H:%M:%S"),
        date=moment.strftime("%Y-%m-%d"),
        day=int(max(0.0, seconds) // 86_400) + 1,
        speed=state.speed,
        paused=state.paused,
        speeds=speeds,
    )


def namespaces() -> list[str]:
    return list(Namespace.objects.order_by("name").values_list("name", flat=True))


def chrome_context(namespace: str) -> dict[str, Any]:
    return {"namespaces": namespaces(), "clock": clock_view(), "namespace": namespace}


class ClockActionError(ValueError):
    """A clock action the form asked for is not known or not possible now."""


def clock_action(action: str, speed: str = "") -> simclock.ClockState:
    """Apply a clock form's action: ``pause``, ``resume``, ``step`` or ``speed``."""
    try:
        if action == "pause":
            return clock.pause()
        if action == "resume":
            return clock.resume()
        if action == "step":
            return clock.step()
        if action == "speed":
            return clock.set_speed(float(speed))
    except (simclock.ClockError, ValueError) as error:
        raise ClockActionError(str(error)) from None
    raise ClockActionError(f"unknown clock action {action!r}")
