"""Fixtures of the browser tests: the servers they run against and Chromium.

- ``stack`` (per module): Daphne and a publishing control plane at ``SPEED``; modules that use
  it also say ``pytest.mark.usefixtures("clock_at_test_speed")``;
- ``web``: a plain Daphne of the test's own; ``demo_server`` (per module): Daphne as
  ``make demo`` runs it (roles enforced, anonymous read on);
- ``browser`` (Chromium) and ``browser_page`` (one page in it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from cluster import clock, dispatch
from cluster.store import notify
from dashboard import broadcast
from tests.browser import helpers, servers

SPEED = 20.0


@pytest.fixture(scope="module")
def stack(test_database_url: str, redis_url: str, tmp_path_factory) -> Iterator[servers.Server]:
    """Daphne and a publishing control plane (worker with beat, clock at 20x); this process
    enqueues control plane work and publishes its own commits."""
    directory = tmp_path_factory.mktemp("browser")
    settings.KUBARIUM["SPEED"] = SPEED
    clock.invalidate()
    with (
        servers.publishing_worker(test_database_url, redis_url, directory, SPEED),
        servers.daphne(test_database_url, redis_url, directory) as web,
    ):
        notify.subscribe_many(dispatch.on_changes)
        broadcast.connect()
        try:
            yield web
        finally:
            broadcast.flush()
            broadcast.disconnect()
            notify.unsubscribe_many(dispatch.on_changes)
            settings.KUBARIUM["SPEED"] = 1.0
            _forget_queued_work(redis_url)


@pytest.fixture
def clock_at_test_speed() -> Iterator[None]:
    """The clock's row may predate the stack (migrations write): run it at SPEED."""
    clock.set_speed(SPEED)
    yield
    clock.invalidate()


def _forget_queued_work(redis_url: str) -> None:
    import redis as redis_client

    client = redis_client.Redis.from_url(redis_url)
    keys = list(client.scan_iter("kubarium:*")) + [b"celery", b"scheduler"]
    client.delete(*keys)


@pytest.fixture
def web(test_database_url: str, redis_url: str, tmp_path) -> Iterator[servers.Server]:
    with servers.daphne(test_database_url, redis_url, tmp_path) as server:
        yield server


@pytest.fixture(scope="module")
def demo_server(test_database_url: str, redis_url: str, tmp_path_factory) -> Iterator[Any]:
    """Daphne as ``make demo`` runs it: roles enforced, anonymous read on."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KUBARIUM_AUTHORIZATION_MODE", "RBAC")
        patch.setenv("KUBARIUM_ANONYMOUS_READ", "1")
        directory = tmp_path_factory.mktemp("demo")
        with servers.daphne(test_database_url, redis_url, directory) as server:
            yield server


@pytest.fixture
def browser() -> Iterator[Any]:
    with helpers.chromium() as chromium:
        yield chromium


@pytest.fixture
def browser_page(browser) -> Any:
    return helpers.new_page(browser)
