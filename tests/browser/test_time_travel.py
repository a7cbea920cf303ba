"""Time travel in a real browser (Chromium through Playwright) against a real Daphne: drag the
scrubber back and see the past marked as such, step through changes, replay back to now."""

from __future__ import annotations

from typing import Any

import pytest

from cluster.store import read, write
from cluster.store.bootstrap import ensure_system_objects
from tests.browser import helpers
from tests.browser.helpers import ARTIFACTS, in_thread
from tests.builders import namespace, node, pod

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

TIMEOUT_MS = 30_000


@pytest.fixture
def browser_page(browser) -> Any:
    """Taller than the shared one (the scrubber under the nodes), with shorter waits."""
    return helpers.new_page(browser, height=800, timeout_ms=TIMEOUT_MS)


def history() -> dict[str, int]:
    ensure_system_objects()
    write.create(namespace("shop"))
    write.create(node("worker-1"))
    write.create(pod("early", "shop", node="worker-1"), actor="admin:alice")
    marks = {"early": read.current_revision()}
    write.delete("pods", "shop", "early", grace_period_seconds=0, actor="admin:alice")
    marks["gone"] = read.current_revision()
    write.create(pod("late", "shop", node="worker-1"), actor="admin:bob")
    write.create(pod("later", "shop", node="worker-1"), actor="admin:bob")
    marks["now"] = read.current_revision()
    return marks


def tiles(page) -> set[str]:
    titles = page.eval_on_selector_all("#nodes .pod", "els => els.map(e => e.title)")
    return {title.split(":")[0].split("/")[1] for title in titles}


def test_drag_back_step_and_replay_to_now(web, browser_page):
    """The live page's scrubber dragged back shows the past (sepia, a banner with the revision,
    no stream) with the pods of then; "Next change" steps; a replay runs back to the live page."""
    marks = in_thread(history)
    page = browser_page
    page.goto(web.url + "/?namespace=shop")
    page.wait_for_selector("body[data-stream='live']")
    assert tiles(page) == {"late", "later"}

    page.locator("#scrub").fill(str(marks["early"]))  # dragging ends with a change event
    page.wait_for_selector("#region.past")
    banner = page.inner_text(".past-banner")
    assert "The past, read-only" in banner
    assert f"Revision {marks['early']} of {marks['now']}" in banner
    assert tiles(page) == {"early"}
    assert f"at={marks['early']}" in page.url and "namespace=shop" in page.url
    assert page.locator("#live[ws-connect]").count() == 0
    assert "by admin:alice (kube-apiserver)" in page.inner_text(".timeline .change.current")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "time-travel.png"))

    page.click(".travel-steps a[rel='next']")
    page.wait_for_function(
        f"document.querySelector('.past-banner').innerText.includes('Revision {marks['gone']} ')"
    )
    assert tiles(page) == set()
    page.click(".travel-steps a[rel='prev']")
    page.wait_for_function(
        f"document.querySelector('.past-banner').innerText.includes('Revision {marks['early']} ')"
    )

    page.select_option("#replay-speed", "2")
    page.click("form.replay button[type='submit']")
    page.wait_for_selector(".replaying")
    page.wait_for_selector("#region:not(.past)", timeout=TIMEOUT_MS)
    assert tiles(page) == {"late", "later"}
    page.wait_for_selector("body[data-stream='live']")
    assert "at=" not in page.url
