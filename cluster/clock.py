"""The live simulation clock, shared by every process through one database row.

``cluster.simclock`` holds the arithmetic (pure); this module keeps the state in the ``Clock``
row so Daphne, the worker and beat agree on the time, and offers the operations the dashboard
and the lessons use: pause, play, step, speed.

The cluster lives in simulated time: object timestamps (``creationTimestamp``, events,
conditions) are ``sim_epoch + sim_now``, and the server-side tables compute ages against the same
clock, so ``kubectl get`` shows ages and progress deadlines consistently at any speed. The epoch is
the wall time when the clock was created, so at 1x an unpaused cluster's times match the wall
clock. (``kubectl describe`` computes event ages on the client, against the wall clock: at other
speeds they drift, as they would on a cluster whose clock is off.)

Each process caches the state for up to ``CACHE_SECONDS``: speed changes reach every process
within that time, and the hot paths (every write stamps a time) cost no query.
"""

from __future__ import annotations

import datetime as dt
import os
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cluster import simclock
from cluster.models import Clock

ClockState = simclock.ClockState


def _initial() -> ClockState:
    speed = float(settings.KUBARIUM["SPEED"])
    seed = int(os.environ.get("KUBARIUM_SEED", "0"))
    state = simclock.new_clock(
        time.time(), seed=seed, speed=speed or 1.0, sim_epoch=timezone.now().replace(microsecond=0)
    )
    return simclock.pause(state, time.time()) if speed == 0 else state


CACHE_SECONDS = 0.5
_cache: tuple[float, ClockState] | None = None


def state() -> ClockState:
    """The clock's state (cached for ``CACHE_SECONDS`` in this process)."""
    global _cache
    wall = time.monotonic()
    if _cache is not None and wall - _cache[0] < CACHE_SECONDS:
        return _cache[1]
    row = Clock.objects.filter(pk=1).values_list("state", flat=True).first()
    if row is None:
        initial = _initial()
        Clock.objects.get_or_create(pk=1, defaults={"state": simclock.to_dict(initial)})
        row = Clock.objects.get(pk=1).state
    current = simclock.from_dict(row)
    _cache = (wall, current)
    return current


def invalidate() -> None:
    """Forget the cached state (after a change, or between tests)."""
    global _cache
    _cache = None


def now_datetime(current: ClockState | None = None) -> dt.datetime:
    """The simulated time as a datetime: what object timestamps record."""
    current = current or state()
    return simclock.to_datetime(current, now(current))


def now(current: ClockState | None = None) -> float:
    """Simulated seconds since the clock's epoch."""
    return simclock.sim_now(current or state(), time.time())


def _change(apply) -> ClockState:
    with transaction.atomic():
        row = Clock.objects.select_for_update().filter(pk=1).first()
        current = simclock.from_dict(row.state) if row else _initial()
        updated = apply(current)
        Clock.objects.update_or_create(pk=1, defaults={"state": simclock.to_dict(updated)})
    invalidate()
    return updated


def set_speed(speed: float) -> ClockState:
    """Run at ``speed`` simulated seconds per second; 0 pauses."""
    return _change(lambda s: simclock.set_speed(s, speed, time.time()))


def pause() -> ClockState:
    return _change(lambda s: simclock.pause(s, time.time()))


def resume() -> ClockState:
    return _change(lambda s: simclock.resume(s, time.time()))


def step(seconds: float | None = None) -> ClockState:
    """Advance a paused clock by one tick (or ``seconds``)."""
    return _change(lambda s: simclock.step(s, seconds))


def rng(*scope) -> simclock.random.Random:
    """A generator seeded from the clock's seed and ``scope``: same scenario, same choices."""
    return simclock.rng_for(state().seed, *scope)
