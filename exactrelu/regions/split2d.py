"""The 2-D splitter: the activation regions of a network with 2 inputs on a box, as exact
polygons, layer by layer (each neuron's knot lines cut the current polygons).

`split_regions_2d` decides every cut in floats with proven error bounds
(`exactrelu.regions.filtered2d`, all polygons of a layer as arrays); where a bound cannot
decide (degenerate nets: concurrent lines, a line through a vertex), the same splitting
runs in exact rationals (`_exact_patterns`). Either way the patterns are exact; each
region's polygon, affine map and area are exact too, computed when first read
(`Polygon`): the box clipped, in rationals, by the pattern's rows, the edges' rows first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np
from flint import fmpq, fmpq_mat

from ..core.domain import Domain
from ..core.errors import InputError
from ..core.network import Network
from ..core.numbers import matrix_fractions, to_fmpq, to_fraction
from ..predicates import AffineForms, FilterCounts
from .filtered2d import Label, Undecided, certified_patterns
from .forward import Forward, Rows
from .graph import Matrix, Pattern, Vector

# -- regions as exact polygons ----------------------------------------------------------------


@dataclass(frozen=True)
class Polygon:
    """A region found by `split_regions_2d`: its ``pattern`` and, computed exactly on first
    read, its ``vertices`` in order, the affine map ``f(x) = jacobian x + offset`` on it and
    its ``area``. ``edges``: the rows (labels as `Forward.rows_of` gives them, without the
    side) that bound it, when the splitter knows them (they are clipped first)."""

    pattern: Pattern
    edges: tuple[Label, ...]
    forward: Forward = field(repr=False, compare=False)

    @cached_property
    def _rows(self) -> Rows:
        return self.forward.rows_of(self.pattern)

    @cached_property
    def vertices(self) -> tuple[Vector, ...]:
        """The vertices (exact, in order): the box clipped by the rows of the pattern
        (those of ``edges`` first, then every row still violated at a vertex), so the
        polygon is the region's closure whatever the hint."""
        rows = self._rows
        where = {lab[:3] if lab[0] != "domain" else lab: k for k, lab in enumerate(rows.labels)}
        forms = AffineForms(rows.A, rows.b, dim=2)
        box = [rows.labels.index(("domain", k)) for k in range(4)]
        (x1, x0, y1, y0) = (rows.b[box[0]], -rows.b[box[1]], rows.b[box[2]], -rows.b[box[3]])
        verts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        for k in [where[e] for e in self.edges if e in where]:
            verts = _cut(verts, rows.A[k], -rows.b[k])[0]
        while True:
            signs = forms.signs(verts)
            bad = np.flatnonzero((signs < 0).any(axis=1)).tolist()
            if not bad:
                break
            verts = _cut(verts, rows.A[bad[0]], -rows.b[bad[0]])[0]
        if len(verts) < 3:
            raise AssertionError("a region without interior")
        return tuple((to_fraction(x), to_fraction(y)) for x, y in verts)

    @cached_property
    def jacobian(self) -> Matrix:
        return matrix_fractions(self._rows.J)

    @cached_property
    def offset(self) -> Vector:
        c = self._rows.c
        return tuple(to_fraction(c[i, 0]) for i in range(c.nrows()))

    def area(self) -> Fraction:
        """The exact area (shoelace formula)."""
        v = self.vertices
        s = sum((v[i][0] * v[(i + 1) % len(v)][1] - v[(i + 1) % len(v)][0] * v[i][1] for i in range(len(v))), Fraction(0))
        return abs(s) / 2


def split_regions_2d(net: Network, domain: Domain, counts: FilterCounts | None = None) -> tuple[Polygon, ...]:
    """The activation regions of a network with 2 inputs on a box, by splitting polygons
    layer by layer and neuron by neuron (no LP): in floats with proven error bounds
    (`certified_patterns`) or, where those cannot decide, in exact rationals
    (`_exact_patterns`). ``counts`` adds the filter's decisions and, when the exact
    splitter ran, its fallbacks.

    >>> from exactrelu.core.network import Network, affine, activation
    >>> net = Network.from_layers(2, [affine([[1, 0], [0, 1]]), activation("relu"), affine([[1, 1]])])
    >>> regs = split_regions_2d(net, Domain.from_box([[-1, 1], [-1, 2]]))
    >>> len(regs), sum(r.area() for r in regs)
    (4, Fraction(6, 1))
    """
    if net.input_dim != 2 or domain.box is None:
        raise InputError("split_regions_2d needs a network with 2 inputs and a box domain", path="domain")
    forward = Forward.of(net, domain)
    try:
        found = certified_patterns(net, domain.box, counts)
    except Undecided:
        found = [(pattern, ()) for pattern in _exact_patterns(net, domain, counts)]
    return tuple(Polygon(pattern, edges, forward) for pattern, edges in found)


# -- the exact splitter (where the float bounds cannot decide) ---------------------------------


def _exact_patterns(net: Network, domain: Domain, counts: FilterCounts | None) -> list[Pattern]:
    """The activation patterns of the regions, by splitting exact polygons: a polygon is
    split by a neuron's knot line only when the pre-activation minus the knot takes both
    signs at its vertices (the filtered predicates decide the neurons clearly on one
    piece, `exactrelu.predicates`, counted in ``counts``; exact rationals every other
    one), so every piece has positive area and distinct pieces have distinct patterns."""
    (x0, x1), (y0, y1) = [(fmpq(lo.numerator, lo.denominator), fmpq(hi.numerator, hi.denominator)) for lo, hi in domain.box]
    chain = net.chain
    polys: list[tuple[list[tuple[fmpq, fmpq]], fmpq_mat, fmpq_mat, Pattern]] = [
        ([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], fmpq_mat([[1, 0], [0, 1]]), fmpq_mat(2, 1), ())
    ]
    for l, fns in enumerate(chain.acts):
        W, bias = chain.affines[l].W, chain.affines[l].b
        w = len(fns)
        affs = [[_fmpq_pair(fn.piece_affine(k)) for k in range(fn.num_pieces)] for fn in fns]
        knots = [[to_fmpq(t) for t in fn.knots] for fn in fns]
        owner = np.array([i for i in range(w) for _ in knots[i]], dtype=np.intp)
        nxt = []
        for verts, J, c, pattern in polys:
            G = W * J
            H = W * c + bias
            Gs, Hs = G.entries(), H.entries()
            # knot t of neuron i as the form t - z_i(v) = (t - h_i) - g_i . v
            forms = AffineForms(
                [Gs[2 * i : 2 * i + 2] for i in range(w) for _ in knots[i]],
                [t - Hs[i] for i in range(w) for t in knots[i]],
                counts,
                dim=2,
            )
            fixed = _certified_pieces(forms, owner, w, verts)
            # (vertices, states of the neurons decided so far by splitting, certified pieces)
            pieces: list[tuple[list[tuple[fmpq, fmpq]], dict[int, int], list[int | None]]] = [(verts, {}, fixed)]
            fixed = list(fixed)
            for i, fn in enumerate(fns):
                if fixed[i] is not None:  # certified on one piece over the whole polygon
                    fixed[i] *= 2
                    continue
                g = Gs[2 * i : 2 * i + 2]
                h = Hs[i]
                if g[0] == 0 and g[1] == 0:
                    fixed[i] = fn.state(to_fraction(h))
                    continue
                out: list[tuple[list[tuple[fmpq, fmpq]], dict[int, int], list[int | None]]] = []
                for v, st, f in pieces:
                    if f[i] is not None:
                        out.append((v, {**st, i: 2 * f[i]}, f))
                        continue
                    split = _split_by_knots(v, (), g, h, fn)
                    if len(split) == 1:
                        out.append((split[0][0], {**st, i: split[0][1][0]}, f))
                    else:
                        out.extend((nv, {**st, i: ns[0]}, _certified_pieces(forms, owner, w, nv)) for nv, ns in split)
                pieces = out
            done = [(v, tuple(fixed[i] if fixed[i] is not None else st[i] for i in range(w))) for v, st, _ in pieces]
            for v, states in done:
                slopes, inter = [], []
                for i, (fn, st) in enumerate(zip(fns, states)):
                    if st % 2 == 1:
                        q = fn(to_fraction(Hs[i]))
                        slopes.append(fmpq(0))
                        inter.append(fmpq(q.numerator, q.denominator))
                        continue
                    s_, t_ = affs[i][st // 2]
                    slopes.append(s_)
                    inter.append(t_)
                newJ = fmpq_mat(w, 2, [slopes[i // 2] * g for i, g in enumerate(Gs)])
                newc = fmpq_mat(w, 1, [s_ * h_ + t_ for s_, h_, t_ in zip(slopes, Hs, inter)])
                nxt.append((v, newJ, newc, pattern + (states,)))
        polys = nxt
    return [pattern for _, _, _, pattern in polys]


def _certified_pieces(forms: AffineForms, owner: np.ndarray, w: int, verts: list[tuple[fmpq, fmpq]]) -> list[int | None]:
    """For each neuron, the piece it is on over the whole polygon when the filtered
    signs of ``t - z`` at every vertex decide it for each of its knots t (one strict
    sign per knot at all the vertices), else None. ``owner``: the neuron of each row."""
    S = forms.float_signs(verts)
    if S.shape[0] == 0:
        return [0] * w
    strict = (S.min(axis=1) == S.max(axis=1)) & (S[:, 0] != 0)
    open_knots = np.bincount(owner, weights=~strict, minlength=w)
    below = np.bincount(owner, weights=S[:, 0] < 0, minlength=w)
    return [int(p) if o == 0 else None for p, o in zip(below.tolist(), open_knots.tolist())]


def _fmpq_pair(pair: tuple[Fraction, Fraction]) -> tuple[fmpq, fmpq]:
    return to_fmpq(pair[0]), to_fmpq(pair[1])


def _split_by_knots(verts: list[tuple[fmpq, fmpq]], states: tuple[int, ...], g: list[fmpq], h: fmpq, fn: Any) -> list:
    """Split a convex polygon by every knot line of one neuron (z = g x + h)."""
    vals = [g[0] * x + g[1] * y + h for x, y in verts]
    lo, hi = min(vals), max(vals)
    out = []
    rest = verts
    for j, t in enumerate(fn.knots):
        tq = fmpq(t.numerator, t.denominator)
        if hi <= tq:  # entirely at or below this knot: piece j
            return out + [(rest, states + (2 * j,))]
        if lo >= tq:
            continue
        below, above = _cut(rest, g, h - tq)
        out.append((below, states + (2 * j,)))
        rest = above
        lo = tq
    return out + [(rest, states + (2 * len(fn.knots),))]


def _cut(verts: list[tuple[fmpq, fmpq]], g: list[fmpq], h: fmpq) -> tuple[list, list]:
    """The parts of a convex polygon where g x + h <= 0 and >= 0 (both of positive area)."""
    vals = [g[0] * x + g[1] * y + h for x, y in verts]
    neg, pos = [], []
    m = len(verts)
    for k in range(m):
        p, vp = verts[k], vals[k]
        q, vq = verts[(k + 1) % m], vals[(k + 1) % m]
        if vp <= 0:
            neg.append(p)
        if vp >= 0:
            pos.append(p)
        if (vp < 0 < vq) or (vq < 0 < vp):
            t = vp / (vp - vq)
            r = (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))
            neg.append(r)
            pos.append(r)
    return neg, pos
