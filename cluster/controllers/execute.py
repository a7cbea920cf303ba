"""Carrying out a planner's ``Plan`` through the one write path.

Actions run in order; the first one that fails stops the rest (later actions may depend on it),
its failure events are recorded, and the caller requeues the key. A ``NotFound`` on a delete, or
an ``AlreadyExists`` on a create of a fixed name, means another worker got there first: that is
success for a level-driven controller, not an error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cluster.controllers.actions import (
    Create,
    Delete,
    Event,
    Patch,
    Plan,
    UpdateStatus,
    events_after_failure,
    events_after_success,
)
from cluster.store import events, write
from cluster.store.errors import AlreadyExists, Conflict, NotFound, StoreError

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    done: int = 0
    failed: str = ""  # the error of the action that stopped the plan

    @property
    def ok(self) -> bool:
        return not self.failed


def execute(plan: Plan, *, component: str) -> Outcome:
    """Run ``plan``'s actions as ``component`` (the actor named in the change log and events)."""
    outcome = Outcome()
    for action in plan.actions:
        try:
            result = _run(action, component)
        except (NotFound, AlreadyExists) as gone:
            if isinstance(action, Delete | Create):
                outcome.done += 1
                continue
            outcome.failed = gone.message
        except StoreError as error:
            outcome.failed = error.message
        if outcome.failed:
            for event in events_after_failure(action, outcome.failed):
                _record(event, component)
            level = logging.DEBUG if "modified" in outcome.failed else logging.INFO
            logger.log(level, "%s: %s failed: %s", component, type(action).__name__, outcome.failed)
            return outcome
        outcome.done += 1
        for event in events_after_success(action, result):
            _record(event, component)
    return outcome


def _run(action, component: str) -> dict | None:
    if isinstance(action, Create):
        return write.create(dict(action.obj), actor=component)
    if isinstance(action, Delete):
        preconditions = {"uid": action.uid} if action.uid else None
        return write.delete(
            action.kind,
            action.namespace,
            action.name,
            preconditions=preconditions,
            propagation="Background",
            actor=component,
        )
    if isinstance(action, Patch):
        return write.patch(
            action.kind,
            action.namespace,
            action.name,
            dict(action.merge_patch),
            "merge",
            actor=component,
        )
    if isinstance(action, UpdateStatus):
        status = dict(action.status)

        def set_status(obj: dict) -> dict:
            if (
                action.resource_version
                and obj["metadata"]["resourceVersion"] != action.resource_version
            ):
                raise Conflict(obj["kind"].lower() + "s", "", action.name)
            obj["status"] = status
            return obj

        return write.mutate(
            action.kind,
            action.namespace,
            action.name,
            set_status,
            subresource="status",
            actor=component,
        )
    if isinstance(action, Event):
        return None
    raise TypeError(f"unknown action {action!r}")


def _record(event: Event, component: str) -> None:
    try:
        events.record_reference(
            dict(event.involved), event.reason, event.message, type=event.type, component=component
        )
    except StoreError as error:  # an event that cannot be stored must not stop the controller
        logger.info("could not record event %s: %s", event.reason, error.message)
