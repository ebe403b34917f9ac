"""Shared test settings: hypothesis profiles sized for CI (2 cores, well under 15 minutes)."""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", deadline=None, max_examples=1000, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data():
    """The project's shared data folder (../shared/data); tests skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="module")
def dask_clients():
    """Clients of two embedded Dask clusters, of 1 and 2 worker processes, shared by the
    tests of one module (tests/test_distributed_*.py) and closed after it, so that their
    threads are gone before other tests run; skipped without dask."""
    pytest.importorskip("distributed")
    from exactrelu.distributed.executor import open_executor

    with open_executor(workers=1) as one, open_executor(workers=2) as two:
        yield {1: one.client, 2: two.client}
