"""The seeds' networks against direct evaluation of their formulas."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from exactrelu.constructions import (
    circle_network,
    hat,
    hat_power,
    linear_pieces_1d,
    product_network,
    random_network,
    sawtooth_network,
    w1inf_distance_to_square,
    yarotsky_deep,
    yarotsky_value,
)

GRID = [Fraction(k, 64) for k in range(-70, 140, 3)]


def g(x: Fraction) -> Fraction:
    """The hat, straight from seed 004's definition (0 outside [0, 1])."""
    if 0 <= x <= Fraction(1, 2):
        return 2 * x
    if Fraction(1, 2) < x <= 1:
        return 2 * (1 - x)
    return Fraction(0)


def test_hat_and_its_powers():
    for x in GRID:
        assert hat().evaluate([x])[0] == g(x)
        y = x
        for r in range(1, 5):
            y = g(y)
            assert hat_power(r).evaluate([x])[0] == y


@pytest.mark.parametrize("ell", [1, 2, 3, 4])
def test_both_forms_of_f_ell_compute_x_minus_the_hat_sum_on_the_half_line(ell):
    for make in (sawtooth_network, yarotsky_deep):
        net = make(ell)
        for x in GRID:
            expected = x - sum((_gr(r, x) / 4**r for r in range(1, ell + 1)), Fraction(0)) if x >= 0 else Fraction(0)
            assert net.evaluate([x])[0] == expected
            if x >= 0:
                assert yarotsky_value(ell, x) == expected


def _gr(r: int, x: Fraction) -> Fraction:
    for _ in range(r):
        x = g(x)
    return x


def test_f_ell_interpolates_the_square_on_the_dyadic_grid():
    for ell in (1, 2, 3, 5):
        for k in range(2**ell + 1):
            x = Fraction(k, 2**ell)
            assert sawtooth_network(ell).evaluate([x])[0] == x * x


def test_product_network_is_exact_where_the_squares_are():
    # |x+y|/2, |x|/2, |y|/2 on the grid k/2^l: the squares are exact, so the product is
    ell = 3
    net = product_network(ell)
    for x in [Fraction(k, 4) for k in range(-4, 5)]:
        for y in [Fraction(k, 4) for k in range(-4, 5)]:
            assert net.evaluate([x, y])[0] == x * y


def test_random_networks_read_the_float64_values_exactly():
    net = random_network([8, 10, 6, 3], seed=12)
    rng = np.random.default_rng(12)
    w0 = rng.standard_normal((10, 8))
    assert net.chain.affines[0].weight[3][5] == Fraction(float(w0[3, 5]))
    assert random_network([8, 10, 6, 3], seed=12) == net
    assert random_network([8, 10, 6, 3], seed=13) != net
    assert all(b == 0 for a in net.chain.affines for b in a.bias)


def test_circle_networks_have_the_seed002_shape():
    net = circle_network(3, 4, seed=5)
    assert net.input_dim == 2 and net.output_dim == 1 and net.chain.widths == (6,)
    assert all(fn.kind == "spline" and len(fn.knots) <= 4 for fn in net.chain.acts[0])


def test_pieces_and_the_w1inf_distance_by_hand():
    # on [k h, (k+1) h] f_l is the chord of x²: the gap peaks at the midpoint, h²/4;
    # |2x − (2k+1)h| peaks at the ends, h
    for ell in range(1, 6):
        h = Fraction(1, 2**ell)
        for make in (sawtooth_network, yarotsky_deep):
            pieces = linear_pieces_1d(make(ell), 0, 1)
            assert [p[:2] for p in pieces] == [(k * h, (k + 1) * h) for k in range(2**ell)]
            assert [p[2] for p in pieces] == [(2 * k + 1) * h for k in range(2**ell)]
            assert w1inf_distance_to_square(make(ell)) == (h * h / 4, h)
    # below 0 both forms are 0 and above 1 they have slope 1
    assert [p[2] for p in linear_pieces_1d(yarotsky_deep(2), -1, 2)] == [0, Fraction(1, 4), Fraction(3, 4), Fraction(5, 4), Fraction(7, 4), 1]
