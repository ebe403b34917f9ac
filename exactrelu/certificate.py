"""Certificates of a region decomposition (and of L_1 / L_inf), for `exactrelu.checker`.

A certificate is one JSON document (``exactrelu-certificate/1``) holding the case
(network and domain) and, for every activation region:

* ``pattern``, ``witness`` (a rational interior point), ``jacobian`` and ``offset``;
* ``rows``: every row of its H-representation, by label (``[layer, neuron, knot, side]``
  with side +1 for ``z <= knot`` and -1 for ``z >= knot``, or ``["domain", k]``),
  grouped: each group is one half-space and carries either a ``facet`` (a point in
  its relative interior, and the index of the region across, or null on the domain's
  boundary) or a ``redundant`` proof (Motzkin multipliers over the region's rows by
  row index in the flattened list of groups, and one for the group's first row);
* ``bounded``: ``{"multipliers": y}`` (``y > 0``, ``A_F^T y = 0`` over the facet rows,
  which have rank n) or ``{"ray": d}`` (``d != 0``, ``A d <= 0``);

then ``pieces`` (the linear-piece label of each region, with ``touching`` pairs and
their common point for pieces joined at a lower-dimensional face, and ``apart`` pairs
of regions with one affine map in different pieces and the Farkas multipliers proving
that their closures do not meet), the claimed counts, and ``lipschitz`` claims
(``{"1": {"value": "3/2", "region": 4}, ...}``; for ``"2"`` the value is
``value_squared``: a squarefree polynomial and an interval ``(lo, hi]`` isolating its
root ``L_2^2``).

>>> from exactrelu.io.case import case_from_json
>>> case = case_from_json({"format": "exactrelu-network/1", "input_dim": 1,
...     "layers": [{"type": "affine", "weight": [["1"], ["-1"]]}, {"type": "relu"},
...                {"type": "affine", "weight": [["1", "2"]]}]})
>>> cert = certify(case)
>>> cert["counts"], cert["lipschitz"]["inf"]
({'activation_regions': 2, 'linear_pieces': 2, 'bounded_regions': 0}, {'value': '2', 'region': 1})
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Sequence

from .core.numbers import format_number, to_fmpq, to_fraction
from .core.report import exact
from .io.case import Case, case_to_json
from .polyhedra.lp import boundedness, feasible_point, lp_max
from .regions import NonFacet, Region, RegionGraph, enumerate_regions

FORMAT = "exactrelu-certificate/1"
NORMS = ("1", "inf")


def _label(label: tuple[Any, ...]) -> list[Any]:
    return list(label)


def operator_norm(J: Sequence[Sequence[Fraction]], norm: str) -> Fraction:
    """``||J||_1`` (largest column sum of |entries|) or ``||J||_inf`` (largest row sum).

    >>> operator_norm([[1, -2], [3, 0]], "1"), operator_norm([[1, -2], [3, 0]], "inf")
    (4, 3)
    """
    if norm == "inf":
        return max(sum(abs(v) for v in row) for row in J)
    if norm == "1":
        return max(sum(abs(row[k]) for row in J) for k in range(len(J[0])))
    raise ValueError(f"norm must be '1' or 'inf', got {norm!r}")


def _proof_order(r: Region) -> list[NonFacet]:
    """The non-facets in an order where each redundancy proof uses only facet rows and
    rows of the non-facets before it (what `exactrelu.checker` accepts: no circular
    proofs). A proof caught in a cycle is replaced by one over the facet rows alone
    (an exact LP: the dual of ``max a_g x`` over the facets)."""
    group_of = {k: i for i, nf in enumerate(r.nonfacets) for k in nf.rows}
    deps = [{group_of[k] for k, _ in nf.multipliers if k in group_of} for nf in r.nonfacets]
    done: list[NonFacet] = []
    placed: set[int] = set()
    pending = sorted(range(len(r.nonfacets)), key=lambda i: r.nonfacets[i].rows[0])
    while pending:
        ready = [i for i in pending if deps[i] <= placed]
        if not ready:  # a cycle: prove its first group from the facets alone
            i = pending[0]
            ready = [i]
            nf = r.nonfacets[i]
            facet_rows = [f.rows[0] for f in r.facets]
            res = lp_max(r.A[nf.rows[0]], [r.A[k] for k in facet_rows], [r.b[k] for k in facet_rows], point=r.witness)
            assert res.status == "optimal" and res.value is not None and res.dual is not None
            assert res.value <= r.b[nf.rows[0]]
            mult = tuple((k, y) for k, y in zip(facet_rows, res.dual) if y != 0)
            done.append(NonFacet(nf.rows, mult, Fraction(-1)))
        else:
            done.extend(r.nonfacets[i] for i in ready)
        placed.update(ready)
        pending = [i for i in pending if i not in placed]
    return done


def _region_doc(r: Region, n: int) -> dict[str, Any]:
    order: list[int] = []
    groups: list[tuple[tuple[int, ...], Any]] = []
    for f in sorted(r.facets, key=lambda f: f.rows[0]):
        groups.append((f.rows, {"facet": {"point": exact(f.point), "neighbor": f.neighbor}}))
    for nf in _proof_order(r):
        groups.append((nf.rows, nf))
    for rows, _ in groups:
        order.extend(rows)
    position = {k: i for i, k in enumerate(order)}
    out_groups = []
    for rows, claim in groups:
        entry: dict[str, Any] = {"rows": [_label(r.labels[k]) for k in rows]}
        if isinstance(claim, dict):
            entry.update(claim)
        else:
            mult = {str(position[k]): format_number(v) for k, v in claim.multipliers}
            entry["redundant"] = {"multipliers": mult, "row_multiplier": format_number(claim.row_multiplier)}
        out_groups.append(entry)
    facet_rows = [f.rows[0] for f in r.facets]
    if r.bounded and facet_rows:
        res = boundedness([r.A[k] for k in facet_rows], [r.b[k] for k in facet_rows], dim=n)
        assert res.bounded
        bounded = {"multipliers": {str(position[k]): format_number(v) for k, v in zip(facet_rows, res.multipliers)}}
    else:
        res = boundedness([r.A[k] for k in facet_rows], [r.b[k] for k in facet_rows], dim=n) if facet_rows else None
        ray = res.ray if res is not None else tuple(Fraction(int(k == 0)) for k in range(n))
        bounded = {"ray": exact(ray)}
    return {
        "pattern": [list(p) for p in r.pattern],
        "witness": exact(r.witness),
        "jacobian": [exact(row) for row in r.jacobian],
        "offset": exact(r.offset),
        "groups": out_groups,
        "bounded": bounded,
    }


def _pieces_doc(g: RegionGraph) -> dict[str, Any]:
    """Linear-piece labels with their evidence: ``touching`` points joining regions of
    one piece that no equal-map facet joins, and Farkas proofs (``apart``) for every
    pair of regions with one affine map in different pieces."""
    labels = g.piece_labels
    joined = g.facet_joined()
    touching, apart = [], []
    n = g.network.input_dim
    for i, j in g.same_map_pairs():
        if labels[i] == labels[j] and joined[i] == joined[j]:
            continue
        r1, r2 = g.regions[i], g.regions[j]
        res = feasible_point(list(r1.A) + list(r2.A), list(r1.b) + list(r2.b), dim=n)
        if res.feasible:
            touching.append({"regions": [i, j], "point": exact(res.point)})
            joined.union(i, j)
        elif labels[i] != labels[j]:
            m1 = len(r1.A)
            y = res.farkas
            apart.append(
                {
                    "regions": [i, j],
                    "first": {_key(r1, k): format_number(v) for k, v in enumerate(y[:m1]) if v != 0},
                    "second": {_key(r2, k): format_number(v) for k, v in enumerate(y[m1:]) if v != 0},
                }
            )
    return {"labels": list(labels), "touching": touching, "apart": apart}


def _key(r: Region, k: int) -> str:
    return ",".join(str(x) for x in r.labels[k])


def _gram(J: Sequence[Sequence[Fraction]]) -> Any:
    """``J^T J`` or ``J J^T``, whichever is smaller (same nonzero eigenvalues)."""
    from flint import fmpq_mat

    m = fmpq_mat([[to_fmpq(v) for v in row] for row in J])
    return m * m.transpose() if m.nrows() < m.ncols() else m.transpose() * m


def _l2_claim(regions: Sequence[Region]) -> dict[str, Any]:
    """The claim ``L_2^2 = lambda``: the largest eigenvalue of ``J^T J`` over the regions,
    as the root of a squarefree rational polynomial in a rational interval ``(lo, hi]``
    that isolates it, with the region attaining it (chosen by flint's certified root
    balls; `exactrelu.checker` re-decides every comparison exactly)."""
    best = None
    for i, r in enumerate(regions):
        p = _gram(r.jacobian).charpoly()
        q = p // p.gcd(p.derivative())
        top = max((root.real for root, _ in q.complex_roots()), key=lambda x: x.mid())
        if best is None or top > best[1] or (not top < best[1] and top.mid() > best[1].mid()):
            best = (i, top, q)
    assert best is not None
    i, ball, q = best
    mid, rad = ball.mid(), ball.rad()
    m_man, m_exp = mid.man_exp()
    r_man, r_exp = rad.man_exp()
    centre = Fraction(int(m_man)) * Fraction(2) ** int(m_exp)
    radius = 2 * Fraction(int(r_man)) * Fraction(2) ** int(r_exp)
    scale = 2**64
    lo = Fraction(math.floor((centre - radius) * scale) - 1, scale)
    hi = Fraction(math.ceil((centre + radius) * scale) + 1, scale)
    return {
        "value_squared": {
            "poly": [format_number(to_fraction(c)) for c in q.coeffs()],
            "interval": [format_number(lo), format_number(hi)],
        },
        "region": i,
        "value_float": float(centre) ** 0.5,
    }


def build_certificate(case: Case, g: RegionGraph, norms: Sequence[str] = NORMS) -> dict[str, Any]:
    """The certificate document of a complete region graph of ``case``."""
    if not g.complete:
        raise ValueError("cannot certify an incomplete region graph")
    n = case.network.input_dim
    regions = list(g.regions)  # a lean graph rebuilds a region on each access: once here
    counts: dict[str, Any] = {"activation_regions": g.activation_regions, "linear_pieces": g.linear_pieces}
    if case.domain.is_whole:
        counts["bounded_regions"] = g.bounded_regions
    lipschitz: dict[str, Any] = {}
    for norm in norms:
        if norm == "2":
            lipschitz["2"] = _l2_claim(regions)
            continue
        values = [operator_norm(r.jacobian, norm) for r in regions]
        best = max(range(len(values)), key=lambda i: values[i])
        lipschitz[norm] = {"value": format_number(values[best]), "region": best}
    return {
        "format": FORMAT,
        "case": case_to_json(Case(case.network, case.domain)),
        "regions": [_region_doc(r, n) for r in regions],
        "pieces": _pieces_doc(g),
        "counts": counts,
        "lipschitz": lipschitz,
    }


def certify(case: Case, norms: Sequence[str] = NORMS, **limits: Any) -> dict[str, Any]:
    """Enumerate the regions of ``case`` and build their certificate (``limits`` go to
    `enumerate_regions`: ``max_regions``, ``time_limit``, ``progress``; with ``workers``,
    ``scheduler`` or ``client``, to `exactrelu.distributed.regions.enumerate_regions`)."""
    if any(limits.get(k) is not None for k in ("workers", "scheduler", "client")):
        from .distributed.regions import enumerate_regions as enumerate_cells

        return build_certificate(case, enumerate_cells(case.network, case.domain, **limits), norms)
    g = enumerate_regions(case.network, case.domain, **limits)
    return build_certificate(case, g, norms)
