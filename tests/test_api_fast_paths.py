"""The REST API's fast paths give what the slow ones gave.

Lists read rows as tuples and decode their JSON with orjson (``cluster.store.read``) instead of
model instances: every item equals the single-object read (a model instance and ``to_dict``).
Responses are written by orjson (``cluster.api.http.json_bytes``), with ``json.dumps`` for what
orjson refuses. Copies of JSON data use ``copy_json`` rather than ``copy.deepcopy``.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator

import pytest

from cluster import clock
from cluster.api.http import json_bytes
from cluster.models import Pod
from cluster.store import read, write
from cluster.store.jsondata import copy_json
from tests.builders import configmap, deployment, namespace, node, pod

pytestmark = pytest.mark.django_db


def _slow_list(kind: str, names: list[tuple[str, str]]) -> list[dict]:
    return [read.get(kind, ns, name) for ns, name in names]


def _keys(items: list[dict]) -> list[tuple[str, str]]:
    return [(o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in items]


@pytest.fixture
def local_time_not_utc(monkeypatch) -> Iterator[None]:
    """This process's local time zone is not UTC (stored times must not be read as local)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("local_time_not_utc")
def test_list_items_equal_single_reads():
    """Pods with every kind of metadata (owner references, finalizers, annotations, unknown
    metadata, a deletion timestamp), ConfigMaps (content outside spec), Deployments and
    cluster-scoped Nodes: the list's items are the objects ``read.get`` gives, key order too."""
    clock.pause()
    clock.step(37.25)  # timestamps with seconds (the simulated clock starts on a round minute)
    write.create(namespace("shop"))
    write.create(node("worker-1"))
    owner = write.create(deployment("web", replicas=2))
    rich = pod("web-1", labels={"app": "web"}, node="worker-1")
    rich["metadata"].update(
        annotations={"note": "ünïcode ✓", "empty": ""},
        finalizers=["example.com/keep"],
        ownerReferences=[
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": "web",
                "uid": owner["metadata"]["uid"],
                "controller": True,
            }
        ],
        generateName="web-",
    )
    write.create(rich)
    write.create(pod("db-1", "shop"))
    clock.step(12.5)
    write.delete("Pod", "default", "web-1")  # the finalizer keeps it, with deletionTimestamp
    write.create(configmap("settings", mode="fast", level="3"))

    for kind in ("Pod", "Deployment", "ConfigMap", "Node", "Namespace"):
        listed = read.list_objects(kind).items
        assert listed, kind
        expected = _slow_list(kind, _keys(listed))
        assert listed == expected, kind
        assert [json.dumps(o) for o in listed] == [json.dumps(o) for o in expected], kind
    terminating = read.get("Pod", "default", "web-1")["metadata"]
    created = clock.now_datetime() - dt.timedelta(seconds=12.5)
    assert terminating["creationTimestamp"] == created.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert terminating["creationTimestamp"][-3:] != "00Z"
    deleted = clock.now_datetime() + dt.timedelta(seconds=30)  # the default grace period
    assert terminating["deletionTimestamp"] == deleted.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_pages_with_a_selector_checked_in_python_are_complete():
    """``app!=db`` is checked in Python on the rows SQL returned: pages of 2 still add up to
    the whole list, and only the last has no continue token."""
    for i in range(7):
        write.create(pod(f"p-{i}", labels={"app": "db" if i % 3 == 0 else "web"}))
    whole = read.list_objects("Pod", "default", label_selector="app!=db").items
    pages, token = [], None
    while True:
        page = read.list_objects(
            "Pod", "default", label_selector="app!=db", limit=2, continue_token=token
        )
        pages.append(page.items)
        token = page.continue_token
        if not token:
            break
    assert [o for page in pages for o in page] == whole
    assert [len(page) for page in pages] == [2, 2]
    assert _keys(whole) == [("default", f"p-{i}") for i in (1, 2, 4, 5)]


@pytest.mark.parametrize(
    "numbers",
    [
        pytest.param({"huge": 2**70 + 1, "small": -(2**63) - 1}, id="beyond 64 bits"),
        pytest.param({"max": 2**64 - 1, "min": -(2**63)}, id="64-bit limits"),
        pytest.param(
            {"float": 1.5, "tiny": 1e-300, "digits": "1234567890123456789012"}, id="other"
        ),
    ],
)
def test_json_columns_are_read_as_django_reads_them(numbers):
    """Numbers orjson would read as floats (integers beyond 64 bits) come back exact, as the
    single-object read (Django's ``json``) gives them."""
    write.create(pod("big"))
    Pod.objects.filter(name="big").update(spec={"containers": [], **numbers})
    [listed] = read.list_objects("Pod", "default").items
    for key, value in numbers.items():
        assert type(listed["spec"][key]) is type(value), key
        assert listed["spec"][key] == value, key
    assert listed == read.get("Pod", "default", "big")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"kind": "Pod", "text": 'é ✓ \u2028 \x1f "q" \\ </script>'}, id="strings"),
        pytest.param({"n": [0, -1, 2**63 - 1, 1.5, 0.1, True, None]}, id="numbers"),
        pytest.param({"when": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)}, id="datetime"),
        pytest.param({"uid": uuid.UUID("12345678-1234-5678-1234-567812345678")}, id="uuid"),
        pytest.param({"big": 2**70}, id="beyond 64 bits: json.dumps writes it"),
        pytest.param({1: "non-string key"}, id="int key: json.dumps writes it"),
    ],
)
def test_json_bytes_writes_what_json_dumps_wrote(value):
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    assert json_bytes(value) == expected.encode()


def test_copy_json_is_a_deep_copy():
    original = {"spec": {"containers": [{"name": "main", "ports": [{"containerPort": 80}]}]}}
    original["when"] = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # not JSON: deep-copied as usual
    copied = copy_json(original)
    assert copied == copy.deepcopy(original)
    copied["spec"]["containers"][0]["ports"][0]["containerPort"] = 8080
    assert original["spec"]["containers"][0]["ports"][0]["containerPort"] == 80
