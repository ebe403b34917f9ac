"""Forged certificates are rejected: for every bundled case whose regions have coincident
rows (found here, from their certificates) and for the other small bundled cases, every
claim a certificate makes is forged in turn (circular redundancy hiding a facet, a
facet hidden, a region dropped or duplicated, a wrong Jacobian, offset, neighbour,
linear-piece link, boundedness proof, count or L in each norm, a witness on a facet or
outside the domain, a network or domain swapped, numbers in odd syntax), and `check`
must reject each one.

The forgeries are built to be believable: a dropped region's neighbours, labels, counts
and L claims are rewritten to match what is left, so that only the lie itself remains.
"""

from __future__ import annotations

import copy
import glob
import json
from fractions import Fraction
from typing import Any, Iterator

import pytest

from exactrelu.certificate import certify
from exactrelu.checker import check_certificate
from exactrelu.checker.reader import read_case
from exactrelu.checker.regions import cell
from exactrelu.io.case import read_case as engine_read_case

CASES = sorted(f for f in glob.glob("cases/*/*.json") if "/models/" not in f)
SLOW = {"cases/arrangements/catalan-4.json", "cases/arrangements/shi-4.json", "cases/seed004/sawtooth-6.json"}
F = Fraction


@pytest.fixture(scope="module")
def certs() -> dict[str, dict[str, Any]]:
    return {f: json.loads(json.dumps(certify(engine_read_case(f), ("1", "inf", "2")))) for f in CASES}


def _coincident(cert: dict[str, Any]) -> bool:
    return any(len(g["rows"]) > 1 for r in cert["regions"] for g in r["groups"])


def _rows(cert: dict[str, Any], k: int) -> dict[tuple[Any, ...], tuple[tuple[Fraction, ...], Fraction]]:
    net, dom = read_case(cert["case"])
    dom_rows = {("domain", i): row for i, row in enumerate(dom) if any(row[0])}
    pattern = tuple(tuple(s) for s in cert["regions"][k]["pattern"])
    return cell(net, pattern, dom_rows, "").rows


def _norm(J: list[list[str]], norm: str) -> Fraction:
    M = [[F(v) for v in row] for row in J]
    if norm == "inf":
        return max(sum(abs(v) for v in row) for row in M)
    return max(sum(abs(row[k]) for row in M) for k in range(len(M[0])))


def _restrict(cert: dict[str, Any], keep: list[int], redirect: int | None = None) -> dict[str, Any]:
    """The certificate of the regions ``keep`` only, renumbered, with every other claim
    rewritten to fit (labels, links, counts, L): a facet into a dropped region points
    to ``redirect`` (an old index) or to nothing."""
    doc = copy.deepcopy(cert)
    new = {old: i for i, old in enumerate(keep)}
    regions = [doc["regions"][k] for k in keep]
    for r in regions:
        for g in r["groups"]:
            if "facet" in g and g["facet"]["neighbor"] is not None:
                nb = g["facet"]["neighbor"]
                g["facet"]["neighbor"] = new.get(nb, new.get(redirect) if redirect is not None else None)
    doc["regions"] = regions
    labels = [doc["pieces"]["labels"][k] for k in keep]
    relabel = {lab: i for i, lab in enumerate(dict.fromkeys(labels))}
    doc["pieces"]["labels"] = [relabel[lab] for lab in labels]
    for key in ("touching", "apart"):
        doc["pieces"][key] = [
            {**x, "regions": [new[x["regions"][0]], new[x["regions"][1]]]}
            for x in doc["pieces"][key]
            if all(i in new for i in x["regions"])
        ]
    doc["counts"]["activation_regions"] = len(keep)
    doc["counts"]["linear_pieces"] = len(relabel)
    if "bounded_regions" in doc["counts"]:
        doc["counts"]["bounded_regions"] = sum("multipliers" in r["bounded"] for r in regions)
    for norm in ("1", "inf"):
        norms = [_norm(r["jacobian"], norm) for r in regions]
        best = max(range(len(norms)), key=norms.__getitem__)
        doc["lipschitz"][norm] = {"value": str(norms[best]), "region": best}
    if doc["lipschitz"]["2"]["region"] in new:
        doc["lipschitz"]["2"]["region"] = new[doc["lipschitz"]["2"]["region"]]
    else:
        del doc["lipschitz"]["2"]
    return doc


def _circular(cert: dict[str, Any], k: int, gi: int) -> list[dict[str, Any]]:
    """Region k's group gi (coincident rows) split into one group per row, each proved
    redundant by the next one round the cycle (every identity exact)."""
    group = cert["regions"][k]["groups"][gi]
    labels = [tuple(x) for x in group["rows"]]
    rows = _rows(cert, k)
    order = [tuple(x) for g in cert["regions"][k]["groups"] for x in g["rows"]]
    out = []
    for j, lab in enumerate(labels):
        nxt = labels[(j + 1) % len(labels)]
        (a, _), (a2, _) = rows[lab], rows[nxt]
        piv = next(i for i, v in enumerate(a) if v != 0)
        c = a[piv] / a2[piv]  # row lab = c * row nxt
        out.append({"rows": [list(lab)],
                    "redundant": {"multipliers": {str(order.index(nxt)): str(c)}, "row_multiplier": "-1"}})
    return out


def forgeries(cert: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(kind, forged certificate, options for check) for every forgery that applies."""
    regs = cert["regions"]
    m = len(regs)
    has_domain = "domain" in cert["case"]

    # circular redundancy over coincident rows (the first such group of up to 8 regions),
    # and as the whole lie (one region left) wherever it can be told
    spread = sorted({k * (m - 1) // 7 for k in range(8)}) if m > 8 else range(m)
    for k, r in enumerate(regs):
        multi = [gi for gi, g in enumerate(r["groups"]) if len(g["rows"]) > 1]
        for gi in multi[:1] if k in spread else ():
            doc = copy.deepcopy(cert)
            groups = doc["regions"][k]["groups"]
            doc["regions"][k]["groups"] = groups[:gi] + _circular(cert, k, gi) + groups[gi + 1:]
            yield "circular redundancy", doc, {}
        inner = [gi for gi, g in enumerate(r["groups"]) if "facet" in g and g["facet"]["neighbor"] is not None]
        if inner and all(gi in multi for gi in inner):
            doc = copy.deepcopy(cert)
            groups = []
            for gi, g in enumerate(doc["regions"][k]["groups"]):
                groups += _circular(cert, k, gi) if gi in inner else [g]
            doc["regions"][k]["groups"] = groups
            yield "circular redundancy, the region alone", _restrict(doc, [k]), {}
    for k in sorted({0, m // 2, m - 1}):  # a few regions: every forgery of a region's claims
        r = regs[k]
        # a facet declared redundant (multipliers on another row)
        for gi, g in enumerate(r["groups"]):
            if "facet" in g and len(r["groups"]) > 1:
                doc = copy.deepcopy(cert)
                other = 0 if gi else len(g["rows"])
                doc["regions"][k]["groups"][gi] = {"rows": g["rows"],
                                                  "redundant": {"multipliers": {str(other): "1"}, "row_multiplier": "-1"}}
                yield "facet hidden", doc, {}
                break
        # the region dropped, its neighbours pointing nowhere or elsewhere
        if m > 1:
            keep = [i for i in range(m) if i != k]
            yield "region dropped", _restrict(cert, keep), {}
            yield "region dropped, facets redirected", _restrict(cert, keep, keep[0]), {}
        # the region listed twice
        doc = copy.deepcopy(cert)
        doc["regions"].append(copy.deepcopy(r))
        doc["pieces"]["labels"].append(doc["pieces"]["labels"][k])
        doc["counts"]["activation_regions"] += 1
        yield "region duplicated", doc, {}
        # wrong map
        for key in ("jacobian", "offset"):
            doc = copy.deepcopy(cert)
            v = doc["regions"][k][key]
            if key == "jacobian":
                v[0][0] = str(F(v[0][0]) + F(1, 3))
            else:
                v[0] = str(F(v[0]) - 1)
            yield f"wrong {key}", doc, {}
        # the witness on a facet, or outside the domain
        for g in r["groups"]:
            if "facet" in g:
                doc = copy.deepcopy(cert)
                doc["regions"][k]["witness"] = list(g["facet"]["point"])
                yield "witness on a facet", doc, {}
                if g["facet"]["neighbor"] is None:
                    doc = copy.deepcopy(cert)
                    a, _ = _rows(cert, k)[tuple(g["rows"][0])]
                    doc["regions"][k]["witness"] = [str(F(p) + v) for p, v in zip(g["facet"]["point"], a)]
                    yield "witness outside the domain", doc, {}
                break
        # wrong neighbour, a facet point moved off its hyperplane
        for gi, g in enumerate(r["groups"]):
            if "facet" in g and g["facet"]["neighbor"] is not None and m > 2:
                doc = copy.deepcopy(cert)
                f = doc["regions"][k]["groups"][gi]["facet"]
                f["neighbor"] = next(j for j in range(m) if j not in (k, f["neighbor"]))
                yield "wrong neighbour", doc, {}
                doc = copy.deepcopy(cert)
                doc["regions"][k]["groups"][gi]["facet"]["neighbor"] = None
                yield "inner facet on the domain's boundary", doc, {}
                break
        for gi, g in enumerate(r["groups"]):
            if "facet" in g:
                doc = copy.deepcopy(cert)
                f = doc["regions"][k]["groups"][gi]["facet"]
                a, _ = _rows(cert, k)[tuple(g["rows"][0])]
                f["point"] = [str(F(p) - v / 1000) for p, v in zip(f["point"], a)]  # inside, off the hyperplane
                yield "facet point off its facet", doc, {}
                break
        for gi, g in enumerate(r["groups"]):
            if "redundant" in g:
                doc = copy.deepcopy(cert)
                red = doc["regions"][k]["groups"][gi]["redundant"]
                key = next(iter(red["multipliers"]))
                red["multipliers"][key] = str(F(red["multipliers"][key]) * 2)
                yield "wrong redundancy multiplier", doc, {}
                break
        # wrong boundedness proofs
        doc = copy.deepcopy(cert)
        bd = doc["regions"][k]["bounded"]
        if "ray" in bd:
            rows = _rows(cert, k)  # an outward normal is no recession direction; nor is 0
            bd["ray"] = [str(v) for v in next(iter(rows.values()))[0]] if rows else ["0"] * len(r["witness"])
            yield "wrong ray", doc, {}
            doc = copy.deepcopy(cert)
            doc["regions"][k]["bounded"] = {"multipliers": {"0": "1"}}
            yield "unbounded region claimed bounded", doc, {}
        else:
            key = next(iter(bd["multipliers"]))
            bd["multipliers"][key] = str(F(bd["multipliers"][key]) * 3)
            yield "wrong boundedness multipliers", doc, {}
            doc = copy.deepcopy(cert)
            doc["regions"][k]["bounded"] = {"ray": ["1"] + ["0"] * (len(r["witness"]) - 1)}
            yield "bounded region claimed unbounded", doc, {}
    # linear pieces: a piece split, two pieces merged, links removed
    labels = cert["pieces"]["labels"]
    for k in range(m):
        if labels.count(labels[k]) > 1:
            doc = copy.deepcopy(cert)
            doc["pieces"]["labels"][k] = max(labels) + 1
            doc["counts"]["linear_pieces"] += 1
            yield "piece split", doc, {}
            break
    for k in range(m):
        other = next((j for j in range(m) if labels[j] != labels[k] and regs[j]["jacobian"] != regs[k]["jacobian"]), None)
        if other is not None:
            doc = copy.deepcopy(cert)
            doc["pieces"]["labels"] = [labels[other] if lab == labels[k] else lab for lab in labels]
            doc["counts"]["linear_pieces"] -= 1
            yield "pieces merged", doc, {}
            break
    for key in ("touching", "apart"):
        if cert["pieces"][key]:
            doc = copy.deepcopy(cert)
            doc["pieces"][key] = doc["pieces"][key][1:]
            yield f"{key} link removed", doc, {}
    if cert["pieces"]["apart"]:
        doc = copy.deepcopy(cert)
        first = doc["pieces"]["apart"][0]["first"]
        key = next(iter(first))
        first[key] = str(F(first[key]) / 2)
        yield "wrong apart multipliers", doc, {}
    # counts
    for key in cert["counts"]:
        for delta in (1, -1):
            doc = copy.deepcopy(cert)
            doc["counts"][key] += delta
            if doc["counts"][key] >= 0:
                yield f"wrong count {key}", doc, {}
    # L in each norm
    for norm in ("1", "inf"):
        value = F(cert["lipschitz"][norm]["value"])
        for forged in (value + F(1, 7), value - F(1, 7), value * 2 if value else F(1)):
            doc = copy.deepcopy(cert)
            doc["lipschitz"][norm]["value"] = str(forged)
            yield f"wrong L_{norm}", doc, {}
        smaller = next((j for j in range(m) if _norm(regs[j]["jacobian"], norm) < value), None)
        if smaller is not None:
            doc = copy.deepcopy(cert)
            doc["lipschitz"][norm]["region"] = smaller
            yield f"wrong L_{norm} region", doc, {}
    l2 = cert["lipschitz"]["2"]
    lo, hi = (F(v) for v in l2["value_squared"]["interval"])
    for forged in ([str(hi), str(hi + 1)], [str(lo - 1), str(lo)]):
        doc = copy.deepcopy(cert)
        doc["lipschitz"]["2"]["value_squared"]["interval"] = forged
        yield "wrong L_2 interval", doc, {}
    doc = copy.deepcopy(cert)
    mid = (lo + hi) / 2
    doc["lipschitz"]["2"]["value_squared"] = {"poly": [str(-(mid + 1)), "1"], "interval": [str(mid + F(1, 2)), str(mid + 2)]}
    yield "wrong L_2 (larger)", doc, {}
    if mid > F(1, 2):
        doc = copy.deepcopy(cert)
        doc["lipschitz"]["2"]["value_squared"] = {"poly": [str(-(mid - F(1, 4))), "1"], "interval": [str(mid - 1), str(mid)]}
        yield "wrong L_2 (smaller)", doc, {}
    doc = copy.deepcopy(cert)
    doc["lipschitz"]["2"]["value_float"] = l2["value_float"] * 1.01 + 0.01
    yield "wrong L_2 float", doc, {}
    # the network or the domain swapped: against the true case given to check
    net, dom = read_case(cert["case"])
    layers = cert["case"]["layers"]
    li = next(i for i, layer in enumerate(layers) if layer["type"] == "affine")
    doc = copy.deepcopy(cert)
    w = doc["case"]["layers"][li]["weight"]
    w[0][0] = str(F(w[0][0]) + 1)
    yield "network swapped", doc, {"case": (net, dom)}
    if has_domain:
        doc = copy.deepcopy(cert)
        if "box" in doc["case"]["domain"]:
            doc["case"]["domain"]["box"][0][1] = str(F(doc["case"]["domain"]["box"][0][1]) + 1)
        else:
            doc["case"]["domain"]["halfspaces"]["b"][0] = str(F(doc["case"]["domain"]["halfspaces"]["b"][0]) + 1)
        yield "domain swapped", doc, {"case": (net, dom)}
    doc = copy.deepcopy(cert)
    doc["case"].pop("domain", None) if has_domain else doc["case"].update(domain={"box": [["-1", "1"]] * net.input_dim})
    yield "domain swapped (whole space / box)", doc, {"case": (net, dom)}
    # numbers in odd syntax
    for odd in ("\u0661", "1_0", " 1", "0x1", "1e999999999", True, None, [], "1/0", "NaN", float("nan")):
        doc = copy.deepcopy(cert)
        doc["regions"][0]["witness"][0] = odd
        yield "odd number syntax", doc, {}
    doc = copy.deepcopy(cert)
    doc["regions"][0]["pattern"][0][0] = float(doc["regions"][0]["pattern"][0][0])
    yield "odd number syntax (a float state)", doc, {}
    doc = copy.deepcopy(cert)
    doc["counts"]["activation_regions"] = float(m)
    yield "odd number syntax (a float count)", doc, {}
    doc = copy.deepcopy(cert)
    doc["lipschitz"]["1"]["region"] = -m
    yield "odd number syntax (a negative index)", doc, {}


@pytest.mark.parametrize("path", [f for f in CASES if f not in SLOW])
def test_forgeries_are_rejected(path, certs, record_property):
    cert = certs[path]
    if not _coincident(cert) and len(cert["regions"]) > 16:
        pytest.skip("no coincident rows, and more than 16 regions: the forgeries of the small cases suffice")
    assert check_certificate(cert).ok
    kinds: dict[str, int] = {}
    accepted = []
    for kind, doc, opts in forgeries(cert):
        v = check_certificate(doc, **opts)
        kinds[kind] = kinds.get(kind, 0) + 1
        if v.ok:
            accepted.append(kind)
    assert not accepted, f"accepted forgeries: {accepted}"
    if _coincident(cert):
        assert "circular redundancy" in kinds
    record_property("forgeries", sum(kinds.values()))


def test_the_coincident_cases_are_found(certs):
    coincident = {f for f, c in certs.items() if _coincident(c)}
    assert {"cases/seed003/relu.json", "cases/degenerate/abs-coincident.json", "cases/degenerate/identity-coincident.json"} <= coincident
    assert len(coincident) >= 7


def test_the_one_region_lie_of_the_issue(certs):
    """seed003's relu case: a one-region certificate (L = 0) of its two regions, by
    circular redundancy over the coincident rows at x = 0, is rejected, and says why."""
    cert = certs["cases/seed003/relu.json"]
    lies = [doc for kind, doc, _ in forgeries(cert) if kind == "circular redundancy, the region alone"]
    assert len(lies) == 2  # either region alone
    for doc in lies:
        assert doc["counts"]["activation_regions"] == 1
        v = check_certificate(doc)
        assert not v.ok and "coincident rows form one group" in v.problems[0]


def test_circular_proofs_between_distinct_half_spaces_are_rejected():
    """On the box [0, 1]^2 with the dead neurons x + y - 10 and x + 2y - 10, both of their
    rows are redundant; a proof of each by the other (both identities exact) is circular
    and is rejected, while the writer's own proofs (by the box's facets) are accepted."""
    from exactrelu.core.domain import Domain
    from exactrelu.core.network import Network, activation, affine
    from exactrelu.io.case import Case

    net = Network.from_layers(2, [affine([[1, 1], [1, 2]], [-10, -10]), activation("relu"), affine([[1, 1]])])
    cert = json.loads(json.dumps(certify(Case(net, Domain.from_box([[0, 1], [0, 1]])))))
    assert check_certificate(cert).ok
    region = cert["regions"][0]
    order = [tuple(x) for g in region["groups"] for x in g["rows"]]
    g_pos, h_pos = order.index((0, 0, 0, 1)), order.index((0, 1, 0, 1))
    y_hi = order.index(("domain", 2))  # y <= 1
    x_hi = order.index(("domain", 0))  # x <= 1
    # g: x + y <= 10 is (x + 2y <= 10) + (-y <= 0); h: x + 2y <= 10 is 1/2 g + 1/2 (x <= 1) + 3/2 (y <= 1)
    y_lo = order.index(("domain", 3))
    proofs = {
        (0, 0, 0, 1): {"multipliers": {str(h_pos): "1", str(y_lo): "1"}, "row_multiplier": "-1"},
        (0, 1, 0, 1): {"multipliers": {str(g_pos): "1/2", str(x_hi): "1/2", str(y_hi): "3/2"}, "row_multiplier": "-1"},
    }
    for g in region["groups"]:
        if tuple(g["rows"][0]) in proofs:
            assert "redundant" in g
            g["redundant"] = proofs[tuple(g["rows"][0])]
    v = check_certificate(cert)
    assert not v.ok and "listed after it" in v.problems[0]


def test_writer_breaks_circular_proofs():
    """The writer orders redundancy proofs so that each uses facets and earlier proofs
    only, and replaces a proof caught in a cycle by one over the facets."""
    import dataclasses

    from exactrelu.certificate import build_certificate
    from exactrelu.core.domain import Domain
    from exactrelu.core.network import Network, activation, affine
    from exactrelu.io.case import Case
    from exactrelu.regions import NonFacet, enumerate_regions

    net = Network.from_layers(2, [affine([[1, 1], [1, 2]], [-10, -10]), activation("relu"), affine([[1, 1]])])
    case = Case(net, Domain.from_box([[0, 1], [0, 1]]))
    g = enumerate_regions(net, case.domain)
    (r,) = g.regions
    row = {lab: k for k, lab in enumerate(r.labels)}
    gk, hk = row[(0, 0, 0, 1)], row[(0, 1, 0, 1)]
    circular = (
        NonFacet((gk,), ((hk, F(1)), (row[("domain", 3)], F(1))), F(-1)),
        NonFacet((hk,), ((gk, F(1, 2)), (row[("domain", 0)], F(1, 2)), (row[("domain", 2)], F(3, 2))), F(-1)),
    )
    g2 = dataclasses.replace(g, regions=(dataclasses.replace(r, nonfacets=circular),))
    cert = json.loads(json.dumps(build_certificate(case, g2)))
    assert check_certificate(cert).ok
