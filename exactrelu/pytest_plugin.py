"""pytest plugin (entry point ``pytest11``): exactrelu's golden corpus as fixtures.

Installed with exactrelu, it gives every test suite:

- ``exactrelu_case``: a `exactrelu.io.case.Case`, the test being run once per bundled case
  (``cases/`` in a checkout, ``exactrelu.cases`` when installed). Restrict it to some
  groups with ``@pytest.mark.exactrelu_cases("frameworks", "seed003")``.
- ``exactrelu_case_paths``: the list of every bundled case file.
- ``exactrelu_strategies``: `exactrelu.strategies` (hypothesis strategies for random rational
  or binary64 networks, degenerate ones on purpose, points, points on kinks, boxes and
  polyhedra).

Five lines that test torch against exactrelu on the frameworks corpus (docs/oracle.md)::

    import pytest
    from exactrelu.oracle import compare, torch_model

    @pytest.mark.exactrelu_cases("frameworks")
    def test_torch_matches_its_convention(exactrelu_case):
        compare(exactrelu_case.network, torch_model(exactrelu_case.network), reference="torch").assert_ok()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .corpus import case_paths, corpus_root

MARKER = "exactrelu_cases"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(*groups): run an exactrelu_case test only on the bundled cases of these groups"
    )


def _selected(metafunc: pytest.Metafunc) -> list[Path]:
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None or not marker.args:
        return case_paths()
    return sorted(p for group in marker.args for p in case_paths(str(group)))


def _case_id(path: Path) -> str:
    return path.relative_to(corpus_root()).with_suffix("").as_posix()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``exactrelu_case`` over the bundled cases (indirectly, read when used)."""
    if "exactrelu_case" in metafunc.fixturenames:
        paths = _selected(metafunc)
        metafunc.parametrize("exactrelu_case", paths, ids=[_case_id(p) for p in paths], indirect=True)


@pytest.fixture
def exactrelu_case(request: pytest.FixtureRequest) -> Any:
    """One bundled golden case, read exactly (see the module docstring)."""
    from .io.case import read_case

    return read_case(request.param)


@pytest.fixture
def exactrelu_case_paths() -> list[Path]:
    """Every bundled golden case file."""
    return case_paths()


@pytest.fixture
def exactrelu_strategies() -> Any:
    """`exactrelu.strategies`: ``networks(...)``, ``points(dim)``, ``kink_points(net)``, ``boxes(dim)``,
    ``polyhedra(dim)``, ``rationals()``."""
    from . import strategies

    return strategies
