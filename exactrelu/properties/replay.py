"""Replaying a point in floating point, the way other tools and the VNN-COMP scorer see it.

Semantics (stated once, used by ``prove`` and ``check-result``):

- **float64**: x rounded to the nearest binary64 numbers, the weights and biases rounded
  to binary64 (for ONNX float32 weights this is exact), and the forward pass in numpy
  float64 (matrix products in whatever order BLAS sums). The unsafe set is then tested
  *exactly* on those float outputs (and the rounded x).
- **float32**: x rounded to binary32; when the network was read from an ONNX file and
  onnxruntime is installed, onnxruntime runs that very model (the scorer's own
  arithmetic); otherwise a numpy float32 forward pass on the weights rounded to binary32.
  The unsafe set is again tested exactly on the float outputs.

`replay` returns, per format, whether the float network at the rounded point lands in
the unsafe set, and the float outputs.

>>> from exactrelu.core.network import Network, affine, activation
>>> from exactrelu.properties.formula import Atom, Conjunction, Property
>>> net = Network.from_layers(1, [affine([["1/3"]]), activation("relu"), affine([[3]])])
>>> prop = Property(1, 1, (Conjunction((Atom((Fraction(0),), (Fraction(-1),), Fraction(1)),)),))  # y >= 1
>>> r = replay(net, prop, [Fraction(1)])        # exactly y = 1: violated; in floats 3*(1/3) rounds
>>> r.violated["float64"], r.violated["float32"]
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..core.network import Network
from .formula import Property


@dataclass(frozen=True)
class Replay:
    """Per format (``"float64"``, ``"float32"``): whether the float network violates the
    property at the rounded point, the rounded point, the float outputs, and how float32 was run."""

    violated: dict[str, bool]
    points: dict[str, tuple[float, ...]]
    outputs: dict[str, tuple[float, ...]]
    float32_engine: str


def rounded(q: Fraction, fmt: str) -> float:
    """The binary64 or binary32 number nearest to the rational q (ties to even), as a float;
    binary32 directly from q, not through binary64 (no double rounding).

    >>> rounded(Fraction(1, 3), "float32") == float(np.float32(1 / 3))
    True
    """
    d = float(q)  # Fraction -> float is correctly rounded
    if fmt == "float64":
        return d
    c = np.float32(d)
    best = c
    for nb in (np.nextafter(c, np.float32(-np.inf)), np.nextafter(c, np.float32(np.inf))):
        if not np.isfinite(nb):
            continue
        e_nb, e_best = abs(Fraction(float(nb)) - q), abs(Fraction(float(best)) - q) if np.isfinite(best) else None
        if e_best is None or e_nb < e_best or (e_nb == e_best and int(nb.view(np.uint32)) % 2 == 0):
            best = nb
    return float(best)


def _numpy_forward(net: Network, x: np.ndarray, dtype: Any) -> np.ndarray:
    ch = net.chain
    v = x.astype(dtype)
    for l, fns in enumerate(ch.acts):
        a = ch.affines[l]
        W = np.array([[float(w) for w in row] for row in a.weight], dtype=dtype)
        b = np.array([float(c) for c in a.bias], dtype=dtype)
        z = W @ v + b
        out = np.empty_like(z)
        for i, f in enumerate(fns):
            t = Fraction(float(z[i]))
            j = f.state(t)
            piece = j // 2 + (1 if j % 2 else 0)
            s, c = f.piece_affine(min(piece, len(f.slopes) - 1))
            out[i] = dtype(float(s)) * z[i] + dtype(float(c))
        v = out
    a = ch.affines[-1]
    W = np.array([[float(w) for w in row] for row in a.weight], dtype=dtype)
    b = np.array([float(c) for c in a.bias], dtype=dtype)
    return W @ v + b


def _onnxruntime_forward(path: str, x: np.ndarray) -> np.ndarray | None:
    try:
        import onnxruntime
    except ImportError:
        return None
    opts = onnxruntime.SessionOptions()
    opts.log_severity_level = 3
    session = onnxruntime.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    shape = [d if isinstance(d, int) and d > 0 else 1 for d in inp.shape]
    dtype = np.float64 if "double" in inp.type else np.float32
    if int(np.prod(shape)) != x.size:
        return None
    out = session.run(None, {inp.name: x.astype(dtype).reshape(shape)})[0]
    return np.asarray(out, dtype=np.float64).ravel()


def float_outputs(net: Network, x: Sequence[Fraction], fmt: str, onnx_path: str | None = None) -> tuple[tuple[float, ...], tuple[float, ...], str]:
    """(rounded x, float outputs, engine) for ``fmt`` in ``("float64", "float32")``."""
    dtype = np.float64 if fmt == "float64" else np.float32
    xr = np.array([rounded(Fraction(v), fmt) for v in x], dtype=np.float64).astype(dtype)
    engine = "numpy float64" if fmt == "float64" else "numpy float32"
    y = None
    if fmt == "float32" and onnx_path is not None and Path(onnx_path).suffix.lower() == ".onnx":
        y = _onnxruntime_forward(onnx_path, xr)
        if y is not None:
            engine = "onnxruntime"
    if y is None:
        y = _numpy_forward(net, xr, dtype).astype(np.float64)
    return tuple(float(v) for v in xr), tuple(float(v) for v in y), engine


def replay(net: Network, prop: Property, x: Sequence[Fraction], onnx_path: str | None = None) -> Replay:
    """Whether the float64 and float32 networks violate ``prop`` at x rounded (module docstring)."""
    violated, points, outputs = {}, {}, {}
    engine = ""
    for fmt in ("float64", "float32"):
        xr, y, eng = float_outputs(net, x, fmt, onnx_path)
        if fmt == "float32":
            engine = eng
        finite = all(np.isfinite(v) for v in y)
        violated[fmt] = finite and prop.violated_at([Fraction(v) for v in xr], [Fraction(v) for v in y])
        points[fmt] = xr
        outputs[fmt] = y
    return Replay(violated, points, outputs, engine)
