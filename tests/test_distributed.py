"""The executor behind --workers / --scheduler: same results whatever the workers, a killed
worker loses nothing, errors arrive as the project's own, limits stop cleanly."""

from __future__ import annotations

import os
import signal
import time

import pytest

from exactrelu.core.errors import InputError, LimitReached
from exactrelu.distributed.executor import TaskFailed, open_executor

distributed = pytest.importorskip("distributed")
import dask_tasks  # noqa: E402  (tests/ is on the path; workers import it by name)


def _values(run, items, **kw):
    out = [None] * len(items)
    for i, r in run.results(dask_tasks.slow_square, items, **kw):
        out[i] = r[0]
    return out


def test_in_process_and_two_workers_agree():
    items = list(range(8))
    with open_executor() as run:
        here = _values(run, items)
    with open_executor(workers=2) as run:
        assert run.workers == 2 and run.dashboard
        there = _values(run, items)
    assert here == there == [x * x for x in items]


def test_a_killed_worker_loses_nothing():
    items = list(range(12))
    with open_executor(workers=2) as run:
        pids = list(run.client.run(os.getpid).values())
        out = [None] * len(items)
        killed = False
        for i, (value, pid) in run.results(dask_tasks.slow_square, items):
            out[i] = value
            if not killed:  # mid-run: kill the other worker while it holds tasks
                victim = next(p for p in pids if p != pid)
                os.kill(victim, signal.SIGKILL)
                killed = True
        assert out == [x * x for x in items]


def test_errors_arrive_as_the_projects_own():
    with open_executor(workers=1) as run:
        with pytest.raises(InputError):
            list(run.results(dask_tasks.fail, [0, 3]))
        with pytest.raises(TaskFailed, match="ZeroDivisionError"):
            list(run.results(dask_tasks.fail, [0, 2]))


def test_a_deadline_stops_cleanly_with_what_was_found():
    with open_executor(workers=1) as run:
        got = []
        with pytest.raises(LimitReached):
            for i, r in run.results(dask_tasks.slow_square, list(range(40)), deadline=time.monotonic() + 1.0):
                got.append(i)
        assert 0 < len(got) < 40
    with open_executor() as run:
        with pytest.raises(LimitReached):
            list(run.results(dask_tasks.slow_square, list(range(40)), deadline=time.monotonic() + 0.5))


def test_bad_options():
    with pytest.raises(InputError):
        with open_executor(workers=0):
            pass
    with pytest.raises(InputError):
        with open_executor(workers=1, scheduler="tcp://127.0.0.1:1"):
            pass
    with pytest.raises(InputError, match="cannot reach"):
        with open_executor(scheduler="tcp://127.0.0.1:1"):
            pass
