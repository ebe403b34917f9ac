"""Filtered predicates: the signs of affine forms ``b_j - a_j · x`` at rational points,
decided in float64 with a proven error bound, exactly (flint) only where the bound
cannot decide (Shewchuk's adaptive predicates, CGAL's filtered kernel; DESIGN.md
"Filtered predicates").

The bound. Rows and points are rounded to binary64 correctly (``float`` of an `fmpq` is
CPython's correctly rounded integer division), so each entry moves by at most ``u|v|``
(``u = 2^-53``) while it is a normal number; numpy then evaluates
``s = b̂ - Σ â_i x̂_i`` in some order. For any order, the computed s is within
``γ_{n+1} S`` of the exact value on the rounded data (``S = |b̂| + Σ |â_i| |x̂_i|``,
``γ_k = k u / (1 - k u)``), and the rounding of the data adds at most
``(2u + u²) Σ|a_i x_i| + u |b|``. With S itself computed in floats (all terms
nonnegative, so within a factor ``1 ± γ_{n+1}``), the total error is below
``2 (n + 6) u Ŝ + (n + 1) 2^-1074`` (the last term: products that underflow). An entry
that is subnormal after rounding (a relative error up to 1) or not finite makes the
filter stand aside for the whole form or point: exact arithmetic decides. So a sign is
decided in floats only when ``|s|`` exceeds that bound, and then it is the exact sign.

>>> from flint import fmpq
>>> counts = FilterCounts()
>>> forms = AffineForms([[fmpq(1), fmpq(1)], [fmpq(1, 3), fmpq(-1)]], [fmpq(1), fmpq(0)], counts)
>>> forms.signs([[fmpq(1, 2), fmpq(1, 2)], [fmpq(3), fmpq(1)]]).tolist()   # 1 - x - y, -(x/3 - y)
[[0, -1], [1, 0]]
>>> counts.decided, counts.fallbacks                 # the two zeros needed exact arithmetic
(2, 2)
>>> forms.inside_except([fmpq(1, 2), fmpq(1, 2)], skip=0)   # strictly inside row 1 (not row 0)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from flint import fmpq

U = 2.0**-53  # the unit roundoff of binary64
TINY = 2.0**-1074  # the smallest subnormal: a product's absolute error on underflow
_NORMAL = 2.0**-1022
_MAX = float(np.finfo(float).max)


@dataclass
class FilterCounts:
    """How many signs the float filter decided and how many fell back to exact
    arithmetic (mutable: pass one in to count)."""

    decided: int = 0
    fallbacks: int = 0

    @property
    def fallback_rate(self) -> float:
        """The fraction of signs that needed exact arithmetic (0 when none was asked)."""
        total = self.decided + self.fallbacks
        return self.fallbacks / total if total else 0.0


def to_floats(values: Sequence[Any]) -> np.ndarray | None:
    """The values (`fmpq`, `Fraction` or int) rounded to binary64, correctly; None when
    one overflows or is nonzero below the normal range (the filter's bound needs every
    entry to have relative error at most u)."""
    try:
        vals = [float(v) for v in values]
    except OverflowError:
        return None
    if len(vals) < 64:  # a loop is cheaper than numpy's calls on a few values
        for x, v in zip(vals, values):
            if x != 0.0 and not _NORMAL <= abs(x) <= _MAX or x == 0.0 and v != 0:
                return None
        return np.array(vals, dtype=float)
    out = np.array(vals, dtype=float)
    a = np.abs(out)
    if ((a != 0) & ~((a >= _NORMAL) & (a <= _MAX))).any():
        return None
    if any(values[i] != 0 for i in np.flatnonzero(a == 0).tolist()):
        return None
    return out


class AffineForms:
    """The affine forms ``b_j - a_j · x`` of rational rows (`fmpq`), for batched sign
    queries at rational points (`signs`). ``counts``: a `FilterCounts` to add to.
    ``dim``: the dimension (needed when there are no rows). ``Af``, ``bf``: the rows in
    floats, when ``usable`` (every entry a normal float)."""

    def __init__(
        self,
        A: Sequence[Sequence[fmpq]],
        b: Sequence[fmpq],
        counts: FilterCounts | None = None,
        dim: int | None = None,
    ) -> None:
        self.A = A
        self.b = b
        self.m = len(A)
        self.n = dim if dim is not None else len(A[0]) if self.m else 0
        self.counts = counts if counts is not None else FilterCounts()
        flat = to_floats([v for row in A for v in row])
        Af = None if flat is None else flat.reshape(self.m, self.n)
        bf = to_floats(b)
        self.usable = Af is not None and bf is not None
        if self.usable:
            self.Af = Af
            self.bf = bf
            self.Aabs = np.abs(Af)
            self.babs = np.abs(bf)
        self.factor = 2.0 * (self.n + 6) * U
        self.floor = (self.n + 1) * TINY

    def signs(self, points: Sequence[Sequence[fmpq]]) -> np.ndarray:
        """The signs (-1, 0, 1) of ``b_j - a_j · x`` for every row j and point x, as an
        ``(m, len(points))`` int8 array; exact."""
        out = self.float_signs(points)
        for j, c in zip(*(idx.tolist() for idx in np.nonzero(out == 0))):
            out[j, c] = exact_sign(self.A[j], self.b[j], points[c])
        return out

    def float_signs(self, points: Sequence[Sequence[fmpq]]) -> np.ndarray:
        """The filter alone: an ``(m, len(points))`` int8 array holding the exact sign
        of ``b_j - a_j · x`` where the float bound decides it and 0 where it does not
        (for a caller that settles those entries exactly in its own way)."""
        k = len(points)
        out = np.zeros((self.m, k), dtype=np.int8)
        X = to_floats([v for x in points for v in x]) if self.usable and k and self.m else None
        if X is not None:
            X = X.reshape(k, self.n).T
            with np.errstate(over="ignore", invalid="ignore"):
                V = self.bf[:, None] - self.Af @ X
                E = self.factor * (self.babs[:, None] + self.Aabs @ np.abs(X)) + self.floor
                out[V > E] = 1
                out[V < -E] = -1
        decided = int(np.count_nonzero(out))
        self.counts.decided += decided
        self.counts.fallbacks += self.m * k - decided
        return out

    def inside_except(self, x: Sequence[fmpq], skip: int) -> bool:
        """Whether ``b_j - a_j · x > 0`` for every row j other than ``skip``; exact (the
        float filter first; exact arithmetic for the rows it leaves open, stopping at
        the first that fails)."""
        if self.usable:
            xf = to_floats(x)
        else:
            xf = None
        if xf is None:
            open_rows = [j for j in range(self.m) if j != skip]
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                V = self.bf - self.Af @ xf
                E = self.factor * (self.babs + self.Aabs @ np.abs(xf)) + self.floor
                neg = V < -E
            neg[skip] = False
            if neg.any():
                self.counts.decided += self.m - 1
                return False
            undecided = ~(V > E)
            undecided[skip] = False
            open_rows = np.flatnonzero(undecided).tolist()
            self.counts.decided += self.m - 1 - len(open_rows)
        self.counts.fallbacks += len(open_rows)
        return all(exact_sign(self.A[j], self.b[j], x) > 0 for j in open_rows)


def exact_sign(a: Sequence[fmpq], beta: fmpq, x: Sequence[fmpq]) -> int:
    """The sign of ``beta - a · x``, in exact rational arithmetic.

    >>> exact_sign([fmpq(1), fmpq(1)], fmpq(1), [fmpq(1, 2), fmpq(1, 2)])
    0
    """
    v = beta
    for ai, xi in zip(a, x):
        if ai != 0:
            v -= ai * xi
    return (v > 0) - (v < 0)


# -- signs of uncertain data: floats known only to lie within radii -------------------------
#
# For code that computes in floats throughout (the 2-D splitter, `exactrelu.regions.
# filtered2d`): each quantity is a float v̂ with a radius r, the true value within r of it.
# A sign is decided where the computed value is farther from zero than its bound.


def gamma(k: int) -> float:
    """``γ_k = k u / (1 - k u)``: a sum or product of k roundings is within ``γ_k`` (relative)."""
    return k * U / (1 - k * U)


def rounded(values: Sequence[Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """The values in binary64 (`to_floats`) and their radii ``u|v̂|``; None where
    `to_floats` refuses them."""
    vals = to_floats(list(values))
    return None if vals is None else (vals, U * np.abs(vals))


def undecided(val: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """Where a computed value's sign is not proven by its error bound (``|v̂| <= bound``);
    elsewhere its sign is the true value's."""
    return np.abs(val) <= bound


def plane_values(g0, g1, c, Rg0, Rg1, Rc, X, Y, R):  # type: ignore[no-untyped-def]
    """``g0 x + g1 y + c`` at points (X, Y) and a bound on its distance from the true value:
    the coefficients' true values lie within (Rg0, Rg1, Rc) of theirs, the true point
    within R (∞-norm) of (X, Y). The bound: ``Rg(|v̂| + R) + |ĝ| R + Rc`` for the data,
    ``γ_3(|ĝ||v̂| + |ĉ|)`` for the evaluation, enlarged by ``1 + γ_10`` for its own rounding
    and by ``4·2^-1074`` for underflow. Arrays broadcast.

    >>> val, bound = plane_values(1.0, 1.0, -1.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.0)
    >>> float(val), bool(undecided(val, bound))       # exactly on the line x + y = 1
    (0.0, True)
    """
    val = g0 * X + g1 * Y + c
    ag0, ag1 = np.abs(g0), np.abs(g1)
    aX, aY = np.abs(X), np.abs(Y)
    E = Rg0 * (aX + R) + Rg1 * (aY + R) + (ag0 + ag1) * R + Rc + gamma(3) * (ag0 * aX + ag1 * aY + np.abs(c))
    return val, E * (1 + gamma(10)) + 4 * TINY


def plane_crossings(line, row):  # type: ignore[no-untyped-def]
    """The crossings of lines ``a0 x + a1 y + b = 0`` with lines ``g0 x + g1 y + c = 0``
    (``line``, ``row``: (coefficients, then their radii), arrays of one shape), each with
    an ∞-norm radius around the true crossing of the true lines, and whether that radius
    is proven (False where the 2×2 system is too ill conditioned for it). With ``A q = r``
    the system (``A = [[a0, a1], [g0, g1]]``, ``r = -(b, c)``), ``N`` an upper bound on
    ``‖A^-1‖∞`` (the adjugate's row sums over a lower bound on ``|det A|``) and ``ΔA``,
    ``Δr`` the radii: the true crossing is within ``N/(1 - N‖ΔA‖∞) · ‖Δr + ΔA|q̂| + |r - A q̂|‖∞``
    of the computed q̂ (the residual bounded with its own rounding), refused unless
    ``N‖ΔA‖∞ < 1/2``. Run under ``np.errstate`` that ignores division by zero and overflow
    (a singular system gives nan or inf, refused).

    >>> with np.errstate(divide="ignore", invalid="ignore"):
    ...     qx, qy, r, ok = plane_crossings((1.0, 0.0, -0.5, 0.0, 0.0, 0.0), (0.0, 1.0, -0.25, 0.0, 0.0, 0.0))
    >>> float(qx), float(qy), bool(ok), float(r) < 1e-15     # x = 1/2 and y = 1/4
    (0.5, 0.25, True, True)
    """
    a0, a1, b, ra0, ra1, rb = line
    g0, g1, c, Rg0, Rg1, Rc = row
    det = a0 * g1 - a1 * g0
    qx = (a1 * c - b * g1) / det
    qy = (g0 * b - a0 * c) / det
    low = np.abs(det) - gamma(2) * (np.abs(a0 * g1) + np.abs(a1 * g0)) * (1 + 2 * U)
    N = np.maximum(np.abs(g1) + np.abs(a1), np.abs(g0) + np.abs(a0)) * (1 + 2 * U) / low * (1 + 2 * U)
    dA = np.maximum(ra0 + ra1, Rg0 + Rg1)
    aqx, aqy = np.abs(qx), np.abs(qy)
    res0 = np.abs(-b - (a0 * qx + a1 * qy)) + gamma(3) * (np.abs(b) + np.abs(a0) * aqx + np.abs(a1) * aqy)
    res1 = np.abs(-c - (g0 * qx + g1 * qy)) + gamma(3) * (np.abs(c) + np.abs(g0) * aqx + np.abs(g1) * aqy)
    num = np.maximum(rb + ra0 * aqx + ra1 * aqy + res0, Rc + Rg0 * aqx + Rg1 * aqy + res1) * (1 + gamma(8))
    rq = N / (1 - N * dA) * num * (1 + gamma(8)) + 4 * TINY
    return qx, qy, rq, (low > 0) & (N * dA < 0.5) & np.isfinite(rq)
