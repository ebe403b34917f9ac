"""Bounds on a network over a box, exact and in floats: symbolic (backward) propagation and
the layered safe dual bound that proves every closed branch of the property search.

**The layered bound.** Write the network as ``z_1 = W_1 x + b_1``, ``a_l = σ_l(z_l)``,
``z_{l+1} = W_{l+1} a_l + b_{l+1}``, output ``y = z_L``. Given intervals ``[lo, hi]`` that
contain every hidden pre-activation on the set considered, each neuron's pair
``(z, a)`` lies in ``S = conv{(t, σ(t)) : t ∈ {lo, hi} ∪ (knots in between)}``. For an
objective ``g = c·y + c_x·x + d`` and *any* multipliers ``λ_l`` (one vector per hidden
layer), telescoping ``λ_l·z_l = λ_l·(W_l a_{l-1} + b_l)`` gives, for every point of the set,

    g >= d + c·b_L + Σ_l λ_l·b_l + Σ_{l,i} min_{(z,a) ∈ S_li} (ν_li a − λ_li z)
           + min_{x ∈ box} (ν_0 + c_x)·x,      ν_{L-1} = W_L^T c,  ν_{l-1} = W_l^T λ_l,

each ``min`` over a polygon taken at its vertices. No feasibility of the multipliers is
needed (the residuals are bounded by the boxes, as in Neumaier and Shcherbina's safe
dual bounds), so any proposal — the duals of a float LP (`exactrelu.properties.lp`), or
the canonical rule below — gives a rigorous bound once evaluated in exact rationals.

**The canonical rule** (symbolic propagation, DeepPoly-like): at a neuron with interval
``[lo, hi]`` meeting one piece of σ, ``λ = s ν`` with that piece's slope s (exact); else,
for σ convex on ``[lo, hi]`` (slopes increasing), ``λ = s⁺ ν`` when ``ν >= 0`` with s⁺ the
slope of the piece covering the longest part of ``[lo, hi]`` (the first on ties), and
``λ = s⁻ ν`` when ``ν < 0`` with s⁻ the chord slope ``(σ(hi) − σ(lo)) / (hi − lo)`` rounded
to the nearest multiple of ``2^-SLOPE_BITS`` (ties up); concave: the roles swapped;
otherwise the rounded chord for both signs; then λ rounded to the nearest multiple of
``2^-LAMBDA_BITS`` (ties up), so that numbers stay short (any λ is valid). `exact_bounds` applies it layer by layer
to ``±z_l`` and rounds each bound outward to a multiple of ``2^-GRID_BITS``, then
intersects it with the branch's restriction (a neuron split). The rule and the
rounding are part of the certificate format: the independent checker
(`exactrelu.checker.property`) recomputes them.

The code here is the rule in exact rationals. For ReLU networks the search evaluates the
same rule with a floating-point filter (`exactrelu.properties.filtered`: float64 with
rigorous error bounds, these functions where the floats cannot decide); the grids
(``2^-16`` for bounds, ``2^-24`` for multipliers) are coarse enough that the floats
decide almost every rounding, and fine enough not to loosen the bounds measurably.

>>> from exactrelu.core.network import Network, affine, activation
>>> net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])
>>> m = Model.of(net)
>>> bounds = exact_bounds(m, [(Fraction(-1), Fraction(2))], {})
>>> bounds[0]
((Fraction(-1, 1), Fraction(-2, 1)), (Fraction(2, 1), Fraction(1, 1)))
>>> box = [(Fraction(-1), Fraction(2))]
>>> layered_bound(m, bounds, box, [Fraction(-1)], [], Fraction(2))   # 2 - |x| on [-1, 2]: the rule's bound
Fraction(-1, 32768)
>>> layered_bound(m, bounds, box, [Fraction(-1)], [], Fraction(2), [[Fraction(-2, 3), Fraction(-1, 3)]])  # the LP's duals: tight
Fraction(0, 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Sequence

import numpy as np
from flint import fmpq, fmpq_mat

from ..core.activations import PiecewiseLinear
from ..core.network import Network
from ..core.numbers import to_fmpq, to_fraction

GRID_BITS = 16
SLOPE_BITS = 16
LAMBDA_BITS = 24

Box = Sequence[tuple[Fraction, Fraction]]
Bounds = list[tuple[tuple[Fraction, ...], tuple[Fraction, ...]]]  # per hidden layer: (lo, hi)
Restrict = dict[tuple[int, int], tuple[Fraction | None, Fraction | None]]


@dataclass(frozen=True)
class Model:
    """The network as the property search sees it: the canonical chain's affine layers
    (exact as `fmpq_mat`, and in float64) and one activation per hidden neuron."""

    input_dim: int
    W: tuple[fmpq_mat, ...]
    b: tuple[fmpq_mat, ...]
    acts: tuple[tuple[PiecewiseLinear, ...], ...]
    network: Network

    @classmethod
    def of(cls, net: Network) -> "Model":
        ch = net.chain
        return cls(net.input_dim, tuple(a.W for a in ch.affines), tuple(a.b for a in ch.affines), ch.acts, net)

    @property
    def hidden(self) -> int:
        return len(self.acts)

    @property
    def output_dim(self) -> int:
        return self.W[-1].nrows()

    @cached_property
    def Wf(self) -> tuple[np.ndarray, ...]:
        return tuple(np.array([[float(v) for v in row] for row in W.table()], dtype=float).reshape(W.nrows(), W.ncols()) for W in self.W)

    @cached_property
    def bf(self) -> tuple[np.ndarray, ...]:
        return tuple(np.array([float(b[i, 0]) for i in range(b.nrows())], dtype=float) for b in self.b)

    @cached_property
    def eW(self) -> tuple[np.ndarray, ...]:
        """Per layer, a bound on ``|W − Wf|`` elementwise (0 where the float is the weight)."""
        return tuple(_float_error(W, Wf) for W, Wf in zip(self.W, self.Wf))

    @cached_property
    def eb(self) -> tuple[np.ndarray, ...]:
        return tuple(_float_error(b, bf[:, None])[:, 0] for b, bf in zip(self.b, self.bf))

    @cached_property
    def int_denominators(self) -> tuple[int, ...]:
        """Per layer, the least common denominator q of the weights: ``W = A / q``."""
        out = []
        for W in self.W:
            q = 1
            for v in W.entries():
                q = q * int(v.q) // _gcd(q, int(v.q))
            out.append(q)
        return tuple(out)

    @cached_property
    def int_columns(self) -> tuple[tuple[tuple[int, ...], ...], ...]:
        """Per layer, the columns of ``A = q W`` as Python integers."""
        out = []
        for W, q in zip(self.W, self.int_denominators):
            rows = [[int(v.p) * (q // int(v.q)) for v in row] for row in W.table()]
            out.append(tuple(zip(*rows)) if rows else ())
        return tuple(out)

    @cached_property
    def all_relu(self) -> bool:
        return all(f.knots == (0,) and f.slopes == (0, 1) and f.value == 0 for fs in self.acts for f in fs)

    def forward_float(self, X: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """Pre-activations per hidden layer and outputs for a batch of points (rows), float64."""
        pre = []
        v = X
        for l in range(self.hidden):
            z = v @ self.Wf[l].T + self.bf[l]
            pre.append(z)
            v = _apply_float(self.acts[l], z) if not self.all_relu else np.maximum(z, 0.0)
        return pre, v @ self.Wf[-1].T + self.bf[-1]


def _float_error(Q: fmpq_mat, F: np.ndarray) -> np.ndarray:
    """``|Q − F|`` bounded elementwise: 0 where the float is exact, else 2^-52 |F| (correct rounding)."""
    exact = np.array([[Fraction(float(v)) == to_fraction(v) for v in row] for row in Q.table()], dtype=bool).reshape(F.shape)
    return np.where(exact, 0.0, 2.0**-52 * np.abs(F))


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def _apply_float(fns: Sequence[PiecewiseLinear], z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    for i, f in enumerate(fns):
        if not f.knots:
            out[..., i] = float(f.value) + float(f.slopes[0]) * z[..., i]
            continue
        kn = np.array([float(k) for k in f.knots])
        vals = np.array([float(f(k)) for k in f.knots])
        t = z[..., i]
        j = np.searchsorted(kn, t, side="right")
        base_k = np.where(j == 0, kn[0], kn[np.maximum(j - 1, 0)])
        base_v = np.where(j == 0, vals[0], vals[np.maximum(j - 1, 0)])
        slope = np.array([float(s) for s in f.slopes])[j]
        out[..., i] = base_v + slope * (t - base_k)
    return out


# -- one neuron on an interval -------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A neuron's activation restricted to ``[lo, hi]``: the vertices of the convex hull
    of its graph there (``(t, σ(t))`` at lo, the knots inside, hi), and the canonical
    slopes for ``ν >= 0`` and ``ν < 0``."""

    vertices: tuple[tuple[fmpq, fmpq], ...]
    s_plus: fmpq
    s_minus: fmpq

    @property
    def linear(self) -> bool:
        return self.s_plus == self.s_minus and len(self.vertices) <= 2


def piece(f: PiecewiseLinear, lo: Fraction, hi: Fraction) -> Piece:
    """The hull vertices and canonical slopes of ``f`` on ``[lo, hi]`` (``lo <= hi``).

    >>> from exactrelu.core.activations import relu
    >>> p = piece(relu(), Fraction(-1), Fraction(3))
    >>> [tuple(map(int, v)) for v in p.vertices], p.s_plus, p.s_minus
    ([(-1, 0), (0, 0), (3, 3)], 1, 3/4)
    """
    ts = [lo] + [k for k in f.knots if lo < k < hi] + ([hi] if hi != lo else [])
    verts = tuple((to_fmpq(t), to_fmpq(f(t))) for t in ts)
    if len(ts) <= 2:
        # one piece meets [lo, hi]: exact slope of that piece
        j = _piece_index(f, lo, hi)
        s = to_fmpq(f.slopes[j])
        return Piece(verts, s, s)
    slopes = [f.slopes[_piece_index(f, a, b)] for a, b in zip(ts, ts[1:])]
    lengths = [b - a for a, b in zip(ts, ts[1:])]
    longest = to_fmpq(slopes[max(range(len(slopes)), key=lambda j: (lengths[j], -j))])
    chord = (f(hi) - f(lo)) / (hi - lo)
    scale = 1 << SLOPE_BITS
    rounded = fmpq((to_fmpq(chord) * scale + fmpq(1, 2)).floor(), scale)
    if all(a < b for a, b in zip(slopes, slopes[1:])):
        return Piece(verts, longest, rounded)
    if all(a > b for a, b in zip(slopes, slopes[1:])):
        return Piece(verts, rounded, longest)
    return Piece(verts, rounded, rounded)


def _piece_index(f: PiecewiseLinear, a: Fraction, b: Fraction) -> int:
    """The piece of f containing the open interval (a, b) (or the point a when a == b)."""
    mid = (a + b) / 2
    j = 0
    while j < len(f.knots) and f.knots[j] < mid:
        j += 1
    if j < len(f.knots) and f.knots[j] == mid:  # a == b == knot: either side; take the right
        j += 1
    return j


def _contribution(p: Piece, nu: fmpq, lam: fmpq) -> fmpq:
    """``min over S of (ν a − λ z)`` at the hull's vertices."""
    best = None
    for t, a in p.vertices:
        v = nu * a - lam * t
        if best is None or v < best:
            best = v
    return best  # type: ignore[return-value]


# -- the exact layered bound ---------------------------------------------------------------


def _box_min(nu: Sequence[fmpq], box: Box) -> fmpq:
    s = fmpq(0)
    for c, (lo, hi) in zip(nu, box):
        if c > 0:
            s += c * to_fmpq(lo)
        elif c < 0:
            s += c * to_fmpq(hi)
    return s


def _backward(
    m: Model,
    layer: int,
    C: fmpq_mat,
    d: list[fmpq],
    pieces: list[list[Piece]],
    lambdas: Sequence[Sequence[fmpq]] | None,
) -> tuple[fmpq_mat, list[fmpq]]:
    """From objectives ``C a_{layer-1} + d`` (rows) down to the input: returns the input
    coefficients and the constants, with the neurons' contributions added."""
    rows = C.nrows()
    zero = fmpq(0)
    for l in range(layer - 1, -1, -1):
        nu = C.entries()
        w = C.ncols()
        lam = []
        if lambdas is None and m.all_relu:
            # ReLU: λ = ν s rounded to the grid; the term is the minimum over the hull's vertices,
            # (lo, 0), (0, 0), (hi, hi) when unstable, the segment's ends when stable
            sp = [p.s_plus for p in pieces[l]]
            sm = [p.s_minus for p in pieces[l]]
            lo = [p.vertices[0][0] for p in pieces[l]]
            hi = [p.vertices[-1][0] for p in pieces[l]]
            state = [0 if p.vertices[-1][0] <= 0 else 1 if p.vertices[0][0] >= 0 else 2 for p in pieces[l]]
            for r in range(rows):
                acc = zero
                for i, v in enumerate(nu[r * w : (r + 1) * w]):
                    if v == 0:
                        lam.append(zero)
                        continue
                    li = _to_grid(v * (sp[i] if v > 0 else sm[i]))
                    lam.append(li)
                    st = state[i]
                    if st == 2:
                        acc += min(-li * lo[i], zero, (v - li) * hi[i])
                    elif st == 1:
                        acc += min((v - li) * lo[i], (v - li) * hi[i])
                    else:
                        acc += min(-li * lo[i], -li * hi[i])
                d[r] += acc
            L = fmpq_mat(rows, w, lam)
            Lb = L * m.b[l]
            for r in range(rows):
                d[r] += Lb[r, 0]
            C = L * m.W[l]
            continue
        for r in range(rows):
            for i in range(w):
                v = nu[r * w + i]
                p = pieces[l][i]
                if lambdas is not None:
                    li = to_fmpq(lambdas[l][i])
                elif v == 0:
                    lam.append(fmpq(0))
                    continue
                else:
                    li = _to_grid(v * (p.s_plus if v > 0 else p.s_minus))
                lam.append(li)
                d[r] += _contribution(p, v, li)
        L = fmpq_mat(rows, w, lam)
        Lb = L * m.b[l]
        for r in range(rows):
            d[r] += Lb[r, 0]
        C = L * m.W[l]
    return C, d


def _to_grid(q: fmpq) -> fmpq:
    """q rounded to the nearest multiple of ``2^-LAMBDA_BITS`` (ties up): keeps the rule's
    multipliers short, so that numbers do not grow from layer to layer."""
    scale = 1 << LAMBDA_BITS
    return fmpq((q * scale + fmpq(1, 2)).floor(), scale)


def _round_down(q: fmpq) -> Fraction:
    scale = 1 << GRID_BITS
    return Fraction(int((q * scale).floor()), scale)


def _round_up(q: fmpq) -> Fraction:
    scale = 1 << GRID_BITS
    return Fraction(int((q * scale).ceil()), scale)


def exact_bounds(m: Model, box: Box, restrict: Restrict) -> Bounds | None:
    """The canonical bounds of every hidden pre-activation over ``box`` within the branch
    ``restrict`` ((layer, neuron) -> (lo or None, hi or None): the piece a split chose),
    exactly; None when a restriction leaves a neuron no value (the branch is empty)."""
    out: Bounds = []
    pieces: list[list[Piece]] = []
    for l in range(m.hidden):
        w = m.W[l].nrows()
        if l == 0:
            Wq, bq = m.W[0], m.b[0]
            lo_q, hi_q = [], []
            for i in range(w):
                row = [Wq[i, j] for j in range(m.input_dim)]
                lo_q.append(_box_min(row, box) + bq[i, 0])
                hi_q.append(-_box_min([-v for v in row], box) + bq[i, 0])
        else:
            C = fmpq_mat(2 * w, m.W[l].ncols(), [v for v in m.W[l].entries()] + [-v for v in m.W[l].entries()])
            d = [m.b[l][i, 0] for i in range(w)] + [-m.b[l][i, 0] for i in range(w)]
            C, d = _backward(m, l, C, d, pieces, None)
            ent = C.entries()
            n = m.input_dim
            vals = [d[r] + _box_min(ent[r * n : (r + 1) * n], box) for r in range(2 * w)]
            lo_q, hi_q = vals[:w], [-v for v in vals[w:]]
        lo = [_round_down(v) for v in lo_q]
        hi = [_round_up(v) for v in hi_q]
        for i in range(w):
            r = restrict.get((l, i))
            if r is not None:
                if r[0] is not None and r[0] > lo[i]:
                    lo[i] = r[0]
                if r[1] is not None and r[1] < hi[i]:
                    hi[i] = r[1]
            if lo[i] > hi[i]:
                return None
        out.append((tuple(lo), tuple(hi)))
        pieces.append([piece(f, a, c) for f, a, c in zip(m.acts[l], lo, hi)])
    return out


def pieces_of(m: Model, bounds: Bounds) -> list[list[Piece]]:
    return [[piece(f, a, c) for f, a, c in zip(m.acts[l], lo, hi)] for l, (lo, hi) in enumerate(bounds)]


def row_bound(
    m: Model,
    layer: int,
    C: fmpq_mat,
    d: fmpq,
    box: Box,
    pieces: list[list[Piece]],
    lambdas: Sequence[Sequence[fmpq]] | None,
    c_x: Sequence[fmpq] = (),
) -> fmpq:
    """The layered lower bound of ``C a_{layer-1} + d (+ c_x·x)`` (one row; ``a_{-1} = x``)
    over the box, exactly: the rule's multipliers when ``lambdas`` is None."""
    dd = [d]
    if layer:
        C, dd = _backward(m, layer, C, dd, pieces, lambdas)
    nu = C.entries()
    if c_x:
        nu = [u + v for u, v in zip(nu, c_x)]
    return dd[0] + _box_min(nu, box)


def layered_bound(
    m: Model,
    bounds: Bounds,
    box: Box,
    c_y: Sequence[Fraction],
    c_x: Sequence[Fraction],
    const: Fraction,
    lambdas: Sequence[Sequence[Fraction]] | None = None,
    pieces: list[list[Piece]] | None = None,
) -> Fraction:
    """A rigorous lower bound of ``c_y·f(x) + c_x·x + const`` over the box, given valid
    ``bounds`` (the module docstring's formula): ``lambdas`` per hidden layer, or the
    canonical rule when None. ``c_x`` may be empty (no input term)."""
    if pieces is None:
        pieces = pieces_of(m, bounds)
    L = m.hidden
    cy = fmpq_mat(1, m.output_dim, [to_fmpq(v) for v in c_y])
    d = to_fmpq(const) + (cy * m.b[L])[0, 0]
    lam = None if lambdas is None else [[to_fmpq(v) for v in row] for row in lambdas]
    return to_fraction(row_bound(m, L, cy * m.W[L], d, box, pieces, lam, [to_fmpq(v) for v in c_x]))


# -- floats: the same propagation, to steer the search ---------------------------------------


@dataclass(frozen=True)
class FloatBounds:
    """Float bounds per hidden layer (lo, hi arrays) and, per layer, the canonical slopes
    for ``ν >= 0`` and ``ν < 0`` (relu only; None otherwise: the exact path decides)."""

    lo: list[np.ndarray]
    hi: list[np.ndarray]
    s_plus: list[np.ndarray]
    s_minus: list[np.ndarray]
    empty: bool = False


def _relu_slopes(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    act = lo >= 0
    dead = hi <= 0
    unst = ~act & ~dead
    sp = np.where(act, 1.0, 0.0)
    sm = np.where(act, 1.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        chord = np.where(unst, hi / np.where(unst, hi - lo, 1.0), 0.0)
    sp = np.where(unst, np.where(hi > -lo, 1.0, 0.0), sp)
    sm = np.where(unst, chord, sm)
    return sp, sm


def _relu_backward(m: Model, layer: int, C: np.ndarray, d: np.ndarray, fb: FloatBounds) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Float canonical backward pass for relu networks; also returns each layer's ν (rows)."""
    nus = []
    for l in range(layer - 1, -1, -1):
        nu = C
        nus.append(nu)
        lo, hi = fb.lo[l], fb.hi[l]
        s = np.where(nu >= 0, fb.s_plus[l], fb.s_minus[l])
        lam = nu * s
        # min over the vertices (lo, 0), (0, 0), (hi, hi), (or the segment when stable)
        unst = (lo < 0) & (hi > 0)
        v1 = -lam * lo
        v3 = (nu - lam) * hi
        contrib = np.where(unst, np.minimum(np.minimum(v1, 0.0), v3), 0.0)
        d = d + contrib.sum(axis=1) + lam @ m.bf[l]
        C = lam @ m.Wf[l]
    nus.reverse()
    return C, d, nus


def float_bounds(m: Model, lo_x: np.ndarray, hi_x: np.ndarray, restrict: Restrict) -> FloatBounds:
    """Canonical bounds in float64 (relu networks): a proposal of `exact_bounds`."""
    fb = FloatBounds([], [], [], [])
    for l in range(m.hidden):
        W, b = m.Wf[l], m.bf[l]
        if l == 0:
            Wp, Wn = np.maximum(W, 0), np.minimum(W, 0)
            lo = Wp @ lo_x + Wn @ hi_x + b
            hi = Wp @ hi_x + Wn @ lo_x + b
        else:
            C = np.vstack([W, -W])
            d = np.concatenate([b, -b])
            C, d, _ = _relu_backward(m, l, C, d, fb)
            vals = d + np.maximum(C, 0) @ lo_x + np.minimum(C, 0) @ hi_x
            w = W.shape[0]
            lo, hi = vals[:w], -vals[w:]
        for (ll, i), (rl, rh) in restrict.items():
            if ll == l:
                if rl is not None:
                    lo[i] = max(lo[i], float(rl))
                if rh is not None:
                    hi[i] = min(hi[i], float(rh))
        if np.any(lo > hi):
            return FloatBounds(fb.lo, fb.hi, fb.s_plus, fb.s_minus, empty=True)
        sp, sm = _relu_slopes(lo, hi)
        fb.lo.append(lo)
        fb.hi.append(hi)
        fb.s_plus.append(sp)
        fb.s_minus.append(sm)
    return fb


def float_objective(
    m: Model, fb: FloatBounds, lo_x: np.ndarray, hi_x: np.ndarray, Cy: np.ndarray, Cx: np.ndarray, const: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Canonical float lower bounds of the rows ``Cy f(x) + Cx x + const`` over the box;
    also the input coefficients (rows) and each hidden layer's ν (rows), for choosing splits."""
    L = m.hidden
    d = const + Cy @ m.bf[L]
    C = Cy @ m.Wf[L]
    nus: list[np.ndarray] = []
    if L:
        C, d, nus = _relu_backward(m, L, C, d, fb)
    C = C + Cx
    return d + np.maximum(C, 0) @ lo_x + np.minimum(C, 0) @ hi_x, C, nus
