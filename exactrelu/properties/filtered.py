"""The canonical bounds and the layered bound of `propagation` for ReLU networks, in
float64 with rigorous error bounds, decided exactly: a floating-point filter.

The canonical rule (`propagation`) is a sequence of exact decisions: each multiplier
``λ = s ν`` rounded to the ``2^-LAMBDA_BITS`` grid (with s chosen by the sign of ν), each
pre-activation bound rounded outward to the ``2^-GRID_BITS`` grid, and at the end the sign
of a lower bound. Here every row (one bound to compute) is carried in floats together
with an upper bound on its distance to the exact value: the multipliers are exact (they
are decided, hence known exactly), so ``ν = λ W`` is one float matrix product whose error
is at most ``γ_n |λ| |W|``; the constants ``d`` accumulate the errors of their sums. A
decision is taken from the floats only when the whole error interval falls on one side
(one grid cell, one sign); an undecided multiplier is decided from the exact ``ν`` of its
element (one exact dot product), an undecided bound or sign by recomputing its row in
exact rationals (`propagation.row_bound`). The results are therefore *exactly* the
rule's: the same numbers `propagation`'s exact code gives, at the cost of a few float
matrix products per layer.

Error bounds used (u = 2^-53; the constants below are generous): a float dot product of
n terms is within ``γ_n Σ|x_i y_i|`` of the exact one, whatever the summation order or FMA
(``γ_n = n u / (1 − n u)``, Higham, *Accuracy and Stability of Numerical Algorithms*,
§3.1); one operation is within ``u`` relative. ``_g(n) = (n + 4) 2^-52`` bounds
``γ_n`` with a factor 2 to spare, and every computed error bound is inflated once more
for its own rounding. Underflow is covered by an absolute ``2^-1000`` per term.

>>> from fractions import Fraction
>>> from exactrelu.core.network import Network, affine, activation
>>> from exactrelu.properties.propagation import Model, exact_bounds
>>> net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])
>>> m = Model.of(net)
>>> box = [(Fraction(-1), Fraction(2))]
>>> layers = relu_bounds(m, box, {})
>>> [(lo.tolist(), hi.tolist()) for lo, hi in layers]
[([-1.0, -2.0], [2.0, 1.0])]
>>> closes(m, layers, box, [Fraction(-1)], [], Fraction(3), False)     # 3 - |x| > 0 on [-1, 2]
True
>>> closes(m, layers, box, [Fraction(-1)], [], Fraction(2), False)     # 2 - |x| is 0 at x = 2
False
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable, Sequence

import numpy as np
from flint import fmpq_mat

from ..core.numbers import to_fmpq, to_fraction
from .propagation import (
    GRID_BITS,
    LAMBDA_BITS,
    SLOPE_BITS,
    Box,
    Model,
    Restrict,
    piece,
    row_bound,
)

FloatLayers = list[tuple[np.ndarray, np.ndarray]]  # per hidden layer: (lo, hi), exact values in floats

_U = 2.0**-52  # twice the unit roundoff
_TINY = 2.0**-1000
_LIMIT = 2.0**30  # bounds beyond this magnitude go to the exact code (grid points stay below 2^53)
_SCALE = 2.0**LAMBDA_BITS
_GRID = 2.0**GRID_BITS


def _g(n: int) -> float:
    return (n + 4) * _U


class Unrepresentable(Exception):
    """A bound too large for a float to hold exactly: the exact code must do this node."""


def usable(m: Model) -> bool:
    """Whether the filter applies: a ReLU network (the exact code handles every other)."""
    return m.all_relu


def _is_float(q: Fraction) -> bool:
    """Whether q is a float's exact value (a short dyadic: the cheap sufficient test)."""
    d = q.denominator
    return d & (d - 1) == 0 and d <= 2**900 and abs(q.numerator) < 2**53


def _float_box(box: Box) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo = np.array([float(a) for a, _ in box])
    hi = np.array([float(b) for _, b in box])
    exact = np.array([Fraction(float(a)) == a and Fraction(float(b)) == b for a, b in box])
    err = np.where(exact, 0.0, _U * np.maximum(np.abs(lo), np.abs(hi)))
    return lo, hi, err


class _Rows:
    """R rows carried backwards: ν (coefficients on the current layer's outputs) with its
    error bound, the constant d with its error bound, whether every decision so far was
    certified, and a way to get an element of the exact ν (for undecided multipliers)."""

    def __init__(self, nu: np.ndarray, enu: np.ndarray, d: np.ndarray, ed: np.ndarray, exact_nu: Callable[[int, int], Fraction]) -> None:
        self.nu, self.enu, self.d, self.ed = nu, enu, d, ed
        self.ok = np.ones(len(d), dtype=bool)
        self.exact_nu = exact_nu


def _round(x_nu: np.ndarray, enu: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``floor(ν s 2^L + 1/2)`` from floats, and where the error leaves it undecided."""
    x = x_nu * s * _SCALE
    inexact = (s != 0) & (s != 1)  # a product by a chord rounds; by 0 or 1 it does not
    ex = enu * s * _SCALE * (1 + 4 * _U) + np.where(inexact, np.abs(x) * _U + _TINY, 0.0) + np.where(enu > 0, _TINY, 0.0)
    y = x + 0.5
    f = np.floor(y)
    amb = (np.floor(y - ex) != f) | (np.floor(y + ex) != f) | ~(np.abs(x) < 2.0**50)
    return f, amb


def _lambda_exact(nu: Fraction, sp: Fraction, sm: Fraction) -> int:
    """The rule's multiplier (times 2^L) for an exact ν: 0 at ν = 0, else round(ν s)."""
    if nu == 0:
        return 0
    q = nu * (sp if nu > 0 else sm) * (1 << LAMBDA_BITS) + Fraction(1, 2)
    return q.numerator // q.denominator


class _Layer:
    """One hidden layer's bounds (floats, exact) and what the rule reads off them: which
    neurons are active, dead or unstable, and the slopes s⁺, s⁻ (the chords rounded to
    ``2^-SLOPE_BITS``, from exact integers)."""

    def __init__(self, lo: np.ndarray, hi: np.ndarray) -> None:
        self.lo, self.hi = lo, hi
        self.act = lo >= 0
        self.dead = ~self.act & (hi <= 0)
        self.unst = ~self.act & ~self.dead
        self.sp = np.where(self.act | (self.unst & (hi > -lo)), 1.0, 0.0)
        self.ks: dict[int, Fraction] = {}
        chord = np.zeros(len(lo))
        for i in np.nonzero(self.unst)[0]:
            (an, ad), (bn, bd) = float(lo[i]).as_integer_ratio(), float(hi[i]).as_integer_ratio()
            den = max(ad, bd)  # powers of 2
            a, b = an * (den // ad), bn * (den // bd)
            k = (2 * b * (1 << SLOPE_BITS) + (b - a)) // (2 * (b - a))  # round(b / (b - a) 2^S), ties up
            self.ks[int(i)] = Fraction(k, 1 << SLOPE_BITS)
            chord[i] = k / (1 << SLOPE_BITS)
        self.sm = np.where(self.act, 1.0, np.where(self.unst, chord, 0.0))
        self.M = np.maximum(np.abs(lo), np.abs(hi))


def _step(m: Model, l: int, rows: _Rows, layer: _Layer, lam_given: np.ndarray | None) -> None:
    """One layer down: from ν on layer l's activations to ν on its inputs (module docstring)."""
    nu, enu = rows.nu, rows.enu
    lo, hi, act, unst = layer.lo, layer.hi, layer.act, layer.unst
    if lam_given is None:
        sp, sm, ks = layer.sp, layer.sm, layer.ks
        fp, amb_p = _round(nu, enu, sp)
        fm, amb_m = _round(nu, enu, sm)
        margin = enu * (1 + 4 * _U) + _TINY
        pos = nu - margin > 0
        neg = nu + margin < 0
        both = sp == sm
        lam_i = np.where(both | pos, fp, np.where(neg, fm, fp))
        decided = np.where(both | pos, ~amb_p, np.where(neg, ~amb_m, ~amb_p & ~amb_m & (fp == fm)))
        for r, i in zip(*np.nonzero(~decided & rows.ok[:, None])):
            spi = Fraction(int(sp[i]))
            smi = ks.get(int(i), spi)
            v = _lambda_exact(rows.exact_nu(int(r), int(i)), spi, smi)
            if abs(v) >= 2**52:
                rows.ok[r] = False
            lam_i[r, i] = float(v)
        lam = lam_i / _SCALE
    else:
        lam = lam_given
    M = layer.M
    res = nu - lam
    t_lo, t_hi = -lam * lo, -lam * hi
    a_lo, a_hi = res * lo, res * hi
    contrib = np.where(unst, np.minimum(np.minimum(t_lo, 0.0), a_hi), np.where(act, np.minimum(a_lo, a_hi), np.minimum(t_lo, t_hi)))
    w = len(lo)
    ec = (enu + 2 * _U * (np.abs(nu) + np.abs(lam))) * M * (1 + 4 * _U) + _TINY
    sums = contrib.sum(axis=1)
    b, eb = m.bf[l], m.eb[l]
    lb = lam @ b
    rows.ed = rows.ed + (ec.sum(axis=1) + _g(w) * (np.abs(contrib).sum(axis=1) + np.abs(lam) @ np.abs(b)) + np.abs(lam) @ eb
                         + _U * (np.abs(rows.d) + np.abs(sums) + np.abs(lb))) * (1 + _g(w)) + _TINY
    rows.d = rows.d + sums + lb
    W, eW = m.Wf[l], m.eW[l]
    rows.nu = lam @ W
    n = W.shape[0]
    rows.enu = (_g(n) * (np.abs(lam) @ np.abs(W)) + np.abs(lam) @ eW) * (1 + _g(n)) + _TINY
    if lam_given is None:
        lam_int = lam_i
        cols = m.int_columns[l]
        q = m.int_denominators[l]

        def exact_nu(r: int, i: int, lam_int: np.ndarray = lam_int) -> Fraction:
            row = [int(v) for v in lam_int[r]]
            return Fraction(sum(a * c for a, c in zip(row, cols[i]) if a), q << LAMBDA_BITS)

        rows.exact_nu = exact_nu


def _box_term(rows: _Rows, lo_x: np.ndarray, hi_x: np.ndarray, ebx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    nu, enu = rows.nu, rows.enu
    t = np.minimum(nu * lo_x, nu * hi_x)
    Mx = np.maximum(np.abs(lo_x), np.abs(hi_x))
    e = (enu + 2 * _U * np.abs(nu)) * Mx * (1 + 4 * _U) + np.abs(nu) * ebx + _TINY
    s = t.sum(axis=1)
    n = len(lo_x)
    v = rows.d + s
    ev = (rows.ed + e.sum(axis=1) + _g(n) * np.abs(t).sum(axis=1) + _U * (np.abs(rows.d) + np.abs(s))) * (1 + _g(n)) + _TINY
    return v, ev


def _backward(m: Model, layer: int, rows: _Rows, layers: Sequence[_Layer], lambdas: Sequence[np.ndarray] | None = None) -> None:
    for l in range(layer - 1, -1, -1):
        _step(m, l, rows, layers[l], None if lambdas is None else lambdas[l][None, :])


def _fractions(layers: FloatLayers) -> list[tuple[tuple[Fraction, ...], tuple[Fraction, ...]]]:
    return [(tuple(Fraction(float(v)) for v in lo), tuple(Fraction(float(v)) for v in hi)) for lo, hi in layers]


def _pieces(m: Model, layers: FloatLayers) -> list[list]:
    return [[piece(f, a, b) for f, a, b in zip(m.acts[l], lo, hi)] for l, (lo, hi) in enumerate(_fractions(layers))]


def relu_bounds(m: Model, box: Box, restrict: Restrict) -> FloatLayers | None:
    """`propagation.exact_bounds` for a ReLU network (`usable`), exactly, as float arrays
    (every value a multiple of ``2^-GRID_BITS`` or a split's knot 0, held exactly); None
    when a restriction leaves a neuron no value; `Unrepresentable` when a float cannot
    hold a bound."""
    lo_x, hi_x, ebx = _float_box(box)
    layers: FloatLayers = []
    cached: list[_Layer] = []
    pieces: list[list] | None = None
    for l in range(m.hidden):
        W, eW = m.Wf[l], m.eW[l]
        b, eb = m.bf[l], m.eb[l]
        w = W.shape[0]
        Wq = m.W[l]

        def exact_nu0(r: int, i: int, Wq: fmpq_mat = Wq, w: int = w) -> Fraction:
            v = to_fraction(Wq[r % w, i])
            return v if r < w else -v

        rows = _Rows(np.vstack([W, -W]), np.vstack([eW, eW]), np.concatenate([b, -b]), np.concatenate([eb, eb]), exact_nu0)
        _backward(m, l, rows, cached)
        v, ev = _box_term(rows, lo_x, hi_x, ebx)
        f = np.floor(v * _GRID)
        amb = ~rows.ok | (np.floor((v - ev) * _GRID) != f) | (np.floor((v + ev) * _GRID) != f) | ~(np.abs(v) < _LIMIT)
        for r in np.nonzero(amb)[0]:
            r = int(r)
            if pieces is None or len(pieces) < l:
                pieces = _pieces(m, layers)
            sign = 1 if r < w else -1
            C = fmpq_mat(1, Wq.ncols(), [sign * Wq[r % w, j] for j in range(Wq.ncols())])
            exact = row_bound(m, l, C, sign * m.b[l][r % w, 0], box, pieces, None)
            g = int((exact * (1 << GRID_BITS)).floor())
            if abs(g) >= 2**52:
                raise Unrepresentable(f"a bound of layer {l} is {float(exact):.3g}")
            f[r] = float(g)
        lo = f[:w] / _GRID
        hi = -f[w:] / _GRID
        for (ll, i), (rl, rh) in restrict.items():
            if ll == l:
                if rl is not None and rl > lo[i]:
                    lo[i] = float(rl)
                if rh is not None and rh < hi[i]:
                    hi[i] = float(rh)
        if np.any(lo > hi):
            return None
        layers.append((lo, hi))
        cached.append(_Layer(lo, hi))
    return layers


def closes(
    m: Model,
    layers: FloatLayers,
    box: Box,
    c_y: Sequence[Fraction],
    c_x: Sequence[Fraction],
    const: Fraction,
    strict: bool,
    lambdas: Sequence[Sequence[Fraction]] | None = None,
) -> bool:
    """Whether `propagation.layered_bound` (with the same arguments) is ``> 0`` (``>= 0``
    when ``strict``), decided exactly (the floats decide only for multipliers that are
    floats' exact values, as the LP's duals rounded by `lp.exact_multipliers_all` are)."""
    L = m.hidden
    cy = np.array([float(v) for v in c_y])
    ecy = np.array([0.0 if Fraction(float(v)) == v else _U * abs(float(v)) for v in c_y])
    W, eW = m.Wf[L], m.eW[L]
    b, eb = m.bf[L], m.eb[L]
    k = W.shape[0]
    nu = cy @ W
    enu = (_g(k) * (np.abs(cy) @ np.abs(W)) + np.abs(cy) @ eW + ecy @ np.abs(W)) * (1 + _g(k)) + _TINY
    c0 = float(const)
    d = c0 + cy @ b
    ed = (_U * abs(c0) + _g(k) * (abs(c0) + np.abs(cy) @ np.abs(b)) + np.abs(cy) @ eb + ecy @ np.abs(b)) * (1 + _g(k)) + _TINY
    Wq = m.W[L]

    def exact_nu0(r: int, i: int) -> Fraction:
        return sum((cv * to_fraction(Wq[o, i]) for o, cv in enumerate(c_y) if cv), Fraction(0))

    rows = _Rows(nu[None, :], enu[None, :], np.array([d]), np.array([ed]), exact_nu0)
    lam_f = None
    if lambdas is not None:
        if not all(_is_float(a) for row in lambdas for a in row):
            rows.ok[0] = False  # not floats: the exact code below
        lam_f = [np.array([float(v) for v in row]) for row in lambdas]
    _backward(m, L, rows, [_Layer(lo, hi) for lo, hi in layers], lam_f)
    if len(c_x):
        cxf = np.array([float(v) for v in c_x])
        ecx = np.array([0.0 if Fraction(float(v)) == v else _U * abs(float(v)) for v in c_x])
        rows.nu = rows.nu + cxf
        rows.enu = (rows.enu + ecx + _U * np.abs(rows.nu)) * (1 + 4 * _U)
    lo_x, hi_x, ebx = _float_box(box)
    v, ev = _box_term(rows, lo_x, hi_x, ebx)
    if rows.ok[0] and np.isfinite(v[0]):
        if v[0] - ev[0] > 0:
            return True
        if v[0] + ev[0] < 0 or (not strict and v[0] + ev[0] <= 0):
            return False
        if strict and v[0] - ev[0] >= 0:
            return True
    pieces = _pieces(m, layers)
    cyq = fmpq_mat(1, len(c_y), [to_fmpq(v) for v in c_y])
    C = cyq * m.W[L]
    d0 = to_fmpq(const) + (cyq * m.b[L])[0, 0]
    lam_q = None if lambdas is None else [[to_fmpq(v) for v in row] for row in lambdas]
    exact = row_bound(m, L, C, d0, box, pieces, lam_q, [to_fmpq(v) for v in c_x])
    return exact > 0 or (strict and exact >= 0)


def to_bounds(layers: FloatLayers) -> list[tuple[tuple[Fraction, ...], tuple[Fraction, ...]]]:
    """The float arrays as `propagation.Bounds` (exact rationals)."""
    return _fractions(layers)

