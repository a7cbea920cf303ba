"""Label and field selectors, parsed and matched exactly as Kubernetes does.

Label selectors follow ``k8s.io/apimachinery/pkg/labels``::

    app=web, tier in (front,back), !canary, release, env!=prod, x notin (a)

Requirements are ANDed and sorted by key; ``str()`` gives the canonical text
(``"app=web,tier in (back,front)"``). Errors carry Kubernetes' messages, e.g.
``unable to parse requirement: found '(', expected: identifier``. Error texts that Kubernetes
changed between releases follow v1.32, the version Kubarium reports.

Field selectors follow ``k8s.io/apimachinery/pkg/fields``: ``metadata.name=web`` terms joined by
commas, operators ``=``, ``==`` and ``!=``, values escaped with ``\\,`` ``\\=`` and ``\\\\``.

``LabelSelector`` objects of the API (``matchLabels`` + ``matchExpressions``) go through
:func:`label_selector_from_dict`, as ``metav1.LabelSelectorAsSelector`` does: an empty dict
selects everything and ``None`` selects nothing. Services are the exception: a Service whose
``spec.selector`` (a plain map, not a LabelSelector) is missing or empty selects no pods; its
callers handle that before asking for a match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DOES_NOT_EXIST",
    "DOUBLE_EQUALS",
    "EQUALS",
    "EXISTS",
    "GREATER_THAN",
    "IN",
    "LESS_THAN",
    "NOT_EQUALS",
    "NOT_IN",
    "FieldRequirement",
    "LabelSelector",
    "Requirement",
    "SelectorError",
    "escape_field_value",
    "field_selector_matches",
    "field_selector_to_string",
    "label_key_errors",
    "label_selector_from_dict",
    "label_value_errors",
    "make_requirement",
    "matches_selector_dict",
    "parse_field_selector",
    "parse_label_selector",
    "selector_to_string",
    "unescape_field_value",
]


class SelectorError(ValueError):
    """A label or field selector that Kubernetes would reject; the message is Kubernetes'."""


# ----------------------------------------------------------------------------------- operators
# The values of k8s.io/apimachinery/pkg/selection.Operator.
DOES_NOT_EXIST = "!"
EQUALS = "="
DOUBLE_EQUALS = "=="
IN = "in"
NOT_EQUALS = "!="
NOT_IN = "notin"
EXISTS = "exists"
GREATER_THAN = "gt"
LESS_THAN = "lt"

_BINARY_OPERATORS = [IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN]
_OPERATORS = frozenset(_BINARY_OPERATORS + [EXISTS, DOES_NOT_EXIST])

# metav1.LabelSelectorOperator -> selection.Operator
_DICT_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}


# ------------------------------------------------------------------------ Go-style rendering


def _go_quote(text: str) -> str:
    """Go's ``%q`` / ``strconv.Quote``: ``a"b`` -> ``"a\\"b"``; printable Unicode stays as is."""
    out = ['"']
    for char in text:
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char.isprintable():
            out.append(char)
        elif char in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(char)])
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def _go_string_slice(values: list[str] | None) -> str:
    """Go's ``%#v`` of a ``[]string``: ``[]string{"a", "b"}``, or ``[]string(nil)``."""
    if values is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join(_go_quote(v) for v in values) + "}"


def _invalid(path: str, rendered_value: str, detail: str) -> str:
    """A ``field.Invalid`` error's text: ``values[0][app]: Invalid value: "x": detail``."""
    return f"{path}: Invalid value: {rendered_value}: {detail}"


def _aggregate(messages: list[str]) -> str:
    """``utilerrors.NewAggregate(...).Error()``: one message, or ``[a, b]`` without repeats."""
    unique = list(dict.fromkeys(messages))
    if len(unique) == 1:
        return unique[0]
    return "[" + ", ".join(unique) + "]"


# ------------------------------------------------------------------- label key/value validation

_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_NAME_RE = re.compile(_NAME_FMT)
_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)
_VALUE_FMT = "(" + _NAME_FMT + ")?"
_VALUE_RE = re.compile(_VALUE_FMT)
_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character"
)
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character"
)


def _regex_error(message: str, fmt: str, *examples: str) -> str:
    """validation.RegexError: note the doubled space before each "or", as Kubernetes writes it."""
    if not examples:
        return f"{message} (regex used for validation is '{fmt}')"
    listed = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {listed}regex used for validation is '{fmt}')"


def _max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def _byte_len(text: str) -> int:
    return len(text.encode("utf-8"))


def label_key_errors(key: str) -> list[str]:
    """Problems with a label key (``IsQualifiedName``); empty when the key is valid.

    A key is an optional DNS-1123 subdomain prefix and ``/``, then a name of at most 63
    characters: ``app``, ``kubernetes.io/hostname``.
    """
    errors: list[str] = []
    parts = key.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            if _byte_len(prefix) > 253:
                errors.append("prefix part " + _max_len_error(253))
            if not _DNS1123_SUBDOMAIN_RE.fullmatch(prefix):
                errors.append(
                    "prefix part "
                    + _regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com")
                )
    else:
        return [
            "a qualified name "
            + _regex_error(_NAME_MSG, _NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errors.append("name part must be non-empty")
    elif _byte_len(name) > 63:
        errors.append("name part " + _max_len_error(63))
    if not _NAME_RE.fullmatch(name):
        errors.append(
            "name part " + _regex_error(_NAME_MSG, _NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errors


def label_value_errors(value: str) -> list[str]:
    """Problems with a label value (``IsValidLabelValue``); empty when the value is valid."""
    errors: list[str] = []
    if _byte_len(value) > 63:
        errors.append(_max_len_error(63))
    if not _VALUE_RE.fullmatch(value):
        errors.append(_regex_error(_VALUE_MSG, _VALUE_FMT, "MyValue", "my_value", "12345"))
    return errors


_INT64_RE = re.compile(r"[+-]?[0-9]+")


def _parse_int64(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 10, 64)``, or None where it fails."""
    if not _INT64_RE.fullmatch(text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


# -------------------------------------------------------------------------------- requirements


@dataclass(frozen=True)
class Requirement:
    """One label requirement: ``key``, a ``selection.Operator`` value, and its values.

    ``operator`` is one of ``=``, ``==``, ``!=``, ``in``, ``notin``, ``exists``, ``!``
    (does not exist), ``gt``, ``lt``. ``=``, ``==`` and ``in`` with one value all mean
    "the label equals this value".
    """

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this requirement (``Requirement.Matches``).

        A missing key fails ``=``/``in``/``exists``/``gt``/``lt`` and passes ``!=``/``notin``/``!``.
        """
        op = self.operator
        present = self.key in labels
        if op == EXISTS:
            return present
        if op == DOES_NOT_EXIST:
            return not present
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return present and labels[self.key] in self.values
        if op in (NOT_IN, NOT_EQUALS):
            return not present or labels[self.key] not in self.values
        if op in (GREATER_THAN, LESS_THAN):
            if not present or len(self.values) != 1:
                return False
            have, want = _parse_int64(labels[self.key]), _parse_int64(self.values[0])
            if have is None or want is None:
                return False
            return have > want if op == GREATER_THAN else have < want
        return False

    def __str__(self) -> str:
        """``app=web``, ``!canary``, ``tier in (a,b)`` (values sorted), ``x>3``."""
        op = self.operator
        if op == EXISTS:
            return self.key
        if op == DOES_NOT_EXIST:
            return "!" + self.key
        symbol = {
            EQUALS: "=",
            DOUBLE_EQUALS: "==",
            NOT_EQUALS: "!=",
            IN: " in ",
            NOT_IN: " notin ",
            GREATER_THAN: ">",
            LESS_THAN: "<",
        }.get(op, "")
        joined = ",".join(sorted(self.values))
        if op in (IN, NOT_IN):
            joined = f"({joined})"
        return f"{self.key}{symbol}{joined}"


def make_requirement(key: str, operator: str, values: Iterable[str] | None = ()) -> Requirement:
    """Build and validate a requirement like ``labels.NewRequirement``.

    Raises :class:`SelectorError` naming every problem, e.g.
    ``values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be
    empty``. ``values=None`` stands for Go's nil slice in messages.
    """
    raw = None if values is None else list(values)
    vals = raw or []
    for value in vals:
        if not isinstance(value, str):
            raise SelectorError(f"label selector values must be strings, not {value!r}")
    errors: list[str] = []
    if key_problems := label_key_errors(key):
        errors.append(_invalid("key", _go_quote(key), "; ".join(key_problems)))
    rendered = _go_string_slice(raw)
    if operator in (IN, NOT_IN):
        if not vals:
            detail = "for 'in', 'notin' operators, values set can't be empty"
            errors.append(_invalid("values", rendered, detail))
    elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(vals) != 1:
            detail = "exact-match compatibility requires one single value"
            errors.append(_invalid("values", rendered, detail))
    elif operator in (EXISTS, DOES_NOT_EXIST):
        if vals:
            detail = "values set must be empty for exists and does not exist"
            errors.append(_invalid("values", rendered, detail))
    elif operator in (GREATER_THAN, LESS_THAN):
        if len(vals) != 1:
            detail = "for 'Gt', 'Lt' operators, exactly one value is required"
            errors.append(_invalid("values", rendered, detail))
        for index, value in enumerate(vals):
            if _parse_int64(value) is None:
                detail = "for 'Gt', 'Lt' operators, the value must be an integer"
                errors.append(_invalid(f"values[{index}]", _go_quote(value), detail))
    else:
        supported = ", ".join(_go_quote(o) for o in _BINARY_OPERATORS + [EXISTS, DOES_NOT_EXIST])
        errors.append(
            f"operator: Unsupported value: {_go_quote(operator)}: supported values: {supported}"
        )
    for index, value in enumerate(vals):
        if value_problems := label_value_errors(value):
            path = f"values[{index}][{key}]"
            errors.append(_invalid(path, _go_quote(value), "; ".join(value_problems)))
    if errors:
        raise SelectorError(_aggregate(errors))
    # Kubernetes sorts values only when printing; sorting here changes nothing visible and
    # makes equal requirements compare equal.
    return Requirement(key, operator, tuple(sorted(vals)))


# ------------------------------------------------------------------------------ label selector


@dataclass(frozen=True)
class LabelSelector:
    """ANDed label requirements, sorted by key. ``LabelSelector.nothing()`` matches nothing."""

    requirements: tuple[Requirement, ...] = ()
    selects_nothing: bool = False

    @classmethod
    def everything(cls) -> LabelSelector:
        return cls()

    @classmethod
    def nothing(cls) -> LabelSelector:
        """``labels.Nothing()``: what a ``None`` LabelSelector means."""
        return cls((), True)

    @classmethod
    def of(cls, requirements: Iterable[Requirement]) -> LabelSelector:
        """A selector of these requirements, sorted by key (stable, as ``selector.Add``)."""
        return cls(tuple(sorted(requirements, key=lambda r: r.key)))

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether an object with these labels is selected; every requirement must hold."""
        if self.selects_nothing:
            return False
        labels = labels or {}
        return all(requirement.matches(labels) for requirement in self.requirements)

    def is_empty(self) -> bool:
        """True when the selector places no restriction (it selects everything)."""
        return not self.selects_nothing and not self.requirements

    def requires_exact_match(self, key: str) -> str | None:
        """The one value ``key`` must have (``=``, ``==``, or ``in`` with one value), else None."""
        for requirement in self.requirements:
            if requirement.key == key:
                if requirement.operator in (EQUALS, DOUBLE_EQUALS, IN) and (
                    len(requirement.values) == 1
                ):
                    return requirement.values[0]
                return None
        return None

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


# Lexer tokens
_END, _CLOSE, _COMMA, _NOT, _DOUBLE_EQ, _EQ, _GT, _IDENT, _IN, _LT, _NOT_EQ, _NOT_IN, _OPEN = (
    "end",
    ")",
    ",",
    "!",
    "==",
    "=",
    ">",
    "identifier",
    "in",
    "<",
    "!=",
    "notin",
    "(",
)
_SYMBOL_TOKENS = {
    ")": _CLOSE,
    ",": _COMMA,
    "!": _NOT,
    "==": _DOUBLE_EQ,
    "=": _EQ,
    ">": _GT,
    "<": _LT,
    "!=": _NOT_EQ,
    "(": _OPEN,
}
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")


def _tokenize(text: str) -> list[tuple[str, str]]:
    """Split a label selector into (token, literal) pairs, ending with (_END, "").

    Runs of special characters take the longest operator they start with ("!=" then "=" for
    "!=="); anything else up to a special character or whitespace is an identifier, or the
    keyword ``in``/``notin``.
    """
    tokens: list[tuple[str, str]] = []
    pos, size = 0, len(text)
    while True:
        while pos < size and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= size:
            tokens.append((_END, ""))
            return tokens
        if text[pos] in _SPECIAL:
            # Every single special character is a token, so a match always exists.
            length = 2 if text[pos : pos + 2] in _SYMBOL_TOKENS else 1
            literal = text[pos : pos + length]
            tokens.append((_SYMBOL_TOKENS[literal], literal))
            pos += length
            continue
        start = pos
        while pos < size and text[pos] not in _SPECIAL and text[pos] not in _WHITESPACE:
            pos += 1
        literal = text[start:pos]
        if literal == "in":
            tokens.append((_IN, literal))
        elif literal == "notin":
            tokens.append((_NOT_IN, literal))
        else:
            tokens.append((_IDENT, literal))


class _Parser:
    """The recursive-descent parser of ``labels.Parse``, with its error messages."""

    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.position = 0

    def _peek(self, as_values: bool = True) -> tuple[str, str]:
        token, literal = self.tokens[self.position]
        # Where values are expected, "in" and "notin" are plain identifiers.
        if as_values and token in (_IN, _NOT_IN):
            token = _IDENT
        return token, literal

    def _take(self, as_values: bool = True) -> tuple[str, str]:
        item = self._peek(as_values)
        self.position += 1
        return item

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            token, literal = self._peek()
            if token == _END:
                return requirements
            if token not in (_IDENT, _NOT):
                raise SelectorError(
                    f"found '{literal}', expected: !, identifier, or 'end of string'"
                )
            try:
                requirements.append(self._requirement())
            except SelectorError as error:
                raise SelectorError(f"unable to parse requirement: {error}") from None
            token, literal = self._take()
            if token == _END:
                return requirements
            if token != _COMMA:
                raise SelectorError(f"found '{literal}', expected: ',' or 'end of string'")
            after, after_literal = self._peek()
            if after not in (_IDENT, _NOT):
                raise SelectorError(f"found '{after_literal}', expected: identifier after ','")

    def _requirement(self) -> Requirement:
        negated = False
        token, literal = self._take()
        if token == _NOT:
            negated = True
            token, literal = self._take()
        if token != _IDENT:
            raise SelectorError(f"found '{literal}', expected: identifier")
        key = literal
        if problems := label_key_errors(key):
            raise SelectorError(_invalid("<nil>", _go_quote(key), "; ".join(problems)))
        if negated:
            return make_requirement(key, DOES_NOT_EXIST, [])
        if self._peek()[0] in (_END, _COMMA):
            return make_requirement(key, EXISTS, [])
        operator = self._operator()
        if operator in (IN, NOT_IN):
            values = self._value_set()
        else:
            values = self._exact_value()
        return make_requirement(key, operator, sorted(values))

    def _operator(self) -> str:
        token, literal = self._take(as_values=False)
        operator = {
            _IN: IN,
            _EQ: EQUALS,
            _DOUBLE_EQ: DOUBLE_EQUALS,
            _GT: GREATER_THAN,
            _LT: LESS_THAN,
            _NOT_IN: NOT_IN,
            _NOT_EQ: NOT_EQUALS,
        }.get(token)
        if operator is None:
            expected = ", ".join(_BINARY_OPERATORS)
            raise SelectorError(f"found '{literal}', expected: {expected}")
        return operator

    def _value_set(self) -> set[str]:
        token, literal = self._take()
        if token != _OPEN:
            raise SelectorError(f"found '{literal}' expected: '('")
        token, literal = self._peek()
        if token == _CLOSE:  # "()" is the set holding the empty string
            self._take()
            return {""}
        if token not in (_IDENT, _COMMA):
            raise SelectorError(f"found '{literal}', expected: ',', ')' or identifier")
        values = self._identifier_list()
        self._take()  # the ")" that ended the list
        return values

    def _identifier_list(self) -> set[str]:
        """Comma-separated, possibly empty values up to ")": "(a,,b)" is {"a", "", "b"}."""
        values: set[str] = set()
        while True:
            token, literal = self._take()
            if token == _IDENT:
                values.add(literal)
                after, after_literal = self._peek()
                if after == _CLOSE:
                    return values
                if after != _COMMA:
                    raise SelectorError(f"found '{after_literal}', expected: ',' or ')'")
            elif token == _COMMA:
                if not values:
                    values.add("")  # "(,"
                after = self._peek()[0]
                if after == _CLOSE:
                    values.add("")  # ",)"
                    return values
                if after == _COMMA:
                    values.add("")  # ",,"
            else:
                raise SelectorError(f"found '{literal}', expected: ',', or identifier")

    def _exact_value(self) -> set[str]:
        if self._peek()[0] in (_END, _COMMA):
            return {""}  # "a=" compares with the empty string
        token, literal = self._take()
        if token != _IDENT:
            raise SelectorError(f"found '{literal}', expected: identifier")
        return {literal}


def parse_label_selector(text: str) -> LabelSelector:
    """Parse a ``labelSelector`` query (``labels.Parse``); ``""`` selects everything.

    >>> str(parse_label_selector("tier in (b, a), app = web"))
    'app=web,tier in (a,b)'
    """
    return LabelSelector.of(_Parser(text).parse())


def label_selector_from_dict(selector: Mapping[str, Any] | None) -> LabelSelector:
    """A ``metav1.LabelSelector`` as a selector (``LabelSelectorAsSelector``).

    ``None`` selects nothing, ``{}`` everything. ``matchLabels`` become ``key=value``;
    ``matchExpressions`` use In, NotIn, Exists and DoesNotExist. Raises :class:`SelectorError`
    (``"Foo" is not a valid label selector operator``, or a requirement's validation errors).
    """
    if selector is None:
        return LabelSelector.nothing()
    match_labels = selector.get("matchLabels") or {}
    match_expressions = selector.get("matchExpressions") or []
    if not match_labels and not match_expressions:
        return LabelSelector.everything()
    requirements: list[Requirement] = []
    for key in sorted(match_labels):
        value = match_labels[key]
        if not isinstance(value, str):
            raise SelectorError(f"matchLabels values must be strings, not {value!r}")
        requirements.append(make_requirement(key, EQUALS, [value]))
    for expression in match_expressions:
        op_name = expression.get("operator", "")
        operator = _DICT_OPERATORS.get(op_name)
        if operator is None:
            raise SelectorError(f"{_go_quote(str(op_name))} is not a valid label selector operator")
        # Go copies the values with append([]string(nil), ...): an empty list becomes nil.
        values = list(expression.get("values") or []) or None
        requirements.append(make_requirement(expression.get("key", ""), operator, values))
    return LabelSelector.of(requirements)


def selector_to_string(selector: Mapping[str, Any] | None) -> str:
    """What kubectl prints for a LabelSelector (``FormatLabelSelector``).

    ``{"matchLabels": {"app": "web"}}`` -> ``"app=web"``; empty or None -> ``"<none>"``; an
    invalid selector -> ``"<error>"``.
    """
    try:
        text = str(label_selector_from_dict(selector))
    except SelectorError:
        return "<error>"
    return text or "<none>"


def matches_selector_dict(
    selector: Mapping[str, Any] | None, labels: Mapping[str, str] | None
) -> bool:
    """Whether a LabelSelector dict selects these labels: ``{}`` selects all, ``None`` none.

    An invalid selector selects nothing.
    """
    try:
        return label_selector_from_dict(selector).matches(labels)
    except SelectorError:
        return False


# ------------------------------------------------------------------------------ field selector


@dataclass(frozen=True)
class FieldRequirement:
    """One field selector term: ``field``, ``op`` (``=`` or ``!=``), unescaped ``value``."""

    field: str
    op: str
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        """A missing field counts as ``""``, as in ``fields.Set.Get``."""
        have = fields.get(self.field, "")
        return have == self.value if self.op == "=" else have != self.value

    def __str__(self) -> str:
        return f"{self.field}{self.op}{escape_field_value(self.value)}"


def escape_field_value(value: str) -> str:
    r"""``fields.EscapeValue``: ``a,b=c\d`` -> ``a\,b\=c\\d``."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def unescape_field_value(value: str) -> str:
    r"""``fields.UnescapeValue``: ``a\,b`` -> ``a,b``; a bare ``=`` or a bad escape is an error."""
    if not any(char in value for char in "\\,="):
        return value
    out: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{char}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            # Go prints the rune with %v, i.e. as its number: '=' is 61.
            raise SelectorError(
                f"invalid field selector: unescaped character in value: {ord(char)}"
            )
        else:
            out.append(char)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not escaped: ``a=x\\,y,b=z`` -> ``["a=x\\,y", "b=z"]``."""
    if not text:
        return []
    terms: list[str] = []
    start, escaped = 0, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(text[start:index])
            start = index + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    """``a!=b`` -> ("a", "!=", "b"): the first position where "!=", "==" or "=" starts."""
    for index in range(len(term)):
        for operator in ("!=", "==", "="):
            if term.startswith(operator, index):
                return term[:index], operator, term[index + len(operator) :]
    return None


def parse_field_selector(text: str) -> list[FieldRequirement]:
    """Parse a ``fieldSelector`` query (``fields.ParseSelector``); ``""`` -> ``[]``.

    Terms are sorted as Kubernetes sorts them (by their text), ``==`` becomes ``=``, and values
    are unescaped. Whitespace is not trimmed (Kubernetes does not trim either). A term with an
    empty field and an empty value (``"="``) selects everything and is dropped.

    >>> parse_field_selector("status.phase!=Failed,spec.nodeName==n1")
    [FieldRequirement(field='spec.nodeName', op='=', value='n1'), \
FieldRequirement(field='status.phase', op='!=', value='Failed')]
    """
    requirements: list[FieldRequirement] = []
    for term in sorted(_split_terms(text)):
        if not term:
            continue
        split = _split_term(term)
        if split is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        name, operator, raw_value = split
        value = unescape_field_value(raw_value)
        if not name and not value:
            continue
        requirements.append(FieldRequirement(name, "!=" if operator == "!=" else "=", value))
    return requirements


def field_selector_matches(
    requirements: Iterable[FieldRequirement], fields: Mapping[str, str]
) -> bool:
    """Whether an object's selectable fields satisfy every requirement."""
    return all(requirement.matches(fields) for requirement in requirements)


def field_selector_to_string(requirements: Iterable[FieldRequirement]) -> str:
    """The canonical text: ``metadata.name=web,status.phase!=Failed``."""
    return ",".join(str(requirement) for requirement in requirements)
