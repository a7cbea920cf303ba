"""What the browser tests share: Debian's Chromium through Playwright, store calls run outside
Playwright's event loop, signing in a superuser, and screenshots. Their fixtures (the servers, a
browser, a page) are in ``tests/browser/conftest.py``; the processes in ``servers.py``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TIMEOUT_MS = 60_000
# The superuser ``sign_in_superuser`` makes, and the password of the users the tests make.
USERNAME = "teacher"
PASSWORD = "a-long-test-password"


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (``CHROMIUM``), closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Any, height: int = 720, timeout_ms: int = TIMEOUT_MS) -> Any:
    """A page 1280 pixels wide in a browser context of its own (its own cookies)."""
    page = browser.new_context(viewport={"width": 1280, "height": height}).new_page()
    page.set_default_timeout(timeout_ms)
    return page


def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a store call outside Playwright's event loop (Django refuses ORM calls inside one)."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(fn, *args, **kwargs).result()


def sign_in_superuser(page: Any, base_url: str, next_path: str) -> None:
    """Make the superuser ``USERNAME`` (once) and sign in through Django admin's sign-in form,
    landing on ``next_path``."""
    from django.contrib.auth import get_user_model

    def make_user() -> None:
        users = get_user_model()
        if not users.objects.filter(username=USERNAME).exists():
            users.objects.create_superuser(USERNAME, f"{USERNAME}@example.com", PASSWORD)

    in_thread(make_user)
    page.goto(f"{base_url}/admin/login/?next={next_path}")
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.click("input[type='submit']")
    page.wait_for_url(f"{base_url}{next_path}")


def screenshot(page: Any, name: str) -> None:
    """The whole page (not only the viewport) as ``tests/artifacts/<name>``."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
