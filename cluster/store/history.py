"""The cluster at an earlier revision, rebuilt from the change log (time travel).

Every write appends a ``Change`` row holding the whole object as written, so the log is every
state the cluster was ever in. The state at revision ``R`` is, for each object (kind, namespace,
name), its latest change with ``revision <= R``, unless that change is a deletion:

    log: 5 ADDED Pod web-1, 8 MODIFIED Pod web-1, 12 DELETED Pod web-1, 15 ADDED Pod web-1 (new uid)
    state_at(log, 9)  -> web-1 as written at 8
    state_at(log, 13) -> no web-1
    state_at(log, 15) -> web-1 as written at 15, with its new uid

:func:`state_at` is that rule as a pure function over any iterable of log entries (tested with
tables of cases); :func:`objects_at` asks the database the same question with one query (the
latest revision per object, then those rows), which is what pages use; :func:`advance` moves a
known state forward through the entries after it (a replay's next step). The log is never
compacted today; :func:`first_revision` is where it starts, should it ever be.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db.models import Max, Q
from django.db.models.fields.json import KeyTextTransform, KeyTransform

from cluster.models import Change

Obj = dict[str, Any]
Key = tuple[str, str, str]  # (kind, namespace, name)


class Entry(Protocol):
    """What :func:`state_at` reads from a log row (``Change`` has these fields)."""

    revision: int
    kind: str
    namespace: str
    name: str
    type: str
    object: Obj


@dataclass(frozen=True)
class LogEntry:
    """A log row outside the database (tests, replays)."""

    revision: int
    kind: str
    namespace: str
    name: str
    type: str
    object: Obj
    actor: str = ""


def state_at(log: Iterable[Entry], revision: int) -> dict[Key, Obj]:
    """Every object that existed at ``revision``, as last written then (pure).

    The log may come in any order; entries after ``revision`` are ignored.
    """
    latest: dict[Key, Entry] = {}
    for entry in log:
        if entry.revision > revision:
            continue
        key = (entry.kind, entry.namespace, entry.name)
        seen = latest.get(key)
        if seen is None or entry.revision > seen.revision:
            latest[key] = entry
    return {key: entry.object for key, entry in latest.items() if entry.type != "DELETED"}


def advance(state: dict[Key, Obj], log: Iterable[Entry]) -> set[Key]:
    """Move ``state`` (the objects at some revision ``A``, as :func:`state_at` gives them)
    forward through ``log``, the entries after ``A`` in revision order; returns the keys that
    changed. ``state_at(log, A)`` advanced by the entries in ``(A, B]`` equals
    ``state_at(log, B)``: a replay costs the changes it steps over, not the whole cluster."""
    changed = set()
    for entry in log:
        key = (entry.kind, entry.namespace, entry.name)
        if entry.type == "DELETED":
            state.pop(key, None)
        else:
            state[key] = entry.object
        changed.add(key)
    return changed


def entries_between(after: int, upto: int, kinds: Sequence[str], limit: int) -> list[LogEntry]:
    """The log entries of ``kinds`` in ``(after, upto]``, in revision order, at most ``limit + 1``
    of them (so a caller can tell "more than ``limit``")."""
    rows = (
        Change.objects.filter(revision__gt=after, revision__lte=upto, kind__in=list(kinds))
        .order_by("revision")
        .values_list("revision", "kind", "namespace", "name", "type", "object", "actor")
    )
    return [LogEntry(*row) for row in rows[: limit + 1]]


def objects_at(revision: int, kinds: Sequence[str], namespace: str | None = None) -> dict[Key, Obj]:
    """What :func:`state_at` gives for ``kinds`` (and ``namespace``, if given), from the database.

    One query: the newest revision per object at or before ``revision`` (a grouped subquery over
    the ``(kind, revision)`` index), joined back to those rows, deletions left out.
    """
    scope = Q(revision__lte=revision, kind__in=list(kinds))
    if namespace is not None:
        scope &= Q(namespace=namespace)
    newest = (
        Change.objects.filter(scope)
        .values("kind", "namespace", "name")
        .annotate(last=Max("revision"))
        .values("last")
    )
    rows = (
        Change.objects.filter(revision__in=newest)
        .exclude(type=Change.Type.DELETED)
        .values_list("kind", "namespace", "name", "object")
    )
    return {(kind, ns, name): obj for kind, ns, name, obj in rows.iterator()}


def first_revision() -> int:
    """The oldest revision the log still holds (0 for an empty log)."""
    return Change.objects.order_by("revision").values_list("revision", flat=True).first() or 0


def neighbours(revision: int, steps: int = 1, quiet: Iterable[str] = ("Event",)) -> tuple[int, int]:
    """The revisions ``steps`` changes before and after ``revision``, skipping kinds in ``quiet``
    (Events record what happened; they change nothing the Architecture view draws). 0 where
    there is none."""
    moving = Change.objects.exclude(kind__in=list(quiet))
    before = (
        moving.filter(revision__lt=revision)
        .order_by("-revision")
        .values_list("revision", flat=True)[steps - 1 : steps]
    )
    after = (
        moving.filter(revision__gt=revision)
        .order_by("revision")
        .values_list("revision", flat=True)[steps - 1 : steps]
    )
    return (before[0] if before else 0, after[0] if after else 0)


# --- when a revision happened, in simulated time ------------------------------------------


def simulated_time_at(revision: int) -> str:
    """The simulated time the cluster had reached at ``revision``, as far as the log tells: the
    later of the newest added object's ``creationTimestamp`` and the newest Event's
    ``lastTimestamp`` at or before it ("" when the log says neither). Two one-row queries.

    The log stores wall time per write, not simulated time (the clock's speed and pauses are not
    logged), so this is "at least this late", exact to the last object added or event seen."""
    upto = Change.objects.filter(revision__lte=revision).order_by("-revision")
    created = KeyTextTransform("creationTimestamp", KeyTransform("metadata", "object"))
    added = (
        upto.filter(type=Change.Type.ADDED)
        .annotate(at=created)
        .values_list("type", "kind", "at")[:1]
    )
    seen = upto.filter(kind="Event").annotate(at=KeyTextTransform("lastTimestamp", "object"))
    times = [at for _t, _k, at in added] + list(seen.values_list("at", flat=True)[:1])
    return max((str(t) for t in times if t), default="")
