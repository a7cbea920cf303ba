"""Errors of the store, shaped like the Kubernetes API server's.

Every error knows its HTTP code and its ``metav1.Status`` reason, so the REST API can turn one into
a ``Status`` object and the dashboard, admin and ``manage.py apply`` can print the same message
kubectl would print. Field errors follow ``k8s.io/apimachinery/pkg/util/validation/field``:

>>> str(FieldError.invalid("spec.replicas", -1, "must be greater than or equal to 0"))
'spec.replicas: Invalid value: -1: must be greater than or equal to 0'
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


def _render_value(value: Any) -> str:
    """Render a bad value the way Go's ``%#v``-ish field errors do: strings quoted, numbers bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class FieldError:
    """One problem with one field, e.g. ``spec.ports[0].port: Invalid value: 0: must be ...``."""

    field: str
    type: str  # FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, ...
    detail: str = ""
    value: Any = None
    has_value: bool = False

    # The "reason" strings of metav1.StatusCause and their human prefixes.
    _PREFIX = {
        "FieldValueInvalid": "Invalid value",
        "FieldValueRequired": "Required value",
        "FieldValueNotSupported": "Unsupported value",
        "FieldValueDuplicate": "Duplicate value",
        "FieldValueForbidden": "Forbidden",
        "FieldValueTooLong": "Too long",
        "FieldValueNotFound": "Not found",
        "FieldValueTypeInvalid": "Invalid value",
    }

    @classmethod
    def invalid(cls, field: str, value: Any, detail: str) -> FieldError:
        return cls(field, "FieldValueInvalid", detail, value, True)

    @classmethod
    def required(cls, field: str, detail: str = "") -> FieldError:
        return cls(field, "FieldValueRequired", detail)

    @classmethod
    def not_supported(cls, field: str, value: Any, supported: Iterable[str]) -> FieldError:
        detail = "supported values: " + ", ".join(json.dumps(s) for s in supported)
        return cls(field, "FieldValueNotSupported", detail, value, True)

    @classmethod
    def duplicate(cls, field: str, value: Any) -> FieldError:
        return cls(field, "FieldValueDuplicate", "", value, True)

    @classmethod
    def forbidden(cls, field: str, detail: str) -> FieldError:
        return cls(field, "FieldValueForbidden", detail)

    @classmethod
    def too_long(cls, field: str, value: Any, limit: int) -> FieldError:
        return cls(field, "FieldValueTooLong", f"must have at most {limit} bytes", value, True)

    @property
    def message(self) -> str:
        """The part after the field path, as in a Status cause's ``message``."""
        text = self._PREFIX.get(self.type, "Invalid value")
        if self.has_value:
            text += f": {_render_value(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"

    def as_cause(self) -> dict[str, str]:
        return {"reason": self.type, "message": self.message, "field": self.field}


class StoreError(Exception):
    """Base class: an API error with an HTTP code and a ``metav1.Status`` reason."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def as_status(self) -> dict[str, Any]:
        """The ``metav1.Status`` object the REST API answers with."""
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            status["details"] = self.details
        return status


def _details(resource: str, group: str, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": resource}
    if group:
        details["group"] = group
    return details


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


class BadRequest(StoreError):
    code = 400
    reason = "BadRequest"


class Unauthorized(StoreError):
    code = 401
    reason = "Unauthorized"


class Forbidden(StoreError):
    code = 403
    reason = "Forbidden"


class NotFound(StoreError):
    code = 404
    reason = "NotFound"

    def __init__(self, resource: str, group: str, name: str, *, namespace: str = ""):
        message = f'{_qualified(resource, group)} "{name}" not found'
        super().__init__(message, details=_details(resource, group, name))
        self.namespace = namespace


class AlreadyExists(StoreError):
    code = 409
    reason = "AlreadyExists"

    def __init__(self, resource: str, group: str, name: str):
        message = f'{_qualified(resource, group)} "{name}" already exists'
        super().__init__(message, details=_details(resource, group, name))


class Conflict(StoreError):
    code = 409
    reason = "Conflict"

    def __init__(self, resource: str, group: str, name: str, detail: str | None = None):
        detail = detail or (
            "the object has been modified; please apply your changes to the latest version "
            "and try again"
        )
        message = (
            f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {detail}'
        )
        super().__init__(message, details=_details(resource, group, name))


class Gone(StoreError):
    """A watch asked for a revision that the change log no longer holds (HTTP 410 Expired)."""

    code = 410
    reason = "Expired"


class RequestEntityTooLarge(StoreError):
    code = 413
    reason = "RequestEntityTooLarge"


class UnsupportedMediaType(StoreError):
    code = 415
    reason = "UnsupportedMediaType"


class Invalid(StoreError):
    """HTTP 422: the object failed validation; ``errors`` name every bad field."""

    code = 422
    reason = "Invalid"

    def __init__(self, kind: str, group: str, name: str, errors: Iterable[FieldError]):
        self.errors = list(errors)
        qualified = f"{kind}.{group}" if group else kind
        body = ", ".join(str(e) for e in self.errors)
        if len(self.errors) > 1:
            body = "[" + body + "]"
        super().__init__(f'{qualified} "{name}" is invalid: {body}')
        self.details = {
            "name": name,
            "kind": kind,
            "causes": [e.as_cause() for e in self.errors],
        }
        if group:
            self.details["group"] = group


class MethodNotAllowed(StoreError):
    code = 405
    reason = "MethodNotAllowed"


class TooManyRequests(StoreError):
    code = 429
    reason = "TooManyRequests"
