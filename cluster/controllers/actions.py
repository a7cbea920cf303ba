"""What a controller planner asks for: small immutable actions, executed by a reconcile task.

A planner is a pure function ``(desired, observed, now) -> Plan``. The reconcile task that calls
it executes ``plan.actions`` *in order* through the store's write path:

============== ==============================================================================
action         write path call
============== ==============================================================================
``Create``     ``write.create(action.obj)``
``Delete``     ``write.delete(kind, namespace, name, preconditions={"uid": uid})``
``Patch``      ``write.patch(kind, namespace, name, merge_patch)`` (a JSON merge patch)
``UpdateStatus`` ``write.mutate(kind, namespace, name, lambda o: {**o, "status": status},
               subresource="status")``; ``resource_version`` (when set) is a precondition
``Event``      create a ``v1/Event`` about ``involved`` (reason, message, type)
============== ==============================================================================

Rules for the executor:

* Stop at the first action that fails: later actions may depend on earlier ones (a Pod is
  created after its claims; a status counts what was planned). Record the failed action's
  ``on_failure`` events (``{error}`` replaced by the error text) and requeue the key. The one
  exception: consecutive creates of one kind are a batch (upstream's ``slowStartBatch``), all
  attempted; a failure among them stops what follows the batch.
* After an action succeeds, record its ``on_success`` events. In them ``{name}`` stands for the
  name the store gave the object: creates use ``metadata.generateName`` as Kubernetes'
  controllers do, so the name is only known afterwards (``SuccessfulCreate`` "Created pod:
  web-7d4b9-x8k2p"). :func:`events_after_success` and :func:`events_after_failure` do the
  substitution.
* ``Patch`` bodies carry their own preconditions where a lost update would matter: adoption and
  release patches replace the whole ``metadata.ownerReferences`` list, so they include
  ``metadata.uid`` and ``metadata.resourceVersion`` (the store answers 409 Conflict when either
  is stale, exactly as for Kubernetes' own controllers).
* ``Plan.requeue_after`` is in simulated seconds: run the reconcile again that much later even
  if nothing changes (availability after ``minReadySeconds``, a progress deadline, the HPA's
  15-second resync). ``None`` means "only when something changes".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Action",
    "Create",
    "Delete",
    "Event",
    "Patch",
    "Plan",
    "UpdateStatus",
    "events_after_failure",
    "events_after_success",
    "object_reference",
]

NORMAL = "Normal"
WARNING = "Warning"

NAME_PLACEHOLDER = "{name}"
ERROR_PLACEHOLDER = "{error}"


def object_reference(obj: Mapping[str, Any]) -> dict[str, Any]:
    """An ``ObjectReference`` to ``obj`` for an Event's ``involvedObject``.

    >>> object_reference({"apiVersion": "apps/v1", "kind": "ReplicaSet",
    ...                   "metadata": {"name": "web", "namespace": "default", "uid": "u1"}})
    {'kind': 'ReplicaSet', 'namespace': 'default', 'name': 'web', 'uid': 'u1', 'apiVersion': 'apps/v1'}
    """
    meta = obj.get("metadata") or {}
    ref: dict[str, Any] = {"kind": obj.get("kind", "")}
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    ref["name"] = meta.get("name", "")
    if meta.get("uid"):
        ref["uid"] = meta["uid"]
    if obj.get("apiVersion"):
        ref["apiVersion"] = obj["apiVersion"]
    if meta.get("resourceVersion"):
        ref["resourceVersion"] = meta["resourceVersion"]
    return ref


@dataclass(frozen=True)
class Event:
    """A Kubernetes Event to record about ``involved`` (an ObjectReference dict)."""

    involved: Mapping[str, Any]
    type: str
    reason: str
    message: str

    def filled(self, *, name: str | None = None, error: str | None = None) -> Event:
        """This event with ``{name}`` / ``{error}`` replaced (plain text replace, no format)."""
        message = self.message
        if name is not None:
            message = message.replace(NAME_PLACEHOLDER, name)
        if error is not None:
            message = message.replace(ERROR_PLACEHOLDER, error)
        return Event(self.involved, self.type, self.reason, message)


@dataclass(frozen=True)
class Create:
    """Create ``obj`` (with ``metadata.name`` or ``metadata.generateName``)."""

    obj: Mapping[str, Any]
    on_success: tuple[Event, ...] = ()
    on_failure: tuple[Event, ...] = ()

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    @property
    def name(self) -> str:
        """The fixed name, or ``""`` when the store will generate one."""
        return str((self.obj.get("metadata") or {}).get("name", ""))


@dataclass(frozen=True)
class Delete:
    """Delete ``kind/namespace/name`` provided its uid is still ``uid`` (a precondition)."""

    kind: str
    namespace: str
    name: str
    uid: str | None = None
    on_success: tuple[Event, ...] = ()
    on_failure: tuple[Event, ...] = ()


@dataclass(frozen=True)
class Patch:
    """Apply a JSON merge patch (RFC 7386) to ``kind/namespace/name``."""

    kind: str
    namespace: str
    name: str
    merge_patch: Mapping[str, Any]
    on_success: tuple[Event, ...] = ()
    on_failure: tuple[Event, ...] = ()


@dataclass(frozen=True)
class UpdateStatus:
    """Replace the status of ``kind/namespace/name`` (the status subresource)."""

    kind: str
    namespace: str
    name: str
    status: Mapping[str, Any]
    resource_version: str | None = None
    on_success: tuple[Event, ...] = ()
    on_failure: tuple[Event, ...] = ()


Action = Create | Delete | Patch | UpdateStatus | Event


def events_after_success(action: Action, result: Mapping[str, Any] | None = None) -> list[Event]:
    """The events to record once ``action`` succeeded; ``result`` is what the store returned."""
    if isinstance(action, Event):
        return [action]
    name = None
    if result is not None:
        name = (result.get("metadata") or {}).get("name")
    if name is None and isinstance(action, Create):
        name = action.name or None
    return [event.filled(name=name) for event in action.on_success]


def events_after_failure(action: Action, error: str) -> list[Event]:
    """The events to record when ``action`` failed with ``error``."""
    if isinstance(action, Event):
        return []
    name = action.name if isinstance(action, Create) and action.name else None
    return [event.filled(name=name, error=error) for event in action.on_failure]


@dataclass(frozen=True)
class Plan:
    """The actions of one reconcile, in execution order, and when to look again."""

    actions: tuple[Action, ...] = ()
    requeue_after: float | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def of(
        cls,
        actions: Iterable[Action],
        requeue_after: float | None = None,
        notes: Iterable[str] = (),
    ) -> Plan:
        return cls(tuple(actions), requeue_after, tuple(notes))

    def of_type(self, action_type: type) -> list[Any]:
        """The actions of one type, in order: ``plan.of_type(Create)``."""
        return [action for action in self.actions if isinstance(action, action_type)]

    @property
    def events(self) -> list[Event]:
        """Unconditional events plus every success event (what a clean run records)."""
        events: list[Event] = []
        for action in self.actions:
            events.extend(events_after_success(action))
        return events

    def __bool__(self) -> bool:
        return bool(self.actions)


def min_requeue(*delays: float | None) -> float | None:
    """The soonest of several optional delays: ``min_requeue(None, 7.0, 3.0) == 3.0``."""
    present = [delay for delay in delays if delay is not None]
    return min(present) if present else None
