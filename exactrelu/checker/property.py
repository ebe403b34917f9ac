"""The independent checker of ``holds`` certificates of properties (``exactrelu-property-certificate/1``).

Nothing here comes from the engine: the network is read by `reader.read_network`, the
property's rows and the proofs by this module, every number is a `Fraction`, and no LP is
solved. The certificate claims that no input of the property's input set reaches its
unsafe set (a disjunction of conjunctions of atoms ``a·x + c·y + d <= 0``, or ``< 0``). It
holds:

- ``groups``: a partition of the disjuncts by their atoms on x alone (their *input set*);
  each group either proves its input set empty (Farkas multipliers on those atoms) or gives
  a ``box`` containing it, each bound proved by one atom or by multipliers on the atoms,
  and a ``tree``;
- a tree node: ``proofs`` closing some of the group's conjunctions on the node's set, and,
  unless every conjunction is closed, a ``split`` with two ``children``: ``{"input": d,
  "at": p}`` (``x_d <= p`` / ``x_d >= p``) or ``{"neuron": [l, i], "at": t}`` with t a knot
  of that neuron's activation (``z <= t`` / ``z >= t``); the children cover the node.

At every node the checker computes the bounds of every hidden pre-activation over the
node's box and within its neuron splits by the certificate's ``rules``: the canonical
symbolic propagation of `exactrelu.properties.propagation` (restated here and implemented
again: layer 1 by interval arithmetic; later layers backwards, each neuron ``(z, a)`` in the
convex hull of its activation's graph on ``[lo, hi]``, multiplier ``λ = s ν`` with the one
piece's slope, or for σ convex there the slope of the piece covering the longest part of
the interval (first on ties) when ``ν >= 0`` and the chord slope rounded to the nearest
multiple of ``2^-slope_bits`` (ties up) when ``ν < 0``, swapped for concave σ, the rounded
chord otherwise, then λ rounded to the nearest multiple of ``2^-lambda_bits`` (ties up); a
point interval at a knot uses the slope on its right; each bound
rounded outward to a multiple of ``2^-grid_bits``, then cut by the node's splits). A node
whose cut leaves a neuron no value is empty. For ReLU networks the rule is evaluated by
the checker's own floating-point filter (`exactrelu.checker.floats`: float64 with error
radii, decided exactly, the `Fraction` code here wherever the floats cannot tell), so an
ACAS Xu certificate checks in about a second. A proof of conjunction k is one of:

- ``bound`` / ``dual``: weights ``θ >= 0`` on its atoms (and ``y >= 0`` on the input atoms):
  the lower bound of ``Σ θ_j atom_j + Σ y_r input_r`` computed backwards with, per hidden
  layer, the multipliers ``lambdas`` (``dual``) or the rule above (``bound``), each neuron's
  term the minimum over its hull's vertices, the input term the minimum over the box, is
  ``> 0`` (or ``>= 0`` with some θ on a strict atom): then no point of the node satisfies
  the conjunction;
- ``affine``: every neuron is on one piece at the node, so f is affine there; multipliers
  ``>= 0`` on the rows (box, input atoms, each neuron's interval, the conjunction's atoms,
  all as ``r·x <= s`` in x) with ``Σ y r = 0`` and ``Σ y s < 0`` (or ``= 0`` with weight on a
  strict atom): Farkas' lemma.

>>> from exactrelu.properties.prove import prove
>>> from exactrelu.properties.vnnlib import parse_vnnlib
>>> from exactrelu.core.network import Network, affine, activation
>>> net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])
>>> p = parse_vnnlib("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= -1 X_0 2))(assert (> Y_0 2))")
>>> cert = prove(net, p, certificate=True).certificate
>>> check_property(cert).ok
True
>>> cert["network"]["layers"][2]["weight"][0][0] = "2"      # now f(2) = 4 > 2
>>> v = check_property(cert)
>>> v.ok, "does not close" in v.problems[0]
(False, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

from .floats import ReluFilter, Undecided
from .reader import (
    PL,
    Affine,
    Limits,
    Malformed,
    Net,
    Reader,
    Row,
    read_network,
    show_number,
)
from .verdict import Rejected, Verdict

FORMAT = "exactrelu-property-certificate/1"
Vec = tuple[Fraction, ...]
MAX_BITS = 256


@dataclass(frozen=True)
class _Atom:
    x: Vec
    y: Vec
    const: Fraction
    strict: bool

    @property
    def on_inputs(self) -> bool:
        return not any(self.y)


def check_property(doc: Any, limits: Limits = Limits(), case: tuple[Net, tuple[Row, ...]] | None = None) -> Verdict:
    """Check a property certificate (module docstring); ``case``: the network it must be about."""
    try:
        return _check(doc, Reader(limits), case)
    except Rejected as e:
        return Verdict(False, (str(e),))
    except Malformed as e:
        return Verdict(False, (f"malformed certificate: {e}",))


# -- reading --------------------------------------------------------------------------------


def _atoms(rd: Reader, v: Any, path: str, n: int, k: int) -> list[_Atom]:
    out = []
    for j, item in enumerate(rd.items(v, path)):
        p = f"{path}[{j}]"
        d = rd.obj(item, p, ("x", "y", "const", "strict"))
        if not isinstance(d["strict"], bool):
            raise Malformed(f"{p}.strict", "true or false")
        out.append(_Atom(rd.vector(d["x"], f"{p}.x", n), rd.vector(d["y"], f"{p}.y", k), rd.number(d["const"], f"{p}.const"), d["strict"]))
    return out


def _check(doc: Any, rd: Reader, case: tuple[Net, tuple[Row, ...]] | None) -> Verdict:
    d = rd.obj(doc, "", ("format", "claim", "network", "property", "rules", "groups"))
    if d["format"] != FORMAT:
        raise Malformed("format", repr(FORMAT))
    if d["claim"] != "holds":
        raise Malformed("claim", "'holds'")
    net = read_network(d["network"], "network", rd.limits)
    if case is not None and net != case[0]:
        raise Rejected("network: the certificate is about another network than the given case")
    rules = rd.obj(d["rules"], "rules", ("grid_bits", "slope_bits", "lambda_bits"))
    grid = rd.integer(rules["grid_bits"], "rules.grid_bits", 0, MAX_BITS)
    sbits = rd.integer(rules["slope_bits"], "rules.slope_bits", 0, MAX_BITS)
    lbits = rd.integer(rules["lambda_bits"], "rules.lambda_bits", 0, MAX_BITS)
    p = rd.obj(d["property"], "property", ("input_dim", "output_dim", "disjuncts"))
    n = rd.integer(p["input_dim"], "property.input_dim", 1)
    k = rd.integer(p["output_dim"], "property.output_dim", 1)
    if (n, k) != (net.input_dim, net.output_dim):
        raise Rejected(f"property: {n} inputs and {k} outputs, but the network has {net.input_dim} and {net.output_dim}")
    disjuncts = [_atoms(rd, c, f"property.disjuncts[{i}]", n, k) for i, c in enumerate(rd.items(p["disjuncts"], "property.disjuncts", nonempty=True))]
    covered: dict[int, int] = {}
    stats = {"groups": 0, "nodes": 0, "leaves": 0, "proofs": 0}
    ctx = _Ctx(net, grid, sbits, lbits)
    for gi, g in enumerate(rd.items(d["groups"], "groups")):
        path = f"groups[{gi}]"
        gd = rd.mapping(g, path)
        members = [rd.integer(v, f"{path}.disjuncts[{j}]", 0, len(disjuncts) - 1) for j, v in enumerate(rd.items(gd.get("disjuncts"), f"{path}.disjuncts", nonempty=True))]
        for m in members:
            if m in covered:
                raise Rejected(f"{path}.disjuncts: disjunct {m} is also in group {covered[m]}")
            covered[m] = gi
        inputs = [a for a in disjuncts[members[0]] if a.on_inputs]
        for m in members[1:]:
            if set(a for a in disjuncts[m] if a.on_inputs) != set(inputs):
                raise Rejected(f"{path}.disjuncts: disjunct {m} has other input atoms than disjunct {members[0]}")
        conjs = [[a for a in disjuncts[m] if not a.on_inputs] for m in members]
        stats["groups"] += 1
        if "empty" in gd:
            rd.obj(gd, path, ("disjuncts", "empty"))
            _check_empty(rd, gd["empty"], f"{path}.empty", inputs, n)
            stats["proofs"] += 1
            continue
        rd.obj(gd, path, ("disjuncts", "box", "box_proofs", "tree"))
        box = _box(rd, gd["box"], gd["box_proofs"], path, inputs, n)
        for j, c in enumerate(conjs):
            if not c:
                raise Rejected(f"{path}: conjunction {j} has no atom on the outputs: its whole input set is unsafe")
        _walk(rd, ctx, gd["tree"], f"{path}.tree", box, {}, set(range(len(conjs))), conjs, inputs, stats)
    missing = sorted(set(range(len(disjuncts))) - set(covered))
    if missing:
        raise Rejected(f"groups: disjunct {missing[0]} is in no group")
    return Verdict(True, counts=stats, diagnostics={"claims_checked": stats["proofs"]})


def _dot(a: Sequence[Fraction], b: Sequence[Fraction]) -> Fraction:
    return sum((u * v for u, v in zip(a, b) if u), Fraction(0))


def _multipliers(rd: Reader, v: Any, path: str, count: int) -> dict[int, Fraction]:
    out: dict[int, Fraction] = {}
    for j, item in enumerate(rd.items(v, path)):
        pair = rd.items(item, f"{path}[{j}]", 2)
        idx = rd.integer(pair[0], f"{path}[{j}][0]", 0, count - 1)
        val = rd.number(pair[1], f"{path}[{j}][1]")
        if val < 0:
            raise Rejected(f"{path}[{j}]: a negative multiplier {show_number(val)}")
        out[idx] = out.get(idx, Fraction(0)) + val
    return out


def _check_empty(rd: Reader, v: Any, path: str, inputs: list[_Atom], n: int) -> None:
    """Farkas: y >= 0 on the input atoms (a·x + c <= 0) with Σ y a = 0 and Σ y c > 0."""
    y = _multipliers(rd, v, path, len(inputs))
    comb = [sum((t * inputs[j].x[i] for j, t in y.items()), Fraction(0)) for i in range(n)]
    if any(comb) or not sum((t * inputs[j].const for j, t in y.items()), Fraction(0)) > 0:
        raise Rejected(f"{path}: the multipliers do not prove the input set empty")


def _box(rd: Reader, raw: Any, proofs: Any, path: str, inputs: list[_Atom], n: int) -> list[tuple[Fraction, Fraction]]:
    box = []
    items = rd.items(raw, f"{path}.box", n)
    pitems = rd.items(proofs, f"{path}.box_proofs", n)
    for i in range(n):
        pair = rd.items(items[i], f"{path}.box[{i}]", 2)
        lo, hi = rd.number(pair[0], f"{path}.box[{i}][0]"), rd.number(pair[1], f"{path}.box[{i}][1]")
        if lo > hi:
            raise Rejected(f"{path}.box[{i}]: lo > hi")
        sides = rd.items(pitems[i], f"{path}.box_proofs[{i}]", 2)
        for side, bound, pr in (("lo", lo, sides[0]), ("hi", hi, sides[1])):
            pp = f"{path}.box_proofs[{i}][{0 if side == 'lo' else 1}]"
            sign = Fraction(1) if side == "hi" else Fraction(-1)
            target = [sign if j == i else Fraction(0) for j in range(n)]
            pd = rd.mapping(pr, pp)
            if "atom" in pd:
                rd.obj(pd, pp, ("atom",))
                j = rd.integer(pd["atom"], f"{pp}.atom", 0, len(inputs) - 1)
                a = inputs[j]
                # a·x + c <= 0 with a = t e_i, t having the side's sign: x_i <= -c/t (hi) or >= -c/t (lo)
                t = a.x[i]
                if any(v for m, v in enumerate(a.x) if m != i) or t * sign <= 0 or not (-a.const / t - bound) * sign <= 0:
                    raise Rejected(f"{pp}: input atom {j} does not imply the {side} bound {show_number(bound)} of x_{i}")
            else:
                rd.obj(pd, pp, ("multipliers",))
                y2 = _multipliers(rd, pd["multipliers"], f"{pp}.multipliers", len(inputs))
                comb = [sum((t * inputs[j].x[m] for j, t in y2.items()), Fraction(0)) for m in range(n)]
                rhs = -sum((t * inputs[j].const for j, t in y2.items()), Fraction(0))
                if comb != target or rhs > sign * bound:
                    raise Rejected(f"{pp}: the multipliers do not prove the {side} bound {show_number(bound)} of x_{i}")
        box.append((lo, hi))
    return box


# -- the canonical bounds, again ------------------------------------------------------------


@dataclass(frozen=True)
class _Hull:
    verts: tuple[tuple[Fraction, Fraction], ...]
    plus: Fraction
    minus: Fraction
    one_piece: bool


class _Ctx:
    def __init__(self, net: Net, grid: int, sbits: int, lbits: int) -> None:
        self.net = net
        self.grid = 1 << grid
        self.sbits = 1 << sbits
        self.lbits = 1 << lbits
        self.affines = net.affines
        self.acts = net.activations
        relu = all(f.knots == (0,) and f.slopes == (0, 1) and f.value == 0 for act in self.acts for f in act.functions)
        self.floats = ReluFilter([A.weight for A in self.affines], [A.bias for A in self.affines], grid, sbits, lbits) if relu else None

    def hull(self, f: PL, lo: Fraction, hi: Fraction) -> _Hull:
        ts = [lo] + [t for t in f.knots if lo < t < hi] + ([hi] if hi != lo else [])
        verts = tuple((t, f(t)) for t in ts)
        if len(ts) <= 2:
            s = f.slopes[_piece(f, lo, hi)]
            return _Hull(verts, s, s, True)
        slopes = [f.slopes[_piece(f, a, b)] for a, b in zip(ts, ts[1:])]
        lengths = [b - a for a, b in zip(ts, ts[1:])]
        best = 0
        for j in range(1, len(slopes)):
            if lengths[j] > lengths[best]:
                best = j
        chord = (f(hi) - f(lo)) / (hi - lo)
        r = Fraction(math.floor(chord * self.sbits + Fraction(1, 2)), self.sbits)
        if all(a < b for a, b in zip(slopes, slopes[1:])):
            return _Hull(verts, slopes[best], r, False)
        if all(a > b for a, b in zip(slopes, slopes[1:])):
            return _Hull(verts, r, slopes[best], False)
        return _Hull(verts, r, r, False)

    def backward(self, layer: int, C: list[list[Fraction]], d: list[Fraction], hulls: list[list[_Hull]], lambdas: list[list[Fraction]] | None) -> tuple[list[list[Fraction]], list[Fraction]]:
        """Objectives ``C a_{layer-1} + d`` down to the inputs (module docstring)."""
        for l in range(layer - 1, -1, -1):
            A = self.affines[l]
            newC = []
            for r, row in enumerate(C):
                lam = []
                for i, nu in enumerate(row):
                    h = hulls[l][i]
                    if lambdas is not None:
                        li = lambdas[l][i]
                    elif nu == 0:
                        lam.append(Fraction(0))
                        continue
                    else:
                        li = Fraction(math.floor(nu * (h.plus if nu > 0 else h.minus) * self.lbits + Fraction(1, 2)), self.lbits)
                    lam.append(li)
                    d[r] += min(nu * a - li * t for t, a in h.verts)
                d[r] += _dot(lam, A.bias)
                newC.append([_dot(lam, col) for col in zip(*A.weight)])
            C = newC
        return C, d

    def node(self, box: list[tuple[Fraction, Fraction]], restrict: dict[tuple[int, int], tuple[Fraction | None, Fraction | None]]) -> "_Node | None":
        """The node's canonical bounds (None: empty): by the float filter for ReLU networks
        (rows it cannot settle in exact rationals), else in exact rationals."""
        if self.floats is not None:
            try:
                layers = self.floats.bounds(box, restrict, lambda l, r, layers: self._exact_cell(box, l, r, layers))
            except Undecided:
                layers = False  # a bound too large for a float: all in rationals
            if layers is None:
                return None
            if layers is not False:
                return _Node(self, box, layers, None)
        exact = self.bounds(box, restrict)
        return None if exact is None else _Node(self, box, None, exact)

    def _exact_cell(self, box: list[tuple[Fraction, Fraction]], l: int, r: int, layers: list[Any]) -> int:
        """floor(2^grid_bits × row r's exact bound) at layer l (r < w: lo of neuron r, else −hi of neuron r − w)."""
        A = self.affines[l]
        w = A.out_dim
        sign = 1 if r < w else -1
        C = [[sign * v for v in A.weight[r % w]]]
        d = [sign * A.bias[r % w]]
        if l:
            hulls = [[self.hull(f, Fraction(float(a)), Fraction(float(b))) for f, a, b in zip(self.acts[k].functions, lo, hi)] for k, (lo, hi) in enumerate(layers)]
            C, d = self.backward(l, C, d, hulls, None)
        v = d[0] + _box_min(C[0], box)
        return math.floor(v * self.grid)

    def bounds(self, box: list[tuple[Fraction, Fraction]], restrict: dict[tuple[int, int], tuple[Fraction | None, Fraction | None]]) -> tuple[list[tuple[list[Fraction], list[Fraction]]], list[list[_Hull]]] | None:
        out: list[tuple[list[Fraction], list[Fraction]]] = []
        hulls: list[list[_Hull]] = []
        for l, act in enumerate(self.acts):
            A = self.affines[l]
            w = A.out_dim
            if l == 0:
                los = [_box_min(row, box) + b for row, b in zip(A.weight, A.bias)]
                his = [-_box_min([-v for v in row], box) + b for row, b in zip(A.weight, A.bias)]
            else:
                C = [list(row) for row in A.weight] + [[-v for v in row] for row in A.weight]
                d = list(A.bias) + [-b for b in A.bias]
                C, d = self.backward(l, C, d, hulls, None)
                vals = [dr + _box_min(row, box) for row, dr in zip(C, d)]
                los, his = vals[:w], [-v for v in vals[w:]]
            lo = [Fraction(math.floor(v * self.grid), self.grid) for v in los]
            hi = [Fraction(math.ceil(v * self.grid), self.grid) for v in his]
            for i in range(w):
                r = restrict.get((l, i))
                if r is not None:
                    if r[0] is not None and r[0] > lo[i]:
                        lo[i] = r[0]
                    if r[1] is not None and r[1] < hi[i]:
                        hi[i] = r[1]
                if lo[i] > hi[i]:
                    return None
            out.append((lo, hi))
            hulls.append([self.hull(f, a, b) for f, a, b in zip(act.functions, lo, hi)])
        return out, hulls

    def objective_bound(self, box: list[tuple[Fraction, Fraction]], hulls: list[list[_Hull]], cy: list[Fraction], cx: list[Fraction], const: Fraction, lambdas: list[list[Fraction]] | None) -> Fraction:
        last = self.affines[-1]
        d = [const + _dot(cy, last.bias)]
        C = [[_dot(cy, col) for col in zip(*last.weight)]]
        C, d = self.backward(len(self.acts), C, d, hulls, lambdas)
        return d[0] + _box_min([u + v for u, v in zip(C[0], cx)], box)


class _Node:
    """A node's canonical bounds: as floats holding them exactly (`floats`), or as
    rationals with their hulls; the other form is made when asked for."""

    def __init__(self, ctx: _Ctx, box: list[tuple[Fraction, Fraction]], layers: list[Any] | None,
                 exact: tuple[list[tuple[list[Fraction], list[Fraction]]], list[list[_Hull]]] | None) -> None:
        self.ctx, self.box, self.layers, self._exact = ctx, box, layers, exact

    def widths(self) -> list[int]:
        return [len(act.functions) for act in self.ctx.acts]

    def exact(self) -> tuple[list[tuple[list[Fraction], list[Fraction]]], list[list[_Hull]]]:
        if self._exact is None:
            assert self.layers is not None
            bounds = [([Fraction(float(v)) for v in lo], [Fraction(float(v)) for v in hi]) for lo, hi in self.layers]
            hulls = [[self.ctx.hull(f, a, b) for f, a, b in zip(act.functions, lo, hi)] for act, (lo, hi) in zip(self.ctx.acts, bounds)]
            self._exact = (bounds, hulls)
        return self._exact

    def sign(self, cy: list[Fraction], cx: list[Fraction], const: Fraction, lambdas: list[list[Fraction]] | None) -> tuple[int, Fraction | None]:
        """The sign of the layered bound (and its exact value when the rationals were needed)."""
        if self.layers is not None and self.ctx.floats is not None:
            s = self.ctx.floats.sign(self.layers, self.box, cy, cx, const, lambdas)
            if s is not None:
                return s, None
        v = self.ctx.objective_bound(self.box, self.exact()[1], cy, cx, const, lambdas)
        return (v > 0) - (v < 0), v


def _piece(f: PL, a: Fraction, b: Fraction) -> int:
    """The piece holding (a, b); a point at a knot: the piece on its right."""
    mid = (a + b) / 2
    return sum(1 for t in f.knots if t <= mid) if a == b else sum(1 for t in f.knots if t < mid)


def _box_min(c: Sequence[Fraction], box: Sequence[tuple[Fraction, Fraction]]) -> Fraction:
    return sum((v * (lo if v > 0 else hi) for v, (lo, hi) in zip(c, box) if v), Fraction(0))


# -- the tree ----------------------------------------------------------------------------------


def _walk(rd: Reader, ctx: _Ctx, node: Any, path: str, box: list[tuple[Fraction, Fraction]], restrict: dict[Any, Any],
          open_: set[int], conjs: list[list[_Atom]], inputs: list[_Atom], stats: dict[str, int]) -> None:
    stack = [(node, path, box, restrict, open_)]
    while stack:
        node, path, box, restrict, open_ = stack.pop()
        stats["nodes"] += 1
        nd = rd.obj(node, path, ("proofs",), ("split", "children"))
        computed = ctx.node(box, restrict)
        open_ = set(open_)
        for j, pr in enumerate(rd.items(nd["proofs"], f"{path}.proofs")):
            pp = f"{path}.proofs[{j}]"
            pd = rd.mapping(pr, pp)
            kind = pd.get("kind")
            stats["proofs"] += 1
            if kind == "empty":
                rd.obj(pd, pp, ("kind",))
                if computed is not None:
                    raise Rejected(f"{pp}: the node is not empty (every neuron keeps a value)")
                open_.clear()
                continue
            if computed is None:
                raise Rejected(f"{pp}: the node is empty; only an 'empty' proof applies")
            kk = rd.integer(pd.get("conjunct"), f"{pp}.conjunct", 0, len(conjs) - 1)
            atoms = conjs[kk]
            if kind in ("bound", "dual"):
                keys = ("kind", "conjunct", "theta") + (("lambdas", "y") if kind == "dual" else ())
                rd.obj(pd, pp, keys)
                theta = rd.vector(pd["theta"], f"{pp}.theta", len(atoms))
                y = rd.vector(pd["y"], f"{pp}.y", len(inputs)) if kind == "dual" else (Fraction(0),) * len(inputs)
                if any(t < 0 for t in theta) or any(t < 0 for t in y):
                    raise Rejected(f"{pp}: a negative weight")
                lambdas = None
                if kind == "dual":
                    raw = rd.items(pd["lambdas"], f"{pp}.lambdas", len(ctx.acts))
                    widths = computed.widths()
                    lambdas = [list(rd.vector(v, f"{pp}.lambdas[{l}]", widths[l])) for l, v in enumerate(raw)]
                n, kdim = ctx.net.input_dim, ctx.net.output_dim
                cy = [sum((t * a.y[o] for t, a in zip(theta, atoms)), Fraction(0)) for o in range(kdim)]
                cx = [sum((t * a.x[i] for t, a in zip(list(theta) + list(y), atoms + inputs)), Fraction(0)) for i in range(n)]
                const = sum((t * a.const for t, a in zip(list(theta) + list(y), atoms + inputs)), Fraction(0))
                sign, value = computed.sign(cy, cx, const, lambdas)
                strict = any(t and a.strict for t, a in zip(theta, atoms))
                if not (sign > 0 or (strict and sign >= 0)):
                    if value is None:
                        value = ctx.objective_bound(box, computed.exact()[1], cy, cx, const, lambdas)
                    raise Rejected(f"{pp}: the bound {show_number(value)} does not close conjunction {kk}")
            elif kind == "affine":
                rd.obj(pd, pp, ("kind", "conjunct", "multipliers"))
                bounds, hulls = computed.exact()
                _check_affine(rd, ctx, pd["multipliers"], f"{pp}.multipliers", box, bounds, hulls, atoms, inputs)
            else:
                raise Malformed(f"{pp}.kind", "'empty', 'bound', 'dual' or 'affine'")
            open_.discard(kk)
        if not open_:
            stats["leaves"] += 1
            if "split" in nd or "children" in nd:
                raise Malformed(path, "no split at a node where every conjunction is closed")
            continue
        if "split" not in nd:
            raise Rejected(f"{path}: conjunction {min(open_)} is not closed at this leaf")
        if computed is None:
            raise Rejected(f"{path}: an empty node needs its 'empty' proof")
        sp = rd.mapping(nd["split"], f"{path}.split")
        kids = rd.items(nd.get("children"), f"{path}.children", 2)
        at = rd.number(sp.get("at"), f"{path}.split.at")
        if "input" in sp:
            rd.obj(sp, f"{path}.split", ("input", "at"))
            dim = rd.integer(sp["input"], f"{path}.split.input", 0, len(box) - 1)
            lo, hi = box[dim]
            if not lo <= at <= hi:
                raise Rejected(f"{path}.split: {show_number(at)} is outside [{show_number(lo)}, {show_number(hi)}]")
            left = [(lo, at) if i == dim else b for i, b in enumerate(box)]
            right = [(at, hi) if i == dim else b for i, b in enumerate(box)]
            stack.append((kids[1], f"{path}.children[1]", right, restrict, open_))
            stack.append((kids[0], f"{path}.children[0]", left, restrict, open_))
        else:
            rd.obj(sp, f"{path}.split", ("neuron", "at"))
            li = rd.items(sp["neuron"], f"{path}.split.neuron", 2)
            l = rd.integer(li[0], f"{path}.split.neuron[0]", 0, len(ctx.acts) - 1)
            i = rd.integer(li[1], f"{path}.split.neuron[1]", 0, len(ctx.acts[l].functions) - 1)
            if at not in ctx.acts[l].functions[i].knots:
                raise Rejected(f"{path}.split: {show_number(at)} is not a knot of neuron {l}.{i}")
            old = restrict.get((l, i), (None, None))
            left = dict(restrict)
            right = dict(restrict)
            left[(l, i)] = (old[0], at if old[1] is None else min(old[1], at))
            right[(l, i)] = (at if old[0] is None else max(old[0], at), old[1])
            stack.append((kids[1], f"{path}.children[1]", box, right, open_))
            stack.append((kids[0], f"{path}.children[0]", box, left, open_))


def _check_affine(rd: Reader, ctx: _Ctx, raw: Any, path: str, box: list[tuple[Fraction, Fraction]], bounds: Any, hulls: list[list[_Hull]], atoms: list[_Atom], inputs: list[_Atom]) -> None:
    net = ctx.net
    n = net.input_dim
    if not all(h.one_piece for hs in hulls for h in hs):
        raise Rejected(f"{path}: some neuron is not on one piece at this node; f is not affine there")
    G = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    h0 = [Fraction(0)] * n
    rows: dict[tuple[Any, ...], tuple[list[Fraction], Fraction]] = {}
    for l, act in enumerate(ctx.acts):
        A: Affine = ctx.affines[l]
        Z = [[_dot(row, col) for col in zip(*G)] for row in A.weight]
        zh = [_dot(row, h0) + b for row, b in zip(A.weight, A.bias)]
        lo, hi = bounds[l]
        newG, newh = [], []
        for i, f in enumerate(act.functions):
            rows[("neuron", l, i, "lo")] = ([-v for v in Z[i]], zh[i] - lo[i])
            rows[("neuron", l, i, "hi")] = (Z[i], hi[i] - zh[i])
            s, c = f.piece_affine(_piece(f, lo[i], hi[i]))
            newG.append([s * v for v in Z[i]])
            newh.append(s * zh[i] + c)
        G, h0 = newG, newh
    last = ctx.affines[-1]
    FG = [[_dot(row, col) for col in zip(*G)] for row in last.weight]
    Fh = [_dot(row, h0) + b for row, b in zip(last.weight, last.bias)]
    for d, (lo, hi) in enumerate(box):
        e = [Fraction(int(j == d)) for j in range(n)]
        rows[("box", d, "hi")] = (e, hi)
        rows[("box", d, "lo")] = ([-v for v in e], -lo)
    for r, a in enumerate(inputs):
        rows[("input", r)] = (list(a.x), -a.const)
    for j, a in enumerate(atoms):  # a.y·(FG x + Fh) + a.x·x + a.const <= 0
        u = [_dot(a.y, col) + a.x[i] for i, col in enumerate(zip(*FG))]
        rows[("atom", j)] = (u, -(_dot(a.y, Fh) + a.const))
    total = [Fraction(0)] * n
    rhs = Fraction(0)
    strict = False
    for m, item in enumerate(rd.items(raw, path)):
        pair = rd.items(item, f"{path}[{m}]", 2)
        label = tuple(rd.items(pair[0], f"{path}[{m}][0]"))
        val = rd.number(pair[1], f"{path}[{m}][1]")
        if label not in rows:
            raise Malformed(f"{path}[{m}][0]", "a row label: ['box', d, 'lo'|'hi'], ['input', r], ['neuron', l, i, 'lo'|'hi'] or ['atom', j]")
        if val < 0:
            raise Rejected(f"{path}[{m}]: a negative multiplier")
        a, b = rows[label]
        total = [t + val * v for t, v in zip(total, a)]
        rhs += val * b
        if label[0] == "atom" and val and atoms[label[1]].strict:
            strict = True
    if any(total) or not (rhs < 0 or (strict and rhs == 0)):
        raise Rejected(f"{path}: the multipliers do not prove the conjunction infeasible on the node")
