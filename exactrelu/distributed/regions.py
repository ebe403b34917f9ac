"""The activation regions enumerated cell by cell, merged by pattern into one graph.

The domain is cut into **cells** by the hyperplanes of the first neurons of the first
hidden layer (`cells_of`: the pieces of neurons ``0 … k-1``, k the least of 1, 2, 4, … that
gives at least ``cells`` nonempty cells, or the whole layer). A first-layer neuron keeps
one piece on an activation region, so every region lies in exactly one cell, and the
regions of the network on the cell ``C`` are exactly the regions whose first-layer pieces
are C's: each cell is one task, `exactrelu.regions.enumerate_regions` on ``domain ∩ C``
(a pure function of the network, the domain and the cell), and the merge is by pattern.

A cell's rows follow the domain's rows (``["domain", m + j]``), and each repeats a row of
every region inside it (the same neuron at the same knot), so the merge drops them: a
facet on a cell's boundary is the neuron's facet, whose region across has the neuron
moved past its knot (the rule of the single-process traversal; when a neuron of a later
layer sits at a knot, the region across is found by its closure holding the facet's
point). Regions come in a canonical order, by pattern, and the merged `RegionGraph` has
the single-process graph's patterns, rows, affine maps, boundedness, facets and
neighbours, non-facet rows, adjacency and linear pieces; what may differ is only where
points were found: witnesses, facet points and non-facet multipliers (each valid). The
partition depends on ``cells``, never on the workers, so the output is identical, byte for
byte, in-process and on 1, 2 or N workers, and a certificate of the merged graph is a
certificate of the whole domain (`exactrelu check` re-verifies it as any other).

>>> from exactrelu.core.network import Network, affine, activation
>>> from exactrelu.regions import enumerate_regions as single
>>> net = Network.from_layers(2, [affine([[1, 0], [0, 1], [1, 1]], [0, 0, -1]),
...                               activation("relu"), affine([[1, 1, 1]])])
>>> g = enumerate_regions(net, cells=4)                   # in-process, in 4 cells
>>> g.activation_regions, g.diagnostics["cells"], [r.pattern for r in g.regions][:2]
(7, 4, [((0, 0, 0),), ((0, 2, 0),)])
>>> sorted(r.pattern for r in single(net).regions) == [r.pattern for r in g.regions]
True
"""

from __future__ import annotations

import time
from array import array
from fractions import Fraction
from typing import Any, Callable, Sequence

from flint import fmpq, fmpq_mat

from ..core.domain import Domain
from ..core.errors import InputError, LimitReached
from ..core.network import Network, activation, affine
from ..regions import RegionGraph
from ..regions import enumerate_regions as single_process
from ..regions.forward import Forward
from ..regions.graph import RegionStore, encode_nonfacets, pack_rationals, unpack_rationals
from .executor import Runner, open_executor, portable

CELLS = 64
Pattern = tuple[tuple[int, ...], ...]
Row = tuple[tuple[Fraction, ...], Fraction]


def cells_of(net: Network, domain: Domain, cells: int = CELLS, deadline: float | None = None) -> list[tuple[Row, ...]]:
    """The cells: for the first first-layer neurons (see the module docstring), each
    nonempty combination of their pieces on the domain, as the rows ``a·x <= β`` of those
    pieces (the rows a region inside has for those neurons), in the order of the pieces.
    Past ``deadline`` (a `time.monotonic` value): `LimitReached`.

    >>> net = Network.from_layers(1, [affine([[1], [1]], [0, -1]), activation("relu"), affine([[1, 1]])])
    >>> len(cells_of(net, Domain.whole(1), 2))               # x < 0, x > 0 (neuron 0 alone)
    2
    >>> [" and ".join(f"{a[0]}x <= {b}" for a, b in cell) for cell in cells_of(net, Domain.whole(1), 3)]
    ['-1x <= 0 and -1x <= -1', '-1x <= 0 and 1x <= 1', '1x <= 0 and 1x <= 1']
    """
    layer = net.chain.affines[0]
    fns = net.chain.acts[0] if net.chain.acts else ()
    moving = [j for j, row in enumerate(layer.weight) if any(row) and j < len(fns) and fns[j].knots]
    k = 1
    while True:
        chosen = moving[:k]
        found = _pieces(net, domain, chosen, deadline)
        if len(found) >= cells or k >= len(moving):
            return found
        k *= 2


def _pieces(net: Network, domain: Domain, neurons: list[int], deadline: float | None) -> list[tuple[Row, ...]]:
    """The nonempty combinations of pieces of ``neurons`` (first layer) on the domain: the
    regions of a network with one ReLU per knot of each (its sign says the side)."""
    if not neurons:
        return [()]
    layer, fns = net.chain.affines[0], net.chain.acts[0]
    rows, owners = [], []
    for j in neurons:
        for t in fns[j].knots:
            rows.append((layer.weight[j], layer.bias[j] - t))
            owners.append(j)
    cut = Network.from_layers(net.input_dim, [affine([list(w) for w, _ in rows], [c for _, c in rows]),
                                             activation("relu"), affine([[0] * len(rows)])])
    out = []
    limit = None if deadline is None else max(deadline - time.monotonic(), 1e-9)
    for region in single_process(cut, domain, time_limit=limit).regions:
        signs = region.pattern[0]
        cell: list[Row] = []
        for j in neurons:
            knots = fns[j].knots
            p = sum(1 for s, o in zip(signs, owners) if o == j and s == 2)  # the knots below
            w, beta = layer.weight[j], layer.bias[j]
            if p > 0:
                cell.append((tuple(-v for v in w), beta - knots[p - 1]))
            if p < len(knots):
                cell.append((w, knots[p] - beta))
        out.append(tuple(cell))
    return sorted(out, key=_cell_key)


def _cell_key(cell: tuple[Row, ...]) -> tuple[Any, ...]:
    return tuple((a, b) for a, b in cell)


def enumerate_regions(
    net: Network,
    domain: Domain | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    cells: int = CELLS,
    max_regions: int | None = None,
    time_limit: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_cluster: Callable[[Runner], None] | None = None,
) -> RegionGraph:
    """Every activation region of ``net`` on ``domain``, one cell per task (module
    docstring): on ``workers`` processes of an embedded Dask cluster, the cluster at
    ``scheduler``, through ``client``, or in-process when none is given.

    ``max_regions`` / ``time_limit`` raise `LimitReached` whose ``partial`` is the graph of
    the cells finished (``complete=False``; a facet towards a cell not finished has no
    neighbour). ``progress(done, total)``: after each cell; ``on_cluster(runner)``: once the
    cluster is there.
    """
    n = net.input_dim
    domain = domain if domain is not None else Domain.whole(n)
    if domain.dim != n:
        raise InputError(f"expected a domain of dimension {n}, got {domain.dim}", path="domain")
    if isinstance(cells, bool) or not isinstance(cells, int) or cells < 1:
        raise InputError(f"expected a positive number of cells, got {cells!r}", path="cells")
    if max_regions is not None and max_regions < 0:
        raise InputError(f"expected a nonnegative number of regions, got {max_regions}", path="max_regions")
    t0 = time.monotonic()
    deadline = None if time_limit is None else t0 + time_limit
    try:
        parts = cells_of(net, domain, cells, deadline)
    except LimitReached:  # stopped while splitting: no cell done
        raise LimitReached("stopped at the time limit while splitting the domain into cells (--time-limit)",
                           partial=_merge(net, domain, [], {}, 0, 0, t0, complete=False)) from None
    m = len(domain.A)
    items = [(portable(net), Domain(n, domain.A + tuple(a for a, _ in c), domain.b + tuple(b for _, b in c)), m,
              max_regions, time_limit) for c in parts]
    found: list[list[tuple[Any, ...]] | None] = [None] * len(parts)
    seconds: list[float | None] = [None] * len(parts)
    stats: dict[str, Any] = {"task_seconds": seconds}
    with open_executor(workers, scheduler, client) as run:
        if on_cluster is not None and run.client is not None:
            on_cluster(run)
        try:
            count = 0
            for i, (records, cell_stats) in run.results(_cell_regions, items, deadline=deadline,
                                                       on_done=None if progress is None else
                                                       lambda k: progress(k, len(parts))):
                found[i] = records
                count += len(records)
                _add(stats, cell_stats)
                seconds[i] = round(cell_stats["seconds"], 6)
                if max_regions is not None and count > max_regions:
                    raise LimitReached(f"stopped after {count} regions in {sum(f is not None for f in found)} "
                                       f"of {len(parts)} cells (--max-regions)")
        except LimitReached as e:
            graph = _merge(net, domain, found, stats, len(parts), run.workers, t0, complete=False)
            raise LimitReached(str(e), partial=graph) from None
    return _merge(net, domain, found, stats, len(parts), run.workers, t0, complete=True)


# A facet's neighbour in a cell's record (`_cell_regions`): a region of the same cell
# (its index there, >= 0), none (the domain's boundary), the region with a given pattern
# across the cell's boundary, or the region of another cell whose closure holds the point.
BOUNDARY, ACROSS, CLOSURE = -1, -2, -3


def _cell_regions(item: tuple[Any, ...]) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    """One task: the regions of one cell, lean (run on a worker): per region, its pattern
    key, its numbers packed (witness, Jacobian, offset, facet points), whether bounded,
    its facets as integers ``[k, rows..., neighbour]`` (`BOUNDARY` / `ACROSS` / `CLOSURE`
    or an index in the cell) with the patterns across the cell's boundary, and its
    non-facets as `RegionStore` keeps them. The cell's rows (the last ones) are dropped."""
    net, cell, m, max_regions, time_limit = item
    g = single_process(net, cell, max_regions=max_regions, time_limit=time_limit)
    store = g.regions
    out = []
    for i in range(len(store)):
        pattern, w, J, c, bounded, facets, nonfacets = store.entry(i)
        labels = store.forward.rows_of(pattern).labels
        keep = next((k for k, lab in enumerate(labels) if lab[0] == "domain" and lab[1] >= m), len(labels))
        later_knot = any(st % 2 for states in pattern[1:] for st in states)
        farr, targets, numbers = array("q"), [], list(w) + J.entries() + c.entries()
        for rows, point, nb in facets:
            kept = tuple(k for k in rows if k < keep)
            if not kept:
                raise AssertionError("a facet of a cell's region lies on the cell's rows alone")
            if nb is not None:
                code = nb
            elif any(labels[k][0] == "domain" for k in kept):
                code = BOUNDARY
            elif len(kept) == len(rows):
                raise AssertionError("a facet inside a cell without a neighbour there")
            elif len(kept) == 1 and not later_knot:
                _, neuron, knot, side = labels[kept[0]]
                states = list(pattern[0])
                states[neuron] = 2 * knot + 2 if side == 1 else 2 * knot
                targets.append(store.key((tuple(states),) + pattern[1:]))
                code = ACROSS
            else:
                code = CLOSURE
            farr.append(len(kept))
            farr.extend(kept)
            farr.append(code)
            numbers += point.entries()
        kept_nonfacets = []
        for rows, mu, lam in nonfacets:
            if any(k >= keep for k, _ in mu):
                raise AssertionError("a redundancy proof uses a row of the cell")
            kept = tuple(k for k in rows if k < keep)
            if kept:
                kept_nonfacets.append((kept, mu, lam))
        narr, nvals = encode_nonfacets(kept_nonfacets)
        out.append((store.key(pattern), pack_rationals(numbers), bounded, farr.tobytes(), tuple(targets),
                    narr.tobytes(), nvals))
    return out, dict(g.diagnostics)


def _merge(net: Network, domain: Domain, found: Sequence[list[tuple[Any, ...]] | None], stats: dict[str, Any],
           cells: int, workers: int, t0: float, complete: bool) -> RegionGraph:
    """One graph of the cells' regions, in the order of their patterns (a `RegionStore`:
    the rows are rebuilt from the pattern when a region is read)."""
    store = RegionStore(Forward.of(net, domain))
    n, out_dim = net.input_dim, net.chain.affines[-1].out_dim
    entries = sorted(((store.decode(rec[0]), c, k, rec) for c, records in enumerate(found) if records
                      for k, rec in enumerate(records)), key=lambda e: e[0])
    at = {(c, k): i for i, (_, c, k, _) in enumerate(entries)}
    index = {rec[0]: i for i, (_, _, _, rec) in enumerate(entries)}
    rows_of: dict[int, Any] = {}  # entry -> its rows, for `_closure`, each built once
    decoded = []  # per region: witness, J, c, facets [(rows, point, neighbour)], non-facets encoded
    for i, (pattern, c, _, rec) in enumerate(entries):
        _, packed, _, farr_bytes, targets, narr_bytes, nvals = rec
        nums = unpack_rationals(packed, fmpq)
        farr = array("q")
        farr.frombytes(farr_bytes)
        facets, k, pos, across = [], 0, n + out_dim * n + out_dim, iter(targets)
        while k < len(farr):
            size = farr[k]
            rows, code = tuple(farr[k + 1 : k + 1 + size]), farr[k + 1 + size]
            point = nums[pos : pos + n]
            if code >= 0:
                nb = at[(c, code)]
            elif code == BOUNDARY:
                nb = None
            else:
                nb = index.get(next(across)) if code == ACROSS else None
                if nb is None:
                    nb = _closure(store, entries, c, point, rows_of)
            facets.append((rows, point, nb))
            k += size + 2
            pos += n
        narr = array("q")
        narr.frombytes(narr_bytes)
        J = fmpq_mat(out_dim, n, nums[n : n + out_dim * n])
        offset = fmpq_mat(out_dim, 1, nums[n + out_dim * n : n + out_dim * n + out_dim])
        decoded.append((pattern, nums[:n], J, offset, rec[2], facets, (narr, nvals)))
    shared: dict[tuple[int, int], fmpq_mat] = {}  # a facet's point: the lower region's
    for i, (_, _, _, _, _, facets, _) in enumerate(decoded):
        for _, point, j in facets:
            if j is not None and (min(i, j), max(i, j)) not in shared:
                shared[(min(i, j), max(i, j))] = fmpq_mat(n, 1, point)
    for i, (pattern, w, J, offset, bounded, facets, encoded) in enumerate(decoded):
        store.append(pattern, w, J, offset, bounded,
                     [(rows, fmpq_mat(n, 1, point) if j is None else shared[(min(i, j), max(i, j))], j)
                      for rows, point, j in facets], (), encoded)
    for (i, j), point in shared.items():
        store.add_edge(i, j, point)
    out = dict(stats)
    out.update({"seconds": time.monotonic() - t0, "regions": len(store), "cells": cells,
                "cells_done": sum(f is not None for f in found), "workers": workers})
    return RegionGraph(net, domain, store, complete, out)


def _closure(store: RegionStore, entries: Sequence[tuple[Any, ...]], cell: int, point: Sequence[fmpq],
             rows_of: dict[int, Any]) -> int | None:
    """The region of another cell whose closure holds ``point`` (a facet's point on the
    cell's boundary where the neuron's flip does not name the region across: several rows,
    or a neuron of a later layer at a knot); None: in a cell not finished. ``rows_of``
    keeps the regions' rows between calls."""
    x = fmpq_mat(len(point), 1, list(point))
    for j, (pattern, c, _, _) in enumerate(entries):
        if c != cell:
            if j not in rows_of:
                rows_of[j] = store.forward.rows_of(pattern)
            rows = rows_of[j]
            if not rows.A or all(v <= bk for v, bk in zip((rows.M * x).entries(), rows.b)):
                return j
    return None


def _add(total: dict[str, Any], stats: dict[str, Any]) -> None:
    for k, v in stats.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in ("seconds", "regions"):
            total[k] = total.get(k, 0) + v
