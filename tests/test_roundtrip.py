"""Every kind converts to and from Kubernetes JSON without losing what a manifest said."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster import manifests
from cluster.store import kinds, read, write

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def contains(actual, expected, path="") -> list[str]:
    """What of ``expected`` is missing or different in ``actual`` (defaults may be added)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a map, got {actual!r}"]
        missing = []
        for key, value in expected.items():
            if key not in actual:
                missing.append(f"{path}.{key}: missing")
            else:
                missing.extend(contains(actual[key], value, f"{path}.{key}"))
        return missing
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {len(expected)} items, got {actual!r}"]
        return [
            m
            for i, (a, e) in enumerate(zip(actual, expected, strict=True))
            for m in contains(a, e, f"{path}[{i}]")
        ]
    return [] if actual == expected else [f"{path}: {actual!r} != {expected!r}"]


def example_documents() -> list[manifests.Document]:
    return manifests.load_paths([EXAMPLES])


def test_examples_cover_many_kinds():
    """The demo cluster uses most of the kinds the store has."""
    used = {d.obj["kind"] for d in example_documents()}
    assert {
        "Node",
        "Namespace",
        "Deployment",
        "Service",
        "Ingress",
        "ConfigMap",
        "Secret",
        "StatefulSet",
        "StorageClass",
        "HorizontalPodAutoscaler",
    } <= used


def test_demo_cluster_round_trips():
    """Applying the demo manifests stores every field they name, verbatim."""
    documents = example_documents()
    manifests.apply(documents)
    for document in documents:
        obj = document.obj
        kind = write.kind_of(obj)
        namespace = obj["metadata"].get("namespace", "default") if kind.namespaced else ""
        stored = read.get(kind, namespace, obj["metadata"]["name"])
        expected = dict(obj)
        if kind.kind == "Secret" and "stringData" in expected:
            expected.pop("stringData")  # folded into data
        if kind.status_subresource and kind.kind != "Node":
            expected.pop("status", None)  # reset on create, owned by controllers
        assert contains(stored, expected) == [], document.label


ROUND_TRIP = [
    pytest.param(
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "web", "annotations": {"note": "kept verbatim\n"}},
            "subsets": [
                {"addresses": [{"ip": "10.244.1.5"}], "ports": [{"port": 80, "protocol": "TCP"}]}
            ],
        },
        id="Endpoints",
    ),
    pytest.param(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "pv-1"},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "hostPath": {"path": "/data"},
                "storageClassName": "standard",
            },
        },
        id="PersistentVolume",
    ),
    pytest.param(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "500Mi"}},
            },
        },
        id="PersistentVolumeClaim",
    ),
    pytest.param(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "agent", "labels": {"app": "agent"}},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {
                    "metadata": {"labels": {"app": "agent"}},
                    "spec": {
                        "containers": [{"name": "a", "image": "busybox"}],
                        "tolerations": [{"operator": "Exists"}],
                    },
                },
            },
        },
        id="DaemonSet",
    ),
    pytest.param(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "rs"},
            "spec": {
                "replicas": 0,
                "selector": {
                    "matchExpressions": [{"key": "app", "operator": "In", "values": ["rs"]}]
                },
                "template": {
                    "metadata": {"labels": {"app": "rs"}},
                    "spec": {"containers": [{"name": "a", "image": "x"}]},
                },
            },
        },
        id="ReplicaSet with zero replicas",
    ),
    pytest.param(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "web.1"},
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web"},
            "reason": "Scheduled",
            "message": "Successfully assigned default/web",
            "type": "Normal",
            "source": {"component": "default-scheduler"},
            "count": 1,
            "firstTimestamp": "2026-11-26T10:00:00Z",
            "lastTimestamp": "2026-11-26T10:00:00Z",
        },
        id="Event",
    ),
    pytest.param(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "bin",
                "generateName": "bin-",
                "labels": {"app.kubernetes.io/name": "x"},
            },
            "data": {"a.txt": "hello"},
            "binaryData": {"b.bin": "AAEC"},
        },
        id="ConfigMap with binaryData and extra metadata",
    ),
]


@pytest.mark.parametrize("obj", ROUND_TRIP)
def test_kind_round_trips(obj):
    """What goes in comes back out, defaults aside."""
    created = write.create(obj)
    kind = write.kind_of(obj)
    stored = read.get(kind, created["metadata"].get("namespace", ""), created["metadata"]["name"])
    assert stored == created
    assert contains(stored, {k: v for k, v in obj.items() if k != "status"}) == []


def test_every_kind_is_registered():
    """The registry covers every kind the issue names."""
    expected = {
        "Namespace",
        "Node",
        "Pod",
        "Service",
        "Endpoints",
        "Ingress",
        "ConfigMap",
        "Secret",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "StorageClass",
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "HorizontalPodAutoscaler",
        "Event",
    }
    assert {k.kind for k in kinds.KINDS} == expected
