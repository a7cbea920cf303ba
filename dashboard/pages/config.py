"""The Config & storage page: ConfigMaps, Secrets, claims, volumes and storage classes, and the
pods that use each.

- **ConfigMaps** and **Secrets** (paginated), each with its keys and the pods that use it, and
  how: ``env`` (``configMapKeyRef``/``secretKeyRef``), ``envFrom``, a ``volume`` (also inside a
  projected volume) or ``imagePullSecrets``.
- Secret values are masked. Revealing one is a small POST per Secret, answered with the values
  only when ``cluster.access.may_read_secret_data(user, namespace)`` allows it; nothing else on
  the page (nor the live stream) ever carries a value.
- **PersistentVolumeClaims** with their volume, size and class and the pods that mount them;
  **PersistentVolumes** and the claim each is bound to; **StorageClasses**.

Pods are found with one query per page: the pods of the namespaces shown whose spec mentions
a ConfigMap, a Secret or a claim (a text match in the database), parsed in Python.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from cluster import access, clock
from cluster.models import (
    ConfigMap,
    PersistentVolume,
    PersistentVolumeClaim,
    Pod,
    Secret,
    StorageClass,
)
from cluster.store import kinds, tables
from cluster.store.objects import to_dict
from cluster.store.read import current_revision
from dashboard.pages import listing

TEMPLATE = "dashboard/config.html"
VIEW = "config"
# Reading the page needs "list" on this resource (and API group) in its namespace.
READ = ("configmaps", "")
PER_PAGE = 20
USERS_SHOWN = 8
MASK = "••••••"

# section → (model, kind, page parameter)
SECTIONS = {
    "configmaps": (ConfigMap, "ConfigMap", "cm_page"),
    "secrets": (Secret, "Secret", "secret_page"),
    "claims": (PersistentVolumeClaim, "PersistentVolumeClaim", "claim_page"),
    "volumes": (PersistentVolume, "PersistentVolume", "pv_page"),
    "classes": (StorageClass, "StorageClass", "class_page"),
}
LIVE = {
    "configmaps": frozenset({"ConfigMap", "Pod"}),
    "secrets": frozenset({"Secret", "Pod"}),
    "claims": frozenset({"PersistentVolumeClaim", "PersistentVolume", "Pod"}),
    "volumes": frozenset({"PersistentVolume", "PersistentVolumeClaim"}),
    "classes": frozenset({"StorageClass"}),
}


@dataclass(frozen=True)
class Focus:
    namespace: str = ""
    pages: tuple[tuple[str, int], ...] = ()

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> Focus:
        pages = tuple(
            (param, listing.clean_page(query.get(param)))
            for _model, _kind, param in SECTIONS.values()
            if query.get(param)
        )
        return cls(namespace=listing.clean_namespace(query.get("namespace")), pages=pages)

    def page(self, param: str) -> int:
        return dict(self.pages).get(param, 1)

    def params(self) -> dict[str, Any]:
        return {"namespace": self.namespace, **dict(self.pages)}

    def query(self, **changes: Any) -> str:
        return listing.query_string({**self.params(), **changes})


# --- who uses what ----------------------------------------------------------------------------


def references(spec: Mapping[str, Any]) -> dict[tuple[str, str], set[str]]:
    """What a pod spec refers to: ``{(kind, name): {how, ...}}`` (pure).

    >>> sorted(references({"volumes": [{"name": "v", "configMap": {"name": "site"}}]}).items())
    [(('ConfigMap', 'site'), {'volume'})]
    """
    found: dict[tuple[str, str], set[str]] = {}

    def add(kind: str, name: Any, how: str) -> None:
        if name:
            found.setdefault((kind, str(name)), set()).add(how)

    containers = [
        *(spec.get("initContainers") or []),
        *(spec.get("containers") or []),
        *(spec.get("ephemeralContainers") or []),
    ]
    for container in containers:
        if not isinstance(container, dict):
            continue
        for env in container.get("env") or []:
            source = (env or {}).get("valueFrom") or {}
            add("ConfigMap", (source.get("configMapKeyRef") or {}).get("name"), "env")
            add("Secret", (source.get("secretKeyRef") or {}).get("name"), "env")
        for env_from in container.get("envFrom") or []:
            add("ConfigMap", ((env_from or {}).get("configMapRef") or {}).get("name"), "envFrom")
            add("Secret", ((env_from or {}).get("secretRef") or {}).get("name"), "envFrom")
    for volume in spec.get("volumes") or []:
        if not isinstance(volume, dict):
            continue
        add("ConfigMap", (volume.get("configMap") or {}).get("name"), "volume")
        add("Secret", (volume.get("secret") or {}).get("secretName"), "volume")
        add(
            "PersistentVolumeClaim",
            (volume.get("persistentVolumeClaim") or {}).get("claimName"),
            "volume",
        )
        for source in (volume.get("projected") or {}).get("sources") or []:
            add("ConfigMap", ((source or {}).get("configMap") or {}).get("name"), "volume")
            add("Secret", ((source or {}).get("secret") or {}).get("name"), "volume")
    for pull in spec.get("imagePullSecrets") or []:
        add("Secret", (pull or {}).get("name"), "imagePullSecrets")
    return found


@dataclass
class User:
    pod: str
    url: str
    how: list[str]
    node: str


def users_of(kind: str, items: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[User]]:
    """The pods using each ``(namespace, name)`` of ``kind``: one query over the pods of those
    namespaces whose spec mentions the kind at all."""
    wanted = set(items)
    if not wanted:
        return {}
    needle = {"ConfigMap": "configMap", "Secret": "ecret", "PersistentVolumeClaim": "claimName"}[
        kind
    ]
    # Only pods whose spec has one of the wanted names as a JSON string ("site"), so a page
    # reads the pods that may use what it shows, not every pod of the namespace.
    named = Q()
    for name in {name for _ns, name in wanted}:
        named |= Q(spec_text__contains=f'"{name}"')
    pods = (
        Pod.objects.filter(namespace__in={ns for ns, _name in wanted})
        .annotate(spec_text=Cast("spec", TextField()))
        .filter(named, spec_text__contains=needle)
        .order_by("namespace", "name")
        .values_list("namespace", "name", "node_name", "spec")
    )
    users: dict[tuple[str, str], list[User]] = {}
    for namespace, name, node, spec in pods:
        for (ref_kind, ref_name), how in references(spec or {}).items():
            key = (namespace, ref_name)
            if ref_kind == kind and key in wanted:
                users.setdefault(key, []).append(
                    User(name, listing.object_url("Pod", namespace, name), sorted(how), node)
                )
    return users


# --- rows -------------------------------------------------------------------------------------


@dataclass
class Item:
    kind: str
    namespace: str
    name: str
    url: str
    cells: list[Any]  # what kubectl get prints for it
    keys: list[str] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    more_users: int = 0
    revealed: dict[str, str] | None = None  # a Secret's values, once revealed
    refused: str = ""

    @property
    def dom_id(self) -> str:
        return f"secret-{self.namespace}-{self.name}".replace(".", "-")

    @property
    def masked(self) -> str:
        return MASK


def _page(section: str, focus: Focus):
    model, _kind, param = SECTIONS[section]
    rows = model.objects.all()
    if focus.namespace and kinds.by_kind(SECTIONS[section][1]).namespaced:
        rows = rows.filter(namespace=focus.namespace)
    params = tuple((k, str(v)) for k, v in focus.params().items() if k != param)
    return listing.paginate(
        rows.order_by("namespace", "name"), focus.page(param), PER_PAGE, params=params, param=param
    )


def _item(row, kind: str, now) -> Item:
    obj = to_dict(row, kinds.by_kind(kind), copy_content=False)
    keys = sorted({*(obj.get("data") or {}), *(obj.get("binaryData") or {})})
    return Item(
        kind=kind,
        namespace=row.namespace,
        name=row.name,
        url=listing.object_url(kind, row.namespace, row.name),
        cells=tables.cells_for(obj, now, kind),
        keys=keys,
    )


def items(section: str, focus: Focus) -> tuple[list[Item], listing.Pager]:
    rows, pager = _page(section, focus)
    kind = SECTIONS[section][1]
    now = clock.now_datetime()
    result = [_item(row, kind, now) for row in rows]
    if kind in ("ConfigMap", "Secret", "PersistentVolumeClaim"):
        users = users_of(kind, ((i.namespace, i.name) for i in result))
        for item in result:
            found = users.get((item.namespace, item.name), [])
            item.users, item.more_users = found[:USERS_SHOWN], max(0, len(found) - USERS_SHOWN)
    return result, pager


# --- revealing a Secret -----------------------------------------------------------------------


def decoded(data: Mapping[str, Any]) -> dict[str, str]:
    """A Secret's ``data`` as people read it: UTF-8 text, else a note of its size (pure)."""
    values = {}
    for key, value in sorted(data.items()):
        try:
            raw = base64.b64decode(str(value), validate=True)
            values[key] = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            values[key] = _("(not valid base64)")
        except UnicodeDecodeError:
            values[key] = _("(binary, %(n)d bytes)") % {"n": len(raw)}
    return values


def secret_item(user, namespace: str, name: str, reveal: bool) -> Item | None:
    """One Secret's row; with ``reveal``, its values if ``user`` may read them, else why not."""
    row = Secret.objects.filter(namespace=namespace, name=name).first()
    if row is None:
        return None
    item = _item(row, "Secret", clock.now_datetime())
    found = users_of("Secret", [(namespace, name)]).get((namespace, name), [])
    item.users, item.more_users = found[:USERS_SHOWN], max(0, len(found) - USERS_SHOWN)
    if reveal:
        if access.may_read_secret_data(user, namespace):
            obj = to_dict(row, kinds.by_kind("Secret"), copy_content=False)
            item.revealed = decoded(obj.get("data") or {})
        else:
            item.refused = _(
                "You may not read the values of Secrets in namespace %(namespace)s: an editor "
                "or admin role there is needed."
            ) % {"namespace": namespace}
    return item


# --- contexts and rendering -------------------------------------------------------------------


def region_context(focus: Focus, only: Sequence[str] | None = None) -> dict[str, Any]:
    revision = current_revision()
    wanted = list(only) if only is not None else list(SECTIONS)
    context: dict[str, Any] = {
        "focus": focus,
        "revision": revision,
        "stream_url": listing.stream_url(VIEW, focus.params(), revision),
    }
    for section in wanted:
        context[section], context[f"{section}_pager"] = items(section, focus)
    return context


def render_region(focus: Focus) -> str:
    return listing.render_sections(TEMPLATE, ["region"], region_context(focus))


def render_update(focus: Focus, messages: Sequence[Mapping[str, Any]]) -> str:
    return listing.render_update(TEMPLATE, messages, LIVE, lambda only: region_context(focus, only))
