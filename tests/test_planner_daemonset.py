"""The DaemonSet planner: eligible nodes, pinned pods, cleanup, rolling updates, status."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from typing import Any

import pytest

from cluster.controllers.actions import Create, Delete, Event, Plan, UpdateStatus
from cluster.controllers.daemonset import (
    daemon_pod_template,
    node_should_run_daemon_pod,
    plan_daemonset,
    target_node_name,
)
from cluster.controllers.podutil import compute_hash, is_pod_available, is_terminating

T0 = dt.datetime(2025, 1, 1, 10, 0, 0, tzinfo=dt.UTC)
NOW = T0 + dt.timedelta(hours=1)


def stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_node(name: str, *, labels: dict[str, str] | None = None, taints: list | None = None):
    node: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {},
    }
    if taints:
        node["spec"]["taints"] = [
            {"key": key, "value": value, "effect": effect} for key, value, effect in taints
        ]
    return node


def make_ds(
    *,
    image: str = "fluentd:1",
    node_selector: dict[str, str] | None = None,
    tolerations: list[dict[str, Any]] | None = None,
    max_unavailable: int | str | None = None,
    max_surge: int | str | None = None,
    on_delete: bool = False,
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    pod_spec: dict[str, Any] = {"containers": [{"name": "agent", "image": image}]}
    if node_selector:
        pod_spec["nodeSelector"] = node_selector
    if tolerations:
        pod_spec["tolerations"] = tolerations
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "logs"}},
        "template": {"metadata": {"labels": {"app": "logs"}}, "spec": pod_spec},
    }
    if on_delete:
        spec["updateStrategy"] = {"type": "OnDelete"}
    else:
        rolling: dict[str, Any] = {}
        if max_unavailable is not None:
            rolling["maxUnavailable"] = max_unavailable
        if max_surge is not None:
            rolling["maxSurge"] = max_surge
        spec["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": rolling}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": "logs",
            "namespace": "kube-system",
            "uid": "uid-logs",
            "generation": 1,
            "resourceVersion": "3",
        },
        "spec": spec,
        "status": status or {},
    }


_names = itertools.count()


def make_pod(
    ds: dict[str, Any],
    node: str,
    *,
    state: str = "ready",
    created: int = 0,
    scheduled: bool = True,
    deleting: bool = False,
) -> dict[str, Any]:
    hash_ = compute_hash(ds["spec"]["template"])
    template = daemon_pod_template(ds, hash_)
    name = f"logs-{next(_names)}"
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "kube-system",
            "uid": f"uid-{name}",
            "creationTimestamp": stamp(T0 + dt.timedelta(seconds=created)),
            "labels": template["metadata"]["labels"],
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "DaemonSet",
                    "name": "logs",
                    "uid": "uid-logs",
                    "controller": True,
                }
            ],
        },
        "spec": {
            **copy.deepcopy(template["spec"]),
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchFields": [
                                    {"key": "metadata.name", "operator": "In", "values": [node]}
                                ]
                            }
                        ]
                    }
                }
            },
        },
        "status": {
            "phase": {
                "ready": "Running",
                "running": "Running",
                "failed": "Failed",
                "pending": "Pending",
            }[state]
        },
    }
    if scheduled:
        pod["spec"]["nodeName"] = node
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


def created_on(plan: Plan) -> list[str | None]:
    return [target_node_name(c.obj) for c in plan.of_type(Create)]


def deleted(plan: Plan) -> list[str]:
    return [d.name for d in plan.of_type(Delete)]


# ---------------------------------------------------------------------------- eligibility


@pytest.mark.parametrize(
    ("ds", "node", "expected"),
    [
        pytest.param(make_ds(), make_node("n1"), (True, True), id="plain node runs it"),
        pytest.param(
            make_ds(node_selector={"disk": "ssd"}),
            make_node("n1"),
            (False, False),
            id="nodeSelector not matched",
        ),
        pytest.param(
            make_ds(node_selector={"disk": "ssd"}),
            make_node("n1", labels={"disk": "ssd"}),
            (True, True),
            id="nodeSelector matched",
        ),
        pytest.param(
            make_ds(),
            make_node("cp", taints=[("node-role.kubernetes.io/control-plane", "", "NoSchedule")]),
            (False, True),
            id="untolerated NoSchedule: not placed, but may keep running",
        ),
        pytest.param(
            make_ds(),
            make_node("n1", taints=[("dedicated", "gpu", "NoExecute")]),
            (False, False),
            id="untolerated NoExecute: must go",
        ),
        pytest.param(
            make_ds(
                tolerations=[
                    {
                        "key": "node-role.kubernetes.io/control-plane",
                        "operator": "Exists",
                        "effect": "NoSchedule",
                    }
                ]
            ),
            make_node("cp", taints=[("node-role.kubernetes.io/control-plane", "", "NoSchedule")]),
            (True, True),
            id="tolerated taint",
        ),
        pytest.param(
            make_ds(),
            make_node("n1", taints=[("node.kubernetes.io/unschedulable", "", "NoSchedule")]),
            (True, True),
            id="cordoned nodes still get daemon pods",
        ),
        pytest.param(
            make_ds(),
            make_node("n1", taints=[("node.kubernetes.io/not-ready", "", "NoExecute")]),
            (True, True),
            id="not-ready nodes are tolerated",
        ),
        pytest.param(
            make_ds(),
            make_node("n1", taints=[("dedicated", "gpu", "PreferNoSchedule")]),
            (True, True),
            id="PreferNoSchedule does not matter",
        ),
    ],
)
def test_node_should_run_daemon_pod(ds, node, expected):
    """Eligibility follows nodeSelector, affinity, taints and the daemon tolerations."""
    assert node_should_run_daemon_pod(node, ds) == expected


def test_required_node_affinity_is_honoured():
    """Required node affinity terms pick the nodes."""
    ds = make_ds()
    ds["spec"]["template"]["spec"]["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}
                ]
            }
        }
    }
    nodes = [make_node("n1", labels={"zone": "a"}), make_node("n2", labels={"zone": "c"})]
    assert created_on(plan_daemonset(ds, nodes, [], NOW)) == ["n1"]


def test_template_node_name_restricts_to_that_node():
    """A template nodeName only matches that node."""
    ds = make_ds()
    ds["spec"]["template"]["spec"]["nodeName"] = "n2"
    assert created_on(plan_daemonset(ds, [make_node("n1"), make_node("n2")], [], NOW)) == ["n2"]


# ------------------------------------------------------------------------------- placement


def test_one_pinned_pod_per_eligible_node():
    """Each eligible node gets one pod, pinned by matchFields metadata.name, with tolerations."""
    ds = make_ds()
    nodes = [make_node("n2"), make_node("n1"), make_node("cp", taints=[("x", "", "NoSchedule")])]
    plan = plan_daemonset(ds, nodes, [], NOW)
    assert created_on(plan) == ["n1", "n2"]
    pod = plan.of_type(Create)[0].obj
    assert pod["metadata"]["generateName"] == "logs-"
    assert pod["metadata"]["namespace"] == "kube-system"
    assert "nodeName" not in pod["spec"]
    assert pod["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ] == {
        "nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
        ]
    }
    assert pod["metadata"]["labels"]["controller-revision-hash"] == compute_hash(
        ds["spec"]["template"]
    )
    keys = {(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]}
    assert ("node.kubernetes.io/not-ready", "NoExecute") in keys
    assert ("node.kubernetes.io/unschedulable", "NoSchedule") in keys
    assert ("node.kubernetes.io/network-unavailable", "NoSchedule") not in keys
    assert [e.message for e in plan.events if e.reason == "SuccessfulCreate"] == [
        "Created pod: {name}",
        "Created pod: {name}",
    ]


def test_host_network_pods_tolerate_network_unavailable():
    """hostNetwork daemon pods also tolerate node.kubernetes.io/network-unavailable."""
    ds = make_ds()
    ds["spec"]["template"]["spec"]["hostNetwork"] = True
    (create,) = plan_daemonset(ds, [make_node("n1")], [], NOW).of_type(Create)
    keys = {t["key"] for t in create.obj["spec"]["tolerations"]}
    assert "node.kubernetes.io/network-unavailable" in keys


def test_existing_affinity_is_replaced_by_the_pin():
    """The template's required terms are replaced by the single node pin."""
    ds = make_ds()
    ds["spec"]["template"]["spec"]["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "Exists"}]}]
            }
        }
    }
    (create,) = plan_daemonset(ds, [make_node("n1", labels={"zone": "a"})], [], NOW).of_type(Create)
    terms = create.obj["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert terms["nodeSelectorTerms"] == [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
    ]


# ---------------------------------------------------------------------------------- cleanup


def test_nodes_that_already_have_a_pod_get_no_other():
    """A node with a daemon pod (even a terminating one) gets no new pod."""
    ds = make_ds()
    pods = [make_pod(ds, "n1"), make_pod(ds, "n2", deleting=True)]
    plan = plan_daemonset(ds, [make_node("n1"), make_node("n2")], pods, NOW)
    assert created_on(plan) == [] and deleted(plan) == []


def test_extra_pods_on_a_node_are_deleted_keeping_the_oldest():
    """Two daemon pods on one node: the newer one goes."""
    ds = make_ds()
    older, newer = make_pod(ds, "n1", created=0), make_pod(ds, "n1", created=60)
    assert deleted(plan_daemonset(ds, [make_node("n1")], [newer, older], NOW)) == [
        newer["metadata"]["name"]
    ]


def test_failed_pod_is_deleted_with_a_warning():
    """A failed daemon pod is deleted and reported with FailedDaemonPod."""
    ds = make_ds()
    pod = make_pod(ds, "n1", state="failed")
    plan = plan_daemonset(ds, [make_node("n1")], [pod], NOW)
    assert deleted(plan) == [pod["metadata"]["name"]]
    (warning,) = [e for e in plan.of_type(Event) if e.reason == "FailedDaemonPod"]
    assert warning.message == (
        f"Found failed daemon pod kube-system/{pod['metadata']['name']} on node n1, will try to kill it"
    )


def test_pods_leave_nodes_that_must_not_run_them():
    """A NoExecute taint the pod does not tolerate evicts the daemon pod."""
    ds = make_ds()
    pod = make_pod(ds, "n1")
    node = make_node("n1", taints=[("dedicated", "gpu", "NoExecute")])
    assert deleted(plan_daemonset(ds, [node], [pod], NOW)) == [pod["metadata"]["name"]]


def test_pods_stay_on_nodes_with_a_new_noschedule_taint():
    """A running daemon pod survives a NoSchedule taint added later."""
    ds = make_ds()
    pod = make_pod(ds, "n1")
    node = make_node("n1", taints=[("dedicated", "gpu", "NoSchedule")])
    plan = plan_daemonset(ds, [node], [pod], NOW)
    assert deleted(plan) == [] and created_on(plan) == []


def test_unscheduled_pods_for_vanished_nodes_are_deleted():
    """A pod pinned to a node that no longer exists is deleted if it was never scheduled."""
    ds = make_ds()
    stuck = make_pod(ds, "gone", state="pending", scheduled=False)
    bound = make_pod(ds, "gone-too")
    plan = plan_daemonset(ds, [make_node("n1")], [stuck, bound], NOW)
    assert deleted(plan) == [stuck["metadata"]["name"]]
    assert created_on(plan) == ["n1"]


# ---------------------------------------------------------------------------- rolling update


def old_pods(nodes: list[str], created: int = 0) -> list[dict[str, Any]]:
    old_ds = make_ds(image="fluentd:1")
    return [make_pod(old_ds, n, created=created) for n in nodes]


@pytest.mark.parametrize(
    ("max_unavailable", "expected_deletions"),
    [
        pytest.param(None, 1, id="default maxUnavailable 1"),
        pytest.param(2, 2, id="maxUnavailable 2"),
        pytest.param("50%", 2, id="50% of 3 rounds up to 2"),
        pytest.param("10%", 1, id="10% of 3 rounds up to 1"),
    ],
)
def test_rolling_update_respects_max_unavailable(max_unavailable, expected_deletions):
    """Out-of-date available pods are deleted up to maxUnavailable (rounded up)."""
    ds = make_ds(image="fluentd:2", max_unavailable=max_unavailable)
    nodes = [make_node(n) for n in ("a", "b", "c")]
    plan = plan_daemonset(ds, nodes, old_pods(["a", "b", "c"]), NOW)
    assert len(deleted(plan)) == expected_deletions
    assert created_on(plan) == []


def test_rolling_update_waits_for_the_new_pod():
    """An unavailable new pod uses up the budget: no more deletions."""
    ds = make_ds(image="fluentd:2")
    nodes = [make_node(n) for n in ("a", "b")]
    pods = [make_pod(ds, "a", state="running"), *old_pods(["b"])]
    assert deleted(plan_daemonset(ds, nodes, pods, NOW)) == []


def test_unavailable_old_pods_are_replaced_regardless():
    """An old pod that is not available anyway may always be replaced."""
    ds = make_ds(image="fluentd:2")
    old_ds = make_ds(image="fluentd:1")
    nodes = [make_node(n) for n in ("a", "b")]
    broken, fine = make_pod(old_ds, "a", state="running"), make_pod(old_ds, "b")
    assert deleted(plan_daemonset(ds, nodes, [broken, fine], NOW)) == [broken["metadata"]["name"]]


def test_on_delete_does_not_replace():
    """OnDelete never deletes out-of-date pods."""
    ds = make_ds(image="fluentd:2", on_delete=True)
    assert deleted(plan_daemonset(ds, [make_node("a")], old_pods(["a"]), NOW)) == []


def test_surge_starts_the_new_pod_before_removing_the_old():
    """maxSurge 1: a new pod joins the old one; the old goes once the new is available."""
    ds = make_ds(image="fluentd:2", max_surge=1, max_unavailable=0)
    nodes = [make_node("a")]
    first = plan_daemonset(ds, nodes, old_pods(["a"]), NOW)
    assert created_on(first) == ["a"] and deleted(first) == []
    old = old_pods(["a"])
    new = make_pod(ds, "a", created=60)
    second = plan_daemonset(ds, nodes, [*old, new], NOW)
    assert deleted(second) == [old[0]["metadata"]["name"]]


# ---------------------------------------------------------------------------------- status


def test_status_counts_per_node():
    """Status: desired, current, misscheduled, ready, available, updated, unavailable."""
    ds = make_ds(image="fluentd:2")
    ds["metadata"]["generation"] = 4
    nodes = [
        make_node("a"),
        make_node("b"),
        make_node("c"),
        make_node("gpu", taints=[("g", "", "NoExecute")]),
    ]
    pods = [
        make_pod(ds, "a"),
        *old_pods(["b"]),
        make_pod(ds, "gpu"),
    ]
    plan = plan_daemonset(ds, nodes, pods, NOW)
    (update,) = plan.of_type(UpdateStatus)
    assert update.status == {
        "currentNumberScheduled": 2,
        "numberMisscheduled": 1,
        "desiredNumberScheduled": 3,
        "numberReady": 2,
        "observedGeneration": 4,
        "updatedNumberScheduled": 1,
        "numberAvailable": 2,
        "numberUnavailable": 1,
    }


# ------------------------------------------------------------------------------- simulation


def test_rolling_update_loop_keeps_max_unavailable():
    """Across a whole rollout at most maxUnavailable eligible nodes lack an available pod."""
    nodes = [make_node(n) for n in ("a", "b", "c", "d")]
    ds = make_ds(image="fluentd:1")
    pods: dict[str, dict[str, Any]] = {}
    counter = itertools.count()
    now = NOW

    def run(current: dict[str, Any]) -> None:
        plan = plan_daemonset(current, nodes, list(pods.values()), now)
        for action in plan.actions:
            if isinstance(action, Create):
                pod = copy.deepcopy(dict(action.obj))
                name = f"logs-{next(counter)}"
                pod["metadata"].update(name=name, uid=f"uid-{name}", creationTimestamp=stamp(now))
                pod["status"] = {"phase": "Pending"}
                pods[name] = pod
            elif isinstance(action, Delete):
                pods[action.name]["metadata"]["deletionTimestamp"] = stamp(now)

    def kubelet() -> None:
        for name, pod in list(pods.items()):
            if is_terminating(pod):
                del pods[name]
            elif pod["status"]["phase"] == "Pending":
                pod["spec"]["nodeName"] = target_node_name(pod)
                pod["status"] = {
                    "phase": "Running",
                    "conditions": [
                        {"type": "Ready", "status": "True", "lastTransitionTime": stamp(now)}
                    ],
                }

    def covered() -> int:
        return len(
            {
                p["spec"].get("nodeName")
                for p in pods.values()
                if not is_terminating(p) and is_pod_available(p, 0, now)
            }
        )

    for _ in range(5):
        run(ds)
        kubelet()
        now += dt.timedelta(seconds=5)
    assert covered() == 4

    ds = make_ds(image="fluentd:2")
    for _ in range(30):
        run(ds)
        assert covered() >= 3
        kubelet()
        now += dt.timedelta(seconds=5)
    images = {p["spec"]["containers"][0]["image"] for p in pods.values()}
    assert images == {"fluentd:2"} and covered() == 4
