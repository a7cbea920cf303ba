"""URLs of the Kubernetes REST API: ``/version``, ``/api``, ``/apis``, ``/openapi/v3``."""

urlpatterns: list = []
