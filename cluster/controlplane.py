"""The control plane's heartbeat: the clock's tick, timers, and the periodic resync.

``tick()`` runs from Celery beat every half second of wall time. While the clock runs it:

1. renews the heartbeat (the node's Lease) of every node whose kubelet is running, in one
   statement, every ``LEASE_RENEW_SECONDS`` (at fast clocks every few real seconds);
2. hands nodes whose heartbeat is older than the grace period to the node lifecycle controller,
   and nodes that recovered too;
3. enqueues the timers that have come due in simulated time (a kubelet's next transition, a
   controller's requeue);
4. every ``RESYNC_SECONDS`` of simulated time (less often in real time on a fast clock or a large
   cluster, ``resync_period``), enqueues every controller for every object it owns, so anything
   a lost message missed is healed (level-driven controllers make this safe).

A paused clock does none of it: the cluster's own progress freezes, while API writes still land
and their reconciles still run.
"""

from __future__ import annotations

from django.db.models import Q

from cluster import clock, dispatch, faults, simclock
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
# However fast the clock runs, a resync at most this often in real seconds.
RESYNC_MIN_WALL_SECONDS = 3.0
RESYNC_WALL_SECONDS_PER_OBJECT = 0.005
NODE_MONITOR_GRACE_SECONDS = 40.0
LEASE_RENEW_SECONDS = 10.0
LEASE_RENEW_MIN_WALL_SECONDS = 2.0
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

    running = set(running_kubelets())
    done["heartbeats"] = NodeHeartbeat.objects.filter(
        node_name__in=running, sim_time__lt=now - lease_renew_period(state)
    ).update(sim_time=now)
    beats = dict(NodeHeartbeat.objects.values_list("node_name", "sim_time"))
    work: list[tuple[str, tuple[str, ...]]] = []
    for name in sorted(running - set(beats)):
        NodeHeartbeat.objects.get_or_create(node_name=name, defaults={"sim_time": now})
        work.append(("kubelet_sync", (name,)))

    # A running kubelet renews its Lease continuously; only a stopped one's heartbeat ages.
    grace_start = now - NODE_MONITOR_GRACE_SECONDS
    stale = {name for name, beat in beats.items() if beat < grace_start} - running
    unhealthy = set(Node.objects.filter(~Q(ready="True")).values_list("name", flat=True))
    for name in sorted(stale | (unhealthy & running)):
        work.append(("node_lifecycle", (name,)))
        done["lifecycle"] += 1

    due = list(Timer.objects.filter(due__lte=now).values_list("key", flat=True))
    if due:
        Timer.objects.filter(key__in=due, due__lte=now).delete()
    if RESYNC_KEY not in due and not Timer.objects.filter(key=RESYNC_KEY).exists():
        # No resync planned: the control plane's first tick on this database (a new cluster,
        # or objects loaded while no worker ran, as `make demo` seeds them). Controllers list
        # everything when they start; so does this, rather than a resync period later.
        due.append(RESYNC_KEY)
    for key in due:
        if key == RESYNC_KEY:
            resync_work = resync_keys()
            work += resync_work
            done["resync"] = len(resync_work)
            objects = len(resync_work) + Pod.objects.count()
            dispatch.defer(now + resync_period(state, objects), RESYNC_KEY)
            continue
        work.append(dispatch.split_timer_key(key))
        done["timers"] += 1
    # A stopped component's work waits for it (cluster.faults): nothing heals around it.
    dispatch.enqueue_many(faults.running_work(work))
    return done


def lease_renew_period(state) -> float:
    """Simulated seconds between two records of a running kubelet's heartbeat: the Lease's
    ``LEASE_RENEW_SECONDS``, but at most every ``LEASE_RENEW_MIN_WALL_SECONDS`` of real time
    (at 1000x, renewing every node's Lease at every tick was a thousand row writes twice a
    second). While the kubelet runs, the node lifecycle controller counts it as alive whatever
    the record says; the record matters once the kubelet stops: its last renewal is where the
    grace period starts (``runner.stop_kubelet`` renews it at the moment it stops)."""
    return simclock.period(state, LEASE_RENEW_SECONDS, LEASE_RENEW_MIN_WALL_SECONDS)


def resync_period(state, objects: int = 0) -> float:
    """Simulated seconds to the next resync: ``RESYNC_SECONDS``, but never more often than
    every ``RESYNC_MIN_WALL_SECONDS`` of real time, nor than ``RESYNC_WALL_SECONDS_PER_OBJECT``
    per object the last one looked at (``objects``: its keys plus the pods their controllers
    and kubelets read). A resync is a safety net for lost messages, not a behaviour; at high
    clock speeds one every 30 simulated seconds would be several a second, each queueing every
    object of the cluster, and on a large cluster (10,000 pods: once every 50 s) it would take
    most of the control plane's time."""
    wall = max(RESYNC_MIN_WALL_SECONDS, objects * RESYNC_WALL_SECONDS_PER_OBJECT)
    return simclock.period(state, RESYNC_SECONDS, wall)


def resync_keys() -> list[tuple[str, tuple[str, ...]]]:
    """Every controller's key for every object it manages, and the cluster-wide tasks."""
    keys: list[tuple[str, tuple[str, ...]]] = []
    for model in (Deployment, ReplicaSet, StatefulSet, DaemonSet, HorizontalPodAutoscaler):
        for namespace, name in model.objects.values_list("namespace", "name"):
            keys.append(("reconcile", (model.__name__, namespace, name)))
    for namespace, name in Service.objects.values_list("namespace", "name"):
        keys.append(("reconcile", ("Endpoints", namespace, name)))
    for name in Pod.objects.exclude(node_name="").values_list("node_name", flat=True).distinct():
        keys.append(("kubelet_sync", (name,)))
    for name in Namespace.objects.filter(deletion_timestamp__isnull=False).values_list(
        "name", flat=True
    ):
        keys.append(("namespace_sync", (name,)))
    for task in ("schedule", "pv_bind", "cloud_sync"):
        keys.append((task, ()))
    return keys
