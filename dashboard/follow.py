"""Classroom follow mode and projector mode.

A teacher (someone with an editor or admin role) *presents*: ``POST /present`` starts a
presentation with a short id. While presenting, the teacher's pages report where they are (the
page's path and query) and what is highlighted (Alt+click on an object, or the lesson player's
highlight) to ``POST /present/<id>/state``; the state is kept in one ``ControllerMemory`` row
(``dashboard:presentation:<id>``) and sent to the group ``kubarium.follow.<id>``.

Anyone opening ``/follow/<id>`` follows: their session remembers the presentation, they land on
the presenter's page, and ``/ws/follow?id=<id>`` (:class:`FollowConsumer`) tells their page
where the presenter went and what they highlighted, at once and at every change; the page
navigates or moves its highlight (``static/follow.js``). Following is read-only: the action
forms are hidden, and people who are not signed in need ``KUBARIUM_ANONYMOUS_READ`` as for any
page. ``/present/<id>`` shows the follow link as text and as a QR code (SVG made by segno, on
the server).

Projector mode (``POST /projector``) is a per-browser switch kept in the session: ``<body>``
gets the class ``projector`` (large type, fewer details, high contrast; ``static/kubarium.css``).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

import segno
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cluster import access
from cluster.models import ControllerMemory
from dashboard.pages import chrome

logger = logging.getLogger(__name__)

KEY_PREFIX = "dashboard:presentation:"
# Short ids that are easy to read aloud and type: no 0/o, 1/l/i.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
ID_LENGTH = 6
PRESENTING = "kubarium_presenting"
FOLLOWING = "kubarium_following"
PROJECTOR = "kubarium_projector"
MAX_URL = 2000
MAX_HIGHLIGHT = 300
# Pages a presentation may point at: the dashboard's own, never its own machinery.
NOT_FOLLOWABLE = frozenset(
    {"present", "present-page", "present-state", "present-stop", "follow", "follow-stop"}
)


def group_name(presentation_id: str) -> str:
    return f"kubarium.follow.{presentation_id}"


def valid_id(value: str) -> bool:
    return len(value) == ID_LENGTH and all(c in ALPHABET for c in value)


# --- who may present ----------------------------------------------------------------------------


def may_present(user) -> bool:
    """Teachers present: an editor or admin role anywhere (everyone under AlwaysAllow)."""
    if access.always_allow():
        return True
    return any(
        role in (access.Role.EDITOR, access.Role.ADMIN) for role, _ in access.bindings_of(user)
    )


# --- the state ----------------------------------------------------------------------------------


def load(presentation_id: str) -> dict[str, Any] | None:
    """The presentation's state, or None when there is no such presentation."""
    if not valid_id(presentation_id):
        return None
    row = ControllerMemory.objects.filter(key=KEY_PREFIX + presentation_id).first()
    return dict(row.data) if row is not None else None


def public_state(presentation_id: str, state: dict[str, Any] | None) -> dict[str, Any]:
    """What followers get: where, what is highlighted, the lesson step, or that it ended."""
    if state is None:
        return {"id": presentation_id, "ended": True}
    return {
        "id": presentation_id,
        "presenter": state.get("presenter", ""),
        "url": state.get("url", ""),
        "highlight": state.get("highlight", ""),
        "step": state.get("step", ""),
        "seq": state.get("seq", 0),
        "ended": False,
    }


def start(presenter: str, url: str = "") -> str:
    """A new presentation by ``presenter``, starting at ``url``; returns its id."""
    for _attempt in range(20):
        presentation_id = "".join(secrets.choice(ALPHABET) for _ in range(ID_LENGTH))
        _row, created = ControllerMemory.objects.get_or_create(
            key=KEY_PREFIX + presentation_id,
            defaults={
                "data": {
                    "presenter": presenter,
                    "url": url or reverse("architecture"),
                    "highlight": "",
                    "step": "",
                    "seq": 0,
                    "started": timezone.now().isoformat(),
                }
            },
        )
        if created:
            return presentation_id
    raise RuntimeError("no free presentation id")  # 31^6 ids: never in practice


def clean_url(value: str) -> str | None:
    """``value`` when it is a dashboard page's path and query on this site, else None."""
    if not value or len(value) > MAX_URL or not value.startswith("/") or value.startswith("//"):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    module = getattr(match.func, "__module__", "")
    if not module.startswith("dashboard.") or match.url_name in NOT_FOLLOWABLE:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def clean_highlight(value: str) -> str | None:
    """An element id, or an object page's path (``/objects/...``); "" clears the highlight."""
    value = value.strip()
    if len(value) > MAX_HIGHLIGHT or any(c in value for c in "\"'<>\\\n\r\t"):
        return None
    if value.startswith("/") and not value.startswith("/objects/"):
        return None
    return value


def update(presentation_id: str, **changes: Any) -> dict[str, Any] | None:
    """Apply ``changes`` (url, highlight, step) and return the new state (None: no such
    presentation). The followers are told after the commit."""
    with transaction.atomic():
        row = (
            ControllerMemory.objects.select_for_update()
            .filter(key=KEY_PREFIX + presentation_id)
            .first()
        )
        if row is None:
            return None
        data = dict(row.data)
        data.update(changes)
        data["seq"] = int(data.get("seq", 0)) + 1
        row.data = data
        row.save(update_fields=["data"])
    tell_followers(presentation_id, data)
    return data


def stop(presentation_id: str) -> None:
    ControllerMemory.objects.filter(key=KEY_PREFIX + presentation_id).delete()
    tell_followers(presentation_id, None)


def tell_followers(presentation_id: str, state: dict[str, Any] | None) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            group_name(presentation_id),
            {"type": "follow.state", "state": public_state(presentation_id, state)},
        )
    except Exception:  # Redis down: followers catch up when their socket reconnects
        logger.warning("follow mode: could not reach the followers of %s", presentation_id)


# --- what base.html needs -----------------------------------------------------------------------


def context(request: HttpRequest) -> dict[str, Any]:
    """Template context: projector mode, whether the user may present, and the presentation
    this browser presents or follows (ids only: reading the session, not the database)."""
    session = getattr(request, "session", None)
    if session is None:
        return {}
    user = getattr(request, "user", None)
    return {
        "projector": bool(session.get(PROJECTOR)),
        "presenting_id": session.get(PRESENTING, ""),
        "following_id": "" if session.get(PRESENTING) else session.get(FOLLOWING, ""),
        "may_present": user is not None and _may_present_lazy(user),
    }


class _may_present_lazy:  # noqa: N801 - used as a boolean in templates
    """Read the user's roles only if a template asks."""

    def __init__(self, user):
        self.user = user

    def __bool__(self) -> bool:
        return may_present(self.user)


# --- views --------------------------------------------------------------------------------------


def _next_url(request: HttpRequest, fallback: str) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return fallback


def _refused(request: HttpRequest, message: str, status: int = 403) -> HttpResponse:
    context = {"page_name": "present", "refusal": message, **chrome.chrome_context("")}
    return render(request, "dashboard/present.html", context, status=status)


@require_POST
def present_start(request: HttpRequest) -> HttpResponse:
    """Start presenting: a new presentation at the page the button was pressed on."""
    if not may_present(request.user):
        return _refused(request, _("Presenting needs an editor or admin role."))
    start_url = clean_url(request.POST.get("next", "")) or reverse("architecture")
    name = request.user.get_username() if request.user.is_authenticated else _("the teacher")
    presentation_id = start(name, start_url)
    request.session[PRESENTING] = presentation_id
    request.session.pop(FOLLOWING, None)
    return HttpResponseRedirect(reverse("present-page", args=[presentation_id]))


@require_GET
def present_page(request: HttpRequest, presentation_id: str) -> HttpResponse:
    """The follow link as text and as a QR code, to put on the projector."""
    state = load(presentation_id)
    if state is None:
        return _refused(
            request, _("There is no presentation %(id)s (any more).") % {"id": presentation_id}, 404
        )
    link = request.build_absolute_uri(reverse("follow", args=[presentation_id]))
    qr = segno.make(link, error="m")
    svg = qr.svg_inline(border=2, dark="#000", light="#fff", title=link, omitsize=True)
    return render(
        request,
        "dashboard/present.html",
        {
            "page_name": "present",
            "presentation_id": presentation_id,
            "presentation": public_state(presentation_id, state),
            "link": link,
            "qr_svg": mark_safe(svg),  # noqa: S308 - segno's own markup, no user text in it
            "is_presenter": request.session.get(PRESENTING) == presentation_id,
            **chrome.chrome_context(""),
        },
    )


@require_POST
def present_state(request: HttpRequest, presentation_id: str) -> HttpResponse:
    """The presenter's page reports where it is and what it highlights (204), or gets a 400
    naming the field that is wrong, or 403 when this browser is not the presenter."""
    if request.session.get(PRESENTING) != presentation_id or not may_present(request.user):
        return HttpResponse(_("Only the presenter reports the presentation's state."), status=403)
    changes: dict[str, Any] = {}
    if "url" in request.POST:
        url = clean_url(request.POST["url"])
        if url is None:
            return HttpResponse(
                _("url: Invalid value: must be the path of a dashboard page"), status=400
            )
        changes["url"] = url
    if "highlight" in request.POST:
        highlight = clean_highlight(request.POST["highlight"])
        if highlight is None:
            return HttpResponse(
                _("highlight: Invalid value: must be an element id or an object page's path"),
                status=400,
            )
        changes["highlight"] = highlight
    if "step" in request.POST:
        changes["step"] = request.POST["step"][:100]
    if update(presentation_id, **changes) is None:
        request.session.pop(PRESENTING, None)
        return HttpResponse(status=404)
    return HttpResponse(status=204)


@require_POST
def present_stop(request: HttpRequest, presentation_id: str) -> HttpResponse:
    if request.session.get(PRESENTING) != presentation_id:
        return _refused(request, _("Only the presenter can stop the presentation."))
    stop(presentation_id)
    request.session.pop(PRESENTING, None)
    return HttpResponseRedirect(_next_url(request, reverse("architecture")))


@require_GET
def follow_start(request: HttpRequest, presentation_id: str) -> HttpResponse:
    """Follow a presentation: remember it in the session and go where the presenter is."""
    state = load(presentation_id)
    if state is None:
        return _refused(
            request, _("There is no presentation %(id)s (any more).") % {"id": presentation_id}, 404
        )
    if request.session.get(PRESENTING) != presentation_id:
        request.session[FOLLOWING] = presentation_id
    return HttpResponseRedirect(clean_url(state.get("url", "")) or reverse("architecture"))


@login_not_required
@require_POST
def follow_stop(request: HttpRequest) -> HttpResponse:
    request.session.pop(FOLLOWING, None)
    return HttpResponseRedirect(_next_url(request, reverse("architecture")))


@login_not_required
@require_POST
def projector_switch(request: HttpRequest) -> HttpResponse:
    """Turn projector mode on or off for this browser (``mode=on|off``, else toggle)."""
    mode = request.POST.get("mode", "")
    request.session[PROJECTOR] = (
        mode == "on" if mode in ("on", "off") else not request.session.get(PROJECTOR)
    )
    return HttpResponseRedirect(_next_url(request, reverse("architecture")))


# --- the followers' stream ----------------------------------------------------------------------


class FollowConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/follow?id=<id>``: the presentation's state now, then at every change, as JSON
    ``{"url", "highlight", "step", "seq", "ended"}``. Unknown id: close 4404."""

    async def connect(self) -> None:
        from dashboard.consumers import query_of

        self.presentation_id = query_of(self.scope).get("id", "")
        self.group = ""
        state = await database_sync_to_async(load)(self.presentation_id)
        if state is None:
            await self.close(code=4404)
            return
        self.group = group_name(self.presentation_id)
        if self.channel_layer is not None:
            await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # Read again after joining, so a change between the first read and the join is not lost.
        state = await database_sync_to_async(load)(self.presentation_id)
        await self.send_json(public_state(self.presentation_id, state))

    async def disconnect(self, code: int) -> None:
        if self.group and self.channel_layer is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def follow_state(self, event: dict[str, Any]) -> None:
        await self.send_json(event["state"])

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Followers only listen."""
