"""Open any network file the project reads, as a `Case`, by its suffix; write one likewise.

Reading: ``.json`` (the case format), ``.onnx``, ``.nnet`` (ACAS Xu), ``.pt``/``.pth``
(torch). Writing: ``.json``, ``.onnx``, ``.nnet``. The format modules are imported only
when their suffix is used, so that onnx and torch stay optional.

>>> load_case("missing.xyz")
Traceback (most recent call last):
...
exactrelu.core.errors.InputError: missing.xyz: cannot read the file: no such file
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..core.errors import InputError
from ..core.limits import Limits, using
from .case import Case, read_case, write_case


def _read_onnx(path: str) -> Case:
    from .onnx import read_onnx

    return read_onnx(path)


def _read_nnet(path: str) -> Case:
    from .nnet import read_nnet

    return read_nnet(path)


def _read_torch(path: str) -> Case:
    from .torch import read_torch

    return read_torch(path)


def _write_onnx(case: Case, path: str) -> None:
    from .onnx import write_onnx

    write_onnx(case, path)


def _write_nnet(case: Case, path: str) -> None:
    from .nnet import write_nnet

    write_nnet(case, path)


def _write_json(case: Case, path: str) -> None:
    write_case(case, path)


LOADERS: dict[str, Callable[[str], Case]] = {
    ".json": read_case,
    ".onnx": _read_onnx,
    ".nnet": _read_nnet,
    ".pt": _read_torch,
    ".pth": _read_torch,
}

WRITERS: dict[str, Callable[[Case, str], None]] = {
    ".json": _write_json,
    ".onnx": _write_onnx,
    ".nnet": _write_nnet,
}


def load_case(path: str, limits: Limits | None = None) -> Case:
    """Read a network file of any supported format as a `Case`; ``limits``: the resource
    limits (`exactrelu.core.limits.Limits`) for this file, default those in force."""
    p = Path(path)
    if p.is_dir():
        raise InputError("cannot read the file: it is a directory", file=str(path))
    suffix = p.suffix.lower()
    loader = LOADERS.get(suffix)
    if loader is None:
        if not p.exists():
            raise InputError("cannot read the file: no such file", file=str(path))
        known = ", ".join(sorted(LOADERS))
        got = f"the suffix {suffix!r}" if suffix else "a name without a suffix"
        raise InputError(f"expected a network file ({known}), got {got}", file=str(path))
    with using(limits):
        return loader(str(path))


def save_case(case: Case, path: str) -> None:
    """Write a `Case` in the format its suffix names (``.json``, ``.onnx``, ``.nnet``)."""
    suffix = Path(path).suffix.lower()
    writer = WRITERS.get(suffix)
    if writer is None:
        known = ", ".join(sorted(WRITERS))
        raise InputError(f"expected an output file ({known}), got the suffix {suffix!r}", file=str(path))
    writer(case, str(path))
