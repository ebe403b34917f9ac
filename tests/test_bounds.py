"""The K bounds against brute-force evaluations of their definitions, seed 004's chain of
inequalities on many random nets, and seed 002's C, C_E by hand."""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactrelu import bounds as B
from exactrelu.core.algebraic import as_algebraic
from exactrelu.core.errors import InputError
from exactrelu.core.network import Network, activation, affine
from exactrelu.floats.seqlip import seqlip_upper
from exactrelu.lipschitz import lipschitz

# -- an independent little exact linear algebra on lists of Fractions -----------------------

def mul(A, C):
    return [[sum((A[i][k] * C[k][j] for k in range(len(C))), Fraction(0)) for j in range(len(C[0]))] for i in range(len(A))]


def absm(A):
    return [[abs(v) for v in r] for r in A]


def ninf(A):
    return max(sum(abs(v) for v in r) for r in A)


def n1(A):
    return max(sum(abs(A[i][j]) for i in range(len(A))) for j in range(len(A[0])))


NORM = {"1": n1, "inf": ninf}


def diag(d):
    return [[Fraction(d[i]) if i == j else Fraction(0) for j in range(len(d))] for i in range(len(d))]


def ws_of(net):
    return [[list(r) for r in a.weight] for a in net.chain.affines]


def prod(mats):
    """mats in the order applied: W_0 first."""
    out = mats[0]
    for m in mats[1:]:
        out = mul(m, out)
    return out


def brute_K(net, norm):
    ws = ws_of(net)
    widths = [len(w) for w in ws[:-1]]
    best = Fraction(0)
    for pats in itertools.product(*[list(itertools.product((0, 1), repeat=w)) for w in widths]):
        mats = [ws[0]]
        for d, w in zip(pats, ws[1:]):
            mats += [diag(d), w]
        best = max(best, NORM[norm](prod(mats)))
    return best


def subsets(ell):
    for k in range(ell + 1):
        yield from itertools.combinations(range(1, ell + 1), k)


def segments_of(ws, S):
    cuts = [0, *S, len(ws)]
    return [prod(ws[cuts[i]:cuts[i + 1]]) for i in range(len(cuts) - 1)]


def brute_K1(net, norm):
    ws = ws_of(net)
    ell = len(ws) - 1
    total = Fraction(0)
    for S in subsets(ell):
        term = Fraction(1)
        for seg in segments_of(ws, S):
            term *= NORM[norm](seg)
        total += term
    return total / 2**ell


def brute_K4(net, norm):
    ws = ws_of(net)
    ell = len(ws) - 1
    return sum((NORM[norm](prod([absm(s) for s in segments_of(ws, S)])) for S in subsets(ell)), Fraction(0)) / 2**ell


def brute_K3(net, norm):
    return NORM[norm](prod([absm(w) for w in ws_of(net)]))


def brute_Kstar(net, norm):
    out = Fraction(1)
    for w in ws_of(net):
        out *= NORM[norm](w)
    return out


def random_relu_net(rng: random.Random, kinds=("relu",)) -> Network:
    n0 = rng.randint(1, 3)
    depth = rng.randint(1, 3)
    dims = [n0] + [rng.randint(1, 4) for _ in range(depth)] + [rng.randint(1, 3)]
    layers = []
    for i in range(len(dims) - 1):
        w = [[Fraction(rng.randint(-6, 6), rng.choice((1, 2, 3, 4))) for _ in range(dims[i])] for _ in range(dims[i + 1])]
        layers.append(affine(w, [Fraction(rng.randint(-3, 3), 2) for _ in range(dims[i + 1])]))
        if i < len(dims) - 2:
            kind = rng.choice(kinds)
            layers.append(activation(kind, alpha=Fraction(1, 4)) if kind == "leaky_relu" else activation(kind))
    return Network.from_layers(n0, layers)


# -- the definitions ---------------------------------------------------------------------------

@pytest.mark.parametrize("norm", ["1", "inf"])
def test_each_bound_equals_its_definition_by_brute_force(norm):
    rng = random.Random(4 if norm == "1" else 5)
    for _ in range(25):
        net = random_relu_net(rng)
        assert B.k_patterns(net, norm)[0].value == brute_K(net, norm)
        assert B.k1(net, norm).value == brute_K1(net, norm)
        assert B.k4(net, norm).value == brute_K4(net, norm)
        assert B.k3(net, norm).value == brute_K3(net, norm)
        assert B.k_star(net, norm).value == brute_Kstar(net, norm)


def test_seed004_chain_on_1000_random_nets():
    """L <= K <= K4 <= min(K1, K3) <= K_star (seed 004, proven for ℓ1 and ℓ∞)."""
    rng = random.Random(2004)
    for i in range(1000):
        net = random_relu_net(rng, kinds=("relu", "leaky_relu"))
        for norm in ("1", "inf"):
            ks = B.k_star(net, norm).value
            k = B.k_patterns(net, norm)[0].value
            k1 = B.k1(net, norm).value
            k3 = B.k3(net, norm).value
            k4 = B.k4(net, norm).value
            assert k <= k4 <= min(k1, k3) <= max(k1, k3) <= ks, (i, norm)
            if i % 10 == 0:  # L exactly on every tenth net (branch and bound with LPs)
                assert lipschitz(net, norm).value.value <= k


def test_l2_bounds_are_above_l_and_k_is_the_largest_pattern_norm():
    rng = random.Random(7)
    for _ in range(15):
        net = random_relu_net(rng)
        if sum(net.chain.widths) > 8:
            continue
        L = lipschitz(net, "2").exact
        K = B.k_patterns(net, "2")[0]
        ws = [np.array([[float(v) for v in r] for r in w]) for w in ws_of(net)]
        floats = []
        for pats in itertools.product(*[list(itertools.product((0, 1), repeat=len(w))) for w in ws[:-1]]):
            m = ws[0]
            for d, w in zip(pats, ws[1:]):
                m = w @ (np.array(d, dtype=float)[:, None] * m)
            floats.append(np.linalg.norm(m, 2))
        assert abs(float(K.value) - max(floats)) <= 1e-9 * max(1, max(floats))
        for name in ("K_star", "K1", "K3", "K4"):
            q = B.bounds(net, "2").values[name]
            assert float(q.value) >= float(L) - 1e-12, name
        k2 = B.k2(net)  # SeqLip bounds max_σ ‖…‖ = K ≥ L; certified: compared exactly
        assert k2.guarantee == "certified"
        assert as_algebraic(k2.value).compare(as_algebraic(L)) >= 0
        assert k2.value >= K.interval[0] if K.interval else as_algebraic(k2.value).compare(as_algebraic(K.value)) >= 0
        assert float(k2.value) <= float(B.k_star(net, "2").value) * (1 + 1e-9)


def test_certified_seqlip_with_one_hidden_layer_is_the_largest_pattern_norm():
    """With one hidden layer, SeqLip is max_d ‖W1 diag(d) W0‖₂ (the SVD factors cancel):
    the certified value is above the brute-force maximum and within 1e-9 of it."""
    rng = np.random.default_rng(0)
    for _ in range(5):
        w0, w1 = rng.standard_normal((5, 3)), rng.standard_normal((2, 5))
        best = max(np.linalg.norm(w1 @ np.diag(d) @ w0, 2) for d in itertools.product((0.0, 1.0), repeat=5))
        got = float(seqlip_upper([w0, w1], [0.0, 0.0]))
        assert best * (1 - 1e-13) <= got <= best * (1 + 1e-9)


def _float_seqlip(ws: list[np.ndarray]) -> float:
    """SeqLip (Virmaux & Scaman 2018, Theorem 3) in plain floats, written from the paper."""
    svd = [np.linalg.svd(w, full_matrices=False) for w in ws]
    total = 1.0
    for i in range(1, len(ws)):
        u_prev, s_prev, _ = svd[i - 1]
        _, s_next, vt_next = svd[i]
        sp = s_prev if i == 1 else np.sqrt(s_prev)
        sn = s_next if i == len(ws) - 1 else np.sqrt(s_next)
        total *= max(np.linalg.norm((sn[:, None] * vt_next) @ np.diag(d) @ (u_prev * sp), 2)
                     for d in itertools.product((0.0, 1.0), repeat=u_prev.shape[0]))
    return total


@settings(max_examples=25)
@given(st.integers(0, 10**6))
def test_certified_seqlip_matches_the_float_formula_on_deeper_nets(seed):
    rng = np.random.default_rng(seed)
    dims = [int(rng.integers(1, 5))] + [int(rng.integers(1, 6)) for _ in range(int(rng.integers(1, 4)))] + [2]
    ws = [rng.standard_normal((dims[k + 1], dims[k])) for k in range(len(dims) - 1)]
    reference = _float_seqlip(ws)
    got = float(seqlip_upper(ws, [0.0] * len(ws)))
    assert reference * (1 - 1e-9) <= got <= reference * (1 + 1e-6) + 1e-12


def test_seqlip_refuses_wide_hidden_layers():
    with pytest.raises(InputError, match="2\\^width"):
        seqlip_upper([np.ones((13, 2)), np.ones((1, 13))], [0.0, 0.0])


def test_k_budget_gives_a_certified_interval():
    rng = random.Random(11)
    net = Network.from_layers(3, [affine([[rng.randint(-3, 3) for _ in range(3)] for _ in range(5)]), activation("relu"),
                                  affine([[rng.randint(-3, 3) for _ in range(5)] for _ in range(4)]), activation("relu"),
                                  affine([[rng.randint(-3, 3) for _ in range(4)] for _ in range(2)])])
    exact = brute_K(net, "inf")
    q, _ = B.k_patterns(net, "inf", max_nodes=2)
    assert q.guarantee == "certified" and q.upper
    lo, hi = q.interval
    assert lo <= exact <= hi and lo < hi


def test_a_stopped_k_search_is_capped_at_k4():
    """K ≤ K4 (seed 004), so a bracket from a stopped search ends at K4 when its own top is
    higher: on this net 1 node leaves [0, 1320], K4 = 6089/8, K = 520 (full search)."""
    rng = random.Random(0)
    dims, layers = [3, 4, 4, 4, 2], []
    for a, b in zip(dims, dims[1:]):
        layers += [affine([[rng.randint(-3, 3) for _ in range(a)] for _ in range(b)]), activation("relu")]
    net = Network.from_layers(3, layers[:-1])
    assert B.k_patterns(net, "inf", max_nodes=1)[0].interval == (0, 1320)
    b = B.bounds(net, "inf", max_nodes=1)
    assert b.values["K"].interval == (0, Fraction(6089, 8)) and b.diagnostics["K_upper"] == "K4"
    assert b.values["K"].interval[0] <= brute_K(net, "inf") == 520 <= b.values["K"].interval[1]
    full = B.bounds(net, "inf")
    assert "K_upper" not in full.diagnostics and full.values["K"].value == 520


# -- where the proofs do not apply ---------------------------------------------------------------

def test_abs_and_steep_slopes_make_k_bounds_undefined():
    net = Network.from_layers(1, [affine([[1], [1]]), activation("abs"), affine([[1, 1]])])
    b = B.bounds(net, "inf")
    assert {"K", "K1", "K4"} <= set(b.undefined)
    assert b.values["K3"].value == 2 and b.values["K_star"].value == 2  # |slopes| <= 1 suffice
    with pytest.raises(InputError):
        B.k1(net, "inf")
    steep = Network.from_layers(1, [affine([[1]]), activation("spline", knots=[0], slopes=[0, 2], value=0), affine([[1]])])
    assert {"K_star", "K", "K1", "K3", "K4"} <= set(B.bounds(steep, "1").undefined)
    assert B.bounds(steep, "1").values["C"].value == 4  # ‖W‖ = 1 twice, ‖σ‖_BV2 = 2 + 0 + 2, ‖id‖ = 1


def test_c_and_c_e_by_hand():
    # clamp(x) + clamp(y): sigma = relu(x) - relu(x-1), BV2 norm 2 + 0 + 1 = 3
    clamp = activation("spline", knots=[0, 1], slopes=[0, 1, 0], value=0)
    net = Network.from_layers(2, [affine([[1, 0], [0, 1]]), clamp, affine([[1, 1]])])
    assert B.c_theorem1(net, "inf").value == 1 * 3 * 2 * 1
    assert B.c_theorem1(net, "1").value == 1 * 6 * 1 * 1
    assert B.c_theorem1(net, "2").value == 6  # 1 · 3√2 · √2 · 1
    assert B.c_e(net).value == 12  # √2 · √2 · 6 · 1


def test_unknown_backend_is_an_input_error():
    net = Network.from_layers(1, [affine([[1]]), activation("relu"), affine([[1]])])
    with pytest.raises(InputError):
        B.bounds(net, "inf", backend="cuda-magic")


def test_verify_checks_a_certified_k2_from_both_sides():
    """Seed 004's K2 = 3/2 for sawtooth-1 (ℓ2, one hidden layer: SeqLip = K = 2 − 2^-1, by
    hand) passes; a smaller expected value (the certified bound is above it by more than
    rounding) and a larger one (the bound would be below it) both fail."""
    from exactrelu.corpus import corpus_root
    from exactrelu.io.case import read_case
    from exactrelu.verify.bounds import check_bounds

    case = read_case(corpus_root() / "seed004" / "sawtooth-1.json")
    assert [c.ok for c in check_bounds(case, {"2": {"K2": "3/2"}}, "expected.bounds")] == [True]
    assert [c.ok for c in check_bounds(case, {"2": {"K2": "1.4999"}}, "expected.bounds")] == [False]
    assert [c.ok for c in check_bounds(case, {"2": {"K2": "1.5001"}}, "expected.bounds")] == [False]
