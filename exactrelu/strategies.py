"""Hypothesis strategies for random small rational networks, degenerate ones on purpose.

For this project's property tests and for other projects testing themselves against
exactrelu (requires the ``hypothesis`` package, in the ``test`` extra).

- `networks`: random nets; with ``degenerate`` (the default) they hold, on purpose,
  coincident hyperplanes (a row *and* its bias proportional to another's), parallel and
  opposite ones, three or more hyperplanes through one point, zero rows and dead neurons
  (zero row, bias at or below the knot). ``binary64=True`` draws only dyadic numbers, so
  that a float64 framework (`exactrelu.oracle.torch_model`) holds them exactly.
- `points` (``binary64=True`` for dyadic ones), `kink_points` (binary64 points exactly on
  a kink of a given net), `boxes` and `polyhedra` (domains).

>>> from hypothesis import given, settings
>>> @settings(max_examples=5, deadline=None)
... @given(networks(max_input_dim=2, binary64=True))
... def test_evaluates(net):
...     assert len(net.evaluate([0] * net.input_dim)) == net.output_dim
>>> test_evaluates()
>>> networks(kinds=["absolute"])
Traceback (most recent call last):
    ...
exactrelu.core.errors.InputError: kinds: expected activation kinds among relu, leaky_relu, prelu, hardtanh, abs, spline; got 'absolute'
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from hypothesis import assume
from hypothesis import strategies as st

from .core.domain import Domain
from .core.errors import InputError
from .core.network import ActivationLayer, AffineLayer, Network, activation, affine

ACTIVATIONS = ("relu", "leaky_relu", "prelu", "hardtanh", "abs", "spline")


def rationals(max_denominator: int = 4, max_abs: int = 3, binary64: bool = False) -> st.SearchStrategy[Fraction]:
    """Small rationals p/q, with 0 and ±1 drawn often (they make degenerate nets); with
    ``binary64``, q a power of two up to ``max_denominator``."""
    if binary64:
        dens = [2**k for k in range(max_denominator.bit_length()) if 2**k <= max_denominator]
        general = st.builds(lambda p, q: Fraction(p, q), st.integers(-max_abs * max(dens), max_abs * max(dens)),
                            st.sampled_from(dens))
    else:
        general = st.builds(
            Fraction,
            st.integers(-max_abs * max_denominator, max_abs * max_denominator),
            st.integers(1, max_denominator),
        )
    return st.one_of(st.sampled_from([Fraction(0), Fraction(1), Fraction(-1)]), general)


def _kinds(kinds: Sequence[str]) -> list[str]:
    unknown = [k for k in kinds if k not in ACTIVATIONS]
    if unknown or not kinds:
        raise InputError(f"expected activation kinds among {', '.join(ACTIVATIONS)}; got "
                         f"{', '.join(repr(k) for k in unknown) or 'none'}", path="kinds")
    return list(kinds)


@st.composite
def activation_layers(
    draw: st.DrawFn, width: int, kinds: Sequence[str] = ACTIVATIONS, binary64: bool = False
) -> ActivationLayer:
    """One activation layer of the given width, of a kind drawn from ``kinds``."""
    kind = draw(st.sampled_from(_kinds(kinds)))
    if kind in ("relu", "abs"):
        return activation(kind)
    if kind == "leaky_relu":
        alphas = [Fraction(1, 8), Fraction(1, 2), Fraction(0), Fraction(-1, 2)] if binary64 else [
            Fraction(1, 10), Fraction(1, 2), Fraction(0), Fraction(-1, 2)]
        return activation(kind, alpha=draw(st.sampled_from(alphas)))
    if kind == "prelu":
        return activation(kind, alpha=draw(st.lists(rationals(4, 1, binary64), min_size=width, max_size=width)))
    if kind == "hardtanh":
        lo = draw(st.sampled_from([Fraction(-1), Fraction(0), Fraction(-1, 2)]))
        return activation(kind, min=lo, max=lo + draw(st.sampled_from([Fraction(1), Fraction(2), Fraction(1, 2)])))
    knots = sorted(set(draw(st.lists(rationals(2, 2, binary64), min_size=1, max_size=3))))
    slopes = draw(st.lists(rationals(2, 2, binary64), min_size=len(knots) + 1, max_size=len(knots) + 1))
    return activation("spline", knots=knots, slopes=slopes, value=draw(rationals(2, 2, binary64)))


@st.composite
def affine_layers(
    draw: st.DrawFn, in_dim: int, out_dim: int, degenerate: bool = True, binary64: bool = False
) -> AffineLayer:
    """Rational weights; with ``degenerate``, now and then: a row and bias proportional to
    an earlier one (the same hyperplane), a row proportional with another bias (parallel),
    a zero row (a dead neuron when its bias is at or below the knot), and rows through one
    common point (three or more hyperplanes meeting there)."""
    values = rationals(binary64=binary64)
    scales = st.sampled_from([Fraction(1), Fraction(-1), Fraction(2), Fraction(-1, 2)])
    rows: list[list[Fraction]] = []
    bias: list[Fraction] = []
    through = draw(st.tuples(*[values] * in_dim)) if degenerate and draw(st.integers(0, 3)) == 0 else None
    for _ in range(out_dim):
        move = draw(st.integers(0, 9)) if degenerate else 9
        if rows and move == 0:  # coincident: row and bias proportional
            k = draw(st.integers(0, len(rows) - 1))
            s = draw(scales)
            rows.append([s * v for v in rows[k]])
            bias.append(s * bias[k])
        elif rows and move == 1:  # parallel
            rows.append([draw(scales) * v for v in rows[draw(st.integers(0, len(rows) - 1))]])
            bias.append(draw(values))
        elif move == 2:  # zero row: dead (bias <= 0) or constant
            rows.append([Fraction(0)] * in_dim)
            bias.append(draw(st.sampled_from([Fraction(-1), Fraction(0), Fraction(1)])))
        else:
            row = draw(st.lists(values, min_size=in_dim, max_size=in_dim))
            rows.append(row)
            # through the common point: bias = −row·p (its hyperplane contains p)
            bias.append(-sum((a * p for a, p in zip(row, through)), Fraction(0)) if through is not None else draw(values))
    return affine(rows, bias)


def networks(
    max_input_dim: int = 2,
    max_width: int = 3,
    max_hidden_layers: int = 2,
    output_dim: int | None = None,
    kinds: Sequence[str] = ACTIVATIONS,
    degenerate: bool = True,
    binary64: bool = False,
    input_dim: int | None = None,
) -> st.SearchStrategy[Network]:
    """Random networks ``n0 → w1 → … → out`` with rational weights and PL activations.
    ``input_dim`` / ``output_dim`` fix the dimensions (else drawn); ``binary64``: dyadic
    numbers only; an unknown kind is an `InputError` when the strategy is made."""
    return _networks(max_input_dim, max_width, max_hidden_layers, output_dim, _kinds(kinds), degenerate, binary64,
                     input_dim)


@st.composite
def _networks(
    draw: st.DrawFn, max_input_dim: int, max_width: int, max_hidden_layers: int, output_dim: int | None,
    kinds: Sequence[str], degenerate: bool, binary64: bool, input_dim: int | None,
) -> Network:
    n0 = input_dim if input_dim is not None else draw(st.integers(1, max_input_dim))
    depth = draw(st.integers(1, max_hidden_layers))
    widths = [draw(st.integers(1, max_width)) for _ in range(depth)]
    out = output_dim if output_dim is not None else draw(st.integers(1, 2))
    layers: list[AffineLayer | ActivationLayer] = []
    dim = n0
    for w in widths:
        layers.append(draw(affine_layers(dim, w, degenerate, binary64)))
        layers.append(draw(activation_layers(w, kinds, binary64)))
        dim = w
    layers.append(draw(affine_layers(dim, out, degenerate, binary64)))
    return Network.from_layers(n0, layers, name="hypothesis")


def points(
    dim: int, max_denominator: int = 4, max_abs: int = 3, binary64: bool = False
) -> st.SearchStrategy[tuple[Fraction, ...]]:
    """Rational points, often on a grid where kinks of small nets lie (``binary64``: dyadic)."""
    return st.tuples(*[rationals(max_denominator, max_abs, binary64) for _ in range(dim)])


@st.composite
def kink_points(draw: st.DrawFn, net: Network) -> tuple[Fraction, ...]:
    """A binary64 point exactly on a kink of ``net`` (a neuron exactly at a knot), found from
    a drawn start point and neuron by `exactrelu.kinkpoints.solve_kinks`; draws that find
    none are rejected (``assume``), so use it on nets that have reachable kinks."""
    from .kinkpoints import kink_point

    neurons = [(l, i, j) for l, fns in enumerate(net.chain.acts) for i, fn in enumerate(fns) for j in range(len(fn.knots))]
    assume(neurons)
    start = draw(points(net.input_dim, 8, 2, binary64=True))
    sp = kink_point(net, start, draw(st.sampled_from(neurons)))
    assume(sp is not None and sp.kinks)
    return sp.point  # type: ignore[union-attr]


@st.composite
def boxes(draw: st.DrawFn, dim: int, binary64: bool = False) -> Domain:
    """A box domain ``[lo_i, hi_i]`` with rational (or dyadic) ends, thin ones now and then."""
    bounds = []
    for _ in range(dim):
        lo = draw(rationals(4, 2, binary64))
        bounds.append([lo, lo + draw(st.sampled_from([Fraction(1, 4), Fraction(1), Fraction(3), Fraction(1, 64)]))])
    return Domain.from_box(bounds)


@st.composite
def polyhedra(draw: st.DrawFn, dim: int) -> Domain:
    """A bounded polyhedral domain ``{x : A x <= b}`` with nonempty interior: a box around
    the origin cut by one to three drawn half-planes that keep the origin strictly inside
    (redundant and nearly redundant rows happen)."""
    A: list[list[Fraction]] = []
    b: list[Fraction] = []
    for i in range(dim):
        e = [Fraction(int(j == i)) for j in range(dim)]
        A += [e, [-v for v in e]]
        b += [draw(st.sampled_from([Fraction(1), Fraction(2)])), draw(st.sampled_from([Fraction(1), Fraction(1, 2)]))]
    for _ in range(draw(st.integers(1, 3))):
        row = draw(st.lists(rationals(2, 2), min_size=dim, max_size=dim))
        assume(any(v != 0 for v in row))
        A.append(row)
        b.append(draw(st.sampled_from([Fraction(1, 4), Fraction(1), Fraction(2)])))
    return Domain.from_halfspaces(A, b, dim)
