"""Exact enumeration of activation regions by traversing the facet graph.

`enumerate_regions(net, domain)` starts from the region of a point and crosses every
facet of every region found (SPEC §3, DESIGN "Region enumeration: what bites"):

* A region is identified by its activation pattern (one state per hidden neuron, as
  `PiecewiseLinear.state`: ``2i`` inside piece i; ``2j+1`` exactly at knot j, which only
  happens for a neuron whose pre-activation is constant on the region). Given the
  pattern, every pre-activation is affine, ``z = G x + h``, and the region is
  ``{x : knot_{j-1} < z_i < knot_j for every non-constant neuron} ∩ domain``.
* Facets are decided exactly: rays shot from the region's interior point find facets
  with a rational witness and no LP (the first hyperplane a ray meets, alone, is a
  facet). Floats propose the rays' directions (nonnegative least squares: a direction
  along which a row grows and no known facet does); a row whose normal lies in the
  cone of the known facets is proved redundant by the least-squares multipliers of
  that cone, solved exactly on their support, or else by the optimal basis of a float
  LP (HiGHS, from 6 inputs on), solved exactly, whose optimum also aims a ray at a
  facet not yet found; an optimal vertex proves, by one exact solve, every other row
  in its normal cone redundant. Only when these proposals fail does a small exact LP
  over the known facets decide (Clarkson; `exactrelu.polyhedra`). No float decides
  anything. A facet shared with a region processed earlier is known, with its point
  (checked exactly) and neighbour. A recession ray of an earlier region, checked by
  one product, often proves a region unbounded.
* Witnesses are rounded to small dyadic rationals when (checked exactly) still
  interior, so that numbers do not grow along the traversal.
* Crossing a facet needs no LP: when one neuron's row alone defines it, that neuron
  moves to its next piece and nothing else changes (`_flip_across`, unless a constant
  neuron of a later layer sits at a knot); otherwise, from a rational point p in the
  facet's relative interior and its outward normal u, one forward pass on (value,
  directional derivative) gives the pattern across, for all neurons that switch at p
  at once. A certified interior point of the neighbour is ``p + ε u`` (its forward
  pass checks the pattern).

A facet of a region is shared with exactly one region on its other side: a neuron at
its knot somewhere in the facet's relative interior is, by continuity, either at its
knot on the whole facet hyperplane or constant there, so the pattern across does not
depend on where in the facet one crosses. Hence the facet graph is connected and the
traversal is complete.

>>> from exactrelu.network import Network, affine, activation
>>> net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])
>>> g = enumerate_regions(net)          # |x| = relu(x) + relu(-x): two regions, one kink
>>> g.activation_regions, g.linear_pieces, g.bounded_regions
(2, 2, 0)
>>> [r.jacobian for r in g.regions]
[((Fraction(1, 1),),), ((Fraction(-1, 1),),)]
"""

from __future__ import annotations

import bisect
import itertools
import random
import time
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any, Callable, Iterator, Sequence

import networkx as nx
import numpy as np
from flint import fmpq, fmpq_mat
from networkx.utils import UnionFind

from .domain import Domain
from .errors import InputError, LimitReached
from .network import Network
from .numbers import to_fraction
from .polyhedra import LPStats, boundedness, dot, facet_point, feasible_point, interior_point, lp_max_vertex

Pattern = tuple[tuple[int, ...], ...]
Vector = tuple[Fraction, ...]
Matrix = tuple[tuple[Fraction, ...], ...]


@dataclass(frozen=True)
class Facet:
    """A facet of a region: the rows of its H-representation that define it (one
    half-space, possibly several coincident rows), a rational point in its relative
    interior, and the region across (None when it lies on the domain's boundary)."""

    rows: tuple[int, ...]
    point: Vector
    neighbor: int | None


@dataclass(frozen=True)
class NonFacet:
    """Rows (one half-space) that define no facet, with the proof: multipliers ``mu``
    on other rows of the region, as sparse ``(row, value)`` pairs, and ``lam`` for the
    first of these rows, such that ``sum mu_j a_j + lam a_i = 0``,
    ``sum mu_j b_j + lam b_i <= 0``, ``mu >= 0``, ``mu != 0``."""

    rows: tuple[int, ...]
    multipliers: tuple[tuple[int, Fraction], ...]
    row_multiplier: Fraction


@dataclass(frozen=True)
class Region:
    """One activation region, exactly.

    ``pattern``: a state per neuron per hidden layer. ``A``, ``b``: the H-representation
    ``{x : A x <= b}`` (its closure); ``labels[k]`` says where row k comes from:
    ``(layer, neuron, knot, +1)`` for ``z <= knot``, ``(layer, neuron, knot, -1)`` for
    ``z >= knot``, or ``("domain", row)``. ``jacobian``, ``offset``: f(x) = J x + c on
    the region. ``witness``: a rational interior point. ``facets`` and ``nonfacets``
    account for every row.
    """

    pattern: Pattern
    A: Matrix
    b: Vector
    labels: tuple[tuple[Any, ...], ...]
    jacobian: Matrix
    offset: Vector
    witness: Vector
    bounded: bool
    facets: tuple[Facet, ...] = ()
    nonfacets: tuple[NonFacet, ...] = ()

    def affine_map(self) -> tuple[Matrix, Vector]:
        return self.jacobian, self.offset


@dataclass(frozen=True)
class Kink:
    """A facet across which the affine map changes: part of the non-differentiability set."""

    regions: tuple[int, int]
    point: Vector
    neurons: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class RegionGraph:
    """The regions of a network on a domain and the facets they share.

    ``graph``: networkx graph on region indices; each edge has ``point`` (a facet
    witness) and ``neurons`` (the (layer, neuron) pairs whose state differs).
    ``complete`` is False when a limit stopped the traversal.
    """

    network: Network
    domain: Domain
    regions: tuple[Region, ...]
    graph: nx.Graph = field(compare=False)
    complete: bool = True
    stats: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def activation_regions(self) -> int:
        return len(self.regions)

    def facet_joined(self) -> UnionFind:
        """Regions joined by a chain of facets with the same affine map on both sides (a
        fresh `networkx.utils.UnionFind` over region indices, for the caller to extend)."""
        uf = UnionFind(range(len(self.regions)))
        for i, j in self.graph.edges:
            if self.regions[i].affine_map() == self.regions[j].affine_map():
                uf.union(i, j)
        return uf

    def same_map_pairs(self) -> Iterator[tuple[int, int]]:
        """Every pair ``i < j`` of regions with one affine map."""
        by_map: dict[Any, list[int]] = {}
        for i, r in enumerate(self.regions):
            by_map.setdefault(r.affine_map(), []).append(i)
        for members in by_map.values():
            yield from itertools.combinations(members, 2)

    @cached_property
    def piece_labels(self) -> tuple[int, ...]:
        """For each region, the index of its linear piece (SPEC §3: a maximal connected
        union of closures of regions with one affine map; closures touching anywhere,
        not only along a facet, connect)."""
        uf = self.facet_joined()
        for i, j in self.same_map_pairs():
            if uf[i] != uf[j] and _closures_meet(self.regions[i], self.regions[j]):
                uf.union(i, j)
        roots: dict[int, int] = {}
        return tuple(roots.setdefault(uf[i], len(roots)) for i in range(len(self.regions)))

    @property
    def linear_pieces(self) -> int:
        return len(set(self.piece_labels))

    @property
    def bounded_regions(self) -> int:
        """The number of bounded regions (meaningful on R^n)."""
        return sum(1 for r in self.regions if r.bounded)

    @cached_property
    def kinks(self) -> tuple[Kink, ...]:
        """The facets whose two sides have different affine maps, with witnesses: the
        non-differentiability set is the closure of their union."""
        out = []
        for i, j, data in self.graph.edges(data=True):
            if self.regions[i].affine_map() != self.regions[j].affine_map():
                out.append(Kink((min(i, j), max(i, j)), data["point"], data["neurons"]))
        return tuple(out)

    def volume(self, i: int) -> Fraction | None:
        """The exact volume of region i (None when it is unbounded)."""
        r = self.regions[i]
        if not r.bounded:
            return None
        from .volume import polytope_volume

        rows = [f.rows[0] for f in r.facets]
        return polytope_volume([r.A[k] for k in rows], [r.b[k] for k in rows])

    @cached_property
    def volumes(self) -> tuple[Fraction | None, ...]:
        return tuple(self.volume(i) for i in range(len(self.regions)))

    def region_of(self, x: Sequence[Any]) -> int | None:
        """The index of the region whose closure contains x (the first found)."""
        xs = [Fraction(v) for v in x]
        for i, r in enumerate(self.regions):
            if all(sum((a * v for a, v in zip(row, xs)), Fraction(0)) <= bi for row, bi in zip(r.A, r.b)):
                return i
        return None


def _closures_meet(r1: Region, r2: Region) -> bool:
    A = list(r1.A) + list(r2.A)
    b = list(r1.b) + list(r2.b)
    if not A:
        return True
    return feasible_point(A, b).feasible


# -- the forward pass that gives a region ---------------------------------------------------


@dataclass(frozen=True)
class _Act:
    """A PL activation with its knots and per-piece affine maps as ``fmpq``."""

    knots: tuple[fmpq, ...]
    slopes: tuple[fmpq, ...]
    inter: tuple[fmpq, ...]

    @classmethod
    def of(cls, fn: Any) -> "_Act":
        pairs = [fn.piece_affine(k) for k in range(fn.num_pieces)]
        return cls(tuple(_q(t) for t in fn.knots), tuple(_q(s) for s, _ in pairs), tuple(_q(t) for _, t in pairs))

    def state(self, z: fmpq) -> int:
        j = bisect.bisect_left(self.knots, z)
        return 2 * j + 1 if j < len(self.knots) and self.knots[j] == z else 2 * j

    def value(self, z: fmpq, st: int) -> fmpq:
        piece = st // 2
        return self.slopes[piece] * z + self.inter[piece]


def _tables(net: Network) -> tuple[tuple[_Act, ...], ...]:
    return tuple(tuple(_Act.of(fn) for fn in fns) for fns in net.chain.acts)


@dataclass
class _Built:
    pattern: Pattern
    A: list[list[fmpq]]
    b: list[fmpq]
    labels: list[tuple[Any, ...]]
    J: fmpq_mat
    c: fmpq_mat
    witness: list[fmpq]
    M: fmpq_mat  # A as a matrix


def _build(
    net: Network,
    acts: tuple[tuple[_Act, ...], ...],
    dom_A: list[list[fmpq]],
    dom_b: list[fmpq],
    dom_idx: list[int],
    p: list[fmpq],
    u: list[fmpq],
) -> _Built | None:
    """The region entered from p in direction u (None when u is tangent to a neuron's
    knot set at p, so that the direction does not decide)."""
    chain = net.chain
    n = net.input_dim
    x = fmpq_mat(n, 1, p)
    um = fmpq_mat(n, 1, u)
    J = fmpq_mat(n, n, [fmpq(1) if i == j else fmpq(0) for i in range(n) for j in range(n)])
    c = fmpq_mat(n, 1, [fmpq(0)] * n)
    v = x
    pattern = []
    A: list[list[fmpq]] = []
    b: list[fmpq] = []
    labels: list[tuple[Any, ...]] = []
    for l, fns in enumerate(chain.acts):
        W, bias = chain.affines[l].W, chain.affines[l].b
        G = W * J
        h = W * c + bias
        z = W * v + bias
        dz = G * um
        Gt = G.table()
        zs, hs = z.entries(), h.entries()
        zero_row = [_ZERO] * n
        w = len(fns)
        states = []
        slopes = []
        inter = []
        vals = []
        for i in range(w):
            fn = acts[l][i]
            zi = zs[i]
            grow = Gt[i]
            constant = grow == zero_row
            st = fn.state(zi)
            if st % 2 == 1 and not constant:
                d = dz[i, 0]
                if d == 0:
                    return None
                st = st + 1 if d > 0 else st - 1
            states.append(st)
            if st % 2 == 1:  # constant at a knot: output is the constant fn(knot)
                slopes.append(fmpq(0))
                inter.append(fn.value(zi, st))
                vals.append(inter[-1])
                continue
            piece = st // 2
            slopes.append(fn.slopes[piece])
            inter.append(fn.inter[piece])
            vals.append(slopes[-1] * zi + inter[-1])
            if constant:
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
        pattern.append(tuple(states))
        diag = [_ZERO] * (w * w)
        for k in range(w):
            diag[k * w + k] = slopes[k]
        D = fmpq_mat(w, w, diag)
        J = D * G
        c = D * h + fmpq_mat(w, 1, inter)
        v = fmpq_mat(w, 1, vals)
    W, bias = chain.affines[-1].W, chain.affines[-1].b
    J = W * J
    c = W * c + bias
    for k, row, bk in zip(dom_idx, dom_A, dom_b):
        A.append(row)
        b.append(bk)
        labels.append(("domain", k))
    # certified interior point p + eps u
    Am = fmpq_mat(len(A), n, [v for row in A for v in row])
    eps = None
    for bk, ap, rate in zip(b, (Am * x).entries(), (Am * um).entries()):
        slack = bk - ap
        if slack < 0 or (slack == 0 and rate >= 0):
            raise AssertionError("crossing point is not on the region's closure")
        if rate > 0:
            t = slack / rate
            if eps is None or t < eps:
                eps = t
    eps = fmpq(1) if eps is None else eps / 2
    witness = _simple_interior(Am, b, [pi + eps * ui for pi, ui in zip(p, u)])
    return _Built(tuple(pattern), A, b, labels, J, c, witness, Am)


def _simple_interior(A: fmpq_mat, b: list[fmpq], x: list[fmpq]) -> list[fmpq]:
    """A point with small denominators (x rounded to a multiple of 2^-k, k = 4, 8, ...,
    64) that is, checked exactly, strictly inside ``{A x <= b}``; x itself when none is.
    Witnesses would otherwise grow by the size of a crossing at every step of the
    traversal, and every later operation pays for their size."""
    for k in (4, 8, 16, 32, 64):
        s = 1 << k
        y = [fmpq(int((v * s + _HALF).floor()), s) for v in x]
        if all(v < bk for v, bk in zip((A * fmpq_mat(len(y), 1, y)).entries(), b)):
            return y
    return x


_HALF = fmpq(1, 2)
_ZERO = fmpq(0)


def _pattern_across(net: Network, acts: tuple[tuple[_Act, ...], ...], p: list[fmpq], u: list[fmpq]) -> Pattern | None:
    """The pattern just across p in direction u, from values and directional
    derivatives only (no Jacobian unless a neuron sits at a knot with zero derivative,
    where constancy decides). None when u does not decide a neuron."""
    chain = net.chain
    n = net.input_dim
    v = fmpq_mat(n, 1, p)
    dv = fmpq_mat(n, 1, u)
    slopes_so_far: list[list[fmpq]] = []
    pattern = []
    for l in range(len(acts)):
        W, bias = chain.affines[l].W, chain.affines[l].b
        z = W * v + bias
        dz = W * dv
        w = len(acts[l])
        states, vals, dvals, slopes = [], [], [], []
        for i, fn in enumerate(acts[l]):
            zi = z[i, 0]
            st = fn.state(zi)
            d = dz[i, 0]
            value = fn.value(zi, st)
            if st % 2 == 1:
                if d != 0:
                    st = st + 1 if d > 0 else st - 1
                elif not _constant(net, slopes_so_far, l, i):
                    return None
            states.append(st)
            s = fmpq(0) if st % 2 == 1 else fn.slopes[st // 2]
            vals.append(value)
            dvals.append(s * d)
            slopes.append(s)
        pattern.append(tuple(states))
        slopes_so_far.append(slopes)
        v = fmpq_mat(w, 1, vals)
        dv = fmpq_mat(w, 1, dvals)
    return tuple(pattern)


def _flip_across(R: _Built, rows: list[int], last_knot: int) -> Pattern | None:
    """The pattern across a facet of R defined by one neuron's row alone, when no neuron
    of a later layer sits at a knot on R (``last_knot``: the last layer with one); None
    otherwise (then `_pattern_across` decides).

    At a point p of the facet's relative interior every other row is strict, so every
    other non-constant neuron is strictly inside its piece at p and, by continuity,
    keeps its state across; a constant neuron of a layer up to this neuron's keeps its
    zero gradient (the earlier states do not change); and this neuron's gradient is
    unchanged, so it moves to the next piece beyond its row's knot. Only a constant
    neuron of a later layer at a knot could change in another way."""
    if len(rows) != 1:
        return None
    label = R.labels[rows[0]]
    if label[0] == "domain" or last_knot > label[0]:
        return None
    l, i, knot, sign = label
    states = list(R.pattern[l])
    states[i] = 2 * knot + 2 if sign == 1 else 2 * knot
    return R.pattern[:l] + (tuple(states),) + R.pattern[l + 1 :]


def _q(x: Fraction) -> fmpq:
    return fmpq(x.numerator, x.denominator)


def _constant(net: Network, slopes: list[list[fmpq]], l: int, i: int) -> bool:
    """Whether neuron i of hidden layer l has zero gradient given the earlier slopes."""
    chain = net.chain
    n = net.input_dim
    J = fmpq_mat(n, n, [fmpq(1) if a == b else fmpq(0) for a in range(n) for b in range(n)])
    for k in range(l):
        G = chain.affines[k].W * J
        w = G.nrows()
        J = fmpq_mat(w, n, [slopes[k][r] * G[r, c] for r in range(w) for c in range(n)])
    G = chain.affines[l].W * J
    return all(G[i, c] == 0 for c in range(n))


def _on_facet_only(A: fmpq_mat, b: list[fmpq], points: list[tuple[int, Sequence[fmpq]]]) -> list[bool]:
    """For each ``(g, x)``: whether ``a_g x = b_g`` and ``a_j x < b_j`` for every other
    row j (exact; one matrix product for all the points)."""
    if not points:
        return []
    n = A.ncols()
    k = len(points)
    X = fmpq_mat(n, k, [x[r] for r in range(n) for _, x in points])
    AX = (A * X).table()
    return [
        all((row[c] == bj) if j == g else (row[c] < bj) for j, (row, bj) in enumerate(zip(AX, b)))
        for c, (g, _) in enumerate(points)
    ]


def _key(a: Sequence[fmpq], beta: fmpq) -> tuple[fmpq, ...]:
    for v in a:
        if v != 0:
            s = abs(v)
            return tuple(e / s for e in a) + (beta / s,)
    raise AssertionError("zero row")


def _frac_vec(v: Sequence[fmpq]) -> Vector:
    return tuple([Fraction(int(e.p), int(e.q)) for e in v])


def _frac_mat(m: fmpq_mat) -> Matrix:
    return tuple(tuple(to_fraction(e) for e in row) for row in m.table())


# -- traversal -------------------------------------------------------------------------------


def _domain_rows(domain: Domain) -> tuple[list[list[fmpq]], list[fmpq], list[int]]:
    """The domain's nonzero rows, and their indices in ``domain.A``."""
    A, b, idx = [], [], []
    for k, (row, bk) in enumerate(zip(domain.A, domain.b)):
        if all(v == 0 for v in row):
            if bk < 0:
                raise InputError("the domain is empty (a row 0 <= b with b < 0)", path=f"domain.b[{k}]")
            continue
        A.append([fmpq(v.numerator, v.denominator) for v in row])
        b.append(fmpq(bk.numerator, bk.denominator))
        idx.append(k)
    return A, b, idx


def _directions(n: int, seed: int = 0) -> Any:
    """Directions to leave the start point along (one fixed, then seeded random
    rationals: deterministic); the first that decides every neuron at a knot is used."""
    rng = random.Random(seed)
    yield [fmpq(1, k + 2) + fmpq(1, 7 * (k + 1) ** 2 + 3) for k in range(n)]
    while True:
        yield [fmpq(rng.randint(-97, 97), rng.randint(1, 89)) for _ in range(n)]


def enumerate_regions(
    net: Network,
    domain: Domain | None = None,
    *,
    start: Sequence[Any] | None = None,
    max_regions: int | None = None,
    time_limit: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RegionGraph:
    """Every activation region of ``net`` on ``domain`` (default R^n), exactly.

    ``start``: a point of the domain to start from (default: an interior point of the
    domain). ``max_regions`` / ``time_limit`` (seconds) raise `LimitReached` with the
    partial `RegionGraph` (``complete=False``) as ``partial``. ``progress(found,
    queued)`` is called after each region.

    >>> from exactrelu.network import Network, affine, activation
    >>> net = Network.from_layers(2, [affine([[1, 0], [0, 1], [1, 1]], [0, 0, -1]),
    ...                               activation("relu"), affine([[1, 1, 1]])])
    >>> enumerate_regions(net).activation_regions     # 3 lines in general position: 7
    7
    """
    n = net.input_dim
    domain = domain if domain is not None else Domain.whole(n)
    if domain.dim != n:
        raise InputError(f"expected a domain of dimension {n}, got {domain.dim}", path="domain")
    t0 = time.perf_counter()
    stats = LPStats(deadline=None if time_limit is None else t0 + time_limit)
    dom_A, dom_b, dom_idx = _domain_rows(domain)
    acts = _tables(net)
    if start is None:
        if dom_A:
            res = interior_point(dom_A, dom_b, dim=n, stats=stats)
            if not res.nonempty:
                raise InputError("the domain has an empty interior", path="domain")
            p0 = [fmpq(v.numerator, v.denominator) for v in res.point]
        else:
            p0 = [fmpq(0)] * n
    else:
        if len(start) != n:
            raise InputError(f"expected a start point of dimension {n}", path="start")
        p0 = [fmpq(Fraction(v).numerator, Fraction(v).denominator) for v in start]
        if not all(dot(a, p0) < bk for a, bk in zip(dom_A, dom_b)):
            raise InputError("the start point is not in the interior of the domain", path="start")
    built = None
    for tries, u in enumerate(_directions(n)):
        built = _build(net, acts, dom_A, dom_b, dom_idx, p0, u)
        if built is not None:
            break
        if tries > 50:
            raise AssertionError("no generic direction found")
    assert built is not None
    index: dict[Pattern, int] = {}
    regions: list[Region] = []
    edges: dict[tuple[int, int], tuple[Vector, tuple[tuple[int, int], ...]]] = {}
    counts = {"facets_without_lp": 0, "nonfacets_without_lp": 0, "shared_facets": 0, "float_lp_proposals": 0}
    converted: dict[tuple[Any, ...], Vector] = {}
    try:
        domain_bounded = bool(dom_A) and boundedness(dom_A, dom_b, dim=n, stats=stats).bounded

        index[built.pattern] = 0
        pending: list[_Built] = [built]
        # for each region not yet processed, the facets already found from processed
        # neighbours: (key of its row as seen from the region) -> (point, neighbour,
        # the point as Fractions)
        entry: dict[int, dict[tuple[Any, ...], tuple[list[fmpq], int, Vector]]] = {}
        queue = deque([0])
        # recession rays of regions found unbounded, most recently useful first: a
        # neighbour shares most facets, so one often proves it unbounded by one product
        rays: list[fmpq_mat] = []
        lp = _FloatLP()
        while queue:
            i = queue.popleft()
            if max_regions is not None and len(regions) >= max_regions:
                raise _limit(net, domain, regions, edges, stats, t0, counts, f"stopped after {len(regions)} regions (--max-regions)")
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                raise _limit(net, domain, regions, edges, stats, t0, counts, f"stopped after {time_limit} s (--time-limit)")
            R = pending[i]
            groups, keys, hkeys = _groups(R.A, R.b)
            facets: list[Facet] = []
            nonfacets: list[NonFacet] = []
            rep_A = [R.A[g[0]] for g in groups]
            rep_b = [R.b[g[0]] for g in groups]
            rep_M = R.M if len(groups) == len(R.A) else fmpq_mat(len(rep_A), n, [v for row in rep_A for v in row])
            ent = entry.pop(i, {})
            known: dict[int, list[fmpq]] = {}
            known_neighbors: dict[int, int] = {}
            known_fpoints: dict[int, Vector] = {}
            if ent:
                # shared facets: each point (checked exactly) is on its row and strictly
                # inside every other row
                cands = [(gi, shared) for gi, shared in ((gi, ent.get(k)) for gi, k in enumerate(hkeys)) if shared is not None]
                for (gi, shared), ok in zip(cands, _on_facet_only(rep_M, rep_b, [(gi, shared[0]) for gi, shared in cands])):
                    if ok:
                        known[gi] = shared[0]
                        known_neighbors[gi] = shared[1]
                        known_fpoints[gi] = shared[2]
            counts["shared_facets"] += len(known)
            last_knot = max((l for l, states in enumerate(R.pattern) if any(st % 2 for st in states)), default=-1)
            verdicts = _classify(rep_A, rep_M, rep_b, keys, hkeys, R.witness, known, lp, stats, counts)
            facet_groups = [gi for gi in range(len(groups)) if verdicts[gi][0] == "facet"]
            for gi, g in enumerate(groups):
                rows_g = tuple(g)
                known_neighbor = known_neighbors.get(gi)
                kind, data = verdicts[gi]
                if kind == "nonfacet":
                    mu, lam = data
                    nonfacets.append(NonFacet(rows_g, _expand(mu, groups), lam))
                    continue
                point = data
                on_boundary = any(R.labels[k][0] == "domain" for k in g)
                if on_boundary:
                    facets.append(Facet(rows_g, _frac_vec(point), None))
                    continue
                if known_neighbor is not None:
                    j = known_neighbor
                    fpoint = known_fpoints[gi]
                else:
                    fpoint = _frac_vec(point)
                    across = _flip_across(R, g, last_knot) or _pattern_across(net, acts, point, list(rep_A[gi]))
                    if across is None:
                        raise AssertionError("crossing a facet along its normal did not decide a neuron")
                    j = index.get(across)
                    if j is None:
                        nb = _build(net, acts, dom_A, dom_b, dom_idx, point, list(rep_A[gi]))
                        if nb is None or nb.pattern != across:
                            raise AssertionError("the two forward passes disagree across a facet")
                        j = len(pending)
                        index[nb.pattern] = j
                        pending.append(nb)
                        queue.append(j)
                    if j > i:
                        entry.setdefault(j, {})[_hashable(keys[gi], -1)] = (point, i, fpoint)
                facets.append(Facet(rows_g, fpoint, j))
                e = (min(i, j), max(i, j))
                if e not in edges:
                    flips = tuple(
                        (l, k)
                        for l, (s1, s2) in enumerate(zip(R.pattern, pending[j].pattern))
                        if s1 != s2
                        for k, (a, b) in enumerate(zip(s1, s2))
                        if a != b
                    )
                    edges[e] = (fpoint, flips)
            if domain_bounded:
                bounded = True
            elif not facets or _known_ray(rays, rep_M, facet_groups):
                bounded = False
            else:
                res = boundedness([R.A[f.rows[0]] for f in facets], [R.b[f.rows[0]] for f in facets], dim=n, stats=stats)
                bounded = res.bounded
                if not bounded:
                    rays.insert(0, fmpq_mat(n, 1, [fmpq(v.numerator, v.denominator) for v in res.ray]))
                    del rays[_RAYS_KEPT:]
            regions.append(_region(R, bounded, facets, nonfacets, converted))
            if progress is not None:
                progress(len(regions), len(queue))
    except LimitReached as e:
        if e.partial is not None:
            raise
        raise _limit(net, domain, regions, edges, stats, t0, counts, f"stopped after {time_limit} s (--time-limit)") from None
    stats_doc = _stats(stats, t0, len(regions), counts)
    return RegionGraph(net, domain, tuple(regions), _graph(len(regions), edges), True, stats_doc)


_RAYS_KEPT = 4


def _known_ray(rays: list[fmpq_mat], M: fmpq_mat, rows: list[int]) -> bool:
    """Whether one of ``rays`` (nonzero columns) is a recession direction of
    ``{x : M_j x <= b_j, j in rows}``: ``M_j d <= 0`` for every j in rows, exactly. The
    one that is moves to the front."""
    for k, d in enumerate(rays):
        vals = (M * d).entries()
        if all(vals[j] <= 0 for j in rows):
            rays.insert(0, rays.pop(k))
            return True
    return False


def _stats(stats: LPStats, t0: float, count: int, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "lps": stats.lps,
        "float_lps": stats.float_lps,
        "exact_lps": stats.exact_lps,
        "pivots": stats.pivots,
        **counts,
        "seconds": time.perf_counter() - t0,
        "regions": count,
    }


def _limit(
    net: Network, domain: Domain, regions: list[Region], edges: dict, stats: LPStats, t0: float, counts: dict[str, int], msg: str
) -> LimitReached:
    m = len(regions)
    kept = {e: v for e, v in edges.items() if e[0] < m and e[1] < m}
    partial = RegionGraph(net, domain, tuple(regions), _graph(m, kept), False, _stats(stats, t0, m, counts))
    return LimitReached(msg, partial=partial)


def _graph(m: int, edges: dict[tuple[int, int], tuple[Vector, tuple[tuple[int, int], ...]]]) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(m))
    for (i, j), (point, flips) in edges.items():
        g.add_edge(i, j, point=point, neurons=flips)
    return g


def _region(R: _Built, bounded: bool, facets: list[Facet], nonfacets: list[NonFacet], converted: dict[tuple[Any, ...], Vector]) -> Region:
    """The `Region` of R, in Fractions. ``converted``: rows of A already converted
    (keyed by `_hashable`; rows recur across regions, and the tuples are immutable)."""
    A = []
    for row in R.A:
        key = _hashable(row)
        frow = converted.get(key)
        if frow is None:
            frow = converted[key] = _frac_vec(row)
        A.append(frow)
    return Region(
        pattern=R.pattern,
        A=tuple(A),
        b=_frac_vec(R.b),
        labels=tuple(R.labels),
        jacobian=_frac_mat(R.J),
        offset=tuple(to_fraction(R.c[k, 0]) for k in range(R.c.nrows())),
        witness=_frac_vec(R.witness),
        bounded=bounded,
        facets=tuple(facets),
        nonfacets=tuple(nonfacets),
    )


def _groups(A: list[list[fmpq]], b: list[fmpq]) -> tuple[list[list[int]], list[tuple[fmpq, ...]], list[tuple[Any, ...]]]:
    """Rows grouped by the half-space they define, each group's `_key` and the key's
    `_hashable` form."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    keys = []
    for k, (row, bk) in enumerate(zip(A, b)):
        key = _key(row, bk)
        members = groups.setdefault(_hashable(key), [])
        if not members:
            keys.append(key)
        members.append(k)
    return list(groups.values()), keys, list(groups)


def _hashable(key: Sequence[fmpq], sign: int = 1) -> tuple[Any, ...]:
    """A dict key for ``sign * key`` (hashing `fmpq` is slow; its fmpz parts are not)."""
    if sign == 1:
        return tuple([v.p for v in key]) + tuple([v.q for v in key])
    return tuple([-v.p for v in key]) + tuple([v.q for v in key])


def _expand(mu: dict[int, fmpq], groups: list[list[int]]) -> tuple[tuple[int, Fraction], ...]:
    """Multipliers by group -> sparse (row, value) pairs on each group's first row."""
    return tuple((groups[g][0], Fraction(int(v.p), int(v.q))) for g, v in sorted(mu.items()) if v != 0)


def _classify(
    A: list[list[fmpq]],
    Amat: fmpq_mat,
    b: list[fmpq],
    keys: list[tuple[fmpq, ...]],
    hkeys: list[tuple[Any, ...]],
    p: list[fmpq],
    known: dict[int, list[fmpq]],
    lp: _FloatLP,
    stats: LPStats,
    counts: dict[str, int],
) -> list[tuple[str, Any]]:
    """Decide for every row (one per half-space) whether it is a facet of ``{A x <= b}``,
    whose interior holds p (``Amat``: A as a matrix): ``("facet", point in its relative interior)`` or
    ``("nonfacet", (mu over rows, lam))``. ``keys``, ``hkeys``: the rows' `_key` and
    its `_hashable` form. ``known``: facets already decided (shared with a region
    processed before). ``lp``: the enumeration's `_FloatLP`.

    Facets are found by shooting rays from p (the first row hit, when it is hit alone,
    is a facet, with the hit point as witness): first along the normals; then, for each
    undecided row g, along a float-proposed direction in which ``a_g x`` grows and no
    known facet does (`_cone_residual`). When there is none, ``a_g`` lies in the cone
    of the known facets: the float multipliers of that cone may prove g redundant once
    solved exactly on their support (`_cone_certificate`); else a float LP maximises
    ``a_g x`` over the other rows (`_lp_proposal`): its optimal basis, solved exactly,
    proves every row in its normal cone redundant (`_vertex_certificates`), and a ray
    towards its optimum may hit a new facet. Only when these proposals fail does an
    exact LP over the known facets decide (Clarkson: ``max a_g x`` at most ``b_g``
    proves g redundant, the duals being the multipliers, else a ray towards the optimum
    finds a new facet), and ties fall back to `facet_point`. Floats only choose
    directions, bases and order; every verdict is exact. Updates ``counts``.
    """
    from scipy.optimize import nnls

    m = len(A)
    n = len(p)
    slack = [bj - v for bj, v in zip(b, (Amat * fmpq_mat(n, 1, p)).entries())]
    verdict: list[tuple[str, Any] | None] = [None] * m
    Af = np.array([[float(v) for v in row] for row in A], dtype=float).reshape(m, n)
    bf = [float(v) for v in b]
    for g, point in known.items():
        verdict[g] = ("facet", point)
    cheap = 0
    hints: dict[int, list[int]] = {}
    pf: np.ndarray | None = None  # p in floats, once lp holds this region

    def shoot(d: Sequence[fmpq]) -> tuple[int, list[fmpq]] | None:
        best = None
        hit = -1
        tie = False
        for j, r in enumerate((Amat * fmpq_mat(n, 1, d)).entries()):
            if r > 0:
                t = slack[j] / r
                if best is None or t < best:
                    best, hit, tie = t, j, False
                elif t == best:
                    tie = True
        if best is None or tie:
            return None
        return hit, [pk + best * dk for pk, dk in zip(p, d)]

    # rays along the normals, nearest hyperplanes first (float distances only order the
    # work); stop once rays keep hitting facets already known
    order = np.argsort(np.array([float(v) for v in slack]) / np.sqrt((Af * Af).sum(axis=1)), kind="stable").tolist()
    misses = 0
    for g in order:
        if verdict[g] is not None:
            continue
        _check_deadline(stats)
        found = shoot(A[g])
        if found is not None and verdict[found[0]] is None:
            verdict[found[0]] = ("facet", found[1])
            cheap += 1
            misses = 0
        else:
            misses += 1
            if misses >= 3:
                break
    # rows by normalised normal (their hashable keys less the offset's numerator and
    # denominator): a row may be implied by a parallel, tighter one
    parallel: dict[tuple[Any, ...], list[int]] = {}
    for j, hk in enumerate(hkeys):
        parallel.setdefault(hk[:n] + hk[n + 1 : 2 * n + 1], []).append(j)
    for members in parallel.values():
        for g in members if len(members) > 1 else ():
            if verdict[g] is None:
                dominated = _parallel_certificate(g, keys, A, members)
                if dominated is not None:
                    verdict[g] = ("nonfacet", dominated)
    for g in range(m):
        while verdict[g] is None:
            _check_deadline(stats)
            F = [j for j in range(m) if verdict[j] is not None and verdict[j][0] == "facet"]
            if F:
                # floats propose a direction along which a_g grows and no known facet
                # does; the exact ray decides (a first hit, alone, on an undecided row
                # is a new facet); only a failed proposal costs an exact LP
                d, y = _cone_residual(Af, F, g, nnls)
                stats.float_lps += 1
                if d is None:
                    mu = _cone_certificate(A, b, bf, F, g, y)
                    if mu is not None:
                        verdict[g] = ("nonfacet", (mu, Fraction(-1)))
                        counts["nonfacets_without_lp"] += 1
                        if len(mu) == n:  # n independent facets: their vertex may prove more rows
                            counts["nonfacets_without_lp"] += _vertex_certificates(list(mu), A, b, Af, bf, verdict, g, hints)
                        break
                if d is None and g in hints:
                    B = hints.pop(g)
                    vertex = fmpq_mat(n, n, [v for j in B for v in A[j]]).solve(fmpq_mat(n, 1, [b[j] for j in B]))
                    d = [vertex[k, 0] - p[k] for k in range(n)]
                found = shoot(d) if d is not None else None
                if found is not None and verdict[found[0]] is None:
                    verdict[found[0]] = ("facet", found[1])
                    cheap += 1
                    continue
                # a float LP proposes the maximum of a_g x over the other rows: its
                # optimal basis, solved exactly, may prove rows redundant; a ray
                # towards its optimum may hit a new facet
                if pf is None and n >= _FLOAT_LP_FROM_DIM and lp.load(Af, bf):
                    pf = np.array([float(v) for v in p])
                if pf is not None and _lp_proposal(lp, g, A, b, verdict, hints, pf, shoot, stats, counts):
                    continue
            res, basis, optimum = lp_max_vertex(A[g], [A[j] for j in F], [b[j] for j in F], point=p, stats=stats) if F else (None, None, None)
            if basis is not None:
                # the optimal vertex of the facets' polyhedron certifies, with one exact
                # solve, every other row whose normal lies in its normal cone
                counts["nonfacets_without_lp"] += _vertex_certificates([F[k] for k in basis], A, b, Af, bf, verdict, g, hints)
            if optimum is not None and optimum[0] <= b[g]:
                mu = {j: v for j, v in zip(F, optimum[2]) if v != 0}
                verdict[g] = ("nonfacet", (mu, Fraction(-1)))
                break
            if optimum is not None:
                d = [v - pk for v, pk in zip(optimum[1], p)]
            elif res is None:
                d = list(A[g])
            else:
                d = [fmpq(v.numerator, v.denominator) for v in res.ray]
            found = shoot(d)
            if found is None or verdict[found[0]] is not None:
                fp = facet_point(A, b, g, stats=stats, propose=False)
                if fp.is_facet:
                    verdict[g] = ("facet", [fmpq(v.numerator, v.denominator) for v in fp.point])
                else:
                    mu = {j: fmpq(v.numerator, v.denominator) for j, v in enumerate(fp.multipliers) if v != 0}
                    verdict[g] = ("nonfacet", (mu, fp.row_multiplier))
                break
            verdict[found[0]] = ("facet", found[1])
            cheap += 1
    assert all(v is not None for v in verdict)
    counts["facets_without_lp"] += cheap
    return verdict  # type: ignore[return-value]


def _cone_residual(Af: np.ndarray, F: list[int], g: int, nnls: Callable[..., Any]) -> tuple[list[fmpq] | None, np.ndarray]:
    """Nonnegative least squares ``min |A_F^T y - a_g|``, ``y >= 0``, in floats, and what
    it proposes: a direction d with ``a_j d <= 0`` for the rows j in F and ``a_g d > 0``
    (the residual ``a_g - A_F^T y``, whose KKT conditions give exactly these signs,
    rounded to integers), or None when ``a_g`` looks to lie in the cone of the rows F
    (then y proposes the multipliers that may prove g redundant: `_cone_certificate`).
    ``nnls``: scipy's (imported once by the caller)."""
    y, res = nnls(Af[F].T, Af[g])
    norm = float(np.abs(Af[g]).max())
    if not np.isfinite(res) or res <= 1e-9 * norm:
        return None, y
    r = Af[g] - Af[F].T @ y
    scale = float(np.abs(r).max())
    return [fmpq(int(round(v / scale * (1 << 8)))) for v in r], y


def _cone_certificate(
    A: list[list[fmpq]], b: list[fmpq], bf: list[float], F: list[int], g: int, y: np.ndarray
) -> dict[int, fmpq] | None:
    """Exact multipliers ``mu >= 0`` on rows of F with ``A_F^T mu = a_g`` and
    ``b_F^T mu <= b_g`` (row g is then implied by them), from the float ones y of
    `_cone_residual`, or None. Exact: on the support S of y, ``mu_S`` solves the normal
    equations ``A_S A_S^T mu_S = A_S a_g``, and ``A_S^T mu_S = a_g``, ``mu_S >= 0`` and
    ``b_S^T mu_S <= b_g`` are checked."""
    S = [F[k] for k, v in enumerate(y) if v > 0]
    if not S or sum(bf[j] * v for j, v in zip(S, y[y > 0])) > bf[g] + 1e-9 * (abs(bf[g]) + 1):
        return None
    n = len(A[g])
    AS = fmpq_mat(len(S), n, [v for j in S for v in A[j]])
    ag = fmpq_mat(n, 1, A[g])
    try:
        mu = (AS * AS.transpose()).solve(AS * ag)
    except ZeroDivisionError:
        return None
    vals = mu.entries()
    if any(v < 0 for v in vals) or AS.transpose() * mu != ag or dot(vals, [b[j] for j in S]) > b[g]:
        return None
    return {j: v for j, v in zip(S, vals) if v != 0}


# The float LP pays a fixed ~0.1 ms (HiGHS's warm start, the exact checks after it);
# the exact simplex's cost grows with n. Measured on the benchmark nets (whole
# enumerations): the exact LP is ~10 % cheaper at n = 2 and 4, they tie at n = 6, the
# float LP is ~15 % cheaper at n = 8.
_FLOAT_LP_FROM_DIM = 6


class _FloatLP:
    """HiGHS on the rows of one region at a time (`load`), in floats, warm-started from
    one objective to the next: proposes the maximum of ``a_g x`` over the rows other
    than g (an optimal point and the n rows tight there). It only proposes; exact
    arithmetic checks. One per enumeration (HiGHS starts on the first `load`; should
    ``highspy``, a dependency, fail to import, there is none and exact LPs do its work)."""

    def __init__(self) -> None:
        self.highs: Any = None

    def load(self, Af: np.ndarray, bf: list[float]) -> bool:
        """Make ``{x : Af x <= bf}`` the polyhedron of the next `maximize` calls;
        False when highspy is not installed."""
        if self.highs is False:
            return False
        try:
            import highspy
        except ImportError:
            self.highs = False
            return False
        if self.highs is None:
            self.highs = highspy.Highs()
            self.highs.setOptionValue("output_flag", False)
            self.highs.setOptionValue("presolve", "off")
            self.inf = highspy.kHighsInf
            self.upper = highspy.HighsBasisStatus.kUpper
            self.optimal = highspy.HighsModelStatus.kOptimal
            self.unbounded = highspy.HighsModelStatus.kUnbounded
        m, n = Af.shape
        self.b = bf
        self.cols = np.arange(n, dtype=np.int32)
        self.Af = Af
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, m
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = np.full(n, -self.inf)
        lp.col_upper_ = np.full(n, self.inf)
        lp.row_lower_ = np.full(m, -self.inf)
        lp.row_upper_ = np.array(bf)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.arange(0, m * n + 1, n, dtype=np.int32)
        lp.a_matrix_.index_ = np.tile(self.cols, m)
        lp.a_matrix_.value_ = Af.ravel()
        lp.sense_ = highspy.ObjSense.kMaximize
        self.highs.passModel(lp)
        return True

    def maximize(self, g: int) -> tuple[np.ndarray | None, np.ndarray | None, list[int] | None] | None:
        """``max a_g x`` over the other rows, in floats: ``(x, None, tight)`` with an
        optimal x and the rows tight there when they are exactly n (else None), or
        ``(None, ray, None)`` when the maximum is unbounded; None when HiGHS finds
        neither."""
        h = self.highs
        h.changeRowBounds(g, -self.inf, self.inf)
        h.changeColsCost(len(self.cols), self.cols, self.Af[g])
        h.run()
        status = h.getModelStatus()
        found = None
        if status == self.optimal:
            x = np.array(h.getSolution().col_value)
            tight = [j for j, st in enumerate(h.getBasis().row_status) if st == self.upper]
            found = (x, None, tight if len(tight) == len(self.cols) else None)
        elif status == self.unbounded:
            _, has_ray, ray = h.getPrimalRay()
            if has_ray:
                found = (None, np.array(ray), None)
        h.changeRowBounds(g, -self.inf, self.b[g])
        if found is None or not np.all(np.isfinite(found[0] if found[0] is not None else found[1])):
            return None
        return found


def _lp_proposal(
    lp: _FloatLP,
    g: int,
    A: list[list[fmpq]],
    b: list[fmpq],
    verdict: list[tuple[str, Any] | None],
    hints: dict[int, list[int]],
    pf: np.ndarray,
    shoot: Callable[[Sequence[fmpq]], tuple[int, list[fmpq]] | None],
    stats: LPStats,
    counts: dict[str, int],
) -> bool:
    """One float LP for row g (`_FloatLP.maximize`), then exact checks only: the rows its
    optimal basis proves redundant (`_vertex_certificates`, g among them when it is
    redundant) and, if g is left, the first row hit alone by the exact ray from p (``pf``
    in floats) towards its optimum, or along its unbounded ray (a facet). Whether any
    verdict was made."""
    stats.float_lps += 1
    counts["float_lp_proposals"] += 1
    found = lp.maximize(g)
    if found is None:
        return False
    x, d, basis = found
    certified = 0
    if basis is not None:
        try:
            certified = _vertex_certificates(basis, A, b, lp.Af, lp.b, verdict, -1, hints)
        except ZeroDivisionError:  # the float basis is singular in exact arithmetic
            pass
        counts["nonfacets_without_lp"] += certified
        if verdict[g] is not None:
            return True
    if x is not None:
        d = x - pf
    scale = float(np.abs(d).max())
    hit = shoot([fmpq(round(v / scale * (1 << 20))) for v in d]) if scale > 0 else None
    if hit is not None and verdict[hit[0]] is None:
        verdict[hit[0]] = ("facet", hit[1])
        counts["facets_without_lp"] += 1
        return True
    return certified > 0


def _vertex_certificates(
    B: list[int],
    A: list[list[fmpq]],
    b: list[fmpq],
    Af: np.ndarray,
    bf: list[float],
    verdict: list[tuple[str, Any] | None],
    skip: int,
    hints: dict[int, list[int]],
) -> int:
    """Rows proved redundant by the vertex ``A_B x = b_B`` (B: n linearly independent
    rows, e.g. an optimal basis of an LP over the region's rows): a row h outside B with
    ``A_B^T y = a_h``, ``y >= 0`` and ``b_B^T y <= b_h`` is implied by the rows B, with
    multipliers y (exact). Floats (``Af``, ``bf``) pick the rows worth the exact solve;
    sets their verdicts; returns how many. A row with ``y >= 0`` but ``b_B^T y > b_h``
    has its maximum over the rows B at that vertex, beyond its bound: ``hints[h] = B``
    (a direction to shoot towards, decided by the ray). Raises ZeroDivisionError when
    ``A_B`` is singular."""
    todo = [h for h in range(len(A)) if verdict[h] is None and h != skip and h not in B]
    if not todo:
        return 0
    try:
        Yf = np.linalg.solve(Af[B].T, Af[todo].T)
    except np.linalg.LinAlgError:
        maybe = todo
    else:
        bB = np.array([bf[j] for j in B])
        bh = np.array([bf[h] for h in todo])
        Yabs = np.abs(Yf)
        nonneg = (Yf.min(axis=0) >= -1e-9 * np.maximum(1.0, Yabs.max(axis=0))).tolist()
        within = (bB @ Yf <= bh + 1e-9 * (np.abs(bB) @ Yabs + np.abs(bh))).tolist()
        maybe = []
        for h, y_ok, b_ok in zip(todo, nonneg, within):
            if y_ok and b_ok:
                maybe.append(h)
            elif y_ok:
                hints[h] = B
    if not maybe:
        return 0
    n = len(B)
    Y = fmpq_mat(n, n, [A[B[i]][k] for k in range(n) for i in range(n)]).solve(
        fmpq_mat(n, len(maybe), [A[h][k] for k in range(n) for h in maybe])
    )
    count = 0
    for c, h in enumerate(maybe):
        y = [Y[i, c] for i in range(n)]
        if all(v >= 0 for v in y):
            if dot(y, [b[j] for j in B]) <= b[h]:
                verdict[h] = ("nonfacet", ({B[i]: v for i, v in enumerate(y) if v != 0}, Fraction(-1)))
                count += 1
            else:
                hints[h] = B
    return count


def _check_deadline(stats: LPStats) -> None:
    if stats.deadline is not None and time.perf_counter() > stats.deadline:
        raise LimitReached("time limit reached")


def _parallel_certificate(
    gi: int, keys: list[tuple[fmpq, ...]], A: list[list[fmpq]], members: list[int]
) -> tuple[dict[int, fmpq], Fraction] | None:
    """A row implied by a parallel, tighter row (the first among ``members``, the rows
    whose normalised normal is row gi's): mu on that row, lam for row gi."""
    ki = keys[gi]
    for gj in members:
        kj = keys[gj]
        if gj != gi and kj[-1] < ki[-1]:
            # normalised rows: a_j / s_j = a_i / s_i; take mu_j = 1/s_j, lam = -1/s_i
            si = _scale(A[gi])
            sj = _scale(A[gj])
            return {gj: 1 / sj}, to_fraction(-1 / si)
    return None


def _scale(a: Sequence[fmpq]) -> fmpq:
    return abs(next(v for v in a if v != 0))


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

    >>> from exactrelu.network import Network, affine, activation
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
        Jf = _frac_mat(W * J)
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
    return _q(pair[0]), _q(pair[1])


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
