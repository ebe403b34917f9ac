"""exactrelu: exact analysis of small piecewise-linear neural networks.

>>> from exactrelu import read_case, Network, affine, activation
"""

from .core.activations import PiecewiseLinear
from .core.domain import Domain
from .core.errors import InputError, LimitReached
from .core.network import Network, activation, affine
from .io.case import Case, read_case, write_case

__version__ = "0.1.0"

__all__ = [
    "Case",
    "Domain",
    "InputError",
    "LimitReached",
    "Network",
    "PiecewiseLinear",
    "activation",
    "affine",
    "read_case",
    "write_case",
    "__version__",
]
