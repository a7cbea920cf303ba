"""Django admin for the cluster: every kind in the registry, and the change log (read-only).

Every save goes through the one write path (``cluster.store.write``), never ``Model.save()``:
the change form's ``clean()`` dry-runs the write so that errors come back on the form, and
``save_model`` performs it with the actor ``admin:<username>``. Deletes, single and bulk, call
``write.delete``. The model rows are only read: they are projections of the objects.

Access follows the same roles as the API and the dashboard (``cluster.access``): on top of
Django's model permissions, a staff user sees, adds, changes and deletes only what their role
bindings allow, in the namespaces they apply to. API tokens and role bindings are managed here
too; a new token is shown once, when it is saved.

``KubeObjectAdmin`` does all of that for any kind from the registry (``cluster.store.kinds``);
the small per-kind subclasses below it only choose list columns, sorting and filters. The list
columns are kubectl's: ``cluster.store.tables`` computes the same cells the API server sends
``kubectl get`` (``2/3`` ready, ``CrashLoopBackOff``, ``5m``), so both always agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.db.models.fields.json import KeyTransform
from django.http import HttpRequest, HttpResponseRedirect
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cluster import access
from cluster import forms as admin_forms
from cluster.models import ApiToken, Change, RoleBinding
from cluster.store import kinds, tables, write
from cluster.store.errors import NotFound, StoreError
from cluster.store.kinds import KINDS, Kind, get_path
from cluster.store.objects import to_dict

# --- list columns: kubectl's table cells ------------------------------------------------------


def cell_text(cell: Any) -> str:
    """A table cell as kubectl prints it: Go's ``true``/``false`` for booleans, ``""`` for nil."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    return str(cell)


def row_cells(row, kind: Kind, now: dt.datetime | None = None) -> list[Any]:
    """The row's ``kubectl get -o wide`` cells (``tables.cells_for``), computed once per row."""
    cells = row.__dict__.get("_kubectl_cells")
    if cells is None:
        cells = tables.cells_for(to_dict(row, kind), now or timezone.now(), kind.kind)
        row.__dict__["_kubectl_cells"] = cells
    return cells


class TableColumn:
    """One column of kubectl's table for a kind, usable in ``list_display``.

    The header is kubectl's (``Ready``, ``Port(s)``...); ``ordering`` names the model column
    that sorts it, when one projects the same value.
    """

    def __init__(self, kind: Kind, index: int, column: tables.Column, ordering: str | None):
        self.kind, self.index = kind, index
        # kubectl's header, translated when a catalogue has it (makemessages cannot see it).
        self.short_description = _(column.name)
        self.__name__ = f"kubectl_{column.name.lower()}"
        if ordering:
            self.admin_order_field = ordering

    def __call__(self, row) -> str:
        return cell_text(row_cells(row, self.kind)[self.index])

    def __repr__(self) -> str:
        return f"<TableColumn {self.kind.kind} {self.short_description}>"


def table_columns(
    kind: Kind, wide: Iterable[str] = (), ordering: dict[str, str] | None = None
) -> list[TableColumn]:
    """kubectl's default columns for ``kind`` plus the ``wide`` ones named, in kubectl's order,
    Name excepted (the admin links its own name column)."""
    ordering = {"Age": "-creation_timestamp", **(ordering or {})}
    wanted = set(wide)
    return [
        TableColumn(kind, index, column, ordering.get(column.name))
        for index, column in enumerate(tables.columns_for(kind.kind))
        if column.name != "Name" and (column.priority == 0 or column.name in wanted)
    ]


# --- the generic admin ------------------------------------------------------------------------


def admin_actor(request: HttpRequest) -> str:
    """Who the change log names for an admin write: ``admin:<username>``."""
    return f"admin:{request.user.get_username()}"


def label_terms(search_term: str) -> tuple[list[tuple[str, str]], str]:
    """Split a search into label terms (``app=web``) and the rest, searched as text."""
    labels, rest = [], []
    for word in search_term.split():
        key, sep, value = word.partition("=")
        if sep and key:
            labels.append((key, value.strip('"')))
        else:
            rest.append(word)
    return labels, " ".join(rest)


SERVER_OWNED = ("uid", "resource_version", "generation", "creation_timestamp", "deletion_timestamp")


class _WriteRaced(Exception):
    """The real write failed although its dry run passed a moment earlier."""

    def __init__(self, error: StoreError):
        super().__init__(error.message)
        self.error = error


class KubeObjectAdmin(admin.ModelAdmin):
    """The admin of any kind, worked out from the registry.

    The list shows name, namespace and kubectl's columns for the kind. Subclasses add ``wide``
    (kubectl ``-o wide`` columns to show too), ``sort_by`` (kubectl column -> model column that
    sorts it), ``columns`` (more model columns), ``filters``, ``extra_search`` and, while the
    registry does not mark them, ``extra_editable`` columns.
    """

    wide: tuple[str, ...] = ()
    sort_by: dict[str, str] = {}
    columns: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    extra_search: tuple[str, ...] = ()
    extra_editable: tuple[str, ...] = ()

    def __init__(self, model, admin_site):
        self.kind: Kind = kinds.for_model(model)
        where = ("namespace",) if self.kind.namespaced else ()
        kubectl = table_columns(self.kind, self.wide, self.sort_by)
        self.list_display = ("name", *where, *kubectl, *self.columns)
        self.list_filter = (*where, *self.filters)
        self.search_fields = ("name", *where, "labels", *self.extra_search)
        super().__init__(model, admin_site)

    # Access: Django's model permissions and the user's roles (``cluster.access``).

    def role_allows(self, request: HttpRequest, verb: str, obj=None) -> bool:
        """Whether the user's roles allow ``verb`` on ``obj``, or (no obj) somewhere."""
        if obj is None:
            return (
                access.namespaces_where(request.user, verb, self.kind.plural, self.kind.group)
                != frozenset()
            )
        namespace = obj.namespace or None
        return access.allows(request.user, verb, self.kind.plural, namespace, self.kind.group)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self.role_allows(request, "get", obj)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self.role_allows(request, "create")

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.role_allows(
            request, "update", obj
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.role_allows(
            request, "delete", obj
        )

    def get_queryset(self, request):
        """Only the namespaces where the user's roles let them list the kind."""
        queryset = super().get_queryset(request)
        where = access.namespaces_where(request.user, "list", self.kind.plural, self.kind.group)
        return queryset if where is None else queryset.filter(namespace__in=where)

    # The form: editable columns, the manifest, the loaded resourceVersion.

    def editable_columns(self) -> tuple[kinds.Column, ...]:
        return admin_forms.editable_columns(self.kind, self.extra_editable)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": [admin_forms.MANIFEST]})]
        identity = ("name", "namespace") if self.kind.namespaced else ("name",)
        manifest = [admin_forms.MANIFEST]
        if self.has_change_permission(request, obj):
            manifest.append(admin_forms.LOADED_RESOURCE_VERSION)
        return [
            (None, {"fields": [identity, *(c.name for c in self.editable_columns())]}),
            (_("Manifest"), {"fields": manifest}),
            (_("Server-owned metadata"), {"fields": list(SERVER_OWNED)}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("name", "namespace", *SERVER_OWNED)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = (
            admin_forms.KubeObjectChangeForm if obj is not None else admin_forms.KubeObjectAddForm
        )
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = admin_actor(request)
        form.columns = self.editable_columns()
        return form

    @admin.display(description=_("Manifest (YAML)"))
    def manifest(self, obj) -> str:
        """The manifest for people who may view but not change (a read-only field)."""
        return format_html("<pre>{}</pre>", admin_forms.dump_manifest(to_dict(obj, self.kind)))

    # Writes: only through the write path.

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _WriteRaced:
            # Another writer slipped in between the dry run and the write (possible on
            # PostgreSQL, where the dry run's row lock ends with its savepoint). Validate again:
            # the form now shows the conflict or the error; if it races twice, say so.
            try:
                return super().changeform_view(request, object_id, form_url, extra_context)
            except _WriteRaced as raced:
                self.message_user(request, raced.error.message, messages.ERROR)
                return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        namespace = get_path(form.proposed, "metadata.namespace") or None
        verb = "update" if change else "create"
        if not access.allows(request.user, verb, self.kind.plural, namespace, self.kind.group):
            raise PermissionDenied
        write_object = write.update if change else write.create
        try:
            result = write_object(form.proposed, actor=admin_actor(request))
        except StoreError as error:
            raise _WriteRaced(error) from error
        self._load(obj, result)

    def _load(self, obj, result: dict) -> None:
        """Point the admin's (unsaved) instance at the row the write path stored."""
        meta = result.get("metadata") or {}
        row = self.model.objects.filter(uid=meta.get("uid")).first()
        if row is None:  # the update completed a deletion: keep what we had for the log
            return
        for field in self.model._meta.concrete_fields:
            setattr(obj, field.attname, getattr(row, field.attname))
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        """Nothing related to save: no inlines, no many-to-many."""

    def delete_model(self, request, obj):
        self._delete(request, obj)

    def delete_queryset(self, request, queryset):
        for row in queryset:
            self._delete(request, row)

    def _delete(self, request, row) -> None:
        if not self.has_delete_permission(request, row):
            self.message_user(
                request,
                gettext("You may not delete %(object)s.") % {"object": str(row)},
                messages.ERROR,
            )
            return
        try:
            result = write.delete(
                self.kind,
                row.namespace,
                row.name,
                propagation="Background",
                actor=admin_actor(request),
            )
        except NotFound:
            return  # already gone: what the person asked for
        except StoreError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        if get_path(result, "metadata.deletionTimestamp"):
            self.message_user(
                request,
                gettext(
                    "%(object)s is terminating: it goes once its finalizers and grace period "
                    "are done."
                )
                % {"object": str(row)},
                messages.INFO,
            )

    # Search: names, namespaces and label text; ``key=value`` terms match one label exactly.

    def get_search_results(self, request, queryset: QuerySet, search_term: str):
        labels, rest = label_terms(search_term)
        for index, (key, value) in enumerate(labels):
            alias = f"_label_{index}"
            queryset = queryset.alias(**{alias: KeyTransform(key, "labels")}).filter(
                **{alias: value}
            )
        return super().get_search_results(request, queryset, rest)


# --- per kind: list columns and filters -------------------------------------------------------

_ADMINS: dict[str, type[KubeObjectAdmin]] = {}


def for_kind(name: str) -> Callable[[type[KubeObjectAdmin]], type[KubeObjectAdmin]]:
    def register(cls: type[KubeObjectAdmin]) -> type[KubeObjectAdmin]:
        _ADMINS[name] = cls
        return cls

    return register


@for_kind("Namespace")
class NamespaceAdmin(KubeObjectAdmin):
    sort_by = {"Status": "phase"}
    filters = ("phase",)


@for_kind("Node")
class NodeAdmin(KubeObjectAdmin):
    wide = ("Internal-IP",)
    sort_by = {"Status": "ready"}
    filters = ("ready", "unschedulable")


@for_kind("Pod")
class PodAdmin(KubeObjectAdmin):
    wide = ("IP", "Node")
    sort_by = {"Ready": "ready", "Status": "phase", "IP": "pod_ip", "Node": "node_name"}
    columns = ("image",)
    filters = ("phase", "node_name", "ready")
    extra_search = ("node_name",)
    # Until the registry marks the column editable (a pod's images may change in place).
    extra_editable = ("image",)


@for_kind("Service")
class ServiceAdmin(KubeObjectAdmin):
    sort_by = {"Type": "type", "Cluster-IP": "cluster_ip"}
    filters = ("type",)


@for_kind("Ingress")
class IngressAdmin(KubeObjectAdmin):
    sort_by = {"Class": "ingress_class_name"}
    filters = ("ingress_class_name",)


@for_kind("Secret")
class SecretAdmin(KubeObjectAdmin):
    # kubectl's Type and Data (a key count): values never appear in the list. The change form
    # shows them base64-encoded, as stored, like kubectl get -o yaml.
    sort_by = {"Type": "type"}
    filters = ("type",)


@for_kind("PersistentVolume")
class PersistentVolumeAdmin(KubeObjectAdmin):
    sort_by = {"Capacity": "capacity", "Status": "phase", "StorageClass": "storage_class_name"}
    filters = ("phase", "storage_class_name")


@for_kind("PersistentVolumeClaim")
class PersistentVolumeClaimAdmin(KubeObjectAdmin):
    sort_by = {"Status": "phase", "Volume": "volume_name", "StorageClass": "storage_class_name"}
    filters = ("phase", "storage_class_name")


@for_kind("StorageClass")
class StorageClassAdmin(KubeObjectAdmin):
    sort_by = {"Provisioner": "provisioner"}
    filters = ("is_default",)


# Until the registry marks the template image editable.
_WORKLOAD_IMAGE = ("image",)


@for_kind("Deployment")
class DeploymentAdmin(KubeObjectAdmin):
    wide = ("Images",)
    sort_by = {
        "Ready": "ready_replicas",
        "Up-to-date": "updated_replicas",
        "Available": "available_replicas",
        "Images": "image",
    }
    columns = ("paused",)
    filters = ("paused",)
    extra_editable = _WORKLOAD_IMAGE


@for_kind("ReplicaSet")
class ReplicaSetAdmin(KubeObjectAdmin):
    wide = ("Images",)
    sort_by = {"Desired": "replicas", "Ready": "ready_replicas", "Images": "image"}
    extra_editable = _WORKLOAD_IMAGE


@for_kind("StatefulSet")
class StatefulSetAdmin(KubeObjectAdmin):
    wide = ("Images",)
    sort_by = {"Ready": "ready_replicas", "Images": "image"}
    extra_editable = _WORKLOAD_IMAGE


@for_kind("DaemonSet")
class DaemonSetAdmin(KubeObjectAdmin):
    wide = ("Images",)
    sort_by = {"Desired": "desired_number_scheduled", "Ready": "number_ready", "Images": "image"}
    extra_editable = _WORKLOAD_IMAGE


@for_kind("HorizontalPodAutoscaler")
class HorizontalPodAutoscalerAdmin(KubeObjectAdmin):
    sort_by = {
        "Reference": "scale_target_name",
        "MinPods": "min_replicas",
        "MaxPods": "max_replicas",
        "Replicas": "current_replicas",
    }


@for_kind("Event")
class EventAdmin(KubeObjectAdmin):
    wide = ("Count",)
    sort_by = {
        "Last Seen": "-last_timestamp",
        "Type": "type",
        "Reason": "reason",
        "Object": "involved_name",
        "Count": "count",
    }
    filters = ("type", "reason", "involved_kind")
    extra_search = ("involved_name", "reason")
    ordering = ("-last_timestamp", "-creation_timestamp")


for _kind in KINDS:
    admin.site.register(_kind.model, _ADMINS.get(_kind.kind, KubeObjectAdmin))


# --- the change log ---------------------------------------------------------------------------


@admin.register(Change)
class ChangeAdmin(admin.ModelAdmin):
    """The change log, read-only: history is written by the write path alone."""

    list_display = ("revision", "type", "kind", "namespace", "name", "actor", "created_at")
    list_filter = ("kind", "type")
    search_fields = ("name",)
    ordering = ("-revision",)
    fields = (
        "revision",
        "type",
        "kind",
        "namespace",
        "name",
        "uid",
        "actor",
        "created_at",
        "object_yaml",
    )
    readonly_fields = fields

    @admin.display(description=_("object"))
    def object_yaml(self, change: Change) -> str:
        return format_html("<pre>{}</pre>", admin_forms.dump_manifest(change.object or {}))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Change | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Change | None = None) -> bool:
        return False


# --- access: role bindings and API tokens -------------------------------------------------------


class AccessAdmin(admin.ModelAdmin):
    """Who may do what is an admin's business: a cluster-wide admin role (or superuser)."""

    def _is_cluster_admin(self, request: HttpRequest) -> bool:
        return access.allows(request.user, "create", "rolebindings", None)

    def has_module_permission(self, request):
        return super().has_module_permission(request) and self._is_cluster_admin(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._is_cluster_admin(request)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self._is_cluster_admin(request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._is_cluster_admin(request)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._is_cluster_admin(request)


@admin.register(RoleBinding)
class RoleBindingAdmin(AccessAdmin):
    list_display = ("user", "role", "namespace")
    list_filter = ("role", "namespace")
    search_fields = ("user__username", "namespace")
    autocomplete_fields = ("user",)


@admin.register(ApiToken)
class ApiTokenAdmin(AccessAdmin):
    """Bearer tokens for the API. The token is shown once, in the message after adding it;
    only its SHA-256 digest is stored. Change a token by deleting it and adding another."""

    list_display = ("user", "name", "prefix", "created_at", "last_used_at")
    list_filter = ("user",)
    search_fields = ("user__username", "name", "prefix")
    autocomplete_fields = ("user",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "name")
        return ("user", "name", "prefix", "created_at", "last_used_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("user", "prefix", "created_at", "last_used_at")

    def save_model(self, request, obj, form, change):
        token = None if change else access.token_issue(obj)
        super().save_model(request, obj, form, change)
        if token is not None:
            self.message_user(
                request,
                format_html(
                    "{} <code>{}</code>",
                    gettext(
                        "The new token for %(user)s, shown this once (only its digest is "
                        "stored): copy it now."
                    )
                    % {"user": obj.user.get_username()},
                    token,
                ),
                messages.WARNING,
            )
