"""The PersistentVolume binder planner: matching, binding, provisioning, reclaiming."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cluster.controllers.actions import Create, Delete, Event, Patch, UpdateStatus
from cluster.controllers.pvbinder import default_storage_class, plan_pv_binder

T0 = dt.datetime(2025, 1, 1, 10, 0, 0, tzinfo=dt.UTC)
NOW = T0 + dt.timedelta(hours=1)
NOW_STAMP = "2025-01-01T11:00:00Z"
RWO, RWX, ROX = "ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"
UNSET = object()


def at(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_pvc(
    name: str = "data",
    *,
    size: str = "1Gi",
    modes: tuple[str, ...] = (RWO,),
    class_name: Any = "",
    volume_name: str | None = None,
    bound: bool = False,
    annotations: dict[str, str] | None = None,
    phase: str = "Pending",
    created: float = 0,
    selector: dict[str, Any] | None = None,
    volume_mode: str | None = None,
    uid: str | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    annotations = dict(annotations or {})
    if bound:
        annotations["pv.kubernetes.io/bind-completed"] = "yes"
    spec: dict[str, Any] = {
        "accessModes": list(modes),
        "resources": {"requests": {"storage": size}},
    }
    if class_name is not UNSET:
        spec["storageClassName"] = class_name
    if volume_name:
        spec["volumeName"] = volume_name
    if selector is not None:
        spec["selector"] = selector
    if volume_mode:
        spec["volumeMode"] = volume_mode
    pvc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": uid or f"uid-{name}",
            "resourceVersion": "21",
            "creationTimestamp": at(created),
            "annotations": annotations,
        },
        "spec": spec,
        "status": {"phase": phase},
    }
    if deleting:
        pvc["metadata"]["deletionTimestamp"] = at(5)
    return pvc


def claim_ref(name: str = "data", uid: str | None = "uid-data") -> dict[str, Any]:
    ref = {"kind": "PersistentVolumeClaim", "namespace": "default", "name": name}
    if uid:
        ref["uid"] = uid
    return ref


def make_pv(
    name: str,
    *,
    size: str = "1Gi",
    modes: tuple[str, ...] = (RWO,),
    class_name: str = "",
    claim: dict[str, Any] | None = None,
    phase: str = "Available",
    policy: str = "Retain",
    annotations: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    volume_mode: str | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "capacity": {"storage": size},
        "accessModes": list(modes),
        "persistentVolumeReclaimPolicy": policy,
        "hostPath": {"path": f"/data/{name}"},
    }
    if class_name:
        spec["storageClassName"] = class_name
    if claim:
        spec["claimRef"] = claim
    if volume_mode:
        spec["volumeMode"] = volume_mode
    pv: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": name,
            "uid": f"uid-{name}",
            "resourceVersion": "31",
            "annotations": dict(annotations or {}),
            "labels": dict(labels or {}),
        },
        "spec": spec,
        "status": {"phase": phase},
    }
    if deleting:
        pv["metadata"]["deletionTimestamp"] = at(5)
    return pv


def make_class(
    name: str = "standard",
    *,
    provisioner: str = "kubarium.io/simulated",
    default: bool = False,
    binding: str = "Immediate",
    reclaim: str = "Delete",
    created: float = 0,
) -> dict[str, Any]:
    annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "annotations": annotations, "creationTimestamp": at(created)},
        "provisioner": provisioner,
        "reclaimPolicy": reclaim,
        "volumeBindingMode": binding,
    }


def make_pod(name: str, claim: str = "data", node: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [{"name": "main", "image": "postgres"}],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
    }
    if node:
        spec["nodeName"] = node
    return {"kind": "Pod", "metadata": {"name": name, "namespace": "default"}, "spec": spec}


def bound_volume(plan, claim: str = "data") -> str | None:
    """The volumeName the plan writes onto the claim, if any."""
    for action in plan.of_type(Patch):
        if action.kind == "PersistentVolumeClaim" and action.name == claim:
            name = (action.merge_patch.get("spec") or {}).get("volumeName")
            if name:
                return name
    return None


def events(plan) -> list[tuple[str, str, str]]:
    return [(e.type, e.reason, e.message) for e in plan.events]


# ------------------------------------------------------------------------------------- matching


@pytest.mark.parametrize(
    ("claim", "volumes", "expected"),
    [
        pytest.param(
            make_pvc(size="3Gi"),
            [
                make_pv("pv-10g", size="10Gi"),
                make_pv("pv-4g", size="4Gi"),
                make_pv("pv-2g", size="2Gi"),
            ],
            "pv-4g",
            id="smallest volume that fits",
        ),
        pytest.param(
            make_pvc(size="3Gi"),
            [make_pv("pv-5g-rwx", size="5Gi", modes=(RWO, RWX)), make_pv("pv-10g", size="10Gi")],
            "pv-10g",
            id="fewest access modes before size",
        ),
        pytest.param(
            make_pvc(size="3Gi", modes=(RWX,)),
            [make_pv("pv-rwo", size="5Gi"), make_pv("pv-rwx", size="8Gi", modes=(RWO, RWX))],
            "pv-rwx",
            id="every requested access mode must be offered",
        ),
        pytest.param(
            make_pvc(size="1Gi", class_name="fast"),
            [make_pv("pv-plain"), make_pv("pv-fast", size="2Gi", class_name="fast")],
            "pv-fast",
            id="same storage class only",
        ),
        pytest.param(
            make_pvc(size="1500Mi"),
            [make_pv("pv-1g", size="1Gi"), make_pv("pv-2g", size="2Gi")],
            "pv-2g",
            id="quantities compared by value",
        ),
        pytest.param(
            make_pvc(selector={"matchLabels": {"tier": "db"}}),
            [make_pv("pv-a"), make_pv("pv-b", size="5Gi", labels={"tier": "db"})],
            "pv-b",
            id="the claim's selector narrows the choice",
        ),
        pytest.param(
            make_pvc(volume_mode="Block"),
            [make_pv("pv-fs"), make_pv("pv-block", size="2Gi", volume_mode="Block")],
            "pv-block",
            id="volume modes must agree",
        ),
        pytest.param(
            make_pvc(),
            [
                make_pv("pv-released", phase="Released", claim=claim_ref("old", "uid-old")),
                make_pv("pv-other", claim=claim_ref("other", None)),
                make_pv("pv-deleting", deleting=True),
                make_pv("pv-free", size="9Gi"),
            ],
            "pv-free",
            id="claimed, released and deleting volumes are skipped",
        ),
        pytest.param(
            make_pvc(),
            [make_pv("pv-small"), make_pv("pv-reserved", size="9Gi", claim=claim_ref(uid=None))],
            "pv-reserved",
            id="a volume pre-bound to the claim wins",
        ),
        pytest.param(
            make_pvc(),
            [make_pv("pv-new", phase="Pending")],
            "pv-new",
            id="a new volume counts as available",
        ),
        pytest.param(make_pvc(size="5Gi"), [make_pv("pv-1g")], None, id="nothing big enough"),
    ],
)
def test_best_match(claim, volumes, expected):
    """A pending claim binds the best matching volume, as FindMatchingVolume picks it."""
    plan = plan_pv_binder([claim], volumes, [], NOW)
    assert bound_volume(plan) == expected


def test_bind_writes_both_sides_in_upstream_order():
    """Volume claimRef, volume Bound, claim volumeName and annotations, claim Bound."""
    plan = plan_pv_binder([make_pvc(size="1Gi")], [make_pv("pv-1", size="2Gi")], [], NOW)
    pv_patch, pv_status, pvc_patch, pvc_status = plan.actions
    assert pv_patch == Patch(
        "PersistentVolume",
        "",
        "pv-1",
        {
            "metadata": {
                "uid": "uid-pv-1",
                "resourceVersion": "31",
                "annotations": {"pv.kubernetes.io/bound-by-controller": "yes"},
            },
            "spec": {
                "claimRef": {
                    "kind": "PersistentVolumeClaim",
                    "namespace": "default",
                    "name": "data",
                    "uid": "uid-data",
                    "apiVersion": "v1",
                    "resourceVersion": "21",
                }
            },
        },
    )
    assert pv_status == UpdateStatus(
        "PersistentVolume", "", "pv-1", {"phase": "Bound", "lastPhaseTransitionTime": NOW_STAMP}
    )
    assert pvc_patch.merge_patch == {
        "metadata": {
            "uid": "uid-data",
            "resourceVersion": "21",
            "annotations": {
                "pv.kubernetes.io/bound-by-controller": "yes",
                "pv.kubernetes.io/bind-completed": "yes",
            },
        },
        "spec": {"volumeName": "pv-1"},
    }
    assert pvc_status == UpdateStatus(
        "PersistentVolumeClaim",
        "default",
        "data",
        {"phase": "Bound", "accessModes": [RWO], "capacity": {"storage": "2Gi"}},
    )


def test_one_volume_goes_to_the_oldest_claim():
    """Two claims cannot get the same volume; the older one wins it."""
    claims = [make_pvc("late", created=60), make_pvc("early", created=0)]
    plan = plan_pv_binder(claims, [make_pv("pv-1")], [], NOW)
    assert bound_volume(plan, "early") == "pv-1"
    assert bound_volume(plan, "late") is None
    assert (
        "Normal",
        "FailedBinding",
        "no persistent volumes available for this claim and no storage class is set",
    ) in events(plan)


def test_fully_bound_pair_needs_nothing():
    """Binding is idempotent: a complete binding plans no writes."""
    claim = make_pvc(volume_name="pv-1", bound=True, phase="Bound")
    claim["status"].update({"accessModes": [RWO], "capacity": {"storage": "1Gi"}})
    volume = make_pv("pv-1", claim=claim_ref(), phase="Bound")
    assert plan_pv_binder([claim], [volume], [], NOW).actions == ()


def test_half_done_binding_is_finished():
    """A volume already pointing at the claim only needs the claim side and statuses."""
    volume = make_pv(
        "pv-1",
        claim=claim_ref(),
        phase="Available",
        annotations={"pv.kubernetes.io/bound-by-controller": "yes"},
    )
    plan = plan_pv_binder([make_pvc()], [volume], [], NOW)
    assert [(type(a).__name__, a.kind) for a in plan.actions] == [
        ("UpdateStatus", "PersistentVolume"),
        ("Patch", "PersistentVolumeClaim"),
        ("UpdateStatus", "PersistentVolumeClaim"),
    ]


# ---------------------------------------------------------------------------------- provisioning


def test_default_class_provisions_and_binds():
    """A claim without a class gets the default class, a new volume, and is bound to it."""
    claim = make_pvc(size="2Gi", class_name=UNSET)
    plan = plan_pv_binder([claim], [], [make_class(default=True, reclaim="Retain")], NOW)
    create, pv_status, pvc_patch, pvc_status = plan.actions
    assert isinstance(create, Create)
    assert create.obj == {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": "pvc-uid-data",
            "annotations": {
                "pv.kubernetes.io/provisioned-by": "kubarium.io/simulated",
                "pv.kubernetes.io/bound-by-controller": "yes",
            },
        },
        "spec": {
            "capacity": {"storage": "2Gi"},
            "accessModes": [RWO],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "standard",
            "volumeMode": "Filesystem",
            "hostPath": {"path": "/var/lib/kubarium/pv/pvc-uid-data"},
            "claimRef": {
                "kind": "PersistentVolumeClaim",
                "namespace": "default",
                "name": "data",
                "uid": "uid-data",
                "apiVersion": "v1",
                "resourceVersion": "21",
            },
        },
    }
    assert [(e.type, e.reason, e.message) for e in create.on_success] == [
        (
            "Normal",
            "ProvisioningSucceeded",
            "Successfully provisioned volume pvc-uid-data using kubarium.io/simulated",
        )
    ]
    assert pv_status.name == "pvc-uid-data" and pv_status.status["phase"] == "Bound"
    assert pvc_patch.merge_patch["spec"] == {
        "storageClassName": "standard",
        "volumeName": "pvc-uid-data",
    }
    assert pvc_patch.merge_patch["metadata"]["annotations"] == {
        "volume.kubernetes.io/storage-provisioner": "kubarium.io/simulated",
        "volume.beta.kubernetes.io/storage-provisioner": "kubarium.io/simulated",
        "pv.kubernetes.io/bound-by-controller": "yes",
        "pv.kubernetes.io/bind-completed": "yes",
    }
    assert pvc_status.status["capacity"] == {"storage": "2Gi"}


@pytest.mark.parametrize(
    ("claim", "classes", "expected"),
    [
        pytest.param(
            make_pvc(class_name=UNSET),
            [],
            (
                "Normal",
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
            ),
            id="no class and no default: FailedBinding",
        ),
        pytest.param(
            make_pvc(class_name=""),
            [make_class(default=True)],
            (
                "Normal",
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
            ),
            id="explicit empty class: no provisioning",
        ),
        pytest.param(
            make_pvc(class_name="fast"),
            [make_class()],
            ("Warning", "ProvisioningFailed", 'storageclass.storage.k8s.io "fast" not found'),
            id="unknown class: ProvisioningFailed",
        ),
        pytest.param(
            make_pvc(class_name="local"),
            [make_class("local", provisioner="kubernetes.io/no-provisioner")],
            (
                "Normal",
                "ExternalProvisioning",
                "Waiting for a volume to be created either by the external provisioner "
                "'kubernetes.io/no-provisioner' or manually by the system administrator. If volume "
                "creation is delayed, please verify that the provisioner is running and correctly "
                "registered.",
            ),
            id="no-provisioner: waits for an administrator",
        ),
    ],
)
def test_claims_that_cannot_be_provisioned(claim, classes, expected):
    """Without a usable provisioner the claim stays Pending and says why."""
    plan = plan_pv_binder([claim], [], classes, NOW)
    assert not plan.of_type(Create)
    assert expected in events(plan)


@pytest.mark.parametrize(
    ("claim", "pods", "expected_event", "node"),
    [
        pytest.param(
            make_pvc(class_name="local"),
            [],
            ("WaitForFirstConsumer", "waiting for first consumer to be created before binding"),
            None,
            id="no consumer yet: wait",
        ),
        pytest.param(
            make_pvc(class_name="local"),
            [make_pod("db-0")],
            ("WaitForPodScheduled", "waiting for pod db-0 to be scheduled"),
            None,
            id="consumer not scheduled: wait for it",
        ),
        pytest.param(
            make_pvc(class_name="local"),
            [make_pod("db-0"), make_pod("db-1")],
            ("WaitForPodScheduled", "waiting for pods db-0,db-1 to be scheduled"),
            None,
            id="several consumers not scheduled",
        ),
        pytest.param(
            make_pvc(class_name="local"),
            [make_pod("db-0", node="worker-2")],
            None,
            "worker-2",
            id="consumer scheduled: a free volume is bound",
        ),
        pytest.param(
            make_pvc(
                class_name="local",
                annotations={"volume.kubernetes.io/selected-node": "worker-3"},
            ),
            [],
            None,
            "worker-3",
            id="selected-node annotation: a free volume is bound",
        ),
    ],
)
def test_wait_for_first_consumer(claim, pods, expected_event, node):
    """WaitForFirstConsumer claims wait until their consumer's node is known, then bind."""
    classes = [make_class("local", binding="WaitForFirstConsumer")]
    plan = plan_pv_binder(
        [claim], [make_pv("pv-free", class_name="local")], classes, NOW, pods=pods
    )
    if expected_event:
        assert not plan.of_type(Create) and bound_volume(plan) is None
        assert ("Normal", *expected_event) in events(plan)
        return
    assert bound_volume(plan) == "pv-free"
    # A node learnt from a scheduled pod is written down, as the scheduler would; an
    # annotation already there is not rewritten.
    patch = next(a for a in plan.of_type(Patch) if a.kind == "PersistentVolumeClaim")
    written = patch.merge_patch["metadata"]["annotations"].get("volume.kubernetes.io/selected-node")
    assert written == (node if pods else None)


def test_wait_for_first_consumer_provisions_with_node_affinity():
    """A provisioned volume for a scheduled consumer is pinned to that node."""
    classes = [make_class("local", binding="WaitForFirstConsumer")]
    plan = plan_pv_binder(
        [make_pvc(class_name="local")], [], classes, NOW, pods=[make_pod("db-0", node="worker-2")]
    )
    (create,) = plan.of_type(Create)
    terms = create.obj["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert terms == [
        {
            "matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": ["worker-2"]}
            ]
        }
    ]
    pvc_patch = next(a for a in plan.of_type(Patch) if a.kind == "PersistentVolumeClaim")
    assert pvc_patch.merge_patch["metadata"]["annotations"][
        "volume.kubernetes.io/selected-node"
    ] == ("worker-2")


def test_newest_default_class_wins():
    """With several default classes the newest one is the default."""
    classes = [
        make_class("old", default=True, created=0),
        make_class("new", default=True, created=60),
        make_class("plain", created=120),
    ]
    assert default_storage_class(classes)["metadata"]["name"] == "new"


# ------------------------------------------------------------------------------- requested volume


@pytest.mark.parametrize(
    ("volume", "bound", "expected_event"),
    [
        pytest.param(make_pv("pv-1", size="2Gi"), True, None, id="free and big enough: bound"),
        pytest.param(
            make_pv("pv-1", size="512Mi"),
            False,
            (
                "Warning",
                "VolumeMismatch",
                'Cannot bind to requested volume "pv-1": requested PV is too small',
            ),
            id="too small: VolumeMismatch",
        ),
        pytest.param(
            make_pv("pv-1", claim=claim_ref("other", "uid-other"), phase="Bound"),
            False,
            ("Warning", "FailedBinding", 'volume "pv-1" already bound to a different claim.'),
            id="claimed by another: FailedBinding",
        ),
    ],
)
def test_claim_asking_for_a_volume(volume, bound, expected_event):
    """spec.volumeName: bind to that volume if it can serve the claim."""
    claim = make_pvc(volume_name="pv-1")
    plan = plan_pv_binder([claim], [volume], [], NOW)
    claim_patches = [a for a in plan.of_type(Patch) if a.kind == "PersistentVolumeClaim"]
    assert bool(claim_patches) is bound
    if expected_event:
        assert expected_event in events(plan)


def test_deleting_claim_is_not_bound():
    """A claim being deleted does not take a volume."""
    plan = plan_pv_binder([make_pvc(deleting=True)], [make_pv("pv-1")], [], NOW)
    assert bound_volume(plan) is None


# ------------------------------------------------------------------------------------ lost claims


@pytest.mark.parametrize(
    ("volumes", "reason", "message"),
    [
        pytest.param(
            [],
            "ClaimLost",
            "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
            id="volume gone",
        ),
        pytest.param(
            [make_pv("pv-1", claim=claim_ref("other", "uid-other"), phase="Bound")],
            "ClaimMisbound",
            "Two claims are bound to the same volume, this one is bound incorrectly",
            id="volume bound to another claim",
        ),
    ],
)
def test_bound_claim_loses_its_volume(volumes, reason, message):
    """A bound claim whose volume is gone or taken becomes Lost, with a Warning."""
    claim = make_pvc(volume_name="pv-1", bound=True, phase="Bound")
    claim["status"].update({"accessModes": [RWO], "capacity": {"storage": "1Gi"}})
    plan = plan_pv_binder([claim], volumes, [], NOW)
    updates = [a for a in plan.of_type(UpdateStatus) if a.kind == "PersistentVolumeClaim"]
    assert updates[0].status == {"phase": "Lost"}
    assert [(e.type, e.reason, e.message) for e in updates[0].on_success] == [
        ("Warning", reason, message)
    ]


# ---------------------------------------------------------------------------------------- volumes


@pytest.mark.parametrize(
    ("volume", "claims", "expected"),
    [
        pytest.param(
            make_pv("pv-1", phase="Pending"),
            [],
            [("status", "Available")],
            id="new volume: Available",
        ),
        pytest.param(
            make_pv("pv-1", phase="Pending", claim=claim_ref("future", None)),
            [],
            [("status", "Available")],
            id="pre-bound to a claim not yet created: Available",
        ),
        pytest.param(
            make_pv("pv-1", phase="Bound", claim=claim_ref(), policy="Delete"),
            [],
            [("status", "Released"), ("delete", "pv-1")],
            id="claim gone, Delete: released and deleted",
        ),
        pytest.param(
            make_pv("pv-1", phase="Bound", claim=claim_ref(), policy="Retain"),
            [],
            [("status", "Released")],
            id="claim gone, Retain: released and kept",
        ),
        pytest.param(
            make_pv("pv-1", phase="Released", claim=claim_ref(), policy="Retain"),
            [],
            [],
            id="already released and retained: nothing",
        ),
        pytest.param(
            make_pv("pv-1", phase="Bound", claim=claim_ref(), policy="Retain"),
            [make_pvc(uid="uid-new", class_name="gold")],
            [("status", "Released")],
            id="claim recreated with another uid: released",
        ),
        pytest.param(
            make_pv(
                "pv-1",
                phase="Bound",
                claim=claim_ref(),
                policy="Recycle",
                annotations={"pv.kubernetes.io/bound-by-controller": "yes"},
            ),
            [],
            [
                ("status", "Released"),
                ("event", "VolumeRecycled"),
                ("patch", "pv-1"),
                ("status", "Available"),
            ],
            id="claim gone, Recycle: scrubbed and available again",
        ),
        pytest.param(
            make_pv("pv-1", phase="Bound", claim=claim_ref(), policy="Shred"),
            [],
            [("status", "Released"), ("status", "Failed"), ("event", "VolumeUnknownReclaimPolicy")],
            id="unknown reclaim policy: Failed",
        ),
    ],
)
def test_volume_phases_and_reclaim(volume, claims, expected):
    """Volumes follow their claims; released volumes are reclaimed by their policy."""
    plan = plan_pv_binder(claims, [volume], [], NOW)
    found = []
    for action in plan.actions:
        if isinstance(action, UpdateStatus) and action.kind == "PersistentVolume":
            found.append(("status", action.status["phase"]))
        elif isinstance(action, Delete):
            found.append(("delete", action.name))
        elif isinstance(action, Patch) and action.kind == "PersistentVolume":
            found.append(("patch", action.name))
        elif isinstance(action, Event) and action.involved["kind"] == "PersistentVolume":
            found.append(("event", action.reason))
    assert found == expected


def test_recycled_volume_forgets_its_claim():
    """Recycling drops the controller-made claimRef and the bound-by-controller annotation."""
    volume = make_pv(
        "pv-1",
        phase="Released",
        claim=claim_ref(),
        policy="Recycle",
        annotations={"pv.kubernetes.io/bound-by-controller": "yes"},
    )
    (patch,) = plan_pv_binder([], [volume], [], NOW).of_type(Patch)
    assert patch.merge_patch == {
        "metadata": {
            "uid": "uid-pv-1",
            "resourceVersion": "31",
            "annotations": {"pv.kubernetes.io/bound-by-controller": None},
        },
        "spec": {"claimRef": None},
    }
