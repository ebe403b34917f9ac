"""The plugin's five-line example (docs/oracle.md) runs in a fresh project directory."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "oracle.md"


def five_line_example() -> str:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"## Five lines in your own test suite.*?```python\n(.*?)```", text, re.S)
    assert block, "docs/oracle.md lost its example"
    return block.group(1)


def test_example_is_five_lines():
    lines = [line for line in five_line_example().splitlines() if line.strip()]
    assert len(lines) == 5


def test_example_runs_in_a_fresh_project(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "test_against_exactrelu.py").write_text(five_line_example(), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    passed = re.search(r"(\d+) passed", proc.stdout)
    assert passed and int(passed.group(1)) >= 6, proc.stdout


def test_marker_selects_groups_and_fixtures_exist(tmp_path):
    (tmp_path / "test_groups.py").write_text(
        "import pytest\n"
        "@pytest.mark.exactrelu_cases('seed003')\n"
        "def test_one(exactrelu_case):\n"
        "    assert exactrelu_case.network.input_dim == 1\n"
        "def test_paths(exactrelu_case_paths, exactrelu_strategies):\n"
        "    assert exactrelu_case_paths and hasattr(exactrelu_strategies, 'networks')\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ids = re.findall(r"test_one\[(.*?)\]", proc.stdout)
    assert ids and all(i.startswith("seed003/") for i in ids)


README = DOC.parent.parent / "README.md"


def test_readme_shows_the_same_example():
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Testing your implementation against exactrelu.*?```python\n(.*?)```", text, re.S)
    assert block and block.group(1) == five_line_example()


def test_a_failure_prints_the_table(tmp_path):
    """Against the Clarke reference torch's values at some kinks are wrong: the test fails
    with the oracle's table (point, expected exactly and as a decimal, got, matches, Clarke)."""
    pytest.importorskip("torch")
    source = five_line_example().replace('reference="torch"', 'reference="clarke"')
    (tmp_path / "test_against_exactrelu.py").write_text(source, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "frameworks/relu-identity" in out and "exactrelu oracle: 1 disagreement" in out
    for column in ("expected  [[1]]   ≈ [[1.0]]", "got       [[0.0]]", "matches   torch", "Clarke    not in"):
        assert column in out, out
