"""The large certificate-file fuzz run (issue 11): seeded mutants of the certificates of
bundled cases (tests/certificate_mutants.py: truncated, bit-flipped, re-encoded, values
of another type, huge numbers, deep nesting, long lists, unknown and duplicate keys),
each checked in-process under a time limit, and a sample through the CLI.

    python benchmarks/fuzz_certificates.py [--mutants 6000] [--cli 60] [--seed 0] [--time-limit 20]

Prints, per mutation kind, how many mutants were rejected cleanly, accepted (with the
original's verdict on an unchanged case, or the brute force's on a small changed one),
raised an exception or hung; and for the CLI sample the exit statuses and tracebacks.
Exits 1 when any mutant raised, hung, or was accepted with a verdict that is not the truth.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from brute import assert_verdict_true  # noqa: E402
from certificate_mutants import judge, mutants  # noqa: E402

from exactrelu.certificate import certify  # noqa: E402
from exactrelu.checker import check_certificate  # noqa: E402
from exactrelu.io.case import read_case  # noqa: E402

CASES = ["seed003/relu", "seed003/identity", "degenerate/abs-coincident", "degenerate/identity-coincident",
         "degenerate/box-quadrants", "degenerate/hardtanh-box", "degenerate/spline-1d", "degenerate/polyhedron-triangle",
         "degenerate/coincident-2d", "seed002/clamp-sum", "seed004/sawtooth-2", "seed004/yarotsky-deep-2"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mutants", type=int, default=6000)
    ap.add_argument("--cli", type=int, default=60, help="mutants also run through 'exactrelu check' (subprocesses)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=20.0, help="seconds per mutant before it counts as a hang")
    args = ap.parse_args()
    certs = []
    for name in CASES:
        cert = json.loads(json.dumps(certify(read_case(ROOT / "cases" / f"{name}.json"), ("1", "inf", "2"))))
        certs.append((name, cert, check_certificate(cert)))
    per = -(-args.mutants // len(certs))
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    bad = []
    slowest = 0.0
    t0 = time.perf_counter()
    cli_sample = []
    for k, (name, cert, verdict) in enumerate(certs):
        data = json.dumps(cert).encode()
        for i, (kind, mutant) in enumerate(mutants(data, args.seed * 1000 + k, per)):
            t = time.perf_counter()
            out = judge(mutant, cert, verdict, args.time_limit, brute=assert_verdict_true)
            slowest = max(slowest, time.perf_counter() - t)
            label = out.kind if out.kind != "accepted" else f"accepted ({out.truth})"
            table[kind][label] += 1
            if out.kind in ("exception", "hang") or out.truth in ("DIFFERENT", "unchecked"):
                bad.append((name, i, kind, out))
            if len(cli_sample) < args.cli and i % max(1, per // max(1, args.cli // len(certs))) == 0:
                cli_sample.append(mutant)
    elapsed = time.perf_counter() - t0
    total = sum(sum(c.values()) for c in table.values())
    print(f"{total} mutants of {len(certs)} certificates in {elapsed:.1f} s (slowest {slowest:.2f} s; limit {args.time_limit} s)")
    labels = sorted({lab for c in table.values() for lab in c})
    print("| kind | " + " | ".join(labels) + " |")
    print("|---|" + "---|" * len(labels))
    for kind in sorted(table):
        print(f"| {kind} | " + " | ".join(str(table[kind][lab]) for lab in labels) + " |")
    print("| all | " + " | ".join(str(sum(table[k][lab] for k in table)) for lab in labels) + " |")
    statuses: collections.Counter = collections.Counter()
    tracebacks = 0
    with tempfile.TemporaryDirectory() as d:
        for i, mutant in enumerate(cli_sample):
            f = Path(d) / f"m{i}.json"
            f.write_bytes(mutant)
            res = subprocess.run([sys.executable, "-m", "exactrelu", "check", str(f), "--json"], capture_output=True,
                                 text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
            statuses[res.returncode] += 1
            tracebacks += "Traceback" in res.stderr
    print(f"CLI: {len(cli_sample)} mutants, exit statuses {dict(sorted(statuses.items()))}, tracebacks {tracebacks}")
    for name, i, kind, out in bad[:20]:
        print(f"BAD {name} mutant {i} ({kind}): {out.kind} {out.truth} {out.detail}")
    return 1 if bad or tracebacks else 0


if __name__ == "__main__":
    sys.exit(main())
