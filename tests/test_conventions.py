"""The named conventions: the rules stated in issue 2 (read in each framework's source),
their citations, and the frameworks corpus checked against torch itself."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from exactrelu.core.activations import (
    KINDS,
    absolute,
    hardtanh,
    leaky_relu,
    relu,
    spline,
)
from exactrelu.core.conventions import (
    FRAMEWORK_OPS,
    FRAMEWORK_SOURCES,
    FRAMEWORKS,
    Family,
    Framework,
    PerKnot,
    parse_convention,
)
from exactrelu.core.errors import InputError
from exactrelu.core.numbers import parse_point
from exactrelu.corpus import case_paths
from exactrelu.io.case import read_case

F = Fraction


def value(name, fn, knot=0):
    return Framework(name).knot_value(fn, knot, 0, 0)


def test_rules_stated_in_the_issue():
    assert [value(n, relu()) for n in FRAMEWORKS] == [0, 0, 0]
    a = F(1, 10)
    assert [value(n, leaky_relu(a)) for n in FRAMEWORKS] == [a, 1, a]
    prelu = leaky_relu(F(-1, 4), "prelu")
    assert [value(n, prelu) for n in FRAMEWORKS] == [F(-1, 4), 1, 0]
    ht = hardtanh(-1, 1)
    assert [(value(n, ht, 0), value(n, ht, 1)) for n in FRAMEWORKS] == [(0, 0), (1, 1), (1, 1)]
    assert [value(n, absolute()) for n in FRAMEWORKS] == [0, 1, 0]
    s = spline([0, 1], [2, -1, 3], 0)  # left slopes at the knots: 2 and -1
    assert [(value(n, s, 0), value(n, s, 1)) for n in FRAMEWORKS] == [(2, -1)] * 3


def test_every_rule_has_a_source_and_an_op():
    for name in FRAMEWORKS:
        for kind in KINDS:
            assert "/" in FRAMEWORK_SOURCES[name][kind] or "as relu" in FRAMEWORK_SOURCES[name][kind]
            assert FRAMEWORK_OPS[name][kind]


def test_family_and_per_knot():
    assert Family(F(1, 4)).knot_value(absolute(), 0, 0, 0) == F(-1, 2)  # (3/4)(-1) + (1/4)(1)
    conv = PerKnot({(0, 1): F(7)}, Framework("jax"))
    assert conv.knot_value(relu(), 0, 0, 1) == 7
    assert conv.knot_value(absolute(), 0, 0, 0) == 1


@pytest.mark.parametrize("bad", ["pytorch", "1/0", "", "c2"])
def test_bad_convention(bad):
    with pytest.raises(InputError):
        parse_convention(bad)


FRAMEWORK_CASES = case_paths("frameworks")


def test_corpus_present():
    names = {p.stem for p in FRAMEWORK_CASES}
    assert {"relu-identity", "relu-of-identity", "relu-zero", "abs-zero", "max-tie", "hardtanh-bound"} <= names


@pytest.mark.parametrize("path", FRAMEWORK_CASES, ids=lambda p: p.stem)
def test_corpus_torch_entries_are_what_torch_returns(path):
    torch = pytest.importorskip("torch")
    from exactrelu.oracle import from_torch, torch_model

    case = read_case(path)
    run = from_torch(torch_model(case.network))
    entries = [e for e in case.expected["jacobian"] if e.get("convention") == "torch"]
    assert entries
    for e in entries:
        x = parse_point(e["at"], case.network.input_dim)
        _, J = run([float(v) for v in x])
        assert [[F(v) for v in row] for row in J] == [[F(v) for v in row] for row in e["jacobian"]], (path.stem, e["at"])


@pytest.mark.parametrize("path", FRAMEWORK_CASES, ids=lambda p: p.stem)
def test_corpus_entries_cite_sources(path):
    doc = json.loads(path.read_text())
    assert doc["source"]
    for e in doc["expected"]["jacobian"]:
        if e.get("convention") in FRAMEWORKS:
            assert "source" in e and e["source"]


def test_identity_prelu_at_zero_is_zero_only_in_tensorflow():
    """keras PReLU is relu(x) − α·relu(−x): with α = 1 the function is x, yet at 0 each
    relu' is 0, so TensorFlow's derivative there is 0 (torch's ``x > 0 ? g : α·g`` and
    flax's ``where(x >= 0, x, α·x)`` give 1). The net is z ↦ PReLU_1(z) at z = x = 0."""
    from exactrelu.calculus import derivative
    from exactrelu.core.network import Network, activation, affine

    net = Network.from_layers(1, [affine([[1]], [0]), activation("prelu", alpha=[1]), affine([[1]], [0])])
    assert [derivative(net, [0], c).matrix for c in FRAMEWORKS] == [((1,),), ((1,),), ((0,),)]
    assert derivative(net, [0], "tensorflow").knots == ()  # not a knot of the function
    assert derivative(net, [Fraction(1, 2)], "tensorflow").matrix == ((1,),)
