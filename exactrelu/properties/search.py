"""Branch and bound over input and neuron splits: decide exactly whether any point of an
input set reaches one of a list of conjunctions of output atoms.

One `search` runs per input set (`formula.Group`). A node is a box (input splits) and a
restriction of some neurons to one piece of their activation (neuron splits). At a node:

1. canonical bounds in floats steer; the exact ones decide (`propagation.exact_bounds`,
   for ReLU networks the same numbers from the floating-point filter
   `filtered.relu_bounds`): a branch whose restriction leaves a neuron no value is
   closed ("empty");
2. a conjunction whose atom has a positive canonical lower bound is closed by that bound,
   evaluated exactly (`propagation.layered_bound`, or its sign by `filtered.closes`);
3. otherwise the LP relaxation (HiGHS, `lp.solve_relaxation`) proposes multipliers, and
   the layered bound with them, in exact rationals, closes the conjunction when positive
   (a Neumaier–Shcherbina safe dual bound: no exact LP);
4. when every neuron is on one piece the network is affine on the node, and an exact LP
   (`exactrelu.polyhedra.lp_max`, the fraction-free simplex) decides: an exact vertex
   that violates the property, or exact dual multipliers (the "affine" proof);
5. candidate counterexamples (the LP's point, the bound's minimising corner, the centre;
   random points and a few projected-gradient steps at the root) are re-evaluated
   exactly; only an exact violation is reported;
6. else split: the input with the largest influence on the open atom (inputs few), or
   the unstable neuron with the largest relaxation gap.

Every closed node records its proof; the tree of splits with the proofs is the body of a
``holds`` certificate (`exactrelu.properties.certificate`).

>>> from exactrelu.core.network import Network, affine, activation
>>> from exactrelu.properties.formula import Atom
>>> net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])
>>> box = ((Fraction(-1), Fraction(2)),)
>>> above = (Atom((Fraction(0),), (Fraction(-1),), Fraction(2)),)      # 2 - y <= 0: |x| >= 2
>>> out = search(Model.of(net), box, (), [above], Options())
>>> out.counterexample                                                  # x = 2 (a vertex, exactly)
((Fraction(2, 1),), (Fraction(2, 1),), 0)
>>> strict = (Atom((Fraction(0),), (Fraction(-1),), Fraction(2), True),)  # |x| > 2: never on [-1, 2]
>>> search(Model.of(net), box, (), [strict], Options()).counterexample is None
True
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

import numpy as np
from flint import fmpq, fmpq_mat

from ..core.errors import LimitReached
from ..core.numbers import format_number, to_fmpq
from ..polyhedra.lp import INFEASIBLE, OPTIMAL, lp_max
from .filtered import (
    FloatLayers,
    Unrepresentable,
    closes,
    relu_bounds,
    to_bounds,
    usable,
)
from .formula import Atom
from .lp import exact_multipliers_all, new_highs, solve_relaxation
from .propagation import (
    Bounds,
    Box,
    FloatBounds,
    Model,
    Piece,
    Restrict,
    _relu_slopes,
    exact_bounds,
    float_bounds,
    float_objective,
    layered_bound,
    pieces_of,
)

Witness = tuple[tuple[Fraction, ...], tuple[Fraction, ...], int]  # x, f(x), conjunction index


@dataclass(frozen=True)
class Options:
    """Search settings. ``input_split_dims``: split inputs when there are at most this many
    (and more than ``neuron_split_below`` unstable neurons, and fewer than ``max_input_depth``
    input splits above: input splits alone need not end where a bound is touched); ``lp``: use the LP relaxation;
    ``attack``: random points and gradient steps at the root."""

    time_limit: float | None = None
    max_nodes: int | None = None
    input_split_dims: int = 8
    neuron_split_below: int = 12
    max_input_depth: int = 40
    lp: bool = True
    attack: int = 256
    seed: int = 0


@dataclass
class Stats:
    nodes: int = 0
    leaves: int = 0
    lps: int = 0
    exact_lps: int = 0
    exact_bounds: int = 0
    proofs: dict[str, int] = field(default_factory=lambda: {"empty": 0, "bound": 0, "dual": 0, "affine": 0})


@dataclass(frozen=True)
class SearchOutcome:
    """``counterexample`` (x, f(x), conjunction) or None when every branch closed; ``tree``:
    the split tree with its proofs (certificate body); ``settled``: the fraction of the
    box's volume proved so far (1 when closed)."""

    counterexample: Witness | None
    tree: dict[str, Any]
    settled: Fraction
    stats: Stats


class SearchLimit(LimitReached):
    """A limit stopped the search; ``settled`` is the volume fraction proved so far."""

    def __init__(self, message: str, settled: Fraction, stats: Stats) -> None:
        super().__init__(message)
        self.settled = settled
        self.stats = stats


def _fx(m: Model, x: Sequence[Fraction]) -> tuple[Fraction, ...]:
    return m.network.evaluate(list(x))


def _closes(bound: Fraction, strict: bool) -> bool:
    return bound > 0 or (strict and bound >= 0)


def _atom_arrays(atoms: Sequence[Atom], n: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    Cy = np.array([[float(v) for v in a.y_coef] for a in atoms], dtype=float).reshape(len(atoms), k)
    Cx = np.array([[float(v) for v in a.x_coef] for a in atoms], dtype=float).reshape(len(atoms), n)
    c = np.array([float(a.const) for a in atoms], dtype=float)
    return Cy, Cx, c


@dataclass(frozen=True)
class _Open:
    """A processed node: the conjunctions still open there and how to split it (None: closed)."""

    remaining: tuple[int, ...]
    split: dict[str, Any] | None


_CLOSED = _Open((), None)


class _Search:
    def __init__(self, m: Model, root: Box, input_rows: Sequence[Atom], conjs: Sequence[Sequence[Atom]], opts: Options) -> None:
        self.m = m
        self.root = tuple(root)
        self.input_rows = tuple(input_rows)
        self.conjs = [tuple(c) for c in conjs]
        self.opts = opts
        self.stats = Stats()
        self.t0 = time.perf_counter()
        self.deadline = None if opts.time_limit is None else self.t0 + opts.time_limit
        self.highs = new_highs() if opts.lp else None
        self.rng = random.Random(opts.seed)
        self.volume = _volume(self.root)
        self.settled = Fraction(0)
        n, k = m.input_dim, m.output_dim
        self.arrays = [_atom_arrays(c, n, k) for c in self.conjs]

    # -- exact checks of a candidate ----------------------------------------------------

    def exact_violation(self, x: Sequence[Fraction], which: Sequence[int]) -> Witness | None:
        """Whether x (exact) lies in the input set and violates one of the conjunctions."""
        if not all(lo <= v <= hi for v, (lo, hi) in zip(x, self.root)):
            return None
        if not all(a.holds(x, ()) for a in self.input_rows):
            return None
        y = _fx(self.m, x)
        for k in which:
            if all(a.holds(x, y) for a in self.conjs[k]):
                return tuple(x), y, k
        return None

    def try_points(self, X: np.ndarray, box: Box, which: Sequence[int]) -> Witness | None:
        """Float candidates (rows of X), clipped to the box; the promising ones checked exactly."""
        if not len(X) or not which:
            return None
        lo = np.array([float(a) for a, _ in box])
        hi = np.array([float(b) for _, b in box])
        X = np.clip(X, lo, hi)
        _, Y = self.m.forward_float(X)
        for k in which:
            Cy, Cx, c = self.arrays[k]
            if not len(c):
                continue
            G = Y @ Cy.T + X @ Cx.T + c
            worst = G.max(axis=1)
            scale = 1e-9 * (1 + np.abs(Y).max(axis=1))
            for r in np.argsort(worst)[:4]:
                if worst[r] <= scale[r]:
                    x = _exact_in_box(X[r], box)
                    for short in _shorter(x, box):  # a short witness when one violates too
                        found = self.exact_violation(short, [k])
                        if found is not None:
                            return found
                    polished = self.polish(x, box, k)
                    if polished is not None:
                        return polished
        return None

    def polish(self, x: Sequence[Fraction], box: Box, k: int) -> Witness | None:
        """The exact LP on x's activation region (within the box): a vertex that violates
        conjunction k, when one exists there."""
        pattern_rows = self.region_rows(x)
        if pattern_rows is None:
            return None
        res = self.affine_lp(box, pattern_rows, k)
        return res if isinstance(res, tuple) else None

    # -- the affine (every neuron on one piece) case, exactly --------------------------------

    def region_rows(self, x: Sequence[Fraction]) -> tuple[list[tuple[Any, list[fmpq], fmpq]], fmpq_mat, fmpq_mat] | None:
        """The rows ``z_i(x') on x's piece of neuron i`` (as a·x' <= b) and f's affine map on that region."""
        m = self.m
        pre = m.network.preactivations(list(x))
        intervals = []
        for l, fns in enumerate(m.acts):
            lo, hi = [], []
            for f, t in zip(fns, pre[l]):
                j = 0
                while j < len(f.knots) and f.knots[j] < t:
                    j += 1
                lo.append(f.knots[j - 1] if j > 0 else None)
                hi.append(f.knots[j] if j < len(f.knots) else None)
            intervals.append((lo, hi))
        return self.affine_rows(intervals)

    def affine_rows(self, intervals: Sequence[tuple[Sequence[Fraction | None], Sequence[Fraction | None]]]) -> tuple[list[tuple[Any, list[fmpq], fmpq]], fmpq_mat, fmpq_mat]:
        """Rows ``lo_i <= z_i(x) <= hi_i`` (None: no row) with every neuron on the piece its
        interval lies in, and the output's affine map ``G x + h`` there."""
        m = self.m
        n = m.input_dim
        G = fmpq_mat(n, n, [fmpq(1) if i == j else fmpq(0) for i in range(n) for j in range(n)])
        h = fmpq_mat(n, 1, [fmpq(0)] * n)
        rows: list[tuple[Any, list[fmpq], fmpq]] = []
        for l, fns in enumerate(m.acts):
            Z = m.W[l] * G
            zh = m.W[l] * h + m.b[l]
            lo, hi = intervals[l]
            w = len(fns)
            srows, sc = [], []
            for i in range(w):
                zi = [Z[i, j] for j in range(n)]
                if lo[i] is not None:
                    rows.append((["neuron", l, i, "lo"], [-v for v in zi], zh[i, 0] - to_fmpq(lo[i])))
                if hi[i] is not None:
                    rows.append((["neuron", l, i, "hi"], zi, to_fmpq(hi[i]) - zh[i, 0]))
                s, c = fns[i].piece_affine(_piece_of(fns[i], lo[i], hi[i]))
                srows.append(to_fmpq(s))
                sc.append(to_fmpq(c))
            D = fmpq_mat(w, w, [srows[i] if i == j else fmpq(0) for i in range(w) for j in range(w)])
            G = D * Z
            h = D * zh + fmpq_mat(w, 1, sc)
        return rows, m.W[-1] * G, m.W[-1] * h + m.b[-1]

    def affine_lp(self, box: Box, affine: tuple[list[tuple[Any, list[fmpq], fmpq]], fmpq_mat, fmpq_mat], k: int) -> Witness | dict[str, Any] | None:
        """Conjunction k on a set where f is affine, exactly: a violating vertex, or an
        "affine" proof (multipliers on the rows), or None (the LP failed to decide)."""
        neuron_rows, G, h = affine
        n = self.m.input_dim
        rows: list[tuple[Any, list[fmpq], fmpq]] = []
        for d, (lo, hi) in enumerate(box):
            e = [fmpq(1) if j == d else fmpq(0) for j in range(n)]
            rows.append((["box", d, "hi"], e, to_fmpq(hi)))
            rows.append((["box", d, "lo"], [-v for v in e], -to_fmpq(lo)))
        for r, a in enumerate(self.input_rows):
            rows.append((["input", r], [to_fmpq(v) for v in a.x_coef], -to_fmpq(a.const)))
        rows.extend(neuron_rows)
        atoms = self.conjs[k]
        arows = []
        for j, a in enumerate(atoms):
            cy = fmpq_mat(1, len(a.y_coef), [to_fmpq(v) for v in a.y_coef])
            u = cy * G
            w = (cy * h)[0, 0] + to_fmpq(a.const)
            arows.append((["atom", j], [u[0, i] + to_fmpq(a.x_coef[i]) for i in range(n)], -w))
        strict = [j for j, a in enumerate(atoms) if a.strict]
        self.stats.exact_lps += 1
        # LP1: max -t s.t. rows, atom_j - t <= 0 for every atom
        A = [r[1] + [fmpq(0)] for r in rows] + [ar[1] + [fmpq(-1)] for ar in arows]
        b = [r[2] for r in rows] + [ar[2] for ar in arows]
        c = [fmpq(0)] * n + [fmpq(-1)]
        res = lp_max(c, A, b)
        labels = [r[0] for r in rows] + [ar[0] for ar in arows]
        if res.status == INFEASIBLE:
            return {"kind": "affine", "multipliers": _sparse(labels, res.farkas)}
        if res.status != OPTIMAL:
            return None
        tstar = -res.value
        x = tuple(res.point[:n])
        if tstar > 0:
            return {"kind": "affine", "multipliers": _sparse(labels, res.dual)}
        if tstar < 0 or not strict:
            found = self.exact_violation(x, [k])
            return found
        # LP2: non-strict atoms as rows, max -t over the strict ones
        self.stats.exact_lps += 1
        A = [r[1] + [fmpq(0)] for r in rows] + [ar[1] + [fmpq(0) if j not in strict else fmpq(-1)] for j, ar in enumerate(arows)]
        res = lp_max(c, A, b)
        if res.status == INFEASIBLE:
            return {"kind": "affine", "multipliers": _sparse(labels, res.farkas)}
        if res.status != OPTIMAL:
            return None
        if -res.value >= 0:
            return {"kind": "affine", "multipliers": _sparse(labels, res.dual)}
        return self.exact_violation(tuple(res.point[:n]), [k])

    # -- the search ------------------------------------------------------------------------

    def limit(self) -> None:
        if self.opts.max_nodes is not None and self.stats.nodes >= self.opts.max_nodes:
            raise SearchLimit(f"node limit {self.opts.max_nodes} reached", self.settled / self.volume if self.volume else Fraction(0), self.stats)
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise SearchLimit(f"time limit {self.opts.time_limit} s reached", self.settled / self.volume if self.volume else Fraction(0), self.stats)

    def attack(self) -> Witness | None:
        """Random points and projected-gradient steps on the worst atom, in floats (root only)."""
        if not self.opts.attack:
            return None
        n = self.m.input_dim
        lo = np.array([float(a) for a, _ in self.root])
        hi = np.array([float(b) for _, b in self.root])
        gen = np.random.default_rng(self.opts.seed)
        X = lo + (hi - lo) * gen.random((self.opts.attack, n))
        X = np.vstack([X, (lo + hi) / 2])
        which = list(range(len(self.conjs)))
        found = self.try_points(X, self.root, which)
        if found is not None or not self.m.all_relu:
            return found
        step = (hi - lo) / 8
        for _ in range(12):
            best_X = []
            for k in which:
                Cy, Cx, c = self.arrays[k]
                if not len(c):
                    continue
                pre, Y = self.m.forward_float(X)
                G = Y @ Cy.T + X @ Cx.T + c
                j = G.argmax(axis=1)
                grad = self._gradient(X, pre, Cy[j], Cx[j])
                best_X.append(np.clip(X - step * np.sign(grad), lo, hi))
            if not best_X:
                return None
            X = np.vstack(best_X)[: self.opts.attack]
            found = self.try_points(X, self.root, which)
            if found is not None:
                return found
            step = step * 0.7
        return None

    def _gradient(self, X: np.ndarray, pre: list[np.ndarray], cy: np.ndarray, cx: np.ndarray) -> np.ndarray:
        """d(cy·f(x) + cx·x)/dx per row, relu networks."""
        g = cy @ self.m.Wf[-1]  # rows × width
        for l in range(self.m.hidden - 1, -1, -1):
            g = g * (pre[l] > 0)
            g = g @ self.m.Wf[l]
        return g + cx

    def run(self) -> SearchOutcome:
        which = list(range(len(self.conjs)))
        for k in which:  # a conjunction with no atom on y: any point of the input set violates it
            if not self.conjs[k]:
                x = _input_point(self.root, self.input_rows)
                if x is not None:
                    found = self.exact_violation(x, [k])
                    if found is not None:
                        return SearchOutcome(found, {}, Fraction(0), self.stats)
        found = self.attack()
        if found is not None:
            return SearchOutcome(found, {}, Fraction(0), self.stats)
        tree: dict[str, Any] = {}
        stack: list[tuple[dict[str, Any], Box, Restrict, tuple[int, ...], int]] = [(tree, self.root, {}, tuple(which), 0)]
        while stack:
            self.limit()
            node, box, restrict, open_, depth = stack.pop()
            self.stats.nodes += 1
            outcome = self.process(node, box, restrict, open_, depth)
            if not isinstance(outcome, _Open):
                return SearchOutcome(outcome, tree, self.settled / self.volume if self.volume else Fraction(0), self.stats)
            remaining, split = outcome.remaining, outcome.split
            if remaining and split is None:
                raise SearchLimit("an exact LP left a branch undecided", self.settled / self.volume if self.volume else Fraction(0), self.stats)
            if not remaining:
                self.stats.leaves += 1
                if not restrict:
                    self.settled += _volume(box)
                continue
            node["split"] = split["json"]
            node["children"] = [{}, {}]
            for child, (cbox, crestrict) in zip(node["children"], split["children"]):
                stack.append((child, cbox, crestrict, remaining, depth + ("input" in split["json"])))
        return SearchOutcome(None, tree, Fraction(1), self.stats)

    def bounds(self, box: Box, restrict: Restrict) -> "_Exact | None":
        """The node's exact canonical bounds (None: the branch is empty)."""
        self.stats.exact_bounds += 1
        if usable(self.m):
            try:
                floats = relu_bounds(self.m, box, restrict)
                return None if floats is None else _Exact(floats, None)
            except Unrepresentable:
                pass
        fr = exact_bounds(self.m, box, restrict)
        return None if fr is None else _Exact(None, fr)

    def closes(self, ex: "_Exact", box: Box, cy: Sequence[Fraction], cx: Sequence[Fraction], const: Fraction, strict: bool,
               lambdas: Sequence[Sequence[Fraction]] | None = None) -> bool:
        """Whether the layered bound of ``cy·f(x) + cx·x + const`` on the node is > 0 (>= 0 when strict), exactly."""
        if ex.floats is not None:
            return closes(self.m, ex.floats, box, cy, cx, const, strict, lambdas)
        return _closes(layered_bound(self.m, ex.fractions(), box, cy, cx, const, lambdas, ex.pieces(self.m)), strict)

    def process(self, node: dict[str, Any], box: Box, restrict: Restrict, open_: tuple[int, ...], depth: int = 0) -> "Witness | _Open":
        m = self.m
        proofs: list[dict[str, Any]] = []
        node["proofs"] = proofs
        lo_x = np.array([float(a) for a, _ in box])
        hi_x = np.array([float(b) for _, b in box])
        ex: _Exact | None = None
        relu = m.all_relu
        fb = float_bounds(m, lo_x, hi_x, restrict) if relu else None
        if fb is None or fb.empty:
            ex = self.bounds(box, restrict)
            if ex is None:
                return self.empty(proofs)
            if fb is None or fb.empty:
                fb = _float_from_exact(ex.float_layers())
        remaining = list(open_)
        # 2. canonical bounds on single atoms
        hardest: tuple[float, int, int] | None = None  # (lb, conj, atom)
        lbs_by_conj: dict[int, tuple[np.ndarray, np.ndarray, list[np.ndarray]]] = {}
        for k in open_:
            Cy, Cx, c = self.arrays[k]
            if relu:
                lbs, C, nus = float_objective(m, fb, lo_x, hi_x, Cy, Cx, c)
            else:
                if ex is None:
                    ex = self.bounds(box, restrict)
                assert ex is not None  # non-relu networks have no float bounds: the exact ones came first
                lbs = np.array([float(layered_bound(m, ex.fractions(), box, a.y_coef, a.x_coef, a.const, None, ex.pieces(m))) for a in self.conjs[k]])
                C, nus = np.zeros((len(lbs), m.input_dim)), []
            lbs_by_conj[k] = (lbs, C, nus)
            j = int(np.argmax(lbs))
            if lbs[j] > 0 or (lbs[j] >= 0 and self.conjs[k][j].strict):
                if ex is None:
                    ex = self.bounds(box, restrict)
                    if ex is None:
                        return self.empty(proofs)
                a = self.conjs[k][j]
                if self.closes(ex, box, a.y_coef, a.x_coef, a.const, a.strict):
                    theta = ["0"] * len(self.conjs[k])
                    theta[j] = "1"
                    proofs.append({"kind": "bound", "conjunct": k, "theta": theta})
                    self.stats.proofs["bound"] += 1
                    remaining.remove(k)
                    continue
            if hardest is None or lbs[j] > hardest[0]:
                hardest = (float(lbs[j]), k, j)
        if not remaining:
            return _CLOSED
        # floats steer: which neurons look unstable; the exact bounds are computed only to prove
        float_unstable = [(l, i) for l in range(len(fb.lo)) for i in range(len(fb.lo[l])) if fb.lo[l][i] < 0 < fb.hi[l][i]]
        if ex is None and (not relu or not float_unstable):
            ex = self.bounds(box, restrict)
            if ex is None:
                return self.empty(proofs)
        unstable = ex.unstable(m) if ex is not None else float_unstable
        candidates: list[np.ndarray] = []
        # 4. affine: exact LP
        if not unstable:
            assert ex is not None
            affine = self.affine_rows([(lo, hi) for lo, hi in ex.fractions()])
            for k in list(remaining):
                res = self.affine_lp(box, affine, k)
                if isinstance(res, tuple):
                    return res
                if isinstance(res, dict):
                    res["conjunct"] = k
                    proofs.append(res)
                    self.stats.proofs["affine"] += 1
                    remaining.remove(k)
            if not remaining:
                return _CLOSED
        # 3. LP relaxation
        elif self.opts.lp and self.highs is not None:
            for k in list(remaining):
                atoms = self.conjs[k]
                self.stats.lps += 1
                rel = solve_relaxation(
                    m, ex.float_layers() if ex is not None else list(zip(fb.lo, fb.hi)), box,
                    [([float(v) for v in a.y_coef], [float(v) for v in a.x_coef]) for a in atoms],
                    [float(a.const) for a in atoms],
                    [([float(v) for v in a.x_coef], float(a.const)) for a in self.input_rows],
                    solver=self.highs,
                    pieces=ex.pieces(m) if ex is not None and not relu else None,
                )
                if rel is None:
                    continue
                candidates.append(rel.x)
                if rel.value <= 0:
                    continue
                theta = [Fraction(t) for t in rel.theta]
                ys = [Fraction(v) for v in rel.y]
                if not any(theta):
                    continue
                cy, cx, const = _combine(atoms, theta, self.input_rows, ys, m.input_dim, m.output_dim)
                lam = exact_multipliers_all(rel.lambdas)
                if ex is None:
                    ex = self.bounds(box, restrict)
                    if ex is None:
                        return self.empty(proofs)
                strict = any(t and a.strict for t, a in zip(theta, atoms))
                if self.closes(ex, box, cy, cx, const, strict, lam):
                    proofs.append({
                        "kind": "dual", "conjunct": k,
                        "theta": [format_number(t) for t in theta],
                        "lambdas": [[format_number(v) for v in row] for row in lam],
                        "y": [format_number(v) for v in ys],
                    })
                    self.stats.proofs["dual"] += 1
                    remaining.remove(k)
            if not remaining:
                return _CLOSED
        # 5. candidates
        for k in remaining:
            lbs, C, _ = lbs_by_conj[k]
            for r in range(len(lbs)):
                candidates.append(np.where(C[r] > 0, lo_x, hi_x))
        candidates.append((lo_x + hi_x) / 2)
        found = self.try_points(np.array(candidates), box, remaining)
        if found is not None:
            return found
        if not unstable:
            return _Open(tuple(remaining), None)  # an undecided exact LP: cannot happen
        layers = ex.float_layers() if ex is not None else list(zip(fb.lo, fb.hi))
        return _Open(tuple(remaining), self.split(box, restrict, layers, unstable, hardest, lbs_by_conj, depth))

    def empty(self, proofs: list[dict[str, Any]]) -> _Open:
        proofs.append({"kind": "empty"})
        self.stats.proofs["empty"] += 1
        return _CLOSED

    def split(self, box: Box, restrict: Restrict, layers: Sequence[tuple[Any, Any]], unstable: list[tuple[int, int]], hardest: Any, lbs_by_conj: Any, depth: int) -> dict[str, Any]:
        n = self.m.input_dim
        widths = [hi - lo for lo, hi in box]
        if n <= self.opts.input_split_dims and len(unstable) > self.opts.neuron_split_below and depth < self.opts.max_input_depth:
            d = None
            if hardest is not None:
                _, k, j = hardest
                C = lbs_by_conj[k][1][j]
                scores = [abs(float(C[i])) * float(widths[i]) for i in range(n)]
                if max(scores) > 0:
                    d = int(np.argmax(scores))
            if d is None:
                d = max(range(n), key=lambda i: widths[i])
            lo, hi = box[d]
            mid = _short_midpoint(lo, hi)
            left = tuple((lo, mid) if i == d else b for i, b in enumerate(box))
            right = tuple((mid, hi) if i == d else b for i, b in enumerate(box))
            return {"json": {"input": d, "at": format_number(mid)}, "children": [(left, restrict), (right, restrict)]}
        best = None
        if hardest is not None and self.m.all_relu:
            _, k, j = hardest
            nus = lbs_by_conj[k][2]
            for l, i in unstable:
                lo, hi = float(layers[l][0][i]), float(layers[l][1][i])
                gap = -lo * hi / (hi - lo)
                nu = abs(float(nus[l][j][i])) if nus else 1.0
                score = nu * gap
                if best is None or score > best[0]:
                    best = (score, l, i)
        if best is None:
            l, i = unstable[0]
        else:
            _, l, i = best
        f = self.m.acts[l][i]
        lo, hi = layers[l][0][i], layers[l][1][i]
        inside = [t for t in f.knots if lo < t < hi]
        at = min(inside, key=lambda t: abs(2 * t - lo - hi))
        left = dict(restrict)
        right = dict(restrict)
        old = restrict.get((l, i), (None, None))
        left[(l, i)] = (old[0], at)
        right[(l, i)] = (at, old[1])
        return {"json": {"neuron": [l, i], "at": format_number(at)}, "children": [(box, left), (box, right)]}


def _piece_of(f: Any, lo: Fraction | None, hi: Fraction | None) -> int:
    """The piece of activation f that the interval [lo, hi] (None: unbounded) lies in; a
    point interval at a knot takes the piece on the right (both agree there)."""
    if lo is not None and hi is not None:
        t = (lo + hi) / 2
    elif lo is not None:
        t = lo + 1
    elif hi is not None:
        t = hi - 1
    else:
        t = Fraction(0)
    j = 0
    while j < len(f.knots) and f.knots[j] <= t:
        j += 1
    return j


@dataclass
class _Exact:
    """A node's exact canonical bounds: for ReLU networks as floats that hold them exactly
    (`filtered.relu_bounds`), else as rationals (`propagation.exact_bounds`)."""

    floats: FloatLayers | None
    rationals: Bounds | None
    _pieces: list[list[Piece]] | None = None

    def fractions(self) -> Bounds:
        if self.rationals is None:
            self.rationals = to_bounds(self.floats or [])
        return self.rationals

    def float_layers(self) -> FloatLayers:
        if self.floats is not None:
            return self.floats
        return [(np.array([float(v) for v in lo]), np.array([float(v) for v in hi])) for lo, hi in self.fractions()]

    def pieces(self, m: Model) -> list[list[Piece]]:
        if self._pieces is None:
            self._pieces = pieces_of(m, self.fractions())
        return self._pieces

    def unstable(self, m: Model) -> list[tuple[int, int]]:
        """The neurons whose interval meets more than one piece of their activation."""
        if self.floats is not None:
            return [(l, int(i)) for l, (lo, hi) in enumerate(self.floats) for i in np.nonzero((lo < 0) & (hi > 0))[0]]
        return [(l, i) for l, ps in enumerate(self.pieces(m)) for i, p in enumerate(ps) if not p.linear]


def _float_from_exact(layers: FloatLayers) -> FloatBounds:
    lo = [a for a, _ in layers]
    hi = [b for _, b in layers]
    sp, sm = zip(*[_relu_slopes(a, b) for a, b in zip(lo, hi)]) if layers else ((), ())
    return FloatBounds(lo, hi, list(sp), list(sm))


def _combine(atoms: Sequence[Atom], theta: Sequence[Fraction], rows: Sequence[Atom], ys: Sequence[Fraction], n: int, k: int) -> tuple[list[Fraction], list[Fraction], Fraction]:
    """``Σ θ_j atom_j + Σ y_r row_r`` as (c_y, c_x, const)."""
    cy = [Fraction(0)] * k
    cx = [Fraction(0)] * n
    const = Fraction(0)
    for t, a in list(zip(theta, atoms)) + list(zip(ys, rows)):
        if not t:
            continue
        for i, v in enumerate(a.y_coef):
            cy[i] += t * v
        for i, v in enumerate(a.x_coef):
            cx[i] += t * v
        const += t * a.const
    return cy, cx, const


def _sparse(labels: Sequence[Any], values: Sequence[Fraction] | None) -> list[list[Any]]:
    return [[lab, format_number(v)] for lab, v in zip(labels, values or ()) if v]


def _volume(box: Box) -> Fraction:
    v = Fraction(1)
    for lo, hi in box:
        v *= hi - lo
    return v


def _short_midpoint(lo: Fraction, hi: Fraction) -> Fraction:
    """A point strictly inside (lo, hi) near the middle, with a short dyadic expansion when one fits."""
    mid = (lo + hi) / 2
    for bits in range(0, 64):
        scale = 1 << bits
        q = Fraction(round(mid * scale), scale)
        if lo < q < hi and abs(q - mid) <= (hi - lo) / 8:
            return q
    return mid


def _exact_in_box(x: np.ndarray, box: Box) -> tuple[Fraction, ...]:
    out = []
    for v, (lo, hi) in zip(x, box):
        q = Fraction(float(v))
        out.append(min(max(q, lo), hi))
    return tuple(out)


def _shorter(x: tuple[Fraction, ...], box: Box) -> list[tuple[Fraction, ...]]:
    """x rounded to the grids 2^-8, 2^-16, 2^-24 (kept within the box), then x itself."""
    out = []
    for bits in (8, 16, 24):
        scale = 1 << bits
        q = tuple(min(max(Fraction(round(v * scale), scale), lo), hi) for v, (lo, hi) in zip(x, box))
        if q not in out:
            out.append(q)
    return out + [x]


def _input_point(box: Box, rows: Sequence[Atom]) -> tuple[Fraction, ...] | None:
    """An exact point of the box and the input rows (non-strict closure), or None."""
    from ..polyhedra.lp import feasible_point

    n = len(box)
    A, b = [], []
    for d, (lo, hi) in enumerate(box):
        e = [Fraction(1) if j == d else Fraction(0) for j in range(n)]
        A.append(e)
        b.append(hi)
        A.append([-v for v in e])
        b.append(-lo)
    for a in rows:
        A.append(list(a.x_coef))
        b.append(-a.const)
    res = feasible_point(A, b, dim=n)
    return res.point


def region_maximum(m: Model, box: Box, input_rows: Sequence[Atom], neg: Sequence[Fraction], x0: Sequence[Fraction]) -> tuple[tuple[Fraction, ...], Fraction]:
    """The maximum of ``−neg·f(x)`` over the closed activation region of ``x0`` within the
    box and the input rows, exactly: (an optimal vertex, the value there)."""
    s = _Search(m, box, input_rows, [()], Options(lp=False, attack=0))
    neuron_rows, G, h = s.region_rows(x0)
    n = m.input_dim
    rows: list[tuple[list[fmpq], fmpq]] = []
    for d, (lo, hi) in enumerate(box):
        e = [fmpq(1) if j == d else fmpq(0) for j in range(n)]
        rows.append((e, to_fmpq(hi)))
        rows.append(([-v for v in e], -to_fmpq(lo)))
    for a in input_rows:
        rows.append(([to_fmpq(v) for v in a.x_coef], -to_fmpq(a.const)))
    rows.extend((r[1], r[2]) for r in neuron_rows)
    c = fmpq_mat(1, len(neg), [-to_fmpq(v) for v in neg]) * G
    res = lp_max([c[0, j] for j in range(n)], [r[0] for r in rows], [r[1] for r in rows])
    if res.status != OPTIMAL:
        raise AssertionError(f"the region LP is {res.status} on a bounded nonempty region")
    x = tuple(res.point)
    y = _fx(m, x)
    return x, -sum((a * v for a, v in zip(neg, y)), Fraction(0))


def search(m: Model, box: Box, input_rows: Sequence[Atom], conjunctions: Sequence[Sequence[Atom]], opts: Options) -> SearchOutcome:
    """Decide whether some x in ``box ∩ input_rows`` has ``(x, f(x))`` in one of the
    conjunctions (atoms on y, possibly x); raises `SearchLimit` at a limit."""
    return _Search(m, box, input_rows, conjunctions, opts).run()
