"""The VNN-COMP tool interface (vnncomp/prepare_instance.sh, run_instance.sh) on toy instances:
the result files it writes, judged by check-result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from exactrelu.io.load import load_case
from exactrelu.properties.result import check_result, read_result
from exactrelu.properties.vnnlib import read_vnnlib

REPO = Path(__file__).resolve().parent.parent
TOY = REPO.parent / "shared" / "data" / "vnncomp" / "toy"
ACAS = REPO.parent / "shared" / "data" / "vnncomp" / "acasxu"
pytestmark = pytest.mark.skipif(not TOY.is_dir(), reason="shared data absent")


def run(script: str, *args: str) -> int:
    env = dict(os.environ, EXACTRELU_PYTHON=sys.executable)
    return subprocess.run(["bash", str(REPO / "vnncomp" / script), *args], env=env, capture_output=True, text=True, timeout=300).returncode


@pytest.mark.parametrize("prop, first", [("tiny-2-3-2_holds.vnnlib", "unsat"), ("tiny-2-3-2_violated.vnnlib", "sat")])
def test_run_instance_writes_a_result_that_checks(tmp_path, prop, first):
    onnx, vnnlib, out = str(TOY / "tiny-2-3-2.onnx"), str(TOY / prop), tmp_path / "result.txt"
    assert run("prepare_instance.sh", "v1", "toy", onnx, vnnlib) == 0
    assert run("run_instance.sh", "v1", "toy", onnx, vnnlib, str(out), "60") == 0
    res = read_result(out)
    assert res.claimed == first
    verdict = check_result(load_case(onnx).network, read_vnnlib(vnnlib), res, onnx_path=onnx)
    assert verdict.right
    if first == "sat":
        assert verdict.vnncomp == "correct"


def test_bad_instance_and_timeout(tmp_path):
    bad = tmp_path / "bad.vnnlib"
    bad.write_text("(declare-const X_0 Real)(assert (<= X_0 1)")
    assert run("prepare_instance.sh", "v1", "toy", str(TOY / "tiny-2-3-2.onnx"), str(bad)) == 1
    out = tmp_path / "r.txt"
    run("run_instance.sh", "v1", "toy", str(TOY / "tiny-2-3-2.onnx"), str(bad), str(out), "10")
    assert out.read_text().strip() == "error"
    if ACAS.is_dir():  # ACAS Xu prop 3 on 1_1 takes far longer than one second
        run("run_instance.sh", "v1", "acasxu", str(ACAS / "ACASXU_run2a_1_1_batch_2000.onnx"), str(ACAS / "prop_3.vnnlib"), str(out), "2")
        assert out.read_text().strip() == "timeout"
