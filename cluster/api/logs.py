"""``GET .../pods/<name>/log``: a container's simulated output, as ``text/plain``.

What the kubelet would answer (kubectl-contract §12.2): the container is picked by
``container`` (or is the pod's only one); its lines come from
``cluster.kubelet.logs.container_log_lines`` between the start of the container instance (its
``containerStatuses`` ``startedAt``) and now, in simulated time, with the requests it served;
``timestamps``, ``tailLines``, ``sinceSeconds``/``sinceTime``, ``limitBytes`` and ``previous``
(the last terminated instance) shape the text as ``render_logs`` does.

``follow=true`` streams: the text so far, then every new line as it appears (polled twice a
second), until the container instance ends (it terminated or restarted), the pod goes, or the
client hangs up. Errors are the kubelet's, as 400 BadRequest Status objects:
``pod web does not have a host assigned``, ``container "main" in pod "web" is waiting to start:
ContainerCreating``...
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from cluster import clock, simclock, traffic
from cluster.api import auth
from cluster.api.http import parse_bool, parse_int, reconnecting
from cluster.api.routes import Route
from cluster.kubelet.logs import LogLine, container_log_lines, render_logs
from cluster.store import read
from cluster.store.errors import BadRequest, NotFound
from cluster.store.kinds import get_path
from cluster.store.objects import parse_time

Obj = dict[str, Any]
TEXT = "text/plain"
FOLLOW_POLL_SECONDS = 0.5
FOLLOW_MAX_SECONDS = 4 * 3600


@dataclass(frozen=True)
class LogQuery:
    container: str
    previous: bool
    timestamps: bool
    tail_lines: int | None
    since_seconds: int | None
    since_time: dt.datetime | None
    limit_bytes: int | None
    follow: bool

    @classmethod
    def parse(cls, request: HttpRequest) -> LogQuery:
        query = request.GET
        since_time = None
        if query.get("sinceTime"):
            since_time = parse_time(query["sinceTime"])
            if since_time is None:
                raise BadRequest(f'sinceTime: Invalid value: "{query["sinceTime"]}"')
        return cls(
            container=query.get("container", ""),
            previous=parse_bool(query.get("previous"), "previous"),
            timestamps=parse_bool(query.get("timestamps"), "timestamps"),
            tail_lines=parse_int(query.get("tailLines"), "tailLines"),
            since_seconds=parse_int(query.get("sinceSeconds"), "sinceSeconds"),
            since_time=since_time,
            limit_bytes=parse_int(query.get("limitBytes"), "limitBytes"),
            follow=parse_bool(query.get("follow"), "follow"),
        )


@dataclass(frozen=True)
class Instance:
    """One run of a container: when it started, and when it ended (None: still running)."""

    container: str
    started: dt.datetime
    finished: dt.datetime | None


def _names(pod: Obj, field: str) -> list[str]:
    return [
        str(c.get("name"))
        for c in get_path(pod, f"spec.{field}", []) or []
        if isinstance(c, dict) and c.get("name")
    ]


def choose_container(pod: Obj, wanted: str) -> str:
    """The container asked for, or the pod's only container; the apiserver's errors otherwise."""
    name = pod["metadata"]["name"]
    containers, inits = _names(pod, "containers"), _names(pod, "initContainers")
    if not wanted:
        if len(containers) == 1:
            return containers[0]
        message = (
            f"a container name must be specified for pod {name}, "
            f"choose one of: [{' '.join(containers)}]"
        )
        if inits:
            message += f" or one of the init containers: [{' '.join(inits)}]"
        raise BadRequest(message)
    if wanted not in containers + inits + _names(pod, "ephemeralContainers"):
        raise BadRequest(f"container {wanted} is not valid for pod {name}")
    return wanted


def _container_status(pod: Obj, container: str) -> Obj:
    for field in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for status in get_path(pod, f"status.{field}", []) or []:
            if isinstance(status, dict) and status.get("name") == container:
                return status
    return {}


def instance(pod: Obj, container: str, previous: bool) -> Instance:
    """The container run whose output is asked for, or the kubelet's BadRequest."""
    name = pod["metadata"]["name"]
    if not get_path(pod, "spec.nodeName"):
        raise BadRequest(f"pod {name} does not have a host assigned")
    status = _container_status(pod, container)
    if previous:
        terminated = get_path(status, "lastState.terminated") or {}
        started = parse_time(terminated.get("startedAt"))
        if not started:
            raise BadRequest(
                f'previous terminated container "{container}" in pod "{name}" not found'
            )
        return Instance(container, started, parse_time(terminated.get("finishedAt")) or started)
    state = status.get("state") or {}
    running, terminated = state.get("running"), state.get("terminated")
    if isinstance(running, dict) and parse_time(running.get("startedAt")):
        return Instance(container, parse_time(running["startedAt"]), None)
    if isinstance(terminated, dict) and parse_time(terminated.get("startedAt")):
        started = parse_time(terminated["startedAt"])
        return Instance(container, started, parse_time(terminated.get("finishedAt")) or started)
    reason = get_path(state, "waiting.reason") or "ContainerCreating"
    raise BadRequest(f'container "{container}" in pod "{name}" is waiting to start: {reason}')


def _serving_container(pod: Obj) -> str:
    """The container that answers the pod's traffic: the first one with a port."""
    containers = [c for c in get_path(pod, "spec.containers", []) or [] if isinstance(c, dict)]
    for container in containers:
        if container.get("ports"):
            return str(container.get("name"))
    return str(containers[0].get("name")) if containers else ""


def _requests(pod: Obj, container: str) -> list[tuple]:
    if container != _serving_container(pod):
        return []
    meta = pod["metadata"]
    state = clock.state()
    return [
        (simclock.to_datetime(state, at), method, path, status)
        for at, method, path, status in traffic.recent_requests(
            meta.get("namespace", ""), meta["name"]
        )
    ]


def lines_of(pod: Obj, run: Instance, now: dt.datetime) -> list[LogLine]:
    until = run.finished if run.finished is not None else now
    return container_log_lines(
        pod, run.container, run.started, until, _requests(pod, run.container)
    )


def _since(query: LogQuery, now: dt.datetime) -> dt.datetime | None:
    if query.since_seconds is not None:
        if query.since_seconds <= 0:
            raise BadRequest("sinceSeconds: Invalid value: must be greater than 0")
        return now - dt.timedelta(seconds=query.since_seconds)
    return query.since_time


def _pod(route: Route) -> Obj:
    return read.get("Pod", route.namespace or "", route.name)


def read_log(request: HttpRequest, route: Route) -> HttpResponse:
    """The whole log so far (no ``follow``)."""
    assert route.kind is not None
    auth.authorize(request, "get", route.kind, route.namespace, route.name)
    query = LogQuery.parse(request)
    pod = _pod(route)
    run = instance(pod, choose_container(pod, query.container), query.previous)
    now = clock.now_datetime()
    text = render_logs(
        lines_of(pod, run, now),
        timestamps=query.timestamps,
        tail_lines=query.tail_lines,
        since=_since(query, now),
        limit_bytes=query.limit_bytes,
    )
    return HttpResponse(text.encode(), content_type=TEXT)


# --- follow ----------------------------------------------------------------------------------


@dataclass
class _Cursor:
    """What was sent: the instant of the last line, and how many lines at that instant."""

    at: dt.datetime | None = None
    count_at: int = 0

    def new_lines(self, lines: list[LogLine]) -> list[LogLine]:
        fresh: list[LogLine] = []
        seen_at_last = 0
        for line in lines:
            if self.at is not None and line.at < self.at:
                continue
            if self.at is not None and line.at == self.at:
                seen_at_last += 1
                if seen_at_last <= self.count_at:
                    continue
            fresh.append(line)
        for line in fresh:
            if line.at == self.at:
                self.count_at += 1
            else:
                self.at, self.count_at = line.at, 1
        return fresh


def _start_follow(
    request: HttpRequest, route: Route
) -> tuple[str, _Cursor, Obj, Instance, LogQuery]:
    assert route.kind is not None
    auth.authorize(request, "get", route.kind, route.namespace, route.name)
    query = LogQuery.parse(request)
    pod = _pod(route)
    run = instance(pod, choose_container(pod, query.container), query.previous)
    now = clock.now_datetime()
    lines = lines_of(pod, run, now)
    since = _since(query, now)
    cursor = _Cursor()
    cursor.new_lines(lines)
    text = render_logs(
        lines,
        timestamps=query.timestamps,
        tail_lines=query.tail_lines,
        since=since,
        limit_bytes=query.limit_bytes,
    )
    return text, cursor, pod, run, query


def _poll_follow(route: Route, uid: str, run: Instance, cursor: _Cursor, timestamps: bool):
    """New text and whether the stream is over."""
    try:
        pod = _pod(route)
    except NotFound:
        return "", True
    if pod["metadata"].get("uid") != uid:
        return "", True
    try:
        current = instance(pod, run.container, False)
    except BadRequest:
        return "", True
    ended = current.started != run.started or current.finished is not None
    if current.started != run.started:
        current = Instance(run.container, run.started, current.started)
    fresh = cursor.new_lines(lines_of(pod, current, clock.now_datetime()))
    return render_logs(fresh, timestamps=timestamps), ended


async def follow(request: HttpRequest, route: Route) -> StreamingHttpResponse:
    """``logs -f``: stream the log until the container instance ends or the client goes."""
    text, cursor, pod, run, query = await sync_to_async(_start_follow)(request, route)
    uid = pod["metadata"]["uid"]
    poll = sync_to_async(reconnecting(_poll_follow), thread_sensitive=False)

    async def chunks() -> AsyncIterator[bytes]:
        yield text.encode()  # possibly empty: it sends the headers at once either way
        if run.finished is not None or query.previous:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + FOLLOW_MAX_SECONDS
        while loop.time() < deadline:
            await asyncio.sleep(FOLLOW_POLL_SECONDS)
            more, ended = await poll(route, uid, run, cursor, query.timestamps)
            if more:
                yield more.encode()
            if ended:
                return

    return StreamingHttpResponse(chunks(), content_type=TEXT)
