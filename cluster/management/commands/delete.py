"""``manage.py delete -f FILE|DIR|-``: delete the objects the manifests name."""

from django.core.management.base import BaseCommand, CommandError

from cluster import manifests
from cluster.management.commands.apply import load


class Command(BaseCommand):
    help = "Delete every object named in the manifests (in file order)."

    def add_arguments(self, parser):
        parser.add_argument("-f", "--filename", action="append", required=True)
        parser.add_argument("--ignore-not-found", action="store_true")

    def handle(self, *args, filename, ignore_not_found, **options):
        try:
            documents = load(filename)
        except manifests.ManifestError as error:
            for problem in error.problems:
                self.stderr.write(f"error: {problem}")
            raise CommandError("nothing was deleted") from None
        outcomes, problems = manifests.delete(documents, ignore_not_found=ignore_not_found)
        for outcome in outcomes:
            self.stdout.write(f'{outcome.kind.resource_group()} "{outcome.name}" deleted')
        for problem in problems:
            self.stderr.write(f"Error from server: {problem}")
        if problems:
            raise CommandError(f"{len(problems)} object(s) could not be deleted")
