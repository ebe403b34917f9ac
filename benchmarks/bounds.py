"""Certified float bounds: numpy against torch (CPU, and CUDA when there is one).

    python benchmarks/bounds.py mlp [--depth 10] [--width 1024] [--norms inf 1 2]
    python benchmarks/bounds.py digits [--case cases/models/digits-cnn.json] [--train]
    python benchmarks/bounds.py maxpool [--seed 0] [--epochs 40]

``mlp``: a seeded random ReLU MLP (He-scaled Gaussian weights), ``depth`` affine layers,
``width`` inputs and hidden neurons, 10 outputs; K_star, K1, K3, K4 for ℓ1/ℓ∞, K_star,
K1 for ℓ2, each backend's seconds per bound (after one warm-up run each) in float64 and
float32 precision, how much looser float32's certified values are, and numpy/torch.
``digits``: the digits CNN case (trained when ``--train`` or missing); seed 004's MNIST
table for it: K_star, K1, K3, K4 in ℓ1 and ℓ∞, explicit against implicit, with the
lower bound on L (search over the test images, re-checked exactly), as markdown.
``maxpool``: a digits CNN with two 2×2 max-pools (trained here as `exactrelu.models.digits.train`
trains its model); K_star, K1, K3, K4 in ℓ1 and ℓ∞ with the max-pools as exact ReLU stages
(``operators_from_torch(..., max_pool="relu")``) and as native nodes (``max_pool="node"``), explicit
and implicit, and the lower bound on L (re-checked exactly on the expanded network).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from exactrelu.floats import bounds as nb  # noqa: E402
from exactrelu.floats.operators import Activation, Linear, OperatorNetwork  # noqa: E402


def machine() -> str:
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}, "
            f"torch {torch.__version__} ({torch.get_num_threads()} threads), {gpu}")


def mlp(depth: int, width: int, outputs: int = 10, seed: int = 0) -> OperatorNetwork:
    rng = np.random.default_rng(seed)
    sizes = [width] * depth + [outputs]
    layers = []
    for i in range(depth):
        w = rng.standard_normal((sizes[i + 1], sizes[i])) * math.sqrt(2 / sizes[i])
        layers.append(Linear.create(w, 0.1 * rng.standard_normal(sizes[i + 1])))
        if i < depth - 1:
            layers.append(Activation.relu(sizes[i + 1]))
    return OperatorNetwork.build((width,), layers, f"mlp-{depth}x{width}")


def run_mlp(args: argparse.Namespace) -> None:
    import torch

    net = mlp(args.depth, args.width)
    print(f"# {net.name}: {args.depth} affine layers, {sum(net.widths)} ReLUs; {machine()}")
    backends = [("numpy", lambda n, p: nb.bounds(net, n, lower=False, precision=p)),
                ("torch-cpu", lambda n, p: nb.bounds(net, n, device="cpu", lower=False, precision=p, backend="torch"))]
    if torch.cuda.is_available():
        backends.append(("torch-cuda", lambda n, p: nb.bounds(net, n, device="cuda", lower=False, precision=p, backend="torch")))
    runs = [(name, prec, fn) for prec in ("float64", "float32") for name, fn in backends]
    for name, prec, fn in runs:  # warm-up: BLAS threads, first-touch pages, torch's allocator
        fn("inf", prec)
    print("| norm | bound | float64 value (certified upper) | float32 / float64 − 1 | "
          + " | ".join(f"{name} {prec[-2:]} s" for name, prec, _ in runs) + " | numpy / torch-cpu (64) |")
    print("|---|---|---|---|" + "---|" * len(runs) + "---|")
    for norm in args.norms:
        results = {(name, prec): fn(norm, prec) for name, prec, fn in runs}
        keys = ["K_star", "K3", "K1", "K4"] if norm != "2" else ["K_star", "K1"]
        for key in keys + ["total"]:
            base = results[("numpy", "float64")]
            if key == "total":
                value = loose = ""
            else:
                value = f"{base[key].value:.6g}"
                loose = f"{results[('numpy', 'float32')][key].value / base[key].value - 1:.1e}"
            secs = [r.diagnostics["seconds"].get(key, 0.0) for r in results.values()]
            ratio = secs[0] / secs[1] if secs[1] > 0 else math.nan
            print(f"| {norm} | {key} | {value} | {loose} | " + " | ".join(f"{s:.3f}" for s in secs) + f" | {ratio:.2f} |")
        agree = [max(abs(results[("numpy", p)][k].value / results[("torch-cpu", p)][k].value - 1) for k in keys)
                 for p in ("float64", "float32")]
        print(f"| {norm} | numpy vs torch | max relative difference {agree[0]:.1e} (float64), {agree[1]:.1e} "
              "(float32) |" + " |" * (len(runs) + 2))


def run_digits(args: argparse.Namespace) -> None:
    from exactrelu.floats.estimate import lipschitz_lower
    from exactrelu.io.case import read_case
    from exactrelu.io.torch import operators_from_torch
    from exactrelu.models import digits

    path = Path(args.case)
    if args.train or not path.exists():
        trained = digits.train(args.seed)
        digits.save_case(trained, str(path))
    case = read_case(path)
    module = digits.module_from_case(case.network).double()
    op = operators_from_torch(module, digits.INPUT_SHAPE, "digits-cnn")
    _, _, Xte, yte = digits.data(args.seed)
    print(f"# digits-cnn ({case.network.source}); {machine()}")
    rows = []
    for mode in ("explicit", "implicit"):
        cells, secs = [], 0.0
        for norm in ("1", "inf"):
            b = nb.bounds(op, norm, mode=mode, lower=False)
            secs += b.diagnostics["seconds"]["total"]
            cells += [b[k].value for k in ("K_star", "K1", "K3", "K4")]
        rows.append((mode, cells, secs))
    lows = {}
    for norm in ("1", "inf"):
        t = time.perf_counter()
        low = lipschitz_lower(case.network, norm, samples=256, steps=args.steps, data=Xte.reshape(len(Xte), -1),
                              box=[(0, 1)] * 64, seed=args.seed)
        lows[norm] = (low, time.perf_counter() - t)
    print("\n| approach | ℓ1 K_star | ℓ1 K1 | ℓ1 K3 | ℓ1 K4 | ℓ∞ K_star | ℓ∞ K1 | ℓ∞ K3 | ℓ∞ K4 | seconds (numpy) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for mode, cells, secs in rows:
        print(f"| {mode} | " + " | ".join(f"{v:.4e}" for v in cells) + f" | {secs:.2f} |")
    print("\n| norm | lower bound on L | guarantee | search evaluations | seconds | upper bound (min K) |")
    print("|---|---|---|---|---|---|")
    for norm, (low, secs) in lows.items():
        upper = min(rows[0][1][4 * (norm == "inf"):4 * (norm == "inf") + 4])
        print(f"| {'ℓ1' if norm == '1' else 'ℓ∞'} | {float(low.value.value):.6g} | {low.value.label} | "
              f"{low.evaluations} | {secs:.1f} | {upper:.4e} |")
    print(f"\ntest accuracy (float32 torch): {_accuracy(module, Xte, yte):.4f} on {len(Xte)} images")


def run_maxpool(args: argparse.Namespace) -> None:
    from exactrelu.floats.estimate import lipschitz_lower
    from exactrelu.floats.operators import expand_max_pools
    from exactrelu.io.torch import operators_from_torch
    from exactrelu.models import digits

    t = time.perf_counter()
    trained = digits.train(args.seed, args.epochs, digits.maxpool_architecture)
    module, accuracy = trained.module.double(), trained.accuracy
    train_s = time.perf_counter() - t
    nets = {mp: operators_from_torch(module, digits.INPUT_SHAPE, f"digits-maxpool-{mp}", max_pool=mp) for mp in ("relu", "node")}
    print(f"# digits CNN with two 2x2 max-pools (seed {args.seed}, {args.epochs} epochs, {train_s:.0f} s; test "
          f"accuracy {accuracy:.4f}); hidden widths: relu {nets['relu'].widths}, node {nets['node'].widths}; "
          f"{machine()}")
    keys = ("K_star", "K1", "K3", "K4")
    print("\n| max_pool | mode | ℓ1 K_star | ℓ1 K1 | ℓ1 K3 | ℓ1 K4 | ℓ∞ K_star | ℓ∞ K1 | ℓ∞ K3 | ℓ∞ K4 | seconds (numpy) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    best = {"1": math.inf, "inf": math.inf}
    for mp, net in nets.items():
        for mode in ("explicit", "implicit"):
            cells, secs = [], 0.0
            for norm in ("1", "inf"):
                b = nb.bounds(net, norm, mode=mode, lower=False)
                secs += b.diagnostics["seconds"]["total"]
                cells += [f"{b[k].value:.4e}" if k in b else "—" for k in keys]
                best[norm] = min([best[norm]] + [b[k].value for k in keys if k in b])
            print(f"| {mp} | {mode} | " + " | ".join(cells) + f" | {secs:.2f} |")
    _, _, Xte, _ = digits.data(args.seed)
    print("\n| norm | lower bound on L | guarantee | search evaluations | seconds | best upper bound | ratio |")
    print("|---|---|---|---|---|---|---|")
    for norm in ("1", "inf"):
        t = time.perf_counter()
        low = lipschitz_lower(nets["node"], norm, samples=256, steps=args.steps, data=Xte.reshape(len(Xte), -1),
                              box=[(0, 1)] * 64, seed=args.seed)
        secs = time.perf_counter() - t
        value = float(low.value.value)
        print(f"| {'ℓ1' if norm == '1' else 'ℓ∞'} | {value:.6g} | {low.value.label} | {low.evaluations} | "
              f"{secs:.1f} | {best[norm]:.4e} | {best[norm] / value:.1f} |")
    print(f"\n(the exact re-check runs on the expanded network: {sum(expand_max_pools(nets['node']).widths)} neurons)")


def _accuracy(module, X, y) -> float:
    import torch

    with torch.no_grad():
        pred = module(torch.as_tensor(X, dtype=torch.float64)).argmax(1).numpy()
    return float((pred == y).mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    m = sub.add_parser("mlp")
    m.add_argument("--depth", type=int, default=10)
    m.add_argument("--width", type=int, default=1024)
    m.add_argument("--norms", nargs="+", default=["inf", "1", "2"])
    d = sub.add_parser("digits")
    d.add_argument("--case", default=str(REPO / "cases" / "models" / "digits-cnn.json"))
    d.add_argument("--train", action="store_true")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--steps", type=int, default=30)
    x = sub.add_parser("maxpool")
    x.add_argument("--seed", type=int, default=0)
    x.add_argument("--epochs", type=int, default=40)
    x.add_argument("--steps", type=int, default=30)
    args = p.parse_args()
    {"mlp": run_mlp, "digits": run_digits, "maxpool": run_maxpool}[args.what](args)


if __name__ == "__main__":
    main()
