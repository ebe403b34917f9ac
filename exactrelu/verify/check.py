"""What every ``expected`` checker returns (`Check`) and the exact comparison they share
(`same`: a number or a closed form, read by the safe expression reader, against a value).

>>> same("2*c", sympy.Symbol("c") * 2, "expected")
True
>>> same("1/3", Fraction(1, 3), "expected")
True
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

import sympy

from ..core.conventions import as_sympy
from ..core.errors import InputError
from ..core.expressions import parse_expression
from ..core.numbers import parse_number
from ..core.report import exact
from ..io.case import Case


@dataclass(frozen=True)
class Check:
    """One comparison: what was expected, what the exact engine computed."""

    name: str
    expected: Any
    got: Any
    ok: bool
    note: str = ""  # how it passed when not by exact equality (a tolerance, an enclosure)

    def to_json(self) -> dict[str, Any]:
        doc = {"name": self.name, "expected": self.expected, "got": exact(self.got), "ok": self.ok}
        if self.note:
            doc["note"] = self.note
        return doc


Checker = Callable[[Case, Any, str], list[Check]]
"""A checker: (the case, the ``expected`` entry, its JSON path) -> the checks made."""


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
    e = parse_expression(expected, path) if isinstance(expected, str) else sympy.Rational(parse_number(expected, path))
    return sympy.expand(e - as_sympy(got)) == 0


def entries(value: Any, path: str, known: tuple[str, ...]) -> list[dict[str, Any]]:
    """The list of objects of a ``jacobian`` / ``parameter_gradient`` entry, each with an ``at``
    and no key outside ``known`` (a misspelt key must not skip its check silently)."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputError("expected a list of objects with 'at' and 'convention'", path=path)
    for i, v in enumerate(value):
        if "at" not in v:
            raise InputError("missing key 'at'", path=f"{path}[{i}]")
        unknown = [k for k in v if k not in known]
        if unknown:
            raise InputError(f"unknown key (known: {', '.join(known)})", path=f"{path}[{i}].{unknown[0]}")
    return value
