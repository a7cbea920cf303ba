"""Classroom follow mode in a real browser (Debian's Chromium through Playwright) against a real
Daphne and Redis, as ``make demo`` runs it (roles enforced, anonymous read on): a teacher
presents in one browser context; a second context, not signed in, opens the follow link and
sees the same page, the same highlighted object and the same lesson step, live, as the teacher
moves on."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from cluster import clock
from cluster.models import Node, Role, RoleBinding
from cluster.store import read, write
from cluster.store.bootstrap import ensure_system_objects
from tests.browser.helpers import ARTIFACTS, in_thread, new_page
from tests.builders import namespace, node, pod

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "a-long-teacher-password"
LESSON = "nodes-and-pods"


@pytest.fixture
def classroom() -> None:
    """A teacher (editor) and a small cluster, made before the browser starts (Playwright's
    sync API runs an event loop in this thread, where Django refuses database calls)."""
    clock.invalidate()
    ensure_system_objects()
    write.create(namespace("shop"))
    write.create(node("worker-1"))
    write.create(node("worker-2"))
    write.create(pod("web-1", "shop", node="worker-1"))
    teacher = User.objects.create_user("teacher", password=PASSWORD)
    RoleBinding.objects.create(user=teacher, role=Role.EDITOR, namespace="")


def lesson_kubelets_report_ready() -> None:
    """What the lesson's kubelets would report (no control plane runs here): its nodes Ready."""
    for row in Node.objects.filter(name__startswith="lesson1-"):
        obj = read.get("Node", "", row.name)
        obj["status"]["conditions"] = [
            {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ready"}
        ]
        write.update_status(obj)


def test_a_follower_sees_the_presenters_page_and_highlight_live(demo_server, classroom, browser):
    from playwright.sync_api import expect

    base = demo_server.url
    teacher = new_page(browser)
    teacher.goto(f"{base}/accounts/login/?next=/%3Fnamespace%3Dshop")
    teacher.fill("input[name=username]", "teacher")
    teacher.fill("input[name=password]", PASSWORD)
    teacher.click("button[type=submit]")
    teacher.wait_for_url(f"{base}/?namespace=shop")

    # Present: the follow link as text and as a QR code.
    teacher.click(".present-start button")
    teacher.wait_for_url(re.compile(r".*/present/[a-z0-9]{6}$"))
    link = teacher.inner_text(".follow-link a")
    assert re.fullmatch(re.escape(base) + r"/follow/[a-z0-9]{6}", link), link
    expect(teacher.locator(".qr svg path").first).to_be_attached()
    ARTIFACTS.mkdir(exist_ok=True)
    teacher.screenshot(path=str(ARTIFACTS / "follow-link.png"))
    teacher.click("text=Back to the presentation")
    teacher.wait_for_url(f"{base}/?namespace=shop")
    expect(teacher.locator("#classroom-bar.presenting")).to_be_visible()

    # A student, not signed in, opens the link: same page, read-only.
    student = new_page(browser)
    student.goto(link)
    student.wait_for_url(f"{base}/?namespace=shop")
    expect(student.locator("#classroom-bar.following")).to_be_visible()
    expect(student.locator("body")).to_have_attribute("data-follow", "live")
    expect(student.locator(".present-start")).to_have_count(0)

    # The teacher points at a node (Alt+click): the student's copy of it is highlighted.
    teacher.click("#node-worker-2 .agents", modifiers=["Alt"])
    expect(teacher.locator("#node-worker-2")).to_have_class(re.compile(r"presenter-highlight"))
    expect(student.locator("#node-worker-2")).to_have_class(re.compile(r"presenter-highlight"))
    assert teacher.url == f"{base}/?namespace=shop"  # the Alt+click did not navigate

    # ...then at a pod, by its object link.
    teacher.click("a[href='/objects/pods/shop/web-1']", modifiers=["Alt"])
    expect(
        student.locator(".presenter-highlight a[href='/objects/pods/shop/web-1']")
    ).to_have_count(1)
    expect(student.locator("#node-worker-2")).not_to_have_class(re.compile(r"presenter-highlight"))
    student.screenshot(path=str(ARTIFACTS / "follow-highlight.png"))

    # The teacher moves to another page: the student follows.
    teacher.click("nav.pages a[href^='/workloads']")
    teacher.wait_for_url(f"{base}/workloads?namespace=shop")
    student.wait_for_url(f"{base}/workloads?namespace=shop")
    teacher.goto(f"{base}/objects/nodes/worker-1")
    student.wait_for_url(f"{base}/objects/nodes/worker-1")
    expect(student.locator("#classroom-bar.following")).to_be_visible()
    expect(student.locator("#actions")).to_be_hidden()  # followers look, they do not act

    # A lesson: the student sees the step the teacher is on.
    teacher.goto(f"{base}/lessons/{LESSON}")
    student.wait_for_url(f"{base}/lessons/{LESSON}")
    teacher.click("button[name=action][value=start]")
    expect(teacher.locator("#lesson-panel")).to_have_class(re.compile(r"phase-preparing"))
    teacher.reload()  # a page load polls the preparation: the lesson's nodes are created
    in_thread(lesson_kubelets_report_ready)
    teacher.reload()
    expect(teacher.locator("#lesson-panel")).to_have_attribute("data-lesson-step", f"{LESSON}:1")
    teacher.click("button[name=action][value=next]")
    expect(teacher.locator("#lesson-panel")).to_have_attribute("data-lesson-step", f"{LESSON}:2")
    expect(student.locator("#lesson-panel")).to_have_attribute("data-lesson-step", f"{LESSON}:2")
    assert student.url == f"{base}/lessons/{LESSON}"
    expect(student.locator(".lesson-controls")).to_be_hidden()
    student.screenshot(path=str(ARTIFACTS / "follow-lesson.png"))

    # Projector mode on the student's screen: large type.
    small = student.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    student.click(".projector-switch button")
    expect(student.locator("body")).to_have_class(re.compile(r"\bprojector\b"))
    large = student.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert large > small
    student.screenshot(path=str(ARTIFACTS / "follow-projector.png"))

    # The student reads in Chinese (the header's language menu), still following.
    student.select_option("#language-select", "zh-hans")
    expect(student.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(student.locator("#classroom-bar .classroom-state")).to_contain_text("正在跟随演示者")
    assert student.url == f"{base}/lessons/{LESSON}"
    student.screenshot(path=str(ARTIFACTS / "follow-zh.png"))

    # The teacher stops: the student is told.
    teacher.click("#classroom-bar button[type=submit]")
    expect(student.locator("body")).to_have_attribute("data-follow", "ended")
    expect(student.locator(".classroom-ended")).to_be_visible()
