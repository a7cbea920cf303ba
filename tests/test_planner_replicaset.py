"""The ReplicaSet planner: claims, creates, victims, status. Pure, no database."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from cluster.controllers.actions import (
    Create,
    Delete,
    Patch,
    UpdateStatus,
    events_after_failure,
    events_after_success,
)
from cluster.controllers.podutil import active_pods_sort_key, compute_hash, safe_encode
from cluster.controllers.replicaset import plan_replicaset

T0 = dt.datetime(2025, 1, 1, 10, 0, 0, tzinfo=dt.UTC)
NOW = T0 + dt.timedelta(hours=1)


def stamp(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_rs(
    name: str = "web-abc",
    replicas: int = 3,
    *,
    labels: dict[str, str] | None = None,
    min_ready: int = 0,
    generation: int = 1,
    status: dict[str, Any] | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    labels = labels or {"app": "web"}
    rs: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "generation": generation,
            "resourceVersion": "7",
            "labels": dict(labels),
        },
        "spec": {
            "replicas": replicas,
            "minReadySeconds": min_ready,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
            },
        },
        "status": status or {},
    }
    if deleting:
        rs["metadata"]["deletionTimestamp"] = stamp(0)
    return rs


class PodBuilder:
    """``make_pod("a").owned_by(rs).on("n1").ready(since=60)``."""

    def __init__(self, name: str, labels: dict[str, str] | None = None):
        self.pod: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": "default",
                "uid": f"uid-{name}",
                "resourceVersion": "3",
                "labels": dict(labels if labels is not None else {"app": "web"}),
                "creationTimestamp": stamp(0),
            },
            "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
            "status": {"phase": "Pending"},
        }

    def owned_by(self, owner: dict[str, Any]) -> PodBuilder:
        self.pod["metadata"]["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": owner["kind"],
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        return self

    def on(self, node: str) -> PodBuilder:
        self.pod["spec"]["nodeName"] = node
        return self

    def phase(self, phase: str) -> PodBuilder:
        self.pod["status"]["phase"] = phase
        return self

    def ready(self, since: float = 0) -> PodBuilder:
        self.pod["status"]["phase"] = "Running"
        self.pod["status"]["conditions"] = [
            {"type": "Ready", "status": "True", "lastTransitionTime": stamp(since)}
        ]
        return self

    def created(self, seconds: float) -> PodBuilder:
        self.pod["metadata"]["creationTimestamp"] = stamp(seconds)
        return self

    def restarts(self, count: int) -> PodBuilder:
        self.pod["status"]["containerStatuses"] = [{"name": "main", "restartCount": count}]
        return self

    def deleting(self) -> PodBuilder:
        self.pod["metadata"]["deletionTimestamp"] = stamp(1)
        return self

    def cost(self, value: int) -> PodBuilder:
        self.pod["metadata"]["annotations"] = {
            "controller.kubernetes.io/pod-deletion-cost": str(value)
        }
        return self

    def build(self) -> dict[str, Any]:
        return self.pod


def make_pod(name: str, labels: dict[str, str] | None = None) -> PodBuilder:
    return PodBuilder(name, labels)


def owned(rs: dict[str, Any], *names: str) -> list[dict[str, Any]]:
    return [make_pod(n).owned_by(rs).on("n1").ready().build() for n in names]


# ------------------------------------------------------------------------------- scaling


@pytest.mark.parametrize(
    ("replicas", "existing", "creates", "deletes"),
    [
        pytest.param(3, 0, 3, 0, id="empty ReplicaSet creates every replica"),
        pytest.param(3, 1, 2, 0, id="missing replicas are created"),
        pytest.param(3, 3, 0, 0, id="the right number does nothing"),
        pytest.param(1, 3, 0, 2, id="surplus replicas are deleted"),
        pytest.param(0, 2, 0, 2, id="scaled to zero deletes everything"),
    ],
)
def test_replica_count_converges(replicas: int, existing: int, creates: int, deletes: int):
    """The planner creates the missing pods and deletes the surplus ones."""
    rs = make_rs(replicas=replicas)
    pods = owned(rs, *[f"p{i}" for i in range(existing)])
    plan = plan_replicaset(rs, pods, NOW)
    assert len(plan.of_type(Create)) == creates
    assert len(plan.of_type(Delete)) == deletes


def test_created_pods_follow_the_template_and_point_at_their_owner():
    """New pods use generateName <rs>-, the template's labels and spec, and a controller ref."""
    rs = make_rs(replicas=1)
    (create,) = plan_replicaset(rs, [], NOW).of_type(Create)
    pod = create.obj
    assert pod["metadata"]["generateName"] == "web-abc-"
    assert "name" not in pod["metadata"]
    assert pod["metadata"]["namespace"] == "default"
    assert pod["metadata"]["labels"] == {"app": "web"}
    assert pod["spec"] == rs["spec"]["template"]["spec"]
    assert pod["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": "web-abc",
            "uid": "uid-web-abc",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def test_creation_events_name_the_generated_pod():
    """SuccessfulCreate says "Created pod: <name>" with the name the store generated."""
    (create,) = plan_replicaset(make_rs(replicas=1), [], NOW).of_type(Create)
    (event,) = events_after_success(create, {"metadata": {"name": "web-abc-x8k2p"}})
    assert (event.type, event.reason, event.message) == (
        "Normal",
        "SuccessfulCreate",
        "Created pod: web-abc-x8k2p",
    )
    assert event.involved["kind"] == "ReplicaSet" and event.involved["name"] == "web-abc"
    (failure,) = events_after_failure(create, "quota exceeded")
    assert (failure.type, failure.reason, failure.message) == (
        "Warning",
        "FailedCreate",
        "Error creating: quota exceeded",
    )


def test_seeded_names_are_replayable_and_use_the_safe_alphabet():
    """With an rng, pod names are <rs>-<5 safe characters>, the same for the same seed."""
    first = plan_replicaset(make_rs(replicas=3), [], NOW, rng=random.Random(7))
    second = plan_replicaset(make_rs(replicas=3), [], NOW, rng=random.Random(7))
    names = [c.obj["metadata"]["name"] for c in first.of_type(Create)]
    assert names == [c.obj["metadata"]["name"] for c in second.of_type(Create)]
    assert len(set(names)) == 3
    for name in names:
        prefix, suffix = name.rsplit("-", 1)
        assert prefix == "web-abc" and len(suffix) == 5
        assert set(suffix) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert [e.message for e in first.events if e.reason == "SuccessfulCreate"] == [
        f"Created pod: {n}" for n in names
    ]


def test_burst_limit_caps_one_reconcile():
    """No more than burst_replicas pods are created in one reconcile."""
    plan = plan_replicaset(make_rs(replicas=10), [], NOW, burst_replicas=4)
    assert len(plan.of_type(Create)) == 4


def test_deleting_replicaset_only_updates_status():
    """A ReplicaSet being deleted creates nothing."""
    rs = make_rs(replicas=3, deleting=True)
    plan = plan_replicaset(rs, [], NOW)
    assert not plan.of_type(Create)
    assert not plan.of_type(Delete)


# ------------------------------------------------------------------------------- victims


def victims(rs: dict[str, Any], pods: list[dict[str, Any]]) -> list[str]:
    return [d.name for d in plan_replicaset(rs, pods, NOW).of_type(Delete)]


@pytest.mark.parametrize(
    ("pods", "expected"),
    [
        pytest.param(
            [
                make_pod("scheduled").on("n1").phase("Pending"),
                make_pod("unscheduled").phase("Pending"),
            ],
            ["unscheduled"],
            id="unscheduled before scheduled",
        ),
        pytest.param(
            [
                make_pod("running").on("n1").ready(),
                make_pod("unknown").on("n1").phase("Unknown"),
                make_pod("pending").on("n1").phase("Pending"),
            ],
            ["pending", "unknown"],
            id="Pending before Unknown before Running",
        ),
        pytest.param(
            [make_pod("ready").on("n1").ready(), make_pod("not-ready").on("n1").phase("Running")],
            ["not-ready"],
            id="not ready before ready",
        ),
        pytest.param(
            [
                make_pod("cheap").on("n1").ready().cost(-10),
                make_pod("dear").on("n1").ready().cost(100),
            ],
            ["cheap"],
            id="lower pod-deletion-cost first",
        ),
        pytest.param(
            [
                make_pod("old-ready").on("n1").ready(since=10),
                make_pod("new-ready").on("n2").ready(since=500),
            ],
            ["new-ready"],
            id="more recently ready first",
        ),
        pytest.param(
            [
                make_pod("calm").on("n1").ready().restarts(0),
                make_pod("flaky").on("n2").ready().restarts(5),
            ],
            ["flaky"],
            id="more restarts first",
        ),
        pytest.param(
            [
                make_pod("older").on("n1").ready().created(0),
                make_pod("newer").on("n2").ready().created(300),
            ],
            ["newer"],
            id="newer first",
        ),
    ],
)
def test_victims_follow_active_pods_order(pods: list[PodBuilder], expected: list[str]):
    """Surplus pods are deleted in upstream's ActivePods order."""
    rs = make_rs(replicas=len(pods) - len(expected))
    built = [p.owned_by(rs).build() for p in pods]
    assert sorted(victims(rs, built)) == sorted(expected)


def test_doubled_up_pods_go_first():
    """Among equal pods, one sharing its node with more related pods is deleted first."""
    rs = make_rs(replicas=2)
    pods = [
        make_pod("alone").owned_by(rs).on("n1").ready().build(),
        make_pod("crowded-a").owned_by(rs).on("n2").ready().created(0).build(),
        make_pod("crowded-b").owned_by(rs).on("n2").ready().created(0).build(),
    ]
    assert victims(rs, pods) == ["crowded-a"]


def test_delete_actions_carry_uid_and_events():
    """Deletes name the pod's uid as a precondition and report "Deleted pod: <name>"."""
    rs = make_rs(replicas=0)
    pods = owned(rs, "p0")
    (delete,) = plan_replicaset(rs, pods, NOW).of_type(Delete)
    assert (delete.kind, delete.namespace, delete.name, delete.uid) == (
        "Pod",
        "default",
        "p0",
        "uid-p0",
    )
    (event,) = events_after_success(delete)
    assert (event.reason, event.message) == ("SuccessfulDelete", "Deleted pod: p0")


def test_sort_key_puts_zero_ready_time_first():
    """A ready pod without a transition time sorts before one with a time (afterOrZero)."""
    timed = make_pod("timed").on("n1").ready(since=5).build()
    untimed = make_pod("untimed").on("n1").ready(since=5).build()
    del untimed["status"]["conditions"][0]["lastTransitionTime"]
    ordered = sorted([timed, untimed], key=active_pods_sort_key())
    assert [p["metadata"]["name"] for p in ordered] == ["untimed", "timed"]


# -------------------------------------------------------------------------------- claims


def test_matching_orphans_are_adopted_and_counted():
    """An orphan the selector matches gets a controller reference and counts as a replica."""
    rs = make_rs(replicas=1)
    orphan = make_pod("orphan").on("n1").ready().build()
    plan = plan_replicaset(rs, [orphan], NOW)
    (patch,) = plan.of_type(Patch)
    assert (patch.kind, patch.name) == ("Pod", "orphan")
    assert patch.merge_patch["metadata"]["uid"] == "uid-orphan"
    assert patch.merge_patch["metadata"]["resourceVersion"] == "3"
    assert patch.merge_patch["metadata"]["ownerReferences"][0]["uid"] == "uid-web-abc"
    assert not plan.of_type(Create)


@pytest.mark.parametrize(
    "pod",
    [
        pytest.param(make_pod("other", {"app": "db"}).on("n1").ready(), id="selector mismatch"),
        pytest.param(make_pod("going").on("n1").ready().deleting(), id="being deleted"),
        pytest.param(make_pod("done").on("n1").phase("Succeeded"), id="terminal"),
    ],
)
def test_orphans_that_do_not_qualify_are_left_alone(pod: PodBuilder):
    """Non-matching, terminating and terminal orphans are neither adopted nor counted."""
    rs = make_rs(replicas=1)
    plan = plan_replicaset(rs, [pod.build()], NOW)
    assert not plan.of_type(Patch)
    assert len(plan.of_type(Create)) == 1


def test_pods_of_another_controller_are_ignored():
    """A pod controlled by someone else is not adopted even if the labels match."""
    rs = make_rs(replicas=1)
    other = make_rs("other")
    pod = make_pod("theirs").owned_by(other).on("n1").ready().build()
    plan = plan_replicaset(rs, [pod], NOW)
    assert not plan.of_type(Patch)
    assert len(plan.of_type(Create)) == 1


def test_owned_pods_that_stop_matching_are_released():
    """An owned pod whose labels no longer match loses its reference and is replaced."""
    rs = make_rs(replicas=1)
    pod = make_pod("relabelled", {"app": "debug"}).owned_by(rs).on("n1").ready().build()
    plan = plan_replicaset(rs, [pod], NOW)
    (patch,) = plan.of_type(Patch)
    assert patch.name == "relabelled"
    assert patch.merge_patch["metadata"]["ownerReferences"] is None
    assert len(plan.of_type(Create)) == 1


# -------------------------------------------------------------------------------- status


def test_status_counts_owned_active_pods():
    """Status counts replicas, fully labelled, ready and available pods and the generation."""
    rs = make_rs(replicas=4, min_ready=30, generation=3)
    rs["spec"]["template"]["metadata"]["labels"]["tier"] = "front"
    pods = [
        make_pod("a", {"app": "web", "tier": "front"}).owned_by(rs).on("n1").ready(since=0).build(),
        make_pod("b", {"app": "web", "tier": "front"})
        .owned_by(rs)
        .on("n1")
        .ready(since=3590)
        .build(),
        make_pod("c").owned_by(rs).on("n1").phase("Running").build(),
        make_pod("d").owned_by(rs).on("n1").ready().deleting().build(),
    ]
    plan = plan_replicaset(rs, pods, NOW)
    (update,) = plan.of_type(UpdateStatus)
    assert update.status == {
        "replicas": 3,
        "fullyLabeledReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 1,
        "observedGeneration": 3,
    }
    assert update.resource_version == "7"


def test_unchanged_status_is_not_rewritten():
    """When the status already says it all, no UpdateStatus is planned."""
    rs = make_rs(
        replicas=1,
        status={
            "replicas": 1,
            "fullyLabeledReplicas": 1,
            "readyReplicas": 1,
            "availableReplicas": 1,
            "observedGeneration": 1,
        },
    )
    assert not plan_replicaset(rs, owned(rs, "p0"), NOW).of_type(UpdateStatus)


def test_zero_replicas_is_written_but_optional_zeros_are_omitted():
    """``replicas`` is always present; zero ready/available counts are omitted (omitempty)."""
    rs = make_rs(replicas=0)
    (update,) = plan_replicaset(rs, [], NOW).of_type(UpdateStatus)
    assert update.status == {"replicas": 0, "observedGeneration": 1}


@pytest.mark.parametrize(
    ("ready_since", "expected"),
    [
        pytest.param(3600 - 10, 21.0, id="ready 10 s ago with minReadySeconds 30: look in 21 s"),
        pytest.param(0, None, id="already available: no requeue"),
    ],
)
def test_requeue_when_a_pod_will_become_available(ready_since: float, expected: float | None):
    """The planner asks to run again when the next pod passes minReadySeconds."""
    rs = make_rs(replicas=1, min_ready=30)
    pods = [make_pod("a").owned_by(rs).on("n1").ready(since=ready_since).build()]
    assert plan_replicaset(rs, pods, NOW).requeue_after == expected


# ------------------------------------------------------------------------------- hashing


def test_safe_encode_maps_digits_like_kubernetes():
    """SafeEncodeString maps 0-9 to 4-9, b, c, d, f."""
    assert safe_encode("0123456789") == "456789bcdf"


def test_template_hash_is_stable_and_sensitive():
    """The same template hashes the same; a changed image or collisionCount changes it."""
    template = make_rs()["spec"]["template"]
    changed = {**template, "spec": {"containers": [{"name": "main", "image": "nginx:1.28"}]}}
    assert compute_hash(template) == compute_hash(dict(template))
    assert compute_hash(template) != compute_hash(changed)
    assert compute_hash(template) != compute_hash(template, 1)
    assert compute_hash(template, 1) != compute_hash(template, 2)
    assert set(compute_hash(template)) <= set("456789bcdf")
