"""Root URLs: the Kubernetes REST API, Django admin, and the dashboard.

The API (``/version``, ``/api``, ``/apis``, ``/openapi``) comes first and has no trailing slashes;
the dashboard's pages are hypermedia for people. The two are separate views over the same store.
People sign in and out at ``/accounts/login/`` and ``/accounts/logout/`` (Django's views,
``templates/registration/``); ``dashboard.middleware`` sends them there.
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("", include("cluster.api.urls")),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The header's language selector posts here (CSRF); anyone may choose their language.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("", include("dashboard.pages.urls")),
]
