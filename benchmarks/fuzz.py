"""The large fuzz run (issue 11): mutants of the bundled cases and of .nnet / .onnx files made
from them, each in a forked child with a time limit, through the API and (a share) through
the CLI in-process. Prints the counts of each ending; tracebacks (crashes) and hangs must be 0.

Usage: python benchmarks/fuzz.py [--json N] [--nnet N] [--onnx N] [--seed S] [--timeout S] [--keep DIR]

The mutator and the runner are tests/fuzzing.py (the suite's tests/test_fuzz.py runs a few
hundred of the same mutants).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fuzzing import fuzz  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", type=int, default=4000, help="case-file mutants (default 4000)")
    ap.add_argument("--nnet", type=int, default=600, help=".nnet mutants (default 600)")
    ap.add_argument("--onnx", type=int, default=600, help=".onnx mutants (default 600)")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant before it counts as a hang")
    ap.add_argument("--cli-share", type=float, default=0.25, help="share of mutants run through the CLI")
    ap.add_argument("--keep", metavar="DIR", help="keep the bad mutants here (default: a temporary folder)")
    args = ap.parse_args()
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"{'kind':5} {'mutants':>7} {'errors':>7} {'limits':>7} {'results':>7} {'crashes':>7} {'hangs':>6} {'s':>6}")
        for kind, count in (("json", args.json), ("nnet", args.nnet), ("onnx", args.onnx)):
            if not count:
                continue
            start = time.monotonic()
            t = fuzz(kind, count, args.seed, folder, args.timeout, args.cli_share,
                     lambda done, t: print(f"  ... {kind} {done}: {t.counts}", file=sys.stderr, flush=True))
            c = t.counts
            print(f"{kind:5} {count:7} {c['input-error']:7} {c['limit']:7} {c['result']:7} {c['crash']:7} "
                  f"{c['hang']:6} {time.monotonic() - start:6.0f}", flush=True)
            for label, o in t.bad:
                print(f"  {o.kind}: {label}\n    {o.detail[-800:]}")
            bad += c["crash"] + c["hang"]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
