"""exactrelu as a golden test oracle for other implementations.

Point `compare` at another implementation of the same network (a torch module, a
builder's callable from `torch_model`, `jax_model`, `tensorflow_model`, or any Python
callable ``x -> (outputs, jacobian)``) and it checks it at binary64 points placed on
purpose exactly on kinks (a neuron at a knot) and on intersections of kinks, plus a few
at random (`exactrelu.kinkpoints`: for float networks too, on the lattice of the weights).
Every disagreement beyond a tolerance comes with the exact expected value, the
conventions the other value matches, and whether it lies in the Clarke Jacobian;
``str(report)`` prints them as a table and `OracleReport.assert_ok` fails a test with it.
A report whose points hit no kink is not ``ok`` (it tested nothing at the hard points),
unless ``require_kinks=False``.

``reference="clarke"`` (the default) calls a Jacobian right when it equals the Jacobian
where f is differentiable, and when it lies in the Clarke Jacobian where f is not; a
convention (``"torch"``, ``"0"``, an op preset such as ``"torch.clamp"`` (`OP_PRESETS`),
or a `exactrelu.core.conventions.PerKnot` for mixed conventions) instead asks for exactly
``DΦ_c(x)`` at every point.

The claims other tools make are checked in `exactrelu.claims` (re-exported here):
`check_lipschitz_claim`, `check_region_count`, `check_output_bounds`.

>>> from exactrelu.constructions import seed003_identity
>>> net = seed003_identity()                      # relu(x) − relu(−x) = x
>>> report = compare(net, torch_model(net), samples=8, seed=1)
>>> [(d.point, d.got, d.matches, d.in_clarke) for d in report.disagreements]
[((Fraction(0, 1),), ((0.0,),), ('torch', 'jax', 'tensorflow', 'torch.clamp', 'jnp.clip', 'c=0'), False)]
>>> print(report)                                             # doctest: +NORMALIZE_WHITESPACE
exactrelu oracle: 1 disagreement at 2 points (reference clarke, tolerance 1e-09)
coverage: 1 of 2 points on kinks (on 2 kinks: 1), 1 off kinks
#1 jacobian at x = (0.0)   on the kinks of (layer, neuron, knot) (0, 0, 0), (0, 1, 0)
   expected  [[1]]   ≈ [[1.0]]
   got       [[0.0]]
   matches   torch, jax, tensorflow, torch.clamp, jnp.clip, c=0
   Clarke    not in the Clarke Jacobian
>>> compare(net, torch_model(net), reference="torch", samples=8, seed=1).ok
True
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

import sympy

from .calculus import derivative
from .claims import (  # noqa: F401 (re-exported)  # noqa: F401
    LipschitzClaimCheck,
    OutputBoundsCheck,
    RegionCountCheck,
    check_lipschitz_claim,
    check_output_bounds,
    check_region_count,
)
from .clarke import clarke_jacobian, convex_weights
from .core.activations import PiecewiseLinear
from .core.conventions import FRAMEWORKS, C, Framework, Scalar, as_sympy, rule_value
from .core.errors import InputError
from .core.network import Network
from .kinkpoints import (
    POINT_KINDS,
    SamplePoint,
    coverage,
    is_binary64,
    relu_form,
    sample_point,
    sample_points,
)

Implementation = Callable[[Any], tuple[Any, Any]]
__all__ = [
    "OP_PRESETS", "OpPreset", "Disagreement", "OracleReport", "compare", "torch_model", "from_torch", "jax_model",
    "tensorflow_model", "sample_points", "is_binary64", "SamplePoint", "POINT_KINDS", "check_lipschitz_claim",
    "check_region_count", "check_output_bounds",
]


# -- op-level presets -------------------------------------------------------------------------

# Ops that compute the same function as a framework's default module but differentiate it
# otherwise at the kink: (framework, activation kind, rule at the knot, what it is). Each
# rule was checked by running the framework (docs/oracle.md; tests/test_torch_preset.py for
# torch). A max written as ``y + relu(x − y)`` has its tie at the relu's knot.
OP_PRESETS: dict[str, tuple[str, str, Any, str]] = {
    "torch.clamp": ("torch", "hardtanh", "inner", "torch.clamp(x, lo, hi): the gradient passes at both bounds"),
    "torch.maximum": ("torch", "relu", Fraction(1, 2), "torch.maximum(x, y) at a tie: 1/2 to each input"),
    "jnp.clip": ("jax", "hardtanh", Fraction(1, 2), "jnp.clip(x, lo, hi): 1/2 at the bounds"),
    "jnp.maximum": ("jax", "relu", Fraction(1, 2), "jnp.maximum(x, y) at a tie: 1/2 to each input"),
}


@dataclass(frozen=True)
class OpPreset:
    """A framework's convention with one op (`OP_PRESETS`) in place of its default module
    for one activation kind: ``OpPreset("torch.clamp")`` is torch's convention with
    hardtanh written as ``torch.clamp``.

    >>> from exactrelu.core.activations import hardtanh
    >>> [OpPreset(n).knot_value(hardtanh(-1, 1), 1, 0, 0) for n in ("torch.clamp", "jnp.clip")]
    [Fraction(1, 1), Fraction(1, 2)]
    """

    name: str

    def __post_init__(self) -> None:
        if self.name not in OP_PRESETS:
            raise InputError(f"expected an op preset among {', '.join(OP_PRESETS)}, got {self.name!r}")

    def knot_value(self, fn: PiecewiseLinear, knot: int, layer: int, neuron: int) -> Scalar:
        framework, kind, rule, _ = OP_PRESETS[self.name]
        if fn.kind == kind:
            return rule_value(rule, fn, knot)
        return Framework(framework).knot_value(fn, knot, layer, neuron)

    def formula_value(self, fn: PiecewiseLinear, z: Fraction) -> Scalar | None:
        return Framework(OP_PRESETS[self.name][0]).formula_value(fn, z)

    def describe(self) -> str:
        return self.name


def _convention(reference: Any) -> Any:
    return OpPreset(reference) if isinstance(reference, str) and reference in OP_PRESETS else reference


# -- other implementations --------------------------------------------------------------------


def _floats(rows: Sequence[Sequence[Fraction]], what: str) -> list[list[float]]:
    for row in rows:
        for v in row:
            if not is_binary64(v):
                raise InputError(f"{what}: {v} is not a binary64 number, so a float64 framework cannot hold it exactly")
    return [[float(v) for v in row] for row in rows]


def _layers(net: Network) -> list[tuple[str, Any]]:
    """The network as ``("affine", (W, b))`` and ``(kind, per-neuron params)`` steps in
    floats, every number checked to be binary64 (`InputError` otherwise). Activation
    params: leaky_relu ``alpha``, prelu the list of alphas, hardtanh ``(lo, hi)``, abs and
    relu nothing, spline ``(a, τ, b1, b2)`` lists (seed 002's form, `relu_form`)."""
    chain = net.chain
    steps: list[tuple[str, Any]] = []
    for l, aff in enumerate(chain.affines):
        W = _floats(aff.weight, f"affine {l} weight")
        b = _floats([aff.bias], f"affine {l} bias")[0]
        steps.append(("affine", (W, b)))
        if l == len(chain.acts):
            break
        fns = chain.acts[l]
        kind = fns[0].kind
        what = f"activation {l} ({kind})"
        if kind in ("leaky_relu", "prelu"):
            alphas = _floats([[f.slopes[0] for f in fns]], what)[0]
            steps.append((kind, alphas[0] if kind == "leaky_relu" else alphas))
        elif kind == "hardtanh":
            steps.append((kind, tuple(_floats([[fns[0].knots[0], fns[0].knots[1]]], what)[0])))
        elif kind in ("relu", "abs"):
            steps.append((kind, None))
        else:
            forms = [relu_form(f) for f in fns]
            width = max(1, max(len(a) for a, _, _, _ in forms))
            a = _floats([list(a) + [Fraction(0)] * (width - len(a)) for a, _, _, _ in forms], what)
            tau = _floats([list(t) + [Fraction(0)] * (width - len(t)) for _, t, _, _ in forms], what)
            b1, b2 = _floats([[f[2] for f in forms], [f[3] for f in forms]], what)
            steps.append(("spline", (a, tau, b1, b2)))
    return steps


def torch_model(net: Network) -> Any:
    """The network as torch's own built-in modules in float64 (``nn.Linear``, ``nn.ReLU``,
    ``nn.LeakyReLU``, ``nn.PReLU``, ``nn.Hardtanh``, ``torch.abs``, and a spline as
    ``Σ a_k relu(x − τ_k) + b1·x + b2``), so that torch autograd differentiates it with its
    own rules at the kinks (`exactrelu.core.conventions.FRAMEWORK_OPS`). Every number must be a
    binary64 number (else `InputError`).

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

    f64 = torch.float64
    modules: list[Any] = []
    TorchAbs, TorchSpline = _torch_modules()
    for kind, params in _layers(net):
        if kind == "affine":
            W, b = params
            lin = torch.nn.Linear(len(W[0]), len(W), dtype=f64)
            with torch.no_grad():
                lin.weight.copy_(torch.tensor(W, dtype=f64))
                lin.bias.copy_(torch.tensor(b, dtype=f64))
            modules.append(lin)
        elif kind == "relu":
            modules.append(torch.nn.ReLU())
        elif kind == "leaky_relu":
            modules.append(torch.nn.LeakyReLU(params))
        elif kind == "prelu":
            m = torch.nn.PReLU(len(params), dtype=f64)
            with torch.no_grad():
                m.weight.copy_(torch.tensor(params, dtype=f64))
            modules.append(m)
        elif kind == "hardtanh":
            modules.append(torch.nn.Hardtanh(*params))
        elif kind == "abs":
            modules.append(TorchAbs())
        else:
            modules.append(TorchSpline(*params))
    return torch.nn.Sequential(*modules)


def _torch_modules() -> tuple[type, type]:
    import torch

    class TorchAbs(torch.nn.Module):
        """``torch.abs`` as a module."""

        def forward(self, x: Any) -> Any:
            return torch.abs(x)

    class TorchSpline(torch.nn.Module):
        """Per-neuron ``Σ_k a_k relu(x − τ_k) + b1·x + b2`` (seed 002's form) with F.relu."""

        def __init__(self, a: list[list[float]], tau: list[list[float]], b1: list[float], b2: list[float]) -> None:
            super().__init__()
            for name, value in (("a", a), ("tau", tau), ("b1", b1), ("b2", b2)):
                self.register_buffer(name, torch.tensor(value, dtype=torch.float64))

        def forward(self, x: Any) -> Any:
            relus = torch.nn.functional.relu(x.unsqueeze(-1) - self.tau)
            return (self.a * relus).sum(-1) + self.b1 * x + self.b2

    return TorchAbs, TorchSpline


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


def jax_model(net: Network) -> Implementation:
    """The network written with jax's own ops (`exactrelu.core.conventions.FRAMEWORK_OPS` ``["jax"]``:
    ``jax.nn.relu``, ``jax.nn.leaky_relu``, flax's PReLU expression, ``jax.nn.hard_tanh``
    (its ``where`` expression for bounds other than ±1), ``jnp.abs``, a spline in seed 002's
    form) as an implementation ``x -> (outputs, jax.jacrev Jacobian)``, in float64 (this
    turns on jax's ``jax_enable_x64``). Needs jax; numbers must be binary64."""
    import jax

    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def step(kind: str, params: Any) -> Callable[[Any], Any]:
        if kind == "affine":
            W, b = jnp.array(params[0]), jnp.array(params[1])
            return lambda z: W @ z + b
        if kind == "relu":
            return jax.nn.relu
        if kind == "leaky_relu":
            return lambda z: jax.nn.leaky_relu(z, negative_slope=params)
        if kind == "prelu":
            alpha = jnp.array(params)
            return lambda z: jnp.where(z >= 0, z, alpha * z)
        if kind == "hardtanh":
            lo, hi = params
            if (lo, hi) == (-1.0, 1.0):
                return jax.nn.hard_tanh
            return lambda z: jnp.where(z > hi, hi, jnp.where(z < lo, lo, z))
        if kind == "abs":
            return jnp.abs
        a, tau, b1, b2 = (jnp.array(v) for v in params)
        return lambda z: (a * jax.nn.relu(z[:, None] - tau)).sum(-1) + b1 * z + b2

    steps = [step(k, p) for k, p in _layers(net)]

    def f(x: Any) -> Any:
        for s in steps:
            x = s(x)
        return x

    jac = jax.jacrev(f)
    return lambda x: (f(jnp.array(x, dtype=jnp.float64)), jac(jnp.array(x, dtype=jnp.float64)))


def tensorflow_model(net: Network) -> Implementation:
    """The network written with TensorFlow's own ops (`exactrelu.core.conventions.FRAMEWORK_OPS`
    ``["tensorflow"]``: ``tf.nn.relu``, ``tf.nn.leaky_relu``, keras's PReLU expression
    ``relu(x) − α·relu(−x)``, ``tf.clip_by_value``, ``tf.abs``, a spline in seed 002's form)
    as an implementation ``x -> (outputs, GradientTape Jacobian)``, in float64. Needs
    TensorFlow; numbers must be binary64."""
    import tensorflow as tf

    f64 = tf.float64

    def step(kind: str, params: Any) -> Callable[[Any], Any]:
        if kind == "affine":
            W, b = tf.constant(params[0], dtype=f64), tf.constant(params[1], dtype=f64)
            return lambda z: tf.linalg.matvec(W, z) + b
        if kind == "relu":
            return tf.nn.relu
        if kind == "leaky_relu":
            return lambda z: tf.nn.leaky_relu(z, alpha=params)
        if kind == "prelu":
            alpha = tf.constant(params, dtype=f64)
            return lambda z: tf.nn.relu(z) - alpha * tf.nn.relu(-z)
        if kind == "hardtanh":
            lo, hi = params
            return lambda z: tf.clip_by_value(z, lo, hi)
        if kind == "abs":
            return tf.abs
        a, tau, b1, b2 = (tf.constant(v, dtype=f64) for v in params)
        return lambda z: tf.reduce_sum(a * tf.nn.relu(z[:, None] - tau), axis=-1) + b1 * z + b2

    steps = [step(k, p) for k, p in _layers(net)]

    def run(x: Any) -> tuple[Any, Any]:
        xt = tf.constant([float(v) for v in x], dtype=f64)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = xt
            for s in steps:
                y = s(y)
        return y.numpy().tolist(), tape.jacobian(y, xt).numpy().tolist()

    return run


# -- the comparison ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    """One point where the other implementation differs from the exact answer.

    ``what``: ``"output"`` or ``"jacobian"``. ``expected``: the exact value (the output, the
    Jacobian where f is differentiable, ``DΦ_c(x)`` for a convention reference, or the
    Clarke generators for the ``clarke`` reference at a kink). ``got``: the other value
    (NaN and infinities included: they never match). ``matches``: the conventions and op
    presets whose ``DΦ`` equals ``got`` within the tolerance (named ones, and
    ``c=<rational>`` for the family). ``in_clarke``: whether ``got`` lies in the Clarke
    Jacobian within the tolerance (``_in_hull``: near a generator, or the simplest
    rationals near it inside it exactly, or a float LP's distance; None for an output, or
    a value that is not finite). ``float64_exact``: whether every
    float64 evaluation computes the point's kinks exactly (`exactrelu.kinkpoints`).
    """

    point: tuple[Fraction, ...]
    kind: str
    what: str
    expected: Any
    got: Any
    matches: tuple[str, ...]
    in_clarke: bool | None
    kinks: tuple[tuple[int, int, int], ...]
    float64_exact: bool = True


@dataclass(frozen=True)
class OracleReport:
    """Every point checked, by kind, and every disagreement found.

    ``ok``: no disagreement and, unless ``require_kinks`` is False, at least one point on
    a kink (when the network has a neuron with a knot whose pre-activation moves; one that
    moves but never reaches its knot also makes the report not ok: pass
    ``require_kinks=False`` there). ``str(report)`` is a readable table.
    """

    reference: str
    tolerance: float
    points: tuple[SamplePoint, ...]
    disagreements: tuple[Disagreement, ...]
    require_kinks: bool = True
    has_kinks: bool = True

    @property
    def value(self) -> bool:
        """Whether the other implementation agreed everywhere it was tested (`ok`)."""
        return self.ok

    @property
    def guarantee(self) -> str:
        return "exact"

    @property
    def diagnostics(self) -> dict[str, Any]:
        return {"points": len(self.points), "disagreements": len(self.disagreements), "coverage": self.coverage()}

    @property
    def ok(self) -> bool:
        return not self.disagreements and not self.untested

    @property
    def untested(self) -> bool:
        """Whether no point hit a kink although the network has kinks (and they were required)."""
        return self.require_kinks and self.has_kinks and not any(p.kinks for p in self.points)

    def counts(self) -> dict[str, int]:
        """How many points of each kind were checked."""
        return {k: sum(p.kind == k for p in self.points) for k in POINT_KINDS}

    def coverage(self) -> dict[int, int]:
        """How many points lay on 0, 1, 2, … kinks."""
        return coverage(self.points)

    @property
    def kink_share(self) -> float:
        """The share of the points on at least one kink."""
        return sum(1 for p in self.points if p.kinks) / len(self.points) if self.points else 0.0

    def assert_ok(self) -> None:
        """Raise `AssertionError` with the table when the report is not ``ok``."""
        if not self.ok:
            raise AssertionError("\n" + str(self))

    def __str__(self) -> str:
        n, k = len(self.disagreements), len(self.points)
        lines = [f"exactrelu oracle: {n} disagreement{'s' * (n != 1)} at {k} point{'s' * (k != 1)} "
                 f"(reference {self.reference}, tolerance {self.tolerance:g})"]
        cov = self.coverage()
        on = k - cov.get(0, 0)
        by = ", ".join(f"on {m} kink{'s' * (m != 1)}: {c}" for m, c in cov.items() if m > 0)
        lines.append(f"coverage: {on} of {k} points on kinks" + (f" ({by})" if by else "") + f", {cov.get(0, 0)} off kinks")
        inexact = sum(1 for p in self.points if p.kinks and not p.float64_exact)
        if inexact:
            lines.append(f"  {inexact} of them exactly on kinks that a float64 evaluation rounds (a value of either "
                         "side passes there)")
        if self.untested:
            lines.append("NOT OK: no point lay on a kink, so nothing was tested where the conventions differ "
                         "(compare(..., require_kinks=False) accepts this)")
        for i, d in enumerate(self.disagreements, 1):
            where = "off kinks" if not d.kinks else ("on the kink of " if len(d.kinks) == 1 else "on the kinks of ") + \
                "(layer, neuron, knot) " + ", ".join(f"({l}, {j}, {t})" for l, j, t in d.kinks)
            lines.append(f"#{i} {d.what} at x = ({', '.join(repr(float(v)) for v in d.point)})   {where}")
            lines.extend(_expected_lines(d))
            lines.append(f"   got       {_floats_text(d.got)}")
            if d.what == "jacobian":
                lines.append(f"   matches   {', '.join(d.matches) if d.matches else 'no convention'}")
                clarke = {True: "in the Clarke Jacobian", False: "not in the Clarke Jacobian",
                          None: "not a finite matrix"}[d.in_clarke]
                lines.append(f"   Clarke    {clarke}")
        return "\n".join(lines)


def _expected_lines(d: Disagreement) -> list[str]:
    e = d.expected
    if d.what == "output":
        return [f"   expected  {_exact_text([e])}   ≈ {_floats_text([e])}"]
    if isinstance(e, tuple) and e and isinstance(e[0], tuple) and e[0] and isinstance(e[0][0], tuple):
        head = "   expected  in the hull of "
        return [head + ", ".join(f"{_exact_text(g)} ≈ {_floats_text(g)}" for g in e)]
    return [f"   expected  {_exact_text(e)}   ≈ {_floats_text(e)}"]


def _exact_text(rows: Any) -> str:
    return "[" + ", ".join("[" + ", ".join(str(v) for v in r) + "]" for r in rows) + "]"


def _floats_text(rows: Any) -> str:
    def one(v: Any) -> str:
        try:
            return repr(float(v))
        except (TypeError, ValueError):
            return str(v)

    return "[" + ", ".join("[" + ", ".join(one(v) for v in r) + "]" for r in rows) + "]"


def compare(
    net: Network,
    other: Any,
    *,
    reference: Any = "clarke",
    samples: int = 50,
    points: Sequence[Sequence[Any]] | None = None,
    tolerance: float = 1e-9,
    seed: int = 0,
    require_kinks: bool = True,
) -> OracleReport:
    """Compare another implementation of ``net`` with the exact answers.

    ``other``: a torch module, or a callable ``x -> (outputs, jacobian)`` taking a list of
    floats (the Jacobian may be a gradient list when there is one output). ``points``: use
    these (rational, binary64) points instead of sampling ``samples`` of them
    (`exactrelu.kinkpoints.sample_points`, at least 90% on kinks where the network allows).
    ``reference``: ``"clarke"``, a convention (``"torch"``, ``"1/2"``, a `PerKnot`…) or an
    op preset (`OP_PRESETS`); see the module docstring.
    """
    impl = from_torch(other) if _is_torch_module(other) else other
    pts = sample_points(net, samples, seed) if points is None else tuple(sample_point(net, p) for p in points)
    conv = None if reference == "clarke" else _convention(reference)
    found = []
    for sp in pts:
        found.extend(_check_point(net, impl, sp, conv, tolerance))
    has_kinks = _has_moving_neuron(net)
    label = reference if isinstance(reference, str) else getattr(reference, "describe", lambda: str(reference))()
    return OracleReport(label, tolerance, pts, tuple(found), require_kinks, has_kinks)


def _has_moving_neuron(net: Network) -> bool:
    """Whether some neuron with a knot has a pre-activation that is not constant (inputs
    move; a neuron moves when its row reaches a moving neuron of the layer below): a net
    without one has no kink to hit. (A moving neuron may still never reach its knot.)"""
    moving = [True] * net.input_dim
    chain = net.chain
    for l, fns in enumerate(chain.acts):
        pre = [any(w != 0 and m for w, m in zip(row, moving)) for row in chain.affines[l].weight]
        if any(p and fn.knots for p, fn in zip(pre, fns)):
            return True
        moving = [p and len(fn.slopes) > 0 and any(s != 0 for s in fn.slopes) for p, fn in zip(pre, fns)]
    return False


def _is_torch_module(obj: Any) -> bool:
    return any(c.__module__.startswith("torch.nn") and c.__name__ == "Module" for c in type(obj).__mro__)


def _check_point(net: Network, impl: Implementation, sp: SamplePoint, conv: Any, tol: float) -> list[Disagreement]:
    x = sp.point
    y_other, J_other = impl([float(v) for v in x])
    y_other = [float(v) for v in _flat(y_other)]
    J_rows = _rows(J_other, len(y_other), net.input_dim)
    y = net.evaluate(x)
    if len(y_other) != len(y) or not _close([y], [y_other], tol):
        return [Disagreement(x, sp.kind, "output", y, (tuple(y_other),), (), None, sp.kinks, sp.float64_exact)]
    finite = all(math.isfinite(v) for r in J_rows for v in r)
    clarke = clarke_jacobian(net, x)
    in_clarke = (_in_hull(clarke.generators, J_rows, tol) if not clarke.differentiable
                 else _close(clarke.generators[0], J_rows, tol)) if finite else None
    if conv is None:
        expected: Any = clarke.generators[0] if clarke.differentiable else clarke.generators
        ok = bool(in_clarke)
    else:
        expected = derivative(net, x, conv).matrix
        # off a float64-exact kink the other side may see either side of it: a Clarke value passes
        ok = finite and (_close(expected, J_rows, tol) or (not sp.float64_exact and bool(in_clarke)))
    if ok:
        return []
    got = tuple(tuple(r) for r in J_rows)
    matches = _matches(net, x, J_rows, tol) if finite else ()
    return [Disagreement(x, sp.kind, "jacobian", expected, got, matches, in_clarke, sp.kinks, sp.float64_exact)]


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
    """Entrywise within ``tol`` (relative, plus absolute); NaN and infinities never are."""
    return all(abs(float(e) - g) <= tol * (1 + abs(float(e))) for er, gr in zip(exact_rows, rows) for e, g in zip(er, gr))


def _snap(v: float, tol: float) -> Fraction:
    """The simplest rational within the tolerance of a finite float (its exact value otherwise)."""
    q = Fraction(v).limit_denominator(1 << 16)
    return q if abs(float(q) - v) <= tol * (1 + abs(v)) else Fraction(v)


def _in_hull(generators: Sequence[Any], rows: Sequence[Sequence[float]], tol: float) -> bool:
    """Whether a float matrix lies in the hull of the generators within the tolerance: it
    is close to a generator, or the simplest rationals near it lie in the hull exactly
    (`convex_weights`), or a float LP finds convex weights within the tolerance of it (the
    generators of a float network have long exact fractions)."""
    if any(_close(g, rows, tol) for g in generators):
        return True
    snapped = [[_snap(v, tol) for v in r] for r in rows]
    if convex_weights(generators, snapped) is not None:
        return True
    return len(generators) > 1 and _float_hull_distance(generators, rows) <= tol


def _float_hull_distance(generators: Sequence[Any], rows: Sequence[Sequence[float]]) -> float:
    """``min over convex weights λ of max_ij |Σ λ_g G_g − M|_ij / (1 + |M_ij|)``, by a float LP."""
    import numpy as np
    from scipy.optimize import linprog

    G = np.array([[float(v) for r in g for v in r] for g in generators]).T  # entries × generators
    m = np.array([v for r in rows for v in r])
    scale = 1 + np.abs(m)
    k = G.shape[1]
    A = np.vstack([np.hstack([G / scale[:, None], -np.ones((len(m), 1))]),
                   np.hstack([-G / scale[:, None], -np.ones((len(m), 1))])])
    b = np.concatenate([m / scale, -m / scale])
    res = linprog(np.r_[np.zeros(k), 1.0], A_ub=A, b_ub=b, A_eq=np.r_[np.ones(k), 0.0][None, :], b_eq=[1.0],
                  bounds=[(0, None)] * k + [(0, None)], method="highs")
    return float(res.fun) if res.status == 0 else float("inf")


def _matches(net: Network, x: tuple[Fraction, ...], rows: Sequence[Sequence[float]], tol: float) -> tuple[str, ...]:
    names = [n for n in (*FRAMEWORKS, *OP_PRESETS) if _close(derivative(net, x, _convention(n)).matrix, rows, tol)]
    poly = derivative(net, x, "c").matrix
    snapped = [[_snap(v, tol) for v in r] for r in rows]
    equations = [as_sympy(p) - sympy.Rational(s.numerator, s.denominator) for pr, sr in zip(poly, snapped) for p, s in zip(pr, sr)]
    nonzero = [e for e in equations if e != 0]
    if not nonzero:
        return tuple(names) + ("every c",)
    if any(not e.free_symbols for e in nonzero):
        return tuple(names)
    roots = set(sympy.Poly(nonzero[0], C).ground_roots())
    common = sorted(r for r in roots if r.is_rational and all(e.subs(C, r) == 0 for e in nonzero))
    return tuple(names) + tuple(f"c={r}" for r in common)
