"""Render once, send to every page: the live stream's renderers.

A hundred pages open on the same view and query would otherwise render the same fragments a
hundred times for every batch of changes. So the pages served by one Daphne process that show
the same thing (the same *render key*: the view, its query, the language) share one
:class:`Renderer`, created when the first of them connects and stopped when the last leaves.

The renderer, not each page, is what listens to the store's notices: it owns one channel of
the channel layer, joins the page's groups (``dashboard.broadcast``) with it, coalesces the
notices arriving within ``WINDOW_SECONDS`` of the first (renders never overlap, and two start
at least ``MIN_INTERVAL_SECONDS`` apart), renders the stale fragments once in a thread of its
own, and hands the HTML to every page of the key in this process (an in-process fan-out: one
Redis message per group and process, not one per page). The clock's readout and a page's
per-second tick are rendered once per key too.

Its thread keeps its database connection between renders (``CONN_MAX_AGE=0`` would otherwise
open one, and re-run the SQLite PRAGMAs, for every render); a render that fails on a broken
connection closes it and is tried once more on a new one. A page module may keep what does not
change between batches in the renderer's ``cache`` (a dict; see ``architecture.render_update``).

Guarantees kept from the per-page design:

- *subscribe first*: :func:`join` returns only once the renderer's channel is in the groups,
  so a page that renders its fresh region after joining cannot miss a change in between;
- *never older than the page*: a page is handed only the renders that *started* after its
  fresh region did (``Member.fresh_from``); the ones that end while its region is still being
  rendered are held and sent after it, in order;
- *a lost message heals*: when receiving from the channel layer fails (Redis restarted or
  overloaded), the renderer waits ``RETRY_SECONDS``, joins its groups again and renders the whole
  region as for an ``overflow`` message; a page that reconnects gets a fresh region anyway.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import InterfaceError, OperationalError, connections
from django.utils import translation

from dashboard import broadcast

logger = logging.getLogger(__name__)

# How long a renderer waits after the first notice of a batch for the rest of it (the other
# groups' messages of the same publish; the publisher has already lingered for its commits).
WINDOW_SECONDS = 0.005
# At most one render per this many seconds per renderer (under a burst, batches grow instead).
MIN_INTERVAL_SECONDS = 0.025
CLOCK_SECONDS = 1.0
# channels-redis forgets group members after a day (group_expiry): re-join well before.
REJOIN_SECONDS = 3600.0
# After receiving from the channel layer failed: wait, re-join, re-render everything.
RETRY_SECONDS = 0.5
# At most one warning per this many seconds while the channel layer fails.
WARN_EVERY_SECONDS = 30.0
OVERFLOW = {"type": broadcast.EVENT_TYPE, "revision": 0, "overflow": True, "changes": []}


class Timings:
    """Where a renderer's time goes, logged (``INFO``) when it stops: per batch, from the first
    notice's commit to the publisher's send (its linger), through Redis to this process, the
    wait in the window, the render, and the hand-over to every page."""

    def __init__(self) -> None:
        self.parts: dict[str, list[float]] = {
            "linger": [],
            "redis": [],
            "window": [],
            "render": [],
            "fan-out": [],
        }
        self.first: dict[str, float] | None = None  # the batch's first message's times
        self.batches = 0
        self.pages = 0

    def received(self, message: dict[str, Any]) -> None:
        if self.first is None and message.get("sent"):
            self.first = {
                "queued": float(message.get("queued") or 0.0),
                "sent": float(message["sent"]),
                "arrived": time.time(),
            }

    def starting(self) -> None:
        first, self.first = self.first, None
        if first is not None:
            now = time.time()
            if first["queued"]:
                self._add("linger", first["sent"] - first["queued"])
            self._add("redis", first["arrived"] - first["sent"])
            self._add("window", now - first["arrived"])

    def rendered(self, started: float) -> None:
        self._add("render", time.monotonic() - started)
        self._rendered = time.monotonic()

    def sent(self, started: float, pages: int) -> None:
        self._add("fan-out", time.monotonic() - self._rendered)
        self.batches += 1
        self.pages = max(self.pages, pages)

    def _add(self, part: str, seconds: float) -> None:
        values = self.parts[part]
        if len(values) < 100_000:
            values.append(seconds)

    def __str__(self) -> str:
        def ms(values: list[float], q: float) -> str:
            ordered = sorted(values)
            return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f}"

        parts = ", ".join(
            f"{part} p50 {ms(v, 0.5)} p99 {ms(v, 0.99)} ms" for part, v in self.parts.items() if v
        )
        return f"{self.batches} batches to up to {self.pages} pages; {parts}"


class Member(Protocol):
    """A page kept live by a renderer (``LiveConsumer``)."""

    async def deliver(self, html: str, started: float) -> None:
        """Send ``html``, rendered from the database as it was at ``started`` or later."""


@dataclass(frozen=True)
class Spec:
    """What a renderer renders: built by the first page of its key, shared by the others.

    ``update(messages, cache)`` renders a batch of received ``cluster.changed`` messages;
    ``tick(previous)`` returns what to send every second besides the clock and the state to
    compare next time; ``clock(previous)`` likewise for the clock (both optional). They run in
    the renderer's thread, under ``language``."""

    key: Hashable
    groups: tuple[str, ...]
    language: str
    update: Callable[[list[dict[str, Any]], dict[str, Any]], str]
    tick: Callable[[Any], tuple[str, Any]] | None = None
    clock: Callable[[Any], tuple[str, Any]] | None = None


def _close_connections() -> None:
    connections.close_all()


@dataclass(eq=False)
class Renderer:
    spec: Spec
    layer: Any  # the channel layer, or None (then only the clock and the tick run)
    members: list[Member] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)
    renders: int = 0  # batches rendered (tests count them)
    channel: str = ""

    def __post_init__(self) -> None:
        self.pending: list[dict[str, Any]] = []
        self.wake = asyncio.Event()
        self.tick_wake = asyncio.Event()
        self.reset_ticks = False
        self.tasks: list[asyncio.Task] = []
        self.started: asyncio.Future | None = None
        self.failed = False
        self.last_render = -MIN_INTERVAL_SECONDS
        self.last_warning = -WARN_EVERY_SECONDS
        self.timings = Timings()
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="kubarium-render"
        )

    # --- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        if self.layer is not None and self.spec.groups:
            self.channel = await self.layer.new_channel()
            await self._join_groups()
            self.tasks.append(asyncio.create_task(self._receive()))
            self.tasks.append(asyncio.create_task(self._rejoin()))
        self.tasks.append(asyncio.create_task(self._stream()))
        if self.spec.clock or self.spec.tick:
            self.tasks.append(asyncio.create_task(self._ticks()))

    async def stop(self) -> None:
        if self.renders:
            logger.info("live stream: renderer %s stopped: %s", self.spec.key, self.timings)
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.channel:
            for group in self.spec.groups:
                with contextlib.suppress(Exception):
                    await self.layer.group_discard(group, self.channel)
        loop = asyncio.get_running_loop()
        with contextlib.suppress(Exception):
            await loop.run_in_executor(self.executor, _close_connections)
        self.executor.shutdown(wait=False)

    async def _join_groups(self) -> None:
        for group in self.spec.groups:
            await self.layer.group_add(group, self.channel)

    # --- rendering ----------------------------------------------------------------------

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in the renderer's thread, in its language, on its kept connection."""
        language = self.spec.language

        def run() -> Any:
            with translation.override(language):
                try:
                    return fn(*args)
                except (InterfaceError, OperationalError):
                    # Perhaps the kept connection broke (a restarted server): once more on a new
                    # one; a real error fails again and is raised.
                    connections.close_all()
                    return fn(*args)

        return await asyncio.get_running_loop().run_in_executor(self.executor, run)

    def notice(self, message: dict[str, Any]) -> None:
        """Queue a received ``cluster.changed`` message for the next batch."""
        self.timings.received(message)
        self.pending.append(message)
        self.wake.set()

    async def _stream(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self.wake.wait()
            await asyncio.sleep(
                max(WINDOW_SECONDS, self.last_render + MIN_INTERVAL_SECONDS - loop.time())
            )
            self.wake.clear()
            messages, self.pending = self.pending, []
            if self.failed:
                messages.append(dict(OVERFLOW))
                self.failed = False
            started = time.monotonic()
            self.last_render = loop.time()
            self.timings.starting()
            try:
                html = await self.call(self.spec.update, messages, self.cache)
            except Exception:
                logger.exception("live stream: rendering an update failed")
                self.failed = True  # the next batch re-renders everything
                self.cache.clear()
                continue
            self.renders += 1
            self.timings.rendered(started)
            if html:
                await self.fan_out(html, started)
            self.timings.sent(started, len(self.members))

    async def fan_out(self, html: str, started: float) -> None:
        for member in list(self.members):
            try:
                await member.deliver(html, started)
            except Exception:  # a page that just closed: the others still get theirs
                logger.debug("live stream: a page could not be sent an update", exc_info=True)

    def refresh_ticks(self) -> None:
        """Send the clock and the tick whole, now, to every page (one just connected): their
        states start again from nothing, so a page never misses a move that happened before it
        connected. Calls in a burst are served by one round."""
        self.reset_ticks = True
        self.tick_wake.set()

    async def _ticks(self) -> None:
        clock_state: Any = None
        tick_state: Any = None
        while True:
            self.tick_wake.clear()
            if self.reset_ticks:
                clock_state = tick_state = None
                self.reset_ticks = False
            started = time.monotonic()
            parts = []
            if self.spec.clock:
                try:
                    html, clock_state = await self.call(self.spec.clock, clock_state)
                    parts.append(html)
                except Exception:
                    logger.exception("live stream: rendering the clock failed")
            if self.spec.tick:
                try:
                    html, tick_state = await self.call(self.spec.tick, tick_state)
                    parts.append(html)
                except Exception:
                    logger.exception("live stream: rendering the page's tick failed")
            for html in parts:  # the clock and the page's own tick: separate messages
                if html:
                    await self.fan_out(html, started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.tick_wake.wait(), CLOCK_SECONDS)

    # --- receiving ----------------------------------------------------------------------

    async def _receive(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                now = time.monotonic()
                if now - self.last_warning > WARN_EVERY_SECONDS:
                    self.last_warning = now
                    logger.warning(
                        "live stream: receiving from the channel layer failed: %s", error
                    )
                await asyncio.sleep(RETRY_SECONDS)
                with contextlib.suppress(Exception):
                    await self._join_groups()
                # Messages may have been lost meanwhile: render everything again.
                self.notice(dict(OVERFLOW))
                continue
            if message.get("type") == broadcast.EVENT_TYPE:
                self.notice(message)

    async def _rejoin(self) -> None:
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            with contextlib.suppress(Exception):
                await self._join_groups()


# --- the registry: one renderer per key and event loop ----------------------------------

_registries: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, Renderer]] = (
    weakref.WeakKeyDictionary()
)


def registry() -> dict[Hashable, Renderer]:
    """This event loop's renderers by key (Daphne runs one loop per process)."""
    return _registries.setdefault(asyncio.get_running_loop(), {})


async def join(spec: Spec, layer: Any, member: Member) -> Renderer:
    """Add ``member`` to the renderer of ``spec.key`` (started if need be); returns once the
    renderer is subscribed to the groups, so everything committed later reaches the page."""
    renderers = registry()
    renderer = renderers.get(spec.key)
    if renderer is None:
        renderer = Renderer(spec, layer)
        renderers[spec.key] = renderer
        renderer.started = asyncio.ensure_future(renderer.start())
    renderer.members.append(member)
    assert renderer.started is not None
    try:
        await asyncio.shield(renderer.started)
    except BaseException:  # it could not subscribe, or the page went away meanwhile
        if _forget(renderer, member):
            asyncio.ensure_future(renderer.stop())
        raise
    return renderer


async def leave(renderer: Renderer, member: Member) -> None:
    """Remove ``member``; the last one out stops the renderer."""
    if _forget(renderer, member):
        await renderer.stop()


def _forget(renderer: Renderer, member: Member) -> bool:
    """Remove ``member``; True when it was the last (the renderer is then unregistered)."""
    with contextlib.suppress(ValueError):
        renderer.members.remove(member)
    if renderer.members:
        return False
    renderers = registry()
    if renderers.get(renderer.spec.key) is renderer:
        del renderers[renderer.spec.key]
    return True
