"""exactrelu prove vs Marabou on the same VNN-LIB instances, interleaved (A B A B), one run.

Each instance runs both tools as separate processes, alternately: `exactrelu prove NET PROP -o
CERT` followed by `exactrelu check CERT` for holds (the certificate's check time is reported
apart), and Marabou (maraboupy, its own venv) reading the same ONNX and VNN-LIB files. Prints
per instance: both verdicts, agreement, both wall times and the ratio exactrelu/Marabou.

    python benchmarks/prove.py --marabou-python /work/venv-marabou/bin/python --timeout 150 \
        acasxu:1_1:1 acasxu:1_1:3 toy:tiny-2-3-2:holds ...

Instances: ``acasxu:I_J:P`` (network ACASXU_run2a_I_J, prop_P), ``toy:NAME:PROP`` (the toy
folder's NAME.onnx with NAME_PROP.vnnlib), or ``ONNX,VNNLIB`` paths. Data from
``../shared/data/vnncomp`` (never copied into the project).
"""

from __future__ import annotations

import argparse
import json
import os
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


def run_exactrelu(net: str, prop: str, timeout: float) -> tuple[str, float, float | None]:
    repo = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(repo))
    with tempfile.TemporaryDirectory() as d:
        cert = Path(d) / "cert.json"
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "exactrelu", "--json", "prove", net, prop, "-o", str(cert), "--time-limit", str(timeout)],
                           capture_output=True, text=True, env=env, timeout=timeout + 60)
        t = time.perf_counter() - t0
        try:
            verdict = json.loads(p.stdout)["result"]
        except (json.JSONDecodeError, KeyError):
            verdict = f"error({p.returncode})"
        check = None
        if verdict == "holds":
            t1 = time.perf_counter()
            c = subprocess.run([sys.executable, "-m", "exactrelu", "check", str(cert)], capture_output=True, text=True, env=env)
            check = time.perf_counter() - t1
            if c.returncode != 0:
                verdict = "holds(CERT REJECTED)"
    return verdict, t, check


def run_marabou(python: str, net: str, prop: str, timeout: float) -> tuple[str, float]:
    t0 = time.perf_counter()
    try:
        p = subprocess.run([python, "-c", MARABOU, net, prop, str(timeout)], capture_output=True, text=True, timeout=timeout + 30)
        out = p.stdout
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - t0
    t = time.perf_counter() - t0
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT")), "RESULT error")
    res = line.split()[1]
    return {"sat": "violated", "unsat": "holds", "TIMEOUT": "timeout"}.get(res, res), t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("instances", nargs="+")
    ap.add_argument("--marabou-python", default="/work/venv-marabou/bin/python")
    ap.add_argument("--timeout", type=float, default=150)
    args = ap.parse_args()
    print(f"{'instance':28} {'exactrelu':>12} {'Marabou':>10} {'agree':>6} {'t_exact':>8} {'t_check':>8} {'t_marabou':>9} {'ratio':>7}")
    for spec in args.instances:
        net, prop = instance(spec)
        ours, t_ours, t_check = run_exactrelu(net, prop, args.timeout)
        theirs, t_theirs = run_marabou(args.marabou_python, net, prop, args.timeout)
        decided = {"holds", "violated"}
        agree = "yes" if ours == theirs else ("-" if not ({ours, theirs} <= decided) else "NO")
        ratio = t_ours / t_theirs if t_theirs > 0 else float("nan")
        chk = f"{t_check:8.2f}" if t_check is not None else f"{'':8}"
        print(f"{spec:28} {ours:>12} {theirs:>10} {agree:>6} {t_ours:8.2f} {chk} {t_theirs:9.2f} {ratio:7.2f}", flush=True)


if __name__ == "__main__":
    main()
