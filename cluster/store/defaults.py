"""API defaulting: what kube-apiserver fills in on every create and update.

``apply_defaults(obj)`` returns a new object dict with the defaults of Kubernetes v1.32 for its
kind (the ``SetDefaults_*`` functions of ``pkg/apis/*/v1*/defaults.go``), plus the few
normalisations the API server's decoding and registry strategies make before validation:

- Secret ``stringData`` is base64-encoded into ``data`` and removed (the v1 -> internal
  conversion);
- resource quantities are written back the way Kubernetes serialises them (``"1000m"`` ->
  ``"1"``, ``0.5`` -> ``"500m"``), container resources rounded up to whole millis first
  (``SetDefaults_ResourceList``: ``"0.5m"`` -> ``"1m"``);
- a Service's ``clusterIP`` and ``clusterIPs`` are kept in step (``NormalizeClusterIPs``), and its
  ``ipFamilies``/``ipFamilyPolicy`` are filled in as the single-stack IPv4 allocator does;
- a Namespace gets ``spec.finalizers: ["kubernetes"]`` (``PrepareForCreate``) and the
  ``kubernetes.io/metadata.name`` label.

The input is never mutated, and odd shapes (a list where a dict belongs, ``None``, numbers) are
left alone for validation to report: defaulting never raises.

>>> d = apply_defaults({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {}})
>>> d["spec"]["replicas"], d["spec"]["strategy"]["rollingUpdate"]
(1, {'maxUnavailable': '25%', 'maxSurge': '25%'})
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Callable
from typing import Any

from cluster.store.jsondata import copy_json

__all__ = ["apply_defaults", "default_pull_policy", "image_tag", "preserve_allocated_fields"]

Obj = dict[str, Any]

DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30
DEFAULT_SCHEDULER_NAME = "default-scheduler"
TERMINATION_MESSAGE_PATH_DEFAULT = "/dev/termination-log"
VOLUME_DEFAULT_MODE = 0o644  # 420: secret, configMap, downwardAPI and projected volumes
DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800  # 3 hours
DEFAULT_HPA_CPU_UTILIZATION = 80
SERVICE_ACCOUNT_TOKEN_EXPIRATION_SECONDS = 3600
LABEL_METADATA_NAME = "kubernetes.io/metadata.name"

# Every key that names a volume source; a volume with none of them becomes an emptyDir.
VOLUME_SOURCES = (
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flocker",
    "persistentVolumeClaim",
    "rbd",
    "cinder",
    "cephfs",
    "quobyte",
    "downwardAPI",
    "fc",
    "flexVolume",
    "configMap",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "storageos",
    "projected",
    "scaleIO",
    "csi",
    "ephemeral",
    "image",
)


def apply_defaults(obj: Any) -> Any:
    """A copy of ``obj`` with the API server's defaults for its kind filled in.

    Explicit values always win; only absent (or ``null``) fields are filled. Objects of kinds
    this module does not know, and values that are not dicts, come back as copies unchanged.
    """
    result = copy_json(obj)
    if not isinstance(result, dict):
        return result
    defaulter = _DEFAULTERS.get(result.get("kind"))  # type: ignore[arg-type]
    if defaulter is not None:
        defaulter(result)
    return result


# --- small helpers -----------------------------------------------------------------------------


def _dict(parent: Any, key: str, create: bool = True) -> Obj | None:
    """``parent[key]`` if it is a dict; created when absent or null (and ``create``).

    A value of another type is left for validation to report, and None is returned.
    """
    if not isinstance(parent, dict):
        return None
    value = parent.get(key)
    if value is None and create:
        value = parent[key] = {}
    return value if isinstance(value, dict) else None


def _dicts(parent: Any, key: str) -> list[Obj]:
    """The dict items of the list ``parent[key]`` (none when absent or not a list)."""
    if not isinstance(parent, dict):
        return []
    value = parent.get(key)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def _default(target: Obj | None, key: str, value: Any) -> None:
    """Set ``target[key]`` when it is absent, null or the empty string (Go's zero value)."""
    if target is not None and target.get(key) in (None, ""):
        target[key] = copy_json(value)


def _default_if_missing(target: Obj | None, key: str, value: Any) -> None:
    """Set ``target[key]`` only when absent or null (pointer fields: ``0`` is a real value)."""
    if target is not None and target.get(key) is None:
        target[key] = copy_json(value)


def _quantity_text(value: Any, round_to_milli: bool = False) -> Any:
    """A quantity the way Kubernetes writes it back; unparseable values are left as they are.

    ``"1000m"`` -> ``"1"``, ``0.5`` -> ``"500m"``; with ``round_to_milli`` (container resources,
    ``SetDefaults_ResourceList``) sub-milli values round up: ``"0.5m"`` -> ``"1m"``.
    """
    from cluster.quantity import Quantity

    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return value
    try:
        quantity = Quantity.from_json(value)
    except ValueError:
        return value
    if round_to_milli and quantity.nano_value() % 1_000_000:
        quantity = Quantity.from_milli(quantity.milli_value(), quantity.format)
    return str(quantity)


def _canonical_quantities(resources: Any, round_to_milli: bool = False) -> None:
    if isinstance(resources, dict):
        for name, value in resources.items():
            resources[name] = _quantity_text(value, round_to_milli)


# --- images ------------------------------------------------------------------------------------

# The docker reference grammar (github.com/distribution/reference), enough to find the tag.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?", re.ASCII
)
_HEX64 = re.compile(r"[a-f0-9]{64}")


def image_tag(image: str) -> str:
    """The tag kubelet would pull, as ``parsers.ParseImageName`` finds it.

    ``"nginx"`` -> ``"latest"`` (no tag, no digest); ``"nginx:1.27"`` -> ``"1.27"``;
    ``"nginx@sha256:..."`` -> ``""``; an unparseable reference (``"Nginx"``) -> ``""``.
    """
    if not isinstance(image, str) or _HEX64.fullmatch(image):
        return ""
    match = _REFERENCE.fullmatch(image)
    if match is None or len(match["name"]) > 255:
        return ""
    # ParseNormalizedNamed: the repository part after the registry must be lower case.
    name = match["name"]
    first, _, rest = name.partition("/")
    remainder = rest if rest and ("." in first or ":" in first or first == "localhost") else name
    if remainder != remainder.lower():
        return ""
    if match["tag"]:
        return match["tag"]
    return "" if match["digest"] else "latest"


def default_pull_policy(image: Any) -> str:
    """``Always`` for ``:latest`` or an untagged image, else ``IfNotPresent``."""
    return "Always" if image_tag(image) == "latest" else "IfNotPresent"


# --- pods and pod templates --------------------------------------------------------------------


def _probe(probe: Obj | None) -> None:
    """SetDefaults_Probe: timeout 1s, period 10s, success 1, failure 3 (0 counts as unset)."""
    if probe is None:
        return
    for key, value in (
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ):
        if probe.get(key) in (None, 0):
            probe[key] = value
    _http_get(_dict(probe, "httpGet", create=False))


def _http_get(action: Obj | None) -> None:
    _default(action, "path", "/")
    _default(action, "scheme", "HTTP")


def _container(container: Obj, host_network: bool) -> None:
    """SetDefaults_Container and what hangs off a container (ports, probes, env, resources)."""
    _default(container, "imagePullPolicy", default_pull_policy(container.get("image")))
    _default(container, "terminationMessagePath", TERMINATION_MESSAGE_PATH_DEFAULT)
    _default(container, "terminationMessagePolicy", "File")
    for port in _dicts(container, "ports"):
        _default(port, "protocol", "TCP")
        if host_network and port.get("hostPort") in (None, 0):
            port["hostPort"] = port.get("containerPort")
    for env in _dicts(container, "env"):
        field_ref = _dict(_dict(env, "valueFrom", create=False), "fieldRef", create=False)
        _default(field_ref, "apiVersion", "v1")
    resources = _dict(container, "resources", create=False)
    if resources is not None:
        _canonical_quantities(resources.get("limits"), round_to_milli=True)
        _canonical_quantities(resources.get("requests"), round_to_milli=True)
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(_dict(container, key, create=False))
    lifecycle = _dict(container, "lifecycle", create=False)
    for key in ("postStart", "preStop"):
        _http_get(_dict(_dict(lifecycle, key, create=False), "httpGet", create=False))


def _pvc_spec(spec: Obj | None) -> None:
    _default(spec, "volumeMode", "Filesystem")
    if spec is not None:
        resources = _dict(spec, "resources", create=False)
        if resources is not None:
            _canonical_quantities(resources.get("requests"))
            _canonical_quantities(resources.get("limits"))


def _volume(volume: Obj) -> None:
    """SetDefaults_Volume and the volume sources' defaults (modes, hostPath type...)."""
    if not any(volume.get(key) is not None for key in VOLUME_SOURCES):
        volume["emptyDir"] = {}
    for key in ("secret", "configMap", "downwardAPI", "projected"):
        _default_if_missing(_dict(volume, key, create=False), "defaultMode", VOLUME_DEFAULT_MODE)
    _default_if_missing(_dict(volume, "hostPath", create=False), "type", "")
    for item in _dicts(_dict(volume, "downwardAPI", create=False), "items"):
        _default(_dict(item, "fieldRef", create=False), "apiVersion", "v1")
    for source in _dicts(_dict(volume, "projected", create=False), "sources"):
        for item in _dicts(_dict(source, "downwardAPI", create=False), "items"):
            _default(_dict(item, "fieldRef", create=False), "apiVersion", "v1")
        _default_if_missing(
            _dict(source, "serviceAccountToken", create=False),
            "expirationSeconds",
            SERVICE_ACCOUNT_TOKEN_EXPIRATION_SECONDS,
        )
    template = _dict(_dict(volume, "ephemeral", create=False), "volumeClaimTemplate", False)
    _pvc_spec(_dict(template, "spec", create=False))


def _pod_spec(spec: Obj | None, *, is_pod: bool) -> None:
    """SetDefaults_PodSpec (plus SetDefaults_Pod's parts when ``is_pod``).

    Only a Pod's own spec gets ``enableServiceLinks``, requests defaulted from limits and host
    ports for host networking; a template's spec does not (they are set when the pod is made).
    """
    if spec is None:
        return
    _default(spec, "dnsPolicy", "ClusterFirst")
    _default(spec, "restartPolicy", "Always")
    _default_if_missing(spec, "securityContext", {})
    _default_if_missing(
        spec, "terminationGracePeriodSeconds", DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS
    )
    _default(spec, "schedulerName", DEFAULT_SCHEDULER_NAME)
    if is_pod:
        _default_if_missing(spec, "enableServiceLinks", True)
    host_network = is_pod and spec.get("hostNetwork") is True
    for volume in _dicts(spec, "volumes"):
        _volume(volume)
    for key in ("initContainers", "containers"):
        for container in _dicts(spec, key):
            _container(container, host_network)
            if is_pod:
                _requests_from_limits(container)


def _requests_from_limits(container: Obj) -> None:
    """SetDefaults_Pod: a limit without a request makes the request equal to the limit."""
    resources = _dict(container, "resources", create=False)
    limits = resources.get("limits") if resources is not None else None
    if not isinstance(limits, dict) or not limits:
        return
    requests = _dict(resources, "requests")
    if requests is not None:
        for name, value in limits.items():
            requests.setdefault(name, copy_json(value))


def _template(spec: Obj | None) -> None:
    template = _dict(spec, "template", create=False)
    _pod_spec(_dict(template, "spec", create=False), is_pod=False)


def _pod(obj: Obj) -> None:
    _pod_spec(_dict(obj, "spec"), is_pod=True)


# --- workloads ---------------------------------------------------------------------------------


def _deployment(obj: Obj) -> None:
    """SetDefaults_Deployment: replicas 1, RollingUpdate 25%/25%, history 10, deadline 600s."""
    spec = _dict(obj, "spec")
    if spec is None:
        return
    _default_if_missing(spec, "replicas", 1)
    strategy = _dict(spec, "strategy")
    if strategy is not None:
        _default(strategy, "type", "RollingUpdate")
        if strategy.get("type") == "RollingUpdate":
            rolling = _dict(strategy, "rollingUpdate")
            _default_if_missing(rolling, "maxUnavailable", "25%")
            _default_if_missing(rolling, "maxSurge", "25%")
    _default_if_missing(spec, "revisionHistoryLimit", 10)
    _default_if_missing(spec, "progressDeadlineSeconds", 600)
    _template(spec)


def _replica_set(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    _default_if_missing(spec, "replicas", 1)
    _template(spec)


def _stateful_set(obj: Obj) -> None:
    """SetDefaults_StatefulSet.

    ``updateStrategy.rollingUpdate.partition`` is defaulted only when Kubernetes does: when the
    type was empty (the whole rollingUpdate is then created), or when rollingUpdate is given.
    """
    spec = _dict(obj, "spec")
    if spec is None:
        return
    _default(spec, "podManagementPolicy", "OrderedReady")
    strategy = _dict(spec, "updateStrategy")
    if strategy is not None:
        if strategy.get("type") in (None, ""):
            strategy["type"] = "RollingUpdate"
            _default_if_missing(strategy, "rollingUpdate", {})
        rolling = _dict(strategy, "rollingUpdate", create=False)
        if strategy.get("type") == "RollingUpdate":
            _default_if_missing(rolling, "partition", 0)
    policy = _dict(spec, "persistentVolumeClaimRetentionPolicy")
    _default(policy, "whenDeleted", "Retain")
    _default(policy, "whenScaled", "Retain")
    _default_if_missing(spec, "replicas", 1)
    _default_if_missing(spec, "revisionHistoryLimit", 10)
    for claim in _dicts(spec, "volumeClaimTemplates"):
        _persistent_volume_claim(claim)
    _template(spec)


def _daemon_set(obj: Obj) -> None:
    """SetDefaults_DaemonSet: RollingUpdate with maxUnavailable 1 and maxSurge 0, history 10."""
    spec = _dict(obj, "spec")
    if spec is None:
        return
    strategy = _dict(spec, "updateStrategy")
    if strategy is not None:
        _default(strategy, "type", "RollingUpdate")
        if strategy.get("type") == "RollingUpdate":
            rolling = _dict(strategy, "rollingUpdate")
            _default_if_missing(rolling, "maxUnavailable", 1)
            _default_if_missing(rolling, "maxSurge", 0)
    _default_if_missing(spec, "revisionHistoryLimit", 10)
    _template(spec)


def _horizontal_pod_autoscaler(obj: Obj) -> None:
    """SetDefaults_HorizontalPodAutoscaler (autoscaling/v2): minReplicas 1, CPU at 80%.

    Given ``behavior`` rules are completed with the default scale-up (max of 4 pods or 100% per
    15s, no stabilization) and scale-down (100% per 15s) rules.
    """
    spec = _dict(obj, "spec")
    if spec is None:
        return
    _default_if_missing(spec, "minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {
                        "type": "Utilization",
                        "averageUtilization": DEFAULT_HPA_CPU_UTILIZATION,
                    },
                },
            }
        ]
    behavior = _dict(spec, "behavior", create=False)
    if behavior is not None:
        up = {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15},
            ],
        }
        down = {
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
        }
        for key, rules in (("scaleUp", up), ("scaleDown", down)):
            given = behavior.get(key)
            if isinstance(given, dict):
                rules.update({k: v for k, v in given.items() if v is not None})
            if given is None or isinstance(given, dict):
                behavior[key] = rules


# --- core kinds --------------------------------------------------------------------------------


def _service(obj: Obj) -> None:
    """SetDefaults_Service and the registry's clusterIP / IP family normalisation."""
    spec = _dict(obj, "spec")
    if spec is None:
        return
    _default(spec, "sessionAffinity", "None")
    if spec.get("sessionAffinity") == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec.get("sessionAffinity") == "ClientIP":
        config = spec.get("sessionAffinityConfig")
        client_ip = config.get("clientIP") if isinstance(config, dict) else None
        if not isinstance(client_ip, dict) or client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {
                "clientIP": {"timeoutSeconds": DEFAULT_CLIENT_IP_AFFINITY_SECONDS}
            }
    _default(spec, "type", "ClusterIP")
    for port in _dicts(spec, "ports"):
        _default(port, "protocol", "TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    service_type = spec.get("type")
    externally_accessible = service_type in ("NodePort", "LoadBalancer") or (
        service_type == "ClusterIP" and bool(spec.get("externalIPs"))
    )
    if externally_accessible:
        _default(spec, "externalTrafficPolicy", "Cluster")
    if service_type in ("ClusterIP", "NodePort", "LoadBalancer"):
        _default_if_missing(spec, "internalTrafficPolicy", "Cluster")
    if service_type == "LoadBalancer":
        _default_if_missing(spec, "allocateLoadBalancerNodePorts", True)
    if service_type != "ExternalName":
        _cluster_ips(spec)


def _cluster_ips(spec: Obj) -> None:
    """Keep clusterIP and clusterIPs in step; fill ipFamilies/ipFamilyPolicy (single stack IPv4).

    A headless Service without a selector gets ``RequireDualStack``, as Kubernetes gives it.
    """
    cluster_ip, cluster_ips = spec.get("clusterIP"), spec.get("clusterIPs")
    if isinstance(cluster_ip, str) and cluster_ip and cluster_ips in (None, []):
        spec["clusterIPs"] = [cluster_ip]
    elif cluster_ip in (None, "") and isinstance(cluster_ips, list) and cluster_ips:
        if isinstance(cluster_ips[0], str):
            spec["clusterIP"] = cluster_ips[0]
    headless = spec.get("clusterIP") == "None"
    if spec.get("ipFamilyPolicy") is None:
        selectorless = not spec.get("selector")
        spec["ipFamilyPolicy"] = "RequireDualStack" if headless and selectorless else "SingleStack"
    if spec.get("ipFamilies") is None:
        family = "IPv4"
        first = spec.get("clusterIP")
        if isinstance(first, str) and not headless:
            try:
                family = f"IPv{ipaddress.ip_address(first).version}"
            except ValueError:
                pass
        spec["ipFamilies"] = [family]


def _secret(obj: Obj) -> None:
    """SetDefaults_Secret (type Opaque) and the stringData fold into data (stringData wins)."""
    _default(obj, "type", "Opaque")
    string_data = obj.get("stringData")
    if isinstance(string_data, dict):
        data = _dict(obj, "data")
        if data is not None:
            for key, value in string_data.items():
                if isinstance(value, str):
                    data[key] = base64.b64encode(value.encode()).decode()
                else:
                    data[key] = value  # left for validation to report
            obj.pop("stringData")
    elif string_data is None:
        obj.pop("stringData", None)


def _namespace(obj: Obj) -> None:
    """SetDefaults_Namespace, SetDefaults_NamespaceStatus and the finalizer PrepareForCreate adds.

    ``spec.finalizers`` is filled only when absent: the namespace controller writes an empty list
    when it finalizes.
    """
    meta = _dict(obj, "metadata")
    name = meta.get("name") if meta is not None else None
    if isinstance(name, str) and name:
        labels = _dict(meta, "labels")
        if labels is not None:
            labels[LABEL_METADATA_NAME] = name
    _default_if_missing(_dict(obj, "spec"), "finalizers", ["kubernetes"])
    _default(_dict(obj, "status"), "phase", "Active")


def _node(obj: Obj) -> None:
    """SetDefaults_NodeStatus: allocatable defaults to capacity."""
    status = _dict(obj, "status", create=False)
    if status is None:
        return
    _canonical_quantities(status.get("capacity"))
    _canonical_quantities(status.get("allocatable"))
    if status.get("allocatable") is None and isinstance(status.get("capacity"), dict):
        status["allocatable"] = copy_json(status["capacity"])


def _persistent_volume(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    _default(spec, "persistentVolumeReclaimPolicy", "Retain")
    _default(spec, "volumeMode", "Filesystem")
    if spec is not None:
        _canonical_quantities(spec.get("capacity"))
    _default(_dict(obj, "status"), "phase", "Pending")


def _persistent_volume_claim(obj: Obj) -> None:
    _pvc_spec(_dict(obj, "spec"))
    _default(_dict(obj, "status"), "phase", "Pending")


def _endpoints(obj: Obj) -> None:
    for subset in _dicts(obj, "subsets"):
        for port in _dicts(subset, "ports"):
            _default(port, "protocol", "TCP")


def _storage_class(obj: Obj) -> None:
    _default_if_missing(obj, "reclaimPolicy", "Delete")
    _default_if_missing(obj, "volumeBindingMode", "Immediate")


_DEFAULTERS: dict[str, Callable[[Obj], None]] = {
    "Pod": _pod,
    "Deployment": _deployment,
    "ReplicaSet": _replica_set,
    "StatefulSet": _stateful_set,
    "DaemonSet": _daemon_set,
    "HorizontalPodAutoscaler": _horizontal_pod_autoscaler,
    "Service": _service,
    "Secret": _secret,
    "Namespace": _namespace,
    "Node": _node,
    "PersistentVolume": _persistent_volume,
    "PersistentVolumeClaim": _persistent_volume_claim,
    "Endpoints": _endpoints,
    "StorageClass": _storage_class,
}


# --- updates -----------------------------------------------------------------------------------


def preserve_allocated_fields(old: Any, new: Any) -> Any:
    """A copy of ``new`` with a Service's allocated fields carried over from ``old``.

    The registry's ``patchAllocatedValues``: a replace that leaves out ``clusterIP(s)``,
    ``ipFamilies``, ``ipFamilyPolicy``, a port's ``nodePort`` (matched by port and protocol) or
    ``healthCheckNodePort`` keeps the allocated values, so ``kubectl replace -f`` of the original
    manifest does not try to unset them. Other kinds come back unchanged.
    """
    result = copy_json(new)
    if not (isinstance(old, dict) and isinstance(result, dict)) or result.get("kind") != "Service":
        return result
    old_spec, new_spec = old.get("spec"), result.get("spec")
    if not (isinstance(old_spec, dict) and isinstance(new_spec, dict)):
        return result
    if "ExternalName" in (old_spec.get("type"), new_spec.get("type")):
        return result
    for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
        if new_spec.get(key) in (None, "", []) and old_spec.get(key) not in (None, "", []):
            new_spec[key] = copy_json(old_spec[key])
    if new_spec.get("type") in ("NodePort", "LoadBalancer"):
        allocated = {
            (p.get("port"), p.get("protocol") or "TCP"): p.get("nodePort")
            for p in _dicts(old_spec, "ports")
            if p.get("nodePort")
        }
        for port in _dicts(new_spec, "ports"):
            key = (port.get("port"), port.get("protocol") or "TCP")
            if port.get("nodePort") in (None, 0) and key in allocated:
                port["nodePort"] = allocated[key]
        if new_spec.get("healthCheckNodePort") in (None, 0) and old_spec.get("healthCheckNodePort"):
            new_spec["healthCheckNodePort"] = old_spec["healthCheckNodePort"]
    return result
