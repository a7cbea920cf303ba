"""Batched writes: the write path's guarantees for many objects at once.

Most cases run the same write twice, once through ``cluster.store.write`` and once through
``cluster.store.batch``, on twin objects in two namespaces, and compare the answers: the batch
must store exactly what the write path stores (server-made fields aside) and fail with the same
errors.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from django.db import connection

from cluster.models import Change, Pod
from cluster.store import batch, notify, read, write
from cluster.store.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    StoreError,
)
from cluster.store.objects import project
from cluster.store.read import current_revision
from tests.builders import configmap, deployment, namespace, node, pod, service

pytestmark = pytest.mark.django_db

Obj = dict[str, Any]
SERVER_MADE = ("uid", "resourceVersion", "creationTimestamp", "namespace")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def changes_after(revision: int) -> list[Change]:
    return list(Change.objects.filter(revision__gt=revision).order_by("revision"))


def comparable(obj: Obj | StoreError) -> Any:
    """An answer without what differs between twins (uid, revision, namespace, times)."""
    if isinstance(obj, StoreError):
        return (type(obj).__name__, UUID.sub("<uid>", obj.message))
    trimmed = copy.deepcopy(obj)
    for key in SERVER_MADE:
        trimmed["metadata"].pop(key, None)
    for condition in (trimmed.get("status") or {}).get("conditions") or []:
        condition.pop("lastTransitionTime", None)
    return trimmed


def in_namespace(obj: Obj, ns: str) -> Obj:
    obj = copy.deepcopy(obj)
    obj["metadata"]["namespace"] = ns
    return obj


@pytest.fixture
def twins() -> None:
    """Namespaces ``one`` (for the write path) and ``two`` (for the batch)."""
    write.create(namespace("one"))
    write.create(namespace("two"))


# --- create_many -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param(pod("p", cpu="500m"), id="a pod gets its defaults, Pending and QoS class"),
        pytest.param(deployment("web", replicas=3), id="a deployment gets strategy defaults"),
        pytest.param(configmap("settings", a="1"), id="a configmap keeps its data"),
        pytest.param(
            {**pod("p"), "status": {"phase": "Running"}}, id="a pod's client status is reset"
        ),
    ],
)
def test_create_many_stores_what_create_stores(twins, obj):
    """create_many gives each object exactly what write.create gives it."""
    expected = write.create(in_namespace(obj, "one"))
    [created] = batch.create_many([in_namespace(obj, "two")])
    assert comparable(created) == comparable(expected)
    assert created["metadata"]["namespace"] == "two"
    assert read.get(created["kind"], "two", obj["metadata"]["name"]) == created


def stored_row(model, name: str, namespace: str = "") -> dict[str, Any]:
    """The row as the database holds it (raw SQL: no field converts the values back), without
    the columns that differ between twins."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {table} WHERE name = %s AND namespace = %s", [name, namespace]
        )
        columns = [column[0] for column in cursor.description]
        [values] = cursor.fetchall()
    row = dict(zip(columns, values, strict=True))
    for column in ("id", "uid", "resource_version", "creation_timestamp", "namespace", "name"):
        row.pop(column)
    return row


OWNER = {
    "apiVersion": "apps/v1",
    "kind": "ReplicaSet",
    "name": "web-1",
    "controller": True,
    "uid": "0b9d3c52-3c8a-4c4e-9a7e-1f0f2b1d2c3e",
}


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param(
            {
                **pod("p", cpu="250m"),
                "metadata": {"name": "p", "ownerReferences": [OWNER], "labels": {"app": "web"}},
            },
            id="a pod with its controller",
        ),
        pytest.param(node("worker", cpu="8"), id="a node and its allocatable columns"),
        pytest.param(deployment("web", replicas=2), id="a deployment"),
        pytest.param(configmap("settings", a="1"), id="a configmap"),
        pytest.param(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": "web.1"},
                "involvedObject": {"kind": "Pod", "name": "web"},
                "reason": "Started",
                "message": "Started container main",
                "type": "Normal",
                "source": {"component": "kubelet"},
                "count": 1,
                "firstTimestamp": "2026-01-02T03:04:05Z",
                "lastTimestamp": "2026-01-02T03:04:06Z",
            },
            id="an event and its timestamps",
        ),
    ],
)
def test_create_many_stores_the_columns_create_stores(twins, obj):
    """The database holds the same values, of the same types, for both paths (the batch prepares
    its rows' values itself, not through ``save()``)."""
    model = write.kind_of(obj).model
    namespaced = write.kind_of(obj).namespaced
    first, second = copy.deepcopy(obj), copy.deepcopy(obj)
    second["metadata"]["name"] = first["metadata"]["name"] + "-2"
    namespace = "one" if namespaced else ""  # the twins differ by their names only
    for twin in (first, second):
        if namespaced:
            twin["metadata"]["namespace"] = namespace
        if "involvedObject" in twin:  # an event is about an object of its own namespace
            twin["involvedObject"]["namespace"] = namespace
    write.create(first)
    [created] = batch.create_many([second])
    assert not isinstance(created, StoreError), created
    expected = stored_row(model, first["metadata"]["name"], namespace)
    stored = stored_row(model, second["metadata"]["name"], namespace)
    assert stored == expected
    if obj["metadata"].get("ownerReferences"):
        assert stored["controller_uid"] is not None


def test_the_change_log_row_holds_every_column():
    """``_log`` writes every column of the change log, values in the database's form."""
    assert set(batch._change_fields()) == set(batch._insert_fields(Change))
    before = current_revision()
    [created] = batch.create_many([configmap("a")], actor="tester")
    [change] = changes_after(before)
    assert (change.kind, change.namespace, change.name, change.type, change.actor) == (
        "ConfigMap",
        "default",
        "a",
        "ADDED",
        "tester",
    )
    assert str(change.uid) == created["metadata"]["uid"]
    assert change.object == created
    assert change.created_at is not None


def test_create_many_takes_consecutive_revisions_and_logs_each_object():
    """N created objects take the next N revisions, in the order given, each with its ADDED
    row carrying the stored object."""
    before = current_revision()
    created = batch.create_many([configmap("a"), node("worker-1"), pod("p")], actor="tester")
    assert [c["metadata"]["resourceVersion"] for c in created] == [
        str(before + 1),
        str(before + 2),
        str(before + 3),
    ]
    assert current_revision() == before + 3
    log = changes_after(before)
    assert [(c.revision, c.type, c.kind, c.name, c.actor) for c in log] == [
        (before + 1, "ADDED", "ConfigMap", "a", "tester"),
        (before + 2, "ADDED", "Node", "worker-1", "tester"),
        (before + 3, "ADDED", "Pod", "p", "tester"),
    ]
    assert [c.object for c in log] == created
    assert [c["metadata"].get("generation") for c in created] == [None, 1, 1]  # no spec, none
    assert Pod.objects.get(name="p").resource_version == before + 3


def test_create_many_does_not_change_its_input():
    """The caller's objects come back untouched."""
    objs = [pod("p"), configmap("c")]
    original = copy.deepcopy(objs)
    batch.create_many(objs)
    assert objs == original


@pytest.mark.parametrize(
    ("setup", "obj", "error"),
    [
        pytest.param(
            [configmap("taken")],
            configmap("taken", a="2"),
            AlreadyExists,
            id="a name taken in the store is AlreadyExists",
        ),
        pytest.param(
            [], configmap("x", namespace="nowhere"), NotFound, id="a missing namespace is NotFound"
        ),
        pytest.param(
            [], deployment("bad", replicas=-1), Invalid, id="an invalid object is Invalid"
        ),
        pytest.param(
            [],
            {"apiVersion": "v1", "kind": "Gadget", "metadata": {"name": "g"}},
            StoreError,
            id="an unknown kind is a BadRequest",
        ),
    ],
)
def test_create_many_errors_stand_in_place_and_the_rest_is_written(setup, obj, error):
    """A failing object gets the write path's error in its place; the others are written
    with consecutive revisions."""
    for existing in setup:
        write.create(existing)
    try:
        write.create(copy.deepcopy(obj))
    except StoreError as raised:
        expected = raised
    before = current_revision()
    results = batch.create_many([configmap("first"), obj, configmap("last")])
    assert isinstance(results[1], error)
    assert results[1].message == expected.message
    assert [r["metadata"]["name"] for r in (results[0], results[2])] == ["first", "last"]
    assert [c.revision for c in changes_after(before)] == [before + 1, before + 2]
    assert batch.errors_of(results) == [results[1]]


def test_a_name_twice_in_one_batch_is_already_exists_the_second_time():
    """The first of two objects with one name is created; the second is AlreadyExists."""
    first, second = batch.create_many([configmap("twice", a="1"), configmap("twice", a="2")])
    assert first["data"] == {"a": "1"}
    assert isinstance(second, AlreadyExists)
    assert str(second) == 'configmaps "twice" already exists'


def test_a_terminating_namespace_refuses_new_content():
    """Objects for a namespace being deleted are Forbidden, as in the write path."""
    write.create(namespace("shop"))
    write.delete("namespaces", "", "shop")
    [refused] = batch.create_many([configmap("x", namespace="shop")])
    assert isinstance(refused, Forbidden)
    assert "because it is being terminated" in refused.message


def test_services_are_refused():
    """Services allocate addresses one at a time: the batch does not take them."""
    with pytest.raises(ValueError, match="services allocate addresses"):
        batch.create_many([service("web")])


# --- mutate_many -----------------------------------------------------------------------------


def _scale(replicas: int):
    def change(obj: Obj) -> Obj:
        obj["spec"]["replicas"] = replicas
        return obj

    return change


def _label(obj: Obj) -> None:
    obj["metadata"].setdefault("labels", {})["tier"] = "front"


def _status(obj: Obj) -> Obj:
    obj["status"] = {"replicas": 7, "observedGeneration": 1}
    obj["spec"]["replicas"] = 9  # ignored by the status subresource
    return obj


def _stale(obj: Obj) -> Obj:
    obj["metadata"]["resourceVersion"] = "1"
    obj["spec"]["replicas"] = 5
    return obj


def _wrong_uid(obj: Obj) -> Obj:
    obj["metadata"]["uid"] = "00000000-0000-0000-0000-000000000000"
    return obj


def _refuse(obj: Obj) -> Obj:
    raise Conflict("deployments", "apps", obj["metadata"]["name"], "not now")


def _nothing(obj: Obj) -> None:
    return None


@pytest.mark.parametrize(
    ("change", "subresource"),
    [
        pytest.param(_scale(4), None, id="a spec change bumps the generation"),
        pytest.param(_status, "status", id="the status subresource changes only status"),
        pytest.param(_nothing, None, id="a change that changes nothing writes nothing"),
        pytest.param(_scale(-1), None, id="an invalid change is Invalid"),
        pytest.param(_stale, None, id="a stale resourceVersion is a Conflict"),
        pytest.param(_wrong_uid, None, id="another uid is a Conflict"),
        pytest.param(_refuse, None, id="an error the change raises is its answer"),
    ],
)
def test_mutate_many_answers_what_mutate_answers(twins, change, subresource):
    """mutate_many stores (or refuses) exactly what write.mutate stores (or refuses)."""
    for ns in ("one", "two"):
        write.create(deployment("web", namespace=ns))
    try:
        expected: Obj | StoreError = write.mutate(
            "deployments", "one", "web", change, subresource=subresource
        )
    except StoreError as error:
        expected = error
    before = current_revision()
    [answer] = batch.mutate_many("deployments", [("two", "web", change)], subresource=subresource)
    assert comparable(answer) == comparable(expected)
    wrote = (
        not isinstance(answer, StoreError) and int(answer["metadata"]["resourceVersion"]) > before
    )
    assert len(changes_after(before)) == (1 if wrote else 0)


def test_a_change_made_in_place_is_written():
    """A change function may change its argument and return None: that is the new object."""
    write.create(deployment("web"))
    [changed] = batch.mutate_many("deployments", [("default", "web", _label)])
    assert changed["metadata"]["labels"] == {"tier": "front"}
    assert read.get("deployments", "default", "web")["metadata"]["labels"] == {"tier": "front"}


def test_a_missing_object_is_not_found():
    """Changing an object that does not exist answers NotFound for it alone."""
    write.create(configmap("here"))
    missing, here = batch.mutate_many(
        "configmaps",
        [("default", "gone", _nothing), ("default", "here", lambda o: {**o, "data": {"b": "2"}})],
    )
    assert isinstance(missing, NotFound) and str(missing) == 'configmaps "gone" not found'
    assert here["data"] == {"b": "2"}


def test_mutate_many_takes_one_revision_per_changed_object_in_order():
    """Changed objects take consecutive revisions in the order given; unchanged ones none."""
    for name in ("a", "b", "c"):
        write.create(deployment(name))
    before = current_revision()
    results = batch.mutate_many(
        "deployments",
        [("default", "c", _scale(5)), ("default", "b", _nothing), ("default", "a", _scale(6))],
        actor="tester",
    )
    assert [r["metadata"]["resourceVersion"] for r in results] == [
        str(before + 1),
        results[1]["metadata"]["resourceVersion"],
        str(before + 2),
    ]
    assert [(c.revision, c.name, c.type, c.actor) for c in changes_after(before)] == [
        (before + 1, "c", "MODIFIED", "tester"),
        (before + 2, "a", "MODIFIED", "tester"),
    ]
    assert read.get("deployments", "default", "a")["spec"]["replicas"] == 6


def test_removing_the_last_finalizer_of_a_deleted_object_removes_it():
    """As in the write path: an object being deleted goes once its finalizers are gone."""
    write.create(deployment("web"))
    write.delete("deployments", "default", "web", propagation="Foreground")

    def drop_finalizers(obj: Obj) -> Obj:
        obj["metadata"]["finalizers"] = []
        return obj

    [gone] = batch.mutate_many("deployments", [("default", "web", drop_finalizers)])
    assert Change.objects.filter(name="web").last().type == "DELETED"
    assert gone["metadata"]["resourceVersion"] == str(current_revision())
    with pytest.raises(NotFound):
        read.get("deployments", "default", "web")


def test_an_unexpected_error_rolls_the_whole_batch_back():
    """A bug in a change function (not a StoreError) writes nothing at all."""
    write.create(deployment("a"))
    write.create(deployment("b"))
    before = current_revision()

    def broken(obj: Obj) -> Obj:
        raise KeyError("oops")

    with pytest.raises(KeyError):
        batch.mutate_many("deployments", [("default", "a", _scale(3)), ("default", "b", broken)])
    assert current_revision() == before
    assert read.get("deployments", "default", "a")["spec"]["replicas"] == 2


def test_each_object_once():
    """The same object twice in one batch is a programming error."""
    with pytest.raises(ValueError, match="each object once"):
        batch.mutate_many("configmaps", [("default", "a", _nothing), ("default", "a", _nothing)])


# --- bind_pods -------------------------------------------------------------------------------


def _binding(pod_name: str, node_name: str = "worker-1", **extra: Any) -> batch.Binding:
    return batch.Binding("default", pod_name, node_name, **extra)


def test_binding_sets_the_node_and_pod_scheduled():
    """A bound pod gets spec.nodeName, PodScheduled=True, a revision and a MODIFIED row; its
    generation stays."""
    created = write.create(pod("p", cpu="250m"))
    before = current_revision()
    [bound] = batch.bind_pods([_binding("p", uid=created["metadata"]["uid"])], actor="tester")
    assert bound["spec"]["nodeName"] == "worker-1"
    [condition] = bound["status"]["conditions"]
    assert condition["type"] == "PodScheduled" and condition["status"] == "True"
    assert condition["lastProbeTime"] is None and condition["lastTransitionTime"].endswith("Z")
    assert bound["metadata"]["resourceVersion"] == str(before + 1)
    assert bound["metadata"]["generation"] == created["metadata"]["generation"]
    [change] = changes_after(before)
    assert (change.type, change.actor, change.object) == ("MODIFIED", "tester", bound)
    assert Pod.objects.get(name="p").node_name == "worker-1"
    assert read.get("pods", "default", "p") == bound
    # Every projected column is what the bound object gives (the binding sets only the node's).
    stored, projected = Pod.objects.get(name="p"), Pod()
    project(projected, bound, write.kind_of(bound))
    columns = [column.name for column in write.kind_of(bound).columns]
    assert [getattr(stored, c) for c in columns] == [getattr(projected, c) for c in columns]


def test_binding_replaces_an_unschedulable_condition_where_it_stands():
    """PodScheduled=False/Unschedulable becomes True in place; its reason and message go."""
    write.create(pod("p"))

    def unschedulable(obj: Obj) -> Obj:
        obj["status"]["conditions"] = [
            {"type": "Initialized", "status": "True"},
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/1 nodes are available",
                "lastProbeTime": None,
                "lastTransitionTime": "2020-01-01T00:00:00Z",
            },
        ]
        return obj

    write.mutate("pods", "default", "p", unschedulable, subresource="status")
    [bound] = batch.bind_pods([_binding("p")])
    first, scheduled = bound["status"]["conditions"]
    assert first == {"type": "Initialized", "status": "True"}
    assert set(scheduled) == {"type", "status", "lastProbeTime", "lastTransitionTime"}
    assert scheduled["status"] == "True"
    assert scheduled["lastTransitionTime"] != "2020-01-01T00:00:00Z"


def test_binding_merges_annotations():
    """The binding's annotations are added to the pod's."""
    write.create(pod("p"))
    [bound] = batch.bind_pods([_binding("p", annotations={"example.com/why": "test"})])
    assert bound["metadata"]["annotations"] == {"example.com/why": "test"}


def _gated(obj: Obj) -> Obj:
    obj["spec"]["schedulingGates"] = [{"name": "wait"}]
    return obj


@pytest.mark.parametrize(
    ("prepare", "binding", "message"),
    [
        pytest.param(
            lambda: write.create(pod("p", node="worker-2")),
            _binding("p"),
            'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to '
            'node "worker-2"',
            id="a pod already on a node cannot be bound again",
        ),
        pytest.param(
            lambda: write.create(pod("p")),
            _binding("p", uid="00000000-0000-0000-0000-000000000000"),
            'Operation cannot be fulfilled on pods "p": Precondition failed: UID in '
            "precondition: 00000000-0000-0000-0000-000000000000, UID in object meta: ",
            id="another pod of the same name is a precondition failure",
        ),
        pytest.param(
            lambda: write.create(_gated(pod("p"))),
            _binding("p"),
            'Operation cannot be fulfilled on pods/binding "p": pod p has non-empty '
            ".spec.schedulingGates",
            id="a pod with scheduling gates cannot be bound",
        ),
        pytest.param(
            lambda: None,
            _binding("p"),
            'pods "p" not found',
            id="a pod that is gone is not found",
        ),
    ],
)
def test_binding_refusals_are_kubernetes_conflicts(prepare, binding, message):
    """A binding that cannot apply answers with the apiserver's message and writes nothing."""
    prepare()
    before = current_revision()
    [refused] = batch.bind_pods([binding])
    assert isinstance(refused, Conflict | NotFound)
    assert refused.message.startswith(message)
    assert current_revision() == before


def test_a_pod_being_deleted_cannot_be_bound():
    """A pod marked for deletion (a finalizer holds it) is refused, as the apiserver does."""
    held = pod("p")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    write.create(held)
    write.delete("pods", "default", "p")
    [refused] = batch.bind_pods([_binding("p")])
    assert refused.message == (
        'Operation cannot be fulfilled on pods/binding "p": pod p is being deleted, cannot be '
        "assigned to a host"
    )


# --- notifications ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_subscribers_hear_every_committed_change_in_revision_order():
    """After commit, subscribers hear each created, changed and bound object once, in revision
    order; nothing of a batch that rolled back."""
    heard: list[notify.Changed] = []
    notify.subscribe(heard.append)
    try:
        batch.create_many([configmap("a"), pod("p")])
        batch.mutate_many("configmaps", [("default", "a", lambda o: {**o, "data": {"x": "1"}})])
        batch.bind_pods([_binding("p")])
        with pytest.raises(KeyError):
            batch.mutate_many("configmaps", [("default", "a", lambda o: o["missing"])])
    finally:
        notify.unsubscribe(heard.append)
    assert [(c.type, c.kind, c.name) for c in heard] == [
        ("ADDED", "ConfigMap", "a"),
        ("ADDED", "Pod", "p"),
        ("MODIFIED", "ConfigMap", "a"),
        ("MODIFIED", "Pod", "p"),
    ]
    assert [c.revision for c in heard] == sorted(c.revision for c in heard)


def test_upsert_values_inserts_new_rows_and_replaces_taken_ones():
    """``row_values`` prepares rows as ``save()`` would; ``upsert_values`` inserts them, a row
    whose unique column is taken replacing the stored one's other columns."""
    import datetime as dt
    import uuid

    from cluster.models import SchedulingDecision

    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    kept, new = uuid.uuid4(), uuid.uuid4()
    SchedulingDecision.objects.create(
        pod_uid=kept, namespace="default", name="a", node_name="n1", decided_at=when
    )
    rows = [
        SchedulingDecision(
            pod_uid=kept,
            namespace="default",
            name="a",
            node_name="n2",
            diagnosis={"sentence": "moved"},
            decided_at=when + dt.timedelta(seconds=1),
        ),
        SchedulingDecision(pod_uid=new, namespace="default", name="b", decided_at=when),
    ]
    batch.upsert_values(
        SchedulingDecision, batch.row_values(SchedulingDecision, rows), unique="pod_uid"
    )
    stored = {
        d.pod_uid: (d.node_name, d.diagnosis, d.decided_at)
        for d in SchedulingDecision.objects.all()
    }
    assert stored == {
        kept: ("n2", {"sentence": "moved"}, when + dt.timedelta(seconds=1)),
        new: ("", {}, when),
    }
