"""torch models in: one walker, two builders.

`describe` walks a torch module once: it flattens nested ``nn.Sequential``s, validates each
leaf (its shapes, its options; an `InputError` names the module path, ``[2]`` or
``[1][0].weight``, and what was expected) and normalises it into a `Leaf`: a kind, float64
numpy parameters, resolved strides, paddings, dilations and windows, and the shapes it
maps (without the batch axis). Two builders take the leaves, so both accept exactly the
same modules:

- `network_from_torch`: the exact `Network` (the tensor maps of `exactrelu.io.layers`).
  Float weights become the dyadic rationals they denote; an average is an exact mean; a
  batch norm's ``sqrt(var + eps)`` is the one rounding (see `exactrelu.io.layers`).
- `operators_from_torch`: the float operator graph (`exactrelu.floats.operators`), on which
  the float path certifies bounds. Its semantics is **the network with float64
  coefficients**: the weights as they are (float32 ones widened exactly), and where a
  coefficient is computed from them (an average's ``1/count``, a batch norm folded into
  ``s = γ / sqrt(var + eps)`` and ``β − s·mean``) its float64 value. The float graph and the
  exact network are the same function whenever those computed coefficients are exact
  (counts that are powers of two, dyadic batch norms with a rational ``sqrt``); otherwise
  they differ by those roundings, and the float bounds are certified for the float graph.
  Modules without a native operator are built as the same function: a Conv1d is a Conv2d
  with H = 1 between two `Reshape`s; a dilation a kernel with zeros inserted (the zeros add
  exact zeros); an asymmetric padding (``padding="same"`` with an even kernel extent) a
  `Gather` that pads the input, then an unpadded Conv2d; an average pool whose windows are
  not all full (``ceil_mode``, ``count_include_pad=False`` at a border) a `Gather` with each
  window's ``1/count``; a Linear on the last axis of a tensor with more than one row a
  block-diagonal `Gather`; a per-channel PReLU an `Activation` with one slope per neuron;
  a max-pool exact ReLU stages or one `MaxPool` node (``max_pool=``).

Supported modules: Linear, ReLU, ReLU6, LeakyReLU, PReLU, Hardtanh, Identity, Dropout,
Flatten, Unflatten, Conv1d, Conv2d (zero padding: numbers, ``"same"``, ``"valid"``; stride,
dilation, groups), AvgPool1d/2d (``ceil_mode``, ``count_include_pad``), MaxPool1d/2d
(stride, padding, dilation, ``ceil_mode``), BatchNorm1d/2d, and nested Sequentials. A module
is read as in ``eval()`` mode, whatever its ``training`` flag: a Dropout is the identity, a
batch norm uses its running statistics. Tensors carry a batch axis of size one; a network
whose first module is not a Linear needs ``input_shape`` (without the batch axis, e.g.
``(1, 8, 8)``).

A ``.pt`` file is opened with ``torch.load(weights_only=True)``: arbitrary pickled code
never runs. A whole saved module loads when it uses only the supported module classes;
otherwise save ``{"state_dict": model.state_dict(), "layers": [...]}``, where ``layers``
names the modules in order (see `network_from_state_dict`).

>>> import torch
>>> m = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
>>> with torch.no_grad():
...     _ = m[0].weight.copy_(torch.tensor([[1.0], [-1.0]])); _ = m[0].bias.zero_()
...     _ = m[2].weight.copy_(torch.tensor([[1.0, 1.0]])); _ = m[2].bias.fill_(0.5)
>>> network_from_torch(m).evaluate(["-3/4"])
(Fraction(5, 4),)
>>> float(operators_from_torch(m).evaluate(np.array([[-0.75]]))[0, 0])
1.25
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from ..core.domain import Domain
from ..core.errors import InputError
from ..core.network import Network
from ..core.pooling import pool_windows
from ..floats.operators import (
    Activation,
    Conv2d,
    Gather,
    Layer,
    Linear,
    OperatorNetwork,
    Reshape,
    avg_pool2d,
)
from ..floats.operators import batch_norm as float_batch_norm
from ..floats.operators import max_pool as float_max_pool
from .case import Case
from .layers import (
    LayerBuilder,
    Tensor,
    add_const,
    avg_pool,
    batch_norm,
    conv,
    exact_array,
    exact_scalar,
    matmul,
    max_pool,
    reshape,
)


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise InputError("reading torch models needs torch: pip install 'exactrelu[torch]'") from None
    return torch


def _module_classes(torch: Any) -> list[type]:
    nn = torch.nn
    return [
        nn.Sequential, nn.Linear, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.Hardtanh, nn.Identity,
        nn.Dropout, nn.Flatten, nn.Unflatten, nn.Conv1d, nn.Conv2d, nn.AvgPool1d, nn.AvgPool2d,
        nn.MaxPool1d, nn.MaxPool2d, nn.BatchNorm1d, nn.BatchNorm2d,
    ]


# --------------------------------------------------------------------------- the walker


@dataclass(frozen=True, eq=False)
class Leaf:
    """One torch module, validated and normalised: what both builders build.

    ``kind``: ``linear``, ``relu``, ``leaky_relu``, ``hardtanh``, ``prelu``, ``reshape``,
    ``conv``, ``avg_pool``, ``max_pool`` or ``batch_norm``. Shapes are without the batch
    axis; ``pads`` lists the begin padding of every spatial axis, then the end paddings.
    ``weight``: a Linear's (out, in), a convolution's (out, in / groups, *kernel), a
    batch norm's scale γ (None when not affine), a PReLU's per-channel slopes.
    """

    kind: str
    path: str
    module: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    mean: np.ndarray | None = None
    var: np.ndarray | None = None
    eps: float = 0.0
    alpha: float = 0.0
    low: float = 0.0
    high: float = 0.0
    kernel: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    pads: tuple[int, ...] = ()
    dilation: tuple[int, ...] = ()
    groups: int = 1
    ceil_mode: bool = False
    count_include_pad: bool = True

    @property
    def where(self) -> str:
        return f"{self.path} ({self.module})" if self.path else self.module


def describe(module: Any, input_shape: Sequence[int]) -> list[Leaf]:
    """The leaves of a torch module on an input of ``input_shape`` (without the batch axis),
    each validated once; the identities (Identity, Dropout) are left out.

    >>> import torch.nn as nn
    >>> leaves = describe(nn.Sequential(nn.Conv1d(1, 2, 4, padding="same"), nn.Sequential(nn.ReLU())), (1, 6))
    >>> [(l.path, l.kind, l.out_shape) for l in leaves], leaves[0].pads
    ([('[0]', 'conv', (2, 6)), ('[1][0]', 'relu', (2, 6))], (1, 2))
    >>> try:
    ...     describe(nn.Sequential(nn.Identity(), nn.Linear(3, 2)), (4,))
    ... except InputError as e:
    ...     print(e)
    [1]: Linear: expected 3 input features on the last axis, the previous layer gives the shape (4,)
    """
    torch = _torch()
    shape = tuple(int(s) for s in input_shape)
    if not shape or any(s < 1 for s in shape):
        raise InputError(f"expected a nonempty shape of positive sizes, got {shape}", path="input_shape")
    leaves = []
    for path, m in _leaves(torch, module, ""):
        leaf = _describe(torch, m, path, shape)
        if leaf is not None:
            leaves.append(leaf)
            shape = leaf.out_shape
    return leaves


def _leaves(torch: Any, module: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(module, torch.nn.Sequential):
        for key, child in module.named_children():
            yield from _leaves(torch, child, f"{prefix}[{key}]")
    else:
        yield prefix, module


def input_shape_of(module: Any, input_shape: Sequence[int] | None = None) -> tuple[int, ...]:
    """``input_shape`` (without the batch axis) when given, else ``(in_features,)`` of a
    first Linear module; `InputError` otherwise."""
    if input_shape is not None:
        return tuple(int(s) for s in input_shape)
    torch = _torch()
    first = next((m for _, m in _leaves(torch, module, "")
                  if not isinstance(m, (torch.nn.Identity, torch.nn.Dropout))), None)
    if not isinstance(first, torch.nn.Linear):
        raise InputError("give the input shape without the batch axis (input_shape=, or --input-shape on the "
                         "command line): the first module is not a Linear", path="input_shape")
    return (first.in_features,)


def _sub(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _size(shape: Sequence[int]) -> int:
    return int(np.prod(shape, dtype=np.int64))


class _Check:
    """Raises the walker's errors for one module: ``path: Module: what was expected``."""

    def __init__(self, m: Any, path: str) -> None:
        self.name, self.path = type(m).__name__, path

    def fail(self, message: str, sub: str = "") -> InputError:
        return InputError(f"{self.name}: {message}", path=_sub(self.path, sub) if sub else self.path)

    def param(self, t: Any, sub: str, shape: Sequence[int] | None = None) -> np.ndarray:
        a = t.detach().cpu().double().numpy()
        if shape is not None and a.shape != tuple(shape):
            raise self.fail(f"expected a {sub} of shape {tuple(shape)}, got {a.shape}", sub)
        if not np.all(np.isfinite(a)):
            bad = [int(i) for i in np.argwhere(~np.isfinite(a))[0]]
            raise self.fail(f"expected finite numbers, got {a[tuple(bad)]} at index {bad}", sub)
        return a

    def number(self, v: Any, what: str) -> float:
        f = float(v)
        if not np.isfinite(f):
            raise self.fail(f"expected a finite {what}, got {f}")
        return f

    def ints(self, v: Any, k: int, what: str, minimum: int) -> tuple[int, ...]:
        vals = tuple(v) if isinstance(v, (tuple, list)) else (v,) * k
        if len(vals) != k or any(not isinstance(i, (int, np.integer)) or i < minimum for i in vals):
            raise self.fail(f"expected {what} an integer >= {minimum} or {k} of them, got {v!r}")
        return tuple(int(i) for i in vals)

    def spatial(self, shape: tuple[int, ...], k: int) -> None:
        if len(shape) != k + 1:
            raise self.fail(f"expected an input of shape {'(C, L)' if k == 1 else '(C, H, W)'} (without the batch "
                            f"axis), the previous layer gives {shape}")

    def windows(self, shape: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
                pads: tuple[int, ...], dilation: tuple[int, ...] | None, ceil_mode: bool) -> tuple[int, ...]:
        """A pool's output shape; torch's rules: a padding of at most half the (dilated) kernel."""
        dil = dilation or (1,) * len(kernel)
        half = [((q - 1) * d + 1) // 2 for q, d in zip(kernel, dil)]
        if any(p > h for p, h in zip(pads, half)):
            raise self.fail(f"expected a padding of at most half the kernel ({half}), got {list(pads[:len(kernel)])}")
        try:
            out_sp, _ = pool_windows(shape[1:], kernel, stride, pads, dilation, ceil_mode)
        except InputError as e:
            raise self.fail(e.message) from None
        return (shape[0], *out_sp)


def _describe(torch: Any, m: Any, path: str, shape: tuple[int, ...]) -> Leaf | None:
    nn = torch.nn
    c = _Check(m, path)

    def leaf(kind: str, out_shape: tuple[int, ...] = shape, **fields: Any) -> Leaf:
        return Leaf(kind, path, c.name, shape, tuple(int(s) for s in out_shape), **fields)

    if isinstance(m, (nn.Identity, nn.Dropout)):
        return None
    if isinstance(m, nn.Linear):
        w = c.param(m.weight, "weight")
        if w.ndim != 2 or shape[-1] != w.shape[1]:
            raise c.fail(f"expected {w.shape[-1]} input features on the last axis, the previous layer gives "
                         f"the shape {shape}")
        b = None if m.bias is None else c.param(m.bias, "bias", (w.shape[0],))
        return leaf("linear", shape[:-1] + (w.shape[0],), weight=w, bias=b)
    if isinstance(m, nn.ReLU):
        return leaf("relu")
    if isinstance(m, nn.LeakyReLU):
        return leaf("leaky_relu", alpha=c.number(m.negative_slope, "negative_slope"))
    if isinstance(m, nn.Hardtanh):  # ReLU6 is one
        lo, hi = c.number(m.min_val, "min_val"), c.number(m.max_val, "max_val")
        if not lo < hi:
            raise c.fail(f"expected min_val < max_val, got {lo} and {hi}")
        return leaf("hardtanh", low=lo, high=hi)
    if isinstance(m, nn.PReLU):
        w = c.param(m.weight, "weight").reshape(-1)
        if w.size == 1:
            return leaf("leaky_relu", alpha=float(w[0]))
        if shape[0] != w.size:
            raise c.fail(f"expected {w.size} channels on the axis after the batch axis, the previous layer gives "
                         f"the shape {shape}")
        return leaf("prelu", weight=w)
    if isinstance(m, (nn.Flatten, nn.Unflatten)):
        return leaf("reshape", _reshaped(c, m, nn, shape))
    if isinstance(m, (nn.Conv1d, nn.Conv2d)):
        return _conv(c, m, 1 if isinstance(m, nn.Conv1d) else 2, shape, leaf)
    if isinstance(m, (nn.AvgPool1d, nn.AvgPool2d, nn.MaxPool1d, nn.MaxPool2d)):
        k = 1 if isinstance(m, (nn.AvgPool1d, nn.MaxPool1d)) else 2
        c.spatial(shape, k)
        kernel = c.ints(m.kernel_size, k, "kernel_size", 1)
        stride = c.ints(m.stride if m.stride is not None else m.kernel_size, k, "stride", 1)
        pads = c.ints(m.padding, k, "padding", 0) * 2
        if isinstance(m, (nn.AvgPool1d, nn.AvgPool2d)):
            if getattr(m, "divisor_override", None):
                raise c.fail("divisor_override is not supported")
            out = c.windows(shape, kernel, stride, pads, None, bool(m.ceil_mode))
            if not m.count_include_pad:
                _nonempty(c, shape, kernel, stride, pads, None, bool(m.ceil_mode))
            return leaf("avg_pool", out, kernel=kernel, stride=stride, pads=pads, ceil_mode=bool(m.ceil_mode),
                        count_include_pad=bool(m.count_include_pad))
        if m.return_indices:
            raise c.fail("return_indices=True is not supported")
        dil = c.ints(m.dilation, k, "dilation", 1)
        out = c.windows(shape, kernel, stride, pads, dil, bool(m.ceil_mode))
        _nonempty(c, shape, kernel, stride, pads, dil, bool(m.ceil_mode))
        return leaf("max_pool", out, kernel=kernel, stride=stride, pads=pads, dilation=dil,
                    ceil_mode=bool(m.ceil_mode))
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        if m.running_mean is None or m.running_var is None:
            raise c.fail("expected running statistics (track_running_stats=True)")
        mean = c.param(m.running_mean, "running_mean")
        n = mean.size
        var = c.param(m.running_var, "running_var", (n,))
        eps = c.number(m.eps, "eps")
        if isinstance(m, nn.BatchNorm2d) and len(shape) != 3 or isinstance(m, nn.BatchNorm1d) and len(shape) > 2:
            raise c.fail(f"expected an input of shape {'(C, H, W)' if isinstance(m, nn.BatchNorm2d) else '(C) or (C, L)'}"
                         f" (without the batch axis), the previous layer gives {shape}")
        if shape[0] != n:
            raise c.fail(f"expected {n} channels on the axis after the batch axis, the previous layer gives {shape}")
        if np.any(var + eps <= 0):
            raise c.fail("expected running_var + eps > 0", "running_var")
        w = None if m.weight is None else c.param(m.weight, "weight", (n,))
        b = None if m.bias is None else c.param(m.bias, "bias", (n,))
        return leaf("batch_norm", weight=w, bias=b, mean=mean, var=var, eps=eps)
    supported = ", ".join(k.__name__ for k in _module_classes(torch) if k is not nn.Sequential)
    raise c.fail(f"the module is not supported (supported: {supported})")


def _nonempty(c: _Check, shape: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
              pads: tuple[int, ...], dilation: tuple[int, ...] | None, ceil_mode: bool) -> None:
    _, windows = pool_windows(shape[1:], kernel, stride, pads, dilation, ceil_mode)
    if any(not any(inside for _, inside in win) for win in windows):
        raise c.fail("a pooling window holds no input entry (it lies in the padding)")


def _reshaped(c: _Check, m: Any, nn: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape after a Flatten or an Unflatten (their dims count the batch axis)."""
    batched = (1, *shape)
    nd = len(batched)

    def axis(d: Any, what: str) -> int:
        if not isinstance(d, (int, np.integer)) or not -nd <= d < nd:
            raise c.fail(f"expected {what} in [{-nd}, {nd}) for the shape {shape} with its batch axis, got {d!r}")
        if d % nd == 0:
            raise c.fail(f"expected {what} after the batch axis (>= 1 or negative), got {d}")
        return int(d) % nd

    if isinstance(m, nn.Flatten):
        s, e = axis(m.start_dim, "start_dim"), axis(m.end_dim, "end_dim")
        if e < s:
            raise c.fail(f"expected start_dim <= end_dim, got {m.start_dim} and {m.end_dim}")
        return (*batched[1:s], _size(batched[s:e + 1]), *batched[e + 1:])
    d = axis(m.dim, "dim")
    sizes = list(m.unflattened_size)
    if any(not isinstance(v, (int, np.integer)) or v < 1 and v != -1 for v in sizes) or sizes.count(-1) > 1:
        raise c.fail(f"expected unflattened_size of positive integers (one may be -1), got {m.unflattened_size!r}")
    known = _size([v for v in sizes if v != -1])
    if -1 in sizes and batched[d] % known == 0:
        sizes[sizes.index(-1)] = batched[d] // known
    if _size(sizes) != batched[d]:
        raise c.fail(f"expected unflattened_size of {batched[d]} entries, got {m.unflattened_size!r}")
    return (*batched[1:d], *(int(v) for v in sizes), *batched[d + 1:])


def _conv(c: _Check, m: Any, k: int, shape: tuple[int, ...], leaf: Any) -> Leaf:
    if m.padding_mode != "zeros":
        raise c.fail(f"padding_mode {m.padding_mode!r} is not supported (only 'zeros')")
    c.spatial(shape, k)
    w = c.param(m.weight, "weight")
    groups = int(m.groups)
    if w.ndim != k + 2 or groups < 1 or w.shape[0] % groups or w.shape[1] * groups != shape[0]:
        raise c.fail(f"expected {shape[0]} input channels = the kernel's {w.shape[1] if w.ndim > 1 else '?'} per "
                     f"group x {groups} groups, the previous layer gives {shape}", "weight")
    b = None if m.bias is None else c.param(m.bias, "bias", (w.shape[0],))
    dil = c.ints(m.dilation, k, "dilation", 1)
    stride = c.ints(m.stride, k, "stride", 1)
    kernel = w.shape[2:]
    if isinstance(m.padding, str):
        if m.padding == "same" and any(s != 1 for s in stride):
            raise c.fail("padding='same' needs stride 1")
        total = [d * (q - 1) for d, q in zip(dil, kernel)] if m.padding == "same" else [0] * k
        pads = tuple(t // 2 for t in total) + tuple(t - t // 2 for t in total)
    else:
        pads = c.ints(m.padding, k, "padding", 0) * 2
    out_sp = [(shape[1 + i] + pads[i] + pads[i + k] - dil[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(k)]
    if any(o < 1 for o in out_sp):
        raise c.fail(f"the kernel {tuple(kernel)} (dilation {dil}) does not fit the input {shape} with the padding "
                     f"{list(pads)}")
    return leaf("conv", (w.shape[0], *out_sp), weight=w, bias=b, stride=stride, pads=pads, dilation=dil,
                groups=groups)


# --------------------------------------------------------------------------- the exact builder


def network_from_torch(module: Any, input_shape: Sequence[int] | None = None, name: str = "") -> Network:
    """The network a torch module computes (read as in ``eval()`` mode), with exact weights."""
    shape = input_shape_of(module, input_shape)
    leaves = describe(module, shape)
    builder = LayerBuilder((1, *shape))
    t = builder.input()
    for leaf in leaves:
        t = _exact(builder, t, leaf)
    return builder.network(t, name or type(module).__name__, "torch module")


def _exact(b: LayerBuilder, t: Tensor, leaf: Leaf) -> Tensor:
    kind, where = leaf.kind, leaf.where
    if kind == "linear":
        t = matmul(t, exact_array(leaf.weight).T)
        return add_const(t, exact_array(leaf.bias)) if leaf.bias is not None else t
    if kind == "relu":
        return b.activate(t, "relu", where)
    if kind == "leaky_relu":
        return b.activate(t, "leaky_relu", where, alpha=Fraction(leaf.alpha))
    if kind == "hardtanh":
        return b.activate(t, "hardtanh", where, min=Fraction(leaf.low), max=Fraction(leaf.high))
    if kind == "prelu":
        per = np.repeat(leaf.weight, _size(leaf.in_shape[1:]))
        return b.activate(t, "prelu", where, alpha=[Fraction(float(v)) for v in per])
    if kind == "reshape":
        return reshape(t, (1, *leaf.out_shape))
    if kind == "conv":
        bias = None if leaf.bias is None else exact_array(leaf.bias)
        return conv(t, exact_array(leaf.weight), bias, strides=leaf.stride, pads=leaf.pads, dilations=leaf.dilation,
                    group=leaf.groups)
    if kind == "avg_pool":
        return avg_pool(t, leaf.kernel, leaf.stride, leaf.pads, count_include_pad=leaf.count_include_pad,
                        ceil_mode=leaf.ceil_mode)
    if kind == "max_pool":
        return max_pool(b, t, leaf.kernel, leaf.stride, leaf.pads, leaf.dilation, leaf.ceil_mode, where)
    if kind == "batch_norm":
        n = leaf.in_shape[0]
        scale = exact_array(leaf.weight) if leaf.weight is not None else np.array([exact_scalar(1)] * n, dtype=object)
        shift = exact_array(leaf.bias) if leaf.bias is not None else np.array([exact_scalar(0)] * n, dtype=object)
        return batch_norm(t, scale, shift, exact_array(leaf.mean), exact_array(leaf.var), Fraction(leaf.eps), where)
    raise AssertionError(f"a leaf of unknown kind {kind!r}")  # describe makes only the kinds above


# --------------------------------------------------------------------------- the float builder


def operators_from_torch(
    module: Any, input_shape: Sequence[int] | None = None, name: str = "", max_pool: str = "relu"
) -> OperatorNetwork:
    """The float operator graph of a torch module (read as in ``eval()`` mode), in float64:
    the same modules as `network_from_torch`, the float semantics of the module docstring.

    ``max_pool``: ``"relu"`` turns a max-pool into exact stages ``max(a, b) = a + relu(b − a)``
    (every K bound applies, loosely); ``"node"`` keeps it as one `MaxPool` node (K_star and
    K3 only, much tighter; `to_network` still expands it exactly).

    >>> import torch.nn as nn
    >>> m = nn.Sequential(nn.MaxPool2d(2), nn.Flatten())
    >>> [type(l).__name__ for l in operators_from_torch(m, (1, 2, 2), max_pool="node").layers]
    ['MaxPool', 'Reshape']
    >>> c = nn.Conv1d(1, 1, 2, padding="same", bias=False)
    >>> [type(l).__name__ for l in operators_from_torch(nn.Sequential(c), (1, 5)).layers]
    ['Reshape', 'Gather', 'Conv2d', 'Reshape']
    """
    if max_pool not in ("relu", "node"):
        raise InputError(f"expected max_pool 'relu' or 'node', got {max_pool!r}", path="max_pool")
    shape = input_shape_of(module, input_shape)
    layers: list[Layer] = []
    for leaf in describe(module, shape):
        layers += _float(leaf, max_pool == "node")
    return OperatorNetwork.build(shape, layers, name)


def _float(leaf: Leaf, node: bool) -> list[Layer]:
    kind, n = leaf.kind, _size(leaf.in_shape)
    if kind == "linear":
        return _float_linear(leaf)
    if kind == "relu":
        return [Activation.relu(n)]
    if kind == "leaky_relu":
        return [Activation.leaky(n, leaf.alpha)]
    if kind == "hardtanh":
        return [Activation.from_pieces(n, [[leaf.low, leaf.high]] * n, [[0.0, 1.0, 0.0]] * n, [leaf.low] * n,
                                       "hardtanh")]
    if kind == "prelu":
        per = np.repeat(leaf.weight, _size(leaf.in_shape[1:]))
        return [Activation.from_pieces(n, [[0.0]] * n, [[float(a), 1.0] for a in per], [0.0] * n, "prelu")]
    if kind == "reshape":
        return [Reshape(leaf.in_shape, leaf.out_shape)]
    if kind == "conv":
        return _float_conv(leaf)
    if kind == "avg_pool":
        return _float_avg_pool(leaf)
    if kind == "max_pool":
        k = len(leaf.kernel)
        return float_max_pool(leaf.in_shape, leaf.kernel, leaf.stride, leaf.pads[:k], leaf.dilation, leaf.ceil_mode,
                              path=leaf.path, node=node)
    if kind == "batch_norm":
        return [float_batch_norm(leaf.in_shape, leaf.mean, leaf.var, leaf.weight, leaf.bias, leaf.eps)]
    raise AssertionError(f"a leaf of unknown kind {kind!r}")  # describe makes only the kinds above


def _float_linear(leaf: Leaf) -> list[Layer]:
    """A Linear on the last axis: a `Linear` (between `Reshape`s when the input is not flat);
    on a tensor of several rows, a block-diagonal `Gather` (one copy of the weight per row)."""
    w, shape, out_shape = leaf.weight, leaf.in_shape, leaf.out_shape
    n_out, n_in = w.shape
    rows = _size(shape[:-1])
    if rows == 1:
        layers: list[Layer] = [Reshape(shape, (n_in,))] if len(shape) != 1 else []
        layers.append(Linear.create(w, leaf.bias, path=_sub(leaf.path, "weight")))
        return layers + ([Reshape((n_out,), out_shape)] if len(out_shape) != 1 else [])
    maps = [{r * n_in + j: float(w[o, j]) for j in range(n_in)} for r in range(rows) for o in range(n_out)]
    bias = None if leaf.bias is None else np.tile(leaf.bias, rows)
    return [Gather.create(maps, shape, out_shape, bias, path=_sub(leaf.path, "weight"))]


def _float_conv(leaf: Leaf) -> list[Layer]:
    """A convolution as a `Conv2d`: a Conv1d with H = 1 (between `Reshape`s), a dilation as a
    kernel with zeros inserted, an asymmetric padding as a padding `Gather` first."""
    w, shape, stride, dil, pads = leaf.weight, leaf.in_shape, leaf.stride, leaf.dilation, leaf.pads
    layers: list[Layer] = []
    if w.ndim == 3:
        w = w[:, :, None, :]
        flat, shape = shape, (shape[0], 1, shape[1])
        stride, dil, pads = (1, *stride), (1, *dil), (0, pads[0], 0, pads[1])
        layers.append(Reshape(flat, shape))
    if dil != (1, 1):
        co, cig, kh, kw = w.shape
        wide = np.zeros((co, cig, dil[0] * (kh - 1) + 1, dil[1] * (kw - 1) + 1))
        wide[:, :, :: dil[0], :: dil[1]] = w
        w = wide
    padding = pads[:2]
    if pads[:2] != pads[2:]:
        layers.append(_pad_gather(shape, pads, leaf.path))
        shape, padding = layers[-1].out_shape, (0, 0)
    op = Conv2d.create(w, leaf.bias, shape, stride, padding, leaf.groups, path=_sub(leaf.path, "weight"))
    layers.append(op)
    return layers + ([Reshape(op.out_shape, leaf.out_shape)] if op.out_shape != leaf.out_shape else [])


def _pad_gather(shape: tuple[int, ...], pads: tuple[int, ...], path: str) -> Gather:
    """Zero padding of a (C, H, W) input by (top, left, bottom, right), as a selection `Gather`."""
    c, h, w = shape
    top, left, bottom, right = pads
    index = np.full((c, h + top + bottom, w + left + right), -1, dtype=np.int64)
    index[:, top:top + h, left:left + w] = np.arange(c * h * w).reshape(c, h, w)
    rows = [{int(i): 1.0} if i >= 0 else {} for i in index.reshape(-1)]
    return Gather.create(rows, shape, index.shape, path=path)


def _float_avg_pool(leaf: Leaf) -> list[Layer]:
    """An average pool: a grouped `Conv2d` when every window is full (its divisor the kernel
    size), else a `Gather` with each window's ``1/count`` (ceil_mode, count_include_pad=False)."""
    shape, k = leaf.in_shape, len(leaf.kernel)
    spatial = shape[1:]
    _, windows = pool_windows(spatial, leaf.kernel, leaf.stride, leaf.pads, None, leaf.ceil_mode)
    full = _size(leaf.kernel)
    if all(len(win) == full and (leaf.count_include_pad or all(ok for _, ok in win)) for win in windows):
        if k == 2:
            return [avg_pool2d(shape, leaf.kernel, leaf.stride, leaf.pads[:2])]
        flat = (shape[0], 1, shape[1])
        op = avg_pool2d(flat, (1, leaf.kernel[0]), (1, leaf.stride[0]), (0, leaf.pads[0]))
        return [Reshape(shape, flat), op, Reshape(op.out_shape, leaf.out_shape)]
    plane = _size(spatial)
    maps = []
    for ch in range(shape[0]):
        for win in windows:
            inside = [int(np.ravel_multi_index(p, spatial)) for p, ok in win if ok]
            count = len(win) if leaf.count_include_pad else len(inside)
            maps.append({ch * plane + i: 1.0 / count for i in inside})
    return [Gather.create(maps, shape, leaf.out_shape, path=leaf.path)]


# --------------------------------------------------------------------------- state dicts and files


_SPEC_MODULES = {
    "linear": ("Linear", True),
    "conv1d": ("Conv1d", True),
    "conv2d": ("Conv2d", True),
    "batchnorm1d": ("BatchNorm1d", True),
    "batchnorm2d": ("BatchNorm2d", True),
    "prelu": ("PReLU", True),
    "relu": ("ReLU", False),
    "relu6": ("ReLU6", False),
    "leaky_relu": ("LeakyReLU", False),
    "hardtanh": ("Hardtanh", False),
    "identity": ("Identity", False),
    "dropout": ("Dropout", False),
    "flatten": ("Flatten", False),
    "avgpool1d": ("AvgPool1d", False),
    "avgpool2d": ("AvgPool2d", False),
    "maxpool1d": ("MaxPool1d", False),
    "maxpool2d": ("MaxPool2d", False),
}


def network_from_state_dict(
    state: Mapping[str, Any], layers: Sequence[str | Mapping[str, Any]], input_shape: Sequence[int] | None = None
) -> Network:
    """A network from a state dict and its layer list (`modules_from_state_dict`).

    >>> import torch
    >>> state = {"0.weight": torch.tensor([[2.0]]), "0.bias": torch.tensor([-1.0]),
    ...          "2.weight": torch.tensor([[0.5]]), "2.bias": torch.tensor([0.0])}
    >>> network_from_state_dict(state, ["linear", "relu", "linear"]).evaluate([3])
    (Fraction(5, 2),)
    """
    return network_from_torch(modules_from_state_dict(state, layers), input_shape, "state dict")


def modules_from_state_dict(state: Mapping[str, Any], layers: Sequence[str | Mapping[str, Any]]) -> Any:
    """The ``nn.Sequential`` (float64, inference mode) of a state dict and its layer list.

    ``layers`` names the modules in order: a string (``"linear"``, ``"relu"``,
    ``"flatten"``, …) or a dict ``{"type": ..., **keyword arguments of the torch module}``
    (``{"type": "leaky_relu", "negative_slope": 0.1}``, ``{"type": "conv2d", "stride": 2}``).
    The layers with parameters (linear, conv1d/2d, batchnorm1d/2d, prelu) take the state
    dict's parameter groups (``"0.weight"``, ``"0.bias"``, …) in order; their sizes come
    from the weights.
    """
    torch = _torch()
    groups: dict[str, dict[str, Any]] = {}
    for key, value in state.items():
        prefix, _, leaf = str(key).rpartition(".")
        groups.setdefault(prefix, {})[leaf] = value
    pending = list(groups.items())
    modules = []
    for i, spec in enumerate(layers):
        kind, kwargs = (spec, {}) if isinstance(spec, str) else (spec.get("type"), {k: v for k, v in spec.items() if k != "type"})
        if kind not in _SPEC_MODULES:
            raise InputError(f"expected a layer type among {', '.join(_SPEC_MODULES)}, got {kind!r}", path=f"layers[{i}]")
        cls_name, has_params = _SPEC_MODULES[kind]
        cls = getattr(torch.nn, cls_name)
        if not has_params:
            try:
                modules.append(cls(**kwargs))
            except TypeError as e:
                raise InputError(f"bad arguments for {cls_name}: {e}", path=f"layers[{i}]") from None
            continue
        if not pending:
            raise InputError(f"the state dict has no parameters left for {kind}", path=f"layers[{i}]")
        prefix, params = pending.pop(0)
        modules.append(_module_from_params(torch, cls, kind, params, kwargs, f"layers[{i}] ({prefix})"))
    if pending:
        raise InputError(f"unused state dict entries: {', '.join(p for p, _ in pending)}", path="state_dict")
    return torch.nn.Sequential(*modules)


def _module_from_params(torch: Any, cls: type, kind: str, params: dict[str, Any], kwargs: dict[str, Any], where: str) -> Any:
    w = params.get("weight")
    if w is None and not kind.startswith("batchnorm"):
        raise InputError(f"{where}: missing 'weight'")
    try:
        if kind == "linear":
            m = cls(w.shape[1], w.shape[0], bias="bias" in params, dtype=torch.float64)
        elif kind.startswith("conv"):
            m = cls(w.shape[1] * kwargs.get("groups", 1), w.shape[0], tuple(w.shape[2:]), bias="bias" in params,
                    dtype=torch.float64, **kwargs)
        elif kind == "prelu":
            m = cls(w.numel(), dtype=torch.float64)
        else:
            m = cls(params["running_mean"].numel(), affine="weight" in params, dtype=torch.float64, **kwargs)
        m.load_state_dict(params)
    except (TypeError, KeyError, RuntimeError, AttributeError) as e:
        raise InputError(f"{where}: cannot build {cls.__name__} from the state dict: {e}") from None
    return m.eval()


def load_module(path: str) -> tuple[Any, tuple[int, ...] | None]:
    """A ``.pt``/``.pth`` file (a saved module, or ``{"state_dict", "layers"[, "input_shape"]}``)
    as ``(nn.Sequential or module, the file's input shape or None)``, opened with
    ``weights_only=True``."""
    torch = _torch()
    try:
        with torch.serialization.safe_globals(_module_classes(torch)):
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InputError("cannot read the file: no such file", file=str(path)) from None
    except Exception as e:  # UnpicklingError and friends: an unsupported or unsafe object
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(
            f"cannot load it with weights_only=True ({first}); save a module built from the supported "
            "modules, or {'state_dict': ..., 'layers': [...]}",
            file=str(path),
        ) from None
    try:
        if isinstance(obj, torch.nn.Module):
            return obj.eval(), None
        if isinstance(obj, Mapping) and "state_dict" in obj and "layers" in obj:
            shape = obj.get("input_shape")
            return modules_from_state_dict(obj["state_dict"], obj["layers"]), None if shape is None else tuple(shape)
        if isinstance(obj, Mapping):
            raise InputError("a bare state dict does not say its activations: save "
                             "{'state_dict': ..., 'layers': ['linear', 'relu', ...]} instead")
        raise InputError(f"expected a torch module or a state dict with a layer list, got {type(obj).__name__}")
    except InputError as e:
        raise e.at(file=str(path)) from None


def read_torch(path: str, input_shape: Sequence[int] | None = None) -> Case:
    """A ``.pt``/``.pth`` file (see `load_module`) as a `Case`, exactly."""
    module, shape = load_module(path)
    try:
        net = network_from_torch(module, input_shape or shape, Path(path).stem)
    except InputError as e:
        raise e.at(file=str(path)) from None
    net = Network(net.input_dim, net.layers, Path(path).stem, f"torch file {path}")
    return Case(net, Domain.whole(net.input_dim), {}, str(path))
