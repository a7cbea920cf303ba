"""Kubernetes resource quantities: parsing, canonical form, rounding and arithmetic.

Expected values come from the rules of k8s.io/apimachinery/pkg/api/resource (ParseQuantity,
CanonicalizeBytes, Value, MilliValue) and the cases of its own test tables.
"""

from __future__ import annotations

import copy
import pickle
from fractions import Fraction

import pytest

from cluster.quantity import (
    ERR_FORMAT_WRONG,
    ERR_NUMERIC,
    ERR_SUFFIX,
    Format,
    Quantity,
    QuantityError,
    cpu_millis,
    format_bytes,
    format_cpu_millis,
    memory_bytes,
)

REGEX_MESSAGE = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1000m", "1", id="1000m is one whole unit"),
        pytest.param("1.5", "1500m", id="a fraction becomes milli"),
        pytest.param("1536Mi", "1536Mi", id="1536Mi is not a whole Gi"),
        pytest.param("1Gi", "1Gi", id="1Gi stays"),
        pytest.param("1024Mi", "1Gi", id="1024Mi is 1Gi"),
        pytest.param("129e6", "129e6", id="decimal exponent keeps its family"),
        pytest.param("128974848", "128974848", id="plain bytes stay plain"),
        pytest.param("0.5Gi", "512Mi", id="half a Gi is 512Mi"),
        pytest.param("1.5Gi", "1536Mi", id="one and a half Gi is 1536Mi"),
        pytest.param("1000M", "1G", id="1000M is 1G"),
        pytest.param("300000000", "300M", id="trailing zeros move into the suffix"),
        pytest.param("0.1", "100m", id="a tenth is 100m"),
        pytest.param("1.08", "1080m", id="exponent is lowered to a multiple of three"),
        pytest.param("1.2345", "1234500u", id="four decimals need micro"),
        pytest.param("0", "0", id="zero"),
        pytest.param("0Mi", "0", id="zero with a binary suffix"),
        pytest.param("-0", "0", id="negative zero prints as zero"),
        pytest.param("2048Ki", "2Mi", id="2048Ki is 2Mi"),
        pytest.param("1025Ki", "1025Ki", id="1025Ki cannot go higher"),
        pytest.param("0.5Ki", "512", id="binary below 1024 prints in decimal"),
        pytest.param(".001Ki", "1024m", id="a thousandth of a Ki is 1.024"),
        pytest.param(".000001Ki", "1024u", id="a millionth of a Ki is 1024u"),
        pytest.param(".000000000001Ki", "2n", id="below a nano rounds up to 2n"),
        pytest.param("100.035Ki", "102435840m", id="fractional binary that is not whole"),
        pytest.param("1.5e3", "1500", id="decimal exponent with exponent zero has no suffix"),
        pytest.param("80e-3", "80e-3", id="negative decimal exponent"),
        pytest.param("0.5e-9", "1e-9", id="half a nano rounds up"),
        pytest.param("3.001n", "4n", id="nanos round away from zero"),
        pytest.param("1.1E-9", "2e-9", id="capital E exponent prints as lower case"),
        pytest.param("9Ei", "9223372036854775807", id="binary quantities are capped at int64 max"),
        pytest.param("1000000000000000000", "1E", id="10^18 is 1E"),
        pytest.param("1000E", "1e21", id="beyond E falls back to an exponent"),
        pytest.param("1.01E", "1010P", id="fractional exa becomes peta"),
        pytest.param("999999999999999999.1", "999999999999999999100m", id="beyond int64"),
        pytest.param("-1.5Gi", "-1536Mi", id="negative binary"),
        pytest.param("-1.5", "-1500m", id="negative decimal"),
        pytest.param("Ki", "0", id="a bare suffix parses as zero"),
        pytest.param(".", "0", id="a bare point parses as zero"),
    ],
)
def test_canonical_form(text: str, expected: str) -> None:
    """Quantities print in the canonical form of their suffix family."""
    assert str(Quantity(text)) == expected


@pytest.mark.parametrize(
    ("text", "printed", "canonical"),
    [
        pytest.param("+1", "+1", "1", id="explicit plus is kept"),
        pytest.param("01", "01", "1", id="leading zero is kept"),
        pytest.param("1.500", "1.500", "1500m", id="trailing fraction zeros are kept"),
        pytest.param("1.234k", "1.234k", "1234", id="fraction that lands on a unit is kept"),
        pytest.param("1E3", "1E3", "1e3", id="capital exponent is kept"),
        pytest.param("1e+3", "1e+3", "1e3", id="plus in the exponent is kept"),
        pytest.param("1.", "1.", "1", id="a trailing point is kept"),
        pytest.param("3Mi", "3Mi", "3Mi", id="odd binary mantissa is kept"),
        pytest.param("1000m", "1", "1", id="three trailing zeros are not kept"),
        pytest.param("0.5", "500m", "500m", id="a leading zero digit is not kept"),
        pytest.param("1024Mi", "1Gi", "1Gi", id="a multiple of eight binary is not kept"),
        pytest.param("1.5", "1500m", "1500m", id="an exponent not a multiple of three"),
    ],
)
def test_parser_keeps_canonical_looking_text(text: str, printed: str, canonical: str) -> None:
    """str() keeps the input where Kubernetes' fast path does; canonical() never does."""
    quantity = Quantity(text)
    assert (str(quantity), quantity.canonical()) == (printed, canonical)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("lots", ERR_FORMAT_WRONG, id="a word"),
        pytest.param("", ERR_FORMAT_WRONG, id="empty"),
        pytest.param("1.2.3", ERR_FORMAT_WRONG, id="two points"),
        pytest.param("5Qi", ERR_FORMAT_WRONG, id="unknown suffix letter"),
        pytest.param(" 1", ERR_FORMAT_WRONG, id="leading space"),
        pytest.param("1 ", ERR_FORMAT_WRONG, id="trailing space"),
        pytest.param("1+1.0M", ERR_FORMAT_WRONG, id="sign in the middle"),
        pytest.param("0.1am", ERR_FORMAT_WRONG, id="letter outside the suffix set"),
        pytest.param("1K", ERR_SUFFIX, id="capital K is not kilo"),
        pytest.param("5mi", ERR_SUFFIX, id="milli-binary does not exist"),
        pytest.param(".5i", ERR_SUFFIX, id="a bare i"),
        pytest.param("1e", ERR_SUFFIX, id="exponent without digits"),
        pytest.param("-3.01e-", ERR_SUFFIX, id="exponent with only a sign"),
        pytest.param("Ei", ERR_NUMERIC, id="a bare large binary suffix has no number"),
    ],
)
def test_malformed_quantities_are_rejected(text: str, message: str) -> None:
    """Malformed text raises QuantityError with Kubernetes' exact message."""
    with pytest.raises(QuantityError) as raised:
        Quantity.parse(text)
    assert str(raised.value) == message


def test_regular_expression_message_is_verbatim() -> None:
    """The format error quotes Kubernetes' regular expression character for character."""
    assert ERR_FORMAT_WRONG == REGEX_MESSAGE
    assert issubclass(QuantityError, ValueError)


@pytest.mark.parametrize(
    ("text", "milli", "whole"),
    [
        pytest.param("0.1m", 1, 1, id="a tenth of a milli rounds up to one milli"),
        pytest.param("250m", 250, 1, id="a quarter core"),
        pytest.param("1.5", 1500, 2, id="one and a half"),
        pytest.param("2", 2000, 2, id="two"),
        pytest.param("1Gi", 1073741824000, 1073741824, id="a gibibyte"),
        pytest.param("1n", 1, 1, id="one nano"),
        pytest.param("0", 0, 0, id="zero"),
        pytest.param("-1.5", -1500, -2, id="negative rounds away from zero"),
        pytest.param("-0.1m", -1, -1, id="small negative rounds away from zero"),
    ],
)
def test_milli_value_and_value_round_up(text: str, milli: int, whole: int) -> None:
    """milli_value() and value() round away from zero like MilliValue() and Value()."""
    quantity = Quantity(text)
    assert (quantity.milli_value(), quantity.value()) == (milli, whole)


@pytest.mark.parametrize(
    ("text", "fraction", "fmt"),
    [
        pytest.param("1.5Ki", Fraction(1536), Format.BINARY_SI, id="binary"),
        pytest.param("250m", Fraction(1, 4), Format.DECIMAL_SI, id="decimal SI"),
        pytest.param("12e-1", Fraction(6, 5), Format.DECIMAL_EXPONENT, id="decimal exponent"),
        pytest.param("0.5Ki", Fraction(512), Format.BINARY_SI, id="binary at or above one"),
        pytest.param(".000000000001Ki", Fraction(2, 10**9), Format.DECIMAL_SI, id="tiny binary"),
    ],
)
def test_exact_value_and_format(text: str, fraction: Fraction, fmt: Format) -> None:
    """The value is exact and the suffix family is remembered."""
    quantity = Quantity(text)
    assert (quantity.as_fraction(), quantity.format) == (fraction, fmt)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param("1", "1000m", id="one and 1000m"),
        pytest.param("1Ki", "1024", id="1Ki and 1024"),
        pytest.param("1e3", "1k", id="exponent and SI"),
        pytest.param("0.5Gi", "512Mi", id="half a Gi and 512Mi"),
        pytest.param("+1", "1", id="explicit plus"),
        pytest.param("0", "-0", id="zeros"),
    ],
)
def test_equal_values_compare_equal_and_hash_alike(left: str, right: str) -> None:
    """Quantities are equal by value, whatever their text or format."""
    assert Quantity(left) == Quantity(right)
    assert hash(Quantity(left)) == hash(Quantity(right))
    assert len({Quantity(left), Quantity(right)}) == 1


@pytest.mark.parametrize(
    ("smaller", "larger"),
    [
        pytest.param("1k", "1Ki", id="kilo is less than kibi"),
        pytest.param("999m", "1", id="999m is less than one"),
        pytest.param("-1", "0", id="negative is less than zero"),
        pytest.param("1n", "1u", id="nano is less than micro"),
        pytest.param("128974848", "129e6", id="bytes against exponent"),
    ],
)
def test_quantities_are_totally_ordered(smaller: str, larger: str) -> None:
    """Ordering follows the value."""
    low, high = Quantity(smaller), Quantity(larger)
    assert low < high and low <= high and high > low and high >= low and low != high
    assert sorted([high, low]) == [low, high]


@pytest.mark.parametrize(
    ("left", "op", "right", "expected"),
    [
        pytest.param("1", "+", "500m", "1500m", id="add milli to a whole"),
        pytest.param("1Gi", "-", "512Mi", "512Mi", id="subtract keeps binary"),
        pytest.param("0", "+", "1Gi", "1Gi", id="adding to zero takes the right format"),
        pytest.param("0", "-", "1Gi", "-1Gi", id="subtracting from zero takes the right format"),
        pytest.param("1Gi", "+", "1", "1073741825", id="binary that is not whole Ki"),
        pytest.param("1.500", "+", "0", "1500m", id="results are canonical"),
        pytest.param("100m", "-", "250m", "-150m", id="negative result"),
    ],
)
def test_addition_and_subtraction(left: str, op: str, right: str, expected: str) -> None:
    """+ and - are exact; the left format wins unless the left side is zero."""
    a, b = Quantity(left), Quantity(right)
    result = a + b if op == "+" else a - b
    assert str(result) == expected


def test_sum_and_negation() -> None:
    """sum() works from its default start, and negation keeps the format."""
    total = sum([Quantity("100m"), Quantity("250m"), Quantity("1")])
    assert str(total) == "1350m"
    assert str(-Quantity("1Gi")) == "-1Gi"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(2, "2", id="int"),
        pytest.param(-3, "-3", id="negative int"),
        pytest.param(1.5, "1500m", id="float"),
        pytest.param(0.1, "100m", id="float tenth"),
        pytest.param(3.0, "3", id="whole float"),
        pytest.param(1e-7, "100e-9", id="small float in exponent form"),
        pytest.param(1e21, "1e+21", id="large float in Go's exponent form"),
        pytest.param(Quantity("1Gi"), "1Gi", id="a quantity"),
    ],
)
def test_numbers_parse_like_json_numbers(value: object, expected: str) -> None:
    """Numbers parse as the JSON literal Go would write for them."""
    assert str(Quantity.parse(value)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(True, id="bool"),
        pytest.param(None, id="None"),
        pytest.param(float("nan"), id="NaN"),
        pytest.param(["1"], id="list"),
    ],
)
def test_non_quantity_values_are_rejected(value: object) -> None:
    """Booleans, None, NaN and containers are not quantities."""
    with pytest.raises(QuantityError):
        Quantity.parse(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, "0", id="null is zero"),
        pytest.param(" 1Gi ", "1Gi", id="whitespace is trimmed"),
        pytest.param(0.5, "500m", id="a number"),
    ],
)
def test_from_json_decodes_like_unmarshal_json(value: object, expected: str) -> None:
    """from_json() trims strings and reads null as zero, like UnmarshalJSON."""
    assert str(Quantity.from_json(value)) == expected


def test_quantity_is_immutable_and_survives_copies() -> None:
    """Quantities cannot be changed, and pickling keeps value, format and text."""
    quantity = Quantity("1.500")
    with pytest.raises(AttributeError):
        quantity._nanos = 5  # type: ignore[misc]
    restored = pickle.loads(pickle.dumps(quantity))
    assert (restored, str(restored), restored.format) == (quantity, "1.500", Format.DECIMAL_SI)
    assert copy.deepcopy(quantity) is quantity
    assert repr(quantity) == "Quantity('1.500')"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, 0, id="None is zero"),
        pytest.param(2, 2000, id="int cores"),
        pytest.param("500m", 500, id="millicores"),
        pytest.param("1.5", 1500, id="fractional cores"),
        pytest.param("0.1m", 1, id="rounds up"),
        pytest.param(0.25, 250, id="float cores"),
    ],
)
def test_cpu_millis(value: object, expected: int) -> None:
    """cpu_millis() gives millicores for the store's indexed columns."""
    assert cpu_millis(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, 0, id="None is zero"),
        pytest.param("1Gi", 1073741824, id="gibibyte"),
        pytest.param(1024, 1024, id="int bytes"),
        pytest.param("1.5k", 1500, id="decimal kilo"),
        pytest.param("100m", 1, id="fractions of a byte round up"),
        pytest.param("129e6", 129000000, id="exponent"),
    ],
)
def test_memory_bytes(value: object, expected: int) -> None:
    """memory_bytes() gives whole bytes for the store's indexed columns."""
    assert memory_bytes(value) == expected  # type: ignore[arg-type]


def test_helpers_reject_malformed_text() -> None:
    """The column helpers raise QuantityError for text that is not a quantity."""
    with pytest.raises(QuantityError):
        cpu_millis("lots")
    with pytest.raises(QuantityError):
        memory_bytes("1K")


@pytest.mark.parametrize(
    ("millis", "expected"),
    [
        pytest.param(500, "500m", id="half a core"),
        pytest.param(2000, "2", id="two cores"),
        pytest.param(1500, "1500m", id="one and a half cores"),
        pytest.param(0, "0", id="nothing"),
        pytest.param(100, "100m", id="a tenth"),
    ],
)
def test_format_cpu_millis(millis: int, expected: str) -> None:
    """Millicores print as Kubernetes prints CPU quantities."""
    assert format_cpu_millis(millis) == expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        pytest.param(2**30, "1Gi", id="one gibibyte"),
        pytest.param(512 * 2**20, "512Mi", id="512 mebibytes"),
        pytest.param(1536 * 2**20, "1536Mi", id="one and a half gibibytes"),
        pytest.param(3 * 1024, "3Ki", id="three kibibytes"),
        pytest.param(1000, "1000", id="a decimal thousand stays plain"),
        pytest.param(1536, "1536", id="not a whole KiB"),
        pytest.param(123456789, "123456789", id="odd byte count"),
        pytest.param(0, "0", id="zero"),
    ],
)
def test_format_bytes(count: int, expected: str) -> None:
    """Byte counts use the largest exact binary suffix, else plain digits."""
    assert format_bytes(count) == expected
