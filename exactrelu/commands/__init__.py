"""One module per CLI command. Each defines ``NAME``, ``HELP``, ``add_arguments(parser)``
and ``run(args) -> Outcome``; `exactrelu.cli` finds them here, in ``ORDER``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ORDER = ("regions", "lipschitz", "bounds", "jacobian", "certify", "check", "verify", "convert", "plot")


@dataclass(frozen=True)
class Outcome:
    """What a command hands back: the JSON document, the text for people, the exit status."""

    doc: dict[str, Any]
    text: str
    status: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def load(path: str) -> Any:
    """Any network file the loaders read, as a `Case` (see `exactrelu.io.load`)."""
    from ..io.load import load_case

    return load_case(path)
