"""Root URLs: the dashboard under ``/``, Django admin under ``/admin/``.

The Kubernetes REST API (``/api``, ``/apis``, ``/version``, ``/openapi``) will be mounted here by
``cluster.api`` and has no trailing slashes.
"""

from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]
