"""A seeded mutator of input files and an isolated runner, for the fuzz tests
(tests/test_fuzz.py) and the large run (benchmarks/fuzz.py).

Every mutant must end in one of three ways: a project error that says where (`InputError`
with a JSON path, a line or the file), a limit (`LimitReached`), or a result. Anything else
is a crash; running past the per-mutant time limit is a hang. Each mutant runs in a forked
child, so that a hang in C code (a billion-digit power) is caught too.

Mutations of case files (JSON): type changes, shapes (rows and lists cut or grown),
huge and tiny numbers (``1e400``, ``1e-999999``, 5000-digit integers, ``4.9e-324``,
non-ASCII digits), encodings (UTF-16, Latin-1, BOMs, invalid bytes), deep nesting, unknown
and duplicate keys, bad domains, truncation. Of binary and line files (.onnx, .nnet):
truncation, bit flips, byte and line edits, and for ONNX a tensor's type changed.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import random
import signal
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
CASES = sorted(p for p in (REPO / "cases").rglob("*.json") if "models" not in p.parts)

HUGE = ["1e400", "-1e400", "1e999999999", "1e-999999", "4.9e-324", "1E308", "9" * 5000, "1/" + "3" * 5000,
        "١٢", "0x10", "1_000", "nan", "inf", "-0", "1/0", " 1 ", "", "1e", ".", "2/3/4", "1e+99999999999999999"]
RAW_NUMBERS = ["1e400", "-1e999999999", "4.9e-324", "9" * 5000, "1E308", "NaN", "Infinity", "-Infinity", "1e-400"]
VALUES: list[Any] = [None, True, False, 0, -1, 2, 0.5, 1e300, "x", "", [], {}, [[]], {"a": 1}, [1, 2], ["1", "2"],
                     "relu", "affine", -(10**20), 10**30]
KEYS = ["domian", "kind", "type", "weight", "bias", "alpha", "min", "max", "knots", "__proto__", "expected", "layers"]


@dataclass(frozen=True)
class Outcome:
    """How one mutant ended: ``kind`` in {"input-error", "limit", "result", "crash", "hang"}."""

    kind: str
    detail: str = ""

    @property
    def bad(self) -> bool:
        return self.kind in ("crash", "hang")


# -- mutating JSON documents -------------------------------------------------------------------


def _nodes(doc: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    out = [(path, doc)]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _nodes(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _nodes(v, path + (i,))
    return out


def _set(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


def mutate_doc(doc: Any, rng: random.Random) -> Any:
    """One structural mutation of a parsed case document."""
    doc = copy.deepcopy(doc)
    nodes = _nodes(doc)
    path, node = rng.choice(nodes)
    op = rng.choice(["type", "number", "shape", "shape", "unknown-key", "nest", "domain", "drop-key", "layer"])
    if op == "type":
        return _set(doc, path, copy.deepcopy(rng.choice(VALUES)))
    if op == "number":
        strings = [(p, n) for p, n in nodes if isinstance(n, (str, int, float)) and not isinstance(n, bool)]
        if strings:
            path, _ = rng.choice(strings)
        return _set(doc, path, rng.choice(HUGE))
    if op == "shape":
        lists = [(p, n) for p, n in nodes if isinstance(n, list) and n]
        if lists:
            path, lst = rng.choice(lists)
            choice = rng.random()
            if choice < 0.4:
                del lst[rng.randrange(len(lst))]
            elif choice < 0.8:
                lst.append(copy.deepcopy(rng.choice(lst)))
            else:
                lst[:] = lst * rng.randint(2, 4)
        return doc
    if op == "unknown-key":
        dicts = [(p, n) for p, n in nodes if isinstance(n, dict)]
        p, d = rng.choice(dicts)
        d[rng.choice(KEYS)] = copy.deepcopy(rng.choice(VALUES))
        return doc
    if op == "nest":
        deep: Any = node
        for _ in range(rng.choice([5, 200, 900])):  # deeper: as text, in mutate_case_bytes
            deep = [deep]
        return _set(doc, path, deep)
    if op == "drop-key":
        dicts = [(p, n) for p, n in nodes if isinstance(n, dict) and n]
        p, d = rng.choice(dicts)
        del d[rng.choice(sorted(d))]
        return doc
    if op == "layer" and isinstance(doc, dict) and isinstance(doc.get("layers"), list):
        layer = rng.choice([{"type": "leaky_relu", "alpha": rng.choice(HUGE)}, {"type": "hardtanh", "min": "-1", "max": "1e400"},
                            {"type": "hardtanh", "min": 1, "max": -1}, {"type": "spline", "knots": [], "slopes": ["1"], "value": "0"},
                            {"type": "prelu", "alpha": ["1"] * rng.randint(0, 4)}, {"type": "mystery", "kind": "x"},
                            {"type": {"a": 1}}, {"type": ["relu"]}, {"type": "affine", "weight": [["1"]]}])
        doc["layers"].insert(rng.randrange(len(doc["layers"]) + 1), layer)
        return doc
    if isinstance(doc, dict):  # bad domains
        n = doc.get("input_dim", 1) if isinstance(doc.get("input_dim"), int) else 1
        doc["domain"] = rng.choice([
            {"box": [["1", "0"]] * n}, {"box": [["0", "1e-999999"]] * n}, {"box": [["0", "1"]] * (n + 1)},
            {"halfspaces": {"A": [["1E308"] * n], "b": ["1"]}}, {"halfspaces": {"A": [["1"] * n, ["-1"] * n], "b": ["-1", "-1"]}},
            {"halfspaces": {"A": [], "b": []}}, {"box": [["0", "1"]] * n, "halfspaces": {}}, {"ball": 1},
            {"box": [["-1e400", "1e400"]] * n},
        ])
    return doc


def mutate_case_bytes(text: str, rng: random.Random) -> bytes:
    """A mutated case file, as bytes: a structural mutation, or a text / encoding / byte one."""
    op = rng.random()
    if op < 0.65:
        doc = mutate_doc(json.loads(text), rng)
        out = json.dumps(doc, ensure_ascii=rng.random() < 0.5)
        if rng.random() < 0.15:  # a raw number literal JSON strings cannot express
            out = out.replace('"1"', rng.choice(RAW_NUMBERS), 1)
        return out.encode("utf-8")
    if op < 0.68:  # nesting deeper than json.dumps writes
        depth = rng.choice([1000, 5000, 100000])
        return text.replace('"bias": ', '"bias": ' + "[" * depth, 1).replace("]", "]" + "]" * depth, 1).encode()
    if op < 0.72:  # a duplicate key
        i = text.find('"input_dim"')
        if i >= 0:
            return (text[:i] + '"input_dim": 7, ' + text[i:]).encode()
        return text.encode()
    if op < 0.80:  # encodings
        enc = rng.choice(["utf-16", "utf-16-le", "utf-32", "latin-1", "bom", "invalid"])
        t = text.replace('"name": "', '"name": "café ', 1)
        if enc == "bom":
            return b"\xef\xbb\xbf" + t.encode()
        if enc == "invalid":
            data = bytearray(t.encode())
            data[rng.randrange(len(data))] = rng.choice([0xFF, 0xC3, 0x80, 0xFE])
            return bytes(data)
        return t.encode(enc, errors="replace")
    if op < 0.88:  # truncation
        return text.encode()[: rng.randrange(len(text))]
    data = bytearray(text.encode())  # bit flips
    for _ in range(rng.randint(1, 8)):
        k = rng.randrange(len(data))
        data[k] ^= 1 << rng.randrange(8)
    return bytes(data)


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """Truncation, bit flips or byte edits of a binary file."""
    op = rng.random()
    if op < 0.3:
        return data[: rng.randrange(len(data))]
    out = bytearray(data)
    for _ in range(rng.randint(1, 10)):
        k = rng.randrange(len(out))
        if op < 0.7:
            out[k] ^= 1 << rng.randrange(8)
        else:
            out[k] = rng.randrange(256)
    return bytes(out)


def mutate_lines(text: str, rng: random.Random) -> bytes:
    """A mutated line file (.nnet): a number replaced, a line dropped or doubled, truncation, bit flips."""
    lines = text.splitlines()
    op = rng.random()
    if op < 0.4:
        k = rng.randrange(len(lines))
        parts = lines[k].split(",")
        parts[rng.randrange(len(parts))] = rng.choice(HUGE + ["-1", "0", "100000000", "2.5"])
        lines[k] = ",".join(parts)
    elif op < 0.55:
        del lines[rng.randrange(len(lines))]
    elif op < 0.7:
        k = rng.randrange(len(lines))
        lines.insert(k, lines[k])
    elif op < 0.8:
        return "\n".join(lines).encode("utf-16")
    else:
        return mutate_bytes(text.encode(), rng)
    return ("\n".join(lines) + "\n").encode()


def mutate_onnx(data: bytes, rng: random.Random) -> bytes:
    """A mutated ONNX model: bytes, or one tensor's data type changed (when onnx is installed)."""
    if rng.random() < 0.4:
        try:
            import onnx
        except ImportError:
            return mutate_bytes(data, rng)
        model = onnx.load_from_string(data)
        inits = list(model.graph.initializer)
        if inits:
            t = rng.choice(inits)
            t.data_type = rng.choice([0, 2, 3, 6, 7, 8, 9, 10, 11, 16, 17, 99])
            return model.SerializeToString()
    return mutate_bytes(data, rng)


# -- running one mutant ------------------------------------------------------------------------


def classify(fn: Callable[[], Any]) -> Outcome:
    """Run ``fn`` here and say how it ended (no isolation: see `isolated`)."""
    from exactrelu.core.errors import InputError, LimitReached

    try:
        fn()
    except LimitReached as e:
        return Outcome("limit", str(e)[:200])
    except InputError as e:
        if not (e.path or e.file) and "line" not in e.message:
            return Outcome("crash", f"InputError without a location: {e}"[:300])
        return Outcome("input-error", str(e)[:200])
    except RecursionError as e:
        return Outcome("crash", f"RecursionError: {e}"[:300])
    except Exception as e:  # noqa: BLE001 - the point: anything else is a crash
        import traceback

        return Outcome("crash", f"{type(e).__name__}: {e}\n{traceback.format_exc()[-1500:]}")
    return Outcome("result")


def isolated(fn: Callable[[], Outcome], timeout: float) -> Outcome:
    """``fn()`` in a forked child with a wall-clock limit: a hang is killed and reported."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(r)
        try:
            out = fn()
        except BaseException as e:  # noqa: BLE001
            out = Outcome("crash", f"{type(e).__name__}: {e}")
        with os.fdopen(w, "wb") as f:
            pickle.dump(out, f)
        os._exit(0)
    os.close(w)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(r)
            return Outcome("hang", f"more than {timeout} s")
        time.sleep(0.01)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    if not data:
        return Outcome("crash", f"the child died (status {status})")
    return pickle.loads(data)


def analyse_file(path: str, rng_seed: int) -> Callable[[], Outcome]:
    """Read a network file and run one analysis on it, with small limits (the API path)."""

    def go() -> Outcome:
        rng = random.Random(rng_seed)

        def work() -> None:
            from exactrelu.io.load import load_case

            case = load_case(path)
            net, dom = case.network, case.domain
            which = rng.choice(["regions", "lipschitz", "bounds", "jacobian", "verify"])
            if which == "regions":
                from exactrelu.regions import enumerate_regions

                enumerate_regions(net, dom, max_regions=200, time_limit=2)
            elif which == "lipschitz":
                from exactrelu.lipschitz import lipschitz

                lipschitz(net, rng.choice(["1", "2", "inf"]), dom, max_nodes=500, time_limit=2)
            elif which == "bounds":
                from exactrelu.bounds import bounds

                bounds(net, rng.choice(["1", "2", "inf"]), max_nodes=500, time_limit=2)
            elif which == "jacobian":
                from exactrelu.clarke import derivative_in_clarke

                derivative_in_clarke(net, [0] * net.input_dim, rng.choice(["0", "c", "torch"]))
            elif case.expected and net.input_dim <= 2 and sum(net.chain.widths) <= 12:
                from exactrelu.verify import verify_case

                verify_case(case)

        return classify(work)

    return go


def cli_run(argv: list[str]) -> Callable[[], Outcome]:
    """The CLI in-process: exit 0/1/2/3 with no traceback, and with --json one JSON document."""

    def go() -> Outcome:
        import contextlib
        import io

        from exactrelu.cli.main import main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv)
            except SystemExit as e:
                status = e.code
        text = err.getvalue()
        if "Traceback" in text or "Traceback" in out.getvalue():
            return Outcome("crash", text[-1500:])
        if status not in (0, 1, 2, 3) or status == 1 and argv[0] != "verify":
            return Outcome("crash", f"exit status {status}: {text[-800:]}")
        if "--json" in argv:
            try:
                json.loads(out.getvalue())
            except json.JSONDecodeError:
                return Outcome("crash", f"--json printed no single JSON document: {out.getvalue()[:300]!r}")
        return Outcome({0: "result", 1: "result", 2: "input-error", 3: "limit"}[status])

    return go


def cli_argv(path: str, rng: random.Random) -> list[str]:
    """A random command on a file, with small limits."""
    command = rng.choice(["regions", "lipschitz", "bounds", "jacobian", "verify", "convert"])
    argv = {
        "regions": ["regions", path, "--max-regions", "200", "--time-limit", "2"],
        "lipschitz": ["lipschitz", path, "--norm", rng.choice(["1", "2", "inf"]), "--max-nodes", "500", "--time-limit", "2"],
        "bounds": ["bounds", path, "--norm", rng.choice(["1", "2", "inf"]), "--max-nodes", "500", "--time-limit", "2"],
        "jacobian": ["jacobian", path, "--at", "0", "--convention", rng.choice(["0", "c"])],
        "verify": ["verify", path],
        "convert": ["convert", path, str(Path(path).with_suffix(".out.json"))],
    }[command]
    return argv + (["--json"] if rng.random() < 0.5 else [])


@dataclass
class Tally:
    """Counts of outcomes, and the first few bad ones."""

    counts: dict[str, int]
    bad: list[tuple[str, Outcome]]

    @classmethod
    def empty(cls) -> "Tally":
        return cls({k: 0 for k in ("input-error", "limit", "result", "crash", "hang")}, [])

    def add(self, label: str, outcome: Outcome) -> None:
        self.counts[outcome.kind] += 1
        if outcome.bad and len(self.bad) < 20:
            self.bad.append((label, outcome))


def fuzz(kind: str, count: int, seed: int, folder: Path, timeout: float, cli_share: float = 0.2,
         report: Callable[[int, Tally], None] | None = None) -> Tally:
    """``count`` mutants of one kind of file ("json", "nnet", "onnx"), each run in isolation;
    ``report(done, tally)`` after every 250."""
    rng = random.Random(seed)
    tally = Tally.empty()
    sources = _sources(kind, folder)
    for i in range(count):
        name, original = rng.choice(sources)
        if kind == "json":
            data = mutate_case_bytes(original.decode(), rng)
        elif kind == "nnet":
            data = mutate_lines(original.decode(), rng)
        else:
            data = mutate_onnx(original, rng)
        path = folder / f"mutant-{i}.{kind}"
        path.write_bytes(data)
        if rng.random() < cli_share:
            argv = cli_argv(str(path), rng)
            outcome = isolated(cli_run(argv), timeout)
            label = f"{name} #{i} cli {' '.join(argv[:1])}"
        else:
            outcome = isolated(analyse_file(str(path), rng.randrange(2**31)), timeout)
            label = f"{name} #{i} api"
        if outcome.bad:
            keep = folder / f"bad-{i}.{kind}"
            keep.write_bytes(data)
            label += f" (kept as {keep})"
        tally.add(label, outcome)
        path.unlink(missing_ok=True)
        if report is not None and (i + 1) % 250 == 0:
            report(i + 1, tally)
    return tally


def _sources(kind: str, folder: Path) -> list[tuple[str, bytes]]:
    """The files to mutate: the bundled cases, and .nnet / .onnx files made from the ReLU ones."""
    if kind == "json":
        return [(str(p.relative_to(REPO)), p.read_bytes()) for p in CASES]
    from exactrelu.core.domain import Domain
    from exactrelu.io.case import Case, read_case
    from exactrelu.io.load import save_case

    out = []
    for p in CASES:
        case = read_case(p)
        if any(f.kind != "relu" for fns in case.network.chain.acts for f in fns) or not case.network.chain.acts:
            continue
        if kind == "nnet" and case.domain.box is None:
            case = Case(case.network, Domain.from_box([[-1, 1]] * case.network.input_dim))
        target = folder / f"source-{p.stem}.{kind}"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                save_case(case, str(target))
        except Exception:  # noqa: BLE001 - a case the format cannot hold
            continue
        out.append((str(p.relative_to(REPO)), target.read_bytes()))
    return out
