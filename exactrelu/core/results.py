"""Numbers that say how they were obtained: exact, certified, or an estimate.

Every analysis that can run on a float path returns `Quantity` values, so that a
float is never mistaken for an exact answer.

>>> q = Quantity(Fraction(3, 2), EXACT)
>>> q.to_json("L")
{'L': '3/2', 'L_float': 1.5, 'L_guarantee': 'exact'}
>>> Quantity(2.0000001, CERTIFIED, upper=True).to_json("K3")["K3_guarantee"]
'certified upper bound'
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .numbers import format_number

EXACT = "exact"
CERTIFIED = "certified"
ESTIMATE = "estimate"
GUARANTEES = (EXACT, CERTIFIED, ESTIMATE)


@dataclass(frozen=True)
class Quantity:
    """A value with its guarantee.

    ``value``: a `Fraction` when exact and rational, else a float. ``guarantee``: one
    of `GUARANTEES`. ``upper`` / ``lower``: for a certified or estimated *bound*, which
    side it bounds (a certified upper bound is never below the true value).
    ``interval``: a certified enclosure ``(lo, hi)`` where the exact value is not
    rational (ℓ2 norms). ``algebraic``: an exact description when not rational
    (for example ``"largest root of 5*x**2 - 3"``).
    """

    value: Fraction | float | None
    guarantee: str
    upper: bool = False
    lower: bool = False
    interval: tuple[Fraction | float, Fraction | float] | None = None
    algebraic: str | None = None

    def __post_init__(self) -> None:
        if self.guarantee not in GUARANTEES:
            raise ValueError(f"guarantee must be one of {GUARANTEES}, got {self.guarantee!r}")

    @property
    def label(self) -> str:
        side = " upper bound" if self.upper else " lower bound" if self.lower else ""
        return self.guarantee + side

    def __float__(self) -> float:
        if self.value is None:
            raise ValueError("no value")
        return float(self.value)

    def to_json(self, name: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if isinstance(self.value, Fraction):
            out[name] = format_number(self.value)
        elif self.algebraic is not None:
            out[name] = self.algebraic
        else:
            out[name] = self.value
        out[f"{name}_float"] = None if self.value is None else float(self.value)
        out[f"{name}_guarantee"] = self.label
        if self.interval is not None:
            out[f"{name}_interval"] = [
                format_number(v) if isinstance(v, Fraction) else repr(float(v)) for v in self.interval
            ]
        return out
