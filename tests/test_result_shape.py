"""One result shape: every public analysis answers with a frozen result that has ``value``,
``guarantee`` (exact, certified or estimate) and ``diagnostics`` (a dict)."""

from __future__ import annotations

import dataclasses

import pytest

from exactrelu.bounds import bounds
from exactrelu.calculus import derivative, parameter_gradient
from exactrelu.certificate import certify
from exactrelu.checker import check_certificate
from exactrelu.clarke import clarke_jacobian, derivative_in_clarke
from exactrelu.core.domain import Domain
from exactrelu.core.network import Network, activation, affine
from exactrelu.core.results import GUARANTEES
from exactrelu.floats.estimate import lipschitz_lower
from exactrelu.io.case import Case
from exactrelu.lipschitz import lipschitz
from exactrelu.regions import enumerate_regions
from exactrelu.oracle import check_lipschitz_claim, compare
from exactrelu.smoothing import smoothed

NET = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])  # |x|
NET_DOMAIN = Domain.whole(1)

RESULTS = {
    "lipschitz": lambda: lipschitz(NET, "inf"),
    "regions": lambda: enumerate_regions(NET),
    "bounds exact": lambda: bounds(NET, "inf"),
    "bounds numpy": lambda: bounds(NET, "inf", backend="numpy"),
    "derivative": lambda: derivative(NET, [0], "c"),
    "parameter_gradient": lambda: parameter_gradient(NET, [1]),
    "clarke": lambda: clarke_jacobian(NET, [0]),
    "derivative_in_clarke": lambda: derivative_in_clarke(NET, [0], "1/2"),
    "lipschitz_lower": lambda: lipschitz_lower(NET, "inf", samples=8),
    "check": lambda: check_certificate(certify(Case(NET, NET_DOMAIN, {}))),
    "oracle compare": lambda: compare(NET, lambda x: ([abs(x[0])], [[1.0 if x[0] > 0 else -1.0]]), require_kinks=False),
    "lipschitz claim": lambda: check_lipschitz_claim(NET, 1, norm="inf"),
    "smoothed": lambda: smoothed(NET, [0], "1/2"),
}



@pytest.mark.parametrize("name", sorted(RESULTS))
def test_every_result_has_value_guarantee_and_diagnostics(name):
    result = RESULTS[name]()
    assert dataclasses.is_dataclass(result) and type(result).__dataclass_params__.frozen
    assert result.guarantee in GUARANTEES or result.guarantee.split()[0] in GUARANTEES
    assert isinstance(result.diagnostics, dict)
    assert result.value is not None
