"""The scheduling cycle: search, scores, tie-break, batches and the FailedScheduling text."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from cluster.scheduler import (
    NodeInfo,
    PodInfo,
    Profile,
    SchedulingError,
    Snapshot,
    event_message,
    failed_scheduling_message,
    framework,
    num_feasible_nodes_to_find,
    plain_language,
    schedule,
    schedule_batch,
)
from cluster.scheduler import plugins as p
from cluster.scheduler.framework import DEFAULT_PROFILE
from cluster.scheduler.plugins import Code, Status
from tests.test_scheduler_plugins import (
    CONTROL_PLANE,
    ZONE,
    NodeBuilder,
    PodBuilder,
    expr,
    make_node,
    make_pod,
    name_field,
    term,
)


def snapshot_of(*nodes: NodeBuilder | NodeInfo) -> Snapshot:
    return Snapshot(n.info() if isinstance(n, NodeBuilder) else n for n in nodes)


def run(pod: PodBuilder | PodInfo, snapshot: Snapshot, seed: int = 1, **kwargs):
    info = pod.info() if isinstance(pod, PodBuilder) else pod
    return schedule(info, snapshot, rng=random.Random(seed), **kwargs)


def message(result, snapshot: Snapshot) -> str:
    return failed_scheduling_message(len(snapshot), result.diagnosis)


# ------------------------------------------------------------------ numFeasibleNodesToFind


@pytest.mark.parametrize(
    ("nodes", "percentage", "expected"),
    [
        pytest.param(0, 0, 0, id="no nodes"),
        pytest.param(50, 0, 50, id="under 100 nodes: all of them"),
        pytest.param(99, 10, 99, id="under 100 nodes, whatever the percentage"),
        pytest.param(100, 0, 100, id="100 nodes: 49 % but at least 100"),
        pytest.param(1000, 0, 420, id="1000 nodes: 50 - 1000/125 = 42 %"),
        pytest.param(5000, 0, 500, id="5000 nodes: 10 %"),
        pytest.param(6000, 0, 300, id="6000 nodes: 2 % raised to the 5 % floor"),
        pytest.param(1000, 30, 300, id="a configured 30 %"),
        pytest.param(200, 10, 100, id="never fewer than 100"),
        pytest.param(1000, 100, 1000, id="100 %"),
    ],
)
def test_num_feasible_nodes_to_find(nodes: int, percentage: int, expected: int) -> None:
    """The search stops after an adaptive share of the nodes, never fewer than 100."""
    assert num_feasible_nodes_to_find(nodes, percentage) == expected


# ------------------------------------------------------------------ FailedScheduling text


def test_failed_scheduling_message_matches_kubernetes() -> None:
    """Reasons are counted per node and sorted; the preemption verdict follows."""
    snapshot = snapshot_of(
        make_node("control-plane").taint(CONTROL_PLANE),
        make_node("worker-1").cap(cpu="1"),
        make_node("worker-2").cap(cpu="1"),
        make_node("worker-3").cap(cpu="1"),
    )
    result = run(make_pod().req(cpu="2"), snapshot)
    assert result.node_name is None
    assert message(result, snapshot) == (
        "0/4 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu. preemption: 0/4 nodes "
        "are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims "
        "found for incoming pod."
    )


def test_reasons_sort_as_strings() -> None:
    """Go's sort.Strings puts "10 ..." before "2 ..."; counts are not compared as numbers."""
    nodes = [make_node(f"big-{i}").cap(cpu="1") for i in range(10)]
    nodes += [make_node(f"tainted-{i}").taint("dedicated", "db") for i in range(2)]
    snapshot = snapshot_of(*nodes)
    result = run(make_pod().req(cpu="2"), snapshot)
    assert message(result, snapshot).startswith(
        "0/12 nodes are available: 10 Insufficient cpu, "
        "2 node(s) had untolerated taint {dedicated: db}. preemption:"
    )


@pytest.mark.parametrize(
    ("pod", "nodes", "expected"),
    [
        pytest.param(
            make_pod().req(cpu="5", memory="16Gi"),
            [make_node("a"), make_node("b").cordon()],
            "0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, "
            "1 node(s) were unschedulable. preemption: 0/2 nodes are available: "
            "1 No preemption victims found for incoming pod, "
            "1 Preemption is not helpful for scheduling.",
            id="a node short of two resources counts for both",
        ),
        pytest.param(
            make_pod().selector(disk="ssd"),
            [make_node("a"), make_node("b"), make_node("c")],
            "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. "
            "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
            id="node selector",
        ),
        pytest.param(
            make_pod().on("elsewhere"),
            [make_node("a"), make_node("b").cordon()],
            "0/2 nodes are available: 1 node(s) didn't match the requested node name, "
            "1 node(s) were unschedulable. preemption: 0/2 nodes are available: "
            "2 Preemption is not helpful for scheduling.",
            id="node name; the first failing filter wins (cordon before name)",
        ),
        pytest.param(
            make_pod().req(cpu="3").require(term(fields=(name_field("In", "a"),))),
            [make_node("a").cap(cpu="2"), make_node("b"), make_node("c")],
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) "
            "[NodeAffinity]. preemption: 0/3 nodes are available: 1 No preemption victims found "
            "for incoming pod, 2 Preemption is not helpful for scheduling.",
            id="a DaemonSet-style pod pinned to one node",
        ),
        pytest.param(
            make_pod().require(term(fields=(name_field("In", "a"), name_field("In", "b")))),
            [make_node("a"), make_node("b")],
            "0/2 nodes are available: pod affinity terms conflict. preemption: 0/2 nodes are "
            "available: 2 Preemption is not helpful for scheduling.",
            id="PreFilter rejection replaces the histogram",
        ),
        pytest.param(
            make_pod().req(cpu="8").never_preempt(),
            [make_node("a")],
            "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to "
            "preemptionPolicy=Never.",
            id="preemptionPolicy Never",
        ),
        pytest.param(
            make_pod(),
            [make_node("a").cap(pods="1").info(make_pod("x")), make_node("b").not_ready()],
            "0/2 nodes are available: 1 Too many pods, 1 node(s) had untolerated taint "
            "{node.kubernetes.io/not-ready: }. preemption: 0/2 nodes are available: "
            "1 No preemption victims found for incoming pod, "
            "1 Preemption is not helpful for scheduling.",
            id="too many pods and a NotReady node",
        ),
    ],
)
def test_failed_scheduling_messages(
    pod: PodBuilder, nodes: list[NodeBuilder | NodeInfo], expected: str
) -> None:
    """Each failure reads exactly as kube-scheduler 1.32 writes it."""
    snapshot = snapshot_of(*nodes)
    result = run(pod, snapshot)
    assert result.node_name is None
    assert message(result, snapshot) == expected


def test_no_nodes_at_all() -> None:
    """An empty cluster gives ErrNoNodesAvailable's text."""
    snapshot = Snapshot([])
    result = run(make_pod(), snapshot)
    assert result.node_name is None
    assert message(result, snapshot) == "no nodes available to schedule pods"


@pytest.mark.parametrize(
    ("victims", "expected_node", "expected_suffix"),
    [
        pytest.param(
            [make_pod("low").req(cpu="3").priority(-10)],
            None,
            "",
            id="evicting a lower-priority pod makes room: no preemption message",
        ),
        pytest.param(
            [make_pod("low").req(cpu="500m").priority(-10), make_pod("same").req(cpu="3")],
            None,
            " preemption: 0/1 nodes are available: 1 Insufficient cpu.",
            id="still too little room after evicting: the filter's reason",
        ),
        pytest.param(
            [make_pod("same").req(cpu="3")],
            None,
            " preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
            id="no lower-priority pod",
        ),
    ],
)
def test_preemption_verdict(
    victims: list[PodBuilder], expected_node: str | None, expected_suffix: str
) -> None:
    """Only lower-priority pods can be victims; Kubarium reports the verdict, evicts nothing."""
    snapshot = snapshot_of(make_node("a").info(*victims))
    result = run(make_pod().req(cpu="2"), snapshot)
    assert result.node_name is expected_node
    assert message(result, snapshot) == "0/1 nodes are available: 1 Insufficient cpu." + (
        expected_suffix
    )
    assert result.diagnosis.preemption_candidates == (() if expected_suffix else ("a",))


def test_event_message_is_cut_at_1024_bytes() -> None:
    """Long messages end with " ..." at the event note limit; short ones are kept."""
    assert event_message("short") == "short"
    cut = event_message("x" * 2000)
    assert len(cut) == 1024
    assert cut.endswith("x ...")


# ------------------------------------------------------------------------------- scoring


def test_scores_and_weights_in_the_diagnosis() -> None:
    """Each plugin's 0-100 score is kept per node; the total weighs them 3/2/1/1/1."""
    snapshot = snapshot_of(
        make_node("busy").info(make_pod("x").req(cpu="2", memory="2Gi")),
        make_node("empty"),
        make_node("spot").taint("spot", "true", "PreferNoSchedule"),
    )
    result = run(make_pod().req(cpu="1", memory="2Gi"), snapshot)
    assert result.node_name == "empty"
    table = {row.node: row for row in result.diagnosis.scores()}
    # busy:  LeastAllocated cpu (4000 - 3000) * 100 / 4000 = 25, memory (8 - 4) * 100 / 8 = 50,
    #        (25 + 50) / 2 = 37; Balanced 0.75 vs 0.5: std 0.125 -> 87; TaintToleration 100.
    assert table["busy"].scores == {
        "TaintToleration": 100,
        "NodeResourcesFit": 37,
        "NodeResourcesBalancedAllocation": 87,
        "ImageLocality": 0,
    }
    assert table["busy"].total == 3 * 100 + 37 + 87 + 0
    # empty: cpu 75, memory 75 -> 75; Balanced 0.25 vs 0.25 -> 100.
    assert table["empty"].scores["NodeResourcesFit"] == 75
    assert table["empty"].total == 300 + 75 + 100
    # spot: the only PreferNoSchedule taint: raw 1 of max 1 -> reversed to 0.
    assert table["spot"].scores["TaintToleration"] == 0
    assert table["spot"].total == 0 + 75 + 100
    assert table["empty"].selected and not table["busy"].selected
    assert [column.name for column in result.diagnosis.score_plugins] == [
        "TaintToleration",
        "NodeResourcesFit",
        "NodeResourcesBalancedAllocation",
        "ImageLocality",
    ]


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        # totals from the test above: empty 475 (selected), busy 424, spot 175
        (None, ["busy", "empty", "spot"]),  # examination order
        (3, ["empty", "busy", "spot"]),  # the selected node first, then the best others
        (2, ["empty", "busy"]),
        (1, ["empty"]),
        (0, ["empty"]),  # the selected node is always kept
    ],
)
def test_a_limited_score_table_keeps_the_selected_and_the_best(limit, expected) -> None:
    snapshot = snapshot_of(
        make_node("busy").info(make_pod("x").req(cpu="2", memory="2Gi")),
        make_node("empty"),
        make_node("spot").taint("spot", "true", "PreferNoSchedule"),
    )
    diagnosis = run(make_pod().req(cpu="1", memory="2Gi"), snapshot).diagnosis
    rows = diagnosis.scores(limit=limit)
    assert [row.node for row in rows] == expected
    full = {row.node: row for row in diagnosis.scores()}
    assert all(row == full[row.node] for row in rows)


@pytest.mark.parametrize("seed", range(6))
def test_the_kept_rows_hold_the_selected_node_among_many_ties(seed: int) -> None:
    """Forty identical nodes tie; the seeded pick may be far down the examination order, and the
    kept rows (selected first, then the others in examination order) still hold it. Several
    pods of one template, so the memoised walk answers."""
    snapshot = snapshot_of(*(make_node(f"n{i:02}") for i in range(40)))
    pods = [make_pod().named(f"p{i}").info() for i in range(4)]
    results = schedule_batch(pods, snapshot, random.Random(seed))
    for result in results:
        kept = result.diagnosis.scores(limit=3)
        assert kept[0].node == result.node_name and kept[0].selected
        full = result.diagnosis.scores()
        ranked = sorted(full, key=lambda row: (not row.selected, -row.total))
        assert kept == ranked[:3]


def test_preferred_node_affinity_wins() -> None:
    """NodeAffinity's preference, weight 2, outweighs a slightly emptier node."""
    snapshot = snapshot_of(
        make_node("zone-a").label(**{ZONE: "a"}).info(make_pod("x").req(cpu="500m")),
        make_node("zone-b").label(**{ZONE: "b"}),
    )
    pod = make_pod().req(cpu="500m").prefer(10, term(expr(ZONE, "In", "a")))
    result = run(pod, snapshot)
    assert result.node_name == "zone-a"
    table = {row.node: row.scores["NodeAffinity"] for row in result.diagnosis.scores()}
    assert table == {"zone-a": 100, "zone-b": 0}


def test_one_feasible_node_is_taken_without_scoring() -> None:
    """With a single feasible node there is nothing to compare: no scores are computed."""
    snapshot = snapshot_of(make_node("a"), make_node("b").cordon())
    result = run(make_pod(), snapshot)
    assert result.node_name == "a"
    assert not result.diagnosis.scored
    assert result.diagnosis.scores() == []
    assert result.diagnosis.feasible_nodes == ["a"]


def test_plugin_error_is_not_a_rejection() -> None:
    """A filter returning Error is a bug: scheduling stops with SchedulingError."""

    class Broken:
        name = "Broken"
        depends_on_pods = False

        def filter(self, pod, node):
            return Status(Code.ERROR, ("boom",), "Broken")

    profile = Profile(filters=(Broken(),), scores=())
    with pytest.raises(SchedulingError, match="Broken: boom"):
        run(make_pod(), snapshot_of(make_node("a")), profile=profile)


# --------------------------------------------------------------------- search and tie-break


def test_search_starts_where_the_last_one_stopped() -> None:
    """The next pod's search begins after the nodes the previous pod examined."""
    snapshot = snapshot_of(*[make_node(f"n{i:03d}") for i in range(150)])
    first = run(make_pod(), snapshot)
    # 150 nodes: at least 100 to find; 100 nodes examined, the next search starts at 100.
    assert first.diagnosis.evaluated_nodes == 100
    assert first.diagnosis.feasible_nodes[0] == "n000"
    assert snapshot.next_start_index == 100
    second = run(make_pod(), snapshot)
    assert second.diagnosis.feasible_nodes[:2] == ["n100", "n101"]
    assert second.diagnosis.feasible_nodes[-1] == "n049"  # wrapped around
    assert snapshot.next_start_index == 50


def test_rejected_nodes_count_as_examined() -> None:
    """Rejected nodes are examined too, and move the next start further."""
    nodes = [make_node(f"n{i:03d}") for i in range(120)]
    nodes[0].cordon()
    nodes[1].taint("dedicated", "db")
    snapshot = snapshot_of(*nodes)
    result = run(make_pod(), snapshot)
    assert list(result.diagnosis.node_statuses) == ["n000", "n001"]
    assert result.diagnosis.evaluated_nodes == 102
    assert snapshot.next_start_index == 102


def test_tie_break_is_seeded() -> None:
    """Equal nodes are chosen at random, but the same seed makes the same choices."""

    def choices(seed: int) -> list[str]:
        snapshot = snapshot_of(*[make_node(f"n{i}") for i in range(8)])
        pods = [make_pod(f"p{i}").info() for i in range(6)]
        return [r.node_name for r in schedule_batch(pods, snapshot, random.Random(seed))]

    assert choices(7) == choices(7)
    picked = {tuple(choices(seed)) for seed in range(10)}
    assert len(picked) > 1


def test_every_tied_node_can_win() -> None:
    """The tie-break draws uniformly among the best nodes, not always the first."""
    snapshot = snapshot_of(*[make_node(f"n{i}") for i in range(4)])
    pod = make_pod().info()
    counts = Counter(
        schedule(pod, snapshot, rng=random.Random(seed)).node_name for seed in range(200)
    )
    assert set(counts) == {"n0", "n1", "n2", "n3"}
    assert min(counts.values()) > 20


# ---------------------------------------------------------------------------------- batches


def test_batch_respects_capacity() -> None:
    """Later pods of a batch see the earlier ones: no node is filled past its allocatable."""
    snapshot = snapshot_of(*[make_node(f"n{i}").cap(cpu="2") for i in range(3)])
    pods = [make_pod(f"p{i}").req(cpu="1").info() for i in range(7)]
    results = schedule_batch(pods, snapshot, random.Random(3))
    placed = Counter(r.node_name for r in results if r.node_name)
    assert sorted(placed.values()) == [2, 2, 2]
    assert results[-1].node_name is None
    assert message(results[-1], snapshot) == (
        "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
        "3 No preemption victims found for incoming pod."
    )
    assert all(node.requested_cpu <= node.allocatable_cpu for node in snapshot)


def test_batch_spreads_by_least_allocated() -> None:
    """LeastAllocated sends each pod to the emptiest node, so equal pods spread out."""
    snapshot = snapshot_of(*[make_node(f"n{i}") for i in range(3)])
    pods = [make_pod(f"p{i}").req(cpu="1", memory="1Gi").info() for i in range(6)]
    results = schedule_batch(pods, snapshot, random.Random(5))
    assert Counter(r.node_name for r in results) == {"n0": 2, "n1": 2, "n2": 2}


def test_pods_per_node_limit_in_a_batch() -> None:
    """A node stops taking pods at its pod limit."""
    snapshot = snapshot_of(make_node("a").cap(pods="3"))
    results = schedule_batch(
        [make_pod(f"p{i}").info() for i in range(4)], snapshot, random.Random(1)
    )
    assert [r.node_name for r in results] == ["a", "a", "a", None]
    assert "1 Too many pods." in message(results[-1], snapshot)


# ------------------------------------------------------- the memoised walk = the reference


def random_cluster(rng: random.Random, size: int) -> tuple[list[dict], list[PodInfo]]:
    nodes = []
    for i in range(size):
        node = make_node(f"n{i:03d}").cap(
            cpu=rng.choice(["1", "2", "4"]), memory=rng.choice(["2Gi", "4Gi"]), pods="8"
        )
        node.label(**{ZONE: rng.choice("abc")})
        roll = rng.random()
        if roll < 0.05:
            node.cordon()
        elif roll < 0.1:
            node.not_ready()
        elif roll < 0.15:
            node.taint("spot", "true", "PreferNoSchedule")
        elif roll < 0.2:
            node.taint("dedicated", "db")
        if rng.random() < 0.3:
            node.image("nginx:1.27", rng.randrange(10, 800) * 1024 * 1024)
        nodes.append(node.obj())
    templates = [
        make_pod().req(cpu="500m", memory="512Mi"),
        make_pod(),
        make_pod().req(cpu="1").tolerate("dedicated", operator="Exists"),
        make_pod().req(memory="1Gi").selector(**{ZONE: "a"}),
        make_pod().req(cpu="250m").prefer(50, term(expr(ZONE, "In", "b"))),
        make_pod().req(cpu="100m").tolerate("spot", operator="Exists"),
        make_pod().req(cpu="2").require(term(fields=(name_field("In", "n001", "n002"),))),
    ]
    pods = [rng.choice(templates).named(f"p{i}").info() for i in range(int(size * 4))]
    return nodes, pods


@pytest.mark.parametrize("few", [0, 32, 10**6], ids=["vectorised", "default", "one by one"])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("size", [7, 130])
def test_memoised_walk_equals_reference(
    seed: int, size: int, few: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memoising per-node results changes nothing: same nodes, statuses, scores and messages.

    ``few`` switches the memoised walk between its one-by-one and whole-column code paths.
    """
    monkeypatch.setattr(framework, "_FEW", few)
    nodes, pods = random_cluster(random.Random(seed), size)
    fast_snapshot, slow_snapshot = Snapshot.from_objects(nodes), Snapshot.from_objects(nodes)
    fast = schedule_batch(pods, fast_snapshot, random.Random(seed))
    slow = schedule_batch(pods, slow_snapshot, random.Random(seed), memoize=False)
    for a, b in zip(fast, slow, strict=True):
        # First what the runner keeps, which the memoised walk answers without expanding.
        kept, evaluated = a.diagnosis.scores(limit=5), a.diagnosis.evaluated_nodes
        assert evaluated == b.diagnosis.evaluated_nodes
        assert a.node_name == b.node_name
        assert a.diagnosis.node_statuses == b.diagnosis.node_statuses
        assert a.diagnosis.feasible_nodes == b.diagnosis.feasible_nodes
        assert a.diagnosis.scores() == b.diagnosis.scores()
        # The kept best few: the selected node, then the others by total, ties in order.
        ranked = sorted(a.diagnosis.scores(), key=lambda row: (not row.selected, -row.total))
        assert kept == a.diagnosis.scores(limit=5) == b.diagnosis.scores(limit=5) == ranked[:5]
        assert message(a, fast_snapshot) == message(b, slow_snapshot)
    assert any(r.node_name is None for r in fast)
    assert sum(1 for r in fast if r.diagnosis.scored) > len(fast) // 4


# ------------------------------------------------------------------------ plain language


def test_plain_language_for_too_little_cpu() -> None:
    """The dashboard sentence names the request and the largest free amount."""
    snapshot = snapshot_of(
        make_node("worker-1").cap(cpu="1").info(make_pod("x").req(cpu="800m")),
        make_node("worker-2").cap(cpu="1").info(make_pod("y").req(cpu="650m")),
    )
    pod = make_pod().req(cpu="500m").info()
    result = schedule(pod, snapshot, rng=random.Random(1))
    assert plain_language(pod, result.diagnosis, snapshot) == (
        "Pending: no node has 500m cpu free; the largest free is 350m on worker-2."
    )


def test_plain_language_for_taints_and_success() -> None:
    """Taints are named with their key and value; a placed pod names its node."""
    snapshot = snapshot_of(make_node("cp").taint(CONTROL_PLANE))
    pod = make_pod().info()
    result = schedule(pod, snapshot, rng=random.Random(1))
    assert plain_language(pod, result.diagnosis, snapshot) == (
        "Pending: 1 node has the taint {node-role.kubernetes.io/control-plane: }, "
        "which the pod does not tolerate."
    )
    snapshot = snapshot_of(make_node("a"), make_node("b"))
    result = schedule(pod, snapshot, rng=random.Random(1))
    assert plain_language(pod, result.diagnosis, snapshot) == (
        f"Scheduled on {result.node_name}, the best of 2 suitable nodes."
    )


def test_default_profile_weights() -> None:
    """The default profile carries upstream's weights."""
    weights = {plugin.name: weight for plugin, weight in DEFAULT_PROFILE.scores}
    assert weights == {
        "TaintToleration": 3,
        "NodeAffinity": 2,
        "NodeResourcesFit": 1,
        "NodeResourcesBalancedAllocation": 1,
        "ImageLocality": 1,
    }
    assert [plugin.name for plugin in DEFAULT_PROFILE.filters] == [
        p.NODE_UNSCHEDULABLE,
        p.NODE_NAME,
        p.TAINT_TOLERATION,
        p.NODE_AFFINITY,
        p.NODE_RESOURCES_FIT,
    ]


def test_scheduling_leaves_the_snapshot_alone() -> None:
    """Filters and scores read the snapshot; only assume() and the search start change it."""
    snapshot = snapshot_of(make_node("a").info(make_pod("x").req(cpu="1")), make_node("b"))
    before = list(snapshot.nodes)
    numbers = [(n.requested_cpu, n.pod_count) for n in snapshot.nodes]
    for memoize in (True, False):
        run(make_pod().req(cpu="1"), snapshot, memoize=memoize)
        run(make_pod().req(cpu="1"), snapshot, memoize=memoize)
    assert all(a is b for a, b in zip(before, snapshot.nodes, strict=True))
    assert [(n.requested_cpu, n.pod_count) for n in snapshot.nodes] == numbers
    snapshot.assume(make_pod("y").req(cpu="2").info(), "b")
    assert snapshot.get("b").requested_cpu == 2000
    assert before[1].requested_cpu == 0


def test_status_of_and_unschedulable_plugins() -> None:
    """The diagnosis answers per node: rejected (with the Status), feasible, or not examined."""
    snapshot = snapshot_of(make_node("a").cordon(), make_node("b"), make_node("c").cap(cpu="1"))
    result = run(make_pod().req(cpu="2"), snapshot)
    diagnosis = result.diagnosis
    assert result.node_name == "b"
    assert diagnosis.status_of("a") == Status(
        Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ("node(s) were unschedulable",), "NodeUnschedulable"
    )
    assert diagnosis.status_of("b") is None
    assert diagnosis.status_of("c").reasons == ("Insufficient cpu",)
    assert diagnosis.unschedulable_plugins == {"NodeUnschedulable", "NodeResourcesFit"}
    assert diagnosis.evaluated_nodes == 3


def test_plain_language_for_memory() -> None:
    """Memory shortfalls are given in binary units."""
    snapshot = snapshot_of(
        make_node("small").cap(memory="1Gi").info(make_pod("x").req(memory="512Mi"))
    )
    pod = make_pod().req(memory="768Mi").info()
    result = schedule(pod, snapshot, rng=random.Random(1))
    assert plain_language(pod, result.diagnosis, snapshot) == (
        "Pending: no node has 768Mi memory free; the largest free is 512Mi on small."
    )
