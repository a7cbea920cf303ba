"""The dashboard's actions over HTTP: each one's success, its errors in Kubernetes' words next to
the field, nothing half-applied, confirmation for destructive ones, CSRF, permission refusals."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cluster.kubelet.runner import KUBELET_STOPPED
from cluster.models import Change, Deployment, Node, Pod, Role, RoleBinding
from cluster.store import read, write
from cluster.store.bootstrap import ensure_system_objects
from cluster.store.errors import NotFound
from dashboard.pages import actions
from tests.builders import deployment, namespace, node, pod

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_clock")]

HTMX = {"HX-Request": "true", "HX-Target": "actions"}


def owner_ref(obj: dict) -> dict:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
    }


@pytest.fixture
def cluster():
    ensure_system_objects()
    write.create(namespace("shop"))
    write.create(node("worker-1"))
    write.create(node("worker-2"))
    write.create(deployment("web", "shop", replicas=2))
    write.create(pod("solo", "shop"))
    write.create(pod("bound", "shop", node="worker-1"))
    agent = deployment("agent", "shop")
    agent["kind"] = "DaemonSet"
    agent["spec"].pop("replicas")
    agent = write.create(agent)
    daemon_pod = pod("agent-x1", "shop", node="worker-1", labels={"app": "agent"})
    daemon_pod["metadata"]["ownerReferences"] = [owner_ref(agent)]
    write.create(daemon_pod)


def action(kind_plural: str, namespace: str, name: str, slug: str) -> str:
    if namespace:
        return f"/objects/{kind_plural}/{namespace}/{name}/actions/{slug}"
    return f"/objects/{kind_plural}/{name}/actions/{slug}"


def field_errors(html: str, field_id: str) -> list[str]:
    return re.findall(
        rf'<p class="field-error" id="{field_id}-error" role="alert">([^<]*)</p>', html
    )


def unescape(text: str) -> str:
    import html

    return html.unescape(text)


# --- scale -------------------------------------------------------------------------------


def test_scale_a_deployment(cluster, admin_client):
    """Scaling sets spec.replicas through the write path, in the user's name; a plain form
    post comes back to the page."""
    response = admin_client.post(action("deployments", "shop", "web", "scale"), {"replicas": "5"})
    assert response.status_code == 302
    assert response["Location"] == "/objects/deployments/shop/web"
    assert read.get("deployments", "shop", "web")["spec"]["replicas"] == 5
    change = Change.objects.filter(kind="Deployment", name="web").order_by("-revision").first()
    assert change.actor == "dashboard:admin"
    page = admin_client.get(response["Location"]).content.decode()
    assert "deployment.apps/web scaled to 5" in page


def test_scale_with_htmx_answers_the_actions_fragment(cluster, admin_client):
    response = admin_client.post(
        action("deployments", "shop", "web", "scale"), {"replicas": "3"}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<aside id="actions"') and "<html" not in html
    assert "deployment.apps/web scaled to 3" in html
    assert read.get("deployments", "shop", "web")["spec"]["replicas"] == 3


@pytest.mark.parametrize(
    "typed, message",
    [
        pytest.param(
            "-1",
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            id="negative: the store's validation",
        ),
        pytest.param(
            "many", 'spec.replicas: Invalid value: "many": must be an integer', id="not a number"
        ),
    ],
)
def test_bad_replicas_are_refused_next_to_the_field(cluster, admin_client, typed, message):
    """The error is Kubernetes' own, beside the replicas field; nothing changes."""
    before = read.get("deployments", "shop", "web")["metadata"]["resourceVersion"]
    for headers in (HTMX, {}):
        response = admin_client.post(
            action("deployments", "shop", "web", "scale"), {"replicas": typed}, headers=headers
        )
        assert response.status_code == 422
        html = response.content.decode()
        assert [unescape(e) for e in field_errors(html, "replicas")] == [message]
        assert f'value="{typed}"' in html  # what was typed stays in the field
    assert read.get("deployments", "shop", "web")["metadata"]["resourceVersion"] == before


# --- image -------------------------------------------------------------------------------


def test_change_the_image_starts_a_rollout(cluster, admin_client):
    """A new image changes the pod template: the Deployment's generation moves on."""
    before = read.get("deployments", "shop", "web")["metadata"]["generation"]
    response = admin_client.post(
        action("deployments", "shop", "web", "image"),
        {"container": "main", "image": "nginx:1.28"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "image updated: main=nginx:1.28" in response.content.decode()
    updated = read.get("deployments", "shop", "web")
    assert updated["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert updated["metadata"]["generation"] == before + 1


@pytest.mark.parametrize(
    "values, field_id, message",
    [
        pytest.param(
            {"container": "main", "image": ""},
            "image",
            "spec.template.spec.containers[0].image: Required value",
            id="empty image",
        ),
        pytest.param(
            {"container": "sidecar", "image": "nginx:1.28"},
            "container",
            'unable to find container named "sidecar"',
            id="unknown container",
        ),
    ],
)
def test_a_bad_image_change_is_refused(cluster, admin_client, values, field_id, message):
    response = admin_client.post(
        action("deployments", "shop", "web", "image"), values, headers=HTMX
    )
    assert response.status_code == 422
    assert [unescape(e) for e in field_errors(response.content.decode(), field_id)] == [message]
    image = read.get("deployments", "shop", "web")["spec"]["template"]["spec"]["containers"][0]
    assert image["image"] == "nginx:1.27"


# --- rollback ----------------------------------------------------------------------------


def _history(images: list[str]) -> None:
    """ReplicaSets of the Deployment ``web`` for each image, revisions 1, 2, ...; the
    Deployment's template is the last one's."""
    web = read.get("deployments", "shop", "web")
    for number, image in enumerate(images, start=1):
        rs = deployment(f"web-rev{number}", "shop", replicas=0, image=image)
        rs["kind"] = "ReplicaSet"
        rs["metadata"]["ownerReferences"] = [owner_ref(web)]
        rs["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": str(number)}
        labels = {"app": "web", "pod-template-hash": f"h{number}"}
        rs["spec"]["selector"]["matchLabels"] = labels
        rs["spec"]["template"]["metadata"]["labels"] = labels
        write.create(rs)
    write.patch(
        "deployments",
        "shop",
        "web",
        {
            "metadata": {"annotations": {"deployment.kubernetes.io/revision": str(len(images))}},
            "spec": {"template": {"spec": {"containers": [{"name": "main", "image": images[-1]}]}}},
        },
    )


def image_of(name: str) -> str:
    return read.get("deployments", "shop", name)["spec"]["template"]["spec"]["containers"][0][
        "image"
    ]


def test_roll_back_to_the_previous_revision(cluster, admin_client):
    """As kubectl rollout undo: the previous ReplicaSet's template comes back (without its
    pod-template-hash label)."""
    _history(["nginx:1.26", "nginx:1.27", "nginx:1.28"])
    page = admin_client.get("/objects/deployments/shop/web").content.decode()
    assert '<option value="2">2: nginx:1.27</option>' in page
    response = admin_client.post(
        action("deployments", "shop", "web", "rollback"), {"revision": "0"}
    )
    assert response.status_code == 302
    assert image_of("web") == "nginx:1.27"
    template = read.get("deployments", "shop", "web")["spec"]["template"]
    assert "pod-template-hash" not in template["metadata"]["labels"]


def test_roll_back_to_a_chosen_revision(cluster, admin_client):
    _history(["nginx:1.26", "nginx:1.27", "nginx:1.28"])
    response = admin_client.post(
        action("deployments", "shop", "web", "rollback"), {"revision": "1"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "deployment.apps/web rolled back" in response.content.decode()
    assert image_of("web") == "nginx:1.26"


def test_roll_back_errors(cluster, admin_client):
    """No history at all, and a revision that does not exist, in kubectl's words."""
    url = action("deployments", "shop", "web", "rollback")
    response = admin_client.post(url, {"revision": "0"}, headers=HTMX)
    assert response.status_code == 422
    assert field_errors(unescape(response.content.decode()), "revision") == [
        'no rollout history found for deployment "web"'
    ]
    _history(["nginx:1.26", "nginx:1.27"])
    response = admin_client.post(url, {"revision": "9"}, headers=HTMX)
    assert response.status_code == 422
    assert field_errors(response.content.decode(), "revision") == [
        "unable to find specified revision 9 in history"
    ]
    assert image_of("web") == "nginx:1.27"


# --- pods --------------------------------------------------------------------------------


def test_deleting_a_pod_asks_for_confirmation_first(cluster, admin_client):
    """The first post only asks (a form that also works without JavaScript); the confirmed
    one deletes."""
    url = action("pods", "shop", "solo", "delete")
    for headers in (HTMX, {}):
        response = admin_client.post(url, {}, headers=headers)
        assert response.status_code == 200
        html = response.content.decode()
        assert '<input type="hidden" name="confirm" value="yes">' in html
        assert "Delete pod solo?" in html
        assert Pod.objects.filter(name="solo").exists()
    response = admin_client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    assert not Pod.objects.filter(name="solo").exists()


def test_deleting_a_running_pod_is_graceful(cluster, admin_client):
    response = admin_client.post(
        action("pods", "shop", "bound", "delete"), {"confirm": "yes"}, headers=HTMX
    )
    assert response.status_code == 200
    assert read.get("pods", "shop", "bound")["metadata"].get("deletionTimestamp")


# --- nodes -------------------------------------------------------------------------------


def test_cordon_and_uncordon(cluster, admin_client):
    response = admin_client.post(action("nodes", "", "worker-2", "cordon"), {}, headers=HTMX)
    assert response.status_code == 200
    assert Node.objects.get(name="worker-2").unschedulable
    html = response.content.decode()
    assert 'id="action-uncordon"' in html and 'id="action-cordon"' not in html
    admin_client.post(action("nodes", "", "worker-2", "uncordon"), {})
    assert not Node.objects.get(name="worker-2").unschedulable
    assert "unschedulable" not in read.get("nodes", "", "worker-2")["spec"]


def test_drain_evicts_pods_but_not_daemonset_pods(cluster, admin_client):
    """Drain asks first; then it cordons the node and evicts its pods, leaving DaemonSet pods."""
    url = action("nodes", "", "worker-1", "drain")
    response = admin_client.post(url, {}, headers=HTMX)
    assert "Drain worker-1?" in response.content.decode()
    assert not Node.objects.get(name="worker-1").unschedulable
    response = admin_client.post(url, {"confirm": "yes"}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "evicted: shop/bound" in html
    assert "ignored DaemonSet-managed pods: shop/agent-x1" in html
    assert Node.objects.get(name="worker-1").unschedulable
    assert read.get("pods", "shop", "bound")["metadata"].get("deletionTimestamp")
    assert not read.get("pods", "shop", "agent-x1")["metadata"].get("deletionTimestamp")


def test_drain_plan_skips_finished_and_terminating_pods():
    def make(name, *, phase="Running", deleting=False, daemon=False):
        obj = {"metadata": {"namespace": "ns", "name": name}, "status": {"phase": phase}}
        if deleting:
            obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        if daemon:
            obj["metadata"]["ownerReferences"] = [{"kind": "DaemonSet", "controller": True}]
        return obj

    plan = actions.drain_plan(
        [
            make("a"),
            make("done", phase="Succeeded"),
            make("going", deleting=True),
            make("ds", daemon=True),
        ]
    )
    assert plan.evicted == ["ns/a"] and plan.skipped == ["ns/ds"]


def test_stop_and_start_a_kubelet(cluster, admin_client):
    url = action("nodes", "", "worker-1", "kubelet-stop")
    response = admin_client.post(url, {}, headers=HTMX)
    assert "Stop the kubelet on worker-1?" in response.content.decode()
    assert KUBELET_STOPPED not in (Node.objects.get(name="worker-1").annotations or {})
    admin_client.post(url, {"confirm": "yes"}, headers=HTMX)
    assert Node.objects.get(name="worker-1").annotations[KUBELET_STOPPED] == "true"
    page = admin_client.get("/objects/nodes/worker-1").content.decode()
    assert "kubelet stopped" in page and 'id="action-kubelet-start"' in page
    response = admin_client.post(action("nodes", "", "worker-1", "kubelet-start"), {})
    assert response.status_code == 302
    assert KUBELET_STOPPED not in (Node.objects.get(name="worker-1").annotations or {})


def test_add_a_node(cluster, admin_client):
    response = admin_client.post(
        "/nodes/add",
        {"name": "worker-9", "cpu": "8", "memory": "16Gi", "zone": "zone-c", "labels": "disk=ssd"},
    )
    assert response.status_code == 302 and response["Location"] == "/objects/nodes/worker-9"
    created = read.get("nodes", "", "worker-9")
    assert created["metadata"]["labels"]["topology.kubernetes.io/zone"] == "zone-c"
    assert created["metadata"]["labels"]["disk"] == "ssd"
    assert created["status"]["allocatable"] == {"cpu": "8", "memory": "16Gi", "pods": "110"}
    assert created["spec"]["podCIDR"] not in {
        n.pod_cidr for n in Node.objects.exclude(name="worker-9")
    }


@pytest.mark.parametrize(
    "values, field_id, fragment",
    [
        pytest.param({"cpu": "lots"}, "node-cpu", "status.capacity.cpu: Invalid value", id="cpu"),
        pytest.param({"memory": "-1Gi"}, "node-memory", "status.capacity.memory", id="memory"),
        pytest.param({"zone": "-bad-"}, "node-zone", "metadata.labels: Invalid value", id="zone"),
        pytest.param({"labels": "ssd"}, "node-labels", "expected key=value", id="labels"),
        pytest.param({"name": "Worker_9"}, "node-name", "metadata.name: Invalid value", id="name"),
        pytest.param({"name": "worker-1"}, "", 'nodes "worker-1" already exists', id="taken"),
    ],
)
def test_a_bad_node_is_refused_next_to_the_field(cluster, admin_client, values, field_id, fragment):
    typed = {"name": "worker-9", "cpu": "4", "memory": "8Gi", "zone": "", "labels": "", **values}
    response = admin_client.post("/nodes/add", typed, headers={"HX-Request": "true"})
    assert response.status_code in (409, 422)
    html = unescape(response.content.decode())
    if field_id:
        assert any(fragment in e for e in field_errors(html, field_id)), html
    else:
        assert fragment in html
    assert Node.objects.count() == 2


# --- apply -------------------------------------------------------------------------------

GOOD = """
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {mode: fast}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: main, image: "nginx:1.27"}]}
"""


def test_apply_yaml(cluster, admin_client):
    response = admin_client.post("/apply", {"manifest": GOOD}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="apply-form"')
    assert "configmap/settings created" in html and "deployment.apps/api created" in html
    assert 'href="/objects/deployments/shop/api"' in html
    assert Deployment.objects.filter(name="api").exists()
    response = admin_client.post("/apply", {"manifest": GOOD})
    assert response.status_code == 302
    page = admin_client.get("/apply").content.decode()
    assert "configmap/settings unchanged" in page


def test_apply_an_uploaded_file(cluster, admin_client):
    upload = SimpleUploadedFile("app.yaml", GOOD.encode(), content_type="application/yaml")
    response = admin_client.post("/apply", {"manifest": "", "file": upload})
    assert response.status_code == 302
    assert Deployment.objects.filter(name="api").exists()


def test_a_manifest_with_one_bad_document_applies_nothing(cluster, admin_client):
    """All or nothing: the good ConfigMap is not created, the bad Deployment's problem is
    shown with the document's position and the field."""
    bad = GOOD.replace("replicas: 2", "replicas: -3")
    response = admin_client.post("/apply", {"manifest": bad}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    html = unescape(response.content.decode())
    assert (
        "document 2 (Deployment shop/api) in the pasted manifest: "
        "spec.replicas: Invalid value: -3: must be greater than or equal to 0"
    ) in html
    assert "<textarea" in html and "replicas: -3" in html  # the text stays to be fixed
    with pytest.raises(NotFound):
        read.get("configmaps", "shop", "settings")


def test_apply_reports_invalid_yaml(cluster, admin_client):
    response = admin_client.post("/apply", {"manifest": "kind: [unclosed"})
    assert response.status_code == 422
    assert "invalid YAML at line" in response.content.decode()


# --- CSRF and permissions ----------------------------------------------------------------


def test_forms_carry_csrf_and_posts_without_it_are_refused(cluster, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="x")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    page = client.get("/objects/deployments/shop/web").content.decode()
    forms = page.split('<aside id="actions"', 1)[1].split("</aside>", 1)[0]
    assert forms.count("<form") == forms.count('name="csrfmiddlewaretoken"') > 0
    response = client.post(action("deployments", "shop", "web", "scale"), {"replicas": "4"})
    assert response.status_code == 403
    assert read.get("deployments", "shop", "web")["spec"]["replicas"] == 2


@pytest.fixture
def people(access_enforced):
    users = get_user_model()
    viewer = users.objects.create_user("vera", password="x")
    editor = users.objects.create_user("eddie", password="x")
    RoleBinding.objects.create(user=viewer, role=Role.VIEWER, namespace="")
    RoleBinding.objects.create(user=editor, role=Role.EDITOR, namespace="shop")
    return {"viewer": viewer, "editor": editor}


def test_a_viewer_may_not_scale(cluster, client, people):
    """403 with the apiserver's words; the page does not offer what the user may not do."""
    client.force_login(people["viewer"])
    page = client.get("/objects/deployments/shop/web").content.decode()
    assert 'id="action-scale"' not in page
    response = client.post(
        action("deployments", "shop", "web", "scale"), {"replicas": "4"}, headers=HTMX
    )
    assert response.status_code == 403
    assert (
        'deployments.apps "web" is forbidden: User "vera" cannot patch resource '
        '"deployments/scale" in API group "apps" in the namespace "shop"'
    ) in unescape(response.content.decode())
    assert read.get("deployments", "shop", "web")["spec"]["replicas"] == 2


def test_an_editor_may_scale_in_their_namespace_but_not_touch_nodes(cluster, client, people):
    client.force_login(people["editor"])
    response = client.post(action("deployments", "shop", "web", "scale"), {"replicas": "4"})
    assert response.status_code == 302
    assert read.get("deployments", "shop", "web")["spec"]["replicas"] == 4
    for slug in ("cordon", "drain", "kubelet-stop"):
        response = client.post(action("nodes", "", "worker-1", slug), {"confirm": "yes"})
        assert response.status_code == 403, slug
        assert 'cannot patch resource "nodes"' in unescape(response.content.decode())
    assert not Node.objects.get(name="worker-1").unschedulable
    response = client.post("/nodes/add", {"name": "worker-9", "cpu": "4", "memory": "8Gi"})
    assert response.status_code == 403
    assert 'cannot create resource "nodes"' in unescape(response.content.decode())
    assert not Node.objects.filter(name="worker-9").exists()


def test_an_editor_may_not_apply_a_cluster_scoped_object(cluster, client, people):
    """Every document is checked first: a refused one applies nothing at all."""
    client.force_login(people["editor"])
    manifest = GOOD + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n"
    response = client.post("/apply", {"manifest": manifest})
    assert response.status_code == 403
    assert 'namespaces "other" is forbidden: User "eddie" cannot create' in unescape(
        response.content.decode()
    )
    with pytest.raises(NotFound):
        read.get("configmaps", "shop", "settings")
