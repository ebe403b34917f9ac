"""DΦ_c: hand-derived values (seed 003) and exact difference quotients away from kinks."""

from fractions import Fraction

import sympy
from hypothesis import assume, given
from hypothesis import strategies as st

from exactrelu.calculus import derivative, parameter_gradient
from exactrelu.constructions import (
    seed000_minimal,
    seed003_identity,
    seed003_relu,
    seed003_zero,
)
from exactrelu.core.conventions import C, Family, PerKnot
from exactrelu.strategies import networks, points


def test_seed003_no_single_c_works():
    """Seed 003: the three nets equal x, relu(x) and 0, yet DΦ_c(0) is 2c, 2c², c² − c.

    Clarke Jacobians at 0 are {1}, [0, 1] and {0}: 2c = 1 needs c = 1/2, then c² − c = −1/4 ≠ 0.
    """
    assert derivative(seed003_identity(), [0], C).matrix == ((2 * C,),)
    assert derivative(seed003_relu(), [0], C).matrix == ((2 * C**2,),)
    assert sympy.expand(derivative(seed003_zero(), [0], C).matrix[0][0] - (C**2 - C)) == 0
    solutions = sympy.solve([2 * C - 1, C**2 - C], C)
    assert solutions == []


def test_per_knot_convention():
    net = seed003_identity()
    # neuron 0 at its kink gets 1, neuron 1 gets 0: DΦ = 1·1 − (−1)·0 ... = 1
    d = derivative(net, [0], PerKnot({(0, 0): Fraction(1), (0, 1): Fraction(0)}))
    assert d.matrix == ((Fraction(1),),)
    assert d.knots == ((0, 0, 0), (0, 1, 0))


def _difference_quotient(net, x, j, h):
    e = [Fraction(0)] * len(x)
    e[j] = h
    up = net.evaluate([a + b for a, b in zip(x, e)])
    base = net.evaluate(x)
    return tuple((u - v) / h for u, v in zip(up, base))


@given(networks(max_input_dim=3, max_width=3, max_hidden_layers=3), st.data())
def test_off_kinks_equals_exact_difference_quotient(net, data):
    """Off the kinks f is affine near x, so a small enough exact difference quotient is the Jacobian."""
    x = data.draw(points(net.input_dim))
    d = derivative(net, x, 0)
    assume(not d.on_kink)
    h = Fraction(1, 2**40)
    for j in range(net.input_dim):
        assert _difference_quotient(net, list(x), j, h) == tuple(row[j] for row in d.matrix)


@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2), st.data())
def test_convention_is_affine_in_c_per_knot_family(net, data):
    """Off the kinks the convention does not matter."""
    x = data.draw(points(net.input_dim))
    d0 = derivative(net, x, 0)
    assume(not d0.on_kink)
    assert derivative(net, x, 1).matrix == d0.matrix == derivative(net, x, Family(C)).matrix


def test_seed000_parameter_gradients_by_hand():
    """Seed 000 §3.1, f = α·relu(βx + γ): the four formulas, and the convention on S."""
    alpha, beta, gamma = 3, 2, -1  # β > −γ and β > γ: x = 1 active, x = −1 inactive
    g = parameter_gradient(seed000_minimal(alpha, beta, gamma), [1])
    assert (g.weight[0][0][0][0], g.bias[0][0][0]) == (alpha, alpha)  # ∂β = ∂γ = α
    g = parameter_gradient(seed000_minimal(alpha, beta, gamma), [-1])
    assert (g.weight[0][0][0][0], g.bias[0][0][0]) == (0, 0)
    g = parameter_gradient(seed000_minimal(alpha, -2, 1), [-1])  # β < γ, x = −1 active
    assert (-g.weight[0][0][0][0], g.bias[0][0][0]) == (alpha, alpha)
    # on S (β = γ, x = −1): the convention's c decides
    g = parameter_gradient(seed000_minimal(alpha, 1, 1), [-1], C)
    assert (g.weight[0][0][0][0], g.bias[0][0][0]) == (-3 * C, 3 * C)
