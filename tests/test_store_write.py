"""The one write path: revisions, the change log, generation, conflicts, deletion, dry runs."""

from __future__ import annotations

import pytest

from cluster.models import Change, Deployment, Pod, Service
from cluster.store import notify, read, write
from cluster.store.errors import AlreadyExists, Conflict, Forbidden, Invalid, NotFound
from cluster.store.read import current_revision
from tests.builders import configmap, deployment, namespace, node, pod, service

pytestmark = pytest.mark.django_db


def changes_after(revision: int) -> list[Change]:
    return list(Change.objects.filter(revision__gt=revision).order_by("revision"))


def test_create_assigns_identity_revision_and_logs_added():
    """A created object gets a uid, generation 1, the next revision and an ADDED log row."""
    before = current_revision()
    created = write.create(deployment("web"), actor="tester")
    meta = created["metadata"]
    assert meta["resourceVersion"] == str(before + 1)
    assert meta["generation"] == 1
    assert len(meta["uid"]) == 36 and meta["creationTimestamp"].endswith("Z")
    [change] = changes_after(before)
    assert (
        change.revision,
        change.type,
        change.kind,
        change.namespace,
        change.name,
        change.actor,
    ) == (before + 1, "ADDED", "Deployment", "default", "web", "tester")
    assert change.object == created
    assert Deployment.objects.get(name="web").replicas == 2


def test_create_applies_api_defaults():
    """Defaults are applied on create as the apiserver does (strategy, history limit, protocol)."""
    created = write.create(deployment("web"))
    spec = created["spec"]
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["template"]["spec"]["restartPolicy"] == "Always"


def test_create_twice_is_already_exists_and_writes_nothing():
    """A second create of the same name is AlreadyExists (409) and leaves no trace."""
    write.create(configmap("settings", a="1"))
    before = current_revision()
    with pytest.raises(AlreadyExists) as raised:
        write.create(configmap("settings", a="2"))
    assert str(raised.value) == 'configmaps "settings" already exists'
    assert current_revision() == before and not changes_after(before)
    assert read.get("ConfigMap", "default", "settings")["data"] == {"a": "1"}


def test_create_in_missing_namespace_is_not_found():
    """Objects can only be created in a namespace that exists."""
    with pytest.raises(NotFound) as raised:
        write.create(configmap("x", namespace="nowhere"))
    assert str(raised.value) == 'namespaces "nowhere" not found'


def test_generate_name_makes_a_unique_name():
    """generateName gets five random characters appended."""
    obj = configmap("ignored")
    del obj["metadata"]["name"]
    obj["metadata"]["generateName"] = "cfg-"
    created = write.create(obj)
    assert created["metadata"]["name"].startswith("cfg-")
    assert len(created["metadata"]["name"]) == len("cfg-") + 5


def test_noop_update_changes_no_revision_and_logs_nothing():
    """Writing back what is stored bumps nothing and logs nothing."""
    created = write.create(deployment("web"))
    before = current_revision()
    again = write.update(created)
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert current_revision() == before and not changes_after(before)


def test_spec_change_bumps_generation_metadata_change_does_not():
    """generation moves only when the spec does; every change moves resourceVersion."""
    created = write.create(deployment("web"))
    labelled = write.patch(
        "deployments", "default", "web", {"metadata": {"labels": {"team": "shop"}}}
    )
    assert labelled["metadata"]["generation"] == 1
    assert int(labelled["metadata"]["resourceVersion"]) > int(
        created["metadata"]["resourceVersion"]
    )
    scaled = write.patch("deployments", "default", "web", {"spec": {"replicas": 5}})
    assert scaled["metadata"]["generation"] == 2
    assert Deployment.objects.get(name="web").replicas == 5


def test_stale_resource_version_is_a_conflict_and_writes_nothing():
    """An update carrying an old resourceVersion is refused (409) and the newer object stays."""
    created = write.create(deployment("web", replicas=2))
    newer = write.patch("deployments", "default", "web", {"spec": {"replicas": 3}})
    stale = dict(created, spec={**created["spec"], "replicas": 9})
    before = current_revision()
    with pytest.raises(Conflict) as raised:
        write.update(stale)
    assert str(raised.value) == (
        'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert raised.value.code == 409
    assert current_revision() == before
    assert read.get("deployments", "default", "web")["spec"]["replicas"] == 3
    assert newer["spec"]["replicas"] == 3


def test_invalid_update_is_rejected_whole():
    """A bad field fails the whole update: nothing of it is stored."""
    created = write.create(deployment("web"))
    bad = dict(created, spec={**created["spec"], "replicas": -1})
    bad["metadata"] = {**created["metadata"], "labels": {"new": "label"}}
    with pytest.raises(Invalid) as raised:
        write.update(bad)
    assert "spec.replicas: Invalid value: -1: must be greater than or equal to 0" in str(
        raised.value
    )
    stored = read.get("deployments", "default", "web")
    assert stored == created


def test_main_update_keeps_status_and_status_update_keeps_spec():
    """PUT ignores status; PUT .../status ignores everything but status (and keeps generation)."""
    created = write.create(deployment("web"))
    with_status = dict(created, status={"replicas": 2, "readyReplicas": 1})
    unchanged = write.update(with_status)
    assert unchanged["status"] == {} and unchanged == created

    status_only = dict(
        created, spec={**created["spec"], "replicas": 7}, status={"replicas": 2, "readyReplicas": 2}
    )
    updated = write.update_status(status_only, actor="deployment-controller")
    assert updated["spec"]["replicas"] == 2
    assert updated["status"] == {"replicas": 2, "readyReplicas": 2}
    assert updated["metadata"]["generation"] == 1
    assert Deployment.objects.get(name="web").ready_replicas == 2


def test_pod_status_is_reset_on_create():
    """A created pod starts Pending whatever status the client sent, with its QoS class."""
    obj = pod("p", cpu="100m")
    obj["status"] = {"phase": "Running"}
    created = write.create(obj)
    assert created["status"] == {"phase": "Pending", "qosClass": "Burstable"}
    assert Pod.objects.get(name="p").cpu_request == 100


def test_delete_removes_and_logs_deleted():
    """Deleting a plain object removes it with a DELETED row carrying the final state."""
    write.create(configmap("settings", a="1"))
    before = current_revision()
    gone = write.delete("configmaps", "default", "settings", actor="tester")
    [change] = changes_after(before)
    assert (change.type, change.revision, change.actor) == ("DELETED", before + 1, "tester")
    assert gone["metadata"]["resourceVersion"] == str(before + 1)
    with pytest.raises(NotFound):
        read.get("configmaps", "default", "settings")


def test_bound_pod_is_deleted_gracefully():
    """A pod on a node is only marked (deletionTimestamp, grace period); grace 0 removes it."""
    write.create(node("worker-1"))
    write.create(pod("p", node="worker-1"))
    marked = write.delete("pods", "default", "p")
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 30
    assert "deletionTimestamp" in marked["metadata"]
    assert Pod.objects.filter(name="p").exists()
    write.delete("pods", "default", "p", grace_period_seconds=0)
    assert not Pod.objects.filter(name="p").exists()


def test_unbound_pod_is_deleted_at_once():
    """A pod no node runs has nothing to wait for."""
    write.create(pod("p"))
    write.delete("pods", "default", "p")
    assert not Pod.objects.filter(name="p").exists()


def test_foreground_deletion_waits_for_its_finalizer():
    """Foreground propagation marks the owner with foregroundDeletion; removing the finalizer
    finishes the deletion."""
    write.create(deployment("web"))
    marked = write.delete("deployments", "default", "web", propagation="Foreground")
    assert marked["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert Deployment.objects.filter(name="web").exists()
    write.patch(
        "deployments",
        "default",
        "web",
        {"metadata": {"finalizers": None}},
        actor="garbage-collector",
    )
    assert not Deployment.objects.filter(name="web").exists()
    assert Change.objects.filter(kind="Deployment", name="web").last().type == "DELETED"


def test_namespace_deletion_terminates_and_refuses_new_content():
    """A deleted namespace turns Terminating and refuses new objects."""
    write.create(namespace("shop"))
    marked = write.delete("namespaces", "", "shop")
    assert marked["status"]["phase"] == "Terminating"
    with pytest.raises(Forbidden) as raised:
        write.create(configmap("x", namespace="shop"))
    assert "because it is being terminated" in str(raised.value)


def test_dry_run_writes_nothing_but_answers_like_the_real_write():
    """A dry run validates, defaults and allocates, then rolls everything back."""
    before = current_revision()
    answer = write.create(service("web"), dry_run=True)
    assert answer["spec"]["clusterIP"].startswith("10.96.")
    assert current_revision() == before
    assert not Service.objects.filter(name="web").exists()


def test_services_get_distinct_cluster_ips_and_node_ports():
    """Each Service gets its own cluster IP; NodePort services get a port in 30000-32767."""
    a = write.create(service("a"))
    b = write.create(service("b", type="NodePort"))
    assert a["spec"]["clusterIP"] != b["spec"]["clusterIP"]
    assert a["spec"]["clusterIP"] != "10.96.0.1"  # the kubernetes service's
    assert 30000 <= b["spec"]["ports"][0]["nodePort"] <= 32767
    again = write.update(b)  # an update keeps both
    assert again["spec"]["ports"][0]["nodePort"] == b["spec"]["ports"][0]["nodePort"]


def test_json_patch_and_merge_patch():
    """Both RFC patch formats go through the same validated path."""
    write.create(deployment("web"))
    patched = write.patch(
        "deployments",
        "default",
        "web",
        [{"op": "replace", "path": "/spec/replicas", "value": 4}],
        "json",
    )
    assert patched["spec"]["replicas"] == 4
    with pytest.raises(Invalid):
        write.patch("deployments", "default", "web", {"spec": {"replicas": -3}})
    assert read.get("deployments", "default", "web")["spec"]["replicas"] == 4


def test_revisions_are_consecutive():
    """Every write takes exactly the next revision: no gaps, even after refused writes."""
    start = current_revision()
    write.create(configmap("a"))
    with pytest.raises(AlreadyExists):
        write.create(configmap("a"))
    write.create(configmap("b"))
    write.delete("configmaps", "default", "a")
    assert [c.revision for c in changes_after(start)] == [start + 1, start + 2, start + 3]


@pytest.mark.django_db(transaction=True)
def test_subscribers_hear_only_committed_writes():
    """The post-commit hook fires once per committed write and never for a rolled-back one."""
    heard: list[notify.Changed] = []
    notify.subscribe(heard.append)
    try:
        write.create(configmap("kept"))
        with pytest.raises(Invalid):
            write.create(deployment("bad", replicas=-1))
        write.create(configmap("dry"), dry_run=True)
    finally:
        notify.unsubscribe(heard.append)
    assert [(c.type, c.name) for c in heard] == [("ADDED", "kept")]


def test_service_type_change_drops_fields_the_new_type_does_not_use():
    """NodePort -> ClusterIP drops the node ports and traffic policy instead of refusing them."""
    created = write.create(service("web", type="NodePort"))
    assert created["spec"]["ports"][0]["nodePort"]
    changed = write.patch("services", "default", "web", {"spec": {"type": "ClusterIP"}})
    assert "nodePort" not in changed["spec"]["ports"][0]
    assert "externalTrafficPolicy" not in changed["spec"]
    assert changed["spec"]["clusterIP"] == created["spec"]["clusterIP"]


def test_service_names_must_start_with_a_letter():
    """Service names are DNS-1035 labels."""
    with pytest.raises(Invalid) as raised:
        write.create(service("1web"))
    assert 'metadata.name: Invalid value: "1web": a DNS-1035 label' in str(raised.value)
