"""The filtered predicates against exact arithmetic: every sign they return is the exact
sign, on random rationals, on points exactly on the hyperplanes (where the filter must
fall back), and on numbers at the edges of the float range."""

from __future__ import annotations

from fractions import Fraction

from flint import fmpq
from hypothesis import given, settings
from hypothesis import strategies as st

from exactrelu.predicates import AffineForms, FilterCounts, exact_sign, to_floats


def q(x) -> fmpq:
    x = Fraction(x)
    return fmpq(x.numerator, x.denominator)


def brute(a, beta, x) -> int:
    v = Fraction(int(beta.p), int(beta.q)) - sum((Fraction(int(ai.p), int(ai.q)) * Fraction(int(xi.p), int(xi.q)) for ai, xi in zip(a, x)), Fraction(0))
    return (v > 0) - (v < 0)


# rationals from the tame to the extreme: small p/q, huge and tiny magnitudes (beyond the
# float range, and in its subnormal part), and exact binary fractions
rationals = st.one_of(
    st.fractions(min_value=-50, max_value=50, max_denominator=12),
    st.builds(lambda p, e: Fraction(p) * Fraction(2) ** e, st.integers(-(2**60), 2**60), st.integers(-1100, 1100)),
    st.builds(Fraction, st.integers(-(10**40), 10**40), st.integers(1, 10**40)),
)


@settings(max_examples=200)
@given(st.integers(1, 4), st.integers(1, 4), st.data())
def test_signs_are_exact(m, n, data):
    A = [[q(data.draw(rationals)) for _ in range(n)] for _ in range(m)]
    points = [[q(data.draw(rationals)) for _ in range(n)] for _ in range(data.draw(st.integers(1, 3)))]
    # also put points exactly on a hyperplane: b_j = a_j . x for the first point
    b = [q(data.draw(rationals)) for _ in range(m)]
    if data.draw(st.booleans()):
        x = points[0]
        b[0] = sum((A[0][k] * x[k] for k in range(n)), fmpq(0))
    counts = FilterCounts()
    forms = AffineForms(A, b, counts)
    S = forms.signs(points)
    for j in range(m):
        for c, x in enumerate(points):
            assert S[j, c] == brute(A[j], b[j], x)
    assert counts.decided + counts.fallbacks == m * len(points)
    for skip in range(m):
        for x in points:
            assert forms.inside_except(x, skip) == all(brute(A[j], b[j], x) > 0 for j in range(m) if j != skip)


def test_zeros_fall_back_and_clear_signs_do_not():
    counts = FilterCounts()
    forms = AffineForms([[q(1), q(-1)], [q(2), q(3)]], [q(0), q(10)], counts)
    S = forms.signs([[q("1/3"), q("1/3")], [q(1), q(1)]])
    assert S.tolist() == [[0, 0], [1, 1]]           # x = y on the first row: exactly zero
    assert (counts.decided, counts.fallbacks) == (2, 2)
    assert counts.fallback_rate == 0.5


def test_filter_stands_aside_outside_the_normal_range():
    assert to_floats([q(Fraction(1, 2**1070))]) is None       # subnormal after rounding
    assert to_floats([q(2**1100)]) is None                     # overflows
    assert to_floats([q(Fraction(1, 2**1100))]) is None        # rounds to zero: no relative bound
    assert to_floats([q(0), q("-3/4")]).tolist() == [0.0, -0.75]
    counts = FilterCounts()
    tiny = q(Fraction(1, 2**1070))
    forms = AffineForms([[tiny]], [q(0)], counts)
    assert not forms.usable
    assert forms.signs([[q(1)]]).tolist() == [[-1]] and counts.fallbacks == 1
    assert exact_sign([tiny], q(0), [q(-1)]) == 1
    # a form whose entry rounds to 0.0: its sign at 1 is that entry's, not the float's zero
    below = q(Fraction(1, 2**1100))
    forms = AffineForms([[q(1), q(0)]], [below], FilterCounts())
    assert not forms.usable and forms.signs([[q(0), q(0)]]).tolist() == [[1]]
