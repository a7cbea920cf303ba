"""Small builders for Kubernetes objects in tests: ``deployment("web", replicas=3)``."""

from __future__ import annotations

import copy
from typing import Any


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def container(name: str = "main", image: str = "nginx:1.27", **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **extra}


def pod(
    name: str,
    namespace: str = "default",
    *,
    labels: dict | None = None,
    node: str | None = None,
    cpu: str | None = None,
    image: str = "nginx:1.27",
) -> dict:
    c = container(image=image)
    if cpu:
        c["resources"] = {"requests": {"cpu": cpu}}
    spec: dict[str, Any] = {"containers": [c]}
    if node:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": spec,
    }


def deployment(
    name: str,
    namespace: str = "default",
    *,
    replicas: int = 2,
    image: str = "nginx:1.27",
    labels: dict | None = None,
) -> dict:
    labels = labels or {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": [container(image=image)]},
            },
        },
    }


def service(
    name: str,
    namespace: str = "default",
    *,
    type: str = "ClusterIP",
    port: int = 80,
    target: int | str = 8080,
    selector: dict | None = None,
) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "type": type,
            "selector": selector or {"app": name},
            "ports": [{"port": port, "targetPort": target}],
        },
    }


def configmap(name: str, namespace: str = "default", **data: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": dict(data),
    }


def node(name: str, *, cpu: str = "4", memory: str = "8Gi", pods: str = "110") -> dict:
    capacity = {"cpu": cpu, "memory": memory, "pods": pods}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {"podCIDR": "10.244.1.0/24"},
        "status": {
            "capacity": capacity,
            "allocatable": copy.deepcopy(capacity),
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }
