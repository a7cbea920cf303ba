"""The failure palette against a real Celery worker with beat (``control_plane``): each breakage
makes the cluster respond as Kubernetes would, and each undo lets it recover.

The palette's functions are called as its views call them, with a signed-in admin."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model

from cluster import faults
from cluster.models import Event, Node, Pod, Timer
from cluster.store import read, write
from dashboard.pages import palette
from tests.builders import deployment, node, pod

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TIMEOUT = 180.0


@pytest.fixture(autouse=True)
def settle(control_plane, transactional_db):
    control_plane.begin()
    control_plane.set_speed(20)
    yield
    control_plane.quiesce()


@pytest.fixture
def admin(transactional_db):
    return get_user_model().objects.create_superuser("teacher", password="x")


def ready_pods(app: str, ns: str = "default") -> list[Pod]:
    pods = Pod.objects.filter(namespace=ns, phase="Running", ready=True)
    return [p for p in pods.filter(deletion_timestamp__isnull=True) if p.labels.get("app") == app]


def reasons(app: str) -> set[str]:
    """Every waiting/terminated reason the app's containers show now or showed last."""
    found = set()
    for item in read.list_objects("pods", "default", f"app={app}").items:
        for status in item["status"].get("containerStatuses") or []:
            for part in ("state", "lastState"):
                for detail in (status.get(part) or {}).values():
                    found.add(detail.get("reason"))
    return found


def stays(predicate, seconds: float) -> bool:
    """Whether ``predicate`` holds for ``seconds`` of wall time (checked often)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not predicate():
            return False
        time.sleep(0.1)
    return True


def test_stopping_a_node_moves_its_pods_and_undo_brings_it_back(control_plane, wait_for, admin):
    """Its kubelet stops: the node goes Unknown and its pods are recreated on the other node;
    undo: the node is Ready again."""
    write.create(node("n1"))
    write.create(node("n2"))
    write.create(deployment("web", replicas=4))
    wait_for(lambda: len(ready_pods("web")) == 4, timeout=TIMEOUT)
    lost = "n1" if any(p.node_name == "n1" for p in ready_pods("web")) else "n2"
    survivor = "n2" if lost == "n1" else "n1"
    palette.break_("node-stop", {"node": lost}, admin)
    control_plane.set_speed(100)
    wait_for(lambda: Node.objects.get(name=lost).ready == "Unknown", timeout=TIMEOUT)
    wait_for(
        lambda: (
            len(ready_pods("web")) == 4 and all(p.node_name == survivor for p in ready_pods("web"))
        ),
        timeout=TIMEOUT,
    )
    palette.undo(f"kubelet:{lost}", admin)
    wait_for(lambda: Node.objects.get(name=lost).ready == "True", timeout=TIMEOUT)
    stopped = Event.objects.filter(reason="KubeletStopped").values_list("body", flat=True)
    assert any("dashboard:teacher" in body["message"] for body in stopped)


def test_without_the_scheduler_pods_stay_pending_until_it_returns(control_plane, wait_for, admin):
    """Stopped: a new pod waits, unbound, however long; its scheduling is held, not lost.
    Started again: it is bound."""
    write.create(node("n1"))
    palette.break_("component", {"component": faults.SCHEDULER}, admin)
    write.create(pod("patient"))
    assert stays(lambda: Pod.objects.get(name="patient").node_name == "", 4.0)  # 80 sim-s
    assert Timer.objects.filter(key="schedule", due=faults.HELD_DUE).exists()
    assert not Event.objects.filter(involved_name="patient", reason="Scheduled").exists()
    palette.undo(f"component:{faults.SCHEDULER}", admin)
    wait_for(lambda: Pod.objects.get(name="patient").node_name == "n1", timeout=TIMEOUT)
    wait_for(lambda: Pod.objects.get(name="patient").ready, timeout=TIMEOUT)


def test_without_the_controller_manager_nothing_heals_until_it_returns(
    control_plane, wait_for, admin
):
    """Stopped: a deleted pod of a Deployment is not replaced (the kubelet still removes it).
    Started again: the ReplicaSet controller catches up and the count is back."""
    write.create(node("n1"))
    write.create(deployment("web", replicas=2))
    wait_for(lambda: len(ready_pods("web")) == 2, timeout=TIMEOUT)
    palette.break_("component", {"component": faults.CONTROLLER_MANAGER}, admin)
    victim = ready_pods("web")[0].name
    write.delete("pods", "default", victim)
    wait_for(lambda: not Pod.objects.filter(name=victim).exists(), timeout=TIMEOUT)
    assert stays(lambda: Pod.objects.filter(labels__app="web").count() == 1, 4.0)
    palette.undo(f"component:{faults.CONTROLLER_MANAGER}", admin)
    wait_for(lambda: len(ready_pods("web")) == 2, timeout=TIMEOUT)


def test_an_unpullable_image_backs_off_and_pulls_after_undo(control_plane, wait_for, admin):
    """Pods of an unpullable image show ErrImagePull/ImagePullBackOff; undo: they start."""
    write.create(node("n1"))
    palette.break_("image", {"image": "nginx:1.99", "node": ""}, admin)
    write.create(deployment("blocked", replicas=1, image="nginx:1.99"))
    wait_for(lambda: reasons("blocked") & {"ErrImagePull", "ImagePullBackOff"}, timeout=TIMEOUT)
    assert not ready_pods("blocked")
    palette.undo("image:*:nginx:1.99", admin)
    control_plane.set_speed(100)  # the image back-off may be at its next step already
    wait_for(lambda: len(ready_pods("blocked")) == 1, timeout=TIMEOUT)


def test_crash_goes_crashloopbackoff_and_undo_heals(control_plane, wait_for, admin):
    write.create(node("n1"))
    write.create(deployment("web", replicas=1))
    wait_for(lambda: len(ready_pods("web")) == 1, timeout=TIMEOUT)
    palette.break_("crash", {"workload": "Deployment/default/web"}, admin)
    wait_for(lambda: "CrashLoopBackOff" in reasons("web"), timeout=TIMEOUT)
    palette.undo("crash:Deployment/default/web", admin)
    control_plane.set_speed(100)

    def healed() -> bool:
        pods = Pod.objects.filter(labels__app="web", deletion_timestamp__isnull=True)
        return (
            len(ready_pods("web")) == 1
            and pods.count() == 1
            and "CrashLoopBackOff" not in {r for r in reasons("web") if r}
        )

    wait_for(healed, timeout=TIMEOUT)


def test_memory_over_the_limit_is_oomkilled_and_undo_heals(control_plane, wait_for, admin):
    write.create(node("n1"))
    web = deployment("web", replicas=1)
    web["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"memory": "128Mi"}}
    write.create(web)
    wait_for(lambda: len(ready_pods("web")) == 1, timeout=TIMEOUT)
    palette.break_("memory", {"workload": "Deployment/default/web"}, admin)
    wait_for(lambda: "OOMKilled" in reasons("web"), timeout=TIMEOUT)
    palette.undo("memory:Deployment/default/web", admin)
    control_plane.set_speed(100)
    wait_for(
        lambda: (
            len(ready_pods("web")) == 1
            and Pod.objects.filter(labels__app="web", deletion_timestamp__isnull=True).count() == 1
            and "OOMKilled" not in reasons("web")
        ),
        timeout=TIMEOUT,
    )


def test_a_filled_node_leaves_the_next_pod_pending_until_undo(control_plane, wait_for, admin):
    """The filler takes 95% of the node's cpu: the next pod asking for 500m waits with
    Insufficient cpu; undo frees the room and the pod is bound."""
    write.create(node("n1", cpu="2"))
    palette.break_("fill", {"node": "n1", "namespace": "default"}, admin)
    filler = Pod.objects.get(labels__has_key=palette.FILL_LABEL)
    wait_for(lambda: Pod.objects.get(name=filler.name).ready, timeout=TIMEOUT)
    write.create(pod("late", cpu="500m"))

    def refused() -> str:
        event = Event.objects.filter(involved_name="late", reason="FailedScheduling").first()
        return event.body["message"] if event else ""

    wait_for(refused, timeout=TIMEOUT)
    assert "Insufficient cpu" in refused()
    assert Pod.objects.get(name="late").node_name == ""
    palette.undo(f"fill:default/{filler.name}", admin)
    wait_for(lambda: Pod.objects.get(name="late").node_name == "n1", timeout=TIMEOUT)


def test_drain_moves_pods_off_and_uncordon_lets_them_back(control_plane, wait_for, admin):
    """Drain: the node is cordoned and its pods are recreated on the other node; new pods
    avoid it; undo: pods may land there again."""
    write.create(node("n1"))
    write.create(node("n2"))
    write.create(deployment("web", replicas=4))
    wait_for(lambda: len(ready_pods("web")) == 4, timeout=TIMEOUT)
    palette.break_("drain", {"node": "n1"}, admin)
    wait_for(
        lambda: (
            len(ready_pods("web")) == 4
            and not Pod.objects.filter(node_name="n1", labels__app="web").exists()
        ),
        timeout=TIMEOUT,
    )
    write.create(pod("newcomer"))
    wait_for(lambda: Pod.objects.get(name="newcomer").node_name == "n2", timeout=TIMEOUT)
    palette.break_("cordon", {"node": "n2"}, admin)
    palette.undo("cordon:n1", admin)
    write.create(pod("later"))
    wait_for(lambda: Pod.objects.get(name="later").node_name == "n1", timeout=TIMEOUT)
