"""The official ``kubernetes`` Python client against Kubarium's API (served by Daphne)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from kubernetes import client, watch

from cluster import clock
from cluster.models import Change
from cluster.store import read, write
from cluster.store.objects import format_time
from tests import kubectl as kubectl_tools
from tests.builders import configmap, pod
from tests.kubectl import ApiServer

pytestmark = pytest.mark.django_db(transaction=True)
api_server = kubectl_tools.api_server


@pytest.fixture
def api(api_server: ApiServer) -> Iterator[client.ApiClient]:
    configuration = client.Configuration()
    configuration.host = api_server.url
    with client.ApiClient(configuration) as api_client:
        yield api_client


def python_deployment(name: str, replicas: int = 1) -> client.V1Deployment:
    """A Deployment built from the client's models, without kind or apiVersion."""
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(
                    containers=[client.V1Container(name="web", image="nginx:1.27")]
                ),
            ),
        ),
    )


def running_pod(name: str) -> None:
    write.create(pod(name, labels={"app": "web"}))

    def bind(current: dict) -> dict:
        current["spec"]["nodeName"] = "node-1"
        return current

    write.mutate("Pod", "default", name, bind, subresource="binding")
    started = format_time(clock.now_datetime() - dt.timedelta(seconds=30))

    def run(current: dict) -> dict:
        current["status"]["containerStatuses"] = [
            {
                "name": "main",
                "ready": True,
                "restartCount": 0,
                "image": "nginx:1.27",
                "imageID": "",
                "state": {"running": {"startedAt": started}},
            }
        ]
        return current

    write.mutate("Pod", "default", name, run, subresource="status")


def test_discovery_and_version(api: client.ApiClient):
    """The client's discovery calls and /version/ work."""
    assert client.VersionApi(api).get_code().minor == "32"
    assert client.CoreApi(api).get_api_versions().versions == ["v1"]
    groups = [g.name for g in client.ApisApi(api).get_api_versions().groups]
    assert groups == [
        "apps",
        "autoscaling",
        "metrics.k8s.io",
        "networking.k8s.io",
        "storage.k8s.io",
    ]


def test_list_with_selectors(api: client.ApiClient):
    """Lists deserialise into the client's models; label and field selectors filter them."""
    write.create(pod("web-1", labels={"app": "web"}))
    write.create(pod("db-1", labels={"app": "db"}))
    core = client.CoreV1Api(api)
    assert [
        p.metadata.name for p in core.list_namespaced_pod("default", label_selector="app=web").items
    ] == ["web-1"]
    everywhere = core.list_pod_for_all_namespaces(field_selector="metadata.name=db-1")
    assert [p.metadata.name for p in everywhere.items] == ["db-1"]
    assert everywhere.metadata.resource_version == str(read.current_revision())


def test_create_deployment_and_patch_its_scale(api: client.ApiClient):
    """A model without kind/apiVersion is created; the scale patch answers a V1Scale."""
    apps = client.AppsV1Api(api)
    created = apps.create_namespaced_deployment("default", python_deployment("pyweb"))
    assert (created.kind, created.metadata.name, created.spec.replicas) == (
        "Deployment",
        "pyweb",
        1,
    )
    scale = apps.patch_namespaced_deployment_scale("pyweb", "default", {"spec": {"replicas": 5}})
    assert isinstance(scale, client.V1Scale)
    assert (scale.spec.replicas, scale.status.selector) == (5, "app=pyweb")
    assert read.get("Deployment", "default", "pyweb")["spec"]["replicas"] == 5
    patched = apps.patch_namespaced_deployment(
        "pyweb", "default", [{"op": "replace", "path": "/spec/replicas", "value": 2}]
    )
    assert patched.spec.replicas == 2


def test_watch_stream_sees_added_and_modified(api: client.ApiClient):
    """watch.stream sends ADDED for what exists, then MODIFIED for a change made meanwhile."""
    write.create(configmap("cfg", a="1"))
    seen: list[tuple[str, str, dict | None]] = []
    stream = watch.Watch().stream(
        client.CoreV1Api(api).list_namespaced_config_map, "default", timeout_seconds=10
    )
    for event in stream:
        seen.append((event["type"], event["object"].metadata.name, event["object"].data))
        if event["type"] == "ADDED":
            write.patch("ConfigMap", "default", "cfg", {"data": {"a": "2"}})
        else:
            break
    assert seen == [("ADDED", "cfg", {"a": "1"}), ("MODIFIED", "cfg", {"a": "2"})]


def test_watch_from_a_compacted_revision_is_gone(api: client.ApiClient):
    """A watch from a revision the change log no longer holds gets ERROR 410 (ApiException)."""
    write.create(configmap("old"))
    write.create(configmap("new"))
    Change.objects.filter(revision__lt=read.current_revision()).delete()
    stream = watch.Watch().stream(
        client.CoreV1Api(api).list_namespaced_config_map,
        "default",
        resource_version="1",
        timeout_seconds=5,
    )
    with pytest.raises(client.ApiException) as raised:
        list(stream)
    assert raised.value.status == 410


def test_read_logs(api: client.ApiClient):
    """read_namespaced_pod_log returns the text."""
    running_pod("web-1")
    text = client.CoreV1Api(api).read_namespaced_pod_log("web-1", "default", container="main")
    assert "start worker process" in text


def test_delete_pod_returns_the_pod(api: client.ApiClient):
    """delete_namespaced_pod answers the Pod (37.x cannot read a Status there)."""
    write.create(pod("web-1"))
    deleted = client.CoreV1Api(api).delete_namespaced_pod("web-1", "default")
    assert isinstance(deleted, client.V1Pod) and deleted.metadata.name == "web-1"
    assert read.list_objects("Pod", "default").items == []
    options = client.V1DeleteOptions(propagation_policy="Foreground")
    client.AppsV1Api(api).create_namespaced_deployment("default", python_deployment("pyweb"))
    client.AppsV1Api(api).delete_namespaced_deployment("pyweb", "default", body=options)
    assert read.get("Deployment", "default", "pyweb")["metadata"]["finalizers"] == [
        "foregroundDeletion"
    ]


def test_errors_are_api_exceptions_with_a_status_body(api: client.ApiClient):
    """Any error is an ApiException whose body is the Status."""
    with pytest.raises(client.ApiException) as raised:
        client.CoreV1Api(api).read_namespaced_pod("zzz", "default")
    assert raised.value.status == 404
    assert json.loads(raised.value.body)["reason"] == "NotFound"
