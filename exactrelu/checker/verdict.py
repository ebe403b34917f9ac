"""What a checker answers, and the exception its steps raise on a false claim.

>>> Verdict(False, ("regions[0]: witness is not strictly inside row [0, 0, 0, 1]",)).ok
False
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class Rejected(Exception):
    """A claim of the certificate is false (the message says which, and where)."""


@dataclass(frozen=True)
class Verdict:
    """Accepted (``ok``) or not, the problems found (the first one stops the check), and
    what was verified: the counts and Lipschitz constants the certificate establishes;
    ``diagnostics``: how many claims were checked (``claims_checked``) and the like."""

    ok: bool
    problems: tuple[str, ...] = ()
    counts: dict[str, Any] = field(default_factory=dict)
    lipschitz: dict[str, str] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def value(self) -> bool:
        return self.ok

    @property
    def guarantee(self) -> str:
        return "exact"
