"""docs/tutorial.md runs as written and shows what the code prints.

The tutorial is read as a list of steps, in order:

- in a fenced ``console`` block, a line starting with ``$ `` is a command (a here-document runs
  on to its terminator line); the lines after it, up to the next ``$ ``, are what it prints on
  stdout. ``exactrelu ...`` runs in-process through ``exactrelu.cli.main.main``, this checkout's
  code (exit status 0 or 1: 2, 3 and 70 are failures); other shell commands (here-documents,
  ``printf``) run in bash, with an ``exactrelu`` on PATH that is ``sys.executable -m exactrelu``;
  the install line is checked against pyproject.toml's extras instead of being run.
- a fenced ``python`` block runs (``exec``) in the same directory; a ``text`` block right after it
  is what it prints, and a block without one must print nothing.

The steps run in one temporary directory laid out like the repository's root: ``cases`` links to
the repository's cases/, and ``../shared`` to the shared data beside the repository, as the other
tests find it (steps that read ``../shared/data`` are skipped when it is absent).

The ellipsis rule: the printed text and the tutorial's lines are compared line by line, trailing
spaces stripped, exactly, except that a line that is only ``…`` (or ``...``) stands for any
number of lines, none included, and ``…`` (or ``...``) inside a line stands for any text on that
line (timings, machine-dependent digits, long exact numbers).

Skipped, by name: steps that need an optional extra that is not installed (torch, onnx,
matplotlib, scikit-learn: the digits CNN of section 8, whose training and two bounds take about
20 s), steps that need the shared data, and steps that need a file that such a skipped step
makes. The whole page runs in about 10 s on a loaded 2-core machine (25 s with scikit-learn),
so nothing is skipped for its time. Not run: the prose's inline commands, and section 11's
script (an indented block: its table is seeded Monte Carlo, about 25 s, and needs scikit-learn).

The ``json`` block of section 1 is checked against the case file it shows (its ``…`` leave
entries out).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TUTORIAL = REPO / "docs" / "tutorial.md"
SHARED = REPO.parent / "shared"  # tests/conftest.py's SHARED_DATA is SHARED / "data"

# (a pattern in a step's text, the module it needs, the extra that installs it)
EXTRAS = (
    (r"\.pt\b|--backend torch|import torch|exactrelu\.io\.torch", "torch", "torch"),
    (r"\.onnx\b", "onnx", "onnx"),
    (r"\.onnx\b", "onnxruntime", "onnx"),
    (r"^exactrelu plot\b", "matplotlib", "plot"),
    (r"exactrelu\.models import digits", "sklearn", "examples"),
)
FILES = re.compile(r"(?:[\w.-]+/)*[\w-]+\.(?:json|onnx|nnet|pt|pth|png|txt|vnnlib)\b")
ELLIPSIS = re.compile(r"…|\.\.\.")


@dataclass(frozen=True)
class Step:
    kind: str  # "exactrelu", "shell", "install" or "python"
    source: str  # the command (without "$ ") or the Python code
    expected: tuple[str, ...] | None  # the lines the tutorial shows it printing
    line: int  # where it starts in docs/tutorial.md
    section: str

    @property
    def what(self) -> str:
        words = self.source.split()
        return words[1] if self.kind == "exactrelu" and len(words) > 1 else self.kind


def parse(text: str) -> list[Step]:
    """The tutorial's steps, in order."""
    steps: list[Step] = []
    fences = list(re.finditer(r"^```(\w*)\n(.*?)^```\n?", text, re.S | re.M))
    for k, fence in enumerate(fences):
        lang, body = fence.group(1), fence.group(2)
        start = text.count("\n", 0, fence.start(2)) + 1
        headings = re.findall(r"^## (\d+)\.", text[: fence.start()], re.M)
        section = headings[-1] if headings else "0"
        if lang == "console":
            steps.extend(_console_steps(body, start, section))
        elif lang == "python":
            after = fences[k + 1] if k + 1 < len(fences) else None
            shown = after is not None and after.group(1) == "text" and not text[fence.end(): after.start()].strip()
            expected = tuple(after.group(2).splitlines()) if shown else ()
            steps.append(Step("python", body, expected, start, section))
    return steps


def _console_steps(body: str, start: int, section: str) -> list[Step]:
    lines = body.splitlines()
    steps = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            raise ValueError(f"docs/tutorial.md:{start + i}: console output before any command: {lines[i]!r}")
        line = start + i
        command = lines[i][2:]
        i += 1
        here = re.search(r"<<'?(\w+)'?\s*$", command)
        if here:
            end = lines.index(here.group(1), i)
            command = "\n".join([command, *lines[i: end + 1]])
            i = end + 1
        shown = []
        while i < len(lines) and not lines[i].startswith("$ "):
            shown.append(lines[i])
            i += 1
        words = command.split()
        kind = ("exactrelu" if words[0] == "exactrelu"
                else "install" if "pip" in words[:3] and "install" in words else "shell")
        steps.append(Step(kind, command, tuple(shown), line, section))
    return steps


def matches(expected: tuple[str, ...], printed: str) -> bool:
    """Whether ``printed`` is what the tutorial's lines show, under the ellipsis rule.

    >>> matches(("L = 3/2 ≈ 1.5", "…"), "L = 3/2 ≈ 1.5\\nmore\\nlines\\n")
    True
    >>> matches(("search: …, ... s",), "search: 5 nodes, 0.0006 s\\n")
    True
    >>> matches(("L = 3/2",), "L = 3/2 ≈ 1.5\\n")
    False
    """
    parts = []
    for line in expected:
        line = line.rstrip()
        if line.strip() in ("…", "..."):
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(piece) for piece in ELLIPSIS.split(line)) + r"\n")
    text = "".join(line.rstrip() + "\n" for line in printed.splitlines())
    return re.fullmatch("".join(parts), text) is not None


STEPS = parse(TUTORIAL.read_text(encoding="utf-8"))
IDS = [f"s{s.section}.{sum(t.section == s.section for t in STEPS[:i]) + 1}-{s.what}" for i, s in enumerate(STEPS)]


@dataclass
class Outcome:
    skipped: str | None = None
    status: int = 0
    stdout: str = ""
    stderr: str = ""
    error: str | None = None  # a Python block's traceback


class Tutorial:
    """The steps run in order, once, in one directory; each test asks for its step's outcome."""

    def __init__(self, base: Path) -> None:
        self.work = base / "work"
        self.work.mkdir()
        (self.work / "cases").symlink_to(REPO / "cases", target_is_directory=True)
        if SHARED.is_dir():
            (base / "shared").symlink_to(SHARED, target_is_directory=True)
        self.bin = base / "bin"  # `exactrelu` in a shell step: this checkout's, by this interpreter
        self.bin.mkdir()
        shim = self.bin / "exactrelu"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m exactrelu "$@"\n')
        shim.chmod(0o755)
        self.outcomes: list[Outcome] = []
        self.not_made: set[str] = set()  # files that a skipped step would have made

    def outcome(self, index: int) -> Outcome:
        while len(self.outcomes) <= index:
            self.outcomes.append(self._run(STEPS[len(self.outcomes)]))
        return self.outcomes[index]

    def _skip_reason(self, step: Step) -> str | None:
        if "../shared/data" in step.source and not (SHARED / "data").is_dir():
            return f"shared data absent: {SHARED / 'data'}"
        for pattern, module, extra in EXTRAS:
            if re.search(pattern, step.source, re.M) and importlib.util.find_spec(module) is None:
                return f"needs {module}: the optional extra '{extra}' is not installed"
        needed = sorted(set(FILES.findall(step.source)) & self.not_made)
        if needed:
            return f"needs {', '.join(needed)}, which a skipped step makes"
        return None

    def _run(self, step: Step) -> Outcome:
        if step.kind == "install":
            return Outcome(skipped="the install line is checked against pyproject.toml, not run")
        reason = self._skip_reason(step)
        if reason:
            self.not_made |= {f for f in FILES.findall(step.source) if not (self.work / f).exists()}
            return Outcome(skipped=reason)
        out, err = io.StringIO(), io.StringIO()
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(self.work)
            # the tutorial's own subprocesses (`python -m exactrelu`) run this checkout
            mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
            mp.setenv("PATH", os.pathsep.join([str(self.bin), os.environ.get("PATH", "")]))
            if step.kind == "exactrelu":
                from exactrelu.cli.main import main

                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    try:
                        status = main(shlex.split(step.source, comments=True)[1:])
                    except SystemExit as e:  # usage errors
                        status = e.code if isinstance(e.code, int) else 2
                return Outcome(status=status, stdout=out.getvalue(), stderr=err.getvalue())
            if step.kind == "shell":
                done = subprocess.run(["bash", "-c", step.source], capture_output=True, text=True, timeout=60)
                return Outcome(status=done.returncode, stdout=done.stdout, stderr=done.stderr)
            if step.kind == "python":
                try:
                    with contextlib.redirect_stdout(out):
                        exec(compile(step.source, f"{TUTORIAL}:{step.line}", "exec"), {"__name__": "__tutorial__"})
                except Exception:
                    return Outcome(stdout=out.getvalue(), error=traceback.format_exc())
                return Outcome(stdout=out.getvalue())
        raise AssertionError(step.kind)


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory: pytest.TempPathFactory) -> Tutorial:
    return Tutorial(tmp_path_factory.mktemp("tutorial"))


@pytest.mark.parametrize("index", range(len(STEPS)), ids=IDS)
def test_step_prints_what_the_tutorial_shows(tutorial: Tutorial, index: int) -> None:
    step = STEPS[index]
    if step.kind == "install":
        _check_install_line(step)
        return
    got = tutorial.outcome(index)
    if got.skipped:
        pytest.skip(got.skipped)
    where = f"docs/tutorial.md:{step.line}: {step.source.splitlines()[0]}"
    assert got.error is None, f"{where}\n{got.error}"
    assert got.status in (0, 1), f"{where}: exit status {got.status}\n{got.stderr}"
    assert step.expected is not None
    same = matches(step.expected, got.stdout)
    assert same, (f"{where}\n--- the tutorial shows:\n" + "\n".join(step.expected) + "\n--- it prints:\n"
                  + got.stdout + ("--- stderr:\n" + got.stderr if got.stderr else ""))


def _check_install_line(step: Step) -> None:
    """The install line names only extras that exist, and every extra a step needs."""
    extras = set(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    named = set(re.search(r"\[([\w,]+)\]", step.source).group(1).split(","))
    assert named <= extras, f"no such extra: {named - extras}"
    needed = {extra for _, _, extra in EXTRAS} | {"rich"}  # rich: the tables and progress bars the text mentions
    assert needed <= named, f"the tutorial's steps need the extras {needed - named} too"


def test_the_ellipsis_rule_rejects_what_differs() -> None:
    assert matches(("a", "…", "z"), "a\nz\n") and matches(("a", "…", "z"), "a\nb\nc\nz\n")
    assert not matches(("a", "…", "z"), "a\nb\n")
    assert matches(("L in [1..., 2...]",), "L in [1.25, 2.5]\n")
    assert not matches(("L in [1..., 2...]",), "L in [1.25, 3.5]\n")
    assert not matches(("x",), "x\ny\n")  # every printed line is shown, or stood for by an ellipsis
    assert matches(("x  ",), "x\n")  # trailing spaces do not count


def _shown(shown: object, real: object, where: str) -> None:
    """``shown`` is ``real`` with entries left out (never changed or added)."""
    if isinstance(shown, dict):
        assert isinstance(real, dict), where
        for key, value in shown.items():
            assert key in real, f"{where}: no {key!r} in the file"
            _shown(value, real[key], f"{where}.{key}")
    else:
        assert shown == real, f"{where}: the tutorial shows {shown!r}, the file has {real!r}"


def test_the_case_shown_is_the_file() -> None:
    text = TUTORIAL.read_text(encoding="utf-8")
    fence = re.search(r"^```json\n(.*?)^```", text, re.S | re.M)
    block = fence.group(1)
    path = re.findall(r"`(cases/[\w/.-]+\.json)`", text[: fence.start()])[-1]  # the case named before it
    shown = json.loads(re.sub(r",\s*…", "", block))
    real = json.loads((REPO / path).read_text(encoding="utf-8"))
    _shown(shown, real, path)
    assert shown["layers"] == real["layers"]  # the network itself in full


def test_every_step_is_found() -> None:
    kinds = [s.kind for s in STEPS]
    assert kinds.count("install") == 1 and kinds.count("python") >= 5 and kinds.count("exactrelu") >= 20
    sections = {s.section for s in STEPS}
    assert sections >= {str(n) for n in range(1, 11)}, sections  # section 11 shows a script, not a command


def test_commands_write_into_the_current_directory_only() -> None:
    """A reader running the tutorial writes nothing into the repository (docs/img above all)."""
    for step in STEPS:
        if step.kind != "exactrelu":
            continue
        argv = shlex.split(step.source, comments=True)
        written = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-o", "--output")]
        if argv[1] == "convert":
            written.append(argv[3])
        for path in written:
            assert "/" not in path, f"docs/tutorial.md:{step.line}: writes {path}, not into the current directory"


def _make_images():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_images", REPO / "docs" / "make_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pictures_come_from_the_script_with_the_tutorials_arguments() -> None:
    make_images = _make_images()
    made = {*make_images.PICTURES, make_images.SMOOTHED}
    text = TUTORIAL.read_text(encoding="utf-8")
    shown = set(re.findall(r"\]\(img/([\w.-]+\.png)\)", text))
    readme = set(re.findall(r"\]\(docs/img/([\w.-]+\.png)\)", (REPO / "README.md").read_text(encoding="utf-8")))
    assert shown | readme == made == {p.name for p in (REPO / "docs" / "img").glob("*.png")}
    assert "python docs/make_images.py" in text
    drawn = 0
    for step in STEPS:
        argv = shlex.split(step.source, comments=True)
        if step.kind == "exactrelu" and argv[1] == "plot":
            output = argv[argv.index("-o") + 1]
            rest = argv[1: argv.index("-o")] + argv[argv.index("-o") + 2:]
            if output in shown:
                assert make_images.PICTURES[output] == rest, f"docs/tutorial.md:{step.line}"
                drawn += 1
    assert drawn >= 4
    for name in ("seed000-parameters.json", "mlp.pt"):  # the script makes them with the tutorial's own code
        kind, _ = make_images.tutorial_input(name, text)
        assert kind == ("file" if name.endswith(".json") else "python")
