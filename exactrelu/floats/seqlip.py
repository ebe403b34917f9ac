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
from flint import fmpq_mat

from ..core.errors import InputError
from ..core.norms import norm_inf
from ..core.numbers import fmpq_matrix
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


def seqlip_inf_upper(ws: Sequence[fmpq_mat], max_width: int = MAX_WIDTH) -> Fraction:
    """SeqLip's split with every factor measured in ℓ∞ (seed 004's printed ``K2``), exactly.

    The factors are those of `seqlip_upper`: ``A_0 = B_0``, ``C_0 = I``; ``A_m = U_m Σ_m^½``,
    ``C_m = Σ_m^½ V_mᵀ`` between (a float SVD, its factors read as the exact rationals they
    are); ``A_ℓ = I``, ``C_ℓ = B_ℓ``. Then ``J = A_ℓ Π_k (C_k D_k A_{k−1}) C_0 + Σ_m (B_ℓ D … D_{m+1}) R_m
    (D_m A_{m−1} C_{m−1} … )`` with the exact residuals ``R_m = B_m − A_m C_m``, and ``‖·‖_∞`` is
    submultiplicative and convex in each ``D_k ∈ [0, I]``, so

        ‖J‖_∞ ≤ Π_k max_{d ∈ {0,1}^{n_k}} ‖C_k diag(d) A_{k−1}‖_∞ + Σ_m ‖R_m‖_∞ Π_{k>m} ‖B_k‖_∞ Π_{k<m} ‖A_k C_k‖_∞,

    every term computed exactly (the 2^{n_k} products of a layer by a Gray-code walk, one
    rank-one update each): a certified upper bound on the ℓ∞ Lipschitz constant, equal to the
    ℓ∞ SeqLip of the float factors up to the residual term (about 1e-15 relative). Singular
    values below the float SVD's resolution are set to 0, as the exact SVD has them.

    >>> from exactrelu.core.numbers import fmpq_matrix
    >>> seqlip_inf_upper([fmpq_matrix([[1], [1]]), fmpq_matrix([[1, -1]])])   # max |d1 − d2| = 1
    Fraction(1, 1)
    """
    ell = len(ws) - 1
    if ell == 0:
        return norm_inf(ws[0])
    widest = max(M.nrows() for M in ws[:-1])
    if widest > max_width:
        raise InputError(f"SeqLip enumerates 2^width patterns per hidden layer; the widest has {widest} neurons, "
                         f"more than {max_width}", path="network")
    A: list[fmpq_mat] = [ws[0]]
    C: list[fmpq_mat] = [fmpq_mat(ws[0].ncols(), ws[0].ncols(), [int(i == j) for i in range(ws[0].ncols())
                                                                   for j in range(ws[0].ncols())])]
    for M in ws[1:-1]:
        u, s, vt = np.linalg.svd(np.array([[float(v) for v in row] for row in M.table()]), full_matrices=False)
        # a zero singular value computed as ~1e-16 would enter both factors as its square root,
        # ~1e-8, which a pattern D does not cancel: drop it (the exact residual accounts for it)
        s = np.where(s > s[0] * max(M.nrows(), M.ncols()) * float(U), s, 0.0)
        A.append(fmpq_matrix([[Fraction(v) for v in row] for row in u * np.sqrt(s)]))
        C.append(fmpq_matrix([[Fraction(v) for v in row] for row in np.sqrt(s)[:, None] * vt]))
    k_out = ws[-1].nrows()
    A.append(fmpq_mat(k_out, k_out, [int(i == j) for i in range(k_out) for j in range(k_out)]))
    C.append(ws[-1])
    total = Fraction(1)
    for k in range(1, ell + 1):
        total *= _max_over_patterns_inf(C[k], A[k - 1])
    norms_b = [norm_inf(M) for M in ws]
    norms_ac = [norm_inf(a * c) for a, c in zip(A, C)]
    for m in range(1, ell):
        rho = norm_inf(ws[m] - A[m] * C[m])
        if rho:
            total += rho * _prod(norms_b[m + 1:]) * _prod(norms_ac[:m])
    return total


def _max_over_patterns_inf(C: fmpq_mat, A: fmpq_mat) -> Fraction:
    """``max_d ‖C diag(d) A‖_∞`` over d ∈ {0,1}^w, exactly: a Gray-code walk adds or removes one
    rank-one term ``c_k a_kᵀ`` per step."""
    w = C.ncols()
    terms = [_outer(C, A, k) for k in range(w)]
    current = fmpq_mat(C.nrows(), A.ncols())
    best = Fraction(0)
    on = [False] * w
    for step in range(1, 2**w):
        k = (step & -step).bit_length() - 1  # the bit that flips in the Gray code
        current = current - terms[k] if on[k] else current + terms[k]
        on[k] = not on[k]
        best = max(best, norm_inf(current))
    return best


def _outer(C: fmpq_mat, A: fmpq_mat, k: int) -> fmpq_mat:
    col = fmpq_mat(C.nrows(), 1, [C[i, k] for i in range(C.nrows())])
    row = fmpq_mat(1, A.ncols(), [A[k, j] for j in range(A.ncols())])
    return col * row
