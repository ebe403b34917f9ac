"""Writing files atomically, with plain errors: a crash, a kill or a full disk leaves the old
file or the complete new one, never half of one, and no temporary file behind.

The data goes to a temporary file beside the target, then `os.replace` puts it in place.
An unwritable place (a directory as the target, a missing folder, no permission) is an
`InputError` naming the file (CLI exit 2), not a traceback.

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
import tempfile
from pathlib import Path

from ..core.errors import InputError


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
    """Write ``data`` (text is written as UTF-8) to ``path`` atomically."""
    p = Path(path)
    parent = check_writable(p)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=parent)
    except OSError as e:
        raise InputError(f"cannot write the file: {e.strerror or e}", file=str(p)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a written file is an ordinary one
        os.replace(tmp, p)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"cannot write the file: {e.strerror or e}", file=str(p)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
