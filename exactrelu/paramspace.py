"""Parameter space at fixed data (seed 000): where is ``θ ↦ f_θ(x)`` not differentiable?

With the sample x fixed, the output is a piecewise-polynomial function of the parameters
θ (weights and biases, any of them sympy symbols). For each activation pattern, the
pieces (`pieces`) give the exact conditions on θ (polynomial inequalities, one pair per
neuron) and the output and gradient as polynomials. Between two patterns that differ in
one neuron's adjacent pieces lies a *kink locus* (`kink_loci`): the neuron's
pre-activation equals its knot. Where exactly one neuron sits at its knot, f is
differentiable if and only if the gradients of the two sides agree there: writing the
output near θ0 as ``F(θ, σ(p(θ)))`` with F polynomial, ``f = smooth + (s_r − s_l)·∂F/∂y·
relu(p − τ) + O(|h|²)``, so the gradient jump ``(s_r − s_l)·∂F/∂y·∇p`` must vanish. The
locus therefore carries ``nondifferentiable``: the condition ``jump ≠ 0`` (exact, sympy).

One-sided derivatives in any parameter direction are exact at rational θ
(`parameter_directional_derivative`): a forward pass with polynomials in t, each neuron at
its knot taking the piece the lowest nonzero coefficient of ``p(θ + t h) − τ`` points to.

>>> import sympy
>>> from exactrelu.core.activations import relu
>>> a, b, g = sympy.symbols("alpha beta gamma")
>>> pnet = ParametricNetwork.build(1, [([[b]], [g]), relu(), ([[a]], [0])])
>>> [(str(l.equation), l.left_gradient, l.right_gradient, str(l.nondifferentiable)) for l in kink_loci(pnet, [1])]
[('Eq(beta + gamma, 0)', (0, 0, 0), (0, alpha, alpha), 'Ne(alpha, 0)')]
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping, Sequence

import sympy

from .core.activations import PiecewiseLinear
from .core.errors import InputError
from .core.network import Network
from .core.numbers import parse_number


@dataclass(frozen=True)
class ParametricNetwork:
    """A network whose weights and biases are sympy expressions (rationals or symbols).

    ``affines[l] = (W, b)`` as sympy matrices (b a column); ``acts[l]``: one
    `PiecewiseLinear` per neuron of hidden layer l; ``parameters``: the free symbols, sorted
    by name (the gradient's order).
    """

    input_dim: int
    affines: tuple[tuple[sympy.Matrix, sympy.Matrix], ...]
    acts: tuple[tuple[PiecewiseLinear, ...], ...]

    @property
    def parameters(self) -> tuple[sympy.Symbol, ...]:
        syms = set()
        for W, b in self.affines:
            syms |= W.free_symbols | b.free_symbols
        return tuple(sorted(syms, key=lambda s: s.name))

    @classmethod
    def build(cls, input_dim: int, layers: Sequence[Any]) -> "ParametricNetwork":
        """From alternating ``(weight rows, bias)`` pairs and activations (one `PiecewiseLinear`
        shared by the layer, or a list of them, one per neuron)."""
        affines, acts = [], []
        dim = input_dim
        for k, layer in enumerate(layers):
            if k % 2 == 0:
                weight, bias = layer
                W = sympy.Matrix([[_exact(v) for v in row] for row in weight])
                if W.cols != dim:
                    raise InputError(f"expected {dim} columns, got {W.cols}", path=f"layers[{k}].weight")
                b = sympy.Matrix([_exact(v) for v in bias])
                if b.rows != W.rows:
                    raise InputError(f"expected {W.rows} biases, got {b.rows}", path=f"layers[{k}].bias")
                affines.append((W, b))
                dim = W.rows
            else:
                fns = tuple(layer) if isinstance(layer, (list, tuple)) else (layer,) * dim
                if len(fns) != dim:
                    raise InputError(f"expected {dim} activations, got {len(fns)}", path=f"layers[{k}]")
                acts.append(fns)
        if len(affines) != len(acts) + 1:
            raise InputError("expected the layers to start and end with an affine layer", path="layers")
        return cls(input_dim, tuple(affines), tuple(acts))

    @classmethod
    def symbolic(cls, net: Network, prefix: str = "") -> "ParametricNetwork":
        """Every weight and bias of ``net.chain`` replaced by a symbol ``w{l}_{i}_{j}``, ``b{l}_{i}``.

        >>> from exactrelu.constructions import seed000_minimal
        >>> ParametricNetwork.symbolic(seed000_minimal(1, 1, 1)).parameters
        (b0_0, b1_0, w0_0_0, w1_0_0)
        """
        layers: list[Any] = []
        for l, aff in enumerate(net.chain.affines):
            W = [[sympy.Symbol(f"{prefix}w{l}_{i}_{j}") for j in range(aff.in_dim)] for i in range(aff.out_dim)]
            b = [sympy.Symbol(f"{prefix}b{l}_{i}") for i in range(aff.out_dim)]
            layers.append((W, b))
            if l < len(net.chain.acts):
                layers.append(list(net.chain.acts[l]))
        return cls.build(net.input_dim, layers)

    def at(self, theta: Mapping[sympy.Symbol, Any]) -> Network:
        """The concrete network at rational parameter values."""
        from .core.network import activation, affine

        values = {s: sympy.Rational(str(parse_number(v))) for s, v in theta.items()}
        missing = [s for s in self.parameters if s not in values]
        if missing:
            raise InputError(f"missing values for {', '.join(map(str, missing))}", path="theta")
        layers: list[Any] = []
        for l, (W, b) in enumerate(self.affines):
            Wv = [[_fraction(W[i, j].subs(values)) for j in range(W.cols)] for i in range(W.rows)]
            bv = [_fraction(b[i].subs(values)) for i in range(b.rows)]
            layers.append(affine(Wv, bv))
            if l < len(self.acts):
                fns = self.acts[l]
                layers.append(
                    activation(
                        "spline",
                        knots=[list(f.knots) for f in fns],
                        slopes=[list(f.slopes) for f in fns],
                        value=[f(f.knots[0]) if f.knots else f(Fraction(0)) for f in fns],
                    )
                )
        return Network.from_layers(self.input_dim, layers)


def _exact(v: Any) -> Any:
    if isinstance(v, sympy.Basic):
        return v
    q = parse_number(v)
    return sympy.Rational(q.numerator, q.denominator)


def _fraction(e: sympy.Expr) -> Fraction:
    if not e.is_Rational:
        raise InputError(f"expected a rational parameter value, got {e}", path="theta")
    return Fraction(int(e.p), int(e.q))


# -- pieces and kink loci ---------------------------------------------------------------------


@dataclass(frozen=True)
class ParameterPiece:
    """One activation pattern at the fixed sample: the conditions on θ (strict polynomial
    inequalities), the pattern (piece per neuron), the outputs and their gradients
    (``gradient[k][m] = ∂f_k/∂θ_m``, θ in `ParametricNetwork.parameters` order)."""

    pattern: tuple[tuple[int, ...], ...]
    conditions: tuple[sympy.Basic, ...]
    preactivations: tuple[tuple[sympy.Expr, ...], ...]
    output: tuple[sympy.Expr, ...]
    gradient: tuple[tuple[sympy.Expr, ...], ...]


def pieces(pnet: ParametricNetwork, x: Sequence[Any]) -> tuple[ParameterPiece, ...]:
    """Every activation pattern of the sample x as an exact piece of θ-space (patterns
    whose conditions are false for every θ, being constant and false, are left out).

    >>> import sympy
    >>> from exactrelu.core.activations import relu
    >>> a, b, g = sympy.symbols("alpha beta gamma")
    >>> pnet = ParametricNetwork.build(1, [([[b]], [g]), relu(), ([[a]], [0])])
    >>> [(p.conditions, p.gradient) for p in pieces(pnet, [-1])]
    [((-beta + gamma < 0,), ((0, 0, 0),)), ((-beta + gamma > 0,), ((-beta + gamma, -alpha, alpha),))]
    """
    point = [sympy.Rational(str(parse_number(v, f"x[{i}]"))) for i, v in enumerate(x)]
    if len(point) != pnet.input_dim:
        raise InputError(f"expected a sample of dimension {pnet.input_dim}, got {len(point)}", path="x")
    params = pnet.parameters
    out: list[ParameterPiece] = []

    def walk(layer: int, v: sympy.Matrix, pattern: list[tuple[int, ...]], conds: list[sympy.Basic], pres: list[tuple[sympy.Expr, ...]]) -> None:
        W, b = pnet.affines[layer]
        z = (W * v + b).applyfunc(sympy.expand)
        if layer == len(pnet.acts):
            output = tuple(z[i] for i in range(z.rows))
            grad = tuple(tuple(sympy.expand(sympy.diff(o, s)) for s in params) for o in output)
            out.append(ParameterPiece(tuple(pattern), tuple(conds), tuple(pres), output, grad))
            return
        fns = pnet.acts[layer]
        zs = tuple(z[i] for i in range(z.rows))
        for choice in itertools.product(*[range(f.num_pieces) for f in fns]):
            new_conds = list(conds)
            outs = []
            feasible = True
            for f, zi, piece in zip(fns, zs, choice):
                for rel in _piece_conditions(f, zi, piece):
                    if rel is sympy.false:
                        feasible = False
                    elif rel is not sympy.true:
                        new_conds.append(rel)
                s, c = f.piece_affine(piece)
                outs.append(sympy.Rational(s.numerator, s.denominator) * zi + sympy.Rational(c.numerator, c.denominator))
            if feasible:
                walk(layer + 1, sympy.Matrix(outs), pattern + [tuple(choice)], new_conds, pres + [zs])

    walk(0, sympy.Matrix(point), [], [], [])
    return tuple(out)


def _piece_conditions(f: PiecewiseLinear, z: sympy.Expr, piece: int) -> list[sympy.Basic]:
    rels = []
    if piece > 0:
        t = f.knots[piece - 1]
        rels.append(sympy.StrictGreaterThan(z, sympy.Rational(t.numerator, t.denominator)))
    if piece < len(f.knots):
        t = f.knots[piece]
        rels.append(sympy.StrictLessThan(z, sympy.Rational(t.numerator, t.denominator)))
    return rels


@dataclass(frozen=True)
class KinkLocus:
    """Where neuron ``(layer, neuron)`` of the sample sits at knot ``knot``, between two pieces.

    ``equation``: ``p(θ) = τ``. ``conditions``: the other neurons' piece conditions (those of
    the left piece; on the locus both sides agree). ``left_gradient`` / ``right_gradient``:
    the gradient of each output on either side, restricted to the locus where one
    parameter can be solved for (``substitution``). ``nondifferentiable``: the exact
    condition (``jump ≠ 0``) under which f is not differentiable at a locus point where no
    other neuron is at a knot; where it is false, f is differentiable there.
    """

    layer: int
    neuron: int
    knot: int
    equation: sympy.Eq
    conditions: tuple[sympy.Basic, ...]
    left_gradient: tuple[sympy.Expr, ...]
    right_gradient: tuple[sympy.Expr, ...]
    nondifferentiable: sympy.Basic
    substitution: tuple[tuple[sympy.Symbol, sympy.Expr], ...]


def kink_loci(pnet: ParametricNetwork, x: Sequence[Any], output: int = 0) -> tuple[KinkLocus, ...]:
    """The loci in θ-space where the sample's output may fail to be differentiable, with the
    one-sided gradients and the exact non-differentiability condition (see the module
    docstring). ``output`` picks the output coordinate."""
    all_pieces = pieces(pnet, x)
    by_pattern = {p.pattern: p for p in all_pieces}
    loci = []
    seen = set()
    for p in all_pieces:
        for l, layer in enumerate(p.pattern):
            for i, piece in enumerate(layer):
                if piece + 1 >= pnet.acts[l][i].num_pieces:
                    continue
                right_pattern = tuple(
                    tuple(piece + 1 if (ll, ii) == (l, i) else q for ii, q in enumerate(row)) if ll == l else row
                    for ll, row in enumerate(p.pattern)
                )
                q = by_pattern.get(right_pattern)
                if q is None:  # the other side's conditions are false for every θ
                    continue
                tau = pnet.acts[l][i].knots[piece]
                eq = sympy.Eq(p.preactivations[l][i], sympy.Rational(tau.numerator, tau.denominator))
                key = (l, i, piece, str(eq), p.pattern)
                if key in seen:
                    continue
                seen.add(key)
                sub = _solve_linear(eq)
                left = tuple(sympy.expand(e.subs(sub)) for e in p.gradient[output])
                right = tuple(sympy.expand(e.subs(sub)) for e in q.gradient[output])
                jump = [sympy.factor(r - le) for r, le in zip(right, left)]
                nondiff = sympy.Or(*[sympy.Ne(j, 0) for j in jump]) if jump else sympy.false
                own = set(_piece_conditions(pnet.acts[l][i], p.preactivations[l][i], piece))
                conds = tuple(c for c in p.conditions if c not in own)
                loci.append(KinkLocus(l, i, piece, eq, conds, left, right, sympy.simplify(nondiff), tuple(sub.items())))
    return tuple(loci)


def _solve_linear(eq: sympy.Eq) -> dict[sympy.Symbol, sympy.Expr]:
    """Solve the locus equation for its first symbol (by name) in which it is linear."""
    expr = sympy.expand(eq.lhs - eq.rhs)
    for s in sorted(expr.free_symbols, key=lambda s: s.name):
        if sympy.degree(expr, s) == 1:
            coeff = expr.coeff(s)
            if coeff.free_symbols:
                continue
            return {s: sympy.expand(-(expr - coeff * s) / coeff)}
    return {}


# -- one-sided derivatives at rational parameters ---------------------------------------------


def parameter_directional_derivative(
    pnet: ParametricNetwork, x: Sequence[Any], theta: Mapping[sympy.Symbol, Any], h: Mapping[sympy.Symbol, Any]
) -> tuple[Fraction, ...]:
    """``lim_{t↓0} (f_{θ + t h}(x) − f_θ(x)) / t`` exactly, at rational θ and direction h
    (parameters missing from h do not move).

    >>> import sympy
    >>> from exactrelu.core.activations import relu
    >>> a, b, g = sympy.symbols("alpha beta gamma")
    >>> pnet = ParametricNetwork.build(1, [([[b]], [g]), relu(), ([[a]], [0])])
    >>> on_S = {a: 2, b: 1, g: 1}                       # β = γ, sample x = −1
    >>> [parameter_directional_derivative(pnet, [-1], on_S, {g: s}) for s in (1, -1)]
    [(Fraction(2, 1),), (Fraction(0, 1),)]
    """
    t = sympy.Symbol("t")
    params = pnet.parameters
    values = {s: sympy.Rational(str(parse_number(theta[s], str(s)))) for s in params if s in theta}
    if len(values) != len(params):
        raise InputError(f"expected a value for every parameter {', '.join(map(str, params))}", path="theta")
    moved = {s: values[s] + t * sympy.Rational(str(parse_number(h.get(s, 0), str(s)))) for s in params}
    v = sympy.Matrix([sympy.Rational(str(parse_number(xi, f"x[{i}]"))) for i, xi in enumerate(x)])
    for l, (W, b) in enumerate(pnet.affines):
        z = (W.subs(moved) * v + b.subs(moved)).applyfunc(sympy.expand)
        if l == len(pnet.acts):
            return tuple(_fraction(sympy.expand(z[i]).coeff(t, 1)) for i in range(z.rows))
        outs = []
        for f, zi in zip(pnet.acts[l], (z[i] for i in range(z.rows))):
            piece = _piece_for_small_t(f, sympy.Poly(zi, t))
            s, c = f.piece_affine(piece)
            outs.append(sympy.Rational(s.numerator, s.denominator) * zi + sympy.Rational(c.numerator, c.denominator))
        v = sympy.Matrix(outs)
    raise AssertionError("unreachable: the last affine layer returns")


def _piece_for_small_t(f: PiecewiseLinear, p: sympy.Poly) -> int:
    """The piece of ``f`` that ``p(t)`` lies in for all small t > 0 (lexicographic rule)."""
    z0 = _fraction(p.eval(0))
    s = f.state(z0)
    if s % 2 == 0:
        return s // 2
    j = s // 2
    rest = p - sympy.Poly(sympy.Rational(z0.numerator, z0.denominator), p.gens[0])
    coeffs = list(reversed(rest.all_coeffs()))  # ascending powers of t
    for c in coeffs[1:]:
        if c != 0:
            return j + 1 if c > 0 else j
    return j  # constant at the knot: either piece gives the same value and slope·0 = 0
