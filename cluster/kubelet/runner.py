"""The kubelet of one node: sync its pods through the pure lifecycle, write what changed.

``sync_node(name)`` is what a kubelet's sync loop does for every pod bound to it: advance each
pod to the current simulated time (``cluster.kubelet.lifecycle.advance_pod``), write the new
status through the write path, record the events at the simulated times they happened, finish
graceful deletions, remember the runtime's private state, and ask to be woken for the next
transition. A node whose kubelet is stopped (``kubarium.io/kubelet-stopped: "true"``) does
nothing: its heartbeats stop and the node lifecycle controller takes over.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from cluster import clock, simclock
from cluster.kubelet.lifecycle import (
    KubeletConfig,
    NodeView,
    PodStep,
    World,
    advance_pod,
    node_heartbeat,
)
from cluster.models import ConfigMap, Node, NodeHeartbeat, Pod, PodRuntime, Secret
from cluster.store import batch, events, kinds, write
from cluster.store.errors import NotFound, StoreError
from cluster.store.objects import to_dict

logger = logging.getLogger(__name__)

KUBELET_STOPPED = "kubarium.io/kubelet-stopped"
UNPULLABLE = "kubarium.io/unpullable-images"  # a node annotation: comma-separated images
# A pod first seen by a sync is taken to have started when it was bound, up to this long ago
# (simulated seconds; at a fast clock, this many real seconds): the kubelet watches its pods,
# and the queue in front of our sync should not delay a pod's simulated start.
ADMISSION_LAG_SECONDS = 1.0
ADMISSION_LAG_MIN_WALL_SECONDS = 1.0
# How often a node with nothing new re-posts its status (nodeStatusReportFrequency), and, however
# fast the clock runs, at most this often in real seconds: the Lease says the kubelet is alive;
# the re-post only refreshes lastHeartbeatTime, and at 1000x it would rewrite every node every
# 0.3 s.
STATUS_REPORT_SECONDS = 300.0
STATUS_REPORT_MIN_WALL_SECONDS = 30.0


def kubelet_running(node: dict[str, Any]) -> bool:
    annotations = (node.get("metadata") or {}).get("annotations") or {}
    return annotations.get(KUBELET_STOPPED) != "true"


def sync_node(name: str) -> float | None:
    """Sync every pod on node ``name``; returns the simulated time of the next wake-up."""
    return sync_nodes([name]).get(name)


def sync_nodes(names: Iterable[str]) -> dict[str, float]:
    """The kubelets of nodes ``names``, each syncing its pods (as ``sync_node`` says), read and
    written together: a handful of queries and one transaction for all of them, where one node
    at a time cost that much per node. Returns each node's next wake-up (nodes without one are
    left out). A node that does not exist or whose kubelet is stopped does nothing."""
    node_kind = kinds.by_kind("Node")
    nodes = {
        row.name: to_dict(row, node_kind)
        for row in Node.objects.filter(name__in=sorted(set(names))).order_by()
    }
    nodes = {name: node for name, node in sorted(nodes.items()) if kubelet_running(node)}
    if not nodes:
        return {}
    state = clock.state()
    now = clock.now(state)
    images = _heartbeats(nodes, state, now)

    wakes: dict[str, float] = {}
    used_ips: dict[str, set[str]] = {name: set() for name in nodes}
    pods_of = _pods_to_sync(list(nodes), now, wakes, used_ips)
    namespaces = {p["metadata"]["namespace"] for pods in pods_of.values() for p in pods}
    if not namespaces:
        return wakes
    configmaps = [
        to_dict(r, kinds.by_kind("ConfigMap"), copy_content=False)
        for r in ConfigMap.objects.filter(namespace__in=namespaces)
    ]
    secrets = [
        to_dict(r, kinds.by_kind("Secret"), copy_content=False)
        for r in Secret.objects.filter(namespace__in=namespaces)
    ]
    cfg = KubeletConfig(
        epoch=state.sim_epoch,
        seed=state.seed,
        admission_lag_seconds=simclock.period(
            state, ADMISSION_LAG_SECONDS, ADMISSION_LAG_MIN_WALL_SECONDS
        ),
    )
    uids = [pod["metadata"]["uid"] for pods in pods_of.values() for pod in pods]
    runtimes = {
        str(r.pod_uid): r
        for chunk in batch.chunks(uids)
        for r in PodRuntime.objects.filter(pod_uid__in=chunk).order_by()
    }
    steps: list[tuple[str, dict, PodStep]] = []
    new_images: dict[str, frozenset[str]] = {}
    for name, node in nodes.items():
        pods = pods_of[name]
        if not pods:
            continue
        annotations = node["metadata"].get("annotations") or {}
        unpullable = [i for i in annotations.get(UNPULLABLE, "").split(",") if i]

        def make_world(node_images, unpullable=unpullable) -> World:
            return World.build(
                configmaps=configmaps,
                secrets=secrets,
                node_images=node_images,
                unpullable=unpullable,
            )

        world = make_world(images.get(name, []))
        ips = used_ips[name]
        ips.update(p["status"]["podIP"] for p in pods if p["status"].get("podIP"))
        for pod in pods:
            record = runtimes.get(pod["metadata"]["uid"])
            view = NodeView.from_node(node, ips)
            step = advance_pod(pod, view, now, cfg, world, record.data if record else None)
            steps.append((name, pod, step))
            if step.status and step.status.get("podIP"):
                ips.add(step.status["podIP"])
            if step.node_images is not None:
                new_images[name] = step.node_images
                world = make_world(step.node_images)
            if step.wake_at is not None and not step.delete_now:
                wakes[name] = min(wakes.get(name, step.wake_at), step.wake_at)
    notes = _notes(steps, state)
    prepared = events.prepare([note for _, note in notes])  # before the transaction: a read
    with transaction.atomic():
        _write(steps, runtimes, notes, prepared)
        for name, node_images in new_images.items():
            NodeHeartbeat.objects.filter(node_name=name).update(images=list(node_images))
    return wakes


def _pods_to_sync(
    nodes: list[str], now: float, wakes: dict[str, float], used_ips: dict[str, set[str]]
) -> dict[str, list[dict]]:
    """The pods of ``nodes`` that this sync must advance, by node, in name order.

    A pod Running and Ready, unchanged since the kubelet last synced it (same resourceVersion)
    and with no transition due before ``now`` would come out of ``advance_pod`` as it went in
    (the lifecycle replays late calls exactly): it is left out, unread. Its next transition
    still counts in ``wakes``, its IP in ``used_ips``. On a node that receives its pods one
    scheduling cycle at a time, that is most of the pods of most syncs.
    """
    marks = {
        str(uid): (observed, wake_at)
        for uid, observed, wake_at in PodRuntime.objects.filter(node_name__in=nodes)
        .order_by()
        .values_list("pod_uid", "observed_version", "wake_at")
    }
    rows = (
        Pod.objects.filter(node_name__in=nodes)
        .order_by()
        .values_list(
            "id",
            "uid",
            "node_name",
            "resource_version",
            "phase",
            "ready",
            "deletion_timestamp",
            "pod_ip",
        )
    )
    active = []
    for pk, uid, node, version, phase, ready, deleting, pod_ip in rows:
        mark = marks.get(str(uid))
        settled = (
            mark is not None
            and mark[0] == version
            and phase == "Running"
            and ready
            and deleting is None
            and (mark[1] is None or mark[1] > now)
        )
        if not settled:
            active.append(pk)
            continue
        if pod_ip:
            used_ips[node].add(pod_ip)
        if mark[1] is not None:
            wakes[node] = min(wakes.get(node, mark[1]), mark[1])
    pod_kind = kinds.by_kind("Pod")
    pods_of: dict[str, list[dict]] = {name: [] for name in nodes}
    found = [row for chunk in batch.chunks(active) for row in Pod.objects.filter(id__in=chunk)]
    found.sort(key=lambda row: (row.namespace, row.name))
    for row in found:  # freshly loaded: the lifecycle does not change its input
        pods_of[row.node_name].append(to_dict(row, pod_kind, copy_content=False))
    return pods_of


def _notes(
    steps: list[tuple[str, dict, PodStep]], state: simclock.ClockState
) -> list[tuple[str, events.Note]]:
    """The events of ``steps`` at the simulated times they happened, with their pods' uids."""
    return [
        (
            pod["metadata"]["uid"],
            events.Note(
                events.involved_object(pod, event.field_path),
                event.reason,
                event.message,
                type=event.type,
                component="kubelet",
                host=node_name,
                now=simclock.to_datetime(state, event.at),
            ),
        )
        for node_name, pod, step in steps
        for event in step.events
    ]


def _write(
    steps: list[tuple[str, dict, PodStep]],
    runtimes: dict[str, PodRuntime],
    notes: list[tuple[str, events.Note]],
    prepared: events.PreparedEvents,
) -> None:
    """Write what one sync found, a few statements for all the nodes: the changed pod
    statuses (one batch, each guarded by the pod's uid), then the events (``notes``, made ready
    as ``prepared``; repeats aggregate), then the pods whose containers have all stopped after
    a deletion are removed, and the runtime's memory is kept."""
    changed = [(node, pod, step) for node, pod, step in steps if step.status is not None]
    changed = [(node, pod, step) for node, pod, step in changed if step.status != pod.get("status")]
    answers = batch.mutate_many(
        "Pod",
        [
            (pod["metadata"]["namespace"], pod["metadata"]["name"], _set_status(pod, step.status))
            for _, pod, step in changed
        ],
        subresource="status",
        actor="kubelet",
    )
    failed = set()
    observed = {
        pod["metadata"]["uid"]: int(pod["metadata"]["resourceVersion"]) for _, pod, _ in steps
    }
    for (node_name, pod, _), answer in zip(changed, answers, strict=True):
        if isinstance(answer, StoreError):
            failed.add(pod["metadata"]["uid"])
            if not isinstance(answer, NotFound):
                _log_failure(node_name, pod, answer)
        else:  # the pod as the kubelet's own write left it
            observed[pod["metadata"]["uid"]] = int(answer["metadata"]["resourceVersion"])
    live = [(node, pod, step) for node, pod, step in steps if pod["metadata"]["uid"] not in failed]
    if failed:  # rare (a pod deleted meanwhile): its events go, the others are made again
        prepared = events.prepare([note for uid, note in notes if uid not in failed])
    events.write_prepared(prepared)
    for node_name, pod, step in live:
        if step.delete_now:
            _delete(pod, node_name)
    gone = [pod["metadata"]["uid"] for _, pod, step in live if step.delete_now]
    if gone:
        PodRuntime.objects.filter(pod_uid__in=gone).delete()
    remembered = [
        PodRuntime(
            pod_uid=uid,
            node_name=node_name,
            data=step.runtime or {},
            observed_version=observed[uid],
            wake_at=step.wake_at,
        )
        for node_name, pod, step in live
        if not step.delete_now
        and (
            (record := runtimes.get(uid := pod["metadata"]["uid"])) is None
            or (record.data, record.observed_version, record.wake_at)
            != (step.runtime, observed[uid], step.wake_at)
        )
    ]
    if remembered:
        PodRuntime.objects.bulk_create(
            remembered,
            update_conflicts=True,
            unique_fields=["pod_uid"],
            update_fields=["node_name", "data", "observed_version", "wake_at"],
        )


def _set_status(pod: dict, status: dict):
    uid, name = pod["metadata"]["uid"], pod["metadata"]["name"]

    def set_status(current: dict) -> dict:
        if current["metadata"]["uid"] != uid:
            raise NotFound("pods", "", name)  # another pod of the same name: not ours
        current["status"] = status
        return current

    return set_status


def _delete(pod: dict, node_name: str) -> None:
    namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    try:
        write.delete(
            "Pod",
            namespace,
            name,
            grace_period_seconds=0,
            preconditions={"uid": pod["metadata"]["uid"]},
            actor="kubelet",
        )
    except NotFound:
        pass  # the pod went away meanwhile: nothing left to do for it
    except StoreError as error:
        _log_failure(node_name, pod, error)


def _log_failure(node_name: str, pod: dict, error: StoreError) -> None:
    logger.info(
        "kubelet on %s could not update pod %s/%s: %s",
        node_name,
        pod["metadata"]["namespace"],
        pod["metadata"]["name"],
        error.message,
    )


def _heartbeats(
    nodes: dict[str, dict], state: simclock.ClockState, now: float
) -> dict[str, list[str]]:
    """Each node's Lease (created on its first sync; the tick renews it while the kubelet runs,
    ``controlplane.lease_renew_period``) and the images it holds; re-post a node's status when
    it is due. Returns the images by node."""
    beats = {
        beat.node_name: beat
        for beat in NodeHeartbeat.objects.filter(node_name__in=list(nodes)).order_by()
    }
    missing = [name for name in nodes if name not in beats]
    if missing:
        NodeHeartbeat.objects.bulk_create(
            [NodeHeartbeat(node_name=name, sim_time=now) for name in missing],
            ignore_conflicts=True,
        )
        beats.update(
            (beat.node_name, beat) for beat in NodeHeartbeat.objects.filter(node_name__in=missing)
        )
    images = {}
    for name in nodes:
        beat = beats.get(name)
        images[name] = list(beat.images or []) if beat else []
    due = [(name, images[name]) for name, node in nodes.items() if _status_due(node, state, now)]
    if due:
        _post_statuses(due, state, now)
    return images


def _status_due(node: dict, state: simclock.ClockState, now: float) -> bool:
    """Whether the kubelet writes its view of the node now: a condition changed (Ready is not
    True) or the report is due."""
    status = node.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    last = (
        simclock.parse_time(ready["lastHeartbeatTime"])
        if ready and ready.get("lastHeartbeatTime")
        else None
    )
    every = simclock.period(state, STATUS_REPORT_SECONDS, STATUS_REPORT_MIN_WALL_SECONDS)
    stale = last is None or (simclock.from_datetime(state, last) < now - every)
    return ready is None or ready.get("status") != "True" or stale


def _post_statuses(
    due: list[tuple[str, list[str]]], state: simclock.ClockState, now: float
) -> None:
    """Write the kubelet's view of each ``(node, images)`` of ``due``, in one batch."""
    iso = simclock.to_iso(state, now)

    def beat(images: list[str]):
        def set_status(current: dict) -> dict:
            current["status"] = node_heartbeat(current, iso, images or None)
            return current

        return set_status

    for (name, _), answer in zip(
        due,
        batch.mutate_many(
            "Node",
            [("", name, beat(images)) for name, images in due],
            subresource="status",
            actor="kubelet",
        ),
        strict=True,
    ):
        if isinstance(answer, StoreError) and not isinstance(answer, NotFound):
            logger.info("kubelet on %s could not post its status: %s", name, answer.message)


def stop_kubelet(name: str, *, actor: str) -> dict[str, Any]:
    """Stop a node's kubelet (as if the machine lost power or its network): it stops syncing and
    heartbeating; the node lifecycle controller notices after its grace period."""
    node = write.patch(
        "Node", "", name, {"metadata": {"annotations": {KUBELET_STOPPED: "true"}}}, actor=actor
    )
    # Its last Lease renewal is now: the node lifecycle's grace period starts here.
    NodeHeartbeat.objects.update_or_create(node_name=name, defaults={"sim_time": clock.now()})
    events.record(
        node,
        "KubeletStopped",
        f"Kubelet on node {name} was stopped by {actor}",
        type="Warning",
        component=actor,
    )
    return node


def start_kubelet(name: str, *, actor: str) -> dict[str, Any]:
    """Start a stopped kubelet again: it heartbeats, reports Ready and resumes its pods."""
    node = write.patch(
        "Node", "", name, {"metadata": {"annotations": {KUBELET_STOPPED: None}}}, actor=actor
    )
    events.record(node, "Starting", "Starting kubelet.", component="kubelet", host=name)
    return node
