"""The exact forward passes of the region engine: the pattern entered from a point along a
direction (`pattern_entered`), and a pattern's H-representation and affine map
(`rows_of`), from which a region is built during the traversal and materialised again
on access from the lean `RegionStore`.

A pattern holds one state per neuron per hidden layer, as `PiecewiseLinear.state`:
``2i`` inside piece i; ``2j+1`` exactly at knot j, which only happens for a neuron whose
pre-activation is constant on the region. Given the pattern, every pre-activation is
affine, ``z = G x + h``, and the region is
``{x : knot_{j-1} < z_i < knot_j for every non-constant neuron} ∩ domain``.

>>> from exactrelu.core.network import Network, affine, activation
>>> from exactrelu.core.domain import Domain
>>> net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])
>>> f = Forward.of(net, Domain.whole(1))
>>> p = f.pattern_entered([fmpq(0)], [fmpq(1)])      # from 0 to the right: x on, -x off
>>> p
((2, 0),)
>>> rows = f.rows_of(p)
>>> rows.labels, [str(v) for v in rows.b]
([(0, 0, 0, -1), (0, 1, 0, 1)], ['0', '0'])
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from flint import fmpq, fmpq_mat

from ..core.domain import Domain
from ..core.errors import InputError, LimitReached
from ..core.network import Network

Pattern = tuple[tuple[int, ...], ...]

_ZERO = fmpq(0)


def check_deadline(deadline: float | None) -> None:
    """Raise `LimitReached` once ``deadline`` (a `time.perf_counter` value) has passed."""
    if deadline is not None and time.perf_counter() > deadline:
        raise LimitReached("time limit reached")


@dataclass(frozen=True)
class Act:
    """A PL activation with its knots and per-piece affine maps as ``fmpq``."""

    knots: tuple[fmpq, ...]
    slopes: tuple[fmpq, ...]
    inter: tuple[fmpq, ...]

    @classmethod
    def of(cls, fn: Any) -> "Act":
        pairs = [fn.piece_affine(k) for k in range(fn.num_pieces)]
        return cls(tuple(_q(t) for t in fn.knots), tuple(_q(s) for s, _ in pairs), tuple(_q(t) for _, t in pairs))

    def state(self, z: fmpq) -> int:
        j = bisect.bisect_left(self.knots, z)
        return 2 * j + 1 if j < len(self.knots) and self.knots[j] == z else 2 * j

    def value(self, z: fmpq, st: int) -> fmpq:
        piece = st // 2
        return self.slopes[piece] * z + self.inter[piece]


def act_tables(net: Network) -> tuple[tuple[Act, ...], ...]:
    """Each hidden layer's activations as `Act` tables, one table per function object (the
    neurons of a layer mostly share one), so that a neuron's table is shared too."""
    tables: dict[int, Act] = {}
    for fns in net.chain.acts:
        for fn in fns:
            if id(fn) not in tables:
                tables[id(fn)] = Act.of(fn)
    return tuple(tuple(tables[id(fn)] for fn in fns) for fns in net.chain.acts)


@dataclass
class Rows:
    """A pattern's H-representation ``{x : A x <= b}`` (its closure; ``M``: A as a
    matrix), where each row comes from (``labels``): ``(layer, neuron, knot, +1)`` for
    ``z <= knot``, ``(layer, neuron, knot, -1)`` for ``z >= knot``, ``("domain", row)``;
    and the affine map ``f(x) = J x + c`` on it."""

    pattern: Pattern
    A: list[list[fmpq]]
    b: list[fmpq]
    labels: list[tuple[Any, ...]]
    J: fmpq_mat
    c: fmpq_mat
    M: fmpq_mat


@dataclass(frozen=True)
class Forward:
    """A network's activations as `Act` tables and its domain's nonzero rows (``dom_idx``:
    their indices in ``domain.A``), for the exact passes."""

    net: Network
    acts: tuple[tuple[Act, ...], ...]
    dom_A: tuple[tuple[fmpq, ...], ...]
    dom_b: tuple[fmpq, ...]
    dom_idx: tuple[int, ...]

    @classmethod
    def of(cls, net: Network, domain: Domain) -> "Forward":
        A, b, idx = [], [], []
        for k, (row, bk) in enumerate(zip(domain.A, domain.b)):
            if all(v == 0 for v in row):
                if bk < 0:
                    raise InputError("the domain is empty (a row 0 <= b with b < 0)", path=f"domain.b[{k}]")
                continue
            A.append(tuple(_q(v) for v in row))
            b.append(_q(bk))
            idx.append(k)
        return cls(net, act_tables(net), tuple(A), tuple(b), tuple(idx))

    def rows_of(self, pattern: Pattern, deadline: float | None = None) -> Rows:
        """The H-representation and affine map of ``pattern`` (exact; past ``deadline``,
        checked at every layer, `LimitReached`). A state ``2j+1`` is taken to be a
        constant neuron (its pre-activation's gradient is zero)."""
        chain = self.net.chain
        n = self.net.input_dim
        J = fmpq_mat(n, n, [fmpq(1) if i == j else _ZERO for i in range(n) for j in range(n)])
        c = fmpq_mat(n, 1, [_ZERO] * n)
        A: list[list[fmpq]] = []
        b: list[fmpq] = []
        labels: list[tuple[Any, ...]] = []
        zero_row = [_ZERO] * n
        for l, fns in enumerate(self.acts):
            check_deadline(deadline)
            W, bias = chain.affines[l].W, chain.affines[l].b
            G = W * J
            h = W * c + bias
            Gt = G.table()
            hs = h.entries()
            w = len(fns)
            slopes, inter = [], []
            for i, st in enumerate(pattern[l]):
                fn = fns[i]
                if st % 2 == 1:  # constant at a knot: output is the constant fn(knot)
                    slopes.append(_ZERO)
                    inter.append(fn.value(hs[i], st))
                    continue
                piece = st // 2
                slopes.append(fn.slopes[piece])
                inter.append(fn.inter[piece])
                grow = Gt[i]
                if grow == zero_row:
                    continue
                hi = hs[i]
                if piece > 0:
                    A.append([-e for e in grow])
                    b.append(hi - fn.knots[piece - 1])
                    labels.append((l, i, piece - 1, -1))
                if piece < len(fn.knots):
                    A.append(grow)
                    b.append(fn.knots[piece] - hi)
                    labels.append((l, i, piece, 1))
            diag = [_ZERO] * (w * w)
            for k in range(w):
                diag[k * w + k] = slopes[k]
            D = fmpq_mat(w, w, diag)
            J = D * G
            c = D * h + fmpq_mat(w, 1, inter)
        W, bias = chain.affines[-1].W, chain.affines[-1].b
        J = W * J
        c = W * c + bias
        for k, row, bk in zip(self.dom_idx, self.dom_A, self.dom_b):
            A.append(list(row))
            b.append(bk)
            labels.append(("domain", k))
        M = fmpq_mat(len(A), n, [v for row in A for v in row])
        return Rows(pattern, A, b, labels, J, c, M)

    def pattern_entered(self, p: list[fmpq], u: list[fmpq], deadline: float | None = None) -> Pattern | None:
        """The pattern just beyond p in direction u, from values and directional
        derivatives only (no Jacobian unless a neuron sits at a knot with zero
        derivative, where constancy decides). None when u does not decide a neuron."""
        chain = self.net.chain
        n = self.net.input_dim
        v = fmpq_mat(n, 1, p)
        dv = fmpq_mat(n, 1, u)
        slopes_so_far: list[list[fmpq]] = []
        pattern = []
        for l in range(len(self.acts)):
            check_deadline(deadline)
            W, bias = chain.affines[l].W, chain.affines[l].b
            z = W * v + bias
            dz = W * dv
            w = len(self.acts[l])
            states, vals, dvals, slopes = [], [], [], []
            for i, fn in enumerate(self.acts[l]):
                zi = z[i, 0]
                st = fn.state(zi)
                d = dz[i, 0]
                value = fn.value(zi, st)
                if st % 2 == 1:
                    if d != 0:
                        st = st + 1 if d > 0 else st - 1
                    elif not self._constant(slopes_so_far, l, i):
                        return None
                states.append(st)
                s = _ZERO if st % 2 == 1 else fn.slopes[st // 2]
                vals.append(value)
                dvals.append(s * d)
                slopes.append(s)
            pattern.append(tuple(states))
            slopes_so_far.append(slopes)
            v = fmpq_mat(w, 1, vals)
            dv = fmpq_mat(w, 1, dvals)
        return tuple(pattern)

    def _constant(self, slopes: list[list[fmpq]], l: int, i: int) -> bool:
        """Whether neuron i of hidden layer l has zero gradient given the earlier slopes."""
        chain = self.net.chain
        n = self.net.input_dim
        J = fmpq_mat(n, n, [fmpq(1) if a == b else _ZERO for a in range(n) for b in range(n)])
        for k in range(l):
            G = chain.affines[k].W * J
            w = G.nrows()
            J = fmpq_mat(w, n, [slopes[k][r] * G[r, c] for r in range(w) for c in range(n)])
        G = chain.affines[l].W * J
        return all(G[i, c] == 0 for c in range(n))


def _q(x: Fraction) -> fmpq:
    return fmpq(x.numerator, x.denominator)
