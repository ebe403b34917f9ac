"""Exact polyhedral primitives, each answer carrying its certificate.

Polyhedra are ``{x : A x <= b}`` with rational ``A`` (rows) and ``b``. Every answer is
decided in exact rational arithmetic (python-flint ``fmpq``); a float LP (HiGHS, through
``scipy.optimize.linprog``) may *propose* a point, which is then checked exactly, and
when no proposal survives the check an exact simplex method (`simplex`, Dantzig's rule
with Bland's rule against cycling) decides. No answer rests on a float comparison.

API
---
``interior_point(A, b)`` -> `InteriorResult`
    a rational ``x`` with ``A x < b`` (strict), or a Motzkin certificate
    ``mu >= 0, mu != 0, A^T mu = 0, b^T mu <= 0`` that no such ``x`` exists.
``facet_point(A, b, i)`` -> `FacetResult`
    a rational point on ``a_i x = b_i`` with every row not equivalent to row i
    (same half-space up to a positive factor) strict, or multipliers
    ``mu >= 0`` (zero on row i and its equivalents), ``lam`` with
    ``A^T mu + lam a_i = 0``, ``b^T mu + lam b_i <= 0``, ``mu != 0``: row i is no facet.
``feasible_point(A, b)`` -> `FeasibleResult`
    a rational ``x`` with ``A x <= b``, or a Farkas ray ``y >= 0, A^T y = 0, b^T y < 0``.
``is_empty(A, b)`` -> bool (closed polyhedron).
``lp_max(c, A, b)`` -> `LPResult`: exact optimum (status, value, point, dual), or a
    certificate of infeasibility / an unbounded ray; ``lp_max_basis`` also gives the
    optimal basis (rows defining the optimal vertex), reusable for other objectives;
    ``lp_max_vertex`` gives the optimum in `fmpq` (no `Fraction` conversion).
``boundedness(A, b)`` -> `BoundedResult`: bounded with ``y > 0, A^T y = 0, rank A = n``
    (Stiemke), or a ray ``d != 0`` with ``A d <= 0``; y or the ray proposed by float
    nonnegative least squares and completed and checked exactly, an exact LP when that
    fails.
``simplex(M, r, c)`` -> `SimplexResult`: ``min c^T y, M y = r, y >= 0`` exactly, on a
    fraction-free integer tableau (`fmpz_mat`, one matrix product per pivot).

Every function takes an optional ``stats`` (`LPStats`) that counts the LPs solved.

>>> A = [[1, 0], [0, 1], [-1, -1]]
>>> b = [1, 1, 0]
>>> res = interior_point(A, b)
>>> res.nonempty and all(sum(a * x for a, x in zip(row, res.point)) < bi for row, bi in zip(A, b))
True
>>> interior_point([[1], [-1]], [0, 0]).certificate
(Fraction(1, 2), Fraction(1, 2))
>>> facet_point(A, b, 0).point is not None, facet_point([[1], [1]], [0, 1], 1).is_facet
(True, False)
>>> lp_max([1, 1], A, b).value
Fraction(2, 1)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import numpy as np
from flint import fmpq, fmpq_mat, fmpz, fmpz_mat

from ..core.errors import LimitReached
from ..core.numbers import to_fmpq, to_fraction

Number = Fraction | int | fmpq
Rows = Sequence[Sequence[Number]]

OPTIMAL, INFEASIBLE, UNBOUNDED = "optimal", "infeasible", "unbounded"


@dataclass
class LPStats:
    """Counters of the LPs solved (mutable; pass one in to count), and an optional
    ``deadline`` (a `time.perf_counter` value) after which a pivot raises `LimitReached`."""

    float_lps: int = 0
    exact_lps: int = 0
    pivots: int = 0
    proposals_rejected: int = 0
    deadline: float | None = None

    @property
    def lps(self) -> int:
        return self.float_lps + self.exact_lps


@dataclass(frozen=True)
class SimplexResult:
    """``min c^T y`` s.t. ``M y = r``, ``y >= 0``: status, ``y``, the duals ``pi``
    (``M^T pi <= c`` at optimum), the value; ``ray`` when unbounded."""

    status: str
    y: tuple[Fraction, ...] = ()
    pi: tuple[Fraction, ...] = ()
    value: Fraction | None = None
    farkas: tuple[Fraction, ...] = ()


@dataclass(frozen=True)
class InteriorResult:
    """A strict interior point, or a Motzkin certificate that the interior is empty."""

    point: tuple[Fraction, ...] | None
    certificate: tuple[Fraction, ...] | None = None

    @property
    def nonempty(self) -> bool:
        return self.point is not None


@dataclass(frozen=True)
class FacetResult:
    """A point in the relative interior of facet i, or multipliers proving it is none."""

    point: tuple[Fraction, ...] | None
    multipliers: tuple[Fraction, ...] | None = None
    row_multiplier: Fraction | None = None

    @property
    def is_facet(self) -> bool:
        return self.point is not None


@dataclass(frozen=True)
class FeasibleResult:
    """A point of ``{A x <= b}``, or a Farkas ray ``y >= 0, A^T y = 0, b^T y < 0``."""

    point: tuple[Fraction, ...] | None
    farkas: tuple[Fraction, ...] | None = None

    @property
    def feasible(self) -> bool:
        return self.point is not None


@dataclass(frozen=True)
class LPResult:
    """``max c^T x`` over ``{A x <= b}``: value and optimal point with dual
    ``y >= 0, A^T y = c`` (optimal); a Farkas ray (infeasible); a ray (unbounded)."""

    status: str
    value: Fraction | None = None
    point: tuple[Fraction, ...] | None = None
    dual: tuple[Fraction, ...] | None = None
    ray: tuple[Fraction, ...] | None = None
    farkas: tuple[Fraction, ...] | None = None


@dataclass(frozen=True)
class BoundedResult:
    """Bounded (``y > 0`` with ``A^T y = 0`` and rank n) or a recession ray."""

    bounded: bool
    multipliers: tuple[Fraction, ...] | None = None
    ray: tuple[Fraction, ...] | None = None


# -- helpers ----------------------------------------------------------------------------


def _q(v: Number) -> fmpq:
    return v if isinstance(v, fmpq) else to_fmpq(v)


def _rows(A: Rows) -> list[list[fmpq]]:
    return [list(row) if all(type(v) is fmpq for v in row) else [_q(v) for v in row] for row in A]


def _frac(vals: Sequence[fmpq]) -> tuple[Fraction, ...]:
    return tuple(to_fraction(v) for v in vals)


def dot(a: Sequence[fmpq], x: Sequence[fmpq]) -> fmpq:
    """The exact inner product, skipping zero coefficients."""
    s = fmpq(0)
    for u, v in zip(a, x):
        if u != 0:
            s += u * v
    return s


def _dim(A: Rows, dim: int | None) -> int:
    if dim is not None:
        return dim
    if not A:
        raise ValueError("give dim when there are no rows")
    return len(A[0])


# -- the exact simplex --------------------------------------------------------------------


def simplex(M: Rows, r: Sequence[Number], c: Sequence[Number], *, stats: LPStats | None = None) -> SimplexResult:
    """Exact two-phase simplex for ``min c^T y`` s.t. ``M y = r``, ``y >= 0``.

    Dantzig's rule, switching to Bland's rule after a run of degenerate pivots (so it
    terminates). Returns ``pi`` with ``M^T pi <= c`` and ``r^T pi = c^T y`` at optimum;
    when infeasible, ``farkas`` with ``M^T farkas <= 0`` and ``r^T farkas > 0``.

    >>> res = simplex([[1, 1, 1]], [1], [3, 1, 2])
    >>> res.status, res.value, res.y
    ('optimal', Fraction(1, 1), (Fraction(0, 1), Fraction(1, 1), Fraction(0, 1)))
    >>> simplex([[1, 1]], [-1], [0, 0]).status
    'infeasible'
    """
    res, _, optimum = _simplex(M, r, c, stats)
    if res is not None:
        return res
    value, y, pi = optimum  # type: ignore[misc]
    return SimplexResult(OPTIMAL, _frac(y), _frac(pi), to_fraction(value))


Optimum = tuple[fmpq, list[fmpq], list[fmpq]]


def _simplex(
    M: Rows, r: Sequence[Number], c: Sequence[Number], stats: LPStats | None
) -> tuple[SimplexResult | None, list[int], Optimum | None]:
    """`simplex`, also returning the final basis (column indices; ``q + i`` is the
    artificial of row i); at an optimum, the result is None and the third item gives
    ``(value, y, pi)`` as `fmpq` (callers convert only what they keep)."""
    if stats is not None:
        stats.exact_lps += 1
    p = len(r)
    q = len(c)
    rows = _rows(M)
    rhs = [_q(v) for v in r]
    cost = [_q(v) for v in c]
    signs = []
    for i in range(p):
        if rhs[i] < 0:
            rows[i] = [-v for v in rows[i]]
            rhs[i] = -rhs[i]
            signs.append(-1)
        else:
            signs.append(1)
    width = q + p
    # Fraction-free (integer-preserving, Edmonds/Bareiss) tableau: the system scaled by
    # K (rows and rhs integral; this leaves the pivots, y and the Farkas vector as they
    # are and divides the duals by K) and the costs by Kc; the tableau is ``T / D``
    # with an integer matrix T (last row: the reduced costs) and D the last pivot
    # (> 0), and every pivot runs in C on integers.
    N, K = fmpq_mat(p, q + 1, [v for i in range(p) for v in rows[i] + [rhs[i]]]).numer_denom()
    Nc, Kc = fmpq_mat(1, q, cost).numer_denom()
    zero, one = fmpz(0), fmpz(1)
    flat = N.entries()
    entries: list[Any] = []
    for i in range(p):
        entries += flat[i * (q + 1) : i * (q + 1) + q]
        entries += [one if k == i else zero for k in range(p)]
        entries.append(flat[i * (q + 1) + q])
    # phase 1: minimise the sum of artificials (of the scaled system): d = -(sum of
    # the rows), 0 on the artificial columns
    T = fmpz_mat(p + 1, width + 1, entries + [zero] * (width + 1))
    T = fmpz_mat(p + 1, p + 1, [one if i == k else zero for i in range(p) for k in range(p + 1)] + [-one] * p + [zero]) * T
    for i in range(p):
        T[p, q + i] = zero
    D = fmpz(1)
    basis = [q + i for i in range(p)]
    T, D, pivots = _run(T, D, basis, q, stats)
    if pivots is None:  # cannot happen in phase 1 (bounded below by 0)
        raise AssertionError("phase 1 unbounded")
    if T[p, width] != 0:
        # infeasible: the phase-1 duals w (reduced cost of artificial i is 1 - w_i) have
        # M^T w <= 0 (real reduced costs >= 0) and r^T w = sum of artificials > 0
        farkas = tuple(to_fraction(signs[i] * (1 - fmpq(T[p, q + i], D))) for i in range(p))
        return SimplexResult(INFEASIBLE, farkas=farkas), basis, None
    # drive artificials out of the basis where possible (degenerate pivots)
    for i in range(p):
        if basis[i] >= q:
            for j in range(q):
                if T[i, j] != 0:
                    T, D = _pivot(T, D, basis, i, j)
                    break
    # phase 2: the reduced costs of the cost row [Kc c | 0 | 0], times D:
    # D Kc c - (Kc c_B)^T T (integers; the row is then as if it had been pivoted
    # fraction-free from the start)
    ncost = Nc.entries()
    cb = [ncost[basis[i]] if basis[i] < q else zero for i in range(p)]
    L = fmpz_mat(p + 1, p + 1, [one if i == k else zero for i in range(p) for k in range(p + 1)] + [-v for v in cb] + [zero])
    T = L * T
    for j in range(q):
        if ncost[j] != 0:
            T[p, j] += D * ncost[j]
    T, D, pivots = _run(T, D, basis, q, stats)
    if pivots is None:
        return SimplexResult(UNBOUNDED), basis, None
    y = [fmpq(0)] * q
    for i in range(p):
        if basis[i] < q:
            y[basis[i]] = fmpq(T[i, width], D)
    pi = [fmpq(-T[p, q + i] * signs[i] * K, D * Kc) for i in range(p)]
    return None, basis, (fmpq(-T[p, width], D * Kc), y, pi)


def _pivot(T: fmpz_mat, D: fmpz, basis: list[int], r: int, s: int) -> tuple[fmpz_mat, fmpz]:
    """The fraction-free tableau (T, D) after pivoting on (r, s): row r stays, every
    other row i becomes ``(T[r, s] T_i - T[i, s] T_r) / D`` (exact), and D becomes
    ``T[r, s]``; all as ``E T / D`` with ``E = T[r, s] I - v e_r^T``, v = column s less
    ``D e_r`` (one integer matrix product). Signs are normalised so that D > 0."""
    rows = T.nrows()
    col = [T[i, s] for i in range(rows)]
    piv = col[r]
    col[r] = piv - D
    e = [_ZERO] * (rows * rows)
    for i in range(rows):
        e[i * rows + i] = piv
        e[i * rows + r] -= col[i]
    T = (fmpz_mat(rows, rows, e) * T) / D
    basis[r] = s
    if piv < 0:
        return -T, -piv
    return T, piv


_ZERO = fmpz(0)


def _run(T: fmpz_mat, D: fmpz, basis: list[int], q: int, stats: LPStats | None) -> tuple[fmpz_mat, fmpz, int | None]:
    """Pivot the fraction-free tableau ``T / D`` (see `_simplex`) until optimal (returns
    it and the pivot count) or unbounded (pivot count None). Only the first ``q``
    columns may enter; the last row holds the reduced costs, the last column the
    right-hand sides."""
    p = T.nrows() - 1
    width = T.ncols() - 1
    pivots = 0
    degenerate = 0
    while True:
        bland = degenerate > 20
        s = -1
        best = 0
        for j in range(q):
            dj = T[p, j]
            if dj < best:
                s, best = j, dj
                if bland:
                    break
        if s < 0:
            return T, D, pivots
        r = -1
        ratio = None
        for i in range(p):
            a = T[i, s]
            if a > 0:
                t = fmpq(T[i, width], a)
                if ratio is None or t < ratio or (t == ratio and basis[i] < basis[r]):
                    r, ratio = i, t
        if r < 0:
            return T, D, None
        degenerate = degenerate + 1 if ratio == 0 else 0
        T, D = _pivot(T, D, basis, r, s)
        pivots += 1
        if stats is not None:
            stats.pivots += 1
            if stats.deadline is not None and time.perf_counter() > stats.deadline:
                raise LimitReached("time limit reached inside an LP")


# -- float proposals ------------------------------------------------------------------------


def _float_chebyshev(A: list[list[fmpq]], b: list[fmpq], n: int, stats: LPStats | None) -> np.ndarray | None:
    """HiGHS's proposal of a point deep inside ``{A x < b}`` (max slack, bounded by 1)."""
    from scipy.optimize import linprog

    if stats is not None:
        stats.float_lps += 1
    Af = np.array([[float(v) for v in row] for row in A], dtype=float).reshape(len(A), n)
    bf = np.array([float(v) for v in b], dtype=float)
    norms = np.sqrt((Af * Af).sum(axis=1))
    norms[norms == 0] = 1.0
    A_ub = np.hstack([Af, norms[:, None]])
    cvec = np.zeros(n + 1)
    cvec[-1] = -1.0
    bounds = [(None, None)] * n + [(None, 1.0)]
    try:
        res = linprog(cvec, A_ub=A_ub, b_ub=bf, bounds=bounds, method="highs")
    except ValueError:
        return None
    if res.status != 0 or res.x is None or -res.fun <= 1e-9:
        return None
    return res.x[:n]


def _round_point(x: np.ndarray) -> list[fmpq]:
    out = []
    for v in x:
        f = Fraction(float(v)).limit_denominator(1 << 20)
        out.append(fmpq(f.numerator, f.denominator))
    return out


def _strict(A: list[list[fmpq]], b: list[fmpq], x: Sequence[fmpq]) -> bool:
    return all(dot(a, x) < bi for a, bi in zip(A, b))


# -- primitives ---------------------------------------------------------------------------


def interior_point(
    A: Rows, b: Sequence[Number], *, dim: int | None = None, stats: LPStats | None = None, propose: bool = True
) -> InteriorResult:
    """A rational point with ``A x < b``, or a Motzkin certificate that none exists.

    The certificate ``mu`` satisfies ``mu >= 0``, ``sum(mu) = 1``, ``A^T mu = 0`` and
    ``b^T mu <= 0``. With no rows the answer is the origin (``dim`` is then needed).

    >>> interior_point([[1, 1], [-1, -1]], [1, -1]).certificate
    (Fraction(1, 2), Fraction(1, 2))
    """
    n = _dim(A, dim)
    Aq = _rows(A)
    bq = [_q(v) for v in b]
    if not Aq:
        return InteriorResult(tuple(Fraction(0) for _ in range(n)))
    if propose and n > 0:
        xf = _float_chebyshev(Aq, bq, n, stats)
        if xf is not None:
            x = _round_point(xf)
            if _strict(Aq, bq, x):
                return InteriorResult(_frac(x))
            if stats is not None:
                stats.proposals_rejected += 1
    return _interior_exact(Aq, bq, n, stats)


def _interior_exact(A: list[list[fmpq]], b: list[fmpq], n: int, stats: LPStats | None) -> InteriorResult:
    """Dual of ``max s : A x + s 1 <= b, s <= 1``: ``min b^T mu + tau`` s.t.
    ``A^T mu = 0``, ``1^T mu + tau = 1``, ``mu, tau >= 0``."""
    m = len(A)
    M = [[A[j][k] for j in range(m)] + [fmpq(0)] for k in range(n)]
    M.append([fmpq(1)] * (m + 1))
    r = [fmpq(0)] * n + [fmpq(1)]
    c = list(b) + [fmpq(1)]
    res = simplex(M, r, c, stats=stats)
    if res.status != OPTIMAL:
        raise AssertionError(f"interior LP dual: {res.status}")
    if res.value > 0:
        x = [to_fmpq(v) for v in res.pi[:n]]
        if not _strict(A, b, x):
            raise AssertionError("exact simplex returned a point that is not interior")
        return InteriorResult(_frac(x))
    mu = res.y[:m]
    return InteriorResult(None, mu)


def _normal_key(a: Sequence[fmpq], beta: fmpq) -> tuple[fmpq, ...] | None:
    """The half-space ``a x <= beta`` scaled so that its first nonzero |a_k| is 1."""
    for v in a:
        if v != 0:
            s = abs(v)
            return tuple(u / s for u in a) + (beta / s,)
    return None


def facet_point(
    A: Rows, b: Sequence[Number], i: int, *, stats: LPStats | None = None, propose: bool = True
) -> FacetResult:
    """A point on ``a_i x = b_i`` with every other row strict (rows equivalent to row i,
    the same half-space up to a positive factor, are exempt), or multipliers proving
    that row i defines no facet of ``{A x <= b}`` (see the module docstring).

    >>> facet_point([[1, 0], [-1, 0], [0, 1], [0, -1]], [1, 1, 1, 1], 2).point[1]
    Fraction(1, 1)
    >>> r = facet_point([[1, 0], [2, 0]], [1, 1], 0)
    >>> r.is_facet, r.multipliers, r.row_multiplier
    (False, (Fraction(0, 1), Fraction(1, 1)), Fraction(-2, 1))
    """
    Aq = _rows(A)
    bq = [_q(v) for v in b]
    n = len(Aq[i])
    ai, bi = Aq[i], bq[i]
    key = _normal_key(ai, bi)
    if key is None:
        raise ValueError("row i is zero")
    others = [j for j in range(len(Aq)) if j != i and _normal_key(Aq[j], bq[j]) != key]
    k = next(t for t in range(n) if ai[t] != 0)
    # substitute x_k = (b_i - sum_{t != k} a_it x_t) / a_ik
    free = [t for t in range(n) if t != k]
    red_A = [[Aq[j][t] - Aq[j][k] * ai[t] / ai[k] for t in free] for j in others]
    red_b = [bq[j] - Aq[j][k] * bi / ai[k] for j in others]
    res = interior_point(red_A, red_b, dim=n - 1, stats=stats, propose=propose) if red_A else InteriorResult(
        tuple(Fraction(0) for _ in free)
    )
    if res.nonempty:
        y = [to_fmpq(v) for v in res.point]
        xk = (bi - sum((ai[t] * v for t, v in zip(free, y)), fmpq(0))) / ai[k]
        x = [fmpq(0)] * n
        for t, v in zip(free, y):
            x[t] = v
        x[k] = xk
        return FacetResult(_frac(x))
    mu = [fmpq(0)] * len(Aq)
    for j, v in zip(others, res.certificate):
        mu[j] = to_fmpq(v)
    lam = -sum((mu[j] * Aq[j][k] for j in others), fmpq(0)) / ai[k]
    return FacetResult(None, _frac(mu), to_fraction(lam))


def feasible_point(
    A: Rows, b: Sequence[Number], *, dim: int | None = None, stats: LPStats | None = None
) -> FeasibleResult:
    """A rational point of ``{A x <= b}``, or a Farkas ray ``y >= 0, A^T y = 0, b^T y < 0``.

    >>> feasible_point([[1], [-1]], [0, 0]).point
    (Fraction(0, 1),)
    >>> feasible_point([[1], [-1]], [0, -1]).farkas
    (Fraction(1, 2), Fraction(1, 2))
    """
    n = _dim(A, dim)
    Aq = _rows(A)
    bq = [_q(v) for v in b]
    if not Aq:
        return FeasibleResult(tuple(Fraction(0) for _ in range(n)))
    # dual of max 0 s.t. A x <= b: min b^T y s.t. A^T y = 0, y >= 0, with 1^T y <= 1
    m = len(Aq)
    M = [[Aq[j][k] for j in range(m)] + [fmpq(0)] for k in range(n)]
    M.append([fmpq(1)] * (m + 1))
    res = simplex(M, [fmpq(0)] * n + [fmpq(1)], bq + [fmpq(0)], stats=stats)
    if res.value < 0:
        return FeasibleResult(None, res.y[:m])
    x = [to_fmpq(v) for v in res.pi[:n]]
    # the optimal duals: A x + t <= b, t <= 0, maximising t = 0 -> A x <= b
    if not all(dot(a, x) <= bj for a, bj in zip(Aq, bq)):
        raise AssertionError("exact simplex returned an infeasible point")
    return FeasibleResult(_frac(x))


def is_empty(A: Rows, b: Sequence[Number], *, dim: int | None = None, stats: LPStats | None = None) -> bool:
    """Whether the closed polyhedron ``{A x <= b}`` is empty (decided exactly).

    >>> is_empty([[1], [-1]], [0, 0]), is_empty([[1], [-1]], [0, -1])
    (False, True)
    """
    return not feasible_point(A, b, dim=dim, stats=stats).feasible


def lp_max(
    c: Sequence[Number],
    A: Rows,
    b: Sequence[Number],
    *,
    point: Sequence[Number] | None = None,
    stats: LPStats | None = None,
) -> LPResult:
    """The exact maximum of ``c^T x`` over ``{A x <= b}``.

    Solved as the dual ``min b^T y`` s.t. ``A^T y = c``, ``y >= 0``; the optimal ``x`` is
    the dual's multiplier vector. ``point``: a known point of the polyhedron (checked
    exactly), which spares the feasibility LP when the maximum is unbounded.

    >>> lp_max([1], [[1], [-1]], [2, 0]).value, lp_max([1], [[-1]], [0]).status
    (Fraction(2, 1), 'unbounded')
    """
    return lp_max_basis(c, A, b, point=point, stats=stats)[0]


def lp_max_basis(
    c: Sequence[Number],
    A: Rows,
    b: Sequence[Number],
    *,
    point: Sequence[Number] | None = None,
    stats: LPStats | None = None,
) -> tuple[LPResult, tuple[int, ...] | None]:
    """`lp_max`, and when the maximum is attained at a vertex, the n rows (indices into
    ``A``) whose equations define it: an optimal basis. For any ``c'``, the solution
    ``y_B`` of ``A_B^T y_B = c'``, when ``>= 0``, is an optimal dual for ``c'`` too (the
    vertex stays optimal), which spares an LP per objective.

    >>> res, basis = lp_max_basis([1, 2], [[1, 0], [0, 1], [-1, -1]], [1, 1, 0])
    >>> res.value, sorted(basis)
    (Fraction(3, 1), [0, 1])
    """
    res, basis, optimum = lp_max_vertex(c, A, b, point=point, stats=stats)
    if res is not None:
        return res, basis
    value, x, y = optimum  # type: ignore[misc]
    return LPResult(OPTIMAL, to_fraction(value), _frac(x), _frac(y)), basis


def lp_max_vertex(
    c: Sequence[Number],
    A: Rows,
    b: Sequence[Number],
    *,
    point: Sequence[Number] | None = None,
    stats: LPStats | None = None,
) -> tuple[LPResult | None, tuple[int, ...] | None, Optimum | None]:
    """`lp_max_basis` for callers that work in `fmpq`: at an optimum the result is None
    and the third item is ``(value, point, dual)`` in `fmpq` (no `Fraction`
    conversion); otherwise the third item is None and the result is `lp_max_basis`'s.

    >>> res, basis, (value, x, y) = lp_max_vertex([1, 2], [[1, 0], [0, 1], [-1, -1]], [1, 1, 0])
    >>> res, value, x, sorted(basis)
    (None, 3, [1, 1], [0, 1])
    """
    n = len(c)
    Aq = _rows(A)
    bq = [_q(v) for v in b]
    cq = [_q(v) for v in c]
    m = len(Aq)
    M = [[Aq[j][k] for j in range(m)] for k in range(n)]
    res, basis, optimum = _simplex(M, cq, bq, stats)
    if res is None:
        value, y, pi = optimum  # type: ignore[misc]
        if len(basis) == n and all(j < m for j in basis):
            return None, tuple(basis), (value, pi, y)
        return None, None, (value, pi, y)
    if res.status == INFEASIBLE:
        # dual infeasible: a d with A d <= 0, c^T d > 0 (ray), provided the primal is feasible
        if point is not None:
            pq = [_q(v) for v in point]
            if all(dot(a, pq) <= bj for a, bj in zip(Aq, bq)):
                return LPResult(UNBOUNDED, point=_frac(pq), ray=res.farkas), None, None
        feas = feasible_point(Aq, bq, dim=n, stats=stats)
        if not feas.feasible:
            return LPResult(INFEASIBLE, farkas=feas.farkas), None, None
        return LPResult(UNBOUNDED, point=feas.point, ray=res.farkas), None, None
    # dual unbounded below: primal infeasible
    feas = feasible_point(Aq, bq, dim=n, stats=stats)
    return LPResult(INFEASIBLE, farkas=feas.farkas), None, None


def boundedness(
    A: Rows, b: Sequence[Number], *, dim: int | None = None, stats: LPStats | None = None, propose: bool = True
) -> BoundedResult:
    """Whether the (nonempty) polyhedron ``{A x <= b}`` is bounded, with a certificate.

    Bounded iff some ``y > 0`` has ``A^T y = 0`` and ``A`` has rank n (Stiemke's lemma);
    else a ray ``d != 0`` with ``A d <= 0``. With ``propose``, nonnegative least squares
    in floats proposes y, or from its residual a ray, either one completed exactly and
    checked (no LP when it holds; `_bounded_proposal`); otherwise an exact LP decides.

    >>> boundedness([[1], [-1]], [1, 1]).bounded, boundedness([[1]], [1]).ray
    (True, (Fraction(-1, 1),))
    """
    n = _dim(A, dim)
    Aq = _rows(A)
    m = len(Aq)
    if n == 0:
        return BoundedResult(True, tuple(Fraction(1) for _ in range(m)))
    if m:
        mat = fmpq_mat(m, n, [v for row in Aq for v in row])
        rank = mat.rank()
    else:
        rank = 0
    if rank < n:
        ker = _kernel_vector(Aq, n)
        return BoundedResult(False, ray=ker)
    if propose:
        found = _bounded_proposal(Aq, m, n, stats)
        if found is not None:
            return found
    # y = 1 + z, z >= 0, A^T z = -A^T 1
    M = [[Aq[j][k] for j in range(m)] for k in range(n)]
    r = [-sum((Aq[j][k] for j in range(m)), fmpq(0)) for k in range(n)]
    res = simplex(M, r, [fmpq(0)] * m, stats=stats)
    if res.status == OPTIMAL:
        return BoundedResult(True, tuple(Fraction(1) + v for v in res.y))
    # infeasible: farkas w with M^T w <= 0 (A w <= 0) and r^T w > 0 -> -1^T A w > 0 -> A w != 0
    return BoundedResult(False, ray=res.farkas)


def _bounded_proposal(A: list[list[fmpq]], m: int, n: int, stats: LPStats | None) -> BoundedResult | None:
    """An exact certificate either way built from one float proposal, or None (A has
    rank n).

    Floats: ``y = 1 + z`` with ``z >= 0`` minimising ``|A^T (1 + z)|`` (NNLS). A residual
    near 0 proposes Stiemke multipliers; exact: the rows outside n pivot rows (QR with
    column pivoting) keep their rounded (positive) y, the n pivot rows' y solve
    ``A_B^T y_B = -A_N^T y_N`` exactly, and the answer stands only when every
    ``y_B > 0``. Otherwise the residual ``r = A^T (1 + z)`` proposes a ray ``d = -r``:
    NNLS's optimality conditions (``a_j r`` is half the gradient in ``z_j``, so
    ``>= 0``) give ``A d <= 0``, made exact by `_exact_ray`."""
    from scipy.linalg import qr
    from scipy.optimize import nnls

    if stats is not None:
        stats.float_lps += 1
    M = np.array([[float(v) for v in row] for row in A], dtype=float).T
    z, res = nnls(M, -M.sum(axis=1))
    if not np.isfinite(res):
        return None
    yf = 1.0 + z
    if res > 1e-9 * max(1.0, float(np.abs(M).max())):
        ray = _exact_ray(A, M.T, -(M @ yf), n)
        if ray is not None:
            return BoundedResult(False, ray=_frac(ray))
        if stats is not None:
            stats.proposals_rejected += 1
        return None
    _, _, piv = qr(M * yf, pivoting=True, mode="economic")
    B = [int(j) for j in piv[:n]]
    inB = set(B)
    y = [fmpq(0)] * m
    for j in range(m):
        if j not in inB:
            y[j] = fmpq(max(1, int(round(yf[j] * 1024))), 1024)
    rhs = fmpq_mat(n, 1, [-sum((A[j][k] * y[j] for j in range(m) if j not in inB), fmpq(0)) for k in range(n)])
    try:
        sol = fmpq_mat(n, n, [A[B[i]][k] for k in range(n) for i in range(n)]).solve(rhs)
    except ZeroDivisionError:
        return None
    for i in range(n):
        if sol[i, 0] <= 0:
            if stats is not None:
                stats.proposals_rejected += 1
            return None
        y[B[i]] = sol[i, 0]
    return BoundedResult(True, _frac(y))


def _exact_ray(A: list[list[fmpq]], Af: np.ndarray, df: np.ndarray, n: int) -> list[fmpq] | None:
    """An exact ``d != 0`` with ``A d <= 0`` from a float one (``Af``: A in floats), or
    None: ``df`` rounded to integers, then projected exactly onto the null space of
    independent rows T (QR with column pivoting) among those it makes (in floats) about
    0, ``d = d0 - A_T^T w`` with ``A_T A_T^T w = A_T d0`` (rounding alone would leave
    those rows slightly positive), scaled to a primitive integer vector; kept only when
    ``d != 0`` and ``A d <= 0`` hold exactly."""
    scale = float(np.abs(df).max())
    if not np.isfinite(scale) or scale == 0:
        return None
    df = df / scale
    d = [fmpq(round(v * (1 << 20))) for v in df]
    tight = [j for j, v in enumerate(Af @ df) if abs(v) <= 1e-9 * float(np.abs(Af[j]).sum())]
    if tight:
        # independent ones suffice (the others are combinations of them)
        from scipy.linalg import qr

        _, R, piv = qr(Af[tight].T, pivoting=True, mode="economic")
        diag = np.abs(np.diag(R))
        tight = [tight[int(k)] for k in piv[: int((diag > 1e-9 * diag[0]).sum())]]
        At = fmpq_mat(len(tight), n, [v for j in tight for v in A[j]])
        try:
            w = (At * At.transpose()).solve(At * fmpq_mat(n, 1, d))
        except ZeroDivisionError:
            return None
        d = (fmpq_mat(n, 1, d) - At.transpose() * w).entries()
    ints = [int(v) for v in fmpq_mat(n, 1, list(d)).numer_denom()[0].entries()]
    g = math.gcd(*ints)
    if g == 0:
        return None
    d = [fmpq(v // g) for v in ints]  # the primitive integer vector on the same ray
    Ad = (fmpq_mat(len(A), n, [v for row in A for v in row]) * fmpq_mat(n, 1, d)).entries()
    return d if all(v <= 0 for v in Ad) else None


def _kernel_vector(A: list[list[fmpq]], n: int) -> tuple[Fraction, ...]:
    """A nonzero d with A d = 0 (A has rank < n)."""
    m = len(A)
    if m == 0:
        return tuple(Fraction(1) if k == 0 else Fraction(0) for k in range(n))
    mat = fmpq_mat(m, n, [v for row in A for v in row])
    rref, rank = mat.rref()
    pivots = []
    row = 0
    for col in range(n):
        if row < rank and rref[row, col] != 0:
            pivots.append(col)
            row += 1
    freecol = next(col for col in range(n) if col not in pivots)
    d = [fmpq(0)] * n
    d[freecol] = fmpq(1)
    for r_i, col in enumerate(pivots):
        d[col] = -rref[r_i, freecol]
    return _frac(d)


def check_interior(A: Rows, b: Sequence[Number], x: Sequence[Number]) -> bool:
    """Exact check that ``A x < b``."""
    return _strict(_rows(A), [_q(v) for v in b], [_q(v) for v in x])
