"""The ``expected.bounds`` checker: ``{"inf": {"K3": "2", "K": "3/2", …}, "1": {…}}``.

An exact rational bound is compared exactly; an irrational exact value or a certified
enclosure passes when the expected number lies in its certified interval; a certified
upper bound with no lower end (K2's SeqLip, from float SVD factors) when it is at or above
the expected number and within a relative 1e-9 of it; an estimate within a relative 1e-9;
``null`` means "not defined here".
``"L"`` may be listed too (the exact Lipschitz constant over the case's domain).

>>> from exactrelu.io.case import case_from_json
>>> case = case_from_json({"format": "exactrelu-network/1", "input_dim": 1,
...     "layers": [{"type": "affine", "weight": [["1"], ["1"]]}, {"type": "abs"},
...                {"type": "affine", "weight": [["1", "1"]]}]})
>>> [c.ok for c in check_bounds(case, {"inf": {"K3": "2", "K": None}}, "expected.bounds")]
[True, True]
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy

from ..bounds import bounds
from ..core.errors import InputError
from ..core.expressions import parse_expression
from ..core.norms import parse_norm
from ..core.numbers import parse_number
from ..core.results import CERTIFIED, ESTIMATE, EXACT, Quantity
from ..io.case import Case
from ..lipschitz import lipschitz
from .check import Check
from .lipschitz import matches


def _value(expected: Any, path: str) -> Any:
    try:
        return sympy.Rational(parse_number(expected, path))
    except InputError:
        return parse_expression(str(expected), path)


def _agrees(expected: Any, q: Quantity, path: str) -> tuple[bool, str]:
    """Whether the computed bound agrees with the expected value, and how, when not exactly."""
    v = _value(expected, path)
    if isinstance(q.value, Fraction) and q.interval is None and q.guarantee != CERTIFIED:
        return bool(sympy.simplify(v - sympy.Rational(q.value.numerator, q.value.denominator)) == 0), ""
    if q.guarantee == ESTIMATE:
        f = float(sympy.N(v, 30))
        return abs(f - float(q.value)) <= 1e-9 * max(1.0, abs(f)), "an estimate: within a relative 1e-9"
    if q.interval is None:  # a certified upper bound only
        n = sympy.N(v, 60)
        ok = bool(n <= sympy.Rational(q.value) <= n * (1 + sympy.Rational(1, 10**9)) + sympy.Rational(1, 10**30))
        return ok, "a certified upper bound: at or above the expected value, within a relative 1e-9"
    lo, hi = q.interval
    n = sympy.N(v, 60)
    note = "the expected value lies in the certified enclosure" if q.guarantee == CERTIFIED else \
        "exact, irrational: the expected value lies in its isolating interval"
    return bool(sympy.Rational(lo) <= n <= sympy.Rational(hi)), note


def check_bounds(case: Case, value: Any, path: str) -> list[Check]:
    """One check per norm and bound listed."""
    if not isinstance(value, dict) or not value:
        raise InputError('expected {"inf": {"K3": …}, …}', path=path)
    checks = []
    for key, entries in value.items():
        norm = parse_norm(key, f"{path}.{key}")
        if not isinstance(entries, dict):
            raise InputError('expected {"K3": …, …}', path=f"{path}.{key}")
        result = bounds(case.network, norm)
        for name, expected in entries.items():
            where = f"{path}.{key}.{name}"
            label = f"{name} ({norm})"
            if name == "L":
                got = lipschitz(case.network, norm, case.domain).exact
                checks.append(Check(label, expected, str(got) if isinstance(got, Fraction) else got,
                                    matches(expected, got, where)))
                continue
            if name in result.undefined:
                checks.append(Check(label, expected, None, expected is None))
                continue
            if name not in result.values:
                raise InputError(f"unknown bound {name!r} (known: L, K_star, K, K1, K2, K3, K4, C, C_E)", path=where)
            q = result.values[name]
            got = q.value if isinstance(q.value, Fraction) and q.interval is None else (q.number or q.algebraic or q.value)
            if expected is None:
                ok, note = False, ""
            elif q.guarantee == EXACT and q.number is not None:  # irrational: compared exactly
                ok, note = matches(expected, q.number, where), ""
            else:
                ok, note = _agrees(expected, q, where)
            checks.append(Check(label, expected, got, ok, note))
    return checks
