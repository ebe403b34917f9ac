"""Every bundled case is verified: each ``expected`` entry of every file in ``cases/``
(their values derived by hand or from the seeds' formulas, never from the engine) must
hold when the exact engine recomputes it. A case without ``expected`` must say why in
its ``source``."""

from __future__ import annotations

import json

import pytest

from exactrelu.corpus import case_paths
from exactrelu.io.case import read_case
from exactrelu.verify import verify_case

CASES = case_paths()


def test_the_corpus_is_found():
    assert len(CASES) >= 40


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_case_verifies(path):
    case = read_case(path)
    if not case.expected:
        assert "expected" not in json.loads(path.read_text())
        pytest.skip("no expected values (a model for the float paths)")
    checks = verify_case(case)
    assert checks, "expected entries but no checks made"
    failed = [f"{c.name}: expected {c.expected}, got {c.got}" for c in checks if not c.ok]
    assert not failed, "\n".join(failed)
