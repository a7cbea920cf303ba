"""``manage.py seed``: load the example cluster (``examples/``), but only into an empty cluster.

``make demo`` runs it on every start; the examples are applied the first time, and from then on
the cluster is left as people made it. What the apiserver creates on its own (the system
namespaces, the ``kubernetes`` Service) and Events do not count as "objects yet".
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


def cluster_has_objects() -> bool:
    """Whether anything beyond the apiserver's own objects (and Events) is stored."""
    from django.apps import apps

    from cluster.models import Event, KubeObject, Namespace, Service
    from cluster.store.bootstrap import SYSTEM_NAMESPACES

    for model in apps.get_app_config("cluster").get_models():
        if not issubclass(model, KubeObject) or model is Event:
            continue
        rows = model.objects.all()
        if model is Namespace:
            rows = rows.exclude(name__in=SYSTEM_NAMESPACES)
        elif model is Service:
            rows = rows.exclude(namespace="default", name="kubernetes")
        if rows.exists():
            return True
    return False


class Command(BaseCommand):
    help = (
        "Apply examples/ (as `manage.py apply -f examples/`) when the cluster has no objects yet."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "-f",
            "--filename",
            default=str(Path(settings.BASE_DIR) / "examples"),
            help="the manifests to load (default: the project's examples/ directory)",
        )
        parser.add_argument(
            "--force", action="store_true", help="apply even when the cluster already has objects"
        )

    def handle(self, *args, filename: str, force: bool, **options) -> None:
        if not Path(filename).exists():
            raise CommandError(f"seed: {filename} does not exist")
        if not force and cluster_has_objects():
            self.stdout.write("seed: the cluster already has objects; examples not loaded")
            return
        self.stdout.write(f"seed: loading {filename}")
        call_command("apply", "-f", filename, stdout=self.stdout, stderr=self.stderr)
