"""The node lifecycle controller's planner, with taint-based eviction, as a pure function.

Kubernetes splits this work between ``pkg/controller/nodelifecycle`` (node health, conditions,
taints) and ``pkg/controller/tainteviction`` (deleting pods from ``NoExecute`` nodes). One
reconcile of one node here does both, in simulated seconds:

1. **Health.** The kubelet's last heartbeat (the node Lease) is compared with ``now``. When
   ``now > last_heartbeat + node_monitor_grace_period`` (50 s, the 1.32 default; it was 40 s
   before 1.32) the controller sets ``Ready``, ``MemoryPressure``, ``DiskPressure`` and
   ``PIDPressure`` to ``Unknown`` with reason ``NodeStatusUnknown`` and message "Kubelet stopped
   posting node status." (``lastHeartbeatTime`` kept, ``lastTransitionTime`` now). A node that
   never posted a status gets ``node_startup_grace_period`` (60 s) from its creation, then
   conditions with reason ``NodeStatusNeverUpdated``, "Kubelet never posted node status.".
   Flipping ``Ready`` from ``True`` records ``NodeNotReady`` "Node worker-1 status is now:
   NodeNotReady".

   Worked example: heartbeat at 100 s, grace 50 s. At 150 s the node is still healthy (150 is
   not *after* 150); the plan asks to look again in ``floor(150 - 150) + 1 = 1`` s, and at 151 s
   the conditions go ``Unknown``.

2. **Taints.** Derived from the conditions (``doNoScheduleTaintingPass`` and the NoExecute
   pass): ``Ready=False`` gives ``node.kubernetes.io/not-ready`` and ``Ready=Unknown`` gives
   ``node.kubernetes.io/unreachable``, each as ``NoSchedule`` *and* ``NoExecute`` (the two keys
   never coexist); ``MemoryPressure``, ``DiskPressure``, ``PIDPressure`` and
   ``NetworkUnavailable`` ``True`` give ``node.kubernetes.io/<condition>:NoSchedule``;
   ``spec.unschedulable`` (cordon) gives ``node.kubernetes.io/unschedulable:NoSchedule``. Taints
   the controller adds carry ``timeAdded`` (as ``SwapNodeControllerTaint`` stamps them); taints
   it keeps keep theirs; everyone else's taints are left alone. A ``Ready`` node loses them all.

3. **Pods of a node whose Ready is Unknown** get their ``Ready`` condition set to ``False``
   (``MarkPodsNotReady``: only ``status`` and ``lastTransitionTime`` change) and a Warning
   ``NodeNotReady`` "Node is not ready" event. While a live kubelet reports ``Ready=False`` it
   keeps its pods' status itself, as upstream's periodic pass leaves them to it.

4. **Taint-based eviction.** A pod on a node with a ``NoExecute`` taint it does not tolerate is
   deleted at once; a pod whose first matching toleration has ``tolerationSeconds`` is deleted
   when ``timeAdded + tolerationSeconds <= now`` (``tolerationSeconds <= 0`` means at once);
   tolerations without seconds tolerate forever. Every pod is treated as if the
   ``DefaultTolerationSeconds`` admission plugin had run: unless it already tolerates them, it
   tolerates ``not-ready`` and ``unreachable`` ``NoExecute`` for 300 s. Eviction records
   ``TaintManagerEviction`` "Marking for deletion Pod default/web-abc", adds the pod condition
   ``DisruptionTarget`` (reason ``DeletionByTaintManager``, "Taint manager: deleting due to
   NoExecute taint") and deletes the pod. Removing the taints in time records "Cancelling
   deletion of Pod default/web-abc" for the pods that had a deadline.

   Worked example: the node went unreachable at 1000 s (``timeAdded``); a web pod with the
   default toleration goes at ``1000 + 300 = 1300`` s, so at 1100 s the plan asks to look again
   in 200 s; a pod tolerating ``unreachable`` for 60 s went at 1060 s.

Where Kubarium differs (the state lives in objects, not in controller memory):

* Upstream counts a toleration from when the taint manager *saw* the taint; Kubarium counts from
  each taint's ``timeAdded`` and takes the earliest deadline over the taints. A ``NoExecute``
  taint someone else added without ``timeAdded`` is stamped with ``now`` by this controller, so
  that the count has a fixed start.
* Health is judged from the simulated heartbeat, not from when the controller observed it, and
  conditions are rewritten whenever any of the four is not yet ``Unknown``.
* Zone disruption modes and the rate limits on tainting are not modelled.

Node updates are an ``UpdateStatus`` (conditions) and a ``Patch`` of ``spec.taints`` (a merge
patch replaces the whole list, so it carries ``metadata.uid`` and, when it is the first write of
the plan, ``metadata.resourceVersion`` as preconditions).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cluster.controllers.actions import (
    NORMAL,
    WARNING,
    Action,
    Delete,
    Event,
    Patch,
    Plan,
    UpdateStatus,
    min_requeue,
    object_reference,
)
from cluster.controllers.podutil import format_time, is_terminating, meta, parse_time
from cluster.simclock import DEFAULT_EPOCH

__all__ = [
    "NodeLifecycleConfig",
    "effective_tolerations",
    "eviction_deadline",
    "plan_node_lifecycle",
    "tolerates",
]

TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
TAINT_DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
TAINT_PID_PRESSURE = "node.kubernetes.io/pid-pressure"
TAINT_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"

NO_SCHEDULE = "NoSchedule"
NO_EXECUTE = "NoExecute"

# nodeConditionToTaintKeyStatusMap: (condition type, status) -> NoSchedule taint key.
CONDITION_TAINTS: dict[tuple[str, str], str] = {
    ("Ready", "False"): TAINT_NOT_READY,
    ("Ready", "Unknown"): TAINT_UNREACHABLE,
    ("MemoryPressure", "True"): TAINT_MEMORY_PRESSURE,
    ("DiskPressure", "True"): TAINT_DISK_PRESSURE,
    ("NetworkUnavailable", "True"): TAINT_NETWORK_UNAVAILABLE,
    ("PIDPressure", "True"): TAINT_PID_PRESSURE,
}
# The NoSchedule taints this controller owns (taintKeyToNodeConditionMap plus unschedulable).
MANAGED_NO_SCHEDULE = frozenset({*CONDITION_TAINTS.values(), TAINT_UNSCHEDULABLE})
# The NoExecute taints it owns.
MANAGED_NO_EXECUTE = frozenset({TAINT_NOT_READY, TAINT_UNREACHABLE})

# The conditions set to Unknown when the kubelet goes quiet (NetworkUnavailable is left alone).
MONITORED_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")

REASON_UNKNOWN = "NodeStatusUnknown"
MESSAGE_UNKNOWN = "Kubelet stopped posting node status."
REASON_NEVER_UPDATED = "NodeStatusNeverUpdated"
MESSAGE_NEVER_UPDATED = "Kubelet never posted node status."

DISRUPTION_TARGET = {
    "type": "DisruptionTarget",
    "status": "True",
    "reason": "DeletionByTaintManager",
    "message": "Taint manager: deleting due to NoExecute taint",
}


@dataclass(frozen=True)
class NodeLifecycleConfig:
    """kube-controller-manager's node lifecycle flags, in simulated seconds.

    ``epoch`` maps simulated seconds to timestamps (pass the clock's ``sim_epoch``, as for the
    kubelet): ``timeAdded`` and ``lastTransitionTime`` are ``epoch + floor(now)``.
    The toleration defaults are the DefaultTolerationSeconds admission plugin's
    ``--default-not-ready-toleration-seconds`` and ``--default-unreachable-toleration-seconds``.
    """

    epoch: dt.datetime = DEFAULT_EPOCH
    node_monitor_grace_period: float = 50.0
    node_startup_grace_period: float = 60.0
    default_not_ready_toleration_seconds: int = 300
    default_unreachable_toleration_seconds: int = 300


# --------------------------------------------------------------------------------- tolerations


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """``Toleration.ToleratesTaint``: effect and key match when set; ``Equal`` compares values.

    An empty key with ``Exists`` tolerates every taint; an unknown operator tolerates nothing.
    """
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def effective_tolerations(
    pod: Mapping[str, Any], cfg: NodeLifecycleConfig | None = None
) -> list[dict[str, Any]]:
    """The pod's tolerations as the ``DefaultTolerationSeconds`` admission plugin leaves them.

    A pod without a toleration whose key is ``node.kubernetes.io/not-ready`` (or empty) and
    whose effect is ``NoExecute`` (or empty) gets ``not-ready:NoExecute`` ``Exists`` for 300 s
    appended; the same for ``unreachable``.
    """
    cfg = cfg or NodeLifecycleConfig()
    tolerations = [dict(t) for t in (pod.get("spec") or {}).get("tolerations") or []]

    def covered(key: str) -> bool:
        return any(
            (t.get("key") or "") in (key, "") and (t.get("effect") or "") in (NO_EXECUTE, "")
            for t in tolerations
        )

    defaults = (
        (TAINT_NOT_READY, cfg.default_not_ready_toleration_seconds),
        (TAINT_UNREACHABLE, cfg.default_unreachable_toleration_seconds),
    )
    added = [
        {"key": key, "operator": "Exists", "effect": NO_EXECUTE, "tolerationSeconds": seconds}
        for key, seconds in defaults
        if not covered(key)
    ]
    return tolerations + added


def eviction_deadline(
    tolerations: Sequence[Mapping[str, Any]],
    taints: Sequence[Mapping[str, Any]],
    time_added: Mapping[int, float],
) -> float | None:
    """When a pod with ``tolerations`` must leave a node with these ``NoExecute`` ``taints``.

    ``time_added[i]`` is taint ``i``'s ``timeAdded`` in simulated seconds. For each taint the
    *first* toleration that matches counts (``GetMatchingTolerations``): an untolerated taint
    means now (``-inf``); ``tolerationSeconds`` (at least 0) gives ``timeAdded + seconds``; no
    seconds means never. Returns the earliest deadline, or None for "never".

    >>> eviction_deadline([{"operator": "Exists", "tolerationSeconds": 60}],
    ...                   [{"key": "k", "effect": "NoExecute"}], {0: 1000.0})
    1060.0
    """
    deadlines: list[float] = []
    for index, taint in enumerate(taints):
        match = next((t for t in tolerations if tolerates(t, taint)), None)
        if match is None:
            return -math.inf
        seconds = match.get("tolerationSeconds")
        if seconds is None:
            continue
        deadlines.append(time_added[index] + max(float(seconds), 0.0))
    return min(deadlines) if deadlines else None


# ----------------------------------------------------------------------------------- the planner


class _Clock:
    """Simulated seconds <-> timestamps through ``cfg.epoch``."""

    def __init__(self, epoch: dt.datetime):
        self.epoch = epoch

    def stamp(self, seconds: float) -> str:
        return format_time(self.epoch + dt.timedelta(seconds=math.floor(seconds)))

    def seconds(self, value: Any) -> float | None:
        parsed = parse_time(value)
        return None if parsed is None else (parsed - self.epoch).total_seconds()


def _conditions(node: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        dict(c) for c in (node.get("status") or {}).get("conditions") or [] if isinstance(c, dict)
    ]


def _condition(conditions: Iterable[Mapping[str, Any]], kind: str) -> Mapping[str, Any] | None:
    return next((c for c in conditions if c.get("type") == kind), None)


def _probe_time(
    node: Mapping[str, Any], last_heartbeat: float | None, clock: _Clock
) -> float | None:
    """When the node last showed life: the heartbeat, else Ready's lastHeartbeatTime, else
    its creation (the fake condition upstream builds for a node that never posted status)."""
    if last_heartbeat is not None:
        return float(last_heartbeat)
    ready = _condition(_conditions(node), "Ready")
    if ready is not None:
        seen = clock.seconds(ready.get("lastHeartbeatTime"))
        if seen is not None:
            return seen
    return clock.seconds(meta(node).get("creationTimestamp"))


def _unknown_conditions(
    node: Mapping[str, Any], now_stamp: str
) -> tuple[list[dict[str, Any]], bool]:
    """The node's conditions after ``tryUpdateNodeHealth`` found it silent, and whether any
    changed."""
    conditions = _conditions(node)
    changed = False
    for kind in MONITORED_CONDITIONS:
        current = _condition(conditions, kind)
        if current is None:
            conditions.append(
                {
                    "type": kind,
                    "status": "Unknown",
                    "lastHeartbeatTime": meta(node).get("creationTimestamp"),
                    "lastTransitionTime": now_stamp,
                    "reason": REASON_NEVER_UPDATED,
                    "message": MESSAGE_NEVER_UPDATED,
                }
            )
            changed = True
        elif current.get("status") != "Unknown":
            index = conditions.index(current)
            conditions[index] = {
                **current,
                "status": "Unknown",
                "reason": REASON_UNKNOWN,
                "message": MESSAGE_UNKNOWN,
                "lastTransitionTime": now_stamp,
            }
            changed = True
    return conditions, changed


def _desired_managed_taints(
    conditions: Sequence[Mapping[str, Any]], unschedulable: bool
) -> list[tuple[str, str]]:
    """The (key, effect) pairs this controller wants on a node with these conditions."""
    wanted: list[tuple[str, str]] = []
    for condition in conditions:
        key = CONDITION_TAINTS.get((str(condition.get("type")), str(condition.get("status"))))
        if key is not None and (key, NO_SCHEDULE) not in wanted:
            wanted.append((key, NO_SCHEDULE))
    if unschedulable:
        wanted.append((TAINT_UNSCHEDULABLE, NO_SCHEDULE))
    ready = _condition(conditions, "Ready")
    status = ready.get("status") if ready is not None else None
    if status == "False":
        wanted.append((TAINT_NOT_READY, NO_EXECUTE))
    elif status == "Unknown":
        wanted.append((TAINT_UNREACHABLE, NO_EXECUTE))
    return wanted


def _managed(taint: Mapping[str, Any]) -> bool:
    key, effect = taint.get("key"), taint.get("effect")
    if effect == NO_SCHEDULE:
        return key in MANAGED_NO_SCHEDULE
    if effect == NO_EXECUTE:
        return key in MANAGED_NO_EXECUTE
    return False


def _next_taints(
    old: Sequence[Mapping[str, Any]], wanted: Sequence[tuple[str, str]], now_stamp: str
) -> list[dict[str, Any]]:
    """Old taints minus unwanted managed ones, plus the missing wanted ones (stamped now).

    Taints are matched by key and effect (``Taint.MatchTaint``). Someone else's ``NoExecute``
    taint without ``timeAdded`` gets ``now`` so that tolerationSeconds can be counted.
    """
    result: list[dict[str, Any]] = []
    present: set[tuple[str, str]] = set()
    for taint in old:
        pair = (str(taint.get("key")), str(taint.get("effect")))
        if _managed(taint) and pair not in wanted:
            continue
        if pair in present:
            continue
        kept = dict(taint)
        if kept.get("effect") == NO_EXECUTE and not kept.get("timeAdded"):
            kept["timeAdded"] = now_stamp
        result.append(kept)
        present.add(pair)
    for key, effect in wanted:
        if (key, effect) not in present:
            result.append({"key": key, "effect": effect, "timeAdded": now_stamp})
    return result


def _pod_deadline(
    pod: Mapping[str, Any],
    taints: Sequence[Mapping[str, Any]],
    clock: _Clock,
    now: float,
    cfg: NodeLifecycleConfig,
) -> float | None:
    no_execute = [t for t in taints if t.get("effect") == NO_EXECUTE]
    if not no_execute:
        return None
    added = {
        i: _seconds_or(clock.seconds(t.get("timeAdded")), now) for i, t in enumerate(no_execute)
    }
    return eviction_deadline(effective_tolerations(pod, cfg), no_execute, added)


def _seconds_or(value: float | None, default: float) -> float:
    return default if value is None else value


def _namespaced_name(pod: Mapping[str, Any]) -> str:
    return f"{meta(pod).get('namespace', '')}/{meta(pod).get('name', '')}"


def _with_pod_condition(
    status: Mapping[str, Any], condition: Mapping[str, Any], now_stamp: str
) -> dict[str, Any] | None:
    """``UpdatePodCondition``: the status with ``condition`` set, or None if nothing changed.

    ``lastTransitionTime`` moves only when the condition's status changes.
    """
    new_status = copy.deepcopy(dict(status))
    conditions = [dict(c) for c in new_status.get("conditions") or []]
    wanted = {**condition, "lastTransitionTime": now_stamp}
    for index, old in enumerate(conditions):
        if old.get("type") != condition.get("type"):
            continue
        if old.get("status") == wanted.get("status"):
            wanted["lastTransitionTime"] = old.get("lastTransitionTime")
        merged = {**old, **wanted}
        if merged == old:
            return None
        conditions[index] = merged
        break
    else:
        conditions.append(wanted)
    new_status["conditions"] = conditions
    return new_status


def plan_node_lifecycle(
    node: Mapping[str, Any],
    last_heartbeat: float | None,
    pods_on_node: Sequence[Mapping[str, Any]],
    now: float,
    cfg: NodeLifecycleConfig | None = None,
) -> Plan:
    """Plan one reconcile of ``node``; see the module docstring for the rules.

    ``last_heartbeat``: simulated seconds of the kubelet's last heartbeat, or None if it never
    sent one. ``pods_on_node``: the pods bound to the node (others are ignored). ``now``:
    simulated seconds. ``requeue_after`` is the time until the next health deadline or pod
    eviction.
    """
    cfg = cfg or NodeLifecycleConfig()
    clock = _Clock(cfg.epoch)
    now_stamp = clock.stamp(now)
    name = str(meta(node).get("name", ""))
    involved = object_reference(node)
    actions: list[Action] = []
    notes: list[str] = []
    requeue: float | None = None

    # 1. Health: has the kubelet gone quiet for longer than its grace period?
    old_conditions = _conditions(node)
    old_ready = _condition(old_conditions, "Ready")
    grace = cfg.node_monitor_grace_period if old_ready else cfg.node_startup_grace_period
    probe = _probe_time(node, last_heartbeat, clock)
    conditions = old_conditions
    wrote_status = False
    if probe is not None and now > probe + grace:
        conditions, changed = _unknown_conditions(node, now_stamp)
        if changed:
            status = {**copy.deepcopy(dict(node.get("status") or {})), "conditions": conditions}
            events: tuple[Event, ...] = ()
            if old_ready is not None and old_ready.get("status") == "True":
                events = (
                    Event(
                        involved,
                        NORMAL,
                        "NodeNotReady",
                        f"Node {name} status is now: NodeNotReady",
                    ),
                )
            actions.append(
                UpdateStatus(
                    "Node",
                    "",
                    name,
                    status,
                    meta(node).get("resourceVersion"),
                    on_success=events,
                )
            )
            wrote_status = True
            notes.append(
                f"No heartbeat for {now - probe:.0f}s (grace {grace:.0f}s): conditions Unknown"
            )
    elif probe is not None:
        requeue = float(math.floor(probe + grace - now) + 1)

    # 2. Taints follow the conditions.
    old_taints = [dict(t) for t in (node.get("spec") or {}).get("taints") or []]
    wanted = _desired_managed_taints(
        conditions, bool((node.get("spec") or {}).get("unschedulable"))
    )
    taints = _next_taints(old_taints, wanted, now_stamp)
    pods = [p for p in pods_on_node if (p.get("spec") or {}).get("nodeName") == name]
    if taints != old_taints:
        preconditions: dict[str, Any] = {}
        if meta(node).get("uid"):
            preconditions["uid"] = meta(node)["uid"]
        if not wrote_status and meta(node).get("resourceVersion"):
            preconditions["resourceVersion"] = meta(node)["resourceVersion"]
        cancelled = tuple(
            Event(
                object_reference(pod),
                NORMAL,
                "TaintManagerEviction",
                f"Cancelling deletion of Pod {_namespaced_name(pod)}",
            )
            for pod in pods
            if not is_terminating(pod)
            and _pod_deadline(pod, old_taints, clock, now, cfg) is not None
            and _pod_deadline(pod, taints, clock, now, cfg) is None
        )
        actions.append(
            Patch(
                "Node",
                "",
                name,
                {"metadata": preconditions, "spec": {"taints": taints or None}},
                on_success=cancelled,
            )
        )
        notes.append("Taints: " + (", ".join(_taint_text(t) for t in taints) or "none"))

    # 3. Pods of a node nobody hears from are not ready either.
    ready = _condition(conditions, "Ready")
    if ready is not None and ready.get("status") == "Unknown":
        for pod in pods:
            if not any(
                c.get("type") == "Ready" for c in (pod.get("status") or {}).get("conditions") or []
            ):
                continue
            status = _with_pod_condition(
                pod.get("status") or {}, {"type": "Ready", "status": "False"}, now_stamp
            )
            if status is None:
                continue
            actions.append(
                UpdateStatus(
                    "Pod",
                    str(meta(pod).get("namespace", "")),
                    str(meta(pod).get("name", "")),
                    status,
                    meta(pod).get("resourceVersion"),
                    on_success=(
                        Event(object_reference(pod), WARNING, "NodeNotReady", "Node is not ready"),
                    ),
                )
            )

    # 4. Taint-based eviction.
    for pod in pods:
        if is_terminating(pod):
            continue
        deadline = _pod_deadline(pod, taints, clock, now, cfg)
        if deadline is None:
            continue
        if deadline > now:
            requeue = min_requeue(requeue, deadline - now)
            continue
        actions.extend(_evict(pod, now_stamp))
        notes.append(f"Evicting {_namespaced_name(pod)}: NoExecute taint not tolerated (longer)")

    return Plan.of(actions, requeue, notes)


def _evict(pod: Mapping[str, Any], now_stamp: str) -> list[Action]:
    """``TaintManagerEviction`` event, the ``DisruptionTarget`` condition, then the delete."""
    namespace = str(meta(pod).get("namespace", ""))
    pod_name = str(meta(pod).get("name", ""))
    evicted: list[Action] = [
        Event(
            object_reference(pod),
            NORMAL,
            "TaintManagerEviction",
            f"Marking for deletion Pod {_namespaced_name(pod)}",
        )
    ]
    status = _with_pod_condition(pod.get("status") or {}, DISRUPTION_TARGET, now_stamp)
    if status is not None:
        evicted.append(
            UpdateStatus("Pod", namespace, pod_name, status, meta(pod).get("resourceVersion"))
        )
    evicted.append(Delete("Pod", namespace, pod_name, meta(pod).get("uid")))
    return evicted


def _taint_text(taint: Mapping[str, Any]) -> str:
    """``key=value:Effect`` as kubectl prints a taint."""
    value = taint.get("value")
    return f"{taint.get('key')}{'=' + str(value) if value else ''}:{taint.get('effect')}"
