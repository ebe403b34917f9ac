"""The oracle pointed at torch models built from the frameworks corpus reports exactly the
disagreements the corpus predicts, and nothing at smooth points; kink points on float
networks (coverage); readable reports; NaN from the other side; claimed Lipschitz bounds,
region counts and output bounds against brute force."""

from __future__ import annotations

from fractions import Fraction

import pytest
from brute import full_dimensional_regions  # tests/ is on pythonpath
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exactrelu.calculus import derivative
from exactrelu.claims import check_output_bounds, check_region_count
from exactrelu.core.domain import Domain
from exactrelu.core.errors import InputError
from exactrelu.core.network import Network, activation, affine
from exactrelu.core.numbers import parse_point
from exactrelu.corpus import case_paths
from exactrelu.io.case import case_to_json, read_case
from exactrelu.kinkpoints import float64_exact_layers
from exactrelu.kinkpoints import sample_points as kink_sample
from exactrelu.oracle import (
    OpPreset,
    check_lipschitz_claim,
    compare,
    is_binary64,
    sample_points,
)
from exactrelu.strategies import boxes, networks, polyhedra

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


def test_lipschitz_claims_three_way():
    net = Network.from_layers(2, [affine([[1, 1], [1, -1]]), activation("relu"), affine([[1, 1]])])  # L_inf = 2
    below = 1.9999999999999998  # the float just below 2: an exactly tight estimate off by one ulp
    r = check_lipschitz_claim(net, below, norm="inf")
    assert r.value == "unsound" and r.gap == F(below) - 2 == -F(1, 2**52) and not r.ok
    assert check_lipschitz_claim(net, below, norm="inf", ulps=1).value == "sound within tolerance"
    assert check_lipschitz_claim(net, below, norm="inf", rel_tol=F(1, 2**53)).value == "sound within tolerance"
    assert check_lipschitz_claim(net, below, norm="inf", rel_tol=F(1, 2**54)).value == "unsound"
    assert check_lipschitz_claim(net, 2, norm="inf").value == "sound"
    assert check_lipschitz_claim(net, 2.5, norm="inf", side="lower", rel_tol="1/4").value == "sound within tolerance"
    one = Network.from_layers(2, [affine([[1, 1]]), activation("relu"), affine([[1]])])  # L_2 = sqrt(2)
    r2 = check_lipschitz_claim(one, 1.4142, norm="2")
    lo, hi = r2.gap_interval  # encloses 1.4142 - sqrt(2)
    assert r2.gap is None and lo < hi and (F(1.4142) - lo) ** 2 >= 2 >= (F(1.4142) - hi) ** 2
    assert "unsound" in str(r2) and r2.gap_decimal.startswith("-1.35623")


def _torch_net(dims, seed):
    torch.manual_seed(seed)
    mods = []
    for i in range(len(dims) - 1):
        mods.append(torch.nn.Linear(dims[i], dims[i + 1]))
        if i < len(dims) - 2:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)


@pytest.mark.parametrize("dims", [[3, 8, 8, 2], [4, 16, 1]])
def test_kink_points_on_torch_initialised_float32_nets(dims):
    """At least 80% of the points are exactly on kinks, and torch itself (float64, the
    weights the float32 values) computes those neurons' pre-activations as exactly 0."""
    from exactrelu.io.torch import network_from_torch

    model = _torch_net(dims, 1)
    net = network_from_torch(model)
    pts = kink_sample(net, 30, seed=2)
    on = [p for p in pts if p.kinks]
    assert len(pts) == 30 and len(on) >= 24
    linears = [m.to(torch.float64) for m in model if isinstance(m, torch.nn.Linear)]
    for p in on:
        assert p.float64_exact and float64_exact_layers(net, p.point) > max(l for l, _, _ in p.kinks)
        h = torch.tensor([float(v) for v in p.point], dtype=torch.float64)
        pre = []
        for lin in linears[:-1]:  # torch's own float64 pre-activations, layer by layer
            pre.append(lin(h).tolist())
            h = torch.relu(lin(h))
        for l, i, j in p.kinks:
            assert pre[l][i] == 0.0 and net.preactivations(p.point)[l][i] == 0
    report = compare(net, model, points=[p.point for p in pts], reference="torch")
    assert report.ok and report.kink_share >= 0.8


def test_kinks_that_float64_rounds_pass_as_clarke_values():
    """In the plane few kink points are float64-exact, so points exactly on deeper kinks
    fill up; there torch sees one side of the kink: a Clarke value with long exact
    fractions, which passes within the tolerance (under a convention reference too)."""
    from exactrelu.io.torch import network_from_torch

    model = _torch_net([2, 8, 8, 1], 0)
    net = network_from_torch(model)
    for reference in ("clarke", "torch"):
        report = compare(net, model, samples=30, seed=0, reference=reference)
        assert report.ok and report.kink_share >= 0.8
        assert any(p.kinks and not p.float64_exact for p in report.points)


def test_a_report_on_no_kink_is_not_ok():
    net = Network.from_layers(1, [affine([[3]], [-1]), activation("relu"), affine([[1]])])  # kink at 1/3
    report = compare(net, torch_model(net), samples=10)
    assert report.disagreements == () and not report.ok and report.untested and "NOT OK" in str(report)
    assert compare(net, torch_model(net), samples=10, require_kinks=False).ok
    linear = Network.from_layers(1, [affine([[2]])])  # nothing to hit
    assert compare(linear, torch_model(linear), samples=4).ok


def test_nan_and_inf_are_disagreements_and_the_table_reads():
    net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, -1]])])  # = x

    def broken(x):
        return [x[0]], [float("nan") if x[0] == 0 else float("inf")]

    report = compare(net, broken, points=[[0], [1]])
    assert [d.in_clarke for d in report.disagreements] == [None, None]
    text = str(report)
    assert "[[nan]]" in text and "[[inf]]" in text and "not a finite matrix" in text
    with pytest.raises(AssertionError, match="2 disagreements at 2 points"):
        report.assert_ok()
    out = compare(net, lambda x: ([float("nan")], [1.0]), points=[[1]])
    assert out.disagreements[0].what == "output" and "expected  [[1]]" in str(out)


def test_op_presets_in_matches():
    net = Network.from_layers(1, [affine([[1]]), activation("hardtanh", min=-1, max=1), affine([[1]])])

    def clamp(x):  # torch.clamp: the gradient passes at the bounds
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        y = torch.clamp(xt, -1, 1)
        y.sum().backward()
        return y.tolist(), xt.grad.tolist()

    at_bounds = [[1], [-1]]
    report = compare(net, clamp, points=at_bounds, reference="torch")
    assert len(report.disagreements) == 2
    assert all("torch.clamp" in d.matches and "torch" not in d.matches for d in report.disagreements)
    assert compare(net, clamp, points=at_bounds, reference="torch.clamp").ok
    assert compare(net, clamp, points=at_bounds, reference=OpPreset("torch.clamp")).ok
    with pytest.raises(InputError):
        OpPreset("torch.clip")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2, kinds=("relu", "leaky_relu", "abs")), st.data())
def test_region_count_check_against_brute_force(net, data):
    domain = data.draw(st.one_of(st.none(), boxes(net.input_dim), polyhedra(net.input_dim)))
    count = len(full_dimensional_regions(case_to_json(net, domain)))
    right = check_region_count(net, domain, count)
    assert right.holds and right.exact == count and right.value == "correct"
    assert check_region_count(net, domain, count + 1).value == "wrong"


def test_region_count_lists_slivers_and_coincident_hyperplanes():
    eps = "1/1000000000"
    net = Network.from_layers(2, [affine([[1, 0], [1, 0], [0, 1], [0, 2]], [0, f"-{eps}", 0, 0]), activation("relu"),
                                  affine([[1, 1, 1, 1]])])
    r = check_region_count(net, Domain.from_box([[-1, 1], [-1, 1]]), 4)
    # by hand: x = 0, x = 1e-9 and y = 0 (twice, coincident) cut the square into 3 x 2 = 6 regions
    assert r.exact == 6 and not r.holds
    thin = [f for f in r.fragile if f.reason == "thin"]
    assert len(thin) == 2 and all(0 < float(f.witness[0]) < 1e-9 for f in thin)
    assert {f.neurons for f in r.fragile if f.reason == "coincident hyperplanes"} == {((0, 2), (0, 3))}
    with pytest.raises(InputError):
        check_region_count(net, None, 4, definition="faces")


def _brute_range(net, domain):
    """Each output's min and max over the brute-force regions' closures, at their vertices
    (all n-subsets of each region's rows solved exactly, kept when feasible)."""
    import itertools

    n, m = net.input_dim, net.output_dim
    lo, hi = [None] * m, [None] * m
    for r in full_dimensional_regions(case_to_json(net, domain)):
        for subset in itertools.combinations(r.rows, n):
            A = [list(a) for a, _ in subset]
            b = [beta for _, beta in subset]
            x = _solve(A, b)
            if x is None or not all(sum(a * v for a, v in zip(row, x)) <= beta for row, beta in r.rows):
                continue
            for k in range(m):
                y = sum(J * v for J, v in zip(r.jacobian[k], x)) + r.offset[k]
                lo[k] = y if lo[k] is None or y < lo[k] else lo[k]
                hi[k] = y if hi[k] is None or y > hi[k] else hi[k]
    return lo, hi


def _solve(A, b):
    n = len(A)
    M = [row + [v] for row, v in zip(A, b)]
    for c in range(n):
        p = next((r for r in range(c, n) if M[r][c] != 0), None)
        if p is None:
            return None
        M[c], M[p] = M[p], M[c]
        for r in range(n):
            if r != c and M[r][c] != 0:
                f = M[r][c] / M[c][c]
                M[r] = [a - f * bb for a, bb in zip(M[r], M[c])]
    return [M[i][n] / M[i][i] for i in range(n)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2), st.data())
def test_output_bounds_against_brute_force(net, data):
    domain = data.draw(st.one_of(boxes(net.input_dim), polyhedra(net.input_dim)))
    lo, hi = _brute_range(net, domain)
    exact = check_output_bounds(net, domain, lo, hi)
    assert exact.holds and list(exact.exact_lower) == lo and list(exact.exact_upper) == hi
    k = data.draw(st.integers(0, net.output_dim - 1))
    tighter = list(hi)
    tighter[k] = hi[k] - F(1, 1000)
    bad = check_output_bounds(net, domain, None, tighter)
    point, j, value = bad.counterexample
    assert bad.value == "unsound" and domain.contains(point) and net.evaluate(point)[j] == value > tighter[j]


def test_output_bounds_unbounded_and_bad_input():
    net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])  # |x| on R
    r = check_output_bounds(net, None, [0], [10])
    point, _, value = r.counterexample
    assert r.exact_upper == (None,) and r.exact_lower == (0,) and value > 10 and value == abs(point[0])
    with pytest.raises(InputError):
        check_output_bounds(net, None, [0, 0], None)


@pytest.mark.parametrize("framework", ["jax", "tensorflow"])
def test_jax_and_tensorflow_builders_follow_their_conventions(framework):
    """Where jax / TensorFlow are installed (they are not dependencies): the builders'
    Jacobians equal ``DΦ`` under the framework's convention, exactly, at kink points of
    random dyadic nets of every kind (tests/preset_nets.py), and on the corpus's abs case."""
    pytest.importorskip(framework)
    from preset_nets import KINDS, check_kink_points

    from exactrelu.oracle import jax_model, tensorflow_model

    builder = jax_model if framework == "jax" else tensorflow_model
    for kind in KINDS:
        def build(net):
            run = builder(net)
            return lambda x: (lambda y, J: (y, [J]))(*run(x))

        checked = check_kink_points(kind, 300 + KINDS.index(kind), framework, build)
        assert checked >= 20, (kind, checked)
    net = read_case(next(p for p in FRAMEWORK_CASES if p.stem == "abs-zero")).network
    impl = builder(net)
    assert compare(net, impl, reference=framework).ok
    assert compare(net, impl, reference="clarke").ok == (framework != "jax")
