"""Websocket routes of the live stream: one per live page, with the page's query string."""

from django.urls import path

from dashboard import consumers

websocket_urlpatterns = [
    path("ws/architecture", consumers.ArchitectureConsumer.as_asgi(), name="architecture-stream"),
]
