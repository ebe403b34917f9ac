"""The independent checker of region certificates (``exactrelu check CERT``).

It shares nothing with the engine but parsing (`exactrelu.core.numbers`, `exactrelu.io.case`
and the network model they build): its own forward passes, its own row bookkeeping,
Python `Fraction` arithmetic, and no LP solver. It re-verifies, for every listed region:

1. the witness lies strictly inside the cell of the claimed pattern (every non-constant
   neuron strictly inside its piece, every constant neuron where its constant sits,
   every domain row strict), so the region has nonempty interior; patterns are distinct;
2. the claimed Jacobian and offset are the affine map of the pattern;
3. the rows are partitioned into groups, each one half-space; each group is either a
   facet, with a point tight on it and strict on every other row, whose far side (a
   forward pass on the value and the directional derivative along the outward
   normal) has the pattern of the listed neighbour, or lies on the domain's boundary;
   or it is redundant, with Motzkin multipliers;
4. boundedness (Stiemke multipliers and rank n, or a recession ray);

then the linear pieces (links by equal-map facets or common points; Farkas proofs that
same-map regions in different pieces do not meet), the counts and the Lipschitz claims:
``L_1`` and ``L_inf`` recomputed as the largest ``||J_R||`` over the listed regions;
``L_2^2`` as an algebraic number (a squarefree polynomial and an isolating interval)
compared with every region's ``J^T J`` eigenvalues by Sturm sequences, exactly.

Completeness: a facet of an activation region is shared with exactly one region, the
one its crossing pattern names (a neuron at its knot anywhere in the facet's relative
interior is at its knot on the whole facet hyperplane or constant there). So when
every facet of every listed region is on the domain's boundary or leads to a listed
region, a generic segment from a listed region to any point of the domain never
leaves the union of the listed closures: the list is every region.

>>> from exactrelu.certificate import certify
>>> from exactrelu.io.case import case_from_json
>>> case = case_from_json({"format": "exactrelu-network/1", "input_dim": 1,
...     "layers": [{"type": "affine", "weight": [["1"], ["-1"]]}, {"type": "relu"},
...                {"type": "affine", "weight": [["1", "1"]]}]})
>>> cert = certify(case)
>>> check_certificate(cert).ok
True
>>> cert["regions"][0]["witness"] = ["0"]
>>> check_certificate(cert).ok
False
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

from .core.errors import InputError
from .core.network import Network
from .core.numbers import parse_number
from .io.case import case_from_json

FORMAT = "exactrelu-certificate/1"

Vec = tuple[Fraction, ...]
Row = tuple[Vec, Fraction]


class Rejected(Exception):
    """A claim of the certificate is false."""


@dataclass(frozen=True)
class Verdict:
    """The checker's answer: accepted or not, the problems found, what was verified."""

    ok: bool
    problems: tuple[str, ...] = ()
    counts: dict[str, Any] = field(default_factory=dict)
    lipschitz: dict[str, str] = field(default_factory=dict)
    claims_checked: int = 0


def _num(v: Any, path: str) -> Fraction:
    return parse_number(v, path)


def _vec(v: Any, path: str, n: int | None = None) -> Vec:
    if not isinstance(v, list) or (n is not None and len(v) != n):
        raise InputError(f"expected a list of {n if n is not None else ''} numbers".replace("  ", " "), path=path)
    return tuple(_num(x, f"{path}[{i}]") for i, x in enumerate(v))


def _dot(a: Sequence[Fraction], x: Sequence[Fraction]) -> Fraction:
    return sum((u * v for u, v in zip(a, x)), Fraction(0))


@dataclass(frozen=True)
class _Cell:
    rows: dict[tuple[Any, ...], Row]
    J: tuple[Vec, ...]
    c: Vec


def _cell(net: Network, pattern: Sequence[Sequence[int]], where: str) -> _Cell:
    """The rows, J and c of a pattern, by this module's own forward composition."""
    chain = net.chain
    n = net.input_dim
    if not isinstance(pattern, list) or len(pattern) != len(chain.acts):
        raise Rejected(f"{where}: pattern has the wrong number of layers")
    J = [tuple(Fraction(int(i == j)) for j in range(n)) for i in range(n)]
    c = [Fraction(0)] * n
    rows: dict[tuple[Any, ...], Row] = {}
    for l, fns in enumerate(chain.acts):
        W, bias = chain.affines[l].weight, chain.affines[l].bias
        if not isinstance(pattern[l], list) or len(pattern[l]) != len(fns):
            raise Rejected(f"{where}: pattern layer {l} has the wrong width")
        newJ, newc = [], []
        for i, fn in enumerate(fns):
            g = tuple(sum((W[i][k] * J[k][j] for k in range(len(J))), Fraction(0)) for j in range(n))
            h = _dot(W[i], c) + bias[i]
            st = pattern[l][i]
            if not isinstance(st, int) or isinstance(st, bool) or not 0 <= st <= 2 * len(fn.knots):
                raise Rejected(f"{where}: invalid state {st!r} at layer {l}, neuron {i}")
            if all(v == 0 for v in g):
                if fn.state(h) != st:
                    raise Rejected(f"{where}: neuron ({l}, {i}) is constant {h} (state {fn.state(h)}), pattern says {st}")
                newJ.append(tuple(Fraction(0) for _ in range(n)))
                newc.append(fn(h))
                continue
            if st % 2 == 1:
                raise Rejected(f"{where}: non-constant neuron ({l}, {i}) claimed at a knot")
            piece = st // 2
            s = fn.slopes[piece]
            if fn.knots:
                t0 = fn.knots[piece - 1] if piece > 0 else fn.knots[0]
                icpt = fn(t0) - s * t0
            else:
                icpt = fn(Fraction(0))
            newJ.append(tuple(s * v for v in g))
            newc.append(s * h + icpt)
            if piece > 0:
                t = fn.knots[piece - 1]
                rows[(l, i, piece - 1, -1)] = (tuple(-v for v in g), h - t)
            if piece < len(fn.knots):
                t = fn.knots[piece]
                rows[(l, i, piece, 1)] = (g, t - h)
        J, c = newJ, newc
    W, bias = chain.affines[-1].weight, chain.affines[-1].bias
    Jf = tuple(tuple(sum((W[i][k] * J[k][j] for k in range(len(J))), Fraction(0)) for j in range(n)) for i in range(len(W)))
    cf = tuple(_dot(W[i], c) + bias[i] for i in range(len(W)))
    return _Cell(rows, Jf, cf)


def _crossing(net: Network, p: Vec, u: Vec, where: str) -> list[list[int]]:
    """The pattern just across p in direction u: value and directional derivative."""
    chain = net.chain
    n = net.input_dim
    v = list(p)
    dv = list(u)
    J = [tuple(Fraction(int(i == j)) for j in range(n)) for i in range(n)]
    pattern = []
    for l, fns in enumerate(chain.acts):
        W, bias = chain.affines[l].weight, chain.affines[l].bias
        states, nv, ndv, nJ = [], [], [], []
        for i, fn in enumerate(fns):
            z = _dot(W[i], v) + bias[i]
            dz = _dot(W[i], dv)
            g = tuple(sum((W[i][k] * J[k][j] for k in range(len(J))), Fraction(0)) for j in range(n))
            st = fn.state(z)
            constant = all(e == 0 for e in g)
            if st % 2 == 1 and not constant:
                if dz == 0:
                    raise Rejected(f"{where}: the crossing direction does not decide neuron ({l}, {i})")
                st = st + 1 if dz > 0 else st - 1
            states.append(st)
            slope = Fraction(0) if st % 2 == 1 else fn.slopes[st // 2]
            nv.append(fn(z))
            ndv.append(slope * dz)
            nJ.append(tuple(slope * e for e in g))
        pattern.append(states)
        v, dv, J = nv, ndv, nJ
    return pattern


def _proportional(r1: Row, r2: Row) -> bool:
    (a1, b1), (a2, b2) = r1, r2
    k = next(i for i, v in enumerate(a1) if v != 0)
    if a2[k] == 0 or (a1[k] > 0) != (a2[k] > 0):
        return False
    f = a2[k] / a1[k]
    return all(f * x == y for x, y in zip(a1, a2)) and f * b1 == b2


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


def _label(v: Any, where: str) -> tuple[Any, ...]:
    if not isinstance(v, list) or not v:
        raise Rejected(f"{where}: bad row label {v!r}")
    return tuple(v)


def _norm(J: Sequence[Vec], norm: str) -> Fraction:
    if norm == "inf":
        return max(sum((abs(v) for v in row), Fraction(0)) for row in J)
    return max(sum((abs(row[k]) for row in J), Fraction(0)) for k in range(len(J[0])))


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
        if x is None:
            v = s.coeffs()[-1] if s.degree() >= 0 else 0
        else:
            v = s(fmpq(x.numerator, x.denominator))
        if v != 0:
            signs.append(v > 0)
    return sum(1 for a, b in zip(signs, signs[1:]) if a != b)


def _roots_in(p: Any, lo: Fraction | None, hi: Fraction | None) -> int:
    """Distinct real roots of p in (lo, hi] (None: -inf / +inf), by Sturm's theorem."""
    if p.degree() <= 0:
        return 0
    sq = p // p.gcd(p.derivative())
    seq = _sturm(sq)
    if lo is None:
        flipped = [s.__class__([c * (-1) ** k for k, c in enumerate(s.coeffs())]) for s in seq]
        v_lo = _variations(flipped, None)  # at -inf: p(-x) at +inf
    else:
        v_lo = _variations(seq, lo)
    return v_lo - _variations(seq, hi)


def _check_l2(claim: Any, jacobians: list[tuple[Vec, ...]]) -> str:
    """``L_2^2`` is the root of ``poly`` isolated in ``(lo, hi]`` and no region's
    ``J^T J`` has a larger eigenvalue; the witness region has it as an eigenvalue."""
    from flint import fmpq, fmpq_mat, fmpq_poly

    vs = claim["value_squared"]
    q = fmpq_poly([fmpq(_num(c, "poly").numerator, _num(c, "poly").denominator) for c in vs["poly"]])
    lo, hi = (_num(v, "lipschitz.2.value_squared.interval") for v in vs["interval"])
    if q.degree() < 1 or q.gcd(q.derivative()).degree() > 0 or not lo < hi:
        raise Rejected("lipschitz.2: the polynomial must be squarefree and the interval proper")
    if _roots_in(q, lo, hi) != 1:
        raise Rejected("lipschitz.2: the interval does not isolate one root of the polynomial")

    def charpoly(J: tuple[Vec, ...]) -> Any:
        m = fmpq_mat([[fmpq(v.numerator, v.denominator) for v in row] for row in J])
        return (m.transpose() * m).charpoly()

    w = claim["region"]
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
        while _roots_in(r, a, b):  # refine (a, b] around the claimed root until r has none in it
            mid = (a + b) / 2
            if _roots_in(q, a, mid):
                b = mid
            else:
                a = mid
            if _roots_in(r, b, None):
                raise Rejected(f"lipschitz.2: regions[{k}] has a larger eigenvalue")
    return f"sqrt of the root of {vs['poly']} in ({vs['interval'][0]}, {vs['interval'][1]}]"


def check_certificate(doc: Any) -> Verdict:
    """Re-verify every claim of a certificate document; never raises on a false claim
    (it is reported in `Verdict.problems`), raises `InputError` on a malformed one."""
    try:
        return _check(doc)
    except Rejected as e:
        return Verdict(False, (str(e),))
    except (KeyError, TypeError, IndexError, ValueError, StopIteration) as e:
        if isinstance(e, InputError):
            raise
        return Verdict(False, (f"malformed certificate: {type(e).__name__}: {e}",))


def _check(doc: Any) -> Verdict:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(f'expected "format": "{FORMAT}"', path="format")
    case = case_from_json(doc["case"])
    net, dom = case.network, case.domain
    n = net.input_dim
    dom_rows: dict[tuple[Any, ...], Row] = {}
    for k, (a, b) in enumerate(zip(dom.A, dom.b)):
        if all(v == 0 for v in a):
            if b < 0:
                raise Rejected("the domain is empty")
            continue
        dom_rows[("domain", k)] = (tuple(a), b)
    regs = doc["regions"]
    if not isinstance(regs, list) or not regs:
        raise Rejected("no regions listed")
    claims = 0
    patterns: dict[str, int] = {}
    cells: list[_Cell] = []
    all_rows: list[dict[tuple[Any, ...], Row]] = []
    bounded_flags: list[bool] = []
    for i, r in enumerate(regs):
        where = f"regions[{i}]"
        pat = r["pattern"]
        key = repr(pat)
        if key in patterns:
            raise Rejected(f"{where}: same pattern as regions[{patterns[key]}]")
        patterns[key] = i
        cell = _cell(net, pat, where)
        cells.append(cell)
        w = _vec(r["witness"], f"{where}.witness", n)
        rows = dict(cell.rows)
        rows.update(dom_rows)
        all_rows.append(rows)
        for lab, (a, b) in rows.items():
            if not _dot(a, w) < b:
                raise Rejected(f"{where}: witness is not strictly inside row {list(lab)}")
        claims += 1
        J = tuple(_vec(row, f"{where}.jacobian[{k}]", n) for k, row in enumerate(r["jacobian"]))
        c = _vec(r["offset"], f"{where}.offset")
        if J != cell.J or c != cell.c:
            raise Rejected(f"{where}: the Jacobian or offset is not the pattern's affine map")
        claims += 1
        # row groups
        seen: set[tuple[Any, ...]] = set()
        order: list[tuple[Any, ...]] = []
        groups = []
        for gi, grp in enumerate(r["groups"]):
            labs = [_label(x, f"{where}.groups[{gi}]") for x in grp["rows"]]
            if not labs:
                raise Rejected(f"{where}.groups[{gi}]: empty group")
            for lab in labs:
                if lab not in rows:
                    raise Rejected(f"{where}.groups[{gi}]: {list(lab)} is not a row of this region")
                if lab in seen:
                    raise Rejected(f"{where}.groups[{gi}]: row {list(lab)} listed twice")
                seen.add(lab)
                if not _proportional(rows[labs[0]], rows[lab]):
                    raise Rejected(f"{where}.groups[{gi}]: rows {list(labs[0])} and {list(lab)} differ")
            order.extend(labs)
            groups.append(labs)
        if seen != set(rows):
            missing = sorted(map(str, set(rows) - seen))
            raise Rejected(f"{where}: rows not accounted for: {', '.join(missing)}")
        for gi, (grp, labs) in enumerate(zip(r["groups"], groups)):
            gw = f"{where}.groups[{gi}]"
            a_g, b_g = rows[labs[0]]
            if "facet" in grp:
                f = grp["facet"]
                p = _vec(f["point"], f"{gw}.facet.point", n)
                for lab in labs:
                    a, b = rows[lab]
                    if _dot(a, p) != b:
                        raise Rejected(f"{gw}: facet point is not on row {list(lab)}")
                for lab, (a, b) in rows.items():
                    if lab not in labs and not _dot(a, p) < b:
                        raise Rejected(f"{gw}: facet point is not strictly inside row {list(lab)}")
                nb = f["neighbor"]
                if nb is None:
                    if not any(lab[0] == "domain" for lab in labs):
                        raise Rejected(f"{gw}: facet claimed on the domain's boundary but has no domain row")
                else:
                    if isinstance(nb, bool) or not isinstance(nb, int) or not 0 <= nb < len(regs):
                        raise Rejected(f"{gw}: neighbor {nb!r} is not a listed region")
                    if any(lab[0] == "domain" for lab in labs):
                        raise Rejected(f"{gw}: a facet on the domain's boundary has no neighbor")
                    across = _crossing(net, p, a_g, gw)
                    if across != regs[nb]["pattern"]:
                        raise Rejected(f"{gw}: the pattern across the facet is {across}, not regions[{nb}]'s")
            elif "redundant" in grp:
                red = grp["redundant"]
                lam = _num(red["row_multiplier"], f"{gw}.redundant.row_multiplier")
                total_a = [lam * v for v in a_g]
                total_b = lam * b_g
                nonzero = False
                for pos, val in red["multipliers"].items():
                    mu = _num(val, f"{gw}.redundant.multipliers[{pos}]")
                    lab = order[int(pos)]
                    if lab in labs or mu < 0:
                        raise Rejected(f"{gw}: invalid multiplier on {list(lab)}")
                    if mu != 0:
                        nonzero = True
                    a, b = rows[lab]
                    total_a = [x + mu * y for x, y in zip(total_a, a)]
                    total_b += mu * b
                if not nonzero or any(v != 0 for v in total_a) or total_b > 0:
                    raise Rejected(f"{gw}: the multipliers do not prove the rows redundant")
            else:
                raise Rejected(f"{gw}: neither a facet nor redundant")
            claims += 1
        bd = r["bounded"]
        if "multipliers" in bd:
            sel = []
            tot = [Fraction(0)] * n
            for pos, val in bd["multipliers"].items():
                y = _num(val, f"{where}.bounded.multipliers[{pos}]")
                if y <= 0:
                    raise Rejected(f"{where}: boundedness multipliers must be positive")
                a, _ = rows[order[int(pos)]]
                sel.append(a)
                tot = [x + y * v for x, v in zip(tot, a)]
            if any(v != 0 for v in tot) or _rank(sel, n) < n:
                raise Rejected(f"{where}: boundedness multipliers do not prove boundedness")
            bounded_flags.append(True)
        else:
            d = _vec(bd["ray"], f"{where}.bounded.ray", n)
            if all(v == 0 for v in d) or any(_dot(a, d) > 0 for a, _ in rows.values()):
                raise Rejected(f"{where}: the ray is not a recession direction")
            bounded_flags.append(False)
        claims += 1
    # linear pieces
    pieces = doc["pieces"]
    labels = pieces["labels"]
    if len(labels) != len(regs):
        raise Rejected("pieces.labels: one label per region expected")
    parent = list(range(len(regs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    maps = [(cells[i].J, cells[i].c) for i in range(len(regs))]
    for i, r in enumerate(regs):
        for grp in r["groups"]:
            nb = grp.get("facet", {}).get("neighbor")
            if nb is not None and maps[i] == maps[nb]:
                parent[find(i)] = find(nb)
    for t, link in enumerate(pieces["touching"]):
        i, j = link["regions"]
        p = _vec(link["point"], f"pieces.touching[{t}].point", n)
        for k in (i, j):
            if any(_dot(a, p) > b for a, b in all_rows[k].values()):
                raise Rejected(f"pieces.touching[{t}]: the point is not in regions[{k}]'s closure")
        if maps[i] == maps[j]:
            parent[find(i)] = find(j)
    classes: dict[Any, set[int]] = {}
    for i, lab in enumerate(labels):
        classes.setdefault(lab, set()).add(find(i))
    for lab, roots in classes.items():
        if len(roots) != 1:
            raise Rejected(f"pieces: the regions labelled {lab!r} are not shown connected by one affine map")
    for i in range(len(regs)):
        for j in range(i + 1, len(regs)):
            if labels[i] != labels[j] and find(i) == find(j):
                raise Rejected(f"pieces: regions {i} and {j} are joined but labelled differently")
    apart = {tuple(x["regions"]): x for x in pieces["apart"]}
    by_map: dict[Any, list[int]] = {}
    for i, m in enumerate(maps):
        by_map.setdefault(m, []).append(i)
    for members in by_map.values():
        for x in range(len(members)):
            for z in range(x + 1, len(members)):
                i, j = members[x], members[z]
                if labels[i] == labels[j]:
                    continue
                proof = apart.get((i, j))
                if proof is None:
                    raise Rejected(f"pieces: no proof that regions {i} and {j} (one affine map) do not meet")
                tot = [Fraction(0)] * n
                tb = Fraction(0)
                for part, k in (("first", i), ("second", j)):
                    for lab_s, val in proof[part].items():
                        y = _num(val, f"pieces.apart.{part}")
                        lab = tuple(int(v) if v.lstrip("-").isdigit() else v for v in lab_s.split(","))
                        if y < 0 or lab not in all_rows[k]:
                            raise Rejected(f"pieces.apart: bad multiplier for regions[{k}] row {lab_s}")
                        a, b = all_rows[k][lab]
                        tot = [u + y * v for u, v in zip(tot, a)]
                        tb += y * b
                if any(v != 0 for v in tot) or not tb < 0:
                    raise Rejected(f"pieces.apart: the multipliers do not separate regions {i} and {j}")
                claims += 1
    counts: dict[str, Any] = {"activation_regions": len(regs), "linear_pieces": len(classes)}
    if dom.is_whole:
        counts["bounded_regions"] = sum(bounded_flags)
    claimed = doc.get("counts", {})
    for k, v in claimed.items():
        if counts.get(k) != v:
            raise Rejected(f"counts.{k}: claimed {v}, the certificate shows {counts.get(k)}")
    lips = {}
    for norm, claim in doc.get("lipschitz", {}).items():
        if norm == "2":
            lips["2"] = _check_l2(claim, [cells[i].J for i in range(len(regs))])
            claims += 1
            continue
        if norm not in ("1", "inf"):
            raise Rejected(f"lipschitz: unknown norm {norm!r}")
        value = _num(claim["value"], f"lipschitz.{norm}.value")
        norms = [_norm(cells[i].J, norm) for i in range(len(regs))]
        wi = claim["region"]
        if norms[wi] != value or max(norms) != value:
            raise Rejected(f"lipschitz.{norm}: claimed {value}, the regions give max {max(norms)}")
        lips[norm] = claim["value"]
        claims += 1
    return Verdict(True, (), counts, lips, claims)
