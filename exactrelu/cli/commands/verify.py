"""``exactrelu verify CASE``: check every ``expected`` entry of a case; exit 0 or 1."""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import Outcome, load

NAME = "verify"
HELP = "check every 'expected' entry of a case against exact computation (exit 0 or 1)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", nargs="+", help="case files, or folders searched for *.json cases")


def _expand(paths: list[str]) -> list[str]:
    out: list[str] = []
    for path in paths:
        p = Path(path)
        out.extend(sorted(str(q) for q in p.rglob("*.json")) if p.is_dir() else [path])
    return out


def value_text(value: Any) -> str:
    """An expected or computed value for people: numbers with their decimals, matrices as rows,
    ``none`` for an undefined bound; never a Python repr.

    >>> value_text([[Fraction(1, 2), "c"]]), value_text(None), value_text(True)
    ('[[1/2 ≈ 0.5, c]]', 'none (undefined)', 'true')
    """
    from ...core.algebraic import Algebraic
    from ...core.report import number_text, real_text

    if value is None:
        return "none (undefined)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (Fraction, int)):
        return number_text(Fraction(value))
    if isinstance(value, Algebraic):
        return real_text(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    return str(value)


def run(args: argparse.Namespace) -> Outcome:
    from ...verify import verify_case

    results = []
    lines = []
    ok = True
    for path in _expand(args.case):
        case = load(path)
        checks = verify_case(case)
        case_ok = all(c.ok for c in checks)  # a case without expected entries has nothing to fail
        ok &= case_ok
        results.append({"case": path, "ok": case_ok, "checks": [c.to_json() for c in checks]})
        lines.append(f"{'PASS' if case_ok else 'FAIL'} {path}" + ("" if checks else " (no 'expected' entries: nothing checked)"))
        for c in checks:
            line = f"  {'ok  ' if c.ok else 'FAIL'} {c.name}: expected {value_text(c.expected)}, got {value_text(c.got)}"
            lines.append(line + (f"  ({c.note})" if c.note else ""))
    doc = {"ok": ok, "cases": results}
    return Outcome(doc, "\n".join(lines), 0 if ok else 1)
