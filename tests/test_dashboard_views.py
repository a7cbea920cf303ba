"""The dashboard's pages over HTTP: the Architecture page, its htmx fragments, the clock forms."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cluster import clock
from cluster.models import Node, Pod, SchedulingDecision
from cluster.store import write
from cluster.store.bootstrap import ensure_system_objects
from dashboard.broadcast import GROUP_ALL, messages_for
from dashboard.pages import architecture
from dashboard.pages.architecture import POD_TILES, Focus
from tests.builders import namespace, node, pod
from tests.test_dashboard_logic import notice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_clock")]

MAX_PAGE_BYTES = 300 * 1024


@pytest.fixture
def cluster():
    """Two zones, three nodes (one cordoned and tainted), pods in two namespaces."""
    ensure_system_objects()
    write.create(namespace("shop"))
    write.create(namespace("data"))
    for name, zone in (("worker-1", "zone-a"), ("worker-2", "zone-a"), ("worker-3", "zone-b")):
        obj = node(name)
        obj["metadata"]["labels"]["topology.kubernetes.io/zone"] = zone
        if name == "worker-3":
            obj["spec"]["unschedulable"] = True
            obj["spec"]["taints"] = [{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}]
        write.create(obj)
    write.create(pod("web-1", "shop", node="worker-1", cpu="500m"))
    write.create(pod("db-0", "data", node="worker-1", cpu="1"))
    write.create(pod("web-2", "shop"))


def ids(html: str) -> list[str]:
    return re.findall(r'\bid="([^"]+)"', html)


class _TopLevel(HTMLParser):
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self.depth == 0:
            self.ids.append(dict(attrs).get("id", ""))
        if tag not in self.VOID:
            self.depth += 1

    def handle_endtag(self, tag):
        self.depth -= 1


def top_ids(html: str) -> list[str]:
    """The ids of the top-level elements: what htmx's ws extension swaps out of band."""
    parser = _TopLevel()
    parser.feed(html)
    return parser.ids


def htmx_get(client: Client, url: str, target: str = "live"):
    return client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target)


# --- the page ----------------------------------------------------------------------------


def test_full_page_shows_the_architecture(client, cluster):
    """The page has the layout (nav, namespace selector, clock, connection indicator), the five
    control plane components, every node with its agents, bars and pod tiles, and the queue."""
    response = client.get(reverse("architecture"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith("<!doctype html>")
    found = ids(html)
    for expected in (
        "namespace-select",
        "clock",
        "clock-time",
        "clock-controls",
        "live",
        "region",
        "cp-kube-apiserver",
        "cp-etcd",
        "cp-kube-scheduler",
        "cp-kube-controller-manager",
        "cp-cloud-controller-manager",
        "queue",
        "zsum-zone-a",
        "node-worker-1",
        "node-worker-3",
    ):
        assert expected in found
    assert 'ws-connect="/ws/architecture?since=' in html
    assert "kubelet" in html and "kube-proxy" in html and "containerd" in html
    assert "dedicated=batch:NoSchedule" in html and "Cordoned" in html
    assert "1.5 / 4" in html  # worker-1: 500m + 1 core requested of 4
    assert "shop/web-2" in html  # waiting for a node
    assert 'aria-current="page"' in html


def test_htmx_request_gets_only_the_live_fragment(client, cluster):
    """An htmx request targeting #live is answered with that fragment, from the same template."""
    response = htmx_get(client, "/?namespace=shop")
    html = response.content.decode().strip()
    assert html.startswith('<main id="live"')
    assert "<html" not in html and 'id="clock"' not in html
    assert 'ws-connect="/ws/architecture?namespace=shop&amp;since=' in html


def test_other_htmx_targets_get_the_whole_page(client, cluster):
    """The namespace selector swaps the body: it gets the whole page (nav links included)."""
    html = client.get("/?namespace=shop", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" in html and 'href="/?namespace=shop"' in html


def test_namespace_filter(client, cluster):
    """A namespace page shows that namespace's pods; bars still count every pod on the node."""
    html = client.get("/?namespace=shop").content.decode()
    assert 'title="shop/web-1' in html
    assert 'title="data/db-0' not in html
    assert "and 1 pod in other namespaces" in html
    assert "1.5 / 4" in html
    assert '<option value="shop" selected>' in html


def test_pod_tiles_show_state_by_text_and_symbol(client, cluster):
    """A tile names its pod, shows kubectl's status and readiness, and a symbol."""
    html = client.get("/").content.decode()
    tile = re.search(r'<li class="pod s-pending[^"]*" title="shop/web-1.*?</li>', html, re.S)
    assert tile is not None
    assert "Pending" in tile.group(0) and "0/1" in tile.group(0) and "○" in tile.group(0)
    assert 'href="/objects/pods/shop/web-1"' in tile.group(0)  # the tile opens the pod's page


def test_node_names_and_waiting_pods_link_to_their_pages(client, cluster):
    html = client.get("/").content.decode()
    node = Node.objects.order_by("name").first()
    assert f'<h4><a href="/objects/nodes/{node.name}">{node.name}</a></h4>' in html
    queue = html[html.index('id="queue"') : html.index("</section>", html.index('id="queue"'))]
    waiting = Pod.objects.filter(node_name="").order_by("name").first()
    assert f'href="/objects/pods/{waiting.namespace}/{waiting.name}"' in queue


def test_queue_shows_why_a_pod_waits(client, cluster):
    """The queue gives the PodScheduled message, and the scheduler's plain explanation."""
    message = "0/3 nodes are available: 3 Insufficient cpu."
    web2 = Pod.objects.get(name="web-2")

    def unschedulable(obj):
        obj["status"]["conditions"] = [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": message,
            }
        ]
        return obj

    write.mutate("Pod", "shop", "web-2", unschedulable, subresource="status")
    SchedulingDecision.objects.create(
        pod_uid=web2.uid,
        namespace="shop",
        name="web-2",
        message=message,
        diagnosis={"sentence": "Pending: no node has 8 cpu free."},
        decided_at=timezone.now(),
    )
    html = htmx_get(client, "/").content.decode()
    queue = html[html.index('id="queue"') :]
    assert message in queue and "Pending: no node has 8 cpu free." in queue


def test_a_node_with_many_pods_is_summarised_and_opens_on_demand(client, cluster):
    """Beyond POD_TILES pods a node shows counts by state and a link; ?node= shows every tile."""
    for i in range(POD_TILES + 1):
        write.create(pod(f"many-{i:02d}", "shop", node="worker-2"))
    html = client.get("/").content.decode()
    card = html[html.index('id="node-worker-2"') : html.index('id="zsum-zone-b"')]
    assert 'class="pods"' not in card
    assert f"{POD_TILES + 1} Starting" in card  # bound, not started: no kubelet here
    assert 'hx-get="?node=worker-2"' in card
    opened = htmx_get(client, "/?node=worker-2").content.decode()
    card = opened[opened.index('id="node-worker-2"') :]
    assert card.count('class="pod ') == POD_TILES + 1
    assert 'hx-get="?"' in card  # "Show fewer"


BIG_CLUSTER_VIEWS = {
    "": "all namespaces, zones collapsed",
    "?zone=zone-3": "one zone opened",
    "?zone=zone-3&page=4": "a later page",
    "?node=node-0003": "a node opened",
    "?namespace=ns-2&zone=zone-1": "a namespace and a zone",
}


def test_a_big_cluster_stays_under_300_kb(client, big_cluster):
    """1,000 nodes and 10,000 pods: every view of the page stays under 300 KB; zones are
    summaries until one is opened, which shows one page of cards."""
    sizes = {}
    for query, view in BIG_CLUSTER_VIEWS.items():
        response = client.get("/" + query)
        assert response.status_code == 200, view
        sizes[view] = len(response.content)
    assert max(sizes.values()) < MAX_PAGE_BYTES, sizes
    html = client.get("/").content.decode()
    assert html.count('<article id="node-') == 0
    assert html.count('class="zone-summary"') == 5
    assert "200 nodes" in html
    opened = client.get("/?zone=zone-3").content.decode()
    assert opened.count('<article id="node-') == architecture.NODES_PER_PAGE
    assert "Nodes 1–40 of 200" in opened


@pytest.fixture
def big_cluster():
    """1,000 nodes in 5 zones and 10,000 pods in 4 namespaces, written straight to the tables
    (what the page reads; going through the write path would only make the test slow)."""
    ensure_system_objects()
    now = timezone.now()
    nodes = [
        Node(
            name=f"node-{i:04d}",
            labels={"topology.kubernetes.io/zone": f"zone-{i % 5}"},
            creation_timestamp=now,
            ready="True",
            cpu_allocatable=8000,
            memory_allocatable=32 * 2**30,
            status={"conditions": [{"type": "Ready", "status": "True"}]},
        )
        for i in range(1000)
    ]
    Node.objects.bulk_create(nodes)
    pods = []
    for i in range(10_000):
        running = i % 7 != 0
        pods.append(
            Pod(
                name=f"app-{i:05d}-abcde",
                namespace=f"ns-{i % 4}",
                node_name=f"node-{i % 1000:04d}" if i % 50 else "",
                phase="Running" if running else "Pending",
                ready=running,
                cpu_request=100,
                memory_request=2**27,
                creation_timestamp=now - dt.timedelta(minutes=5),
                spec={"containers": [{"name": "main", "image": "nginx:1.27"}]},
                status={
                    "phase": "Running" if running else "Pending",
                    "containerStatuses": [
                        {
                            "name": "main",
                            "ready": running,
                            "restartCount": 0,
                            "state": {"running": {}} if running else {"waiting": {}},
                        }
                    ],
                },
            )
        )
    Pod.objects.bulk_create(pods, batch_size=2000)


# --- live fragments ----------------------------------------------------------------------


def test_render_update_sends_the_stale_fragments(cluster):
    """A binding lights the scheduler and etcd, re-renders the queue, the node card (the pod
    arriving) and its zone summary; nothing else."""
    write.mutate(
        "Pod",
        "shop",
        "web-2",
        lambda obj: {**obj, "spec": {**obj["spec"], "nodeName": "worker-2"}},
        subresource="binding",
        actor="default-scheduler",
    )
    batch = [notice(name="web-2", actor="default-scheduler", type="MODIFIED", node="worker-2")]
    html = architecture.render_update(Focus(), [messages_for(batch)[GROUP_ALL]])
    assert top_ids(html) == [
        "cp-etcd",
        "cp-kube-scheduler",
        "queue",
        "zsum-zone-a",
        "node-worker-2",
    ]
    assert "default-scheduler bound shop/web-2 to worker-2" in html
    assert 'class="component acting"' in html
    assert 'class="pod s-pending arrived"' in html


def test_render_update_rerenders_the_node_section_when_a_node_joins(cluster):
    """A node added changes the layout: the whole node section comes again."""
    write.create(node("worker-4"))
    batch = [notice("Node", "worker-4", "", type="ADDED")]
    html = architecture.render_update(Focus(), [messages_for(batch)[GROUP_ALL]])
    assert "nodes" in top_ids(html) and "node-worker-4" in ids(html)


def test_overflow_renders_the_whole_region(cluster):
    """An overflowing batch re-renders the whole live region."""
    html = architecture.render_update(Focus(), [{"revision": 1, "overflow": True, "changes": []}])
    assert top_ids(html) == ["region"]


def test_a_page_at_the_current_revision_needs_no_fresh_render(cluster):
    """A connecting page rendered at the current revision is current; one rendered before is not."""
    response = Client().get("/")
    since = int(re.search(r"since=(\d+)", response.content.decode()).group(1))
    assert architecture.is_current(since)
    write.create(pod("web-3", "shop"))
    assert not architecture.is_current(since)


# --- the clock ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "data", "paused", "shows"),
    [
        pytest.param("pause", {}, True, "Play", id="pause"),
        pytest.param("speed", {"speed": "5"}, False, '<option value="5" selected>', id="speed"),
    ],
)
def test_clock_forms_with_htmx(client, action, data, paused, shows):
    """A clock form posted by htmx changes the clock and gets the clock fragment back."""
    clock.resume()
    response = client.post(
        reverse("clock"), {"action": action, **data}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="clock"
    )
    html = response.content.decode().strip()
    assert response.status_code == 200
    assert html.startswith('<div id="clock"')
    assert shows in html
    assert clock.state().paused is paused


def test_clock_step_and_resume(client):
    """Step advances a paused clock by one tick; play resumes it."""
    clock.pause()
    before = clock.now()
    client.post(reverse("clock"), {"action": "step"}, HTTP_HX_REQUEST="true")
    clock.invalidate()
    assert clock.now() == pytest.approx(before + 1.0)
    client.post(reverse("clock"), {"action": "resume"}, HTTP_HX_REQUEST="true")
    clock.invalidate()
    assert not clock.state().paused


def test_clock_refusal_is_shown(client):
    """Stepping a running clock is refused with a message, not an error page."""
    clock.resume()
    response = client.post(reverse("clock"), {"action": "step"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


@pytest.mark.parametrize(
    ("next_url", "location"),
    [
        pytest.param("/?namespace=shop", "/?namespace=shop", id="back to the page"),
        pytest.param("https://evil.example/", "/", id="never off-site"),
    ],
)
def test_clock_forms_without_javascript(client, next_url, location):
    """Without htmx the form redirects back to the page it was on (only on this site)."""
    response = client.post(reverse("clock"), {"action": "pause", "next": next_url})
    assert response.status_code == 302 and response["Location"] == location


def test_clock_forms_need_the_csrf_token():
    """The clock forms are protected against cross-site requests."""
    response = Client(enforce_csrf_checks=True).post(reverse("clock"), {"action": "pause"})
    assert response.status_code == 403


def test_node_bars_show_what_the_running_containers_use(client, cluster):
    """Requested (the fill) and used (the band, and in words): a running container using 250m
    and 64Mi on worker-2; a pod that is not running uses nothing."""
    busy = pod("busy", "shop", node="worker-2", cpu="500m")
    busy["metadata"]["annotations"] = {
        "kubarium.io/cpu-usage": "250m",
        "kubarium.io/memory-usage": "64Mi",
    }
    write.create(busy)

    def running(obj):
        obj["status"] = {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "main",
                    "ready": True,
                    "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
                }
            ],
        }
        return obj

    write.mutate("Pod", "shop", "busy", running, subresource="status")
    html = client.get("/").content.decode()
    card = html[html.index('id="node-worker-2"') :]
    card = card[: card.index("</article>")]
    assert re.search(r'class="used" style="width: 6%"', card)  # 250m of 4 cores, rounded down
    assert "used 0.25" in card and "used 64Mi" in card  # cores, as the requested figures
    idle = html[html.index('id="node-worker-1"') :]
    idle = idle[: idle.index("</article>")]
    assert "used 0" in idle  # web-1 and db-0 are bound but not running
