"""The checker's own case reader: strict, bounded, and agreeing with the engine's reader
on every bundled case (two independent implementations of SPEC §2)."""

from __future__ import annotations

import glob
import random
from fractions import Fraction

import pytest

from exactrelu.checker.reader import (
    Limits,
    Malformed,
    Reader,
    load_json,
    make_pl,
    read_case,
    read_domain,
    read_network,
)

F = Fraction


def _net(layers, dim=1, **extra):
    return {"format": "exactrelu-network/1", "input_dim": dim, "layers": layers, **extra}


@pytest.mark.parametrize("path", sorted(glob.glob("cases/*/*.json")))
def test_agrees_with_the_engine_on_bundled_cases(path):
    from exactrelu.io.case import read_case as engine_read

    net, dom = read_case(load_json(open(path, "rb").read()))
    case = engine_read(path)
    chain = case.network.chain
    assert [(a.weight, a.bias) for a in net.affines] == [(a.weight, a.bias) for a in chain.affines]
    assert [[(f.knots, f.slopes, f.value) for f in a.functions] for a in net.activations] == [
        [(f.knots, f.slopes, f.value) for f in fns] for fns in chain.acts
    ]
    assert dom == tuple(zip(case.domain.A, case.domain.b))
    rng = random.Random(path)
    if net.input_dim <= 20:
        for _ in range(4):
            x = [F(rng.randint(-30, 30), rng.randint(1, 7)) for _ in range(net.input_dim)]
            assert net.forward(x) == case.network.evaluate(x)


def test_forward_by_hand():
    # |x| - 2 relu(x - 1) + hardtanh(x): at x = 3: 3 - 4 + 1 = 0; at x = -1/2: 1/2 - 0 - 1/2 = 0;
    # at x = 1/2: 1/2 + 1/2 = 1
    doc = _net([
        {"type": "affine", "weight": [["1"], ["1"], ["1"]], "bias": ["0", "-1", "0"]},
        {"type": "spline", "knots": [["0"], ["0"], ["-1", "1"]], "slopes": [["-1", "1"], ["0", "1"], ["0", "1", "0"]],
         "value": ["0", "0", "-1"]},
        {"type": "affine", "weight": [["1", "-2", "1"]]},
    ])
    net = read_network(doc)
    assert [net.forward([F(x)])[0] for x in (3, F(-1, 2), F(1, 2))] == [0, 0, 1]


def test_knots_without_a_slope_change_are_dropped():
    f = make_pl([0, 1, 2], [1, 1, 2, 2], 5)  # one real knot, at 1, where f = 6
    assert (f.knots, f.slopes, f.value) == ((F(1),), (F(1), F(2)), F(6))
    g = make_pl([3], [2, 2], 1)  # linear: 2 t - 5
    assert (g.knots, g.slopes, g.value) == ((), (F(2),), F(-5)) and g(F(0)) == -5
    net = read_network(_net([{"type": "leaky_relu", "alpha": "1"}]))
    assert net.activations[0].functions[0].knots == ()


@pytest.mark.parametrize("text, value", [
    ("3", F(3)), ("-7/14", F(-1, 2)), ("7/-14", F(-1, 2)), ("0.125", F(1, 8)), ("-3e-2", F(-3, 100)),
    (".5", F(1, 2)), ("1.", F(1)), ("+2", F(2)), ("1E2", F(100)), (0.1, F(0.1)), (12, F(12)),
])
def test_numbers(text, value):
    assert Reader().number(text, "x") == value


@pytest.mark.parametrize("text", [
    "", " 1", "1 ", "1/0", "0x10", "1_000", "١٢", "1e", "e5", "--1", "1/2/3", "nan", "inf", "1.5/2", True, None,
    [1], {"a": 1}, float("inf"), float("nan"), "1e999999999", "1e-999999999", "9" * 5000, 10 ** 20000,
    "1" + "0" * 4000 + "/3",
], ids=lambda v: "a long int" if isinstance(v, int) and v > 10**100 else ascii(v)[:20])
def test_bad_numbers(text):
    with pytest.raises(Malformed) as e:
        Reader().number(text, "w[0]")
    assert e.value.path == "w[0]"


def test_limits_can_be_raised():
    big = "9" * 5000
    assert Reader(Limits(max_digits=6000)).number(big, "x") == 10**5000 - 1
    assert Reader(Limits(max_digits=6000)).number("1e5000", "x") == 10**5000


@pytest.mark.parametrize("doc, path", [
    (_net([{"type": "relu"}], domian={"box": [[0, 1]]}), "network"),
    (_net([{"type": "relu", "alpha": "1"}]), "network.layers[0]"),
    (_net([{"type": {"a": 1}}]), "network.layers[0].type"),
    (_net([{"type": ["relu"]}]), "network.layers[0].type"),
    (_net([{"type": "affine", "weight": [["1", "2"]]}]), "network.layers[0].weight"),
    (_net([{"type": "affine", "weight": []}]), "network.layers[0].weight"),
    (_net([{"type": "affine", "weight": [["1"]], "bias": ["1", "2"]}]), "network.layers[0].bias"),
    (_net([{"type": "prelu", "alpha": ["1", "2"]}]), "network.layers[0].alpha"),
    (_net([{"type": "hardtanh", "min": "1", "max": "1"}]), "network.layers[0].max"),
    (_net([{"type": "spline", "knots": ["1", "0"], "slopes": ["0", "1", "0"], "value": "0"}]), "network.layers[0].knots[1]"),
    (_net([{"type": "spline", "knots": ["0"], "slopes": ["0"], "value": "0"}]), "network.layers[0].slopes"),
    (_net([], dim=1), "network.layers"),
    (_net([{"type": "relu"}], dim=0), "network.input_dim"),
    (_net([{"type": "relu"}], dim=1.0), "network.input_dim"),
    (_net([{"type": "relu"}], dim=True), "network.input_dim"),
    ({"format": "exactrelu-network/2", "input_dim": 1, "layers": [{"type": "relu"}]}, "network.format"),
    ([], "network"),
])
def test_bad_networks(doc, path):
    with pytest.raises(Malformed) as e:
        read_network(doc)
    assert e.value.path == path


@pytest.mark.parametrize("dom, path", [
    ({"box": [[1, 0]]}, "domain.box[0]"),
    ({"box": [[0, 1], [0, 1]]}, "domain.box"),
    ({"box": [[0, 1]], "halfspaces": {}}, "domain"),
    ({"halfspaces": {"A": [["1", "2"]], "b": ["0"]}}, "domain.halfspaces.A[0]"),
    ({"halfspaces": {"A": [["1"]], "b": ["0"], "c": 1}}, "domain.halfspaces"),
    ({"halfspaces": {"A": [["1"]], "b": ["0", "1"]}}, "domain.halfspaces.b"),
])
def test_bad_domains(dom, path):
    with pytest.raises(Malformed) as e:
        read_domain(dom, 1)
    assert e.value.path == path


def test_halfspace_domain_rows():
    assert read_domain({"halfspaces": {"A": [["1", "-1"]], "b": ["1/2"]}}, 2) == (((F(1), F(-1)), F(1, 2)),)
    assert read_domain(None, 3) == ()


@pytest.mark.parametrize("data", [
    b"\xff\xfe{}", '{"a": 1}'.encode("utf-16"), b"[" * 100 + b"]" * 100, b"[" * 100000, b'{"a": NaN}',
    b'{"a": Infinity}', b'{"a": 1, "a": 1}', b"1" * 5000, b'{"a": 1', b"",
])
def test_bad_json(data):
    with pytest.raises(Malformed):
        load_json(data)


def test_json_size_limit():
    with pytest.raises(Malformed):
        load_json(b"[1, 2, 3]", Limits(max_bytes=4))
    assert load_json('["[[[[", "\\"[[["]', Limits(max_depth=1)) == ["[[[[", '"[[[']  # brackets in strings do not nest


def test_work_limit():
    """A short file cannot ask for a huge pass: 10^5 inputs make a 10^10-entry identity Jacobian."""
    with pytest.raises(Malformed) as e:
        read_network(_net([{"type": "relu"}], dim=100_000))
    assert "max_work" in str(e.value)
    assert read_network(_net([{"type": "relu"}], dim=300)).input_dim == 300


@pytest.mark.parametrize("text", [" 1/2 ", "\t3\n", "-0.25 ", "\u00a01", "1\u2003", "1 /2", " ", "\u0661"])
def test_a_hand_written_case_number_is_read_as_the_engine_reads_it(text):
    """With ``padded_numbers`` (check --case) the checker reads a number in a string as the
    engine does: ASCII spaces around it allowed, any other space or one inside refused by
    both; without it (certificates) a padded number is refused."""
    from exactrelu.core.errors import InputError
    from exactrelu.core.numbers import parse_number

    try:
        engine = parse_number(text, "x")
    except InputError:
        engine = None
    try:
        checker = Reader(Limits(padded_numbers=True)).number(text, "x")
    except Malformed:
        checker = None
    assert engine == checker
    assert (engine is None) == (text in ("\u00a01", "1\u2003", "1 /2", " ", "\u0661"))
    if text != text.strip():
        with pytest.raises(Malformed):
            Reader().number(text, "x")
