"""The HPA planner: utilisation arithmetic, tolerance, limits, stabilisation, behaviours."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cluster.controllers.actions import Event, Patch, UpdateStatus
from cluster.controllers.hpa import HpaHistory, HpaPlan, cpu_replicas, plan_hpa

T0 = dt.datetime(2025, 1, 1, 10, 0, 0, tzinfo=dt.UTC)
NOW = T0 + dt.timedelta(hours=1)
REASON_UP = "cpu resource utilization (percentage of request) above target"


def stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_hpa(
    *,
    target: int = 50,
    min_replicas: int | None = 1,
    max_replicas: int = 10,
    behavior: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "maxReplicas": max_replicas,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": target},
                },
            }
        ],
    }
    if min_replicas is not None:
        spec["minReplicas"] = min_replicas
    if behavior is not None:
        spec["behavior"] = behavior
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "uid-hpa",
            "resourceVersion": "2",
        },
        "spec": spec,
        "status": status or {},
    }


def make_pod(
    name: str,
    *,
    cpu: str | None = "200m",
    phase: str = "Running",
    ready: bool = True,
    started_ago: int = 3600,
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": "nginx"}
    if cpu is not None:
        container["resources"] = {"requests": {"cpu": cpu}}
    started = NOW - dt.timedelta(seconds=started_ago)
    return {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [container]},
        "status": {
            "phase": phase,
            "startTime": stamp(started),
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "lastTransitionTime": stamp(started + dt.timedelta(seconds=5)),
                }
            ],
        },
    }


def scale(replicas: int) -> dict[str, Any]:
    return {"replicas": replicas, "selector": "app=web"}


def plan(
    hpa: dict[str, Any],
    replicas: int,
    usage: dict[str, int],
    *,
    pods: list[dict[str, Any]] | None = None,
    history: HpaHistory | None = None,
    now: dt.datetime = NOW,
) -> HpaPlan:
    pods = pods if pods is not None else [make_pod(f"web-{i}") for i in range(replicas)]
    return plan_hpa(hpa, scale(replicas), usage, None, now, history, pods=pods)


def new_size(result: HpaPlan) -> int | None:
    patches = result.of_type(Patch)
    return patches[0].merge_patch["spec"]["replicas"] if patches else None


def status(result: HpaPlan) -> dict[str, Any]:
    (update,) = result.of_type(UpdateStatus)
    return dict(update.status)


def cond(result: HpaPlan, kind: str) -> tuple[str, str]:
    found = next(c for c in status(result)["conditions"] if c["type"] == kind)
    return found["status"], found["reason"]


def usage(*millis: int) -> dict[str, int]:
    return {f"web-{i}": value for i, value in enumerate(millis)}


# ----------------------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    ("millis", "expected"),
    [
        pytest.param((180, 200, 220), 6, id="100% against 50%: ceil(2.0 x 3) = 6"),
        pytest.param((105, 105, 105), None, id="52% against 50%: ratio 1.04 is within tolerance"),
        pytest.param(
            (110, 110, 110), 4, id="55%: 1.1 - 1 is 0.10000000000000009 in floats, outside"
        ),
        pytest.param((90, 90, 90), None, id="45% against 50%: ratio 0.9 is within tolerance"),
        pytest.param((150, 150, 150), 5, id="75%: ceil(1.5 x 3) = 4.5 -> 5"),
        pytest.param((40, 40, 40), 2, id="20%: ceil(0.4 x 3) = ceil(1.2) = 2"),
    ],
)
def test_desired_replicas_from_utilisation(millis, expected):
    """desired = ceil(ratio x ready pods) outside the 0.1 tolerance."""
    history = HpaHistory(((NOW - dt.timedelta(seconds=400), 3),))
    result = plan(make_hpa(min_replicas=1), 3, usage(*millis), history=history)
    assert new_size(result) == expected


def test_worked_example_event_status_and_metrics():
    """The docstring's example: 3 pods at 100% of request, target 50% -> 6, with its event."""
    result = plan(make_hpa(), 3, usage(180, 200, 220))
    assert new_size(result) == 6
    (patch,) = result.of_type(Patch)
    assert (patch.kind, patch.namespace, patch.name) == ("Deployment", "default", "web")
    (event,) = [e for e in result.events if e.reason == "SuccessfulRescale"]
    assert (event.type, event.message) == ("Normal", f"New size: 6; reason: {REASON_UP}")
    st = status(result)
    assert st["currentReplicas"] == 3 and st["desiredReplicas"] == 6
    assert st["lastScaleTime"] == stamp(NOW)
    assert st["currentMetrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "current": {"averageValue": "200m", "averageUtilization": 100},
            },
        }
    ]
    assert cond(result, "AbleToScale") == ("True", "SucceededRescale")
    assert cond(result, "ScalingActive") == ("True", "ValidMetricFound")
    assert cond(result, "ScalingLimited") == ("False", "DesiredWithinRange")
    assert result.requeue_after == 15.0


def test_within_tolerance_keeps_the_size():
    """Inside the tolerance nothing is patched and desiredReplicas equals current."""
    result = plan(make_hpa(), 3, usage(105, 105, 105))
    assert new_size(result) is None
    st = status(result)
    assert (st["currentReplicas"], st["desiredReplicas"]) == (3, 3)
    assert "lastScaleTime" not in st
    assert cond(result, "AbleToScale") == ("True", "ReadyForNewScale")


@pytest.mark.parametrize(
    ("hpa", "replicas", "millis", "expected", "limited"),
    [
        pytest.param(
            make_hpa(max_replicas=5),
            3,
            (200, 200, 200),
            5,
            ("True", "TooManyReplicas"),
            id="clamped to maxReplicas",
        ),
        pytest.param(
            make_hpa(max_replicas=20),
            2,
            (500, 500),
            4,
            ("True", "ScaleUpLimit"),
            id="at most max(2 x 2, 4) = 4 per step",
        ),
        pytest.param(
            make_hpa(max_replicas=20),
            5,
            (500,) * 5,
            10,
            ("True", "ScaleUpLimit"),
            id="at most 2 x 5 = 10 per step",
        ),
        pytest.param(
            make_hpa(min_replicas=3),
            4,
            (10,) * 4,
            3,
            ("True", "TooFewReplicas"),
            id="clamped to minReplicas",
        ),
    ],
)
def test_limits(hpa, replicas, millis, expected, limited):
    """maxReplicas, the scale-up rate and minReplicas bound the result (ScalingLimited says)."""
    history = HpaHistory(((NOW - dt.timedelta(seconds=400), replicas),))
    result = plan(hpa, replicas, usage(*millis), history=history)
    assert new_size(result) == expected
    assert cond(result, "ScalingLimited") == limited


def test_out_of_range_current_size_is_corrected_first():
    """A target below minReplicas is raised to it, whatever the metrics say."""
    result = plan(make_hpa(min_replicas=2), 1, usage(10))
    assert new_size(result) == 2
    (event,) = [e for e in result.events if e.reason == "SuccessfulRescale"]
    assert event.message == "New size: 2; reason: Current number of replicas below Spec.MinReplicas"


def test_zero_replicas_disables_scaling():
    """A target scaled to zero is left alone: ScalingActive False/ScalingDisabled."""
    result = plan(make_hpa(), 0, {}, pods=[])
    assert new_size(result) is None
    assert cond(result, "ScalingActive") == ("False", "ScalingDisabled")


# ------------------------------------------------------------------------- stabilisation


def test_scale_down_waits_for_the_stabilisation_window():
    """A lower recommendation is ignored while a higher one is less than 300 s old."""
    history = HpaHistory(((NOW - dt.timedelta(seconds=120), 6),))
    result = plan(make_hpa(), 6, usage(*(20,) * 6), history=history)
    assert new_size(result) is None
    assert cond(result, "AbleToScale") == ("True", "ScaleDownStabilized")
    later = NOW + dt.timedelta(seconds=200)
    again = plan(make_hpa(), 6, usage(*(20,) * 6), history=result.history, now=later)
    assert new_size(again) == 2  # 10% / 50% = 0.2 -> ceil(0.2 x 6) = 2
    (event,) = [e for e in again.events if e.reason == "SuccessfulRescale"]
    assert event.message == "New size: 2; reason: All metrics below target"


def test_history_round_trips_through_json():
    """HpaHistory survives to_dict/from_dict (for storing between reconciles)."""
    history = plan(make_hpa(), 3, usage(180, 200, 220)).history
    assert HpaHistory.from_dict(history.to_dict()) == history
    assert history.recommendations[-1] == (NOW, 6)


# ------------------------------------------------------------------------------ behaviour


def test_behavior_default_scale_up_policies():
    """With a behavior, scale-up is limited to max(+4 pods, +100%) per 15 s."""
    result = plan(make_hpa(max_replicas=100, behavior={}), 3, usage(1000, 1000, 1000))
    # 500% / 50% -> ratio 10 -> 30 wanted; limit max(3 + 4, ceil(3 x 2)) = 7
    assert new_size(result) == 7
    assert cond(result, "ScalingLimited") == ("True", "ScaleUpLimit")
    assert result.history.scale_up_events == ((NOW, 4),)


def test_behavior_counts_recent_scale_events():
    """Replicas added within the period count against the policy."""
    history = HpaHistory(scale_up_events=((NOW - dt.timedelta(seconds=10), 4),))
    result = plan(make_hpa(max_replicas=100, behavior={}), 8, usage(*(1000,) * 8), history=history)
    # period start 8 - 4 = 4: Pods 4 + 4 = 8, Percent ceil(4 x 2) = 8 -> no room now
    assert new_size(result) is None
    assert cond(result, "ScalingLimited") == ("True", "ScaleUpLimit")


def test_behavior_scale_down_policy_and_disabled():
    """A -50%/15 s policy halves at most; selectPolicy Disabled forbids scaling down."""
    halve = {
        "scaleDown": {
            "stabilizationWindowSeconds": 0,
            "policies": [{"type": "Percent", "value": 50, "periodSeconds": 15}],
        }
    }
    result = plan(make_hpa(behavior=halve), 10, usage(*(10,) * 10))
    assert new_size(result) == 5
    assert cond(result, "ScalingLimited") == ("True", "ScaleDownLimit")
    disabled = {"scaleDown": {"selectPolicy": "Disabled"}}
    assert new_size(plan(make_hpa(behavior=disabled), 10, usage(*(10,) * 10))) is None


def test_behavior_scale_up_stabilisation_window():
    """A scale-up window applies the lowest recent recommendation."""
    window = {"scaleUp": {"stabilizationWindowSeconds": 60}}
    history = HpaHistory(((NOW - dt.timedelta(seconds=30), 3),))
    result = plan(make_hpa(behavior=window), 3, usage(200, 200, 200), history=history)
    assert new_size(result) is None
    assert cond(result, "AbleToScale") == ("True", "ScaleUpStabilized")


# ------------------------------------------------------------------------ pods and metrics


def test_unready_pods_count_as_idle_when_scaling_up():
    """Scaling up, a not-yet-ready pod counts as 0% (a more cautious step)."""
    pods = [make_pod("web-0"), make_pod("web-1"), make_pod("web-2", ready=False, started_ago=30)]
    # Ready pods at 100% (ratio 2.0); with the unready pod at 0%: 400/600 = 66% -> ratio 1.33,
    # ceil(1.33 x 3) = 4.
    result = plan(make_hpa(), 3, {"web-0": 200, "web-1": 200, "web-2": 0}, pods=pods)
    assert new_size(result) == 4


def test_missing_metrics_count_as_full_when_scaling_down():
    """Scaling down, a pod without a metric counts as using its whole request."""
    history = HpaHistory(((NOW - dt.timedelta(seconds=400), 4),))
    pods = [make_pod(f"web-{i}") for i in range(4)]
    # 3 pods at 10% -> ratio 0.2; the 4th at 100%: 260/800 = 32% -> ratio 0.64 -> ceil(2.56) = 3
    result = plan(make_hpa(), 4, usage(20, 20, 20), pods=pods, history=history)
    assert new_size(result) == 3


@pytest.mark.parametrize(
    ("pods", "usage_", "message"),
    [
        pytest.param(
            [make_pod("web-0")],
            {},
            "unable to get metrics for resource cpu: no metrics returned from resource metrics API",
            id="no metrics at all",
        ),
        pytest.param(
            [make_pod("web-0", cpu=None)],
            {"web-0": 100},
            "missing request for cpu in container main of Pod web-0",
            id="a container without a cpu request",
        ),
        pytest.param(
            [make_pod("web-0", phase="Pending")],
            {"web-0": 100},
            "did not receive metrics for targeted pods (pods might be unready)",
            id="only pending pods",
        ),
    ],
)
def test_metric_failures(pods, usage_, message):
    """Metric failures set ScalingActive False/FailedGetResourceMetric with upstream's text."""
    result = plan(make_hpa(), 1, usage_, pods=pods)
    assert new_size(result) is None
    st = status(result)
    (active,) = [c for c in st["conditions"] if c["type"] == "ScalingActive"]
    assert (active["status"], active["reason"]) == ("False", "FailedGetResourceMetric")
    assert active["message"] == (
        f"the HPA was unable to compute the replica count: failed to get cpu utilization: {message}"
    )
    warnings = {e.reason: e.message for e in result.of_type(Event)}
    assert warnings["FailedGetResourceMetric"] == f"failed to get cpu utilization: {message}"
    assert warnings["FailedComputeMetricsReplicas"] == (
        "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric "
        f"value: failed to get cpu utilization: {message}"
    )


def test_requests_may_be_given_instead_of_pods():
    """Given only names and requests, every pod counts as ready."""
    result = plan_hpa(make_hpa(), scale(2), {"a": 300, "b": 300}, {"a": 200, "b": 200}, NOW, None)
    # 150% / 50% = 3.0 -> ceil(3.0 x 2) = 6, capped by the scale-up rate max(2 x 2, 4) = 4.
    assert new_size(result) == 4


def test_cpu_replicas_direct():
    """cpu_replicas returns (replicas, utilisation %, average millicores)."""
    pods = [make_pod("web-0"), make_pod("web-1")]
    assert cpu_replicas(
        2, 50, pods, {"web-0": 150, "web-1": 250}, {"web-0": 200, "web-1": 200}, NOW
    ) == (
        4,
        100,
        200,
    )
