"""The lesson player's pages (full and htmx), its controls and who may use them, and its live
stream; the control plane is off, so the test plays the kubelets' part (nodes Ready, Pods
Running) through the store."""

from __future__ import annotations

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from cluster import clock
from cluster.models import ControllerMemory, Node, Pod, Role, RoleBinding
from cluster.store import read, write
from cluster.store.bootstrap import ensure_system_objects
from dashboard import routing
from dashboard.lessons import engine
from tests.test_dashboard_stream import receive_page, run

LESSON = "nodes-and-pods"
URL = f"/lessons/{LESSON}"
CONTROL = f"/lessons/{LESSON}/control"
HTMX_PANEL = {"HX-Request": "true", "HX-Target": "lesson-panel"}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cluster(db):
    clock.invalidate()
    ensure_system_objects()


def kubelets_report_ready() -> None:
    """What the lesson's kubelets would report: every lesson node Ready."""
    for row in Node.objects.filter(name__startswith="lesson1-"):
        obj = read.get("Node", "", row.name)
        obj["status"]["conditions"] = [
            {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ready"}
        ]
        write.update_status(obj)


def pods_run(selector_label: tuple[str, str]) -> None:
    key, value = selector_label
    for row in Pod.objects.filter(namespace="lesson-nodes-pods"):
        if (row.labels or {}).get(key) != value:
            continue
        obj = read.get("Pod", row.namespace, row.name)
        obj["status"].update(
            phase="Running",
            conditions=[
                {"type": "Ready", "status": "True"},
                {"type": "PodScheduled", "status": "True"},
            ],
        )
        write.update_status(obj)


def started(client) -> None:
    """Start the lesson through the page and finish its preparation."""
    assert client.post(CONTROL, {"action": "start"}).status_code == 302
    assert engine.state(LESSON)["phase"] == "preparing"
    client.get(URL)  # a page load polls: the namespace and the nodes are created
    assert Node.objects.filter(name__in=["lesson1-a", "lesson1-b"]).count() == 2
    kubelets_report_ready()
    client.get(URL)


def test_the_list_shows_every_lesson(admin_client):
    page = admin_client.get("/lessons").content.decode()
    assert 'href="/lessons/nodes-and-pods"' in page
    assert "Nodes and Pods" in page and "16 steps" in page
    assert 'aria-current="page"' in page and ">Lessons</a>" in page


def test_the_list_in_chinese(admin_client):
    page = admin_client.get("/lessons", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "节点与 Pod" in page


def test_an_unknown_lesson_is_404(admin_client):
    assert admin_client.get("/lessons/no-such-lesson").status_code == 404
    assert (
        admin_client.post("/lessons/no-such-lesson/control", {"action": "start"}).status_code == 404
    )


def test_the_player_before_start(admin_client):
    page = admin_client.get(URL).content.decode()
    assert 'id="lesson-panel"' in page and 'id="region"' in page
    assert 'ws-connect="/ws/lesson?lesson=nodes-and-pods&amp;namespace=lesson-nodes-pods' in page
    assert 'data-drive="yes"' in page
    assert 'value="start"' in page and "Not started." in page
    assert 'href="/networking?namespace=lesson-nodes-pods"' in page
    assert page.count("<form") >= page.count('name="csrfmiddlewaretoken"') > 0


def test_playing_steps_through_the_page(admin_client):
    started(admin_client)
    state = engine.state(LESSON)
    assert state["phase"] == "running" and state["step"] == 0
    assert state["started_by"] == "dashboard:admin"
    panel = admin_client.get(URL, headers=HTMX_PANEL).content.decode()
    assert panel.lstrip().startswith('<section id="lesson-panel"')
    assert "Step 1 of 16" in panel and "#cp-kube-scheduler {" in panel.replace(",\n", " {")
    assert 'data-lesson-step="nodes-and-pods:1"' in panel
    # Next, with htmx: the panel comes back with step 2 and its node marked.
    panel = admin_client.post(CONTROL, {"action": "next"}, headers=HTMX_PANEL).content.decode()
    assert "Step 2 of 16" in panel and "#node-lesson1-a" in panel
    assert 'href="/objects/nodes/lesson1-a"' in panel
    # Step 3 applies the filler Pods (as the dashboard's user).
    panel = admin_client.post(CONTROL, {"action": "next"}, headers=HTMX_PANEL).content.decode()
    assert "pod/busy created" in panel and "pod/light created" in panel
    assert Pod.objects.get(namespace="lesson-nodes-pods", name="busy").cpu_request == 1600
    # Step 4 waits: Next is refused until the Pods are ready.
    panel = admin_client.post(CONTROL, {"action": "next"}, headers=HTMX_PANEL).content.decode()
    assert "Waiting for" in panel and "2 Pods with role=filler ready" in panel
    assert "0 of 2 matching Pods ready" in panel
    refused = admin_client.post(CONTROL, {"action": "next"}, headers=HTMX_PANEL)
    assert refused.status_code == 200
    assert "Still waiting for 2 Pods with role=filler ready." in refused.content.decode()
    assert engine.state(LESSON)["step"] == 3
    # Without JavaScript the refusal is a 409 page with the message.
    assert admin_client.post(CONTROL, {"action": "next"}).status_code == 409
    pods_run(("role", "filler"))
    admin_client.get(URL)  # polls: the wait holds
    assert engine.state(LESSON)["steps"]["3"]["status"] == "done"
    admin_client.post(CONTROL, {"action": "next"})
    panel = admin_client.post(CONTROL, {"action": "next"}, headers=HTMX_PANEL).content.decode()
    # Step 6 asks; the class's guess is recorded; the answer stays hidden.
    assert "Where will the" in panel and 'name="choice" value="2"' in panel
    panel = admin_client.post(
        CONTROL, {"action": "choose", "choice": "0"}, headers=HTMX_PANEL
    ).content.decode()
    assert "the class's guess" in panel
    assert "the answer</span>" not in panel and "LeastAllocated" not in panel
    assert "The answer appears once the cluster has shown it." in panel
    # Previous shows step 5 again, undoing nothing; Next comes back without applying twice.
    panel = admin_client.post(CONTROL, {"action": "previous"}, headers=HTMX_PANEL).content.decode()
    assert "Step 5 of 16" in panel
    admin_client.post(CONTROL, {"action": "next"})
    assert engine.state(LESSON)["step"] == 5
    assert engine.current_step(LESSON) | {"version": 0} == {
        "lesson": LESSON,
        "title": {"en": "Nodes and Pods", "zh-hans": "节点与 Pod"},
        "namespace": "lesson-nodes-pods",
        "phase": "running",
        "step": 6,
        "total": 16,
        "type": "predict",
        "text": None,
        "highlight": {},
        "status": "done",
        "message": "",
        "observed": "",
        "started_by": "dashboard:admin",
        "version": 0,
    }


def test_the_panel_in_chinese(admin_client):
    started(admin_client)
    panel = admin_client.get(URL, headers={**HTMX_PANEL, "Accept-Language": "zh-hans"})
    assert "调度器 kube-scheduler" in panel.content.decode()


def test_the_live_region_for_htmx(admin_client):
    started(admin_client)
    html = admin_client.get(
        URL, headers={"HX-Request": "true", "HX-Target": "live"}
    ).content.decode()
    assert html.lstrip().startswith('<main id="live"')
    assert 'id="node-lesson1-a"' in html and 'id="lesson-panel"' in html
    assert "<html" not in html


@pytest.fixture
def people(access_enforced):
    users = get_user_model()
    viewer = users.objects.create_user("vera", password="x")
    editor = users.objects.create_user("eddie", password="x")
    elsewhere = users.objects.create_user("elsa", password="x")
    RoleBinding.objects.create(user=viewer, role=Role.VIEWER, namespace="")
    RoleBinding.objects.create(user=editor, role=Role.EDITOR, namespace="lesson-nodes-pods")
    RoleBinding.objects.create(user=elsewhere, role=Role.EDITOR, namespace="shop")
    return {"viewer": viewer, "editor": editor, "elsewhere": elsewhere}


@pytest.mark.parametrize("who", ["viewer", "elsewhere"])
def test_viewers_watch_but_may_not_drive(client, people, who):
    client.force_login(people[who])
    page = client.get(URL).content.decode()
    assert "data-drive" not in page and "You are watching" in page
    refused = client.post(CONTROL, {"action": "start"}, headers=HTMX_PANEL)
    assert refused.status_code == 403
    assert "Only an editor or an admin may drive a lesson" in refused.content.decode()
    assert client.post(CONTROL, {"action": "start"}).status_code == 403
    assert engine.state(LESSON)["phase"] == "idle"


def test_an_editor_of_the_lesson_namespace_drives(client, people):
    client.force_login(people["editor"])
    assert 'data-drive="yes"' in client.get(URL).content.decode()
    assert client.post(CONTROL, {"action": "start"}).status_code == 302
    assert engine.state(LESSON)["started_by"] == "dashboard:eddie"


def test_anonymous_may_watch_when_anonymous_read_is_on(client, people, settings):
    settings.KUBARIUM_ANONYMOUS_READ = True
    assert client.get(URL).status_code == 200
    answer = client.post(CONTROL, {"action": "start"})
    assert answer.status_code in (302, 403) and engine.state(LESSON)["phase"] == "idle"


def test_an_unknown_action_is_refused(admin_client):
    answer = admin_client.post(CONTROL, {"action": "explode"}, headers=HTMX_PANEL)
    assert "Unknown action." in answer.content.decode()
    assert not ControllerMemory.objects.filter(key=f"lesson:{LESSON}").exists()


@pytest.fixture
def memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.mark.django_db(transaction=True)
def test_the_stream_sends_the_panel_when_the_lesson_moves(memory_layer, admin_client):
    """A watcher's stream gets the region, then the panel every time the lesson moves."""
    started(admin_client)

    async def scenario():
        socket = WebsocketCommunicator(
            URLRouter(routing.websocket_urlpatterns),
            f"/ws/lesson?lesson={LESSON}&namespace=lesson-nodes-pods&since=1",
        )
        connected, _ = await socket.connect()
        assert connected
        first = await receive_page(socket, lambda t: 'id="lesson-panel"' in t)
        assert "Step 1 of 16" in first and "driven by dashboard:admin" in first
        from asgiref.sync import sync_to_async

        await sync_to_async(engine.next_step)(engine.get(LESSON), actor="dashboard:admin")
        moved = await receive_page(socket, lambda t: "Step 2 of 16" in t)
        assert "#node-lesson1-a" in moved
        await socket.disconnect()

    run(scenario)


SMALL = {
    "id": "small",
    "title": {"en": "Small", "zh-hans": "小"},
    "summary": {"en": "A test lesson", "zh-hans": "测试课"},
    "namespace": "lesson-small",
    "steps": [
        {
            "type": "apply",
            "manifest": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bad}\n"
            "spec: {replicas: -1, selector: {matchLabels: {app: x}}, template: {metadata: "
            "{labels: {app: x}}, spec: {containers: [{name: c, image: nginx}]}}}\n",
        },
        {"type": "act", "action": "deletePod", "selector": "app=nothing"},
        {
            "type": "wait",
            "until": {"podsReady": {"selector": "app=x", "count": 1}},
            "timeout": {"real": 0.2},
            "failure": {"en": "No x.", "zh-hans": "没有 x。"},
        },
        {"type": "narrate", "text": {"en": "The end.", "zh-hans": "完。"}},
    ],
}


def test_errors_and_a_wait_that_never_holds_say_why(admin_client):
    """A step the cluster refuses shows the store's words; a wait that times out says what it
    waited for and what the cluster showed, and the lesson may go on."""
    from dashboard.lessons.format import parse

    lesson = parse(SMALL, "01-small.yaml", order=1, expected_id="small")
    engine.start(lesson, actor="dashboard:admin")
    state = engine.poll(lesson)
    assert state["phase"] == "running"
    assert state["steps"]["0"]["status"] == "error"
    assert (
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        in (state["steps"]["0"]["message"])
    )
    engine.next_step(lesson, actor="dashboard:admin")
    record = engine.state("small")["steps"]["1"]
    assert (record["status"], record["message"]) == ("error", "No running Pod matches app=nothing.")
    engine.next_step(lesson, actor="dashboard:admin")
    from cluster import services

    services.wait_for(
        lambda: engine.poll(lesson)["steps"]["2"]["status"] == "failed", timeout=10, interval=0.05
    )
    record = engine.state("small")["steps"]["2"]
    assert record["message"] == (
        "This never happened: 1 Pods with app=x ready, within 0.2 seconds. The cluster shows: "
        "0 of 0 matching Pods ready."
    )
    from dashboard.pages import lessons as player

    view = player.step_view(lesson, engine.state("small"), 2, "zh-hans")
    assert view.message.startswith("没有 x。 ")
    engine.next_step(lesson, actor="dashboard:admin")  # a failed wait does not block
    assert engine.state("small")["step"] == 3
