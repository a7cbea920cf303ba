"""The registry of kinds: what the API server knows about each one.

For every kind: its group, version and resource names (for discovery and URLs), whether it is
namespaced, whether it has a ``/status`` subresource, which model stores it, and which indexed
columns project which parts of the object (see ``cluster.models``). Nothing else in the store
hard-codes a kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps

from cluster.quantity import cpu_millis, memory_bytes


def get_path(obj: Any, path: str, default: Any = None) -> Any:
    """Follow a dotted path through nested dicts: ``get_path(pod, "spec.nodeName")``."""
    current = obj
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return default
        current = current[part]
    return current


def set_path(obj: dict, path: str, value: Any) -> None:
    """Set a dotted path in nested dicts, creating the dicts on the way."""
    parts = path.split(".")
    current = obj
    for part in parts[:-1]:
        nxt = current.get(part)
        if not isinstance(nxt, dict):
            nxt = current[part] = {}
        current = nxt
    current[parts[-1]] = value


@dataclass(frozen=True)
class Column:
    """An indexed column that projects part of the object.

    ``path`` names the field in the object (also the field-selector name, when selectable);
    ``extract`` computes the value from the whole object when it is not a plain path; a column with
    ``editable`` set may be edited in the admin, which writes the new value back to ``path``.
    """

    name: str
    path: str
    default: Any = ""
    extract: Callable[[dict], Any] | None = None
    editable: bool = False
    selectable: bool = False

    def value(self, obj: dict) -> Any:
        if self.extract is not None:
            return self.extract(obj)
        value = get_path(obj, self.path, self.default)
        if value is None:
            return self.default
        if isinstance(self.default, bool):
            return bool(value)
        if isinstance(self.default, int) and not isinstance(value, int):
            try:
                return int(value)
            except (TypeError, ValueError):
                return self.default
        if isinstance(self.default, str) and not isinstance(value, str):
            return str(value)
        return value


@dataclass(frozen=True)
class Kind:
    kind: str
    group: str
    version: str
    plural: str
    model_name: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    status_subresource: bool = False
    has_spec: bool = True
    scale_subresource: bool = False
    columns: tuple[Column, ...] = ()
    # Top-level fields kept verbatim in ``body`` (ConfigMap data, Event reason...).
    categories: tuple[str, ...] = ()
    extra_field_selectors: dict[str, str] = field(default_factory=dict)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def model(self):
        return apps.get_model("cluster", self.model_name)

    @property
    def field_selectors(self) -> dict[str, str]:
        """Field-selector names mapped to model columns (``metadata.name`` is always there)."""
        selectors = {"metadata.name": "name"}
        if self.namespaced:
            selectors["metadata.namespace"] = "namespace"
        for column in self.columns:
            if column.selectable:
                selectors[column.path] = column.name
        selectors.update(self.extra_field_selectors)
        return selectors

    def resource_group(self) -> str:
        """``deployments.apps`` or ``pods``: how error messages name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def type_name(self) -> str:
        """``deployment.apps`` or ``pod``: how kubectl names the type before an object's name
        in what it prints (``deployment.apps/web created``, ``pod/busy deleted``)."""
        kind = self.kind.lower()
        return f"{kind}.{self.group}" if self.group else kind


# --- extractors for computed columns ---------------------------------------------------------


def _containers(pod_spec: dict) -> list[dict]:
    containers = pod_spec.get("containers") if isinstance(pod_spec, dict) else None
    return [c for c in containers or [] if isinstance(c, dict)]


def _first_image(pod_spec: Any) -> str:
    containers = _containers(pod_spec)
    image = containers[0].get("image", "") if containers else ""
    return image if isinstance(image, str) else ""


def _effective_request(pod_spec: Any, resource: str, parse: Callable[[Any], int]) -> int:
    """A pod's effective request, as the scheduler counts it.

    max(sum of the app containers' requests, the largest init container's request): init
    containers run one at a time before the app containers, so only the largest one matters.
    E.g. containers 250m + 250m and an init container of 800m: max(500, 800) = 800m.
    """
    if not isinstance(pod_spec, dict):
        return 0

    def request(container: dict) -> int:
        resources = container.get("resources") or {}
        requests = resources.get("requests") or {} if isinstance(resources, dict) else {}
        try:
            return parse(requests.get(resource)) if isinstance(requests, dict) else 0
        except ValueError:
            return 0

    total = sum(request(c) for c in _containers(pod_spec))
    inits = [c for c in pod_spec.get("initContainers") or [] if isinstance(c, dict)]
    return max([total] + [request(c) for c in inits])


def _condition_status(obj: dict, condition_type: str, default: str = "Unknown") -> str:
    for condition in get_path(obj, "status.conditions", []) or []:
        if isinstance(condition, dict) and condition.get("type") == condition_type:
            return str(condition.get("status", default))
    return default


def _quantity(path: str, parse: Callable[[Any], int]) -> Callable[[dict], int]:
    def extract(obj: dict) -> int:
        try:
            return parse(get_path(obj, path))
        except ValueError:
            return 0

    return extract


def _controller_target(obj: dict) -> str:
    return get_path(obj, "spec.scaleTargetRef.name", "") or ""


def _hpa_cpu_target(obj: dict) -> int | None:
    for metric in get_path(obj, "spec.metrics", []) or []:
        if not isinstance(metric, dict) or metric.get("type") != "Resource":
            continue
        resource = metric.get("resource") or {}
        if resource.get("name") == "cpu":
            value = get_path(resource, "target.averageUtilization")
            return value if isinstance(value, int) else None
    return None


def _is_default_class(obj: dict) -> bool:
    annotations = get_path(obj, "metadata.annotations", {}) or {}
    return annotations.get("storageclass.kubernetes.io/is-default-class") == "true"


def _timestamp(path: str) -> Callable[[dict], Any]:
    def extract(obj: dict):
        from cluster.store.objects import parse_time

        return parse_time(get_path(obj, path))

    return extract


def _template_image(obj: dict) -> str:
    return _first_image(get_path(obj, "spec.template.spec", {}))


_TEMPLATE_IMAGE = Column("image", "spec.template.spec.containers[0].image", extract=_template_image)

KINDS: tuple[Kind, ...] = (
    Kind(
        "Namespace",
        "",
        "v1",
        "namespaces",
        "Namespace",
        namespaced=False,
        short_names=("ns",),
        status_subresource=True,
        columns=(Column("phase", "status.phase", "Active", selectable=True),),
    ),
    Kind(
        "Node",
        "",
        "v1",
        "nodes",
        "Node",
        namespaced=False,
        short_names=("no",),
        status_subresource=True,
        columns=(
            Column("unschedulable", "spec.unschedulable", False, editable=True, selectable=True),
            Column(
                "ready", "status.conditions[Ready]", extract=lambda o: _condition_status(o, "Ready")
            ),
            Column(
                "cpu_allocatable",
                "status.allocatable.cpu",
                extract=_quantity("status.allocatable.cpu", cpu_millis),
            ),
            Column(
                "memory_allocatable",
                "status.allocatable.memory",
                extract=_quantity("status.allocatable.memory", memory_bytes),
            ),
            Column(
                "pods_allocatable",
                "status.allocatable.pods",
                extract=_quantity("status.allocatable.pods", lambda v: cpu_millis(v) // 1000),
            ),
            Column("pod_cidr", "spec.podCIDR", ""),
        ),
    ),
    Kind(
        "Pod",
        "",
        "v1",
        "pods",
        "Pod",
        short_names=("po",),
        status_subresource=True,
        categories=("all",),
        columns=(
            Column("node_name", "spec.nodeName", "", selectable=True),
            Column("phase", "status.phase", "Pending", selectable=True),
            Column(
                "ready",
                "status.conditions[Ready]",
                extract=lambda o: _condition_status(o, "Ready", "False") == "True",
            ),
            Column(
                "image", "spec.containers[0].image", extract=lambda o: _first_image(o.get("spec"))
            ),
            Column("pod_ip", "status.podIP", "", selectable=True),
            Column(
                "cpu_request",
                "spec.containers[*].resources.requests.cpu",
                extract=lambda o: _effective_request(o.get("spec"), "cpu", cpu_millis),
            ),
            Column(
                "memory_request",
                "spec.containers[*].resources.requests.memory",
                extract=lambda o: _effective_request(o.get("spec"), "memory", memory_bytes),
            ),
        ),
        extra_field_selectors={"spec.restartPolicy": "", "spec.schedulerName": ""},
    ),
    Kind(
        "Service",
        "",
        "v1",
        "services",
        "Service",
        short_names=("svc",),
        status_subresource=True,
        categories=("all",),
        columns=(
            Column("type", "spec.type", "ClusterIP", editable=True),
            Column("cluster_ip", "spec.clusterIP", ""),
            Column(
                "selector",
                "spec.selector",
                {},
                extract=lambda o: get_path(o, "spec.selector") or {},
            ),
        ),
    ),
    Kind("Endpoints", "", "v1", "endpoints", "Endpoints", short_names=("ep",), has_spec=False),
    Kind(
        "Ingress",
        "networking.k8s.io",
        "v1",
        "ingresses",
        "Ingress",
        short_names=("ing",),
        status_subresource=True,
        columns=(Column("ingress_class_name", "spec.ingressClassName", "", editable=True),),
    ),
    Kind("ConfigMap", "", "v1", "configmaps", "ConfigMap", short_names=("cm",), has_spec=False),
    Kind(
        "Secret",
        "",
        "v1",
        "secrets",
        "Secret",
        has_spec=False,
        columns=(Column("type", "type", "Opaque", selectable=True),),
    ),
    Kind(
        "PersistentVolume",
        "",
        "v1",
        "persistentvolumes",
        "PersistentVolume",
        namespaced=False,
        short_names=("pv",),
        status_subresource=True,
        columns=(
            Column(
                "capacity",
                "spec.capacity.storage",
                extract=_quantity("spec.capacity.storage", memory_bytes),
            ),
            Column("storage_class_name", "spec.storageClassName", ""),
            Column("phase", "status.phase", "Pending", selectable=True),
            Column("claim_namespace", "spec.claimRef.namespace", ""),
            Column("claim_name", "spec.claimRef.name", ""),
        ),
    ),
    Kind(
        "PersistentVolumeClaim",
        "",
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        short_names=("pvc",),
        status_subresource=True,
        columns=(
            Column("storage_class_name", "spec.storageClassName", ""),
            Column("volume_name", "spec.volumeName", ""),
            Column("phase", "status.phase", "Pending", selectable=True),
            Column(
                "requested",
                "spec.resources.requests.storage",
                extract=_quantity("spec.resources.requests.storage", memory_bytes),
            ),
        ),
    ),
    Kind(
        "StorageClass",
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "StorageClass",
        namespaced=False,
        short_names=("sc",),
        has_spec=False,
        columns=(
            Column("provisioner", "provisioner", ""),
            Column("is_default", "metadata.annotations", False, extract=_is_default_class),
        ),
    ),
    Kind(
        "Deployment",
        "apps",
        "v1",
        "deployments",
        "Deployment",
        short_names=("deploy",),
        status_subresource=True,
        scale_subresource=True,
        categories=("all",),
        columns=(
            Column("replicas", "spec.replicas", 1, editable=True),
            Column("paused", "spec.paused", False, editable=True),
            _TEMPLATE_IMAGE,
            Column("ready_replicas", "status.readyReplicas", 0),
            Column("available_replicas", "status.availableReplicas", 0),
            Column("updated_replicas", "status.updatedReplicas", 0),
        ),
    ),
    Kind(
        "ReplicaSet",
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        short_names=("rs",),
        status_subresource=True,
        scale_subresource=True,
        categories=("all",),
        columns=(
            Column("replicas", "spec.replicas", 1, editable=True),
            _TEMPLATE_IMAGE,
            Column("ready_replicas", "status.readyReplicas", 0),
            Column("available_replicas", "status.availableReplicas", 0),
        ),
    ),
    Kind(
        "StatefulSet",
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        short_names=("sts",),
        status_subresource=True,
        scale_subresource=True,
        categories=("all",),
        columns=(
            Column("replicas", "spec.replicas", 1, editable=True),
            _TEMPLATE_IMAGE,
            Column("service_name", "spec.serviceName", ""),
            Column("pod_management_policy", "spec.podManagementPolicy", "OrderedReady"),
            Column("ready_replicas", "status.readyReplicas", 0),
        ),
    ),
    Kind(
        "DaemonSet",
        "apps",
        "v1",
        "daemonsets",
        "DaemonSet",
        short_names=("ds",),
        status_subresource=True,
        categories=("all",),
        columns=(
            _TEMPLATE_IMAGE,
            Column("desired_number_scheduled", "status.desiredNumberScheduled", 0),
            Column("number_ready", "status.numberReady", 0),
        ),
    ),
    Kind(
        "HorizontalPodAutoscaler",
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        short_names=("hpa",),
        status_subresource=True,
        categories=("all",),
        columns=(
            Column("scale_target_kind", "spec.scaleTargetRef.kind", ""),
            Column("scale_target_name", "spec.scaleTargetRef.name", extract=_controller_target),
            Column("min_replicas", "spec.minReplicas", 1, editable=True),
            Column("max_replicas", "spec.maxReplicas", 1, editable=True),
            Column(
                "target_cpu_utilization",
                "spec.metrics[cpu].target.averageUtilization",
                extract=_hpa_cpu_target,
            ),
            Column("current_replicas", "status.currentReplicas", 0),
            Column("desired_replicas", "status.desiredReplicas", 0),
        ),
    ),
    Kind(
        "Event",
        "",
        "v1",
        "events",
        "Event",
        short_names=("ev",),
        has_spec=False,
        columns=(
            Column("involved_kind", "involvedObject.kind", "", selectable=True),
            Column("involved_namespace", "involvedObject.namespace", "", selectable=True),
            Column("involved_name", "involvedObject.name", "", selectable=True),
            Column("involved_uid", "involvedObject.uid", "", selectable=True),
            Column("reason", "reason", "", selectable=True),
            Column("type", "type", "Normal", selectable=True),
            Column("source_component", "source.component", "", selectable=True),
            Column("count", "count", 1),
            Column("first_timestamp", "firstTimestamp", None, extract=_timestamp("firstTimestamp")),
            Column("last_timestamp", "lastTimestamp", None, extract=_timestamp("lastTimestamp")),
        ),
    ),
)

_BY_KIND = {k.kind: k for k in KINDS}
_BY_API = {(k.api_version, k.kind): k for k in KINDS}
_BY_RESOURCE = {(k.group, k.plural): k for k in KINDS}
_BY_NAME: dict[str, Kind] = {}
for _k in KINDS:
    for _name in (_k.kind.lower(), _k.plural, _k.singular, *_k.short_names):
        _BY_NAME[_name] = _k
    _BY_NAME[f"{_k.plural}.{_k.group}"] = _k


class UnknownKind(LookupError):
    pass


def by_kind(kind: str) -> Kind:
    try:
        return _BY_KIND[kind]
    except KeyError:
        raise UnknownKind(kind) from None


def by_api(api_version: str, kind: str) -> Kind | None:
    """The kind for an object's ``apiVersion`` and ``kind``, or None if this server lacks it."""
    return _BY_API.get((api_version, kind))


def by_resource(group: str, plural: str) -> Kind | None:
    return _BY_RESOURCE.get((group, plural))


def by_name(name: str) -> Kind:
    """Resolve what a person types (``deploy``, ``pods``, ``Deployment``, ``deployments.apps``)."""
    found = _BY_NAME.get(name.lower()) or _BY_KIND.get(name)
    if found is None:
        raise UnknownKind(name)
    return found


def for_model(model) -> Kind:
    return by_kind(model.__name__ if isinstance(model, type) else type(model).__name__)
