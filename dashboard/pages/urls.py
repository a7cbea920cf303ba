"""URLs of the dashboard's pages."""

from django.urls import path

from dashboard.pages import views

urlpatterns = [
    path("", views.architecture, name="architecture"),
    path("clock", views.clock_control, name="clock"),
]
