"""Checking another verifier's VNN-COMP result file exactly (``exactrelu check-result``, SPEC §5).

A result file's first line is the claim: ``sat`` / ``violated`` (then a witness
``((X_0 v) … (Y_0 v) …)``, one pair per line or not), ``unsat`` / ``holds``, ``timeout``,
``unknown`` (or ``error``). The witness is judged three ways, each exactly:

- ``witness``: whether its inputs, read as the exact decimals printed (``decimal``), rounded to
  binary64 (``float64``), or to binary32 (``float32``), satisfy the whole formula (input set and
  unsafe set) with the network evaluated exactly — the weights being the exact values in the
  network file;
- ``replay``: whether the float64 / float32 network at the rounded inputs lands in the unsafe
  set (`replay.replay`: numpy float64; onnxruntime on the ONNX file for float32);
- ``vnncomp``: the class the competition's scorer gives it, as we reproduce it: ``correct``
  when the inputs as read in binary64 lie in the input set with no tolerance and the float32
  replay (onnxruntime) lands in the unsafe set with no tolerance; ``correct_up_to_tolerance``
  when both hold only with every atom relaxed by ``TOLERANCE`` (1e-4, absolute);
  ``incorrect`` otherwise (and for a witness that is missing, has the wrong number of values,
  or non-finite ones).

An ``unsat`` / ``holds`` claim is decided by `prove`: ``holds`` true (with a certificate when
asked) or false with an exact counterexample (the other tool was unsound).

The claim is right exactly (exit 0) when a ``sat`` witness is an exact counterexample as
printed, or an ``unsat`` property holds; a ``timeout`` / ``unknown`` claims nothing (exit 0).

>>> from exactrelu.core.network import Network, affine, activation
>>> from exactrelu.properties.vnnlib import parse_vnnlib
>>> net = Network.from_layers(1, [affine([[1]]), activation("relu"), affine([[1]])])   # y = x on [0, 1]
>>> prop = parse_vnnlib("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= 0 X_0 1))(assert (>= Y_0 0.7))")
>>> r = check_result(net, prop, parse_result("sat\\n((X_0 0.7)\\n (Y_0 0.7))"))
>>> r.witness, r.vnncomp, r.right    # 0.7 is exact; its binary64 and binary32 roundings fall below 0.7
({'decimal': True, 'float64': False, 'float32': False}, 'correct_up_to_tolerance', True)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import InputError
from ..core.network import Network
from .formula import Property
from .prove import ProveResult, prove
from .replay import float_outputs, rounded
from .vnnlib import Token, sexpressions

TOLERANCE = Fraction(1, 10**4)
CLAIMS = {"sat": "sat", "violated": "sat", "unsat": "unsat", "holds": "unsat", "timeout": "timeout", "unknown": "unknown", "error": "unknown"}
_DEC = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NONFINITE = re.compile(r"[+-]?(nan|inf|infinity)", re.IGNORECASE)


@dataclass(frozen=True)
class ResultFile:
    """A parsed result file: the claim as written, its kind (sat, unsat, timeout, unknown),
    and for sat the witness pairs ``(name, text)`` in file order (None when absent)."""

    claimed: str
    kind: str
    witness: tuple[tuple[str, str], ...] | None
    file: str = ""


def parse_result(text: str, file: str = "") -> ResultFile:
    """Read a VNN-COMP result file; a malformed one raises `InputError` (file, line, what was expected)."""
    lines = text.splitlines()
    first = next(((i, ln.strip()) for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise InputError("expected a result (sat, unsat, timeout, unknown) on the first line; the file is empty", file=file)
    lineno, claim = first
    if claim.lower() not in CLAIMS:
        raise InputError(f"expected sat, unsat, violated, holds, timeout or unknown, got {claim!r}", path=f"line {lineno + 1}", file=file)
    kind = CLAIMS[claim.lower()]
    rest = "\n" * (lineno + 1) + "\n".join(lines[lineno + 1 :])
    exprs = sexpressions(rest, file)
    if kind != "sat":
        if exprs:
            raise InputError(f"expected nothing after {claim!r}", path=f"line {_line(exprs[0])}", file=file)
        return ResultFile(claim, kind, None, file)
    if not exprs:
        return ResultFile(claim, kind, None, file)
    if len(exprs) != 1 or isinstance(exprs[0], Token):
        raise InputError("expected one witness ((X_0 v) ... (Y_0 v)) after sat", path=f"line {_line(exprs[0])}", file=file)
    pairs = []
    body = exprs[0]
    if len(body) == 2 and all(isinstance(t, Token) for t in body):  # a single pair written without the outer parentheses
        body = [body]
    for e in body:
        if isinstance(e, Token) or len(e) != 2 or not all(isinstance(t, Token) for t in e):
            raise InputError("expected a pair (NAME VALUE) such as (X_0 0.5)", path=f"line {_line(e)}", file=file)
        name, value = e[0].text, e[1].text  # type: ignore[union-attr]
        if not re.fullmatch(r"[XY]_\d+", name):
            raise InputError(f"expected a variable X_i or Y_j, got {name!r}", path=f"line {e[0].line}", file=file)  # type: ignore[union-attr]
        if not (_DEC.fullmatch(value) or _NONFINITE.fullmatch(value)):
            raise InputError(f"expected a decimal number for {name}, got {value!r}", path=f"line {e[1].line}", file=file)  # type: ignore[union-attr]
        pairs.append((name, value))
    return ResultFile(claim, kind, tuple(pairs), file)


def decimal_text(q: Fraction) -> str:
    """The exact decimal of q when it has one (denominator 2^a 5^b), else the nearest binary64 as repr.

    >>> decimal_text(Fraction(255, 256)), decimal_text(Fraction(-3, 4)), decimal_text(Fraction(1, 3))
    ('0.99609375', '-0.75', '0.3333333333333333')
    """
    den = q.denominator
    a = b = 0
    while den % 2 == 0:
        den //= 2
        a += 1
    while den % 5 == 0:
        den //= 5
        b += 1
    if den != 1:
        return repr(float(q))
    digits = max(a, b)
    scaled = abs(q.numerator) * (10**digits // q.denominator)
    body = str(scaled).rjust(digits + 1, "0")
    text = body if digits == 0 else body[:-digits] + "." + body[-digits:]
    return ("-" if q < 0 else "") + text


def result_text(res: Any) -> str:
    """A VNN-COMP result file for a `ProveResult`: ``unsat``, ``sat`` with the witness (exact
    decimals where they exist), or ``unknown``."""
    if res.value == "holds":
        return "unsat\n"
    if res.value == "violated":
        c = res.counterexample
        pairs = [f"(X_{i} {decimal_text(v)})" for i, v in enumerate(c.x)] + [f"(Y_{j} {decimal_text(v)})" for j, v in enumerate(c.y)]
        return "sat\n(" + "\n ".join(pairs) + ")\n"
    return "unknown\n"


def read_result(path: str | Path) -> ResultFile:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the file: {getattr(e, 'strerror', None) or e}", file=str(p)) from None
    return parse_result(text, str(p))


def _line(e: Any) -> int:
    while not isinstance(e, Token):
        if not e:
            return 0
        e = e[0]
    return e.line


@dataclass(frozen=True)
class ResultCheck:
    """The verdict on a result file (module docstring); ``right``: the claim is right exactly."""

    claimed: str
    kind: str
    right: bool | None
    witness: dict[str, bool] | None = None
    replay: dict[str, bool] | None = None
    vnncomp: str | None = None
    holds: bool | None = None
    counterexample: dict[str, Any] | None = None
    problems: tuple[str, ...] = ()
    certificate: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    diagnostics: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def value(self) -> bool | None:
        """Whether the claim is right, exactly (None: not decided)."""
        return self.right

    @property
    def guarantee(self) -> str:
        return "exact"

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"claimed": self.claimed, "kind": self.kind, "right": self.right}
        for key in ("witness", "replay", "vnncomp", "holds", "counterexample"):
            v = getattr(self, key)
            if v is not None:
                doc[key] = v
        doc["problems"] = list(self.problems)
        doc["diagnostics"] = self.diagnostics
        return doc


def _within(prop: Property, x: list[Fraction], y: list[Fraction], slack: Fraction) -> bool:
    """Some disjunct holds at (x, y) with every atom relaxed by ``slack`` (exact)."""
    return any(all(a.value(x, y) <= slack for a in c.atoms) for c in prop.disjuncts)


def check_witness(net: Network, prop: Property, res: ResultFile, onnx_path: str | None = None) -> ResultCheck:
    """Judge a ``sat`` claim's witness (module docstring)."""
    n, k = prop.input_dim, prop.output_dim
    problems = []
    bad = ResultCheck(res.claimed, "sat", False, {"decimal": False, "float64": False, "float32": False},
                      {"float64": False, "float32": False}, "incorrect")
    if res.witness is None:
        return ResultCheck(**{**bad.__dict__, "problems": ("the sat claim has no witness",)})
    xs: dict[int, str] = {}
    ys: dict[int, str] = {}
    for name, value in res.witness:
        role, idx = name.split("_")
        target = xs if role == "X" else ys
        if int(idx) in target:
            problems.append(f"{name} is given twice")
        target[int(idx)] = value
    if sorted(xs) != list(range(n)):
        problems.append(f"the witness gives inputs {sorted(xs)}, the property has X_0 … X_{n - 1}")
    if ys and sorted(ys) != list(range(k)):
        problems.append(f"the witness gives outputs {sorted(ys)}, the property has Y_0 … Y_{k - 1}")
    if any(_NONFINITE.fullmatch(v) for v in list(xs.values()) + list(ys.values())):
        problems.append("the witness has a value that is not a finite number")
    if problems:
        return ResultCheck(**{**bad.__dict__, "problems": tuple(problems)})
    x_dec = [Fraction(xs[i]) for i in range(n)]
    witness = {}
    for fmt in ("decimal", "float64", "float32"):
        x = x_dec if fmt == "decimal" else [Fraction(rounded(v, fmt)) for v in x_dec]
        witness[fmt] = prop.violated_at(x, net.evaluate(x))
    replay, floats = {}, {}
    engine = ""
    for fmt in ("float64", "float32"):
        xr, y, eng = float_outputs(net, x_dec, fmt, onnx_path)
        if fmt == "float32":
            engine = eng
        finite = all(math.isfinite(v) for v in y)
        replay[fmt] = finite and prop.violated_at([Fraction(v) for v in xr], [Fraction(v) for v in y])
        floats[fmt] = (xr, y, finite)
    # the scorer: inputs as parsed (binary64), float32 replay outputs, no tolerance / 1e-4
    x64 = [Fraction(float(v)) for v in x_dec]
    _, y32, finite = floats["float32"]
    y32q = [Fraction(v) for v in y32] if finite else []
    if finite and prop.violated_at(x64, y32q):
        vnncomp = "correct"
    elif finite and _within(prop, x64, y32q, TOLERANCE):
        vnncomp = "correct_up_to_tolerance"
    else:
        vnncomp = "incorrect"
    diag: dict[str, Any] = {"float32_engine": engine, "float32_outputs": list(y32)}
    if ys:
        printed = [float(Fraction(ys[j])) for j in range(k)]
        diag["printed_outputs_match_float32"] = bool(np.allclose(printed, y32, rtol=1e-4, atol=1e-4)) if finite else False
        exact_y = net.evaluate(x_dec)
        diag["printed_outputs_error"] = float(max(abs(Fraction(ys[j]) - exact_y[j]) for j in range(k)))
    return ResultCheck(res.claimed, "sat", witness["decimal"], witness, replay, vnncomp, diagnostics=diag)


def check_result(
    net: Network,
    prop: Property,
    res: ResultFile,
    *,
    onnx_path: str | None = None,
    time_limit: float | None = None,
    certificate: bool = False,
) -> ResultCheck:
    """Judge a result file's claim exactly (module docstring); an undecided ``unsat`` at a
    limit raises `LimitReached` whose ``partial`` is the `ProveResult` so far."""
    from .prove import check_dimensions

    check_dimensions(net, prop)
    if res.kind == "sat":
        return check_witness(net, prop, res, onnx_path)
    if res.kind in ("timeout", "unknown"):
        return ResultCheck(res.claimed, res.kind, True, problems=("the result claims nothing to check",))
    out: ProveResult = prove(net, prop, time_limit=time_limit, onnx_path=onnx_path, certificate=certificate)
    holds = out.value == "holds"
    cex = None
    replay = None
    if out.counterexample is not None:
        cex = out.counterexample.to_json()
        replay = dict(out.replay.violated) if out.replay else None
    return ResultCheck(res.claimed, "unsat", holds, holds=holds, counterexample=cex, replay=replay,
                       certificate=out.certificate, diagnostics=out.diagnostics)
