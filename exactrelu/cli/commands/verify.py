"""``exactrelu verify CASE``: check every ``expected`` entry of a case; exit 0 or 1."""

from __future__ import annotations

import argparse
from pathlib import Path

from ...verify import verify_case
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


def run(args: argparse.Namespace) -> Outcome:
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
            j = c.to_json()
            lines.append(f"  {'ok  ' if c.ok else 'FAIL'} {c.name}: expected {j['expected']}, got {j['got']}")
    doc = {"ok": ok, "cases": results}
    return Outcome(doc, "\n".join(lines), 0 if ok else 1)
