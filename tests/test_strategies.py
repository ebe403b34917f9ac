"""The hypothesis strategies draw what they promise: degenerate nets on purpose, binary64
nets torch holds exactly, points on kinks, domains with interiors; unknown kinds fail."""

from __future__ import annotations

import itertools

import pytest
from brute import strict_point  # tests/ is on pythonpath
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exactrelu.core.errors import InputError
from exactrelu.kinkpoints import is_binary64
from exactrelu.strategies import (
    affine_layers,
    boxes,
    kink_points,
    networks,
    points,
    polyhedra,
)


def test_unknown_kind_is_an_error():
    with pytest.raises(InputError, match="'absolute'"):
        networks(kinds=("relu", "absolute"))
    with pytest.raises(InputError):
        networks(kinds=())


def _hyperplanes(layer):
    return [(tuple(r), b) for r, b in zip(layer.weight, layer.bias)]


def _same_hyperplane(p, q):
    (a, b), (c, d) = p, q
    if not any(a) or not any(c):
        return False
    k = next(i for i, v in enumerate(a) if v != 0)
    s = c[k] / a[k] if a[k] else None
    return s is not None and s != 0 and all(s * u == v for u, v in zip(a, c)) and s * b == d


def _concurrent(rows, n):
    """Whether three of the hyperplanes a·x + b = 0 pass through one point (n = 2)."""
    for (a1, b1), (a2, b2), (a3, b3) in itertools.combinations(rows, 3):
        det = a1[0] * a2[1] - a1[1] * a2[0]
        if det == 0:
            continue
        x = ((-b1) * a2[1] - a1[1] * (-b2)) / det
        y = (a1[0] * (-b2) - (-b1) * a2[0]) / det
        if any(a3) and a3[0] * x + a3[1] * y + b3 == 0:
            return True
    return False


def test_degenerate_layers_are_drawn_often():
    """Over many draws of 2-input layers of width 4: coincident hyperplanes (row and bias
    proportional), three hyperplanes through one point, and dead neurons all occur."""
    seen = {"coincident": 0, "concurrent": 0, "dead": 0}

    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(affine_layers(2, 4))
    def draw(layer):
        rows = _hyperplanes(layer)
        seen["coincident"] += any(_same_hyperplane(p, q) for p, q in itertools.combinations(rows, 2))
        seen["concurrent"] += _concurrent(rows, 2)
        seen["dead"] += any(not any(a) and b <= 0 for a, b in rows)

    draw()
    assert all(v >= 10 for v in seen.values()), seen


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(max_input_dim=3, max_width=3, binary64=True, input_dim=2, output_dim=3))
def test_binary64_networks_fit_torch(net):
    pytest.importorskip("torch")
    from exactrelu.oracle import torch_model

    assert net.input_dim == 2 and net.output_dim == 3
    chain = net.chain
    assert all(is_binary64(v) for aff in chain.affines for row in list(aff.weight) + [aff.bias] for v in row)
    torch_model(net)  # raises InputError on any non-binary64 number


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_kink_points_lie_on_kinks(data):
    net = data.draw(networks(max_input_dim=2, max_width=3, binary64=True, kinds=("relu", "abs", "hardtanh")))
    x = data.draw(kink_points(net))
    assert all(is_binary64(v) for v in x)
    pre = net.preactivations(x)
    assert any(z in fn.knots for fns, zs in zip(net.chain.acts, pre) for fn, z in zip(fns, zs))


@given(points(3, binary64=True))
def test_binary64_points(x):
    assert len(x) == 3 and all(is_binary64(v) for v in x)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3).flatmap(lambda n: st.tuples(st.just(n), st.one_of(boxes(n), polyhedra(n)))))
def test_domains_have_interiors(drawn):
    n, domain = drawn
    rows = [(tuple(a), b) for a, b in zip(domain.A, domain.b)]
    x = strict_point(rows, n)
    assert domain.dim == n and x is not None and domain.contains(x)

