"""``--workers N`` / ``--scheduler tcp://HOST:PORT`` / ``--tasks N`` for the exponential
commands (``regions``, ``lipschitz``, ``prove``, ``range``, ``certify``), one helper for all.

A command adds the options with `add_options` and calls its engine through `engine`:
without ``--workers`` or ``--scheduler`` that is the engine itself, as always; with one, its
`exactrelu.distributed` counterpart on an embedded ``LocalCluster`` of N processes or on
the cluster at the address, with a progress bar over the tasks on stderr (when a
terminal) and the cluster's dashboard link on stderr. Without dask installed, the
options say how to install it (exit 2).

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> add_options(p)
>>> args = p.parse_args(["--workers", "2"])
>>> args.workers, args.scheduler, args.tasks
(2, None, None)
>>> engine(p.parse_args([]), len, "lipschitz") is len      # no option: the engine itself
True
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any, Callable

# the distributed counterpart of each command's engine, and its keyword for --tasks
_SPREAD = {
    "regions": ("exactrelu.distributed.regions", "enumerate_regions", "cells"),
    "lipschitz": ("exactrelu.distributed.lipschitz", "lipschitz", "subtrees"),
    "prove": ("exactrelu.distributed.properties", "prove", "cells"),
    "range": ("exactrelu.distributed.properties", "output_range", "cells"),
    "certify": ("exactrelu.certificate", "certify", "cells"),
}


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def add_options(p: argparse.ArgumentParser) -> None:
    """The options, in one group of the command's help."""
    g = p.add_argument_group("scale-out (dask.distributed; pip install 'exactrelu[distributed]')")
    where = g.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_count, metavar="N", help="run on an embedded Dask cluster of N processes")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on the Dask cluster at this address")
    g.add_argument("--tasks", type=_count, metavar="N",
                   help="split into N parts (regions: 64 cells, prove/range: 16, lipschitz: 32 per worker); "
                        "answers never depend on the workers, and on --tasks only in which witness is given")


def engine(args: argparse.Namespace, plain: Callable[..., Any], command: str) -> Callable[..., Any]:
    """``plain`` when neither ``--workers`` nor ``--scheduler`` was given; else the
    distributed engine of ``command``, called with the same arguments (a ``progress(done,
    queued)`` given for the single engine counts tasks instead; without one, a bar over
    the tasks)."""
    workers, scheduler = getattr(args, "workers", None), getattr(args, "scheduler", None)
    if workers is None and scheduler is None:
        return plain
    module, name, tasks_key = _SPREAD[command]
    spread = getattr(importlib.import_module(module), name)
    tasks = getattr(args, "tasks", None)

    def run(*a: Any, **kw: Any) -> Any:
        from contextlib import nullcontext

        from .console import progress

        given = kw.pop("progress", None)  # the command's own bar (done, queued) counts tasks now
        if tasks is not None:
            kw[tasks_key] = tasks
        with nullcontext(given) if given is not None else progress(f"{command}: tasks") as update:
            return spread(*a, workers=workers, scheduler=scheduler, on_cluster=_announce,
                          progress=lambda done, total: update(done, total - done), **kw)

    return run


def _announce(runner: Any) -> None:
    sys.stderr.write(f"dask: {runner.workers} worker{'s' if runner.workers != 1 else ''}, "
                     f"dashboard {runner.dashboard}\n")
    sys.stderr.flush()
