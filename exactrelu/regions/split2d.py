"""The 2-D splitter: the regions of a network on a box of the plane as exact polygons,
layer by layer (each neuron's knot lines cut the current polygons).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from flint import fmpq, fmpq_mat

from ..core.domain import Domain
from ..core.errors import InputError
from ..core.network import Network
from ..core.numbers import matrix_fractions, to_fmpq, to_fraction
from .graph import Matrix, Pattern, Vector

# -- layer-by-layer splitting of exact polygons (2-D boxes, no LP) ----------------------------


@dataclass(frozen=True)
class Polygon:
    """A region found by `split_regions_2d`: its pattern, its vertices in order (exact),
    and the affine map ``f(x) = J x + c`` on it."""

    pattern: Pattern
    vertices: tuple[Vector, ...]
    jacobian: Matrix
    offset: Vector

    def area(self) -> Fraction:
        """The exact area (shoelace formula)."""
        v = self.vertices
        s = sum((v[i][0] * v[(i + 1) % len(v)][1] - v[(i + 1) % len(v)][0] * v[i][1] for i in range(len(v))), Fraction(0))
        return abs(s) / 2


def split_regions_2d(net: Network, domain: Domain) -> tuple[Polygon, ...]:
    """The activation regions of a network with 2 inputs on a box, by splitting exact
    polygons layer by layer and neuron by neuron (vertex representations, no LP).

    A polygon is split by a neuron's knot line only when the pre-activation minus the
    knot takes both signs at its vertices, so every piece has positive area and
    distinct pieces have distinct patterns: the pieces are the activation regions.

    >>> from exactrelu.core.network import Network, affine, activation
    >>> net = Network.from_layers(2, [affine([[1, 0], [0, 1]]), activation("relu"), affine([[1, 1]])])
    >>> regs = split_regions_2d(net, Domain.from_box([[-1, 1], [-1, 2]]))
    >>> len(regs), sum(r.area() for r in regs)
    (4, Fraction(6, 1))
    """
    if net.input_dim != 2 or domain.box is None:
        raise InputError("split_regions_2d needs a network with 2 inputs and a box domain", path="domain")
    (x0, x1), (y0, y1) = [(fmpq(lo.numerator, lo.denominator), fmpq(hi.numerator, hi.denominator)) for lo, hi in domain.box]
    chain = net.chain
    polys: list[tuple[list[tuple[fmpq, fmpq]], fmpq_mat, fmpq_mat, Pattern]] = [
        ([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], fmpq_mat([[1, 0], [0, 1]]), fmpq_mat(2, 1), ())
    ]
    for l, fns in enumerate(chain.acts):
        W, bias = chain.affines[l].W, chain.affines[l].b
        w = len(fns)
        affs = [[_fmpq_pair(fn.piece_affine(k)) for k in range(fn.num_pieces)] for fn in fns]
        nxt = []
        knots_f = [[float(t) for t in fn.knots] for fn in fns]
        shared = all(fn == fns[0] for fn in fns)
        for verts, J, c, pattern in polys:
            G = W * J
            H = W * c + bias
            Gs, Hs = G.entries(), H.entries()
            filt = _FloatFilter.of(Gs, Hs)
            bounds = filt.at(verts) if filt is not None else None
            fixed = _FloatFilter.pieces(bounds, knots_f, shared)
            # (vertices, states of the neurons decided so far by splitting, float bounds)
            pieces: list[tuple[list[tuple[fmpq, fmpq]], dict[int, int], Any]] = [(verts, {}, bounds)]
            for i, fn in enumerate(fns):
                if fixed[i] is not None:  # certified on one piece over the whole polygon
                    continue
                g = Gs[2 * i : 2 * i + 2]
                h = Hs[i]
                if g[0] == 0 and g[1] == 0:
                    fixed[i] = fn.state(to_fraction(h))
                    continue
                out: list[tuple[list[tuple[fmpq, fmpq]], dict[int, int], Any]] = []
                for v, s, f in pieces:
                    piece = _FloatFilter.piece(f, i, knots_f[i])
                    if piece is not None:
                        out.append((v, {**s, i: 2 * piece}, f))
                        continue
                    split = _split_by_knots(v, (), g, h, fn)
                    if len(split) == 1:
                        out.append((split[0][0], {**s, i: split[0][1][0]}, f))
                    else:
                        out.extend((nv, {**s, i: ns[0]}, filt.at(nv) if filt is not None else None) for nv, ns in split)
                pieces = out
            pieces = [(v, tuple(fixed[i] if fixed[i] is not None else s[i] for i in range(w)), f) for v, s, f in pieces]
            for v, states, _ in pieces:
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
    W, bias = chain.affines[-1].W, chain.affines[-1].b
    out_polys = []
    for verts, J, c, pattern in polys:
        Jf = matrix_fractions(W * J)
        cm = W * c + bias
        cf = tuple(to_fraction(cm[i, 0]) for i in range(cm.nrows()))
        out_polys.append(Polygon(pattern, tuple((to_fraction(a), to_fraction(b)) for a, b in verts), Jf, cf))
    return tuple(out_polys)


@dataclass(frozen=True)
class _FloatFilter:
    """A certified float enclosure of one layer's pre-activations on a polygon.

    For z = g·v + h evaluated in binary64 from the exact rationals (each converted with
    relative error <= 3u), the computed value is within ``1e-12 * (|g|·|v| + |h|) +
    1e-280`` of the exact one (the true error is below 10u times that sum, u = 2^-53; the
    margin is a thousandfold). A neuron whose enclosures at every vertex lie strictly
    between two consecutive knots (also widened by ``1e-12 |t|``) is on that piece on the
    whole polygon; anything else, or any non-finite number, goes to exact arithmetic."""

    G: Any
    H: Any
    Gabs: Any
    Habs: Any

    @classmethod
    def of(cls, G: list[fmpq], H: list[fmpq]) -> "_FloatFilter | None":
        """The filter of ``z = G v + H`` (G: w x 2 row by row, H: w entries)."""
        try:
            Gf = np.array([float(v) for v in G]).reshape(len(H), 2)
            Hf = np.array([float(v) for v in H])
        except OverflowError:
            return None
        if not (np.all(np.isfinite(Gf)) and np.all(np.isfinite(Hf))):
            return None
        return cls(Gf, Hf, np.abs(Gf), np.abs(Hf))

    def at(self, verts: list[tuple[fmpq, fmpq]]) -> Any:
        """Per neuron: (lowest, highest) enclosure bound over the vertices, or None."""
        if self is None:
            return None
        try:
            V = np.array([[float(x), float(y)] for x, y in verts]).T
        except OverflowError:
            return None
        Z = self.G @ V + self.H[:, None]
        E = 1e-12 * (self.Gabs @ np.abs(V) + self.Habs[:, None]) + 1e-280
        lo = (Z - E).min(axis=1)
        hi = (Z + E).max(axis=1)
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            return None
        return lo.tolist(), hi.tolist()

    @staticmethod
    def pieces(bounds: Any, knots: list[list[float]], shared: bool) -> list[int | None]:
        """The certified state (2 * piece) of every neuron on the whole polygon, or None."""
        w = len(knots)
        if bounds is None:
            return [None] * w
        if not shared:
            out: list[int | None] = []
            for i in range(w):
                p = _FloatFilter.piece(bounds, i, knots[i])
                out.append(None if p is None else 2 * p)
            return out
        lo, hi = np.array(bounds[0]), np.array(bounds[1])
        K = np.array(knots[0], dtype=float)
        if K.size == 0:
            return [0] * w
        m = 1e-12 * np.abs(K) + 1e-280
        j = (lo[:, None] > (K + m)[None, :]).sum(axis=1)
        nxt = np.where(j < K.size, (K - m)[np.minimum(j, K.size - 1)], np.inf)
        ok = hi < nxt
        return [2 * int(jj) if o else None for jj, o in zip(j.tolist(), ok.tolist())]

    @staticmethod
    def piece(bounds: Any, i: int, knots: list[float]) -> int | None:
        """The piece neuron i is certified to be on over the whole polygon, or None."""
        if bounds is None:
            return None
        lo, hi = bounds[0][i], bounds[1][i]
        j = 0
        while j < len(knots) and lo > knots[j] + 1e-12 * abs(knots[j]) + 1e-280:
            j += 1
        if j < len(knots) and not hi < knots[j] - 1e-12 * abs(knots[j]) - 1e-280:
            return None
        return j


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
