"""The 2-D splitter in floats with proven error bounds: the activation patterns of a
network with 2 inputs on a box, certified, at the speed of float code (`certified_patterns`).

Every polygon of every layer is held as arrays (all polygons at once, padded to the
largest vertex count), and so is everything the splitting decides with: each polygon's
rows (the pre-activations ``z = g·x + h`` of the layer, as floats with an elementwise
radius), each vertex (a float point with an ∞-norm radius around the true vertex) and
the line of each edge (floats with radii). A sign is decided only when the value's
distance from zero exceeds its proven error bound (`exactrelu.predicates` explains the
rounding model); when one cannot be, `Undecided` is raised and the caller
(`exactrelu.regions.split2d`) decides everything in exact rational arithmetic instead.

The bounds, with ``u = 2^-53`` and ``γ_k = k u / (1 - k u)``:

* data: a rational rounded to binary64 moves by at most ``u|v̂|`` (normal range only:
  `to_floats` refuses the rest);
* rows: the exact ``Z = W M + [0 0 b]`` against the computed ``Ẑ`` differ by at most
  ``u S + |Ŵ| R_M + γ_n S + u|b̂| + 2u|Ẑ|`` (``S = |Ŵ|(|M̂| + R_M)``, n the layer's
  fan-in), plus ``n 2^-1074`` where a product may underflow; the post-activation map
  ``slope·Z + intercept`` adds the slopes' and intercepts' rounding;
* values: at a vertex v̂ with radius r, ``g·v + h - t`` is within
  ``R_g(|v̂| + r) + |ĝ| r + R_c + γ_3(|ĝ||v̂| + |ĉ|)`` of the computed value;
* a new vertex, the crossing of an edge's line with a row's (the 2×2 system ``A q = r``,
  radii ``R_A``, ``R_r``), lies within ``N/(1 - N‖R_A‖∞) · ‖R_r + R_A|q̂| + |r - A q̂|‖∞`` of
  the computed q̂, where ``N >= ‖A^-1‖∞`` comes from the adjugate over a lower bound of
  ``|det A|`` (the system is refused when ``N‖R_A‖∞ >= 1/2``);

and each bound computed in floats is enlarged by a factor ``1 + γ_k`` that covers its
own rounding. A polygon is cut by a row only when the row is decided strictly positive
at one vertex and strictly negative at another; then both true pieces have positive
area, and the true crossing points are the true lines' intersections. A row decided
one-sided at every vertex of a polygon is one-sided on all its descendants. A neuron
whose row is exactly ``0·x + knot`` (zero radius) is constant at that knot (state
``2j + 1``). So the leaves are exactly the activation regions, and their patterns are
exact, although no rational was computed.

>>> from exactrelu.core.network import Network, affine, activation
>>> net = Network.from_layers(2, [affine([[1, 0], [0, 1], [1, 1]], [0, 0, "-1/2"]), activation("relu"), affine([[1, 1, 1]])])
>>> found = certified_patterns(net, ((-1, 1), (-1, 1)))
>>> len(found), sorted(p for p, _ in found)[:3]
(7, [((0, 0, 0),), ((0, 2, 0),), ((0, 2, 2),)])
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from flint import fmpq

from ..core.network import Network
from ..predicates import TINY, U, FilterCounts, gamma, plane_crossings, plane_values, rounded, undecided
from .forward import Act, Pattern, act_tables, check_deadline

# an edge's line: ("domain", k) for row k of the box domain (Domain.from_box's order:
# x <= hi, -x <= -lo, y <= hi, -y <= -lo), (layer, neuron, knot) for a knot line
Label = tuple[Any, ...]


class Undecided(Exception):
    """A sign or a crossing that the float bounds cannot decide."""


def _rounded(values: Sequence[Any], shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """`rounded`, or `Undecided` when a value is outside binary64's normal range."""
    found = rounded(values)
    if found is None:
        raise Undecided("a weight outside binary64's normal range")
    vals, radius = found
    return vals.reshape(shape), radius.reshape(shape)


class _Layer:
    """One affine layer and its activations in floats: ``W``, ``b`` with radii, and the
    layer's knot rows (``owner``: the neuron, ``knot``: its index, ``t``: the knot),
    each neuron's pieces (slope, intercept) and values at its knots, with radii; from the
    layer's `Act` tables (`act_tables`: one per shared function, rounded once each)."""

    def __init__(self, affine: Any, acts: Sequence[Act]) -> None:
        w, n = affine.W.nrows(), affine.W.ncols()
        self.w, self.n = w, n
        self.W, _ = _rounded(affine.W.entries(), (w, n))  # its radius u|Ŵ| is the u S of `rows_of`
        self.b, self.Rb = _rounded(affine.b.entries(), (w,))
        self.absW = np.abs(self.W)
        self.nonzero = (self.W != 0).astype(float)
        rows = [(i, j, t) for i, act in enumerate(acts) for j, t in enumerate(act.knots)]
        self.owner = np.array([i for i, _, _ in rows], dtype=np.intp)
        self.knot = np.array([j for _, j, _ in rows], dtype=np.intp)
        self.t, self.Rt = _rounded([t for _, _, t in rows], (len(rows),))
        pieces = max(len(act.slopes) for act in acts)
        knots = max(pieces - 1, 1)
        zero = fmpq(0)
        tables: dict[int, list[fmpq]] = {}  # per Act: its slopes, intercepts, values at its knots, padded
        for act in acts:
            if id(act) not in tables:
                pad = [zero] * (pieces - len(act.slopes))
                at_knots = [act.value(t, 2 * j + 1) for j, t in enumerate(act.knots)]
                tables[id(act)] = list(act.slopes) + pad + list(act.inter) + pad + at_knots + [zero] * (knots - len(act.knots))
        flat, radius = _rounded([v for act in acts for v in tables[id(act)]], (w, 2 * pieces + knots))
        self.slope, self.inter, self.at_knot = flat[:, :pieces], flat[:, pieces:2 * pieces], flat[:, 2 * pieces:]
        self.Rslope, self.Rinter, self.Rat_knot = radius[:, :pieces], radius[:, pieces:2 * pieces], radius[:, 2 * pieces:]

    def rows_of(self, M: np.ndarray, RM: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pre-activation rows ``Z = W M + [0 0 b]`` of every polygon (M: (P, n, 3),
        the previous layer's output as an affine map of (x, y, 1)) and their radii."""
        P = M.shape[0]
        flat = lambda X: X.transpose(1, 0, 2).reshape(self.n, 3 * P)  # noqa: E731
        back = lambda X: X.reshape(self.w, P, 3).transpose(1, 0, 2)  # noqa: E731
        Z = back(self.W @ flat(M))
        Z[:, :, 2] += self.b
        SR = back(self.absW @ flat(RM))
        S = back(self.absW @ flat(np.abs(M))) + SR
        # a product may underflow wherever some term is nonzero; where S is 0.0 that is
        # decided by counting the nonzero terms (S = 0.0 does not prove them all zero)
        maybe = S > 0
        if not maybe.all():
            maybe |= back(self.nonzero @ flat(((np.abs(M) + RM) > 0).astype(float))) > 0
        R = (U + gamma(self.n)) * S + SR + 2 * U * np.abs(Z) + self.n * TINY * maybe
        R[:, :, 2] += self.Rb
        return Z, R * (1 + 2 * gamma(self.n + 4))

    def outputs(self, Z: np.ndarray, RZ: np.ndarray, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The layer's output map ``slope·Z + intercept`` per polygon (states: (P, w),
        ``2j`` on piece j, ``2j + 1`` constant at knot j) and its radii."""
        piece = states // 2
        at = states % 2 == 1
        rows = np.arange(self.w)[None, :]
        s = np.where(at, 0.0, self.slope[rows, piece])
        Rs = np.where(at, 0.0, self.Rslope[rows, piece])
        knot = np.minimum(piece, self.at_knot.shape[1] - 1)
        c = np.where(at, self.at_knot[rows, knot], self.inter[rows, piece])
        Rc = np.where(at, self.Rat_knot[rows, knot], self.Rinter[rows, piece])
        M = s[:, :, None] * Z
        M[:, :, 2] += c
        R = np.abs(s)[:, :, None] * (RZ + 2 * U * np.abs(Z)) + Rs[:, :, None] * (np.abs(Z) + RZ) + 2 * U * np.abs(M)
        R[:, :, 2] += Rc
        return M, R * (1 + 8 * U)


class _Live:
    """The live part (the first ``n`` rows) of one of `_Polygons`' buffers."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.buffer = "_" + name

    def __get__(self, obj: Any, owner: type | None = None) -> np.ndarray:
        return getattr(obj, self.buffer)[: obj.n]


class _Polygons:
    """The current polygons as one padded array ``V`` (polygon, vertex, field), the fields
    being (`F`): the vertex ``X``, ``Y`` and its radius ``R``; the line of the edge
    leaving it (``L0 x + L1 y + LB = 0``, radii ``LR0``, ``LR1``, ``LRB``) and that line's
    label code ``LL`` (``-1 - k`` for domain row k, else an index into the splitter's
    labels; small integers, exact as floats). ``count``: each polygon's vertices;
    ``anc``: the polygon at the start of the layer each one comes from; ``side``: each
    knot row's side (+1, -1; 0 when constant at the knot); ``ptr``: how many of its
    ancestor's candidate rows each has been decided on. Each is the live part of a buffer
    (``_V``, ...) that grows by doubling."""

    _BUFFERS = ("_V", "_count", "_anc", "_side", "_ptr")

    def __init__(self, box: Sequence[Sequence[Any]]) -> None:
        (x0, x1), (y0, y1) = box
        (fx0, fx1, fy0, fy1), _ = _rounded([x0, x1, y0, y1], (4,))
        V = np.zeros((1, 4, _FIELDS))
        V[0, :, F.X] = [fx0, fx1, fx1, fx0]
        V[0, :, F.Y] = [fy0, fy0, fy1, fy1]
        V[0, :, F.R] = U * np.maximum(np.abs(V[0, :, F.X]), np.abs(V[0, :, F.Y]))
        # edges: y = y0 (row 3), x = x1 (row 0), y = y1 (row 2), x = x0 (row 1)
        V[0, :, F.L0] = [0.0, 1.0, 0.0, -1.0]
        V[0, :, F.L1] = [-1.0, 0.0, 1.0, 0.0]
        V[0, :, F.LB] = [fy0, -fx1, -fy1, fx0]
        V[0, :, F.LRB] = U * np.abs(V[0, :, F.LB])
        V[0, :, F.LL] = [-4, -1, -3, -2]
        self.n = 1
        self._V = V
        self._count = np.array([4])
        self._anc = np.zeros(1, dtype=np.intp)
        self._side = np.zeros((1, 0), dtype=np.int8)
        self._ptr = np.zeros(1, dtype=np.intp)

    V = _Live()
    count = _Live()
    anc = _Live()
    side = _Live()
    ptr = _Live()

    def __len__(self) -> int:
        return self.n

    def new_layer(self, side: np.ndarray) -> None:
        """Start a layer: every polygon its own ancestor, with these sides."""
        self._anc = np.arange(len(self._count))
        self._side = np.zeros((len(self._count), side.shape[1]), dtype=np.int8)
        self._side[: self.n] = side
        self._ptr = np.zeros(len(self._count), dtype=np.intp)

    def widen(self, K: int) -> None:
        if K > self._V.shape[1]:
            self._V = np.concatenate([self._V, np.zeros((len(self._V), K - self._V.shape[1], _FIELDS))], axis=1)

    def append(self, V: np.ndarray, count: np.ndarray, idx: np.ndarray) -> None:
        """Append polygons (vertex fields ``V``, ``count``) that come from polygons ``idx``
        (their ancestors and sides are copied)."""
        k = len(count)
        if self.n + k > len(self._count):  # grow every buffer, doubling
            grow = max(len(self._count), self.n + k - len(self._count))
            for name in self._BUFFERS:
                a = getattr(self, name)
                setattr(self, name, np.concatenate([a, np.zeros((grow,) + a.shape[1:], dtype=a.dtype)]))
        new = slice(self.n, self.n + k)
        self._V[new] = V
        self._count[new] = count
        for name in ("_anc", "_side", "_ptr"):
            getattr(self, name)[new] = getattr(self, name)[idx]
        self.n += k

    def valid(self, idx: Any = slice(None)) -> np.ndarray:
        """Which slots of polygons ``idx`` hold a vertex."""
        return np.arange(self.V.shape[1])[None, :] < self.count[idx][:, None]


class F:
    """The fields of `_Polygons.V`."""

    X, Y, R, L0, L1, LB, LR0, LR1, LRB, LL = range(10)
    LINE = slice(3, 10)


_FIELDS = 10


def _cut(P: _Polygons, idx: np.ndarray, s: np.ndarray, row: np.ndarray, code: np.ndarray) -> None:
    """Cut polygons ``idx`` (every vertex decided: ``s`` = ±1) by their row (``row``:
    g0, g1, c and radii, per polygon; ``code``: its label code): the negative part
    replaces each, the positive part is appended (in the order of ``idx``)."""
    old = P.V[idx]
    n, K, _ = old.shape
    cnt = P.count[idx]
    k = np.arange(K)[None, :]
    valid = k < cnt[:, None]
    s_next = np.take_along_axis(s, (k + 1) % cnt[:, None], axis=1)
    cross = valid & (s != s_next)
    rc, kc = np.nonzero(cross)
    e = old[rc, kc]
    qx, qy, rq, ok = plane_crossings(
        (e[:, F.L0], e[:, F.L1], e[:, F.LB], e[:, F.LR0], e[:, F.LR1], e[:, F.LRB]), tuple(row[rc].T)
    )
    if not ok.all():
        raise Undecided("an ill-conditioned crossing")
    cut_line = np.empty((n, 1, _FIELDS - 3))
    cut_line[:, 0, :6] = row
    cut_line[:, 0, 6] = code
    # both parts at once: slots (part, polygon, 2K): vertex k, then the crossing on edge k
    slots = np.zeros((2, n, 2 * K, _FIELDS))
    slots[:, :, 0::2] = old
    slots[:, rc, 2 * kc + 1, F.X] = qx
    slots[:, rc, 2 * kc + 1, F.Y] = qy
    slots[:, rc, 2 * kc + 1, F.R] = rq
    sides = np.array([-1, 1])[:, None, None]
    # a crossing continues along its edge's line when the next vertex is on the part's side
    slots[:, :, 1::2, F.LINE] = np.where((s_next == sides)[..., None], old[None, :, :, F.LINE], cut_line[None])
    keep = np.empty((2, n, 2 * K), dtype=bool)
    keep[:, :, 0::2] = valid & (s == sides)
    keep[:, :, 1::2] = cross
    part, r, col = np.nonzero(keep)
    pos = (np.cumsum(keep, axis=2) - 1)[part, r, col]
    counts = keep.sum(axis=2)
    P.widen(int(counts.max()))
    parts = np.zeros((2, n, P.V.shape[1], _FIELDS))
    parts[part, r, pos] = slots[part, r, col]
    P.V[idx] = parts[0]
    P.count[idx] = counts[0]
    P.append(parts[1], counts[1], idx)


def certified_patterns(
    net: Network, box: Sequence[Sequence[Any]], counts: FilterCounts | None = None, deadline: float | None = None
) -> list[tuple[Pattern, tuple[Label, ...]]]:
    """Every activation region of ``net`` (2 inputs) on ``box`` (``((x0, x1), (y0, y1))``):
    its pattern (exact) and the lines of its polygon's edges in order (a hint for
    materialising the exact polygon; see the module's docstring for why the floats
    decide exactly). `Undecided` when a bound cannot decide; ``counts`` adds the signs
    decided; past ``deadline``, `LimitReached`."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # nan, inf: refused by the bounds
        return _patterns(net, box, counts if counts is not None else FilterCounts(), deadline)


def _patterns(
    net: Network, box: Sequence[Sequence[Any]], counts: FilterCounts, deadline: float | None
) -> list[tuple[Pattern, tuple[Label, ...]]]:
    """`certified_patterns`' steps, layer by layer: the rows and their radii, every row at
    the layer's polygons (`_layer_start`), the cuts (`_split_layer`), the states and the
    next layer's input map; then the leaves (`_leaves`)."""
    chain = net.chain
    layers = [_Layer(chain.affines[l], acts) for l, acts in enumerate(act_tables(net))]
    P = _Polygons(box)
    M = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    RM = np.zeros_like(M)
    labels: list[Label] = []
    history: list[tuple[np.ndarray, np.ndarray]] = []
    for l, layer in enumerate(layers):
        check_deadline(deadline)
        Z, RZ = layer.rows_of(M, RM)
        codes = len(labels)
        labels.extend((l, i, j) for i, j in zip(layer.owner.tolist(), layer.knot.tolist()))
        o, t, Rt = layer.owner, layer.t, layer.Rt
        # a row exactly 0·x + knot (zero radius): the neuron is constant at that knot
        at = (RZ[:, o, :] == 0).all(axis=2) & (Z[:, o, 0] == 0) & (Z[:, o, 1] == 0) & (Z[:, o, 2] == t) & (Rt == 0)
        cand, side = _layer_start(P, Z, RZ, layer, at, counts)
        P.new_layer(side)
        _split_layer(P, Z, RZ, layer, cand, codes, counts, deadline)
        # states: the number of knots below, or 2j + 1 constant at knot j
        states = np.zeros((len(P), layer.w), dtype=np.int64)
        np.add.at(states, (slice(None), o), 2 * (P.side == 1))
        at_now = at[P.anc]
        if at_now.any():
            rr, kk = np.nonzero(at_now)
            states[rr, o[kk]] = 2 * layer.knot[kk] + 1
        history.append((P.anc.copy(), states))
        if l + 1 < len(layers):
            M, RM = layer.outputs(Z[P.anc], RZ[P.anc], states)
    return _leaves(P, history, labels)


def _layer_start(
    P: _Polygons, Z: np.ndarray, RZ: np.ndarray, layer: _Layer, at: np.ndarray, counts: FilterCounts
) -> tuple[np.ndarray, np.ndarray]:
    """Every knot row at every vertex of the polygons at the start of a layer, in chunks:
    the rows that cut each polygon (candidates, to be decided on its parts) and the side
    of every other (0 where constant at the knot). `Undecided` where a sign is not proven."""
    o, t, Rt = layer.owner, layer.t, layer.Rt
    nrows = len(o)
    cand = np.zeros((len(P), nrows), dtype=bool)
    side = np.zeros((len(P), nrows), dtype=np.int8)
    valid_all = P.valid()
    for lo in range(0, len(P), 512):
        sl = slice(lo, lo + 512)
        Zs, Rs = Z[sl][:, o, :], RZ[sl][:, o, :]
        c = Zs[:, :, 2] - t
        Rc = Rs[:, :, 2] + Rt + U * np.abs(c)
        X, Y, R = P.V[sl, :, F.X], P.V[sl, :, F.Y], P.V[sl, :, F.R]
        valid = valid_all[sl]
        val = Zs[:, None, :, 0] * X[:, :, None] + Zs[:, None, :, 1] * Y[:, :, None] + c[:, None, :]
        # the bound at the polygon's largest |x|, |y| and radius first (it bounds every
        # vertex's); the vertex by vertex bound only where that one cannot decide
        big = [np.where(valid, np.abs(a), 0).max(axis=1)[:, None] for a in (X, Y, R)]
        _, E = plane_values(Zs[:, :, 0], Zs[:, :, 1], c, Rs[:, :, 0], Rs[:, :, 1], Rc, *big)
        E = E[:, None, :]
        if (valid[:, :, None] & undecided(val, E)).any():
            _, E = plane_values(Zs[:, None, :, 0], Zs[:, None, :, 1], c[:, None, :], Rs[:, None, :, 0], Rs[:, None, :, 1],
                                Rc[:, None, :], X[:, :, None], Y[:, :, None], R[:, :, None])
        open_ = (valid[:, :, None] & undecided(val, E)).any(axis=1)
        if (open_ & ~at[sl]).any():
            raise Undecided("a sign at a vertex")
        pos = np.where(valid[:, :, None], val, -np.inf).max(axis=1) > 0
        neg = np.where(valid[:, :, None], val, np.inf).min(axis=1) < 0
        cand[sl] = pos & neg
        side[sl] = np.where(at[sl], 0, np.where(pos, 1, -1))
    counts.decided += int(valid_all.sum()) * nrows
    return cand, side


def _split_layer(
    P: _Polygons, Z: np.ndarray, RZ: np.ndarray, layer: _Layer, cand: np.ndarray, codes: int, counts: FilterCounts,
    deadline: float | None,
) -> None:
    """Decide every candidate row on every part of its polygon: at each step every polygon
    takes its ancestor's next candidate (the cells of an arrangement do not depend on the
    order of the cuts) and is cut by it or found on one side. ``codes``: the label code of
    the layer's first row."""
    o, t, Rt = layer.owner, layer.t, layer.Rt
    owner_of, row_of = np.nonzero(cand)
    first = np.searchsorted(owner_of, np.arange(len(P)))
    ncand = np.bincount(owner_of, minlength=len(P))
    while True:
        check_deadline(deadline)
        idx = np.flatnonzero(P.ptr < ncand[P.anc])
        if not len(idx):
            return
        a = P.anc[idx]
        r = row_of[first[a] + P.ptr[idx]]
        i = o[r]
        g0, g1 = Z[a, i, 0], Z[a, i, 1]
        c = Z[a, i, 2] - t[r]
        Rg0, Rg1 = RZ[a, i, 0], RZ[a, i, 1]
        Rc = RZ[a, i, 2] + Rt[r] + U * np.abs(c)
        valid = P.valid(idx)
        Vi = P.V[idx]
        val, E = plane_values(
            g0[:, None], g1[:, None], c[:, None], Rg0[:, None], Rg1[:, None], Rc[:, None], Vi[:, :, F.X], Vi[:, :, F.Y], Vi[:, :, F.R]
        )
        if (valid & undecided(val, E)).any():
            raise Undecided("a sign at a vertex")
        pos = (valid & (val > 0)).any(axis=1)
        neg = (valid & (val < 0)).any(axis=1)
        counts.decided += int(valid.sum())
        P.ptr[idx] += 1
        both = pos & neg
        P.side[idx[~both], r[~both]] = np.where(pos[~both], 1, -1)
        if both.any():
            sel = np.flatnonzero(both)
            cut, rc = idx[sel], r[sel]
            s = np.where(val[sel] > 0, 1, -1) * valid[sel]
            P.side[cut, rc] = -1
            first_new = len(P)
            _cut(P, cut, s, np.stack([g0[sel], g1[sel], c[sel], Rg0[sel], Rg1[sel], Rc[sel]], axis=1), codes + rc)
            P.side[first_new + np.arange(len(sel)), rc] = 1


def _leaves(P: _Polygons, history: list[tuple[np.ndarray, np.ndarray]], labels: list[Label]) -> list[tuple[Pattern, tuple[Label, ...]]]:
    """Each leaf's pattern (each layer's states gathered back through the ancestors) and
    the labels of its edges' lines."""
    leaves = len(P)
    idx = np.arange(leaves)
    per_layer = []
    for anc, states in reversed(history):
        per_layer.append(list(map(tuple, states[idx].tolist())))
        idx = anc[idx]
    patterns = list(zip(*reversed(per_layer))) if per_layer else [()] * leaves
    table = [("domain", k) for k in (3, 2, 1, 0)] + labels  # code -1 - k is domain row k
    get = table.__getitem__
    codes = (P.V[:, :, F.LL].astype(np.intp) + 4).tolist()
    edges = [tuple(map(get, cs[:count])) for cs, count in zip(codes, P.count.tolist())]
    return list(zip(patterns, edges))
