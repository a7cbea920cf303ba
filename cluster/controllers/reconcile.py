"""Reconcile: read the current state, plan with a pure planner, write the difference.

One function per controller, all of the same shape: ``reconcile_<kind>(namespace, name)`` loads
what its planner needs, calls it, executes the plan through the write path, and returns the
simulated seconds after which to look again (or None). A key whose object is gone returns
quietly. Running one twice, or two at once on different workers, is safe: every write is
conditional or idempotent, and the planner only ever reads the level, never the edge.
"""

from __future__ import annotations

from collections.abc import Callable

from cluster import clock, traffic
from cluster.controllers import actions
from cluster.controllers.cloud import plan_cloud
from cluster.controllers.daemonset import plan_daemonset
from cluster.controllers.deployment import plan_deployment
from cluster.controllers.endpoints import plan_endpoints
from cluster.controllers.execute import execute
from cluster.controllers.garbagecollector import plan_gc
from cluster.controllers.hpa import HpaHistory, plan_hpa
from cluster.controllers.namespace import plan_namespace
from cluster.controllers.nodelifecycle import NodeLifecycleConfig, plan_node_lifecycle
from cluster.controllers.pvbinder import plan_pv_binder
from cluster.controllers.replicaset import plan_replicaset
from cluster.controllers.statefulset import plan_statefulset
from cluster.kubelet.logs import usage as container_usage
from cluster.kubelet.runner import kubelet_running
from cluster.models import (
    ControllerMemory,
    Node,
    NodeHeartbeat,
    PersistentVolume,
    PersistentVolumeClaim,
    Pod,
    ReplicaSet,
    Service,
    StorageClass,
)
from cluster.store import kinds, read, write
from cluster.store.errors import AlreadyExists, NotFound
from cluster.store.objects import to_dict
from cluster.store.selectors import matches_selector_dict, selector_to_string

Obj = dict


def _get(kind: str, namespace: str, name: str) -> Obj | None:
    try:
        return read.get(kind, namespace, name)
    except NotFound:
        return None


def _owned_or_orphan(model, namespace: str, uid: str) -> list[Obj]:
    """Objects of ``model`` in ``namespace`` controlled by ``uid`` or by nobody (adoptable)."""
    kind = kinds.for_model(model)
    # Two lookups on the (controller_uid, namespace) index, sorted here: with an OR, or with
    # the default ORDER BY (namespace, name), SQLite reads the whole namespace instead.
    rows = [
        *model.objects.filter(controller_uid=uid, namespace=namespace).order_by(),
        *model.objects.filter(controller_uid__isnull=True, namespace=namespace).order_by(),
    ]
    rows.sort(key=lambda row: row.name)
    return [to_dict(row, kind, copy_content=False) for row in rows]


def _finish(plan: actions.Plan, component: str) -> float | None:
    outcome = execute(plan, component=component)
    if not outcome.ok:
        return 1.0  # retry soon: a conflict or a missing dependency
    return plan.requeue_after


def reconcile_replicaset(namespace: str, name: str) -> float | None:
    rs = _get("ReplicaSet", namespace, name)
    if rs is None:
        return None
    pods = _owned_or_orphan(Pod, namespace, rs["metadata"]["uid"])
    plan = plan_replicaset(rs, pods, clock.now_datetime(), rng=clock.rng("replicaset", name))
    return _finish(plan, "replicaset-controller")


def reconcile_deployment(namespace: str, name: str) -> float | None:
    deploy = _get("Deployment", namespace, name)
    if deploy is None:
        return None
    replicasets = _owned_or_orphan(ReplicaSet, namespace, deploy["metadata"]["uid"])
    owned = [rs["metadata"]["uid"] for rs in replicasets]
    # Pods matter only to the Recreate strategy (no new pod while an old one runs); a rolling
    # update reads its ReplicaSets' status. Reading a hundred pods at every reconcile was most
    # of its cost.
    strategy = ((deploy.get("spec") or {}).get("strategy") or {}).get("type")
    rows = Pod.objects.filter(controller_uid__in=owned, namespace=namespace).order_by()
    pods = [
        to_dict(row, kinds.by_kind("Pod"), copy_content=False)
        for row in (rows.iterator(chunk_size=2000) if strategy == "Recreate" else ())
    ]
    pods.sort(key=lambda pod: pod["metadata"]["name"])
    plan = plan_deployment(deploy, replicasets, pods, clock.now_datetime())
    return _finish(plan, "deployment-controller")


def reconcile_statefulset(namespace: str, name: str) -> float | None:
    sts = _get("StatefulSet", namespace, name)
    if sts is None:
        return None
    pods = _owned_or_orphan(Pod, namespace, sts["metadata"]["uid"])
    pvc_kind = kinds.by_kind("PersistentVolumeClaim")
    pvcs = [
        to_dict(row, pvc_kind, copy_content=False)
        for row in PersistentVolumeClaim.objects.filter(namespace=namespace)
    ]
    plan = plan_statefulset(sts, pods, pvcs, clock.now_datetime())
    return _finish(plan, "statefulset-controller")


def reconcile_daemonset(namespace: str, name: str) -> float | None:
    ds = _get("DaemonSet", namespace, name)
    if ds is None:
        return None
    node_kind = kinds.by_kind("Node")
    nodes = [to_dict(row, node_kind, copy_content=False) for row in Node.objects.all()]
    pods = _owned_or_orphan(Pod, namespace, ds["metadata"]["uid"])
    plan = plan_daemonset(ds, nodes, pods, clock.now_datetime())
    return _finish(plan, "daemonset-controller")


def reconcile_endpoints(namespace: str, name: str) -> float | None:
    """Keep the Service's Endpoints object equal to what its ready pods say."""
    service = _get("Service", namespace, name)
    existing = _get("Endpoints", namespace, name)
    if service is None:
        if existing is not None:
            _delete_quietly("Endpoints", namespace, name)
        return None
    pod_kind = kinds.by_kind("Pod")
    pods = [
        to_dict(row, pod_kind, copy_content=False)
        for row in Pod.objects.filter(namespace=namespace)
    ]
    desired = plan_endpoints(service, pods)
    if desired is None:
        return None
    if existing is None:
        try:
            write.create(desired, actor="endpoint-controller")
        except AlreadyExists:
            return 0.5
        return None

    def converge(current: Obj) -> Obj:
        current["subsets"] = desired.get("subsets", [])
        current["metadata"]["labels"] = desired["metadata"].get("labels") or {}
        return current

    write.mutate("Endpoints", namespace, name, converge, actor="endpoint-controller")
    return None


def _delete_quietly(kind: str, namespace: str, name: str) -> None:
    try:
        write.delete(kind, namespace, name, actor="endpoint-controller")
    except NotFound:
        pass


def reconcile_hpa(namespace: str, name: str) -> float | None:
    """The HorizontalPodAutoscaler: compare the target's cpu use with the goal, resize."""
    hpa = _get("HorizontalPodAutoscaler", namespace, name)
    if hpa is None:
        ControllerMemory.objects.filter(key=f"hpa:{namespace}/{name}").delete()
        return None
    ref = hpa["spec"].get("scaleTargetRef") or {}
    target = (
        _get(ref.get("kind", ""), namespace, ref.get("name", ""))
        if ref.get("kind") in ("Deployment", "StatefulSet", "ReplicaSet")
        else None
    )
    selector = (target or {}).get("spec", {}).get("selector") or {}
    scale = {
        "replicas": (target or {}).get("spec", {}).get("replicas", 0),
        "selector": selector_to_string(selector) if target else "",
        "kind": ref.get("kind", ""),
        "name": ref.get("name", ""),
    }
    pod_kind = kinds.by_kind("Pod")
    pods = [
        to_dict(row, pod_kind, copy_content=False)
        for row in Pod.objects.filter(namespace=namespace)
    ]
    pods = [
        p
        for p in pods
        if target and matches_selector_dict(selector, p["metadata"].get("labels") or {})
    ]
    load = traffic.load_by_pod()
    usage, requests = {}, {}
    for pod in pods:
        uid, pod_name = pod["metadata"]["uid"], pod["metadata"]["name"]
        containers = pod["spec"].get("containers") or []
        rps = load.get(uid, 0.0) / max(len(containers), 1)
        usage[pod_name] = sum(container_usage(pod, c["name"], rps)[0] for c in containers)
        requests[pod_name] = (
            Pod.objects.filter(uid=uid).values_list("cpu_request", flat=True).first() or None
        )
    memory, _ = ControllerMemory.objects.get_or_create(key=f"hpa:{namespace}/{name}")
    history = HpaHistory.from_dict(memory.data) if memory.data else None
    plan = plan_hpa(hpa, scale, usage, requests, clock.now_datetime(), history, pods=pods)
    delay = _finish(plan, "horizontal-pod-autoscaler")
    memory.data = plan.history.to_dict()
    memory.save(update_fields=["data"])
    return min(delay, HPA_SYNC_SECONDS) if delay is not None else HPA_SYNC_SECONDS


def reconcile_node_lifecycle(name: str) -> float | None:
    """The node lifecycle controller for one node: health from heartbeats, taints, evictions."""
    node = _get("Node", "", name)
    if node is None:
        return None
    state = clock.state()
    now = clock.now(state)
    if kubelet_running(node):
        # A running kubelet renews its Lease every 10 simulated seconds, continuously; the
        # tick's record of it is only written twice a real second, which at a fast clock is
        # minutes of simulated time. Only a stopped kubelet's heartbeat ages.
        beat = now
    else:
        beat = (
            NodeHeartbeat.objects.filter(node_name=name).values_list("sim_time", flat=True).first()
        )
    pod_kind = kinds.by_kind("Pod")
    pods = [
        to_dict(row, pod_kind, copy_content=False) for row in Pod.objects.filter(node_name=name)
    ]
    plan = plan_node_lifecycle(node, beat, pods, now, NodeLifecycleConfig(epoch=state.sim_epoch))
    return _finish(plan, "node-lifecycle-controller")


def _dependents(owner_uid: str) -> list[Obj]:
    found = []
    for kind in kinds.KINDS:
        for row in kind.model.objects.filter(controller_uid=owner_uid):
            found.append(to_dict(row, kind, copy_content=False))
    return found


def reconcile_garbage(owner_uid: str) -> float | None:
    """The garbage collector for one owner: delete, or orphan, its dependents."""
    dependents = _dependents(owner_uid)
    owner = _by_uid(owner_uid)
    if owner is None and not dependents:
        return None
    dependent_uids = [d["metadata"]["uid"] for d in dependents]
    has_dependents = {
        str(uid)
        for kind in kinds.KINDS
        for uid in kind.model.objects.filter(controller_uid__in=dependent_uids).values_list(
            "controller_uid", flat=True
        )
    }
    plan = plan_gc(owner, owner_uid, dependents, has_dependents=has_dependents)
    delay = _finish(plan, "garbage-collector")
    waiting = owner is not None and owner["metadata"].get("deletionTimestamp")
    return delay if delay is not None else (1.0 if waiting and dependents else None)


def _by_uid(uid: str) -> Obj | None:
    for kind in kinds.KINDS:
        row = kind.model.objects.filter(uid=uid).first()
        if row is not None:
            return to_dict(row, kind)
    return None


def reconcile_namespace(name: str) -> float | None:
    """The namespace controller: empty a terminating namespace, then finalize it."""
    namespace = _get("Namespace", "", name)
    if namespace is None:
        return None
    contents = {
        kind.kind: [
            to_dict(row, kind, copy_content=False)
            for row in kind.model.objects.filter(namespace=name)
        ]
        for kind in kinds.KINDS
        if kind.namespaced
    }
    plan = plan_namespace(namespace, contents, clock.now_datetime())
    delay = _finish(plan, "namespace-controller")
    return delay if delay is not None else (2.0 if any(contents.values()) else None)


def reconcile_volumes() -> float | None:
    """The PersistentVolume controller over every claim and volume."""

    def objects(model) -> list[Obj]:
        kind = kinds.for_model(model)
        return [to_dict(row, kind, copy_content=False) for row in model.objects.all()]

    pod_kind = kinds.by_kind("Pod")
    pods = [
        to_dict(row, pod_kind, copy_content=False)
        for row in Pod.objects.exclude(spec__volumes=None)
    ]
    plan = plan_pv_binder(
        objects(PersistentVolumeClaim),
        objects(PersistentVolume),
        objects(StorageClass),
        clock.now_datetime(),
        pods=pods,
    )
    return _finish(plan, "persistentvolume-binder-controller")


def reconcile_cloud() -> float | None:
    """The cloud-controller-manager's service controller: load-balancer IPs."""
    service_kind = kinds.by_kind("Service")
    services = [to_dict(row, service_kind, copy_content=False) for row in Service.objects.all()]
    return _finish(plan_cloud(services), "service-controller")


RECONCILERS: dict[str, Callable[[str, str], float | None]] = {
    "ReplicaSet": reconcile_replicaset,
    "Deployment": reconcile_deployment,
    "StatefulSet": reconcile_statefulset,
    "DaemonSet": reconcile_daemonset,
    "Endpoints": reconcile_endpoints,
    "HorizontalPodAutoscaler": reconcile_hpa,
}
HPA_SYNC_SECONDS = 15.0


def reconcile(controller: str, namespace: str, name: str) -> float | None:
    """Run one controller for one key; returns the requeue delay in simulated seconds."""
    return RECONCILERS[controller](namespace, name)


def service_selectors(namespace: str) -> list[tuple[str, dict]]:
    """(name, selector) of the Services in ``namespace`` that select pods (have a selector)."""
    return [
        (name, selector)
        for name, selector in Service.objects.filter(namespace=namespace)
        .order_by()
        .values_list("name", "selector")
        if selector
    ]
