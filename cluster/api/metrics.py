"""The resource metrics API, ``metrics.k8s.io/v1beta1``: what metrics-server serves.

``kubectl top nodes`` and ``kubectl top pods`` read it (kubectl-contract §12.3):

    GET /apis/metrics.k8s.io/v1beta1/nodes[/<name>]                   NodeMetricsList / NodeMetrics
    GET /apis/metrics.k8s.io/v1beta1/pods                             PodMetricsList (-A)
    GET /apis/metrics.k8s.io/v1beta1/namespaces/<ns>/pods[/<name>]    PodMetricsList / PodMetrics

The numbers are the kubelets' simulated usage, the same that the HorizontalPodAutoscaler reads
(``cluster.controllers.reconcile.reconcile_hpa``): each container's
``cluster.kubelet.logs.usage`` under its share of the requests per second that the running
traffic flows send to its pod (``cluster.traffic.load_by_pod``), so an HPA scaling up and
``kubectl top`` agree. The ``kubarium.io/cpu-usage`` and ``kubarium.io/memory-usage``
annotations set a container's usage outright.

What is reported, as metrics-server does: a pod has metrics when it runs on a node whose
kubelet is up (``Ready=True``), listing the containers that are running; a node's usage is the
sum of its pods' (Kubarium simulates no system daemons). Nodes and pods without metrics are
left out of lists and are a 404 on their own (``podmetrics.metrics.k8s.io "default/web" not
found``, metrics-server's words). Only ``get`` and ``list`` are served; label and field
selectors filter the nodes and pods as they do on ``/api/v1``. CPU is given in millicores
(``21m``) and memory in kibibytes (``5696Ki``), as metrics-server rounds them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse

from cluster import clock, traffic
from cluster.api import auth
from cluster.api.http import conversion, json_response, method_not_allowed
from cluster.store import read
from cluster.store.errors import MethodNotAllowed, NotFound
from cluster.store.kinds import Kind, get_path
from cluster.store.objects import format_time
from cluster.usage import container_usages

if TYPE_CHECKING:
    from cluster.api.routes import Route

Obj = dict[str, Any]

GROUP, VERSION = "metrics.k8s.io", "v1beta1"
API_VERSION = f"{GROUP}/{VERSION}"
NODE_METRICS = Kind("NodeMetrics", GROUP, VERSION, "nodes", "Node", namespaced=False)
POD_METRICS = Kind("PodMetrics", GROUP, VERSION, "pods", "Pod")
KINDS = (NODE_METRICS, POD_METRICS)
WINDOW = "15s"  # the period each sample covers (metrics-server scrapes every 15 s)


def is_metrics(kind: Kind | None) -> bool:
    return kind is not None and kind.group == GROUP


def resource_list() -> Obj:
    """``GET /apis/metrics.k8s.io/v1beta1``: the two read-only resources."""
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": API_VERSION,
        "resources": [
            {
                "name": kind.plural,
                "singularName": "",
                "namespaced": kind.namespaced,
                "kind": kind.kind,
                "verbs": ["get", "list"],
            }
            for kind in KINDS
        ],
    }


# --- usage -----------------------------------------------------------------------------------


def _ready(node: Mapping[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in get_path(node, "status.conditions") or []
        if isinstance(c, dict)
    )


def _up_nodes() -> set[str]:
    """Names of the nodes whose kubelet reports (metrics-server can scrape only those)."""
    return {n["metadata"]["name"] for n in read.list_objects("Node").items if _ready(n)}


def _measured(pod: Mapping[str, Any], up: set[str]) -> bool:
    return get_path(pod, "status.phase") == "Running" and get_path(pod, "spec.nodeName") in up


def _cpu(millis: int) -> str:
    return f"{millis}m"


def _memory(count: int) -> str:
    return f"{count // 1024}Ki"


def pod_metrics(
    pods: Iterable[Obj], up: set[str], now: str, load: Mapping[str, float]
) -> list[Obj]:
    """PodMetrics for the pods that have metrics (see the module docstring)."""
    items = []
    for pod in pods:
        if not _measured(pod, up):
            continue
        meta = pod["metadata"]
        usages = container_usages(pod, load.get(str(meta.get("uid", "")), 0.0))
        if not usages:
            continue
        items.append(
            {
                "metadata": _metadata(meta, now),
                "timestamp": now,
                "window": WINDOW,
                "containers": [
                    {"name": name, "usage": {"cpu": _cpu(cpu), "memory": _memory(memory)}}
                    for name, cpu, memory in usages
                ],
            }
        )
    return items


def node_metrics(nodes: Iterable[Obj], now: str) -> list[Obj]:
    """NodeMetrics for the ready nodes: the sum of their running pods' container usage."""
    up = _up_nodes()
    load = traffic.load_by_pod()
    cpu: dict[str, int] = defaultdict(int)
    memory: dict[str, int] = defaultdict(int)
    for pod in read.list_objects("Pod", field_selector="status.phase=Running").items:
        if not _measured(pod, up):
            continue
        node = pod["spec"]["nodeName"]
        for _, cores, used in container_usages(pod, load.get(pod["metadata"]["uid"], 0.0)):
            cpu[node] += cores
            memory[node] += used
    items = []
    for node in nodes:
        name = node["metadata"]["name"]
        if name not in up:
            continue
        items.append(
            {
                "metadata": _metadata(node["metadata"], now),
                "timestamp": now,
                "window": WINDOW,
                "usage": {"cpu": _cpu(cpu[name]), "memory": _memory(memory[name])},
            }
        )
    return items


def _metadata(meta: Mapping[str, Any], now: str) -> Obj:
    """What metrics-server puts in a sample's metadata: the object's name, namespace and
    labels, created now."""
    out: Obj = {"name": meta["name"]}
    if meta.get("namespace"):
        out["namespace"] = meta["namespace"]
    out["creationTimestamp"] = now
    if meta.get("labels"):
        out["labels"] = dict(meta["labels"])
    return out


# --- requests --------------------------------------------------------------------------------


def handle(request: HttpRequest, route: Route) -> HttpResponse:
    """GET (one object or a list) of NodeMetrics or PodMetrics."""
    kind = route.kind
    assert kind is not None
    if route.subresource:
        raise MethodNotAllowed(
            f'the subresource "{route.subresource}" of {kind.resource_group()} is not supported '
            "by this server"
        )
    if request.method not in ("GET", "HEAD"):
        raise method_not_allowed()
    now = format_time(clock.now_datetime()) or ""
    if route.is_collection:
        auth.authorize(request, "list", kind, route.namespace)
        items = _list(request, kind, route.namespace, now)
        return json_response(_rendered_list(request, kind, items))
    auth.authorize(request, "get", kind, route.namespace, route.name)
    if kind is NODE_METRICS:
        found = node_metrics(
            read.list_objects("Node", field_selector=f"metadata.name={route.name}").items, now
        )
        missing = route.name
    else:
        pods = read.list_objects(
            "Pod", route.namespace, field_selector=f"metadata.name={route.name}"
        ).items
        found = pod_metrics(pods, _up_nodes(), now, traffic.load_by_pod())
        missing = f"{route.namespace}/{route.name}"
    if not found:
        raise NotFound(kind.kind.lower(), GROUP, missing)
    target, version = conversion(request)
    if target == "Table":
        return json_response(_table(kind, found, version))
    return json_response({"kind": kind.kind, "apiVersion": API_VERSION, **found[0]})


def _list(request: HttpRequest, kind: Kind, namespace: str | None, now: str) -> list[Obj]:
    query = request.GET
    selected = read.list_objects(
        "Node" if kind is NODE_METRICS else "Pod",
        namespace,
        label_selector=query.get("labelSelector"),
        field_selector=query.get("fieldSelector"),
    ).items
    if kind is NODE_METRICS:
        return node_metrics(selected, now)
    return pod_metrics(selected, _up_nodes(), now, traffic.load_by_pod())


def _rendered_list(request: HttpRequest, kind: Kind, items: list[Obj]) -> Obj:
    """The list itself, or (``kubectl get podmetrics``) a Table with metrics-server's
    columns: Name, CPU, Memory, Window."""
    target, version = conversion(request)
    if target != "Table":
        return {
            "kind": f"{kind.kind}List",
            "apiVersion": API_VERSION,
            "metadata": {},
            "items": items,
        }
    return _table(kind, items, version)


def _table(kind: Kind, items: list[Obj], version: str) -> Obj:
    """A Table of samples; a pod's row adds up its containers (``21m`` + ``4m`` = ``25m``)."""
    columns = [
        {"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0},
        {"name": "CPU", "type": "string", "format": "", "description": "CPU usage", "priority": 0},
        {
            "name": "Memory",
            "type": "string",
            "format": "",
            "description": "Memory usage",
            "priority": 0,
        },
        {"name": "Window", "type": "string", "format": "", "description": "Window", "priority": 0},
    ]
    rows = []
    for item in items:
        if kind is NODE_METRICS:
            cpu, memory = item["usage"]["cpu"], item["usage"]["memory"]
        else:
            containers = item["containers"]
            cpu = _cpu(sum(int(c["usage"]["cpu"].removesuffix("m")) for c in containers))
            kib = sum(int(c["usage"]["memory"].removesuffix("Ki")) for c in containers)
            memory = f"{kib}Ki"
        rows.append(
            {
                "cells": [item["metadata"]["name"], cpu, memory, item["window"]],
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": f"meta.k8s.io/{version}",
                    "metadata": item["metadata"],
                },
            }
        )
    return {
        "kind": "Table",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": {},
        "columnDefinitions": columns,
        "rows": rows,
    }
