"""Module-level task functions for the distributed tests (workers import them by name)."""

from __future__ import annotations

import os
import time

from exactrelu.core.errors import InputError


def slow_square(x: int) -> tuple[int, int]:
    """x² after a pause, with the worker's process id."""
    time.sleep(0.3)
    return x * x, os.getpid()


def fail(x: int) -> int:
    if x == 2:
        raise ZeroDivisionError("boom")
    if x == 3:
        raise InputError("bad", path="task")
    return x
