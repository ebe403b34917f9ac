"""Certified K bounds in floating point (numpy; `exactrelu.backends.torch` reuses this code).

Every number returned as *certified* is a rigorous upper bound of the exact value
for the network the floats describe (for a `Network` with rationals that are not
floats, the rounding of the weights is inside the bound too):

- A product of nonnegative numbers summed ``n`` at a time is computed in round-to-
  nearest binary64 and multiplied by ``1 + 2γ_{n+4} + 4u`` (``γ_n = nu/(1 − nu)``,
  ``u = 2⁻⁵³``, Higham, *Accuracy and Stability*, §3.1, valid for any order of
  summation, with or without FMA), plus ``2(n+4)·2⁻¹⁰²¹`` for underflow. The
  ``+4`` absorbs the rounding of the weights themselves and of the scaling.
- A signed matrix product ``Ĉ = fl(AB)`` is carried with a Frobenius radius
  ``‖C − Ĉ‖_F ≤ r``: ``r_C = γ_n‖A‖_F‖B‖_F + ‖A‖_F r_B + r_A‖B‖_F + r_A r_B``.
- Spectral norms by Gram iteration (Delattre et al. 2023): ``σ₁(A)^{2^t} ≤
  ‖G_t‖_F`` with ``G_{t+1} = G_tᵀG_t``, the float error carried as
  ``δ_{t+1} = γ_n f² + 2fδ + δ²``, rescaled by powers of two, and the root taken
  upwards (checked in exact rationals).
- Scalars (sums over subsets, products of norms) are summed in exact rationals
  and rounded up once.

This assumes IEEE-754 binary64 arithmetic with round-to-nearest and gradual
underflow (no flush-to-zero); on CUDA the torch backend uses float64 and disables
cuDNN so that convolutions are plain sums of products.

The bounds are those of `exactrelu.bounds` (seed 004's definitions), for the chain
``B_ℓ σ_ℓ … σ_1 B_0`` of affine maps between activations (biases play no part):

- ``K_star = Π ‖B_l‖`` and ``K3 = ‖ |B_ℓ| … |B_0| ‖`` (one pass of the all-ones vector
  through the absolute weights for ℓ∞, backwards for ℓ1; a product of absolute
  matrices for ℓ2), defined when every activation slope lies in [−1, 1];
- ``K1 = 2^-ℓ Σ_S Π ‖seg‖`` (Combettes–Pesquet; ``seg(j, i) = B_{j−1} … B_i`` between
  consecutive cut layers of S), by a dynamic program over the O(ℓ²) segments;
- ``K4 = 2^-ℓ Σ_S ‖ |seg| … |seg| ‖`` (ℓ1, ℓ∞), the 2^ℓ terms visited depth-first,
  sharing prefixes, one matrix-vector product per term;
- ``K = max over 0/1 diagonals D_r of ‖B_ℓ D_ℓ … B_0‖``: enumerated when there are
  few patterns (a certified enclosure); for ℓ1/ℓ∞ with hidden layers of at most
  `BNB_WIDTH` neurons, `exactrelu.bounds.k_inf_arrays`'s branch and bound run exactly on
  the floats scaled to integers (exact, or an enclosure with its gap after `BNB_NODES`
  nodes); else bracketed by the best pattern the search for L met (a certified lower
  end) and the smallest certified bound;
- ``K2`` (ℓ2): SeqLip (`exactrelu.bounds.seqlip`) on the float weights, an estimate,
  when every hidden layer is narrow enough to enumerate;

``K``, ``K1``, ``K2``, ``K4`` are defined when every slope lies in [0, 1]. ℓ1 is ℓ∞ on
the transposed chain.

>>> from exactrelu.network import Network, affine, activation
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
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import InputError
from ..operators import NumpyKernels, OperatorNetwork, Reshape, exact_weights, from_network
from ..results import CERTIFIED, ESTIMATE, EXACT, Quantity

NORMS = ("1", "2", "inf")
U = Fraction(1, 2**53)
TINY = 2.0**-1021
GRAM_ITERATIONS = 12
ENUMERATE_PATTERNS = 2**12
K4_SUBSETS = 2**16
BNB_WIDTH = 12  # the branch and bound enumerates 2^width patterns per hidden layer
BNB_NODES = 20_000
SEQLIP_WIDTH = 12  # SeqLip enumerates 2^width patterns per hidden layer


def gamma(n: int) -> Fraction:
    """``γ_n = nu / (1 − nu)`` for binary64, exactly.

    >>> float(gamma(1024)) > 1024 * 2**-53
    True
    """
    return n * U / (1 - n * U)


def round_up(q: Fraction | float | int) -> float:
    """The least float ≥ q.

    >>> Fraction(round_up(Fraction(1, 10))) >= Fraction(1, 10)
    True
    """
    q = Fraction(q)
    try:
        f = float(q)
    except OverflowError:
        return math.inf if q > 0 else -sys.float_info.max
    return f if Fraction(f) >= q else math.nextafter(f, math.inf)


def round_down(q: Fraction | float | int) -> float:
    """The greatest float ≤ q."""
    q = Fraction(q)
    try:
        f = float(q)
    except OverflowError:
        return sys.float_info.max if q > 0 else -math.inf
    return f if Fraction(f) <= q else math.nextafter(f, -math.inf)


def _up_factor(n: int) -> float:
    return round_up(1 + 2 * gamma(n + 4) + 4 * U)


# --------------------------------------------------------------------------- arrays


class NumpyArrays(NumpyKernels):
    """numpy arrays (float64, CPU) with the certified helpers the bounds use."""

    name = "numpy"
    device = "cpu"

    def to_numpy(self, a: Any) -> np.ndarray:
        return np.asarray(a)

    def ones(self, n: int) -> Any:
        return self.asarray(np.ones((1, n)))

    def eye(self, n: int) -> Any:
        return self.asarray(np.eye(n))

    def abs(self, a: Any) -> Any:
        return abs(a)

    def max(self, a: Any) -> float:
        return float(a.max()) if a.size else 0.0

    def sumsq(self, a: Any) -> float:
        return float((a * a).sum())

    def scale_cols(self, a: Any, s: np.ndarray) -> Any:
        return a * self.asarray(s)

    def scale_rows(self, a: Any, s: np.ndarray) -> Any:
        return a * self.asarray(s.reshape(-1, 1))

    def shape(self, a: Any) -> tuple[int, ...]:
        return tuple(a.shape)

    def size(self, a: Any) -> int:
        return int(np.prod(a.shape))

    def rowmax(self, a: Any) -> Any:
        return a.max(axis=1, keepdims=True)

    def cat(self, parts: list[Any]) -> Any:
        return np.concatenate(parts, axis=0)

    def ldexp(self, a: Any, k: int) -> Any:
        """``a · 2^k`` (exact unless the result leaves the normal range)."""
        while abs(k) > 1000:
            step = 1000 if k > 0 else -1000
            a, k = a * (2.0**step), k - step
        return a * (2.0**k)

    # -- certified helpers ----------------------------------------------------------

    def inflate(self, y: Any, n: int) -> Any:
        """An upper bound of the exact nonnegative values that ``y`` rounds (n terms each)."""
        return y * _up_factor(n) + 2 * (n + 4) * TINY

    def frob_up(self, a: Any) -> float:
        """A float ≥ ‖a‖_F."""
        s = self.sumsq(a)
        if s == 0.0:
            return 0.0
        return math.nextafter(math.sqrt(round_up(Fraction(s) * Fraction(_up_factor(self.size(a))) + TINY)), math.inf)

    def rowsum_up(self, a: Any) -> Any:
        """Row sums of |a| (a batch of row vectors is (B, n)), rounded up."""
        return self.inflate(self.matmul(self.abs(a), self.ones(self.shape(a)[1]).T).T, self.shape(a)[1])


NUMPY = NumpyArrays()


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class FloatBounds:
    """The K bounds and L's bracket for one norm, from a float backend.

    Shaped like `exactrelu.bounds.Bounds`: ``values`` maps ``K_star, K, K1, K2, K3, K4``
    and ``L``, ``L_lower``, ``L_upper`` to `Quantity` (certified values are upper
    bounds; ``K`` and ``L`` carry ``interval = (lower, upper)`` when their lower end is
    proven); ``undefined`` maps a bound that does not apply or was not computed to the
    reason; ``diagnostics`` holds the backend, device, mode, timings and notes.
    ``witness``: the point of L's lower bound.
    """

    norm: str
    values: dict[str, Quantity]
    undefined: dict[str, str] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    witness: tuple[float, ...] | None = None

    def __getitem__(self, key: str) -> Quantity:
        return self.values[key]

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def to_json(self) -> dict[str, Any]:
        """The SPEC's keys with ``_float``/``_guarantee``/``_interval`` siblings; ``<name>: null``
        and ``<name>_undefined`` for a bound not given."""
        out: dict[str, Any] = {"norm": self.norm}
        for key, q in self.values.items():
            out.update(q.to_json(key))
        for key, why in self.undefined.items():
            out[key] = None
            out[f"{key}_undefined"] = why
        if self.witness is not None:
            out["L_witness"] = [float(v) for v in self.witness]
        out["diagnostics"] = self.diagnostics
        return out


# --------------------------------------------------------------------------- the chain


class _Chain:
    """Explicit block matrices (with Frobenius radii) on one array library, possibly
    transposed (ℓ1 as ℓ∞ of the transpose)."""

    def __init__(self, net: OperatorNetwork, xp: NumpyArrays, exact_w: bool, transposed: bool = False):
        self.net, self.xp = net, xp
        mats, rads = [], []
        for l in range(len(net.blocks)):
            M, r = self._block(l, exact_w)
            mats.append(M)
            rads.append(r)
        if transposed:
            mats = [m.T for m in reversed(mats)]
            rads = list(reversed(rads))
        self.mats, self.rads = mats, rads
        self.depth = len(net.acts)
        self._seg: dict[tuple[int, int], tuple[Any, float]] = {}

    def _block(self, l: int, exact_w: bool) -> tuple[Any, float]:
        xp = self.xp
        mats, n_in = self.net.block_matrix(l)
        if not mats:
            return xp.eye(n_in), 0.0
        M = xp.asarray(mats[0])
        r = 0.0 if exact_w else round_up(U * Fraction(xp.frob_up(M)))
        for A in mats[1:]:
            M, r = _mul(xp, xp.asarray(A), 0.0, M, r)
        return M, r

    def segment(self, j: int, i: int) -> tuple[Any, float]:
        """``seg(j, i) = B_{j−1} … B_i`` and its Frobenius radius."""
        key = (j, i)
        if key not in self._seg:
            if j == i + 1:
                self._seg[key] = (self.mats[i], self.rads[i])
            else:
                P, r = self.segment(j - 1, i)
                self._seg[key] = _mul(self.xp, self.mats[j - 1], self.rads[j - 1], P, r)
        return self._seg[key]

    def abs_segment(self, j: int, i: int) -> tuple[Any, float]:
        """``|seg(j, i)|`` (of the float matrix; kept) and the radius of ``seg(j, i)``."""
        key = (j, i, "abs")
        if key not in self._seg:
            M, r = self.segment(j, i)
            self._seg[key] = (self.xp.abs(M), r)
        return self._seg[key]


def _mul(xp: NumpyArrays, A: Any, rA: float, B: Any, rB: float) -> tuple[Any, float]:
    n = xp.shape(A)[1]
    C = xp.matmul(A, B)
    fa, fb = Fraction(xp.frob_up(A)), Fraction(xp.frob_up(B))
    r = gamma(n + 2) * fa * fb + fa * Fraction(rB) + Fraction(rA) * fb + Fraction(rA) * Fraction(rB)
    r += Fraction(2 * (n + 4)) * Fraction(TINY) * xp.size(C)
    return C, round_up(r)


def _norm_inf_up(xp: NumpyArrays, M: Any, r: float) -> Fraction:
    cols = xp.shape(M)[1]
    return Fraction(xp.max(xp.rowsum_up(M))) + Fraction(round_up(Fraction(r) * Fraction(round_up(math.sqrt(cols) * (1 + 1e-15)))))


def spectral_up(xp: NumpyArrays, A: Any, r: float = 0.0, iterations: int = GRAM_ITERATIONS, rtol: float = 1e-4) -> float:
    """A float ≥ ‖A_true‖₂ for any ``A_true`` with ``‖A_true − A‖_F ≤ r``, by Gram iteration.

    Stops after ``iterations`` squarings, or when the bound is within ``rtol`` of a power-
    iteration estimate, or when a squaring improved it by less than ``rtol`` (relative).

    >>> A = np.array([[3.0, 0.0], [4.0, 5.0]])   # singular values 3·sqrt(5), sqrt(5)
    >>> b = spectral_up(NUMPY, A, rtol=0)
    >>> 3 * 5**0.5 <= b <= 3 * 5**0.5 * (1 + 1e-9)
    True
    """
    H = A if xp.shape(A)[0] >= xp.shape(A)[1] else A.T
    delta = Fraction(r)
    E = 0
    best = math.inf
    estimate = _power_estimate(xp, A)
    for t in range(iterations + 1):
        f = xp.frob_up(H)
        if f == 0.0:
            return round_up(delta) if t == 0 else min(best, _root_up(delta, E, 2**t))
        previous, best = best, min(best, _root_up(Fraction(f) + delta, E, 2**t))
        if (t == iterations or best <= estimate * (1 + rtol) or estimate == 0.0 or delta * 8 >= f
                or previous - best < rtol * best):
            break
        k = math.frexp(f)[1]
        H = xp.ldexp(H, -k)
        delta = delta / Fraction(2) ** k + (Fraction(xp.size(H)) * Fraction(TINY) if k > 0 else 0)
        E += k
        fs = Fraction(f) / Fraction(2) ** k
        n = xp.shape(H)[0]
        delta = Fraction(round_up(gamma(n + 2) * fs * fs + 2 * fs * delta + delta * delta
                                  + Fraction(2 * (n + 4)) * Fraction(TINY) * xp.size(H)))
        H = xp.matmul(H.T, H)
        E *= 2
    return best


def _root_up(q: Fraction, E: int, p: int) -> float:
    """A float y with ``y^p ≥ 2^E · q`` (and close to it)."""
    if q <= 0:
        return 0.0
    target = Fraction(2) ** E * q
    y = 2.0 ** ((E + math.log2(q.numerator) - math.log2(q.denominator)) / p)
    step = 4e-16 * (2 + math.log2(p))
    y = y * (1 + step)
    while Fraction(y) ** p < target:
        step *= 2
        y = math.nextafter(y * (1 + step), math.inf)
    return y


def _power_estimate(xp: NumpyArrays, A: Any, steps: int = 30) -> float:
    """σ₁ estimated by power iteration (a float lower estimate, used only to stop Gram)."""
    n = xp.shape(A)[1]
    v = xp.asarray(np.random.default_rng(0).standard_normal((n, 1)))
    s = 0.0
    for _ in range(steps):
        nv = math.sqrt(xp.sumsq(v))
        if nv == 0.0:
            return 0.0
        v = v / nv
        w = xp.matmul(A, v)
        s = math.sqrt(xp.sumsq(w))
        v = xp.matmul(A.T, w)
    return s


# --------------------------------------------------------------------------- the bounds


def check_norm(norm: Any) -> str:
    """``"1"``, ``"2"`` or ``"inf"`` (as `exactrelu.norms.parse_norm` reads them)."""
    from ..norms import parse_norm

    return parse_norm(norm)


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
    mode: str = "explicit",
    lower: bool = True,
    samples: int = 256,
    seed: int = 0,
    domain: Any = None,
) -> FloatBounds:
    """Certified K bounds and L's bracket on numpy (CPU). ``device`` must be None or ``"cpu"``.

    ``net``: an exact `Network` or an `OperatorNetwork`. ``mode="explicit"`` forms each
    block's matrix; ``"implicit"`` computes ``K_star`` and ``K3`` (ℓ1, ℓ∞) by operator
    passes only, no matrix formed (inside a block of several operators ``|B| ≤ Π|op|``
    entrywise, so these may exceed the explicit ones), and ℓ2's ``K_star`` as
    ``Π sqrt(‖op‖₁‖op‖_∞)`` (looser than the spectral norms); the rest as in explicit mode.
    ``lower``: search for a lower bound of L (`exactrelu.estimate.lipschitz_lower`,
    ``samples`` points, ``seed``) over ``domain`` (an `exactrelu.Domain`; R^n when None;
    a polyhedron that is not a box gets no lower bound). The K bounds hold on every domain.
    """
    if device not in (None, "cpu"):
        raise InputError(f"the numpy backend runs on the CPU only, got device {device!r}", path="--device")
    return compute(net, norm, NUMPY, mode=mode, lower=lower, samples=samples, seed=seed, domain=domain)


def compute(net: Any, norm: Any, xp: NumpyArrays, *, mode: str = "explicit", lower: bool = True,
            samples: int = 256, seed: int = 0, domain: Any = None) -> FloatBounds:
    """The backend-independent computation behind `bounds` (``xp``: numpy's or torch's arrays)."""
    norm = check_norm(norm)
    if mode not in ("explicit", "implicit"):
        raise InputError(f"expected mode 'explicit' or 'implicit', got {mode!r}", path="mode")
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
    chain = _Chain(opnet, xp, exact_w, transposed)
    if mode == "implicit" and norm == "2":
        attempt("K_star", pm1, -1, lambda: _k_star_implicit_l2(opnet, xp))
        attempt("K3", pm1, -1, lambda: _k3(chain, norm))
    elif mode == "implicit":
        attempt("K_star", pm1, -1, lambda: _k_star_implicit(opnet, xp, transposed))
        attempt("K3", pm1, -1, lambda: _k3_implicit(opnet, xp, transposed))
    else:
        attempt("K_star", pm1, -1, lambda: _k_star(chain, norm))
        attempt("K3", pm1, -1, lambda: _k3(chain, norm))
    attempt("K1", unit, 0, lambda: _k1(chain, norm))
    if norm == "2":
        undefined["K4"] = "K4 is defined for the ℓ1 and ℓ∞ norms"
        _k2(opnet, chain, unit, values, undefined)
    else:
        undefined["K2"] = "Virmaux–Scaman's bound is defined for the ℓ2 norm only"
        if 2**ell > K4_SUBSETS:
            undefined["K4"] = f"K4 has 2^{ell} terms, more than {K4_SUBSETS}"
        else:
            attempt("K4", unit, 0, lambda: _k4(chain))
    undefined["C"] = undefined["C_E"] = "seed 002's C and C_E are computed by the exact backend only"
    uppers = [q.value for k, q in values.items() if q.guarantee == CERTIFIED and k != "K2"]
    l_upper = min(uppers) if uppers else math.inf
    k_enclosure = None
    if unit:
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
    else:
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
        from ..estimate import lipschitz_lower

        t = time.perf_counter()
        est = lipschitz_lower(exact_net if exact_net is not None else opnet, norm, xp=xp, samples=samples,
                              seed=seed, box=box)
        seconds["L_lower"] = time.perf_counter() - t
        witness = est.witness
        values["L_lower"] = est.value
        k_lo = est.certified_pattern_norm
        if est.value.guarantee == ESTIMATE:
            notes.append("L's lower end is an estimate (sampling and local search, not re-checked exactly)")
    if unit and k_enclosure is None and uppers:
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
    diagnostics = {"backend": xp.name, "device": xp.device, "mode": mode, "seconds": seconds, "notes": notes}
    return FloatBounds(norm, values, undefined, diagnostics, witness)


def _cert(value: Fraction | float) -> Quantity:
    return Quantity(round_up(value), CERTIFIED, upper=True)


def _k2(opnet: OperatorNetwork, chain: _Chain, unit: bool, values: dict[str, Quantity],
        undefined: dict[str, str]) -> None:
    from ..bounds import seqlip

    widest = max(opnet.widths, default=0)
    if not unit:
        undefined["K2"] = "K2 bounds L only when every activation slope lies in [0, 1]"
    elif widest > SEQLIP_WIDTH:
        undefined["K2"] = f"SeqLip enumerates 2^width patterns per hidden layer; the widest has {widest} neurons"
    else:
        mats = [chain.xp.to_numpy(m) for m in chain.mats]
        values["K2"] = Quantity(seqlip(mats), ESTIMATE, upper=True)


def _k_star(chain: _Chain, norm: str) -> Fraction:
    xp = chain.xp
    total = Fraction(1)
    for M, r in zip(chain.mats, chain.rads):
        total *= Fraction(spectral_up(xp, M, r)) if norm == "2" else _norm_inf_up(xp, M, r)
    return total


def _k3(chain: _Chain, norm: str) -> Fraction:
    xp = chain.xp
    if norm == "2":
        P, r = xp.abs(chain.mats[0]), chain.rads[0]
        for M, rM in zip(chain.mats[1:], chain.rads[1:]):
            P, r = _mul(xp, xp.abs(M), rM, P, r)
        return Fraction(spectral_up(xp, P, r))
    v = xp.ones(xp.shape(chain.mats[0])[1])
    for l in range(len(chain.mats)):
        v = _abs_apply(xp, *chain.abs_segment(l + 1, l), v)
    return Fraction(xp.max(v))


def _abs_apply(xp: NumpyArrays, A: Any, r: float, v: Any) -> Any:
    """Upper bounds of ``|M_true| v`` for a batch of nonnegative row vectors ``v`` (B, n),
    given ``A = |M|`` with ``‖M_true − M‖_F ≤ r`` (so ``‖|M_true − M| v‖_∞ ≤ r·sqrt(n)·max v``)."""
    n = xp.shape(A)[1]
    out = xp.inflate(xp.matmul(A, v.T).T, n)
    if r:
        c = round_up(Fraction(r) * Fraction(round_up(math.sqrt(n) * (1 + 1e-15))) * (1 + 4 * U))
        out = out + xp.rowmax(v) * c
    return out


def _k1(chain: _Chain, norm: str) -> Fraction:
    ell = chain.depth
    xp = chain.xp
    F = [Fraction(1)] + [Fraction(0)] * (ell + 1)
    for j in range(1, ell + 2):
        for i in range(j):
            M, r = chain.segment(j, i)
            nrm = Fraction(spectral_up(xp, M, r)) if norm == "2" else _norm_inf_up(xp, M, r)
            F[j] += F[i] * nrm
    return F[ell + 1] / 2**ell


def _k4(chain: _Chain) -> Fraction:
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


def _k_star_implicit(net: OperatorNetwork, xp: NumpyArrays, transposed: bool) -> Fraction:
    total = Fraction(1)
    for block in net.abs_blocks:
        for op in block:
            if isinstance(op, Reshape):
                continue
            n = op.terms_t if transposed else op.terms
            ones = xp.ones(int(np.prod(op.out_shape if transposed else op.in_shape)))
            v = op.apply_t(ones, xp) if transposed else op.apply(ones, xp)
            total *= Fraction(xp.max(xp.inflate(v, n)))
    return total


def _k_star_implicit_l2(net: OperatorNetwork, xp: NumpyArrays) -> Fraction:
    """``Π sqrt(‖op‖₁ ‖op‖_∞)`` over the operators (Hölder: ‖A‖₂² ≤ ‖A‖₁‖A‖_∞), no matrix formed."""
    total = Fraction(1)
    for block in net.abs_blocks:
        for op in block:
            if isinstance(op, Reshape):
                continue
            rows = xp.max(xp.inflate(op.apply(xp.ones(int(np.prod(op.in_shape))), xp), op.terms))
            cols = xp.max(xp.inflate(op.apply_t(xp.ones(int(np.prod(op.out_shape))), xp), op.terms_t))
            total *= Fraction(math.nextafter(math.sqrt(round_up(Fraction(rows) * Fraction(cols))), math.inf))
    return total


def _k3_implicit(net: OperatorNetwork, xp: NumpyArrays, transposed: bool) -> Fraction:
    v = xp.ones(net.output_size if transposed else net.input_size)
    order = range(len(net.blocks) - 1, -1, -1) if transposed else range(len(net.blocks))
    for l in order:
        ops = net.abs_blocks[l]
        for op in (reversed(ops) if transposed else ops):
            v = xp.inflate(op.apply_t(v, xp), op.terms_t) if transposed else xp.inflate(op.apply(v, xp), op.terms)
    return Fraction(xp.max(v))


def _k_patterns(chain: _Chain, norm: str) -> tuple[float, float] | None:
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
            M, r = _mul(xp, chain.mats[l + 1], chain.rads[l + 1], xp.scale_rows(M, d), r)
        lo_v, hi_v = _norm_bracket(xp, M, r, norm)
        lo_best, hi_best = max(lo_best, lo_v), max(hi_best, hi_v)
    return round_down(lo_best), round_up(hi_best)


def _k_branch_and_bound(chain: _Chain, max_nodes: int) -> tuple[float, float]:
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


def _norm_bracket(xp: NumpyArrays, M: Any, r: float, norm: str) -> tuple[Fraction, Fraction]:
    """Certified (lower, upper) of ‖M_true‖ for ``‖M_true − M‖_F ≤ r``."""
    A = xp.to_numpy(M)
    rows, cols = A.shape
    if norm == "2":
        upper = Fraction(spectral_up(xp, M, r))
        lower = _spectral_lower(A) - Fraction(r)
    else:
        if norm == "1":
            A = A.T
        sums = [sum((Fraction(float(v)) for v in np.abs(row)), Fraction(0)) for row in A]
        best = max(sums)
        slack = Fraction(r) * Fraction(round_up(math.sqrt(A.shape[1]) * (1 + 1e-15)))
        upper, lower = best + slack, best - slack
    return max(lower, Fraction(0)), upper


def _spectral_lower(A: np.ndarray) -> Fraction:
    """A certified lower bound of ‖A‖₂ (A's floats exact): ``‖Av‖/‖v‖`` in rationals, rounded down."""
    if not A.size or not np.any(A):
        return Fraction(0)
    _, _, vt = np.linalg.svd(A)
    v = [Fraction(float(x)) for x in vt[0]]
    Av = [sum((Fraction(float(a)) * x for a, x in zip(row, v)), Fraction(0)) for row in A]
    q = sum((x * x for x in Av), Fraction(0)) / sum((x * x for x in v), Fraction(0))
    s = round_down(Fraction(math.sqrt(float(q))))
    while Fraction(s) ** 2 > q:
        s = math.nextafter(s, 0.0)
    return Fraction(s)
