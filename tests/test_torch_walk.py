"""One torch walker, two builders: for every supported module kind the exact `Network`
(`network_from_torch`) and the float operator graph (`operators_from_torch`) are the same
function as torch's own forward pass; both reject the same modules with the same error,
naming the module path."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from exactrelu.core.errors import InputError  # noqa: E402
from exactrelu.floats.operators import to_network  # noqa: E402
from exactrelu.io.torch import describe, network_from_torch, operators_from_torch  # noqa: E402


def dyadic_(m: nn.Module, seed: int) -> nn.Module:
    """Every parameter a small multiple of 1/8; batch norms get eps = 1/4 and running
    variances with var + eps in {1, 4, 16}, so that sqrt(var + eps) and the float folding
    are exact: then torch, the exact network and the float graph compute the same numbers."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randint(-10, 11, p.shape, generator=g).double() / 8)
        for bn in m.modules():
            if isinstance(bn, nn.modules.batchnorm._BatchNorm):
                bn.eps = 0.25
                bn.running_mean.copy_(torch.randint(-8, 9, bn.running_mean.shape, generator=g).double() / 4)
                squares = torch.tensor([1.0, 4.0, 16.0], dtype=torch.float64)
                bn.running_var.copy_(squares[torch.randint(0, 3, bn.running_var.shape, generator=g)] - 0.25)
    return m.double().eval()


def S(*mods: nn.Module) -> nn.Sequential:
    return nn.Sequential(*mods)


# (id, module, input shape without the batch axis); every supported kind and option
MODULES = [
    ("mlp-activations", lambda: S(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 4), nn.LeakyReLU(0.25), nn.Linear(4, 4),
                                  nn.PReLU(4), nn.Hardtanh(-1.5, 2.0), nn.Identity(), nn.Dropout(0.5),
                                  nn.Linear(4, 3), nn.ReLU6(), nn.Linear(3, 2), nn.PReLU()), (3,)),
    ("linear-on-rows", lambda: S(nn.Unflatten(1, (2, 3)), nn.Linear(3, 4), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2)),
     (6,)),
    ("linear-on-a-1x1-map", lambda: S(nn.Conv2d(1, 1, 2), nn.Linear(3, 2), nn.ReLU()), (1, 2, 4)),
    ("nested", lambda: S(nn.Linear(2, 4), S(nn.ReLU(), S(nn.Linear(4, 3), nn.LeakyReLU(0.5))), nn.Linear(3, 1)),
     (2,)),
    ("conv1d", lambda: S(nn.Conv1d(2, 4, 3, stride=2, padding=1, groups=2), nn.ReLU(),
                         nn.Conv1d(4, 2, 2, dilation=2), nn.Flatten()), (2, 9)),
    ("conv1d-same-even", lambda: S(nn.Conv1d(1, 2, 4, padding="same"), nn.PReLU(2), nn.Conv1d(2, 1, 2, padding="valid")),
     (1, 7)),
    ("conv2d", lambda: S(nn.Conv2d(2, 4, 3, stride=(2, 1), padding=(1, 0)), nn.ReLU(),
                         nn.Conv2d(4, 4, (2, 3), groups=2, dilation=(1, 2), padding=1), nn.Flatten(start_dim=2)),
     (2, 6, 7)),
    ("conv2d-same-asymmetric", lambda: S(nn.Conv2d(1, 2, (2, 3), padding="same", dilation=(1, 2)), nn.ReLU(),
                                         nn.Conv2d(2, 2, 2, padding="same")), (1, 5, 6)),
    ("avgpool2d", lambda: S(nn.Conv2d(1, 2, 1), nn.AvgPool2d(2, stride=1, padding=1), nn.ReLU(),
                            nn.AvgPool2d((2, 4), stride=2)), (1, 4, 6)),
    ("avgpool2d-ceil-exclude-pad", lambda: S(nn.AvgPool2d(2, padding=1, ceil_mode=True, count_include_pad=False),
                                             nn.ReLU(), nn.AvgPool2d(2, ceil_mode=True)), (2, 5, 4)),
    ("avgpool1d", lambda: S(nn.AvgPool1d(2, stride=1, padding=1, count_include_pad=False), nn.ReLU(),
                            nn.AvgPool1d(4, stride=5, ceil_mode=True), nn.AvgPool1d(2)), (2, 11)),
    ("maxpool2d", lambda: S(nn.Conv2d(1, 2, 2, padding=1), nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
                            nn.ReLU(), nn.MaxPool2d(2, stride=1, dilation=2)), (1, 7, 6)),
    ("maxpool2d-dilated-padding", lambda: S(nn.MaxPool2d(2, stride=2, padding=1, dilation=2)), (1, 5, 5)),
    ("maxpool1d", lambda: S(nn.MaxPool1d(3, stride=2, padding=1), nn.Hardtanh(-1, 1), nn.MaxPool1d(2, dilation=2)),
     (2, 10)),
    ("batchnorm", lambda: S(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Unflatten(1, (2, 2)),
                            nn.BatchNorm1d(2, affine=False), nn.Flatten(), nn.Linear(4, 2)), (3,)),
    ("batchnorm2d", lambda: S(nn.Conv2d(2, 3, 2), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(27, 2)),
     (2, 4, 4)),
]


def points(shape: tuple[int, ...], seed: int, n: int = 4) -> torch.Tensor:
    """Dyadic points: multiples of 1/4 in [-2, 2]."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(-8, 9, (n, *shape), generator=g).double() / 4


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's, about its own speed
@pytest.mark.parametrize("build, shape", [pytest.param(b, s, id=i) for i, b, s in MODULES])
def test_exact_and_float_builders_compute_the_same_function_as_torch(build, shape):
    m = dyadic_(build(), seed=len(shape))
    exact = network_from_torch(m, shape)
    graphs = {mp: operators_from_torch(m, shape, max_pool=mp) for mp in ("relu", "node")}
    x = points(shape, 1)
    with torch.no_grad():
        want = m(x).reshape(len(x), -1).numpy()
    for mp, op in graphs.items():
        rebuilt = to_network(op)
        assert rebuilt.input_dim == exact.input_dim and rebuilt.output_dim == exact.output_dim
        for xi, wi in zip(x.reshape(len(x), -1).tolist(), want):
            xq = [Fraction(v) for v in xi]
            e = list(exact.evaluate(xq))
            assert e == [Fraction(float(w)) for w in wi]  # dyadic: torch's float64 sums are exact
            assert list(rebuilt.evaluate(xq)) == e, mp
        assert np.array_equal(op.evaluate(x.reshape(len(x), -1).numpy()), want), mp
    # at random points (no ties): the float graph and its Jacobian against torch in float64
    xr = torch.randn((3, *shape), generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    with torch.no_grad():
        want = m(xr).reshape(3, -1).numpy()
    for mp, op in graphs.items():
        assert np.abs(op.evaluate(xr.reshape(3, -1).numpy()) - want).max() < 1e-12, mp
        jac = torch.autograd.functional.jacobian(lambda z: m(z.reshape(1, *shape)).reshape(-1), xr[0].reshape(-1))
        assert np.abs(op.jacobian(xr[:1].reshape(1, -1).numpy())[0] - jac.numpy()).max() < 1e-12, mp
    e = np.array([float(v) for v in exact.evaluate([Fraction(v) for v in xr[0].reshape(-1).tolist()])])
    assert np.abs(e - want[0]).max() < 1e-12


def test_float_graph_rounds_only_the_computed_coefficients():
    # a 3-wide average: the exact network divides by 3 exactly, the float graph multiplies by
    # float64(1/3) (its stated semantics); they differ by that rounding only
    m = S(nn.AvgPool1d(3)).double()
    x = [Fraction(1), Fraction(1), Fraction(1)]
    exact = network_from_torch(m, (1, 3)).evaluate(x)
    rebuilt = to_network(operators_from_torch(m, (1, 3))).evaluate(x)
    assert exact == (Fraction(1),)
    assert rebuilt == (3 * Fraction(1.0 / 3),) != exact


def test_native_operators_where_torch_has_them():
    # the float graph keeps a plain conv, pool and linear native (no Gather)
    m = S(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 1))
    kinds = [type(layer).__name__ for layer in operators_from_torch(m, (1, 8, 8), max_pool="node").layers]
    assert kinds == ["Conv2d", "Activation", "Conv2d", "MaxPool", "Reshape", "Linear"]


def test_training_mode_is_read_as_eval_mode():
    m = dyadic_(S(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Dropout(0.5), nn.ReLU(), nn.Linear(3, 1)), 5)
    m.train()
    exact, op = network_from_torch(m), operators_from_torch(m)
    m.eval()
    x = points((2,), 3)
    with torch.no_grad():
        want = m(x).numpy()
    for xi, wi in zip(x.tolist(), want):
        assert list(exact.evaluate([Fraction(v) for v in xi])) == [Fraction(float(w)) for w in wi]
    assert np.array_equal(op.evaluate(x.numpy()), want)


class Double(nn.Module):
    def forward(self, x):
        return 2 * x


def with_nan() -> nn.Sequential:
    m = S(nn.Linear(2, 2), S(nn.ReLU(), nn.Linear(2, 1)))
    with torch.no_grad():
        m[1][1].weight[0, 1] = float("nan")
    return m


BAD = [
    (lambda: S(nn.Linear(2, 2), nn.Sigmoid()), (2,), "[1]", "Sigmoid: the module is not supported"),
    (lambda: S(nn.Conv2d(1, 1, 2), nn.AdaptiveMaxPool2d(1)), (1, 4, 4), "[1]", "AdaptiveMaxPool2d: the module is not"),
    (lambda: S(nn.Linear(2, 2), Double()), (2,), "[1]", "Double: the module is not supported"),
    (lambda: S(nn.Linear(5, 2)), (4,), "[0]", "expected 5 input features on the last axis"),
    (lambda: S(nn.Unflatten(1, (2, 2)), nn.Linear(4, 1)), (4,), "[1]", "expected 4 input features"),
    (with_nan, (2,), "[1][1].weight", r"expected finite numbers, got nan at index \[0, 1\]"),
    (lambda: S(nn.Conv2d(1, 1, 2), nn.MaxPool2d(2, return_indices=True)), (1, 4, 4), "[1]", "return_indices"),
    (lambda: S(nn.Conv2d(1, 1, 2), nn.MaxPool2d(2, padding=2)), (1, 4, 4), "[1]", "at most half the kernel"),
    (lambda: S(nn.MaxPool2d(2, padding=2, dilation=2)), (1, 4, 4), "[0]", r"at most half the kernel \(\[1, 1\]\)"),
    (lambda: S(nn.Conv2d(1, 1, 2), nn.MaxPool2d(4)), (1, 4, 4), "[1]", r"window \(4, 4\) does not fit"),
    (lambda: S(nn.Conv2d(1, 1, 1), nn.MaxPool2d(2, dilation=5, padding=1)), (1, 4, 4), "[1]", "no input entry"),
    (lambda: S(nn.Conv2d(1, 1, 2), nn.Flatten(), nn.MaxPool2d(2)), (1, 4, 4), "[2]", r"shape \(C, H, W\)"),
    (lambda: S(nn.MaxPool1d(2)), (1, 4, 4), "[0]", r"shape \(C, L\)"),
    (lambda: S(nn.AvgPool2d(2, divisor_override=3)), (1, 4, 4), "[0]", "divisor_override"),
    (lambda: S(nn.AvgPool1d(2, padding=2)), (1, 6), "[0]", "at most half the kernel"),
    (lambda: S(nn.Conv2d(1, 1, 2, padding_mode="reflect")), (1, 4, 4), "[0]", "padding_mode 'reflect'"),
    (lambda: S(nn.Conv2d(2, 1, 2)), (1, 4, 4), "[0].weight", "expected 1 input channels"),
    (lambda: S(nn.Conv1d(1, 1, 5, dilation=2)), (1, 6), "[0]", "does not fit the input"),
    (lambda: S(nn.Conv2d(1, 1, 2)), (4,), "[0]", r"shape \(C, H, W\)"),
    (lambda: S(nn.BatchNorm1d(3, track_running_stats=False)), (3,), "[0]", "running statistics"),
    (lambda: S(nn.BatchNorm2d(3)), (3,), "[0]", r"shape \(C, H, W\)"),
    (lambda: S(nn.BatchNorm1d(3)), (4,), "[0]", "expected 3 channels"),
    (lambda: S(nn.PReLU(3)), (4,), "[0]", "expected 3 channels"),
    (lambda: S(nn.Flatten(0)), (2, 2), "[0]", "start_dim after the batch axis"),
    (lambda: S(nn.Flatten(1, 3)), (2, 2), "[0]", r"end_dim in \[-3, 3\)"),
    (lambda: S(nn.Unflatten(1, (3, 2))), (4,), "[0]", "unflattened_size of 4 entries"),
]


@pytest.mark.parametrize("build, shape, path, match", BAD, ids=[f"{i}-{b[3][:24]}" for i, b in enumerate(BAD)])
def test_both_builders_reject_the_same_modules_naming_the_module_path(build, shape, path, match):
    m = build()
    errors = []
    for make in (network_from_torch, operators_from_torch, lambda m, s: operators_from_torch(m, s, max_pool="node")):
        with pytest.raises(InputError, match=match) as e:
            make(m, shape)
        errors.append(e.value)
    assert all(str(err) == str(errors[0]) for err in errors)
    assert errors[0].path == path


def test_describe_resolves_the_options():
    [c] = describe(S(nn.Conv2d(1, 1, (2, 3), padding="same", dilation=(3, 1))), (1, 5, 5))
    # same: total padding d·(k − 1) = (3, 2), begin ⌊total/2⌋ = (1, 1), end the rest (2, 1)
    assert (c.kind, c.pads, c.dilation, c.stride, c.out_shape) == ("conv", (1, 1, 2, 1), (3, 1), (1, 1), (1, 5, 5))
    [p] = describe(S(nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)), (2, 6, 6))
    # ⌈(6 + 2 − 3) / 2⌉ + 1 = 4 per axis; the last window starts at 5 < 6 + 1: kept
    assert (p.kind, p.kernel, p.stride, p.pads, p.out_shape) == ("avg_pool", (3, 3), (2, 2), (1, 1, 1, 1), (2, 4, 4))
    assert [leaf.kind for leaf in describe(S(nn.Identity(), nn.Dropout(), nn.ReLU6()), (3,))] == ["hardtanh"]
