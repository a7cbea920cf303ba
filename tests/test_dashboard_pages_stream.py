"""The one consumer path ``/ws/<view>`` for the list pages (in-memory channel layer): a fresh
render on (re)connection, the fragments a batch makes stale, and the traffic tally's tick."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from cluster import clock
from cluster.models import Role, RoleBinding, TrafficFlow
from cluster.store import write
from cluster.store.bootstrap import ensure_system_objects
from cluster.store.read import current_revision
from dashboard import routing
from dashboard.broadcast import messages_for
from dashboard.pages import networking
from tests.builders import deployment, namespace, node, pod, service
from tests.test_dashboard_logic import notice
from tests.test_dashboard_stream import memory_layer, no_page_message, receive_page, run  # noqa: F401 (memory_layer: a fixture)
from tests.test_dashboard_views import top_ids


@pytest.fixture
def cluster(transactional_db):
    clock.invalidate()
    ensure_system_objects()
    write.create(namespace("shop"))
    write.create(node("worker-1"))
    write.create(deployment("web", "shop", replicas=2))
    write.create(pod("web-1", "shop", node="worker-1"))


def communicator(path: str) -> WebsocketCommunicator:
    """Through the real routes, so ``/ws/<view>`` picks the page."""
    return WebsocketCommunicator(URLRouter(routing.websocket_urlpatterns), path)


pytestmark = pytest.mark.usefixtures("memory_layer", "cluster")


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        pytest.param("workloads", 'id="deployments"', id="workloads"),
        pytest.param("networking", 'id="routing"', id="networking"),
        pytest.param("config", 'id="secrets"', id="config"),
        pytest.param("events", 'id="events"', id="events"),
        pytest.param("architecture", 'id="node-worker-1"', id="architecture, same path"),
    ],
)
def test_a_page_that_is_behind_gets_a_fresh_region(view, expected):
    """Each view's (re)connecting page that is behind gets its whole live region first."""

    async def scenario():
        socket = communicator(f"/ws/{view}?namespace=shop&since=1")
        connected, _ = await socket.connect()
        assert connected
        text = await receive_page(socket, lambda t: True)
        assert text.lstrip().startswith('<div id="region"') and expected in text
        await socket.disconnect()

    run(scenario)


def test_an_unknown_view_is_refused():
    async def scenario():
        socket = communicator("/ws/nothing?since=1")
        connected, code = await socket.connect()
        assert not connected and code == 4404

    run(scenario)


@pytest.mark.usefixtures("access_enforced")
@pytest.mark.parametrize(
    ("namespace", "allowed"),
    [pytest.param("shop", True, id="its namespace"), pytest.param("data", False, id="another")],
)
def test_the_stream_needs_a_role_where_the_page_looks(namespace, allowed):
    """A viewer bound in shop gets shop's stream; another namespace's is closed with 4403."""
    user = get_user_model().objects.create_user(f"viewer-{namespace}", password="pw")
    RoleBinding.objects.create(user=user, role=Role.VIEWER, namespace="shop")

    async def scenario():
        socket = communicator(f"/ws/workloads?namespace={namespace}&since=1")
        socket.scope["user"] = user
        connected, code = await socket.connect()
        assert connected is allowed
        if allowed:
            assert 'id="deployments"' in await receive_page(socket, lambda t: True)
            await socket.disconnect()
        else:
            assert code == 4403

    run(scenario)


def test_a_change_sends_the_stale_sections_to_pages_of_its_namespace():
    """A Deployment change in shop reaches a Workloads page of shop as ``#deployments``; a
    page of another namespace hears nothing."""
    since = current_revision()
    batch = [notice("Deployment", "web", type="MODIFIED")]

    async def scenario():
        shop = communicator(f"/ws/workloads?namespace=shop&since={since}")
        data = communicator(f"/ws/workloads?namespace=data&since={since}")
        await shop.connect()
        await data.connect()
        assert await no_page_message(shop, 0.3)  # current: no region
        for group, message in messages_for(batch).items():
            await get_channel_layer().group_send(group, message)
        text = await receive_page(shop, lambda t: True)
        assert top_ids(text) == ["deployments"]
        assert 'href="/objects/deployments/shop/web"' in text
        assert await no_page_message(data)
        await shop.disconnect()
        await data.disconnect()

    run(scenario)


def test_traffic_tallies_are_sent_every_second_while_traffic_flows():
    """With a flow running, ``#traffic`` is re-sent as simulated time moves the tallies."""
    write.create(service("web", "shop"))
    write.create(
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "web", "namespace": "shop"},
            "subsets": [
                {
                    "addresses": [
                        {
                            "ip": "10.244.1.5",
                            "nodeName": "worker-1",
                            "targetRef": {"kind": "Pod", "namespace": "shop", "name": "web-1"},
                        }
                    ],
                    "ports": [{"port": 8080}],
                }
            ],
        }
    )
    clock.pause()
    TrafficFlow.objects.create(namespace="shop", service="web", rps=4)
    networking.tally(clock.now())  # what rendering the page does: the tally starts here
    since = current_revision()

    async def scenario():
        socket = communicator(f"/ws/networking?namespace=shop&since={since}")
        await socket.connect()
        await asyncio.to_thread(clock.step)
        await asyncio.to_thread(clock.step)
        # 4 requests/s, one ready endpoint, two simulated seconds: 8 requests.
        text = await receive_page(socket, lambda t: 'id="traffic"' in t and "8 requests" in t)
        assert top_ids(text) == ["traffic"]
        assert "web-1" in text and "4 requests/s to Service shop/web" in text
        await socket.disconnect()

    try:
        run(scenario)
    finally:
        clock.resume()
