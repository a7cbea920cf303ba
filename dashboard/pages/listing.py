"""What the list pages (Workloads, Networking, Config & storage, Events) share.

- the page's query: a namespace filter, a page number, and the few other values each page reads,
  validated (invalid values are dropped, never echoed);
- pagination (``Pager``): one ``count()`` and one sliced query per list;
- pods summarised by coarse state per owner, in one grouped query (``pod_counts``);
- links to the Object detail pages (``/objects/<kind-plural>/<namespace>/<name>``);
- the live part: which sections a batch of notices makes stale, rendered with the same
  partials as the page (``render_sections``; ``render_update`` does it all for a batch).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.template.loader import render_to_string

from cluster import access
from cluster.models import Pod
from cluster.store import kinds
from cluster.store.read import current_revision
from dashboard import broadcast
from dashboard.pages import states

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
MAX_PAGE = 100_000


def clean_namespace(value: Any) -> str:
    value = str(value or "")
    return value if DNS_LABEL.match(value) else ""


def clean_name(value: Any) -> str:
    value = str(value or "")
    return value if DNS_SUBDOMAIN.match(value) else ""


def clean_page(value: Any) -> int:
    value = str(value or "1")
    return max(1, min(int(value), MAX_PAGE)) if value.isdigit() else 1


def query_string(params: Mapping[str, Any]) -> str:
    """``?a=1&b=2`` without the empty values; ``"?"`` when nothing is left (a link to the page
    itself without a query)."""
    kept = {
        k: str(v)
        for k, v in params.items()
        if v not in ("", None) and not (k.endswith("page") and str(v) == "1")
    }
    return "?" + urlencode(kept) if kept else "?"


def stream_url(view: str, params: Mapping[str, Any], since: int) -> str:
    """The page's websocket: ``/ws/<view>`` with the page's query and its revision."""
    query = query_string(params).removeprefix("?")
    return f"/ws/{view}?" + (query + "&" if query else "") + urlencode({"since": str(since)})


def object_url(kind: str, namespace: str, name: str) -> str:
    """The Object detail page: ``/objects/deployments/shop/web``, ``/objects/nodes/worker-1``."""
    plural = kinds.by_kind(kind).plural
    return f"/objects/{plural}/{namespace}/{name}" if namespace else f"/objects/{plural}/{name}"


def may_view(user, read: tuple[str, str], namespace: str) -> bool:
    """Whether ``user`` may read a list page: ``list`` on its resource in the page's namespace
    (all namespaces: a cluster-wide role)."""
    resource, group = read
    return access.allows(user, "list", resource, namespace or None, group)


def is_current(since: int) -> bool:
    """Whether a page rendered at revision ``since`` is still current (nothing written since)."""
    return since > 0 and since == current_revision()


# --- pagination -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pager:
    """Page ``page`` of ``total`` items, ``per_page`` a page: page 3 of 95 items at 20 a page
    shows items 41-60 (``first = (3 - 1) * 20 + 1``), and there are ``ceil(95 / 20) = 5`` pages."""

    page: int
    per_page: int
    total: int
    params: tuple[tuple[str, str], ...] = ()  # the rest of the page's query, kept on links
    param: str = "page"

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def current(self) -> int:
        return min(self.page, self.pages)

    @property
    def offset(self) -> int:
        return (self.current - 1) * self.per_page

    @property
    def first(self) -> int:
        return self.offset + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.offset + self.per_page)

    def _query(self, page: int) -> str:
        return query_string({**dict(self.params), self.param: page})

    @property
    def previous_query(self) -> str:
        return self._query(self.current - 1) if self.current > 1 else ""

    @property
    def next_query(self) -> str:
        return self._query(self.current + 1) if self.current < self.pages else ""


def paginate(queryset, page: int, per_page: int, **pager: Any) -> tuple[list, Pager]:
    total = queryset.count()
    info = Pager(page, per_page, total, **pager)
    return list(queryset[info.offset : info.offset + per_page]), info


# --- pods by owner ----------------------------------------------------------------------------


def pod_counts(owner_uids: Iterable[Any]) -> dict[str, dict[str, int]]:
    """Per owner uid (as a string), its pods by coarse state key: one grouped query.

    A Pending pod already bound to a node counts as starting, an unbound one as pending; a pod
    being deleted counts as terminating (``states.coarse_pod_state``).
    """
    uids = list(owner_uids)
    if not uids:
        return {}
    alive = Q(deletion_timestamp__isnull=True)
    rows = (
        Pod.objects.filter(controller_uid__in=uids)
        .values("controller_uid", "phase", "ready")
        .annotate(
            n=Count("pk"),
            deleting=Count("pk", filter=~alive),
            unbound=Count("pk", filter=alive & Q(node_name="")),
        )
    )
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        per_owner = counts.setdefault(str(row["controller_uid"]), {})
        bound = row["n"] - row["deleting"] - row["unbound"]
        for terminating, is_bound, n in (
            (True, True, row["deleting"]),
            (False, True, bound),
            (False, False, row["unbound"]),
        ):
            if n:
                key = states.coarse_pod_state(row["phase"], row["ready"], terminating, is_bound).key
                per_owner[key] = per_owner.get(key, 0) + n
    return counts


# --- the live part ----------------------------------------------------------------------------


def changed_kinds(messages: Sequence[Mapping[str, Any]]) -> tuple[set[str], bool]:
    """The kinds a batch of received messages touches, and whether it overflowed."""
    notices, _nodes, _revision, overflow = broadcast.decode(messages)
    return {n.kind for n in notices}, overflow


def stale_sections(changed: set[str], sections: Mapping[str, frozenset[str]]) -> list[str]:
    """The sections (in page order) that show one of the changed kinds (pure)."""
    return [name for name, shown in sections.items() if shown & changed]


def render_sections(template: str, names: Sequence[str], context: Mapping[str, Any]) -> str:
    return "".join(render_to_string(f"{template}#{name}", dict(context)) for name in names)


def render_update(
    template: str,
    messages: Sequence[Mapping[str, Any]],
    sections: Mapping[str, frozenset[str]],
    context: Callable[[Sequence[str] | None], Mapping[str, Any]],
    render: Callable[[Sequence[str], Mapping[str, Any]], str] | None = None,
) -> str:
    """A list page's live update for a batch of messages: the whole ``#region`` after an
    overflow (with ``context(None)``, all of it); else the sections (of ``sections``: name → the
    kinds it shows) that show a changed kind, rendered with ``context(stale)`` (by
    ``render(stale, context)`` where the page renders them its own way); else ``""``."""
    changed, overflow = changed_kinds(messages)
    if overflow:
        return render_sections(template, ["region"], context(None))
    stale = stale_sections(changed, sections)
    if not stale:
        return ""
    if render is None:
        return render_sections(template, stale, context(stale))
    return render(stale, context(stale))
