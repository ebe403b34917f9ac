"""`exactrelu verify` checkers for the region keys of ``expected``:
``activation_regions``, ``linear_pieces``, ``bounded_regions`` (R^n only) and
``volumes`` (the sorted list of exact region volumes, bounded domains or bounded
regions only).

>>> from exactrelu.io.case import case_from_json
>>> case = case_from_json({"format": "exactrelu-network/1", "input_dim": 1,
...     "layers": [{"type": "affine", "weight": [["1"], ["-1"]]}, {"type": "relu"},
...                {"type": "affine", "weight": [["1", "1"]]}],
...     "expected": {"activation_regions": 2, "linear_pieces": 2, "bounded_regions": 0}})
>>> from exactrelu.verify import verify_case
>>> [(c.name, c.ok) for c in verify_case(case)]
[('activation_regions', True), ('linear_pieces', True), ('bounded_regions', True)]
"""

from __future__ import annotations

from typing import Any

from ..core.errors import InputError
from ..core.numbers import parse_number
from ..io.case import Case
from ..regions import RegionGraph, enumerate_regions
from .check import Check


def _count(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"expected a nonnegative integer, got {value!r}", path=path)
    return value


def _graph(case: Case) -> RegionGraph:
    return enumerate_regions(case.network, case.domain)


def check_activation_regions(case: Case, value: Any, path: str) -> list[Check]:
    want = _count(value, path)
    got = _graph(case).activation_regions
    return [Check("activation_regions", want, got, want == got)]


def check_linear_pieces(case: Case, value: Any, path: str) -> list[Check]:
    want = _count(value, path)
    got = _graph(case).linear_pieces
    return [Check("linear_pieces", want, got, want == got)]


def check_bounded_regions(case: Case, value: Any, path: str) -> list[Check]:
    want = _count(value, path)
    if not case.domain.is_whole:
        raise InputError("bounded_regions is defined on all of R^n only (this case has a domain)", path=path)
    got = _graph(case).bounded_regions
    return [Check("bounded_regions", want, got, want == got)]


def check_volumes(case: Case, value: Any, path: str) -> list[Check]:
    if not isinstance(value, list):
        raise InputError("expected a list of exact volumes", path=path)
    want = sorted(parse_number(v, f"{path}[{i}]") for i, v in enumerate(value))
    got = sorted(v for v in _graph(case).volumes if v is not None)
    return [Check("volumes (sorted)", value, got, want == got)]
