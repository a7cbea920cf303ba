"""The event recorder: new events, aggregation of repeats, and the batched form.

Aggregation follows client-go's recorder: the same object (uid and name), reason, type, source
component and message make the same event, whose ``count`` goes up and ``lastTimestamp``
moves; anything different is a new Event object.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cluster.models import Change, Event
from cluster.store import events, write
from cluster.store.errors import StoreError
from cluster.store.read import current_revision
from tests.builders import namespace, pod

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def web() -> dict:
    return write.create(pod("web"), actor="test")


def stored() -> list[dict]:
    return [row.body for row in Event.objects.order_by("id")]


def note(
    obj: dict, reason: str = "Pulling", message: str = "Pulling image", **extra
) -> events.Note:
    extra.setdefault("component", "kubelet")
    return events.Note(events.involved_object(obj), reason, message, **extra)


def test_a_first_event_is_created_with_the_kubernetes_fields(web: dict) -> None:
    event = events.record(
        web,
        "Scheduled",
        "Successfully assigned default/web to n1",
        component="default-scheduler",
        now=T0,
    )

    assert event["involvedObject"]["uid"] == web["metadata"]["uid"]
    assert event["involvedObject"]["kind"] == "Pod"
    assert (event["reason"], event["type"], event["count"]) == ("Scheduled", "Normal", 1)
    assert event["source"] == {"component": "default-scheduler"}
    assert event["firstTimestamp"] == event["lastTimestamp"] == "2026-01-01T12:00:00Z"
    assert event["metadata"]["name"].startswith("web.")


@pytest.mark.parametrize(
    ("second", "expected_events", "expected_count"),
    [
        # (what changes in the second report, Event objects afterwards, count of the first)
        ({}, 1, 2),
        ({"message": "Pulling image again"}, 2, 1),
        ({"reason": "Pulled"}, 2, 1),
        ({"type": "Warning"}, 2, 1),
        ({"component": "default-scheduler"}, 2, 1),
    ],
    ids=["same-event", "other-message", "other-reason", "other-type", "other-source"],
)
def test_repeats_aggregate_and_differences_do_not(
    web: dict, second: dict, expected_events: int, expected_count: int
) -> None:
    base = {
        "reason": "Pulling",
        "message": "Pulling image",
        "type": "Normal",
        "component": "kubelet",
    }
    events.record(
        web, base["reason"], base["message"], type=base["type"], component=base["component"], now=T0
    )
    again = {**base, **second}
    events.record(
        web,
        again["reason"],
        again["message"],
        type=again["type"],
        component=again["component"],
        now=T0 + dt.timedelta(seconds=30),
    )

    bodies = stored()
    assert len(bodies) == expected_events
    assert bodies[0]["count"] == expected_count
    if expected_count == 2:
        assert bodies[0]["lastTimestamp"] == "2026-01-01T12:00:30Z"
        assert bodies[0]["firstTimestamp"] == "2026-01-01T12:00:00Z"


def test_an_event_of_a_recreated_object_is_new(web: dict) -> None:
    events.record(web, "Pulling", "Pulling image", component="kubelet", now=T0)
    write.delete("Pod", "default", "web", actor="test")
    reborn = write.create(pod("web"), actor="test")
    events.record(reborn, "Pulling", "Pulling image", component="kubelet", now=T0)

    assert [body["involvedObject"]["uid"] for body in stored()] == [
        web["metadata"]["uid"],
        reborn["metadata"]["uid"],
    ]


def test_record_many_matches_recording_one_by_one(web: dict) -> None:
    other = write.create(pod("api"), actor="test")
    events.record(web, "Pulling", "Pulling image", component="kubelet", now=T0)
    later = T0 + dt.timedelta(seconds=5)

    results = events.record_many(
        [
            note(web, now=later),  # aggregates with the stored one
            note(other, now=T0),  # new
            note(other, now=later),  # repeat within the batch
            note(web, "Started", "Started container main", now=later),  # new
        ]
    )

    assert [r["count"] for r in results] == [2, 2, 2, 1]
    assert results[1]["metadata"]["name"] == results[2]["metadata"]["name"]
    by_object = {
        (b["involvedObject"]["name"], b["reason"]): (b["count"], b["lastTimestamp"])
        for b in stored()
    }
    assert by_object == {
        ("web", "Pulling"): (2, "2026-01-01T12:00:05Z"),
        ("api", "Pulling"): (2, "2026-01-01T12:00:05Z"),
        ("web", "Started"): (1, "2026-01-01T12:00:05Z"),
    }


def test_record_many_writes_with_each_component_as_actor(web: dict) -> None:
    before = current_revision()
    events.record_many(
        [
            note(web, "Scheduled", "Successfully assigned", component="default-scheduler", now=T0),
            note(web, "Pulling", "Pulling image", component="kubelet", now=T0),
        ]
    )

    actors = {
        change.name.split(".")[0] + ":" + change.actor
        for change in Change.objects.filter(revision__gt=before, kind="Event")
    }
    assert actors == {"web:default-scheduler", "web:kubelet"}


def test_an_event_that_cannot_be_stored_is_an_error_in_its_place(web: dict) -> None:
    write.create(namespace("gone"), actor="test")
    ghost = pod("ghost")
    ghost["metadata"].update(namespace="gone", uid="1234")
    write.delete("Namespace", "", "gone", actor="test")  # terminating: no new objects in it

    results = events.record_many([note(ghost, now=T0), note(web, now=T0)])

    assert isinstance(results[0], StoreError)
    assert results[1]["count"] == 1
    assert [b["involvedObject"]["name"] for b in stored()] == ["web"]


def test_record_raises_what_record_many_returns(web: dict) -> None:
    ghost = pod("ghost")
    ghost["metadata"].update(namespace="nowhere", uid="1234")

    with pytest.raises(StoreError):
        events.record(ghost, "Pulling", "Pulling image", component="kubelet", now=T0)


def test_record_many_keeps_events_with_different_messages_apart(web: dict) -> None:
    """The message is part of the key, within a batch and against stored events alike."""
    events.record(web, "SuccessfulCreate", "Created pod: a", component="rs", now=T0)
    results = events.record_many(
        [
            note(web, "SuccessfulCreate", "Created pod: b", component="rs", now=T0),
            note(web, "SuccessfulCreate", "Created pod: c", component="rs", now=T0),
            note(web, "SuccessfulCreate", "Created pod: a", component="rs", now=T0),
        ]
    )

    assert [r["message"] for r in results] == ["Created pod: b", "Created pod: c", "Created pod: a"]
    counts = {b["message"]: b["count"] for b in stored()}
    assert counts == {"Created pod: a": 2, "Created pod: b": 1, "Created pod: c": 1}
