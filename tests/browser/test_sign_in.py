"""Signing in and out in a real browser (Debian's Chromium driven by Playwright) against a real
Daphne with access control on and anonymous read on, as in ``make demo``."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tests.browser.helpers import ARTIFACTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def alice() -> User:
    """Made before the browser starts: Playwright's sync API runs an event loop in this
    thread, where Django refuses database calls."""
    return User.objects.create_user("alice", password=PASSWORD)


def test_look_without_signing_in_then_sign_in_and_out(demo_server, alice, browser_page):
    """A projector's browser sees the live Architecture view without signing in; a person
    signs in from the header, comes back to the page, and signs out."""
    from playwright.sync_api import expect

    page = browser_page
    page.goto(demo_server.url + "/")
    expect(page.locator("body")).to_have_attribute("data-stream", "live")
    sign_in = page.locator(".account a")
    expect(sign_in).to_have_text("Sign in")

    sign_in.click()
    page.wait_for_url("**/accounts/login/?next=/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".errors")).to_be_visible()
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")

    page.wait_for_url(demo_server.url + "/")
    expect(page.locator(".account .user")).to_have_text("Signed in as alice")
    expect(page.locator("body")).to_have_attribute("data-stream", "live")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "signed-in.png"))

    page.click(".account button[type=submit]")
    page.wait_for_url("**/accounts/login/")
    expect(page.locator("h1")).to_have_text("Kubarium")
