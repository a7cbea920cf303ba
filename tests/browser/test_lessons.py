"""The lesson player in a real browser (Chromium through Playwright) against a real Daphne,
Redis and control plane: a teacher signs in, starts lesson 1 and plays its first steps; a
second browser context, another user's, watches the same steps arrive over its stream.
Screenshots: ``tests/artifacts/lesson-*.png``."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from cluster.models import Pod, Role, RoleBinding
from tests.browser.helpers import PASSWORD, in_thread, screenshot, sign_in_superuser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clock_at_test_speed"),
]

PATH = "/lessons/nodes-and-pods"
SLOW_MS = 120_000  # preparing and the first Pods, at the lesson's own speed (1x)


def _outline(page, selector: str) -> str:
    return page.eval_on_selector(selector, "el => getComputedStyle(el).outlineStyle")


def _watcher(browser, base_url: str):
    """A second page in a browser context of its own, signed in as another user."""

    def make_viewer() -> None:
        users = get_user_model()
        if not users.objects.filter(username="pupil").exists():
            user = users.objects.create_user("pupil", password=PASSWORD)
            RoleBinding.objects.create(user=user, role=Role.VIEWER, namespace="")

    in_thread(make_viewer)
    page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    page.goto(f"{base_url}/accounts/login/?next={PATH}")
    page.fill("#id_username", "pupil")
    page.fill("#id_password", PASSWORD)
    page.click("button[type='submit'], input[type='submit']")
    page.wait_for_url(f"{base_url}{PATH}")
    return page


def test_a_teacher_plays_lesson_1_and_a_pupil_watches(stack, browser_page):
    page = browser_page
    sign_in_superuser(page, stack.url, "/lessons")
    assert page.locator(".lesson-card").count() >= 4
    screenshot(page, "lessons.png")
    page.click("a[href='/lessons/nodes-and-pods']")
    page.wait_for_url(f"{stack.url}{PATH}")
    page.wait_for_selector("body[data-stream='live']")
    page.evaluate("window.kubariumNotReloaded = true")

    watcher = _watcher(page.context.browser, stack.url)
    watcher.wait_for_selector("body[data-stream='live']")
    # (Which controls a viewer sees is tested in tests/test_lessons_player.py: this stack runs
    # with authorization off, as the other browser tests do.)

    # Start: the lesson prepares its namespace and nodes, then shows step 1 by itself.
    page.click("#lesson-panel button[value='start']")
    page.wait_for_selector("#lesson-panel[data-lesson-step='nodes-and-pods:1']", timeout=SLOW_MS)
    assert "kube-scheduler" in page.inner_text("#lesson-panel .step-text")
    assert _outline(page, "#cp-kube-scheduler") == "solid"
    assert _outline(page, "#cp-etcd") == "none"
    page.wait_for_selector("#node-lesson1-a")

    # Step 2 marks a node, on the teacher's page and on the pupil's.
    page.click("#lesson-panel button[value='next']")
    page.wait_for_selector("#lesson-panel[data-lesson-step='nodes-and-pods:2']")
    assert _outline(page, "#node-lesson1-a") == "solid"
    watcher.wait_for_selector("#lesson-panel[data-lesson-step='nodes-and-pods:2']")
    assert _outline(watcher, "#node-lesson1-a") == "solid"
    assert _outline(watcher, "#cp-kube-scheduler") == "none"
    screenshot(page, "lesson-node-highlighted.png")

    # Step 3 applies the filler Pods; step 4 waits until they are ready, live.
    page.click("#lesson-panel button[value='next']")
    page.wait_for_selector("#lesson-panel .results")
    assert "pod/busy created" in page.inner_text("#lesson-panel .results")
    page.click("#lesson-panel button[value='next']")
    page.wait_for_selector("#lesson-panel[data-lesson-step='nodes-and-pods:4']")
    page.wait_for_selector("#lesson-panel .lesson-step.s-done", timeout=SLOW_MS)
    page.wait_for_function("document.querySelectorAll('#node-lesson1-a .pod.s-ready').length === 1")
    ready = in_thread(
        lambda: sorted(
            Pod.objects.filter(namespace="lesson-nodes-pods", ready=True).values_list(
                "name", "node_name"
            )
        )
    )
    assert ready == [("busy", "lesson1-a"), ("light", "lesson1-b")]

    # Step 6 asks; the class's guess shows on both pages, the answer on neither yet.
    page.click("#lesson-panel button[value='next']")
    page.click("#lesson-panel button[value='next']")
    page.wait_for_selector("#lesson-panel .question")
    page.click("#lesson-panel .choice >> nth=1 >> button")
    page.wait_for_selector("#lesson-panel .choice.picked")
    watcher.wait_for_selector("#lesson-panel .choice.picked")
    assert watcher.locator("#lesson-panel .explanation").count() == 0
    screenshot(page, "lesson-predict.png")
    screenshot(watcher, "lesson-watcher.png")
    assert page.evaluate("window.kubariumNotReloaded") is True
    watcher.close()
