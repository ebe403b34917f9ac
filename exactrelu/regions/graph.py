"""The region graph: activation regions (pattern, H-representation, affine map, witness),
their facets, and the graph of regions joined by shared facets (`RegionGraph`).

Built by `exactrelu.regions.traversal.enumerate_regions`; every field is exact. The
regions are stored lean (`RegionStore`): per region its pattern as bytes, its witness,
affine map and certificates as flint matrices and integer arrays; the H-representation,
which the pattern determines, is not stored. A `Region` is materialised (one exact
forward pass) when it is read.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any, Iterator, Sequence, overload

import networkx as nx
from flint import fmpq, fmpq_mat
from networkx.utils import UnionFind

from ..core.domain import Domain
from ..core.errors import LimitReached
from ..core.network import Network
from ..core.numbers import column_fractions, matrix_fractions, to_fraction
from ..polyhedra.lp import LPStats, feasible_point
from .forward import Forward, Pattern

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


class RegionStore(SequenceABC):
    """The regions of one enumeration, stored lean, read as `Region` objects.

    Per region (a tuple): the pattern as bytes (16-bit states), the witness, the
    Jacobian and offset (`fmpq_mat`), whether it is bounded, its facets as an integer
    array ``[k, rows..., neighbour or -1]`` per facet with one point (`fmpq_mat`,
    shared with the neighbour's side) per facet, its non-facets as an integer array
    ``[k, rows..., s, multiplier rows...]`` with all their multipliers (each
    non-facet's s values, then its row multiplier) packed into one bytes object
    (`pack_rationals`: their numbers grow to ~100 bits, and flint would keep each such
    integer in its own heap block). The edges of the
    facet graph are three parallel arrays (i, j, the facet point), each edge once.
    `store[i]` materialises region i: its H-representation and labels from the pattern
    by one exact pass (`Forward.rows_of`), every number as a `Fraction`.
    """

    def __init__(self, forward: Forward) -> None:
        self.forward = forward
        self._widths = tuple(len(fns) for fns in forward.acts)
        self._records: list[tuple[Any, ...]] = []
        self._edge_i = array("q")
        self._edge_j = array("q")
        self._edge_point: list[fmpq_mat] = []

    # -- writing (the traversal) ------------------------------------------------------------

    def key(self, pattern: Pattern) -> bytes:
        """The pattern as bytes (the dict key of the traversal's index too)."""
        return array("H", [st for states in pattern for st in states]).tobytes()

    def append(
        self,
        pattern: Pattern,
        witness: Sequence[fmpq],
        J: fmpq_mat,
        c: fmpq_mat,
        bounded: bool,
        facets: Sequence[tuple[Sequence[int], fmpq_mat, int | None]],
        nonfacets: Sequence[tuple[Sequence[int], Sequence[tuple[int, fmpq]], fmpq]],
        encoded: tuple[array, bytes] | None = None,
    ) -> None:
        """Add the next region: ``facets`` as (rows, point, neighbour or None),
        ``nonfacets`` as (rows, sparse multipliers (row, value), row multiplier), or
        ``encoded`` in their stored form (`encode_nonfacets`) instead."""
        farr = array("q")
        for rows, _, nb in facets:
            farr.append(len(rows))
            farr.extend(rows)
            farr.append(-1 if nb is None else nb)
        narr, nvals = encoded if encoded is not None else encode_nonfacets(nonfacets)
        w = fmpq_mat(len(witness), 1, list(witness))
        points = tuple(pt for _, pt, _ in facets)
        self._records.append((self.key(pattern), w, J, c, bounded, farr, points, narr, nvals))

    def add_edge(self, i: int, j: int, point: fmpq_mat) -> None:
        """Record the facet shared by regions i < j (once per pair), with its point."""
        self._edge_i.append(i)
        self._edge_j.append(j)
        self._edge_point.append(point)

    # -- reading ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, i: int) -> Region: ...

    @overload
    def __getitem__(self, i: slice) -> tuple[Region, ...]: ...

    def __getitem__(self, i: int | slice) -> Region | tuple[Region, ...]:
        if isinstance(i, slice):
            return tuple(self[k] for k in range(*i.indices(len(self))))
        return self.region(i)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RegionStore):
            return self._records == other._records and self.forward.net is other.forward.net
        if isinstance(other, RegionTuple):
            return other == self
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def pattern(self, i: int) -> Pattern:
        return self.decode(self._records[i][0])

    def decode(self, key: bytes) -> Pattern:
        """The pattern of a `key`."""
        flat = array("H")
        flat.frombytes(key)
        out, k = [], 0
        for w in self._widths:
            out.append(tuple(flat[k : k + w]))
            k += w
        return tuple(out)

    def same_map(self, i: int, j: int) -> bool:
        """Whether regions i and j have one affine map (no materialisation)."""
        ri, rj = self._records[i], self._records[j]
        return ri[2] == rj[2] and ri[3] == rj[3]

    def map_key(self, i: int) -> tuple[Any, ...]:
        """A hashable key of region i's affine map."""
        r = self._records[i]
        return tuple((v.p, v.q) for v in r[2].entries()) + tuple((v.p, v.q) for v in r[3].entries())

    def bounded(self, i: int) -> bool:
        return self._records[i][4]

    def edges(self) -> Iterator[tuple[int, int, Vector]]:
        """Every edge (i, j, facet point) between stored regions, in the order found."""
        m = len(self._records)
        for i, j, pt in zip(self._edge_i, self._edge_j, self._edge_point):
            if i < m and j < m:
                yield i, j, column_fractions(pt)

    def edge_pairs(self) -> Iterator[tuple[int, int]]:
        m = len(self._records)
        for i, j in zip(self._edge_i, self._edge_j):
            if i < m and j < m:
                yield i, j

    def flips(self, i: int, j: int) -> tuple[tuple[int, int], ...]:
        """The (layer, neuron) pairs whose states differ between regions i and j."""
        return _flips(self.pattern(i), self.pattern(j))

    def entry(self, i: int, make: Any = fmpq) -> tuple[Any, ...]:
        """Region i as the arguments `append` took, without materialising its rows:
        (pattern, witness, J, c, bounded, facets, nonfacets); the non-facets' multipliers
        as ``make(p, q)`` (`fmpq`, or `Fraction`).

        >>> from exactrelu.core.network import Network, affine, activation
        >>> from exactrelu.regions import enumerate_regions
        >>> g = enumerate_regions(Network.from_layers(1, [affine([[1]]), activation("relu"), affine([[1]])]))
        >>> sorted((e[0], [(rows, nb) for rows, _, nb in e[5]]) for e in map(g.regions.entry, (0, 1)))
        [(((0,),), [((0,), 0)]), (((2,),), [((0,), 1)])]
        """
        key, w, J, c, bounded, farr, points, narr, nvals = self._records[i]
        facets = []
        k = 0
        for point in points:
            size = farr[k]
            nb = farr[k + 1 + size]
            facets.append((tuple(farr[k + 1 : k + 1 + size]), point, None if nb < 0 else nb))
            k += size + 2
        nonfacets = []
        k = v = 0
        vals = unpack_rationals(nvals, make)
        while k < len(narr):
            size = narr[k]
            nrows = tuple(narr[k + 1 : k + 1 + size])
            s = narr[k + 1 + size]
            mrows = narr[k + 2 + size : k + 2 + size + s]
            nonfacets.append((nrows, tuple(zip(mrows, vals[v : v + s])), vals[v + s]))
            k += size + 2 + s
            v += s + 1
        return self.decode(key), w.entries(), J, c, bounded, facets, nonfacets

    def region(self, i: int) -> Region:
        """Region i materialised: its rows and labels rebuilt from the pattern, every number a `Fraction`."""
        pattern, w, J, c, bounded, facets, nonfacets = self.entry(i, Fraction)
        rows = self.forward.rows_of(pattern)
        return Region(
            pattern=pattern,
            A=tuple(tuple(to_fraction(x) for x in row) for row in rows.A),
            b=tuple(to_fraction(x) for x in rows.b),
            labels=tuple(rows.labels),
            jacobian=matrix_fractions(J),
            offset=column_fractions(c),
            witness=tuple(to_fraction(x) for x in w),
            bounded=bounded,
            facets=tuple(Facet(rows_, column_fractions(point), nb) for rows_, point, nb in facets),
            nonfacets=tuple(NonFacet(nrows, mu, lam) for nrows, mu, lam in nonfacets),
        )


class RegionTuple(SequenceABC):
    """Regions given as `Region` objects (a caller's edited copy, for instance), read
    through the same questions as a `RegionStore`; the edges come from the facets'
    neighbours (each edge from its smaller end, as the traversal records them)."""

    def __init__(self, regions: Sequence[Region]) -> None:
        self._regions = tuple(regions)

    def __len__(self) -> int:
        return len(self._regions)

    def __getitem__(self, i: Any) -> Any:
        return self._regions[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (RegionTuple, RegionStore)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def pattern(self, i: int) -> Pattern:
        return self._regions[i].pattern

    def same_map(self, i: int, j: int) -> bool:
        return self._regions[i].affine_map() == self._regions[j].affine_map()

    def map_key(self, i: int) -> tuple[Any, ...]:
        return self._regions[i].affine_map()

    def bounded(self, i: int) -> bool:
        return self._regions[i].bounded

    def edges(self) -> Iterator[tuple[int, int, Vector]]:
        m = len(self._regions)
        for i, r in enumerate(self._regions):
            for f in r.facets:
                if f.neighbor is not None and i < f.neighbor < m:
                    yield i, f.neighbor, f.point

    def edge_pairs(self) -> Iterator[tuple[int, int]]:
        for i, j, _ in self.edges():
            yield i, j

    def flips(self, i: int, j: int) -> tuple[tuple[int, int], ...]:
        return _flips(self.pattern(i), self.pattern(j))


def _flips(p: Pattern, q: Pattern) -> tuple[tuple[int, int], ...]:
    """The (layer, neuron) pairs whose states differ between two patterns."""
    return tuple((l, k) for l, (s1, s2) in enumerate(zip(p, q)) if s1 != s2 for k, (a, b) in enumerate(zip(s1, s2)) if a != b)


@dataclass(frozen=True)
class RegionCounts:
    """How many "linear regions" a network has on its domain, under the definitions that
    papers and tools use (they differ; see docs/benchmarks.md for which tool counts
    which). All four are exact for a complete graph; ``open_pieces <= activation_regions``,
    ``linear_pieces <= open_pieces`` and ``affine_maps <= linear_pieces``.

    ``activation_regions``: the activation patterns whose cell has a nonempty interior
    (full-dimensional activation regions). ``open_pieces``: maximal connected open sets
    on which the function is affine (regions with one map joined across shared facets).
    ``linear_pieces``: maximal connected closed sets on which it is affine (closures
    with one map joined wherever they touch; SPEC §3). ``affine_maps``: distinct affine
    functions, connected or not.

    >>> from exactrelu.core.network import Network, affine, activation
    >>> from exactrelu.regions import enumerate_regions
    >>> hat = Network.from_layers(1, [affine([[1], [1], [1]], [0, -1, -2]), activation("relu"), affine([[1, -2, 1]])])
    >>> enumerate_regions(hat).region_counts      # 0, x, 2 - x, 0: the two zeros apart
    RegionCounts(activation_regions=4, open_pieces=4, linear_pieces=4, affine_maps=3)
    """

    activation_regions: int
    open_pieces: int
    linear_pieces: int
    affine_maps: int


@dataclass(frozen=True)
class RegionGraph:
    """The regions of a network on a domain and the facets they share.

    ``regions``: a `RegionStore` (a sequence of `Region`, each materialised when read);
    any other sequence of `Region` is read as a `RegionTuple`.
    ``graph``: networkx graph on region indices, built on first use; each edge has
    ``point`` (a facet witness) and ``neurons`` (the (layer, neuron) pairs whose state
    differs). ``complete`` is False when a limit stopped the traversal. ``deadline`` (a
    `time.perf_counter` value, from the enumeration's time limit) bounds the work done
    afterwards on the graph (`piece_labels`, `volumes`): past it they raise
    `LimitReached` with this graph as ``partial``; a partial graph's deadline leaves half
    the time limit again for that work.
    """

    network: Network
    domain: Domain
    regions: RegionStore | RegionTuple
    complete: bool = True
    diagnostics: dict[str, Any] = field(default_factory=dict, compare=False)
    deadline: float | None = field(default=None, compare=False)
    _volumes: dict[int, Fraction | None] = field(default_factory=dict, compare=False, repr=False)

    @property
    def value(self) -> int:
        """The number of activation regions found (all of them when ``complete``)."""
        return self.activation_regions

    @property
    def guarantee(self) -> str:
        return "exact"

    def __post_init__(self) -> None:
        if not isinstance(self.regions, (RegionStore, RegionTuple)):
            object.__setattr__(self, "regions", RegionTuple(self.regions))

    @property
    def activation_regions(self) -> int:
        return len(self.regions)

    @cached_property
    def graph(self) -> nx.Graph:
        g = nx.Graph()
        g.add_nodes_from(range(len(self.regions)))
        for i, j, point in self.regions.edges():
            g.add_edge(i, j, point=point, neurons=self.regions.flips(i, j))
        return g

    def facet_joined(self) -> UnionFind:
        """Regions joined by a chain of facets with the same affine map on both sides (a
        fresh `networkx.utils.UnionFind` over region indices, for the caller to extend)."""
        uf = UnionFind(range(len(self.regions)))
        for i, j in self.regions.edge_pairs():
            if self.regions.same_map(i, j):
                uf.union(i, j)
        return uf

    def same_map_pairs(self) -> Iterator[tuple[int, int]]:
        """Every pair ``i < j`` of regions with one affine map."""
        by_map: dict[Any, list[int]] = {}
        for i in range(len(self.regions)):
            by_map.setdefault(self.regions.map_key(i), []).append(i)
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

    @cached_property
    def region_counts(self) -> RegionCounts:
        """The number of linear regions under each definition in use (`RegionCounts`)."""
        uf = self.facet_joined()
        open_pieces = len({uf[i] for i in range(len(self.regions))})
        maps = len({self.regions.map_key(i) for i in range(len(self.regions))})
        return RegionCounts(len(self.regions), open_pieces, self.linear_pieces, maps)

    @property
    def bounded_regions(self) -> int:
        """The number of bounded regions (meaningful on R^n)."""
        return sum(1 for i in range(len(self.regions)) if self.regions.bounded(i))

    @cached_property
    def kinks(self) -> tuple[Kink, ...]:
        """The facets whose two sides have different affine maps, with witnesses: the
        non-differentiability set is the closure of their union."""
        out = []
        for i, j, point in self.regions.edges():
            if not self.regions.same_map(i, j):
                out.append(Kink((min(i, j), max(i, j)), point, self.regions.flips(i, j)))
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


def encode_nonfacets(nonfacets: Sequence[tuple[Sequence[int], Sequence[tuple[Any, Any]], Any]]) -> tuple[array, bytes]:
    """Non-facets as `RegionStore` keeps them: ``[k, rows..., s, multiplier rows...]`` per
    non-facet, and their multipliers (each one's s values, then its row multiplier) packed."""
    narr = array("q")
    vals: list[Any] = []
    for rows, mu, lam in nonfacets:
        narr.append(len(rows))
        narr.extend(rows)
        narr.append(len(mu))
        narr.extend(r for r, _ in mu)
        vals.extend(v for _, v in mu)
        vals.append(lam)
    return narr, pack_rationals(vals)


def pack_rationals(values: Sequence[fmpq]) -> bytes:
    """Rationals as one bytes object: per value, the numerator's sign and magnitude and
    the denominator, each magnitude as a varint byte count and big-endian bytes.

    >>> unpack_rationals(pack_rationals([fmpq(-3, 4), fmpq(0), fmpq(2**70, 3)]))
    [Fraction(-3, 4), Fraction(0, 1), Fraction(1180591620717411303424, 3)]
    """
    out = bytearray()
    for v in values:
        p, q = int(v.p), int(v.q)
        out.append(1 if p < 0 else 0)
        for x in (abs(p), q):
            raw = x.to_bytes((x.bit_length() + 7) // 8, "big")
            _varint(out, len(raw))
            out += raw
    return bytes(out)


def unpack_rationals(data: bytes, make: Any = Fraction) -> list[Any]:
    """The rationals of `pack_rationals`, each as ``make(p, q)`` (`Fraction`, or `fmpq`)."""
    out = []
    k = 0
    while k < len(data):
        negative = data[k] == 1
        k += 1
        parts = []
        for _ in range(2):
            size = shift = 0
            while True:
                byte = data[k]
                k += 1
                size |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80:
                    break
            parts.append(int.from_bytes(data[k : k + size], "big"))
            k += size
        p, q = parts
        out.append(make(-p if negative else p, q))
    return out


def _varint(out: bytearray, n: int) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _closures_meet(r1: Region, r2: Region, stats: LPStats) -> bool:
    A = list(r1.A) + list(r2.A)
    b = list(r1.b) + list(r2.b)
    if not A:
        return True
    return feasible_point(A, b, stats=stats).feasible

