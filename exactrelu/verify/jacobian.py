"""``expected.jacobian``: ``DΦ_c(x)`` at listed points, and the Clarke keys of an entry.

Each entry has ``at``, optionally ``convention`` (default ``0``) and ``jacobian`` (rows of
numbers or polynomials in c), and any of:

- ``differentiable``: a bool;
- ``clarke``: the generator matrices, in any order (compared as a set);
- ``in_clarke``: a bool: is ``DΦ_c(x)`` in the Clarke Jacobian (for the symbolic
  convention: for every real c);
- ``in_clarke_for``: for the symbolic convention, the set of c for which it is, as a list
  of closed intervals ``[lo, hi]`` (a point is ``[a, a]``; ends may be ``"-oo"``/``"oo"``;
  ``[]`` for no c), ends as closed forms (``"-sqrt(2)/2"``);
- ``directional``: a list of ``{"direction": "1,-1", "value": ["…", …]}``: ``f'(x; d)``.

>>> from exactrelu.io.case import case_from_json
>>> case = case_from_json({"format": "exactrelu-network/1", "input_dim": 1,
...     "layers": [{"type": "affine", "weight": [["1"], ["-1"]]}, {"type": "relu"},
...                {"type": "affine", "weight": [["1", "-1"]]}]})
>>> entry = {"at": "0", "convention": "c", "jacobian": [["2*c"]], "differentiable": True,
...          "in_clarke_for": [["1/2", "1/2"]]}
>>> [c.ok for c in check_jacobian(case, [entry], "expected.jacobian")]
[True, True, True]
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy

from ..calculus import derivative
from ..clarke import derivative_in_clarke, directional_derivative, set_intervals
from ..core.errors import InputError
from ..core.expressions import parse_expression
from ..core.numbers import parse_number, parse_point
from ..io.case import Case
from .check import Check, entries, same


def check_jacobian(case: Case, value: Any, path: str) -> list[Check]:
    checks = []
    for i, entry in enumerate(entries(value, path, ("at", "convention", "jacobian", "source", *KEYS))):
        x = parse_point(str(entry["at"]), case.network.input_dim, f"{path}[{i}].at")
        conv = entry.get("convention", "0")
        d = derivative(case.network, x, conv)
        name = f"jacobian at {entry['at']} (convention {conv})"
        if "jacobian" in entry:
            checks.append(Check(name, entry["jacobian"], d.matrix, same(entry["jacobian"], d.matrix, f"{path}[{i}].jacobian")))
        extra = set(entry) - {"at", "convention", "jacobian", "source"}
        if extra:
            checks.extend(_clarke_checks(case, x, conv, entry, f"{path}[{i}]", name))
    return checks


KEYS = ("differentiable", "clarke", "in_clarke", "in_clarke_for", "directional")


def _clarke_checks(case: Case, x: Any, conv: Any, entry: dict[str, Any], path: str, name: str) -> list[Check]:
    """The `Check` of every Clarke key of one ``expected.jacobian`` entry."""
    unknown = sorted(set(entry) - {"at", "convention", "jacobian", "source", *KEYS})
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r} (known: {', '.join(('jacobian',) + KEYS)})", path=f"{path}.{unknown[0]}")
    net = case.network
    result = derivative_in_clarke(net, x, conv)
    checks = []
    if "differentiable" in entry:
        exp = _bool(entry["differentiable"], f"{path}.differentiable")
        got = result.clarke.differentiable
        checks.append(Check(f"{name}: differentiable", exp, got, exp is got))
    if "clarke" in entry:
        exp_set = _matrices(entry["clarke"], f"{path}.clarke")
        got_set = result.clarke.generators
        checks.append(Check(f"{name}: Clarke generators", entry["clarke"], got_set, exp_set == tuple(sorted(got_set))))
    if "in_clarke" in entry:
        exp = _bool(entry["in_clarke"], f"{path}.in_clarke")
        checks.append(Check(f"{name}: DΦ in the Clarke Jacobian", exp, result.inside, exp is result.inside))
    if "in_clarke_for" in entry:
        if result.c_set is None:
            raise InputError("in_clarke_for needs the symbolic convention \"c\"", path=f"{path}.in_clarke_for")
        got_iv = set_intervals(result.c_set)
        exp_iv = _intervals(entry["in_clarke_for"], f"{path}.in_clarke_for")
        ok = len(exp_iv) == len(got_iv) and all(
            _equal(a, c) and _equal(b, d) for (a, b), (c, d) in zip(exp_iv, got_iv)
        )
        checks.append(Check(f"{name}: the c with DΦ_c in the Clarke Jacobian", entry["in_clarke_for"], [[str(a), str(b)] for a, b in got_iv], ok))
    if "directional" in entry:
        items = entry["directional"]
        if not isinstance(items, list):
            raise InputError("expected a list of {\"direction\", \"value\"} objects", path=f"{path}.directional")
        for i, item in enumerate(items):
            p = f"{path}.directional[{i}]"
            if not isinstance(item, dict) or "direction" not in item or "value" not in item:
                raise InputError("expected an object with 'direction' and 'value'", path=p)
            d = parse_point(str(item["direction"]), net.input_dim, f"{p}.direction")
            got_d = directional_derivative(net, x, d)
            checks.append(Check(f"{name}: f'(x; {item['direction']})", item["value"], got_d, same(item["value"], got_d, f"{p}.value")))
    return checks


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"expected true or false, got {value!r}", path=path)
    return value


def _matrices(value: Any, path: str) -> tuple[tuple[tuple[Fraction, ...], ...], ...]:
    if not isinstance(value, list) or not value:
        raise InputError("expected a nonempty list of matrices", path=path)
    out = []
    for k, m in enumerate(value):
        if not isinstance(m, list) or not m or not all(isinstance(r, list) for r in m):
            raise InputError("expected a matrix (a list of rows)", path=f"{path}[{k}]")
        out.append(tuple(tuple(parse_number(v, f"{path}[{k}][{i}][{j}]") for j, v in enumerate(r)) for i, r in enumerate(m)))
    return tuple(sorted(set(out)))


def _intervals(value: Any, path: str) -> list[tuple[sympy.Expr, sympy.Expr]]:
    if not isinstance(value, list):
        raise InputError("expected a list of [lo, hi] pairs", path=path)
    out = []
    for i, pair in enumerate(value):
        if not isinstance(pair, list) or len(pair) != 2:
            raise InputError("expected a pair [lo, hi]", path=f"{path}[{i}]")
        out.append(tuple(parse_expression(str(v), f"{path}[{i}]") for v in pair))
    return sorted(out, key=lambda p: (float(p[0]), float(p[1])))


def _equal(a: sympy.Expr, b: sympy.Expr) -> bool:
    if a.is_infinite or b.is_infinite:
        return a == b
    return sympy.simplify(a - b) == 0
