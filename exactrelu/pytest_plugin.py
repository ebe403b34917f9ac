"""pytest plugin (entry point ``pytest11``): the golden corpus as fixtures.

Placeholder-free minimum: ``exactrelu_case_paths`` lists every bundled case.
"""

from __future__ import annotations

import pytest

from .corpus import case_paths


@pytest.fixture
def exactrelu_case_paths():
    """Every bundled golden case file."""
    return case_paths()
