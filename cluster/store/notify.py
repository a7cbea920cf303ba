"""The store's post-commit notification hook.

The write path calls ``publish`` through ``transaction.on_commit``, so subscribers hear only about
writes that are durable, once each, in revision order per process. Subscribers (the live stream,
the controllers' enqueuers) register with ``subscribe`` at app start-up; they must be quick and
must not write to the store themselves (enqueue a task instead).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
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
BatchSubscriber = Callable[[Sequence[Changed]], None]
_subscribers: list[Subscriber] = []
_batch_subscribers: list[BatchSubscriber] = []


def subscribe(fn: Subscriber) -> Subscriber:
    """Register ``fn`` to be called after each committed write. Usable as a decorator."""
    if fn not in _subscribers:
        _subscribers.append(fn)
    return fn


def unsubscribe(fn: Subscriber) -> None:
    if fn in _subscribers:
        _subscribers.remove(fn)


def subscribe_many(fn: BatchSubscriber) -> BatchSubscriber:
    """Register ``fn`` to be called once per commit with all of its writes, in revision order
    (a batch write of a hundred pods is one call: the subscriber can share its lookups)."""
    if fn not in _batch_subscribers:
        _batch_subscribers.append(fn)
    return fn


def unsubscribe_many(fn: BatchSubscriber) -> None:
    if fn in _batch_subscribers:
        _batch_subscribers.remove(fn)


def publish(changed: Changed) -> None:
    publish_many([changed])


def publish_many(changes: Sequence[Changed]) -> None:
    """Tell every subscriber about ``changes`` (the writes of one commit, in revision order)."""
    if not changes:
        return
    for fn in list(_subscribers):
        for changed in changes:
            try:
                fn(changed)
            except Exception:  # a broken subscriber must not break the writer
                logger.exception("store subscriber %r failed on revision %s", fn, changed.revision)
    for many in list(_batch_subscribers):
        try:
            many(changes)
        except Exception:
            logger.exception(
                "store subscriber %r failed on revisions %s to %s",
                many,
                changes[0].revision,
                changes[-1].revision,
            )
