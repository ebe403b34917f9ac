"""Virmaux–Scaman's SeqLip bound (seed 004's ``K2``), certified in floating point.

For ``f = B_ℓ σ … σ B_0`` with every activation slope in [0, 1], each Jacobian is
``J = B_ℓ D_ℓ … D_1 B_0`` with diagonal ``0 ≤ D ≤ I``. Split every layer as
``B_m = A_m C_m`` (from its SVD ``U Σ Vᵀ``: ``A_0 = U Σ``, ``C_0 = Vᵀ``; ``A_ℓ = U``,
``C_ℓ = Σ Vᵀ``; ``A = U Σ^½``, ``C = Σ^½ Vᵀ`` between); then

    ‖J‖₂ ≤ ‖A_ℓ‖ · Π_k max_{d ∈ {0,1}^{n_k}} ‖C_k diag(d) A_{k−1}‖ · ‖C_0‖

(Virmaux & Scaman 2018, Theorem 3; the maximum over ``[0, 1]^{n_k}`` is at a vertex, the
norm being convex in ``d``). Any factorization gives a valid bound, so the float SVD's
factors need not be exact: the residuals ``R_m = B_m − A_m C_m`` are bounded
(``‖R_m‖₂ ≤ ρ_m``) and, by telescoping ``J − J_AC = Σ_m (B_ℓ D … D_{m+1}) R_m (D_m A_{m−1}C_{m−1} … )``,
added as ``Σ_m ρ_m Π_{k>m} ‖B_k‖ Π_{k<m} ‖A_k‖‖C_k‖``. Every norm is a certified upper
bound (`exactrelu.floats.arithmetic.spectral_up`; the 2^{n_k} products of one layer as one batch).
As ``U`` and ``V`` have orthonormal columns, the end factors are taken as ``A_0 = B_0``,
``C_0 = I``, ``A_ℓ = I``, ``C_ℓ = B_ℓ``: the same norms, with no rounding in the ends.

The result is a certified upper bound on the ℓ2 Lipschitz constant; it equals SeqLip's
value (for the exact SVD) up to the SVD's rounding, which is not enclosed.

>>> import numpy as np
>>> b = seqlip_upper([np.array([[1.0], [1.0]]), np.array([[1.0, -1.0]])], [0.0, 0.0])
>>> 1 <= b <= 1 + 1e-9     # J = d1 − d2 with d ∈ {0,1}²: SeqLip is 1
True
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import Sequence

import numpy as np

from ..core.errors import InputError
from .arithmetic import NUMPY, TINY, U, gamma, product, round_up, spectral_up

MAX_WIDTH = 12  # 2^width products per hidden layer
RTOL = 1e-12  # the matrices are small: Gram iteration runs until it stalls
ITERATIONS = 60  # (Σ σ_i^(2^(t+1)))^(1/2^(t+1)) approaches σ₁ slowly when σ₁ ≈ σ₂


def seqlip_upper(mats: Sequence[np.ndarray], rads: Sequence[float], max_width: int = MAX_WIDTH) -> Fraction:
    """A certified upper bound of SeqLip for the layers ``B_m`` with ``‖B_m − mats[m]‖_F ≤ rads[m]``
    (``mats[m]`` float64 arrays, outputs by rows); `InputError` when a hidden layer is wider
    than ``max_width`` (2^width products each)."""
    xp = NUMPY
    mats = [np.asarray(m, dtype=np.float64) for m in mats]
    ell = len(mats) - 1
    if ell == 0:
        return Fraction(spectral_up(xp, mats[0], rads[0]))
    widest = max(M.shape[0] for M in mats[:-1])
    if widest > max_width:
        raise InputError(f"SeqLip enumerates 2^width patterns per hidden layer; the widest has {widest} neurons, "
                         f"more than {max_width}", path="network")
    # The end factors: U_ℓ and V_0ᵀ have orthonormal columns (rows), so ‖C_1 D U_0 Σ_0‖ = ‖C_1 D B_0‖ and
    # ‖Σ_ℓ V_ℓᵀ D A_{ℓ−1}‖ = ‖B_ℓ D A_{ℓ−1}‖: take A_0 = B_0, C_0 = I, A_ℓ = I, C_ℓ = B_ℓ (no residual).
    A: list[np.ndarray] = [mats[0]]
    C: list[np.ndarray] = [np.eye(mats[0].shape[1])]
    rho = [Fraction(rads[0])]
    for M, r in zip(mats[1:-1], rads[1:-1]):
        u, s, vt = np.linalg.svd(M, full_matrices=False)
        A.append(u * np.sqrt(s))
        C.append(np.sqrt(s)[:, None] * vt)
        P, rP = product(xp, A[-1], 0.0, C[-1], 0.0)
        diff = M - P  # |fl(M − P) − (M − P)| ≤ u|M − P|
        rho.append(Fraction(xp.frob_up(diff)) / (1 - U) + Fraction(rP) + Fraction(r))
    A.append(np.eye(mats[-1].shape[0]))
    C.append(mats[-1])
    rho.append(Fraction(rads[-1]))
    total = Fraction(1)
    for k in range(1, ell + 1):
        total *= _max_over_patterns(C[k], A[k - 1])
    norms_b = [Fraction(spectral_up(xp, M, r)) for M, r in zip(mats, rads)]
    norms_ac = [norms_b[0]] + [Fraction(spectral_up(xp, a)) * Fraction(spectral_up(xp, c))
                               for a, c in zip(A[1:-1], C[1:-1])]
    for m in range(ell + 1):
        if rho[m]:
            total += rho[m] * _prod(norms_b[m + 1:]) * _prod(norms_ac[:m])
    return total


def _prod(values: Sequence[Fraction]) -> Fraction:
    out = Fraction(1)
    for v in values:
        out *= v
    return out


def _max_over_patterns(C: np.ndarray, A: np.ndarray) -> Fraction:
    """A certified bound ≥ ``max_d ‖C diag(d) A‖₂`` over d ∈ {0,1}^w, all 2^w products as one batch."""
    w = C.shape[1]
    pats = np.array(list(itertools.product((0.0, 1.0), repeat=w)))
    batch = np.einsum("aw,pw,wb->pab", C, pats, A)
    # each entry is a float sum of at most w products of exact floats
    radius = (gamma(w + 2) * Fraction(NUMPY.frob_up(C)) * Fraction(NUMPY.frob_up(A))
              + Fraction(2 * (w + 4)) * Fraction(TINY) * C.shape[0] * A.shape[1])
    return Fraction(spectral_up(NUMPY, batch, round_up(radius), rtol=RTOL, iterations=ITERATIONS))
