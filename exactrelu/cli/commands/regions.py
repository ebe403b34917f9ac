"""``exactrelu regions CASE``: count activation regions, linear pieces and bounded
regions exactly (SPEC §4), with ``--max-regions`` / ``--time-limit`` (exit 3 with the
partial counts, in text and in ``--json``)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from ..distributed_options import add_options, engine
from . import Outcome, load, positive_float, positive_int

NAME = "regions"
HELP = "enumerate the activation regions exactly: counts of regions, linear pieces, bounded regions"
MAX_REGIONS = 100_000


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="case file or network file")
    p.add_argument("--max-regions", type=positive_int, default=MAX_REGIONS, metavar="N",
                   help=f"stop after N regions (default {MAX_REGIONS}; exit 3 with the counts so far)")
    p.add_argument("--time-limit", type=positive_float, metavar="SECONDS",
                   help="stop after this many seconds, volumes included (exit 3 with the counts so far)")
    p.add_argument("--list", action="store_true", help="also list every region (pattern, witness, J, c)")
    p.add_argument("--volumes", action="store_true", help="also give the exact volume of every bounded region")
    add_options(p)


def summary(g: Any, args: argparse.Namespace, volumes: list[Any] | None = None) -> Outcome:
    """The JSON document and the table of a (possibly partial) region graph; ``volumes``: those
    computed so far (the rest are left out: a limit stopped them)."""
    from ...core.numbers import format_number
    from ...core.report import (
        PATTERN_KEY,
        exact,
        matrix_text,
        number_text,
        pattern_text,
        point_text,
    )

    whole = g.domain.is_whole
    doc: dict[str, Any] = {
        "activation_regions": g.activation_regions,
        "linear_pieces": g.linear_pieces,
    }
    if whole:
        doc["bounded_regions"] = g.bounded_regions
    doc["non_differentiable_facets"] = len(g.kinks)
    complete = g.complete and (volumes is None or len(volumes) == len(g.regions))
    doc["complete"] = complete
    doc["guarantee"] = "exact" if complete else "exact lower bound (stopped at a limit)"
    doc["lps"] = g.diagnostics.get("lps")
    doc["seconds"] = round(g.diagnostics.get("seconds", 0.0), 4)
    if volumes is not None:
        doc["volumes"] = [None if v is None else format_number(v) for v in volumes]
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
    lines = [f"{name} on {dom}" + ("" if complete else " (INCOMPLETE: stopped at a limit; the counts are lower bounds)")]
    rows = [("activation regions", g.activation_regions), ("linear pieces", g.linear_pieces)]
    if whole:
        rows.append(("bounded regions", g.bounded_regions))
    rows.append(("non-differentiable facets", len(g.kinks)))
    rows.append(("LPs solved", doc["lps"]))
    rows.append(("seconds", f"{doc['seconds']:.3f}"))
    width = max(len(k) for k, _ in rows)
    lines += [f"  {k.ljust(width)}  {v}" for k, v in rows]
    if volumes is not None:
        shown = ", ".join("unbounded" if v is None else number_text(v) for v in volumes)
        missing = len(g.regions) - len(volumes)
        lines.append("  volumes: " + (shown or "none") + (f" (and {missing} not computed: limit reached)" if missing else ""))
    if "regions" in doc:
        lines.append("  " + PATTERN_KEY)
        for i, r in enumerate(g.regions):
            lines.append(f"  [{i}] pattern {pattern_text(r.pattern)}  witness {point_text(r.witness)}  J =")
            lines.append(matrix_text(r.jacobian, indent="      "))
    return Outcome(doc, "\n".join(lines))


def run(args: argparse.Namespace) -> Outcome:
    from ...core.errors import LimitReached
    from ...regions import enumerate_regions
    from ..console import progress

    start = time.monotonic()
    case = load(args.case)
    with progress("regions") as update:
        try:
            g = engine(args, enumerate_regions, "regions")(case.network, case.domain, max_regions=args.max_regions,
                                                            time_limit=args.time_limit, progress=update)
        except LimitReached as e:
            partial = e.partial
            if partial is None or isinstance(partial, Outcome):
                raise
            raise LimitReached(str(e), partial=_at_limit(summary(partial, args, [] if args.volumes else None))) from None
    if not args.volumes:
        return summary(g, args)
    volumes: list[Any] = []
    with progress("volumes", total=len(g.regions)) as update:
        for i in range(len(g.regions)):
            if args.time_limit is not None and time.monotonic() - start > args.time_limit:
                raise LimitReached(f"stopped after {len(volumes)} of {len(g.regions)} volumes (--time-limit)",
                                   partial=_at_limit(summary(g, args, volumes)))
            try:
                volumes.append(g.volume(i))  # the graph's own deadline holds inside one volume
            except LimitReached as e:
                raise LimitReached(f"{e}; {len(volumes)} of {len(g.regions)} volumes computed",
                                   partial=_at_limit(summary(g, args, volumes))) from None
            update(i + 1)
    return summary(g, args, volumes)


def _at_limit(outcome: Outcome) -> Outcome:
    return Outcome(outcome.doc, outcome.text, 3)
