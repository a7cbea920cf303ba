"""The list pages over HTTP: Workloads, Networking, Config & storage and Events, their htmx
fragments, their live fragments, the actions they carry (send a request, the traffic switch,
revealing a Secret) and their size at 1,000 nodes and 10,000 pods."""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from html import escape

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cluster import clock
from cluster.models import (
    ConfigMap,
    Deployment,
    Endpoints,
    Event,
    Node,
    Pod,
    ReplicaSet,
    Role,
    RoleBinding,
    Service,
    TrafficFlow,
)
from cluster.store import events as store_events
from cluster.store import write
from cluster.store.bootstrap import ensure_system_objects
from dashboard.broadcast import GROUP_ALL, messages_for
from dashboard.pages import config, events, networking, workloads
from tests.builders import configmap, deployment, namespace, node, pod, service
from tests.queries import statements
from tests.test_dashboard_logic import notice
from tests.test_dashboard_views import MAX_PAGE_BYTES, htmx_get, ids, top_ids

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_clock")]

PAGES = ["workloads", "networking", "config", "events"]
# A big cluster's page is read in a bounded number of statements, never one per object (how
# fast it renders is bench/live.py's business: a timed assertion fails on a busy machine).
MAX_PAGE_STATEMENTS = 40  # 19 at most today


def owned(obj: dict, owner: dict) -> dict:
    meta = owner["metadata"]
    obj["metadata"]["ownerReferences"] = [
        {
            "apiVersion": owner["apiVersion"],
            "kind": owner["kind"],
            "name": meta["name"],
            "uid": meta["uid"],
            "controller": True,
        }
    ]
    return obj


def replicaset(name: str, ns: str, owner: dict, *, replicas: int, image: str, revision: int):
    labels = {"app": owner["metadata"]["name"], "pod-template-hash": name.rsplit("-", 1)[1]}
    obj = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": labels,
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": image}]},
            },
        },
    }
    return write.create(owned(obj, owner))


def running(ns: str, name: str, ip: str) -> None:
    """Mark a pod Running and Ready with an IP, as its kubelet would."""

    def change(obj):
        obj["status"] = {
            "phase": "Running",
            "podIP": ip,
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {"name": "main", "ready": True, "restartCount": 0, "state": {"running": {}}}
            ],
        }
        return obj

    write.mutate("Pod", ns, name, change, subresource="status")


def endpoints(ns: str, name: str, ready: list[tuple], not_ready: list[tuple] = ()) -> None:
    def address(ip, pod_name, node_name):
        return {
            "ip": ip,
            "nodeName": node_name,
            "targetRef": {"kind": "Pod", "namespace": ns, "name": pod_name},
        }

    subset = {"ports": [{"port": 8080, "protocol": "TCP"}]}
    if ready:
        subset["addresses"] = [address(*a) for a in ready]
    if not_ready:
        subset["notReadyAddresses"] = [address(*a) for a in not_ready]
    obj = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": name, "namespace": ns},
        "subsets": [subset],
    }
    existing = Endpoints.objects.filter(namespace=ns, name=name).first()
    if existing is None:
        write.create(obj)
    else:
        write.mutate("Endpoints", ns, name, lambda old: {**old, "subsets": obj["subsets"]})


def ingress(name: str, ns: str, rules: list[tuple[str, str, str]]) -> None:
    by_host: dict[str, list] = {}
    for host, path, backend in rules:
        by_host.setdefault(host, []).append(
            {
                "path": path,
                "pathType": "Prefix",
                "backend": {"service": {"name": backend, "port": {"number": 80}}},
            }
        )
    write.create(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "ingressClassName": "nginx",
                "rules": [{"host": h, "http": {"paths": p}} for h, p in by_host.items()],
            },
        }
    )


@pytest.fixture
def cluster():
    """shop: a Deployment mid-rollout (old and new ReplicaSet), a StatefulSet with two of its
    three pods, a DaemonSet, an autoscaler, two Services behind an Ingress (one without ready
    endpoints), a ConfigMap, a Secret and a claim used by a pod, and a few events."""
    ensure_system_objects()
    write.create(namespace("shop"))
    write.create(namespace("data"))
    write.create(node("worker-1"))
    write.create(node("worker-2"))
    web = write.create(deployment("web", "shop", replicas=3, image="nginx:1.27"))
    old = replicaset("web-5d8f7c", "shop", web, replicas=1, image="nginx:1.26", revision=1)
    new = replicaset("web-7b9c4d", "shop", web, replicas=3, image="nginx:1.27", revision=2)
    write.create(
        owned(pod("web-5d8f7c-aaaaa", "shop", node="worker-1", labels={"app": "web"}), old)
    )
    for i, suffix in enumerate(("bbbbb", "ccccc")):
        name = f"web-7b9c4d-{suffix}"
        write.create(owned(pod(name, "shop", node=f"worker-{i + 1}", labels={"app": "web"}), new))
        running("shop", name, f"10.244.1.{10 + i}")
    db = write.create(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "shop"},
            "spec": {
                "replicas": 3,
                "serviceName": "db",
                "selector": {"matchLabels": {"app": "db"}},
                "template": {
                    "metadata": {"labels": {"app": "db"}},
                    "spec": {"containers": [{"name": "main", "image": "postgres:16"}]},
                },
            },
        }
    )
    for i in range(2):
        write.create(owned(pod(f"db-{i}", "shop", node="worker-1", labels={"app": "db"}), db))
    running("shop", "db-0", "10.244.1.20")
    logs = write.create(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "logs", "namespace": "shop"},
            "spec": {
                "selector": {"matchLabels": {"app": "logs"}},
                "template": {
                    "metadata": {"labels": {"app": "logs"}},
                    "spec": {"containers": [{"name": "main", "image": "fluent-bit:3"}]},
                },
            },
        }
    )
    write.create(owned(pod("logs-x1", "shop", node="worker-2", labels={"app": "logs"}), logs))
    write.create(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 2,
                "maxReplicas": 10,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 60},
                        },
                    }
                ],
            },
        }
    )

    def hpa_status(obj):
        obj["status"] = {
            "currentReplicas": 3,
            "desiredReplicas": 5,
            "currentMetrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "current": {"averageUtilization": 95}},
                }
            ],
            "conditions": [
                {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound"}
            ],
        }
        return obj

    write.mutate("HorizontalPodAutoscaler", "shop", "web", hpa_status, subresource="status")
    write.create(service("web", "shop", target=8080))
    write.create(service("api", "shop", target=8080))
    endpoints(
        "shop",
        "web",
        [
            ("10.244.1.10", "web-7b9c4d-bbbbb", "worker-1"),
            ("10.244.1.11", "web-7b9c4d-ccccc", "worker-2"),
        ],
        [("10.244.1.9", "web-5d8f7c-aaaaa", "worker-1")],
    )
    ingress("shop", "shop", [("shop.example.com", "/", "web"), ("shop.example.com", "/api", "api")])
    write.create(configmap("site", "shop", index="<h1>hi</h1>"))
    write.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds", "namespace": "shop"},
            "data": {"password": base64.b64encode(b"s3cr3t-value").decode()},
        }
    )
    write.create(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "shop"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        }
    )
    user = pod("app", "shop", node="worker-2")
    user["spec"]["containers"][0]["envFrom"] = [{"secretRef": {"name": "creds"}}]
    user["spec"]["volumes"] = [
        {"name": "site", "configMap": {"name": "site"}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
    ]
    user["spec"]["containers"][0]["volumeMounts"] = [
        {"name": "site", "mountPath": "/site"},
        {"name": "data", "mountPath": "/data"},
    ]
    write.create(user)
    target = Pod.objects.get(namespace="shop", name="web-5d8f7c-aaaaa")
    store_events.record(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": target.name, "namespace": "shop", "uid": str(target.uid)},
        },
        "BackOff",
        "Back-off restarting failed container main",
        type="Warning",
        component="kubelet",
    )
    store_events.record(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "uid": web["metadata"]["uid"]},
        },
        "ScalingReplicaSet",
        "Scaled up replica set web-7b9c4d from 2 to 3",
        component="deployment-controller",
    )


# --- every page, full and partial -------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_each_page_has_the_layout_and_its_live_region(client, cluster, page):
    """Every page is a full document with the navigation (itself marked current), the namespace
    selector, the clock and a live region whose websocket is ``/ws/<page>``."""
    response = client.get(reverse(page) + "?namespace=shop")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith("<!doctype html>")
    for expected in ("namespace-select", "clock", "live", "region"):
        assert expected in ids(html)
    assert f'ws-connect="/ws/{page}?namespace=shop&amp;since=' in html
    assert re.search(rf'href="/{page}\?namespace=shop" aria-current="page"', html)
    assert '<option value="shop" selected>' in html


@pytest.mark.parametrize("page", PAGES)
def test_an_htmx_request_gets_only_the_live_fragment(client, cluster, page):
    """An htmx link inside the page gets ``#live`` only, from the same template."""
    html = htmx_get(client, reverse(page) + "?namespace=shop").content.decode().strip()
    assert html.startswith('<main id="live"')
    assert "<html" not in html and 'id="clock"' not in html


@pytest.mark.usefixtures("access_enforced")
@pytest.mark.parametrize("page", PAGES)
def test_a_page_needs_a_role_where_it_looks(cluster, page):
    """A viewer bound in shop reads shop's pages; another namespace, or all of them, is refused
    with a message; someone not signed in is sent to sign in."""
    user = get_user_model().objects.create_user(f"viewer-{page}", password="pw")
    RoleBinding.objects.create(user=user, role=Role.VIEWER, namespace="shop")
    client = Client()
    client.force_login(user)
    assert client.get(reverse(page) + "?namespace=shop").status_code == 200
    for query in ("?namespace=data", ""):
        refused = client.get(reverse(page) + query)
        assert refused.status_code == 403
        assert "Your roles do not allow listing" in refused.content.decode()
    assert Client().get(reverse(page)).status_code == 302


# --- Workloads --------------------------------------------------------------------------------


def test_workloads_shows_counts_and_the_rollout_side_by_side(client, cluster):
    """A Deployment mid-rollout lists its old and its new ReplicaSet (revision, image, ready
    counts, pods by state); the sections carry desired/current/ready/updated counts."""
    html = client.get("/workloads?namespace=shop").content.decode()
    for section in ("deployments", "replicasets", "statefulsets", "daemonsets", "hpas"):
        assert section in ids(html)
    rollout = html[html.index('class="rollout rolling"') :]
    rollout = rollout[: rollout.index("</tr>")]
    assert "Rolling out" in rollout
    assert rollout.index("web-5d8f7c") < rollout.index("web-7b9c4d")  # old, then new
    assert "revision 1" in rollout and "revision 2" in rollout
    assert "nginx:1.26" in rollout and "nginx:1.27" in rollout
    assert "2 Ready" in rollout and "1 Starting" in rollout
    assert 'href="/objects/deployments/shop/web"' in html
    assert 'href="/objects/replicasets/shop/web-7b9c4d"' in html


def test_workloads_shows_statefulset_ordinals(client, cluster):
    """A StatefulSet of three shows ordinals 0, 1, 2: ready, starting, and no pod yet."""
    html = client.get("/workloads?namespace=shop&kind=statefulsets").content.decode()
    ordinals = re.findall(r'<li class="ordinal ([^"]+)" title="(db-\d): ([^"]+)"', html)
    assert ordinals == [
        ("s-ready", "db-0", "Ready"),
        ("s-creating", "db-1", "Starting"),
        ("absent", "db-2", "no pod yet"),
    ]
    assert 'id="deployments"' not in html  # one kind alone


def test_workloads_shows_the_autoscaler(client, cluster):
    """An autoscaler shows its metric against its target, its bounds and replicas."""
    html = client.get("/workloads?namespace=shop&kind=hpas").content.decode()
    row = html[html.index('href="/objects/horizontalpodautoscalers/shop/web"') :]
    row = row[: row.index("</tr>")]
    assert "95% / 60%" in row
    assert re.search(r">2</td>\s*<td[^>]*>10</td>", row)
    assert "Deployment/web" in row and "Scaling" in row


def test_an_owner_opens_to_show_its_pods(client, cluster):
    """``?open=`` lists one owner's pods as tiles with kubectl's STATUS; others stay counts."""
    html = htmx_get(
        client, "/workloads?namespace=shop&open=ReplicaSet/shop/web-7b9c4d"
    ).content.decode()
    opened = html[html.index('id="opened"') :]
    opened = opened[: opened.index("</section>")]
    assert opened.count('<li class="pod ') == 2
    assert "Running" in opened and "web-5d8f7c-aaaaa" not in opened
    assert 'hx-get="?namespace=shop"' in opened  # close


def test_workloads_live_update_renders_the_touched_sections(cluster):
    """A pod change re-renders the sections that count pods, each once; an HPA change only the
    autoscalers; nothing else on the page is sent."""
    focus = workloads.Focus(namespace="shop")
    batch = [notice(name="web-7b9c4d-bbbbb", type="MODIFIED", node="worker-1")]
    html = workloads.render_update(focus, [messages_for(batch)[GROUP_ALL]])
    assert top_ids(html) == ["deployments", "replicasets", "statefulsets", "daemonsets"]
    hpa = [notice("HorizontalPodAutoscaler", "web", type="MODIFIED")]
    assert top_ids(workloads.render_update(focus, [messages_for(hpa)[GROUP_ALL]])) == ["hpas"]
    event = [notice("Event", "web.1", type="ADDED")]
    assert workloads.render_update(focus, [messages_for(event)[GROUP_ALL]]) == ""


# --- Networking -------------------------------------------------------------------------------


def test_services_show_type_ips_ports_and_endpoints(client, cluster):
    """Each Service shows its type, cluster IP, external IP, ports and endpoints by readiness."""
    html = client.get("/networking?namespace=shop").content.decode()
    services = html[html.index('id="services"') :]
    web = services[services.index('href="/objects/services/shop/web"') :]
    web = web[: web.index("</tr>")]
    ip = Service.objects.get(namespace="shop", name="web").cluster_ip
    assert "ClusterIP" in web and ip in web and "80/TCP" in web and "&lt;none&gt;" in web
    assert "2 ready" in web and "1 not ready" in web
    api = services[services.index('href="/objects/services/shop/api"') :]
    assert "0 ready" in api[: api.index("</tr>")]


def test_the_routing_diagram_goes_from_host_and_path_to_pods_on_nodes(client, cluster):
    """The diagram shows each rule → its Service → the Service's pods and their nodes."""
    html = client.get("/networking?namespace=shop").content.decode()
    routing = html[html.index('id="routing"') : html.index('id="traffic"')]
    rows = routing.split('class="route-row')[1:]
    assert len(rows) == 2
    web_row = next(r for r in rows if "shop.example.com/<" in r or "shop.example.com/</" in r)
    assert "web-7b9c4d-bbbbb" in web_row and "@ worker-1" in web_row
    assert "not ready" in web_row  # the old pod is listed, as not ready
    api_row = next(r for r in rows if "/api" in r)
    assert "no endpoints: requests get 503" in api_row


def test_sending_a_request_shows_its_route_hop_by_hop(client, cluster):
    """A request for a host and path goes Ingress rule → Service → endpoint → pod; the answer
    lists each hop with its reason and marks the route on the diagram (out of band)."""
    response = client.post(
        reverse("send-request") + "?namespace=shop",
        {"host": "shop.example.com", "path": "/"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="send-result",
    )
    html = response.content.decode()
    assert top_ids(html) == ["send-result", "routing"]
    assert 'hx-swap-oob="true"' in html
    assert "rule shop.example.com / (Prefix) matched" in html
    assert "has 2 ready endpoints; 1 not-ready endpoint skipped" in html
    assert "picked by round-robin" in html
    assert re.search(r'class="badge s-ready">.*200 · shop/web-7b9c4d-bbbbb', html, re.S)
    assert html.count('style="--step:') >= 5 + 3  # five hops, three marks on the diagram
    marked = re.findall(r'class="endpoint s-ready on-route"[^>]*title="([^"]+)"', html)
    assert marked == ["10.244.1.10 · worker-1"]
    # kube-proxy's round-robin moves on: the next request reaches the other pod.
    again = client.post(
        reverse("send-request"), {"host": "shop.example.com", "path": "/"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "200 · shop/web-7b9c4d-ccccc" in again


@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        pytest.param(
            {"host": "shop.example.com", "path": "/api/items"},
            "503",
            'no endpoints available for service "api"',
            id="no ready endpoint: 503",
        ),
        pytest.param(
            {"host": "other.example.com", "path": "/"},
            "404",
            "no Ingress rule matches host other.example.com path /",
            id="no rule: 404",
        ),
    ],
)
def test_a_failed_request_shows_where_and_why(client, cluster, data, status, reason):
    """A request that cannot be served names the hop where it failed, the status and why."""
    html = client.post(reverse("send-request"), data, HTTP_HX_REQUEST="true").content.decode()
    assert top_ids(html) == ["send-result", "routing"]
    marked = re.findall(
        r'class="route-row on-route">\s*<span class="hop rule on-route"[^>]*><span class="mono">([^<]+)',
        html,
    )
    assert marked == (["shop.example.com/api"] if status == "503" else [])
    assert re.search(rf'class="badge s-failing"><span aria-hidden="true">✕</span> {status}', html)
    failed = html[html.index('class="trip-hop failed"') :]
    assert escape(reason) in failed and f"Failed here ({status})" in failed


def test_a_request_to_a_service_and_without_javascript(client, cluster):
    """Without htmx the form answers with the whole page, the route in it; a Service can be the
    target instead of a host; a bad value is refused next to its field."""
    html = client.post(reverse("send-request"), {"service": "shop/web"}).content.decode()
    assert "<html" in html and "Route of Service shop/web" in html
    assert "picked by round-robin" in html
    bad = client.post(reverse("send-request"), {"path": "no-slash"}, HTTP_HX_REQUEST="true")
    assert "A path starts with /." in bad.content.decode()


def test_the_traffic_switch_spreads_load_over_the_ready_endpoints(client, cluster):
    """Starting traffic creates a flow; its requests are spread evenly over the two ready
    endpoints as simulated time passes; stopping it removes the flow."""
    clock.pause()
    response = client.post(
        reverse("traffic"),
        {
            "action": "start",
            "host": "shop.example.com",
            "path": "/",
            "rps": "10",
            "namespace": "shop",
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert top_ids(html) == ["traffic"]
    flow = TrafficFlow.objects.get()
    assert (flow.host, flow.path, flow.rps) == ("shop.example.com", "/", 10.0)
    assert "10 requests/s to http://shop.example.com/" in html and "→ shop/web" in html
    for _ in range(4):
        clock.step()
    flows, running = networking.tally(clock.now())
    assert running
    counts = {share.pod: share.requests for share in flows[0].shares}
    # 10 req/s over 2 endpoints for the stepped seconds: 5 per endpoint per second each.
    seconds = 4 * 1.0
    assert counts == {"web-7b9c4d-bbbbb": int(5 * seconds), "web-7b9c4d-ccccc": int(5 * seconds)}
    html, state = networking.render_tick(networking.Focus("shop"), None)
    assert "20 requests" in html
    # The clock is paused: nothing moved, nothing is sent until it does.
    assert networking.render_tick(networking.Focus("shop"), state) == ("", state)
    clock.step()
    moved, _state = networking.render_tick(networking.Focus("shop"), state)
    assert "25 requests" in moved
    client.post(
        reverse("traffic"), {"action": "stop", "flow": str(flow.id)}, HTTP_HX_REQUEST="true"
    )
    assert not TrafficFlow.objects.exists()
    clock.resume()


@pytest.mark.usefixtures("access_enforced")
def test_a_viewer_may_send_a_request_but_not_start_traffic(cluster):
    """Sending one request is a read; a steady flow of traffic needs an editor's role."""
    user = get_user_model().objects.create_user("viewer", password="pw")
    RoleBinding.objects.create(user=user, role=Role.VIEWER, namespace="shop")
    client = Client()
    client.force_login(user)
    sent = client.post(reverse("send-request"), {"service": "shop/web"}, HTTP_HX_REQUEST="true")
    assert "picked by round-robin" in sent.content.decode()
    refused = client.post(
        reverse("traffic"),
        {"action": "start", "service": "shop/web", "rps": "5"},
        HTTP_HX_REQUEST="true",
    )
    assert "an editor role is needed" in refused.content.decode()
    assert not TrafficFlow.objects.exists()


def test_the_traffic_switch_refuses_a_bad_rate(client, cluster):
    html = client.post(
        reverse("traffic"),
        {"action": "start", "service": "shop/web", "rps": "-3"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Requests per second: a number above 0" in html
    assert not TrafficFlow.objects.exists()


def test_networking_live_update(cluster):
    """An Endpoints change re-renders the Services and the diagram; a ConfigMap change nothing."""
    focus = networking.Focus(namespace="shop")
    batch = [notice("Endpoints", "web", type="MODIFIED")]
    assert top_ids(networking.render_update(focus, [messages_for(batch)[GROUP_ALL]])) == [
        "services",
        "routing",
    ]
    other = [notice("ConfigMap", "site", type="MODIFIED")]
    assert networking.render_update(focus, [messages_for(other)[GROUP_ALL]]) == ""


# --- Config & storage -------------------------------------------------------------------------


def test_config_shows_who_uses_what_with_secret_values_masked(client, cluster):
    """ConfigMaps, Secrets and claims list the pods that use them and how; a Secret's keys are
    shown, never its values."""
    html = client.get("/config?namespace=shop").content.decode()
    for section in ("configmaps", "secrets", "claims", "volumes", "classes"):
        assert section in ids(html)
    configmaps = html[html.index('id="configmaps"') : html.index('id="secrets"')]
    assert "site" in configmaps and 'href="/objects/pods/shop/app"' in configmaps
    assert "volume" in configmaps
    secrets = html[html.index('id="secrets"') : html.index('id="claims"')]
    assert "password" in secrets and "envFrom" in secrets and "••••••" in secrets
    assert "s3cr3t-value" not in html
    claims = html[html.index('id="claims"') : html.index('id="volumes"')]
    assert "Pending" in claims and 'href="/objects/pods/shop/app"' in claims


@pytest.mark.usefixtures("access_enforced")
def test_revealing_without_javascript_answers_with_the_whole_page(cluster):
    """Without htmx, revealing answers with the page (403 and the refusal for a viewer)."""
    viewer = get_user_model().objects.create_user("viewer-nojs", password="pw")
    RoleBinding.objects.create(user=viewer, role=Role.VIEWER, namespace="shop")
    client = Client()
    client.force_login(viewer)
    response = client.post(reverse("secret", args=["shop", "creds"]), {"reveal": "1"})
    html = response.content.decode()
    assert response.status_code == 403 and "<html" in html
    assert "may not read the values" in html and "s3cr3t-value" not in html


@pytest.mark.usefixtures("access_enforced")
@pytest.mark.parametrize(
    ("role", "revealed"),
    [
        pytest.param(Role.EDITOR, True, id="an editor sees the values"),
        pytest.param(Role.VIEWER, False, id="a viewer is refused"),
    ],
)
def test_revealing_a_secret_needs_a_role_that_may_read_it(cluster, role, revealed):
    """Revealing is a POST per Secret; the values come only to a role allowed to read them."""
    user = get_user_model().objects.create_user(f"u-{uuid.uuid4().hex[:6]}", password="pw")
    RoleBinding.objects.create(user=user, role=role, namespace="shop")
    client = Client()
    client.force_login(user)
    url = reverse("secret", args=["shop", "creds"])
    html = client.post(url, {"reveal": "1"}, HTTP_HX_REQUEST="true").content.decode()
    assert top_ids(html) == ["secret-shop-creds"]
    assert ("s3cr3t-value" in html) is revealed
    assert ("may not read the values" in html) is not revealed
    masked = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "s3cr3t-value" not in masked and "••••••" in masked


def test_revealing_needs_the_csrf_token(cluster):
    response = Client(enforce_csrf_checks=True).post(reverse("secret", args=["shop", "creds"]))
    assert response.status_code == 403


def test_config_live_update_never_carries_values(cluster):
    """A Secret change re-renders the Secrets, still masked."""
    batch = [notice("Secret", "creds", type="MODIFIED")]
    html = config.render_update(config.Focus("shop"), [messages_for(batch)[GROUP_ALL]])
    assert top_ids(html) == ["secrets"]
    assert "s3cr3t-value" not in html


# --- Events -----------------------------------------------------------------------------------


def test_events_newest_first_with_filters(client, cluster):
    """Events list type, reason, object, message and source, newest first; the GET filters
    narrow them and are kept in the pager's and the stream's URLs."""
    html = client.get("/events?namespace=shop").content.decode()
    rows = re.findall(r'<tr class="event-(\w+)">', html)
    assert rows == ["normal", "warning"]  # the scaling event was recorded last
    assert "Back-off restarting failed container main" in html and "kubelet" in html
    assert 'href="/objects/pods/shop/web-5d8f7c-aaaaa"' in html
    assert "⚠" in html
    warnings = client.get("/events?namespace=shop&type=Warning").content.decode()
    assert re.findall(r'<tr class="event-(\w+)">', warnings) == ["warning"]
    assert "type=Warning" in re.search(r'ws-connect="([^"]+)"', warnings).group(1)
    by_kind = client.get("/events?kind=Deployment&reason=ScalingReplicaSet").content.decode()
    assert re.findall(r'<tr class="event-(\w+)">', by_kind) == ["normal"]
    assert client.get("/events?type=<script>").status_code == 200


def test_an_event_about_a_kind_kubarium_does_not_store_is_listed_without_a_link(client, cluster):
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "name": "worker-1",
        "namespace": "kube-node-lease",
        "uid": str(uuid.uuid4()),
    }
    store_events.record_reference(lease, "RenewFailed", "lease not renewed", component="kubelet")
    response = client.get("/events?namespace=kube-node-lease")
    assert response.status_code == 200
    html = response.content.decode()
    assert "lease not renewed" in html and "/objects/leases/" not in html


def test_events_are_paginated(client, cluster):
    now = timezone.now()
    Event.objects.bulk_create(
        Event(
            name=f"e-{i}",
            namespace="data",
            involved_kind="Pod",
            involved_name=f"p-{i}",
            reason="Pulled",
            creation_timestamp=now,
            last_timestamp=now - dt.timedelta(seconds=i),
            body={"message": f"pulled {i}"},
        )
        for i in range(events.PER_PAGE + 5)
    )
    html = client.get("/events?namespace=data").content.decode()
    assert html.count('<tr class="event-') == events.PER_PAGE
    assert "pulled 0<" in html and f"pulled {events.PER_PAGE + 1}<" not in html
    assert 'href="?namespace=data&amp;page=2"' in html
    second = client.get("/events?namespace=data&page=2").content.decode()
    assert second.count('<tr class="event-') == 5


def test_event_ages_are_refreshed_every_few_seconds(cluster):
    """The tick re-renders the list every AGE_TICKS seconds, and sends it only when it
    changed: the ages move with the simulated clock."""
    clock.pause()
    focus, state = events.Focus("shop"), None
    sent = []
    for _ in range(events.AGE_TICKS * 2):
        html, state = events.render_tick(focus, state)
        sent.append(html)
    assert [bool(h) for h in sent] == [False] * (events.AGE_TICKS - 1) + [True] + [
        False
    ] * events.AGE_TICKS
    assert top_ids(sent[events.AGE_TICKS - 1]) == ["events"]
    for _ in range(60):
        clock.step()
    for _ in range(events.AGE_TICKS):
        html, state = events.render_tick(focus, state)
    assert top_ids(html) == ["events"]

    def ages(text: str) -> list[int]:
        return [int(a) for a in re.findall(r'title="first seen [^"]*">(\d+)s</td>', text)]

    before, after = ages(sent[events.AGE_TICKS - 1]), ages(html)
    assert len(before) == len(after) == 2
    assert [b + 60 for b in before] == after
    clock.resume()


def test_events_live_update(cluster):
    batch = [notice("Event", "web.1", type="ADDED")]
    html = events.render_update(events.Focus("shop"), [messages_for(batch)[GROUP_ALL]])
    assert top_ids(html) == ["events"]
    pod_change = [notice(name="web-1", type="MODIFIED")]
    assert events.render_update(events.Focus("shop"), [messages_for(pod_change)[GROUP_ALL]]) == ""


# --- scale ------------------------------------------------------------------------------------


BIG_VIEWS = [
    "/workloads",
    "/workloads?kind=replicasets&page=7",
    "/workloads?namespace=ns-1&open=ReplicaSet/ns-1/app-0001-abc12",
    "/networking",
    "/networking?namespace=ns-2&page=3",
    "/config",
    "/config?namespace=ns-3&cm_page=3",
    "/events",
    "/events?type=Warning&page=20",
]


@pytest.mark.parametrize("page", PAGES)
def test_queries_do_not_grow_with_the_rows_shown(client, cluster, page):
    """No query per row: a page shows five more Deployments (with ReplicaSets and pods),
    Services, ConfigMaps and events with the same number of queries."""

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(page) + "?namespace=shop").status_code == 200
        return statements(captured)

    before = queries()
    for i in range(5):
        extra = write.create(deployment(f"more-{i}", "shop", replicas=1))
        rs = replicaset(
            f"more-{i}-abc12", "shop", extra, replicas=1, image="nginx:1.27", revision=1
        )
        write.create(owned(pod(f"more-{i}-abc12-x", "shop", node="worker-1"), rs))
        write.create(service(f"more-{i}", "shop"))
        write.create(configmap(f"more-{i}", "shop", key="value"))
        store_events.record(
            extra, "ScalingReplicaSet", f"Scaled up {i}", component="deployment-controller"
        )
    assert queries() == before


def test_a_big_cluster_stays_under_300_kb_and_renders_fast(client, big_cluster):
    """1,000 nodes, 10,000 pods in 500 ReplicaSets of 250 Deployments, 250 Services with their
    endpoints, 20 Ingresses and 10,000 events: every page stays under 300 KB and renders fast."""
    sizes, counts = {}, {}
    for url in BIG_VIEWS:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        counts[url] = statements(captured)
        assert response.status_code == 200, url
        sizes[url] = len(response.content)
    assert max(sizes.values()) < MAX_PAGE_BYTES, sizes
    assert max(counts.values()) <= MAX_PAGE_STATEMENTS, counts
    html = client.get("/workloads").content.decode()
    assert html.count('href="/objects/deployments/') == workloads.PER_PAGE
    assert "All 250, page by page" in html
    opened = client.get(BIG_VIEWS[2]).content.decode()
    assert opened.count('<li class="pod ') == 20
    configmaps = client.get("/config").content.decode()
    # Each ConfigMap is used by its Deployment's 40 pods: 8 are named, the rest counted.
    assert configmaps.count("and 32 more pods") == config.PER_PAGE


@pytest.fixture
def big_cluster():
    """Written straight to the tables the pages read (the write path would only be slow)."""
    ensure_system_objects()
    now = timezone.now()
    Node.objects.bulk_create(
        Node(name=f"node-{i:04d}", creation_timestamp=now, ready="True", cpu_allocatable=8000)
        for i in range(1000)
    )
    deployments, replicasets, pods, services, endpoint_rows, events_rows = [], [], [], [], [], []
    for d in range(250):
        ns = f"ns-{d % 4}"
        deploy = Deployment(
            name=f"app-{d:04d}",
            namespace=ns,
            replicas=40,
            creation_timestamp=now,
            image="nginx:1.27",
            ready_replicas=40,
            updated_replicas=40,
            status={"replicas": 40},
        )
        deployments.append(deploy)
        for r, suffix in enumerate(("abc12", "def34")):
            rs = ReplicaSet(
                name=f"app-{d:04d}-{suffix}",
                namespace=ns,
                replicas=20,
                creation_timestamp=now,
                image="nginx:1.27",
                ready_replicas=20,
                controller_uid=deploy.uid,
                annotations={"deployment.kubernetes.io/revision": str(r + 1)},
                status={"replicas": 20},
            )
            replicasets.append(rs)
            for p in range(20):
                i = len(pods)
                pods.append(
                    Pod(
                        name=f"{rs.name}-{p:05d}",
                        namespace=ns,
                        node_name=f"node-{i % 1000:04d}",
                        phase="Running",
                        ready=True,
                        creation_timestamp=now,
                        controller_uid=rs.uid,
                        pod_ip=f"10.{i // 65536}.{i // 256 % 256}.{i % 256}",
                        spec={
                            "containers": [
                                {
                                    "name": "main",
                                    "image": "nginx:1.27",
                                    "envFrom": [{"configMapRef": {"name": f"app-{d:04d}"}}],
                                }
                            ]
                        },
                        status={
                            "phase": "Running",
                            "containerStatuses": [
                                {
                                    "name": "main",
                                    "ready": True,
                                    "restartCount": 0,
                                    "state": {"running": {}},
                                }
                            ],
                        },
                    )
                )
        services.append(
            Service(
                name=f"app-{d:04d}",
                namespace=ns,
                creation_timestamp=now,
                cluster_ip=f"10.96.{d // 256}.{d % 256 + 1}",
                spec={
                    "type": "ClusterIP",
                    "clusterIP": f"10.96.{d // 256}.{d % 256 + 1}",
                    "ports": [{"port": 80, "protocol": "TCP"}],
                },
            )
        )
        addresses = [
            {
                "ip": pod.pod_ip,
                "nodeName": pod.node_name,
                "targetRef": {"kind": "Pod", "namespace": ns, "name": pod.name},
            }
            for pod in pods[-40:]
        ]
        endpoint_rows.append(
            Endpoints(
                name=f"app-{d:04d}",
                namespace=ns,
                creation_timestamp=now,
                body={"subsets": [{"addresses": addresses, "ports": [{"port": 8080}]}]},
            )
        )
    for i in range(10_000):
        events_rows.append(
            Event(
                name=f"ev-{i:05d}",
                namespace=f"ns-{i % 4}",
                involved_kind="Pod",
                involved_name=pods[i].name,
                involved_namespace=pods[i].namespace,
                reason="BackOff" if i % 10 == 0 else "Pulled",
                type="Warning" if i % 10 == 0 else "Normal",
                source_component="kubelet",
                creation_timestamp=now,
                last_timestamp=now - dt.timedelta(seconds=i),
                body={"message": f"event number {i}"},
            )
        )
    Deployment.objects.bulk_create(deployments)
    ConfigMap.objects.bulk_create(
        ConfigMap(
            name=f"app-{d:04d}",
            namespace=f"ns-{d % 4}",
            creation_timestamp=now,
            body={"data": {"LOG_LEVEL": "info"}},
        )
        for d in range(250)
    )
    ReplicaSet.objects.bulk_create(replicasets)
    Pod.objects.bulk_create(pods, batch_size=2000)
    Service.objects.bulk_create(services)
    Endpoints.objects.bulk_create(endpoint_rows)
    Event.objects.bulk_create(events_rows, batch_size=2000)
    from cluster.models import Ingress

    Ingress.objects.bulk_create(
        Ingress(
            name=f"ing-{k:02d}",
            namespace=f"ns-{k % 4}",
            creation_timestamp=now,
            spec={
                "rules": [
                    {
                        "host": f"app{k}.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": f"/p{j}",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {
                                            "name": f"app-{(k * 10 + j) % 250:04d}",
                                            "port": {"number": 80},
                                        }
                                    },
                                }
                                for j in range(3)
                            ]
                        },
                    }
                ]
            },
        )
        for k in range(20)
    )
