"""Certificates: accepted when honest, rejected when tampered with."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from fractions import Fraction

import pytest
from hypothesis import given, settings

from exactrelu.certificate import certify
from exactrelu.checker import check_certificate
from exactrelu.core.domain import Domain
from exactrelu.core.network import Network, activation, affine
from exactrelu.io.case import Case, case_to_json
from exactrelu.strategies import networks


def _case():
    net = Network.from_layers(
        2,
        [affine([[1, 0], [0, 1], [1, 1]], [0, 0, -1]), activation("relu"),
         affine([[1, -1, 2], ["1/2", 1, -1]], [0, "1/3"]), activation("relu"), affine([[1, 2]])],
    )
    return Case(net, Domain.whole(2))


@pytest.fixture(scope="module")
def cert():
    return certify(_case())


def test_honest_certificate_is_accepted(cert):
    v = check_certificate(cert)
    assert v.ok, v.problems
    assert v.counts["activation_regions"] == len(cert["regions"])


def _rejected(doc):
    v = check_certificate(doc)
    assert not v.ok
    return v.problems[0]


def test_region_removed(cert):
    for k in (0, len(cert["regions"]) - 1):
        doc = copy.deepcopy(cert)
        del doc["regions"][k]
        doc["pieces"]["labels"].pop(k)
        _rejected(doc)


def test_weight_changed(cert):
    for layer, i, j in ((0, 0, 0), (2, 1, 0), (4, 0, 1)):
        doc = copy.deepcopy(cert)
        w = doc["case"]["layers"][layer]["weight"]
        w[i][j] = str(int(w[i][j].split("/")[0]) + 1) if "/" not in w[i][j] else "3/7"
        _rejected(doc)


def test_witness_changed(cert):
    """A witness moved into another region (regions are disjoint) is caught; so is one
    coordinate changed to land on a knot hyperplane."""
    regions = cert["regions"]
    for k in range(len(regions)):
        doc = copy.deepcopy(cert)
        doc["regions"][k]["witness"] = list(regions[(k + 1) % len(regions)]["witness"])
        _rejected(doc)
    doc = copy.deepcopy(cert)
    doc["regions"][0]["witness"][0] = "0"  # the first layer has the hyperplane x = 0
    doc["regions"][0]["witness"][1] = "1/2"
    _rejected(doc)


def test_pattern_changed(cert):
    doc = copy.deepcopy(cert)
    doc["regions"][0]["pattern"][0][0] = 2 - doc["regions"][0]["pattern"][0][0]
    _rejected(doc)


def test_claims_changed(cert):
    for path in (("counts", "activation_regions"), ("lipschitz", "1", "value")):
        doc = copy.deepcopy(cert)
        d = doc
        for key in path[:-1]:
            d = d[key]
        d[path[-1]] = d[path[-1]] + 1 if isinstance(d[path[-1]], int) else "1/1000"
        _rejected(doc)
    doc = copy.deepcopy(cert)
    grp = next(g for r in doc["regions"] for g in r["groups"] if "redundant" in g or "facet" in g)
    if "facet" in grp:
        grp["facet"]["point"][0] = "77/3"
    else:
        grp["redundant"]["row_multiplier"] = "5"
    _rejected(doc)


@settings(max_examples=25)
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2))
def test_random_certificates_accepted(net):
    for dom in (Domain.whole(net.input_dim), Domain.from_box([[-2, "3/2"]] * net.input_dim)):
        v = check_certificate(json.loads(json.dumps(certify(Case(net, dom)))))
        assert v.ok, v.problems


def test_cli_roundtrip(tmp_path):
    from exactrelu.io.case import write_case

    case = _case()
    src = tmp_path / "net.json"
    write_case(case.network, src)
    out = tmp_path / "cert.json"
    run = [sys.executable, "-m", "exactrelu"]
    assert subprocess.run(run + ["certify", str(src), "-o", str(out)], capture_output=True).returncode == 0
    assert subprocess.run(run + ["check", str(out)], capture_output=True).returncode == 0
    doc = json.loads(out.read_text())
    doc["regions"][0]["witness"][0] = "12345"
    out.write_text(json.dumps(doc))
    res = subprocess.run(run + ["check", str(out), "--json"], capture_output=True, text=True)
    assert res.returncode == 1 and json.loads(res.stdout)["ok"] is False


def test_pieces_tampered():
    net = Network.from_layers(2, [affine([[1, 0], [0, 1], [1, 1]]), activation("relu"), affine([[1, 1, -1]])])
    cert = certify(Case(net, Domain.whole(2)))
    assert check_certificate(cert).ok and cert["pieces"]["touching"]
    doc = copy.deepcopy(cert)
    i, j = doc["pieces"]["touching"][0]["regions"]
    doc["pieces"]["labels"][j] = max(doc["pieces"]["labels"]) + 1  # split a piece
    doc["counts"]["linear_pieces"] += 1
    assert "joined" in _rejected(doc)
    doc["pieces"]["touching"] = []  # and hide the evidence: now the missing proof is caught
    assert "no proof" in _rejected(doc)
    doc = copy.deepcopy(cert)
    doc["pieces"]["touching"][0]["point"] = ["1", "1"]
    assert "closure" in _rejected(doc)


@settings(max_examples=15)
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2))
def test_l2_claims(net):
    """The ℓ2 claim is accepted, matches the float spectral norm over the brute-force
    regions, and a wrong witness region or a shifted interval is rejected."""
    import numpy as np
    from brute import full_dimensional_regions

    cert = certify(Case(net, Domain.whole(net.input_dim)), ("2",))
    assert check_certificate(cert).ok
    regions = full_dimensional_regions(case_to_json(net))
    want = max(np.linalg.norm(np.array([[float(v) for v in row] for row in r.jacobian]), 2) for r in regions)
    assert abs(cert["lipschitz"]["2"]["value_float"] - want) <= 1e-9 * max(1.0, want)
    doc = copy.deepcopy(cert)
    lo, hi = (Fraction(v) for v in doc["lipschitz"]["2"]["value_squared"]["interval"])
    doc["lipschitz"]["2"]["value_squared"]["interval"] = [str(hi + 1), str(hi + 2)]
    assert not check_certificate(doc).ok
    if want > 0:  # a region with a smaller norm as the witness
        norms = [np.linalg.norm(np.array([[float(Fraction(v)) for v in row] for row in r["jacobian"]]), 2)
                 for r in cert["regions"]]
        smaller = [k for k, v in enumerate(norms) if v < want * (1 - 1e-6)]
        if smaller:
            doc = copy.deepcopy(cert)
            doc["lipschitz"]["2"]["region"] = smaller[0]
            assert not check_certificate(doc).ok


def test_cli_rejects_malformed_and_other_cases(tmp_path):
    """A malformed certificate is a rejected one (exit 1, never a traceback); an unreadable
    file is bad input (exit 2); ``--case`` accepts the certificate's own case only."""
    from exactrelu.io.case import write_case

    run = [sys.executable, "-m", "exactrelu", "check"]
    src, other, out = tmp_path / "net.json", tmp_path / "other.json", tmp_path / "cert.json"
    write_case(_case().network, src)
    net = Network.from_layers(2, [affine([[1, 0]]), activation("relu"), affine([[1]])])
    write_case(net, other)
    out.write_text(json.dumps(certify(_case())))
    assert subprocess.run(run + [str(out), "--case", str(src)], capture_output=True).returncode == 0
    res = subprocess.run(run + [str(out), "--case", str(other)], capture_output=True, text=True)
    assert res.returncode == 1 and "another network" in res.stdout
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"format": "exactrelu-certificate/1", "regions": [1e999999999')
    res = subprocess.run(run + [str(bad)], capture_output=True, text=True)
    assert res.returncode == 1 and "REJECTED" in res.stdout and "Traceback" not in res.stderr
    res = subprocess.run(run + [str(tmp_path / "missing.json")], capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_cli_check_takes_every_limit_of_the_checker(tmp_path):
    """Each of the checker's limits has its option: a certificate within them is accepted,
    one past a limit rejected (exit 1) or, for a file too large to read, bad input (exit 2)."""
    run = [sys.executable, "-m", "exactrelu", "check"]
    out = tmp_path / "cert.json"
    text = json.dumps(certify(_case()))
    out.write_text(text)
    assert subprocess.run(run + [str(out), "--max-depth", "64", "--max-work", "1000"], capture_output=True).returncode == 0
    for option, value, code, words in (("--max-depth", "2", 1, "nest"), ("--max-items", "1", 1, "entries"),
                                       ("--max-work", "1", 1, "work"), ("--max-bytes", "10", 2, "bytes"),
                                       ("--max-digits", "0", 2, "positive")):
        res = subprocess.run(run + [str(out), option, value], capture_output=True, text=True)
        assert res.returncode == code and words in (res.stdout + res.stderr).lower(), (option, res.stdout, res.stderr)
        assert "Traceback" not in res.stderr


def test_cli_check_case_reads_a_hand_written_case_as_the_engine_does(tmp_path):
    """``check --case`` accepts a case whose numbers are padded with spaces (the engine reads
    it, so the certificate is about it); the certificate itself stays strict."""
    run = [sys.executable, "-m", "exactrelu"]
    src, out = tmp_path / "net.json", tmp_path / "cert.json"
    doc = {"format": "exactrelu-network/1", "input_dim": 1,
           "layers": [{"type": "affine", "weight": [[" 1"], ["-1 "]], "bias": ["0", " 1/2"]},
                      {"type": "relu"}, {"type": "affine", "weight": [["1", "1"]]}]}
    src.write_text(json.dumps(doc))
    assert subprocess.run(run + ["certify", str(src), "-o", str(out)], capture_output=True).returncode == 0
    res = subprocess.run(run + ["check", str(out), "--case", str(src)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
