"""Carrying out a planner's ``Plan`` through the one write path.

Actions run in order; the first one that fails stops the rest (later actions may depend on it),
its failure events are recorded, and the caller requeues the key. Consecutive creates of one
kind go as one batch (see ``execute``). A ``NotFound`` on a delete, or
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
from cluster.store import batch, events, write
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
    """Run ``plan``'s actions as ``component`` (the actor named in the change log and events).

    A run of consecutive creates of one kind is written as one batch (``batch.create_many``),
    as upstream's ``slowStartBatch`` sends a batch of pod creates at once: each is attempted,
    and a failure among them stops what comes after the run.
    """
    outcome = Outcome()
    actions = list(plan.actions)
    position = 0
    while position < len(actions):
        run = _creates_from(actions, position)
        if len(run) > 1:
            results = _create_many(run, component)
            position += len(run)
        else:
            results = [_attempt(actions[position], component)]
            run = [actions[position]]
            position += 1
        reported: list[Event] = []
        for action, result in zip(run, results, strict=True):
            if isinstance(result, NotFound | AlreadyExists) and isinstance(action, Delete | Create):
                outcome.done += 1  # another worker got there first
                continue
            if isinstance(result, StoreError):
                reported += events_after_failure(action, result.message)
                level = logging.DEBUG if "modified" in result.message else logging.INFO
                logger.log(
                    level, "%s: %s failed: %s", component, type(action).__name__, result.message
                )
                outcome.failed = outcome.failed or result.message
                continue
            outcome.done += 1
            reported += events_after_success(action, result)
        _record(reported, component)
        if outcome.failed:
            return outcome
    return outcome


def _creates_from(actions: list, start: int) -> list[Create]:
    """The run of consecutive creates of one batchable kind at ``start`` (empty when none).

    Only one kind: a create of another kind may depend on the ones before it (a StatefulSet's
    pod on its claims), so it waits for them as any other action does."""
    run: list[Create] = []
    for action in actions[start:]:
        if not isinstance(action, Create) or action.obj.get("kind") in batch.NOT_BATCHED:
            break
        if run and action.obj.get("kind") != run[0].obj.get("kind"):
            break
        run.append(action)
    return run


def _create_many(run: list[Create], component: str) -> list:
    return batch.create_many([dict(action.obj) for action in run], actor=component)


def _attempt(action, component: str):
    """The result of one action: what the store answered, or the error it raised."""
    try:
        return _run(action, component)
    except StoreError as error:
        return error


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


def _record(reported: list[Event], component: str) -> None:
    """Record the events of a run of actions (one batch); one that cannot be stored is logged,
    and must not stop the controller."""
    notes = [
        events.Note(dict(e.involved), e.reason, e.message, e.type, component) for e in reported
    ]
    for note, result in zip(notes, events.record_many(notes), strict=True):
        if isinstance(result, StoreError):
            logger.info("could not record event %s: %s", note.reason, result.message)
