"""URLs of the dashboard's pages."""

from django.urls import include, path

from dashboard.pages import views

urlpatterns = [
    path("", views.architecture, name="architecture"),
    path("clock", views.clock_control, name="clock"),
    path("workloads", views.workloads_page, name="workloads"),
    path("networking", views.networking_page, name="networking"),
    path("networking/send", views.send_request, name="send-request"),
    path("networking/traffic", views.traffic_switch, name="traffic"),
    path("config", views.config_page, name="config"),
    path("config/secrets/<slug:namespace>/<str:name>", views.secret_values, name="secret"),
    path("events", views.events_page, name="events"),
    # Object detail pages, their actions, Apply YAML and Add a node.
    path("", include("dashboard.pages.object_urls")),
]
