"""Certified float arithmetic (`exactrelu.floats.arithmetic`): every bound checked against exact rationals."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from exactrelu.floats.arithmetic import (
    NUMPY,
    Chain,
    gamma,
    round_down,
    round_up,
    spectral_up,
)
from exactrelu.floats.operators import Activation, Linear, OperatorNetwork


def test_round_up_and_gamma():
    for q in (Fraction(1, 3), Fraction(-2, 7), Fraction(10**30, 3), Fraction(0)):
        assert Fraction(round_up(q)) >= q and Fraction(round_down(q)) <= q
        assert round_up(q) == q or math.nextafter(round_up(q), -math.inf) < q
    assert gamma(10) > 10 * Fraction(1, 2**53)


def test_spectral_up_is_an_upper_bound():
    rng = np.random.default_rng(5)
    for shape in [(1, 1), (3, 7), (20, 20), (40, 9)]:
        A = rng.standard_normal(shape)
        s = np.linalg.svd(A, compute_uv=False)[0]
        b = spectral_up(NUMPY, A, rtol=0)
        assert s <= b <= s * (1 + 1e-9)
        assert spectral_up(NUMPY, A, r=0.5) >= s + 0.5 * (1 - 1e-12)
    assert spectral_up(NUMPY, np.zeros((3, 3))) == 0.0


def test_spectral_up_of_a_batch_bounds_its_largest_member():
    rng = np.random.default_rng(6)
    batch = rng.standard_normal((50, 6, 4)) * rng.uniform(0.1, 3.0, (50, 1, 1))
    largest = max(np.linalg.svd(m, compute_uv=False)[0] for m in batch)
    assert largest <= spectral_up(NUMPY, batch, rtol=0) <= largest * (1 + 1e-9)


def _chain_net(mats: list[np.ndarray]) -> OperatorNetwork:
    layers: list = []
    for k, M in enumerate(mats):
        layers.append(Linear.create(M))
        if k < len(mats) - 1:
            layers.append(Activation.relu(M.shape[0]))
    return OperatorNetwork.build((mats[0].shape[1],), layers)


def _exact(M: np.ndarray) -> list[list[Fraction]]:
    return [[Fraction(float(v)) for v in row] for row in M]


def _exact_product(mats: list[np.ndarray]) -> list[list[Fraction]]:
    P = _exact(mats[0])
    for M in mats[1:]:
        A = _exact(M)
        P = [[sum((a * P[k][c] for k, a in enumerate(row)), Fraction(0)) for c in range(len(P[0]))] for row in A]
    return P


@pytest.mark.parametrize("precision", ["float64", "float32"])
@pytest.mark.parametrize("norm", ["inf", "2"])
def test_segment_errors_enclose_the_exact_products(norm, precision):
    """‖S − P̂‖ ≤ error for every segment, S computed in rationals (for ℓ2 the bound also
    holds for the Frobenius norm, which is what is checked, exactly)."""
    rng = np.random.default_rng(7)
    mats = [rng.standard_normal((6, 5)) * 3] + [rng.standard_normal((6, 6)) for _ in range(3)] + [rng.standard_normal((2, 6))]
    chain = Chain(_chain_net(mats), NUMPY, exact_w=True, norm=norm, precision=precision)
    for i in range(len(mats)):
        for j in range(i + 1, len(mats) + 1):
            P, err = chain.segment(j, i)
            S = _exact_product(mats[i:j])
            D = [[s - Fraction(float(p)) for s, p in zip(srow, prow)] for srow, prow in zip(S, P)]
            if norm == "inf":
                assert max(sum((abs(v) for v in row), Fraction(0)) for row in D) <= err
                assert max(sum((abs(v) for v in row), Fraction(0)) for row in S) <= chain.norm_up(j, i)
            else:
                assert sum((v * v for row in D for v in row), Fraction(0)) <= err * err
                assert np.linalg.norm(np.array(S, dtype=float), 2) <= float(chain.norm_up(j, i))


def test_segment_error_grows_with_the_norms_not_with_the_frobenius_norms():
    """A deep wide chain: the error bound of the longest segment stays ~1e-10 of its norm
    (a Frobenius radius carried through ten 256-wide layers grows by ‖B‖_F/‖B‖₂ ≈ 11 per
    layer and reaches 3e-2 here)."""
    rng = np.random.default_rng(8)
    mats = [rng.standard_normal((256, 256)) * math.sqrt(2 / 256) for _ in range(10)]
    chain = Chain(_chain_net(mats), NUMPY, exact_w=True, norm="inf")
    assert chain.error(10, 0) < 1e-10 * chain.norm_up(10, 0)
