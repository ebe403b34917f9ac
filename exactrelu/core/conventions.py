"""Chain-rule conventions: the number a derivative takes at a knot (seed 003).

Off the knots an activation has one slope. At a knot, a *convention* picks a
number:

- `Family(c)`: ``(1 − c)·left slope + c·right slope`` (seed 003's ``D̄ReLU(0) = c``);
  ``c`` may be a rational or a sympy symbol (then derivatives are polynomials in c).
- `Framework(name)`: what ``torch``, ``jax`` or ``tensorflow`` autodiff returns at
  that kink of each built-in activation (sources in `FRAMEWORK_SOURCES`).
- `PerKnot(values, default)`: an explicit number for some neurons (keyed by
  ``(hidden layer, neuron)``), ``default`` elsewhere.

>>> from exactrelu.core.activations import relu, leaky_relu, hardtanh, absolute
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


def as_sympy(v: Scalar) -> sympy.Expr:
    """A `Scalar` as a sympy expression (a `Fraction` as its `sympy.Rational`); nothing is
    parsed, so no text can reach sympy's parser this way.

    >>> as_sympy(Fraction(-3, 4)), as_sympy(C + 1)
    (-3/4, c + 1)
    """
    return v if isinstance(v, sympy.Basic) else sympy.Rational(v.numerator, v.denominator)

FRAMEWORKS = ("torch", "jax", "tensorflow")

# How each framework differentiates each built-in activation at a knot. A rule is
# "left" / "right" (that piece's slope), "inner" (the slope of the piece between the
# two knots of hardtanh), or a fixed number. Each rule was read in the framework's own
# source (FRAMEWORK_SOURCES gives repository, file, function and expression), and each
# column is tested against the framework itself, exactly, at kinks of random dyadic nets
# (tests/test_torch_preset.py; test_jax_preset.py and test_tensorflow_preset.py run where
# jax / TensorFlow are installed: checked with jax 0.10.2 and TensorFlow 2.21.0). The
# framework's module is the one named in FRAMEWORK_OPS; another op for the same function
# can differ at the kink (torch.clamp passes the gradient at the bound, F.hardtanh does not).
_RULES: dict[str, dict[str, Any]] = {
    "torch": {
        "relu": "left",  # threshold_backward(grad, result, 0): 0 where result <= 0
        "leaky_relu": "left",  # leaky_relu_backward: self > 0 ? grad : grad * negative_slope
        "prelu": "left",  # _prelu_kernel_backward: input > 0 ? grad : weight * grad
        "hardtanh": Fraction(0),  # hardtanh_backward: (self <= min || self >= max) ? 0 : grad
        "abs": Fraction(0),  # abs: grad * self.sgn(), sgn(0) = 0
        "spline": "left",  # Σ a_k relu(x − τ_k) + b1 x + b2: relu'(0) = 0 at the knot's own term
    },
    "jax": {
        "relu": "left",  # jax.nn.relu custom_jvp: select(x > 0, g, 0)
        "leaky_relu": "right",  # jnp.where(x >= 0, x, negative_slope * x): the x branch at 0
        "prelu": "right",  # flax.linen.PReLU: jnp.where(inputs >= 0, inputs, negative_slope * inputs)
        "hardtanh": "inner",  # jax.nn.hard_tanh: where(x > 1, 1, where(x < -1, -1, x)): x branch at ±1
        "abs": "right",  # lax _abs_jvp_rule: select(ge(x, 0), g, neg(g))
        "spline": "left",  # Σ a_k jax.nn.relu(x − τ_k) + b1 x + b2
    },
    "tensorflow": {
        "relu": "left",  # ReluGrad functor: gradients * (features > 0)
        "leaky_relu": "left",  # LeakyReluGrad functor: (features > 0).select(gradients, gradients * alpha)
        "prelu": Fraction(0),  # keras PReLU.call: relu(x) − alpha·relu(−x); both relu' are 0 at 0
        "hardtanh": "inner",  # keras hard_tanh = tf.clip_by_value = maximum(minimum(x, hi), lo); ties -> x
        "abs": Fraction(0),  # _AbsGrad: grad * sign(x), sign(0) = 0
        "spline": "left",  # Σ a_k tf.nn.relu(x − τ_k) + b1 x + b2
    },
}

# Where a framework's formula for an activation has a kink that the function itself has
# not: keras PReLU computes relu(x) − α·relu(−x), so an identity PReLU (α = 1, no knot)
# still gets relu'(0) + α·relu'(0) = 0 from TensorFlow at 0 (found by
# tests/test_tensorflow_preset.py). (framework, kind) -> (the point, the number there).
_FORMULA_KINKS: dict[tuple[str, str], tuple[Fraction, Fraction]] = {
    ("tensorflow", "prelu"): (Fraction(0), Fraction(0)),
}

# The op each framework's rule describes, per activation kind.
FRAMEWORK_OPS: dict[str, dict[str, str]] = {
    "torch": {
        "relu": "torch.nn.ReLU / F.relu",
        "leaky_relu": "torch.nn.LeakyReLU / F.leaky_relu",
        "prelu": "torch.nn.PReLU / F.prelu",
        "hardtanh": "torch.nn.Hardtanh / F.hardtanh",
        "abs": "torch.abs",
        "spline": "sum of a_k * F.relu(x - tau_k) plus b1 * x + b2",
    },
    "jax": {
        "relu": "jax.nn.relu",
        "leaky_relu": "jax.nn.leaky_relu",
        "prelu": "flax.linen.PReLU",
        "hardtanh": "jax.nn.hard_tanh",
        "abs": "jnp.abs (lax.abs)",
        "spline": "sum of a_k * jax.nn.relu(x - tau_k) plus b1 * x + b2",
    },
    "tensorflow": {
        "relu": "tf.nn.relu",
        "leaky_relu": "tf.nn.leaky_relu",
        "prelu": "keras.layers.PReLU",
        "hardtanh": "keras.ops.hard_tanh (tf.clip_by_value)",
        "abs": "tf.abs",
        "spline": "sum of a_k * tf.nn.relu(x - tau_k) plus b1 * x + b2",
    },
}

# Where each rule was read: repository, file, function, and the expression at the kink.
FRAMEWORK_SOURCES: dict[str, dict[str, str]] = {
    "torch": {
        "relu": "pytorch/pytorch tools/autograd/derivatives.yaml, relu: "
        "'self: threshold_backward(grad, result, 0)' (zero where result <= threshold)",
        "leaky_relu": "pytorch/pytorch aten/src/ATen/native/cpu/Activation.cpp, leaky_relu_backward_kernel: "
        "'a > scalar_t(0) ? b : b * negval' (a = self, b = grad)",
        "prelu": "pytorch/pytorch aten/src/ATen/native/Activation.cpp, _prelu_kernel_backward "
        "(input > 0 ? grad : weight * grad; read from the kernel's behaviour, checked against torch 2.13 "
        "in tests/test_torch_preset.py)",
        "hardtanh": "pytorch/pytorch aten/src/ATen/native/cpu/Activation.cpp, hardtanh_backward_kernel: "
        "'(self_val <= min_val || self_val >= max_val) ? scalar_t(0) : grad_val'",
        "abs": "pytorch/pytorch tools/autograd/derivatives.yaml, abs: 'self: grad * self.sgn()'",
        "spline": "as relu (derivatives.yaml threshold_backward), term by term",
    },
    "jax": {
        "relu": "jax-ml/jax jax/_src/nn/functions.py, relu: "
        "'relu.defjvps(lambda g, ans, x: lax.select(x > 0, g, lax.full_like(g, 0)))'",
        "leaky_relu": "jax-ml/jax jax/_src/nn/functions.py, leaky_relu: 'jnp.where(x >= 0, x, negative_slope * x)'",
        "prelu": "google/flax flax/linen/activation.py, PReLU.__call__: "
        "'jnp.where(inputs >= 0, inputs, negative_slope * inputs)'",
        "hardtanh": "jax-ml/jax jax/_src/nn/functions.py, hard_tanh: "
        "'jnp.where(x > 1, 1, jnp.where(x < -1, -1, x))'",
        "abs": "jax-ml/jax jax/_src/lax/lax.py, _abs_jvp_rule: 'select(ge(x, _zero(x)), g, neg(g))'",
        "spline": "as relu (jax.nn.relu custom_jvp), term by term",
    },
    "tensorflow": {
        "relu": "tensorflow/tensorflow tensorflow/core/kernels/relu_op_functor.h, ReluGrad: "
        "'gradients * (features > static_cast<T>(0)).template cast<T>()'",
        "leaky_relu": "tensorflow/tensorflow tensorflow/core/kernels/relu_op_functor.h, LeakyReluGrad: "
        "'(features > static_cast<T>(0)).select(gradients, gradients * alpha)'",
        "prelu": "keras-team/keras keras/src/layers/activations/prelu.py, PReLU.call: "
        "'pos = activations.relu(inputs); neg = -self.alpha * activations.relu(-inputs)'",
        "hardtanh": "keras-team/keras keras/src/backend/tensorflow/nn.py, hard_tanh: "
        "'tf.clip_by_value(x, clip_value_min=-1.0, clip_value_max=1.0)'; tensorflow/tensorflow "
        "tensorflow/python/ops/clip_ops.py, clip_by_value: 'math_ops.maximum(math_ops.minimum(values, "
        "clip_value_max), clip_value_min)'; tensorflow/python/ops/math_grad.py, _MaximumGrad / _MinimumGrad: "
        "'_MaximumMinimumGrad(op, grad, math_ops.greater_equal / less_equal)' (ties go to the first input)",
        "abs": "tensorflow/tensorflow tensorflow/python/ops/math_grad.py, _AbsGrad: 'grad * math_ops.sign(x)'",
        "spline": "as relu (ReluGrad), term by term",
    },
}


def rule_value(rule: Any, fn: PiecewiseLinear, knot: int) -> Scalar:
    """The number a rule of `_RULES` (``"left"``, ``"right"``, ``"inner"`` or a number) gives
    at knot ``knot`` of ``fn``.

    >>> from exactrelu.core.activations import hardtanh
    >>> [rule_value("inner", hardtanh(-1, 1), k) for k in (0, 1)]    # the slope between the knots
    [Fraction(1, 1), Fraction(1, 1)]
    """
    if rule == "left":
        return fn.left_slope(knot)
    if rule == "right":
        return fn.right_slope(knot)
    if rule == "inner":
        return fn.right_slope(knot) if knot == 0 else fn.left_slope(knot)
    return rule


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
        return rule_value(_RULES[self.name][fn.kind], fn, knot)

    def formula_value(self, fn: PiecewiseLinear, z: Fraction) -> Scalar | None:
        """The number the framework gives at ``z`` where its formula for ``fn`` has a kink
        that ``fn`` has not (`_FORMULA_KINKS`); None elsewhere.

        >>> from exactrelu.core.activations import leaky_relu
        >>> identity = leaky_relu(Fraction(1), kind="prelu")    # α = 1: no knot left
        >>> [Framework(n).formula_value(identity, Fraction(0)) for n in FRAMEWORKS]
        [None, None, Fraction(0, 1)]
        """
        kink = _FORMULA_KINKS.get((self.name, fn.kind))
        return kink[1] if kink is not None and z == kink[0] else None

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

    def formula_value(self, fn: PiecewiseLinear, z: Fraction) -> Scalar | None:
        formula = getattr(self.default, "formula_value", None)
        return formula(fn, z) if formula is not None else None

    def describe(self) -> str:
        return "per-knot"


C = sympy.Symbol("c")


def parse_convention(value: Any) -> Convention:
    """A convention from the CLI's syntax: a number, a framework name, or ``c`` (symbolic).

    >>> parse_convention("1/2"), parse_convention("torch"), parse_convention("c")
    (Family(c=Fraction(1, 2)), Framework(name='torch'), Family(c=c))
    """
    if isinstance(value, (Family, Framework, PerKnot)) or hasattr(value, "knot_value"):
        return value  # (any `Convention`, such as the oracle's op presets)
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
