"""Kubarium's kube-scheduler: the pure core (no database, no Celery).

Build a :class:`Snapshot` of the nodes and the pods bound to them, turn the pending pods into
:class:`PodInfo`, then::

    results = schedule_batch(pods, snapshot, random.Random(seed))

Each :class:`ScheduleResult` names the chosen node (or None) and carries a :class:`Diagnosis`
for the dashboard; :func:`failed_scheduling_message` gives Kubernetes' FailedScheduling text
and :func:`plain_language` a sentence for people.
"""

from .explain import event_message, failed_scheduling_message, fit_error_message, plain_language
from .framework import (
    DEFAULT_PROFILE,
    Diagnosis,
    NodeScore,
    Profile,
    ScheduleResult,
    SchedulingError,
    ScoreColumn,
    num_feasible_nodes_to_find,
    schedule,
    schedule_batch,
)
from .plugins import SUCCESS, Code, Status
from .snapshot import NodeInfo, PodInfo, Snapshot, Taint, Toleration

__all__ = [
    "DEFAULT_PROFILE",
    "SUCCESS",
    "Code",
    "Diagnosis",
    "NodeInfo",
    "NodeScore",
    "PodInfo",
    "Profile",
    "ScheduleResult",
    "SchedulingError",
    "ScoreColumn",
    "Snapshot",
    "Status",
    "Taint",
    "Toleration",
    "event_message",
    "failed_scheduling_message",
    "fit_error_message",
    "num_feasible_nodes_to_find",
    "plain_language",
    "schedule",
    "schedule_batch",
]
