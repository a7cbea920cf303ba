"""Authentication and authorization of the Kubernetes API.

First through Django's test client (the answers' shapes), then with the real kubectl and the
real Python client over HTTPS against Daphne (kubectl sends tokens only over TLS).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.contrib.auth.models import User

from cluster import access, kubeconfig, services, tls
from cluster.models import Change, Role, RoleBinding
from cluster.store import write
from tests import kubectl as kubectl_tools
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


# --- real clients over HTTPS --------------------------------------------------------------------


@dataclass(frozen=True)
class HttpsServer:
    url: str  # https://127.0.0.1:PORT
    http_url: str  # http://127.0.0.1:PORT, the same server without TLS
    certificates: tls.Certificates
    child: services.Child
    log: Path

    def kubeconfig(self, directory: Path, token: str | None) -> Path:
        """A kubeconfig for this server, with ``token`` (or no credentials at all)."""
        document = kubeconfig.kubeconfig_document(self.url, self.certificates.ca_pem(), token or "")
        if token is None:
            document["users"][0]["user"] = {}
        path = directory / "kubeconfig"
        path.write_text(yaml.safe_dump(document))
        return path


@contextlib.contextmanager
def serve_https(database_url: str, directory: Path, **env: str) -> Iterator[HttpsServer]:
    """Daphne with access control on (``RBAC``), serving TLS with a certificate from
    ``cluster.tls`` (as ``manage.py up`` does) and plain HTTP beside it."""
    certificates = tls.ensure_certificates(directory / "tls")
    port = services.find_free_port()
    tls_port = services.find_free_port()
    while tls_port == port:
        tls_port = services.find_free_port()
    argv = tls.with_tls(services.daphne_argv(port), tls.daphne_endpoint(tls_port, certificates))
    log = directory / "daphne.log"
    with log.open("ab") as output:
        child = services.spawn(
            "daphne (https)",
            argv,
            env={
                **os.environ,
                "DATABASE_URL": database_url,
                "DJANGO_SETTINGS_MODULE": "dashboard.settings",
                "KUBARIUM_CONTROL_PLANE": "0",
                "KUBARIUM_AUTHORIZATION_MODE": access.RBAC,
                "KUBARIUM_ANONYMOUS_READ": "0",
                "PYTHONUNBUFFERED": "1",
                **env,
            },
            cwd=settings.BASE_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = HttpsServer(
        f"https://{services.LOCALHOST}:{tls_port}",
        f"http://{services.LOCALHOST}:{port}",
        certificates,
        child,
        log,
    )
    try:
        with contextlib.suppress(TimeoutError):
            services.wait_for(
                lambda: (
                    child.returncode is not None or tls.https_answers(server.url, certificates.ca)
                ),
                timeout=kubectl_tools.READY_TIMEOUT,
                interval=0.1,
            )
        if child.returncode is not None or not tls.https_answers(server.url, certificates.ca):
            log_text = log.read_text(errors="replace")[-4000:]
            raise RuntimeError(f"Daphne did not serve HTTPS ({child.describe_exit()}):\n{log_text}")
        yield server
    finally:
        child.stop(timeout=10.0)


@pytest.fixture(scope="module")
def https_server(test_database_url: str, tmp_path_factory) -> Iterator[HttpsServer]:
    with serve_https(test_database_url, tmp_path_factory.mktemp("https-api")) as server:
        yield server


@pytest.fixture(scope="module")
def https_server_anonymous_read(test_database_url: str, tmp_path_factory):
    directory = tmp_path_factory.mktemp("https-api-anonymous")
    with serve_https(test_database_url, directory, KUBARIUM_ANONYMOUS_READ="1") as server:
        yield server


class KubectlWithConfig(kubectl_tools.Kubectl):
    """The real kubectl with a kubeconfig (server, CA, token) instead of ``--server``."""

    def __init__(self, config: Path, home: Path):
        super().__init__("", home)
        self.config = config

    def argv(self, *args: str) -> list[str]:
        return [
            kubectl_tools.KUBECTL,
            f"--kubeconfig={self.config}",
            f"--cache-dir={self.cache_dir}",
            *args,
        ]


@pytest.fixture
def kubectl_as(tmp_path: Path) -> Iterator[Callable[..., KubectlWithConfig]]:
    """``kubectl_as(server, token)``: kubectl with its own home and kubeconfig."""
    runners: list[KubectlWithConfig] = []

    def make(server: HttpsServer, token: str | None) -> KubectlWithConfig:
        home = tmp_path / f"home-{len(runners)}"
        home.mkdir()
        runner = KubectlWithConfig(server.kubeconfig(home, token), home)
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.close()


def forbidden_line(user: str, verb: str, resource: str, where: str, name: str = "") -> str:
    subject = f'{resource} "{name}"' if name else resource
    scope = f'in the namespace "{where}"' if where else "at the cluster scope"
    return (
        f'Error from server (Forbidden): {subject} is forbidden: User "{user}" cannot {verb} '
        f'resource "{resource}" in API group "" {scope}'
    )


over_https = pytest.mark.django_db(transaction=True)


@over_https
def test_kubeconfig_of_manage_py_up_works_with_kubectl(https_server, tmp_path):
    """The kubeconfig ``manage.py up`` writes (server, CA data, the admin's token, namespace
    default) drives kubectl over verified TLS; the change log names the admin."""
    state = tmp_path / "state"
    made = kubeconfig.ensure_demo_access(
        state, https_server.url, https_server.certificates.ca_pem()
    )
    assert made.token_created and made.username == "admin"
    write.create(pod("web-1"))
    runner = KubectlWithConfig(made.kubeconfig, tmp_path)
    try:
        assert (
            runner(
                "config", "view", "--minify", "-o", "jsonpath={.contexts[0].context.namespace}"
            ).stdout
            == "default"
        )
        assert "web-1" in runner("get", "pods").stdout
        created = runner("create", "configmap", "settings", "--from-literal=mode=fast")
        assert created.stdout.strip() == "configmap/settings created"
    finally:
        runner.close()
    assert Change.objects.get(kind="ConfigMap", name="settings").actor == "admin (kubectl-create)"


@over_https
def test_no_token_is_unauthorized_over_https(https_server):
    """Over HTTPS, a request without credentials gets the 401 Status. (kubectl itself never
    sends one: with no credentials for an https server it prompts for a user name.)"""
    import requests

    response = requests.get(
        https_server.url + "/api/v1/namespaces/default/pods",
        verify=str(https_server.certificates.ca),
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


@over_https
def test_kubectl_without_a_token_is_asked_to_log_in(https_server, tmp_path):
    """kubectl over plain HTTP sends no credentials: discovery's 401 asks it to log in."""
    kubectl = kubectl_tools.Kubectl(https_server.http_url, tmp_path)
    result = kubectl.fails("get", "pods")
    assert result.stderr.strip().endswith(
        "error: You must be logged in to the server "
        "(the server has asked for the client to provide credentials)"
    )


@over_https
@pytest.mark.parametrize(
    "user",
    [
        pytest.param({"token": "kubarium-not-a-real-token"}, id="unknown token"),
        pytest.param({"username": "alice", "password": "pw-not-used"}, id="basic auth"),
    ],
)
def test_bad_credentials_are_asked_to_log_in(https_server, kubectl_as, user):
    person("alice", (Role.ADMIN, ""))
    kubectl = kubectl_as(https_server, "placeholder")
    document = yaml.safe_load(kubectl.config.read_text())
    document["users"][0]["user"] = user
    kubectl.config.write_text(yaml.safe_dump(document))
    result = kubectl.fails("get", "pods")
    assert result.stderr.strip().endswith(
        "error: You must be logged in to the server "
        "(the server has asked for the client to provide credentials)"
    )


@over_https
def test_viewer_reads_and_is_forbidden_to_write(https_server, kubectl_as):
    write.create(pod("web-1"))
    kubectl = kubectl_as(https_server, person("vera", (Role.VIEWER, "")))
    listed = kubectl("get", "pods")
    assert listed.lines[0].split()[:2] == ["NAME", "READY"]
    assert listed.lines[1].split()[0] == "web-1"
    assert "web-1" in kubectl("get", "pods", "-A", "-o", "name").stdout

    created = kubectl.fails("create", "configmap", "settings", "--from-literal=mode=fast")
    # kubectl's generator commands print their own prefix, as against a real apiserver.
    assert created.stderr.strip() == "error: failed to create configmap: " + forbidden_line(
        "vera", "create", "configmaps", "default"
    ).removeprefix("Error from server (Forbidden): ")
    deleted = kubectl.fails("delete", "pod", "web-1")
    assert deleted.stderr.strip() == forbidden_line("vera", "delete", "pods", "default", "web-1")
    assert "web-1" in kubectl("get", "pods", "-o", "name").stdout


@over_https
def test_viewer_cannot_see_secret_data(https_server, kubectl_as):
    write.create(secret("db", password="hunter2"))
    kubectl = kubectl_as(https_server, person("vera", (Role.VIEWER, "")))
    result = kubectl.fails("get", "secret", "db", "-o", "yaml")
    assert result.stderr.strip() == forbidden_line("vera", "get", "secrets", "default", "db")
    assert "hunter2" not in result.stdout + result.stderr
    assert "aHVudGVyMg" not in result.stdout + result.stderr
    editor = kubectl_as(https_server, person("ed", (Role.EDITOR, "")))
    assert editor("get", "secret", "db", "-o", "jsonpath={.data.password}").stdout == "aHVudGVyMg=="


@over_https
def test_namespaced_role_is_limited_to_its_namespace(https_server, kubectl_as):
    write.create(namespace("team-a"))
    write.create(pod("web-1"))
    kubectl = kubectl_as(https_server, person("ed", (Role.EDITOR, "team-a")))
    created = kubectl("-n", "team-a", "create", "configmap", "settings", "--from-literal=a=b")
    assert created.stdout.strip() == "configmap/settings created"
    assert "settings" in kubectl("-n", "team-a", "get", "configmaps").stdout
    elsewhere = kubectl.fails("get", "pods")
    assert elsewhere.stderr.strip() == forbidden_line("ed", "list", "pods", "default")
    everywhere = kubectl.fails("get", "pods", "-A")
    assert everywhere.stderr.strip() == forbidden_line("ed", "list", "pods", "")


@over_https
def test_anonymous_read_setting_with_kubectl(https_server_anonymous_read, tmp_path):
    """With KUBARIUM_ANONYMOUS_READ, kubectl without a token (over plain HTTP, where it sends
    none) reads; Secrets stay closed and a write asks to log in."""
    write.create(pod("web-1"))
    write.create(secret("db", password="hunter2"))
    kubectl = kubectl_tools.Kubectl(https_server_anonymous_read.http_url, tmp_path)
    assert kubectl("get", "pods", "-o", "name").stdout.strip() == "pod/web-1"
    secrets = kubectl.fails("get", "secrets")
    assert secrets.stderr.strip() == forbidden_line(
        "system:anonymous", "list", "secrets", "default"
    )
    deleted = kubectl.fails("delete", "pod", "web-1")
    assert deleted.stderr.strip() == "error: You must be logged in to the server (Unauthorized)"


@over_https
def test_python_client_with_a_token_over_https(https_server, tmp_path):
    """The official client loads the same kind of kubeconfig, verifies the CA, sends the token."""
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    write.create(pod("web-1", labels={"app": "web"}))
    editor_config = https_server.kubeconfig(tmp_path, person("ed", (Role.EDITOR, "")))
    api = config.new_client_from_config(config_file=str(editor_config))
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    pods = core.list_namespaced_pod("default", label_selector="app=web")
    assert [p.metadata.name for p in pods.items] == ["web-1"]
    created = apps.create_namespaced_deployment("default", deployment("pyweb"))
    assert created.metadata.name == "pyweb"

    viewer_dir = tmp_path / "viewer"
    viewer_dir.mkdir()
    viewer_config = https_server.kubeconfig(viewer_dir, person("vera", (Role.VIEWER, "")))
    viewer = client.AppsV1Api(config.new_client_from_config(config_file=str(viewer_config)))
    assert [d.metadata.name for d in viewer.list_namespaced_deployment("default").items] == [
        "pyweb"
    ]
    with pytest.raises(ApiException) as refused:
        viewer.delete_namespaced_deployment("pyweb", "default")
    assert refused.value.status == 403
    assert json.loads(refused.value.body)["message"] == (
        'deployments.apps "pyweb" is forbidden: User "vera" cannot delete resource '
        '"deployments" in API group "apps" in the namespace "default"'
    )
    with pytest.raises(ApiException) as unknown:
        nobody = tmp_path / "nobody"
        nobody.mkdir()
        bad = https_server.kubeconfig(nobody, "kubarium-not-a-real-token")
        client.CoreV1Api(config.new_client_from_config(config_file=str(bad))).list_node()
    assert unknown.value.status == 401


@over_https
def test_watches_follow_roles(https_server, tmp_path):
    """A watch is authorized like a list: a viewer's stream sees the pods; an editor of another
    namespace is refused before the stream starts."""
    from kubernetes import client, config, watch
    from kubernetes.client.rest import ApiException

    write.create(pod("web-1"))
    viewer_config = https_server.kubeconfig(tmp_path, person("vera", (Role.VIEWER, "")))
    core = client.CoreV1Api(config.new_client_from_config(config_file=str(viewer_config)))
    stream = watch.Watch().stream(core.list_namespaced_pod, "default", timeout_seconds=2)
    events = [(event["type"], event["object"].metadata.name) for event in stream]
    assert events == [("ADDED", "web-1")]

    other = tmp_path / "other"
    other.mkdir()
    other_config = https_server.kubeconfig(other, person("ed", (Role.EDITOR, "team-a")))
    refused = client.CoreV1Api(config.new_client_from_config(config_file=str(other_config)))
    with pytest.raises(ApiException) as error:
        list(watch.Watch().stream(refused.list_namespaced_pod, "default", timeout_seconds=2))
    assert error.value.status == 403
    assert 'cannot watch resource "pods"' in json.loads(error.value.body)["message"]


@over_https
def test_logs_follow_roles(https_server, kubectl_as):
    """A viewer reads logs (``pods/log``, as Kubernetes' view role allows); someone without a
    role there is refused (at kubectl's first step, reading the pod)."""
    from tests.test_api_http import running_pod

    running_pod("web-1")
    viewer = kubectl_as(https_server, person("vera", (Role.VIEWER, "")))
    logs = viewer("logs", "web-1", "--tail=1")
    assert logs.returncode == 0 and len(logs.lines) == 1
    other = kubectl_as(https_server, person("ed", (Role.EDITOR, "team-a")))
    refused = other.fails("logs", "web-1")
    assert refused.stderr.strip() == (
        'Error from server (Forbidden): pods "web-1" is forbidden: User "ed" cannot get '
        'resource "pods" in API group "" in the namespace "default"'
    )
