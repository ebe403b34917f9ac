"""``prove(net, prop)``: decide a VNN-LIB property exactly (SPEC §5).

The answer is ``"holds"`` (no input of the input set reaches the unsafe set; with a
certificate that `exactrelu.checker.property` re-verifies without an LP solver),
``"violated"`` (an exact rational counterexample, its exact outputs, and its float64 /
float32 replays, `replay`), or, at a limit, ``"unknown"`` with the fraction of the input
box settled so far (raised as `LimitReached` carrying the partial result).

The search (`search`) runs once per input set of the property (`formula.Property.groups`).

>>> from exactrelu.core.network import Network, affine, activation
>>> from exactrelu.properties.vnnlib import parse_vnnlib
>>> net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])
>>> text = "(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= -1 X_0 2))(assert (>= Y_0 {}))"
>>> prove(net, parse_vnnlib(text.format("2.5"))).value
'holds'
>>> r = prove(net, parse_vnnlib(text.format("1.5")))
>>> r.value, net.evaluate(r.counterexample.x)[0] >= Fraction(3, 2)
('violated', True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

from ..core.errors import InputError, LimitReached
from ..core.network import Network
from ..core.numbers import format_number, to_fraction
from ..polyhedra.lp import OPTIMAL, feasible_point, lp_max
from .formula import Atom, Group, Property
from .propagation import GRID_BITS, LAMBDA_BITS, SLOPE_BITS, Model
from .replay import Replay, replay
from .search import Options, SearchLimit, search

CERTIFICATE_FORMAT = "exactrelu-property-certificate/1"


@dataclass(frozen=True)
class Counterexample:
    """An exact point of the input set whose exact outputs lie in the unsafe set (disjunct ``disjunct``)."""

    x: tuple[Fraction, ...]
    y: tuple[Fraction, ...]
    disjunct: int

    def to_json(self) -> dict[str, Any]:
        return {
            "x": [format_number(v) for v in self.x],
            "y": [format_number(v) for v in self.y],
            "x_float": [float(v) for v in self.x],
            "y_float": [float(v) for v in self.y],
            "disjunct": self.disjunct,
        }


@dataclass(frozen=True)
class ProveResult:
    """``value``: "holds", "violated" or "unknown"; ``guarantee``: "exact" (for unknown, of
    the settled part); ``settled``: the fraction of the input boxes' volume decided;
    ``certificate``: for holds, the JSON certificate (when asked for)."""

    value: str
    guarantee: str
    counterexample: Counterexample | None = None
    replay: Replay | None = None
    settled: Fraction = Fraction(0)
    certificate: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    diagnostics: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"result": self.value, "guarantee": self.guarantee}
        if self.counterexample is not None:
            doc["counterexample"] = self.counterexample.to_json()
        if self.replay is not None:
            doc["replay"] = dict(self.replay.violated)
            doc["replay_detail"] = {
                fmt: {"x": list(self.replay.points[fmt]), "y": list(self.replay.outputs[fmt])} for fmt in ("float64", "float32")
            }
            doc["replay_detail"]["float32_engine"] = self.replay.float32_engine
        if self.value == "unknown":
            doc["settled"] = format_number(self.settled)
            doc["settled_float"] = float(self.settled)
        doc["diagnostics"] = self.diagnostics
        return doc


def check_dimensions(net: Network, prop: Property) -> None:
    """`InputError` (naming the property file) when the variables do not fit the network."""
    if prop.input_dim != net.input_dim:
        raise InputError(
            f"the property declares {prop.input_dim} inputs (X_0 … X_{prop.input_dim - 1}), "
            f"but the network has {net.input_dim}", file=prop.source)
    if prop.output_dim != net.output_dim:
        raise InputError(
            f"the property declares {prop.output_dim} outputs (Y_0 … Y_{prop.output_dim - 1}), "
            f"but the network has {net.output_dim}", file=prop.source)


@dataclass(frozen=True)
class InputSet:
    """A group's input set: its bounding box (each bound proved by one input atom, or by
    multipliers on them), and the atoms themselves."""

    box: tuple[tuple[Fraction, Fraction], ...]
    box_proofs: tuple[Any, ...]
    atoms: tuple[Atom, ...]


def input_set(group: Group, n: int, source: str = "") -> InputSet | None:
    """The bounding box of the group's input atoms (exact); None when their closure is empty.

    A coordinate bounded by no single atom gets its bound from an exact LP over all input
    atoms (the dual multipliers prove it); an unbounded one is an `InputError`."""
    lo: list[Fraction | None] = [None] * n
    hi: list[Fraction | None] = [None] * n
    lo_proof: list[Any] = [None] * n
    hi_proof: list[Any] = [None] * n
    atoms = group.input_atoms
    for j, a in enumerate(atoms):
        nz = [i for i, v in enumerate(a.x_coef) if v]
        if len(nz) != 1:
            continue
        i = nz[0]
        bound = -a.const / a.x_coef[i]
        if a.x_coef[i] > 0 and (hi[i] is None or bound < hi[i]):
            hi[i], hi_proof[i] = bound, {"atom": j}
        if a.x_coef[i] < 0 and (lo[i] is None or bound > lo[i]):
            lo[i], lo_proof[i] = bound, {"atom": j}
    A = [list(a.x_coef) for a in atoms]
    b = [-a.const for a in atoms]
    if not atoms:
        raise InputError("the input set is unbounded (no constraint on the inputs X)", file=source)
    if feasible_point(A, b, dim=n).point is None:
        return None
    for i in range(n):
        for side in ("lo", "hi"):
            if (lo if side == "lo" else hi)[i] is not None:
                continue
            c = [Fraction(0)] * n
            c[i] = Fraction(1) if side == "hi" else Fraction(-1)
            res = lp_max(c, A, b)
            if res.status != OPTIMAL:
                raise InputError(
                    f"the input set is unbounded in X_{i} ({'above' if side == 'hi' else 'below'}); "
                    "the search needs a bounded input set", file=source)
            mult = {"multipliers": [[j, format_number(v)] for j, v in enumerate(res.dual) if v]}
            if side == "hi":
                hi[i], hi_proof[i] = res.value, mult
            else:
                lo[i], lo_proof[i] = -res.value, mult
    if any(l > h for l, h in zip(lo, hi)):  # type: ignore[operator]
        return None
    box = tuple((to_fraction(l), to_fraction(h)) for l, h in zip(lo, hi))  # type: ignore[arg-type]
    return InputSet(box, tuple((p, q) for p, q in zip(lo_proof, hi_proof)), atoms)


def prove(
    net: Network,
    prop: Property,
    *,
    time_limit: float | None = None,
    max_nodes: int | None = None,
    options: Options | None = None,
    onnx_path: str | None = None,
    certificate: bool = False,
) -> ProveResult:
    """Decide ``prop`` on ``net`` exactly (module docstring). ``onnx_path``: the ONNX file the
    network came from, for the float32 replay in onnxruntime. ``certificate``: build the
    holds certificate. A limit raises `LimitReached` whose ``partial`` is the unknown result."""
    check_dimensions(net, prop)
    t0 = time.perf_counter()
    opts = options or Options()
    m = Model.of(net)
    groups = prop.groups
    sets = [input_set(g, net.input_dim, prop.source) for g in groups]
    if all(s is None for s in sets):
        raise InputError("the input set is empty (no input satisfies the input constraints)", file=prop.source)
    totals = {"nodes": 0, "leaves": 0, "lps": 0, "exact_lps": 0, "exact_bounds": 0}
    proofs = {"empty": 0, "bound": 0, "dual": 0, "affine": 0}
    cert_groups = []
    settled_vol = Fraction(0)
    total_vol = sum((_vol(s.box) for s in sets if s is not None), Fraction(0))

    def diagnostics() -> dict[str, Any]:
        out = dict(totals)
        out["proofs"] = dict(proofs)
        out["groups"] = len(groups)
        out["time_s"] = round(time.perf_counter() - t0, 4)
        return out

    for g, s in zip(groups, sets):
        if s is None:
            cert_groups.append(empty_group(g, net.input_dim))
            continue
        remaining = None if time_limit is None else max(0.0, time_limit - (time.perf_counter() - t0))
        gopts = Options(**{**opts.__dict__, "time_limit": remaining, "max_nodes": max_nodes})
        try:
            out = search(m, s.box, s.atoms, g.conjunctions, gopts)
        except SearchLimit as e:
            _add(totals, proofs, e.stats)
            settled = (settled_vol + e.settled * _vol(s.box)) / total_vol if total_vol else Fraction(0)
            partial = ProveResult("unknown", "exact", settled=settled, diagnostics=diagnostics())
            raise LimitReached(str(e), partial=partial) from None
        _add(totals, proofs, out.stats)
        if out.counterexample is not None:
            x, y, k = out.counterexample
            cex = Counterexample(x, y, g.indices[k])
            rep = replay(net, prop, x, onnx_path)
            return ProveResult("violated", "exact", cex, rep, Fraction(1), diagnostics=diagnostics())
        settled_vol += _vol(s.box)
        cert_groups.append({
            "disjuncts": list(g.indices),
            "box": [[format_number(lo), format_number(hi)] for lo, hi in s.box],
            "box_proofs": [list(p) for p in s.box_proofs],
            "tree": out.tree,
        })
    cert = holds_certificate(net, prop, cert_groups) if certificate else None
    return ProveResult("holds", "exact", settled=Fraction(1), certificate=cert, diagnostics=diagnostics())


def empty_group(g: Group, n: int) -> dict[str, Any]:
    """A certificate's group whose input set is empty: Farkas multipliers on its input atoms."""
    A = [list(a.x_coef) for a in g.input_atoms]
    farkas = feasible_point(A, [-a.const for a in g.input_atoms], dim=n).farkas or ()
    return {"disjuncts": list(g.indices), "empty": [[j, format_number(v)] for j, v in enumerate(farkas) if v]}


def holds_certificate(net: Network, prop: Property, groups: list[dict[str, Any]]) -> dict[str, Any]:
    """The holds certificate of ``prop`` on ``net`` from its groups' documents."""
    from ..io.case import case_to_json

    return {
        "format": CERTIFICATE_FORMAT,
        "claim": "holds",
        "network": case_to_json(net),
        "property": prop.to_json(),
        "rules": {"grid_bits": GRID_BITS, "slope_bits": SLOPE_BITS, "lambda_bits": LAMBDA_BITS},
        "groups": groups,
    }


def _vol(box: Sequence[tuple[Fraction, Fraction]]) -> Fraction:
    v = Fraction(1)
    for lo, hi in box:
        v *= hi - lo
    return v


def _add(totals: dict[str, int], proofs: dict[str, int], stats: Any) -> None:
    for k in totals:
        totals[k] += getattr(stats, k)
    for k, v in stats.proofs.items():
        proofs[k] += v
