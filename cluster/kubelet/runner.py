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

from cluster import clock, simclock
from cluster.kubelet.lifecycle import KubeletConfig, NodeView, World, advance_pod, node_heartbeat
from cluster.models import ConfigMap, Node, NodeHeartbeat, Pod, PodRuntime, Secret
from cluster.store import events, kinds, write
from cluster.store.errors import NotFound, StoreError
from cluster.store.objects import to_dict

logger = logging.getLogger(__name__)

KUBELET_STOPPED = "kubarium.io/kubelet-stopped"
UNPULLABLE = "kubarium.io/unpullable-images"  # a node annotation: comma-separated images
# How often a node with nothing new re-posts its status (nodeStatusReportFrequency).
STATUS_REPORT_SECONDS = 300.0


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
    for pod in pods:
        uid = pod["metadata"]["uid"]
        record = runtimes.get(uid)
        view = NodeView.from_node(node, used_ips)
        step = advance_pod(pod, view, now, cfg, world, record.data if record else None)
        _apply(pod, step, name, state)
        if step.status and step.status.get("podIP"):
            used_ips.add(step.status["podIP"])
        if step.node_images is not None:
            world = make_world(step.node_images)
            NodeHeartbeat.objects.filter(node_name=name).update(images=list(step.node_images))
        if step.delete_now:
            PodRuntime.objects.filter(pod_uid=uid).delete()
        elif record is None or record.data != step.runtime:
            PodRuntime.objects.update_or_create(
                pod_uid=uid, defaults={"node_name": name, "data": step.runtime or {}}
            )
        if step.wake_at is not None and not step.delete_now:
            wake = step.wake_at if wake is None else min(wake, step.wake_at)
    return wake


def _apply(pod: dict, step, node_name: str, state: simclock.ClockState) -> None:
    namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    uid = pod["metadata"]["uid"]
    try:
        if step.status is not None and step.status != pod.get("status"):

            def set_status(current: dict) -> dict:
                if current["metadata"]["uid"] != uid:
                    raise NotFound("pods", "", name)
                current["status"] = step.status
                return current

            write.mutate("Pod", namespace, name, set_status, subresource="status", actor="kubelet")
        for event in step.events:
            events.record(
                pod,
                event.reason,
                event.message,
                type=event.type,
                component="kubelet",
                host=node_name,
                field_path=event.field_path,
                now=simclock.to_datetime(state, event.at),
            )
        if step.delete_now:
            write.delete(
                "Pod",
                namespace,
                name,
                grace_period_seconds=0,
                preconditions={"uid": uid},
                actor="kubelet",
            )
    except NotFound:
        pass  # the pod went away meanwhile: nothing left to do for it
    except StoreError as error:
        logger.info(
            "kubelet on %s could not update pod %s/%s: %s",
            node_name,
            namespace,
            name,
            error.message,
        )


def _heartbeat(node: dict, state: simclock.ClockState, now: float) -> list[str]:
    """Record the heartbeat (the node's Lease) and re-post the node status when it is due."""
    name = node["metadata"]["name"]
    beat, _ = NodeHeartbeat.objects.get_or_create(node_name=name, defaults={"sim_time": now})
    if beat.sim_time != now:
        NodeHeartbeat.objects.filter(node_name=name).update(sim_time=now)
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
    stale = last is None or (simclock.from_datetime(state, last) < now - STATUS_REPORT_SECONDS)
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
