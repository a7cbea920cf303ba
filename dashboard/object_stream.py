"""The live stream of an Object detail page: ``/ws/objects?kind=&namespace=&name=&since=``.

A small subclass of :class:`dashboard.consumers.LiveConsumer`: it joins the object's groups
(``detail.groups_for``), sends a fresh region when anything was written since the page was
rendered, and re-renders the region when a batch of changes touches the object or what the
page shows around it (``detail.touches``). An unknown kind or a missing name is refused (close
code 4404). The stream has no session, so it renders as nobody in particular: a Secret's values
stay masked (a page showing them does not connect).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboard.consumers import LiveConsumer, query_of
from dashboard.pages import detail


class ObjectConsumer(LiveConsumer):
    async def connect(self) -> None:
        target = detail.Target.from_query(query_of(self.scope))
        if target is None:
            await self.close(code=4404)
            return
        self.target = target
        await super().connect()

    def page_groups(self, query: Mapping[str, str]) -> list[str]:
        return detail.groups_for(self.target)

    def render_initial(self, query: Mapping[str, str], since: int) -> str:
        if detail.is_current(since):
            return ""
        return detail.render_region(self.target)

    def render_update(self, query: Mapping[str, str], messages: list[dict[str, Any]]) -> str:
        return detail.render_update(self.target, messages)
