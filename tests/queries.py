"""Counting a request's or a task's SQL statements in tests."""

from __future__ import annotations

from django.test.utils import CaptureQueriesContext


def statements(captured: CaptureQueriesContext) -> int:
    """The statements ``captured`` saw, but for reading the simulation clock: each process
    caches it for half a second (``cluster.clock.CACHE_SECONDS``), so whether some piece of
    work reads it again depends on how long the work before it took."""
    return sum('"cluster_clock"' not in query["sql"] for query in captured.captured_queries)
