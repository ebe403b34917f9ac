"""Checking a case's ``expected`` entries against exact computation.

Each key of ``expected`` has a checker in `CHECKERS`; a key without one is bad input
(a misspelt key must not pass silently).

>>> from exactrelu.io.case import case_from_json
>>> case = case_from_json({"format": "exactrelu-network/1", "input_dim": 1,
...     "layers": [{"type": "affine", "weight": [["1"], ["-1"]]}, {"type": "relu"},
...                {"type": "affine", "weight": [["1", "-1"]]}],
...     "expected": {"jacobian": [{"at": "0", "convention": "c", "jacobian": [["2*c"]]}]}})
>>> [c.ok for c in verify_case(case)]
[True]
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

import sympy

from .calculus import derivative, parameter_gradient
from .conventions import C
from .errors import InputError
from .io.case import Case
from .numbers import parse_number, parse_point
from .report import exact


@dataclass(frozen=True)
class Check:
    """One comparison: what was expected, what the exact engine computed."""

    name: str
    expected: Any
    got: Any
    ok: bool

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "expected": self.expected, "got": exact(self.got), "ok": self.ok}


Checker = Callable[[Case, Any, str], list[Check]]
CHECKERS: dict[str, Checker] = {}


def checker(key: str) -> Callable[[Checker], Checker]:
    def register(fn: Checker) -> Checker:
        CHECKERS[key] = fn
        return fn

    return register


def verify_case(case: Case) -> list[Check]:
    """Run the checker of every ``expected`` key; unknown keys raise `InputError`."""
    _load_checkers()
    checks: list[Check] = []
    for key, value in case.expected.items():
        if key not in CHECKERS:
            known = ", ".join(sorted(CHECKERS))
            raise InputError(f"unknown expected key (known: {known})", path=f"expected.{key}", file=case.path)
        try:
            checks.extend(CHECKERS[key](case, value, f"expected.{key}"))
        except InputError as e:
            raise (e if e.file else e.at(file=case.path)) from None
    return checks


def _load_checkers() -> None:
    """Import the analysis modules that register checkers for their keys."""
    import importlib

    for module in ("regions", "lipschitz", "bounds", "clarke", "smoothing"):
        try:
            importlib.import_module(f"exactrelu.{module}_checks")
        except ModuleNotFoundError as e:
            if e.name != f"exactrelu.{module}_checks":
                raise


def same(expected: Any, got: Any, path: str) -> bool:
    """Exact equality of an expected entry (number or polynomial in c, as text) with a value."""
    if isinstance(got, (list, tuple)):
        if not isinstance(expected, list) or len(expected) != len(got):
            return False
        return all(same(e, g, f"{path}[{i}]") for i, (e, g) in enumerate(zip(expected, got)))
    if isinstance(got, bool) or isinstance(expected, bool):
        return expected is got
    if isinstance(got, Fraction):
        try:
            return parse_number(expected, path) == got
        except InputError:
            pass
    try:
        e = sympy.sympify(expected, locals={"c": C}) if isinstance(expected, str) else sympy.sympify(expected)
    except (sympy.SympifyError, TypeError):
        raise InputError(f"expected a number or a polynomial in c, got {expected!r}", path=path) from None
    return sympy.expand(e - sympy.sympify(got)) == 0


def _entries(value: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputError("expected a list of objects with 'at' and 'convention'", path=path)
    for i, v in enumerate(value):
        if "at" not in v:
            raise InputError("missing key 'at'", path=f"{path}[{i}]")
    return value


@checker("jacobian")
def _check_jacobian(case: Case, value: Any, path: str) -> list[Check]:
    checks = []
    for i, entry in enumerate(_entries(value, path)):
        x = parse_point(str(entry["at"]), case.network.input_dim, f"{path}[{i}].at")
        conv = entry.get("convention", "0")
        d = derivative(case.network, x, conv)
        name = f"jacobian at {entry['at']} (convention {conv})"
        if "jacobian" in entry:
            checks.append(Check(name, entry["jacobian"], d.matrix, same(entry["jacobian"], d.matrix, f"{path}[{i}].jacobian")))
        extra = set(entry) - {"at", "convention", "jacobian", "source"}
        if extra:
            from .clarke_checks import check_jacobian_extras  # differentiable, clarke, in_clarke

            checks.extend(check_jacobian_extras(case, x, conv, entry, f"{path}[{i}]", name))
    return checks


@checker("parameter_gradient")
def _check_parameter_gradient(case: Case, value: Any, path: str) -> list[Check]:
    checks = []
    for i, entry in enumerate(_entries(value, path)):
        x = parse_point(str(entry["at"]), case.network.input_dim, f"{path}[{i}].at")
        conv = entry.get("convention", "0")
        g = parameter_gradient(case.network, x, conv)
        for key, got in (("weight", g.weight), ("bias", g.bias)):
            if key in entry:
                name = f"parameter gradient ({key}) at {entry['at']} (convention {conv})"
                checks.append(Check(name, entry[key], got, same(entry[key], got, f"{path}[{i}].{key}")))
    return checks
