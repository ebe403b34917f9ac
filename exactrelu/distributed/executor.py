"""Where independent tasks run: in this process (the default), on an embedded Dask
``LocalCluster`` of N worker processes, or on an existing Dask cluster.

`open_executor(workers=, scheduler=, client=)` gives a `Runner` whose `Runner.results`
yields ``(index, result)`` as tasks finish, in any order; callers put results back by
index, so what they compute never depends on how many workers there were or in which
order tasks ended. A task is a pure function of its argument: a worker that dies has its
task recomputed elsewhere (Dask reschedules it; a LocalCluster's nanny restarts the
process), with the same result. A task's `InputError` or `LimitReached` reaches the
caller as itself; any other exception on a worker becomes a `TaskFailed` naming the task.

``dask[distributed]`` is imported only when workers or a scheduler are asked for
(``pip install 'exactrelu[distributed]'``).

>>> import math
>>> with open_executor() as run:               # in-process
...     sorted(run.results(math.factorial, [3, 5, 4]))
[(0, 6), (1, 120), (2, 24)]
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from ..core.errors import InputError, LimitReached
from ..core.network import AffineLayer, Network


class TaskFailed(RuntimeError):
    """A task raised an unexpected exception on a worker (a bug, not bad input)."""


@dataclass(frozen=True)
class Runner:
    """Runs tasks: `results` yields ``(index, result)`` as they finish.

    ``client``: the Dask client, or None in-process. ``workers``: how many workers
    ran tasks when it opened. ``dashboard``: the Dask dashboard's address, if any.
    """

    client: Any = None
    workers: int = 1
    dashboard: str | None = None

    def results(
        self, fn: Callable[[Any], Any], items: Sequence[Any], *, deadline: float | None = None,
        on_done: Callable[[int], None] | None = None,
    ) -> Iterator[tuple[int, Any]]:
        """``(index, fn(items[index]))`` for every item, as each finishes.

        ``deadline``: a `time.monotonic()` instant; when it passes, the tasks not yet
        finished are cancelled and `LimitReached` is raised (what was yielded stands).
        ``on_done``: called with the count of finished tasks (for a progress bar).
        """
        if self.client is None:
            for i, item in enumerate(items):
                if deadline is not None and time.monotonic() > deadline:
                    raise LimitReached(f"time limit reached after {i} of {len(items)} tasks")
                yield i, fn(item)
                if on_done:
                    on_done(i + 1)
            return
        yield from self._dask_results(fn, items, deadline, on_done)

    def _dask_results(
        self, fn: Callable[[Any], Any], items: Sequence[Any], deadline: float | None,
        on_done: Callable[[int], None] | None,
    ) -> Iterator[tuple[int, Any]]:
        from distributed import wait

        futures = self.client.map(fn, list(items), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        remaining = set(futures)
        done = 0
        try:
            while remaining:
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    finished, remaining = wait(remaining, timeout=timeout, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    raise LimitReached(f"time limit reached after {done} of {len(futures)} tasks") from None
                for future in sorted(finished, key=lambda f: index[f.key]):
                    yield index[future.key], self._result(future, index[future.key])
                    done += 1
                    if on_done:
                        on_done(done)
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    def board(self, value: str | None = None) -> "Board":
        """A value shared with running tasks (`Board`): a Dask ``Variable`` on a cluster."""
        if self.client is None:
            return Board(value)
        import uuid

        from distributed import Variable

        name = f"exactrelu-board-{uuid.uuid4().hex}"
        Variable(name, client=self.client).set(value)
        return Board(value, name, self.client)

    @staticmethod
    def _result(future: Any, i: int) -> Any:
        try:
            return future.result()
        except (InputError, LimitReached):
            raise
        except Exception as e:  # a bug in a task, not the user's input
            raise TaskFailed(f"task {i} failed on a worker: {type(e).__name__}: {e}") from None


def portable(net: Network) -> Network:
    """The same network without the exact matrices cached on its layers (flint's types do
    not pickle): what is sent to workers, who build them again.

    >>> import pickle
    >>> from exactrelu.constructions import sawtooth_network
    >>> net = sawtooth_network(2)
    >>> _ = net.chain.affines[0].W                              # cached now
    >>> pickle.loads(pickle.dumps(portable(net))) == net
    True
    """
    layers = tuple(AffineLayer(layer.weight, layer.bias) if isinstance(layer, AffineLayer) else layer
                   for layer in net.layers)
    return Network(net.input_dim, layers, net.name, net.source)


class Board:
    """A text value the driver posts and tasks read while they run (a lower bound on L
    found so far): in-process the object itself; on a cluster a Dask ``Variable`` by name,
    read at most every ``every`` seconds (`get`). Tasks only read it; the driver posts.
    """

    def __init__(self, value: str | None = None, name: str | None = None, client: Any = None, every: float = 0.25) -> None:
        self.value = value
        self.name = name
        self.every = every
        self._client = client  # the driver's (not sent to workers)
        self._read = 0.0

    def __getstate__(self) -> dict[str, Any]:
        return {"value": self.value, "name": self.name, "every": self.every, "_client": None, "_read": 0.0}

    def post(self, value: str) -> None:
        self.value = value
        if self.name is not None:
            from distributed import Variable

            Variable(self.name, client=self._client).set(value)

    def close(self) -> None:
        """Forget the cluster's copy (the driver, once the tasks are done)."""
        if self.name is not None and self._client is not None:
            from distributed import Variable

            Variable(self.name, client=self._client).delete()

    def get(self) -> str | None:
        """The value posted last (on a worker: as read at most ``every`` seconds ago)."""
        if self.name is not None and time.monotonic() - self._read >= self.every:
            from distributed import Variable

            self._read = time.monotonic()
            try:
                self.value = Variable(self.name).get(timeout=1)
            except (TimeoutError, ValueError, OSError):  # the driver is gone or busy: keep the last
                pass
        return self.value


@contextlib.contextmanager
def open_executor(workers: int | None = None, scheduler: str | None = None, client: Any = None) -> Iterator[Runner]:
    """A `Runner` for the duration of a ``with`` block.

    ``client``: an existing ``dask.distributed.Client`` (left open); ``scheduler``: the
    address of a running Dask scheduler (``"tcp://host:8786"``); ``workers``: the number
    of worker processes of an embedded ``LocalCluster`` (one thread each). With none of
    them, tasks run here, one after another.
    """
    if sum(v is not None for v in (workers, scheduler, client)) > 1:
        raise InputError("give at most one of workers, scheduler and client", path="--workers")
    if client is not None:
        yield Runner(client, _count(client), client.dashboard_link)
        return
    if workers is None and scheduler is None:
        yield Runner()
        return
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError(f"expected a positive number of workers, got {workers!r}", path="--workers")
    try:
        from distributed import Client, LocalCluster
    except ImportError as e:
        raise InputError(f"running on workers needs dask.distributed ({e}): pip install 'exactrelu[distributed]'",
                         path="--workers" if workers is not None else "--scheduler") from None
    with contextlib.ExitStack() as stack:
        if scheduler is not None:
            try:
                dask_client = stack.enter_context(Client(scheduler, timeout="5s"))
            except (OSError, TimeoutError) as e:
                raise InputError(f"cannot reach the Dask scheduler {scheduler!r} ({e})", path="--scheduler") from None
        else:
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                silence_logs=50, scheduler_port=0,
            ))
            dask_client = stack.enter_context(Client(cluster))
        yield Runner(dask_client, _count(dask_client), dask_client.dashboard_link)


def _count(client: Any) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))
