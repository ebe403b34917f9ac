"""The piecewise-linear activation family.

Every activation is a continuous piecewise-linear function of one variable, given
by its knots ``t_0 < … < t_{k-1}``, one slope per piece ``s_0 … s_k`` and its value at
the first knot (at 0 when there are no knots). `relu`, `leaky_relu`, `prelu`,
`hardtanh`, `abs` and the linear splines of seed 002 are all of this form; `kind`
and `params` remember which, for writing case files and for the frameworks'
derivative conventions at the knots.

Where a point sits is a *state*: ``2*i`` means inside piece ``i``, ``2*j + 1`` means
exactly at knot ``j`` (between pieces ``j`` and ``j + 1``).

>>> r = relu()
>>> r(Fraction(-2)), r(Fraction(3)), r.state(Fraction(0)), r.state(Fraction(5))
(Fraction(0, 1), Fraction(3, 1), 1, 2)
>>> hardtanh(-1, 1).knots
(Fraction(-1, 1), Fraction(1, 1))
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Sequence

from .errors import InputError

KINDS = ("relu", "leaky_relu", "prelu", "hardtanh", "abs", "spline")


@dataclass(frozen=True)
class PiecewiseLinear:
    """A continuous PL function R -> R: knots, slopes (one more than knots), value.

    ``value`` is the value at the first knot, or at 0 when there is no knot.
    Knots where the slope does not change are not knots of the function and are
    removed (they would split no region and carry no derivative choice).
    """

    knots: tuple[Fraction, ...]
    slopes: tuple[Fraction, ...]
    value: Fraction
    kind: str = "spline"
    params: tuple[Fraction, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if len(self.slopes) != len(self.knots) + 1:
            raise InputError(
                f"expected {len(self.knots) + 1} slopes for {len(self.knots)} knots, got {len(self.slopes)}",
                path="slopes",
            )
        for i in range(1, len(self.knots)):
            if not self.knots[i - 1] < self.knots[i]:
                raise InputError(
                    f"expected strictly increasing knots, got {self.knots[i - 1]} then {self.knots[i]}",
                    path=f"knots[{i}]",
                )
        values = [self.value]
        for j in range(1, len(self.knots)):
            values.append(values[-1] + self.slopes[j] * (self.knots[j] - self.knots[j - 1]))
        keep = [j for j in range(len(self.knots)) if self.slopes[j] != self.slopes[j + 1]]
        if len(keep) < len(self.knots):
            if keep:
                value = values[keep[0]]
            elif self.knots:  # no real knot left: the value at 0 of a linear function
                value = values[0] - self.slopes[0] * self.knots[0]
            else:
                value = self.value
            object.__setattr__(self, "value", value)
            object.__setattr__(self, "knots", tuple(self.knots[j] for j in keep))
            object.__setattr__(self, "slopes", (self.slopes[0],) + tuple(self.slopes[j + 1] for j in keep))
            values = [values[j] for j in keep]
        object.__setattr__(self, "_knot_values", tuple(values))

    def __call__(self, t: Fraction) -> Fraction:
        if not self.knots:
            return self.value + self.slopes[0] * t
        j = bisect.bisect_right(self.knots, t)
        if j == 0:
            return self.value + self.slopes[0] * (t - self.knots[0])
        return self._knot_values[j - 1] + self.slopes[j] * (t - self.knots[j - 1])

    def state(self, t: Fraction) -> int:
        """``2*i`` inside piece i, ``2*j + 1`` exactly at knot j."""
        j = bisect.bisect_left(self.knots, t)
        if j < len(self.knots) and self.knots[j] == t:
            return 2 * j + 1
        return 2 * j

    @property
    def num_pieces(self) -> int:
        return len(self.slopes)

    def left_slope(self, knot: int) -> Fraction:
        return self.slopes[knot]

    def right_slope(self, knot: int) -> Fraction:
        return self.slopes[knot + 1]

    def piece_affine(self, piece: int) -> tuple[Fraction, Fraction]:
        """(slope, intercept) of the affine function on piece ``piece``."""
        s = self.slopes[piece]
        if not self.knots:
            return s, self.value
        if piece == 0:
            return s, self.value - s * self.knots[0]
        return s, self._knot_values[piece - 1] - s * self.knots[piece - 1]

    def bv2_norm(self) -> Fraction:
        """Seed 002's ``||σ||_BV2 = TV2(σ) + |σ(0)| + |σ(1)|``; TV2 is the sum of slope jumps."""
        tv2 = sum((abs(self.slopes[j + 1] - self.slopes[j]) for j in range(len(self.knots))), Fraction(0))
        return tv2 + abs(self(Fraction(0))) + abs(self(Fraction(1)))

def relu() -> PiecewiseLinear:
    return PiecewiseLinear((Fraction(0),), (Fraction(0), Fraction(1)), Fraction(0), "relu")


def leaky_relu(alpha: Fraction, kind: str = "leaky_relu") -> PiecewiseLinear:
    alpha = Fraction(alpha)
    if alpha == 1:
        return PiecewiseLinear((), (Fraction(1),), Fraction(0), kind, (alpha,))
    return PiecewiseLinear((Fraction(0),), (alpha, Fraction(1)), Fraction(0), kind, (alpha,))


def hardtanh(lo: Fraction, hi: Fraction) -> PiecewiseLinear:
    lo, hi = Fraction(lo), Fraction(hi)
    if not lo < hi:
        raise InputError(f"expected min < max, got min={lo}, max={hi}", path="min")
    return PiecewiseLinear((lo, hi), (Fraction(0), Fraction(1), Fraction(0)), lo, "hardtanh", (lo, hi))


def absolute() -> PiecewiseLinear:
    return PiecewiseLinear((Fraction(0),), (Fraction(-1), Fraction(1)), Fraction(0), "abs")


def spline(knots: Sequence[Fraction], slopes: Sequence[Fraction], value: Fraction) -> PiecewiseLinear:
    return PiecewiseLinear(tuple(map(Fraction, knots)), tuple(map(Fraction, slopes)), Fraction(value), "spline")


def spline_from_relus(
    a: Sequence[Fraction], tau: Sequence[Fraction], b1: Fraction, b2: Fraction
) -> PiecewiseLinear:
    """Seed 002's form ``σ(x) = Σ_k a_k relu(x − τ_k) + b1·x + b2`` (eq. 18).

    >>> s = spline_from_relus([1, -2], [0, 1], 0, 0)
    >>> s.knots, s.slopes
    ((Fraction(0, 1), Fraction(1, 1)), (Fraction(0, 1), Fraction(1, 1), Fraction(-1, 1)))
    """
    jumps: dict[Fraction, Fraction] = {}
    for ak, tk in zip(a, tau, strict=True):
        jumps[Fraction(tk)] = jumps.get(Fraction(tk), Fraction(0)) + Fraction(ak)
    knots = sorted(jumps)
    slopes = [Fraction(b1)]
    for t in knots:
        slopes.append(slopes[-1] + jumps[t])
    value = Fraction(b1) * (knots[0] if knots else 0) + Fraction(b2)
    return spline(knots, slopes, value)
