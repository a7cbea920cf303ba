"""kube-scheduler's default filter and score plugins, as small pure functions over a snapshot.

Each plugin carries its upstream name, reason strings and arithmetic (Kubernetes 1.32):

=================================  ===========================  ============================
plugin                             filter rejects with          score (weight in profile)
=================================  ===========================  ============================
NodeUnschedulable                  node(s) were unschedulable   -
NodeName                           node(s) didn't match the     -
                                   requested node name
TaintToleration                    node(s) had untolerated      PreferNoSchedule taints (3)
                                   taint {key: value}
NodeAffinity                       node(s) didn't match Pod's   preferred terms (2)
                                   node affinity/selector
NodeResourcesFit                   Too many pods, Insufficient  LeastAllocated (1)
                                   cpu, Insufficient memory
NodeResourcesBalancedAllocation    -                            balance of cpu/memory (1)
ImageLocality                      -                            images already there (1)
=================================  ===========================  ============================

A plugin is an object with a ``name`` and some of: ``filter(pod, node) -> Status``,
``pre_filter(pod, snapshot) -> PreFilterResult``, ``pre_score(pod, snapshot) -> bool`` (False
skips the score for this pod), ``score(pod, node, snapshot) -> int`` with ``normalize_reverse``
(None: no normalisation; False/True: :func:`default_normalize`, plain or reversed). Every plugin
says whether its verdict ``depends_on_pods`` (the pods already on the node): the framework
recomputes those after each assumed pod and keeps the others for the whole batch. A plugin may
read only what :class:`PodInfo`'s signatures cover, since the framework reuses verdicts between
pods with equal signatures.

A filter returns a :class:`Status`: ``SUCCESS`` or a rejection (``Unschedulable`` when
evicting pods could help, ``UnschedulableAndUnresolvable`` when nothing but a change to the node
or the pod can). ``Error`` is kept for bugs and never used for an ordinary "does not fit".
Plugins never change the pod or the node they are given.

Node readiness has no filter of its own, as upstream: the node lifecycle controller taints a
NotReady node ``node.kubernetes.io/not-ready:NoSchedule`` (``unreachable`` when its kubelet stopped
reporting) and TaintToleration keeps pods away unless they tolerate that taint.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from .snapshot import (
    TAINT_NODE_UNSCHEDULABLE,
    NodeInfo,
    PodInfo,
    Taint,
    Toleration,
    tolerations_tolerate,
)

if TYPE_CHECKING:
    from .snapshot import Snapshot

__all__ = [
    "MAX_NODE_SCORE",
    "PRE_FILTER_ALL",
    "PRE_FILTER_SKIP",
    "SUCCESS",
    "Code",
    "ImageLocality",
    "InsufficientResource",
    "NodeAffinity",
    "NodeName",
    "NodeResourcesBalancedAllocation",
    "NodeResourcesFit",
    "NodeUnschedulable",
    "PreFilterResult",
    "Status",
    "TaintToleration",
    "balanced_allocation_score",
    "default_normalize",
    "image_locality_score",
    "insufficient_resources",
    "least_allocated_score",
    "least_requested_score",
]

MAX_NODE_SCORE = 100

# Plugin names (pkg/scheduler/framework/plugins/names).
NODE_UNSCHEDULABLE = "NodeUnschedulable"
NODE_NAME = "NodeName"
TAINT_TOLERATION = "TaintToleration"
NODE_AFFINITY = "NodeAffinity"
NODE_RESOURCES_FIT = "NodeResourcesFit"
NODE_RESOURCES_BALANCED_ALLOCATION = "NodeResourcesBalancedAllocation"
IMAGE_LOCALITY = "ImageLocality"

# Reason strings, verbatim.
ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable"
ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name"
ERR_REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
ERR_REASON_AFFINITY_CONFLICT = "pod affinity terms conflict"
ERR_REASON_TOO_MANY_PODS = "Too many pods"
ERR_REASON_INSUFFICIENT_CPU = "Insufficient cpu"
ERR_REASON_INSUFFICIENT_MEMORY = "Insufficient memory"


class Code(enum.IntEnum):
    """``framework.Code``: the values upstream gives them."""

    SUCCESS = 0
    ERROR = 1
    UNSCHEDULABLE = 2
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3

    @property
    def label(self) -> str:
        """Upstream's ``Code.String()``: ``"UnschedulableAndUnresolvable"``."""
        return _CODE_LABELS[self]


_CODE_LABELS = {
    Code.SUCCESS: "Success",
    Code.ERROR: "Error",
    Code.UNSCHEDULABLE: "Unschedulable",
    Code.UNSCHEDULABLE_AND_UNRESOLVABLE: "UnschedulableAndUnresolvable",
}


@dataclass(frozen=True, slots=True)
class Status:
    """A plugin's verdict: a code, the reasons (shown in FailedScheduling) and the plugin."""

    code: Code = Code.SUCCESS
    reasons: tuple[str, ...] = ()
    plugin: str = ""

    @property
    def is_success(self) -> bool:
        return self.code == Code.SUCCESS

    @property
    def is_rejected(self) -> bool:
        """Unschedulable or UnschedulableAndUnresolvable (upstream ``IsRejected``)."""
        return self.code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)

    @property
    def message(self) -> str:
        """The reasons joined with ", " (upstream ``Status.Message``)."""
        return ", ".join(self.reasons)


SUCCESS = Status()


def _rejection(plugin: str, *reasons: str, resolvable: bool = False) -> Status:
    code = Code.UNSCHEDULABLE if resolvable else Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    return Status(code, reasons, plugin)


@dataclass(frozen=True, slots=True)
class PreFilterResult:
    """What a PreFilter step says about a pod before any node is looked at.

    ``skip``: the plugin has nothing to check for this pod, its Filter is not run.
    ``node_names``: only these nodes can pass (None: all nodes).
    ``status``: a rejection means the pod fits no node at all.
    """

    skip: bool = False
    node_names: frozenset[str] | None = None
    status: Status = SUCCESS


PRE_FILTER_SKIP = PreFilterResult(skip=True)
PRE_FILTER_ALL = PreFilterResult()


def default_normalize(score: int, max_count: int, reverse: bool) -> int:
    """``helper.DefaultNormalizeScore`` for one node, given the highest raw score of the batch.

    Scores are scaled so the highest becomes 100: ``100 * score // max_count``; ``reverse``
    turns that into ``100 - ...``. When every raw score is 0, non-reversed scores stay 0 and
    reversed ones become 100. Example, reversed, raw counts [0, 1, 2]: max 2 gives
    100 - 0 = 100, 100 - 100 * 1 // 2 = 50, 100 - 100 = 0.
    """
    if max_count == 0:
        return MAX_NODE_SCORE if reverse else 0
    normalized = MAX_NODE_SCORE * score // max_count
    return MAX_NODE_SCORE - normalized if reverse else normalized


# ------------------------------------------------------------------------- NodeUnschedulable

_UNSCHEDULABLE_TAINT = Taint(TAINT_NODE_UNSCHEDULABLE, "", "NoSchedule")


class NodeUnschedulable:
    """Keeps pods off cordoned nodes (``spec.unschedulable: true``).

    A pod that tolerates ``node.kubernetes.io/unschedulable:NoSchedule`` (DaemonSet pods do)
    may still go there.
    """

    name = NODE_UNSCHEDULABLE
    depends_on_pods = False
    _rejected = _rejection(NODE_UNSCHEDULABLE, ERR_REASON_UNSCHEDULABLE)

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        if not node.unschedulable:
            return SUCCESS
        if tolerations_tolerate(pod.tolerations, _UNSCHEDULABLE_TAINT):
            return SUCCESS
        return self._rejected


# --------------------------------------------------------------------------------- NodeName


class NodeName:
    """A pod that names a node (``spec.nodeName``) fits only that node."""

    name = NODE_NAME
    depends_on_pods = False
    _rejected = _rejection(NODE_NAME, ERR_REASON_NODE_NAME)

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        if not pod.node_name or pod.node_name == node.name:
            return SUCCESS
        return self._rejected


# -------------------------------------------------------------------------- TaintToleration


def untolerated_taint(tolerations: Sequence[Toleration], taints: Sequence[Taint]) -> Taint | None:
    """The first taint no toleration tolerates (upstream ``FindMatchingUntoleratedTaint``)."""
    for taint in taints:
        if not tolerations_tolerate(tolerations, taint):
            return taint
    return None


def untolerated_taint_reason(taint: Taint) -> str:
    """``node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }``.

    Upstream formats ``{%s: %s}`` with the taint's key and value (not its effect), so a taint
    without a value leaves a space before the closing brace.
    """
    return f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}"


class TaintToleration:
    """Filter: every NoSchedule and NoExecute taint of the node must be tolerated.

    Score: nodes with fewer PreferNoSchedule taints the pod does not tolerate score higher.
    The raw score is that count; normalisation reverses it against the highest count among
    the feasible nodes: counts [0, 1, 2] become 100, 50, 0. Only tolerations with no effect or
    effect PreferNoSchedule count for the score.
    """

    name = TAINT_TOLERATION
    depends_on_pods = False
    normalize_reverse: bool | None = True

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        taints = node.hard_taints
        if not taints:
            return SUCCESS
        taint = untolerated_taint(pod.tolerations, taints)
        if taint is None:
            return SUCCESS
        return _rejection(TAINT_TOLERATION, untolerated_taint_reason(taint))

    def pre_score(self, pod: PodInfo, snapshot: Snapshot) -> bool:
        return True

    def score(self, pod: PodInfo, node: NodeInfo, snapshot: Snapshot) -> int:
        taints = node.soft_taints
        if not taints:
            return 0
        tolerations = [t for t in pod.tolerations if t.effect in ("", "PreferNoSchedule")]
        return sum(1 for taint in taints if not tolerations_tolerate(tolerations, taint))


# ----------------------------------------------------------------------------- NodeAffinity


def node_affinity_matches(pod: PodInfo, node: NodeInfo) -> bool:
    """``RequiredNodeAffinity.Match``: the node selector, then the required terms.

    ``nodeSelector`` entries must all be labels of the node with those values. The required
    ``nodeSelectorTerms`` are ORed; within a term every expression and field must hold.
    """
    labels = node.labels
    for key, value in pod.node_selector:
        if labels.get(key) != value:
            return False
    terms = pod.required_terms
    if terms is None:
        return True
    for term in terms:
        if term.matches(labels, node.name):
            return True
    return False


class NodeAffinity:
    """Filter: ``nodeSelector`` and required node affinity. Score: preferred node affinity.

    PreFilter narrows the nodes to the names a pod pins with ``matchFields`` on
    ``metadata.name`` (DaemonSet pods do this); nodes left out are reported as
    ``node(s) didn't satisfy plugin(s) [NodeAffinity]``.

    Score: the sum of the weights of the preferred terms a node matches, normalised so the
    best feasible node gets 100. Example: terms of weight 80 (zone=a) and 20 (disk=ssd); a node
    with both scores 100, one in zone a only 100 * 80 // 100 = 80, one with neither 0.
    """

    name = NODE_AFFINITY
    depends_on_pods = False
    normalize_reverse: bool | None = False
    _rejected = _rejection(NODE_AFFINITY, ERR_REASON_NODE_AFFINITY)

    def pre_filter(self, pod: PodInfo, snapshot: Snapshot) -> PreFilterResult:
        terms = pod.required_terms
        if terms is None and not pod.node_selector:
            return PRE_FILTER_SKIP
        if not terms:
            return PRE_FILTER_ALL
        names: frozenset[str] | None = None
        for term in terms:
            if term.pinned_names is None:
                return PRE_FILTER_ALL  # this term does not pin node names; terms are ORed
            names = term.pinned_names if names is None else names | term.pinned_names
        if names is not None and not names:
            return PreFilterResult(status=_rejection(NODE_AFFINITY, ERR_REASON_AFFINITY_CONFLICT))
        return PreFilterResult(node_names=names)

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        if node_affinity_matches(pod, node):
            return SUCCESS
        return self._rejected

    def pre_score(self, pod: PodInfo, snapshot: Snapshot) -> bool:
        return pod.preferred_terms is not None

    def score(self, pod: PodInfo, node: NodeInfo, snapshot: Snapshot) -> int:
        total = 0
        for weight, term in pod.preferred_terms or ():
            if term.matches(node.labels, node.name):
                total += weight
        return total


# ------------------------------------------------------------------------- NodeResourcesFit


class InsufficientResource(NamedTuple):
    """Upstream ``noderesources.InsufficientResource``: what was short, and by how much."""

    resource: str
    reason: str
    requested: int
    used: int
    capacity: int


def insufficient_resources(pod: PodInfo, node: NodeInfo) -> list[InsufficientResource]:
    """``fitsRequest``: the resources the node lacks for the pod, in upstream's order.

    The pod count always matters: a node with 110 pods and ``pods: 110`` allocatable is full
    ("Too many pods"). cpu and memory matter only when the pod requests them: a request of 500m
    on a node with 4000m allocatable and 3600m requested fails, since 500 > 4000 - 3600 = 400.
    """
    short: list[InsufficientResource] = []
    count = len(node.pods)
    if count + 1 > node.allocatable_pods:
        short.append(
            InsufficientResource("pods", ERR_REASON_TOO_MANY_PODS, 1, count, node.allocatable_pods)
        )
    if pod.cpu > 0 and pod.cpu > node.allocatable_cpu - node.requested_cpu:
        short.append(
            InsufficientResource(
                "cpu",
                ERR_REASON_INSUFFICIENT_CPU,
                pod.cpu,
                node.requested_cpu,
                node.allocatable_cpu,
            )
        )
    if pod.memory > 0 and pod.memory > node.allocatable_memory - node.requested_memory:
        short.append(
            InsufficientResource(
                "memory",
                ERR_REASON_INSUFFICIENT_MEMORY,
                pod.memory,
                node.requested_memory,
                node.allocatable_memory,
            )
        )
    return short


def least_requested_score(requested: int, capacity: int) -> int:
    """Unused share of one resource on a 0-100 scale (``leastRequestedScore``).

    ``((capacity - requested) * 100) // capacity``, 0 when capacity is 0 or overcommitted.
    CPU score: ((4000 - 3000) * 100) // 4000 = 25.
    """
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def least_allocated_score(pod: PodInfo, node: NodeInfo, snapshot: Snapshot | None = None) -> int:
    """LeastAllocated: the weighted mean of the cpu and memory scores (weights 1 and 1).

    Requests use the scoring defaults (a container without requests counts 100m / 200Mi), both
    the pod's and those already on the node. Worked example: node 4000m / 8Gi allocatable with
    2500m / 2Gi already requested; the pod asks 500m / 2Gi::

        cpu    ((4000 - 3000) * 100) // 4000 = 25
        memory ((8Gi - 4Gi) * 100) // 8Gi = 50
        score  (25 * 1 + 50 * 1) // (1 + 1) = 37

    A resource the node has none of is left out of the mean (weightSum counts only the rest).
    """
    # least_requested_score, inlined: this runs for every node a pod's search examines.
    cpu_capacity, memory_capacity = node.allocatable_cpu, node.allocatable_memory
    if cpu_capacity and memory_capacity:
        cpu = node.nonzero_cpu + pod.nonzero_cpu
        memory = node.nonzero_memory + pod.nonzero_memory
        cpu_score = 0 if cpu > cpu_capacity else (cpu_capacity - cpu) * 100 // cpu_capacity
        memory_score = (
            0 if memory > memory_capacity else (memory_capacity - memory) * 100 // memory_capacity
        )
        return (cpu_score + memory_score) // 2
    if cpu_capacity:
        return least_requested_score(node.nonzero_cpu + pod.nonzero_cpu, cpu_capacity)
    if memory_capacity:
        return least_requested_score(node.nonzero_memory + pod.nonzero_memory, memory_capacity)
    return 0


# The few distinct NodeResourcesFit rejections, built once: (reasons...) -> Status.
_FIT_STATUSES: dict[tuple[str, ...], Status] = {}


class NodeResourcesFit:
    """Filter: the node must have room for the pod's requests and one more pod.

    Room is allocatable minus what the pods already on the node (bound or assumed) request.
    Every shortage is reported, so one node can count for both "Insufficient cpu" and
    "Insufficient memory". All are ``Unschedulable``: evicting lower-priority pods could help.
    (Kubernetes 1.34 made a request larger than the whole node UnschedulableAndUnresolvable;
    1.32, modelled here, does not.)

    Score: LeastAllocated (see :func:`least_allocated_score`), the default scoring strategy.
    """

    name = NODE_RESOURCES_FIT
    depends_on_pods = True
    normalize_reverse: bool | None = None

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        if (
            len(node.pods) < node.allocatable_pods
            and (pod.cpu == 0 or pod.cpu <= node.allocatable_cpu - node.requested_cpu)
            and (pod.memory == 0 or pod.memory <= node.allocatable_memory - node.requested_memory)
        ):
            return SUCCESS
        reasons = tuple(r.reason for r in insufficient_resources(pod, node))
        status = _FIT_STATUSES.get(reasons)
        if status is None:
            status = _rejection(NODE_RESOURCES_FIT, *reasons, resolvable=True)
            _FIT_STATUSES[reasons] = status
        return status

    def pre_score(self, pod: PodInfo, snapshot: Snapshot) -> bool:
        return True

    score = staticmethod(least_allocated_score)


# ---------------------------------------------------------- NodeResourcesBalancedAllocation


def balanced_allocation_score(
    pod: PodInfo, node: NodeInfo, snapshot: Snapshot | None = None
) -> int:
    """How evenly cpu and memory would be used: ``int((1 - std) * 100)``.

    Unlike LeastAllocated this uses the real requests (no 100m / 200Mi defaults). Each
    fraction is requested / allocatable, capped at 1; with two resources the standard deviation
    is ``|cpu_fraction - memory_fraction| / 2``. Worked example: node 4000m / 8Gi, requested
    after adding the pod 3000m / 2Gi::

        cpu 3000 / 4000 = 0.75, memory 2Gi / 8Gi = 0.25
        std = |0.75 - 0.25| / 2 = 0.25
        score = int((1 - 0.25) * 100) = 75

    Float arithmetic, truncated toward zero, as upstream's ``int64(...)``. A resource the node
    has none of is left out (one fraction left means std 0, score 100).
    """
    cpu_capacity, memory_capacity = node.allocatable_cpu, node.allocatable_memory
    if not (cpu_capacity and memory_capacity):
        return MAX_NODE_SCORE
    cpu = (node.requested_cpu + pod.cpu) / cpu_capacity
    memory = (node.requested_memory + pod.memory) / memory_capacity
    if cpu > 1:
        cpu = 1.0
    if memory > 1:
        memory = 1.0
    std = abs((cpu - memory) / 2)
    return int((1 - std) * MAX_NODE_SCORE)


class NodeResourcesBalancedAllocation:
    """Score only: prefers nodes whose cpu and memory would be used in the same proportion."""

    name = NODE_RESOURCES_BALANCED_ALLOCATION
    depends_on_pods = True
    normalize_reverse: bool | None = None

    def pre_score(self, pod: PodInfo, snapshot: Snapshot) -> bool:
        return True

    score = staticmethod(balanced_allocation_score)


# ---------------------------------------------------------------------------- ImageLocality

MB = 1024 * 1024
MIN_THRESHOLD = 23 * MB
MAX_CONTAINER_THRESHOLD = 1000 * MB


def image_locality_score(pod: PodInfo, node: NodeInfo, snapshot: Snapshot) -> int:
    """Prefers nodes that already have the pod's images, scaled by how widespread they are.

    Each image the node has counts ``int(size * nodes_with_image / all_nodes)`` bytes; the sum
    is clamped to [23Mi, 1000Mi * containers] and mapped onto 0-100. Worked example: one
    container, a 500Mi image present on 2 of 4 nodes::

        sum   = int(524288000 * 2 / 4) = 262144000 (250Mi)
        score = 100 * (250Mi - 23Mi) // (1000Mi - 23Mi) = 23

    Init containers count too; names without a tag are looked up as ``:latest``.
    """
    images = node.images
    if not images:
        return 0
    total_nodes = len(snapshot)
    spread_counts = snapshot.image_num_nodes
    total = 0
    for image in pod.images:
        size = images.get(image)
        if size is not None:
            total += int(float(size) * (spread_counts.get(image, 0) / total_nodes))
    return _calculate_priority(total, pod.num_containers)


def _calculate_priority(sum_scores: int, num_containers: int) -> int:
    """``calculatePriority``: clamp the byte sum, then scale it linearly onto 0-100."""
    max_threshold = MAX_CONTAINER_THRESHOLD * num_containers
    if sum_scores < MIN_THRESHOLD:
        sum_scores = MIN_THRESHOLD
    elif sum_scores > max_threshold:
        sum_scores = max_threshold
    numerator = MAX_NODE_SCORE * (sum_scores - MIN_THRESHOLD)
    denominator = max_threshold - MIN_THRESHOLD
    # Go's int64 division truncates toward zero; with no containers the numerator is 0.
    return numerator // denominator if numerator >= 0 else -(-numerator // denominator)


class ImageLocality:
    """Score only: see :func:`image_locality_score`."""

    name = IMAGE_LOCALITY
    depends_on_pods = False
    normalize_reverse: bool | None = None

    def pre_score(self, pod: PodInfo, snapshot: Snapshot) -> bool:
        return True

    score = staticmethod(image_locality_score)
