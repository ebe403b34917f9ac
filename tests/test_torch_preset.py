"""The ``torch`` convention equals torch autograd (float64) exactly at points on kinks.

Random networks with dyadic weights, biases, knots and points keep every float64
operation exact, so torch sees exactly the rational point and the kink: the test asserts
that a neuron's exact pre-activation is at its knot and that torch's forward pass equals
the exact value, then compares the full Jacobian entry by entry, with no tolerance.
"""

from __future__ import annotations

import random

import pytest
from preset_nets import KINDS, check_kink_points, random_net

torch = pytest.importorskip("torch")

from exactrelu.oracle import from_torch, torch_model  # noqa: E402


@pytest.mark.parametrize("kind", KINDS)
def test_torch_preset_equals_torch_autograd_on_kinks(kind):
    def build(net):
        run = from_torch(torch_model(net))
        return lambda x: (lambda y, J: (y, [J]))(*run(x))

    checked = check_kink_points(kind, KINDS.index(kind), "torch", build)
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
