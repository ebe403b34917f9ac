"""`exactrelu verify` checker for the ``properties`` key of ``expected``: a list of
``{"file": "P.vnnlib", "result": "holds" | "violated", "x": [...], "y": [...],
"replay": {"float64": bool, "float32": bool}}`` (``file`` relative to the case file;
``x``, ``y``, ``replay`` optional, for properties whose counterexample is unique).

>>> import json, tempfile, pathlib
>>> from exactrelu.io.case import read_case
>>> from exactrelu.verify import verify_case
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "p.vnnlib").write_text("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= 0 X_0 1))(assert (> Y_0 1))")
>>> _ = (d / "c.json").write_text(json.dumps({"format": "exactrelu-network/1", "input_dim": 1,
...     "layers": [{"type": "affine", "weight": [["1"]]}, {"type": "relu"}, {"type": "affine", "weight": [["1"]]}],
...     "expected": {"properties": [{"file": "p.vnnlib", "result": "holds"}]}}))
>>> [(c.name, c.ok) for c in verify_case(read_case(d / "c.json"))]
[('properties[0] p.vnnlib', True)]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.errors import InputError
from ..core.numbers import parse_number
from ..io.case import Case
from ..properties.prove import prove
from ..properties.vnnlib import read_vnnlib
from .check import Check

_KEYS = {"file", "result", "x", "y", "replay"}


def check_properties(case: Case, value: Any, path: str) -> list[Check]:
    if not isinstance(value, list):
        raise InputError("expected a list of {\"file\": ..., \"result\": ...}", path=path)
    checks = []
    base = Path(case.path).parent if case.path else Path(".")
    for i, entry in enumerate(value):
        p = f"{path}[{i}]"
        if not isinstance(entry, dict) or "file" not in entry or "result" not in entry or set(entry) - _KEYS:
            raise InputError(f"expected an object with file, result and optionally x, y, replay (keys {sorted(_KEYS)})", path=p)
        if entry["result"] not in ("holds", "violated"):
            raise InputError(f"expected result 'holds' or 'violated', got {entry['result']!r}", path=f"{p}.result")
        prop = read_vnnlib(base / str(entry["file"]))
        res = prove(case.network, prop)
        ok = res.value == entry["result"]
        got: dict[str, Any] = {"result": res.value}
        if res.counterexample is not None:
            cex = res.counterexample.to_json()
            got.update(x=cex["x"], y=cex["y"])
            if "x" in entry:
                ok &= [parse_number(v, f"{p}.x") for v in entry["x"]] == list(res.counterexample.x)
            if "y" in entry:
                ok &= [parse_number(v, f"{p}.y") for v in entry["y"]] == list(res.counterexample.y)
            if "replay" in entry and res.replay is not None:
                got["replay"] = res.replay.violated
                ok &= entry["replay"] == res.replay.violated
        checks.append(Check(f"{path.split('.')[-1]}[{i}] {entry['file']}", entry, got, ok))
    return checks
