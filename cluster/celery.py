"""The Celery application that runs Kubarium's control plane.

Tasks take ids, never model instances, and are safe to run twice (``acks_late``). The worker is
started by ``make demo`` (``celery -A cluster worker -B``) or by hand in production.
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("kubarium")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A worker runs thousands of short tasks; opening a database connection for each (Django's
# default, CONN_MAX_AGE=0) cost more than many of the tasks themselves. Celery's Django fixup
# closes a connection after a task only when it is broken or older than this.
WORKER_CONN_MAX_AGE = 600


@signals.worker_init.connect
def _keep_database_connections(**_kwargs) -> None:
    """In worker processes, keep database connections between tasks (unless CONN_MAX_AGE is set
    in the environment). Runs before the pool forks, so every child inherits it."""
    from django.conf import settings

    if "CONN_MAX_AGE" in os.environ:
        return
    for database in settings.DATABASES.values():
        database["CONN_MAX_AGE"] = WORKER_CONN_MAX_AGE
