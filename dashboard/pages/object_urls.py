"""URLs of the Object detail pages, their actions, and the Apply page.

Namespaced objects live at ``/objects/<plural>/<namespace>/<name>``, cluster-scoped ones at
``/objects/<plural>/<name>``; an action posts to the page's URL plus ``/actions/<action>`` (so the four
shapes never overlap: 3, 4, 5 and 6 segments).
"""

from django.urls import path

from dashboard.pages import object_views as views

urlpatterns = [
    path("apply", views.apply_manifest, name="apply"),
    path("nodes/add", views.node_add, name="node-add"),
    path("objects/<slug:plural>/<str:name>", views.object_detail, name="object-detail-cluster"),
    path(
        "objects/<slug:plural>/<slug:namespace>/<str:name>",
        views.object_detail,
        name="object-detail",
    ),
    path(
        "objects/<slug:plural>/<str:name>/actions/<slug:action>",
        views.object_action,
        name="object-action-cluster",
    ),
    path(
        "objects/<slug:plural>/<slug:namespace>/<str:name>/actions/<slug:action>",
        views.object_action,
        name="object-action",
    ),
]
