"""Lower bounds on the Lipschitz constant L by sampling and local search.

Every Jacobian ``J(x)`` at a point x off the knots is the Jacobian of an activation
region, so ``‖J(x)‖ ≤ L``: the largest one found is a lower bound. The search
samples points (from data, a box, or a Gaussian), then walks: each of the best
points proposes moves (random steps of shrinking size, and steps along the signs
of its largest Jacobian row, which push pre-activations across their knots) and
keeps a move when ``‖J‖`` grows, so it crosses regions towards larger ``‖J‖``.
The best point is kept as the witness.

The float Jacobian is an *estimate*. For a ReLU network, when the float forward pass at
the witness, carried with a proven error bound, fixes the sign of every neuron, the
region is certain and a certified lower bound of its ``‖J‖`` (the product for that
pattern with its rounding radius) is a *certified* lower bound on L. When an exact
`Network` is at hand and small enough, the witness is re-checked exactly: its pattern is recomputed in rationals
at the exact binary value of the float point, and if no neuron sits on a knot, the
exact Jacobian (`exactrelu.calculus.derivative`) gives an exact ``‖J‖`` (ℓ1, ℓ∞)
or a certified lower bound of it (ℓ2), a proven lower bound on L over R^n.

>>> from exactrelu.core.network import Network, affine, activation
>>> net = Network.from_layers(1, [affine([[1], [1], [1]], [0, "-1/2", -1]), activation("relu"),
...                               affine([[2, -4, 2]])])
>>> low = lipschitz_lower(net, "inf", samples=64, box=[(0, 1)])
>>> low.value.guarantee, low.value.value
('exact', Fraction(2, 1))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from ..core.errors import InputError
from ..core.norms import parse_norm
from ..core.results import CERTIFIED, ESTIMATE, EXACT, Quantity
from .arithmetic import (
    NUMPY,
    Chain,
    U,
    gamma,
    norm_bracket,
    product,
    round_down,
    round_up,
)
from .operators import OperatorNetwork, from_network

RECHECK_NEURONS = 4096


@dataclass(frozen=True)
class LowerBound:
    """The best ``‖J(x)‖`` found, its witness point and how far it is proven.

    ``value``: a `Quantity` with ``lower=True``: exact (re-checked, ℓ1/ℓ∞), certified
    (re-checked, ℓ2) or an estimate. ``float_norm``: the float ``‖J‖`` at the witness.
    ``certified_pattern_norm``: a certified lower bound of ``‖B_ℓ D_ℓ … B_0‖`` for the
    witness's pattern D (hence of K), 0 when not computed. ``evaluations``: Jacobians
    computed.
    """

    value: Quantity
    witness: tuple[float, ...]
    float_norm: float
    certified_pattern_norm: float
    evaluations: int
    rechecked: bool

    @property
    def guarantee(self) -> str:
        return self.value.guarantee

    @property
    def diagnostics(self) -> dict[str, Any]:
        return {"float_norm": self.float_norm, "certified_pattern_norm": self.certified_pattern_norm,
                "evaluations": self.evaluations, "rechecked": self.rechecked}


def jacobian_norms(J: np.ndarray, norm: str) -> np.ndarray:
    """Operator norms of a batch of Jacobians (B, out, in).

    >>> jacobian_norms(np.array([[[1.0, -2.0], [3.0, 0.0]]]), "inf").tolist()
    [3.0]
    """
    if norm == "inf":
        return np.abs(J).sum(axis=2).max(axis=1)
    if norm == "1":
        return np.abs(J).sum(axis=1).max(axis=1)
    return np.linalg.norm(J, ord=2, axis=(1, 2))


def lipschitz_lower(
    net: Any,
    norm: Any = "inf",
    *,
    xp: Any = None,
    samples: int = 256,
    steps: int = 30,
    keep: int = 8,
    seed: int = 0,
    box: Sequence[Sequence[Any]] | None = None,
    data: np.ndarray | None = None,
    recheck: bool = True,
) -> LowerBound:
    """A lower bound on L (over R^n; inside ``box`` when given) with a witness point.

    ``net``: an exact `Network` or an `OperatorNetwork`; either is re-checked exactly when
    its exact `Network` (for a graph, `exactrelu.floats.operators.to_network` of it, max-pool nodes
    expanded: the same function) has at most `RECHECK_NEURONS` neurons; otherwise the value
    is an estimate, or certified by the pattern's certified norm. ``xp``: the arrays of a
    backend (numpy's by default).
    """
    norm = parse_norm(norm)
    xp = xp or NUMPY
    exact_net = None if isinstance(net, OperatorNetwork) else net
    opnet = net if isinstance(net, OperatorNetwork) else from_network(net)
    n = opnet.input_size
    rng = np.random.default_rng(seed)
    lo_b, hi_b = _box(box, n)
    if data is not None:
        data = np.asarray(data, dtype=np.float64).reshape(-1, n)
        if not np.all(np.isfinite(data)):
            raise InputError("expected finite data points", path="data")
        X = data[rng.permutation(len(data))[:samples]]
        if box is not None:
            X = np.clip(X, lo_b, hi_b)
    elif box is not None:
        X = lo_b + (hi_b - lo_b) * rng.random((samples, n))
    else:
        X = rng.standard_normal((samples, n))
    scale = float(np.std(X)) or 1.0
    values = _norms(opnet, X, norm, xp)
    evaluations = len(X)
    order = np.argsort(-values)[:keep]
    best_x, best_v = X[order].copy(), values[order].copy()
    for step in range(steps):
        sigma = scale * 0.5 ** (step % 10)
        props = [best_x + sigma * rng.standard_normal(best_x.shape) for _ in range(3)]
        J = opnet.jacobian(xp.asarray(best_x), xp)
        J = xp.to_numpy(J)
        rows = np.abs(J).sum(axis=2).argmax(axis=1)
        direction = np.sign(J[np.arange(len(J)), rows])
        props += [best_x + sigma * direction, best_x - sigma * direction]
        P = np.concatenate(props)
        if box is not None:
            P = np.clip(P, lo_b, hi_b)
        pv = _norms(opnet, P, norm, xp)
        evaluations += len(P)
        for j in range(len(best_x)):
            cand = pv[j::len(best_x)]
            k = int(np.argmax(cand))
            if cand[k] > best_v[j]:
                best_v[j], best_x[j] = cand[k], P[j + k * len(best_x)]
    i = int(np.argmax(best_v))
    x, fnorm = best_x[i], float(best_v[i])
    witness = tuple(float(v) for v in x)
    from .operators import exact_weights, expand_max_pools, to_network

    exact_w = exact_net is None or exact_weights(exact_net)
    pattern_norm = _pattern_norm(opnet, x, norm, xp, exact_w)
    if recheck and exact_net is None:
        expanded = expand_max_pools(opnet) if opnet.max_pool_blocks else opnet
        if sum(expanded.widths) <= RECHECK_NEURONS:
            exact_net = to_network(expanded)
    if recheck and exact_net is not None and sum(exact_net.chain.widths) <= RECHECK_NEURONS:
        q = _recheck(exact_net, witness, norm)
        if q is not None:

            return LowerBound(q, witness, fnorm, max(pattern_norm, round_down(q.value)), evaluations, True)
    if pattern_norm > 0 and _certified_pattern(opnet, x, xp):
        return LowerBound(Quantity(pattern_norm, CERTIFIED, lower=True), witness, fnorm, pattern_norm, evaluations,
                          False)
    return LowerBound(Quantity(fnorm, ESTIMATE, lower=True), witness, fnorm, pattern_norm, evaluations, False)


def _certified_pattern(opnet: OperatorNetwork, x: np.ndarray, xp: Any) -> bool:
    """Whether the float forward pass at the float point x gives every ReLU's sign for sure:
    each pre-activation is carried with a proven error bound ``e`` (``|ẑ − z| ≤ γ(|B||x̂| + |b|)
    + |B| e_x``, rounded up), and ``|ẑ| > e`` everywhere. ReLU networks only (else False)."""
    from .operators import Conv2d

    if not all(a.kind == "relu" for a in opnet.acts):
        return False
    v = xp.asarray(x.reshape(1, -1))
    err = v * 0
    for l, block in enumerate(opnet.blocks):
        for op, aop in zip(block, opnet.abs_blocks[l]):
            bias = op.bias_full if isinstance(op, Conv2d) else op.bias
            g = round_up(2 * gamma(op.terms + 4))
            size = xp.inflate(aop.apply(xp.abs(v), xp), op.terms) + xp.asarray(np.abs(bias))
            err = xp.inflate(aop.apply(err, xp), op.terms) + size * g
            v = op.apply(v, xp) + xp.asarray(bias)
            err = xp.inflate(err, 2)
        if l < len(opnet.acts):
            if not bool((xp.abs(v) > err).all()):
                return False
            v = opnet.acts[l](v)
    return True


def _box(box: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    if box is None:
        return np.full(n, -np.inf), np.full(n, np.inf)
    if len(box) != n:
        raise InputError(f"expected a box of {n} intervals, got {len(box)}", path="box")
    lo = np.array([float(Fraction(b[0])) for b in box])
    hi = np.array([float(Fraction(b[1])) for b in box])
    if not np.all(lo < hi):
        raise InputError("expected lo < hi in every interval of the box", path="box")
    return lo, hi


def _norms(opnet: OperatorNetwork, X: np.ndarray, norm: str, xp: Any) -> np.ndarray:
    out = []
    for start in range(0, len(X), 256):
        J = xp.to_numpy(opnet.jacobian(xp.asarray(X[start:start + 256]), xp))
        out.append(jacobian_norms(J, norm))
    return np.concatenate(out)


def _pattern_norm(opnet: OperatorNetwork, x: np.ndarray, norm: str, xp: Any, exact_w: bool) -> float:
    """A certified lower bound of the norm of the product for x's float pattern (0 when not
    computed: for a graph with max-pool nodes, whose blocks have no matrix)."""
    if opnet.max_pool_blocks:
        return 0.0
    pre, _ = opnet.preactivations(xp.asarray(x.reshape(1, -1)), xp)
    slopes = [xp.to_numpy(a.slope(z))[0] for a, z in zip(opnet.acts, pre)]
    if not all(a.exact_slopes for a in opnet.acts):
        return 0.0
    chain = Chain(opnet, xp, exact_w)
    M, r = chain.mats[0], 0.0
    for l, d in enumerate(slopes):
        S = xp.scale_rows(M, d)
        rs = round_up(Fraction(float(np.abs(d).max())) * Fraction(r) + U * Fraction(xp.frob_up(S)))
        M, r = product(xp, chain.mats[l + 1], chain.rads[l + 1], S, rs)
    if xp.size(M) > 4_000_000:
        return 0.0
    return round_down(norm_bracket(xp, M, r, norm)[0])


def _recheck(net: Any, x: tuple[float, ...], norm: str) -> Quantity | None:
    from ..calculus import derivative

    point = [Fraction(v) for v in x]
    if not _differentiable(net, point):
        return None
    J = derivative(net, point, 0).matrix
    if norm == "inf":
        return Quantity(max(sum((abs(v) for v in row), Fraction(0)) for row in J), EXACT, lower=True)
    if norm == "1":
        return Quantity(max(sum((abs(row[j]) for row in J), Fraction(0)) for j in range(len(J[0]))), EXACT,
                        lower=True)
    A = np.array([[float(v) for v in row] for row in J])
    lower = _exact_spectral_lower(J, A)
    return Quantity(round_down(lower), CERTIFIED, lower=True)


def _differentiable(net: Any, point: list[Fraction]) -> bool:
    """True when no neuron sits on a knot at ``point``, or every one that does has a zero
    gradient there (its slope then multiplies a zero row: f is differentiable at the point,
    so ``‖J‖ ≤ L``)."""
    from ..calculus import slopes_at
    from ..core.numbers import fmpq_matrix

    diags, knots, _ = slopes_at(net, point, 0)
    if not knots:
        return True
    at = {}
    for l, i, _ in knots:
        at.setdefault(l, []).append(i)
    chain = net.chain
    G = chain.affines[0].W
    for l, row in enumerate(diags):
        for i in at.get(l, ()):
            if any(G[i, j] != 0 for j in range(G.ncols())):
                return False
        D = fmpq_matrix([[row[i] if i == j else 0 for j in range(len(row))] for i in range(len(row))])
        G = chain.affines[l + 1].W * (D * G)
    return True


def _exact_spectral_lower(J: Sequence[Sequence[Fraction]], A: np.ndarray) -> Fraction:
    if not np.any(A):
        return Fraction(0)
    _, _, vt = np.linalg.svd(A)
    v = [Fraction(float(t)) for t in vt[0]]
    Jv = [sum((a * b for a, b in zip(row, v)), Fraction(0)) for row in J]
    q = sum((t * t for t in Jv), Fraction(0)) / sum((t * t for t in v), Fraction(0))
    s = math.nextafter(math.sqrt(float(q)), 0.0)
    while Fraction(s) ** 2 > q:
        s = math.nextafter(s, 0.0)
    return Fraction(s)
