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

_U = 2.0**-53
_TINY = 2.0**-1074
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
    for x, v in zip(vals, values):
        if x != 0.0 and not _NORMAL <= abs(x) <= _MAX or x == 0.0 and v != 0:
            return None
    return np.array(vals, dtype=float)


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
        self.factor = 2.0 * (self.n + 6) * _U
        self.floor = (self.n + 1) * _TINY

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
