"""Snapshot the CLI's JSON results on every bundled case, to compare before and after a refactor.

    python tools/snapshot.py OUT.json            # write a snapshot
    python tools/snapshot.py OUT.json --compare OLD.json   # write, then list every difference

Timing fields (``time_s`` and the like) are dropped; everything else must match bit for bit.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VOLATILE = {"time_s", "seconds", "elapsed_s", "wall_s", "time", "lp_time_s"}


def _strip(doc):
    if isinstance(doc, dict):
        return {k: _strip(v) for k, v in doc.items() if k not in VOLATILE and not k.endswith("_time_s")}
    if isinstance(doc, list):
        return [_strip(v) for v in doc]
    return doc


def _run(argv: list[str]) -> dict:
    from exactrelu.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main([*argv, "--json"])
        except SystemExit as e:  # usage errors
            status = e.code
    text = out.getvalue()
    start = text.find("{")
    try:
        doc = json.loads(text[start:]) if start >= 0 else None
    except json.JSONDecodeError:
        doc = {"unparsed": text}
    return {"status": status, "doc": _strip(doc)}


def snapshot() -> dict:
    results = {}
    for path in sorted((ROOT / "cases").rglob("*.json")):
        rel = str(path.relative_to(ROOT))
        case = json.loads(path.read_text())
        n = case.get("input_dim", 1)
        big = "models" in rel
        runs = {}
        if big:
            runs["bounds inf numpy"] = ["bounds", rel, "--norm", "inf", "--backend", "numpy"]
            runs["bounds 1 numpy"] = ["bounds", rel, "--norm", "1", "--backend", "numpy"]
        else:
            runs["regions"] = ["regions", rel, "--volumes"] if n <= 3 else ["regions", rel]
            for p in ("1", "2", "inf"):
                runs[f"lipschitz {p}"] = ["lipschitz", rel, "--norm", p]
                runs[f"bounds {p}"] = ["bounds", rel, "--norm", p]
            origin = ",".join(["0"] * n)
            half = ",".join(["1/2"] * n)
            for at in (origin, half):
                for conv in ("0", "1", "c", "torch"):
                    runs[f"jacobian {at} {conv}"] = ["jacobian", rel, "--at", at, "--convention", conv]
            runs["verify"] = ["verify", rel]
        for key, argv in runs.items():
            results[f"{rel} :: {key}"] = _run(argv)
        print(rel, file=sys.stderr)
    return results


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--compare", metavar="OLD")
    args = ap.parse_args()
    snap = snapshot()
    Path(args.out).write_text(json.dumps(snap, indent=1, sort_keys=True))
    if not args.compare:
        return 0
    old = json.loads(Path(args.compare).read_text())
    diffs = [k for k in sorted(set(old) | set(snap)) if old.get(k) != snap.get(k)]
    for k in diffs:
        print(f"DIFF {k}\n  old: {json.dumps(old.get(k))[:400]}\n  new: {json.dumps(snap.get(k))[:400]}")
    print(f"{len(snap)} results, {len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
