"""A real Celery worker process reads the same store as the tests (no eager mode)."""

from __future__ import annotations

import pytest

from cluster.models import Namespace
from cluster.store import write
from cluster.tasks import ping_store


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "names",
    [
        pytest.param([], id="no new namespaces"),
        pytest.param(["team-a", "team-b", "team-c"], id="three new namespaces"),
    ],
)
def test_ping_store_counts_namespaces_in_a_real_worker(celery_worker_process, names):
    """ping_store, run by a separate worker process, counts the namespaces the test committed."""
    before = Namespace.objects.count()
    for name in names:
        write.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    result = ping_store.delay()

    assert not ping_store.app.conf.task_always_eager
    assert result.get(timeout=30) == before + len(names)
    assert celery_worker_process.child.returncode is None
