"""Exact tensor maps: turning convolutions, pools, batch norms and reshapes into affine layers.

The ONNX and torch loaders both walk a graph of tensor operations. Between two
activations every tensor is an affine function of the last activation's output (or of
the network input): a `Tensor` keeps, for each of its entries, the row of that affine
function's coefficients and its constant, exactly (python-flint ``fmpq``). Linear
operations act on the leading axes and carry the coefficient rows along; an activation
closes the affine map as an `AffineLayer` and starts a new one (`LayerBuilder`).

A float weight becomes the exact dyadic rational it denotes (`exact_array`). The one
place where exactness is impossible is a batch norm's ``sqrt(var + eps)``: it is used
exactly when it is rational, else as its binary64 rounding, with an `InexactConversion`
warning.

>>> import numpy as np
>>> b = LayerBuilder((1, 1, 3, 3))
>>> kernel = exact_array(np.ones((1, 1, 2, 2)) / 4)
>>> t = conv(b.input(), kernel, None, strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1), group=1)
>>> t.shape
(1, 1, 2, 2)
>>> net = b.network(b.activate(t, "relu"))
>>> net.evaluate([0, 4, 0, 0, 0, 0, 0, 0, 8])
(Fraction(1, 1), Fraction(1, 1), Fraction(0, 1), Fraction(2, 1))
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import numpy as np
from flint import fmpq, fmpq_mat

from ..core.errors import InputError, InputLimit
from ..core.limits import active
from ..core.network import ActivationLayer, AffineLayer, Layer, Network, activation
from ..core.pooling import pool_windows

ZERO = fmpq(0)
ONE = fmpq(1)


class InexactConversion(UserWarning):
    """A value could not be converted exactly (it was rounded); the message says which."""


def exact_scalar(value: Any) -> fmpq:
    """The exact rational a float, int, Fraction or numeric string denotes.

    >>> exact_scalar(0.1)
    3602879701896397/36028797018963968
    """
    if isinstance(value, fmpq):
        return value
    if isinstance(value, Fraction):
        return fmpq(value.numerator, value.denominator)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return fmpq(int(value))
    f = float(value)
    if not math.isfinite(f):
        raise InputError(f"expected a finite number, got {f}")
    p, q = f.as_integer_ratio()
    return fmpq(p, q)


def exact_array(values: Any) -> np.ndarray:
    """A numpy object array of ``fmpq``: each float is the dyadic rational it denotes.

    >>> exact_array(np.array([0.5, -3.0], dtype=np.float32)).tolist()
    [1/2, -3]
    """
    arr = np.asarray(values)
    if arr.dtype == object:
        flat = [exact_scalar(v) for v in arr.ravel()]
    elif arr.dtype.kind in "iuf":
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise InputError("expected finite numbers, got NaN or an infinity")
        if arr.dtype.kind == "f":
            _within_magnitude(arr)
        flat = [exact_scalar(v) for v in arr.ravel().tolist()]
    else:
        raise InputError(f"expected a numeric array, got dtype {arr.dtype}")
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(arr.shape)


def _within_magnitude(arr: np.ndarray) -> None:
    """Floats of a file within the magnitude limit (`exactrelu.core.limits`): a weight of
    3.6e-307 read exactly is a number whose reciprocal no float step can take."""
    m = active().magnitude
    mags = np.abs(arr[arr != 0].astype(np.float64))
    if mags.size == 0 or m >= 308:
        return
    worst = mags.max() if mags.max() >= 10.0**m else mags.min() if mags.min() < 10.0**-m else None
    if worst is not None:
        raise InputLimit(f"expected 0 or numbers between 10^-{m} and 10^{m} in absolute value, got "
                         f"{worst:.3g} (raise the limit with --max-magnitude)")


def to_fraction(q: fmpq) -> Fraction:
    return Fraction(int(q.p), int(q.q))


@dataclass(frozen=True)
class Tensor:
    """An affine function of the current base (the last activation's output, or the input).

    ``coeffs`` has shape ``shape + (m + 1,)``: for every entry, its m coefficients over the
    base and then its constant. ``base`` numbers the activation layer it hangs from.
    """

    coeffs: np.ndarray
    base: int
    identity: bool = False

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.coeffs.shape[:-1])

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def rows(self) -> np.ndarray:
        return self.coeffs.reshape(self.size, self.coeffs.shape[-1])

    def with_coeffs(self, coeffs: np.ndarray) -> "Tensor":
        return Tensor(coeffs, self.base)


def _zeros(shape: Sequence[int]) -> np.ndarray:
    out = np.empty(tuple(shape), dtype=object)
    out.fill(ZERO)
    return out


def _identity_coeffs(shape: Sequence[int]) -> np.ndarray:
    n = int(np.prod(shape, dtype=np.int64))
    c = _zeros((n, n + 1))
    for i in range(n):
        c[i, i] = ONE
    return c.reshape(tuple(shape) + (n + 1,))


def _broadcast(t: Tensor, shape: Sequence[int]) -> np.ndarray:
    return np.broadcast_to(t.coeffs, tuple(shape) + (t.coeffs.shape[-1],))


def add_const(t: Tensor, c: np.ndarray) -> Tensor:
    """``t + c`` with numpy broadcasting (c exact)."""
    shape = np.broadcast_shapes(t.shape, np.shape(c))
    out = _broadcast(t, shape).copy()
    out[..., -1] = out[..., -1] + np.broadcast_to(c, shape)
    return t.with_coeffs(out)


def mul_const(t: Tensor, c: np.ndarray) -> Tensor:
    """``t * c`` with numpy broadcasting (c exact)."""
    c = np.asarray(c, dtype=object)
    shape = np.broadcast_shapes(t.shape, c.shape)
    return t.with_coeffs(_broadcast(t, shape) * np.broadcast_to(c, shape)[..., None])


def add(t: Tensor, u: Tensor) -> Tensor:
    """The sum of two tensors over the same base."""
    if t.base != u.base:
        raise InputError("expected both summands to depend on the same layer (skip connections are not supported)")
    shape = np.broadcast_shapes(t.shape, u.shape)
    return t.with_coeffs(_broadcast(t, shape) + _broadcast(u, shape))


def from_const(c: np.ndarray, like: Tensor) -> Tensor:
    """A constant as a tensor over ``like``'s base (zero coefficients)."""
    c = np.asarray(c, dtype=object)
    out = _zeros(c.shape + (like.coeffs.shape[-1],))
    out[..., -1] = c
    return Tensor(out, like.base)


def matmul(t: Tensor, w: np.ndarray) -> Tensor:
    """``t @ w`` (numpy matmul semantics; ``w`` a constant of rank 1 or 2)."""
    w = np.asarray(w, dtype=object)
    if w.ndim not in (1, 2) or len(t.shape) < 1:
        raise InputError(f"expected a MatMul with a weight of rank 1 or 2, got rank {w.ndim}")
    if t.shape[-1] != w.shape[0]:
        raise InputError(f"matrix product of shapes {t.shape} and {w.shape}: sizes do not match")
    c = t.coeffs
    if w.ndim == 1:
        res = np.tensordot(c, w, axes=([c.ndim - 2], [0]))  # shape[:-1] + (m+1,)
        return t.with_coeffs(res)
    k, m1 = c.shape[-2], c.shape[-1]
    batch = c.reshape(-1, k, m1)
    wt = w.T  # out[..., j, :] = sum_l w[l, j] c[..., l, :]
    out = np.stack([_product(wt, b) for b in batch]) if len(batch) else np.empty((0, w.shape[1], m1), dtype=object)
    return t.with_coeffs(out.reshape(c.shape[:-2] + (w.shape[1], m1)))


def _product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The exact product of two 2-D object arrays of ``fmpq`` (through flint's matrices)."""
    p, k = a.shape
    m = b.shape[1]
    if p == 0 or m == 0 or k == 0:
        return _zeros((p, m))
    prod = fmpq_mat(p, k, list(a.ravel())) * fmpq_mat(k, m, list(b.ravel()))
    out = np.empty(p * m, dtype=object)
    out[:] = prod.entries()
    return out.reshape(p, m)


def rmatmul(w: np.ndarray, t: Tensor) -> Tensor:
    """``w @ t`` (numpy matmul semantics; ``w`` a constant of rank 1 or 2)."""
    w = np.asarray(w, dtype=object)
    if w.ndim not in (1, 2):
        raise InputError(f"expected a MatMul with a weight of rank 1 or 2, got rank {w.ndim}")
    c = t.coeffs
    k_axis = c.ndim - 2 if len(t.shape) == 1 else c.ndim - 3
    if w.shape[-1] != c.shape[k_axis]:
        raise InputError(f"matrix product of shapes {w.shape} and {t.shape}: sizes do not match")
    if w.ndim == 2:
        moved = np.moveaxis(c, k_axis, 0)  # (k, …, m+1)
        res = _product(w, moved.reshape(moved.shape[0], -1)).reshape((w.shape[0],) + moved.shape[1:])
        return t.with_coeffs(np.moveaxis(res, 0, k_axis))
    res = np.tensordot(w, c, axes=([0], [k_axis]))  # w is a vector: contract it away
    return t.with_coeffs(res)


def take(t: Tensor, index: np.ndarray) -> Tensor:
    """Entries of ``t`` picked by an integer array of flat indices (any data movement)."""
    return t.with_coeffs(t.rows()[np.asarray(index, dtype=np.int64)])


def transpose(t: Tensor, perm: Sequence[int] | None = None) -> Tensor:
    idx = np.arange(t.size).reshape(t.shape)
    return take(t, np.transpose(idx, perm))


def reshape(t: Tensor, shape: Sequence[int]) -> Tensor:
    return take(t, np.arange(t.size).reshape(tuple(shape)))


def conv(
    t: Tensor,
    weight: np.ndarray,
    bias: np.ndarray | None,
    *,
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    group: int,
) -> Tensor:
    """A convolution (cross-correlation) of an ``(N, C, *spatial)`` tensor, as ONNX ``Conv``.

    ``pads`` lists the begin paddings of every spatial axis, then the end paddings.
    """
    shape = t.shape
    k = len(shape) - 2
    if k < 1 or weight.ndim != k + 2:
        raise InputError(f"expected a convolution input (N, C, ...) matching the kernel, got {shape} and {weight.shape}")
    n, c_in = shape[0], shape[1]
    c_out = weight.shape[0]
    if c_in % group or c_out % group or weight.shape[1] != c_in // group:
        raise InputError(f"convolution channels do not match: input {c_in}, kernel {weight.shape}, group {group}")
    ksize = weight.shape[2:]
    padded = _pad(t.coeffs, pads, k)
    out_sp = [
        (padded.shape[2 + i] - dilations[i] * (ksize[i] - 1) - 1) // strides[i] + 1 for i in range(k)
    ]
    if any(o < 1 for o in out_sp):
        raise InputError(f"the convolution's kernel {tuple(ksize)} does not fit the input {shape}")
    m1 = t.coeffs.shape[-1]
    out = _zeros((n, c_out, *out_sp, m1))
    cg_in, cg_out = c_in // group, c_out // group
    if t.identity:  # the map's own matrix: one sparse row per output, no dense products
        _conv_identity(out, weight, shape, ksize, out_sp, strides, pads, dilations, group)
        if bias is not None:
            out[..., -1] += np.asarray(bias, dtype=object).reshape((1, c_out) + (1,) * k)
        return t.with_coeffs(out)
    for offs in itertools.product(*(range(s) for s in ksize)):
        sl = tuple(
            slice(offs[i] * dilations[i], offs[i] * dilations[i] + strides[i] * (out_sp[i] - 1) + 1, strides[i])
            for i in range(k)
        )
        window = padded[(slice(None), slice(None)) + sl]  # (N, C, *out_sp, m1)
        for g in range(group):
            w = weight[(slice(g * cg_out, (g + 1) * cg_out), slice(None)) + offs]  # (cg_out, cg_in)
            part = np.tensordot(w, window[:, g * cg_in:(g + 1) * cg_in], axes=([1], [1]))
            out[:, g * cg_out:(g + 1) * cg_out] += np.moveaxis(part, 0, 1)
    if bias is not None:
        out[..., -1] += np.asarray(bias, dtype=object).reshape((1, c_out) + (1,) * k)
    return t.with_coeffs(out)


def _conv_identity(
    out: np.ndarray, weight: np.ndarray, shape: Sequence[int], ksize: Sequence[int], out_sp: Sequence[int],
    strides: Sequence[int], pads: Sequence[int], dilations: Sequence[int], group: int,
) -> None:
    """Fill ``out`` with the convolution's matrix acting on the identity (input entries by flat index)."""
    k = len(ksize)
    c_in, c_out = shape[1], weight.shape[0]
    cg_in, cg_out = c_in // group, c_out // group
    idx = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(tuple(shape))
    width = [(0, 0), (0, 0)] + [(pads[i], pads[i + k]) for i in range(k)]
    padded = np.pad(idx, width, constant_values=-1)
    flat = out.reshape(-1, out.shape[-1])
    rows_all = np.arange(flat.shape[0], dtype=np.int64).reshape(out.shape[:-1])
    for offs in itertools.product(*(range(s) for s in ksize)):
        sl = tuple(
            slice(offs[i] * dilations[i], offs[i] * dilations[i] + strides[i] * (out_sp[i] - 1) + 1, strides[i])
            for i in range(k)
        )
        window = padded[(slice(None), slice(None)) + sl]  # (N, C, *out_sp): input index or -1
        for o in range(c_out):
            g = o // cg_out
            rows = rows_all[:, o].ravel()
            for c in range(cg_in):
                cols = window[:, g * cg_in + c].ravel()
                keep = cols >= 0
                r, col = rows[keep], cols[keep]
                flat[r, col] = flat[r, col] + weight[(o, c) + offs]


def _pad(coeffs: np.ndarray, pads: Sequence[int], k: int) -> np.ndarray:
    if not any(pads):
        return coeffs
    if any(p < 0 for p in pads):
        raise InputError(f"expected nonnegative paddings, got {list(pads)}")
    width = [(0, 0), (0, 0)] + [(pads[i], pads[i + k]) for i in range(k)] + [(0, 0)]
    out = _zeros([s + a + b for s, (a, b) in zip(coeffs.shape, width)])
    out[tuple(slice(a, a + s) for s, (a, b) in zip(coeffs.shape, width))] = coeffs
    return out


def avg_pool(
    t: Tensor,
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    *,
    count_include_pad: bool = False,
    ceil_mode: bool = False,
) -> Tensor:
    """An average pool of an ``(N, C, *spatial)`` tensor: exact means over the windows."""
    shape = t.shape
    spatial = shape[2:]
    out_sp, windows = pool_windows(spatial, kernel, strides, pads, None, ceil_mode)
    n, c = shape[0], shape[1]
    rows = t.coeffs.reshape(n, c, int(np.prod(spatial)), t.coeffs.shape[-1])
    out = _zeros((n, c, len(windows), t.coeffs.shape[-1]))
    for j, win in enumerate(windows):
        inside = [int(np.ravel_multi_index(p, spatial)) for p, ok in win if ok]
        count = len(win) if count_include_pad else len(inside)
        out[:, :, j] = rows[:, :, inside].sum(axis=2) * fmpq(1, count)
    return t.with_coeffs(out.reshape((n, c, *out_sp, t.coeffs.shape[-1])))


def batch_norm(
    t: Tensor, scale: np.ndarray, shift: np.ndarray, mean: np.ndarray, var: np.ndarray, eps: Any, where: str
) -> Tensor:
    """Inference batch norm over axis 1: ``scale (x − mean) / sqrt(var + eps) + shift``.

    ``sqrt(var + eps)`` is used exactly when rational, else its binary64 rounding (warned).
    """
    eps_q = exact_scalar(eps)
    denom = []
    inexact = 0
    for v in np.asarray(var, dtype=object).ravel():
        root, is_exact = sqrt_rational(v + eps_q)
        inexact += not is_exact
        denom.append(root)
    if inexact:
        warnings.warn(
            f"{where}: sqrt(var + eps) is irrational for {inexact} of {len(denom)} channels; "
            "used its binary64 rounding (relative error below 2^-52)",
            InexactConversion,
            stacklevel=2,
        )
    c = len(denom)
    if len(t.shape) < 2 or t.shape[1] != c:
        raise InputError(f"{where}: expected {c} channels on axis 1, got the shape {t.shape}")
    bshape = (1, c) + (1,) * (len(t.shape) - 2)
    a = np.array([s / d for s, d in zip(np.asarray(scale, dtype=object).ravel(), denom)], dtype=object)
    shift_eff = np.asarray(shift, dtype=object).ravel() - a * np.asarray(mean, dtype=object).ravel()
    return add_const(mul_const(t, a.reshape(bshape)), shift_eff.reshape(bshape))


def sqrt_rational(q: fmpq) -> tuple[fmpq, bool]:
    """``(sqrt(q), True)`` when q is the square of a rational, else (its binary64 rounding, False).

    >>> sqrt_rational(fmpq(9, 4))
    (3/2, True)
    >>> sqrt_rational(fmpq(2))[1]
    False
    """
    if q < 0:
        raise InputError(f"expected a nonnegative variance plus eps, got {q}")
    p, d = int(q.p), int(q.q)
    rp, rd = math.isqrt(p), math.isqrt(d)
    if rp * rp == p and rd * rd == d:
        return fmpq(rp, rd), True
    scale = 4 ** 64  # 128 extra bits, then a correct rounding to binary64
    approx = Fraction(math.isqrt(p * d * scale), d * 2 ** 64)
    return exact_scalar(float(approx)), False


class LayerBuilder:
    """Collects the layers of a network while a loader walks its graph.

    >>> b = LayerBuilder((2,))
    >>> t = add_const(matmul(b.input(), exact_array(np.eye(2))), exact_array(np.array([1, -1])))
    >>> b.network(b.activate(t, "relu")).evaluate([1, 0])
    (Fraction(2, 1), Fraction(0, 1))
    """

    def __init__(self, input_shape: Sequence[int]) -> None:
        self.input_shape = tuple(int(s) for s in input_shape)
        if any(s < 1 for s in self.input_shape):
            raise InputError(f"expected a positive input shape, got {self.input_shape}")
        self.input_dim = int(np.prod(self.input_shape, dtype=np.int64))
        self.layers: list[Layer] = []
        self.base = 0

    def input(self) -> Tensor:
        return Tensor(_identity_coeffs(self.input_shape), 0, True)

    def check(self, t: Tensor, where: str) -> None:
        if t.base != self.base:
            raise InputError(
                f"{where}: uses a tensor from before a later activation "
                "(skip and residual connections are not supported)"
            )

    def _close(self, t: Tensor, where: str) -> None:
        self.check(t, where)
        if t.identity:
            return
        rows = t.rows()
        zero = Fraction(0)

        def frac(v: fmpq) -> Fraction:  # most entries of conv and pool maps are zero
            return to_fraction(v) if v else zero

        weight = tuple(tuple(frac(v) for v in row[:-1]) for row in rows)
        bias = tuple(frac(v) for v in rows[:, -1])
        self.layers.append(AffineLayer(weight, bias))

    def _open(self, shape: Sequence[int]) -> Tensor:
        self.base += 1
        return Tensor(_identity_coeffs(shape), self.base, True)

    def activate(self, t: Tensor, kind: str, where: str = "", **params: Any) -> Tensor:
        """Apply an activation of the case format (``activation(kind, **params)``) entrywise.

        For ``prelu`` pass ``alpha`` as one value per entry of ``t`` (row-major).
        """
        self._close(t, where)
        layer = activation(kind, **params)
        if layer.per_neuron and len(layer.functions) != t.size:
            raise InputError(f"{where}: expected {t.size} per-neuron parameters, got {len(layer.functions)}")
        self.layers.append(layer)
        return self._open(t.shape)

    def activate_layer(self, t: Tensor, layer: ActivationLayer, where: str = "") -> Tensor:
        """Apply a ready-made activation layer entrywise."""
        self._close(t, where)
        self.layers.append(layer)
        return self._open(t.shape)

    def max_groups(self, t: Tensor, groups: Sequence[Sequence[int]], out_shape: Sequence[int], where: str) -> Tensor:
        """The max over each group of flat indices of ``t``, exactly, by pairwise
        ``max(a, b) = a + relu(b − a)``: one activation layer per halving, where the
        carried entries pass through an identity (a spline without knots)."""
        from ..core.activations import relu, spline

        ident = spline((), (Fraction(1),), Fraction(0))
        cur = t
        cands = [list(g) for g in groups]
        if any(not g for g in cands):
            raise InputError(f"{where}: a pooling window holds no input entry")
        while any(len(g) > 1 for g in cands):
            rows = cur.rows()
            new_rows, fns, nxt = [], [], []
            for g in cands:
                merged = []
                for i in range(0, len(g) - 1, 2):
                    a, b = g[i], g[i + 1]
                    new_rows += [rows[a], rows[b] - rows[a]]
                    fns += [ident, relu()]
                    merged.append((len(new_rows) - 2, len(new_rows) - 1))
                if len(g) % 2:
                    new_rows.append(rows[g[-1]])
                    fns.append(ident)
                    merged.append((len(new_rows) - 1,))
                nxt.append(merged)
            stacked = np.array(new_rows, dtype=object).reshape(len(new_rows), rows.shape[1])
            pre = cur.with_coeffs(stacked)
            post = self.activate_layer(pre, ActivationLayer("spline", tuple(fns), per_neuron=True), where)
            prow = post.rows()
            sums = []
            for merged in nxt:
                for parts in merged:
                    sums.append(sum((prow[i] for i in parts[1:]), prow[parts[0]].copy()))
            cur = post.with_coeffs(np.array(sums, dtype=object).reshape(len(sums), prow.shape[1]))
            counter = iter(range(len(sums)))
            cands = [[next(counter) for _ in merged] for merged in nxt]
        return take(cur, np.array([g[0] for g in cands]).reshape(tuple(out_shape)))

    def network(self, out: Tensor, name: str = "", source: str = "") -> Network:
        """Close the last affine map and build the network."""
        self._close(out, "output")
        if not self.layers:
            self.layers.append(AffineLayer(*_identity_rows(self.input_dim)))
        return Network.from_layers(self.input_dim, self.layers, name, source)


def _identity_rows(n: int) -> tuple[tuple[tuple[Fraction, ...], ...], tuple[Fraction, ...]]:
    return (
        tuple(tuple(Fraction(int(i == j)) for j in range(n)) for i in range(n)),
        tuple(Fraction(0) for _ in range(n)),
    )


def max_pool(
    builder: LayerBuilder,
    t: Tensor,
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int] | None = None,
    ceil_mode: bool = False,
    where: str = "",
) -> Tensor:
    """A max pool of an ``(N, C, *spatial)`` tensor, exactly (padding never wins a max)."""
    shape = t.shape
    spatial = shape[2:]
    out_sp, windows = pool_windows(spatial, kernel, strides, pads, dilations, ceil_mode)
    idx = np.arange(t.size).reshape(shape[0], shape[1], -1)
    groups, out_shape = [], (shape[0], shape[1], *out_sp)
    for nn in range(shape[0]):
        for c in range(shape[1]):
            for win in windows:
                groups.append([int(idx[nn, c, np.ravel_multi_index(p, spatial)]) for p, ok in win if ok])
    return builder.max_groups(t, groups, out_shape, where)
