"""``exactrelu regions CASE``: count activation regions, linear pieces and bounded
regions exactly (SPEC §4), with ``--max-regions`` / ``--time-limit`` (exit 3 with the
partial counts)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ...core.errors import LimitReached
from ...core.numbers import format_number
from ...core.report import exact
from ...regions import RegionGraph, enumerate_regions
from ..distributed_options import add_options, engine
from . import Outcome, load

NAME = "regions"
HELP = "enumerate the activation regions exactly: counts of regions, linear pieces, bounded regions"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="case file or network file")
    p.add_argument("--max-regions", type=int, metavar="N", help="stop after N regions (exit 3)")
    p.add_argument("--time-limit", type=float, metavar="SECONDS", help="stop after this many seconds (exit 3)")
    p.add_argument("--list", action="store_true", help="also list every region (pattern, witness, J, c)")
    p.add_argument("--volumes", action="store_true", help="also give the exact volume of every bounded region")
    add_options(p)


def _progress() -> Any:
    if not sys.stderr.isatty():
        return None

    def show(found: int, queued: int) -> None:
        if found % 25 == 0:
            sys.stderr.write(f"\r  regions: {found} found, {queued} queued ")
            sys.stderr.flush()

    return show


def summary(g: RegionGraph, args: argparse.Namespace) -> Outcome:
    """The JSON document and the table of a (possibly partial) region graph."""
    whole = g.domain.is_whole
    doc: dict[str, Any] = {
        "activation_regions": g.activation_regions,
        "linear_pieces": g.linear_pieces,
    }
    if whole:
        doc["bounded_regions"] = g.bounded_regions
    doc["non_differentiable_facets"] = len(g.kinks)
    doc["complete"] = g.complete
    doc["guarantee"] = "exact" if g.complete else "exact lower bound (stopped at a limit)"
    doc["lps"] = g.stats.get("lps")
    doc["seconds"] = round(g.stats.get("seconds", 0.0), 4)
    if getattr(args, "volumes", False):
        doc["volumes"] = [None if v is None else format_number(v) for v in g.volumes]
    if getattr(args, "list", False):
        doc["regions"] = [
            {
                "pattern": [list(p) for p in r.pattern],
                "witness": exact(r.witness),
                "jacobian": exact(r.jacobian),
                "offset": exact(r.offset),
                "bounded": r.bounded,
                "piece": g.piece_labels[i],
            }
            for i, r in enumerate(g.regions)
        ]
    name = g.network.name or "network"
    dom = "R^%d" % g.network.input_dim if whole else ("box" if g.domain.box is not None else "polyhedron")
    lines = [f"{name} on {dom}" + ("" if g.complete else " (INCOMPLETE: stopped at a limit)")]
    rows = [("activation regions", g.activation_regions), ("linear pieces", g.linear_pieces)]
    if whole:
        rows.append(("bounded regions", g.bounded_regions))
    rows.append(("non-differentiable facets", len(g.kinks)))
    rows.append(("LPs solved", doc["lps"]))
    rows.append(("seconds", f"{doc['seconds']:.3f}"))
    width = max(len(k) for k, _ in rows)
    lines += [f"  {k.ljust(width)}  {v}" for k, v in rows]
    if "volumes" in doc:
        lines.append("  volumes: " + ", ".join("unbounded" if v is None else v for v in doc["volumes"]))
    if "regions" in doc:
        for i, r in enumerate(doc["regions"]):
            lines.append(f"  [{i}] pattern {r['pattern']} witness ({', '.join(r['witness'])}) J {r['jacobian']}")
    return Outcome(doc, "\n".join(lines))


def run(args: argparse.Namespace) -> Outcome:
    case = load(args.case)
    prog = _progress()
    try:
        g = engine(args, enumerate_regions, "regions")(
            case.network, case.domain, max_regions=args.max_regions, time_limit=args.time_limit, progress=prog
        )
    except LimitReached as e:
        if prog is not None:
            sys.stderr.write("\n")
        raise LimitReached(str(e), partial=summary(e.partial, args)) from None
    if prog is not None:
        sys.stderr.write("\r" + " " * 50 + "\r")
    return summary(g, args)
