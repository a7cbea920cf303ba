"""Root URLs: the Kubernetes REST API, Django admin, and the dashboard.

The API (``/version``, ``/api``, ``/apis``, ``/openapi``) comes first and has no trailing slashes;
the dashboard's pages are hypermedia for people. The two are separate views over the same store.
"""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("cluster.api.urls")),
    path("admin/", admin.site.urls),
    path("", include("dashboard.pages.urls")),
]
