"""Seed 004's table 'Results and optimality of K4': the representation behind the print.

The printed K*, K1, K2, K3 are those of f_l with one width-3 hidden layer per factor g
(`constructions.sawtooth_width3`), in ℓ∞, K2 being SeqLip's split with each factor measured
in ℓ∞. Expected values: by hand (closed forms in the case files' sources, checked here
again), the printed table as the seed shows it, and an independent SeqLip-∞ in mpmath.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from pathlib import Path

import mpmath as mp
import pytest

from exactrelu import bounds as B
from exactrelu.cli.main import main
from exactrelu.constructions import sawtooth_width3, yarotsky_value
from exactrelu.io.load import load_case
from exactrelu.lipschitz import lipschitz

CASES = Path(__file__).resolve().parent.parent / "cases" / "seed004"
PRINTED = {  # l: (L, K*, K1, K2, K3, K4), as printed in seed 004
    1: ("1.5", "3.0", "2.0", "1.5", "2.0", "1.5"),
    2: ("1.75", "9.0", "3.53125", "3.64531", "3.0", "1.75"),
    3: ("1.875", "33.0", "6.92187", "6.45925", "4.0", "1.875"),
    4: ("1.93875", "129.0", "14.42877", "12.45882", "5.0", "1.93875"),
    5: ("1.96875", "513.0", "30.75637", "24.68184", "6.0", "1.96875"),
    6: ("1.984375", "2049.0", "66.00227", "49.24501", "7.0", "1.984375"),
}


def truncated(q: Fraction, text: str) -> bool:
    digits = len(text.split(".")[1])
    return Fraction(math.floor(q * 10**digits), 10**digits) == Fraction(text)


def k1_by_hand(ell: int) -> Fraction:
    """2^-l Σ_S Π ‖segment‖_∞: 1 for S = ∅; else 2 (r_1 = 1) or 1, ×4 per gap of 1, ×(1 + 2/4^r_k)
    per longer gap, ×(1 + 2/4^r_n) for the last segment."""
    total = Fraction(1)
    for n in range(1, ell + 1):
        for S in itertools.combinations(range(1, ell + 1), n):
            t = Fraction(2 if S[0] == 1 else 1)
            for a, b in zip(S, S[1:]):
                t *= 4 if b == a + 1 else 1 + Fraction(2, 4**a)
            total += t * (1 + Fraction(2, 4 ** S[-1]))
    return total / 2**ell


@pytest.mark.parametrize("ell", range(1, 7))
def test_width3_form_computes_f_l_on_the_unit_interval(ell):
    net = sawtooth_width3(ell)
    for k in range(0, 2**ell * 3 + 1):
        t = Fraction(k, 2**ell * 3)
        assert net.evaluate([t])[0] == yarotsky_value(ell, t)


@pytest.mark.parametrize("ell", range(1, 7))
def test_every_printed_column_is_the_width3_form_in_linf(ell):
    net = sawtooth_width3(ell)
    L = lipschitz(net, "inf").exact
    ks, k1, k3, k4 = (B.k_star(net, "inf").value, B.k1(net, "inf").value, B.k3(net, "inf").value,
                      B.k4(net, "inf").value)
    two = 2 - Fraction(1, 2**ell)
    assert (L, ks, k1, k3, k4) == (two, 2 * 4 ** (ell - 1) + 1, k1_by_hand(ell), ell + 1, two)
    p = PRINTED[ell]
    assert Fraction(p[1]) == ks and Fraction(p[4]) == k3
    assert truncated(k1, p[2])  # exact for l <= 2, truncated to 5 decimals beyond
    if ell == 4:  # the typo: 1.93875 for 31/16 = 1.9375, in L and K4 alike
        assert Fraction(p[0]) == Fraction(p[5]) == Fraction("1.93875") != L
    else:
        assert Fraction(p[0]) == L == k4 == Fraction(p[5])


def test_printed_k2_is_seqlip_split_in_linf():
    for ell in range(1, 7):
        q = B.k2(sawtooth_width3(ell), "seqlip_inf")
        assert q.guarantee == "certified" and q.upper
        text = PRINTED[ell][3]
        if ell == 5:  # 24.6818393…: the print rounds here (truncation would give 24.68183)
            assert round(float(q.value), 5) == float(text) and not truncated(q.value, text)
        else:
            assert truncated(q.value, text)
    assert B.bounds(sawtooth_width3(2), "inf", k2_definition="seqlip_inf").values["K2"].guarantee == "certified"
    assert "K2" in B.bounds(sawtooth_width3(2), "2", k2_definition="seqlip_inf").undefined


def _seqlip_inf_mpmath(ell: int) -> mp.mpf:
    """SeqLip's split in ℓ∞ from an SVD at 40 digits: A_0 = B_0, C_0 = I; A = UΣ^½, C = Σ^½Vᵀ between;
    A_ℓ = I, C_ℓ = B_ℓ; the product over hidden layers of max_d ‖C_k diag(d) A_(k−1)‖_∞."""
    net = sawtooth_width3(ell)
    Bs = [mp.matrix([[mp.mpf(v.numerator) / v.denominator for v in row] for row in a.weight]) for a in net.chain.affines]
    A, C = [Bs[0]], []
    for M in Bs[1:-1]:
        U, S, V = mp.svd_r(M)
        root = mp.diag([mp.sqrt(s) for s in S])
        A.append(U * root)
        C.append(root * V)
    C.append(Bs[-1])
    total = mp.mpf(1)
    for k in range(1, ell + 1):
        Ck, Ak = C[k - 1], A[k - 1]
        best = mp.mpf(0)
        for d in itertools.product((0, 1), repeat=Ck.cols):
            P = Ck * mp.diag(list(d)) * Ak
            best = max(best, max(sum(abs(P[i, j]) for j in range(P.cols)) for i in range(P.rows)))
        total *= best
    return total


@pytest.mark.parametrize("ell", [2, 3, 4])
def test_seqlip_inf_against_an_independent_high_precision_svd(ell):
    with mp.workdps(40):
        ref = _seqlip_inf_mpmath(ell)
        got = B.k2(sawtooth_width3(ell), "seqlip_inf").value
        value = mp.mpf(got.numerator) / got.denominator
        assert ref - mp.mpf(10) ** -13 <= value <= ref * (1 + mp.mpf(10) ** -12)


def test_seqlip_inf_bounds_l_on_random_nets():
    from exactrelu.constructions import random_network

    for seed in range(5):
        net = random_network([3, 4, 3, 2], seed)
        k2 = B.k2(net, "seqlip_inf").value
        assert lipschitz(net, "inf").exact <= B.k_patterns(net, "inf")[0].value <= k2


def test_the_width3_cases_verify(capsys):
    paths = sorted(str(p) for p in CASES.glob("sawtooth-width3-*.json"))
    assert len(paths) == 6 and main(["verify", *paths]) == 0
    assert load_case(paths[0]).network.chain.widths == (3,)
