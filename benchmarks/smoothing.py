"""Gaussian smoothing (seed 000): the minimal model's picture and the adversarial experiment.

    python benchmarks/smoothing.py seed000 [-o seed000-smoothed.png]   # the picture (docs/make_images.py puts it in docs/img)
    python benchmarks/smoothing.py digits [--count 40] [--samples 2000]   # needs scikit-learn: the examples extra

``seed000``: f_θ(x) = α·max(βx + γ, 0) on the data x ∈ {−1, 1}; the derivative in γ of
F(θ) = f_θ(1) + f_θ(−1), unsmoothed (exact, `calculus.parameter_gradient`) and smoothed
(`smoothing.smoothed`, certified), along a line across the kink locus and over the (β, γ) plane.

``digits``: the CNN of `cases/models/digits-cnn.json` (scikit-learn's 8×8 digits; needs
scikit-learn for the test images, the ``examples`` extra): for each of the first ``count``
correctly classified test digits, an adversarial δ by signed gradient steps (step 0.005, x + δ
kept in [0, 1]) until the true class's probability is below 1e-3; then, for each σ, the smoothed
probability ``p̄_y = E[softmax(f(x + δ + σZ))_y]`` by Monte Carlo (``samples`` draws, a 99%
CLT interval) and the smoothed prediction ``argmax E[softmax]``, and the same at the clean x.
The column ‖δ‖₂ < σΦ⁻¹(p̄_y(x)) counts the digits where recovery is guaranteed: x ↦ Φ⁻¹(p̄_y(x))
is (1/σ)-Lipschitz in ℓ2 (Salman et al. 2019), so p̄_y(x + δ) > 1/2 whenever ‖δ‖₂ < σΦ⁻¹(p̄_y(x))
(with the Monte Carlo mean for p̄_y(x)). δ₀ is the attack's first step that flips the prediction.
Markdown on stdout.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from statistics import NormalDist
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from exactrelu.calculus import parameter_gradient  # noqa: E402
from exactrelu.constructions import seed000_minimal  # noqa: E402
from exactrelu.smoothing import smoothed  # noqa: E402

Z99 = 2.5758293035489004  # the 99.5% normal quantile


def dgamma_unsmoothed(alpha: Fraction, beta: Fraction, gamma: Fraction) -> float:
    net = seed000_minimal(alpha, beta, gamma)
    return float(sum(parameter_gradient(net, [x]).bias[0][0][0] for x in (1, -1)))


def dgamma_smoothed(alpha: Fraction, beta: Fraction, gamma: Fraction, sigma: Fraction) -> float:
    net = seed000_minimal(alpha, beta, gamma)
    total = 0.0
    for x in (1, -1):
        q = smoothed(net, [x], sigma, prec=64).parameter_gradient.bias[0][0][0]
        lo, hi = q.interval
        assert hi - lo < Fraction(1, 10**12)
        total += float(q.value)
    return total


def seed000(out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    alpha = Fraction(1)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    # a line across the locus β = −γ (x = 1) at γ = −1/2
    gamma = Fraction(-1, 2)
    betas = [Fraction(1, 4) + Fraction(k, 200) for k in range(101)]  # 1/4 … 3/4, through β = 1/2
    ax = axes[0]
    ax.step([float(b) for b in betas], [dgamma_unsmoothed(alpha, b, gamma) for b in betas], where="mid",
            color="black", lw=2, label="unsmoothed (exact)")
    for sigma, colour in ((Fraction(1, 20), "tab:blue"), (Fraction(1, 5), "tab:orange"), (Fraction(1, 2), "tab:green")):
        ax.plot([float(b) for b in betas], [dgamma_smoothed(alpha, b, gamma, sigma) for b in betas], color=colour,
                label=f"smoothed, σ = {float(sigma):g} (certified)")
    ax.axvline(0.5, color="grey", ls=":", lw=1)
    ax.set_xlabel("β   (γ = −1/2, α = 1; the locus β = −γ at β = 1/2)")
    ax.set_ylabel("∂F/∂γ,  F = f_θ(1) + f_θ(−1)")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("across the kink locus")
    # the (β, γ) plane, avoiding β = 0 (there the noise does not reach the neuron)
    n = 40  # even: the cell centres avoid β = 0
    grid = [Fraction(-2) + (k + Fraction(1, 2)) * Fraction(4, n) for k in range(n)]
    extent = [-2, 2, -2, 2]
    raw = np.array([[dgamma_unsmoothed(alpha, b, g) for b in grid] for g in grid])
    smooth = np.array([[dgamma_smoothed(alpha, b, g, Fraction(3, 10)) for b in grid] for g in grid])
    for ax, data, title in ((axes[1], raw, "unsmoothed: jumps on β = γ and β = −γ"),
                            (axes[2], smooth, "smoothed, σ = 0.3: continuous")):
        im = ax.imshow(data, origin="lower", extent=extent, cmap="viridis", vmin=0, vmax=2, aspect="equal")
        ax.plot([-2, 2], [-2, 2], color="white", ls=":", lw=1)
        ax.plot([-2, 2], [2, -2], color="white", ls=":", lw=1)
        ax.set_xlabel("β")
        ax.set_ylabel("γ")
        ax.set_title(title)
    fig.colorbar(im, ax=axes[1:], shrink=0.85, label="∂F/∂γ")
    fig.suptitle("Seed 000's minimal model α·max(βx + γ, 0) on x ∈ {−1, 1}: Gaussian input noise makes θ ↦ E f_θ smooth", y=1.04)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight")


def digits(count: int, samples: int, sigmas: list[float], seed: int) -> None:
    import torch

    from exactrelu.io.load import load_case
    from exactrelu.models import digits as D

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    net = load_case(str(ROOT / "cases" / "models" / "digits-cnn.json")).network
    model = D.module_from_case(net)
    _, _, Xte, yte = D.data(0)
    X, y = torch.from_numpy(Xte), torch.from_numpy(yte)
    with torch.no_grad():
        clean_ok = (model(X).argmax(1) == y).nonzero().flatten()[:count]
    rows = []
    gen = torch.Generator().manual_seed(seed)
    for idx in clean_ok.tolist():
        x, label = X[idx:idx + 1], int(y[idx])
        (flip, delta), steps = _attack(model, x, label)
        adv, first = (x + delta).clamp(0, 1), (x + flip).clamp(0, 1)
        with torch.no_grad():
            p_adv = float(model(adv).softmax(1)[0, label])
        row = {"label": label, "steps": steps, "linf": float((adv - x).abs().max()), "l2": float((adv - x).norm()),
               "l2_flip": float((first - x).norm()), "p_adv": p_adv}
        for sigma in sigmas:
            for name, point in (("clean", x), ("adv", adv), ("flip", first)):
                mean, half, pred = _smoothed_softmax(model, point, sigma, samples, gen)
                row[(name, sigma)] = (float(mean[label]), half, pred == label)
        # the library's Monte Carlo on the logits (E[f], no softmax), at the largest σ
        res = smoothed(net, [Fraction(float(v)) for v in adv.flatten()], Fraction(sigmas[-1]).limit_denominator(1000),
                       samples=samples, seed=seed, parameters=False, regions=False)
        row["logits_pred"] = int(np.argmax([float(q.value) for q in res.value]))
        rows.append(row)
    elapsed = time.perf_counter() - t0
    print(f"{len(rows)} test digits (the first {count} classified correctly of the seeded 20% split), "
          f"{samples} Monte Carlo draws per point, 99% intervals; {elapsed:.0f} s.\n")
    linf = [r["linf"] for r in rows]
    print(f"Attack: every δ brings p_y(x + δ) below 1e-3 (max {max(r['p_adv'] for r in rows):.2e}); "
          f"‖δ‖∞ median {statistics.median(linf):.3f} (max {max(linf):.3f}), ‖δ‖₂ median "
          f"{statistics.median(r['l2'] for r in rows):.3f}, {statistics.median(r['steps'] for r in rows):.0f} steps.\n")
    print(f"The first step at which the prediction flips (argmax ≠ y) has ‖δ₀‖₂ median "
          f"{statistics.median(r['l2_flip'] for r in rows):.3f}.\n")
    print("| σ | smoothed accuracy at x | mean p̄_y(x) | x + δ: smoothed prediction = y | mean p̄_y(x + δ) "
          "[mean 99% half-width] | lower end > 1/2 | ‖δ‖₂ < σΦ⁻¹(p̄_y(x)) | x + δ₀ (first flip): smoothed prediction = y |")
    print("|---|---|---|---|---|---|---|---|")
    n = len(rows)
    for sigma in sigmas:
        clean = [r[("clean", sigma)] for r in rows]
        adv = [r[("adv", sigma)] for r in rows]
        flip = [r[("flip", sigma)] for r in rows]
        sure = sum(1 for m, h, _ in adv if m - h > 0.5)
        radius = sum(1 for r in rows if r["l2"] < sigma * NormalDist().inv_cdf(min(r[("clean", sigma)][0], 1 - 1e-12))
                     and r[("clean", sigma)][0] > 0.5)
        print(f"| {sigma:g} | {sum(c[2] for c in clean)}/{n} | {statistics.fmean(c[0] for c in clean):.3f} | "
              f"{sum(a[2] for a in adv)}/{n} | {statistics.fmean(a[0] for a in adv):.3f} "
              f"[{statistics.fmean(a[1] for a in adv):.3f}] | {sure}/{n} | {radius}/{n} | {sum(f[2] for f in flip)}/{n} |")
    print(f"\nThe library's `smoothed` (Monte Carlo on the logits, σ = {sigmas[-1]:g}): argmax E[f(x + δ + σZ)] = y on "
          f"{sum(r['logits_pred'] == r['label'] for r in rows)}/{len(rows)} digits.")


def _attack(model, x, label, step: float = 0.005, max_steps: int = 2000):  # type: ignore[no-untyped-def]
    import torch

    delta, flip = torch.zeros_like(x), None
    for t in range(max_steps):
        delta.requires_grad_(True)
        logits = model((x + delta).clamp(0, 1))
        logp = logits.log_softmax(1)[0, label]
        if flip is None and int(logits.argmax()) != label:
            flip = delta.detach().clone()
        if float(logp.detach().exp()) < 1e-3:
            return (flip, delta.detach()), t
        (grad,) = torch.autograd.grad(logp, delta)
        with torch.no_grad():
            delta = ((x + delta - step * grad.sign()).clamp(0, 1) - x).detach()
    raise RuntimeError("the attack did not bring the probability below 1e-3")


def _smoothed_softmax(model, point, sigma: float, samples: int, gen):  # type: ignore[no-untyped-def]
    import torch

    with torch.no_grad():
        noise = torch.randn((samples, *point.shape[1:]), generator=gen) * sigma
        p = model(point + noise).softmax(1)
    mean = p.mean(0)
    pred = int(mean.argmax())
    return mean.numpy(), float(Z99 * p[:, int(mean.argmax())].std() / samples**0.5), pred


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    s0 = sub.add_parser("seed000")
    s0.add_argument("-o", default="seed000-smoothed.png", help="the picture to write (default: seed000-smoothed.png here)")
    dg = sub.add_parser("digits")
    dg.add_argument("--count", type=int, default=40)
    dg.add_argument("--samples", type=int, default=2000)
    dg.add_argument("--sigmas", default="0.1,0.2,0.3,0.5")
    dg.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.what == "seed000":
        seed000(Path(args.o))
    else:
        digits(args.count, args.samples, [float(s) for s in args.sigmas.split(",")], args.seed)


if __name__ == "__main__":
    main()
