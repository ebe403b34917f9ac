"""The case format ``exactrelu-network/1`` (SPEC §2): read and write, exactly.

Every error names the file, the JSON path of the bad entry and what was expected.

>>> case = case_from_json({"format": "exactrelu-network/1", "input_dim": 1,
...     "layers": [{"type": "affine", "weight": [["1"], ["-1"]]}, {"type": "relu"},
...                {"type": "affine", "weight": [["1", "1"]]}]})
>>> case.network.evaluate(["-2/3"])
(Fraction(2, 3),)
>>> case_from_json(case_to_json(case)) == case
True
"""

from __future__ import annotations

import codecs
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.domain import Domain
from ..core.errors import InputError, InputLimit
from ..core.limits import Limits, active, using
from ..core.network import ActivationLayer, AffineLayer, Network, activation, affine
from ..core.numbers import JsonNumber, format_number, json_float, json_int
from .files import write_atomic

FORMAT = "exactrelu-network/1"
_ACTIVATION_KEYS = {
    "relu": set(),
    "abs": set(),
    "leaky_relu": {"alpha"},
    "prelu": {"alpha"},
    "hardtanh": {"min", "max"},
    "spline": {"knots", "slopes", "value"},
}


@dataclass(frozen=True)
class Case:
    """A network, its domain, and the golden results it is expected to have."""

    network: Network
    domain: Domain
    expected: dict[str, Any] = field(default_factory=dict, compare=False)
    path: str = field(default="", compare=False)

    @property
    def name(self) -> str:
        return self.network.name


def read_json(path: str | os.PathLike[str], limits: Limits | None = None) -> Any:
    """A JSON file's document, read strictly; any problem raises `InputError` naming the file.

    The text must be UTF-8 (a UTF-8 byte-order mark is skipped; UTF-16/32 and invalid bytes
    are errors with their position). Duplicate keys are errors with their JSON path (JSON's
    "the last one wins" would silently drop an entry), and so is nesting deeper than
    ``limits.depth`` (an `InputLimit`). Integers come back as ints (as `JsonNumber` text when
    longer than Python converts safely), numbers with a fraction or exponent as `JsonFloat`
    (so that `exactrelu.core.numbers.parse_number` holds them to the limits); NaN and
    Infinity as floats, so that the number parser rejects them with their path.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except IsADirectoryError:
        raise InputError("cannot read the file: it is a directory", file=str(p)) from None
    except FileNotFoundError:
        raise InputError("cannot read the file: no such file", file=str(p)) from None
    except OSError as e:
        raise InputError(f"cannot read the file: {e.strerror or e}", file=str(p)) from None
    with using(limits):
        try:
            return loads_json(data)
        except InputError as e:
            raise e.at(file=str(p)) from None


_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"), (codecs.BOM_UTF16_LE, "UTF-16"),
         (codecs.BOM_UTF16_BE, "UTF-16"))


def loads_json(data: bytes | str) -> Any:
    """`read_json` on bytes or text already in memory (the limits in force apply).

    >>> loads_json('{"a": 1, "a": 2}')
    Traceback (most recent call last):
    ...
    exactrelu.core.errors.InputError: a: duplicate key 'a' (each key may appear once in an object)
    """
    if isinstance(data, bytes):
        for bom, name in _BOMS:
            if data.startswith(bom):
                raise InputError(f"expected UTF-8 text, got {name} (a byte-order mark): save the file as UTF-8")
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            raise InputError(f"expected UTF-8 text, got the byte 0x{data[e.start]:02x} at line {line} "
                             f"(byte {e.start + 1})") from None
    else:
        text = data
    limits = active()
    try:
        doc = json.loads(text, object_pairs_hook=_Object, parse_int=json_int, parse_float=json_float,
                         parse_constant=float)
    except json.JSONDecodeError as e:
        raise InputError(f"expected JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    except RecursionError:
        raise InputLimit(f"expected JSON nested at most {limits.depth} deep, got far deeper "
                         "(raise the limit with --max-depth)") from None
    _check_tree(doc, limits.depth)
    return doc


class _Object(dict):
    """A JSON object that remembers a key given twice (``duplicate``)."""

    duplicate: str | None = None

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        if len(self) != len(pairs):
            seen: set[str] = set()
            self.duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))


def _check_tree(doc: Any, max_depth: int) -> None:
    """Duplicate keys, nesting depth and text that is not Unicode (a lone surrogate such as
    ``"\udcff"``, which no file can be written with), with the JSON path of the first offence."""
    stack: list[tuple[Any, str, int]] = [(doc, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, str):
            _unicode(node, path)
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth > max_depth:
            raise InputLimit(f"expected JSON nested at most {max_depth} deep (raise the limit with --max-depth)",
                             path=path)
        if isinstance(node, dict):
            if getattr(node, "duplicate", None) is not None:
                key = node.duplicate
                raise InputError(f"duplicate key {key!r} (each key may appear once in an object)",
                                 path=_join(path, key))
            for k in node:
                _unicode(k, path)
            stack.extend((v, _join(path, k), depth + 1) for k, v in node.items())
        else:
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(node))


def _unicode(text: str, path: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InputError(f"expected Unicode text, got the lone surrogate \\u{ord(text[e.start]):04x} "
                             f"(a \\u escape of half a character)", path=path) from None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def read_case(path: str | os.PathLike[str], limits: Limits | None = None) -> Case:
    """Read a case file; any problem raises `InputError` naming the file and the JSON path.

    ``limits`` (`exactrelu.core.limits.Limits`): the resource limits for this file
    (default: those in force).
    """
    p = Path(path)
    with using(limits):
        data = read_json(p)
        try:
            case = case_from_json(data)
        except InputError as e:
            raise e.at(file=str(p)) from None
    return Case(case.network, case.domain, case.expected, str(p))


TOP_KEYS = ("format", "name", "source", "input_dim", "layers", "domain", "expected")


def case_from_json(data: Any, limits: Limits | None = None) -> Case:
    """A `Case` from a parsed JSON document (every key known; see SPEC §2)."""
    with using(limits):
        return _case_from_json(data)


def _case_from_json(data: Any) -> Case:
    if not isinstance(data, dict):
        raise InputError("expected a JSON object at the top level")
    fmt = data.get("format")
    if fmt != FORMAT:
        raise InputError(f"expected \"format\": \"{FORMAT}\", got {_short(fmt)}", path="format")
    for key in data:
        if key not in TOP_KEYS:
            raise InputError(f"unknown key (a case has: {', '.join(TOP_KEYS)})", path=key)
    if "input_dim" not in data:
        raise InputError("missing key 'input_dim'", path="input_dim")
    dim = _positive_int(data["input_dim"], "input_dim")
    layers_data = data.get("layers")
    if not isinstance(layers_data, list) or not layers_data:
        raise InputError("expected a nonempty list of layers", path="layers")
    limits = active()
    if len(layers_data) > limits.layers:
        raise InputLimit(f"expected at most {limits.layers} layers, got {len(layers_data)} "
                         "(raise the limit with --max-layers)", path="layers")
    layers = [_layer_from_json(item, f"layers[{i}]") for i, item in enumerate(layers_data)]
    name = data.get("name", "")
    source = data.get("source", "")
    for key, value in (("name", name), ("source", source)):
        if not isinstance(value, str):
            raise InputError(f"expected a string, got {_short(value)}", path=key)
    network = Network.from_layers(dim, layers, name, source)
    domain = Domain.from_json(data.get("domain"), dim)
    expected = data.get("expected", {})
    if not isinstance(expected, dict):
        raise InputError("expected a JSON object of golden results", path="expected")
    return Case(network, domain, expected)


def _positive_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"expected a positive integer, got {_short(value)}", path=path)
    return value


def _short(value: Any) -> str:
    """A value as the error messages show it: JSON-like, cut to 60 characters."""
    text = str(value) if isinstance(value, JsonNumber) else repr(value)
    return text if len(text) <= 60 else text[:60] + "..."


def _layer_from_json(item: Any, path: str) -> AffineLayer | ActivationLayer:
    if not isinstance(item, dict):
        raise InputError("expected a layer object with a \"type\"", path=path)
    kind = item.get("type")
    if kind is None:
        raise InputError("missing key 'type'", path=path)
    if not isinstance(kind, str) or (kind != "affine" and kind not in _ACTIVATION_KEYS):
        known = ", ".join(("affine",) + tuple(_ACTIVATION_KEYS))
        raise InputError(f"expected a layer type among {known}, got {_short(kind)}", path=f"{path}.type")
    try:
        if kind == "affine":
            if "weight" not in item:
                raise InputError("missing key 'weight'", path="weight")
            _no_extra_keys(item, {"weight", "bias"})
            return affine(item["weight"], item.get("bias"))
        _no_extra_keys(item, _ACTIVATION_KEYS[kind])
        params = {k: v for k, v in item.items() if k != "type"}
        return activation(kind, **params)
    except InputError as e:
        raise e.at(prefix=path) from None


def _no_extra_keys(item: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(item) - allowed - {"type"})
    if extra:
        names = ", ".join(sorted(allowed)) or "none"
        raise InputError(f"unexpected key {extra[0]!r} (this layer type takes: {names})", path=extra[0])


def layer_to_json(layer: AffineLayer | ActivationLayer) -> dict[str, Any]:
    if isinstance(layer, AffineLayer):
        return {
            "type": "affine",
            "weight": [[format_number(v) for v in row] for row in layer.weight],
            "bias": [format_number(v) for v in layer.bias],
        }
    fn = layer.functions[0]
    if layer.kind in ("relu", "abs"):
        return {"type": layer.kind}
    if layer.kind == "leaky_relu":
        return {"type": "leaky_relu", "alpha": format_number(fn.params[0])}
    if layer.kind == "prelu":
        return {"type": "prelu", "alpha": [format_number(f.params[0]) for f in layer.functions]}
    if layer.kind == "hardtanh":
        return {"type": "hardtanh", "min": format_number(fn.params[0]), "max": format_number(fn.params[1])}

    def one(f: Any) -> tuple[list[str], list[str], str]:
        return [format_number(t) for t in f.knots], [format_number(s) for s in f.slopes], format_number(f.value)

    if not layer.per_neuron:
        k, s, v = one(fn)
        return {"type": "spline", "knots": k, "slopes": s, "value": v}
    parts = [one(f) for f in layer.functions]
    return {
        "type": "spline",
        "knots": [p[0] for p in parts],
        "slopes": [p[1] for p in parts],
        "value": [p[2] for p in parts],
    }


def case_to_json(case: Case | Network, domain: Domain | None = None, expected: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON document of a case (or of a bare network, with an optional domain)."""
    if isinstance(case, Network):
        case = Case(case, domain or Domain.whole(case.input_dim), expected or {})
    net = case.network
    doc: dict[str, Any] = {"format": FORMAT}
    if net.name:
        doc["name"] = net.name
    if net.source:
        doc["source"] = net.source
    doc["input_dim"] = net.input_dim
    doc["layers"] = [layer_to_json(layer) for layer in net.layers]
    dom = case.domain.to_json()
    if dom is not None:
        doc["domain"] = dom
    if case.expected:
        doc["expected"] = case.expected
    return doc


def write_case(case: Case | Network, path: str | os.PathLike[str], **kwargs: Any) -> None:
    """Write a case file atomically (a crash leaves the old file or the new one, never half)."""
    write_json_atomic(case_to_json(case, **kwargs), path)


def write_json_atomic(doc: Any, path: str | os.PathLike[str]) -> None:
    """Write JSON atomically (`exactrelu.io.files.write_atomic`: a temporary file beside ``path``,
    then renamed into place; an unwritable place is an `InputError`)."""
    write_atomic(path, dumps_compact(doc) + "\n")


def dumps_compact(doc: Any) -> str:
    """JSON with one line per innermost list of scalars: matrices stay readable.

    >>> print(dumps_compact({"w": [["1", "2"], ["3", "4"]]}))
    {
     "w": [
      ["1", "2"],
      ["3", "4"]
     ]
    }
    """
    text = json.dumps(doc, indent=1, ensure_ascii=False)
    return re.sub(r"\[\s*\n\s*([^\[\]{}]*?)\s*\n\s*\]", lambda m: "[" + re.sub(r",\s*\n\s*", ", ", m.group(1)) + "]", text)

