"""The network derivative ``DΦ_c`` (seed 003) and parameter gradients at a sample.

``DΦ_c(x) = W_L Δ_{L-1}(x) W_{L-1} … Δ_1(x) W_1`` with ``Δ_l`` the diagonal of
activation slopes at the pre-activations; at a knot the convention decides (see
`exactrelu.core.conventions`). Off the knots this is the Jacobian of f; on them it is
what an autodiff framework with that convention computes, which need not be a
Clarke generalised derivative (seed 003: no single c works for all networks).

>>> from exactrelu.core.network import Network, affine, activation
>>> net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, -1]])])
>>> derivative(net, [0], "c").matrix   # relu(x) − relu(−x) = x, but DΦ_c(0) = 2c
((2*c,),)
>>> derivative(net, [0], "1/2").matrix
((Fraction(1, 1),),)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import sympy

from .core.conventions import Convention, Scalar, as_sympy, parse_convention
from .core.network import Network
from .core.numbers import fmpq_matrix, matrix_fractions, parse_number
from .core.results import EXACT


@dataclass(frozen=True)
class Derivative:
    """``DΦ_c`` at a point: the matrix (rationals, or sympy polynomials in c), and the
    neurons that sat exactly on a knot there, as ``(hidden layer, neuron, knot)``."""

    matrix: tuple[tuple[Scalar, ...], ...]
    point: tuple[Fraction, ...]
    convention: str
    knots: tuple[tuple[int, int, int], ...]
    slopes: tuple[tuple[Scalar, ...], ...]

    @property
    def on_kink(self) -> bool:
        return bool(self.knots)

    @property
    def value(self) -> tuple[tuple[Scalar, ...], ...]:
        return self.matrix

    @property
    def guarantee(self) -> str:
        return EXACT

    @property
    def diagnostics(self) -> dict[str, Any]:
        return {"convention": self.convention, "neurons_on_knots": len(self.knots)}


def slopes_at(net: Network, x: Sequence[Any], convention: Any = 0) -> tuple[
    tuple[tuple[Scalar, ...], ...], tuple[tuple[int, int, int], ...], tuple[tuple[Fraction, ...], ...]
]:
    """The diagonals ``Δ_l(x)`` under a convention, the knots hit, and the pre-activations.

    Off the knots a neuron's slope is its piece's, except where the convention's framework
    formula has a kink the function has not (``formula_value``: TensorFlow's identity PReLU
    at 0); such a point is not a knot of the function and is not listed among the knots."""
    conv: Convention = parse_convention(convention)
    formula = getattr(conv, "formula_value", None)
    pre = net.preactivations(x)
    diags, knots = [], []
    for l, (fns, zs) in enumerate(zip(net.chain.acts, pre)):
        row = []
        for i, (fn, z) in enumerate(zip(fns, zs)):
            s = fn.state(z)
            if s % 2 == 0:
                v = formula(fn, z) if formula is not None else None
                row.append(fn.slopes[s // 2] if v is None else v)
            else:
                knots.append((l, i, s // 2))
                row.append(conv.knot_value(fn, s // 2, l, i))
        diags.append(tuple(row))
    return tuple(diags), tuple(knots), pre


def derivative(net: Network, x: Sequence[Any], convention: Any = 0) -> Derivative:
    """``DΦ_c(x)`` exactly, under a convention (number, ``"torch"``/``"jax"``/``"tensorflow"``,
    ``"c"`` or a sympy symbol, or a `conventions.PerKnot`)."""
    conv = parse_convention(convention)
    point = tuple(parse_number(v, f"point[{i}]") for i, v in enumerate(x))
    diags, knots, _ = slopes_at(net, point, conv)
    matrix = _chain_product(net, diags)
    return Derivative(matrix, point, conv.describe(), knots, diags)


def _chain_product(net: Network, diags: Sequence[Sequence[Scalar]]) -> tuple[tuple[Scalar, ...], ...]:
    affines = net.chain.affines
    symbolic = any(not isinstance(d, Fraction) for row in diags for d in row)
    if not symbolic:
        J = affines[0].W
        for l, row in enumerate(diags):
            D = fmpq_matrix([[row[i] if i == j else 0 for j in range(len(row))] for i in range(len(row))])
            J = affines[l + 1].W * (D * J)
        return matrix_fractions(J)
    M = sympy.Matrix(affines[0].weight).applyfunc(sympy.Rational)
    for l, row in enumerate(diags):
        M = sympy.diag(*[as_sympy(d) for d in row]) * M
        M = sympy.Matrix(affines[l + 1].weight).applyfunc(sympy.Rational) * M
    return tuple(tuple(_simplify(M[i, j]) for j in range(M.cols)) for i in range(M.rows))


def _simplify(e: sympy.Expr) -> Scalar:
    e = sympy.expand(e)
    return Fraction(int(e.p), int(e.q)) if e.is_Rational else e


@dataclass(frozen=True)
class ParameterGradient:
    """Gradients of every output with respect to the weights and biases of the chain's
    affine layers at a fixed sample: ``weight[l][k][i][j] = ∂f_k/∂W_l[i, j]``,
    ``bias[l][k][i] = ∂f_k/∂b_l[i]`` (backpropagation with the convention's ``Δ``)."""

    weight: tuple[tuple[tuple[tuple[Scalar, ...], ...], ...], ...]
    bias: tuple[tuple[tuple[Scalar, ...], ...], ...]
    knots: tuple[tuple[int, int, int], ...]

    @property
    def value(self) -> tuple[Any, Any]:
        """``(weight, bias)``."""
        return self.weight, self.bias

    @property
    def guarantee(self) -> str:
        return EXACT

    @property
    def diagnostics(self) -> dict[str, Any]:
        return {"neurons_on_knots": len(self.knots)}


def parameter_gradient(net: Network, x: Sequence[Any], convention: Any = 0) -> ParameterGradient:
    """Backpropagation at the sample ``x`` under a convention (seed 000, seed 003).

    Parameters are those of ``net.chain`` (consecutive affine layers merged).

    >>> from exactrelu.constructions import seed000_minimal
    >>> g = parameter_gradient(seed000_minimal(2, 1, 1), [-1], "c")   # β = γ: on the kink
    >>> g.weight[0][0], g.bias[0][0], g.weight[1][0]   # ∂/∂β, ∂/∂γ, ∂/∂α
    (((-2*c,),), (2*c,), ((Fraction(0, 1),),))
    """
    conv = parse_convention(convention)
    diags, knots, pre = slopes_at(net, x, conv)
    chain = net.chain
    point = tuple(parse_number(v, f"point[{i}]") for i, v in enumerate(x))
    # inputs to each affine layer
    inputs = [point]
    for l, fns in enumerate(chain.acts):
        inputs.append(tuple(fn(z) for fn, z in zip(fns, pre[l])))
    # delta[l] = ∂f/∂z_l, an (out × width of affine l's output) matrix
    out_dim = chain.affines[-1].out_dim
    delta: list[Any] = [None] * len(chain.affines)
    current = sympy.eye(out_dim)
    delta[-1] = current
    for l in range(len(chain.acts) - 1, -1, -1):
        W_next = sympy.Matrix(chain.affines[l + 1].weight).applyfunc(sympy.Rational)
        current = current * W_next * sympy.diag(*[as_sympy(d) for d in diags[l]])
        delta[l] = current
    weight, bias = [], []
    for l, layer in enumerate(chain.affines):
        d = delta[l]
        a = inputs[l]
        weight.append(
            tuple(
                tuple(tuple(_simplify(d[k, i] * sympy.Rational(a[j])) for j in range(layer.in_dim)) for i in range(layer.out_dim))
                for k in range(out_dim)
            )
        )
        bias.append(tuple(tuple(_simplify(d[k, i]) for i in range(layer.out_dim)) for k in range(out_dim)))
    return ParameterGradient(tuple(weight), tuple(bias), knots)

