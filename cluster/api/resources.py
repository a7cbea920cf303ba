"""Handlers for resources: list, get, create, replace, patch, delete, and their subresources.

Thin by design (the store does the work): each handler parses the request, asks
:func:`cluster.api.auth.authorize`, calls ``cluster.store.read`` or ``cluster.store.write`` (so
every write is validated, defaulted, logged and seen by the controllers), records field
ownership (``cluster.api.managed``), and shapes the answer the way kubectl expects it
(kubectl-contract §4, §7-§9): lists with ``metadata.resourceVersion``, server-side Tables on
request, 201 on create, the deleted object or a ``Status`` on delete, ``autoscaling/v1`` Scale
for ``/scale``.

Everything here is synchronous and runs in Django's sync thread; watches and ``logs -f`` stream
from ``cluster.api.watch`` and ``cluster.api.logs``.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse

from cluster import clock
from cluster.api import auth, managed, metrics, patches
from cluster.api.http import (
    PATCH_CONTENT_TYPES,
    conversion,
    decode_json,
    decode_yaml,
    json_response,
    media_type,
    method_not_allowed,
    object_body,
    parse_bool,
    parse_int,
    raw_body,
    success_status,
    unsupported_media_type,
)
from cluster.api.routes import Route
from cluster.store import batch, read, tables, write
from cluster.store.errors import (
    BadRequest,
    Conflict,
    FieldError,
    Invalid,
    MethodNotAllowed,
    NotFound,
    StoreError,
)
from cluster.store.kinds import Kind, get_path
from cluster.store.objects import format_time
from cluster.store.selectors import selector_to_string

Obj = dict[str, Any]

# Kinds whose DELETE answers with the deleted object (the apiserver's ReturnDeletedObject);
# the others answer with a Status once the object is gone.
RETURNS_DELETED_OBJECT = {"Pod", "Service"}
UNSUPPORTED_STREAMS = {"exec", "attach", "portforward"}


def handle(request: HttpRequest, route: Route) -> HttpResponse:
    """Answer one (non-streaming) resource request."""
    assert route.kind is not None
    if metrics.is_metrics(route.kind):
        return metrics.handle(request, route)
    if request.method in ("GET", "HEAD") or connection.vendor != "sqlite":
        return _handle(request, route)
    with _SQLITE_WRITERS:
        return _handle(request, route)


# SQLite lets one writer in at a time. The ASGI server runs concurrent requests in threads of
# one process; without this lock they would all open their write transactions and the losers
# would poll SQLite's busy handler, which sleeps up to 100 ms between tries, so a burst of
# writes had a long tail (p99 in seconds under 20 concurrent clients). Queued here, the next
# writer starts the moment the previous one commits. (Other processes, the control plane's
# workers, still meet at SQLite's lock.)
_SQLITE_WRITERS = threading.Lock()


def _handle(request: HttpRequest, route: Route) -> HttpResponse:
    assert route.kind is not None
    method = request.method or "GET"
    if route.subresource:
        return _subresource(request, route, method)
    if route.is_collection:
        if method == "GET":
            return list_collection(request, route)
        if method == "POST":
            return create(request, route)
        if method == "DELETE":
            return delete_collection(request, route)
        raise method_not_allowed()
    if method == "GET":
        return get(request, route)
    if method == "PUT":
        return replace(request, route)
    if method == "PATCH":
        return patch(request, route)
    if method == "DELETE":
        return delete(request, route)
    raise method_not_allowed()


# --- helpers ---------------------------------------------------------------------------------


def now_text() -> str:
    return format_time(clock.now_datetime()) or ""


def namespace_of(route: Route) -> str:
    return route.namespace or ""


def is_dry_run(request: HttpRequest, body_values: Any = None) -> bool:
    """``dryRun=All`` in the query, or ``"dryRun": ["All"]`` in a DeleteOptions body."""
    values = list(request.GET.getlist("dryRun"))
    if isinstance(body_values, list):
        values.extend(str(v) for v in body_values)
    for value in values:
        if value != "All":
            raise BadRequest(f'dryRun: Unsupported value: "{value}": supported values: "All"')
    return bool(values)


def incoming(body: Any, route: Route) -> Obj:
    """A POST/PUT body checked against the URL, with kind, apiVersion and namespace filled in
    (the Python client often sends neither kind nor apiVersion, kubectl-contract §1.4)."""
    kind = route.kind
    assert kind is not None
    if body is None:
        raise BadRequest("the body of the request was empty")
    if not isinstance(body, dict):
        raise BadRequest("the body of the request must be a JSON or YAML object")
    obj = copy.deepcopy(body)
    obj["apiVersion"] = obj.get("apiVersion") or kind.api_version
    obj["kind"] = obj.get("kind") or kind.kind
    if obj["apiVersion"] != kind.api_version:
        raise BadRequest(
            f"the API version in the data ({obj['apiVersion']}) does not match the expected "
            f"API version ({kind.api_version})"
        )
    if obj["kind"] != kind.kind:
        raise BadRequest(
            f"the kind in the data ({obj['kind']}) does not match the expected kind ({kind.kind})"
        )
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    if not isinstance(meta, dict):
        raise BadRequest("metadata must be an object")
    if kind.namespaced:
        given = meta.get("namespace")
        if given and given != route.namespace:
            raise BadRequest(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        meta["namespace"] = route.namespace
    return obj


def render(request: HttpRequest, kind: Kind, obj: Obj) -> Obj:
    """One object as the Accept header asks: itself, a one-row Table, or its metadata."""
    target, version = conversion(request)
    if target == "Table":
        table = _table(request, kind, [obj], obj["metadata"].get("resourceVersion", ""))
        table["apiVersion"] = f"meta.k8s.io/{version}"
        return table
    if target.startswith("PartialObjectMetadata"):
        return partial(obj, version)
    return obj


def partial(obj: Obj, version: str = "v1") -> Obj:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": copy.deepcopy(obj.get("metadata") or {}),
    }


def _table(request: HttpRequest, kind: Kind, objects: list[Obj], resource_version: str) -> Obj:
    try:
        return tables.table(
            kind.kind,
            objects,
            clock.now_datetime(),
            resource_version=str(resource_version),
            include_object=request.GET.get("includeObject", ""),
        )
    except ValueError as error:
        raise BadRequest(str(error)) from None


# --- collections -----------------------------------------------------------------------------


def list_collection(request: HttpRequest, route: Route) -> HttpResponse:
    kind = route.kind
    assert kind is not None
    auth.authorize(request, "list", kind, route.namespace)
    query = request.GET
    result = read.list_objects(
        kind,
        route.namespace,
        label_selector=query.get("labelSelector"),
        field_selector=query.get("fieldSelector"),
        limit=parse_int(query.get("limit"), "limit") or None,
        continue_token=query.get("continue") or None,
    )
    metadata: Obj = {"resourceVersion": str(result.resource_version)}
    if result.continue_token:
        metadata["continue"] = result.continue_token
    target, version = conversion(request)
    if target == "Table":
        body = _table(request, kind, result.items, str(result.resource_version))
        body["apiVersion"] = f"meta.k8s.io/{version}"
        body["metadata"] = metadata
        return json_response(body)
    if target.startswith("PartialObjectMetadata"):
        return json_response(
            {
                "kind": "PartialObjectMetadataList",
                "apiVersion": f"meta.k8s.io/{version}",
                "metadata": metadata,
                "items": [partial(item, version) for item in result.items],
            }
        )
    return json_response(
        {
            "kind": f"{kind.kind}List",
            "apiVersion": kind.api_version,
            "metadata": metadata,
            "items": result.items,
        }
    )


def create(request: HttpRequest, route: Route) -> HttpResponse:
    kind = route.kind
    assert kind is not None
    if kind.namespaced and route.namespace is None:
        raise method_not_allowed()
    auth.authorize(request, "create", kind, route.namespace)
    obj = incoming(object_body(request), route)
    manager = auth.field_manager(request)
    obj = managed.record_update(None, obj, manager, kind.api_version, now_text(), kind.kind)
    created = write.create(obj, actor=auth.actor(request, manager), dry_run=is_dry_run(request))
    return json_response(created, status=201)


def delete_collection(request: HttpRequest, route: Route) -> HttpResponse:
    """DELETE on a collection (deletecollection): delete every match of the selectors."""
    kind = route.kind
    assert kind is not None
    auth.authorize(request, "deletecollection", kind, route.namespace)
    options = delete_options(request)
    matches = read.list_objects(
        kind,
        route.namespace,
        label_selector=request.GET.get("labelSelector"),
        field_selector=request.GET.get("fieldSelector"),
    )
    deleted: list[Obj] = []
    for item in matches.items:
        meta = item["metadata"]
        try:
            deleted.append(
                write.delete(
                    kind,
                    meta.get("namespace", ""),
                    meta["name"],
                    propagation=options["propagation"],
                    grace_period_seconds=options["grace"],
                    actor=auth.actor(request, auth.field_manager(request)),
                    dry_run=options["dry_run"],
                )
            )
        except NotFound:
            continue
    return json_response(
        {
            "kind": f"{kind.kind}List",
            "apiVersion": kind.api_version,
            "metadata": {"resourceVersion": str(read.current_revision())},
            "items": deleted,
        }
    )


# --- single objects --------------------------------------------------------------------------


def get(request: HttpRequest, route: Route) -> HttpResponse:
    kind = route.kind
    assert kind is not None
    auth.authorize(request, "get", kind, route.namespace, route.name)
    obj = read.get(kind, namespace_of(route), route.name)
    return json_response(render(request, kind, obj))


def replace(request: HttpRequest, route: Route) -> HttpResponse:
    kind = route.kind
    assert kind is not None
    auth.authorize(request, "update", kind, route.namespace, route.name)
    body = incoming(object_body(request), route)
    manager = auth.field_manager(request)

    def change(current: Obj) -> Obj:
        proposed = copy.deepcopy(body)
        meta = proposed["metadata"]
        if "managedFields" not in meta and "managedFields" in current["metadata"]:
            meta["managedFields"] = copy.deepcopy(current["metadata"]["managedFields"])
        return managed.record_update(
            current, proposed, manager, kind.api_version, now_text(), kind.kind
        )

    updated = write.mutate(
        kind,
        namespace_of(route),
        route.name,
        change,
        actor=auth.actor(request, manager),
        dry_run=is_dry_run(request),
    )
    return json_response(updated)


def patch_type_of(request: HttpRequest) -> str:
    content_type = media_type(request)
    patch_type = PATCH_CONTENT_TYPES.get(content_type)
    if patch_type is None:
        raise unsupported_media_type(content_type, list(PATCH_CONTENT_TYPES))
    return patch_type


def patch_body(request: HttpRequest, patch_type: str) -> Any:
    data = raw_body(request)
    if patch_type == "apply":
        return decode_yaml(data)
    return decode_json(data)


def patch(request: HttpRequest, route: Route) -> HttpResponse:
    kind = route.kind
    assert kind is not None
    patch_type = patch_type_of(request)
    body = patch_body(request, patch_type)
    manager = auth.field_manager(request)
    dry_run = is_dry_run(request)
    namespace = namespace_of(route)
    if patch_type == "apply":
        return _apply(request, route, body, manager, dry_run)
    auth.authorize(request, "patch", kind, route.namespace, route.name)
    apply_patch = patches.patch_function(patch_type)

    def change(current: Obj) -> Obj:
        patched = apply_patch(current, body)
        if not isinstance(patched, dict):
            raise BadRequest("the patch did not produce an object")
        return managed.record_update(
            current, patched, manager, kind.api_version, now_text(), kind.kind
        )

    updated = write.mutate(
        kind, namespace, route.name, change, actor=auth.actor(request, manager), dry_run=dry_run
    )
    return json_response(updated)


def _apply(
    request: HttpRequest, route: Route, body: Any, manager: str, dry_run: bool
) -> HttpResponse:
    """Server-side apply: create when missing (201), otherwise merge with field ownership."""
    kind = route.kind
    assert kind is not None
    force = parse_bool(request.GET.get("force"), "force")
    config = managed.configuration(body, kind.api_version, kind.kind, route.name)
    if kind.namespaced:
        given = config["metadata"].get("namespace")
        if given and given != route.namespace:
            raise BadRequest(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        config["metadata"]["namespace"] = route.namespace
    namespace = namespace_of(route)
    now = now_text()

    def change(current: Obj) -> Obj:
        return managed.apply(current, config, manager, force=force, now=now, kind=kind.kind)

    try:
        auth.authorize(request, "patch", kind, route.namespace, route.name)
        updated = write.mutate(
            kind, namespace, route.name, change, actor=auth.actor(request, manager), dry_run=dry_run
        )
    except NotFound as missing:
        if missing.details.get("kind") != kind.plural:
            raise
        auth.authorize(request, "create", kind, route.namespace)
        created = managed.apply(None, config, manager, force=force, now=now, kind=kind.kind)
        return json_response(
            write.create(created, actor=auth.actor(request, manager), dry_run=dry_run), status=201
        )
    return json_response(updated)


def delete_options(request: HttpRequest) -> dict[str, Any]:
    """DeleteOptions from the body (kubectl, the Python client) or the query string."""
    data = raw_body(request)
    body = decode_json(data) if data.strip() else {}
    if not isinstance(body, dict):
        raise BadRequest("DeleteOptions must be an object")
    query = request.GET
    grace = body.get("gracePeriodSeconds")
    if grace is None:
        grace = parse_int(query.get("gracePeriodSeconds"), "gracePeriodSeconds")
    if grace is not None and not isinstance(grace, int):
        raise BadRequest("gracePeriodSeconds must be an integer")
    propagation = body.get("propagationPolicy") or query.get("propagationPolicy") or None
    orphan = body.get("orphanDependents")
    if orphan is None and query.get("orphanDependents"):
        orphan = parse_bool(query.get("orphanDependents"), "orphanDependents")
    if propagation is None and orphan is not None:
        propagation = "Orphan" if orphan else "Background"
    preconditions = body.get("preconditions") or {}
    if not isinstance(preconditions, dict):
        raise BadRequest("preconditions must be an object")
    return {
        "grace": grace,
        "propagation": propagation,
        "preconditions": preconditions,
        "dry_run": is_dry_run(request, body.get("dryRun")),
    }


def delete(request: HttpRequest, route: Route) -> HttpResponse:
    kind = route.kind
    assert kind is not None
    auth.authorize(request, "delete", kind, route.namespace, route.name)
    options = delete_options(request)
    namespace = namespace_of(route)
    result = write.delete(
        kind,
        namespace,
        route.name,
        propagation=options["propagation"],
        grace_period_seconds=options["grace"],
        preconditions=options["preconditions"],
        actor=auth.actor(request, auth.field_manager(request)),
        dry_run=options["dry_run"],
    )
    if kind.kind in RETURNS_DELETED_OBJECT or _still_there(kind, result, options["dry_run"]):
        return json_response(result)
    meta = result["metadata"]
    details = {"name": meta["name"], "group": kind.group, "kind": kind.plural, "uid": meta["uid"]}
    return json_response(success_status(details))


def _still_there(kind: Kind, obj: Obj, dry_run: bool) -> bool:
    """Whether a delete only marked the object (finalizers pending) instead of removing it."""
    meta = obj["metadata"]
    if not dry_run:
        return kind.model.objects.filter(uid=meta["uid"]).exists()
    if not meta.get("deletionTimestamp"):
        return False
    pending_namespace = kind.kind == "Namespace" and get_path(obj, "spec.finalizers")
    return bool(meta.get("finalizers") or pending_namespace)


# --- subresources ----------------------------------------------------------------------------


def _subresource(request: HttpRequest, route: Route, method: str) -> HttpResponse:
    kind = route.kind
    assert kind is not None
    sub = route.subresource
    if sub == "status" and kind.status_subresource:
        return _status(request, route, method)
    if sub == "scale" and kind.scale_subresource:
        return _scale(request, route, method)
    if kind.kind == "Pod" and sub == "eviction":
        if method != "POST":
            raise method_not_allowed()
        return evict(request, route)
    if kind.kind == "Pod" and sub == "binding":
        if method != "POST":
            raise method_not_allowed()
        return bind(request, route)
    if kind.kind == "Pod" and sub == "log":
        from cluster.api import logs

        if method != "GET":
            raise method_not_allowed()
        return logs.read_log(request, route)
    if kind.kind == "Pod" and sub in UNSUPPORTED_STREAMS:
        raise unsupported_stream(route)
    raise MethodNotAllowed(
        f'the subresource "{sub}" of {kind.resource_group()} is not supported by this server'
    )


_STREAM_PHRASES = {
    "exec": ("exec", "run a command in"),
    "attach": ("attach", "attach to"),
    "portforward": ("port-forward", "forward ports to"),
}


def unsupported_stream(route: Route) -> BadRequest:
    """exec, attach and port-forward: Kubarium's containers are simulated, nothing to stream.

    kubectl prints it as ``Error from server (BadRequest): exec is not supported: ...`` (exec,
    attach) or ``error: error upgrading connection: port-forward is not supported: ...``.
    """
    action, phrase = _STREAM_PHRASES[route.subresource]
    return BadRequest(
        f'{action} is not supported: Kubarium simulates the containers of pod "{route.name}", '
        f"so there is no process to {phrase}"
    )


def _status(request: HttpRequest, route: Route, method: str) -> HttpResponse:
    kind = route.kind
    assert kind is not None
    namespace = namespace_of(route)
    if method == "GET":
        auth.authorize(request, "get", kind, route.namespace, route.name)
        return json_response(read.get(kind, namespace, route.name))
    manager = auth.field_manager(request)
    dry_run = is_dry_run(request)
    if method == "PUT":
        auth.authorize(request, "update", kind, route.namespace, route.name)
        body = incoming(object_body(request), route)

        def replace_status(current: Obj) -> Obj:
            proposed = copy.deepcopy(current)
            proposed["status"] = copy.deepcopy(body.get("status") or {})
            rv = body["metadata"].get("resourceVersion")
            if rv:
                proposed["metadata"]["resourceVersion"] = rv
            return proposed

        updated = write.mutate(
            kind,
            namespace,
            route.name,
            replace_status,
            actor=auth.actor(request, manager),
            subresource="status",
            dry_run=dry_run,
        )
        return json_response(updated)
    if method == "PATCH":
        auth.authorize(request, "patch", kind, route.namespace, route.name)
        patch_type = patch_type_of(request)
        body = patch_body(request, patch_type)
        if patch_type == "apply":
            config = managed.configuration(body, kind.api_version, kind.kind, route.name)
            body, patch_type = {"status": config.get("status") or {}}, "strategic"
        apply_patch = patches.patch_function(patch_type)
        updated = write.mutate(
            kind,
            namespace,
            route.name,
            lambda current: apply_patch(current, body),
            actor=auth.actor(request, manager),
            subresource="status",
            dry_run=dry_run,
        )
        return json_response(updated)
    raise method_not_allowed()


# --- /scale ----------------------------------------------------------------------------------


def scale_of(obj: Obj) -> Obj:
    """The ``autoscaling/v1`` Scale of a Deployment, ReplicaSet or StatefulSet (§8)."""
    meta = obj["metadata"]
    replicas = get_path(obj, "spec.replicas")
    selector = get_path(obj, "spec.selector")
    scale_meta = {
        key: meta[key]
        for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        if key in meta
    }
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": replicas} if replicas else {},
        "status": {
            "replicas": int(get_path(obj, "status.replicas") or 0),
            "selector": selector_to_string(selector) if isinstance(selector, dict) else "",
        },
    }


def _scale(request: HttpRequest, route: Route, method: str) -> HttpResponse:
    kind = route.kind
    assert kind is not None
    namespace = namespace_of(route)
    if method == "GET":
        auth.authorize(request, "get", kind, route.namespace, route.name)
        return json_response(scale_of(read.get(kind, namespace, route.name)))
    if method == "PUT":
        auth.authorize(request, "update", kind, route.namespace, route.name)
        body = object_body(request)
        if not isinstance(body, dict):
            raise BadRequest("the body of the request must be a Scale object")

        def new_scale(current: Obj) -> Obj:
            return body

    elif method == "PATCH":
        auth.authorize(request, "patch", kind, route.namespace, route.name)
        patch_type = patch_type_of(request)
        if patch_type == "apply":
            patch_type = "merge"
        body = patch_body(request, patch_type)
        apply_patch = patches.patch_function(patch_type)

        def new_scale(current: Obj) -> Obj:
            return apply_patch(current, body)

    else:
        raise method_not_allowed()
    manager = auth.field_manager(request)

    def change(current: Obj) -> Obj:
        scale = new_scale(scale_of(current))
        if not isinstance(scale, dict):
            raise BadRequest("the patch did not produce a Scale object")
        name = (scale.get("metadata") or {}).get("name")
        if name and name != route.name:
            raise BadRequest(
                f"the name of the object ({name}) does not match the name on the URL ({route.name})"
            )
        replicas = get_path(scale, "spec.replicas", 0)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise Invalid(
                "Scale",
                "autoscaling",
                route.name,
                [
                    FieldError.invalid(
                        "spec.replicas", replicas, "must be greater than or equal to 0"
                    )
                ],
            )
        proposed = copy.deepcopy(current)
        proposed["spec"]["replicas"] = replicas
        rv = (scale.get("metadata") or {}).get("resourceVersion")
        if rv and str(rv) != current["metadata"]["resourceVersion"]:
            raise Conflict(kind.plural, kind.group, route.name)
        return managed.record_update(
            current, proposed, manager, kind.api_version, now_text(), kind.kind, "scale"
        )

    updated = write.mutate(
        kind,
        namespace,
        route.name,
        change,
        actor=auth.actor(request, manager),
        dry_run=is_dry_run(request),
    )
    return json_response(scale_of(updated))


# --- pods/eviction and pods/binding ----------------------------------------------------------


def _subresource_body(request: HttpRequest, route: Route, kinds: tuple[str, ...]) -> Obj:
    body = object_body(request)
    if not isinstance(body, dict):
        raise BadRequest("the body of the request must be an object")
    if body.get("kind") and body["kind"] not in kinds:
        raise BadRequest(f"the kind in the data ({body['kind']}) must be {kinds[0]}")
    name = (body.get("metadata") or {}).get("name")
    if name and name != route.name:
        raise BadRequest(f"name in URL does not match name in {kinds[0]} object")
    return body


def evict(request: HttpRequest, route: Route) -> HttpResponse:
    """POST pods/<name>/eviction: a graceful delete of the pod (no disruption budgets yet)."""
    kind = route.kind
    assert kind is not None
    auth.authorize(request, "create", kind, route.namespace, route.name)
    body = _subresource_body(request, route, ("Eviction",))
    options = body.get("deleteOptions") or {}
    if not isinstance(options, dict):
        raise BadRequest("deleteOptions must be an object")
    write.delete(
        kind,
        namespace_of(route),
        route.name,
        propagation=options.get("propagationPolicy"),
        grace_period_seconds=options.get("gracePeriodSeconds"),
        preconditions=options.get("preconditions") or {},
        actor=auth.actor(request, auth.field_manager(request)),
        dry_run=is_dry_run(request, options.get("dryRun")),
    )
    return json_response(success_status(code=201), status=201)


def bind(request: HttpRequest, route: Route) -> HttpResponse:
    """POST pods/<name>/binding: assign the pod to ``target.name`` (what a scheduler does)."""
    kind = route.kind
    assert kind is not None
    auth.authorize(request, "create", kind, route.namespace, route.name)
    body = _subresource_body(request, route, ("Binding",))
    node = get_path(body, "target.name")
    if not node or not isinstance(node, str):
        raise Invalid("Binding", "", route.name, [FieldError.required("target.name", "")])

    # The store's pods/binding does what the apiserver's BindingREST does (uid precondition,
    # already assigned, being deleted, scheduling gates; PodScheduled=True).
    binding = batch.Binding(
        namespace_of(route),
        route.name,
        node,
        str(get_path(body, "metadata.uid") or ""),
        get_path(body, "metadata.annotations") or None,
    )
    (answer,) = batch.bind_pods(
        [binding],
        actor=auth.actor(request, auth.field_manager(request)),
        dry_run=is_dry_run(request),
    )
    if isinstance(answer, StoreError):
        raise answer
    return json_response(success_status(code=201), status=201)
