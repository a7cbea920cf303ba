"""URLs of the dashboard's pages."""

from django.urls import include, path

from dashboard import follow
from dashboard.pages import lessons, palette, views

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
    # The failure palette (dashboard.pages.palette).
    path("palette", palette.palette_page, name="palette"),
    path("palette/break", palette.palette_break, name="palette-break"),
    path("palette/undo", palette.palette_undo, name="palette-undo"),
    # Classroom: presenting, following, projector mode (dashboard.follow).
    path("present", follow.present_start, name="present"),
    path("present/<slug:presentation_id>", follow.present_page, name="present-page"),
    path("present/<slug:presentation_id>/state", follow.present_state, name="present-state"),
    path("present/<slug:presentation_id>/stop", follow.present_stop, name="present-stop"),
    path("follow/stop", follow.follow_stop, name="follow-stop"),
    path("follow/<slug:presentation_id>", follow.follow_start, name="follow"),
    path("projector", follow.projector_switch, name="projector"),
    # Lessons: the list and the player (dashboard.pages.lessons).
    path("lessons", lessons.lessons_page, name="lessons"),
    path("lessons/<slug:lesson_id>", lessons.lesson_page, name="lesson"),
    path("lessons/<slug:lesson_id>/control", lessons.lesson_control, name="lesson-control"),
    # Object detail pages, their actions, Apply YAML and Add a node.
    path("", include("dashboard.pages.object_urls")),
]
