"""Simulated container logs and resource usage, deterministic for the same inputs.

:func:`container_log_lines` gives what the container's image would have printed between its
start and ``now``: the start-up notices of nginx, httpd, postgres or redis, a generic start-up line
for other images, then one access-log line per request the container served. Every line carries
its instant, so ``kubectl logs --timestamps`` can prefix it as the kubelet does (RFC 3339 with
nine fixed fraction digits: ``2025-01-01T00:00:02.000000000Z``).

:func:`usage` gives the container's CPU and memory under a load, for ``kubectl top`` and the
autoscaler: a base per image plus a cost per request per second.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cluster.kubelet import images as img
from cluster.kubelet.lifecycle import KubeletConfig, faults_for
from cluster.quantity import QuantityError, cpu_millis

__all__ = ["LogLine", "container_log_lines", "render_logs", "usage"]

Request = Sequence[Any]  # (time, method, path, status) or (time, method, path, status, client_ip)

_NGINX_VERSIONS = {"1.25": "1.25.5", "1.26": "1.26.3", "1.27": "1.27.5", "1.28": "1.28.0"}
_POSTGRES_VERSIONS = {"15": "15.12", "16": "16.8", "17": "17.4"}
_DEFAULT_CLIENT = "10.244.0.1"
# What a shell command echoes: echo hello; echo "a b" && ...
_ECHO = re.compile(r"""\becho\s+(?:"([^"]*)"|'([^']*)'|([^;&|]*[^;&|\s]))""")


@dataclasses.dataclass(frozen=True)
class LogLine:
    """One line of a container's output and the instant it was written."""

    at: dt.datetime
    text: str

    def render(self, timestamps: bool = False) -> str:
        """The line as ``kubectl logs`` prints it, optionally prefixed with its timestamp."""
        if not timestamps:
            return self.text
        return f"{rfc3339_nano(self.at)} {self.text}"


def rfc3339_nano(when: dt.datetime) -> str:
    """The kubelet's log timestamp: UTC with nine fraction digits, ``...T00:00:02.500000000Z``."""
    when = when.astimezone(dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}000Z"


def _container(pod: Mapping[str, Any], name: str) -> tuple[Mapping[str, Any], bool]:
    spec = pod.get("spec") or {}
    for container in spec.get("containers") or []:
        if container.get("name") == name:
            return container, False
    for container in spec.get("initContainers") or []:
        if container.get("name") == name:
            return container, True
    raise KeyError(
        f"container {name} is not valid for pod {(pod.get('metadata') or {}).get('name')}"
    )


def _digest_int(*parts: str) -> int:
    return int(hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:12], 16)


def _version(table: Mapping[str, str], tag: str, default: str) -> str:
    if tag and tag[0].isdigit():
        major_minor = tag.split("-")[0]
        if major_minor.count(".") >= 2:
            return major_minor
        return table.get(major_minor, table.get(major_minor.split(".")[0], default))
    return default


def _startup_nginx(at: dt.datetime, ref: img.ImageRef, workers: int, seed: int) -> list[LogLine]:
    version = _version(_NGINX_VERSIONS, ref.tag, "1.27.5")
    stamp = at.strftime("%Y/%m/%d %H:%M:%S")
    entry = [
        "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
        "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
        "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
        "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
        "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
        "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
        "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
        "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
        "/docker-entrypoint.sh: Configuration complete; ready for start up",
        f'{stamp} [notice] 1#1: using the "epoll" event method',
        f"{stamp} [notice] 1#1: nginx/{version}",
        f"{stamp} [notice] 1#1: built by gcc 12.2.0 (Debian 12.2.0-14) ",
        f"{stamp} [notice] 1#1: OS: Linux 6.8.0-57-generic",
        f"{stamp} [notice] 1#1: getrlimit(RLIMIT_NOFILE): 1048576:1048576",
        f"{stamp} [notice] 1#1: start worker processes",
    ]
    first_pid = 29 + seed % 8
    entry += [f"{stamp} [notice] 1#1: start worker process {first_pid + i}" for i in range(workers)]
    return [LogLine(at + dt.timedelta(milliseconds=2 * i), text) for i, text in enumerate(entry)]


def _startup_httpd(at: dt.datetime) -> list[LogLine]:
    stamp = at.strftime("%a %b %d %H:%M:%S.%f %Y")
    return [
        LogLine(
            at,
            "AH00558: httpd: Could not reliably determine the server's fully qualified "
            "domain name, using 10.244.0.2. Set the 'ServerName' directive globally to "
            "suppress this message",
        ),
        LogLine(
            at,
            f"[{stamp}] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4.63 (Unix) "
            "configured -- resuming normal operations",
        ),
        LogLine(
            at,
            f"[{stamp}] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'",
        ),
    ]


def _pg_stamp(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S.") + f"{at.microsecond // 1000:03d} UTC"


def _startup_postgres(at: dt.datetime, ref: img.ImageRef, has_password: bool) -> list[LogLine]:
    if not has_password:
        texts = [
            "Error: Database is uninitialized and superuser password is not specified.",
            "       You must specify POSTGRES_PASSWORD to a non-empty value for the",
            '       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".',
            "",
            '       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all',
            "       connections without a password. This is *not* recommended.",
            "",
            '       See PostgreSQL documentation about "trust":',
            "       https://www.postgresql.org/docs/current/auth-trust.html",
        ]
        return [LogLine(at, text) for text in texts]
    version = _version(_POSTGRES_VERSIONS, ref.tag, "17.4")
    banner = (
        f"starting PostgreSQL {version} (Debian {version}-1.pgdg120+1) on x86_64-pc-linux-gnu, "
        "compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit"
    )
    init = at + dt.timedelta(milliseconds=400)
    ready = at + dt.timedelta(milliseconds=1500)
    texts: list[tuple[dt.datetime, str]] = [
        (at, 'The files belonging to this database system will be owned by user "postgres".'),
        (at, "This user must also own the server process."),
        (at, ""),
        (at, 'The database cluster will be initialized with locale "en_US.utf8".'),
        (at, 'The default database encoding has accordingly been set to "UTF8".'),
        (at, 'The default text search configuration will be set to "english".'),
        (at, ""),
        (at, "fixing permissions on existing directory /var/lib/postgresql/data ... ok"),
        (at, "creating subdirectories ... ok"),
        (at, "selecting dynamic shared memory implementation ... posix"),
        (at, "selecting default max_connections ... 100"),
        (at, "selecting default shared_buffers ... 128MB"),
        (at, "selecting default time zone ... Etc/UTC"),
        (at, "creating configuration files ... ok"),
        (init, "running bootstrap script ... ok"),
        (init, "performing post-bootstrap initialization ... ok"),
        (init, "syncing data to disk ... ok"),
        (init, ""),
        (init, "PostgreSQL init process complete; ready for start up."),
        (init, ""),
        (ready, f"{_pg_stamp(ready)} [1] LOG:  {banner}"),
        (ready, f'{_pg_stamp(ready)} [1] LOG:  listening on IPv4 address "0.0.0.0", port 5432'),
        (ready, f'{_pg_stamp(ready)} [1] LOG:  listening on IPv6 address "::", port 5432'),
        (
            ready,
            f'{_pg_stamp(ready)} [1] LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"',
        ),
        (ready, f"{_pg_stamp(ready)} [1] LOG:  database system is ready to accept connections"),
    ]
    return [LogLine(when, text) for when, text in texts]


def _startup_redis(at: dt.datetime) -> list[LogLine]:
    stamp = at.strftime("%d %b %Y %H:%M:%S.") + f"{at.microsecond // 1000:03d}"
    texts = [
        f"1:C {stamp} * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
        f"1:C {stamp} * Redis version=7.4.2, bits=64, commit=00000000, modified=0, pid=1, just started",
        f"1:C {stamp} # Warning: no config file specified, using the default config.",
        f"1:M {stamp} * monotonic clock: POSIX clock_gettime",
        f"1:M {stamp} * Running mode=standalone, port=6379.",
        f"1:M {stamp} * Server initialized",
        f"1:M {stamp} * Ready to accept connections tcp",
    ]
    return [LogLine(at, text) for text in texts]


def _generic_port(container: Mapping[str, Any]) -> int:
    for port in container.get("ports") or []:
        if port.get("containerPort"):
            return int(port["containerPort"])
    return 8080


def _access_line(family: str, when: dt.datetime, request: Request, user_agent: str) -> str | None:
    method, path, status = str(request[1]), str(request[2]), int(request[3])
    client = str(request[4]) if len(request) > 4 else _DEFAULT_CLIENT
    if family == "nginx":
        size = 615 if status == 200 else (153 if status == 404 else 0)
        stamp = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
        return f'{client} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size} "-" "{user_agent}" "-"'
    if family == "httpd":
        size = 45 if status == 200 else 196
        stamp = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
        return f'{client} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size}'
    if family in ("postgres", "redis", "mysql", "shell"):
        return None  # databases do not log connections by default; shells serve nothing
    return f'{client} "{method} {path}" {status}'


def container_log_lines(
    pod: Mapping[str, Any],
    container_name: str,
    started_at: dt.datetime,
    now: dt.datetime,
    requests: Iterable[Request] = (),
    *,
    user_agent: str = "curl/8.5.0",
) -> list[LogLine]:
    """The lines a container printed from ``started_at`` up to ``now``, oldest first.

    ``requests`` are ``(time, method, path, status[, client_ip])`` tuples for the requests this
    container served; those after ``now`` or before the start are left out. A container with an
    injected crash (``kubarium.io/crash``) ends with an error line at its crash time. Raises
    KeyError for a container the pod does not have.
    """
    container, init = _container(pod, container_name)
    ref = img.parse_image(str(container.get("image", "")))
    profile = img.image_profile(str(container.get("image", "")))
    meta = pod.get("metadata") or {}
    seed = _digest_int(str(meta.get("uid", "")), str(meta.get("name", "")), container_name)
    family = profile.family
    lines: list[LogLine]
    if family == "nginx":
        lines = _startup_nginx(started_at, ref, workers=2, seed=seed)
    elif family == "httpd":
        lines = _startup_httpd(started_at)
    elif family == "postgres":
        names = {str(e.get("name")) for e in container.get("env") or []}
        has_password = bool(container.get("envFrom")) or bool(
            names & {"POSTGRES_PASSWORD", "POSTGRES_HOST_AUTH_METHOD"}
        )
        lines = _startup_postgres(started_at, ref, has_password)
    elif family == "redis":
        lines = _startup_redis(started_at)
    elif family == "shell":
        command = " ".join(
            str(part)
            for part in [*(container.get("command") or []), *(container.get("args") or [])]
        )
        lines = [LogLine(started_at, "".join(match)) for match in _ECHO.findall(command)]
    else:
        port = _generic_port(container)
        lines = [
            LogLine(
                started_at,
                f"Starting {ref.short_name} ({ref.tag or ref.digest}) in container {container_name}",
            ),
            LogLine(started_at + dt.timedelta(milliseconds=150), f"Listening on :{port}"),
        ]
    for request in sorted(requests, key=lambda r: r[0]):
        when = request[0]
        if when < started_at or when > now:
            continue
        text = _access_line(family, when, request, user_agent)
        if text is not None:
            lines.append(LogLine(when, text))
    faults = faults_for(pod, container_name, init=init)
    if faults.crash:
        crashed = started_at + dt.timedelta(
            seconds=faults.crash_after
            if faults.crash_after is not None
            else KubeletConfig.crash_after_seconds
        )
        lines.append(
            LogLine(
                crashed,
                f"fatal: simulated crash (exit code {faults.exit_code}) requested by kubarium.io/crash",
            )
        )
    lines = [line for line in lines if line.at <= now]
    lines.sort(key=lambda line: line.at)  # stable: lines written at the same instant keep order
    return lines


def render_logs(
    lines: Sequence[LogLine],
    *,
    timestamps: bool = False,
    tail_lines: int | None = None,
    since: dt.datetime | None = None,
    limit_bytes: int | None = None,
) -> str:
    """The body of ``GET .../pods/<name>/log`` for these lines: ``sinceTime``/``sinceSeconds``
    (as ``since``), then ``tailLines``, then ``limitBytes``, each line ending in a newline."""
    chosen = [line for line in lines if since is None or line.at >= since]
    if tail_lines is not None:
        chosen = chosen[-tail_lines:] if tail_lines > 0 else []
    text = "".join(line.render(timestamps) + "\n" for line in chosen)
    if limit_bytes is not None:
        text = text.encode()[:limit_bytes].decode(errors="ignore")
    return text


def usage(pod: Mapping[str, Any], container: str, load_rps: float = 0.0) -> tuple[int, int]:
    """A container's ``(cpu_millis, memory_bytes)`` under ``load_rps`` requests per second.

    ``cpu = base + per_request * rps`` and ``memory = base + per_request * rps``, each scaled by
    a fixed per-container factor between 0.9 and 1.1 (from the SHA-256 of the pod's uid and the
    container name) so that replicas differ a little but never change between calls. CPU is
    capped at ``limits.cpu`` (the container is throttled). The ``kubarium.io/cpu-usage`` and
    ``kubarium.io/memory-usage`` annotations replace the computed values.

    Worked example, nginx at 100 rps with factor 1.0: CPU ``1 + 0.2 * 100 = 21m``; memory
    ``4 MiB + 16 KiB * 100 = 5,832,704 bytes``.
    """
    spec, init = _container(pod, container)
    profile = img.image_profile(str(spec.get("image", "")))
    meta = pod.get("metadata") or {}
    factor = (
        0.9
        + (_digest_int(str(meta.get("uid", "")), str(meta.get("name", "")), container) % 2001)
        / 10000
    )
    rps = max(0.0, float(load_rps))
    cpu = (profile.cpu_base_millis + profile.cpu_per_rps_millis * rps) * factor
    memory = (profile.memory_base_bytes + profile.memory_per_rps_bytes * rps) * factor
    faults = faults_for(pod, container, init=init)
    if faults.cpu_usage is not None:
        cpu = faults.cpu_usage
    if faults.memory_usage is not None:
        memory = faults.memory_usage
    limit = ((spec.get("resources") or {}).get("limits") or {}).get("cpu")
    if limit is not None:
        try:
            cpu = min(cpu, cpu_millis(limit))
        except (QuantityError, ValueError):
            pass
    return int(round(cpu)), int(round(memory))
