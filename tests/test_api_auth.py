"""Authentication and authorization of the Kubernetes API.

First through Django's test client (the answers' shapes), then with the real kubectl and the
real Python client over HTTPS against Daphne (kubectl sends tokens only over TLS).
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User

from cluster import access
from cluster.models import Change, Role, RoleBinding
from cluster.store import write
from tests.builders import configmap, deployment, namespace, pod

PODS = "/api/v1/namespaces/default/pods"
SECRETS = "/api/v1/namespaces/default/secrets"
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"

UNAUTHORIZED = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "Unauthorized",
    "reason": "Unauthorized",
    "code": 401,
}


def secret(name: str, namespace: str = "default", **data: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "stringData": data,
    }


def person(name: str, *grants: tuple[str, str]) -> str:
    """A user with the given ``(role, namespace)`` grants; returns a fresh token of theirs."""
    user = User.objects.create_user(name, password="pw-not-used")
    for role, where in grants:
        RoleBinding.objects.create(user=user, role=role, namespace=where)
    return access.token_create(user, name="test")[1]


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def body(response) -> dict:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return json.loads(response.content)


# --- through the test client --------------------------------------------------------------------

in_process = pytest.mark.usefixtures("access_enforced")


@in_process
@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api", "/apis", "/api/v1", "/apis/apps/v1", "/openapi/v3", PODS, "/api/v1/nodes"]
)
def test_no_token_is_unauthorized(client, path):
    """Without a token, discovery and resources answer the apiserver's 401 Status."""
    response = client.get(path)
    assert response.status_code == 401
    assert body(response) == UNAUTHORIZED


@in_process
@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bearer kubarium-not-a-token", id="unknown token"),
        pytest.param("Bearer ", id="empty token"),
        pytest.param("Basic YWxpY2U6cHc=", id="basic auth"),
        pytest.param("kubarium-no-scheme", id="no scheme"),
    ],
)
@pytest.mark.parametrize("path", ["/version", "/api", PODS])
def test_bad_credentials_are_unauthorized_everywhere(client, header, path):
    """A bad token is a 401 on every path, even the public /version."""
    person("alice", (Role.ADMIN, ""))
    response = client.get(path, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert body(response) == UNAUTHORIZED


@in_process
@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/version", "/healthz", "/readyz"])
def test_version_and_health_are_public(client, path):
    """Like the apiserver's system:public-info-viewer: no token needed."""
    assert client.get(path).status_code == 200


@in_process
@pytest.mark.django_db
def test_token_admits_its_user(client):
    token = person("alice", (Role.ADMIN, ""))
    write.create(pod("web-1"))
    assert client.get("/api", **bearer(token)).status_code == 200
    listed = body(client.get(PODS, **bearer(token)))
    assert [item["metadata"]["name"] for item in listed["items"]] == ["web-1"]


@in_process
@pytest.mark.django_db
def test_viewer_reads_but_may_not_write(client):
    """A viewer lists; a create is refused with the apiserver's RBAC message."""
    token = person("vera", (Role.VIEWER, ""))
    write.create(pod("web-1"))
    assert client.get(PODS, **bearer(token)).status_code == 200
    response = client.post(
        "/api/v1/namespaces/default/configmaps",
        data=json.dumps(configmap("settings", mode="fast")),
        content_type="application/json",
        **bearer(token),
    )
    assert response.status_code == 403
    assert body(response) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'configmaps is forbidden: User "vera" cannot create resource "configmaps" '
        'in API group "" in the namespace "default"',
        "reason": "Forbidden",
        "details": {"kind": "configmaps"},
        "code": 403,
    }


@in_process
@pytest.mark.django_db
def test_viewer_may_not_scale_and_the_message_names_the_subresource(client):
    token = person("vera", (Role.VIEWER, ""))
    write.create(deployment("web"))
    response = client.patch(
        DEPLOYMENTS + "/web/scale",
        data=json.dumps({"spec": {"replicas": 5}}),
        content_type="application/merge-patch+json",
        **bearer(token),
    )
    assert response.status_code == 403
    assert body(response)["message"] == (
        'deployments.apps "web" is forbidden: User "vera" cannot patch resource '
        '"deployments/scale" in API group "apps" in the namespace "default"'
    )


@in_process
@pytest.mark.django_db
@pytest.mark.parametrize("path", [SECRETS, SECRETS + "/db", "/api/v1/secrets"])
def test_viewer_is_refused_secrets(client, path):
    """Like Kubernetes' view role: no Secrets at all, so no Secret data."""
    token = person("vera", (Role.VIEWER, ""))
    write.create(secret("db", password="hunter2"))
    response = client.get(path, **bearer(token))
    assert response.status_code == 403
    assert b"hunter2" not in response.content and b"aHVudGVyMg" not in response.content
    assert body(response)["reason"] == "Forbidden"


@in_process
@pytest.mark.django_db
def test_namespaced_editor_writes_only_in_its_namespace(client):
    token = person("ed", (Role.EDITOR, "team-a"))
    write.create(namespace("team-a"))
    created = client.post(
        "/api/v1/namespaces/team-a/configmaps",
        data=json.dumps(configmap("settings", namespace="team-a", mode="fast")),
        content_type="application/json",
        **bearer(token),
    )
    assert created.status_code == 201, created.content
    elsewhere = client.get(PODS, **bearer(token))
    assert elsewhere.status_code == 403
    assert body(elsewhere)["message"] == (
        'pods is forbidden: User "ed" cannot list resource "pods" in API group "" '
        'in the namespace "default"'
    )
    everywhere = client.get("/api/v1/pods", **bearer(token))
    assert body(everywhere)["message"] == (
        'pods is forbidden: User "ed" cannot list resource "pods" in API group "" '
        "at the cluster scope"
    )


@in_process
@pytest.mark.django_db
def test_api_writes_name_their_user_in_the_change_log(client):
    token = person("ed", (Role.EDITOR, ""))
    response = client.post(
        "/api/v1/namespaces/default/configmaps?fieldManager=kubectl-create",
        data=json.dumps(configmap("settings", mode="fast")),
        content_type="application/json",
        **bearer(token),
    )
    assert response.status_code == 201
    assert Change.objects.get(kind="ConfigMap", name="settings").actor == "ed (kubectl-create)"


@in_process
@pytest.mark.django_db
def test_anonymous_read_setting(client, settings):
    """With anonymous read on, no token reads (not Secrets); a write still asks to log in."""
    settings.KUBARIUM_ANONYMOUS_READ = True
    write.create(pod("web-1"))
    assert client.get("/api").status_code == 200
    assert client.get(PODS).status_code == 200
    refused = client.get(SECRETS)
    assert refused.status_code == 403
    assert 'User "system:anonymous" cannot list resource "secrets"' in body(refused)["message"]
    write_attempt = client.delete(PODS + "/web-1")
    assert write_attempt.status_code == 401
    assert body(write_attempt) == UNAUTHORIZED


@in_process
@pytest.mark.django_db
def test_session_login_does_not_count_on_the_api(client):
    """The dashboard's session cookie is not a credential for the API (it has no CSRF)."""
    User.objects.create_superuser("root", password="pw-not-used")
    client.login(username="root", password="pw-not-used")
    assert client.get(PODS).status_code == 401
