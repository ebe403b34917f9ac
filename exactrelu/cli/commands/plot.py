"""``exactrelu plot CASE -o FILE.png``: a picture of the activation regions.

1 input: the graph of f, shaded by ‖J‖, kinks as dots. 2 inputs: the region map,
coloured by ‖J‖ or by region, kinks as thick lines. More inputs: a 2-D slice through a
point (``--at``, default the domain's centre) along two axes (``--axes``). The largest
‖J‖ is marked with a star; regions, kinks and that maximum are exact.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ...core.errors import InputError, LimitReached
from ...core.numbers import parse_point
from ...core.report import exact, point_text
from ...io.files import check_writable
from ..console import key_values, progress
from . import Outcome, load, positive_float, positive_int

NAME = "plot"
HELP = "draw the activation regions (1-D graph, 2-D map, or a 2-D slice) to a .png/.svg/.pdf file"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="case file or network file")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="picture to write: .png, .svg or .pdf")
    p.add_argument("--color", choices=("norm", "pattern"), default="norm",
                   help="colour regions by the norm of their Jacobian (default) or one colour per region")
    p.add_argument("--norm", choices=("1", "2", "inf"), default="2", help="the operator norm for colours and the star (default 2)")
    p.add_argument("--at", metavar="X", help="for more than 2 inputs: the point the slice passes through (default: the domain's centre)")
    p.add_argument("--axes", default="1,2", metavar="I,J", help="for more than 2 inputs: the two inputs spanning the slice, counted from 1 (default 1,2)")
    p.add_argument("--window", metavar="X0,X1[,Y0,Y1]", help="draw (and enumerate) only this box of the input plane (default: the domain's box, or around all vertices)")
    p.add_argument("--max-regions", type=positive_int, default=5000, metavar="N", help="stop after N regions (default 5000; exit 3)")
    p.add_argument("--time-limit", type=positive_float, metavar="S", help="stop after S seconds (exit 3)")


def _summary_outcome(s, windowed: bool, status: int = 0) -> Outcome:
    from ...core.report import real_text

    doc = {
        "output": s.path,
        "kind": s.kind,
        "activation_regions": s.regions,
        "kinks": s.kinks,
        "complete": s.complete,
        "norm": s.norm,
        "window": [list(w) for w in s.window],
    }
    value = s.max_norm
    from fractions import Fraction

    # the notation of every ℓ2 value (lipschitz, bounds): the exact text, its float, and for
    # ℓ2 its polynomial (when irrational) and a certified interval
    if isinstance(value, Fraction) or value.is_rational:
        q = value if isinstance(value, Fraction) else value.value
        doc["max_norm"], doc["max_norm_float"] = exact(q), float(q)
        if s.norm == "2":
            doc["max_norm_interval"] = [exact(q)] * 2
    else:
        refined = value.refine(Fraction(1, 2**50))
        lo, hi = refined.interval
        doc["max_norm"] = refined.text()
        doc["max_norm_float"] = float(refined)
        doc["max_norm_polynomial"] = list(value.poly)
        doc["max_norm_interval"] = exact([lo, hi])
    doc["max_norm_guarantee"] = "exact" if s.complete else "lower bound"
    doc["max_norm_over"] = ("the slice" if s.kind == "slice" else "the domain") + (" within the window" if windowed else "")
    doc["witness"] = exact(s.witness)
    if s.slice_point is not None:
        doc["slice_point"] = exact(s.slice_point)
        doc["axes"] = [a + 1 for a in s.axes]
    pairs = [
        ("picture", s.path),
        ("kind", {"1d": "graph of a 1-D network", "2d": "regions of a 2-D network", "slice": "2-D slice"}[s.kind]),
        ("activation regions", f"{s.regions}" + ("" if s.complete else " (incomplete: limit reached)")),
        ("kinks drawn", s.kinks),
        (f"max ‖J‖_{s.norm}", f"{real_text(s.max_norm)}  (over {doc['max_norm_over']})"),
        ("at (★)", point_text(s.witness)),
    ]
    if s.slice_point is not None:
        pairs.append(("slice through", point_text(s.slice_point) + f", axes {doc['axes']}"))
    return Outcome(doc, key_values(pairs, indent=""), status)


def run(args: argparse.Namespace) -> Outcome:
    from ..plotting import plot_case

    case = load(args.case)
    n = case.network.input_dim
    check_writable(args.output)
    suffix = Path(args.output).suffix.lower()
    if suffix not in (".png", ".svg", ".pdf"):
        got = f"the suffix {suffix!r}" if suffix else "a name without a suffix"
        raise InputError(f"expected a .png, .svg or .pdf file, got {got}", path="--output", file=args.output)
    at = parse_point(args.at, n) if args.at else None
    axes = tuple(int(a) - 1 for a in parse_point(args.axes, 2, "--axes"))
    window = None
    if args.window:
        vals = list(parse_point(args.window, None, "--window"))
        if len(vals) != 2 * min(n, 2) or any(vals[k] >= vals[k + 1] for k in range(0, len(vals), 2)):
            raise InputError(f"expected {2 * min(n, 2)} numbers lo,hi per axis with lo < hi", path="--window")
        window = [vals[k:k + 2] for k in range(0, len(vals), 2)]
    with progress("regions") as update:
        try:
            s = plot_case(case, args.output, color=args.color, norm=args.norm, at=at, axes=axes, window=window,
                          max_regions=args.max_regions, time_limit=args.time_limit, progress=update)
        except LimitReached as e:
            if e.partial is None or isinstance(e.partial, Outcome):
                raise
            raise LimitReached(str(e), partial=_summary_outcome(e.partial, window is not None, 3)) from None
    return _summary_outcome(s, window is not None)
