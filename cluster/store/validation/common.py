"""Shared validation: names, labels, annotations, quantities, ports, and the registry.

Messages are Kubernetes v1.32's (``k8s.io/apimachinery/pkg/util/validation``), so an error
reads the same here as from a real API server:

>>> [str(e) for e in dns1123_subdomain("metadata.name", "Bad_Name")][0][:60]
'metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from cluster.quantity import Quantity, QuantityError
from cluster.store.errors import FieldError
from cluster.store.selectors import label_key_errors, label_value_errors

Obj = dict[str, Any]
Check = Callable[[Obj], list[FieldError]]
UpdateCheck = Callable[[Obj, Obj], list[FieldError]]

VALIDATORS: dict[str, Check] = {}
UPDATE_VALIDATORS: dict[str, UpdateCheck] = {}

# Kinds whose names must be DNS-1123 labels rather than subdomains.
LABEL_NAMED_KINDS = {"Namespace"}
# Services are named by DNS-1035 labels (they become DNS names that must not start with a digit).
DNS1035_NAMED_KINDS = {"Service"}
CLUSTER_SCOPED_KINDS = {"Namespace", "Node", "PersistentVolume", "StorageClass"}
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
FIELD_IMMUTABLE = "field is immutable"


def validator(kind: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        VALIDATORS[kind] = fn
        return fn

    return register


def update_validator(kind: str) -> Callable[[UpdateCheck], UpdateCheck]:
    def register(fn: UpdateCheck) -> UpdateCheck:
        UPDATE_VALIDATORS[kind] = fn
        return fn

    return register


# --- paths -----------------------------------------------------------------------------------


def child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def key(path: str, name: str) -> str:
    return f"{path}[{name}]"


# --- shapes: never raise on odd JSON ---------------------------------------------------------


def as_dict(value: Any, path: str, errors: list[FieldError], *, required: bool = False) -> Obj:
    """``value`` if it is a map; otherwise an error (unless absent and optional) and ``{}``."""
    if isinstance(value, dict):
        return value
    if value is None:
        if required:
            errors.append(FieldError.required(path))
        return {}
    errors.append(FieldError.invalid(path, value, "must be an object"))
    return {}


def as_list(value: Any, path: str, errors: list[FieldError], *, required: bool = False) -> list:
    if isinstance(value, list):
        if required and not value:
            errors.append(FieldError.required(path))
        return value
    if value is None:
        if required:
            errors.append(FieldError.required(path))
        return []
    errors.append(FieldError.invalid(path, value, "must be a list"))
    return []


def dicts(
    value: Any,
    path: str,
    errors: list[FieldError],
    *,
    required: bool = False,
) -> list[tuple[str, Obj]]:
    """(path, item) for each item of a list of maps; non-map items are reported."""
    items = []
    for i, item in enumerate(as_list(value, path, errors, required=required)):
        if isinstance(item, dict):
            items.append((index(path, i), item))
        else:
            errors.append(FieldError.invalid(index(path, i), item, "must be an object"))
    return items


def as_int(value: Any, path: str, errors: list[FieldError]) -> int | None:
    """An integer field: ``None`` when absent; a non-integer is reported, as Go's decoder would."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(FieldError.invalid(path, value, "must be an integer"))
        return None
    return value


def as_str(value: Any, path: str, errors: list[FieldError]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(FieldError.invalid(path, value, "must be a string"))
        return None
    return value


def non_negative(value: Any, path: str, errors: list[FieldError]) -> None:
    number = as_int(value, path, errors)
    if number is not None and number < 0:
        errors.append(FieldError.invalid(path, number, "must be greater than or equal to 0"))


def one_of(
    value: Any,
    path: str,
    allowed: Iterable[str],
    errors: list[FieldError],
    *,
    required: bool = False,
) -> None:
    allowed = list(allowed)
    if value is None or value == "":
        if required:
            errors.append(FieldError.required(path))
        return
    if value not in allowed:
        errors.append(FieldError.not_supported(path, value, allowed))


# --- names (IsDNS1123Label, IsDNS1123Subdomain, IsValidPortName) -----------------------------

_DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL)
_DNS1035_LABEL = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_RE = re.compile(_DNS1035_LABEL)
_DNS1123_SUBDOMAIN = _DNS1123_LABEL + r"(\." + _DNS1123_LABEL + ")*"
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN)
_IANA_SVC_RE = re.compile("[-a-z0-9]+")
_IANA_HAS_LETTER_RE = re.compile("[a-z]")
_C_IDENTIFIER_RE = re.compile("[A-Za-z_][A-Za-z0-9_]*")
_CONFIG_KEY_RE = re.compile(r"[-._a-zA-Z0-9]+")


def dns1123_label(path: str, value: Any) -> list[FieldError]:
    if not isinstance(value, str):
        return [FieldError.invalid(path, value, "must be a string")]
    errors = []
    if len(value) > 63:
        errors.append(FieldError.invalid(path, value, "must be no more than 63 characters"))
    if not _DNS1123_LABEL_RE.fullmatch(value):
        errors.append(
            FieldError.invalid(
                path,
                value,
                (
                    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
                    "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
                    f"'123-abc', regex used for validation is '{_DNS1123_LABEL}')"
                ),
            )
        )
    return errors


def dns1035_label(path: str, value: Any) -> list[FieldError]:
    """``IsDNS1035Label``: what a Service name (and an Ingress backend's service name) must be."""
    if not isinstance(value, str):
        return [FieldError.invalid(path, value, "must be a string")]
    errors = []
    if len(value) > 63:
        errors.append(FieldError.invalid(path, value, "must be no more than 63 characters"))
    if not _DNS1035_LABEL_RE.fullmatch(value):
        errors.append(
            FieldError.invalid(
                path,
                value,
                (
                    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
                    "with an alphabetic character, and end with an alphanumeric character (e.g. "
                    f"'my-name',  or 'abc-123', regex used for validation is '{_DNS1035_LABEL}')"
                ),
            )
        )
    return errors


def dns1123_subdomain(path: str, value: Any) -> list[FieldError]:
    if not isinstance(value, str):
        return [FieldError.invalid(path, value, "must be a string")]
    errors = []
    if len(value) > 253:
        errors.append(FieldError.invalid(path, value, "must be no more than 253 characters"))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errors.append(
            FieldError.invalid(
                path,
                value,
                (
                    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                    "'-' or '.', and must start and end with an alphanumeric character (e.g. "
                    f"'example.com', regex used for validation is '{_DNS1123_SUBDOMAIN}')"
                ),
            )
        )
    return errors


def iana_svc_name_errors(value: str) -> list[str]:
    """IsValidPortName: a named port such as ``http``."""
    errors = []
    if len(value) > 15:
        errors.append("must be no more than 15 characters")
    if not _IANA_SVC_RE.fullmatch(value):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in value:
        errors.append("must not contain consecutive hyphens")
    if value.startswith("-") or value.endswith("-"):
        errors.append("must not begin or end with a hyphen")
    if not _IANA_HAS_LETTER_RE.search(value):
        errors.append("must contain at least one letter (a-z)")
    return errors


def port_name(path: str, value: Any) -> list[FieldError]:
    if not isinstance(value, str):
        return [FieldError.invalid(path, value, "must be a string")]
    return [FieldError.invalid(path, value, message) for message in iana_svc_name_errors(value)]


def port_number(path: str, value: Any, *, required: bool = True) -> list[FieldError]:
    """A port: an integer between 1 and 65535."""
    if value is None:
        return [FieldError.required(path)] if required else []
    if isinstance(value, bool) or not isinstance(value, int):
        return [FieldError.invalid(path, value, "must be an integer")]
    if not 1 <= value <= 65535:
        return [FieldError.invalid(path, value, "must be between 1 and 65535, inclusive")]
    return []


def int_or_port_name(path: str, value: Any) -> list[FieldError]:
    """A targetPort: a number between 1 and 65535, or a port name (a string is always a name,
    as for Kubernetes' IntOrString: "8080" is refused, since a name needs a letter)."""
    if isinstance(value, str):
        return port_name(path, value)
    return port_number(path, value)


def config_key(path: str, value: Any) -> list[FieldError]:
    """IsConfigMapKey: the keys of ConfigMap and Secret data."""
    if not isinstance(value, str) or not value:
        return [FieldError.invalid(path, value, "a valid config key must be non-empty")]
    errors = []
    if len(value) > 253:
        errors.append(FieldError.invalid(path, value, "must be no more than 253 characters"))
    if not _CONFIG_KEY_RE.fullmatch(value):
        errors.append(
            FieldError.invalid(
                path,
                value,
                (
                    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
                    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
                    "'[-._a-zA-Z0-9]+')"
                ),
            )
        )
    if value in (".", "..") or value.startswith(".."):
        errors.append(
            FieldError.invalid(
                path,
                value,
                "must not be '.' or '..'" if value in (".", "..") else "must not start with '..'",
            )
        )
    return errors


def c_identifier(path: str, value: Any) -> list[FieldError]:
    if not isinstance(value, str) or not _C_IDENTIFIER_RE.fullmatch(value):
        return [
            FieldError.invalid(
                path,
                value,
                (
                    "a valid C identifier must start with alphabetic character or '_', followed by a "
                    "string of alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or "
                    "'MyName', regex used for validation is '[A-Za-z_][A-Za-z0-9_]*')"
                ),
            )
        ]
    return []


# --- labels, annotations, quantities ---------------------------------------------------------


def labels(path: str, value: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    mapping = as_dict(value, path, errors)
    for label_key, label_value in mapping.items():
        for message in label_key_errors(str(label_key)):
            errors.append(FieldError.invalid(path, label_key, message))
        if not isinstance(label_value, str):
            errors.append(
                FieldError.invalid(key(path, str(label_key)), label_value, "must be a string")
            )
            continue
        for message in label_value_errors(label_value):
            errors.append(FieldError.invalid(path, label_value, message))
    return errors


def annotations(path: str, value: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    mapping = as_dict(value, path, errors)
    total = 0
    for annotation_key, annotation_value in mapping.items():
        for message in label_key_errors(str(annotation_key)):
            errors.append(FieldError.invalid(path, annotation_key, message))
        if not isinstance(annotation_value, str):
            errors.append(
                FieldError.invalid(
                    key(path, str(annotation_key)), annotation_value, "must be a string"
                )
            )
            continue
        total += len(str(annotation_key)) + len(annotation_value)
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errors.append(
            FieldError(
                path, "FieldValueTooLong", f"must have at most {TOTAL_ANNOTATION_SIZE_LIMIT} bytes"
            )
        )
    return errors


def quantity(path: str, value: Any) -> tuple[Quantity | None, list[FieldError]]:
    """Parse a quantity; a malformed one gets Kubernetes' message naming the field."""
    try:
        return Quantity.parse(value), []
    except (QuantityError, TypeError, ValueError) as error:
        return None, [FieldError.invalid(path, value, str(error))]


def non_negative_quantity(path: str, value: Any) -> tuple[Quantity | None, list[FieldError]]:
    parsed, errors = quantity(path, value)
    if parsed is not None and parsed < Quantity.parse(0):
        errors.append(FieldError.invalid(path, value, "must be greater than or equal to 0"))
    return parsed, errors


def go_map(value: Any) -> str:
    """Render a string map the way Go's ``%#v`` does, for messages about label maps."""
    if not isinstance(value, dict) or not value:
        return "map[string]string(nil)" if not value else repr(value)
    body = ", ".join(f"{json.dumps(str(k))}:{json.dumps(str(v))}" for k, v in sorted(value.items()))
    return f"map[string]string{{{body}}}"


# --- metadata --------------------------------------------------------------------------------


def validate_object_meta(obj: Obj) -> list[FieldError]:
    errors: list[FieldError] = []
    meta = as_dict(obj.get("metadata"), "metadata", errors, required=True)
    kind = obj.get("kind") if isinstance(obj.get("kind"), str) else ""
    name = meta.get("name")
    if not name:
        if not meta.get("generateName"):
            errors.append(FieldError.required("metadata.name", "name or generateName is required"))
    else:
        if kind in DNS1035_NAMED_KINDS:
            errors.extend(dns1035_label("metadata.name", name))
        else:
            check = dns1123_label if kind in LABEL_NAMED_KINDS else dns1123_subdomain
            errors.extend(check("metadata.name", name))
    namespace = meta.get("namespace")
    if kind in CLUSTER_SCOPED_KINDS:
        if namespace:
            errors.append(FieldError.forbidden("metadata.namespace", "not allowed on this type"))
    elif namespace is not None:
        errors.extend(dns1123_label("metadata.namespace", namespace))
    if "labels" in meta:
        errors.extend(labels("metadata.labels", meta["labels"]))
    if "annotations" in meta:
        errors.extend(annotations("metadata.annotations", meta["annotations"]))
    for path, ref in dicts(meta.get("ownerReferences"), "metadata.ownerReferences", errors):
        for field in ("apiVersion", "kind", "name", "uid"):
            if not ref.get(field):
                errors.append(FieldError.required(child(path, field)))
    controllers = [
        r for r in meta.get("ownerReferences") or [] if isinstance(r, dict) and r.get("controller")
    ]
    if len(controllers) > 1:
        errors.append(
            FieldError.invalid(
                "metadata.ownerReferences",
                meta["ownerReferences"],
                "Only one reference can have Controller set to true",
            )
        )
    finalizers = as_list(meta.get("finalizers"), "metadata.finalizers", errors)
    for i, finalizer in enumerate(finalizers):
        if not isinstance(finalizer, str) or not finalizer:
            errors.append(
                FieldError.invalid(
                    index("metadata.finalizers", i), finalizer, "must be a non-empty string"
                )
            )
    return errors


def validate_object_meta_update(old: Obj, new: Obj) -> list[FieldError]:
    errors: list[FieldError] = []
    old_meta = old.get("metadata") if isinstance(old.get("metadata"), dict) else {}
    new_meta = new.get("metadata") if isinstance(new.get("metadata"), dict) else {}
    for field in ("name", "namespace", "uid", "creationTimestamp"):
        if field in old_meta and new_meta.get(field) != old_meta.get(field):
            errors.append(
                FieldError.invalid(f"metadata.{field}", new_meta.get(field), FIELD_IMMUTABLE)
            )
    return errors


def immutable(path: str, old: Any, new: Any) -> list[FieldError]:
    return [] if old == new else [FieldError.invalid(path, new, FIELD_IMMUTABLE)]


# --- selectors (ValidateLabelSelector, ValidateNodeSelectorRequirement) --------------------


def qualified_name(path: str, value: Any) -> list[FieldError]:
    """IsQualifiedName (label keys, condition types, gate names)."""
    if not isinstance(value, str):
        return [FieldError.invalid(path, value, "must be a string")]
    return [FieldError.invalid(path, value, message) for message in label_key_errors(value)]


def selector_requirement(expr: Obj, path: str, *, node: bool = False) -> list[FieldError]:
    """ValidateLabelSelectorRequirement (or, with ``node``, ValidateNodeSelectorRequirement)."""
    errors: list[FieldError] = []
    operator = expr.get("operator")
    values = as_list(expr.get("values"), child(path, "values"), errors)
    values_path = child(path, "values")
    if operator in ("In", "NotIn"):
        if not values:
            errors.append(
                FieldError.required(
                    values_path, "must be specified when `operator` is 'In' or 'NotIn'"
                )
            )
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            errors.append(
                FieldError.forbidden(
                    values_path,
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )
            )
    elif node and operator in ("Gt", "Lt"):
        if len(values) != 1:
            errors.append(
                FieldError.required(
                    values_path, "must be specified single value when `operator` is 'Lt' or 'Gt'"
                )
            )
    else:
        errors.append(
            FieldError.invalid(child(path, "operator"), operator, "not a valid selector operator")
        )
    errors.extend(qualified_name(child(path, "key"), expr.get("key")))
    for i, value in enumerate(values):
        if not isinstance(value, str):
            errors.append(FieldError.invalid(index(values_path, i), value, "must be a string"))
        elif not node:
            errors.extend(
                FieldError.invalid(index(values_path, i), value, message)
                for message in label_value_errors(value)
            )
    return errors


def label_selector(value: Any, path: str) -> list[FieldError]:
    """ValidateLabelSelector: matchLabels as labels, each matchExpression's rules."""
    errors: list[FieldError] = []
    selector = as_dict(value, path, errors)
    if "matchLabels" in selector:
        errors.extend(labels(child(path, "matchLabels"), selector["matchLabels"]))
    expressions_path = child(path, "matchExpressions")
    for expr_path, expr in dicts(selector.get("matchExpressions"), expressions_path, errors):
        errors.extend(selector_requirement(expr, expr_path))
    return errors
