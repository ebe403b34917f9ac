"""The golden corpus of cases, found both in a checkout and in an installed package.

>>> any(p.name == "identity.json" for p in case_paths())
True
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def corpus_root() -> Path:
    """The folder holding the bundled cases (``cases/`` in a checkout)."""
    return Path(str(resources.files("exactrelu.cases")))


def case_paths(subdir: str = "") -> list[Path]:
    """Every bundled case file, sorted, optionally under one sub-folder (``"seed004"``)."""
    root = corpus_root() / subdir if subdir else corpus_root()
    return sorted(root.rglob("*.json"))
