"""The region graph: activation regions (pattern, H-representation, affine map, witness),
their facets, and the graph of regions joined by shared facets (`RegionGraph`).

Built by `exactrelu.regions.traversal.enumerate_regions`; every field is exact.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any, Iterator, Sequence

import networkx as nx
from networkx.utils import UnionFind

from ..core.domain import Domain
from ..core.errors import LimitReached
from ..core.network import Network
from ..polyhedra.lp import LPStats, feasible_point

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
    ``complete`` is False when a limit stopped the traversal. ``deadline`` (a
    `time.perf_counter` value, from the enumeration's time limit) bounds the work done
    afterwards on the graph (`piece_labels`, `volumes`): past it they raise
    `LimitReached` with this graph as ``partial``; a partial graph's deadline leaves half
    the time limit again for that work.
    """

    network: Network
    domain: Domain
    regions: tuple[Region, ...]
    graph: nx.Graph = field(compare=False)
    complete: bool = True
    stats: dict[str, Any] = field(default_factory=dict, compare=False)
    deadline: float | None = field(default=None, compare=False)
    _volumes: dict[int, Fraction | None] = field(default_factory=dict, compare=False, repr=False)

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
        stats = LPStats(deadline=self.deadline)
        try:
            for i, j in self.same_map_pairs():
                if uf[i] != uf[j] and _closures_meet(self.regions[i], self.regions[j], stats):
                    uf.union(i, j)
        except LimitReached:
            raise LimitReached("time limit reached while joining regions into linear pieces", partial=self) from None
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
        """The exact volume of region i (None when it is unbounded); past the graph's
        ``deadline``, `LimitReached` with this graph as ``partial``."""
        if i in self._volumes:
            return self._volumes[i]
        r = self.regions[i]
        vol = None
        if r.bounded:
            from ..polyhedra.volume import polytope_volume

            rows = [f.rows[0] for f in r.facets]
            try:
                vol = polytope_volume([r.A[k] for k in rows], [r.b[k] for k in rows], deadline=self.deadline)
            except LimitReached:
                done = len(self._volumes)
                raise LimitReached(f"time limit reached after {done} of {len(self.regions)} volumes", partial=self) from None
        self._volumes[i] = vol
        return vol

    @property
    def volumes(self) -> tuple[Fraction | None, ...]:
        """Every region's exact volume (None for an unbounded one), in order."""
        return tuple(self.volume(i) for i in range(len(self.regions)))

    @property
    def volumes_found(self) -> dict[int, Fraction | None]:
        """The volumes computed so far, by region (after a `LimitReached` from `volumes`)."""
        return dict(self._volumes)

    def region_of(self, x: Sequence[Any]) -> int | None:
        """The index of the region whose closure contains x (the first found)."""
        xs = [Fraction(v) for v in x]
        for i, r in enumerate(self.regions):
            if all(sum((a * v for a, v in zip(row, xs)), Fraction(0)) <= bi for row, bi in zip(r.A, r.b)):
                return i
        return None


def _closures_meet(r1: Region, r2: Region, stats: LPStats) -> bool:
    A = list(r1.A) + list(r2.A)
    b = list(r1.b) + list(r2.b)
    if not A:
        return True
    return feasible_point(A, b, stats=stats).feasible

