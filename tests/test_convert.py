"""`exactrelu convert` between .json, .onnx, .nnet (and from .pt); every command reads every format."""

import json
from fractions import Fraction
from pathlib import Path

import pytest

from exactrelu.cli.main import main
from exactrelu.core.domain import Domain
from exactrelu.core.network import Network, activation, affine
from exactrelu.io.case import Case, read_case, write_case
from exactrelu.io.load import load_case

pytest.importorskip("onnx")

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"  # as tests/conftest.py
NNET = SHARED_DATA / "nnet" / "TestNetwork2.nnet"


def run(capsys, *argv):
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def sample_case(weight="0.375"):
    net = Network.from_layers(2, [affine([[1, "-0.5"], ["0.125", 2], [-1, 1]], ["0.25", 0, -1]), activation("relu"),
                                  affine([[weight, 1, 2]], [3])], name="sample", source="test_convert")
    return Case(net, Domain.from_box([["-1.5", 2], [0, "0.75"]]))


def test_json_onnx_nnet_json_is_the_identity_on_dyadic_decimals(tmp_path, capsys):
    src = tmp_path / "a.json"
    write_case(sample_case(), src)
    assert run(capsys, "convert", str(src), str(tmp_path / "b.onnx"))[0] == 0
    status, out, _ = run(capsys, "convert", "--json", str(tmp_path / "b.onnx"), str(tmp_path / "c.nnet"))
    doc = json.loads(out)
    assert status == 0 and doc["read_exact"] and doc["written_exact"] and doc["warnings"] == []
    assert run(capsys, "convert", str(tmp_path / "c.nnet"), str(tmp_path / "d.json"))[0] == 0
    a, d = read_case(src), read_case(tmp_path / "d.json")
    assert a.domain == d.domain and a.network.chain == d.network.chain


def test_writing_onnx_reports_rounding_and_onnxruntime_difference(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    src = tmp_path / "a.json"
    write_case(sample_case("1/3"), src)
    status, out, _ = run(capsys, "convert", "--json", str(src), str(tmp_path / "b.onnx"))
    doc = json.loads(out)
    assert status == 0 and not doc["written_exact"] and "1 weight" in doc["warnings"][0]
    assert 0 < doc["onnxruntime_max_abs_diff"] < 1e-14


@pytest.mark.skipif(not NNET.exists(), reason=f"shared data absent: {NNET}")
def test_every_command_reads_nnet_and_onnx(tmp_path, capsys):
    status, out, _ = run(capsys, "jacobian", "--json", str(NNET), "--at", "1000,0,0,500,300")
    assert status == 0 and len(json.loads(out)["jacobian"]) == 5
    run(capsys, "convert", str(NNET), str(tmp_path / "t.onnx"))
    status, out, _ = run(capsys, "jacobian", "--json", str(tmp_path / "t.onnx"), "--at", "1000,0,0,500,300")
    assert status == 0 and json.loads(out)["jacobian_float"][0][0] == pytest.approx(
        json.loads(run(capsys, "jacobian", "--json", str(NNET), "--at", "1000,0,0,500,300")[1])["jacobian_float"][0][0],
        rel=1e-12)
    assert load_case(str(tmp_path / "t.onnx")).domain == load_case(str(NNET)).domain  # the box travels in metadata


def test_torch_file_with_input_shape(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    m = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 2), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4, 1))
    torch.save(m, tmp_path / "m.pt")
    status, _, err = run(capsys, "convert", str(tmp_path / "m.pt"), str(tmp_path / "m.json"))
    assert status == 2 and "input_shape" in err
    status, out, _ = run(capsys, "convert", str(tmp_path / "m.pt"), str(tmp_path / "m.json"), "--input-shape", "1,3,3")
    assert status == 0 and "9 inputs" in out
    x = [Fraction(k, 3) for k in range(9)]
    want = m.double()(torch.tensor([float(v) for v in x], dtype=torch.float64).reshape(1, 1, 3, 3)).item()
    assert float(read_case(tmp_path / "m.json").network.evaluate(x)[0]) == pytest.approx(want, rel=1e-12)


def test_bad_suffixes_and_files_exit_2(tmp_path, capsys):
    src = tmp_path / "a.json"
    write_case(sample_case(), src)
    status, _, err = run(capsys, "convert", str(src), str(tmp_path / "b.txt"))
    assert status == 2 and "expected an output file" in err
    status, _, err = run(capsys, "convert", str(tmp_path / "missing.onnx"), str(tmp_path / "b.json"))
    assert status == 2 and "missing.onnx" in err
    status, _, err = run(capsys, "convert", str(src), str(tmp_path / "b.json"), "--input-shape", "2")
    assert status == 2 and "torch files" in err
