"""Module-level task functions for the distributed tests (workers import them by name)."""

from __future__ import annotations

import os
import signal
import threading
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


class WorkerKiller:
    """A ``progress`` callback that SIGKILLs the client's first worker process after the
    first task finishes (while it holds others); ``killed`` says whether it did.
    ``recover()`` waits for the cluster to have its workers again."""

    def __init__(self, client) -> None:
        self.client = client
        self.pids = list(client.run(os.getpid).values())
        self.killed = threading.Event()
        self.workers = len(self.pids)

    def __call__(self, done: int, total: int) -> None:
        if not self.killed.is_set():
            self.killed.set()
            os.kill(self.pids[0], signal.SIGKILL)

    def recover(self) -> None:
        assert self.killed.is_set()
        self.client.wait_for_workers(self.workers, timeout=30)
