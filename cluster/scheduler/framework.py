"""The scheduling cycle: PreFilter, Filter, PostFilter (preemption's verdict), Score, select.

:func:`schedule` places one pod the way kube-scheduler 1.32's ``schedulePod`` does:

1. PreFilter: plugins may skip themselves, narrow the nodes (NodeAffinity with ``matchFields``
   on ``metadata.name``) or reject the pod outright.
2. Filter: nodes are examined starting where the previous pod's search stopped
   (``Snapshot.next_start_index``), and the search stops once
   :func:`num_feasible_nodes_to_find` nodes have passed every filter. Each rejected node's
   first failing filter is recorded.
3. No feasible node: the preemption PostFilter's verdict is worked out (Kubarium evicts
   nothing; see :func:`_post_filter`). One feasible node: it is chosen without scoring.
4. Score: each score plugin scores every feasible node 0-100, TaintToleration and
   NodeAffinity normalise across the feasible nodes, each score is multiplied by its weight
   and the products are added up.
5. Select: the highest total wins; a tie is broken with the seeded ``rng``.

Two ways to walk the nodes give the same result (the tests check):

* the reference walk, node after node, every filter in profile order, as upstream's code
  reads. It is used with ``memoize=False``, for the first pod of a template, and when a
  PreFilter narrowed the nodes (a DaemonSet pod pinned to its node);
* the memoised walk. Pods of one template share their :attr:`PodInfo.static_signature` and
  :attr:`PodInfo.resource_signature`, so the framework remembers, per signature and node, what
  the plugins said: node-static plugins (taints, labels, images) once per batch, plugins that
  depend on the pods on the node until :meth:`Snapshot.assume` changes that node. The results
  sit in bytearrays and lists, so the window of nodes to examine, its best total and its ties
  are found with C-level ``count``/``max``/``compress`` rather than a Python loop per node.
  Normalised scores (TaintToleration, NodeAffinity) are only adjusted on nodes whose raw score
  is not 0, since a raw 0 normalises to the same value on every node.

Speed, for the record: 1,000 nodes and 10,000 pods of 50 templates schedule at several thousand
pods per second on one core (``bench/scheduler_core.py``); the reference walk is more than ten
times slower.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import add, mul
from typing import Any, NamedTuple

from . import plugins as p
from .explain import fit_error_message
from .plugins import MAX_NODE_SCORE, SUCCESS, Code, Status, default_normalize
from .snapshot import NodeInfo, PodInfo, Snapshot

__all__ = [
    "DEFAULT_PROFILE",
    "Diagnosis",
    "NodeScore",
    "Profile",
    "ScheduleResult",
    "SchedulingError",
    "ScoreColumn",
    "num_feasible_nodes_to_find",
    "schedule",
    "schedule_batch",
]

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5

PREEMPTION_NOT_HELPFUL = Status(
    Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ("Preemption is not helpful for scheduling",)
)
NO_PREEMPTION_VICTIMS = Status(
    Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ("No preemption victims found for incoming pod",)
)
NOT_ELIGIBLE_PREEMPTION_NEVER = "not eligible due to preemptionPolicy=Never."


class SchedulingError(RuntimeError):
    """A plugin returned ``Error``: a bug, not an ordinary "does not fit" (upstream aborts)."""

    def __init__(self, status: Status):
        super().__init__(f"{status.plugin}: {status.message}")
        self.status = status


@dataclass(frozen=True, eq=False)
class Profile:
    """Which plugins run, in which order, and the score weights (a scheduler profile).

    Profiles compare by identity: the framework's memo is kept per profile object.
    """

    filters: tuple[Any, ...]
    scores: tuple[tuple[Any, int], ...]


_node_unschedulable = p.NodeUnschedulable()
_node_name = p.NodeName()
_taint_toleration = p.TaintToleration()
_node_affinity = p.NodeAffinity()
_node_resources_fit = p.NodeResourcesFit()

#: The default profile's plugins that Kubarium models, in upstream order and with upstream
#: weights (``getDefaultPlugins``): TaintToleration 3, NodeAffinity 2, NodeResourcesFit 1,
#: NodeResourcesBalancedAllocation 1, ImageLocality 1. Not modelled: NodePorts, the volume
#: plugins, PodTopologySpread (weight 2) and InterPodAffinity (weight 2).
DEFAULT_PROFILE = Profile(
    filters=(
        _node_unschedulable,
        _node_name,
        _taint_toleration,
        _node_affinity,
        _node_resources_fit,
    ),
    scores=(
        (_taint_toleration, 3),
        (_node_affinity, 2),
        (_node_resources_fit, 1),
        (p.NodeResourcesBalancedAllocation(), 1),
        (p.ImageLocality(), 1),
    ),
)


def num_feasible_nodes_to_find(num_all_nodes: int, percentage_of_nodes_to_score: int = 0) -> int:
    """How many feasible nodes to find before the search stops (``numFeasibleNodesToFind``).

    Clusters under 100 nodes are searched whole. Otherwise the percentage (0 means adaptive:
    ``50 - nodes // 125``, at least 5) of the nodes, but never fewer than 100. Worked numbers:
    1,000 nodes: 50 - 8 = 42 %, 420 nodes; 5,000 nodes: 10 %, 500; 6,000 nodes: 5 %, 300.
    """
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    percentage = percentage_of_nodes_to_score
    if percentage == 0:
        percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    return max(num_all_nodes * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


# ------------------------------------------------------------------------------- diagnosis


class ScoreColumn(NamedTuple):
    """A score plugin that ran: its weight, how it normalises, where its raw scores are kept."""

    name: str
    weight: int
    normalize_reverse: bool | None
    group: int  # 0: node-static plugins, 1: plugins that depend on the pods on the node
    position: int


class NodeScore(NamedTuple):
    """One row of the score table: a feasible node, each plugin's 0-100 score, the total.

    ``scores`` maps plugin name to its normalised score before weighting; ``total`` is
    ``sum(score * weight)``.
    """

    node: str
    scores: dict[str, int]
    total: int
    selected: bool


class Diagnosis:
    """Why a pod went where it went, or nowhere: what the dashboard's table shows.

    * :attr:`node_statuses`: every node a filter rejected, with its first failing Status.
    * ``absent_status``: the Status of nodes a PreFilter left out (not examined at all).
    * ``pre_filter_status``: set when a PreFilter rejected the pod for every node.
    * ``post_filter_msg``: the preemption PostFilter's message (``preemption: 0/4 nodes are
      available: ...``) when no node fits; empty when preemption would succeed, in which case
      ``preemption_candidates`` names the nodes where evicting lower-priority pods makes room.
    * :attr:`feasible_nodes` and :meth:`scores`: the nodes that passed, each plugin's score.

    Only examined nodes appear: for a pod that found a home the search stopped after
    :func:`num_feasible_nodes_to_find` feasible nodes. The score table is built on demand.
    """

    __slots__ = (
        "num_all_nodes",
        "selected",
        "absent_status",
        "pre_filter_status",
        "post_filter_msg",
        "preemption_candidates",
        "preemption_statuses",
        "score_plugins",
        "_narrowing",
        "_names",
        "_failed_nodes",
        "_failed_statuses",
        "_feasible",
        "_rows",
        "_maxima",
        "_expand",
        "_totals",
        "_found",
        "_examined",
    )

    def __init__(self, num_all_nodes: int, names: Sequence[str] = ()):
        self.num_all_nodes = num_all_nodes
        self.selected: str | None = None
        self.absent_status: Status | None = None
        self.pre_filter_status: Status | None = None
        self.post_filter_msg = ""
        self.preemption_candidates: tuple[str, ...] = ()
        self.preemption_statuses: dict[str, Status] = {}
        self.score_plugins: tuple[ScoreColumn, ...] = ()  # the score plugins that ran
        self._narrowing: frozenset[str] = frozenset()
        self._names = names
        # Rejected nodes (indices) and their Statuses, in examination order: two lists rather
        # than pairs, which a 1,000-node cluster makes expensive to build for every pod.
        self._failed_nodes: list[int] = []
        self._failed_statuses: list[Status] = []
        self._feasible: list[int] = []  # node indices, examined order
        self._rows: list[list[tuple[int, ...]]] = []  # raw scores per group, per feasible node
        self._maxima: dict[tuple[int, int], int] = {}  # (group, position) -> highest raw score
        self._expand: Callable[[], None] | None = None  # fills _feasible and _rows on demand
        # The totals the selection compared, per feasible node (or per examined node, with the
        # bytes telling which passed). They may differ from the reported totals by a constant,
        # which changes no order: they rank the nodes for ``scores(limit=...)``.
        self._totals: list[int] | tuple[list[list[int]], list[bytes]] | None = None
        self._found = 0  # how many feasible nodes the walk found
        # The memoised walk's examined nodes, which rank the best rows without expanding.
        self._examined: _Examined | None = None

    def _expanded(self) -> Diagnosis:
        if self._expand is not None:
            expand, self._expand = self._expand, None
            expand()
        return self

    # -- filters

    @property
    def failed_count(self) -> int:
        """How many examined nodes a filter rejected."""
        return len(self._failed_nodes)

    @property
    def node_statuses(self) -> dict[str, Status]:
        """Node name -> the Status of the filter that rejected it, in examination order."""
        names = self._names
        return dict(
            zip(map(names.__getitem__, self._failed_nodes), self._failed_statuses, strict=True)
        )

    @property
    def unschedulable_plugins(self) -> frozenset[str]:
        """Plugins that rejected the pod somewhere (upstream ``Diagnosis.UnschedulablePlugins``)."""
        plugins = {status.plugin for status in self._failed_statuses}
        if self.pre_filter_status is not None:
            plugins.add(self.pre_filter_status.plugin)
        return frozenset(plugins) | self._narrowing

    @property
    def pre_filter_msg(self) -> str:
        return self.pre_filter_status.message if self.pre_filter_status else ""

    @property
    def evaluated_nodes(self) -> int:
        """Nodes the filters looked at (upstream ``EvaluatedNodes``)."""
        return len(self._failed_nodes) + self._found

    def status_of(self, node_name: str) -> Status | None:
        """The node's filter Status; None when it passed every filter or was not examined."""
        for index, status in zip(self._failed_nodes, self._failed_statuses, strict=True):
            if self._names[index] == node_name:
                return status
        if self.pre_filter_status is not None:
            return self.pre_filter_status
        if node_name in self.feasible_nodes:
            return None
        return self.absent_status

    def reason_counts(self, total_nodes: int | None = None) -> Counter[str]:
        """FitError's histogram: how many nodes gave each reason.

        A node rejected for several reasons (Insufficient cpu and memory) counts for each.
        Nodes a PreFilter left out count for ``absent_status``'s reasons.
        """
        total = self.num_all_nodes if total_nodes is None else total_nodes
        counts: Counter[str] = Counter()
        for status in self._failed_statuses:
            for reason in status.reasons:
                counts[reason] += 1
        absent = total - len(self._failed_nodes)
        if self.absent_status is not None and absent > 0:
            for reason in self.absent_status.reasons:
                counts[reason] += absent
        return counts

    # -- scores

    @property
    def feasible_nodes(self) -> list[str]:
        """The nodes that passed every filter, in examination order."""
        names = self._names
        return [names[i] for i in self._expanded()._feasible]

    @property
    def scored(self) -> bool:
        """False when no scoring ran (no feasible node, or exactly one)."""
        return bool(self.score_plugins)

    def scores(self, limit: int | None = None) -> list[NodeScore]:
        """The score table: one row per feasible node, in examination order.

        With ``limit``: the selected node first (always kept), then the best of the others by
        total (ties in examination order), ``limit`` rows in all when there are that many. Only those rows are built, so keeping
        the best few of a thousand feasible nodes costs little more than computing the totals.
        """
        if not self.score_plugins:
            return []
        if limit is not None and self._expand is not None and self._examined is not None:
            return [
                self._score_row(index, rows)
                for index, rows in self._examined.best(self._found, limit)
            ]
        self._expanded()
        feasible = self._feasible
        if limit is None:
            return [self._score_row(index, self._rows_of(j)) for j, index in enumerate(feasible)]
        totals = self._ranking_totals()
        names = self._names
        chosen = next(
            ([j] for j, index in enumerate(feasible) if names[index] == self.selected), []
        )
        # The highest totals, ties in examination order (nlargest is stable, as sorted is).
        best = heapq.nlargest(limit, range(len(feasible)), key=totals.__getitem__)
        best = [j for j in best if j not in chosen][: max(limit - len(chosen), 0)]
        return [self._score_row(feasible[j], self._rows_of(j)) for j in [*chosen, *best]]

    def _ranking_totals(self) -> list[int]:
        """A total per feasible node that ranks them as the selection did."""
        kept = self._totals
        if isinstance(kept, tuple):
            segments, passed = kept
            return list(itertools.chain.from_iterable(map(itertools.compress, segments, passed)))
        if kept is not None:
            return kept
        return [
            sum(raw * column.weight for column, raw in self._score_columns(self._rows_of(j)))
            for j in range(len(self._feasible))
        ]

    def _rows_of(self, j: int) -> tuple[tuple[int, ...], ...]:
        """The raw scores of the ``j``-th feasible node, per plugin group."""
        return tuple(group_rows[j] for group_rows in self._rows)

    def _score_row(self, index: int, rows: Sequence[tuple[int, ...]]) -> NodeScore:
        """Node ``index``'s row of the score table, from its raw scores per group."""
        scores, total = {}, 0
        for column, raw in self._score_columns(rows):
            scores[column.name] = raw
            total += raw * column.weight
        name = self._names[index]
        return NodeScore(name, scores, total, name == self.selected)

    def _score_columns(self, rows: Sequence[tuple[int, ...]]) -> Iterator[tuple[Any, int]]:
        """(column, normalised score) of one feasible node, per score plugin."""
        for column in self.score_plugins:
            raw = rows[column.group][column.position]
            if column.normalize_reverse is not None:
                highest = self._maxima.get((column.group, column.position), 0)
                raw = default_normalize(raw, highest, column.normalize_reverse)
            yield column, raw

    def __repr__(self) -> str:
        return (
            f"<Diagnosis selected={self.selected!r} rejected={len(self._failed_nodes)} "
            f"of {self.num_all_nodes}>"
        )


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    """The chosen node (None when the pod fits nowhere) and the diagnosis behind it."""

    node_name: str | None
    diagnosis: Diagnosis

    @property
    def scheduled(self) -> bool:
        return self.node_name is not None


# ---------------------------------------------------------------------------- plugin groups


class _Group:
    """The active plugins of one kind: node-static, or depending on the pods on the node.

    ``filters`` keep their position in the profile, so that when both kinds reject a node the
    one upstream runs first gives the Status. ``weights`` are the score plugins' weights;
    ``base_weights`` the same with 0 for plugins normalised across nodes (``norm``: position,
    weight, reverse), whose share is added per pod.
    """

    __slots__ = ("filters", "scorers", "weights", "base_weights", "norm", "key", "_calls")

    def __init__(self, filters: Sequence[tuple[int, Any]], scorers: Sequence[tuple[Any, int]]):
        self.filters = tuple(filters)
        self.scorers = tuple(plugin for plugin, _weight in scorers)
        self.weights = tuple(weight for _plugin, weight in scorers)
        self.base_weights = tuple(
            0 if plugin.normalize_reverse is not None else weight for plugin, weight in scorers
        )
        self.norm = tuple(
            (k, weight, plugin.normalize_reverse)
            for k, (plugin, weight) in enumerate(scorers)
            if plugin.normalize_reverse is not None
        )
        self.key = (self.filters, self.scorers, self.weights)
        self._calls = tuple(plugin.score for plugin in self.scorers)

    def verdict(self, pod: PodInfo, node: NodeInfo) -> tuple[int, Status] | None:
        """(profile position, Status) of the group's first rejecting filter; None if all pass."""
        for position, plugin in self.filters:
            status = plugin.filter(pod, node)
            if status.code:
                if status.code == Code.ERROR:
                    raise SchedulingError(status)
                return position, status
        return None

    def score(self, pod: PodInfo, node: NodeInfo, snapshot: Snapshot) -> tuple[int, ...]:
        return tuple([call(pod, node, snapshot) for call in self._calls])

    def base(self, raw: tuple[int, ...]) -> int:
        """The weighted sum of the scores that need no normalisation."""
        return sum(map(mul, self.base_weights, raw))


def _first_failure(
    static: tuple[int, Status] | None, dynamic: tuple[int, Status] | None
) -> Status | None:
    """The Status of whichever rejecting filter comes first in the profile, if any."""
    if static is None:
        return None if dynamic is None else dynamic[1]
    if dynamic is None or static[0] < dynamic[0]:
        return static[1]
    return dynamic[1]


def _groups(
    pod: PodInfo, snapshot: Snapshot, filters: Sequence[Any], profile: Profile
) -> tuple[_Group, _Group]:
    """PreScore, then split the active plugins into node-static and pod-dependent groups."""
    scorers = tuple(
        (plugin, weight) for plugin, weight in profile.scores if plugin.pre_score(pod, snapshot)
    )
    key = ("groups", profile, tuple(map(id, filters)), tuple(id(s) for s, _w in scorers))
    groups = snapshot.memo.get(key)
    if groups is None:
        positions = {id(plugin): k for k, plugin in enumerate(profile.filters)}
        static_filters, dynamic_filters = [], []
        for plugin in filters:
            entry = (positions[id(plugin)], plugin)
            if getattr(plugin, "depends_on_pods", True):
                dynamic_filters.append(entry)
            else:
                static_filters.append(entry)
        static_scores = [s for s in scorers if not getattr(s[0], "depends_on_pods", True)]
        dynamic_scores = [s for s in scorers if getattr(s[0], "depends_on_pods", True)]
        groups = (_Group(static_filters, static_scores), _Group(dynamic_filters, dynamic_scores))
        snapshot.memo[key] = groups
    return groups


def _layout(groups: tuple[_Group, _Group], profile: Profile) -> tuple[ScoreColumn, ...]:
    """The score plugins that ran, in profile order, and where each one's raw score is."""
    where = {}
    for g, group in enumerate(groups):
        for k, plugin in enumerate(group.scorers):
            where[id(plugin)] = (g, k)
    return tuple(
        ScoreColumn(plugin.name, weight, plugin.normalize_reverse, *where[id(plugin)])
        for plugin, weight in profile.scores
        if id(plugin) in where
    )


# ------------------------------------------------------------------------ the reference walk


def _run_filters(filters: Sequence[Any], pod: PodInfo, node: NodeInfo) -> Status:
    """``RunFilterPlugins``: the first rejection wins; SUCCESS when every filter passes.

    An ``Error`` status is a bug in a plugin and raises :class:`SchedulingError`.
    """
    for plugin in filters:
        status = plugin.filter(pod, node)
        if status.code:
            if status.code == Code.ERROR:
                raise SchedulingError(status)
            return status
    return SUCCESS


def _walk_reference(
    pod: PodInfo,
    snapshot: Snapshot,
    diagnosis: Diagnosis,
    filters: Sequence[Any],
    groups: tuple[_Group, _Group],
    candidates: Sequence[int],
    offset: int,
    to_find: int,
    rng: random.Random,
) -> int:
    """Filter node after node from ``offset``; score and select as upstream writes it.

    Returns the number of feasible nodes found.
    """
    nodes = snapshot.nodes
    feasible = diagnosis._feasible
    failed_nodes, failed_statuses = diagnosis._failed_nodes, diagnosis._failed_statuses
    count = len(candidates)
    for position in itertools.chain(range(offset, count), range(offset)):
        index = candidates[position]
        status = _run_filters(filters, pod, nodes[index])
        if status is SUCCESS:
            feasible.append(index)
            if len(feasible) == to_find:
                break
        else:
            failed_nodes.append(index)
            failed_statuses.append(status)
    diagnosis._found = len(feasible)
    if len(feasible) < 2:
        if feasible:
            diagnosis.selected = nodes[feasible[0]].name
        return len(feasible)

    rows = [[group.score(pod, nodes[i], snapshot) for i in feasible] for group in groups]
    totals = [0] * len(feasible)
    for g, (group, group_rows) in enumerate(zip(groups, rows, strict=True)):
        for k, plugin in enumerate(group.scorers):
            column = [raw[k] for raw in group_rows]
            reverse = plugin.normalize_reverse
            if reverse is not None:
                highest = max(column)
                diagnosis._maxima[(g, k)] = highest
                column = [default_normalize(score, highest, reverse) for score in column]
            weight = group.weights[k]
            for j, score in enumerate(column):
                totals[j] += weight * score
    diagnosis._rows = rows
    diagnosis._totals = totals
    best = max(totals)
    tied = [j for j, total in enumerate(totals) if total == best]
    chosen = tied[0] if len(tied) == 1 else tied[rng.randrange(len(tied))]
    diagnosis.selected = nodes[feasible[chosen]].name
    return len(feasible)


# ------------------------------------------------------------------------ the memoised walk


class _StaticTable:
    """Node-static plugins' results for one static signature, for every node (never stale).

    ``columns[n]`` holds the n-th normalised plugin's raw score per node (0 where a filter
    rejected the node) and ``nonzero[n]`` lists, in node order, the nodes where it is not 0:
    only those need work when normalising.
    """

    __slots__ = ("fail", "raw", "base", "columns", "nonzero", "distinct")

    def __init__(self, group: _Group, pod: PodInfo, snapshot: Snapshot):
        size = len(snapshot.nodes)
        self.fail: list[tuple[int, Status] | None] = [None] * size
        self.raw: list[tuple[int, ...]] = [()] * size
        self.base = [0] * size
        self.columns: tuple[list[int], ...] = tuple([0] * size for _ in group.norm)
        self.nonzero: tuple[list[int], ...] = tuple([] for _ in group.norm)
        for index, node in enumerate(snapshot.nodes):
            failure = group.verdict(pod, node)
            if failure is not None:
                self.fail[index] = failure
                continue
            raw = group.score(pod, node, snapshot)
            self.raw[index] = raw
            self.base[index] = group.base(raw)
            for n, (k, _weight, _reverse) in enumerate(group.norm):
                if raw[k]:
                    self.columns[n][index] = raw[k]
                    self.nonzero[n].append(index)
        self.distinct = tuple(frozenset(column) for column in self.columns)


class _Stale:
    """Entries per node that go stale when :meth:`Snapshot.assume` changes the node.

    ``synced`` counts the entries of ``Snapshot.changes`` already applied to ``valid``.
    """

    __slots__ = ("valid", "synced")

    def __init__(self, size: int, synced: int):
        self.valid = bytearray(size)
        self.synced = synced

    def sync(self, snapshot: Snapshot) -> None:
        changes = snapshot.changes
        if self.synced < len(changes):
            valid = self.valid
            for index in changes[self.synced :]:
                valid[index] = 0
            self.synced = len(changes)


class _DynamicTable(_Stale):
    """Pod-dependent plugins' results for one resource signature, per node, filled lazily."""

    __slots__ = ("fail", "raw", "base")

    def __init__(self, size: int, synced: int):
        super().__init__(size, synced)
        self.fail: list[tuple[int, Status] | None] = [None] * size
        self.raw: list[tuple[int, ...]] = [()] * size
        self.base = [0] * size

    def entry(self, group: _Group, pod: PodInfo, snapshot: Snapshot, index: int) -> None:
        """Bring node ``index``'s entry up to date."""
        node = snapshot.nodes[index]
        failure = group.verdict(pod, node)
        self.fail[index] = failure
        if failure is None:
            raw = group.score(pod, node, snapshot)
            self.raw[index] = raw
            self.base[index] = group.base(raw)
        self.valid[index] = 1


class _Table(_Stale):
    """Per (static, resource) signature and node: feasible, first failure, total.

    ``ok`` is a bytearray (1 = passed every filter) so that the walk can count and find
    feasible nodes at C speed; ``total`` is the weighted sum of the scores that need no
    normalisation, REJECTED for rejected nodes.
    """

    __slots__ = ("ok", "fail", "total")

    def __init__(self, size: int, synced: int):
        super().__init__(size, synced)
        self.ok = bytearray(size)
        self.fail: list[Status | None] = [None] * size
        self.total = [REJECTED] * size

    def fill(
        self,
        static: _StaticTable,
        dynamic: _DynamicTable,
        group: _Group,
        first_dynamic: int,
        pod: PodInfo,
        snapshot: Snapshot,
        start: int,
        end: int,
    ) -> None:
        """Bring the entries in ``[start, end)`` up to date."""
        valid = self.valid
        dynamic_valid = dynamic.valid
        index = valid.find(0, start, end)
        while index >= 0:
            static_failure = static.fail[index]
            if static_failure is not None and static_failure[0] < first_dynamic:
                failure = static_failure[1]  # upstream stops at that filter
            else:
                if not dynamic_valid[index]:
                    dynamic.entry(group, pod, snapshot, index)
                failure = _first_failure(static_failure, dynamic.fail[index])
            self.fail[index] = failure
            if failure is None:
                self.ok[index] = 1
                self.total[index] = static.base[index] + dynamic.base[index]
            else:
                self.ok[index] = 0
                self.total[index] = REJECTED
            valid[index] = 1
            index = valid.find(0, index + 1, end)


_FLIP = bytes.maketrans(b"\x00\x01", b"\x01\x00")
REJECTED = -(1 << 62)
_FEW = 32  # up to this many nodes with a normalised raw score, adjust them one by one  # the total kept for a rejected node: below any feasible node's
_MEMO_LIMIT = 1024  # plans and tables kept per snapshot; the least recently used go first


def _memo_get(snapshot: Snapshot, key: Any, make: Callable[[], Any]) -> Any:
    tables = snapshot.memo.get("tables")
    if tables is None:
        tables = snapshot.memo["tables"] = OrderedDict()
    table = tables.get(key)
    if table is None:
        table = tables[key] = make()
        if len(tables) > _MEMO_LIMIT:
            tables.popitem(last=False)
    else:
        tables.move_to_end(key)
    return table


class _Examined:
    """The nodes one memoised walk examined, in order: segments of node indices, the ranking
    total of each (``REJECTED`` for a rejected node), the raw scores and the position of the
    selected node, enough to build the best few rows of the score table without the whole of it
    (see :meth:`Diagnosis.scores`).
    """

    __slots__ = ("starts", "offsets", "totals", "dynamic_raw", "static_raw", "selected")

    def __init__(
        self,
        segments: list[tuple[int, int]],
        totals: list[list[int]],
        dynamic_raw: list[list[tuple[int, ...]]],
        static_raw: list[tuple[int, ...]],
        *,
        selected: int,
    ):
        self.starts = [start for start, _stop in segments]
        self.offsets = list(
            itertools.accumulate((stop - start for start, stop in segments), initial=0)
        )
        self.totals = totals
        self.dynamic_raw = dynamic_raw
        self.static_raw = static_raw
        self.selected = selected  # the selected node's position in examination order

    def best(
        self, found: int, limit: int
    ) -> list[tuple[int, tuple[tuple[int, ...], tuple[int, ...]]]]:
        """(node index, raw scores per group) of the selected node, then of the best others by
        total, ties in examination order: ``limit`` rows (at least the selected one), or
        ``found`` when fewer passed.

        The threshold is the total of the ``limit + 1``-th best of the ``found`` feasible
        nodes, so no rejected node (``REJECTED``) reaches it."""
        flat = list(itertools.chain.from_iterable(self.totals))
        wanted = min(limit + 1, found)  # one more, in case the selected node is among them
        threshold = sorted(flat, reverse=True)[wanted - 1]
        above = list(itertools.compress(itertools.count(), map(threshold.__lt__, flat)))
        ties = itertools.compress(itertools.count(), map(threshold.__eq__, flat))
        top = [*above, *itertools.islice(ties, wanted - len(above))]
        top.sort(key=lambda position: (-flat[position], position))
        others = [position for position in top if position != self.selected]
        kept = [self.selected, *others][: max(limit, 1)]  # the selected node always
        return [self._at(position) for position in kept]

    def _at(self, position: int) -> tuple[int, tuple[tuple[int, ...], tuple[int, ...]]]:
        s = bisect.bisect_right(self.offsets, position) - 1
        j = position - self.offsets[s]
        index = self.starts[s] + j
        return index, (self.static_raw[index], self.dynamic_raw[s][j])


def _nth_one(bits: bytearray, start: int, end: int, n: int) -> int:
    """Index of the n-th (1-based) byte equal to 1 in ``bits[start:end]``; it must exist."""
    low, high = start, end  # fewer than n ones in [start, low), at least n in [start, high)
    while high - low > 1:
        middle = (low + high) // 2
        if bits.count(1, start, middle) >= n:
            high = middle
        else:
            low = middle
    return low


def _walk_memoised(
    pod: PodInfo,
    snapshot: Snapshot,
    diagnosis: Diagnosis,
    profile: Profile,
    plan: _Plan,
    offset: int,
    to_find: int,
    rng: random.Random,
) -> int:
    """The same walk as :func:`_walk_reference`, over memoised per-node results.

    Returns the number of feasible nodes found.
    """
    static_group, dynamic_group = plan.groups
    if plan.tables is None:
        size, synced = len(snapshot.nodes), len(snapshot.changes)
        plan.tables = (
            _memo_get(
                snapshot,
                (profile, static_group.key, pod.static_signature),
                lambda: _StaticTable(static_group, pod, snapshot),
            ),
            _memo_get(
                snapshot,
                (profile, dynamic_group.key, pod.resource_signature),
                lambda: _DynamicTable(size, synced),
            ),
            _Table(size, synced),
        )
    static, dynamic, table = plan.tables
    size = len(snapshot.nodes)
    dynamic.sync(snapshot)
    table.sync(snapshot)
    first_dynamic = plan.first_dynamic

    # Filter: the window runs over [offset, size) then [0, offset) and ends at the to_find-th
    # feasible node. It is filled a chunk at a time; the chunk end is a guess with some slack.
    ok = table.ok
    segments: list[tuple[int, int]] = []
    found = 0
    for segment_start, segment_end in ((offset, size), (0, offset)):
        position = segment_start
        while found < to_find and position < segment_end:
            need = to_find - found
            end = position + need + (need >> 2) + 8
            if end > segment_end:
                end = segment_end
            table.fill(static, dynamic, dynamic_group, first_dynamic, pod, snapshot, position, end)
            passed = ok.count(1, position, end)
            if passed >= need:
                stop = _nth_one(ok, position, end, need) + 1
                found = to_find
            else:
                stop = end
                found += passed
            if segments and segments[-1][1] == position:
                position = segments.pop()[0]
            segments.append((position, stop))
            position = stop
    # Copies: the table moves on with the next pod, the diagnosis must not.
    oks = [bytes(ok[start:stop]) for start, stop in segments]
    fail = table.fail
    rejected = diagnosis._failed_nodes
    for (start, stop), passed in zip(segments, oks, strict=True):
        misses = passed.count(0)
        if misses > _FEW:
            rejected.extend(itertools.compress(range(start, stop), passed.translate(_FLIP)))
        elif misses:
            j = passed.find(0)
            while j >= 0:
                rejected.append(start + j)
                j = passed.find(0, j + 1)
    diagnosis._failed_statuses.extend(map(fail.__getitem__, rejected))
    raws = [dynamic.raw[start:stop] for start, stop in segments]

    def expand() -> None:
        for (start, stop), passed in zip(segments, oks, strict=True):
            diagnosis._feasible.extend(itertools.compress(range(start, stop), passed))
        if found > 1:
            dynamic_rows = []
            for raw, passed in zip(raws, oks, strict=True):
                dynamic_rows.extend(itertools.compress(raw, passed))
            static_rows = [static.raw[index] for index in diagnosis._feasible]
            diagnosis._rows = [static_rows, dynamic_rows]

    diagnosis._expand = expand
    diagnosis._found = found
    if found < 2:
        if found == 1:
            diagnosis._expanded()
            diagnosis.selected = snapshot.nodes[diagnosis._feasible[0]].name
        return found

    # Score: rejected nodes' totals are far below any real one (REJECTED).
    totals = [table.total[start:stop] for start, stop in segments]
    # Normalised plugins: every feasible node whose raw score is 0 gets the same normalised
    # score, which changes no comparison; only the nodes with a raw score need adjusting. Few
    # such nodes (a PreferNoSchedule taint here and there): one by one. Many (a preferred
    # zone): a whole column at once, mapping each distinct raw score to its adjustment.
    for n, (k, weight, reverse) in enumerate(static_group.norm):
        nonzero, column = static.nonzero[n], static.columns[n]
        touched: list[tuple[int, int, int]] = []  # (segment, position in it, raw score)
        many = False
        for s, (start, stop) in enumerate(segments):
            low, high = bisect.bisect_left(nonzero, start), bisect.bisect_left(nonzero, stop)
            if high - low > _FEW:
                many = True
                break
            passed = oks[s]
            for index in nonzero[low:high]:
                if passed[index - start]:
                    touched.append((s, index - start, column[index]))
        if not many:
            highest = max([raw for _s, _j, raw in touched], default=0)
            for s, j, raw in touched:
                normalized = MAX_NODE_SCORE * raw // highest
                totals[s][j] += -weight * normalized if reverse else weight * normalized
        else:
            slices = [column[start:stop] for start, stop in segments]
            highest = max(
                max(itertools.compress(raws, passed), default=0)
                for raws, passed in zip(slices, oks, strict=True)
            )
            if highest:
                sign = -weight if reverse else weight
                adjust = {
                    raw: sign * (MAX_NODE_SCORE * raw // highest) for raw in static.distinct[n]
                }
                totals = [
                    list(map(add, segment, map(adjust.__getitem__, raws)))
                    for segment, raws in zip(totals, slices, strict=True)
                ]
        diagnosis._maxima[(0, k)] = highest

    diagnosis._totals = (totals, oks)
    # Select uniformly among the nodes with the highest total, in examination order.
    best = max(map(max, totals))
    counts = [segment.count(best) for segment in totals]
    tied = sum(counts)
    pick = 0 if tied == 1 else rng.randrange(tied)
    examined = 0  # nodes of the segments before this one
    for (start, stop), segment, count in zip(segments, totals, counts, strict=True):
        if pick < count:
            if pick <= _FEW:
                j = segment.index(best)
                for _ in range(pick):
                    j = segment.index(best, j + 1)
            else:
                hits = itertools.compress(itertools.count(), map(best.__eq__, segment))
                j = next(itertools.islice(hits, pick, None))
            diagnosis.selected = snapshot.nodes[start + j].name
            diagnosis._examined = _Examined(
                segments, totals, raws, static.raw, selected=examined + j
            )
            break
        pick -= count
        examined += stop - start
    return found


# ------------------------------------------------------------------------------ schedule


def _names(snapshot: Snapshot) -> tuple[str, ...]:
    names = snapshot.memo.get("names")
    if names is None or len(names) != len(snapshot.nodes):
        names = tuple(node.name for node in snapshot.nodes)
        snapshot.memo["names"] = names
    return names


class _Plan:
    """What PreFilter and PreScore decided for pods of one signature pair, and their memo."""

    __slots__ = (
        "filters",
        "rejection",
        "narrowing",
        "absent_status",
        "candidates",
        "groups",
        "layout",
        "first_dynamic",
        "tables",
        "uses",
    )

    def __init__(
        self,
        filters: Sequence[Any],
        rejection: Status | None = None,
        narrowing: Iterable[str] = (),
        absent_status: Status | None = None,
        candidates: Sequence[int] = (),
        groups: tuple[_Group, _Group] | None = None,
        layout: tuple[ScoreColumn, ...] = (),
    ):
        self.filters = tuple(filters)  # the Filter plugins to run, in profile order
        self.rejection = rejection  # a PreFilter rejected the pod for every node
        self.narrowing = frozenset(narrowing)  # plugins whose PreFilter narrowed the nodes
        self.absent_status = absent_status  # Status of the nodes a PreFilter left out
        self.candidates = candidates  # indices of the nodes to examine
        self.groups = groups or (_Group((), ()), _Group((), ()))
        self.layout = layout
        # Profile position of the first pod-dependent filter.
        self.first_dynamic = min((k for k, _plugin in self.groups[1].filters), default=1 << 30)
        self.tables: tuple[_StaticTable, _DynamicTable, _Table] | None = None
        self.uses = 0  # pods scheduled with this plan; memo tables start with the second


def _plan(pod: PodInfo, snapshot: Snapshot, profile: Profile) -> _Plan:
    """Run PreFilter and PreScore (``RunPreFilterPlugins``, ``RunPreScorePlugins``)."""
    names = _names(snapshot)
    filters: list[Any] = []
    allowed: frozenset[str] | None = None
    narrowing: list[str] = []
    for plugin in profile.filters:
        pre_filter = getattr(plugin, "pre_filter", None)
        if pre_filter is not None:
            result = pre_filter(pod, snapshot)
            if result.skip:
                continue
            rejection = result.status if result.status.code else None
            if rejection is None and result.node_names is not None:
                narrowing.append(plugin.name)
                allowed = result.node_names if allowed is None else allowed & result.node_names
                if not allowed:
                    rejection = Status(
                        Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
                        (_didnt_satisfy(narrowing),),
                        plugin.name,
                    )
            if rejection is not None:
                return _Plan(filters, rejection, narrowing)
        filters.append(plugin)
    if allowed is None:
        candidates: Sequence[int] = range(len(names))
        absent_status = None
    else:
        candidates = [i for i, name in enumerate(names) if name in allowed]
        plugin_list = " ".join(sorted(narrowing))
        absent_status = Status(
            Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
            (f"node(s) didn't satisfy plugin(s) [{plugin_list}]",),
        )
    groups = _groups(pod, snapshot, filters, profile)
    return _Plan(
        filters, None, narrowing, absent_status, candidates, groups, _layout(groups, profile)
    )


def schedule(
    pod: PodInfo,
    snapshot: Snapshot,
    *,
    rng: random.Random,
    percentage_of_nodes_to_score: int = 0,
    profile: Profile = DEFAULT_PROFILE,
    memoize: bool = True,
) -> ScheduleResult:
    """Pick a node for ``pod`` (see the module docstring); does not assume it there.

    ``memoize=False`` takes the reference walk; the result is the same, only slower.
    """
    num_all = len(snapshot.nodes)
    diagnosis = Diagnosis(num_all, _names(snapshot))
    if num_all == 0:
        return ScheduleResult(None, diagnosis)  # "no nodes available to schedule pods"

    if memoize:
        plan = _memo_get(
            snapshot,
            ("plan", profile, pod.static_signature, pod.resource_signature),
            lambda: _plan(pod, snapshot, profile),
        )
        plan.uses += 1
    else:
        plan = _plan(pod, snapshot, profile)
    diagnosis._narrowing = plan.narrowing
    if plan.rejection is not None:
        diagnosis.pre_filter_status = plan.rejection
        _post_filter(pod, snapshot, diagnosis, plan.filters)
        return ScheduleResult(None, diagnosis)
    diagnosis.absent_status = plan.absent_status

    # Filter from where the last search stopped, score, select.
    count = len(plan.candidates)
    to_find = num_feasible_nodes_to_find(count, percentage_of_nodes_to_score)
    start = snapshot.next_start_index
    offset = start % count if count else 0
    groups = plan.groups
    # Memo tables pay off from the second pod of a template on; a one-off pod (or one pinned
    # to a node by a PreFilter) takes the reference walk.
    if memoize and plan.uses > 1 and plan.absent_status is None and not groups[1].norm:
        found = _walk_memoised(pod, snapshot, diagnosis, profile, plan, offset, to_find, rng)
    else:
        found = _walk_reference(
            pod, snapshot, diagnosis, plan.filters, groups, plan.candidates, offset, to_find, rng
        )
    snapshot.next_start_index = (start + found + len(diagnosis._failed_nodes)) % num_all
    if found == 0:
        _post_filter(pod, snapshot, diagnosis, plan.filters)
    elif found > 1:
        diagnosis.score_plugins = plan.layout
    return ScheduleResult(diagnosis.selected, diagnosis)


def schedule_batch(
    pods: Iterable[PodInfo],
    snapshot: Snapshot,
    rng: random.Random,
    *,
    percentage_of_nodes_to_score: int = 0,
    profile: Profile = DEFAULT_PROFILE,
    memoize: bool = True,
) -> list[ScheduleResult]:
    """Schedule ``pods`` in order, assuming each placed pod on its node before the next one.

    Pass pending pods only (no ``spec.nodeName``; upstream never picks up bound pods). The
    per-template memo lives in the snapshot, so one snapshot for all the pods of a task run
    is much faster than one per handful of pods.
    """
    results = []
    for pod in pods:
        result = schedule(
            pod,
            snapshot,
            rng=rng,
            percentage_of_nodes_to_score=percentage_of_nodes_to_score,
            profile=profile,
            memoize=memoize,
        )
        if result.node_name is not None:
            snapshot.assume(pod, result.node_name)
        results.append(result)
    return results


# --------------------------------------------------------------------------------- helpers


def _didnt_satisfy(plugins: Sequence[str]) -> str:
    """RunPreFilterPlugins' message when PreFilter results leave no node at all."""
    if len(plugins) == 1:
        return f"node(s) didn't satisfy plugin {plugins[0]}"
    return f"node(s) didn't satisfy plugin(s) [{' '.join(plugins)}] simultaneously"


def _post_filter(
    pod: PodInfo, snapshot: Snapshot, diagnosis: Diagnosis, filters: Sequence[Any]
) -> None:
    """DefaultPreemption's PostFilter, as far as its verdict goes (no pod is evicted).

    A pod with ``preemptionPolicy: Never`` is not eligible. Otherwise only nodes rejected as
    ``Unschedulable`` are tried: the pod's lower-priority pods are taken off the node and the
    filters run again. No such pods: "No preemption victims found for incoming pod"; still no
    fit: the filter's reasons; a fit: the node is a candidate and the message stays empty, as
    upstream's is when preemption succeeds. UnschedulableAndUnresolvable nodes (taints,
    affinity, cordon, or not examined) give "Preemption is not helpful for scheduling".
    """
    if pod.preemption_policy == "Never":
        diagnosis.post_filter_msg = "preemption: " + NOT_ELIGIBLE_PREEMPTION_NEVER
        return
    failed = dict(zip(diagnosis._failed_nodes, diagnosis._failed_statuses, strict=True))
    absent = diagnosis.pre_filter_status or diagnosis.absent_status
    statuses: dict[str, Status] = {}
    candidates: list[str] = []
    for index, node in enumerate(snapshot.nodes):
        status = failed.get(index, absent)
        if status is None or status.code != Code.UNSCHEDULABLE:
            statuses[node.name] = PREEMPTION_NOT_HELPFUL
            continue
        victims = [other for other in node.pods if other.priority < pod.priority]
        if not victims:
            statuses[node.name] = NO_PREEMPTION_VICTIMS
            continue
        verdict = _run_filters(filters, pod, node.without_pods(victims))
        if verdict.code:
            statuses[node.name] = verdict
        else:
            candidates.append(node.name)
    diagnosis.preemption_statuses = statuses
    diagnosis.preemption_candidates = tuple(candidates)
    if candidates:
        diagnosis.post_filter_msg = ""
        return
    counts: Counter[str] = Counter()
    for status in statuses.values():
        for reason in status.reasons:
            counts[reason] += 1
    diagnosis.post_filter_msg = "preemption: " + fit_error_message(len(snapshot.nodes), counts)
