"""The dashboard's door: sign-in, the anonymous read setting, and the live stream's gate."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User

from cluster import clock
from dashboard.middleware import live_stream_gate
from dashboard.routing import websocket_urlpatterns
from tests.test_dashboard_stream import cluster, memory_layer  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.usefixtures("access_enforced"), pytest.mark.django_db]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def alice() -> User:
    return User.objects.create_user("alice", password=PASSWORD)


def test_pages_send_strangers_to_sign_in(client):
    response = client.get("/?namespace=shop")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/%3Fnamespace%3Dshop"


def test_htmx_requests_are_redirected_as_a_whole_page(client):
    response = client.get("/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")


def test_sign_in_page_has_a_protected_form(client):
    page = client.get("/accounts/login/?next=/")
    assert page.status_code == 200
    content = page.content.decode()
    assert 'name="csrfmiddlewaretoken"' in content
    assert 'name="username"' in content and 'name="password"' in content
    assert 'name="next" value="/"' in content


def test_sign_in_page_is_translated(client):
    content = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'lang="zh-hans"' in content


def test_signing_in_opens_the_dashboard_and_signing_out_closes_it(client, alice):
    wrong = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert wrong.status_code == 200 and b'role="alert"' in wrong.content

    signed_in = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD, "next": "/"}
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "Signed in as alice" in content
    assert '<form method="post" action="/accounts/logout/">' in content

    signed_out = client.post("/accounts/logout/")
    assert signed_out.status_code == 302 and signed_out["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_anonymous_read_opens_pages_but_not_forms(client, settings):
    """With KUBARIUM_ANONYMOUS_READ people look without signing in; posting still asks them to."""
    settings.KUBARIUM_ANONYMOUS_READ = True
    clock.invalidate()
    clock.resume()
    page = client.get("/")
    assert page.status_code == 200
    assert 'href="/accounts/login/?next=/"' in page.content.decode()
    response = client.post("/clock", {"action": "pause"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/clock")
    clock.invalidate()
    assert not clock.state().paused


def test_api_and_admin_keep_their_own_doors(client):
    """The middleware leaves the API (a 401 Status) and the admin (its own sign-in) alone."""
    api = client.get("/api/v1/namespaces/default/pods")
    assert api.status_code == 401 and api["Content-Type"] == "application/json"
    admin = client.get("/admin/")
    assert admin.status_code == 302 and admin["Location"].startswith("/admin/login/")


def connect(cookies: str = "") -> tuple[bool, int | None]:
    headers = [(b"cookie", cookies.encode())] if cookies else []

    async def attempt():
        socket = WebsocketCommunicator(
            live_stream_gate(URLRouter(websocket_urlpatterns)), "/ws/architecture", headers
        )
        connected, code = await socket.connect(timeout=5)
        await socket.disconnect()
        return connected, code

    return async_to_sync(attempt)()


@pytest.mark.django_db(transaction=True)
def test_live_stream_refuses_strangers(memory_layer):  # noqa: F811
    assert connect() == (False, 4401)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["signed in", "anonymous read"])
def test_live_stream_admits_who_may_see_the_page(cluster, memory_layer, client, settings, how):  # noqa: F811
    cookies = ""
    if how == "signed in":
        User.objects.create_user("alice", password=PASSWORD)
        client.login(username="alice", password=PASSWORD)
        cookies = f"sessionid={client.cookies['sessionid'].value}"
    else:
        settings.KUBARIUM_ANONYMOUS_READ = True
    connected, _ = connect(cookies)
    assert connected


@pytest.mark.parametrize(
    ("role", "namespace", "changes"),
    [
        ("viewer", "", False),
        ("editor", "shop", False),  # an editor of one namespace: the clock is everyone's
        ("editor", "", True),
        ("admin", "", True),
    ],
)
def test_only_a_cluster_wide_editor_or_admin_changes_the_clock(
    client, alice, role, namespace, changes
):
    from cluster.models import RoleBinding

    RoleBinding.objects.create(user=alice, role=role, namespace=namespace)
    client.force_login(alice)
    clock.resume()
    response = client.post("/clock", {"action": "pause"})
    assert clock.state().paused is changes
    assert response.status_code == (302 if changes else 403)
    htmx = client.post("/clock", {"action": "resume"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200
    assert ("Only an editor or admin of the whole cluster" in htmx.content.decode()) is not changes
