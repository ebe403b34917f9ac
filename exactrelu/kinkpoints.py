"""Binary64 points exactly on the kinks of a network, as another implementation computes it.

The oracle (`exactrelu.oracle`) feeds the other side binary64 numbers, so a point only
tests a kink when it is a binary64 number at which a neuron's pre-activation is *exactly*
at a knot. For a network with float weights (binary32 or binary64 values, read exactly)
such points are rare: a kink's hyperplane ``w·x + b = 0`` passes through almost no
binary64 point. `sample_points` places them on purpose:

- **on the lattice of the weights**: around a start point ``x0`` (a dyadic of few bits),
  ``x = x0 + δ / 2^K`` with ``δ`` an integer vector solving the targets' local equations
  ``g_t·δ = 2^K (t − z_t(x0))`` exactly, the shortest such δ found by LLL (python-flint's
  ``fmpz_mat.lll``) on the usual embedding lattice, for ``K`` from small to large (few
  bits first), moved again from x when the region changed (a PL Newton step);
- **seen by float64**: a point is kept only when it is exactly on the chosen kinks *and*
  every float64 evaluation of the network (any summation order, with or without FMA)
  computes the pre-activations up to the kinks' layer exactly (`float64_exact_layers`): every
  product and bias is a binary64 number and their sum fits in 53 bits above its least
  bit. Then torch, jax or numpy in float64 see exactly the knot the exact answer sees.

`coverage` says how many points lie on 0, 1, 2, … kinks.

>>> import numpy as np
>>> from exactrelu.core.network import Network, affine, activation
>>> w = np.float32([[0.1, -0.7, 0.4], [0.3, 0.2, -0.5]])       # float32 weights, read exactly
>>> net = Network.from_layers(3, [affine(w, np.float32([0.05, -0.1])), activation("relu"), affine([[1.0, -1.0]])])
>>> pts = sample_points(net, 10, seed=1)
>>> coverage(pts), all(p.float64_exact and all(is_binary64(v) for v in p.point) for p in pts)
({0: 1, 1: 9}, True)
>>> p = next(p for p in pts if p.kind == "kink")
>>> [net.preactivations(p.point)[l][i] for l, i, _ in p.kinks]      # exactly at the knot
[Fraction(0, 1)]
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from flint import fmpq_mat, fmpz_mat

from .calculus import slopes_at
from .core.activations import PiecewiseLinear
from .core.errors import InputError
from .core.network import Network
from .core.numbers import parse_number, to_fmpq

POINT_KINDS = ("random", "kink", "intersection")
STEPS = (3, 6, 10, 14, 18, 22, 26, 30, 36, 42, 48)  # the K tried, few bits first


@dataclass(frozen=True)
class SamplePoint:
    """A rational point exactly representable in binary64, what kind it is (``random``: on
    no kink, ``kink``: on one, ``intersection``: on several), the neurons exactly at a knot
    there ``(hidden layer, neuron, knot)``, and whether every float64 evaluation computes
    those neurons exactly at their knots too (`float64_exact_layers`; when not, a float
    implementation may see the point just off a kink, on either side)."""

    point: tuple[Fraction, ...]
    kind: str
    kinks: tuple[tuple[int, int, int], ...]
    float64_exact: bool = True


def is_binary64(q: Fraction) -> bool:
    """Whether a rational is exactly a binary64 number.

    >>> is_binary64(Fraction(3, 8)), is_binary64(Fraction(1, 3)), is_binary64(Fraction(10**400))
    (True, False, False)
    """
    try:
        return Fraction(float(q)) == q
    except OverflowError:
        return False


def sample_point(net: Network, p: Sequence[object], path: str = "points") -> SamplePoint:
    """A given point as a `SamplePoint` (its coordinates must be binary64 numbers)."""
    point = tuple(parse_number(v, f"{path}[{i}]") for i, v in enumerate(p))
    if len(point) != net.input_dim:
        raise InputError(f"expected a point of dimension {net.input_dim}, got {len(point)}", path=path)
    if not all(is_binary64(v) for v in point):
        raise InputError(f"expected binary64 coordinates (both sides must see the same point), got {p}", path=path)
    return _classify(net, point)


def _classify(net: Network, point: tuple[Fraction, ...]) -> SamplePoint:
    _, knots, _ = slopes_at(net, point, 0)
    kind = "random" if not knots else "intersection" if len(knots) > 1 else "kink"
    exact = not knots or float64_exact_layers(net, point) > max(l for l, _, _ in knots)
    return SamplePoint(point, kind, knots, exact)


def coverage(points: Sequence[SamplePoint]) -> dict[int, int]:
    """How many points lie on 0, 1, 2, … kinks.

    >>> coverage([SamplePoint((Fraction(0),), "kink", ((0, 0, 0),)), SamplePoint((Fraction(1),), "random", ())])
    {0: 1, 1: 1}
    """
    counts: dict[int, int] = {}
    for p in points:
        counts[len(p.kinks)] = counts.get(len(p.kinks), 0) + 1
    return dict(sorted(counts.items()))


def sample_points(
    net: Network, samples: int = 50, seed: int = 0, *, random_share: float = 0.1
) -> tuple[SamplePoint, ...]:
    """Binary64 points for an oracle run: about ``random_share`` of them at random (on no
    kink), the others on one kink or on an intersection of two (where the network's
    hyperplanes allow such a binary64 point), placed on the lattice of the weights (see the
    module docstring). Kink points that every float64 evaluation computes exactly come
    first (`SamplePoint.float64_exact`); where too few exist (binary64 weights of 53 bits
    leave almost none), points exactly on kinks that a float64 evaluation rounds fill up.
    Fewer than ``samples`` points come back when not enough can be found (see `coverage`).

    >>> from exactrelu.core.network import Network, affine, activation
    >>> net = Network.from_layers(2, [affine([[1, 0], [0, 1], [1, -1]]), activation("relu"),
    ...                               affine([[1, 1, 1]])])
    >>> pts = sample_points(net, 10, seed=0)
    >>> sorted({p.kind for p in pts}), all(len(p.kinks) > (p.kind == "intersection") for p in pts if p.kind != "random")
    (['intersection', 'kink', 'random'], True)
    """
    rng = random.Random(seed)
    chain = net.chain
    neurons = [(l, i, j) for l, fns in enumerate(chain.acts) for i, fn in enumerate(fns) for j in range(len(fn.knots))]
    n_random = max(1, round(samples * random_share)) if neurons else samples
    randoms: list[SamplePoint] = []
    exact: dict[tuple[Fraction, ...], SamplePoint] = {}
    rounded: dict[tuple[Fraction, ...], SamplePoint] = {}
    attempts = 0
    while len(randoms) < n_random and attempts < 20 * n_random:
        attempts += 1
        sp = _classify(net, tuple(Fraction(rng.randint(-16, 16), 8) for _ in range(net.input_dim)))
        if sp.kind == "random" and sp.point not in {p.point for p in randoms}:
            randoms.append(sp)
    wanted = samples - len(randoms)
    attempts = 0
    while neurons and len(exact) < wanted and attempts < 12 * wanted:
        attempts += 1
        both = attempts % 3 == 0 and net.input_dim > 1 and len(neurons) > 1
        targets = rng.sample(neurons, 2 if both else 1)
        start = tuple(Fraction(rng.randint(-16, 16), 8) for _ in range(net.input_dim))
        point = solve_kinks(net, start, targets)
        if point is None or point in exact or point in rounded:
            continue
        sp = _classify(net, point)
        if sp.kind == "random":
            continue
        (exact if sp.float64_exact else rounded)[point] = sp
    kinks = list(exact.values()) + list(rounded.values())[: max(0, wanted - len(exact))]
    return tuple(randoms + kinks)


def solve_kinks(
    net: Network, start: Sequence[Fraction], targets: Sequence[tuple[int, int, int]], rounds: int = 4
) -> tuple[Fraction, ...] | None:
    """A binary64 point near ``start`` where every target neuron ``(layer, neuron, knot)``
    is exactly at its knot (or None): the lattice step of the module docstring, for K from
    small to large, repeated from the point reached when the region changed.

    >>> from exactrelu.core.network import Network, affine, activation
    >>> net = Network.from_layers(2, [affine([[0.1, 0.3]], [-0.2]), activation("relu"), affine([[1]])])
    >>> x = solve_kinks(net, (Fraction(1), Fraction(1)), [(0, 0, 0)])
    >>> net.preactivations(x)[0][0], all(is_binary64(v) for v in x)
    (Fraction(0, 1), True)
    """
    x = tuple(Fraction(v) for v in start)
    chain = net.chain
    for _ in range(rounds):
        pre = net.preactivations(x)
        if all(pre[l][i] == chain.acts[l][i].knots[j] for l, i, j in targets):
            return x
        rows, gaps = _local_forms(net, x, pre, targets)
        if any(all(v == 0 for v in r) and g != 0 for r, g in zip(rows, gaps)):
            return None
        moved = None
        for K in STEPS:
            delta = _short_solution(rows, [g * 2**K for g in gaps])
            if delta is None:
                continue
            y = tuple(xi + Fraction(d, 2**K) for xi, d in zip(x, delta))
            if not all(is_binary64(v) for v in y):
                break
            moved = moved or y
            pre_y = net.preactivations(y)
            if all(pre_y[l][i] == chain.acts[l][i].knots[j] for l, i, j in targets):
                return y
        if moved is None:
            return None
        x = moved
    return None


def _local_forms(
    net: Network, x: Sequence[Fraction], pre: Sequence[Sequence[Fraction]], targets: Sequence[tuple[int, int, int]]
) -> tuple[list[list[Fraction]], list[Fraction]]:
    """The targets' pre-activation gradients on the region of x (left slopes at knots) and
    their gaps ``knot − z(x)``."""
    diags, _, _ = slopes_at(net, x, 0)
    chain = net.chain
    P = chain.affines[0].W
    prefix = [P]
    for l in range(1, max(l for l, _, _ in targets) + 1):
        D = fmpq_mat(len(diags[l - 1]), len(diags[l - 1]),
                     [to_fmpq(diags[l - 1][i]) if i == j else 0 for i in range(len(diags[l - 1]))
                      for j in range(len(diags[l - 1]))])
        P = chain.affines[l].W * (D * P)
        prefix.append(P)
    rows = [[Fraction(int(prefix[l][i, c].p), int(prefix[l][i, c].q)) for c in range(net.input_dim)]
            for l, i, _ in targets]
    gaps = [chain.acts[l][i].knots[j] - pre[l][i] for l, i, j in targets]
    return rows, gaps


def _short_solution(rows: Sequence[Sequence[Fraction]], rhs: Sequence[Fraction]) -> list[int] | None:
    """A short integer vector δ with ``rows · δ = rhs`` exactly (None when LLL finds none):
    each equation scaled to integers, then LLL on the embedding lattice ``[I | 0 | N Aᵀ]``,
    ``[0 | 1 | −N r]``; a reduced vector with a zero constraint part and ±1 in the middle
    column is ``±(δ, 1, 0)``.

    >>> _short_solution([[Fraction(3), Fraction(5)]], [Fraction(1)])     # 3·2 + 5·(−1) = 1
    [2, -1]
    """
    A, r = [], []
    for row, b in zip(rows, rhs):
        den = 1
        for v in list(row) + [b]:
            den = den * v.denominator // _gcd(den, v.denominator)
        A.append([int(v * den) for v in row])
        r.append(b * den)
    if any(v.denominator != 1 for v in r):
        return None
    n, k = len(A[0]), len(A)
    big = 1 << (8 + max(abs(v) for v in [a for row in A for a in row] + [int(v) for v in r]).bit_length())
    basis = [[int(i == c) for c in range(n)] + [0] + [big * A[t][i] for t in range(k)] for i in range(n)]
    basis.append([0] * n + [1] + [-big * int(v) for v in r])
    reduced = fmpz_mat(basis).lll()
    for i in range(reduced.nrows()):
        row = [int(reduced[i, c]) for c in range(reduced.ncols())]
        if abs(row[n]) == 1 and all(v == 0 for v in row[n + 1:]):
            return [row[n] * v for v in row[:n]]
    return None


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def float64_exact_layers(net: Network, x: Sequence[Fraction]) -> int:
    """How many hidden layers' pre-activations every float64 evaluation of the network
    computes exactly at ``x`` (any summation order, with or without FMA): layer l counts
    when the layers below it do, its affine map's terms ``w_ij h_j`` and ``b_i`` are
    binary64 numbers whose sum fits in 53 bits above their least bit (so that every
    partial sum is a binary64 number), and each activation's output is one as well.

    >>> from exactrelu.core.network import Network, affine, activation
    >>> net = Network.from_layers(1, [affine([[0.75]], [0.5]), activation("relu"), affine([[3]])])
    >>> float64_exact_layers(net, [Fraction(1, 2)]), float64_exact_layers(net, [Fraction(1, 3)])
    (1, 0)
    """
    chain = net.chain
    h = [Fraction(v) for v in x]
    if not all(is_binary64(v) for v in h):
        return 0
    for l, fns in enumerate(chain.acts):
        aff = chain.affines[l]
        z = []
        for row, b in zip(aff.weight, aff.bias):
            terms = [w * v for w, v in zip(row, h) if w != 0 and v != 0] + ([b] if b != 0 else [])
            if not _exact_sum(terms):
                return l
            z.append(sum(terms, Fraction(0)))
        if not all(_activation_exact(fn, t) for fn, t in zip(fns, z)):
            return l + 1
        h = [fn(t) for fn, t in zip(fns, z)]
    return len(chain.acts)


def _activation_exact(fn: PiecewiseLinear, z: Fraction) -> bool:
    """Whether the float64 evaluation of an activation at a binary64 ``z`` is exact, as the
    frameworks write it: relu, abs and hardtanh return z, −z, 0 or a bound; leaky ReLU and
    PReLU multiply by their slope; a spline is ``Σ a_k relu(z − τ_k) + b1·z + b2``."""
    if fn.kind in ("relu", "abs", "hardtanh"):
        return is_binary64(fn(z))
    if fn.kind in ("leaky_relu", "prelu"):
        return is_binary64(fn.slopes[0] * z)
    if not all(_exact_sum([v for v in (z, -t) if v != 0]) for t in fn.knots):
        return False
    a, tau, b1, b2 = relu_form(fn)
    terms = [ak * max(z - tk, Fraction(0)) for ak, tk in zip(a, tau)] + [b1 * z, b2]
    return _exact_sum([t for t in terms if t != 0])


def relu_form(fn: PiecewiseLinear) -> tuple[list[Fraction], list[Fraction], Fraction, Fraction]:
    """Seed 002's form of a PL function, ``Σ_k a_k relu(z − τ_k) + b1·z + b2``:
    ``(a, τ, b1, b2)``, exactly (the form the oracle's builders write a spline in).

    >>> from exactrelu.core.activations import absolute
    >>> relu_form(absolute())                   # |z| = 2 relu(z) − z
    ([Fraction(2, 1)], [Fraction(0, 1)], Fraction(-1, 1), Fraction(0, 1))
    """
    a = [fn.slopes[k + 1] - fn.slopes[k] for k in range(len(fn.knots))]
    b2 = fn(Fraction(0)) - sum((ak * max(-t, Fraction(0)) for ak, t in zip(a, fn.knots)), Fraction(0))
    return a, list(fn.knots), fn.slopes[0], b2


def _exact_sum(terms: Sequence[Fraction]) -> bool:
    """Whether every float64 summation of ``terms`` (in any order) is exact."""
    if not terms:
        return True
    if not all(is_binary64(t) for t in terms):
        return False
    least = min(_least_bit(t) for t in terms)
    total = sum((abs(t) for t in terms), Fraction(0))
    return total < Fraction(2) ** (53 + least) and is_binary64(sum(terms, Fraction(0)))


def _least_bit(q: Fraction) -> int:
    """The exponent of the least set bit of a nonzero dyadic rational."""
    num, den = q.numerator, q.denominator
    return (abs(num) & -abs(num)).bit_length() - 1 - (den.bit_length() - 1)


def kink_point(net: Network, start: Sequence[Fraction], target: tuple[int, int, int]) -> SamplePoint | None:
    """The `SamplePoint` `solve_kinks` reaches from ``start`` for one target neuron (None if
    none): the building block of `exactrelu.strategies.kink_points`."""
    x = solve_kinks(net, start, [target])
    return None if x is None or not all(is_binary64(v) for v in x) else _classify(net, x)

