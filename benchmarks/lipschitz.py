"""Exact Lipschitz constants: exactrelu against LipMIP (Jordan & Dimakis 2020), and ℓ2 against ℓ∞.

    /work/venv/bin/python benchmarks/lipschitz.py [--lipmip /path/to/lipMIP] \
        [--lipmip-python /work/venv-lipmip/bin/python] [--widths 10 20 30 40] \
        [--domains 1 100 R] [--time-limit 600] [--seed 0] [--repeat 1]
    /work/venv/bin/python benchmarks/lipschitz.py --norms 4-8-8-1 4-16-16-2 [--domains R 1] [--seeds 0 1 2]

``--norms`` times the exact L in ℓ∞, ℓ1 and ℓ2 on nets of the given shapes (torch's
default initialisation, float32 values, as below; no LipMIP) and prints ℓ2's time over ℓ∞'s.

The nets are LipMIP's family [2, w, w, w, 2] with torch's default initialisation
(U(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights and biases) drawn by
numpy.random.default_rng(seed) as float32 values, so that the float32 torch model LipMIP
solves and the exact rational model exactrelu solves are the same function. LipMIP
computes the ℓ∞ Lipschitz constant of the scalar ``<c, f(x)>`` (``c = (1, -1)``, its
``primal_norm='linf'``: the largest ‖cᵀJ‖_1), so exactrelu is run on the same scalar net
(last layer ``cᵀW``, ``cᵀb``) with ``--norm inf``.

LipMIP runs in a separate interpreter (its own venv with gurobipy; it is never imported
here and none of its code is in this repository) through a few lines that call its public
API; without ``--lipmip`` its column is skipped. LipMIP cannot take R^n (its MIP needs a
bounded box); exactrelu can, and that column is exactrelu's alone.
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exactrelu.core.domain import Domain  # noqa: E402
from exactrelu.core.errors import LimitReached  # noqa: E402
from exactrelu.core.network import Network, activation, affine  # noqa: E402
from exactrelu.lipschitz import lipschitz  # noqa: E402

RUNNER = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
import torch, torch.nn as nn
from relu_nets import ReLUNet
from hyperbox import Hyperbox
from lipMIP import LipMIP
data = np.load(sys.argv[2])
radius = float(sys.argv[3])
n = int(data["n"])
layers = []
for i in range(n):
    W, b = data[f"W{i}"], data[f"b{i}"]
    lin = nn.Linear(W.shape[1], W.shape[0])
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(W)); lin.bias.copy_(torch.tensor(b))
    layers.append(lin)
    if i < n - 1:
        layers.append(nn.ReLU())
net = ReLUNet.from_sequential(nn.Sequential(*layers))
box = Hyperbox.from_twocol(torch.tensor([[-radius, radius]] * 2))
t = time.perf_counter()
res = LipMIP(net, box, c_vector=torch.tensor([1.0, -1.0]), primal_norm="linf", num_threads=1).compute_max_lipschitz()
print(json.dumps({"value": float(res.value), "time": time.perf_counter() - t}))
"""


def family(width: int, seed: int, dims: list[int] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """[2, w, w, w, 2] (or ``dims``) with torch's default init, as float32 values (held in float64)."""
    rng = np.random.default_rng(seed)
    dims = dims or [2, width, width, width, 2]
    out = []
    for i in range(len(dims) - 1):
        bound = 1 / np.sqrt(dims[i])
        W = rng.uniform(-bound, bound, (dims[i + 1], dims[i])).astype(np.float32).astype(np.float64)
        b = rng.uniform(-bound, bound, dims[i + 1]).astype(np.float32).astype(np.float64)
        out.append((W, b))
    return out


def _layers(weights: list[tuple[np.ndarray, np.ndarray]]) -> list:
    """The exact affine layers of the float values, ReLU between them."""
    layers = []
    for i, (W, b) in enumerate(weights):
        layers.append(affine(W, b))
        if i < len(weights) - 1:
            layers.append(activation("relu"))
    return layers


def scalar_network(weights: list[tuple[np.ndarray, np.ndarray]]) -> Network:
    """The exact net of ``<c, f>`` with c = (1, -1) (read exactly from the float values)."""
    return Network.from_layers(2, _layers(weights) + [affine([[1, -1]])])


def run_exactrelu(net: Network, radius: str, time_limit: float, repeat: int = 1) -> dict:
    """exactrelu's L, its time (the least of ``repeat`` runs) and diagnostics."""
    domain = None if radius == "R" else Domain.from_box([[-int(radius), int(radius)]] * 2)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            res = lipschitz(net, "inf", domain, time_limit=time_limit)
        except LimitReached as e:
            return {"value": None, "time": time.perf_counter() - start, "note": f"time limit ({e})"}
        times.append(time.perf_counter() - start)
    return {"value": res.value.value, "time": min(times), "diag": res.diagnostics}


def run_lipmip(path: str, python: str, weights: list, radius: str, time_limit: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        npz = os.path.join(tmp, "net.npz")
        arrays = {"n": len(weights)}
        for i, (W, b) in enumerate(weights):
            arrays[f"W{i}"] = W.astype(np.float32)
            arrays[f"b{i}"] = b.astype(np.float32)
        np.savez(npz, **arrays)
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                [python, "-c", RUNNER, path, npz, radius], capture_output=True, text=True, timeout=time_limit,
                env={**os.environ, "OMP_NUM_THREADS": "1"},
            )
        except subprocess.TimeoutExpired:
            return {"value": None, "time": time.perf_counter() - start, "note": "time limit"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"value": None, "time": time.perf_counter() - start, "note": f"failed: {tail[0][:160]}"}
    return json.loads(lines[-1])


def network(weights: list[tuple[np.ndarray, np.ndarray]]) -> Network:
    """The exact net of the float values (ReLU between the affine layers)."""
    return Network.from_layers(weights[0][0].shape[1], _layers(weights))


def norms_table(shapes: list[str], domains: list[str], seeds: list[int], time_limit: float) -> None:
    """ℓ∞, ℓ1 and ℓ2 times of the exact L on nets of the given shapes (``4-8-8-1``)."""
    print("| net | seed | domain | ℓ∞ s | ℓ1 s | ℓ2 s | ℓ2 / ℓ∞ | ℓ2 nodes / pruned | ℓ2 L |")
    print("|---|---|---|---|---|---|---|---|---|")
    for shape in shapes:
        dims = [int(v) for v in shape.split("-")]
        for seed in seeds:
            net = network(family(0, seed, dims))
            for radius in domains:
                domain = None if radius == "R" else Domain.from_box([[-float(radius), float(radius)]] * dims[0])
                row = {}
                for p in ("inf", "1", "2"):
                    start = time.perf_counter()
                    try:
                        row[p] = (lipschitz(net, p, domain, time_limit=time_limit), time.perf_counter() - start)
                    except LimitReached as e:
                        row[p] = (None, f"> {time_limit:g} ({e})")
                t = {p: f"{v[1]:.2f}" if v[0] is not None else v[1] for p, v in row.items()}
                ratio = f"{row['2'][1] / row['inf'][1]:.2f}" if row["2"][0] and row["inf"][0] else "—"
                res = row["2"][0]
                d = res.diagnostics if res else {}
                dom = "R^n" if radius == "R" else f"[-{radius},{radius}]^n"
                value = f"{float(res.value.value):.9f}" if res else "—"
                print(f"| {shape} | {seed} | {dom} | {t['inf']} | {t['1']} | {t['2']} | {ratio} | "
                      f"{d.get('nodes', '')} / {d.get('pruned', '')} | {value} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--norms", nargs="+", default=None, metavar="SHAPE",
                    help="time ℓ∞, ℓ1, ℓ2 on nets of these shapes (4-8-8-1 ...) instead of the LipMIP table")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--lipmip", default=None, help="path to a checkout of revbucket/lipMIP")
    ap.add_argument("--lipmip-python", default="/work/venv-lipmip/bin/python")
    ap.add_argument("--widths", type=int, nargs="+", default=[10, 20, 30, 40])
    ap.add_argument("--domains", nargs="+", default=["1", "100", "R"], help="box radii, or R")
    ap.add_argument("--time-limit", type=float, default=600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1, help="exactrelu runs per net; its least time is shown")
    args = ap.parse_args()
    if args.norms:
        norms_table(args.norms, args.domains, args.seeds, args.time_limit)
        return
    print("| net | domain | exactrelu L (exact) | exactrelu s | regions reached / nodes / LPs | LipMIP L | LipMIP s | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for w in args.widths:
        weights = family(w, args.seed)
        net = scalar_network(weights)
        for radius in args.domains:
            ours = run_exactrelu(net, radius, args.time_limit, args.repeat)
            theirs = {"value": None, "time": None, "note": "skipped (no --lipmip)"}
            if args.lipmip and radius != "R":
                theirs = run_lipmip(args.lipmip, args.lipmip_python, weights, radius, args.time_limit)
            elif radius == "R":
                theirs = {"value": None, "time": None, "note": "cannot (unbounded domain)"}
            value = ours["value"]
            shown = f"{float(value):.9f}" if value is not None else ours.get("note", "")
            d = ours.get("diag", {})
            diag = f"{d.get('leaves', '')} / {d.get('nodes', '')} / {d.get('lps', '')}"
            tv = f"{theirs['value']:.9f}" if theirs.get("value") is not None else theirs.get("note", "")
            tt = f"{theirs['time']:.2f}" if theirs.get("time") is not None and theirs.get("value") is not None else "—"
            ratio = (
                f"{theirs['time'] / ours['time']:.1f}×"
                if theirs.get("value") is not None and value is not None
                else "—"
            )
            dom = "R²" if radius == "R" else f"[-{radius},{radius}]²"
            print(f"| [2,{w},{w},{w},2] | {dom} | {shown} | {ours['time']:.2f} | {diag} | {tv} | {tt} | {ratio} |",
                  flush=True)


if __name__ == "__main__":
    main()
