"""The namespace controller planner: empty a terminating namespace, then finalize it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cluster.controllers.actions import Delete, Patch, UpdateStatus
from cluster.controllers.namespace import plan_namespace

T0 = dt.datetime(2025, 1, 1, 10, 0, 0, tzinfo=dt.UTC)


def at(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_namespace(
    *,
    deleting: bool = True,
    finalizers: list[str] | None = None,
    conditions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    ns: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "shop", "uid": "uid-shop", "resourceVersion": "50"},
        "spec": {"finalizers": ["kubernetes"] if finalizers is None else finalizers},
        "status": {"phase": "Terminating" if deleting else "Active"},
    }
    if deleting:
        ns["metadata"]["deletionTimestamp"] = at(0)
    if conditions is not None:
        ns["status"]["conditions"] = conditions
    return ns


def item(
    kind: str,
    name: str,
    *,
    finalizers: list[str] | None = None,
    deleting: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": "shop", "uid": f"uid-{name}"}
    if finalizers:
        metadata["finalizers"] = finalizers
    if deleting:
        metadata["deletionTimestamp"] = at(0)
    return {"kind": kind, "metadata": metadata, **extra}


def running_pod(name: str, *, grace: int = 30, deleting: bool = False) -> dict[str, Any]:
    return item(
        "Pod",
        name,
        deleting=deleting,
        spec={"nodeName": "worker-1", "terminationGracePeriodSeconds": grace},
        status={"phase": "Running"},
    )


def conditions_of(plan) -> dict[str, dict[str, Any]]:
    (update,) = plan.of_type(UpdateStatus)
    return {c["type"]: c for c in update.status["conditions"]}


@pytest.mark.parametrize(
    "namespace",
    [
        pytest.param(make_namespace(deleting=False), id="active namespace"),
        pytest.param(make_namespace(finalizers=[]), id="already finalized"),
    ],
)
def test_nothing_to_do(namespace):
    """Only a terminating namespace that still carries the kubernetes finalizer is worked on."""
    contents = {"ConfigMap": [item("ConfigMap", "settings")]}
    assert plan_namespace(namespace, contents, T0).actions == ()


def test_every_object_is_deleted():
    """Each object not already being deleted is deleted, by uid, pods included."""
    contents = {
        "Deployment": [item("Deployment", "web")],
        "ConfigMap": [item("ConfigMap", "b-settings"), item("ConfigMap", "a-settings")],
        "Pod": [running_pod("web-1"), running_pod("web-2", deleting=True)],
    }
    plan = plan_namespace(make_namespace(), contents, T0 + dt.timedelta(seconds=5))
    assert plan.of_type(Delete) == [
        Delete("Deployment", "shop", "web", "uid-web"),
        Delete("ConfigMap", "shop", "a-settings", "uid-a-settings"),
        Delete("ConfigMap", "shop", "b-settings", "uid-b-settings"),
        Delete("Pod", "shop", "web-1", "uid-web-1"),
    ]
    assert not plan.of_type(Patch)


@pytest.mark.parametrize(
    ("contents", "seconds", "remaining", "finalizers", "failure", "requeue"),
    [
        pytest.param(
            {"ConfigMap": [item("ConfigMap", "settings")]},
            5,
            None,
            None,
            None,
            1.0,
            id="removed at once: nothing remains, look again soon",
        ),
        pytest.param(
            {"Pod": [running_pod("web-1"), running_pod("web-2")]},
            5,
            "Some resources are remaining: pods. has 2 resource instances",
            None,
            None,
            16.0,
            id="bound pods terminate gracefully: 30 // 2 + 1",
        ),
        pytest.param(
            {"Deployment": [item("Deployment", "web", finalizers=["foregroundDeletion"])]},
            5,
            "Some resources are remaining: deployments.apps has 1 resource instances",
            "Some content in the namespace has finalizers remaining: "
            "foregroundDeletion in 1 resource instances",
            None,
            8.0,
            id="finalizers: 15 s estimate",
        ),
        pytest.param(
            {"Pod": [running_pod("web-1", deleting=True)]},
            100,
            "Some resources are remaining: pods. has 1 resource instances",
            None,
            "Failed to delete all resource types, 1 remaining: unexpected items still remain "
            "in namespace: shop for gvr: /v1, Resource=pods",
            1.0,
            id="pod stuck past its grace period: content failure",
        ),
    ],
)
def test_conditions_report_what_remains(contents, seconds, remaining, finalizers, failure, requeue):
    """Conditions say what lingers after the deletes and why; requeue follows the estimate."""
    plan = plan_namespace(make_namespace(), contents, T0 + dt.timedelta(seconds=seconds))
    found = conditions_of(plan)
    expected = {
        "NamespaceContentRemaining": remaining or "All content successfully removed",
        "NamespaceFinalizersRemaining": finalizers or "All content-preserving finalizers finished",
        "NamespaceDeletionContentFailure": failure
        or "All content successfully deleted, may be waiting on finalization",
        "NamespaceDeletionDiscoveryFailure": "All resources successfully discovered",
        "NamespaceDeletionGroupVersionParsingFailure": "All legacy kube types successfully parsed",
    }
    assert {kind: c["message"] for kind, c in found.items()} == expected
    assert found["NamespaceContentRemaining"]["status"] == ("True" if remaining else "False")
    assert plan.requeue_after == requeue


def test_empty_namespace_is_finalized():
    """With no content left the status is all clear and 'kubernetes' leaves spec.finalizers."""
    plan = plan_namespace(make_namespace(), {}, T0)
    update, patch = plan.actions
    assert isinstance(update, UpdateStatus)
    assert update.status["phase"] == "Terminating"
    reasons = {c["type"]: (c["status"], c["reason"]) for c in update.status["conditions"]}
    assert reasons == {
        "NamespaceDeletionDiscoveryFailure": ("False", "ResourcesDiscovered"),
        "NamespaceDeletionGroupVersionParsingFailure": ("False", "ParsedGroupVersions"),
        "NamespaceDeletionContentFailure": ("False", "ContentDeleted"),
        "NamespaceContentRemaining": ("False", "ContentRemoved"),
        "NamespaceFinalizersRemaining": ("False", "ContentHasNoFinalizers"),
    }
    assert patch == Patch(
        "Namespace", "", "shop", {"metadata": {"uid": "uid-shop"}, "spec": {"finalizers": []}}
    )
    assert plan.requeue_after is None


def test_finalize_keeps_other_finalizers_sorted():
    """Only 'kubernetes' is removed; the rest stay, sorted as upstream's string set."""
    namespace = make_namespace(finalizers=["z.example.com/x", "kubernetes", "a.example.com/y"])
    patch = plan_namespace(namespace, {}, T0).of_type(Patch)[0]
    assert patch.merge_patch["spec"]["finalizers"] == ["a.example.com/y", "z.example.com/x"]


@pytest.mark.parametrize(
    ("old_status", "transition"),
    [
        pytest.param("True", at(60), id="status changes: transition time moves"),
        pytest.param("False", at(1), id="same status, other message: transition time kept"),
    ],
)
def test_condition_transition_time(old_status, transition):
    """lastTransitionTime changes only with the condition's status."""
    old = {
        "type": "NamespaceContentRemaining",
        "status": old_status,
        "reason": "Old",
        "message": "old",
        "lastTransitionTime": at(1),
    }
    plan = plan_namespace(make_namespace(conditions=[old]), {}, T0 + dt.timedelta(seconds=60))
    found = conditions_of(plan)["NamespaceContentRemaining"]
    assert found["lastTransitionTime"] == transition
    assert (found["status"], found["reason"]) == ("False", "ContentRemoved")


def test_unchanged_status_is_not_rewritten():
    """A second pass over an unchanged namespace writes no status."""
    first = plan_namespace(make_namespace(), {"Pod": [running_pod("web-1", deleting=True)]}, T0)
    namespace = make_namespace()
    namespace["status"] = dict(first.of_type(UpdateStatus)[0].status)
    second = plan_namespace(namespace, {"Pod": [running_pod("web-1", deleting=True)]}, T0)
    assert second.actions == ()
