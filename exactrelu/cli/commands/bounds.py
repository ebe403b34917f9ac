"""``exactrelu bounds CASE --norm {1,2,inf}``: seed 004's K bounds and seed 002's C, C_E, beside L."""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import (
    TORCH_SUFFIXES,
    Outcome,
    load,
    parse_input_shape,
    positive_float,
    positive_int,
)

NAME = "bounds"
HELP = "K_star, K, K1, K2, K3, K4 (seed 004), C, C_E (seed 002) and the exact L, for one norm"
MAX_NODES = 200_000
L_MAX_NODES = 20_000
TIME_LIMIT = 600.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="case file or network file")
    p.add_argument("--norm", default="inf", help="1, 2 or inf (default inf)")
    p.add_argument("--backend", default="exact", choices=("exact", "numpy", "torch"), help="default exact")
    p.add_argument("--device", default=None, help="device for the torch backend (cpu, cuda)")
    p.add_argument("--precision", default=None, choices=("float64", "float32"),
                   help="numpy/torch: precision of the segment products behind K1, K4 (default float64)")
    p.add_argument("--mode", default=None, choices=("explicit", "implicit"),
                   help="numpy/torch: form block matrices (explicit, default) or apply operators (implicit)")
    p.add_argument("--max-pool", default=None, choices=("relu", "node"),
                   help="numpy/torch on a torch file: max-pools as exact ReLU stages (default; every bound) "
                        "or as a max-pool node (tighter K_star, K3; no K, K1, K2, K4)")
    p.add_argument("--input-shape", metavar="SHAPE", default=None,
                   help="torch file whose first module is not Linear: the input shape without the batch axis, e.g. 1,8,8")
    p.add_argument("--k2", default="seqlip", choices=("seqlip", "max_sigma", "seqlip_inf"),
                   help="K2's definition: seqlip, max_sigma (ℓ2), seqlip_inf (SeqLip's split in ℓ∞, --norm inf)")
    p.add_argument("--max-nodes", type=positive_int, default=MAX_NODES, metavar="N",
                   help=f"node budget of K's branch and bound (default {MAX_NODES}; beyond it K is a certified bracket)")
    p.add_argument("--time-limit", type=positive_float, default=TIME_LIMIT, metavar="S",
                   help=f"exact backend: seconds for K's search and then the exact L together (default "
                        f"{TIME_LIMIT:g}; K then is a certified bracket, L's bracket exits 3)")
    p.add_argument("--no-l", action="store_true", help="skip the exact L")
    p.add_argument("--l-max-nodes", type=positive_int, default=L_MAX_NODES, metavar="N",
                   help=f"node budget of the exact L (default {L_MAX_NODES}; exit 3 with L's certified bracket)")
    p.add_argument("--l-time-limit", type=positive_float, default=None, metavar="S",
                   help="time limit for the exact L (exit 3 with L's certified bracket)")


def run(args: argparse.Namespace) -> Outcome:
    from ...bounds import bounds
    from ...core.errors import InputError, LimitReached
    from ...core.norms import parse_norm
    from ...core.report import quantity_text, real_text
    from ...core.results import BOUND_NAMES
    from ...lipschitz import lipschitz
    from ..console import progress

    start = time.monotonic()
    norm = parse_norm(args.norm)
    options: dict[str, Any] = {k: v for k, v in (("precision", args.precision), ("mode", args.mode)) if v is not None}
    torch_file = Path(args.case).suffix.lower() in TORCH_SUFFIXES
    if args.backend != "exact" and torch_file:
        # a torch model goes to the float path as it is (convolutions stay convolutions),
        # without the exact conversion
        b, name = _torch_file_bounds(args, norm, options)
    else:
        if args.max_pool is not None:
            raise InputError("applies to torch files (.pt, .pth) with --backend numpy or torch", path="--max-pool")
        case = load(args.case, args.input_shape)
        if args.backend == "exact":
            options["time_limit"] = args.time_limit
        b = bounds(case.network, norm, backend=args.backend, device=args.device, max_nodes=args.max_nodes,
                   k2_definition=args.k2, domain=case.domain, **options)
        name = case.network.name
    doc = b.to_json()
    doc["backend"] = args.backend
    lines = [f"{name or args.case}: bounds for the {'ℓ' + norm if norm != 'inf' else 'ℓ∞'} norm"]
    status = 0
    l_limited = None
    if not args.no_l and args.backend == "exact":
        left = max(args.time_limit - (time.monotonic() - start), 0.5)
        l_time = left if args.l_time_limit is None else min(args.l_time_limit, left)
        with progress("L: search nodes") as update:
            try:
                res = lipschitz(case.network, norm, case.domain, max_nodes=args.l_max_nodes,
                                time_limit=l_time, progress=update)
            except LimitReached as e:
                res, l_limited, status = e.partial, str(e), 3
        if res is not None:
            doc.update(res.value.to_json("L"))
            doc["L_witness"] = res.to_json()["witness"]
        else:
            doc["L"] = None
        if l_limited is not None:
            doc["L_error"] = l_limited
    if args.backend != "exact" and doc.get("L_lower") is not None:
        lo, hi = b.values["L_lower"], b.values["L"]
        lines.append(f"  L      in [{_end(lo.value)}, {_end(hi.value)}]  (lower end: {lo.label}, exact value in "
                     "--json; upper end: certified)")
    if args.backend == "exact" and not args.no_l:
        if l_limited is not None and res is not None and res.value.interval is not None:
            lo, hi = res.value.interval
            lines.append(f"  L      in [{real_text(lo)}, {real_text(hi)}]  [certified bracket: {l_limited}; "
                         "raise --l-max-nodes or --time-limit]")
        elif l_limited is not None:
            lines.append(f"  L      not found: {l_limited}; raise --l-max-nodes or --time-limit")
        elif doc.get("L") is not None:
            q = res.value if res.exact is None else replace(res.value, number=res.exact)
            lines.append("  " + quantity_text("L", q))
    for key in BOUND_NAMES:
        if key in b.values:
            lines.append(quantity_text(key, b.values[key]).join(("  ", "")))
        elif key in b.undefined:
            lines.append(f"  {key:6}   not defined: {b.undefined[key]}")
    return Outcome(doc, "\n".join(lines), status)


def _end(v: Any) -> str:
    """An end of a float bracket: 16 significant digits (an exact lower end in full in --json)."""
    from fractions import Fraction

    from ...core.report import decimal

    return decimal(v, 16) if isinstance(v, Fraction) else repr(float(v))


def _torch_file_bounds(args: argparse.Namespace, norm: str, options: dict[str, Any]) -> tuple[Any, str]:
    """Float bounds of a ``.pt``/``.pth`` model, read into the float operator graph directly."""
    from ...core.errors import InputError
    from ...floats.bounds import bounds
    from ...io.torch import input_shape_of, load_module, operators_from_torch

    module, shape = load_module(args.case)
    given = parse_input_shape(args.input_shape, args.case)
    name = Path(args.case).stem
    try:
        opnet = operators_from_torch(module, input_shape_of(module, given or shape), name, max_pool=args.max_pool or "relu")
    except InputError as e:
        raise e.at(file=args.case) from None
    return bounds(opnet, norm, args.device, backend=args.backend, **options), name
