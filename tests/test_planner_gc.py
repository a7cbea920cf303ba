"""The garbage collector planner: background, foreground and orphan propagation. No database."""

from __future__ import annotations

from typing import Any

import pytest

from cluster.controllers.actions import Delete, Patch
from cluster.controllers.garbagecollector import plan_gc

OWNER_UID = "uid-web"


def ref(uid: str = OWNER_UID, *, kind: str = "Deployment", block: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "name": uid.removeprefix("uid-"),
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": block,
    }


def obj(
    name: str,
    *,
    kind: str = "ReplicaSet",
    refs: list[dict[str, Any]] | None = None,
    finalizers: list[str] | None = None,
    deleting: bool = False,
    uid: str | None = None,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": "default",
        "uid": uid or f"uid-{name}",
        "resourceVersion": "11",
    }
    if refs is not None:
        metadata["ownerReferences"] = refs
    if finalizers:
        metadata["finalizers"] = finalizers
    if deleting:
        metadata["deletionTimestamp"] = "2025-01-01T10:00:00Z"
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": metadata}


def owner(finalizers: list[str] | None = None, deleting: bool = True) -> dict[str, Any]:
    return obj("web", kind="Deployment", finalizers=finalizers, deleting=deleting)


def summary(plan) -> list[tuple[str, str]]:
    """("delete"|"patch", name) per action, in order."""
    out = []
    for action in plan.actions:
        if isinstance(action, Delete):
            out.append(("delete", action.name))
        elif isinstance(action, Patch):
            out.append(("patch", action.name))
    return out


# --------------------------------------------------------------------------- owner gone (background)


@pytest.mark.parametrize(
    ("dependents", "other_owners", "expected"),
    [
        pytest.param(
            [obj("web-1", refs=[ref()])], {}, [("delete", "web-1")], id="sole owner gone: deleted"
        ),
        pytest.param(
            [obj("web-1", refs=[ref(), ref("uid-other", block=False)])],
            {"uid-other": obj("other", kind="Deployment")},
            [("patch", "web-1")],
            id="another live owner: only the reference goes",
        ),
        pytest.param(
            [obj("web-1", refs=[ref(), ref("uid-other")])],
            {"uid-other": None},
            [("delete", "web-1")],
            id="every owner gone: deleted",
        ),
        pytest.param(
            [obj("web-1", refs=[ref(), ref("uid-other")])],
            {},
            [("patch", "web-1")],
            id="other owner not looked up: treated as live",
        ),
        pytest.param(
            [obj("web-1", refs=[ref(), ref("uid-other")])],
            {"uid-other": owner(["foregroundDeletion"])},
            [("delete", "web-1")],
            id="other owner deleting in foreground: deleted",
        ),
        pytest.param(
            [obj("web-1", refs=[ref("uid-else")])], {}, [], id="dependent of someone else: ignored"
        ),
        pytest.param(
            [obj("web-1", refs=[ref()], deleting=True)], {}, [], id="already being deleted: skipped"
        ),
    ],
)
def test_owner_gone(dependents, other_owners, expected):
    """Dependents whose owners are all gone are deleted; others lose the dangling reference."""
    plan = plan_gc(None, OWNER_UID, dependents, other_owners=other_owners)
    assert summary(plan) == expected


def test_owner_recreated_under_the_same_name_counts_as_gone():
    """An object with the owner's name but another uid is not the owner."""
    recreated = obj("web", kind="Deployment", uid="uid-web-new")
    plan = plan_gc(recreated, OWNER_UID, [obj("web-1", refs=[ref()])])
    assert summary(plan) == [("delete", "web-1")]


def test_delete_carries_the_uid_precondition():
    """The dependent is deleted only if it is still the object that was planned."""
    plan = plan_gc(None, OWNER_UID, [obj("web-1", refs=[ref()])])
    assert plan.actions == (Delete("ReplicaSet", "default", "web-1", "uid-web-1"),)


def test_reference_removal_patch_keeps_other_references():
    """The patch rewrites ownerReferences without the dead owner, conditionally."""
    other = ref("uid-other", block=False)
    plan = plan_gc(
        None,
        OWNER_UID,
        [obj("web-1", refs=[ref(), other])],
        other_owners={"uid-other": obj("other")},
    )
    (patch,) = plan.actions
    assert patch.merge_patch == {
        "metadata": {"uid": "uid-web-1", "resourceVersion": "11", "ownerReferences": [other]}
    }


@pytest.mark.parametrize(
    "live_owner",
    [
        pytest.param(owner(deleting=False), id="owner alive"),
        pytest.param(owner(finalizers=None, deleting=True), id="owner deleted in the background"),
        pytest.param(owner(finalizers=["example.com/hold"]), id="owner held by someone else"),
    ],
)
def test_live_owner_needs_nothing(live_owner):
    """While the owner exists without a GC finalizer, its dependents are left alone."""
    assert plan_gc(live_owner, OWNER_UID, [obj("web-1", refs=[ref()])]).actions == ()


# ---------------------------------------------------------------------------------- foreground


@pytest.mark.parametrize(
    ("dependents", "has_dependents", "expected"),
    [
        pytest.param(
            [obj("web-1", refs=[ref()])],
            (),
            [("delete", "web-1")],
            id="blocking dependent: deleted, owner keeps its finalizer",
        ),
        pytest.param(
            [],
            (),
            [("patch", "web")],
            id="no dependents left: finalizer removed",
        ),
        pytest.param(
            [obj("web-1", refs=[ref(block=False)])],
            (),
            [("delete", "web-1"), ("patch", "web")],
            id="only non-blocking dependents: deleted, finalizer removed at once",
        ),
        pytest.param(
            [obj("web-1", kind="Pod", refs=[ref()], deleting=True)],
            (),
            [],
            id="blocking dependent still terminating: wait",
        ),
        pytest.param(
            [obj("web-1", refs=[ref()])],
            ("uid-web-1",),
            [("patch", "web-1"), ("delete", "web-1")],
            id="dependent with dependents: deleted in the foreground too",
        ),
        pytest.param(
            [obj("web-1", refs=[ref(), ref("uid-other")])],
            (),
            [("patch", "web-1"), ("patch", "web")],
            id="dependent with another live owner: released, finalizer removed",
        ),
    ],
)
def test_foreground_deletion(dependents, has_dependents, expected):
    """The owner waits for its blocking dependents, which are deleted first."""
    plan = plan_gc(
        owner(["foregroundDeletion"]), OWNER_UID, dependents, has_dependents=has_dependents
    )
    assert summary(plan) == expected


def test_foreground_finalizer_patch_keeps_other_finalizers():
    """Only foregroundDeletion goes; the patch is conditional on the owner's version."""
    plan = plan_gc(owner(["example.com/hold", "foregroundDeletion"]), OWNER_UID, [])
    (patch,) = plan.actions
    assert patch.merge_patch == {
        "metadata": {"uid": "uid-web", "resourceVersion": "11", "finalizers": ["example.com/hold"]}
    }


def test_last_finalizer_removed_as_null():
    """Removing the last finalizer removes the field."""
    (patch,) = plan_gc(owner(["foregroundDeletion"]), OWNER_UID, []).actions
    assert patch.merge_patch["metadata"]["finalizers"] is None


def test_foreground_dependent_gets_the_finalizer_before_its_delete():
    """Deleting a dependent in the foreground: add foregroundDeletion, then delete."""
    dependent = obj("web-1", refs=[ref()], finalizers=["example.com/keep"])
    plan = plan_gc(
        owner(["foregroundDeletion"]), OWNER_UID, [dependent], has_dependents={"uid-web-1"}
    )
    patch, delete = plan.actions
    assert patch.merge_patch["metadata"]["finalizers"] == ["example.com/keep", "foregroundDeletion"]
    assert delete == Delete("ReplicaSet", "default", "web-1", "uid-web-1")


# -------------------------------------------------------------------------------------- orphan


@pytest.mark.parametrize(
    ("dependents", "expected"),
    [
        pytest.param(
            [obj("web-1", refs=[ref()]), obj("web-2", refs=[ref(block=False)])],
            [("patch", "web-1"), ("patch", "web-2"), ("patch", "web")],
            id="every dependent orphaned, then the finalizer goes",
        ),
        pytest.param([], [("patch", "web")], id="no dependents: just the finalizer"),
    ],
)
def test_orphan_propagation(dependents, expected):
    """--cascade=orphan: dependents lose the reference and survive; the owner goes."""
    plan = plan_gc(owner(["orphan"]), OWNER_UID, dependents)
    assert summary(plan) == expected
    assert not plan.of_type(Delete)
    assert plan.actions[-1].merge_patch["metadata"]["finalizers"] is None


def test_orphaned_dependent_keeps_its_other_owners():
    """Orphaning removes only the deleted owner's reference."""
    other = ref("uid-other", block=False)
    plan = plan_gc(owner(["orphan"]), OWNER_UID, [obj("web-1", refs=[ref(), other])])
    assert plan.actions[0].merge_patch["metadata"]["ownerReferences"] == [other]
