"""The baselines' server for ``bench/live.py``: ``daphne live_asgi:application`` (run from bench/).

A second Daphne, beside the one serving the real dashboard (``dashboard.asgi:application``), so
that the real one is exactly what ``manage.py up`` runs. This one serves the floors the
dashboard's figures are compared with, on the same settings, database and Redis:

- ``/ws/baseline``: a websocket that joins the group ``GROUP`` and forwards the ``text`` of every
  ``bench.echo`` message it receives, unchanged. No rendering, no database: what a Channels
  ``group_send`` through the same Redis layer costs on its own.
- ``/nodes``: a plain Django view and template listing every node (zone, Ready, pods, cpu
  requested of allocatable), two queries, through Django's usual request handling and
  middleware: what a page showing the same nodes costs without the Architecture page's logic.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()  # django.setup()

from django.db.models import CharField, Count, Sum  # noqa: E402
from django.db.models.fields.json import KeyTextTransform  # noqa: E402
from django.db.models.functions import Cast  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.template import engines  # noqa: E402
from django.urls import path  # noqa: E402

from cluster.models import Node, Pod  # noqa: E402

GROUP = "kubarium.bench.baseline"
MESSAGE_TYPE = "bench.echo"

PLAIN_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Nodes</title></head>
<body><h1>Nodes</h1>
<table>
<thead><tr><th>Name</th><th>Zone</th><th>Ready</th><th>Pods</th><th>CPU requested</th></tr></thead>
<tbody>{% for node in nodes %}
<tr><td>{{ node.name }}</td><td>{{ node.zone }}</td><td>{{ node.ready }}</td><td>{{ node.pods }}</td><td>{{ node.cpu }}m of {{ node.cpu_allocatable }}m</td></tr>{% endfor %}
</tbody></table></body></html>
"""


class EchoConsumer(AsyncWebsocketConsumer):
    """Joins ``GROUP`` and sends on every message's ``text`` as it is."""

    async def connect(self) -> None:
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def bench_echo(self, event: dict) -> None:
        await self.send(text_data=event["text"])


def plain_nodes(request: HttpRequest) -> HttpResponse:
    """Every node with its pods and cpu requested: one query for the nodes, one for the pods."""
    zone = Cast(KeyTextTransform("topology.kubernetes.io/zone", "labels"), CharField())
    used = {
        row["node_name"]: row
        for row in Pod.objects.exclude(node_name="")
        .values("node_name")
        .annotate(n=Count("pk"), cpu=Sum("cpu_request"))
    }
    nodes = [
        {
            "name": name,
            "zone": z or "",
            "ready": ready,
            "cpu_allocatable": cpu,
            "pods": used.get(name, {}).get("n", 0),
            "cpu": used.get(name, {}).get("cpu") or 0,
        }
        for name, z, ready, cpu in Node.objects.annotate(z=zone)
        .order_by("name")
        .values_list("name", "z", "ready", "cpu_allocatable")
    ]
    return HttpResponse(plain_template.render({"nodes": nodes}, request))


plain_template = engines["django"].from_string(PLAIN_TEMPLATE)  # compiled once, as a cached loader
urlpatterns = [path("nodes", plain_nodes)]
# This process serves only the baselines: its URLs are this module's.
settings.ROOT_URLCONF = __name__

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter([path("ws/baseline", EchoConsumer.as_asgi())]),
    }
)
