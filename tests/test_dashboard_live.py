"""Across processes: a write committed here reaches a websocket served by a real Daphne,
through the real Redis channel layer (what the in-memory layer cannot show)."""

from __future__ import annotations

import time
import urllib.request

import pytest
import websocket  # websocket-client

from cluster.store import write
from cluster.store.bootstrap import ensure_system_objects
from dashboard import broadcast
from tests.browser import servers
from tests.builders import namespace, node, pod

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TIMEOUT = 15.0


@pytest.fixture(scope="module")
def daphne_server(test_database_url, redis_url, tmp_path_factory):
    with servers.daphne(test_database_url, redis_url, tmp_path_factory.mktemp("daphne")) as server:
        yield server


@pytest.fixture
def publishing():
    """This process publishes its commits (cluster/apps.py will do it for every process)."""
    broadcast.connect()
    yield
    broadcast.flush()
    broadcast.disconnect()


def receive_until(ws: websocket.WebSocket, predicate, timeout: float = TIMEOUT) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ws.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            text = ws.recv()
        except websocket.WebSocketTimeoutException:
            break
        if predicate(text):
            return text
    raise TimeoutError("the expected fragment did not arrive")


def test_a_write_in_another_process_reaches_the_websocket(daphne_server, publishing):
    """A pod written here appears in the node card Daphne sends to a connected page."""
    ensure_system_objects()
    write.create(namespace("shop"))
    write.create(node("worker-1"))
    page = websocket.create_connection(
        f"{daphne_server.ws_url}/ws/architecture?namespace=shop&since=1",
        origin=daphne_server.url,
        timeout=TIMEOUT,
    )
    try:
        # The page is behind (since=1): the fresh region comes first, with the node and no pod.
        region = receive_until(page, lambda t: t.lstrip().startswith('<div id="region"'))
        assert 'id="node-worker-1"' in region and "web-live" not in region
        write.create(pod("web-live", "shop", node="worker-1"))
        fragment = receive_until(page, lambda t: 'title="shop/web-live' in t)
        assert '<article id="node-worker-1"' in fragment
        assert 'id="cp-kube-apiserver"' in fragment  # the user's write lit the apiserver
    finally:
        page.close()


def test_a_connecting_page_that_is_current_gets_no_region(daphne_server):
    """Subscribe first, then compare revisions: a current page is not sent the region again."""
    ensure_system_objects()
    page_html = urllib.request.urlopen(daphne_server.url + "/").read().decode()
    since = page_html.split("since=", 1)[1].split("&", 1)[0]
    page = websocket.create_connection(
        f"{daphne_server.ws_url}/ws/architecture?since={since}", origin=daphne_server.url
    )
    try:
        with pytest.raises(TimeoutError):
            receive_until(page, lambda t: 'id="region"' in t, timeout=1.5)
    finally:
        page.close()
