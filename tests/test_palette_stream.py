"""The palette's and the Architecture page's streams (in-memory channel layer): a palette page
that is behind gets its whole ``#region``; an open Architecture page is sent its components
when one is stopped in the palette."""

from __future__ import annotations

import asyncio

import pytest

from cluster import clock, faults
from cluster.store import write
from cluster.store.bootstrap import ensure_system_objects
from cluster.store.read import current_revision
from tests.builders import node
from tests.test_dashboard_pages_stream import communicator
from tests.test_dashboard_stream import memory_layer, receive_page, run  # noqa: F401 (memory_layer: a fixture)


@pytest.fixture
def cluster(transactional_db):
    clock.invalidate()
    ensure_system_objects()
    write.create(node("worker-1"))


pytestmark = pytest.mark.usefixtures("memory_layer", "cluster")


def test_a_palette_page_that_is_behind_gets_what_is_broken_now():
    write.patch("nodes", "", "worker-1", {"spec": {"unschedulable": True}})

    async def scenario():
        socket = communicator("/ws/palette?since=1")
        connected, _ = await socket.connect()
        assert connected
        text = await receive_page(socket, lambda t: True)
        assert text.lstrip().startswith('<div id="region"')
        assert 'value="cordon:worker-1"' in text and "Nodes Ready" in text
        await socket.disconnect()

    run(scenario)


def test_the_architecture_page_hears_a_component_stop():
    """The page's stream re-sends the components within a tick or two of a switch."""
    since = current_revision()

    async def scenario():
        socket = communicator(f"/ws/architecture?since={since}")
        connected, _ = await socket.connect()
        assert connected
        await asyncio.to_thread(faults.stop, faults.SCHEDULER, actor="dashboard:alice")
        text = await receive_page(
            socket, lambda t: 'id="cp-kube-scheduler" class="component stopped"' in t
        )
        assert "Stopped" in text
        await socket.disconnect()

    run(scenario)
