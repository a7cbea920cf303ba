"""The lesson engine: runs a lesson's steps against the cluster and keeps where each lesson is.

A lesson's state is one ``ControllerMemory`` row (``lesson:<id>``), so every process (Daphne's
views, the live stream, a headless test) sees the same step. Its ``version`` grows with every
change: the player's stream sends the step again when it moved.

Phases: ``idle`` (never started), ``preparing`` (the namespace and the lesson's nodes are being
recreated), ``running``, ``finished``, ``failed`` (preparing did not finish). Every operation
takes the row's lock, so two people pressing Next at once move one step.

- :func:`start` (also restart) stops the lesson's traffic, deletes its namespace (its pods at
  once, grace 0, and any pod left on its nodes) and its nodes, sets the clock to the lesson's speed
  and turns ``preparing``. :func:`poll` then waits until the namespace is gone, creates it again
  and the nodes (labelled and tainted ``kubarium.io/lesson=<id>:NoSchedule``, so nothing else
  lands on them), and once they are Ready enters step 1.
- Entering a step the first time does what it says: sets the clock, applies the manifest, acts,
  or starts waiting. Going back (:func:`previous`) and forward again over steps already done
  only moves the pointer: the cluster is not undone nor redone.
- :func:`next_step` refuses to leave a wait step that is still waiting; :func:`poll` checks it
  (the player's stream polls every second) until it holds or times out, which records the
  lesson's failure message; then Next continues.
- A predict step's answer is revealed when the first wait step after it has held.

:func:`run` plays a lesson from start to end without a browser (the tests, ``manage.py``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cluster import clock, faults, manifests, traffic
from cluster.models import ControllerMemory, Namespace, Node, Pod, TrafficFlow
from cluster.store import kinds, write
from cluster.store.errors import NotFound, StoreError
from dashboard.lessons import conditions
from dashboard.lessons.format import (
    DNS_LABEL,
    LESSON_LABEL,
    Lesson,
    LessonFormatError,
    Step,
    load,
)
from dashboard.pages import actions
from dashboard.pages.networking import Target, start_flow

logger = logging.getLogger(__name__)

DIRECTORY = Path(__file__).resolve().parent
STATE_PREFIX = "lesson:"
CURRENT_KEY = "lesson:current"
PREPARE_TIMEOUT = 180.0  # real seconds for the namespace to go and the nodes to be Ready
TRAFFIC_OWNER = "lesson:"
MAX_RESULTS = 20


class LessonError(Exception):
    """An operation the lesson cannot do now (a message for the person driving)."""


# --- the lesson files ----------------------------------------------------------------------------

_cache: dict[str, Any] = {}


def all_lessons(directory: Path | None = None) -> list[Lesson]:
    """Every lesson file, in file-name order, validated; raises :class:`LessonFormatError`
    (every problem of every bad file)."""
    directory = directory or DIRECTORY
    files = sorted(directory.glob("*.yaml"))
    stamp = tuple((f.name, f.stat().st_mtime_ns) for f in files)
    cached = _cache.get(str(directory))
    if cached and cached[0] == stamp:
        return cached[1]
    found: list[Lesson] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for file in files:
        try:
            lesson = load(file)
        except LessonFormatError as error:
            problems.extend(error.problems)
            continue
        for other in found:
            if other.namespace == lesson.namespace:
                problems.append(
                    f"{lesson.source}: namespace: Duplicate value: {lesson.namespace!r}: "
                    f"also used by {other.source}"
                )
            for shared in sorted(other.node_names() & lesson.node_names()):
                problems.append(
                    f"{lesson.source}: nodes: Duplicate value: {shared!r}: also a node of "
                    f"{other.source}"
                )
        if lesson.id in seen:
            problems.append(
                f"{lesson.source}: id: Duplicate value: {lesson.id!r}: also {seen[lesson.id]}"
            )
        seen[lesson.id] = lesson.source
        found.append(lesson)
    if problems:
        raise LessonFormatError(str(directory), problems)
    _cache[str(directory)] = (stamp, found)
    return found


def get(lesson_id: str) -> Lesson:
    """The lesson of that id (``KeyError`` if none). While another lesson's file is broken (the
    list shows its problems), a good lesson is still read from its own file, so a class is not
    stopped by a lesson being written."""
    try:
        lessons = all_lessons()
    except LessonFormatError:
        files = sorted(DIRECTORY.glob(f"[0-9][0-9]-{lesson_id}.yaml"))
        if not DNS_LABEL.match(lesson_id) or len(files) != 1:
            raise
        return load(files[0])
    for lesson in lessons:
        if lesson.id == lesson_id:
            return lesson
    raise KeyError(lesson_id)


# --- the state row -------------------------------------------------------------------------------


def _key(lesson_id: str) -> str:
    return STATE_PREFIX + lesson_id


def state(lesson_id: str) -> dict[str, Any]:
    """The lesson's state as stored (``{"phase": "idle"}`` when never started)."""
    row = (
        ControllerMemory.objects.filter(key=_key(lesson_id)).values_list("data", flat=True).first()
    )
    return row or {"lesson": lesson_id, "phase": "idle", "step": -1, "reached": -1, "version": 0}


def current_lesson() -> str | None:
    """The lesson started last (the one the clock and the class follow), if any."""
    row = ControllerMemory.objects.filter(key=CURRENT_KEY).values_list("data", flat=True).first()
    return (row or {}).get("lesson") or None


@contextlib.contextmanager
def _locked(lesson_id: str) -> Iterator[dict[str, Any]]:
    """The state row, locked until the block ends; saved (version + 1) when it changed."""
    with transaction.atomic():
        row, _created = ControllerMemory.objects.select_for_update().get_or_create(
            key=_key(lesson_id), defaults={"data": state(lesson_id)}
        )
        data = dict(row.data or {})
        before = repr(sorted(data.items()))
        yield data
        if repr(sorted(data.items())) != before:
            data["version"] = int(row.data.get("version", 0)) + 1
            row.data = data
            row.save(update_fields=["data"])


def _record(st: dict[str, Any], index: int) -> dict[str, Any]:
    return st.setdefault("steps", {}).setdefault(str(index), {})


# --- driving -------------------------------------------------------------------------------------


def start(lesson: Lesson, *, actor: str, speed: float | None = None) -> dict[str, Any]:
    """Start (or restart) the lesson from a clean namespace; see the module's docstring.

    ``speed`` (headless runs) replaces every speed the lesson sets, and its pauses are skipped:
    the cluster must move for the lesson to go on."""
    _check_nodes_free(lesson)
    with _locked(lesson.id) as st:
        version = st.get("version", 0)
        st.clear()
        st.update(
            lesson=lesson.id,
            phase="preparing",
            step=-1,
            reached=-1,
            started_by=actor,
            started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            prepare_since=time.time(),
            prepared=False,
            steps={},
            message="",
            version=version,
            run=version + 1,  # differs from the last run, so the state always changes
            speed=speed,
        )
        _teardown(lesson, actor)
        clock.set_speed(speed or lesson.speed)
        if clock.state().paused:
            clock.resume()
        ControllerMemory.objects.update_or_create(
            key=CURRENT_KEY, defaults={"data": {"lesson": lesson.id, "actor": actor}}
        )
    return state(lesson.id)


def next_step(lesson: Lesson, *, actor: str) -> dict[str, Any]:
    """Move to the next step (doing it the first time); refuses while a wait still waits."""
    _poll(lesson, actor)
    with _locked(lesson.id) as st:
        phase = st.get("phase")
        if phase in ("idle", "failed", None):
            raise LessonError(_("Start the lesson first."))
        if phase == "preparing":
            raise LessonError(_("The lesson is still preparing its namespace and nodes."))
        if phase == "finished":
            raise LessonError(_("The lesson is over: restart it to play it again."))
        current = st["step"]
        if current == st["reached"]:
            record = _record(st, current)
            if lesson.steps[current].type == "wait" and record.get("status") == "waiting":
                raise LessonError(
                    _("Still waiting for %(what)s.")
                    % {"what": conditions.describe(lesson.steps[current], lesson.namespace)}
                )
        if current + 1 >= len(lesson.steps):
            st["phase"] = "finished"
            return dict(st)
        st["step"] = current + 1
        if st["step"] > st["reached"]:
            st["reached"] = st["step"]
            _enter(lesson, st, st["step"], actor)
    return state(lesson.id)


def previous(lesson: Lesson, *, actor: str) -> dict[str, Any]:
    """Show the previous step again (nothing in the cluster is undone)."""
    with _locked(lesson.id) as st:
        if st.get("phase") == "finished":
            st["phase"] = "running"
            st["step"] = len(lesson.steps) - 1
        elif st.get("phase") == "running" and st["step"] > 0:
            st["step"] -= 1
        else:
            raise LessonError(_("There is no previous step."))
    return state(lesson.id)


def choose(lesson: Lesson, choice: int, *, actor: str) -> dict[str, Any]:
    """Record the class's guess on the current predict step (before the answer shows)."""
    with _locked(lesson.id) as st:
        index = st.get("step", -1)
        if st.get("phase") != "running" or lesson.steps[index].type != "predict":
            raise LessonError(_("This step asks no question."))
        if not 0 <= choice < len(lesson.steps[index].choices):
            raise LessonError(_("No such choice."))
        if revealed(lesson, st, index):
            raise LessonError(_("The answer is already shown."))
        _record(st, index)["picked"] = choice
    return state(lesson.id)


def poll(lesson: Lesson, *, actor: str = "") -> dict[str, Any]:
    """Move the lesson along without a click: finish preparing, check a waiting step.
    Cheap when there is nothing to do (one read, no lock)."""
    _poll(lesson, actor)
    return state(lesson.id)


def _poll(lesson: Lesson, actor: str) -> None:
    st = state(lesson.id)
    if st.get("phase") == "preparing":
        with _locked(lesson.id) as locked:
            if locked.get("phase") == "preparing":
                _prepare(lesson, locked, actor or locked.get("started_by", ""))
    elif st.get("phase") in ("running", "finished"):
        reached = st.get("reached", -1)
        record = st.get("steps", {}).get(str(reached), {})
        if reached >= 0 and record.get("status") == "waiting":
            with _locked(lesson.id) as locked:
                if _record(locked, reached).get("status") == "waiting":
                    _check_wait(lesson, locked, reached)


def revealed(lesson: Lesson, st: dict[str, Any], index: int) -> bool:
    """Whether a predict step's answer may be shown: its wait has held."""
    wait = lesson.reveal_step(index)
    if wait is None:
        return True
    return st.get("steps", {}).get(str(wait), {}).get("status") == "done"


# --- preparing -----------------------------------------------------------------------------------


def _check_nodes_free(lesson: Lesson) -> None:
    """Refuse to start when a node of this lesson's belongs to something else."""
    for row in Node.objects.filter(name__in=lesson.node_names()):
        if (row.labels or {}).get(LESSON_LABEL) != lesson.id:
            raise LessonError(
                _(
                    "Node %(node)s exists and is not this lesson's: remove it or rename the lesson's node."
                )
                % {"node": row.name}
            )


def _teardown(lesson: Lesson, actor: str) -> None:
    TrafficFlow.objects.filter(started_by=TRAFFIC_OWNER + lesson.id).delete()
    # A run left half-way may have left a component off: the namespace controller (in
    # kube-controller-manager) must run to empty the namespace, and the lesson starts clean.
    for component in sorted(lesson.components_stopped() & set(faults.stopped())):
        faults.start(component, actor=actor)
    names = list(Node.objects.filter(name__in=lesson.node_names()).values_list("name", flat=True))
    namespace = Namespace.objects.filter(name=lesson.namespace).first()
    if namespace is not None and namespace.deletion_timestamp is None:
        write.delete("Namespace", "", lesson.namespace, actor=actor)
    # The namespace refuses new content now: remove its pods at once (grace 0), and any pod left
    # on the lesson's nodes (a DaemonSet's), as the pod garbage collector does for a gone node.
    doomed = Pod.objects.filter(namespace=lesson.namespace) | Pod.objects.filter(
        node_name__in=names
    )
    for namespace_name, pod_name in doomed.values_list("namespace", "name"):
        with contextlib.suppress(NotFound):
            write.delete("Pod", namespace_name, pod_name, grace_period_seconds=0, actor=actor)
    for name in names:
        with contextlib.suppress(NotFound):
            write.delete("Node", "", name, actor=actor)


def _prepare(lesson: Lesson, st: dict[str, Any], actor: str) -> None:
    if time.time() - st.get("prepare_since", time.time()) > PREPARE_TIMEOUT:
        st["phase"] = "failed"
        st["message"] = _(
            "Namespace %(namespace)s or the lesson's nodes did not get ready within %(seconds)d "
            "seconds. Is the control plane running (make demo)?"
        ) % {"namespace": lesson.namespace, "seconds": PREPARE_TIMEOUT}
        return
    if not st.get("prepared"):
        if Namespace.objects.filter(name=lesson.namespace).exists():
            return  # the namespace controller is still emptying it
        try:
            with transaction.atomic():
                write.create(
                    {
                        "apiVersion": "v1",
                        "kind": "Namespace",
                        "metadata": {"name": lesson.namespace, "labels": {LESSON_LABEL: lesson.id}},
                    },
                    actor=actor,
                )
                for node in lesson.nodes:
                    _add_node(lesson, node.name, node.cpu, node.memory, node.zone, actor)
        except (StoreError, actions.ActionError) as error:
            st["phase"] = "failed"
            st["message"] = str(error)
            return
        st["prepared"] = True
    names = [n.name for n in lesson.nodes]
    if Node.objects.filter(name__in=names, ready="True").count() < len(names):
        return
    st["phase"] = "running"
    st["step"] = st["reached"] = 0
    _enter(lesson, st, 0, actor)


def _add_node(lesson: Lesson, name: str, cpu: str, memory: str, zone: str, actor: str) -> None:
    """A node of the lesson's: labelled and tainted with the lesson, so only its Pods (which
    tolerate the taint) land there."""
    actions.node_add(name, cpu, memory, zone, {LESSON_LABEL: lesson.id}, actor=actor)
    taint = {"key": LESSON_LABEL, "value": lesson.id, "effect": "NoSchedule"}
    write.patch("Node", "", name, {"spec": {"taints": [taint]}}, actor=actor)


# --- doing a step --------------------------------------------------------------------------------


def _enter(lesson: Lesson, st: dict[str, Any], index: int, actor: str) -> None:
    step = lesson.steps[index]
    record = _record(st, index)
    record.clear()
    record["status"] = "done"
    record["revision"] = _revision()  # before the step writes anything
    try:
        if step.clock is not None:
            _set_clock(step, st.get("speed"))
        with transaction.atomic():
            if step.type == "apply":
                record["results"] = _apply(lesson, step, actor)
            elif step.type == "act":
                record["results"] = _act(lesson, step, actor)[:MAX_RESULTS]
    except (StoreError, actions.ActionError, manifests.ManifestError, LessonError) as error:
        record["status"] = "error"
        record["message"] = str(error)
        return
    if step.type == "wait":
        record.update(
            status="waiting",
            since_sim=clock.now(),
            since_wall=time.time(),
            since_revision=_cause_revision(st, index),
        )
        _check_wait(lesson, st, index)


def _cause_revision(st: dict[str, Any], index: int) -> int:
    """Where a wait's events may start: the revision before the step that caused them, the
    nearest one before this run of waits (an act's effects may be written, by a fast worker,
    before the wait after it begins)."""
    steps = st.get("steps", {})
    cause = index
    while cause > 0 and steps.get(str(cause - 1), {}).get("since_revision") is not None:
        cause -= 1  # an earlier wait of the same run
    if cause > 0:
        cause -= 1
    return steps.get(str(cause), {}).get("revision", 0)


def _revision() -> int:
    from cluster.store.read import current_revision

    return current_revision()


def _set_clock(step: Step, override: float | None) -> None:
    setting = step.clock
    if override:
        clock.set_speed(override)
        if clock.state().paused:
            clock.resume()
        return
    if setting.speed is not None:
        clock.set_speed(setting.speed)
    if setting.paused is True:
        clock.pause()
    elif setting.paused is False or setting.speed is not None:
        if clock.state().paused:
            clock.resume()


def _apply(lesson: Lesson, step: Step, actor: str) -> list[str]:
    documents = []
    for position, obj in enumerate(step.documents):
        obj = {**obj, "metadata": dict(obj["metadata"])}
        kind = kinds.by_api(str(obj.get("apiVersion")), str(obj.get("kind")))
        if kind is not None and kind.namespaced:
            obj["metadata"]["namespace"] = lesson.namespace
        documents.append(manifests.Document(lesson.source, position + 1, obj))
    outcomes = manifests.apply(documents, actor=actor)
    return [str(o) for o in outcomes]


def _act(lesson: Lesson, step: Step, actor: str) -> list[str]:
    p = dict(step.params)
    ns = lesson.namespace
    action = step.action
    if action in ("scale", "setImage"):
        kind_name, _sep, name = p["target"].partition("/")
        kind = kinds.by_kind(
            {
                "deployment": "Deployment",
                "replicaset": "ReplicaSet",
                "statefulset": "StatefulSet",
                "daemonset": "DaemonSet",
            }[kind_name.lower()]
        )
        if action == "scale":
            actions.workload_scale(kind, ns, name, p["replicas"], actor=actor)
            return [f"{p['target']} scaled to {p['replicas']}"]
        actions.workload_image_set(kind, ns, name, p["container"], p["image"], actor=actor)
        return [f"{p['target']} {p['container']}={p['image']}"]
    if action == "rollback":
        return [
            actions.deployment_rollback(ns, p["deployment"], p.get("toRevision", 0), actor=actor)
        ]
    if action == "deletePod":
        pod = _pick_pod(ns, p)
        actions.pod_delete(ns, pod, actor=actor)
        return [f'pod "{pod}" deleted']
    if action in ("stopKubelet", "startKubelet", "cordon", "uncordon"):
        do = {
            "stopKubelet": actions.kubelet_stop,
            "startKubelet": actions.kubelet_start,
            "cordon": actions.node_cordon,
            "uncordon": actions.node_uncordon,
        }[action]
        do(p["node"], actor=actor)
        return [f"node/{p['node']}: {action}"]
    if action == "drain":
        drained = actions.node_drain(p["node"], actor=actor)
        return [f"evicting pod {key}" for key in drained.evicted] + [f"node/{p['node']} drained"]
    if action == "addNode":
        _add_node(lesson, p["name"], p["cpu"], p["memory"], p.get("zone", ""), actor)
        return [f"node/{p['name']} created"]
    if action == "sendRequest":
        results = []
        for _i in range(p.get("count", 1)):
            route = traffic.send(conditions._request(ns, p))
            results.append(
                f"HTTP {route.status} ← {route.pod[1]}"
                if route.pod
                else f"HTTP {route.status}: {route.error}"
            )
        return results
    if action == "startTraffic":
        target = (
            Target(service=(ns, p["service"]))
            if p.get("service")
            else Target(host=p.get("host", ""), path=p.get("path") or "/")
        )
        flow = start_flow(target, str(p["rps"]), TRAFFIC_OWNER + lesson.id)
        return [str(flow)]
    if action in ("stopComponent", "startComponent"):
        stop = action == "stopComponent"
        changed = (faults.stop if stop else faults.start)(p["component"], actor=actor)
        done = "stopped" if stop else "started"
        return [f"{p['component']} {done}" if changed else f"{p['component']} was already {done}"]
    if action == "stopTraffic":
        count = TrafficFlow.objects.filter(started_by=TRAFFIC_OWNER + lesson.id).delete()[0]
        return [f"{count} flow(s) stopped"]
    raise LessonError(f"unknown action {action}")


def _pick_pod(namespace: str, params: dict[str, Any]) -> str:
    """The Pod a ``deletePod`` act means: the one named, or the first (by name) of the running
    ones the selector matches (on the node, when one is given)."""
    if params.get("pod"):
        return params["pod"]
    candidates = [
        pod
        for pod in conditions._pods(namespace, params)
        if pod.deletion_timestamp is None and pod.phase == "Running"
    ]
    if not candidates:
        raise LessonError(
            _("No running Pod matches %(selector)s.") % {"selector": params.get("selector")}
        )
    return candidates[0].name


def _check_wait(lesson: Lesson, st: dict[str, Any], index: int) -> None:
    step = lesson.steps[index]
    record = _record(st, index)
    try:
        holds, observed = conditions.check(step, lesson.namespace, record.get("since_revision", 0))
    except StoreError as error:
        holds, observed = False, str(error)
    record["observed"] = observed
    if holds:
        record["status"] = "done"
        return
    timeout = step.timeout
    if timeout.clock == "real":
        elapsed = time.time() - record.get("since_wall", time.time())
    else:
        elapsed = clock.now() - record.get("since_sim", clock.now())
    if elapsed > timeout.seconds:
        record["status"] = "failed"
        unit = _("simulated seconds") if timeout.clock == "simulated" else _("seconds")
        record["message"] = _(
            "This never happened: %(what)s, within %(seconds)g %(unit)s. The cluster shows: "
            "%(observed)s."
        ) % {
            "what": conditions.describe(step, lesson.namespace),
            "seconds": timeout.seconds,
            "unit": unit,
            "observed": observed,
        }


# --- reading the state for others ----------------------------------------------------------------


def current_step(lesson_id: str) -> dict[str, Any]:
    """Where a lesson is, for anyone who follows it (follow mode, other pages)::

        {"lesson": "nodes-and-pods", "phase": "running", "step": 3, "total": 14,
         "type": "wait", "text": {"en": ..., "zh-hans": ...} or None,
         "highlight": {"kind": "Node", "name": "lesson1-a"} or {},
         "status": "waiting", "message": "", "observed": "1 of 2 matching Pods ready",
         "namespace": "lesson-nodes-pods", "started_by": "dashboard:alice", "version": 17}

    ``step`` counts from 1 (0 before the lesson runs); ``version`` grows with every change.
    Raises ``KeyError`` for an unknown lesson.
    """
    lesson = get(lesson_id)
    st = state(lesson_id)
    index = st.get("step", -1)
    step = lesson.steps[index] if 0 <= index < len(lesson.steps) else None
    record = st.get("steps", {}).get(str(index), {}) if step else {}
    return {
        "lesson": lesson.id,
        "title": lesson.title.as_dict(),
        "namespace": lesson.namespace,
        "phase": st.get("phase", "idle"),
        "step": index + 1 if step else 0,
        "total": len(lesson.steps),
        "type": step.type if step else "",
        "text": step.text.as_dict() if step and step.text else None,
        "highlight": step.highlight.as_dict() if step and step.highlight else {},
        "status": record.get("status", ""),
        "message": record.get("message", "") or st.get("message", ""),
        "observed": record.get("observed", ""),
        "started_by": st.get("started_by", ""),
        "version": st.get("version", 0),
    }


# --- headless ------------------------------------------------------------------------------------


class LessonFailed(AssertionError):
    """A headless run that could not go on: the step and the lesson's message."""


def run(
    lesson: Lesson,
    *,
    actor: str,
    speed: float | None = None,
    timeout: float = 300.0,
    interval: float = 0.2,
) -> dict:
    """Play the lesson from start to end, pressing Next whenever the player would allow it.
    Raises :class:`LessonFailed` when preparing fails, a step errs or a wait never holds."""
    start(lesson, actor=actor, speed=speed)
    deadline = time.monotonic() + timeout
    while True:
        st = poll(lesson, actor=actor)
        phase = st.get("phase")
        if phase == "failed":
            raise LessonFailed(f"{lesson.id}: preparing failed: {st.get('message')}")
        if phase == "finished":
            return st
        if phase == "running":
            index = st["step"]
            record = st.get("steps", {}).get(str(index), {})
            status = record.get("status")
            if status in ("error", "failed"):
                raise LessonFailed(
                    f"{lesson.id}: step {index + 1} ({lesson.steps[index].type}): "
                    f"{record.get('message')}"
                )
            if status != "waiting":
                next_step(lesson, actor=actor)
                continue
        if time.monotonic() > deadline:
            raise LessonFailed(
                f"{lesson.id}: still {phase} at step {st.get('step', -1) + 1} "
                f"after {timeout:g} s: {st.get('steps', {}).get(str(st.get('step')), {}).get('observed')}"
            )
        time.sleep(interval)
