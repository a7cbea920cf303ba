"""The Deployment controller's planner (``pkg/controller/deployment``), as a pure function.

``plan_deployment(deploy, replicasets, pods, now)`` follows upstream's ``syncDeployment``:

1. An empty selector selects everything: only a ``SelectingAll`` warning.
2. Claim ReplicaSets: adopt orphans whose labels match the selector, release owned ones that
   no longer match.
3. A Deployment being deleted only gets its status refreshed.
4. Progressing becomes ``Unknown``/``DeploymentPaused`` when paused (``DeploymentResumed`` when
   resumed).
5. Paused, or a *scaling event* (an active ReplicaSet's ``desired-replicas`` annotation differs
   from ``spec.replicas``): scale proportionally, no rollout progress (``sync``).
6. Otherwise roll out with the strategy: ``RollingUpdate`` or ``Recreate``.

The new ReplicaSet
------------------
The ReplicaSet whose pod template equals the Deployment's (ignoring the ``pod-template-hash``
label; the oldest one if several) is the *new* one; every other is *old*. When there is none, a
ReplicaSet ``<deploy>-<hash>`` is created, where ``<hash>`` is
:func:`cluster.controllers.podutil.compute_hash` of the template and ``status.collisionCount``
(FNV-32a over canonical JSON, rendered with ``SafeEncodeString``; upstream hashes a Go struct
dump instead, so the strings differ from a real cluster's but are just as stable). Its labels,
template labels and selector get ``pod-template-hash: <hash>``; its annotations are the
Deployment's (minus kubectl's last-applied and the deployment.kubernetes.io ones) plus
``deployment.kubernetes.io/revision`` = highest old revision + 1, ``desired-replicas`` and
``max-replicas``. A template equal to an *old* ReplicaSet's (``kubectl rollout undo`` copies one
back) makes that ReplicaSet the new one: its revision moves to the new maximum and the old number
goes to ``deployment.kubernetes.io/revision-history``.

RollingUpdate arithmetic (worked with replicas 10, maxSurge 25%, maxUnavailable 25%)
-----------------------------------------------------------------------------------
``maxSurge`` rounds up: ceil(10 x 25%) = ceil(2.5) = 3. ``maxUnavailable`` rounds down:
floor(2.5) = 2 (if both resolve to 0, maxUnavailable becomes 1). So at most 10 + 3 = 13 pods
and at least 10 - 2 = 8 available pods.

* ``reconcileNewReplicaSet``: scale the new RS up to
  ``min(maxTotal - allPods, replicas - newRS)`` more: with 10 old pods and a new RS of 0,
  ``min(13 - 10, 10 - 0) = 3`` -> the new RS goes to 3 (13 pods in total).
* ``reconcileOldReplicaSets``: ``maxScaledDown = allPods - minAvailable - newRSUnavailable``
  = 13 - 8 - 3 = 2 while the 3 new pods are not available yet. First
  ``cleanupUnhealthyReplicas`` removes old replicas that are not available (none here), then
  ``scaleDownOldReplicaSetsForRollingUpdate`` removes ``available - minAvailable`` = 10 - 8 = 2
  from the oldest old RSs: old RS 10 -> 8 (11 pods, 8 available).
* Next round, the new RS may grow by 13 - 11 = 2 -> 5; when its pods become available the old
  RS shrinks by ``available - 8`` again, and so on until new = 10, old = 0.

Every scaling is a merge patch on the ReplicaSet (``spec.replicas`` and the
``desired-replicas``/``max-replicas`` annotations) with the event ``ScalingReplicaSet``
"Scaled up replica set web-7d8f6b5c94 to 3 from 0" ("Scaled up replica set web-7d8f6b5c94 to 3"
when the ReplicaSet is created with 3).

Recreate: scale every old RS to 0; while any old pod still runs (even terminating), wait; then
create the new RS (if needed) and scale it to ``replicas``.

Status, as ``kubectl rollout status`` reads it
----------------------------------------------
``observedGeneration``; ``replicas`` (sum of the RSs' ``status.replicas``); ``updatedReplicas``
(the new RS's); ``readyReplicas``; ``availableReplicas``; ``unavailableReplicas`` (sum of
``spec.replicas`` - available, at least 0); conditions ``Available`` (True
``MinimumReplicasAvailable`` when available >= replicas - maxUnavailable, else False
``MinimumReplicasUnavailable``) and ``Progressing`` (``NewReplicaSetCreated``,
``FoundNewReplicaSet``, ``ReplicaSetUpdated`` with ``lastUpdateTime`` moved on every sign of
progress, ``NewReplicaSetAvailable`` once complete, ``ProgressDeadlineExceeded`` when
``lastUpdateTime + progressDeadlineSeconds < now`` without completing). The Deployment's own
``deployment.kubernetes.io/revision`` annotation is kept equal to the new RS's (a merge patch:
the store's status subresource only writes ``status``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from cluster.controllers.actions import (
    NORMAL,
    WARNING,
    Action,
    Create,
    Delete,
    Event,
    Patch,
    Plan,
    UpdateStatus,
    object_reference,
)
from cluster.controllers.podutil import (
    POD_TEMPLATE_HASH_LABEL,
    as_utc,
    claim,
    compute_hash,
    controller_of,
    controller_ref,
    creation_time,
    format_time,
    is_controlled_by,
    meta,
    parse_time,
    round_half_away,
    scaled_value,
    status_differs,
    templates_equal_ignoring_hash,
    without_zeros,
)
from cluster.store.jsondata import copy_json
from cluster.store.selectors import matches_selector_dict

__all__ = [
    "DESIRED_REPLICAS_ANNOTATION",
    "MAX_REPLICAS_ANNOTATION",
    "REVISION_ANNOTATION",
    "REVISION_HISTORY_ANNOTATION",
    "max_surge",
    "max_unavailable",
    "plan_deployment",
    "resolve_fenceposts",
]

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
ROLLBACK_TO_ANNOTATION = "deprecated.deployment.rollback.to"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
_SKIPPED_ANNOTATIONS = frozenset(
    {
        LAST_APPLIED_ANNOTATION,
        REVISION_ANNOTATION,
        REVISION_HISTORY_ANNOTATION,
        DESIRED_REPLICAS_ANNOTATION,
        MAX_REPLICAS_ANNOTATION,
        ROLLBACK_TO_ANNOTATION,
    }
)
MAX_REV_HISTORY_LENGTH_IN_CHARS = 2000
MAX_INT32 = 2**31 - 1

# Condition reasons (deploymentutil).
NEW_RS_REASON = "NewReplicaSetCreated"
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
RS_UPDATED_REASON = "ReplicaSetUpdated"
NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
PAUSED_REASON = "DeploymentPaused"
RESUMED_REASON = "DeploymentResumed"
FAILED_RS_CREATE_REASON = "ReplicaSetCreateError"
MIN_AVAILABLE_REASON = "MinimumReplicasAvailable"
MIN_UNAVAILABLE_REASON = "MinimumReplicasUnavailable"


# ------------------------------------------------------------------------------ spec helpers


def _replicas(obj: Mapping[str, Any]) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def _strategy(deploy: Mapping[str, Any]) -> dict[str, Any]:
    strategy = dict((deploy.get("spec") or {}).get("strategy") or {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = dict(strategy.get("rollingUpdate") or {})
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")
        strategy["rollingUpdate"] = rolling
    return strategy


def _is_rolling(deploy: Mapping[str, Any]) -> bool:
    return _strategy(deploy)["type"] == "RollingUpdate"


def resolve_fenceposts(
    surge: int | str | None, unavailable: int | str | None, desired: int
) -> tuple[int, int]:
    """``ResolveFenceposts``: (maxSurge rounded up, maxUnavailable rounded down).

    Both zero (``maxUnavailable: 20%`` of 4 is floor(0.8) = 0, with ``maxSurge: 0``) would
    stall a rollout, so maxUnavailable becomes 1.
    """
    resolved_surge = scaled_value(surge, desired, round_up=True)
    resolved_unavailable = scaled_value(unavailable, desired, round_up=False)
    if resolved_surge == 0 and resolved_unavailable == 0:
        resolved_unavailable = 1
    return resolved_surge, resolved_unavailable


def max_surge(deploy: Mapping[str, Any]) -> int:
    """``MaxSurge``: 0 for Recreate; ``maxSurge`` of ``spec.replicas`` rounded up."""
    if not _is_rolling(deploy):
        return 0
    rolling = _strategy(deploy)["rollingUpdate"]
    return resolve_fenceposts(rolling["maxSurge"], rolling["maxUnavailable"], _replicas(deploy))[0]


def max_unavailable(deploy: Mapping[str, Any]) -> int:
    """``MaxUnavailable``: 0 for Recreate or 0 replicas; never more than ``spec.replicas``."""
    replicas = _replicas(deploy)
    if not _is_rolling(deploy) or replicas == 0:
        return 0
    rolling = _strategy(deploy)["rollingUpdate"]
    unavailable = resolve_fenceposts(rolling["maxSurge"], rolling["maxUnavailable"], replicas)[1]
    return min(unavailable, replicas)


def _progress_deadline(deploy: Mapping[str, Any]) -> int | None:
    """``progressDeadlineSeconds`` (default 600), or None when there is none (MaxInt32)."""
    spec = deploy.get("spec") or {}
    value = spec.get("progressDeadlineSeconds", 600)
    if value is None or int(value) == MAX_INT32:
        return None
    return int(value)


def _revision_history_limit(deploy: Mapping[str, Any]) -> int | None:
    spec = deploy.get("spec") or {}
    value = spec.get("revisionHistoryLimit", 10)
    if value is None or int(value) == MAX_INT32:
        return None
    return int(value)


def _revision(rs: Mapping[str, Any]) -> int:
    """The RS's revision annotation as a number (unparsable or missing: 0)."""
    raw = (meta(rs).get("annotations") or {}).get(REVISION_ANNOTATION, "")
    try:
        return int(str(raw))
    except ValueError:
        return 0


def _rs_status(rs: Mapping[str, Any] | None, key: str) -> int:
    if rs is None:
        return 0
    return int((rs.get("status") or {}).get(key) or 0)


def _active(rss: Sequence[dict[str, Any] | None]) -> list[dict[str, Any]]:
    """``FilterActiveReplicaSets``: the RSs with ``spec.replicas > 0``."""
    return [rs for rs in rss if rs is not None and _replicas(rs) > 0]


def _sum_spec(rss: Sequence[dict[str, Any] | None]) -> int:
    """``GetReplicaCountForReplicaSets``: the sum of ``spec.replicas``."""
    return sum(_replicas(rs) for rs in rss if rs is not None)


def _sum_status(rss: Sequence[dict[str, Any] | None], key: str) -> int:
    return sum(_rs_status(rs, key) for rs in rss if rs is not None)


def _created_key(rs: Mapping[str, Any]) -> tuple:
    created = creation_time(rs)
    return (created.timestamp() if created else float("-inf"), str(meta(rs).get("name", "")))


# ------------------------------------------------------------------------------- conditions


def get_condition(status: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == kind:
            return condition
    return None


def new_condition(
    kind: str, status: str, reason: str, message: str, now: dt.datetime
) -> dict[str, Any]:
    stamp = format_time(now)
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def set_condition(status: dict[str, Any], condition: dict[str, Any]) -> None:
    """``SetDeploymentCondition``: no-op for the same status and reason; keeps
    ``lastTransitionTime`` when only the reason changes; the condition moves to the end."""
    current = get_condition(status, condition["type"])
    if (
        current is not None
        and current.get("status") == condition["status"]
        and current.get("reason") == condition["reason"]
    ):
        return
    if current is not None and current.get("status") == condition["status"]:
        condition = {**condition, "lastTransitionTime": current.get("lastTransitionTime")}
    others = [c for c in status.get("conditions") or [] if c.get("type") != condition["type"]]
    status["conditions"] = [*others, condition]


def remove_condition(status: dict[str, Any], kind: str) -> None:
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != kind]


# ---------------------------------------------------------------------------------- the sync


class _Stop(Exception):
    """Ends the sync early (a hash collision): the status written so far still goes out."""

    def __init__(self, requeue_after: float | None = None):
        super().__init__()
        self.requeue_after = requeue_after


class _Sync:
    """Working copies of the Deployment and its ReplicaSets, and the actions taken so far."""

    def __init__(
        self,
        deploy: Mapping[str, Any],
        replicasets: Sequence[Mapping[str, Any]],
        now: dt.datetime,
    ):
        self.original = deploy
        self.d = copy_json(dict(deploy))
        self.d.setdefault("metadata", {})
        self.d.setdefault("spec", {})
        self.status: dict[str, Any] = copy_json(dict(deploy.get("status") or {}))
        self.namespace = str(meta(deploy).get("namespace", ""))
        self.name = str(meta(deploy).get("name", ""))
        self.all_replicasets = [
            rs for rs in replicasets if meta(rs).get("namespace", "") == self.namespace
        ]
        self.now = now
        # spec.replicas as observed: upstream scales copies, so the status it writes in the
        # same sync still sums the sizes it read (``unavailableReplicas``).
        self.observed_replicas = {
            str(meta(rs).get("name", "")): _replicas(rs) for rs in self.all_replicasets
        }
        self.actions: list[Action] = []
        self.notes: list[str] = []
        self.involved = object_reference(deploy)

    # --- small queries ---------------------------------------------------------------------

    @property
    def replicas(self) -> int:
        return _replicas(self.d)

    def event(self, type_: str, reason: str, message: str) -> Event:
        return Event(self.involved, type_, reason, message)

    # --- writes ----------------------------------------------------------------------------

    def set_deployment_revision(self, revision: str) -> bool:
        annotations = self.d["metadata"].setdefault("annotations", {})
        if annotations.get(REVISION_ANNOTATION) != revision:
            annotations[REVISION_ANNOTATION] = revision
            return True
        return False

    def scale_replicaset(
        self, rs: dict[str, Any], new_scale: int, operation: str | None = None
    ) -> bool:
        """``scaleReplicaSet``: patch size and replica annotations; event when the size moved."""
        old_scale = _replicas(rs)
        size_changes = old_scale != new_scale
        desired, maximum = self.replicas, self.replicas + max_surge(self.d)
        annotations = meta(rs).get("annotations") or {}
        annotations_change = annotations.get(DESIRED_REPLICAS_ANNOTATION) != str(
            desired
        ) or annotations.get(MAX_REPLICAS_ANNOTATION) != str(maximum)
        if not (size_changes or annotations_change):
            return False
        rs.setdefault("spec", {})["replicas"] = new_scale
        new_annotations = rs.setdefault("metadata", {}).setdefault("annotations", {})
        new_annotations[DESIRED_REPLICAS_ANNOTATION] = str(desired)
        new_annotations[MAX_REPLICAS_ANNOTATION] = str(maximum)
        events: tuple[Event, ...] = ()
        if size_changes:
            operation = operation or ("up" if old_scale < new_scale else "down")
            message = (
                f"Scaled {operation} replica set {meta(rs).get('name')} "
                f"to {new_scale} from {old_scale}"
            )
            events = (self.event(NORMAL, "ScalingReplicaSet", message),)
        self.actions.append(
            Patch(
                "ReplicaSet",
                self.namespace,
                str(meta(rs).get("name", "")),
                {
                    "metadata": {
                        "annotations": {
                            DESIRED_REPLICAS_ANNOTATION: str(desired),
                            MAX_REPLICAS_ANNOTATION: str(maximum),
                        }
                    },
                    "spec": {"replicas": new_scale},
                },
                on_success=events,
            )
        )
        return size_changes

    def scale_and_record(self, rs: dict[str, Any], new_scale: int) -> bool:
        """``scaleReplicaSetAndRecordEvent``: nothing to do when the size is already right."""
        if _replicas(rs) == new_scale:
            return False
        return self.scale_replicaset(rs, new_scale)


# --------------------------------------------------------------------- new and old ReplicaSets


def _find_new_rs(
    deploy: Mapping[str, Any], rs_list: Sequence[dict[str, Any]]
) -> dict[str, Any] | None:
    """``FindNewReplicaSet``: the oldest RS whose template equals the Deployment's."""
    template = (deploy.get("spec") or {}).get("template") or {}
    for rs in sorted(rs_list, key=_created_key):
        if templates_equal_ignoring_hash((rs.get("spec") or {}).get("template") or {}, template):
            return rs
    return None


def _copy_deployment_annotations(deploy: Mapping[str, Any], rs: dict[str, Any]) -> bool:
    changed = False
    annotations = rs.setdefault("metadata", {}).setdefault("annotations", {})
    for key, value in (meta(deploy).get("annotations") or {}).items():
        if key in _SKIPPED_ANNOTATIONS or annotations.get(key) == value:
            continue
        annotations[key] = value
        changed = True
    return changed


def _set_new_rs_annotations(
    sync: _Sync, rs: dict[str, Any], new_revision: str, exists: bool
) -> bool:
    """``SetNewReplicaSetAnnotations``: copy annotations, raise the revision, keep history."""
    changed = _copy_deployment_annotations(sync.d, rs)
    annotations = rs["metadata"]["annotations"]
    had_revision = REVISION_ANNOTATION in annotations
    old_revision = str(annotations.get(REVISION_ANNOTATION, ""))
    try:
        old_number = int(old_revision) if old_revision else 0
    except ValueError:
        return False
    new_number = int(new_revision)
    if old_number < new_number:
        annotations[REVISION_ANNOTATION] = new_revision
        changed = True
        if had_revision:
            history = str(annotations.get(REVISION_HISTORY_ANNOTATION, ""))
            old_revisions = history.split(",") if history else []
            if not old_revisions:
                annotations[REVISION_HISTORY_ANNOTATION] = old_revision
            else:
                total = len(history) + len(old_revision) + 1
                start = 0
                while total > MAX_REV_HISTORY_LENGTH_IN_CHARS and start < len(old_revisions):
                    total -= len(old_revisions[start]) + 1
                    start += 1
                if total <= MAX_REV_HISTORY_LENGTH_IN_CHARS:
                    annotations[REVISION_HISTORY_ANNOTATION] = ",".join(
                        [*old_revisions[start:], old_revision]
                    )
    if not exists:
        desired, maximum = sync.replicas, sync.replicas + max_surge(sync.d)
        annotations[DESIRED_REPLICAS_ANNOTATION] = str(desired)
        annotations[MAX_REPLICAS_ANNOTATION] = str(maximum)
        changed = True
    return changed


def _new_rs_new_replicas(
    deploy: Mapping[str, Any], all_rss: Sequence[dict[str, Any] | None], new_rs: Mapping[str, Any]
) -> int:
    """``NewRSNewReplicas``: how big the new RS may be now.

    RollingUpdate: ``maxTotal = replicas + maxSurge``; with ``current`` = sum of all RSs'
    ``spec.replicas``, the new RS grows by ``min(maxTotal - current, replicas - newRS)`` (not at
    all when ``current >= maxTotal``). Recreate: straight to ``replicas``.
    """
    replicas = _replicas(deploy)
    if not _is_rolling(deploy):
        return replicas
    max_total = replicas + max_surge(deploy)
    current = _sum_spec(all_rss)
    if current >= max_total:
        return _replicas(new_rs)
    scale_up = min(max_total - current, replicas - _replicas(new_rs))
    return _replicas(new_rs) + scale_up


def _get_new_rs(
    sync: _Sync,
    rs_list: list[dict[str, Any]],
    old_rss: list[dict[str, Any]],
    create: bool,
) -> dict[str, Any] | None:
    """``getNewReplicaSet``: sync the existing new RS's annotations, or create it."""
    existing = _find_new_rs(sync.d, rs_list)
    new_revision = str(max((_revision(rs) for rs in old_rss), default=0) + 1)
    deadline = _progress_deadline(sync.d)

    if existing is not None:
        annotations_updated = _set_new_rs_annotations(sync, existing, new_revision, exists=True)
        deploy_min_ready = int(sync.d["spec"].get("minReadySeconds") or 0)
        min_ready_changes = int(existing.get("spec", {}).get("minReadySeconds") or 0) != (
            deploy_min_ready
        )
        if annotations_updated or min_ready_changes:
            existing.setdefault("spec", {})["minReadySeconds"] = deploy_min_ready
            sync.actions.append(
                Patch(
                    "ReplicaSet",
                    sync.namespace,
                    str(meta(existing).get("name", "")),
                    {
                        "metadata": {"annotations": dict(meta(existing).get("annotations") or {})},
                        "spec": {"minReadySeconds": deploy_min_ready},
                    },
                )
            )
            # Upstream returns right after this update; the Deployment's revision and the
            # FoundNewReplicaSet condition follow on the next sync.
            return existing
        existing_revision = (meta(existing).get("annotations") or {}).get(REVISION_ANNOTATION)
        if existing_revision is not None:
            sync.set_deployment_revision(str(existing_revision))
        if deadline is not None and get_condition(sync.status, "Progressing") is None:
            set_condition(
                sync.status,
                new_condition(
                    "Progressing",
                    "True",
                    FOUND_NEW_RS_REASON,
                    f'Found new replica set "{meta(existing).get("name")}"',
                    sync.now,
                ),
            )
        return existing

    if not create:
        return None

    template = copy_json(dict(sync.d["spec"].get("template") or {}))
    collision_count = sync.status.get("collisionCount")
    pod_template_hash = compute_hash(template, collision_count)
    template_meta = template.setdefault("metadata", {})
    template_meta["labels"] = {
        **(template_meta.get("labels") or {}),
        POD_TEMPLATE_HASH_LABEL: pod_template_hash,
    }
    selector = copy_json(dict(sync.d["spec"].get("selector") or {}))
    selector["matchLabels"] = {
        **(selector.get("matchLabels") or {}),
        POD_TEMPLATE_HASH_LABEL: pod_template_hash,
    }
    rs_name = f"{sync.name}-{pod_template_hash}"
    new_rs: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": rs_name,
            "namespace": sync.namespace,
            "labels": dict(template_meta["labels"]),
            "annotations": {},
            "ownerReferences": [controller_ref(sync.d)],
        },
        "spec": {
            "replicas": 0,
            "minReadySeconds": int(sync.d["spec"].get("minReadySeconds") or 0),
            "selector": selector,
            "template": template,
        },
    }
    replicas = _new_rs_new_replicas(sync.d, [*old_rss, new_rs], new_rs)
    new_rs["spec"]["replicas"] = replicas
    _set_new_rs_annotations(sync, new_rs, new_revision, exists=False)

    clash = next((rs for rs in sync.all_replicasets if meta(rs).get("name") == rs_name), None)
    already_exists = clash is not None
    if clash is not None:
        if is_controlled_by(clash, sync.d) and templates_equal_ignoring_hash(
            (clash.get("spec") or {}).get("template") or {}, sync.d["spec"].get("template") or {}
        ):
            created = copy_json(dict(clash))
        else:
            # A hash collision: bump collisionCount and try again with a different hash.
            sync.status["collisionCount"] = int(collision_count or 0) + 1
            sync.notes.append(
                f"Found a hash collision for deployment {sync.name} - bumping collisionCount "
                f"to {sync.status['collisionCount']}"
            )
            raise _Stop(requeue_after=0.0)
    else:
        created = new_rs
        events: list[Event] = []
        if replicas > 0:
            events.append(
                sync.event(
                    NORMAL, "ScalingReplicaSet", f"Scaled up replica set {rs_name} to {replicas}"
                )
            )
        sync.actions.append(
            Create(
                new_rs,
                on_success=tuple(events),
                on_failure=(
                    sync.event(
                        WARNING,
                        FAILED_RS_CREATE_REASON,
                        f'Failed to create new replica set "{rs_name}": {{error}}',
                    ),
                ),
            )
        )
    rs_list.append(created)
    sync.set_deployment_revision(new_revision)
    if not already_exists and deadline is not None:
        set_condition(
            sync.status,
            new_condition(
                "Progressing",
                "True",
                NEW_RS_REASON,
                f'Created new replica set "{rs_name}"',
                sync.now,
            ),
        )
    return created


def _get_all(
    sync: _Sync, rs_list: list[dict[str, Any]], create: bool
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """``getAllReplicaSetsAndSyncRevision``: (new RS or None, every old RS)."""
    current_new = _find_new_rs(sync.d, rs_list)
    old = [rs for rs in rs_list if rs is not current_new]
    new_rs = _get_new_rs(sync, rs_list, old, create)
    old = [rs for rs in rs_list if rs is not new_rs]
    return new_rs, old


# ------------------------------------------------------------------------------------ scaling


def _find_active_or_latest(
    new_rs: dict[str, Any] | None, old_rss: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """``FindActiveOrLatest``: the one active RS, or the newest when none is active."""
    if new_rs is None and not old_rss:
        return None
    newest_first = sorted(old_rss, key=_created_key, reverse=True)
    active = _active([*newest_first, new_rs])
    if not active:
        return new_rs if new_rs is not None else newest_first[0]
    if len(active) == 1:
        return active[0]
    return None


def _is_saturated(deploy: Mapping[str, Any], rs: Mapping[str, Any] | None) -> bool:
    """``IsSaturated``: the new RS has all replicas, per spec, annotation and availability."""
    if rs is None:
        return False
    desired = (meta(rs).get("annotations") or {}).get(DESIRED_REPLICAS_ANNOTATION)
    try:
        desired_number = int(str(desired))
    except ValueError:
        return False
    replicas = _replicas(deploy)
    return (
        _replicas(rs) == replicas
        and desired_number == replicas
        and _rs_status(rs, "availableReplicas") == replicas
    )


def _rs_fraction(rs: Mapping[str, Any], sync: _Sync) -> int:
    """``getReplicaSetFraction``: this RS's share of a resize, rounded half away from zero.

    Worked example: a Deployment with ``max-replicas`` 13 (10 + surge 3) scaled to 20
    (``max`` now 20 + 5 = 25): an RS of 8 becomes round(8 x 25 / 13) = round(15.38) = 15, a
    fraction of +7.
    """
    if sync.replicas == 0:
        return -_replicas(rs)
    deployment_max = sync.replicas + max_surge(sync.d)
    raw = (meta(rs).get("annotations") or {}).get(MAX_REPLICAS_ANNOTATION)
    try:
        before = int(str(raw))
    except ValueError:
        before = 0
    if before == 0:
        before = int(sync.status.get("replicas") or 0)
    if before == 0:
        return 0
    scaled = _replicas(rs) * deployment_max / before
    return round_half_away(scaled) - _replicas(rs)


def _rs_proportion(rs: Mapping[str, Any], sync: _Sync, to_add: int, added: int) -> int:
    """``GetReplicaSetProportion``: the fraction, capped by what is left to add or remove."""
    if _replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _rs_fraction(rs, sync)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def _scale(sync: _Sync, new_rs: dict[str, Any] | None, old_rss: list[dict[str, Any]]) -> None:
    """``scale``: resize during a scaling event or while paused, proportionally if needed.

    Worked example (replicas 10 -> 15, maxSurge 3 -> 4, mid-rollout old RS 8 and new RS 5,
    both annotated ``max-replicas: 13``): allowed = 15 + 4 = 19, to add = 19 - 13 = 6. Sorted
    larger first: old 8 -> round(8 x 19 / 13) = 12 (+4), new 5 -> round(5 x 19 / 13) = 7
    (+2); 4 + 2 = 6, nothing left over.
    """
    active_or_latest = _find_active_or_latest(new_rs, old_rss)
    if active_or_latest is not None:
        if _replicas(active_or_latest) != sync.replicas:
            sync.scale_and_record(active_or_latest, sync.replicas)
        return
    if _is_saturated(sync.d, new_rs):
        for old in _active(old_rss):
            sync.scale_and_record(old, 0)
        return
    if not _is_rolling(sync.d):
        return
    all_rss = _active([*old_rss, new_rs])
    all_replicas = _sum_spec(all_rss)
    allowed = sync.replicas + max_surge(sync.d) if sync.replicas > 0 else 0
    to_add = allowed - all_replicas
    operation = None
    if to_add > 0:
        # ReplicaSetsBySizeNewer: larger first, newer first among equals.
        all_rss.sort(key=_created_key, reverse=True)
        all_rss.sort(key=lambda rs: -_replicas(rs))
        operation = "up"
    elif to_add < 0:
        # ReplicaSetsBySizeOlder: larger first, older first among equals.
        all_rss.sort(key=_created_key)
        all_rss.sort(key=lambda rs: -_replicas(rs))
        operation = "down"
    added = 0
    sizes: list[int] = []
    for rs in all_rss:
        if to_add != 0:
            proportion = _rs_proportion(rs, sync, to_add, added)
            sizes.append(_replicas(rs) + proportion)
            added += proportion
        else:
            sizes.append(_replicas(rs))
    for index, rs in enumerate(all_rss):
        if index == 0 and to_add != 0:
            sizes[0] = max(sizes[0] + (to_add - added), 0)
        sync.scale_replicaset(rs, sizes[index], operation)


def _is_scaling_event(sync: _Sync, rs_list: list[dict[str, Any]]) -> bool:
    """``isScalingEvent``: an active RS was sized for a different ``spec.replicas``."""
    new_rs, old_rss = _get_all(sync, rs_list, create=False)
    for rs in _active([*old_rss, new_rs]):
        desired = (meta(rs).get("annotations") or {}).get(DESIRED_REPLICAS_ANNOTATION)
        if desired is None:
            continue
        try:
            if int(str(desired)) != sync.replicas:
                return True
        except ValueError:
            continue
    return False


def _cleanup(sync: _Sync, old_rss: list[dict[str, Any]]) -> None:
    """``cleanupDeployment``: delete the oldest idle old RSs beyond ``revisionHistoryLimit``.

    Only RSs with ``spec.replicas`` 0, ``status.replicas`` 0, an observed generation and no
    deletion in progress go; they go oldest revision first.
    """
    limit = _revision_history_limit(sync.d)
    if limit is None:
        return
    alive = [rs for rs in old_rss if not meta(rs).get("deletionTimestamp")]
    diff = len(alive) - limit
    if diff <= 0:
        return
    alive.sort(key=lambda rs: (_revision(rs), _created_key(rs)))
    for rs in alive[:diff]:
        if (
            _rs_status(rs, "replicas") != 0
            or _replicas(rs) != 0
            or int(meta(rs).get("generation") or 0) > _rs_status(rs, "observedGeneration")
        ):
            continue
        sync.actions.append(
            Delete("ReplicaSet", sync.namespace, str(meta(rs).get("name", "")), meta(rs).get("uid"))
        )
        sync.notes.append(f"Trying to cleanup replica set {meta(rs).get('name')}")


# --------------------------------------------------------------------------------- rollouts


def _reconcile_new_rs(
    sync: _Sync, all_rss: list[dict[str, Any] | None], new_rs: dict[str, Any]
) -> bool:
    if _replicas(new_rs) == sync.replicas:
        return False
    if _replicas(new_rs) > sync.replicas:
        return sync.scale_and_record(new_rs, sync.replicas)
    return sync.scale_and_record(new_rs, _new_rs_new_replicas(sync.d, all_rss, new_rs))


def _cleanup_unhealthy(sync: _Sync, old_rss: list[dict[str, Any]], max_cleanup: int) -> int:
    """``cleanupUnhealthyReplicas``: shrink old RSs by their unavailable replicas, oldest first,
    at most ``max_cleanup`` in total."""
    total = 0
    for rs in sorted(old_rss, key=_created_key):
        if total >= max_cleanup:
            break
        replicas = _replicas(rs)
        available = _rs_status(rs, "availableReplicas")
        if replicas == 0 or replicas == available:
            continue
        count = min(max_cleanup - total, replicas - available)
        sync.scale_and_record(rs, replicas - count)
        total += count
    return total


def _scale_down_old_for_rolling(
    sync: _Sync, all_rss: list[dict[str, Any] | None], old_rss: list[dict[str, Any]]
) -> int:
    """``scaleDownOldReplicaSetsForRollingUpdate``: remove ``available - minAvailable``
    replicas from the old RSs, oldest first."""
    min_available = sync.replicas - max_unavailable(sync.d)
    available = _sum_status(all_rss, "availableReplicas")
    if available <= min_available:
        return 0
    total = 0
    to_scale_down = available - min_available
    for rs in sorted(old_rss, key=_created_key):
        if total >= to_scale_down:
            break
        if _replicas(rs) == 0:
            continue
        count = min(_replicas(rs), to_scale_down - total)
        sync.scale_and_record(rs, _replicas(rs) - count)
        total += count
    return total


def _reconcile_old_rss(
    sync: _Sync,
    all_rss: list[dict[str, Any] | None],
    old_rss: list[dict[str, Any]],
    new_rs: dict[str, Any],
) -> bool:
    """``reconcileOldReplicaSets``; see the module docstring for the arithmetic."""
    if _sum_spec(old_rss) == 0:
        return False
    all_pods = _sum_spec(all_rss)
    min_available = sync.replicas - max_unavailable(sync.d)
    new_unavailable = _replicas(new_rs) - _rs_status(new_rs, "availableReplicas")
    max_scaled_down = all_pods - min_available - new_unavailable
    if max_scaled_down <= 0:
        return False
    cleaned = _cleanup_unhealthy(sync, old_rss, max_scaled_down)
    scaled = _scale_down_old_for_rolling(sync, [*old_rss, new_rs], old_rss)
    return cleaned + scaled > 0


def _rollout_rolling(sync: _Sync, rs_list: list[dict[str, Any]]) -> None:
    new_rs, old_rss = _get_all(sync, rs_list, create=True)
    assert new_rs is not None
    all_rss: list[dict[str, Any] | None] = [*old_rss, new_rs]
    if _reconcile_new_rs(sync, all_rss, new_rs):
        _sync_rollout_status(sync, all_rss, new_rs)
        return
    if _reconcile_old_rss(sync, all_rss, _active(old_rss), new_rs):
        _sync_rollout_status(sync, all_rss, new_rs)
        return
    if _deployment_complete(sync.d, sync.status):
        _cleanup(sync, old_rss)
    _sync_rollout_status(sync, all_rss, new_rs)


def _old_pods_running(
    new_rs: Mapping[str, Any] | None,
    old_rss: list[dict[str, Any]],
    pod_map: Mapping[str, list[Mapping[str, Any]]],
) -> bool:
    """``oldPodsRunning``: an old RS reports replicas, or an old pod is not terminal."""
    if _sum_status(old_rss, "replicas") > 0:
        return True
    new_uid = str(meta(new_rs).get("uid", "")) if new_rs is not None else None
    for uid, pods in pod_map.items():
        if new_uid is not None and uid == new_uid:
            continue
        for pod in pods:
            if (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                return True
    return False


def _rollout_recreate(
    sync: _Sync, rs_list: list[dict[str, Any]], pod_map: Mapping[str, list[Mapping[str, Any]]]
) -> None:
    new_rs, old_rss = _get_all(sync, rs_list, create=False)
    all_rss: list[dict[str, Any] | None] = [*old_rss, new_rs]
    scaled_down = False
    for rs in _active(old_rss):
        scaled_down = sync.scale_and_record(rs, 0) or scaled_down
    if scaled_down:
        _sync_rollout_status(sync, all_rss, new_rs)
        return
    if _old_pods_running(new_rs, old_rss, pod_map):
        sync.notes.append("Waiting for the old pods to go away before creating new ones")
        _sync_rollout_status(sync, all_rss, new_rs)
        return
    if new_rs is None:
        new_rs, old_rss = _get_all(sync, rs_list, create=True)
        all_rss = [*old_rss, new_rs]
    assert new_rs is not None
    sync.scale_and_record(new_rs, sync.replicas)
    if _deployment_complete(sync.d, sync.status):
        _cleanup(sync, old_rss)
    _sync_rollout_status(sync, all_rss, new_rs)


# ------------------------------------------------------------------------------------- status


def _calculate_status(
    sync: _Sync, all_rss: list[dict[str, Any] | None], new_rs: dict[str, Any] | None
) -> dict[str, Any]:
    """``calculateStatus``: counts from the RSs' statuses, plus the Available condition.

    Worked example: replicas 3, maxUnavailable 1, RSs reporting 2 available of 3 desired:
    unavailable = 3 - 2 = 1; 2 >= 3 - 1, so ``Available`` is True.
    """
    available = _sum_status(all_rss, "availableReplicas")
    observed_total = sum(
        sync.observed_replicas.get(str(meta(rs).get("name", "")), _replicas(rs))
        for rs in all_rss
        if rs is not None
    )
    unavailable = max(observed_total - available, 0)
    status: dict[str, Any] = {
        "observedGeneration": meta(sync.d).get("generation"),
        "replicas": _sum_status(all_rss, "replicas"),
        "updatedReplicas": _rs_status(new_rs, "replicas"),
        "readyReplicas": _sum_status(all_rss, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": unavailable,
        "conditions": copy_json(sync.status.get("conditions") or []),
    }
    if sync.status.get("collisionCount") is not None:
        status["collisionCount"] = sync.status["collisionCount"]
    if available >= sync.replicas - max_unavailable(sync.d):
        condition = new_condition(
            "Available",
            "True",
            MIN_AVAILABLE_REASON,
            "Deployment has minimum availability.",
            sync.now,
        )
    else:
        condition = new_condition(
            "Available",
            "False",
            MIN_UNAVAILABLE_REASON,
            "Deployment does not have minimum availability.",
            sync.now,
        )
    set_condition(status, condition)
    return status


def _deployment_complete(deploy: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    replicas = _replicas(deploy)
    return (
        int(status.get("updatedReplicas") or 0) == replicas
        and int(status.get("replicas") or 0) == replicas
        and int(status.get("availableReplicas") or 0) == replicas
        and int(status.get("observedGeneration") or 0) >= int(meta(deploy).get("generation") or 0)
    )


def _deployment_progressing(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """``DeploymentProgressing``: more updated, fewer old, more ready or more available."""

    def number(status: Mapping[str, Any], key: str) -> int:
        return int(status.get(key) or 0)

    old_old = number(old, "replicas") - number(old, "updatedReplicas")
    new_old = number(new, "replicas") - number(new, "updatedReplicas")
    return (
        number(new, "updatedReplicas") > number(old, "updatedReplicas")
        or new_old < old_old
        or number(new, "readyReplicas") > number(old, "readyReplicas")
        or number(new, "availableReplicas") > number(old, "availableReplicas")
    )


def _deployment_timed_out(sync: _Sync, status: Mapping[str, Any]) -> bool:
    """``DeploymentTimedOut``: ``Progressing.lastUpdateTime + deadline < now``."""
    deadline = _progress_deadline(sync.d)
    if deadline is None:
        return False
    condition = get_condition(status, "Progressing")
    if condition is None or condition.get("reason") == NEW_RS_AVAILABLE_REASON:
        return False
    if condition.get("reason") == TIMED_OUT_REASON:
        return True
    since = parse_time(condition.get("lastUpdateTime"))
    if since is None:
        return False
    return since + dt.timedelta(seconds=deadline) < sync.now


def _sync_rollout_status(
    sync: _Sync, all_rss: list[dict[str, Any] | None], new_rs: dict[str, Any] | None
) -> None:
    """``syncRolloutStatus``: counts plus the Progressing condition."""
    new_status = _calculate_status(sync, all_rss, new_rs)
    deadline = _progress_deadline(sync.d)
    if deadline is None:
        remove_condition(new_status, "Progressing")
    current = get_condition(sync.status, "Progressing")
    complete_already = (
        int(new_status.get("replicas") or 0) == int(new_status.get("updatedReplicas") or 0)
        and current is not None
        and current.get("reason") == NEW_RS_AVAILABLE_REASON
    )
    new_name = str(meta(new_rs).get("name", "")) if new_rs is not None else None
    if deadline is not None and not complete_already:
        if _deployment_complete(sync.d, new_status):
            message = (
                f'ReplicaSet "{new_name}" has successfully progressed.'
                if new_name
                else f'Deployment "{sync.name}" has successfully progressed.'
            )
            set_condition(
                new_status,
                new_condition("Progressing", "True", NEW_RS_AVAILABLE_REASON, message, sync.now),
            )
        elif _deployment_progressing(sync.status, new_status):
            message = (
                f'ReplicaSet "{new_name}" is progressing.'
                if new_name
                else f'Deployment "{sync.name}" is progressing.'
            )
            condition = new_condition("Progressing", "True", RS_UPDATED_REASON, message, sync.now)
            if current is not None:
                if current.get("status") == "True":
                    condition["lastTransitionTime"] = current.get("lastTransitionTime")
                remove_condition(new_status, "Progressing")
            set_condition(new_status, condition)
        elif _deployment_timed_out(sync, new_status):
            message = (
                f'ReplicaSet "{new_name}" has timed out progressing.'
                if new_name
                else f'Deployment "{sync.name}" has timed out progressing.'
            )
            set_condition(
                new_status,
                new_condition("Progressing", "False", TIMED_OUT_REASON, message, sync.now),
            )
    failure = _replica_failure(all_rss, new_rs)
    if failure is not None:
        set_condition(new_status, failure)
    else:
        remove_condition(new_status, "ReplicaFailure")
    sync.status = new_status


def _replica_failure(
    all_rss: list[dict[str, Any] | None], new_rs: dict[str, Any] | None
) -> dict[str, Any] | None:
    """``getReplicaFailures``: the new RS's ReplicaFailure condition, else any old RS's."""
    ordered = [new_rs] + [rs for rs in all_rss if rs is not new_rs]
    for rs in ordered:
        if rs is None:
            continue
        for condition in (rs.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "ReplicaFailure":
                return {
                    "type": "ReplicaFailure",
                    "status": condition.get("status"),
                    "lastUpdateTime": condition.get("lastTransitionTime"),
                    "lastTransitionTime": condition.get("lastTransitionTime"),
                    "reason": condition.get("reason"),
                    "message": condition.get("message"),
                }
    return None


def _sync_status_only(
    sync: _Sync, all_rss: list[dict[str, Any] | None], new_rs: dict[str, Any] | None
) -> None:
    """``syncDeploymentStatus``: counts and Available, Progressing left as it is."""
    sync.status = _calculate_status(sync, all_rss, new_rs)


def _check_paused_conditions(sync: _Sync) -> None:
    if _progress_deadline(sync.d) is None:
        return
    condition = get_condition(sync.status, "Progressing")
    if condition is not None and condition.get("reason") == TIMED_OUT_REASON:
        return
    paused_exists = condition is not None and condition.get("reason") == PAUSED_REASON
    paused = bool(sync.d["spec"].get("paused"))
    if paused and not paused_exists:
        set_condition(
            sync.status,
            new_condition(
                "Progressing", "Unknown", PAUSED_REASON, "Deployment is paused", sync.now
            ),
        )
    elif not paused and paused_exists:
        set_condition(
            sync.status,
            new_condition(
                "Progressing", "Unknown", RESUMED_REASON, "Deployment is resumed", sync.now
            ),
        )


def _sync_scale_or_paused(sync: _Sync, rs_list: list[dict[str, Any]]) -> None:
    """``sync``: scale and, when paused, clean up old revisions; no rollout progress."""
    new_rs, old_rss = _get_all(sync, rs_list, create=False)
    _scale(sync, new_rs, old_rss)
    if sync.d["spec"].get("paused"):
        _cleanup(sync, old_rss)
    _sync_status_only(sync, [*old_rss, new_rs], new_rs)


def _requeue_stuck(sync: _Sync) -> float | None:
    """``requeueStuckDeployment``: look again when the progress deadline would pass.

    Progressing last updated at 10:00:00, deadline 600 s, now 10:03:00: requeue in
    10:10:00 - 10:03:00 = 420 s (+1 s, as upstream adds to avoid clock skew).
    """
    deadline = _progress_deadline(sync.d)
    condition = get_condition(sync.status, "Progressing")
    if deadline is None or condition is None:
        return None
    if _deployment_complete(sync.d, sync.status) or condition.get("reason") == TIMED_OUT_REASON:
        return None
    since = parse_time(condition.get("lastUpdateTime"))
    if since is None:
        return None
    after = (since + dt.timedelta(seconds=deadline) - sync.now).total_seconds()
    return max(after, 0.0) + 1.0


# --------------------------------------------------------------------------------------- entry


def plan_deployment(
    deploy: Mapping[str, Any],
    replicasets: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    now: dt.datetime,
) -> Plan:
    """Plan one reconcile of ``deploy``.

    ``replicasets`` and ``pods`` are those of the Deployment's namespace (others are ignored).
    Pods only matter for ``Recreate`` (no new pods while an old one still runs).
    """
    sync = _Sync(deploy, replicasets, as_utc(now))
    spec = sync.d["spec"]
    selector = spec.get("selector")
    requeue: float | None = None

    if (
        isinstance(selector, Mapping)
        and not selector.get("matchLabels")
        and not selector.get("matchExpressions")
    ):
        sync.actions.append(
            sync.event(
                WARNING,
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
            )
        )
        generation = meta(deploy).get("generation")
        if generation is not None and int(sync.status.get("observedGeneration") or 0) < int(
            generation
        ):
            sync.status["observedGeneration"] = int(generation)
        return _finish(sync, None)

    claimed = claim(sync.d, sync.all_replicasets, selector)
    sync.actions.extend(claimed.patches)
    rs_list = [copy_json(rs) for rs in claimed.owned]
    pod_map = _pod_map(sync, rs_list, pods)

    try:
        if meta(deploy).get("deletionTimestamp"):
            new_rs, old_rss = _get_all(sync, rs_list, create=False)
            _sync_status_only(sync, [*old_rss, new_rs], new_rs)
            return _finish(sync, None)
        _check_paused_conditions(sync)
        if spec.get("paused") or _is_scaling_event(sync, rs_list):
            _sync_scale_or_paused(sync, rs_list)
        elif _strategy(sync.d)["type"] == "Recreate":
            _rollout_recreate(sync, rs_list, pod_map)
        else:
            _rollout_rolling(sync, rs_list)
        requeue = _requeue_stuck(sync)
    except _Stop as stop:
        requeue = stop.requeue_after
    return _finish(sync, requeue)


def _pod_map(
    sync: _Sync, rs_list: list[dict[str, Any]], pods: Sequence[Mapping[str, Any]]
) -> dict[str, list[Mapping[str, Any]]]:
    """``getPodMapForDeployment``: selected pods (active or not) by their RS's uid."""
    pod_map: dict[str, list[Mapping[str, Any]]] = {
        str(meta(rs).get("uid", "")): [] for rs in rs_list if meta(rs).get("uid")
    }
    selector = sync.d["spec"].get("selector")
    for pod in pods:
        if meta(pod).get("namespace", "") != sync.namespace:
            continue
        if not matches_selector_dict(selector, meta(pod).get("labels") or {}):
            continue
        ref = controller_of(pod)
        if ref is not None and str(ref.get("uid")) in pod_map:
            pod_map[str(ref.get("uid"))].append(pod)
    return pod_map


def _finish(sync: _Sync, requeue: float | None) -> Plan:
    """Append the Deployment's own writes: its status, then its revision annotation.

    The status goes first: it carries the observed ``resourceVersion`` as a precondition, which
    the annotation patch would otherwise have moved on.
    """
    status = without_zeros(sync.status)
    if sync.status.get("collisionCount") is not None:
        # A pointer upstream: 0 is a value, and it feeds the pod-template hash.
        status["collisionCount"] = sync.status["collisionCount"]
    if status_differs(sync.original.get("status"), status):
        sync.actions.append(
            UpdateStatus(
                "Deployment",
                sync.namespace,
                sync.name,
                status,
                meta(sync.original).get("resourceVersion"),
            )
        )
    original_revision = (meta(sync.original).get("annotations") or {}).get(REVISION_ANNOTATION)
    new_revision = (sync.d["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION)
    if new_revision is not None and new_revision != original_revision:
        sync.actions.append(
            Patch(
                "Deployment",
                sync.namespace,
                sync.name,
                {"metadata": {"annotations": {REVISION_ANNOTATION: new_revision}}},
            )
        )
    return Plan.of(sync.actions, requeue, sync.notes)
