"""The live stream of an Object detail page: ``/ws/objects?kind=&namespace=&name=&since=``.

A small subclass of :class:`dashboard.consumers.LiveConsumer`: its renderer (shared by the pages
of the same object in this process) joins the object's groups (``detail.groups_for``); the page
gets a fresh region when anything was written since it was rendered, and the region again when
a batch of changes touches the object or what the page shows around it (``detail.touches``). An unknown kind or a missing name is refused (close
code 4404), and so is a user who may not read the object (4403, ``detail.may_view``); without
a kind at all (the Apply page) only the clock is streamed. Renders are done as nobody in
particular: a Secret's values stay masked (a page showing them does not connect).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from dashboard.consumers import LiveConsumer, query_of
from dashboard.pages import detail


class ObjectConsumer(LiveConsumer):
    """``/ws/objects?kind=<plural>&namespace=&name=&since=``: one object's page. Without
    ``kind`` (the Apply page), only the clock is streamed."""

    target: detail.Target | None = None

    async def connect(self) -> None:
        query = query_of(self.scope)
        if query.get("kind"):
            self.target = detail.Target.from_query(query)
            if self.target is None:
                await self.close(code=4404)
                return
            user = self.scope.get("user") or AnonymousUser()
            allowed = await database_sync_to_async(detail.may_view)(user, self.target)
            if not allowed:
                await self.close(code=4403)
                return
        await super().connect()

    def render_key(self, query: Mapping[str, str]) -> Hashable:
        target = self.target
        return (target.kind.kind, target.namespace, target.name) if target else None

    def page_groups(self, query: Mapping[str, str]) -> list[str]:
        return detail.groups_for(self.target) if self.target else []

    def render_initial(self, query: Mapping[str, str], since: int) -> str:
        if self.target is None or detail.is_current(since):
            return ""
        return detail.render_region(self.target)

    def render_update(self, query: Mapping[str, str], messages: list[dict[str, Any]]) -> str:
        return detail.render_update(self.target, messages) if self.target else ""
