"""Exact polyhedral computation: the exact LP with certificates (`lp`), volumes (`volume`),
and HiGHS silenced as a float proposer (`highs`)."""

from .highs import FloatLP, quiet_highs
from .lp import (
    LPStats,
    boundedness,
    check_interior,
    facet_point,
    feasible_point,
    interior_point,
    is_empty,
    lp_max,
    lp_max_basis,
    lp_max_vertex,
    simplex,
)
from .volume import polytope_volume, simplex_volume

__all__ = [
    "FloatLP",
    "LPStats",
    "boundedness",
    "check_interior",
    "facet_point",
    "feasible_point",
    "interior_point",
    "is_empty",
    "lp_max",
    "lp_max_basis",
    "lp_max_vertex",
    "polytope_volume",
    "quiet_highs",
    "simplex",
    "simplex_volume",
]
