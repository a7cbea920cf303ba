"""Who is asking, and may they: authentication and authorization of the Kubernetes API.

Authentication: a request carries ``Authorization: Bearer <token>``, a token made in Django
admin (``cluster.access.token_create``), and acts as that token's user. A request without one is
anonymous (``system:anonymous``). A malformed header or an unknown token is answered 401
``Unauthorized`` whatever the path, as the apiserver does. The dashboard's session cookie is
never accepted here: the API has no CSRF protection, so only a token counts.

Authorization: every request that touches a resource calls :func:`authorize` with the
Kubernetes verb, and :mod:`cluster.access` decides (one model for the API, the dashboard and
the admin). A refusal is a :class:`~cluster.store.errors.Forbidden` in the apiserver's words
(:func:`forbidden`), which kubectl prints as ``Error from server (Forbidden): ...``. An anonymous
request that is refused is answered 401 instead (kubectl prints ``error: You must be logged in
to the server (Unauthorized)``), except a read refused while anonymous read is on (a Secret):
that one is a 403 for ``system:anonymous``.

``/version`` and the health checks are public, like the apiserver's ``system:public-info-viewer``
role; discovery and OpenAPI need a user, or anonymous read (:func:`authorize_discovery`).
kubectl sends tokens only over HTTPS (kubectl-contract §0.2), so ``manage.py up`` serves both.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from cluster import access
from cluster.store.errors import Forbidden, Unauthorized
from cluster.store.kinds import Kind

ANONYMOUS = "system:anonymous"
# The longest field manager name the apiserver derives from a User-Agent.
MAX_MANAGER_LENGTH = 128
# Where the request's user is kept once authenticated (``request.user`` is the dashboard's
# session user, which the API ignores).
USER_ATTRIBUTE = "api_user"
# Where the API's entry view leaves the parsed route, so that authorize sees the subresource.
ROUTE_ATTRIBUTE = "api_route"


def has_credentials(request: HttpRequest) -> bool:
    return "Authorization" in request.headers


def authenticate(request: HttpRequest) -> access.User:
    """The request's user: the bearer token's, or anonymous when there is no
    ``Authorization`` header. Raises Unauthorized for a bad header or an unknown token.
    Reads the database once per request (when there is a token)."""
    user = getattr(request, USER_ATTRIBUTE, None)
    if user is not None:
        return user
    header = request.headers.get("Authorization")
    if header is None:
        user = AnonymousUser()
    else:
        scheme, _, token = header.strip().partition(" ")
        found = access.token_user(token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise Unauthorized("Unauthorized")
        user = found
    setattr(request, USER_ATTRIBUTE, user)
    return user


def user_of(request: HttpRequest) -> str:
    """The request's user name as the apiserver names it (``system:anonymous`` without a
    token)."""
    user = authenticate(request)
    return user.get_username() if user.is_authenticated else ANONYMOUS


def actor(request: HttpRequest, manager: str) -> str:
    """The change log's actor for an API write: the user and the client's field manager
    (``alice (kubectl-create)``); just the manager for an anonymous request."""
    user = authenticate(request)
    if not user.is_authenticated:
        return manager
    return f"{user.get_username()} ({manager})"


def authorize_discovery(request: HttpRequest) -> None:
    """Discovery and OpenAPI: any authenticated user, or anyone while anonymous read is on."""
    user = authenticate(request)
    if not user.is_authenticated and not access.is_anonymous_allowed_to_read():
        raise Unauthorized("Unauthorized")


def authorize(
    request: HttpRequest, verb: str, kind: Kind, namespace: str | None, name: str = ""
) -> None:
    """Raise unless the request's user may ``verb`` the ``kind`` (in ``namespace``).

    ``verb`` is a Kubernetes verb: get, list, watch, create, update, patch, delete,
    deletecollection. The subresource (``pods/log``, ``pods/eviction``, ``deployments/scale``)
    comes from the route the entry view parsed. Raises Forbidden (403), or Unauthorized (401)
    for an anonymous request that needs to sign in.
    """
    user = authenticate(request)
    route = getattr(request, ROUTE_ATTRIBUTE, None)
    subresource = route.subresource if route is not None and route.kind == kind else ""
    resource = f"{kind.plural}/{subresource}" if subresource else kind.plural
    if access.allows(user, verb, resource, namespace, kind.group):
        return
    if not user.is_authenticated and not (
        verb in access.READ_VERBS and access.is_anonymous_allowed_to_read()
    ):
        raise Unauthorized("Unauthorized")
    raise forbidden(user_of(request), verb, kind, namespace, name, subresource)


def forbidden(
    user: str,
    verb: str,
    kind: Kind,
    namespace: str | None,
    name: str = "",
    subresource: str = "",
) -> Forbidden:
    """The apiserver's RBAC refusal, e.g. ``pods is forbidden: User "alice" cannot list
    resource "pods" in API group "" in the namespace "default"``."""
    where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    subject = f'{kind.resource_group()} "{name}"' if name else kind.resource_group()
    resource = f"{kind.plural}/{subresource}" if subresource else kind.plural
    message = (
        f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
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
