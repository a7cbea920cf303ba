"""The control plane's heartbeat: the clock's tick, timers, and the periodic resync.

``tick()`` runs from Celery beat every half second of wall time. While the clock runs it:

1. records a heartbeat (the node's Lease) for every node whose kubelet is running, in one
   statement;
2. hands nodes whose heartbeat is older than the grace period to the node lifecycle controller,
   and nodes that recovered too;
3. enqueues the timers that have come due in simulated time (a kubelet's next transition, a
   controller's requeue);
4. every ``RESYNC_SECONDS`` of simulated time, enqueues every controller for every object it
   owns, so anything a lost message missed is healed (level-driven controllers make this safe).

A paused clock does none of it: the cluster's own progress freezes, while API writes still land
and their reconciles still run.
"""

from __future__ import annotations

from django.db.models import Q

from cluster import clock, dispatch
from cluster.kubelet.runner import KUBELET_STOPPED
from cluster.models import (
    DaemonSet,
    Deployment,
    HorizontalPodAutoscaler,
    Namespace,
    Node,
    NodeHeartbeat,
    Pod,
    ReplicaSet,
    Service,
    StatefulSet,
    Timer,
)

RESYNC_SECONDS = 30.0
NODE_MONITOR_GRACE_SECONDS = 40.0
RESYNC_KEY = "resync"


def running_kubelets() -> list[str]:
    names = []
    for name, notes in Node.objects.values_list("name", "annotations"):
        if (notes or {}).get(KUBELET_STOPPED) != "true":
            names.append(name)
    return names


def tick() -> dict[str, int]:
    """One tick of the control plane; returns what it did (for logs and tests)."""
    state = clock.state()
    if state.paused:
        return {"paused": 1}
    now = clock.now(state)
    done = {"heartbeats": 0, "lifecycle": 0, "timers": 0, "resync": 0}

    running = running_kubelets()
    done["heartbeats"] = NodeHeartbeat.objects.filter(node_name__in=running).update(sim_time=now)
    known = set(
        NodeHeartbeat.objects.filter(node_name__in=running).values_list("node_name", flat=True)
    )
    for name in set(running) - known:
        NodeHeartbeat.objects.get_or_create(node_name=name, defaults={"sim_time": now})
        dispatch.enqueue("kubelet_sync", name)

    stale = set(
        NodeHeartbeat.objects.filter(sim_time__lt=now - NODE_MONITOR_GRACE_SECONDS).values_list(
            "node_name", flat=True
        )
    )
    unhealthy = set(Node.objects.filter(~Q(ready="True")).values_list("name", flat=True))
    for name in stale | (unhealthy & set(running)):
        dispatch.enqueue("node_lifecycle", name)
        done["lifecycle"] += 1

    due = list(Timer.objects.filter(due__lte=now).values_list("key", flat=True))
    if due:
        Timer.objects.filter(key__in=due, due__lte=now).delete()
    for key in due:
        if key == RESYNC_KEY:
            done["resync"] = resync()
            dispatch.defer(now + RESYNC_SECONDS, RESYNC_KEY)
            continue
        name, args = dispatch.split_timer_key(key)
        dispatch.enqueue(name, *args)
        done["timers"] += 1
    if not Timer.objects.filter(key=RESYNC_KEY).exists():
        dispatch.defer(now + RESYNC_SECONDS, RESYNC_KEY)
    return done


def resync() -> int:
    """Enqueue every controller for every object it manages; returns how many keys."""
    count = 0
    for model in (Deployment, ReplicaSet, StatefulSet, DaemonSet, HorizontalPodAutoscaler):
        for namespace, name in model.objects.values_list("namespace", "name"):
            dispatch.enqueue("reconcile", model.__name__, namespace, name)
            count += 1
    for namespace, name in Service.objects.values_list("namespace", "name"):
        dispatch.enqueue("reconcile", "Endpoints", namespace, name)
        count += 1
    for name in Pod.objects.exclude(node_name="").values_list("node_name", flat=True).distinct():
        dispatch.enqueue("kubelet_sync", name)
        count += 1
    for name in Namespace.objects.filter(deletion_timestamp__isnull=False).values_list(
        "name", flat=True
    ):
        dispatch.enqueue("namespace_sync", name)
        count += 1
    for task in ("schedule", "pv_bind", "cloud_sync"):
        dispatch.enqueue(task)
        count += 1
    return count
