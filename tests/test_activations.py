"""The PL activation family against independent formulas."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exactrelu.core.activations import (
    absolute,
    hardtanh,
    leaky_relu,
    relu,
    spline,
    spline_from_relus,
)
from exactrelu.core.errors import InputError
from exactrelu.strategies import rationals


@given(rationals(8, 5))
def test_builtins_match_their_formulas(t):
    assert relu()(t) == max(t, 0)
    assert leaky_relu(Fraction(1, 10))(t) == max(t, t / 10)
    assert hardtanh(-1, 2)(t) == min(max(t, -1), 2)
    assert absolute()(t) == abs(t)


@given(
    st.lists(st.tuples(rationals(4, 3), rationals(4, 3)), min_size=0, max_size=4),
    rationals(), rationals(), rationals(8, 6),
)
def test_spline_from_relus_matches_seed002_formula(terms, b1, b2, t):
    """σ(x) = Σ a_k relu(x − τ_k) + b1 x + b2 (seed 002, eq. 18), repeated knots and zero jumps included."""
    a = [p for p, _ in terms]
    tau = [q for _, q in terms]
    s = spline_from_relus(a, tau, b1, b2)
    assert s(t) == sum((ak * max(t - tk, 0) for ak, tk in zip(a, tau)), Fraction(0)) + b1 * t + b2
    assert all(s.slopes[j] != s.slopes[j + 1] for j in range(len(s.knots)))


def test_states_and_knot_slopes():
    h = hardtanh(-1, 1)
    assert [h.state(Fraction(v)) for v in (-2, -1, 0, 1, 2)] == [0, 1, 2, 3, 4]
    assert (h.left_slope(0), h.right_slope(0), h.left_slope(1), h.right_slope(1)) == (0, 1, 1, 0)


def test_fake_knots_are_removed_and_value_kept():
    s = spline([0, 1, 2], [1, 1, 3, 3], 5)  # slope changes only at 1
    assert s.knots == (Fraction(1),) and s.slopes == (1, 3)
    assert s(Fraction(0)) == 5 and s(Fraction(2)) == 5 + 1 + 3
    linear = spline([2], [4, 4], 1)
    assert linear.knots == () and linear(Fraction(2)) == 1 and linear(Fraction(0)) == -7


def test_bv2_norm_seed002():
    """‖σ‖_BV2 = TV2 + |σ(0)| + |σ(1)|: relu gives 1 + 0 + 1 = 2."""
    assert relu().bv2_norm() == 2
    assert spline_from_relus([1, -2], [0, 1], 0, 0).bv2_norm() == 3 + 0 + 1


@pytest.mark.parametrize("knots", [[1, 1], [2, 1]])
def test_knots_must_increase(knots):
    with pytest.raises(InputError, match="increasing"):
        spline(knots, [0, 1, 0], 0)
