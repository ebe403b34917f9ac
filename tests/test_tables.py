"""The seeds' tables: the exact values where they are known by hand, the printed values
where the engine reproduces them, and the CLI on the golden cases."""

from __future__ import annotations

import json
import statistics
from fractions import Fraction
from pathlib import Path

import pytest

from exactrelu import bounds as B
from exactrelu.cli.main import main
from exactrelu.constructions import (
    circle_network,
    random_network,
    sawtooth_network,
    yarotsky_deep,
)
from exactrelu.core.domain import Domain
from exactrelu.lipschitz import lipschitz

CASES = Path(__file__).resolve().parent.parent / "cases"
PRINTED_L = {1: 1.5, 2: 1.75, 3: 1.875, 4: 1.93875, 5: 1.96875, 6: 1.984375}
PRINTED_K4 = PRINTED_L


@pytest.mark.parametrize("ell", range(1, 7))
def test_seed004_l_column_is_two_minus_two_to_the_minus_l(ell):
    # f_l interpolates x² on the grid k/2^l: its largest slope is the last chord, 2 - 2^-l
    L = lipschitz(sawtooth_network(ell), "inf").exact
    assert L == 2 - Fraction(1, 2**ell)
    assert lipschitz(sawtooth_network(ell), "1", Domain.from_box([[0, 1]])).exact == L
    if ell <= 4:
        assert lipschitz(yarotsky_deep(ell), "inf").exact == L
    if ell != 4:
        assert float(L) == PRINTED_L[ell]
    else:  # the printed 1.93875 is a typo of 1.9375 = 31/16
        assert L == Fraction(31, 16) and float(L) != PRINTED_L[4]


def test_seed004_row_one_is_reproduced_in_l1():
    net = sawtooth_network(1)  # the SPEC's sawtooth-1
    got = [B.k_star(net, "1").value, B.k1(net, "1").value, B.k3(net, "1").value, B.k4(net, "1").value]
    assert got == [3, 2, 2, Fraction(3, 2)]  # printed: K* 3.0, K1 2.0, K3 2.0, K4 1.5
    assert float(B.k2(net).value) == pytest.approx(1.5, rel=1e-12)  # printed K2 1.5 (SeqLip = K with one layer)


@pytest.mark.parametrize("ell", range(1, 7))
def test_seed004_k4_column_equals_l_for_the_shallow_form(ell):
    net = sawtooth_network(ell)
    for norm in ("1", "inf"):
        assert B.k4(net, norm).value == 2 - Fraction(1, 2**ell)


def test_seed004_random_table_is_the_infinity_norm():
    """30 fixed draws (seeds 0..29): the ℓ∞ ratios sit where the printed 1000-draw means are
    (within ~4 standard errors), and ℓ1's K3/K* does not."""
    printed = {"K": 0.1422, "K1": 0.4539, "K3": 0.5461, "K4": 0.2875}
    tolerance = {"K": 0.025, "K1": 0.025, "K3": 0.06, "K4": 0.035}
    ratios = {"inf": {k: [] for k in printed}, "1": {k: [] for k in printed}}
    for seed in range(30):
        net = random_network([8, 10, 6, 3], seed)
        for norm in ("inf", "1"):
            ks = B.k_star(net, norm).value
            ratios[norm]["K"].append(float(B.k_patterns(net, norm)[0].value / ks))
            ratios[norm]["K1"].append(float(B.k1(net, norm).value / ks))
            ratios[norm]["K3"].append(float(B.k3(net, norm).value / ks))
            ratios[norm]["K4"].append(float(B.k4(net, norm).value / ks))
            k = ratios[norm]
            assert k["K"][-1] <= k["K4"][-1] <= min(k["K1"][-1], k["K3"][-1]) <= 1
    for key, value in printed.items():
        assert abs(statistics.fmean(ratios["inf"][key]) - value) <= tolerance[key], key
    assert abs(statistics.fmean(ratios["1"]["K3"]) - printed["K3"]) > 0.06


@pytest.mark.parametrize("width", [1, 2])
def test_seed002_bounds_hold_on_spline_circle_networks(width):
    for seed in (0, 1):
        net = circle_network(width, 3, seed)
        for norm in ("1", "inf", "2"):
            L = lipschitz(net, norm).exact
            assert float(B.c_theorem1(net, norm).value) >= float(L)
        assert float(B.c_e(net).value) >= float(lipschitz(net, "2").exact)


def _cli(args, capsys):
    status = main(args + ["--json"])
    return status, json.loads(capsys.readouterr().out)


def test_cli_lipschitz_and_bounds(capsys):
    status, doc = _cli(["lipschitz", str(CASES / "seed004" / "sawtooth-2.json"), "--norm", "inf"], capsys)
    assert status == 0 and doc["value"] == "7/4" and doc["value_float"] == 1.75 and doc["guarantee"] == "exact"
    assert doc["witness"] == ["7/8"] and doc["norm"] == "inf"
    status, doc = _cli(["lipschitz", str(CASES / "seed002" / "clamp-sum.json"), "--norm", "2"], capsys)
    assert status == 0 and doc["value"].startswith("the root of x**2 - 2") and len(doc["interval"]) == 2
    status, doc = _cli(["bounds", str(CASES / "seed004" / "sawtooth-3.json"), "--norm", "1"], capsys)
    assert status == 0 and doc["K4"] == "15/8" and doc["L"] == "15/8" and doc["K2"] is None
    status, doc = _cli(["lipschitz", str(CASES / "seed004" / "sawtooth-6.json"), "--max-nodes", "3"], capsys)
    assert status == 3 and doc["guarantee"] == "certified"
    status = main(["lipschitz", str(CASES / "seed004" / "sawtooth-2.json"), "--norm", "7"])
    assert status == 2


def test_verify_passes_on_this_issues_cases(capsys):
    paths = sorted(str(p) for g in ("seed004", "seed002") for p in (CASES / g).glob("*.json"))
    assert main(["verify", *paths]) == 0
