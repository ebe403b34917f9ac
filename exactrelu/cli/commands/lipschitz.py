"""``exactrelu lipschitz CASE --norm {1,2,inf}``: the exact Lipschitz constant over the case's domain."""

from __future__ import annotations

import argparse
from typing import Any

from ..distributed_options import add_options, engine
from . import Outcome, load, positive_float, positive_int

NAME = "lipschitz"
HELP = "the exact Lipschitz constant (ℓ1, ℓ2, ℓ∞) over the case's domain, with a witness point"
MAX_NODES = 100_000


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="case file or network file")
    p.add_argument("--norm", default="inf", help="1, 2 or inf (default inf)")
    p.add_argument("--max-nodes", type=positive_int, default=MAX_NODES, metavar="N",
                   help=f"stop after N search nodes (default {MAX_NODES}; exit 3 with L's certified bracket)")
    p.add_argument("--time-limit", type=positive_float, default=None, metavar="S",
                   help="stop after S seconds (exit 3 with L's certified bracket)")
    p.add_argument("--no-prune", action="store_true", help="visit every region (no branch-and-bound pruning)")
    add_options(p)


def text(res: Any, name: str) -> str:
    """The result for people: ``L = …`` for the value, ``L in [lo, hi]`` for a bracket."""
    from ...core.report import matrix_text, point_text, real_text

    label = {"1": "ℓ1", "2": "ℓ2", "inf": "ℓ∞"}[res.norm]
    q = res.value
    if res.exact is not None and q.guarantee == "exact":
        shown = real_text(res.exact)
        head = f"L ({label}) {shown}" if shown.startswith("≈ ") else f"L ({label}) = {shown}"
    elif q.interval is not None:
        lo, hi = q.interval
        head = f"L ({label}) in [{real_text(lo)}, {real_text(hi)}]  (stopped at a limit; exact ends in --json)"
    else:
        head = f"L ({label}) ≤ {real_text(q.value)}"
    lines = [f"{name}: {head}  [{q.label}]"]
    if res.witness is not None:
        lines.append(f"  witness x = {point_text(res.witness)}")
        lines.append("  Jacobian there:")
        lines.append(matrix_text(res.jacobian, indent="    "))
    d = res.diagnostics
    lines.append(
        f"  search: {d['nodes']} nodes, {d['pruned']} pruned, {d['infeasible']} empty, "
        f"{d['leaves']} regions reached, {d['lps']} LPs, {d['time_s']} s"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> Outcome:
    from ...core.errors import LimitReached
    from ...core.norms import parse_norm
    from ...lipschitz import LipschitzResult, lipschitz
    from ..console import progress

    case = load(args.case)
    norm = parse_norm(args.norm)
    name = case.network.name or args.case
    with progress("lipschitz: search nodes") as update:
        try:
            res = engine(args, lipschitz, "lipschitz")(case.network, norm, case.domain, max_nodes=args.max_nodes, time_limit=args.time_limit,
                            prune=not args.no_prune, progress=update)
        except LimitReached as e:
            partial = e.partial
            if isinstance(partial, LipschitzResult):
                raise LimitReached(str(e), partial=Outcome(partial.to_json(), text(partial, name), 3)) from None
            raise
    return Outcome(res.to_json(), text(res, name))
