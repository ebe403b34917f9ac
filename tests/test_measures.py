"""Seed 001's measures: hand-computed values, and the exact and float paths agreeing."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from exactrelu.core.errors import InputError
from exactrelu.core.network import Network, activation, affine
from exactrelu.floats import measures as ms
from exactrelu.floats.operators import from_network


def two_relu() -> Network:
    # f(x) = 2 relu(x) + 3 relu(−x)
    return Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[2, 3]])])


def mlp(seed: int = 0) -> Network:
    rng = np.random.default_rng(seed)
    return Network.from_layers(3, [
        affine(rng.integers(-3, 4, (5, 3)).tolist(), rng.integers(-2, 3, 5).tolist()), activation("relu"),
        affine(rng.integers(-3, 4, (4, 5)).tolist(), rng.integers(-2, 3, 4).tolist()), activation("relu"),
        affine(rng.integers(-3, 4, (3, 4)).tolist())])


def test_hand_values():
    net = two_relu()
    assert ms.layerwise_max_product(net).value == 3
    X = [[1], [-2], [Fraction(1, 2)], [0]]
    # |f'| = 2 on x > 0 and 3 on x < 0; at 0 convention c = 0 gives 0
    s = ms.input_sensitivity(net, X)
    assert s.interval[0] <= Fraction(2 + 3 + 2 + 0, 4) <= s.interval[1]
    act = ms.active_neurons(net, X)
    assert act.counts == (1, 1, 1, 0) and act.on_knots == 1 and act.histogram == {0: 1, 1: 3}
    t = ms.tangent_sensitivity(net, X)
    # regions x>0: ‖δ_0‖² = 4 (δ_0 = (2, 0)), ‖∂a_1/∂x‖² = 1 -> 4 + 1; x<0: 9 + 1
    assert sorted(t.squared.values()) == [5, 10]
    lo, hi = t.empirical.interval
    assert lo <= Fraction(2, 4) * Fraction(math.sqrt(5)) + Fraction(1, 4) * Fraction(math.sqrt(10)) * (1 + Fraction(1, 10**12))
    assert float(hi) == pytest.approx(0.5 * math.sqrt(5) + 0.25 * math.sqrt(10), rel=1e-14)


def test_spectral_product_by_hand():
    net = two_relu()  # ‖(1, −1)ᵀ‖ = sqrt 2, ‖(2, 3)‖ = sqrt 13
    exact = ms.spectral_product(net)
    assert exact.interval[0] <= Fraction(math.sqrt(26)) * (1 + Fraction(1, 10**15))
    assert float(exact.interval[1]) == pytest.approx(math.sqrt(26), rel=1e-12)
    fl = ms.spectral_product(net, backend="numpy")
    assert fl.guarantee == "certified" and fl.value >= math.sqrt(26) * (1 - 1e-16)


def test_fisher_rao_by_hand():
    net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 0], [0, 1]])])
    # at x = 1: f = (1, 0), p = softmax(f); Σ_j (⟨p, f⟩ − f_j)² = (p1 − 1)² + p1²
    p1 = math.e / (math.e + 1)
    assert ms.fisher_rao(net, [[1]]).value == pytest.approx((p1 - 1) ** 2 + p1 ** 2, rel=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_exact_and_float_agree(backend):
    net = mlp()
    rng = np.random.default_rng(1)
    X = (rng.standard_normal((40, 3)) * 2).tolist()
    e_reg = ms.region_probabilities(net, X)
    f_reg = ms.region_probabilities(from_network(net), X, backend=backend)
    assert e_reg.probabilities == f_reg.probabilities
    e_act = ms.active_neurons(net, X)
    assert ms.active_neurons(net, X, backend=backend).counts == e_act.counts
    e_s = ms.input_sensitivity(net, X)
    assert ms.input_sensitivity(net, X, backend=backend).value == pytest.approx(float(e_s.value), rel=1e-12)
    e_t = ms.tangent_sensitivity(net, X)
    f_t = ms.tangent_sensitivity(net, X, backend=backend)
    for p, v in e_t.squared.items():
        assert f_t.squared[p] == pytest.approx(float(v), rel=1e-12)
    assert f_t.empirical.value == pytest.approx(float(e_t.empirical.value), rel=1e-12)
    assert ms.fisher_rao(net, X, backend=backend).value == pytest.approx(ms.fisher_rao(net, X).value, rel=1e-12)


def test_region_probabilities_sum_to_one_off_knots():
    net = mlp(2)
    X = np.random.default_rng(3).integers(-3, 4, (60, 3)).tolist()
    d = ms.region_probabilities(net, X)
    assert sum(d.probabilities.values()) == Fraction(d.points - d.on_knots, d.points)


def test_bad_input():
    with pytest.raises(InputError):
        ms.input_sensitivity(two_relu(), [[1, 2]])
    with pytest.raises(InputError):
        ms.active_neurons(from_network(two_relu()), [[1]], backend="exact")
    with pytest.raises(InputError):
        ms.fisher_rao(two_relu(), [[1]], backend="jax")
    with pytest.raises(InputError):
        ms.input_sensitivity(from_network(two_relu()), [[float("nan")]], backend="numpy")
