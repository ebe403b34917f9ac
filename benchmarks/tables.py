"""Reproduce the seeds' tables with the exact engine and print them beside the printed ones.

    /work/venv/bin/python benchmarks/tables.py [--draws 1000] [--exact-check 20] [--skip-random]

Sections (markdown on stdout):

1. seed 004 'Results and optimality of K4' (l = 1..6): the exact L of f_l; every printed
   column for the form behind the print (`constructions.sawtooth_width3`, ℓ∞, K2 =
   SeqLip's split measured in ℓ∞), with how the print renders each exact value; then K_star,
   K1, K2, K3, K4 for this project's two other ReLU forms of f_l (shallow and Yarotsky's deep
   form), in ℓ1, ℓ∞ and (K2) ℓ2.
2. seed 004 'Matrices with random weights': ``draws`` nets 8→10→6→3 with N(0,1) weights
   (numpy.random.default_rng(seed) for seed = 0, 1, …, read exactly from their float64
   values); max / mean / min / std of K/K*, K1/K*, K2/K*, K3/K*, K4/K* for each norm. K is
   found by `exactrelu.bounds.k_inf_arrays` on float64 arrays (the exact branch and bound on
   integer arrays is run on the first ``exact-check`` draws and compared); every other bound
   is exact (K2: SeqLip, floats from SVDs, certified; in ℓ∞ also SeqLip's split measured in ℓ∞).
3. seed 002: C (Theorem 1) and C_E (Proposition 3) beside the exact L on (2, 2W, 1) spline nets.
4. seed 003: the exact W^{1,∞}((0,1)) distance between x² and f_l.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exactrelu import bounds as B  # noqa: E402
from exactrelu.constructions import (  # noqa: E402
    circle_network,
    random_network,
    sawtooth_network,
    sawtooth_width3,
    w1inf_distance_to_square,
    yarotsky_deep,
)
from exactrelu.core.domain import Domain  # noqa: E402
from exactrelu.core.network import Network  # noqa: E402
from exactrelu.lipschitz import lipschitz  # noqa: E402

PRINTED_K4_TABLE = {  # seed 004, 'Results and optimality of K4': l: (L, K*, K1, K2, K3, K4)
    1: (1.5, 3.0, 2.0, 1.5, 2.0, 1.5),
    2: (1.75, 9.0, 3.53125, 3.64531, 3.0, 1.75),
    3: (1.875, 33.0, 6.92187, 6.45925, 4.0, 1.875),
    4: (1.93875, 129.0, 14.42877, 12.45882, 5.0, 1.93875),
    5: (1.96875, 513.0, 30.75637, 24.68184, 6.0, 1.96875),
    6: (1.984375, 2049.0, 66.00227, 49.24501, 7.0, 1.984375),
}
PRINTED_RANDOM = {  # statistic: (K/K*, K1/K*, K2/K*, K3/K*, K4/K*)
    "max": (0.2772, 0.5786, 0.6789, 0.8023, 0.4608),
    "mean": (0.1422, 0.4539, 0.3256, 0.5461, 0.2875),
    "min": (0.0595, 0.3703, 0.1597, 0.2897, 0.1604),
    "std": (0.0343, 0.0350, 0.0685, 0.0813, 0.0483),
}


def f(x: object) -> str:
    return f"{float(x):.6g}"


def k_family(net: Network, norm: str) -> dict[str, float]:
    out = {
        "K*": float(B.k_star(net, norm).value),
        "K": float(B.k_patterns(net, norm)[0].value),
        "K1": float(B.k1(net, norm).value),
        "K3": float(B.k3(net, norm).value),
        "K4": float(B.k4(net, norm).value),
    }
    return out


def section_k4_table() -> None:
    print("## seed 004, 'Results and optimality of K4'\n")
    print("Exact L of f_l over R and over [0, 1] (both forms give the same function on [0, ∞)):\n")
    print("| l | printed L | exact L (R) | exact L ([0,1]) | 2 - 2^-l |")
    print("|---|---|---|---|---|")
    for ell in range(1, 7):
        net = sawtooth_network(ell)
        lr = lipschitz(net, "inf").exact
        lu = lipschitz(net, "inf", Domain.from_box([[0, 1]])).exact
        print(f"| {ell} | {PRINTED_K4_TABLE[ell][0]} | {lr} = {f(lr)} | {lu} | {2 - Fraction(1, 2**ell)} |")
    section_width3()
    for form, make in (("shallow", sawtooth_network), ("deep", yarotsky_deep)):
        for norm in ("1", "inf"):
            print(f"\n{form} form, ℓ{'∞' if norm == 'inf' else norm} (K2: SeqLip in ℓ2); printed values in brackets:\n")
            print("| l | K* | K | K1 | K2 (ℓ2 SeqLip) | K3 | K4 |")
            print("|---|---|---|---|---|---|---|")
            for ell in range(1, 7 if form == "shallow" else 6):
                net = make(ell)
                v = k_family(net, norm)
                try:
                    k2 = f(B.k2(net).value)
                except B.InputError:
                    k2 = "— (2^%d patterns)" % (2**ell + 1)
                p = PRINTED_K4_TABLE[ell]
                print(
                    f"| {ell} | {f(v['K*'])} [{p[1]}] | {f(v['K'])} | {f(v['K1'])} [{p[2]}] | {k2} [{p[3]}] | "
                    f"{f(v['K3'])} [{p[4]}] | {f(v['K4'])} [{p[5]}] |"
                )


def rendering(exact: Fraction, printed: float) -> str:
    """How the print renders an exact value: exactly, truncated or rounded to its decimals, or not."""
    text = repr(printed)
    digits = len(text.split(".")[1]) if "." in text else 0
    scale = 10**digits
    if Fraction(text) == exact:
        return "exact"
    if Fraction(math.floor(exact * scale), scale) == Fraction(text):
        return "truncated"
    if Fraction(round(exact * scale), scale) == Fraction(text):
        return "rounded"
    return "**differs**"


def section_width3() -> None:
    print("\n### The printed form: one width-3 hidden layer per factor g, ℓ∞\n")
    print("`sawtooth_width3(l)`; K2 = SeqLip's split measured in ℓ∞ (`k2(net, 'seqlip_inf')`, a certified")
    print("upper bound, exact rational); exact value, then [printed], then how the print renders it:\n")
    print("| l | L | K* | K1 | K2 (SeqLip split, ℓ∞) | K3 | K4 |")
    print("|---|---|---|---|---|---|---|")
    for ell in range(1, 7):
        net = sawtooth_width3(ell)
        values = [lipschitz(net, "inf").exact, B.k_star(net, "inf").value, B.k1(net, "inf").value,
                  B.k2(net, "seqlip_inf").value, B.k3(net, "inf").value, B.k4(net, "inf").value]
        cells = []
        for i, (v, p) in enumerate(zip(values, PRINTED_K4_TABLE[ell])):
            shown = f"{float(v):.10g}" if i == 3 else (str(v) if v.denominator <= 2**14 else f"{float(v):.12g}")
            cells.append(f"{shown} [{p}] {rendering(v, p)}")
        print(f"| {ell} | " + " | ".join(cells) + " |")


def _float_weights(net: Network) -> list[np.ndarray]:
    return [np.array([[float(v) for v in row] for row in a.weight]) for a in net.chain.affines]


def section_random(draws: int, exact_check: int) -> None:
    print(f"\n## seed 004, 'Matrices with random weights' ({draws} draws of 8→10→6→3)\n")
    ratios: dict[str, dict[str, list[float]]] = {}
    mismatches = 0
    t0 = time.perf_counter()
    for seed in range(draws):
        net = random_network([8, 10, 6, 3], seed)
        ws = _float_weights(net)
        k2 = float(B.k2(net).value)
        k2_inf = float(B.k2(net, "seqlip_inf").value)
        for norm in ("1", "inf", "2"):
            r = ratios.setdefault(norm, {k: [] for k in ("K", "K1", "K2", "K2inf", "K3", "K4")})
            ks = float(B.k_star(net, norm).value)
            if norm == "2":
                k = float(B.k_patterns(net, "2", max_nodes=1 << 17)[0].value) if seed < exact_check else float("nan")
            else:
                arrs = ws if norm == "inf" else [w.T for w in reversed(ws)]
                k = float(B.k_inf_arrays(arrs)[0])
                if seed < exact_check:
                    exact = B.k_patterns(net, norm)[0].value
                    if abs(float(exact) - k) > 1e-12 * float(exact):
                        mismatches += 1
            r["K"].append(k / ks)
            r["K1"].append(float(B.k1(net, norm).value) / ks)
            r["K2"].append(k2 / ks)
            r["K2inf"].append(k2_inf / ks)
            r["K3"].append(float(B.k3(net, norm).value) / ks)
            r["K4"].append(float(B.k4(net, norm).value) / ks)
    elapsed = time.perf_counter() - t0
    for norm in ("1", "inf", "2"):
        name = {"1": "ℓ1", "inf": "ℓ∞", "2": "ℓ2"}[norm]
        note = " (K/K* over the first exact-check draws only: K in ℓ2 enumerates 2^16 patterns exactly)" if norm == "2" else ""
        print(f"\n{name}, every bound and K* in {name}; K2 = SeqLip (ℓ2) over K* in {name}{note}; printed in brackets:\n")
        keys = ("K", "K1", "K2", "K2inf", "K3", "K4") if norm == "inf" else ("K", "K1", "K2", "K3", "K4")
        print("| statistic | K/K* | K1/K* | K2/K* | " + ("K2 (SeqLip split, ℓ∞)/K* | " if norm == "inf" else "")
              + "K3/K* | K4/K* |")
        print("|---" * (len(keys) + 1) + "|")
        for stat, fn in (("max", max), ("mean", statistics.fmean), ("min", min), ("std", statistics.pstdev)):
            cells = []
            for key in keys:
                vals = [v for v in ratios[norm][key] if v == v]
                printed = PRINTED_RANDOM[stat][("K", "K1", "K2", "K3", "K4").index(key.replace("inf", ""))]
                cells.append(f"{fn(vals):.4f} [{printed}]")
            print(f"| {stat} | " + " | ".join(cells) + " |")
    print(f"\nK by float branch and bound vs exact on the first {exact_check} draws: {mismatches} mismatches; "
          f"time {elapsed:.1f} s")


def section_seed002() -> None:
    print("\n## seed 002: Theorem 1 (C) and Proposition 3 (C_E) beside the exact L\n")
    print("| net | norm | L | C | C_E | K3 |")
    print("|---|---|---|---|---|---|")
    for width in (1, 2, 3):
        for seed in (0, 1):
            net = circle_network(width, 3, seed)
            for norm in ("1", "inf", "2"):
                L = lipschitz(net, norm).exact
                c = B.c_theorem1(net, norm).value
                ce = f(B.c_e(net).value) if norm == "2" else "—"
                try:
                    k3 = f(B.k3(net, norm).value)
                except Exception as e:  # slopes outside [-1, 1]
                    k3 = "n/a (" + str(e).split(";")[1].strip() + ")"
                print(f"| {net.name} | {norm} | {f(L)} | {f(c)} | {ce} | {k3} |")


def section_seed003() -> None:
    print("\n## seed 003: W^{1,∞}((0,1)) distance between x² and f_l\n")
    print("| l | ‖x² − f_l‖_∞ | ‖2x − f_l'‖_∞ | sum | seed 004's bound 1/(3·4^l) |")
    print("|---|---|---|---|---|")
    for ell in range(1, 7):
        v, d = w1inf_distance_to_square(sawtooth_network(ell))
        v2, d2 = w1inf_distance_to_square(yarotsky_deep(ell)) if ell <= 5 else (v, d)
        assert (v, d) == (v2, d2)
        print(f"| {ell} | {v} | {d} | {v + d} | {Fraction(1, 3 * 4**ell)} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--exact-check", type=int, default=20)
    ap.add_argument("--skip-random", action="store_true")
    args = ap.parse_args()
    section_k4_table()
    if not args.skip_random:
        section_random(args.draws, args.exact_check)
    section_seed002()
    section_seed003()


if __name__ == "__main__":
    main()
