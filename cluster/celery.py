"""The Celery application that runs Kubarium's control plane.

Tasks take ids, never model instances, and are safe to run twice (``acks_late``). The worker is
started by ``make demo`` (``celery -A cluster worker -B``) or by hand in production.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("kubarium")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
