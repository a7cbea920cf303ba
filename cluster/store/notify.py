"""The store's post-commit notification hook.

The write path calls ``publish`` through ``transaction.on_commit``, so subscribers hear only about
writes that are durable, once each, in revision order per process. Subscribers (the live stream,
the controllers' enqueuers) register with ``subscribe`` at app start-up; they must be quick and
must not write to the store themselves (enqueue a task instead).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Changed:
    """What one committed write did."""

    revision: int
    type: str  # ADDED, MODIFIED, DELETED
    kind: str
    namespace: str
    name: str
    uid: str
    actor: str
    object: dict[str, Any]


Subscriber = Callable[[Changed], None]
_subscribers: list[Subscriber] = []


def subscribe(fn: Subscriber) -> Subscriber:
    """Register ``fn`` to be called after each committed write. Usable as a decorator."""
    if fn not in _subscribers:
        _subscribers.append(fn)
    return fn


def unsubscribe(fn: Subscriber) -> None:
    if fn in _subscribers:
        _subscribers.remove(fn)


def publish(changed: Changed) -> None:
    for fn in list(_subscribers):
        try:
            fn(changed)
        except Exception:  # a broken subscriber must not break the writer
            logger.exception("store subscriber %r failed on revision %s", fn, changed.revision)
