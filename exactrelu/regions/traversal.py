"""Exact enumeration of activation regions by traversing the facet graph.

`enumerate_regions(net, domain)` starts from the region of a point and crosses every
facet of every region found (SPEC §3, DESIGN "Region enumeration: what bites"):

* A region is identified by its activation pattern, which determines its rows
  (`exactrelu.regions.forward`); regions are stored lean (`RegionStore`: the
  pattern, witness, map and certificates, not the rows) and materialised on access.
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
  anything unless its rounding error is bounded: a ray's first hit is proposed in
  floats and proved by the filtered signs (`exactrelu.predicates`) of every other row
  at the exact hit point; the counts of those signs (decided by the filter, fallen
  back to exact arithmetic) are in the graph's ``diagnostics``. A facet shared with a region processed earlier is known, with its point
  (checked exactly) and neighbour. A recession ray of an earlier region, checked by
  one product, often proves a region unbounded.
* Witnesses are rounded to small dyadic rationals when (checked exactly) still
  interior, so that numbers do not grow along the traversal.
* Crossing a facet needs no LP: when one neuron's row alone defines it, that neuron
  moves to its next piece and nothing else changes (`_flip_across`, unless a constant
  neuron of a later layer sits at a knot); otherwise, from a rational point p in the
  facet's relative interior and its outward normal u, one forward pass on (value,
  directional derivative) gives the pattern across, for all neurons that switch at p
  at once. A certified interior point of the neighbour is ``p + ε u``: strictly inside
  every row of the pattern found, it proves that pattern.

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

import random
import time
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Sequence

from flint import fmpq, fmpq_mat

from ..core.domain import Domain
from ..core.errors import InputError, LimitReached
from ..core.network import Network
from ..core.numbers import to_fmpq
from ..polyhedra.highs import FloatLP
from ..polyhedra.lp import LPStats, boundedness, dot, interior_point
from ..predicates import FilterCounts
from .facets import classify_rows, coincident_groups, expand_multipliers, row_key
from .forward import Forward, Pattern, Rows
from .graph import RegionGraph, RegionStore

# a facet and a non-facet as `RegionStore.append` takes them
_Facet = tuple[tuple[int, ...], fmpq_mat, int | None]
_NonFacet = tuple[tuple[int, ...], tuple[tuple[int, fmpq], ...], fmpq]


# -- a region from a crossing ----------------------------------------------------------------


@dataclass(frozen=True)
class _Queued:
    """A region found but not yet processed: its pattern and the crossing that enters it
    (the point p and direction u of `_build`). Its rows are built only when it is
    processed, so that a long queue holds no H-representations."""

    key: bytes  # the pattern, as `RegionStore.key`
    point: fmpq_mat
    direction: fmpq_mat


@dataclass
class _Built(Rows):
    """A region's rows with a certified interior point."""

    witness: list[fmpq] = field(default_factory=list)


def _build(forward: Forward, p: list[fmpq], u: list[fmpq], pattern: Pattern | None, deadline: float | None) -> _Built | None:
    """The region entered from p in direction u, with the certified interior point
    ``p + eps u`` (eps half the smallest exact ratio slack / rate, then rounded to a
    simple point still inside, `_simple_interior`). ``pattern``: that region's pattern
    when already known (from the crossing), else found by `Forward.pattern_entered`
    (None when u is tangent to a neuron's knot set at p, so that the direction does not
    decide). The interior point proves the pattern: strictly inside every row of it,
    it has that pattern. Past ``deadline``, `LimitReached`."""
    if pattern is None:
        pattern = forward.pattern_entered(p, u, deadline)
        if pattern is None:
            return None
    rows = forward.rows_of(pattern, deadline)
    n = len(p)
    Am, b = rows.M, rows.b
    eps = None
    for bk, ap, rate in zip(b, (Am * fmpq_mat(n, 1, p)).entries(), (Am * fmpq_mat(n, 1, u)).entries()):
        slack = bk - ap
        if slack < 0 or (slack == 0 and rate >= 0):
            raise AssertionError("crossing point is not on the region's closure")
        if rate > 0:
            t = slack / rate
            if eps is None or t < eps:
                eps = t
    eps = fmpq(1) if eps is None else eps / 2
    witness = _simple_interior(Am, b, [pi + eps * ui for pi, ui in zip(p, u)])
    return _Built(rows.pattern, rows.A, rows.b, rows.labels, rows.J, rows.c, rows.M, witness)


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




# -- traversal -------------------------------------------------------------------------------


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
    if max_regions is not None and max_regions < 0:
        raise InputError(f"expected a nonnegative number of regions, got {max_regions}", path="max_regions")
    traversal = _Traversal(net, domain, max_regions, time_limit, progress)
    return traversal.run(start)


class _Traversal:
    """The state of one enumeration, in the order the steps use it.

    The steps: `_start` (the first region), then for each region taken from the queue
    `_process`: `_shared_facets` (facets known from processed neighbours), facet
    classification (`classify_rows`), `_record_rows` (facets crossed by `_cross`,
    which queues new regions; non-facets with their proofs), `_bounded`, and the
    finished `Region`. `_check_limits` runs between regions; a limit raises
    `LimitReached` carrying `_partial`'s graph.

    State: ``forward`` (the exact passes), ``index`` (pattern, as `RegionStore.key`
    bytes -> region number), ``pending`` (the regions waiting to be processed, by
    number, as `_Queued`; dropped once processed), ``queue`` (numbers still to process,
    in BFS order), ``entry`` (for each queued region, the facets already crossed into
    it: its row's key as seen from it -> (neighbour, the point as a column)),
    ``store`` (the finished regions and the edges between them, lean), ``rays``
    (recession rays of unbounded regions, most recently useful first), ``lp`` (the
    float LP proposer), ``counts`` (the diagnostics).

    An edge (i, j) is recorded when region i < j is processed: a facet that region j
    shares with an earlier region i is also a facet of i, crossed when i was processed
    (and two convex regions share at most one facet), so each edge is seen first from
    its smaller end.
    """

    def __init__(
        self,
        net: Network,
        domain: Domain,
        max_regions: int | None,
        time_limit: float | None,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.net = net
        self.n = net.input_dim
        self.domain = domain
        self.max_regions = max_regions
        self.time_limit = time_limit
        self.progress = progress
        self.t0 = time.perf_counter()
        self.stats = LPStats(deadline=None if time_limit is None else self.t0 + time_limit)
        self.forward = Forward.of(net, domain)
        self.store = RegionStore(self.forward)
        self.index: dict[bytes, int] = {}
        self.pending: list[_Queued | None] = []
        self.queue: deque[int] = deque()
        self.entry: dict[int, dict[tuple[Any, ...], tuple[int, fmpq_mat]]] = {}
        self.rays: list[fmpq_mat] = []
        self.lp = FloatLP()
        self.counts = {"facets_without_lp": 0, "nonfacets_without_lp": 0, "shared_facets": 0, "float_lp_proposals": 0}
        self.signs = FilterCounts()
        self.domain_bounded = False

    # -- the run --------------------------------------------------------------------------

    def run(self, start: Sequence[Any] | None) -> RegionGraph:
        try:
            self._queue(self._start(start))
            dom_A, dom_b = self.forward.dom_A, self.forward.dom_b
            self.domain_bounded = bool(dom_A) and boundedness(dom_A, dom_b, dim=self.n, stats=self.stats).bounded
            while self.queue:
                self._check_limits()
                self._process(self.queue.popleft())
                if self.progress is not None:
                    self.progress(len(self.store), len(self.queue))
        except LimitReached as e:
            if e.partial is not None:
                raise
            raise self._partial(f"stopped after {self.time_limit} s (--time-limit)") from None
        return RegionGraph(self.net, self.domain, self.store, True, self._stats(), self.stats.deadline)

    def _start(self, start: Sequence[Any] | None) -> _Queued:
        """The region entered from the start point along the first direction that decides
        every neuron at a knot there."""
        n = self.n
        dom_A, dom_b = self.forward.dom_A, self.forward.dom_b
        if start is None:
            if dom_A:
                res = interior_point(dom_A, dom_b, dim=n, stats=self.stats)
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
        for tries, u in enumerate(_directions(n)):
            built = _build(self.forward, p0, u, None, self.stats.deadline)
            if built is not None:
                return _Queued(self.store.key(built.pattern), fmpq_mat(n, 1, p0), fmpq_mat(n, 1, u))
            if tries > 50:
                break
        raise AssertionError("no generic direction found")

    def _queue(self, found: _Queued) -> int:
        j = len(self.pending)
        self.index[found.key] = j
        self.pending.append(found)
        self.queue.append(j)
        return j

    def _check_limits(self) -> None:
        found = len(self.store)
        if self.max_regions is not None and found >= self.max_regions:
            raise self._partial(f"stopped after {found} regions (--max-regions)")
        if self.time_limit is not None and time.perf_counter() - self.t0 > self.time_limit:
            raise self._partial(f"stopped after {self.time_limit} s (--time-limit)")

    # -- one region -------------------------------------------------------------------------

    def _process(self, i: int) -> None:
        """Classify every row of region i, cross its facets, decide boundedness, and
        store the region."""
        found = self.pending[i]
        assert found is not None
        self.pending[i] = None
        pattern = self.store.decode(found.key)
        R = _build(self.forward, found.point.entries(), found.direction.entries(), pattern, self.stats.deadline)
        assert R is not None
        groups, keys, hkeys = coincident_groups(R.A, R.b)
        rep_A = [R.A[g[0]] for g in groups]
        rep_b = [R.b[g[0]] for g in groups]
        rep_M = R.M if len(groups) == len(R.A) else fmpq_mat(len(rep_A), self.n, [v for row in rep_A for v in row])
        known = self._shared_facets(i, rep_M, rep_b, hkeys)
        self.counts["shared_facets"] += len(known)
        verdicts = classify_rows(
            rep_A, rep_M, rep_b, keys, hkeys, R.witness, {gi: k[1].entries() for gi, k in known.items()}, self.lp, self.stats, self.counts, self.signs
        )
        facets, nonfacets = self._record_rows(i, R, groups, keys, rep_A, verdicts, known)
        facet_groups = [gi for gi in range(len(groups)) if verdicts[gi][0] == "facet"]
        bounded = self._bounded(R, facets, rep_M, facet_groups)
        self.store.append(R.pattern, R.witness, R.J, R.c, bounded, facets, nonfacets)

    def _shared_facets(
        self, i: int, rep_M: fmpq_mat, rep_b: list[fmpq], hkeys: list[tuple[Any, ...]]
    ) -> dict[int, tuple[int, fmpq_mat]]:
        """The facets of region i crossed from regions processed before it, by group:
        (neighbour, the point as a column), each point checked exactly to be on
        its row and strictly inside every other row."""
        ent = self.entry.pop(i, {})
        if not ent:
            return {}
        cands = [(gi, shared) for gi, shared in ((gi, ent.get(k)) for gi, k in enumerate(hkeys)) if shared is not None]
        checked = _on_facet_only(rep_M, rep_b, [(gi, shared[1].entries()) for gi, shared in cands])
        return {gi: shared for (gi, shared), ok in zip(cands, checked) if ok}

    def _record_rows(
        self,
        i: int,
        R: _Built,
        groups: list[list[int]],
        keys: list[tuple[fmpq, ...]],
        rep_A: list[list[fmpq]],
        verdicts: list[tuple[str, Any]],
        known: dict[int, tuple[int, fmpq_mat]],
    ) -> tuple[list[_Facet], list[_NonFacet]]:
        """Region i's facets (crossed to their neighbours, queueing new regions) and
        non-facets (with their multipliers), group by group, as `RegionStore.append`
        takes them."""
        facets: list[_Facet] = []
        nonfacets: list[_NonFacet] = []
        last_knot = max((l for l, states in enumerate(R.pattern) if any(st % 2 for st in states)), default=-1)
        for gi, g in enumerate(groups):
            rows_g = tuple(g)
            kind, data = verdicts[gi]
            if kind == "nonfacet":
                mu, lam = data
                nonfacets.append((rows_g, expand_multipliers(mu, groups), to_fmpq(lam)))
                continue
            point = data
            if any(R.labels[k][0] == "domain" for k in g):
                facets.append((rows_g, fmpq_mat(self.n, 1, point), None))
                continue
            if gi in known:
                j, fpoint = known[gi]
            else:
                fpoint = fmpq_mat(self.n, 1, point)
                j = self._cross(R, g, last_knot, point, list(rep_A[gi]), fpoint)
                if j > i:
                    self.entry.setdefault(j, {})[row_key(keys[gi], -1)] = (i, fpoint)
            facets.append((rows_g, fpoint, j))
            if j > i:
                self.store.add_edge(i, j, fpoint)
        return facets, nonfacets

    def _cross(self, R: _Built, rows: list[int], last_knot: int, point: list[fmpq], normal: list[fmpq], fpoint: fmpq_mat) -> int:
        """The number of the region across the facet of R on ``rows`` at ``point``
        (outward ``normal``; ``fpoint``: the point as a column), queueing it when it is
        new."""
        across = _flip_across(R, rows, last_knot) or self.forward.pattern_entered(point, normal, self.stats.deadline)
        if across is None:
            raise AssertionError("crossing a facet along its normal did not decide a neuron")
        key = self.store.key(across)
        j = self.index.get(key)
        if j is not None:
            return j
        return self._queue(_Queued(key, fpoint, fmpq_mat(self.n, 1, normal)))

    def _bounded(self, R: _Built, facets: list[_Facet], rep_M: fmpq_mat, facet_groups: list[int]) -> bool:
        """Whether the region is bounded: by the domain, by a recession ray of an earlier
        region (one product), or by an exact certificate either way."""
        if self.domain_bounded:
            return True
        if not facets or _known_ray(self.rays, rep_M, facet_groups):
            return False
        res = boundedness([R.A[f[0][0]] for f in facets], [R.b[f[0][0]] for f in facets], dim=self.n, stats=self.stats)
        if not res.bounded:
            self.rays.insert(0, fmpq_mat(self.n, 1, [fmpq(v.numerator, v.denominator) for v in res.ray]))
            del self.rays[_RAYS_KEPT:]
        return res.bounded

    # -- results ----------------------------------------------------------------------------

    def _stats(self) -> dict[str, Any]:
        stats = self.stats
        return {
            "lps": stats.lps,
            "float_lps": stats.float_lps,
            "exact_lps": stats.exact_lps,
            "pivots": stats.pivots,
            **self.counts,
            "filter_decided": self.signs.decided,
            "filter_fallbacks": self.signs.fallbacks,
            "seconds": time.perf_counter() - self.t0,
            "regions": len(self.store),
        }

    def _partial(self, msg: str) -> LimitReached:
        deadline = None if self.time_limit is None else time.perf_counter() + self.time_limit / 2
        partial = RegionGraph(self.net, self.domain, self.store, False, self._stats(), deadline)
        return LimitReached(msg, partial=partial)


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
