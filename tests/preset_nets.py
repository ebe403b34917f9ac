"""Random small networks with dyadic numbers, for the framework-preset tests.

Dyadic weights, biases, knots and points keep every float64 operation exact, so a
framework sees exactly the rational point and its kinks.
"""

from __future__ import annotations

import random
from fractions import Fraction

from exactrelu.core.network import Network, activation, affine

KINDS = ("relu", "leaky_relu", "prelu", "hardtanh", "abs", "spline")


def dyadic(rng: random.Random, top: int = 8, bits: int = 2) -> Fraction:
    return Fraction(rng.randint(-top, top), 2 ** rng.randint(0, bits))


def random_net(rng: random.Random, kind: str, unit_hardtanh: bool = False) -> Network:
    """1–3 inputs, 1–3 hidden layers of 1–4 neurons of ``kind``, repeated and opposite rows
    now and then (coincident kinks); ``unit_hardtanh`` fixes hardtanh to [-1, 1]."""
    n0 = rng.randint(1, 3)
    layers = []
    dim = n0
    for w in [rng.randint(1, 4) for _ in range(rng.randint(1, 3))]:
        weight = [[dyadic(rng, 4, 1) for _ in range(dim)] for _ in range(w)]
        if rng.random() < 0.3 and w > 1:
            weight[-1] = [-v for v in weight[0]]
        layers.append(affine(weight, [dyadic(rng) for _ in range(w)]))
        if kind == "leaky_relu":
            layers.append(activation(kind, alpha=rng.choice([Fraction(1, 4), Fraction(1, 2), Fraction(-1, 2), Fraction(3, 2)])))
        elif kind == "prelu":
            layers.append(activation(kind, alpha=[dyadic(rng, 4, 2) for _ in range(w)]))
        elif kind == "hardtanh" and unit_hardtanh:
            layers.append(activation(kind, min=-1, max=1))
        elif kind == "hardtanh":
            lo = dyadic(rng, 4, 1)
            layers.append(activation(kind, min=lo, max=lo + rng.choice([Fraction(1, 2), 1, 2])))
        elif kind == "spline":
            knots = [sorted({dyadic(rng, 4, 1) for _ in range(rng.randint(1, 3))}) for _ in range(w)]
            layers.append(activation("spline", knots=knots,
                                     slopes=[[dyadic(rng, 4, 1) for _ in range(len(k) + 1)] for k in knots],
                                     value=[dyadic(rng, 4, 1) for _ in range(w)]))
        else:
            layers.append(activation(kind))
        dim = w
    layers.append(affine([[dyadic(rng, 4, 1) for _ in range(dim)] for _ in range(rng.randint(1, 2))]))
    return Network.from_layers(n0, layers, name=f"random-{kind}")


def relu_form(f) -> tuple[list[float], list[float], float, float]:
    """Seed 002's form of a spline neuron, ``Σ_k a_k relu(z − τ_k) + b1 z + b2``: (a, τ, b1, b2)."""
    a = [float(f.slopes[k + 1] - f.slopes[k]) for k in range(len(f.knots))]
    b2 = f(Fraction(0)) - sum((f.slopes[k + 1] - f.slopes[k]) * max(-t, Fraction(0)) for k, t in enumerate(f.knots))
    return a, [float(t) for t in f.knots], float(f.slopes[0]), float(b2)


def compose(net: Network, affine, activation):
    """The network as one function built from a framework's pieces: ``affine(W, b)`` (lists
    of floats) and ``activation(kind, per-neuron functions)`` each return a step."""
    steps, width = [], net.input_dim
    for layer in net.layers:
        if hasattr(layer, "weight"):
            steps.append(affine([[float(v) for v in row] for row in layer.weight], [float(v) for v in layer.bias]))
            width = len(layer.weight)
        else:
            steps.append(activation(layer.kind, [layer.function(i) for i in range(width)]))

    def f(x):
        for step in steps:
            x = step(x)
        return x
    return f


def check_kink_points(kind: str, seed: int, convention: str, build, unit_hardtanh: bool = False) -> int:
    """For 12 random dyadic nets of ``kind``, at every sampled point on a kink: the neuron's
    exact pre-activation is at its knot, ``build(net)(x)`` (floats in) returns the outputs,
    equal to the exact ones, and Jacobians each equal, entry by entry, to
    ``derivative(net, x, convention)``. Returns how many points were checked."""
    from exactrelu.calculus import derivative
    from exactrelu.oracle import sample_points

    rng = random.Random(seed)
    checked = 0
    for trial in range(12):
        net = random_net(rng, kind, unit_hardtanh)
        run = build(net)
        for sp in sample_points(net, 8, seed=trial):
            if not sp.kinks:
                continue
            pre = net.preactivations(sp.point)
            for l, i, j in sp.kinks:
                assert pre[l][i] == net.chain.acts[l][i].knots[j]
            y, jacobians = run([float(v) for v in sp.point])
            assert [Fraction(float(v)) for v in y] == list(net.evaluate(sp.point))
            expected = [list(r) for r in derivative(net, sp.point, convention).matrix]
            for J in jacobians:
                assert [[Fraction(float(v)) for v in row] for row in J] == expected, (kind, net, sp.point, sp.kinks)
            checked += 1
    return checked


def integer_net(n: int, widths: list[int], seed: int, top: int = 3, out_top: int = 2, outputs: int = 1) -> Network:
    """A deterministic ReLU net drawn by ``random.Random(seed)``: weights in [−top, top],
    biases halves of [−top, top], ``outputs`` outputs with weights in [−out_top, out_top]
    (the distributed tests' nets: long enough searches at small sizes)."""
    rng = random.Random(seed)
    layers, dim = [], n
    for w in widths:
        layers.append(affine([[rng.randint(-top, top) for _ in range(dim)] for _ in range(w)],
                             [Fraction(rng.randint(-top, top), 2) for _ in range(w)]))
        layers.append(activation("relu"))
        dim = w
    layers.append(affine([[rng.randint(-out_top, out_top) for _ in range(dim)] for _ in range(outputs)]))
    return Network.from_layers(n, layers)
