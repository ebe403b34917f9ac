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

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.domain import Domain
from ..core.errors import InputError
from ..core.network import ActivationLayer, AffineLayer, Network, activation, affine
from ..core.numbers import format_number
from .atomic import write_text_atomic

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


def read_json(path: str | os.PathLike[str]) -> Any:
    """A JSON file's document; unreadable files and bad JSON raise `InputError` naming the file.

    NaN and Infinity are read as floats, so that the number parser rejects them with their path.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read the file: {e.strerror or e}", file=str(p)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"expected JSON: {e.msg} at line {e.lineno}, column {e.colno}", file=str(p)) from None


def read_case(path: str | os.PathLike[str]) -> Case:
    """Read a case file; any problem raises `InputError` naming the file and the JSON path."""
    p = Path(path)
    data = read_json(p)
    try:
        case = case_from_json(data)
    except InputError as e:
        raise e.at(file=str(p)) from None
    return Case(case.network, case.domain, case.expected, str(p))


def case_from_json(data: Any) -> Case:
    """A `Case` from a parsed JSON document."""
    if not isinstance(data, dict):
        raise InputError("expected a JSON object at the top level")
    fmt = data.get("format")
    if fmt != FORMAT:
        raise InputError(f"expected \"format\": \"{FORMAT}\", got {fmt!r}", path="format")
    if "input_dim" not in data:
        raise InputError("missing key 'input_dim'", path="input_dim")
    dim = data["input_dim"]
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise InputError(f"expected a positive integer, got {dim!r}", path="input_dim")
    layers_data = data.get("layers")
    if not isinstance(layers_data, list) or not layers_data:
        raise InputError("expected a nonempty list of layers", path="layers")
    layers = [_layer_from_json(item, f"layers[{i}]") for i, item in enumerate(layers_data)]
    name = data.get("name", "")
    source = data.get("source", "")
    for key, value in (("name", name), ("source", source)):
        if not isinstance(value, str):
            raise InputError(f"expected a string, got {value!r}", path=key)
    network = Network.from_layers(dim, layers, name, source)
    domain = Domain.from_json(data.get("domain"), dim)
    expected = data.get("expected", {})
    if not isinstance(expected, dict):
        raise InputError("expected a JSON object of golden results", path="expected")
    return Case(network, domain, expected)


def _layer_from_json(item: Any, path: str) -> AffineLayer | ActivationLayer:
    if not isinstance(item, dict):
        raise InputError("expected a layer object with a \"type\"", path=path)
    kind = item.get("type")
    if kind is None:
        raise InputError("missing key 'type'", path=path)
    try:
        if kind == "affine":
            if "weight" not in item:
                raise InputError("missing key 'weight'", path="weight")
            _no_extra_keys(item, {"weight", "bias"})
            return affine(item["weight"], item.get("bias"))
        if kind in _ACTIVATION_KEYS:
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
    """Write JSON atomically (`exactrelu.io.atomic`: the old file or the whole new one,
    never half, and no temporary file left on an exception, SIGTERM or SIGINT)."""
    write_text_atomic(path, [dumps_compact(doc), "\n"])


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

