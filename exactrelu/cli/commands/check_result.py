"""``exactrelu check-result NET PROP RESULT``: judge another verifier's VNN-COMP result file
exactly (SPEC §5). Exit 0 the claim is right exactly, 1 it is not, 2 bad input, 3 a limit
reached before an unsat claim was decided."""

from __future__ import annotations

import argparse

from ...core.errors import InputError, LimitReached
from ...io.case import write_json_atomic
from ...properties.prove import ProveResult
from ...properties.result import ResultCheck, check_result, read_result
from ...properties.vnnlib import read_vnnlib
from . import Outcome, load, positive_float

NAME = "check-result"
HELP = "judge a VNN-COMP result file (sat witness or unsat claim) exactly, and as the competition's scorer would"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", help="network file (.onnx, .nnet, .json, .pt)")
    p.add_argument("property", help="VNN-LIB property file")
    p.add_argument("result", help="the result file (sat/unsat/timeout/unknown, and a witness for sat)")
    p.add_argument("--time-limit", type=positive_float, metavar="SECONDS", help="limit for deciding an unsat claim (exit 3)")
    p.add_argument("-o", "--output", metavar="CERT", help="for a correct unsat claim, write the holds certificate")


def _text(r: ResultCheck, path: str) -> str:
    verdict = {True: "RIGHT (exactly)", False: "WRONG (exactly)", None: "undecided"}[r.right]
    lines = [f"{path}: claims {r.claimed!r}: {verdict}"]
    if r.witness is not None:
        w = r.witness
        lines.append(
            "  witness is an exact counterexample: "
            + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in (("as printed", w["decimal"]), ("in binary64", w["float64"]), ("in binary32", w["float32"])))
        )
        lines.append(f"  float replay lands in the unsafe set: float64 {'yes' if r.replay['float64'] else 'no'}, float32 {'yes' if r.replay['float32'] else 'no'}")
        lines.append(f"  VNN-COMP scorer: {r.vnncomp}")
    if r.holds is not None:
        lines.append(f"  the property {'holds (proved exactly)' if r.holds else 'is VIOLATED: the unsat claim is unsound'}")
        if r.counterexample is not None:
            lines.append(f"  counterexample x = ({', '.join(r.counterexample['x'])}), y = ({', '.join(r.counterexample['y'])})")
    lines.extend(f"  {p}" for p in r.problems)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> Outcome:
    case = load(args.network)
    prop = read_vnnlib(args.property)
    res = read_result(args.result)
    try:
        r = check_result(case.network, prop, res, onnx_path=args.network, time_limit=args.time_limit, certificate=args.output is not None)
    except LimitReached as e:
        partial = e.partial
        doc = {"claimed": res.claimed, "kind": res.kind, "right": None}
        if isinstance(partial, ProveResult):
            doc["settled"] = partial.to_json().get("settled")
        raise LimitReached(str(e), partial=Outcome(doc, f"{args.result}: claims {res.claimed!r}: undecided (limit reached)", 3)) from None
    doc = r.to_json()
    if args.output is not None and r.certificate is not None:
        try:
            write_json_atomic(r.certificate, args.output)
        except OSError as err:
            raise InputError(f"cannot write the certificate: {err.strerror or err}", path="--output") from None
        doc["certificate"] = args.output
    return Outcome(doc, _text(r, args.result), 0 if r.right else 1)
