"""``exactrelu certify CASE -o CERT``: enumerate the regions and write a certificate
that ``exactrelu check`` re-verifies without an LP solver (written atomically)."""

from __future__ import annotations

import argparse
from typing import Any

from ...certificate import certify
from ...core.errors import InputError, LimitReached
from ...io.case import write_json_atomic
from ..distributed_options import add_options, engine
from . import Outcome, load

NAME = "certify"
HELP = "write a certificate of the regions and of L_1 / L_inf that 'exactrelu check' re-verifies"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="case file or network file")
    p.add_argument("-o", "--output", required=True, metavar="CERT", help="the certificate file to write")
    p.add_argument(
        "--norm", action="append", choices=["1", "2", "inf"], help="Lipschitz claims to include, repeatable (default: 1 and inf)"
    )
    p.add_argument("--max-regions", type=int, metavar="N", help="give up after N regions (exit 3, nothing written)")
    p.add_argument("--time-limit", type=float, metavar="SECONDS", help="give up after this long (exit 3, nothing written)")
    add_options(p)


def run(args: argparse.Namespace) -> Outcome:
    case = load(args.case)
    norms = tuple(dict.fromkeys(args.norm)) if args.norm else ("1", "inf")
    try:
        cert = engine(args, certify, "certify")(case, norms, max_regions=args.max_regions, time_limit=args.time_limit)
    except LimitReached as e:
        partial = e.partial
        doc = {"written": None, "activation_regions_found": partial.activation_regions if partial else None}
        raise LimitReached(f"{e}; no certificate written", partial=Outcome(doc, "no certificate written")) from None
    try:
        write_json_atomic(cert, args.output)
    except OSError as err:
        raise InputError(f"cannot write the certificate: {err.strerror or err}", path="--output") from None
    counts = cert["counts"]
    doc = {
        "written": args.output,
        **counts,
        "lipschitz": {k: v["value"] if "value" in v else {kk: vv for kk, vv in v.items() if kk != "region"}
                      for k, v in cert["lipschitz"].items()},
    }
    text = f"wrote {args.output}: " + ", ".join(f"{k} {v}" for k, v in counts.items())
    if cert["lipschitz"]:
        text += "; " + ", ".join(f"L_{k} = {_claim_text(cert, k, v)}" for k, v in cert["lipschitz"].items())
    return Outcome(doc, text)


def _claim_text(cert: dict[str, Any], norm: str, claim: dict[str, Any]) -> str:
    """A Lipschitz claim in the project's one notation (``√2 ≈ 1.414213562``): ℓ2's from the
    norm of the Jacobian of the region that attains it."""
    from ...core.norms import norm_2
    from ...core.numbers import fmpq_matrix, parse_number
    from ...core.report import number_text, real_text

    if norm != "2":
        return number_text(parse_number(claim["value"]))
    J = cert["regions"][claim["region"]]["jacobian"]
    return real_text(norm_2(fmpq_matrix([[parse_number(v) for v in row] for row in J])))
