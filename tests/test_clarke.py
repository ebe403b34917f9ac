"""Clarke Jacobians, differentiability and directional derivatives against independent answers:
by hand (seed 003's nets, max ties), by exact difference quotients, and by a brute force
over the activation patterns around a kink point (float LP proposes, exact check decides)."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from exactrelu.clarke import (
    clarke_jacobian,
    convex_weights,
    derivative_in_clarke,
    differentiable,
    directional_derivative,
    in_clarke,
    set_intervals,
)
from exactrelu.constructions import seed003_identity, seed003_relu, seed003_zero
from exactrelu.core.errors import InputError
from exactrelu.core.network import Network, activation, affine
from exactrelu.oracle import sample_points
from exactrelu.strategies import networks

F = Fraction


def m(*rows):
    return tuple(tuple(F(v) for v in r) for r in rows)


# -- by hand -----------------------------------------------------------------------------------


def test_seed003_nets_by_hand():
    # relu(x) − relu(−x) = x: differentiable at 0, Clarke {1}; DΦ_c(0) = 2c is in it only for c = 1/2
    assert clarke_jacobian(seed003_identity(), [0]).generators == (m([1]),)
    assert derivative_in_clarke(seed003_identity(), [0], "c").c_set == sympy.FiniteSet(sympy.Rational(1, 2))
    # relu(relu(x) − relu(−x)) = relu(x): Clarke [0, 1]; 2c² in it iff |c| <= 1/sqrt(2)
    assert clarke_jacobian(seed003_relu(), [0]).generators == (m([0]), m([1]))
    s = sympy.sqrt(2) / 2
    assert derivative_in_clarke(seed003_relu(), [0], "c").c_set == sympy.Interval(-s, s)
    # relu(relu(2x) − relu(x)) − relu(x) = 0: Clarke {0}; c² − c = 0 iff c in {0, 1}
    assert clarke_jacobian(seed003_zero(), [0]).generators == (m([0]),)
    assert derivative_in_clarke(seed003_zero(), [0], "c").c_set == sympy.FiniteSet(0, 1)
    # seed 003's point: no single c works for all three
    sets = [derivative_in_clarke(n, [0], "c").c_set for n in (seed003_identity(), seed003_relu(), seed003_zero())]
    assert sympy.Intersection(*sets) == sympy.EmptySet


def test_max_tie_by_hand():
    # max(x, y) = y + relu(x − y): at a tie the Clarke Jacobian is the segment [(1,0), (0,1)]
    net = Network.from_layers(2, [affine([[1, -1], [0, 1], [0, -1]]), activation("relu"), affine([[1, 1, -1]])])
    cj = clarke_jacobian(net, ["1/2", "1/2"])
    assert cj.generators == (m([0, 1]), m([1, 0]))
    assert not cj.differentiable
    assert in_clarke(net, ["1/2", "1/2"], [["1/3", "2/3"]])
    assert not in_clarke(net, ["1/2", "1/2"], [["1/2", "1/3"]])
    assert derivative_in_clarke(net, [1, 1], "c").c_set == sympy.Interval(0, 1)
    assert derivative_in_clarke(net, [1, 1], "torch").inside  # (0, 1): relu'(0) = 0
    assert directional_derivative(net, [1, 1], [1, -1]) == (F(1),)
    assert directional_derivative(net, [1, 1], [-1, 1]) == (F(1),)
    assert directional_derivative(net, [1, 1], [-2, -3]) == (F(-2),)


def test_hardtanh_at_its_bound_and_abs():
    ht = Network.from_layers(1, [affine([[1]]), activation("hardtanh", min=-1, max=1), affine([[1]])])
    assert clarke_jacobian(ht, [1]).generators == (m([0]), m([1]))
    assert clarke_jacobian(ht, ["1/2"]).generators == (m([1]),)
    # |x| − |−x| = 0 identically: differentiable, yet DΦ_c(0) = (2c − 1) − (−1)(2c − 1)·... by hand:
    # abs' at 0 is (1 − c)(−1) + c = 2c − 1, so DΦ_c(0) = (2c − 1)·1 − (2c − 1)·(−1) = 4c − 2
    z = Network.from_layers(1, [affine([[1], [-1]]), activation("abs"), affine([[1, -1]])])
    assert differentiable(z, [0])
    assert clarke_jacobian(z, [0]).generators == (m([0]),)
    chk = derivative_in_clarke(z, [0], "c")
    assert sympy.expand(chk.matrix[0][0] - (4 * sympy.Symbol("c") - 2)) == 0
    assert chk.c_set == sympy.FiniteSet(sympy.Rational(1, 2))
    assert derivative_in_clarke(z, [0], "torch").inside  # torch: sgn(0) = 0 -> 0
    assert not derivative_in_clarke(z, [0], "jax").inside  # jax: abs'(0) = 1 -> 2


def test_boundary_with_equal_maps_is_differentiable():
    # relu(x) + relu(x) − 2 relu(x) = 0 has a pattern boundary at 0 with equal maps
    net = Network.from_layers(1, [affine([[1], [1]]), activation("relu"), affine([[1, -1]])])
    assert differentiable(net, [0])
    assert not differentiable(Network.from_layers(1, [affine([[1]]), activation("relu"), affine([[1]])]), [0])


def test_convex_weights_exact():
    gens = [m([0, 0]), m([1, 0]), m([0, 1])]
    w = convex_weights(gens, [["1/3", "1/3"]])
    assert w is not None and sum(w) == 1 and all(v >= 0 for v in w)
    assert sum(wi * g[0][0] for wi, g in zip(w, gens)) == F(1, 3)
    assert convex_weights(gens, [["1/2", "2/3"]]) is None
    assert convex_weights(gens, [["-1/1000000", "0"]]) is None


def test_set_intervals():
    assert set_intervals(sympy.EmptySet) == ()
    assert set_intervals(sympy.Interval(0, sympy.oo)) == ((0, sympy.oo),)


def test_bad_input():
    with pytest.raises(InputError):
        clarke_jacobian(seed003_relu(), [0, 1])
    with pytest.raises(InputError):
        directional_derivative(seed003_relu(), [0], [1, 1])
    with pytest.raises(InputError):
        in_clarke(seed003_relu(), [0], [[1, 2]])


# -- brute force ---------------------------------------------------------------------------------


def _pieces_near(fn, z):
    """The pieces a neuron can take near a point where its pre-activation is z."""
    s = fn.state(z)
    return [s // 2] if s % 2 == 0 else [s // 2, s // 2 + 1]


def brute_force_clarke(net, x):
    """Jacobians of every activation pattern realised by a nonempty open set whose closure
    holds x, enumerated over all piece choices of the neurons at a knot at x."""
    chain = net.chain
    pre_x = net.preactivations(x)
    choices = [[_pieces_near(fn, z) for fn, z in zip(fns, pre_x[l])] for l, fns in enumerate(chain.acts)]
    flat = [c for layer in choices for c in layer]
    found = set()
    n = net.input_dim
    for combo in itertools.product(*flat):
        it = iter(combo)
        pattern = [[next(it) for _ in layer] for layer in choices]
        # affine pre-activations under the pattern: z_l = G_l x + h_l
        G = [list(r) for r in chain.affines[0].weight]
        h = list(chain.affines[0].bias)
        rows_A, rows_b, consistent = [], [], True
        for l, fns in enumerate(chain.acts):
            for i, fn in enumerate(fns):
                p = pattern[l][i]
                lo = fn.knots[p - 1] if p > 0 else None
                hi = fn.knots[p] if p < len(fn.knots) else None
                if all(v == 0 for v in G[i]):  # constant: must sit in the closed piece
                    if (lo is not None and h[i] < lo) or (hi is not None and h[i] > hi):
                        consistent = False
                    continue
                val_x = sum(g * xi for g, xi in zip(G[i], x)) + h[i]
                if (lo is not None and val_x < lo) or (hi is not None and val_x > hi):
                    consistent = False  # x not in the closure
                if lo is not None:
                    rows_A.append([-g for g in G[i]])
                    rows_b.append(h[i] - lo)
                if hi is not None:
                    rows_A.append(list(G[i]))
                    rows_b.append(hi - h[i])
            slopes = [fn.piece_affine(pattern[l][i]) for i, fn in enumerate(fns)]
            G1 = [[s * g for g in G[i]] for i, (s, _) in enumerate(slopes)]
            h1 = [s * h[i] + c for i, (s, c) in enumerate(slopes)]
            W, b = chain.affines[l + 1].weight, chain.affines[l + 1].bias
            G = [[sum(W[k][i] * G1[i][j] for i in range(len(G1))) for j in range(n)] for k in range(len(W))]
            h = [sum(W[k][i] * h1[i] for i in range(len(h1))) + b[k] for k in range(len(W))]
        if not consistent:
            continue
        J = tuple(tuple(r) for r in G)
        if not rows_A:
            found.add(J)
            continue
        # maximise t: A z + t <= b, |z − x| <= 1/4; float LP proposes, exact check decides
        A = np.array([[float(v) for v in r] + [1.0] for r in rows_A])
        bb = np.array([float(v) for v in rows_b])
        bounds = [(float(xi) - 0.25, float(xi) + 0.25) for xi in x] + [(None, 1.0)]
        res = linprog(np.r_[np.zeros(n), -1.0], A_ub=A, b_ub=bb, bounds=bounds, method="highs")
        if res.status != 0 or res.x[-1] <= 1e-9:
            continue
        z = [F(v).limit_denominator(1 << 40) for v in res.x[:n]]
        assert all(sum(a * zi for a, zi in zip(r, z)) < bi for r, bi in zip(rows_A, rows_b)), "brute force: witness"
        found.add(J)
    return tuple(sorted(found))


def _brute_reference_jacobian(net, z):
    from exactrelu.calculus import derivative

    return derivative(net, z, 0).matrix


@settings(max_examples=25, deadline=None)
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2), st.integers(0, 10**6))
def test_clarke_matches_brute_force(net, seed):
    points = [p for p in sample_points(net, 6, seed) if p.kind != "random"][:3]
    for sp in points:
        x = sp.point
        got = clarke_jacobian(net, x).generators
        assert got == brute_force_clarke(net, x), (x, sp.kinks)


@settings(max_examples=25, deadline=None)
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2), st.integers(0, 10**6), st.data())
def test_directional_derivative_is_the_difference_quotient(net, seed, data):
    points = [p for p in sample_points(net, 4, seed)][:2]
    for sp in points:
        x = sp.point
        d = tuple(F(data.draw(st.integers(-3, 3))) for _ in range(net.input_dim))
        fx = net.evaluate(x)
        quotients = []
        for t in (F(1, 2**30), F(1, 2**31)):
            fy = net.evaluate([xi + t * di for xi, di in zip(x, d)])
            quotients.append(tuple((a - b) / t for a, b in zip(fy, fx)))
        assert quotients[0] == quotients[1]  # f is affine along the ray this close to x
        assert directional_derivative(net, x, d) == quotients[0]
        # and it is the directional derivative of some generator: max over the hull's
        # generators is not needed; each region's map applies on its own cone
        gens = clarke_jacobian(net, x).generators
        values = {tuple(sum(g[i][j] * d[j] for j in range(len(d))) for i in range(len(g))) for g in gens}
        assert quotients[0] in values or all(v == 0 for v in d)


# -- the CLI and the checkers ----------------------------------------------------------------------


def test_cli_jacobian_keys(capsys):
    import json

    from exactrelu.cli.main import main
    from exactrelu.corpus import corpus_root

    path = str(corpus_root() / "frameworks" / "max-tie.json")
    assert main(["jacobian", path, "--at", "1,1", "--convention", "c", "--direction", "1,-1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["jacobian"] == [["c", "1 - c"]]
    assert doc["differentiable"] is False
    assert sorted(doc["clarke"]) == [[["0", "1"]], [["1", "0"]]]
    assert doc["in_clarke"] is False and doc["in_clarke_for"] == [["0", "1"]]
    assert doc["directional_derivative"] == ["1"]
    assert main(["jacobian", path, "--at", "1,1", "--direction", "1"]) == 2


def test_verify_rejects_wrong_clarke_expectations():
    import copy

    from exactrelu.corpus import corpus_root
    from exactrelu.io.case import read_case
    from exactrelu.verify import verify_case

    case = read_case(corpus_root() / "frameworks" / "relu-of-identity.json")
    assert all(c.ok for c in verify_case(case))
    for key, wrong in (("differentiable", True), ("clarke", [[["0"]], [["1/2"]]]), ("in_clarke_for", [["0", "1/2"]]), ("in_clarke", True)):
        bad = copy.deepcopy(case.expected)
        bad["jacobian"][0][key] = wrong
        checks = verify_case(type(case)(case.network, case.domain, bad, case.path))
        assert not all(c.ok for c in checks), key
    bad = copy.deepcopy(case.expected)
    bad["jacobian"][0]["clark"] = True
    with pytest.raises(InputError):
        verify_case(type(case)(case.network, case.domain, bad, case.path))
