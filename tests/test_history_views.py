"""Time travel on the Architecture page: ``?at=R`` shows the cluster at revision R (full page and
htmx ``#live``), marked as the past, with the scrubber, the replay and the timeline."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from cluster import faults
from cluster.store import read, write
from cluster.store.bootstrap import ensure_system_objects
from dashboard.pages import history
from tests.builders import namespace, node, pod
from tests.queries import statements

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_clock")]

LIVE = {"HX-Request": "true", "HX-Target": "live"}


@pytest.fixture
def story() -> dict[str, int]:
    """A small history: revisions named after what had just happened."""
    ensure_system_objects()
    write.create(namespace("shop"))
    write.create(node("worker-1"))
    write.create(pod("early", "shop", node="worker-1"), actor="admin:alice")
    marks = {"early": read.current_revision()}
    write.create(pod("waiting", "shop"), actor="admin:alice")
    write.patch("nodes", "", "worker-1", {"spec": {"unschedulable": True}}, actor="dashboard:bob")
    marks["cordoned"] = read.current_revision()
    write.delete("pods", "shop", "early", grace_period_seconds=0, actor="admin:alice")
    write.create(node("worker-2"))
    write.create(pod("late", "shop", node="worker-2"), actor="replicaset-controller")
    marks["late"] = read.current_revision()
    return marks


def pod_names(html: str) -> set[str]:
    return set(re.findall(r'title="shop/([a-z-]+):', html))


def test_the_page_at_a_past_revision_shows_the_pods_of_then(client, story):
    """At each mark the page shows exactly the pods the change log says existed then."""
    cases = {
        "early": ({"early"}, "worker-2"),
        "cordoned": ({"early", "waiting"}, "worker-2"),
    }
    for mark, (pods, absent_node) in cases.items():
        html = client.get(f"/?at={story[mark]}").content.decode()
        assert pod_names(html) == pods, mark
        assert f'id="node-{absent_node}"' not in html
        assert "The past, read-only" in html
        assert f"Revision {story[mark]} of {read.current_revision()}" in html
    now = client.get("/").content.decode()
    assert pod_names(now) == {"waiting", "late"}
    assert "The past, read-only" not in now


def test_the_past_is_marked_and_has_no_stream(client, story):
    """The past's region says so (class and banner) and the page opens no websocket."""
    html = client.get(f"/?at={story['cordoned']}").content.decode()
    assert 'class="architecture past"' in html
    assert "ws-connect=" not in html
    assert "Cordoned" in html  # the node was cordoned then
    earlier = client.get(f"/?at={story['early']}").content.decode()
    assert "Cordoned" not in earlier.split('id="region"')[1]
    live = client.get("/").content.decode()
    assert "ws-connect=" in live and 'class="architecture"' in live


def test_an_htmx_step_renders_only_the_live_region(client, story):
    """Stepping over htmx gets ``#live`` alone: scrubber, banner and the past's nodes."""
    response = client.get(f"/?at={story['early']}", headers=LIVE)
    html = response.content.decode()
    assert html.lstrip().startswith('<main id="live"')
    assert "<html" not in html
    assert 'id="time-travel"' in html and "The past, read-only" in html
    assert pod_names(html) == {"early"}


def test_the_timeline_names_who_made_each_change(client, story):
    """Every change shown names its actor and its component; the shown one is marked."""
    html = client.get(f"/?at={story['cordoned']}").content.decode()
    timeline = html.split('class="timeline"')[1].split("</ol>")[0]
    assert "by dashboard:bob (kube-apiserver)" in timeline
    assert "by replicaset-controller (kube-controller-manager)" in timeline  # a later change
    current = re.search(r'<li class="change current">(.*?)</li>', timeline, re.S).group(1)
    assert "Node worker-1" in current and "shown" in current
    assert "MODIFIED" in current


def test_scrubber_steps_and_now(client, story):
    """The scrubber spans the log; previous/next step to neighbouring changes; the latest
    revision (or beyond) is the live page."""
    at = story["cordoned"]
    html = client.get(f"/?at={at}").content.decode()
    assert f'max="{read.current_revision()}" value="{at}"' in html
    before, after = (
        re.search(r'href="\?at=(\d+)"[^>]*rel="prev"', html),
        re.search(r'href="\?at=(\d+)"[^>]*rel="next"', html),
    )
    assert int(before.group(1)) == at - 1 and int(after.group(1)) == at + 1
    for beyond in (read.current_revision(), read.current_revision() + 100):
        page = client.get(f"/?at={beyond}").content.decode()
        assert "The past, read-only" not in page and "ws-connect=" in page


def test_replay_asks_for_the_next_step_after_a_delay(client, story):
    """Replaying at 2 changes/s: the step carries one element asking for the next change after
    500 ms, replacing (not pushing) the URL; at 50/s it jumps 13 changes every 250 ms."""
    at = story["early"]
    html = client.get(f"/?at={at}&speed=2").content.decode()
    driver = re.search(r'<span class="replay-next"[^>]*>', html).group(0)
    assert f'hx-get="?at={at + 1}&amp;speed=2"' in driver
    assert 'hx-trigger="load delay:500ms"' in driver
    assert 'hx-replace-url="true"' in driver and 'hx-push-url="false"' in driver
    assert "Replaying: 2 changes a second" in html
    assert history.replay_step(50) == (13, 250)
    assert history.replay_step(1) == (1, 1000)
    still = client.get(f"/?at={at}").content.decode()
    assert "replay-next" not in still and 'name="speed"' in still


def test_replay_ends_at_the_present(client, story):
    """The last step of a replay goes back to the live page."""
    last = read.current_revision() - 1
    html = client.get(f"/?at={last}&speed=50").content.decode()
    driver = re.search(r'<span class="replay-next"[^>]*>', html).group(0)
    assert 'hx-get="?"' in driver


def test_the_past_honours_the_namespace(client, story):
    write.create(pod("other", "default", node="worker-1"))
    html = client.get(f"/?namespace=default&at={read.current_revision() - 1}").content.decode()
    assert pod_names(html) == set()
    assert 'name="namespace" value="default"' in html


def test_a_state_moved_forward_equals_one_read_anew(client, story):
    """Stepping forward from a rendered revision (the kept state, advanced) shows what reading
    that revision from scratch shows, deletions included."""
    for start in range(story["early"] - 2, story["late"]):
        for end in range(start + 1, story["late"] + 1):
            history._last = None
            history.snapshot_at(start)
            moved = history.snapshot_at(end)
            history._last = None
            fresh = history.snapshot_at(end)
            assert moved.objects == fresh.objects and moved.columns == fresh.columns


def test_a_log_started_anew_is_read_anew(story):
    """A kept state is not reused once its revision was written again (a fresh database)."""
    from cluster.models import Change

    first = history.snapshot_at(story["early"])
    assert ("Pod", "shop", "early") in first.objects
    row = Change.objects.get(pk=story["early"])
    row.object = {**row.object, "metadata": {**row.object["metadata"], "name": "other"}}
    row.name = "other"
    row.created_at = row.created_at + dt.timedelta(seconds=1)
    row.save()
    again = history.snapshot_at(story["early"])
    assert ("Pod", "shop", "other") in again.objects
    assert ("Pod", "shop", "early") not in again.objects


def test_components_stopped_then_show_as_stopped_in_the_past(client, story):
    """A component the palette had stopped at a revision shows stopped there, not after."""
    faults.stop(faults.SCHEDULER, actor="dashboard:alice")
    stopped_at = read.current_revision()
    write.create(pod("meanwhile", "shop"))
    faults.start(faults.SCHEDULER, actor="dashboard:alice")
    write.create(pod("after", "shop"))
    then = client.get(f"/?at={stopped_at}").content.decode()
    assert re.search(r'id="cp-kube-scheduler" class="component stopped"', then)
    assert "Stopped" in then
    before = client.get(f"/?at={stopped_at - 1}").content.decode()
    assert 'class="component stopped"' not in before


def _node_object(i: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": f"node-{i:04d}",
            "uid": f"00000000-0000-0000-0000-{i:012d}",
            "labels": {"topology.kubernetes.io/zone": f"zone-{i % 5}"},
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {},
        "status": {
            "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def _pod_object(i: int, running: bool) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"app-{i:05d}-abcde",
            "namespace": f"ns-{i % 4}",
            "uid": f"10000000-0000-0000-0000-{i:012d}",
            "creationTimestamp": "2026-01-01T00:01:00Z",
        },
        "spec": {
            "nodeName": f"node-{i % 1000:04d}" if i % 50 else "",
            "containers": [
                {"name": "main", "image": "nginx:1.27", "resources": {"requests": {"cpu": "100m"}}}
            ],
        },
        "status": {
            "phase": "Running" if running else "Pending",
            "conditions": [{"type": "Ready", "status": "True" if running else "False"}],
            "containerStatuses": [
                {
                    "name": "main",
                    "ready": running,
                    "restartCount": 0,
                    "state": {"running": {}} if running else {"waiting": {}},
                }
            ],
        },
    }


PAST_PAGE_QUERIES = 25  # 16 on SQLite and PostgreSQL today


def test_the_past_of_a_big_cluster_stays_small_and_quick(client):
    """1,000 nodes and 10,000 pods, each pod added then modified (21,000 log rows): the page
    at the revision between the two halves of the modifications is under 300 KB, is read in a
    bounded number of statements, and shows the state of then (the queue counts the pods still
    unbound at that revision)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from cluster.models import Change, Revision

    now = timezone.now()
    rows, revision = [], read.current_revision()

    def log(kind: str, obj: dict, type_: str) -> None:
        nonlocal revision
        revision += 1
        meta = obj["metadata"]
        rows.append(
            Change(
                revision=revision,
                kind=kind,
                namespace=meta.get("namespace", ""),
                name=meta["name"],
                uid=meta["uid"],
                type=type_,
                object=obj,
                actor="test",
                created_at=now,
            )
        )

    for i in range(1000):
        log("Node", _node_object(i), "ADDED")
    for i in range(10_000):
        log("Pod", _pod_object(i, running=False), "ADDED")
    for i in range(10_000):
        log("Pod", _pod_object(i, running=i % 7 != 0), "MODIFIED")
        if i == 4999:
            middle = revision
    Change.objects.bulk_create(rows, batch_size=2000)
    Revision.objects.update_or_create(pk=1, defaults={"value": revision})
    with CaptureQueriesContext(connection) as page_queries:
        response = client.get(f"/?at={middle}")
    html = response.content.decode()
    assert response.status_code == 200
    assert "The past, read-only" in html
    assert len(html.encode()) < 300_000, len(html.encode())
    # The past is read in a few statements, never one per object (its speed is a benchmark's
    # business, not a test's).
    assert statements(page_queries) <= PAST_PAGE_QUERIES, len(page_queries)
    # A replay's next step moves the last state forward: it reads the changes stepped over.
    with CaptureQueriesContext(connection) as step_queries:
        step = client.get(f"/?at={middle + 13}&speed=50")
    assert step.status_code == 200
    assert statements(step_queries) <= PAST_PAGE_QUERIES, len(step_queries)
    opened = client.get(f"/?at={middle}&zone=zone-1&namespace=ns-1").content.decode()
    assert 'id="node-node-0001"' in opened and "Nodes 1–40 of 200" in opened
