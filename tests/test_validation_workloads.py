"""Validation of Pods, Deployments, ReplicaSets, StatefulSets and DaemonSets.

Objects go through the API defaults first, as on the write path, and the messages are
Kubernetes v1.32's (``pkg/apis/core/validation``, ``pkg/apis/apps/validation``). Whatever JSON
comes in, validation answers with field errors and never raises.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cluster.store.defaults import apply_defaults
from cluster.store.errors import FieldError
from cluster.store.selectors import label_selector_from_dict
from cluster.store.validation import validate, validate_update
from cluster.store.validation.common import UPDATE_VALIDATORS
from cluster.store.validation.workloads import (
    POD_UPDATE_FORBIDDEN,
    STATEFULSET_UPDATE_FORBIDDEN,
    go_label_selector,
    validate_pod_spec,
    validate_pod_template,
    validate_pvc_spec,
)
from tests.builders import container, deployment, pod

DNS_LABEL_RULE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS_SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
QUANTITY_RULE = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
MISMATCH = "`selector` does not match template `labels`"


# --- builders --------------------------------------------------------------------------------


def errors_of(obj: dict) -> list[str]:
    return [str(error) for error in validate(apply_defaults(obj))]


def update_errors(old: dict, new: dict) -> list[str]:
    return [str(error) for error in validate_update(apply_defaults(old), apply_defaults(new))]


def pod_with(**spec: Any) -> dict:
    """A Pod whose spec has these fields replaced."""
    obj = pod("p")
    obj["spec"].update(copy.deepcopy(spec))
    return obj


def pod_container(**fields: Any) -> dict:
    """A Pod whose only container has these fields replaced."""
    obj = pod("p")
    obj["spec"]["containers"][0].update(copy.deepcopy(fields))
    return obj


def pod_volume(volume: dict, **container_fields: Any) -> dict:
    obj = pod_container(**container_fields)
    obj["spec"]["volumes"] = [copy.deepcopy(volume)]
    return obj


def workload(kind: str, **spec: Any) -> dict:
    """A valid apps/v1 object of ``kind`` selecting app=web, with these spec fields replaced."""
    obj = deployment("web")
    obj["kind"] = kind
    obj["spec"].update(copy.deepcopy(spec))
    if kind == "DaemonSet":
        obj["spec"].pop("replicas", None)
    return obj


def stateful_set(**spec: Any) -> dict:
    obj = workload(
        "StatefulSet",
        serviceName="web",
        volumeClaimTemplates=[
            {
                "metadata": {"name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            }
        ],
    )
    obj["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [
        {"name": "data", "mountPath": "/data"}
    ]
    obj["spec"].update(copy.deepcopy(spec))
    return obj


def template_spec(kind: str, **fields: Any) -> dict:
    obj = workload(kind)
    obj["spec"]["template"]["spec"].update(copy.deepcopy(fields))
    return obj


def with_template_labels(obj: dict, labels: dict | None) -> dict:
    obj["spec"]["template"]["metadata"]["labels"] = labels
    return obj


# --- valid objects ---------------------------------------------------------------------------


def rich_pod_spec() -> dict:
    """A pod spec that uses most of what validation looks at, all of it valid."""
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5}
    return {
        "volumes": [
            {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}},
            {
                "name": "config",
                "configMap": {"name": "settings", "items": [{"key": "a", "path": "a.txt"}]},
            },
            {"name": "secret", "secret": {"secretName": "creds", "defaultMode": 0o400}},
            {"name": "claim", "persistentVolumeClaim": {"claimName": "data"}},
            {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}},
            {
                "name": "info",
                "downwardAPI": {
                    "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]
                },
            },
            {
                "name": "all",
                "projected": {
                    "sources": [{"configMap": {"name": "settings"}}, {"secret": {"name": "creds"}}]
                },
            },
        ],
        "initContainers": [
            {"name": "setup", "image": "busybox", "command": ["sh", "-c", "true"]},
            {
                "name": "proxy",
                "image": "envoy",
                "restartPolicy": "Always",
                "readinessProbe": {"tcpSocket": {"port": 9901}},
            },
        ],
        "containers": [
            {
                "name": "main",
                "image": "nginx:1.27",
                "ports": [
                    {"name": "http", "containerPort": 8080},
                    {"name": "metrics", "containerPort": 9090, "protocol": "TCP"},
                ],
                "env": [
                    {"name": "PLAIN", "value": "1"},
                    {"name": "my.dotted-name", "value": "ok"},
                    {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {
                        "name": "LABEL",
                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}},
                    },
                    {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
                    {
                        "name": "MODE",
                        "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}},
                    },
                    {
                        "name": "PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}},
                    },
                ],
                "envFrom": [
                    {"configMapRef": {"name": "settings"}},
                    {"prefix": "DB_", "secretRef": {"name": "creds"}},
                ],
                "volumeMounts": [
                    {"name": "scratch", "mountPath": "/tmp"},
                    {"name": "config", "mountPath": "/etc/app", "readOnly": True},
                    {"name": "claim", "mountPath": "/data", "subPath": "web"},
                ],
                "resources": {
                    "requests": {"cpu": "250m", "memory": "64Mi"},
                    "limits": {"cpu": "1", "memory": "128Mi", "example.com/gpu": "1"},
                },
                "livenessProbe": probe,
                "readinessProbe": {"exec": {"command": ["true"]}},
                "startupProbe": {"grpc": {"port": 9090}, "failureThreshold": 30},
                "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
            }
        ],
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "zone", "operator": "In", "values": ["a", "b"]},
                                {"key": "gpu", "operator": "DoesNotExist"},
                                {"key": "cores", "operator": "Gt", "values": ["4"]},
                            ]
                        },
                        {
                            "matchFields": [
                                {"key": "metadata.name", "operator": "In", "values": ["node-1"]}
                            ]
                        },
                    ]
                },
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 10,
                        "preference": {"matchExpressions": [{"key": "disk", "operator": "Exists"}]},
                    }
                ],
            },
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "labelSelector": {"matchLabels": {"app": "web"}},
                            "topologyKey": "kubernetes.io/hostname",
                        },
                    }
                ]
            },
        },
        "tolerations": [
            {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"},
            {
                "key": "node.kubernetes.io/unreachable",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
            {"operator": "Exists"},
        ],
        "dnsPolicy": "None",
        "dnsConfig": {
            "nameservers": ["10.96.0.10"],
            "searches": ["svc.cluster.local."],
            "options": [{"name": "ndots", "value": "2"}],
        },
        "readinessGates": [{"conditionType": "example.com/ready"}],
        "imagePullSecrets": [{"name": "registry"}],
        "serviceAccountName": "web",
        "priorityClassName": "high",
        "hostname": "web-0",
        "subdomain": "web",
        "terminationGracePeriodSeconds": 10,
        "restartPolicy": "Always",
        "os": {"name": "linux"},
    }


def rich_pod() -> dict:
    obj = pod("p")
    obj["spec"] = rich_pod_spec()
    obj["spec"]["schedulingGates"] = [{"name": "example.com/quota"}]
    obj["spec"]["activeDeadlineSeconds"] = 3600
    return obj


def rich_workload(kind: str) -> dict:
    obj = workload(kind)
    obj["spec"]["template"]["spec"] = rich_pod_spec()
    obj["spec"]["selector"] = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}],
    }
    if kind == "StatefulSet":
        rich = stateful_set()
        rich["spec"]["template"]["spec"] = obj["spec"]["template"]["spec"]
        rich["spec"]["template"]["spec"]["containers"][0]["volumeMounts"].append(
            {"name": "data", "mountPath": "/var/lib/data"}
        )
        rich["spec"]["selector"] = obj["spec"]["selector"]
        rich["spec"]["updateStrategy"] = {
            "type": "RollingUpdate",
            "rollingUpdate": {"partition": 1},
        }
        rich["spec"]["podManagementPolicy"] = "Parallel"
        rich["spec"]["ordinals"] = {"start": 1}
        rich["spec"]["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": "Delete"}
        return rich
    if kind == "Deployment":
        obj["spec"]["strategy"] = {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "10%"},
        }
        obj["spec"]["minReadySeconds"] = 5
    if kind == "DaemonSet":
        obj["spec"]["updateStrategy"] = {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": "20%"},
        }
    return obj


VALID_OBJECTS = [
    pytest.param(pod("p"), id="minimal pod"),
    pytest.param(rich_pod(), id="pod using most fields"),
    pytest.param(
        pod_with(containers=[container("a"), container("b")], initContainers=[container("c")]),
        id="distinct container names",
    ),
    pytest.param(
        pod_with(hostNetwork=True, containers=[container(ports=[{"containerPort": 80}])]),
        id="host network pod gets hostPort defaulted",
    ),
    pytest.param(
        pod_container(resources={"limits": {"cpu": "500m"}}),
        id="limit without request: the request is defaulted",
    ),
    pytest.param(
        pod_with(dnsPolicy="ClusterFirstWithHostNet", restartPolicy="OnFailure"),
        id="other policies",
    ),
    pytest.param(deployment("web"), id="minimal deployment"),
    pytest.param(workload("Deployment", strategy={"type": "Recreate"}), id="recreate"),
    pytest.param(
        workload("Deployment", replicas=0, progressDeadlineSeconds=30, minReadySeconds=10),
        id="deadline above minReadySeconds",
    ),
    pytest.param(rich_workload("Deployment"), id="rich deployment"),
    pytest.param(workload("ReplicaSet"), id="minimal replicaset"),
    pytest.param(rich_workload("ReplicaSet"), id="rich replicaset"),
    pytest.param(workload("DaemonSet"), id="minimal daemonset"),
    pytest.param(
        workload("DaemonSet", updateStrategy={"type": "OnDelete"}), id="daemonset on delete"
    ),
    pytest.param(rich_workload("DaemonSet"), id="rich daemonset"),
    pytest.param(stateful_set(), id="statefulset mounting its claim template"),
    pytest.param(stateful_set(serviceName=""), id="statefulset without serviceName"),
    pytest.param(stateful_set(updateStrategy={"type": "OnDelete"}), id="statefulset on delete"),
    pytest.param(rich_workload("StatefulSet"), id="rich statefulset"),
]


@pytest.mark.parametrize("obj", VALID_OBJECTS)
def test_valid_objects_have_no_errors(obj):
    """Well-formed Pods and workloads pass validation untouched."""
    assert errors_of(obj) == []


# --- pods ------------------------------------------------------------------------------------

POD_CASES = [
    # containers
    pytest.param(pod_with(containers=[]), "spec.containers: Required value", id="no containers"),
    pytest.param(
        pod_with(containers=None), "spec.containers: Required value", id="containers null"
    ),
    pytest.param(
        pod_container(name=""),
        "spec.containers[0].name: Required value",
        id="container without name",
    ),
    pytest.param(
        pod_container(name="Main"),
        f'spec.containers[0].name: Invalid value: "Main": {DNS_LABEL_RULE}',
        id="container name not a DNS label",
    ),
    pytest.param(
        pod_with(containers=[container("main"), container("main")]),
        'spec.containers[1].name: Duplicate value: "main"',
        id="duplicate container",
    ),
    pytest.param(
        pod_with(initContainers=[container("main")]),
        'spec.initContainers[0].name: Duplicate value: "main"',
        id="init container reuses a container name",
    ),
    pytest.param(
        pod_container(image=""), "spec.containers[0].image: Required value", id="no image"
    ),
    pytest.param(
        pod_container(image=" nginx"),
        'spec.containers[0].image: Invalid value: " nginx": must not have leading or '
        "trailing whitespace",
        id="image with whitespace",
    ),
    pytest.param(
        pod_container(imagePullPolicy="Sometimes"),
        'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported '
        'values: "Always", "IfNotPresent", "Never"',
        id="pull policy",
    ),
    pytest.param(
        pod_container(restartPolicy="Always"),
        "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
        id="restartPolicy on a regular container",
    ),
    pytest.param(
        pod_with(initContainers=[container("init", restartPolicy="OnFailure")]),
        'spec.initContainers[0].restartPolicy: Unsupported value: "OnFailure": '
        'supported values: "Always"',
        id="init restartPolicy",
    ),
    pytest.param(
        pod_with(
            initContainers=[container("init", readinessProbe={"exec": {"command": ["true"]}})]
        ),
        "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init "
        "containers without restartPolicy=Always",
        id="probe on a plain init container",
    ),
    # ports
    pytest.param(
        pod_container(ports=[{"containerPort": 70000}]),
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be "
        "between 1 and 65535, inclusive",
        id="container port too big",
    ),
    pytest.param(
        pod_container(ports=[{"containerPort": -1}]),
        "spec.containers[0].ports[0].containerPort: Invalid value: -1: must be between 1 "
        "and 65535, inclusive",
        id="negative container port",
    ),
    pytest.param(
        pod_container(ports=[{"containerPort": 0}]),
        "spec.containers[0].ports[0].containerPort: Required value",
        id="container port 0 is missing",
    ),
    pytest.param(
        pod_container(ports=[{"containerPort": "80"}]),
        'spec.containers[0].ports[0].containerPort: Invalid value: "80": must be an integer',
        id="container port as string",
    ),
    pytest.param(
        pod_container(ports=[{"containerPort": 80, "protocol": "HTTP"}]),
        'spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported '
        'values: "SCTP", "TCP", "UDP"',
        id="protocol",
    ),
    pytest.param(
        pod_container(ports=[{"containerPort": 80, "name": "HTTP"}]),
        'spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain only '
        "alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        id="port name case",
    ),
    pytest.param(
        pod_container(
            ports=[{"containerPort": 80, "name": "web"}, {"containerPort": 81, "name": "web"}]
        ),
        'spec.containers[0].ports[1].name: Duplicate value: "web"',
        id="duplicate port name",
    ),
    pytest.param(
        pod_container(
            ports=[{"containerPort": 80, "hostPort": 80}, {"containerPort": 81, "hostPort": 80}]
        ),
        'spec.containers[0].ports[1].hostPort: Duplicate value: "TCP//80"',
        id="host port used twice",
    ),
    pytest.param(
        pod_with(
            hostNetwork=True, containers=[container(ports=[{"containerPort": 80, "hostPort": 81}])]
        ),
        "spec.containers[0].ports[0].hostPort: Invalid value: 81: must match "
        "`containerPort` when `hostNetwork` is true",
        id="host network port mismatch",
    ),
    # resources
    pytest.param(
        pod_container(resources={"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}),
        'spec.containers[0].resources.requests: Invalid value: "2": must be less than or '
        "equal to cpu limit of 1",
        id="request above limit",
    ),
    pytest.param(
        pod_container(resources={"requests": {"cpu": "lots"}}),
        f'spec.containers[0].resources.requests.cpu: Invalid value: "lots": {QUANTITY_RULE}',
        id="malformed quantity",
    ),
    pytest.param(
        pod_container(resources={"limits": {"memory": "1K"}}),
        'spec.containers[0].resources.limits.memory: Invalid value: "1K": unable to '
        "parse quantity's suffix",
        id="bad suffix",
    ),
    pytest.param(
        pod_container(resources={"requests": {"memory": "-1Mi"}}),
        'spec.containers[0].resources.requests[memory]: Invalid value: "-1Mi": must be '
        "greater than or equal to 0",
        id="negative request",
    ),
    pytest.param(
        pod_container(resources={"requests": {"gpu": "1"}}),
        'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a '
        "standard resource for containers",
        id="unknown resource name",
    ),
    pytest.param(
        pod_container(resources={"requests": {"example.com/gpu": "1"}}),
        "spec.containers[0].resources.limits: Required value: Limit must be set for non "
        "overcommitable resources",
        id="extended resource without limit",
    ),
    pytest.param(
        pod_container(resources={"limits": {"example.com/gpu": "500m"}}),
        'spec.containers[0].resources.limits[example.com/gpu]: Invalid value: "500m": '
        "must be an integer",
        id="fractional extended resource",
    ),
    # env
    pytest.param(
        pod_container(env=[{"value": "x"}]),
        "spec.containers[0].env[0].name: Required value",
        id="env without name",
    ),
    pytest.param(
        pod_container(env=[{"name": "A=B"}]),
        'spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment '
        "variable name must consist only of printable ASCII characters other than '='",
        id="env name with =",
    ),
    pytest.param(
        pod_container(env=[{"name": "A", "valueFrom": {}}]),
        'spec.containers[0].env[0].valueFrom: Invalid value: "": must specify one of: '
        "`fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        id="valueFrom without source",
    ),
    pytest.param(
        pod_container(
            env=[
                {
                    "name": "A",
                    "valueFrom": {
                        "configMapKeyRef": {"name": "c", "key": "k"},
                        "secretKeyRef": {"name": "s", "key": "k"},
                    },
                }
            ]
        ),
        'spec.containers[0].env[0].valueFrom: Invalid value: "": may not have more than '
        "one field specified at a time",
        id="valueFrom with two sources",
    ),
    pytest.param(
        pod_container(
            env=[
                {
                    "name": "A",
                    "value": "x",
                    "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}},
                }
            ]
        ),
        'spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified '
        "when `value` is not empty",
        id="value and valueFrom",
    ),
    pytest.param(
        pod_container(env=[{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "c"}}}]),
        "spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Required value",
        id="configMapKeyRef without key",
    ),
    pytest.param(
        pod_container(env=[{"name": "A", "valueFrom": {"secretKeyRef": {"key": "k"}}}]),
        f'spec.containers[0].env[0].valueFrom.secretKeyRef.name: Invalid value: "": '
        f"{DNS_SUBDOMAIN_RULE}",
        id="secretKeyRef without name",
    ),
    pytest.param(
        pod_container(
            env=[{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.schedulerName"}}}]
        ),
        "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "
        '"spec.schedulerName": supported values: "metadata.name", "metadata.namespace", '
        '"metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", '
        '"status.hostIPs", "status.podIP", "status.podIPs"',
        id="fieldRef path",
    ),
    pytest.param(
        pod_container(envFrom=[{"configMapRef": {}}]),
        "spec.containers[0].envFrom[0].configMapRef.name: Required value",
        id="envFrom without name",
    ),
    pytest.param(
        pod_container(envFrom=[{"prefix": "X_"}]),
        'spec.containers[0].envFrom: Invalid value: "": must specify one of: '
        "`configMapRef` or `secretRef`",
        id="envFrom without source",
    ),
    # volumes and mounts
    pytest.param(
        pod_container(volumeMounts=[{"name": "data", "mountPath": "/data"}]),
        'spec.containers[0].volumeMounts[0].name: Not found: "data"',
        id="mount of an undeclared volume",
    ),
    pytest.param(
        pod_volume({"name": "data", "emptyDir": {}}, volumeMounts=[{"name": "data"}]),
        "spec.containers[0].volumeMounts[0].mountPath: Required value",
        id="mount without path",
    ),
    pytest.param(
        pod_volume(
            {"name": "data", "emptyDir": {}},
            volumeMounts=[{"name": "data", "mountPath": "/d"}, {"name": "data", "mountPath": "/d"}],
        ),
        'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/d": must be unique',
        id="same mount path twice",
    ),
    pytest.param(
        pod_with(volumes=[{"name": "a", "emptyDir": {}}, {"name": "a", "emptyDir": {}}]),
        'spec.volumes[1].name: Duplicate value: "a"',
        id="duplicate volume",
    ),
    pytest.param(
        pod_with(volumes=[{"name": "Data", "emptyDir": {}}]),
        f'spec.volumes[0].name: Invalid value: "Data": {DNS_LABEL_RULE}',
        id="volume name",
    ),
    pytest.param(
        pod_with(volumes=[{"emptyDir": {}}]),
        "spec.volumes[0].name: Required value",
        id="volume without name",
    ),
    pytest.param(
        pod_with(volumes=[{"name": "a", "emptyDir": {}, "configMap": {"name": "c"}}]),
        "spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type",
        id="two volume sources",
    ),
    pytest.param(
        pod_with(volumes=[{"name": "a", "secret": {}}]),
        "spec.volumes[0].secret.secretName: Required value",
        id="secret without name",
    ),
    pytest.param(
        pod_with(volumes=[{"name": "a", "configMap": {"name": "c", "defaultMode": 1024}}]),
        "spec.volumes[0].configMap.defaultMode: Invalid value: 1024: must be a number "
        "between 0 and 0777 (octal), both inclusive",
        id="file mode",
    ),
    pytest.param(
        pod_with(volumes=[{"name": "a", "persistentVolumeClaim": {}}]),
        "spec.volumes[0].persistentVolumeClaim.claimName: Required value",
        id="claim without name",
    ),
    pytest.param(
        pod_with(volumes=[{"name": "a", "hostPath": {"path": "/a/../etc"}}]),
        "spec.volumes[0].hostPath.path: Invalid value: \"/a/../etc\": must not contain '..'",
        id="host path backsteps",
    ),
    # probes
    pytest.param(
        pod_container(livenessProbe={"periodSeconds": 5}),
        "spec.containers[0].livenessProbe: Required value: must specify a handler type",
        id="probe without handler",
    ),
    pytest.param(
        pod_container(livenessProbe={"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}}),
        "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more "
        "than 1 handler type",
        id="probe with two handlers",
    ),
    pytest.param(
        pod_container(readinessProbe={"exec": {"command": ["true"]}, "periodSeconds": -1}),
        "spec.containers[0].readinessProbe.periodSeconds: Invalid value: -1: must be "
        "greater than or equal to 0",
        id="negative period",
    ),
    pytest.param(
        pod_container(livenessProbe={"exec": {"command": ["true"]}, "successThreshold": 2}),
        "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
        id="liveness success threshold",
    ),
    pytest.param(
        pod_container(readinessProbe={"httpGet": {"port": 0}}),
        "spec.containers[0].readinessProbe.httpGet.port: Invalid value: 0: must be "
        "between 1 and 65535, inclusive",
        id="probe port 0",
    ),
    pytest.param(
        pod_container(readinessProbe={"exec": {}}),
        "spec.containers[0].readinessProbe.exec.command: Required value",
        id="exec without command",
    ),
    # pod-level fields
    pytest.param(
        pod_with(restartPolicy="Sometimes"),
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: '
        '"Always", "OnFailure", "Never"',
        id="restart policy",
    ),
    pytest.param(
        pod_with(dnsPolicy="Google"),
        'spec.dnsPolicy: Unsupported value: "Google": supported values: '
        '"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
        id="dns policy",
    ),
    pytest.param(
        pod_with(dnsPolicy="None"),
        "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None",
        id="dns policy None without config",
    ),
    pytest.param(
        pod_with(terminationGracePeriodSeconds="30"),
        'spec.terminationGracePeriodSeconds: Invalid value: "30": must be an integer',
        id="grace period as string",
    ),
    pytest.param(
        pod_with(activeDeadlineSeconds=0),
        "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive",
        id="active deadline 0",
    ),
    pytest.param(
        pod_with(nodeSelector={"disk": "ssd!"}),
        'spec.nodeSelector: Invalid value: "ssd!": a valid label must be an empty '
        "string or consist of alphanumeric characters, '-', '_' or '.', and must start "
        "and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
        "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?"
        "[A-Za-z0-9])?')",
        id="node selector value",
    ),
    pytest.param(
        pod_with(nodeName="Node_1"),
        f'spec.nodeName: Invalid value: "Node_1": {DNS_SUBDOMAIN_RULE}',
        id="node name",
    ),
    pytest.param(
        pod_with(imagePullSecrets=[{"name": "r", "namespace": "x"}]),
        'spec.imagePullSecrets[0]: Invalid value: {"name":"r","namespace":"x"}: only '
        "name may be set",
        id="pull secret fields",
    ),
    # tolerations
    pytest.param(
        pod_with(tolerations=[{"key": "k", "operator": "Exists", "value": "v"}]),
        'spec.tolerations[0].operator: Invalid value: "v": value must be empty when '
        "`operator` is 'Exists'",
        id="Exists with value",
    ),
    pytest.param(
        pod_with(tolerations=[{"operator": "Equal", "value": "v"}]),
        'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists '
        'when `key` is empty, which means "match all values and all keys"',
        id="Equal without key",
    ),
    pytest.param(
        pod_with(tolerations=[{"key": "k", "operator": "Above"}]),
        'spec.tolerations[0].operator: Unsupported value: "Above": supported values: '
        '"Equal", "Exists"',
        id="toleration operator",
    ),
    pytest.param(
        pod_with(tolerations=[{"key": "k", "effect": "NoRun"}]),
        'spec.tolerations[0].effect: Unsupported value: "NoRun": supported values: '
        '"NoSchedule", "PreferNoSchedule", "NoExecute"',
        id="toleration effect",
    ),
    pytest.param(
        pod_with(tolerations=[{"key": "k", "effect": "NoSchedule", "tolerationSeconds": 10}]),
        'spec.tolerations[0].effect: Invalid value: "NoSchedule": effect must be '
        "'NoExecute' when `tolerationSeconds` is set",
        id="seconds without NoExecute",
    ),
    # node affinity
    pytest.param(
        pod_with(
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}
                }
            }
        ),
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
        "nodeSelectorTerms: Required value: must have at least one node selector term",
        id="no node selector terms",
    ),
    pytest.param(
        pod_with(
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "zone", "operator": "In"}]}
                        ]
                    }
                }
            }
        ),
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
        "nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be "
        "specified when `operator` is 'In' or 'NotIn'",
        id="In without values",
    ),
    pytest.param(
        pod_with(
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "zone", "operator": "Exists", "values": ["a"]}
                                ]
                            }
                        ]
                    }
                }
            }
        ),
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
        "nodeSelectorTerms[0].matchExpressions[0].values: Forbidden: may not be "
        "specified when `operator` is 'Exists' or 'DoesNotExist'",
        id="Exists with values",
    ),
    pytest.param(
        pod_with(
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "cores", "operator": "Gt", "values": ["1", "2"]}
                                ]
                            }
                        ]
                    }
                }
            }
        ),
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
        "nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be "
        "specified single value when `operator` is 'Lt' or 'Gt'",
        id="Gt with 2 values",
    ),
    pytest.param(
        pod_with(
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "zone", "operator": "Near"}]}
                        ]
                    }
                }
            }
        ),
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
        'nodeSelectorTerms[0].matchExpressions[0].operator: Invalid value: "Near": not '
        "a valid selector operator",
        id="unknown operator",
    ),
    pytest.param(
        pod_with(
            affinity={
                "podAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {}}]
                }
            }
        ),
        "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]."
        "topologyKey: Required value: can not be empty",
        id="pod affinity topology key",
    ),
]


@pytest.mark.parametrize(("obj", "expected"), POD_CASES)
def test_pod_errors(obj, expected):
    """Each bad Pod is reported with Kubernetes' path and message."""
    assert expected in errors_of(obj)


def test_pod_errors_are_field_errors_with_kubernetes_reasons():
    """Errors are FieldErrors whose causes carry the metav1.StatusCause reasons."""
    [error] = validate(apply_defaults(pod_container(image="")))
    assert isinstance(error, FieldError)
    assert error.as_cause() == {
        "reason": "FieldValueRequired",
        "message": "Required value",
        "field": "spec.containers[0].image",
    }
    [missing] = validate(
        apply_defaults(pod_container(volumeMounts=[{"name": "data", "mountPath": "/d"}]))
    )
    assert missing.as_cause()["reason"] == "FieldValueNotFound"


def test_negative_grace_period_is_accepted():
    """Kubernetes only warns about a negative terminationGracePeriodSeconds (treated as 1)."""
    assert errors_of(pod_with(terminationGracePeriodSeconds=-5)) == []


# --- workloads -------------------------------------------------------------------------------

WORKLOAD_CASES = [
    # selectors
    pytest.param(
        workload("Deployment", selector=None),
        "spec.selector: Required value",
        id="deployment without selector",
    ),
    pytest.param(
        workload("Deployment", selector={}),
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string"
        "(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is "
        "invalid for deployment",
        id="empty deployment selector",
    ),
    pytest.param(
        workload("ReplicaSet", selector={"matchLabels": {}}),
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{}, "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid "
        "for deployment",
        id="empty replicaset selector says deployment, as upstream",
    ),
    pytest.param(
        workload("StatefulSet", selector={}),
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string"
        "(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is "
        "invalid for statefulset",
        id="empty statefulset selector",
    ),
    pytest.param(
        workload("DaemonSet", selector={}),
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string"
        "(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is "
        "invalid for daemonset",
        id="empty daemonset selector",
    ),
    pytest.param(
        workload("DaemonSet", selector=None),
        f'spec.template.metadata.labels: Invalid value: map[string]string{{"app":"web"}}:'
        f" {MISMATCH}",
        id="daemonset without selector matches nothing",
    ),
    pytest.param(
        workload("Deployment", selector={"matchLabels": {"app": "other"}}),
        f'spec.template.metadata.labels: Invalid value: map[string]string{{"app":"web"}}:'
        f" {MISMATCH}",
        id="selector does not match template",
    ),
    pytest.param(
        with_template_labels(workload("ReplicaSet"), {"tier": "a", "app": "x"}),
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x", '
        f'"tier":"a"}}: {MISMATCH}',
        id="labels printed sorted",
    ),
    pytest.param(
        with_template_labels(workload("StatefulSet"), None),
        f"spec.template.metadata.labels: Invalid value: map[string]string(nil): {MISMATCH}",
        id="template without labels",
    ),
    pytest.param(
        workload("Deployment", selector={"matchExpressions": [{"key": "app", "operator": "In"}]}),
        "spec.selector.matchExpressions[0].values: Required value: must be specified "
        "when `operator` is 'In' or 'NotIn'",
        id="expression without values",
    ),
    pytest.param(
        workload(
            "Deployment",
            selector={"matchExpressions": [{"key": "app", "operator": "Gt", "values": ["1"]}]},
        ),
        'spec.selector.matchExpressions[0].operator: Invalid value: "Gt": not a valid '
        "selector operator",
        id="Gt is not a label selector operator",
    ),
    pytest.param(
        workload(
            "Deployment",
            selector={"matchExpressions": [{"key": "app", "operator": "Gt", "values": ["1"]}]},
        ),
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string"
        "(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement"
        '{Key:"app", Operator:"Gt", Values:[]string{"1"}}}}: invalid label selector',
        id="unparsable selector",
    ),
    pytest.param(
        workload("ReplicaSet", selector={"matchLabels": {"app": "web!"}}),
        'spec.selector.matchLabels: Invalid value: "web!": a valid label must be an '
        "empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  "
        "or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?"
        "[A-Za-z0-9])?')",
        id="selector label value",
    ),
    # counts
    pytest.param(
        workload("Deployment", replicas=-1),
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        id="negative replicas",
    ),
    pytest.param(
        workload("ReplicaSet", replicas="3"),
        'spec.replicas: Invalid value: "3": must be an integer',
        id="replicas as string",
    ),
    pytest.param(
        workload("StatefulSet", replicas=-2),
        "spec.replicas: Invalid value: -2: must be greater than or equal to 0",
        id="statefulset negative replicas",
    ),
    pytest.param(
        workload("Deployment", revisionHistoryLimit=-1),
        "spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
        id="negative history",
    ),
    pytest.param(
        workload("Deployment", minReadySeconds=-1),
        "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0",
        id="negative minReadySeconds",
    ),
    pytest.param(
        workload("Deployment", minReadySeconds=30, progressDeadlineSeconds=30),
        "spec.progressDeadlineSeconds: Invalid value: 30: must be greater than minReadySeconds",
        id="deadline not above minReadySeconds",
    ),
    # templates
    pytest.param(
        template_spec("Deployment", restartPolicy="Never"),
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
        id="deployment restartPolicy",
    ),
    pytest.param(
        template_spec("DaemonSet", restartPolicy="OnFailure"),
        'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported '
        'values: "Always"',
        id="daemonset restartPolicy",
    ),
    pytest.param(
        template_spec("ReplicaSet", containers=[container(image="")]),
        "spec.template.spec.containers[0].image: Required value",
        id="template spec",
    ),
    pytest.param(
        template_spec("Deployment", activeDeadlineSeconds=10),
        "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in "
        "ReplicaSet is not Supported",
        id="active deadline in a template",
    ),
    pytest.param(
        with_template_labels(workload("Deployment"), {"app": "web", "bad key": "x"}),
        'spec.template.labels: Invalid value: "bad key": name part must consist of '
        "alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "
        "for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        id="template labels at spec.template.labels, as upstream",
    ),
    # deployment strategy
    pytest.param(
        workload("Deployment", strategy={"type": "Recreate", "rollingUpdate": {}}),
        "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy "
        "`type` is 'Recreate'",
        id="recreate with rollingUpdate",
    ),
    pytest.param(
        workload("Deployment", strategy={"type": "BlueGreen"}),
        'spec.strategy: Unsupported value: {"type":"BlueGreen"}: supported values: '
        '"Recreate", "RollingUpdate"',
        id="strategy type",
    ),
    pytest.param(
        workload("Deployment", strategy={"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}),
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when "
        "`maxSurge` is 0",
        id="both zero",
    ),
    pytest.param(
        workload(
            "Deployment", strategy={"rollingUpdate": {"maxSurge": "0%", "maxUnavailable": "0%"}}
        ),
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 '
        "when `maxSurge` is 0",
        id="both zero percent",
    ),
    pytest.param(
        workload("Deployment", strategy={"rollingUpdate": {"maxUnavailable": "120%"}}),
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "120%": must not be '
        "greater than 100%",
        id="over 100 percent",
    ),
    pytest.param(
        workload("Deployment", strategy={"rollingUpdate": {"maxSurge": "a lot"}}),
        'spec.strategy.rollingUpdate.maxSurge: Invalid value: "a lot": a valid percent '
        "string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', "
        "regex used for validation is '[0-9]+%')",
        id="not a percentage",
    ),
    pytest.param(
        workload("Deployment", strategy={"rollingUpdate": {"maxSurge": -1}}),
        "spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or "
        "equal to 0",
        id="negative surge",
    ),
    # daemonset strategy
    pytest.param(
        workload("DaemonSet", updateStrategy={"type": "Recreate"}),
        'spec.updateStrategy: Unsupported value: {"type":"Recreate"}: supported values: '
        '"RollingUpdate", "OnDelete"',
        id="daemonset strategy type",
    ),
    pytest.param(
        workload(
            "DaemonSet", updateStrategy={"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}
        ),
        "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 "
        "when maxSurge is 0",
        id="daemonset both zero",
    ),
    pytest.param(
        workload(
            "DaemonSet", updateStrategy={"rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}}
        ),
        "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set "
        "when maxUnavailable is non-zero",
        id="daemonset both set",
    ),
    # statefulset
    pytest.param(
        stateful_set(podManagementPolicy="Random"),
        "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'",
        id="pod management policy",
    ),
    pytest.param(
        stateful_set(updateStrategy={"type": "Sometimes"}),
        'spec.updateStrategy: Invalid value: {"type":"Sometimes"}: must be '
        "'RollingUpdate' or 'OnDelete'",
        id="statefulset strategy type",
    ),
    pytest.param(
        stateful_set(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": -1}}),
        "spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be "
        "greater than or equal to 0",
        id="negative partition",
    ),
    pytest.param(
        stateful_set(updateStrategy={"type": "OnDelete", "rollingUpdate": {}}),
        "spec.updateStrategy.rollingUpdate: Invalid value: {}: only allowed for "
        "updateStrategy 'RollingUpdate'",
        id="OnDelete with rollingUpdate",
    ),
    pytest.param(
        stateful_set(persistentVolumeClaimRetentionPolicy={"whenDeleted": "Keep"}),
        "spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "
        '"Keep": supported values: "Retain", "Delete"',
        id="retention policy",
    ),
    pytest.param(
        stateful_set(ordinals={"start": -1}),
        "spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0",
        id="negative ordinal start",
    ),
    pytest.param(
        stateful_set(
            volumeClaimTemplates=[
                {
                    "metadata": {"name": "data"},
                    "spec": {"resources": {"requests": {"storage": "1Gi"}}},
                }
            ]
        ),
        "spec.volumeClaimTemplates[0].spec.accessModes: Required value: at least 1 "
        "access mode is required",
        id="claim without access modes",
    ),
    pytest.param(
        stateful_set(
            volumeClaimTemplates=[
                {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
            ]
        ),
        "spec.volumeClaimTemplates[0].spec.resources[storage]: Required value",
        id="claim without storage",
    ),
    pytest.param(
        stateful_set(
            volumeClaimTemplates=[
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "big"}},
                    },
                }
            ]
        ),
        "spec.volumeClaimTemplates[0].spec.resources[storage]: Invalid value: "
        f'"big": {QUANTITY_RULE}',
        id="claim with malformed storage",
    ),
    pytest.param(
        stateful_set(
            volumeClaimTemplates=[
                {
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    }
                }
            ]
        ),
        "spec.volumeClaimTemplates[0].metadata.name: Required value",
        id="claim without name",
    ),
    pytest.param(
        stateful_set(volumeClaimTemplates=[]),
        'spec.template.spec.containers[0].volumeMounts[0].name: Not found: "data"',
        id="statefulset mount without claim",
    ),
]


@pytest.mark.parametrize(("obj", "expected"), WORKLOAD_CASES)
def test_workload_errors(obj, expected):
    """Each bad workload is reported with Kubernetes' path and message."""
    assert expected in errors_of(obj)


@pytest.mark.parametrize("kind", ["Deployment", "ReplicaSet", "StatefulSet"])
def test_missing_selector_also_fails_the_template_match(kind):
    """A nil selector selects nothing, so Kubernetes also reports the template's labels."""
    obj = stateful_set(selector=None) if kind == "StatefulSet" else workload(kind, selector=None)
    problems = errors_of(obj)
    assert "spec.selector: Required value" in problems
    assert any(p.startswith("spec.template.metadata.labels:") for p in problems)


# --- shared pieces ---------------------------------------------------------------------------


def defaulted_container(**fields: Any) -> dict:
    return container(terminationMessagePolicy="File", imagePullPolicy="IfNotPresent", **fields)


@pytest.mark.parametrize(
    ("spec", "kwargs", "expected"),
    [
        pytest.param(
            {
                "containers": [defaulted_container()],
                "terminationGracePeriodSeconds": 30,
                "restartPolicy": "Always",
                "dnsPolicy": "ClusterFirst",
            },
            {},
            [],
            id="a defaulted minimal spec",
        ),
        pytest.param(
            [],
            {},
            [
                "spec: Invalid value: []: must be an object",
                "spec.terminationGracePeriodSeconds: Required value",
                "spec.containers: Required value",
                "spec.restartPolicy: Required value",
                "spec.dnsPolicy: Required value",
            ],
            id="a list",
        ),
        pytest.param(
            {
                "containers": [
                    defaulted_container(
                        image=" x", volumeMounts=[{"name": "data", "mountPath": "/d"}]
                    )
                ],
                "terminationGracePeriodSeconds": 30,
                "restartPolicy": "Always",
                "dnsPolicy": "ClusterFirst",
            },
            {"claim_volumes": ["data"]},
            [],
            id="claim volumes count, whitespace only on Pods",
        ),
    ],
)
def test_validate_pod_spec(spec, kwargs, expected):
    """validate_pod_spec checks a spec at the given path; options widen or narrow it."""
    assert [str(e) for e in validate_pod_spec(spec, "spec", **kwargs)] == expected


def test_validate_pod_template_checks_selector_labels_and_spec():
    """A template must match its selector, and its spec is a pod spec."""
    template = apply_defaults(deployment("web"))["spec"]["template"]
    selector = label_selector_from_dict({"matchLabels": {"app": "api"}})
    assert [str(e) for e in validate_pod_template(template, "spec.template", selector)] == [
        f'spec.template.metadata.labels: Invalid value: map[string]string{{"app":"web"}}: '
        f"{MISMATCH}"
    ]
    assert validate_pod_template(template, "spec.template", None) == []
    template["spec"]["ephemeralContainers"] = [{"name": "debug", "image": "busybox"}]
    assert [str(e) for e in validate_pod_template(template, "t", None)] == [
        "t.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template"
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            [],
            id="valid",
        ),
        pytest.param(
            {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "0"}}},
            ['s.resources[storage]: Invalid value: "0": must be greater than zero'],
            id="zero storage",
        ),
        pytest.param(
            {
                "accessModes": ["ReadWriteOncePod", "ReadOnlyMany"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
            ["s.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"],
            id="RWOP with others",
        ),
        pytest.param(
            {"accessModes": ["ReadWriteSometimes"], "resources": {"requests": {"storage": "1Gi"}}},
            [
                's.accessModes: Unsupported value: "ReadWriteSometimes": supported values: '
                '"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"'
            ],
            id="unknown access mode",
        ),
    ],
)
def test_validate_pvc_spec(spec, expected):
    """Claim specs need access modes and a positive storage request."""
    assert [str(e) for e in validate_pvc_spec(spec, "s")] == expected


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param(None, "null", id="nil pointer"),
        pytest.param(
            {"matchLabels": {"b": "2", "a": "1"}},
            'v1.LabelSelector{MatchLabels:map[string]string{"a":"1", "b":"2"}, '
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}",
            id="labels sorted",
        ),
        pytest.param(
            {"matchExpressions": []},
            "v1.LabelSelector{MatchLabels:map[string]string(nil), "
            "MatchExpressions:[]v1.LabelSelectorRequirement{}}",
            id="empty expressions",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "x", "operator": "Exists"}]},
            "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:"
            '[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"x", '
            'Operator:"Exists", Values:[]string(nil)}}}',
            id="expression without values",
        ),
    ],
)
def test_go_label_selector(selector, expected):
    """Selectors print the way Go's %#v prints a metav1.LabelSelector."""
    assert go_label_selector(selector) == expected


# --- updates ---------------------------------------------------------------------------------


def changed(obj: dict, change: Callable[[dict], Any]) -> dict:
    new = copy.deepcopy(obj)
    change(new)
    return new


def set_path(obj: dict, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    target: Any = obj
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


def edit(obj: dict, path: str, value: Any) -> dict:
    return changed(obj, lambda o: set_path(o, path, value))


POD = pod("p", cpu="100m")
BOUND = pod("p", node="node-1")
TOLERANT = pod_with(
    tolerations=[{"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}]
)
WITH_DEADLINE = pod_with(activeDeadlineSeconds=100)
NEGATIVE_GRACE = pod_with(terminationGracePeriodSeconds=-1)
FORBIDDEN = f"spec: Forbidden: {POD_UPDATE_FORBIDDEN}"

POD_UPDATES = [
    pytest.param(POD, POD, None, id="nothing changes"),
    pytest.param(POD, edit(POD, "spec.containers.0.image", "nginx:1.28"), None, id="new image"),
    pytest.param(POD, edit(POD, "spec.nodeName", "node-1"), None, id="binding sets nodeName"),
    pytest.param(POD, edit(POD, "status", {"phase": "Running"}), None, id="status only"),
    pytest.param(POD, edit(POD, "metadata.labels", {"new": "label"}), None, id="labels"),
    pytest.param(POD, edit(POD, "spec.activeDeadlineSeconds", 30), None, id="deadline set"),
    pytest.param(
        WITH_DEADLINE,
        edit(WITH_DEADLINE, "spec.activeDeadlineSeconds", 50),
        None,
        id="deadline lowered",
    ),
    pytest.param(
        TOLERANT,
        edit(TOLERANT, "spec.tolerations.0.tolerationSeconds", 10),
        None,
        id="tolerationSeconds changed",
    ),
    pytest.param(
        TOLERANT,
        edit(
            TOLERANT,
            "spec.tolerations",
            TOLERANT["spec"]["tolerations"] + [{"key": "other", "operator": "Exists"}],
        ),
        None,
        id="toleration added",
    ),
    pytest.param(
        NEGATIVE_GRACE,
        edit(NEGATIVE_GRACE, "spec.terminationGracePeriodSeconds", 1),
        None,
        id="negative grace period set to 1",
    ),
    pytest.param(
        POD,
        edit(POD, "spec.containers.0.resources.requests.cpu", "200m"),
        FORBIDDEN,
        id="resources",
    ),
    pytest.param(BOUND, edit(BOUND, "spec.nodeName", "node-2"), FORBIDDEN, id="moving a bound pod"),
    pytest.param(BOUND, edit(BOUND, "spec.nodeName", None), FORBIDDEN, id="unbinding"),
    pytest.param(
        POD, edit(POD, "spec.terminationGracePeriodSeconds", 5), FORBIDDEN, id="grace period"
    ),
    pytest.param(POD, edit(POD, "spec.restartPolicy", "Never"), FORBIDDEN, id="restart policy"),
    pytest.param(
        POD,
        edit(POD, "spec.containers", [container(), container("b")]),
        "spec.containers: Forbidden: pod updates may not add or remove containers",
        id="container added",
    ),
    pytest.param(
        POD,
        edit(POD, "spec.initContainers", [container("init")]),
        "spec.initContainers: Forbidden: pod updates may not add or remove containers",
        id="init container added",
    ),
    pytest.param(
        WITH_DEADLINE,
        edit(WITH_DEADLINE, "spec.activeDeadlineSeconds", 200),
        "spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to "
        "previous value",
        id="deadline raised",
    ),
    pytest.param(
        WITH_DEADLINE,
        edit(WITH_DEADLINE, "spec.activeDeadlineSeconds", None),
        "spec.activeDeadlineSeconds: Invalid value: null: must not update from a "
        "positive integer to nil value",
        id="deadline removed",
    ),
    pytest.param(
        TOLERANT,
        edit(TOLERANT, "spec.tolerations", []),
        "spec.tolerations: Forbidden: existing toleration can not be modified except its "
        "tolerationSeconds",
        id="toleration removed",
    ),
    pytest.param(
        TOLERANT,
        edit(TOLERANT, "spec.tolerations.0.effect", "NoSchedule"),
        "spec.tolerations: Forbidden: existing toleration can not be modified except its "
        "tolerationSeconds",
        id="toleration modified",
    ),
    pytest.param(
        POD,
        edit(POD, "spec.schedulingGates", [{"name": "example.com/gate"}]),
        "spec.schedulingGates[0].name: Forbidden: only deletion is allowed, but found new "
        "scheduling gate 'example.com/gate'",
        id="scheduling gate added",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), POD_UPDATES)
def test_pod_updates(old, new, expected):
    """A Pod's spec is immutable but for images, deadlines, tolerations and binding."""
    problems = update_errors(old, new)
    if expected is None:
        assert problems == []
    else:
        assert expected in problems


def test_pod_update_forbidden_text_is_kubernetes_own():
    """The sentence kubectl shows for a forbidden pod update, as v1.32 words it."""
    assert FORBIDDEN == (
        "spec: Forbidden: pod updates may not change fields other than "
        "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
        "`spec.tolerations` (only additions to existing tolerations),"
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
        "negative)"
    )


STS = stateful_set()
IMMUTABLE_SELECTOR = (
    'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":'
    '"web", "tier":"front"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is '
    "immutable"
)
WIDER = {"matchLabels": {"app": "web", "tier": "front"}}

WORKLOAD_UPDATES = [
    pytest.param(
        deployment("web"), edit(deployment("web"), "spec.replicas", 5), None, id="deployment scaled"
    ),
    pytest.param(
        deployment("web"),
        edit(
            deployment("web"),
            "spec.selector",
            {"matchLabels": {"app": "web"}, "matchExpressions": []},
        ),
        None,
        id="same selector written differently",
    ),
    pytest.param(
        deployment("web"),
        with_template_labels(edit(deployment("web"), "spec.selector", WIDER), WIDER["matchLabels"]),
        IMMUTABLE_SELECTOR,
        id="deployment selector changed",
    ),
    pytest.param(
        workload("ReplicaSet"),
        with_template_labels(
            edit(workload("ReplicaSet"), "spec.selector", WIDER), WIDER["matchLabels"]
        ),
        IMMUTABLE_SELECTOR,
        id="replicaset selector changed",
    ),
    pytest.param(
        workload("DaemonSet"),
        with_template_labels(
            edit(workload("DaemonSet"), "spec.selector", WIDER), WIDER["matchLabels"]
        ),
        IMMUTABLE_SELECTOR,
        id="daemonset selector changed",
    ),
    pytest.param(STS, edit(STS, "spec.replicas", 5), None, id="statefulset scaled"),
    pytest.param(
        STS,
        edit(STS, "spec.template.spec.containers.0.image", "x:2"),
        None,
        id="statefulset template",
    ),
    pytest.param(
        STS, edit(STS, "spec.updateStrategy", {"type": "OnDelete"}), None, id="statefulset strategy"
    ),
    pytest.param(STS, edit(STS, "spec.minReadySeconds", 10), None, id="minReadySeconds"),
    pytest.param(
        STS,
        edit(STS, "spec.serviceName", "other"),
        f"spec: Forbidden: {STATEFULSET_UPDATE_FORBIDDEN}",
        id="statefulset serviceName",
    ),
    pytest.param(
        STS,
        edit(STS, "spec.volumeClaimTemplates.0.spec.resources.requests.storage", "2Gi"),
        f"spec: Forbidden: {STATEFULSET_UPDATE_FORBIDDEN}",
        id="claim template resized",
    ),
    pytest.param(
        STS,
        edit(STS, "spec.podManagementPolicy", "Parallel"),
        f"spec: Forbidden: {STATEFULSET_UPDATE_FORBIDDEN}",
        id="pod management policy",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), WORKLOAD_UPDATES)
def test_workload_updates(old, new, expected):
    """Selectors are immutable; a StatefulSet spec changes only in its mutable fields."""
    problems = update_errors(old, new)
    if expected is None:
        assert problems == []
    else:
        assert expected in problems


def test_statefulset_update_forbidden_text_is_kubernetes_own():
    """The v1.32 wording (later releases add 'revisionHistoryLimit')."""
    assert STATEFULSET_UPDATE_FORBIDDEN == (
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
        "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
        "forbidden"
    )


# --- odd shapes never raise ------------------------------------------------------------------

ODD_VALUES: list[Any] = [None, "", "x", -1, 2**70, 1.5, True, [], [None], ["a"], {}, {"a": "b"}]


def paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path into a JSON value (dict keys and list indexes), parents before children."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield (*prefix, k)
            yield from paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield (*prefix, i)
            yield from paths(v, (*prefix, i))


def replaced(obj: Any, path: tuple, value: Any) -> Any:
    new = copy.deepcopy(obj)
    target = new
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return new


def only_field_errors(result: Any) -> bool:
    return isinstance(result, list) and all(isinstance(e, FieldError) for e in result)


# The Pod carries the rich pod spec; the workloads share its validation, so for them every field
# but those of the template's pod spec is tried (their template spec is the minimal one).
FUZZ_OBJECTS = [
    pytest.param(rich_pod(), (), id="Pod"),
    pytest.param(rich_workload("Deployment"), ("spec", "template", "spec"), id="Deployment"),
    pytest.param(rich_workload("ReplicaSet"), ("spec", "template", "spec"), id="ReplicaSet"),
    pytest.param(rich_workload("StatefulSet"), ("spec", "template", "spec"), id="StatefulSet"),
    pytest.param(rich_workload("DaemonSet"), ("spec", "template", "spec"), id="DaemonSet"),
]


@pytest.mark.parametrize(("obj", "skipped"), FUZZ_OBJECTS)
def test_odd_values_anywhere_give_field_errors_not_exceptions(obj, skipped):
    """Any field replaced by any odd JSON value yields FieldErrors, on create and on update."""
    valid = apply_defaults(obj)
    if skipped:
        valid["spec"]["template"]["spec"] = apply_defaults(pod("p"))["spec"]
    assert validate(valid) == []
    for path in paths(valid):
        if path == ("kind",) or (
            skipped and path[: len(skipped) + 1][:-1] == skipped and len(path) > len(skipped)
        ):
            continue  # kind: see test_unhashable_kind_gives_field_errors
        for value in ODD_VALUES:
            odd = replaced(valid, path, value)
            assert only_field_errors(validate(odd)), path
            assert only_field_errors(validate_update(valid, odd)), path
            assert only_field_errors(UPDATE_VALIDATORS[valid["kind"]](odd, valid)), path


@pytest.mark.parametrize("kind", ["Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"])
@pytest.mark.parametrize("spec", ODD_VALUES)
def test_odd_specs_give_field_errors(kind, spec):
    """A spec that is not an object at all is reported, not crashed on."""
    api_version = "v1" if kind == "Pod" else "apps/v1"
    obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, "spec": spec}
    assert only_field_errors(validate(obj))
    assert only_field_errors(validate(apply_defaults(obj)))
    assert only_field_errors(validate_update(obj, apply_defaults(obj)))


@pytest.mark.parametrize("kind", [[], {}])
def test_unhashable_kind_gives_field_errors(kind):
    """Even a kind that is a list or a map is reported, not crashed on."""
    obj = {**apply_defaults(pod("p")), "kind": kind}
    assert only_field_errors(validate(obj))
