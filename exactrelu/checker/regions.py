"""The check of a region certificate (``exactrelu-certificate/1``, written by
`exactrelu.certificate`).

It reads the certificate's case with the checker's own reader (`.reader`), computes with
its own forward passes in `Fraction`, and uses no LP solver. The steps, in order:

1. **cells** (`cell`): every listed pattern is valid, distinct from the others, its
   witness lies strictly inside the pattern's cell (every non-constant neuron strictly
   inside its piece, every constant neuron where its constant sits, every domain row
   strict), and the claimed Jacobian and offset are the pattern's affine map;
2. **rows** (`check_groups`): the region's rows are partitioned into groups, one per
   half-space: the rows of a group coincide, rows of different groups do not. Each
   group is a *facet*, with a point on it and strictly inside every other row, and
   either the region across it (a forward pass on the value and the derivative along
   the outward normal, `crossing`) is the listed neighbour, or the group holds a domain
   row; or it is *redundant*, with multipliers ``mu >= 0`` on other rows and ``lam < 0``
   on its own, ``lam a_g + sum mu_j a_j = 0``, ``lam b_g + sum mu_j b_j <= 0``. A proof
   may use only rows whose status is settled without it: facet groups, and redundant
   groups listed before it. So, by induction over the list, the facet rows alone imply
   every redundant row, and no circular pair of proofs can hide a facet;
3. **boundedness** (`check_bounded`): positive multipliers on rows of rank n summing to
   zero, or a recession ray;
4. **linear pieces** (`check_pieces`): regions with one label are joined by equal-map
   facets or common closure points; regions with one affine map and different labels
   have Farkas proofs that their closures do not meet;
5. **counts** and **Lipschitz constants** (`check_lipschitz`): ``L_1`` and ``L_inf``
   recomputed as the largest ``||J_R||`` over the regions, ``L_2^2`` as an algebraic
   number compared exactly with every region's ``J^T J`` eigenvalues (Sturm sequences).

Completeness: the facets of a region's closure are exactly its facet groups (step 2),
and across the relative interior of a facet the pattern is one (a neuron at its knot
somewhere in that relative interior is at its knot on the whole facet hyperplane, or
constant there), the one `crossing` names. So when every facet of every listed region
lies on the domain's boundary or leads to a listed region, a generic segment from a
listed region to any point of the domain never leaves the union of the listed
closures: the list is every region, and the counts and maxima over it are the truth.

>>> from exactrelu.certificate import certify
>>> from exactrelu.io.case import case_from_json
>>> case = case_from_json({"format": "exactrelu-network/1", "input_dim": 1,
...     "layers": [{"type": "affine", "weight": [["1"], ["-1"]]}, {"type": "relu"},
...                {"type": "affine", "weight": [["1", "1"]]}]})
>>> cert = certify(case)
>>> check_regions(cert).counts
{'activation_regions': 2, 'linear_pieces': 2, 'bounded_regions': 0}
>>> cert["regions"][0]["witness"] = ["0"]
>>> check_regions(cert).problems
('regions[0]: the witness is not strictly inside row [0, 0, 0, -1]',)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

from .reader import (
    Limits,
    Malformed,
    Net,
    Reader,
    Row,
    Vec,
    read_case,
    show_number,
    show_value,
)
from .verdict import Rejected, Verdict

FORMAT = "exactrelu-certificate/1"

Label = tuple[Any, ...]  # (layer, neuron, knot, side): side +1 for z <= knot, -1 for z >= knot; or ("domain", k)
Pattern = tuple[tuple[int, ...], ...]
Matrix = tuple[Vec, ...]

_INDEX = re.compile(r"0|[1-9][0-9]*")
_SIGNED = re.compile(r"-?(0|[1-9][0-9]*)")
ZERO = Fraction(0)


def _dot(a: Sequence[Fraction], x: Sequence[Fraction]) -> Fraction:
    return sum((u * v for u, v in zip(a, x)), ZERO)


def _combine(w: Sequence[Fraction], M: Sequence[Vec], n: int) -> Vec:
    """``sum_k w_k M_k`` (rows of length n)."""
    out = [ZERO] * n
    for wk, row in zip(w, M):
        if wk:
            for j, v in enumerate(row):
                if v:
                    out[j] += wk * v
    return tuple(out)


def _halfspace(row: Row) -> Vec:
    """The half-space ``a . x <= b`` as a key: the row divided by its first nonzero |a_k|."""
    a, b = row
    s = abs(next(v for v in a if v != 0))
    return tuple(v / s for v in a) + (b / s,)


def _show_label(lab: Label) -> str:
    return "[" + ", ".join(f'"{x}"' if isinstance(x, str) else str(x) for x in lab) + "]"


# -- step 1: cells ------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """The rows (by label, activation rows then domain rows), Jacobian and offset of a pattern."""

    rows: dict[Label, Row]
    jacobian: Matrix
    offset: Vec


def read_pattern(rd: Reader, v: Any, net: Net, path: str) -> Pattern:
    """A pattern: one list of states per activation layer, one state per neuron."""
    acts = net.activations
    layers = rd.items(v, path, len(acts))
    out = []
    for l, (states, act) in enumerate(zip(layers, acts)):
        fns = act.functions
        sts = rd.items(states, f"{path}[{l}]", len(fns))
        out.append(tuple(rd.integer(st, f"{path}[{l}][{i}]", 0, 2 * len(f.knots)) for i, (st, f) in enumerate(zip(sts, fns))))
    return tuple(out)


def cell(net: Net, pattern: Pattern, dom_rows: dict[Label, Row], where: str) -> Cell:
    """The cell of ``pattern`` by this module's own forward composition: a constant
    neuron must be in the state of its constant, a non-constant one inside a piece."""
    n = net.input_dim
    J: Matrix = tuple(tuple(Fraction(int(i == j)) for j in range(n)) for i in range(n))
    c: Vec = (ZERO,) * n
    rows: dict[Label, Row] = {}
    for l, (aff, act) in enumerate(zip(net.affines, net.activations)):
        newJ, newc = [], []
        for i, (w, bias, fn) in enumerate(zip(aff.weight, aff.bias, act.functions)):
            g = _combine(w, J, n)
            h = _dot(w, c) + bias
            st = pattern[l][i]
            if not any(g):
                if fn.state(h) != st:
                    raise Rejected(f"{where}: neuron ({l}, {i}) is constant {show_number(h)} (state {fn.state(h)}), the pattern says {st}")
                newJ.append((ZERO,) * n)
                newc.append(fn(h))
                continue
            if st % 2 == 1:
                raise Rejected(f"{where}: the pattern puts the non-constant neuron ({l}, {i}) at a knot")
            piece = st // 2
            s, icpt = fn.piece_affine(piece)
            newJ.append(tuple(s * v for v in g))
            newc.append(s * h + icpt)
            if piece > 0:
                rows[(l, i, piece - 1, -1)] = (tuple(-v for v in g), h - fn.knots[piece - 1])
            if piece < len(fn.knots):
                rows[(l, i, piece, 1)] = (g, fn.knots[piece] - h)
        J, c = tuple(newJ), tuple(newc)
    last = net.affines[-1]
    rows.update(dom_rows)
    return Cell(rows, tuple(_combine(w, J, n) for w in last.weight), last(c))


def crossing(net: Net, p: Vec, u: Vec, where: str) -> Pattern:
    """The pattern just across ``p`` in direction ``u``: at ``p + t u`` for small ``t > 0``,
    each pre-activation is its value at p plus t times its derivative along u."""
    n = net.input_dim
    v, dv = p, u
    J: Matrix = tuple(tuple(Fraction(int(i == j)) for j in range(n)) for i in range(n))
    pattern = []
    for l, (aff, act) in enumerate(zip(net.affines, net.activations)):
        states, nv, ndv, nJ = [], [], [], []
        for i, (w, bias, fn) in enumerate(zip(aff.weight, aff.bias, act.functions)):
            z = _dot(w, v) + bias
            dz = _dot(w, dv)
            g = _combine(w, J, n)
            st = fn.state(z)
            if st % 2 == 1 and any(g):
                if dz == 0:
                    raise Rejected(f"{where}: the crossing direction does not decide neuron ({l}, {i})")
                st = st + 1 if dz > 0 else st - 1
            slope = ZERO if st % 2 == 1 else fn.slopes[st // 2]
            states.append(st)
            nv.append(fn(z))
            ndv.append(slope * dz)
            nJ.append(tuple(slope * e for e in g))
        pattern.append(tuple(states))
        v, dv, J = tuple(nv), tuple(ndv), tuple(nJ)
    return tuple(pattern)


@dataclass(frozen=True)
class Listed:
    """A listed region once step 1 holds: its pattern, cell and witness."""

    pattern: Pattern
    cell: Cell
    witness: Vec


def check_cells(rd: Reader, regions: list[Any], net: Net, dom_rows: dict[Label, Row]) -> list[Listed]:
    """Step 1 for every listed region (one claim for the witness, one for the map, each)."""
    n = net.input_dim
    seen: dict[Pattern, int] = {}
    out = []
    for i, raw in enumerate(regions):
        where = f"regions[{i}]"
        r = rd.obj(raw, where, ("pattern", "witness", "jacobian", "offset", "groups", "bounded"))
        pat = read_pattern(rd, r["pattern"], net, f"{where}.pattern")
        if pat in seen:
            raise Rejected(f"{where}: the same pattern as regions[{seen[pat]}]")
        seen[pat] = i
        cl = cell(net, pat, dom_rows, where)
        w = rd.vector(r["witness"], f"{where}.witness", n)
        for lab, (a, b) in cl.rows.items():
            if not _dot(a, w) < b:
                raise Rejected(f"{where}: the witness is not strictly inside row {_show_label(lab)}")
        J = tuple(rd.vector(row, f"{where}.jacobian[{k}]", n) for k, row in enumerate(rd.items(r["jacobian"], f"{where}.jacobian")))
        c = rd.vector(r["offset"], f"{where}.offset")
        if J != cl.jacobian:
            raise Rejected(f"{where}: the Jacobian is not the pattern's")
        if c != cl.offset:
            raise Rejected(f"{where}: the offset is not the pattern's")
        out.append(Listed(pat, cl, w))
    return out


# -- step 2: rows ----------------------------------------------------------------------------


def read_label(rd: Reader, v: Any, path: str) -> Label:
    """A row label: ``[layer, neuron, knot, side]`` (side 1 or -1) or ``["domain", k]``."""
    items = rd.items(v, path)
    if len(items) == 2 and items[0] == "domain":
        return ("domain", rd.integer(items[1], f"{path}[1]", 0))
    if len(items) != 4:
        raise Malformed(path, 'a row label [layer, neuron, knot, side] or ["domain", k]')
    l, i, k, s = (rd.integer(x, f"{path}[{j}]", 0 if j < 3 else -1) for j, x in enumerate(items))
    if s not in (1, -1):
        raise Malformed(f"{path}[3]", f"a side 1 or -1, got {s}")
    return (l, i, k, s)


def _position(rd: Reader, key: str, size: int, path: str) -> int:
    if not _INDEX.fullmatch(key) or len(key) > 12 or int(key) >= size:
        raise Malformed(path, f"a row position from 0 to {size - 1} (a decimal string), got {show_value(key)}")
    return int(key)


@dataclass(frozen=True)
class Rows:
    """A region's rows once step 2 holds: by position in the certificate's groups, and
    the listed regions across its facets (None on the domain's boundary)."""

    order: tuple[Label, ...]
    neighbours: tuple[int | None, ...]


def check_groups(rd: Reader, raw_groups: Any, region: Listed, net: Net, index: dict[Pattern, int], where: str) -> Rows:
    """Step 2 for one region (one claim per group)."""
    rows = region.cell.rows
    groups: list[list[Label]] = []
    kinds: list[str] = []
    raws: list[dict[str, Any]] = []
    group_of: dict[Label, int] = {}
    for gi, grp in enumerate(rd.items(raw_groups, f"{where}.groups")):
        gw = f"{where}.groups[{gi}]"
        g = rd.obj(grp, gw, ("rows",), ("facet", "redundant"))
        if ("facet" in g) == ("redundant" in g):
            raise Malformed(gw, 'exactly one of "facet" and "redundant"')
        labs = [read_label(rd, x, f"{gw}.rows[{k}]") for k, x in enumerate(rd.items(g["rows"], f"{gw}.rows", nonempty=True))]
        for lab in labs:
            if lab not in rows:
                raise Rejected(f"{gw}: {_show_label(lab)} is not a row of this region")
            if lab in group_of:
                raise Rejected(f"{gw}: row {_show_label(lab)} is listed twice")
            group_of[lab] = gi
        groups.append(labs)
        kinds.append("facet" if "facet" in g else "redundant")
        raws.append(g)
    missing = [lab for lab in rows if lab not in group_of]
    if missing:
        raise Rejected(f"{where}: rows not accounted for: {', '.join(map(_show_label, missing[:5]))}")
    # one group per half-space
    key_group: dict[Vec, int] = {}
    for gi, labs in enumerate(groups):
        key = _halfspace(rows[labs[0]])
        for lab in labs[1:]:
            if _halfspace(rows[lab]) != key:
                raise Rejected(f"{where}.groups[{gi}]: rows {_show_label(labs[0])} and {_show_label(lab)} are different half-spaces")
        if key in key_group:
            raise Rejected(
                f"{where}.groups[{gi}]: its rows are the half-space of groups[{key_group[key]}] (coincident rows form one group)"
            )
        key_group[key] = gi
    order = tuple(lab for labs in groups for lab in labs)
    neighbours: list[int | None] = []
    for gi, (labs, kind, g) in enumerate(zip(groups, kinds, raws)):
        gw = f"{where}.groups[{gi}]"
        if kind == "facet":
            nb = _check_facet(rd, g["facet"], labs, region, net, index, gw)
            if nb is not None:
                neighbours.append(nb)
            elif not any(lab[0] == "domain" for lab in labs):
                raise Rejected(f"{gw}: a facet claimed on the domain's boundary has no domain row")
        else:
            _check_redundant(rd, g["redundant"], gi, labs, rows, order, group_of, kinds, gw)
    return Rows(order, tuple(neighbours))


def _check_facet(rd: Reader, raw: Any, labs: list[Label], region: Listed, net: Net, index: dict[Pattern, int], gw: str) -> int | None:
    """A point on the group's rows and strictly inside every other row; the region across."""
    rows = region.cell.rows
    f = rd.obj(raw, f"{gw}.facet", ("point", "neighbor"))
    p = rd.vector(f["point"], f"{gw}.facet.point", net.input_dim)
    for lab, (a, b) in rows.items():
        if lab in labs:
            if _dot(a, p) != b:
                raise Rejected(f"{gw}: the facet point is not on row {_show_label(lab)}")
        elif not _dot(a, p) < b:
            raise Rejected(f"{gw}: the facet point is not strictly inside row {_show_label(lab)}")
    if f["neighbor"] is None:
        return None
    nb = rd.integer(f["neighbor"], f"{gw}.facet.neighbor", 0, len(index) - 1)
    if any(lab[0] == "domain" for lab in labs):
        raise Rejected(f"{gw}: a facet on the domain's boundary has no neighbour")
    across = crossing(net, p, rows[labs[0]][0], gw)
    if index.get(across) != nb:
        listed = "" if across not in index else f" (regions[{index[across]}])"
        raise Rejected(f"{gw}: the pattern across the facet is {[list(s) for s in across]}{listed}, not regions[{nb}]'s")
    return nb


def _check_redundant(
    rd: Reader,
    raw: Any,
    gi: int,
    labs: list[Label],
    rows: dict[Label, Row],
    order: tuple[Label, ...],
    group_of: dict[Label, int],
    kinds: list[str],
    gw: str,
) -> None:
    """``lam a_g + sum mu_j a_j = 0``, ``lam b_g + sum mu_j b_j <= 0``, ``lam < 0``, ``mu >= 0``,
    each row j of a facet group or of a redundant group listed before this one."""
    red = rd.obj(raw, f"{gw}.redundant", ("multipliers", "row_multiplier"))
    lam = rd.number(red["row_multiplier"], f"{gw}.redundant.row_multiplier")
    if not lam < 0:
        raise Rejected(f"{gw}: the row multiplier must be negative")
    a_g, b_g = rows[labs[0]]
    total_a = [lam * v for v in a_g]
    total_b = lam * b_g
    mults = rd.mapping(red["multipliers"], f"{gw}.redundant.multipliers")
    for key, val in mults.items():
        path = f"{gw}.redundant.multipliers[{show_value(key)}]"
        lab = order[_position(rd, key, len(order), path)]
        mu = rd.number(val, path)
        h = group_of[lab]
        if h == gi:
            raise Rejected(f"{gw}: the proof uses the group's own row {_show_label(lab)}")
        if kinds[h] == "redundant" and h > gi:
            raise Rejected(
                f"{gw}: the proof uses row {_show_label(lab)} of groups[{h}], a redundant group listed after it "
                "(a proof may use facets and the redundant groups before it)"
            )
        if mu < 0:
            raise Rejected(f"{gw}: a negative multiplier on row {_show_label(lab)}")
        a, b = rows[lab]
        total_a = [x + mu * y for x, y in zip(total_a, a)]
        total_b += mu * b
    if any(total_a) or total_b > 0:
        raise Rejected(f"{gw}: the multipliers do not prove the rows redundant")


# -- step 3: boundedness ------------------------------------------------------------------


def _rank(rows: list[Vec], n: int) -> int:
    m = [list(r) for r in rows]
    rank = 0
    for col in range(n):
        piv = next((i for i in range(rank, len(m)) if m[i][col] != 0), None)
        if piv is None:
            continue
        m[rank], m[piv] = m[piv], m[rank]
        for i in range(len(m)):
            if i != rank and m[i][col] != 0:
                f = m[i][col] / m[rank][col]
                m[i] = [x - f * y for x, y in zip(m[i], m[rank])]
        rank += 1
    return rank


def check_bounded(rd: Reader, raw: Any, region: Listed, order: tuple[Label, ...], n: int, where: str) -> bool:
    """Step 3: ``{"multipliers": y}`` with ``y > 0`` on rows of rank n and ``sum y_j a_j = 0``
    (bounded), or ``{"ray": d}`` with ``d != 0`` and ``a_j . d <= 0`` on every row (unbounded)."""
    rows = region.cell.rows
    if not isinstance(raw, dict) or len(raw) != 1 or not ({"multipliers", "ray"} & set(raw)):
        raise Malformed(f"{where}.bounded", 'exactly one of {"multipliers": ...} or {"ray": ...}')
    if "ray" in raw:
        d = rd.vector(raw["ray"], f"{where}.bounded.ray", n)
        if not any(d) or any(_dot(a, d) > 0 for a, _ in rows.values()):
            raise Rejected(f"{where}: the ray is not a recession direction")
        return False
    mults = rd.mapping(raw["multipliers"], f"{where}.bounded.multipliers")
    sel, y = [], []
    for key, val in mults.items():
        path = f"{where}.bounded.multipliers[{show_value(key)}]"
        a, _ = rows[order[_position(rd, key, len(order), path)]]
        yk = rd.number(val, path)
        if not yk > 0:
            raise Rejected(f"{where}: boundedness multipliers must be positive")
        sel.append(a)
        y.append(yk)
    if any(_combine(y, sel, n)) or _rank(sel, n) < n:
        raise Rejected(f"{where}: the boundedness multipliers do not prove boundedness")
    return True


# -- step 4: linear pieces ----------------------------------------------------------------


class _Components:
    """Union-find over the listed regions (the joins step 4 has verified)."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        self.parent[self.find(i)] = self.find(j)


def _pair(rd: Reader, v: Any, size: int, path: str) -> tuple[int, int]:
    i, j = (rd.integer(x, f"{path}[{k}]", 0, size - 1) for k, x in enumerate(rd.items(v, path, 2)))
    if not i < j:
        raise Malformed(path, f"two region indices, the smaller first, got [{i}, {j}]")
    return i, j


def _row_key(rd: Reader, key: str, path: str) -> Label:
    """A row label written ``"layer,neuron,knot,side"`` or ``"domain,k"``."""
    parts = key.split(",")
    if parts[0] == "domain" and len(parts) == 2 and _INDEX.fullmatch(parts[1]):
        return ("domain", int(parts[1]))
    if len(parts) == 4 and all(_SIGNED.fullmatch(p) and len(p) < 12 for p in parts) and parts[3] in ("1", "-1"):
        return tuple(int(p) for p in parts)
    raise Malformed(path, f'a row label "layer,neuron,knot,side" or "domain,k", got {show_value(key)}')


def check_pieces(rd: Reader, raw: Any, listed: list[Listed], regions: list[Rows], n: int) -> tuple[int, int]:
    """Step 4: the number of linear pieces, and the claims checked."""
    m = len(listed)
    d = rd.obj(raw, "pieces", ("labels", "touching", "apart"))
    labels = [rd.integer(v, f"pieces.labels[{i}]", 0) for i, v in enumerate(rd.items(d["labels"], "pieces.labels", m))]
    maps = [(r.cell.jacobian, r.cell.offset) for r in listed]
    comp = _Components(m)
    claims = 0
    for i, rows in enumerate(regions):
        for nb in rows.neighbours:
            if nb is not None and maps[i] == maps[nb]:
                comp.union(i, nb)
    for t, link in enumerate(rd.items(d["touching"], "pieces.touching")):
        path = f"pieces.touching[{t}]"
        x = rd.obj(link, path, ("regions", "point"))
        i, j = _pair(rd, x["regions"], m, f"{path}.regions")
        p = rd.vector(x["point"], f"{path}.point", n)
        for k in (i, j):
            if any(_dot(a, p) > b for a, b in listed[k].cell.rows.values()):
                raise Rejected(f"{path}: the point is not in regions[{k}]'s closure")
        if maps[i] == maps[j]:
            comp.union(i, j)
        claims += 1
    roots: dict[int, int] = {}
    for i, lab in enumerate(labels):
        r = comp.find(i)
        if roots.setdefault(lab, r) != r:
            raise Rejected(f"pieces: the regions labelled {lab} are not shown connected by one affine map")
    if len(set(roots.values())) != len(roots):
        i, j = next((i, j) for i in range(m) for j in range(i + 1, m) if labels[i] != labels[j] and comp.find(i) == comp.find(j))
        raise Rejected(f"pieces: regions {i} and {j} are joined but labelled differently")
    apart: dict[tuple[int, int], tuple[dict[str, Any], dict[str, Any], str]] = {}
    for t, x in enumerate(rd.items(d["apart"], "pieces.apart")):
        path = f"pieces.apart[{t}]"
        e = rd.obj(x, path, ("regions", "first", "second"))
        pair = _pair(rd, e["regions"], m, f"{path}.regions")
        if pair in apart:
            raise Malformed(f"{path}.regions", f"a pair not listed before, got {list(pair)} again")
        apart[pair] = (e["first"], e["second"], path)
    by_map: dict[tuple[Matrix, Vec], list[int]] = {}
    for i, mp in enumerate(maps):
        by_map.setdefault(mp, []).append(i)
    for members in by_map.values():
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                if labels[i] == labels[j]:
                    continue
                if (i, j) not in apart:
                    raise Rejected(f"pieces: no proof that regions {i} and {j} (one affine map) do not meet")
                _check_apart(rd, apart[(i, j)], listed[i], listed[j], n, i, j)
                claims += 1
    return len(roots), claims


def _check_apart(rd: Reader, proof: tuple[Any, Any, str], r1: Listed, r2: Listed, n: int, i: int, j: int) -> None:
    """Farkas: ``y >= 0`` on the rows of both regions, ``sum y_k a_k = 0``, ``sum y_k b_k < 0``."""
    first, second, path = proof
    tot = [ZERO] * n
    tb = ZERO
    for part, raw, reg in (("first", first, r1), ("second", second, r2)):
        mults = rd.mapping(raw, f"{path}.{part}")
        for key, val in mults.items():
            where = f"{path}.{part}[{show_value(key)}]"
            lab = _row_key(rd, key, where)
            y = rd.number(val, where)
            if lab not in reg.cell.rows:
                raise Rejected(f"{where}: not a row of the region")
            if y < 0:
                raise Rejected(f"{where}: a negative multiplier")
            a, b = reg.cell.rows[lab]
            tot = [u + y * v for u, v in zip(tot, a)]
            tb += y * b
    if any(tot) or not tb < 0:
        raise Rejected(f"{path}: the multipliers do not separate regions {i} and {j}")


# -- step 5: Lipschitz constants ------------------------------------------------------------


def _norm(J: Matrix, norm: str) -> Fraction:
    if norm == "inf":
        return max(sum((abs(v) for v in row), ZERO) for row in J)
    return max(sum((abs(row[k]) for row in J), ZERO) for k in range(len(J[0])))


def _sturm(p: Any) -> list[Any]:
    seq = [p, p.derivative()]
    while seq[-1].degree() > 0:
        r = -(seq[-2] % seq[-1])
        if r == 0:
            break
        seq.append(r)
    return seq


def _variations(seq: list[Any], x: Fraction | None) -> int:
    """Sign changes of a Sturm sequence at x (None: +infinity)."""
    from flint import fmpq

    signs = []
    for s in seq:
        v = (s.coeffs()[-1] if s.degree() >= 0 else 0) if x is None else s(fmpq(x.numerator, x.denominator))
        if v != 0:
            signs.append(v > 0)
    return sum(1 for a, b in zip(signs, signs[1:]) if a != b)


def _roots_in(p: Any, lo: Fraction | None, hi: Fraction | None) -> int:
    """Distinct real roots of p in (lo, hi] (None: -inf / +inf), by Sturm's theorem."""
    if p.degree() <= 0:
        return 0
    seq = _sturm(p // p.gcd(p.derivative()))
    if lo is None:  # at -inf: the variations of p(-x) at +inf
        v_lo = _variations([s.__class__([c * (-1) ** k for k, c in enumerate(s.coeffs())]) for s in seq], None)
    else:
        v_lo = _variations(seq, lo)
    return v_lo - _variations(seq, hi)


def _check_l2(rd: Reader, raw: Any, jacobians: list[Matrix]) -> str:
    """``L_2^2`` is the root of ``poly`` isolated in ``(lo, hi]``; it is an eigenvalue of the
    claimed region's ``J^T J`` and no region's ``J^T J`` has a larger one (each decided on
    ``J^T J`` or ``J J^T``, the smaller, whose nonzero eigenvalues are the same; the
    other one's extra eigenvalues are zeros, below or at every claim)."""
    from flint import fmpq, fmpq_mat, fmpq_poly

    k = min(len(jacobians[0]), len(jacobians[0][0]))  # the smaller Gram matrix's size
    c = rd.obj(raw, "lipschitz.2", ("value_squared", "region"), ("value_float",))
    vs = rd.obj(c["value_squared"], "lipschitz.2.value_squared", ("poly", "interval"))
    coeffs = rd.vector(vs["poly"], "lipschitz.2.value_squared.poly")
    if not 2 <= len(coeffs) <= k + 1:
        raise Malformed("lipschitz.2.value_squared.poly", f"from 2 to {k + 1} coefficients (a degree of at most min(inputs, outputs))")
    lo, hi = rd.vector(vs["interval"], "lipschitz.2.value_squared.interval", 2)
    w = rd.integer(c["region"], "lipschitz.2.region", 0, len(jacobians) - 1)
    q = fmpq_poly([fmpq(v.numerator, v.denominator) for v in coeffs])
    if q.degree() < 1 or q.gcd(q.derivative()).degree() > 0 or not lo < hi:
        raise Rejected("lipschitz.2: the polynomial must be squarefree and the interval proper")
    if _roots_in(q, lo, hi) != 1:
        raise Rejected("lipschitz.2: the interval does not isolate one root of the polynomial")

    def charpoly(J: Matrix) -> Any:  # of J^T J or J J^T, the smaller: the same nonzero eigenvalues
        m = fmpq_mat([[fmpq(v.numerator, v.denominator) for v in row] for row in J])
        return (m * m.transpose() if m.nrows() < m.ncols() else m.transpose() * m).charpoly()

    if _roots_in(q.gcd(charpoly(jacobians[w])), lo, hi) != 1:
        raise Rejected(f"lipschitz.2: the claimed value is not an eigenvalue of regions[{w}]'s J^T J")
    for k, J in enumerate(jacobians):
        p = charpoly(J)
        if _roots_in(p, hi, None):
            raise Rejected(f"lipschitz.2: regions[{k}] has a larger eigenvalue")
        r = p
        while True:  # remove the claimed root from p, if it is one
            d = r.gcd(q)
            if d.degree() < 1 or _roots_in(d, lo, hi) == 0:
                break
            r = r // d
        a, b = lo, hi
        while _roots_in(r, a, b):  # shrink (a, b] around the claimed root until r has no root in it
            mid = (a + b) / 2
            if _roots_in(q, a, mid):
                b = mid
            else:
                a = mid
            if _roots_in(r, b, None):
                raise Rejected(f"lipschitz.2: regions[{k}] has a larger eigenvalue")
    if "value_float" in c:
        vf = c["value_float"]
        if isinstance(vf, bool) or not isinstance(vf, (int, float)) or not math.isfinite(vf) or vf < 0:
            raise Malformed("lipschitz.2.value_float", f"a finite nonnegative number, got {vf!r}")
        tol = Fraction(1, 2**40)
        x = Fraction(vf)
        if (x * (1 + tol)) ** 2 <= lo or (x * (1 - tol)) ** 2 > hi:
            raise Rejected(f"lipschitz.2: value_float {vf!r} is not the square root of the claimed value")
    return _l2_text(coeffs, _roots_in(q, None, hi))


def _l2_text(coeffs: Vec, index: int) -> str:
    """The verified L_2 in one canonical form, whatever interval isolated it: ``sqrt(r)``
    (or ``r``) for a rational ``L_2^2 = r``, else the index of ``L_2^2`` among the real
    roots of its polynomial with coprime integer coefficients (lowest degree first).

    >>> _l2_text((Fraction(-9, 4), Fraction(1)), 1), _l2_text((Fraction(-20), Fraction(1)), 1)
    ('3/2', 'sqrt(20)')
    >>> _l2_text((Fraction(1, 2), Fraction(-3, 2), Fraction(1, 2)), 2)
    'sqrt(real root 2 of [1, -3, 1])'
    """
    if len(coeffs) == 2:
        r = -coeffs[0] / coeffs[1]
        p, q = math.isqrt(r.numerator), math.isqrt(r.denominator)
        return str(Fraction(p, q)) if p * p == r.numerator and q * q == r.denominator else f"sqrt({r})"
    scale = math.lcm(*(c.denominator for c in coeffs))
    ints = [int(c * scale) for c in coeffs]
    g = math.gcd(*ints) * (1 if ints[-1] > 0 else -1)
    return f"sqrt(real root {index} of [{', '.join(str(c // g) for c in ints)}])"


def check_lipschitz(rd: Reader, raw: Any, listed: list[Listed]) -> dict[str, str]:
    """Step 5: the verified constants, by norm (one claim each)."""
    d = rd.obj(raw, "lipschitz", (), ("1", "2", "inf"))
    jacobians = [r.cell.jacobian for r in listed]
    out = {}
    for norm in ("1", "inf"):
        if norm not in d:
            continue
        c = rd.obj(d[norm], f"lipschitz.{norm}", ("value", "region"))
        value = rd.number(c["value"], f"lipschitz.{norm}.value")
        w = rd.integer(c["region"], f"lipschitz.{norm}.region", 0, len(listed) - 1)
        norms = [_norm(J, norm) for J in jacobians]
        if norms[w] != value or max(norms) != value:
            raise Rejected(f"lipschitz.{norm}: claimed {show_number(value)}, the regions give {show_number(max(norms))}")
        out[norm] = str(value)
    if "2" in d:
        out["2"] = _check_l2(rd, d["2"], jacobians)
    return out


# -- the whole check --------------------------------------------------------------------------


def check_regions(doc: Any, limits: Limits = Limits(), case: tuple[Net, tuple[Row, ...]] | None = None) -> Verdict:
    """Check a region certificate: every claim, in the order of the module's steps.
    ``case``: the network and domain rows (`reader.read_case`) the certificate must be
    about. A false claim or a malformed document gives ``Verdict(ok=False)``."""
    try:
        return _check(doc, Reader(limits), case)
    except Rejected as e:
        return Verdict(False, (str(e),))
    except Malformed as e:
        return Verdict(False, (f"malformed certificate: {e}",))


def _check(doc: Any, rd: Reader, case: tuple[Net, tuple[Row, ...]] | None) -> Verdict:
    d = rd.obj(doc, "", ("format", "case", "regions", "pieces"), ("counts", "lipschitz"))
    if d["format"] != FORMAT:
        raise Malformed("format", f"{FORMAT!r}")
    net, dom = read_case(d["case"], "case", rd.limits)
    if case is not None and (net, dom) != case:
        raise Rejected("case: the certificate is about another network or domain than the given case")
    n = net.input_dim
    dom_rows: dict[Label, Row] = {}
    for k, (a, b) in enumerate(dom):
        if not any(a):
            if b < 0:
                raise Rejected(f"case.domain: row {k} (0 <= {show_number(b)}) makes the domain empty")
            continue
        dom_rows[("domain", k)] = (a, b)
    raw_regions = rd.items(d["regions"], "regions", nonempty=True)
    listed = check_cells(rd, raw_regions, net, dom_rows)
    claims = 2 * len(listed)
    index = {r.pattern: i for i, r in enumerate(listed)}
    regions: list[Rows] = []
    bounded = 0
    for i, (raw, r) in enumerate(zip(raw_regions, listed)):
        rows = check_groups(rd, raw["groups"], r, net, index, f"regions[{i}]")
        regions.append(rows)
        bounded += check_bounded(rd, raw["bounded"], r, rows.order, n, f"regions[{i}]")
        claims += len(raw["groups"]) + 1
    pieces, piece_claims = check_pieces(rd, d["pieces"], listed, regions, n)
    claims += piece_claims
    counts: dict[str, Any] = {"activation_regions": len(listed), "linear_pieces": pieces}
    if not dom_rows:
        counts["bounded_regions"] = bounded
    claimed = rd.obj(d.get("counts", {}), "counts", (), ("activation_regions", "linear_pieces", "bounded_regions"))
    for key, v in claimed.items():
        value = rd.integer(v, f"counts.{key}", 0)
        truth = bounded if key == "bounded_regions" else counts[key]
        if value != truth:
            raise Rejected(f"counts.{key}: claimed {value}, the certificate shows {truth}")
        claims += 1
    lips = check_lipschitz(rd, d.get("lipschitz", {}), listed)
    claims += len(lips)
    return Verdict(True, (), counts, lips, {"claims_checked": claims})
