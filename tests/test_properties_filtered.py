"""The floating-point filter (`exactrelu.properties.filtered`) gives exactly what the exact
rational code of `exactrelu.properties.propagation` gives: the same canonical bounds,
and the same verdict on the sign of every layered bound, on random ReLU networks with
short rationals (floats often inexact: the exact fallbacks run), with float32-like
weights (the float path decides alone), with neuron splits, and with LP-like multipliers."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from exactrelu.core.network import Network, activation, affine
from exactrelu.properties.filtered import closes, relu_bounds, to_bounds
from exactrelu.properties.propagation import Model, exact_bounds, layered_bound
from exactrelu.strategies import networks, rationals

F = Fraction


def float32_net(seed: int, widths: list[int]) -> Network:
    """Weights drawn as float32 values (exact dyadics with up to 24 significant bits)."""
    gen = np.random.default_rng(seed)
    layers = []
    for a, b in zip(widths, widths[1:]):
        W = gen.normal(0, 1 / np.sqrt(a), (b, a)).astype(np.float32)
        c = gen.normal(0, 0.3, b).astype(np.float32)
        layers += [affine([[F(float(v)) for v in row] for row in W], [F(float(v)) for v in c]), activation("relu")]
    return Network.from_layers(widths[0], layers[:-1])


@st.composite
def cases(draw):
    if draw(st.booleans()):
        net = draw(networks(max_input_dim=3, max_width=4, max_hidden_layers=3, kinds=("relu",)))
    else:
        n = draw(st.integers(1, 4))
        net = float32_net(draw(st.integers(0, 10**6)), [n] + [draw(st.integers(2, 8)) for _ in range(draw(st.integers(1, 4)))] + [2])
    box = []
    for _ in range(net.input_dim):
        lo = draw(rationals(3, 2))
        box.append((lo, lo + draw(st.sampled_from([F(1), F(1, 3), F(2), F(1, 1024), F(0)]))))
    m = Model.of(net)
    restrict = {}
    for l in range(m.hidden):
        for i in range(len(m.acts[l])):
            side = draw(st.sampled_from([None, None, None, "lo", "hi"]))
            if side is not None:
                restrict[(l, i)] = (F(0), None) if side == "lo" else (None, F(0))
    return net, box, restrict


@settings(max_examples=120, deadline=None)
@given(cases())
def test_bounds_equal_the_exact_code(case):
    net, box, restrict = case
    m = Model.of(net)
    fast = relu_bounds(m, box, restrict)
    exact = exact_bounds(m, box, restrict)
    assert (fast is None) == (exact is None)
    if fast is not None:
        assert to_bounds(fast) == exact


@settings(max_examples=120, deadline=None)
@given(cases(), st.data())
def test_bound_signs_equal_the_exact_code(case, data):
    net, box, restrict = case
    m = Model.of(net)
    fast = relu_bounds(m, box, restrict)
    if fast is None:
        return
    exact = exact_bounds(m, box, restrict)
    k, n = net.output_dim, net.input_dim
    cy = [data.draw(rationals(2, 1)) for _ in range(k)]
    cx = [data.draw(st.sampled_from([F(0), F(1), F(-1, 3)])) for _ in range(n)] if data.draw(st.booleans()) else []
    strict = data.draw(st.booleans())
    lambdas = None
    if data.draw(st.booleans()):  # LP-like multipliers: arbitrary floats
        rng = random.Random(data.draw(st.integers(0, 10**6)))
        lambdas = [[F(rng.uniform(-2, 2)) if rng.random() < 0.8 else F(0) for _ in m.acts[l]] for l in range(m.hidden)]
    exact_value = layered_bound(m, exact, box, cy, cx, F(0), lambdas)
    # the constant at, and around, the exact value: ties decided exactly
    for const in (-exact_value, -exact_value + F(1, 10**9), -exact_value - F(1, 10**9), data.draw(rationals(2, 2))):
        want = exact_value + const > 0 or (strict and exact_value + const >= 0)
        assert closes(m, fast, box, cy, cx, const, strict, lambdas) == want


def test_wide_float32_network_decides_in_floats():
    net = float32_net(7, [5, 40, 40, 40, 5])
    m = Model.of(net)
    box = [(F(-1, 2), F(1, 2))] * 5
    fast = relu_bounds(m, box, {})
    assert to_bounds(fast) == exact_bounds(m, box, {})


@settings(max_examples=80, deadline=None)
@given(cases(), st.data())
def test_checker_floats_equal_the_checkers_rationals(case, data):
    """The checker's own filter (`exactrelu.checker.floats`) against the checker's own exact code."""
    from exactrelu.checker.property import _Ctx
    from exactrelu.checker.reader import read_network
    from exactrelu.io.case import case_to_json

    net, box, restrict = case
    ctx = _Ctx(read_network(json_roundtrip(case_to_json(net))), 16, 16, 24)
    assert ctx.floats is not None
    node = ctx.node(box, restrict)
    exact = ctx.bounds(box, restrict)
    assert (node is None) == (exact is None)
    if node is None:
        return
    assert node.exact()[0] == exact[0]
    cy = [data.draw(rationals(2, 1)) for _ in range(net.output_dim)]
    cx = [F(0)] * net.input_dim
    value = ctx.objective_bound(box, exact[1], cy, cx, F(0), None)
    for const in (-value, -value + F(1, 10**9), data.draw(rationals(2, 2))):
        v = value + const
        assert node.sign(cy, cx, const, None)[0] == (v > 0) - (v < 0)


def json_roundtrip(doc):
    import json

    return json.loads(json.dumps(doc))
