"""The float backends: certified bounds never below the exact ones, numpy and torch agree.

Exact references: `exactrelu.bounds` (exact rationals / certified algebraic
intervals) and, for K, a brute force over all 0/1 patterns in Fractions written here
from the definition.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from exactrelu.bounds import bounds as exact_bounds
from exactrelu.core.errors import InputError
from exactrelu.core.network import Network, activation, affine
from exactrelu.floats import bounds as nb
from exactrelu.floats import torch as tb
from exactrelu.io.torch import operators_from_torch
from exactrelu.strategies import networks

# A certified float bound may exceed the exact value by rounding only: relative 1e-9 for
# ℓ1/ℓ∞; for ℓ2 the Gram iteration stops at relative 1e-4 above its power-iteration
# estimate, so 1e-3 is the stated factor.
FACTOR = {"1": 1 + 1e-9, "inf": 1 + 1e-9, "2": 1 + 1e-3}


def hat() -> Network:
    return Network.from_layers(1, [affine([[1], [1], [1]], [0, "-1/2", -1]), activation("relu"),
                                   affine([[2, -4, 2]])])


def brute_k(net: Network, norm: str) -> Fraction | float:
    """max over all 0/1 diagonals of ‖W_ℓ D_ℓ … W_0‖, from the definition (ℓ1/ℓ∞ exact)."""
    ws = [[list(row) for row in a.weight] for a in net.chain.affines]
    widths = [len(w) for w in ws[:-1]]
    best: Fraction | float = 0
    for bits in itertools.product((0, 1), repeat=sum(widths)):
        M = ws[0]
        pos = 0
        for l, w in enumerate(widths):
            d = bits[pos:pos + w]
            pos += w
            M = [[d[i] * v for v in M[i]] for i in range(w)]
            W = ws[l + 1]
            M = [[sum((W[r][k] * M[k][c] for k in range(w)), Fraction(0)) for c in range(len(M[0]))]
                 for r in range(len(W))]
        if norm == "inf":
            val = max(sum((abs(v) for v in row), Fraction(0)) for row in M)
        elif norm == "1":
            val = max(sum((abs(M[r][c]) for r in range(len(M))), Fraction(0)) for c in range(len(M[0])))
        else:
            val = float(np.linalg.norm(np.array([[float(v) for v in row] for row in M]), 2))
        best = max(best, val)
    return best


relu_like = networks(max_input_dim=3, max_width=3, max_hidden_layers=3, kinds=("relu", "leaky_relu"))


@settings(max_examples=40)
@given(relu_like, st.sampled_from(["1", "inf"]))
def test_certified_bounds_at_least_exact_l1_linf(net, norm):
    exact = exact_bounds(net, norm, max_nodes=5000)
    got = nb.bounds(net, norm, lower=False)
    for key in ("K_star", "K1", "K3", "K4"):
        if key not in exact.values:
            assert key in got.undefined
            continue
        e = exact.values[key].value
        g = Fraction(got[key].value)
        assert got[key].guarantee == "certified" and got[key].upper
        assert g >= e, (key, g, e)
        # within the stated factor, plus the absolute rounding of signed products, which is
        # relative to the factors' norms (K_star), not to a cancelled result
        slack = Fraction(1, 10**12) * exact.values["K_star"].value + Fraction(1, 10**290)
        assert g <= e * Fraction(FACTOR[norm]) + slack, (key, float(g), float(e))
    # seed 004's chain on the certified values (each within rounding of the exact one)
    v = {k: got[k].value for k in ("K_star", "K1", "K3", "K4") if k in got}
    if len(v) == 4:
        slack = 1e-12 * float(exact.values["K_star"].value) + 1e-290  # rounding of cancelled products
        assert v["K4"] <= min(v["K1"], v["K3"]) * FACTOR[norm] + slack
        assert max(v["K1"], v["K3"]) <= v["K_star"] * FACTOR[norm] + slack


@settings(max_examples=15)
@given(networks(max_input_dim=2, max_width=2, max_hidden_layers=2, kinds=("relu",)))
def test_certified_bounds_at_least_exact_l2(net):
    exact = exact_bounds(net, "2", max_nodes=5000)
    got = nb.bounds(net, "2", lower=False)
    for key in ("K_star", "K1", "K3"):
        hi = exact.values[key].interval[1] if exact.values[key].interval else exact.values[key].value
        lo = exact.values[key].interval[0] if exact.values[key].interval else exact.values[key].value
        g = Fraction(got[key].value)
        assert g >= lo, (key, float(g), float(lo))
        slack = Fraction(1, 10**12) * Fraction(exact.values["K_star"].value) + Fraction(1, 10**290)
        assert g <= Fraction(hi) * Fraction(FACTOR["2"]) + slack
    # SeqLip ≥ max over patterns = K ≥ L, certified
    k = exact.values["K"]
    assert got["K2"].guarantee == "certified"
    assert Fraction(got["K2"].value) >= (k.interval[0] if k.interval else k.value)


@settings(max_examples=25)
@given(relu_like, st.sampled_from(["1", "inf", "2"]))
def test_float32_segment_products_stay_certified(net, norm):
    """precision="float32" runs the segment products in binary32: every bound still ≥ the
    exact value, and looser than float64's by at most ~width·2⁻²⁴ per product."""
    exact = exact_bounds(net, norm, max_nodes=5000)
    got = nb.bounds(net, norm, lower=False, precision="float32")
    assert got.diagnostics["precision"] == "float32"
    for key in ("K_star", "K1", "K3", "K4"):
        if key not in exact.values or key not in got.values:
            continue
        q = exact.values[key]
        assert Fraction(got[key].value) >= (q.interval[0] if q.interval else q.value), key
        slack = Fraction(1, 10**5) * Fraction(exact.values["K_star"].value) + Fraction(1, 10**30)
        assert Fraction(got[key].value) <= Fraction(q.interval[1] if q.interval else q.value) * Fraction(1 + 1e-3) + slack


def test_unknown_precision_is_an_input_error():
    with pytest.raises(InputError, match="precision"):
        nb.bounds(hat(), "inf", precision="float16")


@settings(max_examples=40)
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2, kinds=("relu",)),
       st.sampled_from(["1", "inf", "2"]))
def test_k_enclosure_contains_brute_force(net, norm):
    got = nb.bounds(net, norm, lower=False)
    lo, hi = got["K"].interval
    k = brute_k(net, norm)
    assert Fraction(lo) <= Fraction(k) * Fraction(1 + 1e-12) and Fraction(k) <= Fraction(hi) * Fraction(1 + 1e-12)
    assert hi <= float(k) * FACTOR[norm] + 1e-12 * float(got["K_star"].value) + 1e-290


def test_hat_by_hand():
    # g = 2relu(x) − 4relu(x − 1/2) + 2relu(x − 1): L = 2, K = 4 (d = (1, 0, 1)), K3 = K_star = 8.
    b = nb.bounds(hat(), "inf")
    assert b["K_star"].value == pytest.approx(8, rel=1e-12) and b["K_star"].value >= 8
    assert 8 <= b["K3"].value <= 8 * (1 + 1e-12)
    lo, hi = b["K"].interval
    assert lo <= 4 <= hi and hi - lo < 1e-12
    assert b["L_lower"].value == 2 and b["L_lower"].guarantee == "exact"
    assert b["L"].interval[0] == 2.0 and b["L"].interval[1] >= 4


def test_hat_k1_by_hand():
    # segments: ‖W1 W0‖∞ = |2 − 4 + 2| = 0, ‖W1‖∞‖W0‖∞ = 8·1: K1 = (0 + 8)/2 = 4
    b = nb.bounds(hat(), "inf", lower=False)
    assert 4 <= b["K1"].value <= 4 * (1 + 1e-12)


def test_inexact_rationals_are_inside_the_bound():
    third = Fraction(1, 3)
    net = Network.from_layers(2, [affine([[third, -third], [Fraction(1, 7), Fraction(2, 3)]], [third, 0]),
                                  activation("relu"), affine([[Fraction(1, 10), Fraction(-5, 3)]])])
    for norm in ("1", "inf"):
        exact = exact_bounds(net, norm)
        got = nb.bounds(net, norm, lower=False)
        for key in ("K_star", "K1", "K3", "K4"):
            assert Fraction(got[key].value) >= exact.values[key].value


def test_undefined_outside_the_slope_conditions():
    net = Network.from_layers(1, [affine([[1], [2]]), activation("abs"), affine([[1, 1]])])
    b = nb.bounds(net, "inf", lower=False)
    assert "K3" in b and "K_star" in b
    assert set(b.undefined) >= {"K", "K1", "K4"}
    steep = Network.from_layers(1, [affine([[1]]), activation("leaky_relu", alpha=2), affine([[1]])])
    assert set(nb.bounds(steep, "1", lower=False).undefined) >= {"K_star", "K3"}


def random_mlp(sizes, seed=0):
    rng = np.random.default_rng(seed)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    m = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.as_tensor(rng.standard_normal(tuple(p.shape)) / math.sqrt(max(p.shape[-1], 1))))
    return m


def small_cnn():
    torch.manual_seed(3)
    m = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3, stride=2, padding=1), torch.nn.ReLU(),
                            torch.nn.Conv2d(3, 4, 2), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                            torch.nn.Flatten(), torch.nn.Linear(16, 3)).eval()
    with torch.no_grad():
        m[3].running_mean.uniform_(-1, 1)
        m[3].running_var.uniform_(0.5, 2)
    return operators_from_torch(m, (1, 6, 6))


@pytest.mark.parametrize("norm", ["1", "inf", "2"])
def test_numpy_and_torch_agree(norm):
    for net in (operators_from_torch(random_mlp([12, 16, 16, 16, 4]), (12,)), small_cnn()):
        a = nb.bounds(net, norm, samples=32)
        b = nb.bounds(net, norm, device="cpu", samples=32, backend="torch")
        assert b.diagnostics["device"] == "cpu" and b.diagnostics["backend"] == "torch"
        for key in a.values:
            if key.startswith("K") or key == "L_upper":
                assert b[key].value == pytest.approx(a[key].value, rel=1e-10), key


def test_implicit_against_explicit():
    # blocks: conv | conv, batch-norm | flatten, linear. A diagonal scale does not cancel, so
    # |B| = Π|op| and K3 agrees; K_star implicit is the product of the operators' norms, ≥ ‖B‖.
    net = small_cnn()
    for norm in ("1", "inf"):
        ex = nb.bounds(net, norm, lower=False)
        im = nb.bounds(net, norm, lower=False, mode="implicit")
        assert im["K3"].value == pytest.approx(ex["K3"].value, rel=1e-12)
        assert im["K_star"].value >= ex["K_star"].value * (1 - 1e-12)
        assert im["K1"].value == ex["K1"].value


def test_devices():
    with pytest.raises(InputError):
        nb.bounds(hat(), "inf", device="cuda")
    with pytest.raises(InputError):
        nb.bounds(hat(), "inf", device="tpu", backend="torch")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no CUDA"):
            nb.bounds(hat(), "inf", device="cuda", backend="torch")
        assert tb.resolve_device(None) == "cpu"
    with pytest.raises(InputError):
        nb.bounds(hat(), "3")


def test_delegation_from_exactrelu_bounds():
    b = exact_bounds(hat(), "inf", backend="numpy")
    assert b["K3"].guarantee == "certified" and b.to_json()["K3_guarantee"] == "certified upper bound"
    assert b.to_json()["K2"] is None


def test_lower_bound_inside_the_domain_box():
    from exactrelu.core.domain import Domain

    # on [0, 1/2] only the slope-2 piece of the hat exists: L = 2 there; outside, slopes 0
    b = nb.bounds(hat(), "inf", domain=Domain.from_box([[0, "1/2"]]))
    assert 0 <= b.witness[0] <= 0.5 and b["L_lower"].value == 2
    poly = Domain.from_halfspaces([[1]], [0], 1)
    assert "L_lower" not in nb.bounds(hat(), "inf", domain=poly)


def test_k_by_branch_and_bound_beyond_enumeration():
    # 14 neurons: past the enumeration limit (2^12), inside the branch and bound's width limit
    rng = np.random.default_rng(7)
    ws = [rng.integers(-3, 4, (7, 2)), rng.integers(-3, 4, (7, 7)), rng.integers(-3, 4, (2, 7))]
    net = Network.from_layers(2, [affine(ws[0].tolist()), activation("relu"), affine(ws[1].tolist()),
                                  activation("relu"), affine(ws[2].tolist())])
    best = {"1": 0, "inf": 0}
    for bits in itertools.product((0, 1), repeat=14):
        J = ws[2] @ np.diag(bits[7:]) @ ws[1] @ np.diag(bits[:7]) @ ws[0]  # integers: exact
        best["inf"] = max(best["inf"], int(np.abs(J).sum(axis=1).max()))
        best["1"] = max(best["1"], int(np.abs(J).sum(axis=0).max()))
    for norm in ("1", "inf"):
        lo, hi = nb.bounds(net, norm, lower=False)["K"].interval
        assert lo == hi == best[norm]


def test_implicit_l2_k_star_is_the_hoelder_bound():
    net = small_cnn()
    ex = nb.bounds(net, "2", lower=False)
    im = nb.bounds(net, "2", lower=False, mode="implicit")
    assert im["K_star"].value >= ex["K_star"].value * (1 - 1e-9)
    by_hand = 1.0
    for block in net.blocks:
        for op in block:
            M = op.matrix()
            by_hand *= math.sqrt(np.abs(M).sum(axis=0).max() * np.abs(M).sum(axis=1).max())
    assert im["K_star"].value == pytest.approx(by_hand, rel=1e-12)


def test_cli_float_backend_options(capsys):
    """``--precision`` and ``--mode`` reach the float backend; on the exact one they are exit 2."""
    import json
    from pathlib import Path

    from exactrelu.cli.main import main
    from exactrelu.io.load import load_case

    case = str(Path(__file__).resolve().parent.parent / "cases" / "seed004" / "sawtooth-3.json")
    assert main(["bounds", case, "--backend", "numpy", "--precision", "float32", "--mode", "implicit",
                 "--norm", "inf", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["diagnostics"]["precision"] == "float32" and doc["diagnostics"]["mode"] == "implicit"
    assert doc["K1_guarantee"] == "certified upper bound"
    assert doc["K1_float"] >= float(exact_bounds(load_case(case).network, "inf").values["K1"].value)
    assert main(["bounds", case, "--precision", "float32"]) == 2
    assert "--precision: an option of the numpy and torch backends only" in capsys.readouterr().err


# --------------------------------------------------------------------------- max-pool nodes


def tiny_pooled(seed: int) -> torch.nn.Sequential:
    """1×3×4 input → Conv2d(1, 1, 2) (a 2×3 map) → ReLU → 2×2 max-pool, stride 1 (two windows
    sharing the middle column: overlap 2) → Linear(2, 2)."""
    nn = torch.nn
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 1, 2), nn.ReLU(), nn.MaxPool2d(2, stride=1), nn.Flatten(),
                         nn.Linear(2, 2)).double()


def brute_pooled(m: torch.nn.Sequential, norm: str) -> Fraction | float:
    """max over all 2^6 ReLU patterns D and 4^2 window selections S of ‖W S D C‖, from the
    definition (C the convolution's matrix written out here; ℓ1/ℓ∞ exact)."""
    k = [[Fraction(float(v)) for v in row] for row in m[0].weight[0, 0].detach()]
    C = [[Fraction(0)] * 12 for _ in range(6)]
    for i, j in itertools.product(range(2), range(3)):
        for a, b in itertools.product(range(2), range(2)):
            C[3 * i + j][4 * (i + a) + j + b] = k[a][b]
    W = [[Fraction(float(v)) for v in row] for row in m[4].weight.detach()]
    windows = [[3 * i + j + c for i in range(2) for j in range(2)] for c in range(2)]
    best: Fraction | float = 0
    for d in itertools.product((0, 1), repeat=6):
        DC = [[d[r] * v for v in C[r]] for r in range(6)]
        for sel in itertools.product(*windows):
            M = [[sum((W[o][w] * DC[sel[w]][c] for w in range(2)), Fraction(0)) for c in range(12)] for o in range(2)]
            if norm == "inf":
                val = max(sum((abs(v) for v in row), Fraction(0)) for row in M)
            elif norm == "1":
                val = max(abs(M[0][c]) + abs(M[1][c]) for c in range(12))
            else:
                val = float(np.linalg.norm(np.array(M, dtype=float), 2))
            best = max(best, val)
    return best


@pytest.mark.parametrize("seed", [0, 1])
def test_max_pool_node_bounds_cover_l_and_the_brute_force(seed):
    from exactrelu.floats.operators import to_network
    from exactrelu.lipschitz import lipschitz

    m = tiny_pooled(seed)
    node, relu = operators_from_torch(m, (1, 3, 4), max_pool="node"), operators_from_torch(m, (1, 3, 4))
    exact_net = to_network(node)
    for norm in ("1", "inf"):
        L = lipschitz(exact_net, norm).value.value
        brute = brute_pooled(m, norm)
        assert L <= brute
        for mode in ("explicit", "implicit"):
            got = nb.bounds(node, norm, mode=mode, samples=32)
            expanded = nb.bounds(relu, norm, mode=mode, lower=False)
            for key in ("K_star", "K3"):
                assert got[key].guarantee == "certified" and got[key].upper
                assert Fraction(got[key].value) >= brute, (norm, mode, key)
                assert got[key].value <= expanded[key].value, (norm, mode, key)
            for key in ("K", "K1", "K4"):
                assert key not in got.values and "max-pool node" in got.undefined[key]
            assert got["L_lower"].guarantee == "exact" and got["L_lower"].value <= L <= got["L_upper"].value
            if mode == "explicit":
                assert any("max-pool node" in n for n in got.diagnostics["notes"])
    brute2 = brute_pooled(m, "2")
    for mode in ("explicit", "implicit"):
        two = nb.bounds(node, "2", lower=False, mode=mode)
        for key in ("K_star", "K3"):
            assert two[key].guarantee == "certified" and two[key].value >= brute2 * (1 - 1e-12), (mode, key)


def test_max_pool_node_k_star_by_hand():
    # a max-pool alone, 3 windows over 4 inputs with overlap 2: K_star is 1 (ℓ∞), 2 (ℓ1), sqrt(2) (ℓ2),
    # and L is 1, 2 (f(e1) − f(0) = (1, 1, 0): ‖·‖₁ = 2), sqrt(2)
    m = torch.nn.Sequential(torch.nn.MaxPool1d(2, stride=1), torch.nn.Flatten())
    op = operators_from_torch(m, (1, 4), max_pool="node")
    for norm, want in (("inf", 1), ("1", 2), ("2", math.sqrt(2))):
        b = nb.bounds(op, norm, lower=False)
        assert want <= b["K_star"].value <= want * (1 + 1e-12), norm
        if norm != "2":
            assert want <= b["K3"].value <= want * (1 + 1e-12), norm


def test_max_pool_node_numpy_and_torch_agree():
    torch.manual_seed(8)
    nn = torch.nn
    m = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1), nn.Flatten(),
                      nn.Linear(18, 3), nn.ReLU(), nn.Linear(3, 2))
    op = operators_from_torch(m, (1, 6, 6), max_pool="node")
    for norm in ("1", "inf", "2"):
        for mode in ("explicit", "implicit"):
            a = nb.bounds(op, norm, lower=False, mode=mode)
            b = nb.bounds(op, norm, device="cpu", lower=False, mode=mode, backend="torch")
            assert set(a.values) == set(b.values) and set(a.undefined) == set(b.undefined)
            for key in a.values:
                assert b[key].value == pytest.approx(a[key].value, rel=1e-12), (norm, mode, key)


def test_cli_reads_a_torch_file_into_the_float_path(tmp_path, capsys):
    """A .pt model with --backend numpy goes to the float operator graph directly; with
    --max-pool node its K3 is proven through the max-pool (tighter), K4 is not defined."""
    import json
    from pathlib import Path

    from exactrelu.cli.main import main

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Flatten(), torch.nn.Linear(4, 1))
    path = str(tmp_path / "m.pt")
    torch.save(model, path)
    docs = {}
    for mp in ("relu", "node"):
        assert main(["bounds", path, "--backend", "numpy", "--max-pool", mp, "--input-shape", "1,3,5", "--json"]) == 0
        docs[mp] = json.loads(capsys.readouterr().out)
    assert docs["node"]["K4"] is None and "max-pool node" in docs["node"]["K4_undefined"]
    assert docs["relu"]["K4_guarantee"] == "certified upper bound"
    assert docs["node"]["L_lower_float"] <= docs["node"]["K3_float"] <= docs["relu"]["K3_float"]
    assert docs["node"]["L_lower_guarantee"] == "exact lower bound"  # re-checked on the exact network
    assert main(["bounds", path, "--backend", "numpy"]) == 2
    assert "--input-shape" in capsys.readouterr().err
    json_case = str(Path(__file__).resolve().parent.parent / "cases" / "seed004" / "sawtooth-1.json")
    assert main(["bounds", json_case, "--max-pool", "node"]) == 2
    assert "--max-pool" in capsys.readouterr().err
