"""``exactrelu lipschitz CASE --norm {1,2,inf}``: the exact Lipschitz constant over the case's domain."""

from __future__ import annotations

import argparse

from ...core.errors import LimitReached
from ...core.norms import parse_norm
from ...lipschitz import LipschitzResult, lipschitz
from ..distributed_options import add_options, engine
from . import Outcome, load

NAME = "lipschitz"
HELP = "the exact Lipschitz constant (ℓ1, ℓ2, ℓ∞) over the case's domain, with a witness point"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="case file or network file")
    p.add_argument("--norm", default="inf", help="1, 2 or inf (default inf)")
    p.add_argument("--max-nodes", type=int, default=None, help="stop after this many search nodes (exit 3)")
    p.add_argument("--time-limit", type=float, default=None, metavar="S", help="stop after S seconds (exit 3)")
    p.add_argument("--no-prune", action="store_true", help="visit every region (no branch-and-bound pruning)")
    add_options(p)


def _text(res: LipschitzResult, name: str) -> str:
    doc = res.to_json()
    label = {"1": "ℓ1", "2": "ℓ2", "inf": "ℓ∞"}[res.norm]
    lines = [f"{name}: L ({label}) = {doc['value']}  ≈ {doc['value_float']}  [{res.value.label}]"]
    if "interval" in doc:
        lines.append(f"  interval: [{doc['interval'][0]}, {doc['interval'][1]}]")
    if res.witness is not None:
        lines.append(f"  witness x = ({', '.join(doc['witness'])}), Jacobian there: {doc['jacobian']}")
    d = res.diagnostics
    lines.append(
        f"  search: {d['nodes']} nodes, {d['pruned']} pruned, {d['infeasible']} empty, "
        f"{d['leaves']} regions reached, {d['lps']} LPs, {d['time_s']} s"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> Outcome:
    case = load(args.case)
    norm = parse_norm(args.norm)
    name = case.network.name or args.case
    try:
        res = engine(args, lipschitz, "lipschitz")(
            case.network, norm, case.domain, max_nodes=args.max_nodes, time_limit=args.time_limit, prune=not args.no_prune
        )
    except LimitReached as e:
        partial = e.partial
        if isinstance(partial, LipschitzResult):
            raise LimitReached(str(e), partial=Outcome(partial.to_json(), _text(partial, name), 3)) from None
        raise
    return Outcome(res.to_json(), _text(res, name))
