"""``manage.py get KIND [NAME] [-n NS | -A] [-l SELECTOR] [-o yaml|json|name|wide]``."""

import json

import yaml
from django.core.management.base import BaseCommand, CommandError

from cluster import clock
from cluster.store import kinds, read
from cluster.store.errors import StoreError
from cluster.store.tables import render_text


class Command(BaseCommand):
    help = "Show objects like kubectl get: a table, or YAML/JSON/names."

    def add_arguments(self, parser):
        parser.add_argument("kind", help="pods, deploy, services, nodes, ...")
        parser.add_argument("name", nargs="?")
        parser.add_argument("-n", "--namespace", default="default")
        parser.add_argument("-A", "--all-namespaces", action="store_true")
        parser.add_argument("-l", "--selector", default="")
        parser.add_argument("--field-selector", default="")
        parser.add_argument("--show-labels", action="store_true")
        parser.add_argument("-o", "--output", choices=["yaml", "json", "name", "wide"])

    def handle(self, *args, **o):
        try:
            kind = kinds.by_name(o["kind"])
        except kinds.UnknownKind:
            raise CommandError(f'the server doesn\'t have a resource type "{o["kind"]}"') from None
        namespace = None if o["all_namespaces"] else o["namespace"]
        try:
            if o["name"]:
                objects = [read.get(kind, namespace or "default", o["name"])]
            else:
                objects = read.list_objects(
                    kind, namespace, o["selector"], o["field_selector"]
                ).items
        except StoreError as error:
            raise CommandError(f"Error from server ({error.reason}): {error.message}") from None
        self.stdout.write(self.render(kind, objects, o, namespace))

    def render(self, kind, objects, o, namespace) -> str:
        output = o["output"]
        single = bool(o["name"])
        if output == "yaml":
            data = objects[0] if single else _as_list(kind, objects)
            return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip()
        if output == "json":
            data = objects[0] if single else _as_list(kind, objects)
            return json.dumps(data, indent=4, ensure_ascii=False)
        if output == "name":
            return "\n".join(
                f"{kind.singular}{'.' + kind.group if kind.group else ''}/{obj['metadata']['name']}"
                for obj in objects
            )
        if not objects:
            where = f" in {namespace} namespace" if namespace and kind.namespaced else ""
            return f"No resources found{where}."
        return render_text(
            kind.kind,
            objects,
            clock.now_datetime(),
            wide=output == "wide",
            all_namespaces=namespace is None and kind.namespaced,
            show_labels=o["show_labels"],
        )


def _as_list(kind, objects):
    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": objects,
        "metadata": {"resourceVersion": ""},
    }
