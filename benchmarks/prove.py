"""exactrelu prove vs Marabou on the same VNN-LIB instances, interleaved (A B A B), one run.

Each instance runs the tools as separate processes, one after the other: `exactrelu prove NET
PROP -o CERT` followed by `exactrelu check CERT` for holds (the certificate's check time is
reported apart), and Marabou (maraboupy, its own venv) reading the same ONNX and VNN-LIB
files; with ``--baseline DIR`` also the exactrelu of another checkout (DIR: its repository
root), first, for before/after figures. Prints per instance the verdicts, agreement, wall
and CPU seconds of each process (CPU: user + system of the process and its children,
which shared machines distort less than wall time) and the ratios exactrelu/Marabou.

    python benchmarks/prove.py --marabou-python /work/venv-marabou/bin/python --timeout 150 \
        [--baseline ../main] acasxu:1_1:1 acasxu:1_1:3 toy:tiny-2-3-2:holds ...

Instances: ``acasxu:I_J:P`` (network ACASXU_run2a_I_J, prop_P), ``toy:NAME:PROP`` (the toy
folder's NAME.onnx with NAME_PROP.vnnlib), or ``ONNX,VNNLIB`` paths. Data from
``../shared/data/vnncomp`` (never copied into the project).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "vnncomp"

MARABOU = r"""
import sys, warnings
warnings.filterwarnings("ignore")
from maraboupy import Marabou
net = Marabou.read_onnx(sys.argv[1])
opts = Marabou.createOptions(verbosity=0, timeoutInSeconds=int(float(sys.argv[3])))
res, vals, stats = net.solve(propertyFilename=sys.argv[2], verbose=False, options=opts)
print("RESULT", res)
"""


def instance(spec: str) -> tuple[str, str]:
    if "," in spec:
        a, b = spec.split(",")
        return a, b
    kind, name, prop = spec.split(":")
    if kind == "acasxu":
        return str(DATA / "acasxu" / f"ACASXU_run2a_{name}_batch_2000.onnx"), str(DATA / "acasxu" / f"prop_{prop}.vnnlib")
    if kind == "toy":
        return str(DATA / "toy" / f"{name}.onnx"), str(DATA / "toy" / f"{name}_{prop}.vnnlib")
    if kind == "rl":
        return str(DATA / "rl" / f"{name}.onnx"), str(DATA / "rl" / "vnnlib" / f"{prop}.vnnlib")
    raise SystemExit(f"unknown instance {spec!r}")


def _timed(cmd: list[str], timeout: float, **kw) -> tuple[subprocess.CompletedProcess | None, float, float]:
    """Run cmd; (the process or None at the timeout, wall seconds, CPU seconds of the children)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        p: subprocess.CompletedProcess | None = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        p = None
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return p, wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def run_exactrelu(repo: Path, net: str, prop: str, timeout: float, check: bool = True) -> tuple[str, float, float, float | None, float | None]:
    """(verdict, wall, cpu, check wall, check cpu) of `exactrelu prove` from the checkout ``repo``."""
    env = dict(os.environ, PYTHONPATH=str(repo))  # and cwd=repo: `python -m` puts the cwd first on sys.path
    with tempfile.TemporaryDirectory() as d:
        cert = Path(d) / "cert.json"
        p, t, cpu = _timed([sys.executable, "-m", "exactrelu", "--json", "prove", net, prop, "-o", str(cert), "--time-limit", str(timeout)],
                           timeout + 60, env=env, cwd=repo)
        try:
            verdict = json.loads(p.stdout)["result"] if p is not None else "timeout"
        except (json.JSONDecodeError, KeyError):
            verdict = f"error({p.returncode})"
        tc = cc = None
        if verdict == "holds" and check:
            c, tc, cc = _timed([sys.executable, "-m", "exactrelu", "check", str(cert)], 3600, env=env, cwd=repo)
            if c is None or c.returncode != 0:
                verdict = "holds(CERT REJECTED)"
    return verdict, t, cpu, tc, cc


def run_marabou(python: str, net: str, prop: str, timeout: float) -> tuple[str, float, float]:
    p, t, cpu = _timed([python, "-c", MARABOU, net, prop, str(timeout)], timeout + 30)
    if p is None:
        return "timeout", t, cpu
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("RESULT")), "RESULT error")
    res = line.split()[1]
    return {"sat": "violated", "unsat": "holds", "TIMEOUT": "timeout"}.get(res, res), t, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("instances", nargs="+")
    ap.add_argument("--marabou-python", default="/work/venv-marabou/bin/python")
    ap.add_argument("--timeout", type=float, default=150)
    ap.add_argument("--baseline", type=Path, default=None, help="another exactrelu checkout to run first (before/after)")
    ap.add_argument("--baseline-check", action="store_true", help="also check the baseline's certificates (slow before the float filter)")
    args = ap.parse_args()
    repo = Path(__file__).resolve().parent.parent
    baseline = args.baseline.resolve() if args.baseline is not None else None
    head = f"{'instance':26} {'exactrelu':>10} {'Marabou':>9} {'agree':>5} {'wall':>7} {'cpu':>7} {'chk wall':>8} {'chk cpu':>7} {'M wall':>7} {'M cpu':>7} {'wall x':>6} {'cpu x':>6}"
    if baseline is not None:
        head += f" {'before':>10} {'b wall':>7} {'b cpu':>7} {'b chk':>7}"
    print(head)
    decided = {"holds", "violated"}
    for spec in args.instances:
        net, prop = instance(spec)
        before = run_exactrelu(baseline, net, prop, args.timeout, args.baseline_check) if baseline is not None else None
        ours, t_ours, c_ours, t_check, c_check = run_exactrelu(repo, net, prop, args.timeout)
        theirs, t_theirs, c_theirs = run_marabou(args.marabou_python, net, prop, args.timeout)
        agree = "yes" if ours == theirs else ("-" if not ({ours, theirs} <= decided) else "NO")
        chk = f"{t_check:8.2f} {c_check:7.2f}" if t_check is not None else f"{'':8} {'':7}"
        row = (f"{spec:26} {ours:>10} {theirs:>9} {agree:>5} {t_ours:7.2f} {c_ours:7.2f} {chk} {t_theirs:7.2f} {c_theirs:7.2f}"
               f" {t_ours / t_theirs:6.2f} {c_ours / max(c_theirs, 1e-9):6.2f}")
        if before is not None:
            bchk = f"{before[3]:7.2f}" if before[3] is not None else f"{'':7}"
            row += f" {before[0]:>10} {before[1]:7.2f} {before[2]:7.2f} {bchk}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
