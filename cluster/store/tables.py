"""Server-side table printers: the columns ``kubectl get`` shows, computed by the API server.

kubectl 1.32 asks for ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the
cells it gets back verbatim (kubectl-contract §4). This module is Kubarium's version of
kube-apiserver's ``pkg/printers/internalversion/printers.go``: for each kind, the column
definitions and a function from an object (Kubernetes JSON, as ``objects.to_dict`` gives it) to
its cells, with upstream's strings, ``<none>``/``<unset>`` placeholders and cell types (a Go
``int64`` cell is a Python ``int``, a Go ``bool`` a Python ``bool``, everything else ``str``).

Like the real API server (``printers.GenerateOptions{Wide: true}`` in its TableConvertor), every
row carries the wide (priority 1) cells too; the client drops them unless ``-o wide``.

The API server defaults objects on write, so a real object never lacks e.g. ``spec.type`` on a
Service. The printers apply the same few defaults (listed where used) so that an object that
skipped defaulting still prints as it would on a cluster.

Public API: :func:`human_duration`, :func:`age`, :class:`Column`, :func:`columns_for`,
:func:`cells_for`, :func:`table` (the ``meta.k8s.io/v1`` Table) and :func:`render_text` /
:func:`print_table` (the text ``kubectl get`` prints from such a Table).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

from cluster.quantity import Quantity, QuantityError
from cluster.store.jsondata import copy_json

__all__ = [
    "INCLUDE_OBJECT_VALUES",
    "Column",
    "age",
    "cells_for",
    "columns_for",
    "human_duration",
    "print_table",
    "render_text",
    "row_conditions",
    "table",
]

# --- durations -------------------------------------------------------------------------------

_NS_PER_SECOND = 10**9
_NS_PER_MINUTE = 60 * _NS_PER_SECOND
_NS_PER_HOUR = 60 * _NS_PER_MINUTE


def _nanoseconds(value: float | int | dt.timedelta) -> int:
    """A duration as whole nanoseconds (Go's ``time.Duration``), truncated toward zero."""
    if isinstance(value, dt.timedelta):
        return (value.days * 86_400 + value.seconds) * _NS_PER_SECOND + value.microseconds * 1_000
    return int(Fraction(value) * _NS_PER_SECOND)  # int() of a Fraction truncates toward zero


def human_duration(seconds: float | int | dt.timedelta) -> str:
    """``duration.HumanDuration`` from k8s.io/apimachinery: ~2-3 significant figures.

    Rules, applied to the duration truncated to whole units (never rounded):

    - under -1s (i.e. -2s or less): ``<invalid>``; -1.9s .. -0s: ``0s`` (clock skew tolerance)
    - under 2 minutes: seconds, ``119s``
    - under 10 minutes: minutes and seconds, ``2m``, ``9m59s``
    - under 3 hours: minutes, ``10m``, ``179m``
    - under 8 hours: hours and minutes, ``3h``, ``7h59m``
    - under 2 days: hours, ``47h``
    - under 8 days: days and hours, ``2d``, ``7d23h``
    - under 2 years (730 days): days, ``729d``
    - under 8 years: years and days, ``2y``, ``7y364d`` (a year is 365 days)
    - otherwise years, ``8y``

    E.g. 190s: 190 >= 120, minutes = 190 // 60 = 3 < 10, seconds = 190 % 60 = 10 -> ``3m10s``.
    """
    d = _nanoseconds(seconds)
    whole_seconds = abs(d) // _NS_PER_SECOND * (-1 if d < 0 else 1)  # Go: int(d.Seconds())
    if whole_seconds < -1:
        return "<invalid>"
    if whole_seconds < 0:
        return "0s"
    if whole_seconds < 60 * 2:
        return f"{whole_seconds}s"
    minutes = d // _NS_PER_MINUTE
    if minutes < 10:
        s = (d // _NS_PER_SECOND) % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = d // _NS_PER_HOUR
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = hours // 24 // 365, (hours // 24) % 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def _parse_time(value: Any) -> dt.datetime | None:
    """A ``metav1.Time`` / ``MicroTime`` from JSON (RFC 3339); None when unset or unparsable.

    Kept here rather than imported from ``objects`` so that the printers stay free of the
    store's imports (and of Django).
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return _aware(moment)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _since(timestamp: Any, now: dt.datetime) -> str:
    """``translateTimestampSince``: ``HumanDuration(now - timestamp)``, ``<unknown>`` if unset."""
    moment = timestamp if isinstance(timestamp, dt.datetime) else _parse_time(timestamp)
    if moment is None:
        return "<unknown>"
    return human_duration(_aware(now) - _aware(moment))


def age(obj: dict, now: dt.datetime) -> str:
    """The Age cell: time since ``metadata.creationTimestamp``, ``<unknown>`` if absent."""
    return _since(_meta(obj).get("creationTimestamp"), now)


# --- columns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A ``TableColumnDefinition``; ``priority`` 1 columns are shown only with ``-o wide``."""

    name: str
    type: str = "string"
    format: str = ""
    priority: int = 0
    description: str = ""

    def definition(self) -> dict[str, Any]:
        """The JSON form; upstream always writes all five fields."""
        return asdict(self)


# ObjectMeta's swagger docs, which upstream uses for every Name and Age column.
_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_AGE_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_CONTAINERS_DOC = "Names of each container in the template."
_IMAGES_DOC = "Images referenced by each container in the template."

NAME = Column("Name", format="name", description=_NAME_DOC)
AGE = Column("Age", description=_AGE_DOC)


def _wide(name: str, description: str = "", type: str = "string") -> Column:
    return Column(name, type=type, priority=1, description=description)


def _int(name: str) -> Column:
    return Column(name, type="integer")


_TEMPLATE_WIDE = (_wide("Containers", _CONTAINERS_DOC), _wide("Images", _IMAGES_DOC))

_COLUMNS: dict[str, tuple[Column, ...]] = {
    "Pod": (
        NAME,
        Column(
            "Ready", description="The aggregate readiness state of this pod for accepting traffic."
        ),
        Column("Status", description="The aggregate status of the containers in this pod."),
        Column(
            "Restarts",
            description="The number of times the containers in this pod have been restarted "
            "and when the last container in this pod has restarted.",
        ),
        AGE,
        _wide("IP"),
        _wide("Node"),
        _wide("Nominated Node"),
        _wide("Readiness Gates"),
    ),
    "Node": (
        NAME,
        Column("Status", description="The status of the node"),
        Column("Roles", description="The roles of the node"),
        AGE,
        Column("Version"),
        _wide("Internal-IP"),
        _wide("External-IP"),
        _wide("OS-Image"),
        _wide("Kernel-Version"),
        _wide("Container-Runtime"),
    ),
    "Namespace": (NAME, Column("Status", description="The status of the namespace"), AGE),
    "Service": (
        NAME,
        Column("Type"),
        Column("Cluster-IP"),
        Column("External-IP"),
        Column("Port(s)"),
        AGE,
        _wide("Selector"),
    ),
    "Endpoints": (NAME, Column("Endpoints"), AGE),
    "Ingress": (
        NAME,
        Column(
            "Class",
            description="The name of the IngressClass resource that should be used for "
            "additional configuration",
        ),
        Column(
            "Hosts",
            description="Hosts that incoming requests are matched against before the ingress rule",
        ),
        Column(
            "Address",
            description="Address is a list containing ingress points for the load-balancer",
        ),
        Column("Ports", description="Ports of TLS configurations that open"),
        AGE,
    ),
    "ConfigMap": (NAME, Column("Data"), AGE),
    "Secret": (NAME, Column("Type"), Column("Data"), AGE),
    "PersistentVolume": (
        NAME,
        Column("Capacity"),
        Column("Access Modes"),
        Column("Reclaim Policy"),
        Column("Status"),
        Column("Claim"),
        Column("StorageClass", description="StorageClass of the pv"),
        Column("VolumeAttributesClass", description="VolumeAttributesClass of the pv"),
        Column("Reason"),
        AGE,
        _wide("VolumeMode"),
    ),
    "PersistentVolumeClaim": (
        NAME,
        Column("Status"),
        Column("Volume"),
        Column("Capacity"),
        Column("Access Modes"),
        Column("StorageClass", description="StorageClass of the pvc"),
        Column("VolumeAttributesClass", description="VolumeAttributesClass of the pvc"),
        AGE,
        _wide("VolumeMode"),
    ),
    "StorageClass": (
        NAME,
        Column("Provisioner"),
        Column("ReclaimPolicy"),
        Column("VolumeBindingMode"),
        Column("AllowVolumeExpansion"),
        AGE,
    ),
    "Deployment": (
        NAME,
        Column("Ready", description="Number of the pod with ready state"),
        Column("Up-to-date"),
        Column("Available"),
        AGE,
        *_TEMPLATE_WIDE,
        _wide("Selector"),
    ),
    "ReplicaSet": (
        NAME,
        _int("Desired"),
        _int("Current"),
        _int("Ready"),
        AGE,
        *_TEMPLATE_WIDE,
        _wide("Selector"),
    ),
    "StatefulSet": (
        NAME,
        Column("Ready", description="Number of the pod with ready state"),
        AGE,
        *_TEMPLATE_WIDE,
    ),
    "DaemonSet": (
        NAME,
        _int("Desired"),
        _int("Current"),
        _int("Ready"),
        _int("Up-to-date"),
        _int("Available"),
        Column("Node Selector"),
        AGE,
        *_TEMPLATE_WIDE,
        _wide("Selector"),
    ),
    "HorizontalPodAutoscaler": (
        NAME,
        Column("Reference"),
        Column("Targets"),
        Column("MinPods"),
        Column("MaxPods"),
        Column("Replicas"),
        AGE,
    ),
    "Event": (
        Column("Last Seen"),
        Column("Type"),
        Column("Reason"),
        Column("Object"),
        _wide("Subobject"),
        _wide("Source"),
        Column("Message"),
        _wide("First Seen"),
        _wide("Count"),
        Column("Name", format="name", priority=1, description=_NAME_DOC),
    ),
}

# apiserver's default TableConvertor, for kinds without a printer (CRD-like objects).
_DEFAULT_COLUMNS = (NAME, Column("Created At", type="date", description=_AGE_DOC))


def columns_for(kind: str) -> list[Column]:
    """The column definitions for ``kind`` ("Pod", "Deployment", ...), wide ones included."""
    return list(_COLUMNS.get(kind, _DEFAULT_COLUMNS))


# --- small readers ---------------------------------------------------------------------------


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def _strings(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def _meta(obj: dict) -> dict:
    return _dict(obj.get("metadata"))


def _name(obj: dict) -> str:
    return str(_meta(obj).get("name") or "")


def _int_of(value: Any, default: int = 0) -> int:
    """A JSON integer field; absent or malformed counts as ``default`` (Go's zero value)."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _quantity(value: Any) -> str:
    """``Quantity.String()`` of a JSON quantity: ``"1024Mi"`` -> ``"1Gi"``; missing -> ``"0"``."""
    try:
        return str(Quantity.from_json(value))
    except QuantityError:
        return str(value)


def _quantity_ptr(value: Any) -> str:
    """``(*Quantity).String()``: a nil pointer prints ``<nil>``."""
    return "<nil>" if value is None else _quantity(value)


def _format_labels(labels: Any) -> str:
    """``labels.FormatLabels``: ``k=v`` pairs sorted by key, comma-joined; ``<none>`` if empty."""
    pairs = sorted(_dict(labels).items())
    return ",".join(f"{k}={v}" for k, v in pairs) or "<none>"


def _selector_string(selector: Any) -> str | None:
    """``LabelSelectorAsSelector(sel).String()``; None when the selector is invalid.

    matchLabels become ``k=v``; expressions ``k in (a,b)``, ``k notin (a,b)``, ``k`` (Exists),
    ``!k`` (DoesNotExist), values sorted. All requirements are sorted by key and comma-joined.
    A nil or empty selector prints as "".
    """
    if not isinstance(selector, dict):
        return ""
    requirements: list[tuple[str, str]] = [
        (str(k), f"{k}={v}") for k, v in _dict(selector.get("matchLabels")).items()
    ]
    for expression in _dicts(selector.get("matchExpressions")):
        key, operator = str(expression.get("key") or ""), expression.get("operator")
        values = sorted(_strings(expression.get("values")))
        if operator in ("In", "NotIn"):
            if not values:
                return None
            word = "in" if operator == "In" else "notin"
            requirements.append((key, f"{key} {word} ({','.join(values)})"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                return None
            requirements.append((key, key if operator == "Exists" else f"!{key}"))
        else:
            return None
    requirements.sort(key=lambda requirement: requirement[0])
    return ",".join(text for _key, text in requirements)


def _format_label_selector(selector: Any) -> str:
    """``metav1.FormatLabelSelector``: like the above, ``<none>`` if empty, ``<error>`` if bad."""
    text = _selector_string(selector)
    if text is None:
        return "<error>"
    return text or "<none>"


def _container_cells(pod_spec: Any) -> tuple[str, str]:
    """``layoutContainerCells``: container names and images, each comma-joined."""
    containers = _dicts(_dict(pod_spec).get("containers"))
    names = ",".join(str(c.get("name") or "") for c in containers)
    images = ",".join(str(c.get("image") or "") for c in containers)
    return names, images


def _template_spec(obj: dict) -> dict:
    return _dict(_dict(_dict(obj.get("spec")).get("template")).get("spec"))


def _condition(conditions: Any, condition_type: str) -> dict | None:
    for condition in _dicts(conditions):
        if condition.get("type") == condition_type:
            return condition
    return None


def _join_host_port(host: str, port: Any) -> str:
    """``net.JoinHostPort``: IPv6 hosts get brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _load_balancer_addresses(status: Any) -> str:
    """Ingress IPs (or hostnames), de-duplicated, sorted, comma-joined.

    Upstream clips this to 16 characters only for narrow output; the server prints wide.
    """
    addresses = set()
    for ingress in _dicts(_dict(_dict(status).get("loadBalancer")).get("ingress")):
        if ingress.get("ip"):
            addresses.add(str(ingress["ip"]))
        elif ingress.get("hostname"):
            addresses.add(str(ingress["hostname"]))
    return ",".join(sorted(addresses))


def _access_modes(modes: Any) -> str:
    """``GetAccessModesAsString``: always in the order RWO, ROX, RWX, RWOP."""
    present = set(_strings(modes))
    order = (
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    )
    return ",".join(short for mode, short in order if mode in present)


_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"


def _storage_class_of(obj: dict) -> str:
    """The beta annotation wins over ``spec.storageClassName`` (``GetPersistentVolume*Class``)."""
    annotations = _dict(_meta(obj).get("annotations"))
    if _BETA_STORAGE_CLASS in annotations:
        return str(annotations[_BETA_STORAGE_CLASS])
    return str(_dict(obj.get("spec")).get("storageClassName") or "")


# --- printers, one per kind --------------------------------------------------------------------

Cells = list[Any]


def _is_restartable_init(container: dict | None) -> bool:
    """A sidecar: an init container with ``restartPolicy: Always``."""
    return container is not None and container.get("restartPolicy") == "Always"


def _finished_at(container_status: dict) -> dt.datetime | None:
    terminated = _dict(_dict(container_status.get("lastState")).get("terminated"))
    return _parse_time(terminated.get("finishedAt"))


def _later(current: dt.datetime | None, candidate: dt.datetime | None) -> dt.datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or current < candidate else current


def _terminated_reason(terminated: dict, prefix: str = "") -> str:
    """``Init:Error``, or ``Signal:9`` / ``ExitCode:1`` when the runtime gave no reason."""
    if terminated.get("reason"):
        return prefix + str(terminated["reason"])
    signal = _int_of(terminated.get("signal"))
    if signal != 0:
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{_int_of(terminated.get('exitCode'))}"


def _print_pod(pod: dict, now: dt.datetime) -> Cells:
    """``printPod``: Ready ``n/m``, a Status reason as kubectl shows it, Restarts, Age, wide.

    Status starts from ``status.reason`` or the phase, then the first init container that has
    not succeeded decides it (``Init:1/2``, ``Init:CrashLoopBackOff``, ``Init:Error``), else the
    first app container with a waiting or terminated reason (``ContainerCreating``,
    ``CrashLoopBackOff``, ``Completed``...). ``Completed`` with a container still running
    becomes ``Running`` (or ``NotReady``). A deletionTimestamp makes it ``Terminating`` unless
    the phase is terminal (or ``Unknown`` for a pod lost with its node). Restarts reads
    ``2 (5m ago)`` when the latest ``lastState.terminated.finishedAt`` is known.
    """
    spec, status, meta = _dict(pod.get("spec")), _dict(pod.get("status")), _meta(pod)
    init_specs = _dicts(spec.get("initContainers"))
    init_by_name = {str(c.get("name")): c for c in init_specs}
    total = len(_dicts(spec.get("containers"))) + sum(map(_is_restartable_init, init_specs))
    phase = str(status.get("phase") or "Pending")  # PrepareForCreate sets Pending
    reason = str(status.get("reason") or phase)
    conditions = status.get("conditions")
    scheduled = _condition(conditions, "PodScheduled")
    if scheduled and scheduled.get("reason") == "SchedulingGated":
        reason = "SchedulingGated"

    restarts = restartable_restarts = ready = 0
    last_restart: dt.datetime | None = None
    last_restartable_restart: dt.datetime | None = None
    initializing = False
    for index, container in enumerate(_dicts(status.get("initContainerStatuses"))):
        restart_count = _int_of(container.get("restartCount"))
        restarts += restart_count
        finished = _finished_at(container)
        last_restart = _later(last_restart, finished)
        restartable = _is_restartable_init(init_by_name.get(str(container.get("name"))))
        if restartable:
            restartable_restarts += restart_count
            last_restartable_restart = _later(last_restartable_restart, finished)
        state = _dict(container.get("state"))
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if isinstance(terminated, dict) and _int_of(terminated.get("exitCode")) == 0:
            continue
        if restartable and container.get("started") is True:
            ready += 1 if container.get("ready") is True else 0
            continue
        if isinstance(terminated, dict):
            reason = _terminated_reason(terminated, "Init:")
        elif (
            isinstance(waiting, dict)
            and waiting.get("reason")
            and waiting.get("reason") != "PodInitializing"
        ):
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break

    initialized = _condition(conditions, "Initialized")
    if not initializing or (initialized is not None and initialized.get("status") == "True"):
        restarts, last_restart = restartable_restarts, last_restartable_restart
        has_running = False
        # Walk backwards so that the first container's reason is the one left standing.
        for container in reversed(_dicts(status.get("containerStatuses"))):
            restarts += _int_of(container.get("restartCount"))
            last_restart = _later(last_restart, _finished_at(container))
            state = _dict(container.get("state"))
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if isinstance(waiting, dict) and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif isinstance(terminated, dict):
                reason = _terminated_reason(terminated)
            elif container.get("ready") is True and isinstance(state.get("running"), dict):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = _condition(conditions, "Ready")
            reason = "Running" if pod_ready and pod_ready.get("status") == "True" else "NotReady"

    if meta.get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restarts_text = str(restarts)
    if restarts != 0 and last_restart is not None:
        restarts_text = f"{restarts} ({_since(last_restart, now)} ago)"

    # v1 -> internal conversion: status.podIP is authoritative over status.podIPs.
    pod_ips = _dicts(status.get("podIPs"))
    pod_ip = str(status.get("podIP") or (pod_ips[0].get("ip") if pod_ips else "") or "")
    gates = _dicts(spec.get("readinessGates"))
    readiness_gates = "<none>"
    if gates:
        true_conditions = 0
        for gate in gates:
            condition = _condition(conditions, str(gate.get("conditionType")))
            if condition is not None and condition.get("status") == "True":
                true_conditions += 1
        readiness_gates = f"{true_conditions}/{len(gates)}"
    return [
        _name(pod),
        f"{ready}/{total}",
        reason,
        restarts_text,
        age(pod, now),
        pod_ip or "<none>",
        str(spec.get("nodeName") or "<none>"),
        str(status.get("nominatedNodeName") or "<none>"),
        readiness_gates,
    ]


def row_conditions(kind: str, obj: dict) -> list[dict]:
    """Row conditions upstream sets: a finished pod's row is ``Completed``."""
    if kind != "Pod":
        return []
    phase = _dict(obj.get("status")).get("phase")
    messages = {
        "Succeeded": "The pod has completed successfully.",
        "Failed": "The pod failed.",
    }
    if phase not in messages:
        return []
    return [{"type": "Completed", "status": "True", "reason": phase, "message": messages[phase]}]


def _node_roles(labels: dict) -> str:
    """``findNodeRoles``: ``node-role.kubernetes.io/<role>`` keys and ``kubernetes.io/role``."""
    roles = set()
    for key, value in labels.items():
        if key.startswith("node-role.kubernetes.io/"):
            role = key.removeprefix("node-role.kubernetes.io/")
            if role:
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(str(value))
    return ",".join(sorted(roles)) or "<none>"


def _node_address(status: dict, address_type: str) -> str:
    for address in _dicts(status.get("addresses")):
        if address.get("type") == address_type:
            return str(address.get("address") or "")
    return "<none>"


def _print_node(node: dict, now: dt.datetime) -> Cells:
    """``printNode``: ``Ready``/``NotReady``/``Unknown`` from the Ready condition, plus
    ``,SchedulingDisabled`` when cordoned; Roles from labels; kubelet version; wide info."""
    spec, status = _dict(node.get("spec")), _dict(node.get("status"))
    # Go builds a map by condition type, so the last Ready condition wins.
    ready = [c for c in _dicts(status.get("conditions")) if c.get("type") == "Ready"]
    states = []
    if ready:
        states.append("Ready" if ready[-1].get("status") == "True" else "NotReady")
    else:
        states.append("Unknown")
    if spec.get("unschedulable") is True:
        states.append("SchedulingDisabled")
    info = _dict(status.get("nodeInfo"))
    return [
        _name(node),
        ",".join(states),
        _node_roles(_dict(_meta(node).get("labels"))),
        age(node, now),
        str(info.get("kubeletVersion") or ""),
        _node_address(status, "InternalIP"),
        _node_address(status, "ExternalIP"),
        str(info.get("osImage") or "<unknown>"),
        str(info.get("kernelVersion") or "<unknown>"),
        str(info.get("containerRuntimeVersion") or "<unknown>"),
    ]


def _print_namespace(namespace: dict, now: dt.datetime) -> Cells:
    phase = _dict(namespace.get("status")).get("phase") or "Active"  # defaulted on write
    return [_name(namespace), str(phase), age(namespace, now)]


def _service_external_ip(spec: dict, status: dict, service_type: str) -> str:
    """``getServiceExternalIP`` (wide): ``<none>``, ``<pending>``, the LB ingress, externalIPs."""
    external_ips = _strings(spec.get("externalIPs"))
    if service_type in ("ClusterIP", "NodePort"):
        return ",".join(external_ips) if external_ips else "<none>"
    if service_type == "LoadBalancer":
        lb_ips = _load_balancer_addresses(status)
        if external_ips:
            return ",".join((lb_ips.split(",") if lb_ips else []) + external_ips)
        return lb_ips or "<pending>"
    if service_type == "ExternalName":
        return str(spec.get("externalName") or "")
    return "<unknown>"


def _service_ports(ports: Any) -> str:
    """``makePortString``: ``80/TCP``, or ``80:30080/TCP`` with a node port; ``<none>``."""
    pieces = []
    for port in _dicts(ports):
        protocol = port.get("protocol") or "TCP"  # defaulted on write
        node_port = _int_of(port.get("nodePort"))
        if node_port > 0:
            pieces.append(f"{_int_of(port.get('port'))}:{node_port}/{protocol}")
        else:
            pieces.append(f"{_int_of(port.get('port'))}/{protocol}")
    return ",".join(pieces) or "<none>"


def _print_service(service: dict, now: dt.datetime) -> Cells:
    spec, status = _dict(service.get("spec")), _dict(service.get("status"))
    service_type = str(spec.get("type") or "ClusterIP")  # defaulted on write
    # v1 -> internal conversion: spec.clusterIP is authoritative over spec.clusterIPs.
    cluster_ips = _strings(spec.get("clusterIPs"))
    cluster_ip = spec.get("clusterIP") or (cluster_ips[0] if cluster_ips else "") or "<none>"
    return [
        _name(service),
        service_type,
        str(cluster_ip),
        _service_external_ip(spec, status, service_type),
        _service_ports(spec.get("ports")),
        age(service, now),
        _format_labels(spec.get("selector")),
    ]


def _format_endpoints(endpoints: dict) -> str:
    """``formatEndpoints``: up to 3 ``ip:port`` (or bare IPs for port-less subsets), then
    ``+ N more...`` where N counts every further address*port pair; ``<none>`` if no subsets.

    E.g. 5 addresses on one port: 3 listed, count = 5, ``+ 2 more...``.
    """
    subsets = _dicts(endpoints.get("subsets"))
    if not subsets:
        return "<none>"
    listed: list[str] = []
    limit, more, count = 3, False, 0
    for subset in subsets:
        addresses = _dicts(subset.get("addresses"))
        ports = _dicts(subset.get("ports"))
        if not ports:
            count += len(addresses)
            for address in addresses:
                if len(listed) == limit:
                    more = True
                    break
                listed.append(str(address.get("ip") or ""))
            continue
        for port in ports:
            count += len(addresses)
            for address in addresses:
                if len(listed) == limit:
                    more = True
                    break
                ip = str(address.get("ip") or "")
                listed.append(_join_host_port(ip, _int_of(port.get("port"))))
    text = ",".join(listed)
    return f"{text} + {count - limit} more..." if more else text


def _print_endpoints(endpoints: dict, now: dt.datetime) -> Cells:
    return [_name(endpoints), _format_endpoints(endpoints), age(endpoints, now)]


def _format_hosts(rules: list[dict]) -> str:
    """``formatHosts``: up to 3 rule hosts, ``+ N more...`` (N = rules - 3), ``*`` if none."""
    hosts: list[str] = []
    limit, more = 3, False
    for rule in rules:
        if len(hosts) == limit:
            more = True
        if not more and rule.get("host"):
            hosts.append(str(rule["host"]))
    if not hosts:
        return "*"
    text = ",".join(hosts)
    return f"{text} + {len(rules) - limit} more..." if more else text


def _print_ingress(ingress: dict, now: dt.datetime) -> Cells:
    spec = _dict(ingress.get("spec"))
    class_name = spec.get("ingressClassName")
    return [
        _name(ingress),
        "<none>" if class_name is None else str(class_name),
        _format_hosts(_dicts(spec.get("rules"))),
        _load_balancer_addresses(ingress.get("status")),
        "80, 443" if _dicts(spec.get("tls")) else "80",
        age(ingress, now),
    ]


def _print_config_map(config_map: dict, now: dt.datetime) -> Cells:
    count = len(_dict(config_map.get("data"))) + len(_dict(config_map.get("binaryData")))
    return [_name(config_map), count, age(config_map, now)]


def _print_secret(secret: dict, now: dt.datetime) -> Cells:
    # stringData is write-only (merged into data on write); count its keys in case it was kept.
    keys = set(_dict(secret.get("data"))) | set(_dict(secret.get("stringData")))
    secret_type = secret.get("type") or "Opaque"  # defaulted on write
    return [_name(secret), str(secret_type), len(keys), age(secret, now)]


def _print_persistent_volume(volume: dict, now: dt.datetime) -> Cells:
    spec, status = _dict(volume.get("spec")), _dict(volume.get("status"))
    claim_ref = spec.get("claimRef")
    claim = ""
    if isinstance(claim_ref, dict):
        claim = f"{claim_ref.get('namespace') or ''}/{claim_ref.get('name') or ''}"
    phase = status.get("phase") or "Pending"  # defaulted on write
    if _meta(volume).get("deletionTimestamp"):
        phase = "Terminating"
    attributes_class = spec.get("volumeAttributesClassName")
    return [
        _name(volume),
        _quantity(_dict(spec.get("capacity")).get("storage")),
        _access_modes(spec.get("accessModes")),
        str(spec.get("persistentVolumeReclaimPolicy") or "Retain"),  # defaulted on write
        str(phase),
        claim,
        _storage_class_of(volume),
        "<unset>" if attributes_class is None else str(attributes_class),
        str(status.get("reason") or ""),
        age(volume, now),
        str(spec.get("volumeMode") or "Filesystem"),  # defaulted on write
    ]


def _print_persistent_volume_claim(claim: dict, now: dt.datetime) -> Cells:
    """Capacity and access modes come from status, and only once ``spec.volumeName`` is set."""
    spec, status = _dict(claim.get("spec")), _dict(claim.get("status"))
    phase = status.get("phase") or "Pending"  # defaulted on write
    if _meta(claim).get("deletionTimestamp"):
        phase = "Terminating"
    volume_name = str(spec.get("volumeName") or "")
    capacity = access_modes = ""
    if volume_name:
        access_modes = _access_modes(status.get("accessModes"))
        capacity = _quantity(_dict(status.get("capacity")).get("storage"))
    attributes_class = spec.get("volumeAttributesClassName")
    return [
        _name(claim),
        str(phase),
        volume_name,
        capacity,
        access_modes,
        _storage_class_of(claim),
        "<unset>" if attributes_class is None else str(attributes_class),
        age(claim, now),
        str(spec.get("volumeMode") or "Filesystem"),  # defaulted on write
    ]


_DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def _print_storage_class(storage_class: dict, now: dt.datetime) -> Cells:
    annotations = _dict(_meta(storage_class).get("annotations"))
    name = _name(storage_class)
    if any(annotations.get(key) == "true" for key in _DEFAULT_CLASS_ANNOTATIONS):
        name += " (default)"
    expansion = storage_class.get("allowVolumeExpansion")
    return [
        name,
        str(storage_class.get("provisioner") or ""),
        str(storage_class.get("reclaimPolicy") or "Delete"),
        str(storage_class.get("volumeBindingMode") or "Immediate"),
        expansion is True,
        age(storage_class, now),
    ]


def _replicas(spec: dict) -> int:
    """``spec.replicas``, defaulted to 1 on write."""
    return _int_of(spec.get("replicas"), 1)


def _print_deployment(deployment: dict, now: dt.datetime) -> Cells:
    spec, status = _dict(deployment.get("spec")), _dict(deployment.get("status"))
    names, images = _container_cells(_template_spec(deployment))
    selector = _selector_string(spec.get("selector"))
    return [
        _name(deployment),
        f"{_int_of(status.get('readyReplicas'))}/{_replicas(spec)}",
        _int_of(status.get("updatedReplicas")),
        _int_of(status.get("availableReplicas")),
        age(deployment, now),
        names,
        images,
        "<invalid>" if selector is None else selector,
    ]


def _print_replica_set(replica_set: dict, now: dt.datetime) -> Cells:
    spec, status = _dict(replica_set.get("spec")), _dict(replica_set.get("status"))
    names, images = _container_cells(_template_spec(replica_set))
    return [
        _name(replica_set),
        _replicas(spec),
        _int_of(status.get("replicas")),
        _int_of(status.get("readyReplicas")),
        age(replica_set, now),
        names,
        images,
        _format_label_selector(spec.get("selector")),
    ]


def _print_stateful_set(stateful_set: dict, now: dt.datetime) -> Cells:
    spec, status = _dict(stateful_set.get("spec")), _dict(stateful_set.get("status"))
    names, images = _container_cells(_template_spec(stateful_set))
    return [
        _name(stateful_set),
        f"{_int_of(status.get('readyReplicas'))}/{_replicas(spec)}",
        age(stateful_set, now),
        names,
        images,
    ]


def _print_daemon_set(daemon_set: dict, now: dt.datetime) -> Cells:
    spec, status = _dict(daemon_set.get("spec")), _dict(daemon_set.get("status"))
    template_spec = _template_spec(daemon_set)
    names, images = _container_cells(template_spec)
    return [
        _name(daemon_set),
        _int_of(status.get("desiredNumberScheduled")),
        _int_of(status.get("currentNumberScheduled")),
        _int_of(status.get("numberReady")),
        _int_of(status.get("updatedNumberScheduled")),
        _int_of(status.get("numberAvailable")),
        _format_labels(template_spec.get("nodeSelector")),
        age(daemon_set, now),
        names,
        images,
        _format_label_selector(spec.get("selector")),
    ]


def _metric_target(
    name: str, target: dict, status: dict | None, current_key: str = "current"
) -> str:
    """``cpu: 45%/60%`` (utilization) or ``cpu: 200m/500m`` (average value) for one metric.

    The current value comes from the status entry at the same index; without it, or without
    ``averageUtilization`` in it, it reads ``<unknown>``. A target without utilization reads
    ``<auto>``.
    """
    if target.get("averageValue") is not None:
        current = "<unknown>"
        if status is not None:
            current = _quantity_ptr(_dict(status.get(current_key)).get("averageValue"))
        return f"{name}: {current}/{_quantity_ptr(target.get('averageValue'))}"
    current = "<unknown>"
    if status is not None:
        utilization = _dict(status.get(current_key)).get("averageUtilization")
        if utilization is not None:
            current = f"{_int_of(utilization)}%"
    utilization = target.get("averageUtilization")
    wanted = "<auto>" if utilization is None else f"{_int_of(utilization)}%"
    return f"{name}: {current}/{wanted}"


def _value_target(target: dict, status: dict | None) -> str:
    """External and Object metrics: ``cur/target (avg)`` for averageValue, else ``cur/target``."""
    current_of = _dict(status.get("current")) if status is not None else None
    if target.get("averageValue") is not None:
        current = "<unknown>"
        if current_of is not None and current_of.get("averageValue") is not None:
            current = _quantity(current_of["averageValue"])
        return f"{current}/{_quantity_ptr(target.get('averageValue'))} (avg)"
    current = "<unknown>" if current_of is None else _quantity_ptr(current_of.get("value"))
    return f"{current}/{_quantity_ptr(target.get('value'))}"


def _format_hpa_metrics(specs: list[dict], statuses: list[dict]) -> str:
    """``formatHPAMetrics``: one entry per spec metric, matched to ``status.currentMetrics``
    by index; at most 2 shown, then ``+ N more...``; ``<none>`` without metrics."""
    if not specs:
        return "<none>"
    entries = []
    for index, spec in enumerate(specs):
        status_entry = statuses[index] if index < len(statuses) else {}
        metric_type = spec.get("type")
        source_key = {
            "External": "external",
            "Pods": "pods",
            "Object": "object",
            "Resource": "resource",
            "ContainerResource": "containerResource",
        }.get(str(metric_type))
        if source_key is None:
            entries.append("<unknown type>")
            continue
        source = _dict(spec.get(source_key))
        target = _dict(source.get("target"))
        status_source = status_entry.get(source_key)
        status_source = status_source if isinstance(status_source, dict) else None
        if metric_type in ("External", "Object"):
            entries.append(_value_target(target, status_source))
        elif metric_type == "Pods":
            current = "<unknown>"
            if status_source is not None:
                current = _quantity_ptr(_dict(status_source.get("current")).get("averageValue"))
            entries.append(f"{current}/{_quantity_ptr(target.get('averageValue'))}")
        else:
            entries.append(_metric_target(str(source.get("name") or ""), target, status_source))
    limit = 2
    if len(entries) > limit:
        return f"{', '.join(entries[:limit])} + {len(entries) - limit} more..."
    return ", ".join(entries)


def _print_hpa(hpa: dict, now: dt.datetime) -> Cells:
    """``printHorizontalPodAutoscaler`` (autoscaling/v2): Reference ``Deployment/web``,
    Targets ``cpu: 45%/60%``, MinPods (a string), MaxPods and Replicas (integers)."""
    spec, status = _dict(hpa.get("spec")), _dict(hpa.get("status"))
    target = _dict(spec.get("scaleTargetRef"))
    return [
        _name(hpa),
        f"{target.get('kind') or ''}/{target.get('name') or ''}",
        _format_hpa_metrics(_dicts(spec.get("metrics")), _dicts(status.get("currentMetrics"))),
        str(_int_of(spec.get("minReplicas"), 1)),  # defaulted to 1, so never "<unset>"
        _int_of(spec.get("maxReplicas")),
        _int_of(status.get("currentReplicas")),
        age(hpa, now),
    ]


def _event_source(event: dict) -> str:
    """``formatEventSource``: component (or reportingComponent), then ``, host`` if any."""
    source = _dict(event.get("source"))
    component = source.get("component") or event.get("reportingComponent") or ""
    instance = source.get("host") or event.get("reportingInstance") or ""
    return f"{component}, {instance}" if instance else str(component)


def _print_event(event: dict, now: dt.datetime) -> Cells:
    """``printEvent``: Last Seen falls back to First Seen, which falls back to eventTime; a
    series overrides Last Seen and Count; a count of 0 reads 1; Object is ``pod/web-1``."""
    first_seen = _since(event.get("firstTimestamp"), now)
    if _parse_time(event.get("firstTimestamp")) is None:
        first_seen = _since(event.get("eventTime"), now)
    last_seen = _since(event.get("lastTimestamp"), now)
    if _parse_time(event.get("lastTimestamp")) is None:
        last_seen = first_seen
    count = _int_of(event.get("count"))
    series = event.get("series")
    if isinstance(series, dict):
        last_seen = _since(series.get("lastObservedTime"), now)
        count = _int_of(series.get("count"))
    elif count == 0:
        count = 1
    involved = _dict(event.get("involvedObject"))
    kind = str(involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    return [
        last_seen,
        str(event.get("type") or ""),
        str(event.get("reason") or ""),
        target,
        str(involved.get("fieldPath") or ""),
        _event_source(event),
        str(event.get("message") or "").strip(),
        first_seen,
        count,
        _name(event),
    ]


def _print_default(obj: dict, now: dt.datetime) -> Cells:
    """apiserver's default TableConvertor: the name and the RFC 3339 creation time."""
    created = _parse_time(_meta(obj).get("creationTimestamp"))
    if created is None:
        return [_name(obj), "0001-01-01T00:00:00Z"]  # Go's zero time
    return [_name(obj), created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]


_PRINTERS: dict[str, Callable[[dict, dt.datetime], Cells]] = {
    "Pod": _print_pod,
    "Node": _print_node,
    "Namespace": _print_namespace,
    "Service": _print_service,
    "Endpoints": _print_endpoints,
    "Ingress": _print_ingress,
    "ConfigMap": _print_config_map,
    "Secret": _print_secret,
    "PersistentVolume": _print_persistent_volume,
    "PersistentVolumeClaim": _print_persistent_volume_claim,
    "StorageClass": _print_storage_class,
    "Deployment": _print_deployment,
    "ReplicaSet": _print_replica_set,
    "StatefulSet": _print_stateful_set,
    "DaemonSet": _print_daemon_set,
    "HorizontalPodAutoscaler": _print_hpa,
    "Event": _print_event,
}


def cells_for(obj: dict, now: dt.datetime, kind: str | None = None) -> list:
    """One cell per column of ``columns_for(kind)``, in order; ``kind`` defaults to obj's."""
    printer = _PRINTERS.get(kind or str(obj.get("kind") or ""), _print_default)
    return printer(obj, now)


# --- the Table ---------------------------------------------------------------------------------

INCLUDE_OBJECT_VALUES = ("None", "Metadata", "Object")


def _row_object(obj: dict, include_object: str) -> dict | None:
    # Copies (the Table's objects are not the caller's), by copy_json: copy.deepcopy of each
    # row's metadata was a fifth of the time of a page of 500 pods.
    if include_object == "Object":
        return copy_json(obj)
    if include_object == "None":
        return None
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": copy_json(_meta(obj)),
    }


def table(
    kind: str,
    objects: Iterable[dict],
    now: dt.datetime,
    *,
    resource_version: str = "",
    include_object: str = "Metadata",
) -> dict:
    """The ``meta.k8s.io/v1`` Table for ``objects`` of ``kind`` (kubectl-contract §4.2).

    ``include_object`` is the ``includeObject`` query parameter: ``Metadata`` (the default, also
    for "") puts a PartialObjectMetadata in each row, ``Object`` the whole object (kubectl's
    ``--sort-by``), ``None`` a null object. Any other value raises ValueError.
    """
    include_object = include_object or "Metadata"
    if include_object not in INCLUDE_OBJECT_VALUES:
        raise ValueError(
            f'includeObject: Unsupported value: "{include_object}": supported values: '
            '"None", "Metadata", "Object"'
        )
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": cells_for(obj, now, kind)}
        conditions = row_conditions(kind, obj)
        if conditions:
            row["conditions"] = conditions
        row["object"] = _row_object(obj, include_object)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version} if resource_version else {},
        "columnDefinitions": [column.definition() for column in columns_for(kind)],
        "rows": rows,
    }


# --- text, as kubectl prints a Table ----------------------------------------------------------

# cli-runtime's tabwriter: minwidth 6, padding 3, padded with spaces.
_MIN_WIDTH = 6
_PADDING = 3


def _cell_text(cell: Any) -> str:
    """How kubectl prints one cell: strings cut at the first line break (then ``...``), Go's
    ``fmt.Sprint`` for the rest (``true``, ``3``), ESC and CR escaped; nil prints nothing."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        text = "true" if cell else "false"
    elif isinstance(cell, str):
        text = cell
        breaks = [i for i in (text.find("\f"), text.find("\n"), text.find("\r")) if i >= 0]
        if breaks:
            text = text[: min(breaks)] + "..."
    else:
        text = str(cell)
    return text.replace("\x1b", "^[").replace("\r", "\\r")


def _tabulate(lines: list[list[str]]) -> str:
    """Go's tabwriter as kubectl configures it: every column but the last is padded to
    max(6, its widest cell + 3); the last column is not padded.

    E.g. NAME cells "NAME" and "web-1": max(6, 5 + 3) = 8 characters wide.
    """
    if not lines:
        return ""
    columns = len(lines[0])
    widths = [
        max(_MIN_WIDTH, max(len(line[i]) for line in lines) + _PADDING) for i in range(columns - 1)
    ]
    out = []
    for line in lines:
        padded = [cell.ljust(widths[i]) for i, cell in enumerate(line[:-1])]
        out.append("".join(padded) + line[-1])
    return "\n".join(out) + "\n"


def print_table(
    tbl: dict, *, wide: bool = False, all_namespaces: bool = False, show_labels: bool = False
) -> str:
    """The text ``kubectl get`` prints for a Table: upper-case headers, priority 1 columns only
    when ``wide``, NAMESPACE first with ``all_namespaces`` and LABELS last with ``show_labels``
    (both read from each row's object metadata). An empty table prints nothing, as kubectl
    (which then says "No resources found" on stderr)."""
    rows = tbl.get("rows") or []
    if not rows:
        return ""
    definitions = tbl.get("columnDefinitions") or []
    visible = [i for i, c in enumerate(definitions) if wide or not c.get("priority")]
    header = [str(definitions[i].get("name", "")).upper() for i in visible]
    if all_namespaces:
        header.insert(0, "NAMESPACE")
    if show_labels:
        header.append("LABELS")
    lines = [header]
    for row in rows:
        cells = row.get("cells") or []
        line = [_cell_text(cells[i] if i < len(cells) else None) for i in visible]
        metadata = _dict(_dict(row.get("object")).get("metadata"))
        if all_namespaces:
            line.insert(0, _cell_text(str(metadata.get("namespace") or "")))
        if show_labels:
            line.append(_cell_text(_format_labels(metadata.get("labels"))))
        lines.append(line)
    return _tabulate(lines)


def render_text(
    kind: str,
    objects: Iterable[dict],
    now: dt.datetime,
    *,
    wide: bool = False,
    all_namespaces: bool = False,
    show_labels: bool = False,
) -> str:
    """What ``kubectl get KIND`` prints for ``objects``; for ``manage.py get``.

    Pass ``all_namespaces`` only for namespaced kinds: kubectl adds no NAMESPACE column to
    cluster-scoped resources even with ``-A``.
    """
    return print_table(
        table(kind, objects, now), wide=wide, all_namespaces=all_namespaces, show_labels=show_labels
    )
