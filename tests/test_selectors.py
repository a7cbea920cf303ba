"""Label and field selectors: parsing, canonical text, matching and Kubernetes' error messages.

Expected behaviour follows k8s.io/apimachinery/pkg/labels, pkg/fields and
metav1.LabelSelectorAsSelector; error texts are those of Kubernetes v1.32.
"""

from __future__ import annotations

import pytest

from cluster.store.selectors import (
    DOES_NOT_EXIST,
    DOUBLE_EQUALS,
    EQUALS,
    EXISTS,
    GREATER_THAN,
    IN,
    LESS_THAN,
    NOT_EQUALS,
    NOT_IN,
    FieldRequirement,
    LabelSelector,
    Requirement,
    SelectorError,
    escape_field_value,
    field_selector_matches,
    field_selector_to_string,
    label_key_errors,
    label_selector_from_dict,
    label_value_errors,
    make_requirement,
    matches_selector_dict,
    parse_field_selector,
    parse_label_selector,
    selector_to_string,
    unescape_field_value,
)

NAME_RULE = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
VALUE_RULE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt"

# ------------------------------------------------------------------------------ label parsing

PARSE_CASES = [
    pytest.param("", "", [], id="empty selects everything"),
    pytest.param("   ", "", [], id="only whitespace"),
    pytest.param("a=b", "a=b", [("a", EQUALS, ("b",))], id="equals"),
    pytest.param("a==b", "a==b", [("a", DOUBLE_EQUALS, ("b",))], id="double equals"),
    pytest.param("a!=b", "a!=b", [("a", NOT_EQUALS, ("b",))], id="not equals"),
    pytest.param("a in (x,y)", "a in (x,y)", [("a", IN, ("x", "y"))], id="in"),
    pytest.param("a notin (x)", "a notin (x)", [("a", NOT_IN, ("x",))], id="notin"),
    pytest.param("a", "a", [("a", EXISTS, ())], id="exists"),
    pytest.param("!a", "!a", [("a", DOES_NOT_EXIST, ())], id="does not exist"),
    pytest.param(
        "tier in (b, a), app = web",
        "app=web,tier in (a,b)",
        [("app", EQUALS, ("web",)), ("tier", IN, ("a", "b"))],
        id="whitespace tolerated, keys and values sorted",
    ),
    pytest.param(
        "\tapp=web ,\n!canary",
        "app=web,!canary",
        [("app", EQUALS, ("web",)), ("canary", DOES_NOT_EXIST, ())],
        id="tabs and newlines are whitespace",
    ),
    pytest.param("x in (b,a,b)", "x in (a,b)", [("x", IN, ("a", "b"))], id="values are a set"),
    pytest.param("x in ()", "x in ()", [("x", IN, ("",))], id="empty parentheses hold empty"),
    pytest.param("x in (a,,b)", "x in (,a,b)", [("x", IN, ("", "a", "b"))], id="double comma"),
    pytest.param("x in (,a)", "x in (,a)", [("x", IN, ("", "a"))], id="leading comma"),
    pytest.param("x in (a,)", "x in (,a)", [("x", IN, ("", "a"))], id="trailing comma"),
    pytest.param("a=", "a=", [("a", EQUALS, ("",))], id="equals the empty string"),
    pytest.param(
        "a=,b", "a=,b", [("a", EQUALS, ("",)), ("b", EXISTS, ())], id="empty value then more"
    ),
    pytest.param("in", "in", [("in", EXISTS, ())], id="keyword as a key"),
    pytest.param("a=in", "a=in", [("a", EQUALS, ("in",))], id="keyword as a value"),
    pytest.param(
        "a in (in,notin)", "a in (in,notin)", [("a", IN, ("in", "notin"))], id="keywords in a set"
    ),
    pytest.param("x>3", "x>3", [("x", GREATER_THAN, ("3",))], id="greater than"),
    pytest.param("x<10", "x<10", [("x", LESS_THAN, ("10",))], id="less than"),
    pytest.param(
        "kubernetes.io/hostname=worker-1",
        "kubernetes.io/hostname=worker-1",
        [("kubernetes.io/hostname", EQUALS, ("worker-1",))],
        id="prefixed key",
    ),
    pytest.param(
        "b=2,a=1,c",
        "a=1,b=2,c",
        [("a", EQUALS, ("1",)), ("b", EQUALS, ("2",)), ("c", EXISTS, ())],
        id="requirements sorted by key",
    ),
    pytest.param(
        "a=b,a!=c",
        "a=b,a!=c",
        [("a", EQUALS, ("b",)), ("a", NOT_EQUALS, ("c",))],
        id="same key twice keeps input order",
    ),
]


@pytest.mark.parametrize(("text", "canonical", "requirements"), PARSE_CASES)
def test_parse_label_selector(
    text: str, canonical: str, requirements: list[tuple[str, str, tuple[str, ...]]]
) -> None:
    """Selectors parse into sorted requirements and print canonically."""
    selector = parse_label_selector(text)
    assert [(r.key, r.operator, r.values) for r in selector.requirements] == requirements
    assert str(selector) == canonical


@pytest.mark.parametrize(("text", "canonical", "requirements"), PARSE_CASES)
def test_canonical_text_round_trips(text: str, canonical: str, requirements: object) -> None:
    """Parsing the canonical text gives the same selector again."""
    once = parse_label_selector(text)
    twice = parse_label_selector(str(once))
    assert twice == once and str(twice) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "a b",
            f"unable to parse requirement: found 'b', expected: {BINARY_OPERATORS}",
            id="missing operator",
        ),
        pytest.param("a=b c", "found 'c', expected: ',' or 'end of string'", id="two values"),
        pytest.param(
            "a=(", "unable to parse requirement: found '(', expected: identifier", id="bad value"
        ),
        pytest.param(
            "a in x", "unable to parse requirement: found 'x' expected: '('", id="in without set"
        ),
        pytest.param(
            "a in (x",
            "unable to parse requirement: found '', expected: ',' or ')'",
            id="unclosed set",
        ),
        pytest.param(
            "a in (x y)",
            "unable to parse requirement: found 'y', expected: ',' or ')'",
            id="set without comma",
        ),
        pytest.param(
            "a in (x,=)",
            "unable to parse requirement: found '=', expected: ',', or identifier",
            id="operator inside a set",
        ),
        pytest.param(
            "a in =",
            "unable to parse requirement: found '=' expected: '('",
            id="operator instead of a set",
        ),
        pytest.param(
            "(", "found '(', expected: !, identifier, or 'end of string'", id="starts with paren"
        ),
        pytest.param(
            ",a", "found ',', expected: !, identifier, or 'end of string'", id="starts with comma"
        ),
        pytest.param("a,", "found '', expected: identifier after ','", id="trailing comma"),
        pytest.param("a,,b", "found ',', expected: identifier after ','", id="double comma"),
        pytest.param(
            "!a=b", "found '=', expected: ',' or 'end of string'", id="negation with a value"
        ),
        pytest.param("!", "unable to parse requirement: found '', expected: identifier", id="bang"),
        pytest.param(
            "!!a", "unable to parse requirement: found '!', expected: identifier", id="double bang"
        ),
        pytest.param(
            "a =! b",
            "unable to parse requirement: found '!', expected: identifier",
            id="reversed not-equals",
        ),
        pytest.param(
            "a b=c",
            f"unable to parse requirement: found 'b', expected: {BINARY_OPERATORS}",
            id="space inside key",
        ),
        pytest.param(
            "-a=b",
            'unable to parse requirement: <nil>: Invalid value: "-a": name part ' + NAME_RULE,
            id="key starting with a dash",
        ),
        pytest.param(
            "Example.com/x=y",
            'unable to parse requirement: <nil>: Invalid value: "Example.com/x": prefix part '
            + SUBDOMAIN_RULE,
            id="prefix with capitals",
        ),
        pytest.param(
            "/a",
            'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be '
            "non-empty",
            id="empty prefix",
        ),
        pytest.param(
            "a/",
            'unable to parse requirement: <nil>: Invalid value: "a/": name part must be '
            "non-empty; name part " + NAME_RULE,
            id="empty name",
        ),
        pytest.param(
            "a/b/c",
            'unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name '
            + NAME_RULE
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
            id="two slashes",
        ),
        pytest.param(
            "k" * 64,
            f'unable to parse requirement: <nil>: Invalid value: "{"k" * 64}": name part must '
            "be no more than 63 characters",
            id="key too long",
        ),
        pytest.param(
            "a=-bad",
            'unable to parse requirement: values[0][a]: Invalid value: "-bad": ' + VALUE_RULE,
            id="bad value",
        ),
        pytest.param(
            "x>abc",
            'unable to parse requirement: values[0]: Invalid value: "abc": '
            "for 'Gt', 'Lt' operators, the value must be an integer",
            id="greater than a word",
        ),
    ],
)
def test_label_selector_errors(text: str, message: str) -> None:
    """Bad selectors raise SelectorError with Kubernetes' message naming the bad part."""
    with pytest.raises(SelectorError) as raised:
        parse_label_selector(text)
    assert str(raised.value) == message


def test_selector_error_is_a_value_error() -> None:
    """SelectorError is a ValueError, so callers can treat it as bad input."""
    assert issubclass(SelectorError, ValueError)


# ----------------------------------------------------------------------------- label matching

LABELS = {"app": "web", "tier": "front", "version": "3", "empty": ""}


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        pytest.param("", LABELS, True, id="empty selects all"),
        pytest.param("", {}, True, id="empty selects unlabelled objects"),
        pytest.param("app=web", LABELS, True, id="equal value"),
        pytest.param("app==web", LABELS, True, id="double equals"),
        pytest.param("app=api", LABELS, False, id="different value"),
        pytest.param("owner=me", LABELS, False, id="missing key fails equals"),
        pytest.param("app!=api", LABELS, True, id="not equal"),
        pytest.param("app!=web", LABELS, False, id="not equal fails on the value"),
        pytest.param("owner!=me", LABELS, True, id="missing key passes not equals"),
        pytest.param("tier in (front,back)", LABELS, True, id="in"),
        pytest.param("tier in (back)", LABELS, False, id="not in the set"),
        pytest.param("owner in (me)", LABELS, False, id="missing key fails in"),
        pytest.param("tier notin (back)", LABELS, True, id="notin"),
        pytest.param("tier notin (front)", LABELS, False, id="notin fails on a member"),
        pytest.param("owner notin (me)", LABELS, True, id="missing key passes notin"),
        pytest.param("app", LABELS, True, id="exists"),
        pytest.param("owner", LABELS, False, id="exists fails when missing"),
        pytest.param("!owner", LABELS, True, id="does not exist"),
        pytest.param("!app", LABELS, False, id="does not exist fails when present"),
        pytest.param("empty=", LABELS, True, id="empty value equals empty"),
        pytest.param("empty", LABELS, True, id="empty value still exists"),
        pytest.param("empty in ()", LABELS, True, id="empty set matches empty value"),
        pytest.param("version>2", LABELS, True, id="greater than"),
        pytest.param("version>3", LABELS, False, id="not greater than itself"),
        pytest.param("version<4", LABELS, True, id="less than"),
        pytest.param("app>1", LABELS, False, id="greater than a non-number fails"),
        pytest.param("owner<1", LABELS, False, id="less than a missing key fails"),
        pytest.param("app=web,tier=front", LABELS, True, id="all requirements hold"),
        pytest.param("app=web,tier=back", LABELS, False, id="one requirement fails"),
    ],
)
def test_label_selector_matches(text: str, labels: dict[str, str], expected: bool) -> None:
    """A selector matches when every requirement holds for the labels."""
    assert parse_label_selector(text).matches(labels) is expected


def test_nothing_selects_nothing() -> None:
    """LabelSelector.nothing() matches no labels at all; everything() matches all."""
    assert not LabelSelector.nothing().matches({})
    assert not LabelSelector.nothing().matches(LABELS)
    assert LabelSelector.everything().matches(LABELS)
    assert LabelSelector.everything().is_empty() and not LabelSelector.nothing().is_empty()
    assert parse_label_selector("a").matches(None) is False


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        pytest.param("app=web", "app", "web", id="equals"),
        pytest.param("app==web", "app", "web", id="double equals"),
        pytest.param("app in (web)", "app", "web", id="in with one value"),
        pytest.param("app in (api,web)", "app", None, id="in with two values"),
        pytest.param("app!=web", "app", None, id="not equals"),
        pytest.param("tier=front", "app", None, id="other key"),
    ],
)
def test_requires_exact_match(text: str, key: str, expected: str | None) -> None:
    """requires_exact_match() names the single value a key must have, if any."""
    assert parse_label_selector(text).requires_exact_match(key) == expected


# ---------------------------------------------------------------------- LabelSelector objects


@pytest.mark.parametrize(
    ("selector", "text"),
    [
        pytest.param({"matchLabels": {"app": "web"}}, "app=web", id="match labels"),
        pytest.param(
            {"matchLabels": {"tier": "a", "app": "web"}}, "app=web,tier=a", id="sorted by key"
        ),
        pytest.param(
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}],
            },
            "app=web,tier in (a,b)",
            id="labels and an In expression",
        ),
        pytest.param(
            {
                "matchExpressions": [
                    {"key": "t", "operator": "DoesNotExist"},
                    {"key": "a", "operator": "NotIn", "values": ["x"]},
                    {"key": "m", "operator": "Exists"},
                ]
            },
            "a notin (x),m,!t",
            id="NotIn, Exists and DoesNotExist",
        ),
        pytest.param({}, "", id="empty dict"),
        pytest.param({"matchLabels": {}, "matchExpressions": []}, "", id="empty parts"),
    ],
)
def test_label_selector_from_dict(selector: dict, text: str) -> None:
    """API LabelSelectors turn into the same requirements as their text form."""
    parsed = label_selector_from_dict(selector)
    assert str(parsed) == text
    assert parsed == parse_label_selector(text)


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        pytest.param(
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": []}]},
            "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set "
            "can't be empty",
            id="In without values",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "tier", "operator": "Exists", "values": ["a"]}]},
            'values: Invalid value: []string{"a"}: values set must be empty for exists and does '
            "not exist",
            id="Exists with values",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "tier", "operator": "Foo"}]},
            '"Foo" is not a valid label selector operator',
            id="unknown operator",
        ),
        pytest.param(
            {"matchLabels": {"app": "-web"}},
            'values[0][app]: Invalid value: "-web": ' + VALUE_RULE,
            id="bad label value",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "bad key", "operator": "In", "values": ["-x"]}]},
            '[key: Invalid value: "bad key": name part '
            + NAME_RULE
            + ', values[0][bad key]: Invalid value: "-x": '
            + VALUE_RULE
            + "]",
            id="several problems are aggregated",
        ),
    ],
)
def test_label_selector_dict_errors(selector: dict, message: str) -> None:
    """Invalid LabelSelector objects raise SelectorError with Kubernetes' message."""
    with pytest.raises(SelectorError) as raised:
        label_selector_from_dict(selector)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        pytest.param(None, LABELS, False, id="None selects nothing"),
        pytest.param({}, LABELS, True, id="empty selects everything"),
        pytest.param({}, {}, True, id="empty selects unlabelled objects"),
        pytest.param({"matchLabels": {"app": "web"}}, LABELS, True, id="label matches"),
        pytest.param({"matchLabels": {"app": "api"}}, LABELS, False, id="label differs"),
        pytest.param(
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]},
            LABELS,
            True,
            id="expression matches",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "tier", "operator": "Bogus"}]},
            LABELS,
            False,
            id="invalid selector selects nothing",
        ),
    ],
)
def test_matches_selector_dict(selector: dict | None, labels: dict, expected: bool) -> None:
    """matches_selector_dict: {} selects everything, None and invalid selectors nothing."""
    assert matches_selector_dict(selector, labels) is expected


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param({"matchLabels": {"app": "web"}}, "app=web", id="simple"),
        pytest.param(
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}],
            },
            "app=web,tier in (a,b)",
            id="what kubectl shows",
        ),
        pytest.param({}, "<none>", id="empty"),
        pytest.param(None, "<none>", id="None"),
        pytest.param({"matchExpressions": [{"key": "x", "operator": "Nope"}]}, "<error>", id="bad"),
    ],
)
def test_selector_to_string(selector: dict | None, expected: str) -> None:
    """selector_to_string prints a LabelSelector the way kubectl does."""
    assert selector_to_string(selector) == expected


@pytest.mark.parametrize(
    ("key", "operator", "values", "message"),
    [
        pytest.param(
            "x",
            GREATER_THAN,
            ["1", "2"],
            "values: Invalid value: []string{\"1\", \"2\"}: for 'Gt', 'Lt' operators, exactly "
            "one value is required",
            id="gt with two values",
        ),
        pytest.param(
            "x",
            EQUALS,
            [],
            "values: Invalid value: []string{}: exact-match compatibility requires one single "
            "value",
            id="equals without a value",
        ),
        pytest.param(
            "x",
            "approx",
            ["1"],
            'operator: Unsupported value: "approx": supported values: "in", "notin", "=", "==", '
            '"!=", "gt", "lt", "exists", "!"',
            id="unknown operator",
        ),
    ],
)
def test_make_requirement_errors(key: str, operator: str, values: list[str], message: str) -> None:
    """make_requirement validates like labels.NewRequirement."""
    with pytest.raises(SelectorError) as raised:
        make_requirement(key, operator, values)
    assert str(raised.value) == message


def test_requirement_is_a_plain_dataclass() -> None:
    """Requirements compare by key, operator and values, and print canonically."""
    requirement = make_requirement("tier", IN, ["b", "a"])
    assert requirement == Requirement("tier", IN, ("a", "b"))
    assert str(requirement) == "tier in (a,b)"


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        pytest.param("app", True, id="simple key"),
        pytest.param("kubernetes.io/hostname", True, id="prefixed key"),
        pytest.param("node-role.kubernetes.io/control-plane", True, id="role key"),
        pytest.param("My_Name.1", True, id="mixed case name"),
        pytest.param("a b", False, id="space"),
        pytest.param("-a", False, id="leading dash"),
        pytest.param("a/b/c", False, id="two slashes"),
        pytest.param("UPPER.com/a", False, id="upper case prefix"),
    ],
)
def test_label_key_errors(value: str, valid: bool) -> None:
    """label_key_errors is empty exactly for valid label keys."""
    assert (label_key_errors(value) == []) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        pytest.param("", True, id="empty"),
        pytest.param("web", True, id="word"),
        pytest.param("v1.2_3-a", True, id="punctuation inside"),
        pytest.param("-web", False, id="leading dash"),
        pytest.param("web.", False, id="trailing dot"),
        pytest.param("a" * 64, False, id="too long"),
        pytest.param("a b", False, id="space"),
    ],
)
def test_label_value_errors(value: str, valid: bool) -> None:
    """label_value_errors is empty exactly for valid label values."""
    assert (label_value_errors(value) == []) is valid


# ------------------------------------------------------------------------------ field selectors


@pytest.mark.parametrize(
    ("text", "expected", "canonical"),
    [
        pytest.param("", [], "", id="empty"),
        pytest.param(
            "metadata.name=web", [("metadata.name", "=", "web")], "metadata.name=web", id="equals"
        ),
        pytest.param(
            "spec.nodeName==n1",
            [("spec.nodeName", "=", "n1")],
            "spec.nodeName=n1",
            id="double equals becomes equals",
        ),
        pytest.param(
            "status.phase!=Succeeded,status.phase!=Failed",
            [("status.phase", "!=", "Failed"), ("status.phase", "!=", "Succeeded")],
            "status.phase!=Failed,status.phase!=Succeeded",
            id="not equals, terms sorted",
        ),
        pytest.param(
            "spec.nodeName=node-1,status.phase!=Succeeded,status.phase!=Failed",
            [
                ("spec.nodeName", "=", "node-1"),
                ("status.phase", "!=", "Failed"),
                ("status.phase", "!=", "Succeeded"),
            ],
            "spec.nodeName=node-1,status.phase!=Failed,status.phase!=Succeeded",
            id="kubectl describe node",
        ),
        pytest.param(
            "involvedObject.name=web-1,involvedObject.namespace=",
            [("involvedObject.name", "=", "web-1"), ("involvedObject.namespace", "=", "")],
            "involvedObject.name=web-1,involvedObject.namespace=",
            id="empty value",
        ),
        pytest.param(
            r"a=x\,y,b=z", [("a", "=", "x,y"), ("b", "=", "z")], r"a=x\,y,b=z", id="escaped comma"
        ),
        pytest.param(r"a=x\=y", [("a", "=", "x=y")], r"a=x\=y", id="escaped equals"),
        pytest.param(r"a=x\\", [("a", "=", "x\\")], r"a=x\\", id="escaped backslash"),
        pytest.param(
            "a=b,,c=d", [("a", "=", "b"), ("c", "=", "d")], "a=b,c=d", id="empty terms skipped"
        ),
        pytest.param("=", [], "", id="empty field and value select everything"),
        pytest.param(
            "a = b", [("a ", "=", " b")], "a = b", id="whitespace is part of field and value"
        ),
    ],
)
def test_parse_field_selector(
    text: str, expected: list[tuple[str, str, str]], canonical: str
) -> None:
    """Field selectors parse into sorted, unescaped (field, op, value) requirements."""
    requirements = parse_field_selector(text)
    assert [(r.field, r.op, r.value) for r in requirements] == expected
    assert field_selector_to_string(requirements) == canonical
    assert parse_field_selector(canonical) == requirements


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "novalue", "invalid selector: 'novalue'; can't understand 'novalue'", id="no operator"
        ),
        pytest.param(
            "a=b,oops", "invalid selector: 'a=b,oops'; can't understand 'oops'", id="one bad term"
        ),
        pytest.param(
            "a=x=y", "invalid field selector: unescaped character in value: 61", id="bare equals"
        ),
        pytest.param(
            r"a=x\y", "invalid field selector: invalid escape sequence: \\y", id="bad escape"
        ),
        pytest.param(
            "a=x\\", "invalid field selector: invalid escape sequence: \\", id="dangling backslash"
        ),
    ],
)
def test_field_selector_errors(text: str, message: str) -> None:
    """Bad field selectors raise SelectorError with Kubernetes' message."""
    with pytest.raises(SelectorError) as raised:
        parse_field_selector(text)
    assert str(raised.value) == message


POD_FIELDS = {"metadata.name": "web-1", "spec.nodeName": "worker-1", "status.phase": "Running"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", True, id="empty selects all"),
        pytest.param("metadata.name=web-1", True, id="equal"),
        pytest.param("metadata.name=web-2", False, id="different"),
        pytest.param("status.phase!=Succeeded,status.phase!=Failed", True, id="not finished"),
        pytest.param("status.phase!=Running", False, id="not equal fails"),
        pytest.param("spec.nodeName=", False, id="scheduled pod has a node"),
        pytest.param("metadata.namespace=", True, id="missing field counts as empty"),
        pytest.param("metadata.namespace!=default", True, id="missing field is not default"),
    ],
)
def test_field_selector_matches(text: str, expected: bool) -> None:
    """Every field requirement must hold; missing fields read as the empty string."""
    assert field_selector_matches(parse_field_selector(text), POD_FIELDS) is expected


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        pytest.param("plain", "plain", id="nothing to escape"),
        pytest.param("a,b", r"a\,b", id="comma"),
        pytest.param("a=b", r"a\=b", id="equals"),
        pytest.param("a\\b", r"a\\b", id="backslash"),
        pytest.param("x=1,y\\", r"x\=1\,y\\", id="all three"),
    ],
)
def test_field_value_escaping_round_trips(raw: str, escaped: str) -> None:
    """escape_field_value and unescape_field_value are inverses."""
    assert escape_field_value(raw) == escaped
    assert unescape_field_value(escaped) == raw
    assert str(FieldRequirement("f", "=", raw)) == "f=" + escaped
