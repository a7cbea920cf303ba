"""The real kubectl 1.32 and the Python client against a cluster that moves.

Daphne serves the API on the test database with the control plane on, next to a real Celery
worker with beat (the ``control_plane`` fixture, clock at 20x): what kubectl writes wakes the
scheduler, the controllers and the kubelets, so ``rollout status`` finishes, ``drain`` evicts
and the pods come back elsewhere, ``describe`` shows the events the components recorded,
``logs -f`` follows a running container and ``top`` reports the kubelets' usage.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from kubernetes import client, watch

from cluster import proxy, traffic
from cluster.kubelet import logs as kubelet_logs
from cluster.kubelet.runner import start_kubelet
from cluster.models import Pod, ReplicaSet
from cluster.store import read, write
from tests import kubectl as kubectl_tools
from tests.builders import deployment, node, pod, service
from tests.kubectl import ApiServer, Kubectl

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
live_api_server = kubectl_tools.live_api_server
kubectl = kubectl_tools.live_kubectl

# Generous: waits end as soon as the cluster gets there; only a failure waits this long.
TIMEOUT = 120.0
ROLLOUT = ("--timeout=120s",)


@pytest.fixture(autouse=True)
def settle(control_plane, transactional_db):
    """After each test, let the control plane go quiet before the database is flushed."""
    control_plane.begin()
    yield
    control_plane.quiesce()


def nodes(*names: str) -> None:
    for name in names:
        write.create(node(name))


def ready_pods(app: str, namespace: str = "default") -> list[Pod]:
    pods = Pod.objects.filter(
        namespace=namespace, phase="Running", ready=True, deletion_timestamp__isnull=True
    )
    return [p for p in pods if p.labels.get("app") == app]


def settled(app: str, replicas: int, image: str | None = None) -> list[Pod]:
    """The app's pods once exactly ``replicas`` run and are ready (with ``image``) and no
    other pod of the app is left, not even a terminating one."""
    ready = ready_pods(app)
    everything = [p for p in Pod.objects.filter(namespace="default") if p.labels.get("app") == app]
    if len(ready) != replicas or len(everything) != replicas:
        return []
    if image and any(p.spec["containers"][0]["image"] != image for p in ready):
        return []
    return ready


def rolled_out(kubectl: Kubectl, name: str) -> None:
    result = kubectl("rollout", "status", f"deployment/{name}", *ROLLOUT)
    assert result.lines[-1] == f'deployment "{name}" successfully rolled out', str(result)


# --- rollouts and scaling --------------------------------------------------------------------


def test_set_image_rollout_status_undo_restart_and_scale(kubectl: Kubectl, wait_for):
    """set image rolls out a new ReplicaSet, undo goes back, restart replaces every pod, scale
    adds pods; rollout status waits for each until the deployment controller is done."""
    nodes("n1", "n2")
    assert kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2").lines == [
        "deployment.apps/web created"
    ]
    rolled_out(kubectl, "web")
    wait_for(lambda: settled("web", 2, "nginx:1.27"), timeout=TIMEOUT)

    assert kubectl("set", "image", "deployment/web", "nginx=nginx:1.28").lines == [
        "deployment.apps/web image updated"
    ]
    rolled_out(kubectl, "web")
    wait_for(lambda: settled("web", 2, "nginx:1.28"), timeout=TIMEOUT)
    assert ReplicaSet.objects.filter(namespace="default").count() == 2

    assert kubectl("rollout", "undo", "deployment/web").lines == ["deployment.apps/web rolled back"]
    rolled_out(kubectl, "web")
    image = kubectl(
        "get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"
    )
    assert image.stdout == "nginx:1.27"
    before = {p.name for p in wait_for(lambda: settled("web", 2, "nginx:1.27"), timeout=TIMEOUT)}

    assert kubectl("rollout", "restart", "deployment/web").lines == [
        "deployment.apps/web restarted"
    ]
    rolled_out(kubectl, "web")
    after = {p.name for p in wait_for(lambda: settled("web", 2, "nginx:1.27"), timeout=TIMEOUT)}
    assert not before & after, (before, after)

    assert kubectl("scale", "deployment/web", "--replicas=3").lines == [
        "deployment.apps/web scaled"
    ]

    def three_running() -> list[str]:
        names = kubectl(
            "get", "pods", "-l", "app=web", "--field-selector=status.phase=Running", "-o", "name"
        ).lines
        return names if len(names) == 3 else []

    assert len(wait_for(three_running, timeout=TIMEOUT, interval=0.5)) == 3


# --- nodes -----------------------------------------------------------------------------------

DAEMONSET = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "agent", "namespace": "default"},
    "spec": {
        "selector": {"matchLabels": {"app": "agent"}},
        "template": {
            "metadata": {"labels": {"app": "agent"}},
            "spec": {"containers": [{"name": "agent", "image": "nginx:1.27"}]},
        },
    },
}


def test_cordon_uncordon_and_drain(kubectl: Kubectl, wait_for):
    """cordon marks a node unschedulable and uncordon clears it; drain evicts its pods through
    pods/eviction (DaemonSet pods ignored, a bare pod forced), and the Deployment's pods come
    back on the other node."""
    nodes("n1", "n2")
    write.create(deployment("web", replicas=4))
    write.create(DAEMONSET)
    wait_for(lambda: settled("web", 4) and len(ready_pods("agent")) == 2, timeout=TIMEOUT)
    on = {name: [p.name for p in ready_pods("web") if p.node_name == name] for name in ("n1", "n2")}
    target, other = ("n1", "n2") if len(on["n1"]) >= len(on["n2"]) else ("n2", "n1")

    def agent_on(node_name: str) -> str:
        return next(p.name for p in ready_pods("agent") if p.node_name == node_name)

    write.create(pod("bare", node=target, labels={"app": "bare"}))
    wait_for(lambda: ready_pods("bare"), timeout=TIMEOUT)

    assert kubectl("cordon", target).lines == [f"node/{target} cordoned"]
    listed = kubectl("get", "nodes").stdout  # Ready, unless a late heartbeat on a busy machine
    assert re.search(rf"^{target}\s+\w+,SchedulingDisabled\s", listed, re.M), listed
    assert kubectl("uncordon", target).lines == [f"node/{target} uncordoned"]
    assert read.get("Node", "", target)["spec"].get("unschedulable") is None

    drained = kubectl("drain", target, "--ignore-daemonsets", "--force", "--timeout=120s")
    out = drained.stdout + drained.stderr
    assert f"node/{target} cordoned" in out, out
    # kubectl joins its warnings from a Go map: their order changes from run to run.
    [warning] = [line for line in out.splitlines() if line.startswith("Warning: ")]
    assert sorted(warning.removeprefix("Warning: ").split("; ")) == [
        "deleting Pods that declare no controller: default/bare",
        f"ignoring DaemonSet-managed Pods: default/{agent_on(target)}",
    ], out
    for name in [*on[target], "bare"]:
        assert f"evicting pod default/{name}" in out, (name, out)
        assert f"pod/{name} evicted" in out, (name, out)
    assert drained.lines[-1] == f"node/{target} drained", out

    rescheduled = wait_for(lambda: settled("web", 4), timeout=TIMEOUT)
    assert {p.node_name for p in rescheduled} == {other}, [
        (p.name, p.node_name) for p in rescheduled
    ]
    assert not Pod.objects.filter(name="bare").exists()
    agents = [(p.name, p.node_name) for p in ready_pods("agent")]
    assert [node for _, node in agents].count(target) == 1, agents  # left alone
    assert read.get("Node", "", target)["spec"]["unschedulable"] is True


# --- describe, logs, run, expose -------------------------------------------------------------


def test_describe_shows_the_events_of_pods_deployments_nodes_and_services(
    kubectl: Kubectl, wait_for
):
    """describe finds each object's events through involvedObject field selectors."""
    nodes("n1")
    write.create(deployment("web", replicas=1))
    write.create(service("web", type="LoadBalancer", port=80, target=80))
    [web] = wait_for(lambda: settled("web", 1), timeout=TIMEOUT)
    start_kubelet("n1", actor="kubarium-test")  # the kubelet's "Starting kubelet." event
    wait_for(
        lambda: read.get("Service", "default", "web")["status"]["loadBalancer"].get("ingress"),
        timeout=TIMEOUT,
    )

    described = kubectl("describe", "pod", web.name).stdout
    assert re.search(r"^Node:\s+n1/", described, re.M), described
    for reason, source in (
        ("Scheduled", "default-scheduler"),
        ("Pulling", "kubelet"),
        ("Created", "kubelet"),
        ("Started", "kubelet"),
    ):
        assert re.search(rf"^  Normal\s+{reason}\s+\S+\s+{source}\s", described, re.M), described

    described = kubectl("describe", "deployment", "web").stdout
    replica_set = web.name.rsplit("-", 1)[0]
    assert re.search(rf"^NewReplicaSet:\s+{replica_set} \(1/1 replicas created\)$", described, re.M)
    assert re.search(
        rf"^  Normal\s+ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set "
        rf"{replica_set} to 1$",
        described,
        re.M,
    ), described

    described = kubectl("describe", "node", "n1").stdout
    assert re.search(rf"^  default\s+{web.name}\s", described, re.M), described
    assert re.search(r"^  Normal\s+Starting\s+\S+\s+kubelet\s+Starting kubelet\.$", described, re.M)

    described = kubectl("describe", "service", "web").stdout
    assert re.search(r"^LoadBalancer Ingress:\s+203\.0\.113\.\d+", described, re.M), described
    assert re.search(
        r"^  Normal\s+EnsuredLoadBalancer\s+\S+\s+service-controller\s", described, re.M
    )


def test_run_expose_logs_and_follow(kubectl: Kubectl, wait_for):
    """run starts a pod, expose puts a Service in front of it, logs prints its output, and
    logs -f streams new lines (a request sent through the Service) until the pod is gone."""
    nodes("n1")
    assert kubectl("run", "web", "--image=nginx:1.27", "--labels=app=web").lines == [
        "pod/web created"
    ]
    assert kubectl("wait", "--for=condition=Ready", "pod/web", "--timeout=120s").lines == [
        "pod/web condition met"
    ]
    assert kubectl("expose", "pod", "web", "--port=80").lines == ["service/web exposed"]
    pod_ip = read.get("Pod", "default", "web")["status"]["podIP"]
    wait_for(
        lambda: (
            kubectl("get", "endpoints", "web", "--no-headers").stdout.split()[1:2]
            == [f"{pod_ip}:80"]
        ),
        timeout=TIMEOUT,
        interval=0.5,
    )

    printed = kubectl("logs", "web").lines
    assert any("start worker process" in line for line in printed), printed

    follow = kubectl.start("logs", "-f", "web")
    follow.wait_for_line(lambda line: "start worker process" in line)
    route = traffic.send(proxy.Request(service=("default", "web"), path="/followed"))
    assert route.ok and route.pod == ("default", "web"), route
    follow.wait_for_line(lambda line: "GET /followed" in line, timeout=30)
    assert follow.process.poll() is None
    assert kubectl("delete", "pod", "web", "--wait=false").lines == ['pod "web" deleted']
    assert follow.wait(timeout=TIMEOUT) == 0


# --- delete ----------------------------------------------------------------------------------


def test_delete_waits_and_cascades_in_the_foreground(kubectl: Kubectl, wait_for):
    """delete waits until the Deployment is gone; with --cascade=foreground it is gone only
    after the garbage collector has removed its ReplicaSets and their pods."""
    nodes("n1")
    write.create(deployment("a", replicas=1))
    write.create(deployment("b", replicas=2))
    wait_for(lambda: settled("a", 1) and settled("b", 2), timeout=TIMEOUT)

    assert kubectl("delete", "deployment", "a").lines == ['deployment.apps "a" deleted']
    assert not kubectl("get", "deploy", "a", "--ignore-not-found").stdout
    wait_for(
        lambda: not [p for p in Pod.objects.all() if p.labels.get("app") == "a"], timeout=TIMEOUT
    )

    deleted = kubectl("delete", "deployment", "b", "--cascade=foreground", timeout=TIMEOUT)
    assert deleted.lines == ['deployment.apps "b" deleted']
    assert not kubectl("get", "deploy,rs", "-l", "app=b", "--ignore-not-found").stdout
    assert not ReplicaSet.objects.filter(namespace="default").exists()
    assert not [p for p in Pod.objects.all() if p.labels.get("app") == "b"]


# --- top -------------------------------------------------------------------------------------


def _pod_usage(name: str) -> tuple[int, int]:
    """What the kubelet simulation says the pod's one container uses without traffic:
    (millicores, MiB as kubectl rounds the kibibytes it is given)."""
    cpu, memory = kubelet_logs.usage(read.get("Pod", "default", name), "main", 0.0)
    return cpu, (memory // 1024) // 1024


def test_top_nodes_and_pods(kubectl: Kubectl, wait_for):
    """top reads metrics.k8s.io: each pod's simulated usage (the annotations set it outright),
    per container with --containers, and each node's sum against its allocatable."""
    nodes("n1", "n2")
    write.create(deployment("web", replicas=2))
    hot = pod("hot", labels={"app": "hot"})
    hot["metadata"]["annotations"] = {
        "kubarium.io/cpu-usage": "250m",
        "kubarium.io/memory-usage": "300Mi",
    }
    write.create(hot)
    wait_for(lambda: settled("web", 2) and ready_pods("hot"), timeout=TIMEOUT)
    pods = {p.name: p for p in [*ready_pods("web"), *ready_pods("hot")]}

    table = [line.split() for line in kubectl("top", "pods").lines]
    assert table[0] == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    expected = {name: _pod_usage(name) for name in pods}
    assert expected["hot"] == (250, 300)
    assert sorted(table[1:]) == sorted(
        [name, f"{cpu}m", f"{mib}Mi"] for name, (cpu, mib) in expected.items()
    )

    everywhere = [line.split() for line in kubectl("top", "pods", "-A").lines]
    assert everywhere[0] == ["NAMESPACE", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert ["default", "hot", "250m", "300Mi"] in everywhere
    containers = [
        line.split() for line in kubectl("top", "pods", "-n", "default", "--containers").lines
    ]
    assert containers[0] == ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert ["hot", "main", "250m", "300Mi"] in containers
    assert kubectl("top", "pods", "-l", "app=hot", "--no-headers").lines[0].split() == [
        "hot",
        "250m",
        "300Mi",
    ]

    top_nodes = {line.split()[0]: line.split() for line in kubectl("top", "nodes").lines[1:]}
    assert set(top_nodes) == {"n1", "n2"}
    for name in ("n1", "n2"):
        cpu = sum(expected[p][0] for p, row in pods.items() if row.node_name == name)
        percent = cpu * 100 // 4000  # 4 cores allocatable
        assert top_nodes[name][1:3] == [f"{cpu}m", f"{percent}%"], top_nodes

    missing = kubectl.fails("top", "pod", "nope")
    assert missing.stderr.strip() == (
        'Error from server (NotFound): podmetrics.metrics.k8s.io "default/nope" not found'
    )
    listed = [line.split() for line in kubectl("get", "podmetrics", "hot").lines]
    assert listed == [["NAME", "CPU", "MEMORY", "WINDOW"], ["hot", "250m", "307200Ki", "15s"]]

    one = requests.get(f"{kubectl.server}/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/hot")
    assert one.status_code == 200
    sample = one.json()
    assert (sample["kind"], sample["apiVersion"]) == ("PodMetrics", "metrics.k8s.io/v1beta1")
    assert sample["containers"] == [
        {"name": "main", "usage": {"cpu": "250m", "memory": "307200Ki"}}
    ]
    for method, params in (("GET", {"watch": "1"}), ("POST", {}), ("DELETE", {})):
        refused = requests.request(
            method, f"{kubectl.server}/apis/metrics.k8s.io/v1beta1/nodes", params=params
        )
        assert (refused.status_code, refused.json()["reason"]) == (405, "MethodNotAllowed")


# --- out of scope ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["exec", "web", "--", "ls"],
            "Error from server (BadRequest): exec is not supported: Kubarium simulates the "
            'containers of pod "web", so there is no process to run a command in',
            id="exec",
        ),
        pytest.param(
            ["attach", "web"],
            "Error from server (BadRequest): attach is not supported: Kubarium simulates the "
            'containers of pod "web", so there is no process to attach to',
            id="attach",
        ),
        pytest.param(
            ["port-forward", "pod/web", "8080:80"],
            "error: error upgrading connection: port-forward is not supported: Kubarium simulates "
            'the containers of pod "web", so there is no process to forward ports to',
            id="port-forward",
        ),
        pytest.param(
            ["explain", "pods"],
            "error: GVK map[group: kind:Pod version:v1] not found in OpenAPI schema",
            id="explain",
        ),
    ],
)
def test_out_of_scope_commands_fail_clearly(kubectl: Kubectl, wait_for, args, message):
    """exec, attach and port-forward on a running pod end at once with the reason; explain
    finds no schemas (kubectl cannot tell the server it is explaining, see docs/kubectl.md)."""
    nodes("n1")
    write.create(pod("web", labels={"app": "web"}))
    wait_for(lambda: ready_pods("web"), timeout=TIMEOUT)
    result = kubectl.fails(*args)
    assert message in result.stderr, str(result)


# --- the Python client -----------------------------------------------------------------------


@pytest.fixture
def api(live_api_server: ApiServer) -> Iterator[client.ApiClient]:
    configuration = client.Configuration()
    configuration.host = live_api_server.url
    with client.ApiClient(configuration) as api_client:
        yield api_client


def test_python_client_drives_a_deployment(api: client.ApiClient, wait_for):
    """The client creates a Deployment, patches its scale, watches its pods come (ADDED, then
    MODIFIED as they are scheduled and start), lists them with selectors, reads a log, and
    deletes it."""
    nodes("n1")
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    labels = {"app": "pyweb"}
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="pyweb"),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(
                    containers=[client.V1Container(name="web", image="nginx:1.27")]
                ),
            ),
        ),
    )
    stream = watch.Watch().stream(
        core.list_namespaced_pod, "default", label_selector="app=pyweb", timeout_seconds=60
    )
    apps.create_namespaced_deployment("default", body)
    scale = apps.patch_namespaced_deployment_scale("pyweb", "default", {"spec": {"replicas": 2}})
    assert scale.spec.replicas == 2
    seen: dict[str, list[str]] = {}
    for event in stream:
        seen.setdefault(event["object"].metadata.name, []).append(event["type"])
        if len(seen) == 2 and all("MODIFIED" in types for types in seen.values()):
            break
    assert len(seen) == 2 and all(types[0] == "ADDED" for types in seen.values()), seen
    assert all("MODIFIED" in types for types in seen.values()), seen

    wait_for(lambda: settled("pyweb", 2), timeout=TIMEOUT)
    running = core.list_namespaced_pod(
        "default", label_selector="app=pyweb", field_selector="status.phase=Running"
    )
    names = sorted(p.metadata.name for p in running.items)
    assert names == sorted(seen)
    assert all(p.spec.node_name == "n1" for p in running.items)
    text = core.read_namespaced_pod_log(names[0], "default", container="web")
    assert "start worker process" in text

    apps.delete_namespaced_deployment("pyweb", "default")
    wait_for(
        lambda: not core.list_namespaced_pod("default", label_selector="app=pyweb").items,
        timeout=TIMEOUT,
    )
