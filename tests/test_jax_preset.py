"""The ``jax`` convention equals jax autodiff (float64) exactly at points on kinks.

Skipped where jax is not installed (it is not a dependency: about 600 MB). As in
`test_torch_preset`, dyadic weights, biases, knots and points keep every float64
operation exact, so jax sees the rational point and its kinks; each activation is the
jax op that `exactrelu.core.conventions.FRAMEWORK_OPS["jax"]` names, written here from jax's
public API (independently of `exactrelu.oracle`), and the Jacobians of ``jax.jacrev`` and
``jax.jacfwd`` are compared entry by entry with ``derivative(net, x, "jax")``.
"""

from __future__ import annotations

import pytest
from preset_nets import KINDS, check_kink_points, compose, relu_form

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy


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
    def affine(W, b):
        W, b = jnp.array(W), jnp.array(b)
        return lambda z: W @ z + b
    return compose(net, affine, _jax_activation)


@pytest.mark.parametrize("kind", KINDS)
def test_jax_preset_equals_jax_autodiff_on_kinks(kind):
    def build(net):
        f = jax_function(net)
        return lambda x: (f(jnp.array(x)), [jax.jacrev(f)(jnp.array(x)), jax.jacfwd(f)(jnp.array(x))])

    checked = check_kink_points(kind, 100 + KINDS.index(kind), "jax", build, unit_hardtanh=True)
    assert checked >= 20, f"only {checked} kink points for {kind}"
