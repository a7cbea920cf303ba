"""The node lifecycle planner: health, conditions, taints, pod marking, eviction. No database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cluster.controllers.actions import Delete, Event, Patch, UpdateStatus
from cluster.controllers.nodelifecycle import (
    NodeLifecycleConfig,
    effective_tolerations,
    eviction_deadline,
    plan_node_lifecycle,
)
from cluster.simclock import DEFAULT_EPOCH

CFG = NodeLifecycleConfig()
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"


def at(seconds: float) -> str:
    """The timestamp of simulated second ``seconds`` (the config's epoch is the clock's)."""
    return (DEFAULT_EPOCH + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(kind: str, status: str, since: float = 0, beat: float = 0) -> dict[str, Any]:
    return {
        "type": kind,
        "status": status,
        "lastHeartbeatTime": at(beat),
        "lastTransitionTime": at(since),
        "reason": f"Kubelet{kind}{status}",
        "message": "kubelet says so",
    }


def healthy(beat: float = 0) -> list[dict[str, Any]]:
    return [
        condition("MemoryPressure", "False", beat=beat),
        condition("DiskPressure", "False", beat=beat),
        condition("PIDPressure", "False", beat=beat),
        condition("Ready", "True", beat=beat),
    ]


def make_node(
    name: str = "worker-1",
    *,
    conditions: list[dict[str, Any]] | None = None,
    taints: list[dict[str, Any]] | None = None,
    unschedulable: bool = False,
) -> dict[str, Any]:
    node: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": f"uid-{name}",
            "resourceVersion": "42",
            "creationTimestamp": at(0),
        },
        "spec": {},
        "status": {"conditions": healthy() if conditions is None else conditions},
    }
    if taints:
        node["spec"]["taints"] = taints
    if unschedulable:
        node["spec"]["unschedulable"] = True
    return node


def with_ready(status: str, **kwargs: Any) -> dict[str, Any]:
    conditions = [c for c in healthy() if c["type"] != "Ready"] + [condition("Ready", status)]
    return make_node(conditions=conditions, **kwargs)


def unknown_node(since: float = 1000, **kwargs: Any) -> dict[str, Any]:
    """A node the controller already marked unreachable at ``since``."""
    conditions = [
        {**condition(kind, "Unknown", since=since), "reason": "NodeStatusUnknown"}
        for kind in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")
    ]
    taints = [
        {"key": UNREACHABLE, "effect": "NoSchedule", "timeAdded": at(since)},
        {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": at(since)},
    ]
    return make_node(conditions=conditions, taints=kwargs.pop("taints", taints), **kwargs)


def make_pod(
    name: str = "web-abc",
    *,
    node: str = "worker-1",
    tolerations: list[dict[str, Any]] | None = None,
    ready: str | None = "True",
    deleting: bool = False,
) -> dict[str, Any]:
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "resourceVersion": "7",
        },
        "spec": {"nodeName": node, "containers": [{"name": "main", "image": "nginx"}]},
        "status": {"phase": "Running", "conditions": []},
    }
    if tolerations is not None:
        pod["spec"]["tolerations"] = tolerations
    if ready is not None:
        pod["status"]["conditions"].append(
            {"type": "Ready", "status": ready, "lastTransitionTime": at(5), "lastProbeTime": None}
        )
    if deleting:
        pod["metadata"]["deletionTimestamp"] = at(900)
    return pod


def taint_pairs(plan) -> list[tuple[str, str]] | None:
    patches = [a for a in plan.of_type(Patch) if a.kind == "Node"]
    if not patches:
        return None
    taints = patches[0].merge_patch["spec"]["taints"] or []
    return [(t["key"], t["effect"]) for t in taints]


def node_status(plan) -> dict[str, Any] | None:
    updates = [a for a in plan.of_type(UpdateStatus) if a.kind == "Node"]
    return dict(updates[0].status) if updates else None


def deleted(plan) -> list[str]:
    return [a.name for a in plan.of_type(Delete)]


# ------------------------------------------------------------------------------------- health


@pytest.mark.parametrize(
    ("heartbeat", "now", "cfg", "goes_unknown", "requeue"),
    [
        pytest.param(100, 120, CFG, False, 31.0, id="fresh heartbeat: look again when grace ends"),
        pytest.param(100, 141, CFG, False, 10.0, id="41 s of silence is fine under 1.32's 50 s"),
        pytest.param(100, 150, CFG, False, 1.0, id="exactly at the grace period: still healthy"),
        pytest.param(100, 150.5, CFG, True, None, id="past the grace period: Unknown"),
        pytest.param(
            100,
            141,
            NodeLifecycleConfig(node_monitor_grace_period=40),
            True,
            None,
            id="a 40 s grace period (before 1.32) gives up sooner",
        ),
    ],
)
def test_node_goes_unknown_after_the_grace_period(heartbeat, now, cfg, goes_unknown, requeue):
    """A node is Unknown once now is after its last heartbeat plus the grace period."""
    plan = plan_node_lifecycle(make_node(), heartbeat, [], now, cfg)
    assert (node_status(plan) is not None) is goes_unknown
    if not goes_unknown:
        assert plan.actions == ()
        assert plan.requeue_after == requeue


def test_silent_node_conditions_say_kubelet_stopped_posting():
    """All four kubelet conditions turn Unknown with upstream's reason and message."""
    node = make_node(conditions=healthy(beat=100))
    plan = plan_node_lifecycle(node, 100, [], 200.7, CFG)
    conditions = {c["type"]: c for c in node_status(plan)["conditions"]}
    assert set(conditions) == {"MemoryPressure", "DiskPressure", "PIDPressure", "Ready"}
    for found in conditions.values():
        assert found["status"] == "Unknown"
        assert found["reason"] == "NodeStatusUnknown"
        assert found["message"] == "Kubelet stopped posting node status."
        assert found["lastHeartbeatTime"] == at(100)
        assert found["lastTransitionTime"] == at(200)
    update = plan.of_type(UpdateStatus)[0]
    assert update.resource_version == "42"


def test_network_unavailable_is_left_alone():
    """NetworkUnavailable belongs to the network plugin: it keeps its status."""
    conditions = healthy() + [condition("NetworkUnavailable", "False")]
    plan = plan_node_lifecycle(make_node(conditions=conditions), 0, [], 100, CFG)
    found = {c["type"]: c for c in node_status(plan)["conditions"]}
    assert found["NetworkUnavailable"]["status"] == "False"


@pytest.mark.parametrize(
    ("now", "written", "requeue"),
    [
        pytest.param(30, False, 31.0, id="within the 60 s startup grace: wait"),
        pytest.param(61, True, None, id="after the startup grace: never updated"),
    ],
)
def test_node_that_never_posted_status(now, written, requeue):
    """A node without conditions gets 60 s from creation, then NodeStatusNeverUpdated."""
    plan = plan_node_lifecycle(make_node(conditions=[]), None, [], now, CFG)
    status = node_status(plan)
    assert (status is not None) is written
    assert plan.requeue_after == requeue
    if written:
        for found in status["conditions"]:
            assert found["status"] == "Unknown"
            assert found["reason"] == "NodeStatusNeverUpdated"
            assert found["message"] == "Kubelet never posted node status."
            assert found["lastHeartbeatTime"] == at(0)
        assert [e.reason for e in plan.events] == []


def test_heartbeat_defaults_to_ready_condition_heartbeat():
    """Without a lease time, Ready's lastHeartbeatTime tells when the node last spoke."""
    node = make_node(conditions=healthy(beat=500))
    assert plan_node_lifecycle(node, None, [], 540, CFG).requeue_after == 11.0
    assert node_status(plan_node_lifecycle(node, None, [], 551, CFG)) is not None


@pytest.mark.parametrize(
    ("node", "event"),
    [
        pytest.param(make_node(), True, id="Ready True -> Unknown: NodeNotReady"),
        pytest.param(with_ready("False"), False, id="already not ready: no new event"),
    ],
)
def test_node_not_ready_event(node, event):
    """The controller reports NodeNotReady only when it takes Ready away from True."""
    plan = plan_node_lifecycle(node, 0, [], 100, CFG)
    reasons = [(e.reason, e.message) for e in plan.events if e.involved["kind"] == "Node"]
    expected = [("NodeNotReady", "Node worker-1 status is now: NodeNotReady")] if event else []
    assert reasons == expected


def test_already_unknown_node_is_not_rewritten():
    """A node whose conditions are all Unknown already needs no status write."""
    plan = plan_node_lifecycle(unknown_node(), 0, [], 1100, CFG)
    assert node_status(plan) is None


# -------------------------------------------------------------------------------------- taints


@pytest.mark.parametrize(
    ("node", "heartbeat", "expected"),
    [
        pytest.param(make_node(), 90, None, id="ready node: no taints, no patch"),
        pytest.param(
            make_node(),
            0,
            [(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")],
            id="silent node: unreachable NoSchedule and NoExecute",
        ),
        pytest.param(
            with_ready("False"),
            90,
            [(NOT_READY, "NoSchedule"), (NOT_READY, "NoExecute")],
            id="kubelet reports Ready=False: not-ready taints",
        ),
        pytest.param(
            with_ready(
                "False",
                taints=[
                    {"key": UNREACHABLE, "effect": "NoSchedule", "timeAdded": at(1)},
                    {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": at(1)},
                ],
            ),
            90,
            [(NOT_READY, "NoSchedule"), (NOT_READY, "NoExecute")],
            id="unreachable node back but not ready: taints swapped",
        ),
        pytest.param(
            make_node(
                taints=[
                    {"key": UNREACHABLE, "effect": "NoSchedule", "timeAdded": at(1)},
                    {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": at(1)},
                ]
            ),
            90,
            [],
            id="ready again: controller taints removed",
        ),
        pytest.param(
            make_node(
                conditions=[c for c in healthy() if c["type"] != "MemoryPressure"]
                + [condition("MemoryPressure", "True")]
            ),
            90,
            [("node.kubernetes.io/memory-pressure", "NoSchedule")],
            id="memory pressure: memory-pressure NoSchedule",
        ),
        pytest.param(
            make_node(unschedulable=True),
            90,
            [("node.kubernetes.io/unschedulable", "NoSchedule")],
            id="cordoned node: unschedulable taint",
        ),
        pytest.param(
            make_node(taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]),
            90,
            [],
            id="uncordoned node: unschedulable taint removed",
        ),
        pytest.param(
            make_node(taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
            0,
            [("dedicated", "NoSchedule"), (UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")],
            id="other taints are kept, first",
        ),
    ],
)
def test_taints_follow_conditions(node, heartbeat, expected):
    """Taints mirror Ready, the pressure conditions and cordoning; others' taints stay."""
    plan = plan_node_lifecycle(node, heartbeat, [], 100, CFG)
    assert taint_pairs(plan) == expected


def test_new_taints_get_time_added_and_kept_ones_keep_theirs():
    """timeAdded is stamped on taints the controller adds, and kept on taints it keeps."""
    node = with_ready(
        "False", taints=[{"key": NOT_READY, "effect": "NoExecute", "timeAdded": at(10)}]
    )
    plan = plan_node_lifecycle(node, 90, [], 100, CFG)
    taints = plan.of_type(Patch)[0].merge_patch["spec"]["taints"]
    assert taints == [
        {"key": NOT_READY, "effect": "NoExecute", "timeAdded": at(10)},
        {"key": NOT_READY, "effect": "NoSchedule", "timeAdded": at(100)},
    ]


def test_no_execute_taint_without_time_added_gets_one():
    """Someone else's NoExecute taint is stamped so tolerationSeconds can be counted."""
    node = make_node(taints=[{"key": "maintenance", "effect": "NoExecute"}])
    plan = plan_node_lifecycle(node, 90, [], 100, CFG)
    assert plan.of_type(Patch)[0].merge_patch["spec"]["taints"] == [
        {"key": "maintenance", "effect": "NoExecute", "timeAdded": at(100)}
    ]


@pytest.mark.parametrize(
    ("node", "heartbeat", "expected_meta"),
    [
        pytest.param(make_node(), 0, {"uid": "uid-worker-1"}, id="after a status write: uid only"),
        pytest.param(
            make_node(unschedulable=True),
            90,
            {"uid": "uid-worker-1", "resourceVersion": "42"},
            id="first write of the plan: uid and resourceVersion",
        ),
    ],
)
def test_taint_patch_preconditions(node, heartbeat, expected_meta):
    """The taint patch replaces the list, so it is conditional on the node it was planned from."""
    plan = plan_node_lifecycle(node, heartbeat, [], 100, CFG)
    patch = plan.of_type(Patch)[0]
    assert patch.merge_patch["metadata"] == expected_meta
    kinds = [type(a).__name__ for a in plan.actions]
    assert kinds == (["UpdateStatus", "Patch"] if heartbeat == 0 else ["Patch"])


# ------------------------------------------------------------------------------- pod readiness


@pytest.mark.parametrize(
    ("pod", "marked"),
    [
        pytest.param(make_pod(ready="True"), True, id="ready pod: marked not ready"),
        pytest.param(make_pod(ready="False"), False, id="already not ready: untouched"),
        pytest.param(make_pod(ready=None), False, id="no Ready condition: untouched"),
        pytest.param(make_pod(node="worker-2"), False, id="pod on another node: ignored"),
    ],
)
def test_pods_of_a_silent_node_are_marked_not_ready(pod, marked):
    """MarkPodsNotReady sets the Ready condition to False and records NodeNotReady."""
    plan = plan_node_lifecycle(make_node(), 0, [pod], 100, CFG)
    updates = [a for a in plan.of_type(UpdateStatus) if a.kind == "Pod"]
    assert bool(updates) is marked
    if marked:
        (update,) = updates
        ready = next(c for c in update.status["conditions"] if c["type"] == "Ready")
        assert ready == {
            "type": "Ready",
            "status": "False",
            "lastTransitionTime": at(100),
            "lastProbeTime": None,
        }
        assert update.resource_version == "7"
        assert [(e.type, e.reason, e.message) for e in update.on_success] == [
            ("Warning", "NodeNotReady", "Node is not ready")
        ]


@pytest.mark.parametrize(
    "node",
    [
        pytest.param(make_node(), id="ready node"),
        pytest.param(with_ready("False"), id="live kubelet reporting Ready=False"),
    ],
)
def test_pods_of_a_node_with_a_live_kubelet_are_left_alone(node):
    """While the kubelet posts status, pod readiness is the kubelet's business."""
    plan = plan_node_lifecycle(node, 90, [make_pod()], 100, CFG)
    assert not [a for a in plan.of_type(UpdateStatus) if a.kind == "Pod"]


# ------------------------------------------------------------------------------------ eviction


@pytest.mark.parametrize(
    ("tolerations", "now", "evicted", "requeue"),
    [
        pytest.param(None, 1299, False, 1.0, id="default toleration: 300 s, 1 s to go"),
        pytest.param(None, 1300, True, None, id="default toleration: gone at timeAdded + 300"),
        pytest.param(
            [
                {
                    "key": UNREACHABLE,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 60,
                }
            ],
            1060,
            True,
            None,
            id="tolerationSeconds 60: gone after a minute",
        ),
        pytest.param(
            [
                {
                    "key": UNREACHABLE,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 60,
                }
            ],
            1030,
            False,
            30.0,
            id="tolerationSeconds 60: half way",
        ),
        pytest.param(
            [{"key": UNREACHABLE, "operator": "Exists", "tolerationSeconds": 0}],
            1000,
            True,
            None,
            id="tolerationSeconds 0: at once",
        ),
        pytest.param(
            [{"key": UNREACHABLE, "operator": "Exists", "tolerationSeconds": -5}],
            1000,
            True,
            None,
            id="negative tolerationSeconds: at once",
        ),
        pytest.param(
            [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}],
            99999,
            False,
            None,
            id="toleration without seconds: stays forever",
        ),
        pytest.param(
            [{"operator": "Exists"}], 99999, False, None, id="tolerates everything: stays forever"
        ),
        pytest.param(
            [{"key": NOT_READY, "operator": "Exists", "effect": "NoExecute"}],
            1300,
            True,
            None,
            id="own not-ready toleration: unreachable still gets the default 300 s",
        ),
    ],
)
def test_taint_based_eviction_timing(tolerations, now, evicted, requeue):
    """Pods leave an unreachable node when their toleration runs out."""
    plan = plan_node_lifecycle(unknown_node(1000), 0, [make_pod(tolerations=tolerations)], now, CFG)
    assert deleted(plan) == (["web-abc"] if evicted else [])
    assert plan.requeue_after == requeue


@pytest.mark.parametrize(
    ("tolerations", "evicted"),
    [
        pytest.param(None, True, id="untolerated NoExecute taint: evicted at once"),
        pytest.param(
            [{"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoExecute"}],
            True,
            id="value differs: not tolerated",
        ),
        pytest.param(
            [{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoExecute"}],
            False,
            id="matching key and value: stays",
        ),
        pytest.param(
            [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
            True,
            id="other effect: not tolerated",
        ),
    ],
)
def test_untolerated_no_execute_taint_evicts_at_once(tolerations, evicted):
    """A NoExecute taint a pod does not tolerate removes it immediately."""
    taints = [{"key": "dedicated", "value": "db", "effect": "NoExecute", "timeAdded": at(90)}]
    plan = plan_node_lifecycle(
        make_node(taints=taints), 90, [make_pod(tolerations=tolerations)], 100, CFG
    )
    assert deleted(plan) == (["web-abc"] if evicted else [])


def test_eviction_event_condition_then_delete():
    """Eviction records TaintManagerEviction, marks DisruptionTarget, then deletes by uid."""
    plan = plan_node_lifecycle(unknown_node(1000), 0, [make_pod()], 1300, CFG)
    event, status, delete = plan.actions[-3:]
    assert isinstance(event, Event)
    assert (event.type, event.reason, event.message) == (
        "Normal",
        "TaintManagerEviction",
        "Marking for deletion Pod default/web-abc",
    )
    assert isinstance(status, UpdateStatus) and status.kind == "Pod"
    target = next(c for c in status.status["conditions"] if c["type"] == "DisruptionTarget")
    assert target == {
        "type": "DisruptionTarget",
        "status": "True",
        "reason": "DeletionByTaintManager",
        "message": "Taint manager: deleting due to NoExecute taint",
        "lastTransitionTime": at(1300),
    }
    assert delete == Delete("Pod", "default", "web-abc", "uid-web-abc")


def test_terminating_pods_are_not_evicted_again():
    """A pod already being deleted is not deleted twice."""
    plan = plan_node_lifecycle(unknown_node(1000), 0, [make_pod(deleting=True)], 1300, CFG)
    assert deleted(plan) == []


def test_silent_node_first_pass():
    """Going silent: status, taints, pods not ready, then wait 300 s for the evictions."""
    pods = [make_pod("web-abc"), make_pod("web-def")]
    plan = plan_node_lifecycle(make_node(), 0, pods, 100, CFG)
    kinds = [(type(a).__name__, getattr(a, "kind", "")) for a in plan.actions]
    assert kinds == [
        ("UpdateStatus", "Node"),
        ("Patch", "Node"),
        ("UpdateStatus", "Pod"),
        ("UpdateStatus", "Pod"),
    ]
    assert plan.requeue_after == 300.0


def test_ready_again_cancels_pending_evictions():
    """Removing the unreachable taints in time records 'Cancelling deletion' for waiting pods."""
    back = make_node(
        taints=[
            {"key": UNREACHABLE, "effect": "NoSchedule", "timeAdded": at(1000)},
            {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": at(1000)},
        ]
    )
    forever = make_pod("agent", tolerations=[{"operator": "Exists"}])
    plan = plan_node_lifecycle(back, 1100, [make_pod(), forever], 1100, CFG)
    (patch,) = plan.of_type(Patch)
    assert patch.merge_patch["spec"]["taints"] is None
    assert [(e.reason, e.message) for e in patch.on_success] == [
        ("TaintManagerEviction", "Cancelling deletion of Pod default/web-abc")
    ]


# ------------------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("tolerations", "added"),
    [
        pytest.param(None, [NOT_READY, UNREACHABLE], id="no tolerations: both defaults"),
        pytest.param(
            [{"key": NOT_READY, "operator": "Exists"}],
            [UNREACHABLE],
            id="not-ready tolerated for any effect: only unreachable added",
        ),
        pytest.param(
            [{"key": NOT_READY, "operator": "Exists", "effect": "NoSchedule"}],
            [NOT_READY, UNREACHABLE],
            id="NoSchedule toleration does not count",
        ),
        pytest.param([{"operator": "Exists"}], [], id="tolerates everything: nothing added"),
    ],
)
def test_default_toleration_seconds_admission(tolerations, added):
    """Missing not-ready/unreachable NoExecute tolerations are added with 300 s."""
    result = effective_tolerations(make_pod(tolerations=tolerations), CFG)
    defaults = [t for t in result if t.get("tolerationSeconds") == 300]
    assert [t["key"] for t in defaults] == added
    assert all(t["operator"] == "Exists" and t["effect"] == "NoExecute" for t in defaults)


def test_eviction_deadline_takes_first_matching_toleration_per_taint():
    """Per taint the first matching toleration counts; the earliest taint deadline wins."""
    tolerations = [
        {"key": "a", "operator": "Exists", "tolerationSeconds": 100},
        {"operator": "Exists"},
    ]
    taints = [{"key": "a", "effect": "NoExecute"}, {"key": "b", "effect": "NoExecute"}]
    # a: 50 + 100 = 150; b: tolerated forever by the catch-all.
    assert eviction_deadline(tolerations, taints, {0: 50.0, 1: 10.0}) == 150.0
    assert eviction_deadline([{"operator": "Exists"}], taints, {0: 0.0, 1: 0.0}) is None
