"""The failure palette over HTTP: each breakage and its undo, the Event naming who did it, the
"broken now" list read from the cluster, errors next to their field, refusals by role, htmx
fragments, and the Architecture page showing a stopped component."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from cluster import faults
from cluster.kubelet.runner import KUBELET_STOPPED, UNPULLABLE
from cluster.models import Event, Node, Pod, Role, RoleBinding
from cluster.store import read, write
from cluster.store.bootstrap import ensure_system_objects
from dashboard.pages import architecture, palette
from tests.builders import deployment, namespace, node, pod

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_clock")]

HTMX = {"HX-Request": "true", "HX-Target": "palette"}


@pytest.fixture
def cluster():
    ensure_system_objects()
    write.create(namespace("shop"))
    write.create(node("worker-1", cpu="4", memory="8Gi"))
    write.create(node("worker-2"))
    web = deployment("web", "shop", replicas=2)
    web["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"memory": "128Mi"}}
    write.create(web)
    write.create(deployment("plain", "shop"))
    write.create(pod("busy", "shop", node="worker-1", cpu="1"))


@pytest.fixture
def alice(cluster):
    user = get_user_model().objects.create_superuser("alice", password="x")
    client = Client()
    client.force_login(user)
    return client


def events_by(reason: str) -> list[dict]:
    return [e.body | {"involved": e.involved_name} for e in Event.objects.filter(reason=reason)]


def broken_ids() -> set[str]:
    return {item.id for item in palette.broken_now()}


def break_(client, **form):
    return client.post("/palette/break", form)


def undo(client, fault: str):
    return client.post("/palette/undo", {"fault": fault})


# --- each breakage and its undo --------------------------------------------------------------


def test_stopping_a_node_and_undoing_it(alice):
    """The kubelet stops (annotation; an event naming alice) and starts again on undo."""
    assert break_(alice, what="node-stop", node="worker-1").status_code == 302
    assert Node.objects.get(name="worker-1").annotations[KUBELET_STOPPED] == "true"
    assert "kubelet:worker-1" in broken_ids()
    stopped = events_by("KubeletStopped")
    assert stopped and "dashboard:alice" in stopped[0]["message"]
    assert undo(alice, "kubelet:worker-1").status_code == 302
    assert KUBELET_STOPPED not in Node.objects.get(name="worker-1").annotations
    assert "dashboard:alice" in events_by(palette.REASON_UNDONE)[0]["message"]
    assert broken_ids() == set()


@pytest.mark.parametrize("component", palette.SWITCHABLE)
def test_stopping_a_component_and_undoing_it(alice, component):
    """The switch is thrown (with an event naming alice) and the Architecture page says so."""
    break_(alice, what="component", component=component)
    assert not faults.running(component)
    assert f"component:{component}" in broken_ids()
    message = Event.objects.get(reason=faults.REASON_STOPPED).body["message"]
    assert message == f"{component} was stopped by dashboard:alice"
    page = alice.get("/").content.decode()
    card = re.search(rf'<article id="cp-{component}" class="([^"]*)">(.*?)</article>', page, re.S)
    assert "stopped" in card.group(1).split()
    assert "Stopped" in card.group(2) and "✕" in card.group(2)  # in words and symbol, not colour
    undo(alice, f"component:{component}")
    assert faults.running(component)
    assert 'class="component stopped"' not in alice.get("/").content.decode()


def test_cordon_and_drain_and_their_undo(alice):
    """Cordon marks the node unschedulable; drain also evicts its pods; undo uncordons; each
    leaves an event naming alice."""
    break_(alice, what="cordon", node="worker-2")
    assert Node.objects.get(name="worker-2").unschedulable
    break_(alice, what="drain", node="worker-1")
    assert Node.objects.get(name="worker-1").unschedulable
    assert read.get("pods", "shop", "busy")["metadata"].get("deletionTimestamp")
    texts = {item.id: item.text for item in palette.broken_now()}
    assert texts["cordon:worker-1"] == "Node worker-1: drained and cordoned"
    assert texts["cordon:worker-2"] == "Node worker-2: cordoned"
    messages = [e["message"] for e in events_by(palette.REASON_INJECTED)]
    assert any("drained by dashboard:alice" in m and "1 pods evicted" in m for m in messages)
    assert any("cordoned by dashboard:alice" in m for m in messages)
    undo(alice, "cordon:worker-1")
    undo(alice, "cordon:worker-2")
    assert not Node.objects.filter(unschedulable=True).exists()
    assert broken_ids() == set()


@pytest.mark.parametrize(
    ("where", "nodes", "fault"),
    [
        pytest.param("worker-2", {"worker-2"}, "image:worker-2:nginx:1.99", id="one node"),
        pytest.param("", {"worker-1", "worker-2"}, "image:*:nginx:1.99", id="every node"),
    ],
)
def test_an_unpullable_image_and_its_undo(alice, where, nodes, fault):
    """The image joins the nodes' unpullable list (other images stay) and leaves it on undo."""
    write.patch("nodes", "", "worker-2", {"metadata": {"annotations": {UNPULLABLE: "busybox:0"}}})
    break_(alice, what="image", image="nginx:1.99", node=where)
    for row in Node.objects.all():
        listed = (row.annotations or {}).get(UNPULLABLE, "").split(",")
        assert ("nginx:1.99" in listed) == (row.name in nodes)
    assert fault in broken_ids()
    assert len(events_by(palette.REASON_INJECTED)) == len(nodes)
    undo(alice, fault)
    assert Node.objects.get(name="worker-2").annotations[UNPULLABLE] == "busybox:0"
    assert UNPULLABLE not in (Node.objects.get(name="worker-1").annotations or {})


@pytest.mark.parametrize(
    ("what", "annotation", "value"),
    [
        pytest.param("crash", palette.CRASH, "true", id="crash"),
        pytest.param("memory", palette.MEMORY_USAGE, "256Mi", id="twice the 128Mi limit"),
    ],
)
def test_crash_and_memory_go_into_the_pod_template_and_out_again(alice, what, annotation, value):
    """The workload's template gets the fault annotation (a rollout), and loses it on undo."""
    break_(alice, what=what, workload="Deployment/shop/web")
    template = read.get("deployments", "shop", "web")["spec"]["template"]
    assert template["metadata"]["annotations"][annotation] == value
    assert f"{what}:Deployment/shop/web" in broken_ids()
    event = events_by(palette.REASON_INJECTED)[0]
    assert "dashboard:alice" in event["message"] and event["involved"] == "web"
    undo(alice, f"{what}:Deployment/shop/web")
    template = read.get("deployments", "shop", "web")["spec"]["template"]
    assert annotation not in (template["metadata"].get("annotations") or {})
    assert broken_ids() == set()


def test_filling_a_node_asks_for_most_of_what_is_free(alice):
    """The filler requests 95% of the free cpu and memory of its node and is deleted on undo."""
    break_(alice, what="fill", node="worker-1", namespace="shop")
    filler = Pod.objects.get(labels__has_key=palette.FILL_LABEL)
    assert filler.node_name == "worker-1" and filler.namespace == "shop"
    assert filler.cpu_request == int(3000 * 0.95)  # 4 cores less busy's 1
    assert filler.memory_request == int(8 * 1024**3 * 0.95)
    fault = f"fill:shop/{filler.name}"
    assert fault in broken_ids()
    assert "dashboard:alice" in events_by(palette.REASON_INJECTED)[0]["message"]
    undo(alice, fault)
    assert read.get("pods", "shop", filler.name)["metadata"].get("deletionTimestamp")


def test_a_breakage_made_elsewhere_is_listed_and_one_undone_elsewhere_is_not():
    """The list is read from the cluster: kubectl cordon joins it, kubectl uncordon leaves it."""
    write.create(node("n1"))
    write.patch("nodes", "", "n1", {"spec": {"unschedulable": True}})
    assert broken_ids() == {"cordon:n1"}
    write.patch("nodes", "", "n1", {"spec": {"unschedulable": None}})
    assert broken_ids() == set()


# --- errors and refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        pytest.param({"what": "image", "image": ""}, "image", "must be one image", id="no image"),
        pytest.param(
            {"what": "image", "image": "a b"}, "image", "must be one image", id="two images"
        ),
        pytest.param(
            {"what": "memory", "workload": "Deployment/shop/plain"},
            "workload",
            "resources.limits.memory: Required value",
            id="no memory limit",
        ),
        pytest.param({"what": "cordon", "node": "nope"}, "node", "not found", id="unknown node"),
        pytest.param({"what": "crash", "workload": "Pod/shop/x"}, "workload", "Required", id="bad"),
    ],
)
def test_errors_sit_next_to_their_field_and_change_nothing(alice, form, field, words):
    before = read.current_revision()
    response = alice.post("/palette/break", form)
    assert response.status_code in (404, 422)
    html = response.content.decode()
    assert words in html
    assert re.search(r'class="field-error"', html)
    assert read.current_revision() == before


@pytest.fixture
def people(cluster, access_enforced):
    users = get_user_model()
    viewer = users.objects.create_user("vera", password="x")
    editor = users.objects.create_user("eddie", password="x")
    boss = users.objects.create_user("cleo", password="x")
    RoleBinding.objects.create(user=viewer, role=Role.VIEWER, namespace="")
    RoleBinding.objects.create(user=editor, role=Role.EDITOR, namespace="shop")
    RoleBinding.objects.create(user=boss, role=Role.EDITOR, namespace="")
    clients = {}
    for user in (viewer, editor, boss):
        clients[user.username] = Client()
        clients[user.username].force_login(user)
    return clients


def test_viewers_may_look_but_not_break(people):
    """A viewer sees the palette with every form disabled and is refused in the apiserver's
    words."""
    page = people["vera"].get("/palette").content.decode()
    assert page.count("disabled") >= 7
    response = people["vera"].post("/palette/break", {"what": "cordon", "node": "worker-1"})
    assert response.status_code == 403
    assert 'User "vera" cannot patch resource "nodes"' in unescape(response.content.decode())
    response = people["vera"].post(
        "/palette/break", {"what": "component", "component": faults.SCHEDULER}
    )
    assert response.status_code == 403 and faults.running(faults.SCHEDULER)
    response = people["vera"].post(
        "/palette/break", {"what": "crash", "workload": "Deployment/shop/web"}
    )
    assert response.status_code == 403
    assert not Node.objects.filter(unschedulable=True).exists()


def test_editors_break_what_their_role_lets_them_write(people):
    """A namespace editor may crash its workloads and fill nodes there, not touch nodes nor the
    control plane; a cluster-wide editor may also stop components."""
    eddie = people["eddie"]
    assert (
        eddie.post(
            "/palette/break", {"what": "crash", "workload": "Deployment/shop/web"}
        ).status_code
        == 302
    )
    assert (
        eddie.post(
            "/palette/break", {"what": "fill", "node": "worker-2", "namespace": "shop"}
        ).status_code
        == 302
    )
    assert (
        eddie.post(
            "/palette/break", {"what": "fill", "node": "worker-2", "namespace": "default"}
        ).status_code
        == 403
    )
    assert eddie.post("/palette/break", {"what": "drain", "node": "worker-1"}).status_code == 403
    assert (
        eddie.post(
            "/palette/break", {"what": "component", "component": faults.SCHEDULER}
        ).status_code
        == 403
    )
    cleo = people["cleo"]
    assert (
        cleo.post(
            "/palette/break", {"what": "component", "component": faults.SCHEDULER}
        ).status_code
        == 302
    )
    assert faults.stopped()[faults.SCHEDULER]["by"] == "dashboard:cleo"
    assert (
        eddie.post("/palette/undo", {"fault": f"component:{faults.SCHEDULER}"}).status_code == 403
    )
    assert cleo.post("/palette/undo", {"fault": f"component:{faults.SCHEDULER}"}).status_code == 302


def test_forms_carry_csrf_and_posts_without_it_fail(cluster):
    user = get_user_model().objects.create_superuser("root", password="x")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get("/palette").content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 8
    assert client.post("/palette/break", {"what": "cordon", "node": "worker-1"}).status_code == 403
    assert not Node.objects.filter(unschedulable=True).exists()


# --- full page, htmx and the stream's fragments -----------------------------------------------


def test_full_page_and_htmx_fragment(alice):
    """A full load has the layout and the palette; an htmx post gets ``#palette`` back with the
    outcome and the updated list."""
    page = alice.get("/palette")
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html and 'id="palette"' in html
    assert 'aria-current="page"' in html.split('href="/palette"')[1][:40]
    assert 'ws-connect="/ws/palette?since=' in html
    response = alice.post("/palette/break", {"what": "cordon", "node": "worker-1"}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="palette"')
    assert "worker-1 cordoned" in body and 'value="cordon:worker-1"' in body
    refused = alice.post("/palette/break", {"what": "image", "image": ""}, headers=HTMX)
    assert refused.status_code == 422 and "<html" not in refused.content.decode()


def test_the_architecture_page_links_to_the_palette(alice):
    assert 'href="/palette"' in alice.get("/").content.decode().split('id="live"')[1]


def test_the_architecture_stream_resends_components_when_a_switch_moves(cluster):
    """The page's tick sends the components once a switch changed since its last look."""
    focus = architecture.Focus()
    html, state = palette.architecture_tick(focus, None)
    assert html == ""
    html, state = palette.architecture_tick(focus, state)
    assert html == ""
    faults.stop(faults.CONTROLLER_MANAGER, actor="t")
    html, state = palette.architecture_tick(focus, state)
    assert 'id="cp-kube-controller-manager" class="component stopped"' in html
    assert html.count("<article") == 5
    assert palette.architecture_tick(focus, state)[0] == ""
    # A page's first look sends a stopped component: it may have been rendered before the stop.
    assert 'class="component stopped"' in palette.architecture_tick(focus, None)[0]


def test_the_palette_region_renders_for_the_stream(alice):
    """``/ws/palette`` re-renders ``#region``: the broken list, its undo forms, the numbers."""
    break_(alice, what="cordon", node="worker-1")
    html = palette.render_region(palette.Focus())
    assert html.lstrip().startswith('<div id="region"')
    assert 'value="cordon:worker-1"' in html
    assert "Nodes Ready" in html


def test_the_events_of_the_palette_show_on_the_events_page_and_the_object(alice):
    """Its Events read as Kubernetes data everywhere Events are shown."""
    break_(alice, what="component", component=faults.SCHEDULER)
    break_(alice, what="cordon", node="worker-2")
    events_page = alice.get("/events").content.decode()
    assert "kube-scheduler was stopped by dashboard:alice" in events_page
    assert "Node worker-2 cordoned by dashboard:alice (failure palette)" in events_page
    system = alice.get("/objects/namespaces/kube-system").content.decode()
    assert "kube-scheduler was stopped by dashboard:alice" in system
    node_page = alice.get("/objects/nodes/worker-2").content.decode()
    assert palette.REASON_INJECTED in node_page
