"""ASGI entry point (served by Daphne): the Kubernetes API through its own application without
middleware (``cluster.api.server``), the dashboard's HTTP through Django with its middleware,
websockets through Channels."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from cluster.api.server import ApiApplication  # noqa: E402
from dashboard.middleware import live_stream_gate  # noqa: E402
from dashboard.routing import websocket_urlpatterns  # noqa: E402

# Daphne serves static files itself in the embedded demo (DEBUG); production puts a proxy or
# collectstatic + a file server in front.
dashboard_http = ASGIStaticFilesHandler(django_asgi_app) if settings.DEBUG else django_asgi_app
# The Kubernetes API's paths skip the dashboard's middleware (cluster.api.server).
kubernetes_api = ApiApplication()


async def http(scope, receive, send):
    """The Kubernetes API's paths to its own application, the rest to Django's handler."""
    match = kubernetes_api.match(scope)
    if match is not None:
        await kubernetes_api(scope, receive, send, match)
    else:
        await dashboard_http(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": http,
        # The live stream: only for people who may see the dashboard (dashboard.middleware).
        "websocket": AllowedHostsOriginValidator(
            live_stream_gate(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Everything loaded so far (Django, the apps, the URL resolvers) lives as long as the process:
# keep it out of the garbage collector's full passes, which otherwise scan it again and again
# while a large list builds its objects (a third of the CPU time of a page of 500 pods).
gc.freeze()
