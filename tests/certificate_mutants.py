"""A seeded mutator of certificate files, and the judge of what the checker does with
each mutant (for tests/test_checker_fuzz.py and benchmarks/fuzz_certificates.py).

Mutants are bytes: truncated, bit-flipped, bytes inserted or deleted, re-encoded
(UTF-16, a BOM, Latin-1 bytes); or the parsed document with one value replaced by one
of another type, a huge or tiny number, an odd number syntax, a deep nesting, a long
list, an unknown or duplicate key. `judge` runs the checker on one mutant under a time
limit and says what happened: ``rejected`` (a clean `Verdict` with ok False),
``accepted`` (and then whether its verdict is the truth: the original's, on an
unchanged case, or the brute force's on a small changed one), ``exception`` or ``hang``.
"""

from __future__ import annotations

import json
import random
import signal
import traceback
from dataclasses import dataclass
from typing import Any, Iterator

from exactrelu.checker import check_certificate
from exactrelu.checker.reader import Malformed, load_json, read_case

ODD_VALUES: list[Any] = [
    "1e999999999", "-1e-999999999", "9" * 5000, "1/" + "7" * 5000, "0." + "0" * 5000 + "1", "\u0661\u0662", "1_000",
    " 1", "0x10", "NaN", "Infinity", "1/0", "", "--1", 1e308, 5e-324, -0.0, 10**400, True, False, None, [], {}, [[]],
    {"a": 1}, "x", -1, 2**63, 1.5,
]


def _paths(doc: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(doc, dict):
        for k, x in doc.items():
            out += _paths(x, path + (k,))
    elif isinstance(doc, list):
        for i, x in enumerate(doc[:50]):
            out += _paths(x, path + (i,))
    return out


def _replace(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


def _dumps(doc: Any) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


def mutants(data: bytes, seed: int, count: int) -> Iterator[tuple[str, bytes]]:
    """``count`` mutants of a certificate file's bytes, reproducible from ``seed``."""
    rng = random.Random(seed)
    doc = json.loads(data)
    paths = _paths(doc)
    for _ in range(count):
        kind = rng.choice(["truncate", "bitflip", "bytes", "encoding", "value", "value", "value", "nesting", "keys", "list"])
        if kind == "truncate":
            yield kind, data[: rng.randrange(len(data))]
        elif kind == "bitflip":
            b = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                i = rng.randrange(len(b))
                b[i] ^= 1 << rng.randrange(8)
            yield kind, bytes(b)
        elif kind == "bytes":
            i = rng.randrange(len(data))
            junk = rng.choice([b"\xff", b"\x00", b"\xc3", b"{", b"]", b",", b'"', b"\\", b"\xed\xa0\x80"])
            yield kind, data[:i] + junk + data[i + rng.choice([0, 1]):]
        elif kind == "encoding":
            text = data.decode()
            yield kind, rng.choice([text.encode("utf-16"), b"\xef\xbb\xbf" + data, text.replace('"', "\u201c", 1).encode("latin-1", "replace")])
        elif kind == "value":
            path = rng.choice(paths)
            yield kind, _dumps(_replace(json.loads(data), path, rng.choice(ODD_VALUES)))
        elif kind == "nesting":
            depth = rng.choice([70, 1000, 100_000])
            path = rng.choice(paths)
            text = _dumps(_replace(json.loads(data), path, "@@"))
            yield kind, text.replace(b'"@@"', b"[" * depth + b"1" + b"]" * depth, 1)
        elif kind == "keys":
            d = json.loads(data)
            target = rng.choice([p for p in paths if isinstance(_get(d, p), dict)])
            obj = _get(d, target)
            if obj and rng.random() < 0.5:
                key = rng.choice(list(obj))
                text = _dumps(d)
                first = json.dumps(key).encode() + b":"
                i = text.find(first)
                yield kind, text[:i] + first + b' "dup", ' + text[i:] if i >= 0 else text  # a duplicate key
            else:
                obj[rng.choice(["domian", "extra", "regions ", "\u0000"])] = 1
                yield kind, _dumps(d)
        else:
            path = rng.choice(paths)
            yield kind, _dumps(_replace(json.loads(data), path, [rng.choice(["1", 1, [1]])] * rng.choice([3, 100_000])))


def _get(doc: Any, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


@dataclass(frozen=True)
class Outcome:
    kind: str  # rejected, accepted, exception, hang
    detail: str = ""
    truth: str = ""  # for accepted: "same" (the original's verdict, same case), "brute" (checked), "unchecked"


class _Timeout(BaseException):
    pass


def judge(mutant: bytes, original: dict[str, Any], original_verdict: Any, time_limit: float = 10.0, brute: Any = None) -> Outcome:
    """What the checker does with one mutant (see the module's docstring)."""

    def alarm(_s: int, _f: Any) -> None:
        raise _Timeout

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, time_limit)
    try:
        try:
            doc = load_json(mutant)
        except Malformed as e:
            return Outcome("rejected", str(e))
        v = check_certificate(doc)
    except _Timeout:
        return Outcome("hang")
    except BaseException:
        return Outcome("exception", traceback.format_exc(limit=-3))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    if not v.ok:
        return Outcome("rejected", v.problems[0])
    if read_case(doc["case"]) == read_case(original["case"]):
        same = v.counts == original_verdict.counts and all(original_verdict.lipschitz.get(k) == x for k, x in v.lipschitz.items())
        return Outcome("accepted", truth="same" if same else "DIFFERENT")
    if brute is not None:
        brute(doc, v)
        return Outcome("accepted", truth="brute")
    return Outcome("accepted", truth="unchecked")
