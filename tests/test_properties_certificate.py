"""Holds certificates: every one `prove` writes is accepted by the independent checker
(`exactrelu.checker.property`), and forgeries are rejected: a dropped leaf, a wrong
multiplier, a changed bound, a changed weight, a property changed under the proof."""

from __future__ import annotations

import copy
import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from test_properties_prove import as_property, instances

from exactrelu.checker import check_certificate
from exactrelu.cli.main import main
from exactrelu.core.network import Network, activation, affine
from exactrelu.io.case import read_case, write_case
from exactrelu.properties.prove import prove
from exactrelu.properties.search import Options
from exactrelu.properties.vnnlib import parse_vnnlib, read_vnnlib

CASES = Path(__file__).resolve().parent.parent / "cases" / "properties"
ABS = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])
HEAD = "(declare-const X_0 Real)(declare-const Y_0 Real)"


def holds_cases():
    out = []
    for path in sorted(CASES.glob("*.json")):
        for entry in read_case(path).expected["properties"]:
            if entry["result"] == "holds":
                out.append((path, CASES / entry["file"]))
    return out


@pytest.mark.parametrize("case, prop", holds_cases(), ids=lambda p: p.stem)
def test_corpus_certificates_accepted(case, prop):
    net = read_case(case).network
    for opts in (Options(), Options(lp=False), Options(neuron_split_below=0)):
        cert = prove(net, read_vnnlib(prop), certificate=True, options=opts).certificate
        v = check_certificate(json.loads(json.dumps(cert)))
        assert v.ok, v.problems


@settings(max_examples=30)
@given(instances())
def test_random_holds_certificates_accepted(inst):
    net, box, atoms = inst
    res = prove(net, as_property(net.input_dim, net.output_dim, box, atoms), certificate=True, options=Options(attack=0))
    if res.value == "holds":
        v = check_certificate(res.certificate)
        assert v.ok, v.problems


def _cert(prop_text, net=ABS, **kw):
    return prove(net, parse_vnnlib(HEAD + prop_text), certificate=True, **kw).certificate


def _nodes(tree):
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.get("children", []))


TWO_LAYERS = Network.from_layers(2, [affine([[1, 1], [1, -1], [-1, 2]], ["-1/2", "0", "1/4"]), activation("relu"),
                                     affine([[1, -1, 1], [2, 1, -1]]), activation("relu"), affine([[1, -1]])])
DECL2 = "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)(assert (<= 0 X_0 1))(assert (<= 0 X_1 1))"


def test_every_proof_kind_is_checked():
    # TWO_LAYERS has maximum 11/4 on [0,1]^2 (the region engine's test above): y0 >= 2.76 is unreachable
    kinds = set()
    cert = prove(TWO_LAYERS, parse_vnnlib(DECL2 + "(assert (>= Y_0 2.76))"), certificate=True).certificate
    assert check_certificate(cert).ok
    for node in _nodes(cert["groups"][0]["tree"]):
        kinds.update(p["kind"] for p in node.get("proofs", []))
    assert {"bound", "dual", "affine"} <= kinds, kinds


def test_empty_group_and_box_multipliers():
    # the second disjunct's input set (x >= 3 and x <= 2) is empty: a Farkas proof; the first gets its box by an LP
    text = "(assert (or (and (<= -1 X_0) (<= (* 2 X_0) 4) (> Y_0 2)) (and (>= X_0 3) (<= X_0 2) (> Y_0 0))))"
    cert = _cert(text)
    assert any("empty" in g for g in cert["groups"])
    assert check_certificate(cert).ok
    bad = copy.deepcopy(cert)
    g = next(g for g in bad["groups"] if "empty" in g)
    g["empty"] = [[0, "1"]]
    assert not check_certificate(bad).ok


FORGERIES = {
    "dropped leaf": lambda c: _drop_leaf(c),
    "dropped group": lambda c: c["groups"].pop(),
    "wrong multiplier": lambda c: _first_proof(c, lambda p: p.update(theta=["0"] * len(p["theta"]))),
    "changed box": lambda c: c["groups"][0]["box"][0].__setitem__(1, "3"),
    "changed property bound": lambda c: c["property"]["disjuncts"][0][-1].__setitem__("const", "1"),
    "changed weight": lambda c: c["network"]["layers"][0]["weight"][0].__setitem__(0, "3"),
    "split outside": lambda c: _first_split(c, lambda s: s.__setitem__("at", "99")),
    "claim violated": lambda c: c.__setitem__("claim", "violated"),
}


def _drop_leaf(c):
    for node in _nodes(c["groups"][0]["tree"]):
        if node.get("proofs"):
            node["proofs"] = []
            return
    raise AssertionError("no proof to drop")


def _first_proof(c, change, kind=None):
    for node in _nodes(c["groups"][0]["tree"]):
        for p in node.get("proofs", []):
            if kind is None or p["kind"] == kind:
                if "theta" in p or kind:
                    change(p)
                    return
    raise AssertionError("no proof of that kind")


def _first_split(c, change):
    for node in _nodes(c["groups"][0]["tree"]):
        if "split" in node:
            if "input" not in node["split"]:
                node["split"] = {"input": 0, "at": "99"}
            change(node["split"])
            return
    raise AssertionError("no split")


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forgeries_rejected(name):
    # |x| < 3/2 on [-1, 2] is false (x = 2), so y >= 3/2 is reachable; the certified claim is y > 2 unreachable
    cert = _cert("(assert (<= -1 X_0 2))(assert (> Y_0 2))", options=Options(neuron_split_below=0))
    assert check_certificate(cert).ok
    FORGERIES[name](cert)
    v = check_certificate(cert)
    assert not v.ok and v.problems


@pytest.mark.parametrize("kind", ["dual", "affine"])
def test_forged_multipliers_rejected(kind):
    cert = prove(TWO_LAYERS, parse_vnnlib(DECL2 + "(assert (>= Y_0 2.76))"), certificate=True).certificate
    proofs = [p for n in _nodes(cert["groups"][0]["tree"]) for p in n["proofs"] if p["kind"] == kind]
    for p in proofs:  # every proof of the kind matters: forging any one is caught
        forged = copy.deepcopy(cert)
        q = next(x for n in _nodes(forged["groups"][0]["tree"]) for x in n["proofs"] if x == p)
        if kind == "dual":
            row = next(r for r in q["lambdas"] if r)
            row[0] = str(Fraction(row[0]) + 1000)
        else:
            q["multipliers"][0][1] = str(Fraction(q["multipliers"][0][1]) * 2)
        assert not check_certificate(forged).ok


def test_cli_prove_then_check(tmp_path, capsys):
    net = tmp_path / "abs.json"
    write_case(ABS, net)
    prop = tmp_path / "p.vnnlib"
    prop.write_text(HEAD + "(assert (<= -1 X_0 2))(assert (> Y_0 2))")
    cert = tmp_path / "cert.json"
    assert main(["prove", str(net), str(prop), "-o", str(cert)]) == 0
    assert main(["--json", "check", str(cert)]) == 0
    capsys.readouterr()
    doc = json.loads(cert.read_text())
    doc["network"]["layers"][2]["weight"][0][1] = "5"
    cert.write_text(json.dumps(doc))
    assert main(["check", str(cert)]) == 1
