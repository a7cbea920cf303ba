"""The control plane against a real Celery worker with beat, a real Redis and the test database.

Every test writes through the store (as kubectl or the dashboard would), then waits for the
cluster to reach the state Kubernetes would reach. Invariants of a rollout are checked over the
change log, which records every state the cluster passed through, not by sampling.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster import manifests
from cluster.models import (
    Change,
    Deployment,
    Event,
    Node,
    PersistentVolumeClaim,
    Pod,
    ReplicaSet,
    Service,
    TrafficFlow,
)
from cluster.store import read, write
from tests.builders import deployment, namespace, node

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(autouse=True)
def settle(control_plane, transactional_db):
    """After each test, let the control plane go quiet before the database is flushed."""
    control_plane.begin()
    yield
    control_plane.quiesce()


# Generous: these waits end as soon as the cluster gets there; only a failure waits this long.
TIMEOUT = 180.0


def ready_pods(ns: str, **labels: str) -> list[Pod]:
    pods = Pod.objects.filter(
        namespace=ns, phase="Running", ready=True, deletion_timestamp__isnull=True
    )
    return [p for p in pods if all(p.labels.get(k) == v for k, v in labels.items())]


def set_image(deployment_name: str, image: str) -> dict:
    """``kubectl set image deployment/<name> main=<image>`` in the default namespace."""
    return write.patch(
        "deployments",
        "default",
        deployment_name,
        {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": image}]}}}},
    )


def nodes(*names: str, cpu: str = "4") -> None:
    for name in names:
        write.create(node(name, cpu=cpu))


def test_demo_cluster_comes_up(control_plane, wait_for):
    """The examples come up: every pod Running and Ready, claims bound, a load-balancer IP."""
    manifests.apply(manifests.load_paths([EXAMPLES]))
    wait_for(
        lambda: len(ready_pods("shop")) == 5 and len(ready_pods("data")) == 3,
        timeout=TIMEOUT,
        interval=0.5,
    )
    assert all(p.node_name.startswith("worker") for p in Pod.objects.all())
    assert set(PersistentVolumeClaim.objects.values_list("phase", flat=True)) == {"Bound"}
    wait_for(
        lambda: read.get("services", "shop", "frontend")["status"]["loadBalancer"].get("ingress"),
        timeout=TIMEOUT,
    )
    endpoints = wait_for(
        lambda: read.get("endpoints", "shop", "frontend").get("subsets"), timeout=TIMEOUT
    )
    assert len(endpoints[0]["addresses"]) == 3
    reasons = set(Change.objects.filter(kind="Event").values_list("object__reason", flat=True))
    assert {
        "Scheduled",
        "Pulling",
        "Pulled",
        "Created",
        "Started",
        "SuccessfulCreate",
        "ScalingReplicaSet",
    } <= reasons


def test_a_deleted_pod_is_replaced(control_plane, wait_for):
    """The ReplicaSet replaces a pod that is deleted: the replacement is made as soon as the
    pod is marked for deletion (a terminating pod no longer counts), and the pod itself goes
    once its kubelet has stopped its containers. Which of the two comes first is a race, as in
    Kubernetes: the test waits for both."""
    nodes("n1", "n2")
    write.create(deployment("web", replicas=3))
    wait_for(lambda: len(ready_pods("default", app="web")) == 3, timeout=TIMEOUT)
    before = {p.name for p in ready_pods("default", app="web")}
    victim = sorted(before)[0]
    write.delete("pods", "default", victim)
    wait_for(
        lambda: (
            not Pod.objects.filter(name=victim).exists()
            and len(ready_pods("default", app="web")) == 3
        ),
        timeout=TIMEOUT,
    )
    replacement = {p.name for p in ready_pods("default", app="web")} - before
    assert len(replacement) == 1 and victim not in replacement


def test_pods_of_a_stopped_kubelet_move_elsewhere(control_plane, wait_for):
    """A node whose kubelet stops goes Unknown, is tainted unreachable, and its pods are evicted
    after their toleration and recreated on another node."""
    nodes("n1", "n2")
    write.create(deployment("web", replicas=4))
    wait_for(lambda: len(ready_pods("default", app="web")) == 4, timeout=TIMEOUT)
    lost = {p.name for p in ready_pods("default", app="web") if p.node_name == "n1"}
    if not lost:  # everything landed on n2: stop that one instead
        stopped, survivor = "n2", "n1"
    else:
        stopped, survivor = "n1", "n2"
    write.patch(
        "nodes", "", stopped, {"metadata": {"annotations": {"kubarium.io/kubelet-stopped": "true"}}}
    )
    control_plane.set_speed(100)
    wait_for(lambda: Node.objects.get(name=stopped).ready == "Unknown", timeout=TIMEOUT)

    def unreachable() -> bool:
        taints = read.get("nodes", "", stopped)["spec"].get("taints") or []
        return any(
            t["key"] == "node.kubernetes.io/unreachable" and t["effect"] == "NoExecute"
            for t in taints
        )

    wait_for(unreachable, timeout=TIMEOUT)
    wait_for(
        lambda: (
            {p.node_name for p in ready_pods("default", app="web")} == {survivor}
            and len(ready_pods("default", app="web")) == 4
        ),
        timeout=TIMEOUT,
    )
    control_plane.set_speed(20)


def _fewest_ready_over_log(ns: str, app: str, since: int) -> int:
    """Replay the change log of the app's pods from ``since``: the fewest ready at any revision."""
    state: dict[str, bool] = {}
    for change in Change.objects.filter(kind="Pod", namespace=ns, revision__lte=since):
        state[change.name] = _pod_state(change)[0]
    fewest = 10**9
    for change in Change.objects.filter(kind="Pod", namespace=ns, revision__gt=since):
        if change.object["metadata"].get("labels", {}).get("app") != app:
            continue
        state[change.name] = _pod_state(change)[0]
        fewest = min(fewest, sum(state.values()))
    return fewest


def _most_replicas_over_log(ns: str, owner_uid: str, since: int) -> int:
    """Replay the Deployment's ReplicaSets from ``since``: the largest sum of their
    spec.replicas at any revision (what maxSurge bounds: pods of a ReplicaSet being scaled down
    may linger a moment, as in Kubernetes)."""
    replicas: dict[str, int] = {}
    most = 0
    for change in Change.objects.filter(kind="ReplicaSet", namespace=ns).order_by("revision"):
        owners = change.object["metadata"].get("ownerReferences") or []
        if not any(o.get("uid") == owner_uid for o in owners):
            continue
        gone = change.type == "DELETED"
        replicas[change.name] = 0 if gone else change.object["spec"].get("replicas", 0)
        if change.revision > since:
            most = max(most, sum(replicas.values()))
    return most


def _pod_state(change: Change) -> tuple[bool, bool]:
    if change.type == "DELETED":
        return (False, False)
    obj = change.object
    terminating = bool(obj["metadata"].get("deletionTimestamp"))
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in obj.get("status", {}).get("conditions") or []
    )
    return (ready and not terminating, not terminating)


def test_rolling_update_keeps_availability(control_plane, wait_for):
    """A rolling update never has fewer than replicas - maxUnavailable ready pods, nor more than
    replicas + maxSurge pods, at any revision of the change log."""
    nodes("n1", "n2")
    obj = deployment("web", replicas=4)
    obj["spec"]["strategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1},
    }
    write.create(obj)
    wait_for(lambda: len(ready_pods("default", app="web")) == 4, timeout=TIMEOUT)
    updated = set_image("web", "nginx:1.28")
    started = int(updated["metadata"]["resourceVersion"])

    def complete() -> bool:
        d = read.get("deployments", "default", "web")
        status = d.get("status", {})
        return (
            status.get("observedGeneration") == d["metadata"]["generation"]
            and status.get("updatedReplicas") == 4
            and status.get("availableReplicas") == 4
            and status.get("replicas") == 4
        )

    wait_for(complete, timeout=TIMEOUT)
    assert {p.image for p in ready_pods("default", app="web")} == {"nginx:1.28"}
    fewest = _fewest_ready_over_log("default", "web", started)
    assert fewest >= 3, f"ready pods fell to {fewest}"
    most = _most_replicas_over_log("default", updated["metadata"]["uid"], started)
    assert most <= 5, f"the ReplicaSets asked for {most} pods at once"
    progressing = next(
        c
        for c in read.get("deployments", "default", "web")["status"]["conditions"]
        if c["type"] == "Progressing"
    )
    assert progressing["reason"] == "NewReplicaSetAvailable"


def test_recreate_starts_no_new_pod_while_an_old_one_exists(control_plane, wait_for):
    """Recreate: every old pod is gone (deleted, not just terminating) before the first pod of
    the new template is created, at every revision of the change log."""
    nodes("n1", "n2")
    obj = deployment("web", replicas=3)
    obj["spec"]["strategy"] = {"type": "Recreate"}
    write.create(obj)
    wait_for(lambda: len(ready_pods("default", app="web")) == 3, timeout=TIMEOUT)
    old = set(Pod.objects.filter(app_filter("web")).values_list("name", flat=True))
    updated = set_image("web", "nginx:1.28")
    started = int(updated["metadata"]["resourceVersion"])

    def rolled() -> bool:
        pods = ready_pods("default", app="web")
        return len(pods) == 3 and {p.image for p in pods} == {"nginx:1.28"}

    wait_for(rolled, timeout=TIMEOUT)
    changes = Change.objects.filter(kind="Pod", namespace="default", revision__gt=started)
    last_old_gone = max(c.revision for c in changes if c.type == "DELETED" and c.name in old)
    first_new = min(c.revision for c in changes if c.type == "ADDED" and c.name not in old)
    assert last_old_gone < first_new


def test_a_bad_image_stalls_the_rollout(control_plane, wait_for):
    """An image that cannot be pulled leaves pods in ImagePullBackOff and the Deployment
    Progressing=False with ProgressDeadlineExceeded."""
    nodes("n1")
    obj = deployment("broken", replicas=2, image="nginx:does-not-exist")
    obj["spec"]["progressDeadlineSeconds"] = 30
    write.create(obj)

    def deadline_exceeded() -> bool:
        conditions = (
            read.get("deployments", "default", "broken").get("status", {}).get("conditions") or []
        )
        return any(
            c["type"] == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded"
            for c in conditions
        )

    wait_for(deadline_exceeded, timeout=TIMEOUT)

    def waiting() -> set[str]:
        return {
            s.get("state", {}).get("waiting", {}).get("reason")
            for p in read.list_objects("pods", "default", "app=broken").items
            for s in p["status"].get("containerStatuses") or []
        }

    # The deadline is the Deployment's; the pods show why (the kubelet may report a moment later).
    wait_for(lambda: waiting() & {"ImagePullBackOff", "ErrImagePull"}, timeout=TIMEOUT)


def test_statefulset_pods_become_ready_in_order_and_keep_their_claims(control_plane, wait_for):
    """OrderedReady: store-N is created only once store-(N-1) is Ready; a replaced pod gets the
    same claim back."""
    nodes("n1", "n2")
    write.create(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "standard",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "kubarium.io/simulated",
        }
    )
    write.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "store"},
            "spec": {"clusterIP": "None", "selector": {"app": "store"}, "ports": [{"port": 80}]},
        }
    )
    write.create(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "store"},
            "spec": {
                "replicas": 3,
                "serviceName": "store",
                "selector": {"matchLabels": {"app": "store"}},
                "template": {
                    "metadata": {"labels": {"app": "store"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "main",
                                "image": "nginx:1.27",
                                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                            }
                        ]
                    },
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
            },
        }
    )
    wait_for(lambda: len(ready_pods("default", app="store")) == 3, timeout=TIMEOUT)

    first_ready: dict[str, int] = {}
    created: dict[str, int] = {}
    for change in Change.objects.filter(kind="Pod", name__startswith="store-"):
        created.setdefault(change.name, change.revision)
        if _pod_state(change)[0]:
            first_ready.setdefault(change.name, change.revision)
    assert first_ready["store-0"] < created["store-1"] < first_ready["store-1"] < created["store-2"]
    pod = read.get("pods", "default", "store-1")
    assert pod["spec"]["hostname"] == "store-1" and pod["spec"]["subdomain"] == "store"

    claim = read.get("persistentvolumeclaims", "default", "data-store-1")
    write.delete("pods", "default", "store-1")
    wait_for(
        lambda: any(
            p.name == "store-1" and str(p.uid) != pod["metadata"]["uid"]
            for p in ready_pods("default", app="store")
        ),
        timeout=TIMEOUT,
    )
    again = read.get("persistentvolumeclaims", "default", "data-store-1")
    assert again["metadata"]["uid"] == claim["metadata"]["uid"]
    assert again["spec"]["volumeName"] == claim["spec"]["volumeName"]


def test_hpa_scales_up_under_load_and_down_after_the_window(control_plane, wait_for):
    """Load raises cpu use above the target: the HPA adds replicas; when the load stops it
    waits out the stabilisation window and removes them."""
    nodes("n1", "n2", cpu="8")
    obj = deployment("web", replicas=1)
    obj["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": "100m"},
        "limits": {"cpu": "1"},
    }
    write.create(obj)
    write.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
        }
    )
    write.create(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 1,
                "maxReplicas": 5,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 50},
                        },
                    }
                ],
            },
        }
    )
    wait_for(lambda: len(ready_pods("default", app="web")) == 1, timeout=TIMEOUT)
    flow = TrafficFlow.objects.create(namespace="default", service="web", rps=2000)
    wait_for(lambda: Deployment.objects.get(name="web").replicas > 1, timeout=TIMEOUT)
    flow.delete()
    control_plane.set_speed(100)

    def rescale_messages() -> set[str]:
        return set(
            Event.objects.filter(involved_name="web", reason="SuccessfulRescale").values_list(
                "body__message", flat=True
            )
        )

    wait_for(
        lambda: (
            Deployment.objects.get(name="web").replicas == 1
            and any("below target" in m for m in rescale_messages())
        ),
        timeout=TIMEOUT,
    )
    control_plane.set_speed(20)
    assert any("above target" in m for m in rescale_messages())


def test_namespace_deletion_empties_it(control_plane, wait_for):
    """Deleting a namespace deletes everything in it, then the namespace itself."""
    nodes("n1")
    write.create(namespace("shop"))
    write.create(deployment("web", namespace="shop", replicas=2))
    wait_for(lambda: len(ready_pods("shop", app="web")) == 2, timeout=TIMEOUT)
    write.delete("namespaces", "", "shop")
    wait_for(
        lambda: (
            not Pod.objects.filter(namespace="shop").exists()
            and not Service.objects.filter(namespace="shop").exists()
            and not read.list_objects("namespaces", field_selector="metadata.name=shop").items
        ),
        timeout=TIMEOUT,
    )
    assert not Deployment.objects.filter(namespace="shop").exists()


def _pod_bindings() -> dict[str, list[str]]:
    """For every pod uid ever created, the nodes the change log shows it bound to, in order."""
    bound: dict[str, list[str]] = {}
    for change in Change.objects.filter(kind="Pod").order_by("revision"):
        node_name = change.object.get("spec", {}).get("nodeName")
        nodes_seen = bound.setdefault(str(change.uid), [])
        if node_name and (not nodes_seen or nodes_seen[-1] != node_name):
            nodes_seen.append(node_name)
    return bound


def test_two_workers_build_the_same_cluster_as_one(control_plane, wait_for):
    """With a second worker consuming the same queues, no pod is bound twice and no replica is
    created twice."""
    control_plane.start_worker(beat=False)
    nodes("n1", "n2", "n3")
    for i in range(3):
        write.create(deployment(f"web-{i}", replicas=6))
    wait_for(lambda: len(ready_pods("default")) == 18, timeout=TIMEOUT)
    assert Pod.objects.count() == 18
    for i in range(3):
        assert len(ready_pods("default", app=f"web-{i}")) == 6
    assert all(len(nodes_seen) == 1 for nodes_seen in _pod_bindings().values())


def test_kill_9_of_the_worker_mid_rollout_converges(control_plane, wait_for):
    """Killing every worker process in the middle of a rollout and starting one again ends in a
    correct cluster: the right number of pods, all updated, none duplicated."""
    nodes("n1", "n2")
    write.create(deployment("web", replicas=6))
    wait_for(lambda: len(ready_pods("default", app="web")) == 6, timeout=TIMEOUT)
    set_image("web", "nginx:1.28")
    wait_for(
        lambda: any(p.image == "nginx:1.28" for p in Pod.objects.filter(app_filter("web"))),
        timeout=TIMEOUT,
    )
    for worker in list(control_plane.workers):
        control_plane.kill(worker)
    control_plane.start_worker(beat=True)

    def converged() -> bool:
        pods = ready_pods("default", app="web")
        return (
            len(pods) == 6
            and {p.image for p in pods} == {"nginx:1.28"}
            and Pod.objects.filter(namespace="default").count() == 6
        )

    wait_for(converged, timeout=TIMEOUT)

    def counted() -> bool:  # the Deployment's status follows its pods a moment later
        status = read.get("deployments", "default", "web")["status"]
        return status.get("updatedReplicas") == 6 and status.get("availableReplicas") == 6

    wait_for(counted, timeout=TIMEOUT)
    assert Pod.objects.filter(namespace="default").count() == 6
    assert all(len(nodes_seen) == 1 for nodes_seen in _pod_bindings().values())


def app_filter(app: str):
    from django.db.models import Q

    return Q(namespace="default", labels__app=app)


def test_deleting_an_owner_deletes_or_orphans_its_dependents(control_plane, wait_for):
    """Background: the Deployment's ReplicaSet and pods go too; Orphan: they stay, released."""
    nodes("n1")
    write.create(deployment("bg", replicas=2))
    write.create(deployment("orphaned", replicas=2))
    wait_for(lambda: len(ready_pods("default")) == 4, timeout=TIMEOUT)
    write.delete("deployments", "default", "bg", propagation="Background")
    write.delete("deployments", "default", "orphaned", propagation="Orphan")
    wait_for(
        lambda: (
            not Pod.objects.filter(labels__app="bg").exists()
            and not ReplicaSet.objects.filter(labels__app="bg").exists()
        ),
        timeout=TIMEOUT,
    )
    wait_for(lambda: not Deployment.objects.filter(name="orphaned").exists(), timeout=TIMEOUT)
    [rs] = ReplicaSet.objects.filter(labels__app="orphaned")
    assert rs.controller_uid is None and rs.owner_references == []
    assert len(ready_pods("default", app="orphaned")) == 2


def test_foreground_deletion_removes_dependents_first(control_plane, wait_for):
    """Foreground: the owner stays (with its finalizer) until its dependents are gone."""
    nodes("n1")
    write.create(deployment("fg", replicas=2))
    wait_for(lambda: len(ready_pods("default", app="fg")) == 2, timeout=TIMEOUT)
    marked = write.delete("deployments", "default", "fg", propagation="Foreground")
    assert marked["metadata"]["finalizers"] == ["foregroundDeletion"]
    wait_for(lambda: not Deployment.objects.filter(name="fg").exists(), timeout=TIMEOUT)
    deleted = {c.kind: c.revision for c in Change.objects.filter(type="DELETED")}
    assert deleted["ReplicaSet"] < deleted["Deployment"]
    assert not Pod.objects.filter(labels__app="fg").exists()


def test_a_daemonset_follows_the_nodes(control_plane, wait_for):
    """One daemon pod per eligible node, and one more when a node joins."""
    nodes("n1", "n2")
    write.create(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "agent"},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {
                    "metadata": {"labels": {"app": "agent"}},
                    "spec": {"containers": [{"name": "agent", "image": "nginx:1.27"}]},
                },
            },
        }
    )
    wait_for(
        lambda: {p.node_name for p in ready_pods("default", app="agent")} == {"n1", "n2"},
        timeout=TIMEOUT,
    )
    nodes("n3")
    wait_for(
        lambda: {p.node_name for p in ready_pods("default", app="agent")} == {"n1", "n2", "n3"},
        timeout=TIMEOUT,
    )
    status = read.get("daemonsets", "default", "agent")["status"]
    wait_for(
        lambda: read.get("daemonsets", "default", "agent")["status"].get("numberReady") == 3,
        timeout=TIMEOUT,
    )
    assert status["desiredNumberScheduled"] == 3


def test_rollback_to_an_earlier_template_reuses_its_replicaset(control_plane, wait_for):
    """Going back to an earlier template scales its old ReplicaSet up again with a new revision."""
    nodes("n1", "n2")
    write.create(deployment("web", replicas=2, image="nginx:1.27"))
    wait_for(lambda: len(ready_pods("default", app="web")) == 2, timeout=TIMEOUT)
    first_rs = ReplicaSet.objects.get(labels__app="web")
    for image in ("nginx:1.28", "nginx:1.27"):
        set_image("web", image)
        wait_for(
            lambda image=image: (
                {p.image for p in ready_pods("default", app="web")} == {image}
                and len(ready_pods("default", app="web")) == 2
            ),
            timeout=TIMEOUT,
        )
    first_rs.refresh_from_db()
    assert first_rs.replicas == 2
    assert first_rs.annotations["deployment.kubernetes.io/revision"] == "3"
    assert ReplicaSet.objects.filter(labels__app="web").count() == 2


def test_kubelet_failures_show_as_in_a_real_cluster(control_plane, wait_for):
    """A crashing container goes CrashLoopBackOff, a missing ConfigMap key gives
    CreateContainerConfigError, and memory above the limit is OOMKilled."""
    nodes("n1")
    crash = pod_spec("crasher", annotations={"kubarium.io/crash": "true"})
    config = pod_spec("configless")
    config["spec"]["containers"][0]["env"] = [
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}}
    ]
    hungry = pod_spec("hungry", annotations={"kubarium.io/memory-usage": "300Mi"})
    hungry["spec"]["containers"][0]["resources"] = {"limits": {"memory": "128Mi"}}
    for obj in (crash, config, hungry):
        write.create(obj)

    def reasons(name: str) -> set[str]:
        statuses = read.get("pods", "default", name)["status"].get("containerStatuses") or []
        found = set()
        for status in statuses:
            for part in ("state", "lastState"):
                for detail in (status.get(part) or {}).values():
                    found.add(detail.get("reason"))
        return found

    wait_for(lambda: "CrashLoopBackOff" in reasons("crasher"), timeout=TIMEOUT)
    wait_for(lambda: "CreateContainerConfigError" in reasons("configless"), timeout=TIMEOUT)
    wait_for(lambda: "OOMKilled" in reasons("hungry"), timeout=TIMEOUT)
    back_off = Event.objects.filter(involved_name="crasher", reason="BackOff").first()
    assert (
        back_off is not None and "Back-off restarting failed container" in back_off.body["message"]
    )


def pod_spec(name: str, annotations: dict | None = None) -> dict:
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
    }
    return obj


def test_a_pending_pod_is_scheduled_when_a_node_that_fits_joins(control_plane, wait_for):
    """A pod that fits nowhere waits with its reason, and is placed as soon as a node that can
    hold it is added."""
    nodes("small", cpu="1")
    big = pod_spec("big")
    big["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "3"}}
    write.create(big)
    wait_for(
        lambda: Event.objects.filter(involved_name="big", reason="FailedScheduling").exists(),
        timeout=TIMEOUT,
    )
    assert Pod.objects.get(name="big").node_name == ""
    nodes("large", cpu="8")
    wait_for(lambda: Pod.objects.get(name="big").node_name == "large", timeout=TIMEOUT)
