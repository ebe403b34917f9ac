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
>>> from exactrelu.core.network import Network, affine, activation
>>> from exactrelu.properties.propagation import Model, exact_bounds
>>> net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])
>>> m = Model.of(net)
>>> box = [(Fraction(-1), Fraction(2))]
>>> bounds = exact_bounds(m, box, {})
>>> sol = solve_relaxation(m, bounds, box, [[(-1.0,), ()]], [2.0], [])   # min of 2 - |x| over the triangles
>>> sol.value
0.0
>>> from exactrelu.properties.propagation import layered_bound
>>> proved = layered_bound(m, bounds, box, [Fraction(-1)], [], Fraction(2), exact_multipliers_all(sol.lambdas))
>>> -Fraction(1, 10**12) < proved <= 0     # exact, and as tight as the float LP
True
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from .propagation import Bounds, Box, Model, pieces_of


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
    bounds: Bounds,
    box: Box,
    atoms: Sequence[tuple[Sequence[float], Sequence[float]]],
    consts: Sequence[float],
    input_rows: Sequence[tuple[Sequence[float], float]],
    time_limit: float | None = None,
    solver: object | None = None,
) -> Relaxation | None:
    """Minimise t over the relaxation with ``c_y·y + c_x·x + const <= t`` for each atom
    ``(c_y, c_x)`` (``c_x`` may be empty) and ``a·x + c <= 0`` for each input row ``(a, c)``;
    None when HiGHS does not report an optimum (or highspy is missing). ``solver``: a
    `new_highs` instance to reuse (one per search)."""
    h = solver if solver is not None else new_highs()
    if h is None:
        return None
    import highspy
    from scipy.sparse import coo_matrix

    n = m.input_dim
    widths = [len(lo) for lo, _ in bounds]
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
    rows_i: list[int] = []
    rows_j: list[int] = []
    vals: list[float] = []
    rlo: list[float] = []
    rhi: list[float] = []

    def add_row(entries: list[tuple[int, float]], lo: float, hi: float) -> int:
        r = len(rlo)
        for j, v in entries:
            if v != 0.0:
                rows_i.append(r)
                rows_j.append(j)
                vals.append(v)
        rlo.append(lo)
        rhi.append(hi)
        return r

    pieces = pieces_of(m, bounds)
    eq_rows: list[list[int]] = []
    for l, w in enumerate(widths):
        W, b = m.Wf[l], m.bf[l]
        prev = list(range(n)) if l == 0 else list(range(acol[l - 1], acol[l - 1] + widths[l - 1]))
        eq = []
        for i in range(w):
            entries = [(zcol[l] + i, 1.0)] + [(prev[k], -W[i, k]) for k in range(len(prev)) if W[i, k] != 0.0]
            eq.append(add_row(entries, b[i], b[i]))
        eq_rows.append(eq)
        lo, hi = bounds[l]
        for i in range(w):
            zj, aj = zcol[l] + i, acol[l] + i
            lower[zj], upper[zj] = float(lo[i]), float(hi[i])
            verts = [(float(t), float(a)) for t, a in pieces[l][i].vertices]
            lower[aj] = min(a for _, a in verts)
            upper[aj] = max(a for _, a in verts)
            if len(verts) == 1:
                continue
            low_lines, up_lines = _hull_rows(verts)
            for s, c in low_lines:  # a >= s z + c
                add_row([(aj, 1.0), (zj, -s)], c, inf)
            for s, c in up_lines:  # a <= s z + c
                add_row([(aj, 1.0), (zj, -s)], -inf, c)
    L = m.hidden
    WL, bL = m.Wf[L], m.bf[L]
    last = list(range(n)) if L == 0 else list(range(acol[L - 1], acol[L - 1] + widths[L - 1]))
    atom_rows = []
    for (cy, cx), const in zip(atoms, consts):
        cyv = np.array(cy, dtype=float)
        coef = cyv @ WL
        entries = [(last[k], coef[k]) for k in range(len(last))] + [(tcol, -1.0)]
        if len(cx):
            entries += [(j, float(v)) for j, v in enumerate(cx)]
        atom_rows.append(add_row(entries, -inf, -(const + float(cyv @ bL))))
    in_rows = [add_row([(j, float(v)) for j, v in enumerate(a)], -inf, -float(c)) for a, c in input_rows]
    A = coo_matrix((vals, (rows_i, rows_j)), shape=(len(rlo), ncols)).tocsc()
    if time_limit is not None:
        h.setOptionValue("time_limit", max(0.01, float(time_limit)))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ncols, len(rlo)
    cost = np.zeros(ncols)
    cost[tcol] = 1.0
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = np.array(rlo)
    lp.row_upper_ = np.array(rhi)
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
    lambdas = [[float(dual[r]) for r in eq] for eq in eq_rows]
    theta = [max(0.0, -float(dual[r])) for r in atom_rows]
    y = [max(0.0, -float(dual[r])) for r in in_rows]
    return Relaxation(float(h.getInfo().objective_function_value), x, lambdas, theta, y)


def new_highs() -> object | None:
    """A silent HiGHS instance (its banner, printed by the C++ library on construction,
    would otherwise reach stdout and spoil ``--json``), or None without highspy."""
    import os
    import sys

    try:
        import highspy
    except ImportError:
        return None
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h


def exact_multipliers_all(values: Sequence[Sequence[float]]) -> list[list[Fraction]]:
    """Float multipliers (per layer) as the exact rationals they denote (floats are dyadic)."""
    return [[Fraction(v) for v in row] for row in values]
