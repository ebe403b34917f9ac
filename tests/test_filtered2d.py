"""The 2-D splitter in floats with proven error bounds (`exactrelu.regions.filtered2d`):
its patterns against brute force over all patterns (tests/brute.py) and against the exact
rational splitter, on generic, near-degenerate and degenerate nets; the exact polygons
materialised from its edge hints against those clipped without hints."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brute import full_dimensional_regions
from exactrelu.core.domain import Domain
from exactrelu.core.network import Network, activation, affine
from exactrelu.io.case import case_to_json
from exactrelu.predicates import FilterCounts
from exactrelu.regions import enumerate_regions
from exactrelu.regions.filtered2d import Undecided, certified_patterns
from exactrelu.regions.split2d import Polygon, _exact_patterns, split_regions_2d
from exactrelu.strategies import activation_layers

BOX = Domain.from_box([["-17/13", "19/11"], ["-23/17", "29/19"]])


def _float_net(seed, widths, kinds=("relu",)):
    """Gaussian weights rounded to binary64 (read exactly): generic, as trained nets are."""
    rng = np.random.default_rng(seed)
    layers, d = [], 2
    for k, w in enumerate(widths):
        W = rng.standard_normal((w, d)) / np.sqrt(d)
        b = rng.standard_normal(w) * 0.5
        layers += [affine([[Fraction(float(v)) for v in row] for row in W], [Fraction(float(v)) for v in b])]
        layers += [activation(kinds[k % len(kinds)])]
        d = w
    layers.append(affine([[Fraction(float(v)) for v in rng.standard_normal(d)]]))
    return Network.from_layers(2, layers)


def _check_against_brute(net, domain=BOX):
    counts = FilterCounts()
    found = certified_patterns(net, domain.box, counts)
    brute = {b.pattern: b for b in full_dimensional_regions(case_to_json(net, domain))}
    assert sorted(p for p, _ in found) == sorted(brute)
    assert counts.fallbacks == 0 and (counts.decided > 0 or len(found) == 1)
    polys = split_regions_2d(net, domain)
    assert sorted(p.pattern for p in polys) == sorted(brute)
    for p in polys:
        b = brute[p.pattern]
        assert (p.jacobian, p.offset) == (b.jacobian, b.offset)
    assert sum(p.area() for p in polys) == domain.volume()
    return found, polys


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.lists(st.integers(1, 3), min_size=1, max_size=3).filter(lambda w: sum(w) <= 7),
       st.sampled_from([("relu",), ("abs",), ("relu", "abs"), ("hardtanh",)]))
def test_float_path_agrees_with_brute_force(seed, widths, kinds):
    _check_against_brute(_float_net(seed, widths, kinds))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 3), st.data())
def test_spline_and_leaky_activations(seed, width, data):
    """Activations with several knots (every knot a row) and rational slopes."""
    act = data.draw(activation_layers(width, ("spline", "leaky_relu", "prelu", "hardtanh")))
    rng = np.random.default_rng(seed)
    W = [[Fraction(float(v)) for v in row] for row in rng.standard_normal((width, 2))]
    b = [Fraction(float(v)) for v in rng.standard_normal(width) * 0.3]
    net = Network.from_layers(2, [affine(W, b), act, affine([[1] * width])])
    try:
        _check_against_brute(net)
    except Undecided:  # a rational knot or slope that binary64 cannot hold exactly
        assert sorted(p.pattern for p in split_regions_2d(net, BOX)) == sorted(_exact_patterns(net, BOX, None))


def test_benchmark_sized_net_matches_the_exact_splitter():
    net = _float_net(7, [12, 12, 12])
    box = Domain.from_box([[-1, 1], [-1, 1]])
    found = certified_patterns(net, box.box)
    assert len(found) > 100
    assert sorted(p for p, _ in found) == sorted(_exact_patterns(net, box, None))


def test_edge_hints_give_the_same_polygons_as_clipping_by_every_row():
    net = _float_net(3, [5, 4])
    polys = split_regions_2d(net, BOX)
    for p in polys:
        plain = Polygon(p.pattern, (), p.forward)
        assert set(p.vertices) == set(plain.vertices) and p.area() == plain.area()
        assert len(p.edges) == len(p.vertices)


def test_a_neuron_constant_at_its_knot():
    """A zero row with zero bias is exactly at its knot on the whole box (state 1), which
    a zero radius proves."""
    net = Network.from_layers(2, [affine([[1, 0], [0, 0]], [0, 0]), activation("relu"), affine([[1, 1]])])
    found, _ = _check_against_brute(net)
    assert sorted(p for p, _ in found) == [((0, 1),), ((2, 1),)]


def test_a_later_line_on_an_earlier_one_falls_back():
    """relu(relu(x)): the second neuron's knot line is x = 0, an edge of the polygons the
    first neuron made; its zeros there cannot be decided in floats, so the exact splitter
    runs, and the regions are right."""
    net = Network.from_layers(2, [affine([[1, 0], [0, 1]]), activation("relu"), affine([[1, 0]]), activation("relu"),
                                  affine([[1]])])
    with pytest.raises(Undecided):
        certified_patterns(net, BOX.box)
    brute = full_dimensional_regions(case_to_json(net, BOX))
    assert sorted(p.pattern for p in split_regions_2d(net, BOX)) == sorted(b.pattern for b in brute)


@pytest.mark.parametrize("eps", [Fraction(1, 2**30), Fraction(1, 2**60), Fraction(1, 2**1000)])
def test_nearly_concurrent_lines(eps):
    """x = 0, y = 0 and x + y = eps bound a triangle of area eps²/2: the bounds find it
    (7 regions) or stand aside, and the answer is exact either way."""
    net = Network.from_layers(2, [affine([[1, 0], [0, 1], [1, 1]], [0, 0, -eps]), activation("relu"), affine([[1, 2, 3]])])
    box = Domain.from_box([[-1, 1], [-1, 1]])
    polys = split_regions_2d(net, box)
    assert len(polys) == 7 and sum(p.area() for p in polys) == 4
    assert min(p.area() for p in polys) == eps * eps / 2
    try:
        assert len(certified_patterns(net, box.box)) == 7
    except Undecided:
        pass


@pytest.mark.parametrize("rows", [
    [[1, 0], [0, 1], [1, 1], [1, -1]],  # four lines through the origin
    [[1, 0], [2, 0], [0, 1]],  # two coincident lines
])
def test_degenerate_nets_fall_back_to_exact_splitting(rows):
    net = Network.from_layers(2, [affine(rows), activation("relu"), affine([[1] * len(rows)])])
    box = Domain.from_box([[-1, 1], [-1, 1]])
    with pytest.raises(Undecided):
        certified_patterns(net, box.box)
    counts = FilterCounts()
    polys = split_regions_2d(net, box, counts)
    g = enumerate_regions(net, box)
    assert sorted(p.pattern for p in polys) == sorted(r.pattern for r in g.regions)
    assert sum(p.area() for p in polys) == 4


def test_a_weight_outside_binary64_falls_back():
    tiny = Fraction(1, 2**1100)
    net = Network.from_layers(2, [affine([[1, tiny], [0, 1]]), activation("relu"), affine([[1, 1]])])
    with pytest.raises(Undecided):
        certified_patterns(net, BOX.box)
    assert len(split_regions_2d(net, BOX)) == 4


def _right_although_undecided(net, regions):
    """On [-1, 1]^2: the float bounds stand aside, and the regions are those of brute
    force (of the traversal, for nets too wide for brute force)."""
    box = Domain.from_box([[-1, 1], [-1, 1]])
    with pytest.raises(Undecided):
        certified_patterns(net, box.box)
    if sum(len(fns) for fns in net.chain.acts) <= 12:
        expected = [b.pattern for b in full_dimensional_regions(case_to_json(net, box))]
    else:
        expected = [r.pattern for r in enumerate_regions(net, box).regions]
    assert len(expected) == regions
    assert sorted(p.pattern for p in split_regions_2d(net, box)) == sorted(expected)


def test_three_lines_through_a_point_that_binary64_cannot_hold():
    """5x/4 + y = 1/5, x - y/2 = 1/3 and 2x + 3y = 2/15 all pass through (4/15, -2/15):
    6 regions. In floats the crossing of the first two misses that point, and the third
    line's value there is 8e-17, not 0: a splitter that trusted that sign would cut a
    sliver triangle; the bounds see that they cannot decide."""
    net = Network.from_layers(2, [
        affine([["5/4", 1], [1, "-1/2"], [2, 3]], ["-1/5", "-1/3", "-2/15"]), activation("relu"), affine([[1, 2, 4]])])
    _right_although_undecided(net, 6)


def test_a_crossing_of_nearly_parallel_lines_carries_its_error():
    """y = 1/7 + (x - 1/3)/(3·10^6), y = 1/7 and x = 1/3 meet at (1/3, 1/7): 6 regions.
    The first two cross at an angle of 3e-7, so their float crossing is only known to
    ~1e-9, far more than the rounding of a value there; without the vertex's radius the
    third line's sign at it would be trusted, and a sliver would make 7."""
    d = Fraction(1, 3 * 10**6)
    net = Network.from_layers(2, [affine([[-d, 1], [0, 1], [1, 0]], [-Fraction(1, 7) + d / 3, -Fraction(1, 7), -Fraction(1, 3)]),
                                  activation("relu"), affine([[1, 2, 4]])])
    _right_although_undecided(net, 6)


def test_a_wide_layer_rows_carry_their_rounding():
    """A second-layer neuron whose line passes exactly through the origin, the crossing of
    the first layer's x = 0 and y = 0, with 58 other first-layer neurons (active on the
    whole box) feeding it: its float row is a sum of 60 rounded products, off by far more
    than the rounding of one value. Without the rows' radii a splitter would trust the
    sign of that noise at the origin and cut a sliver (21 regions instead of 20)."""
    import random

    rng = random.Random(0)
    rows, bias = [[1, 0], [0, 1]], [Fraction(0), Fraction(0)]
    for _ in range(58):
        rows.append([Fraction(rng.randint(-9, 9), rng.randint(1, 9)), Fraction(rng.randint(-9, 9), rng.randint(1, 9))])
        bias.append(Fraction(rng.randint(30, 90), 7))
    w2 = [Fraction(rng.randint(1, 9)), Fraction(-rng.randint(1, 9))]
    w2 += [Fraction(rng.randint(-9, 9), rng.choice([3, 7, 11, 13])) for _ in range(58)]
    b2 = -sum(w * b for w, b in zip(w2, bias))  # zero at the origin, exactly
    net = Network.from_layers(2, [affine(rows, bias), activation("relu"), affine([w2], [b2]), activation("relu"), affine([[1]])])
    _right_although_undecided(net, 20)
