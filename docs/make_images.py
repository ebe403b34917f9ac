"""Make the pictures of docs/tutorial.md and the README afresh, into docs/img/.

    python docs/make_images.py              # every picture (about 30 s; needs the plot and torch extras)
    python docs/make_images.py sawtooth-3   # only those named

Run it from anywhere: it works in a temporary directory laid out like the repository's root
(``cases`` linked), so the tutorial's relative paths resolve, and writes only into docs/img.
Each picture is drawn by the ``exactrelu plot`` arguments in ``PICTURES``, which are the
tutorial's own where the tutorial shows the command (tests/test_tutorial.py checks that they
agree); the tutorial's commands themselves write into the current directory, never here.
The inputs the tutorial makes on the way (``seed000-parameters.json``, ``mlp.pt``) are made by
the tutorial's own here-document and Python block, read from docs/tutorial.md.
``seed000-smoothed.png`` is ``benchmarks/smoothing.py seed000``'s picture.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"
TUTORIAL = ROOT / "docs" / "tutorial.md"

# picture -> the arguments of `exactrelu plot` that draw it (the output file added)
PICTURES: dict[str, list[str]] = {
    "sawtooth-3.png": ["plot", "cases/seed004/sawtooth-3.json"],
    "seed000-parameters.png": ["plot", "seed000-parameters.json", "--color", "pattern", "--window=-2,2,-2,2"],
    "seed003-relu.png": ["plot", "cases/seed003/relu.json", "--window=-2,2"],
    "yarotsky-deep-3.png": ["plot", "cases/seed004/yarotsky-deep-3-unit.json"],
    "clamp-sum.png": ["plot", "cases/seed002/clamp-sum.json", "--window=-1,2,-1,2"],
    "torch-slice.png": ["plot", "mlp.pt", "--at", "0,0,1", "--window=-2,2,-2,2"],
}
SMOOTHED = "seed000-smoothed.png"  # benchmarks/smoothing.py seed000


def tutorial_input(name: str, text: str) -> tuple[str, str]:
    """How the tutorial makes the input file ``name``: ``("file", contents)`` for a
    here-document (``$ cat > NAME <<'EOF'``), ``("python", code)`` for the Python block that
    saves it.

    >>> tutorial_input("f.json", "```console\\n$ cat > f.json <<'EOF'\\n{}\\nEOF\\n```\\n")
    ('file', '{}\\n')
    """
    here = re.search(rf"^\$ cat > {re.escape(name)} <<'?(\w+)'?\n(.*?)^\1$", text, re.S | re.M)
    if here:
        return "file", here.group(2)
    for block in re.findall(r"^```python\n(.*?)^```", text, re.S | re.M):
        if re.search(rf"""["']{re.escape(name)}["']""", block):
            return "python", block
    raise SystemExit(f"docs/tutorial.md makes no {name}")


def _make_input(name: str, work: Path) -> None:
    kind, source = tutorial_input(name, TUTORIAL.read_text(encoding="utf-8"))
    if kind == "file":
        (work / name).write_text(source, encoding="utf-8")
    else:
        with contextlib.chdir(work), contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, f"{TUTORIAL}: the block that makes {name}", "exec"), {"__name__": "__tutorial__"})


def make(names: list[str]) -> None:
    from exactrelu.cli.main import main

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "cases").symlink_to(ROOT / "cases", target_is_directory=True)
        for name in names:
            if name == SMOOTHED:
                env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
                subprocess.run([sys.executable, str(ROOT / "benchmarks" / "smoothing.py"), "seed000",
                                "-o", str(IMG / name)], check=True, env=env)
                print(f"{IMG / name}: benchmarks/smoothing.py seed000")
                continue
            argv = PICTURES[name]
            if not (work / argv[1]).exists() and not argv[1].startswith("cases/"):
                _make_input(argv[1], work)
            with contextlib.chdir(work), contextlib.redirect_stdout(io.StringIO()):
                status = main([*argv, "-o", str(IMG / name)])
            if status != 0:
                raise SystemExit(f"exactrelu {' '.join(argv)} exited with status {status}")
            print(f"{IMG / name}: exactrelu {' '.join(argv)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help="pictures to make, with or without .png (default: all)")
    args = ap.parse_args()
    every = [*PICTURES, SMOOTHED]
    names = [n if n.endswith(".png") else f"{n}.png" for n in args.names] or every
    unknown = sorted(set(names) - set(every))
    if unknown:
        ap.error(f"no such picture: {', '.join(unknown)} (known: {', '.join(every)})")
    sys.path.insert(0, str(ROOT))  # this checkout's exactrelu, before any installed one
    make(names)


if __name__ == "__main__":
    main()
