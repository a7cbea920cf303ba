"""The failure palette in a real browser against a real Daphne: stopping the scheduler on the
palette shows it stopped (in words) on an open Architecture page, live; undo brings it back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cluster.store.bootstrap import ensure_system_objects
from tests.browser import servers
from tests.browser.test_time_travel import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, in_thread
from tests.builders import node

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture
def web(test_database_url: str, redis_url: str, tmp_path) -> Iterator[servers.Server]:
    with servers.daphne(test_database_url, redis_url, tmp_path) as server:
        yield server


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def setup() -> None:
    from cluster.store import write

    ensure_system_objects()
    write.create(node("worker-1"))


def test_stopping_the_scheduler_shows_on_the_architecture_page(web, browser):
    in_thread(setup)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    architecture = context.new_page()
    architecture.goto(web.url + "/")
    architecture.wait_for_selector("body[data-stream='live']")
    assert architecture.locator("#cp-kube-scheduler.stopped").count() == 0

    palette = context.new_page()
    palette.goto(web.url + "/palette")
    palette.click("button[value='kube-scheduler']")
    palette.wait_for_selector(".outcome.done")
    assert "kube-scheduler is stopped" in palette.inner_text(".broken-list")
    assert "by dashboard:" in palette.inner_text(".broken-list")

    architecture.wait_for_selector("#cp-kube-scheduler.stopped")
    assert "STOPPED" in architecture.inner_text("#cp-kube-scheduler").upper()
    ARTIFACTS.mkdir(exist_ok=True)
    architecture.screenshot(path=str(ARTIFACTS / "architecture-scheduler-stopped.png"))
    palette.screenshot(path=str(ARTIFACTS / "palette.png"), full_page=True)

    palette.click(".broken-list button.undo")
    palette.wait_for_selector(".broken-list", state="detached")
    architecture.wait_for_selector("#cp-kube-scheduler:not(.stopped)")
    context.close()
