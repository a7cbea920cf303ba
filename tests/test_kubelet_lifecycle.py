"""The simulated kubelet: pod stages, events and status, walked through simulated time."""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

import pytest

from cluster.kubelet import images as img
from cluster.kubelet.lifecycle import (
    Event,
    KubeletConfig,
    NodeView,
    PodStep,
    World,
    advance_pod,
    allocate_pod_ip,
    faults_for,
    node_heartbeat,
)

NODE = NodeView("worker-1", "172.18.0.3", "10.244.1.0/24")
CFG = KubeletConfig()
NGINX = "docker.io/library/nginx:1.27"
BUSYBOX = "docker.io/library/busybox:1.36"


# --------------------------------------------------------------------------------------------
# Builders and the walker


def make_container(name: str = "main", image: str = "nginx:1.27", **extra: Any) -> dict:
    return {"name": name, "image": image, **extra}


def make_pod(
    *containers: dict,
    init: list[dict] | None = None,
    annotations: dict[str, str] | None = None,
    restart_policy: str | None = None,
    volumes: list[dict] | None = None,
    name: str = "web",
    uid: str = "uid-1",
) -> dict:
    spec: dict[str, Any] = {
        "nodeName": "worker-1",
        "containers": list(containers) or [make_container()],
    }
    if init:
        spec["initContainers"] = init
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    if volumes:
        spec["volumes"] = volumes
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": uid,
            "annotations": annotations or {},
        },
        "spec": spec,
    }


@dataclasses.dataclass
class Walk:
    pod: dict
    events: list[Event]
    steps: list[tuple[float, PodStep]]
    world: World
    runtime: dict | None

    def reasons(self, field_path: str | None = None) -> list[str]:
        return [e.reason for e in self.events if field_path is None or e.field_path == field_path]

    def times(self, reason: str, message: str = "") -> list[float]:
        return [e.at for e in self.events if e.reason == reason and message in e.message]

    def container(self, name: str = "main") -> dict:
        statuses = [
            *(self.pod["status"].get("initContainerStatuses") or []),
            *self.pod["status"]["containerStatuses"],
        ]
        return next(cs for cs in statuses if cs["name"] == name)

    def condition(self, kind: str) -> dict:
        return next(c for c in self.pod["status"]["conditions"] if c["type"] == kind)


def walk(
    pod: dict,
    world: World | None = None,
    *,
    until: float = 120.0,
    start: float = 0.0,
    cfg: KubeletConfig = CFG,
    runtime: dict | None = None,
    node: NodeView = NODE,
) -> Walk:
    """Advance the pod from ``start``, calling again at every ``wake_at``, until it is steady or
    the next wake-up is after ``until``; statuses and image caches are applied as the lead's
    tasks would apply them."""
    world = world or World()
    pod = copy.deepcopy(pod)
    events: list[Event] = []
    steps: list[tuple[float, PodStep]] = []
    now = start
    for _ in range(10_000):
        result = advance_pod(pod, node, now, cfg, world, runtime)
        steps.append((now, result))
        events.extend(result.events)
        runtime = result.runtime
        if result.status is not None:
            pod["status"] = result.status
        if result.node_images is not None:
            world = dataclasses.replace(world, node_images=result.node_images)
        if result.delete_now or result.wake_at is None or result.wake_at > until:
            break
        assert result.wake_at > now, "wake_at must move forward"
        now = result.wake_at
    return Walk(pod, events, steps, world, runtime)


def with_images(*refs: str, **kwargs: Any) -> World:
    return World(node_images=frozenset(refs), **kwargs)


# --------------------------------------------------------------------------------------------
# Starting


def test_normal_start_pulls_creates_starts_and_becomes_ready():
    """A new nginx pod is pulled, created and started, gets an IP from the node's CIDR and
    becomes Ready, with the kubelet's event texts and the five pod conditions."""
    w = walk(make_pod())
    assert [(e.type, e.reason) for e in w.events] == [
        ("Normal", "Pulling"),
        ("Normal", "Pulled"),
        ("Normal", "Created"),
        ("Normal", "Started"),
    ]
    messages = [e.message for e in w.events]
    assert messages[0] == 'Pulling image "nginx:1.27"'
    assert re.fullmatch(
        r'Successfully pulled image "nginx:1\.27" in (\d+\.\d+s|\d+ms) \(\1 including waiting\)\. '
        r"Image size: 72099501 bytes\.",
        messages[1],
    )
    assert messages[2:] == ["Created container: main", "Started container main"]
    assert {e.field_path for e in w.events} == {"spec.containers{main}"}
    status = w.pod["status"]
    assert status["phase"] == "Running"
    assert status["podIP"] == "10.244.1.2" and status["podIPs"] == [{"ip": "10.244.1.2"}]
    assert status["hostIP"] == "172.18.0.3" and status["hostIPs"] == [{"ip": "172.18.0.3"}]
    assert status["startTime"] == "2025-01-01T00:00:00Z"
    assert [c["type"] for c in status["conditions"]] == [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    assert all(c["status"] == "True" for c in status["conditions"])
    main = w.container()
    assert main["ready"] is True and main["started"] is True and main["restartCount"] == 0
    assert main["image"] == NGINX
    assert main["imageID"].startswith("docker.io/library/nginx@sha256:")
    assert re.fullmatch(r"containerd://[0-9a-f]{64}", main["containerID"])
    assert list(main["state"]) == ["running"] and main["lastState"] == {}
    assert w.steps[-1][1].wake_at is None
    assert w.world.node_images == {NGINX}


def test_pod_is_pending_with_container_creating_before_the_pull_finishes():
    """While the image is pulled the pod is Pending, its container waits in ContainerCreating and
    the pod is not Ready."""
    result = advance_pod(make_pod(), NODE, 0.0, CFG, World())
    status = result.status
    assert status["phase"] == "Pending"
    assert status["containerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert status["containerStatuses"][0]["image"] == "nginx:1.27"
    assert status["containerStatuses"][0]["imageID"] == ""
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready == {
        "type": "Ready",
        "status": "False",
        "lastProbeTime": None,
        "lastTransitionTime": "2025-01-01T00:00:00Z",
        "reason": "ContainersNotReady",
        "message": "containers with unready status: [main]",
    }
    assert "podIP" not in status
    assert result.wake_at == CFG.sandbox_seconds


@pytest.mark.parametrize(
    ("image", "policy", "present", "expected"),
    [
        pytest.param(
            "nginx:1.27",
            None,
            True,
            ["Pulled", "Created", "Started"],
            id="tagged image present: no pull",
        ),
        pytest.param(
            "nginx:1.27",
            "IfNotPresent",
            False,
            ["Pulling", "Pulled", "Created", "Started"],
            id="IfNotPresent and absent: pull",
        ),
        pytest.param(
            "nginx:1.27",
            "Always",
            True,
            ["Pulling", "Pulled", "Created", "Started"],
            id="Always pulls even when present",
        ),
        pytest.param(
            "nginx",
            None,
            True,
            ["Pulling", "Pulled", "Created", "Started"],
            id="no tag means latest means Always",
        ),
        pytest.param(
            "nginx:1.27",
            "Never",
            True,
            ["Pulled", "Created", "Started"],
            id="Never with the image present",
        ),
        pytest.param(
            "nginx:1.27",
            "Never",
            False,
            ["ErrImageNeverPull", "Failed"],
            id="Never without the image fails",
        ),
    ],
)
def test_image_pull_policy(image, policy, present, expected):
    """The pull policy and the node's image cache decide whether the kubelet pulls."""
    extra = {"imagePullPolicy": policy} if policy else {}
    world = with_images(str(img.parse_image(image))) if present else World()
    w = walk(make_pod(make_container(image=image, **extra)), world, until=5)
    assert w.reasons() == expected


def test_image_already_present_skips_pulling():
    """An image in the node's cache is not pulled: 'already present on machine', and the cache is
    reported unchanged."""
    w = walk(make_pod(), with_images(NGINX))
    assert [e.message for e in w.events][:1] == [
        'Container image "nginx:1.27" already present on machine'
    ]
    assert "Pulling" not in w.reasons()
    assert all(step.node_images is None for _t, step in w.steps)
    assert w.pod["status"]["phase"] == "Running"


def test_never_pull_policy_reports_the_kubelet_message():
    """imagePullPolicy Never with a missing image waits in ErrImageNeverPull."""
    w = walk(make_pod(make_container(imagePullPolicy="Never")), until=5)
    assert (
        w.events[0].message
        == 'Container image "nginx:1.27" is not present with pull policy of Never'
    )
    assert w.events[1].message == "Error: ErrImageNeverPull"
    assert w.container()["state"]["waiting"]["reason"] == "ErrImageNeverPull"


@pytest.mark.parametrize(
    ("image", "world", "error"),
    [
        pytest.param(
            "registry.example.com/team/does-not-exist:1.0",
            World(),
            "rpc error: code = Unknown desc = failed to pull and unpack image "
            '"registry.example.com/team/does-not-exist:1.0": failed to resolve reference '
            '"registry.example.com/team/does-not-exist:1.0": pull access denied, repository does '
            "not exist or may require authorization: server message: insufficient_scope: "
            "authorization failed",
            id="missing repository",
        ),
        pytest.param(
            "nginx:broken",
            World(),
            "rpc error: code = NotFound desc = failed to pull and unpack image "
            '"docker.io/library/nginx:broken": failed to resolve reference '
            '"docker.io/library/nginx:broken": docker.io/library/nginx:broken: not found',
            id="missing tag",
        ),
        pytest.param(
            "nginx:1.99",
            World(unpullable=frozenset({"nginx:1.99"})),
            "rpc error: code = NotFound desc = failed to pull and unpack image "
            '"docker.io/library/nginx:1.99": failed to resolve reference '
            '"docker.io/library/nginx:1.99": docker.io/library/nginx:1.99: not found',
            id="listed as unpullable by the world",
        ),
    ],
)
def test_unpullable_image_goes_into_image_pull_back_off(image, world, error):
    """A failed pull is ErrImagePull, then ImagePullBackOff; the pulls are retried after a
    back-off of 10 s doubling up to 300 s."""
    w = walk(make_pod(make_container(image=image)), world, until=1300)
    assert w.reasons()[:7] == [
        "Pulling",
        "Failed",
        "Failed",
        "BackOff",
        "Failed",
        "Pulling",
        "Failed",
    ]
    first_failures = [e.message for e in w.events[1:5]]
    assert first_failures == [
        f'Failed to pull image "{image}": {error}',
        "Error: ErrImagePull",
        f'Back-off pulling image "{image}"',
        "Error: ImagePullBackOff",
    ]
    failed_at = w.times("Failed", "Failed to pull image")
    pulling_at = w.times("Pulling")
    gaps = [round(nxt - failed, 6) for failed, nxt in zip(failed_at, pulling_at[1:], strict=False)]
    assert gaps[:8] == [10, 20, 40, 80, 160, 300, 300, 300]
    waiting = w.container()["state"]["waiting"]
    assert waiting == {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}
    assert w.pod["status"]["phase"] == "Pending"


def test_err_image_pull_status_carries_the_runtime_error():
    """Right after a failed pull the container waits with reason ErrImagePull and the runtime's
    error as message, until the next sync turns it into ImagePullBackOff."""
    w = walk(make_pod(make_container(image="nginx:broken")), until=1.5)
    waiting = w.container()["state"]["waiting"]
    assert waiting["reason"] == "ErrImagePull"
    assert waiting["message"].startswith("rpc error: code = NotFound desc = failed to pull")


# --------------------------------------------------------------------------------------------
# Crashes


def test_crash_loop_back_off_doubles_from_10s_to_300s():
    """A crashing container restarts at once the first time, then waits in CrashLoopBackOff
    10, 20, 40, 80, 160 and 300 seconds, with the kubelet's messages and a growing
    restartCount."""
    pod = make_pod(annotations={"kubarium.io/crash": "true"})
    w = walk(pod, with_images(NGINX), until=2000)
    started = w.times("Started")
    backoffs = w.times("BackOff")
    finished = [round(s + CFG.crash_after_seconds, 6) for s in started]
    created = w.times("Created")
    waits = [round(c - f, 6) for f, c in zip(finished, created[1:], strict=False)]
    assert waits[:8] == [CFG.relist_seconds, 10, 20, 40, 80, 160, 300, 300]
    assert backoffs[0] == finished[1] + CFG.relist_seconds
    backoff_messages = {e.message for e in w.events if e.reason == "BackOff"}
    assert backoff_messages == {
        "Back-off restarting failed container main in pod web_default(uid-1)"
    }
    assert {e.type for e in w.events if e.reason == "BackOff"} == {"Warning"}
    main = w.container()
    assert main["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert main["state"]["waiting"]["message"] == (
        "back-off 5m0s restarting failed container=main pod=web_default(uid-1)"
    )
    assert main["lastState"]["terminated"]["exitCode"] == 1
    assert main["lastState"]["terminated"]["reason"] == "Error"
    assert main["restartCount"] == len(started) - 1
    assert w.pod["status"]["phase"] == "Running"


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        pytest.param(5.0, None, id="first restart: no back-off yet"),
        pytest.param(7.5, "back-off 10s", id="after the second crash: 10s"),
        pytest.param(20, "back-off 20s", id="after the third crash: 20s"),
        pytest.param(45, "back-off 40s", id="after the fourth crash: 40s"),
        pytest.param(90, "back-off 1m20s", id="after the fifth crash: 1m20s"),
        pytest.param(170, "back-off 2m40s", id="after the sixth crash: 2m40s"),
        pytest.param(330, "back-off 5m0s", id="after the seventh crash: capped at 5m0s"),
    ],
)
def test_crash_loop_message_names_the_current_back_off(seconds, message):
    """The CrashLoopBackOff message prints the back-off as Go prints a duration."""
    pod = make_pod(annotations={"kubarium.io/crash": "true"})
    w = walk(pod, with_images(NGINX), until=seconds)
    waiting = w.container()["state"].get("waiting")
    if message is None:
        assert waiting is None or waiting["reason"] != "CrashLoopBackOff"
    else:
        assert waiting["reason"] == "CrashLoopBackOff"
        assert waiting["message"].startswith(message + " restarting failed container=main")


def test_first_crash_shows_error_then_restarts_at_once():
    """Just after the first crash the container is terminated with reason Error (kubectl shows
    Error); one relist later it is running again with restartCount 1."""
    pod = make_pod(annotations={"kubarium.io/crash": "true"})
    w = walk(pod, with_images(NGINX), until=2.8)
    state = w.container()["state"]
    assert state["terminated"]["reason"] == "Error" and state["terminated"]["exitCode"] == 1
    assert w.container()["restartCount"] == 0
    w = walk(pod, with_images(NGINX), until=4.0)
    assert "running" in w.container()["state"]
    assert w.container()["restartCount"] == 1
    assert w.container()["lastState"]["terminated"]["reason"] == "Error"


def test_oom_killed_container_restarts_with_back_off():
    """A container using more memory than its limit is OOMKilled (exit 137) and restarted; the
    second kill puts it in CrashLoopBackOff."""
    container = make_container(resources={"limits": {"memory": "256Mi"}})
    pod = make_pod(container, annotations={"kubarium.io/memory-usage": "300Mi"})
    w = walk(pod, with_images(NGINX), until=10)
    main = w.container()
    assert main["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert main["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert main["lastState"]["terminated"]["exitCode"] == 137
    assert main["restartCount"] == 1


def test_memory_within_the_limit_is_not_killed():
    """Memory usage under the limit leaves the container running."""
    container = make_container(resources={"limits": {"memory": "512Mi"}})
    pod = make_pod(container, annotations={"kubarium.io/memory-usage": "300Mi"})
    w = walk(pod, with_images(NGINX), until=60)
    assert "running" in w.container()["state"]


@pytest.mark.parametrize(
    ("container", "policy", "phase", "reason", "code"),
    [
        pytest.param(
            make_container(image="busybox:1.36", command=["sh", "-c", "echo hello"]),
            "Never",
            "Succeeded",
            "Completed",
            0,
            id="job that succeeds",
        ),
        pytest.param(
            make_container(image="busybox:1.36", command=["sh", "-c", "exit 3"]),
            "Never",
            "Failed",
            "Error",
            3,
            id="job that fails",
        ),
        pytest.param(
            make_container(image="busybox:1.36", command=["sleep", "5"]),
            "OnFailure",
            "Succeeded",
            "Completed",
            0,
            id="OnFailure after success",
        ),
    ],
)
def test_run_to_completion(container, policy, phase, reason, code):
    """Containers that finish end the pod Succeeded or Failed under restartPolicy Never and
    OnFailure; the pod then needs nothing more (no wake-up)."""
    w = walk(make_pod(container, restart_policy=policy), with_images(BUSYBOX), until=100)
    assert w.pod["status"]["phase"] == phase
    terminated = w.container()["state"]["terminated"]
    assert (terminated["reason"], terminated["exitCode"]) == (reason, code)
    assert w.steps[-1][1].wake_at is None
    ready = w.condition("Ready")
    if phase == "Succeeded":
        assert ready["reason"] == "PodCompleted"
        assert w.condition("PodReadyToStartContainers")["status"] == "False"


def test_busybox_without_a_command_crash_loops_with_completed():
    """A shell image with no command exits 0 at once; under restartPolicy Always it is restarted
    and ends in CrashLoopBackOff with lastState Completed, as on a real cluster."""
    w = walk(make_pod(make_container(image="busybox:1.36")), with_images(BUSYBOX), until=30)
    main = w.container()
    assert main["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert main["lastState"]["terminated"]["reason"] == "Completed"


def test_postgres_without_a_password_exits_with_an_error():
    """The postgres image refuses to start without POSTGRES_PASSWORD (exit 1); with it, it runs."""
    image = "docker.io/library/postgres:17"
    bare = walk(make_pod(make_container(image="postgres:17")), with_images(image), until=1.5)
    assert bare.container()["state"]["terminated"]["exitCode"] == 1
    env = [{"name": "POSTGRES_PASSWORD", "value": "secret"}]
    good = walk(
        make_pod(make_container(image="postgres:17", env=env)), with_images(image), until=60
    )
    assert "running" in good.container()["state"]


# --------------------------------------------------------------------------------------------
# Configuration


CONFIG_CASES = [
    pytest.param(
        {
            "env": [
                {
                    "name": "COLOR",
                    "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "color"}},
                }
            ]
        },
        World(node_images=frozenset({NGINX})),
        'configmap "app-config" not found',
        id="configMapKeyRef to a missing ConfigMap",
    ),
    pytest.param(
        {
            "env": [
                {
                    "name": "COLOR",
                    "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "color"}},
                }
            ]
        },
        World(node_images=frozenset({NGINX}), configmaps={("default", "app-config"): {"size"}}),
        "couldn't find key color in ConfigMap default/app-config",
        id="configMapKeyRef to a missing key",
    ),
    pytest.param(
        {"env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]},
        World(node_images=frozenset({NGINX})),
        'secret "db" not found',
        id="secretKeyRef to a missing Secret",
    ),
    pytest.param(
        {"env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]},
        World(node_images=frozenset({NGINX}), secrets={("default", "db"): {"user"}}),
        "couldn't find key password in Secret default/db",
        id="secretKeyRef to a missing key",
    ),
    pytest.param(
        {"envFrom": [{"configMapRef": {"name": "app-config"}}]},
        World(node_images=frozenset({NGINX})),
        'configmap "app-config" not found',
        id="envFrom a missing ConfigMap",
    ),
]


@pytest.mark.parametrize(("extra", "world", "error"), CONFIG_CASES)
def test_missing_config_is_create_container_config_error(extra, world, error):
    """A missing ConfigMap, Secret or key stops the container in CreateContainerConfigError with
    the kubelet's message, retried every 10 s."""
    w = walk(make_pod(make_container(**extra)), world, until=25)
    assert w.reasons()[:2] == ["Pulled", "Failed"]
    assert w.events[1].message == f"Error: {error}"
    assert w.events[1].type == "Warning"
    assert w.container()["state"]["waiting"] == {
        "reason": "CreateContainerConfigError",
        "message": error,
    }
    assert w.pod["status"]["phase"] == "Pending"
    retries = w.times("Failed")
    assert [round(b - a, 6) for a, b in zip(retries, retries[1:], strict=False)] == [10, 10]


def test_optional_references_do_not_block_the_start():
    """Optional ConfigMap and Secret references that are missing are skipped."""
    extra = {
        "env": [
            {
                "name": "A",
                "valueFrom": {"configMapKeyRef": {"name": "x", "key": "k", "optional": True}},
            }
        ],
        "envFrom": [{"secretRef": {"name": "y", "optional": True}}],
    }
    w = walk(make_pod(make_container(**extra)), with_images(NGINX))
    assert w.reasons() == ["Pulled", "Created", "Started"]


def test_container_starts_once_the_missing_config_map_appears():
    """After the ConfigMap is created the next retry starts the container."""
    extra = {
        "env": [
            {
                "name": "COLOR",
                "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "color"}},
            }
        ]
    }
    pod = make_pod(make_container(**extra))
    first = walk(pod, with_images(NGINX), until=5)
    fixed = dataclasses.replace(first.world, configmaps={("default", "app-config"): {"color"}})
    pod_now = first.pod
    second = walk(pod_now, fixed, start=5, runtime=first.runtime)
    assert second.reasons() == ["Pulled", "Created", "Started"]
    assert second.events[0].at == pytest.approx(CFG.sandbox_seconds + CFG.error_retry_seconds)
    assert second.pod["status"]["phase"] == "Running"


def test_missing_config_map_volume_fails_to_mount_with_growing_retries():
    """A ConfigMap volume that does not exist keeps the pod in ContainerCreating without an IP;
    FailedMount is retried after 0.5 s, doubling up to 2m2s."""
    volumes = [{"name": "config", "configMap": {"name": "app-config"}}]
    w = walk(make_pod(volumes=volumes), with_images(NGINX), until=700)
    assert set(w.reasons()) == {"FailedMount"}
    assert (
        w.events[0].message
        == 'MountVolume.SetUp failed for volume "config" : configmap "app-config" not found'
    )
    assert w.events[0].field_path == ""
    times = w.times("FailedMount")
    gaps = [round(b - a, 6) for a, b in zip(times, times[1:], strict=False)]
    assert gaps[:10] == [0.5, 1, 2, 4, 8, 16, 32, 64, 122, 122]
    assert "podIP" not in w.pod["status"]
    assert w.container()["state"]["waiting"]["reason"] == "ContainerCreating"
    assert w.condition("PodReadyToStartContainers")["status"] == "False"


# --------------------------------------------------------------------------------------------
# Init containers


def test_init_containers_run_one_after_another_before_the_app():
    """Init containers run in order, each to completion, before the app container; meanwhile the
    pod is Pending and Initialized lists the incomplete ones."""
    init = [
        make_container("init-a", "busybox:1.36", command=["sh", "-c", "sleep 2"]),
        make_container("init-b", "busybox:1.36", command=["sh", "-c", "sleep 3"]),
    ]
    pod = make_pod(init=init)
    world = with_images(BUSYBOX, NGINX)
    w = walk(pod, world)
    order = [(e.field_path, e.reason) for e in w.events if e.reason in ("Created", "Started")]
    assert order == [
        ("spec.initContainers{init-a}", "Created"),
        ("spec.initContainers{init-a}", "Started"),
        ("spec.initContainers{init-b}", "Created"),
        ("spec.initContainers{init-b}", "Started"),
        ("spec.containers{main}", "Created"),
        ("spec.containers{main}", "Started"),
    ]
    b_created = w.times("Created", "init-b")[0]
    a_started = w.times("Started", "init-a")[0]
    assert b_created == pytest.approx(a_started + 2 + CFG.relist_seconds)
    status = w.pod["status"]
    assert status["phase"] == "Running"
    assert [cs["state"]["terminated"]["reason"] for cs in status["initContainerStatuses"]] == [
        "Completed",
        "Completed",
    ]
    assert all(cs["ready"] for cs in status["initContainerStatuses"])
    assert w.condition("Initialized")["status"] == "True"

    during = walk(pod, world, until=a_started + 1)
    assert during.pod["status"]["phase"] == "Pending"
    initialized = during.condition("Initialized")
    assert (initialized["status"], initialized["reason"], initialized["message"]) == (
        "False",
        "ContainersNotInitialized",
        "containers with incomplete status: [init-a init-b]",
    )
    assert during.container("main")["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert during.container("init-b")["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert during.container("init-a")["started"] is True


@pytest.mark.parametrize(
    ("policy", "phase", "restarts"),
    [
        pytest.param("Never", "Failed", False, id="restartPolicy Never: the pod fails"),
        pytest.param(
            "Always", "Pending", True, id="restartPolicy Always: the init container restarts"
        ),
    ],
)
def test_failing_init_container(policy, phase, restarts):
    """A failing init container fails the pod under Never, and is restarted with back-off
    otherwise; the app container never starts."""
    init = [make_container("setup", "busybox:1.36", command=["sh", "-c", "exit 1"])]
    w = walk(make_pod(init=init, restart_policy=policy), with_images(BUSYBOX, NGINX), until=60)
    assert w.pod["status"]["phase"] == phase
    assert "spec.containers{main}" not in {e.field_path for e in w.events}
    assert (w.container("setup")["restartCount"] > 0) is restarts


def test_sidecar_starts_before_the_next_init_container_and_keeps_running():
    """A restartable init container (restartPolicy Always) only has to start before the next
    init container runs; it keeps running beside the app and counts for ContainersReady."""
    init = [
        make_container("proxy", "nginx:1.27", restartPolicy="Always"),
        make_container("setup", "busybox:1.36", command=["sh", "-c", "sleep 1"]),
    ]
    w = walk(make_pod(init=init), with_images(NGINX, BUSYBOX))
    started = [e.field_path for e in w.events if e.reason == "Started"]
    assert started == [
        "spec.initContainers{proxy}",
        "spec.initContainers{setup}",
        "spec.containers{main}",
    ]
    assert w.times("Started", "setup")[0] < w.times("Started", "main")[0]
    assert "running" in w.container("proxy")["state"]
    assert w.container("proxy")["ready"] is True
    assert w.pod["status"]["phase"] == "Running"
    assert w.condition("Initialized")["status"] == "True"
    assert w.condition("Ready")["status"] == "True"


def test_sidecar_is_stopped_when_the_job_container_finishes():
    """When the app containers of a run-to-completion pod finish, the sidecar is stopped and the
    pod Succeeds."""
    init = [make_container("proxy", "nginx:1.27", restartPolicy="Always")]
    main = make_container(image="busybox:1.36", command=["sleep", "3"])
    w = walk(make_pod(main, init=init, restart_policy="Never"), with_images(NGINX, BUSYBOX))
    assert w.pod["status"]["phase"] == "Succeeded"
    assert [(e.reason, e.field_path) for e in w.events][-1] == (
        "Killing",
        "spec.initContainers{proxy}",
    )
    assert w.container("proxy")["state"]["terminated"]["reason"] == "Completed"


def test_changed_image_restarts_the_container():
    """Changing a running container's image (kubectl set image on a pod) kills it with the
    kubelet's 'definition changed' message and starts the new image, restartCount 1."""
    running = walk(make_pod(), with_images(NGINX, "docker.io/library/nginx:1.28"))
    pod = copy.deepcopy(running.pod)
    pod["spec"]["containers"][0]["image"] = "nginx:1.28"
    w = walk(pod, running.world, start=50, runtime=running.runtime)
    assert [(e.reason, e.message) for e in w.events] == [
        ("Killing", "Container main definition changed, will be restarted"),
        ("Pulled", 'Container image "nginx:1.28" already present on machine'),
        ("Created", "Created container: main"),
        ("Started", "Started container main"),
    ]
    main = w.container()
    assert main["image"] == "docker.io/library/nginx:1.28"
    assert main["restartCount"] == 1
    assert main["lastState"]["terminated"]["exitCode"] == 0


# --------------------------------------------------------------------------------------------
# Readiness


@pytest.mark.parametrize(
    ("container", "annotations", "ready_after"),
    [
        pytest.param(make_container(), {}, 0, id="no probe: ready when started"),
        pytest.param(
            make_container(readinessProbe={"initialDelaySeconds": 5}),
            {},
            5,
            id="readinessProbe initialDelaySeconds",
        ),
        pytest.param(
            make_container(), {"kubarium.io/ready-after-seconds": "12"}, 12, id="annotation"
        ),
        pytest.param(
            make_container(), {"kubarium.io/ready-after-seconds": "never"}, None, id="never ready"
        ),
    ],
)
def test_readiness_delay(container, annotations, ready_after):
    """The pod becomes Ready after the readiness delay; lastTransitionTime marks that moment."""
    w = walk(make_pod(container, annotations=annotations), with_images(NGINX), until=100)
    started = w.times("Started")[0]
    ready = w.condition("Ready")
    if ready_after is None:
        assert ready["status"] == "False" and w.container()["ready"] is False
        assert w.pod["status"]["phase"] == "Running"
        return
    assert ready["status"] == "True"
    expected = CFG.epoch.timestamp() + int(started + ready_after)
    assert ready["lastTransitionTime"] == _iso(expected)


def _iso(epoch_seconds: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch_seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# Deletion


def _deleted(pod: dict, grace: int | None) -> dict:
    pod = copy.deepcopy(pod)
    pod["metadata"]["deletionTimestamp"] = "2025-01-01T00:01:00Z"
    if grace is not None:
        pod["metadata"]["deletionGracePeriodSeconds"] = grace
    return pod


@pytest.mark.parametrize(
    ("container", "annotations", "grace", "gone_after", "exit_code"),
    [
        pytest.param(make_container(), {}, 30, 0.5, 0, id="nginx stops on SIGTERM"),
        pytest.param(
            make_container(image="busybox:1.36", command=["sleep", "3600"]),
            {},
            30,
            30,
            137,
            id="sleep ignores SIGTERM: killed after the grace period",
        ),
        pytest.param(
            make_container(), {"kubarium.io/stop-seconds": "5"}, 30, 5, 0, id="annotated stop time"
        ),
        pytest.param(
            make_container(),
            {"kubarium.io/stop-seconds": "60"},
            10,
            10,
            137,
            id="stop time beyond the grace period",
        ),
        pytest.param(make_container(), {}, 0, 0, 137, id="grace period 0"),
    ],
)
def test_graceful_deletion(container, annotations, grace, gone_after, exit_code):
    """A deleted pod's running containers get Killing events; the pod can be removed once they
    have exited, at the latest when the grace period ends."""
    running = walk(
        make_pod(container, annotations=annotations), with_images(NGINX, BUSYBOX), until=30
    )
    assert "running" in running.container()["state"]
    w = walk(
        _deleted(running.pod, grace), running.world, start=40, runtime=running.runtime, until=200
    )
    assert [(e.reason, e.message, e.at) for e in w.events] == [
        ("Killing", "Stopping container main", 40)
    ]
    final_time, final = w.steps[-1]
    assert final.delete_now is True
    assert final_time == pytest.approx(40 + gone_after)
    assert all(not step.delete_now for _t, step in w.steps[:-1])
    assert w.container()["state"]["terminated"]["exitCode"] == exit_code


def test_pod_without_running_containers_is_deleted_at_once():
    """A deleted pod that never started a container can go immediately, without Killing."""
    pending = walk(make_pod(make_container(image="nginx:broken")), until=5)
    result = advance_pod(_deleted(pending.pod, 30), NODE, 6, CFG, pending.world, pending.runtime)
    assert result.delete_now is True
    assert result.events == []


# --------------------------------------------------------------------------------------------
# Determinism and robustness


def test_late_call_replays_the_same_events_as_stepping():
    """Calling once long after the pod was bound gives the same events, at the same simulated
    times, as calling at every wake-up."""
    pod = make_pod(annotations={"kubarium.io/crash": "true"})
    stepped = walk(pod, with_images(NGINX), until=200)
    late = advance_pod(pod, NODE, 0, CFG, with_images(NGINX))
    late = advance_pod(
        {**pod, "status": late.status},
        NODE,
        stepped.steps[-1][0],
        CFG,
        with_images(NGINX),
        late.runtime,
    )
    once_events = advance_pod(pod, NODE, 0, CFG, with_images(NGINX)).events + late.events
    assert once_events == stepped.events
    assert late.status == stepped.pod["status"]


def test_same_inputs_give_the_same_result():
    """advance_pod is deterministic and does not modify its inputs."""
    pod = make_pod()
    before = copy.deepcopy(pod)
    first = advance_pod(pod, NODE, 3.0, CFG, World())
    second = advance_pod(pod, NODE, 3.0, CFG, World())
    assert first == second
    assert pod == before


def test_lost_runtime_record_adopts_running_containers():
    """Without its runtime record the kubelet keeps a running pod running: no new events."""
    running = walk(make_pod(), with_images(NGINX))
    result = advance_pod(running.pod, NODE, 100.0, CFG, running.world, None)
    assert result.events == []
    assert result.status is None
    assert result.wake_at is None


def test_unchanged_status_is_reported_as_none():
    """A sync that changes nothing returns status None."""
    running = walk(make_pod(), with_images(NGINX))
    again = advance_pod(running.pod, NODE, 500.0, CFG, running.world, running.runtime)
    assert again.status is None and again.events == []


# --------------------------------------------------------------------------------------------
# Helpers: faults, IPs, images, heartbeats


def test_faults_container_annotation_beats_pod_annotation():
    """kubarium.io/<flag>.<container> overrides kubarium.io/<flag>; pod-wide flags skip init
    containers."""
    pod = make_pod(
        annotations={
            "kubarium.io/crash": "true",
            "kubarium.io/crash.sidecar": "false",
            "kubarium.io/memory-usage": "300Mi",
            "kubarium.io/ready-after-seconds": "never",
        }
    )
    assert faults_for(pod, "main").crash is True
    assert faults_for(pod, "sidecar").crash is False
    assert faults_for(pod, "setup", init=True).crash is None
    assert faults_for(pod, "main").memory_usage == 300 * 2**20
    assert faults_for(pod, "main").never_ready is True


@pytest.mark.parametrize(
    ("cidr", "used", "expected"),
    [
        pytest.param("10.244.1.0/24", set(), "10.244.1.2", id="first pod gets .2"),
        pytest.param("10.244.1.0/24", {"10.244.1.2", "10.244.1.3"}, "10.244.1.4", id="lowest free"),
        pytest.param("10.244.1.0/24", {"10.244.1.3"}, "10.244.1.2", id="a freed address is reused"),
        pytest.param("10.244.2.0/30", set(), "10.244.2.2", id="a /30 holds one pod"),
    ],
)
def test_allocate_pod_ip(cidr, used, expected):
    """Pod IPs come from the node's podCIDR, lowest free first, skipping the gateway (.1)."""
    assert allocate_pod_ip(cidr, used) == expected


def test_allocate_pod_ip_fails_when_the_range_is_full():
    """A full pod CIDR is an error, not a duplicate address."""
    with pytest.raises(ValueError, match="no free pod IP"):
        allocate_pod_ip("10.244.2.0/30", {"10.244.2.2"})


@pytest.mark.parametrize(
    ("reference", "normalised"),
    [
        pytest.param("nginx", "docker.io/library/nginx:latest", id="official image"),
        pytest.param("nginx:1.27", "docker.io/library/nginx:1.27", id="tag"),
        pytest.param("bitnami/redis:7.2", "docker.io/bitnami/redis:7.2", id="user image"),
        pytest.param("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10", id="registry"),
        pytest.param("localhost:5000/app", "localhost:5000/app:latest", id="registry with port"),
        pytest.param("nginx@sha256:abc", "docker.io/library/nginx@sha256:abc", id="digest"),
    ],
)
def test_parse_image(reference, normalised):
    """Image references normalise as containerd stores them."""
    assert str(img.parse_image(reference)) == normalised


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        pytest.param(0, "0s", id="zero"),
        pytest.param(0.797, "797ms", id="milliseconds"),
        pytest.param(1.2, "1.2s", id="fraction"),
        pytest.param(10, "10s", id="seconds"),
        pytest.param(80, "1m20s", id="minutes"),
        pytest.param(300, "5m0s", id="five minutes"),
        pytest.param(3725.5, "1h2m5.5s", id="hours"),
    ],
)
def test_go_duration(seconds, text):
    """Durations print as Go's time.Duration.String does."""
    assert img.go_duration(seconds) == text


def test_pull_duration_arithmetic():
    """A pull takes latency + size / bandwidth, scaled by the jitter."""
    took = img.pull_duration(
        "nginx:1.27", present=False, bandwidth_bytes_per_second=50e6, latency_seconds=0.4
    )
    assert took == 1.841  # 0.4 + 72099501 / 50e6 = 1.84199..., truncated to the millisecond
    assert (
        img.pull_duration(
            "nginx:1.27",
            present=True,
            bandwidth_bytes_per_second=50e6,
            latency_seconds=0.4,
            jitter=1.1,
        )
        == 0.44
    )


def test_node_heartbeat_reports_a_ready_kubelet():
    """A heartbeat sets Ready True (KubeletReady) and the pressure conditions False, fills in
    nodeInfo and addresses, and keeps capacity."""
    node = {
        "metadata": {"name": "worker-1"},
        "spec": {"podCIDR": "10.244.1.0/24"},
        "status": {"capacity": {"cpu": "4"}, "allocatable": {"cpu": "4"}},
    }
    status = node_heartbeat(node, "2025-01-01T00:00:10Z", images=[NGINX])
    assert [(c["type"], c["status"], c["reason"]) for c in status["conditions"]] == [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID"),
        ("Ready", "True", "KubeletReady"),
    ]
    ready = status["conditions"][3]
    assert ready["message"] == "kubelet is posting ready status"
    assert ready["lastHeartbeatTime"] == ready["lastTransitionTime"] == "2025-01-01T00:00:10Z"
    assert status["nodeInfo"]["kubeletVersion"] == "v1.32.4"
    assert status["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://1.7.")
    assert status["nodeInfo"]["architecture"] == "amd64"
    assert status["addresses"] == [
        {"type": "InternalIP", "address": "172.18.0.3"},
        {"type": "Hostname", "address": "worker-1"},
    ]
    assert status["capacity"] == {"cpu": "4"}
    assert status["images"][0]["names"][1] == NGINX
    assert status["images"][0]["sizeBytes"] == 72099501


@pytest.mark.parametrize(
    ("previous", "transition"),
    [
        pytest.param("True", "2025-01-01T00:00:00Z", id="still ready: transition time kept"),
        pytest.param("Unknown", "2025-01-01T00:05:00Z", id="back from Unknown: transition now"),
    ],
)
def test_node_heartbeat_moves_transition_time_only_on_change(previous, transition):
    """lastTransitionTime changes only when a condition's status changes; lastHeartbeatTime
    always moves."""
    node = {
        "metadata": {"name": "worker-1"},
        "status": {
            "conditions": [
                {"type": "Ready", "status": previous, "lastTransitionTime": "2025-01-01T00:00:00Z"}
            ],
            "addresses": [{"type": "InternalIP", "address": "172.18.0.9"}],
        },
    }
    status = node_heartbeat(node, "2025-01-01T00:05:00Z")
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["lastTransitionTime"] == transition
    assert ready["lastHeartbeatTime"] == "2025-01-01T00:05:00Z"
    assert status["addresses"][0] == {"type": "InternalIP", "address": "172.18.0.9"}


def test_lost_runtime_record_keeps_a_finished_job_finished():
    """Without its runtime record a Succeeded pod is not run again."""
    job = make_pod(
        make_container(image="busybox:1.36", command=["sh", "-c", "echo hi"]),
        restart_policy="Never",
    )
    done = walk(job, with_images(BUSYBOX))
    assert done.pod["status"]["phase"] == "Succeeded"
    result = advance_pod(done.pod, NODE, 500.0, CFG, done.world, None)
    assert result.events == []
    assert result.status is None


# --------------------------------------------------------------------------------------------
# Admission: a pod first seen after it was bound


def bound_pod(bound_at: str | None, *, deleting: bool = False) -> dict:
    pod = make_pod()
    pod["metadata"]["creationTimestamp"] = "2025-01-01T00:00:05Z"
    if bound_at:
        pod["status"] = {
            "phase": "Pending",
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": bound_at}
            ],
        }
    if deleting:
        pod["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:50Z"
    return pod


@pytest.mark.parametrize(
    ("pod", "lag", "admitted"),
    [
        # Bound at 10 s, first seen at 60 s: the kubelet started it at 10 s.
        (bound_pod("2025-01-01T00:00:10Z"), 100.0, "2025-01-01T00:00:10Z"),
        # ... but never further back than the lag: 60 - 20 = 40 s.
        (bound_pod("2025-01-01T00:00:10Z"), 20.0, "2025-01-01T00:00:40Z"),
        # No lag (the default): when first seen, as ever.
        (bound_pod("2025-01-01T00:00:10Z"), 0.0, "2025-01-01T00:01:00Z"),
        # Created with spec.nodeName (no binding): its creation, 5 s.
        (bound_pod(None), 100.0, "2025-01-01T00:00:05Z"),
        # Already being deleted: noticed when seen, never back-dated.
        (bound_pod("2025-01-01T00:00:10Z", deleting=True), 100.0, "2025-01-01T00:01:00Z"),
    ],
    ids=["bound-earlier", "capped-by-the-lag", "no-lag", "no-binding", "being-deleted"],
)
def test_a_pod_first_seen_late_starts_when_it_was_bound(pod, lag, admitted):
    cfg = dataclasses.replace(CFG, admission_lag_seconds=lag)
    step = advance_pod(pod, NODE, 60.0, cfg, with_images(NGINX))
    assert step.status["startTime"] == admitted


def test_a_late_first_sync_reports_the_whole_start_at_once_with_each_event_at_its_time():
    """Seen 50 s after its binding, a pod whose image is on the node is Running and Ready in
    the first status written, and its events carry the times they happened, not the sync's."""
    cfg = dataclasses.replace(CFG, admission_lag_seconds=100.0)
    step = advance_pod(bound_pod("2025-01-01T00:00:10Z"), NODE, 60.0, cfg, with_images(NGINX))
    assert step.status["phase"] == "Running"
    ready = next(c for c in step.status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True" and ready["lastTransitionTime"] < "2025-01-01T00:00:12Z"
    assert [e.reason for e in step.events] == ["Pulled", "Created", "Started"]
    assert all(10.0 <= e.at < 12.0 for e in step.events)
