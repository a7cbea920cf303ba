"""From committed changes to control-plane work: who must look at what.

Subscribed to the store's post-commit hook. For each change it works out which controllers
care (a pod's owner, the Services selecting it, its node's kubelet, the scheduler when it is
unbound, the garbage collector when something is deleted...) and enqueues their reconcile tasks
*by key*. A key already waiting in the queue is not enqueued again (a Redis ``SET NX`` marker,
cleared when the task starts), so a burst of changes to one object costs one reconcile.

Work due later in simulated time goes to the ``Timer`` table instead (``defer``); the clock's
tick enqueues it when it comes due, so a paused clock holds it back.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import redis
from django.conf import settings

from cluster.models import Timer
from cluster.store import notify

logger = logging.getLogger(__name__)

OWNED_KINDS = {"ReplicaSet", "StatefulSet", "DaemonSet"}
SCHEDULER = "default-scheduler"  # the actor of the scheduler's writes
OWN_CONTROLLER = {"ReplicaSet": "replicaset-controller", "Deployment": "deployment-controller"}
SELF_RECONCILED = {"ReplicaSet", "Deployment", "StatefulSet", "DaemonSet"}
# How long a "queued" marker lives. It must outlast the wait in a busy queue: once it expires,
# the same key is queued again behind itself, and a backlog feeds on its own duplicates. A task
# taken by a worker that dies is handed out again by the broker (acks_late, visibility timeout)
# and clears its marker when it starts; only a message lost with Redis itself leaves a marker
# without a task, and the resync queues that key again once the marker has gone.
MARKER_SECONDS = 120


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def _marker(name: str, args: tuple[str, ...]) -> str:
    return "kubarium:queued:" + "|".join((name, *args))


def _lock_key(key: str) -> str:
    """The lock of one key of work (``exclusive``, ``take_nodes``)."""
    return f"kubarium:lock:{key}"


def _again_key(key: str) -> str:
    """The note that a key was wanted while its lock was held."""
    return f"kubarium:again:{key}"


# The kubelets' work queue: the nodes due for a sync, a Redis set. ``KUBELET_TASKS`` tasks
# ("kubelets", queue ``kubelets``) take up to ``tasks.KUBELET_BATCH`` of them at a time and sync
# them together (``cluster.kubelet.runner.sync_nodes``): a thousand nodes each needing a sync
# are a few dozen tasks, not a thousand.
KUBELETS_DUE = "kubarium:kubelets:due"
KUBELET_TASKS = 2
LOCK_SECONDS = 30


def enqueue(name: str, *args: str) -> None:
    """Queue task ``name`` (see ``cluster.tasks.TASKS``) for ``args`` unless already queued."""
    enqueue_many([(name, args)])


def enqueue_many(work: Iterable[tuple[str, Sequence[str]]]) -> int:
    """Queue each ``(name, args)`` of ``work`` unless already queued; returns how many went.

    The "queued" markers of the whole list are set in one Redis round trip (a pipeline), so a
    tick releasing hundreds of timers or a resync of every object costs one round trip plus the
    messages themselves.
    """
    from cluster import tasks

    items = [(name, tuple(args)) for name, args in work]
    if not items:
        return 0
    for name, _args in items:
        tasks.TASKS[name]  # an unknown task name fails here, before anything is queued
    nodes = [args[0] for name, args in items if name == "kubelet_sync"]
    items = [(name, args) for name, args in items if name != "kubelet_sync"]
    if nodes:  # into the kubelets' set, and their tasks queued unless they already are
        items += [("kubelets", (str(i),)) for i in range(KUBELET_TASKS)]
    try:
        pipe = _redis().pipeline(transaction=False)
        if nodes:
            pipe.sadd(KUBELETS_DUE, *nodes)
        for name, args in items:
            pipe.set(_marker(name, args), 1, nx=True, ex=MARKER_SECONDS)
        fresh = pipe.execute()
        added = fresh.pop(0) if nodes else 0
        sent = 0
        for (name, args), marked in zip(items, fresh, strict=True):
            if marked:
                tasks.TASKS[name].apply_async(args=list(args))  # routed by CELERY_TASK_ROUTES
                sent += name != "kubelets"
        return sent + added
    except redis.RedisError as error:  # the periodic resync heals what is lost here
        logger.warning("could not enqueue %d tasks (%s...): %s", len(items), items[0][0], error)
        return 0


def started(name: str, *args: str) -> None:
    """Called by a task as it starts: changes from now on must enqueue it again."""
    try:
        _redis().delete(_marker(name, args))
    except redis.RedisError:
        pass


@contextlib.contextmanager
def exclusive(name: str, seconds: int = 30) -> Iterator[bool]:
    """Hold the cluster-wide lock ``name`` (a leader election of one run); yields whether this
    caller got it. A caller that did not is remembered, so the holder runs once more after."""
    client = _redis()
    lock = _lock_key(name)
    token = uuid.uuid4().hex
    got = bool(client.set(lock, token, nx=True, ex=seconds))
    if not got:
        client.set(_again_key(name), 1, ex=seconds)
    try:
        yield got
    finally:
        if got and client.get(lock) == token.encode():
            client.delete(lock)


def take_nodes(limit: int) -> tuple[list[str], str]:
    """Up to ``limit`` nodes due for a kubelet sync, each locked for this caller as
    ``exclusive("kubelet_sync|<node>")`` would (a node is never synced by two at once); a node
    locked by someone else is left to them, with a note to sync it once more. Returns the nodes
    and the token to ``release_nodes`` with."""
    client = _redis()
    popped = sorted(node.decode() for node in client.spop(KUBELETS_DUE, limit) or [])
    token = uuid.uuid4().hex
    if not popped:
        return [], token
    pipe = client.pipeline(transaction=False)
    for node in popped:
        pipe.set(_lock_key(f"kubelet_sync|{node}"), token, nx=True, ex=LOCK_SECONDS)
    got = pipe.execute()
    busy = [node for node, mine in zip(popped, got, strict=True) if not mine]
    for node in busy:
        pipe.set(_again_key(f"kubelet_sync|{node}"), 1, ex=LOCK_SECONDS)
    pipe.execute()
    return [node for node, mine in zip(popped, got, strict=True) if mine], token


def release_nodes(nodes: Sequence[str], token: str, *, again: bool = False) -> None:
    """Unlock ``nodes`` taken with ``token``; those wanted meanwhile (or all, ``again``) go
    back into the kubelets' set."""
    if not nodes:
        return
    client = _redis()
    pipe = client.pipeline(transaction=False)
    for node in nodes:
        pipe.get(_lock_key(f"kubelet_sync|{node}"))
        pipe.getdel(_again_key(f"kubelet_sync|{node}"))
    answers = pipe.execute()
    for node, holder in zip(nodes, answers[::2], strict=True):
        if holder == token.encode():
            pipe.delete(_lock_key(f"kubelet_sync|{node}"))
    pipe.execute()
    wanted = [n for n, asked in zip(nodes, answers[1::2], strict=True) if again or asked]
    if wanted:
        enqueue_many([("kubelet_sync", (node,)) for node in wanted])


def nodes_due() -> int:
    """How many nodes wait for a kubelet sync."""
    return int(_redis().scard(KUBELETS_DUE))


def asked_again(name: str) -> bool:
    """Whether someone wanted ``name`` while the lock was held (and forget that they did)."""
    return bool(_redis().getdel(_again_key(name)))


def defer(due: float, name: str, *args: str) -> None:
    """Run task ``name`` for ``args`` at simulated time ``due`` (the earliest asked wins)."""
    key = "|".join((name, *args))
    updated = Timer.objects.filter(key=key, due__gt=due).update(due=due)
    if not updated:
        Timer.objects.get_or_create(key=key, defaults={"due": due})


def defer_many(work: Iterable[tuple[float, str, Sequence[str]]]) -> None:
    """``defer`` for many ``(due, name, args)`` at once: a read and a write or two in all."""
    wanted: dict[str, float] = {}
    for due, name, args in work:
        key = "|".join((name, *args))
        wanted[key] = min(due, wanted.get(key, due))
    if not wanted:
        return
    existing = dict(Timer.objects.filter(key__in=list(wanted)).values_list("key", "due"))
    Timer.objects.bulk_create(
        [Timer(key=key, due=due) for key, due in wanted.items() if key not in existing],
        ignore_conflicts=True,
    )
    for key, due in wanted.items():
        if key in existing and due < existing[key]:
            Timer.objects.filter(key=key, due__gt=due).update(due=due)


def split_timer_key(key: str) -> tuple[str, tuple[str, ...]]:
    name, *args = key.split("|")
    return name, tuple(args)


# --- what a change means ---------------------------------------------------------------------


ServiceLookup = Callable[[str, dict], list[str]]


def work_for(
    changed: notify.Changed, services: ServiceLookup | None = None
) -> list[tuple[str, ...]]:
    """The (task, *args) tuples a change calls for. Pure but for ``services`` (the Services of
    a namespace selecting some labels: one query per namespace of a commit, ``_Services``)."""
    obj: dict[str, Any] = changed.object
    meta = obj.get("metadata") or {}
    namespace, name, kind = changed.namespace, changed.name, changed.kind
    work: list[tuple[str, ...]] = []
    controller = next(
        (
            r
            for r in meta.get("ownerReferences") or []
            if isinstance(r, dict) and r.get("controller")
        ),
        None,
    )
    if kind in SELF_RECONCILED and not _caught_up(changed, obj):
        work.append(("reconcile", kind, namespace, name))
    scheduled = _written_by_the_scheduler(changed)
    if controller and controller.get("kind") in OWNED_KINDS | {"Deployment"}:
        if not (scheduled and controller.get("kind") == "ReplicaSet"):
            work.append(("reconcile", controller["kind"], namespace, controller.get("name", "")))
    if changed.type == "DELETED" or (meta.get("deletionTimestamp") and meta.get("finalizers")):
        work.append(("garbage_collect", changed.uid))
    if changed.type == "DELETED" and controller and controller.get("uid"):
        # An owner waiting in foreground deletion may now be free to go.
        work.append(("garbage_collect", str(controller["uid"])))
    if kind == "Pod":
        work.extend(_pod_work(changed, obj, services or _Services(), scheduled))
    elif kind == "Service":
        work.append(("reconcile", "Endpoints", namespace, name))
        if (obj.get("spec") or {}).get("type") == "LoadBalancer" or changed.type == "DELETED":
            work.append(("cloud_sync",))
    elif kind == "Node":
        work.append(("daemonsets_sync",))
        work.append(("schedule",))
        if changed.actor not in ("kubelet",):
            work.append(("kubelet_sync", name))
    elif kind == "Namespace" and meta.get("deletionTimestamp"):
        work.append(("namespace_sync", name))
    elif kind in ("PersistentVolumeClaim", "PersistentVolume", "StorageClass"):
        work.append(("pv_bind",))
    elif kind == "HorizontalPodAutoscaler" and changed.type != "DELETED":
        work.append(("reconcile", kind, namespace, name))
    return work


def _caught_up(changed: notify.Changed, obj: dict[str, Any]) -> bool:
    """A ReplicaSet or Deployment written by its own controller, whose status says it has seen
    the current spec (``observedGeneration == generation``): the controller wrote what it
    concluded from the state it read, so looking again at once finds nothing to do; anything
    that changes since (a pod, the spec, an owned ReplicaSet) wakes it by itself. Half of the
    controllers' work in a large rollout was these second looks."""
    own = OWN_CONTROLLER.get(changed.kind)
    if own is None or changed.actor != own or changed.type != "MODIFIED":
        return False
    generation = (obj.get("metadata") or {}).get("generation")
    return (
        generation is not None and (obj.get("status") or {}).get("observedGeneration") == generation
    )


def _written_by_the_scheduler(changed: notify.Changed) -> bool:
    """A pod's binding (or its ``PodScheduled=False``) written by the scheduler: nothing a
    ReplicaSet counts (replicas, ready, available) nor an Endpoints address (a pod has one once
    its kubelet reports an IP) changes with it, so neither is woken for it; a burst of bindings
    kept the controllers' queue full of reconciles that found nothing to do. (A DaemonSet counts
    pods per node: it still hears of bindings.)"""
    return changed.kind == "Pod" and changed.type == "MODIFIED" and changed.actor == SCHEDULER


class _Services:
    """The names of a namespace's Services selecting some labels, for the changes of one commit:
    each namespace's Services are read once (a kubelet's sync or a ReplicaSet's batch of a
    hundred pods was a query per pod)."""

    def __init__(self) -> None:
        self.selectors: dict[str, list[tuple[str, dict]]] = {}

    def __call__(self, namespace: str, labels: dict) -> list[str]:
        from cluster.controllers.reconcile import service_selectors

        if namespace not in self.selectors:
            self.selectors[namespace] = service_selectors(namespace)
        return [
            name
            for name, selector in self.selectors[namespace]
            if all(labels.get(k) == v for k, v in selector.items())
        ]


def _pod_work(
    changed: notify.Changed, pod: dict[str, Any], services: ServiceLookup, scheduled: bool
) -> list[tuple[str, ...]]:
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    work: list[tuple[str, ...]] = []
    labels = meta.get("labels") or {}
    for service in [] if scheduled else services(changed.namespace, labels):
        work.append(("reconcile", "Endpoints", changed.namespace, service))
    node = spec.get("nodeName")
    if not node:
        if changed.type != "DELETED" and not meta.get("deletionTimestamp"):
            work.append(("schedule",))
    else:
        if changed.actor != "kubelet" and changed.type != "DELETED":
            work.append(("kubelet_sync", node))
        if changed.type == "DELETED":
            work.append(("schedule",))  # capacity was freed: a pending pod may fit now
    if (
        any(
            v.get("persistentVolumeClaim") for v in spec.get("volumes") or [] if isinstance(v, dict)
        )
        and changed.type == "ADDED"
    ):
        work.append(("pv_bind",))
    return work


def on_changes(changes: Sequence[notify.Changed]) -> None:
    """The store's subscriber: the work of one commit's changes, queued in one round trip."""
    services = _Services()
    work: dict[tuple[str, tuple[str, ...]], None] = {}  # ordered, without repeats
    for changed in changes:
        for name, *args in work_for(changed, services):
            work[(name, tuple(args))] = None
    enqueue_many(work)


def on_change(changed: notify.Changed) -> None:
    on_changes([changed])


def connect() -> None:
    """Subscribe the dispatcher (done at start-up unless the control plane is switched off)."""
    if settings.KUBARIUM.get("CONTROL_PLANE", True):
        notify.subscribe_many(on_changes)


def disconnect() -> None:
    notify.unsubscribe_many(on_changes)
