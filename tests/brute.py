"""Independent brute force over all activation patterns of a tiny network.

Shares nothing with `exactrelu.regions.traversal` or `exactrelu.polyhedra.lp`: for every choice of
one piece per neuron (a neuron whose pre-activation is constant, given the earlier
layers' pieces, has no choice: its state is where the constant sits), the pattern's
cell is ``{x : knot_{j-1} < z_i(x) < knot_j}`` with affine ``z_i``, and its interior is
decided exactly by Fourier–Motzkin elimination on strict inequalities, which also gives
an interior point by back substitution. Exponential in the number of neurons: for
nets with a handful of neurons, as an oracle.

`full_dimensional_regions(net, domain)` returns, for every region with nonempty
interior, its pattern, an interior point, its exact Jacobian and offset. Other test
files reuse it (for example to brute-force Lipschitz constants as the largest norm of
these Jacobians).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from exactrelu.core.domain import Domain
from exactrelu.core.network import Network

Row = tuple[tuple[Fraction, ...], Fraction]  # a x < b


@dataclass(frozen=True)
class BruteRegion:
    pattern: tuple[tuple[int, ...], ...]
    point: tuple[Fraction, ...]
    jacobian: tuple[tuple[Fraction, ...], ...]
    offset: tuple[Fraction, ...]


def _matmul(W: Sequence[Sequence[Fraction]], M: Sequence[Sequence[Fraction]]) -> list[list[Fraction]]:
    return [[sum((W[i][k] * M[k][j] for k in range(len(M))), Fraction(0)) for j in range(len(M[0]))] for i in range(len(W))]


def _matvec(W: Sequence[Sequence[Fraction]], v: Sequence[Fraction]) -> list[Fraction]:
    return [sum((w * x for w, x in zip(row, v)), Fraction(0)) for row in W]


def strict_point(rows: list[Row], n: int) -> tuple[Fraction, ...] | None:
    """A point with ``a x < b`` for every row, or None (Fourier–Motzkin, exact)."""
    rows = [(tuple(a), b) for a, b in rows]
    if n == 0:
        return () if all(b > 0 for _, b in rows) else None
    k = n - 1
    pos = [(a, b) for a, b in rows if a[k] > 0]
    neg = [(a, b) for a, b in rows if a[k] < 0]
    rest = [(a[:k], b) for a, b in rows if a[k] == 0]
    for (ap, bp), (an, bn) in itertools.product(pos, neg):
        lp, ln = -an[k], ap[k]
        rest.append((tuple(lp * u + ln * v for u, v in zip(ap[:k], an[:k])), lp * bp + ln * bn))
    rest = list({_normal(a, b): (a, b) for a, b in rest}.values())
    sub = strict_point(rest, k)
    if sub is None:
        return None
    lo, hi = None, None
    for a, b in rows:
        if a[k] == 0:
            continue
        t = (b - sum((u * v for u, v in zip(a[:k], sub)), Fraction(0))) / a[k]
        if a[k] > 0:
            hi = t if hi is None or t < hi else hi
        else:
            lo = t if lo is None or t > lo else lo
    if lo is None and hi is None:
        xk = Fraction(0)
    elif lo is None:
        xk = hi - 1
    elif hi is None:
        xk = lo + 1
    else:
        assert lo < hi
        xk = (lo + hi) / 2
    return tuple(sub) + (xk,)


def _normal(a: tuple[Fraction, ...], b: Fraction) -> tuple[Fraction, ...]:
    s = next((abs(v) for v in a if v != 0), None)
    if s is None:
        return ("const", b > 0)  # type: ignore[return-value]
    return tuple(v / s for v in a) + (b / s,)


def full_dimensional_regions(net: Network, domain: Domain | None = None) -> list[BruteRegion]:
    """Every activation region with nonempty interior: pattern, interior point, J, c."""
    n = net.input_dim
    dom_rows: list[Row] = []
    if domain is not None:
        dom_rows = [(tuple(a), b) for a, b in zip(domain.A, domain.b)]
    chain = net.chain
    eye = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    out: list[BruteRegion] = []

    def recurse(l: int, J: list[list[Fraction]], c: list[Fraction], rows: list[Row], pattern: list[tuple[int, ...]]) -> None:
        if strict_point(rows + dom_rows, n) is None:
            return
        if l == len(chain.acts):
            W = [list(r) for r in chain.affines[-1].weight]
            Jf = _matmul(W, J)
            cf = [a + b for a, b in zip(_matvec(W, c), chain.affines[-1].bias)]
            point = strict_point(rows + dom_rows, n)
            assert point is not None
            out.append(BruteRegion(tuple(pattern), point, tuple(map(tuple, Jf)), tuple(cf)))
            return
        W = [list(r) for r in chain.affines[l].weight]
        G = _matmul(W, J)
        h = [a + b for a, b in zip(_matvec(W, c), chain.affines[l].bias)]
        fns = chain.acts[l]
        choices = []
        for i, fn in enumerate(fns):
            if all(v == 0 for v in G[i]):
                choices.append([fn.state(h[i])])
            else:
                choices.append([2 * p for p in range(fn.num_pieces)])
        for states in itertools.product(*choices):
            new_rows = list(rows)
            Jn, cn = [], []
            for i, (fn, st) in enumerate(zip(fns, states)):
                if st % 2 == 1:
                    Jn.append([Fraction(0)] * n)
                    cn.append(fn(h[i]))
                    continue
                piece = st // 2
                s = fn.slopes[piece]
                val0 = fn(h[i]) if all(v == 0 for v in G[i]) else None
                if val0 is not None:
                    Jn.append([Fraction(0)] * n)
                    cn.append(val0)
                    continue
                # value on piece: fn(t) = s * t + (fn(t0) - s * t0) for any t0 in the piece
                t0 = _point_in_piece(fn, piece)
                icpt = fn(t0) - s * t0
                Jn.append([s * g for g in G[i]])
                cn.append(s * h[i] + icpt)
                if piece > 0:
                    new_rows.append((tuple(-g for g in G[i]), h[i] - fn.knots[piece - 1]))
                if piece < len(fn.knots):
                    new_rows.append((tuple(G[i]), fn.knots[piece] - h[i]))
            recurse(l + 1, Jn, cn, new_rows, pattern + [tuple(states)])

    recurse(0, eye, [Fraction(0)] * n, [], [])
    return out


def _point_in_piece(fn, piece: int) -> Fraction:  # type: ignore[no-untyped-def]
    k = fn.knots
    if not k:
        return Fraction(0)
    if piece == 0:
        return k[0] - 1
    if piece == len(k):
        return k[-1] + 1
    return (k[piece - 1] + k[piece]) / 2
