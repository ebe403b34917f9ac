"""The exact Lipschitz constant with the branch and bound's subtrees as tasks.

The top of the pattern search is expanded here until there are enough open nodes
(`exactrelu.lipschitz.split_search`, at least ``subtrees``, by default 32 per worker);
each becomes a task, a pure function of (network, norm, domain, the subtree's path, a
lower bound on L known when it starts) that searches its subtree
(`exactrelu.lipschitz.search_subtree`). The best value found so far is shared with the
running tasks through a `Board` (a Dask ``Variable``), read every quarter second, and
prunes there strictly; a task prunes with its own best value as the search always does.
The answer does not depend on the split, the number of workers or the timing: a tie
between regions of the largest norm goes to the first in the search's depth-first order,
the order `lipschitz` itself keeps, so that L, the witness, the pattern and the Jacobian
are those of the single-process search, field for field (only ``diagnostics`` differ).

>>> from exactrelu.constructions import sawtooth_network
>>> from exactrelu.core.domain import Domain
>>> from exactrelu.lipschitz import lipschitz as single
>>> net, dom = sawtooth_network(3), Domain.from_box([["0", "1"]])
>>> split = lipschitz(net, "inf", dom, subtrees=6)        # in-process, in six parts
>>> (split.exact, split.witness, split.pattern) == (lambda r: (r.exact, r.witness, r.pattern))(single(net, "inf", dom))
True
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any, Callable

from ..core.domain import Domain
from ..core.errors import InputError, LimitReached
from ..core.network import Network
from ..core.norms import parse_norm
from ..lipschitz import (
    LipschitzResult,
    SubtreeResult,
    best_of,
    exact_result,
    lipschitz as single_process,
    partial_result,
    search_subtree,
    split_search,
)
from .executor import Runner, open_executor, portable

SUBTREES_PER_WORKER = 32  # 8, 32, 128 on 5-14-14-2 (docs/benchmarks.md): 1.57×, 1.72×, 1.57× from 1 to 2 workers


def lipschitz(
    net: Network,
    norm: str = "inf",
    domain: Domain | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    subtrees: int | None = None,
    prune: bool = True,
    max_nodes: int | None = None,
    time_limit: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_cluster: Callable[[Runner], None] | None = None,
) -> LipschitzResult:
    """`exactrelu.lipschitz.lipschitz` on ``workers`` processes of an embedded Dask cluster,
    on the cluster at ``scheduler``, or through ``client`` (in-process when none is given:
    in ``subtrees`` parts when that is given, else the single search).

    ``max_nodes`` bounds each subtree's search; ``time_limit`` the whole run: either raises
    `LimitReached` whose ``partial`` is the merged `LipschitzResult` with L's certified
    bracket (the best value found, the largest bound of a part not finished).
    ``progress(done, total)``: after each task; ``on_cluster(runner)``: once the cluster is
    there (its ``dashboard`` link).
    """
    norm = parse_norm(norm)
    domain = domain if domain is not None else Domain.whole(net.input_dim)
    if domain.dim != net.input_dim:
        raise InputError(f"expected a domain of dimension {net.input_dim}, got {domain.dim}", path="domain")
    if subtrees is not None and (isinstance(subtrees, bool) or not isinstance(subtrees, int) or subtrees < 1):
        raise InputError(f"expected a positive number of subtrees, got {subtrees!r}", path="subtrees")
    t0 = time.monotonic()
    deadline = None if time_limit is None else t0 + time_limit
    with open_executor(workers, scheduler, client) as run:
        if run.client is None and subtrees is None:
            return single_process(net, norm, domain, max_nodes=max_nodes, time_limit=time_limit, prune=prune)
        if on_cluster is not None and run.client is not None:
            on_cluster(run)
        parts, first = split_search(net, norm, domain, subtrees or SUBTREES_PER_WORKER * run.workers, prune=prune,
                                    time_limit=time_limit)
        board = run.board(_text(first.lower))
        items = [(portable(net), norm, domain, part, board, prune, max_nodes) for part in parts]
        results: list[SubtreeResult | None] = [None] * len(parts)
        best = first.lower
        try:
            for i, res in run.results(_search_part, items, deadline=deadline,
                                      on_done=None if progress is None else lambda k: progress(k, len(parts))):
                results[i] = res
                if res.lower is not None and (best is None or res.lower > best):
                    best = res.lower
                    board.post(_text(best))
        except LimitReached as e:
            raise LimitReached(str(e), partial=_partial(norm, parts, results, e.partial, first, t0)) from None
        finally:
            board.close()
    done = [r for r in results if r is not None]
    winner = done[best_of(done)]  # type: ignore[index]
    return exact_result(norm, SubtreeResult(winner.value, winner.lower, winner.witness, winner.pattern, winner.jacobian,
                                            _diagnostics(done, len(parts), run.workers, t0)))


def _search_part(item: tuple[Any, ...]) -> SubtreeResult:
    """One task: the best region of one subtree (run on a worker)."""
    net, norm, domain, part, board, prune, max_nodes = item
    return search_subtree(net, norm, domain, part, outside=_number(board.get()), refresh=lambda: _number(board.get()),
                          prune=prune, max_nodes=max_nodes)


def _text(q: Fraction | None) -> str | None:
    return None if q is None else f"{q.numerator}/{q.denominator}"


def _number(text: str | None) -> Fraction | None:
    return None if text is None else Fraction(text)


def _diagnostics(done: list[SubtreeResult], parts: int, workers: int, t0: float) -> dict[str, Any]:
    total: dict[str, Any] = dict.fromkeys(("nodes", "pruned", "infeasible", "leaves", "lps", "exact_lps"), 0)
    for r in done:
        for k, v in r.diagnostics.items():
            if k != "time_s":
                total[k] = total.get(k, 0) + v
    total.update({"subtrees": parts, "subtrees_done": len(done), "workers": workers,
                  "task_s": [r.diagnostics.get("time_s", 0.0) for r in done], "time_s": round(time.monotonic() - t0, 6)})
    return total


def _partial(norm: str, parts: list[Any], results: list[SubtreeResult | None], stopped: Any, first: SubtreeResult,
             t0: float) -> LipschitzResult:
    """The merged result at a limit: the best of the finished parts (and of the part that
    stopped, and the first region), bracketed above by the bounds of the parts not finished."""
    done = [r for r in results if r is not None]
    candidates = [first] + done  # the first region of the order comes first
    uppers = [p.bound for p, r in zip(parts, results) if r is None]
    if isinstance(stopped, LipschitzResult):  # a part stopped at its node limit: its own bracket
        candidates.append(SubtreeResult(stopped.exact, stopped.value.interval[0] if stopped.value.interval else
                                        stopped.value.value, stopped.witness, stopped.pattern, stopped.jacobian))
        uppers.append(stopped.value.interval[1] if stopped.value.interval else None)
    top = candidates[best_of(candidates) or 0]
    best = SubtreeResult(top.value, top.lower, top.witness, top.pattern, top.jacobian,
                         _diagnostics(done, len(parts), 0, t0))
    return partial_result(norm, best, uppers)
