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

from flint import fmpq, fmpq_mat

from .errors import InputError

_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_RATIO = re.compile(r"[+-]?\d+/[+-]?\d+")


def parse_number(value: Any, path: str = "") -> Fraction:
    """Read one number of the case format exactly.

    Accepts a Python/JSON int, a finite float (its exact binary64 value), a
    `Fraction`, an `fmpq`, or a string holding an integer, ``p/q`` or a finite
    decimal with optional exponent. Anything else raises `InputError` at `path`.

    >>> parse_number("-3e-2"), parse_number("7/-14"), parse_number(5)
    (Fraction(-3, 100), Fraction(-1, 2), Fraction(5, 1))
    """
    if isinstance(value, bool):
        raise InputError(f"expected a number, got the boolean {str(value).lower()}", path=path)
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, Fraction):
        return value
    if isinstance(value, fmpq):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, float) or type(value).__name__ in ("float64", "float32", "float16"):
        f = float(value)
        if not math.isfinite(f):
            raise InputError(f"expected a finite number, got {f}", path=path)
        return Fraction(f)
    if hasattr(value, "dtype") and getattr(value, "shape", None) == ():
        return parse_number(value.item(), path)
    if isinstance(value, str):
        text = value.strip()
        if _RATIO.fullmatch(text):
            num, den = text.split("/")
            if int(den) == 0:
                raise InputError(f"expected a number, got {value!r} (division by zero)", path=path)
            return Fraction(int(num), int(den))
        if _DECIMAL.fullmatch(text):
            return Fraction(text)
        raise InputError(
            f"expected a number (an integer, 'p/q' or a finite decimal), got {value!r}", path=path
        )
    raise InputError(f"expected a number, got {type(value).__name__} {value!r}", path=path)


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
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


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
