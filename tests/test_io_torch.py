"""torch modules in: evaluate like the module (float64), exactly on dyadic weights;
state dicts with a layer list; saved .pt files loaded safely; clear errors."""

import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
nn = torch.nn

from exactrelu.core.errors import InputError  # noqa: E402
from exactrelu.io.layers import InexactConversion  # noqa: E402
from exactrelu.io.torch import network_from_state_dict, network_from_torch, read_torch  # noqa: E402


def dyadic_(module, seed, scale=8):
    """Set every parameter to small multiples of 1/scale (float arithmetic on them is exact)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randint(-10, 11, p.shape, generator=g).double() / scale)
    return module


def same_as_torch(module, net, shape, trials=5, exact=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _ in range(trials):
        x = torch.randint(-4, 5, (1, *shape), generator=g).double() if exact else torch.randn((1, *shape), generator=g).double()
        want = module(x).detach().numpy().ravel()
        got = net.evaluate(x.numpy().ravel().tolist())
        if exact:
            assert [Fraction(float(w)) for w in want] == list(got)
        else:
            assert np.allclose([float(v) for v in got], want, rtol=1e-12, atol=1e-12)


def test_mlp_of_every_activation_is_exact_on_dyadic_weights():
    m = nn.Sequential(
        nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 4), nn.LeakyReLU(0.25), nn.Linear(4, 4), nn.PReLU(4),
        nn.Hardtanh(-1.5, 2.0), nn.Identity(), nn.Dropout(0.5), nn.Linear(4, 3), nn.ReLU6(), nn.Linear(3, 2), nn.PReLU(),
    ).double().eval()
    dyadic_(m, 1)
    net = network_from_torch(m)
    kinds = [layer.kind for layer in net.layers if hasattr(layer, "kind")]
    assert kinds == ["relu", "leaky_relu", "prelu", "hardtanh", "hardtanh", "leaky_relu"]
    same_as_torch(m, net, (3,))


def test_conv_net_with_pools_and_batchnorm_is_exact_on_dyadic_weights():
    m = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, groups=2), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 2, 2, stride=1, padding="same"), nn.AvgPool2d(2, stride=1), nn.Flatten(), nn.Linear(2, 3),
    ).double().eval()
    dyadic_(m, 2)
    bn = m[1]
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor([0.5, -0.25, 0.0, 1.0], dtype=torch.float64))
        bn.running_var.copy_(torch.tensor([0.25, 4.0, 1.0, 0.0625], dtype=torch.float64) - bn.eps)
    # the exact sum of the binary64 numbers (var - eps) and eps is not exactly var, so sqrt(var + eps)
    # is irrational here: the loader rounds it (and warns); compare to float64 accuracy
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InexactConversion)
        net = network_from_torch(m, (2, 4, 4))
    same_as_torch(m, net, (2, 4, 4), exact=False)


def test_batchnorm_with_square_variance_is_exact_and_irrational_one_warns():
    bn = nn.BatchNorm1d(2, eps=0.0).double().eval()
    with torch.no_grad():
        bn.running_var.copy_(torch.tensor([0.25, 4.0], dtype=torch.float64))
        bn.running_mean.copy_(torch.tensor([1.0, -2.0], dtype=torch.float64))
        bn.weight.copy_(torch.tensor([3.0, 0.5], dtype=torch.float64))
    m = nn.Sequential(nn.Linear(2, 2), bn, nn.ReLU()).double().eval()
    dyadic_(m[0], 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InexactConversion)
        net = network_from_torch(m)
    same_as_torch(m, net, (2,))
    bn2 = nn.BatchNorm1d(1).eval()  # var 1 + eps 1e-5: sqrt irrational
    with pytest.warns(InexactConversion, match="irrational for 1 of 1"):
        network_from_torch(nn.Sequential(nn.Linear(1, 1), bn2))


@settings(max_examples=25)
@given(st.integers(0, 10**6), st.sampled_from([nn.ReLU, nn.LeakyReLU, nn.Hardtanh]))
def test_random_float32_modules_evaluate_like_torch_in_float64(seed, act):
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Linear(3, 6), act(), nn.Linear(6, 4), act(), nn.Linear(4, 2)).eval()
    net = network_from_torch(m)  # float32 weights, read exactly
    same_as_torch(m.double(), net, (3,), exact=False, seed=seed)


def test_state_dict_with_layer_list():
    m = nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.5), nn.Linear(3, 1)).double()
    dyadic_(m, 4)
    net = network_from_state_dict(m.state_dict(), ["linear", {"type": "leaky_relu", "negative_slope": 0.5}, "linear"])
    same_as_torch(m, net, (2,))
    with pytest.raises(InputError, match="no parameters left"):
        network_from_state_dict(m.state_dict(), ["linear", "relu", "linear", "relu", "linear"])
    with pytest.raises(InputError, match="unused state dict entries: 2"):
        network_from_state_dict(m.state_dict(), ["linear", "relu"])
    with pytest.raises(InputError, match="layer type"):
        network_from_state_dict(m.state_dict(), ["linear", "sigmoid", "linear"])


def test_saved_files_load_with_weights_only(tmp_path):
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    dyadic_(m, 5)
    torch.save(m, tmp_path / "whole.pt")
    case = read_torch(str(tmp_path / "whole.pt"))
    same_as_torch(m.double(), case.network, (2,))
    torch.save({"state_dict": m.state_dict(), "layers": ["linear", "relu", "linear"]}, tmp_path / "sd.pth")
    assert read_torch(str(tmp_path / "sd.pth")).network.layers == case.network.layers
    torch.save(m.state_dict(), tmp_path / "bare.pt")
    with pytest.raises(InputError, match="does not say its activations"):
        read_torch(str(tmp_path / "bare.pt"))


class Custom(nn.Module):
    def forward(self, x):
        return x * 2


def test_unsupported_modules_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match=r"\[1\]: Sigmoid: the module is not supported"):
        network_from_torch(nn.Sequential(nn.Linear(2, 2), nn.Sigmoid()))
    with pytest.raises(InputError, match="input_shape"):
        network_from_torch(nn.Sequential(nn.Conv2d(1, 1, 2)))
    torch.save(nn.Sequential(nn.Linear(1, 1), Custom()), tmp_path / "custom.pt")
    with pytest.raises(InputError, match="weights_only=True") as e:
        read_torch(str(tmp_path / "custom.pt"))
    assert "custom.pt" in str(e.value)
