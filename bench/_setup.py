"""Shared set-up for benchmarks: a fresh, migrated database of their own.

By default a temporary SQLite file (configured as in production: WAL, busy timeout); with
``DATABASE_URL`` set, that database is used as it is, so point it at a scratch one.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> str:
    """Configure Django on a fresh database and return a description of it."""
    sys.path.insert(0, str(ROOT))
    if "DATABASE_URL" not in os.environ:
        path = Path(tempfile.mkdtemp(prefix="kubarium-bench-")) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    return f"{connection.vendor} ({os.environ['DATABASE_URL'].split('@')[-1]})"
