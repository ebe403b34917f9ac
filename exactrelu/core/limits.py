"""Resource limits on what is read: the size of one number, JSON nesting, layers, neurons.

A file may ask for anything: an 11-byte ``"1e999999999"`` denotes a number with a
billion digits, a thousand nested brackets exhaust Python's recursion. The readers stop
such input early, with the JSON path of the entry and the limit it passed, as an
`exactrelu.core.errors.InputLimit` (a limit reached: CLI exit status 3). The defaults suit
every network the project is meant for; raise them with the CLI's ``--max-digits``,
``--max-magnitude``, ``--max-depth``, ``--max-layers``, ``--max-neurons`` or, in Python,
with ``limits=`` of the readers (`exactrelu.io.case.read_case`, `exactrelu.io.load.load_case`,
`exactrelu.core.network.Network.from_layers`) or ``with using(Limits(...)):`` around any call.

The limits in force are held in a context variable (like `decimal.localcontext`): scoped to
the ``with`` block and to the thread, never a global setting.

>>> active().digits
1000
>>> with using(Limits(digits=5000)):
...     active().digits
5000
>>> active().digits
1000
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields, replace
from typing import Any, Iterator


@dataclass(frozen=True)
class Limits:
    """What one input may hold.

    ``digits``: digits of one number as read (its numerator and its denominator);
    ``magnitude``: nonzero numbers must lie between ``10**-magnitude`` and ``10**magnitude``
    in absolute value (the float steps of the engine then stay far from binary64's overflow,
    their reciprocals too); floats read from ONNX and torch files as well;
    ``depth``: nesting of JSON arrays and objects; ``layers``: layers of a network;
    ``neurons``: the inputs plus the outputs of every layer.
    """

    digits: int = 1000
    magnitude: int = 100
    depth: int = 100
    layers: int = 1000
    neurons: int = 100_000

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                from .errors import InputError

                raise InputError(f"expected a positive integer limit, got {v!r}", path=f"--max-{f.name}")

    def with_(self, **changes: Any) -> "Limits":
        """These limits with some changed (None leaves a limit as it is).

        >>> Limits().with_(digits=20, depth=None).digits
        20
        """
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_ACTIVE: ContextVar[Limits] = ContextVar("exactrelu_limits", default=Limits())


def active() -> Limits:
    """The limits in force here."""
    return _ACTIVE.get()


@contextmanager
def using(limits: Limits | None) -> Iterator[Limits]:
    """Make ``limits`` the ones in force inside the block (None: keep those in force)."""
    if limits is None:
        yield active()
        return
    token = _ACTIVE.set(limits)
    try:
        yield limits
    finally:
        _ACTIVE.reset(token)
