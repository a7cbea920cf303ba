"""Copying JSON-shaped data fast (no Django here: the Table printers use it too)."""

from __future__ import annotations

import copy
from typing import Any

_ATOMS = frozenset({str, int, float, bool, type(None)})


def copy_json(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, strings, numbers, booleans, None), about
    four times faster than ``copy.deepcopy`` on a pod's spec and status; anything else inside
    is deep-copied as usual.

    >>> original = {"a": [{"b": 1}], "c": "d"}
    >>> copied = copy_json(original)
    >>> copied == original, copied["a"][0] is original["a"][0]
    (True, False)
    """
    cls = value.__class__
    if cls is dict:
        return {k: v if v.__class__ in _ATOMS else copy_json(v) for k, v in value.items()}
    if cls is list:
        return [v if v.__class__ in _ATOMS else copy_json(v) for v in value]
    if cls in _ATOMS:
        return value
    return copy.deepcopy(value)
