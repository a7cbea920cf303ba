"""Classroom follow mode, the follow link's QR code and projector mode (``dashboard.follow``)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client

from cluster.models import ControllerMemory, Role, RoleBinding
from dashboard import follow
from dashboard.middleware import live_stream_gate
from dashboard.routing import websocket_urlpatterns
from tests.test_dashboard_stream import cluster, memory_layer  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.usefixtures("access_enforced")]


@pytest.fixture
def teacher(db) -> User:
    user = User.objects.create_user("teacher", password="pw-teacher-1234")
    RoleBinding.objects.create(user=user, role=Role.EDITOR, namespace="shop")
    return user


@pytest.fixture
def teacher_client(teacher) -> Client:
    client = Client()
    client.force_login(teacher)
    return client


def start_presenting(client: Client, at: str = "/workloads?namespace=shop") -> str:
    response = client.post("/present", {"next": at})
    assert response.status_code == 302
    match = re.fullmatch(r"/present/([a-z0-9]{6})", response["Location"])
    assert match, response["Location"]
    return match.group(1)


@pytest.mark.django_db
def test_an_editor_sees_the_present_button_and_a_viewer_does_not(teacher_client, client):
    page = teacher_client.get("/events").content.decode()
    assert 'action="/present"' in page
    viewer = User.objects.create_user("vera")
    RoleBinding.objects.create(user=viewer, role=Role.VIEWER, namespace="")
    client.force_login(viewer)
    assert 'action="/present"' not in client.get("/events").content.decode()
    refused = client.post("/present", {"next": "/"})
    assert refused.status_code == 403
    assert "editor or admin role" in refused.content.decode()
    assert not ControllerMemory.objects.filter(key__startswith=follow.KEY_PREFIX).exists()


@pytest.mark.django_db
def test_presenting_stores_the_presentation_and_shows_the_link_and_its_qr_code(teacher_client):
    presentation_id = start_presenting(teacher_client)
    state = follow.load(presentation_id)
    assert state["presenter"] == "teacher"
    assert state["url"] == "/workloads?namespace=shop"

    page = teacher_client.get(f"/present/{presentation_id}").content.decode()
    link = f"http://testserver/follow/{presentation_id}"
    assert f'<a href="{link}">{link}</a>' in page
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    root = ET.fromstring(svg)  # well-formed SVG, made on the server
    assert root.tag == "svg" and root.find(".//path") is not None
    assert root.findtext("title") == link and root.get("viewBox")
    assert "<script" not in page.split("<main", 1)[1].split("</main>")[0]
    # While presenting, every page carries the presenting bar and the reporting script.
    workloads = teacher_client.get("/workloads?namespace=shop").content.decode()
    assert f'data-presenting="{presentation_id}"' in workloads
    assert "/static/follow.js" in workloads
    assert 'action="/present"' not in workloads  # no second presentation from the same browser


@pytest.mark.django_db
def test_only_the_presenter_reports_and_bad_fields_are_named(teacher_client, teacher):
    presentation_id = start_presenting(teacher_client)
    url = f"/present/{presentation_id}/state"
    ok = teacher_client.post(
        url, {"url": "/events?namespace=shop&type=Warning", "highlight": "node-worker-1"}
    )
    assert ok.status_code == 204
    state = follow.load(presentation_id)
    assert state["url"] == "/events?namespace=shop&type=Warning"
    assert state["highlight"] == "node-worker-1"
    assert state["seq"] == 1

    for field, value in [
        ("url", "https://evil.example/"),
        ("url", "//evil.example/x"),
        ("url", "/admin/"),
        ("url", f"/present/{presentation_id}"),
        ("url", "/no-such-page"),
        ("highlight", '"><script>'),
        ("highlight", "/admin/"),
    ]:
        bad = teacher_client.post(url, {field: value})
        assert bad.status_code == 400, (field, value)
        assert bad.content.decode().startswith(f"{field}: Invalid value")
    assert follow.load(presentation_id)["seq"] == 1

    other = Client()
    other.force_login(teacher)  # same user, another browser: not the presenter
    assert other.post(url, {"highlight": "node-x"}).status_code == 403
    assert follow.load(presentation_id)["highlight"] == "node-worker-1"


@pytest.mark.django_db
def test_following_without_sign_in_with_anonymous_read(teacher_client, settings, client):
    settings.KUBARIUM_ANONYMOUS_READ = True
    presentation_id = start_presenting(teacher_client, "/config?namespace=shop")
    response = client.get(f"/follow/{presentation_id}")
    assert response.status_code == 302 and response["Location"] == "/config?namespace=shop"
    page = client.get("/config?namespace=shop").content.decode()
    assert f'data-following="{presentation_id}"' in page
    assert (
        'class=" following"' in page or 'following"' in page.split("<body", 1)[1].split(">", 1)[0]
    )
    # The follower's session is theirs: stopping needs no sign-in and changes nothing else.
    stopped = client.post("/follow/stop", {"next": "/config?namespace=shop"})
    assert stopped.status_code == 302
    assert "data-following" not in client.get("/config?namespace=shop").content.decode()
    assert follow.load(presentation_id) is not None


@pytest.mark.django_db
def test_following_needs_sign_in_without_anonymous_read(teacher_client, client):
    presentation_id = start_presenting(teacher_client)
    response = client.get(f"/follow/{presentation_id}")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/follow/")


@pytest.mark.django_db
def test_unknown_presentation_is_404(teacher_client):
    assert teacher_client.get("/follow/zzzzzz").status_code == 404
    assert teacher_client.get("/present/zzzzzz").status_code == 404


@pytest.mark.django_db
def test_stopping_ends_the_presentation(teacher_client):
    presentation_id = start_presenting(teacher_client)
    stopped = teacher_client.post(f"/present/{presentation_id}/stop", {"next": "/"})
    assert stopped.status_code == 302
    assert follow.load(presentation_id) is None
    assert "data-presenting" not in teacher_client.get("/events").content.decode()


@pytest.mark.django_db
def test_projector_mode_is_a_class_on_body_kept_in_the_session(settings, client):
    settings.KUBARIUM_ANONYMOUS_READ = True
    body = lambda: client.get("/events").content.decode().split("<body", 1)[1].split(">", 1)[0]  # noqa: E731
    assert "projector" not in body()
    response = client.post("/projector", {"mode": "on", "next": "/events"})
    assert response.status_code == 302 and response["Location"] == "/events"
    assert 'class="projector"' in body()
    client.post("/projector", {"next": "https://evil.example/"})  # toggles; never leaves the site
    assert "projector" not in body()


@pytest.mark.django_db
def test_projector_switch_needs_csrf(settings):
    settings.KUBARIUM_ANONYMOUS_READ = True
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/projector", {"mode": "on"}).status_code == 403
    page = strict.get("/events").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert (
        strict.post("/projector", {"mode": "on", "csrfmiddlewaretoken": token}).status_code == 302
    )


def test_clean_url_keeps_dashboard_pages_only(db):
    assert follow.clean_url("/?namespace=shop&zone=zone-a") == "/?namespace=shop&zone=zone-a"
    assert follow.clean_url("/objects/pods/shop/web-1") == "/objects/pods/shop/web-1"
    assert follow.clean_url("/api/v1/pods") is None
    assert follow.clean_url("/follow/abcdef") is None
    assert follow.clean_url("javascript:alert(1)") is None


# --- the followers' stream ------------------------------------------------------------------------


def follow_socket(query: str, session_cookie: str = "") -> WebsocketCommunicator:
    app = live_stream_gate(URLRouter(websocket_urlpatterns))
    headers = [(b"cookie", f"sessionid={session_cookie}".encode())] if session_cookie else []
    return WebsocketCommunicator(app, f"/ws/follow?{query}", headers=headers)


@pytest.mark.usefixtures("memory_layer")
def test_followers_get_the_state_at_once_and_every_change_live(cluster, settings):  # noqa: F811
    settings.KUBARIUM_ANONYMOUS_READ = True
    teacher = User.objects.create_user("teacher")
    RoleBinding.objects.create(user=teacher, role=Role.EDITOR, namespace="")
    presenter = Client()
    presenter.force_login(teacher)
    presentation_id = start_presenting(presenter, "/?namespace=shop")

    def report(**fields):
        return presenter.post(f"/present/{presentation_id}/state", fields).status_code

    async def scenario():
        socket = follow_socket(f"id={presentation_id}")
        connected, _ = await socket.connect()
        assert connected
        first = await socket.receive_json_from(timeout=5)
        assert (
            first["url"] == "/?namespace=shop" and first["highlight"] == "" and not first["ended"]
        )
        assert await sync_to_async(report)(url="/workloads?namespace=shop") == 204
        got = await socket.receive_json_from(timeout=5)
        assert got["url"] == "/workloads?namespace=shop" and got["seq"] == 1
        assert await sync_to_async(report)(highlight="/objects/pods/shop/web-1") == 204
        got = await socket.receive_json_from(timeout=5)
        assert got["highlight"] == "/objects/pods/shop/web-1" and got["seq"] == 2
        assert got["url"] == "/workloads?namespace=shop"
        await sync_to_async(presenter.post)(f"/present/{presentation_id}/stop")
        assert (await socket.receive_json_from(timeout=5))["ended"] is True
        await socket.disconnect()

    async_to_sync(scenario)()


@pytest.mark.usefixtures("memory_layer")
def test_follow_stream_closes_for_unknown_ids_and_for_strangers(cluster, settings):  # noqa: F811
    settings.KUBARIUM_ANONYMOUS_READ = True

    async def close_code(query: str) -> int:
        socket = follow_socket(query)
        connected, code = await socket.connect()
        assert not connected
        return code

    assert async_to_sync(close_code)("id=zzzzzz") == 4404
    assert async_to_sync(close_code)("id=../../x") == 4404
    settings.KUBARIUM_ANONYMOUS_READ = False
    assert async_to_sync(close_code)("id=zzzzzz") == 4401
