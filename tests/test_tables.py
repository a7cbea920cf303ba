"""Server-side table printers: the cells ``kubectl get`` shows, as kube-apiserver computes them."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from cluster.store.tables import (
    Column,
    age,
    cells_for,
    columns_for,
    human_duration,
    print_table,
    render_text,
    table,
)

NOW = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC)
SECOND, MINUTE, HOUR, DAY = 1, 60, 3600, 86400
MS = 0.001


def ago(seconds: float) -> str:
    """An RFC 3339 timestamp ``seconds`` before NOW."""
    return (NOW - dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str, namespace: str | None = "default", created: float = 5 * MINUTE, **extra):
    metadata: dict[str, Any] = {"name": name, "creationTimestamp": ago(created), **extra}
    if namespace:
        metadata["namespace"] = namespace
    return metadata


def cells(obj: dict) -> list:
    return cells_for(obj, NOW)


# --- human_duration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        pytest.param(-2, "<invalid>", id="two seconds in the future is invalid"),
        pytest.param(-2 + 1e-9, "0s", id="just under two seconds ahead counts as now"),
        pytest.param(0, "0s", id="zero"),
        pytest.param(1 - MS, "0s", id="under a second truncates to 0s"),
        pytest.param(1, "1s", id="one second"),
        pytest.param(59, "59s", id="59 seconds"),
        pytest.param(70, "70s", id="70 seconds stays in seconds"),
        pytest.param(2 * MINUTE - MS, "119s", id="just under two minutes"),
        pytest.param(2 * MINUTE, "2m", id="two minutes exactly"),
        pytest.param(2 * MINUTE + 1, "2m1s", id="two minutes one second"),
        pytest.param(190, "3m10s", id="190 seconds"),
        pytest.param(5 * MINUTE + 30, "5m30s", id="five and a half minutes"),
        pytest.param(10 * MINUTE - MS, "9m59s", id="just under ten minutes"),
        pytest.param(10 * MINUTE, "10m", id="ten minutes"),
        pytest.param(10 * MINUTE + 1, "10m", id="seconds dropped from ten minutes"),
        pytest.param(90 * MINUTE, "90m", id="ninety minutes stays in minutes"),
        pytest.param(3 * HOUR - MS, "179m", id="just under three hours"),
        pytest.param(3 * HOUR, "3h", id="three hours"),
        pytest.param(3 * HOUR + MINUTE, "3h1m", id="three hours one minute"),
        pytest.param(8 * HOUR - MS, "7h59m", id="just under eight hours"),
        pytest.param(8 * HOUR, "8h", id="eight hours"),
        pytest.param(8 * HOUR + 59 * MINUTE, "8h", id="minutes dropped from eight hours"),
        pytest.param(2 * DAY - MS, "47h", id="just under two days"),
        pytest.param(2 * DAY, "2d", id="two days"),
        pytest.param(2 * DAY + HOUR, "2d1h", id="two days one hour"),
        pytest.param(8 * DAY - MS, "7d23h", id="just under eight days"),
        pytest.param(8 * DAY, "8d", id="eight days"),
        pytest.param(8 * DAY + 23 * HOUR, "8d", id="hours dropped from eight days"),
        pytest.param(367 * DAY, "367d", id="a year and two days in days"),
        pytest.param(2 * 365 * DAY - MS, "729d", id="just under two years"),
        pytest.param(2 * 365 * DAY, "2y", id="two years"),
        pytest.param(2 * 365 * DAY + 25 * HOUR, "2y1d", id="two years one day"),
        pytest.param(8 * 365 * DAY - MS, "7y364d", id="just under eight years"),
        pytest.param(8 * 365 * DAY, "8y", id="eight years"),
        pytest.param(9 * 365 * DAY, "9y", id="nine years"),
    ],
)
def test_human_duration_matches_apimachinery(seconds: float, expected: str):
    """Durations print as k8s.io/apimachinery's HumanDuration: truncated, ~2-3 figures."""
    assert human_duration(seconds) == expected


def test_human_duration_accepts_timedelta():
    """A timedelta gives the same answer as its seconds."""
    assert human_duration(dt.timedelta(minutes=5, seconds=30)) == "5m30s"


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        pytest.param({"creationTimestamp": ago(5 * MINUTE)}, "5m", id="five minutes old"),
        pytest.param({"creationTimestamp": ago(2 * DAY + 3 * HOUR)}, "2d3h", id="days and hours"),
        pytest.param({}, "<unknown>", id="no creation timestamp"),
        pytest.param({"creationTimestamp": None}, "<unknown>", id="null creation timestamp"),
        pytest.param({"creationTimestamp": "2025-06-01T11:59:30.5+00:00"}, "29s", id="offset"),
    ],
)
def test_age_is_time_since_creation(metadata: dict, expected: str):
    """Age is the human duration since metadata.creationTimestamp, or <unknown>."""
    assert age({"metadata": metadata}, NOW) == expected


def test_age_treats_naive_now_as_utc():
    """A naive ``now`` is taken as UTC."""
    obj = {"metadata": {"creationTimestamp": ago(90)}}
    assert age(obj, NOW.replace(tzinfo=None)) == "90s"


# --- column sets ---------------------------------------------------------------------------------

WIDE = object()  # marks priority-1 columns in the expectations below

EXPECTED_COLUMNS = {
    "Pod": ["Name", "Ready", "Status", "Restarts", "Age"]
    + [WIDE, "IP", "Node", "Nominated Node", "Readiness Gates"],
    "Node": ["Name", "Status", "Roles", "Age", "Version"]
    + [WIDE, "Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"],
    "Namespace": ["Name", "Status", "Age"],
    "Service": ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", WIDE, "Selector"],
    "Endpoints": ["Name", "Endpoints", "Age"],
    "Ingress": ["Name", "Class", "Hosts", "Address", "Ports", "Age"],
    "ConfigMap": ["Name", "Data", "Age"],
    "Secret": ["Name", "Type", "Data", "Age"],
    "PersistentVolume": ["Name", "Capacity", "Access Modes", "Reclaim Policy", "Status", "Claim"]
    + ["StorageClass", "VolumeAttributesClass", "Reason", "Age", WIDE, "VolumeMode"],
    "PersistentVolumeClaim": ["Name", "Status", "Volume", "Capacity", "Access Modes"]
    + ["StorageClass", "VolumeAttributesClass", "Age", WIDE, "VolumeMode"],
    "StorageClass": ["Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode"]
    + ["AllowVolumeExpansion", "Age"],
    "Deployment": ["Name", "Ready", "Up-to-date", "Available", "Age"]
    + [WIDE, "Containers", "Images", "Selector"],
    "ReplicaSet": ["Name", "Desired", "Current", "Ready", "Age"]
    + [WIDE, "Containers", "Images", "Selector"],
    "StatefulSet": ["Name", "Ready", "Age", WIDE, "Containers", "Images"],
    "DaemonSet": ["Name", "Desired", "Current", "Ready", "Up-to-date", "Available"]
    + ["Node Selector", "Age", WIDE, "Containers", "Images", "Selector"],
    "HorizontalPodAutoscaler": ["Name", "Reference", "Targets", "MinPods", "MaxPods"]
    + ["Replicas", "Age"],
}


@pytest.mark.parametrize("kind", sorted(EXPECTED_COLUMNS))
def test_columns_follow_upstream_printers(kind: str):
    """Each kind has upstream's columns, wide ones last with priority 1, Name formatted as name."""
    expected = EXPECTED_COLUMNS[kind]
    split = expected.index(WIDE) if WIDE in expected else len(expected)
    columns = columns_for(kind)
    assert [c.name for c in columns] == [n for n in expected if n is not WIDE]
    assert [c.priority for c in columns] == [0] * split + [1] * (len(columns) - split)
    assert columns[0].format == "name"
    assert all(c.format == "" for c in columns[1:])


def test_event_columns_put_wide_ones_between():
    """Events: Last Seen, Type, Reason, Object, Message always; the rest (Name last) with -o wide."""
    columns = columns_for("Event")
    assert [(c.name, c.priority) for c in columns] == [
        ("Last Seen", 0),
        ("Type", 0),
        ("Reason", 0),
        ("Object", 0),
        ("Subobject", 1),
        ("Source", 1),
        ("Message", 0),
        ("First Seen", 1),
        ("Count", 1),
        ("Name", 1),
    ]
    assert columns[-1].format == "name"


@pytest.mark.parametrize(
    ("kind", "integer_columns"),
    [
        pytest.param("ReplicaSet", ["Desired", "Current", "Ready"], id="replicaset counts"),
        pytest.param(
            "DaemonSet",
            ["Desired", "Current", "Ready", "Up-to-date", "Available"],
            id="daemonset counts",
        ),
        pytest.param("Deployment", [], id="deployment columns are all strings"),
        pytest.param("Pod", [], id="pod Restarts is a string column"),
    ],
)
def test_column_types_follow_upstream(kind: str, integer_columns: list[str]):
    """Columns are typed as upstream declares them: integers only where upstream says so."""
    assert [c.name for c in columns_for(kind) if c.type == "integer"] == integer_columns
    assert {c.type for c in columns_for(kind)} <= {"string", "integer"}


def test_unknown_kind_gets_apiserver_default_columns():
    """A kind without a printer gets the default convertor: Name and Created At (RFC 3339)."""
    assert [(c.name, c.type) for c in columns_for("Widget")] == [
        ("Name", "string"),
        ("Created At", "date"),
    ]
    widget = {"kind": "Widget", "metadata": {"name": "w", "creationTimestamp": ago(90)}}
    assert cells(widget) == ["w", "2025-06-01T11:58:30Z"]


# --- pods ----------------------------------------------------------------------------------------


def running(name: str = "app", *, ready: bool = True, restarts: int = 0, **extra) -> dict:
    return {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": ago(4 * MINUTE)}},
        **extra,
    }


def waiting(reason: str, name: str = "app", restarts: int = 0, **extra) -> dict:
    return {
        "name": name,
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason}},
        **extra,
    }


def terminated(name: str = "app", exit_code: int = 0, reason: str | None = None, **extra) -> dict:
    state: dict[str, Any] = {"exitCode": exit_code}
    if reason is not None:
        state["reason"] = reason
    return {
        "name": name,
        "ready": False,
        "restartCount": 0,
        "state": {"terminated": state},
        **extra,
    }


def last_terminated(seconds_ago: float) -> dict:
    return {"lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(seconds_ago)}}}


def pod(
    *,
    phase: str = "Running",
    containers: int = 1,
    statuses: list[dict] | None = None,
    init: list[dict] | None = None,
    init_statuses: list[dict] | None = None,
    conditions: dict[str, str] | None = None,
    status: dict | None = None,
    spec: dict | None = None,
    **metadata,
) -> dict:
    names = ["app", "sidecar", "third"][:containers]
    pod_status: dict[str, Any] = {"phase": phase, **(status or {})}
    if statuses is not None:
        pod_status["containerStatuses"] = statuses
    if init_statuses is not None:
        pod_status["initContainerStatuses"] = init_statuses
    if conditions is not None:
        pod_status["conditions"] = [{"type": t, "status": s} for t, s in conditions.items()]
    pod_spec: dict[str, Any] = {"containers": [{"name": n, "image": "nginx"} for n in names]}
    if init is not None:
        pod_spec["initContainers"] = init
    pod_spec.update(spec or {})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta("web-1", **metadata),
        "spec": pod_spec,
        "status": pod_status,
    }


INIT = [{"name": "setup", "image": "busybox"}]
TWO_INITS = [{"name": "setup", "image": "busybox"}, {"name": "migrate", "image": "busybox"}]
SIDECAR = [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]
READY = {"Initialized": "True", "Ready": "True"}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(
            pod(statuses=[running()], conditions=READY),
            ["1/1", "Running", "0"],
            id="running and ready",
        ),
        pytest.param(pod(phase="Pending"), ["0/1", "Pending", "0"], id="pending, not scheduled"),
        pytest.param(pod(status={"phase": None}), ["0/1", "Pending", "0"], id="no phase yet"),
        pytest.param(
            pod(phase="Pending", statuses=[waiting("ContainerCreating")]),
            ["0/1", "ContainerCreating", "0"],
            id="container creating",
        ),
        pytest.param(
            pod(statuses=[waiting("CrashLoopBackOff", restarts=4, **last_terminated(2 * MINUTE))]),
            ["0/1", "CrashLoopBackOff", "4 (2m ago)"],
            id="crash loop with the last restart time",
        ),
        pytest.param(
            pod(statuses=[waiting("CrashLoopBackOff", restarts=3)]),
            ["0/1", "CrashLoopBackOff", "3"],
            id="restarts without a known finish time",
        ),
        pytest.param(
            pod(phase="Pending", statuses=[waiting("ErrImagePull")]),
            ["0/1", "ErrImagePull", "0"],
            id="image pull error",
        ),
        pytest.param(
            pod(phase="Pending", statuses=[waiting("ImagePullBackOff")]),
            ["0/1", "ImagePullBackOff", "0"],
            id="image pull back-off",
        ),
        pytest.param(
            pod(
                containers=2,
                statuses=[running(), waiting("CrashLoopBackOff", name="sidecar", restarts=1)],
                conditions={"Ready": "False"},
            ),
            ["1/2", "CrashLoopBackOff", "1"],
            id="one of two containers failing",
        ),
        pytest.param(
            pod(
                containers=2,
                statuses=[waiting("CrashLoopBackOff"), waiting("ErrImagePull", name="sidecar")],
            ),
            ["0/2", "CrashLoopBackOff", "0"],
            id="the first container's reason wins",
        ),
        pytest.param(
            pod(
                phase="Pending",
                init=INIT,
                init_statuses=[running("setup", ready=False)],
                statuses=[waiting("PodInitializing")],
                conditions={"Initialized": "False"},
            ),
            ["0/1", "Init:0/1", "0"],
            id="init container running",
        ),
        pytest.param(
            pod(
                phase="Pending",
                init=TWO_INITS,
                init_statuses=[terminated("setup", reason="Completed"), running("migrate")],
                conditions={"Initialized": "False"},
            ),
            ["0/1", "Init:1/2", "0"],
            id="second of two init containers",
        ),
        pytest.param(
            pod(
                phase="Pending",
                init=INIT,
                init_statuses=[waiting("CrashLoopBackOff", name="setup", restarts=2)],
                statuses=[waiting("PodInitializing")],
                conditions={"Initialized": "False"},
            ),
            ["0/1", "Init:CrashLoopBackOff", "2"],
            id="init container crash looping",
        ),
        pytest.param(
            pod(
                phase="Pending",
                init=INIT,
                init_statuses=[terminated("setup", exit_code=1, reason="Error")],
                conditions={"Initialized": "False"},
            ),
            ["0/1", "Init:Error", "0"],
            id="init container failed",
        ),
        pytest.param(
            pod(
                phase="Pending",
                init=INIT,
                init_statuses=[terminated("setup", exit_code=2)],
                conditions={"Initialized": "False"},
            ),
            ["0/1", "Init:ExitCode:2", "0"],
            id="init container failed without a reason",
        ),
        pytest.param(
            pod(
                phase="Pending",
                init=INIT,
                init_statuses=[waiting("PodInitializing", name="setup")],
                conditions={"Initialized": "False"},
            ),
            ["0/1", "Init:0/1", "0"],
            id="PodInitializing is not shown as Init:PodInitializing",
        ),
        pytest.param(
            pod(
                init=INIT,
                init_statuses=[terminated("setup", reason="Completed")],
                statuses=[running()],
                conditions=READY,
            ),
            ["1/1", "Running", "0"],
            id="init done, app running",
        ),
        pytest.param(
            pod(
                init=SIDECAR,
                init_statuses=[running("proxy", started=True)],
                statuses=[running()],
                conditions=READY,
            ),
            ["2/2", "Running", "0"],
            id="a started sidecar counts as a ready container",
        ),
        pytest.param(
            pod(
                init=SIDECAR,
                init_statuses=[running("proxy", restarts=2, started=True, **last_terminated(30))],
                statuses=[running(restarts=1, **last_terminated(10 * MINUTE))],
                conditions=READY,
            ),
            ["2/2", "Running", "3 (30s ago)"],
            id="sidecar restarts add up, the latest restart is shown",
        ),
        pytest.param(
            pod(
                phase="Succeeded",
                statuses=[terminated(reason="Completed")],
                conditions={"Ready": "False"},
            ),
            ["0/1", "Completed", "0"],
            id="completed",
        ),
        pytest.param(
            pod(
                containers=2,
                statuses=[terminated(reason="Completed"), running("sidecar")],
                conditions={"Ready": "True"},
            ),
            ["1/2", "Running", "0"],
            id="completed but a container still runs, pod ready",
        ),
        pytest.param(
            pod(
                containers=2,
                statuses=[terminated(reason="Completed"), running("sidecar")],
                conditions={"Ready": "False"},
            ),
            ["1/2", "NotReady", "0"],
            id="completed but a container still runs, pod not ready",
        ),
        pytest.param(
            pod(phase="Failed", statuses=[terminated(exit_code=1, reason="Error")]),
            ["0/1", "Error", "0"],
            id="failed with an error",
        ),
        pytest.param(
            pod(phase="Failed", statuses=[terminated(exit_code=137, signal=9)]),
            ["0/1", "ExitCode:137", "0"],
            id="exit code without reason (signal is on the state, not the status)",
        ),
        pytest.param(
            pod(
                phase="Failed",
                statuses=[
                    {
                        "name": "app",
                        "ready": False,
                        "restartCount": 0,
                        "state": {"terminated": {"exitCode": 137, "signal": 9}},
                    }
                ],
            ),
            ["0/1", "Signal:9", "0"],
            id="killed by a signal",
        ),
        pytest.param(
            pod(phase="Failed", status={"reason": "Evicted", "message": "low on memory"}),
            ["0/1", "Evicted", "0"],
            id="evicted",
        ),
        pytest.param(
            pod(statuses=[running()], conditions=READY, deletionTimestamp=ago(5)),
            ["1/1", "Terminating", "0"],
            id="terminating",
        ),
        pytest.param(
            pod(
                phase="Succeeded",
                statuses=[terminated(reason="Completed")],
                deletionTimestamp=ago(5),
            ),
            ["0/1", "Completed", "0"],
            id="a finished pod being deleted is not Terminating",
        ),
        pytest.param(
            pod(statuses=[running()], status={"reason": "NodeLost"}, deletionTimestamp=ago(5)),
            ["1/1", "Unknown", "0"],
            id="deleted with its lost node",
        ),
        pytest.param(
            pod(
                phase="Pending",
                status={
                    "conditions": [
                        {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
                    ]
                },
            ),
            ["0/1", "SchedulingGated", "0"],
            id="scheduling gated",
        ),
    ],
)
def test_pod_ready_status_and_restarts(obj: dict, expected: list):
    """Pod Ready, Status and Restarts follow upstream's printPod, including init containers."""
    row = cells(obj)
    assert row[0] == "web-1"
    assert row[1:4] == expected
    assert row[4] == "5m"


@pytest.mark.parametrize(
    ("status", "spec", "expected_wide"),
    [
        pytest.param(
            {}, {}, ["<none>", "<none>", "<none>", "<none>"], id="unscheduled pod has no wide info"
        ),
        pytest.param(
            {"podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}, {"ip": "fd00::5"}]},
            {"nodeName": "node-1"},
            ["10.244.1.5", "node-1", "<none>", "<none>"],
            id="first pod IP and the node",
        ),
        pytest.param(
            {"podIPs": [{"ip": "10.244.2.3"}]},
            {},
            ["10.244.2.3", "<none>", "<none>", "<none>"],
            id="podIPs without podIP",
        ),
        pytest.param(
            {"nominatedNodeName": "node-2"},
            {},
            ["<none>", "<none>", "node-2", "<none>"],
            id="nominated node after preemption",
        ),
        pytest.param(
            {
                "conditions": [
                    {"type": "example.com/lb", "status": "True"},
                    {"type": "example.com/dns", "status": "False"},
                ]
            },
            {
                "readinessGates": [
                    {"conditionType": "example.com/lb"},
                    {"conditionType": "example.com/dns"},
                ]
            },
            ["<none>", "<none>", "<none>", "1/2"],
            id="readiness gates counted",
        ),
    ],
)
def test_pod_wide_cells(status: dict, spec: dict, expected_wide: list):
    """Wide pod cells: IP, Node, Nominated Node and Readiness Gates, <none> when unset."""
    assert cells(pod(status=status, spec=spec))[5:] == expected_wide


# --- nodes ---------------------------------------------------------------------------------------


def node(
    ready: str | None = "True",
    *,
    unschedulable: bool = False,
    labels: dict | None = None,
    addresses: list | None = None,
    info: dict | None = None,
) -> dict:
    status: dict[str, Any] = {
        "nodeInfo": info if info is not None else {"kubeletVersion": "v1.32.0"},
        "addresses": addresses or [],
    }
    if ready is not None:
        status["conditions"] = [
            {"type": "MemoryPressure", "status": "False"},
            {"type": "Ready", "status": ready},
        ]
    spec = {"unschedulable": True} if unschedulable else {}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": meta("node-1", namespace=None, created=3 * DAY, labels=labels or {}),
        "spec": spec,
        "status": status,
    }


CONTROL_PLANE = {"node-role.kubernetes.io/control-plane": ""}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(node(), ["Ready", "<none>"], id="ready worker without role labels"),
        pytest.param(node("False"), ["NotReady", "<none>"], id="not ready"),
        pytest.param(node("Unknown"), ["NotReady", "<none>"], id="Ready condition Unknown"),
        pytest.param(node(None), ["Unknown", "<none>"], id="no Ready condition at all"),
        pytest.param(
            node(unschedulable=True), ["Ready,SchedulingDisabled", "<none>"], id="cordoned"
        ),
        pytest.param(
            node("False", unschedulable=True),
            ["NotReady,SchedulingDisabled", "<none>"],
            id="cordoned and not ready",
        ),
        pytest.param(node(labels=CONTROL_PLANE), ["Ready", "control-plane"], id="control plane"),
        pytest.param(
            node(labels={"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/": "x"}),
            ["Ready", "worker"],
            id="worker role, empty role ignored",
        ),
        pytest.param(
            node(labels={**CONTROL_PLANE, "kubernetes.io/role": "master"}),
            ["Ready", "control-plane,master"],
            id="roles sorted, legacy kubernetes.io/role label",
        ),
    ],
)
def test_node_status_and_roles(obj: dict, expected: list):
    """Node Status from the Ready condition plus SchedulingDisabled; Roles from labels."""
    row = cells(obj)
    assert row[0] == "node-1"
    assert row[1:3] == expected
    assert row[3:5] == ["3d", "v1.32.0"]


def test_node_wide_cells():
    """Wide node cells: internal and external IPs, OS image, kernel and runtime."""
    obj = node(
        addresses=[
            {"type": "Hostname", "address": "node-1"},
            {"type": "InternalIP", "address": "172.18.0.2"},
            {"type": "InternalIP", "address": "172.18.0.9"},
        ],
        info={
            "kubeletVersion": "v1.32.0",
            "osImage": "Debian GNU/Linux 12 (bookworm)",
            "kernelVersion": "6.1.0-18-amd64",
            "containerRuntimeVersion": "containerd://1.7.18",
        },
    )
    assert cells(obj)[5:] == [
        "172.18.0.2",
        "<none>",
        "Debian GNU/Linux 12 (bookworm)",
        "6.1.0-18-amd64",
        "containerd://1.7.18",
    ]
    assert cells(node(info={}))[4:] == ["", "<none>", "<none>", "<unknown>"] + ["<unknown>"] * 2


# --- services and endpoints ----------------------------------------------------------------------


def service(
    type: str | None = "ClusterIP",
    *,
    ports: list | None = None,
    status: dict | None = None,
    **spec_extra,
) -> dict:
    spec: dict[str, Any] = {
        "clusterIP": "10.96.0.10",
        "clusterIPs": ["10.96.0.10"],
        "selector": {"app": "web", "tier": "front"},
        "ports": ports if ports is not None else [{"port": 80, "protocol": "TCP"}],
        **spec_extra,
    }
    if type is not None:
        spec["type"] = type
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta("web"),
        "spec": spec,
        "status": status or {},
    }


def lb(*entries: dict) -> dict:
    return {"loadBalancer": {"ingress": list(entries)}}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(
            service(), ["ClusterIP", "10.96.0.10", "<none>", "80/TCP"], id="cluster IP service"
        ),
        pytest.param(
            service(None), ["ClusterIP", "10.96.0.10", "<none>", "80/TCP"], id="type defaulted"
        ),
        pytest.param(
            service(ports=[{"port": 80, "protocol": "TCP"}, {"port": 443}]),
            ["ClusterIP", "10.96.0.10", "<none>", "80/TCP,443/TCP"],
            id="two ports, protocol defaulted",
        ),
        pytest.param(
            service(ports=[{"port": 53, "protocol": "UDP"}], clusterIP="None", clusterIPs=["None"]),
            ["ClusterIP", "None", "<none>", "53/UDP"],
            id="headless",
        ),
        pytest.param(
            service(ports=[], clusterIP="", clusterIPs=[]),
            ["ClusterIP", "<none>", "<none>", "<none>"],
            id="no cluster IP and no ports",
        ),
        pytest.param(
            service(externalIPs=["203.0.113.7"]),
            ["ClusterIP", "10.96.0.10", "203.0.113.7", "80/TCP"],
            id="cluster IP with external IPs",
        ),
        pytest.param(
            service("NodePort", ports=[{"port": 80, "nodePort": 30080, "protocol": "TCP"}]),
            ["NodePort", "10.96.0.10", "<none>", "80:30080/TCP"],
            id="node port",
        ),
        pytest.param(
            service("LoadBalancer", ports=[{"port": 80, "nodePort": 31234, "protocol": "TCP"}]),
            ["LoadBalancer", "10.96.0.10", "<pending>", "80:31234/TCP"],
            id="load balancer pending",
        ),
        pytest.param(
            service("LoadBalancer", status=lb({"ip": "172.18.255.201"}, {"ip": "172.18.255.200"})),
            ["LoadBalancer", "10.96.0.10", "172.18.255.200,172.18.255.201", "80/TCP"],
            id="load balancer assigned, IPs sorted and never clipped",
        ),
        pytest.param(
            service("LoadBalancer", status=lb({"hostname": "a1b2.elb.example.com"})),
            ["LoadBalancer", "10.96.0.10", "a1b2.elb.example.com", "80/TCP"],
            id="load balancer hostname",
        ),
        pytest.param(
            service("LoadBalancer", status=lb({"ip": "172.18.255.200"}), externalIPs=["1.2.3.4"]),
            ["LoadBalancer", "10.96.0.10", "172.18.255.200,1.2.3.4", "80/TCP"],
            id="load balancer plus external IPs",
        ),
        pytest.param(
            service(
                "ExternalName", ports=[], clusterIP="", clusterIPs=[], externalName="db.example.com"
            ),
            ["ExternalName", "<none>", "db.example.com", "<none>"],
            id="external name",
        ),
    ],
)
def test_service_cells(obj: dict, expected: list):
    """Service Type, Cluster-IP, External-IP and Port(s) as kubectl shows them."""
    row = cells(obj)
    assert row[0] == "web"
    assert row[1:5] == expected
    assert row[5:] == ["5m", "app=web,tier=front"]


def test_service_without_selector_prints_none():
    """A service without a selector shows <none> in the wide Selector column."""
    obj = service()
    del obj["spec"]["selector"]
    assert cells(obj)[-1] == "<none>"


def endpoints(*subsets: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": meta("web"),
        "subsets": list(subsets),
    }


def subset(*ips: str, ports: tuple[int, ...] = (80,)) -> dict:
    return {"addresses": [{"ip": ip} for ip in ips], "ports": [{"port": p} for p in ports]}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(endpoints(), "<none>", id="no subsets"),
        pytest.param(
            endpoints(subset("10.244.1.5", "10.244.2.3")),
            "10.244.1.5:80,10.244.2.3:80",
            id="two ready addresses",
        ),
        pytest.param(
            endpoints(subset("10.244.1.5", "10.244.2.3", "10.244.3.4")),
            "10.244.1.5:80,10.244.2.3:80,10.244.3.4:80",
            id="three addresses fit",
        ),
        pytest.param(
            endpoints(subset(*(f"10.244.{i}.5" for i in range(1, 6)))),
            "10.244.1.5:80,10.244.2.5:80,10.244.3.5:80 + 2 more...",
            id="five addresses, two more",
        ),
        pytest.param(
            endpoints(subset("10.244.1.5", "10.244.2.3", ports=(80, 443))),
            "10.244.1.5:80,10.244.2.3:80,10.244.1.5:443 + 1 more...",
            id="every port of every address counts",
        ),
        pytest.param(
            endpoints({"addresses": [{"ip": "10.244.1.5"}, {"ip": "10.244.2.3"}]}),
            "10.244.1.5,10.244.2.3",
            id="headless without ports",
        ),
        pytest.param(endpoints(subset("fd00::5")), "[fd00::5]:80", id="IPv6 in brackets"),
        pytest.param(endpoints({"notReadyAddresses": [{"ip": "10.244.1.5"}]}), "", id="none ready"),
    ],
)
def test_endpoints_cell(obj: dict, expected: str):
    """Endpoints lists up to three ip:port pairs, then '+ N more...'."""
    assert cells(obj) == ["web", expected, "5m"]


# --- ingress, config, namespaces -----------------------------------------------------------------


def ingress(*hosts: str, tls: bool = False, class_name: str | None = None, status=None) -> dict:
    spec: dict[str, Any] = {"rules": [{"host": h} if h else {} for h in hosts]}
    if tls:
        spec["tls"] = [{"hosts": list(hosts), "secretName": "web-tls"}]
    if class_name is not None:
        spec["ingressClassName"] = class_name
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": meta("web"),
        "spec": spec,
        "status": status or {},
    }


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(ingress(""), ["<none>", "*", "", "80"], id="no class, no host, no address"),
        pytest.param(
            ingress("shop.example.com", class_name="nginx", tls=True),
            ["nginx", "shop.example.com", "", "80, 443"],
            id="class and TLS",
        ),
        pytest.param(
            ingress("a.example", "b.example", "c.example", "d.example", "e.example"),
            ["<none>", "a.example,b.example,c.example + 2 more...", "", "80"],
            id="more than three hosts",
        ),
        pytest.param(
            ingress("a.example", status=lb({"ip": "172.18.255.200"}, {"hostname": "lb.example"})),
            ["<none>", "a.example", "172.18.255.200,lb.example", "80"],
            id="load balancer address",
        ),
    ],
)
def test_ingress_cells(obj: dict, expected: list):
    """Ingress Class, Hosts, Address and Ports as kubectl shows them."""
    assert cells(obj) == ["web", *expected, "5m"]


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(
            {"kind": "ConfigMap", "metadata": meta("cfg"), "data": {"a": "1", "b": "2"}},
            ["cfg", 2, "5m"],
            id="config map data keys",
        ),
        pytest.param(
            {
                "kind": "ConfigMap",
                "metadata": meta("cfg"),
                "data": {"a": "1"},
                "binaryData": {"b": "AA=="},
            },
            ["cfg", 2, "5m"],
            id="binary data counts too",
        ),
        pytest.param({"kind": "ConfigMap", "metadata": meta("cfg")}, ["cfg", 0, "5m"], id="empty"),
        pytest.param(
            {"kind": "Secret", "metadata": meta("s"), "type": "Opaque", "data": {"k": "dg=="}},
            ["s", "Opaque", 1, "5m"],
            id="opaque secret",
        ),
        pytest.param(
            {
                "kind": "Secret",
                "metadata": meta("s"),
                "data": {"tls.crt": "", "tls.key": ""},
                "type": "kubernetes.io/tls",
            },
            ["s", "kubernetes.io/tls", 2, "5m"],
            id="tls secret",
        ),
        pytest.param(
            {"kind": "Secret", "metadata": meta("s"), "stringData": {"password": "x"}},
            ["s", "Opaque", 1, "5m"],
            id="type defaulted, stringData keys counted",
        ),
        pytest.param(
            {
                "kind": "Namespace",
                "metadata": meta("team-a", None, 40 * DAY),
                "status": {"phase": "Active"},
            },
            ["team-a", "Active", "40d"],
            id="active namespace",
        ),
        pytest.param(
            {
                "kind": "Namespace",
                "metadata": meta("old", None),
                "status": {"phase": "Terminating"},
            },
            ["old", "Terminating", "5m"],
            id="terminating namespace",
        ),
        pytest.param(
            {"kind": "Namespace", "metadata": meta("new", None)},
            ["new", "Active", "5m"],
            id="phase defaulted",
        ),
    ],
)
def test_simple_kinds(obj: dict, expected: list):
    """ConfigMap and Secret Data are integer key counts; Namespace shows its phase."""
    assert cells(obj) == expected


# --- storage -------------------------------------------------------------------------------------


def persistent_volume(*, phase="Bound", claim=True, deleting=False, **spec_extra) -> dict:
    spec: dict[str, Any] = {
        "capacity": {"storage": "10Gi"},
        "accessModes": ["ReadWriteOnce"],
        "persistentVolumeReclaimPolicy": "Delete",
        "storageClassName": "standard",
        "volumeMode": "Filesystem",
        **spec_extra,
    }
    if claim:
        spec["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": "default", "name": "data"}
    extra = {"deletionTimestamp": ago(5)} if deleting else {}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": meta("pvc-1234", None, **extra),
        "spec": spec,
        "status": {"phase": phase},
    }


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(
            persistent_volume(),
            ["10Gi", "RWO", "Delete", "Bound", "default/data", "standard", "<unset>", ""],
            id="bound volume",
        ),
        pytest.param(
            persistent_volume(
                phase="Available", claim=False, persistentVolumeReclaimPolicy="Retain"
            ),
            ["10Gi", "RWO", "Retain", "Available", "", "standard", "<unset>", ""],
            id="available volume",
        ),
        pytest.param(
            persistent_volume(
                capacity={"storage": "1024Mi"},
                accessModes=["ReadWriteOncePod", "ReadWriteMany", "ReadWriteOnce", "ReadOnlyMany"],
                volumeAttributesClassName="gold",
            ),
            ["1Gi", "RWO,ROX,RWX,RWOP", "Delete", "Bound", "default/data", "standard", "gold", ""],
            id="capacity canonical, modes in upstream order, attributes class",
        ),
        pytest.param(
            persistent_volume(deleting=True),
            ["10Gi", "RWO", "Delete", "Terminating", "default/data", "standard", "<unset>", ""],
            id="terminating volume",
        ),
    ],
)
def test_persistent_volume_cells(obj: dict, expected: list):
    """PV Capacity, Access Modes, Reclaim Policy, Status, Claim ns/name and classes."""
    assert cells(obj) == ["pvc-1234", *expected, "5m", "Filesystem"]


def test_persistent_volume_reason_and_beta_class():
    """A failed PV shows its reason; the beta storage-class annotation wins over the field."""
    obj = persistent_volume(phase="Failed")
    obj["status"]["reason"] = "VolumeFailedDelete"
    obj["metadata"]["annotations"] = {"volume.beta.kubernetes.io/storage-class": "legacy"}
    row = cells(obj)
    assert (row[4], row[6], row[8]) == ("Failed", "legacy", "VolumeFailedDelete")


def claim(*, bound: bool = True, **spec_extra) -> dict:
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}},
        "storageClassName": "standard",
        **spec_extra,
    }
    status: dict[str, Any] = {"phase": "Pending"}
    if bound:
        spec["volumeName"] = "pvc-1234"
        status = {
            "phase": "Bound",
            "accessModes": ["ReadWriteOnce"],
            "capacity": {"storage": "2Gi"},
        }
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": meta("data"),
        "spec": spec,
        "status": status,
    }


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(
            claim(),
            ["Bound", "pvc-1234", "2Gi", "RWO", "standard", "<unset>", "5m", "Filesystem"],
            id="bound claim shows the volume's capacity",
        ),
        pytest.param(
            claim(bound=False),
            ["Pending", "", "", "", "standard", "<unset>", "5m", "Filesystem"],
            id="pending claim",
        ),
        pytest.param(
            claim(bound=False, storageClassName=None, volumeMode="Block"),
            ["Pending", "", "", "", "", "<unset>", "5m", "Block"],
            id="no class, block mode",
        ),
    ],
)
def test_persistent_volume_claim_cells(obj: dict, expected: list):
    """PVC Capacity and Access Modes come from status once a volume is bound."""
    assert cells(obj) == ["data", *expected]


@pytest.mark.parametrize(
    ("annotations", "extra", "expected"),
    [
        pytest.param(
            {"storageclass.kubernetes.io/is-default-class": "true"},
            {},
            ["standard (default)", "rancher.io/local-path", "Delete", "Immediate", False],
            id="default class with defaulted policies",
        ),
        pytest.param(
            {"storageclass.beta.kubernetes.io/is-default-class": "true"},
            {},
            ["standard (default)", "rancher.io/local-path", "Delete", "Immediate", False],
            id="beta default annotation",
        ),
        pytest.param(
            {"storageclass.kubernetes.io/is-default-class": "false"},
            {
                "reclaimPolicy": "Retain",
                "volumeBindingMode": "WaitForFirstConsumer",
                "allowVolumeExpansion": True,
            },
            ["standard", "rancher.io/local-path", "Retain", "WaitForFirstConsumer", True],
            id="explicit policies",
        ),
    ],
)
def test_storage_class_cells(annotations: dict, extra: dict, expected: list):
    """StorageClass name gets ' (default)'; AllowVolumeExpansion is a boolean cell."""
    obj = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": meta("standard", None, annotations=annotations),
        "provisioner": "rancher.io/local-path",
        **extra,
    }
    assert cells(obj) == [*expected, "5m"]


# --- workloads -----------------------------------------------------------------------------------


def workload(kind: str, spec: dict | None = None, status: dict | None = None) -> dict:
    template_spec = {
        "containers": [{"name": "web", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}]
    }
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": meta("web", created=2 * HOUR),
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": template_spec},
            **(spec or {}),
        },
        "status": status or {},
    }


WIDE_TEMPLATE = ["web,log", "nginx:1.27,busybox"]


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(
            workload(
                "Deployment",
                status={"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
            ),
            ["web", "2/3", 3, 2, "120m", *WIDE_TEMPLATE, "app=web"],
            id="deployment rolling",
        ),
        pytest.param(
            workload("Deployment", spec={"replicas": None}),
            ["web", "0/1", 0, 0, "120m", *WIDE_TEMPLATE, "app=web"],
            id="deployment replicas defaulted, empty status",
        ),
        pytest.param(
            workload(
                "Deployment",
                spec={
                    "selector": {
                        "matchLabels": {"tier": "front"},
                        "matchExpressions": [
                            {"key": "app", "operator": "In", "values": ["web", "api"]},
                            {"key": "canary", "operator": "DoesNotExist"},
                            {"key": "zone", "operator": "Exists"},
                            {"key": "env", "operator": "NotIn", "values": ["dev"]},
                        ],
                    }
                },
            ),
            [
                "web",
                "0/3",
                0,
                0,
                "120m",
                *WIDE_TEMPLATE,
                "app in (api,web),!canary,env notin (dev),tier=front,zone",
            ],
            id="deployment selector with expressions, sorted by key",
        ),
        pytest.param(
            workload(
                "Deployment",
                spec={"selector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}},
            ),
            ["web", "0/3", 0, 0, "120m", *WIDE_TEMPLATE, "<invalid>"],
            id="deployment with an invalid selector",
        ),
        pytest.param(
            workload("ReplicaSet", status={"replicas": 3, "readyReplicas": 1}),
            ["web", 3, 3, 1, "120m", *WIDE_TEMPLATE, "app=web"],
            id="replicaset",
        ),
        pytest.param(
            workload("ReplicaSet", spec={"replicas": 0, "selector": {}}),
            ["web", 0, 0, 0, "120m", *WIDE_TEMPLATE, "<none>"],
            id="replicaset scaled to zero, empty selector",
        ),
        pytest.param(
            workload("StatefulSet", status={"readyReplicas": 1, "replicas": 2}),
            ["web", "1/3", "120m", *WIDE_TEMPLATE],
            id="statefulset",
        ),
        pytest.param(
            workload(
                "DaemonSet",
                status={
                    "desiredNumberScheduled": 3,
                    "currentNumberScheduled": 3,
                    "numberReady": 2,
                    "updatedNumberScheduled": 3,
                    "numberAvailable": 2,
                },
            ),
            ["web", 3, 3, 2, 3, 2, "<none>", "120m", *WIDE_TEMPLATE, "app=web"],
            id="daemonset",
        ),
    ],
)
def test_workload_cells(obj: dict, expected: list):
    """Workload Ready/Desired/Current cells, typed as upstream (ints where Go prints int64)."""
    assert cells(obj) == expected


def test_daemon_set_node_selector():
    """DaemonSet Node Selector shows the template's nodeSelector as k=v pairs."""
    obj = workload("DaemonSet")
    obj["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/os": "linux", "a": "b"}
    assert cells(obj)[6] == "a=b,kubernetes.io/os=linux"


def hpa(metrics: list | None, current: list | None = None, **spec_extra) -> dict:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 2,
        "maxReplicas": 10,
        **spec_extra,
    }
    if metrics is not None:
        spec["metrics"] = metrics
    status: dict[str, Any] = {"currentReplicas": 3, "desiredReplicas": 3}
    if current is not None:
        status["currentMetrics"] = current
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta("web"),
        "spec": spec,
        "status": status,
    }


def cpu_utilization(percent: int | None, name: str = "cpu") -> dict:
    target: dict[str, Any] = {"type": "Utilization"}
    if percent is not None:
        target["averageUtilization"] = percent
    return {"type": "Resource", "resource": {"name": name, "target": target}}


def cpu_current(percent: int, name: str = "cpu") -> dict:
    current = {"averageUtilization": percent, "averageValue": "450m"}
    return {"type": "Resource", "resource": {"name": name, "current": current}}


@pytest.mark.parametrize(
    ("obj", "expected_targets"),
    [
        pytest.param(hpa([cpu_utilization(60)], [cpu_current(45)]), "cpu: 45%/60%", id="cpu"),
        pytest.param(hpa([cpu_utilization(60)]), "cpu: <unknown>/60%", id="no metrics yet"),
        pytest.param(hpa([cpu_utilization(None)], [cpu_current(45)]), "cpu: 45%/<auto>", id="auto"),
        pytest.param(hpa(None), "<none>", id="no metrics configured"),
        pytest.param(
            hpa(
                [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "memory",
                            "target": {"type": "AverageValue", "averageValue": "512Mi"},
                        },
                    }
                ],
                [
                    {
                        "type": "Resource",
                        "resource": {"name": "memory", "current": {"averageValue": "314572800"}},
                    }
                ],
            ),
            "memory: 314572800/512Mi",
            id="average value target",
        ),
        pytest.param(
            hpa(
                [
                    {
                        "type": "Pods",
                        "pods": {
                            "metric": {"name": "rps"},
                            "target": {"type": "AverageValue", "averageValue": "100"},
                        },
                    }
                ]
            ),
            "<unknown>/100",
            id="pods metric without a current value",
        ),
        pytest.param(
            hpa(
                [cpu_utilization(60), cpu_utilization(70, "memory"), cpu_utilization(80, "x")],
                [cpu_current(45), cpu_current(50, "memory")],
            ),
            "cpu: 45%/60%, memory: 50%/70% + 1 more...",
            id="at most two metrics shown",
        ),
    ],
)
def test_hpa_cells(obj: dict, expected_targets: str):
    """HPA Reference, Targets, MinPods (string), MaxPods and Replicas (ints), Age."""
    assert cells(obj) == ["web", "Deployment/web", expected_targets, "2", 10, 3, "5m"]


def test_hpa_min_replicas_defaults_to_one():
    """Without spec.minReplicas the API server's default of 1 is shown."""
    obj = hpa([cpu_utilization(60)])
    del obj["spec"]["minReplicas"]
    assert cells(obj)[3] == "1"


# --- events --------------------------------------------------------------------------------------


def event(**fields) -> dict:
    base: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": meta("web-1.17f3a", created=3 * MINUTE),
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-1"},
        "reason": "Scheduled",
        "message": "Successfully assigned default/web-1 to node-1\n",
        "source": {"component": "default-scheduler"},
        "type": "Normal",
        "firstTimestamp": ago(3 * MINUTE),
        "lastTimestamp": ago(MINUTE),
        "count": 4,
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


MESSAGE = "Successfully assigned default/web-1 to node-1"


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(
            event(),
            ["60s", "Normal", "Scheduled", "pod/web-1", "", "default-scheduler", MESSAGE, "3m", 4],
            id="classic event, message trimmed",
        ),
        pytest.param(
            event(count=None, lastTimestamp=None),
            ["3m", "Normal", "Scheduled", "pod/web-1", "", "default-scheduler", MESSAGE, "3m", 1],
            id="no count reads 1, last seen falls back to first seen",
        ),
        pytest.param(
            event(
                firstTimestamp=None,
                lastTimestamp=None,
                count=None,
                eventTime="2025-06-01T11:57:59.876543Z",
                source=None,
                reportingComponent="kubelet",
                reportingInstance="node-1",
            ),
            ["2m", "Normal", "Scheduled", "pod/web-1", "", "kubelet, node-1", MESSAGE, "2m", 1],
            id="new-style event with eventTime and reporting fields",
        ),
        pytest.param(
            event(series={"count": 7, "lastObservedTime": ago(10)}),
            ["10s", "Normal", "Scheduled", "pod/web-1", "", "default-scheduler", MESSAGE, "3m", 7],
            id="series overrides last seen and count",
        ),
        pytest.param(
            event(
                type="Warning",
                reason="BackOff",
                involvedObject={
                    "kind": "Pod",
                    "name": "web-1",
                    "fieldPath": "spec.containers{app}",
                },
                source={"component": "kubelet", "host": "node-1"},
                message="Back-off restarting failed container",
            ),
            ["60s", "Warning", "BackOff", "pod/web-1", "spec.containers{app}", "kubelet, node-1"]
            + ["Back-off restarting failed container", "3m", 4],
            id="warning with a subobject and a source host",
        ),
        pytest.param(
            event(involvedObject={"kind": "Node"}),
            ["60s", "Normal", "Scheduled", "node", "", "default-scheduler", MESSAGE, "3m", 4],
            id="object without a name",
        ),
        pytest.param(
            event(firstTimestamp=None, lastTimestamp=None),
            ["<unknown>", "Normal", "Scheduled", "pod/web-1", "", "default-scheduler"]
            + [MESSAGE, "<unknown>", 4],
            id="no times at all",
        ),
    ],
)
def test_event_cells(obj: dict, expected: list):
    """Event cells follow printEvent, with the event's name last (wide)."""
    assert cells(obj) == [*expected, "web-1.17f3a"]


# --- every kind: one cell per column -------------------------------------------------------------

SAMPLES = {
    "Namespace": {"kind": "Namespace", "metadata": meta("default", None)},
    "Node": node(),
    "Pod": pod(),
    "Service": service(),
    "Endpoints": endpoints(subset("10.244.1.5")),
    "Ingress": ingress("a.example"),
    "ConfigMap": {"kind": "ConfigMap", "metadata": meta("cfg")},
    "Secret": {"kind": "Secret", "metadata": meta("s")},
    "PersistentVolume": persistent_volume(),
    "PersistentVolumeClaim": claim(),
    "StorageClass": {"kind": "StorageClass", "metadata": meta("sc", None), "provisioner": "p"},
    "Deployment": workload("Deployment"),
    "ReplicaSet": workload("ReplicaSet"),
    "StatefulSet": workload("StatefulSet"),
    "DaemonSet": workload("DaemonSet"),
    "HorizontalPodAutoscaler": hpa([cpu_utilization(60)]),
    "Event": event(),
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_kind_has_one_cell_per_column(kind: str):
    """Rows carry exactly one cell per column definition, wide ones included."""
    assert len(cells(SAMPLES[kind])) == len(columns_for(kind))


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_bare_objects_do_not_crash(kind: str):
    """An object with only a name prints (defaults and placeholders), one cell per column."""
    bare = {"kind": kind, "metadata": {"name": "x"}}
    row = cells(bare)
    assert len(row) == len(columns_for(kind))
    assert all(isinstance(cell, str | int) for cell in row)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_cells_are_json_scalars(kind: str):
    """Cells are str, int or bool only, as upstream's Go cells marshal."""
    assert all(type(cell) in (str, int, bool) for cell in cells(SAMPLES[kind]))


# --- the Table -----------------------------------------------------------------------------------


def test_table_has_the_meta_v1_shape():
    """table() returns a meta.k8s.io/v1 Table: full column definitions, rows with cells and a
    PartialObjectMetadata object, and the list's resourceVersion."""
    pods = [pod(statuses=[running()], conditions=READY), copy.deepcopy(pod(phase="Pending"))]
    pods[1]["metadata"]["name"] = "web-2"
    pods[0]["metadata"]["labels"] = {"app": "web"}
    result = table("Pod", pods, NOW, resource_version="108")
    assert set(result) == {"kind", "apiVersion", "metadata", "columnDefinitions", "rows"}
    assert (result["kind"], result["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert result["metadata"] == {"resourceVersion": "108"}
    definitions = result["columnDefinitions"]
    assert all(set(d) == {"name", "type", "format", "description", "priority"} for d in definitions)
    assert definitions[0]["name"] == "Name" and definitions[0]["format"] == "name"
    assert [d["priority"] for d in definitions] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert [row["cells"][:3] for row in result["rows"]] == [
        ["web-1", "1/1", "Running"],
        ["web-2", "0/1", "Pending"],
    ]
    first = result["rows"][0]["object"]
    assert first == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": pods[0]["metadata"],
    }
    assert first["metadata"] is not pods[0]["metadata"]  # a copy, not the caller's dict


@pytest.mark.parametrize(
    ("include_object", "expected"),
    [
        pytest.param("Object", "full", id="includeObject=Object carries the full object"),
        pytest.param("None", None, id="includeObject=None carries null"),
        pytest.param("", "partial", id="empty means Metadata"),
        pytest.param("Metadata", "partial", id="Metadata"),
    ],
)
def test_table_include_object(include_object: str, expected: str | None):
    """Rows carry the object as includeObject asks."""
    obj = SAMPLES["Service"]
    row = table("Service", [obj], NOW, include_object=include_object)["rows"][0]
    if expected == "full":
        assert row["object"] == obj
    elif expected == "partial":
        assert row["object"]["kind"] == "PartialObjectMetadata"
    else:
        assert row["object"] is None


def test_table_rejects_unknown_include_object():
    """An includeObject outside None/Metadata/Object is an error."""
    with pytest.raises(ValueError, match="includeObject"):
        table("Pod", [], NOW, include_object="Everything")


def test_empty_table():
    """No objects: rows is an empty list; no resourceVersion gives empty metadata."""
    result = table("Deployment", [], NOW)
    assert result["rows"] == []
    assert result["metadata"] == {}
    assert len(result["columnDefinitions"]) == 8


@pytest.mark.parametrize(
    ("phase", "conditions"),
    [
        pytest.param(
            "Succeeded",
            [
                {
                    "type": "Completed",
                    "status": "True",
                    "reason": "Succeeded",
                    "message": "The pod has completed successfully.",
                }
            ],
            id="succeeded pod row is Completed",
        ),
        pytest.param(
            "Failed",
            [
                {
                    "type": "Completed",
                    "status": "True",
                    "reason": "Failed",
                    "message": "The pod failed.",
                }
            ],
            id="failed pod row is Completed",
        ),
        pytest.param("Running", None, id="running pod row has no conditions"),
    ],
)
def test_pod_row_conditions(phase: str, conditions: list | None):
    """Finished pods' rows carry upstream's Completed row condition."""
    row = table("Pod", [pod(phase=phase)], NOW)["rows"][0]
    assert row.get("conditions") == conditions


def test_column_definition_json():
    """A Column serialises with all five TableColumnDefinition fields."""
    column = Column("IP", priority=1)
    assert column.definition() == {
        "name": "IP",
        "type": "string",
        "format": "",
        "priority": 1,
        "description": "",
    }


# --- text output ---------------------------------------------------------------------------------


def two_pods() -> list[dict]:
    web = pod(statuses=[running()], conditions=READY, labels={"app": "web", "tier": "front"})
    web["status"]["podIP"] = "10.244.1.5"
    web["spec"]["nodeName"] = "node-1"
    db = pod(phase="Pending", statuses=[waiting("ContainerCreating")])
    db["metadata"].update(name="database-0", namespace="data")
    return [web, db]


def test_render_text_like_kubectl_get():
    """Columns are padded to the widest cell plus 3 (minimum 6); the last is not padded."""
    assert render_text("Pod", two_pods(), NOW) == (
        "NAME         READY   STATUS              RESTARTS   AGE\n"
        "web-1        1/1     Running             0          5m\n"
        "database-0   0/1     ContainerCreating   0          5m\n"
    )


def test_render_text_wide_all_namespaces_and_labels():
    """-o wide adds priority 1 columns; -A puts NAMESPACE first; --show-labels adds LABELS."""
    text = render_text("Pod", two_pods(), NOW, wide=True, all_namespaces=True, show_labels=True)
    assert text.splitlines() == [
        "NAMESPACE   NAME         READY   STATUS              RESTARTS   AGE   IP           NODE"
        "     NOMINATED NODE   READINESS GATES   LABELS",
        "default     web-1        1/1     Running             0          5m    10.244.1.5   node-1"
        "   <none>           <none>            app=web,tier=front",
        "data        database-0   0/1     ContainerCreating   0          5m    <none>       <none>"
        "   <none>           <none>            <none>",
    ]


def test_render_text_minimum_width_and_cell_printing():
    """Narrow columns still take 6 characters; ints and bools print like Go's fmt.Sprint."""
    sc = {
        "kind": "StorageClass",
        "metadata": meta("a", None),
        "provisioner": "p",
        "allowVolumeExpansion": True,
    }
    assert render_text("StorageClass", [sc], NOW) == (
        "NAME   PROVISIONER   RECLAIMPOLICY   VOLUMEBINDINGMODE   ALLOWVOLUMEEXPANSION   AGE\n"
        "a      p             Delete          Immediate           true                   5m\n"
    )


def test_print_table_cuts_multiline_cells_and_escapes_terminal_codes():
    """A cell is cut at its first line break and marked '...'; ESC prints as ^[."""
    tbl = {
        "columnDefinitions": [{"name": "Name"}, {"name": "Message"}],
        "rows": [{"cells": ["a", "first line\nsecond"]}, {"cells": ["b", "\x1b[31mred"]}],
    }
    assert print_table(tbl) == ("NAME   MESSAGE\na      first line...\nb      ^[[31mred\n")


def test_render_text_of_nothing_is_empty():
    """No objects print nothing (kubectl says 'No resources found' on stderr instead)."""
    assert render_text("Pod", [], NOW) == ""
