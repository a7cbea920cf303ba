"""How the dashboard shows a pod's or a node's state: a category (colour and symbol) and a label.

The label is always the text Kubernetes prints (``kubectl get pods``' STATUS column, computed by
``cluster.store.tables``): "CrashLoopBackOff" stays "CrashLoopBackOff", so people recognise it.
The *category* groups those texts so that the page can colour them and give each a symbol, never
relying on colour alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class State:
    """A display category: ``key`` is the CSS modifier, ``symbol`` the shape shown beside it."""

    key: str
    symbol: str
    label: str  # the category's name, for legends and counts


READY = State("ready", "●", _("Ready"))
NOT_READY = State("not-ready", "◐", _("Not ready"))
CREATING = State("creating", "◔", _("Starting"))
PENDING = State("pending", "○", _("Pending"))
FAILING = State("failing", "✕", _("Failing"))
TERMINATING = State("terminating", "◌", _("Terminating"))
COMPLETED = State("completed", "✓", _("Completed"))
UNKNOWN = State("unknown", "?", _("Unknown"))

# In the order legends and counts list them.
POD_STATES: tuple[State, ...] = (
    READY,
    NOT_READY,
    CREATING,
    PENDING,
    FAILING,
    TERMINATING,
    COMPLETED,
    UNKNOWN,
)
BY_KEY = {state.key: state for state in POD_STATES}

_CREATING = {"ContainerCreating", "PodInitializing"}
_PENDING = {"Pending", "SchedulingGated"}
_COMPLETED = {"Completed", "Succeeded"}
_FAILING = {
    "CrashLoopBackOff",
    "Error",
    "Failed",
    "ImagePullBackOff",
    "ErrImagePull",
    "ErrImageNeverPull",
    "InvalidImageName",
    "OOMKilled",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "ContainerStatusUnknown",
    "ContainerCannotRun",
    "DeadlineExceeded",
    "Evicted",
}


def pod_state(status: str, ready: str = "") -> State:
    """The category of a pod from its STATUS and READY cells (``"Running"``, ``"1/2"``).

    ``Running`` is Ready only when every container is (``2/2``); ``Init:1/3`` is still starting
    while ``Init:CrashLoopBackOff`` is failing; a reason Kubarium does not know counts as not
    ready (something is off, nothing is known to have failed).
    """
    if status == "Running":
        done, _sep, total = ready.partition("/")
        return READY if done.isdigit() and done == total and int(total) > 0 else NOT_READY
    if status in _CREATING:
        return CREATING
    if status.startswith("Init:"):
        detail = status.removeprefix("Init:")
        return CREATING if detail.replace("/", "").isdigit() else FAILING
    if status in _PENDING:
        return PENDING
    if status == "Terminating":
        return TERMINATING
    if status in _COMPLETED:
        return COMPLETED
    if status == "Unknown":
        return UNKNOWN
    if status in _FAILING or status.startswith(("Err", "Signal:", "ExitCode:")):
        return FAILING
    return NOT_READY


def coarse_pod_state(phase: str, ready: bool, terminating: bool, bound: bool = False) -> State:
    """A category from indexed columns only, for counts over many pods (one SQL query).

    It cannot see container reasons: a pod in CrashLoopBackOff counts as Running, not ready; a
    Pending pod already on a node counts as starting, even when its image pull is failing.
    """
    if terminating and phase not in ("Succeeded", "Failed"):
        return TERMINATING
    if phase == "Running":
        return READY if ready else NOT_READY
    if phase == "Pending":
        return CREATING if bound else PENDING
    if phase == "Succeeded":
        return COMPLETED
    if phase == "Failed":
        return FAILING
    return UNKNOWN


@dataclass
class StateCount:
    state: State
    count: int


def state_counts(counts: Mapping[str, int]) -> list[StateCount]:
    """Pod counts by category key (``coarse_pod_state(...).key``) as a list in the order of
    ``POD_STATES``, without the categories that count none."""
    return [StateCount(s, counts[s.key]) for s in POD_STATES if counts.get(s.key)]


@dataclass(frozen=True)
class NodeCondition:
    key: str
    symbol: str
    text: str  # Kubernetes' word, untranslated: Ready, NotReady, Unknown


NODE_READY = NodeCondition("ready", "✓", "Ready")
NODE_NOT_READY = NodeCondition("failing", "✕", "NotReady")
NODE_UNKNOWN = NodeCondition("unknown", "?", "Unknown")


def node_condition(ready: str) -> NodeCondition:
    """The node's Ready condition status (``True``/``False``/``Unknown``) as the page shows it.

    ``kubectl get nodes`` prints NotReady for both False and Unknown; the page keeps Unknown
    apart, because it tells a different story (the kubelet stopped reporting).
    """
    return {"True": NODE_READY, "False": NODE_NOT_READY}.get(ready, NODE_UNKNOWN)
