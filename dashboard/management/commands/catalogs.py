"""``manage.py catalogs``: update the Simplified Chinese catalogs and compile them.

Extracts every translatable string (``dashboard.catalogs``), adds the new ones to
``<app>/locale/zh_Hans/LC_MESSAGES/django.po`` with an empty translation, drops the ones no longer
used, and writes the ``django.mo`` beside each. Needs Babel (the ``[test]`` extra), not GNU
gettext. ``--check`` changes nothing and exits 1 when a string lacks a translation or a ``.mo``
is stale.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dashboard import catalogs


class Command(BaseCommand):
    help = "Update the zh-hans catalogs (.po) from the sources and compile them (.mo)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Report missing translations; change nothing."
        )

    def handle(self, *args, check: bool = False, **options):
        problems = 0
        for app in catalogs.SOURCES:
            if check:
                missing = catalogs.untranslated(app)
                for message, where in missing:
                    self.stdout.write(f"{app}: {message.msgid!r} ({', '.join(where)})")
                problems += len(missing)
                continue
            missing = catalogs.update(app)
            path = catalogs.compile_catalog(app)
            self.stdout.write(f"{app}: {path.relative_to(catalogs.ROOT)}, {missing} untranslated")
        if check:
            stale = catalogs.stale_catalogs()
            for app in stale:
                self.stdout.write(f"{app}: the compiled django.mo is stale")
            if problems or stale:
                raise CommandError(f"{problems} untranslated, {len(stale)} stale catalogs")
