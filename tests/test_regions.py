"""The region engine against formulas, hand-derived cases and an independent brute force."""

from __future__ import annotations

import sys
from fractions import Fraction
from math import comb, factorial

import pytest
from brute import full_dimensional_regions
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from exactrelu.core.domain import Domain
from exactrelu.core.errors import LimitReached
from exactrelu.core.network import Network, activation, affine
from exactrelu.io.case import case_to_json
from exactrelu.regions import enumerate_regions
from exactrelu.strategies import networks


def one_layer(rows, bias, out=None, act="relu"):
    out = out if out is not None else [[1] * len(rows)]
    return Network.from_layers(len(rows[0]), [affine(rows, bias), activation(act), affine(out)])


def test_general_position_formula():
    """n1 hyperplanes in general position in R^n0 cut it into sum_{i<=n0} C(n1, i) regions."""
    rows = [[1, 0], [0, 1], [1, 1], [1, -2], [3, 1]]
    bias = [0, -1, "1/2", 3, "-7/3"]  # no three lines concurrent, none parallel
    g = enumerate_regions(one_layer(rows, bias))
    assert g.activation_regions == sum(comb(5, i) for i in range(3))
    rows3 = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [1, -1, 2]]
    g3 = enumerate_regions(one_layer(rows3, [0, 1, -1, 2, "1/3"]))
    assert g3.activation_regions == sum(comb(5, i) for i in range(4))


def _diff_rows(n, pairs):
    rows, bias = [], []
    for i, j, c in pairs:
        r = [0] * n
        r[i], r[j] = 1, -1
        rows.append(r)
        bias.append(-c)  # hyperplane x_i - x_j = c
    return rows, bias


@pytest.mark.parametrize("n", [3, 4])
def test_braid_shi_catalan(n):
    """Braid (x_i = x_j), Shi (x_i - x_j in {0, 1}) and Catalan (x_i - x_j in {-1, 0, 1})
    arrangements as one-hidden-layer ReLU nets on R^n.

    These arrangements are not essential: every hyperplane contains the line
    R(1, ..., 1), so every region is a prism (region of the essentialised arrangement in
    (1,...,1)^perp) x R. Counting activation regions on R^n counts exactly the chambers
    of the arrangement (each chamber is one open set on which every neuron keeps its
    sign; SPEC §3), which is the chamber count of the essentialisation: n!, (n+1)^(n-1)
    and n! Catalan(n). None is bounded on R^n (each contains a line)."""
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    catalan = comb(2 * n, n) // (n + 1)
    for consts, expected in (([0], factorial(n)), ([0, 1], (n + 1) ** (n - 1)), ([-1, 0, 1], factorial(n) * catalan)):
        rows, bias = _diff_rows(n, [(i, j, c) for i, j in pairs for c in consts])
        g = enumerate_regions(one_layer(rows, bias))
        assert g.activation_regions == expected
        assert g.bounded_regions == 0


def test_sawtooth_two_to_the_L():
    """g(x) = 2 relu(x) - 4 relu(x - 1/2) maps [0,1] onto [0,1] with 2 pieces; g^L has 2^L."""
    for L in (1, 2, 3, 4):
        layers = []
        for _ in range(L):
            layers += [affine([[1], [1]], [0, "-1/2"]), activation("relu")]
            layers.append(affine([[2, -4]]))
        net = Network.from_layers(1, layers)
        g = enumerate_regions(net, Domain.from_box([[0, 1]]))
        assert g.linear_pieces == 2**L
        assert sum(g.volumes) == 1
        assert all(v == Fraction(1, 2**L) for v in g.volumes)


def test_abs_coincident_hyperplanes():
    """|x| = relu(x) + relu(-x): the two neurons share a hyperplane and flip together."""
    g = enumerate_regions(one_layer([[1], [-1]], [0, 0]))
    assert g.activation_regions == 2 and g.linear_pieces == 2
    assert list(g.graph.edges(data="neurons")) == [(0, 1, ((0, 0), (0, 1)))]
    # relu(x) - relu(-x) = x: two regions, one linear piece, no kink
    h = enumerate_regions(one_layer([[1], [-1]], [0, 0], out=[[1, -1]]))
    assert h.activation_regions == 2 and h.linear_pieces == 1 and h.kinks == ()


def test_constant_neuron_at_knot_and_dead():
    """A layer-2 neuron with zero weights sits at its knot everywhere (state 1)."""
    net = Network.from_layers(
        1, [affine([[1]]), activation("relu"), affine([[0], [1]], [0, -1]), activation("relu"), affine([[1, 1]])]
    )
    g = enumerate_regions(net)
    assert g.activation_regions == 3
    assert {r.pattern[1][0] for r in g.regions} == {1}
    dead = Network.from_layers(2, [affine([[0, 0], [0, 0]], [-1, -2]), activation("relu"), affine([[1, 1]])])
    g = enumerate_regions(dead)
    assert g.activation_regions == 1 and g.bounded_regions == 0


def test_hardtanh_and_box_volumes():
    """hardtanh(x + y) on [-2,2]^2: three regions; by hand, each corner triangle
    (x + y > 1 or < -1) has legs 3, area 9/2, and the band |x + y| < 1 has 16 - 9 = 7."""
    net = Network.from_layers(2, [affine([[1, 1]]), activation("hardtanh", min=-1, max=1), affine([[1]])])
    g = enumerate_regions(net, Domain.from_box([[-2, 2], [-2, 2]]))
    assert g.activation_regions == 3
    assert sorted(g.volumes) == [Fraction(9, 2), Fraction(9, 2), Fraction(7)]


def test_limits_raise_with_partial():
    net = one_layer([[1, 0], [0, 1], [1, 1]], [0, 0, -1])
    with pytest.raises(LimitReached) as e:
        enumerate_regions(net, max_regions=3)
    assert e.value.partial.activation_regions == 3 and not e.value.partial.complete


def _brute_check(net, domain=None):
    g = enumerate_regions(net, domain)
    brute = full_dimensional_regions(case_to_json(net, domain))
    assert sorted(r.pattern for r in g.regions) == sorted(b.pattern for b in brute)
    maps = {r.pattern: (r.jacobian, r.offset) for r in g.regions}
    for b in brute:
        assert maps[b.pattern] == (b.jacobian, b.offset)
    for r in g.regions:
        assert net.pattern(r.witness) == r.pattern
    return g


@settings(max_examples=40)
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2))
def test_agrees_with_brute_force(net):
    _brute_check(net)


@settings(max_examples=20)
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2), st.sampled_from([0, 1]))
def test_agrees_with_brute_force_on_domains(net, kind):
    n = net.input_dim
    if kind == 0:
        dom = Domain.from_box([["-3/2", 2]] * n)
    else:
        A = [[1] * n, [-1] + [0] * (n - 1)] + ([[0, -1]] if n == 2 else [])
        dom = Domain.from_halfspaces(A, [1, 1] + ([1] if n == 2 else []), n)
    g = _brute_check(net, dom)
    if dom.box is not None:
        assert sum(g.volumes) == dom.volume()


def test_three_dims_brute():
    net = Network.from_layers(
        3,
        [affine([[1, 0, -1], [0, 1, 1], [1, 1, 0]], [0, "1/2", -1]), activation("relu"),
         affine([[1, -1, 1], [0, 1, -2]], [0, 1]), activation("abs"), affine([[1, 1]])],
    )
    _brute_check(net)


@settings(max_examples=30)
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=3))
def test_polygon_splitting_agrees(net):
    """The LP-free 2-D splitting finds the same patterns, maps and areas as the traversal."""
    from exactrelu.regions.split2d import split_regions_2d

    assume(net.input_dim == 2)
    box = Domain.from_box([["-2", "3/2"], [-1, 2]])
    polys = split_regions_2d(net, box)
    g = enumerate_regions(net, box)
    by_pattern = {r.pattern: (r.jacobian, r.offset, v) for r, v in zip(g.regions, g.volumes)}
    assert sorted(p.pattern for p in polys) == sorted(by_pattern)
    for p in polys:
        assert by_pattern[p.pattern] == (p.jacobian, p.offset, p.area())


def test_pieces_join_through_a_vertex():
    """relu(x) + relu(y) - relu(x + y) is 0 on two opposite quadrants that touch only at
    the origin: SPEC §3 joins closures, so 6 regions make 5 linear pieces."""
    net = Network.from_layers(2, [affine([[1, 0], [0, 1], [1, 1]]), activation("relu"), affine([[1, 1, -1]])])
    g = enumerate_regions(net)
    assert g.activation_regions == 6 and g.linear_pieces == 5
    zero = [i for i, r in enumerate(g.regions) if r.jacobian == ((0, 0),)]
    assert len(zero) == 2 and g.piece_labels[zero[0]] == g.piece_labels[zero[1]]
    assert not g.graph.has_edge(*zero)
    # every kink separates different maps, and there are 6 facets (rays), all kinks
    assert len(g.kinks) == 6


def test_time_limit_and_cli_exit_status(tmp_path):
    """A time limit stops cleanly with a partial graph; the CLI prints the partial
    counts and exits 3, and prints the SPEC keys otherwise."""
    import json
    import subprocess

    from exactrelu.io.case import write_case

    net = one_layer([[1, 0], [0, 1], [1, 1], [1, -1]], [0, 0, -1, 2])
    with pytest.raises(LimitReached) as e:
        enumerate_regions(net, time_limit=0)
    assert not e.value.partial.complete
    path = tmp_path / "net.json"
    write_case(net, path)
    cmd = [sys.executable, "-m", "exactrelu", "regions", str(path), "--json"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    doc = json.loads(res.stdout)
    assert res.returncode == 0 and doc["activation_regions"] == 1 + 4 + 6  # 4 lines in general position
    assert {"activation_regions", "linear_pieces", "bounded_regions"} <= set(doc)
    res = subprocess.run(cmd + ["--max-regions", "2"], capture_output=True, text=True)
    assert res.returncode == 3 and json.loads(res.stdout)["activation_regions"] == 2


def _check_certificates(g):
    """Every row of every region is accounted for by an exact certificate, checked here
    in Fractions independently of the engine: a facet point on its rows' hyperplane and
    strictly inside every other row; non-facet multipliers with the stated identities."""
    for idx, r in enumerate(g.regions):
        m = len(r.A)
        dot = lambda row, x: sum((a * v for a, v in zip(row, x)), Fraction(0))  # noqa: E731
        assert all(dot(row, r.witness) < bk for row, bk in zip(r.A, r.b))
        seen = []
        for f in r.facets:
            seen += f.rows
            for k in range(m):
                val = dot(r.A[k], f.point)
                assert val == r.b[k] if k in f.rows else val < r.b[k]
            if f.neighbor is not None:
                nb = g.regions[f.neighbor]
                assert all(dot(row, f.point) <= bk for row, bk in zip(nb.A, nb.b))
                assert g.graph.has_edge(idx, f.neighbor)
        for nf in r.nonfacets:
            seen += nf.rows
            i = nf.rows[0]
            mu = dict(nf.multipliers)
            assert mu and all(v > 0 for v in mu.values()) and i not in mu
            n = len(r.A[i])
            assert all(sum(v * r.A[j][k] for j, v in mu.items()) + nf.row_multiplier * r.A[i][k] == 0 for k in range(n))
            assert sum(v * r.b[j] for j, v in mu.items()) + nf.row_multiplier * r.b[i] <= 0
        assert sorted(seen) == list(range(m))


@settings(max_examples=25)
@given(networks(max_input_dim=4, max_width=5, max_hidden_layers=2))
def test_certificates_hold_in_higher_dimensions(net):
    g = enumerate_regions(net)
    _check_certificates(g)
    for r in g.regions:
        assert net.pattern(r.witness) == r.pattern


def test_certificates_on_a_four_dimensional_net():
    # a fixed 4 -> 6 -> 5 -> 1 net, big enough that most rows need the float proposals
    # (directions, vertices) checked exactly rather than plain rays
    import random

    rng = random.Random(7)
    q = lambda: Fraction(rng.randint(-9, 9), rng.randint(1, 4))  # noqa: E731
    net = Network.from_layers(4, [affine([[q() for _ in range(4)] for _ in range(6)], [q() for _ in range(6)]),
                                  activation("relu"),
                                  affine([[q() for _ in range(6)] for _ in range(5)], [q() for _ in range(5)]),
                                  activation("relu"), affine([[1] * 5])])
    g = enumerate_regions(net)
    _check_certificates(g)
    assert g.diagnostics["regions"] == len(g.regions) > 20


def test_float_lp_proposals_agree_with_exact_lps(monkeypatch):
    """In 6 dimensions the redundant rows left by the cone multipliers go to a float LP
    whose basis is checked exactly; with it switched off every such row takes the exact
    simplex instead. Both must find the same regions, facets and neighbours, and every
    certificate must hold."""
    import random

    from exactrelu.regions import facets as regions

    rng = random.Random(11)
    q = lambda: Fraction(rng.randint(-40, 40), rng.randint(1, 9))  # noqa: E731
    net = Network.from_layers(6, [affine([[q() for _ in range(6)] for _ in range(6)], [q() for _ in range(6)]),
                                  activation("relu"),
                                  affine([[q() for _ in range(6)] for _ in range(4)], [q() for _ in range(4)]),
                                  activation("relu"), affine([[1] * 4])])
    g = enumerate_regions(net)
    assert g.diagnostics["float_lp_proposals"] > 0
    _check_certificates(g)
    monkeypatch.setattr(regions, "_FLOAT_LP_FROM_DIM", 7)
    h = enumerate_regions(net)
    assert h.diagnostics["float_lp_proposals"] == 0 and h.diagnostics["exact_lps"] > g.diagnostics["exact_lps"]
    _check_certificates(h)
    monkeypatch.setattr(regions, "_FLOAT_LP_FROM_DIM", 6)
    monkeypatch.setitem(sys.modules, "highspy", None)  # not installed: exact LPs instead
    k = enumerate_regions(net)
    assert k.diagnostics["float_lp_proposals"] == 0
    for other in (h, k):
        assert len(g.regions) == len(other.regions)
        for r, s in zip(g.regions, other.regions):
            assert (r.pattern, r.A, r.b, r.bounded) == (s.pattern, s.A, s.b, s.bounded)
            assert [(f.rows, f.neighbor) for f in r.facets] == [(f.rows, f.neighbor) for f in s.facets]
            assert [nf.rows for nf in r.nonfacets] == [nf.rows for nf in s.nonfacets]


def test_limits_bound_the_work_after_the_traversal():
    """Volumes and linear pieces honour the enumeration's deadline: past it they raise
    `LimitReached` carrying the graph (the volumes found so far stay readable)."""
    import dataclasses

    from exactrelu.polyhedra.volume import polytope_volume

    net = one_layer([[1, 0], [0, 1], [1, 1]], [0, 0, -1])
    g = enumerate_regions(net, Domain.from_box([[-2, 2], [-2, 2]]), time_limit=600)
    assert g.deadline is not None and g.volume(0) is not None
    late = dataclasses.replace(g, deadline=0.0, _volumes={0: g.volume(0)})
    with pytest.raises(LimitReached) as e:
        late.volumes
    assert e.value.partial is late and late.volumes_found == {0: g.volume(0)}
    with pytest.raises(LimitReached):
        polytope_volume([[1, 0], [0, 1], [-1, -1]], [1, 1, 0], deadline=0.0)
    # two regions with one map whose closures might touch need an LP: past the deadline, a limit
    same = Network.from_layers(2, [affine([[1, 0], [0, 1], [1, 1]]), activation("relu"), affine([[1, 1, -1]])])
    h = enumerate_regions(same, time_limit=600)
    with pytest.raises(LimitReached):
        dataclasses.replace(h, deadline=0.0).piece_labels
    assert h.linear_pieces == 5


def test_json_output_is_one_document_with_the_float_lp(tmp_path):
    """From 6 inputs HiGHS proposes bases; its banner must not reach stdout."""
    import json
    import random
    import subprocess

    from exactrelu.io.case import write_case

    rng = random.Random(3)
    q = lambda: Fraction(rng.randint(-9, 9), rng.randint(1, 4))  # noqa: E731
    net = Network.from_layers(6, [affine([[q() for _ in range(6)] for _ in range(7)], [q() for _ in range(7)]),
                                  activation("relu"), affine([[1] * 7])])
    path = tmp_path / "six.json"
    write_case(net, path)
    res = subprocess.run([sys.executable, "-m", "exactrelu", "regions", str(path), "--json"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["activation_regions"] == enumerate_regions(net).activation_regions
    assert enumerate_regions(net).diagnostics["float_lp_proposals"] > 0


def test_region_counts_under_each_definition():
    """Hand-derived: relu(x) - relu(-x) = x is one affine piece on two activation
    regions; relu(x) + relu(y) - relu(x + y) is 0 on two opposite quadrants touching
    only at the origin (6 regions, 6 open pieces, 5 closed pieces, 5 maps); the hat
    0, x, 2 - x, 0 has two zero regions far apart (4, 4, 4, 3)."""
    from exactrelu.regions import RegionCounts

    line = enumerate_regions(one_layer([[1], [-1]], [0, 0], out=[[1, -1]]))
    assert line.region_counts == RegionCounts(2, 1, 1, 1)
    quads = Network.from_layers(2, [affine([[1, 0], [0, 1], [1, 1]]), activation("relu"), affine([[1, 1, -1]])])
    assert enumerate_regions(quads).region_counts == RegionCounts(6, 6, 5, 5)
    hat = Network.from_layers(1, [affine([[1], [1], [1]], [0, -1, -2]), activation("relu"), affine([[1, -2, 1]])])
    assert enumerate_regions(hat).region_counts == RegionCounts(4, 4, 4, 3)


@settings(max_examples=20)
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2))
def test_region_counts_are_ordered(net):
    c = enumerate_regions(net).region_counts
    assert c.activation_regions >= c.open_pieces >= c.linear_pieces >= c.affine_maps >= 1


@settings(max_examples=15)
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2))
def test_graph_of_region_objects_reads_as_the_lean_store(net):
    """A graph whose regions are given as `Region` objects (an edited copy) answers as
    the lean store does: same edges, kinks, pieces and counts."""
    import dataclasses

    g = enumerate_regions(net)
    h = dataclasses.replace(g, regions=tuple(g.regions))
    assert list(h.graph.edges(data=True)) == list(g.graph.edges(data=True))
    assert h.kinks == g.kinks and h.piece_labels == g.piece_labels and h.region_counts == g.region_counts
    assert h.bounded_regions == g.bounded_regions and h == g
