"""The floors of docs/architecture.md, enforced: every import inside the package (at
module level or inside a function) points to the same floor or a lower one, and the
import graph between modules has no circle. The one named exception is the public
`exactrelu.bounds.bounds` facade, which hands ``backend=`` over to `exactrelu.floats`.

Run alone: ``python -m pytest tests/test_architecture.py -q``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent / "exactrelu"

# floor of each module or subpackage (the longest matching prefix decides)
FLOORS: dict[str, int] = {
    "exactrelu.core": 1,
    "exactrelu.polyhedra": 2,
    "exactrelu.predicates": 2,
    "exactrelu.regions": 3,
    "exactrelu.calculus": 4,
    "exactrelu.clarke": 4,
    "exactrelu.lipschitz": 4,
    "exactrelu.bounds": 4,
    "exactrelu.paramspace": 4,
    "exactrelu.properties": 5,
    "exactrelu.smoothing": 5,
    "exactrelu.floats": 6,
    "exactrelu.io": 7,
    "exactrelu.io.case": 1,  # the case format itself: core types to and from JSON
    "exactrelu.io.atomic": 1,  # atomic file writes (io.case writes with it)
    "exactrelu.io.files": 1,  # writing with plain errors (io.case writes with it)
    "exactrelu.distributed": 8,
    "exactrelu.checker": 9,
    "exactrelu.certificate": 9,
    "exactrelu.verify": 9,
    "exactrelu.oracle": 9,
    "exactrelu.kinkpoints": 9,
    "exactrelu.claims": 9,
    "exactrelu.strategies": 9,
    "exactrelu.constructions": 9,
    "exactrelu.corpus": 9,
    "exactrelu.models": 9,
    "exactrelu.pytest_plugin": 9,
    "exactrelu.cli": 10,
    "exactrelu.__main__": 11,
}
FACADES = {("exactrelu.bounds", "exactrelu.floats")}  # (importer, imported prefix)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def floor(module: str) -> int | None:
    best = max((p for p in FLOORS if module == p or module.startswith(p + ".")), key=len, default=None)
    return FLOORS[best] if best else None


def imports(path: Path) -> set[str]:
    """Every exactrelu module ``path`` imports, at any depth of its code."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("exactrelu"):
                continue
            for alias in node.names:  # "from . import x" may name a module
                sub = f"{target}.{alias.name}"
                out.add(sub if _exists(sub) else target)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("exactrelu")}
    return {m for m in out if m != name}


def _exists(module: str) -> bool:
    p = ROOT.parent / Path(*module.split("."))
    return p.with_suffix(".py").exists() or (p / "__init__.py").exists()


def _facade(a: str, b: str) -> bool:
    return any((a == imp or a.startswith(imp + ".")) and (b == t or b.startswith(t + ".")) for imp, t in FACADES)


def _graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for path in ROOT.rglob("*.py"):
        name = module_name(path)
        g.add_node(name)
        for target in imports(path):
            g.add_edge(name, target)
    return g


def test_every_module_has_a_floor() -> None:
    missing = sorted(m for m in _graph() if m != "exactrelu" and floor(m) is None)
    assert not missing, f"modules without a floor in FLOORS (and docs/architecture.md): {missing}"


def test_imports_point_down() -> None:
    upward = []
    for a, b in _graph().edges:
        if a == "exactrelu":
            continue  # the package's face re-exports the public names
        fa, fb = floor(a), floor(b)
        if fa is None or fb is None or fb <= fa:
            continue
        if _facade(a, b):
            continue
        upward.append(f"{a} (floor {fa}) -> {b} (floor {fb})")
    assert not upward, "imports from a lower floor to a higher one:\n" + "\n".join(sorted(upward))


def test_no_circles() -> None:
    g = _graph()
    # a package's __init__ importing its own submodules is its face, not a circle
    # and the named facade's hand-over is the one allowed upward arrow
    g.remove_edges_from([(a, b) for a, b in list(g.edges) if b.startswith(a + ".") or _facade(a, b)])
    cycles = list(nx.simple_cycles(g))
    assert not cycles, f"import circles: {cycles[:5]}"
