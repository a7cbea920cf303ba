"""The garbage collector's planner (``pkg/controller/garbagecollector``), as a pure function.

One reconcile looks at one owner (by uid) and the objects whose ``metadata.ownerReferences``
name it. What happens depends on the owner:

* **Gone** (``None``, or an object with another uid: deleted and recreated under the same name).
  This is also all that *Background* propagation needs. Each dependent's references are sorted
  as upstream's ``classifyReferences`` does: *solid* (the owner exists and is not waiting for
  its dependents), *dangling* (the owner is gone) and *waiting* (the owner is being deleted in
  the foreground). A dependent with a solid owner only loses its dangling and waiting
  references (a ``Patch``); one without is deleted.
* **Being deleted with the ``orphan`` finalizer** (``--cascade=orphan``): every dependent loses
  its reference to the owner, then the owner loses the ``orphan`` finalizer.
* **Being deleted with the ``foregroundDeletion`` finalizer** (``--cascade=foreground``): every
  dependent that is not already being deleted is collected as above (the owner counts as
  *waiting*). The owner keeps its finalizer while any dependent with ``blockOwnerDeletion:
  true`` still exists, even one that is terminating; when none is left the finalizer goes and
  the store removes the owner.
* **Alive**, or being deleted without these finalizers: nothing to do.

A dependent of a foreground-deleted owner that has dependents itself is deleted in the
foreground too, as upstream does (a Deployment deleted with ``--cascade=foreground`` waits for
its ReplicaSet, which waits for its Pods). ``Delete`` has no propagation field and the executor
deletes in the background, so the plan first adds the ``foregroundDeletion`` finalizer to the
dependent and then deletes it: the store, seeing a finalizer, only marks it, which is exactly
what a foreground delete is. Other dependents are deleted with the default policy; finalizers
they already carry (``orphan``, ``foregroundDeletion``) are honoured by the store.

Worked example: Deployment ``web`` (uid d1) is deleted in the foreground. ReplicaSet
``web-7d4b9`` references d1 with ``blockOwnerDeletion: true`` and owns pods. Reconcile 1:
patch ``web-7d4b9`` with ``foregroundDeletion``, delete it; ``web`` keeps its finalizer.
The ReplicaSet's own reconcile deletes its pods; once they are gone the ReplicaSet goes, and
reconcile 2 of ``web`` finds no dependents and removes ``web``'s finalizer.

Patches that rewrite ``ownerReferences`` or ``finalizers`` replace whole lists (merge patch),
so they carry ``metadata.uid`` and ``metadata.resourceVersion`` as preconditions.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from cluster.controllers.actions import Action, Delete, Patch, Plan
from cluster.controllers.podutil import is_terminating, meta

__all__ = ["FOREGROUND_FINALIZER", "ORPHAN_FINALIZER", "plan_gc"]

FOREGROUND_FINALIZER = "foregroundDeletion"
ORPHAN_FINALIZER = "orphan"

SOLID, DANGLING, WAITING = "solid", "dangling", "waiting"


def _uid(obj: Mapping[str, Any] | None) -> str:
    return "" if obj is None else str(meta(obj).get("uid") or "")


def _refs(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in meta(obj).get("ownerReferences") or [] if isinstance(r, Mapping)]


def _finalizers(obj: Mapping[str, Any]) -> list[str]:
    return [str(f) for f in meta(obj).get("finalizers") or []]


def _is_deleting_dependents(obj: Mapping[str, Any]) -> bool:
    return is_terminating(obj) and FOREGROUND_FINALIZER in _finalizers(obj)


def _preconditions(obj: Mapping[str, Any]) -> dict[str, Any]:
    found = {"uid": meta(obj).get("uid"), "resourceVersion": meta(obj).get("resourceVersion")}
    return {key: value for key, value in found.items() if value}


def _key(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    return (
        str(obj.get("kind", "")),
        str(meta(obj).get("namespace", "")),
        str(meta(obj).get("name", "")),
    )


def _label(obj: Mapping[str, Any]) -> str:
    kind, namespace, name = _key(obj)
    return f"{kind} {namespace + '/' if namespace else ''}{name}"


def _classify(
    ref: Mapping[str, Any],
    owner_uid: str,
    owner_state: str,
    other_owners: Mapping[str, Mapping[str, Any] | None],
) -> str:
    uid = str(ref.get("uid") or "")
    if uid == owner_uid:
        return owner_state
    if uid not in other_owners:
        return SOLID  # not looked up: never delete on a guess
    other = other_owners[uid]
    if other is None or _uid(other) not in ("", uid):
        return DANGLING
    if _is_deleting_dependents(other):
        return WAITING
    return SOLID


def _without_refs(obj: Mapping[str, Any], uids: Collection[str]) -> Patch:
    refs = [copy.deepcopy(r) for r in _refs(obj) if str(r.get("uid") or "") not in uids]
    kind, namespace, name = _key(obj)
    return Patch(
        kind,
        namespace,
        name,
        {"metadata": {**_preconditions(obj), "ownerReferences": refs or None}},
    )


def _finalizer_patch(obj: Mapping[str, Any], finalizers: Sequence[str]) -> Patch:
    kind, namespace, name = _key(obj)
    return Patch(
        kind,
        namespace,
        name,
        {"metadata": {**_preconditions(obj), "finalizers": list(finalizers) or None}},
    )


def _attempt_to_delete(
    dependent: Mapping[str, Any],
    owner_uid: str,
    owner_state: str,
    other_owners: Mapping[str, Mapping[str, Any] | None],
    has_dependents: Collection[str],
) -> tuple[list[Action], bool, str]:
    """``attemptToDeleteItem`` for one dependent: (actions, reference released?, note)."""
    classes: dict[str, list[str]] = {SOLID: [], DANGLING: [], WAITING: []}
    for ref in _refs(dependent):
        classes[_classify(ref, owner_uid, owner_state, other_owners)].append(
            str(ref.get("uid") or "")
        )
    kind, namespace, name = _key(dependent)
    if classes[SOLID]:
        remove = classes[DANGLING] + classes[WAITING]
        if not remove:
            return [], False, ""
        return (
            [_without_refs(dependent, remove)],
            True,
            f"{_label(dependent)}: has a live owner, dropping the reference",
        )
    delete = Delete(kind, namespace, name, meta(dependent).get("uid"))
    if classes[WAITING] and _uid(dependent) in has_dependents:
        finalizers = _finalizers(dependent)
        if FOREGROUND_FINALIZER not in finalizers:
            finalizers.append(FOREGROUND_FINALIZER)
        return (
            [_finalizer_patch(dependent, finalizers), delete],
            False,
            f"{_label(dependent)}: deleting in the foreground (it has dependents)",
        )
    return [delete], False, f"{_label(dependent)}: no live owner left, deleting"


def plan_gc(
    owner: Mapping[str, Any] | None,
    owner_uid: str,
    dependents: Sequence[Mapping[str, Any]],
    *,
    other_owners: Mapping[str, Mapping[str, Any] | None] | None = None,
    has_dependents: Collection[str] = (),
) -> Plan:
    """Plan one garbage collection pass for the owner ``owner_uid``.

    ``owner``: the object now stored under the owner's name, or None. ``dependents``: objects
    that may reference ``owner_uid`` (the others are ignored). ``other_owners``: for the other
    uids those dependents reference, the owner object or None when it is gone; a uid missing
    here counts as a live owner. ``has_dependents``: uids of dependents that own objects
    themselves (deleted in the foreground when their owner is).
    """
    other_owners = other_owners or {}
    owner_live = owner is not None and _uid(owner) == owner_uid
    mine = [d for d in dependents if any(str(r.get("uid") or "") == owner_uid for r in _refs(d))]
    actions: list[Action] = []
    notes: list[str] = []

    if not owner_live:
        for dependent in mine:
            if is_terminating(dependent):
                continue
            planned, _, note = _attempt_to_delete(
                dependent, owner_uid, DANGLING, other_owners, has_dependents
            )
            actions.extend(planned)
            if note:
                notes.append(note)
        return Plan.of(actions, notes=notes)

    assert owner is not None
    if not is_terminating(owner):
        return Plan()
    finalizers = _finalizers(owner)

    if ORPHAN_FINALIZER in finalizers:
        for dependent in mine:
            actions.append(_without_refs(dependent, {owner_uid}))
            notes.append(f"{_label(dependent)}: orphaned")
        keep = [f for f in finalizers if f not in (ORPHAN_FINALIZER, FOREGROUND_FINALIZER)]
        actions.append(_finalizer_patch(owner, keep))
        return Plan.of(actions, notes=notes)

    if FOREGROUND_FINALIZER not in finalizers:
        return Plan()

    blocking = 0
    for dependent in mine:
        released = False
        if not is_terminating(dependent):
            planned, released, note = _attempt_to_delete(
                dependent, owner_uid, WAITING, other_owners, has_dependents
            )
            actions.extend(planned)
            if note:
                notes.append(note)
        blocks = any(
            str(r.get("uid") or "") == owner_uid and r.get("blockOwnerDeletion") is True
            for r in _refs(dependent)
        )
        if blocks and not released:
            blocking += 1
    if blocking:
        notes.append(f"{_label(owner)}: waiting for {blocking} blocking dependent(s)")
    else:
        actions.append(
            _finalizer_patch(owner, [f for f in finalizers if f != FOREGROUND_FINALIZER])
        )
        notes.append(
            f"{_label(owner)}: no blocking dependents left, removing {FOREGROUND_FINALIZER}"
        )
    return Plan.of(actions, notes=notes)
