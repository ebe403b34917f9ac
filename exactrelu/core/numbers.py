"""Exact numbers: parsing the case format's number syntax, and moving between
`fractions.Fraction` (what users see) and python-flint's `fmpq` (what the core
computes with).

Every number is read exactly: ``"0.1"`` is 1/10, a JSON float is the binary64
value it denotes, and NaN, infinities, ``"1/0"`` or junk are errors.

>>> parse_number("0.1")
Fraction(1, 10)
>>> parse_number(0.1) == Fraction(3602879701896397, 36028797018963968)
True
>>> format_number(Fraction(-31, 16))
'-31/16'
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any, Iterable, Sequence

from flint import fmpq, fmpq_mat, fmpz

from .errors import InputError, InputLimit
from .limits import Limits, active

# ASCII digits only: ``\d`` would also match "١٢" (Arabic-Indic digits), which int() reads as 12
_DECIMAL = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?", re.ASCII)
_RATIO = re.compile(r"[+-]?[0-9]+/[+-]?[0-9]+", re.ASCII)
_INT_STR_SAFE = 4000  # below Python's int/str conversion limit (4300 digits)


class JsonNumber(str):
    """An integer literal of a JSON file too long for Python's ``int`` (more than 4000 digits),
    kept as text: `exactrelu.core.numbers.parse_number` checks its size against the limits
    (`exactrelu.core.limits`) before it converts it. See `json_int`."""


class JsonFloat(float):
    """A JSON number with a fraction or an exponent: the binary64 value it denotes (SPEC §2),
    marked as read from a file, so that `parse_number` holds it to the magnitude limit
    (a Python float from the API is taken as it is). ``text`` is the literal."""

    text: str = ""


def json_int(text: str) -> int | JsonNumber:
    """``parse_int`` of the JSON reader: an int, or a `JsonNumber` when too long to convert safely."""
    return int(text) if len(text.lstrip("-")) <= _INT_STR_SAFE else JsonNumber(text)


def json_float(text: str) -> JsonFloat:
    """``parse_float`` of the JSON reader (``"1e400"`` gives an infinite `JsonFloat`, rejected
    with its path by `parse_number`)."""
    f = JsonFloat(text)
    f.text = text
    return f


def _int(digits: str) -> int:
    """An int from a string of ASCII digits (with a sign), of any length."""
    if len(digits) <= _INT_STR_SAFE:
        return int(digits)
    return int(fmpz(digits))


def int_text(n: int) -> str:
    """The decimal text of an int of any length (Python's ``str`` stops at 4300 digits).

    >>> len(int_text(10**5000))
    5001
    """
    if -(10**_INT_STR_SAFE) < n < 10**_INT_STR_SAFE:
        return str(n)
    return str(fmpz(n))


def _shown(text: str, width: int = 40) -> str:
    """``repr`` of a text, cut to about ``width`` characters."""
    return repr(text) if len(text) <= width else repr(text[:width]) + f"... ({len(text)} characters)"


def _too_big(what: str, path: str, limits: Limits, *, magnitude: bool = False) -> InputLimit:
    if magnitude:
        return InputLimit(
            f"expected 0 or a number between 10^-{limits.magnitude} and 10^{limits.magnitude} in absolute "
            f"value, got {what} (raise the limit with --max-magnitude)",
            path=path,
        )
    return InputLimit(
        f"expected a number of at most {limits.digits} digits, got {what} (raise the limit with --max-digits)",
        path=path,
    )


def _check_fraction(q: Fraction, path: str, limits: Limits) -> Fraction:
    """``q`` within the digit and magnitude limits."""
    bound = 10**limits.digits
    if abs(q.numerator) >= bound or q.denominator >= bound:
        bits = max(abs(q.numerator).bit_length(), q.denominator.bit_length())
        raise _too_big(f"one of about {int(bits * 0.30103) + 1} digits", path, limits)
    if abs(q.numerator) >= 10**limits.magnitude * q.denominator:
        size = abs(q.numerator).bit_length() - q.denominator.bit_length()
        raise _too_big(f"one of about 10^{int(size * 0.30103)}", path, limits, magnitude=True)
    if q and abs(q.numerator) * 10**limits.magnitude < q.denominator:
        size = q.denominator.bit_length() - abs(q.numerator).bit_length()
        raise _too_big(f"one of about 10^-{int(size * 0.30103)}", path, limits, magnitude=True)
    return q


def _decimal(text: str, path: str, limits: Limits) -> Fraction | None:
    """A decimal ``[+-]int[.frac][e[+-]exp]``, exactly, its size checked before it is built."""
    m = _DECIMAL.fullmatch(text)
    if m is None:
        return None
    sign, whole, frac, exp = m.group(1), m.group(2), m.group(3) or "", m.group(4)
    if not whole and not frac:
        return None
    if exp is not None and len(exp.lstrip("+-").lstrip("0")) > 12:
        raise _too_big(f"the exponent {exp}", path, limits)
    e = int(exp) if exp is not None else 0
    mantissa = (whole + frac).lstrip("0")
    if not mantissa:
        return Fraction(0)
    shift = e - len(frac)  # value = mantissa · 10^shift
    num_digits = len(mantissa) + max(shift, 0)
    den_digits = max(-shift, 0)
    if num_digits > limits.digits or den_digits > limits.digits:
        raise _too_big(_shown(text), path, limits)
    lead = len(mantissa) + shift  # 10^(lead-1) <= |value| < 10^lead
    if lead > limits.magnitude:
        raise _too_big(_shown(text), path, limits, magnitude=True)
    n = _int(mantissa)
    q = Fraction(n * 10**shift) if shift >= 0 else Fraction(n, 10**-shift)
    return _check_fraction(-q if sign == "-" else q, path, limits)


def parse_number(value: Any, path: str = "") -> Fraction:
    """Read one number of the case format exactly.

    Accepts a Python/JSON int, a finite float (its exact binary64 value), a
    `Fraction`, an `fmpq`, or a string holding an integer, ``p/q`` or a finite
    decimal with optional exponent, in ASCII digits. Anything else raises `InputError`
    at `path`; a number beyond the limits in force (`exactrelu.core.limits`: digits,
    magnitude) raises `InputLimit` before it is built.

    >>> parse_number("-3e-2"), parse_number("7/-14"), parse_number(5)
    (Fraction(-3, 100), Fraction(-1, 2), Fraction(5, 1))
    >>> parse_number("١٢")
    Traceback (most recent call last):
    ...
    exactrelu.core.errors.InputError: expected a number (an integer, 'p/q' or a finite decimal, in ASCII digits), got '١٢'
    """
    limits = active()
    if isinstance(value, bool):
        raise InputError(f"expected a number, got the boolean {str(value).lower()}", path=path)
    if isinstance(value, JsonNumber):
        q = _decimal(value, path, limits)
        if q is None:
            raise InputError(f"expected a number, got {_shown(value)}", path=path)
        return q
    if isinstance(value, int):
        return _check_fraction(Fraction(value), path, limits)
    if isinstance(value, Fraction):
        return value
    if isinstance(value, fmpq):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, float) or type(value).__name__ in ("float64", "float32", "float16"):
        f = float(value)
        if isinstance(value, JsonFloat):
            if not math.isfinite(f):
                raise InputError(
                    f"expected a finite binary64 number, got {value.text} (beyond its range: write it "
                    f"as a string, \"{value.text}\", to read it exactly)",
                    path=path,
                )
            return _check_fraction(Fraction(f), path, limits)
        if not math.isfinite(f):
            raise InputError(f"expected a finite number, got {f}", path=path)
        return Fraction(f)  # a Python float: its exact binary64 value, bounded by binary64's range
    if hasattr(value, "dtype") and getattr(value, "shape", None) == ():
        return parse_number(value.item(), path)
    if isinstance(value, str):
        text = value.strip(" \t\r\n")  # ASCII spaces only, as ASCII digits only
        if _RATIO.fullmatch(text):
            num, den = text.split("/")
            if len(num.lstrip("+-")) > limits.digits or len(den.lstrip("+-")) > limits.digits:
                raise _too_big(_shown(text), path, limits)
            if _int(den) == 0:
                raise InputError(f"expected a number, got {value!r} (division by zero)", path=path)
            return _check_fraction(Fraction(_int(num), _int(den)), path, limits)
        q = _decimal(text, path, limits)
        if q is not None:
            return q
        raise InputError(
            f"expected a number (an integer, 'p/q' or a finite decimal, in ASCII digits), got {_shown(value, 60)}",
            path=path,
        )
    raise InputError(f"expected a number, got {type(value).__name__} {_shown(repr(value), 60)}", path=path)


def parse_vector(values: Any, path: str = "", length: int | None = None) -> tuple[Fraction, ...]:
    """A list of numbers, optionally of a given length."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) and not hasattr(values, "tolist"):
        raise InputError("expected a list of numbers", path=path)
    if hasattr(values, "tolist"):
        values = values.tolist()
    if length is not None and len(values) != length:
        raise InputError(f"expected a list of {length} numbers, got {len(values)}", path=path)
    return tuple(parse_number(v, f"{path}[{i}]") for i, v in enumerate(values))


def parse_matrix(rows: Any, path: str = "", ncols: int | None = None) -> tuple[tuple[Fraction, ...], ...]:
    """A list of rows of numbers, all of the same length (``ncols`` if given)."""
    if hasattr(rows, "tolist"):
        rows = rows.tolist()
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence) or len(rows) == 0:
        raise InputError("expected a nonempty list of rows", path=path)
    out = []
    for i, row in enumerate(rows):
        vec = parse_vector(row, f"{path}[{i}]", ncols)
        if ncols is None:
            if len(vec) == 0:
                raise InputError("expected a nonempty row", path=f"{path}[{i}]")
            ncols = len(vec)
        out.append(vec)
    return tuple(out)


def parse_point(text: str, dim: int | None = None, path: str = "--at") -> tuple[Fraction, ...]:
    """A comma-separated list of numbers, as the CLI's ``--at`` takes it.

    >>> parse_point("1/3,-2")
    (Fraction(1, 3), Fraction(-2, 1))
    """
    parts = [p for p in text.split(",")]
    if any(p.strip() == "" for p in parts):
        raise InputError(f"expected comma-separated numbers, got {text!r}", path=path)
    point = tuple(parse_number(p, f"{path}[{i}]") for i, p in enumerate(parts))
    if dim is not None and len(point) != dim:
        raise InputError(f"expected a point of dimension {dim}, got {len(point)} coordinates", path=path)
    return point


def format_number(q: Fraction | fmpq | int) -> str:
    """The exact string of a rational: ``"3"``, ``"-31/16"``."""
    q = to_fraction(q)
    if q.denominator == 1:
        return int_text(q.numerator)
    return f"{int_text(q.numerator)}/{int_text(q.denominator)}"


def to_fraction(q: Fraction | fmpq | int) -> Fraction:
    """`fmpq` or int to `Fraction` (identity on `Fraction`)."""
    if isinstance(q, Fraction):
        return q
    if isinstance(q, fmpq):
        return Fraction(int(q.p), int(q.q))
    return Fraction(q)


def to_fmpq(q: Fraction | int | fmpq) -> fmpq:
    """`Fraction` or int to `fmpq`."""
    if isinstance(q, fmpq):
        return q
    q = Fraction(q)
    return fmpq(q.numerator, q.denominator)


def fmpq_matrix(rows: Sequence[Sequence[Fraction]], ncols: int | None = None) -> fmpq_mat:
    """An `fmpq_mat` from rows of rationals (``ncols`` needed when there are no rows)."""
    nrows = len(rows)
    if ncols is None:
        ncols = len(rows[0]) if nrows else 0
    return fmpq_mat(nrows, ncols, [to_fmpq(v) for row in rows for v in row])


def fmpq_column(values: Iterable[Fraction]) -> fmpq_mat:
    """A column vector as an `fmpq_mat`."""
    vals = [to_fmpq(v) for v in values]
    return fmpq_mat(len(vals), 1, vals)


def matrix_fractions(m: fmpq_mat) -> tuple[tuple[Fraction, ...], ...]:
    """An `fmpq_mat` as rows of `Fraction`."""
    return tuple(tuple(to_fraction(v) for v in row) for row in m.table())


def column_fractions(m: fmpq_mat) -> tuple[Fraction, ...]:
    """A column `fmpq_mat` as a tuple of `Fraction`."""
    return tuple(to_fraction(m[i, 0]) for i in range(m.nrows()))
