"""Batched writes: many objects through the write path's steps, with a few statements of SQL.

``cluster.store.write`` handles one object per call: a few queries each (lock, revision, save,
log), a few milliseconds. The scheduler binding thousands of pods, or a benchmark creating ten
thousand, wants the same guarantees for a whole list at once:

- ``create_many`` and ``mutate_many`` default and validate every object as ``write`` does it
  (``Invalid`` naming every bad field), check its preconditions (``metadata.resourceVersion``,
  uid), and write nothing for a change that changes nothing; ``bind_pods`` is the
  ``pods/binding`` subresource, which (as in Kubernetes) checks the binding, not the pod;
- the objects that do change take consecutive revisions from **one** increment of the
  cluster-wide counter (by N), so revisions still follow commit order with no gaps;
- the rows of one kind are written with one ``executemany`` INSERT or UPDATE, the change-log
  rows with one more;
- after commit the subscribers hear about every change, in revision order (``notify.publish``).

Everything happens in one transaction (the caller's, when there is one). Errors that concern
one object (``NotFound``, ``AlreadyExists``, ``Conflict``, ``Invalid``, any ``StoreError``
raised by a change function) stand in that object's place in the returned list, and the other
objects are still written; anything else (a bug, a database error) rolls the whole batch back.

Services are not taken: their cluster IPs and node ports are allocated one at a time against
what is stored, so they go through ``write.create``/``write.mutate``.

>>> results = create_many([pod_a, pod_b], actor="bench")  # doctest: +SKIP
>>> [r["metadata"]["resourceVersion"] for r in results]  # doctest: +SKIP
['41', '42']
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, TypeVar

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
from django.utils import timezone

from cluster import clock
from cluster.models import Change, Namespace
from cluster.store import notify, write
from cluster.store.errors import (
    AlreadyExists,
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    StoreError,
)
from cluster.store.jsondata import copy_json
from cluster.store.kinds import Kind
from cluster.store.objects import SERVER_METADATA, fill, format_time, to_dict

Obj = dict[str, Any]
Result = Obj | StoreError
ChangeFn = Callable[[Obj], Obj | None]
T = TypeVar("T")
_Item = tuple[int, Kind, Obj, Any, list[Any]]  # a prepared create (see ``Prepared``)

# Kinds whose writes allocate something against what is stored, one object at a time.
NOT_BATCHED = frozenset({"Service"})
# Columns a write never changes once the row exists.
_FIXED_COLUMNS = frozenset({"id", "uid", "creation_timestamp"})


# --- public API ------------------------------------------------------------------------------


def create_many(objs: Sequence[Obj], *, actor: str = write.DEFAULT_ACTOR) -> list[Result]:
    """Create every object of ``objs`` (any kinds but Service); the stored objects or errors.

    Each object goes through ``write.create``'s steps (server metadata dropped, namespace and
    generateName, initial status, defaults, validation, the namespace must exist and not be
    terminating, the name must be free). The created ones get revisions in the order given.
    The steps that read nothing (defaults, validation) run before the transaction opens: on
    SQLite every writer waits while a transaction is open.
    """
    return create_prepared(prepare_creates(objs), actor=actor)


class Prepared(NamedTuple):
    """Objects made ready for ``create_prepared`` by ``prepare_creates``: each one defaulted,
    validated and turned into its row (``objs``: position, kind, object, row, the row's
    database values), or its error in place (``results``)."""

    objs: list[_Item]
    results: list[Result | None]


def prepare_creates(objs: Sequence[Obj]) -> Prepared:
    """The steps of ``create_many`` that read nothing: defaults, validation, the rows and their
    database values but for the server's fields (revision, creation time), which
    ``create_prepared`` sets. Run them outside any transaction."""
    prepared: list[_Item] = []
    results: list[Result | None] = [None] * len(objs)
    converters: dict[Any, _RowValues] = {}
    for index, obj in enumerate(objs):
        try:
            kind = write.kind_of(obj)
            _check_batched(kind)
            obj = _prepare_create(kind, obj)
        except StoreError as error:
            results[index] = error
            continue
        row = kind.model()
        fill(row, obj, kind)
        row.uid = uuid.uuid4()
        row.generation = 1
        values = converters.get(kind.model)
        if values is None:
            values = converters[kind.model] = _RowValues(_insert_fields(kind.model))
        prepared.append((index, kind, obj, row, values.of(row)))
    return Prepared(prepared, results)


def create_prepared(prepared: Prepared, *, actor: str = write.DEFAULT_ACTOR) -> list[Result]:
    """The rest of ``create_many``, in one transaction (the caller's, when there is one): the
    namespaces and names checked, revisions taken, the rows inserted and logged."""
    results = list(prepared.results)
    with transaction.atomic():
        objs = _check_namespaces(prepared.objs, results)
        objs = _check_names_free(objs, results)
        first = _take_revisions(len(objs))
        now = write._now()
        by_model: dict[Any, list[tuple[Any, list[Any]]]] = {}
        written: list[tuple[int, Kind, Any]] = []
        for offset, (index, kind, _obj, row, values) in enumerate(objs):
            row.creation_timestamp = now
            row.resource_version = first + offset
            by_model.setdefault(kind.model, []).append((row, values))
            written.append((index, kind, row))
        for model, rows in by_model.items():
            fields = _insert_fields(model)
            server = _RowValues([model._meta.get_field(n) for n in _SERVER_COLUMNS])
            where = [fields.index(model._meta.get_field(n)) for n in _SERVER_COLUMNS]
            params = []
            for row, values in rows:
                for position, value in zip(where, server.of(row), strict=True):
                    values[position] = value
                params.append(values)
            try:
                with transaction.atomic():
                    _insert_values(model, fields, params)
            except IntegrityError:
                # Another writer took one of the names since we looked (PostgreSQL only; SQLite
                # writers are serialised): the batch cannot be half-written, so it all fails.
                kind = next(k for _, k, r in written if r.__class__ is model)
                taken = _taken_names(kind, [(r.namespace, r.name) for r, _ in rows])
                raise AlreadyExists(kind.plural, kind.group, taken[0] if taken else "") from None
        _log(written, results, Change.Type.ADDED, actor)
        return results  # type: ignore[return-value]


# The columns of a new row that only the transaction knows.
_SERVER_COLUMNS = ("creation_timestamp", "resource_version")


def mutate_many(
    kind: Kind | str,
    changes: Sequence[tuple[str, str, ChangeFn]],
    *,
    actor: str = write.DEFAULT_ACTOR,
    subresource: str | None = None,
) -> list[Result]:
    """Apply ``change`` to each ``(namespace, name, change)`` of one kind, as ``write.mutate``.

    Each change function receives a copy of the current object (locked for update) and returns
    the new one, or changes it in place and returns None; a ``StoreError`` it raises becomes that
    object's result. ``subresource`` is ``None`` (the main resource: status kept), ``"status"``
    (only status changes) or ``"binding"`` (the scheduler's pods/binding: spec.nodeName and the
    PodScheduled condition). Each key may appear once.
    """
    kind = write._kind(kind)
    _check_batched(kind)
    keys = [(namespace if kind.namespaced else "", name) for namespace, name, _ in changes]
    if len(set(keys)) != len(keys):
        raise ValueError("mutate_many takes each object once")
    with transaction.atomic():
        rows = _lock_many(kind, keys)
        results: list[Result | None] = [None] * len(changes)
        updated: list[tuple[int, Kind, Any]] = []
        removed: list[tuple[int, Any]] = []
        for index, ((namespace, name, change), key) in enumerate(zip(changes, keys, strict=True)):
            row = rows.get(key)
            if row is None:
                results[index] = NotFound(kind.plural, kind.group, name, namespace=namespace)
                continue
            try:
                outcome = _prepare_update(kind, row, change, subresource)
            except StoreError as error:
                results[index] = error
                continue
            if outcome == "unchanged":
                results[index] = to_dict(row, kind)
            elif outcome == "remove":
                removed.append((index, row))
            else:
                updated.append((index, kind, row))
        first = _take_revisions(len(updated))
        for offset, (_, _, row) in enumerate(updated):
            row.resource_version = first + offset
        _update_rows(kind, [row for _, _, row in updated])
        _log(updated, results, Change.Type.MODIFIED, actor)
        for index, row in removed:
            # The last finalizer of an object being deleted is gone: it goes now, as in write.
            results[index] = write._remove(kind, row, actor)
        return results  # type: ignore[return-value]


class Binding(NamedTuple):
    """One ``pods/binding``: put pod ``namespace/name`` on ``node`` (``uid``: a precondition)."""

    namespace: str
    name: str
    node: str
    uid: str = ""
    annotations: dict[str, str] | None = None


def bind_pods(
    bindings: Sequence[Binding], *, actor: str = "default-scheduler", dry_run: bool = False
) -> list[Result]:
    """The ``pods/binding`` subresource for many pods, as the apiserver's BindingREST does it.

    For each pod, under its row lock: NotFound when it is gone; a Conflict when the uid
    precondition fails, when it is being deleted, when it is already assigned to a node or when
    it still has scheduling gates (Kubernetes' messages); otherwise ``spec.nodeName`` is set,
    the binding's annotations are merged, and the ``PodScheduled`` condition becomes ``True``
    with a new ``lastTransitionTime`` (``UpdatePodCondition``: replaced in place, or appended).

    Like Kubernetes (a ``GuaranteedUpdate`` outside the pod strategy), the pod is not validated
    again: a binding changes nothing validation looks at but the node name, which is not checked
    against the nodes either. Revisions, change log and notifications are those of every write.
    ``dry_run`` checks everything and answers the pods as they would be, writing nothing.
    """
    kind = write._kind("Pod")
    keys = [(b.namespace, b.name) for b in bindings]
    if len(set(keys)) != len(keys):
        raise ValueError("bind_pods takes each pod once")
    with transaction.atomic():
        rows = _lock_many(kind, keys)
        now = format_time(clock.now_datetime())
        results: list[Result | None] = [None] * len(bindings)
        updated: list[tuple[int, Kind, Any]] = []
        for index, binding in enumerate(bindings):
            row = rows.get((binding.namespace, binding.name))
            if row is None:
                results[index] = NotFound(
                    kind.plural, kind.group, binding.name, namespace=binding.namespace
                )
                continue
            problem = _binding_problem(row, binding)
            if problem is not None:
                results[index] = problem
                continue
            row.spec = {**(row.spec or {}), "nodeName": binding.node}
            if binding.annotations:
                row.annotations = {**(row.annotations or {}), **binding.annotations}
            row.status = _pod_scheduled(row.status or {}, now)
            # Of the projected columns a binding changes only the node's (spec.nodeName); the
            # others come from fields it leaves alone (phase, readiness, images, requests, IP).
            row.node_name = binding.node
            updated.append((index, kind, row))
        if dry_run:
            for index, _, row in updated:
                results[index] = to_dict(row, kind)
            return results  # type: ignore[return-value]
        first = _take_revisions(len(updated))
        for offset, (_, _, row) in enumerate(updated):
            row.resource_version = first + offset
        columns = ["spec", "status", "annotations", "resource_version", "node_name"]
        _update_rows(kind, [row for _, _, row in updated], columns)
        _log(updated, results, Change.Type.MODIFIED, actor)
        return results  # type: ignore[return-value]


def _binding_problem(row, binding: Binding) -> StoreError | None:
    """Why ``binding`` cannot be applied to the pod ``row`` (None when it can)."""
    if binding.uid and str(binding.uid) != str(row.uid):
        return Conflict(
            "pods",
            "",
            row.name,
            f"Precondition failed: UID in precondition: {binding.uid}, "
            f"UID in object meta: {row.uid}",
        )
    if row.deletion_timestamp is not None:
        detail = f"pod {row.name} is being deleted, cannot be assigned to a host"
    elif (row.spec or {}).get("nodeName"):
        detail = f'pod {row.name} is already assigned to node "{row.spec["nodeName"]}"'
    elif (row.spec or {}).get("schedulingGates"):
        detail = f"pod {row.name} has non-empty .spec.schedulingGates"
    else:
        return None
    return Conflict("pods/binding", "", row.name, detail)


def _pod_scheduled(status: Obj, now: str) -> Obj:
    """``status`` with PodScheduled=True, as ``UpdatePodCondition`` sets it.

    The new condition replaces an existing PodScheduled one where it stands (its reason and
    message go; its ``lastTransitionTime`` stays when it was already True), or is appended.
    """
    condition = {"type": "PodScheduled", "status": "True", "lastProbeTime": None}
    conditions = list(status.get("conditions") or [])
    for position, old in enumerate(conditions):
        if isinstance(old, dict) and old.get("type") == "PodScheduled":
            same = old.get("status") == "True" and old.get("lastTransitionTime")
            condition["lastTransitionTime"] = old["lastTransitionTime"] if same else now
            conditions[position] = condition
            break
    else:
        condition["lastTransitionTime"] = now
        conditions.append(condition)
    return {**status, "conditions": conditions}


def errors_of(results: Iterable[Result]) -> list[StoreError]:
    """The errors among ``results`` (an empty list when every object was written)."""
    return [r for r in results if isinstance(r, StoreError)]


# --- create ----------------------------------------------------------------------------------


def _check_batched(kind: Kind) -> None:
    if kind.kind in NOT_BATCHED:
        raise ValueError(
            f"{kind.plural} allocate addresses one at a time: write them with cluster.store.write"
        )


def _prepare_create(kind: Kind, obj: Obj) -> Obj:
    """``write._create`` up to the save: what the object will be (defaulted and valid).

    The caller's object is not changed: the top level and metadata are copied here, and
    ``apply_defaults`` returns a deep copy.
    """
    obj = dict(obj)
    meta = obj.get("metadata", {})
    if not isinstance(meta, dict):
        raise Invalid(
            kind.kind, kind.group, "", [FieldError.invalid("metadata", meta, "must be an object")]
        )
    meta = obj["metadata"] = dict(meta)
    for key in SERVER_METADATA:
        meta.pop(key, None)
    if kind.namespaced:
        meta["namespace"] = meta.get("namespace") or "default"
    else:
        meta.pop("namespace", None)
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = write._generate_name(str(meta["generateName"]))
    initial = write._initial_status(kind, obj)
    if initial is not None and kind.status_subresource:
        obj["status"] = initial
    return write._prepared(kind, obj)


def _check_namespaces(prepared: list[_Item], results: list[Result | None]) -> list[_Item]:
    """Drop (with the write path's errors) objects whose namespace is missing or terminating."""
    wanted = {item[2]["metadata"]["namespace"] for item in prepared if item[1].namespaced}
    found = dict(
        Namespace.objects.filter(name__in=wanted).values_list("name", "deletion_timestamp")
    )
    kept = []
    for item in prepared:
        index, kind, obj = item[:3]
        namespace = obj["metadata"].get("namespace", "")
        if kind.namespaced and namespace not in found:
            results[index] = NotFound("namespaces", "", namespace)
        elif kind.namespaced and found[namespace] is not None:
            results[index] = Forbidden(
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
                details={"name": namespace, "kind": "namespaces"},
            )
        else:
            kept.append(item)
    return kept


def _check_names_free(prepared: list[_Item], results: list[Result | None]) -> list[_Item]:
    """Drop objects whose name is taken, in the store or earlier in the batch (AlreadyExists)."""
    by_kind: dict[str, tuple[Kind, list[tuple[str, str]]]] = {}
    for item in prepared:
        kind, obj = item[1], item[2]
        by_kind.setdefault(kind.kind, (kind, []))[1].append(_key(kind, obj))
    taken = {(kind.kind, key) for kind, keys in by_kind.values() for key in _existing(kind, keys)}
    kept = []
    for item in prepared:
        index, kind, obj = item[:3]
        key = (kind.kind, _key(kind, obj))
        if key in taken:
            results[index] = AlreadyExists(kind.plural, kind.group, obj["metadata"]["name"])
            continue
        taken.add(key)
        kept.append(item)
    return kept


def _key(kind: Kind, obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return (meta.get("namespace", "") if kind.namespaced else "", meta["name"])


def _existing(kind: Kind, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of ``keys`` (namespace, name) exist, one query per namespace."""
    by_namespace: dict[str, list[str]] = {}
    for namespace, name in keys:
        by_namespace.setdefault(namespace, []).append(name)
    found: set[tuple[str, str]] = set()
    for namespace, names in by_namespace.items():
        for chunk in chunks(names):
            found.update(
                kind.model.objects.filter(namespace=namespace, name__in=chunk).values_list(
                    "namespace", "name"
                )
            )
    return found


def _taken_names(kind: Kind, keys: list[tuple[str, str]]) -> list[str]:
    return sorted(name for _, name in _existing(kind, keys))


# --- update ----------------------------------------------------------------------------------


def _lock_many(kind: Kind, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The rows of ``keys``, locked for update (``SELECT ... FOR UPDATE``), by key."""
    by_namespace: dict[str, list[str]] = {}
    for namespace, name in keys:
        by_namespace.setdefault(namespace, []).append(name)
    rows = {}
    for namespace, names in sorted(by_namespace.items()):
        for chunk in chunks(names):
            queryset = kind.model.objects.select_for_update().filter(
                namespace=namespace, name__in=chunk
            )
            for row in queryset.order_by("pk"):  # one lock order for every writer
                rows[(row.namespace, row.name)] = row
    return rows


def _prepare_update(kind: Kind, row, change: ChangeFn, subresource: str | None) -> str:
    """``write.mutate`` up to the save, on ``row``: "unchanged", "remove" or "update".

    Runs ``change`` on a copy of the current object and the steps of ``write._apply_update``:
    preconditions, what the subresource may touch, defaults, validation, the no-op check, the
    generation. For "update" the row holds the new content (its revision is set by the caller).
    """
    current = to_dict(row, kind, copy_content=False)  # fill gives the row new content
    draft = copy_json(current)
    proposed = change(draft)
    return write.prepare_update(
        kind, row, current, draft if proposed is None else proposed, subresource
    )


def _update_rows(kind: Kind, rows: list[Any], columns: Sequence[str] | None = None) -> None:
    """Save ``rows`` with one ``executemany`` UPDATE of ``columns`` (by default every column a
    write may change).

    Plain SQL rather than ``bulk_update``, whose ``CASE WHEN`` per column and row costs more to
    build than the update itself; the values are prepared by the fields, as ``save()`` does.
    """
    if not rows:
        return
    model = kind.model
    if columns is None:
        fields = [
            f
            for f in model._meta.concrete_fields
            if f.name not in _FIXED_COLUMNS and not f.primary_key
        ]
    else:
        fields = [model._meta.get_field(name) for name in columns]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )
    values = _RowValues([*fields, model._meta.pk])
    with connection.cursor() as cursor:
        cursor.executemany(sql, [values.of(row) for row in rows])


def _insert_fields(model) -> list[Any]:
    """The columns an INSERT of ``model`` writes: all but an auto-increment key."""
    opts = model._meta
    return [f for f in opts.concrete_fields if f is not opts.auto_field]


def _insert_values(model, fields: list[Any], params: list[Sequence[Any]]) -> None:
    """One ``executemany`` INSERT of ``params``, database values in the order of ``fields`` (an
    auto-increment key is left to the database: no caller needs it back). ``bulk_create`` would
    cut the rows into statements of at most 999 parameters on SQLite and compile each one,
    which costs more than the insert."""
    with connection.cursor() as cursor:
        cursor.executemany(_insert_sql(model, fields), params)


def _insert_sql(model, fields: list[Any]) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"


def row_values(model, rows: Sequence[Any]) -> list[list[Any]]:
    """The database values of new ``rows`` of ``model`` (every column but an auto-increment
    key), prepared as ``save()`` prepares them: made before a transaction opens, written inside
    by ``upsert_values``."""
    values = _RowValues(_insert_fields(model))
    return [values.of(row) for row in rows]


def upsert_values(model, params: list[list[Any]], *, unique: str) -> None:
    """Insert ``params`` (from ``row_values``) with one ``executemany``; a row whose ``unique``
    column is taken replaces the stored one's other columns (``ON CONFLICT ... DO UPDATE``,
    which SQLite and PostgreSQL both speak)."""
    if not params:
        return
    fields = _insert_fields(model)
    quote = connection.ops.quote_name
    key = model._meta.get_field(unique).column
    updates = ", ".join(
        f"{quote(f.column)} = excluded.{quote(f.column)}" for f in fields if f.column != key
    )
    sql = f"{_insert_sql(model, fields)} ON CONFLICT ({quote(key)}) DO UPDATE SET {updates}"
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


# Fields whose database value is the Python value the write path gives them (a str, an int, a
# bool, None): ``get_db_prep_save`` would only pass it through, a few calls per field and row.
_PLAIN_FIELDS = frozenset(
    {
        models.CharField,
        models.TextField,
        models.BooleanField,
        models.IntegerField,
        models.BigIntegerField,
        models.SmallIntegerField,
        models.PositiveIntegerField,
        models.PositiveSmallIntegerField,
        models.PositiveBigIntegerField,
    }
)


class _RowValues:
    """The database values of a row's ``fields``, as ``save()`` prepares them, for many rows.

    The attributes are read at once (``attrgetter``); only the fields that convert (uuids,
    datetimes, JSON) go through ``get_db_prep_save``. ``of(row)`` takes a model instance,
    ``convert(values)`` a sequence of Python values already in the order of ``fields``.
    """

    __slots__ = ("_get", "_single", "_conversions", "_connection")

    def __init__(self, fields: Sequence[Any]):
        self._get = operator.attrgetter(*(f.attname for f in fields))
        self._single = len(fields) == 1
        self._connection = conn = connections[DEFAULT_DB_ALIAS]  # this thread's, not the proxy
        self._conversions = tuple(
            (position, _converter(f, conn))
            for position, f in enumerate(fields)
            if type(f) not in _PLAIN_FIELDS
        )

    def of(self, row) -> list[Any]:
        found = self._get(row)
        return self.convert((found,) if self._single else found)

    def convert(self, values: Sequence[Any]) -> list[Any]:
        values = list(values)
        conn = self._connection
        for position, prepare in self._conversions:
            values[position] = prepare(values[position], conn)
        return values


def _converter(field, conn) -> Callable[[Any, Any], Any]:
    """``field.get_db_prep_save``, with a shortcut for the values the write path gives the
    most common converting fields: a ``UUID`` (its hex on a database without a uuid type) and
    an aware ``datetime`` (what ``get_db_prep_save`` ends with: the backend's adaptation,
    remembered for the next row, which in a batch is mostly the same moment)."""
    prepare = field.get_db_prep_save
    if type(field) is models.UUIDField:
        native = conn.features.has_native_uuid_field

        def uuid_value(value, conn):
            if type(value) is uuid.UUID:
                return value if native else value.hex
            return prepare(value, conn)

        return uuid_value
    if type(field) is models.DateTimeField:
        adapt = conn.ops.adapt_datetimefield_value
        last: list[Any] = [None, None]  # a batch's rows mostly share one moment: the last one

        def datetime_value(value, conn):
            if value is last[0]:
                return last[1]
            if type(value) is dt.datetime and value.tzinfo is not None:
                last[:] = value, adapt(value)
                return last[1]
            return prepare(value, conn)

        return datetime_value
    return prepare


# --- revisions, the change log, notifications ------------------------------------------------


def _take_revisions(count: int) -> int:
    """Take ``count`` consecutive revisions in one statement; return the first.

    The counter goes from ``v`` to ``v + count`` and the batch uses ``v + 1 .. v + count``: e.g.
    at 40, taking 3 stores 43 and returns 41 (41, 42, 43). The row stays locked until commit,
    as with ``write._next_revision``, so revisions follow commit order with no gaps.
    """
    if count <= 0:
        return 0
    table = connection.ops.quote_name("cluster_revision")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, value) VALUES (1, %s) "
            f"ON CONFLICT (id) DO UPDATE SET value = {table}.value + %s RETURNING value",
            [count, count],
        )
        last = cursor.fetchone()[0]
    return last - count + 1


def _log(
    written: list[tuple[int, Kind, Any]],
    results: list[Result | None],
    change_type: str,
    actor: str,
) -> None:
    """Fill ``results`` with the stored objects, append their change-log rows, and publish the
    changes after commit, in revision order."""
    if not written:
        return
    now = timezone.now()
    actor = actor or ""
    log_rows, changed = [], []
    for index, kind, row in written:
        obj = to_dict(row, kind, copy_content=False)  # the row's content was just made for it
        results[index] = obj
        revision, namespace, name, uid = row.resource_version, row.namespace, row.name, row.uid
        log_rows.append(  # in the order of _CHANGE_COLUMNS
            (revision, kind.kind, namespace, name, uid, change_type, obj, actor, now)
        )
        changed.append(
            notify.Changed(
                revision=revision,
                type=change_type,
                kind=kind.kind,
                namespace=namespace,
                name=name,
                uid=str(uid),
                actor=actor,
                object=obj,
            )
        )
    fields = _change_fields()
    values = _RowValues(fields)
    _insert_values(Change, fields, [values.convert(row) for row in log_rows])
    transaction.on_commit(lambda: _publish(changed))


# The change log's columns, in the order ``_log`` gives the values (every column: a test says so).
_CHANGE_COLUMNS = (
    "revision",
    "kind",
    "namespace",
    "name",
    "uid",
    "type",
    "object",
    "actor",
    "created_at",
)


@functools.cache
def _change_fields() -> list[Any]:
    return [Change._meta.get_field(name) for name in _CHANGE_COLUMNS]


def _publish(changed: list[notify.Changed]) -> None:
    notify.publish_many(changed)


def chunks(items: Sequence[T], size: int = 500) -> Iterable[Sequence[T]]:
    """SQLite allows a limited number of parameters per statement: ``IN`` lists go in chunks."""
    for first in range(0, len(items), size):
        yield items[first : first + size]
