"""The ``torch`` convention equals torch autograd (float64) exactly at points on kinks.

Random networks with dyadic weights, biases, knots and points keep every float64
operation exact, so torch sees exactly the rational point and the kink: the test asserts
that a neuron's exact pre-activation is at its knot and that torch's forward pass equals
the exact value, then compares the full Jacobian entry by entry, with no tolerance.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from preset_nets import KINDS, random_net

torch = pytest.importorskip("torch")

from exactrelu.calculus import derivative  # noqa: E402
from exactrelu.oracle import from_torch, sample_points, torch_model  # noqa: E402

@pytest.mark.parametrize("kind", KINDS)
def test_torch_preset_equals_torch_autograd_on_kinks(kind):
    rng = random.Random(KINDS.index(kind))
    checked = 0
    for trial in range(12):
        net = random_net(rng, kind)
        model = torch_model(net)
        run = from_torch(model)
        for sp in sample_points(net, 8, seed=trial):
            if not sp.kinks:
                continue
            x = sp.point
            # the exact pre-activation is at the knot, and torch computes the exact values
            pre = net.preactivations(x)
            for l, i, j in sp.kinks:
                assert pre[l][i] == net.chain.acts[l][i].knots[j]
            y, J = run([float(v) for v in x])
            exact_y = net.evaluate(x)
            assert [Fraction(v) for v in y] == list(exact_y)
            expected = derivative(net, x, "torch").matrix
            assert [[Fraction(v) for v in row] for row in J] == [list(r) for r in expected], (net, x, sp.kinks)
            checked += 1
    assert checked >= 20, f"only {checked} kink points for {kind}"


def test_torch_modules_chosen():
    rng = random.Random(5)
    names = {type(m).__name__ for kind in KINDS for m in torch_model(random_net(rng, kind))}
    assert {"ReLU", "LeakyReLU", "PReLU", "Hardtanh", "TorchAbs", "TorchSpline", "Linear"} <= names


def test_torch_clamp_and_maximum_differ_from_hardtanh_at_the_bound():
    """What the corpus (cases/frameworks) records about other torch ops, checked here."""
    x = torch.tensor([1.0, -1.0], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.hardtanh(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    x.grad = None
    torch.clamp(x, -1, 1).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    a = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    torch.maximum(a, b).backward()
    assert (a.grad.item(), b.grad.item()) == (0.5, 0.5)
