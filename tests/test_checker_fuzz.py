"""Certificate files mutated at random (truncated, bit-flipped, re-encoded, values of
another type, huge numbers, deep nesting, long lists, unknown and duplicate keys): the
checker rejects each cleanly, within a time limit, or accepts it only when its verdict
is still the truth. A few mutants go through the CLI too: exit 1, no traceback.
The larger run: ``python benchmarks/fuzz_certificates.py`` (docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from brute import assert_verdict_true
from certificate_mutants import judge, mutants

from exactrelu.certificate import certify
from exactrelu.checker import check_certificate
from exactrelu.io.case import read_case

CASES = ["cases/seed003/relu.json", "cases/degenerate/abs-coincident.json", "cases/degenerate/box-quadrants.json",
         "cases/degenerate/hardtanh-box.json", "cases/degenerate/spline-1d.json", "cases/seed004/yarotsky-deep-2.json"]


@pytest.fixture(scope="module")
def certs():
    out = {}
    for f in CASES:
        cert = json.loads(json.dumps(certify(read_case(f), ("1", "inf", "2"))))
        out[f] = (cert, check_certificate(cert))
    return out


@pytest.mark.parametrize("path", CASES)
def test_mutants_are_rejected_cleanly_or_true(path, certs):
    cert, verdict = certs[path]
    assert verdict.ok
    data = json.dumps(cert).encode()
    seen: dict[str, int] = {}
    for i, (kind, mutant) in enumerate(mutants(data, seed=CASES.index(path), count=60)):
        out = judge(mutant, cert, verdict, time_limit=20.0, brute=assert_verdict_true)
        assert out.kind in ("rejected", "accepted"), f"mutant {i} ({kind}): {out.kind} {out.detail}"
        if out.kind == "accepted":
            assert out.truth in ("same", "brute"), f"mutant {i} ({kind}): accepted with another verdict"
        seen[out.kind] = seen.get(out.kind, 0) + 1
    assert seen.get("rejected", 0) > 30


def test_mutants_through_the_cli(tmp_path, certs):
    cert, verdict = certs["cases/seed003/relu.json"]
    data = json.dumps(cert).encode()
    for i, (kind, mutant) in enumerate(mutants(data, seed=7, count=3)):
        f = tmp_path / f"m{i}.json"
        f.write_bytes(mutant)
        res = subprocess.run([sys.executable, "-m", "exactrelu", "check", str(f), "--json"], capture_output=True, text=True, timeout=120)
        assert "Traceback" not in res.stderr, res.stderr
        doc = json.loads(res.stdout)
        assert res.returncode == (0 if doc["ok"] else 1) and isinstance(doc["problems"], list)
