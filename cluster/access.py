"""Who may do what: one model for the Kubernetes API, the dashboard and the admin.

People are Django users. A user holds roles through :class:`~cluster.models.RoleBinding` rows,
each cluster-wide (namespace blank) or in one namespace, like Kubernetes' ClusterRoleBinding and
RoleBinding. The three roles follow Kubernetes' built-in ClusterRoles:

- **viewer** (``view``): get, list and watch everything except Secrets (reading a Secret is
  reading its data, so a viewer is refused Secrets, as ``view`` is) and the access tables.
- **editor** (``edit``): the viewer's reads, Secrets included, and every verb on namespaced
  resources (workloads, Services, Ingresses, ConfigMaps, Secrets, claims, autoscalers, their
  subresources); nothing that writes cluster-scoped resources (Nodes, Namespaces,
  PersistentVolumes, StorageClasses) or who-may-do-what.
- **admin** (``cluster-admin``): everything. Superusers are admins everywhere.

A namespaced binding applies only to requests in that namespace: it does not cover
cluster-scoped resources nor lists across all namespaces (``kubectl get pods -A``).

Two settings change the picture (``docs/configuration.md``):

- ``KUBARIUM_ANONYMOUS_READ``: people who are not signed in (and API requests without a token)
  are cluster-wide viewers, for classroom projectors. Secrets stay hidden.
- ``KUBARIUM_AUTHORIZATION_MODE = "AlwaysAllow"``: like kube-apiserver's
  ``--authorization-mode=AlwaysAllow`` with anonymous auth, everyone may do everything. For
  throwaway sandboxes and tests that are not about access; the default is ``"RBAC"``.

Tokens for the API are made by :func:`token_create` (shown once, stored as a SHA-256 digest) and
resolved by :func:`token_user`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from cluster.models import ApiToken, Role, RoleBinding
from cluster.store import kinds

READ_VERBS = frozenset({"get", "list", "watch"})
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
VERBS = READ_VERBS | WRITE_VERBS

# Resources that say who may do what: admins only, even to read.
ACCESS_RESOURCES = frozenset({"rolebindings", "apitokens", "users"})
# Reading these is reading secret data: editors and admins only.
SECRET_RESOURCES = frozenset({"secrets"})

ALWAYS_ALLOW = "AlwaysAllow"
RBAC = "RBAC"
AUTHORIZATION_MODES = (RBAC, ALWAYS_ALLOW)

TOKEN_PREFIX = "kubarium-"
TOKEN_PREFIX_SHOWN = 14  # "kubarium-" and five random characters

User = AbstractBaseUser | AnonymousUser


# --- settings -----------------------------------------------------------------------------------


def anonymous_read() -> bool:
    """Whether people who are not signed in may read (``KUBARIUM_ANONYMOUS_READ``)."""
    return bool(getattr(settings, "KUBARIUM_ANONYMOUS_READ", False))


def always_allow() -> bool:
    """Whether authorization is off (``KUBARIUM_AUTHORIZATION_MODE = "AlwaysAllow"``)."""
    return getattr(settings, "KUBARIUM_AUTHORIZATION_MODE", RBAC) == ALWAYS_ALLOW


# --- the role table: a pure function ------------------------------------------------------------


def is_namespaced(resource: str, group: str = "") -> bool:
    """Whether ``resource`` (a plural, maybe with a subresource) lives in namespaces.

    Unknown resources count as cluster-scoped, so only admins may write them."""
    plural = resource.split("/", 1)[0]
    kind = kinds.by_resource(group, plural)
    if kind is None:
        kind = next((k for k in kinds.KINDS if k.plural == plural), None)
    return kind is not None and kind.namespaced


def role_allows(role: str, verb: str, resource: str, group: str = "") -> bool:
    """Whether ``role`` grants ``verb`` on ``resource`` (``pods``, ``pods/log``,
    ``deployments/scale``...) in the API group ``group``, wherever the binding applies.

    >>> role_allows("viewer", "list", "pods")
    True
    >>> role_allows("viewer", "get", "secrets")
    False
    >>> role_allows("editor", "delete", "nodes")
    False
    """
    if verb not in VERBS:
        return False
    plural = resource.split("/", 1)[0]
    if role == Role.ADMIN:
        return True
    if plural in ACCESS_RESOURCES:
        return False
    if role == Role.VIEWER:
        return verb in READ_VERBS and plural not in SECRET_RESOURCES
    if role == Role.EDITOR:
        return verb in READ_VERBS or is_namespaced(resource, group)
    return False


# --- a user's roles -----------------------------------------------------------------------------


def bindings_of(user: User) -> list[tuple[str, str]]:
    """The user's ``(role, namespace)`` grants (namespace ``""``: cluster-wide), read once per
    user object (a request's user lives as long as the request)."""
    if not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return [(Role.ADMIN, "")]
    cached = getattr(user, "_kubarium_bindings", None)
    if cached is None:
        cached = list(RoleBinding.objects.filter(user_id=user.pk).values_list("role", "namespace"))
        user._kubarium_bindings = cached
    return cached


def roles_in(user: User, namespace: str | None) -> set[str]:
    """The roles that apply to a request in ``namespace`` (None: cluster scope or all
    namespaces, where only cluster-wide bindings apply)."""
    if always_allow():
        return {Role.ADMIN}
    grants: Iterable[tuple[str, str]] = bindings_of(user)
    roles = {role for role, where in grants if where == "" or (namespace and where == namespace)}
    if not user.is_authenticated and anonymous_read():
        roles.add(Role.VIEWER)
    return roles


def allows(user: User, verb: str, resource: str, namespace: str | None, group: str = "") -> bool:
    """Whether ``user`` may ``verb`` the ``resource`` (a plural, ``"pods/log"``...) in
    ``namespace`` (None for cluster-scoped resources and lists across all namespaces).

    ``user`` is a Django ``User`` or ``AnonymousUser``. Verbs are Kubernetes verbs: get, list,
    watch, create, update, patch, delete, deletecollection.
    """
    return any(role_allows(role, verb, resource, group) for role in roles_in(user, namespace))


def namespaces_where(
    user: User, verb: str, resource: str, group: str = ""
) -> frozenset[str] | None:
    """Where ``user`` may ``verb`` the ``resource``: None for everywhere (a cluster-wide grant),
    else the set of namespaces (maybe empty). For pages that list what a user may see."""
    if any(role_allows(role, verb, resource, group) for role in roles_in(user, None)):
        return None
    return frozenset(
        where
        for role, where in bindings_of(user)
        if where and role_allows(role, verb, resource, group)
    )


def may_run_the_cluster(user: User) -> bool:
    """Whether ``user`` may change what affects everyone, as the simulation clock and the
    control plane's components: an editor or admin role cluster-wide (or ``AlwaysAllow``)."""
    return bool(roles_in(user, None) & {Role.EDITOR, Role.ADMIN})


def may_read_secret_data(user: User, namespace: str | None) -> bool:
    """Whether ``user`` may see the values of Secrets in ``namespace``: editors and admins
    there. Never viewers nor anonymous read (they may know a Secret exists, not what it holds);
    everyone under ``AlwaysAllow``."""
    return allows(user, "get", "secrets", namespace)


def is_anonymous_allowed_to_read() -> bool:
    """Whether pages and API reads are open to people who are not signed in."""
    return always_allow() or anonymous_read()


# --- API tokens ---------------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_issue(row: ApiToken) -> str:
    """Give the (unsaved) ``row`` a new random token: its digest and first characters are
    stored, the token itself is returned to be shown once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row.digest = token_digest(token)
    row.prefix = token[:TOKEN_PREFIX_SHOWN]
    return token


def token_create(user: AbstractBaseUser, name: str = "") -> tuple[ApiToken, str]:
    """A new bearer token for ``user``: the stored row and the token itself (shown once, never
    stored)."""
    row = ApiToken(user=user, name=name)
    token = token_issue(row)
    row.save()
    return row, token


def token_user(token: str) -> AbstractBaseUser | None:
    """The active user a bearer token belongs to, or None for an unknown token."""
    if not token:
        return None
    row = ApiToken.objects.select_related("user").filter(digest=token_digest(token)).first()
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        # At most one write a minute per token: reads stay reads.
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user
