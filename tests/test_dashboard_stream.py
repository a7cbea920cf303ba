"""The live stream: consumers (in-memory channel layer) and the publisher (a real Redis).

Consumer tests drive ``ArchitectureConsumer`` with Channels' ``WebsocketCommunicator``; they are
transactional because the consumer renders in a thread of its own, with its own connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from cluster import clock
from cluster.store import write
from cluster.store.bootstrap import ensure_system_objects
from cluster.store.read import current_revision
from dashboard import broadcast, consumers
from dashboard.broadcast import GROUP_ALL, GROUP_CLUSTER, messages_for
from tests.builders import namespace, node, pod
from tests.test_dashboard_logic import notice
from tests.test_dashboard_views import top_ids

TIMEOUT = 5.0


@pytest.fixture
def memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    yield


@pytest.fixture
def cluster(transactional_db):
    clock.invalidate()
    ensure_system_objects()
    write.create(namespace("shop"))
    write.create(node("worker-1"))
    write.create(pod("web-1", "shop", node="worker-1"))


def communicator(query: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(
        consumers.ArchitectureConsumer.as_asgi(), f"/ws/architecture?{query}"
    )


def is_clock(text: str) -> bool:
    return text.lstrip().startswith(('<span id="clock-time"', '<div id="clock-controls"'))


async def receive_page(socket: WebsocketCommunicator, until: Callable[[str], bool]) -> str:
    """The next message that is not the clock's and satisfies ``until``."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        text = await socket.receive_from(timeout=max(0.01, deadline - time.monotonic()))
        if not is_clock(text) and until(text):
            return text


async def no_page_message(socket: WebsocketCommunicator, seconds: float = 0.5) -> bool:
    """Whether nothing but clock updates arrives for ``seconds`` (without ending the app, which
    a ``receive_from`` timeout would)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if await socket.receive_nothing(timeout=left):
            return True
        if not is_clock(await socket.receive_from()):
            return False
    return True


def run(coroutine_function):
    return async_to_sync(coroutine_function)()


@pytest.mark.usefixtures("memory_layer", "cluster")
class TestArchitectureConsumer:
    @pytest.mark.parametrize(
        "query",
        [
            pytest.param("since=1", id="rendered at an older revision"),
            pytest.param("", id="no revision"),
            pytest.param("since=abc", id="a garbled revision"),
        ],
    )
    def test_a_page_rendered_before_the_last_write_gets_a_fresh_region(self, query):
        """A (re)connecting page that is behind (or cannot say) gets the whole live region."""

        async def scenario():
            socket = communicator(query)
            connected, _ = await socket.connect()
            assert connected
            text = await receive_page(socket, lambda t: True)
            assert text.lstrip().startswith('<div id="region"')
            assert 'id="node-worker-1"' in text
            await socket.disconnect()

        run(scenario)

    def test_a_current_page_gets_no_region_but_the_clock(self):
        """A page rendered at the current revision is not sent the region again; the clock's
        readout and controls come at once."""
        since = current_revision()

        async def scenario():
            socket = communicator(f"since={since}")
            await socket.connect()
            first = await socket.receive_from(timeout=TIMEOUT)
            assert is_clock(first)
            assert await no_page_message(socket)
            await socket.disconnect()

        run(scenario)

    def test_changes_in_one_window_arrive_as_one_message(self):
        """Two messages within the coalescing window are rendered together, each fragment once."""
        since = current_revision()
        first = [notice(name="web-1", actor="kubelet", type="MODIFIED", node="worker-1")]
        second = [notice(name="web-2", revision=11)]

        async def scenario():
            socket = communicator(f"since={since}")
            await socket.connect()
            layer = get_channel_layer()
            await layer.group_send(GROUP_ALL, messages_for(first)[GROUP_ALL])
            await layer.group_send(GROUP_ALL, messages_for(second)[GROUP_ALL])
            text = await receive_page(socket, lambda t: True)
            assert text.count('<article id="node-worker-1"') == 1
            assert '<section id="queue"' in text
            assert await no_page_message(socket, 0.3)
            await socket.disconnect()

        run(scenario)

    @pytest.mark.parametrize(
        ("query", "group", "expected"),
        [
            pytest.param("", GROUP_ALL, True, id="all namespaces hears everything"),
            pytest.param("namespace=shop", "kubarium.changes.ns.shop", True, id="its namespace"),
            pytest.param("namespace=shop", GROUP_CLUSTER, True, id="cluster-scoped changes"),
            pytest.param(
                "namespace=shop", "kubarium.changes.ns.data", False, id="not other namespaces"
            ),
        ],
    )
    def test_pages_join_the_groups_of_what_they_show(self, query, group, expected):
        """A namespace page hears its namespace and the cluster-wide group, nothing else."""
        since = current_revision()
        batch = [notice("Node", "worker-1", "", type="MODIFIED")]
        message = {**messages_for(batch)[GROUP_ALL], "nodes": ["worker-1"]}

        async def scenario():
            socket = communicator(f"{query}&since={since}")
            await socket.connect()
            await get_channel_layer().group_send(group, message)
            if expected:
                text = await receive_page(socket, lambda t: True)
                assert 'id="node-worker-1"' in text
            else:
                assert await no_page_message(socket)
            await socket.disconnect()

        run(scenario)

    def test_the_clock_controls_follow_a_pause(self):
        """When the clock is paused elsewhere, the controls are re-sent with Play."""
        clock.resume()
        since = current_revision()

        async def scenario():
            socket = communicator(f"since={since}")
            await socket.connect()
            controls = await socket.receive_from(timeout=TIMEOUT)
            while "clock-controls" not in controls:
                controls = await socket.receive_from(timeout=TIMEOUT)
            assert "Pause" in controls
            await asyncio.to_thread(clock.pause)
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                text = await socket.receive_from(timeout=TIMEOUT)
                if "clock-controls" in text:
                    assert 'value="resume"' in text
                    break
            else:
                pytest.fail("the controls were not re-sent")
            await socket.disconnect()

        run(scenario)
        clock.resume()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_committed_write_is_published_to_its_groups(redis_url):
    """After commit the publisher sends one message per group on the real channel layer."""
    ensure_system_objects()
    write.create(namespace("shop"))
    layer = get_channel_layer()

    async def scenario():
        channel = await layer.new_channel()
        for group in (GROUP_ALL, broadcast.namespace_group("shop"), GROUP_CLUSTER):
            await layer.group_add(group, channel)
        broadcast.connect()
        try:
            await asyncio.to_thread(write.create, node("worker-9"))
            await asyncio.to_thread(write.create, pod("web-9", "shop", node="worker-9"))
            assert await asyncio.to_thread(broadcast.flush)
        finally:
            broadcast.disconnect()
        received: list[dict] = []

        async def until_both_arrived() -> None:
            while True:
                received.append(await layer.receive(channel))
                notices, nodes, _revision, _overflow = broadcast.decode(received)
                seen = {(n.kind, n.name) for n in notices}
                if {("Node", "worker-9"), ("Pod", "web-9")} <= seen and "worker-9" in nodes:
                    return

        await asyncio.wait_for(until_both_arrived(), TIMEOUT)
        assert {m["type"] for m in received} == {"cluster.changed"}
        for group in (GROUP_ALL, broadcast.namespace_group("shop"), GROUP_CLUSTER):
            await layer.group_discard(group, channel)

    run(scenario)


def test_clock_fragments_only_when_something_moved():
    """The readout is re-sent when the time moved, the controls when speed or pause changed."""
    from dashboard.pages.chrome import ClockView

    view = ClockView("10:00:00", "2025-01-01", 1, 1.0, False, (1.0, 2.0))
    assert top_ids(consumers.clock_fragments(view, None)) == [
        "clock-time",
        "clock-controls",
    ]
    assert consumers.clock_fragments(view, view) == ""
    later = ClockView("10:00:01", "2025-01-01", 1, 1.0, False, (1.0, 2.0))
    assert top_ids(consumers.clock_fragments(later, view)) == ["clock-time"]
    paused = ClockView("10:00:01", "2025-01-01", 1, 1.0, True, (1.0, 2.0))
    assert top_ids(consumers.clock_fragments(paused, later)) == ["clock-controls"]
