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
  over the known facets decide (Clarkson; `exactrelu.polyhedra.lp`). No float decides
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

>>> from exactrelu.core.network import Network, affine, activation
>>> net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])
>>> g = enumerate_regions(net)          # |x| = relu(x) + relu(-x): two regions, one kink
>>> g.activation_regions, g.linear_pieces, g.bounded_regions
(2, 2, 0)
>>> [r.jacobian for r in g.regions]
[((Fraction(1, 1),),), ((Fraction(-1, 1),),)]
"""

from __future__ import annotations

import bisect
import random
import time
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

import networkx as nx
from flint import fmpq, fmpq_mat

from ..core.domain import Domain
from ..core.errors import InputError, LimitReached
from ..core.network import Network
from ..core.numbers import matrix_fractions, to_fraction
from ..polyhedra.lp import LPStats, boundedness, dot, interior_point
from .facets import (
    FloatLP,
    classify_rows,
    coincident_groups,
    expand_multipliers,
    row_key,
)
from .graph import Facet, NonFacet, Pattern, Region, RegionGraph, Vector

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




def _frac_vec(v: Sequence[fmpq]) -> Vector:
    return tuple([Fraction(int(e.p), int(e.q)) for e in v])



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

    >>> from exactrelu.core.network import Network, affine, activation
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
        lp = FloatLP()
        while queue:
            i = queue.popleft()
            if max_regions is not None and len(regions) >= max_regions:
                raise _limit(net, domain, regions, edges, stats, t0, counts, f"stopped after {len(regions)} regions (--max-regions)")
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                raise _limit(net, domain, regions, edges, stats, t0, counts, f"stopped after {time_limit} s (--time-limit)")
            R = pending[i]
            groups, keys, hkeys = coincident_groups(R.A, R.b)
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
            verdicts = classify_rows(rep_A, rep_M, rep_b, keys, hkeys, R.witness, known, lp, stats, counts)
            facet_groups = [gi for gi in range(len(groups)) if verdicts[gi][0] == "facet"]
            for gi, g in enumerate(groups):
                rows_g = tuple(g)
                known_neighbor = known_neighbors.get(gi)
                kind, data = verdicts[gi]
                if kind == "nonfacet":
                    mu, lam = data
                    nonfacets.append(NonFacet(rows_g, expand_multipliers(mu, groups), lam))
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
                        entry.setdefault(j, {})[row_key(keys[gi], -1)] = (point, i, fpoint)
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
    (keyed by `row_key`; rows recur across regions, and the tuples are immutable)."""
    A = []
    for row in R.A:
        key = row_key(row)
        frow = converted.get(key)
        if frow is None:
            frow = converted[key] = _frac_vec(row)
        A.append(frow)
    return Region(
        pattern=R.pattern,
        A=tuple(A),
        b=_frac_vec(R.b),
        labels=tuple(R.labels),
        jacobian=matrix_fractions(R.J),
        offset=tuple(to_fraction(R.c[k, 0]) for k in range(R.c.nrows())),
        witness=_frac_vec(R.witness),
        bounded=bounded,
        facets=tuple(facets),
        nonfacets=tuple(nonfacets),
    )
