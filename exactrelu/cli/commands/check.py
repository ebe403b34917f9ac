"""``exactrelu check CERT [--case CASE]``: re-verify a certificate with the independent
checker (`exactrelu.checker`: its own reader, exact arithmetic, no LP solver); exit 0
when every claim holds, 1 otherwise. A malformed certificate is a rejected one (exit 1);
only an unreadable file or bad options exit 2."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from ...checker import Verdict, check_certificate
from ...checker.reader import Limits, Malformed, load_json, read_case
from ...core.errors import InputError
from . import Outcome

NAME = "check"
HELP = "re-verify a certificate written by 'exactrelu certify' or 'exactrelu prove -o' (exit 0 accepted, 1 rejected)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("certificate", help="certificate file (JSON)")
    p.add_argument("--case", metavar="CASE", help="also check that the certificate is about this case file (its network and domain)")
    for field, what in _LIMITS.items():
        p.add_argument("--" + field.replace("_", "-"), type=int, default=getattr(Limits(), field), metavar="N",
                       help=f"{what} (default {getattr(Limits(), field)})")


# the checker's own limits (`exactrelu.checker.reader.Limits`), one option each
_LIMITS = {
    "max_digits": "longest number to read, in decimal digits",
    "max_depth": "deepest JSON nesting",
    "max_items": "most entries of one JSON list or object",
    "max_bytes": "largest file, in bytes",
    "max_work": "most multiplications of one exact pass of the network",
}


def _read(path: Path, limits: Limits) -> bytes:
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise InputError(f"the file has {size} bytes, more than the {limits.max_bytes} read", file=str(path))
        return path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read the file: {e.strerror or e}", file=str(path)) from None


def run(args: argparse.Namespace) -> Outcome:
    for field in _LIMITS:
        if getattr(args, field) < 1:
            raise InputError(f"expected a positive integer, got {getattr(args, field)}", path="--" + field.replace("_", "-"))
    limits = Limits(**{field: getattr(args, field) for field in _LIMITS})
    path = Path(args.certificate)
    case = None
    if args.case is not None:
        try:
            case_limits = dataclasses.replace(limits, padded_numbers=True)  # a case may be hand-written
            case = read_case(load_json(_read(Path(args.case), limits), limits), "", case_limits)
        except Malformed as e:
            raise InputError(f"expected {e.expected}", path=e.path, file=args.case) from None
    data = _read(path, limits)
    try:
        doc = load_json(data, limits)
    except Malformed as e:
        v = Verdict(False, (f"malformed certificate: {e}",))
    else:
        v = check_certificate(doc, limits, case)
    out = {"ok": v.ok, "problems": list(v.problems), "counts": v.counts, "lipschitz": v.lipschitz, "diagnostics": v.diagnostics}
    if v.ok:
        text = f"ACCEPTED {path}: {v.diagnostics.get('claims_checked', 0)} claims verified; " + ", ".join(f"{k} {c}" for k, c in v.counts.items())
        if v.lipschitz:
            text += "; " + ", ".join(f"L_{k} = {_value_text(val)}" for k, val in v.lipschitz.items())
    else:
        text = f"REJECTED {path}:\n" + "\n".join(f"  {p}" for p in v.problems)
    return Outcome(out, text, 0 if v.ok else 1)


def _value_text(value: str) -> str:
    """The checker's value (``"3/2"``, ``"sqrt(20)"``, ``"sqrt(real root k of [...])"``) in the
    project's one notation for people (``√20 ≈ 4.472135955``); the checker's own text is in --json."""
    import re
    from fractions import Fraction

    from ...core.algebraic import sqrt_of_largest_root
    from ...core.report import number_text, real_text

    m = re.fullmatch(r"sqrt\(([0-9]+)(?:/([0-9]+))?\)", value)
    if m:
        return real_text(sqrt_of_largest_root((-int(m.group(1)), int(m.group(2) or 1))))
    if re.fullmatch(r"-?[0-9]+(?:/[0-9]+)?", value):
        return number_text(Fraction(value))
    return value
