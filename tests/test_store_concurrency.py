"""Concurrent writers: optimistic concurrency holds and the change log has no gaps."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from cluster.models import Change
from cluster.store import read, write
from cluster.store.errors import Conflict
from cluster.store.read import current_revision
from tests.builders import configmap, deployment

pytestmark = pytest.mark.django_db(transaction=True)


def run_threads(count: int, target: Callable[[int], None]) -> list[BaseException]:
    """Run ``target(i)`` in ``count`` threads started together; return what they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            barrier.wait()
            target(i)
        except BaseException as error:  # collected and asserted on by the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return errors


def test_two_writers_with_the_same_resource_version_exactly_one_wins():
    """Two updates from the same read: one lands, the other gets a Conflict."""
    created = write.create(deployment("web", replicas=1))

    def scale(i: int) -> None:
        obj = {**created, "spec": {**created["spec"], "replicas": 10 + i}}
        write.update(obj)

    errors = run_threads(2, scale)
    assert len(errors) == 1 and isinstance(errors[0], Conflict), errors
    replicas = read.get("deployments", "default", "web")["spec"]["replicas"]
    assert replicas in (10, 11)
    assert Change.objects.filter(kind="Deployment", name="web").count() == 2


def test_change_log_is_gapless_under_concurrent_writers():
    """Many writers at once: revisions are exactly consecutive and match the log."""
    start = current_revision()
    writers, each = 4, 15

    def create_many(i: int) -> None:
        for j in range(each):
            write.create(configmap(f"cm-{i}-{j}", n=str(j)))

    assert run_threads(writers, create_many) == []
    revisions = list(
        Change.objects.filter(revision__gt=start)
        .order_by("revision")
        .values_list("revision", flat=True)
    )
    assert revisions == list(range(start + 1, start + 1 + writers * each))
    assert current_revision() == start + writers * each


def test_concurrent_patches_without_resource_version_all_land():
    """Unconditional patches serialise on the row lock: none is lost."""
    write.create(configmap("counter", value="0"))

    def add_label(i: int) -> None:
        write.patch("configmaps", "default", "counter", {"metadata": {"labels": {f"w{i}": "x"}}})

    assert run_threads(4, add_label) == []
    labels = read.get("configmaps", "default", "counter")["metadata"]["labels"]
    assert labels == {f"w{i}": "x" for i in range(4)}
    assert connection.vendor in ("sqlite", "postgresql")
