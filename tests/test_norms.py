"""Exact operator norms against their definitions and against floats."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactrelu.core.algebraic import Algebraic, maximum, sqrt_of_largest_root
from exactrelu.core.errors import InputError
from exactrelu.core.norms import (
    below_in_l2,
    norm_1,
    norm_2,
    norm_inf,
    operator_norm,
    parse_norm,
)
from exactrelu.core.numbers import fmpq_matrix
from exactrelu.strategies import rationals


@st.composite
def matrices(draw: st.DrawFn, max_dim: int = 4) -> list[list[Fraction]]:
    m = draw(st.integers(1, max_dim))
    n = draw(st.integers(1, max_dim))
    return [draw(st.lists(rationals(), min_size=n, max_size=n)) for _ in range(m)]


def _apply(rows: list[list[Fraction]], x: tuple[Fraction, ...]) -> list[Fraction]:
    return [sum((a * b for a, b in zip(r, x)), Fraction(0)) for r in rows]


@given(matrices())
def test_inf_norm_is_the_max_over_the_unit_balls_vertices(rows):
    # ‖M‖_∞ = max over x in {±1}^n of ‖Mx‖_∞ (a convex function peaks at a vertex)
    n = len(rows[0])
    expected = max(max(abs(v) for v in _apply(rows, s)) for s in itertools.product((1, -1), repeat=n))
    assert norm_inf(fmpq_matrix(rows)) == expected


@given(matrices())
def test_one_norm_is_the_max_over_unit_vectors(rows):
    # the vertices of the ℓ1 ball are ±e_j
    n = len(rows[0])
    expected = max(sum(abs(v) for v in _apply(rows, tuple(Fraction(int(i == j)) for i in range(n)))) for j in range(n))
    assert norm_1(fmpq_matrix(rows)) == expected


@settings(max_examples=40)
@given(matrices(3))
def test_two_norm_agrees_with_the_float_svd_and_is_a_root(rows):
    exact = norm_2(fmpq_matrix(rows))
    f = np.linalg.norm(np.array(rows, dtype=float), 2)
    lo, hi = exact.refine(Fraction(1, 10**12)).interval
    assert float(lo) - 1e-9 <= f <= float(hi) + 1e-9
    # the polynomial vanishes there, changes sign across the interval when irrational
    if not exact.is_rational:
        p = exact.poly
        val = lambda q: sum(c * q**i for i, c in enumerate(p))  # noqa: E731
        assert val(lo) * val(hi) < 0


def test_known_two_norms():
    assert norm_2(fmpq_matrix([[3, 0], [0, 4]])).value == 4
    assert norm_2(fmpq_matrix([[1, 2], [2, 1]])).value == 3  # symmetric, eigenvalues 3, -1
    golden = norm_2(fmpq_matrix([[1, 1], [0, 1]]))  # singular values are the golden ratio and its inverse
    assert golden.poly == (-1, -1, 1)
    assert golden.compare(Fraction(161803, 100000)) == 1 and golden.compare(Fraction(161804, 100000)) == -1
    assert norm_2(fmpq_matrix([[0, 0]])).value == 0
    assert norm_2(fmpq_matrix([["1/2", "1/2"], ["1/2", "1/2"]])).value == 1


def test_equal_algebraic_numbers_from_different_matrices_compare_equal():
    a = norm_2(fmpq_matrix([[1, 1]]))  # sqrt 2
    b = norm_2(fmpq_matrix([[1], [-1]]))  # sqrt 2
    c = norm_2(fmpq_matrix([[2, 2]])) # 2 sqrt 2
    assert a.compare(b) == 0 and b.compare(a) == 0
    assert a.compare(c) == -1 and c.compare(a) == 1
    assert c.compare(Fraction(2)) == 1 and Algebraic.rational(3).compare(c) == 1
    assert maximum([a, Fraction(7, 5), b, Fraction(141, 100)])[0] == 0


def test_sqrt_of_largest_root():
    s = sqrt_of_largest_root((-3, 1))  # sqrt 3
    assert s.poly == (-3, 0, 1)
    assert s.compare(Fraction(1732, 1000)) == 1 and s.compare(Fraction(1733, 1000)) == -1
    assert sqrt_of_largest_root((0, -9, 1)).value == 3  # roots 0 and 9


@given(matrices(3), st.fractions(min_value=0, max_value=10, max_denominator=8))
def test_below_in_l2_matches_the_norm(rows, bound):
    m = fmpq_matrix(rows)
    assert below_in_l2(m, bound) == (norm_2(m).compare(bound) < 0)


def test_operator_norm_and_parse():
    m = fmpq_matrix([[1, -2], [3, 4]])
    assert operator_norm(m, "1") == 6 and operator_norm(m, "inf") == 7
    assert parse_norm("∞") == "inf" and parse_norm("L2") == "2"
    with pytest.raises(InputError):
        parse_norm("3")
