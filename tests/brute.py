"""Independent brute force over all activation patterns of a tiny network.

Shares nothing with the engine (`exactrelu.core.network`, `exactrelu.regions`,
`exactrelu.polyhedra`) nor with the checker (`exactrelu.checker`): it reads the case JSON
itself (`_Layer`, `_read`), layer by layer as written (no canonical chain), and for
every choice of one piece per neuron (a neuron whose pre-activation is constant, given
the earlier layers' pieces, has no choice: its state is where the constant sits) the
pattern's cell is ``{x : knot_{j-1} < z_i(x) < knot_j}`` with affine ``z_i``; its
interior is decided exactly by Fourier–Motzkin elimination on strict inequalities,
which also gives an interior point by back substitution. Exponential in the number of
neurons: for nets with a handful of neurons, as an oracle.

`full_dimensional_regions(doc)` takes a case document (``exactrelu-network/1``, with
its optional domain; `exactrelu.io.case.case_to_json(net, domain)` writes one for a
network built in Python) and returns, for every region with nonempty interior, its
pattern, an interior point, its exact Jacobian and offset, and its strict rows. Other test files reuse it
(for example to brute-force Lipschitz constants as the largest norm of these
Jacobians); `assert_verdict_true` holds a certificate checker's verdict against it.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import numpy

Row = tuple[tuple[Fraction, ...], Fraction]  # a x < b


@dataclass(frozen=True)
class BruteRegion:
    pattern: tuple[tuple[int, ...], ...]
    point: tuple[Fraction, ...]
    jacobian: tuple[tuple[Fraction, ...], ...]
    offset: tuple[Fraction, ...]
    rows: tuple[Row, ...] = ()  # the cell's strict rows a x < b (domain rows included)


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


@dataclass(frozen=True)
class _PL:
    """A PL function: knots (each a real change of slope), slopes, value at knot 0 (at 0 without knots)."""

    knots: tuple[Fraction, ...]
    slopes: tuple[Fraction, ...]
    value: Fraction

    def __call__(self, t: Fraction) -> Fraction:
        if not self.knots:
            return self.value + self.slopes[0] * t
        v, prev = self.value, self.knots[0]
        if t <= prev:
            return v + self.slopes[0] * (t - prev)
        for j in range(1, len(self.knots) + 1):
            nxt = self.knots[j] if j < len(self.knots) else None
            if nxt is None or t <= nxt:
                return v + self.slopes[j] * (t - prev)
            v += self.slopes[j] * (nxt - prev)
            prev = nxt
        raise AssertionError

    def state(self, t: Fraction) -> int:
        j = bisect.bisect_left(self.knots, t)
        return 2 * j + 1 if j < len(self.knots) and self.knots[j] == t else 2 * j

    def point_in_piece(self, piece: int) -> Fraction:
        k = self.knots
        if not k:
            return Fraction(0)
        if piece == 0:
            return k[0] - 1
        if piece == len(k):
            return k[-1] + 1
        return (k[piece - 1] + k[piece]) / 2


def _pl(knots: Sequence[Any], slopes: Sequence[Any], value: Any) -> _PL:
    """Merge the pieces either side of a knot with no change of slope."""
    t, s, v = [Fraction(x) for x in knots], [Fraction(x) for x in slopes], Fraction(value)
    raw = _PL(tuple(t), tuple(s), v)
    kt, ks = [], [s[0]]
    for j, tj in enumerate(t):
        if s[j + 1] != ks[-1]:
            kt.append(tj)
            ks.append(s[j + 1])
    first = raw(kt[0]) if kt else raw(Fraction(0))
    return _PL(tuple(kt), tuple(ks), first)


@dataclass(frozen=True)
class _Layer:
    weight: tuple[tuple[Fraction, ...], ...] | None = None  # an affine layer
    bias: tuple[Fraction, ...] = ()
    fns: tuple[_PL, ...] = ()  # an activation layer: one function per neuron


def _read(doc: dict[str, Any]) -> tuple[int, list[_Layer], list[Row]]:
    """Input dimension, layers as written, and the domain's rows ``a x <= b`` of a case document."""
    n = dim = doc["input_dim"]
    layers = []
    for item in doc["layers"]:
        kind = item["type"]
        if kind == "affine":
            W = tuple(tuple(Fraction(v) for v in row) for row in item["weight"])
            b = tuple(Fraction(v) for v in item.get("bias", ["0"] * len(W)))
            layers.append(_Layer(W, b))
            dim = len(W)
            continue
        zero, one = Fraction(0), Fraction(1)
        if kind == "relu":
            fns = [_pl([0], [0, 1], 0)] * dim
        elif kind == "abs":
            fns = [_pl([0], [-1, 1], 0)] * dim
        elif kind == "leaky_relu":
            fns = [_pl([0], [item["alpha"], 1], 0)] * dim
        elif kind == "prelu":
            fns = [_pl([0], [a, 1], 0) for a in item["alpha"]]
        elif kind == "hardtanh":
            lo, hi = Fraction(item.get("min", -1)), Fraction(item.get("max", 1))
            fns = [_pl([lo, hi], [zero, one, zero], lo)] * dim
        elif kind == "spline" and item["knots"] and isinstance(item["knots"][0], list):
            fns = [_pl(k, s, v) for k, s, v in zip(item["knots"], item["slopes"], item["value"])]
        elif kind == "spline":
            fns = [_pl(item["knots"], item["slopes"], item["value"])] * dim
        else:
            raise ValueError(f"brute.py reads no layer {kind!r}")
        layers.append(_Layer(fns=tuple(fns)))
    rows: list[Row] = []
    dom = doc.get("domain")
    if dom is not None and "box" in dom:
        for i, (lo, hi) in enumerate(dom["box"]):
            e = tuple(Fraction(int(j == i)) for j in range(n))
            rows += [(e, Fraction(hi)), (tuple(-v for v in e), -Fraction(lo))]
    elif dom is not None:
        rows = [(tuple(Fraction(v) for v in a), Fraction(b)) for a, b in zip(dom["halfspaces"]["A"], dom["halfspaces"]["b"])]
    return n, layers, rows


def full_dimensional_regions(doc: dict[str, Any]) -> list[BruteRegion]:
    """Every activation region with nonempty interior of a case document: pattern, interior point, J, c."""
    n, layers, dom_rows = _read(doc)
    eye = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    out: list[BruteRegion] = []

    def recurse(l: int, J: list[list[Fraction]], c: list[Fraction], rows: list[Row], pattern: list[tuple[int, ...]]) -> None:
        if strict_point(rows + dom_rows, n) is None:
            return
        while l < len(layers) and layers[l].weight is not None:  # affine layers, as written
            W = [list(r) for r in layers[l].weight]
            J, c = _matmul(W, J), [a + b for a, b in zip(_matvec(W, c), layers[l].bias)]
            l += 1
        if l == len(layers):
            point = strict_point(rows + dom_rows, n)
            assert point is not None
            out.append(BruteRegion(tuple(pattern), point, tuple(map(tuple, J)), tuple(c), tuple(rows + dom_rows)))
            return
        fns = layers[l].fns
        choices = []
        for i, fn in enumerate(fns):
            if all(v == 0 for v in J[i]):
                choices.append([fn.state(c[i])])
            else:
                choices.append([2 * p for p in range(len(fn.slopes))])
        for states in itertools.product(*choices):
            new_rows = list(rows)
            Jn, cn = [], []
            for i, (fn, st) in enumerate(zip(fns, states)):
                if all(v == 0 for v in J[i]):  # constant: its value, whatever its state
                    Jn.append([Fraction(0)] * n)
                    cn.append(fn(c[i]))
                    continue
                piece = st // 2
                s = fn.slopes[piece]
                # value on piece: fn(t) = s * t + (fn(t0) - s * t0) for any t0 in the piece
                t0 = fn.point_in_piece(piece)
                Jn.append([s * g for g in J[i]])
                cn.append(s * c[i] + fn(t0) - s * t0)
                if piece > 0:
                    new_rows.append((tuple(-g for g in J[i]), c[i] - fn.knots[piece - 1]))
                if piece < len(fn.knots):
                    new_rows.append((tuple(J[i]), fn.knots[piece] - c[i]))
            recurse(l + 1, Jn, cn, new_rows, pattern + [tuple(states)])

    recurse(0, eye, [Fraction(0)] * n, [], [])
    return out


def _norm(J: Sequence[Sequence[Fraction]], norm: str) -> Fraction:
    if norm == "inf":
        return max(sum((abs(v) for v in row), Fraction(0)) for row in J)
    return max(sum((abs(row[k]) for row in J), Fraction(0)) for k in range(len(J[0])))


def assert_verdict_true(doc: dict[str, Any], v: Any) -> None:
    """A checker's verdict on the certificate ``doc`` (its ``counts`` and ``lipschitz``)
    states the brute force's region count and L_1, L_inf, L_2 on the document's own
    case; for one-input cases also the linear pieces and bounded regions (intervals in
    order along the line)."""
    regions = full_dimensional_regions(doc["case"])
    assert v.counts["activation_regions"] == len(regions)
    for norm in ("1", "inf"):
        if norm in v.lipschitz:
            assert Fraction(v.lipschitz[norm]) == max(_norm(r.jacobian, norm) for r in regions)
    if "2" in v.lipschitz:
        lo, hi = (Fraction(x) for x in doc["lipschitz"]["2"]["value_squared"]["interval"])
        top = max(numpy.linalg.norm(numpy.array([[float(x) for x in row] for row in r.jacobian]), 2) ** 2 for r in regions)
        assert float(lo) - 1e-9 * max(1, top) <= top <= float(hi) + 1e-9 * max(1, top)
    if doc["case"]["input_dim"] == 1:  # intervals in order along the line
        line = sorted(regions, key=lambda r: r.point[0])
        maps = [(r.jacobian, r.offset) for r in line]
        assert v.counts["linear_pieces"] == 1 + sum(a != b for a, b in zip(maps, maps[1:]))
        if "domain" not in doc["case"]:
            assert v.counts["bounded_regions"] == max(len(line) - 2, 0)
