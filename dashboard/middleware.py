"""The dashboard's door: its pages need a signed-in user, unless anonymous read is on.

:class:`SignInRequired` guards every view except the Kubernetes API (which authenticates with
bearer tokens, ``cluster.api.auth``), Django admin (which has its own sign-in) and the views
marked ``login_not_required`` (the sign-in page). People who are not signed in:

- are sent to ``/accounts/login/?next=...`` (an htmx request gets ``HX-Redirect``, so the whole
  page goes there instead of a fragment being swapped for the form);
- with ``KUBARIUM_ANONYMOUS_READ`` on, may look (GET, HEAD) but not post: every form still asks
  them to sign in. What a signed-in user may change is up to their roles (``cluster.access``),
  which the views that write check.

:class:`LiveStreamGate` does the same for the live stream's websockets: a browser that may not
see the page gets no stream either.
"""

from __future__ import annotations

from collections.abc import Callable

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url

from cluster import access

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Views of these modules guard themselves.
OWN_GUARD_MODULES = ("cluster.api.",)
OWN_GUARD_NAMESPACES = frozenset({"admin"})


def may_enter(user, method: str) -> bool:
    """Whether ``user`` may use the dashboard with an HTTP ``method``."""
    if user.is_authenticated or access.always_allow():
        return True
    return access.anonymous_read() and method in SAFE_METHODS


class SignInRequired:
    """Send people who are not signed in to the sign-in page (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if getattr(view_func, "login_required", True) is False:
            return None  # marked login_not_required: the sign-in page itself
        if view_func.__module__.startswith(OWN_GUARD_MODULES):
            return None
        match = request.resolver_match
        if match is not None and OWN_GUARD_NAMESPACES.intersection(match.namespaces):
            return None
        if may_enter(request.user, request.method or "GET"):
            return None
        login_url = resolve_url(settings.LOGIN_URL)
        if getattr(request, "htmx", False):
            next_url = request.htmx.current_url or request.get_full_path()
            target = redirect_to_login(next_url, login_url)["Location"]
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        return redirect_to_login(request.get_full_path(), login_url)


class LiveStreamGate:
    """ASGI middleware for websockets: close the connection unless the session's user may see
    the dashboard. Wrap it in Channels' ``AuthMiddlewareStack`` (:func:`live_stream_gate`)."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        # Channels' user is lazy: resolving it reads the session, so not in the event loop.
        allowed = await database_sync_to_async(may_enter)(scope["user"], "GET")
        if not allowed:
            await receive()  # the websocket.connect message
            await send({"type": "websocket.close", "code": 4401})
            return None
        return await self.inner(scope, receive, send)


def live_stream_gate(inner):
    """The live stream's routes behind the session's user and :class:`LiveStreamGate`."""
    return AuthMiddlewareStack(LiveStreamGate(inner))
