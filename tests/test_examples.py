"""The demo cluster in examples/ is plain, valid Kubernetes YAML that hangs together.

These tests read the files with PyYAML only (no database): every document is a well-formed
object, workloads select their own pods, references (Services, ports, ConfigMaps, Secrets,
StorageClasses, scale targets) point at objects that exist, and quantities parse.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cluster.quantity import Quantity, cpu_millis, memory_bytes
from cluster.store.selectors import matches_selector_dict

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CLUSTER_SCOPED = {"Node", "Namespace", "StorageClass"}
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
Key = tuple[str, str, str]  # (kind, namespace, name)


def _load() -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        with path.open(encoding="utf-8") as handle:
            for document in yaml.safe_load_all(handle):
                if document is not None:
                    documents.append((path.name, document))
    return documents


DOCUMENTS = _load()
OBJECTS: dict[Key, dict[str, Any]] = {
    (doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"]): doc
    for _, doc in DOCUMENTS
}


def _id(document: dict[str, Any]) -> str:
    meta = document.get("metadata", {})
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{document.get('kind')} {where}{meta.get('name')}"


def _of_kind(*kinds: str) -> list[Any]:
    return [pytest.param(doc, id=_id(doc)) for _, doc in DOCUMENTS if doc.get("kind") in set(kinds)]


def _pod_templates() -> list[Any]:
    return _of_kind("Deployment", "StatefulSet")


def _containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = workload["spec"]["template"]["spec"]
    return spec.get("initContainers", []) + spec["containers"]


def _secret_keys(secret: dict[str, Any]) -> set[str]:
    return set(secret.get("data", {})) | set(secret.get("stringData", {}))


def _walk_quantities(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every value under resources/capacity/allocatable maps, with its path."""
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            if key in ("requests", "limits", "capacity", "allocatable") and isinstance(item, dict):
                for resource, amount in item.items():
                    yield f"{child}.{resource}", amount
            else:
                yield from _walk_quantities(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_quantities(item, f"{path}[{index}]")


def test_the_demo_cluster_has_the_expected_objects() -> None:
    """The examples hold exactly the objects the demo describes."""
    assert set(OBJECTS) == {
        ("Node", "", "control-plane"),
        ("Node", "", "worker-1"),
        ("Node", "", "worker-2"),
        ("Node", "", "worker-3"),
        ("Namespace", "", "shop"),
        ("Namespace", "", "data"),
        ("ConfigMap", "shop", "frontend-config"),
        ("Secret", "shop", "frontend-secrets"),
        ("Secret", "shop", "shop-tls"),
        ("Deployment", "shop", "frontend"),
        ("Deployment", "shop", "backend"),
        ("Service", "shop", "frontend"),
        ("Service", "shop", "backend"),
        ("Ingress", "shop", "shop"),
        ("HorizontalPodAutoscaler", "shop", "frontend"),
        ("StorageClass", "", "standard"),
        ("Secret", "data", "db-credentials"),
        ("Service", "data", "db"),
        ("StatefulSet", "data", "db"),
    }
    assert len(OBJECTS) == len(DOCUMENTS), "no object is defined twice"


def test_files_hold_what_the_readme_says() -> None:
    """Nodes, namespaces, the shop and the data tier each live in their own file."""
    files = {(doc["kind"], doc["metadata"]["name"]): name for name, doc in DOCUMENTS}
    assert files[("Node", "worker-3")] == "00-nodes.yaml"
    assert files[("Namespace", "shop")] == "01-namespaces.yaml"
    assert files[("HorizontalPodAutoscaler", "frontend")] == "10-shop.yaml"
    assert files[("StatefulSet", "db")] == "20-data.yaml"
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert "kubectl apply -f examples/" in readme
    assert "python manage.py apply -f examples/" in readme


@pytest.mark.parametrize("document", [pytest.param(d, id=_id(d)) for _, d in DOCUMENTS])
def test_every_document_is_a_well_formed_object(document: dict[str, Any]) -> None:
    """Each document has apiVersion, kind and a DNS-1123 name, and a namespace iff namespaced."""
    assert isinstance(document.get("apiVersion"), str) and document["apiVersion"]
    assert isinstance(document.get("kind"), str) and document["kind"]
    name = document["metadata"]["name"]
    assert DNS1123_SUBDOMAIN.fullmatch(name) and len(name) <= 253
    if document["kind"] in ("Namespace", "Service"):
        assert DNS1123_LABEL.fullmatch(name) and len(name) <= 63
    if document["kind"] in CLUSTER_SCOPED:
        assert "namespace" not in document["metadata"]
    else:
        namespace = document["metadata"].get("namespace")
        assert ("Namespace", "", namespace) in OBJECTS


@pytest.mark.parametrize("document", [pytest.param(d, id=_id(d)) for _, d in DOCUMENTS])
def test_every_quantity_parses(document: dict[str, Any]) -> None:
    """Resource requests, limits, capacities and storage sizes are well-formed quantities."""
    for path, amount in _walk_quantities(document):
        assert isinstance(amount, str), f"{path} should be a quoted string, got {amount!r}"
        Quantity.parse(amount)  # raises QuantityError if malformed


@pytest.mark.parametrize(
    ("name", "cpu", "memory", "zone", "role", "taint", "extra_labels"),
    [
        pytest.param(
            "control-plane",
            2,
            "4Gi",
            "zone-a",
            "control-plane",
            ("node-role.kubernetes.io/control-plane", None, "NoSchedule"),
            {},
            id="control-plane",
        ),
        pytest.param("worker-1", 4, "8Gi", "zone-a", "worker", None, {}, id="worker-1"),
        pytest.param(
            "worker-2", 8, "16Gi", "zone-b", "worker", None, {"disktype": "ssd"}, id="worker-2"
        ),
        pytest.param(
            "worker-3",
            2,
            "4Gi",
            "zone-c",
            "worker",
            ("dedicated", "batch", "NoSchedule"),
            {},
            id="worker-3",
        ),
    ],
)
def test_nodes_have_their_sizes_labels_and_taints(
    name: str,
    cpu: int,
    memory: str,
    zone: str,
    role: str,
    taint: tuple[str, str | None, str] | None,
    extra_labels: dict[str, str],
) -> None:
    """Each node has its CPU, memory, pod CIDR, well-known labels and taints."""
    node = OBJECTS[("Node", "", name)]
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == name
    assert labels["kubernetes.io/os"] == "linux"
    assert labels["topology.kubernetes.io/zone"] == zone
    assert labels[f"node-role.kubernetes.io/{role}"] == ""
    for key, value in extra_labels.items():
        assert labels[key] == value
    assert re.fullmatch(r"10\.244\.\d{1,3}\.0/24", node["spec"]["podCIDR"])
    for field in ("capacity", "allocatable"):
        resources = node["status"][field]
        assert cpu_millis(resources["cpu"]) == cpu * 1000
        assert memory_bytes(resources["memory"]) == memory_bytes(memory)
        assert int(resources["pods"]) > 0
    taints = [(t["key"], t.get("value"), t["effect"]) for t in node["spec"].get("taints", [])]
    assert taints == ([taint] if taint else [])


def test_nodes_have_distinct_pod_cidrs() -> None:
    """No two nodes share a pod CIDR."""
    cidrs = [doc["spec"]["podCIDR"] for _, doc in DOCUMENTS if doc["kind"] == "Node"]
    assert len(set(cidrs)) == len(cidrs) == 4


@pytest.mark.parametrize("workload", _pod_templates())
def test_workload_selectors_match_their_template_labels(workload: dict[str, Any]) -> None:
    """A Deployment or StatefulSet selects the pods its template creates."""
    selector = workload["spec"]["selector"]
    assert selector, "a workload needs a non-empty selector"
    labels = workload["spec"]["template"]["metadata"]["labels"]
    assert matches_selector_dict(selector, labels)


@pytest.mark.parametrize("workload", _pod_templates())
def test_workload_containers_are_consistent(workload: dict[str, Any]) -> None:
    """Containers have unique names, mount declared volumes and request no more than limits."""
    pod = workload["spec"]["template"]["spec"]
    containers = _containers(workload)
    names = [c["name"] for c in containers]
    assert len(names) == len(set(names))
    volumes = {v["name"] for v in pod.get("volumes", [])}
    volumes |= {t["metadata"]["name"] for t in workload["spec"].get("volumeClaimTemplates", [])}
    for container in containers:
        assert container["image"]
        for mount in container.get("volumeMounts", []):
            assert mount["name"] in volumes
        resources = container.get("resources", {})
        for resource, request in resources.get("requests", {}).items():
            limit = resources.get("limits", {}).get(resource)
            if limit is not None:
                assert Quantity(request) <= Quantity(limit), f"{container['name']} {resource}"


@pytest.mark.parametrize("workload", _pod_templates())
def test_configmap_and_secret_references_exist(workload: dict[str, Any]) -> None:
    """env, envFrom and volumes only use ConfigMaps, Secrets and keys that exist."""
    namespace = workload["metadata"]["namespace"]

    def source(kind: str, name: str) -> dict[str, Any]:
        assert (kind, namespace, name) in OBJECTS, f"{kind} {namespace}/{name} is missing"
        return OBJECTS[(kind, namespace, name)]

    for container in _containers(workload):
        for env in container.get("env", []):
            value_from = env.get("valueFrom", {})
            if "configMapKeyRef" in value_from:
                ref = value_from["configMapKeyRef"]
                assert ref["key"] in source("ConfigMap", ref["name"])["data"]
            if "secretKeyRef" in value_from:
                ref = value_from["secretKeyRef"]
                assert ref["key"] in _secret_keys(source("Secret", ref["name"]))
        for env_from in container.get("envFrom", []):
            if "configMapRef" in env_from:
                source("ConfigMap", env_from["configMapRef"]["name"])
            if "secretRef" in env_from:
                source("Secret", env_from["secretRef"]["name"])
    for volume in workload["spec"]["template"]["spec"].get("volumes", []):
        if "configMap" in volume:
            config = source("ConfigMap", volume["configMap"]["name"])
            for item in volume["configMap"].get("items", []):
                assert item["key"] in config["data"]


@pytest.mark.parametrize("workload", _pod_templates())
def test_probes_use_declared_ports(workload: dict[str, Any]) -> None:
    """HTTP probes that name a port name one the container declares."""
    for container in _containers(workload):
        port_names = {p.get("name") for p in container.get("ports", [])}
        probe = container.get("readinessProbe", {})
        port = probe.get("httpGet", {}).get("port")
        if isinstance(port, str):
            assert port in port_names


@pytest.mark.parametrize("service", _of_kind("Service"))
def test_services_select_pods_that_serve_their_target_ports(service: dict[str, Any]) -> None:
    """Each Service selects one workload's pods, whose containers declare its target ports."""
    namespace = service["metadata"]["namespace"]
    selected = [
        workload
        for (kind, ns, _), workload in OBJECTS.items()
        if kind in ("Deployment", "StatefulSet")
        and ns == namespace
        and matches_selector_dict(
            {"matchLabels": service["spec"]["selector"]},
            workload["spec"]["template"]["metadata"]["labels"],
        )
    ]
    assert len(selected) == 1
    container_ports = [p for c in _containers(selected[0]) for p in c.get("ports", [])]
    for port in service["spec"]["ports"]:
        target = port.get("targetPort", port["port"])
        if isinstance(target, str):
            assert target in {p.get("name") for p in container_ports}
        else:
            assert target in {p["containerPort"] for p in container_ports}


def test_service_types() -> None:
    """frontend is a LoadBalancer, backend a ClusterIP, db headless."""
    assert OBJECTS[("Service", "shop", "frontend")]["spec"]["type"] == "LoadBalancer"
    assert OBJECTS[("Service", "shop", "backend")]["spec"]["type"] == "ClusterIP"
    assert OBJECTS[("Service", "data", "db")]["spec"]["clusterIP"] == "None"


def test_ingress_routes_to_existing_service_ports() -> None:
    """Every Ingress backend names an existing Service and one of its ports, by number or name."""
    ingress = OBJECTS[("Ingress", "shop", "shop")]
    spec = ingress["spec"]
    assert spec["ingressClassName"] == "nginx"
    path_types, port_kinds, hosts = set(), set(), set()
    for rule in spec["rules"]:
        hosts.add(rule["host"])
        for path in rule["http"]["paths"]:
            assert path["path"].startswith("/")
            path_types.add(path["pathType"])
            backend = path["backend"]["service"]
            service = OBJECTS[("Service", "shop", backend["name"])]
            ports = service["spec"]["ports"]
            if "number" in backend["port"]:
                port_kinds.add("number")
                assert backend["port"]["number"] in {p["port"] for p in ports}
            else:
                port_kinds.add("name")
                assert backend["port"]["name"] in {p.get("name") for p in ports}
    assert hosts == {"shop.example.com", "api.example.com"}
    assert path_types == {"Prefix", "Exact"}
    assert port_kinds == {"number", "name"}
    assert len(spec["tls"]) == 1
    assert set(spec["tls"][0]["hosts"]) == hosts
    assert spec["tls"][0]["secretName"] == "shop-tls"


@pytest.mark.parametrize("secret", _of_kind("Secret"))
def test_secret_data_is_base64(secret: dict[str, Any]) -> None:
    """Secret data values are valid base64; stringData values are plain strings."""
    for key, value in secret.get("data", {}).items():
        try:
            base64.b64decode(value, validate=True)
        except binascii.Error as error:  # pragma: no cover - the assertion message is the point
            pytest.fail(f"{key} is not base64: {error}")
    for value in secret.get("stringData", {}).values():
        assert isinstance(value, str)


def test_tls_secret_holds_only_placeholders() -> None:
    """shop-tls is a kubernetes.io/tls Secret whose PEM bodies are obvious placeholders."""
    secret = OBJECTS[("Secret", "shop", "shop-tls")]
    assert secret["type"] == "kubernetes.io/tls"
    assert set(secret["data"]) == {"tls.crt", "tls.key"}
    for marker, value in (
        ("CERTIFICATE", secret["data"]["tls.crt"]),
        ("PRIVATE KEY", secret["data"]["tls.key"]),
    ):
        pem = base64.b64decode(value).decode("ascii")
        lines = pem.strip().splitlines()
        assert lines[0] == f"-----BEGIN {marker}-----"
        assert lines[-1] == f"-----END {marker}-----"
        body = base64.b64decode("".join(lines[1:-1])).decode("ascii")
        assert "PLACEHOLDER" in body and "NOT A REAL" in body


def test_frontend_secrets_mix_data_and_string_data() -> None:
    """frontend-secrets is Opaque with both base64 data and stringData."""
    secret = OBJECTS[("Secret", "shop", "frontend-secrets")]
    assert secret["type"] == "Opaque"
    assert secret["data"] and secret["stringData"]


def test_frontend_config_has_a_multi_line_file() -> None:
    """frontend-config carries plain keys and one multi-line file."""
    data = OBJECTS[("ConfigMap", "shop", "frontend-config")]["data"]
    assert len(data) >= 3
    assert any("\n" in value for value in data.values())


def test_frontend_deployment() -> None:
    """frontend: 3 nginx replicas, surge 1 and no unavailability, named http port, probes."""
    deployment = OBJECTS[("Deployment", "shop", "frontend")]
    spec = deployment["spec"]
    assert spec["replicas"] == 3
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    (container,) = spec["template"]["spec"]["containers"]
    assert container["image"] == "nginx:1.27"
    assert {"name": "http", "containerPort": 80, "protocol": "TCP"} in container["ports"]
    assert "readinessProbe" in container and container["volumeMounts"]
    assert container["resources"]["requests"] and container["resources"]["limits"]


def test_backend_deployment_has_a_sidecar() -> None:
    """backend: 2 replicas, api port 8080, and a busybox log-shipper beside the API."""
    spec = OBJECTS[("Deployment", "shop", "backend")]["spec"]
    assert spec["replicas"] == 2
    containers = spec["template"]["spec"]["containers"]
    assert [c["name"] for c in containers][1:] == ["log-shipper"]
    assert containers[0]["ports"][0]["name"] == "api"
    assert containers[0]["ports"][0]["containerPort"] == 8080
    assert containers[1]["image"].startswith("busybox")


def test_hpa_scales_the_frontend_on_cpu() -> None:
    """The HPA targets the frontend Deployment, 3 to 10 replicas at 60% CPU."""
    hpa = OBJECTS[("HorizontalPodAutoscaler", "shop", "frontend")]
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert ("Deployment", "shop", target["name"]) in OBJECTS
    assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 60}
    deployment = OBJECTS[("Deployment", "shop", target["name"])]
    for container in _containers(deployment):
        assert "cpu" in container["resources"]["requests"], "utilization needs a CPU request"


def test_storage_class_is_the_default() -> None:
    """standard is the default StorageClass, provisioned by Kubarium's simulation."""
    storage_class = OBJECTS[("StorageClass", "", "standard")]
    annotations = storage_class["metadata"]["annotations"]
    assert annotations["storageclass.kubernetes.io/is-default-class"] == "true"
    assert storage_class["provisioner"] == "kubarium.io/simulated"
    assert storage_class["reclaimPolicy"] == "Delete"
    assert storage_class["volumeBindingMode"] == "Immediate"


def test_statefulset_uses_its_headless_service_and_storage() -> None:
    """db: 3 ordered postgres replicas, governed by the headless db Service, 1Gi each."""
    spec = OBJECTS[("StatefulSet", "data", "db")]["spec"]
    assert spec["replicas"] == 3
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert ("Service", "data", spec["serviceName"]) in OBJECTS
    assert spec["template"]["spec"]["containers"][0]["image"] == "postgres:16"
    (claim,) = spec["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert ("StorageClass", "", claim["spec"]["storageClassName"]) in OBJECTS
    assert memory_bytes(claim["spec"]["resources"]["requests"]["storage"]) == 2**30
