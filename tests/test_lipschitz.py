"""The exact Lipschitz constant against an independent brute force over all activation
patterns (tests/brute.py), against the Jacobian at random points, and on hand examples."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from brute import full_dimensional_regions  # tests/ is on pythonpath (pyproject.toml)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exactrelu.calculus import derivative
from exactrelu.core.algebraic import Algebraic, maximum
from exactrelu.core.domain import Domain
from exactrelu.core.errors import InputError, LimitReached
from exactrelu.core.network import Network, activation, affine
from exactrelu.core.norms import norm_1, norm_2, norm_inf
from exactrelu.core.numbers import fmpq_matrix
from exactrelu.io.case import case_to_json
from exactrelu.lipschitz import LipschitzResult, lipschitz
from exactrelu.strategies import networks, points

NORMS = {"1": norm_1, "inf": norm_inf, "2": norm_2}


def _as_alg(x):
    return x if isinstance(x, Algebraic) else Algebraic.rational(x)


def brute_lipschitz(net: Network, norm: str, domain: Domain | None = None):
    regions = full_dimensional_regions(case_to_json(net, domain))
    values = [NORMS[norm](fmpq_matrix(r.jacobian)) for r in regions]
    return maximum(values)[1], regions


domains = st.sampled_from([None, "box", "small-box"])


def _domain(kind, n):
    if kind == "box":
        return Domain.from_box([[-1, 1]] * n)
    if kind == "small-box":
        return Domain.from_box([["-1/3", "1/2"]] * n)
    return None


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(networks(max_input_dim=2, max_width=2, max_hidden_layers=2), domains, st.sampled_from(["1", "inf", "2"]))
def test_l_equals_the_brute_force_maximum(net, kind, norm):
    domain = _domain(kind, net.input_dim)
    expected, regions = brute_lipschitz(net, norm, domain)
    res = lipschitz(net, norm, domain)
    assert _as_alg(res.exact).compare(_as_alg(expected)) == 0
    # the witness lies in the domain and attains the value: its Jacobian there is the reported one
    J = fmpq_matrix(res.jacobian)
    assert _as_alg(NORMS[norm](J)).compare(_as_alg(expected)) == 0
    if domain is not None:
        assert domain.contains(res.witness)
    d = derivative(net, res.witness, "0")
    if not d.on_kink:
        assert [list(r) for r in d.matrix] == [list(r) for r in res.jacobian]


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2), st.data())
def test_l_is_at_least_the_jacobian_norm_at_random_points(net, data):
    res = {p: lipschitz(net, p) for p in ("1", "inf")}
    for _ in range(5):
        x = data.draw(points(net.input_dim))
        d = derivative(net, x, "0")
        if d.on_kink:
            continue
        J = fmpq_matrix(d.matrix)
        for p in ("1", "inf"):
            assert NORMS[p](J) <= res[p].exact


@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2, kinds=("relu", "leaky_relu", "hardtanh")))
def test_pruning_does_not_change_the_answer(net):
    for p in ("inf", "2"):
        a = lipschitz(net, p)
        b = lipschitz(net, p, prune=False)
        assert _as_alg(a.exact).compare(_as_alg(b.exact)) == 0
        assert b.diagnostics["pruned"] == 0


def test_hand_examples():
    # |x| - |y| style: relu(x) - relu(-x) + 2 relu(y): slopes per region by hand
    net = Network.from_layers(2, [affine([[1, 0], [-1, 0], [0, 1]]), activation("relu"), affine([[1, 1, 2], [0, 0, 1]])])
    # Jacobians: [[±1, 0 or 2], [0, 0 or 1]]; the largest: [[1, 2], [0, 1]]
    assert lipschitz(net, "inf").exact == 3  # row sums 3
    assert lipschitz(net, "1").exact == 3  # column sums 1, 3
    two = lipschitz(net, "2").exact  # ‖[[1,2],[0,1]]‖_2 = 1 + √2
    assert two.poly == (-1, -2, 1) and two.compare(Fraction(2414, 1000)) == 1 and two.compare(Fraction(2415, 1000)) == -1
    # on the box y < 0 the relu(y) neuron is off: J = [[±1, 0], [0, 0]]
    neg = Domain.from_box([[-1, 1], [-2, -1]])
    assert lipschitz(net, "inf", neg).exact == 1


def test_zero_hidden_layers_and_constant_neurons():
    lin = Network.from_layers(2, [affine([[1, -3]], [5])])
    assert lipschitz(lin, "1").exact == 3 and lipschitz(lin, "inf").exact == 4
    # a neuron with a constant pre-activation at its knot splits nothing
    const = Network.from_layers(1, [affine([[0], [2]]), activation("relu"), affine([[7, 1]])])
    assert lipschitz(const, "inf").exact == 2


def test_limits_and_errors():
    net = Network.from_layers(2, [affine([[1, 1], [1, -1], [2, 1]]), activation("relu"), affine([[1, 1, 1]])])
    with pytest.raises(LimitReached) as e:
        lipschitz(net, "inf", max_nodes=2)
    partial = e.value.partial
    assert isinstance(partial, LipschitzResult) and partial.value.guarantee == "certified"
    exact = lipschitz(net, "inf").exact
    if partial.value.interval is not None:
        lo, hi = partial.value.interval
        assert lo <= exact <= hi
    with pytest.raises(InputError):
        lipschitz(net, "inf", Domain.from_box([[0, 1]]))
    with pytest.raises(InputError):
        lipschitz(net, "3")
    empty = Domain.from_halfspaces([[1, 0], [-1, 0]], [0, 0], 2)
    with pytest.raises(InputError):
        lipschitz(net, "inf", empty)


def test_float_path_agrees_on_random_nets():
    """A sampled float estimate never exceeds the exact L (it is a maximum over regions)."""
    rng = np.random.default_rng(3)
    for _ in range(5):
        w0 = rng.integers(-3, 4, size=(4, 2))
        w1 = rng.integers(-3, 4, size=(2, 4))
        net = Network.from_layers(2, [affine(w0.tolist(), [1, -1, 0, 2]), activation("relu"), affine(w1.tolist())])
        L = float(lipschitz(net, "inf").exact)
        xs = rng.uniform(-5, 5, size=(400, 2))
        for x in xs:
            on = (w0 @ x + np.array([1, -1, 0, 2])) > 0
            J = w1 @ (on[:, None] * w0)
            assert np.abs(J).sum(axis=1).max() <= L + 1e-12


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(networks(max_input_dim=2, max_width=4, max_hidden_layers=2, kinds=("relu", "leaky_relu", "abs")),
       domains)
def test_wider_plane_nets_against_the_brute_force(net, kind):
    """In the plane the search decides most neurons in place (one piece meets the region):
    the value and the witness's Jacobian still match the brute force over all patterns."""
    domain = _domain(kind, net.input_dim)
    expected, _ = brute_lipschitz(net, "inf", domain)
    res = lipschitz(net, "inf", domain)
    assert res.exact == expected
    assert norm_inf(fmpq_matrix(res.jacobian)) == expected
    d = derivative(net, res.witness, "0")
    if not d.on_kink:  # (a neuron constant at its knot is a kink everywhere)
        assert [list(r) for r in d.matrix] == [list(r) for r in res.jacobian]
    assert lipschitz(net, "inf", domain, prune=False).exact == expected


small = st.fractions(-3, 3, max_denominator=4)


@settings(max_examples=80)
@given(st.sampled_from(["box", "quadrant"]), st.lists(st.tuples(small, small, small), max_size=3),
       st.lists(st.tuples(small, small, small), min_size=1, max_size=4),
       st.lists(small, min_size=1, max_size=3, unique=True))
def test_polygon_meets_against_the_range_by_hand(start, cuts, rows, knots):
    """`_polygon_meets` (signs at the vertices) against the open range of z over the
    polygon computed by hand (its values at the finite vertices, unbounded along a
    direction where z grows or falls) and the open pieces it meets."""
    from flint import fmpq, fmpq_mat

    from exactrelu.lipschitz import _clip, _polygon_meets, _vertex_values

    q = lambda v: fmpq(v.numerator, v.denominator)  # noqa: E731
    one, zero = fmpq(1), fmpq(0)
    polygon = ([(fmpq(-1), fmpq(-2), one), (fmpq(3), fmpq(-2), one), (fmpq(3), fmpq(1), one), (fmpq(-1), fmpq(1), one)]
               if start == "box" else [(zero, zero, one), (-one, zero, zero), (zero, one, zero)])
    polygon = _clip(polygon, [([q(a), q(b)], q(c)) for a, b, c in cuts])
    if polygon is None:
        return
    kq = sorted(q(t) for t in knots)
    G = fmpq_mat(len(rows), 2, [q(v) for a, b, _ in rows for v in (a, b)])
    values = _vertex_values(polygon, G, [q(c) for _, _, c in rows])
    for j, (a, b, c) in enumerate(rows):
        if a == 0 and b == 0:
            continue
        at = [(q(a) * X + q(b) * Y) / W + q(c) for X, Y, W in polygon if W != 0]
        along = [q(a) * X + q(b) * Y for X, Y, W in polygon if W == 0]
        lo = None if any(v < 0 for v in along) else min(at)
        hi = None if any(v > 0 for v in along) else max(at)
        expected = [p for p in range(len(kq) + 1)
                    if (p == 0 or hi is None or hi > kq[p - 1]) and (p == len(kq) or lo is None or lo < kq[p])]
        assert _polygon_meets(values[j], [v[2] for v in polygon], kq) == expected


def test_interval_start_is_the_sum_of_the_neurons_terms():
    """`_IntervalBound.start` (four exact matrix products) equals the sum, neuron by
    neuron, of the interval terms that `decide` replaces one at a time."""
    from flint import fmpq, fmpq_mat

    from exactrelu.lipschitz import _IntervalBound

    rng = np.random.default_rng(5)
    for _ in range(5):
        w0, w1, w2 = (rng.integers(-3, 4, size=s).tolist() for s in ((3, 2), (3, 3), (2, 3)))
        net = Network.from_layers(2, [affine(w0, [1, -1, 0]), activation("relu"), affine(w1, [0, 1, -2]),
                                      activation("leaky_relu", alpha=Fraction(1, 4)), affine(w2)])
        ib = _IntervalBound(net, Domain.from_box([[-1, 1], [-1, 1]]), "inf")
        G = fmpq_mat(3, 2, [fmpq(int(v), 3) for v in rng.integers(-4, 5, size=6)])
        hulls = [(fmpq(0), fmpq(1)), (fmpq(1, 4), fmpq(1, 4)), (fmpq(-1, 2), fmpq(1))]
        lo, hi = ib.start(1, G, hulls)
        slo = [[fmpq(0)] * 2 for _ in range(2)]
        shi = [[fmpq(0)] * 2 for _ in range(2)]
        for j, (a, b) in enumerate(hulls):
            tlo, thi = ib._term(1, j, a, b, [G[j, 0], G[j, 1]])
            for i in range(2):
                for c in range(2):
                    slo[i][c] += tlo[i][c]
                    shi[i][c] += thi[i][c]
        assert (lo, hi) == (slo, shi)


def test_l2_limit_gives_the_real_bracket_and_says_which_limit():
    """At a limit the ℓ2 bracket's ends are the incumbent's value (to a relative 2⁻³⁰,
    not its coarse isolating interval) and the largest open bound; the message names the
    limit that was reached."""
    net = Network.from_layers(2, [affine([[1, 2], [2, -1], [1, -1], [3, 1]], [0, 1, -1, 2]), activation("relu"),
                                  affine([[1, 1, -1, 1], [2, -1, 1, 0]])])
    exact = lipschitz(net, "2").exact
    with pytest.raises(LimitReached) as e:
        lipschitz(net, "2", max_nodes=6)
    assert "node limit of 6 reached" in str(e.value)
    partial = e.value.partial
    lo, hi = partial.value.interval
    assert _as_alg(exact).compare(lo) >= 0 and _as_alg(exact).compare(hi) <= 0
    found = _as_alg(partial.exact)  # the best found so far: lo sits just below it
    assert found.compare(lo) >= 0 and found.compare(lo * (1 + Fraction(1, 2**29))) <= 0
    with pytest.raises(LimitReached, match="time limit of 0 s reached after 0 nodes"):
        lipschitz(net, "2", time_limit=0)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2), st.data())
def test_local_lipschitz_on_balls_against_the_brute_force(net, data):
    """ℓ∞ and ℓ1 balls are polytope domains: L over them equals the brute force over the
    regions meeting the ball; every point of the ball's boundary box is in the ℓ∞ ball."""
    center = data.draw(points(net.input_dim, 2, 1))
    radius = data.draw(st.sampled_from([Fraction(1, 4), Fraction(1), Fraction(3)]))
    for ball_norm in ("inf", "1"):
        ball = Domain.ball(center, radius, ball_norm)
        corner = [c + radius for c in center]
        assert ball.contains(corner) == (ball_norm == "inf" or net.input_dim == 1)
        for p in ("inf", "1"):
            expected, _ = brute_lipschitz(net, p, ball)
            assert lipschitz(net, p, ball).exact == expected


def test_l2_ball_is_stated_as_a_limit():
    with pytest.raises(InputError, match="not a polytope"):
        Domain.ball([0, 0], 1, norm=2)
    with pytest.raises(InputError):
        Domain.ball([0], 0)
