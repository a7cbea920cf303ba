"""The Kubernetes API's own path through Daphne (``cluster.api.server``, ``dashboard.asgi``).

Against real Daphne with access control on: API requests skip the dashboard's middleware (no
session or CSRF cookie, no CSRF check, no clickjacking or language headers, no sign-in
redirect) but are still authenticated and authorized on every path; the dashboard's own pages
keep all of that. In process: an API thread keeps its database connection across requests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
import requests
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.contrib.auth.models import User
from django.db import connections
from django.db.backends.signals import connection_created

from cluster import access
from cluster.api.server import ApiApplication
from cluster.models import Role, RoleBinding
from tests import kubectl as kubectl_tools
from tests.builders import configmap

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
# Headers the dashboard's middleware adds (XFrameOptions, Locale, Session/CSRF/Locale's Vary).
DASHBOARD_HEADERS = ("X-Frame-Options", "Content-Language", "Vary", "Set-Cookie")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def rbac_server(test_database_url: str, tmp_path_factory) -> Iterator[kubectl_tools.ApiServer]:
    """Daphne as ``make demo`` runs it with access control on and anonymous read off."""
    env = {"KUBARIUM_AUTHORIZATION_MODE": access.RBAC, "KUBARIUM_ANONYMOUS_READ": "0"}
    with kubectl_tools.serve(
        test_database_url, tmp_path_factory.mktemp("api-asgi"), extra_env=env
    ) as server:
        yield server


def editor_token(name: str) -> str:
    user = User.objects.create_user(name, password="pw-not-used")
    RoleBinding.objects.create(user=user, role=Role.EDITOR, namespace="default")
    return access.token_create(user, name="test")[1]


def sign_in(server: kubectl_tools.ApiServer, name: str) -> requests.Session:
    """A browser session signed in through the dashboard's form (CSRF token included)."""
    User.objects.create_superuser(name, password="pw-for-the-form")
    session = requests.Session()
    form = session.get(f"{server.url}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token, form.text[:500]
    answer = session.post(
        f"{server.url}/accounts/login/",
        data={"username": name, "password": "pw-for-the-form", "csrfmiddlewaretoken": token[1]},
        headers={"Referer": f"{server.url}/accounts/login/"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:500]
    assert "sessionid" in session.cookies
    return session


def assert_no_dashboard_middleware(response: requests.Response) -> None:
    present = [name for name in DASHBOARD_HEADERS if name in response.headers]
    assert present == [], f"{response.request.method} {response.url}: {present}"


def test_api_requests_skip_the_dashboard_middleware(rbac_server):
    token = editor_token("ed")
    bearer = {"Authorization": f"Bearer {token}"}
    version = requests.get(f"{rbac_server.url}/version", timeout=10)
    assert version.status_code == 200
    assert version.json()["major"] == "1"
    assert_no_dashboard_middleware(version)
    # Not chunked: the length is known, as the apiserver sends it.
    assert version.headers["Content-Length"] == str(len(version.content))

    # No CSRF token, and a csrftoken cookie that matches nothing: the API does not check CSRF.
    created = requests.post(
        f"{rbac_server.url}{CONFIGMAPS}",
        data=json.dumps(configmap("settings", mode="fast")),
        headers={**bearer, "Content-Type": "application/json", "Cookie": "csrftoken=stale"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    assert created.json()["metadata"]["name"] == "settings"
    assert_no_dashboard_middleware(created)

    listed = requests.get(f"{rbac_server.url}{CONFIGMAPS}", headers=bearer, timeout=10)
    assert [item["metadata"]["name"] for item in listed.json()["items"]] == ["settings"]
    assert_no_dashboard_middleware(listed)

    # An unknown API path is the apiserver's 404 Status, not the dashboard's page.
    missing = requests.get(f"{rbac_server.url}/apis/nothing.example/v1", headers=bearer, timeout=10)
    assert missing.status_code == 404
    assert missing.json()["kind"] == "Status"
    assert_no_dashboard_middleware(missing)


def test_the_sign_in_gate_is_not_the_api_s_but_authentication_is(rbac_server):
    """Without credentials the API answers 401 Status (the dashboard would redirect to its
    sign-in page); a bad token is a 401 on every path, even the public ``/version``; a
    dashboard session is no credential for the API; the token's roles are checked."""
    pods = f"{rbac_server.url}/api/v1/namespaces/default/pods"
    anonymous = requests.get(pods, allow_redirects=False, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.json()["reason"] == "Unauthorized"
    assert_no_dashboard_middleware(anonymous)

    bad = {"Authorization": "Bearer not-a-token"}
    for path in ("/version", "/healthz", "/api", "/apis", "/openapi/v3", CONFIGMAPS):
        answer = requests.get(f"{rbac_server.url}{path}", headers=bad, timeout=10)
        assert answer.status_code == 401, path
        assert answer.json()["code"] == 401, path

    browser = sign_in(rbac_server, "root")
    assert browser.get(f"{rbac_server.url}/", timeout=10).status_code == 200  # the dashboard
    assert browser.get(pods, allow_redirects=False, timeout=10).status_code == 401

    token = editor_token("eve")
    elsewhere = requests.get(
        f"{rbac_server.url}/api/v1/namespaces/kube-system/pods",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert elsewhere.status_code == 403
    assert 'User "eve" cannot list resource "pods"' in elsewhere.json()["message"]


def test_the_dashboard_keeps_its_middleware(rbac_server):
    # The sign-in gate.
    home = requests.get(f"{rbac_server.url}/", allow_redirects=False, timeout=10)
    assert home.status_code == 302
    assert home.headers["Location"].startswith("/accounts/login/")
    # Sessions, CSRF, locale and clickjacking on its pages.
    page = requests.get(f"{rbac_server.url}/accounts/login/", timeout=10)
    assert page.status_code == 200
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "Accept-Language" in page.headers["Vary"]
    assert page.headers["Content-Language"] == "en"
    assert "csrftoken" in page.cookies
    # A form posted without its CSRF token is refused.
    refused = requests.post(
        f"{rbac_server.url}/accounts/login/",
        data={"username": "nobody", "password": "x"},
        allow_redirects=False,
        timeout=10,
    )
    assert refused.status_code == 403


def test_an_api_thread_keeps_its_database_connection():
    """In process, one API thread: three requests open one connection (Django's handler opened
    one per request), and the connection is still open afterwards."""
    application = ApiApplication(threads=1)
    opened: list[object] = []

    def record(sender, connection, **kwargs) -> None:
        opened.append(connection)

    def call(path: str) -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "scheme": "http",
            "headers": [(b"host", b"localhost")],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        }

        async def run() -> tuple[int, bytes]:
            communicator = ApplicationCommunicator(application, scope)
            await communicator.send_input({"type": "http.request", "body": b""})
            start = await communicator.receive_output(5)
            body = await communicator.receive_output(5)
            await communicator.wait(5)
            return start["status"], body["body"]

        return async_to_sync(run)()

    connection_created.connect(record)
    try:
        for _ in range(3):
            status, body = call(CONFIGMAPS)
            assert status == 200, body
            assert json.loads(body)["kind"] == "ConfigMapList"
        still_open = application.executor.submit(
            lambda: connections["default"].connection is not None
        ).result()
    finally:
        connection_created.disconnect(record)
        application.executor.submit(connections.close_all).result()
        application.executor.shutdown()
    assert len(opened) == 1
    assert still_open
