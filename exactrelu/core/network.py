"""Networks: affine layers with rational weights and PL activation layers.

A `Network` keeps its layers as given (so that writing a case gives back what was
read) and exposes the canonical chain the analyses use,
``f = A_L ∘ σ_{L-1} ∘ A_{L-1} ∘ … ∘ σ_1 ∘ A_1``: consecutive affine layers are
multiplied together, and an identity affine layer is put between two activation
layers, before a leading one and after a trailing one.

>>> net = Network.from_layers(1, [
...     affine([[1], [-1]]), activation("relu"), affine([[1, -1]])])
>>> net.evaluate(["-3/2"])
(Fraction(-3, 2),)
>>> net.pattern([0])
((1, 1),)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any, Sequence

from flint import fmpq_mat

from . import activations as act
from .activations import PiecewiseLinear
from .errors import InputError, InputLimit
from .limits import Limits, active, using
from .numbers import (
    column_fractions,
    fmpq_column,
    fmpq_matrix,
    parse_matrix,
    parse_number,
    parse_vector,
    to_fraction,
)


@dataclass(frozen=True)
class AffineLayer:
    """``x -> W x + b`` with rational entries; ``weight`` rows are output neurons."""

    weight: tuple[tuple[Fraction, ...], ...]
    bias: tuple[Fraction, ...]

    def __post_init__(self) -> None:
        # built directly (not by `affine`): the same shape rules, and exact entries only
        w, b = self.weight, self.bias
        if not isinstance(w, (tuple, list)) or not w or not all(isinstance(r, (tuple, list)) for r in w):
            raise InputError("expected a nonempty list of weight rows", path="weight")
        n = len(w[0])
        if n == 0 or any(len(r) != n for r in w):
            raise InputError(f"expected weight rows of one nonzero length, got lengths {sorted({len(r) for r in w})}",
                             path="weight")
        if not isinstance(b, (tuple, list)) or len(b) != len(w):
            raise InputError(f"expected {len(w)} biases, one per weight row", path="bias")
        if not all(type(v) is Fraction for r in w for v in r) or not all(type(v) is Fraction for v in b):
            raise InputError("expected Fraction entries (build layers from other numbers with affine())",
                             path="weight")

    @property
    def in_dim(self) -> int:
        return len(self.weight[0])

    @property
    def out_dim(self) -> int:
        return len(self.weight)

    @cached_property
    def W(self) -> fmpq_mat:
        return fmpq_matrix(self.weight)

    @cached_property
    def b(self) -> fmpq_mat:
        return fmpq_column(self.bias)


@dataclass(frozen=True)
class ActivationLayer:
    """One PL activation shared by the layer, or one per neuron (``per_neuron``).

    ``kind`` is one of `activations.KINDS`; ``functions`` holds one function when
    shared and one per neuron otherwise.
    """

    kind: str
    functions: tuple[PiecewiseLinear, ...]
    per_neuron: bool = False

    def function(self, neuron: int) -> PiecewiseLinear:
        return self.functions[neuron] if self.per_neuron else self.functions[0]

    def width(self) -> int | None:
        """The number of neurons this layer fixes (None when shared)."""
        return len(self.functions) if self.per_neuron else None


Layer = AffineLayer | ActivationLayer


@dataclass(frozen=True)
class Chain:
    """The canonical form: ``affines[0], acts[0], affines[1], …, affines[-1]``.

    ``acts[l]`` holds one `PiecewiseLinear` per neuron of hidden layer l.
    """

    affines: tuple[AffineLayer, ...]
    acts: tuple[tuple[PiecewiseLinear, ...], ...]

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.acts)


@dataclass(frozen=True)
class Network:
    """A feed-forward PL network with exact rational weights."""

    input_dim: int
    layers: tuple[Layer, ...]
    name: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        dim = self.input_dim
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise InputError(f"expected a positive integer, got {dim!r}", path="input_dim")
        if not isinstance(self.layers, tuple) or not self.layers:
            raise InputError("expected a nonempty tuple of layers", path="layers")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, (AffineLayer, ActivationLayer)):
                raise InputError(f"expected an affine or activation layer, got {type(layer).__name__}",
                                 path=f"layers[{i}]")
        for key in ("name", "source"):
            if not isinstance(getattr(self, key), str):
                raise InputError(f"expected a string, got {type(getattr(self, key)).__name__}", path=key)
        limits = active()
        if len(self.layers) > limits.layers:
            raise InputLimit(f"expected at most {limits.layers} layers, got {len(self.layers)} "
                             "(raise the limit with --max-layers)", path="layers")
        neurons = dim + sum(layer.out_dim for layer in self.layers if isinstance(layer, AffineLayer))
        if neurons > limits.neurons:
            raise InputLimit(f"expected at most {limits.neurons} neurons (inputs and layer outputs), got "
                             f"{neurons} (raise the limit with --max-neurons)", path="layers")

    @classmethod
    def from_layers(cls, input_dim: int, layers: Sequence[Layer], name: str = "", source: str = "",
                    limits: Limits | None = None) -> "Network":
        """A network, its shapes checked (``limits``: see `exactrelu.core.limits`).

        >>> Network.from_layers(-1, [affine([[1]])])
        Traceback (most recent call last):
        ...
        exactrelu.core.errors.InputError: input_dim: expected a positive integer, got -1
        """
        with using(limits):
            net = cls(input_dim, tuple(layers), name, source)
        net.chain  # checks the shapes
        return net

    @property
    def output_dim(self) -> int:
        return self.chain.affines[-1].out_dim

    @cached_property
    def chain(self) -> Chain:
        affines: list[AffineLayer] = []
        acts: list[tuple[PiecewiseLinear, ...]] = []
        dim = self.input_dim
        pending: AffineLayer | None = None
        for i, layer in enumerate(self.layers):
            if isinstance(layer, AffineLayer):
                if layer.in_dim != dim:
                    raise InputError(
                        f"expected a weight with {dim} columns (the previous layer's output size), "
                        f"got {layer.in_dim}",
                        path=f"layers[{i}].weight",
                    )
                pending = layer if pending is None else _compose(layer, pending)
                dim = layer.out_dim
            else:
                if layer.per_neuron and len(layer.functions) != dim:
                    raise InputError(
                        f"expected {dim} per-neuron activations (the previous layer's output size), "
                        f"got {len(layer.functions)}",
                        path=f"layers[{i}]",
                    )
                affines.append(pending if pending is not None else _identity(dim))
                acts.append(tuple(layer.function(j) for j in range(dim)))
                pending = None
        affines.append(pending if pending is not None else _identity(dim))
        return Chain(tuple(affines), tuple(acts))

    # -- evaluation -----------------------------------------------------------------

    def _point(self, x: Sequence[Any]) -> fmpq_mat:
        if len(x) != self.input_dim:
            raise InputError(f"expected a point of dimension {self.input_dim}, got {len(x)}", path="point")
        return fmpq_column(parse_number(v, f"point[{i}]") for i, v in enumerate(x))

    def forward(self, x: Sequence[Any]) -> tuple[tuple[tuple[Fraction, ...], ...], tuple[Fraction, ...]]:
        """Pre-activations of every hidden layer, and the output, exactly at ``x``."""
        v = self._point(x)
        pre_all = []
        chain = self.chain
        for l, fns in enumerate(chain.acts):
            z = chain.affines[l].W * v + chain.affines[l].b
            pre = column_fractions(z)
            pre_all.append(pre)
            v = fmpq_column(fn(t) for fn, t in zip(fns, pre))
        out = chain.affines[-1].W * v + chain.affines[-1].b
        return tuple(pre_all), column_fractions(out)

    def evaluate(self, x: Sequence[Any]) -> tuple[Fraction, ...]:
        """f(x), exactly."""
        return self.forward(x)[1]

    def preactivations(self, x: Sequence[Any]) -> tuple[tuple[Fraction, ...], ...]:
        return self.forward(x)[0]

    def pattern(self, x: Sequence[Any]) -> tuple[tuple[int, ...], ...]:
        """The state of every neuron at ``x`` (see `activations`: even = piece, odd = at a knot)."""
        pre = self.preactivations(x)
        return tuple(tuple(fn.state(t) for fn, t in zip(fns, p)) for fns, p in zip(self.chain.acts, pre))

    # -- construction helpers --------------------------------------------------------

    def __call__(self, x: Sequence[Any]) -> tuple[Fraction, ...]:
        return self.evaluate(x)


def _identity(dim: int) -> AffineLayer:
    one, zero = Fraction(1), Fraction(0)
    return AffineLayer(
        tuple(tuple(one if i == j else zero for j in range(dim)) for i in range(dim)),
        tuple(zero for _ in range(dim)),
    )


def _compose(outer: AffineLayer, inner: AffineLayer) -> AffineLayer:
    W = outer.W * inner.W
    b = outer.W * inner.b + outer.b
    return AffineLayer(
        tuple(tuple(to_fraction(v) for v in row) for row in W.table()),
        column_fractions(b),
    )


def affine(weight: Any, bias: Any = None) -> AffineLayer:
    """An affine layer from rows of numbers (ints, Fractions, strings, floats, numpy arrays).

    >>> affine([["1/2", 1]], [0]).weight
    ((Fraction(1, 2), Fraction(1, 1)),)
    """
    w = parse_matrix(weight, "weight")
    b = parse_vector(bias, "bias", len(w)) if bias is not None else tuple(Fraction(0) for _ in w)
    return AffineLayer(w, b)


def activation(kind: str, **params: Any) -> ActivationLayer:
    """An activation layer by name: ``relu``, ``leaky_relu(alpha)``, ``prelu(alpha=[…])``,
    ``hardtanh(min, max)``, ``abs``, ``spline(knots, slopes, value)`` (per neuron when
    ``knots`` is a list of lists).

    >>> activation("hardtanh", min=-1, max=1).functions[0].slopes
    (Fraction(0, 1), Fraction(1, 1), Fraction(0, 1))
    """
    if kind == "relu":
        return ActivationLayer("relu", (act.relu(),))
    if kind == "abs":
        return ActivationLayer("abs", (act.absolute(),))
    if kind == "leaky_relu":
        alpha = parse_number(_required(params, "alpha"), "alpha")
        return ActivationLayer("leaky_relu", (act.leaky_relu(alpha),))
    if kind == "prelu":
        alphas = parse_vector(_required(params, "alpha"), "alpha")
        return ActivationLayer("prelu", tuple(act.leaky_relu(a, "prelu") for a in alphas), per_neuron=True)
    if kind == "hardtanh":
        lo = parse_number(params.get("min", -1), "min")
        hi = parse_number(params.get("max", 1), "max")
        if not lo < hi:
            raise InputError(f"expected min < max, got min={lo} and max={hi}", path="max")
        return ActivationLayer("hardtanh", (act.hardtanh(lo, hi),))
    if kind == "spline":
        knots = _required(params, "knots")
        slopes = _required(params, "slopes")
        value = _required(params, "value")
        per_neuron = isinstance(knots, (list, tuple)) and len(knots) > 0 and isinstance(knots[0], (list, tuple))
        if not per_neuron:
            return ActivationLayer("spline", (_spline(knots, slopes, value, ""),))
        if not isinstance(slopes, (list, tuple)) or len(slopes) != len(knots):
            raise InputError(f"expected a list of {len(knots)} slope lists, one per neuron", path="slopes")
        if not isinstance(value, (list, tuple)) or len(value) != len(knots):
            raise InputError(f"expected a list of {len(knots)} values, one per neuron", path="value")
        fns = tuple(_spline(k, s, v, f"[{j}]") for j, (k, s, v) in enumerate(zip(knots, slopes, value)))
        return ActivationLayer("spline", fns, per_neuron=True)
    raise InputError(
        f"expected an activation among {', '.join(('affine',) + act.KINDS)}, got {kind!r}", path="type"
    )


def _spline(knots: Any, slopes: Any, value: Any, suffix: str) -> PiecewiseLinear:
    k = parse_vector(knots, "knots" + suffix) if knots != [] else ()
    s = parse_vector(slopes, "slopes" + suffix, len(k) + 1)
    v = parse_number(value, "value" + suffix)
    for i in range(1, len(k)):
        if not k[i - 1] < k[i]:
            raise InputError(
                f"expected strictly increasing knots, got {k[i - 1]} then {k[i]}", path=f"knots{suffix}[{i}]"
            )
    return act.spline(k, s, v)


def _required(params: dict[str, Any], key: str) -> Any:
    if key not in params:
        raise InputError(f"missing key {key!r}", path=key)
    return params[key]
