"""``manage.py apply -f FILE|DIR|-``: apply Kubernetes YAML through the write path, all or nothing."""

import sys

from django.core.management.base import BaseCommand, CommandError

from cluster import manifests


class Command(BaseCommand):
    help = "Create or update every object in the manifests; if any is invalid, nothing is applied."

    def add_arguments(self, parser):
        parser.add_argument(
            "-f",
            "--filename",
            action="append",
            required=True,
            help="a YAML/JSON file, a directory of them, or - for stdin",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and report without writing anything"
        )

    def handle(self, *args, filename, dry_run, **options):
        try:
            documents = load(filename)
            outcomes = manifests.apply(documents, dry_run=dry_run)
        except manifests.ManifestError as error:
            for problem in error.problems:
                self.stderr.write(f"error: {problem}")
            raise CommandError("nothing was applied") from None
        suffix = " (dry run)" if dry_run else ""
        for outcome in outcomes:
            self.stdout.write(f"{outcome}{suffix}")


def load(filenames: list[str]) -> list[manifests.Document]:
    documents: list[manifests.Document] = []
    for name in filenames:
        if name == "-":
            documents.extend(manifests.load_text(sys.stdin.buffer.read(), "<stdin>"))
        else:
            documents.extend(manifests.load_paths([name]))
    return documents
