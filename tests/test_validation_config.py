"""Validation of ConfigMaps, Secrets, storage, HPAs, Nodes, Namespaces and Events.

Messages are Kubernetes v1.32's. Objects go through ``apply_defaults`` first, as on the write
path; the fuzz test at the end throws odd JSON at every field of every kind.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from cluster.store.defaults import apply_defaults
from cluster.store.errors import FieldError
from cluster.store.validation import validate, validate_update
from cluster.store.validation.config import go_base64_decode, validate_pvc_spec
from tests.test_validation_network import DNS1123_SUBDOMAIN_MSG, check_never_raises

MiB = 1024 * 1024
CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)
IMMUTABLE_WHEN_SET = "field is immutable when `immutable` is set"


def problems(obj: dict) -> list[str]:
    """Every error the write path would report for ``obj`` on create."""
    return [str(error) for error in validate(apply_defaults(obj))]


def update_problems(old: dict, new: dict) -> list[str]:
    return [str(error) for error in validate_update(apply_defaults(old), apply_defaults(new))]


def b64(data: str | bytes) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def drop(mapping: dict) -> dict:
    """``mapping`` without the keys set to ``...`` (how the builders remove a field)."""
    return {k: v for k, v in mapping.items() if v is not ...}


# --- builders --------------------------------------------------------------------------------


def configmap(**fields: Any) -> dict:
    return drop(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cfg", "namespace": "default"},
            "data": {"LOG_LEVEL": "info"},
            **fields,
        }
    )


def secret(**fields: Any) -> dict:
    return drop(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds", "namespace": "default"},
            "data": {"password": b64("s3cret")},
            **fields,
        }
    )


def pv(**spec: Any) -> dict:
    body = drop(
        {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/var/kubarium/pv/data"},
            **spec,
        }
    )
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "pv-data"},
        "spec": body,
    }


def pvc(status: dict | None = None, **spec: Any) -> dict:
    body = drop(
        {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "standard",
            "resources": {"requests": {"storage": "1Gi"}},
            **spec,
        }
    )
    obj = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default"},
        "spec": body,
    }
    if status is not None:
        obj["status"] = status
    return obj


def storage_class(**fields: Any) -> dict:
    return drop(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "standard"},
            "provisioner": "kubarium.io/simulated",
            "parameters": {"tier": "fast"},
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
            **fields,
        }
    )


def hpa(**spec: Any) -> dict:
    body = drop(
        {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 10,
            **spec,
        }
    )
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": body,
    }


def metric(**resource: Any) -> list[dict]:
    """One Resource metric; ``resource`` replaces fields of the resource source."""
    source = drop(
        {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}, **resource}
    )
    return [{"type": "Resource", "resource": source}]


def node(taints: list | None = None, capacity: dict | None = None, **spec: Any) -> dict:
    body = drop({"podCIDR": "10.244.1.0/24", **spec})
    if taints is not None:
        body["taints"] = taints
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "worker-1"},
        "spec": body,
        "status": {"capacity": capacity or {"cpu": "4", "memory": "8Gi", "pods": "110"}},
    }


def namespace(finalizers: list | None = None) -> dict:
    obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    if finalizers is not None:
        obj["spec"] = {"finalizers": finalizers}
    return obj


def event(namespace: str = "shop", **fields: Any) -> dict:
    involved = {
        "apiVersion": "v1",
        "kind": "Pod",
        "name": "web-1",
        "namespace": "shop",
        "uid": "1234",
    }
    return drop(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "web-1.abc", "namespace": namespace},
            "involvedObject": involved,
            "reason": "Scheduled",
            "message": "assigned",
            "type": "Normal",
            "source": {"component": "default-scheduler"},
            "count": 1,
            **fields,
        }
    )


# --- ConfigMap -------------------------------------------------------------------------------

CONFIGMAP_CASES = [
    pytest.param(configmap(), [], id="valid"),
    pytest.param(
        configmap(data=..., binaryData={"logo.png": b64(b"\x89PNG")}), [], id="binary data"
    ),
    pytest.param(configmap(data={"a": "x" * MiB}), [], id="exactly 1 MiB"),
    pytest.param(
        configmap(data=..., binaryData={"blob": b64(b"x" * MiB)}),
        [],
        id="1 MiB of binary data counts decoded",
    ),
    pytest.param(
        configmap(data={"a": "1"}, binaryData={"a": b64("1")}),
        ['data[a]: Invalid value: "a": duplicate of key present in binaryData'],
        id="key in both maps",
    ),
    pytest.param(
        configmap(data={"bad key": "1"}),
        [f'data[bad key]: Invalid value: "bad key": {CONFIG_KEY_MSG}'],
        id="bad key",
    ),
    pytest.param(
        configmap(data={"..secret": "1"}),
        ["data[..secret]: Invalid value: \"..secret\": must not start with '..'"],
        id="key starting with two dots",
    ),
    pytest.param(
        configmap(data={"a": 5}), ["data[a]: Invalid value: 5: must be a string"], id="number value"
    ),
    pytest.param(
        configmap(data=..., binaryData={"b": "!!"}),
        ['binaryData[b]: Invalid value: "!!": illegal base64 data at input byte 0'],
        id="binary data not base64",
    ),
    pytest.param(
        configmap(data={"a": "x" * MiB + "y"}),
        ["[]: Too long: may not be more than 1048576 bytes"],
        id="over 1 MiB",
    ),
    pytest.param(
        configmap(data={"a": "x" * (MiB - 1)}, binaryData={"b": b64("xy")}),
        ["[]: Too long: may not be more than 1048576 bytes"],
        id="over 1 MiB across both maps",
    ),
    pytest.param(
        configmap(data=["a"]), ['data: Invalid value: ["a"]: must be an object'], id="data a list"
    ),
    pytest.param(
        configmap(immutable="yes"),
        ['immutable: Invalid value: "yes": must be a boolean'],
        id="immutable not a boolean",
    ),
]


@pytest.mark.parametrize(("obj", "expected"), CONFIGMAP_CASES)
def test_configmap_validation(obj, expected):
    """ConfigMaps need config keys, string values, one map per key, and 1 MiB at most."""
    assert problems(obj) == expected


CONFIGMAP_UPDATES = [
    pytest.param(
        configmap(), configmap(data={"LOG_LEVEL": "debug"}), [], id="mutable data may change"
    ),
    pytest.param(configmap(immutable=True), configmap(immutable=True), [], id="nothing changed"),
    pytest.param(
        configmap(immutable=True),
        configmap(
            immutable=True, metadata={"name": "cfg", "namespace": "default", "labels": {"a": "b"}}
        ),
        [],
        id="labels of an immutable ConfigMap may change",
    ),
    pytest.param(
        configmap(immutable=True),
        configmap(immutable=True, data={"LOG_LEVEL": "x"}),
        [f"data: Forbidden: {IMMUTABLE_WHEN_SET}"],
        id="immutable data changed",
    ),
    pytest.param(
        configmap(immutable=True),
        configmap(immutable=False),
        [f"immutable: Forbidden: {IMMUTABLE_WHEN_SET}"],
        id="immutable flag cleared",
    ),
    pytest.param(
        configmap(immutable=True, binaryData={"b": b64("1")}),
        configmap(immutable=True, binaryData={"b": b64("2")}),
        [f"binaryData: Forbidden: {IMMUTABLE_WHEN_SET}"],
        id="immutable binary changed",
    ),
    pytest.param(configmap(), configmap(immutable=True), [], id="flag may be set"),
]


@pytest.mark.parametrize(("old", "new", "expected"), CONFIGMAP_UPDATES)
def test_configmap_updates(old, new, expected):
    """An immutable ConfigMap keeps its data and its flag; a mutable one may change."""
    assert update_problems(old, new) == expected


# --- Secret ----------------------------------------------------------------------------------

GO_BASE64 = [
    pytest.param("", b"", id="empty"),
    pytest.param("YQ==", b"a", id="two pads"),
    pytest.param("YWI=", b"ab", id="one pad"),
    pytest.param("YWJj", b"abc", id="no pad"),
    pytest.param("YW\nJj\r\n", b"abc", id="newlines are skipped"),
    pytest.param("YQ==\n", b"a", id="newline after padding"),
    pytest.param("YR==", b"a", id="stray low bits are ignored"),
    pytest.param("not base64!", 3, id="space at byte 3"),
    pytest.param("YQ", 0, id="quantum cut short"),
    pytest.param("YWJ", 0, id="three characters"),
    pytest.param("YQ=", 3, id="second pad missing"),
    pytest.param("Y===", 1, id="pad too early"),
    pytest.param("YQ=x", 2, id="pad then a letter"),
    pytest.param("YQ==YQ==", 4, id="data after padding"),
    pytest.param("YWJj\u00e9", 4, id="non-ASCII byte"),
    pytest.param("YWJjZA-_", 6, id="URL alphabet is not standard"),
]


@pytest.mark.parametrize(("text", "expected"), GO_BASE64)
def test_base64_decodes_like_go(text, expected):
    """Secret values decode as Go's encoding/json decodes []byte, with its error offsets."""
    data, offset = go_base64_decode(text)
    assert (data if offset is None else offset) == expected


REDACTED = '"<secret contents redacted>"'
TLS_DATA = {"tls.crt": b64("cert"), "tls.key": b64("key")}

SECRET_CASES = [
    pytest.param(secret(), [], id="valid"),
    pytest.param(
        secret(data=..., stringData={"password": "plain text"}),
        [],
        id="string data folded in by defaults",
    ),
    pytest.param(secret(type="kubernetes.io/tls", data=TLS_DATA), [], id="TLS"),
    pytest.param(
        secret(
            type="kubernetes.io/dockerconfigjson", data={".dockerconfigjson": b64('{"auths": {}}')}
        ),
        [],
        id="docker config",
    ),
    pytest.param(secret(type="example.com/custom"), [], id="custom type"),
    pytest.param(
        secret(data={"password": "not base64!"}),
        [f"data[password]: Invalid value: {REDACTED}: illegal base64 data at input byte 3"],
        id="value not base64",
    ),
    pytest.param(
        secret(data={"password": 12}),
        ["data[password]: Invalid value: 12: must be a base64-encoded string"],
        id="value a number",
    ),
    pytest.param(
        secret(data={"bad key": b64("x")}),
        [f'data[bad key]: Invalid value: "bad key": {CONFIG_KEY_MSG}'],
        id="bad key",
    ),
    pytest.param(
        secret(data={"a": b64(b"x" * (MiB + 1))}),
        ["data: Too long: may not be more than 1048576 bytes"],
        id="over 1 MiB",
    ),
    pytest.param(
        secret(type="kubernetes.io/tls", data={"tls.key": b64("key")}),
        ["data[tls.crt]: Required value"],
        id="TLS without a certificate",
    ),
    pytest.param(
        secret(type="kubernetes.io/tls", data=...),
        ["data[tls.crt]: Required value", "data[tls.key]: Required value"],
        id="TLS without data",
    ),
    pytest.param(
        secret(type="kubernetes.io/dockerconfigjson"),
        ["data[.dockerconfigjson]: Required value"],
        id="docker config missing",
    ),
    pytest.param(
        secret(type="kubernetes.io/dockerconfigjson", data={".dockerconfigjson": b64("xyz")}),
        [
            f"data[.dockerconfigjson]: Invalid value: {REDACTED}: invalid character 'x' "
            "looking for beginning of value"
        ],
        id="docker config not JSON",
    ),
    pytest.param(
        secret(type="kubernetes.io/dockerconfigjson", data={".dockerconfigjson": b64("[1]")}),
        [
            f"data[.dockerconfigjson]: Invalid value: {REDACTED}: json: cannot unmarshal "
            "array into Go value of type map[string]interface {}"
        ],
        id="docker config not an object",
    ),
    pytest.param(
        secret(type="kubernetes.io/dockerconfigjson", data={".dockerconfigjson": b64('{"auths":')}),
        [f"data[.dockerconfigjson]: Invalid value: {REDACTED}: unexpected end of JSON input"],
        id="docker config cut short",
    ),
    pytest.param(
        secret(type="kubernetes.io/dockercfg"),
        ["data[.dockercfg]: Required value"],
        id="legacy docker config missing",
    ),
    pytest.param(
        secret(type="kubernetes.io/basic-auth", data=...),
        ["data[username]: Required value", "data[password]: Required value"],
        id="basic auth without credentials",
    ),
    pytest.param(secret(type="kubernetes.io/basic-auth"), [], id="basic auth with a password"),
    pytest.param(
        secret(type="kubernetes.io/ssh-auth"),
        ["data[ssh-privatekey]: Required value"],
        id="ssh auth without a key",
    ),
    pytest.param(
        secret(type="kubernetes.io/service-account-token"),
        ["metadata.annotations[kubernetes.io/service-account.name]: Required value"],
        id="token without its service account",
    ),
    pytest.param(secret(type=5), ["type: Invalid value: 5: must be a string"], id="type a number"),
]


@pytest.mark.parametrize(("obj", "expected"), SECRET_CASES)
def test_secret_validation(obj, expected):
    """Secrets need config keys, base64 values, 1 MiB at most, and the keys their type needs."""
    assert problems(obj) == expected


SECRET_UPDATES = [
    pytest.param(secret(), secret(data={"password": b64("new")}), [], id="data may change"),
    pytest.param(
        secret(type="Opaque"),
        secret(type="kubernetes.io/tls", data=TLS_DATA),
        ['type: Invalid value: "kubernetes.io/tls": field is immutable'],
        id="type changed",
    ),
    pytest.param(
        secret(immutable=True),
        secret(immutable=True, data={"password": b64("new")}),
        [f"data: Forbidden: {IMMUTABLE_WHEN_SET}"],
        id="immutable data changed",
    ),
    pytest.param(
        secret(immutable=True),
        secret(immutable=...),
        [f"immutable: Forbidden: {IMMUTABLE_WHEN_SET}"],
        id="immutable flag dropped",
    ),
    pytest.param(
        secret(immutable=True, data={"password": "czNj\ncmV0"}),
        secret(immutable=True, data={"password": "czNjcmV0"}),
        [],
        id="same bytes, other encoding",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), SECRET_UPDATES)
def test_secret_updates(old, new, expected):
    """A Secret's type never changes; an immutable Secret keeps its data and its flag."""
    assert update_problems(old, new) == expected


# --- PersistentVolume ------------------------------------------------------------------------

ZONE_TERM = {
    "nodeSelectorTerms": [
        {
            "matchExpressions": [
                {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-a"]}
            ]
        }
    ]
}

PV_CASES = [
    pytest.param(pv(), [], id="hostPath"),
    pytest.param(
        pv(hostPath=..., csi={"driver": "simulated.kubarium.io", "volumeHandle": "v1"}),
        [],
        id="CSI",
    ),
    pytest.param(
        pv(hostPath=..., nfs={"server": "nfs.example.com", "path": "/exports"}), [], id="NFS"
    ),
    pytest.param(
        pv(hostPath=..., local={"path": "/mnt/disk"}, nodeAffinity={"required": ZONE_TERM}),
        [],
        id="local with node affinity",
    ),
    pytest.param(
        pv(
            persistentVolumeReclaimPolicy="Delete",
            storageClassName="standard",
            volumeMode="Block",
            accessModes=["ReadWriteOncePod"],
        ),
        [],
        id="policy, class, block mode",
    ),
    pytest.param(
        pv(hostPath=...),
        ["spec: Required value: must specify a volume type"],
        id="no volume source",
    ),
    pytest.param(
        pv(nfs={"server": "nfs.example.com", "path": "/exports"}),
        ["spec.nfs: Forbidden: may not specify more than 1 volume type"],
        id="two volume sources",
    ),
    pytest.param(pv(accessModes=...), ["spec.accessModes: Required value"], id="no access modes"),
    pytest.param(
        pv(accessModes=["ReadWriteSometimes"]),
        [
            'spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: '
            '"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"'
        ],
        id="unknown access mode",
    ),
    pytest.param(
        pv(accessModes=["ReadWriteOncePod", "ReadWriteOnce"]),
        ["spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"],
        id="ReadWriteOncePod mixed",
    ),
    pytest.param(
        pv(capacity={"storage": "0"}),
        ['spec.capacity[storage]: Invalid value: "0": must be greater than zero'],
        id="zero capacity",
    ),
    pytest.param(
        pv(capacity={"storage": "-1Gi"}),
        [
            "spec.capacity[storage]: Invalid value: -1073741824: must be a valid resource quantity",
            'spec.capacity[storage]: Invalid value: "-1Gi": must be greater than zero',
        ],
        id="negative capacity",
    ),
    pytest.param(
        pv(capacity={"storage": "lots"}),
        [
            'spec.capacity[storage]: Invalid value: "lots": quantities must match the '
            "regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        ],
        id="malformed capacity",
    ),
    pytest.param(
        pv(persistentVolumeReclaimPolicy="Keep"),
        [
            'spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported '
            'values: "Delete", "Recycle", "Retain"'
        ],
        id="unknown reclaim policy",
    ),
    pytest.param(
        pv(hostPath={}), ["spec.hostPath.path: Required value"], id="hostPath without path"
    ),
    pytest.param(
        pv(hostPath={"path": "/data/../etc"}),
        ["spec.hostPath.path: Invalid value: \"/data/../etc\": must not contain '..'"],
        id="hostPath with a backstep",
    ),
    pytest.param(
        pv(hostPath={"path": "/data", "type": "Dir"}),
        [
            'spec.hostPath.type: Unsupported value: "Dir": supported values: "", '
            '"BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", '
            '"FileOrCreate", "Socket"'
        ],
        id="unknown hostPath type",
    ),
    pytest.param(
        pv(hostPath={"path": "/"}, persistentVolumeReclaimPolicy="Recycle"),
        [
            "spec.persistentVolumeReclaimPolicy: Forbidden: may not be 'recycle' for a "
            "hostPath mount of '/'"
        ],
        id="recycling the root",
    ),
    pytest.param(
        pv(hostPath=..., local={"path": "/mnt/disk"}),
        ["spec.nodeAffinity: Required value: Local volume requires node affinity"],
        id="local without node affinity",
    ),
    pytest.param(
        pv(hostPath=..., nfs={"server": "nfs.example.com", "path": "exports"}),
        ['spec.nfs.path: Invalid value: "exports": must be an absolute path'],
        id="NFS relative path",
    ),
    pytest.param(
        pv(hostPath=..., csi={"driver": "simulated.kubarium.io"}),
        ["spec.csi.volumeHandle: Required value"],
        id="CSI without a handle",
    ),
    pytest.param(
        pv(hostPath=..., csi={"driver": "bad_driver", "volumeHandle": "v"}),
        [f'spec.csi.driver: Invalid value: "bad_driver": {DNS1123_SUBDOMAIN_MSG}'],
        id="CSI driver not a DNS name",
    ),
    pytest.param(
        pv(storageClassName="Fast"),
        [f'spec.storageClassName: Invalid value: "Fast": {DNS1123_SUBDOMAIN_MSG}'],
        id="class name not a DNS name",
    ),
    pytest.param(
        pv(volumeMode="Raw"),
        ['spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"'],
        id="unknown volume mode",
    ),
    pytest.param(
        pv(nodeAffinity={}),
        ["spec.nodeAffinity.required: Required value: must specify required node constraints"],
        id="node affinity without requirements",
    ),
    pytest.param(
        pv(nodeAffinity={"required": {"nodeSelectorTerms": []}}),
        [
            "spec.nodeAffinity.required.nodeSelectorTerms: Required value: must have at "
            "least one node selector term"
        ],
        id="no node selector terms",
    ),
    pytest.param(
        pv(
            nodeAffinity={
                "required": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "zone", "operator": "Near", "values": ["a"]}]}
                    ]
                }
            }
        ),
        [
            "spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].operator: Invalid "
            'value: "Near": not a valid selector operator'
        ],
        id="unknown selector operator",
    ),
]


@pytest.mark.parametrize(("obj", "expected"), PV_CASES)
def test_persistent_volume_validation(obj, expected):
    """A PV needs access modes, a positive storage capacity and exactly one volume source."""
    assert problems(obj) == expected


def test_persistent_volume_needs_a_storage_capacity():
    """Without capacity a PV is refused twice, as Kubernetes does: required, and not storage."""
    found = validate(apply_defaults(pv(capacity=...)))
    assert [(e.field, e.type) for e in found] == [
        ("spec.capacity", "FieldValueRequired"),
        ("spec.capacity", "FieldValueNotSupported"),
    ]
    assert found[1].detail == 'supported values: "storage"'


PV_UPDATES = [
    pytest.param(pv(), pv(capacity={"storage": "2Gi"}), [], id="capacity may change"),
    pytest.param(
        pv(hostPath=..., csi={"driver": "d.io", "volumeHandle": "v"}),
        pv(
            hostPath=...,
            csi={
                "driver": "d.io",
                "volumeHandle": "v",
                "controllerExpandSecretRef": {"name": "s", "namespace": "n"},
            },
        ),
        [],
        id="CSI may gain an expand secret",
    ),
    pytest.param(
        pv(
            nodeAffinity={
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "failure-domain.beta.kubernetes.io/zone",
                                    "operator": "In",
                                    "values": ["zone-a"],
                                }
                            ]
                        }
                    ]
                }
            }
        ),
        pv(nodeAffinity={"required": ZONE_TERM}),
        [],
        id="beta zone label to GA",
    ),
    pytest.param(
        pv(),
        pv(volumeMode="Block"),
        ['volumeMode: Invalid value: "Block": field is immutable'],
        id="volume mode changed",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), PV_UPDATES)
def test_persistent_volume_updates(old, new, expected):
    """A PV's source, mode and node affinity stay; its capacity may change."""
    assert update_problems(old, new) == expected


def test_persistent_volume_source_is_immutable():
    """Changing the volume source is forbidden, with a diff of what changed."""
    [message] = update_problems(pv(), pv(hostPath={"path": "/elsewhere"}))
    assert message.startswith(
        "spec.persistentvolumesource: Forbidden: "
        "spec.persistentvolumesource is immutable after creation\n"
    )
    assert '"hostPath"' in message and "/elsewhere" in message


def test_persistent_volume_node_affinity_is_immutable():
    """Node affinity may only move a beta label to its GA name."""
    other = {
        "nodeSelectorTerms": [
            {
                "matchExpressions": [
                    {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-b"]}
                ]
            }
        ]
    }
    found = validate_update(
        apply_defaults(pv(nodeAffinity={"required": ZONE_TERM})),
        apply_defaults(pv(nodeAffinity={"required": other})),
    )
    assert [(e.field, e.detail) for e in found] == [
        ("nodeAffinity", "field is immutable, except for updating from beta label to GA")
    ]


# --- PersistentVolumeClaim -------------------------------------------------------------------

PVC_CASES = [
    pytest.param(pvc(), [], id="valid"),
    pytest.param(
        pvc(
            storageClassName="",
            volumeMode="Block",
            selector={"matchLabels": {"tier": "db"}},
            dataSource={"kind": "PersistentVolumeClaim", "name": "old"},
        ),
        [],
        id="selector, data source, no class",
    ),
    pytest.param(
        pvc(resources={"requests": {}}),
        ["spec.resources[storage]: Required value"],
        id="no storage request",
    ),
    pytest.param(
        pvc(resources=...), ["spec.resources[storage]: Required value"], id="no resources"
    ),
    pytest.param(
        pvc(resources={"requests": {"storage": "0"}}),
        ['spec.resources[storage]: Invalid value: "0": must be greater than zero'],
        id="zero storage",
    ),
    pytest.param(
        pvc(accessModes=...),
        ["spec.accessModes: Required value: at least 1 access mode is required"],
        id="no access modes",
    ),
    pytest.param(
        pvc(storageClassName="Fast"),
        [f'spec.storageClassName: Invalid value: "Fast": {DNS1123_SUBDOMAIN_MSG}'],
        id="class name not a DNS name",
    ),
    pytest.param(
        pvc(selector={"matchExpressions": [{"key": "tier", "operator": "Near"}]}),
        [
            'spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid '
            "selector operator"
        ],
        id="unknown selector operator",
    ),
    pytest.param(
        pvc(selector={"matchExpressions": [{"key": "tier", "operator": "In"}]}),
        [
            "spec.selector.matchExpressions[0].values: Required value: must be specified "
            "when `operator` is 'In' or 'NotIn'"
        ],
        id="In without values",
    ),
    pytest.param(
        pvc(dataSource={"kind": "VolumeSnapshot", "name": "snap"}),
        [
            "spec.dataSource: Invalid value: \"VolumeSnapshot\": must be 'PersistentVolumeClaim' "
            "when referencing the default apiGroup"
        ],
        id="snapshot without its group",
    ),
    pytest.param(
        pvc(resources={"requests": {"storage": "1Gi", "cpu": "lots"}}),
        [
            'spec.resources.requests[cpu]: Invalid value: "lots": quantities must match the '
            "regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        ],
        id="malformed other request",
    ),
]


@pytest.mark.parametrize(("obj", "expected"), PVC_CASES)
def test_persistent_volume_claim_validation(obj, expected):
    """A claim needs access modes and a positive storage request."""
    assert problems(obj) == expected


def test_pvc_spec_check_works_at_any_path():
    """validate_pvc_spec names fields under the path it is given (claim templates)."""
    found = validate_pvc_spec({"accessModes": []}, "spec.volumeClaimTemplates[0].spec")
    assert [str(e) for e in found] == [
        "spec.volumeClaimTemplates[0].spec.accessModes: Required value: at least 1 access mode is "
        "required",
        "spec.volumeClaimTemplates[0].spec.resources[storage]: Required value",
    ]
    assert [str(e) for e in validate_pvc_spec("oops", "x.spec")] == [
        'x.spec: Invalid value: "oops": must be an object'
    ]


BOUND = {"phase": "Bound", "capacity": {"storage": "1Gi"}}
SPEC_IMMUTABLE = (
    "spec: Forbidden: spec is immutable after creation except resources.requests "
    "and volumeAttributesClassName for bound claims\n"
)

PVC_UPDATES = [
    pytest.param(pvc(), pvc(volumeName="pv-data"), [], id="binding sets the volume name"),
    pytest.param(
        pvc(storageClassName=...),
        pvc(storageClassName="standard"),
        [],
        id="class set where there was none",
    ),
    pytest.param(
        pvc(status=BOUND),
        pvc(status=BOUND, resources={"requests": {"storage": "5Gi"}}),
        [],
        id="bound claim grows",
    ),
    pytest.param(
        pvc(status=BOUND, resources={"requests": {"storage": "5Gi"}}),
        pvc(status=BOUND, resources={"requests": {"storage": "2Gi"}}),
        [],
        id="bound claim shrinks back above its capacity",
    ),
    pytest.param(
        pvc(status=BOUND, resources={"requests": {"storage": "5Gi"}}),
        pvc(status=BOUND, resources={"requests": {"storage": "1Gi"}}),
        ["spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"],
        id="bound claim shrinks to its capacity",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), PVC_UPDATES)
def test_persistent_volume_claim_updates(old, new, expected):
    """Binding, setting a missing class and resizing a bound claim are the allowed changes."""
    assert update_problems(old, new) == expected


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(pvc(), pvc(storageClassName="fast"), id="class changed"),
        pytest.param(pvc(volumeName="pv-a"), pvc(volumeName="pv-b"), id="volume name changed"),
        pytest.param(
            pvc(), pvc(resources={"requests": {"storage": "5Gi"}}), id="pending claim resized"
        ),
        pytest.param(pvc(), pvc(accessModes=["ReadWriteMany"]), id="access modes changed"),
    ],
)
def test_persistent_volume_claim_spec_is_immutable(old, new):
    """Any other change to a claim's spec is forbidden, with a diff of what changed."""
    [message] = update_problems(old, new)
    assert message.startswith(SPEC_IMMUTABLE)


def test_persistent_volume_claim_volume_mode_is_immutable():
    """Changing the volume mode is refused twice, as Kubernetes does."""
    found = update_problems(pvc(), pvc(volumeMode="Block"))
    assert found[0].startswith(SPEC_IMMUTABLE)
    assert found[1:] == ['volumeMode: Invalid value: "Block": field is immutable']


# --- StorageClass ----------------------------------------------------------------------------

STORAGE_CLASS_CASES = [
    pytest.param(storage_class(), [], id="valid"),
    pytest.param(
        storage_class(
            reclaimPolicy=..., volumeBindingMode=..., parameters=..., allowVolumeExpansion=True
        ),
        [],
        id="defaults fill the policies",
    ),
    pytest.param(
        storage_class(provisioner=...), ["provisioner: Required value"], id="no provisioner"
    ),
    pytest.param(
        storage_class(reclaimPolicy="Recycle"),
        ['reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"'],
        id="recycle is not for classes",
    ),
    pytest.param(
        storage_class(volumeBindingMode="Later"),
        [
            'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", '
            '"WaitForFirstConsumer"'
        ],
        id="unknown binding mode",
    ),
    pytest.param(
        storage_class(parameters={"size": 5}),
        ["parameters[size]: Invalid value: 5: must be a string"],
        id="parameter a number",
    ),
    pytest.param(
        storage_class(parameters={"a": "x" * (256 * 1024)}),
        ["parameters: Too long: may not be more than 262144 bytes"],
        id="parameters over 256 KiB",
    ),
    pytest.param(
        storage_class(allowVolumeExpansion="yes"),
        ['allowVolumeExpansion: Invalid value: "yes": must be a boolean'],
        id="expansion flag not a boolean",
    ),
]


@pytest.mark.parametrize(("obj", "expected"), STORAGE_CLASS_CASES)
def test_storage_class_validation(obj, expected):
    """A class needs a provisioner, small string parameters and known policies."""
    assert problems(obj) == expected


def test_storage_class_provisioner_must_be_a_qualified_name():
    """The provisioner is a qualified name such as kubarium.io/simulated."""
    [message] = problems(storage_class(provisioner="bad provisioner!"))
    assert message.startswith(
        'provisioner: Invalid value: "bad provisioner!": name part must '
        "consist of alphanumeric characters"
    )


STORAGE_CLASS_UPDATES = [
    pytest.param(
        storage_class(),
        storage_class(allowVolumeExpansion=False),
        [],
        id="expansion flag may change",
    ),
    pytest.param(
        storage_class(),
        storage_class(provisioner="other.io/disk"),
        ["provisioner: Forbidden: updates to provisioner are forbidden."],
        id="provisioner changed",
    ),
    pytest.param(
        storage_class(),
        storage_class(parameters={"tier": "slow"}),
        ["parameters: Forbidden: updates to parameters are forbidden."],
        id="parameters changed",
    ),
    pytest.param(
        storage_class(),
        storage_class(reclaimPolicy="Retain"),
        ["reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden."],
        id="reclaim policy changed",
    ),
    pytest.param(
        storage_class(),
        storage_class(volumeBindingMode="WaitForFirstConsumer"),
        ['volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable'],
        id="binding mode changed",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), STORAGE_CLASS_UPDATES)
def test_storage_class_updates(old, new, expected):
    """Provisioner, parameters, reclaim policy and binding mode are fixed at creation."""
    assert update_problems(old, new) == expected


# --- HorizontalPodAutoscaler -----------------------------------------------------------------

TARGET = "spec.metrics[0].resource.target"

HPA_CASES = [
    pytest.param(hpa(), [], id="defaults: CPU at 80%"),
    pytest.param(hpa(metrics=metric()), [], id="CPU utilization"),
    pytest.param(
        hpa(
            metrics=metric(name="memory", target={"type": "AverageValue", "averageValue": "500Mi"})
        ),
        [],
        id="memory average value",
    ),
    pytest.param(
        hpa(
            metrics=[
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": "requests-per-second"},
                        "target": {"type": "AverageValue", "averageValue": "10"},
                    },
                }
            ]
        ),
        [],
        id="pods metric",
    ),
    pytest.param(
        hpa(behavior={"scaleDown": {"stabilizationWindowSeconds": 300}}),
        [],
        id="behavior completed by defaults",
    ),
    pytest.param(
        hpa(minReplicas=3, maxReplicas=1),
        ["spec.maxReplicas: Invalid value: 1: must be greater than or equal to `minReplicas`"],
        id="max below min",
    ),
    pytest.param(
        hpa(maxReplicas=0),
        [
            "spec.maxReplicas: Invalid value: 0: must be greater than 0",
            "spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`",
        ],
        id="max zero",
    ),
    pytest.param(
        hpa(minReplicas=0),
        ["spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"],
        id="min zero (scale to zero is off)",
    ),
    pytest.param(
        hpa(maxReplicas="ten"),
        ['spec.maxReplicas: Invalid value: "ten": must be an integer'],
        id="max not a number",
    ),
    pytest.param(
        hpa(scaleTargetRef=...),
        ["spec.scaleTargetRef.kind: Required value", "spec.scaleTargetRef.name: Required value"],
        id="no target",
    ),
    pytest.param(
        hpa(scaleTargetRef={"kind": "Deployment", "name": "a/b"}),
        ["spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'"],
        id="target name with a slash",
    ),
    pytest.param(
        hpa(metrics=[{"type": "Magic"}]),
        [
            'spec.metrics[0].type: Unsupported value: "Magic": supported values: '
            '"ContainerResource", "External", "Object", "Pods", "Resource"'
        ],
        id="unknown metric type",
    ),
    pytest.param(
        hpa(metrics=[{"type": "Resource"}]),
        [
            "spec.metrics[0].resource: Required value: must populate information for the "
            "given metric source"
        ],
        id="resource metric without its source",
    ),
    pytest.param(
        hpa(metrics=metric(name=...)),
        ["spec.metrics[0].resource.name: Required value: must specify a resource name"],
        id="resource metric without a name",
    ),
    pytest.param(
        hpa(metrics=metric(target={"type": "Utilization", "averageUtilization": 0})),
        [f"{TARGET}.averageUtilization: Invalid value: 0: must be greater than 0"],
        id="utilization 0",
    ),
    pytest.param(
        hpa(metrics=metric(target={"type": "Utilization"})),
        [
            f"{TARGET}.averageUtilization: Required value: must set either a target raw "
            "value or a target utilization"
        ],
        id="utilization missing",
    ),
    pytest.param(
        hpa(metrics=metric(target={"type": "Percent", "averageUtilization": 50})),
        [
            f'{TARGET}.type: Invalid value: "Percent": must be either Utilization, Value, '
            "or AverageValue"
        ],
        id="unknown target type",
    ),
    pytest.param(
        hpa(
            metrics=metric(
                target={"type": "Utilization", "averageUtilization": 50, "averageValue": "1"}
            )
        ),
        [
            f"{TARGET}.averageValue: Forbidden: may not set both a target raw value and a "
            "target utilization"
        ],
        id="utilization and value",
    ),
    pytest.param(
        hpa(metrics=metric(target={"type": "AverageValue", "averageValue": "-1"})),
        [f'{TARGET}.averageValue: Invalid value: "-1": must be positive'],
        id="negative average value",
    ),
    pytest.param(
        hpa(
            metrics=[
                {
                    "type": "Pods",
                    "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue"}},
                }
            ]
        ),
        [
            "spec.metrics[0].pods.target.averageValue: Required value: must specify a "
            "positive target averageValue"
        ],
        id="pods metric without a value",
    ),
    pytest.param(
        hpa(
            metrics=[
                {
                    **metric()[0],
                    "pods": {
                        "metric": {"name": "rps"},
                        "target": {"type": "AverageValue", "averageValue": "1"},
                    },
                }
            ]
        ),
        ["spec.metrics[0].pods: Forbidden: must populate the given metric source only"],
        id="two metric sources",
    ),
    pytest.param(
        hpa(behavior={"scaleUp": {"policies": []}}),
        ["spec.behavior.scaleUp.policies: Required value: must specify at least one Policy"],
        id="no scaling policies",
    ),
    pytest.param(
        hpa(
            behavior={
                "scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 2000}]}
            }
        ),
        [
            "spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 2000: must be less "
            "than or equal to 1800"
        ],
        id="period too long",
    ),
    pytest.param(
        hpa(behavior={"scaleDown": {"stabilizationWindowSeconds": -1}}),
        [
            "spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: -1: must be "
            "greater than or equal to zero"
        ],
        id="negative window",
    ),
    pytest.param(
        hpa(behavior={"scaleDown": {"selectPolicy": "Avg"}}),
        [
            'spec.behavior.scaleDown.selectPolicy: Unsupported value: "Avg": supported '
            'values: "Disabled", "Max", "Min"'
        ],
        id="unknown select policy",
    ),
]


@pytest.mark.parametrize(("obj", "expected"), HPA_CASES)
def test_hpa_validation(obj, expected):
    """An autoscaler needs a target, sane replica bounds and well-formed metrics."""
    assert problems(obj) == expected


# --- Node, Namespace, Event ------------------------------------------------------------------

LABEL_KEY_PREFIX = "name part must consist of alphanumeric characters"

NODE_CASES = [
    pytest.param(node(), [], id="valid"),
    pytest.param(
        node(
            taints=[
                {"key": "dedicated", "value": "batch", "effect": "NoSchedule"},
                {"key": "dedicated", "effect": "NoExecute"},
            ],
            capacity={"cpu": "500m", "memory": "1.5Gi", "pods": "110", "example.com/gpu": "2"},
        ),
        [],
        id="taints and extended resources",
    ),
    pytest.param(
        node(podCIDR=..., podCIDRs=["10.244.1.0/24", "fd00:1::/64"]), [], id="dual-stack pod CIDRs"
    ),
    pytest.param(
        node(taints=[{"key": "dedicated"}]),
        ["metadata.taints[0].effect: Required value"],
        id="taint without effect (Kubernetes' path)",
    ),
    pytest.param(
        node(taints=[{"key": "dedicated", "effect": "Never"}]),
        [
            'metadata.taints[0].effect: Unsupported value: "Never": supported values: '
            '"NoSchedule", "PreferNoSchedule", "NoExecute"'
        ],
        id="unknown effect",
    ),
    pytest.param(
        node(capacity={"cpu": "lots"}),
        [
            'status.capacity.cpu: Invalid value: "lots": quantities must match the regular '
            "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            'status.allocatable.cpu: Invalid value: "lots": quantities must match the '
            "regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        ],
        id="malformed capacity (allocatable defaults to it)",
    ),
    pytest.param(
        node(capacity={"cpu": "-1"}),
        [
            'status.capacity.cpu: Invalid value: "-1": must be greater than or equal to 0',
            'status.allocatable.cpu: Invalid value: "-1": must be greater than or equal to 0',
        ],
        id="negative capacity",
    ),
    pytest.param(
        node(capacity={"pods": "1.5"}),
        [
            'status.capacity.pods: Invalid value: "1500m": must be an integer',
            'status.allocatable.pods: Invalid value: "1500m": must be an integer',
        ],
        id="fractional pods",
    ),
    pytest.param(
        node(capacity={"example.com/gpu": "0.5"}),
        [
            'status.capacity.example.com/gpu: Invalid value: "500m": must be an integer',
            'status.allocatable.example.com/gpu: Invalid value: "500m": must be an integer',
        ],
        id="fractional extended resource",
    ),
    pytest.param(
        node(podCIDR="bad"),
        [
            'spec.podCIDRs[0]: Invalid value: "bad": must be a valid CIDR value, (e.g. '
            "10.9.8.0/24 or 2001:db8::/64)"
        ],
        id="pod CIDR not a CIDR",
    ),
    pytest.param(
        node(unschedulable="yes"),
        ['spec.unschedulable: Invalid value: "yes": must be a boolean'],
        id="unschedulable not a boolean",
    ),
]


@pytest.mark.parametrize(("obj", "expected"), NODE_CASES)
def test_node_validation(obj, expected):
    """Nodes need valid taints, quantities and pod CIDRs."""
    assert problems(obj) == expected


def test_node_taint_keys_and_duplicates():
    """Taint keys are label keys, and (key, effect) pairs are unique."""
    found = validate(
        apply_defaults(
            node(
                taints=[
                    {"key": "bad key", "effect": "NoSchedule"},
                    {"key": "a", "effect": "NoSchedule"},
                    {"key": "a", "effect": "NoSchedule"},
                ]
            )
        )
    )
    assert str(found[0]).startswith(
        f'metadata.taints[0].key: Invalid value: "bad key": {LABEL_KEY_PREFIX}'
    )
    assert [(e.field, e.type, e.detail) for e in found[1:]] == [
        (
            "metadata.taints[2]",
            "FieldValueDuplicate",
            "taints must be unique by key and effect pair",
        )
    ]


def test_node_pod_cidrs_one_per_family():
    """Two IPv4 pod CIDRs are refused: at most one per IP family."""
    [error] = validate(
        apply_defaults(node(podCIDR=..., podCIDRs=["10.244.1.0/24", "10.244.2.0/24"]))
    )
    assert (error.field, error.detail) == (
        "spec.podCIDRs",
        "may specify no more than one CIDR for each IP family",
    )


NODE_UPDATES = [
    pytest.param(node(), node(unschedulable=True), [], id="cordon"),
    pytest.param(
        node(), node(taints=[{"key": "a", "effect": "NoSchedule"}]), [], id="taints may change"
    ),
    pytest.param(node(podCIDR=...), node(), [], id="pod CIDR assigned"),
    pytest.param(
        node(),
        node(podCIDR="10.244.9.0/24"),
        ['spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid'],
        id="pod CIDR changed",
    ),
    pytest.param(
        node(providerID="sim://a"),
        node(providerID="sim://b"),
        [
            "spec.providerID: Forbidden: node updates may not change providerID except "
            'from "" to valid'
        ],
        id="provider ID changed",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), NODE_UPDATES)
def test_node_updates(old, new, expected):
    """A node's pod CIDR and provider ID are set once; cordons and taints may change."""
    assert update_problems(old, new) == expected


def test_node_addresses_are_unique():
    """A node may not list the same address twice."""
    new = node()
    new["status"]["addresses"] = [{"type": "InternalIP", "address": "172.18.0.2"}] * 2
    [error] = validate_update(apply_defaults(node()), apply_defaults(new))
    assert (error.field, error.type) == ("status.addresses[1]", "FieldValueDuplicate")


NAMESPACE_CASES = [
    pytest.param(namespace(), [], id="defaults add the kubernetes finalizer"),
    pytest.param(namespace(["kubernetes", "example.com/cleanup"]), [], id="qualified finalizer"),
    pytest.param(namespace([]), [], id="no finalizers"),
    pytest.param(
        namespace(["custom"]),
        [
            'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer '
            "name nor is it fully qualified"
        ],
        id="unqualified finalizer",
    ),
]


@pytest.mark.parametrize(("obj", "expected"), NAMESPACE_CASES)
def test_namespace_validation(obj, expected):
    """Namespace finalizers are "kubernetes" or qualified names."""
    assert problems(obj) == expected


EVENT_CASES = [
    pytest.param(event(), [], id="valid, as the recorder writes it"),
    pytest.param(
        event(namespace="default", involvedObject={"kind": "Node", "name": "worker-1"}),
        [],
        id="cluster-scoped object, event in default",
    ),
    pytest.param(event(type="Warning", reason=..., message=...), [], id="reason is optional"),
    pytest.param(
        event(involvedObject=...),
        [
            "involvedObject: Required value",
            'involvedObject.namespace: Invalid value: "": does not match event.namespace',
        ],
        id="no involved object",
    ),
    pytest.param(
        event(involvedObject={"name": "web-1", "namespace": "shop"}),
        ["involvedObject.kind: Required value"],
        id="involved object without kind",
    ),
    pytest.param(
        event(involvedObject={"kind": "Pod", "namespace": "shop"}),
        ["involvedObject.name: Required value"],
        id="involved object without name",
    ),
    pytest.param(
        event(namespace="default"),
        ['involvedObject.namespace: Invalid value: "shop": does not match event.namespace'],
        id="namespaces disagree",
    ),
    pytest.param(
        event(involvedObject={"kind": "Node", "name": "worker-1"}),
        ['involvedObject.namespace: Invalid value: "": does not match event.namespace'],
        id="cluster-scoped object, event outside default",
    ),
    pytest.param(
        event(type="Error"),
        ['type: Unsupported value: "Error": supported values: "Normal", "Warning"'],
        id="unknown type",
    ),
    pytest.param(
        event(eventTime="2025-01-01T00:00:00.000000Z"),
        [
            "reportingComponent: Required value",
            "reportingInstance: Required value",
            "action: Required value",
        ],
        id="new-style event without reporter",
    ),
    pytest.param(
        event(count="many"),
        ['count: Invalid value: "many": must be an integer'],
        id="count not a number",
    ),
]


@pytest.mark.parametrize(("obj", "expected"), EVENT_CASES)
def test_event_validation(obj, expected):
    """Events name their object, agree on its namespace and use a known type."""
    assert problems(obj) == expected


# --- fuzz: odd JSON at every field of every kind ---------------------------------------------

FUZZ_SEEDS = [
    pytest.param(configmap(binaryData={"b": b64("x")}, immutable=False), id="ConfigMap"),
    pytest.param(secret(type="kubernetes.io/tls", data=TLS_DATA, immutable=True), id="Secret"),
    pytest.param(
        pv(
            storageClassName="standard",
            persistentVolumeReclaimPolicy="Delete",
            nodeAffinity={"required": copy.deepcopy(ZONE_TERM)},
        ),
        id="PersistentVolume",
    ),
    pytest.param(
        pv(hostPath=..., csi={"driver": "d.io", "volumeHandle": "v"}), id="CSI PersistentVolume"
    ),
    pytest.param(
        pvc(
            {"phase": "Bound", "capacity": {"storage": "1Gi"}},
            volumeName="pv-data",
            selector={"matchExpressions": [{"key": "a", "operator": "In", "values": ["b"]}]},
            dataSource={"kind": "PersistentVolumeClaim", "name": "old"},
        ),
        id="PersistentVolumeClaim",
    ),
    pytest.param(storage_class(allowVolumeExpansion=True, mountOptions=["ro"]), id="StorageClass"),
    pytest.param(
        hpa(
            metrics=metric()
            + [
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": "rps"},
                        "target": {"type": "AverageValue", "averageValue": "10"},
                    },
                }
            ],
            behavior={
                "scaleUp": {
                    "stabilizationWindowSeconds": 0,
                    "selectPolicy": "Max",
                    "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15}],
                }
            },
        ),
        id="HorizontalPodAutoscaler",
    ),
    pytest.param(
        node(taints=[{"key": "a", "value": "b", "effect": "NoSchedule"}], providerID="sim://a"),
        id="Node",
    ),
    pytest.param(namespace(["kubernetes"]), id="Namespace"),
    pytest.param(
        event(
            eventTime="2025-01-01T00:00:00Z",
            reportingComponent="kubelet",
            reportingInstance="worker-1",
            action="Pulled",
        ),
        id="Event",
    ),
]


@pytest.mark.parametrize("valid", FUZZ_SEEDS)
def test_odd_json_in_any_field_gives_field_errors_never_exceptions(valid):
    """Whatever a field holds, validation answers with FieldErrors and never raises."""
    assert problems(valid) == []
    assert check_never_raises(valid) > 20


@pytest.mark.parametrize(
    "kind",
    [
        "ConfigMap",
        "Secret",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "StorageClass",
        "HorizontalPodAutoscaler",
        "Node",
        "Namespace",
        "Event",
    ],
)
@pytest.mark.parametrize("value", [None, 0, "text", [], {}, [{}]])
def test_every_section_of_odd_shape_never_raises(kind, value):
    """An object whose every top-level section is odd gets field errors, not an exception."""
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}}
    for section in (
        "spec",
        "status",
        "data",
        "binaryData",
        "involvedObject",
        "provisioner",
        "parameters",
        "type",
        "immutable",
    ):
        obj[section] = copy.deepcopy(value)
    for candidate in (obj, apply_defaults(obj)):
        found = validate(candidate)
        assert all(isinstance(e, FieldError) and str(e) for e in found)
