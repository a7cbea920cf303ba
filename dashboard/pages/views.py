"""The dashboard's HTTP views: thin, over ``architecture`` and ``chrome``.

An htmx request renders only the fragment it targets (``page.html#live`` for a request whose
``HX-Target`` is ``live``, the clock for the clock's forms); anything else gets the full page,
so every link and form also works without JavaScript.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dashboard.pages import architecture as page
from dashboard.pages import chrome


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
    try:
        chrome.clock_action(request.POST.get("action", ""), request.POST.get("speed", ""))
    except chrome.ClockActionError as refused:
        error = _("The clock refused: %(reason)s") % {"reason": refused}
    if request.htmx:
        context = {"clock": chrome.clock_view(), "clock_error": error}
        # 200 even when refused: htmx swaps only successful responses, and the message is news.
        return render(request, "base.html#clock", context)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("architecture")
    return HttpResponseRedirect(target)
