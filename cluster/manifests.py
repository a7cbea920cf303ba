"""Kubernetes YAML manifests: load, apply all-or-nothing, delete.

``apply`` behaves like ``kubectl apply`` (client-side): it creates what is missing and, for what
exists, computes a three-way merge from the last-applied configuration (kept, as kubectl keeps it,
in the ``kubectl.kubernetes.io/last-applied-configuration`` annotation), the new manifest and the
live object, so fields that the manifest stopped naming are removed and fields set by others
(a Service's cluster IP, a Pod's node) are kept. Every document goes through the one write path,
inside one transaction: if any document is bad, nothing is applied, and every problem is reported
with the document's position, its kind/name and the field.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction

from cluster.store import read, write
from cluster.store.errors import Invalid, NotFound, RequestEntityTooLarge, StoreError
from cluster.store.kinds import Kind

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

Obj = dict[str, Any]


@dataclass
class Document:
    """One object from a manifest, and where it came from."""

    source: str
    position: int  # 1-based position of the document in its file
    obj: Any

    @property
    def label(self) -> str:
        obj = self.obj if isinstance(self.obj, dict) else {}
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        name = meta.get("name") or meta.get("generateName") or "?"
        where = f"{meta['namespace']}/{name}" if meta.get("namespace") else name
        return f"document {self.position} ({obj.get('kind') or '?'} {where}) in {self.source}"


@dataclass
class Problem:
    document: Document | None
    messages: list[str]
    source: str = ""

    def __str__(self) -> str:
        where = self.document.label if self.document else self.source
        return f"{where}: " + "; ".join(self.messages)


@dataclass
class Outcome:
    """What happened to one object: ``created``, ``configured``, ``unchanged`` or ``deleted``."""

    kind: Kind
    namespace: str
    name: str
    action: str

    def __str__(self) -> str:
        """As kubectl prints it: ``deployment.apps/web created``, ``pod/busy configured``."""
        return f"{self.kind.type_name()}/{self.name} {self.action}"


@dataclass
class ManifestError(Exception):
    """The manifests could not be applied; nothing was written."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


# --- loading ---------------------------------------------------------------------------------


def load_text(text: str | bytes, source: str = "<stdin>") -> list[Document]:
    """Parse multi-document YAML (or JSON). ``kind: List`` documents are expanded."""
    limit = settings.KUBARIUM["MAX_MANIFEST_BYTES"]
    size = len(text.encode() if isinstance(text, str) else text)
    if size > limit:
        raise ManifestError(
            [
                Problem(
                    None,
                    [
                        str(
                            RequestEntityTooLarge(
                                f"the manifest is {size} bytes; the limit is {limit} bytes "
                                f"(Request entity too large: limit is {limit})"
                            )
                        )
                    ],
                    source,
                )
            ]
        )
    try:
        raw_documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ManifestError([Problem(None, [f"invalid YAML{where}: {problem}"], source)]) from None
    documents: list[Document] = []
    position = 0
    for raw in raw_documents:
        if raw is None:
            continue
        position += 1
        if (
            isinstance(raw, dict)
            and raw.get("kind") == "List"
            and isinstance(raw.get("items"), list)
        ):
            documents.extend(Document(source, position, item) for item in raw["items"])
        else:
            documents.append(Document(source, position, raw))
    return documents


def load_paths(paths: Iterable[str | Path]) -> list[Document]:
    """Load files and directories (their manifests in name order), like ``kubectl apply -f``."""
    documents: list[Document] = []
    for path in paths:
        path = Path(path)
        files = (
            sorted(p for p in path.iterdir() if p.suffix in MANIFEST_SUFFIXES)
            if path.is_dir()
            else [path]
        )
        for file in files:
            try:
                data = file.read_bytes()
            except OSError as error:
                raise ManifestError(
                    [Problem(None, [error.strerror or str(error)], str(file))]
                ) from None
            documents.extend(load_text(data, str(file)))
    return documents


# --- applying --------------------------------------------------------------------------------


def apply(
    documents: list[Document], *, actor: str = "kubectl-client-side-apply", dry_run: bool = False
) -> list[Outcome]:
    """Apply every document in one transaction: all of them, or none and every error."""
    outcomes: list[Outcome] = []
    problems: list[Problem] = []
    with transaction.atomic():
        for document in documents:
            try:
                outcomes.append(_apply_one(document, actor))
            except StoreError as error:
                problems.append(Problem(document, _messages(error)))
        if problems:
            transaction.set_rollback(True)
        elif dry_run:
            transaction.set_rollback(True)
    if problems:
        raise ManifestError(problems)
    return outcomes


def delete(
    documents: list[Document],
    *,
    actor: str = "kubectl",
    ignore_not_found: bool = False,
) -> tuple[list[Outcome], list[Problem]]:
    """Delete each document's object, in file order; what is missing is a problem unless ignored."""
    outcomes: list[Outcome] = []
    problems: list[Problem] = []
    for document in documents:
        try:
            kind, namespace, name = _identity(document.obj)
            write.delete(kind, namespace, name, propagation="Background", actor=actor)
            outcomes.append(Outcome(kind, namespace, name, "deleted"))
        except NotFound as error:
            if not ignore_not_found:
                problems.append(Problem(document, [str(error)]))
        except StoreError as error:
            problems.append(Problem(document, _messages(error)))
    return outcomes, problems


def _identity(obj: Any) -> tuple[Kind, str, str]:
    kind = write.kind_of(obj)
    meta = obj.get("metadata") or {}
    namespace = (meta.get("namespace") or "default") if kind.namespaced else ""
    return kind, namespace, meta.get("name", "")


def _messages(error: StoreError) -> list[str]:
    if isinstance(error, Invalid):
        return [str(e) for e in error.errors]
    return [error.message]


def _apply_one(document: Document, actor: str) -> Outcome:
    obj = document.obj
    kind, namespace, name = _identity(obj)
    desired = copy.deepcopy(obj)
    desired.setdefault("metadata", {})
    if kind.namespaced:
        desired["metadata"]["namespace"] = namespace
    last_applied = json.dumps(_without_last_applied(obj), sort_keys=True, separators=(",", ":"))
    desired["metadata"].setdefault("annotations", {})
    desired["metadata"]["annotations"] = {
        **(desired["metadata"]["annotations"] or {}),
        LAST_APPLIED: last_applied,
    }
    try:
        live = read.get(kind, namespace, name)
    except NotFound:
        write.create(desired, actor=actor)
        return Outcome(kind, namespace, name, "created")

    previous = _previous(live)

    def change(current: Obj) -> Obj:
        return three_way_merge(previous, desired, current)

    before = live["metadata"]["resourceVersion"]
    after = write.mutate(kind, namespace, name, change, actor=actor)
    action = "unchanged" if after["metadata"]["resourceVersion"] == before else "configured"
    return Outcome(kind, namespace, name, action)


def _without_last_applied(obj: Obj) -> Obj:
    clean = copy.deepcopy(obj)
    annotations = (clean.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(LAST_APPLIED, None)
        if not annotations:
            clean["metadata"].pop("annotations")
    return clean


def _previous(live: Obj) -> Obj:
    text = (live.get("metadata", {}).get("annotations") or {}).get(LAST_APPLIED)
    try:
        previous = json.loads(text) if text else {}
    except ValueError:
        previous = {}
    return previous if isinstance(previous, dict) else {}


def three_way_merge(previous: Any, desired: Any, live: Any) -> Any:
    """Merge ``desired`` into ``live``, removing what ``previous`` had and ``desired`` dropped.

    Maps merge key by key; anything else (lists, scalars) in ``desired`` replaces what is live.
    Status is never touched (it belongs to the controllers).
    """
    if not isinstance(desired, dict) or not isinstance(live, dict):
        return copy.deepcopy(desired)
    previous = previous if isinstance(previous, dict) else {}
    merged = copy.deepcopy(live)
    for key in previous:
        if key not in desired and key != "status":
            merged.pop(key, None)
    for key, value in desired.items():
        if key == "status":
            continue
        merged[key] = three_way_merge(previous.get(key), value, live.get(key))
    return merged
