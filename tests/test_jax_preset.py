"""The ``jax`` convention equals jax autodiff (float64) exactly at points on kinks.

Skipped where jax is not installed (it is not a dependency: about 600 MB). As in
`test_torch_preset`, dyadic weights, biases, knots and points keep every float64
operation exact, so jax sees the rational point and its kinks; each activation is the
jax op that `exactrelu.conventions.FRAMEWORK_OPS["jax"]` names, written here from jax's
public API (independently of `exactrelu.oracle`), and the Jacobians of ``jax.jacrev`` and
``jax.jacfwd`` are compared entry by entry with ``derivative(net, x, "jax")``.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from preset_nets import KINDS, layer_functions, random_net, relu_form

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

from exactrelu.calculus import derivative  # noqa: E402
from exactrelu.oracle import sample_points  # noqa: E402

def _jax_activation(kind: str, fns):
    if kind == "relu":
        return jax.nn.relu
    if kind == "leaky_relu":
        return lambda z: jax.nn.leaky_relu(z, negative_slope=float(fns[0].slopes[0]))
    if kind == "prelu":  # flax.linen.PReLU's expression, per neuron
        alpha = jnp.array([float(f.slopes[0]) for f in fns])
        return lambda z: jnp.where(z >= 0, z, alpha * z)
    if kind == "hardtanh":
        return jax.nn.hard_tanh
    if kind == "abs":
        return jnp.abs
    terms = [relu_form(f) for f in fns]

    def spline(z):
        return jnp.stack([sum((ak * jax.nn.relu(z[i] - tk) for ak, tk in zip(a, tau)), 0.0) + b1 * z[i] + b2
                          for i, (a, tau, b1, b2) in enumerate(terms)])
    return spline


def jax_function(net):
    steps = []
    for kind, *rest in layer_functions(net):
        if kind == "affine":
            W, b = jnp.array(rest[0]), jnp.array(rest[1])
            steps.append(lambda z, W=W, b=b: W @ z + b)
        else:
            steps.append(_jax_activation(kind, rest[0]))

    def f(x):
        for step in steps:
            x = step(x)
        return x
    return f


@pytest.mark.parametrize("kind", KINDS)
def test_jax_preset_equals_jax_autodiff_on_kinks(kind):
    rng = random.Random(100 + KINDS.index(kind))
    checked = 0
    for trial in range(12):
        net = random_net(rng, kind, unit_hardtanh=True)
        f = jax_function(net)
        for sp in sample_points(net, 8, seed=trial):
            if not sp.kinks:
                continue
            x = jnp.array([float(v) for v in sp.point])
            assert [Fraction(float(v)) for v in f(x)] == list(net.evaluate(sp.point))
            expected = [list(r) for r in derivative(net, sp.point, "jax").matrix]
            for jac in (jax.jacrev(f)(x), jax.jacfwd(f)(x)):
                got = [[Fraction(float(v)) for v in row] for row in jac.reshape(len(expected), -1)]
                assert got == expected, (net, sp.point, sp.kinks)
            checked += 1
    assert checked >= 20, f"only {checked} kink points for {kind}"
