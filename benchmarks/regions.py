"""Benchmark of the exact region engine (issue 3, "Performance").

Prints, side by side:

1. certified regions per second and LPs per region on random rational ReLU nets
   n0 -> widths -> 1 on R^n0, for n0 in {2, 4, 6, 8} (exact LPs; float solves: NNLS
   proposals and HiGHS LPs, each checked exactly);
2. the exact engine against regioncam (float32, 2-D only) on 2 -> [w, w, w] -> 1 on the
   square [-1, 1]^2, w in {20, 50, 100}: both times, their ratio, and whether the
   region counts agree. The exact engine reads regioncam's float32 weights exactly
   (their binary values). regioncam runs in its own virtual environment, given by
   ``--peer PYTHON`` (default /work/venv-regioncam/bin/python); the column is skipped
   when it is absent.

Usage: python benchmarks/regions.py [--time-limit S] [--quick] [--peer PYTHON] [--part 1|2|all]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from exactrelu.core.domain import Domain
from exactrelu.core.errors import LimitReached
from exactrelu.core.network import Network, activation, affine
from exactrelu.regions import enumerate_regions
from exactrelu.regions.split2d import split_regions_2d

PEER_SCRIPT = r"""
import json, sys, time
import numpy as np
import regioncam
data = np.load(sys.argv[1])
ws = [data[f"w{i}"] for i in range(int(data["n"]))]
bs = [data[f"b{i}"] for i in range(int(data["n"]))]
t = time.perf_counter()
rc = regioncam.Regioncam(1.0)
for i, (w, b) in enumerate(zip(ws, bs)):
    rc.linear(w.T.astype(np.float32), b.astype(np.float32))
    if i < len(ws) - 1:
        rc.relu()
print(json.dumps({"faces": rc.num_faces, "seconds": time.perf_counter() - t}))
"""


def random_net(n0: int, widths: list[int], seed: int) -> Network:
    rng = random.Random(seed)

    def q() -> Fraction:
        return Fraction(rng.randint(-40, 40), rng.randint(1, 9))

    layers = []
    d = n0
    for w in widths:
        layers += [affine([[q() for _ in range(d)] for _ in range(w)], [q() for _ in range(w)]), activation("relu")]
        d = w
    layers.append(affine([[q() for _ in range(d)]]))
    return Network.from_layers(n0, layers)


def run_exact(net: Network, domain: Domain | None, limit: float) -> dict:
    t = time.perf_counter()
    try:
        g = enumerate_regions(net, domain, time_limit=limit)
        complete = True
    except LimitReached as e:
        g = e.partial
        complete = False
    dt = time.perf_counter() - t
    return {
        "regions": g.activation_regions,
        "seconds": dt,
        "lps": g.stats.get("lps", 0),
        "exact_lps": g.stats.get("exact_lps", 0),
        "float_lps": g.stats.get("float_lps", 0),
        "highs_lps": g.stats.get("float_lp_proposals", 0),
        "complete": complete,
    }


def table_one(limit: float, quick: bool) -> list[str]:
    archs = {2: [[8], [16], [8, 8], [6, 6, 6]], 4: [[8], [16], [8, 8], [6, 6, 6]], 6: [[8], [12], [8, 8]], 8: [[10], [12], [8, 8]]}
    lines = [
        "| n0 | widths | regions | complete | seconds | regions/s | exact LPs/region | float solves/region | of which HiGHS LPs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n0, arch_list in archs.items():
        for widths in arch_list[: 2 if quick else None]:
            r = run_exact(random_net(n0, widths, seed=n0 * 100 + sum(widths)), None, limit)
            rate = r["regions"] / r["seconds"] if r["seconds"] else float("nan")
            exact = r["exact_lps"] / r["regions"] if r["regions"] else float("nan")
            floats = r["float_lps"] / r["regions"] if r["regions"] else float("nan")
            highs = r["highs_lps"] / r["regions"] if r["regions"] else float("nan")
            lines.append(
                f"| {n0} | {widths} | {r['regions']} | {'yes' if r['complete'] else 'no (time limit)'} | "
                f"{r['seconds']:.1f} | {rate:.0f} | {exact:.1f} | {floats:.1f} | {highs:.1f} |"
            )
            print(lines[-1], flush=True)
    return lines


def table_two(limit: float, peer: str | None, quick: bool) -> list[str]:
    lines = [
        "| net | traversal regions | traversal s | split regions | split s | regioncam faces | regioncam s "
        "| split / regioncam | traversal / regioncam | counts agree |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for w in ([20] if quick else [20, 50, 100]):
        rng = np.random.default_rng(w)
        dims = [2, w, w, w, 1]
        ws = [(rng.standard_normal((dims[i + 1], dims[i])) / np.sqrt(dims[i])).astype(np.float32) for i in range(4)]
        bs = [(rng.standard_normal(dims[i + 1]) * 0.5).astype(np.float32) for i in range(4)]
        layers = []
        for i in range(4):
            layers.append(affine([[Fraction(float(v)) for v in row] for row in ws[i]], [Fraction(float(v)) for v in bs[i]]))
            if i < 3:
                layers.append(activation("relu"))
        net = Network.from_layers(2, layers)
        peer_res = None
        if peer and Path(peer).exists():
            with tempfile.TemporaryDirectory() as tmp:
                f = os.path.join(tmp, "w.npz")
                np.savez(f, n=4, **{f"w{i}": ws[i] for i in range(4)}, **{f"b{i}": bs[i] for i in range(4)})
                out = subprocess.run([peer, "-c", PEER_SCRIPT, f], capture_output=True, text=True, check=True)
                peer_res = json.loads(out.stdout.strip().splitlines()[-1])
        box = Domain.from_box([[-1, 1], [-1, 1]])
        t = time.perf_counter()
        split = len(split_regions_2d(net, box))
        split_s = time.perf_counter() - t
        r = run_exact(net, box, limit)
        trav = f"{r['regions']} | {r['seconds']:.1f}" + ("" if r["complete"] else " (limit)")
        if peer_res:
            ps = peer_res["seconds"]
            tr = f"{r['seconds'] / ps:.0f}x" if r["complete"] else f">= {r['seconds'] / ps:.0f}x"
            counts = {split, peer_res["faces"]} | ({r["regions"]} if r["complete"] else set())
            agree = "yes" if len(counts) == 1 else f"no (split {split}, regioncam {peer_res['faces']})"
            peer_cols = f"{peer_res['faces']} | {ps:.4f} | {split_s / ps:.0f}x | {tr} | {agree}"
        else:
            peer_cols = "- | - | - | - | - (regioncam absent)"
        lines.append(f"| 2-{w}-{w}-{w}-1 | {trav} | {split} | {split_s:.2f} | {peer_cols} |")
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=30.0, help="seconds per exact run (default 30)")
    ap.add_argument("--peer", default="/work/venv-regioncam/bin/python", help="python with regioncam installed")
    ap.add_argument("--quick", action="store_true", help="fewer configurations")
    ap.add_argument("--part", choices=["1", "2", "all"], default="all", help="only table 1 or table 2")
    args = ap.parse_args()
    print(f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}")
    if args.part in ("1", "all"):
        print("## certified regions per second (random rational ReLU nets on R^n0)")
        table_one(args.time_limit, args.quick)
    if args.part in ("2", "all"):
        print("## exact engine vs regioncam on [-1,1]^2")
        table_two(args.time_limit, args.peer, args.quick)


if __name__ == "__main__":
    sys.exit(main())
