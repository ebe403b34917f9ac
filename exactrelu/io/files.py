"""Writing files with plain errors: `exactrelu.io.atomic` writes (the old file or the
complete new one, never half, no temporary file behind), and an unwritable place (a
directory as the target, a missing folder, no permission) is an `InputError` naming the
file (CLI exit 2), not a traceback. `check_writable` says so before a long computation.

>>> import tempfile, os
>>> with tempfile.TemporaryDirectory() as d:
...     write_atomic(os.path.join(d, "a.txt"), "hello")
...     sorted(os.listdir(d)), open(os.path.join(d, "a.txt")).read()
(['a.txt'], 'hello')
>>> write_atomic("/nonexistent-folder/a.txt", "x")
Traceback (most recent call last):
...
exactrelu.core.errors.InputError: /nonexistent-folder/a.txt: cannot write the file: no such folder /nonexistent-folder
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import InputError
from .atomic import write_text_atomic


def check_writable(path: str | os.PathLike[str]) -> Path:
    """The folder ``path`` would be written in; `InputError` when ``path`` is a directory or
    its folder does not exist (checked before a long computation whose result goes there)."""
    p = Path(path)
    if p.is_dir():
        raise InputError("cannot write the file: it is a directory", file=str(p))
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"cannot write the file: no such folder {parent}", file=str(p))
    if not os.access(parent, os.W_OK):
        raise InputError(f"cannot write the file: no permission to write in {parent}", file=str(p))
    return parent


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` atomically (`exactrelu.io.atomic`: no
    temporary file left on an exception or a signal); an unwritable place is an `InputError`."""
    check_writable(path)
    try:
        write_text_atomic(path, data)
    except OSError as e:
        raise InputError(f"cannot write the file: {e.strerror or e}", file=str(path)) from None
