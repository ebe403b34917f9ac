"""``prove`` and ``range`` with the input box cut into cells, one task per cell.

Each input set's box is bisected ``⌈log₂ cells⌉`` times, at every level across its widest
input (the first on ties), into cells in a fixed order (`split_box`). A task is a pure
function of (network, property or objective, cell):

- ``prove``: the property search on the cell (`exactrelu.properties.search.search`, the
  search `prove` runs on the whole box, with the same input atoms). The property is
  **violated** when a cell has a counterexample: the one of the first such cell in the
  order (the cells before it are waited for, the ones after cancelled), so that it does
  not depend on timing. It **holds** when every cell closes, and the certificate composes:
  the input splits that make the cells, then each cell's own tree below its leaf — a plain
  ``exactrelu-property-certificate/1`` that `exactrelu check` re-verifies unchanged (the
  splits are the cover of the box by the cells).
- ``range``: `exactrelu.properties.range.output_range` on the domain cut to the cell; the
  maximum is the largest cell maximum, attained at the argmax of the first cell that
  attains it (the minimum likewise).

The cells depend on ``cells``, never on the workers: the JSON is the same in-process and on
any number of workers, byte for byte (but for diagnostics). It may differ from the
single-process `prove` / `output_range` in which counterexample, argmax or certificate is
given (all exact), never in the answer or the values.

>>> from exactrelu.core.network import Network, affine, activation
>>> from exactrelu.properties.vnnlib import parse_vnnlib
>>> net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])
>>> text = "(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= -1 X_0 2))(assert (>= Y_0 {}))"
>>> prove(net, parse_vnnlib(text.format("2.5")), cells=4).value
'holds'
>>> r = prove(net, parse_vnnlib(text.format("1.5")), cells=4)   # |x| >= 3/2 in the last cell only
>>> r.value, r.counterexample.x[0] >= Fraction(3, 2)
('violated', True)
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any, Callable, Sequence

from ..core.domain import Domain
from ..core.errors import InputError, LimitReached
from ..core.network import Network
from ..core.numbers import format_number
from ..properties.formula import Atom, Group, Property
from ..properties.propagation import Model
from ..properties.prove import (
    Counterexample,
    ProveResult,
    check_dimensions,
    empty_group,
    holds_certificate,
    input_set,
)
from ..properties.range import RangeResult
from ..properties.range import _maximum as maximum
from ..properties.replay import replay
from ..properties.search import Options, SearchLimit, search
from .executor import Runner, open_executor, portable

CELLS = 16
Box = tuple[tuple[Fraction, Fraction], ...]


def split_box(box: Box, cells: int) -> tuple[list[Box], Callable[[list[Any]], dict[str, Any]]]:
    """The box bisected into at least ``cells`` cells (fewer when it is flat), in order;
    and a function that, given one tree per cell, builds the split tree above them.

    >>> parts, tree = split_box(((Fraction(0), Fraction(1)), (Fraction(0), Fraction(2))), 4)
    >>> [[(str(lo), str(hi)) for lo, hi in c] for c in parts][:2]
    [[('0', '1/2'), ('0', '1')], [('1/2', '1'), ('0', '1')]]
    >>> tree(["a", "b", "c", "d"])["split"], tree(["a", "b", "c", "d"])["children"][0]["split"]
    ({'input': 1, 'at': '1'}, {'input': 0, 'at': '1/2'})
    """
    dims: list[int] = []
    widths = [hi - lo for lo, hi in box]
    while 2 ** len(dims) < cells and any(w > 0 for w in widths):
        d = max(range(len(widths)), key=lambda i: (widths[i], -i))
        dims.append(d)
        widths[d] /= 2

    def cut(b: Box, level: int) -> list[Box]:
        if level == len(dims):
            return [b]
        d = dims[level]
        lo, hi = b[d]
        mid = (lo + hi) / 2
        left = tuple((lo, mid) if i == d else r for i, r in enumerate(b))
        right = tuple((mid, hi) if i == d else r for i, r in enumerate(b))
        return cut(left, level + 1) + cut(right, level + 1)

    def tree(leaves: list[Any]) -> dict[str, Any]:
        it = iter(leaves)

        def node(b: Box, level: int) -> Any:
            if level == len(dims):
                return next(it)
            d = dims[level]
            lo, hi = b[d]
            mid = (lo + hi) / 2
            left = tuple((lo, mid) if i == d else r for i, r in enumerate(b))
            right = tuple((mid, hi) if i == d else r for i, r in enumerate(b))
            return {"proofs": [], "split": {"input": d, "at": format_number(mid)},
                    "children": [node(left, level + 1), node(right, level + 1)]}

        return node(box, 0)

    return cut(tuple(box), 0), tree


def prove(
    net: Network,
    prop: Property,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    cells: int = CELLS,
    time_limit: float | None = None,
    max_nodes: int | None = None,
    options: Options | None = None,
    onnx_path: str | None = None,
    certificate: bool = False,
    progress: Callable[[int, int], None] | None = None,
    on_cluster: Callable[[Runner], None] | None = None,
) -> ProveResult:
    """`exactrelu.properties.prove.prove` with each input set cut into ``cells`` cells
    (module docstring), on ``workers`` processes of an embedded Dask cluster, the cluster at
    ``scheduler``, through ``client``, or in-process. ``max_nodes`` bounds each cell's
    search; a limit raises `LimitReached` whose ``partial`` is the unknown result with the
    settled fraction of the cells finished."""
    check_dimensions(net, prop)
    _positive(cells, "cells")
    t0 = time.monotonic()
    wall_deadline = None if time_limit is None else time.time() + time_limit
    opts = options or Options()
    sets = [input_set(g, net.input_dim, prop.source) for g in prop.groups]
    if all(s is None for s in sets):
        raise InputError("the input set is empty (no input satisfies the input constraints)", file=prop.source)
    tasks, trees = [], []
    for gi, (g, s) in enumerate(zip(prop.groups, sets)):
        if s is None:
            continue
        parts, tree = split_box(s.box, cells)
        trees.append((gi, len(tasks), len(parts), tree))
        tasks += [(gi, c) for c in parts]
    items = [(portable(net), prop.groups[gi].conjunctions, prop.groups[gi].input_atoms, c, opts, max_nodes,
              wall_deadline) for gi, c in tasks]
    outs: list[Any] = [None] * len(items)
    total_vol = sum((_vol(s.box) for s in sets if s is not None), Fraction(0))
    diag: dict[str, Any] = {}
    with open_executor(workers, scheduler, client) as run:
        if on_cluster is not None and run.client is not None:
            on_cluster(run)
        deadline = None if time_limit is None else t0 + time_limit
        first_cex: int | None = None
        results = run.results(_search_cell, items, deadline=deadline,
                              on_done=None if progress is None else lambda k: progress(k, len(items)))
        try:
            for i, out in results:
                outs[i] = out
                _add(diag, out["stats"])
                if out["status"] == "limit":
                    raise LimitReached(out["message"])
                if out["status"] == "violated" and (first_cex is None or i < first_cex):
                    first_cex = i
                if first_cex is not None and all(o is not None for o in outs[:first_cex]):
                    break  # the first cell with a counterexample, and none before it
        except LimitReached as e:
            settled = sum((_vol(c) * (1 if o["status"] == "holds" else o["settled"])
                           for (_, c), o in zip(tasks, outs) if o is not None), Fraction(0))
            partial = ProveResult("unknown", "exact", settled=settled / total_vol if total_vol else Fraction(0),
                                  diagnostics=_diagnostics(diag, outs, run.workers, t0))
            raise LimitReached(str(e), partial=partial) from None
        finally:
            results.close()  # cancels the cells after the first counterexample
    diagnostics = _diagnostics(diag, outs, run.workers, t0)
    if first_cex is not None:
        gi = tasks[first_cex][0]
        x, y, k = outs[first_cex]["counterexample"]
        cex = Counterexample(x, y, prop.groups[gi].indices[k])
        return ProveResult("violated", "exact", cex, replay(net, prop, x, onnx_path), Fraction(1), diagnostics=diagnostics)
    cert = None
    if certificate:
        groups = []
        built = {gi: (start, count, tree) for gi, start, count, tree in trees}
        for gi, (g, s) in enumerate(zip(prop.groups, sets)):
            if s is None:
                groups.append(empty_group(g, net.input_dim))
                continue
            start, count, tree = built[gi]
            groups.append({
                "disjuncts": list(g.indices),
                "box": [[format_number(lo), format_number(hi)] for lo, hi in s.box],
                "box_proofs": [list(p) for p in s.box_proofs],
                "tree": tree([o["tree"] for o in outs[start:start + count]]),
            })
        cert = holds_certificate(net, prop, groups)
    return ProveResult("holds", "exact", settled=Fraction(1), certificate=cert, diagnostics=diagnostics)


def _search_cell(item: tuple[Any, ...]) -> dict[str, Any]:
    """One task: the property search on one cell (run on a worker)."""
    net, conjunctions, atoms, cell, opts, max_nodes, wall_deadline = item
    left = None if wall_deadline is None else max(0.0, wall_deadline - time.time())
    cell_opts = Options(**{**opts.__dict__, "time_limit": left, "max_nodes": max_nodes})
    try:
        out = search(Model.of(net), cell, atoms, conjunctions, cell_opts)
    except SearchLimit as e:
        return {"status": "limit", "message": str(e), "settled": e.settled, "stats": _stats(e.stats)}
    status = "holds" if out.counterexample is None else "violated"
    return {"status": status, "counterexample": out.counterexample, "tree": out.tree if status == "holds" else None,
            "settled": out.settled, "stats": _stats(out.stats)}


def output_range(
    net: Network,
    domain: Domain,
    objective: Sequence[Fraction],
    constant: Fraction = Fraction(0),
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    cells: int = CELLS,
    time_limit: float | None = None,
    max_nodes: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_cluster: Callable[[Runner], None] | None = None,
) -> RangeResult:
    """`exactrelu.properties.range.output_range` cell by cell (module docstring): one task
    per cell and side (maximum, minimum). The best value found so far is shared with the
    running tasks (`Board`); a cell that cannot reach it (one search, ``>=``, so that a tie
    is still found) is skipped. A limit raises `LimitReached` whose ``partial`` is the range
    over the cells finished (``max`` a lower bound on the maximum, ``min`` an upper bound on
    the minimum), or None."""
    n = net.input_dim
    if len(objective) != net.output_dim:
        raise InputError(f"expected {net.output_dim} objective coefficients, got {len(objective)}", path="--objective")
    if domain.is_whole:
        raise InputError("range needs a bounded domain (a box or a bounded polyhedron); the case has none", path="domain")
    _positive(cells, "cells")
    t0 = time.monotonic()
    wall_deadline = None if time_limit is None else time.time() + time_limit
    atoms = tuple(Atom(tuple(row), (), -b) for row, b in zip(domain.A, domain.b))
    s = input_set(Group(atoms, ((),), (0,)), n)
    if s is None:
        raise InputError("the domain is empty", path="domain")
    parts, _ = split_box(s.box, cells)
    sides = (tuple(objective), tuple(-v for v in objective))
    outs: list[Any] = [None] * (2 * len(parts))
    with open_executor(workers, scheduler, client) as run:
        if on_cluster is not None and run.client is not None:
            on_cluster(run)
        board = run.board()
        net_p = portable(net)
        items = [(net_p, Domain(n, domain.A + _rows(c)[0], domain.b + _rows(c)[1]), sides[side], side, board, max_nodes,
                  wall_deadline) for c in parts for side in (0, 1)]
        best: list[Fraction | None] = [None, None]
        try:
            for i, out in run.results(_range_cell, items, deadline=None if time_limit is None else t0 + time_limit,
                                      on_done=None if progress is None else lambda k: progress(k, len(items))):
                outs[i] = out
                if out[0] == "limit":
                    raise LimitReached(out[1])
                side = i % 2
                if out[0] == "max" and (best[side] is None or out[1] > best[side]):
                    best[side] = out[1]
                    board.post(" ".join("-" if b is None else f"{b.numerator}/{b.denominator}" for b in best))
        except LimitReached as e:
            raise LimitReached(str(e), partial=_merge_range(objective, constant, outs, run.workers, t0, partial=True)) from None
        finally:
            board.close()
    return _merge_range(objective, constant, outs, run.workers, t0, partial=False)  # type: ignore[return-value]


def _range_cell(item: tuple[Any, ...]) -> tuple[Any, ...]:
    """One task: the exact maximum of ``c·f`` on one cell, ``("max", value, x, rounds,
    nodes)``; ``("below",)`` when it cannot reach the value found elsewhere, ``("empty",)``
    when the cell misses the domain, ``("limit", message)`` at a limit."""
    net, cell, c, side, board, max_nodes, wall_deadline = item
    n = net.input_dim
    atoms = tuple(Atom(tuple(row), (), -b) for row, b in zip(cell.A, cell.b))
    s = input_set(Group(atoms, ((),), (0,)), n)
    if s is None:
        return ("empty",)
    left = None if wall_deadline is None else max(0.0, wall_deadline - time.time())
    opts = Options(time_limit=left, max_nodes=max_nodes)
    m = Model.of(net)
    posted = (board.get() or "- -").split()[side]
    try:
        if posted != "-":  # some x with c·f(x) >= the value found elsewhere?
            reach = Atom((Fraction(0),) * n, tuple(-v for v in c), Fraction(posted), False)
            if search(m, s.box, s.atoms, [(reach,)], opts).counterexample is None:
                return ("below",)
        value, x, _, diag = maximum(m, s.box, s.atoms, c, opts, False)
    except SearchLimit as e:
        return ("limit", str(e))
    return ("max", value, x, diag["rounds"], diag["nodes"])


def _merge_range(objective: Sequence[Fraction], constant: Fraction, outs: Sequence[Any], workers: int,
                 t0: float, partial: bool) -> RangeResult | None:
    """The largest maximum (the first cell's point on ties) and the least minimum."""
    ends = []
    for side in (0, 1):
        found = [o for o in outs[side::2] if o is not None and o[0] == "max"]
        if not found:
            return None
        top = found[0]
        for o in found[1:]:
            top = o if o[1] > top[1] else top
        ends.append(top)
    (hi, argmax), (lo_neg, argmin) = (ends[0][1], ends[0][2]), (ends[1][1], ends[1][2])
    done = [o for o in outs if o is not None and o[0] == "max"]
    diag = {"cells": len(outs) // 2, "tasks_done": sum(o is not None for o in outs), "workers": workers,
            "skipped": sum(1 for o in outs if o is not None and o[0] == "below"),
            "rounds": sum(o[3] for o in done), "nodes": sum(o[4] for o in done), "time_s": round(time.monotonic() - t0, 4)}
    guarantee = "partial: the range over the cells finished" if partial else "exact"
    return RangeResult(tuple(objective), constant, hi + constant, argmax, -lo_neg + constant, argmin, guarantee, {}, diag)


def _rows(box: Box) -> tuple[tuple[tuple[Fraction, ...], ...], tuple[Fraction, ...]]:
    """The rows ``x_i <= hi``, ``-x_i <= -lo`` of a box."""
    n = len(box)
    A, b = [], []
    for i, (lo, hi) in enumerate(box):
        e = tuple(Fraction(int(k == i)) for k in range(n))
        A += [e, tuple(-v for v in e)]
        b += [hi, -lo]
    return tuple(A), tuple(b)


def _positive(v: Any, name: str) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise InputError(f"expected a positive number of {name}, got {v!r}", path=name)


def _vol(box: Sequence[tuple[Fraction, Fraction]]) -> Fraction:
    v = Fraction(1)
    for lo, hi in box:
        v *= hi - lo
    return v


def _stats(stats: Any) -> dict[str, Any]:
    return {"nodes": stats.nodes, "leaves": stats.leaves, "lps": stats.lps, "exact_lps": stats.exact_lps,
            "exact_bounds": stats.exact_bounds, "proofs": dict(stats.proofs)}


def _add(total: dict[str, Any], stats: dict[str, Any]) -> None:
    for k, v in stats.items():
        if isinstance(v, dict):
            inner = total.setdefault(k, {})
            for kk, vv in v.items():
                inner[kk] = inner.get(kk, 0) + vv
        else:
            total[k] = total.get(k, 0) + v


def _diagnostics(diag: dict[str, Any], outs: Sequence[Any], workers: int, t0: float) -> dict[str, Any]:
    out = dict(diag)
    out.update({"cells": len(outs), "cells_done": sum(o is not None for o in outs), "workers": workers,
                "time_s": round(time.monotonic() - t0, 4)})
    return out
