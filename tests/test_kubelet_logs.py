"""Simulated container logs and resource usage."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from cluster.kubelet.logs import LogLine, container_log_lines, render_logs, usage

START = dt.datetime(2025, 1, 1, 10, 0, 0, tzinfo=dt.UTC)
LATER = START + dt.timedelta(minutes=5)


def make_pod(image: str = "nginx:1.27", *, annotations: dict | None = None, **container) -> dict:
    return {
        "metadata": {
            "name": "web-abc",
            "namespace": "default",
            "uid": "uid-1",
            "annotations": annotations or {},
        },
        "spec": {"containers": [{"name": "main", "image": image, **container}]},
    }


def at(seconds: float) -> dt.datetime:
    return START + dt.timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("pod", "first", "contains"),
    [
        pytest.param(
            make_pod("nginx:1.27"),
            "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
            "2025/01/01 10:00:00 [notice] 1#1: nginx/1.27.5",
            id="nginx start-up notices",
        ),
        pytest.param(
            make_pod("postgres:16", env=[{"name": "POSTGRES_PASSWORD", "value": "x"}]),
            'The files belonging to this database system will be owned by user "postgres".',
            "database system is ready to accept connections",
            id="postgres initialises and starts",
        ),
        pytest.param(
            make_pod("postgres:16"),
            "Error: Database is uninitialized and superuser password is not specified.",
            "POSTGRES_HOST_AUTH_METHOD=trust",
            id="postgres without a password refuses to start",
        ),
        pytest.param(
            make_pod("redis:7"),
            "1:C 01 Jan 2025 10:00:00.000 * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
            "Ready to accept connections tcp",
            id="redis",
        ),
        pytest.param(
            make_pod("ghcr.io/acme/shop:2.1", ports=[{"containerPort": 9000}]),
            "Starting shop (2.1) in container main",
            "Listening on :9000",
            id="generic image",
        ),
        pytest.param(
            make_pod("busybox:1.36", command=["sh", "-c", "echo hello; sleep 3600"]),
            "hello",
            "hello",
            id="shell echo",
        ),
    ],
)
def test_start_up_lines_depend_on_the_image(pod, first, contains):
    """Each image prints what its real counterpart prints when it starts."""
    lines = container_log_lines(pod, "main", START, LATER)
    texts = [line.text for line in lines]
    assert texts[0] == first
    assert any(contains in text for text in texts)


def test_one_access_log_line_per_request_served():
    """Requests within the container's lifetime add nginx access-log lines, in time order;
    requests before the start or after now are left out."""
    requests = [
        (at(30), "GET", "/", 200),
        (at(10), "GET", "/missing", 404, "10.244.2.7"),
        (at(-5), "GET", "/before", 200),
        (at(400), "GET", "/after", 200),
    ]
    lines = container_log_lines(make_pod(), "main", START, LATER, requests)
    access = [line for line in lines if "HTTP/1.1" in line.text]
    assert [line.text for line in access] == [
        '10.244.2.7 - - [01/Jan/2025:10:00:10 +0000] "GET /missing HTTP/1.1" 404 153 "-" "curl/8.5.0" "-"',
        '10.244.0.1 - - [01/Jan/2025:10:00:30 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/8.5.0" "-"',
    ]
    assert [line.at for line in access] == [at(10), at(30)]


def test_databases_do_not_log_requests():
    """postgres does not log each connection."""
    pod = make_pod("postgres:16", env=[{"name": "POSTGRES_PASSWORD", "value": "x"}])
    without = container_log_lines(pod, "main", START, LATER)
    with_requests = container_log_lines(pod, "main", START, LATER, [(at(30), "GET", "/", 200)])
    assert with_requests == without


def test_logs_are_deterministic_and_bounded_by_now():
    """The same inputs give the same lines; nothing is written after now."""
    a = container_log_lines(make_pod(), "main", START, LATER, [(at(1), "GET", "/", 200)])
    b = container_log_lines(make_pod(), "main", START, LATER, [(at(1), "GET", "/", 200)])
    assert a == b
    early = container_log_lines(
        make_pod("postgres:16", env=[{"name": "POSTGRES_PASSWORD"}]), "main", START, at(0.5)
    )
    assert all(line.at <= at(0.5) for line in early)
    assert not any("ready to accept connections" in line.text for line in early)


def test_injected_crash_ends_the_log():
    """A container with kubarium.io/crash logs a fatal line at its crash time."""
    pod = make_pod(
        annotations={"kubarium.io/crash": "true", "kubarium.io/crash-after-seconds": "4"}
    )
    lines = container_log_lines(pod, "main", START, LATER)
    assert lines[-1].at == at(4)
    assert lines[-1].text.startswith("fatal: simulated crash (exit code 1)")


def test_unknown_container_is_an_error():
    """Asking for a container the pod does not have raises KeyError."""
    with pytest.raises(KeyError):
        container_log_lines(make_pod(), "nope", START, LATER)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param({}, ["a", "b", "c"], id="all lines"),
        pytest.param({"tail_lines": 2}, ["b", "c"], id="tailLines"),
        pytest.param({"tail_lines": 0}, [], id="tailLines 0"),
        pytest.param({"since": at(1)}, ["b", "c"], id="sinceTime"),
        pytest.param(
            {"timestamps": True, "tail_lines": 1},
            ["2025-01-01T10:00:02.500000000Z c"],
            id="timestamps with nine fraction digits",
        ),
        pytest.param({"limit_bytes": 3}, ["a", "b"], id="limitBytes cuts the text"),
    ],
)
def test_render_logs(options, expected):
    """render_logs applies the log endpoint's options, one newline-terminated line each."""
    lines = [LogLine(at(0), "a"), LogLine(at(1), "b"), LogLine(at(2.5), "c")]
    text = render_logs(lines, **options)
    assert text.split("\n")[: len(expected)] == expected
    if options.get("limit_bytes") is None:
        assert text == "".join(line + "\n" for line in expected)


def test_timestamp_format_is_rfc3339_with_nanoseconds():
    """Timestamps are UTC with exactly nine fraction digits."""
    line = LogLine(dt.datetime(2025, 1, 1, 10, 0, 0, 123456, tzinfo=dt.UTC), "x")
    assert line.render(timestamps=True) == "2025-01-01T10:00:00.123456000Z x"
    assert re.fullmatch(r"\S+Z x", line.render(timestamps=True))


@pytest.mark.parametrize(
    ("image", "low", "high"),
    [
        pytest.param(
            "nginx:1.27", (0, 3 * 2**20), (5, 5 * 2**20), id="nginx idles at about 1m and 4Mi"
        ),
        pytest.param(
            "postgres:16",
            (3, 40 * 2**20),
            (5, 56 * 2**20),
            id="postgres idles at about 4m and 48Mi",
        ),
    ],
)
def test_idle_usage_is_the_image_base(image, low, high):
    """Without load a container uses its image's base CPU and memory (within ±10 %)."""
    cpu, memory = usage(make_pod(image), "main", 0)
    assert low[0] <= cpu <= high[0]
    assert low[1] <= memory <= high[1]


def test_usage_grows_with_load_and_is_deterministic():
    """More requests per second cost more CPU and memory; the same inputs give the same usage."""
    pod = make_pod()
    idle, busy, busier = usage(pod, "main", 0), usage(pod, "main", 100), usage(pod, "main", 200)
    assert idle[0] < busy[0] < busier[0]
    assert idle[1] < busy[1] < busier[1]
    assert usage(pod, "main", 100) == busy
    # nginx: (1 + 0.2 * 100) * factor with factor in [0.9, 1.1]
    assert 18 <= busy[0] <= 24


def test_usage_respects_limits_and_annotations():
    """CPU is capped at limits.cpu (throttling); annotations replace the computed values."""
    limited = make_pod(resources={"limits": {"cpu": "50m"}})
    assert usage(limited, "main", 10_000)[0] == 50
    annotated = make_pod(
        annotations={"kubarium.io/cpu-usage": "250m", "kubarium.io/memory-usage": "300Mi"}
    )
    assert usage(annotated, "main", 0) == (250, 300 * 2**20)


def test_replicas_differ_a_little():
    """Two pods of the same image get slightly different usage."""
    a = make_pod()
    b = make_pod()
    b["metadata"]["uid"] = "uid-2"
    assert usage(a, "main", 1000) != usage(b, "main", 1000)
