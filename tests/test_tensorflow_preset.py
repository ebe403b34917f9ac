"""The ``tensorflow`` convention equals TensorFlow autodiff (float64) exactly at kinks.

Skipped where TensorFlow is not installed (it is not a dependency). As in
`test_torch_preset`, dyadic numbers keep every float64 operation exact; each activation
is the op `exactrelu.core.conventions.FRAMEWORK_OPS["tensorflow"]` names, written here from
TensorFlow's public API, and the Jacobians of ``GradientTape.jacobian`` (reverse mode) and
``ForwardAccumulator`` (forward mode) are compared entry by entry with
``derivative(net, x, "tensorflow")``.
"""

from __future__ import annotations

import pytest
from preset_nets import KINDS, check_kink_points, compose, relu_form

tf = pytest.importorskip("tensorflow")


def _tf_activation(kind: str, fns):
    if kind == "relu":
        return tf.nn.relu
    if kind == "leaky_relu":
        return lambda z: tf.nn.leaky_relu(z, alpha=float(fns[0].slopes[0]))
    if kind == "prelu":  # keras.layers.PReLU.call: relu(x) − alpha·relu(−x)
        alpha = tf.constant([float(f.slopes[0]) for f in fns], dtype=tf.float64)
        return lambda z: tf.nn.relu(z) - alpha * tf.nn.relu(-z)
    if kind == "hardtanh":  # keras.ops.hard_tanh on the TensorFlow backend
        return lambda z: tf.clip_by_value(z, -1.0, 1.0)
    if kind == "abs":
        return tf.abs
    terms = [relu_form(f) for f in fns]

    def spline(z):
        return tf.stack([sum((ak * tf.nn.relu(z[i] - tk) for ak, tk in zip(a, tau)), tf.constant(0.0, tf.float64))
                         + b1 * z[i] + b2 for i, (a, tau, b1, b2) in enumerate(terms)])
    return spline


def tf_function(net):
    def affine(W, b):
        W, b = tf.constant(W, dtype=tf.float64), tf.constant(b, dtype=tf.float64)
        return lambda z: tf.linalg.matvec(W, z) + b
    return compose(net, affine, _tf_activation)


def _jacobians(f, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    reverse = tape.jacobian(y, x).numpy()
    columns = []
    for j in range(x.shape[0]):
        tangent = tf.one_hot(j, x.shape[0], dtype=tf.float64)
        with tf.autodiff.ForwardAccumulator(x, tangent) as acc:
            y = f(x)
        columns.append(acc.jvp(y).numpy())
    forward = [[col[i] for col in columns] for i in range(len(columns[0]))]
    return y.numpy(), [reverse, forward]


@pytest.mark.parametrize("kind", KINDS)
def test_tensorflow_preset_equals_tensorflow_autodiff_on_kinks(kind):
    def build(net):
        f = tf_function(net)
        return lambda x: _jacobians(f, tf.constant(x, dtype=tf.float64))

    checked = check_kink_points(kind, 200 + KINDS.index(kind), "tensorflow", build, unit_hardtanh=True)
    assert checked >= 20, f"only {checked} kink points for {kind}"
