"""The float operator graph against torch itself and against exact evaluation."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from exactrelu.backends.torch import TorchArrays
from exactrelu.errors import InputError
from exactrelu.network import Network, activation, affine
from exactrelu.operators import (
    NUMPY_KERNELS,
    Activation,
    Linear,
    OperatorNetwork,
    avg_pool2d,
    from_network,
    from_torch,
    to_network,
)

nn = torch.nn


def model() -> nn.Sequential:
    torch.manual_seed(1)
    m = nn.Sequential(
        nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.LeakyReLU(0.125),
        nn.Conv2d(4, 4, (2, 3), stride=(1, 2), padding=(1, 0), groups=2), nn.BatchNorm2d(4), nn.ReLU(),
        nn.AvgPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(8, 5), nn.Hardtanh(-1, 2), nn.Linear(5, 3),
    ).eval()
    with torch.no_grad():
        m[3].running_mean.uniform_(-1, 1)
        m[3].running_var.uniform_(0.5, 2)
    return m.double()


def test_forward_matches_torch():
    m = model()
    op = from_torch(m, (2, 7, 9))
    x = torch.randn(5, 2, 7, 9, dtype=torch.float64)
    with torch.no_grad():
        want = m(x).numpy()
    got = op.evaluate(x.reshape(5, -1).numpy())
    assert np.abs(got - want).max() < 1e-12
    tk = TorchArrays("cpu")
    got_t = tk.to_numpy(op.evaluate(tk.asarray(x.reshape(5, -1).numpy()), tk))
    assert np.abs(got_t - want).max() < 1e-12


def test_jacobian_matches_autograd():
    m = model()
    op = from_torch(m, (2, 7, 9))
    x = torch.randn(1, 126, dtype=torch.float64)
    want = torch.autograd.functional.jacobian(lambda z: m(z.reshape(1, 2, 7, 9)).reshape(-1), x.reshape(-1))
    assert np.abs(op.jacobian(x.numpy())[0] - want.numpy()).max() < 1e-12


def test_explicit_and_implicit_operators_agree():
    op = from_torch(model(), (2, 7, 9))
    tk = TorchArrays("cpu")
    rng = np.random.default_rng(0)
    for block in op.blocks:
        for o in block:
            M = o.matrix()
            x = rng.standard_normal((3, M.shape[1]))
            y = rng.standard_normal((3, M.shape[0]))
            assert np.abs(o.apply(x, NUMPY_KERNELS) - x @ M.T).max() < 1e-12
            assert np.abs(o.apply_t(y, NUMPY_KERNELS) - y @ M).max() < 1e-12
            assert np.abs(tk.to_numpy(o.apply_t(tk.asarray(y), tk)) - y @ M).max() < 1e-12
            assert np.array_equal(o.absolute().matrix(), np.abs(M))


def test_avg_pool_matrix_by_hand():
    p = avg_pool2d((1, 4, 4), 2)
    M = p.matrix()
    assert M.shape == (4, 16)
    assert M[0].tolist() == [0.25, 0.25, 0, 0, 0.25, 0.25, 0, 0] + [0] * 8
    assert np.all(M.sum(axis=1) == 1) and np.all(M.sum(axis=0) == 0.25)


def test_to_network_is_exact_on_the_floats():
    m = nn.Sequential(nn.Conv2d(1, 2, 2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(18, 2)).double()
    op = from_torch(m, (1, 2, 2))
    net = to_network(op)
    x = [Fraction(1, 2), Fraction(-3, 4), Fraction(1), Fraction(1, 8)]
    exact = net.evaluate(x)
    fl = op.evaluate(np.array([[float(v) for v in x]]))[0]
    assert all(abs(float(e) - f) < 1e-12 for e, f in zip(exact, fl))
    w = m[0].weight.detach().numpy()
    assert net.chain.affines[0].weight[0][0] == Fraction(float(w[0, 0, 1, 1]))  # output (0,0,0) sees x[0,0] via w[1,1]


def test_from_network_round_trip():
    net = Network.from_layers(2, [affine([[1, "1/2"], [-1, 2]], [0, 1]), activation("hardtanh", min=-1, max=1),
                                  affine([[1, 1]])])
    op = from_network(net)
    for x in ([0.5, -0.25], [3.0, 1.0], [-2.0, 0.125]):
        assert float(net.evaluate(x)[0]) == pytest.approx(float(op.evaluate(np.array([x]))[0, 0]), abs=1e-15)
    back = to_network(op)
    assert back.evaluate([Fraction(1, 2), Fraction(1, 3)]) == net.evaluate([Fraction(1, 2), Fraction(1, 3)])


@pytest.mark.parametrize("bad, match", [
    (nn.Sequential(nn.Conv2d(1, 1, 2), nn.MaxPool2d(2)), "max-pool"),
    (nn.Sequential(nn.Linear(4, 2), nn.Sigmoid()), "unsupported layer Sigmoid"),
    (nn.Sequential(nn.Linear(5, 2)), "expected 5 inputs"),
    (nn.Sequential(nn.Conv2d(1, 1, 2, dilation=2)), "dilation"),
])
def test_bad_models(bad, match):
    with pytest.raises(InputError, match=match):
        from_torch(bad, (1, 4, 4) if isinstance(bad[0], nn.Conv2d) else (4,))


def test_bad_weights_and_shapes():
    with pytest.raises(InputError, match="finite"):
        Linear.create([[1.0, float("nan")]])
    with pytest.raises(InputError, match="finite"):
        Linear.create([[1.0, float("inf")]])
    with pytest.raises(InputError, match="expected an input of shape"):
        OperatorNetwork.build((3,), [Linear.create(np.ones((2, 4)))])
    with pytest.raises(InputError, match="activation of 2 neurons"):
        OperatorNetwork.build((3,), [Linear.create(np.ones((2, 3))), Activation.relu(3)])
    m = nn.Sequential(nn.BatchNorm1d(3))
    with pytest.raises(InputError, match="eval"):
        from_torch(m, (3,))
