"""Render once, send to every page (``dashboard.renderers``): pages showing the same view and
query share one renderer that renders each batch once; other queries render apart; a page that
joins mid-stream gets its fresh region first and nothing older; an overflow re-renders the
whole region once for everybody; the Architecture page's cached node figures stay true.

Real consumers through the real routes, the in-memory channel layer (as in
``tests/test_dashboard_stream.py``), the real database."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from cluster import clock
from cluster.store import write
from cluster.store.bootstrap import ensure_system_objects
from cluster.store.read import current_revision
from dashboard import renderers, routing
from dashboard.broadcast import GROUP_ALL, messages_for
from dashboard.pages import architecture
from dashboard.pages.architecture import Focus
from tests.builders import namespace, node, pod
from tests.test_dashboard_logic import notice
from tests.test_dashboard_stream import memory_layer, no_page_message, receive_page, run  # noqa: F401 (memory_layer: a fixture)
from tests.test_dashboard_views import top_ids


@pytest.fixture
def cluster(transactional_db):
    clock.invalidate()
    ensure_system_objects()
    write.create(namespace("shop"))
    write.create(namespace("data"))
    write.create(node("worker-1"))
    write.create(pod("web-1", "shop", node="worker-1"))


pytestmark = pytest.mark.usefixtures("memory_layer", "cluster")


def communicator(path: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(URLRouter(routing.websocket_urlpatterns), path)


async def send_batch(batch) -> None:
    layer = get_channel_layer()
    for group, message in messages_for(batch).items():
        await layer.group_send(group, message)


def renderer_of(view: str, query: str = "") -> renderers.Renderer:
    focus = repr(architecture.Focus.from_query(dict([query.split("=")] if query else [])))
    (found,) = [r for k, r in renderers.registry().items() if k[1] == (view, focus)]
    return found


async def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the condition did not come true"
        await asyncio.sleep(0.01)


def test_pages_of_the_same_view_get_the_same_html_from_one_render():
    """Three pages on the same view and query: one renderer, one render per batch, the very
    same message for each page; the last page to leave stops the renderer."""
    since = current_revision()
    batch = [notice(name="web-2", node="worker-1", actor="default-scheduler", type="MODIFIED")]

    async def scenario():
        pages = [communicator(f"/ws/architecture?since={since}") for _ in range(3)]
        for page in pages:
            assert (await page.connect())[0]
        renderer = renderer_of("architecture")
        assert len(renderer.members) == 3
        await send_batch(batch)
        texts = [await receive_page(page, lambda t: True) for page in pages]
        assert texts[0] == texts[1] == texts[2]
        assert '<article id="node-worker-1"' in texts[0] and '<section id="queue"' in texts[0]
        assert renderer.renders == 1
        for page in pages:
            assert await no_page_message(page, 0.2)
            await page.disconnect()
        assert renderers.registry() == {}

    run(scenario)


def test_pages_of_different_namespaces_render_apart():
    """A shop page and a data page have a renderer each; a change in shop is rendered by shop's
    only, and only the shop page hears of it."""
    since = current_revision()
    batch = [notice(name="web-1", namespace="shop", node="worker-1", type="MODIFIED")]

    async def scenario():
        shop = communicator(f"/ws/architecture?namespace=shop&since={since}")
        data = communicator(f"/ws/architecture?namespace=data&since={since}")
        await shop.connect()
        await data.connect()
        shop_renderer = renderer_of("architecture", "namespace=shop")
        data_renderer = renderer_of("architecture", "namespace=data")
        assert shop_renderer is not data_renderer
        await send_batch(batch)
        text = await receive_page(shop, lambda t: True)
        assert 'title="shop/web-1' in text
        # The data page hears the cluster group (worker-1's bars count every pod): its node
        # card, rendered by its own renderer, without shop's pod in it.
        other = await receive_page(data, lambda t: True)
        assert "node-worker-1" in top_ids(other)
        assert 'title="shop/web-1' not in other
        assert shop_renderer.renders == 1 and data_renderer.renders == 1
        await send_batch([notice("Deployment", "web", "shop", type="MODIFIED")])
        await wait_for(lambda: shop_renderer.renders == 2)
        assert data_renderer.renders == 1
        await shop.disconnect()
        await data.disconnect()

    run(scenario)


def test_a_page_joining_mid_stream_gets_its_region_first_and_nothing_older():
    """A page that joins a running renderer is sent its fresh region first; a render that
    started before that region is not sent to it (the region is newer), one that started
    after is; the page already there gets both."""
    since = current_revision()

    async def scenario():
        first = communicator(f"/ws/architecture?since={since}")
        await first.connect()
        renderer = renderer_of("architecture")
        before = time.monotonic()
        late = communicator("/ws/architecture?since=1")
        await late.connect()
        assert renderer_of("architecture") is renderer and len(renderer.members) == 2
        region = await receive_page(late, lambda t: True)
        assert region.lstrip().startswith('<div id="region"')
        await renderer.fan_out('<p id="stale">older than the region</p>', before)
        await renderer.fan_out('<p id="fresh">newer</p>', time.monotonic())
        assert top_ids(await receive_page(late, lambda t: True)) == ["fresh"]
        assert top_ids(await receive_page(first, lambda t: True)) == ["stale"]
        assert top_ids(await receive_page(first, lambda t: True)) == ["fresh"]
        # And a real batch reaches both, from one render.
        await send_batch([notice(name="web-1", node="worker-1", type="MODIFIED")])
        one = await receive_page(first, lambda t: True)
        assert one == await receive_page(late, lambda t: True)
        assert renderer.renders == 1
        await first.disconnect()
        await late.disconnect()

    run(scenario)


def test_an_overflow_sends_every_page_the_whole_region_from_one_render():
    since = current_revision()
    overflow = {"type": "cluster.changed", "revision": 99, "overflow": True, "changes": []}

    async def scenario():
        pages = [communicator(f"/ws/architecture?since={since}") for _ in range(2)]
        for page in pages:
            await page.connect()
        await get_channel_layer().group_send(GROUP_ALL, overflow)
        texts = [await receive_page(page, lambda t: True) for page in pages]
        assert texts[0] == texts[1]
        assert texts[0].lstrip().startswith('<div id="region"')
        assert 'id="node-worker-1"' in texts[0]
        assert renderer_of("architecture").renders == 1
        for page in pages:
            await page.disconnect()

    run(scenario)


def test_a_render_that_failed_is_followed_by_the_whole_region():
    """When rendering a batch fails, the next batch re-renders the whole region, so the pages
    catch up with what the failed one should have shown."""
    since = current_revision()

    async def scenario():
        page = communicator(f"/ws/architecture?since={since}")
        await page.connect()
        renderer = renderer_of("architecture")
        renderer.notice({"type": "cluster.changed", "revision": 1, "changes": [["bad"]]})
        await wait_for(lambda: renderer.failed)
        await send_batch([notice(name="web-1", node="worker-1", type="MODIFIED")])
        text = await receive_page(page, lambda t: True)
        assert text.lstrip().startswith('<div id="region"')
        await page.disconnect()

    run(scenario)


def test_the_cached_node_figures_match_a_fresh_read():
    """The Architecture renderer keeps the nodes' figures between batches and refreshes the
    nodes a batch touched: its zone summary equals the one a fresh read gives."""
    for i in range(2, 4):
        write.create(node(f"worker-{i}"))
    cache: dict = {}
    focus = Focus()
    first = [notice(name="web-1", node="worker-1", type="MODIFIED")]
    architecture.render_update(focus, [messages_for(first)[GROUP_ALL]], cache=cache)
    facts = cache["facts"]
    write.create(pod("web-2", "shop", node="worker-2", cpu="500m"))
    write.create(pod("db-1", "data", node="worker-2"))
    second = [
        notice(name="web-2", node="worker-2", revision=20),
        notice(name="db-1", namespace="data", node="worker-2", revision=21),
    ]
    messages = [messages_for(second)[GROUP_ALL]]
    cached = architecture.render_update(focus, messages, cache=cache)
    assert cache["facts"] is facts  # refreshed, not read again
    fresh = architecture.render_update(focus, messages)
    assert cached == fresh
    assert 'title="shop/web-2' in cached and 'id="zsum--"' in cached
    assert facts.usage["worker-2"].pods == 2 and facts.usage["worker-2"].cpu == 500


@pytest.fixture
def own_redis_url():
    """A Redis of this test's own: it drops every client, which must not touch the session's
    Redis (the test workers and every other test's connections live there)."""
    from cluster.services import PrivateRedis

    with PrivateRedis() as server:
        yield server.url


@pytest.mark.integration
def test_a_renderer_heals_after_redis_dropped_its_connections(settings, own_redis_url):
    """Redis drops every client (as in a restart): the renderer's receive fails, it joins its
    groups again and sends the whole region; the page's websocket stays open and later changes
    reach it."""
    import redis

    redis_url = own_redis_url
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url]},
        }
    }
    since = current_revision()

    async def scenario():
        page = communicator(f"/ws/architecture?since={since}")
        assert (await page.connect())[0]
        renderer = renderer_of("architecture")
        await asyncio.sleep(0.2)  # the renderer is waiting on Redis
        killed = await asyncio.to_thread(
            lambda: redis.Redis.from_url(redis_url).client_kill_filter(_type="normal")
        )
        assert killed >= 1
        region = await receive_page(page, lambda t: t.lstrip().startswith('<div id="region"'))
        assert 'id="node-worker-1"' in region
        await send_batch([notice(name="web-1", node="worker-1", type="MODIFIED")])
        text = await receive_page(page, lambda t: '<article id="node-worker-1"' in t)
        assert not text.lstrip().startswith('<div id="region"')
        assert renderer_of("architecture") is renderer
        await page.disconnect()

    run(scenario)
