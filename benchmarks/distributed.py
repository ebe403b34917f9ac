"""Scale-out on Dask: the speedup 1 → 2 workers, task sizes, overhead per task, and a
simulated projection to 8, 64 and 512 workers (docs/benchmarks.md, "Scale-out on Dask").

    PYTHONPATH=. /work/venv/bin/python benchmarks/distributed.py [--regions 4-12-12] [--lipschitz 6-16-16-2] \
        [--norm inf] [--seed 1] [--pairs 2] [--fine-cells 1024] [--fine-subtrees 512]

Networks: integer weights in [-4, 4], biases in quarters of [-2, 2], one ReLU per hidden
neuron, drawn by ``random.Random(seed)`` (`net`); on R^n. Both clusters (1 and 2 worker
processes, one thread each) are started once, before any timing; each measurement is the
wall time of one analysis on a warm cluster, the two worker counts interleaved A B A B,
and the answers are compared (the region JSON without its time, L with its witness and
pattern). Task durations are those the workers measured; the overhead per task is the
wall time of 400 no-op tasks over their count. The projection is list scheduling: the
tasks of a finer split (``--fine-cells`` / ``--fine-subtrees``, measured in-process,
one after the other) handed in submission order to the first free of p workers, each task
its measured duration plus the measured overhead, plus the serial part (the in-process
run's wall time minus the sum of its tasks: the split and the merge). For exact L the
durations depend on when the best value reached a task (in-process, every task knows
every earlier result: the fewest nodes), so the projection is optimistic there.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import statistics
import sys
import time
from argparse import Namespace
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # this file's name would hide dask's
sys.path.insert(0, str(HERE.parent))

from exactrelu.cli.commands.regions import summary  # noqa: E402
from exactrelu.core.network import Network, activation, affine  # noqa: E402
from exactrelu.distributed import lipschitz as dlip  # noqa: E402
from exactrelu.distributed import regions as dreg  # noqa: E402
from exactrelu.distributed.executor import open_executor  # noqa: E402
from exactrelu.lipschitz import lipschitz  # noqa: E402
from exactrelu.regions import enumerate_regions  # noqa: E402


def net(shape: str, seed: int) -> Network:
    """``n-w1-…-out`` with the weights described in the module docstring."""
    sizes = [int(v) for v in shape.split("-")]
    rng = random.Random(seed)
    layers, dim = [], sizes[0]
    for w in sizes[1:-1]:
        layers.append(affine([[rng.randint(-4, 4) for _ in range(dim)] for _ in range(w)],
                             [Fraction(rng.randint(-8, 8), 4) for _ in range(w)]))
        layers.append(activation("relu"))
        dim = w
    layers.append(affine([[rng.randint(-3, 3) for _ in range(dim)] for _ in range(sizes[-1])]))
    return Network.from_layers(sizes[0], layers)


def _noop(x: int) -> int:
    return x


def makespan(durations: list[float], workers: int, overhead: float) -> float:
    """List scheduling in submission order: each task to the first free worker."""
    free = [0.0] * workers
    for d in durations:
        t = heapq.heappop(free)
        heapq.heappush(free, t + d + overhead)
    return max(free)


def spread(durations: list[float]) -> str:
    qs = statistics.quantiles(durations, n=10) if len(durations) > 1 else durations * 9
    return (f"{len(durations)} tasks: min {min(durations):.3f} s, median {statistics.median(durations):.3f} s, "
            f"p90 {qs[-1]:.3f} s, max {max(durations):.3f} s, sum {sum(durations):.1f} s")


def project(label: str, serial: float, durations: list[float], overhead: float) -> None:
    base = serial + makespan(durations, 1, overhead)
    cells = " | ".join(f"{base / (serial + makespan(durations, p, overhead)):.2f}×" for p in (2, 8, 64, 512))
    print(f"| {label} | {len(durations)} | {serial:.2f} s | {cells} |")


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--regions", default="4-12-12-1")
    ap.add_argument("--lipschitz", default="6-16-16-2")
    ap.add_argument("--norm", default="inf")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--fine-cells", type=int, default=1024)
    ap.add_argument("--fine-subtrees", type=int, default=512)
    ap.add_argument("--skip", nargs="*", default=[], choices=["regions", "lipschitz"])
    a = ap.parse_args()
    with open_executor(workers=1) as one, open_executor(workers=2) as two:
        clients = {1: one.client, 2: two.client}
        for c in clients.values():  # warm: import exactrelu on every worker
            c.run(lambda: __import__("exactrelu.distributed.regions"))
        overhead = {}
        for w, c in clients.items():
            t = time.perf_counter()
            with open_executor(client=c) as run:
                list(run.results(_noop, list(range(400))))
            overhead[w] = (time.perf_counter() - t) / 400
        print(f"overhead per no-op task: {overhead[1] * 1e3:.2f} ms (1 worker), {overhead[2] * 1e3:.2f} ms (2 workers)")
        if "regions" not in a.skip:
            g = net(a.regions, a.seed)
            t = time.perf_counter()
            plain = enumerate_regions(g)
            print(f"\nregions {a.regions} seed {a.seed}: {plain.activation_regions} regions, single process "
                  f"{time.perf_counter() - t:.1f} s")
            docs, walls = set(), {1: [], 2: []}
            for _ in range(a.pairs):
                for w in (1, 2):
                    t = time.perf_counter()
                    res = dreg.enumerate_regions(g, client=clients[w])
                    walls[w].append(time.perf_counter() - t)
                    doc = summary(res, Namespace(list=True, volumes=False)).doc
                    doc.pop("seconds")
                    docs.add(json.dumps(doc, sort_keys=True))
                    tasks = [s for s in res.diagnostics["task_seconds"] if s is not None]
            print(f"  1 worker {', '.join(f'{v:.1f}' for v in walls[1])} s; 2 workers {', '.join(f'{v:.1f}' for v in walls[2])} s;"
                  f" speedup {statistics.median(walls[1]) / statistics.median(walls[2]):.2f}×"
                  f" (pairs: {', '.join(f'{x / y:.2f}' for x, y in zip(walls[1], walls[2]))}); identical JSON: {len(docs) == 1}")
            print(f"  {res.diagnostics['cells']} cells, " + spread(tasks))
            t = time.perf_counter()
            fine = dreg.enumerate_regions(g, cells=a.fine_cells)
            wall = time.perf_counter() - t
            fine_tasks = [s for s in fine.diagnostics["task_seconds"] if s is not None]
            print(f"  fine split in-process: {fine.diagnostics['cells']} cells, {wall:.1f} s; " + spread(fine_tasks))
            print("\n| regions: simulated | tasks | serial | 2 | 8 | 64 | 512 workers |\n|---|---|---|---|---|---|---|")
            serial = statistics.median(walls[1]) - sum(tasks) - len(tasks) * overhead[1]
            project(f"{res.diagnostics['cells']} cells", serial, tasks, overhead[2])
            project(f"{fine.diagnostics['cells']} cells", wall - sum(fine_tasks), fine_tasks, overhead[2])
        if "lipschitz" not in a.skip:
            g = net(a.lipschitz, a.seed)
            t = time.perf_counter()
            plain = lipschitz(g, a.norm)
            print(f"\nlipschitz {a.lipschitz} seed {a.seed} norm {a.norm}: L = {plain.exact}, single process "
                  f"{time.perf_counter() - t:.1f} s, {plain.diagnostics['nodes']} nodes")
            answers, walls, nodes, last = set(), {1: [], 2: []}, {1: [], 2: []}, {}
            for _ in range(a.pairs):
                for w in (1, 2):
                    t = time.perf_counter()
                    res = dlip.lipschitz(g, a.norm, client=clients[w])
                    walls[w].append(time.perf_counter() - t)
                    last[w] = res
                    nodes[w].append(res.diagnostics["nodes"])
                    answers.add((str(res.exact), res.witness, res.pattern))
            print(f"  1 worker {', '.join(f'{v:.1f}' for v in walls[1])} s; 2 workers {', '.join(f'{v:.1f}' for v in walls[2])} s;"
                  f" speedup {statistics.median(walls[1]) / statistics.median(walls[2]):.2f}×"
                  f" (pairs: {', '.join(f'{x / y:.2f}' for x, y in zip(walls[1], walls[2]))}); nodes {nodes[1]} vs {nodes[2]};"
                  f" same L, witness, pattern as the single search: {answers == {(str(plain.exact), plain.witness, plain.pattern)}}")
            for w, res in last.items():
                print(f"  {w} worker(s): {res.diagnostics['subtrees']} subtrees, " + spread(res.diagnostics["task_s"]))
            t = time.perf_counter()
            fine = dlip.lipschitz(g, a.norm, subtrees=a.fine_subtrees)
            wall = time.perf_counter() - t
            print(f"  fine split in-process: {fine.diagnostics['subtrees']} subtrees, {wall:.1f} s; " + spread(fine.diagnostics["task_s"]))
            print("\n| exact L: simulated | tasks | serial | 2 | 8 | 64 | 512 workers |\n|---|---|---|---|---|---|---|")
            tasks = last[1].diagnostics["task_s"]
            serial = statistics.median(walls[1]) - sum(tasks) - len(tasks) * overhead[1]
            project(f"{last[1].diagnostics['subtrees']} subtrees", serial, tasks, overhead[2])
            project(f"{fine.diagnostics['subtrees']} subtrees", wall - sum(fine.diagnostics["task_s"]),
                    fine.diagnostics["task_s"], overhead[2])


if __name__ == "__main__":
    main()
