"""The case format: round trips, and bad input reported with file, JSON path and exit 2."""

import json
from fractions import Fraction

import pytest
from hypothesis import given

from exactrelu.cli.main import main
from exactrelu.core.network import Network, activation, affine
from exactrelu.corpus import case_paths
from exactrelu.io.case import case_from_json, case_to_json, read_case, write_case
from exactrelu.strategies import networks

GOOD = {
    "format": "exactrelu-network/1",
    "name": "sawtooth-1",
    "input_dim": 1,
    "layers": [
        {"type": "affine", "weight": [["1"], ["1"], ["1"]], "bias": ["0", "-1/2", "-1"]},
        {"type": "relu"},
        {"type": "affine", "weight": [["1/2", "1", "-1/2"]], "bias": ["0"]},
    ],
}


@given(networks(max_input_dim=3, max_width=3, max_hidden_layers=3))
def test_read_write_read_is_identity(net):
    doc = case_to_json(net)
    again = case_from_json(json.loads(json.dumps(doc))).network
    assert again == net
    assert case_to_json(again) == doc


def test_write_is_atomic_and_readable(tmp_path):
    net = case_from_json(GOOD).network
    path = tmp_path / "net.json"
    write_case(net, path)
    assert read_case(path).network == net
    assert [p.name for p in tmp_path.iterdir()] == ["net.json"]  # no temporary left behind


def test_numpy_floats_are_read_exactly():
    np = pytest.importorskip("numpy")
    layer = affine(np.array([[0.1, 0.5]]), np.array([0.25]))
    assert layer.weight[0][0] == Fraction(0.1) and layer.weight[0][1] == Fraction(1, 2)


def test_consecutive_affine_and_activation_layers_chain():
    net = Network.from_layers(
        1, [affine([[2]]), affine([[1], [-1]], [1, 0]), activation("relu"), activation("abs"), affine([[1, 1]])]
    )
    assert len(net.chain.affines) == 3  # the two affine layers merged; identity between the activations
    assert net.evaluate([Fraction(1)]) == (Fraction(3),)  # relu(2+1) + |relu(-2)| = 3


def test_bundled_cases_load():
    paths = case_paths()
    assert paths
    for p in paths:
        read_case(p)


def _run_bad(tmp_path, capsys, doc, *extra):
    path = tmp_path / "bad.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    status = main(["jacobian", str(path), "--at", "0", *extra])
    err = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in err
    assert str(path) in err
    return err


def _mutate(fn):
    doc = json.loads(json.dumps(GOOD))
    fn(doc)
    return doc


def test_missing_key(tmp_path, capsys):
    err = _run_bad(tmp_path, capsys, _mutate(lambda d: d["layers"][0].pop("weight")))
    assert "layers[0].weight" in err and "missing key 'weight'" in err


def test_wrong_shape(tmp_path, capsys):
    err = _run_bad(tmp_path, capsys, _mutate(lambda d: d["layers"][0]["weight"][1].append("2")))
    assert "layers[0].weight[1]" in err and "expected a list of 1 numbers" in err


def test_mismatched_dimensions_between_layers(tmp_path, capsys):
    err = _run_bad(tmp_path, capsys, _mutate(lambda d: d["layers"][2]["weight"][0].pop()))
    assert "layers[2].weight" in err and "3 columns" in err


def test_unknown_activation(tmp_path, capsys):
    err = _run_bad(tmp_path, capsys, _mutate(lambda d: d["layers"][1].update(type="gelu")))
    assert "layers[1].type" in err and "'gelu'" in err


def test_non_increasing_spline_knots(tmp_path, capsys):
    spline = {"type": "spline", "knots": ["0", "0"], "slopes": ["0", "1", "2"], "value": "0"}
    err = _run_bad(tmp_path, capsys, _mutate(lambda d: d["layers"].__setitem__(1, spline)))
    assert "layers[1].knots[1]" in err and "increasing" in err


def test_non_number(tmp_path, capsys):
    err = _run_bad(tmp_path, capsys, _mutate(lambda d: d["layers"][0]["bias"].__setitem__(1, "half")))
    assert "layers[0].bias[1]" in err and "expected a number" in err


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_or_infinity(tmp_path, capsys, constant):
    text = json.dumps(GOOD).replace('"-1/2"', constant)
    err = _run_bad(tmp_path, capsys, text)
    assert "layers[0].bias[1]" in err and "finite" in err


def test_division_by_zero(tmp_path, capsys):
    err = _run_bad(tmp_path, capsys, _mutate(lambda d: d["layers"][0]["bias"].__setitem__(0, "1/0")))
    assert "layers[0].bias[0]" in err


def test_point_of_wrong_dimension(tmp_path, capsys):
    path = tmp_path / "good.json"
    path.write_text(json.dumps(GOOD))
    assert main(["jacobian", str(path), "--at", "1,2"]) == 2
    err = capsys.readouterr().err
    assert "--at" in err and "dimension 1" in err and "Traceback" not in err


def test_not_json(tmp_path, capsys):
    err = _run_bad(tmp_path, capsys, '{"format": ')
    assert "expected JSON" in err and "line 1" in err


def test_wrong_format_tag(tmp_path, capsys):
    err = _run_bad(tmp_path, capsys, _mutate(lambda d: d.update(format="other/2")))
    assert "format" in err


def test_missing_file(tmp_path, capsys):
    assert main(["jacobian", str(tmp_path / "nope.json"), "--at", "0"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_unknown_expected_key_is_bad_input(tmp_path, capsys):
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(_mutate(lambda d: d.update(expected={"lipschitz_constant": "1"}))))
    assert main(["verify", str(path)]) == 2
    assert "expected.lipschitz_constant" in capsys.readouterr().err


def test_failed_expectation_exits_1(tmp_path, capsys):
    doc = _mutate(lambda d: d.update(expected={"jacobian": [{"at": "1", "convention": "0", "jacobian": [["7"]]}]}))
    path = tmp_path / "wrong.json"
    path.write_text(json.dumps(doc))
    assert main(["verify", str(path)]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["jacobian"])
    assert e.value.code == 2
