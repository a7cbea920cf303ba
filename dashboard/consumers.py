"""The live stream's receiving side: one websocket consumer per open page.

A consumer joins its page's groups (``dashboard.broadcast``) *before* it renders anything, then
sends a fresh render of the page's live region unless nothing was written since the page was
rendered (``since``, the revision the page carries in its websocket URL). So a change is never
lost between the page's HTTP render and its subscription, and a reconnecting page heals.

Then it coalesces: notices arriving within ``WINDOW_SECONDS`` of the first are rendered
together, each stale fragment once, and sent as one websocket message of HTML whose elements'
ids match the page's; htmx's ws extension swaps them in out of band. Renders of one consumer
never overlap (notices arriving during a render wait for the next one). The clock's readout is
re-sent every second while it moves, its controls when the speed or pause state changes (the
clock is shared state, not a store write, so it is polled rather than notified).

Rendering is per consumer: a hundred pages on the same view and namespace render the same
fragments a hundred times. Rendering once per (view, namespace) and sending the HTML to a
group of its own is the next optimisation (see ``docs/dashboard.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.utils import translation

from dashboard import broadcast
from dashboard.pages import (
    architecture,
    chrome,
    config,
    events,
    listing,
    networking,
    palette,
    workloads,
)

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 0.1
CLOCK_SECONDS = 1.0
# channels-redis forgets group members after a day (group_expiry): re-join well before.
REJOIN_SECONDS = 3600.0


def query_of(scope: Mapping[str, Any]) -> dict[str, str]:
    """The websocket URL's query as a flat dict (the last value of a repeated key wins)."""
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))


def language_of(query: Mapping[str, str]) -> str:
    """The page's language (``lang=``) when it is one of ``LANGUAGES``, else the default."""
    wanted = query.get("lang", "")
    return wanted if wanted in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def clock_fragments(view: chrome.ClockView, previous: chrome.ClockView | None) -> str:
    """The clock's readout when the time moved, its controls when speed or pause changed."""
    parts = []
    if previous is None or (view.date, view.time) != (previous.date, previous.time):
        parts.append(render_to_string("base.html#clock-time", {"clock": view}))
    if previous is None or view.controls_key != previous.controls_key:
        parts.append(render_to_string("base.html#clock-controls", {"clock": view}))
    return "".join(parts)


class LiveConsumer(AsyncWebsocketConsumer):
    """Keeps one open page current. Subclasses say which groups and how to render."""

    def page_groups(self, query: Mapping[str, str]) -> list[str]:
        raise NotImplementedError

    def render_initial(self, query: Mapping[str, str], since: int) -> str:
        """The whole live region, or "" when the page (rendered at ``since``) is current."""
        raise NotImplementedError

    def render_update(self, query: Mapping[str, str], messages: list[dict[str, Any]]) -> str:
        raise NotImplementedError

    def render_tick(self, query: Mapping[str, str], previous: Any) -> tuple[str, Any]:
        """What to send every second besides the clock, and the state to compare next time."""
        return "", None

    async def connect(self) -> None:
        self.query = query_of(self.scope)
        self.language = language_of(self.query)
        self.joined: list[str] = []
        self.pending: list[dict[str, Any]] = []
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        await self._join()
        await self.accept()
        since = self.query.get("since", "")
        html = await self._render(
            self.render_initial, self.query, int(since) if since.isdigit() else 0
        )
        if html:
            await self.send(text_data=html)
        self.tasks = [
            asyncio.create_task(self._stream()),
            asyncio.create_task(self._clock()),
            asyncio.create_task(self._rejoin()),
        ]

    async def disconnect(self, code: int) -> None:
        for task in getattr(self, "tasks", []):
            task.cancel()
        for task in getattr(self, "tasks", []):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.channel_layer is not None:
            for group in getattr(self, "joined", []):
                await self.channel_layer.group_discard(group, self.channel_name)

    async def cluster_changed(self, event: dict[str, Any]) -> None:
        """A ``cluster.changed`` message from a group: render it with the rest of the window."""
        self.pending.append(event)
        self.wake.set()

    async def _join(self) -> None:
        if self.channel_layer is None:
            return
        self.joined = self.page_groups(self.query)
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)

    async def _render(self, fn: Callable[..., str], *args: Any) -> str:
        def render() -> str:
            with translation.override(self.language):
                return fn(*args)

        return await database_sync_to_async(render, thread_sensitive=False)()

    async def _stream(self) -> None:
        while True:
            await self.wake.wait()
            await asyncio.sleep(WINDOW_SECONDS)
            self.wake.clear()
            messages, self.pending = self.pending, []
            try:
                html = await self._render(self.render_update, self.query, messages)
            except Exception:
                logger.exception("live stream: rendering an update failed")
                continue
            if html:
                await self.send(text_data=html)

    async def _clock(self) -> None:
        previous: chrome.ClockView | None = None
        ticked: Any = None
        while True:
            try:
                view = await database_sync_to_async(chrome.clock_view, thread_sensitive=False)()
                html = await self._render(clock_fragments, view, previous)
                previous = view
                if html:
                    await self.send(text_data=html)
            except Exception:
                logger.exception("live stream: rendering the clock failed")
            try:
                html, ticked = await self._render(self.render_tick, self.query, ticked)
                if html:
                    await self.send(text_data=html)
            except Exception:
                logger.exception("live stream: rendering the page's tick failed")
            await asyncio.sleep(CLOCK_SECONDS)

    async def _rejoin(self) -> None:
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            await self._join()


@dataclass(frozen=True)
class LivePage:
    """How one page is kept live: its query, its whole region, the fragments a batch makes
    stale, and (optionally) what it re-renders every second (``tick``: ``(query, previous
    state) -> (html, state)``, for what is not a store write, such as traffic tallies)."""

    focus: Callable[[Mapping[str, Any]], Any]
    render_region: Callable[[Any], str]
    render_update: Callable[[Any, list[dict[str, Any]]], str]
    tick: Callable[[Any, Any], tuple[str, Any]] | None = None
    read: tuple[str, str] | None = None  # list permission the page needs (listing.may_view)


PAGES: dict[str, LivePage] = {
    "architecture": LivePage(
        architecture.Focus.from_query,
        architecture.render_region,
        architecture.render_update,
        palette.architecture_tick,  # a component stopped or started in the failure palette
    ),
    "palette": LivePage(palette.Focus.from_query, palette.render_region, palette.render_update),
    "workloads": LivePage(
        workloads.Focus.from_query,
        workloads.render_region,
        workloads.render_update,
        read=workloads.READ,
    ),
    "networking": LivePage(
        networking.Focus.from_query,
        networking.render_region,
        networking.render_update,
        networking.render_tick,
        networking.READ,
    ),
    "config": LivePage(
        config.Focus.from_query, config.render_region, config.render_update, read=config.READ
    ),
    "events": LivePage(
        events.Focus.from_query,
        events.render_region,
        events.render_update,
        events.render_tick,
        events.READ,
    ),
}


class PageConsumer(LiveConsumer):
    """``/ws/<view>?namespace=&...&since=``: the live stream of any page in ``PAGES``.

    Every page joins the groups of its namespace (``broadcast.groups_for``); the page module
    decides which fragments a batch makes stale (each from the kinds it shows) and renders them
    with the same partials as its HTTP view. An unknown view is refused (close code 4404), and
    so is a user whose roles do not let them read the page (4403, ``listing.may_view``).
    """

    view = ""  # fixed by a subclass, else taken from the URL route

    @property
    def page(self) -> LivePage:
        return PAGES[self.view_name]

    async def connect(self) -> None:
        kwargs = (self.scope.get("url_route") or {}).get("kwargs") or {}
        self.view_name = self.view or str(kwargs.get("view", ""))
        if self.view_name not in PAGES:
            await self.close(code=4404)
            return
        read = self.page.read
        if read is not None:
            user = self.scope.get("user") or AnonymousUser()
            namespace = self.page.focus(query_of(self.scope)).namespace
            allowed = await database_sync_to_async(listing.may_view)(user, read, namespace)
            if not allowed:
                await self.close(code=4403)
                return
        await super().connect()

    def page_groups(self, query: Mapping[str, str]) -> list[str]:
        return broadcast.groups_for(self.page.focus(query).namespace)

    def render_initial(self, query: Mapping[str, str], since: int) -> str:
        if architecture.is_current(since):
            return ""
        return self.page.render_region(self.page.focus(query))

    def render_update(self, query: Mapping[str, str], messages: list[dict[str, Any]]) -> str:
        return self.page.render_update(self.page.focus(query), messages)

    def render_tick(self, query: Mapping[str, str], previous: Any) -> tuple[str, Any]:
        if self.page.tick is None:
            return "", None
        return self.page.tick(self.page.focus(query), previous)


class ArchitectureConsumer(PageConsumer):
    """``/ws/architecture?namespace=&zone=&node=&page=&since=``: the Architecture page."""

    view = "architecture"
