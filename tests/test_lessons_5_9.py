"""Lessons 5 to 9, each played headless from start to end against a real control plane.

One Celery worker with beat serves the module (``control_plane``, module-scoped); each lesson
runs at a fast clock (``engine.run(speed=...)``) and every wait step must hold. Then the test
checks, in the cluster itself, what the lesson claims to show.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape

from cluster import clock, faults, manifests, proxy, simclock, traffic
from cluster.models import (
    Change,
    Deployment,
    Event,
    PersistentVolumeClaim,
    Pod,
    TrafficFlow,
)
from cluster.store import read
from dashboard.lessons import conditions, engine, format
from dashboard.pages import captions, lessons

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SPEED = 20.0
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ACTOR = "lesson-test"


@pytest.fixture(autouse=True)
def settle(request):
    """After a lesson, let the control plane go quiet before the database is flushed."""
    if "control_plane" not in request.fixturenames:
        yield
        return
    plane = request.getfixturevalue("control_plane")
    plane.begin()
    yield
    plane.quiesce()


LESSONS = ("ingress", "config-and-secrets", "statefulsets", "autoscaling", "control-plane-tour")


def load(lesson_id: str) -> engine.Lesson:
    """The lesson read from its own file, so that a lesson being written elsewhere in the
    folder cannot stop it."""
    [path] = engine.DIRECTORY.glob(f"0[5-9]-{lesson_id}.yaml")
    return format.load(path)


def play(lesson_id: str, speed: float = SPEED) -> engine.Lesson:
    """Run the lesson headless; every step done, every predict answer revealed."""
    lesson = load(lesson_id)
    final = engine.run(lesson, actor=ACTOR, speed=speed, timeout=300.0)
    assert final["phase"] == "finished"
    not_done = {
        int(i): (r.get("status"), r.get("message"))
        for i, r in final["steps"].items()
        if r.get("status") != "done"
    }
    assert not_done == {}, f"steps not done: {not_done}"
    assert final["reached"] == len(lesson.steps) - 1
    state = engine.state(lesson.id)
    for index, step in enumerate(lesson.steps):
        if step.type == "predict":
            assert engine.revealed(lesson, state, index), f"step {index + 1} never revealed"
    shown_in_the_player(lesson, state)
    return lesson


def shown_in_the_player(lesson: engine.Lesson, state: dict) -> None:
    """Every step renders in the player's panel, in both languages, with its text, its
    highlight's label (and link) and, once revealed, the prediction's explanation."""
    for index, step in enumerate(lesson.steps):
        at = {**state, "phase": "running", "step": index}
        for language in ("en", "zh-hans"):
            with translation.override(language):
                html = render_to_string(
                    lessons.TEMPLATE + "#panel", {"panel": lessons.panel_view(lesson, at)}
                )
            for text in (step.text, step.question, step.explanation):
                if text is not None:
                    first_words = text.get(language).split("\n")[0][:30]
                    assert escape(first_words) in html, (index + 1, language, first_words)
            view = lessons.step_view(lesson, at, index, language)
            if step.highlight is not None:
                assert view.highlight_label, (index + 1, step.highlight)
                if step.highlight.kind and step.highlight.name:
                    assert view.highlight_url and escape(view.highlight_url) in html


def results(lesson: engine.Lesson, action: str) -> list[list[str]]:
    """What each act step of ``action`` listed, in order."""
    steps = engine.state(lesson.id)["steps"]
    return [
        steps[str(i)].get("results", [])
        for i, step in enumerate(lesson.steps)
        if step.type == "act" and step.action == action
    ]


def routed(host: str, path: str) -> proxy.Route:
    return traffic.send(proxy.Request(host=host, path=path))


def test_lesson_5_ingress(control_plane):
    """Host first, then the longest path; Exact only for its string; 404 for an unknown host;
    TLS noted on the Ingress hop of the host listed under tls. The demo's own Ingress (as in
    ``make demo``) is there too and changes none of it."""
    manifests.apply(manifests.load_paths([EXAMPLES]))
    lesson = play("ingress")
    ns = lesson.namespace
    web, api, checkout, blog = (
        conditions.route_service(routed(*r))
        for r in (
            ("shop.example.org", "/"),
            ("shop.example.org", "/api/orders"),
            ("shop.example.org", "/checkout"),
            ("blog.example.org", "/api/orders"),
        )
    )
    assert (web, api, checkout, blog) == ("web", "api", "checkout", "blog")
    assert conditions.route_service(routed("shop.example.org", "/checkout/pay")) == "web"
    assert conditions.route_service(routed("shop.example.org", "/apiary")) == "web"
    assert conditions.route_service(routed("shop.example.com", "/")) == "frontend"
    missing = routed("www.example.org", "/")
    assert missing.status == 404 and missing.pod is None
    # The four requests to / went round-robin over web's two Pods.
    [first_act, *_rest] = results(lesson, "sendRequest")
    served = [line.rsplit(" ", 1)[-1] for line in first_act]
    assert len(served) == 4 and len(set(served)) == 2
    assert all(name.startswith("web-") for name in served)
    assert all(p.namespace == ns for p in Pod.objects.filter(name__in=served))
    tls = routed("shop.example.org", "/").hops[0].reason
    assert "shop-tls" in tls
    assert "shop-tls" not in routed("blog.example.org", "/").hops[0].reason
    # A wait whose request reaches another Service than the one named does not hold.
    step = next(
        s for s in lesson.steps if s.type == "wait" and s.params.get("path") == "/checkout/pay"
    )
    wrong = dataclasses.replace(step, params={**step.params, "backend": "checkout"})
    holds, observed = conditions.check(wrong, ns, 0)
    assert not holds and "web" in observed


def test_lesson_6_config_and_secrets(control_plane):
    """A missing ConfigMap key holds the Pod in CreateContainerConfigError until the key is
    added; the Secret's data is the base64 of the password the lesson shows decoded."""
    lesson = play("config-and-secrets")
    ns = lesson.namespace
    [reporter] = Pod.objects.filter(namespace=ns, labels__app="reporter")
    assert reporter.ready and reporter.node_name == "lesson6-a"
    # The same Pod (never replaced) went through CreateContainerConfigError before it ran.
    history = [
        c.object
        for c in Change.objects.filter(kind="Pod", namespace=ns, name=reporter.name).order_by(
            "revision"
        )
    ]
    assert {h["metadata"]["uid"] for h in history} == {str(reporter.uid)}
    waiting = [
        s["state"]["waiting"]
        for h in history
        for s in h.get("status", {}).get("containerStatuses") or []
        if s.get("state", {}).get("waiting", {}).get("reason") == "CreateContainerConfigError"
    ]
    assert waiting and "couldn't find key THEME_COLOR" in waiting[0]["message"]
    secret = read.get("secrets", ns, "app-secret")
    encoded = secret["data"]["DB_PASSWORD"]
    assert base64.b64decode(encoded) == b"correct-horse-battery-staple"
    predict = next(s for s in lesson.steps if s.type == "predict" and "base64" in s.explanation.en)
    assert encoded in predict.explanation.en and encoded in predict.explanation.zh_hans
    assert "correct-horse-battery-staple" in predict.explanation.en


def _pod_ready(change: Change) -> bool:
    status = change.object.get("status") or {}
    return change.type != "DELETED" and any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def test_lesson_7_statefulsets(control_plane):
    """db-N is created only once db-(N-1) is ready; the replaced db-1 is a new Pod on the same
    claim and volume; scaling down to 2 keeps data-db-2, which db-2 gets back."""
    lesson = play("statefulsets")
    ns = lesson.namespace
    created: dict[str, int] = {}
    first_ready: dict[str, int] = {}
    uids: dict[str, list[str]] = {}
    volumes: dict[str, set[str]] = {}
    for change in Change.objects.filter(kind="Pod", namespace=ns).order_by("revision"):
        created.setdefault(change.name, change.revision)
        if _pod_ready(change):
            first_ready.setdefault(change.name, change.revision)
        seen = uids.setdefault(change.name, [])
        if change.object["metadata"]["uid"] not in seen:
            seen.append(change.object["metadata"]["uid"])
        for volume in change.object["spec"].get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if claim:
                volumes.setdefault(change.name, set()).add(claim)
    assert set(created) == {"db-0", "db-1", "db-2"}
    assert first_ready["db-0"] < created["db-1"] < first_ready["db-1"] < created["db-2"]
    # db-1 was replaced once and db-2 came back once: two Pods each, one claim each, always.
    assert len(uids["db-0"]) == 1 and len(uids["db-1"]) == 2 and len(uids["db-2"]) == 2
    assert volumes == {"db-0": {"data-db-0"}, "db-1": {"data-db-1"}, "db-2": {"data-db-2"}}
    # Each claim was created once, and stayed bound to one volume all along.
    for name in ("data-db-0", "data-db-1", "data-db-2"):
        history = Change.objects.filter(kind="PersistentVolumeClaim", namespace=ns, name=name)
        assert {c.object["metadata"]["uid"] for c in history} == {
            str(PersistentVolumeClaim.objects.get(namespace=ns, name=name).uid)
        }
        assert len({c.object["spec"].get("volumeName") for c in history} - {None}) == 1
        assert PersistentVolumeClaim.objects.get(namespace=ns, name=name).phase == "Bound"
    assert sorted(Pod.objects.filter(namespace=ns).values_list("name", flat=True)) == [
        "db-0",
        "db-1",
        "db-2",
    ]


def test_lesson_8_autoscaling(control_plane):
    """870 rps on one Pod: the HPA goes straight to 4 (ceil(1 x 175% / 50%)), never beyond;
    when the traffic stops it keeps 4 for the stabilisation window, then goes back to 1."""
    lesson = play("autoscaling")
    ns = lesson.namespace
    assert not TrafficFlow.objects.filter(namespace=ns).exists()
    replicas = [
        c.object["spec"]["replicas"]
        for c in Change.objects.filter(kind="Deployment", namespace=ns, name="web").order_by(
            "revision"
        )
    ]
    steps = [r for i, r in enumerate(replicas) if i == 0 or r != replicas[i - 1]]
    assert steps == [1, 4, 1], replicas
    rescales = list(
        Event.objects.filter(namespace=ns, reason="SuccessfulRescale").order_by("resource_version")
    )
    messages = [e.body["message"] for e in rescales]
    assert messages == [
        "New size: 4; reason: cpu resource utilization (percentage of request) above target",
        "New size: 1; reason: All metrics below target",
    ]
    # The scale-down came a window (60 s, less at most one 15 s sync) after the traffic stopped.
    stop = next(
        i for i, s in enumerate(lesson.steps) if s.type == "act" and s.action == "stopTraffic"
    )
    stopped_at = engine.state(lesson.id)["steps"][str(stop + 1)]["since_sim"]
    state = clock.state()
    scaled_down_at = simclock.from_datetime(
        state, dt.datetime.fromisoformat(rescales[1].body["lastTimestamp"])
    )
    assert scaled_down_at - stopped_at >= 40, (stopped_at, scaled_down_at)


def test_lesson_9_control_plane_tour(control_plane, wait_for):
    """The change log shows the tour's order: the user's write, then (once kube-controller-manager
    is switched on again) the deployment controller's ReplicaSet and the replicaset
    controller's Pods, then (once kube-scheduler is) the bindings, the kubelet's running Pods
    and the endpoints controller's addresses, each by the component the lesson highlights for
    it. A run left with the components off is cleaned up by the next start."""
    lesson = play("control-plane-tour")
    ns = lesson.namespace
    assert faults.stopped() == {}
    changes = list(Change.objects.filter(namespace=ns).order_by("revision"))
    started = {
        e.body["message"].split(" ", 1)[0]: e.resource_version
        for e in Event.objects.filter(reason=faults.REASON_STARTED)
    }

    def first(predicate) -> Change:
        return next(c for c in changes if predicate(c))

    deployment = first(lambda c: c.kind == "Deployment" and c.type == "ADDED")
    replicaset = first(lambda c: c.kind == "ReplicaSet" and c.type == "ADDED")
    pods = [c for c in changes if c.kind == "Pod" and c.type == "ADDED"]
    bound = [c for c in changes if c.kind == "Pod" and c.actor.endswith("-scheduler")]
    running = [
        c
        for c in changes
        if c.kind == "Pod" and (c.object.get("status") or {}).get("phase") == "Running"
    ]
    endpoints = first(
        lambda c: (
            c.kind == "Endpoints"
            and c.name == "hello"
            and any(s.get("addresses") for s in c.object.get("subsets") or [])
        )
    )
    assert deployment.actor == ACTOR
    assert captions.component_of(deployment.actor) == captions.API_SERVER
    assert replicaset.actor == "deployment-controller"
    assert {c.actor for c in pods} == {"replicaset-controller"} and len(pods) == 2
    assert all(not c.object["spec"].get("nodeName") for c in pods)
    assert {c.object["spec"]["nodeName"] for c in bound} == {"lesson9-a"}
    assert {captions.component_of(c.actor) for c in running} == {captions.KUBELET}
    assert captions.component_of(endpoints.actor) == captions.CONTROLLER_MANAGER
    assert (
        deployment.revision
        < started[faults.CONTROLLER_MANAGER]
        < replicaset.revision
        < min(c.revision for c in pods)
        < started[faults.SCHEDULER]
        < min(c.revision for c in bound)
        < min(c.revision for c in running)
        < endpoints.revision
    )
    # The steps highlight the component whose events they wait for.
    highlighted = {
        s.params["reason"]: s.highlight.as_dict().get("component")
        for s in lesson.steps
        if s.type == "wait" and s.condition == "event"
    }
    assert highlighted == {
        "ScalingReplicaSet": captions.CONTROLLER_MANAGER,
        "SuccessfulCreate": captions.CONTROLLER_MANAGER,
        "Scheduled": captions.SCHEDULER,
    }
    [requests] = results(lesson, "sendRequest")
    assert len({line.rsplit(" ", 1)[-1] for line in requests}) == 2

    # Left half-way with both components off, the lesson starts clean: they run again, and the
    # namespace controller (in kube-controller-manager) empties the namespace.
    engine.start(lesson, actor=ACTOR, speed=SPEED)
    wait_for(lambda: engine.poll(lesson, actor=ACTOR)["phase"] == "running", timeout=60)
    while lesson.steps[engine.state(lesson.id)["step"]].type != "apply":
        engine.next_step(lesson, actor=ACTOR)
    assert set(faults.stopped()) == {faults.CONTROLLER_MANAGER, faults.SCHEDULER}
    engine.start(lesson, actor=ACTOR, speed=SPEED)
    assert faults.stopped() == {}
    wait_for(lambda: engine.poll(lesson, actor=ACTOR)["phase"] == "running", timeout=60)
    assert not Deployment.objects.filter(namespace=ns).exists()


T = {"en": "Hello", "zh-hans": "你好"}


def _lesson_with(*steps: dict) -> dict:
    return {
        "id": "sample",
        "title": T,
        "summary": T,
        "namespace": "lesson-sample",
        "steps": list(steps),
    }


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        pytest.param(
            {"type": "act", "action": "stopComponent", "component": "etcd"},
            'step 1 (act): component: Unsupported value: "etcd": supported values: '
            '"kube-scheduler", "kube-controller-manager", "cloud-controller-manager"',
            id="only the switchable components",
        ),
        pytest.param(
            {"type": "act", "action": "startComponent"},
            "step 1 (act): component: Required value",
            id="the component is required",
        ),
        pytest.param(
            {"type": "wait", "until": {"event": {"reason": "Started", "since": "yesterday"}}},
            'step 1 (wait): until.event.since: Unsupported value: "yesterday": supported '
            'values: "step", "lesson"',
            id="since is step or lesson",
        ),
        pytest.param(
            {"type": "wait", "until": {"event": {"reason": "Started", "count": 0}}},
            "step 1 (wait): until.event.count: Invalid value: 0: must be greater than or equal "
            "to 1",
            id="count from 1",
        ),
        pytest.param(
            {
                "type": "wait",
                "until": {"request": {"service": "web", "status": 200, "backend": "A"}},
            },
            'step 1 (wait): until.request.backend: Invalid value: "A": must be lowercase '
            "letters, digits and '-'",
            id="backend is a Service name",
        ),
    ],
)
def test_the_fields_lessons_5_to_9_added_are_checked(step, problem):
    with pytest.raises(format.LessonFormatError) as raised:
        format.parse(_lesson_with(step), "99-sample.yaml")
    assert f"99-sample.yaml: {problem}" in raised.value.problems


def test_a_lesson_that_stops_components_names_them():
    lesson = format.parse(
        _lesson_with(
            {"type": "act", "action": "stopComponent", "component": "kube-scheduler"},
            {"type": "act", "action": "startComponent", "component": "kube-scheduler"},
            {
                "type": "wait",
                "until": {"event": {"reason": "Scheduled", "count": 2, "since": "lesson"}},
            },
        ),
        "99-sample.yaml",
    )
    assert lesson.components_stopped() == {"kube-scheduler"}
    assert dict(lesson.steps[2].params) == {"reason": "Scheduled", "count": 2, "since": "lesson"}


CJK_GAP = re.compile(r"[\u2e80-\uffff\u201c\u201d\u2026] +[\u2e80-\uffff\u201c\u201d\u2026]")


@pytest.mark.parametrize("lesson_id", LESSONS)
def test_the_chinese_texts_have_no_folded_spaces(lesson_id):
    """YAML folds a line break into a space; between two Chinese characters it would show."""
    lesson = load(lesson_id)
    texts = [lesson.title, lesson.summary]
    for step in lesson.steps:
        texts += [step.text, step.question, step.explanation, step.failure, *step.choices]
    gaps = [CJK_GAP.search(t.zh_hans).group(0) for t in texts if t and CJK_GAP.search(t.zh_hans)]
    assert gaps == []
