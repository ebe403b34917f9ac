"""Fuzzing in the suite: seeded mutants of the bundled cases and of .nnet / .onnx files made
from them, each in a forked child with a time limit; every one must end in a project error
with a location, a limit, or a result (no crash, no hang), through the API and, for a
sample, through the CLI in-process (exit 0/1/2/3 only, no traceback, --json parses).

The large run (>= 5000 mutants) is ``python benchmarks/fuzz.py``.
"""

from __future__ import annotations

import pytest
from fuzzing import fuzz

TIMEOUT = 30.0  # per mutant; every limit inside is a few seconds


def _check(tally) -> None:
    shown = "\n".join(f"{label}: {o.kind}: {o.detail[-600:]}" for label, o in tally.bad)
    assert tally.counts["crash"] == 0 and tally.counts["hang"] == 0, shown
    # the mutator reaches all three honest endings (it is not only making unreadable files)
    assert tally.counts["input-error"] > 0 and tally.counts["result"] > 0


def test_mutated_case_files(tmp_path):
    tally = fuzz("json", 160, seed=11, folder=tmp_path, timeout=TIMEOUT)
    _check(tally)
    assert tally.counts["limit"] > 0  # huge numbers and deep nesting reach the limits


def test_mutated_nnet_files(tmp_path):
    _check(fuzz("nnet", 40, seed=12, folder=tmp_path, timeout=TIMEOUT))


def test_mutated_onnx_files(tmp_path):
    pytest.importorskip("onnx")
    _check(fuzz("onnx", 40, seed=13, folder=tmp_path, timeout=TIMEOUT))
