"""The Django admin: every kind listed and edited, every save through the one write path."""

from __future__ import annotations

import base64
import copy
from typing import Any
from unittest import mock

import pytest
import yaml
from django import forms
from django.contrib.admin.models import CHANGE, LogEntry
from django.urls import reverse

from cluster import forms as admin_forms
from cluster.models import Change
from cluster.store import read, write
from cluster.store.bootstrap import ensure_system_objects
from cluster.store.errors import Conflict, FieldError
from cluster.store.kinds import KINDS, Column, by_kind
from cluster.store.read import current_revision

ACTOR = "admin:admin"  # pytest-django's admin_client logs in as "admin"


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def cluster(db):
    """A fresh cluster: the system namespaces and the kubernetes Service."""
    ensure_system_objects()


def url(kind: str, view: str, *args: Any) -> str:
    return reverse(f"admin:cluster_{kind.lower()}_{view}", args=args)


def template(kind: str, **metadata: Any) -> dict:
    obj = admin_forms.manifest_template(by_kind(kind))
    obj["metadata"].update(metadata)
    return obj


def deployment(name: str = "web", replicas: int = 3) -> dict:
    obj = template("Deployment", name=name)
    obj["spec"]["replicas"] = replicas
    return obj


def row_of(kind: str, name: str, namespace: str = "default"):
    k = by_kind(kind)
    return k.model.objects.get(name=name, namespace=namespace if k.namespaced else "")


def change_url(kind: str, name: str, namespace: str = "default") -> str:
    return url(kind, "change", row_of(kind, name, namespace).pk)


def loaded_form_data(client, change_page: str) -> dict[str, Any]:
    """What a browser would post back from the change page, untouched."""
    response = client.get(change_page)
    assert response.status_code == 200
    form = response.context["adminform"].form
    data: dict[str, Any] = {"_save": "Save"}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    return data


def edit_manifest(data: dict[str, Any], change) -> dict[str, Any]:
    obj = yaml.safe_load(data[admin_forms.MANIFEST])
    change(obj)
    return {**data, admin_forms.MANIFEST: admin_forms.dump_manifest(obj)}


def changes_after(revision: int) -> list[Change]:
    return list(Change.objects.filter(revision__gt=revision).order_by("revision"))


def form_errors(response) -> dict[str, list[str]]:
    return {k: list(v) for k, v in response.context["adminform"].form.errors.items()}


# --- lists -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [pytest.param(k.kind, id=k.kind) for k in KINDS])
def test_every_kind_lists_and_opens(cluster, admin_client, kind):
    """Every kind has a changelist and a change form that render an object written through
    the store."""
    created = write.create(template(kind), actor="tester")
    name = created["metadata"]["name"]

    listing = admin_client.get(url(kind, "changelist"))
    assert listing.status_code == 200
    assert name in listing.content.decode()

    page = admin_client.get(change_url(kind, name))
    assert page.status_code == 200
    manifest = page.context["adminform"].form.initial[admin_forms.MANIFEST]
    assert yaml.safe_load(manifest)["kind"] == kind


def test_change_log_lists_and_opens(cluster, admin_client):
    """The change log lists revisions and shows each one, read-only."""
    write.create(deployment(), actor="tester")
    change = Change.objects.get(kind="Deployment", name="web")
    listing = admin_client.get(url("change", "changelist"), {"kind": "Deployment"})
    assert listing.status_code == 200
    assert "tester" in listing.content.decode()
    page = admin_client.get(url("change", "change", change.pk))
    assert page.status_code == 200
    assert "kind: Deployment" in page.content.decode()


@pytest.mark.parametrize(
    "kind, obj, status, shown",
    [
        pytest.param(
            "Deployment",
            deployment(replicas=3),
            {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3},
            ["2/3", "nginx:1.27"],
            id="deployment ready out of desired, image",
        ),
        pytest.param(
            "Pod",
            {
                **template("Pod", name="web-1"),
                "spec": {**template("Pod")["spec"], "nodeName": "node-a"},
            },
            {
                "phase": "Running",
                "podIP": "10.244.1.7",
                "containerStatuses": [
                    {
                        "name": "app",
                        "ready": True,
                        "restartCount": 0,
                        "state": {"running": {"startedAt": "2025-01-01T00:00:00Z"}},
                    }
                ],
            },
            ["1/1", "Running", "node-a", "10.244.1.7"],
            id="pod ready, status, node and IP",
        ),
        pytest.param(
            "Pod",
            template("Pod", name="crashy"),
            {
                "phase": "Running",
                "containerStatuses": [
                    {
                        "name": "app",
                        "ready": False,
                        "restartCount": 4,
                        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    }
                ],
            },
            ["0/1", "CrashLoopBackOff"],
            id="pod waiting reason as status",
        ),
    ],
)
def test_changelist_shows_kubectl_columns(cluster, admin_client, kind, obj, status, shown):
    """List columns are kubectl's cells: ready/desired replicas, pod status, node, IP, image."""
    created = write.create(obj, actor="tester")
    write.update_status({**created, "status": status}, actor="tester")
    content = admin_client.get(url(kind, "changelist")).content.decode()
    for text in shown:
        assert f">{text}<" in content


def test_service_list_shows_type_and_cluster_ip(cluster, admin_client):
    """Services list their type, cluster IP and ports like kubectl get svc."""
    created = write.create(template("Service"), actor="tester")
    content = admin_client.get(url("Service", "changelist")).content.decode()
    assert f">{created['spec']['clusterIP']}<" in content
    assert ">ClusterIP<" in content and ">80/TCP<" in content


def test_secret_values_never_in_list(cluster, admin_client):
    """A Secret's list row shows its type and key count, never a value; its manifest shows the
    data base64-encoded, as stored."""
    encoded = base64.b64encode(b"hunter2").decode()
    secret = template("Secret", name="db")
    secret["data"] = {"password": encoded, "user": base64.b64encode(b"root").decode()}
    write.create(secret, actor="tester")

    listing = admin_client.get(url("Secret", "changelist")).content.decode()
    assert "hunter2" not in listing and encoded not in listing
    assert ">Opaque<" in listing and ">2<" in listing

    page = admin_client.get(change_url("Secret", "db")).content.decode()
    assert encoded in page and "hunter2" not in page


@pytest.mark.parametrize(
    "search, found, missed",
    [
        pytest.param("web", ["web"], ["api"], id="by name"),
        pytest.param("app=api", ["api"], ["web"], id="label key=value"),
        pytest.param("tier", ["web", "api"], [], id="label text"),
    ],
)
def test_search_by_name_and_labels(cluster, admin_client, search, found, missed):
    """Search matches names and label text; a key=value term matches one label exactly."""
    for name in ("web", "api"):
        obj = template("ConfigMap", name=name, labels={"app": name, "tier": "backend"})
        write.create(obj, actor="tester")
    response = admin_client.get(url("ConfigMap", "changelist"), {"q": search})
    names = {row.name for row in response.context["cl"].result_list}
    assert names == set(found) and not names & set(missed)


# --- editing ---------------------------------------------------------------------------------


def test_edit_replicas_writes_through_the_store(cluster, admin_client):
    """Editing replicas sets spec.replicas, bumps generation and logs exactly one change by
    admin:<user>; the real save is write.update, never Model.save()."""
    write.create(deployment(replicas=3), actor="tester")
    page = change_url("Deployment", "web")
    data = loaded_form_data(admin_client, page)
    before = current_revision()

    with mock.patch.object(write, "update", wraps=write.update) as update:
        response = admin_client.post(page, {**data, "replicas": "5"})

    assert response.status_code == 302
    stored = read.get("Deployment", "default", "web")
    assert stored["spec"]["replicas"] == 5
    assert stored["metadata"]["generation"] == 2
    [change] = changes_after(before)
    assert (change.type, change.actor, change.object["spec"]["replicas"]) == ("MODIFIED", ACTOR, 5)
    real = [c for c in update.call_args_list if not c.kwargs.get("dry_run")]
    assert len(real) == 1 and real[0].kwargs["actor"] == ACTOR
    entry = LogEntry.objects.get(object_id=str(row_of("Deployment", "web").pk))
    assert entry.action_flag == CHANGE


@pytest.mark.parametrize(
    "kind, field, value, path, expected",
    [
        pytest.param(
            "Deployment",
            "image",
            "nginx:1.28",
            ("spec", "template", "spec", "containers", 0, "image"),
            "nginx:1.28",
            id="deployment image",
        ),
        pytest.param(
            "Deployment", "paused", "on", ("spec", "paused"), True, id="deployment paused"
        ),
        pytest.param(
            "StatefulSet", "replicas", "4", ("spec", "replicas"), 4, id="statefulset replicas"
        ),
        pytest.param(
            "Pod",
            "image",
            "nginx:1.28",
            ("spec", "containers", 0, "image"),
            "nginx:1.28",
            id="pod image",
        ),
        pytest.param(
            "Node", "unschedulable", "on", ("spec", "unschedulable"), True, id="node cordoned"
        ),
        pytest.param(
            "Service", "type", "NodePort", ("spec", "type"), "NodePort", id="service type"
        ),
        pytest.param(
            "HorizontalPodAutoscaler",
            "max_replicas",
            "7",
            ("spec", "maxReplicas"),
            7,
            id="hpa max replicas",
        ),
        pytest.param(
            "Ingress",
            "ingress_class_name",
            "nginx",
            ("spec", "ingressClassName"),
            "nginx",
            id="ingress class",
        ),
    ],
)
def test_editable_columns_write_to_their_paths(
    cluster, admin_client, kind, field, value, path, expected
):
    """Each editable column is a form field whose value is written at the column's path."""
    created = write.create(template(kind), actor="tester")
    name = created["metadata"]["name"]
    page = change_url(kind, name)
    data = loaded_form_data(admin_client, page)

    response = admin_client.post(page, {**data, field: value})

    assert response.status_code == 302, form_errors(response)
    stored: Any = read.get(kind, "default", name)
    for step in path:
        stored = stored[step]
    assert stored == expected
    assert getattr(row_of(kind, name), field) == expected


def test_unchecking_a_flag_removes_the_field(cluster, admin_client):
    """Uncordoning in the admin removes spec.unschedulable, as kubectl uncordon leaves it."""
    node = template("Node")
    node["spec"]["unschedulable"] = True
    write.create(node, actor="tester")
    page = change_url("Node", "node-example")
    data = loaded_form_data(admin_client, page)
    data.pop("unschedulable")

    assert admin_client.post(page, data).status_code == 302
    assert "unschedulable" not in read.get("Node", "", "node-example")["spec"]


def test_yaml_edit_saves_everything_else(cluster, admin_client):
    """The manifest edits what has no field (labels, a container's env); an untouched field
    does not undo the YAML's own change of its path."""
    write.create(deployment(replicas=3), actor="tester")
    page = change_url("Deployment", "web")

    def change(obj: dict) -> None:
        obj["metadata"]["labels"] = {"team": "blue"}
        obj["spec"]["replicas"] = 6
        obj["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "A", "value": "1"}]

    data = edit_manifest(loaded_form_data(admin_client, page), change)
    response = admin_client.post(page, data)

    assert response.status_code == 302, form_errors(response)
    stored = read.get("Deployment", "default", "web")
    assert stored["metadata"]["labels"] == {"team": "blue"}
    assert stored["spec"]["replicas"] == 6
    assert stored["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "A", "value": "1"}
    ]


def test_unchanged_form_writes_nothing(cluster, admin_client):
    """Saving the form untouched (browser CRLF line endings and all) writes no revision."""
    write.create(deployment(), actor="tester")
    page = change_url("Deployment", "web")
    data = loaded_form_data(admin_client, page)
    data[admin_forms.MANIFEST] = data[admin_forms.MANIFEST].replace("\n", "\r\n")
    before = current_revision()

    assert admin_client.post(page, data).status_code == 302
    assert current_revision() == before and not changes_after(before)


def test_invalid_edit_shows_the_kubernetes_message(cluster, admin_client):
    """replicas -1 is refused with the apiserver's words on the replicas field; nothing is
    written."""
    write.create(deployment(replicas=3), actor="tester")
    page = change_url("Deployment", "web")
    data = loaded_form_data(admin_client, page)
    stored = read.get("Deployment", "default", "web")
    before = current_revision()

    response = admin_client.post(page, {**data, "replicas": "-1"})

    assert response.status_code == 200
    message = "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    assert form_errors(response) == {"replicas": [message]}
    assert message in response.content.decode()
    assert not changes_after(before)
    assert read.get("Deployment", "default", "web") == stored


@pytest.mark.parametrize(
    "change, message",
    [
        pytest.param(
            lambda text: "spec: [unclosed", "The manifest is not valid YAML", id="not YAML"
        ),
        pytest.param(
            lambda text: text + "---\nkind: ConfigMap\n",
            "The manifest must hold one object, not 2.",
            id="two documents",
        ),
        pytest.param(
            lambda text: "- a list\n", "The manifest must be a mapping", id="not a mapping"
        ),
        pytest.param(
            lambda text: text.replace("kind: Deployment", "kind: StatefulSet"),
            "This object is a Deployment: the manifest must keep apiVersion: apps/v1 "
            "and kind: Deployment.",
            id="kind changed",
        ),
        pytest.param(
            lambda text: text.replace("name: web\n", "name: other\n", 1),
            "the name of the object (other) does not match the name on the URL (web)",
            id="renamed",
        ),
        pytest.param(
            lambda text: text.replace("namespace: default", "namespace: kube-system"),
            "the namespace of the provided object does not match the namespace sent on the request",
            id="moved to another namespace",
        ),
    ],
)
def test_manifest_errors_land_on_the_manifest(cluster, admin_client, change, message):
    """Problems with the YAML itself are shown on the manifest field; nothing is written."""
    write.create(deployment(), actor="tester")
    page = change_url("Deployment", "web")
    data = loaded_form_data(admin_client, page)
    before = current_revision()

    response = admin_client.post(
        page, {**data, admin_forms.MANIFEST: change(data[admin_forms.MANIFEST])}
    )

    assert response.status_code == 200
    errors = form_errors(response)
    assert list(errors) == [admin_forms.MANIFEST]
    assert message in errors[admin_forms.MANIFEST][0]
    assert not changes_after(before)


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda data: {**data, "replicas": "5"}, id="field edited"),
        pytest.param(
            lambda data: edit_manifest(data, lambda obj: obj["metadata"].update(labels={"x": "y"})),
            id="YAML edited",
        ),
        pytest.param(lambda data: data, id="nothing edited"),
    ],
)
def test_stale_edit_is_refused_as_a_conflict(cluster, admin_client, edit):
    """A form loaded before someone else's write is refused with the conflict message; the
    newer write survives and nothing more is logged."""
    write.create(deployment(replicas=3), actor="tester")
    page = change_url("Deployment", "web")
    data = loaded_form_data(admin_client, page)
    loaded = data[admin_forms.LOADED_RESOURCE_VERSION]
    newer = read.get("Deployment", "default", "web")
    newer["spec"]["replicas"] = 4
    newer = write.update(newer, actor="someone-else")
    current = newer["metadata"]["resourceVersion"]
    before = current_revision()

    response = admin_client.post(page, edit(data))

    assert response.status_code == 200
    expected = (
        f"This object was changed by someone else since you opened it (resourceVersion "
        f"{loaded}, now {current}). Reload the page to see the current version; your edit was "
        f"not saved."
    )
    assert form_errors(response) == {"__all__": [expected]}
    assert read.get("Deployment", "default", "web") == newer
    assert not changes_after(before)


def test_write_race_after_a_passing_dry_run_is_shown_on_the_form(cluster, admin_client):
    """If another writer commits between the dry run and the write, the write's Conflict is
    not a server error: the form is validated again and shows the conflict."""
    write.create(deployment(replicas=3), actor="tester")
    page = change_url("Deployment", "web")
    data = loaded_form_data(admin_client, page)
    real_update = write.update
    racer: list[str] = []

    def update(obj, **kwargs):
        if not kwargs.get("dry_run") and not racer:
            # The racer's commit lands now; it survives our rollback because, seen from
            # here, it is replayed right after it (on the retry's first store call).
            racer.append("pending")
            raise Conflict("deployments", "apps", "web")
        if racer == ["pending"]:
            current = read.get("Deployment", "default", "web")
            current["spec"]["replicas"] = 9
            real_update(current, actor="racer")
            racer[0] = "done"
        return real_update(obj, **kwargs)

    with mock.patch.object(write, "update", side_effect=update):
        response = admin_client.post(page, {**data, "replicas": "5"})

    assert response.status_code == 200
    assert "was changed by someone else" in form_errors(response)["__all__"][0]
    assert read.get("Deployment", "default", "web")["spec"]["replicas"] == 9


def test_view_only_staff_see_the_manifest_but_cannot_save(cluster, client, django_user_model):
    """Someone with only the view permission sees the manifest read-only and cannot post."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_deployment"))
    client.force_login(user)
    write.create(deployment(), actor="tester")
    page = change_url("Deployment", "web")

    content = client.get(page).content.decode()

    assert "<pre>apiVersion: apps/v1" in content
    assert "<textarea" not in content and 'name="loaded_resource_version"' not in content
    assert client.post(page, {"replicas": "9"}).status_code == 403


# --- adding ----------------------------------------------------------------------------------


def test_add_from_yaml_creates_through_the_store(cluster, admin_client):
    """The add form's YAML is created by write.create, logged as ADDED by admin:<user>."""
    before = current_revision()
    manifest = admin_forms.dump_manifest(template("ConfigMap", name="settings"))

    response = admin_client.post(
        url("ConfigMap", "add"), {admin_forms.MANIFEST: manifest, "_save": "Save"}
    )

    assert response.status_code == 302
    assert response["Location"] == url("ConfigMap", "changelist")
    [change] = changes_after(before)
    assert (change.type, change.kind, change.name, change.actor) == (
        "ADDED",
        "ConfigMap",
        "settings",
        ACTOR,
    )
    assert read.get("ConfigMap", "default", "settings")["data"] == {"greeting": "hello"}


@pytest.mark.parametrize("kind", [pytest.param(k.kind, id=k.kind) for k in KINDS])
def test_add_form_template_is_accepted(cluster, admin_client, kind):
    """Every kind's add form starts from a template the store accepts as it stands."""
    page = admin_client.get(url(kind, "add"))
    assert page.status_code == 200
    manifest = page.context["adminform"].form[admin_forms.MANIFEST].value()

    response = admin_client.post(
        url(kind, "add"), {admin_forms.MANIFEST: manifest, "_continue": "1"}
    )

    assert response.status_code == 302, form_errors(response)
    name = yaml.safe_load(manifest)["metadata"]["name"]
    assert response["Location"] == change_url(kind, name)


@pytest.mark.parametrize(
    "manifest, message",
    [
        pytest.param(
            template("Pod", name="p"), "This form creates ConfigMap objects", id="another kind"
        ),
        pytest.param(
            template("ConfigMap", name="kube-root"),
            'configmaps "kube-root" already exists',
            id="already exists",
        ),
        pytest.param(
            template("ConfigMap", name="c", namespace="nowhere"),
            'namespaces "nowhere" not found',
            id="missing namespace",
        ),
    ],
)
def test_add_refusals_create_nothing(cluster, admin_client, manifest, message):
    """An add the store refuses shows why on the manifest and creates nothing."""
    write.create(template("ConfigMap", name="kube-root"), actor="tester")
    before = current_revision()

    response = admin_client.post(
        url("ConfigMap", "add"),
        {admin_forms.MANIFEST: admin_forms.dump_manifest(manifest), "_save": "Save"},
    )

    assert response.status_code == 200
    assert message in form_errors(response)[admin_forms.MANIFEST][0]
    assert current_revision() == before


# --- deleting --------------------------------------------------------------------------------


def test_delete_goes_through_the_store(cluster, admin_client):
    """Deleting in the admin is write.delete: a DELETED change by admin:<user>."""
    write.create(template("ConfigMap", name="settings"), actor="tester")
    before = current_revision()

    response = admin_client.post(
        url("ConfigMap", "delete", row_of("ConfigMap", "settings").pk), {"post": "yes"}
    )

    assert response.status_code == 302
    [change] = changes_after(before)
    assert (change.type, change.name, change.actor) == ("DELETED", "settings", ACTOR)
    assert not by_kind("ConfigMap").model.objects.filter(name="settings").exists()


def test_bulk_delete_goes_through_the_store(cluster, admin_client):
    """The delete-selected action deletes each object through write.delete."""
    for name in ("a", "b"):
        write.create(template("ConfigMap", name=name), actor="tester")
    pks = [row_of("ConfigMap", name).pk for name in ("a", "b")]
    before = current_revision()

    response = admin_client.post(
        url("ConfigMap", "changelist"),
        {"action": "delete_selected", "_selected_action": pks, "post": "yes"},
    )

    assert response.status_code == 302
    assert {(c.type, c.name, c.actor) for c in changes_after(before)} == {
        ("DELETED", "a", ACTOR),
        ("DELETED", "b", ACTOR),
    }


def test_deleting_a_running_pod_is_graceful(cluster, admin_client):
    """A pod bound to a node is only marked for deletion (its kubelet finishes the job), and
    the admin says so."""
    pod = template("Pod", name="web-1")
    pod["spec"]["nodeName"] = "node-a"
    write.create(pod, actor="tester")

    response = admin_client.post(
        url("Pod", "delete", row_of("Pod", "web-1").pk), {"post": "yes"}, follow=True
    )

    assert row_of("Pod", "web-1").deletion_timestamp is not None
    shown = [str(m) for m in response.context["messages"]]
    assert any("is terminating" in m for m in shown)


# --- the change log is read-only -------------------------------------------------------------


@pytest.mark.parametrize(
    "method, view, with_pk",
    [
        pytest.param("get", "add", False, id="add"),
        pytest.param("post", "add", False, id="add posted"),
        pytest.param("post", "change", True, id="change"),
        pytest.param("post", "delete", True, id="delete"),
    ],
)
def test_change_log_refuses_writes(cluster, admin_client, method, view, with_pk):
    """The change log admin has no add, change or delete."""
    write.create(template("ConfigMap", name="settings"), actor="tester")
    change = Change.objects.get(kind="ConfigMap", name="settings")
    args = (change.pk,) if with_pk else ()

    response = getattr(admin_client, method)(
        url("change", view, *args), {"actor": "forged", "post": "yes"}
    )

    assert response.status_code == 403
    assert Change.objects.get(pk=change.pk).actor == "tester"


def test_change_log_has_no_bulk_delete(cluster, admin_client):
    """The change log's list offers no delete action."""
    response = admin_client.get(url("change", "changelist"))
    assert response.status_code == 200
    assert "delete_selected" not in response.content.decode()


# --- pure parts of the forms ------------------------------------------------------------------


@pytest.mark.parametrize(
    "obj, path, value, expected",
    [
        pytest.param(
            {"spec": {"replicas": 1}},
            "spec.replicas",
            5,
            {"spec": {"replicas": 5}},
            id="plain path",
        ),
        pytest.param(
            {}, "spec.paused", True, {"spec": {"paused": True}}, id="missing parents are created"
        ),
        pytest.param(
            {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]
                        }
                    }
                }
            },
            "spec.template.spec.containers[0].image",
            "z",
            {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [{"name": "a", "image": "z"}, {"name": "b", "image": "y"}]
                        }
                    }
                }
            },
            id="first container only",
        ),
        pytest.param(
            {"spec": {}},
            "spec.containers[0].image",
            "z",
            {"spec": {"containers": [{"image": "z"}]}},
            id="missing list item created",
        ),
    ],
)
def test_set_path(obj, path, value, expected):
    """set_path writes at a dotted path with list indexes, creating what is missing."""
    obj = copy.deepcopy(obj)
    admin_forms.set_path(obj, path, value)
    assert obj == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        pytest.param(True, {"spec": {"unschedulable": True, "podCIDR": "x"}}, id="true is set"),
        pytest.param(False, {"spec": {"podCIDR": "x"}}, id="false is omitted"),
        pytest.param("", {"spec": {"podCIDR": "x"}}, id="empty is omitted"),
    ],
)
def test_apply_column_omits_empty_values(value, expected):
    """An edited column is written at its path; false and empty values are omitted, as Go's
    omitempty writes them."""
    obj = {"spec": {"unschedulable": True, "podCIDR": "x"}}
    admin_forms.apply_column(obj, Column("unschedulable", "spec.unschedulable", False), value)
    assert obj == expected


@pytest.mark.parametrize(
    "error, expected",
    [
        pytest.param(
            FieldError.invalid("spec.replicas", -1, "must be ..."),
            "replicas",
            id="a shown column's path",
        ),
        pytest.param(
            FieldError.required("spec.template.spec.containers[0].image"),
            "image",
            id="the image column's path",
        ),
        pytest.param(FieldError.required("spec.selector"), "manifest", id="no column"),
        pytest.param(
            FieldError.invalid("spec.replicasX", 1, "x"), "manifest", id="a prefix is not a match"
        ),
    ],
)
def test_error_target(error, expected):
    """A field error lands on the form field of the column projecting its path, else on the
    manifest."""
    kind = by_kind("Deployment")
    columns = admin_forms.editable_columns(kind, extra=("image",))
    assert admin_forms.error_target(error, columns) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(
            "metadata:\n  creationTimestamp: 2024-05-01T10:00:00Z\n",
            {"metadata": {"creationTimestamp": "2024-05-01T10:00:00Z"}},
            id="timestamps stay strings",
        ),
        pytest.param(
            "data:\n  on: yes\n  2: x\n",
            {"data": {"true": True, "2": "x"}},
            id="keys become JSON strings",
        ),
        pytest.param("---\nkind: Pod\n---\n", {"kind": "Pod"}, id="empty documents ignored"),
    ],
)
def test_load_manifest(text, expected):
    """Manifests load as JSON-compatible mappings, the way Kubernetes reads YAML as JSON."""
    assert admin_forms.load_manifest(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("kind: Pod\n---\nkind: Pod\n", id="two objects"),
        pytest.param("just text", id="a scalar"),
        pytest.param("data: !!binary aGk=\n", id="binary is not JSON"),
    ],
)
def test_load_manifest_refuses(text):
    """Anything but one mapping JSON can hold is refused."""
    with pytest.raises(admin_forms.ManifestError):
        admin_forms.load_manifest(text)


def test_dump_manifest_keeps_the_object_order():
    """The manifest lists apiVersion, kind, metadata, spec in the object's own order."""
    text = admin_forms.dump_manifest(template("Deployment"))
    assert text.splitlines()[:3] == ["apiVersion: apps/v1", "kind: Deployment", "metadata:"]


def test_manifest_field_ignores_line_endings():
    """A manifest posted back with CRLF line endings has not changed."""
    field = admin_forms.ManifestField()
    assert not field.has_changed("a: 1\nb: 2\n", "a: 1\r\nb: 2\r\n")
    assert field.has_changed("a: 1\n", "a: 2\n")


def test_every_kind_is_registered():
    """Every kind of the registry has an admin, and so has the change log."""
    from django.contrib import admin

    registered = {model.__name__ for model in admin.site._registry}
    assert {k.model_name for k in KINDS} | {"Change"} <= registered
