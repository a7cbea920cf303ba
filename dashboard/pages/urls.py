"""URLs of the dashboard's pages."""

urlpatterns: list = []
