"""``exactrelu bounds CASE --norm {1,2,inf}``: seed 004's K bounds and seed 002's C, C_E, beside L."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ...bounds import bounds
from ...core.errors import InputError, LimitReached
from ...core.norms import parse_norm
from ...core.results import BOUND_NAMES
from ...lipschitz import lipschitz
from . import TORCH_SUFFIXES, Outcome, load, parse_input_shape

NAME = "bounds"
HELP = "K_star, K, K1, K2, K3, K4 (seed 004), C, C_E (seed 002) and the exact L, for one norm"


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
    p.add_argument("--max-nodes", type=int, default=200_000, help="node budget of K's branch and bound")
    p.add_argument("--no-l", action="store_true", help="skip the exact L")
    p.add_argument("--l-time-limit", type=float, default=None, metavar="S", help="time limit for L (then no L)")


def run(args: argparse.Namespace) -> Outcome:
    norm = parse_norm(args.norm)
    options = {k: v for k, v in (("precision", args.precision), ("mode", args.mode)) if v is not None}
    torch_file = Path(args.case).suffix.lower() in TORCH_SUFFIXES
    if args.backend != "exact" and torch_file:
        # a torch model goes to the float path as it is (convolutions stay convolutions),
        # without the exact conversion
        b, name = _torch_file_bounds(args, norm, options)
    else:
        if args.max_pool is not None:
            raise InputError("applies to torch files (.pt, .pth) with --backend numpy or torch", path="--max-pool")
        case = load(args.case, args.input_shape)
        b = bounds(case.network, norm, backend=args.backend, device=args.device, max_nodes=args.max_nodes,
                   k2_definition=args.k2, domain=case.domain, **options)
        name = case.network.name
    doc = b.to_json()
    doc["backend"] = args.backend
    lines = [f"{name or args.case}: bounds for the {'ℓ' + norm if norm != 'inf' else 'ℓ∞'} norm"]
    if not args.no_l and args.backend == "exact":
        try:
            res = lipschitz(case.network, norm, case.domain, time_limit=args.l_time_limit)
            doc.update(res.value.to_json("L"))
            doc["L_witness"] = res.to_json()["witness"]
        except LimitReached as e:
            doc["L"] = None
            doc["L_error"] = str(e)
    if args.backend != "exact" and doc.get("L_lower") is not None:
        lines.append(f"  L      in [{doc['L_lower_float']}, {doc['L_upper_float']}]  (lower end: "
                     f"{doc.get('L_lower_guarantee', '')}, exact value in --json; upper end: certified)")
    for name in ("L",) + BOUND_NAMES:
        if name == "L" and args.backend != "exact":
            continue
        if doc.get(name) is not None:
            lines.append(f"  {name:6} = {doc[name]}  ≈ {doc[name + '_float']}  [{doc[name + '_guarantee']}]")
        elif f"{name}_undefined" in doc:
            lines.append(f"  {name:6}   not defined: {doc[name + '_undefined']}")
    return Outcome(doc, "\n".join(lines))


def _torch_file_bounds(args: argparse.Namespace, norm: str, options: dict[str, Any]) -> tuple[Any, str]:
    """Float bounds of a ``.pt``/``.pth`` model, read into the float operator graph directly."""
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
