"""The HorizontalPodAutoscaler's planner (``pkg/controller/podautoscaler``), as a pure function.

Kubarium scales on CPU utilisation (``type: Resource``, ``name: cpu``, ``target.type:
Utilization``), the metric the simulated kubelets report. Other metric types are reported as
invalid, as a cluster without that metrics API would.

The arithmetic, as upstream's ``ReplicaCalculator.GetResourceReplicas``
--------------------------------------------------------------------------
Pods are grouped first: pods being deleted or Failed are *ignored*; Pending pods, and pods whose
Ready condition is False while still within the 5-minute CPU initialisation period (or that have
never been ready since they started), are *unready*; pods without a metric are *missing*; the
rest are *ready*.

``utilization = floor(100 x sum(usage) / sum(request))`` over the ready pods with metrics (an
integer percentage), ``ratio = utilization / target``.

* Within tolerance (``|1 - ratio| <= 0.1``): keep the current replica count.
* No unready or missing pods: ``desired = ceil(ratio x readyPods)``.
* Otherwise, recompute ``ratio`` pretending missing pods use 100% of their request when scaling
  down (0% when scaling up) and unready pods 0% when scaling up; keep the count if that lands in
  the tolerance or flips the direction; else ``desired = ceil(newRatio x podsCounted)``.

Worked example: 3 ready pods requesting 200m each, using 180m, 200m, 220m; target 50%.
utilization = floor(100 x 600 / 600) = 100; ratio = 100 / 50 = 2.0; desired = ceil(2.0 x 3) = 6.
With usage 105m each: floor(100 x 315 / 600) = 52, ratio 1.04, |1 - 1.04| <= 0.1, so 3 stays.
Floats as in Go: 55% against 50% gives |1 - 1.1| = 0.10000000000000009 > 0.1, so it scales
(ceil(1.1 x 3) = 4).

Then the count is normalised
-----------------------------
Without ``spec.behavior`` (``normalizeDesiredReplicas``): the recommendation is the highest of
the last 300 seconds' recommendations (scale-down stabilisation), clamped to
``[minReplicas, min(maxReplicas, max(2 x current, 4))]``. Example: current 2, max 10,
recommended 9: the scale-up limit is max(4, 4) = 4, so 4 (``ScalingLimited`` True,
``ScaleUpLimit``).

With ``spec.behavior`` (``normalizeDesiredReplicasWithBehaviors``; missing fields take the API
defaults: scale up with no window, max of +100% and +4 pods per 15 s; scale down with a 300 s
window and -100% per 15 s): the recommendation is held between the lowest recommendation of the
scale-up window and the highest of the scale-down window, then limited by the policies measured
from the replica count at the start of each policy's period.

Status and events
-----------------
``currentReplicas``, ``desiredReplicas``, ``currentMetrics`` (``averageUtilization`` and
``averageValue``), ``lastScaleTime`` when it scales, and the conditions ``AbleToScale``,
``ScalingActive`` and ``ScalingLimited``. Event ``SuccessfulRescale`` "New size: 6; reason: cpu
resource utilization (percentage of request) above target". Upstream keeps the recommendations
and scale events in memory; here they are :class:`HpaHistory`, passed in and returned in
``HpaPlan.history`` (JSON-friendly through ``to_dict``/``from_dict``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cluster.controllers.actions import (
    NORMAL,
    WARNING,
    Action,
    Event,
    Patch,
    Plan,
    UpdateStatus,
    object_reference,
)
from cluster.controllers.podutil import (
    as_utc,
    format_time,
    is_terminating,
    meta,
    parse_time,
    pod_phase,
    pod_ready_condition,
    status_differs,
)
from cluster.quantity import cpu_millis, format_cpu_millis

__all__ = [
    "DEFAULT_TOLERANCE",
    "HpaHistory",
    "HpaPlan",
    "cpu_replicas",
    "plan_hpa",
    "pod_cpu_request",
]

DEFAULT_TOLERANCE = 0.1
DOWNSCALE_STABILISATION_SECONDS = 300
CPU_INITIALIZATION_PERIOD = 300
DELAY_OF_INITIAL_READINESS_STATUS = 30
SYNC_PERIOD = 15.0
SCALE_UP_LIMIT_FACTOR = 2.0
SCALE_UP_LIMIT_MINIMUM = 4.0
DEFAULT_CPU_UTILIZATION = 80
CPU_METRIC_NAME = "cpu resource utilization (percentage of request)"
MAX_INT32 = 2**31 - 1


# ---------------------------------------------------------------------------------- history


@dataclass(frozen=True)
class HpaHistory:
    """What upstream keeps in memory per HPA: recent recommendations and scale events.

    ``recommendations``: (time, recommended replicas) pairs. ``scale_up_events`` and
    ``scale_down_events``: (time, replica change) pairs, only kept when ``spec.behavior`` is
    set.
    """

    recommendations: tuple[tuple[dt.datetime, int], ...] = ()
    scale_up_events: tuple[tuple[dt.datetime, int], ...] = ()
    scale_down_events: tuple[tuple[dt.datetime, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        def dump(pairs: tuple[tuple[dt.datetime, int], ...]) -> list[list[Any]]:
            return [[when.isoformat(), value] for when, value in pairs]

        return {
            "recommendations": dump(self.recommendations),
            "scaleUpEvents": dump(self.scale_up_events),
            "scaleDownEvents": dump(self.scale_down_events),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> HpaHistory:
        def load(pairs: Any) -> tuple[tuple[dt.datetime, int], ...]:
            loaded = []
            for when, value in pairs or []:
                parsed = parse_time(when)
                if parsed is not None:
                    loaded.append((parsed, int(value)))
            return tuple(loaded)

        data = data or {}
        return cls(
            load(data.get("recommendations")),
            load(data.get("scaleUpEvents")),
            load(data.get("scaleDownEvents")),
        )


@dataclass(frozen=True)
class HpaPlan(Plan):
    """A Plan plus the history to pass to the next reconcile."""

    history: HpaHistory = field(default_factory=HpaHistory)


class MetricError(Exception):
    """A metric could not be computed; the message is upstream's error text.

    ``reason`` is the ScalingActive condition's reason and ``detail`` the text its message
    quotes ("the HPA was unable to compute the replica count: <detail>").
    """

    def __init__(
        self, message: str, *, reason: str = "FailedGetResourceMetric", detail: str | None = None
    ):
        super().__init__(message)
        self.reason = reason
        self.detail = message if detail is None else detail


# ---------------------------------------------------------------------------- pod metrics


def pod_cpu_request(pod: Mapping[str, Any]) -> int:
    """``calculatePodRequests`` for cpu: the sum of the containers' requests, in millicores.

    Restartable init containers (sidecars) count. A container without a cpu request is an
    error: ``missing request for cpu in container main of Pod web-1``.
    """
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or []) + [
        c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"
    ]
    total = 0
    for container in containers:
        requests = (container.get("resources") or {}).get("requests") or {}
        if "cpu" not in requests:
            raise MetricError(
                f"missing request for cpu in container {container.get('name')} of Pod "
                f"{meta(pod).get('name')}"
            )
        total += cpu_millis(requests["cpu"])
    return total


def _group_pods(
    pods: Sequence[Mapping[str, Any]], usage: Mapping[str, int], now: dt.datetime
) -> tuple[int, set[str], set[str], set[str]]:
    """``groupPods``: (ready count, unready, missing, ignored) pod names.

    Metric timestamps are taken as "now" (the simulated metrics are fresh), so a pod within
    the initialisation period is unready exactly when its Ready condition is False.
    """
    ready_count = 0
    unready: set[str] = set()
    missing: set[str] = set()
    ignored: set[str] = set()
    for pod in pods:
        name = str(meta(pod).get("name", ""))
        if is_terminating(pod) or pod_phase(pod) == "Failed":
            ignored.add(name)
            continue
        if pod_phase(pod) == "Pending":
            unready.add(name)
            continue
        if name not in usage:
            missing.add(name)
            continue
        condition = pod_ready_condition(pod)
        started = parse_time((pod.get("status") or {}).get("startTime"))
        if condition is None or started is None:
            is_unready = True
        else:
            transition = parse_time(condition.get("lastTransitionTime")) or started
            if started + dt.timedelta(seconds=CPU_INITIALIZATION_PERIOD) > now:
                is_unready = condition.get("status") == "False"
            else:
                is_unready = condition.get("status") == "False" and (
                    started + dt.timedelta(seconds=DELAY_OF_INITIAL_READINESS_STATUS) > transition
                )
        if is_unready:
            unready.add(name)
            continue
        ready_count += 1
    return ready_count, unready, missing, ignored


def _utilization_ratio(
    metrics: Mapping[str, int], requests: Mapping[str, int], target: int
) -> tuple[float, int, int]:
    """``GetResourceUtilizationRatio``: (ratio, utilization %, average usage in millis)."""
    total_usage = total_request = entries = 0
    for name, value in metrics.items():
        if name not in requests:
            continue
        total_usage += value
        total_request += requests[name]
        entries += 1
    if total_request == 0:
        raise MetricError("no metrics returned matched known pods")
    utilization = (total_usage * 100) // total_request
    return utilization / target, utilization, total_usage // entries


def cpu_replicas(
    current_replicas: int,
    target_utilization: int,
    pods: Sequence[Mapping[str, Any]],
    usage: Mapping[str, int],
    requests: Mapping[str, int],
    now: dt.datetime,
    tolerance: float = DEFAULT_TOLERANCE,
) -> tuple[int, int, int]:
    """``GetResourceReplicas``: (replicas, utilization %, average usage in millis).

    Raises :class:`MetricError` with upstream's message when nothing can be computed.
    """
    if not usage:
        raise MetricError(
            "unable to get metrics for resource cpu: no metrics returned from resource metrics API"
        )
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    ready_count, unready, missing, ignored = _group_pods(pods, usage, now)
    names = {str(meta(pod).get("name", "")) for pod in pods}
    metrics = {
        name: value
        for name, value in usage.items()
        if name in names and name not in ignored and name not in unready
    }
    if not metrics:
        raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
    ratio, utilization, raw = _utilization_ratio(metrics, requests, target_utilization)

    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        if abs(1.0 - ratio) <= tolerance:
            return current_replicas, utilization, raw
        return math.ceil(ratio * ready_count), utilization, raw

    if missing:
        if ratio < 1.0:
            fallback = max(100, target_utilization)
            for name in missing:
                metrics[name] = requests.get(name, 0) * fallback // 100
        elif ratio > 1.0:
            for name in missing:
                metrics[name] = 0
    if scale_up_with_unready:
        for name in unready:
            metrics[name] = 0
    new_ratio, _, _ = _utilization_ratio(metrics, requests, target_utilization)
    if abs(1.0 - new_ratio) <= tolerance or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return current_replicas, utilization, raw
    new_replicas = math.ceil(new_ratio * len(metrics))
    if (new_ratio < 1.0 and new_replicas > current_replicas) or (
        new_ratio > 1.0 and new_replicas < current_replicas
    ):
        return current_replicas, utilization, raw
    return new_replicas, utilization, raw


# -------------------------------------------------------------------------------- conditions


def _set_condition(
    conditions: list[dict[str, Any]],
    kind: str,
    status: str,
    reason: str,
    message: str,
    now: dt.datetime,
) -> None:
    """``setConditionInList``: update in place; ``lastTransitionTime`` only on a new status."""
    for condition in conditions:
        if condition.get("type") == kind:
            if condition.get("status") != status:
                condition["lastTransitionTime"] = format_time(now)
            condition.update(status=status, reason=reason, message=message)
            return
    conditions.append(
        {
            "type": kind,
            "status": status,
            "lastTransitionTime": format_time(now),
            "reason": reason,
            "message": message,
        }
    )


# ---------------------------------------------------------------------------------- behavior


def _rules(behavior: Mapping[str, Any] | None, direction: str) -> dict[str, Any]:
    """``GenerateHPAScaleUpRules`` / ``...ScaleDownRules`` + the controller's 300 s default."""
    given = dict((behavior or {}).get(direction) or {})
    if direction == "scaleUp":
        defaults: dict[str, Any] = {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15},
            ],
        }
    else:
        defaults = {
            "stabilizationWindowSeconds": DOWNSCALE_STABILISATION_SECONDS,
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
        }
    for key, value in defaults.items():
        if given.get(key) is None:
            given[key] = value
    return given


def _change_in_period(
    period: int, events: Sequence[tuple[dt.datetime, int]], now: dt.datetime
) -> int:
    cutoff = now - dt.timedelta(seconds=period)
    return sum(change for when, change in events if when > cutoff)


def _scale_up_limit(
    current: int, history: HpaHistory, rules: Mapping[str, Any], now: dt.datetime
) -> int:
    """``calculateScaleUpLimitWithScalingRules``.

    Example: current 6, 2 added in the last 15 s, so the period started at 4: Pods policy
    4 + 4 = 8, Percent policy ceil(4 x 2.0) = 8; Max -> 8.
    """
    select = rules.get("selectPolicy")
    if select == "Disabled":
        return current
    pick = min if select == "Min" else max
    result: int | None = None
    for policy in rules.get("policies") or []:
        period = int(policy.get("periodSeconds") or 0)
        added = _change_in_period(period, history.scale_up_events, now)
        deleted = _change_in_period(period, history.scale_down_events, now)
        start = current - added + deleted
        if policy.get("type") == "Pods":
            proposed = start + int(policy.get("value") or 0)
        else:
            proposed = math.ceil(start * (1 + int(policy.get("value") or 0) / 100))
        result = proposed if result is None else pick(result, proposed)
    return current if result is None else result


def _scale_down_limit(
    current: int, history: HpaHistory, rules: Mapping[str, Any], now: dt.datetime
) -> int:
    """``calculateScaleDownLimitWithBehaviors``: Percent truncates toward zero.

    Example: current 10, nothing removed lately, policy -50%: int(10 x 0.5) = 5.
    """
    select = rules.get("selectPolicy")
    if select == "Disabled":
        return current
    pick = max if select == "Min" else min
    result: int | None = None
    for policy in rules.get("policies") or []:
        period = int(policy.get("periodSeconds") or 0)
        added = _change_in_period(period, history.scale_up_events, now)
        deleted = _change_in_period(period, history.scale_down_events, now)
        start = current - added + deleted
        if policy.get("type") == "Pods":
            proposed = start - int(policy.get("value") or 0)
        else:
            proposed = int(start * (1 - int(policy.get("value") or 0) / 100))
        result = proposed if result is None else pick(result, proposed)
    return current if result is None else result


# -------------------------------------------------------------------------------------- plan


def _cpu_target(hpa: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """(target utilization %, error) from the HPA's metrics (default: cpu at 80%)."""
    metrics = (hpa.get("spec") or {}).get("metrics") or [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION},
            },
        }
    ]
    for metric in metrics:
        resource = metric.get("resource") or {}
        target = resource.get("target") or {}
        if (
            metric.get("type") == "Resource"
            and resource.get("name") == "cpu"
            and target.get("averageUtilization") is not None
        ):
            return int(target["averageUtilization"]), None
    return None, "Kubarium only computes cpu utilization metrics"


def plan_hpa(
    hpa: Mapping[str, Any],
    target_scale: Mapping[str, Any],
    pods_cpu_usage: Mapping[str, int],
    pods_cpu_request: Mapping[str, int | None] | None,
    now: dt.datetime,
    history: HpaHistory | None = None,
    *,
    pods: Sequence[Mapping[str, Any]] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> HpaPlan:
    """Plan one reconcile of ``hpa``.

    ``target_scale``: the target's scale subresource as ``{"replicas": n, "selector": "app=web",
    "kind": "Deployment", "name": "web"}`` (kind/name default to ``spec.scaleTargetRef``).
    ``pods_cpu_usage``: pod name -> millicores used now (pods without a sample are missing).
    ``pods_cpu_request``: pod name -> millicores requested (None: a container has no request);
    computed from ``pods`` when omitted. ``pods``: the pods the selector picks, for readiness;
    without it every pod named in ``pods_cpu_request`` counts as Running and Ready.
    The returned plan patches the target's ``spec.replicas`` when it rescales, updates the
    status, and always asks to be run again in 15 seconds (the HPA sync period).
    """
    now = as_utc(now)
    history = history or HpaHistory()
    spec = hpa.get("spec") or {}
    namespace = str(meta(hpa).get("namespace", ""))
    involved = object_reference(hpa)
    target_ref = spec.get("scaleTargetRef") or {}
    old_status = dict(hpa.get("status") or {})
    conditions = [dict(c) for c in old_status.get("conditions") or []]
    actions: list[Action] = []

    def warn(reason: str, message: str) -> None:
        actions.append(Event(involved, WARNING, reason, message))

    _set_condition(
        conditions,
        "AbleToScale",
        "True",
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale",
        now,
    )
    current = int(target_scale.get("replicas") or 0)
    recommendations = list(history.recommendations) or [(now, current)]
    min_replicas = spec.get("minReplicas")
    min_replicas = 1 if min_replicas is None else int(min_replicas)
    max_replicas = int(spec.get("maxReplicas") or 0)
    behavior = spec.get("behavior")

    desired = 0
    rescale_reason = ""
    rescale = True
    metric_statuses: list[dict[str, Any]] | None = None
    if current == 0 and min_replicas != 0:
        desired, rescale = 0, False
        _set_condition(
            conditions,
            "ScalingActive",
            "False",
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero",
            now,
        )
    elif current > max_replicas:
        rescale_reason = "Current number of replicas above Spec.MaxReplicas"
        desired = max_replicas
    elif current < min_replicas:
        rescale_reason = "Current number of replicas below Spec.MinReplicas"
        desired = min_replicas
    else:
        try:
            proposal, metric_statuses = _compute_cpu(
                hpa, target_scale, pods, pods_cpu_usage, pods_cpu_request, now, tolerance, warn
            )
        except MetricError as error:
            _set_condition(
                conditions,
                "ScalingActive",
                "False",
                error.reason,
                f"the HPA was unable to compute the replica count: {error.detail}",
                now,
            )
            # Upstream keeps one (empty) status per metric spec when a metric fails.
            failed_metrics = [{"type": ""}] if error.reason != "InvalidSelector" else None
            if error.reason != "InvalidSelector":
                warn(
                    "FailedComputeMetricsReplicas",
                    f"invalid metrics (1 invalid out of 1), first error is: {error}",
                )
            status = _status(
                old_status,
                current,
                int(old_status.get("desiredReplicas") or 0),
                failed_metrics,
                conditions,
                old_status.get("lastScaleTime"),
            )
            kept = HpaHistory(
                tuple(recommendations), history.scale_up_events, history.scale_down_events
            )
            return _finish(actions, hpa, status, kept)
        _set_condition(
            conditions,
            "ScalingActive",
            "True",
            "ValidMetricFound",
            f"the HPA was able to successfully calculate a replica count from {CPU_METRIC_NAME}",
            now,
        )
        desired = max(proposal, 0)
        if desired > current:
            rescale_reason = f"{CPU_METRIC_NAME} above target"
        if desired < current:
            rescale_reason = "All metrics below target"
        if behavior is None:
            desired, recommendations = _normalize(
                conditions, recommendations, current, desired, min_replicas, max_replicas, now
            )
        else:
            desired, recommendations = _normalize_with_behavior(
                conditions,
                recommendations,
                history,
                behavior,
                current,
                desired,
                min_replicas,
                max_replicas,
                now,
            )
        rescale = desired != current

    scale_up_events = list(history.scale_up_events)
    scale_down_events = list(history.scale_down_events)
    last_scale_time = old_status.get("lastScaleTime")
    if rescale:
        kind = str(target_scale.get("kind") or target_ref.get("kind") or "Deployment")
        target_name = str(target_scale.get("name") or target_ref.get("name") or "")
        actions.append(
            Patch(
                kind,
                namespace,
                target_name,
                {"spec": {"replicas": desired}},
                on_success=(
                    Event(
                        involved,
                        NORMAL,
                        "SuccessfulRescale",
                        f"New size: {desired}; reason: {rescale_reason}",
                    ),
                ),
                on_failure=(
                    Event(
                        involved,
                        WARNING,
                        "FailedRescale",
                        f"New size: {desired}; reason: {rescale_reason}; error: {{error}}",
                    ),
                ),
            )
        )
        _set_condition(
            conditions,
            "AbleToScale",
            "True",
            "SucceededRescale",
            f"the HPA controller was able to update the target scale to {desired}",
            now,
        )
        if behavior is not None:
            _store_scale_event(behavior, scale_up_events, scale_down_events, current, desired, now)
        last_scale_time = format_time(now)
    else:
        desired = current
    status = _status(old_status, current, desired, metric_statuses, conditions, last_scale_time)
    return _finish(
        actions,
        hpa,
        status,
        HpaHistory(tuple(recommendations), tuple(scale_up_events), tuple(scale_down_events)),
    )


def _compute_cpu(
    hpa: Mapping[str, Any],
    target_scale: Mapping[str, Any],
    pods: Sequence[Mapping[str, Any]] | None,
    usage: Mapping[str, int],
    requests_given: Mapping[str, int | None] | None,
    now: dt.datetime,
    tolerance: float,
    warn: Any,
) -> tuple[int, list[dict[str, Any]]]:
    """``computeReplicasForMetrics`` for the one cpu metric: (proposal, metric statuses).

    Raises :class:`MetricError` after recording upstream's warning events.
    """
    selector = target_scale.get("selector")
    if not selector:
        warn("SelectorRequired", "selector is required")
        raise MetricError(
            "selector is required",
            reason="InvalidSelector",
            detail="the HPA target's scale is missing a selector",
        )
    target, problem = _cpu_target(hpa)
    try:
        if target is None:
            raise MetricError(str(problem))
        if pods is None:
            pod_list: list[Mapping[str, Any]] = [
                _assumed_ready_pod(pod_name) for pod_name in (requests_given or {})
            ]
        else:
            pod_list = list(pods)
        requests: dict[str, int] = {}
        for pod in pod_list:
            pod_name = str(meta(pod).get("name", ""))
            given = (requests_given or {}).get(pod_name)
            if given is None:
                # Not given, or a container without a request: the pod spec says which.
                if pods is None:
                    raise MetricError(f"missing request for cpu in Pod {pod_name}")
                requests[pod_name] = pod_cpu_request(pod)
            else:
                requests[pod_name] = int(given)
        replicas, utilization, raw = cpu_replicas(
            int(target_scale.get("replicas") or 0),
            target,
            pod_list,
            usage,
            requests,
            now,
            tolerance,
        )
    except MetricError as failure:
        detail = f"failed to get cpu utilization: {failure}"
        warn("FailedGetResourceMetric", detail)
        raise MetricError(
            f"failed to get cpu resource metric value: {detail}", detail=detail
        ) from None
    statuses = [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "current": {
                    "averageValue": format_cpu_millis(raw),
                    "averageUtilization": utilization,
                },
            },
        }
    ]
    return replicas, statuses


def _assumed_ready_pod(name: str) -> dict[str, Any]:
    """A stand-in pod, Running and Ready for long enough, when only names are known."""
    long_ago = "1970-01-01T00:00:00Z"
    return {
        "metadata": {"name": name},
        "status": {
            "phase": "Running",
            "startTime": long_ago,
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": long_ago}],
        },
    }


def _normalize(
    conditions: list[dict[str, Any]],
    recommendations: list[tuple[dt.datetime, int]],
    current: int,
    proposal: int,
    min_replicas: int,
    max_replicas: int,
    now: dt.datetime,
) -> tuple[int, list[tuple[dt.datetime, int]]]:
    """``normalizeDesiredReplicas``: 300 s downscale stabilisation, then the limits."""
    cutoff = now - dt.timedelta(seconds=DOWNSCALE_STABILISATION_SECONDS)
    stabilized = proposal
    old_index = None
    for index, (when, value) in enumerate(recommendations):
        if when < cutoff:
            old_index = index
        elif value > stabilized:
            stabilized = value
    recommendations = list(recommendations)
    if old_index is not None:
        recommendations[old_index] = (now, proposal)
    else:
        recommendations.append((now, proposal))
    if stabilized != proposal:
        _set_condition(
            conditions,
            "AbleToScale",
            "True",
            "ScaleDownStabilized",
            "recent recommendations were higher than current one, applying the highest recent "
            "recommendation",
            now,
        )
    else:
        _set_condition(
            conditions,
            "AbleToScale",
            "True",
            "ReadyForNewScale",
            "recommended size matches current size",
            now,
        )
    scale_up_limit = int(max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM))
    if max_replicas > scale_up_limit:
        maximum, reason, message = (
            scale_up_limit,
            "ScaleUpLimit",
            "the desired replica count is increasing faster than the maximum scale rate",
        )
    else:
        maximum, reason, message = (
            max_replicas,
            "TooManyReplicas",
            "the desired replica count is more than the maximum replica count",
        )
    if stabilized < min_replicas:
        desired, reason, message = (
            min_replicas,
            "TooFewReplicas",
            "the desired replica count is less than the minimum replica count",
        )
    elif stabilized > maximum:
        desired = maximum
    else:
        desired, reason, message = (
            stabilized,
            "DesiredWithinRange",
            "the desired count is within the acceptable range",
        )
    limited = "False" if desired == stabilized else "True"
    _set_condition(conditions, "ScalingLimited", limited, reason, message, now)
    return desired, recommendations


def _normalize_with_behavior(
    conditions: list[dict[str, Any]],
    recommendations: list[tuple[dt.datetime, int]],
    history: HpaHistory,
    behavior: Mapping[str, Any],
    current: int,
    proposal: int,
    min_replicas: int,
    max_replicas: int,
    now: dt.datetime,
) -> tuple[int, list[tuple[dt.datetime, int]]]:
    """``normalizeDesiredReplicasWithBehaviors``: windows, then the policies' rate limits.

    Example (scale-down window 300 s): recommendations 8 (2 min ago) and 5 (now) with current 8
    keep 8 (the highest of the window), ``AbleToScale`` True ``ScaleDownStabilized``.
    """
    up = _rules(behavior, "scaleUp")
    down = _rules(behavior, "scaleDown")
    up_cutoff = now - dt.timedelta(seconds=int(up["stabilizationWindowSeconds"]))
    down_cutoff = now - dt.timedelta(seconds=int(down["stabilizationWindowSeconds"]))
    up_recommendation = down_recommendation = proposal
    old_index = None
    for index, (when, value) in enumerate(recommendations):
        if when > up_cutoff:
            up_recommendation = min(value, up_recommendation)
        if when > down_cutoff:
            down_recommendation = max(value, down_recommendation)
        if when < up_cutoff and when < down_cutoff:
            old_index = index
    stabilized = current
    if stabilized < up_recommendation:
        stabilized = up_recommendation
    if stabilized > down_recommendation:
        stabilized = down_recommendation
    recommendations = list(recommendations)
    if old_index is not None:
        recommendations[old_index] = (now, proposal)
    else:
        recommendations.append((now, proposal))
    if stabilized != proposal:
        if proposal >= current:
            reason = "ScaleUpStabilized"
            message = (
                "recent recommendations were lower than current one, applying the lowest recent "
                "recommendation"
            )
        else:
            reason = "ScaleDownStabilized"
            message = (
                "recent recommendations were higher than current one, applying the highest "
                "recent recommendation"
            )
        _set_condition(conditions, "AbleToScale", "True", reason, message, now)
    else:
        _set_condition(
            conditions,
            "AbleToScale",
            "True",
            "ReadyForNewScale",
            "recommended size matches current size",
            now,
        )

    desired, reason, message = (
        stabilized,
        "DesiredWithinRange",
        ("the desired count is within the acceptable range"),
    )
    if stabilized > current:
        limit = max(_scale_up_limit(current, history, up, now), current)
        if max_replicas > limit:
            maximum, why, text = (
                limit,
                "ScaleUpLimit",
                "the desired replica count is increasing faster than the maximum scale rate",
            )
        else:
            maximum, why, text = (
                max_replicas,
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            )
        if stabilized > maximum:
            desired, reason, message = maximum, why, text
    elif stabilized < current:
        limit = min(_scale_down_limit(current, history, down, now), current)
        if min_replicas < limit:
            minimum, why, text = (
                limit,
                "ScaleDownLimit",
                "the desired replica count is decreasing faster than the maximum scale rate",
            )
        else:
            minimum, why, text = (
                min_replicas,
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            )
        if stabilized < minimum:
            desired, reason, message = minimum, why, text
    limited = "False" if desired == stabilized else "True"
    _set_condition(conditions, "ScalingLimited", limited, reason, message, now)
    return desired, recommendations


def _store_scale_event(
    behavior: Mapping[str, Any],
    ups: list[tuple[dt.datetime, int]],
    downs: list[tuple[dt.datetime, int]],
    before: int,
    after: int,
    now: dt.datetime,
) -> None:
    """``storeScaleEvent``: remember the change; forget events older than the longest period."""
    direction, events = ("scaleUp", ups) if after > before else ("scaleDown", downs)
    longest = max(
        (int(p.get("periodSeconds") or 0) for p in _rules(behavior, direction)["policies"]),
        default=0,
    )
    cutoff = now - dt.timedelta(seconds=longest)
    events[:] = [(when, change) for when, change in events if when > cutoff]
    events.append((now, abs(after - before)))


def _status(
    old: Mapping[str, Any],
    current: int,
    desired: int,
    metrics: list[dict[str, Any]] | None,
    conditions: list[dict[str, Any]],
    last_scale_time: str | None,
) -> dict[str, Any]:
    """``setStatus``: the fields upstream writes (it never sets observedGeneration)."""
    status: dict[str, Any] = {}
    if current:
        status["currentReplicas"] = current
    status["desiredReplicas"] = desired
    if last_scale_time:
        status["lastScaleTime"] = last_scale_time
    if metrics:
        status["currentMetrics"] = metrics
    if conditions:
        status["conditions"] = conditions
    if old.get("observedGeneration") is not None:
        status["observedGeneration"] = old["observedGeneration"]
    return status


def _finish(
    actions: list[Action], hpa: Mapping[str, Any], status: dict[str, Any], history: HpaHistory
) -> HpaPlan:
    if status_differs(hpa.get("status"), status):
        actions.append(
            UpdateStatus(
                "HorizontalPodAutoscaler",
                str(meta(hpa).get("namespace", "")),
                str(meta(hpa).get("name", "")),
                status,
                meta(hpa).get("resourceVersion"),
            )
        )
    return HpaPlan(tuple(actions), SYNC_PERIOD, (), history)
