"""``expected.parameter_gradient``: the gradient of the output in the weights and biases
at a sample, under a convention (seed 000's counter-example).

>>> from exactrelu.io.case import case_from_json
>>> case = case_from_json({"format": "exactrelu-network/1", "input_dim": 1,
...     "layers": [{"type": "affine", "weight": [["2"]], "bias": ["-1"]}, {"type": "relu"},
...                {"type": "affine", "weight": [["3"]]}]})
>>> entry = {"at": "1", "bias": [[["3"]], [["1"]]]}   # f = 3 relu(2x - 1): df/db = 3, 1 at x = 1
>>> [c.ok for c in check_parameter_gradient(case, [entry], "p")]
[True]
"""

from __future__ import annotations

from typing import Any

from ..calculus import parameter_gradient
from ..core.numbers import parse_point
from ..io.case import Case
from .check import Check, entries, same


def check_parameter_gradient(case: Case, value: Any, path: str) -> list[Check]:
    checks = []
    for i, entry in enumerate(entries(value, path, ("at", "convention", "weight", "bias", "source"))):
        x = parse_point(str(entry["at"]), case.network.input_dim, f"{path}[{i}].at")
        conv = entry.get("convention", "0")
        g = parameter_gradient(case.network, x, conv)
        for key, got in (("weight", g.weight), ("bias", g.bias)):
            if key in entry:
                name = f"parameter gradient ({key}) at {entry['at']} (convention {conv})"
                checks.append(Check(name, entry[key], got, same(entry[key], got, f"{path}[{i}].{key}")))
    return checks
