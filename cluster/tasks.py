"""Celery tasks of Kubarium's control plane: thin, idempotent, keyed by ids.

Every task takes names (never model instances), clears its "queued" marker as it starts (so a
change made while it runs queues it again), does its work through the plain functions of the
control plane, and defers itself in simulated time when it asked to look again later. They are
``acks_late``: a worker killed mid-task leaves the message to be redelivered, and running a task
twice is harmless because every controller reads the level and writes only the difference.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from redis import RedisError

from cluster import clock, controlplane, dispatch
from cluster.controllers import reconcile as controllers
from cluster.kubelet.runner import sync_node
from cluster.models import DaemonSet, Namespace
from cluster.scheduler.runner import schedule_pending

# Transient failures (a locked SQLite file, a Redis hiccup) are retried a bounded number of
# times with back-off; anything else is a bug to see in the log, and the resync heals the key.
OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "autoretry_for": (OperationalError, RedisError),
    "retry_backoff": 0.5,
    "max_retries": 3,
}
# A cycle must end well within the scheduler lock's lifetime (dispatch.exclusive: 30 s).
SCHEDULE_LIMIT = 500


def _requeue(delay: float | None, name: str, *args: str) -> None:
    if delay is not None:
        dispatch.defer(clock.now() + delay, name, *args)


@shared_task(name="kubarium.reconcile", **OPTIONS)
def reconcile(controller: str, namespace: str, name: str) -> None:
    """Run one controller (Deployment, ReplicaSet, Endpoints, ...) for one object."""
    dispatch.started("reconcile", controller, namespace, name)
    _requeue(
        controllers.reconcile(controller, namespace, name), "reconcile", controller, namespace, name
    )


@shared_task(name="kubarium.schedule", **OPTIONS)
def schedule() -> int:
    """One scheduling cycle (queue ``scheduler``).

    Only one cycle runs at a time across every worker (a Redis lock), as there is one
    kube-scheduler leader: a cycle asked for while another runs is remembered and run after it.
    """
    dispatch.started("schedule")
    with dispatch.exclusive("scheduler") as leader:
        if not leader:
            return 0
        stats = schedule_pending(SCHEDULE_LIMIT)
    if stats.pending >= SCHEDULE_LIMIT or dispatch.asked_again("scheduler"):
        dispatch.enqueue("schedule")
    return stats.bound


@shared_task(name="kubarium.kubelet_sync", **OPTIONS)
def kubelet_sync(node: str) -> None:
    """A kubelet's sync loop for one node."""
    dispatch.started("kubelet_sync", node)
    wake = sync_node(node)
    if wake is not None:
        dispatch.defer(wake, "kubelet_sync", node)


@shared_task(name="kubarium.node_lifecycle", **OPTIONS)
def node_lifecycle(node: str) -> None:
    dispatch.started("node_lifecycle", node)
    _requeue(controllers.reconcile_node_lifecycle(node), "node_lifecycle", node)


@shared_task(name="kubarium.garbage_collect", **OPTIONS)
def garbage_collect(owner_uid: str) -> None:
    dispatch.started("garbage_collect", owner_uid)
    _requeue(controllers.reconcile_garbage(owner_uid), "garbage_collect", owner_uid)


@shared_task(name="kubarium.namespace_sync", **OPTIONS)
def namespace_sync(name: str) -> None:
    dispatch.started("namespace_sync", name)
    _requeue(controllers.reconcile_namespace(name), "namespace_sync", name)


@shared_task(name="kubarium.pv_bind", **OPTIONS)
def pv_bind() -> None:
    dispatch.started("pv_bind")
    _requeue(controllers.reconcile_volumes(), "pv_bind")


@shared_task(name="kubarium.cloud_sync", **OPTIONS)
def cloud_sync() -> None:
    dispatch.started("cloud_sync")
    controllers.reconcile_cloud()


@shared_task(name="kubarium.daemonsets_sync", **OPTIONS)
def daemonsets_sync() -> None:
    """Nodes came or went: every DaemonSet looks again."""
    dispatch.started("daemonsets_sync")
    for namespace, name in DaemonSet.objects.values_list("namespace", "name"):
        dispatch.enqueue("reconcile", "DaemonSet", namespace, name)


@shared_task(name="kubarium.tick", ignore_result=True, expires=2)
def tick() -> dict:
    """The clock's tick (Celery beat, twice a second)."""
    return controlplane.tick()


@shared_task(name="kubarium.ping_store")
def ping_store() -> int:
    """How many Namespaces the store holds, as this worker sees it: proves a worker reads it."""
    return Namespace.objects.count()


TASKS = {
    "reconcile": reconcile,
    "schedule": schedule,
    "kubelet_sync": kubelet_sync,
    "node_lifecycle": node_lifecycle,
    "garbage_collect": garbage_collect,
    "namespace_sync": namespace_sync,
    "pv_bind": pv_bind,
    "cloud_sync": cloud_sync,
    "daemonsets_sync": daemonsets_sync,
}
