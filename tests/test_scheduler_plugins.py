"""Table tests for the scheduler's filter and score plugins, upstream style.

Builders keep the cases short: ``make_pod().req(cpu="500m").on("node-1")`` and
``make_node("n1").cap(cpu="4", memory="8Gi").taint("dedicated", "gpu")``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cluster.scheduler import plugins as p
from cluster.scheduler.plugins import SUCCESS, Code, Status
from cluster.scheduler.snapshot import (
    DEFAULT_MEMORY_REQUEST,
    DEFAULT_MILLI_CPU_REQUEST,
    NodeInfo,
    PodInfo,
    Snapshot,
    Taint,
    Toleration,
    normalized_image_name,
    pod_requests,
)

Gi = 1024**3
Mi = 1024**2

# ------------------------------------------------------------------------------ builders


class PodBuilder:
    """A Pod object dict under construction; ``.info()`` gives the PodInfo."""

    def __init__(self, name: str = "pod", namespace: str = "default"):
        self._obj: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
        }

    @property
    def spec(self) -> dict[str, Any]:
        return self._obj["spec"]

    def req(self, cpu: str | None = None, memory: str | None = None, index: int = 0) -> PodBuilder:
        """Requests on container ``index`` (the first by default)."""
        requests = (
            self.spec["containers"][index].setdefault("resources", {}).setdefault("requests", {})
        )
        if cpu is not None:
            requests["cpu"] = cpu
        if memory is not None:
            requests["memory"] = memory
        return self

    def limit(self, cpu: str | None = None, memory: str | None = None) -> PodBuilder:
        limits = self.spec["containers"][0].setdefault("resources", {}).setdefault("limits", {})
        if cpu is not None:
            limits["cpu"] = cpu
        if memory is not None:
            limits["memory"] = memory
        return self

    def container(
        self, image: str = "busybox:1.36", cpu: str | None = None, memory: str | None = None
    ) -> PodBuilder:
        container: dict[str, Any] = {"name": f"c{len(self.spec['containers'])}", "image": image}
        requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
        if requests:
            container["resources"] = {"requests": requests}
        self.spec["containers"].append(container)
        return self

    def init(
        self, cpu: str | None = None, memory: str | None = None, *, sidecar: bool = False
    ) -> PodBuilder:
        containers = self.spec.setdefault("initContainers", [])
        container: dict[str, Any] = {"name": f"init{len(containers)}", "image": "busybox:1.36"}
        requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
        if requests:
            container["resources"] = {"requests": requests}
        if sidecar:
            container["restartPolicy"] = "Always"
        containers.append(container)
        return self

    def overhead(self, cpu: str | None = None, memory: str | None = None) -> PodBuilder:
        self.spec["overhead"] = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
        return self

    def image(self, image: str) -> PodBuilder:
        self.spec["containers"][0]["image"] = image
        return self

    def on(self, node: str) -> PodBuilder:
        self.spec["nodeName"] = node
        return self

    def selector(self, **labels: str) -> PodBuilder:
        self.spec.setdefault("nodeSelector", {}).update(labels)
        return self

    def tolerate(
        self, key: str = "", value: str = "", effect: str = "", operator: str | None = None
    ) -> PodBuilder:
        toleration = {"key": key, "value": value, "effect": effect}
        if operator is not None:
            toleration["operator"] = operator
        self.spec.setdefault("tolerations", []).append(toleration)
        return self

    def require(self, *terms: dict[str, Any]) -> PodBuilder:
        """Required node affinity with these ``nodeSelectorTerms`` (ORed)."""
        affinity = self.spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
        affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
            "nodeSelectorTerms": list(terms)
        }
        return self

    def prefer(self, weight: int, term: dict[str, Any]) -> PodBuilder:
        affinity = self.spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
        affinity.setdefault("preferredDuringSchedulingIgnoredDuringExecution", []).append(
            {"weight": weight, "preference": term}
        )
        return self

    def priority(self, value: int) -> PodBuilder:
        self.spec["priority"] = value
        return self

    def never_preempt(self) -> PodBuilder:
        self.spec["preemptionPolicy"] = "Never"
        return self

    def phase(self, phase: str) -> PodBuilder:
        self._obj["status"] = {"phase": phase}
        return self

    def named(self, name: str) -> PodBuilder:
        clone = copy.deepcopy(self)
        clone._obj["metadata"]["name"] = name
        return clone

    def obj(self) -> dict[str, Any]:
        return copy.deepcopy(self._obj)

    def info(self) -> PodInfo:
        return PodInfo.from_pod(self._obj)


class NodeBuilder:
    """A Node object dict under construction; ``.info(pods)`` gives the NodeInfo."""

    def __init__(self, name: str):
        self._obj: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {},
            "status": {
                "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }

    def cap(
        self, cpu: str | None = None, memory: str | None = None, pods: str | None = None
    ) -> NodeBuilder:
        allocatable = self._obj["status"]["allocatable"]
        for key, value in (("cpu", cpu), ("memory", memory), ("pods", pods)):
            if value is not None:
                allocatable[key] = value
        return self

    def label(self, **labels: str) -> NodeBuilder:
        self._obj["metadata"]["labels"].update(labels)
        return self

    def labels(self, labels: dict[str, str]) -> NodeBuilder:
        self._obj["metadata"]["labels"].update(labels)
        return self

    def taint(self, key: str, value: str = "", effect: str = "NoSchedule") -> NodeBuilder:
        self._obj["spec"].setdefault("taints", []).append(
            {"key": key, "value": value, "effect": effect}
        )
        return self

    def cordon(self) -> NodeBuilder:
        self._obj["spec"]["unschedulable"] = True
        return self

    def not_ready(self) -> NodeBuilder:
        """Ready=False, and the taint the node lifecycle controller adds for it."""
        self._obj["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
        return self.taint("node.kubernetes.io/not-ready")

    def image(self, name: str, size: int) -> NodeBuilder:
        self._obj["status"].setdefault("images", []).append({"names": [name], "sizeBytes": size})
        return self

    def obj(self) -> dict[str, Any]:
        return copy.deepcopy(self._obj)

    def info(self, *pods: PodBuilder | PodInfo) -> NodeInfo:
        return NodeInfo.from_node(
            self._obj, [pod.info() if isinstance(pod, PodBuilder) else pod for pod in pods]
        )


def make_pod(name: str = "pod", namespace: str = "default") -> PodBuilder:
    return PodBuilder(name, namespace)


def make_node(name: str = "node-1") -> NodeBuilder:
    return NodeBuilder(name)


def expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    """One ``matchExpressions`` entry."""
    requirement: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        requirement["values"] = list(values)
    return requirement


def term(*exprs: dict[str, Any], fields: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    """A node selector term; ``fields`` are ``matchFields`` entries."""
    result: dict[str, Any] = {}
    if exprs:
        result["matchExpressions"] = list(exprs)
    if fields:
        result["matchFields"] = list(fields)
    return result


def name_field(operator: str, *names: str) -> dict[str, Any]:
    return {"key": "metadata.name", "operator": operator, "values": list(names)}


def unresolvable(plugin: str, reason: str) -> Status:
    return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, (reason,), plugin)


# ------------------------------------------------------------------------------ requests


@pytest.mark.parametrize(
    ("pod", "expected", "expected_non_zero"),
    [
        pytest.param(make_pod(), (0, 0), (100, 200 * Mi), id="nothing requested"),
        pytest.param(
            make_pod().req(cpu="500m", memory="1Gi"),
            (500, Gi),
            (500, Gi),
            id="one container",
        ),
        pytest.param(
            make_pod().req(cpu="0", memory="0"),
            (0, 0),
            (0, 0),
            id="explicit zero requests stay zero when scoring",
        ),
        pytest.param(
            make_pod().req(cpu="250m").container(),
            (250, 0),
            (350, 400 * Mi),
            id="defaults apply per container that names no request",
        ),
        pytest.param(
            make_pod()
            .req(cpu="2", memory="1G")
            .container(cpu="1", memory="1G")
            .init(cpu="2", memory="1G")
            .init(cpu="2", memory="3G"),
            (3000, 3 * 10**9),
            (3000, 3 * 10**9),
            id="upstream example: max(sum of containers, each init container)",
        ),
        pytest.param(
            make_pod().req(cpu="1").init(cpu="500m", sidecar=True).init(cpu="2"),
            (2500, 0),
            (2500, 2 * 200 * Mi),
            id="sidecar adds to containers and to later init containers",
        ),
        pytest.param(
            make_pod().req(cpu="1", memory="1Gi").overhead(cpu="250m", memory="120Mi"),
            (1250, Gi + 120 * Mi),
            (1250, Gi + 120 * Mi),
            id="pod overhead is added",
        ),
        pytest.param(
            make_pod().limit(cpu="1", memory="2Gi"),
            (1000, 2 * Gi),
            (1000, 2 * Gi),
            id="limits stand in for missing requests (API defaulting)",
        ),
    ],
)
def test_pod_requests(pod: PodBuilder, expected: tuple, expected_non_zero: tuple) -> None:
    """Requests add up over containers, take the largest init container, and add overhead."""
    spec = pod.obj()["spec"]
    assert pod_requests(spec, non_zero=False) == expected
    assert pod_requests(spec, non_zero=True) == expected_non_zero
    info = pod.info()
    assert (info.cpu, info.memory) == expected
    assert (info.nonzero_cpu, info.nonzero_memory) == expected_non_zero


def test_scoring_defaults_match_upstream() -> None:
    """A container without requests counts 100m cpu and 200Mi memory for scoring."""
    assert DEFAULT_MILLI_CPU_REQUEST == 100
    assert DEFAULT_MEMORY_REQUEST == 200 * 1024 * 1024


def test_node_info_sums_pods_and_skips_finished_ones() -> None:
    """A node counts its pods' requests; Succeeded and Failed pods are left out."""
    node = make_node().info(
        make_pod("a").req(cpu="500m", memory="1Gi"),
        make_pod("b"),
        make_pod("done").req(cpu="3").phase("Succeeded"),
    )
    assert node.pod_keys == (("default", "a"), ("default", "b"))
    assert (node.requested_cpu, node.requested_memory) == (500, Gi)
    assert (node.nonzero_cpu, node.nonzero_memory) == (600, Gi + 200 * Mi)
    assert (node.allocatable_cpu, node.allocatable_memory, node.allocatable_pods) == (
        4000,
        8 * Gi,
        110,
    )


def test_with_pod_leaves_the_original_alone() -> None:
    """Assuming a pod makes a new NodeInfo; the old one keeps its numbers."""
    node = make_node().info()
    bigger = node.with_pod(make_pod().req(cpu="1").info())
    assert (node.requested_cpu, node.pod_count) == (0, 0)
    assert (bigger.requested_cpu, bigger.pod_count) == (1000, 1)


def test_allocatable_falls_back_to_capacity() -> None:
    """A node that reports only capacity is schedulable up to its capacity."""
    obj = make_node().obj()
    obj["status"] = {"capacity": {"cpu": "2", "memory": "1Gi", "pods": "10"}}
    node = NodeInfo.from_node(obj)
    assert (node.allocatable_cpu, node.allocatable_memory, node.allocatable_pods) == (
        2000,
        Gi,
        10,
    )
    assert node.ready is False


# ------------------------------------------------------------------------ NodeResourcesFit


def fit(reasons: tuple[str, ...]) -> Status:
    return Status(Code.UNSCHEDULABLE, reasons, "NodeResourcesFit")


@pytest.mark.parametrize(
    ("pod", "node", "expected"),
    [
        pytest.param(make_pod().req(cpu="1"), make_node().info(), SUCCESS, id="fits"),
        pytest.param(
            make_pod().req(cpu="1"),
            make_node().info(make_pod().req(cpu="3")),
            SUCCESS,
            id="exactly the free cpu fits",
        ),
        pytest.param(
            make_pod().req(cpu="500m"),
            make_node().info(make_pod().req(cpu="3600m")),
            fit(("Insufficient cpu",)),
            id="500m on 400m free: Insufficient cpu",
        ),
        pytest.param(
            make_pod().req(memory="5Gi"),
            make_node().info(make_pod().req(memory="4Gi")),
            fit(("Insufficient memory",)),
            id="Insufficient memory",
        ),
        pytest.param(
            make_pod().req(cpu="5", memory="9Gi"),
            make_node().info(),
            fit(("Insufficient cpu", "Insufficient memory")),
            id="every shortage is reported",
        ),
        pytest.param(
            make_pod(),
            make_node().cap(pods="2").info(make_pod("a"), make_pod("b")),
            fit(("Too many pods",)),
            id="Too many pods even with no requests",
        ),
        pytest.param(
            make_pod().req(cpu="8"),
            make_node().cap(pods="1").info(make_pod("a")),
            fit(("Too many pods", "Insufficient cpu")),
            id="pods first, then cpu",
        ),
        pytest.param(
            make_pod(),
            make_node().info(make_pod().req(cpu="5")),
            SUCCESS,
            id="a pod requesting nothing fits an overcommitted node",
        ),
        pytest.param(
            make_pod().req(cpu="100m").init(cpu="4500m"),
            make_node().info(),
            fit(("Insufficient cpu",)),
            id="the largest init container counts",
        ),
    ],
)
def test_node_resources_fit_filter(pod: PodBuilder, node: NodeInfo, expected: Status) -> None:
    """A node fits when allocatable minus the requests already there covers the pod."""
    assert p.NodeResourcesFit().filter(pod.info(), node) == expected


def test_insufficient_resources_report_the_numbers() -> None:
    """The shortage carries requested, used and capacity, as upstream's InsufficientResource."""
    short = p.insufficient_resources(
        make_pod().req(cpu="500m").info(), make_node().info(make_pod().req(cpu="3600m"))
    )
    assert short == [p.InsufficientResource("cpu", "Insufficient cpu", 500, 3600, 4000)]


# ------------------------------------------------------------------ taints and tolerations

TAINT = Taint("dedicated", "gpu", "NoSchedule")


@pytest.mark.parametrize(
    ("toleration", "taint", "expected"),
    [
        pytest.param(
            Toleration("dedicated", "Equal", "gpu", "NoSchedule"), TAINT, True, id="equal"
        ),
        pytest.param(
            Toleration("dedicated", "Equal", "db", "NoSchedule"),
            TAINT,
            False,
            id="equal, other value",
        ),
        pytest.param(
            Toleration("dedicated", "", "gpu", ""), TAINT, True, id="no operator means Equal"
        ),
        pytest.param(
            Toleration("dedicated", "Exists", "", "NoSchedule"), TAINT, True, id="exists, any value"
        ),
        pytest.param(
            Toleration("", "Exists", "", ""), TAINT, True, id="empty key exists: everything"
        ),
        pytest.param(
            Toleration("", "Exists", "", "NoExecute"), TAINT, False, id="empty key, other effect"
        ),
        pytest.param(
            Toleration("dedicated", "Exists", "", "NoExecute"), TAINT, False, id="other effect"
        ),
        pytest.param(
            Toleration("dedicated", "Exists", "", ""), TAINT, True, id="no effect means all effects"
        ),
        pytest.param(Toleration("other", "Exists", "", ""), TAINT, False, id="other key"),
        pytest.param(
            Toleration("dedicated", "Gt", "gpu", ""), TAINT, False, id="unknown operator never"
        ),
    ],
)
def test_toleration_tolerates_taint(toleration: Toleration, taint: Taint, expected: bool) -> None:
    """Tolerations match taints by key, effect and value as ToleratesTaint does."""
    assert toleration.tolerates(taint) is expected


CONTROL_PLANE = "node-role.kubernetes.io/control-plane"


@pytest.mark.parametrize(
    ("pod", "node", "expected"),
    [
        pytest.param(make_pod(), make_node().info(), SUCCESS, id="no taints"),
        pytest.param(
            make_pod(),
            make_node().taint(CONTROL_PLANE).info(),
            unresolvable(
                "TaintToleration",
                "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",
            ),
            id="control-plane taint, exact upstream text",
        ),
        pytest.param(
            make_pod(),
            make_node().taint("dedicated", "gpu", "NoExecute").info(),
            unresolvable("TaintToleration", "node(s) had untolerated taint {dedicated: gpu}"),
            id="NoExecute taints are checked too",
        ),
        pytest.param(
            make_pod(),
            make_node().taint("spot", "true", "PreferNoSchedule").info(),
            SUCCESS,
            id="PreferNoSchedule is only a preference",
        ),
        pytest.param(
            make_pod().tolerate(CONTROL_PLANE, operator="Exists", effect="NoSchedule"),
            make_node().taint(CONTROL_PLANE).info(),
            SUCCESS,
            id="tolerated",
        ),
        pytest.param(
            make_pod().tolerate("a", operator="Exists"),
            make_node().taint("a").taint("b", "2").info(),
            unresolvable("TaintToleration", "node(s) had untolerated taint {b: 2}"),
            id="the first untolerated taint is named",
        ),
        pytest.param(
            make_pod(),
            make_node().not_ready().info(),
            unresolvable(
                "TaintToleration", "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
            ),
            id="NotReady nodes are kept away by their taint",
        ),
        pytest.param(
            make_pod().tolerate("node.kubernetes.io/not-ready", operator="Exists"),
            make_node().not_ready().info(),
            SUCCESS,
            id="unless the pod tolerates not-ready",
        ),
        pytest.param(
            make_pod().tolerate(
                "node.kubernetes.io/not-ready", operator="Exists", effect="NoExecute"
            ),
            make_node().not_ready().info(),
            unresolvable(
                "TaintToleration", "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
            ),
            id="the default NoExecute toleration does not cover NoSchedule",
        ),
    ],
)
def test_taint_toleration_filter(pod: PodBuilder, node: NodeInfo, expected: Status) -> None:
    """Pods without tolerations avoid tainted nodes (NoSchedule and NoExecute)."""
    assert p.TaintToleration().filter(pod.info(), node) == expected


# ---------------------------------------------------------------- cordon and node name


@pytest.mark.parametrize(
    ("pod", "node", "expected"),
    [
        pytest.param(make_pod(), make_node().info(), SUCCESS, id="schedulable"),
        pytest.param(
            make_pod(),
            make_node().cordon().info(),
            unresolvable("NodeUnschedulable", "node(s) were unschedulable"),
            id="cordoned",
        ),
        pytest.param(
            make_pod().tolerate(
                "node.kubernetes.io/unschedulable", operator="Exists", effect="NoSchedule"
            ),
            make_node().cordon().info(),
            SUCCESS,
            id="tolerating the unschedulable taint (DaemonSets do)",
        ),
        pytest.param(
            make_pod().tolerate(operator="Exists"),
            make_node().cordon().info(),
            SUCCESS,
            id="tolerating everything",
        ),
    ],
)
def test_node_unschedulable_filter(pod: PodBuilder, node: NodeInfo, expected: Status) -> None:
    """Cordoned nodes take no new pods unless the pod tolerates the unschedulable taint."""
    assert p.NodeUnschedulable().filter(pod.info(), node) == expected


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        pytest.param(make_pod(), SUCCESS, id="no node named"),
        pytest.param(make_pod().on("node-1"), SUCCESS, id="this node"),
        pytest.param(
            make_pod().on("node-2"),
            unresolvable("NodeName", "node(s) didn't match the requested node name"),
            id="another node",
        ),
    ],
)
def test_node_name_filter(pod: PodBuilder, expected: Status) -> None:
    """A pod that names a node fits only that node."""
    assert p.NodeName().filter(pod.info(), make_node("node-1").info()) == expected


# ----------------------------------------------------------------------------- NodeAffinity

ZONE = "topology.kubernetes.io/zone"
AFFINITY_MISMATCH = unresolvable(
    "NodeAffinity", "node(s) didn't match Pod's node affinity/selector"
)


@pytest.mark.parametrize(
    ("pod", "labels", "matches"),
    [
        pytest.param(make_pod(), {}, True, id="no selector, no affinity"),
        pytest.param(make_pod().selector(disk="ssd"), {"disk": "ssd"}, True, id="selector match"),
        pytest.param(make_pod().selector(disk="ssd"), {"disk": "hdd"}, False, id="selector value"),
        pytest.param(make_pod().selector(disk="ssd"), {}, False, id="selector label missing"),
        pytest.param(
            make_pod().require(term(expr(ZONE, "In", "a", "b"))), {ZONE: "b"}, True, id="In"
        ),
        pytest.param(
            make_pod().require(term(expr(ZONE, "In", "a", "b"))), {ZONE: "c"}, False, id="In, other"
        ),
        pytest.param(make_pod().require(term(expr(ZONE, "In", "a"))), {}, False, id="In, no label"),
        pytest.param(
            make_pod().require(term(expr(ZONE, "NotIn", "a"))), {ZONE: "b"}, True, id="NotIn"
        ),
        pytest.param(
            make_pod().require(term(expr(ZONE, "NotIn", "a"))),
            {ZONE: "a"},
            False,
            id="NotIn, listed",
        ),
        pytest.param(
            make_pod().require(term(expr(ZONE, "NotIn", "a"))), {}, True, id="NotIn, label absent"
        ),
        pytest.param(
            make_pod().require(term(expr("gpu", "Exists"))), {"gpu": ""}, True, id="Exists"
        ),
        pytest.param(
            make_pod().require(term(expr("gpu", "Exists"))), {}, False, id="Exists, absent"
        ),
        pytest.param(
            make_pod().require(term(expr("gpu", "DoesNotExist"))), {}, True, id="DoesNotExist"
        ),
        pytest.param(
            make_pod().require(term(expr("gpu", "DoesNotExist"))),
            {"gpu": "1"},
            False,
            id="DoesNotExist, present",
        ),
        pytest.param(
            make_pod().require(term(expr("cores", "Gt", "4"))), {"cores": "8"}, True, id="Gt"
        ),
        pytest.param(
            make_pod().require(term(expr("cores", "Gt", "4"))),
            {"cores": "4"},
            False,
            id="Gt is strict",
        ),
        pytest.param(
            make_pod().require(term(expr("cores", "Gt", "4"))),
            {"cores": "many"},
            False,
            id="Gt, label not an integer",
        ),
        pytest.param(
            make_pod().require(term(expr("cores", "Gt", "4"))), {}, False, id="Gt, label absent"
        ),
        pytest.param(
            make_pod().require(term(expr("cores", "Lt", "4"))), {"cores": "-1"}, True, id="Lt"
        ),
        pytest.param(
            make_pod().require(term(expr("cores", "Lt", "4"))),
            {"cores": "4"},
            False,
            id="Lt is strict",
        ),
        pytest.param(
            make_pod().require(term(expr("cores", "Gt", "four"))),
            {"cores": "8"},
            False,
            id="Gt with a non-integer value never matches",
        ),
        pytest.param(
            make_pod().require(term(expr("cores", "Lt", " 4"))),
            {"cores": "1"},
            False,
            id="integers parse as Go does: no spaces",
        ),
        pytest.param(
            make_pod().require(term(expr(ZONE, "In"))), {ZONE: "a"}, False, id="In without values"
        ),
        pytest.param(
            make_pod().require(term(expr("gpu", "Exists", "x"))),
            {"gpu": "x"},
            False,
            id="Exists with values is an error",
        ),
        pytest.param(
            make_pod().require(term(expr(ZONE, "Near", "a"))),
            {ZONE: "a"},
            False,
            id="unknown operator",
        ),
        pytest.param(
            make_pod().require(term(expr(ZONE, "In", "a"), expr("gpu", "Exists"))),
            {ZONE: "a"},
            False,
            id="expressions in a term are ANDed",
        ),
        pytest.param(
            make_pod().require(term(expr(ZONE, "In", "a")), term(expr("gpu", "Exists"))),
            {"gpu": "1"},
            True,
            id="terms are ORed",
        ),
        pytest.param(
            make_pod().require(term()), {ZONE: "a"}, False, id="an empty term matches nothing"
        ),
        pytest.param(make_pod().require(), {ZONE: "a"}, False, id="no terms match nothing"),
        pytest.param(
            make_pod().selector(disk="ssd").require(term(expr(ZONE, "In", "a"))),
            {ZONE: "a"},
            False,
            id="selector and affinity must both match",
        ),
        pytest.param(
            make_pod().require(term(fields=(name_field("In", "node-1"),))),
            {},
            True,
            id="matchFields metadata.name In",
        ),
        pytest.param(
            make_pod().require(term(fields=(name_field("NotIn", "node-1"),))),
            {},
            False,
            id="matchFields metadata.name NotIn",
        ),
        pytest.param(
            make_pod().require(
                term(fields=({"key": "metadata.uid", "operator": "In", "values": ["x"]},))
            ),
            {},
            False,
            id="matchFields on another field is an error",
        ),
    ],
)
def test_node_affinity_filter(pod: PodBuilder, labels: dict[str, str], matches: bool) -> None:
    """nodeSelector and required node affinity follow labels.Requirement, operator by operator."""
    node = make_node("node-1").labels(labels).info()
    assert p.NodeAffinity().filter(pod.info(), node) == (SUCCESS if matches else AFFINITY_MISMATCH)


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        pytest.param(make_pod(), p.PRE_FILTER_SKIP, id="nothing to check: skipped"),
        pytest.param(make_pod().selector(disk="ssd"), p.PRE_FILTER_ALL, id="selector: all nodes"),
        pytest.param(
            make_pod().require(term(fields=(name_field("In", "a", "b"),))),
            p.PreFilterResult(node_names=frozenset({"a", "b"})),
            id="pinned to names",
        ),
        pytest.param(
            make_pod().require(
                term(fields=(name_field("In", "a"),)), term(fields=(name_field("In", "b"),))
            ),
            p.PreFilterResult(node_names=frozenset({"a", "b"})),
            id="terms add up",
        ),
        pytest.param(
            make_pod().require(term(fields=(name_field("In", "a"),)), term(expr(ZONE, "Exists"))),
            p.PRE_FILTER_ALL,
            id="a term without names lets all nodes through",
        ),
        pytest.param(
            make_pod().require(term(fields=(name_field("In", "a"), name_field("In", "b")))),
            p.PreFilterResult(status=unresolvable("NodeAffinity", "pod affinity terms conflict")),
            id="conflicting names",
        ),
    ],
)
def test_node_affinity_pre_filter(pod: PodBuilder, expected: p.PreFilterResult) -> None:
    """PreFilter skips pods without affinity and narrows pods pinned to node names."""
    assert p.NodeAffinity().pre_filter(pod.info(), Snapshot([])) == expected


# ---------------------------------------------------------------------------------- scores


@pytest.mark.parametrize(
    ("requested", "capacity", "expected"),
    [
        pytest.param(3000, 4000, 25, id="((4000 - 3000) * 100) / 4000 = 25"),
        pytest.param(0, 4000, 100, id="empty node"),
        pytest.param(4000, 4000, 0, id="full node"),
        pytest.param(5000, 4000, 0, id="overcommitted"),
        pytest.param(1, 3, 66, id="integer division truncates: 200 / 3 = 66"),
        pytest.param(0, 0, 0, id="no capacity"),
    ],
)
def test_least_requested_score(requested: int, capacity: int, expected: int) -> None:
    """The unused share of a resource, on a 0-100 scale, in integer arithmetic."""
    assert p.least_requested_score(requested, capacity) == expected


@pytest.mark.parametrize(
    ("pod", "node", "expected"),
    [
        pytest.param(
            make_pod().req(cpu="500m", memory="2Gi"),
            make_node().info(make_pod().req(cpu="2500m", memory="2Gi")),
            # cpu ((4000 - 3000) * 100) / 4000 = 25; memory ((8Gi - 4Gi) * 100) / 8Gi = 50;
            # (25 + 50) / 2 = 37
            37,
            id="worked example",
        ),
        pytest.param(
            make_pod(),
            make_node().cap(cpu="1", memory="1000Mi").info(),
            # nothing requested counts 100m / 200Mi: cpu (900 * 100) / 1000 = 90,
            # memory (800Mi * 100) / 1000Mi = 80; (90 + 80) / 2 = 85
            85,
            id="best-effort pod scored with the defaults",
        ),
        pytest.param(
            make_pod().req(cpu="1"),
            make_node().cap(cpu="2", memory="0").info(),
            # memory left out: cpu (1000 * 100) / 2000 = 50, weight sum 1
            50,
            id="a resource the node lacks is left out of the mean",
        ),
    ],
)
def test_least_allocated_score(pod: PodBuilder, node: NodeInfo, expected: int) -> None:
    """NodeResourcesFit's LeastAllocated score favours emptier nodes."""
    assert p.NodeResourcesFit().score(pod.info(), node, Snapshot([node])) == expected


@pytest.mark.parametrize(
    ("pod", "node", "expected"),
    [
        pytest.param(
            make_pod().req(cpu="1", memory="1Gi"),
            make_node().info(make_pod().req(cpu="2", memory="1Gi")),
            # cpu 3000 / 4000 = 0.75, memory 2Gi / 8Gi = 0.25, std = 0.25, (1 - 0.25) * 100 = 75
            75,
            id="worked example",
        ),
        pytest.param(
            make_pod().req(cpu="1", memory="2Gi"),
            make_node().info(),
            # 0.25 and 0.25: perfectly balanced
            100,
            id="balanced",
        ),
        pytest.param(
            make_pod(),
            make_node().info(),
            # real requests (no defaults): 0 and 0
            100,
            id="best-effort pod on an empty node",
        ),
        pytest.param(
            make_pod().req(cpu="8"),
            make_node().info(),
            # cpu fraction capped at 1, memory 0: std 0.5, score 50
            50,
            id="fractions are capped at 1",
        ),
        pytest.param(
            make_pod().req(cpu="1", memory="1Gi"),
            make_node().cap(cpu="3", memory="8Gi").info(),
            # 1/3 = 0.333..., 1/8 = 0.125, std = 0.104166..., (1 - std) * 100 = 89.58 -> 89
            89,
            id="float arithmetic truncated",
        ),
    ],
)
def test_balanced_allocation_score(pod: PodBuilder, node: NodeInfo, expected: int) -> None:
    """BalancedAllocation prefers nodes whose cpu and memory use stay in proportion."""
    plugin = p.NodeResourcesBalancedAllocation()
    assert plugin.score(pod.info(), node, Snapshot([node])) == expected


@pytest.mark.parametrize(
    ("scores", "reverse", "expected"),
    [
        pytest.param([0, 1, 2], True, [100, 50, 0], id="reversed counts"),
        pytest.param([0, 0, 0], True, [100, 100, 100], id="reversed, all zero"),
        pytest.param([0, 0, 0], False, [0, 0, 0], id="all zero"),
        pytest.param([80, 20, 100], False, [80, 20, 100], id="already 0-100"),
        pytest.param([1, 3], False, [33, 100], id="100 * 1 / 3 = 33"),
    ],
)
def test_default_normalize(scores: list[int], reverse: bool, expected: list[int]) -> None:
    """DefaultNormalizeScore scales the highest raw score to 100, optionally reversed."""
    highest = max(scores)
    assert [p.default_normalize(s, highest, reverse) for s in scores] == expected


@pytest.mark.parametrize(
    ("pod", "node", "expected"),
    [
        pytest.param(
            make_pod(), make_node().taint("spot", "true", "PreferNoSchedule"), 1, id="one"
        ),
        pytest.param(
            make_pod().tolerate("spot", operator="Exists", effect="PreferNoSchedule"),
            make_node().taint("spot", "true", "PreferNoSchedule"),
            0,
            id="tolerated",
        ),
        pytest.param(
            make_pod().tolerate("spot", operator="Exists", effect="NoSchedule"),
            make_node().taint("spot", "true", "PreferNoSchedule"),
            1,
            id="a NoSchedule toleration does not count",
        ),
        pytest.param(
            make_pod(), make_node().taint("spot", "true", "NoSchedule"), 0, id="hard taint"
        ),
        pytest.param(
            make_pod(),
            make_node().taint("a", effect="PreferNoSchedule").taint("b", effect="PreferNoSchedule"),
            2,
            id="two",
        ),
    ],
)
def test_taint_toleration_raw_score(pod: PodBuilder, node: NodeBuilder, expected: int) -> None:
    """The raw TaintToleration score counts PreferNoSchedule taints the pod does not tolerate."""
    info = node.info()
    assert p.TaintToleration().score(pod.info(), info, Snapshot([info])) == expected


def test_node_affinity_score_adds_matching_weights() -> None:
    """Preferred terms add their weights; 80 for the zone, 20 for the disk."""
    pod = (
        make_pod()
        .prefer(80, term(expr(ZONE, "In", "a")))
        .prefer(20, term(expr("disk", "In", "ssd")))
        .info()
    )
    plugin = p.NodeAffinity()
    both = make_node("n1").label(**{ZONE: "a", "disk": "ssd"}).info()
    zone = make_node("n2").label(**{ZONE: "a"}).info()
    neither = make_node("n3").info()
    snapshot = Snapshot([both, zone, neither])
    assert [plugin.score(pod, n, snapshot) for n in (both, zone, neither)] == [100, 80, 0]
    assert plugin.pre_score(make_pod().info(), snapshot) is False


def test_image_locality_worked_example() -> None:
    """A 500Mi image on 2 of 4 nodes: int(500Mi * 2 / 4) = 250Mi; 100 * (250 - 23) / 977 = 23."""
    size = 500 * Mi
    nodes = [
        make_node("a").image("registry.local/app:1", size).info(),
        make_node("b").image("registry.local/app:1", size).info(),
        make_node("c").info(),
        make_node("d").info(),
    ]
    snapshot = Snapshot(nodes)
    pod = make_pod().image("registry.local/app:1").info()
    scores = [p.ImageLocality().score(pod, node, snapshot) for node in nodes]
    assert scores == [23, 23, 0, 0]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("nginx", "nginx:latest", id="untagged"),
        pytest.param("nginx:1.27", "nginx:1.27", id="tagged"),
        pytest.param("registry:5000/app", "registry:5000/app:latest", id="registry port is no tag"),
    ],
)
def test_normalized_image_name(name: str, expected: str) -> None:
    """Image names without a tag are looked up as :latest."""
    assert normalized_image_name(name) == expected
