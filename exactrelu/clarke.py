"""Nonsmooth calculus at a rational point: differentiability, the Clarke Jacobian,
one-sided directional derivatives, and whether ``DΦ_c(x)`` is a Clarke derivative.

Everything rests on the *tangent network* at x: a neuron off its knots becomes linear
with its piece's slope, a neuron exactly at a knot keeps the activation's two slopes
around that knot (``t -> left·t`` for ``t < 0``, ``right·t`` for ``t > 0``), and every bias
is dropped. It is a positively homogeneous PL map T with ``f(x + v) = f(x) + T(v)`` for
every small enough v, built layer by layer, so that a deeper neuron at a knot whose
input moves by zero along some directions is handled as the network itself handles it
(the lexicographic rule comes for free). Hence

- ``f'(x; d) = T(d)`` exactly;
- the activation regions of T (open cones) are the regions of f around x, and the
  Clarke Jacobian of f at x is the convex hull of their Jacobians (its *generators*);
- f is differentiable at x if and only if T is linear, i.e. it has one generator.

The regions of T come from the region engine (`exactrelu.regions.traversal`); membership of a
matrix in the hull is an exact rational linear program (`convex_weights`), and for a
symbolic convention the set of c with ``DΦ_c(x)`` in the hull is solved exactly.

>>> from exactrelu.constructions import seed003_identity, seed003_relu, seed003_zero
>>> directional_derivative(seed003_relu(), [0], [-1])
(Fraction(0, 1),)
>>> clarke_jacobian(seed003_relu(), [0]).generators
(((Fraction(0, 1),),), ((Fraction(1, 1),),))
>>> differentiable(seed003_identity(), [0])          # relu(x) − relu(−x) = x
True
>>> [derivative_in_clarke(seed003_identity(), [0], c).inside for c in ("0", "1/2", "torch")]
[False, True, False]
>>> derivative_in_clarke(seed003_relu(), [0], "c").c_set
Interval(-sqrt(2)/2, sqrt(2)/2)
>>> derivative_in_clarke(seed003_zero(), [0], "c").c_set
{0, 1}
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import sympy

from .calculus import derivative
from .core.activations import PiecewiseLinear
from .core.conventions import as_sympy
from .core.domain import Domain
from .core.errors import InputError
from .core.network import ActivationLayer, AffineLayer, Network
from .core.numbers import parse_number
from .core.results import EXACT

Matrix = tuple[tuple[Fraction, ...], ...]


# -- the tangent network -------------------------------------------------------------------


def tangent_network(net: Network, x: Sequence[Any]) -> Network:
    """The homogeneous PL map T with ``f(x + v) = f(x) + T(v)`` for all small v.

    >>> from exactrelu.constructions import seed003_zero
    >>> t = tangent_network(seed003_zero(), [0])
    >>> [t.evaluate([d]) for d in (1, -1, 5)]
    [(Fraction(0, 1),), (Fraction(0, 1),), (Fraction(0, 1),)]
    """
    point = _point(net, x)
    pre = net.preactivations(point)
    chain = net.chain
    layers: list[AffineLayer | ActivationLayer] = []
    for l, fns in enumerate(chain.acts):
        W = chain.affines[l]
        layers.append(AffineLayer(W.weight, tuple(Fraction(0) for _ in W.bias)))
        layers.append(ActivationLayer("spline", tuple(_local(fn, z) for fn, z in zip(fns, pre[l])), per_neuron=True))
    last = chain.affines[-1]
    layers.append(AffineLayer(last.weight, tuple(Fraction(0) for _ in last.bias)))
    return Network.from_layers(net.input_dim, layers, name=f"tangent of {net.name or 'network'}")


def _local(fn: PiecewiseLinear, z: Fraction) -> PiecewiseLinear:
    """The activation's increment ``σ(z + t) − σ(z)`` for small t: linear, or two slopes at 0."""
    s = fn.state(z)
    if s % 2 == 0:
        return PiecewiseLinear((), (fn.slopes[s // 2],), Fraction(0))
    j = s // 2
    return PiecewiseLinear((Fraction(0),), (fn.left_slope(j), fn.right_slope(j)), Fraction(0))


def directional_derivative(net: Network, x: Sequence[Any], d: Sequence[Any]) -> tuple[Fraction, ...]:
    """The one-sided directional derivative ``f'(x; d) = lim_{t↓0} (f(x + t d) − f(x)) / t``, exactly.

    >>> from exactrelu.core.network import Network, affine, activation
    >>> absx = Network.from_layers(1, [affine([[1]]), activation("abs"), affine([[1]])])
    >>> directional_derivative(absx, [0], [1]), directional_derivative(absx, [0], [-1])
    ((Fraction(1, 1),), (Fraction(1, 1),))
    """
    direction = tuple(parse_number(v, f"direction[{i}]") for i, v in enumerate(d))
    if len(direction) != net.input_dim:
        raise InputError(f"expected a direction of dimension {net.input_dim}, got {len(direction)}", path="--direction")
    return tangent_network(net, x).evaluate(direction)


# -- the Clarke Jacobian ---------------------------------------------------------------------


@dataclass(frozen=True)
class ClarkeJacobian:
    """The Clarke Jacobian of f at ``point``: the convex hull of ``generators``, the distinct
    Jacobians of the activation regions whose closure holds the point (sorted).
    ``kinks``: the neurons exactly at a knot there, as ``(hidden layer, neuron, knot)``."""

    point: tuple[Fraction, ...]
    generators: tuple[Matrix, ...]
    kinks: tuple[tuple[int, int, int], ...]

    @property
    def differentiable(self) -> bool:
        """f is differentiable at the point exactly when the hull is a single matrix."""
        return len(self.generators) == 1

    @property
    def value(self) -> tuple[Matrix, ...]:
        """The generators of the hull."""
        return self.generators

    @property
    def guarantee(self) -> str:
        return EXACT

    @property
    def diagnostics(self) -> dict[str, Any]:
        return {"neurons_on_knots": len(self.kinks), "generators": len(self.generators)}

    def contains(self, matrix: Sequence[Sequence[Any]]) -> bool:
        """Whether ``matrix`` lies in the hull (exact rational LP)."""
        return convex_weights(self.generators, _matrix(matrix, self.generators[0])) is not None


def clarke_jacobian(net: Network, x: Sequence[Any]) -> ClarkeJacobian:
    """The Clarke Jacobian at a rational point, by its generators (exact).

    >>> from exactrelu.core.network import Network, affine, activation
    >>> mx = Network.from_layers(2, [affine([[1, -1], [0, 1], [0, -1]]), activation("relu"),
    ...                              affine([[1, 1, -1]])])            # max(x, y) = y + relu(x − y)
    >>> clarke_jacobian(mx, [1, 1]).generators
    (((Fraction(0, 1), Fraction(1, 1)),), ((Fraction(1, 1), Fraction(0, 1)),))
    """
    point = _point(net, x)
    at = derivative(net, point, 0)
    if not at.knots:
        return ClarkeJacobian(point, (at.matrix,), ())
    tangent = tangent_network(net, point)
    return ClarkeJacobian(point, _region_jacobians(tangent), at.knots)


def _region_jacobians(tangent: Network) -> tuple[Matrix, ...]:
    """The distinct Jacobians of the activation regions of a homogeneous network (its cones
    meet the box [-1, 1]^n in full-dimensional sets, so the box loses none)."""
    from .regions import enumerate_regions

    n = tangent.input_dim
    graph = enumerate_regions(tangent, domain=Domain.from_box([[-1, 1]] * n))
    found = {_as_matrix(region.jacobian) for region in graph.regions}
    return tuple(sorted(found))


def _as_matrix(m: Any) -> Matrix:
    if hasattr(m, "table"):
        m = m.table()
    return tuple(tuple(parse_number(v) for v in row) for row in m)


def differentiable(net: Network, x: Sequence[Any]) -> bool:
    """Whether f is differentiable at x (exact). A pattern boundary with the same affine map
    on both sides is differentiable.

    >>> from exactrelu.constructions import seed003_relu, seed003_zero
    >>> differentiable(seed003_relu(), [0]), differentiable(seed003_zero(), [0])
    (False, True)
    """
    return clarke_jacobian(net, x).differentiable


def in_clarke(net: Network, x: Sequence[Any], matrix: Sequence[Sequence[Any]]) -> bool:
    """Whether ``matrix`` lies in the Clarke Jacobian of f at x (exact).

    >>> from exactrelu.constructions import seed003_relu
    >>> in_clarke(seed003_relu(), [0], [["1/3"]]), in_clarke(seed003_relu(), [0], [[2]])
    (True, False)
    """
    return clarke_jacobian(net, x).contains(matrix)


# -- DΦ_c against the Clarke Jacobian -------------------------------------------------------


@dataclass(frozen=True)
class ConventionCheck:
    """``DΦ_c(x)`` and whether it lies in the Clarke Jacobian.

    For a numeric or named convention, ``inside`` is a bool and ``c_set`` is None. For the
    symbolic convention, ``c_set`` is the exact set of real c for which it does (a sympy set:
    a finite union of closed intervals and points), and ``inside`` says whether that is every c.
    """

    matrix: tuple[tuple[Any, ...], ...]
    clarke: ClarkeJacobian
    inside: bool
    c_set: sympy.Set | None = None

    @property
    def value(self) -> bool:
        """Whether ``DΦ_c(x)`` lies in the Clarke Jacobian (for every c, when symbolic)."""
        return self.inside

    @property
    def guarantee(self) -> str:
        return EXACT

    @property
    def diagnostics(self) -> dict[str, Any]:
        return self.clarke.diagnostics

    @property
    def c_intervals(self) -> tuple[tuple[sympy.Expr, sympy.Expr], ...] | None:
        """``c_set`` as closed intervals ``(lo, hi)`` (a point is ``(a, a)``; ends may be ±oo)."""
        return None if self.c_set is None else set_intervals(self.c_set)


def derivative_in_clarke(net: Network, x: Sequence[Any], convention: Any = 0) -> ConventionCheck:
    """``DΦ_c(x)`` under a convention, and whether (for which c) it is a Clarke derivative.

    >>> from exactrelu.constructions import seed003_identity
    >>> derivative_in_clarke(seed003_identity(), [0], "c").c_set
    {1/2}
    """
    d = derivative(net, x, convention)
    cj = clarke_jacobian(net, d.point)
    symbols = set().union(*(as_sympy(v).free_symbols for row in d.matrix for v in row))
    if not symbols:
        inside = convex_weights(cj.generators, d.matrix) is not None
        return ConventionCheck(d.matrix, cj, inside)
    if len(symbols) > 1:
        raise InputError(f"expected a convention in one symbol, got {sorted(map(str, symbols))}", path="--convention")
    (sym,) = symbols
    c_set = _parameter_set(cj.generators, d.matrix, sym)
    return ConventionCheck(d.matrix, cj, c_set == sympy.S.Reals, c_set)


def set_intervals(s: sympy.Set) -> tuple[tuple[sympy.Expr, sympy.Expr], ...]:
    """A finite union of closed intervals and points as sorted ``(lo, hi)`` pairs.

    >>> set_intervals(sympy.Union(sympy.FiniteSet(3), sympy.Interval(-1, 1)))
    ((-1, 1), (3, 3))
    """
    if s is sympy.S.EmptySet:
        return ()
    if isinstance(s, sympy.Union):
        parts = [p for a in s.args for p in set_intervals(a)]
    elif isinstance(s, sympy.FiniteSet):
        parts = [(a, a) for a in s.args]
    elif isinstance(s, sympy.Interval):
        parts = [(s.start, s.end)]
    else:
        raise InputError(f"cannot write the set {s} as intervals")
    return tuple(sorted(parts, key=lambda p: (float(p[0]), float(p[1]))))


def _parameter_set(generators: Sequence[Matrix], poly: Sequence[Sequence[Any]], sym: sympy.Symbol) -> sympy.Set:
    """The set of real values of ``sym`` with ``poly(sym)`` in the convex hull of ``generators``."""
    points = [tuple(v for row in g for v in row) for g in generators]
    target = [sympy.expand(as_sympy(v)) for row in poly for v in row]
    equations, inequalities = _hull_description(points)
    result: sympy.Set = sympy.S.Reals
    for a, b in equations:  # a · p = b
        expr = sympy.expand(sum(sympy.Rational(ai) * t for ai, t in zip(a, target)) - sympy.Rational(b))
        result = result.intersect(sympy.solveset(sympy.Eq(expr, 0), sym, sympy.S.Reals))
    for a, b in inequalities:  # a · p <= b
        expr = sympy.expand(sum(sympy.Rational(ai) * t for ai, t in zip(a, target)) - sympy.Rational(b))
        result = result.intersect(sympy.solveset(expr <= 0, sym, sympy.S.Reals))
    return result


def _hull_description(points: Sequence[tuple[Fraction, ...]]) -> tuple[list[tuple[tuple[Fraction, ...], Fraction]], list[tuple[tuple[Fraction, ...], Fraction]]]:
    """Exact equations ``a·p = b`` of the affine hull of the points and inequalities ``a·p <= b``
    of the facets of their convex hull within it (brute force over affinely independent
    subsets: meant for the few generators of a Clarke Jacobian)."""
    p0 = points[0]
    dim = len(p0)
    diffs = [tuple(p[i] - p0[i] for i in range(dim)) for p in points[1:]]
    basis = _row_basis(diffs)
    r = len(basis)
    # equations: the orthogonal complement of the span of the differences
    normals = _nullspace(basis, dim)
    equations = [(a, sum((ai * pi for ai, pi in zip(a, p0)), Fraction(0))) for a in normals]
    if r == 0:
        return equations, []
    # coordinates in the affine hull: the facets are hyperplanes spanned by r affinely
    # independent points; a facet normal is orthogonal to the complement too.
    inequalities: dict[tuple[Fraction, ...], Fraction] = {}
    for subset in itertools.combinations(range(len(points)), r):
        q0 = points[subset[0]]
        rows = [tuple(points[k][i] - q0[i] for i in range(dim)) for k in subset[1:]] + list(normals)
        if len(_row_basis(rows)) != len(rows):
            continue
        null = _nullspace(rows, dim)
        if len(null) != 1:
            continue
        a = null[0]
        b = sum((ai * qi for ai, qi in zip(a, q0)), Fraction(0))
        values = [sum((ai * pi for ai, pi in zip(a, p)), Fraction(0)) for p in points]
        if all(v <= b for v in values):
            inequalities[_normalise(a, b)] = b / _scale(a)
        elif all(v >= b for v in values):
            neg = tuple(-ai for ai in a)
            inequalities[_normalise(neg, -b)] = -b / _scale(neg)
    return equations, [(a, b) for a, b in inequalities.items()]


def _scale(a: tuple[Fraction, ...]) -> Fraction:
    return next(abs(v) for v in a if v != 0)


def _normalise(a: tuple[Fraction, ...], b: Fraction) -> tuple[Fraction, ...]:
    s = _scale(a)
    return tuple(v / s for v in a)


def _nullspace(rows: Sequence[Sequence[Fraction]], dim: int) -> list[tuple[Fraction, ...]]:
    """A basis of ``{a : row · a = 0 for every row}`` (exact reduced row echelon form)."""
    rref: list[list[Fraction]] = []
    pivots: list[int] = []
    for row in rows:
        v = list(row)
        for p, b in zip(pivots, rref):
            if v[p] != 0:
                f = v[p]
                v = [vi - f * bi for vi, bi in zip(v, b)]
        pivot = next((i for i, vi in enumerate(v) if vi != 0), None)
        if pivot is None:
            continue
        v = [vi / v[pivot] for vi in v]
        for i, b in enumerate(rref):
            if b[pivot] != 0:
                f = b[pivot]
                rref[i] = [bi - f * vi for bi, vi in zip(b, v)]
        rref.append(v)
        pivots.append(pivot)
    basis = []
    for free in (j for j in range(dim) if j not in pivots):
        a = [Fraction(0)] * dim
        a[free] = Fraction(1)
        for p, b in zip(pivots, rref):
            a[p] = -b[free]
        basis.append(tuple(a))
    return basis


def _row_basis(rows: Sequence[Sequence[Fraction]]) -> list[tuple[Fraction, ...]]:
    """A maximal linearly independent subset of the rows (exact Gaussian elimination)."""
    basis: list[tuple[Fraction, ...]] = []
    reduced: list[tuple[int, list[Fraction]]] = []
    for row in rows:
        v = list(row)
        for pivot, b in reduced:
            if v[pivot] != 0:
                f = v[pivot] / b[pivot]
                v = [vi - f * bi for vi, bi in zip(v, b)]
        pivot = next((i for i, vi in enumerate(v) if vi != 0), None)
        if pivot is not None:
            reduced.append((pivot, v))
            basis.append(tuple(row))
    return basis


# -- exact convex combinations ---------------------------------------------------------------


def convex_weights(generators: Sequence[Matrix], target: Sequence[Sequence[Any]]) -> tuple[Fraction, ...] | None:
    """Weights ``λ ≥ 0``, ``Σλ = 1`` with ``Σ λ_i G_i = target``, or None when there are none.

    Decided exactly by the rational simplex method of `exactrelu.polyhedra.lp` (when there are
    no weights it holds a Farkas certificate of that).

    >>> convex_weights([((Fraction(0),),), ((Fraction(1),),)], [["1/4"]])
    (Fraction(3, 4), Fraction(1, 4))
    >>> convex_weights([((Fraction(0),),), ((Fraction(1),),)], [[2]]) is None
    True
    """
    from .polyhedra.lp import OPTIMAL, simplex

    k = len(generators)
    entries = [(i, j) for i in range(len(target)) for j in range(len(target[0]))]
    M = [[g[i][j] for g in generators] for i, j in entries] + [[Fraction(1)] * k]
    r = [parse_number(target[i][j]) for i, j in entries] + [Fraction(1)]
    result = simplex(M, r, [0] * k)
    return tuple(result.y) if result.status == OPTIMAL else None


# -- helpers ---------------------------------------------------------------------------------


def _point(net: Network, x: Sequence[Any]) -> tuple[Fraction, ...]:
    point = tuple(parse_number(v, f"point[{i}]") for i, v in enumerate(x))
    if len(point) != net.input_dim:
        raise InputError(f"expected a point of dimension {net.input_dim}, got {len(point)}", path="point")
    return point


def _matrix(matrix: Sequence[Sequence[Any]], shape_of: Matrix) -> Matrix:
    rows = tuple(tuple(parse_number(v, f"matrix[{i}][{j}]") for j, v in enumerate(row)) for i, row in enumerate(matrix))
    if len(rows) != len(shape_of) or any(len(r) != len(shape_of[0]) for r in rows):
        raise InputError(
            f"expected a {len(shape_of)}×{len(shape_of[0])} matrix, got {len(rows)} rows", path="matrix"
        )
    return rows


__all__ = [
    "ClarkeJacobian",
    "ConventionCheck",
    "clarke_jacobian",
    "convex_weights",
    "derivative_in_clarke",
    "differentiable",
    "directional_derivative",
    "in_clarke",
    "set_intervals",
    "tangent_network",
]
