"""``exactrelu jacobian CASE --at X [--convention C]``: DΦ_c at a point, exactly."""

from __future__ import annotations

import argparse

from ..calculus import derivative
from ..numbers import parse_point
from ..report import as_float, exact, matrix_text
from . import Outcome, load

NAME = "jacobian"
HELP = "the network derivative DΦ_c at a point under a chain-rule convention (exact)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="case file or network file")
    p.add_argument("--at", required=True, metavar="X", help='the point, comma-separated: "1/3,-2"')
    p.add_argument(
        "--convention",
        default="0",
        metavar="C",
        help="value at kinks: a number c (left slope·(1-c) + right slope·c), "
        "torch | jax | tensorflow, or 'c' for a symbolic c (default 0)",
    )


def run(args: argparse.Namespace) -> Outcome:
    case = load(args.case)
    x = parse_point(args.at, case.network.input_dim)
    d = derivative(case.network, x, args.convention)
    doc = {
        "point": exact(d.point),
        "convention": d.convention,
        "jacobian": exact(d.matrix),
        "jacobian_float": as_float(d.matrix),
        "on_kink": d.on_kink,
        "kinks": [{"layer": l, "neuron": i, "knot": k} for l, i, k in d.knots],
        "guarantee": "exact",
    }
    where = f"{len(d.knots)} neuron(s) exactly on a knot" if d.on_kink else "no neuron on a knot"
    text = f"DΦ_c at x = ({', '.join(exact(d.point))}), convention {d.convention} ({where}):\n"
    text += matrix_text(d.matrix)
    return Outcome(doc, text)
