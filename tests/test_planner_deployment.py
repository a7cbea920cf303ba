"""The Deployment planner: new ReplicaSets, rolling and recreate arithmetic, status, history.

Pure: an in-memory world applies the plans; no database, no Celery.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import random
from typing import Any

import pytest

from cluster.controllers.actions import (
    Create,
    Delete,
    Event,
    Patch,
    Plan,
    UpdateStatus,
    events_after_success,
)
from cluster.controllers.deployment import (
    max_surge,
    max_unavailable,
    plan_deployment,
    resolve_fenceposts,
)
from cluster.controllers.podutil import compute_hash, is_pod_available, is_terminating
from cluster.controllers.replicaset import plan_replicaset

T0 = dt.datetime(2025, 1, 1, 10, 0, 0, tzinfo=dt.UTC)


def stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386, as the store applies it."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def template(image: str = "nginx:1.27") -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "main", "image": image}]},
    }


def make_deploy(
    replicas: int = 3,
    *,
    image: str = "nginx:1.27",
    surge: int | str | None = "25%",
    unavailable: int | str | None = "25%",
    strategy: str = "RollingUpdate",
    min_ready: int = 0,
    paused: bool = False,
    history_limit: int = 10,
    generation: int = 1,
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": "web"}},
        "template": template(image),
        "minReadySeconds": min_ready,
        "revisionHistoryLimit": history_limit,
        "progressDeadlineSeconds": 600,
        "strategy": {"type": strategy},
    }
    if strategy == "RollingUpdate":
        spec["strategy"]["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    if paused:
        spec["paused"] = True
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "uid-web",
            "generation": generation,
            "resourceVersion": "10",
            "creationTimestamp": stamp(T0),
        },
        "spec": spec,
        "status": status or {},
    }


def rs_name(image: str = "nginx:1.27", collision: int | None = None) -> str:
    return f"web-{compute_hash(template(image), collision)}"


def make_rs(
    deploy: dict[str, Any] | None,
    image: str,
    replicas: int,
    *,
    available: int | None = None,
    revision: int = 1,
    created: int = 0,
    desired: int | None = None,
    max_replicas: int | None = None,
) -> dict[str, Any]:
    """A ReplicaSet as the controller would have made it, with a settled status."""
    hash_ = compute_hash(template(image))
    tpl = template(image)
    tpl["metadata"]["labels"]["pod-template-hash"] = hash_
    available = replicas if available is None else available
    annotations = {"deployment.kubernetes.io/revision": str(revision)}
    if desired is not None:
        annotations["deployment.kubernetes.io/desired-replicas"] = str(desired)
    if max_replicas is not None:
        annotations["deployment.kubernetes.io/max-replicas"] = str(max_replicas)
    rs: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"web-{hash_}",
            "namespace": "default",
            "uid": f"uid-rs-{hash_}",
            "generation": 1,
            "resourceVersion": "5",
            "creationTimestamp": stamp(T0 + dt.timedelta(seconds=created)),
            "labels": {"app": "web", "pod-template-hash": hash_},
            "annotations": annotations,
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web", "pod-template-hash": hash_}},
            "template": tpl,
        },
        "status": {
            "replicas": replicas,
            "readyReplicas": available,
            "availableReplicas": available,
            "observedGeneration": 1,
        },
    }
    if deploy is not None:
        rs["metadata"]["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": "web",
                "uid": deploy["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return rs


def scaled(plan: Plan) -> dict[str, int]:
    """ReplicaSet name -> the replicas the plan patches it to (last patch wins)."""
    sizes: dict[str, int] = {}
    for action in plan.actions:
        if isinstance(action, Patch) and action.kind == "ReplicaSet":
            replicas = (action.merge_patch.get("spec") or {}).get("replicas")
            if replicas is not None:
                sizes[action.name] = replicas
    return sizes


def status_of(plan: Plan) -> dict[str, Any]:
    (update,) = [a for a in plan.of_type(UpdateStatus) if a.kind == "Deployment"]
    return dict(update.status)


def condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == kind)


def event_messages(plan: Plan) -> list[str]:
    return [e.message for e in plan.events if e.reason == "ScalingReplicaSet"]


# ---------------------------------------------------------------------------- fenceposts


@pytest.mark.parametrize(
    ("surge", "unavailable", "replicas", "expected"),
    [
        pytest.param("25%", "25%", 10, (3, 2), id="25% of 10: surge rounds up, unavailable down"),
        pytest.param("25%", "25%", 3, (1, 0), id="25% of 3 is 1 surge and 0 unavailable"),
        pytest.param(0, "20%", 4, (0, 1), id="both zero: maxUnavailable becomes 1"),
        pytest.param("30%", "20%", 5, (2, 1), id="30% of 5 rounds up to 2"),
        pytest.param(2, 1, 6, (2, 1), id="absolute numbers as they are"),
    ],
)
def test_resolve_fenceposts(surge, unavailable, replicas, expected):
    """maxSurge rounds up, maxUnavailable down, and they are never both zero."""
    assert resolve_fenceposts(surge, unavailable, replicas) == expected


def test_max_unavailable_is_capped_and_zero_for_recreate():
    """maxUnavailable never exceeds replicas, and Recreate has neither surge nor unavailability."""
    assert max_unavailable(make_deploy(2, surge=0, unavailable=5)) == 2
    recreate = make_deploy(3, strategy="Recreate")
    assert (max_surge(recreate), max_unavailable(recreate)) == (0, 0)


# ------------------------------------------------------------------------ the first sync


def test_new_deployment_creates_its_first_replicaset():
    """A new Deployment creates <name>-<hash> with hash label, selector and annotations."""
    deploy = make_deploy(3)
    plan = plan_deployment(deploy, [], [], T0)
    (create,) = plan.of_type(Create)
    rs = create.obj
    hash_ = compute_hash(template())
    assert rs["metadata"]["name"] == rs_name() == f"web-{hash_}"
    assert rs["metadata"]["labels"] == {"app": "web", "pod-template-hash": hash_}
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "web", "pod-template-hash": hash_}}
    assert rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == hash_
    assert rs["spec"]["replicas"] == 3
    assert rs["metadata"]["annotations"] == {
        "deployment.kubernetes.io/revision": "1",
        "deployment.kubernetes.io/desired-replicas": "3",
        "deployment.kubernetes.io/max-replicas": "4",
    }
    assert rs["metadata"]["ownerReferences"][0]["uid"] == "uid-web"
    assert event_messages(plan) == [f"Scaled up replica set {rs_name()} to 3"]
    revision_patch = next(a for a in plan.of_type(Patch) if a.kind == "Deployment")
    assert revision_patch.merge_patch == {
        "metadata": {"annotations": {"deployment.kubernetes.io/revision": "1"}}
    }
    status = status_of(plan)
    assert status["observedGeneration"] == 1
    progressing = condition(status, "Progressing")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "True",
        "NewReplicaSetCreated",
        f'Created new replica set "{rs_name()}"',
    )
    available = condition(status, "Available")
    assert (available["status"], available["reason"], available["message"]) == (
        "False",
        "MinimumReplicasUnavailable",
        "Deployment does not have minimum availability.",
    )


def test_settled_deployment_reports_success():
    """Everything available: Available True and Progressing NewReplicaSetAvailable."""
    deploy = make_deploy(3)
    rs = make_rs(deploy, "nginx:1.27", 3, desired=3, max_replicas=4)
    plan = plan_deployment(deploy, [rs], [], T0)
    assert not plan.of_type(Create) and not scaled(plan)
    status = status_of(plan)
    assert {k: status[k] for k in ("replicas", "updatedReplicas", "readyReplicas")} == {
        "replicas": 3,
        "updatedReplicas": 3,
        "readyReplicas": 3,
    }
    assert status["availableReplicas"] == 3 and "unavailableReplicas" not in status
    assert condition(status, "Available")["reason"] == "MinimumReplicasAvailable"
    progressing = condition(status, "Progressing")
    assert (progressing["reason"], progressing["message"]) == (
        "NewReplicaSetAvailable",
        f'ReplicaSet "{rs_name()}" has successfully progressed.',
    )


def test_orphan_replicaset_is_adopted():
    """An orphan ReplicaSet matching the selector is adopted rather than duplicated."""
    deploy = make_deploy(3)
    orphan = make_rs(None, "nginx:1.27", 3, desired=3, max_replicas=4)
    plan = plan_deployment(deploy, [orphan], [], T0)
    (adopt,) = [
        p
        for p in plan.of_type(Patch)
        if p.kind == "ReplicaSet"
        and p.name == orphan["metadata"]["name"]
        and "ownerReferences" in p.merge_patch.get("metadata", {})
    ]
    assert adopt.merge_patch["metadata"]["ownerReferences"][0]["uid"] == "uid-web"
    assert not plan.of_type(Create)


def test_empty_selector_only_warns():
    """A selector that selects everything gets a SelectingAll warning and nothing else."""
    deploy = make_deploy(3, generation=2)
    deploy["spec"]["selector"] = {}
    plan = plan_deployment(deploy, [], [], T0)
    (event,) = plan.of_type(Event)
    assert (event.type, event.reason, event.message) == (
        "Warning",
        "SelectingAll",
        "This deployment is selecting all pods. A non-empty selector is required.",
    )
    assert not plan.of_type(Create)
    assert status_of(plan) == {"observedGeneration": 2}


def test_hash_collision_bumps_collision_count():
    """A foreign ReplicaSet holding <name>-<hash> makes the planner bump collisionCount."""
    deploy = make_deploy(3)
    squatter = make_rs(None, "nginx:1.27", 1)
    squatter["metadata"]["labels"] = {"other": "x"}
    squatter["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox"
    plan = plan_deployment(deploy, [squatter], [], T0)
    assert not plan.of_type(Create)
    assert status_of(plan)["collisionCount"] == 1
    assert plan.requeue_after == 0.0
    retry = copy.deepcopy(deploy)
    retry["status"] = {"collisionCount": 1}
    (create,) = plan_deployment(retry, [squatter], [], T0).of_type(Create)
    assert create.obj["metadata"]["name"] == rs_name(collision=1) != rs_name()


# ---------------------------------------------------------------------------- rolling update


def test_rolling_update_worked_example():
    """10 replicas at 25%/25%: new RS created with 3, old RS scaled 10 -> 8 in the same sync."""
    deploy = make_deploy(10, image="nginx:1.28", generation=2)
    old = make_rs(deploy, "nginx:1.27", 10, desired=10, max_replicas=13)
    plan = plan_deployment(deploy, [old], [], T0)
    (create,) = plan.of_type(Create)
    assert create.obj["spec"]["replicas"] == 3
    assert create.obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert scaled(plan) == {old["metadata"]["name"]: 8}
    assert event_messages(plan) == [
        f"Scaled up replica set {rs_name('nginx:1.28')} to 3",
        f"Scaled down replica set {old['metadata']['name']} to 8 from 10",
    ]


def test_rolling_update_second_step():
    """With 8 old and 3 new (none available) the new RS grows by 13 - 11 = 2 to 5."""
    deploy = make_deploy(10, image="nginx:1.28", generation=2)
    old = make_rs(deploy, "nginx:1.27", 8, desired=10, max_replicas=13)
    new = make_rs(
        deploy, "nginx:1.28", 3, available=0, revision=2, created=60, desired=10, max_replicas=13
    )
    plan = plan_deployment(deploy, [old, new], [], T0)
    assert scaled(plan) == {new["metadata"]["name"]: 5}
    assert event_messages(plan) == [f"Scaled up replica set {new['metadata']['name']} to 5 from 3"]


def test_unhealthy_old_replicas_are_cleaned_up_first():
    """Old replicas that are not available go first, within maxScaledDown."""
    deploy = make_deploy(10, image="nginx:1.28", generation=2)
    old = make_rs(deploy, "nginx:1.27", 10, available=7, desired=10, max_replicas=13)
    new = make_rs(
        deploy, "nginx:1.28", 3, available=3, revision=2, created=60, desired=10, max_replicas=13
    )
    # allPods 13, minAvailable 8, new unavailable 0 -> maxScaledDown 5; 3 unhealthy old go,
    # then available (7 + 3 = 10) - 8 = 2 more.
    plan = plan_deployment(deploy, [old, new], [], T0)
    assert scaled(plan) == {old["metadata"]["name"]: 5}
    assert event_messages(plan) == [
        f"Scaled down replica set {old['metadata']['name']} to 7 from 10",
        f"Scaled down replica set {old['metadata']['name']} to 5 from 7",
    ]


def test_progressing_condition_tracks_progress():
    """Progress (more updated replicas) sets ReplicaSetUpdated "... is progressing."."""
    old_status = {
        "observedGeneration": 2,
        "replicas": 10,
        "updatedReplicas": 0,
        "conditions": [
            {
                "type": "Progressing",
                "status": "True",
                "lastUpdateTime": stamp(T0),
                "lastTransitionTime": stamp(T0),
                "reason": "NewReplicaSetCreated",
                "message": "Created new replica set",
            }
        ],
    }
    deploy = make_deploy(10, image="nginx:1.28", generation=2, status=old_status)
    old = make_rs(deploy, "nginx:1.27", 8, desired=10, max_replicas=13)
    new = make_rs(
        deploy, "nginx:1.28", 3, available=0, revision=2, created=60, desired=10, max_replicas=13
    )
    later = T0 + dt.timedelta(seconds=30)
    status = status_of(plan_deployment(deploy, [old, new], [], later))
    progressing = condition(status, "Progressing")
    assert progressing["reason"] == "ReplicaSetUpdated"
    assert progressing["message"] == f'ReplicaSet "{new["metadata"]["name"]}" is progressing.'
    assert progressing["lastUpdateTime"] == stamp(later)
    assert progressing["lastTransitionTime"] == stamp(T0)


@pytest.mark.parametrize(
    ("elapsed", "expected_reason", "expected_requeue"),
    [
        pytest.param(601, "ProgressDeadlineExceeded", None, id="past the deadline: timed out"),
        pytest.param(180, "ReplicaSetUpdated", 421.0, id="before it: requeue at the deadline"),
    ],
)
def test_progress_deadline(elapsed: int, expected_reason: str, expected_requeue: float | None):
    """No progress for progressDeadlineSeconds gives ProgressDeadlineExceeded."""
    status = {
        "observedGeneration": 2,
        "replicas": 13,
        "updatedReplicas": 5,
        "readyReplicas": 8,
        "availableReplicas": 8,
        "unavailableReplicas": 5,
        "conditions": [
            {
                "type": "Available",
                "status": "True",
                "lastUpdateTime": stamp(T0),
                "lastTransitionTime": stamp(T0),
                "reason": "MinimumReplicasAvailable",
                "message": "Deployment has minimum availability.",
            },
            {
                "type": "Progressing",
                "status": "True",
                "lastUpdateTime": stamp(T0),
                "lastTransitionTime": stamp(T0),
                "reason": "ReplicaSetUpdated",
                "message": "ReplicaSet is progressing.",
            },
        ],
    }
    deploy = make_deploy(10, image="nginx:1.28", generation=2, status=status)
    # Stuck: 8 old + 5 new is the most allowed (13), and the new pods never become available,
    # so nothing can be scaled either way.
    deploy["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "2"}
    old = make_rs(deploy, "nginx:1.27", 8, desired=10, max_replicas=13)
    new = make_rs(
        deploy, "nginx:1.28", 5, available=0, revision=2, created=60, desired=10, max_replicas=13
    )
    plan = plan_deployment(deploy, [old, new], [], T0 + dt.timedelta(seconds=elapsed))
    if expected_reason == "ProgressDeadlineExceeded":
        progressing = condition(status_of(plan), "Progressing")
        assert (progressing["status"], progressing["reason"], progressing["message"]) == (
            "False",
            "ProgressDeadlineExceeded",
            f'ReplicaSet "{new["metadata"]["name"]}" has timed out progressing.',
        )
    else:
        assert not plan.actions
        assert plan.requeue_after == expected_requeue


# --------------------------------------------------------------------------------- recreate


def test_recreate_scales_old_down_first_and_waits_for_old_pods():
    """Recreate: old RSs go to 0; no new RS while an old pod still runs; then full size."""
    deploy = make_deploy(3, image="nginx:1.28", strategy="Recreate", generation=2)
    old = make_rs(deploy, "nginx:1.27", 3, desired=3, max_replicas=3)
    first = plan_deployment(deploy, [old], [], T0)
    assert scaled(first) == {old["metadata"]["name"]: 0}
    assert not first.of_type(Create)

    old_scaled = copy.deepcopy(old)
    old_scaled["spec"]["replicas"] = 0
    old_scaled["status"] = {"replicas": 0, "observedGeneration": 2}
    running = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "old-pod",
            "namespace": "default",
            "labels": dict(old["spec"]["template"]["metadata"]["labels"]),
            "deletionTimestamp": stamp(T0),
            "ownerReferences": [{"uid": old["metadata"]["uid"], "controller": True}],
        },
        "status": {"phase": "Running"},
    }
    waiting = plan_deployment(deploy, [old_scaled], [running], T0)
    assert not waiting.of_type(Create)
    assert not scaled(waiting)

    gone = plan_deployment(deploy, [old_scaled], [], T0)
    (create,) = gone.of_type(Create)
    assert create.obj["spec"]["replicas"] == 3
    assert create.obj["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "3"


# ----------------------------------------------------------------------- scaling and pausing


def test_paused_deployment_makes_no_rollout_progress():
    """Paused: a new template creates no ReplicaSet and Progressing says DeploymentPaused."""
    deploy = make_deploy(3, image="nginx:1.28", paused=True, generation=2)
    old = make_rs(deploy, "nginx:1.27", 3, desired=3, max_replicas=4)
    plan = plan_deployment(deploy, [old], [], T0)
    assert not plan.of_type(Create)
    assert not scaled(plan)
    progressing = condition(status_of(plan), "Progressing")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "Unknown",
        "DeploymentPaused",
        "Deployment is paused",
    )
    assert "updatedReplicas" not in status_of(plan)  # no new ReplicaSet yet


def test_paused_deployment_still_scales():
    """Scaling a paused Deployment resizes its only active ReplicaSet."""
    deploy = make_deploy(5, paused=True, generation=2)
    rs = make_rs(deploy, "nginx:1.27", 3, desired=3, max_replicas=4)
    plan = plan_deployment(deploy, [rs], [], T0)
    assert scaled(plan) == {rs["metadata"]["name"]: 5}
    assert event_messages(plan) == [f"Scaled up replica set {rs['metadata']['name']} to 5 from 3"]


def test_resumed_deployment_says_so():
    """Unpausing replaces DeploymentPaused with Unknown/DeploymentResumed."""
    status = {
        "observedGeneration": 3,
        "replicas": 3,
        "updatedReplicas": 3,
        "readyReplicas": 1,
        "availableReplicas": 1,
        "conditions": [
            {
                "type": "Progressing",
                "status": "Unknown",
                "lastUpdateTime": stamp(T0),
                "lastTransitionTime": stamp(T0),
                "reason": "DeploymentPaused",
                "message": "Deployment is paused",
            }
        ],
    }
    deploy = make_deploy(3, status=status, generation=3)
    rs = make_rs(deploy, "nginx:1.27", 3, available=1, desired=3, max_replicas=4)
    progressing = condition(status_of(plan_deployment(deploy, [rs], [], T0)), "Progressing")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "Unknown",
        "DeploymentResumed",
        "Deployment is resumed",
    )


def test_scaling_mid_rollout_is_proportional():
    """10 -> 15 mid-rollout: old 8 -> 12 and new 5 -> 7 (19 allowed, 6 added in proportion)."""
    deploy = make_deploy(15, image="nginx:1.28", generation=3, status={"replicas": 13})
    old = make_rs(deploy, "nginx:1.27", 8, desired=10, max_replicas=13)
    new = make_rs(
        deploy, "nginx:1.28", 5, available=0, revision=2, created=60, desired=10, max_replicas=13
    )
    plan = plan_deployment(deploy, [old, new], [], T0)
    assert scaled(plan) == {old["metadata"]["name"]: 12, new["metadata"]["name"]: 7}
    for action in plan.of_type(Patch):
        if action.kind == "ReplicaSet":
            assert action.merge_patch["metadata"]["annotations"] == {
                "deployment.kubernetes.io/desired-replicas": "15",
                "deployment.kubernetes.io/max-replicas": "19",
            }


# ---------------------------------------------------------------------- rollback and history


def test_rollback_reuses_the_old_replicaset_and_bumps_its_revision():
    """A template equal to an old RS's makes that RS new again, at revision max + 1."""
    deploy = make_deploy(3, image="nginx:1.27", generation=3)
    v1 = make_rs(deploy, "nginx:1.27", 0, revision=1, desired=3, max_replicas=4)
    v2 = make_rs(deploy, "nginx:1.28", 3, revision=2, created=60, desired=3, max_replicas=4)
    plan = plan_deployment(deploy, [v1, v2], [], T0)
    assert not plan.of_type(Create)
    annotation_patch = next(
        p
        for p in plan.of_type(Patch)
        if p.kind == "ReplicaSet" and p.name == v1["metadata"]["name"]
    )
    annotations = annotation_patch.merge_patch["metadata"]["annotations"]
    assert annotations["deployment.kubernetes.io/revision"] == "3"
    assert annotations["deployment.kubernetes.io/revision-history"] == "1"


def test_revision_history_limit_deletes_the_oldest_idle_replicasets():
    """Beyond revisionHistoryLimit, idle old RSs go, lowest revision first."""
    status = {
        "observedGeneration": 4,
        "replicas": 2,
        "updatedReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 2,
    }
    deploy = make_deploy(2, image="v4", history_limit=1, generation=4, status=status)
    olds = [
        make_rs(deploy, f"v{i}", 0, revision=i, created=i, desired=2, max_replicas=3)
        for i in (1, 2, 3)
    ]
    current = make_rs(deploy, "v4", 2, revision=4, created=4, desired=2, max_replicas=3)
    plan = plan_deployment(deploy, [*olds, current], [], T0)
    deleted = [d.name for d in plan.of_type(Delete)]
    assert deleted == [olds[0]["metadata"]["name"], olds[1]["metadata"]["name"]]


def test_unrelated_deployment_annotations_are_copied_to_the_new_replicaset():
    """The Deployment's own annotations (not kubectl's last-applied) go to its new RS."""
    deploy = make_deploy(1)
    deploy["metadata"]["annotations"] = {
        "team": "blue",
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
    }
    (create,) = plan_deployment(deploy, [], [], T0).of_type(Create)
    annotations = create.obj["metadata"]["annotations"]
    assert annotations["team"] == "blue"
    assert "kubectl.kubernetes.io/last-applied-configuration" not in annotations


# ----------------------------------------------------------------------------- the rollout loop


class World:
    """Just enough cluster for the two controllers: objects, a clock and a kubelet."""

    def __init__(self, seed: int, min_ready: int):
        self.now = T0
        self.rng = random.Random(seed)
        self.min_ready = min_ready
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.counter = itertools.count()
        self.ready_at: dict[str, dt.datetime] = {}
        self.events: list[Event] = []

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [o for (k, _), o in sorted(self.objects.items()) if k == kind]

    def apply(self, plan: Plan) -> None:
        for action in plan.actions:
            result: dict[str, Any] | None = None
            if isinstance(action, Create):
                obj = copy.deepcopy(dict(action.obj))
                meta = obj["metadata"]
                if not meta.get("name"):
                    meta["name"] = meta["generateName"] + f"{next(self.counter):05d}"
                meta.update(
                    uid=f"uid-{meta['name']}",
                    creationTimestamp=stamp(self.now),
                    generation=1,
                    resourceVersion="1",
                )
                obj.setdefault("status", {"phase": "Pending"} if obj["kind"] == "Pod" else {})
                key = (obj["kind"], meta["name"])
                assert key not in self.objects, f"{key} created twice"
                self.objects[key] = obj
                if obj["kind"] == "Pod":
                    self.ready_at[meta["name"]] = self.now + dt.timedelta(
                        seconds=self.rng.choice([5, 10, 15, 30])
                    )
                result = obj
            elif isinstance(action, Delete):
                obj = self.objects[(action.kind, action.name)]
                assert action.uid is None or action.uid == obj["metadata"]["uid"]
                if action.kind == "Pod":
                    obj["metadata"]["deletionTimestamp"] = stamp(self.now)
                else:
                    del self.objects[(action.kind, action.name)]
            elif isinstance(action, Patch):
                key = (action.kind, action.name)
                before = self.objects[key]
                after = merge_patch(before, action.merge_patch)
                if after.get("spec") != before.get("spec"):
                    after["metadata"]["generation"] += 1
                self.objects[key] = after
            elif isinstance(action, UpdateStatus):
                self.objects[(action.kind, action.name)]["status"] = copy.deepcopy(
                    dict(action.status)
                )
            self.events.extend(events_after_success(action, result))

    def reconcile(self) -> None:
        (deploy,) = self.of("Deployment")
        self.apply(plan_deployment(deploy, self.of("ReplicaSet"), self.of("Pod"), self.now))
        for _ in range(2):  # once to act, once more to count what it did
            for rs in self.of("ReplicaSet"):
                self.apply(plan_replicaset(rs, self.of("Pod"), self.now))

    def tick(self, seconds: int = 5) -> None:
        """The kubelet: terminating pods go, started pods turn Running and Ready."""
        self.now += dt.timedelta(seconds=seconds)
        for key, pod in list(self.objects.items()):
            if key[0] != "Pod":
                continue
            if is_terminating(pod):
                del self.objects[key]
            elif pod["status"].get("phase") == "Pending" and self.now >= self.ready_at[key[1]]:
                pod["spec"]["nodeName"] = "node-1"
                pod["status"] = {
                    "phase": "Running",
                    "conditions": [
                        {"type": "Ready", "status": "True", "lastTransitionTime": stamp(self.now)}
                    ],
                }

    def pods(self) -> list[dict[str, Any]]:
        return [p for p in self.of("Pod") if not is_terminating(p)]

    def available(self) -> int:
        return sum(1 for p in self.pods() if is_pod_available(p, self.min_ready, self.now))

    def rolled_out(self) -> bool:
        """``kubectl rollout status`` would print "successfully rolled out"."""
        (deploy,) = self.of("Deployment")
        status, replicas = deploy["status"], deploy["spec"]["replicas"]
        return (
            deploy["metadata"]["generation"] <= status.get("observedGeneration", 0)
            and status.get("updatedReplicas", 0) >= replicas
            and status.get("replicas", 0) <= status.get("updatedReplicas", 0)
            and status.get("availableReplicas", 0) >= status.get("updatedReplicas", 0)
        )


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "min_ready"),
    [
        pytest.param(3, 1, 0, 0, id="3 replicas, surge 1, unavailable 0"),
        pytest.param(3, 0, 1, 0, id="3 replicas, surge 0, unavailable 1"),
        pytest.param(10, "25%", "25%", 0, id="10 replicas at the 25%/25% defaults"),
        pytest.param(5, "30%", "20%", 0, id="5 replicas, 30% surge rounds up to 2"),
        pytest.param(4, "0%", "20%", 0, id="4 replicas, both round to 0: unavailable 1"),
        pytest.param(1, 0, 1, 0, id="1 replica, surge 0, unavailable 1"),
        pytest.param(7, "100%", "0%", 0, id="7 replicas, 100% surge"),
        pytest.param(6, 2, 2, 10, id="6 replicas, 2/2, minReadySeconds 10"),
        pytest.param(10, "10%", 0, 20, id="10 replicas, 10% surge, minReadySeconds 20"),
    ],
)
def test_rolling_update_keeps_its_promises(replicas, surge, unavailable, min_ready):
    """During a rollout, available pods never drop below replicas - maxUnavailable and pods
    never exceed replicas + maxSurge; the rollout finishes with only new pods."""
    world = World(seed=replicas * 31 + min_ready, min_ready=min_ready)
    deploy = make_deploy(replicas, surge=surge, unavailable=unavailable, min_ready=min_ready)
    world.objects[("Deployment", "web")] = deploy
    for _ in range(200):  # bring version 1 up
        world.reconcile()
        if world.rolled_out() and world.available() == replicas:
            break
        world.tick()
    assert world.available() == replicas

    deploy = world.objects[("Deployment", "web")]
    deploy["spec"]["template"] = template("nginx:1.28")
    deploy["metadata"]["generation"] += 1
    max_total = replicas + max_surge(deploy)
    min_available = replicas - max_unavailable(deploy)
    for _ in range(400):
        world.reconcile()
        assert len(world.pods()) <= max_total
        assert world.available() >= min_available
        if world.rolled_out():
            break
        world.tick()
        assert world.available() >= min_available
    assert world.rolled_out()
    images = {p["spec"]["containers"][0]["image"] for p in world.pods()}
    assert images == {"nginx:1.28"}
    assert len(world.pods()) == replicas
    (deploy,) = world.of("Deployment")
    assert deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert condition(deploy["status"], "Progressing")["reason"] == "NewReplicaSetAvailable"
    assert condition(deploy["status"], "Available")["status"] == "True"
    messages = [e.message for e in world.events if e.reason == "ScalingReplicaSet"]
    assert any(m.startswith("Scaled down replica set") for m in messages)
