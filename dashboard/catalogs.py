"""Translation catalogs without GNU gettext: extract, update, compile, check.

Kubarium's user-facing strings go through Django's translation functions. Their Simplified
Chinese translations live in each app's own catalog:

- ``cluster/locale/zh_Hans/LC_MESSAGES/django.po``: strings of ``cluster/`` (model and admin
  labels, validation and scheduling messages);
- ``dashboard/locale/zh_Hans/LC_MESSAGES/django.po``: strings of ``dashboard/`` and of every
  template under ``templates/``.

The compiled ``django.mo`` beside each ``.po`` is committed, so running Kubarium needs nothing
but Python; ``manage.py catalogs`` (Babel, a test dependency) re-extracts the strings, adds the
new ones to the ``.po`` files with an empty translation, and recompiles the ``.mo`` files.
``tests/test_translations.py`` fails when a string has no translation or a ``.mo`` is stale.

Extraction follows what Django looks up at run time: Python calls of ``gettext``,
``gettext_lazy``, ``_``, ``ngettext(_lazy)``, ``pgettext(_lazy)`` and ``npgettext(_lazy)`` with
literal arguments (read with :mod:`ast`), and templates' ``{% translate %}``, ``{% trans %}``,
``{% blocktranslate %}``/``{% blocktrans %}`` (with ``count``, ``context`` and ``trimmed``) and
``_("...")`` constants, turned into gettext calls by Django's own
:func:`django.utils.translation.template.templatize` (built on the template ``Lexer``).
"""

from __future__ import annotations

import ast
import datetime as _datetime
import gettext as gettext_module
import io
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = "zh_Hans"
# Where each app's strings come from, and the catalog they go to.
SOURCES: dict[str, tuple[str, ...]] = {
    "cluster": ("cluster",),
    "dashboard": ("dashboard", "templates"),
}
SKIP_DIRS = frozenset({"migrations", "__pycache__", "locale"})

SINGULAR = {"gettext", "gettext_lazy", "_", "gettext_noop", "ugettext", "ugettext_lazy"}
PLURAL = {"ngettext", "ngettext_lazy"}
CONTEXT = {"pgettext", "pgettext_lazy"}
CONTEXT_PLURAL = {"npgettext", "npgettext_lazy"}
FUNCTIONS = SINGULAR | PLURAL | CONTEXT | CONTEXT_PLURAL
# Catalog dates are fixed, so regenerating an unchanged catalog changes no byte.
_EPOCH = _datetime.datetime(2026, 1, 1, tzinfo=_datetime.UTC)


@dataclass(frozen=True, order=True)
class Message:
    """One msgid (with its plural and context, when it has them) and where it was found."""

    msgid: str
    context: str | None = None
    plural: str | None = None

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.context, self.msgid)


def _message(name: str, args: list[str]) -> Message | None:
    """The message of a call to ``name`` whose leading literal arguments are ``args``."""
    if name in SINGULAR and len(args) >= 1:
        return Message(args[0])
    if name in PLURAL and len(args) >= 2:
        return Message(args[0], plural=args[1])
    if name in CONTEXT and len(args) >= 2:
        return Message(args[1], context=args[0])
    if name in CONTEXT_PLURAL and len(args) >= 3:
        return Message(args[1], context=args[0], plural=args[2])
    return None


def python_messages(source: str) -> Iterator[Message]:
    """Every translatable string called with literals in a Python module."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = (
            func.id
            if isinstance(func, ast.Name)
            else func.attr
            if isinstance(func, ast.Attribute)
            else None
        )
        if name not in FUNCTIONS:
            continue
        args: list[str] = []
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                args.append(arg.value)
            else:
                break
        if message := _message(name, args):
            yield message


def template_messages(source: str) -> Iterator[Message]:
    """Every translatable string of a Django template, as Django's templatize sees it."""
    # Each gettext call is on one line (its strings are reprs); indentation means nothing here.
    code = "\n".join(line.lstrip() for line in templatize(source).splitlines())
    tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    for i, token in enumerate(tokens):
        if token.type != tokenize.NAME or token.string not in FUNCTIONS:
            continue
        if i + 1 >= len(tokens) or tokens[i + 1].string != "(":
            continue
        args: list[str] = []
        j = i + 2
        while j < len(tokens) and tokens[j].type == tokenize.STRING:
            args.append(ast.literal_eval(tokens[j].string))
            j += 1
            if j < len(tokens) and tokens[j].string == ",":
                j += 1
        if message := _message(token.string, args):
            yield message


def source_files(app: str) -> Iterator[Path]:
    for folder in SOURCES[app]:
        for path in sorted((ROOT / folder).rglob("*")):
            if SKIP_DIRS.intersection(path.relative_to(ROOT).parts) or not path.is_file():
                continue
            if path.suffix in {".py", ".html", ".txt"}:
                yield path


def messages_of(app: str) -> dict[tuple[str | None, str], tuple[Message, list[str]]]:
    """The app's messages by (context, msgid), each with the files that use it."""
    found: dict[tuple[str | None, str], tuple[Message, list[str]]] = {}
    for path in source_files(app):
        text = path.read_text(encoding="utf-8")
        reader = python_messages if path.suffix == ".py" else template_messages
        where = str(path.relative_to(ROOT))
        for message in reader(text):
            if not message.msgid:
                continue
            entry = found.setdefault(message.key, (message, []))
            if where not in entry[1]:
                entry[1].append(where)
    return found


def po_path(app: str) -> Path:
    return ROOT / app / "locale" / LANGUAGE / "LC_MESSAGES" / "django.po"


def untranslated(app: str) -> list[tuple[Message, list[str]]]:
    """The app's messages whose zh-hans translation is missing or empty."""
    from babel.messages.pofile import read_po

    path = po_path(app)
    catalog = read_po(path.open("rb")) if path.exists() else None
    missing = []
    for _key, (message, where) in sorted(messages_of(app).items(), key=lambda kv: kv[1][0]):
        entry = None
        if catalog is not None:
            msgid = (message.msgid, message.plural) if message.plural else message.msgid
            entry = catalog.get(msgid, context=message.context)
            if entry is None and message.plural:
                entry = catalog.get(message.msgid, context=message.context)
        strings = entry.string if entry is not None else ""
        if isinstance(strings, tuple | list):
            done = bool(strings) and all(s.strip() for s in strings)
        else:
            done = bool(strings and strings.strip())
        if entry is None or entry.fuzzy or not done:
            missing.append((message, where))
    return missing


def update(app: str, translations: dict[str, str] | None = None) -> int:
    """Add the app's new messages to its ``.po`` (with ``translations`` when given) and drop
    obsolete ones; returns how many messages still lack a translation."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    path = po_path(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = read_po(path.open("rb")) if path.exists() else None
    catalog = Catalog(
        locale=LANGUAGE,
        domain="django",
        project="Kubarium",
        version="0.1",
        charset="utf-8",
        header_comment=(
            f"# Simplified Chinese translations of Kubarium's {app} app.\n"
            "# Update with: python manage.py catalogs (see dashboard/catalogs.py)."
        ),
    )
    catalog.revision_date = catalog.creation_date = _EPOCH
    catalog.fuzzy = False
    translations = translations or {}
    missing = 0
    for _key, (message, where) in sorted(messages_of(app).items(), key=lambda kv: kv[1][0]):
        msgid = (message.msgid, message.plural) if message.plural else message.msgid
        string: str | tuple[str, ...] = ("",) if message.plural else ""
        previous = old.get(msgid, context=message.context) if old is not None else None
        if previous is not None and not previous.fuzzy:
            string = previous.string
        given = translations.get(message.msgid)
        if given:
            string = (given,) if message.plural else given
        if not (all(string) if isinstance(string, tuple) else string):
            missing += 1
        catalog.add(
            msgid,
            string,
            locations=[(w, None) for w in where],
            context=message.context,
        )
    with path.open("wb") as out:
        write_po(out, catalog, width=100, omit_header=False, sort_output=True)
    return missing


def compiled(app: str) -> bytes:
    """The ``.mo`` file the app's ``.po`` compiles to."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(po_path(app).open("rb"))
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def compile_catalog(app: str) -> Path:
    path = po_path(app).with_suffix(".mo")
    path.write_bytes(compiled(app))
    return path


def mo_entries(data: bytes) -> dict:
    """A compiled catalog's translations, as Python's gettext reads them, and its plural rule.
    The rest of the header is left out: it names the Babel version that compiled it."""
    translations = gettext_module.GNUTranslations(io.BytesIO(data))
    entries = dict(translations._catalog)  # noqa: SLF001 - the parsed catalog itself
    entries.pop("", None)
    entries[("plural rule", 0)] = translations.plural(1), translations.plural(2)
    return entries


def stale_catalogs(apps: Iterable[str] = SOURCES) -> list[str]:
    """The apps whose committed ``.mo`` does not hold what their ``.po`` says."""
    stale = []
    for app in apps:
        mo = po_path(app).with_suffix(".mo")
        if not mo.exists() or mo_entries(mo.read_bytes()) != mo_entries(compiled(app)):
            stale.append(app)
    return stale
