"""The oracle pointed at torch models built from the frameworks corpus reports exactly the
disagreements the corpus predicts, and nothing at smooth points; claimed Lipschitz bounds."""

from __future__ import annotations

from fractions import Fraction

import pytest

from exactrelu.calculus import derivative
from exactrelu.core.errors import InputError
from exactrelu.core.network import Network, activation, affine
from exactrelu.core.numbers import parse_point
from exactrelu.corpus import case_paths
from exactrelu.io.case import read_case
from exactrelu.oracle import check_lipschitz_claim, compare, is_binary64, sample_points

torch = pytest.importorskip("torch")
from exactrelu.oracle import torch_model  # noqa: E402

F = Fraction
FRAMEWORK_CASES = case_paths("frameworks")


def corpus_points(case):
    return sorted({parse_point(e["at"], case.network.input_dim) for e in case.expected["jacobian"]})


def predicted(case):
    """The points where the corpus says torch's value is not a Clarke derivative."""
    return {
        parse_point(e["at"], case.network.input_dim)
        for e in case.expected["jacobian"]
        if e.get("convention") == "torch" and e.get("in_clarke") is False
    }


@pytest.mark.parametrize("path", FRAMEWORK_CASES, ids=lambda p: p.stem)
def test_oracle_reports_what_the_corpus_predicts(path):
    case = read_case(path)
    net = case.network
    model = torch_model(net)
    points = corpus_points(case)
    report = compare(net, model, points=points)
    got = {d.point for d in report.disagreements}
    assert got == predicted(case)
    # and nothing at the smooth points of a random sample
    sampled = compare(net, model, samples=12, seed=3)
    assert sampled.counts()["random"] > 0
    assert [d for d in sampled.disagreements if d.kind == "random"] == []
    for d in report.disagreements:
        assert d.what == "jacobian" and d.in_clarke is False and "torch" in d.matches
        assert d.kind != "random"
    # against its own convention torch never disagrees
    assert compare(net, model, points=points, reference="torch").ok
    assert compare(net, model, samples=12, seed=3, reference="torch").ok


def test_nothing_at_smooth_points_and_wrong_values_caught():
    net = Network.from_layers(2, [affine([[1, 2], [-1, 1], [1, -1]], [0, 1, "1/2"]), activation("relu"), affine([[1, -1, 2]])])

    def exact_impl(x):
        pt = [F(v) for v in x]
        return [float(v) for v in net.evaluate(pt)], [[float(v) for v in r] for r in derivative(net, pt, "1/2").matrix]

    report = compare(net, exact_impl, samples=30, seed=7)
    assert report.counts()["random"] > 0 and report.counts()["kink"] > 0
    smooth = [d for d in report.disagreements if d.kind == "random"]
    assert smooth == []
    # every reported disagreement sits on a kink and is not in the Clarke Jacobian
    assert all(d.kinks and d.in_clarke is False for d in report.disagreements)

    def off_by_one(x):
        y, J = exact_impl(x)
        return y, [[v + 1e-3 for v in r] for r in J]

    bad = compare(net, off_by_one, samples=30, seed=7)
    assert any(d.kind == "random" for d in bad.disagreements)

    def wrong_output(x):
        y, J = exact_impl(x)
        return [v + 1 for v in y], J

    assert all(d.what == "output" for d in compare(net, wrong_output, samples=5, seed=1).disagreements)


def test_gradient_callable_and_matches():
    net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, -1]])])  # = x
    report = compare(net, lambda x: ([x[0]], [2.0 if x[0] == 0 else 1.0]), points=[[0], [1]])  # a gradient list
    (d,) = report.disagreements
    assert d.point == (F(0),) and d.got == ((2.0,),) and d.matches == ("c=1",) and d.in_clarke is False
    assert d.expected == ((F(1),),)


def test_sample_points_are_binary64_and_on_kinks():
    net = Network.from_layers(2, [affine([[1, "1/2"], [2, -1]], [0, 1]), activation("abs"), affine([[1, 1]])])
    pts = sample_points(net, 20, seed=2)
    assert all(is_binary64(v) for p in pts for v in p.point)
    for p in pts:
        pre = net.preactivations(p.point)
        for l, i, j in p.kinks:
            assert pre[l][i] == net.chain.acts[l][i].knots[j]
    assert {p.kind for p in pts} == {"random", "kink", "intersection"}


def test_bad_points():
    net = Network.from_layers(1, [affine([[1]]), activation("relu"), affine([[1]])])
    with pytest.raises(InputError):
        compare(net, torch_model(net), points=[["1/3"]])
    with pytest.raises(InputError):
        compare(net, lambda x: ([0.0], [[1.0, 2.0]]), points=[[1]])


def test_lipschitz_claims():
    net = Network.from_layers(2, [affine([[1, 1], [1, -1]]), activation("relu"), affine([[1, 1]])])
    # by hand: J = (2, 0) on x > |y|, (1, 1) or (1, -1) where one neuron is on: L_inf = 2 (row sum)
    assert check_lipschitz_claim(net, 2, norm="inf").holds
    assert not check_lipschitz_claim(net, 1.999, norm="inf").holds
    assert check_lipschitz_claim(net, "3/2", norm="inf", side="lower").holds
    assert not check_lipschitz_claim(net, 2.001, norm="inf", side="lower").holds
    one = Network.from_layers(2, [affine([[1, 1]]), activation("relu"), affine([[1]])])  # L_2 = sqrt(2)
    assert not check_lipschitz_claim(one, 1.4142, norm="2").holds
    assert check_lipschitz_claim(one, 1.4143, norm="2").holds
    assert check_lipschitz_claim(one, 1.4142, norm="2", side="lower").holds
    with pytest.raises(InputError):
        check_lipschitz_claim(one, 1, side="middle")
