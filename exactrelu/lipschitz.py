"""The exact Lipschitz constant of a PL network over a domain, for ℓ1, ℓ2 and ℓ∞.

``L = max_R ‖J_R‖`` over the activation regions R of the domain (SPEC §3). Rather than
visiting every region, a depth-first branch and bound runs over activation-pattern
prefixes, neuron by neuron and layer by layer. A node is a prefix whose region (the
points of the domain's interior where the decided neurons sit strictly inside their
chosen pieces) is nonempty, shown by an exact rational point strictly inside it:

- the branch holding the parent's point needs nothing more;
- over a box, a piece that the neuron's exact affine pre-activation range over the box
  misses is empty with no further work;
- in the plane (any domain, R² included), the region is kept as an exact convex polygon in
  homogeneous coordinates (vertices ``(X, Y, W)``, ``W = 0`` for a direction to infinity),
  started from the four closed quadrants cut by the domain, and cut by the new half-planes:
  no LP at all (empty when its vertices span no cone of dimension 3, else the sum of its
  vertices is an interior point);
- otherwise one float LP proposes a point or, through its duals, a Motzkin certificate
  of emptiness, either checked in exact rationals; when neither checks, the exact method
  of `exactrelu.polyhedra.lp.interior_point` decides.

A neuron with one choice makes no child node: it is decided in place when its
pre-activation is constant, or, in the plane, when the signs of ``z − t`` at the polygon's
vertices (``t`` each knot; a float decides a sign only when it is nonzero, the rational
otherwise) show that one piece alone meets the region, which then stays as it is (most
neurons of a layer, once the region is small). At the start of a layer the pre-activations
at all vertices come from one exact matrix product (`_vertex_values`).

A node is pruned when a bound on every Jacobian below it cannot beat the best value found:
the pre-activation gradients ``G`` of the current layer are exact, and backwards interval
arithmetic encloses ``W_ℓ D … W_{k+1} D_k`` with each undecided neuron's slope in the hull
of the slopes it can reach (over a box: the pieces its interval pre-activation range
meets), so ``|J| <= max(|lo|, |hi|)`` entrywise (`_IntervalBound`). Pruning skips only
subtrees that cannot hold a larger norm, so the answer is exact: a maximum over
full-dimensional regions, with a rational witness point inside a region attaining it.

ℓ1 and ℓ∞ values are rational; ℓ2 values are algebraic (`exactrelu.core.norms.Algebraic`),
compared exactly; an ℓ2 candidate is discarded without any eigenvalue when
``lo²·I − JᵀJ`` is positive definite, lo a rational below the best value.

>>> from exactrelu.constructions import sawtooth_network
>>> res = lipschitz(sawtooth_network(1), "inf")
>>> res.value.value, res.witness, res.jacobian
(Fraction(3, 2), (Fraction(3, 4),), ((Fraction(3, 2),),))
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable

from flint import fmpq, fmpq_mat

from .core.algebraic import Algebraic, lower_rational
from .core.domain import Domain
from .core.errors import InputError, LimitReached
from .core.network import Network
from .core.norms import below_in_l2, norm_1, norm_2, norm_inf, parse_norm
from .core.numbers import matrix_fractions, to_fmpq, to_fraction
from .core.results import CERTIFIED, EXACT, Quantity
from .polyhedra.lp import LPStats, interior_point


@dataclass(frozen=True)
class LipschitzResult:
    """The Lipschitz constant of a network over a domain, for one norm.

    ``value``: the `Quantity` (exact, or a certified interval when a limit stopped the
    search); ``exact``: the number itself (`Fraction`, or `Algebraic` for ℓ2);
    ``witness``: a rational point inside a region attaining it; ``pattern``: that region's
    states (``2*piece`` per neuron, odd for a neuron whose pre-activation is constant at a
    knot); ``jacobian``: its Jacobian; ``diagnostics``: nodes visited, pruned, infeasible,
    LPs, leaves, time.
    """

    norm: str
    value: Quantity
    exact: Fraction | Algebraic | None
    witness: tuple[Fraction, ...] | None
    pattern: tuple[tuple[int, ...], ...] | None
    jacobian: tuple[tuple[Fraction, ...], ...] | None
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def guarantee(self) -> str:
        return self.value.guarantee

    def to_json(self) -> dict[str, Any]:
        """The SPEC's keys: norm, value, value_float, interval (ℓ2), witness, and more."""
        from .core.numbers import format_number

        doc: dict[str, Any] = {"norm": self.norm}
        q = self.value
        doc.update(q.to_json("value"))
        doc["guarantee"] = q.guarantee
        if isinstance(self.exact, Algebraic) and not self.exact.is_rational:
            doc["polynomial"] = list(self.exact.poly)
        if q.interval is not None:
            doc["interval"] = doc.pop("value_interval")
        elif self.norm == "2" and isinstance(q.value, Fraction):  # SPEC §4: an interval for ℓ2, rational too
            doc["interval"] = [format_number(q.value)] * 2
        doc["witness"] = None if self.witness is None else [format_number(v) for v in self.witness]
        doc["pattern"] = None if self.pattern is None else [list(p) for p in self.pattern]
        doc["jacobian"] = None if self.jacobian is None else [[format_number(v) for v in r] for r in self.jacobian]
        doc["diagnostics"] = self.diagnostics
        return doc


@dataclass
class _Node:
    layer: int  # 0-based hidden layer being decided
    neuron: int  # next neuron to decide in that layer
    rows: list[tuple[list[fmpq], fmpq]]  # strict rows a·x < beta of the prefix (empty in the plane)
    point: list[fmpq]  # a rational point strictly inside the prefix's region
    G: fmpq_mat  # pre-activation gradients of the layer (width × n)
    g: list[fmpq]  # pre-activation offsets
    slopes: list[fmpq]  # decided slopes of the layer
    intercepts: list[fmpq]
    states: list[int]
    done: tuple[tuple[int, ...], ...]  # states of completed layers
    bound: Any
    B: Any = None  # the interval enclosure of the Jacobians below (see `_IntervalBound`)
    polygon: list[tuple[fmpq, fmpq, fmpq]] | None = None  # the region's closure (plane), homogeneous
    hulls: list[tuple[fmpq, fmpq]] | None = None  # slope hulls of the layer's neurons over the region
    meets: list[list[int] | None] | None = None  # per neuron, the pieces meeting the layer's start region


def _value_norm(norm: str) -> Callable[[fmpq_mat], Fraction | Algebraic]:
    return {"1": norm_1, "inf": norm_inf, "2": norm_2}[norm]


def lipschitz(
    net: Network,
    norm: str = "inf",
    domain: Domain | None = None,
    *,
    max_nodes: int | None = None,
    time_limit: float | None = None,
    prune: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> LipschitzResult:
    """The exact Lipschitz constant ``L_p`` of ``net`` over ``domain`` (all of R^n by default).

    ``prune=False`` visits every region (for comparison). ``max_nodes`` / ``time_limit``
    raise `LimitReached` whose ``partial`` is a `LipschitzResult` with a certified interval
    [best found, largest bound still open]. ``progress(nodes, open)`` is called at every
    search node (the CLI's progress line).

    >>> from exactrelu.core.network import Network, affine, activation
    >>> net = Network.from_layers(2, [affine([[1, 1], [1, -1]]), activation("relu"), affine([[1, 1]])])
    >>> [str(lipschitz(net, p).value.value) for p in ("1", "inf")]
    ['2', '2']
    >>> lipschitz(net, "2").value.value                     # J = [2, 0] on x > |y|
    Fraction(2, 1)
    >>> one = Network.from_layers(2, [affine([[1, 1]]), activation("relu"), affine([[1]])])
    >>> lipschitz(one, "2").exact.text()
    'the root of x**2 - 2 in [1, 2]'
    """
    norm = parse_norm(norm)
    domain = domain if domain is not None else Domain.whole(net.input_dim)
    if domain.dim != net.input_dim:
        raise InputError(f"expected a domain of dimension {net.input_dim}, got {domain.dim}", path="domain")
    return _Search(net, norm, domain, prune=prune, max_nodes=max_nodes, time_limit=time_limit,
                   progress=progress).run()


# -- the search in parts: subtrees as independent tasks (`exactrelu.distributed.lipschitz`) --


@dataclass(frozen=True)
class Subtree:
    """A node of the search named by its path from the start: the root's index and the
    states decided on the way (the completed layers', then the current layer's);
    ``bound``: a rational bound on ‖J‖ for every region below, or None."""

    root: int
    done: tuple[tuple[int, ...], ...]
    states: tuple[int, ...]
    bound: Fraction | None = None


@dataclass(frozen=True)
class SubtreeResult:
    """The best region of a subtree, first in the depth-first order among equals (every
    field None when all of them were pruned by a larger value found elsewhere)."""

    value: Fraction | Algebraic | None
    lower: Fraction | None
    witness: tuple[Fraction, ...] | None
    pattern: tuple[tuple[int, ...], ...] | None
    jacobian: tuple[tuple[Fraction, ...], ...] | None
    diagnostics: dict[str, Any] = field(default_factory=dict)


def split_search(net: Network, norm: str, domain: Domain, at_least: int, *, prune: bool = True,
                 time_limit: float | None = None) -> tuple[list[Subtree], SubtreeResult]:
    """The top of the search tree expanded level by level until it has ``at_least`` open
    nodes (or only leaves): subtrees whose regions, one subtree after the other, come in the
    search's depth-first order; and the first region of that order (a first incumbent).
    Past ``time_limit`` seconds: `LimitReached` with the bracket of the search so far.

    Every tie is broken by that order (the first region of largest norm wins), so the
    maximum of the subtrees' results (`best_of`) is what `lipschitz` finds, field for field.

    >>> from exactrelu.constructions import sawtooth_network
    >>> net, dom = sawtooth_network(2), Domain.from_box([["0", "1"]])
    >>> parts, first = split_search(net, "inf", dom, 4)
    >>> results = [search_subtree(net, "inf", dom, s, outside=first.lower) for s in parts]
    >>> best = results[best_of(results)]
    >>> whole = lipschitz(net, "inf", dom)
    >>> len(parts) >= 4, (best.value, best.witness, best.pattern) == (whole.exact, whole.witness, whole.pattern)
    (True, True)
    """
    norm = parse_norm(norm)
    dive = _Search(net, norm, domain, prune=prune, max_nodes=None, time_limit=time_limit)
    dive._search(dive._roots(), until_leaf=True)
    s = _Search(net, norm, domain, prune=prune, max_nodes=None, time_limit=time_limit)
    s.start = dive.start  # one clock for the limit
    frontier = list(enumerate(s._roots()))[::-1]  # depth-first order: the last pushed first
    leaf = len(s.chain.acts)
    while len(frontier) < at_least and any(node.layer < leaf for _, node in frontier):
        deeper = []
        for r, node in frontier:
            if node.layer == leaf:
                deeper.append((r, node))
                continue
            s._check_limits(node, [nd for _, nd in frontier])
            deeper += [(r, child) for child in s._expand(node)[::-1]]
        frontier = deeper
    parts = [Subtree(r, tuple(node.done), tuple(node.states), s._upper(node)) for r, node in frontier]
    return parts, _subtree_result(dive)


def search_subtree(
    net: Network, norm: str, domain: Domain, subtree: Subtree, *, outside: Fraction | None = None,
    refresh: Callable[[], Fraction | None] | None = None, prune: bool = True, max_nodes: int | None = None,
    time_limit: float | None = None,
) -> SubtreeResult:
    """The best region below ``subtree`` (a pure function of its arguments but for the work
    done): ``outside`` is a lower bound on L found elsewhere, and ``refresh()``, asked now
    and then, a newer one; both prune strictly (a tie below may come first in the order).
    Limits raise `LimitReached` as `lipschitz` does, for this subtree."""
    s = _Search(net, parse_norm(norm), domain, prune=prune, max_nodes=max_nodes, time_limit=time_limit)
    node = s._node_at(subtree)
    s._raise_outside(outside)
    s.refresh = refresh
    s._search([node])
    return _subtree_result(s)


def best_of(results: list[SubtreeResult]) -> int | None:
    """The index of the best result: the largest value, the first in the order on ties."""
    best = None
    for i, r in enumerate(results):
        if r.value is not None and (best is None or _compare(r.value, results[best].value) > 0):
            best = i
    return best


def exact_result(norm: str, best: SubtreeResult) -> LipschitzResult:
    """The result of a finished search whose best region is ``best``."""
    return LipschitzResult(norm, _quantity(best.value), best.value, best.witness, best.pattern, best.jacobian,
                           best.diagnostics)


def partial_result(norm: str, best: SubtreeResult, uppers: list[Fraction | None]) -> LipschitzResult:
    """What a limit leaves: the certified bracket ``[lower, upper]`` of L, ``lower`` the best
    value's (a rational within a relative 2⁻³⁰ of it), ``upper`` the largest of ``uppers``
    (bounds on the regions still open), or the best value's upper end, if larger; with no
    bound on some open part (``prune=False``), a certified lower bound only."""
    lo = best.lower if best.value is not None else Fraction(0)
    if uppers and all(u is not None for u in uppers):
        upper = max(uppers)  # type: ignore[type-var]
        if best.value is not None:
            upper = max(upper, _tight_upper(best.value))
        q = Quantity(upper, CERTIFIED, upper=True, interval=(lo, upper))
    else:
        q = Quantity(lo, CERTIFIED, lower=True)
    return LipschitzResult(norm, q, best.value, best.witness, best.pattern, best.jacobian, best.diagnostics)


def _subtree_result(s: "_Search") -> SubtreeResult:
    b = s.best
    return SubtreeResult(
        b.value, b.lower, None if b.point is None else tuple(to_fraction(v) for v in b.point), b.states,
        None if b.J is None else matrix_fractions(b.J), _diagnostics(s.counters, s.stats, s.start),
    )


@dataclass
class _Incumbent:
    """The best region found so far: its norm ``value``, a rational ``lower <= value``, a
    point inside it, its states and Jacobian; ``threshold`` is ``lower`` (squared for ℓ2)
    as an fmpq: a node whose bound is at most it holds nothing larger."""

    value: Fraction | Algebraic | None = None
    lower: Fraction | None = None
    point: list[fmpq] | None = None
    states: tuple[tuple[int, ...], ...] | None = None
    J: fmpq_mat | None = None
    threshold: fmpq | None = None


class _Search:
    """One branch and bound over activation-pattern prefixes (see the module docstring).

    Its state is its attributes: the fixed inputs (``chain``, ``pieces``, ``box_q``,
    ``dom_rows``, ``ibound``), the incumbent ``best``, the ``counters`` and the LP
    ``stats``. `run` pops nodes from a stack; each node goes through the named steps
    `_decide_forced` (neurons with one choice, in place), `_next_layer` (a completed
    layer) or `_branch` (one child per piece of the next neuron), and leaves are offered
    to the incumbent by `_offer_leaf`.
    """

    def __init__(self, net: Network, norm: str, domain: Domain, *, prune: bool, max_nodes: int | None,
                 time_limit: float | None, progress: Callable[[int, int], None] | None = None) -> None:
        self.start = time.perf_counter()
        self.progress = progress
        self.norm = norm
        self.prune = prune
        self.max_nodes = max_nodes
        self.time_limit = time_limit
        self.stats = LPStats()
        self.chain = net.chain
        self.n = net.input_dim
        self.domain = domain
        self.dom_rows = [([to_fmpq(v) for v in row], to_fmpq(bi)) for row, bi in zip(domain.A, domain.b)]
        self.evaluate = _value_norm(norm)
        self.ibound = _IntervalBound(net, domain, norm) if prune else None
        self.counters = {"nodes": 0, "pruned": 0, "infeasible": 0, "leaves": 0}
        self.best = _Incumbent()
        self.pieces = [[_exact_pieces(fn) for fn in fns] for fns in self.chain.acts]
        self.box_q = [(to_fmpq(l), to_fmpq(u)) for l, u in domain.box] if domain.box is not None else None
        self.outside: fmpq | None = None  # a threshold found by other searches (`_raise_outside`)
        self.refresh: Callable[[], Fraction | None] | None = None  # asked for one now and then

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> LipschitzResult:
        self._search(self._roots())
        return self._result()

    def _search(self, stack: list[_Node], *, until_leaf: bool = False) -> None:
        """Depth first from ``stack`` (the last node first); ``until_leaf``: stop at the
        first leaf offered (a dive for a first incumbent)."""
        while stack and not (until_leaf and self.counters["leaves"]):
            node = stack.pop()
            if self._pruned(node):
                continue
            self.counters["nodes"] += 1
            if self.progress is not None:
                self.progress(self.counters["nodes"], len(stack))
            self._check_limits(node, stack)
            if self.refresh is not None and self.counters["nodes"] % _REFRESH_EVERY == 0:
                self._raise_outside(self.refresh())
            stack.extend(self._expand(node))

    def _expand(self, node: _Node) -> list[_Node]:
        """One step on a node: a leaf is offered (no children); otherwise the forced neurons
        are decided, then the children to push (the last is searched first)."""
        if node.layer == len(self.chain.acts):
            self._offer_leaf(node.G, node.point, node.done)
            return []
        meet = self._decide_forced(node)
        if self._pruned(node):
            return []
        if node.neuron == len(self.chain.acts[node.layer]):
            return [self._next_layer(node)]
        return self._branch(node, meet)

    def _node_at(self, sub: Subtree) -> _Node:
        """The node ``sub`` names, reached again from its root by the same steps."""
        node = self._roots()[sub.root]
        path = sub.done + (sub.states,)
        while (node.done, tuple(node.states)) != (sub.done, sub.states):
            node = next(c for c in self._expand(node) if _on_path(c.done + (tuple(c.states),), path))
        return node

    def _result(self) -> LipschitzResult:
        return exact_result(self.norm, _subtree_result(self))

    def _root_point(self) -> list[fmpq]:
        """A rational point strictly inside the domain: a box's centre, else by an exact LP."""
        if self.domain.box is not None:  # lo < hi on every axis
            return [to_fmpq((lo + hi) / 2) for lo, hi in self.domain.box]
        root = interior_point([r for r, _ in self.dom_rows], [b for _, b in self.dom_rows], dim=self.n,
                              stats=self.stats)
        if not root.nonempty:
            raise InputError("the domain has an empty interior", path="domain")
        return [to_fmpq(v) for v in root.point]

    def _roots(self) -> list[_Node]:
        """The start nodes: the whole domain, or in the plane one polygon per start piece
        (the box, or the four closed quadrants cut by the domain)."""
        x0 = self._root_point()
        G, g = _layer_start(self.chain, 0, _identity(self.n), [fmpq(0)] * self.n)
        if self.n != 2:
            B0, hulls0, _ = self._open_layer(0, G, g, None)
            return [_Node(0, 0, [], x0, G, g, [], [], [], (), None, B0, None, hulls0)]
        one, zero = fmpq(1), fmpq(0)
        if self.box_q is not None:
            (l0, u0), (l1, u1) = self.box_q
            starts = [[(l0, l1, one), (u0, l1, one), (u0, u1, one), (l0, u1, one)]]
        else:  # the closed quadrants cover the plane, each a pointed cone
            starts = [[(zero, zero, one), (fmpq(sx), zero, zero), (zero, fmpq(sy), zero)]
                      for sx, sy in ((1, 1), (-1, 1), (-1, -1), (1, -1))]
        roots = []
        for start_polygon in starts:
            polygon = _clip(start_polygon, self.dom_rows)
            if polygon is not None:
                B0, hulls0, meets0 = self._open_layer(0, G, g, polygon)
                bound0 = self.ibound.value(B0) if B0 is not None else None
                roots.append(_Node(0, 0, [], _inside(polygon), G, g, [], [], [], (), bound0, B0, polygon,
                                   hulls0, meets0))
        return roots

    def _beaten(self, bound: Any) -> bool:
        """Whether a node bound cannot beat the incumbent: at most this search's own (any
        leaf below comes later in the depth-first order, so it loses a tie), or below
        ``outside``, a value another search found (strictly: a tie below may come first)."""
        return (self.best.threshold is not None and bound <= self.best.threshold
                or self.outside is not None and bound < self.outside)

    def _raise_outside(self, lower: Fraction | None) -> None:
        """Prune with ``lower`` too, a rational lower bound on L found elsewhere."""
        if lower is not None:
            q = to_fmpq(lower)
            q = q * q if self.norm == "2" else q
            if self.outside is None or q > self.outside:
                self.outside = q

    def _pruned(self, node: _Node) -> bool:
        """Skip (and count) a node whose bound cannot beat the incumbent."""
        if self.prune and node.bound is not None and self._beaten(node.bound):
            self.counters["pruned"] += 1
            return True
        return False

    def _check_limits(self, node: _Node, stack: list[_Node]) -> None:
        """Raise `LimitReached` with `_partial` when a node or time limit is passed."""
        done = self.counters["nodes"] - 1
        if self.max_nodes is not None and done >= self.max_nodes:
            message = f"node limit of {self.max_nodes} reached"
        elif self.time_limit is not None and time.perf_counter() - self.start > self.time_limit:
            message = f"time limit of {self.time_limit:g} s reached after {done} nodes"
        else:
            return
        raise LimitReached(message, partial=self._partial(stack + [node]))

    def _partial(self, open_nodes: list[_Node]) -> LipschitzResult:
        """What a limit leaves (`partial_result`), the open nodes' bounds the upper end."""
        return partial_result(self.norm, _subtree_result(self), [self._upper(nd) for nd in open_nodes])

    def _upper(self, node: _Node) -> Fraction | None:
        """A rational bound on the norm of every Jacobian below a node (None without one)."""
        bound = node.bound if node.bound is not None else self.ibound.value(node.B) if node.B is not None else None
        if bound is None:
            return None
        return to_fraction(bound) if self.norm != "2" else _sqrt_upper(to_fraction(bound))

    def _offer_leaf(self, J: fmpq_mat, point: list[fmpq], states: tuple[tuple[int, ...], ...]) -> None:
        """A complete pattern: its Jacobian replaces the incumbent when its norm is larger."""
        self.counters["leaves"] += 1
        best = self.best
        if self.norm == "2" and best.value is not None and best.lower > 0 and below_in_l2(J, best.lower):
            return
        value = self.evaluate(J)
        if best.value is None or _compare(value, best.value) > 0:
            lower = _tight_lower(value)
            lo = to_fmpq(lower)
            self.best = _Incumbent(value, lower, point, states, J, lo * lo if self.norm == "2" else lo)

    # -- the steps ------------------------------------------------------------------------

    def _open_layer(self, layer: int, G: fmpq_mat, g: list[fmpq], polygon: Any) -> tuple[Any, Any, Any]:
        """The bound enclosure at the start of a layer, each neuron's slope hull over the
        region (the pieces its exact pre-activation range there meets) and, in the plane,
        those pieces (None for a neuron whose pre-activation is constant)."""
        if layer >= len(self.chain.acts):
            return None, None, None
        n, box_q, ibound = self.n, self.box_q, self.ibound
        pieces = self.pieces[layer]
        if polygon is not None:
            values = _vertex_values(polygon, G, g)
            Ws = [v[2] for v in polygon]
            meets = [None if G[j, 0] == 0 and G[j, 1] == 0 else _polygon_meets(values[j], Ws, knots)
                     for j, (knots, _, _) in enumerate(pieces)]
        else:
            ranges = [_affine_range([G[j, k] for k in range(n)], g[j], box_q) if box_q is not None
                      and any(G[j, k] != 0 for k in range(n)) else None for j in range(G.nrows())]
            meets = [None if r is None else [p for p in range(len(slopes)) if _piece_meets(knots, p, r)]
                     for r, (knots, slopes, _) in zip(ranges, pieces)]
        if ibound is None:
            return None, None, meets if polygon is not None else None
        hulls = []
        for j, (knots, slopes, _) in enumerate(pieces):
            if meets[j] is None:
                hulls.append(ibound.hull[layer][j])
                continue
            meet = [slopes[p] for p in meets[j]]
            hulls.append((min(meet), max(meet)))
        B = ibound.start(layer, G, hulls)
        return B, hulls, meets if polygon is not None else None

    def _choices(self, node: _Node) -> tuple[int | None, list[int] | None]:
        """For the node's next neuron: its state when it has one choice (a constant
        pre-activation, or in the plane one piece meeting the region), else None; and in
        the plane the pieces meeting the region (None for a constant pre-activation, and
        off the plane)."""
        j = node.neuron
        knots = self.pieces[node.layer][j][0]
        meet = node.meets[j] if node.meets is not None else None
        if meet is not None and len(meet) == 1:
            return 2 * meet[0], meet
        a = [node.G[j, k] for k in range(self.n)]
        if all(v == 0 for v in a):
            return _state(knots, node.g[j]), None
        if node.polygon is None:
            return None, None
        beta = node.g[j]
        meet = _polygon_meets([a[0] * X + a[1] * Y + beta * W for X, Y, W in node.polygon],
                              [v[2] for v in node.polygon], knots)
        return (2 * meet[0] if len(meet) == 1 else None), meet

    def _decide_forced(self, node: _Node) -> list[int] | None:
        """Decide in place the neurons with one choice (`_choices`): either leaves the
        region and its point as they are, so no child node is needed; the bound enclosure
        changes only when the neuron had two slopes over the layer's start region. Returns
        the pieces meeting the region of the first neuron left undecided (in the plane)."""
        fns = self.chain.acts[node.layer]
        while node.neuron < len(fns):
            j = node.neuron
            st, meet = self._choices(node)
            if st is None:
                return meet
            _, slopes, intercepts = self.pieces[node.layer][j]
            self.counters["nodes"] += 1  # the prefix this decision makes
            if node.B is not None and meet is not None and node.hulls[j][0] != node.hulls[j][1]:
                # forced only within this region, not over the layer's start region
                node.B = self.ibound.decide(node.B, node.layer, j, slopes[st // 2],
                                            [node.G[j, k] for k in range(self.n)], node.hulls[j])
                node.bound = self.ibound.value(node.B)
                if self.prune and self._beaten(node.bound):
                    return None
            node.slopes.append(slopes[st // 2])
            node.intercepts.append(intercepts[st // 2])
            node.states.append(st)
            node.neuron += 1
        return None

    def _next_layer(self, node: _Node) -> _Node:
        """A completed layer: the node of the next layer (or a leaf), with the smaller of
        the two bounds on every Jacobian below."""
        M = _layer_map(node)
        c = [s * gv + ic for s, gv, ic in zip(node.slopes, node.g, node.intercepts)]
        G, g = _layer_start(self.chain, node.layer + 1, M, c)
        done = node.done + (tuple(node.states),)
        B1, hulls1, meets1 = self._open_layer(node.layer + 1, G, g, node.polygon)
        bound = node.bound
        if B1 is not None:  # both bound every Jacobian below: keep the smaller
            b1 = self.ibound.value(B1)
            bound = b1 if bound is None or b1 < bound else bound
        return _Node(node.layer + 1, 0, node.rows, node.point, G, g, [], [], [], done, bound, B1, node.polygon,
                     hulls1, meets1)

    def _branch(self, node: _Node, meet: list[int] | None) -> list[_Node]:
        """The children of a node, one per piece of its next neuron that meets its region
        (in the plane ``meet``, from `_decide_forced`; elsewhere shown by a point inside,
        exactly), to be pushed in order (the last is searched first: with pruning, the one
        of largest bound)."""
        j, n = node.neuron, self.n
        knots, slopes, intercepts = self.pieces[node.layer][j]
        a = [node.G[j, k] for k in range(n)]
        beta = node.g[j]
        here = _state(knots, _dot(a, node.point) + beta)
        if node.polygon is not None:  # the pieces meeting the region (at least two)
            candidates = meet
        else:
            z_range = _affine_range(a, beta, self.box_q) if self.box_q is not None else None
            candidates = [p for p in range(len(slopes)) if z_range is None or _piece_meets(knots, p, z_range)]
            self.counters["infeasible"] += len(slopes) - len(candidates)
        proposals = []
        for piece in candidates:
            B = self.ibound.decide(node.B, node.layer, j, slopes[piece], a, node.hulls[j]) if node.B is not None else None
            b = self.ibound.value(B) if B is not None else None
            new_rows = []
            if piece > 0:
                new_rows.append(([-v for v in a], beta - knots[piece - 1]))
            if piece < len(knots):
                new_rows.append((a, knots[piece] - beta))
            proposals.append((b, piece, new_rows, B))
        if self.prune:
            proposals.sort(key=lambda ch: ch[0] if ch[0] is not None else 0)
        children = []
        for b, piece, new_rows, B in proposals:
            if self.prune and b is not None and self._beaten(b):
                self.counters["pruned"] += 1
                continue
            polygon = None
            if node.polygon is not None:
                polygon = _clip(node.polygon, new_rows)
                if polygon is None:
                    self.counters["infeasible"] += 1
                    continue
            if here == 2 * piece:
                point = node.point
            elif polygon is not None:
                point = _inside(polygon)
            else:
                rows = self.dom_rows + node.rows + new_rows
                found = _interior_1d(rows) if n == 1 else _interior(rows, n, self.stats)
                if found is None:
                    self.counters["infeasible"] += 1
                    continue
                point = found
            child = _child(node, [] if polygon is not None else new_rows, point, slopes[piece], intercepts[piece],
                           2 * piece, b, B)
            child.polygon = polygon
            children.append(child)
        return children


def _interior(rows: list[tuple[list[fmpq], fmpq]], n: int, stats: LPStats) -> list[fmpq] | None:
    """A rational point strictly inside all rows, or None when there is none, decided exactly.

    One float LP (HiGHS: the largest slack t of ``a·x + t‖a‖ <= beta``, ``t <= 1``) proposes
    either a point (kept when it checks strictly, exactly) or, through its duals, a Motzkin
    certificate ``μ >= 0, Σμ = 1, Aᵀμ = 0, βᵀμ <= 0`` (kept when it checks exactly, after
    re-solving on its support in rationals). When neither checks, the exact method of
    `exactrelu.polyhedra.lp.interior_point` decides.
    """
    proposal = _float_proposal(rows, n, stats)
    if proposal is not None:
        kind, value = proposal
        if kind == "point" and all(_dot(a, value) < beta for a, beta in rows):
            return value
        if kind == "certificate" and _motzkin_holds(rows, value, n):
            return None
    res = interior_point([r for r, _ in rows], [v for _, v in rows], dim=n, stats=stats, propose=False)
    return [to_fmpq(v) for v in res.point] if res.nonempty else None


def _dot(a: list[fmpq], x: list[fmpq]) -> fmpq:
    total = fmpq(0)
    for u, v in zip(a, x):
        total += u * v
    return total


def _float_proposal(rows: list[tuple[list[fmpq], fmpq]], n: int, stats: LPStats) -> tuple[str, Any] | None:
    import numpy as np
    from scipy.optimize import linprog

    stats.float_lps += 1
    A = np.array([[float(v) for v in a] for a, _ in rows], dtype=float).reshape(len(rows), n)
    b = np.array([float(beta) for _, beta in rows], dtype=float)
    norms = np.sqrt((A * A).sum(axis=1))
    norms[norms == 0] = 1.0
    c = np.zeros(n + 1)
    c[-1] = -1.0
    try:
        res = linprog(c, A_ub=np.hstack([A, norms[:, None]]), b_ub=b, bounds=[(None, None)] * n + [(None, 1.0)],
                      method="highs")
    except ValueError:
        return None
    if res.status != 0:
        return None
    if -res.fun > 1e-9:
        point = []
        for v in res.x[:n]:
            f = Fraction(float(v)).limit_denominator(1 << 24)
            point.append(fmpq(f.numerator, f.denominator))
        return "point", point
    mu = -np.asarray(res.ineqlin.marginals)
    support = [i for i in range(len(rows)) if mu[i] > 1e-10]
    return ("certificate", support) if support else None


def _motzkin_holds(rows: list[tuple[list[fmpq], fmpq]], support: list[int], n: int) -> bool:
    """Solve ``Σ_S μ_i a_i = 0, Σ_S μ_i = 1`` exactly on the support; check μ >= 0 and βᵀμ <= 0."""
    k = len(support)
    M = fmpq_mat(n + 1, k + 1, [0] * ((n + 1) * (k + 1)))
    for col, i in enumerate(support):
        a = rows[i][0]
        for r in range(n):
            M[r, col] = a[r]
        M[n, col] = 1
    M[n, k] = 1
    R, rank = M.rref()
    mu = [fmpq(0)] * k
    for r in range(rank):
        lead = next(c for c in range(k + 1) if R[r, c] != 0)
        if lead == k:
            return False  # inconsistent
        mu[lead] = R[r, k]
    if any(v < 0 for v in mu) or sum(mu, fmpq(0)) != 1:
        return False
    for r in range(n):
        if sum((mu[c] * rows[i][0][r] for c, i in enumerate(support)), fmpq(0)) != 0:
            return False
    return sum((mu[c] * rows[i][1] for c, i in enumerate(support)), fmpq(0)) <= 0


def _clip(
    polygon: list[tuple[fmpq, fmpq, fmpq]], rows: list[tuple[list[fmpq], fmpq]]
) -> list[tuple[fmpq, fmpq, fmpq]] | None:
    """A convex polygon of the plane, in homogeneous coordinates (the extreme rays
    ``(X, Y, W)``, ``W >= 0``, of a pointed cone), cut by the half-planes ``a·x <= beta``
    (the closures of strict rows: ``a·(X, Y) − beta W <= 0``); None when what is left has no
    interior. Exact.

    >>> q = lambda *v: tuple(fmpq(x) for x in v)
    >>> square = [q(0, 0, 1), q(1, 0, 1), q(1, 1, 1), q(0, 1, 1)]
    >>> len(_clip(square, [([fmpq(1), fmpq(1)], fmpq(1))]))
    3
    >>> _clip(square, [([fmpq(1), fmpq(1)], fmpq(0))]) is None
    True
    >>> quadrant = [q(0, 0, 1), q(1, 0, 0), q(0, 1, 0)]        # x >= 0, y >= 0
    >>> _inside(_clip(quadrant, [([fmpq(-1), fmpq(0)], fmpq(-5))]))   # and x >= 5
    [6, 1]
    """
    for a, beta in rows:
        vals = [a[0] * X + a[1] * Y - beta * W for X, Y, W in polygon]
        out: list[tuple[fmpq, fmpq, fmpq]] = []
        k = len(polygon)
        for i in range(k):
            p, r = polygon[i], polygon[(i + 1) % k]
            vp, vr = vals[i], vals[(i + 1) % k]
            if vp <= 0:
                out.append(p)
            if (vp < 0 < vr) or (vr < 0 < vp):  # the edge's ray on the line: vr·p − vp·r
                ray = (tuple(vr * u - vp * w for u, w in zip(p, r)) if vp < 0 else
                       tuple(vp * w - vr * u for u, w in zip(p, r)))
                out.append(_normalise(ray))
        polygon = out
        if len(polygon) < 3:
            return None
    first = polygon[0]
    for i in range(1, len(polygon) - 1):
        if _det3(first, polygon[i], polygon[i + 1]) != 0:
            return polygon
    return None


def _normalise(ray: tuple[fmpq, ...]) -> tuple[fmpq, fmpq, fmpq]:
    """The same ray scaled to W = 1 (a point), or to max(|X|, |Y|) = 1 at infinity."""
    X, Y, W = ray
    scale = W if W != 0 else max(abs(X), abs(Y))
    return X / scale, Y / scale, W / scale


def _det3(p: tuple[fmpq, fmpq, fmpq], q: tuple[fmpq, fmpq, fmpq], r: tuple[fmpq, fmpq, fmpq]) -> fmpq:
    return p[0] * (q[1] * r[2] - q[2] * r[1]) - p[1] * (q[0] * r[2] - q[2] * r[0]) + p[2] * (q[0] * r[1] - q[1] * r[0])


def _inside(polygon: list[tuple[fmpq, fmpq, fmpq]]) -> list[fmpq]:
    """A point strictly inside a full-dimensional polygon: the sum of its extreme rays (a
    positive combination of all of them), dehomogenised (its W is positive, since the
    rays do not all lie at infinity)."""
    X = sum((p[0] for p in polygon), fmpq(0))
    Y = sum((p[1] for p in polygon), fmpq(0))
    W = sum((p[2] for p in polygon), fmpq(0))
    return [X / W, Y / W]


def _interior_1d(rows: list[tuple[list[fmpq], fmpq]]) -> list[fmpq] | None:
    """A point of ``{x in R : a x < beta for every row}``, or None: an interval, exactly.

    >>> _interior_1d([([fmpq(2)], fmpq(1)), ([fmpq(-1)], fmpq(0))])
    [1/4]
    >>> _interior_1d([([fmpq(1)], fmpq(0)), ([fmpq(-1)], fmpq(0))]) is None
    True
    """
    lo: fmpq | None = None
    hi: fmpq | None = None
    for (a,), beta in rows:
        if a == 0:
            if not beta > 0:
                return None
        elif a > 0:
            t = beta / a
            hi = t if hi is None or t < hi else hi
        else:
            t = beta / a
            lo = t if lo is None or t > lo else lo
    if lo is not None and hi is not None:
        return [(lo + hi) / 2] if lo < hi else None
    if lo is not None:
        return [lo + 1]
    if hi is not None:
        return [hi - 1]
    return [fmpq(0)]


def _compare(a: Fraction | Algebraic, b: Fraction | Algebraic) -> int:
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return (a > b) - (a < b)
    a = a if isinstance(a, Algebraic) else Algebraic.rational(a)
    return a.compare(b)


def _tight_lower(value: Fraction | Algebraic) -> Fraction:
    """A rational ``<= value`` within a relative ``2⁻³⁰`` of it (the value itself when
    rational): the incumbent's threshold, so that the pruning of an ℓ2 search is not lost to
    a coarse isolating interval.

    >>> from exactrelu.core.algebraic import sqrt_of_largest_root
    >>> root2 = sqrt_of_largest_root((-2, 1))              # isolated in [1, 2]
    >>> 0 < 2 - _tight_lower(root2) ** 2 < Fraction(1, 2**28)
    True
    """
    if isinstance(value, Fraction) or value.is_rational:
        return lower_rational(value)
    while value.interval[0] <= 0:  # an irrational norm is positive
        value = value.refine((value.interval[1] - value.interval[0]) / 4)
    return value.refine(value.interval[0] / 2**30).interval[0]


def _tight_upper(value: Fraction | Algebraic) -> Fraction:
    """A rational ``>= value`` within a relative ``2⁻³⁰`` of it (as `_tight_lower`)."""
    if isinstance(value, Fraction) or value.is_rational:
        return value if isinstance(value, Fraction) else value.value
    lower = _tight_lower(value)
    return value.refine(lower / 2**30).interval[1]


def _quantity(value: Fraction | Algebraic) -> Quantity:
    if isinstance(value, Fraction):
        return Quantity(value, EXACT)
    if value.is_rational:
        return Quantity(value.value, EXACT)
    a = value.refine(Fraction(1, 2**40))
    return Quantity(float(a), EXACT, interval=a.interval, algebraic=a.text())


def _on_path(prefix: tuple[tuple[int, ...], ...], path: tuple[tuple[int, ...], ...]) -> bool:
    """Whether the states ``prefix`` (layer by layer, the last one partial) begin ``path``."""
    k = len(prefix) - 1
    return k < len(path) and prefix[:k] == path[:k] and path[k][: len(prefix[k])] == prefix[k]


_REFRESH_EVERY = 64  # search nodes between two asks for a value found elsewhere


def _child(
    node: _Node, new_rows: list, point: list[fmpq], s: fmpq, ic: fmpq, state: int, bound: Any, B: fmpq_mat | None
) -> _Node:
    return _Node(
        node.layer,
        node.neuron + 1,
        node.rows + new_rows,
        point,
        node.G,
        node.g,
        node.slopes + [s],
        node.intercepts + [ic],
        node.states + [state],
        node.done,
        bound,
        B,
        None,
        node.hulls,
        node.meets,
    )


def _identity(n: int) -> fmpq_mat:
    return fmpq_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])


def _layer_start(chain: Any, layer: int, M: fmpq_mat, c: list[fmpq]) -> tuple[fmpq_mat, list[fmpq]]:
    """Pre-activation gradients and offsets of hidden layer ``layer`` (or the output)."""
    aff = chain.affines[layer]
    G = aff.W * M
    col = aff.W * fmpq_mat(len(c), 1, c) + aff.b
    return G, col.entries()


def _layer_map(node: _Node) -> fmpq_mat:
    """The Jacobian of the completed layer's outputs: ``diag(slopes) G`` (row j of G scaled
    by slope j)."""
    if not node.slopes:
        return node.G
    G, cols = node.G, node.G.ncols()
    E = G.entries()
    return fmpq_mat(G.nrows(), cols, [s * E[j * cols + c] for j, s in enumerate(node.slopes) for c in range(cols)])


def _exact_pieces(fn: Any) -> tuple[list[fmpq], list[fmpq], list[fmpq]]:
    """An activation's knots, slopes and intercepts (per piece) as fmpq."""
    affine_parts = [fn.piece_affine(p) for p in range(fn.num_pieces)]
    return [to_fmpq(t) for t in fn.knots], [to_fmpq(s) for s, _ in affine_parts], [to_fmpq(c) for _, c in affine_parts]


def _state(knots: list[fmpq], z: fmpq) -> int:
    """``2*i`` inside piece i, ``2*j + 1`` at knot j (as `PiecewiseLinear.state`)."""
    for j, t in enumerate(knots):
        if z < t:
            return 2 * j
        if z == t:
            return 2 * j + 1
    return 2 * len(knots)


def _affine_range(a: list[fmpq], beta: fmpq, box: Any) -> tuple[fmpq, fmpq]:
    """The exact range of ``a·x + beta`` over a box (pairs of fmpq)."""
    lo = hi = beta
    for ak, (l, u) in zip(a, box):
        p, q = ak * l, ak * u
        lo += p if p < q else q
        hi += q if p < q else p
    return lo, hi


def _piece_meets(knots: list[fmpq], piece: int, z_range: tuple[fmpq | None, fmpq | None]) -> bool:
    """Whether the open piece ``(t_{piece-1}, t_piece)`` meets the open range (lo, hi)
    (None: unbounded on that side)."""
    lo, hi = z_range
    if piece > 0 and hi is not None and not knots[piece - 1] < hi:
        return False
    if piece < len(knots) and lo is not None and not knots[piece] > lo:
        return False
    return True


def _vertex_values(polygon: list[tuple[fmpq, fmpq, fmpq]], G: fmpq_mat, g: list[fmpq]) -> list[list[fmpq]]:
    """``G_j·(X, Y) + g_j·W`` at every homogeneous vertex (one exact product ``[G | g] · V``):
    at a point (W > 0) W times the value of ``G_j·x + g_j``, at a direction to infinity
    (W = 0) the rate at which that value grows along it.

    >>> q = lambda *v: tuple(fmpq(x) for x in v)
    >>> quadrant = [q(0, 0, 1), q(1, 0, 0), q(0, 1, 0)]        # x >= 0, y >= 0
    >>> _vertex_values(quadrant, fmpq_mat(2, 2, [1, 1, 1, -1]), [fmpq(2), fmpq(0)])
    [[2, 1, 1], [0, 1, -1]]
    """
    w, k = G.nrows(), len(polygon)
    E = G.entries()
    rows = fmpq_mat(w, 3, [v for j in range(w) for v in (E[2 * j], E[2 * j + 1], g[j])])
    V = fmpq_mat(3, k, [p[i] for i in range(3) for p in polygon])
    P = (rows * V).entries()
    return [P[j * k:(j + 1) * k] for j in range(w)]


def _polygon_meets(values: list[fmpq], Ws: list[fmpq], knots: list[fmpq]) -> list[int]:
    """The pieces of an activation that ``z = a·x + beta`` reaches on a polygon's interior,
    from ``values`` (`_vertex_values`: ``a·(X, Y) + beta·W`` at the vertices, ``W`` in
    ``Ws``), for a non-constant z. Its open range there is ``(lo, hi)``, so piece p
    (between knots ``t_{p-1} < t_p``) is met when ``hi > t_{p-1}`` and ``lo < t_p``, and
    ``hi > t`` exactly when some vertex has ``value − t·W > 0`` (a point above t, or a
    direction along which z grows); ``lo < t`` likewise. Only these signs are needed: a
    float decides a sign when it is nonzero and finite (float() of a nonzero rational
    has its sign), the rational itself otherwise.

    >>> q = lambda *v: [fmpq(x) for x in v]
    >>> _polygon_meets(q(2, 1, 1), q(1, 0, 0), q(0))     # z = x + y + 2 on a quadrant
    [1]
    >>> _polygon_meets(q(0, 1, -1), q(1, 0, 0), q(0, 1))  # z = x - y: every piece
    [0, 1, 2]
    """
    above: list[bool] = []
    below: list[bool] = []
    for t in knots:
        ds = values if t == 0 else [v - t * W for v, W in zip(values, Ws)]
        try:
            fs = [float(d) for d in ds]
        except OverflowError:
            fs = [0.0]
        top, bottom = max(fs), min(fs)
        # a positive float means a positive rational; at a zero float the rationals decide
        above.append(top > 0 or (not top < 0 and any(d > 0 for d in ds)))
        below.append(bottom < 0 or (not bottom > 0 and any(d < 0 for d in ds)))
    last = len(knots)
    return [p for p in range(last + 1) if (p == 0 or above[p - 1]) and (p == last or below[p])]


class _IntervalBound:
    """Bounds on every Jacobian below a search node, by interval arithmetic backwards.

    For hidden layer k, ``suffix[k]`` encloses (entrywise, as [lo, hi]) every matrix
    ``W_ℓ D_{ℓ-1} … D_{k+1} W_{k+1}`` with each neuron's slope in the hull of the slopes of
    the pieces it can reach (all of them; over a box domain, those its interval-arithmetic
    pre-activation range meets). A node in layer k holds the enclosure of ``suffix[k] Ŝ_k G``
    as a sum over the layer's neurons of one term each (a decided neuron's exact slope, an
    undecided one's hull), so deciding a neuron replaces one term. Entrywise
    ``|J| <= max(|lo|, |hi|)`` gives the norm bound (ℓ2: via ‖B‖_2² <= min(‖B‖_1‖B‖_∞, ‖B‖_F²)).
    """

    def __init__(self, net: Network, domain: Domain, norm: str) -> None:
        chain = net.chain
        self.norm = norm
        self.hull = _slope_hulls(net, domain)
        ell = len(chain.acts)
        self.suffix: list[tuple[list[list[fmpq]], list[list[fmpq]]]] = [([], [])] * ell
        if ell == 0:
            return
        W = chain.affines[ell].W
        lo = [[W[i, j] for j in range(W.ncols())] for i in range(W.nrows())]
        self.suffix[ell - 1] = (lo, [row[:] for row in lo])
        for k in range(ell - 2, -1, -1):
            Lo, Hi = self.suffix[k + 1]
            Wk = chain.affines[k + 1].W
            rows = [[Wk[j, c] for c in range(Wk.ncols())] for j in range(Wk.nrows())]
            m = len(Lo)
            nlo = [[fmpq(0)] * Wk.ncols() for _ in range(m)]
            nhi = [[fmpq(0)] * Wk.ncols() for _ in range(m)]
            for j, (slo, shi) in enumerate(self.hull[k + 1]):
                for i in range(m):
                    xlo, xhi = _scale(Lo[i][j], Hi[i][j], slo, shi)
                    for c, w in enumerate(rows[j]):
                        p, q = xlo * w, xhi * w
                        nlo[i][c] += p if p < q else q
                        nhi[i][c] += q if p < q else p
            self.suffix[k] = (nlo, nhi)

    def _term(self, layer: int, j: int, slo: fmpq, shi: fmpq, g: list[fmpq]) -> tuple[list[list[fmpq]], list[list[fmpq]]]:
        Lo, Hi = self.suffix[layer]
        tlo, thi = [], []
        for i in range(len(Lo)):
            xlo, xhi = _scale(Lo[i][j], Hi[i][j], slo, shi)
            rlo, rhi = [], []
            for w in g:
                p, q = xlo * w, xhi * w
                rlo.append(p if p < q else q)
                rhi.append(q if p < q else p)
            tlo.append(rlo)
            thi.append(rhi)
        return tlo, thi

    def start(self, layer: int, G: fmpq_mat, hulls: list[tuple[fmpq, fmpq]]) -> Any:
        """The enclosure for a node at the start of hidden layer ``layer``, each neuron's
        slope in its hull (``hulls``: over the node's region; within `self.hull`).

        The sum over neurons j of the terms ``[xlo_ij, xhi_ij] · G[j, c]`` is, exactly,
        ``Xlo G⁺ + Xhi G⁻`` (low) and ``Xhi G⁺ + Xlo G⁻`` (high), G⁺ and G⁻ the positive
        and negative parts of G: four exact matrix products."""
        n, w = G.ncols(), G.nrows()
        Lo, Hi = self.suffix[layer]
        m = len(Lo)
        xs = [_scale(Lo[i][j], Hi[i][j], slo, shi) for i in range(m) for j, (slo, shi) in enumerate(hulls)]
        Xlo = fmpq_mat(m, w, [x[0] for x in xs])
        Xhi = fmpq_mat(m, w, [x[1] for x in xs])
        entries = G.entries()
        zero = fmpq(0)
        Gp = fmpq_mat(w, n, [v if v > 0 else zero for v in entries])
        Gm = fmpq_mat(w, n, [v if v < 0 else zero for v in entries])
        lo = (Xlo * Gp + Xhi * Gm).entries()
        hi = (Xhi * Gp + Xlo * Gm).entries()
        return [lo[i * n:(i + 1) * n] for i in range(m)], [hi[i * n:(i + 1) * n] for i in range(m)]

    def decide(self, B: Any, layer: int, j: int, slope: fmpq, g: list[fmpq], hull: tuple[fmpq, fmpq]) -> Any:
        """The enclosure once neuron j of ``layer`` (whose term used ``hull``) takes ``slope``."""
        lo, hi = B
        slo, shi = hull
        olo, ohi = self._term(layer, j, slo, shi, g)
        nlo, nhi = self._term(layer, j, slope, slope, g)
        return (
            [[lo[i][c] - olo[i][c] + nlo[i][c] for c in range(len(g))] for i in range(len(lo))],
            [[hi[i][c] - ohi[i][c] + nhi[i][c] for c in range(len(g))] for i in range(len(hi))],
        )

    def value(self, B: Any) -> fmpq:
        """A rational bound on ‖J‖ (on ‖J‖_2² for ℓ2) for every Jacobian the enclosure holds."""
        lo, hi = B
        mag = [[-a if -a > b else b for a, b in zip(rl, rh)] for rl, rh in zip(lo, hi)]  # max(|lo|, |hi|)
        if self.norm == "inf":
            return max(sum(row, fmpq(0)) for row in mag)
        one = max(sum((row[c] for row in mag), fmpq(0)) for c in range(len(mag[0])))
        if self.norm == "1":
            return one
        inf = max(sum(row, fmpq(0)) for row in mag)
        return min(one * inf, sum((v * v for row in mag for v in row), fmpq(0)))


def _scale(lo: fmpq, hi: fmpq, slo: fmpq, shi: fmpq) -> tuple[fmpq, fmpq]:
    """The hull of ``{x·s : x in [lo, hi], s in [slo, shi]}``."""
    if slo == shi:
        p, q = lo * slo, hi * slo
        return (p, q) if slo >= 0 else (q, p)
    if slo >= 0:  # x·s is increasing in x for every s: the ends are lo·s and hi·s
        a, b, c, d = lo * slo, lo * shi, hi * slo, hi * shi
        return (a if a < b else b), (c if c > d else d)
    products = (lo * slo, lo * shi, hi * slo, hi * shi)
    return min(products), max(products)


def _slope_hulls(net: Network, domain: Domain) -> list[list[tuple[fmpq, fmpq]]]:
    """For every hidden neuron, the least and largest slope of the pieces it can reach: all
    pieces, or over a box domain those its pre-activation range (interval arithmetic,
    exact) meets."""
    chain = net.chain
    hulls: list[list[tuple[fmpq, fmpq]]] = []
    box = [(to_fmpq(l), to_fmpq(u)) for l, u in domain.box] if domain.box is not None else None
    for k, fns in enumerate(chain.acts):
        layer = []
        ranges = None
        if box is not None:
            W, b = chain.affines[k].W, chain.affines[k].b
            ranges = [_affine_range([W[j, c] for c in range(W.ncols())], b[j, 0], box) for j in range(W.nrows())]
        out_box = []
        for j, fn in enumerate(fns):
            pieces = range(fn.num_pieces)
            if ranges is not None:
                lo, hi = ranges[j]
                kq = [to_fmpq(t) for t in fn.knots]
                pieces = [p for p in pieces if lo == hi and p == _state(kq, lo) // 2
                          or lo < hi and _piece_meets(kq, p, (lo, hi))]
                values = [fn(to_fraction(lo)), fn(to_fraction(hi))] + [fn(t) for t in fn.knots if lo < to_fmpq(t) < hi]
                out_box.append((to_fmpq(min(values)), to_fmpq(max(values))))
            slopes = [to_fmpq(fn.slopes[p]) for p in pieces] or [fmpq(0)]
            layer.append((min(slopes), max(slopes)))
        hulls.append(layer)
        box = out_box if ranges is not None else None
    return hulls


def _diagnostics(counters: dict[str, int], stats: LPStats, start: float) -> dict[str, Any]:
    return {
        "nodes": counters["nodes"],
        "pruned": counters["pruned"],
        "infeasible": counters["infeasible"],
        "leaves": counters["leaves"],
        "lps": stats.lps,
        "exact_lps": stats.exact_lps,
        "time_s": round(time.perf_counter() - start, 6),
    }


def _sqrt_upper(q: Fraction) -> Fraction:
    """A rational ``>= sqrt(q)``."""
    if q <= 0:
        return Fraction(0)
    import math

    num = math.isqrt(q.numerator * 2**64 // q.denominator) + 1
    return Fraction(num, 2**32)


def jacobian_norm(J: fmpq_mat, norm: str) -> Fraction | Algebraic:
    """``‖J‖`` for ``norm`` in ``{"1", "2", "inf"}`` (exact)."""
    return _value_norm(parse_norm(norm))(J)
