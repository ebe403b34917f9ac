"""The ``expected.smooth`` checker: ``[{"at": "1", "sigma": "1/2", "value": "0.39894228", ...}]``.

Each entry names a point and a σ and may give ``value`` (a decimal string, or a list of them,
one per output), ``gradient`` (rows of decimal strings) and ``parameter_gradient``
(``{"weight": …, "bias": …}`` nested as `exactrelu.smoothing.SmoothedParameters`). A decimal with
k digits after the point claims the true value within one unit of its last digit,
``|E − d| ≤ 10^-k``; the check passes when the certified enclosure lies in
``[d − 10^-k, d + 10^-k]``. Only certified results are compared (1 or 2 inputs).

>>> from exactrelu.io.case import case_from_json
>>> case = case_from_json({"format": "exactrelu-network/1", "input_dim": 1,
...     "layers": [{"type": "affine", "weight": [["1"]]}, {"type": "relu"}, {"type": "affine", "weight": [["1"]]}]})
>>> [c.ok for c in check_smooth(case, [{"at": "0", "sigma": "1", "value": "0.398942"}], "expected.smooth")]
[True]
>>> [c.ok for c in check_smooth(case, [{"at": "0", "sigma": "1", "value": "0.398944"}], "expected.smooth")]
[False]
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..core.errors import InputError
from ..core.numbers import parse_number, parse_point
from ..core.results import Quantity
from ..io.case import Case
from ..smoothing import smoothed
from .check import Check

KEYS = ("at", "sigma", "value", "gradient", "parameter_gradient", "source")


def within(expected: Any, got: Quantity, path: str) -> bool:
    """Whether the enclosure ``got.interval`` lies within one unit of the last digit of ``expected``."""
    if not isinstance(expected, str) or "/" in expected or "e" in expected.lower():
        raise InputError(f"expected a decimal string such as \"0.3989\", got {expected!r}", path=path)
    d = parse_number(expected, path)
    digits = len(expected.split(".")[1]) if "." in expected else 0
    unit = Fraction(1, 10**digits)
    lo, hi = got.interval
    return d - unit <= lo and hi <= d + unit


def _compare(expected: Any, got: Any, path: str) -> bool:
    if isinstance(got, Quantity):
        return within(expected, got, path)
    if not isinstance(expected, list) or len(expected) != len(got):
        raise InputError(f"expected a list of {len(got)} entries", path=path)
    return all(_compare(e, g, f"{path}[{i}]") for i, (e, g) in enumerate(zip(expected, got)))


def _shown(got: Any) -> Any:
    if isinstance(got, Quantity):
        return [float(v) for v in got.interval]
    return [_shown(g) for g in got]


def check_smooth(case: Case, value: Any, path: str) -> list[Check]:
    """One check per entry and key given."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputError('expected a list of {"at": ..., "sigma": ..., "value": ...}', path=path)
    checks = []
    for i, entry in enumerate(value):
        where = f"{path}[{i}]"
        for key in ("at", "sigma"):
            if key not in entry:
                raise InputError(f"missing key {key!r}", path=where)
        unknown = set(entry) - set(KEYS)
        if unknown:
            raise InputError(f"unknown key {sorted(unknown)[0]!r} (known: {', '.join(KEYS)})", path=where)
        x = parse_point(str(entry["at"]), case.network.input_dim, f"{where}.at")
        sigma = parse_number(entry["sigma"], f"{where}.sigma")
        if case.network.input_dim > 2:
            raise InputError("expected.smooth is checked on certified results only (1 or 2 inputs)", path=where)
        res = smoothed(case.network, x, sigma, method="certified", parameters="parameter_gradient" in entry)
        name = f"smooth at {entry['at']} (sigma {entry['sigma']})"
        if "value" in entry:
            got: Any = res.value if isinstance(entry["value"], list) else res.value[0]
            checks.append(Check(f"{name}: value", entry["value"], _shown(got), _compare(entry["value"], got, f"{where}.value")))
        if "gradient" in entry:
            checks.append(Check(f"{name}: gradient", entry["gradient"], _shown(res.gradient),
                                _compare(entry["gradient"], res.gradient, f"{where}.gradient")))
        if "parameter_gradient" in entry:
            pg = entry["parameter_gradient"]
            if not isinstance(pg, dict) or not pg or set(pg) - {"weight", "bias"}:
                raise InputError('expected {"weight": ..., "bias": ...}', path=f"{where}.parameter_gradient")
            if res.parameter_gradient is None:
                checks.append(Check(f"{name}: parameter gradient", pg, res.diagnostics.get("parameter_gradient"), False))
                continue
            for key, got in (("weight", res.parameter_gradient.weight), ("bias", res.parameter_gradient.bias)):
                if key in pg:
                    checks.append(Check(f"{name}: parameter gradient ({key})", pg[key], _shown(got),
                                        _compare(pg[key], got, f"{where}.parameter_gradient.{key}")))
    return checks
