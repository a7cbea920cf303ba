"""Field ownership (managedFields) and server-side apply, as pure functions."""

from __future__ import annotations

import pytest

from cluster.api import managed
from cluster.api.managed import ApplyConflict, Entry

NOW = "2026-01-01T00:00:00Z"
LATER = "2026-01-01T00:01:00Z"


def deployment(replicas: int = 2, image: str = "nginx:1", **extra) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", **extra.pop("metadata", {})},
        "spec": {
            "replicas": replicas,
            "template": {"spec": {"containers": [{"name": "web", "image": image}]}},
            **extra,
        },
    }


def configmap(data: dict, **metadata) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm", "namespace": "default", **metadata},
        "data": data,
    }


def owners(obj: dict) -> dict[str, set[str]]:
    """manager/operation -> the owned paths, as text."""
    return {
        f"{e.manager}/{e.operation}": {managed.path_text(p) for p in e.fields}
        for e in managed.entries_of(obj)
    }


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(
            configmap({"a": "1"}, labels={"app": "x"}, uid="u", resourceVersion="3"),
            {".data.a", ".metadata.labels.app"},
            id="identity and server metadata are not owned",
        ),
        pytest.param(
            deployment(),
            {
                ".spec.replicas",
                '.spec.template.spec.containers[name="web"]',
                '.spec.template.spec.containers[name="web"].name',
                '.spec.template.spec.containers[name="web"].image',
            },
            id="merge list elements are owned by their key, and their fields",
        ),
        pytest.param(
            {
                "kind": "Pod",
                "metadata": {"finalizers": ["a", "b"]},
                "spec": {"tolerations": [{"key": "k"}]},
            },
            {'.metadata.finalizers[="a"]', '.metadata.finalizers[="b"]', ".spec.tolerations"},
            id="set lists own each value, atomic lists are leaves",
        ),
        pytest.param(
            {"kind": "Pod", "spec": {"nodeSelector": {}}, "status": {"phase": "Running"}},
            {".spec.nodeSelector"},
            id="an empty map is a leaf and status is never owned",
        ),
    ],
)
def test_field_set(obj: dict, expected: set[str]):
    """An object's owned paths: leaves and list elements, as FieldsV1 names them."""
    assert {managed.path_text(p) for p in managed.field_set(obj)} == expected


def test_fields_v1_round_trip():
    """A field set survives FieldsV1, where list elements carry their own "." node."""
    paths = managed.field_set(deployment())
    tree = managed.to_fields_v1(paths)
    element = tree["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert element == {".": {}, "f:image": {}, "f:name": {}}
    assert managed.from_fields_v1(tree) == paths


def test_create_gives_the_manager_every_field():
    """A create (POST) records one Update entry owning everything the body set."""
    created = managed.record_update(None, configmap({"a": "1"}), "kubectl-create", "v1", NOW)
    [entry] = created["metadata"]["managedFields"]
    assert entry == {
        "manager": "kubectl-create",
        "operation": "Update",
        "apiVersion": "v1",
        "time": NOW,
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:data": {"f:a": {}}},
    }


def test_an_update_takes_changed_fields_from_other_managers():
    """Changing a field moves it to the writer; untouched fields stay with their owner."""
    live = managed.record_update(None, configmap({"a": "1", "b": "2"}), "alice", "v1", NOW)
    changed = configmap({"a": "9", "b": "2"}, managedFields=live["metadata"]["managedFields"])
    updated = managed.record_update(live, changed, "bob", "v1", LATER)
    assert owners(updated) == {"alice/Update": {".data.b"}, "bob/Update": {".data.a"}}


def test_a_removed_field_leaves_every_manager():
    """A field the write removed is owned by nobody; a manager left with nothing is dropped."""
    live = managed.record_update(None, configmap({"a": "1"}), "alice", "v1", NOW)
    emptied = configmap({}, managedFields=live["metadata"]["managedFields"])
    del emptied["data"]
    assert (
        "managedFields" not in managed.record_update(live, emptied, "bob", "v1", LATER)["metadata"]
    )


def test_apply_creates_with_an_apply_entry():
    """Applying to a missing object makes it, owned by the applier with operation Apply."""
    created = managed.apply(
        None, configmap({"a": "1"}), "kubectl", force=False, now=NOW, kind="ConfigMap"
    )
    assert owners(created) == {"kubectl/Apply": {".data.a"}}


def test_apply_removes_fields_it_no_longer_applies():
    """A key dropped from the applied configuration is removed from the object."""
    first = managed.apply(
        None, configmap({"a": "1", "b": "2"}), "kubectl", force=False, now=NOW, kind="ConfigMap"
    )
    second = managed.apply(
        first, configmap({"a": "1"}), "kubectl", force=False, now=LATER, kind="ConfigMap"
    )
    assert second["data"] == {"a": "1"}
    assert owners(second) == {"kubectl/Apply": {".data.a"}}


def test_apply_keeps_a_dropped_field_another_manager_owns():
    """A dropped field someone else also owns stays."""
    first = managed.apply(
        None, configmap({"a": "1", "b": "2"}), "kubectl", force=False, now=NOW, kind="ConfigMap"
    )
    shared = managed.apply(
        first, configmap({"b": "2"}), "helm", force=False, now=NOW, kind="ConfigMap"
    )
    second = managed.apply(
        shared, configmap({"a": "1"}), "kubectl", force=False, now=LATER, kind="ConfigMap"
    )
    assert second["data"] == {"a": "1", "b": "2"}


def test_apply_removes_a_container_and_keeps_others_fields():
    """Dropping a container removes it; fields set by others on kept containers stay."""
    applied = deployment()
    applied["spec"]["template"]["spec"]["containers"].append(
        {"name": "sidecar", "image": "busybox"}
    )
    live = managed.apply(None, applied, "kubectl", force=False, now=NOW, kind="Deployment")
    live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "Always"  # defaulted
    again = managed.apply(live, deployment(), "kubectl", force=False, now=LATER, kind="Deployment")
    assert again["spec"]["template"]["spec"]["containers"] == [
        {"name": "web", "image": "nginx:1", "imagePullPolicy": "Always"}
    ]


@pytest.mark.parametrize(
    ("applied", "message", "fields"),
    [
        pytest.param(
            deployment(replicas=5),
            'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using '
            "apps/v1: .spec.replicas",
            [".spec.replicas"],
            id="one conflict names the manager, its apiVersion and the field",
        ),
        pytest.param(
            deployment(replicas=5, image="nginx:2"),
            'Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using '
            "apps/v1:\n- .spec.replicas\n"
            '- .spec.template.spec.containers[name="web"].image',
            [".spec.replicas", '.spec.template.spec.containers[name="web"].image'],
            id="several conflicts are listed under their manager",
        ),
    ],
)
def test_apply_conflicts_with_another_manager(applied: dict, message: str, fields: list[str]):
    """Applying a different value to a field another manager set is a 409 naming both."""
    live = managed.record_update(None, deployment(), "kubectl-client-side-apply", "apps/v1", NOW)
    with pytest.raises(ApplyConflict) as raised:
        managed.apply(live, applied, "kubectl", force=False, now=LATER, kind="Deployment")
    error = raised.value
    assert (error.code, error.reason, error.message) == (409, "Conflict", message)
    assert [cause["field"] for cause in error.details["causes"]] == fields
    assert {cause["reason"] for cause in error.details["causes"]} == {"FieldManagerConflict"}


def test_apply_with_the_same_value_shares_the_field():
    """Applying a value equal to the live one is no conflict."""
    live = managed.record_update(None, deployment(), "kubectl-client-side-apply", "apps/v1", NOW)
    applied = managed.apply(
        live, deployment(), "kubectl", force=False, now=LATER, kind="Deployment"
    )
    assert ".spec.replicas" in owners(applied)["kubectl/Apply"]
    assert ".spec.replicas" in owners(applied)["kubectl-client-side-apply/Update"]


def test_forced_apply_takes_the_fields_over():
    """With force, the applier wins and the other manager loses the conflicting fields."""
    live = managed.record_update(None, deployment(), "kubectl-client-side-apply", "apps/v1", NOW)
    applied = managed.apply(
        live, deployment(replicas=5), "kubectl", force=True, now=LATER, kind="Deployment"
    )
    assert applied["spec"]["replicas"] == 5
    assert ".spec.replicas" not in owners(applied)["kubectl-client-side-apply/Update"]


def test_conflict_message_groups_managers_in_order():
    """Conflicts with several managers: one block per manager, sorted."""
    apply_entry = Entry("jun", "Apply", "apps/v1", NOW)
    update_entry = Entry("alpha", "Update", "apps/v1", NOW)
    path = ("f:spec", "f:replicas")
    assert managed.conflict_message([(apply_entry, path), (update_entry, path)]) == (
        'Apply failed with 2 conflicts: conflicts with "alpha" using apps/v1:\n'
        "- .spec.replicas\n"
        'conflicts with "jun":\n'
        "- .spec.replicas"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param([], "must be an object", id="not an object"),
        pytest.param(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cm"}},
            "does not match the URL",
            id="another kind than the URL's",
        ),
        pytest.param(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}},
            "metadata.name is required",
            id="no name",
        ),
        pytest.param(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}},
            "does not match the name on the URL",
            id="another name than the URL's",
        ),
    ],
)
def test_bad_apply_configurations(body, message: str):
    """An apply body must be an object of the URL's kind and name."""
    with pytest.raises(managed.BadRequest) as raised:
        managed.configuration(body, "v1", "ConfigMap", "cm")
    assert message in raised.value.message


def test_configuration_drops_nulls_and_directives():
    """Nulls and $-directives in an apply configuration are not fields."""
    body = configmap({"a": None, "b": "1", "$patch": "replace"})
    assert managed.configuration(body, "v1", "ConfigMap", "cm")["data"] == {"b": "1"}
