"""The Workloads, Networking, Config & storage and Events pages in a real browser (Debian's
Chromium through Playwright) against a real Daphne, Redis and control plane: a request's route,
traffic spreading over the endpoints, and changes made elsewhere appearing without a reload."""

from __future__ import annotations

import pytest

from cluster import clock, manifests, services
from cluster.models import Endpoints
from cluster.store import write
from tests.browser.helpers import EXAMPLES, in_thread, screenshot
from tests.builders import deployment

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clock_at_test_speed"),
]

READY_TIMEOUT = 90.0


def _ready_endpoints(namespace: str, name: str) -> int:
    row = Endpoints.objects.filter(namespace=namespace, name=name).first()
    subsets = ((row.body or {}).get("subsets") or []) if row else []
    return len({a.get("ip") for s in subsets for a in s.get("addresses") or []})


def _shop_with_ready_frontend() -> None:
    """The example shop applied, and its three frontend pods ready behind their Service."""
    for name in ("00-nodes.yaml", "01-namespaces.yaml", "10-shop.yaml"):
        in_thread(manifests.apply, manifests.load_paths([EXAMPLES / name]))
    in_thread(
        lambda: services.wait_for(
            lambda: _ready_endpoints("shop", "frontend") >= 3, timeout=READY_TIMEOUT, interval=0.3
        )
    )


def test_send_a_request_and_see_its_route(stack, browser_page):
    """A request for shop.example.com/ goes through the Ingress rule, the frontend Service and
    one of its endpoints; the page replays the hops with their reasons and marks the route on
    the diagram. A request no rule matches shows where it failed: 404 at the Ingress."""
    _shop_with_ready_frontend()
    page = browser_page
    page.goto(stack.url + "/networking?namespace=shop")
    page.wait_for_selector("body[data-stream='live']")
    page.fill("#send input[name='host']", "shop.example.com")
    page.fill("#send input[name='path']", "/")
    page.click("#send button[type='submit']")
    page.wait_for_selector("#send-result .trip-hop >> nth=4")
    hops = page.locator("#send-result .trip-hop .hop-who").all_inner_texts()
    assert hops == ["client", "ingress", "kube-proxy", "kube-proxy", "pod"]
    trip = page.inner_text("#send-result")
    assert "rule shop.example.com / (Prefix) matched" in trip
    assert "picked by round-robin" in trip and "200" in trip
    served = page.inner_text("#send-result h3 .badge").split("·", 1)[1].strip()
    assert served.startswith("shop/frontend-")
    marked = page.locator("#routing .endpoint.on-route")
    assert marked.count() == 1 and served.split("/", 1)[1] in marked.inner_text()
    page.wait_for_timeout(3500)  # let the hop-by-hop animation finish for the picture
    screenshot(page, "networking-route.png")

    page.fill("#send input[name='host']", "nowhere.example.com")
    page.click("#send button[type='submit']")
    page.wait_for_selector("#send-result .trip-hop.failed")
    failed = page.inner_text("#send-result .trip-hop.failed")
    assert "no Ingress rule matches host nowhere.example.com" in failed and "404" in failed


def test_the_traffic_switch_spreads_load_over_the_endpoints(stack, browser_page):
    """Switching traffic on sends a steady load to the frontend Service; the page shows it
    spreading evenly over the three ready endpoints, the counts growing live; off stops it."""
    _shop_with_ready_frontend()
    page = browser_page
    page.goto(stack.url + "/networking?namespace=shop")
    page.wait_for_selector("body[data-stream='live']")
    assert "Off" in page.inner_text("#traffic .switch-state")
    page.fill("#traffic-form input[name='service']", "shop/frontend")
    page.fill("#traffic-form input[name='rps']", "30")
    page.click("#traffic-form button[value='start']")
    page.wait_for_selector("#traffic .switch-state.on")
    page.wait_for_function(
        """() => {
            const counts = [...document.querySelectorAll('#traffic .spread .requests')]
                .map(e => parseInt(e.textContent));
            return counts.length === 3 && counts.every(n => n >= 20);
        }""",
        timeout=60_000,
    )
    counts = [
        int(t.split()[0]) for t in page.locator("#traffic .spread .requests").all_inner_texts()
    ]
    # An even spread: round-robin gives each endpoint the same share (10/s of 30/s).
    assert max(counts) - min(counts) <= max(counts) // 5 + 2, counts
    assert page.locator("#traffic .spread li").all_inner_texts()[0].count("10/s") == 1
    screenshot(page, "networking-traffic.png")
    page.click("#traffic button[value='stop']")
    page.wait_for_selector("#traffic .switch-state.off")


def test_a_change_made_elsewhere_appears_live_on_the_workloads_page(stack, browser_page):
    """A Deployment created, scaled and given a new image through the write path (as kubectl
    or another tab would) appears on the Workloads page, its pods turning Ready, its rollout
    shown as old and new ReplicaSet side by side, all without a reload."""
    for name in ("00-nodes.yaml", "01-namespaces.yaml"):
        in_thread(manifests.apply, manifests.load_paths([EXAMPLES / name]))
    page = browser_page
    page.goto(stack.url + "/workloads?namespace=shop")
    page.wait_for_selector("body[data-stream='live']")
    page.evaluate("window.kubariumNotReloaded = true")
    assert page.locator("a[href='/objects/deployments/shop/web']").count() == 0

    in_thread(write.create, deployment("web", "shop", replicas=2), actor="admin:teacher")
    row = "#deployments tr:has(a[href='/objects/deployments/shop/web'])"
    page.wait_for_selector(row)
    page.wait_for_function(f"document.querySelector(\"{row} .badge\")?.textContent.includes('2/2')")

    def scale(obj):
        obj["spec"]["replicas"] = 4
        return obj

    in_thread(write.mutate, "Deployment", "shop", "web", scale, actor="admin:teacher")
    page.wait_for_function(
        f"document.querySelector(\"{row} .badge\")?.textContent.includes('4/4')", timeout=60_000
    )
    assert page.evaluate("window.kubariumNotReloaded") is True
    assert "4 Ready" in page.inner_text("#deployments .rollout")
    screenshot(page, "workloads.png")

    # A new image with the clock paused: the controllers start the rollout (a new ReplicaSet
    # beside the old one) but no kubelet moves, so the page holds the rollout in progress.
    def new_image(obj):
        obj["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
        return obj

    in_thread(clock.pause)
    try:
        in_thread(write.mutate, "Deployment", "shop", "web", new_image, actor="admin:teacher")
        page.wait_for_selector("#deployments .rollout.rolling .rs-slot >> nth=1")
        slots = page.locator("#deployments .rollout.rolling .rs-slot").all_inner_texts()
        assert "OLD" in slots[0].upper() and "nginx:1.27" in slots[0]
        assert "NEW" in slots[-1].upper() and "nginx:1.28" in slots[-1]
        screenshot(page, "workloads-rollout.png")
    finally:
        in_thread(clock.resume)
    page.wait_for_selector("#deployments .rollout:not(.rolling)", timeout=90_000)
    assert "nginx:1.28" in page.inner_text("#deployments .rollout")
    assert page.evaluate("window.kubariumNotReloaded") is True


def test_config_reveals_a_secret_on_request_and_events_filter(stack, browser_page):
    """The Config & storage page masks Secret values until asked (tests run with access
    allowed to everyone); the Events page filters by type through its GET form."""
    _shop_with_ready_frontend()
    page = browser_page
    page.goto(stack.url + "/config?namespace=shop")
    page.wait_for_selector("body[data-stream='live']")
    row = page.locator("#secret-shop-frontend-secrets")
    assert "kubarium-demo-session-key-not-secret" not in row.inner_text()
    assert "envFrom" in page.inner_text("#configmaps") or "env" in page.inner_text("#configmaps")
    row.locator("button[name='reveal']").click()
    page.wait_for_selector("#secret-shop-frontend-secrets .secret-values.revealed")
    assert "kubarium-demo-session-key-not-secret" in page.inner_text(
        "#secret-shop-frontend-secrets"
    )
    screenshot(page, "config.png")

    page.goto(stack.url + "/events?namespace=shop")
    page.wait_for_selector("body[data-stream='live']")
    page.wait_for_selector("#events tbody tr")
    page.select_option("select[name='type']", "Normal")
    page.wait_for_url("**type=Normal**")
    types = page.locator("#events tbody tr td:first-child").all_inner_texts()
    assert types and all("Normal" in t for t in types)
    screenshot(page, "events.png")
