"""exactrelu as a golden test oracle for other implementations.

Point `compare` at another implementation of the same network (a torch module, or a
Python callable ``x -> (outputs, jacobian)``) and it samples rational points, on purpose
on kinks (a neuron exactly at a knot), on intersections of several kinks, and at random,
all exactly representable in binary64 so that both sides see the same input. It reports
every disagreement beyond a tolerance with the exact expected value, the conventions the
other value matches, and whether that value lies in the Clarke Jacobian.

``reference="clarke"`` (the default) calls a Jacobian right when it equals the Jacobian
where f is differentiable, and when it lies in the Clarke Jacobian where f is not; a
convention (``"torch"``, ``"0"``, …) instead asks for exactly ``DΦ_c(x)`` at every point.

`check_lipschitz_claim` checks a claimed upper or lower bound on the Lipschitz constant
against the exact one (`exactrelu.lipschitz`).

>>> from exactrelu.constructions import seed003_identity
>>> net = seed003_identity()                      # relu(x) − relu(−x) = x
>>> report = compare(net, torch_model(net), samples=8, seed=1)
>>> [(d.point, d.got, d.matches, d.in_clarke) for d in report.disagreements]
[((Fraction(0, 1),), ((0.0,),), ('torch', 'jax', 'tensorflow', 'c=0'), False)]
>>> compare(net, torch_model(net), reference="torch", samples=8, seed=1).ok
True
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

import sympy

from .calculus import derivative, slopes_at
from .clarke import clarke_jacobian, convex_weights
from .core.activations import PiecewiseLinear
from .core.conventions import FRAMEWORKS, C
from .core.errors import InputError
from .core.network import Network
from .core.numbers import parse_number

Implementation = Callable[[Any], tuple[Any, Any]]
POINT_KINDS = ("random", "kink", "intersection")


# -- sampling exact points that binary64 represents ----------------------------------------


@dataclass(frozen=True)
class SamplePoint:
    """A rational point exactly representable in binary64, what kind it was drawn as, and the
    neurons exactly at a knot there ``(hidden layer, neuron, knot)``."""

    point: tuple[Fraction, ...]
    kind: str
    kinks: tuple[tuple[int, int, int], ...]


def is_binary64(q: Fraction) -> bool:
    """Whether a rational is exactly a binary64 number.

    >>> is_binary64(Fraction(3, 8)), is_binary64(Fraction(1, 3))
    (True, False)
    """
    try:
        return Fraction(float(q)) == q
    except OverflowError:
        return False


def sample_points(net: Network, samples: int = 50, seed: int = 0) -> tuple[SamplePoint, ...]:
    """Points for an oracle run: about a third each at random, on one kink, and on an
    intersection of kinks (where the network's hyperplanes allow a binary64 point there).

    Kink points are found exactly: from a random dyadic start, the local affine map of the
    chosen neuron's pre-activation is solved for its knot along one coordinate (a few
    steps, as for a PL Newton method), and the result is kept only when the neuron is
    exactly at the knot and every coordinate is a binary64 number.

    >>> from exactrelu.core.network import Network, affine, activation
    >>> net = Network.from_layers(2, [affine([[1, 0], [0, 1], [1, -1]]), activation("relu"),
    ...                               affine([[1, 1, 1]])])
    >>> pts = sample_points(net, 9, seed=0)
    >>> sorted({p.kind for p in pts}), all(len(p.kinks) > (p.kind == "intersection") for p in pts if p.kind != "random")
    (['intersection', 'kink', 'random'], True)
    """
    rng = random.Random(seed)
    chain = net.chain
    neurons = [(l, i, j) for l, fns in enumerate(chain.acts) for i, fn in enumerate(fns) for j in range(len(fn.knots))]
    found: dict[tuple[Fraction, ...], SamplePoint] = {}
    attempts = 0
    while len(found) < samples and attempts < 40 * samples:
        attempts += 1
        want = POINT_KINDS[attempts % 3] if neurons else "random"
        start = tuple(_dyadic(rng) for _ in range(net.input_dim))
        if want == "random":
            point: tuple[Fraction, ...] | None = start
        else:
            targets = rng.sample(neurons, min(len(neurons), 1 if want == "kink" else min(net.input_dim, 2) or 1))
            point = _solve_kinks(net, start, targets, rng)
        if point is None or not all(is_binary64(v) for v in point):
            continue
        _, knots, _ = slopes_at(net, point, 0)
        kind = "random" if not knots else "intersection" if len(knots) > 1 else "kink"
        if want != "random" and kind == "random":
            continue
        found.setdefault(point, SamplePoint(point, kind, knots))
    return tuple(found.values())


def _dyadic(rng: random.Random) -> Fraction:
    return Fraction(rng.randint(-16, 16), 2 ** rng.randint(0, 3))


def _solve_kinks(
    net: Network, start: tuple[Fraction, ...], targets: Sequence[tuple[int, int, int]], rng: random.Random
) -> tuple[Fraction, ...] | None:
    """Move ``start`` so that every target neuron sits exactly at its knot (or give up)."""
    x = list(start)
    chain = net.chain
    for _ in range(6):
        rows, rhs = [], []
        pre = net.preactivations(x)
        for l, i, j in targets:
            grad = _preactivation_gradient(net, x, l, i)
            rows.append(grad)
            rhs.append(chain.acts[l][i].knots[j] - pre[l][i])
        if all(r == 0 for r in rhs):
            return tuple(x)
        step = _solve_on_coordinates(rows, rhs, net.input_dim, rng)
        if step is None:
            return None
        x = [xi + si for xi, si in zip(x, step)]
    pre = net.preactivations(x)
    ok = all(pre[l][i] == chain.acts[l][i].knots[j] for l, i, j in targets)
    return tuple(x) if ok else None


def _preactivation_gradient(net: Network, x: Sequence[Fraction], layer: int, neuron: int) -> tuple[Fraction, ...]:
    """The gradient of one pre-activation on the region of x (left slopes at knots)."""
    diags, _, _ = slopes_at(net, x, 0)
    chain = net.chain
    row = list(chain.affines[layer].weight[neuron])
    for l in range(layer - 1, -1, -1):
        scaled = [row[k] * diags[l][k] for k in range(len(row))]
        W = chain.affines[l].weight
        row = [sum((scaled[k] * W[k][m] for k in range(len(scaled))), Fraction(0)) for m in range(len(W[0]))]
    return tuple(row)


def _solve_on_coordinates(
    rows: list[tuple[Fraction, ...]], rhs: list[Fraction], n: int, rng: random.Random
) -> list[Fraction] | None:
    """A step ``s`` with ``rows · s = rhs`` that moves only as many coordinates as there are
    rows, preferring the choice that keeps the point dyadic."""
    import itertools

    k = len(rows)
    choices = list(itertools.permutations(range(n), k)) if k <= n else []
    rng.shuffle(choices)
    fallback = None
    for cols in choices:
        sub = [[r[c] for c in cols] for r in rows]
        sol = _solve_square(sub, rhs)
        if sol is None:
            continue
        step = [Fraction(0)] * n
        for c, v in zip(cols, sol):
            step[c] = v
        if all(is_binary64(v) for v in step):
            return step
        fallback = fallback or step
    return fallback


def _solve_square(A: list[list[Fraction]], b: list[Fraction]) -> list[Fraction] | None:
    n = len(A)
    M = [list(row) + [bi] for row, bi in zip(A, b)]
    for c in range(n):
        p = next((r for r in range(c, n) if M[r][c] != 0), None)
        if p is None:
            return None
        M[c], M[p] = M[p], M[c]
        for r in range(n):
            if r != c and M[r][c] != 0:
                f = M[r][c] / M[c][c]
                M[r] = [a - f * bb for a, bb in zip(M[r], M[c])]
    return [M[i][n] / M[i][i] for i in range(n)]


# -- other implementations --------------------------------------------------------------------


def torch_model(net: Network) -> Any:
    """The network as torch's own built-in modules in float64 (``nn.Linear``, ``nn.ReLU``,
    ``nn.LeakyReLU``, ``nn.PReLU``, ``nn.Hardtanh``, ``torch.abs``, and a spline as
    ``Σ a_k relu(x − τ_k) + b1·x + b2``), so that torch autograd differentiates it with its
    own rules at the kinks. Weights must be binary64 numbers (else `InputError`).

    >>> from exactrelu.constructions import seed003_relu
    >>> torch_model(seed003_relu())
    Sequential(
      (0): Linear(in_features=1, out_features=2, bias=True)
      (1): ReLU()
      (2): Linear(in_features=2, out_features=1, bias=True)
      (3): ReLU()
      (4): Linear(in_features=1, out_features=1, bias=True)
    )
    """
    import torch

    chain = net.chain
    modules: list[Any] = []
    for l, affine_layer in enumerate(chain.affines):
        lin = torch.nn.Linear(affine_layer.in_dim, affine_layer.out_dim, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(_floats(affine_layer.weight, f"affine {l} weight"), dtype=torch.float64))
            lin.bias.copy_(torch.tensor(_floats([affine_layer.bias], f"affine {l} bias")[0], dtype=torch.float64))
        modules.append(lin)
        if l < len(chain.acts):
            modules.append(_torch_activation(chain.acts[l]))
    return torch.nn.Sequential(*modules)


def _floats(rows: Sequence[Sequence[Fraction]], what: str) -> list[list[float]]:
    for row in rows:
        for v in row:
            if not is_binary64(v):
                raise InputError(f"{what}: {v} is not a binary64 number, so torch cannot hold it exactly")
    return [[float(v) for v in row] for row in rows]


def _torch_activation(fns: Sequence[PiecewiseLinear]) -> Any:
    import torch

    kind = fns[0].kind
    if kind == "relu":
        return torch.nn.ReLU()
    if kind == "leaky_relu":
        return torch.nn.LeakyReLU(float(fns[0].params[0]))
    if kind == "prelu":
        m = torch.nn.PReLU(len(fns), dtype=torch.float64)
        with torch.no_grad():
            m.weight.copy_(torch.tensor([float(f.params[0]) for f in fns], dtype=torch.float64))
        return m
    if kind == "hardtanh":
        return torch.nn.Hardtanh(float(fns[0].params[0]), float(fns[0].params[1]))
    if kind == "abs":
        return _torch_abs()
    return _torch_spline(fns)


def _torch_modules() -> tuple[type, type]:
    import torch

    class TorchAbs(torch.nn.Module):
        """``torch.abs`` as a module."""

        def forward(self, x: Any) -> Any:
            return torch.abs(x)

    class TorchSpline(torch.nn.Module):
        """Per-neuron ``Σ_k a_k relu(x − τ_k) + b1·x + b2`` (seed 002's form) with F.relu."""

        def __init__(self, fns: Sequence[PiecewiseLinear]) -> None:
            super().__init__()
            width = max(1, max(len(f.knots) for f in fns))
            a = [[0.0] * width for _ in fns]
            tau = [[0.0] * width for _ in fns]
            b1, b2 = [], []
            for i, f in enumerate(fns):
                for k, t in enumerate(f.knots):
                    a[i][k] = float(f.slopes[k + 1] - f.slopes[k])
                    tau[i][k] = float(t)
                b1.append(float(f.slopes[0]))
                b2.append(float(f(Fraction(0)) - sum((f.slopes[k + 1] - f.slopes[k]) * max(-t, Fraction(0)) for k, t in enumerate(f.knots))))
            self.register_buffer("a", torch.tensor(a, dtype=torch.float64))
            self.register_buffer("tau", torch.tensor(tau, dtype=torch.float64))
            self.register_buffer("b1", torch.tensor(b1, dtype=torch.float64))
            self.register_buffer("b2", torch.tensor(b2, dtype=torch.float64))

        def forward(self, x: Any) -> Any:
            relus = torch.nn.functional.relu(x.unsqueeze(-1) - self.tau)
            return (self.a * relus).sum(-1) + self.b1 * x + self.b2

    return TorchAbs, TorchSpline


def _torch_abs() -> Any:
    return _torch_modules()[0]()


def _torch_spline(fns: Sequence[PiecewiseLinear]) -> Any:
    return _torch_modules()[1](fns)


def from_torch(module: Any) -> Implementation:
    """A torch module as an implementation: ``x -> (outputs, Jacobian)`` by torch autograd
    (reverse mode, so the frameworks' backward rules decide at kinks), in float64 on a copy."""
    import torch

    model = copy.deepcopy(module).to(torch.float64)

    def run(x: Any) -> tuple[Any, Any]:
        xt = torch.tensor([float(v) for v in x], dtype=torch.float64)
        with torch.no_grad():
            y = model(xt.unsqueeze(0))[0]
        J = torch.autograd.functional.jacobian(lambda v: model(v.unsqueeze(0))[0], xt)
        return y.tolist(), J.reshape(len(y), len(xt)).tolist()

    return run


# -- the comparison ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    """One point where the other implementation differs from the exact answer.

    ``what``: ``"output"`` or ``"jacobian"``. ``expected``: the exact value (the output, the
    Jacobian where f is differentiable, ``DΦ_c(x)`` for a convention reference, or the
    Clarke generators for the ``clarke`` reference at a kink). ``got``: the other value.
    ``matches``: the conventions whose ``DΦ`` equals ``got`` within the tolerance (named ones,
    and ``c=<rational>`` for the family). ``in_clarke``: whether ``got`` (read as the nearest
    simple rational within the tolerance) lies in the Clarke Jacobian, exactly decided.
    """

    point: tuple[Fraction, ...]
    kind: str
    what: str
    expected: Any
    got: Any
    matches: tuple[str, ...]
    in_clarke: bool | None
    kinks: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class OracleReport:
    """Every point checked, by kind, and every disagreement found."""

    reference: str
    tolerance: float
    points: tuple[SamplePoint, ...]
    disagreements: tuple[Disagreement, ...]

    @property
    def ok(self) -> bool:
        return not self.disagreements

    def counts(self) -> dict[str, int]:
        """How many points of each kind were checked."""
        return {k: sum(p.kind == k for p in self.points) for k in POINT_KINDS}


def compare(
    net: Network,
    other: Any,
    *,
    reference: str = "clarke",
    samples: int = 50,
    points: Sequence[Sequence[Any]] | None = None,
    tolerance: float = 1e-9,
    seed: int = 0,
) -> OracleReport:
    """Compare another implementation of ``net`` with the exact answers.

    ``other``: a torch module, or a callable ``x -> (outputs, jacobian)`` taking a list of
    floats (the Jacobian may be a gradient list when there is one output). ``points``: use
    these (rational, binary64) points instead of sampling. ``reference``: ``"clarke"`` or a
    convention (see the module docstring).
    """
    impl = from_torch(other) if _is_torch_module(other) else other
    if points is None:
        pts = sample_points(net, samples, seed)
    else:
        pts = tuple(_sample_point(net, p) for p in points)
    found = []
    for sp in pts:
        found.extend(_check_point(net, impl, sp, reference, tolerance))
    return OracleReport(reference, tolerance, pts, tuple(found))


def _is_torch_module(obj: Any) -> bool:
    return any(c.__module__.startswith("torch.nn") and c.__name__ == "Module" for c in type(obj).__mro__)


def _sample_point(net: Network, p: Sequence[Any]) -> SamplePoint:
    point = tuple(parse_number(v, f"point[{i}]") for i, v in enumerate(p))
    if len(point) != net.input_dim:
        raise InputError(f"expected a point of dimension {net.input_dim}, got {len(point)}", path="points")
    if not all(is_binary64(v) for v in point):
        raise InputError(f"expected binary64 coordinates (both sides must see the same point), got {p}", path="points")
    _, knots, _ = slopes_at(net, point, 0)
    kind = "random" if not knots else "intersection" if len(knots) > 1 else "kink"
    return SamplePoint(point, kind, knots)


def _check_point(net: Network, impl: Implementation, sp: SamplePoint, reference: str, tol: float) -> list[Disagreement]:
    x = sp.point
    y_other, J_other = impl([float(v) for v in x])
    y_other = [float(v) for v in _flat(y_other)]
    J_rows = _rows(J_other, len(y_other), net.input_dim)
    out: list[Disagreement] = []
    y = net.evaluate(x)
    if len(y_other) != len(y) or not _close([y], [y_other], tol):
        out.append(Disagreement(x, sp.kind, "output", y, tuple(y_other), (), None, sp.kinks))
        return out
    clarke = clarke_jacobian(net, x)
    if reference == "clarke":
        if clarke.differentiable:
            expected: Any = clarke.generators[0]
            ok = _close(expected, J_rows, tol)
        else:
            expected = clarke.generators
            ok = _in_hull(clarke.generators, J_rows, tol)
    else:
        expected = derivative(net, x, reference).matrix
        ok = _close(expected, J_rows, tol)
    if not ok:
        got = tuple(tuple(r) for r in J_rows)
        out.append(Disagreement(x, sp.kind, "jacobian", expected, got, _matches(net, x, J_rows, tol), _in_hull(clarke.generators, J_rows, tol), sp.kinks))
    return out


def _flat(v: Any) -> list[Any]:
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        return [w for item in v for w in _flat(item)]
    return [v]


def _rows(J: Any, m: int, n: int) -> list[list[float]]:
    flat = [float(v) for v in _flat(J)]
    if len(flat) != m * n:
        raise InputError(f"expected a {m}×{n} Jacobian (or a gradient of {n} when there is one output), got {len(flat)} numbers")
    return [flat[i * n : (i + 1) * n] for i in range(m)]


def _close(exact_rows: Sequence[Sequence[Any]], rows: Sequence[Sequence[float]], tol: float) -> bool:
    return all(abs(float(e) - g) <= tol * (1 + abs(float(e))) for er, gr in zip(exact_rows, rows) for e, g in zip(er, gr))


def _snap(v: float, tol: float) -> Fraction:
    """The simplest rational within the tolerance of a float (its exact value otherwise)."""
    q = Fraction(v).limit_denominator(1 << 16)
    return q if abs(float(q) - v) <= tol * (1 + abs(v)) else Fraction(v)


def _in_hull(generators: Sequence[Any], rows: Sequence[Sequence[float]], tol: float) -> bool:
    snapped = [[_snap(v, tol) for v in r] for r in rows]
    return convex_weights(generators, snapped) is not None


def _matches(net: Network, x: tuple[Fraction, ...], rows: Sequence[Sequence[float]], tol: float) -> tuple[str, ...]:
    names = [n for n in FRAMEWORKS if _close(derivative(net, x, n).matrix, rows, tol)]
    poly = derivative(net, x, "c").matrix
    snapped = [[_snap(v, tol) for v in r] for r in rows]
    equations = [sympy.sympify(p) - sympy.Rational(s.numerator, s.denominator) for pr, sr in zip(poly, snapped) for p, s in zip(pr, sr)]
    nonzero = [e for e in equations if e != 0]
    if not nonzero:
        return tuple(names) + ("every c",)
    if any(not e.free_symbols for e in nonzero):
        return tuple(names)
    roots = set(sympy.Poly(nonzero[0], C).ground_roots())
    common = sorted(r for r in roots if r.is_rational and all(e.subs(C, r) == 0 for e in nonzero))
    return tuple(names) + tuple(f"c={r}" for r in common)


# -- Lipschitz estimators --------------------------------------------------------------------


@dataclass(frozen=True)
class LipschitzClaimCheck:
    """A claimed bound on the Lipschitz constant against the exact one.

    ``side``: ``"upper"`` (the claim must be ≥ L) or ``"lower"`` (≤ L). ``claimed``: the
    claim read exactly (a float is its binary64 value). ``exact``: L as a `Quantity`
    (rational for ℓ1/ℓ∞, algebraic with an interval for ℓ2). ``holds``: decided exactly
    (an algebraic L is compared by exact root isolation). ``gap``: claimed − L, as a float.
    """

    norm: str
    side: str
    claimed: Fraction
    exact: Any
    holds: bool
    gap: float


def check_lipschitz_claim(net: Network, claimed: Any, *, norm: str = "inf", side: str = "upper", domain: Any = None) -> LipschitzClaimCheck:
    """Check an estimator's claimed upper or lower bound on L_p against the exact L_p
    (computed by `exactrelu.lipschitz`).

    >>> from exactrelu.constructions import seed003_identity
    >>> check_lipschitz_claim(seed003_identity(), 0.999, side="upper").holds
    False
    >>> check_lipschitz_claim(seed003_identity(), 1, side="lower").holds
    True
    """
    from .core.algebraic import Algebraic
    from .lipschitz import lipschitz

    if side not in ("upper", "lower"):
        raise InputError(f"expected side 'upper' or 'lower', got {side!r}", path="side")
    value = parse_number(claimed, "claimed")
    result = lipschitz(net, norm, domain)
    L = result.exact
    L_alg = L if isinstance(L, Algebraic) else Algebraic.rational(L)
    order = L_alg.compare(value)  # sign of L − claimed
    holds = order <= 0 if side == "upper" else order >= 0
    return LipschitzClaimCheck(str(norm), side, value, result.value, holds, float(value) - float(result.value))
