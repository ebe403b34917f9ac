"""``exactrelu jacobian CASE --at X [--convention C] [--direction D]``: the network derivative
DΦ_c at a point, whether f is differentiable there, its Clarke Jacobian (generators) and
whether DΦ_c lies in it; optionally the one-sided directional derivative f'(x; d). Exact."""

from __future__ import annotations

import argparse
from typing import Any

from . import Outcome, load

NAME = "jacobian"
HELP = "DΦ_c at a point under a chain-rule convention, differentiability and the Clarke Jacobian (exact)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="case file or network file")
    p.add_argument("--at", required=True, metavar="X", help='the point, comma-separated: "1/3,-2" (or --at=-1/2,0)')
    p.add_argument(
        "--convention",
        default="0",
        metavar="C",
        help="value at kinks: a number c (left slope·(1-c) + right slope·c), "
        "torch | jax | tensorflow, or 'c' for a symbolic c (default 0)",
    )
    p.add_argument("--direction", metavar="D", help="also print the one-sided directional derivative f'(x; D)")


def c_set_text(intervals: Any) -> str:
    """The set of c as people write it: ``c = 0 or c = 1``, ``0 ≤ c ≤ 1``, ``every real c``.

    >>> import sympy
    >>> c_set_text([(sympy.Integer(0), sympy.Integer(0)), (sympy.Integer(1), sympy.oo)])
    'c = 0 or c ≥ 1'
    """
    parts = []
    for lo, hi in intervals:
        lo_inf, hi_inf = bool(lo.is_infinite), bool(hi.is_infinite)
        if lo_inf and hi_inf:
            parts.append("every real c")
        elif lo_inf:
            parts.append(f"c ≤ {hi}")
        elif hi_inf:
            parts.append(f"c ≥ {lo}")
        elif lo == hi:
            parts.append(f"c = {lo}")
        else:
            parts.append(f"{lo} ≤ c ≤ {hi}")
    return " or ".join(parts) if parts else "no real c"


def run(args: argparse.Namespace) -> Outcome:
    from ...calculus import derivative
    from ...clarke import derivative_in_clarke, directional_derivative
    from ...core.numbers import parse_point
    from ...core.report import as_float, exact, matrix_text, point_text

    case = load(args.case)
    net = case.network
    x = parse_point(args.at, net.input_dim)
    d = derivative(net, x, args.convention)
    check = derivative_in_clarke(net, x, args.convention)
    clarke = check.clarke
    doc = {
        "point": exact(d.point),
        "convention": d.convention,
        "jacobian": exact(d.matrix),
        "jacobian_float": as_float(d.matrix),
        "on_kink": d.on_kink,
        "kinks": [{"layer": l, "neuron": i, "knot": k} for l, i, k in d.knots],
        "differentiable": clarke.differentiable,
        "clarke": exact(clarke.generators),
        "clarke_float": as_float(clarke.generators),
        "in_clarke": check.inside,
        "guarantee": "exact",
    }
    if check.c_intervals is not None:
        doc["in_clarke_for"] = [[str(a), str(b)] for a, b in check.c_intervals]
    lines = []
    where = f"{len(d.knots)} neuron(s) exactly on a knot" if d.on_kink else "no neuron on a knot"
    lines.append(f"DΦ_c at x = {point_text(d.point)}, convention {d.convention} ({where}):")
    lines.append(matrix_text(d.matrix))
    lines.append(f"differentiable at x: {'yes' if clarke.differentiable else 'no'}")
    lines.append(f"Clarke Jacobian: convex hull of {len(clarke.generators)} generator(s):")
    lines.extend(matrix_text(g) + "\n" for g in clarke.generators)
    if check.c_intervals is not None:
        lines.append(f"DΦ_c lies in the Clarke Jacobian for {c_set_text(check.c_intervals)}")
    else:
        lines.append(f"DΦ_c lies in the Clarke Jacobian: {'yes' if check.inside else 'no'}")
    if args.direction is not None:
        direction = parse_point(args.direction, net.input_dim, "--direction")
        value = directional_derivative(net, x, direction)
        doc["direction"] = exact(direction)
        doc["directional_derivative"] = exact(value)
        doc["directional_derivative_float"] = as_float(value)
        lines.append(f"f'(x; {point_text(direction)}) = {point_text(value)}")
    return Outcome(doc, "\n".join(line.rstrip("\n") for line in lines))
