"""Validation of configuration, storage and cluster kinds, with Kubernetes v1.32's messages.

ConfigMaps and Secrets, PersistentVolumes and PersistentVolumeClaims (``pkg/apis/core/
validation``), StorageClasses (``pkg/apis/storage/validation``), HorizontalPodAutoscalers
(``pkg/apis/autoscaling/validation``, autoscaling/v2), Nodes, Namespaces and core/v1 Events.

Objects arrive after ``apply_defaults``. A wrong shape becomes a ``FieldError``, never an
exception. Two things Kubernetes rejects while decoding JSON, before validation, are reported here
as field errors instead: a Secret (or ConfigMap ``binaryData``) value that is not base64 (Go's
decoder's own words: ``data[password]: Invalid value: "<secret contents redacted>": illegal
base64 data at input byte 3``) and a malformed quantity.

Where Kubarium is stricter than Kubernetes, on purpose: a core/v1 Event must name the kind and
name of its ``involvedObject``, and its ``type``, when set, must be ``Normal`` or ``Warning``
(Kubernetes checks that only for events.k8s.io Events). Kubernetes' own quirks are kept: a
Node's taints are reported under ``metadata.taints``, a PVC's missing size under
``spec.resources[storage]``, a ConfigMap that is too big under ``[]``.

>>> [str(e) for e in validate_configmap({"data": {"a": "1"}, "binaryData": {"a": "MQ=="}})]
['data[a]: Invalid value: "a": duplicate of key present in binaryData']
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from cluster.quantity import Quantity
from cluster.store.errors import FieldError
from cluster.store.selectors import label_key_errors, label_value_errors
from cluster.store.validation.common import (
    FIELD_IMMUTABLE,
    Obj,
    as_dict,
    as_list,
    child,
    config_key,
    dicts,
    dns1123_label,
    dns1123_subdomain,
    immutable,
    index,
    key,
    label_selector,
    qualified_name,
    quantity,
    selector_requirement,
    update_validator,
    validator,
)
from cluster.store.validation.network import (
    cidr_errors,
    parse_cidr_sloppy,
    path_segment_name,
)

MAX_SECRET_SIZE = 1024 * 1024  # core.MaxSecretSize, also the ConfigMap limit: 1 MiB
REDACTED = "<secret contents redacted>"
ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
PV_RECLAIM_POLICIES = ("Delete", "Recycle", "Retain")
STORAGE_CLASS_RECLAIM_POLICIES = ("Delete", "Retain")
VOLUME_BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
VOLUME_MODES = ("Block", "Filesystem")
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
NODE_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
LABEL_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")  # Kubernetes' own order
EVENT_TYPES = ("Normal", "Warning")
METRIC_SOURCE_TYPES = ("ContainerResource", "External", "Object", "Pods", "Resource")
METRIC_TARGET_TYPES = ("Utilization", "Value", "AverageValue")
SCALING_POLICY_TYPES = ("Percent", "Pods")
SELECT_POLICIES = ("Disabled", "Max", "Min")
MAX_PERIOD_SECONDS = 1800
MAX_STABILIZATION_WINDOW_SECONDS = 3600
MAX_PROVISIONER_PARAMETERS = 512
MAX_PROVISIONER_PARAMETER_SIZE = 256 * 1024  # 256 KiB
EVENT_FIELD_LIMITS = {"reportingInstance": 128, "action": 128, "reason": 128, "message": 1024}
BETA_STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
SERVICE_ACCOUNT_NAME_ANNOTATION = "kubernetes.io/service-account.name"

# PersistentVolumeSource's members, in the order ValidatePersistentVolumeSpec checks them.
PV_SOURCES = (
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "flocker",
    "nfs",
    "rbd",
    "quobyte",
    "cephfs",
    "iscsi",
    "cinder",
    "fc",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "scaleIO",
    "local",
    "storageos",
    "csi",
)
# Resources whose quantities must be whole numbers (helper.IsIntegerResourceName).
INTEGER_RESOURCES = (
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
)
# Node selector keys that may move from their beta to their GA name on a PV (betaToGALabel).
BETA_TO_GA_LABELS = {
    "failure-domain.beta.kubernetes.io/zone": "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region": "topology.kubernetes.io/region",
    "beta.kubernetes.io/os": "kubernetes.io/os",
    "beta.kubernetes.io/arch": "kubernetes.io/arch",
    "beta.kubernetes.io/instance-type": "node.kubernetes.io/instance-type",
}


def _too_long(path: str, limit: int) -> FieldError:
    """``field.TooLong``: the value is never shown, only the limit."""
    return FieldError(path, "FieldValueTooLong", f"may not be more than {limit} bytes")


def _section(obj: Obj, name: str) -> Obj:
    value = obj.get(name)
    return value if isinstance(value, dict) else {}


# --- base64, as Go's encoding/json decodes []byte fields -------------------------------------

_B64_VALUES = {
    ord(c): i
    for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}
_NEWLINES = (ord("\n"), ord("\r"))
_PAD = ord("=")
_WELL_FORMED_B64 = re.compile("[A-Za-z0-9+/]*={0,2}")


def go_base64_decode(text: str) -> tuple[bytes | None, int | None]:
    """Decode standard, padded base64 exactly as Go does: ``(data, None)`` or ``(None, offset)``.

    The offset is the byte Go's ``CorruptInputError`` names. Go skips ``\\n`` and ``\\r``;
    anything else outside the alphabet is an error at that byte: ``"not base64!"`` fails at byte
    3 (the space). A quantum cut short fails where it started (``"YQ"`` at 0), a lone ``=`` where
    the second is missing (``"YQ="`` at 3), and text after the padding where it begins.
    """
    clean = text.replace("\n", "").replace("\r", "")
    if len(clean) % 4 == 0 and _WELL_FORMED_B64.fullmatch(clean):
        # Fast path: whole quanta, padding only at the end; Python and Go agree here.
        try:
            return base64.b64decode(clean, validate=True), None
        except binascii.Error:  # pragma: no cover - the pattern above rules this out
            pass
    src = text.encode("utf-8")
    out = bytearray()
    si, size = 0, len(src)
    while si < size:
        quantum, count, done = [0, 0, 0, 0], 0, False
        while count < 4:
            if si == size:
                if count == 0:
                    return bytes(out), None
                return None, si - count
            char = src[si]
            si += 1
            if char in _B64_VALUES:
                quantum[count] = _B64_VALUES[char]
                count += 1
                continue
            if char in _NEWLINES:
                continue
            if char != _PAD or count < 2:
                return None, si - 1
            if count == 2:  # a second "=" must follow, perhaps after newlines
                while si < size and src[si] in _NEWLINES:
                    si += 1
                if si == size:
                    return None, size
                if src[si] != _PAD:
                    return None, si - 1
                si += 1
            while si < size and src[si] in _NEWLINES:
                si += 1
            if si < size:
                return None, si  # trailing garbage after the padding
            done = True
            break
        value = quantum[0] << 18 | quantum[1] << 12 | quantum[2] << 6 | quantum[3]
        out.extend(value.to_bytes(3, "big")[: count - 1])
        if done:
            break
    return bytes(out), None


def _decode_values(
    mapping: Obj, path: str, errors: list[FieldError], *, redact: bool
) -> tuple[dict[str, bytes], int]:
    """Decode each base64 value of ``data``/``binaryData``; returns the bytes and their size."""
    decoded: dict[str, bytes] = {}
    size = 0
    for name, value in mapping.items():
        value_path = key(path, str(name))
        if not isinstance(value, str):
            errors.append(FieldError.invalid(value_path, value, "must be a base64-encoded string"))
            continue
        data, offset = go_base64_decode(value)
        if data is None:
            shown = REDACTED if redact else value
            errors.append(
                FieldError.invalid(value_path, shown, f"illegal base64 data at input byte {offset}")
            )
            continue
        decoded[name] = data
        size += len(data)
    return decoded, size


def _go_json_object_error(data: bytes) -> str | None:
    """Why Go's ``json.Unmarshal`` into ``map[string]interface{}`` fails, or None.

    The wording follows Go's decoder for the common cases ("unexpected end of JSON input",
    "invalid character 'x' looking for beginning of value", "json: cannot unmarshal array into
    Go value of type map[string]interface {}"); rarer syntax errors get the nearest message.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"invalid character {chr(data[error.start])!r} looking for beginning of value"
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as error:
        position = getattr(error, "pos", None)
        if position is None or position >= len(text.rstrip()):
            return "unexpected end of JSON input"
        return f"invalid character {text[position]!r} looking for beginning of value"
    if value is None or isinstance(value, dict):
        return None
    kind = {list: "array", str: "string", bool: "bool"}.get(type(value), "number")
    return f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _immutable_flag(obj: Obj, errors: list[FieldError]) -> None:
    flag = obj.get("immutable")
    if flag is not None and not isinstance(flag, bool):
        errors.append(FieldError.invalid("immutable", flag, "must be a boolean"))


# --- ConfigMap -------------------------------------------------------------------------------


@validator("ConfigMap")
def validate_configmap(obj: Obj) -> list[FieldError]:
    """``ValidateConfigMap``: config keys, no key in both maps, 1 MiB in all."""
    errors: list[FieldError] = []
    data = as_dict(obj.get("data"), "data", errors)
    binary = as_dict(obj.get("binaryData"), "binaryData", errors)
    size = 0
    for name, value in data.items():
        path = key("data", str(name))
        errors.extend(config_key(path, name))
        if name in binary:
            errors.append(FieldError.invalid(path, name, "duplicate of key present in binaryData"))
        if isinstance(value, str):
            size += len(value.encode("utf-8"))
        else:
            errors.append(FieldError.invalid(path, value, "must be a string"))
    for name in binary:
        errors.extend(config_key(key("binaryData", str(name)), name))
    _, binary_size = _decode_values(binary, "binaryData", errors, redact=False)
    if size + binary_size > MAX_SECRET_SIZE:
        errors.append(_too_long("[]", MAX_SECRET_SIZE))  # Go prints an empty path as "[]"
    _immutable_flag(obj, errors)
    return errors


@update_validator("ConfigMap")
def validate_configmap_update(old: Obj, new: Obj) -> list[FieldError]:
    """``ValidateConfigMapUpdate``: an immutable ConfigMap keeps its data and its flag."""
    if old.get("immutable") is not True:
        return []
    errors: list[FieldError] = []
    detail = "field is immutable when `immutable` is set"
    if new.get("immutable") is not True:
        errors.append(FieldError.forbidden("immutable", detail))
    if (old.get("data") or {}) != (new.get("data") or {}):
        errors.append(FieldError.forbidden("data", detail))
    if _decoded(old.get("binaryData")) != _decoded(new.get("binaryData")):
        errors.append(FieldError.forbidden("binaryData", detail))
    return errors


def _decoded(mapping: Any) -> Any:
    """A data map compared by decoded bytes (two encodings of the same bytes are equal)."""
    if not isinstance(mapping, dict):
        return mapping or {}
    result = {}
    for name, value in mapping.items():
        data = go_base64_decode(value)[0] if isinstance(value, str) else None
        result[name] = value if data is None else data
    return result


# --- Secret ----------------------------------------------------------------------------------


@validator("Secret")
def validate_secret(obj: Obj) -> list[FieldError]:
    """``ValidateSecret``: config keys, base64 values, 1 MiB, and the keys each type needs."""
    errors: list[FieldError] = []
    raw = as_dict(obj.get("data"), "data", errors)
    for name in raw:
        errors.extend(config_key(key("data", str(name)), name))
    data, size = _decode_values(raw, "data", errors, redact=True)
    if size > MAX_SECRET_SIZE:
        errors.append(_too_long("data", MAX_SECRET_SIZE))
    secret_type = obj.get("type")
    if secret_type is not None and not isinstance(secret_type, str):
        errors.append(FieldError.invalid("type", secret_type, "must be a string"))
    errors.extend(_secret_type_keys(obj, secret_type, raw, data))
    _immutable_flag(obj, errors)
    return errors


def _secret_type_keys(
    obj: Obj, secret_type: Any, raw: Obj, data: dict[str, bytes]
) -> list[FieldError]:
    """The keys (or annotation) each built-in Secret type requires."""
    errors: list[FieldError] = []
    if secret_type == "kubernetes.io/service-account-token":
        meta = _section(obj, "metadata")
        annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
        if not annotations.get(SERVICE_ACCOUNT_NAME_ANNOTATION):
            errors.append(
                FieldError.required(key("metadata.annotations", SERVICE_ACCOUNT_NAME_ANNOTATION))
            )
    elif secret_type in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        name = ".dockercfg" if secret_type == "kubernetes.io/dockercfg" else ".dockerconfigjson"
        if name not in raw:
            errors.append(FieldError.required(key("data", name)))
        elif name in data:
            problem = _go_json_object_error(data[name])
            if problem:
                errors.append(FieldError.invalid(key("data", name), REDACTED, problem))
    elif secret_type == "kubernetes.io/basic-auth":
        if "username" not in raw and "password" not in raw:
            errors.append(FieldError.required("data[username]"))
            errors.append(FieldError.required("data[password]"))
    elif secret_type == "kubernetes.io/ssh-auth":
        if not data.get("ssh-privatekey"):
            errors.append(FieldError.required("data[ssh-privatekey]"))
    elif secret_type == "kubernetes.io/tls":
        for name in ("tls.crt", "tls.key"):
            if name not in raw:
                errors.append(FieldError.required(key("data", name)))
    return errors


@update_validator("Secret")
def validate_secret_update(old: Obj, new: Obj) -> list[FieldError]:
    """``ValidateSecretUpdate``: the type never changes; an immutable Secret keeps its data."""
    errors = immutable("type", old.get("type"), new.get("type"))
    if old.get("immutable") is True:
        detail = "field is immutable when `immutable` is set"
        if new.get("immutable") is not True:
            errors.append(FieldError.forbidden("immutable", detail))
        if _decoded(old.get("data")) != _decoded(new.get("data")):
            errors.append(FieldError.forbidden("data", detail))
    return errors


# --- label and node selectors (the parts PVs and PVCs use) -----------------------------------


def _node_selector(value: Any, path: str) -> list[FieldError]:
    """``ValidateNodeSelector``: at least one term, each with valid requirements."""
    errors: list[FieldError] = []
    selector = as_dict(value, path, errors)
    terms_path = child(path, "nodeSelectorTerms")
    terms = selector.get("nodeSelectorTerms")
    if not terms:
        errors.append(FieldError.required(terms_path, "must have at least one node selector term"))
    for term_path, term in dicts(terms, terms_path, errors):
        for item_path, item in dicts(
            term.get("matchExpressions"), child(term_path, "matchExpressions"), errors
        ):
            errors.extend(selector_requirement(item, item_path, node=True))
        for item_path, item in dicts(
            term.get("matchFields"), child(term_path, "matchFields"), errors
        ):
            errors.extend(_field_selector_requirement(item, item_path))
    return errors


def _field_selector_requirement(requirement: Obj, path: str) -> list[FieldError]:
    """``ValidateNodeFieldSelectorRequirement``: ``metadata.name In/NotIn [one name]``."""
    errors: list[FieldError] = []
    operator = requirement.get("operator")
    values = requirement.get("values")
    if operator in ("In", "NotIn"):
        if not isinstance(values, list) or len(values) != 1:
            errors.append(
                FieldError.required(
                    child(path, "values"),
                    "must be only one value when `operator` is 'In' or 'NotIn' for node field "
                    "selector",
                )
            )
    else:
        errors.append(
            FieldError.invalid(child(path, "operator"), operator, "not a valid selector operator")
        )
    if requirement.get("key") != "metadata.name":
        errors.append(
            FieldError.invalid(
                child(path, "key"), requirement.get("key", ""), "not a valid field selector key"
            )
        )
    elif isinstance(values, list):
        for i, value in enumerate(values):
            errors.extend(dns1123_subdomain(index(child(path, "values"), i), value))
    return errors


# --- PersistentVolume ------------------------------------------------------------------------


def _access_modes(value: Any, path: str, required_detail: str) -> list[FieldError]:
    """accessModes: at least one, each supported, ReadWriteOncePod alone."""
    errors: list[FieldError] = []
    modes = as_list(value, path, errors)
    if not modes and value is not None and not isinstance(value, list):
        return errors
    if not modes:
        errors.append(FieldError.required(path, required_detail))
    for mode in modes:
        if mode not in ACCESS_MODES:
            errors.append(FieldError.not_supported(path, mode, ACCESS_MODES))
    if "ReadWriteOncePod" in modes and any(
        m in ACCESS_MODES and m != "ReadWriteOncePod" for m in modes
    ):
        errors.append(
            FieldError.forbidden(path, "may not use ReadWriteOncePod with other access modes")
        )
    return errors


def _positive_quantity(path: str, value: Any) -> list[FieldError]:
    """A size that must parse and be above zero (``ValidatePositiveQuantityValue``)."""
    parsed, errors = quantity(path, value)
    if parsed is None:
        return errors
    if parsed.value() < 0:
        errors.append(FieldError.invalid(path, parsed.value(), "must be a valid resource quantity"))
    if parsed.sign() <= 0:
        errors.append(FieldError.invalid(path, str(parsed), "must be greater than zero"))
    return errors


def _backsteps(path: str, value: str) -> list[FieldError]:
    if ".." in value.replace("\\", "/").split("/"):
        return [FieldError.invalid(path, value, "must not contain '..'")]
    return []


def _volume_source(name: str, value: Any, path: str, spec: Obj) -> list[FieldError]:
    """The checks Kubarium makes of a PV source: the ones a simulated volume can fail."""
    errors: list[FieldError] = []
    source = as_dict(value, path, errors)
    if name in ("hostPath", "local"):
        volume_path = source.get("path")
        if volume_path is None or volume_path == "":
            errors.append(FieldError.required(child(path, "path")))
        elif not isinstance(volume_path, str):
            errors.append(FieldError.invalid(child(path, "path"), volume_path, "must be a string"))
        else:
            errors.extend(_backsteps(child(path, "path"), volume_path))
            host_path_type = source.get("type")
            if (
                name == "hostPath"
                and host_path_type is not None
                and host_path_type not in HOST_PATH_TYPES
            ):
                errors.append(
                    FieldError.not_supported(child(path, "type"), host_path_type, HOST_PATH_TYPES)
                )
        if name == "local" and spec.get("nodeAffinity") is None:
            errors.append(
                FieldError.required("spec.nodeAffinity", "Local volume requires node affinity")
            )
    elif name == "nfs":
        for field in ("server", "path"):
            if not source.get(field):
                errors.append(FieldError.required(child(path, field)))
        nfs_path = source.get("path")
        if not (isinstance(nfs_path, str) and nfs_path.startswith("/")):
            errors.append(
                FieldError.invalid(child(path, "path"), nfs_path or "", "must be an absolute path")
            )
    elif name == "csi":
        errors.extend(_csi_driver(child(path, "driver"), source.get("driver")))
        if not source.get("volumeHandle"):
            errors.append(FieldError.required(child(path, "volumeHandle")))
    return errors


def _csi_driver(path: str, driver: Any) -> list[FieldError]:
    """``ValidateCSIDriverName``: at most 63 bytes, a DNS subdomain once lower-cased."""
    if driver is None or driver == "":
        return [FieldError.required(path)]
    if not isinstance(driver, str):
        return [FieldError.invalid(path, driver, "must be a string")]
    errors = [_too_long(path, 63)] if len(driver) > 63 else []
    errors.extend(
        FieldError.invalid(path, driver, e.detail) for e in dns1123_subdomain(path, driver.lower())
    )
    return errors


@validator("PersistentVolume")
def validate_persistent_volume(obj: Obj) -> list[FieldError]:
    """``ValidatePersistentVolumeSpec``: access modes, a storage capacity, one volume source."""
    errors: list[FieldError] = []
    spec = as_dict(obj.get("spec"), "spec", errors)
    errors.extend(_access_modes(spec.get("accessModes"), "spec.accessModes", ""))

    capacity = as_dict(spec.get("capacity"), "spec.capacity", errors)
    if not capacity:
        errors.append(FieldError.required("spec.capacity"))
    if "storage" not in capacity or len(capacity) > 1:
        errors.append(FieldError.not_supported("spec.capacity", capacity, ["storage"]))
    for name, value in capacity.items():
        errors.extend(_positive_quantity(key("spec.capacity", str(name)), value))

    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy is not None and policy != "" and policy not in PV_RECLAIM_POLICIES:
        errors.append(
            FieldError.not_supported(
                "spec.persistentVolumeReclaimPolicy", policy, PV_RECLAIM_POLICIES
            )
        )
    affinity = spec.get("nodeAffinity")
    if affinity is not None:
        affinity = as_dict(affinity, "spec.nodeAffinity", errors)
        if affinity.get("required") is None:
            errors.append(
                FieldError.required(
                    "spec.nodeAffinity.required", "must specify required node constraints"
                )
            )
        else:
            errors.extend(_node_selector(affinity["required"], "spec.nodeAffinity.required"))

    sources = [name for name in PV_SOURCES if spec.get(name) is not None]
    for position, name in enumerate(sources):
        path = child("spec", name)
        if position > 0 and name != "flexVolume":  # sic: flexVolume is never counted twice
            errors.append(FieldError.forbidden(path, "may not specify more than 1 volume type"))
        else:
            errors.extend(_volume_source(name, spec[name], path, spec))
    if not sources:
        errors.append(FieldError.required("spec", "must specify a volume type"))
    host_path = spec.get("hostPath")
    if (
        isinstance(host_path, dict)
        and policy == "Recycle"
        and str(host_path.get("path", "")).rstrip("/") == ""
        and host_path.get("path")
    ):
        errors.append(
            FieldError.forbidden(
                "spec.persistentVolumeReclaimPolicy",
                "may not be 'recycle' for a hostPath mount of '/'",
            )
        )

    class_name = spec.get("storageClassName")
    if class_name is not None and class_name != "":
        errors.extend(dns1123_subdomain("spec.storageClassName", class_name))
    mode = spec.get("volumeMode")
    if mode is not None and mode not in VOLUME_MODES:
        errors.append(FieldError.not_supported("spec.volumeMode", mode, VOLUME_MODES))
    return errors


@update_validator("PersistentVolume")
def validate_persistent_volume_update(old: Obj, new: Obj) -> list[FieldError]:
    """``ValidatePersistentVolumeUpdate``: the volume source, mode and node affinity stay.

    A CSI volume may gain a ``controllerExpandSecretRef`` it did not have.
    """
    old_spec, new_spec = _section(old, "spec"), _section(new, "spec")
    old_source = {name: old_spec.get(name) for name in PV_SOURCES if old_spec.get(name) is not None}
    new_source = {name: new_spec.get(name) for name in PV_SOURCES if new_spec.get(name) is not None}
    old_csi, new_csi = old_source.get("csi"), new_source.get("csi")
    if (
        isinstance(old_csi, dict)
        and isinstance(new_csi, dict)
        and old_csi.get("controllerExpandSecretRef") is None
    ):
        new_source["csi"] = {k: v for k, v in new_csi.items() if k != "controllerExpandSecretRef"}
    errors: list[FieldError] = []
    if old_source != new_source:
        errors.append(
            FieldError.forbidden(
                "spec.persistentvolumesource",
                "spec.persistentvolumesource is immutable after creation\n"
                + spec_diff(old_source, new_source),
            )
        )
    # sic: Kubernetes reports these two without the "spec." prefix.
    errors.extend(immutable("volumeMode", old_spec.get("volumeMode"), new_spec.get("volumeMode")))
    old_affinity = old_spec.get("nodeAffinity")
    if old_affinity is not None and _ga_labels(old_affinity) != _ga_labels(
        new_spec.get("nodeAffinity")
    ):
        errors.append(
            FieldError.invalid(
                "nodeAffinity",
                new_spec.get("nodeAffinity"),
                f"{FIELD_IMMUTABLE}, except for updating from beta label to GA",
            )
        )
    return errors


def _ga_labels(value: Any) -> Any:
    """A node affinity with beta topology label keys renamed to their GA names."""
    if isinstance(value, dict):
        return {
            k: (BETA_TO_GA_LABELS.get(v, v) if k == "key" and isinstance(v, str) else _ga_labels(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_ga_labels(item) for item in value]
    return value


def spec_diff(old: Any, new: Any) -> str:
    """A short report of what changed, in the spirit of the ``cmp.Diff`` Kubernetes appends.

    >>> print(spec_diff({"a": 1, "b": 2}, {"a": 1, "b": 3}))
      {
    -   "b": 2,
    +   "b": 3,
      }
    """
    old = old if isinstance(old, dict) else {}
    new = new if isinstance(new, dict) else {}
    lines = ["  {"]
    for name in sorted({str(k) for k in old} | {str(k) for k in new}):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if name in old:
            lines.append(f"-   {json.dumps(name)}: {_compact(before)},")
        if name in new:
            lines.append(f"+   {json.dumps(name)}: {_compact(after)},")
    lines.append("  }")
    return "\n".join(lines)


def _compact(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


# --- PersistentVolumeClaim -------------------------------------------------------------------


def validate_pvc_spec(spec: Any, path: str) -> list[FieldError]:
    """``ValidatePersistentVolumeClaimSpec`` of ``spec`` at ``path`` (``"spec"``, or a
    StatefulSet's ``spec.volumeClaimTemplates[0].spec``, or an ephemeral volume's template).

    >>> [str(e) for e in validate_pvc_spec({"accessModes": ["ReadWriteOnce"]}, "spec")]
    ['spec.resources[storage]: Required value']
    """
    errors: list[FieldError] = []
    spec = as_dict(spec, path, errors)
    if errors:
        return errors
    errors.extend(
        _access_modes(
            spec.get("accessModes"),
            child(path, "accessModes"),
            "at least 1 access mode is required",
        )
    )
    if spec.get("selector") is not None:
        errors.extend(label_selector(spec["selector"], child(path, "selector")))

    resources_path = child(path, "resources")
    resources = as_dict(spec.get("resources"), resources_path, errors)
    requests = as_dict(resources.get("requests"), child(resources_path, "requests"), errors)
    storage_path = key(resources_path, "storage")  # sic: Kubernetes leaves out ".requests"
    if "storage" not in requests:
        errors.append(FieldError.required(storage_path))
    else:
        errors.extend(_positive_quantity(storage_path, requests["storage"]))
    for section in ("requests", "limits"):
        values = resources.get(section)
        for name, value in values.items() if isinstance(values, dict) else ():
            if not (section == "requests" and name == "storage"):
                errors.extend(quantity(key(child(resources_path, section), str(name)), value)[1])

    class_name = spec.get("storageClassName")
    if class_name is not None and class_name != "":
        errors.extend(dns1123_subdomain(child(path, "storageClassName"), class_name))
    mode = spec.get("volumeMode")
    if mode is not None and mode not in VOLUME_MODES:
        errors.append(FieldError.not_supported(child(path, "volumeMode"), mode, VOLUME_MODES))
    for field in ("dataSource", "dataSourceRef"):
        if spec.get(field) is not None:
            errors.extend(_data_source(spec[field], child(path, field)))
    volume_name = spec.get("volumeName")
    if volume_name is not None and not isinstance(volume_name, str):
        errors.append(
            FieldError.invalid(child(path, "volumeName"), volume_name, "must be a string")
        )
    return errors


def _data_source(value: Any, path: str) -> list[FieldError]:
    """``validateDataSource``: a name and kind; the core group only for PVCs."""
    errors: list[FieldError] = []
    source = as_dict(value, path, errors)
    for field in ("name", "kind"):
        if not source.get(field):
            errors.append(FieldError.required(child(path, field)))
    group = source.get("apiGroup")
    if not group and source.get("kind") != "PersistentVolumeClaim":
        errors.append(
            FieldError.invalid(
                path,
                source.get("kind", ""),
                "must be 'PersistentVolumeClaim' when referencing the default apiGroup",
            )
        )
    if group:
        errors.extend(dns1123_subdomain(child(path, "apiGroup"), group))
    return errors


@validator("PersistentVolumeClaim")
def validate_persistent_volume_claim(obj: Obj) -> list[FieldError]:
    """``ValidatePersistentVolumeClaim``: the spec, at ``spec``."""
    return validate_pvc_spec(obj.get("spec"), "spec")


@update_validator("PersistentVolumeClaim")
def validate_persistent_volume_claim_update(old: Obj, new: Obj) -> list[FieldError]:
    """``ValidatePersistentVolumeClaimUpdate``: a claim's spec is fixed after creation, except

    - ``volumeName``, once, when the claim is bound (it was empty);
    - ``storageClassName``, from unset to a value;
    - ``resources.requests.storage`` of a Bound claim (expansion), which may shrink back only
      while it stays above ``status.capacity`` (RecoverVolumeExpansionFailure, on in v1.32).
    """
    old_spec, new_spec = _section(old, "spec"), _section(new, "spec")
    compare_old, compare_new = dict(old_spec), dict(new_spec)
    if not old_spec.get("volumeName"):
        compare_old["volumeName"] = new_spec.get("volumeName")
    old_annotations = _section(_section(old, "metadata"), "annotations")
    if old_spec.get("storageClassName") is None and new_spec.get("storageClassName") is not None:
        beta = old_annotations.get(BETA_STORAGE_CLASS_ANNOTATION)
        if beta is None or beta == new_spec.get("storageClassName"):
            compare_old["storageClassName"] = new_spec.get("storageClassName")
    if _section(new, "status").get("phase") == "Bound":
        compare_new["resources"] = _with_old_storage(old_spec, new_spec)
        if new_spec.get("volumeAttributesClassName") is not None:
            compare_new["volumeAttributesClassName"] = old_spec.get("volumeAttributesClassName")
    compare_old, compare_new = _without_nulls(compare_old), _without_nulls(compare_new)
    errors: list[FieldError] = []
    if compare_old != compare_new:
        errors.append(
            FieldError.forbidden(
                "spec",
                "spec is immutable after creation except resources.requests and "
                "volumeAttributesClassName for bound claims\n"
                + spec_diff(compare_old, compare_new),
            )
        )
    errors.extend(_shrink(old, old_spec, new_spec))
    # sic: Kubernetes reports this without the "spec." prefix.
    errors.extend(immutable("volumeMode", old_spec.get("volumeMode"), new_spec.get("volumeMode")))
    return errors


def _without_nulls(spec: Obj) -> Obj:
    return {name: value for name, value in spec.items() if value is not None}


def _with_old_storage(old_spec: Obj, new_spec: Obj) -> Any:
    """``new_spec.resources`` with the storage request a Bound claim may change taken from old."""
    resources = new_spec.get("resources")
    if not isinstance(resources, dict) or not isinstance(resources.get("requests"), dict):
        return resources
    old_requests = _section(_section(old_spec, "resources"), "requests")
    requests = dict(resources["requests"])
    if "storage" in old_requests:
        requests["storage"] = old_requests["storage"]
    else:
        requests.pop("storage", None)
    return {**resources, "requests": requests}


def _storage_size(spec: Obj) -> Quantity:
    value = _section(_section(spec, "resources"), "requests").get("storage")
    parsed, _ = quantity("", value)
    return parsed if parsed is not None else Quantity.parse(0)


def _shrink(old: Obj, old_spec: Obj, new_spec: Obj) -> list[FieldError]:
    old_size, new_size = _storage_size(old_spec), _storage_size(new_spec)
    if new_size >= old_size:
        return []
    capacity, _ = quantity("", _section(_section(old, "status"), "capacity").get("storage", 0))
    if capacity is not None and new_size <= capacity:
        return [
            FieldError.forbidden(
                "spec.resources.requests.storage", "field can not be less than status.capacity"
            )
        ]
    return []


# --- StorageClass ----------------------------------------------------------------------------


@validator("StorageClass")
def validate_storage_class(obj: Obj) -> list[FieldError]:
    """``ValidateStorageClass``: a provisioner, small parameters, known policies."""
    errors: list[FieldError] = []
    provisioner = obj.get("provisioner")
    if provisioner is None or provisioner == "":
        errors.append(FieldError.required("provisioner"))
    elif not isinstance(provisioner, str):
        errors.append(FieldError.invalid("provisioner", provisioner, "must be a string"))
    else:
        errors.extend(
            FieldError.invalid("provisioner", provisioner, message)
            for message in label_key_errors(provisioner.lower())
        )

    parameters = as_dict(obj.get("parameters"), "parameters", errors)
    if len(parameters) > MAX_PROVISIONER_PARAMETERS:
        errors.append(_too_long("parameters", MAX_PROVISIONER_PARAMETERS))
    else:
        size = 0
        for name, value in parameters.items():
            if name == "":
                errors.append(FieldError.invalid("parameters", name, "field can not be empty."))
            if not isinstance(value, str):
                errors.append(
                    FieldError.invalid(key("parameters", str(name)), value, "must be a string")
                )
                continue
            size += len(str(name).encode("utf-8")) + len(value.encode("utf-8"))
        if size > MAX_PROVISIONER_PARAMETER_SIZE:
            errors.append(_too_long("parameters", MAX_PROVISIONER_PARAMETER_SIZE))

    policy = obj.get("reclaimPolicy")
    if policy is not None and policy != "" and policy not in STORAGE_CLASS_RECLAIM_POLICIES:
        errors.append(
            FieldError.not_supported("reclaimPolicy", policy, STORAGE_CLASS_RECLAIM_POLICIES)
        )
    mode = obj.get("volumeBindingMode")
    if mode is None:
        errors.append(FieldError.required("volumeBindingMode"))
    elif mode not in VOLUME_BINDING_MODES:
        errors.append(FieldError.not_supported("volumeBindingMode", mode, VOLUME_BINDING_MODES))
    expansion = obj.get("allowVolumeExpansion")
    if expansion is not None and not isinstance(expansion, bool):
        errors.append(FieldError.invalid("allowVolumeExpansion", expansion, "must be a boolean"))
    as_list(obj.get("mountOptions"), "mountOptions", errors)
    as_list(obj.get("allowedTopologies"), "allowedTopologies", errors)
    return errors


@update_validator("StorageClass")
def validate_storage_class_update(old: Obj, new: Obj) -> list[FieldError]:
    """``ValidateStorageClassUpdate``: provisioner, parameters and policies are fixed."""
    errors: list[FieldError] = []
    if (old.get("parameters") or {}) != (new.get("parameters") or {}):
        errors.append(FieldError.forbidden("parameters", "updates to parameters are forbidden."))
    if old.get("provisioner") != new.get("provisioner"):
        errors.append(FieldError.forbidden("provisioner", "updates to provisioner are forbidden."))
    if old.get("reclaimPolicy") != new.get("reclaimPolicy"):
        errors.append(
            FieldError.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden.")
        )
    errors.extend(
        immutable("volumeBindingMode", old.get("volumeBindingMode"), new.get("volumeBindingMode"))
    )
    return errors


# --- HorizontalPodAutoscaler (autoscaling/v2) ------------------------------------------------


def _int_field(value: Any, path: str, errors: list[FieldError]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(FieldError.invalid(path, value, "must be an integer"))
        return None
    return value


@validator("HorizontalPodAutoscaler")
def validate_hpa(obj: Obj) -> list[FieldError]:
    """HPAScaleToZero is off in v1.32, so ``minReplicas`` is at least 1."""
    return _hpa_spec(obj, min_replicas_floor=1)


def _hpa_spec(obj: Obj, min_replicas_floor: int) -> list[FieldError]:
    """``validateHorizontalPodAutoscalerSpec``: replica bounds, target, metrics, behavior."""
    errors: list[FieldError] = []
    spec = as_dict(obj.get("spec"), "spec", errors)
    minimum = _int_field(spec.get("minReplicas"), "spec.minReplicas", errors)
    maximum = _int_field(spec.get("maxReplicas", 0), "spec.maxReplicas", errors)
    if minimum is not None and minimum < min_replicas_floor:
        errors.append(
            FieldError.invalid(
                "spec.minReplicas",
                minimum,
                f"must be greater than or equal to {min_replicas_floor}",
            )
        )
    if maximum is not None and maximum < 1:
        errors.append(FieldError.invalid("spec.maxReplicas", maximum, "must be greater than 0"))
    if minimum is not None and maximum is not None and maximum < minimum:
        errors.append(
            FieldError.invalid(
                "spec.maxReplicas", maximum, "must be greater than or equal to `minReplicas`"
            )
        )
    errors.extend(_cross_version_reference(spec.get("scaleTargetRef"), "spec.scaleTargetRef"))
    for path, metric in dicts(spec.get("metrics"), "spec.metrics", errors):
        errors.extend(_metric_spec(metric, path))
    if spec.get("behavior") is not None:
        behavior = as_dict(spec["behavior"], "spec.behavior", errors)
        for direction in ("scaleUp", "scaleDown"):
            if behavior.get(direction) is not None:
                errors.extend(
                    _scaling_rules(behavior[direction], child("spec.behavior", direction))
                )
    return errors


def _cross_version_reference(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    reference = as_dict(value, path, errors)
    errors.extend(path_segment_name(child(path, "kind"), reference.get("kind")))
    errors.extend(path_segment_name(child(path, "name"), reference.get("name")))
    return errors


def _metric_spec(metric: Obj, path: str) -> list[FieldError]:
    """``validateMetricSpec``: a known type whose source, and only that one, is filled in."""
    errors: list[FieldError] = []
    metric_type = metric.get("type")
    if metric_type is None or metric_type == "":
        errors.append(FieldError.required(child(path, "type"), "must specify a metric source type"))
    elif metric_type not in METRIC_SOURCE_TYPES:
        errors.append(
            FieldError.not_supported(child(path, "type"), metric_type, METRIC_SOURCE_TYPES)
        )
    fields = {
        "Object": "object",
        "External": "external",
        "Pods": "pods",
        "Resource": "resource",
        "ContainerResource": "containerResource",
    }
    present = [
        name
        for name in ("object", "external", "pods", "resource", "containerResource")
        if metric.get(name) is not None
    ]
    if present:
        first = present[0]
        errors.extend(_METRIC_SOURCES[first](metric[first], child(path, first)))
    expected = fields.get(metric_type) if isinstance(metric_type, str) else None
    if expected is not None and metric.get(expected) is None:
        errors.append(
            FieldError.required(
                child(path, expected), "must populate information for the given metric source"
            )
        )
    if len(present) > 1:
        for name in present:
            if name != expected:
                errors.append(
                    FieldError.forbidden(
                        child(path, name), "must populate the given metric source only"
                    )
                )
    return errors


def _metric_target(value: Any, path: str, errors: list[FieldError]) -> Obj:
    """``validateMetricTarget``: a known type, positive values, utilization of at least 1%."""
    target = as_dict(value, path, errors)
    target_type = target.get("type")
    if target_type is None or target_type == "":
        errors.append(FieldError.required(child(path, "type"), "must specify a metric target type"))
    if target_type not in METRIC_TARGET_TYPES:
        errors.append(
            FieldError.invalid(
                child(path, "type"),
                target_type or "",
                "must be either Utilization, Value, or AverageValue",
            )
        )
    for field in ("value", "averageValue"):
        if target.get(field) is not None:
            parsed, problems = quantity(child(path, field), target[field])
            errors.extend(problems)
            if parsed is not None and parsed.sign() != 1:
                errors.append(
                    FieldError.invalid(child(path, field), str(parsed), "must be positive")
                )
    utilization = _int_field(
        target.get("averageUtilization"), child(path, "averageUtilization"), errors
    )
    if utilization is not None and utilization < 1:
        errors.append(
            FieldError.invalid(
                child(path, "averageUtilization"), utilization, "must be greater than 0"
            )
        )
    return target


def _metric_identifier(value: Any, path: str, errors: list[FieldError]) -> None:
    metric = as_dict(value, path, errors)
    name = metric.get("name")
    if name is None or name == "":
        errors.append(FieldError.required(child(path, "name"), "must specify a metric name"))
    else:
        errors.extend(path_segment_name(child(path, "name"), name))
    if metric.get("selector") is not None:
        errors.extend(label_selector(metric["selector"], child(path, "selector")))


def _resource_source(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    source = as_dict(value, path, errors)
    if not source.get("name"):
        errors.append(FieldError.required(child(path, "name"), "must specify a resource name"))
    target = _metric_target(source.get("target"), child(path, "target"), errors)
    errors.extend(_utilization_or_value(target, child(path, "target")))
    return errors


def _container_resource_source(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    source = as_dict(value, path, errors)
    if not source.get("name"):
        errors.append(FieldError.required(child(path, "name"), "must specify a resource name"))
    container = source.get("container")
    if container is None or container == "":
        errors.append(FieldError.required(child(path, "container"), "must specify a container"))
    else:
        errors.extend(dns1123_label(child(path, "container"), container))
    target = _metric_target(source.get("target"), child(path, "target"), errors)
    errors.extend(_utilization_or_value(target, child(path, "target")))
    return errors


def _utilization_or_value(target: Obj, path: str) -> list[FieldError]:
    has_utilization = target.get("averageUtilization") is not None
    has_value = target.get("averageValue") is not None
    if not has_utilization and not has_value:
        return [
            FieldError.required(
                child(path, "averageUtilization"),
                "must set either a target raw value or a target utilization",
            )
        ]
    if has_utilization and has_value:
        return [
            FieldError.forbidden(
                child(path, "averageValue"),
                "may not set both a target raw value and a target utilization",
            )
        ]
    return []


def _pods_source(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    source = as_dict(value, path, errors)
    _metric_identifier(source.get("metric"), child(path, "metric"), errors)
    target = _metric_target(source.get("target"), child(path, "target"), errors)
    if target.get("averageValue") is None:
        errors.append(
            FieldError.required(
                child(path, "target.averageValue"), "must specify a positive target averageValue"
            )
        )
    return errors


def _object_source(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    source = as_dict(value, path, errors)
    errors.extend(
        _cross_version_reference(source.get("describedObject"), child(path, "describedObject"))
    )
    _metric_identifier(source.get("metric"), child(path, "metric"), errors)
    target = _metric_target(source.get("target"), child(path, "target"), errors)
    if target.get("value") is None and target.get("averageValue") is None:
        errors.append(
            FieldError.required(
                child(path, "target.averageValue"), "must set either a target value or averageValue"
            )
        )
    return errors


def _external_source(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    source = as_dict(value, path, errors)
    _metric_identifier(source.get("metric"), child(path, "metric"), errors)
    target = _metric_target(source.get("target"), child(path, "target"), errors)
    has_value, has_average = target.get("value") is not None, target.get("averageValue") is not None
    if not has_value and not has_average:
        errors.append(
            FieldError.required(
                child(path, "target.averageValue"),
                "must set either a target value for metric or a per-pod target",
            )
        )
    if has_value and has_average:
        errors.append(
            FieldError.forbidden(
                child(path, "target.value"),
                "may not set both a target value for metric and a per-pod target",
            )
        )
    return errors


_METRIC_SOURCES = {
    "object": _object_source,
    "external": _external_source,
    "pods": _pods_source,
    "resource": _resource_source,
    "containerResource": _container_resource_source,
}


def _scaling_rules(value: Any, path: str) -> list[FieldError]:
    """``validateScalingRules``: window 0-3600s, a known select policy, valid policies."""
    errors: list[FieldError] = []
    rules = as_dict(value, path, errors)
    window_path = child(path, "stabilizationWindowSeconds")
    window = _int_field(rules.get("stabilizationWindowSeconds"), window_path, errors)
    if window is not None and window < 0:
        errors.append(
            FieldError.invalid(window_path, window, "must be greater than or equal to zero")
        )
    if window is not None and window > MAX_STABILIZATION_WINDOW_SECONDS:
        errors.append(
            FieldError.invalid(
                window_path,
                window,
                f"must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}",
            )
        )
    select = rules.get("selectPolicy")
    if select is not None and select not in SELECT_POLICIES:
        errors.append(
            FieldError.not_supported(child(path, "selectPolicy"), select, SELECT_POLICIES)
        )
    policies_path = child(path, "policies")
    if not rules.get("policies"):
        errors.append(FieldError.required(policies_path, "must specify at least one Policy"))
    for policy_path, policy in dicts(rules.get("policies"), policies_path, errors):
        if policy.get("type") not in SCALING_POLICY_TYPES:
            errors.append(
                FieldError.not_supported(
                    child(policy_path, "type"), policy.get("type", ""), SCALING_POLICY_TYPES
                )
            )
        amount = _int_field(policy.get("value", 0), child(policy_path, "value"), errors)
        if amount is not None and amount <= 0:
            errors.append(
                FieldError.invalid(child(policy_path, "value"), amount, "must be greater than zero")
            )
        period_path = child(policy_path, "periodSeconds")
        period = _int_field(policy.get("periodSeconds", 0), period_path, errors)
        if period is not None and period <= 0:
            errors.append(FieldError.invalid(period_path, period, "must be greater than zero"))
        if period is not None and period > MAX_PERIOD_SECONDS:
            errors.append(
                FieldError.invalid(
                    period_path, period, f"must be less than or equal to {MAX_PERIOD_SECONDS}"
                )
            )
    return errors


# --- Node ------------------------------------------------------------------------------------


def _is_integer_resource(name: str) -> bool:
    """``IsIntegerResourceName``: counted resources and extended resources (``vendor/gpu``)."""
    if name in INTEGER_RESOURCES:
        return True
    native = "/" not in name or "kubernetes.io/" in name
    return (
        not native and not name.startswith("requests.") and not label_key_errors("requests." + name)
    )


def _node_resources(status: Obj, errors: list[FieldError]) -> None:
    """``ValidateNodeResources``: capacity and allocatable quantities, as ``status.capacity.cpu``."""
    for section in ("capacity", "allocatable"):
        path = child("status", section)
        for name, value in as_dict(status.get(section), path, errors).items():
            value_path = child(path, str(name))
            parsed, problems = quantity(value_path, value)
            errors.extend(problems)
            if parsed is None:
                continue
            if parsed.sign() < 0:
                errors.append(
                    FieldError.invalid(
                        value_path, str(parsed), "must be greater than or equal to 0"
                    )
                )
            if _is_integer_resource(str(name)) and parsed.milli_value() % 1000:
                errors.append(FieldError.invalid(value_path, str(parsed), "must be an integer"))


def _taints(value: Any, path: str, errors: list[FieldError]) -> None:
    """``validateNodeTaints``: label keys and values, an effect, unique (key, effect) pairs."""
    seen: list[tuple[Any, Any]] = []
    for taint_path, taint in dicts(value, path, errors):
        errors.extend(qualified_name(child(taint_path, "key"), taint.get("key", "")))
        taint_value = taint.get("value", "")
        if not isinstance(taint_value, str):
            errors.append(
                FieldError.invalid(child(taint_path, "value"), taint_value, "must be a string")
            )
        elif problems := label_value_errors(taint_value):
            errors.append(
                FieldError.invalid(child(taint_path, "value"), taint_value, ";".join(problems))
            )
        effect = taint.get("effect")
        if effect is None or effect == "":
            errors.append(FieldError.required(child(taint_path, "effect")))
        elif effect not in TAINT_EFFECTS:
            errors.append(
                FieldError.not_supported(child(taint_path, "effect"), effect, TAINT_EFFECTS)
            )
        pair = (taint.get("key"), effect)
        if pair in seen:
            errors.append(
                FieldError(
                    taint_path,
                    "FieldValueDuplicate",
                    "taints must be unique by key and effect pair",
                    taint,
                    True,
                )
            )
            continue
        seen.append(pair)


def _pod_cidrs(spec: Obj) -> list[Any]:
    """``spec.podCIDRs``, or ``[spec.podCIDR]`` (the v1 conversion fills one from the other)."""
    cidrs = spec.get("podCIDRs")
    if isinstance(cidrs, list) and cidrs:
        return cidrs
    single = spec.get("podCIDR")
    return [single] if single else []


@validator("Node")
def validate_node(obj: Obj) -> list[FieldError]:
    """``ValidateNode``: taints, resource quantities and pod CIDRs."""
    errors: list[FieldError] = []
    spec = as_dict(obj.get("spec"), "spec", errors)
    status = as_dict(obj.get("status"), "status", errors)
    _taints(spec.get("taints"), "metadata.taints", errors)  # sic: Kubernetes' path
    _node_resources(status, errors)
    if spec.get("podCIDRs") is not None:
        as_list(spec["podCIDRs"], "spec.podCIDRs", errors)
    cidrs = _pod_cidrs(spec)
    for i, cidr in enumerate(cidrs):
        errors.extend(cidr_errors(index("spec.podCIDRs", i), cidr))
    if len(cidrs) > 1:
        networks = [parse_cidr_sloppy(cidr) for cidr in cidrs]
        versions = sorted(n.version for n in networks if n is not None)
        if len(cidrs) > 2 or versions != [4, 6]:
            errors.append(
                FieldError.invalid(
                    "spec.podCIDRs", cidrs, "may specify no more than one CIDR for each IP family"
                )
            )
        for i, cidr in enumerate(cidrs):
            if cidr in cidrs[:i]:
                errors.append(FieldError.duplicate(index("spec.podCIDRs", i), cidr))
    unschedulable = spec.get("unschedulable")
    if unschedulable is not None and not isinstance(unschedulable, bool):
        errors.append(FieldError.invalid("spec.unschedulable", unschedulable, "must be a boolean"))
    return errors


@update_validator("Node")
def validate_node_update(old: Obj, new: Obj) -> list[FieldError]:
    """``ValidateNodeUpdate``: pod CIDRs and the provider ID are set once; addresses unique."""
    errors: list[FieldError] = []
    old_spec, new_spec = _section(old, "spec"), _section(new, "spec")
    old_cidrs = _pod_cidrs(old_spec)
    if old_cidrs and old_cidrs != _pod_cidrs(new_spec):
        errors.append(
            FieldError.forbidden(
                "spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid'
            )
        )
    old_provider = old_spec.get("providerID")
    if old_provider and old_provider != new_spec.get("providerID"):
        errors.append(
            FieldError.forbidden(
                "spec.providerID", 'node updates may not change providerID except from "" to valid'
            )
        )
    addresses = _section(new, "status").get("addresses")
    seen: list[Any] = []
    for path, address in dicts(addresses, "status.addresses", errors):
        if address in seen:
            errors.append(FieldError.duplicate(path, address))
        seen.append(address)
    return errors


# --- Namespace and Event ---------------------------------------------------------------------


@validator("Namespace")
def validate_namespace(obj: Obj) -> list[FieldError]:
    """``ValidateNamespace``: finalizers are "kubernetes" or qualified (``example.com/x``)."""
    errors: list[FieldError] = []
    spec = as_dict(obj.get("spec"), "spec", errors)
    path = "spec.finalizers"
    for i, finalizer in enumerate(as_list(spec.get("finalizers"), path, errors)):
        if not isinstance(finalizer, str):
            errors.append(FieldError.invalid(index(path, i), finalizer, "must be a string"))
            continue
        errors.extend(qualified_name(path, finalizer))
        if "/" not in finalizer and finalizer != "kubernetes":
            errors.append(
                FieldError.invalid(
                    path,
                    finalizer,
                    "name is neither a standard finalizer name nor is it fully qualified",
                )
            )
    return errors


@validator("Event")
def validate_event(obj: Obj) -> list[FieldError]:
    """``ValidateEventCreate`` for core/v1, plus Kubarium's own involvedObject and type rules.

    Without ``eventTime`` (the legacy shape every core/v1 client writes) the involved object's
    namespace must be the Event's, or empty for an Event in "default". With ``eventTime`` the
    reporting fields, action and reason are required and bounded.
    """
    errors: list[FieldError] = []
    meta = _section(obj, "metadata")
    involved = as_dict(obj.get("involvedObject"), "involvedObject", errors, required=True)
    if obj.get("involvedObject") is not None:
        for field in ("kind", "name"):
            if not involved.get(field):
                errors.append(FieldError.required(child("involvedObject", field)))
    namespace = meta.get("namespace") or ""
    involved_namespace = involved.get("namespace") or ""
    if not obj.get("eventTime"):
        if involved_namespace == "":
            mismatch = namespace not in ("", "default")
        else:
            mismatch = namespace != involved_namespace
    else:
        mismatch = involved_namespace == "" and namespace not in ("default", "kube-system")
        errors.extend(_event_series_fields(obj))
    if mismatch:
        errors.append(
            FieldError.invalid(
                "involvedObject.namespace", involved_namespace, "does not match event.namespace"
            )
        )
    event_type = obj.get("type")
    if event_type is not None and event_type != "" and event_type not in EVENT_TYPES:
        errors.append(FieldError.not_supported("type", event_type, EVENT_TYPES))
    count = obj.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
        errors.append(FieldError.invalid("count", count, "must be an integer"))
    for field in ("reason", "message"):
        if obj.get(field) is not None and not isinstance(obj[field], str):
            errors.append(FieldError.invalid(field, obj[field], "must be a string"))
    return errors


def _event_series_fields(obj: Obj) -> list[FieldError]:
    """The fields a new-style Event (one with ``eventTime``) must carry."""
    errors: list[FieldError] = []
    controller = obj.get("reportingComponent")
    if not controller:
        errors.append(FieldError.required("reportingComponent"))
    else:
        errors.extend(qualified_name("reportingComponent", controller))
    for field in ("reportingInstance", "action", "reason"):
        if not obj.get(field):
            errors.append(FieldError.required(field))
    for field, limit in EVENT_FIELD_LIMITS.items():
        value = obj.get(field)
        if isinstance(value, str) and len(value) > limit:
            errors.append(FieldError.invalid(field, "", f"can have at most {limit} characters"))
    return errors
