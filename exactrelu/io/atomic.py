"""Atomic file writes: the text goes to a temporary file beside the target, which is
renamed into place only once complete, so a reader sees the old file or the whole new
one, never half.

The temporary file is removed on any exception and on SIGTERM, SIGINT or SIGHUP during
the write: while it runs, those signals are only noted; the write stops at the next
chunk, the temporary file goes, and the signal is then delivered as if it came at that
moment (so the process still ends as the signal says). Only SIGKILL, which no process
can catch, can leave a ``.NAME.*.tmp`` file behind.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> write_text_atomic(d / "out.json", ["{", "}"])
>>> (d / "out.json").read_text(), sorted(p.name for p in d.iterdir())
('{}', ['out.json'])
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from pathlib import Path
from typing import Iterable

_SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP")
_CHUNK = 1 << 20


class _Stop(Exception):
    """A noted signal stops the write."""


def write_text_atomic(path: str | os.PathLike[str], text: str | bytes | Iterable[str]) -> None:
    """Write ``text`` (a string, or its pieces in order; or bytes, written as they are) to
    ``path`` atomically, UTF-8, mode 0644. Raises `OSError` when the directory is not
    writable, or when a signal whose handler returns stopped the write (nothing is written
    then)."""
    p = Path(path)
    binary = isinstance(text, bytes)
    pieces = [text] if isinstance(text, (str, bytes)) else text
    noted: list[int] = []
    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():  # handlers only there
        for name in _SIGNALS:
            sig = getattr(signal, name, None)
            if sig is not None:
                previous[sig] = signal.signal(sig, lambda s, _frame: noted.append(s))
    tmp: str | None = None
    stopped = False
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8") as f:
            for piece in pieces:
                for i in range(0, len(piece), _CHUNK):
                    if noted:
                        raise _Stop
                    f.write(piece[i : i + _CHUNK])
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a written file is an ordinary one
        if noted:
            raise _Stop
        os.replace(tmp, p)
        tmp = None
    except _Stop:
        stopped = True
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        if noted:
            signal.raise_signal(noted[0])
    if stopped:
        raise InterruptedError(f"interrupted by signal {noted[0]}: nothing written to {p}")
