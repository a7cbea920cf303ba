"""Carrying out a plan: actions in order, runs of creates as one batch, failures stop the rest.

The executor is the seam between the pure planners and the store: what it writes, in which
order, what counts as success (a create another worker already made, a delete already done),
and which events it records.
"""

from __future__ import annotations

import pytest

from cluster.controllers.actions import Create, Delete, Event, Patch, Plan
from cluster.controllers.execute import execute
from cluster.models import Change, ConfigMap, Pod
from cluster.models import Event as EventRow
from cluster.store import write
from cluster.store.read import current_revision
from tests.builders import configmap, pod

pytestmark = pytest.mark.django_db

OWNER = {
    "apiVersion": "apps/v1",
    "kind": "ReplicaSet",
    "name": "web",
    "namespace": "default",
    "uid": "u-1",
}


def create_pod(name: str, **extra) -> Create:
    return Create(
        pod(name, **extra),
        on_success=(Event(OWNER, "Normal", "SuccessfulCreate", "Created pod: {name}"),),
        on_failure=(Event(OWNER, "Warning", "FailedCreate", "Error creating: {error}"),),
    )


def generated_pod() -> Create:
    obj = pod("unused")
    del obj["metadata"]["name"]
    obj["metadata"]["generateName"] = "web-"
    return Create(
        obj, on_success=(Event(OWNER, "Normal", "SuccessfulCreate", "Created pod: {name}"),)
    )


def bad_pod(name: str) -> Create:
    obj = pod(name)
    obj["spec"]["containers"][0]["image"] = ""
    return Create(
        obj,
        on_success=(Event(OWNER, "Normal", "SuccessfulCreate", "Created pod: {name}"),),
        on_failure=(Event(OWNER, "Warning", "FailedCreate", "Error creating: {error}"),),
    )


def events_recorded() -> list[tuple[str, str]]:
    return sorted((e.reason, e.body["message"]) for e in EventRow.objects.all())


def test_a_run_of_creates_is_one_batch_with_consecutive_revisions() -> None:
    before = current_revision()
    outcome = execute(Plan.of([create_pod("a"), create_pod("b"), generated_pod()]), component="rs")

    assert (outcome.done, outcome.failed) == (3, "")
    pods = list(Change.objects.filter(revision__gt=before, kind="Pod").order_by("revision"))
    assert [c.actor for c in pods] == ["rs"] * 3
    assert [c.revision for c in pods] == list(range(pods[0].revision, pods[0].revision + 3))
    generated = next(c.name for c in pods if c.name.startswith("web-"))
    assert events_recorded() == [
        ("SuccessfulCreate", "Created pod: a"),
        ("SuccessfulCreate", "Created pod: b"),
        ("SuccessfulCreate", f"Created pod: {generated}"),
    ]


def test_a_create_another_worker_made_counts_as_done() -> None:
    write.create(pod("a"))
    outcome = execute(Plan.of([create_pod("a"), create_pod("b")]), component="rs")

    assert (outcome.done, outcome.failed) == (2, "")
    assert sorted(Pod.objects.values_list("name", flat=True)) == ["a", "b"]
    assert events_recorded() == [("SuccessfulCreate", "Created pod: b")]


def test_a_failed_create_stops_what_follows_the_batch_but_not_the_batch() -> None:
    later = Patch("ConfigMap", "default", "settings", {"data": {"k": "changed"}})
    write.create(configmap("settings", k="v"))
    outcome = execute(
        Plan.of([create_pod("a"), bad_pod("bad"), create_pod("c"), later]), component="rs"
    )

    assert outcome.done == 2
    assert "spec.containers[0].image: Required value" in outcome.failed
    assert sorted(Pod.objects.values_list("name", flat=True)) == ["a", "c"]
    assert ConfigMap.objects.get(name="settings").body["data"] == {"k": "v"}  # not patched
    reasons = [reason for reason, _ in events_recorded()]
    assert reasons.count("SuccessfulCreate") == 2 and reasons.count("FailedCreate") == 1


def test_creates_of_another_kind_wait_for_the_ones_before() -> None:
    """A StatefulSet's pod comes after its claim: a failed claim leaves the pod uncreated."""
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data-db-0"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "-1Gi"}}},
    }
    outcome = execute(Plan.of([Create(claim), create_pod("db-0")]), component="sts")

    assert outcome.done == 0 and outcome.failed
    assert not Pod.objects.exists()


@pytest.mark.parametrize(
    ("actions", "done", "failed"),
    [
        ([Delete("Pod", "default", "gone")], 1, ""),  # already deleted: done
        ([Patch("Pod", "default", "gone", {"metadata": {"labels": {"a": "b"}}})], 0, "not found"),
    ],
    ids=["delete-of-a-missing-object", "patch-of-a-missing-object"],
)
def test_missing_objects(actions, done, failed) -> None:
    outcome = execute(Plan.of(actions), component="gc")
    assert outcome.done == done
    assert failed in outcome.failed
