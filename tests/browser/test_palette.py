"""The failure palette in a real browser against a real Daphne: stopping the scheduler on the
palette shows it stopped (in words) on an open Architecture page, live; undo brings it back."""

from __future__ import annotations

import pytest

from cluster.store.bootstrap import ensure_system_objects
from tests.browser.helpers import ARTIFACTS, in_thread
from tests.browser.test_time_travel import TIMEOUT_MS
from tests.builders import node

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


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
