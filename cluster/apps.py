from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _bootstrap(sender, using="default", **kwargs):
    from cluster.store.bootstrap import ensure_system_objects

    if using == "default":
        ensure_system_objects()


class ClusterConfig(AppConfig):
    name = "cluster"
    verbose_name = _("Cluster")

    def ready(self):
        from cluster import dispatch
        from cluster.api import patches  # noqa: F401  (registers strategic merge and apply)
        from dashboard import broadcast

        post_migrate.connect(_bootstrap, sender=self, dispatch_uid="cluster-bootstrap")
        # After each commit: the controllers' work is enqueued, and open pages are told.
        dispatch.connect()
        broadcast.connect()
