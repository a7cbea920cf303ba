"""The real kubectl 1.32 against Kubarium's API, served by Daphne on the test database.

No control plane runs here: objects stay as the API wrote them (a Deployment never gets pods,
a foreground-deleted object keeps its finalizer because no garbage collector removes it).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import yaml

from cluster import clock
from cluster.store import read, write
from cluster.store.errors import NotFound
from cluster.store.objects import format_time
from tests import kubectl as kubectl_tools
from tests.builders import configmap, deployment, pod, service
from tests.kubectl import Kubectl

pytestmark = pytest.mark.django_db(transaction=True)
api_server = kubectl_tools.api_server
kubectl = kubectl_tools.kubectl

AGE = r"\d+s"

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels: {app: shop, tier: fe}
spec:
  replicas: 2
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}, {containerPort: 443}]
        env: [{name: MODE, value: prod}, {name: DEBUG, value: "0"}]
      - name: sidecar
        image: busybox:1.36
        command: [sh, -c, "echo hi; sleep 3600"]
---
apiVersion: v1
kind: Service
metadata: {name: shop}
spec:
  selector: {app: shop}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: shop-config}
data: {size: "3", color: blue}
"""

APP_EDITED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels: {app: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers:
      - name: web
        image: nginx:1.28
        ports: [{containerPort: 443}]
        env: [{name: MODE, value: prod}]
---
apiVersion: v1
kind: Service
metadata: {name: shop}
spec:
  selector: {app: shop}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: shop-config}
data: {size: "4", color: blue}
"""


def rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


def running_pod(name: str, labels: dict | None = None) -> dict:
    """A pod on node-1 whose container ``main`` runs, as a kubelet would report it."""
    write.create(pod(name, labels=labels or {"app": "web"}))

    def bind(current: dict) -> dict:
        current["spec"]["nodeName"] = "node-1"
        return current

    write.mutate("Pod", "default", name, bind, subresource="binding")
    started = format_time(clock.now_datetime() - dt.timedelta(seconds=30))

    def run(current: dict) -> dict:
        current["status"].update(
            phase="Running",
            podIP="10.244.1.5",
            conditions=[{"type": "Ready", "status": "True"}],
            containerStatuses=[
                {
                    "name": "main",
                    "ready": True,
                    "restartCount": 0,
                    "image": "nginx:1.27",
                    "imageID": "",
                    "started": True,
                    "state": {"running": {"startedAt": started}},
                }
            ],
        )
        return current

    return write.mutate("Pod", "default", name, run, subresource="status")


# --- discovery -------------------------------------------------------------------------------


def test_version(kubectl: Kubectl):
    """kubectl (through its version dispatcher) reports the server as v1.32."""
    out = kubectl("version").stdout
    assert "Client Version: v1.32.4" in out
    assert "Server Version: v1.32.4-kubarium" in out


def test_api_resources_and_versions(kubectl: Kubectl):
    """api-resources lists every kind with short names; -o wide adds verbs and categories."""
    table = rows(kubectl("api-resources").stdout)
    assert table[0] == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert ["deployments", "deploy", "apps/v1", "true", "Deployment"] in table
    assert ["namespaces", "ns", "v1", "false", "Namespace"] in table
    assert ["secrets", "v1", "true", "Secret"] in table
    wide = kubectl("api-resources", "-o", "wide", "--api-group=apps").stdout
    assert re.search(
        r"deployments\s+deploy\s+apps/v1\s+true\s+Deployment\s+create,delete,deletecollection,get,list,patch,update,watch\s+all",
        wide,
    )
    assert kubectl("api-versions").lines == [
        "apps/v1",
        "autoscaling/v2",
        "metrics.k8s.io/v1beta1",
        "networking.k8s.io/v1",
        "storage.k8s.io/v1",
        "v1",
    ]


# --- get -------------------------------------------------------------------------------------


def test_get_tables(kubectl: Kubectl):
    """kubectl get prints the server's Table columns, with kind prefixes for several types."""
    write.create(deployment("web", replicas=3))
    write.create(service("web", port=80, target=8080))
    write.create(configmap("cfg", a="1", b="2"))
    out = kubectl("get", "deploy,svc,cm").stdout
    assert re.search(rf"^deployment.apps/web\s+0/3\s+0\s+0\s+{AGE}$", out, re.M), out
    assert re.search(
        rf"^service/web\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+80/TCP\s+{AGE}$", out, re.M
    ), out
    assert re.search(rf"^configmap/cfg\s+2\s+{AGE}$", out, re.M), out
    assert re.search(rf"^default\s+Active\s+{AGE}$", kubectl("get", "ns").stdout, re.M)


def test_get_wide_labels_sort_and_selectors(kubectl: Kubectl):
    """-o wide, --show-labels, --sort-by, -l, --field-selector and -A all work."""
    running_pod("web-1", {"app": "web", "tier": "fe"})
    write.create(pod("db-1", labels={"app": "db"}))
    wide = rows(kubectl("get", "pods", "-o", "wide").stdout)
    assert wide[0] == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED",
        "NODE",
        "READINESS",
        "GATES",
    ]
    assert wide[2][:3] == ["web-1", "1/1", "Running"] and wide[2][5:7] == ["10.244.1.5", "node-1"]
    labels = kubectl("get", "pods", "--show-labels").stdout
    assert re.search(r"^web-1 .* app=web,tier=fe$", labels, re.M)
    by_name = [
        r[0]
        for r in rows(kubectl("get", "pods", "--sort-by=.metadata.name", "--no-headers").stdout)
    ]
    assert by_name == ["db-1", "web-1"]
    assert kubectl("get", "pods", "-l", "app=web", "-o", "name").lines == ["pod/web-1"]
    selected = kubectl("get", "pods", "-A", "--field-selector=status.phase=Running").stdout
    assert rows(selected)[0][:2] == ["NAMESPACE", "NAME"]
    assert [r[1] for r in rows(selected)[1:]] == ["web-1"]
    empty = kubectl("get", "pods", "-l", "app=none")
    assert empty.stderr.strip() == "No resources found in default namespace."


def test_get_yaml_json_and_name(kubectl: Kubectl):
    """-o yaml and -o json give whole objects, -o name the kind/name pairs."""
    write.create(configmap("cfg", a="1"))
    as_yaml = yaml.safe_load(kubectl("get", "cm", "cfg", "-o", "yaml").stdout)
    assert (as_yaml["kind"], as_yaml["data"]) == ("ConfigMap", {"a": "1"})
    as_json = json.loads(kubectl("get", "cm", "-o", "json").stdout)
    assert as_json["kind"] == "List" and as_json["items"][0]["metadata"]["name"] == "cfg"
    assert kubectl("get", "cm", "-o", "name").lines == ["configmap/cfg"]


def test_get_missing_object(kubectl: Kubectl):
    """A missing object is the apiserver's NotFound, as kubectl prints it."""
    result = kubectl.fails("get", "pod", "zzz")
    assert result.stderr.strip() == 'Error from server (NotFound): pods "zzz" not found'


def test_get_watch_sees_a_change_made_elsewhere(kubectl: Kubectl):
    """get -w prints the table, then a row per change made by someone else."""
    write.create(pod("web-1", labels={"app": "web"}))
    watch = kubectl.start("get", "pods", "-w")
    watch.wait_for_line(lambda line: line.startswith("web-1"))
    write.patch("Pod", "default", "web-1", {"metadata": {"labels": {"seen": "yes"}}})
    write.create(pod("web-2", labels={"app": "web"}))
    watch.wait_for_line(lambda line: line.startswith("web-2"))
    assert [line.split()[0] for line in watch.stdout] == ["NAME", "web-1", "web-1", "web-2"]
    assert watch.process.poll() is None


def test_get_watch_one_object_until_it_is_deleted(kubectl: Kubectl):
    """get NAME -w follows one object (fieldSelector metadata.name) through its delete.

    kubectl GETs the object and prints it, then watches from ``resourceVersion=0`` and drops
    that watch's first event (the synthetic ADDED it assumes is the object it printed), so a
    change made between the GET and the watch would be folded into the dropped event, with a
    real apiserver too. Changes are made once the watch is established: ``-v=6`` logs its
    response line, and the server takes its initial snapshot before sending the headers.
    """
    write.create(configmap("cfg"))
    watch = kubectl.start("get", "cm", "cfg", "-w", "--output-watch-events", "-o", "json", "-v=6")
    watch.wait_for_line(lambda line: line.startswith('{"type":"ADDED"'))
    watch.wait_for_line(lambda line: "watch=true 200 OK" in line, stderr=True)
    write.patch("ConfigMap", "default", "cfg", {"data": {"a": "1"}})
    write.delete("ConfigMap", "default", "cfg")
    watch.wait_for_line(lambda line: line.startswith('{"type":"DELETED"'))
    events = [json.loads(line) for line in watch.stdout]
    assert [(e["type"], e["object"].get("data")) for e in events] == [
        ("ADDED", {}),
        ("MODIFIED", {"a": "1"}),
        ("DELETED", {"a": "1"}),
    ]


# --- apply, create, replace, diff ------------------------------------------------------------


def test_apply_created_unchanged_configured(kubectl: Kubectl):
    """Client-side apply: created, then unchanged, then configured with removals."""
    manifest = kubectl.write("app.yaml", APP)
    assert kubectl("apply", "-f", manifest).lines == [
        "deployment.apps/shop created",
        "service/shop created",
        "configmap/shop-config created",
    ]
    assert kubectl("apply", "-f", manifest).lines == [
        "deployment.apps/shop unchanged",
        "service/shop unchanged",
        "configmap/shop-config unchanged",
    ]
    edited = kubectl.write("app.yaml", APP_EDITED)
    assert kubectl("apply", "-f", edited).lines == [
        "deployment.apps/shop configured",
        "service/shop unchanged",
        "configmap/shop-config configured",
    ]
    shop = read.get("Deployment", "default", "shop")
    assert shop["metadata"]["labels"] == {"app": "shop"}
    assert shop["metadata"]["generation"] == 2
    [web] = shop["spec"]["template"]["spec"]["containers"]
    assert (web["name"], web["image"], web["env"]) == (
        "web",
        "nginx:1.28",
        [{"name": "MODE", "value": "prod"}],
    )
    assert web["ports"] == [{"containerPort": 443, "protocol": "TCP"}]
    assert shop["spec"]["replicas"] == 3


def test_apply_server_side(kubectl: Kubectl):
    """apply --server-side creates and updates; another manager's value is a conflict."""
    manifest = kubectl.write("app.yaml", APP)
    assert kubectl("apply", "--server-side", "-f", manifest).lines == [
        "deployment.apps/shop serverside-applied",
        "service/shop serverside-applied",
        "configmap/shop-config serverside-applied",
    ]
    kubectl("scale", "deploy", "shop", "--replicas=5")
    conflict = kubectl.fails("apply", "--server-side", "-f", manifest)
    assert (
        'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using '
        "apps/v1: .spec.replicas"
    ) in conflict.stderr
    assert "--force-conflicts" in conflict.stderr
    edited = kubectl.write("app.yaml", APP_EDITED)
    kubectl("apply", "--server-side", "--force-conflicts", "-f", edited)
    shop = read.get("Deployment", "default", "shop")
    assert shop["spec"]["replicas"] == 3
    assert [c["name"] for c in shop["spec"]["template"]["spec"]["containers"]] == ["web"]
    assert read.get("ConfigMap", "default", "shop-config")["data"] == {"size": "4", "color": "blue"}


def test_diff_shows_changes_without_writing(kubectl: Kubectl):
    """kubectl diff asks for a server-side dry run: differences shown, nothing stored."""
    kubectl("apply", "-f", kubectl.write("app.yaml", APP))
    before = read.current_revision()
    diff = kubectl("diff", "-f", kubectl.write("edited.yaml", APP_EDITED), check=False)
    assert diff.returncode == 1, str(diff)
    assert re.search(r"^-  replicas: 2$", diff.stdout, re.M) and re.search(
        r"^\+  replicas: 3$", diff.stdout, re.M
    )
    assert "-        name: sidecar" in diff.stdout
    assert read.current_revision() == before


def test_create_and_already_exists(kubectl: Kubectl):
    """create -f creates; a second time every object is AlreadyExists."""
    manifest = kubectl.write("app.yaml", APP)
    assert kubectl("create", "-f", manifest).lines[0] == "deployment.apps/shop created"
    again = kubectl.fails("create", "-f", manifest)
    assert (
        'Error from server (AlreadyExists): error when creating "app.yaml": deployments.apps "shop" already exists'
        in again.stderr
    )


def test_replace_with_a_stale_resource_version(kubectl: Kubectl):
    """replace -f with a resourceVersion someone else has moved past is a Conflict."""
    write.create(deployment("web"))
    stale = kubectl("get", "deploy", "web", "-o", "yaml").stdout
    write.patch("Deployment", "default", "web", {"metadata": {"labels": {"moved": "on"}}})
    result = kubectl.fails("replace", "-f", kubectl.write("web.yaml", stale))
    assert result.stderr.strip() == (
        'Error from server (Conflict): error when replacing "web.yaml": Operation cannot be '
        'fulfilled on deployments.apps "web": the object has been modified; please apply your '
        "changes to the latest version and try again"
    )


@pytest.mark.parametrize(
    ("args", "printed", "kind", "name", "check"),
    [
        pytest.param(
            ["deployment", "api", "--image=nginx:1.27", "--replicas=3", "--port=8080"],
            "deployment.apps/api created",
            "Deployment",
            "api",
            lambda o: (
                (o["spec"]["replicas"], o["spec"]["template"]["spec"]["containers"][0]["ports"])
                == (3, [{"containerPort": 8080, "protocol": "TCP"}])
            ),
            id="create deployment",
        ),
        pytest.param(
            ["configmap", "cfg", "--from-literal=a=b"],
            "configmap/cfg created",
            "ConfigMap",
            "cfg",
            lambda o: o["data"] == {"a": "b"},
            id="create configmap",
        ),
        pytest.param(
            ["secret", "generic", "pw", "--from-literal=password=hunter2"],
            "secret/pw created",
            "Secret",
            "pw",
            lambda o: (o["type"], o["data"]) == ("Opaque", {"password": "aHVudGVyMg=="}),
            id="create secret generic",
        ),
        pytest.param(
            ["namespace", "team-a"],
            "namespace/team-a created",
            "Namespace",
            "team-a",
            lambda o: o["status"]["phase"] == "Active",
            id="create namespace",
        ),
        pytest.param(
            ["service", "clusterip", "api", "--tcp=80:8080"],
            "service/api created",
            "Service",
            "api",
            lambda o: (
                o["spec"]["ports"]
                == [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}]
            ),
            id="create service clusterip",
        ),
        pytest.param(
            ["ingress", "web", "--class=nginx", "--rule=shop.example.com/*=shop:80,tls=shop-tls"],
            "ingress.networking.k8s.io/web created",
            "Ingress",
            "web",
            lambda o: (
                o["spec"]["tls"] == [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}]
                and o["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
                == {"name": "shop", "port": {"number": 80}}
            ),
            id="create ingress",
        ),
    ],
)
def test_create_generators_send_protobuf(kubectl: Kubectl, args, printed, kind, name, check):
    """kubectl 1.32's create <generator> commands POST protobuf; the objects arrive whole."""
    assert kubectl("create", *args).lines == [printed]
    namespace = "" if kind == "Namespace" else "default"
    created = read.get(kind, namespace, name)
    assert check(created), created
    if kind != "Namespace":  # a bare namespace sets no field a manager could own
        assert created["metadata"]["managedFields"][0]["manager"] == "kubectl-create"


# --- changes ---------------------------------------------------------------------------------


def test_scale_label_annotate(kubectl: Kubectl):
    """scale patches /scale; label and annotate patch metadata, and say when nothing changed."""
    write.create(deployment("web", replicas=2))
    assert kubectl("scale", "deploy", "web", "--replicas=5").lines == ["deployment.apps/web scaled"]
    assert kubectl("scale", "deploy", "web", "--current-replicas=5", "--replicas=1").lines == [
        "deployment.apps/web scaled"
    ]
    mismatch = kubectl.fails("scale", "deploy", "web", "--current-replicas=4", "--replicas=2")
    assert mismatch.stderr.strip() == "error: Expected replicas to be 4, was 1"
    assert kubectl("label", "deploy", "web", "tier=fe").lines == ["deployment.apps/web labeled"]
    assert kubectl("label", "deploy", "web", "tier=fe").lines == ["deployment.apps/web not labeled"]
    assert kubectl("annotate", "deploy", "web", "note=hi").lines == [
        "deployment.apps/web annotated"
    ]
    assert kubectl("label", "deploy", "web", "tier-").lines == ["deployment.apps/web unlabeled"]
    web = read.get("Deployment", "default", "web")
    assert web["spec"]["replicas"] == 1
    assert "labels" not in web["metadata"]
    assert web["metadata"]["annotations"] == {"note": "hi"}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            [
                "-p",
                '{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.28"}]}}}}',
            ],
            ["main:nginx:1.28"],
            id="strategic merge patch (the default)",
        ),
        pytest.param(
            [
                "-p",
                '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox"}]}}}}',
            ],
            ["side:busybox", "main:nginx:1.27"],
            id="strategic merge patch adds a container",
        ),
        pytest.param(
            [
                "--type=merge",
                "-p",
                '{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"x"}]}}}}',
            ],
            ["only:x"],
            id="merge patch replaces the list",
        ),
        pytest.param(
            [
                "--type=json",
                "-p",
                '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"y"}]',
            ],
            ["main:y"],
            id="JSON patch",
        ),
    ],
)
def test_patch(kubectl: Kubectl, args: list[str], expected: list[str]):
    """kubectl patch in its three flavours."""
    write.create(deployment("web"))
    assert kubectl("patch", "deploy", "web", *args).lines == ["deployment.apps/web patched"]
    containers = read.get("Deployment", "default", "web")["spec"]["template"]["spec"]["containers"]
    assert [f"{c['name']}:{c['image']}" for c in containers] == expected
    assert kubectl("patch", "deploy", "web", *args).lines == [
        "deployment.apps/web patched (no change)"
    ]


def test_delete(kubectl: Kubectl):
    """delete by name and by label; a foreground delete leaves the object with its finalizer."""
    write.create(pod("a", labels={"app": "x"}))
    write.create(pod("b", labels={"app": "x"}))
    write.create(pod("c", labels={"app": "y"}))
    write.create(configmap("cfg"))
    write.create(deployment("web"))
    assert kubectl("delete", "pod", "c").lines == ['pod "c" deleted']
    assert kubectl("delete", "pods", "-l", "app=x").lines == ['pod "a" deleted', 'pod "b" deleted']
    assert kubectl("delete", "cm", "cfg", "--dry-run=server").lines == [
        'configmap "cfg" deleted (server dry run)'
    ]
    assert kubectl("delete", "cm", "cfg").lines == ['configmap "cfg" deleted']
    assert kubectl("delete", "deploy", "web", "--cascade=foreground", "--wait=false").lines == [
        'deployment.apps "web" deleted'
    ]
    assert read.list_objects("Pod", "default").items == []
    with pytest.raises(NotFound):
        read.get("ConfigMap", "default", "cfg")
    web = read.get("Deployment", "default", "web")
    assert web["metadata"]["finalizers"] == ["foregroundDeletion"]
    missing = kubectl.fails("delete", "svc", "nope")
    assert missing.stderr.strip() == 'Error from server (NotFound): services "nope" not found'


# --- logs and what is not supported ----------------------------------------------------------


def test_logs(kubectl: Kubectl):
    """logs prints the container's simulated output; --tail and --timestamps shape it."""
    running_pod("web-1")
    lines = kubectl("logs", "web-1").lines
    assert any("start worker process" in line for line in lines), lines
    tail = kubectl("logs", "web-1", "--tail=1", "--timestamps").lines
    assert len(tail) == 1 and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ", tail[0])
    write.create(pod("pending"))
    pending = kubectl.fails("logs", "pending")
    assert (
        pending.stderr.strip()
        == "Error from server (BadRequest): pod pending does not have a host assigned"
    )


def test_logs_follow_ends_with_the_pod(kubectl: Kubectl):
    """logs -f streams until the pod goes away, then kubectl exits 0."""
    running_pod("web-1")
    follow = kubectl.start("logs", "-f", "web-1")
    follow.wait_for_line(lambda line: "start worker process" in line)
    assert follow.process.poll() is None
    write.remove_now("Pod", "default", "web-1")
    assert follow.wait(timeout=20) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["exec", "web-1", "--", "ls"],
            "Error from server (BadRequest): exec is not supported: Kubarium simulates the "
            'containers of pod "web-1", so there is no process to run a command in',
            id="exec",
        ),
        pytest.param(
            ["port-forward", "web-1", "8080:80"],
            "error: error upgrading connection: port-forward is not supported: Kubarium simulates "
            'the containers of pod "web-1", so there is no process to forward ports to',
            id="port-forward",
        ),
    ],
)
def test_unsupported_streams_fail_clearly(kubectl: Kubectl, args: list[str], message: str):
    """exec and port-forward end at once with a message saying why."""
    running_pod("web-1")
    result = kubectl.fails(*args)
    assert message in result.stderr
