"""The .nnet format: the ACAS Xu-sized reference networks, read exactly, against an
independent Fraction implementation of the format's reference arithmetic; the ONNX twin
measured against it; writing; malformed files."""

import warnings
from fractions import Fraction
from pathlib import Path

import pytest

from exactrelu.core.domain import Domain
from exactrelu.core.errors import InputError
from exactrelu.core.network import Network, activation, affine
from exactrelu.io.case import Case
from exactrelu.io.layers import InexactConversion
from exactrelu.io.nnet import read_nnet, write_nnet

# tests/conftest.py's SHARED_DATA (conftest is not importable under --import-mode=importlib)
SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
NNET = SHARED_DATA / "nnet" / "TestNetwork2.nnet"
ONNX_TWIN = SHARED_DATA / "nnet" / "TestNetwork2.onnx"
needs_data = pytest.mark.skipif(not NNET.exists(), reason=f"shared data absent: {NNET} (see /work/shared/data/README.md)")


def reference_nnet(path):
    """The format's reference evaluation (sisl/NNet python/nnet.py), written again here with
    Fractions from the text: clamp to [min, max], (x - mean)/range, ReLU layers, y*range + mean."""
    lines = [ln for ln in Path(path).read_text().splitlines() if not ln.startswith("//")]
    nums = lambda ln: [Fraction(t) for t in ln.strip().strip(",").split(",")]  # noqa: E731
    n_layers, n_in, n_out, _ = [int(v) for v in nums(lines[0])]
    sizes = [int(v) for v in nums(lines[1])]
    mins, maxes, means, ranges = (nums(lines[k]) for k in (3, 4, 5, 6))
    pos, weights, biases = 7, [], []
    for k in range(n_layers):
        weights.append([nums(lines[pos + i]) for i in range(sizes[k + 1])])
        pos += sizes[k + 1]
        biases.append([nums(lines[pos + i])[0] for i in range(sizes[k + 1])])
        pos += sizes[k + 1]

    def evaluate(x):
        v = [(min(max(xi, lo), hi) - m) / r for xi, lo, hi, m, r in zip(x, mins, maxes, means, ranges)]
        for k in range(n_layers):
            v = [sum(w * a for w, a in zip(row, v)) + b for row, b in zip(weights[k], biases[k])]
            if k < n_layers - 1:
                v = [max(a, Fraction(0)) for a in v]
        return [y * ranges[-1] + means[-1] for y in v]

    return evaluate, list(zip(mins, maxes)), n_in, n_out


def sample_points(box, count=12):
    """Deterministic rational points inside the box (corners excluded: the clamp is the identity there too)."""
    pts = []
    for k in range(count):
        pts.append([lo + (hi - lo) * Fraction((7 * k + 3 * i + 1) % 23 + 1, 25) for i, (lo, hi) in enumerate(box)])
    return pts


@needs_data
def test_testnetwork2_reads_exactly_like_the_reference_arithmetic():
    case = read_nnet(str(NNET))
    ref, box, n_in, n_out = reference_nnet(NNET)
    assert case.network.input_dim == n_in == 5 and case.network.output_dim == n_out == 5
    assert case.network.chain.widths == (50,) * 6
    assert case.domain.box == tuple((Fraction(lo), Fraction(hi)) for lo, hi in box)
    assert case.domain.box[1] == (Fraction("-3.141593"), Fraction("3.141593"))  # decimals stay decimal
    for x in sample_points(box) + [[lo for lo, _ in box], [hi for _, hi in box]]:
        assert list(case.network.evaluate(x)) == ref(x)


@needs_data
def test_without_normalisation_the_raw_network_is_read():
    raw = read_nnet(str(NNET), normalize=False)
    norm = read_nnet(str(NNET))
    assert len(norm.network.layers) == len(raw.network.layers) + 2  # input and output normalisation layers
    # the raw network at the normalised input, rescaled, is the normalised network
    x = [Fraction(30000), Fraction(1, 2), Fraction(-1), Fraction(700), Fraction(600)]
    means = [Fraction("19791.091"), Fraction(0), Fraction(0), Fraction(650), Fraction(600), Fraction("7.5188840201")]
    ranges = [Fraction("60261.0"), Fraction("6.28318530718"), Fraction("6.28318530718"), Fraction(1100), Fraction(1200),
              Fraction("373.94992")]
    xn = [(v - m) / r for v, m, r in zip(x, means, ranges)]
    assert [y * ranges[-1] + means[-1] for y in raw.network.evaluate(xn)] == list(norm.network.evaluate(x))


@needs_data
@pytest.mark.skipif(not ONNX_TWIN.exists(), reason=f"shared data absent: {ONNX_TWIN}")
def test_onnx_twin_agrees_only_up_to_float32_rounding():
    pytest.importorskip("onnx")
    from exactrelu.io.onnx import read_onnx

    exact_case = read_nnet(str(NNET))
    twin = read_onnx(str(ONNX_TWIN)).network
    _, box, _, _ = reference_nnet(NNET)
    worst_abs, worst_rel = Fraction(0), Fraction(0)
    for x in sample_points(box, 16):
        for a, b in zip(exact_case.network.evaluate(x), twin.evaluate(x)):
            worst_abs = max(worst_abs, abs(a - b))
            worst_rel = max(worst_rel, abs(a - b) / abs(a))
    # the twin holds float32 weights with the normalisation folded in: close, never equal
    assert 0 < worst_abs < Fraction(1, 10**3)
    assert worst_rel < Fraction(1, 10**5)


def tiny_case(weight="1/4"):
    net = Network.from_layers(2, [affine([[1, "-0.5"], ["0.125", 2]], ["0.1", 0]), activation("relu"),
                                  affine([[weight, 1]], [3])], name="tiny")
    return Case(net, Domain.from_box([["-1.5", 2], [0, "0.3"]]))


def test_write_then_read_is_exact_on_decimal_weights(tmp_path):
    case = tiny_case()
    path = tmp_path / "tiny.nnet"
    with warnings.catch_warnings():
        warnings.simplefilter("error", InexactConversion)
        write_nnet(case, str(path))
    back = read_nnet(str(path))
    assert back.domain == case.domain
    assert back.network.chain == case.network.chain  # means 0 and ranges 1: no normalisation layers


def test_write_warns_on_numbers_without_a_decimal(tmp_path):
    with pytest.warns(InexactConversion, match="1 number"):
        write_nnet(tiny_case("1/3"), str(tmp_path / "t.nnet"))


def test_write_refuses_what_the_format_cannot_hold(tmp_path):
    case = tiny_case()
    with pytest.raises(InputError, match="box domain"):
        write_nnet(Case(case.network, Domain.whole(2)), str(tmp_path / "a.nnet"))
    net = Network.from_layers(1, [affine([[1]]), activation("abs"), affine([[1]])])
    with pytest.raises(InputError, match="ReLU networks only"):
        write_nnet(Case(net, Domain.from_box([[0, 1]])), str(tmp_path / "b.nnet"))


@pytest.mark.parametrize(
    "text, message",
    [
        ("// c\n1,1,1,1,\n1,1,\n0,\n0,\n1,\n0,0,\n1,1,\n", "unexpected end of file"),
        ("1,1,1,1,\n1,2,\n0,\n0,\n1,\n0,0,\n1,1,\n1,\n0,\n", "do not start with 1 inputs and end with 1 outputs"),
        ("1,1,1,1,\n1,1,\n0,\n0,\n1,\n0,0,\n1,0,\n1,\n0,\n", "nonzero ranges"),
        ("1,1,1,1,\n1,1,\n0,\n0,\n1,\n0,0,\n1,1,\n1,2,\n0,\n", "line 8"),
        ("1,1,1,1,\n1,1,\n0,\n0,\n1,\n0,0,\n1,1,\nabc,\n0,\n", "expected a number"),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.nnet"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as e:
        read_nnet(str(path))
    assert "bad.nnet" in str(e.value)
