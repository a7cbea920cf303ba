"""The live stream's publishing side: every committed write becomes a tiny message on Redis.

The control plane writes from Celery worker processes, the dashboard and the API from Daphne, and
``manage.py`` commands from their own processes; a browser is connected to one Daphne. So the
store's post-commit hook (``cluster.store.notify``) in *whichever process wrote* hands each change
to this module, which publishes it to Channels groups through the channels-redis layer, and every
Daphne's consumers in those groups hear it (``dashboard.consumers``).

What is sent is a *notice*, not the object: ``[revision, type, kind, namespace, name, actor,
node]`` (``node`` is a Pod's ``spec.nodeName``, so that a page can tell which node card a pod
change touches, even a deletion). Consumers read the current state from the database when they
render, so a notice can never carry stale content.

Cost: ``notify`` calls us once per write, right after its commit, in the writer's thread. We only
append to a list there. A background thread per process (started lazily, again after a fork, so
Celery's prefork children get their own) waits ``LINGER_SECONDS`` after the first notice, takes
everything queued meanwhile (all the writes of one commit, and of a burst of commits) and sends
one message per group on an event loop of its own, whose Redis connections stay open. A batch
of ``n`` notices costs ``2 + (namespaces in the batch)`` sends at most, not ``n``.

Groups (names use only letters, digits, hyphens and periods):

- ``kubarium.changes``: every notice (pages showing all namespaces);
- ``kubarium.changes.ns.<namespace>``: the notices of objects in that namespace;
- ``kubarium.changes.cluster``: notices of cluster-scoped objects (Nodes...), plus ``nodes``, the
  nodes whose pods changed in *any* namespace (a node's resource bars count every pod on it, so a
  page filtered to one namespace still needs to hear about the others' pods).

A batch with more than ``MAX_NOTICES`` notices for one group is sent as ``overflow``: the
consumer then re-renders its whole live region instead of fragment by fragment. Each message
also carries ``queued`` and ``sent``, the wall times of the batch's first notice and of its
send, so that the receiving side can tell where the time goes (``dashboard.renderers``).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cluster.store import notify

logger = logging.getLogger(__name__)

EVENT_TYPE = "cluster.changed"
GROUP_ALL = "kubarium.changes"
GROUP_CLUSTER = "kubarium.changes.cluster"
NAMESPACE_GROUP_PREFIX = "kubarium.changes.ns."
# How long the sender waits after the first notice for the rest of its commit (and burst).
LINGER_SECONDS = 0.005
# More notices than this in one message for one group: send "overflow" (re-render everything).
MAX_NOTICES = 500
# At most one warning per this many seconds while Redis is unreachable.
WARN_EVERY_SECONDS = 30.0


def namespace_group(namespace: str) -> str:
    """The group of one namespace's notices: ``kubarium.changes.ns.shop``."""
    return NAMESPACE_GROUP_PREFIX + namespace


@dataclass(frozen=True)
class Notice:
    """What a consumer needs to know about one committed write (never the object itself)."""

    revision: int
    type: str  # ADDED, MODIFIED, DELETED
    kind: str
    namespace: str
    name: str
    actor: str
    node: str = ""  # spec.nodeName of a Pod

    def as_list(self) -> list[Any]:
        return [
            self.revision,
            self.type,
            self.kind,
            self.namespace,
            self.name,
            self.actor,
            self.node,
        ]

    @classmethod
    def from_list(cls, item: Sequence[Any]) -> Notice:
        revision, type_, kind, namespace, name, actor, node = item
        return cls(
            int(revision), str(type_), str(kind), str(namespace), str(name), str(actor), str(node)
        )


def notice_of(changed: notify.Changed) -> Notice:
    """The notice for one committed change; a Pod's notice names its node."""
    node = ""
    if changed.kind == "Pod":
        node = str(((changed.object or {}).get("spec") or {}).get("nodeName") or "")
    return Notice(
        revision=changed.revision,
        type=changed.type,
        kind=changed.kind,
        namespace=changed.namespace,
        name=changed.name,
        actor=changed.actor,
        node=node,
    )


def _message(notices: Sequence[Notice], revision: int, **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"type": EVENT_TYPE, "revision": revision}
    if len(notices) > MAX_NOTICES:
        message["overflow"] = True
        message["changes"] = []
    else:
        message["changes"] = [n.as_list() for n in notices]
    message.update(extra)
    return message


def messages_for(notices: Sequence[Notice]) -> dict[str, dict[str, Any]]:
    """One message per group for a batch of notices (pure).

    Every message carries ``revision``, the batch's highest (what etcd's revision now is).
    Example: a pod created in ``shop`` and bound to ``worker-1`` in one batch gives three
    messages: ``kubarium.changes`` and ``kubarium.changes.ns.shop`` with both notices, and
    ``kubarium.changes.cluster`` with no notices and ``nodes: ["worker-1"]``.
    """
    if not notices:
        return {}
    revision = max(n.revision for n in notices)
    messages = {GROUP_ALL: _message(notices, revision)}
    by_namespace: dict[str, list[Notice]] = {}
    cluster_scoped: list[Notice] = []
    nodes: set[str] = set()
    for notice in notices:
        if notice.namespace:
            by_namespace.setdefault(notice.namespace, []).append(notice)
        else:
            cluster_scoped.append(notice)
        if notice.kind == "Pod" and notice.node:
            nodes.add(notice.node)
    for namespace, items in by_namespace.items():
        messages[namespace_group(namespace)] = _message(items, revision)
    if cluster_scoped or nodes:
        messages[GROUP_CLUSTER] = _message(cluster_scoped, revision, nodes=sorted(nodes))
    return messages


class Publisher:
    """Collects notices from writer threads and sends them in batches from a thread of its own."""

    def __init__(self, linger: float = LINGER_SECONDS):
        self.linger = linger
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        """Fresh state (also in a forked child, whose parent's thread does not exist there)."""
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._pending: list[Notice] = []
        self._queued = 0.0  # wall time of the first notice of the pending batch
        self._submitted = 0
        self._finished = 0
        self._thread: threading.Thread | None = None
        self._last_warning = 0.0

    def submit(self, notice: Notice) -> None:
        """Queue one notice (called in the writer's thread: only appends)."""
        with self._lock:
            if not self._pending:
                self._queued = time.time()
            self._pending.append(notice)
            self._submitted += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="kubarium-broadcast", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything submitted so far has been sent (or dropped); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._done:
            target = self._submitted
            while self._finished < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._done.wait(remaining)
        return True

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            while True:
                self._wake.wait()
                time.sleep(self.linger)
                with self._lock:
                    self._wake.clear()
                    batch, self._pending = self._pending, []
                    queued = self._queued
                if batch:
                    try:
                        loop.run_until_complete(self._send(batch, queued))
                    except Exception:  # never let the sender thread die
                        logger.exception("live stream: publishing a batch failed")
                with self._done:
                    self._finished += len(batch)
                    self._done.notify_all()
        finally:  # only reached when the interpreter tears the thread down
            loop.close()

    async def _send(self, batch: Sequence[Notice], queued: float = 0.0) -> None:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is None:
            return
        for group, message in messages_for(batch).items():
            try:
                await layer.group_send(group, {**message, "queued": queued, "sent": time.time()})
            except Exception as error:  # Redis down: pages heal when they reconnect
                now = time.monotonic()
                if now - self._last_warning > WARN_EVERY_SECONDS:
                    self._last_warning = now
                    logger.warning("live stream: could not publish to %s: %s", group, error)


publisher = Publisher()


def on_change(changed: notify.Changed) -> None:
    """The store subscriber: queue the change's notice for the next batch."""
    publisher.submit(notice_of(changed))


def connect() -> None:
    """Publish every committed write of this process to the live stream (idempotent).

    Call it once per process at start-up, from ``cluster.apps.ClusterConfig.ready()``, so that
    Daphne, Celery workers and management commands all publish.
    """
    notify.subscribe(on_change)


def disconnect() -> None:
    notify.unsubscribe(on_change)


def flush(timeout: float = 5.0) -> bool:
    """Wait until this process's queued notices are sent (tests; process exit)."""
    return publisher.flush(timeout)


def groups_for(namespace: str) -> list[str]:
    """The groups a page showing ``namespace`` ("" = all namespaces) joins."""
    if not namespace:
        return [GROUP_ALL]
    return [namespace_group(namespace), GROUP_CLUSTER]


def decode(messages: Iterable[dict[str, Any]]) -> tuple[list[Notice], set[str], int, bool]:
    """Merge received messages: (notices, nodes touched, highest revision, overflow)."""
    notices: list[Notice] = []
    nodes: set[str] = set()
    revision = 0
    overflow = False
    for message in messages:
        revision = max(revision, int(message.get("revision") or 0))
        overflow = overflow or bool(message.get("overflow"))
        nodes.update(message.get("nodes") or ())
        notices.extend(Notice.from_list(item) for item in message.get("changes") or ())
    for notice in notices:
        if notice.kind == "Pod" and notice.node:
            nodes.add(notice.node)
    return notices, nodes, revision, overflow


atexit.register(flush, 2.0)
