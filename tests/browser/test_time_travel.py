"""Time travel in a real browser (Chromium through Playwright) against a real Daphne: drag the
scrubber back and see the past marked as such, step through changes, replay back to now."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from cluster.store import read, write
from cluster.store.bootstrap import ensure_system_objects
from tests.browser import servers
from tests.builders import namespace, node, pod

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
TIMEOUT_MS = 30_000


@pytest.fixture
def web(test_database_url: str, redis_url: str, tmp_path) -> Iterator[servers.Server]:
    with servers.daphne(test_database_url, redis_url, tmp_path) as server:
        yield server


@pytest.fixture
def browser_page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A store call outside Playwright's event loop (Django refuses ORM calls inside one)."""
    with contextlib.ExitStack() as stack:
        executor = stack.enter_context(ThreadPoolExecutor(max_workers=1))
        return executor.submit(fn, *args, **kwargs).result()


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
