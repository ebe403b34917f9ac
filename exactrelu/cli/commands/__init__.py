"""One module per CLI command. Each defines ``NAME``, ``HELP``, ``add_arguments(parser)``
and ``run(args) -> Outcome``; `exactrelu.cli.main` finds them here, in ``ORDER``.

A command module imports its analyses inside ``run``, not at its top: building the
parser (``--help``) must not pay for sympy, scipy or networkx.

>>> positive_int("3"), positive_float("0.5")
(3, 0.5)
>>> positive_int("-1")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: expected a positive integer, got '-1'
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

ORDER = (
    "regions", "lipschitz", "bounds", "jacobian", "smooth", "range", "prove", "check_result", "certify", "check",
    "verify", "convert", "plot",
)


@dataclass(frozen=True)
class Outcome:
    """What a command hands back: the JSON document, the text for people, the exit status."""

    doc: dict[str, Any]
    text: str
    status: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def positive_int(text: str) -> int:
    """argparse ``type`` of a count limit: an integer >= 1 (``--max-regions -1`` is a usage error)."""
    try:
        value = int(text) if text.isascii() else 0
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def nonnegative_int(text: str) -> int:
    """argparse ``type`` of a node budget where 0 means something (decide at the root only)."""
    if text.strip() == "0":
        return 0
    return positive_int(text)


def positive_float(text: str) -> float:
    """argparse ``type`` of a time limit: a finite number of seconds > 0."""
    try:
        value = float(text) if text.isascii() else 0.0
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


TORCH_SUFFIXES = (".pt", ".pth")


def load(path: str, input_shape: str | None = None) -> Any:
    """Any network file the loaders read, as a `Case` (see `exactrelu.io.load`);
    ``input_shape`` (text, ``--input-shape``) for a torch file whose first module is not Linear."""
    from ...io.load import load_case

    if input_shape is None:
        return load_case(path)
    from ...io.torch import read_torch

    return read_torch(path, parse_input_shape(input_shape, path))


def parse_input_shape(text: str | None, path: str) -> list[int] | None:
    """``--input-shape 1,8,8`` → ``[1, 8, 8]`` (None when not given); torch files only."""
    if text is None:
        return None
    from pathlib import Path

    from ...core.errors import InputError
    from ...core.numbers import parse_point

    if Path(path).suffix.lower() not in TORCH_SUFFIXES:
        raise InputError("--input-shape applies to torch files (.pt, .pth) only", path="--input-shape")
    shape = parse_point(text, path="--input-shape")
    if any(s.denominator != 1 or s < 1 for s in shape):
        raise InputError(f"expected positive integers, got {text!r}", path="--input-shape")
    return [int(s) for s in shape]
