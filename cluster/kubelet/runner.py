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
    try:
        node_row = Node.objects.get(name=name)
    except Node.DoesNotExist:
        return None
    node = to_dict(node_row, kinds.by_kind("Node"))
    if not kubelet_running(node):
        return None
    state = clock.state()
    now = clock.now(state)
    images = _heartbeat(node, state, now)

    pod_kind = kinds.by_kind("Pod")
    pods = [to_dict(row, pod_kind) for row in Pod.objects.filter(node_name=name)]
    if not pods:
        return None
    namespaces = {p["metadata"]["namespace"] for p in pods}
    annotations = node["metadata"].get("annotations") or {}
    configmaps = [
        to_dict(r, kinds.by_kind("ConfigMap"), copy_content=False)
        for r in ConfigMap.objects.filter(namespace__in=namespaces)
    ]
    secrets = [
        to_dict(r, kinds.by_kind("Secret"), copy_content=False)
        for r in Secret.objects.filter(namespace__in=namespaces)
    ]
    unpullable = [i for i in annotations.get(UNPULLABLE, "").split(",") if i]

    def make_world(node_images) -> World:
        return World.build(
            configmaps=configmaps, secrets=secrets, node_images=node_images, unpullable=unpullable
        )

    world = make_world(images)
    cfg = KubeletConfig(epoch=state.sim_epoch, seed=state.seed)
    runtimes = {str(r.pod_uid): r for r in PodRuntime.objects.filter(node_name=name)}
    used_ips = {p["status"].get("podIP") for p in pods if p["status"].get("podIP")}
    wake: float | None = None
    steps: list[tuple[dict, PodStep]] = []
    node_images = None
    for pod in pods:
        record = runtimes.get(pod["metadata"]["uid"])
        view = NodeView.from_node(node, used_ips)
        step = advance_pod(pod, view, now, cfg, world, record.data if record else None)
        steps.append((pod, step))
        if step.status and step.status.get("podIP"):
            used_ips.add(step.status["podIP"])
        if step.node_images is not None:
            node_images = step.node_images
            world = make_world(node_images)
        if step.wake_at is not None and not step.delete_now:
            wake = step.wake_at if wake is None else min(wake, step.wake_at)
    with transaction.atomic():
        _write(steps, name, state, runtimes)
        if node_images is not None:
            NodeHeartbeat.objects.filter(node_name=name).update(images=list(node_images))
    return wake


def _write(
    steps: list[tuple[dict, PodStep]],
    node_name: str,
    state: simclock.ClockState,
    runtimes: dict[str, PodRuntime],
) -> None:
    """Write what one sync found, a few statements for the whole node: the changed pod
    statuses (one batch, each guarded by the pod's uid), then the events at the simulated times
    they happened (one batch; repeats aggregate), then the pods whose containers have all
    stopped after a deletion are removed, and the runtime's memory is kept."""
    changed = [(pod, step) for pod, step in steps if step.status is not None]
    changed = [(pod, step) for pod, step in changed if step.status != pod.get("status")]
    answers = batch.mutate_many(
        "Pod",
        [
            (pod["metadata"]["namespace"], pod["metadata"]["name"], _set_status(pod, step.status))
            for pod, step in changed
        ],
        subresource="status",
        actor="kubelet",
    )
    failed = set()
    for (pod, _), answer in zip(changed, answers, strict=True):
        if isinstance(answer, StoreError):
            failed.add(pod["metadata"]["uid"])
            if not isinstance(answer, NotFound):
                _log_failure(node_name, pod, answer)
    live = [(pod, step) for pod, step in steps if pod["metadata"]["uid"] not in failed]
    events.record_many(
        [
            events.Note(
                events.involved_object(pod, event.field_path),
                event.reason,
                event.message,
                type=event.type,
                component="kubelet",
                host=node_name,
                now=simclock.to_datetime(state, event.at),
            )
            for pod, step in live
            for event in step.events
        ]
    )
    for pod, step in live:
        if step.delete_now:
            _delete(pod, node_name)
    gone = [pod["metadata"]["uid"] for pod, step in live if step.delete_now]
    if gone:
        PodRuntime.objects.filter(pod_uid__in=gone).delete()
    remembered = [
        PodRuntime(pod_uid=pod["metadata"]["uid"], node_name=node_name, data=step.runtime or {})
        for pod, step in live
        if not step.delete_now
        and (
            (record := runtimes.get(pod["metadata"]["uid"])) is None or record.data != step.runtime
        )
    ]
    if remembered:
        PodRuntime.objects.bulk_create(
            remembered,
            update_conflicts=True,
            unique_fields=["pod_uid"],
            update_fields=["node_name", "data"],
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


def _heartbeat(node: dict, state: simclock.ClockState, now: float) -> list[str]:
    """The node's Lease (created on the first sync; the tick renews it while the kubelet runs,
    ``controlplane.lease_renew_period``) and its images; re-post the node status when due."""
    name = node["metadata"]["name"]
    beat, _ = NodeHeartbeat.objects.get_or_create(node_name=name, defaults={"sim_time": now})
    post_status(node, state, now, beat.images)
    return list(beat.images or [])


def post_status(
    node: dict, state: simclock.ClockState, now: float, images: list[str] | None = None
) -> None:
    """Write the kubelet's view of its node when a condition changes or the report is due."""
    status = node.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    last = (
        simclock.parse_time(ready["lastHeartbeatTime"])
        if ready and ready.get("lastHeartbeatTime")
        else None
    )
    every = simclock.period(state, STATUS_REPORT_SECONDS, STATUS_REPORT_MIN_WALL_SECONDS)
    stale = last is None or (simclock.from_datetime(state, last) < now - every)
    if ready is not None and ready.get("status") == "True" and not stale:
        return
    iso = simclock.to_iso(state, now)

    def beat(current: dict) -> dict:
        current["status"] = node_heartbeat(current, iso, images or None)
        return current

    try:
        write.mutate(
            "Node", "", node["metadata"]["name"], beat, subresource="status", actor="kubelet"
        )
    except NotFound:
        pass


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
