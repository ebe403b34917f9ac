"""Which rows of a region are facets, each decided exactly with a certificate.

Rays shot from the interior point find facets with a rational witness; a row whose
normal lies in the cone of known facets is proved redundant by multipliers solved
exactly on their support, or by the optimal basis of a float LP (HiGHS) solved exactly;
only when those proposals fail does a small exact LP decide (`classify_rows`).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np
from flint import fmpq, fmpq_mat

from ..core.numbers import to_fraction
from ..polyhedra.highs import FloatLP
from ..polyhedra.lp import LPStats, dot, facet_point, lp_max_vertex
from ..predicates import AffineForms, FilterCounts, to_floats
from .forward import check_deadline


def _key(a: Sequence[fmpq], beta: fmpq) -> tuple[fmpq, ...]:
    for v in a:
        if v != 0:
            s = abs(v)
            return tuple(e / s for e in a) + (beta / s,)
    raise AssertionError("zero row")


def coincident_groups(A: list[list[fmpq]], b: list[fmpq]) -> tuple[list[list[int]], list[tuple[fmpq, ...]], list[tuple[Any, ...]]]:
    """Rows grouped by the half-space they define, each group's `_key` and the key's
    `row_key` form."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    keys = []
    for k, (row, bk) in enumerate(zip(A, b)):
        key = _key(row, bk)
        members = groups.setdefault(row_key(key), [])
        if not members:
            keys.append(key)
        members.append(k)
    return list(groups.values()), keys, list(groups)


def row_key(key: Sequence[fmpq], sign: int = 1) -> tuple[Any, ...]:
    """A dict key for ``sign * key`` (hashing `fmpq` is slow; its fmpz parts are not)."""
    if sign == 1:
        return tuple([v.p for v in key]) + tuple([v.q for v in key])
    return tuple([-v.p for v in key]) + tuple([v.q for v in key])


def expand_multipliers(mu: dict[int, fmpq], groups: list[list[int]]) -> tuple[tuple[int, fmpq], ...]:
    """Multipliers by group -> sparse (row, value) pairs on each group's first row."""
    return tuple((groups[g][0], v) for g, v in sorted(mu.items()) if v != 0)


def classify_rows(
    A: list[list[fmpq]],
    Amat: fmpq_mat,
    b: list[fmpq],
    keys: list[tuple[fmpq, ...]],
    hkeys: list[tuple[Any, ...]],
    p: list[fmpq],
    known: dict[int, list[fmpq]],
    lp: FloatLP,
    stats: LPStats,
    counts: dict[str, int],
    signs: FilterCounts | None = None,
) -> list[tuple[str, Any]]:
    """Decide for every row (one per half-space) whether it is a facet of ``{A x <= b}``,
    whose interior holds p (``Amat``: A as a matrix): ``("facet", point in its relative interior)`` or
    ``("nonfacet", (mu over rows, lam))``. ``keys``, ``hkeys``: the rows' `_key` and
    its `row_key` form. ``known``: facets already decided (shared with a region
    processed before). ``lp``: the enumeration's `FloatLP`.

    Facets are found by shooting rays from p (the first row hit, when it is hit alone,
    is a facet, with the hit point as witness): first along the normals; then, for each
    undecided row g, along a float-proposed direction in which ``a_g x`` grows and no
    known facet does (`_cone_residual`). When there is none, ``a_g`` lies in the cone
    of the known facets: the float multipliers of that cone may prove g redundant once
    solved exactly on their support (`_cone_certificate`); else a float LP maximises
    ``a_g x`` over the other rows (`_lp_proposal`): its optimal basis, solved exactly,
    proves every row in its normal cone redundant (`_vertex_certificates`), and a ray
    towards its optimum may hit a new facet. Only when these proposals fail does an
    exact LP over the known facets decide (Clarkson: ``max a_g x`` at most ``b_g``
    proves g redundant, the duals being the multipliers, else a ray towards the optimum
    finds a new facet), and ties fall back to `facet_point`. Floats only choose
    directions, bases and order; every verdict is exact. Updates ``counts``, and
    ``signs`` with the filtered predicates' decisions (`exactrelu.predicates`): a ray's
    first hit is proposed in floats and proved by the signs of every other row at the
    exact hit point.
    """
    from scipy.optimize import nnls

    m = len(A)
    n = len(p)
    slack = [bj - v for bj, v in zip(b, (Amat * fmpq_mat(n, 1, p)).entries())]
    verdict: list[tuple[str, Any] | None] = [None] * m
    forms = AffineForms(A, b, signs, dim=n)
    if forms.usable:
        Af = forms.Af
        bf = forms.bf.tolist()
        p_float = to_floats(p)
        slack_f = None if p_float is None else forms.bf - Af @ p_float
    else:
        Af = np.array([[float(v) for v in row] for row in A], dtype=float).reshape(m, n)
        bf = [float(v) for v in b]
        slack_f = None
    for g, point in known.items():
        verdict[g] = ("facet", point)
    cheap = 0
    hints: dict[int, list[int]] = {}
    pf: np.ndarray | None = None  # p in floats, once lp holds this region

    def shoot(d: Sequence[fmpq]) -> tuple[int, list[fmpq]] | None:
        """The first row hit, alone, by the ray from p along d, and the hit point; None
        when no row or several rows are hit first. Floats propose the row; the signs
        of every other row at the exact hit point prove it (else the exact search)."""
        if slack_f is not None:
            d_float = to_floats(d)
            if d_float is not None:
                rates = Af @ d_float
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratios = np.where(rates > 0, slack_f / rates, np.inf)
                j = int(np.argmin(ratios))
                if np.isfinite(ratios[j]):
                    r = dot(A[j], d)
                    if r > 0:
                        t = slack[j] / r
                        q = [pk + t * dk for pk, dk in zip(p, d)]
                        if forms.inside_except(q, j):
                            return j, q
        best = None
        hit = -1
        tie = False
        for j, r in enumerate((Amat * fmpq_mat(n, 1, d)).entries()):
            if r > 0:
                t = slack[j] / r
                if best is None or t < best:
                    best, hit, tie = t, j, False
                elif t == best:
                    tie = True
        if best is None or tie:
            return None
        return hit, [pk + best * dk for pk, dk in zip(p, d)]

    # rays along the normals, nearest hyperplanes first (float distances only order the
    # work); stop once rays keep hitting facets already known
    order = np.argsort(np.array([float(v) for v in slack]) / np.sqrt((Af * Af).sum(axis=1)), kind="stable").tolist()
    misses = 0
    for g in order:
        if verdict[g] is not None:
            continue
        check_deadline(stats.deadline)
        found = shoot(A[g])
        if found is not None and verdict[found[0]] is None:
            verdict[found[0]] = ("facet", found[1])
            cheap += 1
            misses = 0
        else:
            misses += 1
            if misses >= 3:
                break
    # rows by normalised normal (their hashable keys less the offset's numerator and
    # denominator): a row may be implied by a parallel, tighter one
    parallel: dict[tuple[Any, ...], list[int]] = {}
    for j, hk in enumerate(hkeys):
        parallel.setdefault(hk[:n] + hk[n + 1 : 2 * n + 1], []).append(j)
    for members in parallel.values():
        for g in members if len(members) > 1 else ():
            if verdict[g] is None:
                dominated = _parallel_certificate(g, keys, A, members)
                if dominated is not None:
                    verdict[g] = ("nonfacet", dominated)
    for g in range(m):
        while verdict[g] is None:
            check_deadline(stats.deadline)
            F = [j for j in range(m) if verdict[j] is not None and verdict[j][0] == "facet"]
            if F:
                # floats propose a direction along which a_g grows and no known facet
                # does; the exact ray decides (a first hit, alone, on an undecided row
                # is a new facet); only a failed proposal costs an exact LP
                d, y = _cone_residual(Af, F, g, nnls)
                stats.float_lps += 1
                if d is None:
                    mu = _cone_certificate(A, b, bf, F, g, y)
                    if mu is not None:
                        verdict[g] = ("nonfacet", (mu, Fraction(-1)))
                        counts["nonfacets_without_lp"] += 1
                        if len(mu) == n:  # n independent facets: their vertex may prove more rows
                            counts["nonfacets_without_lp"] += _vertex_certificates(list(mu), A, b, Af, bf, verdict, g, hints)
                        break
                if d is None and g in hints:
                    B = hints.pop(g)
                    vertex = fmpq_mat(n, n, [v for j in B for v in A[j]]).solve(fmpq_mat(n, 1, [b[j] for j in B]))
                    d = [vertex[k, 0] - p[k] for k in range(n)]
                found = shoot(d) if d is not None else None
                if found is not None and verdict[found[0]] is None:
                    verdict[found[0]] = ("facet", found[1])
                    cheap += 1
                    continue
                # a float LP proposes the maximum of a_g x over the other rows: its
                # optimal basis, solved exactly, may prove rows redundant; a ray
                # towards its optimum may hit a new facet
                if pf is None and n >= _FLOAT_LP_FROM_DIM and lp.load(Af, bf):
                    pf = np.array([float(v) for v in p])
                if pf is not None and _lp_proposal(lp, g, A, b, verdict, hints, pf, shoot, stats, counts):
                    continue
            res, basis, optimum = lp_max_vertex(A[g], [A[j] for j in F], [b[j] for j in F], point=p, stats=stats) if F else (None, None, None)
            if basis is not None:
                # the optimal vertex of the facets' polyhedron certifies, with one exact
                # solve, every other row whose normal lies in its normal cone
                counts["nonfacets_without_lp"] += _vertex_certificates([F[k] for k in basis], A, b, Af, bf, verdict, g, hints)
            if optimum is not None and optimum[0] <= b[g]:
                mu = {j: v for j, v in zip(F, optimum[2]) if v != 0}
                verdict[g] = ("nonfacet", (mu, Fraction(-1)))
                break
            if optimum is not None:
                d = [v - pk for v, pk in zip(optimum[1], p)]
            elif res is None:
                d = list(A[g])
            else:
                d = [fmpq(v.numerator, v.denominator) for v in res.ray]
            found = shoot(d)
            if found is None or verdict[found[0]] is not None:
                fp = facet_point(A, b, g, stats=stats, propose=False)
                if fp.is_facet:
                    verdict[g] = ("facet", [fmpq(v.numerator, v.denominator) for v in fp.point])
                else:
                    mu = {j: fmpq(v.numerator, v.denominator) for j, v in enumerate(fp.multipliers) if v != 0}
                    verdict[g] = ("nonfacet", (mu, fp.row_multiplier))
                break
            verdict[found[0]] = ("facet", found[1])
            cheap += 1
    assert all(v is not None for v in verdict)
    counts["facets_without_lp"] += cheap
    return verdict  # type: ignore[return-value]


def _cone_residual(Af: np.ndarray, F: list[int], g: int, nnls: Callable[..., Any]) -> tuple[list[fmpq] | None, np.ndarray]:
    """Nonnegative least squares ``min |A_F^T y - a_g|``, ``y >= 0``, in floats, and what
    it proposes: a direction d with ``a_j d <= 0`` for the rows j in F and ``a_g d > 0``
    (the residual ``a_g - A_F^T y``, whose KKT conditions give exactly these signs,
    rounded to integers), or None when ``a_g`` looks to lie in the cone of the rows F
    (then y proposes the multipliers that may prove g redundant: `_cone_certificate`).
    ``nnls``: scipy's (imported once by the caller)."""
    y, res = nnls(Af[F].T, Af[g])
    norm = float(np.abs(Af[g]).max())
    if not np.isfinite(res) or res <= 1e-9 * norm:
        return None, y
    r = Af[g] - Af[F].T @ y
    scale = float(np.abs(r).max())
    return [fmpq(int(round(v / scale * (1 << 8)))) for v in r], y


def _cone_certificate(
    A: list[list[fmpq]], b: list[fmpq], bf: list[float], F: list[int], g: int, y: np.ndarray
) -> dict[int, fmpq] | None:
    """Exact multipliers ``mu >= 0`` on rows of F with ``A_F^T mu = a_g`` and
    ``b_F^T mu <= b_g`` (row g is then implied by them), from the float ones y of
    `_cone_residual`, or None. Exact: on the support S of y, ``mu_S`` solves the normal
    equations ``A_S A_S^T mu_S = A_S a_g``, and ``A_S^T mu_S = a_g``, ``mu_S >= 0`` and
    ``b_S^T mu_S <= b_g`` are checked."""
    S = [F[k] for k, v in enumerate(y) if v > 0]
    if not S or sum(bf[j] * v for j, v in zip(S, y[y > 0])) > bf[g] + 1e-9 * (abs(bf[g]) + 1):
        return None
    n = len(A[g])
    AS = fmpq_mat(len(S), n, [v for j in S for v in A[j]])
    ag = fmpq_mat(n, 1, A[g])
    try:
        mu = (AS * AS.transpose()).solve(AS * ag)
    except ZeroDivisionError:
        return None
    vals = mu.entries()
    if any(v < 0 for v in vals) or AS.transpose() * mu != ag or dot(vals, [b[j] for j in S]) > b[g]:
        return None
    return {j: v for j, v in zip(S, vals) if v != 0}


# The float LP pays a fixed ~0.1 ms (HiGHS's warm start, the exact checks after it);
# the exact simplex's cost grows with n. Measured on the benchmark nets (whole
# enumerations): the exact LP is ~10 % cheaper at n = 2 and 4, they tie at n = 6, the
# float LP is ~15 % cheaper at n = 8.
_FLOAT_LP_FROM_DIM = 6


def _lp_proposal(
    lp: FloatLP,
    g: int,
    A: list[list[fmpq]],
    b: list[fmpq],
    verdict: list[tuple[str, Any] | None],
    hints: dict[int, list[int]],
    pf: np.ndarray,
    shoot: Callable[[Sequence[fmpq]], tuple[int, list[fmpq]] | None],
    stats: LPStats,
    counts: dict[str, int],
) -> bool:
    """One float LP for row g (`FloatLP.maximize`), then exact checks only: the rows its
    optimal basis proves redundant (`_vertex_certificates`, g among them when it is
    redundant) and, if g is left, the first row hit alone by the exact ray from p (``pf``
    in floats) towards its optimum, or along its unbounded ray (a facet). Whether any
    verdict was made."""
    stats.float_lps += 1
    counts["float_lp_proposals"] += 1
    found = lp.maximize(g)
    if found is None:
        return False
    x, d, basis = found
    certified = 0
    if basis is not None:
        try:
            certified = _vertex_certificates(basis, A, b, lp.Af, lp.b, verdict, -1, hints)
        except ZeroDivisionError:  # the float basis is singular in exact arithmetic
            pass
        counts["nonfacets_without_lp"] += certified
        if verdict[g] is not None:
            return True
    if x is not None:
        d = x - pf
    scale = float(np.abs(d).max())
    hit = shoot([fmpq(round(v / scale * (1 << 20))) for v in d]) if scale > 0 else None
    if hit is not None and verdict[hit[0]] is None:
        verdict[hit[0]] = ("facet", hit[1])
        counts["facets_without_lp"] += 1
        return True
    return certified > 0


def _vertex_certificates(
    B: list[int],
    A: list[list[fmpq]],
    b: list[fmpq],
    Af: np.ndarray,
    bf: list[float],
    verdict: list[tuple[str, Any] | None],
    skip: int,
    hints: dict[int, list[int]],
) -> int:
    """Rows proved redundant by the vertex ``A_B x = b_B`` (B: n linearly independent
    rows, e.g. an optimal basis of an LP over the region's rows): a row h outside B with
    ``A_B^T y = a_h``, ``y >= 0`` and ``b_B^T y <= b_h`` is implied by the rows B, with
    multipliers y (exact). Floats (``Af``, ``bf``) pick the rows worth the exact solve;
    sets their verdicts; returns how many. A row with ``y >= 0`` but ``b_B^T y > b_h``
    has its maximum over the rows B at that vertex, beyond its bound: ``hints[h] = B``
    (a direction to shoot towards, decided by the ray). Raises ZeroDivisionError when
    ``A_B`` is singular."""
    todo = [h for h in range(len(A)) if verdict[h] is None and h != skip and h not in B]
    if not todo:
        return 0
    try:
        Yf = np.linalg.solve(Af[B].T, Af[todo].T)
    except np.linalg.LinAlgError:
        maybe = todo
    else:
        bB = np.array([bf[j] for j in B])
        bh = np.array([bf[h] for h in todo])
        Yabs = np.abs(Yf)
        nonneg = (Yf.min(axis=0) >= -1e-9 * np.maximum(1.0, Yabs.max(axis=0))).tolist()
        within = (bB @ Yf <= bh + 1e-9 * (np.abs(bB) @ Yabs + np.abs(bh))).tolist()
        maybe = []
        for h, y_ok, b_ok in zip(todo, nonneg, within):
            if y_ok and b_ok:
                maybe.append(h)
            elif y_ok:
                hints[h] = B
    if not maybe:
        return 0
    n = len(B)
    Y = fmpq_mat(n, n, [A[B[i]][k] for k in range(n) for i in range(n)]).solve(
        fmpq_mat(n, len(maybe), [A[h][k] for k in range(n) for h in maybe])
    )
    count = 0
    for c, h in enumerate(maybe):
        y = [Y[i, c] for i in range(n)]
        if all(v >= 0 for v in y):
            if dot(y, [b[j] for j in B]) <= b[h]:
                verdict[h] = ("nonfacet", ({B[i]: v for i, v in enumerate(y) if v != 0}, Fraction(-1)))
                count += 1
            else:
                hints[h] = B
    return count


def _parallel_certificate(
    gi: int, keys: list[tuple[fmpq, ...]], A: list[list[fmpq]], members: list[int]
) -> tuple[dict[int, fmpq], Fraction] | None:
    """A row implied by a parallel, tighter row (the first among ``members``, the rows
    whose normalised normal is row gi's): mu on that row, lam for row gi."""
    ki = keys[gi]
    for gj in members:
        kj = keys[gj]
        if gj != gi and kj[-1] < ki[-1]:
            # normalised rows: a_j / s_j = a_i / s_i; take mu_j = 1/s_j, lam = -1/s_i
            si = _scale(A[gi])
            sj = _scale(A[gj])
            return {gj: 1 / sj}, to_fraction(-1 / si)
    return None


def _scale(a: Sequence[fmpq]) -> fmpq:
    return abs(next(v for v in a if v != 0))

