"""``exactrelu range CASE [--objective E]``: the exact max and min of a linear function of the
outputs over the case's (bounded) domain, with rational points attaining them (SPEC §5)."""

from __future__ import annotations

import argparse
from fractions import Fraction

from ...core.errors import InputError, LimitReached
from ...core.numbers import format_number
from ...properties.range import RangeResult, output_range, parse_objective
from ..distributed_options import add_options, engine
from . import Outcome, load, nonnegative_int, positive_float

NAME = "range"
HELP = "the exact max and min of a linear function of the outputs over the domain, with argmax/argmin"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="case file or network file (its domain must be bounded)")
    p.add_argument("--objective", metavar="E", help="a linear expression in y0, y1, … (default: each output)")
    p.add_argument("--time-limit", type=positive_float, metavar="SECONDS", help="stop after this long (exit 3)")
    p.add_argument("--max-nodes", type=nonnegative_int, metavar="N", help="stop after N search nodes per round (exit 3)")
    add_options(p)


def _line(name: str, r: RangeResult) -> str:
    return (
        f"{name}: max = {format_number(r.max)} (≈ {float(r.max):.12g}) at x = ({', '.join(map(format_number, r.argmax))})\n"
        f"{' ' * len(name)}  min = {format_number(r.min)} (≈ {float(r.min):.12g}) at x = ({', '.join(map(format_number, r.argmin))})"
    )


def run(args: argparse.Namespace) -> Outcome:
    case = load(args.case)
    net = case.network
    k = net.output_dim
    if args.objective is not None:
        objectives = [(args.objective, *parse_objective(args.objective, k))]
    else:
        objectives = [(f"y{i}", tuple(Fraction(int(i == j)) for j in range(k)), Fraction(0)) for i in range(k)]
    results = []
    for name, c, d in objectives:
        try:
            results.append((name, engine(args, output_range, "range")(net, case.domain, c, d, time_limit=args.time_limit, max_nodes=args.max_nodes)))
        except LimitReached as e:
            doc = {"objectives": [n for n, _ in results], "done": [r.to_json() for _, r in results]}
            raise LimitReached(f"{e} (objective {name})", partial=Outcome(doc, "\n".join(_line(n, r) for n, r in results), 3)) from None
        except InputError as e:
            raise e.at(file=args.case) if not e.file else e
    if args.objective is not None:
        doc = results[0][1].to_json()
        doc["objective"] = args.objective
    else:
        docs = [r.to_json() for _, r in results]
        doc = {key: [d[key] for d in docs] for key in ("max", "max_float", "min", "min_float", "argmax", "argmin")}
        doc["guarantee"] = "exact"
        doc["objectives"] = [n for n, _ in results]
    doc["diagnostics"] = {"nodes": sum(r.diagnostics["nodes"] for _, r in results), "time_s": round(sum(r.diagnostics["time_s"] for _, r in results), 4)}
    return Outcome(doc, "\n".join(_line(n, r) for n, r in results) + "\n  [exact]")
