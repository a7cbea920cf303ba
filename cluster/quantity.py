"""Kubernetes resource quantities (``k8s.io/apimachinery/pkg/api/resource``), exact to the nano.

A quantity is a number with a suffix: binary SI (``Ki Mi Gi Ti Pi Ei``, powers of 1024), decimal
SI (``n u m "" k M G T P E``, powers of 1000) or a decimal exponent (``e3``, ``E-6``). Kubernetes
keeps the value exactly (never as a float), rounded away from zero to a whole number of nano
units, and remembers which of the three suffix families the text used so that it can print the
value back in the same family. This module does the same with Python integers: a
:class:`Quantity` holds its value as a count of nano units.

>>> Quantity("1") == Quantity("1000m")
True
>>> str(Quantity("1.5")), str(Quantity("0.5Gi")), str(Quantity("1024Mi"))
('1500m', '512Mi', '1Gi')
>>> Quantity("250m").milli_value(), Quantity("1Gi").value()
(250, 1073741824)

Canonical form (``CanonicalizeBytes``) is: no fractional digits, and the largest suffix of the
family that keeps the value exact. Worked example for ``1.5Gi``: 1.5 * 2^30 = 1610612736 bytes;
1610612736 / 1024 = 1572864 (Ki), / 1024 = 1536 (Mi), and 1536 / 1024 is not whole, so
``"1536Mi"``. Decimal example for ``1.5``: 1.5 = 15 * 10^-1; the exponent is lowered to a
multiple of three, 1500 * 10^-3, so ``"1500m"``.

Like Kubernetes' ``Quantity.String()``, ``str()`` gives back the original text when the parser
took its fast path and judged the text canonical already; see :meth:`Quantity.canonical` for the
pure canonical form. That is why the API server echoes ``"+1"`` or ``"1.500"`` unchanged.
"""

from __future__ import annotations

import enum
import math
import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

__all__ = [
    "Format",
    "Quantity",
    "QuantityError",
    "cpu_millis",
    "format_bytes",
    "format_cpu_millis",
    "memory_bytes",
]

# The three error texts of apimachinery's ParseQuantity, verbatim.
ERR_FORMAT_WRONG = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"

NANO = 10**9  # nano units per unit
_MAX_BINARY = 2**63 - 1  # ParseQuantity silently caps binary SI quantities here ("9Ei")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# Kubarium's own limits: Kubernetes has none, but Python's int/str conversions (4300 digits) and
# 10**exponent must stay cheap. Nobody writes a resource with a thousand digits.
_MAX_DIGITS = 1000
_MAX_EXPONENT = 1000


class QuantityError(ValueError):
    """A text that is not a Kubernetes quantity; the message is the one Kubernetes gives."""


class Format(enum.StrEnum):
    """The suffix family a quantity prints in (Kubernetes' ``resource.Format``)."""

    DECIMAL_EXPONENT = "DecimalExponent"  # 12e6
    BINARY_SI = "BinarySI"  # 12Mi
    DECIMAL_SI = "DecimalSI"  # 12M


# suffix -> (base, exponent, format)
_SUFFIXES: dict[str, tuple[int, int, Format]] = {
    "": (10, 0, Format.DECIMAL_SI),
    "n": (10, -9, Format.DECIMAL_SI),
    "u": (10, -6, Format.DECIMAL_SI),
    "m": (10, -3, Format.DECIMAL_SI),
    "k": (10, 3, Format.DECIMAL_SI),
    "M": (10, 6, Format.DECIMAL_SI),
    "G": (10, 9, Format.DECIMAL_SI),
    "T": (10, 12, Format.DECIMAL_SI),
    "P": (10, 15, Format.DECIMAL_SI),
    "E": (10, 18, Format.DECIMAL_SI),
    "Ki": (2, 10, Format.BINARY_SI),
    "Mi": (2, 20, Format.BINARY_SI),
    "Gi": (2, 30, Format.BINARY_SI),
    "Ti": (2, 40, Format.BINARY_SI),
    "Pi": (2, 50, Format.BINARY_SI),
    "Ei": (2, 60, Format.BINARY_SI),
}
_DECIMAL_SUFFIX_BY_EXPONENT = {
    exponent: suffix
    for suffix, (base, exponent, _fmt) in _SUFFIXES.items()
    if base == 10 and exponent % 3 == 0
}
_BINARY_SUFFIX_BY_POWER = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]  # index = power of 1024

# The shape ParseQuantity's scanner accepts: sign, leading zeros, whole digits, optional fraction,
# then suffix letters, an optional sign and digits. Possessive quantifiers make the match as
# greedy as the hand-written Go scanner (no backtracking into another split).
_SHAPE = re.compile(
    r"(?P<sign>[+-]?+)(?P<zeros>0*+)(?P<whole>[0-9]*+)(?:\.(?P<frac>[0-9]*+))?+"
    r"(?P<suffix>[eEinumkKMGTP]*+[-+]?+[0-9]*+)"
)
_INT64_TEXT = re.compile(r"[+-]?[0-9]+")


def _interpret_suffix(suffix: str) -> tuple[int, int, Format]:
    """``"Mi"`` -> (2, 20, BinarySI); ``"e-3"`` -> (10, -3, DecimalExponent)."""
    known = _SUFFIXES.get(suffix)
    if known is not None:
        return known
    if len(suffix) > 1 and suffix[0] in "eE" and _INT64_TEXT.fullmatch(suffix[1:]):
        exponent = int(suffix[1:])
        if _INT64_MIN <= exponent <= _INT64_MAX:
            # Go keeps the exponent in an int32 and wraps silently; so do we.
            exponent = (exponent + 2**31) % 2**32 - 2**31
            return 10, exponent, Format.DECIMAL_EXPONENT
    raise QuantityError(ERR_SUFFIX)


def _round_away(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded away from zero: 7/2 -> 4, -7/2 -> -4, 6/2 -> 3."""
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder:
        quotient += 1
    return -quotient if numerator < 0 else quotient


def _float_text(value: float) -> str:
    """The text Go's encoding/json writes for a float64 (what a YAML/JSON number arrives as).

    Shortest round-trip digits, positional between 1e-6 and 1e21, scientific outside:
    1.5 -> "1.5", 3.0 -> "3", 1e21 -> "1e+21", 1.5e-7 -> "1.5e-7".
    """
    if not math.isfinite(value):
        raise QuantityError(ERR_FORMAT_WRONG)
    number = Decimal(repr(value))
    if value == 0:
        return "0"
    if 1e-6 <= abs(value) < 1e21:
        return format(number.normalize(), "f")
    return format(number.normalize(), "e").replace("E", "e")


def _decimal_canonical(magnitude_nanos: int, fmt: Format) -> str:
    """Mantissa and suffix for a decimal format, e.g. 1500000000 nanos -> "1500m".

    Strip factors of ten into the exponent, then lower the exponent to a multiple of three:
    1.08 = 108e-2 -> 1080e-3 -> "1080m"; 3000 = 3e3 -> "3k" (DecimalSI) or "3e3" (exponent).
    """
    digits = str(magnitude_nanos)
    mantissa_digits = digits.rstrip("0")
    exponent = -9 + (len(digits) - len(mantissa_digits))
    lowered = exponent % 3  # Python's % is non-negative: -1 % 3 == 2
    mantissa = mantissa_digits + "0" * lowered
    exponent -= lowered
    if fmt is Format.DECIMAL_SI and exponent in _DECIMAL_SUFFIX_BY_EXPONENT:
        return mantissa + _DECIMAL_SUFFIX_BY_EXPONENT[exponent]
    # DecimalExponent, or DecimalSI beyond "E" (10^18), which Kubernetes writes as "e21".
    return mantissa if exponent == 0 else f"{mantissa}e{exponent}"


def _canonical(nanos: int, fmt: Format) -> str:
    """Kubernetes' CanonicalizeBytes for a value of ``nanos`` nano units in format ``fmt``."""
    if nanos == 0:
        return "0"
    sign = "-" if nanos < 0 else ""
    magnitude = abs(nanos)
    if fmt is Format.BINARY_SI:
        # Below 1024, or not a whole number, binary SI would round: print as decimal SI.
        if magnitude < 1024 * NANO or magnitude % NANO:
            return sign + _decimal_canonical(magnitude, Format.DECIMAL_SI)
        whole, power = magnitude // NANO, 0
        # Kubernetes has no suffix past "Ei"; keep a larger mantissa rather than lose the value.
        while whole % 1024 == 0 and power < len(_BINARY_SUFFIX_BY_POWER) - 1:
            whole //= 1024
            power += 1
        return f"{sign}{whole}{_BINARY_SUFFIX_BY_POWER[power]}"
    return sign + _decimal_canonical(magnitude, fmt)


class Quantity:
    """An exact, immutable Kubernetes quantity: ``Quantity("1.5Gi")``.

    Equality, hashing and ordering go by value (``Quantity("1") == Quantity("1000m")``); the
    format only affects printing. ``+`` and ``-`` keep the left operand's format unless it is
    zero, as Kubernetes' ``Add``/``Sub`` do.
    """

    __slots__ = ("_nanos", "_format", "_text")

    _nanos: int
    _format: Format
    _text: str | None

    def __init__(self, text: str | int | float | Quantity):
        parsed = self.parse(text)
        self._init(parsed._nanos, parsed._format, parsed._text)

    def _init(self, nanos: int, fmt: Format, text: str | None) -> None:
        object.__setattr__(self, "_nanos", nanos)
        object.__setattr__(self, "_format", fmt)
        object.__setattr__(self, "_text", text)

    @classmethod
    def _make(cls, nanos: int, fmt: Format, text: str | None = None) -> Quantity:
        quantity = object.__new__(cls)
        quantity._init(nanos, fmt, text)
        return quantity

    # ----------------------------------------------------------------------------- constructors

    @classmethod
    def parse(cls, text: str | int | float | Quantity) -> Quantity:
        """Parse like ``resource.ParseQuantity``; ints and floats as JSON numbers would arrive.

        Raises :class:`QuantityError` with Kubernetes' message: ``"lots"``, ``""`` and
        ``"1.2.3"`` do not match the quantity regular expression; ``"1K"`` and ``"5mi"`` have an
        unknown suffix. Surrounding whitespace is an error too (``" 1"``), as in ParseQuantity.
        """
        if isinstance(text, Quantity):
            return text
        if isinstance(text, bool) or not isinstance(text, str | int | float):
            raise QuantityError(ERR_FORMAT_WRONG)
        if isinstance(text, int):
            text = str(text)
        elif isinstance(text, float):
            text = _float_text(text)
        return cls._parse_text(text)

    @classmethod
    def from_json(cls, value: Any) -> Quantity:
        """Decode a JSON value the way ``Quantity.UnmarshalJSON`` does.

        ``null`` (None) is zero; strings are trimmed of surrounding whitespace first.
        """
        if value is None:
            return cls._make(0, Format.DECIMAL_SI)
        if isinstance(value, str):
            value = value.strip()
        return cls.parse(value)

    @classmethod
    def from_int(cls, value: int, fmt: Format = Format.DECIMAL_SI) -> Quantity:
        """``resource.NewQuantity``: ``Quantity.from_int(2**30, Format.BINARY_SI)`` is 1Gi."""
        return cls._make(value * NANO, fmt)

    @classmethod
    def from_milli(cls, value: int, fmt: Format = Format.DECIMAL_SI) -> Quantity:
        """``resource.NewMilliQuantity``: ``Quantity.from_milli(1500)`` prints ``1500m``."""
        return cls._make(value * (NANO // 1000), fmt)

    @classmethod
    def _parse_text(cls, text: str) -> Quantity:
        if text == "":
            raise QuantityError(ERR_FORMAT_WRONG)
        if text == "0":
            return cls._make(0, Format.DECIMAL_SI, "0")
        shape = _SHAPE.fullmatch(text)
        if shape is None:
            raise QuantityError(ERR_FORMAT_WRONG)
        negative = shape["sign"] == "-"
        whole = shape["whole"] or "0"  # leading zeros stripped; "" counts as "0"
        frac = shape["frac"] or ""
        has_digits = bool(shape["zeros"] or shape["whole"] or frac)
        base, exponent, fmt = _interpret_suffix(shape["suffix"])

        fast, keeps_text = _fast_path(whole, frac, base, exponent)
        if not fast and not has_digits:
            raise QuantityError(ERR_NUMERIC)  # e.g. ".Ei": no digits for the slow decoder
        if len(whole) + len(frac) > _MAX_DIGITS:
            raise QuantityError(ERR_NUMERIC)

        digits = int(whole + frac)
        nanos = _to_nanos(digits, len(frac), base, exponent)
        if negative:
            nanos = -nanos
        if fmt is Format.BINARY_SI:
            cap = _MAX_BINARY * NANO
            nanos = max(-cap, min(cap, nanos))
            if 0 < abs(nanos) < NANO:
                fmt = Format.DECIMAL_SI  # "0.000000000001Ki" is 2n, printed in decimal
        return cls._make(nanos, fmt, text if keeps_text else None)

    # ------------------------------------------------------------------------------ accessors

    @property
    def format(self) -> Format:
        return self._format

    def as_fraction(self) -> Fraction:
        """The exact value: ``Quantity("1.5Ki").as_fraction() == Fraction(1536)``."""
        return Fraction(self._nanos, NANO)

    def nano_value(self) -> int:
        """The value in nano units, exactly (every parsed quantity is a whole number of them)."""
        return self._nanos

    def value(self) -> int:
        """``Value()``: the value rounded away from zero to a whole number: 1.2 -> 2, 1Ki -> 1024."""
        return _round_away(self._nanos, NANO)

    def milli_value(self) -> int:
        """``MilliValue()``: value * 1000 rounded away from zero: 0.1m -> 1, 1.5 -> 1500."""
        return _round_away(self._nanos, NANO // 1000)

    def sign(self) -> int:
        return (self._nanos > 0) - (self._nanos < 0)

    def is_zero(self) -> bool:
        return self._nanos == 0

    def canonical(self) -> str:
        """CanonicalizeBytes: the canonical text, ignoring the original text."""
        return _canonical(self._nanos, self._format)

    def __str__(self) -> str:
        """Kubernetes' ``String()``: the kept input text if any, else :meth:`canonical`."""
        return self._text if self._text is not None else self.canonical()

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    # ----------------------------------------------------------------------------- arithmetic

    def _combine(self, other: Quantity, nanos: int) -> Quantity:
        fmt = other._format if self._nanos == 0 else self._format
        return Quantity._make(nanos, fmt)

    def __add__(self, other: object) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._combine(other, self._nanos + other._nanos)

    def __radd__(self, other: object) -> Quantity:
        # Lets sum() start from its default 0.
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: object) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._combine(other, self._nanos - other._nanos)

    def __neg__(self) -> Quantity:
        return Quantity._make(-self._nanos, self._format)

    # ----------------------------------------------------------------------------- comparison

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos == other._nanos

    def __hash__(self) -> int:
        return hash(self._nanos)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos < other._nanos

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos <= other._nanos

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos > other._nanos

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos >= other._nanos

    # ----------------------------------------------------------------------------- immutability

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Quantity is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Quantity is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (self._nanos, str(self._format), self._text))

    def __copy__(self) -> Quantity:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Quantity:
        return self


def _restore(nanos: int, fmt: str, text: str | None) -> Quantity:
    """Unpickle a quantity (a plain function: bound classmethods pickle badly)."""
    return Quantity._make(nanos, Format(fmt), text)


def _fast_path(whole: str, frac: str, base: int, exponent: int) -> tuple[bool, bool]:
    """Whether ParseQuantity takes its int64 fast path, and whether it then keeps the text.

    Kubernetes keeps the input string as the quantity's printed form when the fast path finds it
    canonical already. Decimal: the exponent after shifting out the fraction is a multiple of 3,
    the digits do not end in "000" and do not start with 0 ("100m", "1.500", "+1" are kept;
    "1000m", "0.5" are not). Binary: the number has no fraction and is not a multiple of 8
    ("1Gi", "3Mi" kept; "1024Mi", "8Ki" not).
    """
    if base == 10:
        precision = 18 - (len(whole) + len(frac))
    elif exponent >= 0 and not frac:
        # 15 digits of int64 headroom, minus ~0.3 decimal digits per binary power.
        precision = 15 - len(whole) - (exponent * 3 // 10) - 1
    else:
        precision = -1
    if precision < 0:
        return False, False
    scale = (exponent if base == 10 else 0) - len(frac)
    if scale < -9:
        return False, False
    shifted = whole + frac
    if base == 2:
        return True, int(shifted) & 0x07 != 0
    keeps = scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0"
    return True, keeps


def _to_nanos(digits: int, frac_len: int, base: int, exponent: int) -> int:
    """digits * base**exponent / 10**frac_len, in nano units rounded away from zero.

    ``"1.5Ki"``: 15 * 2^10 / 10 = 1536 units = 1536 * 10^9 nanos.
    ``"3.001n"``: 3001 * 10^-9 / 10^3 = 3.001 nanos, rounded up to 4.
    """
    if digits == 0:
        return 0
    if base == 2:
        return _round_away(digits * 2**exponent * NANO, 10**frac_len)
    power = exponent - frac_len + 9  # power of ten that turns digits into nanos
    if power >= 0:
        if power > _MAX_EXPONENT + 9:
            raise QuantityError(ERR_NUMERIC)
        return digits * 10**power
    if -power > len(str(digits)) + 1:
        return 1  # far below one nano: Kubernetes rounds any non-zero value up to 1n
    return _round_away(digits, 10**-power)


def cpu_millis(value: str | int | float | Quantity | None) -> int:
    """CPU in millicores for an indexed column: ``"500m"`` -> 500, ``2`` -> 2000, None -> 0.

    Rounded up like ``MilliValue()``: ``"0.1m"`` -> 1.
    """
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        return value * 1000
    return Quantity.parse(value).milli_value()


def memory_bytes(value: str | int | float | Quantity | None) -> int:
    """Bytes for an indexed column: ``"1Gi"`` -> 1073741824, ``"1.5k"`` -> 1500, None -> 0.

    Rounded up like ``Value()``: ``"100m"`` -> 1.
    """
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return Quantity.parse(value).value()


def format_cpu_millis(millis: int) -> str:
    """Millicores as Kubernetes prints them: 500 -> "500m", 2000 -> "2", 1500 -> "1500m"."""
    return str(Quantity.from_milli(millis))


def format_bytes(count: int) -> str:
    """Bytes with the largest exact binary suffix: 2**30 -> "1Gi", 1536 * 2**20 -> "1536Mi".

    Values that are not a whole number of KiB stay plain digits (1000 -> "1000", 1536 ->
    "1536"). Kubernetes itself would print 1000 bytes in binary format as "1k"; plain digits
    read better on a dashboard.
    """
    if abs(count) < 1024:
        return str(count)
    return str(Quantity.from_int(count, Format.BINARY_SI))
