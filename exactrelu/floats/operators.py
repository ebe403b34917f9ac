"""The float operator graph of real layers: affine operators, explicit and implicit.

A network too large for exact enumeration is kept here as a sequence of float64
layers: affine operators (`Linear`, `Conv2d`, `Scale`, `Reshape`, `Gather`; an
average pool is a grouped `Conv2d`, a batch-norm in inference mode a folded `Scale`)
and coordinate-wise PL activations (`Activation`). A max-pool is piecewise linear but
not coordinate-wise: by default it becomes exact stages of ``max(a, b) = a + relu(b − a)``
(`max_pool`: sparse `Gather` maps around activations that are a ReLU or the identity
per neuron, slopes in {0, 1}, so every K bound applies), or, as an option, one `MaxPool`
node inside a block (not affine: only K_star and K3 apply, much tighter). Every affine
operator can be used

- *explicitly*: `matrix()` gives its dense float64 matrix (rows are outputs), and
- *implicitly*: ``apply(x, k)`` and ``apply_t(y, k)`` apply it and its transpose to
  a batch of flattened vectors, with the primitives ``k`` of a backend
  (`NUMPY_KERNELS` here, torch's in `exactrelu.floats.torch`), so that
  convolutions never become matrices.

``terms`` / ``terms_t`` count the products summed per output of ``apply`` /
``apply_t``: the float backends use them in their rounding-error bounds.

Build one from an exact `Network` (`from_network`), or from a torch module with
`exactrelu.io.torch.operators_from_torch`; `to_network` turns one back into an exact
`Network` whose weights are the exact binary values of the floats (convolutions become
explicit affine layers).

>>> import numpy as np
>>> net = OperatorNetwork.build((1, 3, 3), [
...     Conv2d.create(np.ones((2, 1, 2, 2)), None, (1, 3, 3)),
...     Activation.relu(8), Reshape((2, 2, 2), (8,)),
...     Linear.create(np.ones((1, 8)), [0.5])])
>>> net.output_size, [len(b) for b in net.blocks], net.widths
(1, [1, 2], (8,))
>>> float(net.evaluate(np.arange(9.0).reshape(1, 9))[0, 0])
128.5

A 2x2 max-pool of a 1x2x4 input: two windows of four, two halvings each.

>>> pool = OperatorNetwork.build((1, 2, 4), max_pool((1, 2, 4), 2))
>>> pool.widths, pool.evaluate(np.array([[1.0, -2.0, 5.0, 0.0, 3.0, 0.5, -1.0, 4.0]])).tolist()
((8, 4), [[3.0, 5.0]])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any, Mapping, Protocol, Sequence

import numpy as np

from ..core.errors import InputError

Array = Any  # a numpy array or a torch tensor


class Kernels(Protocol):
    """The primitives an array library gives the operators (numpy's or torch's)."""

    def asarray(self, a: np.ndarray) -> Array: ...

    def matmul(self, a: Array, b: Array) -> Array: ...

    def conv2d(self, x: Array, w: Array, stride: tuple[int, int], padding: tuple[int, int], groups: int) -> Array: ...

    def conv2d_t(
        self, y: Array, w: Array, stride: tuple[int, int], padding: tuple[int, int], groups: int, in_hw: tuple[int, int]
    ) -> Array: ...


def _finite(a: np.ndarray, path: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        raise InputError(f"expected finite numbers, got {a[bad]} at index {list(bad)}", path=path)
    return a


def _bias_vector(bias: Any, n: int, path: str = "bias") -> np.ndarray:
    """``n`` finite biases (zeros when None); `InputError` otherwise."""
    b = np.zeros(n) if bias is None else _finite(bias, path).reshape(-1)
    if b.shape != (n,):
        raise InputError(f"expected {n} biases, got {b.size}", path="bias")
    return b


def _size(shape: Sequence[int]) -> int:
    return int(np.prod(shape)) if len(shape) else 1


# --------------------------------------------------------------------------- affine operators


@dataclass(frozen=True, eq=False)
class Linear:
    """``x -> W x + b`` (``weight`` of shape (out, in))."""

    weight: np.ndarray
    bias: np.ndarray
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]

    @classmethod
    def create(cls, weight: Any, bias: Any = None, path: str = "weight") -> "Linear":
        w = _finite(weight, path)
        if w.ndim != 2 or w.size == 0:
            raise InputError(f"expected a nonempty 2-d weight, got shape {w.shape}", path=path)
        b = _bias_vector(bias, w.shape[0], path.rsplit(".", 1)[0] + ".bias")
        return cls(w, b, (w.shape[1],), (w.shape[0],))

    @property
    def terms(self) -> int:
        return self.weight.shape[1]

    @property
    def terms_t(self) -> int:
        return self.weight.shape[0]

    def apply(self, x: Array, k: Kernels) -> Array:
        return k.matmul(x, k.asarray(self.weight.T))

    def apply_t(self, y: Array, k: Kernels) -> Array:
        return k.matmul(y, k.asarray(self.weight))

    def absolute(self) -> "Linear":
        return Linear(np.abs(self.weight), np.zeros_like(self.bias), self.in_shape, self.out_shape)

    def matrix(self) -> np.ndarray:
        return self.weight


@dataclass(frozen=True, eq=False)
class Conv2d:
    """A 2-d convolution (cross-correlation, as torch computes it) with zero padding.

    ``weight``: (out channels, in channels / groups, kh, kw); ``in_shape``: (C, H, W).
    """

    weight: np.ndarray
    bias: np.ndarray
    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    groups: int = 1

    @classmethod
    def create(
        cls,
        weight: Any,
        bias: Any,
        in_shape: Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        groups: int = 1,
        path: str = "weight",
    ) -> "Conv2d":
        w = _finite(weight, path)
        if w.ndim != 4:
            raise InputError(f"expected a 4-d convolution kernel, got shape {w.shape}", path=path)
        st = _pair(stride, "stride")
        pad = _pair(padding, "padding", minimum=0)
        if len(in_shape) != 3:
            raise InputError(f"expected an input of shape (C, H, W), got {tuple(in_shape)}", path=path)
        c, h, wd = (int(v) for v in in_shape)
        co, cig, kh, kw = w.shape
        if groups < 1 or c % groups or co % groups or cig * groups != c:
            raise InputError(
                f"expected {c} input channels = {cig} per group x {groups} groups", path=path
            )
        ho = (h + 2 * pad[0] - kh) // st[0] + 1
        wo = (wd + 2 * pad[1] - kw) // st[1] + 1
        if ho < 1 or wo < 1:
            raise InputError(f"a {kh}x{kw} kernel does not fit a {h}x{wd} input with padding {pad}", path=path)
        b = _bias_vector(bias, co)
        return cls(w, b, (c, h, wd), (co, ho, wo), st, pad, int(groups))

    @property
    def terms(self) -> int:
        return int(np.prod(self.weight.shape[1:]))

    @property
    def terms_t(self) -> int:
        co, _, kh, kw = self.weight.shape
        return co // self.groups * kh * kw

    @cached_property
    def bias_full(self) -> np.ndarray:
        return np.repeat(self.bias, self.out_shape[1] * self.out_shape[2])

    def apply(self, x: Array, k: Kernels) -> Array:
        y = k.conv2d(x.reshape((-1,) + self.in_shape), k.asarray(self.weight), self.stride, self.padding, self.groups)
        return y.reshape((-1, _size(self.out_shape)))

    def apply_t(self, y: Array, k: Kernels) -> Array:
        x = k.conv2d_t(
            y.reshape((-1,) + self.out_shape), k.asarray(self.weight), self.stride, self.padding, self.groups,
            self.in_shape[1:],
        )
        return x.reshape((-1, _size(self.in_shape)))

    def absolute(self) -> "Conv2d":
        return Conv2d(np.abs(self.weight), np.zeros_like(self.bias), self.in_shape, self.out_shape,
                      self.stride, self.padding, self.groups)

    def matrix(self) -> np.ndarray:
        n = _size(self.in_shape)
        return self.apply(np.eye(n), NUMPY_KERNELS).T.copy()


@dataclass(frozen=True, eq=False)
class Scale:
    """``x -> s ⊙ x + b`` elementwise (a folded batch-norm, a per-channel scale)."""

    scale: np.ndarray
    shift: np.ndarray
    in_shape: tuple[int, ...]

    @property
    def out_shape(self) -> tuple[int, ...]:
        return self.in_shape

    @property
    def bias(self) -> np.ndarray:
        return self.shift

    terms = 1
    terms_t = 1

    def apply(self, x: Array, k: Kernels) -> Array:
        return x * k.asarray(self.scale)

    def apply_t(self, y: Array, k: Kernels) -> Array:
        return y * k.asarray(self.scale)

    def absolute(self) -> "Scale":
        return Scale(np.abs(self.scale), np.zeros_like(self.shift), self.in_shape)

    def matrix(self) -> np.ndarray:
        return np.diag(self.scale)


@dataclass(frozen=True, eq=False)
class Reshape:
    """A change of shape (``Flatten``): the identity on the flattened vector."""

    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]

    def __post_init__(self) -> None:
        if _size(self.in_shape) != _size(self.out_shape):
            raise InputError(f"cannot reshape {self.in_shape} to {self.out_shape}", path="shape")

    terms = 1
    terms_t = 1

    @property
    def bias(self) -> np.ndarray:
        return np.zeros(_size(self.out_shape))

    def apply(self, x: Array, k: Kernels) -> Array:
        return x

    def apply_t(self, y: Array, k: Kernels) -> Array:
        return y

    def absolute(self) -> "Reshape":
        return self

    def matrix(self) -> np.ndarray:
        return np.eye(_size(self.in_shape))


@dataclass(frozen=True, eq=False)
class Gather:
    """A sparse affine map: output ``i`` is ``Σ_j coef[i, j] · x[index[i, j]] + bias[i]``.

    Rows are padded to a common width with index 0 and coefficient 0; the transpose is
    stored the same way (``index_t``, ``coef_t``: one row per input), so that both
    ``apply`` and ``apply_t`` are gathers. A max-pool's stages are built of these.

    >>> g = Gather.create([{0: 1.0, 2: -1.0}, {1: 2.0}], (3,))
    >>> g.terms, g.terms_t, g.matrix().tolist()
    (2, 1, [[1.0, 0.0, -1.0], [0.0, 2.0, 0.0]])
    >>> g.apply(np.array([[1.0, 2.0, 3.0]]), NUMPY_KERNELS).tolist()
    [[-2.0, 4.0]]
    """

    index: np.ndarray  # (out, k) int64
    coef: np.ndarray  # (out, k)
    index_t: np.ndarray  # (in, k_t) int64
    coef_t: np.ndarray  # (in, k_t)
    bias: np.ndarray
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]

    @classmethod
    def create(
        cls, rows: Sequence[Mapping[int, Any]], in_shape: Sequence[int], out_shape: Sequence[int] | None = None,
        bias: Any = None, path: str = "rows",
    ) -> "Gather":
        """From one ``{input index: coefficient}`` mapping per output (flat indices)."""
        in_shape = tuple(int(s) for s in in_shape)
        out_shape = (len(rows),) if out_shape is None else tuple(int(s) for s in out_shape)
        n_in, n_out = _size(in_shape), len(rows)
        if _size(out_shape) != n_out or n_out == 0:
            raise InputError(f"expected {_size(out_shape)} rows (a nonempty output of shape {out_shape}), "
                             f"got {n_out}", path=path)
        k = max(1, max(len(r) for r in rows))
        index = np.zeros((n_out, k), dtype=np.int64)
        coef = np.zeros((n_out, k))
        for i, row in enumerate(rows):
            items = sorted((int(j), v) for j, v in row.items())
            if any(not 0 <= j < n_in for j, _ in items):
                raise InputError(f"expected input indices in [0, {n_in}), got {[j for j, _ in items]}",
                                 path=f"{path}[{i}]")
            index[i, : len(items)] = [j for j, _ in items]
            coef[i, : len(items)] = _finite([v for _, v in items], f"{path}[{i}]")
        b = _bias_vector(bias, n_out)
        r, slot = np.nonzero(coef)
        cols, vals = index[r, slot], coef[r, slot]
        order = np.argsort(cols, kind="stable")
        cols, r, vals = cols[order], r[order], vals[order]
        counts = np.bincount(cols, minlength=n_in)
        k_t = max(1, int(counts.max()) if n_in else 1)
        at = np.arange(len(cols)) - np.concatenate(([0], np.cumsum(counts)[:-1]))[cols]
        index_t = np.zeros((n_in, k_t), dtype=np.int64)
        coef_t = np.zeros((n_in, k_t))
        index_t[cols, at], coef_t[cols, at] = r, vals
        return cls(index, coef, index_t, coef_t, b, in_shape, out_shape)

    @property
    def terms(self) -> int:
        return self.index.shape[1]

    @property
    def terms_t(self) -> int:
        return self.index_t.shape[1]

    def apply(self, x: Array, k: Kernels) -> Array:
        return (x[:, _index(self.index, x)] * k.asarray(self.coef)).sum(-1)

    def apply_t(self, y: Array, k: Kernels) -> Array:
        return (y[:, _index(self.index_t, y)] * k.asarray(self.coef_t)).sum(-1)

    def absolute(self) -> "Gather":
        return Gather(self.index, np.abs(self.coef), self.index_t, np.abs(self.coef_t), np.zeros_like(self.bias),
                      self.in_shape, self.out_shape)

    def matrix(self) -> np.ndarray:
        m = np.zeros((self.index.shape[0], _size(self.in_shape)))
        rows = np.repeat(np.arange(self.index.shape[0]), self.terms)
        np.add.at(m, (rows, self.index.reshape(-1)), self.coef.reshape(-1))
        return m


def _index(index: np.ndarray, x: Array) -> Array:
    if isinstance(x, np.ndarray):
        return index
    import torch

    return torch.as_tensor(index, device=x.device)


@dataclass(frozen=True, eq=False)
class MaxPool:
    """A native max-pool node: output ``i`` is ``max_j x[index[i, j]]`` over window ``i``.

    Not affine, but piecewise linear and Lipschitz: off ties its Jacobian is a
    *selection matrix* ``S(x)`` (row ``i`` has one 1, at the window's argmax; at ties the
    first maximum of the window, as torch's CPU kernel). It sits inside a block, between
    affine operators. ``index`` is (out, k), a window shorter than ``k`` padded by
    repeating its first index (the max is unchanged); ``sizes`` holds the true lengths;
    ``windows`` is the 0/1 window-membership map ``A`` as a `Gather` (``A[i, j] = 1`` iff
    input j lies in window i, so ``S ≤ A`` entrywise for every selection S);
    ``overlap`` = the most windows any input belongs to.

    What the float bounds use (`exactrelu.floats.bounds`), for nonnegative batches:

    - ``apply(v)`` = the window max: ``apply(v) ≥ S v`` for every selection S (each row
      of ``S v`` is one entry of its window), and for all x, y
      ``|apply(x) − apply(y)| ≤ apply(|x − y|)`` entrywise;
    - ``apply_t(w)`` is **not a transpose** (a max-pool has none): it is the window-sum
      bound ``Aᵀ w ≥ Sᵀ w`` for every selection S and w ≥ 0 (each input gets the sum of w
      over the windows containing it), and ``|apply(x) − apply(y)| ≤ A |x − y|``;
    - ``absolute()`` is the node itself; ``terms = 1`` (a max is exact in floats: 1 is a
      safe overcount), ``terms_t = overlap`` (the window sums' terms); ``matrix()``
      raises `InputError`.

    >>> p = MaxPool.create([[0, 1], [1, 2, 3]], (4,))
    >>> p.index.tolist(), p.overlap, p.apply(np.array([[1.0, 5.0, -2.0, 7.0]]), NUMPY_KERNELS).tolist()
    ([[0, 1, 0], [1, 2, 3]], 2, [[5.0, 7.0]])
    >>> p.apply_t(np.array([[1.0, 10.0]]), NUMPY_KERNELS).tolist()
    [[1.0, 11.0, 10.0, 10.0]]
    """

    index: np.ndarray  # (out, k) int64, padded by repeating each window's first index
    sizes: np.ndarray  # (out,) int64
    windows: Gather
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]

    @classmethod
    def create(cls, groups: Sequence[Sequence[int]], in_shape: Sequence[int], out_shape: Sequence[int] | None = None,
               path: str = "groups") -> "MaxPool":
        """From one window (a nonempty list of flat input indices, in scan order) per output."""
        in_shape = tuple(int(s) for s in in_shape)
        out_shape = (len(groups),) if out_shape is None else tuple(int(s) for s in out_shape)
        if any(not g for g in groups):
            raise InputError("a pooling window holds no input entry (it lies in the padding)", path=path)
        windows = Gather.create([{int(j): 1.0 for j in g} for g in groups], in_shape, out_shape, path=path)
        k = max(len(g) for g in groups)
        index = np.array([[int(j) for j in g] + [int(g[0])] * (k - len(g)) for g in groups], dtype=np.int64)
        return cls(index, np.array([len(g) for g in groups], dtype=np.int64), windows, in_shape, out_shape)

    @property
    def overlap(self) -> int:
        return self.windows.terms_t

    @property
    def bias(self) -> np.ndarray:
        return np.zeros(self.index.shape[0])

    terms = 1

    @property
    def terms_t(self) -> int:
        return self.overlap

    def groups(self) -> list[list[int]]:
        """The windows as lists of flat input indices (without the padding)."""
        return [row[:n].tolist() for row, n in zip(self.index, self.sizes)]

    def apply(self, x: Array, k: Kernels) -> Array:
        v = x[:, _index(self.index, x)]
        return v.max(-1) if isinstance(v, np.ndarray) else v.amax(-1)

    def apply_t(self, y: Array, k: Kernels) -> Array:
        """The window-sum bound ``Aᵀ y`` (≥ ``Sᵀ y`` for every selection S when y ≥ 0), not a transpose."""
        return self.windows.apply_t(y, k)

    def absolute(self) -> "MaxPool":
        return self

    def matrix(self) -> np.ndarray:
        raise InputError("a max-pool node is not affine: it has no matrix", path="max_pool")

    def winners(self, x: Array) -> Array:
        """For a batch (B, in), the flat input index of each window's first maximum (B, out)."""
        idx = _index(self.index, x)
        slot = x[:, idx].argmax(-1)  # the first maximum, in numpy and torch alike
        return _take_rows(idx, slot)

    def route_t(self, g: Array, winners: Array) -> Array:
        """``S(x)ᵀ`` applied to a batch of row vectors ``g`` (B·m, out) whose ``m`` consecutive rows
        share a point with winners (B, out): each row's entries added at their windows' argmax."""
        B, n_out = winners.shape
        m = g.shape[0] // B
        n_in = _size(self.in_shape)
        if isinstance(g, np.ndarray):
            flat = (np.arange(B * m).reshape(B, m, 1) * n_in + winners.reshape(B, 1, n_out)).reshape(-1)
            return np.bincount(flat, weights=g.reshape(-1), minlength=B * m * n_in).reshape(B * m, n_in)
        out = g.new_zeros((B, m, n_in))
        out.scatter_add_(2, winners.reshape(B, 1, n_out).expand(B, m, n_out), g.reshape(B, m, n_out))
        return out.reshape(B * m, n_in)


def _take_rows(idx: Array, slot: Array) -> Array:
    """``idx[i, slot[b, i]]`` for every batch row b: (B, out)."""
    rows = np.arange(idx.shape[0]) if isinstance(idx, np.ndarray) else _index(np.arange(idx.shape[0]), idx)
    return idx[rows, slot]


Affine = Linear | Conv2d | Scale | Reshape | Gather
BlockOp = Affine | MaxPool  # what a block holds: affine operators and max-pool nodes


def avg_pool2d(in_shape: Sequence[int], kernel: int | Sequence[int], stride: Any = None, padding: Any = 0) -> Conv2d:
    """An average pool (zeros in the padding counted, as torch's default) as a grouped convolution.

    >>> p = avg_pool2d((1, 2, 2), 2)
    >>> p.out_shape, p.matrix().tolist()
    ((1, 1, 1), [[0.25, 0.25, 0.25, 0.25]])
    """
    kh, kw = _pair(kernel, "kernel_size")
    st = _pair(stride if stride is not None else (kh, kw), "stride")
    c = int(in_shape[0])
    w = np.full((c, 1, kh, kw), 1.0 / (kh * kw))
    return Conv2d.create(w, None, in_shape, st, padding, groups=c, path="kernel_size")


def batch_norm(in_shape: Sequence[int], mean: Any, var: Any, weight: Any, bias: Any, eps: float) -> Scale:
    """A batch-norm in inference mode, folded: ``s = γ / sqrt(var + eps)``, ``b = β − s·mean``
    (per channel, the first axis of ``in_shape``). The float folding defines the model."""
    mean, var = _finite(mean, "running_mean"), _finite(var, "running_var")
    gamma = np.ones_like(mean) if weight is None else _finite(weight, "weight")
    beta = np.zeros_like(mean) if bias is None else _finite(bias, "bias")
    if np.any(var + eps <= 0):
        raise InputError("expected running_var + eps > 0", path="running_var")
    s = gamma / np.sqrt(var + eps)
    shift = beta - s * mean
    spatial = _size(in_shape[1:])
    if len(s) != in_shape[0]:
        raise InputError(f"expected {in_shape[0]} channels, got {len(s)}", path="running_mean")
    return Scale(np.repeat(s, spatial), np.repeat(shift, spatial), tuple(in_shape))


def max_pool(
    in_shape: Sequence[int], kernel: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
    ceil_mode: bool = False, path: str = "kernel_size", node: bool = False,
) -> list[Layer]:
    """A max pool over the spatial axes of a ``(C, *spatial)`` input (1 or 2 spatial axes),
    as torch computes it (padding never wins a max; ``ceil_mode`` as torch's): the layers
    of `max_groups` over its windows, the last one of shape ``(C, *output spatial)``; with
    ``node``, one `MaxPool` node over the same windows (each in torch's scan order).

    >>> layers = max_pool((1, 2, 2), 2)
    >>> [type(l).__name__ for l in layers], layers[-1].out_shape
    (['Gather', 'Activation', 'Gather', 'Activation', 'Gather'], (1, 1, 1))
    >>> net = OperatorNetwork.build((1, 2, 2), layers)
    >>> net.evaluate(np.array([[3.0, -1.0, 7.0, 5.0]])).tolist()
    [[7.0]]
    >>> [node] = max_pool((1, 2, 2), 2, node=True)
    >>> node.index.tolist(), OperatorNetwork.build((1, 2, 2), [node]).evaluate(np.array([[3.0, -1.0, 7.0, 5.0]]))
    ([[0, 1, 2, 3]], array([[7.]]))
    """
    from ..core.pooling import pool_windows

    k = len(in_shape) - 1
    if k not in (1, 2):
        raise InputError(f"expected an input of shape (C, L) or (C, H, W), got {tuple(in_shape)}", path=path)
    ks = _ints(kernel, k, path)
    st = _ints(stride if stride is not None else ks, k, "stride")
    pad = _ints(padding, k, "padding", minimum=0)
    dil = _ints(dilation, k, "dilation")
    half = tuple(((q - 1) * d + 1) // 2 for q, d in zip(ks, dil))
    if any(p > h for p, h in zip(pad, half)):
        raise InputError(f"expected a padding of at most half the (dilated) kernel, {half}, got {pad}", path="padding")
    spatial = tuple(int(s) for s in in_shape[1:])
    try:
        out_sp, windows = pool_windows(spatial, ks, st, pad * 2, dil, bool(ceil_mode))
    except InputError as e:
        raise InputError(e.message, path=path) from None
    plane = _size(spatial)
    groups = [[c * plane + int(np.ravel_multi_index(p, spatial)) for p, inside in win if inside]
              for c in range(int(in_shape[0])) for win in windows]
    if node:
        return [MaxPool.create(groups, in_shape, (int(in_shape[0]), *out_sp), path)]
    return max_groups(groups, in_shape, (int(in_shape[0]), *out_sp), path)


def max_groups(
    groups: Sequence[Sequence[int]], in_shape: Sequence[int], out_shape: Sequence[int], path: str = "groups"
) -> list[Layer]:
    """The max over each group of flat input indices, exactly, by pairwise
    ``max(a, b) = a + relu(b − a)``: per halving of the groups a `Gather` forms ``a`` and
    ``b − a`` (an odd entry is carried alone), an `Activation` passes ``a`` through the
    identity and ``b − a`` through a ReLU, and the next `Gather` adds the two (merged with
    the next halving's). ⌈log2(largest group)⌉ activation layers, slopes in {0, 1}.

    >>> layers = max_groups([[0, 1, 2]], (3,), (1,))
    >>> len(layers), layers[1].kind, layers[1].slope0.tolist()
    (5, 'spline', [1.0, 0.0, 1.0])
    >>> float(OperatorNetwork.build((3,), layers).evaluate(np.array([[1.0, 4.0, 2.5]]))[0, 0])
    4.0
    """
    if any(not g for g in groups):
        raise InputError("a pooling window holds no input entry (it lies in the padding)", path=path)
    cands: list[list[dict[int, float]]] = [[{int(i): 1.0} for i in g] for g in groups]
    layers: list[Layer] = []
    shape = tuple(int(s) for s in in_shape)
    while any(len(g) > 1 for g in cands):
        rows: list[dict[int, float]] = []
        relu: list[bool] = []
        nxt = []
        for g in cands:
            merged = []
            for i in range(0, len(g) - 1, 2):
                a, b = g[i], g[i + 1]
                diff = dict(b)
                for j, v in a.items():
                    diff[j] = diff.get(j, 0.0) - v
                rows += [a, {j: v for j, v in diff.items() if v}]
                relu += [False, True]
                merged.append({len(rows) - 2: 1.0, len(rows) - 1: 1.0})
            if len(g) % 2:
                rows.append(g[-1])
                relu.append(False)
                merged.append({len(rows) - 1: 1.0})
            nxt.append(merged)
        layers += [Gather.create(rows, shape, path=path), Activation.relu_or_identity(relu)]
        shape = (len(rows),)
        cands = nxt
    layers.append(Gather.create([g[0] for g in cands], shape, out_shape, path=path))
    return layers


def _ints(v: Any, k: int, path: str, minimum: int = 1) -> tuple[int, ...]:
    ints = (v,) * k if isinstance(v, (int, np.integer)) else tuple(v)
    if len(ints) != k or any(int(p) != p or p < minimum for p in ints):
        raise InputError(f"expected an integer >= {minimum} or {k} of them, got {v!r}", path=path)
    return tuple(int(p) for p in ints)


def _pair(v: Any, path: str, minimum: int = 1) -> tuple[int, int]:
    a, b = _ints(v, 2, path, minimum)
    return a, b


# --------------------------------------------------------------------------- activations


@dataclass(frozen=True, eq=False)
class Activation:
    """A coordinate-wise continuous PL activation, one function per neuron, in float64.

    ``f(t) = value + slopes[0]·(t − first) + Σ_j jumps[j]·relu(t − knots[j])`` with
    ``first`` the first knot (0 when none). Arrays have one row per neuron; unused
    knot slots hold ``+inf`` with jump 0. ``lo``/``hi`` enclose every slope of each
    neuron (widened outward when a rational slope is not a float).
    """

    kind: str
    knots: np.ndarray  # (n, J)
    jumps: np.ndarray  # (n, J)
    slope0: np.ndarray  # (n,)
    first: np.ndarray  # (n,)
    value: np.ndarray  # (n,)
    lo: np.ndarray
    hi: np.ndarray
    exact_slopes: bool = True
    slope_sets: tuple[tuple[float, ...], ...] = field(default=(), repr=False)

    @property
    def size(self) -> int:
        return len(self.slope0)

    @classmethod
    def relu(cls, n: int) -> "Activation":
        return cls.leaky(n, 0.0, "relu")

    @classmethod
    def leaky(cls, n: int, alpha: float, kind: str = "leaky_relu") -> "Activation":
        return cls.from_pieces(n, [[0.0]] * n, [[alpha, 1.0]] * n, [0.0] * n, kind)

    @classmethod
    def relu_or_identity(cls, relu: Sequence[bool]) -> "Activation":
        """A ReLU on the neurons where ``relu`` holds, the identity (slope 1, no knot) on the
        others: the stages of `max_groups`. The same arrays as `from_pieces` gives.

        >>> a = Activation.relu_or_identity([True, False])
        >>> a.kind, a(np.array([[-2.0, -2.0]])).tolist(), a.lo.tolist(), a.hi.tolist()
        ('spline', [[0.0, -2.0]], [0.0, 1.0], [1.0, 1.0])
        """
        m = np.asarray(relu, dtype=bool).reshape(-1)
        n = len(m)
        slope0 = np.where(m, 0.0, 1.0)
        return cls("relu" if m.all() else "spline", np.where(m, 0.0, np.inf).reshape(n, 1),
                   m.astype(np.float64).reshape(n, 1), slope0, np.zeros(n), np.zeros(n), slope0.copy(), np.ones(n),
                   True, tuple((0.0, 1.0) if r else (1.0,) for r in m))

    @classmethod
    def from_pieces(
        cls, n: int, knots: Sequence[Sequence[Any]], slopes: Sequence[Sequence[Any]], values: Sequence[Any],
        kind: str = "spline",
    ) -> "Activation":
        """From each neuron's knots, slopes (one per piece) and value at its first knot (or 0).

        Rationals are rounded to floats; slopes that are not floats widen ``lo``/``hi``.
        """
        J = max((len(k) for k in knots), default=0)
        K = np.full((n, J), np.inf)
        D = np.zeros((n, J))
        s0, first, val = np.zeros(n), np.zeros(n), np.zeros(n)
        lo, hi = np.zeros(n), np.zeros(n)
        exact = True
        sets = []
        for i in range(n):
            ks = [float(t) for t in knots[i]]
            ss = [float(s) for s in slopes[i]]
            exact = exact and all(Fraction(f) == Fraction(s) for f, s in zip(ss, slopes[i]))
            K[i, : len(ks)] = ks
            D[i, : len(ks)] = np.diff(ss)
            s0[i], first[i], val[i] = ss[0], ks[0] if ks else 0.0, float(values[i])
            lo[i], hi[i] = min(ss), max(ss)
            if not all(Fraction(f) == Fraction(s) for f, s in zip(ss, slopes[i])):
                lo[i], hi[i] = np.nextafter(lo[i], -np.inf), np.nextafter(hi[i], np.inf)
            sets.append(tuple(sorted(set(ss))))
        if not (np.all(np.isfinite(s0)) and np.all(np.isfinite(val)) and np.all(np.isfinite(D))):
            raise InputError("expected finite activation parameters", path="activation")
        return cls(kind, K, D, s0, first, val, lo, hi, exact, tuple(sets))

    def __call__(self, z: Array) -> Array:
        """f applied to a batch of pre-activations (B, n)."""
        out = z * _like(self.slope0, z) + _like(self.value - self.slope0 * self.first, z)
        for j in range(self.knots.shape[1]):
            out = out + _like(self.jumps[:, j], z) * _relu(z - _like(self.knots[:, j], z))
        return out

    def slope(self, z: Array) -> Array:
        """The slope at each pre-activation (the left slope at a knot: convention c = 0)."""
        out = _like(self.slope0, z) + 0 * z
        for j in range(self.knots.shape[1]):
            out = out + _like(self.jumps[:, j], z) * (z > _like(self.knots[:, j], z))
        return out

    def piece(self, z: Array) -> Array:
        """The number of knots strictly below each pre-activation (the piece index off knots)."""
        out = 0 * z
        for j in range(self.knots.shape[1]):
            out = out + (z > _like(self.knots[:, j], z))
        return out


def _relu(t: Array) -> Array:
    return np.maximum(t, 0.0) if isinstance(t, np.ndarray) else t.clamp(min=0)


def _like(a: np.ndarray, z: Array) -> Array:
    if isinstance(z, np.ndarray):
        return a
    import torch

    return torch.as_tensor(a, dtype=z.dtype, device=z.device)


Layer = BlockOp | Activation


# --------------------------------------------------------------------------- the network


@dataclass(frozen=True, eq=False)
class OperatorNetwork:
    """Affine operators and activations in sequence, shapes checked.

    ``blocks[l]`` is the tuple of operators before activation ``acts[l]`` (``blocks[-1]``
    after the last one); an empty block is the identity. A block may hold `MaxPool` nodes
    (``max_pool_blocks`` lists those blocks): such a block is not affine, so it has no
    matrix (`block_matrix`) and no transpose (`block_apply` with ``transpose``), only the
    bounds of its absolute pass.
    """

    input_shape: tuple[int, ...]
    layers: tuple[Layer, ...]
    name: str = ""

    @classmethod
    def build(cls, input_shape: Sequence[int], layers: Sequence[Layer], name: str = "") -> "OperatorNetwork":
        net = cls(tuple(int(s) for s in input_shape), tuple(layers), name)
        net.blocks  # checks the shapes
        return net

    @property
    def input_size(self) -> int:
        return _size(self.input_shape)

    @property
    def output_size(self) -> int:
        blocks = self.blocks
        return _size(blocks[-1][-1].out_shape) if blocks[-1] else self._sizes[-1]

    @cached_property
    def _sizes(self) -> tuple[int, ...]:
        return tuple(a.size for a in self.acts) or (self.input_size,)

    @cached_property
    def _chain(self) -> tuple[tuple[tuple[BlockOp, ...], ...], tuple[Activation, ...]]:
        blocks: list[tuple[BlockOp, ...]] = []
        acts: list[Activation] = []
        shape: tuple[int, ...] = self.input_shape
        current: list[BlockOp] = []
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Activation):
                if layer.size != _size(shape):
                    raise InputError(
                        f"expected an activation of {_size(shape)} neurons (the previous layer's output size), "
                        f"got {layer.size}", path=f"layers[{i}]")
                blocks.append(tuple(current))
                acts.append(layer)
                current = []
                continue
            if not isinstance(layer, (Linear, Conv2d, Scale, Reshape, Gather, MaxPool)):
                raise InputError(f"unsupported layer {type(layer).__name__}", path=f"layers[{i}]")
            if _size(layer.in_shape) != _size(shape) or (
                isinstance(layer, Conv2d) and len(shape) == 3 and tuple(shape) != layer.in_shape
            ):
                raise InputError(
                    f"expected an input of shape {layer.in_shape}, but the previous layer gives {shape}",
                    path=f"layers[{i}]")
            current.append(layer)
            shape = layer.out_shape
        blocks.append(tuple(current))
        return tuple(blocks), tuple(acts)

    @property
    def blocks(self) -> tuple[tuple[BlockOp, ...], ...]:
        return self._chain[0]

    @cached_property
    def max_pool_blocks(self) -> tuple[int, ...]:
        """The blocks that hold a `MaxPool` node."""
        return tuple(l for l, b in enumerate(self.blocks) if any(isinstance(op, MaxPool) for op in b))

    @property
    def acts(self) -> tuple[Activation, ...]:
        return self._chain[1]

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(a.size for a in self.acts)

    def block_in_size(self, l: int) -> int:
        return self.input_size if l == 0 else self.acts[l - 1].size

    # -- evaluation (float, implicit) -------------------------------------------------

    def preactivations(self, x: Array, k: Kernels | None = None) -> tuple[list[Array], Array]:
        """Pre-activations of every hidden layer and the output, for a batch (B, input_size)."""
        return self._forward(x, k or NUMPY_KERNELS, None)

    def _forward(self, x: Array, k: Kernels, winners: list[Array] | None) -> tuple[list[Array], Array]:
        """`preactivations`; with a list ``winners``, each max-pool node's argmax is appended to it."""
        v = x
        pre = []
        for l, block in enumerate(self.blocks):
            for op in block:
                if isinstance(op, MaxPool):
                    if winners is not None:
                        winners.append(op.winners(v))
                    v = op.apply(v, k)
                else:
                    v = op.apply(v, k) + k.asarray(_bias(op))
            if l < len(self.acts):
                pre.append(v)
                v = self.acts[l](v)
        return pre, v

    def evaluate(self, x: Array, k: Kernels | None = None) -> Array:
        return self.preactivations(x, k)[1]

    def block_apply(self, l: int, x: Array, k: Kernels, transpose: bool = False, absolute: bool = False) -> Array:
        """Block l (no bias) applied to a batch, or its transpose; with ``absolute``, every
        operator's entries replaced by their absolute values (a max-pool node's absolute pass
        is its bound: see `MaxPool`). A max-pool node without ``absolute`` → `InputError`
        (it is not linear: a batch is not a set of columns)."""
        if not absolute and l in self.max_pool_blocks:
            raise InputError(f"block {l} holds a max-pool node, which is not affine: it cannot be applied as a "
                             "linear map (use jacobian, or max_pool='relu')", path="max_pool")
        ops = self.blocks[l] if not absolute else self.abs_blocks[l]
        for op in (reversed(ops) if transpose else ops):
            x = op.apply_t(x, k) if transpose else op.apply(x, k)
        return x

    @cached_property
    def abs_blocks(self) -> tuple[tuple[BlockOp, ...], ...]:
        return tuple(tuple(op.absolute() for op in b) for b in self.blocks)

    def block_matrix(self, l: int) -> tuple[list[np.ndarray], int]:
        """The explicit matrices of block l's operators, in order of application, without
        reshapes (an identity block gives ``[]``), and the block's input size. A block that holds
        a max-pool node → `InputError` (not affine)."""
        if l in self.max_pool_blocks:
            raise InputError(f"block {l} holds a max-pool node, which is not affine: it has no matrix "
                             "(use the operator passes, or max_pool='relu')", path="max_pool")
        mats = [op.matrix() for op in self.blocks[l] if not isinstance(op, Reshape)]
        return mats, self.block_in_size(l)

    def jacobian(self, x: Array, k: Kernels | None = None) -> Array:
        """The Jacobians (B, out, in) at a batch of points (convention c = 0 at knots; a max-pool
        node's gradient goes to its window's first maximum, as torch's autograd on the CPU)."""
        k = k or NUMPY_KERNELS
        winners: list[Array] = []
        pre, out = self._forward(x, k, winners)
        slopes = [a.slope(z) for a, z in zip(self.acts, pre)]
        B, m, n = x.shape[0], self.output_size, self.input_size
        eye = k.asarray(np.eye(m))
        rows = eye.reshape(1, m, m).repeat(B, 0) if isinstance(eye, np.ndarray) else eye.expand(B, m, m).clone()
        g = rows.reshape(B * m, m)
        for l in range(len(self.blocks) - 1, -1, -1):
            for op in reversed(self.blocks[l]):
                g = op.route_t(g, winners.pop()) if isinstance(op, MaxPool) else op.apply_t(g, k)
            if l > 0:
                s = slopes[l - 1]
                g = (g.reshape(B, m, -1) * s.reshape(B, 1, -1)).reshape(B * m, -1)
        return g.reshape(B, m, n)


def _bias(op: BlockOp) -> np.ndarray:
    return op.bias_full if isinstance(op, Conv2d) else op.bias


# --------------------------------------------------------------------------- numpy kernels


class NumpyKernels:
    """numpy primitives: BLAS products; convolutions by sliding windows and ``tensordot``."""

    name = "numpy"

    def asarray(self, a: np.ndarray) -> np.ndarray:
        return np.asarray(a, dtype=np.float64)

    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a @ b

    def conv2d(self, x, w, stride, padding, groups):
        from numpy.lib.stride_tricks import sliding_window_view

        co, cig, kh, kw = w.shape
        xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
        win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, :: stride[0], :: stride[1]]
        cog = co // groups
        outs = [
            np.tensordot(win[:, g * cig:(g + 1) * cig], w[g * cog:(g + 1) * cog], axes=([1, 4, 5], [1, 2, 3]))
            for g in range(groups)
        ]
        return np.ascontiguousarray(np.concatenate(outs, axis=3).transpose(0, 3, 1, 2))

    def conv2d_t(self, y, w, stride, padding, groups, in_hw):
        co, cig, kh, kw = w.shape
        B, _, ho, wo = y.shape
        h, wd = in_hw
        cog = co // groups
        out = np.zeros((B, cig * groups, h + 2 * padding[0] + stride[0], wd + 2 * padding[1] + stride[1]))
        for g in range(groups):
            yg = y[:, g * cog:(g + 1) * cog]
            for i in range(kh):
                for j in range(kw):
                    part = np.tensordot(yg, w[g * cog:(g + 1) * cog, :, i, j], axes=([1], [0]))
                    out[:, g * cig:(g + 1) * cig, i:i + stride[0] * ho:stride[0], j:j + stride[1] * wo:stride[1]] += \
                        part.transpose(0, 3, 1, 2)
        return out[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + wd]


NUMPY_KERNELS = NumpyKernels()


# --------------------------------------------------------------------------- builders


def from_network(net: Any) -> OperatorNetwork:
    """The float operator graph of an exact `Network` (its canonical chain).

    >>> from exactrelu.core.network import Network, affine, activation
    >>> ex = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([["1/3", 1]])])
    >>> op = from_network(ex)
    >>> op.widths, op.acts[0].kind, float(op.evaluate(np.array([[-3.0]]))[0, 0])
    ((2,), 'relu', 3.0)
    """
    chain = net.chain
    layers: list[Layer] = []
    for l, aff in enumerate(chain.affines):
        layers.append(Linear.create(np.array([[float(v) for v in row] for row in aff.weight]),
                                    [float(v) for v in aff.bias], path=f"affines[{l}].weight"))
        if l < len(chain.acts):
            fns = chain.acts[l]
            kinds = {f.kind for f in fns}
            layers.append(Activation.from_pieces(
                len(fns), [f.knots for f in fns], [f.slopes for f in fns], [f.value for f in fns],
                kinds.pop() if len(kinds) == 1 else "spline"))
    return OperatorNetwork.build((net.input_dim,), layers, net.name)


def exact_weights(net: OperatorNetwork | Any) -> bool:
    """Whether every weight of the operator graph is exactly the network's (always true for
    graphs built from torch; false when a rational weight of a `Network` is not a float)."""
    if not isinstance(net, OperatorNetwork):
        return all(Fraction(float(v)) == v for aff in net.chain.affines for row in aff.weight + (aff.bias,) for v in row)
    return True


def to_network(net: OperatorNetwork, name: str = "", source: str = "") -> Any:
    """The exact `Network` of an operator graph: each block becomes one explicit affine
    layer whose entries are the exact binary values of the floats (composed exactly).

    A `MaxPool` node becomes its exact stages (`expand_max_pools`), so the `Network` is the
    same function.

    >>> from exactrelu.core.network import Network
    >>> op = OperatorNetwork.build((1, 2, 2), [avg_pool2d((1, 2, 2), 2)])
    >>> to_network(op).chain.affines[0].weight
    ((Fraction(1, 4), Fraction(1, 4), Fraction(1, 4), Fraction(1, 4)),)
    >>> pooled = OperatorNetwork.build((1, 2, 2), max_pool((1, 2, 2), 2, node=True))
    >>> to_network(pooled).evaluate(["1/3", 2, "-7", "5/2"])
    (Fraction(5, 2),)
    """
    from flint import fmpq, fmpq_mat

    from ..core.network import AffineLayer, Network, activation
    from ..core.numbers import column_fractions, matrix_fractions

    net = expand_max_pools(net)

    def exact(m: np.ndarray) -> fmpq_mat:
        rows, cols = m.shape
        return fmpq_mat(rows, cols, [fmpq(*Fraction(float(v)).as_integer_ratio()) for v in m.reshape(-1)])

    layers: list[Any] = []
    for l, block in enumerate(net.blocks):
        n_in = net.block_in_size(l)
        W = fmpq_mat(n_in, n_in, [fmpq(int(i == j)) for i in range(n_in) for j in range(n_in)])
        b = fmpq_mat(n_in, 1, [fmpq(0)] * n_in)
        for op in block:
            if isinstance(op, Reshape):
                continue
            M = exact(op.matrix())
            W = M * W
            b = M * b + exact(_bias(op).reshape(-1, 1))
        layers.append(AffineLayer(matrix_fractions(W), column_fractions(b)))
        if l < len(net.acts):
            layers.append(_exact_activation(net.acts[l], activation))
    return Network.from_layers(net.input_size, layers, name or net.name, source)


def expand_max_pools(net: OperatorNetwork) -> OperatorNetwork:
    """The same function with every `MaxPool` node replaced by its exact `max_groups` stages
    (the graph itself when it has none).

    >>> node = OperatorNetwork.build((3,), [MaxPool.create([[0, 2], [1]], (3,))])
    >>> expand_max_pools(node).widths, expand_max_pools(node).evaluate(np.array([[1.0, -4.0, 3.0]])).tolist()
    ((3,), [[3.0, -4.0]])
    """
    if not net.max_pool_blocks:
        return net
    layers: list[Layer] = []
    for layer in net.layers:
        if isinstance(layer, MaxPool):
            layers += max_groups(layer.groups(), layer.in_shape, layer.out_shape)
        else:
            layers.append(layer)
    return OperatorNetwork.build(net.input_shape, layers, net.name)


def _exact_activation(a: Activation, activation: Any) -> Any:
    if a.kind == "relu":
        return activation("relu")
    if a.kind == "leaky_relu" and np.all(a.slope0 == a.slope0[0]):
        return activation("leaky_relu", alpha=Fraction(float(a.slope0[0])))
    knots, slopes, values = [], [], []
    for i in range(a.size):
        ks = [Fraction(float(t)) for t in a.knots[i] if np.isfinite(t)]
        s = [Fraction(float(a.slope0[i]))]
        for j in range(len(ks)):
            s.append(s[-1] + Fraction(float(a.jumps[i, j])))
        knots.append(ks)
        slopes.append(s)
        values.append(Fraction(float(a.value[i])))
    return activation("spline", knots=knots, slopes=slopes, value=values)
