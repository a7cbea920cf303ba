"""Every shipped lesson, played headless from start to end against a real control plane.

One Celery worker with beat serves the whole module (``control_plane``, module-scoped); each
lesson runs with the clock fast (``engine.run(speed=...)`` replaces the lesson's speeds) and
every wait step must hold: a wait that times out fails the test with the lesson's own message.
Then the test checks what the lesson is about in the cluster itself.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from cluster.models import Change, Deployment, Event, Node, Pod
from cluster.store import read
from dashboard.lessons import engine, format

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SPEED = 20.0
ACTOR = "lesson-test"


@pytest.fixture(autouse=True)
def settle(control_plane, transactional_db):
    control_plane.begin()
    yield
    control_plane.quiesce()


def lesson_file(lesson_id: str) -> engine.Lesson:
    """The lesson read from its own file (a broken file of another lesson does not stop it)."""
    (path,) = engine.DIRECTORY.glob(f"[0-9][0-9]-{lesson_id}.yaml")
    return format.load(path)


def play(lesson_id: str, *, command: bool = False) -> engine.Lesson:
    lesson = lesson_file(lesson_id)
    if command:  # as a teacher checks a lesson before class: manage.py lesson <id>
        out = io.StringIO()
        call_command("lesson", lesson_id, speed=SPEED, stdout=out)
        assert f"{lesson_id}: every step done" in out.getvalue()
        final = engine.state(lesson.id)
    else:
        final = engine.run(lesson, actor=ACTOR, speed=SPEED, timeout=600.0)
    assert final["phase"] == "finished"
    statuses = {
        int(i): r.get("status") for i, r in final["steps"].items() if r.get("status") != "done"
    }
    assert statuses == {}, f"steps not done: {statuses}"
    assert final["reached"] == len(lesson.steps) - 1
    return lesson


def test_lesson_1_nodes_and_pods(control_plane):
    lesson = play("nodes-and-pods")
    ns = lesson.namespace
    assert Pod.objects.get(namespace=ns, name="busy").node_name == "lesson1-a"
    assert Pod.objects.get(namespace=ns, name="newcomer").node_name == "lesson1-b"
    assert Pod.objects.get(namespace=ns, name="too-big").node_name == "lesson1-c"
    # What the narration quotes is what the scheduler said.
    failed = Event.objects.get(namespace=ns, reason="FailedScheduling", involved_name="too-big")
    assert failed.body["message"].startswith("0/2 nodes are available: 2 Insufficient cpu.")
    # Every predict step's answer is revealed once the lesson is over.
    state = engine.state(lesson.id)
    for index, step in enumerate(lesson.steps):
        if step.type == "predict":
            assert engine.revealed(lesson, state, index)
    # The lesson's nodes are tainted for it, and nothing else runs there.
    taints = Node.objects.get(name="lesson1-a").spec["taints"]
    assert {"key": "kubarium.io/lesson", "value": lesson.id, "effect": "NoSchedule"} in taints
    assert not Pod.objects.filter(node_name__startswith="lesson1-").exclude(namespace=ns)
    # Restarting starts clean: the namespace is emptied and recreated, the added node gone.
    engine.start(lesson, actor=ACTOR, speed=SPEED)
    assert not Node.objects.filter(name="lesson1-c").exists()
    assert not Pod.objects.filter(namespace=ns).exists()
    from cluster import services

    services.wait_for(
        lambda: engine.poll(lesson, actor=ACTOR)["phase"] == "running", timeout=120, interval=0.3
    )
    assert engine.state(lesson.id)["step"] == 0
    assert not Deployment.objects.filter(namespace=ns).exists()


def test_lesson_2_deployments_heal(control_plane):
    lesson = play("deployments-heal")
    ns = lesson.namespace
    live = Pod.objects.filter(namespace=ns, deletion_timestamp__isnull=True, ready=True)
    assert live.count() == 6
    # The replacements of lesson2-a's Pods run elsewhere; nothing new went to the stopped node.
    evicted = Event.objects.filter(namespace=ns, reason="TaintManagerEviction")
    assert evicted.exists()
    assert {e.involved_name for e in evicted}.isdisjoint(set(live.values_list("name", flat=True)))
    assert Node.objects.get(name="lesson2-a").ready == "True"


def test_lesson_3_rolling_update(control_plane):
    lesson = play("rolling-update")
    ns = lesson.namespace
    web = Deployment.objects.get(namespace=ns, name="web")
    assert web.annotations["deployment.kubernetes.io/revision"] == "4"
    live = Pod.objects.filter(namespace=ns, deletion_timestamp__isnull=True)
    assert sorted(live.values_list("image", "ready")) == [("nginx:1.28", True)] * 4
    # The bad image stalled the rollout: pulls failed and the deadline passed, in the log.
    reasons = set(Event.objects.filter(namespace=ns).values_list("reason", flat=True))
    assert {"Failed", "BackOff"} & reasons
    assert _deadline_in_log(ns)


def _deadline_in_log(ns: str) -> bool:
    for change in Change.objects.filter(namespace=ns, kind="Deployment"):
        for condition in change.object.get("status", {}).get("conditions") or []:
            if condition.get("reason") == "ProgressDeadlineExceeded":
                return True
    return False


def test_lesson_4_services(control_plane):
    lesson = play("services", command=True)
    ns = lesson.namespace
    state = engine.state(lesson.id)
    sent = [
        state["steps"][str(i)]["results"]
        for i, step in enumerate(lesson.steps)
        if step.type == "act" and step.action == "sendRequest"
    ]
    assert len(sent) == 2
    for results in sent:
        served = [line.split("← ", 1)[1] for line in results]
        assert all(line.startswith("HTTP 200") for line in results)
        # Round-robin over the three ready Pods: two requests each; none to the unready one.
        assert sorted(served.count(name) for name in set(served)) == [2, 2, 2]
        assert "web-canary" not in served
    endpoints = read.get("endpoints", ns, "web")
    not_ready = [
        a["targetRef"]["name"] for s in endpoints["subsets"] for a in s.get("notReadyAddresses", [])
    ]
    assert not_ready == ["web-canary"]
