"""The entry points of the Kubernetes REST API.

``/version``, discovery and OpenAPI are small synchronous views. Everything under
``/api/v1/...`` and ``/apis/<group>/<version>/...`` goes through one asynchronous view that
parses the URL (:mod:`cluster.api.routes`) and then either streams (watches, ``logs -f``) or
runs the synchronous handler (:func:`cluster.api.resources.handle`) in Django's sync thread.
Unknown URLs answer the apiserver's 404 Status, never an HTML page.

Every view authenticates first (:mod:`cluster.api.auth`): a bad token is a 401 on any path.
``/version`` and the health checks are public; discovery and OpenAPI need a user (or anonymous
read); resources are authorized per verb by their handlers.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse

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


@async_api_view
async def core(request: HttpRequest, rest: str) -> HttpResponse:
    """``/api/<version>/...``."""
    await _authenticate(request)
    segments = rest.split("/")
    if segments == [""]:
        return await sync_to_async(core_versions)(request)
    return await _resource(request, routes.resolve("", segments[0], segments[1:]))


@async_api_view
async def groups(request: HttpRequest, rest: str) -> HttpResponse:
    """``/apis/<group>[/<version>/...]``."""
    await _authenticate(request)
    segments = rest.split("/")
    if segments == [""]:
        return await sync_to_async(group_list)(request)
    if len(segments) == 1 or segments[1:] == [""]:
        _get_only(request)
        auth.authorize_discovery(request)
        found = discovery.api_group(segments[0])
        if found is None:
            raise NotFoundPath()
        return json_response(found)
    return await _resource(request, routes.resolve(segments[0], segments[1], segments[2:]))


async def _authenticate(request: HttpRequest) -> None:
    """Resolve the bearer token (a database read) before anything else; without one the
    request is anonymous and nothing needs reading."""
    if auth.has_credentials(request):
        await sync_to_async(auth.authenticate)(request)
    else:
        auth.authenticate(request)


async def _resource(request: HttpRequest, route: routes.Route) -> HttpResponse:
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
            return await watch.stream(request, route)
        if route.subresource == "log" and parse_bool(request.GET.get("follow"), "follow"):
            return await logs.follow(request, route)
    elif route.watch:
        raise method_not_allowed()
    return await sync_to_async(resources.handle)(request, route)
