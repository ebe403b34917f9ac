"""Activation regions, exactly: the region graph (`graph`), its traversal (`traversal`),
the facet decisions with their certificates (`facets`) and the 2-D splitter (`split2d`,
which decides in floats with proven bounds, `filtered2d`, where it can).

>>> from exactrelu import Network, affine, activation
>>> from exactrelu.regions import enumerate_regions
>>> enumerate_regions(Network.from_layers(1, [affine([[1], [-1]]), activation("relu")])).activation_regions
2
"""

from .graph import (
    Facet,
    Kink,
    NonFacet,
    Region,
    RegionCounts,
    RegionGraph,
    RegionStore,
    RegionTuple,
)
from .traversal import enumerate_regions

__all__ = ["Facet", "Kink", "NonFacet", "Region", "RegionCounts", "RegionGraph", "RegionStore", "RegionTuple", "enumerate_regions"]
