"""The README's Python example runs as written, and its comments tell the truth."""

import contextlib
import io
import os
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_python_api_block_runs_and_prints_what_it_says(monkeypatch):
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## The Python API\s+```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(README.parent)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, str(README), "exec"), {})
    printed = out.getvalue().splitlines()
    promised = [line.split("#", 1)[1].strip() for line in block.splitlines() if line.startswith("print(")]
    assert len(printed) == len(promised)
    for got, comment in zip(printed, promised):
        claim = comment.split("   ")[0].split(" ...")[0]  # the printed text, up to an ellipsis or a remark
        assert got.startswith(claim), (got, comment)


def test_quick_start_has_exactly_two_commands():
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Quick start.*?```console\n(.*?)```", text, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip()]
    assert len(commands) == 2
    assert "pytest" in commands[1]
    ci = (README.parent / ".ci" / "run").read_text()
    extras = re.search(r"pip install -e '(\.\[[\w,]+\])'", commands[1]).group(1)
    assert f"pip install -q -e '{extras}'" in ci and "python3 -m pytest" in ci  # CI runs the README's command
    assert os.access(README.parent / ".ci" / "run", os.X_OK)
