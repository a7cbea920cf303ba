"""The StatefulSet planner: ordinals, claims, ordered and parallel management, rolling updates."""

from __future__ import annotations

import copy
import datetime as dt
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
from cluster.controllers.podutil import compute_hash, is_terminating
from cluster.controllers.statefulset import (
    claim_name,
    plan_statefulset,
    revision_name,
    statefulset_pod,
)

T0 = dt.datetime(2025, 1, 1, 10, 0, 0, tzinfo=dt.UTC)
NOW = T0 + dt.timedelta(hours=1)


def stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_sts(
    replicas: int = 3,
    *,
    image: str = "postgres:16",
    policy: str | None = None,
    partition: int | None = None,
    on_delete: bool = False,
    claims: bool = True,
    status: dict[str, Any] | None = None,
    generation: int = 1,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas,
        "serviceName": "db-headless",
        "selector": {"matchLabels": {"app": "db"}},
        "template": {
            "metadata": {"labels": {"app": "db"}},
            "spec": {
                "containers": [{"name": "pg", "image": image}],
                "volumes": [{"name": "config", "configMap": {"name": "db-config"}}],
            },
        },
    }
    if claims:
        spec["volumeClaimTemplates"] = [
            {
                "metadata": {"name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            }
        ]
    if policy:
        spec["podManagementPolicy"] = policy
    if on_delete:
        spec["updateStrategy"] = {"type": "OnDelete"}
    elif partition is not None:
        spec["updateStrategy"] = {
            "type": "RollingUpdate",
            "rollingUpdate": {"partition": partition},
        }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {
            "name": "db",
            "namespace": "default",
            "uid": "uid-db",
            "generation": generation,
            "resourceVersion": "4",
        },
        "spec": spec,
        "status": status or {},
    }


def make_pod(
    sts: dict[str, Any],
    ordinal: int,
    *,
    state: str = "ready",
    revision: str | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    """A pod the controller made; ``state`` is ready, running (not ready), pending or failed."""
    pod = statefulset_pod(sts, ordinal, revision or revision_name(sts))
    pod["metadata"]["uid"] = f"uid-db-{ordinal}"
    pod["metadata"]["creationTimestamp"] = stamp(T0)
    phase = {"ready": "Running", "running": "Running", "pending": "Pending", "failed": "Failed"}
    pod["status"] = {"phase": phase[state]}
    if state in ("ready", "running"):
        pod["status"]["conditions"] = [
            {
                "type": "Ready",
                "status": "True" if state == "ready" else "False",
                "lastTransitionTime": stamp(T0),
            }
        ]
    if deleting:
        pod["metadata"]["deletionTimestamp"] = stamp(NOW)
    return pod


def make_pvc(name: str, *, deleting: bool = False) -> dict[str, Any]:
    pvc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
        "spec": {},
    }
    if deleting:
        pvc["metadata"]["deletionTimestamp"] = stamp(NOW)
    return pvc


def created_pods(plan: Plan) -> list[str]:
    return [c.obj["metadata"]["name"] for c in plan.of_type(Create) if c.kind == "Pod"]


def created_claims(plan: Plan) -> list[str]:
    return [
        c.obj["metadata"]["name"] for c in plan.of_type(Create) if c.kind == "PersistentVolumeClaim"
    ]


def deleted(plan: Plan) -> list[str]:
    return [d.name for d in plan.of_type(Delete)]


# ------------------------------------------------------------------------------- identity


def test_first_pod_gets_its_claim_identity_and_dns_name():
    """db-0 comes after its claim data-db-0, with name labels, hostname and subdomain."""
    sts = make_sts(3)
    plan = plan_statefulset(sts, [], [], NOW)
    kinds = [(a.kind, a.obj["metadata"]["name"]) for a in plan.of_type(Create)]
    assert kinds == [("PersistentVolumeClaim", "data-db-0"), ("Pod", "db-0")]
    pvc, pod = (a.obj for a in plan.of_type(Create))
    assert pvc["metadata"]["labels"] == {"app": "db"}
    assert pvc["spec"]["resources"] == {"requests": {"storage": "1Gi"}}
    assert "ownerReferences" not in pvc["metadata"]  # Retain: claims outlive pods and set
    labels = pod["metadata"]["labels"]
    assert labels["statefulset.kubernetes.io/pod-name"] == "db-0"
    assert labels["apps.kubernetes.io/pod-index"] == "0"
    assert labels["controller-revision-hash"] == revision_name(sts)
    assert revision_name(sts) == f"db-{compute_hash(sts['spec']['template'])}"
    assert pod["spec"]["hostname"] == "db-0"
    assert pod["spec"]["subdomain"] == "db-headless"
    assert pod["spec"]["volumes"] == [
        {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}},
        {"name": "config", "configMap": {"name": "db-config"}},
    ]
    assert pod["metadata"]["ownerReferences"][0]["uid"] == "uid-db"
    assert [e.message for e in plan.events] == [
        "create Claim data-db-0 Pod db-0 in StatefulSet db success",
        "create Pod db-0 in StatefulSet db successful",
    ]
    assert {e.reason for e in plan.events} == {"SuccessfulCreate"}


def test_claim_names_follow_template_set_and_ordinal():
    """A claim is <template>-<set>-<ordinal>."""
    assert claim_name("data", make_sts(), 7) == "data-db-7"


def test_start_ordinal_shifts_names():
    """spec.ordinals.start numbers the pods from there."""
    sts = make_sts(2, claims=False)
    sts["spec"]["ordinals"] = {"start": 5}
    assert created_pods(plan_statefulset(sts, [], [], NOW)) == ["db-5"]


# -------------------------------------------------------------------------- OrderedReady


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        pytest.param([], ["db-0"], id="nothing yet: db-0 only"),
        pytest.param(["ready"], ["db-1"], id="db-0 Running and Ready: db-1 next"),
        pytest.param(["ready", "ready"], ["db-2"], id="db-0 and db-1 ready: db-2 next"),
        pytest.param(["running"], [], id="db-0 not ready: wait"),
        pytest.param(["pending"], [], id="db-0 pending: wait"),
    ],
)
def test_ordered_ready_creates_one_at_a_time(states: list[str], expected: list[str]):
    """Pod N is created only when pods 0..N-1 are Running and Ready."""
    sts = make_sts(3)
    pods = [make_pod(sts, i, state=s) for i, s in enumerate(states)]
    pvcs = [make_pvc(f"data-db-{i}") for i in range(len(states))]
    assert created_pods(plan_statefulset(sts, pods, pvcs, NOW)) == expected


def test_min_ready_seconds_hold_the_next_ordinal():
    """With minReadySeconds a ready pod must also be available before the next one."""
    sts = make_sts(2, claims=False)
    sts["spec"]["minReadySeconds"] = 30
    pod = make_pod(sts, 0)
    pod["status"]["conditions"][0]["lastTransitionTime"] = stamp(NOW - dt.timedelta(seconds=10))
    plan = plan_statefulset(sts, [pod], [], NOW)
    assert created_pods(plan) == []
    assert plan.requeue_after == 21.0


def test_ordered_ready_scales_down_from_the_highest_ordinal():
    """3 -> 1: db-2 goes first, one at a time; claims stay."""
    sts = make_sts(1)
    full = make_sts(3)
    pods = [make_pod(full, i) for i in range(3)]
    pvcs = [make_pvc(f"data-db-{i}") for i in range(3)]
    plan = plan_statefulset(sts, pods, pvcs, NOW)
    assert deleted(plan) == ["db-2"]
    (delete,) = plan.of_type(Delete)
    assert (delete.kind, delete.uid) == ("Pod", "uid-db-2")
    assert [e.message for e in events_after_success(delete)] == [
        "delete Pod db-2 in StatefulSet db successful"
    ]


def test_ordered_ready_waits_for_termination_before_the_next_deletion():
    """While db-2 terminates, db-1 is not touched."""
    sts = make_sts(1)
    full = make_sts(3)
    pods = [make_pod(full, 0), make_pod(full, 1), make_pod(full, 2, deleting=True)]
    assert deleted(plan_statefulset(sts, pods, [], NOW)) == []


def test_unhealthy_condemned_pod_is_removed_first():
    """An unhealthy condemned pod may go even though it is not Running and Ready."""
    sts = make_sts(1, claims=False)
    full = make_sts(3, claims=False)
    pods = [make_pod(full, 0), make_pod(full, 1, state="running"), make_pod(full, 2)]
    # db-2 (healthy) is processed first and deleted.
    assert deleted(plan_statefulset(sts, pods, [], NOW)) == ["db-2"]
    pods = [make_pod(full, 0), make_pod(full, 1, state="running")]
    assert deleted(plan_statefulset(sts, pods, [], NOW)) == ["db-1"]


# ------------------------------------------------------------------------------ Parallel


def test_parallel_creates_everything_at_once():
    """Parallel: every missing ordinal is created in one reconcile, each after its claim."""
    plan = plan_statefulset(make_sts(3, policy="Parallel"), [], [], NOW)
    assert created_pods(plan) == ["db-0", "db-1", "db-2"]
    assert created_claims(plan) == ["data-db-0", "data-db-1", "data-db-2"]
    order = [a.obj["metadata"]["name"] for a in plan.of_type(Create)]
    for i in range(3):
        assert order.index(f"data-db-{i}") < order.index(f"db-{i}")


def test_parallel_scales_down_everything_at_once():
    """Parallel: all condemned pods are deleted together."""
    full = make_sts(3, policy="Parallel", claims=False)
    pods = [make_pod(full, i, state="running") for i in range(3)]
    plan = plan_statefulset(make_sts(1, policy="Parallel", claims=False), pods, [], NOW)
    assert deleted(plan) == ["db-2", "db-1"]


# ---------------------------------------------------------------------- failures and claims


def test_failed_pod_is_deleted_to_be_recreated():
    """A Failed replica is deleted; the next reconcile creates it again."""
    sts = make_sts(2, claims=False)
    pods = [make_pod(sts, 0, state="failed")]
    plan = plan_statefulset(sts, pods, [], NOW)
    assert deleted(plan) == ["db-0"] and created_pods(plan) == []
    assert created_pods(plan_statefulset(sts, [], [], NOW)) == ["db-0"]


def test_existing_claim_is_reused():
    """A claim that survived its pod is not created again."""
    plan = plan_statefulset(make_sts(1), [], [make_pvc("data-db-0")], NOW)
    assert created_claims(plan) == [] and created_pods(plan) == ["db-0"]


def test_claim_being_deleted_blocks_the_pod():
    """No pod while its claim is being deleted; a FailedCreate warning says why."""
    plan = plan_statefulset(make_sts(1), [], [make_pvc("data-db-0", deleting=True)], NOW)
    assert created_pods(plan) == []
    (event,) = plan.of_type(Event)
    assert (event.type, event.reason, event.message) == (
        "Warning",
        "FailedCreate",
        "create Pod db-0 in StatefulSet db failed error: pvc data-db-0 is being deleted",
    )


def test_pending_pod_gets_missing_claims():
    """A pending pod whose claim vanished gets it recreated."""
    sts = make_sts(1)
    plan = plan_statefulset(sts, [make_pod(sts, 0, state="pending")], [], NOW)
    assert created_claims(plan) == ["data-db-0"]


# ---------------------------------------------------------------------------- claiming pods


def test_orphans_are_adopted_only_with_a_member_name():
    """Orphans named <set>-<n> are adopted; other matching names are not."""
    sts = make_sts(1, claims=False)
    member = make_pod(sts, 0)
    stranger = copy.deepcopy(member)
    stranger["metadata"].update(name="dbx-0", uid="uid-dbx-0")
    for pod in (member, stranger):
        del pod["metadata"]["ownerReferences"]
    plan = plan_statefulset(sts, [member, stranger], [], NOW)
    assert [p.name for p in plan.of_type(Patch)] == ["db-0"]
    assert created_pods(plan) == []


def test_missing_identity_labels_are_restored():
    """A replica that lost its identity labels gets them back."""
    sts = make_sts(1, claims=False)
    pod = make_pod(sts, 0)
    del pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"]
    (patch,) = plan_statefulset(sts, [pod], [], NOW).of_type(Patch)
    assert patch.merge_patch["metadata"]["labels"] == {
        "statefulset.kubernetes.io/pod-name": "db-0",
        "apps.kubernetes.io/pod-index": "0",
    }


# ------------------------------------------------------------------------- rolling update


def rollout_pods(sts_old, sts_new, updated: set[int], count: int = 3) -> list[dict[str, Any]]:
    return [
        make_pod(
            sts_new if i in updated else sts_old,
            i,
            revision=revision_name(sts_new if i in updated else sts_old),
        )
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("partition", "updated", "expected"),
    [
        pytest.param(None, set(), ["db-2"], id="highest ordinal first"),
        pytest.param(None, {2}, ["db-1"], id="then the next one down"),
        pytest.param(None, {1, 2}, ["db-0"], id="then the lowest"),
        pytest.param(None, {0, 1, 2}, [], id="all updated: nothing to do"),
        pytest.param(2, {2}, [], id="partition 2 keeps db-0 and db-1"),
        pytest.param(1, {2}, ["db-1"], id="partition 1 updates db-1 too"),
    ],
)
def test_rolling_update_from_the_highest_ordinal(partition, updated, expected):
    """One out-of-date pod is deleted per reconcile, highest ordinal first, down to partition."""
    old = make_sts(3, claims=False)
    new = make_sts(3, image="postgres:17", claims=False, partition=partition, generation=2)
    new["status"] = {"currentRevision": revision_name(old)}
    plan = plan_statefulset(new, rollout_pods(old, new, updated), [], NOW)
    assert deleted(plan) == expected


def test_rolling_update_waits_for_an_unhealthy_updated_pod():
    """An updated pod that is not ready yet holds the rollout."""
    old = make_sts(3, claims=False, policy="Parallel")
    new = make_sts(3, image="postgres:17", claims=False, policy="Parallel", generation=2)
    new["status"] = {"currentRevision": revision_name(old)}
    pods = rollout_pods(old, new, {2})
    pods[2]["status"]["conditions"][0]["status"] = "False"
    assert deleted(plan_statefulset(new, pods, [], NOW)) == []


def test_on_delete_never_deletes_for_updates():
    """OnDelete leaves out-of-date pods alone."""
    old = make_sts(3, claims=False)
    new = make_sts(3, image="postgres:17", claims=False, on_delete=True, generation=2)
    new["status"] = {"currentRevision": revision_name(old)}
    assert deleted(plan_statefulset(new, rollout_pods(old, new, set()), [], NOW)) == []


def test_status_counts_revisions_and_completes_the_rollout():
    """Status counts current and updated pods; all updated and ready -> currentRevision moves."""
    old = make_sts(3, claims=False)
    new = make_sts(3, image="postgres:17", claims=False, generation=2)
    new["status"] = {"currentRevision": revision_name(old)}
    (mid,) = plan_statefulset(new, rollout_pods(old, new, {2}), [], NOW).of_type(UpdateStatus)
    assert mid.status == {
        "observedGeneration": 2,
        "replicas": 3,
        "readyReplicas": 3,
        "currentReplicas": 1,  # 2 at the current revision, then db-1 is deleted
        "updatedReplicas": 1,
        "currentRevision": revision_name(old),
        "updateRevision": revision_name(new),
        "availableReplicas": 3,
    }
    (done,) = plan_statefulset(new, rollout_pods(old, new, {0, 1, 2}), [], NOW).of_type(
        UpdateStatus
    )
    assert done.status["currentRevision"] == done.status["updateRevision"] == revision_name(new)
    assert done.status["currentReplicas"] == done.status["updatedReplicas"] == 3


def test_pods_below_the_partition_are_recreated_at_the_current_revision():
    """A missing pod below the partition comes back at the current revision's template."""
    old = make_sts(2, claims=False)
    new = make_sts(2, image="postgres:17", claims=False, partition=1, generation=2)
    new["status"] = {"currentRevision": revision_name(old)}
    revisions = {revision_name(old): old["spec"]["template"]}
    (create,) = plan_statefulset(new, [], [], NOW, revisions=revisions).of_type(Create)
    assert create.obj["metadata"]["labels"]["controller-revision-hash"] == revision_name(old)
    assert create.obj["spec"]["containers"][0]["image"] == "postgres:16"


# ----------------------------------------------------------------------------- simulation


def test_rollout_loop_replaces_one_pod_at_a_time_and_keeps_claims():
    """A full OrderedReady rollout: pods are replaced highest first, never two down at once,
    and no claim is ever deleted."""
    sts = make_sts(3)
    pods: dict[str, dict[str, Any]] = {}
    pvcs: dict[str, dict[str, Any]] = {}
    now = NOW
    replaced: list[str] = []

    def step(current: dict[str, Any]) -> None:
        plan = plan_statefulset(current, list(pods.values()), list(pvcs.values()), now)
        for action in plan.actions:
            if isinstance(action, Create):
                obj = copy.deepcopy(dict(action.obj))
                obj["metadata"]["uid"] = f"uid-{obj['metadata']['name']}-{now.timestamp()}"
                target = pods if obj["kind"] == "Pod" else pvcs
                assert obj["metadata"]["name"] not in target
                obj["status"] = {"phase": "Pending"} if obj["kind"] == "Pod" else {}
                target[obj["metadata"]["name"]] = obj
            elif isinstance(action, Delete):
                assert action.kind == "Pod"
                pods[action.name]["metadata"]["deletionTimestamp"] = stamp(now)
                replaced.append(action.name)
            elif isinstance(action, UpdateStatus):
                current["status"] = dict(action.status)

    def kubelet() -> None:
        for name, pod in list(pods.items()):
            if is_terminating(pod):
                del pods[name]
            elif pod["status"]["phase"] == "Pending":
                pod["status"] = {
                    "phase": "Running",
                    "conditions": [
                        {"type": "Ready", "status": "True", "lastTransitionTime": stamp(now)}
                    ],
                }

    for _ in range(20):
        step(sts)
        kubelet()
        now += dt.timedelta(seconds=5)
    assert sorted(pods) == ["db-0", "db-1", "db-2"]

    new = make_sts(3, image="postgres:17", generation=2)
    new["status"] = sts["status"]
    for _ in range(40):
        step(new)
        down = [p for p in pods.values() if is_terminating(p) or p["status"]["phase"] != "Running"]
        assert len(down) + (3 - len(pods)) <= 1
        kubelet()
        now += dt.timedelta(seconds=5)
    assert replaced == ["db-2", "db-1", "db-0"]
    assert {p["spec"]["containers"][0]["image"] for p in pods.values()} == {"postgres:17"}
    assert sorted(pvcs) == ["data-db-0", "data-db-1", "data-db-2"]
    assert new["status"]["currentRevision"] == new["status"]["updateRevision"]
    assert new["status"]["updatedReplicas"] == 3
