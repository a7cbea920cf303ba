"""Admin forms: a Kubernetes object edited as a few columns plus its whole YAML manifest.

The change form shows the kind's editable projected columns (a Deployment's replicas, a Node's
``unschedulable``...) as ordinary fields, the whole object as YAML for everything else, and a
hidden field with the ``resourceVersion`` the page was loaded with. Validation is a dry run of the
one write path (``cluster.store.write``), so the form reports exactly what ``kubectl`` would:
each ``FieldError`` lands on the field it names (``spec.replicas`` on the replicas field) or on
the manifest, and a stale ``resourceVersion`` is a conflict, never a silent overwrite. The form
never saves a model: the admin performs the real write with ``proposed``, the object the dry run
accepted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import yaml
from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cluster.store import kinds, write
from cluster.store.errors import Conflict, FieldError, Invalid, NotFound, StoreError
from cluster.store.kinds import Column, Kind
from cluster.store.objects import to_dict

Obj = dict[str, Any]

MANIFEST = "manifest"
LOADED_RESOURCE_VERSION = "loaded_resource_version"


# --- YAML in and out --------------------------------------------------------------------------


class _ManifestLoader(yaml.SafeLoader):
    """PyYAML's safe loader, minus timestamp resolution.

    Kubernetes turns YAML into JSON before decoding it, so an unquoted ``2024-05-01T10:00:00Z``
    is a string there; PyYAML would make it a ``datetime``, which JSON cannot hold.
    """


_ManifestLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class ManifestError(ValueError):
    """The manifest text is not one YAML mapping that JSON can hold."""


def dump_manifest(obj: Obj) -> str:
    """The object as YAML, keys in the object's own order (apiVersion, kind, metadata, ...)."""
    return yaml.safe_dump(obj, sort_keys=False, allow_unicode=True, default_flow_style=False)


def load_manifest(text: str) -> Obj:
    """Parse one YAML document into a JSON-compatible mapping, or raise ``ManifestError``."""
    try:
        documents = [d for d in yaml.load_all(text, Loader=_ManifestLoader) if d is not None]
    except yaml.YAMLError as error:
        raise ManifestError(
            gettext("The manifest is not valid YAML: %(error)s") % {"error": error}
        ) from None
    if not documents:
        raise ManifestError(gettext("The manifest is empty."))
    if len(documents) > 1:
        raise ManifestError(
            gettext("The manifest must hold one object, not %(count)d.") % {"count": len(documents)}
        )
    if not isinstance(documents[0], dict):
        raise ManifestError(
            gettext("The manifest must be a mapping (apiVersion, kind, metadata...).")
        )
    return _jsonable(documents[0])


def _jsonable(value: Any) -> Any:
    """Keys become strings as in JSON (``true`` -> ``"true"``); anything JSON lacks is refused."""
    if isinstance(value, dict):
        return {_json_key(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise ManifestError(
        gettext("The manifest holds a value JSON cannot represent: %(value)r") % {"value": value}
    )


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool | int | float) or key is None:
        return json.dumps(key)
    raise ManifestError(
        gettext("The manifest holds a key JSON cannot represent: %(key)r") % {"key": key}
    )


# --- columns and paths ------------------------------------------------------------------------

_SEGMENT = re.compile(r"^(?P<key>[^\[\]]+)(?:\[(?P<index>\d+)\])?$")


def _segments(path: str) -> list[tuple[str, int | None]]:
    """``spec.template.spec.containers[0].image`` -> [("spec", None), ..., ("containers", 0),
    ("image", None)]. Only numeric indexes can be written to."""
    parts = []
    for part in path.split("."):
        match = _SEGMENT.match(part)
        if match is None:
            raise ValueError(f"cannot write to the path {path!r}")
        index = match["index"]
        parts.append((match["key"], int(index) if index is not None else None))
    return parts


def set_path(obj: Obj, path: str, value: Any) -> None:
    """Set ``path`` in ``obj``, creating mappings and list items on the way.

    ``set_path(deployment, "spec.template.spec.containers[0].image", "nginx:1.28")`` sets the
    first container's image; a missing container list gets one item.
    """
    parts = _segments(path)
    current: Any = obj
    for position, (key, index) in enumerate(parts):
        last = position == len(parts) - 1
        if index is None:
            if last:
                current[key] = value
                return
            if not isinstance(current.get(key), dict):
                current[key] = {}
            current = current[key]
            continue
        if not isinstance(current.get(key), list):
            current[key] = []
        items = current[key]
        while len(items) <= index:
            items.append({})
        if last:
            items[index] = value
            return
        if not isinstance(items[index], dict):
            items[index] = {}
        current = items[index]


def remove_path(obj: Obj, path: str) -> None:
    """Remove the key at ``path`` if it is there; missing parents are left alone."""
    parts = _segments(path)
    current: Any = obj
    for key, index in parts[:-1]:
        current = current.get(key) if isinstance(current, dict) else None
        if index is not None:
            current = current[index] if isinstance(current, list) and index < len(current) else None
        if not isinstance(current, dict):
            return
    key, index = parts[-1]
    if index is None:
        current.pop(key, None)
    elif isinstance(current.get(key), list) and index < len(current[key]):
        del current[key][index]


def apply_column(obj: Obj, column: Column, value: Any) -> None:
    """Write an edited column's value back where it lives in the object.

    ``False`` and ``""`` remove the field, as Go's ``omitempty`` does (``kubectl uncordon``
    leaves no ``unschedulable: false`` behind); anything else is set at ``column.path``.
    """
    if value is False or value == "" or value is None:
        remove_path(obj, column.path)
    else:
        set_path(obj, column.path, value)


def editable_columns(kind: Kind, extra: Iterable[str] = ()) -> tuple[Column, ...]:
    """The kind's columns people may edit: those marked ``editable`` plus the ``extra`` names."""
    wanted = set(extra)
    return tuple(c for c in kind.columns if c.editable or c.name in wanted)


def error_target(error: FieldError, columns: Iterable[Column]) -> str:
    """The form field that shows ``error``: the column projecting its path, else the manifest."""
    for column in columns:
        if column.path == error.field:
            return column.name
    return MANIFEST


def identity_mismatch(meta: dict, row, kind: Kind) -> str | None:
    """The apiserver's words when a PUT's object names another object than its URL: the change
    form edits one object and cannot rename or move it."""
    name = meta.get("name", row.name)
    if name != row.name:
        return f"the name of the object ({name}) does not match the name on the URL ({row.name})"
    if kind.namespaced and meta.get("namespace", row.namespace) != row.namespace:
        return (
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    return None


def conflict_message(loaded: str, current: str) -> str:
    return gettext(
        "This object was changed by someone else since you opened it (resourceVersion "
        "%(loaded)s, now %(current)s). Reload the page to see the current version; your edit "
        "was not saved."
    ) % {"loaded": loaded, "current": current}


# --- templates for the add form ---------------------------------------------------------------


def _pod_template(labels: dict[str, str]) -> Obj:
    return {
        "metadata": {"labels": dict(labels)},
        "spec": {
            "containers": [{"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]
        },
    }


_EXAMPLE = {"app": "example"}

# Everything after apiVersion and kind; metadata.name is "example" unless given.
_TEMPLATES: dict[str, Obj] = {
    "Namespace": {"metadata": {"name": "example"}},
    "Node": {
        "metadata": {"name": "node-example", "labels": {"kubernetes.io/hostname": "node-example"}},
        "spec": {},
        "status": {
            "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        },
    },
    "Pod": {
        "metadata": {"labels": dict(_EXAMPLE)},
        "spec": _pod_template(_EXAMPLE)["spec"],
    },
    "Service": {
        "spec": {
            "type": "ClusterIP",
            "selector": dict(_EXAMPLE),
            "ports": [{"port": 80, "targetPort": 80, "protocol": "TCP"}],
        },
    },
    "Endpoints": {
        "subsets": [
            {"addresses": [{"ip": "10.244.0.10"}], "ports": [{"port": 80, "protocol": "TCP"}]}
        ],
    },
    "Ingress": {
        "spec": {
            "rules": [
                {
                    "host": "example.local",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "example", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ]
        },
    },
    "ConfigMap": {"data": {"greeting": "hello"}},
    "Secret": {"type": "Opaque", "data": {"password": "Y2hhbmdlLW1l"}},  # "change-me"
    "PersistentVolume": {
        "metadata": {"name": "pv-example"},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "standard",
            "hostPath": {"path": "/data/pv-example"},
        },
    },
    "PersistentVolumeClaim": {
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "standard",
            "resources": {"requests": {"storage": "1Gi"}},
        },
    },
    "StorageClass": {
        "provisioner": "kubarium.io/hostpath",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    },
    "Deployment": {
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": dict(_EXAMPLE)},
            "template": _pod_template(_EXAMPLE),
        },
    },
    "ReplicaSet": {
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": dict(_EXAMPLE)},
            "template": _pod_template(_EXAMPLE),
        },
    },
    "StatefulSet": {
        "spec": {
            "replicas": 1,
            "serviceName": "example",
            "selector": {"matchLabels": dict(_EXAMPLE)},
            "template": _pod_template(_EXAMPLE),
        },
    },
    "DaemonSet": {
        "spec": {"selector": {"matchLabels": dict(_EXAMPLE)}, "template": _pod_template(_EXAMPLE)},
    },
    "HorizontalPodAutoscaler": {
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "example"},
            "minReplicas": 1,
            "maxReplicas": 5,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 50},
                    },
                }
            ],
        },
    },
    "Event": {
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Pod",
            "namespace": "default",
            "name": "example",
        },
        "reason": "Example",
        "message": "Written by hand in the admin",
        "type": "Normal",
        "source": {"component": "admin"},
        "count": 1,
    },
}


def manifest_template(kind: Kind) -> Obj:
    """A small valid object of ``kind`` to start the add form from."""
    body = json.loads(json.dumps(_TEMPLATES.get(kind.kind, {})))
    meta = {"name": "example", **body.pop("metadata", {})}
    if kind.namespaced:
        meta = {"name": meta.pop("name"), "namespace": "default", **meta}
    return {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": meta, **body}


# --- the forms --------------------------------------------------------------------------------


class ManifestField(forms.CharField):
    """A YAML textarea; browsers post CRLF line endings, which do not count as a change."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault(
            "widget",
            forms.Textarea(
                attrs={
                    "class": "vLargeTextField kube-manifest",
                    "rows": 30,
                    "spellcheck": "false",
                    "autocapitalize": "off",
                    "autocomplete": "off",
                }
            ),
        )
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    @staticmethod
    def normalized(text: Any) -> str:
        return "" if text is None else str(text).replace("\r\n", "\n").replace("\r", "\n").strip()

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.normalized(initial) != self.normalized(data)

    def to_python(self, value: Any) -> str:
        return self.normalized(super().to_python(value))


class KubeObjectForm(forms.ModelForm):
    """What the add and change forms share: the manifest, the dry run and its error mapping.

    The admin builds a subclass per request and sets ``actor`` (who writes) and ``columns``
    (the editable columns shown as fields). ``proposed`` is the object the dry run accepted.
    """

    actor: ClassVar[str] = write.DEFAULT_ACTOR
    columns: ClassVar[tuple[Column, ...]] = ()

    proposed: Obj | None = None

    @property
    def kind(self) -> Kind:
        return kinds.for_model(self._meta.model)

    def clean_manifest(self) -> Obj:
        try:
            return load_manifest(self.cleaned_data[MANIFEST])
        except ManifestError as error:
            raise forms.ValidationError(str(error), code="manifest") from None

    def _post_clean(self) -> None:
        """No model validation: the write path is the validator, and the row is never saved
        by the form (its columns are projections of the object)."""

    def dry_run(self, call: Callable[[], Obj], proposed: Obj) -> None:
        """Run ``call`` (a write with ``dry_run=True``); keep ``proposed`` if it succeeds."""
        try:
            call()
        except StoreError as error:
            self.add_store_error(error)
        else:
            self.proposed = proposed

    def add_store_error(self, error: StoreError) -> None:
        """Show a store error the way kubectl words it, on the field it concerns."""
        if isinstance(error, Invalid) and error.errors:
            for field_error in error.errors:
                self.add_error(error_target(field_error, self.shown_columns()), str(field_error))
        else:
            self.add_error(MANIFEST, error.message)

    def shown_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.name in self.fields)


class KubeObjectAddForm(KubeObjectForm):
    """A YAML textarea prefilled with a template; validated by a dry-run create."""

    manifest = ManifestField(
        label=_("Manifest (YAML)"),
        help_text=_(
            "The new object as YAML, as you would give it to kubectl create -f. "
            "The server fills in uid, resourceVersion and the defaults."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields[MANIFEST].initial = dump_manifest(manifest_template(self.kind))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        obj = cleaned.get(MANIFEST)
        if not isinstance(obj, dict):
            return cleaned
        kind = self.kind
        if (obj.get("apiVersion"), obj.get("kind")) != (kind.api_version, kind.kind):
            self.add_error(
                MANIFEST,
                gettext(
                    "This form creates %(kind)s objects: the manifest needs apiVersion: "
                    "%(api_version)s and kind: %(kind)s."
                )
                % {"kind": kind.kind, "api_version": kind.api_version},
            )
            return cleaned
        self.dry_run(lambda: write.create(obj, actor=self.actor, dry_run=True), obj)
        return cleaned


class KubeObjectChangeForm(KubeObjectForm):
    """Editable columns, the manifest and the loaded resourceVersion; validated by a dry-run
    update that carries that resourceVersion, so a stale form is a conflict."""

    manifest = ManifestField(
        label=_("Manifest (YAML)"),
        help_text=_(
            "The whole object, as kubectl get -o yaml shows it. Edit anything except "
            "status and the server-owned metadata; the fields above win over the YAML."
        ),
    )
    loaded_resource_version = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial.setdefault(MANIFEST, dump_manifest(to_dict(self.instance)))
            self.initial.setdefault(LOADED_RESOURCE_VERSION, str(self.instance.resource_version))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        obj = self.build_object(cleaned)
        if obj is None:
            return cleaned
        self.dry_run(lambda: write.update(obj, actor=self.actor, dry_run=True), obj)
        return cleaned

    def build_object(self, cleaned: dict[str, Any]) -> Obj | None:
        """The object to write: the YAML (or the stored object when the YAML is untouched),
        each edited column set at its path, and the loaded resourceVersion as precondition.

        Unedited columns are left alone, so a YAML edit of ``spec.replicas`` is not undone by
        the untouched replicas field.
        """
        obj = cleaned[MANIFEST] if MANIFEST in self.changed_data else to_dict(self.instance)
        for column in self.shown_columns():
            if column.name in self.changed_data:
                apply_column(obj, column, cleaned.get(column.name))
        meta = obj.get("metadata")
        if meta is None:
            meta = obj["metadata"] = {}
        if not isinstance(meta, dict):
            self.add_error(MANIFEST, gettext("metadata must be a mapping."))
            return None
        kind = self.kind
        if (obj.get("apiVersion"), obj.get("kind")) != (kind.api_version, kind.kind):
            self.add_error(
                MANIFEST,
                gettext(
                    "This object is a %(kind)s: the manifest must keep apiVersion: %(api_version)s "
                    "and kind: %(kind)s."
                )
                % {"kind": kind.kind, "api_version": kind.api_version},
            )
            return None
        identity_error = identity_mismatch(meta, self.instance, kind)
        if identity_error:
            self.add_error(MANIFEST, identity_error)
            return None
        meta["resourceVersion"] = cleaned[LOADED_RESOURCE_VERSION]
        return obj

    def add_store_error(self, error: StoreError) -> None:
        if isinstance(error, Conflict):
            loaded = self.cleaned_data.get(LOADED_RESOURCE_VERSION, "")
            current = self.current_resource_version()
            if current is not None and current != loaded:
                self.add_error(None, conflict_message(loaded, current))
            else:  # a uid precondition from the YAML, say: the store's words say it best
                self.add_error(None, error.message)
        elif isinstance(error, NotFound):
            self.add_error(None, error.message)
        else:
            super().add_store_error(error)

    def current_resource_version(self) -> str | None:
        model = type(self.instance)
        value = (
            model.objects.filter(pk=self.instance.pk)
            .values_list("resource_version", flat=True)
            .first()
        )
        return None if value is None else str(value)
