"""What a new cluster's apiserver creates on its own: the system namespaces and the
``kubernetes`` Service. Idempotent; run after every ``migrate`` (and test-database flush)."""

from __future__ import annotations

from cluster.store import write
from cluster.store.errors import AlreadyExists

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

KUBERNETES_SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {
        "name": "kubernetes",
        "namespace": "default",
        "labels": {"component": "apiserver", "provider": "kubernetes"},
    },
    "spec": {
        "clusterIP": "10.96.0.1",
        "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
        "sessionAffinity": "None",
        "type": "ClusterIP",
    },
}


def ensure_system_objects() -> int:
    """Create whatever is missing; returns how many objects were created."""
    from cluster.models import Namespace, Service

    created = 0
    existing = set(Namespace.objects.values_list("name", flat=True))
    for name in SYSTEM_NAMESPACES:
        if name not in existing:
            created += _create(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            )
    if not Service.objects.filter(namespace="default", name="kubernetes").exists():
        created += _create(KUBERNETES_SERVICE)
    return created


def _create(obj: dict) -> int:
    try:
        write.create(obj, actor="kube-apiserver")
    except AlreadyExists:
        return 0
    return 1
