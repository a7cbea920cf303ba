"""``python tests/browser/worker_with_broadcast.py -A cluster worker ...``: a Celery worker whose
committed writes reach the dashboard's live stream.

Until ``cluster.apps.ClusterConfig.ready()`` calls ``dashboard.broadcast.connect()``, a plain
``celery -A cluster worker`` publishes nothing, so the live tests start their worker through this
launcher, which connects the publisher before handing over to Celery's own command line. Once
``ready()`` connects it, this file (and the fixture using it) can go: ``connect()`` is idempotent.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    import django

    django.setup()
    from celery.bin.celery import main

    from dashboard import broadcast

    broadcast.connect()
    sys.argv[0] = "celery"
    sys.exit(main())
