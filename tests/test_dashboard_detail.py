"""The Object detail pages over HTTP: every kind, full and htmx partial; YAML as kubectl prints
it; related objects; events; a Pod's scheduling explanation; Secrets masked; the live update."""

from __future__ import annotations

import base64
import datetime as dt
import html as html_module

import pytest
import yaml
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.shortcuts import resolve_url
from django.utils import timezone

from cluster import clock, manifests
from cluster.models import Role, RoleBinding, SchedulingDecision
from cluster.store import events, kinds, read, write
from cluster.store.bootstrap import ensure_system_objects
from dashboard.broadcast import messages_for
from dashboard.object_stream import ObjectConsumer
from dashboard.pages import detail
from tests.builders import deployment, namespace, node, pod
from tests.test_dashboard_logic import notice
from tests.test_dashboard_stream import receive_page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_clock")]

SECRET_VALUE = "s3cr3t-passw0rd"

MANIFEST = f"""
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80, targetPort: 8080}}]
---
apiVersion: v1
kind: Endpoints
metadata: {{name: web, namespace: shop}}
subsets: []
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: front, namespace: shop}}
spec:
  rules:
  - host: shop.example
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {{service: {{name: web, port: {{number: 80}}}}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings, namespace: shop}}
data: {{mode: fast}}
---
apiVersion: v1
kind: Secret
metadata: {{name: db-password, namespace: shop}}
type: Opaque
data: {{password: {base64.b64encode(SECRET_VALUE.encode()).decode()}}}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {{name: fast}}
provisioner: kubarium.io/hostpath
---
apiVersion: v1
kind: PersistentVolume
metadata: {{name: pv-1}}
spec:
  capacity: {{storage: 1Gi}}
  accessModes: [ReadWriteOnce]
  hostPath: {{path: /data/pv-1}}
  storageClassName: fast
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: data, namespace: shop}}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: fast
  resources: {{requests: {{storage: 1Gi}}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db, namespace: shop}}
spec:
  serviceName: db
  replicas: 1
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec: {{containers: [{{name: main, image: "postgres:17"}}]}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: agent}}}}
  template:
    metadata: {{labels: {{app: agent}}}}
    spec: {{containers: [{{name: main, image: "busybox:1.36"}}]}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: web, namespace: shop}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}
  minReplicas: 1
  maxReplicas: 5
  metrics:
  - type: Resource
    resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 60}}}}
"""


def owner_ref(obj: dict) -> dict:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


@pytest.fixture
def cluster():
    """A shop: a Deployment with its ReplicaSet and two pods (one Pending), a Service, an
    Ingress, and one object of every other kind."""
    ensure_system_objects()
    write.create(namespace("shop"))
    for name in ("worker-1", "worker-2"):
        write.create(node(name, cpu="2"))
    manifests.apply(manifests.load_text(MANIFEST))
    web = write.create(deployment("web", "shop", replicas=2))
    rs = deployment("web-7d9c", "shop", replicas=2)
    rs["kind"] = "ReplicaSet"
    rs["metadata"]["ownerReferences"] = [owner_ref(web)]
    rs["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "1"}
    rs = write.create(rs)
    for name, node_name in (("web-7d9c-aaaaa", "worker-1"), ("web-7d9c-bbbbb", None)):
        obj = pod(name, "shop", labels={"app": "web"}, node=node_name, cpu="500m")
        obj["metadata"]["ownerReferences"] = [owner_ref(rs)]
        obj["spec"]["volumes"] = [{"name": "cfg", "configMap": {"name": "settings"}}]
        obj["spec"]["containers"][0]["volumeMounts"] = [{"name": "cfg", "mountPath": "/etc/cfg"}]
        write.create(obj)
    events.record(
        read.get("pods", "shop", "web-7d9c-aaaaa"),
        "Scheduled",
        "Successfully assigned shop/web-7d9c-aaaaa to worker-1",
        component="default-scheduler",
    )


# kind -> (namespace, name) of an object the fixture made
OBJECTS = {
    "Namespace": ("", "shop"),
    "Node": ("", "worker-1"),
    "Pod": ("shop", "web-7d9c-aaaaa"),
    "Service": ("shop", "web"),
    "Endpoints": ("shop", "web"),
    "Ingress": ("shop", "front"),
    "ConfigMap": ("shop", "settings"),
    "Secret": ("shop", "db-password"),
    "PersistentVolume": ("", "pv-1"),
    "PersistentVolumeClaim": ("shop", "data"),
    "StorageClass": ("", "fast"),
    "Deployment": ("shop", "web"),
    "ReplicaSet": ("shop", "web-7d9c"),
    "StatefulSet": ("shop", "db"),
    "DaemonSet": ("shop", "agent"),
    "HorizontalPodAutoscaler": ("shop", "web"),
    "Event": ("shop", None),  # named at random: looked up
}


def url_of(kind: str) -> str:
    namespace, name = OBJECTS[kind]
    if name is None:
        name = kinds.by_kind(kind).model.objects.values_list("name", flat=True).first()
    return detail.object_url(kind, namespace, name)


def test_every_kind_has_an_entry():
    """The table below covers every kind the store knows."""
    assert set(OBJECTS) == {k.kind for k in kinds.KINDS}


@pytest.mark.parametrize("kind", sorted(OBJECTS))
def test_the_detail_page_of_every_kind(cluster, admin_client, kind):
    """Every kind has a page at /objects/<plural>/[<namespace>/]<name> with its YAML as kubectl
    prints it; an htmx request targeting #live gets only the live region."""
    url = url_of(kind)
    response = admin_client.get(url)
    assert response.status_code == 200, response.content[:500]
    html = response.content.decode()
    assert "<html" in html and 'id="live"' in html and 'id="actions"' in html
    assert f"kind: {kind}" in html
    assert f'ws-connect="/ws/objects?kind={kinds.by_kind(kind).plural}' in html

    partial = admin_client.get(url, headers={"HX-Request": "true", "HX-Target": "live"})
    assert partial.status_code == 200
    body = partial.content.decode()
    assert body.lstrip().startswith('<main id="live"') and "<html" not in body
    assert f"kind: {kind}" in body


def test_the_yaml_is_what_the_api_serves_in_kubectls_layout(cluster, admin_client):
    """apiVersion, kind, metadata, spec, status with keys sorted, no managedFields: the same
    object the REST API answers with."""
    url = detail.object_url("Deployment", "shop", "web")
    html = admin_client.get(url).content.decode()
    text = html.split('<pre class="yaml" tabindex="0">', 1)[1].split("</pre>", 1)[0]
    shown = yaml.safe_load(html_module.unescape(text))
    served = admin_client.get("/apis/apps/v1/namespaces/shop/deployments/web").json()
    served["metadata"].pop("managedFields", None)
    assert shown == served
    top = [
        line.split(":")[0] for line in html_module.unescape(text).splitlines() if line[:1].isalpha()
    ]
    assert top == ["apiVersion", "kind", "metadata", "spec", "status"]


def test_related_objects_of_a_pod(cluster, admin_client):
    """A Pod links up its owner chain, its node, the Services that select it, the Ingresses
    that route to them and what it mounts; its events are listed."""
    html = admin_client.get(detail.object_url("Pod", "shop", "web-7d9c-aaaaa")).content.decode()
    for href in (
        "/objects/replicasets/shop/web-7d9c",
        "/objects/deployments/shop/web",
        "/objects/nodes/worker-1",
        "/objects/services/shop/web",
        "/objects/ingresses/shop/front",
        "/objects/configmaps/shop/settings",
    ):
        assert f'href="{href}"' in html, href
    assert "Successfully assigned shop/web-7d9c-aaaaa to worker-1" in html
    assert "default-scheduler" in html


def test_related_objects_of_workloads_services_and_nodes(cluster, admin_client):
    """A Deployment lists its ReplicaSet and the pods it selects; a Service its pods, Endpoints
    and Ingress; a Node its pods."""
    deploy = admin_client.get(detail.object_url("Deployment", "shop", "web")).content.decode()
    assert 'href="/objects/replicasets/shop/web-7d9c"' in deploy
    assert 'href="/objects/pods/shop/web-7d9c-bbbbb"' in deploy
    service = admin_client.get(detail.object_url("Service", "shop", "web")).content.decode()
    assert 'href="/objects/pods/shop/web-7d9c-aaaaa"' in service
    assert 'href="/objects/endpoints/shop/web"' in service
    assert 'href="/objects/ingresses/shop/front"' in service
    worker = admin_client.get(detail.object_url("Node", "", "worker-1")).content.decode()
    assert 'href="/objects/pods/shop/web-7d9c-aaaaa"' in worker
    assert 'href="/objects/pods/shop/web-7d9c-bbbbb"' not in worker


def test_conditions_are_a_table_with_symbol_and_word(cluster, admin_client):
    """Conditions show their status as a word and a symbol, not by colour alone."""
    html = admin_client.get(detail.object_url("Node", "", "worker-1")).content.decode()
    assert '<th scope="row">Ready</th>' in html
    assert '<span class="badge s-ready"><span aria-hidden="true">✓</span> True</span>' in html


def test_a_missing_object_is_a_404_page(cluster, admin_client):
    response = admin_client.get("/objects/pods/shop/nope")
    assert response.status_code == 404
    assert "There is no Pod named “nope”" in response.content.decode()
    assert admin_client.get("/objects/widgets/shop/x").status_code == 404
    # A namespaced kind without a namespace, a cluster-scoped one with one:
    assert admin_client.get("/objects/pods/web").status_code == 404
    assert admin_client.get("/objects/nodes/shop/worker-1").status_code == 404


def test_the_scheduling_explanation_of_a_pending_pod(cluster, admin_client):
    """A pending pod shows the scheduler's sentence, Kubernetes' message and a table of the
    nodes with the filter that rejected each."""
    pending = read.get("pods", "shop", "web-7d9c-bbbbb")
    message = "0/2 nodes are available: 2 Insufficient cpu."
    SchedulingDecision.objects.create(
        pod_uid=pending["metadata"]["uid"],
        namespace="shop",
        name="web-7d9c-bbbbb",
        node_name="",
        message=message,
        diagnosis={
            "filtered": {
                "worker-1": {"plugin": "NodeResourcesFit", "reasons": ["Insufficient cpu"]},
                "worker-2": {"plugin": "NodeResourcesFit", "reasons": ["Insufficient cpu"]},
            },
            "scores": [],
            "sentence": "Pending: no node has 500m cpu free; the largest free is 350m on worker-2.",
            "evaluated": 2,
        },
        decided_at=timezone.now(),
    )
    html = admin_client.get(detail.object_url("Pod", "shop", "web-7d9c-bbbbb")).content.decode()
    section = html.split('id="detail-scheduling"', 1)[1].split("</section>", 1)[0]
    assert "Pending: no node has 500m cpu free; the largest free is 350m on worker-2." in section
    assert message in section
    assert section.count("NodeResourcesFit") == 2
    assert "Insufficient cpu" in section and "Rejected" in section
    assert "Nodes examined: 2 of 2." in section


def test_the_scheduling_explanation_of_a_placed_pod_shows_the_scores(cluster, admin_client):
    """A bound pod shows the score of each feasible node and which one was chosen."""
    placed = read.get("pods", "shop", "web-7d9c-aaaaa")
    SchedulingDecision.objects.create(
        pod_uid=placed["metadata"]["uid"],
        namespace="shop",
        name="web-7d9c-aaaaa",
        node_name="worker-1",
        message="",
        diagnosis={
            "filtered": {},
            "scores": [
                {
                    "node": "worker-1",
                    "scores": {"LeastAllocated": 80, "Balanced": 90},
                    "total": 170,
                    "selected": True,
                },
                {
                    "node": "worker-2",
                    "scores": {"LeastAllocated": 60, "Balanced": 95},
                    "total": 155,
                    "selected": False,
                },
            ],
            "sentence": "",
            "evaluated": 2,
        },
        decided_at=timezone.now(),
    )
    html = admin_client.get(detail.object_url("Pod", "shop", "web-7d9c-aaaaa")).content.decode()
    section = html.split('id="detail-scheduling"', 1)[1].split("</section>", 1)[0]
    assert "Scheduled on worker-1, the best of 2 suitable nodes." in section
    assert '<th scope="col" class="num">LeastAllocated</th>' in section
    assert ">170<" in section and ">155<" in section
    assert "Chosen" in section and "Feasible" in section


def test_a_pod_the_scheduler_never_saw(cluster, admin_client):
    html = admin_client.get(detail.object_url("Pod", "shop", "web-7d9c-bbbbb")).content.decode()
    assert "Not yet looked at by the scheduler." in html


def test_secret_values_are_masked_unless_allowed_and_asked(cluster, client, access_enforced):
    """An editor sees the values only on request; a viewer never does, and neither does the
    last-applied copy of the manifest give them away."""
    users = get_user_model()
    editor = users.objects.create_user("eddie", password="x")
    viewer = users.objects.create_user("vera", password="x")
    RoleBinding.objects.create(user=editor, role=Role.EDITOR, namespace="shop")
    RoleBinding.objects.create(user=viewer, role=Role.VIEWER, namespace="")
    url = detail.object_url("Secret", "shop", "db-password")
    encoded = base64.b64encode(SECRET_VALUE.encode()).decode()

    client.force_login(viewer)
    for query in ("", "?reveal=1"):
        html = client.get(url + query).content.decode()
        assert encoded not in html and "(hidden: " in html
        assert "Show the values" not in html

    client.force_login(editor)
    html = client.get(url).content.decode()
    assert encoded not in html and "Show the values" in html
    html = client.get(url + "?reveal=1").content.decode()
    assert f"password: {encoded}" in html
    assert "ws-connect=" not in html  # a page showing values does not stream


def test_reading_needs_permission(cluster, client, access_enforced):
    """Not signed in: to the sign-in page; signed in without a role: 403 in Kubernetes' words."""
    url = detail.object_url("Deployment", "shop", "web")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL) + "?next=")
    nobody = get_user_model().objects.create_user("nobody", password="x")
    client.force_login(nobody)
    response = client.get(url)
    assert response.status_code == 403
    assert (
        "deployments.apps &quot;web&quot; is forbidden: User &quot;nobody&quot; cannot get "
        "resource &quot;deployments&quot;" in response.content.decode()
    )


# --- the live stream's side ------------------------------------------------------------


def test_touches_the_object_its_events_its_namespace_and_a_nodes_pods():
    """A batch re-renders the page when it concerns the object or what the page shows."""
    pod_page = detail.Target(kinds.by_kind("Pod"), "shop", "web-1")
    assert detail.touches(pod_page, [notice(kind="Pod", namespace="shop", name="web-1")], [])
    assert detail.touches(pod_page, [notice(kind="Event", namespace="shop", name="web-1.abc")], [])
    assert detail.touches(pod_page, [notice(kind="Service", namespace="shop", name="x")], [])
    assert not detail.touches(pod_page, [notice(kind="Event", namespace="shop", name="db.1")], [])
    assert not detail.touches(pod_page, [notice(kind="Pod", namespace="data", name="web-1")], [])
    node_page = detail.Target(kinds.by_kind("Node"), "", "worker-1")
    assert detail.touches(node_page, [], ["worker-1"])
    assert detail.touches(node_page, [notice(kind="Node", namespace="", name="worker-1")], [])
    assert not detail.touches(node_page, [notice(kind="Node", namespace="", name="worker-2")], [])
    assert not detail.touches(node_page, [], ["worker-2"])


def test_render_update_renders_the_region_when_the_object_changes(cluster):
    """The stream re-renders #region with the new state, and nothing for unrelated changes."""
    target = detail.Target(kinds.by_kind("Deployment"), "shop", "web")
    write.patch("deployments", "shop", "web", {"spec": {"replicas": 7}}, actor="admin:alice")
    changed = messages_for([notice(kind="Deployment", namespace="shop", name="web")])
    html = detail.render_update(target, list(changed.values()))
    assert html.lstrip().startswith('<div id="region"') and "replicas: 7" in html
    other = messages_for([notice(kind="Pod", namespace="data", name="x")])
    assert detail.render_update(target, list(other.values())) == ""


def test_groups_of_a_page():
    pod_page = detail.Target(kinds.by_kind("Pod"), "shop", "web-1")
    assert detail.groups_for(pod_page) == ["kubarium.changes.ns.shop"]
    node_page = detail.Target(kinds.by_kind("Node"), "", "worker-1")
    assert detail.groups_for(node_page) == [
        "kubarium.changes.cluster",
        "kubarium.changes.ns.default",
    ]


def test_events_list_is_newest_first(cluster, admin_client):
    obj = read.get("deployments", "shop", "web")
    now = clock.now_datetime()
    events.record(obj, "First", "first message", component="x", now=now - dt.timedelta(minutes=5))
    events.record(obj, "Second", "second message", component="x", now=now)
    html = admin_client.get(detail.object_url("Deployment", "shop", "web")).content.decode()
    assert html.index("second message") < html.index("first message")


# --- the consumer (Channels' in-memory layer) ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_object_stream_sends_a_fresh_region_then_the_changes(settings):
    """A page behind the current revision gets its region at once; a change to the object
    published to its namespace's group re-renders it; an unknown kind is refused; a page
    without an object (Apply) gets the clock."""

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    clock.invalidate()
    ensure_system_objects()
    write.create(namespace("shop"))
    write.create(deployment("web", "shop", replicas=2))

    def socket(query: str) -> WebsocketCommunicator:
        return WebsocketCommunicator(ObjectConsumer.as_asgi(), f"/ws/objects?{query}")

    async def scenario():
        page = socket("kind=deployments&namespace=shop&name=web&since=1")
        connected, _ = await page.connect()
        assert connected
        first = await receive_page(page, lambda t: True)
        assert first.lstrip().startswith('<div id="region"') and "replicas: 2" in first
        await sync_to_async(write.patch)(
            "deployments", "shop", "web", {"spec": {"replicas": 6}}, actor="admin:alice"
        )
        change = notice(kind="Deployment", namespace="shop", name="web", type="MODIFIED")
        message = messages_for([change])["kubarium.changes.ns.shop"]
        await get_channel_layer().group_send("kubarium.changes.ns.shop", message)
        second = await receive_page(page, lambda t: "replicas: 6" in t)
        assert second.lstrip().startswith('<div id="region"')
        await page.disconnect()

        refused = socket("kind=widgets&namespace=shop&name=web")
        connected, code = await refused.connect()
        assert not connected and code == 4404

        clock_only = socket("lang=en")  # the Apply page: the clock, nothing else
        connected, _ = await clock_only.connect()
        assert connected
        assert (
            (await clock_only.receive_from(timeout=5)).lstrip().startswith('<span id="clock-time"')
        )
        await clock_only.disconnect()

    async_to_sync(scenario)()


def test_many_selected_pods_are_counted_not_all_listed(cluster, admin_client):
    """A workload with more pods than a page lists shows the first ones and counts the rest."""

    for index in range(detail.RELATED_SHOWN + 3):
        write.create(pod(f"extra-{index:03d}", "shop", labels={"app": "web"}))
    html = admin_client.get(detail.object_url("Deployment", "shop", "web")).content.decode()
    section = html.split('id="detail-related"', 1)[1].split("</section>", 1)[0]
    assert section.count('href="/objects/pods/shop/') == detail.RELATED_SHOWN
    assert "and 5 more" in section  # 2 of the fixture's, 103 new: 105 - 100


def test_a_claim_lists_the_pods_that_mount_it(cluster, admin_client):
    user = pod("db-client", "shop")
    user["spec"]["volumes"] = [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]
    write.create(user)
    html = admin_client.get(detail.object_url("PersistentVolumeClaim", "shop", "data"))
    assert 'href="/objects/pods/shop/db-client"' in html.content.decode()
    assert 'href="/objects/pods/shop/web-7d9c-aaaaa"' not in html.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_object_stream_refuses_a_user_who_may_not_read(settings, access_enforced):
    """The stream checks the page's own rule: no role in the namespace, no stream (4403)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    clock.invalidate()
    ensure_system_objects()
    write.create(namespace("shop"))
    write.create(deployment("web", "shop"))
    nobody = get_user_model().objects.create_user("nobody", password="x")
    editor = get_user_model().objects.create_user("eddie", password="x")
    RoleBinding.objects.create(user=editor, role=Role.EDITOR, namespace="shop")

    async def scenario():
        for user, expected in ((nobody, False), (editor, True)):
            socket = WebsocketCommunicator(
                ObjectConsumer.as_asgi(), "/ws/objects?kind=deployments&namespace=shop&name=web"
            )
            socket.scope["user"] = user
            connected, code = await socket.connect()
            assert connected is expected, user
            if connected:
                await socket.disconnect()
            else:
                assert code == 4403

    async_to_sync(scenario)()
