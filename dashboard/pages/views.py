"""The dashboard's HTTP views: thin, over ``architecture`` and ``chrome``.

An htmx request renders only the fragment it targets (``page.html#live`` for a request whose
``HX-Target`` is ``live``, the clock for the clock's forms); anything else gets the full page,
so every link and form also works without JavaScript.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import render, resolve_url
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cluster import access, clock
from dashboard.pages import architecture as page
from dashboard.pages import chrome, config, events, listing, networking, workloads


@require_GET
def architecture(request: HttpRequest) -> HttpResponse:
    focus = page.Focus.from_query(request.GET)
    context = {
        **chrome.chrome_context(focus.namespace),
        **page.region_context(focus),
        "page_name": "architecture",
    }
    template = page.TEMPLATE
    if request.htmx and request.htmx.target == "live":
        template += "#live"
    return render(request, template, context)


@require_POST
def clock_control(request: HttpRequest) -> HttpResponse:
    """Pause, resume, step or set the speed of the simulation clock (small POST forms)."""
    error = ""
    allowed = access.may_run_the_cluster(request.user)
    if not allowed:  # the clock is everyone's: a cluster-wide editor or admin may change it
        error = _("Only an editor or admin of the whole cluster may change the clock.")
    else:
        try:
            chrome.clock_action(request.POST.get("action", ""), request.POST.get("speed", ""))
        except chrome.ClockActionError as refused:
            error = _("The clock refused: %(reason)s") % {"reason": refused}
    if request.htmx:
        context = {"clock": chrome.clock_view(), "clock_error": error}
        # 200 even when refused: htmx swaps only successful responses, and the message is news.
        return render(request, "base.html#clock", context)
    if not allowed:
        return HttpResponseForbidden(error)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("architecture")
    return HttpResponseRedirect(target)


# --- the list pages: Workloads, Networking, Config & storage, Events ------------------------


def _list_page(request: HttpRequest, module, page_name: str, **extra) -> HttpResponse:
    """A list page in full, or its ``#live`` part for an htmx request that targets it."""
    focus = extra.pop("focus", None) or module.Focus.from_query(request.GET)
    if not listing.may_view(request.user, module.READ, focus.namespace):
        return _refused_list(request, module.READ, focus.namespace, page_name)
    context = {
        **chrome.chrome_context(focus.namespace),
        **module.region_context(focus),
        "page_name": page_name,
        **extra,
    }
    template = module.TEMPLATE
    if request.htmx and request.htmx.target == "live":
        template += "#live"
    return render(request, template, context)


def _refused_list(request: HttpRequest, read, namespace: str, page_name: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))
    if namespace:
        message = _("Your roles do not allow listing %(resource)s in namespace %(namespace)s.")
    else:
        message = _(
            "Your roles do not allow listing %(resource)s in all namespaces: choose a namespace "
            "you have a role in."
        )
    context = {
        **chrome.chrome_context(namespace),
        "refused_message": message % {"resource": read[0], "namespace": namespace},
        "page_name": page_name,
    }
    return render(request, "dashboard/refused.html", context, status=403)


@require_GET
def workloads_page(request: HttpRequest) -> HttpResponse:
    return _list_page(request, workloads, "workloads")


@require_GET
def networking_page(request: HttpRequest) -> HttpResponse:
    return _list_page(request, networking, "networking")


@require_GET
def config_page(request: HttpRequest) -> HttpResponse:
    return _list_page(request, config, "config")


@require_GET
def events_page(request: HttpRequest) -> HttpResponse:
    return _list_page(request, events, "events")


@require_POST
def send_request(request: HttpRequest) -> HttpResponse:
    """Send one request through the cluster and show its route (htmx: the result, and the
    routing diagram out of band with the route marked)."""
    focus = networking.Focus.from_query(request.GET)
    result, error = None, ""
    try:
        target = networking.Target.from_form(request.POST)
        networking.check_allowed(request.user, "get", target, focus.namespace)
        result = networking.send_request(target)
    except networking.SendError as refused:
        error = str(refused)
    sent = {key: request.POST.get(key, "") for key in ("host", "path", "service")}
    if not request.htmx:
        return _list_page(
            request,
            networking,
            "networking",
            focus=focus,
            result=result,
            send_error=error,
            sent=sent,
        )
    context = {"focus": focus, "result": result, "send_error": error}
    html = render_to_string(networking.TEMPLATE + "#result", context, request)
    if result is not None:
        ingresses, total = networking.routing(focus, result.marks)
        html += render_to_string(
            networking.TEMPLATE + "#routing",
            {**context, "ingresses": ingresses, "ingress_total": total, "oob": True},
            request,
        )
    return HttpResponse(html)


@require_POST
def traffic_switch(request: HttpRequest) -> HttpResponse:
    """Start a steady flow of requests (``action=start``) or stop one (``action=stop``)."""
    focus = networking.Focus.from_query(request.POST)
    error = ""
    try:
        if request.POST.get("action") == "stop":
            networking.stop_flow(request.POST.get("flow", ""))
        else:
            target = networking.Target.from_form(request.POST)
            networking.check_allowed(request.user, "create", target, focus.namespace)
            who = request.user.get_username() if request.user.is_authenticated else "dashboard"
            networking.start_flow(target, request.POST.get("rps", ""), who)
    except networking.SendError as refused:
        error = str(refused)
    if request.htmx:
        flows, _running = networking.tally(clock.now())
        context = {"focus": focus, "flows": flows, "traffic_error": error}
        return render(request, networking.TEMPLATE + "#traffic", context)
    if error:
        return _list_page(request, networking, "networking", focus=focus, traffic_error=error)
    return HttpResponseRedirect(reverse("networking") + focus.query().rstrip("?"))


def secret_values(request: HttpRequest, namespace: str, name: str) -> HttpResponse:
    """One Secret's row: POST reveals its values (if the user may read them), GET masks them."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    reveal = request.method == "POST"
    if not listing.may_view(request.user, config.READ, namespace):
        return _refused_list(request, config.READ, namespace, "config")
    item = config.secret_item(request.user, namespace, name, reveal)
    if item is None:
        raise Http404(_("No such Secret."))
    status = 403 if item.refused else 200
    focus = config.Focus.from_query(request.GET)
    if request.htmx:
        # 200 even when refused: htmx swaps only successful responses, and the refusal is news.
        return render(request, config.TEMPLATE + "#secret", {"item": item, "focus": focus})
    if not reveal:
        return HttpResponseRedirect(reverse("config") + f"?namespace={namespace}")
    context = {
        **chrome.chrome_context(focus.namespace),
        **config.region_context(focus),
        "page_name": "config",
    }
    context["secrets"] = [
        item if (s.namespace, s.name) == (namespace, name) else s for s in context["secrets"]
    ]
    return render(request, config.TEMPLATE, context, status=status)
