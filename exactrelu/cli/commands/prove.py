"""``exactrelu prove NET PROP [-o CERT]``: decide a VNN-LIB property exactly (SPEC §5):
``holds`` (with ``-o``, a certificate that ``exactrelu check`` re-verifies), ``violated``
(an exact counterexample and its float64/float32 replays), or ``unknown`` at a limit
(exit 3, with the settled fraction of the input set). Exit 0 for holds and violated."""

from __future__ import annotations

import argparse

from ...core.errors import InputError, LimitReached
from ...io.case import write_json_atomic
from ...properties.prove import ProveResult, prove
from ...properties.search import Options
from ...properties.vnnlib import read_vnnlib
from ..distributed_options import add_options, engine
from . import Outcome, load, nonnegative_int, positive_float

NAME = "prove"
HELP = "decide a VNN-LIB property exactly: holds (with a certificate), violated (exact counterexample), unknown"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", help="network file (.onnx, .nnet, .json, .pt)")
    p.add_argument("property", help="VNN-LIB property file (.vnnlib)")
    p.add_argument("-o", "--output", metavar="CERT", help="write the holds certificate here")
    p.add_argument("--time-limit", type=positive_float, metavar="SECONDS", help="stop after this long: unknown, exit 3")
    p.add_argument("--max-nodes", type=nonnegative_int, metavar="N", help="stop after N search nodes: unknown, exit 3")
    p.add_argument("--result", metavar="FILE", help="also write a VNN-COMP result file (sat with the witness, unsat, unknown)")
    p.add_argument("--no-lp", action="store_true", help="no LP relaxation (symbolic bounds and splits only)")
    add_options(p)


def text(res: ProveResult, net: str, prop: str) -> str:
    d = res.diagnostics
    lines = [f"{prop} on {net}: {res.value.upper()} [{res.guarantee}]"]
    if res.counterexample is not None:
        c = res.counterexample.to_json()
        lines.append(f"  counterexample x = ({', '.join(c['x'])})")
        lines.append(f"  outputs      y = ({', '.join(c['y'])})  (disjunct {c['disjunct']} of the unsafe set)")
        if res.replay is not None:
            r = res.replay.violated
            lines.append(
                f"  replay: float64 {'violates' if r['float64'] else 'does NOT violate'}, "
                f"float32 ({res.replay.float32_engine}) {'violates' if r['float32'] else 'does NOT violate'} at x rounded"
            )
    if res.value == "unknown":
        lines.append(f"  settled: {float(res.settled):.6%} of the input box proved so far")
    if d:
        lines.append(
            f"  search: {d.get('nodes', 0)} nodes, {d.get('leaves', 0)} closed leaves "
            f"(by {', '.join(f'{k} {v}' for k, v in d.get('proofs', {}).items()) or 'none'}), {d.get('lps', 0)} float LPs, {d.get('exact_lps', 0)} exact LPs, {d.get('time_s', 0)} s"
        )
    return "\n".join(lines)


def _write_result(path: str | None, res: ProveResult) -> None:
    if path is None:
        return
    from ...properties.result import result_text

    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(result_text(res))
    except OSError as err:
        raise InputError(f"cannot write the result file: {err.strerror or err}", path="--result") from None


def run(args: argparse.Namespace) -> Outcome:
    case = load(args.network)
    prop = read_vnnlib(args.property)
    opts = Options(lp=not args.no_lp)
    try:
        res = engine(args, prove, "prove")(
            case.network, prop, time_limit=args.time_limit, max_nodes=args.max_nodes, options=opts,
            onnx_path=args.network, certificate=args.output is not None,
        )
    except LimitReached as e:
        partial = e.partial
        if isinstance(partial, ProveResult):
            _write_result(args.result, partial)
            raise LimitReached(str(e), partial=Outcome(partial.to_json(), text(partial, args.network, args.property), 3)) from None
        raise
    _write_result(args.result, res)
    doc = res.to_json()
    if args.output is not None and res.certificate is not None:
        try:
            write_json_atomic(res.certificate, args.output)
        except OSError as err:
            raise InputError(f"cannot write the certificate: {err.strerror or err}", path="--output") from None
        doc["certificate"] = args.output
    out = text(res, args.network, args.property)
    if args.output is not None:
        out += f"\n  certificate: {'written to ' + args.output if res.certificate is not None else 'none (only holds has one)'}"
    return Outcome(doc, out, 0)
