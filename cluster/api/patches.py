"""The patch types the REST API adds to the store's registry (``write.PATCH_TYPES``).

The store knows JSON merge patch (``merge``) and JSON patch (``json``); the API adds strategic
merge patch (``strategic``, ``cluster.api.strategic``) and apply (``apply``: server-side apply
by an anonymous manager, forcing conflicts; the REST API's own apply path in
``cluster.api.resources`` passes the real field manager and ``force``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cluster.api import managed
from cluster.api.strategic import strategic_merge_patch
from cluster.store import write
from cluster.store.errors import UnsupportedMediaType
from cluster.store.objects import format_time


def strategic(current: Any, body: Any) -> Any:
    kind = current.get("kind") if isinstance(current, dict) else None
    return strategic_merge_patch(current, body, kind)


def apply(current: Any, body: Any) -> Any:
    from cluster import clock

    kind = str(current.get("kind", ""))
    name = str((current.get("metadata") or {}).get("name", ""))
    config = managed.configuration(body, str(current.get("apiVersion", "")), kind, name)
    now = format_time(clock.now_datetime()) or ""
    return managed.apply(current, config, "unknown", force=True, now=now, kind=kind)


def register() -> None:
    """Make ``write.patch(..., patch_type="strategic"|"apply")`` work everywhere."""
    write.PATCH_TYPES.setdefault("strategic", strategic)
    write.PATCH_TYPES.setdefault("apply", apply)


def patch_function(patch_type: str) -> Callable[[Any, Any], Any]:
    register()
    found = write.PATCH_TYPES.get(patch_type)
    if found is None:
        raise UnsupportedMediaType(f"the server does not support patch type {patch_type!r}")
    return found


register()
