"""Who is asking, and may they: the seam for authentication and authorization.

This slice of the API has no authentication (kubectl sends no token over plain HTTP anyway,
kubectl-contract §0.2): everyone may do everything. Every request that touches a resource
calls :func:`authorize` with the Kubernetes verb, so adding RBAC later means changing this
module only. A refusal is a :class:`~cluster.store.errors.Forbidden` in the apiserver's words
(:func:`forbidden`), which kubectl prints as ``Error from server (Forbidden): ...``.
"""

from __future__ import annotations

from django.http import HttpRequest

from cluster.store.errors import Forbidden
from cluster.store.kinds import Kind

ANONYMOUS = "system:anonymous"
# The longest field manager name the apiserver derives from a User-Agent.
MAX_MANAGER_LENGTH = 128


def user_of(request: HttpRequest) -> str:
    """The authenticated user (always anonymous until authentication exists)."""
    return ANONYMOUS


def authorize(
    request: HttpRequest, verb: str, kind: Kind, namespace: str | None, name: str = ""
) -> None:
    """Raise Forbidden unless the request's user may ``verb`` the ``kind`` (in ``namespace``).

    ``verb`` is a Kubernetes verb: get, list, watch, create, update, patch, delete,
    deletecollection (plus the subresource's verb for ``pods/log``, ``pods/eviction`` ...).
    Everything is allowed for now.
    """
    return None


def forbidden(user: str, verb: str, kind: Kind, namespace: str | None, name: str = "") -> Forbidden:
    """The apiserver's RBAC refusal, e.g. ``pods is forbidden: User "alice" cannot list
    resource "pods" in API group "" in the namespace "default"``."""
    where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    subject = f'{kind.resource_group()} "{name}"' if name else kind.resource_group()
    message = (
        f'{subject} is forbidden: User "{user}" cannot {verb} resource "{kind.plural}" '
        f'in API group "{kind.group}"{where}'
    )
    details = {"kind": kind.plural, "name": name} if name else {"kind": kind.plural}
    if kind.group:
        details["group"] = kind.group
    return Forbidden(message, details=details)


def field_manager(request: HttpRequest) -> str:
    """The ``fieldManager`` query parameter, or the product of the User-Agent as the apiserver
    defaults it (``kubectl/v1.32.4 (linux/amd64)`` -> ``kubectl``)."""
    manager = request.GET.get("fieldManager", "")
    if manager:
        return manager[:MAX_MANAGER_LENGTH]
    agent = request.headers.get("User-Agent", "") or "unknown"
    return agent.split("/", 1)[0][:MAX_MANAGER_LENGTH]
