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

3. the exact engine against relucent (float64 with exact fallbacks, gurobipy) on
   dyadic ReLU nets n0 -> widths -> 1 on R^n0 (both read the same binary64 weights),
   region counts compared; relucent runs in its own environment, ``--relucent PYTHON``
   (default /work/venv-regions15/bin/python);
4. the filtered predicates' fallback rate on random rational, integer-weighted and
   deliberately degenerate nets (coincident, concurrent and parallel hyperplanes, dead
   neurons), where exact arithmetic must decide;
5. per-region cost and memory as the count grows, on one net run for ``--grow``
   seconds: regions per second in successive windows, and the resident memory added
   per region (whole process, before and after).

Usage: python benchmarks/regions.py [--time-limit S] [--quick] [--peer PYTHON]
       [--relucent PYTHON] [--grow S] [--part 1|2|3|4|5|all]
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
from exactrelu.regions.filtered2d import Undecided, certified_patterns
from exactrelu.regions.split2d import _exact_patterns, split_regions_2d

PEER_SCRIPT = r"""
import json, sys, time
import numpy as np
import regioncam
data = np.load(sys.argv[1])
ws = [data[f"w{i}"] for i in range(int(data["n"]))]
bs = [data[f"b{i}"] for i in range(int(data["n"]))]
best = None
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    rc = regioncam.Regioncam(1.0)
    for i, (w, b) in enumerate(zip(ws, bs)):
        rc.linear(w.T.astype(np.float32), b.astype(np.float32))
        if i < len(ws) - 1:
            rc.relu()
    faces = rc.num_faces
    s = time.perf_counter() - t
    best = s if best is None else min(best, s)
print(json.dumps({"faces": faces, "seconds": best}))
"""


RELUCENT_SCRIPT = r"""
import contextlib, io, json, sys, time
from collections import OrderedDict
import numpy as np
from relucent import Complex
from relucent.model.model import LinearLayer, ReLULayer, ReLUNetwork
data = np.load(sys.argv[1])
n = int(data["n"])
layers = OrderedDict()
for i in range(n):
    layers[f"fc{i}"] = LinearLayer(weight=data[f"w{i}"].astype(np.float64), bias=data[f"b{i}"].astype(np.float64))
    if i < n - 1:
        layers[f"relu{i}"] = ReLULayer()
t = time.perf_counter()
cx = Complex(ReLUNetwork(layers))
start = np.array([0.1234567 + 0.0101 * k for k in range(data["w0"].shape[1])])  # off every hyperplane
with contextlib.redirect_stdout(io.StringIO()):
    cx.bfs(start, verbose=0, nworkers=1)
print(json.dumps({"regions": len(cx), "seconds": time.perf_counter() - t}))
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
    t, w = time.process_time(), time.perf_counter()
    try:
        g = enumerate_regions(net, domain, time_limit=limit)
        complete = True
    except LimitReached as e:
        g = e.partial
        complete = False
    dt, wall = time.process_time() - t, time.perf_counter() - w
    decided, fallbacks = g.diagnostics.get("filter_decided", 0), g.diagnostics.get("filter_fallbacks", 0)
    return {
        "regions": g.activation_regions,
        "seconds": dt,
        "wall": wall,
        "fallback_rate": fallbacks / (decided + fallbacks) if decided + fallbacks else float("nan"),
        "lps": g.diagnostics.get("lps", 0),
        "exact_lps": g.diagnostics.get("exact_lps", 0),
        "float_lps": g.diagnostics.get("float_lps", 0),
        "highs_lps": g.diagnostics.get("float_lp_proposals", 0),
        "complete": complete,
    }


def table_one(limit: float, quick: bool) -> list[str]:
    archs = {2: [[8], [16], [8, 8], [6, 6, 6]], 4: [[8], [16], [8, 8], [6, 6, 6]], 6: [[8], [12], [8, 8]], 8: [[10], [12], [8, 8]]}
    lines = [
        "| n0 | widths | regions | complete | seconds | regions/s | exact LPs/region | float solves/region | of which HiGHS LPs | filter fallbacks |",
        "|---|---|---|---|---|---|---|---|---|---|",
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
                f"{r['seconds']:.1f} | {rate:.0f} | {exact:.1f} | {floats:.1f} | {highs:.1f} | {r['fallback_rate']:.2%} |"
            )
            print(lines[-1], flush=True)
    return lines


def _best_of(f, repeats: int) -> tuple[object, float]:
    best, out = None, None
    for _ in range(repeats):
        t = time.perf_counter()
        out = f()
        s = time.perf_counter() - t
        best = s if best is None else min(best, s)
    return out, best


def table_two(limit: float, peer: str | None, quick: bool, traversal: bool = True) -> list[str]:
    """The exact 2-D splitting (floats with proven bounds, `split_regions_2d`; before:
    the rational splitter alone, `_exact_patterns`) against regioncam on 2 -> [w]*3 -> 1,
    each the best of ``repeats`` runs, regioncam's runs in its own process between ours."""
    lines = [
        "| net | regions | traversal s | exact splitter s (before) | filtered splitter s | regioncam s "
        "| filtered / regioncam | before / regioncam | counts agree |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for w in ([20] if quick else [20, 50, 100]):
        repeats = 5 if w < 100 else 3
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
        box = Domain.from_box([[-1, 1], [-1, 1]])
        polys, split_s = _best_of(lambda: split_regions_2d(net, box), repeats)
        peer_res = None
        if peer and Path(peer).exists():
            with tempfile.TemporaryDirectory() as tmp:
                f = os.path.join(tmp, "w.npz")
                np.savez(f, n=4, **{f"w{i}": ws[i] for i in range(4)}, **{f"b{i}": bs[i] for i in range(4)})
                out = subprocess.run([peer, "-c", PEER_SCRIPT, f, str(repeats)], capture_output=True, text=True, check=True)
                peer_res = json.loads(out.stdout.strip().splitlines()[-1])
        exact, exact_s = _best_of(lambda: _exact_patterns(net, box, None), 1)
        same = sorted(p.pattern for p in polys) == sorted(exact)
        if traversal:
            r = run_exact(net, box, limit)
            trav = f"{r['wall']:.1f}" + ("" if r["complete"] else f" ({r['regions']} found, limit)")
        else:
            r, trav = {"complete": False}, "-"
        if peer_res:
            ps = peer_res["seconds"]
            counts = {len(polys), len(exact), peer_res["faces"]} | ({r["regions"]} if r["complete"] else set())
            agree = "yes" if len(counts) == 1 and same else f"no ({sorted(counts)}, same patterns: {same})"
            peer_cols = f"{ps:.4f} | {split_s / ps:.1f}x | {exact_s / ps:.0f}x | {agree}"
        else:
            peer_cols = f"- | - | - | {'yes' if same else 'no'} (regioncam absent)"
        lines.append(f"| 2-{w}-{w}-{w}-1 | {len(polys)} | {trav} | {exact_s:.3f} | {split_s:.4f} | {peer_cols} |")
        print(lines[-1], flush=True)
    return lines


def _dyadic_net(n0: int, widths: list[int], seed: int) -> tuple[Network, list[np.ndarray], list[np.ndarray]]:
    """Weights k/8 with |k| <= 24 (exact in binary64, so both engines read one net)."""
    rng = np.random.default_rng(seed)
    dims = [n0, *widths, 1]
    ws = [rng.integers(-24, 25, (dims[i + 1], dims[i])) / 8 for i in range(len(dims) - 1)]
    bs = [rng.integers(-24, 25, dims[i + 1]) / 8 for i in range(len(dims) - 1)]
    layers = []
    for i, (w, b) in enumerate(zip(ws, bs)):
        layers.append(affine([[Fraction(float(v)) for v in row] for row in w], [Fraction(float(v)) for v in b]))
        if i < len(ws) - 1:
            layers.append(activation("relu"))
    return Network.from_layers(n0, layers), ws, bs


def table_three(limit: float, peer: str | None, quick: bool) -> list[str]:
    lines = [
        "| n0 | widths | exact regions | exact s | relucent regions | relucent s | relucent / exact time | counts agree |",
        "|---|---|---|---|---|---|---|---|",
    ]
    archs = [(3, [8]), (4, [8]), (4, [6, 6])] if quick else [(3, [8]), (4, [8]), (4, [6, 6]), (6, [8]), (6, [6, 6])]
    for n0, widths in archs:
        net, ws, bs = _dyadic_net(n0, widths, seed=10 * n0 + sum(widths))
        r = run_exact(net, None, limit)
        peer_res = None
        if peer and Path(peer).exists():
            with tempfile.TemporaryDirectory() as tmp:
                f = os.path.join(tmp, "w.npz")
                np.savez(f, n=len(ws), **{f"w{i}": w for i, w in enumerate(ws)}, **{f"b{i}": b for i, b in enumerate(bs)})
                try:
                    out = subprocess.run([peer, "-c", RELUCENT_SCRIPT, f], capture_output=True, text=True, timeout=max(limit, 1) * 10)
                    peer_res = json.loads(out.stdout.strip().splitlines()[-1])
                except subprocess.TimeoutExpired:
                    peer_res = {"regions": None, "seconds": max(limit, 1) * 10}
                except (IndexError, json.JSONDecodeError):
                    peer_res = {"regions": None, "seconds": None, "error": (out.stderr.strip().splitlines() or ["?"])[-1]}
        exact = f"{r['regions']} | {r['wall']:.2f}" + ("" if r["complete"] else " (limit)")
        if peer_res is None:
            cols = "- | - | - | - (relucent absent)"
        elif peer_res["regions"] is None and peer_res["seconds"] is None:
            cols = f"- | - | - | - (relucent failed: {peer_res['error'][:60]})"
        elif peer_res["regions"] is None:
            cols = f"- | > {peer_res['seconds']:.0f} (timeout) | - | -"
        else:
            ratio = peer_res["seconds"] / r["wall"] if r["wall"] else float("nan")
            agree = "yes" if r["complete"] and peer_res["regions"] == r["regions"] else "no"
            cols = f"{peer_res['regions']} | {peer_res['seconds']:.2f} | {ratio:.1f}x | {agree}"
        lines.append(f"| {n0} | {widths} | {exact} | {cols} |")
        print(lines[-1], flush=True)
    return lines


def _degenerate_net(n0: int, seed: int) -> Network:
    """Coincident (scaled and opposite copies), concurrent (through the origin), parallel
    and dead rows in the first layer, then a random second layer."""
    rng = random.Random(seed)
    rows, bias = [], []
    for _ in range(3):
        a = [Fraction(rng.randint(-3, 3)) for _ in range(n0)]
        a[rng.randrange(n0)] += 1
        rows += [a, [2 * v for v in a], [-v for v in a], a]
        bias += [Fraction(0), Fraction(0), Fraction(0), Fraction(rng.randint(1, 3))]
    rows.append([Fraction(0)] * n0)
    bias.append(Fraction(-1))
    w = len(rows)
    second = [[Fraction(rng.randint(-2, 2)) for _ in range(w)] for _ in range(4)]
    return Network.from_layers(
        n0, [affine(rows, bias), activation("relu"), affine(second, [Fraction(rng.randint(-1, 1)) for _ in range(4)]),
             activation("relu"), affine([[1, 1, 1, 1]])]
    )


def table_four(limit: float, quick: bool) -> list[str]:
    lines = [
        "| nets | n0 | widths | regions | signs decided by the filter | fell back to exact | fallback rate |",
        "|---|---|---|---|---|---|---|",
    ]
    kinds = {
        "random rational p/q": lambda n0, ws, s: random_net(n0, ws, s),
        "integer weights": _integer_net,
        "degenerate": lambda n0, ws, s: _degenerate_net(n0, s),
    }
    for name, make in kinds.items():
        for n0, widths in ([(4, [8, 8])] if quick else [(2, [8, 8]), (4, [8, 8]), (6, [8])]):
            g = _run_graph(make(n0, widths, n0 * 7 + 1), limit)
            d, f = g.diagnostics.get("filter_decided", 0), g.diagnostics.get("filter_fallbacks", 0)
            wd = "[12 coincident/concurrent, 1 dead] + [4]" if name == "degenerate" else str(widths)
            rate = f"{f / (d + f):.2%}" if d + f else "-"
            lines.append(f"| {name} | {n0} | {wd} | {g.activation_regions} | {d} | {f} | {rate} |")
            print(lines[-1], flush=True)
    # the 2-D splitter decides a whole net in floats or hands it to the exact splitter
    lines += ["", "| nets (2-D splitter, 2 -> [8, 8] -> 1 on [-1, 1]^2, seeds 0..39) | decided in floats | fell back to exact splitting |",
              "|---|---|---|"]
    box = Domain.from_box([[-1, 1], [-1, 1]])
    for name, make in kinds.items():
        decided = sum(1 for seed in range(40 if not quick else 10) if _filtered(make(2, [8, 8], seed), box))
        total = 40 if not quick else 10
        lines.append(f"| {name} | {decided} | {total - decided} |")
        print(lines[-1], flush=True)
    return lines


def _filtered(net: Network, box: Domain) -> bool:
    try:
        certified_patterns(net, box.box)
    except Undecided:
        return False
    return True


def _integer_net(n0: int, widths: list[int], seed: int) -> Network:
    rng = random.Random(seed)
    layers = []
    d = n0
    for w in widths:
        layers += [affine([[rng.randint(-5, 5) for _ in range(d)] for _ in range(w)], [rng.randint(-5, 5) for _ in range(w)]), activation("relu")]
        d = w
    layers.append(affine([[rng.randint(-5, 5) for _ in range(d)]]))
    return Network.from_layers(n0, layers)


def _run_graph(net: Network, limit: float):
    try:
        return enumerate_regions(net, time_limit=limit)
    except LimitReached as e:
        return e.partial


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def table_five(seconds: float) -> list[str]:
    net = random_net(4, [24, 24], seed=4 * 100 + 48)
    marks: list[tuple[int, float]] = []
    step = [1000]
    queue = [0]

    def progress(found: int, queued: int) -> None:
        queue[0] = queued
        if found >= step[0]:
            marks.append((found, time.process_time()))
            step[0] *= 2

    enumerate_regions(random_net(4, [8], seed=1))  # the libraries loaded before measuring
    before = _rss_mib()
    t0 = time.process_time()
    g = None
    try:
        g = enumerate_regions(net, time_limit=seconds, progress=progress)
    except LimitReached as e:
        g = e.partial
    after = _rss_mib()
    lines = ["| regions found | regions/s in the window ending there (CPU) |", "|---|---|"]
    prev_n, prev_t = 0, t0
    for found, t in marks:
        lines.append(f"| {found} | {(found - prev_n) / (t - prev_t):.0f} |")
        prev_n, prev_t = found, t
    m = g.activation_regions
    lines.append("")
    lines.append(f"4 -> [24, 24] -> 1: {m} regions in {seconds:.0f} s, {queue[0]} more queued; resident memory "
                 f"{before:.0f} -> {after:.0f} MiB, {(after - before) * 1024 / max(m, 1):.2f} KiB per region found "
                 "(the queue and the index included); "
                 f"10^6 regions would take about {(after - before) / max(m, 1) * 1e6 / 1024:.1f} GiB")
    for line in lines:
        print(line, flush=True)
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=30.0, help="seconds per exact run (default 30)")
    ap.add_argument("--peer", default="/work/venv-regioncam/bin/python", help="python with regioncam installed")
    ap.add_argument("--quick", action="store_true", help="fewer configurations")
    ap.add_argument("--relucent", default="/work/venv-regions15/bin/python", help="python with relucent installed")
    ap.add_argument("--grow", type=float, default=60.0, help="seconds for table 5 (default 60)")
    ap.add_argument("--no-traversal", action="store_true", help="table 2 without the traversal column")
    ap.add_argument("--part", choices=["1", "2", "3", "4", "5", "all"], default="all", help="only one table")
    args = ap.parse_args()
    print(f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}")
    if args.part in ("1", "all"):
        print("## certified regions per second (random rational ReLU nets on R^n0)")
        table_one(args.time_limit, args.quick)
    if args.part in ("2", "all"):
        print("## exact engine vs regioncam on [-1,1]^2")
        table_two(args.time_limit, args.peer, args.quick, not args.no_traversal)
    if args.part in ("3", "all"):
        print("## exact engine vs relucent on R^n0 (dyadic weights)")
        table_three(args.time_limit, args.relucent, args.quick)
    if args.part in ("4", "all"):
        print("## filtered predicates: fallback rate")
        table_four(args.time_limit, args.quick)
    if args.part in ("5", "all"):
        print("## cost and memory as the count grows")
        table_five(args.grow)


if __name__ == "__main__":
    sys.exit(main())
