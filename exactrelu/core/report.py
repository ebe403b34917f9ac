"""Turning exact results into JSON and text: rationals as strings, with float siblings.

>>> exact([Fraction(1, 3), (Fraction(2), Fraction(-1, 2))])
['1/3', ['2', '-1/2']]
>>> as_float([Fraction(1, 4)])
[0.25]
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy

from .numbers import format_number


def exact(value: Any) -> Any:
    """Fractions become exact strings, sympy expressions their text, sequences lists."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (Fraction, int)):
        return format_number(Fraction(value))
    if isinstance(value, sympy.Basic):
        return format_number(Fraction(int(value.p), int(value.q))) if value.is_Rational else str(value)
    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [exact(v) for v in value]
    return value


def as_float(value: Any) -> Any:
    """The float of each rational (None where an entry is symbolic)."""
    if isinstance(value, (Fraction, int)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [as_float(v) for v in value]
    return None


def matrix_text(rows: Any, indent: str = "  ") -> str:
    """A small matrix of exact entries as aligned text."""
    cells = [[str(exact(v)) for v in row] for row in rows]
    width = max((len(c) for row in cells for c in row), default=0)
    return "\n".join(indent + "[ " + "  ".join(c.rjust(width) for c in row) + " ]" for row in cells)
