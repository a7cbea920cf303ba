"""Reads: get, list with label and field selectors and pagination, and the change log.

Lists are ordered by (namespace, name), like etcd's key order. Label selectors' positive terms
(``=``, ``in``, exists) become SQL over the labels JSON; negative terms (``!=``, ``notin``,
``!key``) match objects *without* the key too, so they are checked in Python on the rows SQL
returned. Field selectors use the kind's indexed columns.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import uuid
from collections import namedtuple
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connections
from django.db.models import CharField, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from cluster.models import Change, Revision
from cluster.store import kinds
from cluster.store.errors import BadRequest, Gone, NotFound
from cluster.store.kinds import Kind, get_path
from cluster.store.objects import to_dict
from cluster.store.selectors import (
    FieldRequirement,
    LabelSelector,
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)

Obj = dict[str, Any]


@dataclass
class ListResult:
    items: list[Obj]
    resource_version: int
    continue_token: str = ""
    remaining: int | None = None


def current_revision() -> int:
    value = Revision.objects.filter(pk=1).values_list("value", flat=True).first()
    return value or 0


def get(kind: Kind | str, namespace: str, name: str) -> Obj:
    kind = _kind(kind)
    return to_dict(get_row(kind, namespace, name), kind)


def get_row(kind: Kind | str, namespace: str, name: str):
    kind = _kind(kind)
    try:
        return kind.model.objects.get(namespace=namespace if kind.namespaced else "", name=name)
    except kind.model.DoesNotExist:
        raise NotFound(kind.plural, kind.group, name, namespace=namespace) from None


def rows(
    kind: Kind | str,
    namespace: str | None = None,
    label_selector: str | LabelSelector | None = None,
    field_selector: str | list[FieldRequirement] | None = None,
) -> Iterator:
    """Rows matching the selectors, in key order. ``namespace=None`` means all namespaces."""
    kind = _kind(kind)
    labels = _label_selector(label_selector)
    fields = _field_selector(field_selector)
    queryset, python_fields = _filtered(kind, namespace, labels, fields)
    for row in queryset.iterator(chunk_size=2000):
        if _python_match(kind, row, labels, python_fields):
            yield row


def list_objects(
    kind: Kind | str,
    namespace: str | None = None,
    label_selector: str | LabelSelector | None = None,
    field_selector: str | list[FieldRequirement] | None = None,
    limit: int | None = None,
    continue_token: str | None = None,
) -> ListResult:
    """A list as the API serves it, with the revision to start a watch from.

    The revision is read *before* the rows, so a watch started from it may replay a change the
    list already showed, but never misses one.
    """
    kind = _kind(kind)
    revision = current_revision()
    labels = _label_selector(label_selector)
    fields = _field_selector(field_selector)
    queryset, python_fields = _filtered(kind, namespace, labels, fields)
    if continue_token:
        revision, (last_ns, last_name) = _decode_continue(continue_token)
        queryset = queryset.filter(
            Q(namespace__gt=last_ns) | Q(namespace=last_ns, name__gt=last_name)
        )
    if limit and not python_fields and (labels is None or labels.is_empty()):
        queryset = queryset[: limit + 1]  # nothing left to check in Python: read no further
    items: list[Obj] = []
    last = None
    more = False
    for row in _object_rows(queryset):
        if not _python_match(kind, row, labels, python_fields):
            continue
        if limit and len(items) >= limit:
            more = True
            break
        items.append(to_dict(row, kind, copy_content=False))
        last = row
    token = _encode_continue(revision, last) if more and last is not None else ""
    return ListResult(items=items, resource_version=revision, continue_token=token)


# --- lists without model instances ------------------------------------------------------------

# The columns ``to_dict`` reads: a list loads only these, as plain tuples, and decodes the JSON
# columns itself (a model instance per row and Django's JSONField decoding were half the time
# of a page of 500 pods).
ObjectRow = namedtuple(
    "ObjectRow",
    [
        "name",
        "namespace",
        "uid",
        "resource_version",
        "generation",
        "creation_timestamp",
        "deletion_timestamp",
        "deletion_grace_period_seconds",
        "labels",
        "annotations",
        "owner_references",
        "finalizers",
        "extra_metadata",
        "spec",
        "body",
        "status",
    ],
)


# orjson reads integers beyond 64 bits as floats: text with a run of 19 digits (the longest
# integer it reads exactly has 20; -10**18 has 19) goes to ``json``, which keeps them exact.
_LONG_NUMBER = re.compile(r"\d{19}")


def _json_value(value: Any) -> Any:
    """A JSON column as the database driver returns it (text, or already decoded). orjson
    decodes it (several times faster than ``json``); what orjson would read otherwise (long
    integers) or refuses (NaN, lone surrogates) is read by ``json``, as Django would."""
    if not isinstance(value, str):
        return value
    if _LONG_NUMBER.search(value) is None:
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            pass
    return json.loads(value)


def _time_value(value: Any) -> dt.datetime | None:
    """A datetime column, aware in UTC: SQLite's driver gives the naive UTC datetime (or the
    text) Django stored, other databases an aware datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _uuid_value(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _object_rows(queryset: QuerySet) -> Iterator[ObjectRow]:
    """The queryset's rows as :class:`ObjectRow` tuples, read in chunks from a cursor."""
    query = queryset.values_list(*ObjectRow._fields)
    sql, params = query.query.get_compiler(using=query.db).as_sql()
    with connections[query.db].cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(500):
            for (
                name,
                namespace,
                uid,
                resource_version,
                generation,
                created,
                deleted,
                grace,
                *content,
            ) in chunk:
                yield ObjectRow(
                    name,
                    namespace,
                    _uuid_value(uid),
                    resource_version,
                    generation,
                    _time_value(created),
                    _time_value(deleted),
                    grace,
                    *map(_json_value, content),
                )


def changes_since(
    revision: int, kind_names: Iterable[str] | None = None, limit: int | None = None
) -> list[Change]:
    """Change-log rows after ``revision``, oldest first (what a watch replays).

    Raises Gone (HTTP 410 Expired) when the log no longer reaches back that far.
    """
    oldest = Change.objects.order_by("revision").values_list("revision", flat=True).first()
    if oldest is not None and revision and revision < oldest - 1:
        raise Gone(f"too old resource version: {revision} ({oldest - 1})")
    queryset = Change.objects.filter(revision__gt=revision).order_by("revision")
    if kind_names is not None:
        queryset = queryset.filter(kind__in=list(kind_names))
    if limit:
        queryset = queryset[:limit]
    return list(queryset)


# --- helpers ---------------------------------------------------------------------------------


def _kind(kind: Kind | str) -> Kind:
    return kind if isinstance(kind, Kind) else kinds.by_name(kind)


def _label_selector(selector: str | LabelSelector | None) -> LabelSelector | None:
    if selector is None or isinstance(selector, LabelSelector):
        return selector
    if not selector.strip():
        return None
    try:
        return parse_label_selector(selector)
    except SelectorError as error:
        raise BadRequest(f"unable to parse requirement: {error}") from None


def _field_selector(
    selector: str | list[FieldRequirement] | None,
) -> list[FieldRequirement]:
    if selector is None:
        return []
    if isinstance(selector, list):
        return selector
    try:
        return parse_field_selector(selector)
    except SelectorError as error:
        raise BadRequest(f"invalid field selector: {error}") from None


def _filtered(
    kind: Kind,
    namespace: str | None,
    labels: LabelSelector | None,
    fields: list[FieldRequirement],
) -> tuple[QuerySet, list[FieldRequirement]]:
    queryset = kind.model.objects.all()
    if kind.namespaced and namespace:
        queryset = queryset.filter(namespace=namespace)
    for index, requirement in enumerate(labels.requirements if labels else ()):
        if requirement.operator in ("=", "==", "in"):
            alias = f"_label{index}"
            text = Cast(KeyTextTransform(requirement.key, "labels"), CharField())
            queryset = queryset.alias(**{alias: text})
            queryset = queryset.filter(**{f"{alias}__in": list(requirement.values)})
        elif requirement.operator == "exists":
            queryset = queryset.filter(labels__has_key=requirement.key)
    python_fields: list[FieldRequirement] = []
    selectable = kind.field_selectors
    for requirement in fields:
        if requirement.field not in selectable:
            raise BadRequest(f"field label not supported: {requirement.field}")
        column = selectable[requirement.field]
        if not column:
            python_fields.append(requirement)
            continue
        value = _column_value(kind, column, requirement.value)
        if requirement.op == "=":
            queryset = queryset.filter(**{column: value})
        else:
            queryset = queryset.exclude(**{column: value})
    return queryset.order_by("namespace", "name"), python_fields


def _column_value(kind: Kind, column: str, value: str) -> Any:
    field = kind.model._meta.get_field(column)
    if field.get_internal_type() == "BooleanField":
        return value.lower() == "true"
    return value


def _python_match(
    kind: Kind, row, labels: LabelSelector | None, fields: list[FieldRequirement]
) -> bool:
    if labels is not None and not labels.matches(row.labels or {}):
        return False
    if fields:
        obj = to_dict(row, kind)
        for requirement in fields:
            actual = get_path(obj, requirement.field)
            actual = "" if actual is None else str(actual)
            if (actual == requirement.value) != (requirement.op == "="):
                return False
    return True


def _encode_continue(revision: int, row) -> str:
    raw = json.dumps({"rv": revision, "start": [row.namespace, row.name]})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        namespace, name = data["start"]
        return int(data["rv"]), (str(namespace), str(name))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise BadRequest("continue key is not valid: the token could not be decoded") from None
