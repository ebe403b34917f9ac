"""Turning exact results into JSON and text: rationals as strings, with float siblings
(`exact`, `as_float`); and the one notation for people (`decimal`, `number_text`,
`real_text`, `point_text`, `matrix_text`): an exact number with a decimal beside it, an
ℓ2 value as ``√k ≈ …`` or ``≈ … (a root of P)``, never a Python repr.

>>> exact([Fraction(1, 3), (Fraction(2), Fraction(-1, 2))])
['1/3', ['2', '-1/2']]
>>> as_float([Fraction(1, 4)])
[0.25]
>>> number_text(Fraction(15, 8)), number_text(Fraction(4)), number_text(Fraction(1, 3))
('15/8 ≈ 1.875', '4', '1/3 ≈ 0.3333333333')
"""

from __future__ import annotations

import sys
from fractions import Fraction
from typing import Any, Sequence

from .algebraic import Algebraic, poly_text
from .numbers import format_number

LONG = 40  # exact strings longer than this are shown by their decimal only in text


def _sympy_basic() -> type | None:
    """sympy's ``Basic`` when sympy is loaded (a value cannot be a sympy object otherwise)."""
    sympy = sys.modules.get("sympy")
    return None if sympy is None else sympy.Basic


def exact(value: Any) -> Any:
    """Fractions become exact strings, sympy expressions their text, sequences lists."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (Fraction, int)):
        return format_number(Fraction(value))
    if isinstance(value, Algebraic):
        return value.text()
    basic = _sympy_basic()
    if basic is not None and isinstance(value, basic):
        return format_number(Fraction(int(value.p), int(value.q))) if value.is_Rational else str(value)
    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [exact(v) for v in value]
    return value


def as_float(value: Any) -> Any:
    """The float of each rational (None where an entry is symbolic or beyond binary64's range)."""
    if isinstance(value, (Fraction, int)) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, (list, tuple)):
        return [as_float(v) for v in value]
    return None


def decimal(q: Fraction | int, digits: int = 10) -> str:
    """``q`` to ``digits`` significant digits, for any size (no float overflow).

    >>> decimal(Fraction(2, 3)), decimal(Fraction(10**400, 3)), decimal(Fraction(-1, 8))
    ('0.6666666667', '3.333333333e+399', '-0.125')
    """
    q = Fraction(q)
    if q == 0:
        return "0"
    sign, q = ("-" if q < 0 else ""), abs(q)
    e = int((q.numerator.bit_length() - q.denominator.bit_length()) * 0.30102999566398120)
    while True:  # m = round(q · 10^(digits-1-e)) with 10^(digits-1) <= m < 10^digits
        scale = digits - 1 - e
        scaled = q * 10**scale if scale >= 0 else q / 10**-scale
        m = round(scaled)
        if m >= 10**digits:
            e += 1
        elif m < 10 ** (digits - 1):
            e -= 1
        else:
            break
    text = str(m)
    if -5 <= e < digits:
        if e == digits - 1:
            body = text
        elif e >= 0:
            body = (text[: e + 1] + "." + text[e + 1:]).rstrip("0").rstrip(".")
        else:
            body = ("0." + "0" * (-e - 1) + text).rstrip("0").rstrip(".")
        return sign + body
    mant = (text[0] + "." + text[1:]).rstrip("0").rstrip(".")
    return f"{sign}{mant}e{'+' if e >= 0 else '-'}{abs(e):02d}"


def number_text(q: Fraction | int) -> str:
    """An exact rational for people: the exact text, with its decimal beside when it is not an
    integer; only the decimal when the exact text is long (the JSON keeps it exact).

    >>> number_text(Fraction(10**50 + 1, 3))
    '≈ 3.333333333e+49 (exact in --json)'
    """
    q = Fraction(q)
    text = format_number(q)
    if len(text) > LONG:
        return f"≈ {decimal(q)} (exact in --json)"
    if q.denominator == 1:
        return text
    return f"{text} ≈ {decimal(q)}"


def real_text(x: Any) -> str:
    """A rational or a real algebraic number (`exactrelu.core.algebraic.Algebraic`: ℓ2 values)
    in the one notation of the project's text output: ``15/8 ≈ 1.875``; ``√20 ≈ 4.472135955``
    for the square root of a rational; else ``≈ 2.1180339887 (the root of x**2 - 3*x + 1 in
    [2, 3])``, the interval's ends as decimals when long. The exact polynomial and interval
    are in every command's ``--json``.

    >>> from exactrelu.core.algebraic import sqrt_of_largest_root
    >>> real_text(sqrt_of_largest_root((-20, 1))), real_text(sqrt_of_largest_root((-351, 8)))
    ('√20 ≈ 4.472135955', '√(351/8) ≈ 6.62382065')
    """
    if isinstance(x, (Fraction, int)):
        return number_text(x)
    if getattr(x, "is_rational", False):
        return number_text(x.value)
    poly = tuple(x.poly)
    approx = decimal(_midpoint(x))
    if len(poly) == 3 and poly[1] == 0 and poly[0] < 0 < poly[2]:  # a·x² − b: √(b/a)
        k = Fraction(-poly[0], poly[2])
        inside = format_number(k)
        if len(inside) <= LONG:
            return f"√{inside} ≈ {approx}" if k.denominator == 1 else f"√({inside}) ≈ {approx}"
    lo, hi = x.interval
    ends = [format_number(v) for v in (lo, hi)]
    if sum(map(len, ends)) > LONG:
        ends = [decimal(lo, 12), decimal(hi, 12)]  # shown, not used: the exact ends are in --json
    ptext = poly_text(poly)
    if len(ptext) > 2 * LONG:
        return f"≈ {approx} (an algebraic number of degree {len(poly) - 1}; exact polynomial and interval in --json)"
    return f"≈ {approx} (the root of {ptext} in [{ends[0]}, {ends[1]}])"


def _midpoint(x: Any) -> Fraction:
    lo, hi = x.refine(Fraction(1, 2**60)).interval if hasattr(x, "refine") else x.interval
    return (lo + hi) / 2


def point_text(point: Sequence[Fraction]) -> str:
    """A point: ``(1/2, -1) ≈ (0.5, -1)``; decimals only where some coordinate is not an integer,
    and decimals alone when the exact coordinates are long.

    >>> point_text([Fraction(1, 2), Fraction(-1)]), point_text([Fraction(2), Fraction(0)])
    ('(1/2, -1) ≈ (0.5, -1)', '(2, 0)')
    """
    exact_parts = [format_number(Fraction(v)) for v in point]
    if all(Fraction(v).denominator == 1 for v in point) and sum(map(len, exact_parts)) <= 2 * LONG:
        return "(" + ", ".join(exact_parts) + ")"
    approx = "(" + ", ".join(decimal(Fraction(v), 8) for v in point) + ")"
    if sum(map(len, exact_parts)) > 2 * LONG:
        return f"≈ {approx} (exact in --json)"
    return "(" + ", ".join(exact_parts) + f") ≈ {approx}"


def matrix_text(rows: Any, indent: str = "  ") -> str:
    """A small matrix of exact entries as aligned text, each row's decimals beside it where some
    entry is not an integer.

    >>> print(matrix_text([[Fraction(1, 2), Fraction(1)]]))
      [ 1/2  1 ]  ≈ [ 0.5  1 ]
    """
    cells = [[str(exact(v)) for v in row] for row in rows]
    width = max((len(c) for row in cells for c in row), default=0)
    fractional = [[v for v in row if isinstance(v, Fraction) and v.denominator != 1] for row in rows]
    approx = None
    if any(fractional):
        approx = [[decimal(v, 8) if isinstance(v, (Fraction, int)) else str(exact(v)) for v in row] for row in rows]
        awidth = max(len(c) for row in approx for c in row)
    lines = []
    for k, row in enumerate(cells):
        line = indent + "[ " + "  ".join(c.rjust(width) for c in row) + " ]"
        if approx is not None:
            line += "  ≈ [ " + "  ".join(c.rjust(awidth) for c in approx[k]) + " ]"
        lines.append(line)
    return "\n".join(lines)


def quantity_text(name: str, q: Any, width: int = 6) -> str:
    """One line for a `exactrelu.core.results.Quantity`: ``=`` only for an exact value, ``≤`` for a
    certified upper bound, ``≥`` for a lower bound, ``≈`` for an estimate, then the guarantee.

    >>> from exactrelu.core.results import Quantity
    >>> quantity_text("K3", Quantity(Fraction(11, 4), "exact"))
    'K3     = 11/4 ≈ 2.75  [exact]'
    >>> quantity_text("K1", Quantity(Fraction(2155955162437751, 10**15), "certified", upper=True))
    'K1     ≤ 2.155955162437751  [certified upper bound]'
    """
    v = q.value
    if q.guarantee == "exact":
        shown = real_text(q.number if q.number is not None else v)
        sign = "="
    else:
        sign = "≤" if q.upper else "≥" if q.lower else "≈"
        shown = decimal(Fraction(v), 16) if isinstance(v, (Fraction, int)) else repr(float(v))
    if shown.startswith("≈ "):  # long exact text: only its decimal (exact in --json)
        return f"{name.ljust(width)} {shown}  [{q.label}]"
    return f"{name.ljust(width)} {sign} {shown}  [{q.label}]"
