"""The independent certificate checker (``exactrelu check CERT``).

It shares nothing with the engine: its own strict reader of the case format and its own
forward pass (`exactrelu.checker.reader`), `Fraction` arithmetic, no LP solver. A
certificate names its ``format``; `CHECKERS` maps each format to the function that
checks it, ``checker(doc, limits, case) -> Verdict``, where ``case`` is None or the
network and domain rows (`reader.read_case`) the certificate must be about.

Whatever the document holds, the answer is a `Verdict`: a false claim and a malformed
document alike are rejected (``ok`` False, with the problem and its JSON path); nothing
raises, and every size is bounded by `Limits`.

>>> check_certificate({"format": "exactrelu-certificate/1", "case": {}}).problems
("malformed certificate: expected the key 'regions'",)
>>> check_certificate([1, 2]).ok
False
"""

from __future__ import annotations

from typing import Any, Callable

from .property import FORMAT as PROPERTY_FORMAT
from .property import check_property
from .reader import Limits, Net, Row
from .regions import FORMAT as REGIONS_FORMAT
from .regions import check_regions
from .verdict import Rejected, Verdict

__all__ = ["CHECKERS", "Limits", "Rejected", "Verdict", "check_certificate"]

CHECKERS: dict[str, Callable[[Any, Limits, "tuple[Net, tuple[Row, ...]] | None"], Verdict]] = {
    REGIONS_FORMAT: check_regions,
    PROPERTY_FORMAT: check_property,
}


def check_certificate(doc: Any, limits: Limits = Limits(), case: tuple[Net, tuple[Row, ...]] | None = None) -> Verdict:
    """Check a certificate document by its ``format`` (see `CHECKERS`)."""
    fmt = doc.get("format") if isinstance(doc, dict) else None
    if not isinstance(fmt, str) or fmt not in CHECKERS:
        names = ", ".join(repr(k) for k in CHECKERS)
        return Verdict(False, (f"malformed certificate: format: expected one of {names}",))
    return CHECKERS[fmt](doc, limits, case)
