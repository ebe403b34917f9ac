"""The checker's own reader of the case format (``exactrelu-network/1``, SPEC §2) and its
own exact forward pass.

Nothing here comes from the engine (no `exactrelu.core.network`, `exactrelu.io.case`,
`exactrelu.core.numbers` or `exactrelu.core.activations`): a bug there cannot hide a false claim
here. Everything is plain `fractions.Fraction`. The reading is strict: unknown keys,
duplicate keys, non-ASCII digits, NaN, booleans as numbers and wrong shapes are
`Malformed` with the JSON path and what was expected there, and every size is bounded
(`Limits`: digits of one number, JSON nesting, list lengths, file bytes), so that no
input makes the reader hang or crash.

`read_network` gives the canonical chain as a `Net`: ``layers`` alternates `Affine` and
`Activation` and starts and ends with an `Affine` (consecutive affine layers multiplied
together, an identity put between two activation layers, before a leading one and
after a trailing one). An activation layer holds one `PL` function per neuron, with
its knots, one slope per piece and its value at the first knot (at 0 without knots);
knots where the slope does not change are not knots and are dropped.

>>> doc = load_json(b'{"format": "exactrelu-network/1", "input_dim": 1, "layers": ['
...     b'{"type": "affine", "weight": [["1"], ["-1"]], "bias": ["0", "1/2"]},'
...     b'{"type": "relu"}, {"type": "affine", "weight": [["1", "2"]]}]}')
>>> net = read_network(doc)
>>> net.input_dim, net.output_dim, len(net.layers)
(1, 1, 3)
>>> net.forward([Fraction(-1)])
(Fraction(3, 1),)
>>> net.layers[1].functions[0]
PL(knots=(Fraction(0, 1),), slopes=(Fraction(0, 1), Fraction(1, 1)), value=Fraction(0, 1))
>>> read_domain({"box": [["0", "1"]]}, 1)
(((Fraction(1, 1),), Fraction(1, 1)), ((Fraction(-1, 1),), Fraction(0, 1)))
>>> read_network({"format": "exactrelu-network/1", "input_dim": 1, "layers": [{"type": "relu", "alpha": 1}]})
Traceback (most recent call last):
...
exactrelu.checker.reader.Malformed: network.layers[0]: expected only the keys type, got 'alpha'
"""

from __future__ import annotations

import bisect
import json
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

NETWORK_FORMAT = "exactrelu-network/1"

Vec = tuple[Fraction, ...]
Row = tuple[Vec, Fraction]  # the half-space a . x <= b


class Malformed(Exception):
    """The document does not have the expected form: where (a JSON path) and what was expected."""

    def __init__(self, path: str, expected: str) -> None:
        self.path = path
        self.expected = expected
        super().__init__(f"{path}: expected {expected}" if path else f"expected {expected}")


@dataclass(frozen=True)
class Limits:
    """Bounds on what is read. ``max_digits``: decimal digits of one number (numerator
    and denominator, or mantissa and exponent, together); ``max_depth``: JSON nesting;
    ``max_items``: entries of one list or object; ``max_bytes``: size of one file;
    ``max_work``: multiplications of one exact pass of a network with its Jacobian
    (the input dimension times the sum over the canonical chain's affine layers of
    their in and out sizes), so that a short file cannot ask for an hour of work.
    ``padded_numbers``: read ``" 1/2 "`` as 1/2 (ASCII spaces around a number in a string,
    as the engine reads a hand-written case); off for certificates, which the engine writes
    without them, so that an odd number there is a rejected certificate."""

    max_digits: int = 4000
    max_depth: int = 64
    max_items: int = 1_000_000
    max_bytes: int = 1 << 30
    max_work: int = 10**8
    padded_numbers: bool = False


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_RATIO = re.compile(r"([+-]?[0-9]+)/([+-]?[0-9]+)")
_DECIMAL = re.compile(r"([+-]?)(?:([0-9]+)(?:\.([0-9]*))?|\.([0-9]+))(?:[eE]([+-]?)([0-9]+))?")


def load_json(data: bytes | str, limits: Limits = Limits()) -> Any:
    """Parse one JSON document strictly: UTF-8, at most ``limits.max_bytes``, nesting at
    most ``limits.max_depth``, no duplicate keys, no NaN or Infinity, integers of at
    most ``limits.max_digits`` digits.

    >>> load_json('{"a": [1, "2"]}')
    {'a': [1, '2']}
    >>> load_json('{"a": 1, "a": 2}')
    Traceback (most recent call last):
    ...
    exactrelu.checker.reader.Malformed: expected an object without duplicate keys (got 'a' twice)
    """
    if len(data) > limits.max_bytes:
        raise Malformed("", f"a document of at most {limits.max_bytes} bytes, got {len(data)}")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise Malformed("", f"UTF-8 text (bad byte at offset {e.start})") from None
    else:
        text = data
    depth = 0
    for m in _TOKEN.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > limits.max_depth:
                line = text.count("\n", 0, m.start()) + 1
                raise Malformed(f"line {line}", f"JSON nested at most {limits.max_depth} deep")
        elif c in "]}":
            depth -= 1

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                raise Malformed("", f"an object without duplicate keys (got {show_value(k)} twice)")
            out[k] = v
        return out

    def integer(s: str) -> int:
        if len(s.lstrip("-")) > limits.max_digits:
            raise Malformed("", f"integers of at most {limits.max_digits} digits, got one of {len(s.lstrip('-'))}")
        return _int(s)

    def constant(s: str) -> Any:
        raise Malformed("", f"a finite number, got {s}")

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_int=integer, parse_constant=constant)
    except json.JSONDecodeError as e:
        raise Malformed(f"line {e.lineno}, column {e.colno}", f"JSON ({e.msg})") from None
    except RecursionError:
        raise Malformed("", f"JSON nested at most {limits.max_depth} deep") from None


def _int(s: str) -> int:
    """``int(s)`` for a string of ASCII digits (optionally signed) of any length (Python
    refuses more than 4300 digits at once)."""
    if len(s) <= 4000:
        return int(s)
    sign = -1 if s[0] == "-" else 1
    s = s.lstrip("+-")
    mid = len(s) // 2
    return sign * (_int(s[:mid]) * 10 ** (len(s) - mid) + _int(s[mid:]))


def show_value(v: Any, width: int = 60) -> str:
    """A short, printable form of a value read from a document (for messages)."""
    if isinstance(v, (dict, list)):
        s = type(v).__name__ + (f" of {len(v)} entries" if v else " (empty)")
    elif isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 200:
        s = f"an integer of about {int(v.bit_length() * 0.30103)} digits"
    else:
        s = ascii(v)
    return s if len(s) <= width else s[: width - 3] + "..."


def show_number(q: Fraction) -> str:
    """A rational for a message: exact when short, else its size.

    >>> show_number(Fraction(-3, 4)), show_number(Fraction(10**300))
    ('-3/4', 'a number of about 301 digits')
    """
    bits = q.numerator.bit_length() + q.denominator.bit_length()
    if bits > 400:
        return f"a number of about {int(bits * 0.30103) + 1} digits"
    return str(q)


class Reader:
    """Strict readers of the JSON values the checker meets, each naming the JSON path of
    what it rejects, under one set of `Limits`.

    >>> rd = Reader()
    >>> rd.number("-3e-2", "x"), rd.number("7/-14", "x"), rd.number(5, "x"), rd.number(0.5, "x")
    (Fraction(-3, 100), Fraction(-1, 2), Fraction(5, 1), Fraction(1, 2))
    >>> rd.number("1e999999999", "w[0]")
    Traceback (most recent call last):
    ...
    exactrelu.checker.reader.Malformed: w[0]: expected a number of at most 4000 digits (with its exponent), got '1e999999999'
    """

    def __init__(self, limits: Limits = Limits()) -> None:
        self.limits = limits

    def number(self, v: Any, path: str) -> Fraction:
        """An exact number: a JSON integer, a finite JSON float (its binary64 value), or a
        string holding an integer, ``p/q`` or a finite decimal, in ASCII digits."""
        lim = self.limits.max_digits
        if isinstance(v, bool):
            raise Malformed(path, f"a number, got {show_value(v)}")
        if isinstance(v, int):
            if v.bit_length() > lim * 3.33:
                raise Malformed(path, f"a number of at most {lim} digits, got {show_value(v)}")
            return Fraction(v)
        if isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                raise Malformed(path, f"a finite number, got {v}")
            return Fraction(v)
        if not isinstance(v, str):
            raise Malformed(path, f"a number (an integer, or a string 'p/q' or a decimal), got {show_value(v)}")
        if self.limits.padded_numbers:
            v = v.strip(" \t\r\n")
        m = _RATIO.fullmatch(v)
        if m:
            p, q = m.groups()
            if len(p.lstrip("+-")) + len(q.lstrip("+-")) > lim:
                raise Malformed(path, f"a number of at most {lim} digits, got {show_value(v)}")
            if int(q) == 0:
                raise Malformed(path, f"a number, got {show_value(v)} (division by zero)")
            return Fraction(_int(p), _int(q))
        m = _DECIMAL.fullmatch(v)
        if not m:
            raise Malformed(path, f"a number (an integer, 'p/q' or a finite decimal in ASCII digits), got {show_value(v)}")
        sign, whole, frac, frac_only, esign, exp = m.groups()
        digits = (whole or "") + (frac or frac_only or "")
        e_digits = (exp or "0").lstrip("0") or "0"
        if len(e_digits) > 9 or len(digits) + int(e_digits) > lim:
            raise Malformed(path, f"a number of at most {lim} digits (with its exponent), got {show_value(v)}")
        e = int(e_digits) * (-1 if esign == "-" else 1) - len(frac or frac_only or "")
        q = Fraction(_int(digits)) * Fraction(10) ** e
        return -q if sign == "-" else q

    def integer(self, v: Any, path: str, lo: int | None = None, hi: int | None = None) -> int:
        """A JSON integer (not a boolean, not a float), within ``[lo, hi]``."""
        if isinstance(v, bool) or not isinstance(v, int):
            raise Malformed(path, f"an integer, got {show_value(v)}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            rng = f"from {lo}" if hi is None else f"from {lo} to {hi}" if lo is not None else f"at most {hi}"
            raise Malformed(path, f"an integer {rng}, got {show_value(v)}")
        return v

    def items(self, v: Any, path: str, length: int | None = None, nonempty: bool = False) -> list[Any]:
        """A JSON list (of ``length`` entries if given), at most ``limits.max_items`` long."""
        if not isinstance(v, list):
            raise Malformed(path, f"a list, got {show_value(v)}")
        if length is not None and len(v) != length:
            raise Malformed(path, f"a list of {length} entries, got {len(v)}")
        if nonempty and not v:
            raise Malformed(path, "a nonempty list")
        if len(v) > self.limits.max_items:
            raise Malformed(path, f"a list of at most {self.limits.max_items} entries, got {len(v)}")
        return v

    def vector(self, v: Any, path: str, length: int | None = None) -> Vec:
        """A list of numbers (of ``length`` entries if given)."""
        return tuple(self.number(x, f"{path}[{i}]") for i, x in enumerate(self.items(v, path, length)))

    def matrix(self, v: Any, path: str, ncols: int | None = None) -> tuple[Vec, ...]:
        """A nonempty list of nonempty rows of numbers, all of one length (``ncols`` if given)."""
        rows = []
        for i, row in enumerate(self.items(v, path, nonempty=True)):
            vec = self.vector(row, f"{path}[{i}]", ncols)
            if not vec:
                raise Malformed(f"{path}[{i}]", "a nonempty row")
            ncols = len(vec)
            rows.append(vec)
        return tuple(rows)

    def obj(self, v: Any, path: str, required: Sequence[str], optional: Sequence[str] = ()) -> dict[str, Any]:
        """A JSON object with every key of ``required`` and no key outside ``optional``."""
        if not isinstance(v, dict):
            raise Malformed(path, f"an object, got {show_value(v)}")
        if len(v) > self.limits.max_items:
            raise Malformed(path, f"an object of at most {self.limits.max_items} entries, got {len(v)}")
        for k in required:
            if k not in v:
                raise Malformed(path, f"the key {k!r}")
        allowed = set(required) | set(optional)
        for k in v:
            if k not in allowed:
                raise Malformed(path, f"only the keys {', '.join(sorted(allowed))}, got {show_value(k)}")
        return v

    def mapping(self, v: Any, path: str) -> dict[str, Any]:
        """A JSON object with any keys (at most ``limits.max_items``)."""
        if not isinstance(v, dict):
            raise Malformed(path, f"an object, got {show_value(v)}")
        return self.obj(v, path, (), tuple(v))

    def string(self, v: Any, path: str) -> str:
        if not isinstance(v, str):
            raise Malformed(path, f"a string, got {show_value(v)}")
        return v


# -- the network --------------------------------------------------------------------------


@dataclass(frozen=True)
class PL:
    """A continuous piecewise-linear function of one variable: ``knots`` (increasing, each
    a real change of slope), ``slopes`` (one per piece, one more than knots) and
    ``value``, its value at the first knot (at 0 when there is none).

    Where a number sits is a *state*: ``2*i`` inside piece ``i``, ``2*j + 1`` exactly
    at knot ``j``.

    >>> f = make_pl([0, 1, 2], [0, 1, 1, 0], 0)  # the knot at 1 changes no slope
    >>> f.knots, f(Fraction(3)), f.state(Fraction(2)), f.piece_affine(1)
    ((Fraction(0, 1), Fraction(2, 1)), Fraction(2, 1), 3, (Fraction(1, 1), Fraction(0, 1)))
    """

    knots: Vec
    slopes: Vec
    value: Fraction

    def knot_value(self, j: int) -> Fraction:
        """The value at knot ``j``."""
        v = self.value
        for i in range(1, j + 1):
            v += self.slopes[i] * (self.knots[i] - self.knots[i - 1])
        return v

    def piece_affine(self, piece: int) -> tuple[Fraction, Fraction]:
        """``(slope, intercept)`` of the function on piece ``piece``."""
        s = self.slopes[piece]
        if not self.knots:
            return s, self.value
        j = max(piece - 1, 0)
        return s, self.knot_value(j) - s * self.knots[j]

    def state(self, t: Fraction) -> int:
        j = bisect.bisect_left(self.knots, t)
        return 2 * j + 1 if j < len(self.knots) and self.knots[j] == t else 2 * j

    def __call__(self, t: Fraction) -> Fraction:
        s, c = self.piece_affine(bisect.bisect_right(self.knots, t))
        return s * t + c


def make_pl(knots: Sequence[Any], slopes: Sequence[Any], value: Any) -> PL:
    """A `PL` from knots, slopes and the value at the first knot, dropping the knots
    where the slope does not change. Knots must increase."""
    t = [Fraction(k) for k in knots]
    s = [Fraction(v) for v in slopes]
    v0 = Fraction(value)
    keep = [j for j in range(len(t)) if s[j] != s[j + 1]]
    if len(keep) == len(t):
        return PL(tuple(t), tuple(s), v0)
    full = PL(tuple(t), tuple(s), v0)
    if keep:
        value = full.knot_value(keep[0])
    elif t:
        value = v0 - s[0] * t[0]  # a linear function: its value at 0
    else:
        value = v0
    return PL(tuple(t[j] for j in keep), (s[0],) + tuple(s[j + 1] for j in keep), value)


@dataclass(frozen=True)
class Affine:
    """``x -> W x + b``; ``weight`` rows are output neurons."""

    weight: tuple[Vec, ...]
    bias: Vec

    @property
    def in_dim(self) -> int:
        return len(self.weight[0])

    @property
    def out_dim(self) -> int:
        return len(self.weight)

    def __call__(self, x: Sequence[Fraction]) -> Vec:
        return tuple(sum((w * v for w, v in zip(row, x)), Fraction(0)) + b for row, b in zip(self.weight, self.bias))


@dataclass(frozen=True)
class Activation:
    """One `PL` function per neuron."""

    functions: tuple[PL, ...]

    def __call__(self, z: Sequence[Fraction]) -> Vec:
        return tuple(f(t) for f, t in zip(self.functions, z))


@dataclass(frozen=True)
class Net:
    """The canonical chain ``Affine, Activation, Affine, …, Affine`` of a network."""

    input_dim: int
    layers: tuple[Affine | Activation, ...]

    @property
    def output_dim(self) -> int:
        last = self.layers[-1]
        assert isinstance(last, Affine)
        return last.out_dim

    @property
    def affines(self) -> tuple[Affine, ...]:
        return self.layers[0::2]  # type: ignore[return-value]

    @property
    def activations(self) -> tuple[Activation, ...]:
        return self.layers[1::2]  # type: ignore[return-value]

    def forward(self, x: Sequence[Fraction]) -> Vec:
        """f(x), exactly."""
        if len(x) != self.input_dim:
            raise ValueError(f"expected a point of dimension {self.input_dim}, got {len(x)}")
        v = tuple(Fraction(t) for t in x)
        for layer in self.layers:
            v = layer(v)
        return v


def _identity(n: int) -> Affine:
    return Affine(tuple(tuple(Fraction(int(i == j)) for j in range(n)) for i in range(n)), (Fraction(0),) * n)


def _compose(outer: Affine, inner: Affine) -> Affine:
    """``outer ∘ inner``."""
    cols = list(zip(*inner.weight))
    W = tuple(tuple(sum((a * b for a, b in zip(row, col)), Fraction(0)) for col in cols) for row in outer.weight)
    return Affine(W, outer(inner.bias))


_CASE_KEYS = ("format", "name", "source", "input_dim", "layers", "domain", "expected")
_ACTIVATION_KEYS = {
    "relu": (),
    "abs": (),
    "leaky_relu": ("alpha",),
    "prelu": ("alpha",),
    "hardtanh": ("min", "max"),
    "spline": ("knots", "slopes", "value"),
}


def read_network(doc: Any, path: str = "network", limits: Limits = Limits()) -> Net:
    """The network of a case document (``exactrelu-network/1``), as its canonical chain.

    The keys ``domain`` and ``expected`` are allowed and not read here (`read_domain`
    reads the domain)."""
    rd = Reader(limits)
    d = rd.obj(doc, path, ("format", "input_dim", "layers"), _CASE_KEYS)
    if d["format"] != NETWORK_FORMAT:
        raise Malformed(f"{path}.format", f"{NETWORK_FORMAT!r}, got {show_value(d['format'])}")
    for key in ("name", "source"):
        if key in d:
            rd.string(d[key], f"{path}.{key}")
    if "expected" in d and not isinstance(d["expected"], dict):
        raise Malformed(f"{path}.expected", f"an object, got {show_value(d['expected'])}")
    n = rd.integer(d["input_dim"], f"{path}.input_dim", 1, limits.max_items)
    chain: list[Affine | Activation] = []
    pending: Affine | None = None
    dim = n
    budget = _Budget(limits.max_work)
    for i, item in enumerate(rd.items(d["layers"], f"{path}.layers", nonempty=True)):
        where = f"{path}.layers[{i}]"
        layer = _layer(rd, item, where, dim)
        if isinstance(layer, Affine):
            if pending is not None:
                budget.spend(where, layer.out_dim, layer.in_dim, pending.in_dim)  # composing them
            pending = layer if pending is None else _compose(layer, pending)
            dim = layer.out_dim
        else:
            first = pending or budget.identity(dim, where)
            budget.spend(where, n, first.in_dim, first.out_dim)
            chain += [first, layer]
            pending = None
    last = pending or budget.identity(dim, path)
    budget.spend(path, n, last.in_dim, last.out_dim)
    chain.append(last)
    return Net(n, tuple(chain))


class _Budget:
    """The multiplications a network costs so far (`Limits.max_work`)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, path: str, *sizes: int) -> None:
        self.used += math.prod(sizes)
        if self.used > self.limit:
            raise Malformed(path, f"a network of at most {self.limit} multiplications per exact pass (Limits.max_work)")

    def identity(self, n: int, path: str) -> Affine:
        self.spend(path, n, n)
        return _identity(n)


def _layer(rd: Reader, item: Any, path: str, dim: int) -> Affine | Activation:
    if not isinstance(item, dict) or "type" not in item:
        raise Malformed(path, 'a layer object with a "type"')
    kind = item["type"]
    if kind == "affine":
        rd.obj(item, path, ("type", "weight"), ("bias",))
        W = rd.matrix(item["weight"], f"{path}.weight")
        if len(W[0]) != dim:
            raise Malformed(f"{path}.weight", f"rows of {dim} entries (the previous layer's output size), got {len(W[0])}")
        b = rd.vector(item["bias"], f"{path}.bias", len(W)) if "bias" in item else (Fraction(0),) * len(W)
        return Affine(W, b)
    if not isinstance(kind, str) or kind not in _ACTIVATION_KEYS:
        raise Malformed(f"{path}.type", f"one of affine, {', '.join(_ACTIVATION_KEYS)}, got {show_value(kind)}")
    keys = _ACTIVATION_KEYS[kind]
    rd.obj(item, path, ("type",) + (keys if kind in ("leaky_relu", "prelu", "spline") else ()), ("type",) + keys)
    zero, one = Fraction(0), Fraction(1)
    if kind == "relu":
        return Activation((make_pl([zero], [zero, one], zero),) * dim)
    if kind == "abs":
        return Activation((make_pl([zero], [-one, one], zero),) * dim)
    if kind == "leaky_relu":
        a = rd.number(item["alpha"], f"{path}.alpha")
        return Activation((make_pl([zero], [a, one], zero),) * dim)
    if kind == "prelu":
        alphas = rd.vector(item["alpha"], f"{path}.alpha", dim)
        return Activation(tuple(make_pl([zero], [a, one], zero) for a in alphas))
    if kind == "hardtanh":
        lo = rd.number(item.get("min", -1), f"{path}.min")
        hi = rd.number(item.get("max", 1), f"{path}.max")
        if not lo < hi:
            raise Malformed(f"{path}.max", f"min < max, got min {show_number(lo)}, max {show_number(hi)}")
        return Activation((make_pl([lo, hi], [zero, one, zero], lo),) * dim)
    knots = item["knots"]
    if isinstance(knots, list) and knots and isinstance(knots[0], list):  # one spline per neuron
        rd.items(knots, f"{path}.knots", dim)
        slopes = rd.items(item["slopes"], f"{path}.slopes", dim)
        values = rd.items(item["value"], f"{path}.value", dim)
        return Activation(tuple(_spline(rd, k, s, v, path, f"[{j}]") for j, (k, s, v) in enumerate(zip(knots, slopes, values))))
    return Activation((_spline(rd, knots, item["slopes"], item["value"], path, ""),) * dim)


def _spline(rd: Reader, knots: Any, slopes: Any, value: Any, path: str, suffix: str) -> PL:
    t = rd.vector(knots, f"{path}.knots{suffix}")
    s = rd.vector(slopes, f"{path}.slopes{suffix}", len(t) + 1)
    v = rd.number(value, f"{path}.value{suffix}")
    for i in range(1, len(t)):
        if not t[i - 1] < t[i]:
            raise Malformed(f"{path}.knots{suffix}[{i}]", "strictly increasing knots")
    return make_pl(t, s, v)


def read_domain(doc: Any, dim: int, path: str = "domain", limits: Limits = Limits()) -> tuple[Row, ...]:
    """The rows ``(a, b)``, each the half-space ``a . x <= b``, of a domain: None (all of
    R^dim: no rows), ``{"box": [[lo, hi], ...]}`` (rows ``x_i <= hi``, ``-x_i <= -lo`` in
    that order, with ``lo < hi``) or ``{"halfspaces": {"A": [...], "b": [...]}}``."""
    if doc is None:
        return ()
    rd = Reader(limits)
    if not isinstance(doc, dict) or len(doc) != 1 or not ({"box", "halfspaces"} & set(doc)):
        raise Malformed(path, 'exactly one of {"box": [[lo, hi], ...]} or {"halfspaces": {"A": ..., "b": ...}}')
    if "box" in doc:
        rows: list[Row] = []
        for i, pair in enumerate(rd.items(doc["box"], f"{path}.box", dim)):
            lo, hi = rd.vector(pair, f"{path}.box[{i}]", 2)
            if not lo < hi:
                raise Malformed(f"{path}.box[{i}]", f"lo < hi, got [{show_number(lo)}, {show_number(hi)}]")
            e = tuple(Fraction(int(j == i)) for j in range(dim))
            rows += [(e, hi), (tuple(-v for v in e), -lo)]
        return tuple(rows)
    hs = rd.obj(doc["halfspaces"], f"{path}.halfspaces", ("A", "b"))
    A = rd.matrix(hs["A"], f"{path}.halfspaces.A", dim)
    b = rd.vector(hs["b"], f"{path}.halfspaces.b", len(A))
    return tuple(zip(A, b))


def read_case(doc: Any, path: str = "case", limits: Limits = Limits()) -> tuple[Net, tuple[Row, ...]]:
    """The network and the domain's rows of a case document."""
    net = read_network(doc, path, limits)
    return net, read_domain(doc.get("domain"), net.input_dim, f"{path}.domain", limits)
