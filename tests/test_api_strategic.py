"""Strategic merge patch, as kube-apiserver applies it (merge keys, directives, ordering)."""

from __future__ import annotations

import copy

import pytest

from cluster.api.strategic import PatchError, strategic_merge_patch


def pod(*containers: dict, **spec) -> dict:
    return {"kind": "Pod", "spec": {"containers": list(containers), **spec}}


def deploy(spec: dict) -> dict:
    return {"kind": "Deployment", "spec": {"template": {"spec": spec}}}


def c(name: str, **fields) -> dict:
    return {"name": name, **fields}


CASES = [
    pytest.param(
        {"kind": "ConfigMap", "data": {"a": "1", "b": "2"}},
        {"data": {"b": None, "c": "3"}},
        {"kind": "ConfigMap", "data": {"a": "1", "c": "3"}},
        id="maps merge and null deletes a key",
    ),
    pytest.param(
        {"kind": "ConfigMap", "metadata": {"labels": {"app": "web", "tier": "fe"}}},
        {"metadata": {"labels": {"tier": None}}},
        {"kind": "ConfigMap", "metadata": {"labels": {"app": "web"}}},
        id="kubectl apply removes a label with null",
    ),
    pytest.param(
        pod(c("web", image="nginx:1"), c("sidecar", image="busybox")),
        {"spec": {"containers": [c("web", image="nginx:2")]}},
        pod(c("web", image="nginx:2"), c("sidecar", image="busybox")),
        id="containers merge by name and keep the others",
    ),
    pytest.param(
        pod(c("web", image="nginx:1")),
        {"spec": {"containers": [c("log", image="fluentd")]}},
        pod(c("log", image="fluentd"), c("web", image="nginx:1")),
        id="a new element comes first when the patch sets no order (as in Go)",
    ),
    pytest.param(
        pod(c("web"), c("sidecar")),
        {"spec": {"containers": [{"$patch": "delete", "name": "sidecar"}]}},
        pod(c("web")),
        id="$patch delete removes the element with that merge key",
    ),
    pytest.param(
        pod(c("web"), c("sidecar")),
        {"spec": {"containers": [c("only"), {"$patch": "replace"}]}},
        pod(c("only")),
        id="$patch replace in a list makes the patch the whole list",
    ),
    pytest.param(
        pod(c("web", args=["a", "b"]), tolerations=[{"key": "x"}]),
        {"spec": {"containers": [c("web", args=["c"])], "tolerations": [{"key": "y"}]}},
        pod(c("web", args=["c"]), tolerations=[{"key": "y"}]),
        id="lists without a merge strategy are replaced whole",
    ),
    pytest.param(
        pod(c("web", ports=[{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443}])),
        {"spec": {"containers": [c("web", ports=[{"containerPort": 80, "name": "http"}])]}},
        pod(
            c(
                "web",
                ports=[
                    {"containerPort": 80, "protocol": "TCP", "name": "http"},
                    {"containerPort": 443},
                ],
            )
        ),
        id="container ports merge by containerPort",
    ),
    pytest.param(
        pod(c("web", env=[{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])),
        {
            "spec": {
                "containers": [
                    c(
                        "web",
                        env=[
                            {
                                "name": "B",
                                "value": None,
                                "valueFrom": {"fieldRef": {"fieldPath": "x"}},
                            }
                        ],
                    )
                ]
            }
        },
        pod(
            c(
                "web",
                env=[
                    {"name": "A", "value": "1"},
                    {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "x"}}},
                ],
            )
        ),
        id="env merges by name and null removes a field of the element",
    ),
    pytest.param(
        pod(c("web", volumeMounts=[{"mountPath": "/a", "name": "v"}])),
        {
            "spec": {
                "containers": [
                    c(
                        "web",
                        volumeMounts=[
                            {"mountPath": "/a", "readOnly": True},
                            {"mountPath": "/b", "name": "w"},
                        ],
                    )
                ]
            }
        },
        pod(
            c(
                "web",
                volumeMounts=[
                    {"mountPath": "/a", "name": "v", "readOnly": True},
                    {"mountPath": "/b", "name": "w"},
                ],
            )
        ),
        id="volumeMounts merge by mountPath",
    ),
    pytest.param(
        pod(c("web"), volumes=[{"name": "a", "emptyDir": {}}]),
        {"spec": {"volumes": None}},
        pod(c("web")),
        id="null removes a whole merge list",
    ),
    pytest.param(
        pod(c("web"), volumes=[{"name": "a", "emptyDir": {}}]),
        {
            "spec": {
                "volumes": [
                    {"name": "a", "$retainKeys": ["name", "configMap"], "configMap": {"name": "cm"}}
                ]
            }
        },
        pod(c("web"), volumes=[{"name": "a", "configMap": {"name": "cm"}}]),
        id="$retainKeys drops the keys of the live map it does not list",
    ),
    pytest.param(
        {
            "kind": "Deployment",
            "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}},
        },
        {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
        {"kind": "Deployment", "spec": {"strategy": {"type": "Recreate"}}},
        id="$retainKeys switches a Deployment strategy to Recreate",
    ),
    pytest.param(
        {"kind": "Pod", "metadata": {"finalizers": ["a", "b"]}},
        {"metadata": {"finalizers": ["c", "a"]}},
        {"kind": "Pod", "metadata": {"finalizers": ["c", "a", "b"]}},
        id="finalizers merge as a set in patch order, server-only values after",
    ),
    pytest.param(
        {"kind": "Pod", "metadata": {"finalizers": ["a", "b", "c"]}},
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}},
        {"kind": "Pod", "metadata": {"finalizers": ["a", "c"]}},
        id="$deleteFromPrimitiveList removes values from a set list",
    ),
    pytest.param(
        {"kind": "Node", "spec": {"podCIDRs": ["10.0.0.0/24"]}},
        {"spec": {"podCIDRs": ["10.0.1.0/24"]}},
        {"kind": "Node", "spec": {"podCIDRs": ["10.0.1.0/24", "10.0.0.0/24"]}},
        id="node podCIDRs merge as a set",
    ),
    pytest.param(
        pod(c("a"), c("b"), c("c")),
        {"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}]}},
        pod(c("c"), c("a"), c("b")),
        id="$setElementOrder alone reorders the list",
    ),
    pytest.param(
        pod(c("a"), c("x"), c("b")),
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                "containers": [c("b", image="2")],
            }
        },
        pod(c("x"), c("b", image="2"), c("a")),
        id="$setElementOrder keeps a server-only element before the one it preceded live",
    ),
    pytest.param(
        pod(c("a"), c("b"), c("c")),
        {"spec": {"containers": [c("c", image="new"), c("d")]}},
        pod(c("a"), c("b"), c("c", image="new"), c("d")),
        id="server-only elements keep their place before later patch elements",
    ),
    pytest.param(
        pod(c("a"), c("b"), c("c")),
        {"spec": {"containers": [c("b", image="1"), c("a", image="2")]}},
        pod(c("b", image="1"), c("a", image="2"), c("c")),
        id="patch elements come in patch order",
    ),
    pytest.param(
        {"kind": "Pod", "metadata": {"finalizers": ["a", "b", "d"]}},
        {"metadata": {"$setElementOrder/finalizers": ["a", "b", "c"], "finalizers": ["c"]}},
        {"kind": "Pod", "metadata": {"finalizers": ["a", "b", "c", "d"]}},
        id="$setElementOrder on a set list puts a new value after the values it follows",
    ),
    pytest.param(
        pod(c("1"), c("2", other="b"), c("4", other="c")),
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "2"}, {"name": "3"}],
                "containers": [c("3"), {"name": "1", "$patch": "delete"}],
            }
        },
        pod(c("2", other="b"), c("4", other="c"), c("3")),
        id="add and delete with $setElementOrder orders against the list after the delete",
    ),
    pytest.param(
        pod(c("1", other="a"), c("4", other="c")),
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "2"}, {"name": "3"}],
                "containers": [c("2"), c("3"), {"name": "1", "$patch": "delete"}],
            }
        },
        pod(c("4", other="c"), c("2"), c("3")),
        id="add two and delete one keeps a server-only element first",
    ),
    pytest.param(
        deploy(
            {
                "containers": [
                    c(
                        "web",
                        env=[{"name": "MODE", "value": "a"}, {"name": "DEBUG", "value": "0"}],
                        ports=[{"containerPort": 80}, {"containerPort": 443}],
                    ),
                    c("sidecar"),
                ],
                "volumes": [{"name": "v", "emptyDir": {}}],
            }
        ),
        {
            "spec": {
                "template": {
                    "spec": {
                        "$setElementOrder/containers": [{"name": "web"}],
                        "containers": [
                            {
                                "$setElementOrder/env": [{"name": "DEBUG"}, {"name": "MODE"}],
                                "$setElementOrder/ports": [{"containerPort": 443}],
                                "env": [{"name": "DEBUG", "value": "1"}],
                                "name": "web",
                                "ports": [{"$patch": "delete", "containerPort": 80}],
                            },
                            {"$patch": "delete", "name": "sidecar"},
                        ],
                        "volumes": None,
                    }
                }
            }
        },
        deploy(
            {
                "containers": [
                    c(
                        "web",
                        env=[{"name": "DEBUG", "value": "1"}, {"name": "MODE", "value": "a"}],
                        ports=[{"containerPort": 443}],
                    )
                ]
            }
        ),
        id="kubectl's second apply patch (contract section 6) removes a container, env, port, volumes",
    ),
    pytest.param(
        {"kind": "Service", "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}},
        {
            "spec": {
                "$setElementOrder/ports": [{"port": 443}],
                "ports": [{"port": 443, "targetPort": 8443}, {"$patch": "delete", "port": 80}],
            }
        },
        {"kind": "Service", "spec": {"ports": [{"port": 443, "targetPort": 8443}]}},
        id="service ports merge by port",
    ),
    pytest.param(
        {
            "kind": "Deployment",
            "status": {
                "conditions": [
                    {"type": "Available", "status": "False"},
                    {"type": "Progressing", "status": "True"},
                ]
            },
        },
        {"status": {"conditions": [{"type": "Available", "status": "True"}]}},
        {
            "kind": "Deployment",
            "status": {
                "conditions": [
                    {"type": "Available", "status": "True"},
                    {"type": "Progressing", "status": "True"},
                ]
            },
        },
        id="conditions merge by type",
    ),
    pytest.param(
        {
            "kind": "Pod",
            "metadata": {"ownerReferences": [{"uid": "1", "name": "a"}, {"uid": "2", "name": "b"}]},
        },
        {"metadata": {"ownerReferences": [{"uid": "2", "controller": True}]}},
        {
            "kind": "Pod",
            "metadata": {
                "ownerReferences": [
                    {"uid": "1", "name": "a"},
                    {"uid": "2", "name": "b", "controller": True},
                ]
            },
        },
        id="ownerReferences merge by uid",
    ),
    pytest.param(
        {"kind": "Node", "spec": {"unschedulable": True, "podCIDR": "10.0.0.0/24"}},
        {"spec": {"unschedulable": None}},
        {"kind": "Node", "spec": {"podCIDR": "10.0.0.0/24"}},
        id="kubectl uncordon's null patch",
    ),
    pytest.param(
        {"kind": "Deployment", "spec": {"replicas": 1, "paused": True}},
        {"spec": {"$patch": "replace", "replicas": 3}},
        {"kind": "Deployment", "spec": {"replicas": 3}},
        id="$patch replace in a map replaces the map",
    ),
    pytest.param(
        {
            "kind": "Deployment",
            "spec": {"replicas": 1, "template": {"metadata": {"labels": {"a": "b"}}}},
        },
        {"spec": {"template": {"metadata": {"$patch": "delete"}}}},
        {"kind": "Deployment", "spec": {"replicas": 1, "template": {"metadata": {}}}},
        id="$patch delete in a map empties it",
    ),
    pytest.param(
        pod(c("web")),
        {
            "spec": {
                "initContainers": [
                    c("init", env=[{"name": "A", "value": None}]),
                    {"$patch": "delete", "name": "gone"},
                ]
            }
        },
        pod(c("web"), initContainers=[c("init", env=[{"name": "A"}])]),
        id="directives and nulls in values the live object lacks are consumed",
    ),
    pytest.param(
        {"kind": "ConfigMap", "data": {"a": "1"}},
        {"data": {"a": {"nested": True}}},
        {"kind": "ConfigMap", "data": {"a": {"nested": True}}},
        id="a value of another type replaces the live one",
    ),
    pytest.param(
        {"kind": "Thing", "spec": {"items": [{"name": "a"}], "meta": {"x": 1}}},
        {"spec": {"items": [{"name": "b"}], "meta": {"y": 2}}},
        {"kind": "Thing", "spec": {"items": [{"name": "b"}], "meta": {"x": 1, "y": 2}}},
        id="an unknown kind behaves as a merge patch",
    ),
]


@pytest.mark.parametrize(("live", "patch", "expected"), CASES)
def test_strategic_merge_patch(live: dict, patch: dict, expected: dict):
    """The patched object is what kube-apiserver would store; the live object is untouched."""
    before = copy.deepcopy(live)
    assert strategic_merge_patch(live, patch) == expected
    assert live == before


@pytest.mark.parametrize(
    ("live", "patch", "message"),
    [
        pytest.param(
            pod(c("web")),
            {"spec": {"containers": [{"image": "x"}]}},
            "does not contain declared merge key: name",
            id="a merge list element without its merge key",
        ),
        pytest.param(
            pod(c("web")),
            {"spec": {"containers": [{"$patch": "delete"}]}},
            "does not contain declared merge key: name",
            id="a delete directive without the merge key",
        ),
        pytest.param(
            pod(c("web")),
            {"spec": {"containers": [{"$patch": "merge", "name": "web"}]}},
            "merging lists cannot yet be specified in the patch",
            id="the merge directive in a list",
        ),
        pytest.param(
            {"kind": "ConfigMap", "data": {}},
            {"data": {"$patch": "explode"}},
            "Unknown patch type",
            id="an unknown patch directive",
        ),
        pytest.param(
            {"kind": "ConfigMap"},
            {"$bogus": 1},
            "unknown strategic merge patch directive: $bogus",
            id="an unknown dollar key",
        ),
        pytest.param(
            {"kind": "Deployment", "spec": {"strategy": {}}},
            {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}},
            "must be present in $retainKeys",
            id="a patched key missing from $retainKeys",
        ),
        pytest.param(
            {"kind": "Pod", "metadata": {"finalizers": ["a"]}},
            {"metadata": {"finalizers": [{"a": 1}]}},
            "a list of primitives cannot hold",
            id="an object in a set list",
        ),
    ],
)
def test_malformed_patches_are_bad_requests(live: dict, patch: dict, message: str):
    """A malformed strategic merge patch is a 400 BadRequest that says what is wrong."""
    with pytest.raises(PatchError) as raised:
        strategic_merge_patch(live, patch)
    assert raised.value.code == 400
    assert message in raised.value.message


def test_patch_must_be_an_object():
    """A strategic merge patch is a JSON object (a list is a JSON patch)."""
    with pytest.raises(PatchError):
        strategic_merge_patch({"kind": "Pod"}, [{"op": "add"}])
