"""The dashboard's pure parts: page queries, layout at scale, states, captions, the stream's batching."""

from __future__ import annotations

import pytest

from dashboard import broadcast
from dashboard.broadcast import GROUP_ALL, GROUP_CLUSTER, Notice
from dashboard.pages import captions, states
from dashboard.pages.architecture import (
    NODES_PER_PAGE,
    SHOW_ALL_NODES,
    Bar,
    Focus,
    plan_layout,
    plan_update,
    short_pod_name,
)
from dashboard.templatetags.kubarium import binary_bytes, cores, speed


def notice(
    kind: str = "Pod",
    name: str = "web-1",
    namespace: str = "shop",
    *,
    type: str = "ADDED",
    actor: str = "kube-apiserver",
    node: str = "",
    revision: int = 10,
) -> Notice:
    return Notice(revision, type, kind, namespace, name, actor, node)


# --- the page's query ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({}, Focus(), id="no query shows everything"),
        pytest.param(
            {"namespace": "shop", "zone": "zone-a", "node": "worker-1.example", "page": "3"},
            Focus("shop", "zone-a", "worker-1.example", 3),
            id="every part kept",
        ),
        pytest.param({"zone": "-"}, Focus(zone=""), id="a dash opens the nodes without a zone"),
        pytest.param(
            {"namespace": "Shop!", "zone": "<b>", "node": "a b", "page": "x"},
            Focus(),
            id="invalid values are dropped",
        ),
        pytest.param({"page": "0"}, Focus(page=1), id="pages start at one"),
    ],
)
def test_focus_from_query(query, expected):
    """The query string becomes a Focus; anything invalid falls back to the default."""
    assert Focus.from_query(query) == expected


@pytest.mark.parametrize(
    ("focus", "expected"),
    [
        pytest.param(Focus(), "", id="defaults leave no query"),
        pytest.param(Focus("shop"), "?namespace=shop", id="namespace"),
        pytest.param(Focus(zone="", page=2), "?zone=-&page=2", id="no zone, page two"),
    ],
)
def test_focus_query(focus, expected):
    """Links carry the focus back in the same form the page reads it."""
    assert focus.query() == expected
    assert Focus.from_query(dict(p.split("=") for p in expected[1:].split("&") if p)) == focus


def test_stream_url_adds_the_revision():
    """The websocket URL is the page's query plus the revision it was rendered at."""
    assert Focus("shop").stream_url(42) == "/ws/architecture?namespace=shop&since=42"


# --- layout ------------------------------------------------------------------------------


def zones_of(count: int, zones: int = 1) -> dict[str, str]:
    return {f"node-{i:04d}": f"zone-{i % zones}" for i in range(count)}


def test_a_small_cluster_shows_every_node():
    """Up to SHOW_ALL_NODES nodes every card is shown, zones cannot be collapsed."""
    layouts = plan_layout(zones_of(SHOW_ALL_NODES, zones=3), Focus())
    assert sum(len(z.shown) for z in layouts) == SHOW_ALL_NODES
    assert all(z.open and not z.collapsible for z in layouts)


@pytest.mark.parametrize(
    ("focus", "open_zone", "first", "count", "pages"),
    [
        pytest.param(Focus(), None, None, 0, 1, id="nothing opened: summaries only"),
        pytest.param(Focus(zone="zone-1"), "zone-1", "node-0001", NODES_PER_PAGE, 13, id="zone"),
        pytest.param(
            Focus(zone="zone-1", page=13), "zone-1", "node-0961", 20, 13, id="last page is short"
        ),
        pytest.param(
            Focus(zone="zone-1", page=99), "zone-1", "node-0961", 20, 13, id="beyond the end"
        ),
        pytest.param(
            Focus(node="node-0500"), "zone-0", "node-0480", NODES_PER_PAGE, 13, id="node's page"
        ),
    ],
)
def test_a_big_cluster_opens_one_zone_page_at_a_time(focus, open_zone, first, count, pages):
    """1,000 nodes in two zones: 500 each, ceil(500 / 40) = 13 pages of NODES_PER_PAGE cards,
    the last one 500 - 12 * 40 = 20; node-0500 is the 251st of zone-0, on page 7."""
    layouts = {z.zone: z for z in plan_layout(zones_of(1000, zones=2), focus)}
    assert [z for z in layouts.values() if z.open] == ([layouts[open_zone]] if open_zone else [])
    if open_zone:
        opened = layouts[open_zone]
        assert (opened.shown[0], len(opened.shown), opened.pages) == (first, count, pages)


def test_nodes_without_a_zone_come_last():
    """Zones in name order, the nodes without a zone label after them."""
    layouts = plan_layout({"a": "", "b": "zone-b", "c": "zone-a"}, Focus())
    assert [z.zone for z in layouts] == ["zone-a", "zone-b", ""]


# --- states ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "ready", "expected"),
    [
        pytest.param("Running", "1/1", states.READY, id="running and ready"),
        pytest.param("Running", "1/2", states.NOT_READY, id="running, one container not ready"),
        pytest.param("Running", "0/0", states.NOT_READY, id="no containers is not ready"),
        pytest.param("NotReady", "0/1", states.NOT_READY, id="completed container, another runs"),
        pytest.param("ContainerCreating", "0/1", states.CREATING, id="creating"),
        pytest.param("PodInitializing", "0/1", states.CREATING, id="initializing"),
        pytest.param("Init:1/3", "0/1", states.CREATING, id="init containers progressing"),
        pytest.param("Init:CrashLoopBackOff", "0/1", states.FAILING, id="init crash loop"),
        pytest.param("CrashLoopBackOff", "0/1", states.FAILING, id="crash loop"),
        pytest.param("ImagePullBackOff", "0/1", states.FAILING, id="image pull back-off"),
        pytest.param("ErrImagePull", "0/1", states.FAILING, id="image pull error"),
        pytest.param("Error", "0/1", states.FAILING, id="error"),
        pytest.param("Pending", "0/1", states.PENDING, id="pending"),
        pytest.param("Terminating", "1/1", states.TERMINATING, id="terminating"),
        pytest.param("Completed", "0/1", states.COMPLETED, id="completed"),
        pytest.param("Unknown", "0/1", states.UNKNOWN, id="lost with its node"),
        pytest.param("SomethingNew", "0/1", states.NOT_READY, id="an unknown reason"),
    ],
)
def test_pod_state(status, ready, expected):
    """kubectl's STATUS and READY cells map to one display category."""
    assert states.pod_state(status, ready) == expected


@pytest.mark.parametrize(
    ("phase", "ready", "terminating", "bound", "expected"),
    [
        pytest.param("Running", True, False, True, states.READY, id="ready"),
        pytest.param("Running", False, False, True, states.NOT_READY, id="not ready"),
        pytest.param("Pending", False, False, False, states.PENDING, id="waiting for a node"),
        pytest.param("Pending", False, False, True, states.CREATING, id="on a node, starting"),
        pytest.param("Running", True, True, True, states.TERMINATING, id="terminating"),
        pytest.param("Succeeded", False, True, True, states.COMPLETED, id="finished, deleted"),
        pytest.param("Failed", False, False, True, states.FAILING, id="failed"),
        pytest.param("Unknown", False, False, True, states.UNKNOWN, id="unknown"),
    ],
)
def test_coarse_pod_state(phase, ready, terminating, bound, expected):
    """Counts over many pods use the indexed columns only."""
    assert states.coarse_pod_state(phase, ready, terminating, bound) == expected


@pytest.mark.parametrize(
    ("ready", "text"),
    [
        pytest.param("True", "Ready", id="ready"),
        pytest.param("False", "NotReady", id="not ready"),
        pytest.param("Unknown", "Unknown", id="kubelet stopped reporting"),
    ],
)
def test_node_condition(ready, text):
    """A node's Ready condition keeps Kubernetes' words."""
    assert states.node_condition(ready).text == text


def test_every_state_has_a_symbol_and_a_label():
    """State is never shown by colour alone: each has its own symbol and a name."""
    symbols = [s.symbol for s in states.POD_STATES]
    assert len(set(symbols)) == len(symbols)
    assert all(str(s.label) for s in states.POD_STATES)


# --- captions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "component"),
    [
        pytest.param("default-scheduler", captions.SCHEDULER, id="scheduler"),
        pytest.param("replicaset-controller", captions.CONTROLLER_MANAGER, id="controller"),
        pytest.param("garbage-collector", captions.CONTROLLER_MANAGER, id="garbage collector"),
        pytest.param("service-controller", captions.CLOUD_CONTROLLER_MANAGER, id="cloud"),
        pytest.param("kubelet", captions.KUBELET, id="kubelet"),
        pytest.param("admin:alice", captions.API_SERVER, id="a person in the admin"),
        pytest.param("kube-apiserver", captions.API_SERVER, id="the default actor"),
        pytest.param("", captions.API_SERVER, id="nobody named"),
    ],
)
def test_component_of(actor, component):
    """Actors map to the component they run in."""
    assert captions.component_of(actor) == component


@pytest.mark.parametrize(
    ("item", "text"),
    [
        pytest.param(
            notice("Deployment", "web"),
            "kube-apiserver accepted Deployment shop/web",
            id="a user write",
        ),
        pytest.param(
            notice("Deployment", "web", actor="admin:alice", type="MODIFIED"),
            "kube-apiserver accepted Deployment shop/web from admin:alice",
            id="an admin edit",
        ),
        pytest.param(
            notice("Deployment", "web", type="DELETED"),
            "kube-apiserver removed Deployment shop/web",
            id="a deletion",
        ),
        pytest.param(
            notice(name="web-x", actor="default-scheduler", type="MODIFIED", node="worker-1"),
            "default-scheduler bound shop/web-x to worker-1",
            id="a binding",
        ),
        pytest.param(
            notice(name="web-x", actor="default-scheduler", type="MODIFIED"),
            "default-scheduler found no node for shop/web-x",
            id="unschedulable",
        ),
        pytest.param(
            notice(name="web-x", actor="replicaset-controller"),
            "replicaset-controller created Pod shop/web-x",
            id="a controller creates",
        ),
        pytest.param(
            notice("Node", "worker-1", "", actor="node-lifecycle-controller", type="MODIFIED"),
            "node-lifecycle-controller updated Node worker-1",
            id="cluster-scoped object",
        ),
    ],
)
def test_caption(item, text):
    """Each component's caption says what it did, in its own words."""
    assert captions.caption(item) == text


def test_activities_per_component():
    """The latest action per component with a count of the others; etcd shows the revision;
    Events and kubelets do not light the control plane."""
    batch = [
        notice(name="a", actor="replicaset-controller", revision=5),
        notice(name="b", actor="replicaset-controller", revision=7),
        notice("Event", "a.1", actor="default-scheduler", revision=8),
        notice(name="a", actor="kubelet", type="MODIFIED", node="w1", revision=9),
    ]
    result = captions.activities(batch)
    assert set(result) == {captions.CONTROLLER_MANAGER, captions.ETCD}
    assert result[captions.CONTROLLER_MANAGER].caption.endswith("Pod shop/b")
    assert result[captions.CONTROLLER_MANAGER].more == 1
    assert result[captions.ETCD].caption == "revision 9"
    assert captions.kubelet_nodes(batch) == {"w1"}


# --- what a batch re-renders -------------------------------------------------------------


@pytest.mark.parametrize(
    ("batch", "focus", "queue", "nodes", "structure", "arrived"),
    [
        pytest.param(
            [notice(name="web-1")], Focus(), True, set(), False, {"shop/web-1"}, id="new in queue"
        ),
        pytest.param(
            [notice(name="web-1", actor="default-scheduler", type="MODIFIED", node="w1")],
            Focus(),
            True,
            {"w1"},
            False,
            {"shop/web-1"},
            id="bound: leaves the queue, arrives on its node",
        ),
        pytest.param(
            [notice(name="web-1", actor="kubelet", type="MODIFIED", node="w1")],
            Focus(),
            False,
            {"w1"},
            False,
            set(),
            id="kubelet status update",
        ),
        pytest.param(
            [notice(name="web-1", type="DELETED", node="w1")],
            Focus(),
            False,
            {"w1"},
            False,
            set(),
            id="deleted from its node",
        ),
        pytest.param(
            [notice("Node", "w2", "", type="ADDED")],
            Focus(),
            False,
            {"w2"},
            True,
            set(),
            id="a node joins",
        ),
        pytest.param(
            [notice(name="other", namespace="data", node="w1")],
            Focus("shop"),
            False,
            set(),
            False,
            set(),
            id="another namespace's pod is not this page's",
        ),
    ],
)
def test_plan_update(batch, focus, queue, nodes, structure, arrived):
    """Each notice makes exactly the fragments that show it stale."""
    update = plan_update(focus, batch, set())
    assert (update.queue, update.nodes, update.structure, update.arrived) == (
        queue,
        nodes,
        structure,
        arrived,
    )


def test_plan_update_takes_the_nodes_of_other_namespaces():
    """A filtered page still refreshes the resource bars of nodes whose pods changed elsewhere."""
    assert plan_update(Focus("shop"), [], {"w3"}).nodes == {"w3"}


# --- the stream's messages ---------------------------------------------------------------


def test_messages_per_group():
    """One message per group for a batch: all, each namespace, and the cluster-wide one."""
    batch = [
        notice(name="web-1", revision=11),
        notice(name="web-1", actor="default-scheduler", node="w1", revision=12),
        notice("Pod", "db-0", "data", node="w2", revision=13),
        notice("Node", "w1", "", type="MODIFIED", revision=14),
    ]
    messages = broadcast.messages_for(batch)
    assert set(messages) == {
        GROUP_ALL,
        broadcast.namespace_group("shop"),
        broadcast.namespace_group("data"),
        GROUP_CLUSTER,
    }
    assert all(m["type"] == "cluster.changed" and m["revision"] == 14 for m in messages.values())
    assert len(messages[GROUP_ALL]["changes"]) == 4
    assert len(messages[broadcast.namespace_group("shop")]["changes"]) == 2
    assert messages[GROUP_CLUSTER]["nodes"] == ["w1", "w2"]
    assert [Notice.from_list(c) for c in messages[GROUP_CLUSTER]["changes"]] == [batch[3]]


def test_a_huge_batch_overflows():
    """Past MAX_NOTICES a group gets no notices but an overflow flag (re-render everything)."""
    batch = [notice(name=f"p{i}", revision=i) for i in range(1, broadcast.MAX_NOTICES + 2)]
    message = broadcast.messages_for(batch)[GROUP_ALL]
    assert message["overflow"] is True and message["changes"] == []


def test_decode_merges_messages():
    """Received messages merge into notices, touched nodes, the top revision and overflow."""
    first = broadcast.messages_for([notice(node="w1", revision=3)])[GROUP_ALL]
    second = broadcast.messages_for([notice("Node", "w2", "", revision=4)])[GROUP_CLUSTER]
    notices, nodes, revision, overflow = broadcast.decode([first, second])
    assert (len(notices), nodes, revision, overflow) == (2, {"w1"}, 4, False)


@pytest.mark.parametrize(
    ("namespace", "groups"),
    [
        pytest.param("", [GROUP_ALL], id="all namespaces"),
        pytest.param("shop", ["kubarium.changes.ns.shop", GROUP_CLUSTER], id="one namespace"),
    ],
)
def test_groups_for(namespace, groups):
    """A page joins the groups that carry what it shows; names are valid Channels groups."""
    assert broadcast.groups_for(namespace) == groups
    assert all(len(g) < 100 and g.replace(".", "").replace("-", "").isalnum() for g in groups)


# --- small formatting helpers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "short"),
    [
        pytest.param("web-1", "web-1", id="short names stay"),
        pytest.param("web-8c645ff74-gdwhf", "web-8c64…-gdwhf", id="owner, hash start, suffix"),
        pytest.param("backend-849d74649c-cx4f4", "backend-849d…-cx4f4", id="longer owner"),
        pytest.param("web-12345678901234567", "web-12345678901234567", id="one dash only"),
        pytest.param(
            "averyveryverylongpodnamewithoutdashes",
            "averyveryverylongpodnamewithoutdashes",
            id="no dashes",
        ),
    ],
)
def test_short_pod_name(name, short):
    """Tiles keep the owner, the template hash's start and the suffix that tell pods apart."""
    assert short_pod_name(name) == short


@pytest.mark.parametrize(
    ("bar", "percent", "over"),
    [
        pytest.param(Bar(1500, 4000), 37, False, id="1500m of 4 cores"),
        pytest.param(Bar(0, 0), 0, False, id="nothing allocatable"),
        pytest.param(Bar(5000, 4000), 100, True, id="over-committed is drawn full"),
    ],
)
def test_bar(bar, percent, over):
    """Requested-of-allocatable bars round down and clamp at 100."""
    assert (bar.percent, bar.over) == (percent, over)


@pytest.mark.parametrize(
    ("value", "text"),
    [(1500, "1.5"), (250, "0.25"), (4000, "4"), (0, "0"), (None, "0")],
)
def test_cores(value, text):
    """Millicores read as cores."""
    assert cores(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(3 * 2**30, "3Gi"), (1610612736, "1.5Gi"), (128 * 2**20, "128Mi"), (512, "512")],
)
def test_binary_bytes(value, text):
    """Bytes read with Kubernetes' binary suffixes."""
    assert binary_bytes(value) == text


def test_speed():
    """Clock speeds read as multipliers."""
    assert [speed(s) for s in (0.25, 1.0, 20.0)] == ["0.25×", "1×", "20×"]
