"""The float LP relaxation of one branch, solved by HiGHS: a *proposal* only.

Variables ``x``, and per hidden layer ``z_l``, ``a_l``; then ``t``. Rows: ``z_l − W_l a_{l-1}
= b_l``; each neuron's ``(z, a)`` in the convex hull of its activation's graph on its
interval (`propagation.Piece`: for an unstable ReLU the triangle ``a >= 0, a >= z,
a <= s (z − lo)``); the atoms of one conjunction ``g_k(x, y) <= t``; the input set's
extra rows. Minimising t gives, from the duals, the multipliers that
`propagation.layered_bound` turns into a rigorous bound in exact arithmetic: ``λ_l`` (the
equality rows' duals) and ``θ`` (the atoms'), ``y`` (the input rows'); the primal x is a
candidate counterexample, to be checked exactly.

>>> from fractions import Fraction
>>> import numpy as np
>>> from exactrelu.core.network import Network, affine, activation
>>> from exactrelu.properties.propagation import Model, exact_bounds
>>> net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])
>>> m = Model.of(net)
>>> box = [(Fraction(-1), Fraction(2))]
>>> bounds = exact_bounds(m, box, {})
>>> layers = [tuple(np.array([float(v) for v in side]) for side in layer) for layer in bounds]
>>> sol = solve_relaxation(m, layers, box, [[(-1.0,), ()]], [2.0], [])   # min of 2 - |x| over the triangles
>>> sol.value
0.0
>>> from exactrelu.properties.propagation import layered_bound
>>> proved = layered_bound(m, bounds, box, [Fraction(-1)], [], Fraction(2), exact_multipliers_all(sol.lambdas))
>>> -Fraction(1, 10**6) < proved <= 0     # exact; as tight as the float LP up to the multipliers rounded to 2^-24
True
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from ..polyhedra.highs import quiet_highs
from .propagation import LAMBDA_BITS, Box, Model, Piece


@dataclass(frozen=True)
class Relaxation:
    """HiGHS's answer: ``value`` (the LP minimum of t), ``x`` (a minimiser's inputs),
    ``lambdas`` (per hidden layer), ``theta`` (per atom, >= 0), ``y`` (per input row, >= 0)."""

    value: float
    x: np.ndarray
    lambdas: list[list[float]]
    theta: list[float]
    y: list[float]


def _hull_rows(vertices: list[tuple[float, float]]) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Lower and upper hull edges of points sorted by t, as (slope, intercept) lines."""
    def chain(pts: list[tuple[float, float]], lower: bool) -> list[tuple[float, float]]:
        h: list[tuple[float, float]] = []
        for p in pts:
            while len(h) >= 2:
                (x1, y1), (x2, y2) = h[-2], h[-1]
                cross = (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1)
                if (cross <= 0) if lower else (cross >= 0):
                    h.pop()
                else:
                    break
            h.append(p)
        lines = []
        for (x1, y1), (x2, y2) in zip(h, h[1:]):
            if x2 > x1:
                s = (y2 - y1) / (x2 - x1)
                lines.append((s, y1 - s * x1))
        return lines

    return chain(vertices, True), chain(vertices, False)


def solve_relaxation(
    m: Model,
    layers: Sequence[tuple[np.ndarray, np.ndarray]],
    box: Box,
    atoms: Sequence[tuple[Sequence[float], Sequence[float]]],
    consts: Sequence[float],
    input_rows: Sequence[tuple[Sequence[float], float]],
    time_limit: float | None = None,
    solver: object | None = None,
    pieces: list[list[Piece]] | None = None,
) -> Relaxation | None:
    """Minimise t over the relaxation with ``c_y·y + c_x·x + const <= t`` for each atom
    ``(c_y, c_x)`` (``c_x`` may be empty) and ``a·x + c <= 0`` for each input row ``(a, c)``;
    ``layers``: each hidden layer's pre-activation bounds (lo, hi) in floats; ``pieces``:
    their hulls (`propagation.pieces_of`), needed unless the network is ReLU. None when
    HiGHS does not report an optimum (or highspy is missing). ``solver``: a `new_highs`
    instance to reuse (one per search)."""
    if pieces is None and not m.all_relu:
        raise ValueError("solve_relaxation needs the pieces of a network that is not ReLU")
    h = solver if solver is not None else new_highs()
    if h is None:
        return None
    import highspy
    from scipy.sparse import coo_matrix

    n = m.input_dim
    widths = [len(lo) for lo, _ in layers]
    col = n
    zcol, acol = [], []
    for w in widths:
        zcol.append(col)
        acol.append(col + w)
        col += 2 * w
    tcol = col
    ncols = col + 1
    inf = highspy.kHighsInf
    lower = np.full(ncols, -inf)
    upper = np.full(ncols, inf)
    for j, (lo, hi) in enumerate(box):
        lower[j], upper[j] = float(lo), float(hi)
    ri: list[np.ndarray] = []
    rj: list[np.ndarray] = []
    rv: list[np.ndarray] = []
    rlo: list[np.ndarray] = []
    rhi: list[np.ndarray] = []
    count = 0

    def add_rows(i: np.ndarray, j: np.ndarray, v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Rows numbered from the current count: entries (i local row, j column, v)."""
        nonlocal count
        keep = v != 0.0
        ri.append(i[keep] + count)
        rj.append(j[keep])
        rv.append(v[keep])
        rlo.append(np.asarray(lo, dtype=float))
        rhi.append(np.asarray(hi, dtype=float))
        first = count
        count += len(lo)
        return np.arange(first, count)

    eq_rows: list[np.ndarray] = []
    for l, w in enumerate(widths):
        W, b = m.Wf[l], m.bf[l]
        prev0 = 0 if l == 0 else acol[l - 1]
        wi, wj = np.nonzero(W)
        i = np.concatenate([np.arange(w), wi])
        j = np.concatenate([zcol[l] + np.arange(w), prev0 + wj])
        v = np.concatenate([np.ones(w), -W[wi, wj]])
        eq_rows.append(add_rows(i, j, v, b, b))
        lo, hi = (np.asarray(a, dtype=float) for a in layers[l])
        zs, as_ = zcol[l] + np.arange(w), acol[l] + np.arange(w)
        lower[zs], upper[zs] = lo, hi
        if pieces is None:  # ReLU: a = z (active), a = 0 (dead), the triangle (unstable)
            act, dead = lo >= 0, (hi <= 0) & (lo < 0)
            unst = (lo < 0) & (hi > 0)
            lower[as_] = np.where(act, lo, 0.0)
            upper[as_] = np.where(act, hi, np.where(dead, 0.0, hi))
            k = np.nonzero(act | unst)[0]  # a - z >= 0 (= 0 when active)
            add_rows(np.arange(len(k)).repeat(2), np.stack([as_[k], zs[k]], 1).ravel(), np.tile([1.0, -1.0], len(k)),
                     np.zeros(len(k)), np.where(act[k], 0.0, inf))
            u = np.nonzero(unst)[0]  # a - s z <= -s lo
            s = hi[u] / (hi[u] - lo[u])
            add_rows(np.arange(len(u)).repeat(2), np.stack([as_[u], zs[u]], 1).ravel(), np.stack([np.ones(len(u)), -s], 1).ravel(),
                     np.full(len(u), -inf), -s * lo[u])
            continue
        for i in range(w):
            zj, aj = zcol[l] + i, acol[l] + i
            verts = [(float(t), float(a)) for t, a in pieces[l][i].vertices]
            lower[aj] = min(a for _, a in verts)
            upper[aj] = max(a for _, a in verts)
            if len(verts) == 1:
                continue
            low_lines, up_lines = _hull_rows(verts)
            for sl, c in low_lines:  # a >= s z + c
                add_rows(np.array([0, 0]), np.array([aj, zj]), np.array([1.0, -sl]), np.array([c]), np.array([inf]))
            for sl, c in up_lines:  # a <= s z + c
                add_rows(np.array([0, 0]), np.array([aj, zj]), np.array([1.0, -sl]), np.array([-inf]), np.array([c]))
    L = m.hidden
    WL, bL = m.Wf[L], m.bf[L]
    last0 = 0 if L == 0 else acol[L - 1]
    nl = WL.shape[1]
    atom_rows = []
    for (cy, cx), const in zip(atoms, consts):
        cyv = np.array(cy, dtype=float)
        coef = np.zeros(ncols)
        coef[last0:last0 + nl] += cyv @ WL
        coef[tcol] = -1.0
        if len(cx):
            coef[:n] += np.array(cx, dtype=float)
        j = np.nonzero(coef)[0]
        atom_rows.append(int(add_rows(np.zeros(len(j), dtype=int), j, coef[j], np.array([-inf]), np.array([-(const + float(cyv @ bL))]))[0]))
    in_rows = []
    for a, c in input_rows:
        av = np.array(a, dtype=float)
        j = np.nonzero(av)[0]
        in_rows.append(int(add_rows(np.zeros(len(j), dtype=int), j, av[j], np.array([-inf]), np.array([-float(c)]))[0]))
    A = coo_matrix((np.concatenate(rv), (np.concatenate(ri), np.concatenate(rj))), shape=(count, ncols)).tocsc()
    if time_limit is not None:
        h.setOptionValue("time_limit", max(0.01, float(time_limit)))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ncols, count
    cost = np.zeros(ncols)
    cost[tcol] = 1.0
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = np.concatenate(rlo)
    lp.row_upper_ = np.concatenate(rhi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    sol = h.getSolution()
    x = np.array(sol.col_value[:n])
    dual = np.array(sol.row_dual)
    lambdas = [[float(v) for v in dual[eq]] for eq in eq_rows]
    theta = [max(0.0, -float(dual[r])) for r in atom_rows]
    y = [max(0.0, -float(dual[r])) for r in in_rows]
    return Relaxation(float(h.getInfo().objective_function_value), x, lambdas, theta, y)


def new_highs() -> object | None:
    """A silent HiGHS instance (`exactrelu.polyhedra.quiet_highs`: its banner would spoil
    ``--json``), or None without highspy."""
    try:
        return quiet_highs()
    except ImportError:
        return None


def exact_multipliers_all(values: Sequence[Sequence[float]]) -> list[list[Fraction]]:
    """Float multipliers (per layer) rounded to the nearest multiple of ``2^-LAMBDA_BITS``,
    as exact rationals: any multipliers give a valid bound, and short ones keep the
    certificate small and the exact arithmetic cheap."""
    scale = 1 << LAMBDA_BITS
    return [[Fraction(round(v * scale), scale) for v in row] for row in values]
