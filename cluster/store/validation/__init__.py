"""Validation of objects before they are stored, with Kubernetes' field errors and messages.

``validate(obj)`` checks an object for create; ``validate_update(old, new)`` checks the new
version and what may not change. Both return a list of ``FieldError`` (empty when valid) and
never raise, whatever shape the input has. Each kind's rules live in a module of this package
and register themselves with ``@validator(kind)`` / ``@update_validator(kind)``.
"""

from __future__ import annotations

from cluster.store.errors import FieldError

# Importing the modules registers their validators.
from cluster.store.validation import config, network, workloads  # noqa: E402, F401, I001
from cluster.store.validation.common import (
    UPDATE_VALIDATORS,
    VALIDATORS,
    Obj,
    validate_object_meta,
    validate_object_meta_update,
)

__all__ = ["validate", "validate_update"]


def validate(obj: Obj) -> list[FieldError]:
    """Everything wrong with ``obj`` as a new object of its kind."""
    if not isinstance(obj, dict):
        return [FieldError.invalid("", obj, "must be an object")]
    kind = obj.get("kind")
    errors = validate_object_meta(obj)
    check = VALIDATORS.get(kind) if isinstance(kind, str) else None
    if check is not None:
        errors.extend(check(obj))
    return errors


def validate_update(old: Obj, new: Obj) -> list[FieldError]:
    """Everything wrong with ``new`` as the next version of ``old`` (including immutability)."""
    errors = validate(new)
    if not isinstance(new, dict) or not isinstance(old, dict):
        return errors
    errors.extend(validate_object_meta_update(old, new))
    kind = new.get("kind")
    check = UPDATE_VALIDATORS.get(kind) if isinstance(kind, str) else None
    if check is not None:
        errors.extend(check(old, new))
    return errors
