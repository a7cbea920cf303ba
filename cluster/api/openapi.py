"""The OpenAPI documents kubectl needs to validate and apply with its default flags.

``kubectl apply -f`` and ``create -f`` (``--validate=strict``) fetch ``/openapi/v3`` and then
the document of each group version they use (kubectl-contract §7.1). A document that lists, for
every kind, the item path's PATCH operation with its ``x-kubernetes-group-version-kind`` and a
``fieldValidation`` query parameter tells kubectl that the server validates: it then sends
``fieldValidation=Strict`` and leaves validation to the server. No schemas are served, so
``kubectl explain`` is not supported. ``/openapi/v2`` is protobuf-only and answers 404.

Each document's ``hash`` (part of ``serverRelativeURL``, kubectl's HTTP cache key) is derived
from its content, so it changes exactly when the document does.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from cluster.api import discovery
from cluster.store.kinds import Kind


def gv_path(group: str, version: str) -> str:
    """``api/v1`` or ``apis/apps/v1``: a group version's key in ``/openapi/v3``."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def item_path(kind: Kind) -> str:
    prefix = f"/{gv_path(kind.group, kind.version)}"
    if kind.namespaced:
        return f"{prefix}/namespaces/{{namespace}}/{kind.plural}/{{name}}"
    return f"{prefix}/{kind.plural}/{{name}}"


def _operation(kind: Kind, action: str) -> dict[str, Any]:
    return {
        "operationId": f"{action}{kind.kind}",
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {
            "group": kind.group,
            "version": kind.version,
            "kind": kind.kind,
        },
        "parameters": [
            {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
        ],
        "responses": {"200": {"description": "OK"}},
    }


@functools.cache
def group_version_document(group: str, version: str) -> dict[str, Any] | None:
    """``GET /openapi/v3/<gv>``: one path per kind with its PATCH (and PUT) operation."""
    if not discovery.served(group, version):
        return None
    paths: dict[str, Any] = {}
    for kind in discovery.kinds_in(group, version):
        paths[item_path(kind)] = {
            "patch": _operation(kind, "patch"),
            "put": _operation(kind, "put"),
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": discovery.GIT_VERSION},
        "paths": paths,
        "components": {},
    }


def _hash(document: dict[str, Any]) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha512(text.encode()).hexdigest()[:128].upper()


@functools.cache
def index() -> dict[str, Any]:
    """``GET /openapi/v3``: where each group version's document is."""
    paths: dict[str, Any] = {}
    for group, version in discovery.group_versions():
        document = group_version_document(group, version)
        if document is None or not document["paths"]:
            continue
        key = gv_path(group, version)
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={_hash(document)}"}
    return {"paths": paths}


def document_for(path: str) -> dict[str, Any] | None:
    """The document for ``api/v1`` or ``apis/<group>/<version>``; None when not served."""
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "api":
        return group_version_document("", parts[1])
    if len(parts) == 3 and parts[0] == "apis":
        return group_version_document(parts[1], parts[2])
    return None
