"""The one write path: Kubarium's kube-apiserver core.

Every write (manifests, the REST API, dashboard forms, admin saves, controllers, kubelets) goes
through these functions. Each one, in a single transaction:

1. finds the kind and the current object (locking its row for update);
2. checks preconditions (``metadata.resourceVersion``, uid): a stale one is a 409 Conflict;
3. applies the API defaults and validates (422 Invalid, naming every bad field);
4. compares with what is stored: a write that changes nothing returns the object untouched, with
   no new revision and no log row;
5. bumps ``generation`` when the spec (or other non-status content) changed;
6. takes the next cluster-wide revision, which becomes the object's ``resourceVersion``;
7. saves the row and appends a ``Change`` row with the whole object;
8. after commit, publishes the change to subscribers (``cluster.store.notify``).

Nothing is half-applied: any error rolls the whole write back. ``dry_run`` runs every step, then
rolls back, so a dry run answers exactly what the real write would (addresses, conflicts).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from collections.abc import Callable
from typing import Any

import jsonpatch
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cluster import clock
from cluster.models import Change, Namespace, Service
from cluster.store import ipam, kinds, notify
from cluster.store.defaults import apply_defaults
from cluster.store.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    UnsupportedMediaType,
)
from cluster.store.jsondata import copy_json
from cluster.store.kinds import Kind
from cluster.store.objects import SERVER_METADATA, fill, to_dict
from cluster.store.validation import validate, validate_update

Obj = dict[str, Any]

# Who writes when no one says: shown as the author of a change ("who did this").
DEFAULT_ACTOR = "kube-apiserver"


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back, carrying its result."""

    def __init__(self, result: Obj):
        self.result = result


class UnknownKindError(BadRequest):
    def __init__(self, api_version: str, kind: str):
        super().__init__(f'no matches for kind "{kind}" in version "{api_version}"')


# --- public API ------------------------------------------------------------------------------


def create(obj: Obj, *, actor: str = DEFAULT_ACTOR, dry_run: bool = False) -> Obj:
    """Create an object (POST). Returns the stored object with its uid and resourceVersion."""
    kind = kind_of(obj)
    return _transact(lambda: _create(kind, obj, actor), dry_run)


def update(obj: Obj, *, actor: str = DEFAULT_ACTOR, dry_run: bool = False) -> Obj:
    """Replace an object (PUT). Status is kept for kinds with a status subresource."""
    kind = kind_of(obj)
    return _transact(lambda: _replace(kind, obj, actor, subresource=None), dry_run)


def update_status(obj: Obj, *, actor: str = DEFAULT_ACTOR, dry_run: bool = False) -> Obj:
    """Replace an object's status (PUT .../status): only ``status`` changes."""
    kind = kind_of(obj)
    if not kind.status_subresource:
        raise NotFound(f"{kind.plural}/status", kind.group, _meta(obj).get("name", ""))
    return _transact(lambda: _replace(kind, obj, actor, subresource="status"), dry_run)


def mutate(
    kind: Kind | str,
    namespace: str,
    name: str,
    change: Callable[[Obj], Obj | None],
    *,
    actor: str = DEFAULT_ACTOR,
    subresource: str | None = None,
    dry_run: bool = False,
) -> Obj:
    """Read, change and write one object under its row lock: how controllers and patches write.

    ``change`` receives a copy of the current object and returns the new one (or changes it in
    place and returns None). It runs inside the transaction, so it sees the latest state and no
    other writer can slip in between; if it changes nothing, nothing is written.
    """
    kind = _kind(kind)

    def run() -> Obj:
        row = _lock(kind, namespace, name)
        current = to_dict(row, kind)
        working = copy_json(current)
        proposed = change(working)
        return _apply_update(
            kind, row, current, working if proposed is None else proposed, actor, subresource
        )

    return _transact(run, dry_run)


def patch(
    kind: Kind | str,
    namespace: str,
    name: str,
    body: Any,
    patch_type: str = "merge",
    *,
    actor: str = DEFAULT_ACTOR,
    subresource: str | None = None,
    dry_run: bool = False,
) -> Obj:
    """Patch an object (PATCH) with a JSON merge patch (RFC 7386) or a JSON patch (RFC 6902).

    Strategic merge patch and server-side apply are added by the REST API on top of ``mutate``.
    """
    apply_patch = PATCH_TYPES.get(patch_type)
    if apply_patch is None:
        raise UnsupportedMediaType(f"the server does not support patch type {patch_type!r}")

    def change(current: Obj) -> Obj:
        patched = apply_patch(current, body)
        if not isinstance(patched, dict):
            raise BadRequest("the patch did not produce an object")
        return patched

    return mutate(
        kind, namespace, name, change, actor=actor, subresource=subresource, dry_run=dry_run
    )


def delete(
    kind: Kind | str,
    namespace: str,
    name: str,
    *,
    propagation: str | None = None,
    grace_period_seconds: int | None = None,
    preconditions: dict[str, str] | None = None,
    actor: str = DEFAULT_ACTOR,
    dry_run: bool = False,
) -> Obj:
    """Delete an object (DELETE), as the apiserver does.

    - An object with finalizers, or deleted with ``Foreground``/``Orphan`` propagation (which add
      the ``foregroundDeletion``/``orphan`` finalizers for the garbage collector), is only marked:
      ``deletionTimestamp`` is set and it stays until its finalizers are removed.
    - A Pod bound to a node is deleted gracefully: marked with ``deletionTimestamp`` = now + grace
      period (default its ``terminationGracePeriodSeconds``); its kubelet removes it. Grace 0
      (``--force --grace-period=0``) removes it at once.
    - A Namespace turns ``Terminating``; the namespace controller empties it, then removes it.
    - Anything else is removed now, with a ``DELETED`` change.
    Returns the object as it is after the call (with the deletion revision when removed).
    """
    kind = _kind(kind)
    if propagation not in (None, "Background", "Foreground", "Orphan"):
        raise Invalid(
            "DeleteOptions",
            "",
            "",
            [
                FieldError.not_supported(
                    "propagationPolicy", propagation, ["Foreground", "Background", "Orphan"]
                )
            ],
        )

    def run() -> Obj:
        row = _lock(kind, namespace, name)
        current = to_dict(row, kind)
        _check_preconditions(kind, row, preconditions or {})
        return _delete(kind, row, current, propagation, grace_period_seconds, actor)

    return _transact(run, dry_run)


def kind_of(obj: Obj) -> Kind:
    if not isinstance(obj, dict):
        raise BadRequest("the object must be a JSON/YAML mapping")
    api_version, kind_name = obj.get("apiVersion"), obj.get("kind")
    if not kind_name:
        raise BadRequest(f"Object 'Kind' is missing in '{_excerpt(obj)}'")
    if not api_version:
        raise BadRequest(f"Object 'apiVersion' is missing in '{_excerpt(obj)}'")
    kind = kinds.by_api(str(api_version), str(kind_name))
    if kind is None:
        raise UnknownKindError(str(api_version), str(kind_name))
    return kind


# --- merge patch and JSON patch --------------------------------------------------------------


def merge_patch(target: Any, patch_body: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, null deletes, the rest replaces."""
    if not isinstance(patch_body, dict):
        return copy_json(patch_body)
    result = copy_json(target) if isinstance(target, dict) else {}
    for key, value in patch_body.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 JSON patch, via the ``jsonpatch`` library."""
    if not isinstance(operations, list):
        raise BadRequest("a JSON patch must be a list of operations")
    try:
        return jsonpatch.JsonPatch(operations).apply(target)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError) as error:
        raise Invalid(
            target.get("kind", ""),
            "",
            _meta(target).get("name", ""),
            [FieldError.invalid("patch", operations, str(error))],
        ) from None


# The REST API registers strategic merge patch and apply patch here.
PATCH_TYPES: dict[str, Callable[[Any, Any], Any]] = {"merge": merge_patch, "json": json_patch}


# --- the steps -------------------------------------------------------------------------------


def _transact(run: Callable[[], Obj], dry_run: bool) -> Obj:
    try:
        with transaction.atomic():
            result = run()
            if dry_run:
                raise _DryRun(result)
            return result
    except _DryRun as done:
        return done.result


def _excerpt(obj: Obj, limit: int = 200) -> str:
    text = json.dumps(obj, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(kind: Kind | str) -> Kind:
    return kind if isinstance(kind, Kind) else kinds.by_name(kind)


def _meta(obj: Obj) -> dict[str, Any]:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return meta if isinstance(meta, dict) else {}


def _lock(kind: Kind, namespace: str, name: str):
    queryset = kind.model.objects.select_for_update()
    try:
        return queryset.get(namespace=namespace if kind.namespaced else "", name=name)
    except kind.model.DoesNotExist:
        raise NotFound(kind.plural, kind.group, name, namespace=namespace) from None


def _next_revision() -> int:
    """Take the next cluster-wide revision inside the current transaction.

    One statement, row-locked until commit: concurrent writers queue here, so revisions follow
    commit order and a rollback gives its number back (no gaps).
    """
    table = connection.ops.quote_name("cluster_revision")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, value) VALUES (1, 1) "
            f"ON CONFLICT (id) DO UPDATE SET value = {table}.value + 1 RETURNING value"
        )
        return cursor.fetchone()[0]


def _now() -> dt.datetime:
    """The cluster's time (simulated; see ``cluster.clock``), to the second as Kubernetes keeps it."""
    return clock.now_datetime().replace(microsecond=0)


def _log(kind: Kind, row, obj: Obj, change_type: str, actor: str) -> None:
    Change.objects.create(
        revision=row.resource_version,
        kind=kind.kind,
        namespace=row.namespace,
        name=row.name,
        uid=row.uid,
        type=change_type,
        object=obj,
        actor=actor or "",
        created_at=timezone.now(),
    )
    changed = notify.Changed(
        revision=row.resource_version,
        type=change_type,
        kind=kind.kind,
        namespace=row.namespace,
        name=row.name,
        uid=str(row.uid),
        actor=actor or "",
        object=obj,
    )
    transaction.on_commit(lambda: notify.publish(changed))


def _check_namespace(kind: Kind, namespace: str) -> None:
    if not kind.namespaced:
        return
    found = Namespace.objects.filter(name=namespace).values_list("deletion_timestamp", flat=True)
    if not found:
        raise NotFound("namespaces", "", namespace)
    if found[0] is not None:
        raise Forbidden(
            f"unable to create new content in namespace {namespace} because it is being terminated",
            details={"name": namespace, "kind": "namespaces"},
        )


_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _generate_name(prefix: str) -> str:
    """``generateName`` + five random characters, from the alphabet Kubernetes uses."""
    return prefix + "".join(secrets.choice(_NAME_ALPHABET) for _ in range(5))


def _initial_status(kind: Kind, obj: Obj) -> dict[str, Any] | None:
    """What the apiserver sets as status on create (None: keep what the client sent)."""
    if kind.kind == "Pod":
        return {"phase": "Pending", "qosClass": _qos_class(obj.get("spec") or {})}
    if kind.kind == "Namespace":
        return {"phase": "Active"}
    if kind.kind in ("PersistentVolume", "PersistentVolumeClaim"):
        return {"phase": "Pending"}
    if kind.kind == "Service":
        return {"loadBalancer": {}}
    if kind.kind == "Ingress":
        return {"loadBalancer": {}}
    if kind.kind == "Node":
        return None  # kubelets register nodes with their status
    return {}


def _qos_class(spec: dict) -> str:
    """Guaranteed when every container's requests equal its limits for cpu and memory,
    BestEffort when none sets any, Burstable otherwise (as the kubelet computes it)."""
    containers = [
        c
        for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])
        if isinstance(c, dict)
    ]
    any_set = False
    guaranteed = bool(containers)
    for container in containers:
        resources = container.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        if requests or limits:
            any_set = True
        for resource in ("cpu", "memory"):
            limit = limits.get(resource)
            request = requests.get(resource, limit)
            if limit is None or str(request) != str(limit):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _prepared(kind: Kind, obj: Obj) -> Obj:
    """Defaults applied, validated; raises Invalid naming every bad field."""
    defaulted = apply_defaults(obj)
    errors = validate(defaulted)
    if errors:
        raise Invalid(kind.kind, kind.group, _meta(obj).get("name", ""), errors)
    return defaulted


def _create(kind: Kind, obj: Obj, actor: str) -> Obj:
    obj = copy_json(obj)
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise Invalid(
            kind.kind, kind.group, "", [FieldError.invalid("metadata", meta, "must be an object")]
        )
    for key in SERVER_METADATA:
        meta.pop(key, None)
    if kind.namespaced:
        meta["namespace"] = meta.get("namespace") or "default"
    else:
        meta.pop("namespace", None)
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = _generate_name(str(meta["generateName"]))
    initial = _initial_status(kind, obj)
    if initial is not None and kind.status_subresource:
        obj["status"] = initial
    obj = _prepared(kind, obj)
    namespace, name = meta.get("namespace", ""), obj["metadata"]["name"]
    _check_namespace(kind, namespace)
    model = kind.model
    if kind.kind == "Service":
        _allocate_service(obj, None)
    row = model()
    fill(row, obj, kind)
    row.uid = uuid.uuid4()
    row.creation_timestamp = _now()
    row.generation = 1
    row.resource_version = _next_revision()
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        raise AlreadyExists(kind.plural, kind.group, name) from None
    result = to_dict(row, kind)
    _log(kind, row, result, Change.Type.ADDED, actor)
    return result


def _replace(kind: Kind, obj: Obj, actor: str, subresource: str | None) -> Obj:
    meta = _meta(obj)
    name = meta.get("name")
    if not name:
        raise Invalid(
            kind.kind,
            kind.group,
            "",
            [FieldError.required("metadata.name", "name or generateName is required")],
        )
    namespace = (meta.get("namespace") or "default") if kind.namespaced else ""
    row = _lock(kind, namespace, name)
    current = to_dict(row, kind)
    return _apply_update(kind, row, current, copy_json(obj), actor, subresource)


def _check_preconditions(kind: Kind, row, preconditions: dict[str, Any]) -> None:
    uid = preconditions.get("uid")
    if uid and str(uid) != str(row.uid):
        raise Conflict(
            kind.plural,
            kind.group,
            row.name,
            f"Precondition failed: UID in precondition: {uid}, UID in object meta: {row.uid}",
        )
    rv = preconditions.get("resourceVersion")
    if rv and str(rv) != str(row.resource_version):
        raise Conflict(
            kind.plural,
            kind.group,
            row.name,
            f"Precondition failed: ResourceVersion in precondition: {rv}, "
            f"ResourceVersion in object meta: {row.resource_version}",
        )


def prepare_update(kind: Kind, row, current: Obj, proposed: Obj, subresource: str | None) -> str:
    """Every step of an update up to the save, on ``row``: "unchanged", "remove" or "update".

    Checks the preconditions the proposed object carries, keeps what the subresource may not
    touch, applies defaults and allocations, validates (raising Invalid), detects a no-op, and
    for a real change fills ``row`` with the new content and bumps ``generation``. "remove" means
    the last finalizer of an object being deleted is gone. The caller takes the revision and
    saves (one object here, many in ``cluster.store.batch``).
    """
    if not isinstance(proposed, dict):
        raise BadRequest("the object must be a JSON/YAML mapping")
    new_meta = proposed.get("metadata")
    if not isinstance(new_meta, dict):
        new_meta = proposed["metadata"] = {}
    rv = new_meta.get("resourceVersion")
    if rv not in (None, "") and str(rv) != str(row.resource_version):
        raise Conflict(kind.plural, kind.group, row.name)
    if new_meta.get("uid") and str(new_meta["uid"]) != str(row.uid):
        raise Conflict(
            kind.plural,
            kind.group,
            row.name,
            f"Precondition failed: UID in precondition: {new_meta['uid']}, "
            f"UID in object meta: {row.uid}",
        )
    if (
        proposed.get("apiVersion", current["apiVersion"]) != current["apiVersion"]
        or proposed.get("kind", current["kind"]) != current["kind"]
    ):
        raise BadRequest(
            f"the object's apiVersion/kind must stay {current['apiVersion']}/{current['kind']}"
        )
    proposed["apiVersion"], proposed["kind"] = current["apiVersion"], current["kind"]
    if new_meta.get("name", row.name) != row.name:
        raise BadRequest(
            f"the name of the object ({new_meta.get('name')}) does not match the "
            f"name on the URL ({row.name})"
        )

    # What each kind of update may touch (the apiserver's PrepareForUpdate).
    if subresource == "status":
        merged = copy_json(current)
        merged["status"] = proposed.get("status") or {}
        proposed = merged
    else:
        # ``binding`` (the scheduler's pods/binding) sets spec.nodeName and the PodScheduled
        # condition together; any other update leaves status to the status subresource.
        if kind.status_subresource and subresource != "binding":
            proposed["status"] = copy_json(current.get("status") or {})
        meta = proposed["metadata"]
        for key in SERVER_METADATA:
            if key in current["metadata"]:
                meta[key] = current["metadata"][key]
            else:
                meta.pop(key, None)
        if kind.namespaced:
            meta["namespace"] = row.namespace
        else:
            meta.pop("namespace", None)
        meta["name"] = row.name

    # Defaults and validation (the status subresource validates the whole object too).
    if kind.kind == "Service" and subresource != "status":
        _drop_type_dependent_fields(current.get("spec") or {}, proposed.get("spec"))
    proposed = apply_defaults(proposed)
    if kind.kind == "Service":
        _allocate_service(proposed, current)
    errors = validate_update(current, proposed)
    if errors:
        raise Invalid(kind.kind, kind.group, row.name, errors)

    if _same(current, proposed):
        return "unchanged"

    spec_changed = proposed.get("spec") != current.get("spec") or _body(proposed) != _body(current)
    fill(row, proposed, kind)
    if spec_changed and kind.has_spec and subresource not in ("status", "binding"):
        row.generation = (row.generation or 0) + 1
    namespace_pending = kind.kind == "Namespace" and (row.spec or {}).get("finalizers")
    if (
        row.deletion_timestamp is not None
        and not row.finalizers
        and not row.deletion_grace_period_seconds
        and not namespace_pending
    ):
        return "remove"
    return "update"


def _apply_update(
    kind: Kind, row, current: Obj, proposed: Obj, actor: str, subresource: str | None
) -> Obj:
    outcome = prepare_update(kind, row, current, proposed, subresource)
    if outcome == "unchanged":
        return current
    if outcome == "remove":  # the last finalizer is gone from an object being deleted
        return _remove(kind, row, actor)
    row.resource_version = _next_revision()
    row.save()
    result = to_dict(row, kind)
    _log(kind, row, result, Change.Type.MODIFIED, actor)
    return result


def _body(obj: Obj) -> dict:
    return {
        k: v
        for k, v in obj.items()
        if k not in {"apiVersion", "kind", "metadata", "spec", "status"}
    }


def _same(current: Obj, proposed: Obj) -> bool:
    """True when the write would change nothing (server-owned metadata aside)."""

    def comparable(obj: Obj) -> Obj:
        trimmed = dict(obj)
        meta = {
            k: v
            for k, v in (obj.get("metadata") or {}).items()
            if k != "resourceVersion" and v not in (None, {}, [])
        }
        trimmed["metadata"] = meta
        return trimmed

    return comparable(current) == comparable(proposed)


def _delete(
    kind: Kind,
    row,
    current: Obj,
    propagation: str | None,
    grace_period_seconds: int | None,
    actor: str,
) -> Obj:
    finalizers = list(row.finalizers or [])
    wanted = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}.get(propagation or "")
    if wanted and wanted not in finalizers:
        finalizers.append(wanted)

    if row.deletion_timestamp is not None:
        # Already being deleted: only a shorter grace period (e.g. --force) changes anything.
        if kind.kind == "Pod" and grace_period_seconds == 0 and not finalizers:
            return _remove(kind, row, actor)
        return current

    grace = 0
    if kind.kind == "Pod" and row.node_name and row.phase not in ("Succeeded", "Failed"):
        default = (row.spec or {}).get("terminationGracePeriodSeconds", 30)
        grace = grace_period_seconds if grace_period_seconds is not None else default
        grace = max(int(grace or 0), 0)
    namespace_pending = kind.kind == "Namespace" and (row.spec or {}).get("finalizers")

    if not finalizers and grace == 0 and not namespace_pending:
        return _remove(kind, row, actor)

    now = _now()
    row.deletion_timestamp = now + dt.timedelta(seconds=grace)
    row.deletion_grace_period_seconds = grace
    row.finalizers = finalizers
    if kind.kind == "Namespace":
        row.status = {**(row.status or {}), "phase": "Terminating"}
        row.phase = "Terminating"
    row.resource_version = _next_revision()
    row.save()
    result = to_dict(row, kind)
    _log(kind, row, result, Change.Type.MODIFIED, actor)
    return result


def _remove(kind: Kind, row, actor: str) -> Obj:
    row.resource_version = _next_revision()
    result = to_dict(row, kind)
    row.delete()
    _log(kind, row, result, Change.Type.DELETED, actor)
    return result


def remove_now(kind: Kind | str, namespace: str, name: str, *, actor: str = DEFAULT_ACTOR) -> Obj:
    """Remove an object whose deletion is complete (a kubelet finishing a graceful pod delete,
    the garbage collector after its finalizer). Returns the final state."""
    kind = _kind(kind)
    return _transact(lambda: _remove(kind, _lock(kind, namespace, name), actor), False)


# --- Services: cluster IPs and node ports ----------------------------------------------------


def _allocate_service(obj: Obj, current: Obj | None) -> None:
    """Give a Service its cluster IP and node ports, as the apiserver's allocators do."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    service_type = spec.get("type", "ClusterIP")
    old_spec = (current or {}).get("spec") or {}
    if service_type == "ExternalName":
        return
    name = _meta(obj).get("name", "")
    requested = spec.get("clusterIP") or old_spec.get("clusterIP") or ""
    if requested and requested != "None":
        if current is None:
            taken = Service.objects.filter(cluster_ip=requested).exists()
            if taken:
                raise Invalid(
                    "Service",
                    "",
                    name,
                    [
                        FieldError.invalid(
                            "spec.clusterIPs",
                            [requested],
                            f"failed to allocate IP {requested}: provided IP is already allocated",
                        )
                    ],
                )
        spec["clusterIP"] = requested
    elif not requested:
        used = set(Service.objects.exclude(cluster_ip="").values_list("cluster_ip", flat=True))
        spec["clusterIP"] = ipam.allocate_cluster_ip(used)
    if spec.get("clusterIP"):
        spec["clusterIPs"] = [spec["clusterIP"]]
    if service_type in ("NodePort", "LoadBalancer"):
        old_ports = {
            (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
            for p in old_spec.get("ports") or []
            if isinstance(p, dict)
        }
        used_ports: set[int] | None = None
        for port in spec.get("ports") or []:
            if not isinstance(port, dict) or port.get("nodePort"):
                continue
            kept = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
            if kept:
                port["nodePort"] = kept
                continue
            if used_ports is None:
                used_ports = _used_node_ports()
            port["nodePort"] = ipam.allocate_node_port(used_ports)
            used_ports.add(port["nodePort"])


def _drop_type_dependent_fields(old: dict, new: Any) -> None:
    """Clear fields the new Service type no longer uses, when the update left them as they were
    (the apiserver's ``dropTypeDependentFields``): turning a NodePort Service into a ClusterIP
    one drops its node ports instead of refusing them."""
    if not isinstance(new, dict):
        return
    service_type = new.get("type") or "ClusterIP"

    def unchanged(field: str) -> bool:
        return new.get(field) == old.get(field)

    if service_type == "ExternalName" and unchanged("clusterIP") and unchanged("clusterIPs"):
        for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            new.pop(field, None)
    node_ports_used = service_type in ("NodePort", "LoadBalancer")
    if not node_ports_used:
        old_ports = {
            (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
            for p in old.get("ports") or []
            if isinstance(p, dict)
        }
        for port in new.get("ports") or []:
            if (
                isinstance(port, dict)
                and port.get("nodePort") is not None
                and old_ports.get((port.get("port"), port.get("protocol", "TCP")))
                == port["nodePort"]
            ):
                port.pop("nodePort")
        for field in ("externalTrafficPolicy", "healthCheckNodePort"):
            if unchanged(field):
                new.pop(field, None)
    if service_type != "LoadBalancer":
        for field in ("allocateLoadBalancerNodePorts", "loadBalancerClass"):
            if unchanged(field):
                new.pop(field, None)


def _used_node_ports() -> set[int]:
    used: set[int] = set()
    for spec in Service.objects.filter(type__in=["NodePort", "LoadBalancer"]).values_list(
        "spec", flat=True
    ):
        for port in (spec or {}).get("ports") or []:
            if isinstance(port, dict) and isinstance(port.get("nodePort"), int):
                used.add(port["nodePort"])
    return used
