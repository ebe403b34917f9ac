"""The ``expected.lipschitz`` checker: ``{"1": "3/2", "inf": "3/2", "2": "sqrt(2)"}``.

An ℓ1/ℓ∞ entry is a number, compared exactly. An ℓ2 entry is a number, a closed form in
sympy syntax (``"sqrt(5)/2"``: equal when its minimal polynomial is the result's and its
value lies in the result's isolating interval), or ``{"polynomial": [c0, c1, …],
"interval": [lo, hi]}`` (the same root of the same polynomial).

>>> from exactrelu.io.case import case_from_json
>>> case = case_from_json({"format": "exactrelu-network/1", "input_dim": 2,
...     "layers": [{"type": "affine", "weight": [["1", "1"]]}, {"type": "relu"}]})
>>> [c.ok for c in check_lipschitz(case, {"1": "1", "inf": "2", "2": "sqrt(2)"}, "expected.lipschitz")]
[True, True, True]
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy

from ..core.algebraic import Algebraic
from ..core.errors import InputError
from ..core.expressions import parse_expression
from ..core.norms import parse_norm
from ..core.numbers import parse_number
from ..io.case import Case
from ..lipschitz import lipschitz
from .check import Check, same


def matches(expected: Any, got: Fraction | Algebraic, path: str) -> bool:
    """Whether an expected entry denotes exactly the number ``got``."""
    if isinstance(got, Algebraic) and got.is_rational:
        got = got.value
    if isinstance(expected, dict):
        if set(expected) != {"polynomial", "interval"} or not isinstance(expected["polynomial"], list) \
                or not isinstance(expected["interval"], list) or len(expected["interval"]) != 2:
            raise InputError('expected {"polynomial": [integers], "interval": [lo, hi]}', path=path)
        coeffs = [parse_number(c, f"{path}.polynomial[{i}]") for i, c in enumerate(expected["polynomial"])]
        if not coeffs or any(c.denominator != 1 for c in coeffs):
            raise InputError("expected a nonempty list of integer coefficients", path=f"{path}.polynomial")
        poly = tuple(int(c) for c in coeffs)
        lo, hi = (parse_number(v, f"{path}.interval[{i}]") for i, v in enumerate(expected["interval"]))
        if isinstance(got, Fraction):
            return lo <= got <= hi and sum(c * got**i for i, c in enumerate(poly)) == 0
        if not lo < hi:
            return False
        mine = Algebraic(poly, (lo, hi))
        return poly == got.poly and mine.compare(got) == 0
    if isinstance(got, Fraction):
        return same(expected, got, path)
    try:
        expr = sympy.nsimplify(parse_expression(str(expected), path))
    except (TypeError, ValueError):
        raise InputError(f"expected a number or a closed form, got {expected!r}", path=path) from None
    x = sympy.Symbol("x")
    try:
        mp = sympy.Poly(sympy.minimal_polynomial(expr, x), x)
    except (NotImplementedError, ValueError, sympy.PolynomialError):
        return False
    coeffs = tuple(int(c) for c in reversed(mp.all_coeffs()))
    if coeffs[-1] < 0:
        coeffs = tuple(-c for c in coeffs)
    if coeffs != got.poly:
        return False
    lo, hi = got.interval
    value = sympy.N(expr, 60)
    return bool(sympy.Rational(lo.numerator, lo.denominator) <= value <= sympy.Rational(hi.numerator, hi.denominator))


def check_lipschitz(case: Case, value: Any, path: str) -> list[Check]:
    """One check per norm listed."""
    if not isinstance(value, dict) or not value:
        raise InputError('expected {"1": …, "inf": …, "2": …}', path=path)
    checks = []
    for key, expected in value.items():
        norm = parse_norm(key, f"{path}.{key}")
        res = lipschitz(case.network, norm, case.domain)
        got = res.exact
        shown = got if isinstance(got, Fraction) else (got.value if got.is_rational else got)
        checks.append(Check(f"lipschitz ({norm})", expected, shown, matches(expected, got, f"{path}.{key}")))
    return checks
