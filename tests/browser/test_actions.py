"""The Object detail pages and the dashboard's actions in a real browser (Debian's Chromium
through Playwright) against a real Daphne, Redis and control plane, signed in as a superuser
through /admin/login/: apply a manifest through the form, scale, stop a node's kubelet, and
watch the cluster answer on the page without a reload."""

from __future__ import annotations

import pytest

from cluster import clock, manifests, services
from cluster.models import Pod, SchedulingDecision
from cluster.store import write
from tests.browser.helpers import EXAMPLES, in_thread, screenshot, sign_in_superuser
from tests.builders import deployment, pod

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clock_at_test_speed"),
]

READY_TIMEOUT = 90.0

MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels: {app: hello}
  template:
    metadata:
      labels: {app: hello}
    spec:
      containers:
      - name: main
        image: nginx:1.27
        resources:
          requests: {cpu: 100m, memory: 64Mi}
"""


def _cluster() -> None:
    for name in ("00-nodes.yaml", "01-namespaces.yaml"):
        in_thread(manifests.apply, manifests.load_paths([EXAMPLES / name]))


def _ready_pods(namespace: str, app: str) -> int:
    return Pod.objects.filter(
        namespace=namespace, labels__app=app, ready=True, deletion_timestamp__isnull=True
    ).count()


READY_BADGES = "#detail-related .related-links .badge.s-ready"


def test_apply_a_manifest_through_the_form_and_watch_its_pods_run(stack, browser_page):
    """The Apply page creates a Deployment (htmx, no reload) while the clock is paused; on the
    Deployment's page, once the clock plays, its ReplicaSet and pods appear and turn Running
    and Ready, live."""
    _cluster()
    page = browser_page
    sign_in_superuser(page, stack.url, "/apply")
    page.wait_for_selector("body[data-stream='live']")  # the clock's stream
    in_thread(clock.pause)
    page.fill("#manifest", MANIFEST)
    page.click("#apply-form button[type='submit']")
    page.wait_for_selector("#apply-form .outcomes")
    assert "deployment.apps/hello created" in page.inner_text("#apply-form .outcomes")
    screenshot(page, "apply.png")

    page.click("#apply-form .outcomes a")
    page.wait_for_url(f"{stack.url}/objects/deployments/shop/hello")
    page.wait_for_selector("body[data-stream='live']")
    page.evaluate("window.kubariumNotReloaded = true")
    # Paused: the Deployment is stored, but nothing has started it yet.
    assert "replicas: 3" in page.inner_text("#detail-yaml pre")
    assert page.locator(READY_BADGES).count() == 0
    in_thread(clock.resume)
    page.wait_for_function(
        f"document.querySelectorAll('{READY_BADGES}').length === 3",
        timeout=READY_TIMEOUT * 1000,
    )
    assert page.evaluate("window.kubariumNotReloaded") is True
    assert "Running 1/1" in page.inner_text(f"{READY_BADGES} >> nth=0")
    screenshot(page, "detail-deployment.png")


def test_scale_through_the_ui(stack, browser_page):
    """The scale form (htmx) changes the replicas; the new pods appear on the page and turn
    Ready without a reload, and the change log names the signed-in user."""
    _cluster()
    in_thread(write.create, deployment("web", "shop", replicas=2))
    in_thread(
        lambda: services.wait_for(
            lambda: _ready_pods("shop", "web") == 2, timeout=READY_TIMEOUT, interval=0.3
        )
    )
    page = browser_page
    sign_in_superuser(page, stack.url, "/objects/deployments/shop/web")
    page.wait_for_selector("body[data-stream='live']")
    page.wait_for_function(f"document.querySelectorAll('{READY_BADGES}').length === 2")
    page.evaluate("window.kubariumNotReloaded = true")
    page.fill("#replicas", "-1")
    page.click("#action-scale button[type='submit']")
    page.wait_for_selector("#replicas-error")
    assert page.inner_text("#replicas-error") == (
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    )
    page.fill("#replicas", "4")
    page.click("#action-scale button[type='submit']")
    page.wait_for_selector("#action-scale .done")
    assert "scaled to 4" in page.inner_text("#action-scale .done")
    page.wait_for_function(
        f"document.querySelectorAll('{READY_BADGES}').length === 4",
        timeout=READY_TIMEOUT * 1000,
    )
    assert page.evaluate("window.kubariumNotReloaded") is True
    assert "replicas: 4" in page.inner_text("#detail-yaml pre")
    screenshot(page, "detail-scaled.png")


def _node_with_pods(app: str) -> str:
    return (
        Pod.objects.filter(namespace="shop", labels__app=app)
        .exclude(node_name="")
        .values_list("node_name", flat=True)
        .first()
    )


def test_stop_a_nodes_kubelet_and_watch_its_pods_move(stack, browser_page):
    """Stopping a kubelet (after confirming) leaves its node Unknown; the node lifecycle
    controller evicts its pods (they tolerate unreachable for 10 s) and the Deployment
    replaces them on other nodes, all seen on the node's page without a reload."""
    _cluster()
    web = deployment("mover", "shop", replicas=3)
    web["spec"]["template"]["spec"]["tolerations"] = [
        {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}
        for key in ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")
    ]
    in_thread(write.create, web)
    in_thread(
        lambda: services.wait_for(
            lambda: _ready_pods("shop", "mover") == 3, timeout=READY_TIMEOUT, interval=0.3
        )
    )
    node = in_thread(_node_with_pods, "mover")
    page = browser_page
    sign_in_superuser(page, stack.url, f"/objects/nodes/{node}")
    page.wait_for_selector("body[data-stream='live']")
    page.evaluate("window.kubariumNotReloaded = true")
    moving = page.locator("#detail-related a[href^='/objects/pods/shop/mover-']").count()
    assert moving >= 1

    page.click("#action-kubelet-stop button[type='submit']")
    page.wait_for_selector("#action-kubelet-stop .confirm")
    assert "Stop the kubelet on" in page.inner_text("#action-kubelet-stop .confirm")
    page.click("#action-kubelet-stop .confirm button[type='submit']")
    page.wait_for_selector("#action-kubelet-start")
    page.wait_for_selector(".detail-head .badge.s-failing:has-text('kubelet stopped')")
    page.wait_for_selector(
        ".detail-head .badge.s-unknown:has-text('Unknown')", timeout=READY_TIMEOUT * 1000
    )
    # Evicted: each of the node's pods turns Terminating (its kubelet cannot finish them)...
    page.wait_for_function(
        "[...document.querySelectorAll('#detail-related li')]"
        ".filter(li => li.querySelector('a[href^=\"/objects/pods/shop/mover-\"]'))"
        ".every(li => li.querySelector('.badge.s-terminating'))",
        timeout=READY_TIMEOUT * 1000,
    )
    assert page.evaluate("window.kubariumNotReloaded") is True
    screenshot(page, "detail-node-stopped.png")
    # ...and the Deployment has three ready pods again, elsewhere.
    in_thread(
        lambda: services.wait_for(
            lambda: (
                _ready_pods("shop", "mover") == 3
                and not Pod.objects.filter(
                    namespace="shop",
                    labels__app="mover",
                    node_name=node,
                    deletion_timestamp__isnull=True,
                ).exists()
            ),
            timeout=READY_TIMEOUT,
            interval=0.3,
        )
    )


def test_a_pending_pods_page_explains_why(stack, browser_page):
    """A pod asking for more cpu than any node has: its page says why in plain words and in
    Kubernetes' words, with the filter that rejected each node."""
    _cluster()
    greedy = pod("greedy", "shop", cpu="64")
    in_thread(write.create, greedy)
    in_thread(
        lambda: services.wait_for(
            lambda: SchedulingDecision.objects.filter(name="greedy").exists(),
            timeout=READY_TIMEOUT,
            interval=0.3,
        )
    )
    page = browser_page
    sign_in_superuser(page, stack.url, "/objects/pods/shop/greedy")
    page.wait_for_selector("body[data-stream='live']")
    section = page.inner_text("#detail-scheduling")
    assert "Pending: no node has 64 cpu free" in section
    assert "0/4 nodes are available" in section and "Insufficient cpu" in section
    assert page.locator("#detail-scheduling tbody tr").count() == 4
    screenshot(page, "detail-pod-pending.png")
