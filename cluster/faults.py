"""Switching control-plane components off and on: the failure palette's cluster-wide switches.

A real cluster can lose its kube-scheduler (pods stay Pending) or its kube-controller-manager
(nothing heals: a deleted pod is not replaced, a dead node is not noticed). Kubarium's switches
are one persisted row (``ControllerMemory`` key ``faults:components``, shared by every process),
checked by the Celery tasks of the component before they do any work:

- a task of a stopped component does nothing; it *holds* its key instead, as a ``Timer`` due at
  ``HELD_DUE`` (never, for the clock's tick), so the work it was asked for is not forgotten;
- the tick holds the stopped components' work the same way (``running_work``): the periodic
  resync and the node monitor do not heal around a stopped controller-manager;
- starting the component again releases its held keys (due now: the next tick enqueues them) and
  enqueues a resync of everything it owns, so it catches up as a restarted component does.

Which task belongs to which component is ``TASK_COMPONENTS``; the kubelet and the clock's tick
belong to none (stopping a node's kubelet is ``cluster.kubelet.runner.stop_kubelet``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from cluster import clock
from cluster.models import ControllerMemory, Timer
from cluster.store import events

SCHEDULER = "kube-scheduler"
CONTROLLER_MANAGER = "kube-controller-manager"
CLOUD_CONTROLLER_MANAGER = "cloud-controller-manager"
COMPONENTS = (SCHEDULER, CONTROLLER_MANAGER, CLOUD_CONTROLLER_MANAGER)
MEMORY_KEY = "faults:components"
# Far beyond any simulated time a cluster reaches (31 million years): a held key never comes due.
HELD_DUE = 1e15

TASK_COMPONENTS = {
    "schedule": SCHEDULER,
    "reconcile": CONTROLLER_MANAGER,
    "node_lifecycle": CONTROLLER_MANAGER,
    "garbage_collect": CONTROLLER_MANAGER,
    "namespace_sync": CONTROLLER_MANAGER,
    "pv_bind": CONTROLLER_MANAGER,
    "daemonsets_sync": CONTROLLER_MANAGER,
    "cloud_sync": CLOUD_CONTROLLER_MANAGER,
}

REASON_STOPPED = "ComponentStopped"
REASON_STARTED = "ComponentStarted"


class UnknownComponent(ValueError):
    pass


def stopped() -> dict[str, dict[str, Any]]:
    """The stopped components: ``{component: {"by": actor, "at": simulated ISO time}}``.

    One primary-key read, uncached: a switch thrown in the dashboard holds from the very next
    task in every worker."""
    row = ControllerMemory.objects.filter(key=MEMORY_KEY).values_list("data", flat=True).first()
    return {k: v for k, v in (row or {}).items() if k in COMPONENTS and isinstance(v, dict)}


def running(component: str) -> bool:
    return component not in stopped()


def hold_if_stopped(task: str, *args: str) -> bool:
    """Called by a task before it works: True (and its key held) when its component is stopped."""
    component = TASK_COMPONENTS.get(task)
    if component is None or running(component):
        return False
    key = "|".join((task, *args))
    updated = Timer.objects.filter(key=key, due__gt=HELD_DUE).update(due=HELD_DUE)
    if not updated:
        Timer.objects.get_or_create(key=key, defaults={"due": HELD_DUE})
    return True


def running_work(
    work: list[tuple[str, tuple[str, ...]]], down: dict[str, Any] | None = None
) -> list[tuple[str, tuple[str, ...]]]:
    """``work`` without the tasks of stopped components, which are held instead (for the tick:
    its timers, node monitor and resync do not heal around a stopped component, and nothing
    they asked for is lost). One statement for the held keys, however many."""
    down = stopped() if down is None else down
    if not down:
        return work
    keep, held = [], {}
    for name, args in work:
        if TASK_COMPONENTS.get(name) in down:
            key = "|".join((name, *args))
            held[key] = Timer(key=key, due=HELD_DUE)
        else:
            keep.append((name, args))
    # A key with a timer already (held, or due earlier) keeps it.
    Timer.objects.bulk_create(list(held.values()), ignore_conflicts=True, batch_size=500)
    return keep


def _component_reference(component: str) -> dict[str, str]:
    """What the component's events are about: the ``kube-system`` Namespace, where the control
    plane's components live (a real cluster would name the component's leader-election Lease,
    a kind Kubarium does not serve). As for any cluster-scoped object, the Event itself lives in
    ``default``; its message names the component."""
    from cluster.store import read
    from cluster.store.errors import NotFound

    try:
        return events.involved_object(read.get("Namespace", "", "kube-system"))
    except NotFound:
        return {"apiVersion": "v1", "kind": "Namespace", "name": "kube-system"}


def stop(component: str, *, actor: str) -> bool:
    """Stop ``component``; False when it was already stopped. Leaves a Warning event naming
    ``actor``."""
    if component not in COMPONENTS:
        raise UnknownComponent(component)
    with transaction.atomic():
        row, _ = ControllerMemory.objects.select_for_update().get_or_create(key=MEMORY_KEY)
        data = dict(row.data or {})
        if component in data:
            return False
        data[component] = {"by": actor, "at": clock.now_datetime().isoformat()}
        row.data = data
        row.save(update_fields=["data"])
        events.record_reference(
            _component_reference(component),
            REASON_STOPPED,
            f"{component} was stopped by {actor}",
            type="Warning",
            component=actor,
        )
    return True


def start(component: str, *, actor: str) -> bool:
    """Start ``component`` again; False when it was running. Its held work comes due at once
    and everything it owns is resynced, so it catches up."""
    from cluster import controlplane, dispatch

    if component not in COMPONENTS:
        raise UnknownComponent(component)
    with transaction.atomic():
        row = ControllerMemory.objects.select_for_update().filter(key=MEMORY_KEY).first()
        data = dict((row.data if row else None) or {})
        if component not in data:
            return False
        del data[component]
        row.data = data
        row.save(update_fields=["data"])
        now = clock.now()
        mine = [t for t, c in TASK_COMPONENTS.items() if c == component]
        held = Timer.objects.filter(due__gte=HELD_DUE)
        keys = [k for k in held.values_list("key", flat=True) if k.split("|", 1)[0] in mine]
        Timer.objects.filter(key__in=keys).update(due=now)
        events.record_reference(
            _component_reference(component),
            REASON_STARTED,
            f"{component} was started again by {actor}",
            component=actor,
        )
        work = [
            (n, a) for n, a in controlplane.resync_keys() if TASK_COMPONENTS.get(n) == component
        ]
        transaction.on_commit(lambda: dispatch.enqueue_many(work))
    return True
