"""The scheduler's view of the cluster: one immutable-ish snapshot per scheduling batch.

kube-scheduler never reads the API objects while it filters and scores: it works on a snapshot of
its cache (``framework.NodeInfo`` per node, ``framework.PodInfo`` per pod) in which everything a
plugin needs is already computed. This module is that snapshot for Kubarium, built from plain
Kubernetes object dicts (their JSON form).

* :class:`PodInfo` holds what the plugins read from a pod: its requests (computed the way
  ``k8s.io/component-helpers/resource.PodRequests`` does), its node selector and node affinity
  (compiled once), its tolerations, images and priority.
* :class:`NodeInfo` holds a node's labels, taints, allocatable resources and the sum of the
  requests of the pods already bound or assumed there.
* :class:`Snapshot` is the list of nodes of one batch. :meth:`Snapshot.assume` adds a pod to a
  node so that later pods of the same batch see it, as the scheduler cache's ``AssumePod`` does.

NodeInfo objects are never changed in place: assuming a pod replaces the node's NodeInfo with a
new one, so a plugin (or a diagnosis kept for the dashboard) can hold one without surprises.

Requests, worked example (the one in upstream's ``computePodResourceRequest`` comment)::

    initContainers: IC1 cpu 2, memory 1G;  IC2 cpu 2, memory 3G
    containers:     C1  cpu 2, memory 1G;  C2  cpu 1, memory 1G
    sum of containers = cpu 3, memory 2G
    effective request = max(sum, each init container) = cpu 3, memory 3G

For scoring only, a container that names no cpu (memory) request counts as 100m (200Mi):
``DEFAULT_MILLI_CPU_REQUEST`` / ``DEFAULT_MEMORY_REQUEST``, upstream's ``schedutil`` defaults.
A request explicitly set to ``"0"`` stays 0.
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from cluster.quantity import cpu_millis, memory_bytes

__all__ = [
    "DEFAULT_MEMORY_REQUEST",
    "DEFAULT_MILLI_CPU_REQUEST",
    "TAINT_NODE_NOT_READY",
    "TAINT_NODE_UNREACHABLE",
    "TAINT_NODE_UNSCHEDULABLE",
    "NodeInfo",
    "NodeSelectorTerm",
    "PodInfo",
    "Requirement",
    "Snapshot",
    "Taint",
    "Toleration",
    "normalized_image_name",
]

# pkg/scheduler/util: DefaultMilliCPURequest = 100 (0.1 core), DefaultMemoryRequest = 200 * 1024 * 1024.
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

# Well-known taints (k8s.io/api/core/v1/well_known_taints.go).
TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable"

NO_SCHEDULE = "NoSchedule"
NO_EXECUTE = "NoExecute"
PREFER_NO_SCHEDULE = "PreferNoSchedule"

OBJECT_NAME_FIELD = "metadata.name"  # the only field a node selector's matchFields may use
TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_GO_INT = re.compile(r"[+-]?[0-9]+")

# Quantities repeat a lot (every replica of a Deployment asks for the same "250m"): parse once.
_cpu = functools.lru_cache(maxsize=4096)(cpu_millis)
_bytes = functools.lru_cache(maxsize=4096)(memory_bytes)


def _parse_go_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 10, 64)``: optional sign, ASCII digits, in int64 range; else None.

    Stricter than Python's ``int()``, which also takes ``" 7"``, ``"1_000"`` and ``"٣"``.
    """
    if not isinstance(text, str) or not _GO_INT.fullmatch(text) or not text.isascii():
        return None
    value = int(text)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def normalized_image_name(name: str) -> str:
    """The name ImageLocality looks up: ``"nginx"`` -> ``"nginx:latest"``; tagged names stay.

    Upstream appends ``:latest`` when the last ``:`` is not after the last ``/`` (so a registry
    port is not mistaken for a tag): ``"registry:5000/app"`` -> ``"registry:5000/app:latest"``.
    """
    if name.rfind(":") <= name.rfind("/"):
        return name + ":latest"
    return name


# ------------------------------------------------------------------------- taints/tolerations


class Taint(NamedTuple):
    """A node taint: ``Taint("node-role.kubernetes.io/control-plane", "", "NoSchedule")``."""

    key: str
    value: str
    effect: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Taint:
        return cls(data.get("key") or "", data.get("value") or "", data.get("effect") or "")


class Toleration(NamedTuple):
    """A pod toleration; ``operator`` "" means Equal, ``effect`` "" means every effect."""

    key: str = ""
    operator: str = ""
    value: str = ""
    effect: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Toleration:
        return cls(
            data.get("key") or "",
            data.get("operator") or "",
            data.get("value") or "",
            data.get("effect") or "",
        )

    def tolerates(self, taint: Taint) -> bool:
        """``Toleration.ToleratesTaint`` from k8s.io/api/core/v1, rule for rule.

        1. A toleration with an effect only matches taints of that effect.
        2. A toleration with a key only matches taints with that key; an empty key matches all
           keys (with ``Exists`` that tolerates everything).
        3. ``Exists`` matches any value; ``Equal`` (or no operator) needs the same value.
        4. Any other operator matches nothing.
        """
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator in ("", "Equal"):
            return self.value == taint.value
        return self.operator == "Exists"


def tolerations_tolerate(tolerations: Sequence[Toleration], taint: Taint) -> bool:
    """True when any toleration tolerates ``taint`` (upstream ``TolerationsTolerateTaint``)."""
    for toleration in tolerations:
        if toleration.tolerates(taint):
            return True
    return False


# ------------------------------------------------------------------------ node selector terms


class Requirement(NamedTuple):
    """One compiled ``matchExpressions`` / ``matchFields`` entry.

    ``values`` is a frozenset for In/NotIn, the parsed integer for Gt/Lt, None otherwise.
    """

    key: str
    operator: str
    values: frozenset[str] | int | None

    def matches_labels(self, labels: Mapping[str, str]) -> bool:
        """``labels.Requirement.Matches``.

        In: the label exists with one of the values. NotIn: the label is absent or has none of
        the values. Exists / DoesNotExist: presence. Gt / Lt: the label exists, parses as an
        int64 and is strictly greater / less than the requirement's value (``"5" Gt 3``).
        """
        op = self.operator
        if op == "In":
            value = labels.get(self.key)
            return value is not None and value in self.values  # type: ignore[operator]
        if op == "NotIn":
            value = labels.get(self.key)
            return value is None or value not in self.values  # type: ignore[operator]
        if op == "Exists":
            return self.key in labels
        if op == "DoesNotExist":
            return self.key not in labels
        value = labels.get(self.key)
        if value is None:
            return False
        number = _parse_go_int(value)
        if number is None:
            return False
        if op == "Gt":
            return number > self.values  # type: ignore[operator]
        return number < self.values  # type: ignore[operator]

    def matches_name(self, node_name: str) -> bool:
        """A ``matchFields`` requirement on ``metadata.name`` (In = equal, NotIn = not equal)."""
        (value,) = self.values  # type: ignore[misc]
        return (node_name == value) if self.operator == "In" else (node_name != value)


def _compile_label_requirement(expr: Mapping[str, Any]) -> Requirement | None:
    """``nodeSelectorRequirementsAsSelector`` for one expression; None on a parse error.

    Errors follow ``labels.NewRequirement``: In/NotIn need values, Exists/DoesNotExist take none,
    Gt/Lt take exactly one integer. Unknown operators are errors.
    """
    key = expr.get("key") or ""
    op = expr.get("operator") or ""
    values = list(expr.get("values") or [])
    if op in ("In", "NotIn"):
        return Requirement(key, op, frozenset(values)) if values else None
    if op in ("Exists", "DoesNotExist"):
        return Requirement(key, op, None) if not values else None
    if op in ("Gt", "Lt"):
        if len(values) != 1:
            return None
        number = _parse_go_int(values[0])
        return Requirement(key, op, number) if number is not None else None
    return None


def _compile_field_requirement(expr: Mapping[str, Any]) -> Requirement | None:
    """``nodeSelectorRequirementsAsFieldSelector``: only ``metadata.name`` In/NotIn one value."""
    key = expr.get("key") or ""
    op = expr.get("operator") or ""
    values = list(expr.get("values") or [])
    if key != OBJECT_NAME_FIELD or len(values) != 1 or op not in ("In", "NotIn"):
        return None
    return Requirement(key, op, frozenset(values))


class NodeSelectorTerm(NamedTuple):
    """A compiled ``nodeSelectorTerms`` entry: its expressions and fields are ANDed.

    ``valid`` is False when an expression could not be parsed; such a term matches no node, and
    neither does a term with no expressions and no fields (component-helpers ``nodeaffinity``).
    ``pinned_names`` is what NodeAffinity's PreFilter reads: the intersection of the values of
    the term's ``metadata.name In`` fields, None when it has none.
    """

    labels: tuple[Requirement, ...]
    fields: tuple[Requirement, ...]
    valid: bool = True
    pinned_names: frozenset[str] | None = None
    raw: Any = None  # the term as written, for the dashboard; not used for matching

    @classmethod
    def from_dict(cls, term: Mapping[str, Any]) -> NodeSelectorTerm:
        exprs = term.get("matchExpressions") or []
        fields = term.get("matchFields") or []
        labels = tuple(_compile_label_requirement(e) for e in exprs)
        compiled_fields = tuple(_compile_field_requirement(f) for f in fields)
        valid = None not in labels and None not in compiled_fields
        pinned: frozenset[str] | None = None
        for field in fields:
            if field.get("key") == OBJECT_NAME_FIELD and field.get("operator") == "In":
                values = frozenset(field.get("values") or ())
                pinned = values if pinned is None else pinned & values
        return cls(
            tuple(r for r in labels if r is not None),
            tuple(r for r in compiled_fields if r is not None),
            valid,
            pinned,
            _freeze(term),
        )

    def matches(self, labels: Mapping[str, str], node_name: str) -> bool:
        """Every expression and every field requirement holds for the node."""
        if not self.valid or not (self.labels or self.fields):
            return False
        for requirement in self.labels:
            if not requirement.matches_labels(labels):
                return False
        for requirement in self.fields:
            if not requirement.matches_name(node_name):
                return False
        return True


def _freeze(value: Any) -> Any:
    """A hashable copy of a JSON value (dicts become sorted item tuples, lists tuples)."""
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


# -------------------------------------------------------------------------------- requests


def _container_requests(container: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(cpu millis, memory bytes) a container requests; None where the request is not named.

    API defaulting (``SetDefaults_Pod``) copies a limit into a missing request, so a container
    with ``limits: {cpu: 1}`` and no requests requests 1 cpu; that is applied here too.
    """
    resources = container.get("resources") or {}
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    cpu = requests.get("cpu", limits.get("cpu"))
    memory = requests.get("memory", limits.get("memory"))
    return (
        _cpu(cpu) if cpu is not None else None,
        _bytes(memory) if memory is not None else None,
    )


def pod_requests(spec: Mapping[str, Any], *, non_zero: bool) -> tuple[int, int]:
    """(cpu millis, memory bytes) the pod requests, as ``resourcehelper.PodRequests`` computes.

    Containers run together, so their requests add up; init containers run one at a time
    before them, so the pod needs the largest of them; sidecars (init containers with
    ``restartPolicy: Always``) keep running, so they add to the containers *and* to every init
    container started after them. Pod overhead is added last.

    With ``non_zero`` a container that names no cpu (memory) request counts as 100m (200Mi),
    the defaults the scoring plugins use. Example: two containers without requests and one
    asking for 250m cpu: non-zero cpu = 100 + 100 + 250 = 450m, real cpu = 250m.
    """
    default_cpu = DEFAULT_MILLI_CPU_REQUEST if non_zero else 0
    default_memory = DEFAULT_MEMORY_REQUEST if non_zero else 0

    def requests_of(container: Mapping[str, Any]) -> tuple[int, int]:
        cpu, memory = _container_requests(container)
        return (default_cpu if cpu is None else cpu, default_memory if memory is None else memory)

    cpu = memory = 0
    for container in spec.get("containers") or ():
        c, m = requests_of(container)
        cpu += c
        memory += m

    sidecar_cpu = sidecar_memory = 0
    init_cpu = init_memory = 0
    for container in spec.get("initContainers") or ():
        c, m = requests_of(container)
        if container.get("restartPolicy") == "Always":
            cpu += c
            memory += m
            sidecar_cpu += c
            sidecar_memory += m
            c, m = sidecar_cpu, sidecar_memory
        else:
            c += sidecar_cpu
            m += sidecar_memory
        init_cpu = max(init_cpu, c)
        init_memory = max(init_memory, m)
    cpu = max(cpu, init_cpu)
    memory = max(memory, init_memory)

    overhead = spec.get("overhead") or {}
    cpu += _cpu(overhead.get("cpu"))
    memory += _bytes(overhead.get("memory"))
    return cpu, memory


# ---------------------------------------------------------------------------------- PodInfo


class Signature:
    """A hashable summary of everything the filter and score plugins read from a pod.

    Its hash is computed once and equal signatures are interned (:func:`signature`), so the
    framework's lookups, done for every pod of a batch, compare by identity.
    """

    __slots__ = ("values", "_hash", "__weakref__")

    def __init__(self, *values: Any):
        self.values = values
        self._hash = hash(values)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Signature):
            return NotImplemented
        return self._hash == other._hash and self.values == other.values

    def __repr__(self) -> str:
        return f"Signature{self.values!r}"


_SIGNATURES: weakref.WeakValueDictionary[Signature, Signature] = weakref.WeakValueDictionary()


def signature(*values: Any) -> Signature:
    """The interned :class:`Signature` of ``values``."""
    made = Signature(*values)
    return _SIGNATURES.setdefault(made, made)


class PodInfo:
    """What the scheduler plugins read from one pod; build it with :meth:`from_pod`.

    ``required_terms`` is None when the pod has no required node affinity (every node passes);
    ``preferred_terms`` is None when it has no preferred node affinity (the score is skipped).

    Two signatures summarise what plugins read: ``static_signature`` what is compared with a
    node's labels, taints and images, ``resource_signature`` the requests. Replicas of one
    template share both, which lets the framework reuse per-node results within a batch; a
    plugin must read nothing from a pod that its signatures leave out.
    """

    __slots__ = (
        "namespace",
        "name",
        "key",
        "uid",
        "cpu",
        "memory",
        "nonzero_cpu",
        "nonzero_memory",
        "node_name",
        "node_selector",
        "required_terms",
        "preferred_terms",
        "tolerations",
        "priority",
        "preemption_policy",
        "images",
        "num_containers",
        "phase",
        "static_signature",
        "resource_signature",
    )

    namespace: str
    name: str
    key: tuple[str, str]
    uid: str
    cpu: int
    memory: int
    nonzero_cpu: int
    nonzero_memory: int
    node_name: str
    node_selector: tuple[tuple[str, str], ...]
    required_terms: tuple[NodeSelectorTerm, ...] | None
    preferred_terms: tuple[tuple[int, NodeSelectorTerm], ...] | None
    tolerations: tuple[Toleration, ...]
    priority: int
    preemption_policy: str
    images: tuple[str, ...]
    num_containers: int
    phase: str
    static_signature: Signature
    resource_signature: Signature

    @classmethod
    def from_pod(cls, pod: Mapping[str, Any]) -> PodInfo:
        """Build from a Pod object dict (``{"metadata": ..., "spec": ..., "status": ...}``)."""
        meta = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        status = pod.get("status") or {}
        self = object.__new__(cls)
        self.namespace = meta.get("namespace") or "default"
        self.name = meta.get("name") or ""
        self.key = (self.namespace, self.name)
        self.uid = meta.get("uid") or ""
        self.cpu, self.memory = pod_requests(spec, non_zero=False)
        self.nonzero_cpu, self.nonzero_memory = pod_requests(spec, non_zero=True)
        self.node_name = spec.get("nodeName") or ""
        self.node_selector = tuple(sorted((spec.get("nodeSelector") or {}).items()))

        node_affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
        required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
        if required is None:
            self.required_terms = None
        else:
            terms = required.get("nodeSelectorTerms") or []
            self.required_terms = tuple(NodeSelectorTerm.from_dict(t) for t in terms)
        preferred = node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution")
        weighted = tuple(
            (int(p.get("weight") or 0), NodeSelectorTerm.from_dict(p.get("preference") or {}))
            for p in preferred or ()
        )
        # Terms of weight 0 are dropped, as NewPreferredSchedulingTerms does.
        weighted = tuple(w for w in weighted if w[0] != 0)
        self.preferred_terms = weighted if preferred else None

        self.tolerations = tuple(Toleration.from_dict(t) for t in spec.get("tolerations") or ())
        self.priority = int(spec.get("priority") or 0)
        self.preemption_policy = spec.get("preemptionPolicy") or "PreemptLowerPriority"
        containers = list(spec.get("initContainers") or ()) + list(spec.get("containers") or ())
        self.images = tuple(normalized_image_name(c.get("image") or "") for c in containers)
        self.num_containers = len(containers)
        self.phase = status.get("phase") or ""
        self.static_signature = signature(
            self.node_name,
            self.node_selector,
            self.required_terms,
            self.preferred_terms,
            self.tolerations,
            self.images,
            self.num_containers,
        )
        self.resource_signature = signature(
            self.cpu, self.memory, self.nonzero_cpu, self.nonzero_memory
        )
        return self

    def tolerates(self, taint: Taint) -> bool:
        return tolerations_tolerate(self.tolerations, taint)

    @property
    def has_required_node_affinity(self) -> bool:
        return self.required_terms is not None

    def __repr__(self) -> str:
        return f"<PodInfo {self.namespace}/{self.name} cpu={self.cpu}m memory={self.memory}>"


# --------------------------------------------------------------------------------- NodeInfo


def _node_ready(status: Mapping[str, Any]) -> bool:
    for condition in status.get("conditions") or ():
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


class NodeInfo:
    """One node and the pods on it; build it with :meth:`from_node`, never change it.

    ``hard_taints`` are the NoSchedule and NoExecute taints (what the TaintToleration filter
    checks), ``soft_taints`` the PreferNoSchedule ones (what its score counts), both in the
    node's order. ``requested_*`` add up the pods' real requests (NodeResourcesFit's filter);
    ``nonzero_*`` the requests with the 100m/200Mi defaults (LeastAllocated's score).

    ``ready`` mirrors the node's Ready condition for people; the filters never read it. Like
    upstream, a NotReady node is kept away from new pods by the taints the node lifecycle
    controller puts on it (``node.kubernetes.io/not-ready`` / ``unreachable``, NoSchedule), which
    the TaintToleration filter checks.
    """

    __slots__ = (
        "name",
        "labels",
        "taints",
        "hard_taints",
        "soft_taints",
        "unschedulable",
        "ready",
        "allocatable_cpu",
        "allocatable_memory",
        "allocatable_pods",
        "requested_cpu",
        "requested_memory",
        "nonzero_cpu",
        "nonzero_memory",
        "pods",
        "images",
    )

    name: str
    labels: Mapping[str, str]
    taints: tuple[Taint, ...]
    hard_taints: tuple[Taint, ...]
    soft_taints: tuple[Taint, ...]
    unschedulable: bool
    ready: bool
    allocatable_cpu: int
    allocatable_memory: int
    allocatable_pods: int
    requested_cpu: int
    requested_memory: int
    nonzero_cpu: int
    nonzero_memory: int
    pods: tuple[PodInfo, ...]
    images: Mapping[str, int]

    @classmethod
    def from_node(
        cls, node: Mapping[str, Any], pods: Iterable[PodInfo | Mapping[str, Any]] = ()
    ) -> NodeInfo:
        """Build from a Node object dict and the pods bound to it (dicts or PodInfo).

        Pods in a terminal phase (Succeeded, Failed) are left out, as the scheduler's informer
        leaves them out. Allocatable falls back to capacity when a node reports none, as the
        API's defaulting does.
        """
        meta = node.get("metadata") or {}
        spec = node.get("spec") or {}
        status = node.get("status") or {}
        allocatable = status.get("allocatable") or status.get("capacity") or {}
        self = object.__new__(cls)
        self.name = meta.get("name") or ""
        self.labels = dict(meta.get("labels") or {})
        self.taints = tuple(Taint.from_dict(t) for t in spec.get("taints") or ())
        self.hard_taints = tuple(t for t in self.taints if t.effect in (NO_SCHEDULE, NO_EXECUTE))
        self.soft_taints = tuple(t for t in self.taints if t.effect == PREFER_NO_SCHEDULE)
        self.unschedulable = bool(spec.get("unschedulable"))
        self.ready = _node_ready(status)
        self.allocatable_cpu = _cpu(allocatable.get("cpu"))
        self.allocatable_memory = _bytes(allocatable.get("memory"))
        self.allocatable_pods = _bytes(allocatable.get("pods"))
        images: dict[str, int] = {}
        for image in status.get("images") or ():
            size = int(image.get("sizeBytes") or 0)
            for name in image.get("names") or ():
                images[name] = size
        self.images = images
        self.requested_cpu = self.requested_memory = 0
        self.nonzero_cpu = self.nonzero_memory = 0
        self.pods = ()
        infos = [p if isinstance(p, PodInfo) else PodInfo.from_pod(p) for p in pods]
        infos = [p for p in infos if p.phase not in TERMINAL_PHASES]
        self._add(infos)
        return self

    def _add(self, pods: Sequence[PodInfo]) -> None:
        self.pods = self.pods + tuple(pods)
        for pod in pods:
            self.requested_cpu += pod.cpu
            self.requested_memory += pod.memory
            self.nonzero_cpu += pod.nonzero_cpu
            self.nonzero_memory += pod.nonzero_memory

    def with_pod(self, pod: PodInfo) -> NodeInfo:
        """A new NodeInfo with ``pod`` added; this one is left as it was."""
        clone = object.__new__(NodeInfo)
        for slot in NodeInfo.__slots__:
            object.__setattr__(clone, slot, getattr(self, slot))
        clone._add((pod,))
        return clone

    def without_pods(self, pods: Iterable[PodInfo]) -> NodeInfo:
        """A new NodeInfo with ``pods`` removed (preemption's "what if the victims were gone")."""
        gone = {id(p) for p in pods}
        kept = [p for p in self.pods if id(p) not in gone]
        clone = object.__new__(NodeInfo)
        for slot in NodeInfo.__slots__:
            object.__setattr__(clone, slot, getattr(self, slot))
        clone.pods = ()
        clone.requested_cpu = clone.requested_memory = 0
        clone.nonzero_cpu = clone.nonzero_memory = 0
        clone._add(kept)
        return clone

    @property
    def pod_count(self) -> int:
        return len(self.pods)

    @property
    def pod_keys(self) -> tuple[tuple[str, str], ...]:
        """(namespace, name) of every pod on the node, bound or assumed."""
        return tuple(p.key for p in self.pods)

    @property
    def image_names(self) -> frozenset[str]:
        return frozenset(self.images)

    @property
    def free_cpu(self) -> int:
        """Allocatable cpu minus the requests already there, in millicores (can be negative)."""
        return self.allocatable_cpu - self.requested_cpu

    @property
    def free_memory(self) -> int:
        return self.allocatable_memory - self.requested_memory

    def __repr__(self) -> str:
        return (
            f"<NodeInfo {self.name} cpu={self.requested_cpu}/{self.allocatable_cpu}m "
            f"memory={self.requested_memory}/{self.allocatable_memory} "
            f"pods={len(self.pods)}/{self.allocatable_pods}>"
        )


# --------------------------------------------------------------------------------- Snapshot


class Snapshot:
    """The nodes of one scheduling batch, in a fixed order.

    ``next_start_index`` is where the next pod's search over the nodes begins (upstream keeps
    ``nextStartNodeIndex`` on the Scheduler); the framework advances it after every pod so that
    all nodes get the same chance to be examined. ``image_num_nodes`` counts, per image name,
    how many nodes report it (ImageLocality's "spread"). ``changes`` lists the index of the node
    each :meth:`assume` changed, in order. The framework keeps per-batch memos in ``memo``;
    plugins never write to a snapshot.
    """

    __slots__ = ("nodes", "_index", "next_start_index", "image_num_nodes", "memo", "changes")

    def __init__(self, nodes: Iterable[NodeInfo]):
        self.nodes: list[NodeInfo] = list(nodes)
        self._index: dict[str, int] = {}
        for i, node in enumerate(self.nodes):
            if node.name in self._index:
                raise ValueError(f"node {node.name!r} appears twice in the snapshot")
            self._index[node.name] = i
        self.next_start_index = 0
        counts: dict[str, int] = {}
        for node in self.nodes:
            for name in node.images:
                counts[name] = counts.get(name, 0) + 1
        self.image_num_nodes: dict[str, int] = counts
        self.memo: dict[Any, Any] = {}
        self.changes: list[int] = []

    @classmethod
    def from_objects(
        cls, nodes: Iterable[Mapping[str, Any]], pods: Iterable[Mapping[str, Any] | PodInfo] = ()
    ) -> Snapshot:
        """Build from Node dicts and Pod dicts; pods are placed by ``spec.nodeName``.

        Pods without a node, or naming a node that is not in ``nodes``, are ignored.
        """
        by_node: dict[str, list[PodInfo]] = {}
        for pod in pods:
            info = pod if isinstance(pod, PodInfo) else PodInfo.from_pod(pod)
            if info.node_name:
                by_node.setdefault(info.node_name, []).append(info)
        return cls(
            NodeInfo.from_node(n, by_node.get((n.get("metadata") or {}).get("name") or "", ()))
            for n in nodes
        )

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self):
        return iter(self.nodes)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def get(self, name: str) -> NodeInfo | None:
        index = self._index.get(name)
        return None if index is None else self.nodes[index]

    def index_of(self, name: str) -> int | None:
        return self._index.get(name)

    def assume(self, pod: PodInfo, node_name: str) -> NodeInfo:
        """Count ``pod`` on ``node_name`` for the rest of the batch (the cache's AssumePod).

        Returns the node's new NodeInfo. Raises KeyError for a node not in the snapshot.
        """
        index = self._index[node_name]
        node = self.nodes[index].with_pod(pod)
        self.nodes[index] = node
        self.changes.append(index)
        return node
