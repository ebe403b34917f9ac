"""Numbers that say how they were obtained: exact, certified, or an estimate; and the
shape every result shares.

Every analysis that can run on a float path returns `Quantity` values, so that a
float is never mistaken for an exact answer. Every public analysis returns a frozen
result with ``value`` (the answer), ``guarantee`` (`EXACT`, `CERTIFIED` or `ESTIMATE`)
and ``diagnostics`` (how it was obtained: nodes, LPs, time, backend); `Bounds` is the
one result of the K bounds, exact or from a float backend.

>>> q = Quantity(Fraction(3, 2), EXACT)
>>> q.to_json("L")
{'L': '3/2', 'L_float': 1.5, 'L_guarantee': 'exact'}
>>> Quantity(2.0000001, CERTIFIED, upper=True).to_json("K3")["K3_guarantee"]
'certified upper bound'
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    (for example ``"largest root of 5*x**2 - 3"``); ``number``: that exact number itself
    (an `exactrelu.core.algebraic.Algebraic`), for the text output.
    """

    value: Fraction | float | None
    guarantee: str
    upper: bool = False
    lower: bool = False
    interval: tuple[Fraction | float, Fraction | float] | None = None
    algebraic: str | None = None
    number: Any = field(default=None, compare=False)

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


BOUND_NAMES = ("K_star", "K", "K1", "K2", "K3", "K4", "C", "C_E")


def weakest(guarantees: Any) -> str:
    """The weakest of some guarantees (an estimate beats certified beats exact).

    >>> weakest([EXACT, CERTIFIED]), weakest([]), weakest([EXACT, ESTIMATE, CERTIFIED])
    ('certified', 'exact', 'estimate')
    """
    found = set(guarantees)
    return next((g for g in (ESTIMATE, CERTIFIED) if g in found), EXACT)


@dataclass(frozen=True)
class Bounds:
    """The bounds of one network for one norm, from the exact engine or a float backend.

    ``values``: name -> `Quantity` (``K_star, K, K1, K2, K3, K4``, seed 002's ``C, C_E``,
    and on the float paths L's bracket ``L, L_lower, L_upper``; certified values are upper
    bounds, and ``K``, ``L`` carry ``interval = (lower, upper)`` when their lower end is
    proven); ``undefined``: name -> why the bound does not apply or was not computed;
    ``diagnostics``: nodes searched for ``K``, backend, device, mode, timings;
    ``witness``: the point of L's lower bound (float paths).

    >>> b = Bounds("inf", {"K3": Quantity(Fraction(2), EXACT)}, {"K2": "ℓ2 only"})
    >>> b.guarantee, b["K3"].value, b.to_json()["K2_undefined"]
    ('exact', Fraction(2, 1), 'ℓ2 only')
    """

    norm: str
    values: dict[str, Quantity]
    undefined: dict[str, str] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    witness: tuple[float, ...] | None = None

    @property
    def value(self) -> dict[str, Quantity]:
        return self.values

    @property
    def guarantee(self) -> str:
        return weakest(q.guarantee for q in self.values.values())

    def __getitem__(self, name: str) -> Quantity:
        return self.values[name]

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def to_json(self) -> dict[str, Any]:
        """The SPEC's keys with ``_float``/``_guarantee``/``_interval`` siblings; ``<name>: null``
        and ``<name>_undefined`` for a bound not given."""
        doc: dict[str, Any] = {"norm": self.norm}
        for name in BOUND_NAMES:
            if name in self.values:
                doc.update(self.values[name].to_json(name))
            elif name in self.undefined:
                doc[name] = None
                doc[f"{name}_undefined"] = self.undefined[name]
        for name, q in self.values.items():
            if name not in BOUND_NAMES:
                doc.update(q.to_json(name))
        for name, why in self.undefined.items():
            if name not in BOUND_NAMES:
                doc[name] = None
                doc[f"{name}_undefined"] = why
        if self.witness is not None:
            doc["L_witness"] = [float(v) for v in self.witness]
        doc["diagnostics"] = self.diagnostics
        return doc
