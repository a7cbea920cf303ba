"""Protobuf request bodies (kubectl 1.32's ``create <generator>``) decoded to Kubernetes JSON.

The byte strings are what kubectl 1.32.4 sent on this machine (captured by a logging server),
plus the ConfigMap of kubectl-contract §7.7.
"""

from __future__ import annotations

import pytest

from cluster.api import protobuf
from cluster.store.errors import BadRequest

CONFIGMAP = bytes.fromhex(
    "6b387300"
    "0a0f0a0276311209" + b"ConfigMap".hex() + "121d"
    "0a130a03" + b"foo".hex() + "12001a0022002a00320038004200"
    "12060a01" + b"a".hex() + "1201" + b"b".hex() + "1a002200"
)
DEPLOYMENT = bytes.fromhex(
    "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412bd010a1f0a0377656212001a0022002a"
    "003200380042005a0a0a036170701203776562128b010800120c0a0a0a0361707012037765621a710a1c0a00"
    "12001a0022002a003200380042005a0a0a036170701203776562125112330a056e67696e78120a6e67696e78"
    "3a312e32372a00320a0a001000185022002a0042006a007200800100880100900100a201001a003200420"
    "04a0052005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038"
    "001a002200"
)
SECRET = bytes.fromhex(
    "6b3873000a0c0a0276311206536563726574121d0a110a017312001a0022002a003200380042001206"
    "0a016b1201761a001a002200"
)
SERVICE = bytes.fromhex(
    "6b3873000a0d0a02763112075365727669636512690a1f0a0377656212001a0022002a003200380042005a0a"
    "0a03617070120377656212420a1b0a0738302d38303830120354435018502207080010903f1a002800120a0a"
    "0361707012037765621a002209436c757374657249503a00420052005a00600068001a020a001a002200"
)
INGRESS = bytes.fromhex(
    "6b3873000a1f0a146e6574776f726b696e672e6b38732e696f2f76311207496e6772657373124c0a130a0377"
    "656212001a0022002a0032003800420012311a2f0a0d612e6578616d706c652e636f6d121e0a1c0a1a0a012f"
    "120d220b0a0377656212040a0010501a065072656669781a020a001a002200"
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            CONFIGMAP,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "foo"},
                "data": {"a": "b"},
            },
            id="create configmap foo --from-literal=a=b",
        ),
        pytest.param(
            DEPLOYMENT,
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {
                    "replicas": 0,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {
                            "containers": [
                                {
                                    "name": "nginx",
                                    "image": "nginx:1.27",
                                    "ports": [{"containerPort": 80}],
                                }
                            ]
                        },
                    },
                },
            },
            id="create deployment --replicas=0 keeps the explicit zero",
        ),
        pytest.param(
            SECRET,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "s"},
                "data": {"k": "dg=="},
            },
            id="create secret generic: bytes become base64",
        ),
        pytest.param(
            SERVICE,
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {
                    "ports": [
                        {"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}
                    ],
                    "selector": {"app": "web"},
                    "type": "ClusterIP",
                },
            },
            id="create service clusterip: IntOrString becomes an int",
        ),
        pytest.param(
            INGRESS,
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": {"name": "web"},
                "spec": {
                    "rules": [
                        {
                            "host": "a.example.com",
                            "http": {
                                "paths": [
                                    {
                                        "path": "/",
                                        "pathType": "Prefix",
                                        "backend": {
                                            "service": {"name": "web", "port": {"number": 80}}
                                        },
                                    }
                                ]
                            },
                        }
                    ]
                },
            },
            id="create ingress: the rule value is inlined",
        ),
    ],
)
def test_kubectl_bodies_decode_to_json(body: bytes, expected: dict):
    """kubectl's protobuf bodies become the JSON objects they encode, empty Go values dropped."""
    assert protobuf.decode(body) == expected


def _unknown(api_version: str, kind: str, raw: bytes) -> bytes:
    envelope = protobuf.message_class("Unknown")()
    envelope.typeMeta.apiVersion, envelope.typeMeta.kind = api_version, kind
    envelope.raw = raw
    return protobuf.MAGIC + envelope.SerializeToString()


def test_special_types_convert_as_kubernetes_json():
    """Time is RFC 3339 (zero is absent), Quantity its string, a string IntOrString a string."""
    deployment = protobuf.message_class("Deployment")()
    deployment.metadata.name = "web"
    deployment.metadata.creationTimestamp.seconds = 0
    deployment.metadata.deletionTimestamp.seconds = 1767225600
    container = deployment.spec.template.spec.containers.add(name="web", image="nginx")
    container.resources.requests["cpu"].string = "250m"
    strategy = deployment.spec.strategy.rollingUpdate
    strategy.maxSurge.type, strategy.maxSurge.strVal = 1, "25%"
    strategy.maxUnavailable.type, strategy.maxUnavailable.intVal = 0, 1
    decoded = protobuf.decode(_unknown("apps/v1", "Deployment", deployment.SerializeToString()))
    assert decoded["metadata"] == {"name": "web", "deletionTimestamp": "2026-01-01T00:00:00Z"}
    assert decoded["spec"]["strategy"] == {
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}
    }
    assert decoded["spec"]["template"]["spec"]["containers"] == [
        {"name": "web", "image": "nginx", "resources": {"requests": {"cpu": "250m"}}}
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"{}", "does not start with the Kubernetes magic", id="not protobuf"),
        pytest.param(
            _unknown("batch/v1", "Job", b""),
            "protobuf bodies for Job (batch/v1) are not supported",
            id="a kind without message definitions",
        ),
        pytest.param(
            _unknown(
                "v1",
                "ConfigMap",
                CONFIGMAP[4 + 2 + 15 + 2 : 4 + 2 + 15 + 2 + 29] + bytes.fromhex("9a0600"),
            ),
            "sets field(s) [99] of ConfigMap",
            id="an unknown field is refused, not dropped",
        ),
        pytest.param(protobuf.MAGIC + b"\x0a\xff", "unable to decode", id="truncated bytes"),
    ],
)
def test_bodies_that_cannot_be_decoded_are_bad_requests(body: bytes, message: str):
    """What cannot be decoded faithfully is a 400 that says so (JSON remains the way)."""
    with pytest.raises(BadRequest) as raised:
        protobuf.decode(body)
    assert message in raised.value.message
