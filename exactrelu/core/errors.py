"""The two kinds of failure a user must be told about plainly.

`InputError`: the input is wrong (a case file, a point, an option). It carries the
file, the JSON path of the bad entry and what was expected; the CLI prints it and
exits with status 2.

`LimitReached`: a time or region limit stopped a computation. It carries what was
found so far; the CLI reports that and exits with status 3.

`InputLimit`: the input is well formed but larger than a resource limit allows (a
number of a million digits, JSON nested a thousand deep; see `exactrelu.core.limits`).
It is both: placed like an `InputError` (file, JSON path), and a `LimitReached`, so the
CLI exits with status 3 and says which option raises the limit.

>>> str(InputError("expected a number", path="layers[0].weight[1][0]", file="net.json"))
'net.json: layers[0].weight[1][0]: expected a number'
>>> e = InputLimit("more than 1000 digits", path="layers[0].weight[0][0]").at(file="net.json")
>>> isinstance(e, LimitReached), str(e)
(True, 'net.json: layers[0].weight[0][0]: more than 1000 digits')
"""

from __future__ import annotations

from typing import Any


class InputError(ValueError):
    """Bad input: where it is (file, JSON path) and what was expected there."""

    def __init__(self, message: str, *, path: str = "", file: str = "") -> None:
        self.message = message
        self.path = path
        self.file = file
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.path) if p]
        return ": ".join(parts + [self.message])

    def at(self, *, file: str | None = None, prefix: str | None = None) -> "InputError":
        """The same error, placed in a file and/or under a JSON path prefix."""
        path = self.path
        if prefix:
            path = prefix + (path if path.startswith("[") or not path else "." + path)
        return type(self)(self.message, path=path, file=file if file is not None else self.file)


class LimitReached(RuntimeError):
    """A time or size limit was reached; `partial` holds what was found so far."""

    def __init__(self, message: str, partial: Any = None) -> None:
        self.partial = partial
        super().__init__(message)


class InputLimit(InputError, LimitReached):
    """Input beyond a resource limit (`exactrelu.core.limits.Limits`): an `InputError` in
    where it is, a `LimitReached` in what it means (exit 3; nothing partial to report)."""

    def __init__(self, message: str, *, path: str = "", file: str = "") -> None:
        InputError.__init__(self, message, path=path, file=file)
        self.partial = None
