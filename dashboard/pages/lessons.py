"""The lesson player: what the Lessons list and a lesson's page show, and their live stream.

The player is the lesson's panel (``#lesson-panel``: the step's text, what it did or waits for,
the question and, once the cluster has shown it, the answer) beside the Architecture view's live
region filtered to the lesson's namespace. Its stream (``/ws/lesson?lesson=<id>&namespace=...``,
an entry of ``dashboard.consumers.PAGES``) keeps the region live as the Architecture page's does,
and every second polls the lesson (``engine.poll``: finishing preparation, checking a waiting
step) and sends the panel again whenever the lesson's state ``version`` moved: so every open
page of a lesson, the driver's or a watcher's, shows the same step within a second.

What the step highlights is marked on the region by a small stylesheet in the panel (outline
and a star), rebuilt with the panel: a control-plane component by its id (``#cp-kube-scheduler``),
a node by its card (``#node-<name>``), Pods by their tiles' titles (``<namespace>/<name>:``).
Names are DNS names (validated by the lesson's format and the store), so they are safe in CSS.

Who may drive: an admin or editor where the lesson lives (``may_drive``). Anyone who may see
the dashboard may watch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cluster import access
from cluster.models import Pod, Role
from cluster.store.selectors import parse_label_selector
from dashboard.lessons import conditions, engine
from dashboard.lessons.format import Lesson, Step
from dashboard.pages import actions, architecture, chrome, detail

TEMPLATE = "dashboard/lessons_player.html"
LIST_TEMPLATE = "dashboard/lessons.html"
VIEW = "lesson"
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
DRIVERS = frozenset({Role.ADMIN, Role.EDITOR})
MAX_HIGHLIGHTED_PODS = 60


def may_drive(user, lesson: Lesson) -> bool:
    """Admins and editors (cluster-wide, or bound in the lesson's namespace) drive lessons."""
    return bool(access.roles_in(user, lesson.namespace) & DRIVERS)


# --- the stream's query ----------------------------------------------------------------------


@dataclass(frozen=True)
class Focus:
    """The player's query: the lesson, and the Architecture view's (namespace forced to the
    lesson's)."""

    lesson: str = ""
    arch: architecture.Focus = field(default_factory=architecture.Focus)

    @property
    def namespace(self) -> str:
        return self.arch.namespace

    @classmethod
    def from_query(cls, query) -> Focus:
        try:
            lesson = engine.get(str(query.get("lesson") or ""))
        except (KeyError, engine.LessonFormatError):
            return cls()
        arch = replace(architecture.Focus.from_query(query), namespace=lesson.namespace)
        return cls(lesson.id, arch)

    def stream_url(self, since: int) -> str:
        params = {"lesson": self.lesson, **self.arch.params(), "since": str(since)}
        return f"/ws/{VIEW}?" + urlencode(params)


# --- the panel ---------------------------------------------------------------------------------


@dataclass
class Choice:
    index: int
    text: str
    picked: bool
    correct: bool


@dataclass
class StepView:
    """One step as the panel shows it, in the reader's language."""

    number: int
    type: str
    text: str
    status: str
    message: str = ""
    observed: str = ""
    waiting_for: str = ""
    results: list[str] = field(default_factory=list)
    highlight_label: str = ""
    highlight_url: str = ""
    clock: str = ""
    question: str = ""
    choices: list[Choice] = field(default_factory=list)
    revealed: bool = False
    explanation: str = ""
    timeout: str = ""


@dataclass
class PanelView:
    lesson: Lesson
    title: str
    summary: str
    phase: str
    step: StepView | None
    total: int
    position: int  # 1-based, 0 before the lesson runs
    reached: int  # 1-based
    started_by: str
    message: str
    version: int
    may_drive: bool
    highlight_css: SafeString
    outline: list[tuple[int, str, str]]  # (number, type, state) of every step

    @property
    def can_next(self) -> bool:
        return self.phase == "running" and not (
            self.step and self.step.status == "waiting" and self.position == self.reached
        )

    @property
    def can_previous(self) -> bool:
        return self.phase == "finished" or (self.phase == "running" and self.position > 1)

    @property
    def step_key(self) -> str:
        """What follow mode reads from ``data-lesson-step``."""
        return f"{self.lesson.id}:{self.position}" if self.position else ""


TYPE_LABELS = {
    "narrate": lambda: _("Narration"),
    "apply": lambda: _("Apply"),
    "act": lambda: _("Action"),
    "wait": lambda: _("Wait"),
    "predict": lambda: _("Predict"),
}


def type_label(step_type: str) -> str:
    return TYPE_LABELS[step_type]()


def _highlight_label(lesson: Lesson, step: Step) -> tuple[str, str]:
    h = step.highlight
    if h is None:
        return "", ""
    if h.component:
        return h.component, ""
    if h.selector:
        return f"Pods {h.selector}", ""
    namespace = "" if h.kind == "Node" else lesson.namespace
    return f"{h.kind} {h.name}", detail.object_url(h.kind, namespace, h.name)


def highlight_selectors(lesson: Lesson, step: Step | None) -> list[str]:
    """CSS selectors of what the step marks on the cluster view."""
    if step is None or step.highlight is None:
        return []
    h = step.highlight
    if h.component:
        return [f"#cp-{h.component}"]
    if h.kind == "Node":
        return [f"#node-{h.name}"]
    if h.kind != "Pod":
        return []
    if h.name:
        names = [h.name]
    else:
        selector = parse_label_selector(h.selector)
        names = [
            name
            for name, labels in Pod.objects.filter(namespace=lesson.namespace)
            .order_by("name")
            .values_list("name", "labels")
            if selector.matches(labels or {})
        ][:MAX_HIGHLIGHTED_PODS]
    selectors = []
    for name in names:
        if SAFE_NAME.match(name) and SAFE_NAME.match(lesson.namespace):
            key = f"{lesson.namespace}/{name}:"
            selectors += [f'li.pod[title^="{key}"]', f'li.waiting[title^="{key}"]']
    return selectors


def highlight_css(selectors: list[str]) -> SafeString:
    """A stylesheet marking the selectors (built only from validated DNS names)."""
    if not selectors:
        return mark_safe("")
    joined = ",\n".join(selectors)
    after = ",\n".join(f"{s}::after" for s in selectors)
    return mark_safe(
        f"{joined} {{ outline: 4px solid #e8a100; outline-offset: 2px; position: relative; "
        f"box-shadow: 0 0 0 8px rgba(232, 161, 0, 0.25); }}\n"
        f'{after} {{ content: "★"; position: absolute; top: -0.7em; right: -0.5em; '
        f"color: #8a5600; background: #fff3c4; border: 1px solid #e8a100; "
        f"border-radius: 50%; width: 1.3em; height: 1.3em; line-height: 1.3em; "
        f"text-align: center; font-size: 0.9rem; }}"
    )


def _clock_text(step: Step) -> str:
    setting = step.clock
    if setting is None:
        return ""
    parts = []
    if setting.speed is not None:
        parts.append(_("speed %(speed)g×") % {"speed": setting.speed})
    if setting.paused is True:
        parts.append(_("paused"))
    elif setting.paused is False:
        parts.append(_("running"))
    return _("The lesson set the clock: %(setting)s.") % {"setting": ", ".join(parts)}


def step_view(lesson: Lesson, st: dict[str, Any], index: int, language: str) -> StepView:
    step = lesson.steps[index]
    record = st.get("steps", {}).get(str(index), {})
    label, url = _highlight_label(lesson, step)
    view = StepView(
        number=index + 1,
        type=step.type,
        text=step.text.get(language) if step.text else "",
        status=record.get("status", ""),
        message=record.get("message", ""),
        observed=record.get("observed", ""),
        results=list(record.get("results", [])),
        highlight_label=label,
        highlight_url=url,
        clock=_clock_text(step),
    )
    if step.type == "wait":
        view.waiting_for = conditions.describe(step, lesson.namespace)
        if step.failure and view.status == "failed":
            view.message = step.failure.get(language) + " " + view.message
        unit = _("simulated seconds") if step.timeout.clock == "simulated" else _("seconds")
        view.timeout = _("at most %(seconds)g %(unit)s") % {
            "seconds": step.timeout.seconds,
            "unit": unit,
        }
    if step.type == "predict":
        view.question = step.question.get(language)
        view.revealed = engine.revealed(lesson, st, index)
        picked = record.get("picked")
        view.choices = [
            Choice(i, choice.get(language), picked == i, i == step.answer)
            for i, choice in enumerate(step.choices)
        ]
        view.explanation = step.explanation.get(language) if view.revealed else ""
    return view


def panel_view(lesson: Lesson, st: dict[str, Any], user=None) -> PanelView:
    language = get_language() or "en"
    index = st.get("step", -1)
    running = st.get("phase") in ("running", "finished") and 0 <= index < len(lesson.steps)
    step = step_view(lesson, st, index, language) if running else None
    records = st.get("steps", {})
    reached = st.get("reached", -1)
    outline = [
        (
            i + 1,
            s.type,
            records.get(str(i), {}).get("status", "") if i <= reached else "",
        )
        for i, s in enumerate(lesson.steps)
    ]
    return PanelView(
        lesson=lesson,
        title=lesson.title.get(language),
        summary=lesson.summary.get(language),
        phase=st.get("phase", "idle"),
        step=step,
        total=len(lesson.steps),
        position=index + 1 if running else 0,
        reached=reached + 1,
        started_by=st.get("started_by", ""),
        message=st.get("message", ""),
        version=st.get("version", 0),
        may_drive=user is not None and may_drive(user, lesson),  # the page's data-drive
        highlight_css=highlight_css(
            highlight_selectors(lesson, lesson.steps[index] if running else None)
        ),
        outline=outline,
    )


def panel_context(lesson: Lesson, user=None, error: str = "") -> dict[str, Any]:
    return {"panel": panel_view(lesson, engine.state(lesson.id), user), "lesson_error": error}


def page_context(lesson: Lesson, focus: Focus, user, error: str = "") -> dict[str, Any]:
    region = architecture.region_context(focus.arch)
    return {
        **region,
        **panel_context(lesson, user, error),
        "stream_url": focus.stream_url(region["revision"]),
        "lesson_focus": focus,
    }


@dataclass
class ListItem:
    lesson: Lesson
    title: str
    summary: str
    phase: str
    position: int
    total: int


def list_items() -> list[ListItem]:
    language = get_language() or "en"
    items = []
    for lesson in engine.all_lessons():
        st = engine.state(lesson.id)
        items.append(
            ListItem(
                lesson,
                lesson.title.get(language),
                lesson.summary.get(language),
                st.get("phase", "idle"),
                st.get("step", -1) + 1,
                len(lesson.steps),
            )
        )
    return items


# --- the stream -----------------------------------------------------------------------------------


def render_region(focus: Focus) -> str:
    return architecture.render_region(focus.arch) if focus.lesson else ""


def render_update(focus: Focus, messages) -> str:
    return architecture.render_update(focus.arch, messages) if focus.lesson else ""


def render_tick(focus: Focus, previous: Any) -> tuple[str, Any]:
    """Move the lesson along (``engine.poll``) and send the panel when its state changed (and
    once when the stream starts, in case it moved since the page was rendered).

    The panel always carries the driving controls; the page around it (``data-drive``, set by
    the HTTP view from the user's roles, never replaced by the stream) shows them or not, and
    the control view checks again. Its forms have no CSRF field here: htmx sends the token from
    ``<body hx-headers>``."""
    if not focus.lesson:
        return "", previous
    lesson = engine.get(focus.lesson)
    st = engine.poll(lesson)
    key = (st.get("version", 0), get_language())
    if key == previous:
        return "", previous
    context = {"panel": panel_view(lesson, st)}
    return render_to_string(TEMPLATE + "#panel", context), key


# --- the views ----------------------------------------------------------------------------------


def _lesson_or_404(lesson_id: str) -> Lesson:
    try:
        return engine.get(lesson_id)
    except KeyError:
        raise Http404(_("No such lesson.")) from None


@require_GET
def lessons_page(request: HttpRequest) -> HttpResponse:
    """``/lessons``: every lesson and where it is (a broken lesson file: its problems)."""
    context: dict[str, Any] = {**chrome.chrome_context(""), "page_name": "lessons"}
    try:
        context["items"] = list_items()
    except engine.LessonFormatError as error:
        context["items"] = []
        context["format_problems"] = error.problems
    return render(request, LIST_TEMPLATE, context)


@require_GET
def lesson_page(request: HttpRequest, lesson_id: str) -> HttpResponse:
    """``/lessons/<id>``: the player. htmx: ``#live`` for links inside the region, the panel
    for ``HX-Target: lesson-panel``."""
    lesson = _lesson_or_404(lesson_id)
    engine.poll(lesson)
    if request.htmx and request.htmx.target == "lesson-panel":
        return render(request, TEMPLATE + "#panel", panel_context(lesson, request.user))
    focus = Focus.from_query({**request.GET.dict(), "lesson": lesson.id})
    context = {
        **chrome.chrome_context(lesson.namespace),
        **page_context(lesson, focus, request.user),
        "page_name": "lessons",
    }
    template = TEMPLATE + "#live" if request.htmx and request.htmx.target == "live" else TEMPLATE
    return render(request, template, context)


CONTROLS = ("start", "restart", "next", "previous", "choose")


@require_POST
def lesson_control(request: HttpRequest, lesson_id: str) -> HttpResponse:
    """Drive the lesson: ``action`` = start, restart, next, previous or choose (``choice``).
    Editors and admins only (403 with a message). A refusal of the engine (Next while waiting)
    comes back in the panel, 200 for htmx (the message is news), 409 without JavaScript."""
    lesson = _lesson_or_404(lesson_id)
    action = request.POST.get("action", "")
    error, status = "", 200
    if not may_drive(request.user, lesson):
        error, status = (
            _("Only an editor or an admin may drive a lesson; you may watch it."),
            403,
        )
    elif action not in CONTROLS:
        error, status = _("Unknown action."), 400
    else:
        actor = actions.actor_of(request.user)
        try:
            if action in ("start", "restart"):
                engine.start(lesson, actor=actor)
            elif action == "next":
                engine.next_step(lesson, actor=actor)
            elif action == "previous":
                engine.previous(lesson, actor=actor)
            else:
                choice = request.POST.get("choice", "")
                engine.choose(lesson, int(choice) if choice.isdigit() else -1, actor=actor)
        except engine.LessonError as refused:
            error, status = str(refused), 409
    if request.htmx:
        return render(
            request,
            TEMPLATE + "#panel",
            panel_context(lesson, request.user, error),
            status=403 if status == 403 else 200,
        )
    if not error:
        return HttpResponseRedirect(reverse("lesson", args=[lesson.id]))
    focus = Focus.from_query({"lesson": lesson.id})
    context = {
        **chrome.chrome_context(lesson.namespace),
        **page_context(lesson, focus, request.user, error),
        "page_name": "lessons",
    }
    return render(request, TEMPLATE, context, status=status)
