"""The REST API's HTTP behaviour, through Django's test client (no real server).

Shapes kubectl and the Python client depend on (kubectl-contract): Status errors with matching
codes, discovery, Tables, list metadata, create/replace/patch/delete answers, subresources.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cluster import clock
from cluster.api import routes
from cluster.api.http import NotFoundPath, conversion, parse_bool
from cluster.store import read, write
from cluster.store.objects import format_time
from tests.builders import configmap, deployment, pod

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
PODS = "/api/v1/namespaces/default/pods"
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


def body(response) -> dict:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return json.loads(response.content)


def running_pod(name: str, *, labels: dict | None = None, started_seconds_ago: int = 60) -> dict:
    """A pod bound to node-1 whose container ``main`` runs (what a kubelet would report)."""
    write.create(pod(name, labels=labels or {"app": "web"}))

    def bind(current: dict) -> dict:
        current["spec"]["nodeName"] = "node-1"
        return current

    write.mutate("Pod", "default", name, bind, subresource="binding")
    started = format_time(clock.now_datetime() - dt.timedelta(seconds=started_seconds_ago))

    def run(current: dict) -> dict:
        current["status"].update(
            phase="Running",
            containerStatuses=[
                {
                    "name": "main",
                    "ready": True,
                    "restartCount": 0,
                    "image": "nginx:1.27",
                    "imageID": "",
                    "state": {"running": {"startedAt": started}},
                }
            ],
        )
        return current

    return write.mutate("Pod", "default", name, run, subresource="status")


# --- pure helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("true", True, id="true"),
        pytest.param("True", True, id="True, as the Python client 32 sends"),
        pytest.param("1", True, id="1"),
        pytest.param("false", False, id="false"),
        pytest.param(None, False, id="absent"),
    ],
)
def test_parse_bool_reads_go_booleans(value, expected):
    """Booleans are parsed like Go's strconv.ParseBool."""
    assert parse_bool(value) is expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        pytest.param(TABLE, ("Table", "v1"), id="kubectl get asks for a v1 Table"),
        pytest.param(
            "application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json",
            ("Table", "v1beta1"),
            id="a v1beta1 Table",
        ),
        pytest.param("application/json", ("", ""), id="plain JSON"),
        pytest.param(
            "application/vnd.kubernetes.protobuf,application/json", ("", ""), id="protobuf first"
        ),
        pytest.param(
            "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json",
            ("PartialObjectMetadataList", "v1"),
            id="metadata only",
        ),
        pytest.param("", ("", ""), id="no Accept header"),
    ],
)
def test_conversion_follows_the_accept_header(rf, accept: str, expected):
    """The first media range this server can produce decides the answer's shape."""
    assert conversion(rf.get("/", HTTP_ACCEPT=accept)) == expected


@pytest.mark.parametrize(
    ("group", "version", "segments", "expected"),
    [
        pytest.param("", "v1", ["pods"], ("Pod", None, "", ""), id="pods in all namespaces"),
        pytest.param(
            "",
            "v1",
            ["namespaces", "ns1", "pods", "web", "log"],
            ("Pod", "ns1", "web", "log"),
            id="a pod's log",
        ),
        pytest.param(
            "", "v1", ["namespaces", "ns1"], ("Namespace", None, "ns1", ""), id="a namespace"
        ),
        pytest.param(
            "",
            "v1",
            ["namespaces", "ns1", "status"],
            ("Namespace", None, "ns1", "status"),
            id="a namespace's status",
        ),
        pytest.param(
            "", "v1", ["nodes", "n1", "status"], ("Node", None, "n1", "status"), id="a node"
        ),
        pytest.param(
            "apps",
            "v1",
            ["namespaces", "d", "deployments", "web", "scale"],
            ("Deployment", "d", "web", "scale"),
            id="a deployment's scale",
        ),
        pytest.param("", "v1", [], (None, None, "", ""), id="the group version's discovery"),
    ],
)
def test_routes(group, version, segments, expected):
    """URLs map to a kind, a namespace, a name and a subresource."""
    route = routes.resolve(group, version, segments)
    kind = route.kind.kind if route.kind else None
    assert (kind, route.namespace, route.name, route.subresource) == expected


@pytest.mark.parametrize(
    ("group", "version", "segments"),
    [
        pytest.param("", "v2", ["pods"], id="an unknown version"),
        pytest.param("", "v1", ["widgets"], id="an unknown resource"),
        pytest.param("", "v1", ["pods", "web"], id="a namespaced object without its namespace"),
        pytest.param("apps", "v1", ["namespaces", "d", "pods"], id="a kind of another group"),
        pytest.param(
            "", "v1", ["namespaces", "d", "pods", "web", "bogus"], id="an unknown subresource"
        ),
        pytest.param("", "v1", ["namespaces", "d", "pods", "web", "log", "x"], id="too deep"),
    ],
)
def test_unknown_routes(group, version, segments):
    """Anything else is the apiserver's plain 404."""
    with pytest.raises(NotFoundPath):
        routes.resolve(group, version, segments)


# --- discovery -------------------------------------------------------------------------------


def test_version_reports_1_32(client):
    """The kubectl dispatcher picks its bundled 1.32 from major/minor (contract §0.1)."""
    version = body(client.get("/version?timeout=5s"))
    assert (version["major"], version["minor"]) == ("1", "32")
    assert version["gitVersion"].startswith("v1.32.")
    assert body(client.get("/version/")) == version


def test_legacy_discovery(client):
    """/api, /apis and each group version list what kubectl needs (contract §3.2)."""
    assert body(client.get("/api"))["versions"] == ["v1"]
    groups = {g["name"]: g for g in body(client.get("/apis"))["groups"]}
    assert set(groups) == {
        "apps",
        "autoscaling",
        "metrics.k8s.io",
        "networking.k8s.io",
        "storage.k8s.io",
    }
    assert groups["autoscaling"]["preferredVersion"] == {
        "groupVersion": "autoscaling/v2",
        "version": "v2",
    }
    core = {r["name"]: r for r in body(client.get("/api/v1"))["resources"]}
    assert core["pods"]["shortNames"] == ["po"] and core["pods"]["categories"] == ["all"]
    assert core["pods"]["verbs"] == [
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ]
    assert core["pods/eviction"] == {
        "name": "pods/eviction",
        "singularName": "",
        "namespaced": True,
        "group": "policy",
        "version": "v1",
        "kind": "Eviction",
        "verbs": ["create"],
    }
    assert core["pods/log"]["verbs"] == ["get"]
    assert core["namespaces"]["namespaced"] is False
    apps = {r["name"]: r for r in body(client.get("/apis/apps/v1"))["resources"]}
    assert apps["deployments/scale"]["kind"] == "Scale"
    assert apps["deployments/scale"]["group"] == "autoscaling"
    assert "daemonsets/scale" not in apps
    assert body(client.get("/apis/apps"))["preferredVersion"]["groupVersion"] == "apps/v1"


def test_openapi_v3_lets_kubectl_validate_on_the_server(client):
    """Each group version's document has a PATCH with its GVK and fieldValidation (§7.1)."""
    index = body(client.get("/openapi/v3"))["paths"]
    url = index["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    document = body(client.get(url))
    operation = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"][
        "patch"
    ]
    assert operation["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
    }
    assert {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}} in operation[
        "parameters"
    ]
    node = body(client.get("/openapi/v3/api/v1"))["paths"]["/api/v1/nodes/{name}"]["patch"]
    assert node["x-kubernetes-group-version-kind"]["group"] == ""


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/openapi/v2", id="openapi v2 is protobuf only"),
        pytest.param("/api/v1/widgets", id="an unknown resource"),
        pytest.param("/apis/policy/v1", id="a group not served"),
        pytest.param("/openapi/v3/apis/batch/v1", id="an unknown openapi document"),
    ],
)
def test_unknown_paths_answer_a_not_found_status(client, path: str):
    """Never an HTML page: a 404 Status kubectl can print."""
    response = client.get(path)
    assert response.status_code == 404
    assert body(response) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "the server could not find the requested resource",
        "reason": "NotFound",
        "code": 404,
    }


# --- resources -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_carries_kind_and_resource_version(client):
    """A List has kind, apiVersion and metadata.resourceVersion (contract §1.3)."""
    write.create(configmap("a", x="1"))
    listed = body(client.get(CONFIGMAPS + "?limit=500"))
    assert (listed["kind"], listed["apiVersion"]) == ("ConfigMapList", "v1")
    assert listed["metadata"]["resourceVersion"] == str(read.current_revision())
    assert [i["metadata"]["name"] for i in listed["items"]] == ["a"]


@pytest.mark.django_db
def test_list_pages_with_limit_and_continue(client):
    """limit and continue page through the collection in key order."""
    for name in ("a", "b", "c"):
        write.create(configmap(name))
    first = body(client.get(CONFIGMAPS + "?limit=2"))
    assert [i["metadata"]["name"] for i in first["items"]] == ["a", "b"]
    token = first["metadata"]["continue"]
    second = body(client.get(CONFIGMAPS, {"limit": "2", "continue": token}))
    assert [i["metadata"]["name"] for i in second["items"]] == ["c"]
    assert "continue" not in second["metadata"]


@pytest.mark.django_db
def test_list_filters_by_label_and_field_selectors(client):
    """labelSelector and fieldSelector filter lists, cluster-wide too (kubectl -A)."""
    write.create(pod("web-1", labels={"app": "web"}))
    write.create(pod("db-1", labels={"app": "db"}))
    by_label = body(client.get(PODS, {"labelSelector": "app in (web)"}))
    assert [i["metadata"]["name"] for i in by_label["items"]] == ["web-1"]
    by_field = body(client.get("/api/v1/pods", {"fieldSelector": "metadata.name!=web-1"}))
    assert [i["metadata"]["name"] for i in by_field["items"]] == ["db-1"]
    bad = client.get(PODS, {"labelSelector": "a in (b"})
    assert bad.status_code == 400 and body(bad)["reason"] == "BadRequest"


@pytest.mark.django_db
def test_tables_for_lists_and_single_objects(client):
    """kubectl get gets server-side Tables: rows with cells and a PartialObjectMetadata."""
    write.create(deployment("web"))
    table = body(client.get(DEPLOYMENTS, HTTP_ACCEPT=TABLE))
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert [c["name"] for c in table["columnDefinitions"]][:2] == ["Name", "Ready"]
    assert table["metadata"]["resourceVersion"] == str(read.current_revision())
    [row] = table["rows"]
    assert row["cells"][:2] == ["web", "0/2"]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    one = body(client.get(DEPLOYMENTS + "/web", HTTP_ACCEPT=TABLE))
    assert len(one["rows"]) == 1
    full = body(client.get(DEPLOYMENTS + "?includeObject=Object", HTTP_ACCEPT=TABLE))
    assert full["rows"][0]["object"]["kind"] == "Deployment"
    bad = client.get(DEPLOYMENTS + "?includeObject=All", HTTP_ACCEPT=TABLE)
    assert bad.status_code == 400


@pytest.mark.django_db
def test_partial_object_metadata_list(client):
    """The metadata-only form some clients ask for."""
    write.create(configmap("a"))
    accept = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"
    listed = body(client.get(CONFIGMAPS, HTTP_ACCEPT=accept))
    assert listed["kind"] == "PartialObjectMetadataList"
    assert listed["items"][0] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": read.get("ConfigMap", "default", "a")["metadata"],
    }


@pytest.mark.django_db
def test_create_fills_kind_and_namespace_from_the_url(client):
    """A body without kind/apiVersion and without Content-Type (Python client 37) is created."""
    raw = json.dumps({"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    response = client.generic("POST", CONFIGMAPS + "?fieldManager=tester", raw, content_type="")
    assert response.status_code == 201
    created = body(response)
    assert (created["kind"], created["apiVersion"]) == ("ConfigMap", "v1")
    assert created["metadata"]["namespace"] == "default"
    assert created["metadata"]["managedFields"][0]["manager"] == "tester"


@pytest.mark.parametrize(
    ("path", "payload", "code", "reason", "message"),
    [
        pytest.param(
            CONFIGMAPS,
            {"metadata": {"name": "c", "namespace": "other"}},
            400,
            "BadRequest",
            "the namespace of the provided object does not match the namespace sent on the request",
            id="another namespace in the body",
        ),
        pytest.param(
            CONFIGMAPS,
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "c"}},
            400,
            "BadRequest",
            "the kind in the data (Secret) does not match the expected kind (ConfigMap)",
            id="another kind in the body",
        ),
        pytest.param(
            "/api/v1/namespaces/nowhere/configmaps",
            {"metadata": {"name": "c"}},
            404,
            "NotFound",
            'namespaces "nowhere" not found',
            id="a namespace that does not exist",
        ),
        pytest.param(
            DEPLOYMENTS,
            {"metadata": {"name": "web"}, "spec": {"replicas": -1}},
            422,
            "Invalid",
            'Deployment.apps "web" is invalid',
            id="an invalid object",
        ),
    ],
)
@pytest.mark.django_db
def test_create_errors_are_status_objects(client, path, payload, code, reason, message):
    """Create errors come back as Status objects whose code is the HTTP status."""
    response = client.post(path, json.dumps(payload), content_type="application/json")
    status = body(response)
    assert (response.status_code, status["code"], status["reason"]) == (code, code, reason)
    assert status["message"].startswith(message)


@pytest.mark.django_db
def test_create_twice_is_already_exists(client):
    """A second create of the same name is 409 AlreadyExists."""
    write.create(configmap("c"))
    response = client.post(
        CONFIGMAPS, json.dumps({"metadata": {"name": "c"}}), content_type="application/json"
    )
    assert response.status_code == 409
    assert body(response)["message"] == 'configmaps "c" already exists'


@pytest.mark.django_db
def test_dry_run_create_and_delete_persist_nothing(client):
    """dryRun=All answers what the write would do and stores nothing (kubectl diff)."""
    before = read.current_revision()
    response = client.post(
        CONFIGMAPS + "?dryRun=All",
        json.dumps({"metadata": {"name": "c"}}),
        content_type="application/json",
    )
    assert response.status_code == 201 and body(response)["metadata"]["name"] == "c"
    write.create(configmap("d"))
    response = client.delete(
        CONFIGMAPS + "/d", json.dumps({"dryRun": ["All"]}), content_type="application/json"
    )
    assert body(response)["status"] == "Success"
    assert read.get("ConfigMap", "default", "d")
    assert read.current_revision() == before + 1


@pytest.mark.django_db
def test_replace_with_a_stale_resource_version_is_a_conflict(client):
    """PUT checks metadata.resourceVersion: a stale one is 409 Conflict (kubectl replace)."""
    created = write.create(configmap("c", a="1"))
    stale = dict(created, data={"a": "2"})
    write.patch("ConfigMap", "default", "c", {"data": {"a": "3"}})
    response = client.put(CONFIGMAPS + "/c", json.dumps(stale), content_type="application/json")
    assert response.status_code == 409
    assert body(response)["message"] == (
        'Operation cannot be fulfilled on configmaps "c": the object has been modified; please '
        "apply your changes to the latest version and try again"
    )


@pytest.mark.django_db
def test_replace_keeps_managed_fields_the_body_omits(client):
    """A PUT without managedFields keeps the live ones and records the writer's fields."""
    client.post(
        CONFIGMAPS + "?fieldManager=alice",
        json.dumps({"metadata": {"name": "c"}, "data": {"a": "1"}}),
        content_type="application/json",
    )
    live = read.get("ConfigMap", "default", "c")
    del live["metadata"]["managedFields"]
    live["data"]["b"] = "2"
    response = client.put(
        CONFIGMAPS + "/c?fieldManager=bob", json.dumps(live), content_type="application/json"
    )
    managers = {e["manager"]: e["fieldsV1"] for e in body(response)["metadata"]["managedFields"]}
    assert managers == {"alice": {"f:data": {"f:a": {}}}, "bob": {"f:data": {"f:b": {}}}}


@pytest.mark.parametrize(
    ("content_type", "patch", "expected"),
    [
        pytest.param(
            "application/merge-patch+json",
            {"spec": {"template": {"spec": {"containers": [{"name": "x", "image": "y"}]}}}},
            ["x"],
            id="merge patch replaces lists",
        ),
        pytest.param(
            "application/strategic-merge-patch+json",
            {"spec": {"template": {"spec": {"containers": [{"name": "x", "image": "y"}]}}}},
            ["x", "main"],
            id="strategic merge patch merges containers by name",
        ),
        pytest.param(
            "application/json-patch+json",
            [
                {
                    "op": "add",
                    "path": "/spec/template/spec/containers/-",
                    "value": {"name": "x", "image": "y"},
                }
            ],
            ["main", "x"],
            id="JSON patch",
        ),
    ],
)
@pytest.mark.django_db
def test_patch_types(client, content_type: str, patch, expected: list[str]):
    """PATCH understands merge, JSON and strategic merge patches by Content-Type."""
    write.create(deployment("web"))
    response = client.patch(DEPLOYMENTS + "/web", json.dumps(patch), content_type=content_type)
    assert response.status_code == 200, response.content
    names = [c["name"] for c in body(response)["spec"]["template"]["spec"]["containers"]]
    assert names == expected


@pytest.mark.django_db
def test_unchanged_patch_keeps_the_resource_version(client):
    """A patch that changes nothing is answered with the same resourceVersion (no change)."""
    created = write.create(configmap("c", a="1"))
    response = client.patch(
        CONFIGMAPS + "/c",
        json.dumps({"data": {"a": "1"}}),
        content_type="application/merge-patch+json",
    )
    assert body(response)["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


@pytest.mark.django_db
def test_unknown_patch_type_is_unsupported_media_type(client):
    """Only the four patch types are accepted (415 otherwise)."""
    write.create(configmap("c"))
    response = client.patch(CONFIGMAPS + "/c", "{}", content_type="text/x-weird")
    assert response.status_code == 415
    assert body(response)["reason"] == "UnsupportedMediaType"


@pytest.mark.django_db
def test_server_side_apply_creates_then_updates(client):
    """apply-patch+yaml creates a missing object (201), then merges (200)."""
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"a": "1", "b": "2"},
    }
    url = CONFIGMAPS + "/c?fieldManager=kubectl&force=false"
    created = client.patch(url, json.dumps(config), content_type="application/apply-patch+yaml")
    assert created.status_code == 201
    config["data"] = {"a": "1"}
    updated = client.patch(
        url,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '1'}\n",
        content_type="application/apply-patch+yaml",
    )
    assert updated.status_code == 200
    assert body(updated)["data"] == {"a": "1"}


@pytest.mark.django_db
def test_server_side_apply_conflict_status(client):
    """An apply over another manager's value is the 409 kubectl prints with its help text."""
    client.post(
        CONFIGMAPS + "?fieldManager=kubectl-client-side-apply",
        json.dumps({"metadata": {"name": "c"}, "data": {"a": "1"}}),
        content_type="application/json",
    )
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"a": "2"},
    }
    response = client.patch(
        CONFIGMAPS + "/c?fieldManager=kubectl",
        json.dumps(config),
        content_type="application/apply-patch+yaml",
    )
    assert response.status_code == 409
    assert body(response) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.a',
        "reason": "Conflict",
        "code": 409,
        "details": {
            "causes": [
                {
                    "reason": "FieldManagerConflict",
                    "message": 'conflict with "kubectl-client-side-apply" using v1',
                    "field": ".data.a",
                }
            ]
        },
    }


@pytest.mark.parametrize(
    ("kind_path", "make", "expected_kind"),
    [
        pytest.param(
            PODS + "/p", lambda: write.create(pod("p")), "Pod", id="a pod comes back whole"
        ),
        pytest.param(
            CONFIGMAPS + "/p",
            lambda: write.create(configmap("p")),
            "Status",
            id="a configmap: a Status",
        ),
    ],
)
@pytest.mark.django_db
def test_delete_answers(client, kind_path, make, expected_kind):
    """DELETE answers the pod (the Python client needs it) or a Success Status (§9)."""
    created = make()
    response = client.delete(
        kind_path, json.dumps({"propagationPolicy": "Background"}), content_type="application/json"
    )
    answer = body(response)
    assert response.status_code == 200 and answer["kind"] == expected_kind
    if expected_kind == "Status":
        assert answer["details"] == {
            "name": "p",
            "group": "",
            "kind": "configmaps",
            "uid": created["metadata"]["uid"],
        }


@pytest.mark.django_db
def test_foreground_delete_keeps_the_object_with_its_finalizer(client):
    """Foreground propagation only marks the object; it is answered as it stands (no GC here)."""
    write.create(deployment("web"))
    response = client.delete(DEPLOYMENTS + "/web?propagationPolicy=Foreground")
    answer = body(response)
    assert answer["kind"] == "Deployment"
    assert answer["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert answer["metadata"]["deletionTimestamp"]


@pytest.mark.django_db
def test_delete_collection_by_label(client):
    """DELETE on a collection deletes what the selector matches."""
    write.create(pod("a", labels={"app": "x"}))
    write.create(pod("b", labels={"app": "y"}))
    response = client.delete(PODS + "?labelSelector=app%3Dx")
    assert [i["metadata"]["name"] for i in body(response)["items"]] == ["a"]
    assert [p["metadata"]["name"] for p in read.list_objects("Pod", "default").items] == ["b"]


# --- subresources ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_scale_get_put_and_patch(client):
    """/scale speaks autoscaling/v1 Scale and changes the parent's spec.replicas (§8)."""
    write.create(deployment("web", replicas=2))
    scale = body(client.get(DEPLOYMENTS + "/web/scale"))
    assert (scale["kind"], scale["apiVersion"], scale["spec"], scale["status"]) == (
        "Scale",
        "autoscaling/v1",
        {"replicas": 2},
        {"replicas": 0, "selector": "app=web"},
    )
    patched = client.patch(
        DEPLOYMENTS + "/web/scale",
        json.dumps({"spec": {"replicas": 5}}),
        content_type="application/merge-patch+json",
    )
    assert body(patched)["spec"] == {"replicas": 5}
    assert read.get("Deployment", "default", "web")["metadata"]["generation"] == 2
    stale = dict(scale, spec={"replicas": 3})
    conflict = client.put(
        DEPLOYMENTS + "/web/scale", json.dumps(stale), content_type="application/json"
    )
    assert conflict.status_code == 409
    negative = client.patch(
        DEPLOYMENTS + "/web/scale",
        json.dumps({"spec": {"replicas": -1}}),
        content_type="application/strategic-merge-patch+json",
    )
    assert negative.status_code == 422
    assert client.get("/apis/apps/v1/namespaces/default/daemonsets/x/scale").status_code == 405


@pytest.mark.django_db
def test_status_subresource_changes_only_status(client):
    """PATCH .../status writes status and ignores spec changes."""
    write.create(deployment("web"))
    patch = {"spec": {"replicas": 9}, "status": {"readyReplicas": 1}}
    response = client.patch(
        DEPLOYMENTS + "/web/status", json.dumps(patch), content_type="application/merge-patch+json"
    )
    updated = body(response)
    assert updated["status"]["readyReplicas"] == 1 and updated["spec"]["replicas"] == 2


@pytest.mark.django_db
def test_eviction_deletes_the_pod_gracefully(client):
    """POST pods/x/eviction answers 201 Success and deletes the pod (kubectl drain)."""
    running_pod("web-1")
    eviction = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": "web-1", "namespace": "default"},
        "deleteOptions": {},
    }
    response = client.post(
        PODS + "/web-1/eviction", json.dumps(eviction), content_type="application/json"
    )
    assert response.status_code == 201
    assert body(response) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": 201,
    }
    assert read.get("Pod", "default", "web-1")["metadata"]["deletionTimestamp"]


@pytest.mark.django_db
def test_binding_assigns_a_node_once(client):
    """POST pods/x/binding sets spec.nodeName; a bound pod cannot be bound again."""
    write.create(pod("p"))
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "p"},
        "target": {"kind": "Node", "name": "node-1"},
    }
    assert (
        client.post(
            PODS + "/p/binding", json.dumps(binding), content_type="application/json"
        ).status_code
        == 201
    )
    bound = read.get("Pod", "default", "p")
    assert bound["spec"]["nodeName"] == "node-1"
    assert bound["status"]["conditions"][0]["type"] == "PodScheduled"
    again = client.post(PODS + "/p/binding", json.dumps(binding), content_type="application/json")
    assert again.status_code == 409
    assert body(again)["message"].endswith('pod p is already assigned to node "node-1"')


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "uid", "code", "node"),
    [
        ("?dryRun=All", None, 201, ""),  # checked, not written
        ("", "00000000-0000-0000-0000-000000000000", 409, ""),  # uid precondition fails
        ("", "own", 201, "node-2"),  # the pod's own uid: bound
    ],
    ids=["dry-run", "stale-uid", "matching-uid"],
)
def test_binding_preconditions_and_dry_run(client, query, uid, code, node):
    """A Binding's metadata.uid must be the pod's; a dry run binds nothing."""
    created = write.create(pod("p"))
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "p"},
        "target": {"kind": "Node", "name": "node-2"},
    }
    if uid:
        binding["metadata"]["uid"] = created["metadata"]["uid"] if uid == "own" else uid
    answer = client.post(
        PODS + "/p/binding" + query, json.dumps(binding), content_type="application/json"
    )
    assert answer.status_code == code, answer.content
    if code == 409:
        assert "Precondition failed: UID in precondition" in body(answer)["message"]
    assert read.get("Pod", "default", "p")["spec"].get("nodeName", "") == node


@pytest.mark.django_db
def test_logs_as_plain_text(client):
    """pods/x/log is text/plain, with tailLines and timestamps as the kubelet renders them."""
    running_pod("web-1")
    response = client.get(PODS + "/web-1/log?container=main&tailLines=2&timestamps=true")
    assert response.status_code == 200 and response["Content-Type"] == "text/plain"
    lines = response.content.decode().splitlines()
    assert len(lines) == 2
    assert lines[0][:4].isdigit() and lines[0][29:31] == "Z "


@pytest.mark.parametrize(
    ("setup", "query", "message"),
    [
        pytest.param(
            lambda: write.create(pod("p")),
            "",
            "pod p does not have a host assigned",
            id="unscheduled",
        ),
        pytest.param(
            lambda: running_pod("p"),
            "?container=nope",
            "container nope is not valid for pod p",
            id="no such container",
        ),
        pytest.param(
            lambda: running_pod("p"),
            "?previous=true",
            'previous terminated container "main" in pod "p" not found',
            id="no previous instance",
        ),
    ],
)
@pytest.mark.django_db
def test_log_errors(client, setup, query: str, message: str):
    """Logs that cannot be served are the kubelet's 400s."""
    setup()
    response = client.get(PODS + "/p/log" + query)
    assert response.status_code == 400
    assert body(response)["message"] == message


@pytest.mark.parametrize("sub", ["exec", "attach", "portforward"])
@pytest.mark.django_db
def test_exec_attach_and_port_forward_say_why_not(client, sub: str):
    """Simulated containers cannot be exec'd into: a clear 400, never a hang."""
    running_pod("p")
    response = client.post(PODS + f"/p/{sub}?command=ls")
    assert response.status_code == 400
    assert "Kubarium simulates the containers" in body(response)["message"]


@pytest.mark.django_db
def test_methods_not_allowed(client):
    """A verb a resource does not have is a 405 Status."""
    response = client.put(CONFIGMAPS, "{}", content_type="application/json")
    assert response.status_code == 405 and body(response)["reason"] == "MethodNotAllowed"
