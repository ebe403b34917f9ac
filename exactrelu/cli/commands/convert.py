"""``exactrelu convert IN OUT``: translate a network between .json, .onnx, .nnet (and read .pt).

Reading is exact; writing says which numbers it had to round (ONNX holds binary64
numbers, .nnet decimals). Writing ONNX also measures onnxruntime's output against the
exact network at a few points, when onnxruntime is installed.
"""

from __future__ import annotations

import argparse
import warnings
from fractions import Fraction
from pathlib import Path

from . import Outcome, load

WRITTEN = (".json", ".nnet", ".onnx")

NAME = "convert"
HELP = "convert a network between formats (.json, .onnx, .nnet; .pt read only), exactly where the target allows"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="IN", help="network file: .json, .onnx, .nnet, .pt/.pth")
    p.add_argument("output", metavar="OUT", help="file to write: " + ", ".join(WRITTEN))
    p.add_argument(
        "--input-shape",
        metavar="SHAPE",
        help="for a torch file whose first module is not Linear: the input shape without the batch axis, e.g. 1,8,8",
    )


def _sample_points(case, count: int = 8) -> list[tuple[Fraction, ...]]:
    """Deterministic rational test points: the box's centre and a few inner points, or a small grid."""
    n = case.network.input_dim
    box = case.domain.box or tuple((Fraction(-1), Fraction(1)) for _ in range(n))
    pts = []
    for k in range(count):
        pts.append(tuple(lo + (hi - lo) * Fraction((k * (2 * i + 3) + 1) % 17 + 1, 19) for i, (lo, hi) in enumerate(box)))
    return pts


def run(args: argparse.Namespace) -> Outcome:
    from ...core.errors import InputError
    from ...io.files import check_writable
    from ...io.layers import InexactConversion
    from ...io.load import WRITERS, save_case

    assert set(WRITERS) == set(WRITTEN)
    suffix = Path(args.output).suffix.lower()
    if not Path(args.output).is_dir() and suffix not in WRITERS:
        got = f"the suffix {suffix!r}" if suffix else "a name without a suffix"
        raise InputError(f"expected an output file ({', '.join(WRITTEN)}), got {got}", file=args.output)
    check_writable(args.output)  # before reading: a mistake costs nothing
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InexactConversion)
        case = load(args.input, args.input_shape)
        read_notes = [str(w.message) for w in caught if issubclass(w.category, InexactConversion)]
        caught.clear()
        save_case(case, args.output)
        write_notes = [str(w.message) for w in caught if issubclass(w.category, InexactConversion)]
    net = case.network
    doc = {
        "input": args.input,
        "output": args.output,
        "input_dim": net.input_dim,
        "output_dim": net.output_dim,
        "hidden_widths": list(net.chain.widths),
        "domain": case.domain.to_json(),
        "read_exact": not read_notes,
        "written_exact": not write_notes,
        "warnings": read_notes + write_notes,
    }
    lines = [
        f"{args.input} -> {args.output}",
        f"  {net.input_dim} inputs, hidden widths {list(net.chain.widths) or 'none'}, {net.output_dim} outputs",
    ]
    if Path(args.output).suffix.lower() == ".onnx":
        try:
            from ...io.onnx import onnxruntime_difference

            diff = onnxruntime_difference(net, Path(args.output).read_bytes(), _sample_points(case))
            doc["onnxruntime_max_abs_diff"] = diff
            lines.append(f"  onnxruntime vs exact at 8 points: max |difference| = {diff:.3g}")
        except InputError as e:
            doc["onnxruntime_max_abs_diff"] = None
            lines.append(f"  (not checked with onnxruntime: {e})")
    for note in read_notes + write_notes:
        lines.append(f"  note: {note}")
    lines.append("  exact" if not (read_notes or write_notes) else "  NOT exact: see the notes above")
    return Outcome(doc, "\n".join(lines))
