"""The embedded demo's first-run access: an admin user, their API token, and a kubeconfig.

``manage.py up`` calls :func:`ensure_demo_access` after migrating. In the state directory
(``.kubarium/``, never committed) it keeps:

- ``admin-password``: the password of the superuser ``admin``, made on first run when no user
  of that name exists (mode 0600; change it in the admin whenever you like, the file is only a
  reminder of the first one);
- ``kubeconfig``: cluster ``kubarium`` (the HTTPS server and ``certificate-authority-data``),
  user ``kubarium-admin`` (a bearer token of ``admin``), context ``kubarium`` with namespace
  ``default`` (mode 0600).

Tokens are stored hashed, so the kubeconfig holds the only copy: when it is missing, its token no
longer works (a new database) or its server or CA changed, a new token is made and the file is
written again. Otherwise nothing changes, so a kubeconfig copied elsewhere keeps working.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth import get_user_model

from cluster import access, tls

ADMIN_USERNAME = "admin"
CLUSTER_NAME = "kubarium"
USER_NAME = "kubarium-admin"
CONTEXT_NAME = "kubarium"
TOKEN_NAME = "kubeconfig (manage.py up)"


@dataclass(frozen=True)
class DemoAccess:
    kubeconfig: Path
    username: str
    password_file: Path | None  # None: the admin user existed before and has its own password
    token_created: bool


def kubeconfig_document(server: str, ca_pem: bytes, token: str) -> dict[str, Any]:
    """A kubeconfig for ``server`` trusting ``ca_pem``, authenticating with ``token``."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CLUSTER_NAME,
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": USER_NAME, "user": {"token": token}}],
        "contexts": [
            {
                "name": CONTEXT_NAME,
                "context": {"cluster": CLUSTER_NAME, "user": USER_NAME, "namespace": "default"},
            }
        ],
        "current-context": CONTEXT_NAME,
        "preferences": {},
    }


def _current(path: Path) -> dict[str, Any] | None:
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None
    return document if isinstance(document, dict) else None


def _still_good(document: dict[str, Any] | None, server: str, ca_pem: bytes) -> bool:
    """Whether an existing kubeconfig points at ``server`` with this CA and a working token of
    an admin."""
    if document is None:
        return False
    try:
        cluster = document["clusters"][0]["cluster"]
        token = document["users"][0]["user"]["token"]
    except (KeyError, IndexError, TypeError):
        return False
    if cluster.get("server") != server:
        return False
    if cluster.get("certificate-authority-data") != base64.b64encode(ca_pem).decode():
        return False
    user = access.token_user(str(token))
    return user is not None and access.allows(user, "delete", "nodes", None)


def ensure_admin(state_dir: Path) -> tuple[Any, Path | None]:
    """The superuser ``admin``, made with a random password (kept in ``admin-password``) when
    missing. Returns the user and the password file, or None when the user was not made here."""
    users = get_user_model()
    password_file = state_dir / "admin-password"
    user = users.objects.filter(username=ADMIN_USERNAME).first()
    if user is None:
        password = secrets.token_urlsafe(12)
        user = users.objects.create_superuser(ADMIN_USERNAME, email="", password=password)
        tls.write_private(password_file, (password + "\n").encode())
        return user, password_file
    if password_file.exists() and user.check_password(password_file.read_text().strip()):
        return user, password_file
    return user, None


def ensure_demo_access(state_dir: Path, server: str, ca_pem: bytes) -> DemoAccess:
    """Make sure the admin user and ``state_dir/kubeconfig`` exist and work (see the module's
    docstring)."""
    user, password_file = ensure_admin(state_dir)
    path = state_dir / "kubeconfig"
    if _still_good(_current(path), server, ca_pem):
        return DemoAccess(path, user.get_username(), password_file, token_created=False)
    _, token = access.token_create(user, name=TOKEN_NAME)
    document = kubeconfig_document(server, ca_pem, token)
    tls.write_private(path, yaml.safe_dump(document, sort_keys=False).encode())
    return DemoAccess(path, user.get_username(), password_file, token_created=True)


def shown_path(path: Path, cwd: Path) -> str:
    """``path`` relative to ``cwd`` when inside it (``.kubarium/kubeconfig``), else absolute."""
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return str(path)


def instructions(made: DemoAccess, https_url: str, anonymous_read: bool, cwd: Path) -> list[str]:
    """What ``manage.py up`` prints about access once everything answers."""
    config = shown_path(made.kubeconfig, cwd)
    lines = [
        f"kubectl:   KUBECONFIG={config} kubectl get nodes",
        f"           (the API over HTTPS at {https_url}, as {made.username}, namespace default)",
    ]
    if made.password_file is not None:
        password = shown_path(made.password_file, cwd)
        lines.append(f"sign in:   {made.username}, password in {password} (dashboard and /admin/)")
    else:
        lines.append(f"sign in:   {made.username}, with the password you gave it")
    if anonymous_read:
        lines.append(
            "dashboard: anyone may look without signing in (KUBARIUM_ANONYMOUS_READ=1); "
            "changes need a sign-in"
        )
    return lines
