"""Celery tasks of Kubarium's control plane: thin, idempotent, keyed by ids.

Every task takes names (never model instances), clears its "queued" marker as it starts (so a
change made while it runs queues it again), does its work through the plain functions of the
control plane, and defers itself in simulated time when it asked to look again later. They are
``acks_late``: a worker killed mid-task leaves the message to be redelivered, and running a task
twice is harmless because every controller reads the level and writes only the difference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from celery import shared_task
from django.db import OperationalError
from redis import RedisError

from cluster import clock, controlplane, dispatch, faults
from cluster.controllers import reconcile as controllers
from cluster.kubelet.runner import sync_node, sync_nodes
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
T = TypeVar("T")
# A cycle must end well within the scheduler lock's lifetime (dispatch.exclusive: 30 s).
SCHEDULE_LIMIT = 500
# Nodes one kubelets task syncs together (one transaction), and at most in one run.
KUBELET_BATCH = 25
KUBELET_TASK_NODES = 500


def _requeue(delay: float | None, name: str, *args: str) -> None:
    if delay is not None:
        dispatch.defer(clock.now() + delay, name, *args)


def _one_at_a_time(name: str, *args: str, work: Callable[[], T]) -> T | None:
    """Run ``work`` for this key unless another worker is running it right now.

    Kubernetes' work queues never hand one key to two workers at once: two reconciles of the
    same Deployment reading the same state would both act on it (and overshoot maxSurge, say).
    A caller that finds the key busy leaves a note, and the running one goes again after.
    """
    dispatch.started(name, *args)
    if faults.hold_if_stopped(name, *args):  # its component is stopped: keep the key for later
        return None
    key = "|".join((name, *args))
    with dispatch.exclusive(key) as mine:
        if not mine:
            return None
        result = work()
    if dispatch.asked_again(key):
        dispatch.enqueue(name, *args)
    return result


@shared_task(name="kubarium.reconcile", **OPTIONS)
def reconcile(controller: str, namespace: str, name: str) -> None:
    """Run one controller (Deployment, ReplicaSet, Endpoints, ...) for one object."""
    delay = _one_at_a_time(
        "reconcile",
        controller,
        namespace,
        name,
        work=lambda: controllers.reconcile(controller, namespace, name),
    )
    _requeue(delay, "reconcile", controller, namespace, name)


@shared_task(name="kubarium.schedule", **OPTIONS)
def schedule() -> int:
    """One scheduling cycle (queue ``scheduler``).

    Only one cycle runs at a time across every worker (a Redis lock), as there is one
    kube-scheduler leader: a cycle asked for while another runs is remembered and run after it.
    """
    dispatch.started("schedule")
    if faults.hold_if_stopped("schedule"):  # kube-scheduler is stopped: pods stay Pending
        return 0
    with dispatch.exclusive("scheduler") as leader:
        if not leader:
            return 0
        # Stopped in the middle of a cycle: bind nothing more from then on.
        stats = schedule_pending(SCHEDULE_LIMIT, may_bind=lambda: faults.running(faults.SCHEDULER))
    if stats.halted:
        faults.hold_if_stopped("schedule")  # the rest waits for the scheduler's return
        return stats.bound
    if stats.pending >= SCHEDULE_LIMIT or dispatch.asked_again("scheduler"):
        dispatch.enqueue("schedule")
    return stats.bound


@shared_task(name="kubarium.kubelet_sync", **OPTIONS)
def kubelet_sync(node: str) -> None:
    """A kubelet's sync loop for one node, on its own. The dispatcher does not send these: a
    ``("kubelet_sync", node)`` it is asked for makes the node due, and the ``kubelets`` tasks
    sync the due nodes in batches; this one stays for a sync asked by hand."""
    wake = _one_at_a_time("kubelet_sync", node, work=lambda: sync_node(node))
    if wake is not None:
        dispatch.defer(wake, "kubelet_sync", node)


@shared_task(name="kubarium.kubelets", **OPTIONS)
def kubelets(worker: str) -> int:
    """The kubelets of the nodes due for a sync (``dispatch.take_nodes``), up to
    ``KUBELET_BATCH`` at a time, synced together; goes on while nodes are due. ``worker`` tells
    the ``dispatch.KUBELET_TASKS`` copies of this task apart. Returns how many nodes it synced."""
    dispatch.started("kubelets", worker)
    synced = 0
    while True:
        nodes, token = dispatch.take_nodes(KUBELET_BATCH)
        if not nodes:
            return synced
        try:
            wakes = sync_nodes(nodes)
            dispatch.defer_many((wake, "kubelet_sync", (node,)) for node, wake in wakes.items())
        except BaseException:
            dispatch.release_nodes(nodes, token, again=True)  # nothing lost: they stay due
            raise
        dispatch.release_nodes(nodes, token)
        synced += len(nodes)
        if synced >= KUBELET_TASK_NODES:  # let the worker breathe (and other messages in)
            if dispatch.nodes_due():
                dispatch.enqueue_many([("kubelets", (worker,))])
            return synced


@shared_task(name="kubarium.node_lifecycle", **OPTIONS)
def node_lifecycle(node: str) -> None:
    delay = _one_at_a_time(
        "node_lifecycle", node, work=lambda: controllers.reconcile_node_lifecycle(node)
    )
    _requeue(delay, "node_lifecycle", node)


@shared_task(name="kubarium.garbage_collect", **OPTIONS)
def garbage_collect(owner_uid: str) -> None:
    delay = _one_at_a_time(
        "garbage_collect", owner_uid, work=lambda: controllers.reconcile_garbage(owner_uid)
    )
    _requeue(delay, "garbage_collect", owner_uid)


@shared_task(name="kubarium.namespace_sync", **OPTIONS)
def namespace_sync(name: str) -> None:
    delay = _one_at_a_time(
        "namespace_sync", name, work=lambda: controllers.reconcile_namespace(name)
    )
    _requeue(delay, "namespace_sync", name)


@shared_task(name="kubarium.pv_bind", **OPTIONS)
def pv_bind() -> None:
    _requeue(_one_at_a_time("pv_bind", work=controllers.reconcile_volumes), "pv_bind")


@shared_task(name="kubarium.cloud_sync", **OPTIONS)
def cloud_sync() -> None:
    _one_at_a_time("cloud_sync", work=controllers.reconcile_cloud)


@shared_task(name="kubarium.daemonsets_sync", **OPTIONS)
def daemonsets_sync() -> None:
    """Nodes came or went: every DaemonSet looks again."""
    dispatch.started("daemonsets_sync")
    if faults.hold_if_stopped("daemonsets_sync"):
        return
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
    "kubelets": kubelets,
    "node_lifecycle": node_lifecycle,
    "garbage_collect": garbage_collect,
    "namespace_sync": namespace_sync,
    "pv_bind": pv_bind,
    "cloud_sync": cloud_sync,
    "daemonsets_sync": daemonsets_sync,
}
