"""The Architecture page in a real browser (Debian's Chromium driven by Playwright) against a
real Daphne, a real Redis and a real control plane: pods appear live, without a reload."""

from __future__ import annotations

import pytest

from cluster import clock, manifests, services
from cluster.store import write
from tests.browser import servers
from tests.browser.helpers import ARTIFACTS, EXAMPLES, in_thread
from tests.builders import deployment, pod

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clock_at_test_speed"),
]


def test_pods_of_a_new_deployment_appear_without_a_reload(stack, browser_page):
    """Creating a Deployment through the write path makes its pods appear on the page, pass
    through the queue and the scheduler, and turn Ready, all without reloading the page."""
    in_thread(manifests.apply, manifests.load_paths([EXAMPLES / "00-nodes.yaml"]))
    in_thread(manifests.apply, manifests.load_paths([EXAMPLES / "01-namespaces.yaml"]))
    page = browser_page
    page.goto(stack.url + "/?namespace=shop")
    page.wait_for_selector("body[data-stream='live']")
    assert page.locator("#node-worker-1").is_visible()
    assert page.locator(".pod").count() == 0
    page.evaluate("window.kubariumNotReloaded = true")

    in_thread(write.create, deployment("web", "shop", replicas=4), actor="admin:teacher")

    page.wait_for_function("document.querySelectorAll('#nodes .pod').length === 4")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "architecture-starting.png"))
    page.wait_for_function("document.querySelectorAll('#nodes .pod.s-ready').length === 4")
    assert page.evaluate("window.kubariumNotReloaded") is True
    assert "kube-apiserver accepted Deployment shop/web" in page.inner_text("#cp-kube-apiserver")
    assert page.inner_text("#queue .count") == "0"
    assert "Running" in page.inner_text("#nodes .pod.s-ready >> nth=0")
    page.screenshot(path=str(ARTIFACTS / "architecture.png"))


def test_a_dropped_stream_shows_and_heals(test_database_url, redis_url, tmp_path, browser_page):
    """When Daphne goes away the page says it is disconnected; when a server is back on the same
    address the page reconnects by itself and catches up with what it missed."""
    in_thread(manifests.apply, manifests.load_paths([EXAMPLES / "00-nodes.yaml"]))
    in_thread(manifests.apply, manifests.load_paths([EXAMPLES / "01-namespaces.yaml"]))
    page = browser_page
    port = services.find_free_port()
    with servers.daphne(test_database_url, redis_url, tmp_path, port) as first:
        page.goto(first.url + "/?namespace=shop")
        page.wait_for_selector("body[data-stream='live']")
        assert page.locator(".connection .when-live").is_visible()
        assert page.locator(".connection .when-offline").is_hidden()
    page.wait_for_selector("body[data-stream='offline']")
    assert page.locator(".connection .when-offline").is_visible()
    # Written while no server streams: no page hears it...
    in_thread(write.create, pod("missed", "shop", node="worker-2"))
    with servers.daphne(test_database_url, redis_url, tmp_path, port):
        # ...until the page reconnects and gets a fresh render.
        page.wait_for_selector("body[data-stream='live']", timeout=30_000)
        page.wait_for_selector("#node-worker-2 .pod[title^='shop/missed']")


def test_the_clock_controls_work_once_the_stream_has_replaced_them(stack, browser_page):
    """The stream re-sends the clock's controls without a CSRF field; htmx's header carries the
    token, so pause, step and play still work."""
    page = browser_page
    page.goto(stack.url + "/")
    page.wait_for_selector("body[data-stream='live']")
    page.click("#clock-controls button[value='pause']")
    page.wait_for_selector("#clock .clock-state.paused")
    assert in_thread(_clock_state).paused
    before = in_thread(_clock_now)
    page.click("#clock-controls button[value='step']")
    in_thread(lambda: services.wait_for(lambda: _clock_now() >= before + 1.0, timeout=10))
    page.click("#clock-controls button[value='resume']")
    page.wait_for_selector("#clock .clock-state.running")
    assert not in_thread(_clock_state).paused


def _clock_state():
    clock.invalidate()
    return clock.state()


def _clock_now() -> float:
    clock.invalidate()
    return clock.now()
