"""Text for people at a terminal: tables, and progress on long work.

Tables are what a command returns as its text (stdout): drawn with ``rich`` when it is
installed and stdout is a terminal, else as plain aligned columns (so that pipes, files
and tests see stable text). Progress goes to stderr, and only when stderr is a terminal:
a ``rich`` progress line when available, else a plain line rewritten in place. Nothing
here prints when output is redirected, so ``--json`` output stays one JSON document.

>>> print(table_text(["case", "regions", "L"], [["tent", 4, "2"], ["sawtooth-3", 16, "3/2"]], rich=False))
case        regions  L
----------  -------  ---
tent        4        2
sawtooth-3  16       3/2
"""

from __future__ import annotations

import io
import sys
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence, TextIO


def have_rich() -> bool:
    """Whether the optional ``rich`` package is importable."""
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def table_text(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    title: str | None = None,
    rich: bool | None = None,
    width: int | None = None,
) -> str:
    """A table as text. ``rich=None``: rich when installed and stdout is a terminal.

    The plain form left-aligns every column, with a dashed rule under the header.

    >>> text = table_text(["l", "L"], [[1, "3/2"]], title="sawtooth", rich=have_rich())
    >>> "3/2" in text and "sawtooth" in text
    True
    """
    use_rich = have_rich() and _is_terminal(sys.stdout) if rich is None else rich and have_rich()
    cells = [[str(c) for c in row] for row in rows]
    if use_rich:
        from rich import box
        from rich.console import Console
        from rich.table import Table

        t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
        for c in columns:
            t.add_column(str(c))
        for row in cells:
            t.add_row(*row)
        buf = io.StringIO()
        Console(file=buf, force_terminal=_is_terminal(sys.stdout), width=width or 120).print(t)
        return buf.getvalue().rstrip("\n")
    widths = [max([len(str(c))] + [len(r[k]) for r in cells if k < len(r)]) for k, c in enumerate(columns)]
    lines = [title] if title else []
    lines.append("  ".join(str(c).ljust(w) for c, w in zip(columns, widths)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(lines)


def key_values(pairs: Sequence[tuple[str, Any]], *, indent: str = "  ") -> str:
    """Aligned ``name: value`` lines.

    >>> print(key_values([("regions", 7), ("linear pieces", 7)]))
      regions:       7
      linear pieces: 7
    """
    width = max((len(k) for k, _ in pairs), default=0) + 1
    return "\n".join(f"{indent}{(k + ':').ljust(width)} {v}" for k, v in pairs)


@contextmanager
def progress(
    label: str, *, total: int | None = None, stream: TextIO | None = None, enabled: bool | None = None
) -> Iterator[Callable[..., None]]:
    """A progress callback for long work: ``with progress("regions") as update: ...``.

    ``update(done, queued=None)`` matches `exactrelu.regions.traversal.enumerate_regions`'s
    ``progress(found, queued)``. Quiet (the callback does nothing) unless the stream
    (stderr by default) is a terminal or ``enabled`` is True. Uses rich when installed.

    >>> with progress("regions", enabled=False) as update:
    ...     update(3, 5)
    >>> buf = io.StringIO()
    >>> with progress("regions", enabled=True, stream=buf) as update:
    ...     update(3, 5)
    >>> "regions" in buf.getvalue()
    True
    """
    out = stream if stream is not None else sys.stderr
    on = _is_terminal(out) if enabled is None else enabled
    if not on:
        yield lambda *args, **kwargs: None
        return
    if have_rich():
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = [SpinnerColumn(), TextColumn("[bold]{task.description}"), TextColumn("{task.fields[info]}")]
        if total is not None:
            columns.insert(2, BarColumn())
        with Progress(*columns, TimeElapsedColumn(), console=Console(file=out, force_terminal=True), transient=True) as bar:
            task = bar.add_task(label, total=total, info="")

            shown = [0.0]

            def update(done: int, queued: int | None = None) -> None:
                now = time.monotonic()  # a search calls this per node: redraw 10 times a second
                if now - shown[0] < 0.1:
                    return
                shown[0] = now
                info = f"{done} done" + (f", {queued} queued" if queued is not None else "")
                bar.update(task, completed=done, info=info)

            yield update
        return
    last = [0.0]

    def plain(done: int, queued: int | None = None) -> None:
        now = time.monotonic()
        if now - last[0] < 0.2:
            return
        last[0] = now
        tail = f"/{total}" if total is not None else ""
        extra = f", {queued} queued" if queued is not None else ""
        out.write(f"\r{label}: {done}{tail} done{extra}   ")
        out.flush()

    try:
        yield plain
    finally:
        out.write("\r" + " " * 60 + "\r")
        out.flush()
