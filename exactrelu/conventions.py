"""Chain-rule conventions: the number a derivative takes at a knot (seed 003).

Off the knots an activation has one slope. At a knot, a *convention* picks a
number:

- `Family(c)`: ``(1 − c)·left slope + c·right slope`` (seed 003's ``D̄ReLU(0) = c``);
  ``c`` may be a rational or a sympy symbol (then derivatives are polynomials in c).
- `Framework(name)`: what ``torch``, ``jax`` or ``tensorflow`` autodiff returns at
  that kink of each built-in activation (sources in `FRAMEWORK_SOURCES`).
- `PerKnot(values, default)`: an explicit number for some neurons (keyed by
  ``(hidden layer, neuron)``), ``default`` elsewhere.

>>> from exactrelu.activations import relu, leaky_relu, hardtanh, absolute
>>> Family(Fraction(1, 2)).knot_value(absolute(), 0, 0, 0)
Fraction(0, 1)
>>> [Framework(n).knot_value(leaky_relu(Fraction(1, 10)), 0, 0, 0) for n in FRAMEWORKS]
[Fraction(1, 10), Fraction(1, 1), Fraction(1, 10)]
>>> [Framework(n).knot_value(hardtanh(-1, 1), 1, 0, 0) for n in FRAMEWORKS]
[Fraction(0, 1), Fraction(1, 1), Fraction(1, 1)]
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping, Protocol, Union

import sympy

from .activations import PiecewiseLinear
from .errors import InputError
from .numbers import parse_number

Scalar = Union[Fraction, sympy.Expr]

FRAMEWORKS = ("torch", "jax", "tensorflow")

# How each framework differentiates each built-in activation at a knot. A rule is
# "left" / "right" (that piece's slope), "inner" (the slope of the piece between the
# two knots of hardtanh), or a fixed number.
_RULES: dict[str, dict[str, Any]] = {
    "torch": {
        "relu": "left",  # threshold_backward: grad * (x > 0)
        "leaky_relu": "left",  # leaky_relu_backward: x > 0 ? grad : grad * negative_slope
        "prelu": "left",  # prelu backward: x > 0 ? grad : weight * grad
        "hardtanh": Fraction(0),  # hardtanh_backward: grad where min < x < max, else 0
        "abs": Fraction(0),  # abs backward: grad * sgn(x), sgn(0) = 0
        "spline": "left",  # Σ a_k relu(x − τ_k) + b1 x + b2 with relu'(0) = 0
    },
    "jax": {
        "relu": "left",  # jax.nn.relu custom_jvp: select(x > 0, g, 0)
        "leaky_relu": "right",  # jnp.where(x >= 0, x, negative_slope * x)
        "prelu": "right",  # flax PReLU: jnp.where(x >= 0, x, negative_slope * x)
        "hardtanh": "inner",  # jax.nn.hard_tanh: where(x > 1, 1, where(x < -1, -1, x))
        "abs": "right",  # lax.abs JVP: select(x >= 0, g, -g)
        "spline": "left",
    },
    "tensorflow": {
        "relu": "left",  # ReluGrad: gradients * (features > 0)
        "leaky_relu": "left",  # LeakyReluGrad: features > 0 ? gradients : alpha * gradients
        "prelu": Fraction(0),  # keras PReLU: relu(x) − alpha·relu(−x), relu'(0) = 0 in both
        "hardtanh": "inner",  # tf.clip_by_value = maximum(minimum(x, hi), lo): ties pass the gradient
        "abs": Fraction(0),  # AbsGrad: grad * sign(x), sign(0) = 0
        "spline": "left",
    },
}

FRAMEWORK_SOURCES = {
    "torch": "aten/src/ATen/native (threshold_backward, leaky_relu_backward, hardtanh_backward) and "
    "tools/autograd/derivatives.yaml (abs: grad * self.sgn(); prelu)",
    "jax": "jax/_src/nn/functions.py (relu custom_jvp, leaky_relu, hard_tanh) and "
    "jax/_src/lax/lax.py (_abs_jvp_rule: select(x >= 0, g, -g)); flax.linen.PReLU",
    "tensorflow": "tensorflow/python/ops/nn_grad.py (_ReluGrad, _LeakyReluGrad), math_grad.py "
    "(_AbsGrad: grad * sign(x); _MaximumMinimumGrad: ties go to x), clip_ops.clip_by_value; "
    "keras PReLU layer",
}


class Convention(Protocol):
    def knot_value(self, fn: PiecewiseLinear, knot: int, layer: int, neuron: int) -> Scalar: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Family:
    """``(1 − c)·left + c·right`` at every knot; ``c`` rational or symbolic."""

    c: Scalar = Fraction(0)

    def knot_value(self, fn: PiecewiseLinear, knot: int, layer: int, neuron: int) -> Scalar:
        left, right = fn.left_slope(knot), fn.right_slope(knot)
        if isinstance(self.c, Fraction):
            return (1 - self.c) * left + self.c * right
        return sympy.expand((1 - self.c) * sympy.Rational(left) + self.c * sympy.Rational(right))

    def describe(self) -> str:
        return str(self.c)


@dataclass(frozen=True)
class Framework:
    """What a framework's autodiff returns at each kink of the built-in activations."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in _RULES:
            raise InputError(f"expected a convention among {', '.join(FRAMEWORKS)}, got {self.name!r}")

    def knot_value(self, fn: PiecewiseLinear, knot: int, layer: int, neuron: int) -> Scalar:
        rule = _RULES[self.name][fn.kind]
        if rule == "left":
            return fn.left_slope(knot)
        if rule == "right":
            return fn.right_slope(knot)
        if rule == "inner":
            return fn.right_slope(knot) if knot == 0 else fn.left_slope(knot)
        return rule

    def describe(self) -> str:
        return self.name


@dataclass(frozen=True)
class PerKnot:
    """An explicit number at chosen neurons ``(hidden layer, neuron)``, ``default`` elsewhere."""

    values: Mapping[tuple[int, int], Scalar]
    default: Convention = Family()

    def knot_value(self, fn: PiecewiseLinear, knot: int, layer: int, neuron: int) -> Scalar:
        if (layer, neuron) in self.values:
            return self.values[(layer, neuron)]
        return self.default.knot_value(fn, knot, layer, neuron)

    def describe(self) -> str:
        return "per-knot"


C = sympy.Symbol("c")


def parse_convention(value: Any) -> Convention:
    """A convention from the CLI's syntax: a number, a framework name, or ``c`` (symbolic).

    >>> parse_convention("1/2"), parse_convention("torch"), parse_convention("c")
    (Family(c=Fraction(1, 2)), Framework(name='torch'), Family(c=c))
    """
    if isinstance(value, (Family, Framework, PerKnot)):
        return value
    if isinstance(value, sympy.Basic):
        return Family(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "c":
            return Family(C)
        if text in _RULES:
            return Framework(text)
        try:
            return Family(parse_number(text, "--convention"))
        except InputError:
            raise InputError(
                f"expected a number, 'c', or one of {', '.join(FRAMEWORKS)}; got {value!r}", path="--convention"
            ) from None
    return Family(parse_number(value, "convention"))
