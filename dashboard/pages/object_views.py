"""HTTP views of the Object detail pages, their actions, and the Apply page: thin, over
``detail`` (what a page shows) and ``actions`` (what a form does).

- ``GET /objects/<plural>/<namespace>/<name>`` (cluster-scoped: ``/objects/<plural>/<name>``):
  the page, or its ``#live`` part for an htmx request targeting ``live``;
- ``POST .../<action>``: one action; an htmx request gets the ``#actions`` fragment back (the
  result, the errors next to their fields, or the confirmation a destructive action asks for),
  a plain form post gets the whole page (errors, confirmation) or a redirect to it (success);
- ``GET/POST /apply``: apply YAML (pasted or uploaded), and ``POST /nodes/add``: add a node.

Errors answer 422 (htmx swaps them: ``base.html`` says so), refusals 403 with the apiserver's
words (``deployments.apps "web" is forbidden: User "bob" cannot patch resource
"deployments/scale" ...``). Every action checks ``cluster.access.allows`` first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cluster import access
from cluster.api import auth
from cluster.store import kinds, read
from cluster.store.errors import BadRequest, NotFound
from cluster.store.kinds import Kind, get_path
from dashboard.pages import actions, chrome, detail
from dashboard.pages.actions import ActionError

APPLY_TEMPLATE = "dashboard/apply.html"
MAX_UPLOAD_BYTES = 3 * 1024 * 1024


# --- permission ---------------------------------------------------------------------------


def login_url(next_url: str) -> str:
    """The sign-in page, coming back to ``next_url``."""
    return redirect_to_login(next_url, resolve_url(settings.LOGIN_URL))["Location"]


def user_name(request: HttpRequest) -> str:
    return request.user.get_username() if request.user.is_authenticated else auth.ANONYMOUS


def refusal(
    request: HttpRequest, verb: str, kind: Kind, namespace: str, name: str = "", sub: str = ""
) -> str | None:
    """None when the user may ``verb`` the resource, else the apiserver's refusal."""
    resource = f"{kind.plural}/{sub}" if sub else kind.plural
    if access.allows(request.user, verb, resource, namespace or None, kind.group):
        return None
    return auth.forbidden(user_name(request), verb, kind, namespace or None, name, sub).message


# --- the detail page ----------------------------------------------------------------------


@dataclass
class FormState:
    """One action form as the page shows it: what was typed, errors by field, the outcome,
    and whether it is waiting for confirmation."""

    action: actions.Action
    url: str
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    confirm: bool = False
    done: str = ""

    @property
    def form_errors(self) -> list[str]:
        return self.errors.get("", [])


def target_of(plural: str, namespace: str | None, name: str, reveal: bool = False) -> detail.Target:
    kind = detail.kind_of_plural(plural)
    if kind is None or kind.namespaced != (namespace is not None):
        raise Http404(_("No such kind of object: %(plural)s") % {"plural": plural})
    return detail.Target(kind, namespace or "", name, reveal)


def action_url(target: detail.Target, slug: str) -> str:
    if target.kind.namespaced:
        return reverse(
            "object-action", args=[target.kind.plural, target.namespace, target.name, slug]
        )
    return reverse("object-action-cluster", args=[target.kind.plural, target.name, slug])


def actions_context(
    request: HttpRequest, target: detail.Target, changed: FormState | None = None
) -> dict[str, Any]:
    """The action forms the user may use on this object (with the current values they need)."""
    forms: dict[str, FormState] = {}
    refused: list[str] = []
    try:
        obj = read.get(target.kind, target.namespace, target.name)
    except NotFound:
        obj = None
    for action in actions.actions_for(target.kind):
        if changed is not None and changed.action.slug == action.slug:
            forms[action.slug] = changed
            continue
        forms[action.slug] = FormState(action, action_url(target, action.slug))
        if refusal(
            request, action.verb, target.kind, target.namespace, target.name, action.subresource
        ):
            refused.append(action.slug)
    extra: dict[str, Any] = {}
    if obj is not None:
        extra["replicas"] = get_path(obj, "spec.replicas", "")
        extra["containers"] = [
            (c.get("name"), c.get("image"))
            for c in (actions.pod_template(obj).get("spec") or {}).get("containers") or []
            if isinstance(c, dict)
        ]
        if target.kind.kind == "Deployment":
            extra["history"] = actions.deployment_history(obj)
        if target.kind.kind == "Node":
            extra["node"] = detail.node_facts(obj)
    return {
        "forms": forms,
        "refused": refused,
        "gone": obj is None,
        "signed_in": request.user.is_authenticated,
        "login_url": login_url(target.url),
        **extra,
    }


def page_context(request: HttpRequest, target: detail.Target, changed: FormState | None = None):
    return {
        **chrome.chrome_context(target.namespace),
        **detail.region_context(target, request.user),
        **actions_context(request, target, changed),
        "page_name": "objects",
    }


@require_GET
def object_detail(request: HttpRequest, plural: str, name: str, namespace: str | None = None):
    target = target_of(plural, namespace, name, request.GET.get("reveal") == "1")
    if not detail.may_view(request.user, target):
        return _refused_page(request, target)
    context = page_context(request, target)
    template = detail.TEMPLATE
    if request.htmx and request.htmx.target == "live":
        template += "#live"
    return render(request, template, context, status=404 if context["gone"] else 200)


def _refused_page(request: HttpRequest, target: detail.Target) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))
    message = auth.forbidden(
        user_name(request), "get", target.kind, target.namespace or None, target.name
    ).message
    context = {**chrome.chrome_context(target.namespace), "refused_message": message}
    return render(request, detail.TEMPLATE, context, status=403)


# --- actions ------------------------------------------------------------------------------


def _perform(request: HttpRequest, target: detail.Target, form: FormState) -> str:
    """Run one action; returns what happened, in words. Raises ActionError."""
    slug, kind = form.action.slug, target.kind
    namespace, name = target.namespace, target.name
    actor = actions.actor_of(request.user)
    values = form.values
    if slug == "scale":
        replicas = actions.parse_int(values.get("replicas", ""), "spec.replicas", "replicas")
        actions.workload_scale(kind, namespace, name, replicas, actor=actor)
        return _("%(resource)s/%(name)s scaled to %(replicas)d") % {
            "resource": kind.type_name(),
            "name": name,
            "replicas": replicas,
        }
    if slug == "image":
        container, image = values.get("container", ""), values.get("image", "")
        actions.workload_image_set(kind, namespace, name, container, image, actor=actor)
        return _("%(resource)s/%(name)s image updated: %(container)s=%(image)s") % {
            "resource": kind.type_name(),
            "name": name,
            "container": container,
            "image": image,
        }
    if slug == "rollback":
        raw = values.get("revision", "") or "0"
        revision = actions.parse_int(raw, "revision", "revision")
        return actions.deployment_rollback(namespace, name, revision, actor=actor)
    if slug == "delete":
        actions.pod_delete(namespace, name, actor=actor)
        return _('pod "%(name)s" deleted') % {"name": name}
    if slug == "cordon":
        actions.node_cordon(name, actor=actor)
        return _("node/%(name)s cordoned") % {"name": name}
    if slug == "uncordon":
        actions.node_uncordon(name, actor=actor)
        return _("node/%(name)s uncordoned") % {"name": name}
    if slug == "drain":
        evict_refused = _eviction_refusal(request, name)
        if evict_refused:
            raise ActionError.on("", evict_refused, status=403)
        drained = actions.node_drain(name, actor=actor)
        parts = [_("node/%(name)s drained") % {"name": name}]
        if drained.evicted:
            parts.append(_("evicted: %(pods)s") % {"pods": ", ".join(drained.evicted)})
        if drained.skipped:
            parts.append(
                _("ignored DaemonSet-managed pods: %(pods)s") % {"pods": ", ".join(drained.skipped)}
            )
        return "; ".join(parts)
    if slug == "kubelet-stop":
        actions.kubelet_stop(name, actor=actor)
        return _("The kubelet on %(name)s is stopped.") % {"name": name}
    if slug == "kubelet-start":
        actions.kubelet_start(name, actor=actor)
        return _("The kubelet on %(name)s is starting.") % {"name": name}
    raise Http404(slug)


def _eviction_refusal(request: HttpRequest, node: str) -> str | None:
    """Draining evicts pods in their namespaces: the user needs ``create pods/eviction`` there."""
    pod_kind = kinds.by_kind("Pod")
    for pod in actions.node_pods(node):
        namespace = pod["metadata"]["namespace"]
        refused = refusal(
            request, "create", pod_kind, namespace, pod["metadata"]["name"], "eviction"
        )
        if refused:
            return refused
    return None


FORM_FIELDS = ("replicas", "container", "image", "revision")


@require_POST
def object_action(
    request: HttpRequest, plural: str, name: str, action: str, namespace: str | None = None
) -> HttpResponse:
    target = target_of(plural, namespace, name)
    found = actions.ACTIONS.get(action)
    if found is None or target.kind.kind not in found.kinds:
        raise Http404(action)
    form = FormState(
        found,
        action_url(target, found.slug),
        values={k: request.POST.get(k, "") for k in FORM_FIELDS if k in request.POST},
    )
    status = 200
    refused = refusal(
        request, found.verb, target.kind, target.namespace, target.name, found.subresource
    )
    if refused:
        form.errors = {"": [refused]}
        status = 403
    elif found.destructive and request.POST.get("confirm") != "yes":
        form.confirm = True
    else:
        try:
            form.done = _perform(request, target, form)
        except ActionError as error:
            form.errors = error.errors
            status = error.status
        except NotFound as error:
            form.errors = {"": [error.message]}
            status = 404
    if form.done and not request.htmx:
        messages.success(request, form.done)
        return HttpResponseRedirect(target.url)
    if request.htmx:
        context = {**actions_context(request, target, form), **_target_context(target)}
        return render(request, detail.TEMPLATE + "#actions", context, status=status)
    return render(request, detail.TEMPLATE, page_context(request, target, form), status=status)


def _target_context(target: detail.Target) -> dict[str, Any]:
    return {"target": target, "kind": target.kind}


# --- Apply YAML and Add a node ------------------------------------------------------------


@dataclass
class ApplyState:
    text: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    outcomes: list[Any] = field(default_factory=list)

    @property
    def form_errors(self) -> list[str]:
        return self.errors.get("", [])


@dataclass
class NodeState:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    added: str = ""

    @property
    def form_errors(self) -> list[str]:
        return self.errors.get("", [])


def apply_context(request: HttpRequest, apply: ApplyState, node: NodeState) -> dict[str, Any]:
    return {
        **chrome.chrome_context(""),
        "apply": apply,
        "node_form": node,
        "page_name": "apply",
        "signed_in": request.user.is_authenticated,
        "login_url": login_url(reverse("apply")),
    }


def _manifest_text(request: HttpRequest) -> tuple[str | bytes, str]:
    upload = request.FILES.get("file")
    if upload is not None and upload.size:
        if upload.size > MAX_UPLOAD_BYTES:
            raise ActionError.on(
                "file",
                _("The file is %(size)d bytes; the limit is %(limit)d bytes.")
                % {"size": upload.size, "limit": MAX_UPLOAD_BYTES},
            )
        return upload.read(), upload.name or "upload"
    return request.POST.get("manifest", ""), _("the pasted manifest")


def _apply_refusals(request: HttpRequest, documents) -> list[str]:
    """``kubectl apply`` needs to create what is new and patch what exists."""
    refused = []
    for document in documents:
        obj = document.obj if isinstance(document.obj, dict) else {}
        try:
            kind = actions.write.kind_of(obj)
        except BadRequest:
            continue  # reported by the apply itself, with the document's position
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        namespace = (meta.get("namespace") or "default") if kind.namespaced else ""
        name = str(meta.get("name") or "")
        for verb in ("create", "patch"):
            message = refusal(request, verb, kind, namespace, name)
            if message:
                refused.append(f"{document.label}: {message}")
                break
    return refused


@require_http_methods(["GET", "POST"])
def apply_manifest(request: HttpRequest) -> HttpResponse:
    state, status = ApplyState(), 200
    if request.method == "POST":
        state.text = request.POST.get("manifest", "")
        try:
            text, source = _manifest_text(request)
            documents = actions.manifest_documents(text, source)
            refused = _apply_refusals(request, documents)
            if refused:
                raise ActionError({"manifest": refused}, status=403)
            state.outcomes = actions.manifest_apply(documents, actor=actions.actor_of(request.user))
        except ActionError as error:
            state.errors, status = error.errors, error.status
        if state.outcomes and not request.htmx:
            for outcome in state.outcomes:
                messages.success(request, str(outcome))
            return HttpResponseRedirect(reverse("apply"))
    context = apply_context(request, state, NodeState())
    template = APPLY_TEMPLATE + ("#apply-form" if request.htmx and request.method == "POST" else "")
    return render(request, template, context, status=status)


NODE_FIELDS = ("name", "cpu", "memory", "zone", "labels")


@require_POST
def node_add(request: HttpRequest) -> HttpResponse:
    state = NodeState(values={k: request.POST.get(k, "") for k in NODE_FIELDS})
    status = 200
    node_kind = kinds.by_kind("Node")
    refused = refusal(request, "create", node_kind, "", state.values["name"].strip())
    if refused:
        state.errors, status = {"": [refused]}, 403
    else:
        try:
            labels = actions.parse_labels(state.values["labels"])
            created = actions.node_add(
                state.values["name"],
                state.values["cpu"],
                state.values["memory"],
                state.values["zone"],
                labels,
                actor=actions.actor_of(request.user),
            )
            state.added = created["metadata"]["name"]
        except ActionError as error:
            state.errors, status = error.errors, error.status
    if state.added and not request.htmx:
        messages.success(request, _("node/%(name)s created") % {"name": state.added})
        return HttpResponseRedirect(detail.object_url(node_kind, "", state.added))
    if state.added:
        state.values = {}
    context = apply_context(request, ApplyState(), state)
    template = APPLY_TEMPLATE + ("#node-form" if request.htmx else "")
    return render(request, template, context, status=status)
