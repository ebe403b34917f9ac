"""Checking a case's ``expected`` entries against exact computation (``exactrelu verify``).

`CHECKERS` is the explicit registry: each key of ``expected`` has one checker, in the
module of that key; a key without one is bad input (a misspelt key must not pass silently).

>>> from exactrelu.io.case import case_from_json
>>> case = case_from_json({"format": "exactrelu-network/1", "input_dim": 1,
...     "layers": [{"type": "affine", "weight": [["1"], ["-1"]]}, {"type": "relu"},
...                {"type": "affine", "weight": [["1", "-1"]]}],
...     "expected": {"jacobian": [{"at": "0", "convention": "c", "jacobian": [["2*c"]]}]}})
>>> [c.ok for c in verify_case(case)]
[True]
"""

from __future__ import annotations

from ..core.errors import InputError
from ..io.case import Case
from . import (
    bounds,
    jacobian,
    lipschitz,
    parameter_gradient,
    properties,
    regions,
    smoothing,
)
from .check import Check, Checker

CHECKERS: dict[str, Checker] = {
    "activation_regions": regions.check_activation_regions,
    "linear_pieces": regions.check_linear_pieces,
    "bounded_regions": regions.check_bounded_regions,
    "volumes": regions.check_volumes,
    "lipschitz": lipschitz.check_lipschitz,
    "bounds": bounds.check_bounds,
    "jacobian": jacobian.check_jacobian,
    "parameter_gradient": parameter_gradient.check_parameter_gradient,
    "properties": properties.check_properties,
    "smooth": smoothing.check_smooth,
}


def verify_case(case: Case) -> list[Check]:
    """Run the checker of every ``expected`` key; unknown keys raise `InputError`."""
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


__all__ = ["CHECKERS", "Check", "verify_case"]
