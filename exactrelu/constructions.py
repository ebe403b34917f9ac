"""The seeds' networks, built exactly.

>>> seed003_identity().evaluate(["-1/3"])
(Fraction(-1, 3),)
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from .network import Network, activation, affine


def seed000_minimal(alpha: Any, beta: Any, gamma: Any) -> Network:
    """Seed 000 §3.1: ``f_θ(x) = α·max(βx + γ, 0)``, θ = (α, β, γ).

    >>> seed000_minimal(2, 1, -1).evaluate([3])
    (Fraction(4, 1),)
    """
    return Network.from_layers(
        1,
        [affine([[beta]], [gamma]), activation("relu"), affine([[alpha]])],
        name="seed000-minimal",
        source="seed 000, §3.1 'A minimal counter-example'",
    )


def seed003_identity() -> Network:
    """``relu(x) − relu(−x)``: equals x, yet ``DΦ_c(0) = 2c`` (seed 003)."""
    return Network.from_layers(
        1,
        [affine([[1], [-1]]), activation("relu"), affine([[1, -1]])],
        name="seed003-identity",
        source="seed 003, 'Behaviour of the Derivative on Nullsets'",
    )


def seed003_relu() -> Network:
    """``relu(relu(x) − relu(−x))``: equals relu(x), yet ``DΦ_c(0) = 2c²``."""
    return Network.from_layers(
        1,
        [affine([[1], [-1]]), activation("relu"), affine([[1, -1]]), activation("relu"), affine([[1]])],
        name="seed003-relu",
        source="seed 003, 'Behaviour of the Derivative on Nullsets'",
    )


def seed003_zero() -> Network:
    """``relu(relu(2x) − relu(x)) − relu(x)``: equals 0, yet ``DΦ_c(0) = c² − c``.

    >>> from exactrelu.calculus import derivative
    >>> derivative(seed003_zero(), [0], "c").matrix
    ((c**2 - c,),)
    """
    return Network.from_layers(
        1,
        [
            affine([[2], [1]]),
            activation("relu"),
            affine([[1, -1], [0, 1]]),
            # neuron 0 is relu; neuron 1 passes relu(x) on unchanged (a spline with no knot)
            activation("spline", knots=[[0], []], slopes=[[0, 1], [1]], value=[0, 0]),
            affine([[1, -1]]),
        ],
        name="seed003-zero",
        source="seed 003, 'Behaviour of the Derivative on Nullsets'",
    )
