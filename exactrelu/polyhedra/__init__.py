"""Exact polyhedral computation: the exact LP with certificates (`lp`) and volumes (`volume`)."""

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
    "simplex",
    "simplex_volume",
]
