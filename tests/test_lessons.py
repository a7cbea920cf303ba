"""Every shipped lesson, played headless from start to end against a real control plane.

One Celery worker with beat serves the whole module (``control_plane``, module-scoped); each
lesson runs with the clock fast (``engine.run(speed=...)`` replaces the lesson's speeds) and
every wait step must hold: a wait that times out fails the test with the lesson's own message.
Then the test checks what the lesson is about in the cluster itself.
"""

from __future__ import annotations

import pytest

from cluster.models import Deployment, Node, Pod
from dashboard.lessons import engine

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SPEED = 20.0
ACTOR = "lesson-test"


@pytest.fixture(autouse=True)
def settle(control_plane, transactional_db):
    yield
    control_plane.quiesce()


def play(lesson_id: str) -> engine.Lesson:
    lesson = engine.get(lesson_id)
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
    assert engine.current_step(lesson.id)["step"] == 1
    assert not Deployment.objects.filter(namespace=ns).exists()
