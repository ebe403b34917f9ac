"""The float operator graph against torch itself and against exact evaluation."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from exactrelu.core.errors import InputError
from exactrelu.core.network import Network, activation, affine
from exactrelu.floats.operators import (
    NUMPY_KERNELS,
    Activation,
    Gather,
    Linear,
    MaxPool,
    OperatorNetwork,
    avg_pool2d,
    expand_max_pools,
    from_network,
    max_groups,
    to_network,
)
from exactrelu.floats.torch import TorchArrays
from exactrelu.io.torch import operators_from_torch

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
    op = operators_from_torch(m, (2, 7, 9))
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
    op = operators_from_torch(m, (2, 7, 9))
    x = torch.randn(1, 126, dtype=torch.float64)
    want = torch.autograd.functional.jacobian(lambda z: m(z.reshape(1, 2, 7, 9)).reshape(-1), x.reshape(-1))
    assert np.abs(op.jacobian(x.numpy())[0] - want.numpy()).max() < 1e-12


def test_explicit_and_implicit_operators_agree():
    op = operators_from_torch(model(), (2, 7, 9))
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
    op = operators_from_torch(m, (1, 2, 2))
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


def test_bad_weights_and_shapes():
    with pytest.raises(InputError, match="finite"):
        Linear.create([[1.0, float("nan")]])
    with pytest.raises(InputError, match="finite"):
        Linear.create([[1.0, float("inf")]])
    with pytest.raises(InputError, match="expected an input of shape"):
        OperatorNetwork.build((3,), [Linear.create(np.ones((2, 4)))])
    with pytest.raises(InputError, match="activation of 2 neurons"):
        OperatorNetwork.build((3,), [Linear.create(np.ones((2, 3))), Activation.relu(3)])


# --------------------------------------------------------------------------- max-pool

POOLS = [
    nn.MaxPool2d(2),
    nn.MaxPool2d(3),
    nn.MaxPool2d(2, stride=1),  # overlapping windows
    nn.MaxPool2d(3, stride=1, padding=1),
    nn.MaxPool2d(3, stride=2, padding=1),
    nn.MaxPool2d((2, 3), stride=(1, 2), padding=(1, 0)),
    nn.MaxPool2d(2, stride=1, dilation=2),
    nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
    nn.MaxPool2d(2, ceil_mode=True),
]


def pooled(pool: nn.Module, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), pool, nn.Flatten()).double()


@pytest.mark.parametrize("pool", POOLS, ids=repr)
def test_max_pool_matches_torch(pool):
    m = pooled(pool)
    op = operators_from_torch(m, (2, 7, 6))
    x = torch.randn(6, 2, 7, 6, dtype=torch.float64)
    with torch.no_grad():
        want = m(x).numpy()
    flat = x.reshape(6, -1).numpy()
    assert np.abs(op.evaluate(flat) - want).max() < 1e-12  # a + (b − a): rounding only
    tk = TorchArrays("cpu")
    assert np.abs(tk.to_numpy(op.evaluate(tk.asarray(flat), tk)) - want).max() < 1e-12
    # the gradient of a max is the winner's (no ties at random points)
    xj = x[:1].reshape(-1)
    jac = torch.autograd.functional.jacobian(lambda z: m(z.reshape(1, 2, 7, 6)).reshape(-1), xj)
    assert np.abs(op.jacobian(xj.reshape(1, -1).numpy())[0] - jac.numpy()).max() < 1e-12
    assert all(0 <= a.lo.min() and a.hi.max() <= 1 for a in op.acts)


@pytest.mark.parametrize("max_pool", ["relu", "node"])
def test_max_pool_1d_matches_torch(max_pool):
    torch.manual_seed(3)
    for pool in (nn.MaxPool1d(3, stride=2, padding=1), nn.MaxPool1d(4), nn.MaxPool1d(2, stride=1, dilation=3)):
        m = nn.Sequential(pool, nn.Flatten(), nn.LazyLinear(2)).double()
        x = torch.randn(5, 2, 11, dtype=torch.float64)
        with torch.no_grad():
            want = m(x).numpy()
        op = operators_from_torch(m, (2, 11), max_pool=max_pool)
        assert np.abs(op.evaluate(x.reshape(5, -1).numpy()) - want).max() < 1e-12
        assert np.abs(op.jacobian(x[:1].reshape(1, -1).numpy())[0] - autograd_jacobian(m, x[0], (2, 11))).max() < 1e-12


def test_max_pool_ties_and_padding_by_hand():
    # one 3x3 window with padding 1 at the corner sees x[0:2, 0:2] only: padding never wins,
    # even when every entry is negative; ties give the common value
    m = nn.Sequential(nn.MaxPool2d(3, stride=2, padding=1))
    op = operators_from_torch(m, (1, 3, 3))
    x = -np.arange(1.0, 10.0).reshape(1, 9)  # [[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]]
    assert op.evaluate(x).tolist() == [[-1.0, -2.0, -4.0, -5.0]]
    assert op.evaluate(np.full((1, 9), 2.5)).tolist() == [[2.5] * 4]


def test_max_pool_exact_network_agrees_with_the_exact_loader():
    from exactrelu.io.torch import network_from_torch

    torch.manual_seed(2)
    m = nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.MaxPool2d(3, stride=1, padding=1), nn.Flatten(),
                      nn.Linear(18, 2))
    ours = to_network(operators_from_torch(m, (1, 4, 4)))
    theirs = network_from_torch(m, (1, 4, 4))
    # 3x3 windows (padding 1) on a 3x3 map: 4 corners of 4 entries, 4 edges of 6, a center of 9;
    # a halving keeps one neuron per entry (pairs give a and b − a, a leftover itself), then
    # ⌈n/2⌉ candidates: per channel 49 → 4·2 + 4·3 + 5 = 25 → 4 + 8 + 3 = 15 → 4 + 4 + 2 = 10
    assert [len(a) for a in ours.chain.acts] == [len(a) for a in theirs.chain.acts] == [18, 98, 50, 30, 20]
    rng = np.random.default_rng(5)
    for _ in range(20):
        x = [Fraction(int(v), 8) for v in rng.integers(-16, 17, 16)]
        assert ours.evaluate(x) == theirs.evaluate(x)
    for _ in range(5):
        x = [Fraction(float(v)) for v in rng.standard_normal(16)]
        assert ours.evaluate(x) == theirs.evaluate(x)


@settings(max_examples=30)
@given(st.lists(st.lists(st.integers(0, 6), min_size=1, max_size=6), min_size=1, max_size=4),
       st.lists(st.fractions(-5, 5, max_denominator=8), min_size=7, max_size=7))
def test_max_groups_is_the_max_exactly(groups, x):
    # groups may repeat an index: the max is still the max
    net = to_network(OperatorNetwork.build((7,), max_groups(groups, (7,), (len(groups),))))
    assert list(net.evaluate(x)) == [max(x[i] for i in g) for g in groups]


def test_float_bounds_cover_the_exact_ones_on_a_max_pool_net():
    from exactrelu.bounds import bounds as exact_bounds
    from exactrelu.floats import bounds as nb

    torch.manual_seed(4)
    m = nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2, 2))
    op = operators_from_torch(m, (1, 3, 3))
    net = to_network(op)
    assert op.widths == (8, 8, 4)
    for norm in ("1", "inf", "2"):
        exact = exact_bounds(net, norm, max_nodes=200_000)
        got = nb.bounds(op, norm, lower=False)
        implicit = nb.bounds(op, norm, lower=False, mode="implicit")
        for key in ("K_star", "K1", "K3", "K4", "K"):
            if key not in exact.values or key not in got.values:
                continue
            q = exact.values[key]
            lo = q.interval[0] if q.interval else q.value
            assert got[key].guarantee == "certified" and Fraction(got[key].value) >= Fraction(lo), (norm, key)
            if key in ("K_star", "K3"):
                assert Fraction(implicit[key].value) >= Fraction(lo), (norm, key)
        assert {"K_star", "K1", "K3"} <= set(got.values)
        if norm != "2":
            assert {"K4", "K"} <= set(got.values) and {"K_star", "K1", "K3", "K4"} <= set(exact.values)


def test_float_bounds_cover_the_exact_lipschitz_constant():
    from exactrelu.floats import bounds as nb
    from exactrelu.lipschitz import lipschitz

    # f(x) = 2·max(x0, x1) − max(x1, x2): ∇f is 2e0 − e1, 2e0 − e2, e1 or 2e1 − e2 by region,
    # so L∞ = max ‖∇f‖₁ = 3
    m = nn.Sequential(nn.MaxPool1d(2, stride=1), nn.Flatten(), nn.Linear(2, 1, bias=False)).double()
    with torch.no_grad():
        m[2].weight.copy_(torch.tensor([[2.0, -1.0]]))
    op = operators_from_torch(m, (1, 3))
    net = to_network(op)
    assert lipschitz(net, "inf").value.value == 3
    b = nb.bounds(op, "inf", samples=64)
    assert b["L_lower"].value <= 3 <= b["L_upper"].value
    for key in ("K_star", "K1", "K3", "K4", "K"):
        assert b[key].value >= 3
    # K lets the carried (identity) neurons be 0 too: with the stage (x0, x1 − x0, x1, x2 − x1)
    # and the pattern (0, 1, 0, 1), the row is 2(x1 − x0) − (x2 − x1) → [−2, 3, −1]: K = 6 > L
    assert 6 * (1 - 1e-12) <= b["K"].value <= 6 * (1 + 1e-12)


def test_max_pool_implicit_mode_runs_on_a_cnn():
    from exactrelu.floats import bounds as nb

    torch.manual_seed(6)
    m = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(48, 4))
    op = operators_from_torch(m, (1, 8, 8))
    for norm in ("1", "inf"):
        exp = nb.bounds(op, norm, lower=False)
        imp = nb.bounds(op, norm, lower=False, mode="implicit")
        for key in ("K_star", "K3"):
            assert imp[key].guarantee == "certified"
            assert imp[key].value >= exp[key].value * (1 - 1e-12)  # |B| <= Π|op| entrywise


def sparse_rows(rng: np.random.Generator, n_out: int, n_in: int) -> tuple[list[dict[int, float]], np.ndarray]:
    rows, dense = [], np.zeros((n_out, n_in))
    for i in range(n_out):
        cols = rng.choice(n_in, size=int(rng.integers(0, 4)), replace=False)
        vals = rng.standard_normal(len(cols))
        rows.append(dict(zip(cols.tolist(), vals.tolist())))
        dense[i, cols] = vals
    return rows, dense


def test_gather_apply_and_transpose_against_its_dense_matrix():
    rng = np.random.default_rng(7)
    tk = TorchArrays("cpu")
    for n_out, n_in in ((5, 3), (1, 6), (7, 7)):
        rows, dense = sparse_rows(rng, n_out, n_in)
        g = Gather.create(rows, (n_in,))
        assert np.array_equal(g.matrix(), dense)
        assert g.terms == max(1, max(len(r) for r in rows))
        assert g.terms_t == max(1, int((dense != 0).sum(axis=0).max()))
        x = rng.standard_normal((4, n_in))
        y = rng.standard_normal((4, n_out))
        assert np.abs(g.apply(x, NUMPY_KERNELS) - x @ dense.T).max() < 1e-12
        assert np.abs(g.apply_t(y, NUMPY_KERNELS) - y @ dense).max() < 1e-12
        assert np.abs(tk.to_numpy(g.apply(tk.asarray(x), tk)) - x @ dense.T).max() < 1e-12
        assert np.abs(tk.to_numpy(g.apply_t(tk.asarray(y), tk)) - y @ dense).max() < 1e-12
        assert np.array_equal(g.absolute().matrix(), np.abs(dense))


def test_gather_bad_input():
    with pytest.raises(InputError, match="input indices"):
        Gather.create([{3: 1.0}], (3,))
    with pytest.raises(InputError, match="finite"):
        Gather.create([{0: float("nan")}], (3,))
    with pytest.raises(InputError, match="rows"):
        Gather.create([{0: 1.0}], (3,), (2,))
    with pytest.raises(InputError, match="no input entry"):
        max_groups([[0], []], (2,), (2,))


def test_relu_or_identity_is_from_pieces():
    mask = [True, False, False, True]
    a = Activation.relu_or_identity(mask)
    b = Activation.from_pieces(4, [[0.0] if r else [] for r in mask], [[0.0, 1.0] if r else [1.0] for r in mask],
                               [0.0] * 4)
    for f in ("knots", "jumps", "slope0", "first", "value", "lo", "hi"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    assert a.slope_sets == b.slope_sets and a.kind == b.kind == "spline"
    z = np.array([[-1.5, -1.5, 2.0, 2.0]])
    assert a(z).tolist() == [[0.0, -1.5, 2.0, 2.0]] and a.slope(z).tolist() == [[0.0, 1.0, 1.0, 1.0]]


def test_max_pool_bounds_numpy_and_torch_agree():
    from exactrelu.floats import bounds as nb

    torch.manual_seed(8)
    m = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1), nn.Flatten(),
                      nn.Linear(18, 3))
    op = operators_from_torch(m, (1, 6, 6))
    for norm in ("1", "inf"):
        for mode in ("explicit", "implicit"):
            a = nb.bounds(op, norm, lower=False, mode=mode)
            b = nb.bounds(op, norm, device="cpu", lower=False, mode=mode, backend="torch")
            for key in ("K_star", "K1", "K3", "K4"):
                assert b[key].value == pytest.approx(a[key].value, rel=1e-12), (norm, mode, key)


# --------------------------------------------------------------------------- the native max-pool node


def autograd_jacobian(m: nn.Module, x: torch.Tensor, shape: tuple[int, ...]) -> np.ndarray:
    return torch.autograd.functional.jacobian(lambda z: m(z.reshape(1, *shape)).reshape(-1), x.reshape(-1)).numpy()


@pytest.mark.parametrize("pool", POOLS, ids=repr)
def test_max_pool_node_matches_torch(pool):
    m = pooled(pool)
    op = operators_from_torch(m, (2, 7, 6), max_pool="node")
    assert [type(l).__name__ for l in op.layers] == ["Conv2d", "Activation", "MaxPool", "Reshape"]
    assert op.max_pool_blocks == (1,) and op.widths == (2 * 7 * 6 * 3 // 2,)
    x = torch.randn(4, 2, 7, 6, dtype=torch.float64)
    with torch.no_grad():
        want = m(x).numpy()
    flat = x.reshape(4, -1).numpy()
    assert np.abs(op.evaluate(flat) - want).max() < 1e-12  # the conv's sums: rounding only; the max is exact
    tk = TorchArrays("cpu")
    assert np.abs(tk.to_numpy(op.evaluate(tk.asarray(flat), tk)) - want).max() < 1e-12
    J, Jt = op.jacobian(flat), tk.to_numpy(op.jacobian(tk.asarray(flat), tk))
    for b in range(4):
        jac = autograd_jacobian(m, x[b], (2, 7, 6))
        assert np.abs(J[b] - jac).max() < 1e-12 and np.abs(Jt[b] - jac).max() < 1e-12


def test_max_pool_node_ties_follow_torch():
    # torch's CPU kernel gives a tied window's gradient to its first maximum (scan order); so does the node
    m = nn.Sequential(nn.MaxPool2d(2, stride=1), nn.Flatten()).double()
    op = operators_from_torch(m, (1, 3, 3), max_pool="node")
    for x in (np.zeros(9), np.array([1.0, 2.0, 2.0, 0.0, 2.0, 2.0, 1.0, 2.0, 0.0]), np.ones(9)):
        jac = autograd_jacobian(m, torch.tensor(x), (1, 3, 3))
        assert np.array_equal(op.jacobian(x.reshape(1, -1))[0], jac)
    assert np.array_equal(op.jacobian(np.zeros((1, 9)))[0][:, 0], [1.0, 0.0, 0.0, 0.0])  # by hand: window 0 → x0


def test_max_pool_node_is_the_relu_expansion_exactly():
    torch.manual_seed(2)
    m = nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.MaxPool2d(3, stride=1, padding=1), nn.Flatten(),
                      nn.Linear(18, 2))
    node = operators_from_torch(m, (1, 4, 4), max_pool="node")
    ours, theirs = to_network(node), to_network(operators_from_torch(m, (1, 4, 4)))
    assert [len(a) for a in ours.chain.acts] == [len(a) for a in theirs.chain.acts] == [18, 98, 50, 30, 20]
    assert ours.chain.affines == theirs.chain.affines  # the same exact layers, not only the same function
    rng = np.random.default_rng(5)
    for _ in range(10):
        x = [Fraction(float(v)) for v in rng.standard_normal(16)]
        assert ours.evaluate(x) == theirs.evaluate(x)
        # and the float node agrees with the exact max (the conv's rounding aside)
        assert np.abs(node.evaluate(np.array([x], dtype=float))[0] - np.array(ours.evaluate(x), dtype=float)).max() \
            < 1e-12


def test_max_pool_node_bounds_by_brute_force():
    rng = np.random.default_rng(11)
    groups = [[0, 1, 3], [1, 2], [2, 3, 4], [4]]
    p = MaxPool.create(groups, (5,))
    assert p.overlap == 2 == max(sum(j in g for g in groups) for j in range(5))
    assert p.groups() == groups and p.terms_t == 2 and p.absolute() is p
    A = np.array([[float(j in g) for j in range(5)] for g in groups])
    for _ in range(20):
        v, w = rng.random((1, 5)), rng.random((1, 4))
        mx, wt = p.apply(v, NUMPY_KERNELS), p.apply_t(w, NUMPY_KERNELS)
        assert mx.tolist() == [[max(v[0, j] for j in g) for g in groups]]
        assert np.abs(wt - w @ A).max() < 1e-15
        for choice in np.ndindex(*(len(g) for g in groups)):  # every selection S
            S = np.zeros((4, 5))
            S[np.arange(4), [g[c] for g, c in zip(groups, choice)]] = 1.0
            assert np.all(mx >= v @ S.T) and np.all(wt >= w @ S - 1e-15)
    tk = TorchArrays("cpu")
    v = rng.standard_normal((3, 5))
    assert np.array_equal(tk.to_numpy(p.apply(tk.asarray(v), tk)), p.apply(v, NUMPY_KERNELS))
    assert np.abs(tk.to_numpy(p.apply_t(tk.asarray(v[:, :4]), tk)) - p.apply_t(v[:, :4], NUMPY_KERNELS)).max() < 1e-15


def test_max_pool_node_bad_input():
    m = nn.Sequential(nn.Conv2d(1, 1, 2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4, 1))
    with pytest.raises(InputError, match="max_pool 'relu' or 'node'"):
        operators_from_torch(m, (1, 5, 5), max_pool="native")
    op = operators_from_torch(m, (1, 5, 5), max_pool="node")
    with pytest.raises(InputError, match="not affine"):
        op.block_matrix(1)
    with pytest.raises(InputError, match="not affine"):
        op.block_apply(1, np.eye(16), NUMPY_KERNELS)
    assert op.block_apply(1, np.ones((1, 16)), NUMPY_KERNELS, absolute=True).shape == (1, 1)
    with pytest.raises(InputError, match="no input entry"):
        MaxPool.create([[0], []], (2,))
    with pytest.raises(InputError, match="input indices"):
        MaxPool.create([[0, 2]], (2,))
    plain = operators_from_torch(m, (1, 5, 5))
    assert expand_max_pools(plain) is plain


@settings(max_examples=30)
@given(st.lists(st.lists(st.integers(0, 6), min_size=1, max_size=6), min_size=1, max_size=4),
       st.lists(st.integers(-3, 3), min_size=7, max_size=7))
def test_max_pool_node_against_the_definition(groups, x):
    # small integers: ties are common; the gradient goes to the first maximum of each window
    node = OperatorNetwork.build((7,), [MaxPool.create(groups, (7,))])
    xf = np.array([x], dtype=float)
    assert node.evaluate(xf).tolist() == [[float(max(x[i] for i in g)) for g in groups]]
    first = [g[[x[i] for i in g].index(max(x[i] for i in g))] for g in groups]
    assert node.jacobian(xf)[0].tolist() == [[float(j == f) for j in range(7)] for f in first]
    assert list(to_network(node).evaluate([Fraction(v) for v in x])) == [max(x[i] for i in g) for g in groups]
