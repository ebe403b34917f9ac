"""Hypothesis strategies for random small rational networks, degenerate ones on purpose.

For this project's property tests and for other projects testing themselves against
exactrelu (requires the ``hypothesis`` package, in the ``test`` extra).

>>> from hypothesis import given, settings
>>> @settings(max_examples=5, deadline=None)
... @given(networks(max_input_dim=2))
... def test_evaluates(net):
...     assert len(net.evaluate([0] * net.input_dim)) == net.output_dim
>>> test_evaluates()
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from hypothesis import strategies as st

from .core.network import ActivationLayer, AffineLayer, Network, activation, affine

ACTIVATIONS = ("relu", "leaky_relu", "prelu", "hardtanh", "abs", "spline")


def rationals(max_denominator: int = 4, max_abs: int = 3) -> st.SearchStrategy[Fraction]:
    """Small rationals p/q, with 0 and ±1 drawn often (they make degenerate nets)."""
    general = st.builds(
        Fraction,
        st.integers(-max_abs * max_denominator, max_abs * max_denominator),
        st.integers(1, max_denominator),
    )
    return st.one_of(st.sampled_from([Fraction(0), Fraction(1), Fraction(-1)]), general)


@st.composite
def activation_layers(
    draw: st.DrawFn, width: int, kinds: Sequence[str] = ACTIVATIONS
) -> ActivationLayer:
    """One activation layer of the given width, of a kind drawn from ``kinds``."""
    kind = draw(st.sampled_from(list(kinds)))
    if kind in ("relu", "abs"):
        return activation(kind)
    if kind == "leaky_relu":
        return activation(kind, alpha=draw(st.sampled_from([Fraction(1, 10), Fraction(1, 2), Fraction(0), Fraction(-1, 2)])))
    if kind == "prelu":
        return activation(kind, alpha=draw(st.lists(rationals(4, 1), min_size=width, max_size=width)))
    if kind == "hardtanh":
        lo = draw(st.sampled_from([Fraction(-1), Fraction(0), Fraction(-1, 2)]))
        return activation(kind, min=lo, max=lo + draw(st.sampled_from([Fraction(1), Fraction(2), Fraction(1, 2)])))
    knots = sorted(set(draw(st.lists(rationals(2, 2), min_size=1, max_size=3))))
    slopes = draw(st.lists(rationals(2, 2), min_size=len(knots) + 1, max_size=len(knots) + 1))
    return activation("spline", knots=knots, slopes=slopes, value=draw(rationals(2, 2)))


@st.composite
def affine_layers(draw: st.DrawFn, in_dim: int, out_dim: int, degenerate: bool = True) -> AffineLayer:
    """Rational weights; with ``degenerate``, repeated, parallel, zero and opposite rows happen."""
    values = rationals()
    rows = []
    for i in range(out_dim):
        if degenerate and rows and draw(st.integers(0, 5)) == 0:
            base = draw(st.sampled_from(rows))
            scale = draw(st.sampled_from([Fraction(1), Fraction(-1), Fraction(2), Fraction(-1, 2)]))
            rows.append([scale * v for v in base])
        elif degenerate and draw(st.integers(0, 9)) == 0:
            rows.append([Fraction(0)] * in_dim)
        else:
            rows.append(draw(st.lists(values, min_size=in_dim, max_size=in_dim)))
    bias = draw(st.lists(values, min_size=out_dim, max_size=out_dim))
    return affine(rows, bias)


@st.composite
def networks(
    draw: st.DrawFn,
    max_input_dim: int = 2,
    max_width: int = 3,
    max_hidden_layers: int = 2,
    output_dim: int | None = None,
    kinds: Sequence[str] = ACTIVATIONS,
    degenerate: bool = True,
) -> Network:
    """A random network ``n0 → w1 → … → out`` with rational weights and PL activations."""
    n0 = draw(st.integers(1, max_input_dim))
    depth = draw(st.integers(1, max_hidden_layers))
    widths = [draw(st.integers(1, max_width)) for _ in range(depth)]
    out = output_dim if output_dim is not None else draw(st.integers(1, 2))
    layers: list[AffineLayer | ActivationLayer] = []
    dim = n0
    for w in widths:
        layers.append(draw(affine_layers(dim, w, degenerate)))
        layers.append(draw(activation_layers(w, kinds)))
        dim = w
    layers.append(draw(affine_layers(dim, out, degenerate)))
    return Network.from_layers(n0, layers, name="hypothesis")


def points(dim: int, max_denominator: int = 4, max_abs: int = 3) -> st.SearchStrategy[tuple[Fraction, ...]]:
    """Rational points, often on a grid where kinks of small nets lie."""
    return st.tuples(*[rationals(max_denominator, max_abs) for _ in range(dim)])
