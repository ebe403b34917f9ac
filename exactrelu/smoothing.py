"""Gaussian smoothing of a PL network: ``E[f(x + σZ)]``, certified where the input dimension allows.

Seed 000: a ReLU network is not differentiable in its parameters on a data-dependent set,
but with Gaussian noise on the input it becomes smooth. Seed 001: the probabilities of the
activation regions under such a perturbation. For Z standard normal in R^n, σ > 0, and
y = x + σZ, on each activation region A the network is affine, ``f(y) = J_A y + c_A``, so
everything is a sum over regions of the Gaussian mass ``m_A = P(y ∈ A)`` and first moment
``E[y 1_A]``:

- ``E[f(y)] = Σ_A J_A E[y 1_A] + c_A m_A``;
- ``E[J(y)] = Σ_A J_A m_A``, the gradient of ``x ↦ E[f(x + σZ)]`` (f is Lipschitz);
- the parameter gradient ``∂/∂θ E[f_θ(y)] = E[∂f_θ/∂θ (y)]`` (dominated convergence; it needs
  the kinks to have measure zero, i.e. no neuron constantly at a knot on a region):
  ``∂f_k/∂W_l[i, j] = δ_l[k, i] a_l[j](y)`` and ``∂f_k/∂b_l[i] = δ_l[k, i]`` with ``δ_l`` the
  backpropagated slopes and ``a_l`` the input of affine layer l, both affine on A;
- ``P(y ∈ A)`` per region.

How each is obtained (``method="auto"``):

- **n = 1, certified**: the exact regions (`exactrelu.regions.enumerate_regions`) are intervals
  (l, u) in z = (y − x)/σ; ``m = Φ(u) − Φ(l)``, ``E[Z 1] = φ(l) − φ(u)``, closed forms evaluated
  as arb balls (python-flint), so every result is a rigorous enclosure.
- **n = 2, certified**: the exact polygons of the regions inside the box ``x ± Rσ``
  (`exactrelu.regions.split2d.split_regions_2d`, rational vertices), by Green's theorem as sums over
  edges: ``m_P = ∮ Φ(z1) φ(z2) dz2`` (integrated rigorously with arb's ``acb.integral``; closed
  on axis-parallel edges), ``E[Z1 1_P] = −∮ φ(z1) φ(z2) dz2`` and ``E[Z2 1_P] = ∮ φ(z1) φ(z2) dz1``
  (closed forms in Φ along each edge). Outside the box, the mass is at most
  ``T0 = 2 erfc(R/√2)`` and ``E[|Z_k| 1_out] ≤ T1 = 2φ(R) + √(2/π) erfc(R/√2)``; with the
  entrywise bounds ``|J| ≤ |W_L| S … S |W_0|`` (S the largest |slope| per neuron) this bounds
  what the box leaves out, and that bound is added to every enclosure. R grows with ``prec``.
- **n ≥ 3 (or ``method="monte-carlo"``), estimate**: Monte Carlo in float64 (``samples``
  draws, seeded), with a per-entry asymptotic (CLT) confidence interval at level ``confidence``.

The case's domain plays no part: the noise lives on all of R^n.

>>> from exactrelu.core.network import Network, affine, activation
>>> relu = Network.from_layers(1, [affine([[1]]), activation("relu"), affine([[1]])])
>>> s = smoothed(relu, [0], 1)          # E[relu(Z)] = φ(0) = 1/√(2π)
>>> lo, hi = s.value[0].interval
>>> float(lo) <= 0.3989422804014327 <= float(hi), s.guarantee
(True, 'certified')
>>> s.gradient[0][0].interval[0] <= Fraction(1, 2) <= s.gradient[0][0].interval[1]   # P(Z > 0)
True
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction
from typing import Any, Sequence

import numpy as np
from flint import acb, arb, ctx, fmpq, fmpq_mat

from .core.algebraic import _arb_bounds
from .core.domain import Domain
from .core.errors import InputError
from .core.network import Network
from .core.norms import abs_matrix
from .core.numbers import parse_number
from .core.results import CERTIFIED, ESTIMATE, Quantity
from .regions import enumerate_regions
from .regions.split2d import split_regions_2d

Pattern = tuple[tuple[int, ...], ...]
METHODS = ("auto", "certified", "monte-carlo")
CHUNK = 2048  # Monte Carlo draws per batch


@dataclass(frozen=True)
class RegionProbability:
    """``P(x + σZ ∈ A)`` for the activation region A with this pattern (states as
    `exactrelu.core.network.Network.pattern`)."""

    pattern: Pattern
    probability: Quantity


@dataclass(frozen=True)
class SmoothedParameters:
    """``E[∂f_k/∂W_l[i, j](x + σZ)]`` as ``weight[l][k][i][j]`` and ``E[∂f_k/∂b_l[i]]`` as
    ``bias[l][k][i]``, for the affine layers of ``net.chain`` (as `exactrelu.calculus.parameter_gradient`)."""

    weight: tuple[tuple[tuple[tuple[Quantity, ...], ...], ...], ...]
    bias: tuple[tuple[tuple[Quantity, ...], ...], ...]


@dataclass(frozen=True)
class Smoothed:
    """The smoothed network at one point.

    ``value[k]``: ``E[f_k(x + σZ)]``; ``gradient[k][j]``: ``E[∂f_k/∂x_j(x + σZ)]``;
    ``parameter_gradient``: None when not asked for, or undefined (the reason in
    ``diagnostics["parameter_gradient"]``); ``regions``: every region of positive
    probability (certified: all regions met; Monte Carlo: the patterns drawn), most probable first.
    Each number is a `Quantity` with its ``interval``: a rigorous enclosure when ``guarantee`` is
    ``"certified"``, a confidence interval at level ``confidence`` for ``"estimate"``.
    """

    value: tuple[Quantity, ...]
    gradient: tuple[tuple[Quantity, ...], ...]
    parameter_gradient: SmoothedParameters | None
    regions: tuple[RegionProbability, ...]
    guarantee: str
    point: tuple[Fraction, ...]
    sigma: Fraction
    confidence: float | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict, compare=False)


def smoothed(
    net: Network,
    x: Sequence[Any],
    sigma: Any,
    *,
    method: str = "auto",
    prec: int = 128,
    samples: int = 100_000,
    seed: int = 0,
    confidence: float = 0.99,
    parameters: bool = True,
    regions: bool = True,
    max_regions: int | None = None,
    time_limit: float | None = None,
) -> Smoothed:
    """``E[f(x + σZ)]``, ``E[J(x + σZ)]``, the parameter gradient and the region probabilities.

    ``method``: ``"auto"`` (certified for 1 or 2 inputs, Monte Carlo beyond), ``"certified"``
    (`InputError` beyond 2 inputs) or ``"monte-carlo"``. ``prec``: arb's working precision in
    bits (certified). ``samples``, ``seed``, ``confidence``: Monte Carlo. ``max_regions``,
    ``time_limit``: for the region enumeration in 1-D (`LimitReached`).

    >>> from exactrelu.constructions import seed000_minimal
    >>> s = smoothed(seed000_minimal(2, 1, 1), [-1], "1/2")   # on the kink β = γ: smooth here
    >>> [round(float(q.value), 6) for q in s.parameter_gradient.bias[0][0]]   # ∂/∂γ = αΦ(μ/s) = 2Φ(0)
    [1.0]
    """
    point = tuple(parse_number(v, f"point[{i}]") for i, v in enumerate(x))
    if len(point) != net.input_dim:
        raise InputError(f"expected a point of dimension {net.input_dim}, got {len(point)}", path="--at")
    s = parse_number(sigma, "--sigma")
    if s <= 0:
        raise InputError(f"expected sigma > 0, got {s}", path="--sigma")
    if method not in METHODS:
        raise InputError(f"expected a method among {', '.join(METHODS)}, got {method!r}", path="--method")
    n = net.input_dim
    if method == "certified" and n > 2:
        raise InputError(f"certified smoothing needs 1 or 2 inputs, this network has {n} (use monte-carlo)",
                         path="--method")
    if method == "monte-carlo" or (method == "auto" and n > 2):
        return _monte_carlo(net, point, s, samples, seed, confidence, parameters, regions)
    if prec < 16:
        raise InputError(f"expected a precision of at least 16 bits, got {prec}", path="--precision")
    start = time.perf_counter()
    with ctx.workprec(prec):
        if n == 1:
            pieces, tail, info = _pieces_1d(net, point, s, max_regions, time_limit), None, {"method": "closed forms (1-D)"}
        else:
            pieces, tail, info = _pieces_2d(net, point, s, prec)
        out = _assemble(net, point, s, pieces, tail, parameters)
    info.update(out.pop("diagnostics"))
    info["prec"] = prec
    info["time_s"] = round(time.perf_counter() - start, 6)
    return Smoothed(
        out["value"], out["gradient"], out["parameters"],
        out["regions"] if regions else (), CERTIFIED, point, s, None, info,
    )


# -- Gaussian primitives (arb balls) -----------------------------------------------------------


def _f(v: Fraction) -> fmpq:
    return fmpq(v.numerator, v.denominator)


def _q(v: Fraction | fmpq) -> arb:
    return arb(v if isinstance(v, fmpq) else _f(v))


def _normal_mass(lo: arb | None, hi: arb | None) -> arb:
    """``P(lo < Z < hi)`` (None: ∓∞), through the tail on the side away from 0 (no cancellation)."""
    r2 = arb(2).sqrt()
    if lo is not None and lo > 0:  # both ends in the upper tail: Q(lo) − Q(hi)
        return ((lo / r2).erfc() - (arb(0) if hi is None else (hi / r2).erfc())) / 2
    upper = arb(2) if hi is None else (-hi / r2).erfc()
    lower = arb(0) if lo is None else (-lo / r2).erfc()
    return (upper - lower) / 2


def _density(t: arb | None) -> arb:
    """φ(t) (0 at ±∞)."""
    if t is None:
        return arb(0)
    return (-t * t / 2).exp() / (2 * arb.pi()).sqrt()


def _acb_phi(z: acb) -> acb:
    return (-z * z / 2).exp() / (2 * acb.pi()).sqrt()


def _acb_Phi(z: acb) -> acb:
    return (-z / acb(2).sqrt()).erfc() / 2


# -- the pieces: per region, its affine map, mass and first moment of y ---------------------------


@dataclass(frozen=True)
class _Piece:
    pattern: Pattern
    jacobian: tuple[tuple[Fraction, ...], ...]
    offset: tuple[Fraction, ...]
    mass: arb
    moment: tuple[arb, ...]  # E[y 1_A], y = x + σZ


def _pieces_1d(net: Network, x: tuple[Fraction, ...], s: Fraction, max_regions: int | None,
               time_limit: float | None) -> list[_Piece]:
    graph = enumerate_regions(net, Domain.whole(1), max_regions=max_regions, time_limit=time_limit)
    sx, ss = _q(x[0]), _q(s)
    out = []
    for r in graph.regions:
        lo = max((bi / a[0] for a, bi in zip(r.A, r.b) if a[0] < 0), default=None)
        hi = min((bi / a[0] for a, bi in zip(r.A, r.b) if a[0] > 0), default=None)
        zl = None if lo is None else _q((lo - x[0]) / s)
        zu = None if hi is None else _q((hi - x[0]) / s)
        m = _normal_mass(zl, zu)
        ez = _density(zl) - _density(zu)
        out.append(_Piece(r.pattern, r.jacobian, r.offset, m, (sx * m + ss * ez,)))
    return out


def _box_radius(prec: int) -> int:
    """R with ``erfc(R/√2)`` below about ``2^-prec``."""
    return math.ceil(math.sqrt(2 * math.log(2) * prec)) + 2


def _pieces_2d(net: Network, x: tuple[Fraction, ...], s: Fraction, prec: int) -> tuple[list[_Piece], tuple[arb, arb], dict[str, Any]]:
    R = _box_radius(prec)
    box = Domain.from_box([[xi - R * s, xi + R * s] for xi in x])
    polys = split_regions_2d(net, box)
    sx = [_q(v) for v in x]
    ss = _q(s)
    cache: dict[tuple[Any, ...], tuple[arb, arb, arb]] = {}
    integrals = 0
    out = []
    for poly in polys:
        verts = [(_f((a - x[0]) / s), _f((b - x[1]) / s)) for a, b in _counterclockwise(poly.vertices)]
        m, e1, e2 = arb(0), arb(0), arb(0)
        for k in range(len(verts)):
            p, q = verts[k], verts[(k + 1) % len(verts)]
            key = (p, q)
            if key not in cache:
                if (q, p) in cache:
                    a, b, c = cache[(q, p)]
                    cache[key] = (-a, -b, -c)
                else:
                    cache[key] = _edge(p, q)
                    integrals += 1
            a, b, c = cache[key]
            m, e1, e2 = m + a, e1 + b, e2 + c
        out.append(_Piece(poly.pattern, poly.jacobian, poly.offset, m, (sx[0] * m + ss * e1, sx[1] * m + ss * e2)))
    r2 = arb(2).sqrt()
    tail_mass = 2 * (arb(R) / r2).erfc()
    tail_moment = 2 * _density(arb(R)) + (2 / arb.pi()).sqrt() * (arb(R) / r2).erfc()
    info = {"method": "edge integrals over exact polygons (2-D)", "box_radius_sigmas": R,
            "polygons": len(polys), "edge_integrals": integrals, "tail_mass_bound": float(tail_mass.upper())}
    return out, (tail_mass, tail_moment), info


def _counterclockwise(vertices: Sequence[tuple[Fraction, Fraction]]) -> list[tuple[Fraction, Fraction]]:
    v = list(vertices)
    area2 = sum((v[i][0] * v[(i + 1) % len(v)][1] - v[(i + 1) % len(v)][0] * v[i][1] for i in range(len(v))), Fraction(0))
    return v if area2 > 0 else v[::-1]


def _edge(p: tuple[fmpq, fmpq], q: tuple[fmpq, fmpq]) -> tuple[arb, arb, arb]:
    """The edge p → q's terms of ``∮ Φ(z1)φ(z2) dz2``, ``−∮ φφ dz2`` and ``∮ φφ dz1``."""
    d1, d2 = q[0] - p[0], q[1] - p[1]
    p1, p2 = _q(p[0]), _q(p[1])
    if d2 == 0:
        mass = arb(0)
    elif d1 == 0:  # vertical: Φ(p1) P(p2 < Z < q2)
        mass = _Phi(p1) * (_normal_mass(p2, _q(q[1])) if d2 > 0 else -_normal_mass(_q(q[1]), p2))
    else:
        a1, a2, b1, b2 = acb(p1), acb(p2), acb(_q(d1)), acb(_q(d2))
        mass = acb.integral(lambda t, _: _acb_Phi(a1 + t * b1) * _acb_phi(a2 + t * b2), 0, 1).real * _q(d2)
    g = _gauss_line(p, (d1, d2))
    return mass, -g * _q(d2), g * _q(d1)


def _Phi(t: arb) -> arb:
    return _normal_mass(None, t)


def _gauss_line(p: tuple[fmpq, fmpq], d: tuple[fmpq, fmpq]) -> arb:
    """``∫_0^1 φ(p1 + t d1) φ(p2 + t d2) dt`` in closed form: with ``a = |d|²``, ``b = p·d``,
    the exponent is ``a (t + b/a)² + h``, ``h = (p1 d2 − p2 d1)²/a``, so the integral is
    ``exp(−h/2)/√(2πa) · P(b/√a < Z < (a + b)/√a)``."""
    a = d[0] * d[0] + d[1] * d[1]
    b = p[0] * d[0] + p[1] * d[1]
    cross = p[0] * d[1] - p[1] * d[0]
    h = cross * cross / a
    ra = _q(a).sqrt()
    return (-_q(h) / 2).exp() / (2 * arb.pi() * _q(a)).sqrt() * _normal_mass(_q(b) / ra, _q(a + b) / ra)


# -- assembling the results -------------------------------------------------------------------------


def _pattern_maps(net: Network, pattern: Pattern) -> tuple[list[tuple[fmpq_mat, fmpq_mat]], list[fmpq_mat], bool]:
    """On the region of ``pattern``: the input of each affine layer as ``a_l = P_l y + p_l``, the
    backpropagated ``δ_l = ∂f/∂z_l`` (z_l the output of affine layer l), and whether some
    neuron is constantly at a knot there."""
    chain = net.chain
    n = net.input_dim
    P = fmpq_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])
    p = fmpq_mat(n, 1)
    inputs = [(P, p)]
    diags = []
    at_knot = False
    for l, fns in enumerate(chain.acts):
        G, h = chain.affines[l].W * P, chain.affines[l].W * p + chain.affines[l].b
        slopes, inter = [], []
        for i, (fn, st) in enumerate(zip(fns, pattern[l])):
            if st % 2 == 1:  # constant at knot st // 2
                at_knot = True
                slopes.append(fmpq(0))
                inter.append(_f(fn(fn.knots[st // 2])))
            else:
                sl, it = fn.piece_affine(st // 2)
                slopes.append(_f(sl))
                inter.append(_f(it))
        w = len(fns)
        D = fmpq_mat(w, w, [slopes[i] if i == j else 0 for i in range(w) for j in range(w)])
        P, p = D * G, D * h + fmpq_mat(w, 1, inter)
        inputs.append((P, p))
        diags.append(D)
    out_dim = chain.affines[-1].out_dim
    delta = fmpq_mat(out_dim, out_dim, [1 if i == j else 0 for i in range(out_dim) for j in range(out_dim)])
    deltas = [delta]
    for l in range(len(chain.acts) - 1, -1, -1):
        delta = delta * chain.affines[l + 1].W * diags[l]
        deltas.append(delta)
    return inputs, deltas[::-1], at_knot


def _abs_bounds(net: Network) -> tuple[list[fmpq_mat], list[fmpq_mat]]:
    """Entrywise bounds ``|∂a_l/∂y| ≤ Λ_l`` (l = 0 … L, Λ_L+1 for the output) and ``|δ_l| ≤ Δ_l``,
    from ``|W|`` and the largest |slope| of each neuron."""
    chain = net.chain
    n = net.input_dim
    S = []
    for fns in chain.acts:
        w = len(fns)
        top = [max(abs(v) for v in fn.slopes) for fn in fns]
        S.append(fmpq_mat(w, w, [_f(top[i]) if i == j else 0
                                 for i in range(w) for j in range(w)]))
    lam = [fmpq_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])]
    for l in range(len(chain.acts)):
        lam.append(S[l] * abs_matrix(chain.affines[l].W) * lam[-1])
    lam.append(abs_matrix(chain.affines[-1].W) * lam[-1])
    out_dim = chain.affines[-1].out_dim
    d = fmpq_mat(out_dim, out_dim, [1 if i == j else 0 for i in range(out_dim) for j in range(out_dim)])
    big = [d]
    for l in range(len(chain.acts) - 1, -1, -1):
        d = d * abs_matrix(chain.affines[l + 1].W) * S[l]
        big.append(d)
    return lam, big[::-1]


def _assemble(net: Network, x: tuple[Fraction, ...], s: Fraction, pieces: list[_Piece],
              tail: tuple[arb, arb] | None, parameters: bool) -> dict[str, Any]:
    chain = net.chain
    n, out_dim = net.input_dim, net.output_dim
    value = [arb(0)] * out_dim
    grad = [[arb(0)] * n for _ in range(out_dim)]
    wgrad = [[[[arb(0)] * a.in_dim for _ in range(a.out_dim)] for _ in range(out_dim)] for a in chain.affines]
    bgrad = [[[arb(0)] * a.out_dim for _ in range(out_dim)] for a in chain.affines]
    undefined = None
    for pc in pieces:
        for k in range(out_dim):
            acc = _q(pc.offset[k]) * pc.mass
            for j in range(n):
                acc += _q(pc.jacobian[k][j]) * pc.moment[j]
                grad[k][j] += _q(pc.jacobian[k][j]) * pc.mass
            value[k] += acc
        if not parameters or undefined is not None:
            continue
        inputs, deltas, at_knot = _pattern_maps(net, pc.pattern)
        if at_knot:
            undefined = ("a neuron is constantly at a knot on a region of positive probability: the parameter "
                         "gradient of the smoothed network need not exist there")
            continue
        for l, (P, p) in enumerate(inputs):
            width_in = chain.affines[l].in_dim
            ea = [sum((_q(P[j, m]) * pc.moment[m] for m in range(n)), _q(p[j, 0]) * pc.mass) for j in range(width_in)]
            dl = deltas[l]
            for k in range(out_dim):
                for i in range(chain.affines[l].out_dim):
                    if dl[k, i] == 0:
                        continue
                    dk = _q(dl[k, i])
                    bgrad[l][k][i] += dk * pc.mass
                    row = wgrad[l][k][i]
                    for j in range(width_in):
                        row[j] += dk * ea[j]
    if tail is not None:
        value, grad, wgrad, bgrad = _widen(net, x, s, tail, value, grad, wgrad, bgrad)
    total = sum((pc.mass for pc in pieces), arb(0))
    region_list = sorted(
        (RegionProbability(pc.pattern, _certified(pc.mass if tail is None else pc.mass + _half_open(tail[0])))
         for pc in pieces),
        key=lambda r: -float(r.probability.value))
    params = None
    if parameters and undefined is None:
        params = SmoothedParameters(
            tuple(tuple(tuple(tuple(_certified(v) for v in row) for row in mat) for mat in layer) for layer in wgrad),
            tuple(tuple(tuple(_certified(v) for v in row) for row in layer) for layer in bgrad))
    diagnostics: dict[str, Any] = {"regions": len(pieces), "total_mass_lower": float(total.lower())}
    if undefined is not None:
        diagnostics["parameter_gradient"] = undefined
    return {
        "value": tuple(_certified(v) for v in value),
        "gradient": tuple(tuple(_certified(v) for v in row) for row in grad),
        "parameters": params,
        "regions": tuple(region_list),
        "diagnostics": diagnostics,
    }


def _half_open(t: arb) -> arb:
    """A ball containing [0, t]."""
    hi = arb(t.upper())
    return arb(hi / 2, hi / 2)


def _symmetric(t: arb) -> arb:
    """A ball containing [−t, t]."""
    return arb(0, arb(t.upper()))


def _widen(net: Network, x: tuple[Fraction, ...], s: Fraction, tail: tuple[arb, arb], value: list[arb],
           grad: list[list[arb]], wgrad: list[Any], bgrad: list[Any]) -> tuple[Any, Any, Any, Any]:
    """Add what lies outside the box: ``|E[g 1_out]| ≤ |g(x)| T0 + σ Σ_m Λ_m T1`` for g Lipschitz
    with ``|∂g/∂y_m| ≤ Λ_m``; ``≤ Λ T0`` for a bounded g."""
    t0, t1 = tail
    lam, big = _abs_bounds(net)
    pre, out = net.forward(list(x))
    chain = net.chain
    acts_at_x = [list(x)] + [[fn(z) for fn, z in zip(fns, zs)] for fns, zs in zip(chain.acts, pre)]
    ss = _q(s)
    n = net.input_dim
    L = lam[-1]
    for k in range(len(value)):
        lin = sum((_q(L[k, m]) for m in range(n)), arb(0))
        value[k] += _symmetric(abs(_q(out[k])) * t0 + ss * lin * t1)
        for j in range(n):
            grad[k][j] += _symmetric(_q(L[k, j]) * t0)
    for l, aff in enumerate(chain.affines):
        lam_l, big_l = lam[l], big[l]
        for k in range(len(value)):
            for i in range(aff.out_dim):
                bound = big_l[k, i]
                if bound == 0:
                    continue
                bgrad[l][k][i] += _symmetric(_q(bound) * t0)
                for j in range(aff.in_dim):
                    lin = sum((_q(lam_l[j, m]) for m in range(n)), arb(0))
                    wgrad[l][k][i][j] += _symmetric(_q(bound) * (abs(_q(acts_at_x[l][j])) * t0 + ss * lin * t1))
    return value, grad, wgrad, bgrad


def _certified(ball: arb) -> Quantity:
    lo, hi = _arb_bounds(ball)
    return Quantity(float(ball.mid()), CERTIFIED, interval=(lo, hi))


# -- Monte Carlo ---------------------------------------------------------------------------------


def _monte_carlo(net: Network, x: tuple[Fraction, ...], s: Fraction, samples: int, seed: int, confidence: float,
                 parameters: bool, regions: bool) -> Smoothed:
    if samples < 2:
        raise InputError(f"expected at least 2 samples, got {samples}", path="--samples")
    if not 0 < confidence < 1:
        raise InputError(f"expected a confidence level in (0, 1), got {confidence}", path="--confidence")
    start = time.perf_counter()
    chain = net.chain
    acts = [_FloatLayer.of(fns) for fns in chain.acts]
    Ws = [np.array([[float(v) for v in row] for row in a.weight]) for a in chain.affines]
    bs = [np.array([float(v) for v in a.bias]) for a in chain.affines]
    x0, sf = np.array([float(v) for v in x]), float(s)
    rng = np.random.default_rng(seed)
    sums: dict[str, list[np.ndarray]] = {}
    counts: dict[bytes, int] = {}
    keys: dict[bytes, Pattern] = {}
    done = 0
    while done < samples:
        B = min(CHUNK, samples - done)
        y = x0 + sf * rng.standard_normal((B, len(x0)))
        a, zs = [y], []
        for l, act in enumerate(acts):
            z = a[-1] @ Ws[l].T + bs[l]
            zs.append(z)
            a.append(act(z))
        f = a[-1] @ Ws[-1].T + bs[-1]
        out = f.shape[1]
        delta = np.tile(np.eye(out), (B, 1))  # (B·out, width): one matrix product per layer
        deltas = [delta.reshape(B, out, out)]
        for l in range(len(acts) - 1, -1, -1):
            delta = (delta @ Ws[l + 1]) * np.repeat(acts[l].slope(zs[l]), out, axis=0)
            deltas.append(delta.reshape(B, out, -1))
        deltas = deltas[::-1]
        terms = {"value": f, "gradient": deltas[0] @ Ws[0]}
        if parameters:
            for l in range(len(Ws)):
                terms[f"b{l}"] = deltas[l]
                terms[f"w{l}"] = (deltas[l], a[l])
        for name, t in terms.items():
            if isinstance(t, tuple):
                d, inp = t
                part = [np.einsum("bki,bj->kij", d, inp), np.einsum("bki,bj->kij", d * d, inp * inp)]
            else:
                part = [t.sum(axis=0), (t * t).sum(axis=0)]
            acc = sums.setdefault(name, [np.zeros_like(part[0]), np.zeros_like(part[1])])
            acc[0] += part[0]
            acc[1] += part[1]
        if regions:
            pieces = np.concatenate([act.piece(z) for act, z in zip(acts, zs)], axis=1).astype(np.int16) if acts else \
                np.zeros((B, 0), dtype=np.int16)
            uniq, cnt = np.unique(pieces, axis=0, return_counts=True)
            for row, c in zip(uniq, cnt):
                key = row.tobytes()
                counts[key] = counts.get(key, 0) + int(c)
                if key not in keys:
                    keys[key] = _split_pattern(row, chain.widths)
        done += B
    z = statistics.NormalDist().inv_cdf((1 + confidence) / 2)
    N = samples

    def est(total: np.ndarray, squares: np.ndarray) -> Any:
        mean = total / N
        var = np.maximum(squares / N - mean * mean, 0.0) * N / (N - 1)
        half = z * np.sqrt(var / N)
        return _nested(mean, half)

    value = est(*sums["value"])
    gradient = est(*sums["gradient"])
    params = None
    if parameters:
        params = SmoothedParameters(tuple(est(*sums[f"w{l}"]) for l in range(len(Ws))),
                                    tuple(est(*sums[f"b{l}"]) for l in range(len(Ws))))
    region_list = []
    for key, c in sorted(counts.items(), key=lambda kv: -kv[1]):
        p = c / N
        half = z * math.sqrt(p * (1 - p) / N)
        region_list.append(RegionProbability(keys[key], Quantity(p, ESTIMATE, interval=(max(p - half, 0.0), min(p + half, 1.0)))))
    info = {"method": "Monte Carlo (float64)", "samples": N, "seed": seed,
            "interval": f"per entry, asymptotic normal (CLT) at level {confidence}",
            "regions": len(region_list), "time_s": round(time.perf_counter() - start, 6)}
    return Smoothed(value, gradient, params, tuple(region_list), ESTIMATE, x, s, confidence, info)


@dataclass(frozen=True)
class _FloatLayer:
    """A layer's PL activations in float64 for the Monte Carlo path: per neuron, its knots
    (padded with +inf) and the slope and intercept of each piece."""

    knots: np.ndarray  # (width, J)
    slopes: np.ndarray  # (width, J + 1)
    inter: np.ndarray

    @classmethod
    def of(cls, fns: Sequence[Any]) -> "_FloatLayer":
        J = max((len(fn.knots) for fn in fns), default=0)
        K = np.full((len(fns), J), np.inf)
        S, T = np.zeros((len(fns), J + 1)), np.zeros((len(fns), J + 1))
        for i, fn in enumerate(fns):
            K[i, :len(fn.knots)] = [float(t) for t in fn.knots]
            pieces = [fn.piece_affine(k) for k in range(fn.num_pieces)]
            pieces += [pieces[-1]] * (J + 1 - len(pieces))
            S[i], T[i] = [float(a) for a, _ in pieces], [float(b) for _, b in pieces]
        return cls(K, S, T)

    def piece(self, z: np.ndarray) -> np.ndarray:
        """The piece of each pre-activation of a batch (B, width)."""
        return (z[:, :, None] > self.knots[None]).sum(axis=2)

    def slope(self, z: np.ndarray) -> np.ndarray:
        return self.slopes[np.arange(len(self.knots)), self.piece(z)]

    def __call__(self, z: np.ndarray) -> np.ndarray:
        k, rows = self.piece(z), np.arange(len(self.knots))
        return self.slopes[rows, k] * z + self.inter[rows, k]


def _split_pattern(row: np.ndarray, widths: Sequence[int]) -> Pattern:
    out, pos = [], 0
    for w in widths:
        out.append(tuple(2 * int(v) for v in row[pos:pos + w]))
        pos += w
    return tuple(out)


def _nested(mean: np.ndarray, half: np.ndarray) -> Any:
    if mean.ndim == 0:
        m, h = float(mean), float(half)
        return Quantity(m, ESTIMATE, interval=(m - h, m + h))
    return tuple(_nested(m, h) for m, h in zip(mean, half))


# -- text ----------------------------------------------------------------------------------------


def decimal_interval(interval: tuple[Any, Any], digits: int = 20) -> tuple[str, str]:
    """The ends of an interval as decimal strings with ``digits`` significant digits, rounded
    outwards (so the printed interval still encloses).

    >>> decimal_interval((Fraction(1, 3), Fraction(2, 3)), 5)
    ('0.33333', '0.66667')
    """
    out = []
    for v, rounding in zip(interval, (ROUND_FLOOR, ROUND_CEILING)):
        q = Fraction(v)
        with localcontext() as c:
            c.prec, c.rounding = digits, rounding
            d = Decimal(q.numerator) / Decimal(q.denominator)
        out.append(format(d, "f") if abs(d.adjusted()) < 25 else str(d))
    return out[0], out[1]
