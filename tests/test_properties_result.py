"""`check-result` on result files written here by hand, one per trap the issue lists: an exact
witness, one exact only at its printed decimals, one that misses by 1e-16 (Marabou's), one
1e-8 outside the box (a float32 box bound), a wrong unsat, malformed files. The expected
classes follow from the decimals by hand (the binary64 / binary32 roundings are stated)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exactrelu.cli.main import main
from exactrelu.core.errors import InputError
from exactrelu.core.network import Network, activation, affine
from exactrelu.io.case import write_case
from exactrelu.properties.result import check_result, parse_result
from exactrelu.properties.vnnlib import parse_vnnlib

IDENTITY = Network.from_layers(1, [affine([[1]]), activation("relu"), affine([[1]])])  # y = x for x >= 0
LINEAR = Network.from_layers(1, [affine([[1]])])  # y = x
ABS = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])
HEAD = "(declare-const X_0 Real)(declare-const Y_0 Real)"


def judge(net, prop_text, result_text, **kw):
    return check_result(net, parse_vnnlib(HEAD + prop_text), parse_result(result_text), **kw)


def test_exact_witness():
    r = judge(IDENTITY, "(assert (<= 0 X_0 1))(assert (>= Y_0 0.7))", "sat\n((X_0 0.75)\n (Y_0 0.75))")
    assert r.right and r.witness == {"decimal": True, "float64": True, "float32": True}  # 0.75 is dyadic
    assert r.replay == {"float64": True, "float32": True} and r.vnncomp == "correct"


def test_violation_only_at_the_printed_decimals():
    # 0.7 rounds down in both formats: binary64 0.6999999999999999556, binary32 0.6999999881
    r = judge(IDENTITY, "(assert (<= 0 X_0 1))(assert (>= Y_0 0.7))", "sat\n((X_0 0.7)\n (Y_0 0.7))")
    assert r.right and r.witness == {"decimal": True, "float64": False, "float32": False}
    assert r.replay == {"float64": False, "float32": False} and r.vnncomp == "correct_up_to_tolerance"


def test_marabou_miss_by_1e_16():
    # 0.4999999999999999 < 1/2 exactly and in binary64 (0.49999999999999988898); binary32 rounds it to 0.5
    r = judge(IDENTITY, "(assert (<= 0 X_0 1))(assert (>= Y_0 0.5))", "sat\n((X_0 0.4999999999999999)\n (Y_0 0.4999999999999999))")
    assert r.right is False and r.witness == {"decimal": False, "float64": False, "float32": True}
    assert r.replay == {"float64": False, "float32": True}
    assert r.vnncomp == "correct"  # the scorer's onnxruntime float32 sees 0.5 >= 0.5


def test_witness_outside_the_box_by_a_float32_bound():
    # the bound -0.30353115613746867 in binary32 is -0.3035311698913574, 1.4e-8 below it
    prop = "(assert (>= X_0 -0.30353115613746867))(assert (<= X_0 1))(assert (<= Y_0 -0.3))"
    r = judge(LINEAR, prop, "sat\n((X_0 -0.3035311698913574)\n (Y_0 -0.3035311698913574))")
    assert r.right is False and r.witness == {"decimal": False, "float64": False, "float32": False}
    assert r.replay == {"float64": False, "float32": False} and r.vnncomp == "correct_up_to_tolerance"


def test_far_witness_is_incorrect():
    r = judge(IDENTITY, "(assert (<= 0 X_0 1))(assert (>= Y_0 0.7))", "sat\n((X_0 0.5)\n (Y_0 0.7))")
    assert r.right is False and r.vnncomp == "incorrect" and not any(r.witness.values())
    assert r.diagnostics["printed_outputs_error"] == pytest.approx(0.2)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("sat\n((X_0 0.5) (X_1 0.2) (Y_0 1))", "inputs [0, 1]"),
        ("sat\n((Y_0 1))", "inputs []"),
        ("sat\n((X_0 nan) (Y_0 1))", "not a finite number"),
        ("sat", "no witness"),
        ("violated\n((X_0 0.5) (X_0 0.6))", "given twice"),
    ],
)
def test_bad_witnesses_are_incorrect_not_errors(text, problem):
    r = judge(IDENTITY, "(assert (<= 0 X_0 1))(assert (>= Y_0 0.7))", text)
    assert r.right is False and r.vnncomp == "incorrect" and any(problem in p for p in r.problems)


def test_unsat_claims_decided_exactly():
    box = "(assert (<= -1 X_0 2))"
    wrong = judge(ABS, box + "(assert (>= Y_0 2))", "unsat\n")  # |x| = 2 at x = 2: violated
    assert wrong.right is False and wrong.holds is False and wrong.counterexample["x"] == ["2"]
    right = judge(ABS, box + "(assert (> Y_0 2))", "holds", certificate=True)
    assert right.right and right.holds and right.certificate["claim"] == "holds"
    assert judge(ABS, box + "(assert (> Y_0 2))", "timeout").right


@pytest.mark.parametrize(
    "text, where",
    [("", "empty"), ("\nmaybe\n", "line 2"), ("sat\n((X_0 abc))", "line 2"), ("sat\n((X_0 0.5)", "line 2"),
     ("unsat\n((X_0 1))", "line 2"), ("sat\n((Z_0 1))", "line 2")],
)
def test_malformed_result_files(text, where):
    with pytest.raises(InputError) as e:
        parse_result(text, "r.txt")
    assert e.value.file == "r.txt" and where in str(e.value)


def test_cli_exit_statuses(tmp_path: Path, capsys):
    net = tmp_path / "abs.json"
    write_case(ABS, net)
    prop = tmp_path / "p.vnnlib"
    prop.write_text(HEAD + "(assert (<= -1 X_0 2))(assert (>= Y_0 1.5))")
    files = {"good": "sat\n((X_0 -1) (Y_0 1))\n", "bad": "sat\n((X_0 1.6) (Y_0 1.6))", "unsat": "unsat", "junk": "yes"}
    # x = -1: |x| = 1 < 1.5 is no counterexample; 1.6 is one
    files["good"], files["bad"] = files["bad"], files["good"]
    codes = {}
    for name, text in files.items():
        f = tmp_path / f"{name}.txt"
        f.write_text(text)
        codes[name] = main(["--json", "check-result", str(net), str(prop), str(f)])
        out = capsys.readouterr().out
        doc = json.loads(out)
        if name == "unsat":
            assert doc["holds"] is False and doc["counterexample"]["x"]
    assert codes == {"good": 0, "bad": 1, "unsat": 1, "junk": 2}
