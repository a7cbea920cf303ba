"""Validation of Pods and workloads (Deployment, ReplicaSet, StatefulSet, DaemonSet).

The rules and messages are Kubernetes v1.32's (``pkg/apis/core/validation`` and
``pkg/apis/apps/validation``); validation runs after :mod:`cluster.store.defaults`, so a defaulted
field that is empty is reported as Kubernetes reports it (``Required value``). Every function
here takes JSON as it comes (lists where maps belong, ``None``, numbers as strings) and returns
``FieldError`` objects; none raises.

>>> [str(e) for e in validate_pod_spec({"containers": []}, "spec")][1]
'spec.containers: Required value'

Where Kubernetes prints a bad value with Go's ``%#v`` (a label map, a ``LabelSelector``), the text
is rendered here the same way, e.g. ``map[string]string{"app":"web"}``.

Two deliberate departures from v1.32, both what later Kubernetes releases do: a StatefulSet's pod
template is validated like any other (its ``volumeClaimTemplates`` count as declared volumes),
and its ``volumeClaimTemplates`` are validated as PersistentVolumeClaim specs. v1.32 accepted
such StatefulSets and then failed to create their pods. One Kubarium rule: a Pod update may set
``spec.nodeName`` while it is empty, because the scheduler binds through an update.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable
from typing import Any

from cluster.quantity import Quantity
from cluster.store.defaults import VOLUME_SOURCES
from cluster.store.errors import FieldError
from cluster.store.selectors import (
    LabelSelector,
    SelectorError,
    label_key_errors,
    label_selector_from_dict,
    label_value_errors,
)
from cluster.store.validation.common import (
    Obj,
    annotations,
    as_dict,
    as_int,
    as_list,
    as_str,
    child,
    config_key,
    dicts,
    dns1123_label,
    dns1123_subdomain,
    go_map,
    index,
    key,
    label_selector,
    labels,
    non_negative,
    one_of,
    port_name,
    qualified_name,
    quantity,
    selector_requirement,
    update_validator,
    validator,
)
from cluster.store.validation.config import validate_pvc_spec

__all__ = [
    "POD_UPDATE_FORBIDDEN",
    "STATEFULSET_UPDATE_FORBIDDEN",
    "go_label_selector",
    "validate_daemon_set",
    "validate_deployment",
    "validate_pod",
    "validate_pod_spec",
    "validate_pod_template",
    "validate_pod_update",
    "validate_replica_set",
    "validate_stateful_set",
    "validate_stateful_set_update",
]

MAX_INT32 = 2**31 - 1
FILE_MODE_MAX = 0o777
FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"
PORT_RANGE_ERROR = "must be between 1 and 65535, inclusive"
NEGATIVE_ERROR = "must be greater than or equal to 0"

UPDATABLE_POD_SPEC_FIELDS = (
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
)
# Kubernetes appends a go-cmp diff of the two specs after a newline; go-cmp's output is
# deliberately unstable, so only the sentence is reproduced.
POD_UPDATE_FORBIDDEN = "pod updates may not change fields other than " + ",".join(
    UPDATABLE_POD_SPEC_FIELDS
)
STATEFULSET_UPDATE_FORBIDDEN = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
)

PROTOCOLS = ("SCTP", "TCP", "UDP")
RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
PREEMPTION_POLICIES = ("PreemptLowerPriority", "Never")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
TOLERATION_OPERATORS = ("Equal", "Exists")
HTTP_SCHEMES = ("HTTP", "HTTPS")
MOUNT_PROPAGATIONS = ("Bidirectional", "HostToContainer", "None")
HOST_PATH_TYPES = (
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
)
STANDARD_CONTAINER_RESOURCES = {"cpu", "memory", "ephemeral-storage"}
ENV_FIELD_PATHS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
# What ConvertDownwardAPIFieldLabel accepts for v1 pods (before the env-specific check above).
DOWNWARD_API_LABELS = {
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.serviceAccountName",
    "spec.schedulerName",
    "status.phase",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
    "spec.host",
}
VOLUME_FIELD_PATHS = (
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
)
RESOURCE_FIELD_PATHS = (
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
)
# Kubernetes names two volume sources wrongly in its "more than 1 volume type" error paths.
_FORBIDDEN_SOURCE_PATH = {"downwardAPI": "downwarAPI", "cephfs": "cephFS"}

_PERCENT_RE = re.compile(r"[0-9]+%")
_PERCENT_ERROR = (
    "a valid percent string must be a numeric string followed by an ending '%' "
    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
)
_HTTP_HEADER_RE = re.compile(r"[-A-Za-z0-9]+")
_HTTP_HEADER_ERROR = (
    "a valid HTTP header must consist of alphanumeric characters or '-' "
    "(e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"
)
_ENV_NAME_ERROR = (
    "a valid environment variable name must consist only of printable ASCII "
    "characters other than '='"
)
_SUBSCRIPTED_RE = re.compile(r"(?P<path>[^\[]+)\['(?P<subscript>.*)'\]", re.DOTALL)
_IPV4_RE = re.compile(
    r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|"
    r"1[0-9]{2}|[1-9]?[0-9])){3}"
)


# --- Go-style rendering of bad values --------------------------------------------------------


def _go_quote(value: Any) -> str:
    return json.dumps(value if isinstance(value, str) else str(value), ensure_ascii=False)


def _go_string_map(value: Any) -> str:
    """``%#v`` of a ``map[string]string``: nil, empty and filled maps print differently."""
    if value is None:
        return "map[string]string(nil)"
    if value == {}:
        return "map[string]string{}"
    return go_map(value)


def _go_strings(value: Any) -> str:
    if value is None:
        return "[]string(nil)"
    if not isinstance(value, list):
        return _go_quote(value)
    return "[]string{" + ", ".join(_go_quote(v) for v in value) + "}"


def _go_requirements(value: Any) -> str:
    kind = "v1.LabelSelectorRequirement"
    if value is None:
        return f"[]{kind}(nil)"
    if not isinstance(value, list):
        return _go_quote(value)
    items = []
    for item in value:
        item = item if isinstance(item, dict) else {}
        items.append(
            f"{kind}{{Key:{_go_quote(item.get('key') or '')}, "
            f"Operator:{_go_quote(item.get('operator') or '')}, "
            f"Values:{_go_strings(item.get('values'))}}}"
        )
    return f"[]{kind}{{" + ", ".join(items) + "}"


def go_label_selector(selector: Any) -> str:
    """A LabelSelector as Kubernetes prints it in field errors (Go's ``%#v``).

    >>> go_label_selector({"matchLabels": {"app": "web"}})
    'v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, \
MatchExpressions:[]v1.LabelSelectorRequirement(nil)}'
    """
    if not isinstance(selector, dict):
        return _go_quote(selector) if selector is not None else "null"
    return (
        f"v1.LabelSelector{{MatchLabels:{_go_string_map(selector.get('matchLabels'))}, "
        f"MatchExpressions:{_go_requirements(selector.get('matchExpressions'))}}}"
    )


def _invalid_go(path: str, value: Any, rendered: str, detail: str) -> FieldError:
    """``field.Invalid`` for a value Go prints with ``%#v`` (a map or a struct).

    The rendered value travels in the detail, so ``str()`` reads exactly like Kubernetes:
    ``spec.selector: Invalid value: v1.LabelSelector{...}: field is immutable``.
    """
    text = f"{rendered}: {detail}" if detail else rendered
    return FieldError(path, "FieldValueInvalid", text, value, False)


def _not_found(path: str, value: Any) -> FieldError:
    return FieldError(path, "FieldValueNotFound", "", value, True)


# --- small shared checks ---------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any, path: str, errors: list[FieldError]) -> str:
    """A string field as Go sees it: ``""`` when absent; a non-string is reported."""
    text = as_str(value, path, errors)
    return text or ""


def _name_errors(path: str, value: Any, *, prefix: bool = False) -> list[FieldError]:
    """NameIsDNSSubdomain; with ``prefix`` a trailing dash is allowed (generateName style)."""
    if prefix and isinstance(value, str) and value.endswith("-"):
        return [
            FieldError.invalid(path, value, e.detail)
            for e in dns1123_subdomain(path, value[:-1] + "a")
        ]
    return dns1123_subdomain(path, value)


def _int_range(value: Any, path: str, low: int, high: int, errors: list[FieldError]) -> None:
    number = as_int(value, path, errors)
    if number is not None and not low <= number <= high:
        errors.append(
            FieldError.invalid(path, number, f"must be between {low} and {high}, inclusive")
        )


def _file_mode(value: Any, path: str, errors: list[FieldError]) -> None:
    mode = as_int(value, path, errors)
    if mode is not None and not 0 <= mode <= FILE_MODE_MAX:
        errors.append(FieldError.invalid(path, mode, FILE_MODE_ERROR))


def _port_num_or_name(value: Any, path: str) -> list[FieldError]:
    """ValidatePortNumOrName for an IntOrString: numbers 1-65535, names IANA service names."""
    if isinstance(value, str):
        return port_name(path, value)
    if value is None:
        return [FieldError.required(path)]
    if not _is_int(value):
        return [FieldError.invalid(path, value, "must be an integer or a port name")]
    if not 1 <= value <= 65535:
        return [FieldError.invalid(path, value, PORT_RANGE_ERROR)]
    return []


def _local_path(value: str, path: str, *, reserved: bool = False) -> list[FieldError]:
    """validateLocalDescendingPath (and ValidateLocalNonReservedPath with ``reserved``)."""
    errors = []
    if value.startswith("/"):
        errors.append(FieldError.invalid(path, value, "must be a relative path"))
    if ".." in value.replace("\\", "/").split("/"):
        errors.append(FieldError.invalid(path, value, "must not contain '..'"))
    if reserved and value.startswith("..") and not value.startswith("../"):
        errors.append(FieldError.invalid(path, value, "must not start with '..'"))
    return errors


def _no_backsteps(value: str, path: str) -> list[FieldError]:
    if ".." in value.replace("\\", "/").split("/"):
        return [FieldError.invalid(path, value, "must not contain '..'")]
    return []


def _is_zero(value: Any) -> bool:
    """Absent, ``null``, ``""``, ``false``, ``[]`` and ``{}`` all decode to Go's zero value."""
    return value is None or value is False or (isinstance(value, str | list | dict) and not value)


def _same(a: Any, b: Any) -> bool:
    """Equality as ``apiequality.Semantic.DeepEqual`` sees decoded JSON: a field that is absent
    equals one holding its zero value (``null``, ``""``, ``false``, ``[]``, ``{}``)."""
    if isinstance(a, dict) or isinstance(b, dict):
        if not all(isinstance(x, dict) or _is_zero(x) for x in (a, b)):
            return False
        a, b = a or {}, b or {}
        return all(_same(a.get(k), b.get(k)) for k in a.keys() | b.keys())
    if isinstance(a, list) or isinstance(b, list):
        if not all(isinstance(x, list) or _is_zero(x) for x in (a, b)):
            return False
        a, b = a or [], b or []
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return (_is_zero(a) and _is_zero(b)) or a == b


# --- label selectors -------------------------------------------------------------------------


def _parsable(selector: Obj) -> bool:
    """Whether the selector has the shape ``label_selector_from_dict`` takes (the JSON types a
    Go decoder would insist on); shape errors are reported by ``_label_selector``."""
    match_labels = selector.get("matchLabels")
    expressions = selector.get("matchExpressions")
    if match_labels and not isinstance(match_labels, dict):
        return False
    return not expressions or (
        isinstance(expressions, list)
        and all(
            isinstance(e, dict)
            and isinstance(e.get("key", ""), str)
            and isinstance(e.get("operator", ""), str | None)
            and (e.get("values") is None or isinstance(e.get("values"), list))
            for e in expressions
        )
    )


def _workload_selector(
    value: Any,
    path: str,
    what: str,
    errors: list[FieldError],
    *,
    required: bool = True,
    parse_detail: str | None = "invalid label selector",
) -> LabelSelector | None:
    """spec.selector of a workload: required, well formed and not empty.

    Returns the parsed selector (``LabelSelector.nothing()`` when absent, as Kubernetes reads a
    nil selector), or None when it cannot be used to check the template's labels.
    """
    if value is None:
        if required:
            errors.append(FieldError.required(path))
        return LabelSelector.nothing()
    if not isinstance(value, dict):
        errors.append(FieldError.invalid(path, value, "must be an object"))
        return None
    errors.extend(label_selector(value, path))
    if not value.get("matchLabels") and not value.get("matchExpressions"):
        errors.append(
            _invalid_go(
                path, value, go_label_selector(value), f"empty selector is invalid for {what}"
            )
        )
    if not _parsable(value):
        return None
    try:
        return label_selector_from_dict(value)
    except SelectorError:
        if parse_detail is not None:
            errors.append(_invalid_go(path, value, go_label_selector(value), parse_detail))
        return None


# --- volumes ---------------------------------------------------------------------------------


def _key_to_paths(items: Any, path: str, errors: list[FieldError]) -> None:
    for item_path, item in dicts(items, path, errors):
        if not item.get("key"):
            errors.append(FieldError.required(child(item_path, "key")))
        target = _text(item.get("path"), child(item_path, "path"), errors)
        if not target:
            errors.append(FieldError.required(child(item_path, "path")))
        errors.extend(_local_path(target, child(item_path, "path"), reserved=True))
        _file_mode(item.get("mode"), child(item_path, "mode"), errors)


def _secret_source(source: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if not source.get("secretName"):
        errors.append(FieldError.required(child(path, "secretName")))
    _file_mode(source.get("defaultMode"), child(path, "defaultMode"), errors)
    _key_to_paths(source.get("items"), child(path, "items"), errors)
    return errors


def _config_map_source(source: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if not source.get("name"):
        errors.append(FieldError.required(child(path, "name")))
    _file_mode(source.get("defaultMode"), child(path, "defaultMode"), errors)
    _key_to_paths(source.get("items"), child(path, "items"), errors)
    return errors


def _empty_dir_source(source: Obj, path: str) -> list[FieldError]:
    if source.get("sizeLimit") is None:
        return []
    limit_path = child(path, "sizeLimit")
    parsed, errors = quantity(limit_path, source["sizeLimit"])
    if parsed is not None and parsed.sign() < 0:
        errors.append(
            FieldError.forbidden(limit_path, "SizeLimit field must be a valid resource quantity")
        )
    return errors


def _host_path_source(source: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    target = _text(source.get("path"), child(path, "path"), errors)
    if not target:
        return errors + [FieldError.required(child(path, "path"))]
    errors.extend(_no_backsteps(target, child(path, "path")))
    kind = source.get("type")
    if kind is not None and kind not in HOST_PATH_TYPES:
        errors.append(FieldError.not_supported(child(path, "type"), kind, HOST_PATH_TYPES))
    return errors


def _pvc_source(source: Obj, path: str) -> list[FieldError]:
    if not source.get("claimName"):
        return [FieldError.required(child(path, "claimName"))]
    return []


def _nfs_source(source: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if not source.get("server"):
        errors.append(FieldError.required(child(path, "server")))
    target = _text(source.get("path"), child(path, "path"), errors)
    if not target:
        errors.append(FieldError.required(child(path, "path")))
    if not target.startswith("/"):
        errors.append(FieldError.invalid(child(path, "path"), target, "must be an absolute path"))
    return errors


def _downward_api_file(item: Obj, path: str, item_path: str) -> list[FieldError]:
    """One downwardAPI volume file; Kubernetes reports its fields under the volume's path."""
    errors: list[FieldError] = []
    target = _text(item.get("path"), child(path, "path"), errors)
    if not target:
        errors.append(FieldError.required(child(path, "path")))
    errors.extend(_local_path(target, child(path, "path"), reserved=True))
    field_ref, resource_ref = item.get("fieldRef"), item.get("resourceFieldRef")
    if field_ref is not None:
        errors.extend(
            _object_field_selector(field_ref, child(path, "fieldRef"), VOLUME_FIELD_PATHS)
        )
        if resource_ref is not None:
            errors.append(
                FieldError.invalid(
                    path,
                    "resource",
                    "fieldRef and resourceFieldRef can not be specified simultaneously",
                )
            )
    elif resource_ref is not None:
        errors.extend(
            _resource_field_selector(resource_ref, child(path, "resourceFieldRef"), volume=True)
        )
    else:
        errors.append(FieldError.required(path, "one of fieldRef and resourceFieldRef is required"))
    _file_mode(item.get("mode"), child(path, "mode"), errors)
    return errors


def _downward_api_source(source: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    _file_mode(source.get("defaultMode"), child(path, "defaultMode"), errors)
    for item_path, item in dicts(source.get("items"), child(path, "items"), errors):
        errors.extend(_downward_api_file(item, path, item_path))
    return errors


def _projection(source: Obj, path: str, errors: list[FieldError]) -> int:
    """One projected source; returns how many kinds of source it names."""
    count = 0
    for kind, name_key in (("secret", "name"), ("configMap", "name")):
        if source.get(kind) is not None:
            count += 1
            sub = as_dict(source[kind], child(path, kind), errors)
            if not sub.get(name_key):
                errors.append(FieldError.required(child(child(path, kind), name_key)))
            _key_to_paths(sub.get("items"), child(child(path, kind), "items"), errors)
    if source.get("downwardAPI") is not None:
        count += 1
        sub = as_dict(source["downwardAPI"], child(path, "downwardAPI"), errors)
        for item_path, item in dicts(sub.get("items"), child(path, "downwardAPI.items"), errors):
            errors.extend(_downward_api_file(item, child(path, "downwardAPI"), item_path))
    if source.get("serviceAccountToken") is not None:
        count += 1
        errors.extend(
            _token_projection(source["serviceAccountToken"], child(path, "serviceAccountToken"))
        )
    if source.get("clusterTrustBundle") is not None:
        count += 1
    return count


def _token_projection(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    token = as_dict(value, path, errors)
    seconds = as_int(token.get("expirationSeconds"), child(path, "expirationSeconds"), errors)
    if seconds is not None and seconds < 600:
        errors.append(
            FieldError.invalid(
                child(path, "expirationSeconds"),
                seconds,
                "may not specify a duration less than 10 minutes",
            )
        )
    if seconds is not None and seconds > 2**32:
        errors.append(
            FieldError.invalid(
                child(path, "expirationSeconds"),
                seconds,
                "may not specify a duration larger than 2^32 seconds",
            )
        )
    target = _text(token.get("path"), child(path, "path"), errors)
    if not target:
        errors.append(FieldError.required(child(path, "path")))
    else:
        errors.extend(_local_path(target, child(path, "path"), reserved=True))
    return errors


def _projected_source(source: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    _file_mode(source.get("defaultMode"), child(path, "defaultMode"), errors)
    for source_path, item in dicts(source.get("sources"), child(path, "sources"), errors):
        if _projection(item, source_path, errors) > 1:
            errors.append(
                FieldError.forbidden(
                    source_path, "may not specify more than 1 volume type per source"
                )
            )
    return errors


def _csi_source(source: Obj, path: str) -> list[FieldError]:
    if not source.get("driver"):
        return [FieldError.required(child(path, "driver"))]
    return []


def _ephemeral_source(source: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    template_path = child(path, "volumeClaimTemplate")
    template = source.get("volumeClaimTemplate")
    if template is None:
        return [FieldError.required(template_path)]
    template = as_dict(template, template_path, errors)
    return errors + validate_pvc_spec(template.get("spec"), child(template_path, "spec"))


_SOURCE_CHECKS = {
    "emptyDir": _empty_dir_source,
    "hostPath": _host_path_source,
    "secret": _secret_source,
    "nfs": _nfs_source,
    "persistentVolumeClaim": _pvc_source,
    "downwardAPI": _downward_api_source,
    "configMap": _config_map_source,
    "projected": _projected_source,
    "csi": _csi_source,
    "ephemeral": _ephemeral_source,
}


def _volume_source(volume: Obj, path: str) -> list[FieldError]:
    """Exactly one volume source, checked in Kubernetes' order; extra ones are Forbidden."""
    errors: list[FieldError] = []
    found = 0
    for source in VOLUME_SOURCES:
        if volume.get(source) is None:
            continue
        if found:
            errors.append(
                FieldError.forbidden(
                    child(path, _FORBIDDEN_SOURCE_PATH.get(source, source)),
                    "may not specify more than 1 volume type",
                )
            )
            continue
        found += 1
        body = as_dict(volume[source], child(path, source), errors)
        check = _SOURCE_CHECKS.get(source)
        if check is not None:
            errors.extend(check(body, child(path, source)))
    if not found:
        errors.append(FieldError.required(path, "must specify a volume type"))
    return errors


def _volumes(value: Any, path: str, errors: list[FieldError]) -> dict[str, Obj]:
    """ValidateVolumes: the names of the valid volumes, mapped to the volumes."""
    declared: dict[str, Obj] = {}
    for volume_path, volume in dicts(value, path, errors):
        name = volume.get("name")
        name_path = child(volume_path, "name")
        problems = _volume_source(volume, volume_path)
        if name in (None, ""):
            problems.append(FieldError.required(name_path))
        else:
            problems.extend(dns1123_label(name_path, name))
        if isinstance(name, str) and name in declared:
            problems.append(FieldError.duplicate(name_path, name))
        if problems:
            errors.extend(problems)
        elif isinstance(name, str):
            declared[name] = volume
    return declared


# --- containers: ports, env, mounts, resources, probes ---------------------------------------


def _container_ports(value: Any, path: str, errors: list[FieldError]) -> None:
    names: set[str] = set()
    for port_path, port in dicts(value, path, errors):
        name = port.get("name")
        if name not in (None, ""):
            problems = port_name(child(port_path, "name"), name)
            if problems:
                errors.extend(problems)
            elif name in names:
                errors.append(FieldError.duplicate(child(port_path, "name"), name))
            else:
                names.add(name)
        _container_port_number(port.get("containerPort"), child(port_path, "containerPort"), errors)
        host_port = port.get("hostPort")
        if host_port not in (None, 0) or isinstance(host_port, bool):
            _port_number(host_port, child(port_path, "hostPort"), errors)
        one_of(port.get("protocol"), child(port_path, "protocol"), PROTOCOLS, errors, required=True)


def _container_port_number(value: Any, path: str, errors: list[FieldError]) -> None:
    """containerPort: 0 (Go's zero value) is missing, others must be 1-65535."""
    if value is None or (_is_int(value) and value == 0):
        errors.append(FieldError.required(path))
    else:
        _port_number(value, path, errors)


def _port_number(value: Any, path: str, errors: list[FieldError]) -> None:
    number = as_int(value, path, errors)
    if number is not None and not 1 <= number <= 65535:
        errors.append(FieldError.invalid(path, number, PORT_RANGE_ERROR))


def _env_name(value: Any, path: str) -> list[FieldError]:
    """v1.32 (RelaxedEnvironmentVariableValidation, beta and on): printable ASCII but '='."""
    if value in (None, ""):
        return [FieldError.required(path)]
    if not isinstance(value, str):
        return [FieldError.invalid(path, value, "must be a string")]
    if any(not " " <= char <= "~" or char == "=" for char in value):
        return [FieldError.invalid(path, value, _ENV_NAME_ERROR)]
    return []


def _object_field_selector(value: Any, path: str, allowed: Iterable[str]) -> list[FieldError]:
    """validateObjectFieldSelector: a downward API ``fieldRef``."""
    errors: list[FieldError] = []
    ref = as_dict(value, path, errors)
    api_version = _text(ref.get("apiVersion"), child(path, "apiVersion"), errors)
    field_path = _text(ref.get("fieldPath"), child(path, "fieldPath"), errors)
    if not api_version:
        return errors + [FieldError.required(child(path, "apiVersion"))]
    if not field_path:
        return errors + [FieldError.required(child(path, "fieldPath"))]
    subscripted = _SUBSCRIPTED_RE.fullmatch(field_path)
    base = subscripted["path"] if subscripted else field_path
    if api_version != "v1":
        problem = f"unsupported pod version: {api_version}"
    elif subscripted and base in ("metadata.annotations", "metadata.labels"):
        problem = ""
    elif subscripted or field_path not in DOWNWARD_API_LABELS:
        problem = f"field label not supported: {field_path}"
    else:
        problem = ""
    if problem:
        return errors + [
            FieldError.invalid(
                child(path, "fieldPath"), field_path, f"error converting fieldPath: {problem}"
            )
        ]
    if subscripted:
        subscript = subscripted["subscript"]
        if base == "metadata.annotations":
            subscript = subscript.lower()
        return errors + qualified_name(path, subscript)
    base = "spec.nodeName" if base == "spec.host" else base
    if base not in allowed:
        errors.append(FieldError.not_supported(child(path, "fieldPath"), base, sorted(allowed)))
    return errors


def _resource_field_selector(value: Any, path: str, *, volume: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    ref = as_dict(value, path, errors)
    resource = ref.get("resource")
    if volume and not ref.get("containerName"):
        errors.append(FieldError.required(child(path, "containerName")))
    elif resource in (None, ""):
        errors.append(FieldError.required(child(path, "resource")))
    elif resource not in RESOURCE_FIELD_PATHS and not (
        isinstance(resource, str)
        and resource.startswith(("requests.hugepages-", "limits.hugepages-"))
    ):
        errors.append(
            FieldError.not_supported(child(path, "resource"), resource, RESOURCE_FIELD_PATHS)
        )
    return errors


def _key_selector(value: Any, path: str) -> list[FieldError]:
    """configMapKeyRef / secretKeyRef: a valid object name and a valid key."""
    errors: list[FieldError] = []
    ref = as_dict(value, path, errors)
    errors.extend(_name_errors(child(path, "name"), ref.get("name") or ""))
    if ref.get("key") in (None, ""):
        errors.append(FieldError.required(child(path, "key")))
    else:
        errors.extend(config_key(child(path, "key"), ref["key"]))
    return errors


def _env_value_from(env: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    source = as_dict(env.get("valueFrom"), path, errors)
    checks = {
        "fieldRef": lambda v, p: _object_field_selector(v, p, ENV_FIELD_PATHS),
        "resourceFieldRef": lambda v, p: _resource_field_selector(v, p, volume=False),
        "configMapKeyRef": _key_selector,
        "secretKeyRef": _key_selector,
    }
    count = 0
    for name, check in checks.items():
        if source.get(name) is not None:
            count += 1
            errors.extend(check(source[name], child(path, name)))
    if count == 0:
        errors.append(
            FieldError.invalid(
                path,
                "",
                "must specify one of: `fieldRef`, "
                "`resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            )
        )
    elif env.get("value") not in (None, ""):
        errors.append(
            FieldError.invalid(path, "", "may not be specified when `value` is not empty")
        )
    elif count > 1:
        errors.append(
            FieldError.invalid(path, "", "may not have more than one field specified at a time")
        )
    return errors


def _env(value: Any, path: str, errors: list[FieldError]) -> None:
    for env_path, env in dicts(value, path, errors):
        errors.extend(_env_name(env.get("name"), child(env_path, "name")))
        as_str(env.get("value"), child(env_path, "value"), errors)
        if env.get("valueFrom") is not None:
            errors.extend(_env_value_from(env, child(env_path, "valueFrom")))


def _env_from(value: Any, path: str, errors: list[FieldError]) -> None:
    for source_path, source in dicts(value, path, errors):
        if source.get("prefix") not in (None, ""):
            errors.extend(_env_name(source["prefix"], child(source_path, "prefix")))
        count = 0
        for kind in ("configMapRef", "secretRef"):
            if source.get(kind) is None:
                continue
            count += 1
            ref = as_dict(source[kind], child(source_path, kind), errors)
            name_path = child(child(source_path, kind), "name")
            if ref.get("name") in (None, ""):
                errors.append(FieldError.required(name_path))
            else:
                errors.extend(_name_errors(name_path, ref["name"], prefix=True))
        if count == 0:
            errors.append(
                FieldError.invalid(path, "", "must specify one of: `configMapRef` or `secretRef`")
            )
        elif count > 1:
            errors.append(
                FieldError.invalid(path, "", "may not have more than one field specified at a time")
            )


def _volume_mounts(container: Obj, path: str, volumes: set[str], errors: list[FieldError]) -> None:
    """ValidateVolumeMounts. Like Kubernetes, subPath and mountPropagation errors carry the
    list's path, not the item's."""
    mount_paths: set[str] = set()
    privileged = as_dict(container.get("securityContext"), "", []).get("privileged") is True
    for mount_path, mount in dicts(container.get("volumeMounts"), path, errors):
        name = mount.get("name")
        if name in (None, ""):
            errors.append(FieldError.required(child(mount_path, "name")))
        if not isinstance(name, str) or name not in volumes:
            errors.append(_not_found(child(mount_path, "name"), name if name is not None else ""))
        target = _text(mount.get("mountPath"), child(mount_path, "mountPath"), errors)
        if not target:
            errors.append(FieldError.required(child(mount_path, "mountPath")))
        if target in mount_paths:
            errors.append(
                FieldError.invalid(child(mount_path, "mountPath"), target, "must be unique")
            )
        mount_paths.add(target)
        _mount_sub_paths(mount, path, mount_path, errors)
        _mount_propagation(
            mount.get("mountPropagation"), privileged, child(path, "mountPropagation"), errors
        )


def _mount_sub_paths(mount: Obj, path: str, mount_path: str, errors: list[FieldError]) -> None:
    sub_path = _text(mount.get("subPath"), child(mount_path, "subPath"), errors)
    expression = _text(mount.get("subPathExpr"), child(mount_path, "subPathExpr"), errors)
    if sub_path:
        errors.extend(_local_path(sub_path, child(path, "subPath")))
    if expression:
        if sub_path:
            errors.append(
                FieldError.invalid(
                    child(mount_path, "subPathExpr"),
                    expression,
                    "subPathExpr and subPath are mutually exclusive",
                )
            )
        errors.extend(_local_path(expression, child(path, "subPathExpr")))


def _mount_propagation(value: Any, privileged: bool, path: str, errors: list[FieldError]) -> None:
    if value is None:
        return
    if value not in MOUNT_PROPAGATIONS:
        errors.append(FieldError.not_supported(path, value, MOUNT_PROPAGATIONS))
    if value == "Bidirectional" and not privileged:
        errors.append(
            FieldError.forbidden(
                path, "Bidirectional mount propagation is available only to privileged containers"
            )
        )


def _is_native_resource(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _is_extended_resource(name: str) -> bool:
    return (
        not _is_native_resource(name)
        and not name.startswith("requests.")
        and not label_key_errors("requests." + name)
    )


def _resource_name(name: str, path: str) -> list[FieldError]:
    """validateContainerResourceName: cpu, memory, ephemeral-storage, hugepages-*, extended."""
    errors = [FieldError.invalid(path, name, message) for message in label_key_errors(name)]
    if "/" not in name:
        if name not in STANDARD_CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            errors.append(
                FieldError.invalid(path, name, "must be a standard resource for containers")
            )
    elif not _is_native_resource(name) and not _is_extended_resource(name):
        errors.append(
            FieldError.invalid(path, name, "doesn't follow extended resource name standard")
        )
    return errors


def _resource_list(value: Any, path: str, errors: list[FieldError]) -> dict[str, Quantity]:
    """Names and quantities of ``limits`` or ``requests``; the parsable ones are returned.

    A malformed quantity is reported at ``requests.cpu`` with the Quantity's own message; the
    checks Kubernetes makes on parsed values use its ``requests[cpu]`` form.
    """
    parsed: dict[str, Quantity] = {}
    for name, raw in as_dict(value, path, errors).items():
        key_path = key(path, str(name))
        errors.extend(_resource_name(str(name), key_path))
        amount, problems = quantity(child(path, str(name)), raw)
        errors.extend(problems)
        if amount is None:
            continue
        if amount.sign() < 0:
            errors.append(FieldError.invalid(key_path, str(amount), NEGATIVE_ERROR))
        if _is_extended_resource(str(name)) and amount.milli_value() % 1000:
            errors.append(FieldError.invalid(key_path, str(amount), "must be an integer"))
        parsed[str(name)] = amount
    return parsed


def _resources(value: Any, path: str, errors: list[FieldError]) -> None:
    """ValidateResourceRequirements: well-formed quantities and requests within limits."""
    resources = as_dict(value, path, errors)
    limits_path, requests_path = child(path, "limits"), child(path, "requests")
    limits = _resource_list(resources.get("limits"), limits_path, errors)
    requests = _resource_list(resources.get("requests"), requests_path, errors)
    limit_names = set(as_dict(resources.get("limits"), "", []))
    for name, request in requests.items():
        overcommit = _is_native_resource(name) and not name.startswith("hugepages-")
        limit = limits.get(name)
        if limit is None:
            if not overcommit and name not in limit_names:
                errors.append(
                    FieldError.required(
                        limits_path, "Limit must be set for non overcommitable resources"
                    )
                )
        elif not overcommit and request != limit:
            errors.append(
                FieldError.invalid(
                    requests_path, str(request), f"must be equal to {name} limit of {limit}"
                )
            )
        elif request > limit:
            errors.append(
                FieldError.invalid(
                    requests_path,
                    str(request),
                    f"must be less than or equal to {name} limit of {limit}",
                )
            )


def _http_get(action: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if action.get("path") in (None, ""):
        errors.append(FieldError.required(child(path, "path")))
    errors.extend(_port_num_or_name(action.get("port"), child(path, "port")))
    if action.get("scheme") not in HTTP_SCHEMES:
        errors.append(
            FieldError.not_supported(child(path, "scheme"), action.get("scheme"), HTTP_SCHEMES)
        )
    for _header_path, header in dicts(
        action.get("httpHeaders"), child(path, "httpHeaders"), errors
    ):
        name = header.get("name")
        if not isinstance(name, str) or not _HTTP_HEADER_RE.fullmatch(name):
            errors.append(FieldError.invalid(child(path, "httpHeaders"), name, _HTTP_HEADER_ERROR))
    return errors


def _exec(action: Obj, path: str) -> list[FieldError]:
    if not as_list(action.get("command"), child(path, "command"), []):
        return [FieldError.required(child(path, "command"))]
    return []


def _sleep(action: Obj, path: str, grace: int | None) -> list[FieldError]:
    """SleepAction in v1.32 (PodLifecycleSleepActionAllowZero off): 0 < seconds <= grace."""
    errors: list[FieldError] = []
    seconds = as_int(action.get("seconds"), child(path, "seconds"), errors)
    if seconds is not None and grace is not None and not 0 < seconds <= grace:
        errors.append(
            FieldError.invalid(
                path,
                seconds,
                f"must be greater than 0 and less than terminationGracePeriodSeconds "
                f"({grace}). Enable AllowPodLifecycleSleepActionZeroValue feature "
                "gate for zero sleep.",
            )
        )
    return errors


def _handler(value: Obj, path: str, kinds: tuple[str, ...], grace: int | None) -> list[FieldError]:
    """validateHandler: exactly one handler type; further ones are Forbidden."""
    errors: list[FieldError] = []
    checks = {
        "exec": _exec,
        "httpGet": _http_get,
        "tcpSocket": lambda a, p: _port_num_or_name(a.get("port"), child(p, "port")),
        "grpc": lambda a, p: _grpc_port(a.get("port"), child(p, "port")),
        "sleep": lambda a, p: _sleep(a, p, grace),
    }
    found = 0
    for kind in kinds:
        if value.get(kind) is None:
            continue
        if found:
            errors.append(
                FieldError.forbidden(child(path, kind), "may not specify more than 1 handler type")
            )
            continue
        found += 1
        errors.extend(
            checks[kind](as_dict(value[kind], child(path, kind), errors), child(path, kind))
        )
    if not found:
        errors.append(FieldError.required(path, "must specify a handler type"))
    return errors


def _grpc_port(value: Any, path: str) -> list[FieldError]:
    if value is None or _is_int(value):
        return _port_num_or_name(value if value is not None else 0, path)
    return [FieldError.invalid(path, value, "must be an integer")]


def _probe(value: Any, path: str, grace: int | None, kind: str) -> list[FieldError]:
    """A liveness, readiness or startup probe (``kind`` is the container field's name)."""
    errors: list[FieldError] = []
    probe = as_dict(value, path, errors)
    errors.extend(_handler(probe, path, ("exec", "httpGet", "tcpSocket", "grpc"), grace))
    for field in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        non_negative(probe.get(field), child(path, field), errors)
    grace_path = child(path, "terminationGracePeriodSeconds")
    probe_grace = as_int(probe.get("terminationGracePeriodSeconds"), grace_path, errors)
    if probe_grace is not None and probe_grace <= 0:
        errors.append(FieldError.invalid(grace_path, probe_grace, "must be greater than 0"))
    threshold = probe.get("successThreshold")
    if kind in ("livenessProbe", "startupProbe") and _is_int(threshold) and threshold != 1:
        errors.append(FieldError.invalid(child(path, "successThreshold"), threshold, "must be 1"))
    if kind == "readinessProbe" and probe.get("terminationGracePeriodSeconds") is not None:
        errors.append(
            FieldError.invalid(
                grace_path,
                probe["terminationGracePeriodSeconds"],
                "must not be set for readinessProbes",
            )
        )
    return errors


def _lifecycle(value: Any, path: str, grace: int | None) -> list[FieldError]:
    errors: list[FieldError] = []
    lifecycle = as_dict(value, path, errors)
    for hook in ("postStart", "preStop"):
        if lifecycle.get(hook) is not None:
            hook_path = child(path, hook)
            errors.extend(
                _handler(
                    as_dict(lifecycle[hook], hook_path, errors),
                    hook_path,
                    ("exec", "httpGet", "tcpSocket", "sleep"),
                    grace,
                )
            )
    return errors


def _probes_and_lifecycle(container: Obj, path: str, grace: int | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if container.get("lifecycle") is not None:
        errors.extend(_lifecycle(container["lifecycle"], child(path, "lifecycle"), grace))
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        if container.get(kind) is not None:
            errors.extend(_probe(container[kind], child(path, kind), grace, kind))
    return errors


# --- containers ------------------------------------------------------------------------------


def _container_common(
    container: Obj, path: str, volumes: set[str], *, is_pod: bool
) -> list[FieldError]:
    """validateContainerCommon: name, image, policies, ports, env, mounts, resources."""
    errors: list[FieldError] = []
    name = container.get("name")
    if name in (None, ""):
        errors.append(FieldError.required(child(path, "name")))
    else:
        errors.extend(dns1123_label(child(path, "name"), name))
    image = as_str(container.get("image"), child(path, "image"), errors)
    if container.get("image") in (None, ""):
        errors.append(FieldError.required(child(path, "image")))
    elif is_pod and image is not None and image != image.strip():
        errors.append(
            FieldError.invalid(
                child(path, "image"), image, "must not have leading or trailing whitespace"
            )
        )
    one_of(
        container.get("terminationMessagePolicy"),
        child(path, "terminationMessagePolicy"),
        TERMINATION_MESSAGE_POLICIES,
        errors,
        required=True,
    )
    _container_ports(container.get("ports"), child(path, "ports"), errors)
    _env(container.get("env"), child(path, "env"), errors)
    _env_from(container.get("envFrom"), child(path, "envFrom"), errors)
    _volume_mounts(container, child(path, "volumeMounts"), volumes, errors)
    one_of(
        container.get("imagePullPolicy"),
        child(path, "imagePullPolicy"),
        PULL_POLICIES,
        errors,
        required=True,
    )
    _resources(container.get("resources"), child(path, "resources"), errors)
    return errors


def _containers(
    spec: Obj, path: str, volumes: set[str], grace: int | None, *, is_pod: bool
) -> tuple[list[FieldError], list[tuple[str, Obj]]]:
    """validateContainers: at least one, unique names; returns the errors and the containers."""
    errors: list[FieldError] = []
    items = dicts(spec.get("containers"), path, errors, required=True)
    names: set[str] = set()
    for container_path, container in items:
        errors.extend(_container_common(container, container_path, volumes, is_pod=is_pod))
        name = container.get("name")
        if isinstance(name, str) and name in names:
            errors.append(FieldError.duplicate(child(container_path, "name"), name))
        elif isinstance(name, str):
            names.add(name)
        errors.extend(_probes_and_lifecycle(container, container_path, grace))
        if container.get("restartPolicy") is not None:
            errors.append(
                FieldError.forbidden(
                    child(container_path, "restartPolicy"), "may not be set for non-init containers"
                )
            )
    errors.extend(_host_port_conflicts(items))
    return errors, items


def _init_containers(
    spec: Obj,
    path: str,
    regular: list[tuple[str, Obj]],
    volumes: set[str],
    grace: int | None,
    *,
    is_pod: bool,
) -> list[FieldError]:
    """validateInitContainers: names unique across both lists; sidecars may have probes."""
    errors: list[FieldError] = []
    names = {c.get("name") for _, c in regular if isinstance(c.get("name"), str)}
    for container_path, container in dicts(spec.get("initContainers"), path, errors):
        errors.extend(_container_common(container, container_path, volumes, is_pod=is_pod))
        policy = container.get("restartPolicy")
        if policy is not None and policy != "Always":
            errors.append(
                FieldError.not_supported(child(container_path, "restartPolicy"), policy, ["Always"])
            )
        name = container.get("name")
        if isinstance(name, str) and name in names:
            errors.append(FieldError.duplicate(child(container_path, "name"), name))
        elif isinstance(name, str) and name:
            names.add(name)
        errors.extend(_host_port_conflicts([(container_path, container)]))
        if policy == "Always":
            errors.extend(_probes_and_lifecycle(container, container_path, grace))
            continue
        for field in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
            if container.get(field) is not None:
                errors.append(
                    FieldError.forbidden(
                        child(container_path, field),
                        "may not be set for init containers without restartPolicy=Always",
                    )
                )
    return errors


def _host_port_conflicts(containers: list[tuple[str, Obj]]) -> list[FieldError]:
    """AccumulateUniqueHostPorts: one protocol/hostIP/hostPort per set of containers."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for container_path, container in containers:
        ports = container.get("ports")
        for i, port in enumerate(ports if isinstance(ports, list) else []):
            if (
                not isinstance(port, dict)
                or not _is_int(port.get("hostPort"))
                or not port["hostPort"]
            ):
                continue
            text = f"{port.get('protocol') or ''}/{port.get('hostIP') or ''}/{port['hostPort']}"
            if text in seen:
                errors.append(
                    FieldError.duplicate(
                        child(index(child(container_path, "ports"), i), "hostPort"), text
                    )
                )
            seen.add(text)
    return errors


def _host_network_ports(containers: list[tuple[str, Obj]], *, is_pod: bool) -> list[FieldError]:
    """With hostNetwork a hostPort must equal its containerPort (templates may leave it 0)."""
    errors: list[FieldError] = []
    for container_path, container in containers:
        ports = container.get("ports")
        for i, port in enumerate(ports if isinstance(ports, list) else []):
            if not isinstance(port, dict):
                continue
            host, target = port.get("hostPort") or 0, port.get("containerPort") or 0
            if (is_pod or host != 0) and host != target:
                errors.append(
                    FieldError.invalid(
                        child(index(child(container_path, "ports"), i), "hostPort"),
                        host,
                        "must match `containerPort` when `hostNetwork` is true",
                    )
                )
    return errors


# --- scheduling: node selectors, affinity, tolerations ---------------------------------------


def _node_selector_term(term: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for expr_path, expr in dicts(
        term.get("matchExpressions"), child(path, "matchExpressions"), errors
    ):
        errors.extend(selector_requirement(expr, expr_path, node=True))
    for field_path, requirement in dicts(
        term.get("matchFields"), child(path, "matchFields"), errors
    ):
        errors.extend(_node_field_requirement(requirement, field_path))
    return errors


def _node_field_requirement(requirement: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    values = as_list(requirement.get("values"), child(path, "values"), errors)
    if requirement.get("operator") in ("In", "NotIn"):
        if len(values) != 1:
            errors.append(
                FieldError.required(
                    child(path, "values"),
                    "must be only one value when `operator` is 'In' or "
                    "'NotIn' for node field selector",
                )
            )
    else:
        errors.append(
            FieldError.invalid(
                child(path, "operator"),
                requirement.get("operator"),
                "not a valid selector operator",
            )
        )
    if requirement.get("key") != "metadata.name":
        errors.append(
            FieldError.invalid(
                child(path, "key"), requirement.get("key"), "not a valid field selector key"
            )
        )
    else:
        for i, value in enumerate(values):
            errors.extend(dns1123_subdomain(index(child(path, "values"), i), value))
    return errors


def _node_affinity(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    affinity = as_dict(value, path, errors)
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is not None:
        required_path = child(path, "requiredDuringSchedulingIgnoredDuringExecution")
        terms_path = child(required_path, "nodeSelectorTerms")
        selector = as_dict(required, required_path, errors)
        terms = dicts(selector.get("nodeSelectorTerms"), terms_path, errors)
        if not terms and not errors:
            errors.append(
                FieldError.required(terms_path, "must have at least one node selector term")
            )
        for term_path, term in terms:
            errors.extend(_node_selector_term(term, term_path))
    preferred_path = child(path, "preferredDuringSchedulingIgnoredDuringExecution")
    for term_path, term in dicts(
        affinity.get("preferredDuringSchedulingIgnoredDuringExecution"), preferred_path, errors
    ):
        errors.extend(_weight(term.get("weight"), child(term_path, "weight")))
        preference = as_dict(term.get("preference"), child(term_path, "preference"), errors)
        errors.extend(_node_selector_term(preference, child(term_path, "preference")))
    return errors


def _weight(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    weight = as_int(value, path, errors)
    if weight is None and value is None:
        weight = 0
    if weight is not None and not 1 <= weight <= 100:
        errors.append(FieldError.invalid(path, weight, "must be in the range 1-100"))
    return errors


def _pod_affinity_term(term: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if term.get("labelSelector") is not None:
        selector = as_dict(term["labelSelector"], child(path, "labelSelector"), errors)
        errors.extend(label_selector(selector, child(path, "labelSelector")))
    for name in as_list(term.get("namespaces"), child(path, "namespaces"), errors):
        errors.extend(dns1123_label(child(path, "namespace"), name))
    topology_key = term.get("topologyKey")
    if topology_key in (None, ""):
        errors.append(FieldError.required(child(path, "topologyKey"), "can not be empty"))
    errors.extend(qualified_name(child(path, "topologyKey"), topology_key or ""))
    return errors


def _pod_affinity(value: Any, path: str) -> list[FieldError]:
    """podAffinity or podAntiAffinity: required terms and weighted preferred terms."""
    errors: list[FieldError] = []
    affinity = as_dict(value, path, errors)
    required_path = child(path, "requiredDuringSchedulingIgnoredDuringExecution")
    for term_path, term in dicts(
        affinity.get("requiredDuringSchedulingIgnoredDuringExecution"), required_path, errors
    ):
        errors.extend(_pod_affinity_term(term, term_path))
    preferred_path = child(path, "preferredDuringSchedulingIgnoredDuringExecution")
    for term_path, term in dicts(
        affinity.get("preferredDuringSchedulingIgnoredDuringExecution"), preferred_path, errors
    ):
        errors.extend(_weight(term.get("weight"), child(term_path, "weight")))
        inner_path = child(term_path, "podAffinityTerm")
        errors.extend(
            _pod_affinity_term(as_dict(term.get("podAffinityTerm"), inner_path, errors), inner_path)
        )
    return errors


def _affinity(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    affinity = as_dict(value, path, errors)
    if affinity.get("nodeAffinity") is not None:
        errors.extend(_node_affinity(affinity["nodeAffinity"], child(path, "nodeAffinity")))
    for kind in ("podAffinity", "podAntiAffinity"):
        if affinity.get(kind) is not None:
            errors.extend(_pod_affinity(affinity[kind], child(path, kind)))
    return errors


def _toleration(toleration: Obj, path: str) -> list[FieldError]:
    """ValidateTolerations for one toleration (operator and value errors share a path)."""
    errors: list[FieldError] = []
    toleration_key = toleration.get("key")
    operator = toleration.get("operator") or ""
    effect = toleration.get("effect") or ""
    value = toleration.get("value") or ""
    if toleration_key not in (None, ""):
        errors.extend(qualified_name(child(path, "key"), toleration_key))
    elif operator != "Exists":
        errors.append(
            FieldError.invalid(
                child(path, "operator"),
                operator,
                "operator must be Exists when `key` is empty, "
                'which means "match all values and all keys"',
            )
        )
    if toleration.get("tolerationSeconds") is not None:
        as_int(toleration["tolerationSeconds"], child(path, "tolerationSeconds"), errors)
        if effect != "NoExecute":
            errors.append(
                FieldError.invalid(
                    child(path, "effect"),
                    effect,
                    "effect must be 'NoExecute' when `tolerationSeconds` is set",
                )
            )
    errors.extend(_toleration_operator(operator, value, child(path, "operator")))
    if effect and effect not in TAINT_EFFECTS:
        errors.append(FieldError.not_supported(child(path, "effect"), effect, TAINT_EFFECTS))
    return errors


def _toleration_operator(operator: Any, value: Any, path: str) -> list[FieldError]:
    if operator in ("Equal", ""):
        if not isinstance(value, str):
            return [FieldError.invalid(path, value, "must be a string")]
        problems = label_value_errors(value)
        return [FieldError.invalid(path, value, ";".join(problems))] if problems else []
    if operator == "Exists":
        if value:
            return [
                FieldError.invalid(path, value, "value must be empty when `operator` is 'Exists'")
            ]
        return []
    return [FieldError.not_supported(path, operator, TOLERATION_OPERATORS)]


def _tolerations(value: Any, path: str, errors: list[FieldError]) -> None:
    for toleration_path, toleration in dicts(value, path, errors):
        errors.extend(_toleration(toleration, toleration_path))


# --- the rest of the pod spec ----------------------------------------------------------------


def _dns_config(spec: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    value = spec.get("dnsConfig")
    if spec.get("dnsPolicy") == "None":
        if value is None:
            return [FieldError.required(path, "must provide `dnsConfig` when `dnsPolicy` is None")]
        if not as_list(as_dict(value, path, []).get("nameservers"), "", []):
            return [
                FieldError.required(
                    child(path, "nameservers"),
                    "must provide at least one DNS nameserver when `dnsPolicy` is None",
                )
            ]
    if value is None:
        return errors
    config = as_dict(value, path, errors)
    nameservers = as_list(config.get("nameservers"), child(path, "nameservers"), errors)
    if len(nameservers) > 3:
        errors.append(
            FieldError.invalid(
                child(path, "nameservers"), nameservers, "must not have more than 3 nameservers"
            )
        )
    for i, server in enumerate(nameservers):
        if not _is_ip(server):
            errors.append(
                FieldError.invalid(
                    index(child(path, "nameservers"), i),
                    server,
                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                )
            )
    errors.extend(_dns_searches(config.get("searches"), child(path, "searches")))
    for option_path, option in dicts(config.get("options"), child(path, "options"), errors):
        if option.get("name") in (None, ""):
            errors.append(FieldError.required(option_path, "must not be empty"))
    return errors


def _dns_searches(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    searches = as_list(value, path, errors)
    if len(searches) > 32:
        errors.append(FieldError.invalid(path, searches, "must not have more than 32 search paths"))
    if sum(len(str(s)) for s in searches) + max(len(searches) - 1, 0) > 2048:
        errors.append(
            FieldError.invalid(
                path,
                searches,
                "must not have more than 2048 characters (including spaces) in the search list",
            )
        )
    for i, search in enumerate(searches):
        text = search[:-1] if isinstance(search, str) and search.endswith(".") else search
        errors.extend(dns1123_subdomain(index(path, i), text))
    return errors


def _is_ip(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _named_lists(spec: Obj, path: str) -> list[FieldError]:
    """readinessGates, schedulingGates and imagePullSecrets."""
    errors: list[FieldError] = []
    for gate_path, gate in dicts(spec.get("readinessGates"), child(path, "readinessGates"), errors):
        errors.extend(
            qualified_name(child(gate_path, "conditionType"), gate.get("conditionType") or "")
        )
    seen: set[str] = set()
    for gate_path, gate in dicts(
        spec.get("schedulingGates"), child(path, "schedulingGates"), errors
    ):
        name = gate.get("name") or ""
        errors.extend(qualified_name(gate_path, name))
        if isinstance(name, str) and name in seen:
            errors.append(FieldError.duplicate(gate_path, name))
        seen.add(name if isinstance(name, str) else "")
    for secret_path, secret in dicts(
        spec.get("imagePullSecrets"), child(path, "imagePullSecrets"), errors
    ):
        if set(secret) - {"name"}:
            errors.append(FieldError.invalid(secret_path, secret, "only name may be set"))
    return errors


def _names_and_numbers(spec: Obj, path: str) -> list[FieldError]:
    """Object names, host names, activeDeadlineSeconds, preemptionPolicy and os."""
    errors: list[FieldError] = []
    for field, check in (
        ("serviceAccountName", dns1123_subdomain),
        ("nodeName", dns1123_subdomain),
        ("hostname", dns1123_label),
        ("subdomain", dns1123_label),
        ("priorityClassName", dns1123_subdomain),
    ):
        if spec.get(field) not in (None, ""):
            errors.extend(check(child(path, field), spec[field]))
    if spec.get("activeDeadlineSeconds") is not None:
        _int_range(
            spec["activeDeadlineSeconds"],
            child(path, "activeDeadlineSeconds"),
            1,
            MAX_INT32,
            errors,
        )
    if spec.get("preemptionPolicy") is not None:
        one_of(
            spec["preemptionPolicy"],
            child(path, "preemptionPolicy"),
            PREEMPTION_POLICIES,
            errors,
            required=True,
        )
    if spec.get("os") is not None:
        pod_os = as_dict(spec["os"], child(path, "os"), errors)
        one_of(
            pod_os.get("name"), child(path, "os.name"), ("linux", "windows"), errors, required=True
        )
    return errors


def _service_account_tokens(spec: Obj, path: str) -> list[FieldError]:
    """A Pod without serviceAccountName may not project service account tokens."""
    if spec.get("serviceAccountName"):
        return []
    errors: list[FieldError] = []
    volumes = spec.get("volumes")
    for i, volume in enumerate(volumes if isinstance(volumes, list) else []):
        projected = volume.get("projected") if isinstance(volume, dict) else None
        sources = projected.get("sources") if isinstance(projected, dict) else None
        for j, source in enumerate(sources if isinstance(sources, list) else []):
            if isinstance(source, dict) and source.get("serviceAccountToken") is not None:
                errors.append(
                    FieldError.forbidden(
                        f"{path}.volumes[{i}].projected.sources[{j}].serviceAccountToken",
                        "must not be specified when serviceAccountName is not set",
                    )
                )
    return errors


def validate_pod_spec(
    spec: Any, path: str, *, is_pod: bool = False, claim_volumes: Iterable[str] = ()
) -> list[FieldError]:
    """ValidatePodSpec: everything wrong with a pod spec at ``path`` (``spec``,
    ``spec.template.spec``...).

    ``is_pod`` adds the checks Kubernetes makes only on Pods (images without surrounding
    whitespace, host ports equal to container ports under hostNetwork, token projections);
    ``claim_volumes`` are volume names a StatefulSet adds from its volumeClaimTemplates.
    """
    errors: list[FieldError] = []
    spec = as_dict(spec, path, errors)
    grace_path = child(path, "terminationGracePeriodSeconds")
    if spec.get("terminationGracePeriodSeconds") is None:
        errors.append(FieldError.required(grace_path))
    grace = as_int(spec.get("terminationGracePeriodSeconds"), grace_path, errors)
    volumes = set(_volumes(spec.get("volumes"), child(path, "volumes"), errors))
    volumes.update(name for name in claim_volumes if name not in volumes)
    container_errors, containers = _containers(
        spec, child(path, "containers"), volumes, grace, is_pod=is_pod
    )
    errors.extend(container_errors)
    errors.extend(
        _init_containers(
            spec, child(path, "initContainers"), containers, volumes, grace, is_pod=is_pod
        )
    )
    if spec.get("hostNetwork") is True:
        errors.extend(_host_network_ports(containers, is_pod=is_pod))
    one_of(
        spec.get("restartPolicy"),
        child(path, "restartPolicy"),
        RESTART_POLICIES,
        errors,
        required=True,
    )
    one_of(spec.get("dnsPolicy"), child(path, "dnsPolicy"), DNS_POLICIES, errors, required=True)
    errors.extend(labels(child(path, "nodeSelector"), spec.get("nodeSelector")))
    errors.extend(_named_lists(spec, path))
    if spec.get("affinity") is not None:
        errors.extend(_affinity(spec["affinity"], child(path, "affinity")))
    errors.extend(_dns_config(spec, child(path, "dnsConfig")))
    errors.extend(_names_and_numbers(spec, path))
    _tolerations(spec.get("tolerations"), child(path, "tolerations"), errors)
    if is_pod:
        errors.extend(_service_account_tokens(spec, path))
    return errors


# --- persistent volume claim specs -----------------------------------------------------------


def _template_labels_match(
    meta: Obj, path: str, selector: LabelSelector | None
) -> list[FieldError]:
    if selector is None or selector.is_empty():
        return []
    template_labels = meta.get("labels")
    if selector.matches(template_labels if isinstance(template_labels, dict) else {}):
        return []
    return [
        _invalid_go(
            child(path, "metadata.labels"),
            template_labels,
            _go_string_map(template_labels),
            "`selector` does not match template `labels`",
        )
    ]


def validate_pod_template(
    template: Any, path: str, selector: LabelSelector | None, *, claim_volumes: Iterable[str] = ()
) -> list[FieldError]:
    """ValidatePodTemplateSpec plus the selector check of a workload's ``spec.template``.

    ``selector`` is the workload's parsed selector (None when it is unusable: no check); the
    template's labels must match it. Like Kubernetes, the template's labels and annotations are
    reported at ``spec.template.labels`` / ``spec.template.annotations``.
    """
    errors: list[FieldError] = []
    template = as_dict(template, path, errors)
    meta = as_dict(template.get("metadata"), child(path, "metadata"), errors)
    errors.extend(_template_labels_match(meta, path, selector))
    errors.extend(labels(child(path, "labels"), meta.get("labels")))
    errors.extend(annotations(child(path, "annotations"), meta.get("annotations")))
    spec_path = child(path, "spec")
    errors.extend(validate_pod_spec(template.get("spec"), spec_path, claim_volumes=claim_volumes))
    spec = template.get("spec") if isinstance(template.get("spec"), dict) else {}
    if spec.get("ephemeralContainers"):
        errors.append(
            FieldError.forbidden(
                child(spec_path, "ephemeralContainers"),
                "ephemeral containers not allowed in pod template",
            )
        )
    return errors


def _workload_template(
    spec: Obj,
    path: str,
    selector: LabelSelector | None,
    owner: str,
    *,
    claim_volumes: Iterable[str] = (),
) -> list[FieldError]:
    """A controller's template: valid, matching its selector, restartPolicy Always."""
    errors = validate_pod_template(
        spec.get("template"), path, selector, claim_volumes=claim_volumes
    )
    template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
    pod_spec = template.get("spec") if isinstance(template.get("spec"), dict) else {}
    policy = pod_spec.get("restartPolicy")
    if policy != "Always":
        errors.append(
            FieldError.not_supported(
                child(path, "spec.restartPolicy"), "" if policy is None else policy, ["Always"]
            )
        )
    if pod_spec.get("activeDeadlineSeconds") is not None:
        errors.append(
            FieldError.forbidden(
                child(path, "spec.activeDeadlineSeconds"),
                f"activeDeadlineSeconds in {owner} is not Supported",
            )
        )
    return errors


# --- rolling update parameters ---------------------------------------------------------------


def _int_or_percent(value: Any, path: str) -> list[FieldError]:
    """ValidatePositiveIntOrPercent: a non-negative integer or ``"N%"``."""
    if isinstance(value, str):
        if not _PERCENT_RE.fullmatch(value):
            return [FieldError.invalid(path, value, _PERCENT_ERROR)]
        return []
    if value is None or _is_int(value):
        errors: list[FieldError] = []
        non_negative(value, path, errors)
        return errors
    return [FieldError.invalid(path, value, "must be an integer or percentage (e.g '5%%')")]


def _int_or_percent_value(value: Any) -> int:
    """getIntOrPercentValue: ``"25%"`` -> 25, ``3`` -> 3, anything unreadable -> 0."""
    if isinstance(value, str):
        digits = value[:-1] if _PERCENT_RE.fullmatch(value) else value
        return int(digits) if digits.isdigit() else 0
    return value if _is_int(value) else 0


def _not_over_100_percent(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, str) and _PERCENT_RE.fullmatch(value) and int(value[:-1]) > 100:
        return [FieldError.invalid(path, value, "must not be greater than 100%")]
    return []


def _deployment_rolling_update(rolling: Obj, path: str) -> list[FieldError]:
    """maxUnavailable and maxSurge: ints or percentages, not both zero."""
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    unavailable_path = child(path, "maxUnavailable")
    errors = _int_or_percent(unavailable, unavailable_path)
    errors += _int_or_percent(surge, child(path, "maxSurge"))
    if _int_or_percent_value(unavailable) == 0 and _int_or_percent_value(surge) == 0:
        errors.append(
            FieldError.invalid(
                unavailable_path,
                unavailable if unavailable is not None else 0,
                "may not be 0 when `maxSurge` is 0",
            )
        )
    return errors + _not_over_100_percent(unavailable, unavailable_path)


def _deployment_strategy(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    strategy = as_dict(value, path, errors)
    kind = strategy.get("type")
    rolling_path = child(path, "rollingUpdate")
    if kind == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            errors.append(
                FieldError.forbidden(
                    rolling_path, "may not be specified when strategy `type` is 'Recreate'"
                )
            )
    elif kind == "RollingUpdate":
        if strategy.get("rollingUpdate") is None:
            errors.append(
                FieldError.required(rolling_path, "this should be defaulted and never be nil")
            )
        else:
            rolling = as_dict(strategy["rollingUpdate"], rolling_path, errors)
            errors.extend(_deployment_rolling_update(rolling, rolling_path))
    else:
        errors.append(FieldError.not_supported(path, strategy, ["Recreate", "RollingUpdate"]))
    return errors


def _daemon_set_rolling_update(rolling: Obj, path: str) -> list[FieldError]:
    """Both percentages at most 100%, and exactly one of them non-zero."""
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    unavailable_path, surge_path = child(path, "maxUnavailable"), child(path, "maxSurge")
    errors = _int_or_percent(unavailable, unavailable_path)
    errors += _int_or_percent(surge, surge_path)
    errors += _not_over_100_percent(unavailable, unavailable_path)
    errors += _not_over_100_percent(surge, surge_path)
    has_unavailable = _int_or_percent_value(unavailable) != 0
    has_surge = _int_or_percent_value(surge) != 0
    if has_unavailable and has_surge:
        errors.append(
            FieldError.invalid(surge_path, surge, "may not be set when maxUnavailable is non-zero")
        )
    elif not has_unavailable and not has_surge:
        errors.append(FieldError.required(unavailable_path, "cannot be 0 when maxSurge is 0"))
    return errors


def _daemon_set_strategy(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    strategy = as_dict(value, path, errors)
    kind = strategy.get("type")
    if kind == "RollingUpdate":
        rolling_path = child(path, "rollingUpdate")
        if strategy.get("rollingUpdate") is None:
            return errors + [FieldError.required(rolling_path)]
        rolling = as_dict(strategy["rollingUpdate"], rolling_path, errors)
        errors.extend(_daemon_set_rolling_update(rolling, rolling_path))
    elif kind != "OnDelete":
        errors.append(FieldError.not_supported(path, strategy, ["RollingUpdate", "OnDelete"]))
    return errors


def _stateful_set_strategy(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    strategy = as_dict(value, path, errors)
    kind = strategy.get("type")
    rolling_path = child(path, "rollingUpdate")
    if kind in (None, ""):
        errors.append(FieldError.required(path))
    elif kind == "OnDelete":
        if strategy.get("rollingUpdate") is not None:
            errors.append(
                FieldError.invalid(
                    rolling_path,
                    strategy["rollingUpdate"],
                    "only allowed for updateStrategy 'RollingUpdate'",
                )
            )
    elif kind == "RollingUpdate":
        if strategy.get("rollingUpdate") is not None:
            rolling = as_dict(strategy["rollingUpdate"], rolling_path, errors)
            non_negative(rolling.get("partition"), child(rolling_path, "partition"), errors)
    else:
        errors.append(FieldError.invalid(path, strategy, "must be 'RollingUpdate' or 'OnDelete'"))
    return errors


# --- the kinds -------------------------------------------------------------------------------


def _spec(obj: Obj, errors: list[FieldError]) -> Obj:
    return as_dict(obj.get("spec"), "spec", errors)


@validator("Pod")
def validate_pod(obj: Obj) -> list[FieldError]:
    """A Pod for create: its spec (metadata is checked by the package)."""
    return validate_pod_spec(obj.get("spec"), "spec", is_pod=True)


@validator("Deployment")
def validate_deployment(obj: Obj) -> list[FieldError]:
    """ValidateDeploymentSpec."""
    errors: list[FieldError] = []
    spec = _spec(obj, errors)
    non_negative(spec.get("replicas"), "spec.replicas", errors)
    selector = _workload_selector(spec.get("selector"), "spec.selector", "deployment", errors)
    if selector is not None:
        errors.extend(_workload_template(spec, "spec.template", selector, "ReplicaSet"))
    errors.extend(_deployment_strategy(spec.get("strategy"), "spec.strategy"))
    non_negative(spec.get("minReadySeconds"), "spec.minReadySeconds", errors)
    non_negative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit", errors)
    errors.extend(_progress_deadline(spec))
    return errors


def _progress_deadline(spec: Obj) -> list[FieldError]:
    """progressDeadlineSeconds: non-negative and greater than minReadySeconds (0 if unset)."""
    errors: list[FieldError] = []
    path = "spec.progressDeadlineSeconds"
    deadline = as_int(spec.get("progressDeadlineSeconds"), path, errors)
    if deadline is None:
        return errors
    non_negative(deadline, path, errors)
    min_ready = spec.get("minReadySeconds")
    if deadline <= (min_ready if _is_int(min_ready) else 0):
        errors.append(FieldError.invalid(path, deadline, "must be greater than minReadySeconds"))
    return errors


@validator("ReplicaSet")
def validate_replica_set(obj: Obj) -> list[FieldError]:
    """ValidateReplicaSetSpec (its empty-selector message says "deployment", as upstream)."""
    errors: list[FieldError] = []
    spec = _spec(obj, errors)
    non_negative(spec.get("replicas"), "spec.replicas", errors)
    non_negative(spec.get("minReadySeconds"), "spec.minReadySeconds", errors)
    selector = _workload_selector(spec.get("selector"), "spec.selector", "deployment", errors)
    if selector is not None:
        errors.extend(_workload_template(spec, "spec.template", selector, "ReplicaSet"))
    return errors


@validator("DaemonSet")
def validate_daemon_set(obj: Obj) -> list[FieldError]:
    """ValidateDaemonSetSpec: a missing selector shows as a template that does not match."""
    errors: list[FieldError] = []
    spec = _spec(obj, errors)
    selector = _workload_selector(
        spec.get("selector"),
        "spec.selector",
        "daemonset",
        errors,
        required=False,
        parse_detail=None,
    )
    errors.extend(_workload_template(spec, "spec.template", selector, "DaemonSet"))
    non_negative(spec.get("minReadySeconds"), "spec.minReadySeconds", errors)
    errors.extend(_daemon_set_strategy(spec.get("updateStrategy"), "spec.updateStrategy"))
    non_negative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit", errors)
    return errors


def _claim_templates(value: Any, path: str, errors: list[FieldError]) -> list[str]:
    """volumeClaimTemplates: each names a volume of the pods and is a valid claim spec."""
    names: list[str] = []
    for claim_path, claim in dicts(value, path, errors):
        meta = as_dict(claim.get("metadata"), child(claim_path, "metadata"), errors)
        name_path = child(claim_path, "metadata.name")
        if meta.get("name") in (None, ""):
            errors.append(FieldError.required(name_path))
        else:
            problems = dns1123_label(name_path, meta["name"])
            errors.extend(problems)
            if not problems:
                names.append(meta["name"])
        errors.extend(validate_pvc_spec(claim.get("spec"), child(claim_path, "spec")))
    return names


def _stateful_set_policies(spec: Obj, errors: list[FieldError]) -> None:
    policy = spec.get("podManagementPolicy")
    if policy in (None, ""):
        errors.append(FieldError.required("spec.podManagementPolicy"))
    elif policy not in ("OrderedReady", "Parallel"):
        errors.append(
            FieldError.invalid(
                "spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'"
            )
        )
    errors.extend(_stateful_set_strategy(spec.get("updateStrategy"), "spec.updateStrategy"))
    path = "spec.persistentVolumeClaimRetentionPolicy"
    if spec.get("persistentVolumeClaimRetentionPolicy") is not None:
        retention = as_dict(spec["persistentVolumeClaimRetentionPolicy"], path, errors)
        for field in ("whenDeleted", "whenScaled"):
            if retention.get(field) not in ("Retain", "Delete"):
                errors.append(
                    FieldError.not_supported(
                        child(path, field), retention.get(field), ["Retain", "Delete"]
                    )
                )


@validator("StatefulSet")
def validate_stateful_set(obj: Obj) -> list[FieldError]:
    """ValidateStatefulSetSpec, plus (as later Kubernetes) the template and claim templates."""
    errors: list[FieldError] = []
    spec = _spec(obj, errors)
    _stateful_set_policies(spec, errors)
    non_negative(spec.get("replicas"), "spec.replicas", errors)
    non_negative(spec.get("minReadySeconds"), "spec.minReadySeconds", errors)
    if spec.get("ordinals") is not None:
        ordinals = as_dict(spec["ordinals"], "spec.ordinals", errors)
        non_negative(ordinals.get("start"), "spec.ordinals.start", errors)
    selector = _workload_selector(
        spec.get("selector"), "spec.selector", "statefulset", errors, parse_detail=""
    )
    claims = _claim_templates(spec.get("volumeClaimTemplates"), "spec.volumeClaimTemplates", errors)
    if selector is not None:
        errors.extend(
            _workload_template(spec, "spec.template", selector, "StatefulSet", claim_volumes=claims)
        )
    non_negative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit", errors)
    return errors


# --- updates ---------------------------------------------------------------------------------


def _specs(old: Obj, new: Obj) -> tuple[Obj, Obj] | None:
    old_spec, new_spec = old.get("spec"), new.get("spec")
    if isinstance(old_spec, dict) and isinstance(new_spec, dict):
        return old_spec, new_spec
    return None


def _selector_immutable(old: Obj, new: Obj) -> list[FieldError]:
    """apps/v1 strategies: spec.selector may not change after create."""
    specs = _specs(old, new)
    if specs is None:
        return []
    old_selector, new_selector = specs[0].get("selector"), specs[1].get("selector")
    if _same(old_selector, new_selector):
        return []
    return [
        _invalid_go(
            "spec.selector", new_selector, go_label_selector(new_selector), "field is immutable"
        )
    ]


update_validator("Deployment")(_selector_immutable)
update_validator("ReplicaSet")(_selector_immutable)
update_validator("DaemonSet")(_selector_immutable)


@update_validator("StatefulSet")
def validate_stateful_set_update(old: Obj, new: Obj) -> list[FieldError]:
    """Only replicas, ordinals, template, updateStrategy, the claim retention policy and
    minReadySeconds may change."""
    specs = _specs(old, new)
    if specs is None:
        return []
    mutable = (
        "replicas",
        "ordinals",
        "template",
        "updateStrategy",
        "persistentVolumeClaimRetentionPolicy",
        "minReadySeconds",
    )
    old_rest = {k: v for k, v in specs[0].items() if k not in mutable}
    new_rest = {k: v for k, v in specs[1].items() if k not in mutable}
    if _same(old_rest, new_rest):
        return []
    return [FieldError.forbidden("spec", STATEFULSET_UPDATE_FORBIDDEN)]


def _container_counts(old: Obj, new: Obj) -> list[FieldError]:
    for field in ("containers", "initContainers"):
        old_list, new_list = old.get(field), new.get(field)
        old_count = len(old_list) if isinstance(old_list, list) else 0
        new_count = len(new_list) if isinstance(new_list, list) else 0
        if old_count != new_count:
            return [
                FieldError.forbidden(
                    f"spec.{field}", "pod updates may not add or remove containers"
                )
            ]
    return []


def _active_deadline_update(old: Obj, new: Obj) -> list[FieldError]:
    """activeDeadlineSeconds may be set, or lowered, but not raised or removed."""
    path = "spec.activeDeadlineSeconds"
    old_value, new_value = old.get("activeDeadlineSeconds"), new.get("activeDeadlineSeconds")
    if new_value is not None:
        if not _is_int(new_value):
            return []
        if not 0 <= new_value <= MAX_INT32:
            return [
                FieldError.invalid(path, new_value, f"must be between 0 and {MAX_INT32}, inclusive")
            ]
        if _is_int(old_value) and old_value < new_value:
            return [
                FieldError.invalid(path, new_value, "must be less than or equal to previous value")
            ]
    elif old_value is not None:
        return [
            FieldError.invalid(path, None, "must not update from a positive integer to nil value")
        ]
    return []


def _only_added_tolerations(old: Obj, new: Obj) -> list[FieldError]:
    """Each old toleration must still be there; only its tolerationSeconds may change."""

    def without_seconds(toleration: Any) -> Any:
        if not isinstance(toleration, dict):
            return toleration
        return {k: v for k, v in toleration.items() if k != "tolerationSeconds"}

    old_list, new_list = old.get("tolerations"), new.get("tolerations")
    kept = [without_seconds(t) for t in (new_list if isinstance(new_list, list) else [])]
    for toleration in old_list if isinstance(old_list, list) else []:
        if not any(_same(without_seconds(toleration), other) for other in kept):
            return [
                FieldError.forbidden(
                    "spec.tolerations",
                    "existing toleration can not be modified except its tolerationSeconds",
                )
            ]
    return []


def _gate_names(spec: Obj) -> list[str | None]:
    gates = spec.get("schedulingGates")
    return [
        gate.get("name") if isinstance(gate, dict) and isinstance(gate.get("name"), str) else None
        for gate in (gates if isinstance(gates, list) else [])
    ]


def _only_deleted_scheduling_gates(old: Obj, new: Obj) -> list[FieldError]:
    """schedulingGates may only lose entries."""
    old_gates = set(_gate_names(old))
    errors = []
    for i, name in enumerate(_gate_names(new)):
        if name is not None and name not in old_gates:
            errors.append(
                FieldError.forbidden(
                    f"spec.schedulingGates[{i}].name",
                    f"only deletion is allowed, but found new scheduling gate '{name}'",
                )
            )
    return errors


def _munged(old: Obj, new: Obj) -> Obj:
    """The new spec with the fields a pod update may change put back to their old values.

    Only the top level and the containers are copied: nothing below them is changed.
    """
    munged = dict(new)
    for field in ("containers", "initContainers"):
        containers, previous = new.get(field), old.get(field)
        if isinstance(containers, list) and isinstance(previous, list):
            munged[field] = [
                {**c, "image": p.get("image")} if isinstance(c, dict) and isinstance(p, dict) else c
                for c, p in zip(containers, previous, strict=False)
            ]
    for field in ("activeDeadlineSeconds", "tolerations", "schedulingGates"):
        munged[field] = old.get(field)
    old_grace = old.get("terminationGracePeriodSeconds")
    if _is_int(old_grace) and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    # Kubarium's scheduler binds by writing spec.nodeName of an unbound pod.
    if not old.get("nodeName"):
        munged["nodeName"] = old.get("nodeName")
    return munged


@update_validator("Pod")
def validate_pod_update(old: Obj, new: Obj) -> list[FieldError]:
    """ValidatePodUpdate: a pod's spec is immutable but for a few fields (and binding)."""
    specs = _specs(old, new)
    if specs is None:
        return []
    old_spec, new_spec = specs
    errors = _container_counts(old_spec, new_spec)
    if errors:
        return errors
    errors = _active_deadline_update(old_spec, new_spec)
    if errors:
        return errors
    errors = _only_added_tolerations(old_spec, new_spec)
    errors += _only_deleted_scheduling_gates(old_spec, new_spec)
    if new_spec != old_spec and not _same(_munged(old_spec, new_spec), old_spec):
        errors.append(FieldError.forbidden("spec", POD_UPDATE_FORBIDDEN))
    return errors
