"""The kubelet's pod lifecycle as a pure state machine in simulated time.

:func:`advance_pod` takes a bound pod, a view of its node, the simulated time ``now``, the
kubelet's configuration, the world it can see (ConfigMaps, Secrets, the node's images) and the
container runtime's record of the pod from the previous call. It replays every transition that
fell due up to ``now``, each at its own simulated instant, and returns a :class:`PodStep`: the new
pod status (or None when it did not change), the events the kubelet emitted, when to call again,
whether the pod can now be removed, the runtime's new record and the node's image cache.

The stages and their texts follow kubelet v1.32:

* volumes: a missing ConfigMap or Secret volume is ``FailedMount``, retried with a back-off of
  0.5 s doubling to 2m2s; the pod sandbox is created after the volumes are mounted, and gets the
  pod IP (``PodReadyToStartContainers``).
* image: ``Pulled`` ("already present on machine") or ``Pulling`` then ``Pulled`` ("Successfully
  pulled image ... Image size: N bytes."); a failed pull is ``Failed`` + ``Failed`` (``Error:
  ErrImagePull``), then ``BackOff`` + ``Failed`` (``Error: ImagePullBackOff``) while the image
  back-off (10 s doubling to 300 s) runs.
* create: environment from ConfigMaps and Secrets (``CreateContainerConfigError``), then
  ``Created`` and ``Started``.
* run: a container exits when its command finishes, crashes, or is OOM-killed; the restart
  policy decides whether it restarts. The first restart is immediate; after that the container
  waits in ``CrashLoopBackOff`` 10 s, 20 s, 40 s ... up to 300 s (reset after ten minutes without
  a crash), exactly as ``flowcontrol.Backoff`` with the kubelet's settings computes it.
* init containers run one at a time, in order, before any app container. A restartable init
  container (a sidecar, ``restartPolicy: Always``) only has to start; it keeps running beside the
  app containers and is stopped when those of a run-to-completion pod have finished.
* a changed image (``kubectl set image`` on a bare pod) kills the container ("Container main
  definition changed, will be restarted") and starts the new one, whatever the restart policy.
* deletion: ``Killing`` ("Stopping container main"); a container that handles SIGTERM exits
  after its stop time, one that ignores it is killed (exit 137) when the grace period ends; once
  nothing runs, ``delete_now`` is set.

What the kubelet and containerd keep in memory between syncs (pull attempts, back-off entries,
when a container started or will exit) is not part of the pod's status. It lives in the
*runtime record*, a JSON-ready dict returned as ``PodStep.runtime``: the caller stores it and
passes it back next time. Without a record the kubelet adopts what the pod status shows (running
containers keep running), as a restarted kubelet does.

Fault injection comes from pod annotations (``kubarium.io/<flag>`` for all app containers,
``kubarium.io/<flag>.<container>`` for one container, init containers included):

=========================== ============================================================
``crash: "true"``           exit with ``exit-code`` (default 1) after ``crash-after-seconds``
``crash: "false"``          never exit on its own (overrides the image's default behaviour)
``exit-code: "2"``          the exit code of an injected crash
``crash-after-seconds``     run time before a crash or an OOM kill (default 2)
``memory-usage: "300Mi"``   memory in use; above ``limits.memory`` the container is OOMKilled
``cpu-usage: "250m"``       CPU in use (for metrics; see ``cluster.kubelet.logs.usage``)
``start-seconds``           time between ``Created`` and ``Started`` (default 0.2)
``ready-after-seconds``     readiness delay after start, or ``never`` (default: the
                            readinessProbe's ``initialDelaySeconds``, else 0)
``run-seconds``             exit 0 after this long (a finite job)
``stop-seconds``            time to exit after SIGTERM (default: the image's own)
=========================== ============================================================

Without annotations a container runs the way its image would: servers (nginx, postgres,
unknown images) run until stopped, shells (busybox, alpine, ubuntu...) exit at once unless their
command keeps them busy (``sleep 3600``, ``sleep infinity``, ``while true``, ``tail -f``), and
``exit N`` in a command exits with N. postgres without ``POSTGRES_PASSWORD`` (or
``POSTGRES_HOST_AUTH_METHOD``) exits with 1, as the real image does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import ipaddress
import math
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from cluster.kubelet import images as img
from cluster.quantity import QuantityError, cpu_millis, memory_bytes
from cluster.simclock import DEFAULT_EPOCH, format_time, parse_time, rng_for
from cluster.store.jsondata import copy_json

__all__ = [
    "KUBELET_VERSION",
    "Event",
    "Faults",
    "KubeletConfig",
    "NodeView",
    "PodStep",
    "World",
    "advance_pod",
    "allocate_pod_ip",
    "faults_for",
    "node_heartbeat",
    "pod_full_name",
]

KUBELET_VERSION = "v1.32.4"
CONTAINER_RUNTIME_VERSION = "containerd://1.7.27"
OS_IMAGE = "Ubuntu 24.04.2 LTS"
KERNEL_VERSION = "6.8.0-57-generic"
ANNOTATION_PREFIX = "kubarium.io/"

# Event texts, kubelet v1.32. ("Created container: main" gained its colon in the printf
# clean-up of the 1.32 cycle; "Started container main" kept the old form.)
MSG_CREATED = "Created container: {name}"
MSG_STARTED = "Started container {name}"
MSG_KILLING = "Stopping container {name}"
MSG_PULLING = 'Pulling image "{image}"'
MSG_PULLED = (
    'Successfully pulled image "{image}" in {took} ({waited} including waiting). '
    "Image size: {size} bytes."
)
MSG_PRESENT = 'Container image "{image}" already present on machine'
MSG_NEVER_PULL = 'Container image "{image}" is not present with pull policy of Never'
MSG_PULL_FAILED = 'Failed to pull image "{image}": {error}'
MSG_PULL_BACKOFF = 'Back-off pulling image "{image}"'
MSG_CRASH_BACKOFF_EVENT = "Back-off restarting failed container {name} in pod {pod}"
MSG_CRASH_BACKOFF = "back-off {delay} restarting failed container={name} pod={pod}"
MSG_MOUNT_FAILED = 'MountVolume.SetUp failed for volume "{volume}" : {error}'

# Container phases inside the runtime record.
PENDING = "pending"  # not started (or about to restart): the next sync begins a start
PULLING = "pulling"  # an image pull is under way until ``until``
WAITING = "waiting"  # blocked by an error (``waiting`` says which) until ``until``
CREATING = "creating"  # created, starting until ``until``
RUNNING = "running"
EXITED = "exited"  # dead; the restart decision is taken at ``until`` (the next relist)
BACKOFF = "backoff"  # CrashLoopBackOff until ``until``
DONE = "done"  # dead for good (completed, not restarted, or stopped for deletion)

_TIMED = {PULLING, WAITING, CREATING, EXITED, BACKOFF}
_EPSILON = 1e-6  # simulated times are kept to the microsecond
_ALIVE = {RUNNING, CREATING}
_RECORD_VERSION = 1


# --------------------------------------------------------------------------------------------
# Inputs and outputs


@dataclasses.dataclass(frozen=True)
class NodeView:
    """What the kubelet knows about its own node: name, address, pod CIDR, the pod IPs in use."""

    name: str
    internal_ip: str
    pod_cidr: str
    used_ips: frozenset[str] = frozenset()

    @classmethod
    def from_node(cls, node: Mapping[str, Any], used_ips: Iterable[str] = ()) -> NodeView:
        """Build the view from a Node object (its InternalIP, or a derived one, and podCIDR)."""
        name = str((node.get("metadata") or {}).get("name", ""))
        spec = node.get("spec") or {}
        pod_cidr = str(spec.get("podCIDR") or "10.244.0.0/24")
        internal_ip = ""
        for address in (node.get("status") or {}).get("addresses") or []:
            if address.get("type") == "InternalIP":
                internal_ip = str(address.get("address", ""))
                break
        return cls(
            name=name,
            internal_ip=internal_ip or _derived_internal_ip(name, pod_cidr),
            pod_cidr=pod_cidr,
            used_ips=frozenset(used_ips),
        )


@dataclasses.dataclass(frozen=True)
class KubeletConfig:
    """The simulated kubelet's settings. Durations are simulated seconds.

    ``epoch`` maps simulated seconds to timestamps (pass the clock's ``sim_epoch``); ``seed``
    feeds the jitter of pull times and the container IDs.
    """

    epoch: dt.datetime = DEFAULT_EPOCH
    seed: int = 0
    sandbox_seconds: float = 0.5
    start_seconds: float = 0.2
    pull_bandwidth_bytes_per_second: float = 50_000_000.0
    pull_latency_seconds: float = 0.4
    pull_jitter: float = 0.2  # pull times vary by up to ±20 %
    relist_seconds: float = 1.0  # PLEG relist period: how soon an exit is noticed
    error_retry_seconds: float = 10.0  # re-sync after CreateContainerConfigError and friends
    backoff_initial_seconds: float = 10.0
    backoff_max_seconds: float = 300.0  # MaxContainerBackOff
    volume_retry_initial_seconds: float = 0.5
    volume_retry_max_seconds: float = 122.0  # 2m2s
    default_grace_seconds: float = 30.0
    crash_after_seconds: float = 2.0
    # A pod seen for the first time was admitted when it was bound (a kubelet watches its pods),
    # up to this far back: the sync that first sees it may come later than its binding (work
    # queued behind a fast clock), and the pod's timeline should not depend on that. 0: now.
    admission_lag_seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class World:
    """What the kubelet can see besides the pod: ConfigMap and Secret keys, the node's images.

    ``configmaps`` and ``secrets`` map ``(namespace, name)`` to the keys of ``data`` (environment
    variables read only ``data``, as the kubelet does); ``configmap_binary_keys`` adds the keys of
    ``binaryData``, which volumes can project. ``node_images`` holds normalised references
    (``docker.io/library/nginx:1.27``); ``unpullable`` lists images whose pull fails.
    """

    configmaps: Mapping[tuple[str, str], Collection[str]] = dataclasses.field(default_factory=dict)
    secrets: Mapping[tuple[str, str], Collection[str]] = dataclasses.field(default_factory=dict)
    configmap_binary_keys: Mapping[tuple[str, str], Collection[str]] = dataclasses.field(
        default_factory=dict
    )
    node_images: frozenset[str] = frozenset()
    unpullable: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        *,
        configmaps: Iterable[Mapping[str, Any]] = (),
        secrets: Iterable[Mapping[str, Any]] = (),
        node_images: Iterable[str] = (),
        unpullable: Iterable[str] = (),
    ) -> World:
        """Build a world from ConfigMap and Secret objects (``stringData`` counts as data)."""

        def key(obj: Mapping[str, Any]) -> tuple[str, str]:
            meta = obj.get("metadata") or {}
            return (str(meta.get("namespace") or "default"), str(meta.get("name", "")))

        cms = list(configmaps)
        return cls(
            configmaps={key(cm): frozenset(cm.get("data") or {}) for cm in cms},
            configmap_binary_keys={key(cm): frozenset(cm.get("binaryData") or {}) for cm in cms},
            secrets={
                key(s): frozenset(s.get("data") or {}) | frozenset(s.get("stringData") or {})
                for s in secrets
            },
            node_images=frozenset(str(img.parse_image(i)) for i in node_images),
            unpullable=frozenset(unpullable),
        )


@dataclasses.dataclass(frozen=True)
class Event:
    """An event the kubelet emitted about the pod, at simulated time ``at``.

    ``field_path`` names the container (``spec.containers{main}``) for container events and is
    empty for pod events; the event's source component is ``kubelet`` and its host the node.
    """

    type: str
    reason: str
    message: str
    at: float = 0.0
    field_path: str = ""


@dataclasses.dataclass(frozen=True)
class PodStep:
    """The result of :func:`advance_pod`.

    ``status``: the new ``pod.status``, None when unchanged. ``wake_at``: the simulated time of
    the next transition (None: nothing will happen until something changes). ``delete_now``:
    every container has stopped after a deletion, so the pod object can be removed.
    ``runtime``: the runtime's record to pass back next time. ``node_images``: the node's image
    cache when a pull changed it, else None.
    """

    status: dict[str, Any] | None
    events: list[Event]
    wake_at: float | None
    delete_now: bool
    runtime: dict[str, Any]
    node_images: frozenset[str] | None = None


@dataclasses.dataclass(frozen=True)
class Faults:
    """Fault-injection flags for one container (see the module docstring)."""

    crash: bool | None = None
    exit_code: int = 1
    crash_after: float | None = None
    memory_usage: int | None = None
    cpu_usage: int | None = None
    start_seconds: float | None = None
    ready_after: float | None = None
    never_ready: bool = False
    run_seconds: float | None = None
    stop_seconds: float | None = None


# --------------------------------------------------------------------------------------------
# Small helpers


def pod_full_name(pod: Mapping[str, Any]) -> str:
    """``format.Pod``: ``name_namespace(uid)``, as kubelet messages name a pod."""
    meta = pod.get("metadata") or {}
    return f"{meta.get('name', '')}_{meta.get('namespace') or 'default'}({meta.get('uid', '')})"


def allocate_pod_ip(pod_cidr: str, used_ips: Collection[str]) -> str:
    """The lowest free address of the node's pod CIDR, from the second host on.

    The first host (``.1`` of ``10.244.1.0/24``) is the bridge's gateway, so the first pod gets
    ``10.244.1.2``. Raises ValueError when the range is full.
    """
    network = ipaddress.ip_network(pod_cidr, strict=False)
    used = set(used_ips)
    first = int(network.network_address) + 2
    last = int(network.broadcast_address) - (1 if network.version == 4 else 0)
    for value in range(first, last + 1):
        candidate = str(ipaddress.ip_address(value))
        if candidate not in used:
            return candidate
    raise ValueError(f"no free pod IP left in {pod_cidr}")


def _derived_internal_ip(name: str, pod_cidr: str) -> str:
    """A stable node address when the node has none: ``172.18.0.(N+2)`` for ``10.244.N.0/24``
    (kind's layout), else one derived from the SHA-256 of the name."""
    try:
        network = ipaddress.ip_network(pod_cidr, strict=False)
        if network.version == 4 and network.prefixlen == 24:
            third = int(network.network_address) >> 8 & 0xFF
            if third <= 252:
                return f"172.18.0.{third + 2}"
    except ValueError:
        pass
    digest = hashlib.sha256(name.encode()).digest()
    return f"172.18.{digest[0]}.{2 + digest[1] % 252}"


def _annotation(pod: Mapping[str, Any], flag: str, container: str, app: bool) -> str | None:
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    specific = annotations.get(f"{ANNOTATION_PREFIX}{flag}.{container}")
    if specific is not None:
        return str(specific)
    if app and f"{ANNOTATION_PREFIX}{flag}" in annotations:
        return str(annotations[f"{ANNOTATION_PREFIX}{flag}"])
    return None


def _as_bool(text: str | None) -> bool | None:
    if text is None:
        return None
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    return None


def _as_seconds(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip().rstrip("s"))
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def faults_for(pod: Mapping[str, Any], container: str, *, init: bool = False) -> Faults:
    """The fault flags for one container: ``kubarium.io/<flag>.<container>`` first, then the
    pod-wide ``kubarium.io/<flag>`` (which applies to app containers only). Unparseable values
    are ignored."""

    def get(flag: str) -> str | None:
        return _annotation(pod, flag, container, app=not init)

    memory = cpu = None
    if (text := get("memory-usage")) is not None:
        try:
            memory = memory_bytes(text.strip())
        except (QuantityError, ValueError):
            memory = None
    if (text := get("cpu-usage")) is not None:
        try:
            cpu = cpu_millis(text.strip())
        except (QuantityError, ValueError):
            cpu = None
    exit_code = 1
    if (text := get("exit-code")) is not None and text.strip().lstrip("-").isdigit():
        exit_code = int(text.strip())
    ready_text = get("ready-after-seconds")
    return Faults(
        crash=_as_bool(get("crash")),
        exit_code=exit_code,
        crash_after=_as_seconds(get("crash-after-seconds")),
        memory_usage=memory,
        cpu_usage=cpu,
        start_seconds=_as_seconds(get("start-seconds")),
        ready_after=_as_seconds(ready_text),
        never_ready=ready_text is not None and ready_text.strip().lower() == "never",
        run_seconds=_as_seconds(get("run-seconds")),
        stop_seconds=_as_seconds(get("stop-seconds")),
    )


def _command_text(container: Mapping[str, Any]) -> str:
    parts = [*(container.get("command") or []), *(container.get("args") or [])]
    return " ".join(str(part) for part in parts)


_SLEEP = re.compile(r"\bsleep\s+(infinity|inf|\d+(?:\.\d+)?)")
_EXIT = re.compile(r"\bexit\s+(\d+)")
_FOREVER = ("while true", "while :", "tail -f", "sleep infinity", "sleep inf")


def _env_names(container: Mapping[str, Any]) -> set[str]:
    return {str(e.get("name")) for e in container.get("env") or [] if isinstance(e, dict)}


def _fate(
    pod: Mapping[str, Any], container: Mapping[str, Any], faults: Faults, cfg: KubeletConfig
) -> tuple[float | None, int, str]:
    """How a started container ends: ``(seconds after start, exit code, reason)``, or
    ``(None, 0, "")`` when it runs until stopped. See the module docstring for the rules."""
    after = cfg.crash_after_seconds if faults.crash_after is None else faults.crash_after
    limit = ((container.get("resources") or {}).get("limits") or {}).get("memory")
    if faults.memory_usage is not None and limit is not None and faults.crash is not False:
        try:
            if faults.memory_usage > memory_bytes(limit):
                return after, 137, "OOMKilled"
        except (QuantityError, ValueError):
            pass
    if faults.crash:
        return after, faults.exit_code, "Completed" if faults.exit_code == 0 else "Error"
    if faults.run_seconds is not None:
        return faults.run_seconds, 0, "Completed"
    if faults.crash is False:
        return None, 0, ""
    profile = img.image_profile(str(container.get("image", "")))
    if profile.family == "postgres" and not container.get("envFrom"):
        names = _env_names(container)
        if "POSTGRES_PASSWORD" not in names and "POSTGRES_HOST_AUTH_METHOD" not in names:
            return 0.1, 1, "Error"
    command = _command_text(container)
    if command:
        lowered = command.lower()
        exit_match = _EXIT.search(lowered)
        code = int(exit_match.group(1)) if exit_match else 0
        reason = "Completed" if code == 0 else "Error"
        sleep = _SLEEP.search(lowered)
        if sleep and sleep.group(1) not in ("infinity", "inf"):
            return float(sleep.group(1)), code, reason
        if any(pattern in lowered for pattern in _FOREVER):
            return None, 0, ""
        if exit_match:
            return 0.1, code, reason
        if profile.serves:
            return None, 0, ""
        return 0.5, 0, "Completed"
    if profile.serves:
        return None, 0, ""
    return 0.1, 0, "Completed"  # a shell with no terminal exits at once


def _readiness_delay(container: Mapping[str, Any], faults: Faults) -> float | None:
    """Seconds from start until Ready, None for never."""
    if faults.never_ready:
        return None
    if faults.ready_after is not None:
        return faults.ready_after
    probe = container.get("readinessProbe")
    if isinstance(probe, dict):
        return float(probe.get("initialDelaySeconds") or 0)
    return 0.0


def _startup_delay(container: Mapping[str, Any]) -> float:
    probe = container.get("startupProbe")
    if isinstance(probe, dict):
        return float(probe.get("initialDelaySeconds") or 0)
    return 0.0


# --------------------------------------------------------------------------------------------
# Configuration errors (env and volumes)


def _config_error(pod: Mapping[str, Any], container: Mapping[str, Any], world: World) -> str | None:
    """The kubelet's ``makeEnvironmentVariables`` errors: envFrom first, then env."""
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    for source in container.get("envFrom") or []:
        for field, kind, known in (
            ("configMapRef", "configmap", world.configmaps),
            ("secretRef", "secret", world.secrets),
        ):
            ref = source.get(field)
            if isinstance(ref, dict) and not ref.get("optional"):
                if (namespace, str(ref.get("name", ""))) not in known:
                    return f'{kind} "{ref.get("name", "")}" not found'
    for env in container.get("env") or []:
        value_from = env.get("valueFrom") if isinstance(env, dict) else None
        if not isinstance(value_from, dict):
            continue
        for field, kind, title, known in (
            ("configMapKeyRef", "configmap", "ConfigMap", world.configmaps),
            ("secretKeyRef", "secret", "Secret", world.secrets),
        ):
            ref = value_from.get(field)
            if not isinstance(ref, dict):
                continue
            name, key = str(ref.get("name", "")), str(ref.get("key", ""))
            keys = known.get((namespace, name))
            if keys is None:
                if ref.get("optional"):
                    continue
                return f'{kind} "{name}" not found'
            if key not in keys and not ref.get("optional"):
                return f"couldn't find key {key} in {title} {namespace}/{name}"
    return None


def _volume_errors(pod: Mapping[str, Any], world: World) -> list[tuple[str, str]]:
    """``(volume, error)`` for ConfigMap and Secret volumes that cannot be set up."""
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    errors = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        name = str(volume.get("name", ""))
        if isinstance(volume.get("configMap"), dict):
            source = volume["configMap"]
            target = str(source.get("name", ""))
            keys = world.configmaps.get((namespace, target))
            if keys is None:
                if not source.get("optional"):
                    errors.append((name, f'configmap "{target}" not found'))
                continue
            all_keys = set(keys) | set(world.configmap_binary_keys.get((namespace, target), ()))
            for item in source.get("items") or []:
                if item.get("key") not in all_keys and not source.get("optional"):
                    errors.append(
                        (name, f"configmap references non-existent config key: {item.get('key')}")
                    )
                    break
        elif isinstance(volume.get("secret"), dict):
            source = volume["secret"]
            target = str(source.get("secretName", ""))
            keys = world.secrets.get((namespace, target))
            if keys is None:
                if not source.get("optional"):
                    errors.append((name, f'secret "{target}" not found'))
                continue
            for item in source.get("items") or []:
                if item.get("key") not in keys and not source.get("optional"):
                    errors.append((name, f"references non-existent secret key: {item.get('key')}"))
                    break
    return errors


# --------------------------------------------------------------------------------------------
# The state machine


@dataclasses.dataclass
class _Ctx:
    pod: Mapping[str, Any]
    node: NodeView
    cfg: KubeletConfig
    world: World
    rec: dict[str, Any]
    images: set[str]
    events: list[Event] = dataclasses.field(default_factory=list)

    @property
    def uid(self) -> str:
        return str((self.pod.get("metadata") or {}).get("uid", ""))

    @property
    def spec(self) -> Mapping[str, Any]:
        return self.pod.get("spec") or {}

    @property
    def init_containers(self) -> list[Mapping[str, Any]]:
        return [c for c in self.spec.get("initContainers") or [] if isinstance(c, dict)]

    @property
    def app_containers(self) -> list[Mapping[str, Any]]:
        return [c for c in self.spec.get("containers") or [] if isinstance(c, dict)]

    @property
    def restart_policy(self) -> str:
        return str(self.spec.get("restartPolicy") or "Always")

    def emit(self, at: float, type_: str, reason: str, message: str, path: str = "") -> None:
        self.events.append(Event(type_, reason, message, at, path))

    def iso(self, at: float) -> str:
        return format_time(self.cfg.epoch + dt.timedelta(seconds=math.floor(at)))

    def sim(self, text: str) -> float:
        return (parse_time(text) - self.cfg.epoch).total_seconds()


def _at(t: float, delay: float) -> float:
    """``t + delay``, rounded to the microsecond so that repeated sums do not drift."""
    return round(t + delay, 6)


def _field_path(name: str, init: bool) -> str:
    return f"spec.{'initContainers' if init else 'containers'}{{{name}}}"


def _new_container_record() -> dict[str, Any]:
    return {
        "phase": PENDING,
        "until": None,
        "waiting": None,
        "instances": 0,
        "cid": "",
        "image": "",
        "started_at": None,
        "exit_at": None,
        "exit_code": 0,
        "exit_reason": "",
        "ready_at": None,
        "started_flag_at": None,
        "term": None,
        "last_term": None,
        "pull": None,
    }


def _new_record(ctx: _Ctx, now: float) -> dict[str, Any]:
    containers = {str(c.get("name")): _new_container_record() for c in ctx.init_containers}
    containers.update({str(c.get("name")): _new_container_record() for c in ctx.app_containers})
    return {
        "version": _RECORD_VERSION,
        "admitted_at": now,
        "synced_at": None,
        "sandbox": None,
        "volumes": None,
        "killing": None,
        "pull_backoff": {},
        "crash_backoff": {},
        "conditions": {},
        "containers": containers,
    }


def _admission(ctx: _Ctx, now: float) -> float:
    """When a pod seen for the first time at ``now`` was admitted: when it was bound (its
    ``PodScheduled`` condition, else its creation), but at most ``admission_lag_seconds`` ago,
    and ``now`` for a pod already being deleted (its deletion is noticed when it is seen)."""
    lag = ctx.cfg.admission_lag_seconds
    meta = ctx.pod.get("metadata") or {}
    if lag <= 0 or meta.get("deletionTimestamp"):
        return now
    scheduled = next(
        (
            c
            for c in (ctx.pod.get("status") or {}).get("conditions") or []
            if c.get("type") == "PodScheduled" and c.get("status") == "True"
        ),
        None,
    )
    stamp = (scheduled or {}).get("lastTransitionTime") or meta.get("creationTimestamp")
    if not stamp:
        return now
    try:
        bound = ctx.sim(str(stamp))
    except ValueError:
        return now
    return min(now, max(bound, now - lag))


def _adopt(ctx: _Ctx, now: float) -> dict[str, Any]:
    """A record for a pod whose runtime record was lost: keep what its status shows."""
    rec = _new_record(ctx, now)
    status = ctx.pod.get("status") or {}
    if status.get("startTime"):
        rec["admitted_at"] = min(now, ctx.sim(str(status["startTime"])))
    if status.get("podIP"):
        rec["sandbox"] = {"ready_at": rec["admitted_at"], "ip": str(status["podIP"])}
    for condition in status.get("conditions") or []:
        if condition.get("type") in _CONDITION_ORDER and condition.get("lastTransitionTime"):
            rec["conditions"][condition["type"]] = {
                "status": condition.get("status"),
                "since": ctx.sim(str(condition["lastTransitionTime"])),
            }
    statuses = [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
    ]
    init_names = {str(c.get("name")) for c in ctx.init_containers}
    for cs in statuses:
        rc = rec["containers"].get(str(cs.get("name")))
        if rc is None or rec["sandbox"] is None:
            continue
        state = cs.get("state") or {}
        rc["instances"] = int(cs.get("restartCount") or 0) + 1
        rc["cid"] = str(cs.get("containerID", "")).removeprefix("containerd://")
        rc["image"] = str(img.parse_image(str(cs.get("image", ""))))
        last = (cs.get("lastState") or {}).get("terminated")
        if isinstance(last, dict):
            rc["last_term"] = _term_from_status(ctx, last)
        running, terminated = state.get("running"), state.get("terminated")
        if isinstance(running, dict) and running.get("startedAt"):
            container = _container_spec(ctx, str(cs.get("name")))
            _mark_running(
                ctx,
                container,
                rc,
                ctx.sim(str(running["startedAt"])),
                init=str(cs.get("name")) in init_names,
            )
        elif isinstance(terminated, dict):
            rc["term"] = _term_from_status(ctx, terminated)
            if str(cs.get("name")) in init_names and rc["term"]["exitCode"] == 0:
                rc["phase"] = DONE
            else:  # the restart policy decides at once whether it runs again
                rc.update(phase=EXITED, until=now)
        elif rc["last_term"] is not None:  # waiting to restart a dead instance
            rc["term"], rc["last_term"] = rc["last_term"], None
            rc.update(phase=EXITED, until=now)
        else:
            rc["instances"] = max(0, rc["instances"] - 1)
    return rec


def _term_from_status(ctx: _Ctx, terminated: Mapping[str, Any]) -> dict[str, Any]:
    started, finished = terminated.get("startedAt"), terminated.get("finishedAt")
    return {
        "exitCode": int(terminated.get("exitCode", 0)),
        "reason": str(terminated.get("reason", "")),
        "startedAt": ctx.sim(str(started)) if started else None,
        "finishedAt": ctx.sim(str(finished)) if finished else None,
        "cid": str(terminated.get("containerID", "")).removeprefix("containerd://"),
    }


def _container_spec(ctx: _Ctx, name: str) -> Mapping[str, Any]:
    for container in [*ctx.init_containers, *ctx.app_containers]:
        if str(container.get("name")) == name:
            return container
    return {"name": name}


def _container_id(ctx: _Ctx, name: str, instance: int) -> str:
    return hashlib.sha256(f"{ctx.cfg.seed}/{ctx.uid}/{name}/{instance}".encode()).hexdigest()


def _backoff_expired(event_time: float, last_update: float, cfg: KubeletConfig) -> bool:
    """``hasExpired``: more than twice the maximum back-off since the entry was updated."""
    return event_time - last_update > 2 * cfg.backoff_max_seconds


def _backoff_next(
    entries: dict[str, Any], key: str, event_time: float, now: float, cfg: KubeletConfig
) -> None:
    """``Backoff.Next``: start at the initial delay, else double up to the maximum.

    Worked sequence with 10 s / 300 s: 10, 20, 40, 80, 160, 300, 300, ...
    """
    entry = entries.get(key)
    if entry is None or _backoff_expired(event_time, entry["last"], cfg):
        delay = cfg.backoff_initial_seconds
    else:
        delay = min(entry["backoff"] * 2, cfg.backoff_max_seconds)
    entries[key] = {"backoff": delay, "last": now}


def _ensure_sandbox(ctx: _Ctx, t: float) -> bool:
    """Mount volumes and create the sandbox; True once it is ready (with its IP)."""
    rec = ctx.rec
    sandbox = rec.get("sandbox")
    if sandbox is None:
        errors = _volume_errors(ctx.pod, ctx.world)
        if errors:
            volumes = rec.get("volumes")
            if volumes is not None and t < volumes["retry_at"]:
                return False
            for volume, error in errors:
                ctx.emit(
                    t, "Warning", "FailedMount", MSG_MOUNT_FAILED.format(volume=volume, error=error)
                )
            if volumes is None:
                delay = ctx.cfg.volume_retry_initial_seconds
            else:
                delay = min(volumes["delay"] * 2, ctx.cfg.volume_retry_max_seconds)
            rec["volumes"] = {"retry_at": _at(t, delay), "delay": delay}
            return False
        rec["volumes"] = None
        sandbox = rec["sandbox"] = {"ready_at": _at(t, ctx.cfg.sandbox_seconds), "ip": None}
    if t < sandbox["ready_at"]:
        return False
    if not sandbox["ip"]:
        existing = (ctx.pod.get("status") or {}).get("podIP")
        sandbox["ip"] = (
            str(existing) if existing else allocate_pod_ip(ctx.node.pod_cidr, ctx.node.used_ips)
        )
    return True


def _begin_start(
    ctx: _Ctx, container: Mapping[str, Any], rc: dict[str, Any], t: float, init: bool
) -> None:
    """``EnsureImageExists`` followed, when the image is there, by the create step."""
    name = str(container.get("name"))
    image = str(container.get("image", ""))
    path = _field_path(name, init)
    ref = str(img.parse_image(image))
    policy = str(container.get("imagePullPolicy") or img.default_pull_policy(image))
    present = ref in ctx.images
    if policy == "Never" and not present:
        message = MSG_NEVER_PULL.format(image=image)
        ctx.emit(t, "Warning", "ErrImageNeverPull", message, path)
        ctx.emit(t, "Warning", "Failed", "Error: ErrImageNeverPull", path)
        _wait(rc, "ErrImageNeverPull", message, _at(t, ctx.cfg.error_retry_seconds))
        return
    if present and policy != "Always":
        ctx.emit(t, "Normal", "Pulled", MSG_PRESENT.format(image=image), path)
        _create(ctx, container, rc, t, init)
        return
    key = f"{ctx.uid}_{image}"
    entry = ctx.rec["pull_backoff"].get(key)
    if (
        entry is not None
        and not _backoff_expired(t, entry["last"], ctx.cfg)
        and t - entry["last"] < entry["backoff"] - _EPSILON
    ):
        message = MSG_PULL_BACKOFF.format(image=image)
        ctx.emit(t, "Normal", "BackOff", message, path)
        ctx.emit(t, "Warning", "Failed", "Error: ImagePullBackOff", path)
        _wait(rc, "ImagePullBackOff", message, _at(entry["last"], entry["backoff"]))
        return
    attempt = int((rc.get("pull") or {}).get("attempt", 0)) + 1
    rng = rng_for(ctx.cfg.seed, "image-pull", ctx.node.name, ctx.uid, name, attempt)
    jitter = 1 + rng.uniform(-ctx.cfg.pull_jitter, ctx.cfg.pull_jitter)
    error = img.pull_error(image, ctx.world.unpullable)
    if error is not None:
        took = int(ctx.cfg.pull_latency_seconds * 2 * jitter * 1000) / 1000  # resolving fails
    else:
        took = img.pull_duration(
            image,
            present=present,
            bandwidth_bytes_per_second=ctx.cfg.pull_bandwidth_bytes_per_second,
            latency_seconds=ctx.cfg.pull_latency_seconds,
            jitter=jitter,
        )
    ctx.emit(t, "Normal", "Pulling", MSG_PULLING.format(image=image), path)
    rc["pull"] = {"attempt": attempt, "took": took, "error": error}
    rc["phase"], rc["until"] = PULLING, _at(t, took)


def _finish_pull(
    ctx: _Ctx, container: Mapping[str, Any], rc: dict[str, Any], t: float, init: bool
) -> None:
    name = str(container.get("name"))
    image = str(container.get("image", ""))
    path = _field_path(name, init)
    pull = rc["pull"] or {}
    if pull.get("error"):
        ctx.emit(
            t, "Warning", "Failed", MSG_PULL_FAILED.format(image=image, error=pull["error"]), path
        )
        ctx.emit(t, "Warning", "Failed", "Error: ErrImagePull", path)
        _backoff_next(ctx.rec["pull_backoff"], f"{ctx.uid}_{image}", t, t, ctx.cfg)
        _wait(rc, "ErrImagePull", str(pull["error"]), _at(t, ctx.cfg.relist_seconds))
        return
    took = img.go_duration(float(pull.get("took", 0)))
    message = MSG_PULLED.format(image=image, took=took, waited=took, size=img.image_size(image))
    ctx.emit(t, "Normal", "Pulled", message, path)
    ctx.images.add(str(img.parse_image(image)))
    _create(ctx, container, rc, t, init)


def _wait(rc: dict[str, Any], reason: str, message: str, until: float) -> None:
    rc["phase"], rc["until"] = WAITING, until
    rc["waiting"] = {"reason": reason, "message": message}


def _create(
    ctx: _Ctx, container: Mapping[str, Any], rc: dict[str, Any], t: float, init: bool
) -> None:
    name = str(container.get("name"))
    path = _field_path(name, init)
    error = _config_error(ctx.pod, container, ctx.world)
    if error is not None:
        ctx.emit(t, "Warning", "Failed", f"Error: {error}", path)
        _wait(rc, "CreateContainerConfigError", error, _at(t, ctx.cfg.error_retry_seconds))
        return
    rc["instances"] += 1
    rc["cid"] = _container_id(ctx, name, rc["instances"])
    rc["image"] = str(img.parse_image(str(container.get("image", ""))))
    if rc["term"] is not None:
        rc["last_term"], rc["term"] = rc["term"], None
    rc["waiting"] = None
    faults = faults_for(ctx.pod, name, init=init)
    delay = ctx.cfg.start_seconds if faults.start_seconds is None else faults.start_seconds
    ctx.emit(t, "Normal", "Created", MSG_CREATED.format(name=name), path)
    rc["phase"], rc["until"] = CREATING, _at(t, delay)


def _mark_running(
    ctx: _Ctx, container: Mapping[str, Any], rc: dict[str, Any], t: float, init: bool
) -> None:
    name = str(container.get("name"))
    faults = faults_for(ctx.pod, name, init=init)
    after, code, reason = _fate(ctx.pod, container, faults, ctx.cfg)
    ready = None if init and not _is_sidecar(container) else _readiness_delay(container, faults)
    rc["ever_started"] = True
    rc.update(
        phase=RUNNING,
        until=None,
        waiting=None,
        started_at=t,
        exit_at=None if after is None else _at(t, after),
        exit_code=code,
        exit_reason=reason,
        ready_at=None if ready is None else _at(t, max(ready, _startup_delay(container))),
        started_flag_at=_at(t, _startup_delay(container)),
    )


def _exit(rc: dict[str, Any], at: float, code: int, reason: str, relist: float) -> None:
    rc["term"] = {
        "exitCode": code,
        "reason": reason,
        "startedAt": rc["started_at"],
        "finishedAt": at,
        "cid": rc["cid"],
    }
    rc.update(
        phase=EXITED, until=_at(at, relist), exit_at=None, ready_at=None, started_flag_at=None
    )


def _restart_decision(
    ctx: _Ctx, container: Mapping[str, Any], rc: dict[str, Any], t: float, init: bool
) -> None:
    """Restart per the restart policy, honouring the crash-loop back-off (``doBackOff``)."""
    name = str(container.get("name"))
    code = int(rc["term"]["exitCode"])
    policy = ctx.restart_policy
    if init and _is_sidecar(container):
        restart = True
    elif init:
        restart = code != 0 and policy != "Never"
    else:
        restart = policy == "Always" or (policy == "OnFailure" and code != 0)
    if not restart:
        rc.update(phase=DONE, until=None, waiting=None)
        return
    finished = float(rc["term"]["finishedAt"])
    entries = ctx.rec["crash_backoff"]
    entry = entries.get(name)
    if (
        entry is not None
        and not _backoff_expired(finished, entry["last"], ctx.cfg)
        and t - finished < entry["backoff"] - _EPSILON
    ):
        pod_name = pod_full_name(ctx.pod)
        ctx.emit(
            t,
            "Warning",
            "BackOff",
            MSG_CRASH_BACKOFF_EVENT.format(name=name, pod=pod_name),
            _field_path(name, init),
        )
        message = MSG_CRASH_BACKOFF.format(
            delay=img.go_duration(entry["backoff"]), name=name, pod=pod_name
        )
        rc.update(phase=BACKOFF, until=_at(finished, entry["backoff"]))
        rc["waiting"] = {"reason": "CrashLoopBackOff", "message": message}
        return
    _backoff_next(entries, name, finished, t, ctx.cfg)
    rc.update(phase=PENDING, until=None, waiting=None)


def _step_container(ctx: _Ctx, container: Mapping[str, Any], t: float, init: bool) -> None:
    """Run every transition of one container that is due at ``t``."""
    rc = ctx.rec["containers"][str(container.get("name"))]
    if rc["phase"] in _ALIVE and rc["image"] != str(
        img.parse_image(str(container.get("image", "")))
    ):
        _restart_changed(ctx, container, rc, t, init)
    for _ in range(32):  # each pass makes progress; the bound only guards against a bug
        phase = rc["phase"]
        if phase == PENDING:
            _begin_start(ctx, container, rc, t, init)
            if rc["phase"] == PENDING:
                return
        elif phase in _TIMED and rc["until"] is not None and t >= rc["until"]:
            if phase == PULLING:
                _finish_pull(ctx, container, rc, t, init)
            elif phase == WAITING:
                rc.update(phase=PENDING, until=None)
            elif phase == CREATING:
                ctx.emit(
                    t,
                    "Normal",
                    "Started",
                    MSG_STARTED.format(name=container.get("name")),
                    _field_path(str(container.get("name")), init),
                )
                _mark_running(ctx, container, rc, t, init)
            elif phase in (EXITED, BACKOFF):
                _restart_decision(ctx, container, rc, t, init)
        elif phase == RUNNING and rc["exit_at"] is not None and t >= rc["exit_at"]:
            _exit(rc, rc["exit_at"], rc["exit_code"], rc["exit_reason"], ctx.cfg.relist_seconds)
        else:
            return


def _restart_changed(
    ctx: _Ctx, container: Mapping[str, Any], rc: dict[str, Any], t: float, init: bool
) -> None:
    """The container's image changed (``kubectl set image`` on a pod): kill it and start the new
    one whatever the restart policy, without back-off. Simplification: it stops at once."""
    name = str(container.get("name"))
    message = f"Container {name} definition changed, will be restarted"
    ctx.emit(t, "Normal", "Killing", message, _field_path(name, init))
    if rc["phase"] == CREATING:
        rc["started_at"] = t
    _exit(rc, t, 0, "Completed", 0.0)
    rc.update(phase=PENDING, until=None)


def _init_succeeded(rc: Mapping[str, Any]) -> bool:
    return rc["phase"] == DONE and rc["term"] is not None and rc["term"]["exitCode"] == 0


def _is_sidecar(container: Mapping[str, Any]) -> bool:
    """A restartable init container (``restartPolicy: Always``): it starts, then keeps running
    beside the app containers."""
    return container.get("restartPolicy") == "Always"


def _init_done(container: Mapping[str, Any], rc: Mapping[str, Any]) -> bool:
    """An init container lets the next one start: completed, or for a sidecar, started once."""
    if _is_sidecar(container):
        return bool(rc.get("ever_started"))
    return _init_succeeded(rc)


def _grace_seconds(ctx: _Ctx) -> float:
    meta = ctx.pod.get("metadata") or {}
    for value in (
        meta.get("deletionGracePeriodSeconds"),
        ctx.spec.get("terminationGracePeriodSeconds"),
    ):
        if value is not None:
            return max(0.0, float(value))
    return ctx.cfg.default_grace_seconds


def _sync_killing(ctx: _Ctx, t: float) -> None:
    """Stop every container: ``Killing``, SIGTERM, SIGKILL when the grace period ends."""
    rec = ctx.rec
    if rec["killing"] is None:
        grace = _grace_seconds(ctx)
        rec["killing"] = {"since": t, "deadline": _at(t, grace)}
        for init, container in _all_containers(ctx):
            name = str(container.get("name"))
            rc = rec["containers"][name]
            if rc["phase"] in _ALIVE:
                ctx.emit(
                    t, "Normal", "Killing", MSG_KILLING.format(name=name), _field_path(name, init)
                )
                faults = faults_for(ctx.pod, name, init=init)
                stop = faults.stop_seconds
                if stop is None:
                    stop = img.image_profile(str(container.get("image", ""))).stop_seconds
                if stop is None or stop >= grace:
                    rc["stop"] = {"at": _at(t, grace), "code": 137, "reason": "Error"}
                else:
                    rc["stop"] = {"at": _at(t, stop), "code": 0, "reason": "Completed"}
                if rc["exit_at"] is not None and rc["exit_at"] < rc["stop"]["at"]:
                    rc["stop"] = {
                        "at": rc["exit_at"],
                        "code": rc["exit_code"],
                        "reason": rc["exit_reason"],
                    }
            else:
                rc.update(phase=DONE, until=None, waiting=None if rc["term"] else rc["waiting"])
    for _init, container in _all_containers(ctx):
        rc = rec["containers"][str(container.get("name"))]
        stop = rc.get("stop")
        if rc["phase"] in _ALIVE and stop is not None and t >= stop["at"]:
            if rc["phase"] == CREATING:
                rc["started_at"] = stop["at"]
            _exit(rc, stop["at"], stop["code"], stop["reason"], 0.0)
            rc.update(phase=DONE, until=None)


def _all_containers(ctx: _Ctx) -> list[tuple[bool, Mapping[str, Any]]]:
    return [(True, c) for c in ctx.init_containers] + [(False, c) for c in ctx.app_containers]


def _pod_terminal(ctx: _Ctx) -> bool:
    """Nothing will run again: every app container is done (or an init failed under Never)."""
    containers = ctx.rec["containers"]
    for container in ctx.init_containers:
        rc = containers[str(container.get("name"))]
        if not _is_sidecar(container) and rc["phase"] == DONE and not _init_succeeded(rc):
            return True
    apps = [containers[str(c.get("name"))] for c in ctx.app_containers]
    return bool(apps) and all(rc["phase"] == DONE for rc in apps)


def _sync(ctx: _Ctx, t: float, notice_deletion: bool) -> None:
    """One kubelet sync at simulated time ``t``."""
    if ctx.rec["killing"] is not None or (notice_deletion and _deleting(ctx)):
        _sync_killing(ctx, t)
        return
    if _pod_terminal(ctx) or not _ensure_sandbox(ctx, t):
        return
    containers = ctx.rec["containers"]
    for container in ctx.init_containers:
        _step_container(ctx, container, t, init=True)
        if not _init_done(container, containers[str(container.get("name"))]):
            return
    for container in ctx.app_containers:
        _step_container(ctx, container, t, init=False)
    if _pod_terminal(ctx):
        _stop_sidecars(ctx, t)


def _stop_sidecars(ctx: _Ctx, t: float) -> None:
    """Once every app container has finished for good, the kubelet stops the sidecars.

    Simplification: they exit at once (exit 0), without waiting for their stop time.
    """
    for container in ctx.init_containers:
        name = str(container.get("name"))
        rc = ctx.rec["containers"][name]
        if not _is_sidecar(container) or rc["phase"] == DONE:
            continue
        if rc["phase"] in _ALIVE:
            ctx.emit(t, "Normal", "Killing", MSG_KILLING.format(name=name), _field_path(name, True))
            _exit(rc, t, 0, "Completed", 0.0)
        rc.update(phase=DONE, until=None, waiting=None)


def _deleting(ctx: _Ctx) -> bool:
    return bool((ctx.pod.get("metadata") or {}).get("deletionTimestamp"))


def _next_due(ctx: _Ctx, after: float) -> float | None:
    """The earliest scheduled transition strictly after ``after``."""
    rec = ctx.rec
    times: list[float] = []
    if rec["volumes"] is not None:
        times.append(rec["volumes"]["retry_at"])
    if rec["sandbox"] is not None and not rec["sandbox"]["ip"]:
        times.append(rec["sandbox"]["ready_at"])
    for rc in rec["containers"].values():
        if rec["killing"] is not None:
            if rc["phase"] in _ALIVE and rc.get("stop"):
                times.append(rc["stop"]["at"])
            continue
        if rc["phase"] in _TIMED and rc["until"] is not None:
            times.append(rc["until"])
        if rc["phase"] == RUNNING:
            times.extend(
                x for x in (rc["exit_at"], rc["ready_at"], rc["started_flag_at"]) if x is not None
            )
    later = [x for x in times if x > after]
    return min(later) if later else None


# --------------------------------------------------------------------------------------------
# Status


def _ready(rc: Mapping[str, Any], t: float) -> bool:
    return rc["phase"] == RUNNING and rc["ready_at"] is not None and t >= rc["ready_at"]


def _state_and_last(ctx: _Ctx, rc: Mapping[str, Any], has_init: bool) -> tuple[dict, dict]:
    def term(info: Mapping[str, Any] | None) -> dict:
        if not info:
            return {}
        terminated = {
            "exitCode": info["exitCode"],
            "reason": info["reason"],
            "startedAt": ctx.iso(info["startedAt"]) if info.get("startedAt") is not None else None,
            "finishedAt": ctx.iso(info["finishedAt"])
            if info.get("finishedAt") is not None
            else None,
            "containerID": f"containerd://{info['cid']}",
        }
        return {"terminated": terminated}

    phase = rc["phase"]
    if phase == RUNNING:
        return {"running": {"startedAt": ctx.iso(rc["started_at"])}}, term(rc["last_term"])
    if phase == CREATING:
        return {"waiting": {"reason": "ContainerCreating"}}, term(rc["last_term"])
    if rc["waiting"] is not None:
        waiting = {"reason": rc["waiting"]["reason"]}
        if rc["waiting"].get("message"):
            waiting["message"] = rc["waiting"]["message"]
        return {"waiting": waiting}, term(rc["term"])
    if rc["term"] is not None:
        return term(rc["term"]), term(rc["last_term"])
    return {"waiting": {"reason": "PodInitializing" if has_init else "ContainerCreating"}}, {}


def _container_status(
    ctx: _Ctx, container: Mapping[str, Any], init: bool, t: float
) -> dict[str, Any]:
    name = str(container.get("name"))
    rc = ctx.rec["containers"][name]
    state, last = _state_and_last(ctx, rc, bool(ctx.init_containers))
    created = rc["instances"] > 0
    if init and not _is_sidecar(container):
        ready = _init_succeeded(rc)
        started = rc["phase"] == RUNNING
    else:
        ready = _ready(rc, t)
        started = rc["phase"] == RUNNING and t >= (rc["started_flag_at"] or 0)
    status: dict[str, Any] = {
        "name": name,
        "image": rc["image"] if created else str(container.get("image", "")),
        "imageID": img.image_id(str(container.get("image", ""))) if created else "",
        "ready": ready,
        "restartCount": max(0, rc["instances"] - 1),
        "started": started,
        "state": state,
        "lastState": last,
    }
    if created:
        status["containerID"] = f"containerd://{rc['cid']}"
        mounts = []
        for mount in container.get("volumeMounts") or []:
            entry = {"name": mount.get("name"), "mountPath": mount.get("mountPath")}
            if mount.get("readOnly"):
                entry["readOnly"] = True
                entry["recursiveReadOnly"] = "Disabled"
            mounts.append(entry)
        if mounts:
            status["volumeMounts"] = mounts
    return status


def _phase(ctx: _Ctx, init_statuses: list[dict], app_statuses: list[dict]) -> str:
    """``getPhase``, with the pod terminal once it is being deleted and nothing runs."""
    pending_init = failed_init = 0
    for spec, cs in zip(ctx.init_containers, init_statuses, strict=True):
        if _is_sidecar(spec):
            continue  # getPhase leaves restartable init containers out
        state = cs["state"]
        if "running" in state:
            pending_init += 1
        elif "terminated" in state:
            failed_init += state["terminated"]["exitCode"] != 0
        elif "terminated" in cs["lastState"]:
            failed_init += cs["lastState"]["terminated"]["exitCode"] != 0
        else:
            pending_init += 1
    running = waiting = stopped = succeeded = 0
    for cs in app_statuses:
        state = cs["state"]
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            succeeded += state["terminated"]["exitCode"] == 0
        elif "terminated" in cs["lastState"]:
            stopped += 1
        else:
            waiting += 1
    policy = ctx.restart_policy
    if failed_init and policy == "Never":
        return "Failed"
    any_started = any(ctx.rec["containers"][cs["name"]]["instances"] > 0 for cs in app_statuses)
    if (pending_init and not any_started) or waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped:
        terminal = ctx.rec["killing"] is not None
        if terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if policy == "Never" else "Running"
    return "Pending"


def _conditions_now(ctx: _Ctx, t: float, phase: str) -> dict[str, tuple[str, str, str]]:
    """Each condition's ``(status, reason, message)`` at ``t``."""
    containers = ctx.rec["containers"]
    sandbox = ctx.rec["sandbox"]
    result: dict[str, tuple[str, str, str]] = {}
    sandbox_up = bool(sandbox and sandbox["ip"]) and not _pod_terminal(ctx)
    if ctx.rec["killing"] is not None and not any(
        rc["phase"] in _ALIVE for rc in containers.values()
    ):
        sandbox_up = False  # the sandbox goes once every container has stopped
    result["PodReadyToStartContainers"] = ("True", "", "") if sandbox_up else ("False", "", "")
    incomplete = [
        str(c.get("name"))
        for c in ctx.init_containers
        if not _init_done(c, containers[str(c.get("name"))])
    ]
    any_started = any(containers[str(c.get("name"))]["instances"] > 0 for c in ctx.app_containers)
    if phase == "Succeeded":
        result["Initialized"] = ("True", "PodCompleted", "")
    elif incomplete and not any_started:
        result["Initialized"] = (
            "False",
            "ContainersNotInitialized",
            f"containers with incomplete status: [{' '.join(incomplete)}]",
        )
    else:
        result["Initialized"] = ("True", "", "")
    watched = [c for c in ctx.init_containers if _is_sidecar(c)] + ctx.app_containers
    unready = [str(c.get("name")) for c in watched if not _ready(containers[str(c.get("name"))], t)]
    if phase == "Succeeded":
        ready = ("False", "PodCompleted", "")
    elif unready:
        ready = (
            "False",
            "ContainersNotReady",
            f"containers with unready status: [{' '.join(unready)}]",
        )
    else:
        ready = ("True", "", "")
    result["ContainersReady"] = ready
    result["Ready"] = _readiness_gates(ctx, ready)
    return result


def _readiness_gates(ctx: _Ctx, containers_ready: tuple[str, str, str]) -> tuple[str, str, str]:
    if containers_ready[0] != "True":
        return containers_ready
    conditions = {c.get("type"): c for c in (ctx.pod.get("status") or {}).get("conditions") or []}
    for gate in ctx.spec.get("readinessGates") or []:
        kind = gate.get("conditionType")
        condition = conditions.get(kind)
        if condition is None:
            return (
                "False",
                "ReadinessGatesNotReady",
                f'corresponding condition of pod readiness gate "{kind}" does not exist.',
            )
        if condition.get("status") != "True":
            return (
                "False",
                "ReadinessGatesNotReady",
                f'the status of pod readiness gate "{kind}" is not "True", but {condition.get("status")}',
            )
    return containers_ready


def _observe(ctx: _Ctx, t: float) -> None:
    """Record condition transitions at ``t`` (for ``lastTransitionTime``)."""
    init_statuses = [_container_status(ctx, c, True, t) for c in ctx.init_containers]
    app_statuses = [_container_status(ctx, c, False, t) for c in ctx.app_containers]
    phase = _phase(ctx, init_statuses, app_statuses)
    seen = ctx.rec["conditions"]
    for kind, (status, _reason, _message) in _conditions_now(ctx, t, phase).items():
        if kind not in seen or seen[kind]["status"] != status:
            seen[kind] = {"status": status, "since": t}


_CONDITION_ORDER = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")


def _render_status(ctx: _Ctx, t: float) -> dict[str, Any]:
    old = dict(ctx.pod.get("status") or {})
    status = copy_json(old)
    init_statuses = [_container_status(ctx, c, True, t) for c in ctx.init_containers]
    app_statuses = [_container_status(ctx, c, False, t) for c in ctx.app_containers]
    phase = _phase(ctx, init_statuses, app_statuses)
    if old.get("phase") in ("Succeeded", "Failed"):
        phase = str(old["phase"])  # a terminal phase never changes
    now_conditions = _conditions_now(ctx, t, phase)
    conditions = []
    for kind in _CONDITION_ORDER:
        value, reason, message = now_conditions[kind]
        since = ctx.rec["conditions"].get(kind, {}).get("since", t)
        condition: dict[str, Any] = {
            "type": kind,
            "status": value,
            "lastProbeTime": None,
            "lastTransitionTime": ctx.iso(since),
        }
        if reason:
            condition["reason"] = reason
        if message:
            condition["message"] = message
        conditions.append(condition)
    scheduled = next(
        (c for c in old.get("conditions") or [] if c.get("type") == "PodScheduled"), None
    )
    if scheduled is None:
        scheduled = {
            "type": "PodScheduled",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": ctx.iso(ctx.rec["admitted_at"]),
        }
    conditions.append(scheduled)
    extra = [
        c
        for c in old.get("conditions") or []
        if c.get("type") not in (*_CONDITION_ORDER, "PodScheduled")
    ]
    status["conditions"] = conditions + extra
    status["phase"] = phase
    status["hostIP"] = ctx.node.internal_ip
    status["hostIPs"] = [{"ip": ctx.node.internal_ip}]
    status["startTime"] = ctx.iso(ctx.rec["admitted_at"])
    sandbox = ctx.rec["sandbox"]
    if sandbox and sandbox["ip"]:
        status["podIP"] = sandbox["ip"]
        status["podIPs"] = [{"ip": sandbox["ip"]}]
    status["containerStatuses"] = app_statuses
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    else:
        status.pop("initContainerStatuses", None)
    return status


# --------------------------------------------------------------------------------------------
# Entry points


def advance_pod(
    pod: Mapping[str, Any],
    node: NodeView,
    now: float,
    cfg: KubeletConfig,
    world: World,
    runtime: Mapping[str, Any] | None = None,
) -> PodStep:
    """Advance a pod bound to ``node`` to simulated time ``now``; see the module docstring.

    ``runtime`` is the ``PodStep.runtime`` of the previous call for this pod (None the first
    time). Every transition due before ``now`` is replayed at its own time, so calling late
    gives the same events and status as calling at each ``wake_at``. A deletion is noticed at
    ``now``. The inputs are not modified.
    """
    images = set(world.node_images)
    ctx = _Ctx(pod=pod, node=node, cfg=cfg, world=world, rec={}, images=images)
    first_sync_at = now
    if runtime is not None and runtime.get("version") == _RECORD_VERSION:
        ctx.rec = copy_json(dict(runtime))
    elif (pod.get("status") or {}).get("startTime"):
        ctx.rec = _adopt(ctx, now)
    else:
        first_sync_at = _admission(ctx, now)
        ctx.rec = _new_record(ctx, first_sync_at)
    for name in [str(c.get("name")) for _i, c in _all_containers(ctx)]:
        ctx.rec["containers"].setdefault(name, _new_container_record())
    rec = ctx.rec

    if rec["synced_at"] is None:  # the first sync: at admission for a pod new to us
        _sync(ctx, first_sync_at, notice_deletion=True)
        _observe(ctx, first_sync_at)
        rec["synced_at"] = first_sync_at
    synced = rec["synced_at"]
    t = synced
    for _ in range(100_000):
        due = _next_due(ctx, t)
        if due is None or due > now:
            break
        t = due
        _sync(ctx, t, notice_deletion=False)
        _observe(ctx, t)
    if now > synced:
        _sync(ctx, now, notice_deletion=True)
        _observe(ctx, now)
        rec["synced_at"] = now
    t_final = max(now, rec["synced_at"])

    delete_now = rec["killing"] is not None and not any(
        rc["phase"] in _ALIVE for rc in rec["containers"].values()
    )
    status = _render_status(ctx, t_final)
    wake_at = None if delete_now else _next_due(ctx, t_final)
    changed_images = frozenset(images) if images != set(world.node_images) else None
    return PodStep(
        status=None if status == (pod.get("status") or None) else status,
        events=ctx.events,
        wake_at=wake_at,
        delete_now=delete_now,
        runtime=rec,
        node_images=changed_images,
    )


_NODE_CONDITIONS = (
    (
        "MemoryPressure",
        "False",
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
    ),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


def node_heartbeat(
    node: Mapping[str, Any], now_iso: str, images: Iterable[str] | None = None
) -> dict[str, Any]:
    """The node's status after a kubelet heartbeat at ``now_iso``.

    Conditions MemoryPressure, DiskPressure and PIDPressure False and Ready True with the
    kubelet's reasons and messages; ``lastHeartbeatTime`` is now, ``lastTransitionTime`` moves
    only when a condition's status changes. ``nodeInfo``, ``daemonEndpoints`` and the addresses
    (InternalIP, Hostname) are filled in when missing; capacity and allocatable are kept.
    ``images``, when given, becomes ``status.images``.
    """
    meta = node.get("metadata") or {}
    name = str(meta.get("name", ""))
    status = copy_json(dict(node.get("status") or {}))
    old = {c.get("type"): c for c in status.get("conditions") or [] if isinstance(c, dict)}
    conditions = []
    for kind, value, reason, message in _NODE_CONDITIONS:
        previous = old.get(kind)
        since = (
            previous.get("lastTransitionTime")
            if previous and previous.get("status") == value
            else None
        )
        conditions.append(
            {
                "type": kind,
                "status": value,
                "lastHeartbeatTime": now_iso,
                "lastTransitionTime": since or now_iso,
                "reason": reason,
                "message": message,
            }
        )
    status["conditions"] = conditions
    addresses = [a for a in status.get("addresses") or [] if isinstance(a, dict)]
    kinds = {a.get("type") for a in addresses}
    if "InternalIP" not in kinds:
        pod_cidr = str((node.get("spec") or {}).get("podCIDR") or "10.244.0.0/24")
        addresses.insert(0, {"type": "InternalIP", "address": _derived_internal_ip(name, pod_cidr)})
    if "Hostname" not in kinds:
        addresses.append({"type": "Hostname", "address": name})
    status["addresses"] = addresses
    status.setdefault("daemonEndpoints", {"kubeletEndpoint": {"Port": 10250}})
    arch = str((meta.get("labels") or {}).get("kubernetes.io/arch") or "amd64")
    digest = hashlib.sha256(f"node/{name}".encode()).hexdigest()
    info = {
        "machineID": digest[:32],
        "systemUUID": f"{digest[32:40]}-{digest[40:44]}-{digest[44:48]}-{digest[48:52]}-{digest[52:64]}",
        "bootID": str(_uuid_from(f"boot/{name}")),
        "kernelVersion": KERNEL_VERSION,
        "osImage": OS_IMAGE,
        "containerRuntimeVersion": CONTAINER_RUNTIME_VERSION,
        "kubeletVersion": KUBELET_VERSION,
        "kubeProxyVersion": "",
        "operatingSystem": "linux",
        "architecture": arch,
    }
    info.update({k: v for k, v in (status.get("nodeInfo") or {}).items() if v})
    info["kubeletVersion"] = KUBELET_VERSION
    status["nodeInfo"] = info
    if images is not None:
        status["images"] = img.node_images_status(images)
    return status


def _uuid_from(text: str) -> str:
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}"
