"""Celery tasks of Kubarium's control plane."""

from __future__ import annotations

from celery import shared_task

from cluster.models import Namespace


@shared_task
def ping_store() -> int:
    """How many Namespaces the store holds, as this worker sees it: proves a worker reads the store."""
    return Namespace.objects.count()
