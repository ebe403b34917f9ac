"""Seed 000 §3.1 in parameter space, checked by hand, plus the α = 0 correction, and exact
one-sided parameter derivatives against difference quotients and backpropagation."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from exactrelu.calculus import parameter_gradient
from exactrelu.core.activations import relu
from exactrelu.core.errors import InputError
from exactrelu.paramspace import (
    ParametricNetwork,
    kink_loci,
    parameter_directional_derivative,
    pieces,
)
from exactrelu.strategies import networks

F = Fraction
a, b, g = sympy.symbols("alpha beta gamma")
SEED000 = ParametricNetwork.build(1, [([[b]], [g]), relu(), ([[a]], [0])])  # f = α·max(βx + γ, 0)


def by_condition(x):
    return {p.conditions: p.gradient[0] for p in pieces(SEED000, [x])}


def test_seed000_four_formulas():
    # gradients in the order (∂α, ∂β, ∂γ); the seed's formulas are the ∂β, ∂γ entries
    assert by_condition(1) == {
        (b + g < 0,): (0, 0, 0),  # x = 1, β < −γ: ∂β = ∂γ = 0
        (b + g > 0,): (b + g, a, a),  # x = 1, β > −γ: ∂β = ∂γ = α
    }
    assert by_condition(-1) == {
        (g - b < 0,): (0, 0, 0),  # x = −1, β > γ: ∂β = ∂γ = 0
        (g - b > 0,): (g - b, -a, a),  # x = −1, β < γ: −∂β = ∂γ = α
    }


def test_seed000_set_S_and_the_alpha_zero_correction():
    loci = {x: kink_loci(SEED000, [x]) for x in (1, -1)}
    assert [str(l.equation) for l in loci[1]] == ["Eq(beta + gamma, 0)"]  # β = −γ
    assert [str(l.equation) for l in loci[-1]] == ["Eq(-beta + gamma, 0)"]  # β = γ
    # not differentiable there exactly when α ≠ 0 (the seed says all of S)
    assert loci[1][0].nondifferentiable == sympy.Ne(a, 0)
    assert loci[-1][0].nondifferentiable == sympy.Ne(a, 0)
    assert loci[1][0].right_gradient == (0, a, a) and loci[1][0].left_gradient == (0, 0, 0)


def f(theta, x):
    al, be, ga = theta
    return al * max(be * x + ga, 0)


@pytest.mark.parametrize("x,theta", [(1, (0, F(3), F(-3))), (-1, (0, F(1, 2), F(1, 2)))])
def test_alpha_zero_on_S_is_differentiable(x, theta):
    # on S with α = 0: |f(θ + h) − f(θ)| = |h_α|·relu(…) ≤ |h|·(|x|+1)|h|, so f is
    # differentiable with gradient 0; checked exactly at random small h
    rng = random.Random(0)
    for _ in range(200):
        h = [F(rng.randint(-100, 100), 2**rng.randint(8, 20)) for _ in range(3)]
        m = max(abs(v) for v in h)
        assert abs(f([t + d for t, d in zip(theta, h)], x) - f(theta, x)) <= 2 * m * m
    th = dict(zip((a, b, g), theta))
    for s in (a, b, g):
        assert parameter_directional_derivative(SEED000, [x], th, {s: 1}) == (0,)
        assert parameter_directional_derivative(SEED000, [x], th, {s: -1}) == (0,)


def test_alpha_nonzero_on_S_is_not_differentiable():
    th = {a: 2, b: 1, g: 1}  # β = γ, x = −1: f = 2·relu(γ − β)
    plus = parameter_directional_derivative(SEED000, [-1], th, {g: 1})
    minus = parameter_directional_derivative(SEED000, [-1], th, {g: -1})
    assert plus == (2,) and minus == (0,)  # f'(θ; e) + f'(θ; −e) ≠ 0: not linear


@settings(max_examples=40, deadline=None)
@given(networks(max_input_dim=2, max_width=2, max_hidden_layers=2, output_dim=1), st.integers(0, 10**6))
def test_directional_derivative_matches_quotient_and_backprop(net, seed):
    rng = random.Random(seed)
    pnet = ParametricNetwork.symbolic(net)
    chain = net.chain
    theta = {}
    for l, aff in enumerate(chain.affines):
        for i in range(aff.out_dim):
            theta[sympy.Symbol(f"b{l}_{i}")] = aff.bias[i]
            for j in range(aff.in_dim):
                theta[sympy.Symbol(f"w{l}_{i}_{j}")] = aff.weight[i][j]
    x = [F(rng.randint(-4, 4), 2) for _ in range(net.input_dim)]
    # move the first layer only: f(θ + t h) is then PL in t, so the quotient is exact
    h = {s: F(rng.randint(-2, 2)) for s in theta if s.name.startswith(("w0_", "b0_"))}
    moved = {s: theta[s] + F(1, 2**40) * h.get(s, 0) for s in theta}
    q1 = (pnet.at(moved).evaluate(x)[0] - net.evaluate(x)[0]) * 2**40
    moved2 = {s: theta[s] + F(1, 2**41) * h.get(s, 0) for s in theta}
    q2 = (pnet.at(moved2).evaluate(x)[0] - net.evaluate(x)[0]) * 2**41
    assert q1 == q2
    assert parameter_directional_derivative(pnet, x, theta, h) == (q1,)
    grad = parameter_gradient(net, x, 0)
    if not grad.knots:  # off the kinks backpropagation is the gradient
        aff = chain.affines[0]
        lin = sum(
            (grad.weight[0][0][i][j] * h[sympy.Symbol(f"w0_{i}_{j}")] for i in range(aff.out_dim) for j in range(aff.in_dim)),
            F(0),
        ) + sum((grad.bias[0][0][i] * h[sympy.Symbol(f"b0_{i}")] for i in range(aff.out_dim)), F(0))
        assert lin == q1


def test_bad_input():
    with pytest.raises(InputError):
        pieces(SEED000, [1, 2])
    with pytest.raises(InputError):
        parameter_directional_derivative(SEED000, [1], {a: 1}, {a: 1})
    with pytest.raises(InputError):
        ParametricNetwork.build(1, [([[1, 2]], [0]), relu(), ([[1]], [0])])
