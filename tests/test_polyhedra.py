"""Exact polyhedral primitives: every answer is checked through its certificate."""

from __future__ import annotations

from fractions import Fraction

from brute import strict_point
from hypothesis import given, settings
from hypothesis import strategies as st

from exactrelu.polyhedra.lp import (
    boundedness,
    facet_point,
    feasible_point,
    interior_point,
    lp_max,
    simplex,
)
from exactrelu.polyhedra.volume import polytope_volume, simplex_volume
from exactrelu.strategies import rationals


def dot(a, x):
    return sum((Fraction(u) * v for u, v in zip(a, x)), Fraction(0))


@st.composite
def systems(draw, max_dim=3, max_rows=7):
    n = draw(st.integers(1, max_dim))
    m = draw(st.integers(1, max_rows))
    rows = []
    for _ in range(m):
        if rows and draw(st.integers(0, 4)) == 0:
            base = draw(st.sampled_from(rows))
            s = draw(st.sampled_from([Fraction(1), Fraction(-1), Fraction(2)]))
            rows.append([s * v for v in base])
        else:
            rows.append(draw(st.lists(rationals(), min_size=n, max_size=n)))
    rows = [r if any(v != 0 for v in r) else [Fraction(1)] + r[1:] for r in rows]
    b = draw(st.lists(rationals(), min_size=m, max_size=m))
    return n, rows, b


def check_interior(n, A, b, res):
    if res.nonempty:
        assert all(dot(a, res.point) < bi for a, bi in zip(A, b))
    else:
        mu = res.certificate
        assert all(v >= 0 for v in mu) and any(v != 0 for v in mu)
        assert all(sum((mu[j] * A[j][k] for j in range(len(A))), Fraction(0)) == 0 for k in range(n))
        assert dot(b, mu) <= 0


@settings(max_examples=150)
@given(systems())
def test_interior_point_certificates_and_brute(sys_):
    n, A, b = sys_
    for propose in (True, False):
        res = interior_point(A, b, propose=propose)
        check_interior(n, A, b, res)
        assert res.nonempty == (strict_point([(tuple(map(Fraction, a)), Fraction(bi)) for a, bi in zip(A, b)], n) is not None)


@settings(max_examples=100)
@given(systems())
def test_facet_point_certificates(sys_):
    n, A, b = sys_
    if not interior_point(A, b).nonempty:
        return
    for i in range(len(A)):
        res = facet_point(A, b, i)
        if res.is_facet:
            p = res.point
            assert dot(A[i], p) == b[i]
            for a, bj in zip(A, b):
                if dot(a, p) != bj:
                    assert dot(a, p) < bj
        else:
            mu, lam = res.multipliers, res.row_multiplier
            assert all(v >= 0 for v in mu) and any(v != 0 for v in mu) and mu[i] == 0
            for k in range(n):
                assert sum((mu[j] * A[j][k] for j in range(len(A))), Fraction(0)) + lam * A[i][k] == 0
            assert dot(b, mu) + lam * b[i] <= 0


@settings(max_examples=100)
@given(systems(), st.lists(rationals(), min_size=3, max_size=3))
def test_feasibility_lp_and_boundedness(sys_, c):
    n, A, b = sys_
    c = c[:n]
    feas = feasible_point(A, b)
    if feas.feasible:
        assert all(dot(a, feas.point) <= bi for a, bi in zip(A, b))
    else:
        y = feas.farkas
        assert all(v >= 0 for v in y) and dot(b, y) < 0
        assert all(sum((y[j] * A[j][k] for j in range(len(A))), Fraction(0)) == 0 for k in range(n))
    res = lp_max(c, A, b)
    assert (res.status == "infeasible") == (not feas.feasible)
    if res.status == "optimal":
        assert all(dot(a, res.point) <= bi for a, bi in zip(A, b))
        y = res.dual
        assert all(v >= 0 for v in y) and dot(b, y) == res.value == dot(c, res.point)
    elif res.status == "unbounded":
        d = res.ray
        assert all(dot(a, d) <= 0 for a in A) and dot(c, d) > 0
    if feas.feasible:
        bd = boundedness(A, b)
        if bd.bounded:
            assert all(v > 0 for v in bd.multipliers)
        else:
            assert any(v != 0 for v in bd.ray) and all(dot(a, bd.ray) <= 0 for a in A)
        if bd.bounded and n <= 2:
            assert polytope_volume(A, b) >= 0


def test_simplex_degenerate_and_volumes():
    # a degenerate vertex (many rows through the optimum) does not cycle
    A = [[1, 0], [0, 1], [1, 1], [2, 1], [1, 2], [-1, 0], [0, -1]]
    b = [1, 1, 2, 3, 3, 0, 0]
    assert lp_max([1, 1], A, b).value == 2
    assert simplex([[1, 2, 0], [0, 1, 1]], [2, 1], [1, 1, 1]).value == 1
    # unit cube cut by x+y+z <= 1: the simplex of volume 1/6; the cube: 1
    cube = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [-1, 0, 0], [0, -1, 0], [0, 0, -1]]
    assert polytope_volume(cube + [[1, 1, 1]], [1, 1, 1, 0, 0, 0, 1]) == Fraction(1, 6)
    assert polytope_volume(cube, [1, 1, 1, 0, 0, 0]) == 1
    assert simplex_volume([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]) == Fraction(1, 6)
    # a lower-dimensional polytope has volume 0; duplicates do not count twice
    assert polytope_volume([[1, 0], [-1, 0], [0, 1], [0, -1], [0, 1]], [1, -1, 1, 1, 1]) == 0


@settings(max_examples=100)
@given(systems(max_dim=4, max_rows=9))
def test_boundedness_with_and_without_float_proposal(sys_):
    n, A, b = sys_
    if not feasible_point(A, b).feasible:
        return
    answers = []
    for propose in (True, False):
        bd = boundedness(A, b, propose=propose)
        if bd.bounded:
            y = bd.multipliers
            assert len(y) == len(A) and all(v > 0 for v in y)
            assert all(sum((y[j] * Fraction(A[j][k]) for j in range(len(A))), Fraction(0)) == 0 for k in range(n))
        else:
            assert any(v != 0 for v in bd.ray) and all(dot(a, bd.ray) <= 0 for a in A)
        answers.append(bd.bounded)
    assert answers[0] == answers[1]


def test_boundedness_proposal_spares_the_lp():
    from exactrelu.polyhedra.lp import LPStats

    # the cube [-1, 1]^3 cut by x + y + z <= 2: y = 1 on the cube's rows, 1/1024-rounded
    # NNLS values elsewhere, completed exactly
    A = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1], [1, 1, 1]]
    stats = LPStats()
    bd = boundedness(A, [1] * 6 + [2], stats=stats)
    assert bd.bounded and stats.exact_lps == 0 and stats.float_lps == 1
    assert all(sum(bd.multipliers[j] * A[j][k] for j in range(7)) == 0 for k in range(3))
    # a cone is unbounded: NNLS cannot cancel A^T 1 = (2, 2) (z >= 0 only adds to it),
    # so its residual proposes the ray -(2, 2), i.e. (-1, -1) once primitive; no exact LP
    stats = LPStats()
    bd = boundedness([[1, 0], [0, 1], [1, 1]], [0, 0, 0], stats=stats)
    assert not bd.bounded and bd.ray == (-1, -1) and stats.exact_lps == 0


def test_ray_proposal_projected_onto_tight_rows():
    from exactrelu.polyhedra.lp import LPStats

    # {x : x_2 <= 0, -x_2 <= 1, x_1 + x_3 <= 0, -x_1 - x_3 <= 5}: a slab in x_2 and in
    # x_1 + x_3; the recession cone is d_2 = 0, d_3 = -d_1, 3 d_1 - 7 d_1 <= 0: the ray
    # (1, 0, -1) alone. NNLS's residual is about that direction with both slab pairs
    # tight: rounded, it must be projected exactly, or the exact LP would be needed
    A = [[0, 1, 0], [0, -1, 0], [1, 0, 1], [-1, 0, -1], [3, 1, 7]]
    stats = LPStats()
    bd = boundedness(A, [0, 1, 0, 5, 40], stats=stats)
    assert not bd.bounded and stats.exact_lps == 0
    assert bd.ray == (1, 0, -1)


@settings(max_examples=100)
@given(systems(), st.lists(rationals(), min_size=3, max_size=3))
def test_lp_max_basis_defines_the_optimal_vertex(sys_, c):
    from exactrelu.polyhedra.lp import lp_max_basis

    n, A, b = sys_
    c = c[:n]
    res, basis = lp_max_basis(c, A, b)
    assert res == lp_max(c, A, b)
    if basis is not None:
        assert res.status == "optimal" and len(basis) == n
        assert all(dot(A[j], res.point) == b[j] for j in basis)
        # the basis rows are independent: the vertex is their unique solution
        from flint import fmpq, fmpq_mat

        rows = [[Fraction(v) for v in A[j]] for j in basis]
        assert fmpq_mat([[fmpq(v.numerator, v.denominator) for v in row] for row in rows]).rank() == n


@st.composite
def standard_lps(draw):
    """``min c^T y, M y = r, y >= 0`` with mixed denominators, negative right-hand
    sides and, sometimes, a repeated (scaled) row: the fraction-free tableau scales
    each by a common denominator and pivots on negative entries when it drives an
    artificial out of a redundant row."""
    p = draw(st.integers(1, 4))
    q = draw(st.integers(1, 6))
    val = st.fractions(min_value=-9, max_value=9, max_denominator=12)
    M = [[draw(val) for _ in range(q)] for _ in range(p)]
    r = [draw(val) for _ in range(p)]
    if p > 1 and draw(st.booleans()):
        k = draw(st.sampled_from([Fraction(-2), Fraction(1, 3), Fraction(5, 2)]))
        M[-1] = [k * v for v in M[0]]
        r[-1] = k * r[0]
    c = [draw(val) for _ in range(q)]
    return M, r, c


@settings(max_examples=150)
@given(standard_lps())
def test_simplex_certificates_on_scaled_and_redundant_rows(lp):
    M, r, c = lp
    p, q = len(M), len(c)
    res = simplex(M, r, c)
    cols = [[M[i][j] for i in range(p)] for j in range(q)]
    if res.status == "optimal":
        # primal feasible, dual feasible, equal objectives: optimal (weak duality)
        assert all(v >= 0 for v in res.y)
        assert [dot(row, res.y) for row in M] == list(r)
        assert all(dot(col, res.pi) <= cj for col, cj in zip(cols, c))
        assert dot(r, res.pi) == dot(c, res.y) == res.value
    elif res.status == "infeasible":
        assert all(dot(col, res.farkas) <= 0 for col in cols)
        assert dot(r, res.farkas) > 0
    else:
        # unbounded: a feasible y (with a zero cost, checked), and no pi with
        # M^T pi <= c (a Farkas ray z >= 0, M z = 0, c^T z < 0, checked)
        feas = simplex(M, r, [0] * q)
        assert feas.status == "optimal" and all(v >= 0 for v in feas.y)
        assert [dot(row, feas.y) for row in M] == list(r)
        ray = feasible_point(cols, c, dim=p).farkas
        assert ray is not None and all(v >= 0 for v in ray)
        assert all(dot(row, ray) == 0 for row in M) and dot(c, ray) < 0
