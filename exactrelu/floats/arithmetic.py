"""Certified float64 arithmetic: directed rounding, error-carrying products, spectral norms.

The float backends (`exactrelu.floats.bounds`), the lower bounds of `exactrelu.floats.estimate` and
the measures of `exactrelu.floats.measures` build their certified numbers from these pieces.
They assume IEEE-754 binary64 with round-to-nearest and gradual underflow (no flush-
to-zero), and that a product of two float matrices is a plain sum of products in any
order, with or without FMA:

- ``|fl(AB) − AB| ≤ γ_{n+2} |A||B| + 2(n+4)·2⁻¹⁰²¹`` entrywise (Higham, *Accuracy and
  Stability*, §3.1 and §3.5; ``n`` the inner dimension, ``γ_n = nu/(1 − nu)``, ``u = 2⁻⁵³``);
- a matrix carried with a Frobenius radius ``‖M_true − M̂‖_F ≤ r`` (`product`);
- spectral norms by Gram iteration (Delattre et al. 2023, `spectral_up`);
- the segment products ``B_{j−1} … B_i`` of a chain, each with an error bound in the
  chain's norm obtained by telescoping (`Chain`), so that the error of a long product
  grows with the norms of its sub-products, not with ``Π ‖B‖_F``;
- scalars (sums of bounds, products of norms) are summed in exact rationals and rounded
  up once.

>>> A = np.array([[3.0, 0.0], [4.0, 5.0]])   # singular values 3·sqrt(5), sqrt(5)
>>> 3 * 5**0.5 <= spectral_up(NUMPY, A) <= 3 * 5**0.5 * (1 + 1e-4)
True
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from typing import Any

import numpy as np
from flint import arb, ctx, fmpq

from .operators import NumpyKernels, OperatorNetwork

U = Fraction(1, 2**53)
TINY = 2.0**-1021
U32 = Fraction(1, 2**24)  # binary32, for the segment products of ``Chain(precision="float32")``
TINY32 = 2.0**-125
PRECISIONS = ("float64", "float32")
GRAM_ITERATIONS = 12


def gamma(n: int, unit: Fraction = U) -> Fraction:
    """``γ_n = nu / (1 − nu)`` for the unit roundoff ``u`` (binary64's by default), exactly.

    >>> float(gamma(1024)) > 1024 * 2**-53
    True
    """
    return n * unit / (1 - n * unit)


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
    """The greatest float ≤ q.

    >>> Fraction(round_down(Fraction(1, 10))) <= Fraction(1, 10)
    True
    """
    q = Fraction(q)
    try:
        f = float(q)
    except OverflowError:
        return sys.float_info.max if q > 0 else -math.inf
    return f if Fraction(f) <= q else math.nextafter(f, -math.inf)


def up_factor(n: int) -> float:
    """A float ≥ ``1 + 2γ_{n+4} + 4u``: the inflation of a nonnegative float sum of ``n`` products."""
    return round_up(1 + 2 * gamma(n + 4) + 4 * U)


def sqrt_up(q: Fraction | float) -> float:
    """A float ≥ sqrt(q), checked in rationals.

    >>> sqrt_up(2) ** 2 >= 2
    True
    """
    q = Fraction(q)
    s = math.sqrt(round_up(q))
    while Fraction(s) ** 2 < q:
        s = math.nextafter(s, math.inf)
    return s


# --------------------------------------------------------------------------- arrays


class NumpyArrays(NumpyKernels):
    """numpy arrays (float64, CPU) with the certified helpers the bounds use
    (`exactrelu.floats.torch.TorchArrays` gives the same on torch tensors)."""

    name = "numpy"
    device = "cpu"

    def to_numpy(self, a: Any) -> np.ndarray:
        return np.asarray(a)

    def to32(self, a: Any) -> Any:
        return a.astype(np.float32)

    def to64(self, a: Any) -> Any:
        return a.astype(np.float64)

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
        return y * up_factor(n) + 2 * (n + 4) * TINY

    def frob_up(self, a: Any) -> float:
        """A float ≥ ‖a‖_F; for a batch (P, m, n), ≥ the largest ‖a_p‖_F."""
        s = self.sumsq(a) if len(self.shape(a)) < 3 else float((a * a).sum(-1).sum(-1).max())
        if s == 0.0:
            return 0.0
        n = int(np.prod(self.shape(a)[-2:]))
        return math.nextafter(sqrt_up(Fraction(s) * Fraction(up_factor(n)) + Fraction(TINY)), math.inf)

    def rowsum_up(self, a: Any) -> Any:
        """Row sums of |a| (a batch of row vectors is (B, n)) as a (1, B) row, rounded up."""
        return self.inflate(self.abs(a).sum(1).reshape(1, -1), self.shape(a)[1])


NUMPY = NumpyArrays()


# --------------------------------------------------------------------------- products and norms


def product(xp: NumpyArrays, A: Any, rA: float, B: Any, rB: float) -> tuple[Any, float]:
    """``fl(AB)`` and a Frobenius radius of ``A_true B_true`` around it, given radii of A and B:
    ``γ_{n+2}‖A‖_F‖B‖_F + ‖A‖_F r_B + r_A‖B‖_F + r_A r_B`` (plus underflow).

    >>> C, r = product(NUMPY, np.eye(2), 0.0, np.eye(2), 0.0)
    >>> C.tolist(), 0 < r < 1e-15
    ([[1.0, 0.0], [0.0, 1.0]], True)
    """
    n = xp.shape(A)[1]
    C = xp.matmul(A, B)
    fa, fb = Fraction(xp.frob_up(A)), Fraction(xp.frob_up(B))
    r = gamma(n + 2) * fa * fb + fa * Fraction(rB) + Fraction(rA) * fb + Fraction(rA) * Fraction(rB)
    r += Fraction(2 * (n + 4)) * Fraction(TINY) * xp.size(C)
    return C, round_up(r)


def norm_inf_up(xp: NumpyArrays, M: Any) -> Fraction:
    """A bound ≥ ‖M‖_∞ (the largest absolute row sum) of a float matrix.

    >>> norm_inf_up(NUMPY, np.array([[1.0, -2.0], [0.5, 0.0]])) >= 3
    True
    """
    return Fraction(xp.max(xp.rowsum_up(M)))


def inf_radius(xp: NumpyArrays, M: Any, r: float) -> Fraction:
    """``‖E‖_∞ ≤ sqrt(cols)·‖E‖_F``: the ℓ∞ radius of a Frobenius radius ``r`` around M."""
    return Fraction(r) * Fraction(sqrt_up(xp.shape(M)[-1]))


def spectral_up(xp: NumpyArrays, A: Any, r: float = 0.0, iterations: int = GRAM_ITERATIONS, rtol: float = 1e-4) -> float:
    """A float ≥ ‖A_true‖₂ for any ``A_true`` with ``‖A_true − A‖_F ≤ r``, by Gram iteration;
    for a batch ``A`` of shape (P, m, n), a float ≥ the largest ``‖A_p‖₂``.

    Stops after ``iterations`` squarings, or when the bound is within ``rtol`` of a power-
    iteration estimate, or when a squaring improved it by less than ``rtol`` (relative).
    A batch shares one scaling and one error bound (those of its largest member).

    >>> A = np.array([[3.0, 0.0], [4.0, 5.0]])   # singular values 3·sqrt(5), sqrt(5)
    >>> b = spectral_up(NUMPY, A, rtol=0)
    >>> 3 * 5**0.5 <= b <= 3 * 5**0.5 * (1 + 1e-9)
    True
    >>> batch = np.stack([A, np.eye(2)])
    >>> 3 * 5**0.5 <= spectral_up(NUMPY, batch, rtol=0) <= 3 * 5**0.5 * (1 + 1e-9)
    True
    """
    rows, cols = xp.shape(A)[-2:]
    H = A if rows >= cols else A.swapaxes(-1, -2)
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
        n = xp.shape(H)[-1]
        size = n * xp.shape(H)[-2]
        delta = delta / Fraction(2) ** k + (Fraction(size) * Fraction(TINY) if k > 0 else 0)
        E += k
        fs = Fraction(f) / Fraction(2) ** k
        m = xp.shape(H)[-2]
        delta = Fraction(round_up(gamma(m + 2) * fs * fs + 2 * fs * delta + delta * delta
                                  + Fraction(2 * (m + 4)) * Fraction(TINY) * n * n))
        H = xp.matmul(H.swapaxes(-1, -2), H)
        E *= 2
    return best


def _root_up(q: Fraction, E: int, p: int) -> float:
    """A float ``y ≥ (2^E · q)^{1/p}``, from a rigorous ball (arb) of the root.

    >>> _root_up(Fraction(9), 0, 2) >= 3.0
    True
    """
    if q <= 0:
        return 0.0
    with ctx.workprec(80):
        root = ((arb(E) * arb(2).log() + arb(fmpq(q.numerator, q.denominator)).log()) / p).exp()
        mantissa, exponent = root.upper().man_exp()
    return round_up(Fraction(int(mantissa)) * Fraction(2) ** int(exponent))


def _power_estimate(xp: NumpyArrays, A: Any, steps: int = 30) -> float:
    """σ₁ estimated (a float, used only to stop the Gram iteration): by power iteration for
    one matrix, by LAPACK for a batch of small ones."""
    if len(xp.shape(A)) == 3:
        return float(np.linalg.norm(xp.to_numpy(A), 2, axis=(1, 2)).max()) if xp.shape(A)[0] else 0.0
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


def norm_bracket(xp: NumpyArrays, M: Any, r: float, norm: str) -> tuple[Fraction, Fraction]:
    """Certified (lower, upper) of ‖M_true‖ for ``‖M_true − M‖_F ≤ r``."""
    A = xp.to_numpy(M)
    if norm == "2":
        upper = Fraction(spectral_up(xp, M, r))
        lower = spectral_lower(A) - Fraction(r)
    else:
        if norm == "1":
            A = A.T
        sums = [sum((Fraction(float(v)) for v in np.abs(row)), Fraction(0)) for row in A]
        best = max(sums)
        slack = Fraction(r) * Fraction(sqrt_up(A.shape[1]))
        upper, lower = best + slack, best - slack
    return max(lower, Fraction(0)), upper


def spectral_lower(A: np.ndarray) -> Fraction:
    """A certified lower bound of ‖A‖₂ (A's floats exact): ``‖Av‖/‖v‖`` in rationals, rounded down.

    >>> spectral_lower(np.array([[3.0, 0.0], [4.0, 5.0]])) <= Fraction(3 * 5**0.5)
    True
    """
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


# --------------------------------------------------------------------------- the chain


class Chain:
    """The explicit block matrices ``B̂_0 … B̂_ℓ`` of an operator graph (float, with Frobenius
    radii ``rads``), and the segment products ``B̂_{j−1} … B̂_i`` with certified error bounds
    in one norm: ``"inf"`` (ℓ1 is ℓ∞ of the ``transposed`` chain) or ``"2"``. With
    ``precision="float32"`` the segment products run in binary32 (about twice as fast on a
    CPU, far more on most GPUs), their errors bounded with ``u = 2⁻²⁴``; norms are still
    evaluated in float64, so only the error terms grow (to about ``n·2⁻²⁴`` relative per
    product instead of ``n·2⁻⁵³``).

    A segment is formed left to right, ``P̂_{m+1} = fl(B̂_m P̂_m)``; with ``S(j, m)`` the exact
    segment, ``S(j, i) − P̂_j = Σ_m S(j, m+1)(B_m P̂_m − P̂_{m+1})`` (telescoping, ``P̂_i = I``),
    so ``‖S(j, i) − P̂_j‖ ≤ Σ_m N(j, m+1)·c_m`` where ``N`` bounds the shorter segments' norms
    and ``c_m ≥ ‖B_m P̂_m − P̂_{m+1}‖`` one step's error: ``(γ_{n+2}‖B̂_m‖ + ‖ΔB_m‖)‖P̂_m‖``
    (``‖fl(B̂P̂) − B̂P̂‖ ≤ γ_{n+2}‖ |B̂||P̂| ‖ ≤ γ_{n+2}‖B̂‖‖P̂‖`` in ℓ∞; Frobenius norms in ℓ2,
    which bound the spectral norm of the error, ``‖XE‖_F ≤ ‖X‖₂‖E‖_F``).

    >>> from exactrelu.floats.operators import Linear, Activation
    >>> net = OperatorNetwork.build((2,), [Linear.create([[1.0, 2.0], [0.0, 1.0]]), Activation.relu(2),
    ...                                    Linear.create([[1.0, -1.0]])])
    >>> ch = Chain(net, NUMPY, exact_w=True)
    >>> ch.segment(2, 0)[0].tolist(), float(ch.norm_up(2, 0)) >= 2
    ([[1.0, 1.0]], True)
    """

    def __init__(self, net: OperatorNetwork, xp: NumpyArrays, exact_w: bool, transposed: bool = False,
                 norm: str = "inf", precision: str = "float64"):
        self.net, self.xp, self.norm, self.precision = net, xp, norm, precision
        mats, rads = [], []
        for l in range(len(net.blocks)):
            M, r = self._block(l, exact_w)
            mats.append(M)
            rads.append(r)
        if transposed:
            mats = [m.T for m in reversed(mats)]
            rads = list(reversed(rads))
        self.mats, self.rads = mats, rads
        self.unit, self.tiny = (U, TINY) if precision == "float64" else (U32, TINY32)
        self._fast = mats if precision == "float64" else [xp.to32(m) for m in mats]
        self.depth = len(net.acts)
        self._prod: dict[tuple[int, int], Any] = {}
        self._abs: dict[tuple[int, int], Any] = {}
        self._step: dict[tuple[int, int], Fraction] = {}
        self._err: dict[tuple[int, int], Fraction] = {}
        self._fnorm: dict[tuple[int, int], Fraction] = {}
        self._factor: dict[int, Fraction] = {}

    def _block(self, l: int, exact_w: bool) -> tuple[Any, float]:
        xp = self.xp
        mats, n_in = self.net.block_matrix(l)
        if not mats:
            return xp.eye(n_in), 0.0
        M = xp.asarray(mats[0])
        r = 0.0 if exact_w else round_up(U * Fraction(xp.frob_up(M)))
        for A in mats[1:]:
            M, r = product(xp, xp.asarray(A), 0.0, M, r)
        return M, r

    def block_error(self, m: int) -> Fraction:
        """A bound of ``‖B_m − B̂_m‖`` in the chain's norm (with ``precision="float32"``, ``B̂_m``
        is the float32 rounding of the block: ``|b − fl32(b)| ≤ u₃₂|b| + 2⁻¹⁴⁹`` more)."""
        M, r = self.mats[m], self.rads[m]
        if self.norm == "2":
            err = Fraction(r)
        else:
            err = inf_radius(self.xp, M, r)
        if self.precision == "float32":
            rows, cols = self.xp.shape(M)
            size = Fraction(rows * cols) * Fraction(2.0**-149)
            plain = Fraction(self.xp.frob_up(M)) if self.norm == "2" else norm_inf_up(self.xp, M)
            err += U32 * plain + size
        return err

    def product(self, j: int, i: int) -> Any:
        """``P̂ = fl(B̂_{j−1} … B̂_i)`` (left to right, in the chain's precision; kept)."""
        key = (j, i)
        if key not in self._prod:
            if j == i + 1:
                self._prod[key] = self._fast[i]
                self._step[(i, i)] = self.block_error(i)
            else:
                P = self.product(j - 1, i)
                self._step[(j - 1, i)] = self._step_error(j - 1, i)
                self._prod[key] = self.xp.matmul(self._fast[j - 1], P)
        return self._prod[key]

    def _step_error(self, m: int, i: int) -> Fraction:
        """A bound of ``‖B_m P̂(m, i) − fl(B̂_m P̂(m, i))‖`` in the chain's norm:
        ``(γ_{n+2}‖B̂_m‖ + ‖ΔB_m‖)‖P̂(m, i)‖`` (Frobenius norms in ℓ2), plus underflow."""
        xp = self.xp
        B, P = self._fast[m], self.product(m, i)
        under = Fraction(2 * (xp.shape(B)[1] + 4)) * Fraction(self.tiny) * xp.shape(P)[1]
        if self.norm == "2":
            return self._step_factor(m) * Fraction(xp.frob_up(xp.to64(P))) + under * xp.shape(B)[0]
        return self._step_factor(m) * self._float_norm(m, i) + under

    def _step_factor(self, m: int) -> Fraction:
        """``γ_{n+2}‖B̂_m‖ + ‖ΔB_m‖`` (Frobenius norm of B̂_m in ℓ2), shared by every segment
        that multiplies by block m (kept)."""
        if m not in self._factor:
            B = self._fast[m]
            g = gamma(self.xp.shape(B)[1] + 2, self.unit)
            norm_b = Fraction(self.xp.frob_up(self.xp.to64(B))) if self.norm == "2" else self._float_norm(m + 1, m)
            self._factor[m] = g * norm_b + self.block_error(m)
        return self._factor[m]

    def _float_norm(self, j: int, i: int) -> Fraction:
        """A bound ≥ ‖P̂(j, i)‖ of the float product itself (evaluated in float64)."""
        key = (j, i)
        if key not in self._fnorm:
            if self.norm == "2":
                self._fnorm[key] = Fraction(spectral_up(self.xp, self.xp.to64(self.product(j, i))))
            else:
                self._fnorm[key] = Fraction(self.xp.max(self.xp.rowsum_up(self._abs_product(j, i))))
        return self._fnorm[key]

    def error(self, j: int, i: int) -> Fraction:
        """A bound of ``‖S(j, i) − P̂(j, i)‖`` in the chain's norm."""
        key = (j, i)
        if key not in self._err:
            self.product(j, i)
            self._err[key] = sum((self.norm_up(j, m + 1) * self._step[(m, i)] for m in range(i, j)), Fraction(0))
        return self._err[key]

    def norm_up(self, j: int, i: int) -> Fraction:
        """A certified bound ``N(j, i) ≥ ‖B_{j−1} … B_i‖`` of the exact segment (1 when j = i)."""
        if j == i:
            return Fraction(1)
        return self._float_norm(j, i) + self.error(j, i)

    def segment(self, j: int, i: int) -> tuple[Any, Fraction]:
        """``(P̂(j, i), error bound)``."""
        return self.product(j, i), self.error(j, i)

    def abs_segment(self, j: int, i: int) -> tuple[Any, Fraction]:
        """``(|P̂(j, i)|, error bound)`` (the absolute matrix is kept, in float64)."""
        return self._abs_product(j, i), self.error(j, i)

    def _abs_product(self, j: int, i: int) -> Any:
        key = (j, i)
        if key not in self._abs:
            self._abs[key] = self.xp.abs(self.xp.to64(self.product(j, i)))
        return self._abs[key]
