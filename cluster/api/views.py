"""The entry points of the Kubernetes REST API.

``/version``, discovery and OpenAPI are small synchronous views. Everything under
``/api/v1/...`` and ``/apis/<group>/<version>/...`` goes through :func:`resource`, one
synchronous call that authenticates, parses the URL (:mod:`cluster.api.routes`) and runs the
handler (:func:`cluster.api.resources.handle`), or hands back a :class:`Stream` (watches,
``logs -f``) that the event loop then serves. Under Daphne the API's own ASGI application
(:mod:`cluster.api.server`) calls these views without Django's middleware; the async views
``core`` and ``groups`` serve the same through Django's handler (the test client).
Unknown URLs answer the apiserver's 404 Status, never an HTML page.

Every view authenticates first (:mod:`cluster.api.auth`): a bad token is a 401 on any path.
``/version`` and the health checks are public; discovery and OpenAPI need a user (or anonymous
read); resources are authorized per verb by their handlers.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from cluster.api import auth, discovery, logs, openapi, resources, routes, watch
from cluster.api.http import (
    NotFoundPath,
    api_view,
    async_api_view,
    json_response,
    method_not_allowed,
    parse_bool,
)


def _get_only(request: HttpRequest) -> None:
    if request.method not in ("GET", "HEAD"):
        raise method_not_allowed()


@api_view
def version(request: HttpRequest) -> HttpResponse:
    _get_only(request)
    auth.authenticate(request)
    return json_response(discovery.VERSION_INFO)


@api_view
def health(request: HttpRequest) -> HttpResponse:
    """``/healthz``, ``/livez``, ``/readyz``: ``ok`` as text, as the apiserver answers."""
    _get_only(request)
    auth.authenticate(request)
    return HttpResponse(b"ok", content_type="text/plain")


@api_view
def core_versions(request: HttpRequest) -> HttpResponse:
    _get_only(request)
    auth.authorize_discovery(request)
    return json_response(discovery.api_versions(request.get_host()))


@api_view
def group_list(request: HttpRequest) -> HttpResponse:
    _get_only(request)
    auth.authorize_discovery(request)
    return json_response(discovery.api_group_list())


@api_view
def openapi_v3(request: HttpRequest) -> HttpResponse:
    _get_only(request)
    auth.authorize_discovery(request)
    return json_response(openapi.index())


@api_view
def openapi_v3_document(request: HttpRequest, path: str) -> HttpResponse:
    _get_only(request)
    auth.authorize_discovery(request)
    document = openapi.document_for(path)
    if document is None:
        raise NotFoundPath()
    return json_response(document)


@api_view
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """``/openapi/v2`` (protobuf only, kubectl-contract §7.1) and other unserved paths."""
    raise NotFoundPath()


@dataclass(frozen=True)
class Stream:
    """A request answered by a stream (a watch, ``logs -f``): what :func:`resource` hands back
    to the event loop, which then awaits :meth:`open` there."""

    request: HttpRequest
    route: routes.Route

    async def open(self) -> StreamingHttpResponse:
        if self.route.subresource == "log":
            return await logs.follow(self.request, self.route)
        return await watch.stream(self.request, self.route)


@api_view
def resource(request: HttpRequest, rest: str, *, core: bool) -> HttpResponse | Stream:
    """Everything under ``/api/`` (``core``) and ``/apis/``, in one synchronous call: the token
    is resolved (a database read, before anything else: a bad token is a 401 on any path), the
    URL parsed, then the resource handler runs; a watch or ``logs -f`` comes back as a
    :class:`Stream` to be opened in the event loop. The async views below and the API's own
    ASGI application (:mod:`cluster.api.server`) both run it with a single thread hop."""
    auth.authenticate(request)
    segments = rest.split("/")
    if segments == [""]:
        return core_versions(request) if core else group_list(request)
    if core:
        return _resource(request, routes.resolve("", segments[0], segments[1:]))
    if len(segments) == 1 or segments[1:] == [""]:
        _get_only(request)
        auth.authorize_discovery(request)
        found = discovery.api_group(segments[0])
        if found is None:
            raise NotFoundPath()
        return json_response(found)
    return _resource(request, routes.resolve(segments[0], segments[1], segments[2:]))


@async_api_view
async def core(request: HttpRequest, rest: str) -> HttpResponse:
    """``/api/<version>/...``."""
    return await _answer(await sync_to_async(resource)(request, rest, core=True))


@async_api_view
async def groups(request: HttpRequest, rest: str) -> HttpResponse:
    """``/apis/<group>[/<version>/...]``."""
    return await _answer(await sync_to_async(resource)(request, rest, core=False))


# What the API's ASGI application runs in its threads instead of the async views above.
SYNC_VIEWS = {
    core: functools.partial(resource, core=True),
    groups: functools.partial(resource, core=False),
}


async def _answer(result: HttpResponse | Stream) -> HttpResponse:
    return await result.open() if isinstance(result, Stream) else result


@async_api_view
async def open_stream(request: HttpRequest, stream: Stream) -> HttpResponse:
    """Open a :class:`Stream`, its errors answered as Status objects."""
    return await stream.open()


def _resource(request: HttpRequest, route: routes.Route) -> HttpResponse | Stream:
    setattr(request, auth.ROUTE_ATTRIBUTE, route)
    if route.kind is None:
        _get_only(request)
        auth.authorize_discovery(request)
        found = discovery.api_resource_list(route.group, route.version)
        if found is None:
            raise NotFoundPath()
        return json_response(found)
    if request.method == "GET":
        if route.is_collection and watch.is_watch(request, route):
            return Stream(request, route)
        if route.subresource == "log" and parse_bool(request.GET.get("follow"), "follow"):
            return Stream(request, route)
    elif route.watch:
        raise method_not_allowed()
    return resources.handle(request, route)
