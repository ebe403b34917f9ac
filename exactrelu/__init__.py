"""exactrelu: exact analysis of small piecewise-linear neural networks.

>>> from exactrelu import read_case, Network, affine, activation
"""

from .activations import PiecewiseLinear
from .domain import Domain
from .errors import InputError, LimitReached
from .io.case import Case, read_case, write_case
from .network import Network, activation, affine

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
