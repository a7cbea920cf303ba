"""API defaulting: each default kube-apiserver v1.32 fills in, and that explicit values win.

The tables name an object, a path into the defaulted copy and the value expected there. A path
is dotted with list indexes: ``spec.containers[0].imagePullPolicy``.
"""

from __future__ import annotations

import base64
import copy
import re
from typing import Any

import pytest

from cluster.store.defaults import (
    apply_defaults,
    default_pull_policy,
    image_tag,
    preserve_allocated_fields,
)

MISSING = object()
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def at(obj: Any, path: str) -> Any:
    """The value at ``path`` (``a.b[0].c``), or MISSING when any step is absent."""
    for name, position in _STEP.findall(path):
        if position:
            if not isinstance(obj, list) or int(position) >= len(obj):
                return MISSING
            obj = obj[int(position)]
        elif isinstance(obj, dict) and name in obj:
            obj = obj[name]
        else:
            return MISSING
    return obj


def put(obj: dict, path: str, value: Any) -> dict:
    """A copy of ``obj`` with ``path`` set to ``value`` (the parents must exist)."""
    result = copy.deepcopy(obj)
    steps = _STEP.findall(path)
    target: Any = result
    for name, position in steps[:-1]:
        target = target[int(position)] if position else target[name]
    name, position = steps[-1]
    if position:
        target[int(position)] = value
    else:
        target[name] = value
    return result


# --- builders --------------------------------------------------------------------------------


def container(**fields: Any) -> dict:
    return {"name": "main", "image": "nginx:1.27", **fields}


def pod(*containers: dict, **spec: Any) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": list(containers) or [container()], **spec},
    }


def workload(kind: str, api: str = "apps/v1", **spec: Any) -> dict:
    template = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [container()]}}
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": "w"},
        "spec": {"template": template, **spec},
    }


def service(**spec: Any) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"selector": {"app": "a"}, "ports": [{"port": 80}], **spec},
    }


def plain(kind: str, api: str = "v1", **fields: Any) -> dict:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": "x"}, **fields}


HTTP_PROBE = {"httpGet": {"port": 80}}
ENV_FIELD_REF = [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]

# --- what gets filled in ---------------------------------------------------------------------

DEFAULTS = [
    # Pods
    pytest.param(pod(), "spec.dnsPolicy", "ClusterFirst", id="pod dnsPolicy"),
    pytest.param(pod(), "spec.restartPolicy", "Always", id="pod restartPolicy"),
    pytest.param(pod(), "spec.securityContext", {}, id="pod securityContext"),
    pytest.param(pod(), "spec.terminationGracePeriodSeconds", 30, id="pod grace period"),
    pytest.param(pod(), "spec.schedulerName", "default-scheduler", id="pod scheduler"),
    pytest.param(pod(), "spec.enableServiceLinks", True, id="pod service links"),
    pytest.param(
        pod(container(image="nginx:1.27")),
        "spec.containers[0].imagePullPolicy",
        "IfNotPresent",
        id="tagged image pulled if not present",
    ),
    pytest.param(
        pod(container(image="nginx")),
        "spec.containers[0].imagePullPolicy",
        "Always",
        id="untagged image always pulled",
    ),
    pytest.param(
        pod(container(image="nginx:latest")),
        "spec.containers[0].imagePullPolicy",
        "Always",
        id="latest image always pulled",
    ),
    pytest.param(
        pod(container(image="nginx@sha256:" + "a" * 64)),
        "spec.containers[0].imagePullPolicy",
        "IfNotPresent",
        id="image by digest pulled if not present",
    ),
    pytest.param(
        pod(),
        "spec.containers[0].terminationMessagePath",
        "/dev/termination-log",
        id="termination message path",
    ),
    pytest.param(
        pod(),
        "spec.containers[0].terminationMessagePolicy",
        "File",
        id="termination message policy",
    ),
    pytest.param(
        pod(container(ports=[{"containerPort": 80}])),
        "spec.containers[0].ports[0].protocol",
        "TCP",
        id="container port protocol",
    ),
    pytest.param(
        pod(container(ports=[{"containerPort": 80}]), hostNetwork=True),
        "spec.containers[0].ports[0].hostPort",
        80,
        id="host network copies host port",
    ),
    pytest.param(
        pod(container(env=ENV_FIELD_REF)),
        "spec.containers[0].env[0].valueFrom.fieldRef.apiVersion",
        "v1",
        id="env fieldRef apiVersion",
    ),
    pytest.param(
        pod(container(resources={"limits": {"cpu": "500m", "memory": "1Gi"}})),
        "spec.containers[0].resources.requests",
        {"cpu": "500m", "memory": "1Gi"},
        id="requests default to limits",
    ),
    pytest.param(
        pod(container(resources={"requests": {"cpu": "1000m"}})),
        "spec.containers[0].resources.requests.cpu",
        "1",
        id="quantity made canonical",
    ),
    pytest.param(
        pod(container(resources={"requests": {"cpu": 0.5}})),
        "spec.containers[0].resources.requests.cpu",
        "500m",
        id="number quantity",
    ),
    pytest.param(
        pod(container(resources={"requests": {"cpu": "0.5m"}})),
        "spec.containers[0].resources.requests.cpu",
        "1m",
        id="container quantity rounded up to a milli",
    ),
    pytest.param(
        pod(container(livenessProbe=dict(HTTP_PROBE))),
        "spec.containers[0].livenessProbe.timeoutSeconds",
        1,
        id="probe timeout",
    ),
    pytest.param(
        pod(container(readinessProbe=dict(HTTP_PROBE))),
        "spec.containers[0].readinessProbe.periodSeconds",
        10,
        id="probe period",
    ),
    pytest.param(
        pod(container(startupProbe=dict(HTTP_PROBE))),
        "spec.containers[0].startupProbe.successThreshold",
        1,
        id="probe success",
    ),
    pytest.param(
        pod(container(livenessProbe=dict(HTTP_PROBE))),
        "spec.containers[0].livenessProbe.failureThreshold",
        3,
        id="probe failure",
    ),
    pytest.param(
        pod(container(livenessProbe={**HTTP_PROBE, "periodSeconds": 0})),
        "spec.containers[0].livenessProbe.periodSeconds",
        10,
        id="probe period 0 counts as unset",
    ),
    pytest.param(
        pod(container(livenessProbe={"httpGet": {"port": 80}})),
        "spec.containers[0].livenessProbe.httpGet.path",
        "/",
        id="probe http path",
    ),
    pytest.param(
        pod(container(livenessProbe={"httpGet": {"port": 80}})),
        "spec.containers[0].livenessProbe.httpGet.scheme",
        "HTTP",
        id="probe http scheme",
    ),
    pytest.param(
        pod(container(lifecycle={"preStop": {"httpGet": {"port": 80}}})),
        "spec.containers[0].lifecycle.preStop.httpGet.path",
        "/",
        id="lifecycle http path",
    ),
    pytest.param(
        pod(initContainers=[container(name="init", image="busybox")]),
        "spec.initContainers[0].imagePullPolicy",
        "Always",
        id="init containers defaulted too",
    ),
    pytest.param(
        pod(volumes=[{"name": "scratch"}]),
        "spec.volumes[0].emptyDir",
        {},
        id="volume without a source is an emptyDir",
    ),
    pytest.param(
        pod(volumes=[{"name": "cfg", "configMap": {"name": "c"}}]),
        "spec.volumes[0].configMap.defaultMode",
        420,
        id="configMap mode 0644",
    ),
    pytest.param(
        pod(volumes=[{"name": "s", "secret": {"secretName": "s"}}]),
        "spec.volumes[0].secret.defaultMode",
        420,
        id="secret mode 0644",
    ),
    pytest.param(
        pod(volumes=[{"name": "h", "hostPath": {"path": "/data"}}]),
        "spec.volumes[0].hostPath.type",
        "",
        id="hostPath type",
    ),
    pytest.param(
        pod(
            volumes=[
                {
                    "name": "d",
                    "downwardAPI": {
                        "items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]
                    },
                }
            ]
        ),
        "spec.volumes[0].downwardAPI.items[0].fieldRef.apiVersion",
        "v1",
        id="downward API fieldRef apiVersion",
    ),
    pytest.param(
        pod(
            volumes=[
                {
                    "name": "t",
                    "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]},
                }
            ]
        ),
        "spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds",
        3600,
        id="projected token expiry",
    ),
    pytest.param(
        pod(volumes=[{"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}]),
        "spec.volumes[0].ephemeral.volumeClaimTemplate.spec.volumeMode",
        "Filesystem",
        id="ephemeral claim volume mode",
    ),
    # Workloads
    pytest.param(workload("Deployment"), "spec.replicas", 1, id="deployment replicas"),
    pytest.param(
        workload("Deployment"),
        "spec.strategy",
        {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
        id="deployment rolling update 25%/25%",
    ),
    pytest.param(workload("Deployment"), "spec.revisionHistoryLimit", 10, id="deployment history"),
    pytest.param(
        workload("Deployment"),
        "spec.progressDeadlineSeconds",
        600,
        id="deployment progress deadline",
    ),
    pytest.param(
        workload("Deployment"),
        "spec.template.spec.dnsPolicy",
        "ClusterFirst",
        id="pod template defaulted",
    ),
    pytest.param(workload("ReplicaSet"), "spec.replicas", 1, id="replica set replicas"),
    pytest.param(
        workload("StatefulSet"),
        "spec.podManagementPolicy",
        "OrderedReady",
        id="stateful set pod management",
    ),
    pytest.param(
        workload("StatefulSet"),
        "spec.updateStrategy",
        {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        id="stateful set rolling update from partition 0",
    ),
    pytest.param(
        workload("StatefulSet", updateStrategy={"type": "RollingUpdate", "rollingUpdate": {}}),
        "spec.updateStrategy.rollingUpdate.partition",
        0,
        id="given rolling update gets a partition",
    ),
    pytest.param(
        workload("StatefulSet"),
        "spec.persistentVolumeClaimRetentionPolicy",
        {"whenDeleted": "Retain", "whenScaled": "Retain"},
        id="claim retention",
    ),
    pytest.param(workload("StatefulSet"), "spec.replicas", 1, id="stateful set replicas"),
    pytest.param(
        workload("StatefulSet"), "spec.revisionHistoryLimit", 10, id="stateful set history"
    ),
    pytest.param(
        workload("StatefulSet", volumeClaimTemplates=[{"spec": {}}]),
        "spec.volumeClaimTemplates[0].spec.volumeMode",
        "Filesystem",
        id="claim template volume mode",
    ),
    pytest.param(
        workload("DaemonSet"),
        "spec.updateStrategy",
        {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
        id="daemon set rolling update 1/0",
    ),
    pytest.param(workload("DaemonSet"), "spec.revisionHistoryLimit", 10, id="daemon set history"),
    # HorizontalPodAutoscaler
    pytest.param(
        plain("HorizontalPodAutoscaler", "autoscaling/v2", spec={}),
        "spec.minReplicas",
        1,
        id="hpa min replicas",
    ),
    pytest.param(
        plain("HorizontalPodAutoscaler", "autoscaling/v2", spec={}),
        "spec.metrics",
        [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 80},
                },
            }
        ],
        id="hpa CPU at 80%",
    ),
    pytest.param(
        plain(
            "HorizontalPodAutoscaler",
            "autoscaling/v2",
            spec={"behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}},
        ),
        "spec.behavior",
        {
            "scaleUp": {
                "stabilizationWindowSeconds": 0,
                "selectPolicy": "Max",
                "policies": [
                    {"type": "Pods", "value": 4, "periodSeconds": 15},
                    {"type": "Percent", "value": 100, "periodSeconds": 15},
                ],
            },
            "scaleDown": {
                "stabilizationWindowSeconds": 60,
                "selectPolicy": "Max",
                "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
            },
        },
        id="hpa behavior completed",
    ),
    # Service
    pytest.param(service(), "spec.type", "ClusterIP", id="service type"),
    pytest.param(service(), "spec.sessionAffinity", "None", id="service affinity"),
    pytest.param(service(), "spec.ports[0].protocol", "TCP", id="service port protocol"),
    pytest.param(service(), "spec.ports[0].targetPort", 80, id="target port from port"),
    pytest.param(
        service(ports=[{"port": 80, "targetPort": 0}]),
        "spec.ports[0].targetPort",
        80,
        id="target port 0 counts as unset",
    ),
    pytest.param(service(), "spec.internalTrafficPolicy", "Cluster", id="internal traffic"),
    pytest.param(
        service(type="NodePort"),
        "spec.externalTrafficPolicy",
        "Cluster",
        id="node port external traffic",
    ),
    pytest.param(
        service(externalIPs=["192.0.2.1"]),
        "spec.externalTrafficPolicy",
        "Cluster",
        id="external IPs make it externally accessible",
    ),
    pytest.param(
        service(type="LoadBalancer"),
        "spec.allocateLoadBalancerNodePorts",
        True,
        id="load balancer node ports",
    ),
    pytest.param(
        service(sessionAffinity="ClientIP"),
        "spec.sessionAffinityConfig",
        {"clientIP": {"timeoutSeconds": 10800}},
        id="client IP affinity 3 hours",
    ),
    pytest.param(
        service(clusterIP="10.96.0.20"),
        "spec.clusterIPs",
        ["10.96.0.20"],
        id="clusterIPs from clusterIP",
    ),
    pytest.param(
        service(clusterIPs=["10.96.0.20"]),
        "spec.clusterIP",
        "10.96.0.20",
        id="clusterIP from clusterIPs",
    ),
    pytest.param(service(), "spec.ipFamilyPolicy", "SingleStack", id="single stack"),
    pytest.param(service(), "spec.ipFamilies", ["IPv4"], id="IPv4 family"),
    pytest.param(
        service(clusterIP="fd00::20"),
        "spec.ipFamilies",
        ["IPv6"],
        id="IPv6 family from the cluster IP",
    ),
    pytest.param(
        service(clusterIP="None", selector=None),
        "spec.ipFamilyPolicy",
        "RequireDualStack",
        id="headless without selector",
    ),
    pytest.param(
        service(clusterIP="None"), "spec.ipFamilyPolicy", "SingleStack", id="headless with selector"
    ),
    # Config, storage, cluster kinds
    pytest.param(plain("Secret"), "type", "Opaque", id="secret type"),
    pytest.param(
        plain("Namespace"),
        "metadata.labels",
        {"kubernetes.io/metadata.name": "x"},
        id="namespace name label",
    ),
    pytest.param(plain("Namespace"), "spec.finalizers", ["kubernetes"], id="namespace finalizer"),
    pytest.param(plain("Namespace"), "status.phase", "Active", id="namespace phase"),
    pytest.param(
        plain("Node", status={"capacity": {"cpu": "4"}}),
        "status.allocatable",
        {"cpu": "4"},
        id="allocatable from capacity",
    ),
    pytest.param(
        plain("Node", status={"capacity": {"memory": "1024Mi"}}),
        "status.capacity.memory",
        "1Gi",
        id="node quantities canonical",
    ),
    pytest.param(
        plain("PersistentVolume", spec={}),
        "spec.persistentVolumeReclaimPolicy",
        "Retain",
        id="pv reclaim policy",
    ),
    pytest.param(
        plain("PersistentVolume", spec={}), "spec.volumeMode", "Filesystem", id="pv volume mode"
    ),
    pytest.param(plain("PersistentVolume", spec={}), "status.phase", "Pending", id="pv phase"),
    pytest.param(
        plain("PersistentVolume", spec={"capacity": {"storage": "2048Mi"}}),
        "spec.capacity.storage",
        "2Gi",
        id="pv capacity canonical",
    ),
    pytest.param(
        plain("PersistentVolumeClaim", spec={}),
        "spec.volumeMode",
        "Filesystem",
        id="pvc volume mode",
    ),
    pytest.param(
        plain("PersistentVolumeClaim", spec={}), "status.phase", "Pending", id="pvc phase"
    ),
    pytest.param(
        plain("PersistentVolumeClaim", spec={"resources": {"requests": {"storage": "0.5m"}}}),
        "spec.resources.requests.storage",
        "500u",
        id="claim sizes are not rounded to millis",
    ),
    pytest.param(
        plain("Endpoints", subsets=[{"ports": [{"port": 80}]}]),
        "subsets[0].ports[0].protocol",
        "TCP",
        id="endpoint port protocol",
    ),
    pytest.param(
        plain("StorageClass", "storage.k8s.io/v1"),
        "reclaimPolicy",
        "Delete",
        id="class reclaim policy",
    ),
    pytest.param(
        plain("StorageClass", "storage.k8s.io/v1"),
        "volumeBindingMode",
        "Immediate",
        id="class binding mode",
    ),
]


@pytest.mark.parametrize(("obj", "path", "expected"), DEFAULTS)
def test_defaults_are_filled_in(obj, path, expected):
    """An absent field gets Kubernetes' default."""
    assert at(apply_defaults(obj), path) == expected


# --- explicit values win ---------------------------------------------------------------------

EXPLICIT = [
    pytest.param(pod(), "spec.dnsPolicy", "Default", id="pod dnsPolicy"),
    pytest.param(pod(), "spec.restartPolicy", "Never", id="pod restartPolicy"),
    pytest.param(pod(), "spec.terminationGracePeriodSeconds", 0, id="grace period 0"),
    pytest.param(pod(), "spec.enableServiceLinks", False, id="service links off"),
    pytest.param(pod(), "spec.schedulerName", "my-scheduler", id="scheduler"),
    pytest.param(
        pod(container(image="nginx")),
        "spec.containers[0].imagePullPolicy",
        "Never",
        id="pull policy",
    ),
    pytest.param(
        pod(container(ports=[{"containerPort": 53}])),
        "spec.containers[0].ports[0].protocol",
        "UDP",
        id="port protocol",
    ),
    pytest.param(
        pod(container(livenessProbe=dict(HTTP_PROBE))),
        "spec.containers[0].livenessProbe.periodSeconds",
        30,
        id="probe period",
    ),
    pytest.param(
        pod(volumes=[{"name": "c", "configMap": {"name": "c"}}]),
        "spec.volumes[0].configMap.defaultMode",
        0,
        id="volume mode 0",
    ),
    pytest.param(workload("Deployment"), "spec.replicas", 0, id="zero replicas"),
    pytest.param(workload("Deployment"), "spec.revisionHistoryLimit", 0, id="no history"),
    pytest.param(
        workload("Deployment", strategy={"rollingUpdate": {}}),
        "spec.strategy.rollingUpdate.maxSurge",
        0,
        id="max surge 0",
    ),
    pytest.param(
        workload("StatefulSet"), "spec.podManagementPolicy", "Parallel", id="parallel pods"
    ),
    pytest.param(
        workload("DaemonSet", updateStrategy={"rollingUpdate": {}}),
        "spec.updateStrategy.rollingUpdate.maxUnavailable",
        "10%",
        id="daemon surge",
    ),
    pytest.param(
        plain("HorizontalPodAutoscaler", "autoscaling/v2", spec={}),
        "spec.minReplicas",
        3,
        id="hpa min replicas",
    ),
    pytest.param(service(), "spec.type", "NodePort", id="service type"),
    pytest.param(service(), "spec.ports[0].targetPort", "http", id="named target port"),
    pytest.param(
        service(type="LoadBalancer"),
        "spec.allocateLoadBalancerNodePorts",
        False,
        id="no node ports for the load balancer",
    ),
    pytest.param(
        service(type="NodePort"), "spec.externalTrafficPolicy", "Local", id="local traffic"
    ),
    pytest.param(
        service(sessionAffinity="ClientIP"),
        "spec.sessionAffinityConfig",
        {"clientIP": {"timeoutSeconds": 60}},
        id="affinity timeout",
    ),
    pytest.param(service(), "spec.ipFamilyPolicy", "PreferDualStack", id="family policy"),
    pytest.param(plain("Secret"), "type", "kubernetes.io/tls", id="secret type"),
    pytest.param(
        plain("Namespace", spec={}),
        "spec.finalizers",
        [],
        id="finalized namespace keeps an empty list",
    ),
    pytest.param(
        plain("Node", status={"capacity": {"cpu": "4"}}),
        "status.allocatable",
        {"cpu": "3"},
        id="allocatable",
    ),
    pytest.param(
        plain("PersistentVolume", spec={}),
        "spec.persistentVolumeReclaimPolicy",
        "Delete",
        id="pv reclaim policy",
    ),
    pytest.param(
        plain("PersistentVolumeClaim", spec={}), "spec.volumeMode", "Block", id="pvc block mode"
    ),
    pytest.param(
        plain("StorageClass", "storage.k8s.io/v1"),
        "reclaimPolicy",
        "Retain",
        id="class reclaim policy",
    ),
    pytest.param(
        plain("StorageClass", "storage.k8s.io/v1"),
        "volumeBindingMode",
        "WaitForFirstConsumer",
        id="class binding mode",
    ),
]


@pytest.mark.parametrize(("obj", "path", "value"), EXPLICIT)
def test_explicit_values_win(obj, path, value):
    """A field the user set keeps its value, even Go's zero values where Kubernetes keeps them."""
    assert at(apply_defaults(put(obj, path, value)), path) == value


# --- what is deliberately not filled in ------------------------------------------------------

NOT_DEFAULTED = [
    pytest.param(
        workload("Deployment"),
        "spec.template.spec.enableServiceLinks",
        id="templates get no service links",
    ),
    pytest.param(
        workload(
            "Deployment",
            template={"spec": {"containers": [container(resources={"limits": {"cpu": "1"}})]}},
        ),
        "spec.template.spec.containers[0].resources.requests",
        id="templates get no requests from limits",
    ),
    pytest.param(
        pod(container(ports=[{"containerPort": 80}])),
        "spec.containers[0].ports[0].hostPort",
        id="no host port without host network",
    ),
    pytest.param(
        workload("Deployment", strategy={"type": "Recreate"}),
        "spec.strategy.rollingUpdate",
        id="recreate has no rolling update",
    ),
    pytest.param(
        workload("StatefulSet", updateStrategy={"type": "OnDelete"}),
        "spec.updateStrategy.rollingUpdate",
        id="on-delete has no partition",
    ),
    pytest.param(
        workload("DaemonSet", updateStrategy={"type": "OnDelete"}),
        "spec.updateStrategy.rollingUpdate",
        id="on-delete daemon set",
    ),
    pytest.param(
        plain("HorizontalPodAutoscaler", "autoscaling/v2", spec={}),
        "spec.behavior",
        id="no behavior unless given",
    ),
    pytest.param(service(), "spec.externalTrafficPolicy", id="ClusterIP has no external policy"),
    pytest.param(
        service(type="NodePort"),
        "spec.allocateLoadBalancerNodePorts",
        id="only load balancers allocate node ports",
    ),
    pytest.param(
        service(sessionAffinityConfig={"clientIP": {"timeoutSeconds": 5}}),
        "spec.sessionAffinityConfig",
        id="affinity config dropped without affinity",
    ),
    pytest.param(
        service(type="ExternalName", externalName="db.example.com"),
        "spec.clusterIPs",
        id="ExternalName gets no cluster IPs",
    ),
    pytest.param(
        service(type="ExternalName", externalName="db.example.com"),
        "spec.ipFamilies",
        id="ExternalName gets no IP families",
    ),
    pytest.param(
        service(type="ExternalName", externalName="db.example.com"),
        "spec.internalTrafficPolicy",
        id="ExternalName gets no traffic policy",
    ),
    pytest.param(service(), "spec.clusterIP", id="cluster IP left to the allocator"),
    pytest.param(plain("Secret", stringData=None), "stringData", id="null stringData dropped"),
    pytest.param(plain("Node", status={}), "status.allocatable", id="no capacity, no allocatable"),
]


@pytest.mark.parametrize(("obj", "path"), NOT_DEFAULTED)
def test_fields_kubernetes_does_not_default_stay_absent(obj, path):
    """Defaults apply only where Kubernetes applies them."""
    assert at(apply_defaults(obj), path) is MISSING


# --- Secret stringData -----------------------------------------------------------------------


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


STRING_DATA = [
    pytest.param(
        {"stringData": {"user": "admin"}},
        {"user": encoded("admin")},
        id="string data encoded into data",
    ),
    pytest.param(
        {"data": {"user": encoded("old"), "keep": encoded("k")}, "stringData": {"user": "new"}},
        {"user": encoded("new"), "keep": encoded("k")},
        id="string data wins",
    ),
    pytest.param(
        {"stringData": {"emoji": "\u2603"}}, {"emoji": encoded("\u2603")}, id="UTF-8 text"
    ),
    pytest.param({"stringData": {"n": 5}}, {"n": 5}, id="non-string left for validation"),
    pytest.param({"stringData": {}}, {}, id="empty string data"),
]


@pytest.mark.parametrize(("fields", "data"), STRING_DATA)
def test_secret_string_data_is_folded_into_data(fields, data):
    """stringData is base64-encoded into data, overriding it, and then removed."""
    result = apply_defaults(plain("Secret", **fields))
    assert result["data"] == data
    assert "stringData" not in result


def test_secret_string_data_of_the_wrong_shape_is_left_alone():
    """A stringData that is not a map stays for validation to report."""
    result = apply_defaults(plain("Secret", stringData=["a"]))
    assert result["stringData"] == ["a"] and "data" not in result


# --- images ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "tag", "policy"),
    [
        pytest.param("nginx", "latest", "Always", id="no tag"),
        pytest.param("nginx:1.27", "1.27", "IfNotPresent", id="tag"),
        pytest.param("nginx:latest", "latest", "Always", id="latest"),
        pytest.param(
            "registry.example.com:5000/team/app:v2", "v2", "IfNotPresent", id="registry with a port"
        ),
        pytest.param("localhost/app", "latest", "Always", id="localhost registry"),
        pytest.param("nginx@sha256:" + "0" * 64, "", "IfNotPresent", id="digest"),
        pytest.param("nginx:1.27@sha256:" + "0" * 64, "1.27", "IfNotPresent", id="tag and digest"),
        pytest.param("Nginx", "", "IfNotPresent", id="upper case is not a reference"),
        pytest.param("0" * 64, "", "IfNotPresent", id="bare image ID"),
        pytest.param(None, "", "IfNotPresent", id="no image"),
    ],
)
def test_image_tags_and_pull_policies(image, tag, policy):
    """The pull policy follows the tag kubelet would pull: Always only for latest."""
    assert image_tag(image) == tag
    assert default_pull_policy(image) == policy


# --- allocated fields survive a replace ------------------------------------------------------

ALLOCATED = {
    "clusterIP": "10.96.0.20",
    "clusterIPs": ["10.96.0.20"],
    "ipFamilies": ["IPv4"],
    "ipFamilyPolicy": "SingleStack",
}


def allocated_service(**spec: Any) -> dict:
    return service(**ALLOCATED, **spec)


PRESERVED = [
    pytest.param(
        allocated_service(), service(), "spec.clusterIP", "10.96.0.20", id="cluster IP kept"
    ),
    pytest.param(
        allocated_service(), service(), "spec.clusterIPs", ["10.96.0.20"], id="cluster IPs kept"
    ),
    pytest.param(
        allocated_service(),
        service(),
        "spec.ipFamilyPolicy",
        "SingleStack",
        id="family policy kept",
    ),
    pytest.param(
        allocated_service(),
        service(clusterIP="10.96.0.30"),
        "spec.clusterIP",
        "10.96.0.30",
        id="a requested IP is not overwritten",
    ),
    pytest.param(
        allocated_service(
            type="NodePort", ports=[{"port": 80, "protocol": "TCP", "nodePort": 30080}]
        ),
        service(type="NodePort"),
        "spec.ports[0].nodePort",
        30080,
        id="node port kept by port and protocol",
    ),
    pytest.param(
        allocated_service(
            type="NodePort", ports=[{"port": 80, "protocol": "UDP", "nodePort": 30080}]
        ),
        service(type="NodePort"),
        "spec.ports[0].nodePort",
        MISSING,
        id="node port of another protocol not taken",
    ),
    pytest.param(
        allocated_service(type="LoadBalancer", healthCheckNodePort=30100),
        service(type="LoadBalancer"),
        "spec.healthCheckNodePort",
        30100,
        id="health check port kept",
    ),
    pytest.param(
        allocated_service(),
        service(type="ExternalName", externalName="x.example.com"),
        "spec.clusterIP",
        MISSING,
        id="nothing carried into ExternalName",
    ),
    pytest.param(
        allocated_service(type="NodePort", ports=[{"port": 80, "nodePort": 30080}]),
        service(),
        "spec.ports[0].nodePort",
        MISSING,
        id="no node ports carried into ClusterIP",
    ),
]


@pytest.mark.parametrize(("old", "new", "path", "expected"), PRESERVED)
def test_replace_keeps_allocated_service_fields(old, new, path, expected):
    """A replace that leaves out allocated addresses and ports keeps the old ones."""
    assert at(preserve_allocated_fields(old, new), path) == expected


def test_preserving_other_kinds_changes_nothing():
    """Only Services have allocated fields; other kinds come back as copies."""
    new = plain("ConfigMap", data={"a": "1"})
    result = preserve_allocated_fields(plain("ConfigMap", data={"a": "0"}), new)
    assert result == new and result is not new


# --- never mutates, never raises -------------------------------------------------------------

EVERY_KIND = [
    pod(
        container(
            resources={"limits": {"cpu": "1"}},
            livenessProbe=dict(HTTP_PROBE),
            env=ENV_FIELD_REF,
            ports=[{"containerPort": 80}],
        ),
        volumes=[{"name": "v"}, {"name": "c", "configMap": {"name": "c"}}],
        hostNetwork=True,
    ),
    workload("Deployment"),
    workload("ReplicaSet"),
    workload("DaemonSet"),
    workload("StatefulSet", volumeClaimTemplates=[{"spec": {}}]),
    plain("HorizontalPodAutoscaler", "autoscaling/v2", spec={"behavior": {"scaleUp": {}}}),
    service(type="LoadBalancer", sessionAffinity="ClientIP", clusterIP="10.96.0.9"),
    plain("Secret", stringData={"a": "b"}, data={"c": "ZA=="}),
    plain("Namespace"),
    plain("Node", status={"capacity": {"cpu": "1000m"}}),
    plain("PersistentVolume", spec={"capacity": {"storage": "1024Mi"}}),
    plain("PersistentVolumeClaim", spec={"resources": {"requests": {"storage": "1Gi"}}}),
    plain("Endpoints", subsets=[{"ports": [{"port": 80}]}]),
    plain("StorageClass", "storage.k8s.io/v1"),
]


@pytest.mark.parametrize("obj", [pytest.param(o, id=o["kind"]) for o in EVERY_KIND])
def test_input_is_never_mutated(obj):
    """apply_defaults returns a new object and leaves its input exactly as it was."""
    before = copy.deepcopy(obj)
    result = apply_defaults(obj)
    assert obj == before
    assert result is not obj and result != obj


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param(plain("ConfigMap", data={"a": "1"}), id="kind without defaults"),
        pytest.param({"kind": "Frobnicator", "spec": {}}, id="unknown kind"),
        pytest.param({"spec": {}}, id="no kind"),
    ],
)
def test_kinds_without_defaults_come_back_as_equal_copies(obj):
    """Objects of kinds with no defaults are copied, not changed."""
    result = apply_defaults(obj)
    assert result == obj and result is not obj


@pytest.mark.parametrize("value", [None, 0, "text", [1, 2], {"a": [1]}])
def test_values_that_are_not_objects_come_back_as_copies(value):
    """A non-object is returned unchanged (a copy, for containers)."""
    assert apply_defaults(value) == value


ODD = [None, 0, "x", [], {}, [None], [[]], {"a": None}, 1.5, True]


def _odd_variants(obj: dict):
    """``obj`` with each nested field (below the top level) replaced by each odd value."""
    stack = [(obj, ())]
    paths = []
    while stack:
        node, path = stack.pop()
        items = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        for name, item in items:
            if path or name not in ("kind", "apiVersion"):
                paths.append(path + (name,))
            stack.append((item, path + (name,)))
    for path in paths:
        for value in ODD:
            variant = copy.deepcopy(obj)
            target = variant
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = copy.deepcopy(value)
            yield variant


@pytest.mark.parametrize("obj", [pytest.param(o, id=o["kind"]) for o in EVERY_KIND])
def test_odd_shapes_never_raise(obj):
    """Defaulting copes with any JSON shape: odd values are left for validation to report."""
    count = 0
    for variant in _odd_variants(obj):
        before = copy.deepcopy(variant)
        apply_defaults(variant)
        assert variant == before
        count += 1
    assert count > 10
