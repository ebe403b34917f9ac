"""``output_range(net, domain, objective)``: the exact maximum and minimum of a linear
function of the outputs over a bounded box or polyhedron, each with a rational point
attaining it (SPEC §5, ``exactrelu range``).

The maximum is found by rounds of the property search (`search.search`): with the best
value v found so far, the property "``c·f(x) > v`` somewhere" is either refuted — then v
is the maximum, and the search's tree is a certificate that nothing is larger — or
violated at some x, whose activation region is then maximised exactly (an exact LP on the
region: its optimal vertex), raising v. Each round ends on a region's maximum, so the
rounds end. The minimum is the maximum of ``−c``.

>>> from exactrelu.core.network import Network, affine, activation
>>> from exactrelu.core.domain import Domain
>>> net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])
>>> r = output_range(net, Domain.from_box([["-1", "2"]]), [Fraction(1)])
>>> r.max, r.argmax, r.min, r.argmin
(Fraction(2, 1), (Fraction(2, 1),), Fraction(0, 1), (Fraction(0, 1),))
>>> parse_objective("y0 - 2*y1 + 1/2", 2)
((Fraction(1, 1), Fraction(-2, 1)), Fraction(1, 2))
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

from ..core.domain import Domain
from ..core.errors import InputError, LimitReached
from ..core.network import Network
from ..core.numbers import format_number, parse_number
from .formula import Atom, Group
from .propagation import Model
from .prove import input_set
from .search import Options, SearchLimit, region_maximum, search

_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?:/\d+)?"
_TERM = re.compile(r"\s*([+-])\s*(" + _NUM + r")?\s*(\*?\s*y(\d+)(?:\s*/\s*(\d+))?)?\s*")


def parse_objective(text: str, outputs: int, path: str = "--objective") -> tuple[tuple[Fraction, ...], Fraction]:
    """A linear expression in ``y0, y1, …`` (``2*y0 - y1 + 1/2``, ``"1/2 y0"``) as (coefficients, constant)."""
    coef = [Fraction(0)] * outputs
    const = Fraction(0)
    body = text.strip()
    if body and body[0] not in "+-":
        body = "+" + body
    pos = 0
    while pos < len(body):
        m = _TERM.match(body, pos)
        if m is None or m.end() == pos or (m.group(2) is None and m.group(3) is None):
            raise InputError(f"expected a linear expression in y0, y1, … like '2*y0 - y1 + 1/2', got {text!r}", path=path)
        sign = -1 if m.group(1) == "-" else 1
        value = parse_number(m.group(2), path) if m.group(2) else Fraction(1)
        if m.group(3) is None:
            const += sign * value
        else:
            i = int(m.group(4))
            if i >= outputs:
                raise InputError(f"y{i} does not exist: the network has {outputs} outputs (y0 … y{outputs - 1})", path=path)
            div = int(m.group(5)) if m.group(5) else 1
            if div == 0:
                raise InputError(f"division by zero in {text!r}", path=path)
            coef[i] += sign * value / div
        pos = m.end()
    if not body:
        raise InputError("expected a linear expression in y0, y1, …", path=path)
    return tuple(coef), const


@dataclass(frozen=True)
class RangeResult:
    """The exact max and min of ``c·f(x) + d`` over the domain, the points attaining them,
    and (when asked for) certificates that nothing is larger / smaller."""

    objective: tuple[Fraction, ...]
    constant: Fraction
    max: Fraction
    argmax: tuple[Fraction, ...]
    min: Fraction
    argmin: tuple[Fraction, ...]
    guarantee: str = "exact"
    certificates: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    diagnostics: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def value(self) -> tuple[Fraction, Fraction]:
        """``(min, max)``."""
        return self.min, self.max

    def to_json(self) -> dict[str, Any]:
        return {
            "max": format_number(self.max),
            "max_float": float(self.max),
            "min": format_number(self.min),
            "min_float": float(self.min),
            "argmax": [format_number(v) for v in self.argmax],
            "argmin": [format_number(v) for v in self.argmin],
            "guarantee": self.guarantee,
        }


def _domain_atoms(domain: Domain, n: int) -> tuple[Atom, ...]:
    return tuple(Atom(tuple(row), (), -b) for row, b in zip(domain.A, domain.b)) if domain.A else ()


def _maximum(
    m: Model, box: Any, atoms: tuple[Atom, ...], c: Sequence[Fraction], opts: Options, certificate: bool
) -> tuple[Fraction, tuple[Fraction, ...], dict[str, Any] | None, dict[str, int]]:
    """max of c·f(x) over the set, a maximiser, and the final round's tree."""
    k = m.output_dim
    n = m.input_dim
    neg = tuple(-v for v in c)
    # start from the centre's region
    centre = tuple((lo + hi) / 2 for lo, hi in box)
    x, value = region_maximum(m, box, atoms, neg, centre)
    rounds = 0
    nodes = 0
    while True:
        rounds += 1
        above = Atom((Fraction(0),) * n, neg, value, True)  # value - c·y < 0
        out = search(m, box, atoms, [(above,)], opts)
        nodes += out.stats.nodes
        if out.counterexample is None:
            tree = out.tree if certificate else None
            return value, x, tree, {"rounds": rounds, "nodes": nodes}
        x1 = out.counterexample[0]
        x, value = region_maximum(m, box, atoms, neg, x1)


def output_range(
    net: Network,
    domain: Domain,
    objective: Sequence[Fraction],
    constant: Fraction = Fraction(0),
    *,
    time_limit: float | None = None,
    max_nodes: int | None = None,
    certificate: bool = False,
) -> RangeResult:
    """The exact range of ``objective·f(x) + constant`` over ``domain`` (bounded; module docstring)."""
    n = net.input_dim
    if len(objective) != net.output_dim:
        raise InputError(f"expected {net.output_dim} objective coefficients, got {len(objective)}", path="--objective")
    if domain.is_whole:
        raise InputError("range needs a bounded domain (a box or a bounded polyhedron); the case has none", path="domain")
    t0 = time.perf_counter()
    atoms = _domain_atoms(domain, n)
    s = input_set(Group(atoms, ((),), (0,)), n)
    if s is None:
        raise InputError("the domain is empty", path="domain")
    m = Model.of(net)
    opts = Options(time_limit=time_limit, max_nodes=max_nodes)
    try:
        hi, argmax, tree_hi, d_hi = _maximum(m, s.box, atoms, tuple(objective), opts, certificate)
        left = None if time_limit is None else max(0.0, time_limit - (time.perf_counter() - t0))
        opts = Options(time_limit=left, max_nodes=max_nodes)
        lo_neg, argmin, tree_lo, d_lo = _maximum(m, s.box, atoms, tuple(-v for v in objective), opts, certificate)
    except SearchLimit as e:
        raise LimitReached(str(e), partial=None) from None
    certs = {}
    if certificate:
        certs = {"max": tree_hi, "min": tree_lo}
    diag = {"rounds": d_hi["rounds"] + d_lo["rounds"], "nodes": d_hi["nodes"] + d_lo["nodes"], "time_s": round(time.perf_counter() - t0, 4)}
    return RangeResult(tuple(objective), constant, hi + constant, argmax, -lo_neg + constant, argmin, "exact", certs, diag)
