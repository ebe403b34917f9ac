"""Open any network file the project reads, as a `Case`, by its suffix.

>>> load_case("missing.xyz")
Traceback (most recent call last):
...
exactrelu.errors.InputError: missing.xyz: expected a case file (.json), got the suffix '.xyz'
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import InputError
from .case import Case, read_case

LOADERS: dict[str, Callable[[str], Case]] = {".json": read_case}


def load_case(path: str) -> Case:
    suffix = Path(path).suffix.lower()
    loader = LOADERS.get(suffix)
    if loader is None:
        known = ", ".join(sorted(LOADERS))
        raise InputError(f"expected a case file ({known}), got the suffix {suffix!r}", file=str(path))
    return loader(str(path))
