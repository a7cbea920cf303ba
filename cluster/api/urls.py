"""URLs of the Kubernetes REST API: ``/version``, ``/api``, ``/apis``, ``/openapi/v3``.

No trailing slashes (``APPEND_SLASH`` is off; ``/version/`` is also answered, as the apiserver
does, because the Python client's ``VersionApi`` asks for it); every path under ``/api`` and ``/apis`` reaches
the API's own dispatch, which answers unknown ones with a 404 Status.
"""

from django.urls import path, re_path

from cluster.api import views

urlpatterns = [
    re_path(r"^version/?$", views.version),  # the Python client asks for /version/
    path("healthz", views.health),
    path("livez", views.health),
    path("readyz", views.health),
    path("api", views.core_versions),
    re_path(r"^api/(?P<rest>.*)$", views.core),
    path("apis", views.group_list),
    re_path(r"^apis/(?P<rest>.*)$", views.groups),
    path("openapi/v3", views.openapi_v3),
    re_path(r"^openapi/v3/(?P<path>.+)$", views.openapi_v3_document),
    re_path(r"^openapi/(?P<rest>.*)$", views.not_found),
]
