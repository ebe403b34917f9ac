"""The soundness corpus `cases/properties/`: every verdict written there by hand (with the
unique counterexample and its float replays where there is one) is what `prove` finds;
and the shared toy VNN-COMP instances, whose verdicts their names and README state."""

from __future__ import annotations

from pathlib import Path

import pytest

from exactrelu.io.case import read_case
from exactrelu.io.load import load_case
from exactrelu.properties.prove import prove
from exactrelu.properties.vnnlib import read_vnnlib
from exactrelu.verify import verify_case

TOY = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "vnncomp" / "toy"
CASES = sorted((Path(__file__).resolve().parent.parent / "cases" / "properties").glob("*.json"))


def test_corpus_present():
    assert len(CASES) >= 8


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_corpus_verdicts(path):
    checks = verify_case(read_case(path))
    assert checks and all(c.ok for c in checks), [c.to_json() for c in checks if not c.ok]


def test_corpus_has_float_disagreements():
    """Both directions of Jia & Rinard's trap are in the corpus: a counterexample that only
    float32 sees (exactly, the property holds), and one that the float networks miss."""
    found = {"f32 only": False, "exact only": False}
    for path in CASES:
        for entry in read_case(path).expected["properties"]:
            if path.stem == "absorb-f32-only":
                found["f32 only"] |= entry["result"] == "holds"
            if entry.get("replay") == {"float64": False, "float32": False} or entry.get("replay", {}).get("float32") is False:
                found["exact only"] |= entry["result"] == "violated"
    assert all(found.values()), found


@pytest.mark.skipif(not TOY.is_dir(), reason="shared data absent")
@pytest.mark.parametrize(
    "net, prop, verdict",
    [
        ("tiny-2-3-2.onnx", "tiny-2-3-2_holds.vnnlib", "holds"),
        ("tiny-2-3-2.onnx", "tiny-2-3-2_violated.vnnlib", "violated"),
        ("test_nano.onnx", "test_nano.vnnlib", "holds"),
        ("test_tiny.onnx", "test_tiny.vnnlib", "holds"),
        ("test_small.onnx", "test_small.vnnlib", "holds"),
        ("test_sat.onnx", "test_prop.vnnlib", "violated"),
        ("test_unsat.onnx", "test_prop.vnnlib", "holds"),
    ],
)
def test_toy_instances(net, prop, verdict):
    case = load_case(str(TOY / net))
    res = prove(case.network, read_vnnlib(TOY / prop), onnx_path=str(TOY / net))
    assert res.value == verdict
    if verdict == "violated":
        p = read_vnnlib(TOY / prop)
        x = res.counterexample.x
        assert p.in_input_set(x) and p.violated_at(x, case.network.evaluate(x))
