"""Seed 001's measures of a ReLU network and a data set (Daróczy 2022, *Gaussian
Perturbations in ReLU Networks and the Arrangement of Activation Regions*, §3.4, §4).

Exact on small networks (``backend="exact"``: an exact `Network`, rational points, the
exact pre-activations and Jacobians), float on large ones (``"numpy"`` / ``"torch"``,
on a `Network` or an `OperatorNetwork`). Each result says how it was obtained.

- `layerwise_max_product`: ``Π_i w_max_i``, ``w_max_i`` the largest absolute weight of
  layer i (the ℓ∞ norm of its parameters); seed 001's eq. (1), ``Sens¹_tan``, is its square.
- `spectral_product`: ``S_Spect(θ) = Π_i ‖W_i‖_σ`` (seed 001, §4, after Bartlett et al.).
- `input_sensitivity`: ``S_Jac(X) = E_{x∈X} ‖∂f(x)/∂x‖`` (Frobenius by default; seed 001,
  §4, after Novak et al.).
- `fisher_rao`: ``S_FR(X) = Σ_{j} E_x[⟨∂l(f(x), j)/∂f, f(x)⟩²]`` with ``l`` the softmax
  cross-entropy, so ``∂l/∂f = softmax(f) − e_j`` (seed 001, §4, the label-free variant).
- `active_neurons`: the distribution of the number of active neurons over X (seed 001,
  eq. (2) uses its mean and standard deviation).
- `region_probabilities`: ``p_{x∈X}(A)``, the empirical probability of each activation
  region A that X visits (seed 001, §3.3).
- `tangent_sensitivity`: per region A, ``Sens_tan(A) = ‖∂/∂x ∂f/∂θ‖_F``; on a region the
  parameter gradient ``∂f_k/∂W_l[i, j] = δ_l^k[i]·a_l[j]`` is affine in x, so
  ``Sens_tan(A)² = Σ_k Σ_l ‖δ_l^k‖² ‖∂a_l/∂x‖_F²`` (δ: the gradient with respect to layer
  l's output, a_l its input); and the empirical ``Ŝ(X) = Σ_A p(A) Sens_tan(A)`` (seed 001,
  eq. (3)). This is this project's reading of seed 001's Definition 1 (the text we hold
  omits the formula): the sensitivity of the tangent vector ∂f/∂θ to the input.

Points on a knot: the Jacobians follow convention c = 0; region counts list such
points separately (``on_knots``).

>>> from exactrelu.core.network import Network, affine, activation
>>> net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[2, 3]])])
>>> layerwise_max_product(net).value
Fraction(3, 1)
>>> region_probabilities(net, [[1], [2], [-1], [0]]).probabilities
{((2, 0),): Fraction(1, 2), ((0, 2),): Fraction(1, 4)}
>>> tangent_sensitivity(net, [[1], [-1]]).squared
{((2, 0),): Fraction(5, 1), ((0, 2),): Fraction(10, 1)}
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..core.errors import InputError
from ..core.results import CERTIFIED, ESTIMATE, EXACT, Quantity
from .arithmetic import NUMPY, Chain, round_down, round_up, spectral_up
from .operators import Conv2d, Linear, OperatorNetwork, Scale, from_network

BACKENDS = ("exact", "numpy", "torch")


def _backend(backend: str, net: Any) -> str:
    if backend not in BACKENDS:
        raise InputError(f"expected a backend among {', '.join(BACKENDS)}, got {backend!r}", path="--backend")
    if backend == "exact" and isinstance(net, OperatorNetwork):
        raise InputError("the exact backend needs an exact Network (use to_network, or a float backend)",
                         path="--backend")
    return backend


def _arrays(backend: str, device: str | None) -> Any:
    if backend == "torch":
        from .torch import TorchArrays, resolve_device

        return TorchArrays(resolve_device(device))
    if device not in (None, "cpu"):
        raise InputError(f"the numpy backend runs on the CPU only, got device {device!r}", path="--device")
    return NUMPY


def _opnet(net: Any) -> OperatorNetwork:
    return net if isinstance(net, OperatorNetwork) else from_network(net)


def _exact_points(net: Any, X: Any) -> list[list[Fraction]]:
    from ..core.numbers import parse_number

    rows = X.tolist() if hasattr(X, "tolist") else list(X)
    out = []
    for i, row in enumerate(rows):
        if len(row) != net.input_dim:
            raise InputError(f"expected points of dimension {net.input_dim}, got {len(row)}", path=f"data[{i}]")
        out.append([parse_number(v, f"data[{i}][{j}]") for j, v in enumerate(row)])
    if not out:
        raise InputError("expected at least one data point", path="data")
    return out


def _float_points(net: OperatorNetwork, X: Any) -> np.ndarray:
    try:
        A = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("expected a list of points of numbers", path="data") from None
    A = A.reshape(len(A), -1)
    if A.shape[1] != net.input_size or not np.all(np.isfinite(A)):
        raise InputError(f"expected finite points of dimension {net.input_size}", path="data")
    return A


# --------------------------------------------------------------------------- data-free measures


def layerwise_max_product(net: Any) -> Quantity:
    """``Π_i max_j |θ^{(i)}_j|`` over the weights of each layer (seed 001, eq. (1) is its square).

    For a `Network`: the affine layers of its chain. For an `OperatorNetwork`: each
    operator's own parameters (a convolution's kernel, a scale's factors); exact on the floats.
    """
    if isinstance(net, OperatorNetwork):
        value = Fraction(1)
        for block in net.blocks:
            for op in block:
                if isinstance(op, Linear):
                    value *= Fraction(float(np.abs(op.weight).max()))
                elif isinstance(op, Conv2d):
                    value *= Fraction(float(np.abs(op.weight).max()))
                elif isinstance(op, Scale):
                    value *= Fraction(float(np.abs(op.scale).max()))
        return Quantity(value, EXACT)
    value = Fraction(1)
    for a in net.chain.affines:
        value *= max(abs(v) for row in a.weight for v in row)
    return Quantity(value, EXACT)


def spectral_product(net: Any, backend: str = "exact", device: str | None = None) -> Quantity:
    """``S_Spect(θ) = Π_i ‖W_i‖_σ`` over the chain's affine maps (a block of operators counts as one).

    Exact backend: a certified interval around the exact algebraic product. Float
    backends: a certified upper bound (Gram iteration).
    """
    backend = _backend(backend, net)
    if backend == "exact":
        from ..core.algebraic import enclosure
        from ..core.norms import operator_norm

        width = Fraction(1, 2**40)
        lo, hi = Fraction(1), Fraction(1)
        for a in net.chain.affines:
            e = enclosure(operator_norm(a.W, "2"), width)
            lo, hi = lo * e[0], hi * e[1]
        return Quantity(hi, CERTIFIED if lo != hi else EXACT, upper=lo != hi, interval=(lo, hi) if lo != hi else None)
    from .operators import exact_weights

    xp = _arrays(backend, device)
    chain = Chain(_opnet(net), xp, isinstance(net, OperatorNetwork) or exact_weights(net))
    total = Fraction(1)
    for M, r in zip(chain.mats, chain.rads):
        total *= Fraction(spectral_up(xp, M, r))
    return Quantity(round_up(total), CERTIFIED, upper=True)


# --------------------------------------------------------------------------- Jacobians over data


def _exact_jacobians(net: Any, pts: list[list[Fraction]]) -> list[tuple[tuple[Fraction, ...], ...]]:
    from ..calculus import derivative

    return [derivative(net, p, 0).matrix for p in pts]


def input_sensitivity(net: Any, X: Any, *, norm: str = "fro", backend: str = "exact",
                      device: str | None = None) -> Quantity:
    """``S_Jac(X) = E_{x∈X} ‖∂f(x)/∂x‖`` (``norm``: ``"fro"`` or ``"2"``; seed 001, §4).

    Exact backend: each ‖J‖_F² is rational; the mean of their square roots is given as a
    certified interval. Float backends: an estimate.
    """
    backend = _backend(backend, net)
    if norm not in ("fro", "2"):
        raise InputError(f"expected norm 'fro' or '2', got {norm!r}", path="norm")
    if backend == "exact" and norm == "fro":
        pts = _exact_points(net, X)
        lo = hi = Fraction(0)
        for J in _exact_jacobians(net, pts):
            sq = sum((v * v for row in J for v in row), Fraction(0))
            r = math.sqrt(float(sq))
            lo += Fraction(round_down(Fraction(math.nextafter(r, 0.0))))
            hi += Fraction(round_up(Fraction(math.nextafter(r, math.inf))))
        n = len(pts)
        return Quantity((lo + hi) / (2 * n), CERTIFIED, interval=(lo / n, hi / n))
    op = _opnet(net)
    xp = _arrays("numpy" if backend == "exact" else backend, device)
    A = _float_points(op, X) if backend != "exact" else np.array([[float(v) for v in p] for p in _exact_points(net, X)],
                                                                 dtype=np.float64)
    J = xp.to_numpy(op.jacobian(xp.asarray(A), xp))
    vals = np.linalg.norm(J, ord="fro" if norm == "fro" else 2, axis=(1, 2))
    return Quantity(float(vals.mean()), ESTIMATE)


def fisher_rao(net: Any, X: Any, *, backend: str = "exact", device: str | None = None) -> Quantity:
    """``S_FR(X) = Σ_j E_x[(⟨softmax(f(x)), f(x)⟩ − f_j(x))²]`` over the output classes j.

    The softmax is transcendental: the exact backend evaluates f exactly and the rest in
    floats; the result is an estimate on every backend.
    """
    backend = _backend(backend, net)
    if backend == "exact":
        F = np.array([[float(v) for v in net.evaluate(p)] for p in _exact_points(net, X)])
    else:
        op = _opnet(net)
        xp = _arrays(backend, device)
        F = xp.to_numpy(op.evaluate(xp.asarray(_float_points(op, X)), xp))
    Z = F - F.max(axis=1, keepdims=True)
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    inner = (P * F).sum(axis=1, keepdims=True)
    return Quantity(float(((inner - F) ** 2).sum(axis=1).mean()), ESTIMATE)


# --------------------------------------------------------------------------- patterns over data


@dataclass(frozen=True)
class ActiveNeurons:
    """How many neurons are active per sample: ``counts`` (one per point), their
    ``histogram`` (count -> number of points), ``mean``, ``std``, and ``on_knots`` (points
    with a neuron exactly on a knot). A neuron is active when it is off its knots on a
    piece of nonzero slope (ReLU: pre-activation > 0)."""

    counts: tuple[int, ...]
    histogram: dict[int, int]
    mean: float
    std: float
    on_knots: int
    guarantee: str


def _patterns(net: Any, X: Any, backend: str, device: str | None) -> tuple[list[tuple], list[bool], list[list]]:
    """Per point: the pattern (states: 2i inside piece i, 2j+1 on knot j), whether it is on
    a knot, and per layer the slopes."""
    if backend == "exact":
        pats, knots, slopes = [], [], []
        for p in _exact_points(net, X):
            pat = net.pattern(p)
            pats.append(pat)
            knots.append(any(s % 2 for layer in pat for s in layer))
            slopes.append([[fn.slopes[s // 2] if s % 2 == 0 else None for fn, s in zip(fns, layer)]
                           for fns, layer in zip(net.chain.acts, pat)])
        return pats, knots, slopes
    op = _opnet(net)
    xp = _arrays(backend, device)
    pre, _ = op.preactivations(xp.asarray(_float_points(op, X)), xp)
    pieces = [xp.to_numpy(a.piece(z)).astype(int) for a, z in zip(op.acts, pre)]
    zs = [xp.to_numpy(z) for z in pre]
    sl = [xp.to_numpy(a.slope(z)) for a, z in zip(op.acts, pre)]
    pats, knots, slopes = [], [], []
    for b in range(len(zs[0]) if zs else len(_float_points(op, X))):
        on = [np.isin(zs[l][b], a.knots[np.isfinite(a.knots)]) if a.knots.size else np.zeros(len(zs[l][b]), bool)
              for l, a in enumerate(op.acts)]
        pats.append(tuple(tuple(int(2 * p + o) for p, o in zip(pieces[l][b], on[l])) for l in range(len(zs))))
        knots.append(any(bool(o.any()) for o in on))
        slopes.append([[None if o else float(s) for s, o in zip(sl[l][b], on[l])] for l in range(len(zs))])
    return pats, knots, slopes


def active_neurons(net: Any, X: Any, *, backend: str = "exact", device: str | None = None) -> ActiveNeurons:
    """The distribution of the number of active neurons over X (seed 001, eq. (2))."""
    backend = _backend(backend, net)
    _, knots, slopes = _patterns(net, X, backend, device)
    counts = tuple(sum(1 for layer in s for v in layer if v is not None and v != 0) for s in slopes)
    arr = np.array(counts, dtype=float)
    return ActiveNeurons(counts, dict(sorted(Counter(counts).items())), float(arr.mean()), float(arr.std()),
                         sum(knots), EXACT if backend == "exact" else ESTIMATE)


@dataclass(frozen=True)
class RegionDistribution:
    """``probabilities``: pattern -> fraction of the points inside that region (points on a
    knot lie in no region and are counted in ``on_knots``); ``points``: how many."""

    probabilities: dict[tuple, Fraction]
    on_knots: int
    points: int
    guarantee: str


def region_probabilities(net: Any, X: Any, *, backend: str = "exact", device: str | None = None) -> RegionDistribution:
    """The empirical probability ``p_{x∈X}(A)`` of each activation region X visits."""
    backend = _backend(backend, net)
    pats, knots, _ = _patterns(net, X, backend, device)
    counter = Counter(p for p, k in zip(pats, knots) if not k)
    n = len(pats)
    probs = {p: Fraction(c, n) for p, c in counter.most_common()}
    return RegionDistribution(probs, sum(knots), n, EXACT if backend == "exact" else ESTIMATE)


@dataclass(frozen=True)
class TangentSensitivity:
    """``squared``: pattern -> ``Sens_tan(A)²`` for each region visited; ``empirical``:
    ``Ŝ(X) = Σ_A p(A) Sens_tan(A)`` (a `Quantity`)."""

    squared: dict[tuple, Fraction | float]
    empirical: Quantity


def tangent_sensitivity(net: Any, X: Any, *, backend: str = "exact", device: str | None = None) -> TangentSensitivity:
    """Tangent sensitivity per region visited by X, and its empirical mean (seed 001, eq. (3)).

    Float backends treat each block's matrix entries as the parameters (for a convolution,
    the unrolled matrix, not the shared kernel).
    """
    backend = _backend(backend, net)
    dist = region_probabilities(net, X, backend=backend, device=device)
    pats, knots, slopes = _patterns(net, X, backend, device)
    rep = {}
    for p, k, s in zip(pats, knots, slopes):
        if not k and p not in rep:
            rep[p] = s
    squared: dict[tuple, Fraction | float] = {}
    for p, s in rep.items():
        squared[p] = _sens_exact(net, s) if backend == "exact" else _sens_float(_opnet(net), s)
    if backend == "exact":
        lo = sum((pr * Fraction(round_down(Fraction(math.nextafter(math.sqrt(float(squared[p])), 0.0))))
                  for p, pr in dist.probabilities.items()), Fraction(0))
        hi = sum((pr * Fraction(round_up(Fraction(math.nextafter(math.sqrt(float(squared[p])), math.inf))))
                  for p, pr in dist.probabilities.items()), Fraction(0))
        emp = Quantity((lo + hi) / 2, CERTIFIED, interval=(lo, hi))
    else:
        emp = Quantity(float(sum(float(pr) * math.sqrt(squared[p]) for p, pr in dist.probabilities.items())),
                       ESTIMATE)
    return TangentSensitivity(squared, emp)


def _sens_exact(net: Any, slopes: list[list[Fraction]]) -> Fraction:
    from ..core.numbers import fmpq_matrix, matrix_fractions

    chain = net.chain
    L = len(chain.affines)
    n = net.input_dim
    # forward: Jacobians of each affine layer's input a_l with respect to x
    Ja = [fmpq_matrix([[1 if i == j else 0 for j in range(n)] for i in range(n)])]
    D = [fmpq_matrix([[row[i] if i == j else 0 for j in range(len(row))] for i in range(len(row))]) for row in slopes]
    for l in range(L - 1):
        Ja.append(D[l] * (chain.affines[l].W * Ja[l]))
    # backward: δ_l = ∂f/∂z_l (out × width of layer l's output)
    m = chain.affines[-1].out_dim
    delta = [None] * L
    delta[L - 1] = fmpq_matrix([[1 if i == j else 0 for j in range(m)] for i in range(m)])
    for l in range(L - 2, -1, -1):
        delta[l] = delta[l + 1] * chain.affines[l + 1].W * D[l]
    total = Fraction(0)
    for l in range(L):
        dsq = sum((v * v for row in matrix_fractions(delta[l]) for v in row), Fraction(0))
        jsq = sum((v * v for row in matrix_fractions(Ja[l]) for v in row), Fraction(0))
        total += dsq * jsq
    return total


def _sens_float(op: OperatorNetwork, slopes: list[list[float]]) -> float:
    from .operators import NUMPY_KERNELS as k

    n, m = op.input_size, op.output_size
    J = np.eye(n)
    Ja = [J]
    for l in range(len(op.acts)):
        J = op.block_apply(l, J.T, k).T * np.array(slopes[l]).reshape(-1, 1)
        Ja.append(J)
    g = np.eye(m)
    deltas = [None] * len(op.blocks)
    deltas[-1] = g
    for l in range(len(op.blocks) - 1, 0, -1):
        g = op.block_apply(l, g, k, transpose=True) * np.array(slopes[l - 1]).reshape(1, -1)
        deltas[l - 1] = g
    return float(sum((d * d).sum() * (a * a).sum() for d, a in zip(deltas, Ja)))
