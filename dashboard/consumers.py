"""The live stream's receiving side: one websocket consumer per open page.

A consumer joins its page's groups (``dashboard.broadcast``) *before* it renders anything, then
sends a fresh render of the page's live region unless nothing was written since the page was
rendered (``since``, the revision the page carries in its websocket URL). So a change is never
lost between the page's HTTP render and its subscription, and a reconnecting page heals.

Pages that show the same thing (same view, query and language) in one Daphne process share
one renderer (``dashboard.renderers``): it is what joins the groups and hears the notices; it
coalesces those arriving within a short window, renders each stale fragment once, and hands the
same websocket message of HTML, whose elements' ids match the page's, to every page of its key;
htmx's ws extension swaps them in out of band. The clock's readout is re-sent every second while
it moves, its controls when the speed or pause state changes (the clock is shared state, not a
store write, so it is polled rather than notified), again once per renderer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.utils import translation

from dashboard import broadcast, renderers
from dashboard.pages import (
    architecture,
    chrome,
    config,
    events,
    lessons,
    listing,
    networking,
    palette,
    workloads,
)

logger = logging.getLogger(__name__)

# The renderers' coalescing window (``dashboard.renderers``).
WINDOW_SECONDS = renderers.WINDOW_SECONDS


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
    """Keeps one open page current. Subclasses say which groups and how to render.

    The page itself has no channel on the channel layer (its renderer has one): nothing per page
    waits on Redis, so a channel layer that fails or lags under load cannot close a page's
    websocket; the renderer recovers and re-renders instead (``dashboard.renderers``)."""

    channel_layer_alias = None  # no channel of its own on the layer: see above

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

    def render_key(self, query: Mapping[str, str]) -> Hashable:
        """What the page shows: pages with equal keys (and language) share one renderer."""
        raise NotImplementedError

    def render_batch(
        self, query: Mapping[str, str], messages: list[dict[str, Any]], cache: dict[str, Any]
    ) -> str:
        """``render_update``, given the renderer's ``cache`` (kept between its batches)."""
        return self.render_update(query, messages)

    def render_spec(self) -> renderers.Spec:
        """The renderer this page shares with the others of its key. Its functions must not
        depend on this consumer beyond the query (the renderer outlives the first page)."""
        query = dict(self.query)

        def update(messages: list[dict[str, Any]], cache: dict[str, Any]) -> str:
            return self.render_batch(query, messages, cache)

        def tick(previous: Any) -> tuple[str, Any]:
            return self.render_tick(query, previous)

        return renderers.Spec(
            key=(type(self).__name__, self.render_key(query), self.language),
            groups=tuple(self.page_groups(query)),
            language=self.language,
            update=update,
            tick=tick,
            clock=render_clock,
        )

    async def connect(self) -> None:
        self.query = query_of(self.scope)
        self.language = language_of(self.query)
        self.renderer: renderers.Renderer | None = None
        self.ready = False
        self.held: list[str] = []
        self.fresh_from = float("inf")  # nothing before the page's fresh region starts
        # Subscribe first (the renderer is in the groups when this returns), then render.
        layer = get_channel_layer()
        spec = self.render_spec()
        if layer is None:  # no channel layer configured: the clock and the tick only
            spec = replace(spec, groups=())
        self.renderer = await renderers.join(spec, layer, self)
        try:
            await self.accept()
            since = self.query.get("since", "")
            self.fresh_from = time.monotonic()
            html = await self._render(
                self.render_initial, self.query, int(since) if since.isdigit() else 0
            )
            if html:
                await self.send(text_data=html)
            while self.held:  # renders that ended while the region was rendered, in order
                await self.send(text_data=self.held.pop(0))
        except BaseException:  # the page is closed without a disconnect: leave now
            renderer, self.renderer = self.renderer, None
            await renderers.leave(renderer, self)
            raise
        self.ready = True
        self.renderer.refresh_ticks()  # the clock (and the page's tick) whole, at once

    async def disconnect(self, code: int) -> None:
        renderer = getattr(self, "renderer", None)
        if renderer is not None:
            self.renderer = None
            await renderers.leave(renderer, self)

    async def deliver(self, html: str, started: float) -> None:
        """From the renderer: HTML rendered at ``started`` or later (a page shows nothing
        older than its fresh region; what comes while that region is rendered waits)."""
        if started < self.fresh_from:
            return
        if not self.ready:
            self.held.append(html)
            return
        await self.send(text_data=html)

    async def _render(self, fn: Callable[..., str], *args: Any) -> str:
        def render() -> str:
            with translation.override(self.language):
                return fn(*args)

        return await database_sync_to_async(render, thread_sensitive=False)()


def render_clock(previous: chrome.ClockView | None) -> tuple[str, chrome.ClockView]:
    """The clock's fragments that moved since ``previous``, and the view to compare next."""
    view = chrome.clock_view()
    return clock_fragments(view, previous), view


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
    # render_update takes the renderer's ``cache=`` (what stays between batches)
    cached: bool = False


PAGES: dict[str, LivePage] = {
    "architecture": LivePage(
        architecture.Focus.from_query,
        architecture.render_region,
        architecture.render_update,
        palette.architecture_tick,  # a component stopped or started in the failure palette
        cached=True,
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
    # The lesson player: the Architecture region in the lesson's namespace, and its panel,
    # polled and re-sent every second when the lesson moved (dashboard.pages.lessons).
    "lesson": LivePage(
        lessons.Focus.from_query, lessons.render_region, lessons.render_update, lessons.render_tick
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

    def render_key(self, query: Mapping[str, str]) -> Hashable:
        return (self.view_name, repr(self.page.focus(query)))

    def render_update(self, query: Mapping[str, str], messages: list[dict[str, Any]]) -> str:
        return self.page.render_update(self.page.focus(query), messages)

    def render_batch(
        self, query: Mapping[str, str], messages: list[dict[str, Any]], cache: dict[str, Any]
    ) -> str:
        if self.page.cached:
            return self.page.render_update(self.page.focus(query), messages, cache=cache)
        return self.render_update(query, messages)

    def render_tick(self, query: Mapping[str, str], previous: Any) -> tuple[str, Any]:
        if self.page.tick is None:
            return "", None
        return self.page.tick(self.page.focus(query), previous)


class ArchitectureConsumer(PageConsumer):
    """``/ws/architecture?namespace=&zone=&node=&page=&since=``: the Architecture page."""

    view = "architecture"
