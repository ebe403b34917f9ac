"""Certified K bounds in floating point (numpy; `exactrelu.floats.torch` reuses this code).

Every number returned as *certified* is a rigorous upper bound of the exact value
for the network the floats describe (for a `Network` with rationals that are not
floats, the rounding of the weights is inside the bound too). The arithmetic behind
them (directed rounding, error-carrying products, Gram iteration, the segment products
with telescoped error bounds) is `exactrelu.floats.arithmetic`; it assumes IEEE-754 binary64 with
round-to-nearest and gradual underflow; on CUDA the torch backend uses float64 and
disables cuDNN so that convolutions are plain sums of products.

The bounds are those of `exactrelu.bounds` (seed 004's definitions), for the chain
``B_ℓ σ_ℓ … σ_1 B_0`` of affine maps between activations (biases play no part):

- ``K_star = Π ‖B_l‖`` and ``K3 = ‖ |B_ℓ| … |B_0| ‖`` (one pass of the all-ones vector
  through the absolute weights for ℓ∞, backwards for ℓ1; a product of absolute
  matrices for ℓ2), defined when every activation slope lies in [−1, 1];
- ``K1 = 2^-ℓ Σ_S Π ‖seg‖`` (Combettes–Pesquet; ``seg(j, i) = B_{j−1} … B_i`` between
  consecutive cut layers of S), by a dynamic program over the O(ℓ²) segments;
- ``K4 = 2^-ℓ Σ_S ‖ |seg| … |seg| ‖`` (ℓ1, ℓ∞), the 2^ℓ terms grouped by their last
  cut, each group pushed through ``|seg|`` as one matrix product;
- ``K = max over 0/1 diagonals D_r of ‖B_ℓ D_ℓ … B_0‖``: enumerated when there are
  few patterns (a certified enclosure); for ℓ1/ℓ∞ with hidden layers of at most
  `BNB_WIDTH` neurons, `exactrelu.bounds.k_inf_arrays`'s branch and bound run exactly on
  the floats scaled to integers (exact, or an enclosure with its gap after `BNB_NODES`
  nodes); else bracketed by the best pattern the search for L met (a certified lower
  end) and the smallest certified bound;
- ``K2`` (ℓ2): SeqLip, certified (`exactrelu.floats.seqlip`), when every hidden layer has at
  most `SEQLIP_WIDTH` neurons (its maximum enumerates 2^width patterns per layer);

``K``, ``K1``, ``K2``, ``K4`` are defined when every slope lies in [0, 1]. ℓ1 is ℓ∞ on
the transposed chain.

A graph with max-pool nodes (`exactrelu.floats.operators.MaxPool`,
``exactrelu.io.torch.operators_from_torch(..., max_pool="node")``) gets ``K_star`` and ``K3`` only (ℓ1, ℓ∞ by operator passes through the
blocks that hold a node; `_max_pool_bounds` proves them); the other bounds are undefined there.

>>> from exactrelu.core.network import Network, affine, activation
>>> net = Network.from_layers(1, [affine([[1], [1], [1]], [0, "-1/2", -1]), activation("relu"),
...                               affine([[2, -4, 2]])])
>>> b = bounds(net, "inf")
>>> b["K3"].guarantee, round(float(b["K3"]), 9), round(float(b["K_star"]), 9), round(float(b["K"]), 9)
('certified', 8.0, 8.0, 4.0)
>>> b["L_lower"].guarantee, b["L_lower"].value
('exact', Fraction(2, 1))
"""

from __future__ import annotations

import math
import time
from fractions import Fraction
from typing import Any, Mapping

import numpy as np

from ..core.errors import InputError
from ..core.norms import parse_norm
from ..core.results import CERTIFIED, ESTIMATE, EXACT, Bounds, Quantity
from .arithmetic import (
    NUMPY,
    PRECISIONS,
    Chain,
    NumpyArrays,
    U,
    norm_bracket,
    product,
    round_down,
    round_up,
    spectral_up,
)
from .operators import MaxPool, OperatorNetwork, Reshape, exact_weights, from_network
from .seqlip import MAX_WIDTH as SEQLIP_WIDTH
from .seqlip import seqlip_upper

NORMS = ("1", "2", "inf")
ENUMERATE_PATTERNS = 2**12
K4_SUBSETS = 2**16
BNB_WIDTH = 12  # the branch and bound enumerates 2^width patterns per hidden layer
BNB_NODES = 20_000


# --------------------------------------------------------------------------- the result


# --------------------------------------------------------------------------- the bounds


def as_operator_network(net: Any) -> tuple[OperatorNetwork, Any, bool]:
    """(operator graph, exact `Network` or None, whether the floats are the exact weights)."""
    if isinstance(net, OperatorNetwork):
        return net, None, True
    if hasattr(net, "chain") and hasattr(net, "input_dim"):
        return from_network(net), net, exact_weights(net)
    raise InputError(f"expected an exactrelu Network or an OperatorNetwork, got {type(net).__name__}", path="network")


def slope_range(net: OperatorNetwork, exact_net: Any = None) -> tuple[Fraction, Fraction]:
    """The smallest and largest activation slope (exact from a `Network`)."""
    if exact_net is not None:
        slopes = [s for fns in exact_net.chain.acts for fn in fns for s in fn.slopes]
    else:
        slopes = [Fraction(float(v)) for a in net.acts for v in (a.lo.min(), a.hi.max())]
    return (min(slopes), max(slopes)) if slopes else (Fraction(0), Fraction(1))


def bounds(
    net: Any,
    norm: Any = "inf",
    device: str | None = None,
    *,
    backend: str = "numpy",
    mode: str = "explicit",
    precision: str = "float64",
    lower: bool = True,
    samples: int = 256,
    seed: int = 0,
    domain: Any = None,
) -> Bounds:
    """Certified K bounds and L's bracket on ``backend``: ``"numpy"`` (the CPU: ``device`` must
    be None or ``"cpu"``) or ``"torch"`` (``device`` None: "cuda" when a GPU is there, else "cpu").

    ``net``: an exact `Network` or an `OperatorNetwork`. ``mode="explicit"`` forms each
    block's matrix; ``"implicit"`` computes ``K_star`` and ``K3`` (ℓ1, ℓ∞) by operator
    passes only, no matrix formed (inside a block of several operators ``|B| ≤ Π|op|``
    entrywise, so these may exceed the explicit ones), and ℓ2's ``K_star`` as
    ``Π sqrt(‖op‖₁‖op‖_∞)`` (looser than the spectral norms); the rest as in explicit mode.
    ``precision="float32"``: the segment products behind K1 and K4 (and K_star, K3 in
    explicit mode) run in binary32 with binary32 error bounds: still certified, faster, and
    looser by about ``width·2⁻²⁴`` relative per product (`exactrelu.floats.arithmetic.Chain`).
    ``lower``: search for a lower bound of L (`exactrelu.floats.estimate.lipschitz_lower`,
    ``samples`` points, ``seed``) over ``domain`` (an `exactrelu.Domain`; R^n when None;
    a polyhedron that is not a box gets no lower bound). The K bounds hold on every domain.
    """
    if backend == "torch":
        from .torch import torch_arrays

        xp = torch_arrays(device)
    elif backend == "numpy":
        if device not in (None, "cpu"):
            raise InputError(f"the numpy backend runs on the CPU only, got device {device!r}", path="--device")
        xp = NUMPY
    else:
        raise InputError(f"expected a backend among exact, numpy, torch, got {backend!r}", path="--backend")
    return compute(net, norm, xp, mode=mode, precision=precision, lower=lower, samples=samples, seed=seed,
                   domain=domain)


def compute(net: Any, norm: Any, xp: NumpyArrays, *, mode: str = "explicit", precision: str = "float64",
            lower: bool = True, samples: int = 256, seed: int = 0, domain: Any = None) -> Bounds:
    """The backend-independent computation behind `bounds` (``xp``: numpy's or torch's arrays)."""
    norm = parse_norm(norm)
    if mode not in ("explicit", "implicit"):
        raise InputError(f"expected mode 'explicit' or 'implicit', got {mode!r}", path="mode")
    if precision not in PRECISIONS:
        raise InputError(f"expected a precision among {', '.join(PRECISIONS)}, got {precision!r}", path="--precision")
    opnet, exact_net, exact_w = as_operator_network(net)
    start = time.perf_counter()
    values: dict[str, Quantity] = {}
    undefined: dict[str, str] = {}
    seconds: dict[str, float] = {}
    notes: list[str] = []
    ell = len(opnet.acts)
    lo, hi = slope_range(opnet, exact_net)
    pm1 = -1 <= lo and hi <= 1
    unit = 0 <= lo and hi <= 1

    def attempt(key: str, needs: bool, low: int, fn: Any) -> None:
        if not needs:
            undefined[key] = (f"{key} bounds L only when every activation slope lies in [{low}, 1]; "
                              f"this network has slopes in [{lo}, {hi}]")
            return
        t = time.perf_counter()
        values[key] = _cert(fn())
        seconds[key] = time.perf_counter() - t

    transposed = norm == "1"
    pooled = bool(opnet.max_pool_blocks)
    chain = None if pooled else Chain(opnet, xp, exact_w, transposed, "2" if norm == "2" else "inf", precision)
    if pooled:
        _max_pool_bounds(opnet, xp, norm, mode, exact_w, precision, lambda k, f: attempt(k, pm1, -1, f), undefined,
                         notes)
    elif mode == "implicit" and norm == "2":
        attempt("K_star", pm1, -1, lambda: _k_star_implicit_l2(opnet, xp))
        attempt("K3", pm1, -1, lambda: _k3(chain, norm))
    elif mode == "implicit":
        attempt("K_star", pm1, -1, lambda: _k_star_implicit(opnet, xp, transposed))
        attempt("K3", pm1, -1, lambda: _k3_implicit(opnet, xp, transposed))
    else:
        attempt("K_star", pm1, -1, lambda: _k_star(chain))
        attempt("K3", pm1, -1, lambda: _k3(chain, norm))
    if not pooled:
        attempt("K1", unit, 0, lambda: _k1(chain))
        if norm == "2":
            undefined["K4"] = ("K4 in ℓ2 is computed by the exact backend only (each of its 2^ℓ terms needs a "
                                "spectral norm of a product)")
            _k2(opnet, chain, unit, values, undefined)
        else:
            undefined["K2"] = "Virmaux–Scaman's bound is defined for the ℓ2 norm only"
            if 2**ell > K4_SUBSETS:
                undefined["K4"] = f"K4 has 2^{ell} terms, more than {K4_SUBSETS}"
            else:
                attempt("K4", unit, 0, lambda: _k4(chain))
    undefined["C"] = undefined["C_E"] = "seed 002's C and C_E are computed by the exact backend only"
    uppers = [q.value for q in values.values() if q.guarantee == CERTIFIED]
    l_upper = min(uppers) if uppers else math.inf
    k_enclosure = None
    if unit and not pooled:
        t = time.perf_counter()
        k_enclosure = _k_patterns(chain, norm)
        seconds["K"] = time.perf_counter() - t
        if k_enclosure is not None:
            values["K"] = Quantity(k_enclosure[1], CERTIFIED, upper=True, interval=k_enclosure)
            l_upper = min(l_upper, k_enclosure[1])
        if k_enclosure is None and norm != "2" and exact_w and max(opnet.widths, default=0) <= BNB_WIDTH:
            t = time.perf_counter()
            k_enclosure = _k_branch_and_bound(chain, BNB_NODES)
            seconds["K"] = time.perf_counter() - t
            values["K"] = Quantity(k_enclosure[1], CERTIFIED, upper=True, interval=k_enclosure)
            l_upper = min(l_upper, k_enclosure[1])
            if k_enclosure[0] < k_enclosure[1]:
                notes.append(f"K's branch and bound stopped after {BNB_NODES} nodes: "
                             f"gap upper/lower = {k_enclosure[1] / max(k_enclosure[0], 1e-300):.4g}")
    elif not unit:
        undefined["K"] = f"K bounds L only when every activation slope lies in [0, 1]; slopes in [{lo}, {hi}]"
    witness = None
    box = None
    k_lo = 0.0
    if domain is not None and not domain.is_whole:
        if domain.box is None:
            lower = False
            notes.append("no lower bound on L: the domain is a polyhedron, not a box")
        else:
            box = domain.box
    if lower:
        from .estimate import lipschitz_lower

        t = time.perf_counter()
        est = lipschitz_lower(exact_net if exact_net is not None else opnet, norm, xp=xp, samples=samples,
                              seed=seed, box=box)
        seconds["L_lower"] = time.perf_counter() - t
        witness = est.witness
        values["L_lower"] = est.value
        k_lo = est.certified_pattern_norm
        if est.value.guarantee == ESTIMATE:
            notes.append("L's lower end is an estimate (sampling and local search, not re-checked exactly)")
    if unit and k_enclosure is None and uppers and not pooled:
        values["K"] = Quantity(l_upper, CERTIFIED, upper=True, interval=(k_lo, l_upper))
        notes.append(f"K bracketed: 2^{sum(opnet.widths)} patterns are too many to enumerate; the lower end is "
                     f"a pattern found by the search for L; gap upper/lower = "
                     f"{l_upper / k_lo if k_lo > 0 else math.inf:.4g}")
    if math.isfinite(l_upper):
        values["L_upper"] = Quantity(l_upper, CERTIFIED, upper=True)
        proven = "L_lower" in values and values["L_lower"].guarantee in (EXACT, CERTIFIED)
        interval = (round_down(values["L_lower"].value), l_upper) if proven else None
        values["L"] = Quantity(l_upper, CERTIFIED, upper=True, interval=interval)
    seconds["total"] = time.perf_counter() - start
    notes.append("L's lower end is over " + ("R^n" if box is None else "the domain's box")
                 + "; the K bounds hold on every domain")
    diagnostics = {"backend": xp.name, "device": xp.device, "mode": mode, "precision": precision, "seconds": seconds, "notes": notes}
    return Bounds(norm, values, undefined, diagnostics, witness)


MAX_POOL_UNDEFINED = ("max-pool node: its Jacobian is a selection matrix, not a diagonal between block "
                      "matrices, so {key} does not apply; use max_pool='relu' for this bound")


def _max_pool_bounds(opnet: OperatorNetwork, xp: NumpyArrays, norm: str, mode: str, exact_w: bool, precision: str,
                     attempt: Any, undefined: dict[str, str], notes: list[str]) -> None:
    """K_star and K3 of a graph with max-pool nodes (`exactrelu.floats.operators.MaxPool`), by
    ``attempt(key, fn)``; K, K1, K2, K4 go to ``undefined``.

    Proof, for inputs x, y, every activation slope in [−1, 1] and ``|·|``, ≤ entrywise: an
    activation gives ``|σ(s) − σ(t)| ≤ |s − t|``, an affine operator A ``|A(x) − A(y)| ≤
    |A||x − y|``, a node P over windows W_i ``|P(x)_i − P(y)_i| ≤ max_{j∈W_i} |x_j − y_j| =
    P(|x − y|)_i ≤ (A_W|x − y|)_i`` (A_W: the 0/1 window matrix, ``apply_t`` of a node is A_Wᵀ).

    - K_star: L ≤ Π Lip(op) for a composition. Lip(P) = 1 in ℓ∞, ≤ overlap in ℓ1
      (``Σ_i max_{W_i}|d| ≤ Σ_i Σ_{j∈W_i}|d_j| ≤ overlap·‖d‖₁``), ≤ sqrt(overlap) in ℓ2 (the
      same with squares): what the passes `_k_star_implicit` / `_k_star_implicit_l2` give for a
      node (``max P(1) = 1``, ``max A_Wᵀ1 = overlap``).
    - K3 in ℓ∞: ``|f(x) − f(y)| ≤ Φ(|x − y|)``, Φ the forward pass (|A|, P, identity), monotone
      and positively homogeneous on nonnegative vectors, so ``‖f(x) − f(y)‖_∞ ≤ max Φ(1)·‖x − y‖_∞``.
    - K3 in ℓ1: ``|f(x) − f(y)| ≤ M|x − y|``, M the product of the nonnegative |A|, A_W, so
      ``‖f(x) − f(y)‖₁ ≤ max(Mᵀ1)·‖x − y‖₁``; ``Mᵀ1`` is the backward pass.
    - K3 in ℓ2: the same M, ``‖f(x) − f(y)‖₂ ≤ ‖M|x − y|‖₂ ≤ ‖M‖₂‖x − y‖₂`` (`_k3_l2_max_pool`,
      the product formed explicitly in both modes, as ℓ2's K3 always is). Loose at a node:
      ``‖A_W‖₂`` reaches ``sqrt(window size · overlap)`` where ``Lip₂(P) ≤ sqrt(overlap)``, and
      A_W is the least nonnegative matrix with ``A_W u ≥ P(u)`` for all u ≥ 0.

    In explicit mode a block without a node uses its explicit matrix B (``|B(x) − B(y)| ≤
    |B||x − y|``, ``‖B‖`` certified by a one-block `Chain`); a block with one uses the passes.
    """
    transposed = norm == "1"
    explicit: dict[int, Chain] = {}
    if mode == "explicit":
        for l, block in enumerate(opnet.blocks):
            if block and l not in opnet.max_pool_blocks:
                explicit[l] = Chain(OperatorNetwork.build(block[0].in_shape, block), xp, exact_w, transposed,
                                    "2" if norm == "2" else "inf", precision)
        notes.append(f"blocks {list(opnet.max_pool_blocks)} hold a max-pool node (not affine): K_star and K3 pass "
                     "through their operators (as in implicit mode), the other blocks through their matrices")
    if norm == "2":
        attempt("K_star", lambda: _k_star_implicit_l2(opnet, xp, explicit))
        attempt("K3", lambda: _k3_l2_max_pool(opnet, xp))
    else:
        attempt("K_star", lambda: _k_star_implicit(opnet, xp, transposed, explicit))
        attempt("K3", lambda: _k3_implicit(opnet, xp, transposed, explicit))
    for key in ("K", "K1", "K4") + (("K2",) if norm == "2" else ()):
        undefined[key] = MAX_POOL_UNDEFINED.format(key=key)
    if norm != "2":
        undefined["K2"] = "Virmaux–Scaman's bound is defined for the ℓ2 norm only"


def _k3_l2_max_pool(opnet: OperatorNetwork, xp: NumpyArrays) -> Fraction:
    """ℓ2's K3 with max-pool nodes: a certified ``‖M‖₂`` for ``M`` the product, in order, of
    ``|B|`` for each block without a node (its explicit matrix, with its rounding radius:
    ``‖|B| − |B̂|‖_F ≤ ‖B − B̂‖_F``) and, inside a block with one, of ``|op|`` for each affine
    operator and the 0/1 window matrix A_W for each node (exact floats: such a graph comes
    from floats). Proof: `_max_pool_bounds`."""
    P, r = None, 0.0
    for l, block in enumerate(opnet.blocks):
        if l not in opnet.max_pool_blocks:
            factors = [(xp.abs(ch.mats[0]), ch.rads[0]) for ch in
                       [Chain(OperatorNetwork.build(block[0].in_shape, block), xp, True, False, "2")] if block]
        else:
            factors = [(xp.asarray(op.windows.matrix() if isinstance(op, MaxPool) else np.abs(op.matrix())), 0.0)
                       for op in block if not isinstance(op, Reshape)]
        for A, rA in factors:
            P, r = (A, rA) if P is None else product(xp, A, rA, P, r)
    return Fraction(1) if P is None else Fraction(spectral_up(xp, P, r))


def _cert(value: Fraction | float) -> Quantity:
    return Quantity(round_up(value), CERTIFIED, upper=True)


def _k2(opnet: OperatorNetwork, chain: Chain, unit: bool, values: dict[str, Quantity],
        undefined: dict[str, str]) -> None:
    widest = max(opnet.widths, default=0)
    if not unit:
        undefined["K2"] = "K2 bounds L only when every activation slope lies in [0, 1]"
    elif widest > SEQLIP_WIDTH:
        undefined["K2"] = f"SeqLip enumerates 2^width patterns per hidden layer; the widest has {widest} neurons"
    else:
        mats = [chain.xp.to_numpy(m) for m in chain.mats]
        values["K2"] = _cert(seqlip_upper(mats, chain.rads))


def _k_star(chain: Chain) -> Fraction:
    total = Fraction(1)
    for l in range(len(chain.mats)):
        total *= chain.norm_up(l + 1, l)
    return total


def _k3(chain: Chain, norm: str) -> Fraction:
    xp = chain.xp
    if norm == "2":
        P, r = xp.abs(chain.mats[0]), chain.rads[0]
        for M, rM in zip(chain.mats[1:], chain.rads[1:]):
            P, r = product(xp, xp.abs(M), rM, P, r)
        return Fraction(spectral_up(xp, P, r))
    v = xp.ones(xp.shape(chain.mats[0])[1])
    for l in range(len(chain.mats)):
        v = _abs_apply(xp, *chain.abs_segment(l + 1, l), v)
    return Fraction(xp.max(v))


def _abs_apply(xp: NumpyArrays, A: Any, err: Fraction, v: Any) -> Any:
    """Upper bounds of ``|M_true| v`` for a batch of nonnegative row vectors ``v`` (B, n),
    given ``A = |M̂|`` with ``‖M_true − M̂‖_∞ ≤ err`` (so ``|M_true − M̂| v ≤ err · max v``)."""
    out = xp.inflate(xp.matmul(A, v.T).T, xp.shape(A)[1])
    if err:
        out = out + xp.rowmax(v) * round_up(err * (1 + 4 * U))
    return out


def _k1(chain: Chain) -> Fraction:
    ell = chain.depth
    F = [Fraction(1)] + [Fraction(0)] * (ell + 1)
    for j in range(1, ell + 2):
        for i in range(j):
            F[j] += F[i] * chain.norm_up(j, i)
    return F[ell + 1] / 2**ell


def _k4(chain: Chain) -> Fraction:
    """Seed 004's K4 (ℓ∞ of the chain): the 2^ℓ terms grouped by their last cut i, each group
    a batch of row vectors pushed through ``|seg(j, i)|`` in one matrix product."""
    xp = chain.xp
    ell = chain.depth
    total = Fraction(0)
    groups: list[list[Any]] = [[] for _ in range(ell + 1)]
    groups[0].append(xp.ones(xp.shape(chain.mats[0])[1]))
    for i in range(ell + 1):
        V = xp.cat(groups[i])
        groups[i] = []
        ends = _abs_apply(xp, *chain.abs_segment(ell + 1, i), V)
        total += sum((Fraction(float(v)) for v in xp.to_numpy(xp.rowmax(ends)).reshape(-1)), Fraction(0))
        for j in range(i + 1, ell + 1):
            groups[j].append(_abs_apply(xp, *chain.abs_segment(j, i), V))
    return total / 2**ell


def _k_star_implicit(net: OperatorNetwork, xp: NumpyArrays, transposed: bool,
                     explicit: Mapping[int, Chain] | None = None) -> Fraction:
    """``Π ‖op‖`` over the operators (ℓ∞, or ℓ1 when ``transposed``: the largest entry of
    ``|op| 1``, or of ``|op|ᵀ 1``); a block in ``explicit`` (a one-block `Chain`) counts as the
    certified norm of its matrix instead."""
    return _operator_product(net, explicit, lambda op: Fraction(xp.max(_ones_pass(op, xp, transposed))))


def _k_star_implicit_l2(net: OperatorNetwork, xp: NumpyArrays, explicit: Mapping[int, Chain] | None = None
                        ) -> Fraction:
    """``Π sqrt(‖op‖₁ ‖op‖_∞)`` over the operators (Hölder: ‖A‖₂² ≤ ‖A‖₁‖A‖_∞), no matrix formed;
    a block in ``explicit`` (a one-block ℓ2 `Chain`) counts as its certified spectral norm."""

    def hoelder(op: Any) -> Fraction:
        rows, cols = xp.max(_ones_pass(op, xp, False)), xp.max(_ones_pass(op, xp, True))
        return Fraction(math.nextafter(math.sqrt(round_up(Fraction(rows) * Fraction(cols))), math.inf))

    return _operator_product(net, explicit, hoelder)


def _operator_product(net: OperatorNetwork, explicit: Mapping[int, Chain] | None, op_norm: Any) -> Fraction:
    """``Π op_norm(op)`` over the absolute operators (reshapes skipped), a block in ``explicit``
    counting as the certified norm of its matrix (``norm_up(1, 0)`` of its one-block `Chain`)."""
    total = Fraction(1)
    for l, block in enumerate(net.abs_blocks):
        if explicit and l in explicit:
            total *= explicit[l].norm_up(1, 0)
            continue
        for op in block:
            if not isinstance(op, Reshape):
                total *= op_norm(op)
    return total


def _ones_pass(op: Any, xp: NumpyArrays, transposed: bool) -> Any:
    """Upper bounds of ``|op| 1`` (or of ``|op|ᵀ 1`` when ``transposed``), ``op`` absolute."""
    if transposed:
        return xp.inflate(op.apply_t(xp.ones(int(np.prod(op.out_shape))), xp), op.terms_t)
    return xp.inflate(op.apply(xp.ones(int(np.prod(op.in_shape))), xp), op.terms)


def _k3_implicit(net: OperatorNetwork, xp: NumpyArrays, transposed: bool,
                 explicit: Mapping[int, Chain] | None = None) -> Fraction:
    """The all-ones vector through the absolute operators (forward for ℓ∞, backward for ℓ1);
    a block in ``explicit`` (a one-block `Chain`, transposed for ℓ1) is passed through its
    absolute matrix with its rounding error instead."""
    v = xp.ones(net.output_size if transposed else net.input_size)
    order = range(len(net.blocks) - 1, -1, -1) if transposed else range(len(net.blocks))
    for l in order:
        if explicit and l in explicit:
            v = _abs_apply(xp, *explicit[l].abs_segment(1, 0), v)
            continue
        ops = net.abs_blocks[l]
        for op in (reversed(ops) if transposed else ops):
            v = xp.inflate(op.apply_t(v, xp), op.terms_t) if transposed else xp.inflate(op.apply(v, xp), op.terms)
    return Fraction(xp.max(v))


def _k_patterns(chain: Chain, norm: str) -> tuple[float, float] | None:
    """A certified enclosure of K by enumerating the 0/1 patterns, when there are few."""
    widths = [chain.xp.shape(m)[0] for m in chain.mats[:-1]]
    if sum(widths) > math.log2(ENUMERATE_PATTERNS):
        return None
    norm = "inf" if norm == "1" else norm  # the chain is transposed for ℓ1
    xp = chain.xp
    lo_best, hi_best = Fraction(0), Fraction(0)
    for bits in range(2 ** sum(widths)):
        M, r = chain.mats[0], chain.rads[0]
        offset = 0
        for l, w in enumerate(widths):
            d = np.array([(bits >> (offset + i)) & 1 for i in range(w)], dtype=np.float64)
            offset += w
            M, r = product(xp, chain.mats[l + 1], chain.rads[l + 1], xp.scale_rows(M, d), r)
        lo_v, hi_v = norm_bracket(xp, M, r, norm)
        lo_best, hi_best = max(lo_best, lo_v), max(hi_best, hi_v)
    return round_down(lo_best), round_up(hi_best)


def _k_branch_and_bound(chain: Chain, max_nodes: int) -> tuple[float, float]:
    """K (ℓ∞ of the chain) by `exactrelu.bounds.k_inf_arrays`'s branch and bound, run in exact
    integer arithmetic on the floats scaled to integers: an enclosure, exact when it finishes."""
    from ..bounds import k_inf_arrays

    ints, scale = [], Fraction(1)
    for M in chain.mats:
        A = chain.xp.to_numpy(M)
        fr = [Fraction(float(v)) for v in A.reshape(-1)]
        den = max((f.denominator for f in fr), default=1)
        ints.append(np.array([int(f * den) for f in fr], dtype=object).reshape(A.shape))
        scale /= den
    best, upper, _ = k_inf_arrays(ints, max_nodes)
    return round_down(Fraction(best) * scale), round_up(Fraction(upper) * scale)
