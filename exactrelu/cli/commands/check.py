"""``exactrelu check CERT``: re-verify a certificate in exact arithmetic, no LP solver;
exit 0 when every claim holds, 1 otherwise."""

from __future__ import annotations

import argparse
from pathlib import Path

from ...check import check_certificate
from ...core.errors import InputError
from ...io.case import read_json
from . import Outcome

NAME = "check"
HELP = "re-verify a certificate written by 'exactrelu certify' (exit 0 accepted, 1 rejected)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("certificate", help="certificate file (JSON)")


def run(args: argparse.Namespace) -> Outcome:
    path = Path(args.certificate)
    doc = read_json(path)
    try:
        v = check_certificate(doc)
    except InputError as e:
        raise e.at(file=str(path)) from None
    out = {"ok": v.ok, "problems": list(v.problems), "counts": v.counts, "lipschitz": v.lipschitz, "claims_checked": v.claims_checked}
    if v.ok:
        text = f"ACCEPTED {path}: {v.claims_checked} claims verified; " + ", ".join(f"{k} {c}" for k, c in v.counts.items())
        if v.lipschitz:
            text += "; " + ", ".join(f"L_{k} = {val}" for k, val in v.lipschitz.items())
    else:
        text = f"REJECTED {path}:\n" + "\n".join(f"  {p}" for p in v.problems)
    return Outcome(out, text, 0 if v.ok else 1)
