"""Websocket routes of the live stream: one consumer path, ``/ws/<view>``, with the page's query
string (``dashboard.consumers.PAGES`` lists the views)."""

from django.urls import path

from dashboard import consumers, follow, object_stream

websocket_urlpatterns = [
    path("ws/architecture", consumers.ArchitectureConsumer.as_asgi(), name="architecture-stream"),
    path("ws/objects", object_stream.ObjectConsumer.as_asgi(), name="object-stream"),
    path("ws/follow", follow.FollowConsumer.as_asgi(), name="follow-stream"),
    path("ws/<slug:view>", consumers.PageConsumer.as_asgi(), name="page-stream"),
]
