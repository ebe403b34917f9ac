"""``exactrelu smooth CASE --at X --sigma S [--samples N]``: the Gaussian-smoothed network
``E[f(x + S·Z)]``, its gradient ``E[J(x + S·Z)]``, optionally its parameter gradient, and the
probabilities of the activation regions (SPEC §6). Certified (arb enclosures) for 1 or 2
inputs, a Monte Carlo estimate with a confidence interval beyond.

``value_interval`` is the pair ``[lo, hi]`` for a network with one output and a list of such
pairs (one per output) otherwise; ``gradient_interval[k][j]`` is always a pair."""

from __future__ import annotations

import argparse
from typing import Any

from ...core.numbers import parse_point
from ...core.report import exact
from ...smoothing import METHODS, Smoothed, decimal_interval, smoothed
from . import Outcome, load, positive_int

NAME = "smooth"
HELP = "E[f(x + σZ)] and E[J(x + σZ)] under Gaussian input noise (certified in 1-D and 2-D, Monte Carlo beyond)"
SHOWN_REGIONS = 10


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="case file or network file")
    p.add_argument("--at", required=True, metavar="X", help='the point, comma-separated: "1/3,-2"')
    p.add_argument("--sigma", required=True, metavar="S", help="the noise's standard deviation (a number, > 0)")
    p.add_argument("--samples", type=positive_int, default=100_000, metavar="N",
                   help="Monte Carlo draws (used beyond 2 inputs, or with --method monte-carlo; default 100000)")
    p.add_argument("--method", choices=METHODS, default="auto",
                   help="auto: certified for 1 or 2 inputs, Monte Carlo beyond (default)")
    p.add_argument("--precision", type=int, default=128, metavar="BITS", help="arb working precision (default 128)")
    p.add_argument("--confidence", type=float, default=0.99, help="Monte Carlo confidence level (default 0.99)")
    p.add_argument("--seed", type=int, default=0, help="Monte Carlo seed (default 0)")
    p.add_argument("--digits", type=int, default=20, help="significant digits of the printed interval ends (default 20)")
    p.add_argument("--parameters", action="store_true", help="also the gradient with respect to every weight and bias")


def run(args: argparse.Namespace) -> Outcome:
    case = load(args.case)
    net = case.network
    x = parse_point(args.at, net.input_dim)
    sigma = parse_point(args.sigma, 1, "--sigma")[0]
    res = smoothed(net, x, sigma, method=args.method, prec=args.precision, samples=args.samples, seed=args.seed,
                   confidence=args.confidence, parameters=args.parameters)
    return Outcome(document(res, args.digits), text(res, args.digits))


def _pair(q: Any, digits: int) -> list[str]:
    return list(decimal_interval(q.interval, digits))


def _nested(v: Any, digits: int) -> Any:
    return [_nested(w, digits) for w in v] if isinstance(v, tuple) else _pair(v, digits)


def document(res: Smoothed, digits: int = 20) -> dict[str, Any]:
    """The JSON document of a `Smoothed` result (SPEC §6)."""
    single = len(res.value) == 1
    values = [_pair(q, digits) for q in res.value]
    doc: dict[str, Any] = {
        "point": exact(res.point),
        "sigma": exact(res.sigma),
        "value_interval": values[0] if single else values,
        "value_float": float(res.value[0].value) if single else [float(q.value) for q in res.value],
        "gradient_interval": _nested(res.gradient, digits),
        "gradient_float": [[float(q.value) for q in row] for row in res.gradient],
        "guarantee": res.guarantee,
    }
    if res.confidence is not None:
        doc["confidence"] = res.confidence
        doc["samples"] = res.diagnostics["samples"]
    if res.parameter_gradient is not None:
        doc["parameter_gradient_interval"] = {
            "weight": _nested(res.parameter_gradient.weight, digits),
            "bias": _nested(res.parameter_gradient.bias, digits),
        }
    elif "parameter_gradient" in res.diagnostics:
        doc["parameter_gradient_undefined"] = res.diagnostics["parameter_gradient"]
    doc["region_count"] = len(res.regions)
    doc["regions"] = [{"pattern": [list(layer) for layer in r.pattern],
                       "probability_interval": _pair(r.probability, digits),
                       "probability_float": float(r.probability.value)} for r in res.regions]
    doc["diagnostics"] = res.diagnostics
    return doc


def text(res: Smoothed, digits: int = 20) -> str:
    how = (f"certified enclosures ({res.diagnostics['method']})" if res.guarantee == "certified" else
           f"Monte Carlo estimate, {res.diagnostics['samples']} samples, {res.confidence} confidence intervals")
    point = ", ".join(exact(res.point))
    lines = [f"Gaussian smoothing at x = ({point}), σ = {exact(res.sigma)}: {how}"]
    for k, q in enumerate(res.value):
        lo, hi = decimal_interval(q.interval, digits)
        lines.append(f"E[f_{k}(x + σZ)] ∈ [{lo}, {hi}]")
    for k, row in enumerate(res.gradient):
        for j, q in enumerate(row):
            lo, hi = decimal_interval(q.interval, digits)
            lines.append(f"E[∂f_{k}/∂x_{j}] ∈ [{lo}, {hi}]")
    if res.parameter_gradient is not None:
        for l, layer in enumerate(res.parameter_gradient.bias):
            for k, row in enumerate(layer):
                for i, q in enumerate(row):
                    lo, hi = decimal_interval(q.interval, digits)
                    lines.append(f"E[∂f_{k}/∂b{l}[{i}]] ∈ [{lo}, {hi}]")
        lines.append("(weights: see --json)")
    elif "parameter_gradient" in res.diagnostics:
        lines.append(f"parameter gradient: undefined ({res.diagnostics['parameter_gradient']})")
    lines.append(f"{len(res.regions)} activation region(s) of positive probability; the most probable:")
    for r in res.regions[:SHOWN_REGIONS]:
        lo, hi = decimal_interval(r.probability.interval, 8)
        lines.append(f"  P = [{lo}, {hi}]  pattern {[list(layer) for layer in r.pattern]}")
    return "\n".join(lines)
