"""The Kubernetes API's own ASGI application: the API's views without Django's middleware.

``dashboard.asgi`` sends every path that :mod:`cluster.api.urls` resolves (``/api``,
``/apis``, ``/version``, ``/openapi``, ``/healthz``, ``/livez``, ``/readyz``) here, and
everything else to Django's handler with the dashboard's middleware. The API authenticates by
bearer token in its views (:mod:`cluster.api.auth`) and is CSRF-exempt, so it needs none of
that middleware (sessions, CSRF, messages, locale, the sign-in gate, htmx, clickjacking), and
Django's ASGI handler would run each ``MiddlewareMixin`` hook through ``sync_to_async`` in a
thread of its own per request. Here a request costs one thread hop:

- the body is read and the request built in the event loop (Django's ``ASGIRequest``);
- the view runs in one of the API's threads (``KUBARIUM["API_THREADS"]``), the whole of it:
  authentication, the route, the resource handler (:func:`cluster.api.views.resource`);
- the answer goes back from the event loop, with its ``Content-Length``.

A watch or ``logs -f`` comes back from the thread as a :class:`cluster.api.views.Stream`; it is
then served as Django serves an async view (in a ``ThreadSensitiveContext``, the stream ended
when the client disconnects, the context thread's database connections closed at the end).

Database connections: each API thread keeps its own across requests (opening a SQLite
connection and running its pragmas cost about 0.8 ms, a third of a GET). After a request that
met a database error, or before one after a long idle time, the connection is checked and
replaced if unusable; one left outside autocommit is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import connections
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, ResolverMatch, get_resolver, set_script_prefix

from cluster.api import views
from cluster.api.http import internal_error, status_response
from cluster.store.errors import BadRequest, RequestEntityTooLarge, StoreError

logger = logging.getLogger(__name__)

DEFAULT_THREADS = 4
# A connection idle for longer than this is checked before it serves again (a database
# server may have dropped it; SQLite's are always usable).
IDLE_CHECK_SECONDS = 30.0


class _Plumbing(ASGIHandler):
    """Django's ASGI handler for its request parsing and response sending only: no
    middleware chain is loaded."""

    def __init__(self) -> None:
        base.BaseHandler.__init__(self)


class ApiApplication:
    """ASGI application for the paths of :mod:`cluster.api.urls` (see the module's docstring)."""

    def __init__(self, threads: int | None = None) -> None:
        self.resolver = get_resolver("cluster.api.urls")
        self.plumbing = _Plumbing()
        self.threads = threads or int(settings.KUBARIUM.get("API_THREADS") or DEFAULT_THREADS)
        self.executor = ThreadPoolExecutor(self.threads, thread_name_prefix="kubarium-api")

    def match(self, scope: dict[str, Any]) -> ResolverMatch | None:
        """The API view for this HTTP request's path, or None when the path is not the
        API's (the path as ``ASGIRequest`` computes ``path_info``)."""
        path = scope["path"]
        prefix = get_script_prefix(scope)
        if prefix:
            path = path.removeprefix(prefix)
        try:
            return self.resolver.resolve(path)
        except Resolver404:
            return None

    async def __call__(
        self, scope: dict[str, Any], receive, send, match: ResolverMatch | None = None
    ) -> None:
        match = match or self.match(scope)
        if match is None:
            raise ValueError(f"not a path of the Kubernetes API: {scope['path']}")
        try:
            body_file = await self.plumbing.read_body(receive)
        except RequestAborted:
            return
        try:
            set_script_prefix(get_script_prefix(scope))
            request, error = self.plumbing.create_request(scope, body_file)
            if request is None:
                # An undecodable path, or a body over Django's limit: a Status anyway.
                await self._send(status_response(_refusal(error.status_code)), send)
                return
            request.resolver_match = match
            result = await asyncio.get_running_loop().run_in_executor(
                self.executor, contextvars.copy_context().run, _run_view, match, request
            )
            if isinstance(result, views.Stream):
                await self._stream(request, result, receive, send)
            else:
                await self._send(result, send)
        finally:
            body_file.close()

    async def _send(self, response: HttpResponseBase, send) -> None:
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))
        # Not response.close(): that sends Django's request_finished, whose receiver would
        # close the database connections of the calling thread (here, the event loop's).
        await self.plumbing.send_response(response, send)

    async def _stream(self, request: HttpRequest, stream: views.Stream, receive, send) -> None:
        """Serve a watch or ``logs -f`` until it ends or the client goes away."""
        async with ThreadSensitiveContext():
            try:
                response = await views.open_stream(request, stream)
                sending = asyncio.create_task(self.plumbing.send_response(response, send))
                listening = asyncio.create_task(self.plumbing.listen_for_disconnect(receive))
                await asyncio.wait((sending, listening), return_when=asyncio.FIRST_COMPLETED)
                for task in (listening, sending):
                    if not task.done():
                        task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, RequestAborted):
                        await task
            finally:
                # The stream's first read ran in this context's thread: close its connections,
                # as Django does at the end of a request.
                await sync_to_async(connections.close_all)()


def _refusal(code: int) -> StoreError:
    if code == 413:
        return RequestEntityTooLarge("Request entity too large")
    return BadRequest("the request could not be decoded")


def _run_view(match: ResolverMatch, request: HttpRequest) -> HttpResponseBase | views.Stream:
    """In an API thread: the view, whole (the async ``core``/``groups`` by their synchronous
    form), between the connection checks."""
    view = views.SYNC_VIEWS.get(match.func, match.func)
    _before_request()
    try:
        request.get_host()  # ALLOWED_HOSTS, as Django's CommonMiddleware checks it
        return view(request, *match.args, **match.kwargs)
    except DisallowedHost as error:
        return status_response(BadRequest(str(error)))
    except Exception as error:  # the views answer their own errors; this is a bug
        logger.exception("API request %s %s failed", request.method, request.path)
        return internal_error(error)
    finally:
        _after_request()


_thread = threading.local()


def _before_request() -> None:
    """Check this thread's connections if they have been idle a long time."""
    now = time.monotonic()
    last = getattr(_thread, "last_used", now)
    _thread.last_used = now
    if now - last > IDLE_CHECK_SECONDS:
        for connection in connections.all(initialized_only=True):
            if connection.connection is not None and not connection.is_usable():
                connection.close()


def _after_request() -> None:
    """Keep this thread's connections for the next request unless they are broken or were
    left outside autocommit (Django's ``close_if_unusable_or_obsolete`` without its age
    limit)."""
    _thread.last_used = time.monotonic()
    for connection in connections.all(initialized_only=True):
        if connection.connection is None:
            continue
        if connection.get_autocommit() != connection.settings_dict["AUTOCOMMIT"]:
            connection.close()
        elif connection.errors_occurred:
            if connection.is_usable():
                connection.errors_occurred = False
            else:
                connection.close()
