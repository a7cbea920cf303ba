"""Watches over HTTP, against Daphne: event lines, selectors, replays, Tables, bookmarks, 410."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from cluster.models import Change
from cluster.store import read, write
from tests import kubectl as kubectl_tools
from tests.builders import configmap
from tests.kubectl import ApiServer

pytestmark = pytest.mark.django_db(transaction=True)
api_server = kubectl_tools.api_server

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


class Stream:
    """A watch response read one event line at a time."""

    def __init__(self, server: ApiServer, path: str, headers: dict | None = None, **params):
        self.response = requests.get(
            server.url + path, params=params, headers=headers or {}, stream=True, timeout=20
        )
        self.lines: Iterator[bytes] = self.response.iter_lines(chunk_size=1)

    def next(self) -> dict:
        line = next(self.lines)
        return json.loads(line)

    def rest(self) -> list[dict]:
        return [json.loads(line) for line in self.lines if line]

    def close(self) -> None:
        self.response.close()


@pytest.fixture
def open_stream(api_server: ApiServer) -> Iterator:
    streams: list[Stream] = []

    def open_(path: str, headers: dict | None = None, **params) -> Stream:
        stream = Stream(api_server, path, headers, **params)
        streams.append(stream)
        return stream

    yield open_
    for stream in streams:
        stream.close()


def brief(event: dict) -> tuple[str, str, dict | None]:
    obj = event["object"]
    return event["type"], obj["metadata"].get("name", ""), obj.get("data")


def test_watch_sends_current_objects_then_changes(open_stream):
    """Without a resourceVersion: ADDED for what exists, then each change, one JSON line each."""
    write.create(configmap("a", x="1"))
    stream = open_stream(CONFIGMAPS, watch="1", timeoutSeconds="5")
    assert stream.response.headers["Content-Type"] == "application/json"
    assert brief(stream.next()) == ("ADDED", "a", {"x": "1"})
    write.patch("ConfigMap", "default", "a", {"data": {"x": "2"}})
    event = stream.next()
    assert brief(event) == ("MODIFIED", "a", {"x": "2"})
    assert (event["object"]["kind"], event["object"]["apiVersion"]) == ("ConfigMap", "v1")
    write.delete("ConfigMap", "default", "a")
    assert brief(stream.next()) == ("DELETED", "a", {"x": "2"})


def test_watch_replays_changes_after_its_resource_version(open_stream):
    """A watch from revision N gets every change after N, also those made before it connected."""
    listed = read.list_objects("ConfigMap", "default").resource_version
    write.create(configmap("a"))
    write.create(configmap("b", namespace="kube-system"))
    write.patch("ConfigMap", "default", "a", {"data": {"k": "v"}})
    stream = open_stream(CONFIGMAPS, watch="true", resourceVersion=str(listed), timeoutSeconds="1")
    assert [brief(e) for e in stream.rest()] == [("ADDED", "a", {}), ("MODIFIED", "a", {"k": "v"})]


def test_label_selector_turns_transitions_into_added_and_deleted(open_stream):
    """An object that stops matching is DELETED for the watch; one that starts is ADDED."""
    write.create(configmap("a"))
    stream = open_stream(CONFIGMAPS, watch="True", labelSelector="team=blue", timeoutSeconds="5")
    write.patch("ConfigMap", "default", "a", {"metadata": {"labels": {"team": "blue"}}})
    assert brief(stream.next())[:2] == ("ADDED", "a")
    write.patch("ConfigMap", "default", "a", {"data": {"x": "1"}})
    assert brief(stream.next())[:2] == ("MODIFIED", "a")
    write.patch("ConfigMap", "default", "a", {"metadata": {"labels": {"team": "red"}}})
    assert brief(stream.next())[:2] == ("DELETED", "a")
    write.create(configmap("b"))  # never matches: not sent
    write.patch("ConfigMap", "default", "a", {"metadata": {"labels": {"team": "blue"}}})
    assert brief(stream.next())[:2] == ("ADDED", "a")


def test_field_selector_on_one_name(open_stream):
    """fieldSelector=metadata.name=X (kubectl wait, rollout status) sees only that object."""
    write.create(configmap("a"))
    write.create(configmap("b"))
    stream = open_stream(CONFIGMAPS, watch="1", fieldSelector="metadata.name=b", timeoutSeconds="1")
    assert [brief(e)[:2] for e in stream.rest()] == [("ADDED", "b")]


def test_table_watch_sends_one_row_tables(open_stream):
    """With Accept as=Table each event's object is a one-row Table; columns come once."""
    write.create(configmap("a", k="v"))
    stream = open_stream(CONFIGMAPS, {"Accept": TABLE}, watch="1", timeoutSeconds="5")
    first = stream.next()["object"]
    assert (first["kind"], first["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert [c["name"] for c in first["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert first["rows"][0]["cells"][:2] == ["a", 1]
    assert first["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    write.patch("ConfigMap", "default", "a", {"data": {"k2": "v"}})
    second = stream.next()["object"]
    assert second["columnDefinitions"] == [] and second["rows"][0]["cells"][:2] == ["a", 2]


def test_send_initial_events_ends_with_a_bookmark(open_stream):
    """Watch-list: ADDED for each object, then a BOOKMARK marking the end of initial events."""
    write.create(configmap("a"))
    stream = open_stream(
        CONFIGMAPS,
        watch="1",
        sendInitialEvents="true",
        allowWatchBookmarks="true",
        timeoutSeconds="1",
    )
    events = stream.rest()
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    bookmark = events[1]["object"]
    assert bookmark["kind"] == "ConfigMap"
    assert bookmark["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert bookmark["metadata"]["resourceVersion"] == str(read.current_revision())


def test_watch_from_a_compacted_revision_gets_an_expired_error(open_stream):
    """When the change log no longer reaches back, one ERROR event carries a 410 Expired."""
    write.create(configmap("a"))
    write.create(configmap("b"))
    oldest = read.current_revision()
    Change.objects.filter(revision__lt=oldest).delete()
    stream = open_stream(CONFIGMAPS, watch="1", resourceVersion="1", timeoutSeconds="5")
    assert stream.response.status_code == 200
    [event] = stream.rest()
    assert event["type"] == "ERROR"
    assert event["object"] == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f"too old resource version: 1 ({oldest - 1})",
        "reason": "Expired",
        "code": 410,
    }


def test_timeout_ends_the_stream(open_stream):
    """timeoutSeconds closes the stream (clients reconnect from their last revision)."""
    stream = open_stream(CONFIGMAPS, watch="1", timeoutSeconds="1")
    assert stream.rest() == []


def test_bad_selectors_fail_before_streaming(api_server: ApiServer):
    """A field selector the kind does not support is a 400 Status, not a stream."""
    response = requests.get(
        api_server.url + CONFIGMAPS,
        params={"watch": "1", "fieldSelector": "spec.nope=1"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["reason"] == "BadRequest"
