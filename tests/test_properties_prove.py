"""`prove` and `output_range` against independent answers: hand-derived verdicts, and on
random tiny rational networks the region engine (every activation region, an exact LP on
each: is some point of its closure unsafe? what is its maximum?)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactrelu.core.domain import Domain
from exactrelu.core.errors import InputError, LimitReached
from exactrelu.core.network import Network, activation, affine
from exactrelu.polyhedra import feasible_point, lp_max
from exactrelu.properties.formula import Atom, Conjunction, Property
from exactrelu.properties.prove import prove
from exactrelu.properties.range import output_range, parse_objective
from exactrelu.properties.search import Options
from exactrelu.properties.vnnlib import parse_vnnlib
from exactrelu.regions import enumerate_regions
from exactrelu.strategies import networks, rationals

F = Fraction
ABS = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])  # |x|


def prop_text(n: int, k: int, box: str, unsafe: str) -> str:
    decl = "".join(f"(declare-const X_{i} Real)" for i in range(n)) + "".join(f"(declare-const Y_{j} Real)" for j in range(k))
    return decl + box + unsafe


def test_abs_by_hand():
    box = "(assert (>= X_0 -1)) (assert (<= X_0 2))"
    # |x| on [-1, 2] has range [0, 2]: y >= 2 is reached exactly at x = 2; y > 2 never
    r = prove(ABS, parse_vnnlib(prop_text(1, 1, box, "(assert (>= Y_0 2))")))
    assert r.value == "violated" and r.counterexample.x == (2,) and r.counterexample.y == (2,)
    assert prove(ABS, parse_vnnlib(prop_text(1, 1, box, "(assert (> Y_0 2))"))).value == "holds"
    # y <= 0 only at x = 0 (a single point: a measure-zero counterexample, found exactly)
    r = prove(ABS, parse_vnnlib(prop_text(1, 1, box, "(assert (<= Y_0 0))")))
    assert r.value == "violated" and r.counterexample.x == (0,)
    assert prove(ABS, parse_vnnlib(prop_text(1, 1, box, "(assert (< Y_0 0))"))).value == "holds"


def test_counterexample_only_at_a_vertex_of_a_neuron_split():
    # f(x0, x1) = relu(x0 + x1 - 1) - relu(x0 - x1) <= 1 on [0,1]^2, with equality only at the
    # corner (1, 1) (the first term is 1 only there, the second >= 0): y >= 1 is violated there alone
    net = Network.from_layers(2, [affine([[1, 1], [1, -1]], [-1, 0]), activation("relu"), affine([[1, -1]])])
    box = "(assert (>= X_0 0)) (assert (<= X_0 1)) (assert (>= X_1 0)) (assert (<= X_1 1))"
    r = prove(net, parse_vnnlib(prop_text(2, 1, box, "(assert (>= Y_0 1))")), options=Options(attack=0))
    assert r.value == "violated" and r.counterexample.x == (1, 1)
    assert prove(net, parse_vnnlib(prop_text(2, 1, box, "(assert (> Y_0 1))")), options=Options(attack=0)).value == "holds"


def test_certificate_attached_on_request():
    box = "(assert (>= X_0 -1)) (assert (<= X_0 2))"
    p = parse_vnnlib(prop_text(1, 1, box, "(assert (>= Y_0 3))"))
    assert prove(ABS, p).certificate is None
    cert = prove(ABS, p, certificate=True).certificate
    assert cert["format"] == "exactrelu-property-certificate/1" and cert["claim"] == "holds"


def test_dimension_mismatch_and_empty_input_set():
    with pytest.raises(InputError, match="declares 2 inputs"):
        prove(ABS, parse_vnnlib(prop_text(2, 1, "(assert (<= X_0 1))", "(assert (>= Y_0 3))"), "p.vnnlib"))
    with pytest.raises(InputError, match="declares 2 outputs"):
        prove(ABS, parse_vnnlib(prop_text(1, 2, "(assert (<= X_0 1))", "(assert (>= Y_0 3))"), "p.vnnlib"))
    with pytest.raises(InputError, match="empty"):
        prove(ABS, parse_vnnlib(prop_text(1, 1, "(assert (<= X_0 1)) (assert (>= X_0 2))", "(assert (>= Y_0 3))")))
    with pytest.raises(InputError, match="unbounded"):
        prove(ABS, parse_vnnlib(prop_text(1, 1, "(assert (<= X_0 1))", "(assert (>= Y_0 3))")))


def test_polyhedral_input_set_gets_a_proved_box():
    # x0 + x1 <= 1, x0 >= 0, x1 >= 0: the box [0,1]^2 comes from an exact LP
    net = Network.from_layers(2, [affine([[1, 1]]), activation("relu"), affine([[1]])])
    text = prop_text(2, 1, "(assert (<= (+ X_0 X_1) 1)) (assert (>= X_0 0)) (assert (>= X_1 0))", "(assert (> Y_0 1))")
    assert prove(net, parse_vnnlib(text)).value == "holds"
    text = prop_text(2, 1, "(assert (<= (+ X_0 X_1) 1)) (assert (>= X_0 0)) (assert (>= X_1 0))", "(assert (>= Y_0 1))")
    r = prove(net, parse_vnnlib(text))
    assert r.value == "violated" and sum(r.counterexample.x) == 1


def test_limit_gives_unknown_with_settled_part():
    net = Network.from_layers(1, [affine([[1], [1], [1]], [0, "-1/3", "-2/3"]), activation("relu"), affine([[1, -3, 3]])])
    text = prop_text(1, 1, "(assert (>= X_0 0)) (assert (<= X_0 1))", "(assert (> Y_0 1))")
    with pytest.raises(LimitReached) as e:
        prove(net, parse_vnnlib(text), max_nodes=1, options=Options(attack=0, neuron_split_below=0, lp=False))
    assert e.value.partial.value == "unknown" and 0 <= e.value.partial.settled < 1


# -- against the region engine on random tiny nets --------------------------------------------


def region_answer(net: Network, box, atoms) -> bool:
    """Violated? Some region's closure meets {x : every atom <= 0}, by exact LPs per region."""
    g = enumerate_regions(net, Domain.from_box([[lo, hi] for lo, hi in box]))
    for r in g.regions:
        A = [list(row) for row in r.A]
        b = list(r.b)
        for a in atoms:  # a.y·(J x + c) + a.x·x + const <= 0
            coef = [sum((a.y_coef[o] * r.jacobian[o][i] for o in range(len(a.y_coef))), F(0)) + a.x_coef[i] for i in range(net.input_dim)]
            A.append(coef)
            b.append(-a.const - sum((a.y_coef[o] * r.offset[o] for o in range(len(a.y_coef))), F(0)))
        if feasible_point(A, b, dim=net.input_dim).feasible:
            return True
    return False


def region_max(net: Network, box, c) -> Fraction:
    g = enumerate_regions(net, Domain.from_box([[lo, hi] for lo, hi in box]))
    best = None
    for r in g.regions:
        obj = [sum((c[o] * r.jacobian[o][i] for o in range(len(c))), F(0)) for i in range(net.input_dim)]
        v = lp_max(obj, [list(row) for row in r.A], list(r.b)).value + sum((c[o] * r.offset[o] for o in range(len(c))), F(0))
        best = v if best is None or v > best else best
    return best


@st.composite
def instances(draw, kinds=("relu",)):
    net = draw(networks(max_input_dim=2, max_width=3, max_hidden_layers=2, kinds=kinds))
    n, k = net.input_dim, net.output_dim
    box = []
    for _ in range(n):
        lo = draw(rationals(2, 2))
        box.append((lo, lo + draw(st.sampled_from([F(1), F(2), F(1, 2)]))))
    atoms = []
    for _ in range(draw(st.integers(1, 2))):
        cy = tuple(draw(rationals(2, 1)) for _ in range(k))
        if not any(cy):  # an atom on x alone would belong to the input set
            cy = (F(1),) + cy[1:]
        cx = tuple(draw(st.sampled_from([F(0), F(0), F(1), F(-1)])) for _ in range(n))
        atoms.append(Atom(cx, cy, draw(rationals(2, 2))))
    return net, tuple(box), tuple(atoms)


def as_property(n, k, box, atoms) -> Property:
    inputs = []
    for i, (lo, hi) in enumerate(box):
        e = tuple(F(int(i == j)) for j in range(n))
        inputs.append(Atom(e, (F(0),) * k, -hi))
        inputs.append(Atom(tuple(-v for v in e), (F(0),) * k, lo))
    return Property(n, k, (Conjunction(tuple(inputs) + tuple(atoms)),))


@settings(max_examples=40)
@given(instances())
def test_prove_agrees_with_the_region_engine_relu(inst):
    net, box, atoms = inst
    prop = as_property(net.input_dim, net.output_dim, box, atoms)
    res = prove(net, prop, options=Options(attack=0))
    assert (res.value == "violated") == region_answer(net, box, atoms)
    if res.value == "violated":
        x = res.counterexample.x
        assert all(lo <= v <= hi for v, (lo, hi) in zip(x, box))
        assert all(a.holds(x, net.evaluate(x)) for a in atoms)


@settings(max_examples=25)
@given(instances(kinds=("relu", "leaky_relu", "hardtanh", "abs", "spline")))
def test_prove_agrees_with_the_region_engine_pl(inst):
    net, box, atoms = inst
    prop = as_property(net.input_dim, net.output_dim, box, atoms)
    res = prove(net, prop, options=Options(attack=0))
    assert (res.value == "violated") == region_answer(net, box, atoms)


@settings(max_examples=30)
@given(instances(kinds=("relu", "abs", "hardtanh")), st.data())
def test_range_agrees_with_the_region_engine(inst, data):
    net, box, _ = inst
    c = tuple(data.draw(rationals(2, 1)) for _ in range(net.output_dim))
    r = output_range(net, Domain.from_box([[lo, hi] for lo, hi in box]), c)
    assert r.max == region_max(net, box, c)
    assert r.min == -region_max(net, box, tuple(-v for v in c))
    for x, v in ((r.argmax, r.max), (r.argmin, r.min)):
        assert all(lo <= t <= hi for t, (lo, hi) in zip(x, box))
        assert sum((a * y for a, y in zip(c, net.evaluate(x))), F(0)) == v


def test_range_by_hand_and_objective_parsing():
    r = output_range(ABS, Domain.from_box([["-1/2", "3/4"]]), [F(-2)], F(1))  # 1 - 2|x|
    assert (r.max, r.argmax, r.min, r.argmin) == (1, (0,), F(-1, 2), (F(3, 4),))
    assert parse_objective("y0 - y1", 2) == ((1, -1), 0)
    assert parse_objective("-2*y1 + 0.5 + y0/4", 2) == ((F(1, 4), -2), F(1, 2))
    assert parse_objective("1/3 y0", 1) == ((F(1, 3),), 0)
    with pytest.raises(InputError, match="y2 does not exist"):
        parse_objective("y2", 2)
    with pytest.raises(InputError, match="expected a linear expression"):
        parse_objective("y0 * y1", 2)
    with pytest.raises(InputError, match="bounded domain"):
        output_range(ABS, Domain.whole(1), [F(1)])
