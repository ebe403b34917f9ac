"""The claims other tools make about a network, checked exactly.

- `check_lipschitz_claim`: an estimator's upper (or lower) bound on ``L_p`` against the
  exact L (`exactrelu.lipschitz`): *sound*, *sound within tolerance* (``rel_tol``, or
  ``ulps`` units in the last place of the claimed float), or *unsound*, with the exact gap.
- `check_region_count`: a region counter's count against the exact one
  (`exactrelu.regions`), with the regions a float tool is likely to merge (thin ones) or
  split (facets where several neurons' hyperplanes coincide).
- `check_output_bounds`: a verifier's bounds on the outputs over a domain: *sound*, or
  *unsound* with an exact counterexample point.

Every check returns a frozen result with ``value`` (the verdict), ``guarantee`` and
``diagnostics``.

>>> from exactrelu.constructions import seed003_identity
>>> check_lipschitz_claim(seed003_identity(), 0.999, side="upper").value
'unsound'
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

from .core.algebraic import as_algebraic
from .core.domain import Domain
from .core.errors import InputError
from .core.network import Network
from .core.numbers import parse_number
from .core.results import ESTIMATE, EXACT

SOUND, WITHIN, UNSOUND = "sound", "sound within tolerance", "unsound"
DEFINITIONS = ("activation_regions", "linear_pieces", "bounded_regions")


# -- Lipschitz claims ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LipschitzClaimCheck:
    """A claimed bound on the Lipschitz constant against the exact one.

    ``value``: the verdict, ``"sound"`` (the claim holds exactly), ``"sound within
    tolerance"`` (it fails by at most ``tolerance``) or ``"unsound"``. ``side``:
    ``"upper"`` (the claim must be ≥ L) or ``"lower"`` (≤ L). ``claimed``: the claim read
    exactly (a float is its binary64 value). ``exact``: L as a `Quantity` (rational for
    ℓ1/ℓ∞, algebraic with an interval for ℓ2). ``holds``: the claim holds exactly.
    ``gap``: claimed − L exactly (a `Fraction`; for an irrational ℓ2 L, None, and
    ``gap_interval`` encloses it within 2⁻⁶⁰). ``tolerance``: the allowed failure, exactly.
    """

    norm: str
    side: str
    claimed: Fraction
    exact: Any
    holds: bool
    gap: Fraction | None
    gap_interval: tuple[Fraction, Fraction]
    tolerance: Fraction
    value: str
    guarantee: str = EXACT
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Sound, or sound within the tolerance."""
        return self.value != UNSOUND

    @property
    def gap_decimal(self) -> str:
        """The gap as a decimal (17 significant digits)."""
        lo, hi = self.gap_interval
        return f"{float((lo + hi) / 2):.17g}"

    def __str__(self) -> str:
        bound = "≥" if self.side == "upper" else "≤"
        gap = str(self.gap) if self.gap is not None else f"in [{self.gap_interval[0]}, {self.gap_interval[1]}]"
        exact = (f"{self.exact.value}" if self.exact.algebraic is None and len(str(self.exact.value)) < 40
                 else "an algebraic number")
        if len(gap) > 60:
            gap = "an interval of width 2⁻⁶⁰ around it"
        return (f"claimed L_{self.norm} {bound} {float(self.claimed)!r}: {self.value}; exact L = {exact} "
                f"≈ {float(self.exact.value):.17g}; claimed − L ≈ {self.gap_decimal} (exactly {gap})")


def check_lipschitz_claim(
    net: Network,
    claimed: Any,
    *,
    norm: str = "inf",
    side: str = "upper",
    domain: Domain | None = None,
    rel_tol: Any = 0,
    ulps: int = 0,
) -> LipschitzClaimCheck:
    """Check an estimator's claimed upper or lower bound on L_p against the exact L_p
    (computed by `exactrelu.lipschitz`). A claim that fails by at most
    ``max(rel_tol·L, ulps·ulp(claimed))`` (``ulp`` the spacing of binary64 numbers at the
    claimed float) is *sound within tolerance*, decided exactly.

    >>> from exactrelu.constructions import seed003_identity
    >>> net = seed003_identity()                           # L = 1
    >>> r = check_lipschitz_claim(net, 0.9999999999999999, side="upper")
    >>> r.value, r.gap, check_lipschitz_claim(net, 0.9999999999999999, ulps=1).value
    ('unsound', Fraction(-1, 9007199254740992), 'sound within tolerance')
    >>> check_lipschitz_claim(net, 1, side="lower").holds
    True
    """
    from .lipschitz import lipschitz

    if side not in ("upper", "lower"):
        raise InputError(f"expected side 'upper' or 'lower', got {side!r}", path="side")
    value = parse_number(claimed, "claimed")
    rel = parse_number(rel_tol, "rel_tol")
    if rel < 0 or not isinstance(ulps, int) or ulps < 0:
        raise InputError("expected rel_tol >= 0 and ulps a nonnegative integer", path="rel_tol")
    result = lipschitz(net, norm, domain)
    L = as_algebraic(result.exact)
    L_hi = L.value if L.is_rational else L.refine(Fraction(1, 2**62)).interval[1]
    unit = Fraction(math.ulp(float(value))) if ulps else Fraction(0)
    tolerance = max(rel * L_hi, ulps * unit)
    order = L.compare(value)  # sign of L − claimed
    holds = order <= 0 if side == "upper" else order >= 0
    if holds:
        verdict = SOUND
    else:  # fails: within tolerance when |claimed − L| <= tolerance
        edge = value + tolerance if side == "upper" else value - tolerance
        within = L.compare(edge) <= 0 if side == "upper" else L.compare(edge) >= 0
        verdict = WITHIN if within else UNSOUND
    if L.is_rational:
        gap: Fraction | None = value - L.value
        interval = (gap, gap)
    else:
        gap = None
        lo, hi = L.refine(Fraction(1, 2**60)).interval
        interval = (value - hi, value - lo)
    return LipschitzClaimCheck(str(result.norm), side, value, result.value, holds, gap, interval, tolerance, verdict,
                               EXACT, dict(result.diagnostics))


# -- region counts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FragileRegion:
    """A region a float tool is likely to merge or split: its index in the exact region
    graph, an interior point, the radius of the largest ball inside it (an ``estimate``,
    by a float LP) and why (``"thin"``, or ``"coincident hyperplanes"`` with the neurons
    ``(layer, neuron)`` whose hyperplanes coincide on one of its facets)."""

    index: int
    witness: tuple[Fraction, ...]
    radius: float
    reason: str
    neurons: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class RegionCountCheck:
    """A claimed region count against the exact one (SPEC §3's ``definition``).

    ``value``: ``"correct"`` or ``"wrong"``; ``exact``: the exact count; ``fragile``: the
    regions a float tool is likely to merge or split (`FragileRegion`), thinnest first.
    """

    definition: str
    claimed: int
    exact: int
    value: str
    fragile: tuple[FragileRegion, ...]
    guarantee: str = EXACT
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def holds(self) -> bool:
        return self.value == "correct"

    def __str__(self) -> str:
        head = f"{self.definition}: claimed {self.claimed}, exact {self.exact} ({self.value})"
        lines = [head] + [f"  region {r.index} at ({', '.join(f'{float(v):.6g}' for v in r.witness)}): {r.reason}, "
                          f"inner radius ≈ {r.radius:.3g}" for r in self.fragile]
        return "\n".join(lines)


def check_region_count(
    net: Network, domain: Domain | None, claimed: int, *, definition: str = "activation_regions", thin: float = 1e-6
) -> RegionCountCheck:
    """Check a region counter's count (``definition``: ``activation_regions``,
    ``linear_pieces`` or ``bounded_regions``) against the exact region graph, and list the
    regions thinner than ``thin`` (inner radius) or bounded by coincident hyperplanes.

    >>> from exactrelu.core.network import Network, affine, activation
    >>> net = Network.from_layers(2, [affine([[1, 0], [0, 1], [1, 0]], [0, 0, "-1/1000000000"]),
    ...                               activation("relu"), affine([[1, 1, 1]])])
    >>> r = check_region_count(net, None, 4)               # a sliver between x = 0 and x = 1e-9
    >>> r.value, r.exact, [f.reason for f in r.fragile]
    ('wrong', 6, ['thin', 'thin'])
    """
    from .regions import enumerate_regions

    if definition not in DEFINITIONS:
        raise InputError(f"expected a definition among {', '.join(DEFINITIONS)}, got {definition!r}", path="definition")
    if not isinstance(claimed, int) or claimed < 0:
        raise InputError(f"expected a nonnegative integer count, got {claimed!r}", path="claimed")
    start = time.perf_counter()
    graph = enumerate_regions(net, domain)
    exact = getattr(graph, definition)
    radii = [_inner_radius(r.A, r.b) for r in graph.regions]
    coincident: dict[int, tuple[tuple[int, int], ...]] = {}
    for i, j, data in graph.graph.edges(data=True):
        neurons = tuple(data["neurons"])
        if len(neurons) > 1:
            for k in (i, j):
                coincident.setdefault(k, neurons)
    fragile = []
    for k, r in enumerate(graph.regions):
        if radii[k] < thin:
            fragile.append(FragileRegion(k, r.witness, radii[k], "thin"))
        elif k in coincident:
            fragile.append(FragileRegion(k, r.witness, radii[k], "coincident hyperplanes", coincident[k]))
    fragile.sort(key=lambda f: f.radius)
    diagnostics = {"regions": graph.activation_regions, "time_s": round(time.perf_counter() - start, 6),
                   "radius_guarantee": ESTIMATE}
    return RegionCountCheck(definition, claimed, exact, "correct" if claimed == exact else "wrong", tuple(fragile),
                            EXACT, diagnostics)


def _inner_radius(A: Sequence[Sequence[Fraction]], b: Sequence[Fraction]) -> float:
    """The radius of the largest ball in ``{A x <= b}`` (capped at 1), by a float LP: an estimate."""
    import numpy as np
    from scipy.optimize import linprog

    n = len(A[0]) if A else 0
    if not A:
        return 1.0
    Af = np.array([[float(v) for v in row] for row in A])
    norms = np.sqrt((Af * Af).sum(axis=1))
    c = np.zeros(n + 1)
    c[-1] = -1.0
    res = linprog(c, A_ub=np.hstack([Af, norms[:, None]]), b_ub=np.array([float(v) for v in b]),
                  bounds=[(None, None)] * n + [(0, 1.0)], method="highs")
    return float(-res.fun) if res.status == 0 else 0.0


# -- output bounds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutputBoundsCheck:
    """Claimed bounds ``lower <= f(x) <= upper`` over a domain against the exact range.

    ``value``: ``"sound"`` or ``"unsound"``. ``exact_lower`` / ``exact_upper``: each
    output's exact minimum and maximum over the domain (None: unbounded).
    ``counterexample``: when unsound, ``(point, output index, f_k(point))``, exact, with the
    point in the domain and ``f_k(point)`` outside the claimed bounds.
    """

    value: str
    exact_lower: tuple[Fraction | None, ...]
    exact_upper: tuple[Fraction | None, ...]
    counterexample: tuple[tuple[Fraction, ...], int, Fraction] | None
    guarantee: str = EXACT
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def holds(self) -> bool:
        return self.value == SOUND


def check_output_bounds(
    net: Network, domain: Domain | None, lower: Sequence[Any] | None, upper: Sequence[Any] | None
) -> OutputBoundsCheck:
    """Check claimed output bounds (``None`` for no claim on a side, or per output) over a
    domain: the exact range of every output is the maximum, over the activation regions,
    of an exact LP of the region's affine map on its closure (`output_range`).

    >>> from exactrelu.core.network import Network, affine, activation
    >>> net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])   # |x|
    >>> box = Domain.from_box([[-1, 2]])
    >>> check_output_bounds(net, box, [0], [2]).value
    'sound'
    >>> r = check_output_bounds(net, box, [0], [1.5])
    >>> r.value, r.counterexample
    ('unsound', ((Fraction(2, 1),), 0, Fraction(2, 1)))
    """
    start = time.perf_counter()
    m = net.output_dim
    lo = _bounds(lower, m, "lower")
    hi = _bounds(upper, m, "upper")
    exact_lower, exact_upper, argmin, argmax, regions = output_range(net, domain)
    counter = None
    for k in range(m):
        if hi[k] is not None and (exact_upper[k] is None or exact_upper[k] > hi[k]):
            counter = _counterexample(net, argmax[k], k, hi[k], +1)
        elif lo[k] is not None and (exact_lower[k] is None or exact_lower[k] < lo[k]):
            counter = _counterexample(net, argmin[k], k, lo[k], -1)
        if counter is not None:
            break
    diagnostics = {"regions": regions, "time_s": round(time.perf_counter() - start, 6)}
    return OutputBoundsCheck(SOUND if counter is None else UNSOUND, exact_lower, exact_upper, counter, EXACT, diagnostics)


def _bounds(values: Sequence[Any] | None, m: int, what: str) -> list[Fraction | None]:
    if values is None:
        return [None] * m
    if len(values) != m:
        raise InputError(f"expected {m} {what} bounds (one per output), got {len(values)}", path=what)
    return [None if v is None else parse_number(v, f"{what}[{k}]") for k, v in enumerate(values)]


def _counterexample(net: Network, where: Any, k: int, bound: Fraction, sign: int) -> tuple[tuple[Fraction, ...], int, Fraction]:
    """An exact point where output k passes ``bound`` (``sign`` +1: above it, −1: below):
    the LP optimum, or along an unbounded ray from a region's point far enough."""
    point, ray = where
    if ray is not None:
        base = net.evaluate(point)[k]
        rate = net.evaluate([p + r for p, r in zip(point, ray)])[k] - base
        t = max(Fraction(0), (bound - base) / rate) + 1
        point = tuple(p + t * r for p, r in zip(point, ray))
    return tuple(point), k, net.evaluate(point)[k]


def output_range(net: Network, domain: Domain | None) -> tuple[
    tuple[Fraction | None, ...], tuple[Fraction | None, ...], list[Any], list[Any], int
]:
    """Each output's exact minimum and maximum over the domain (None when unbounded), and
    where each is attained (``(point, None)``, or ``(point, ray)`` along which it grows
    without bound), from one exact LP per region, output and side over the region graph;
    and the number of regions. (The one place the oracle computes a range: the
    verification issue's ``range`` can replace it.)"""
    from .polyhedra import lp_max
    from .regions import enumerate_regions

    graph = enumerate_regions(net, domain)
    m = net.output_dim
    best: list[list[Any]] = [[None] * m, [None] * m]  # [min side, max side][output]
    where: list[list[Any]] = [[None] * m, [None] * m]
    unbounded = [[False] * m, [False] * m]
    for r in graph.regions:
        for k in range(m):
            for side, sign in ((0, -1), (1, 1)):
                if unbounded[side][k]:
                    continue
                c = [sign * v for v in r.jacobian[k]]
                res = lp_max(c, r.A, r.b, point=r.witness)
                if res.status == "unbounded":
                    unbounded[side][k] = True
                    where[side][k] = (r.witness, res.ray)
                    best[side][k] = None
                    continue
                value = sign * (res.value + sign * r.offset[k])
                if best[side][k] is None or (value - best[side][k]) * sign > 0:
                    best[side][k] = value
                    where[side][k] = (res.point, None)
    lows = tuple(None if unbounded[0][k] else best[0][k] for k in range(m))
    highs = tuple(None if unbounded[1][k] else best[1][k] for k in range(m))
    return lows, highs, where[0], where[1], graph.activation_regions

