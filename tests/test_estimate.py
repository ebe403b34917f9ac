"""Lower bounds on L: never above the exact L, re-checked exactly when small."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactrelu.calculus import derivative
from exactrelu.core.algebraic import as_algebraic
from exactrelu.core.errors import InputError
from exactrelu.core.network import Network, activation, affine
from exactrelu.core.norms import operator_norm
from exactrelu.core.numbers import fmpq_matrix
from exactrelu.floats.estimate import jacobian_norms, lipschitz_lower
from exactrelu.floats.operators import from_network, to_network
from exactrelu.lipschitz import lipschitz
from exactrelu.strategies import networks


@settings(max_examples=25)
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2), st.sampled_from(["1", "inf", "2"]))
def test_lower_bound_never_above_exact_l(net, norm):
    low = lipschitz_lower(net, norm, samples=32, steps=5)
    exact = lipschitz(net, norm).value
    top = exact.interval[1] if exact.interval else exact.value
    if low.value.guarantee == "estimate":  # a float ‖J‖: up to rounding
        assert low.value.value <= float(top) * (1 + 1e-12)
    else:
        assert Fraction(low.value.value) <= Fraction(top)
    if low.rechecked:
        assert low.value.guarantee in ("exact", "certified")
        # the witness's exact Jacobian has that norm, in every norm
        J = fmpq_matrix(derivative(net, [Fraction(v) for v in low.witness]).matrix)
        at_witness = as_algebraic(operator_norm(J, norm))
        if low.value.guarantee == "exact":
            assert at_witness == Fraction(low.value.value)
        else:  # a certified lower end of an irrational ℓ2 norm: below it, by rounding only
            assert at_witness >= Fraction(low.value.value)
            assert float(at_witness) <= low.value.value * (1 + 1e-12)


def test_sawtooth_lower_bound_reaches_l():
    # hat g on [0, 1]: slopes ±2, so L = 2 and a region with slope 2 is found exactly
    net = Network.from_layers(1, [affine([[1], [1], [1]], [0, "-1/2", -1]), activation("relu"),
                                  affine([[2, -4, 2]])])
    low = lipschitz_lower(net, "1", samples=16, box=[(0, 1)])
    assert low.value.value == 2 and low.value.guarantee == "exact" and low.rechecked
    assert 0 <= low.witness[0] <= 1


def test_operator_network_gives_an_estimate_without_the_exact_recheck():
    # hardtanh: the float pattern is not certified (ReLU only), so without the exact re-check
    # the value stays an estimate; with it (small enough: the default), it is exact
    rng = np.random.default_rng(0)
    net = Network.from_layers(3, [affine(rng.integers(-3, 4, (4, 3)).tolist()), activation("hardtanh"),
                                  affine(rng.integers(-3, 4, (2, 4)).tolist())])
    low = lipschitz_lower(from_network(net), "inf", samples=64, recheck=False)
    assert low.value.guarantee == "estimate" and not low.rechecked
    checked = lipschitz_lower(from_network(net), "inf", samples=64)
    assert checked.value.guarantee == "exact" and checked.rechecked
    J = derivative(net, [Fraction(v) for v in checked.witness]).matrix
    assert checked.value.value == max(sum((abs(v) for v in row), Fraction(0)) for row in J)
    assert low.certified_pattern_norm <= low.float_norm * (1 + 1e-12)
    assert low.value.value <= float(lipschitz(net, "inf").value.value) + 1e-12


def test_norms_of_a_jacobian():
    J = np.array([[[1.0, -2.0], [3.0, 0.5]]])
    assert jacobian_norms(J, "inf")[0] == 3.5
    assert jacobian_norms(J, "1")[0] == 4.0
    assert jacobian_norms(J, "2")[0] == pytest.approx(np.linalg.svd(J[0], compute_uv=False)[0])


def test_bad_box():
    net = Network.from_layers(1, [affine([[1]]), activation("relu"), affine([[1]])])
    with pytest.raises(InputError):
        lipschitz_lower(net, "inf", box=[(1, 0)])
    with pytest.raises(InputError):
        lipschitz_lower(net, "inf", box=[(0, 1), (0, 1)])


def test_certified_pattern_on_an_operator_network():
    # a ReLU network far from its kinks at most points: the float pattern is certified, and the
    # certified lower bound is within rounding of the exact ‖J‖ at the witness
    rng = np.random.default_rng(2)
    net = Network.from_layers(3, [affine(rng.integers(-3, 4, (6, 3)).tolist(), rng.integers(-2, 3, 6).tolist()),
                                  activation("relu"), affine(rng.integers(-3, 4, (2, 6)).tolist())])
    low = lipschitz_lower(from_network(net), "inf", samples=64, recheck=False)
    assert low.value.guarantee == "certified"
    J = derivative(net, [Fraction(v) for v in low.witness]).matrix
    exact = max(sum(abs(v) for v in row) for row in J)
    assert Fraction(low.value.value) <= exact and float(exact) <= low.value.value * (1 + 1e-12)


@settings(max_examples=25)
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2, kinds=("relu",)), st.sampled_from(["1", "inf"]),
       st.booleans())
def test_float_lower_bound_never_above_exact_l(net, norm, recheck):
    """Every branch asserts: exact and certified values are <= L exactly, an estimate up to
    rounding; without the exact re-check the value is never labelled exact."""
    op = from_network(net)  # float64 weights: the network bounded is to_network(op), not net itself
    low = lipschitz_lower(op, norm, samples=32, steps=5, recheck=recheck)
    exact = lipschitz(to_network(op), norm).value.value
    assert low.value.guarantee in (("exact", "certified", "estimate") if recheck else ("certified", "estimate"))
    if low.value.guarantee == "estimate":
        assert low.value.value <= float(exact) * (1 + 1e-12)
    else:
        assert Fraction(low.value.value) <= exact
