"""torch models in, exactly: an ``nn.Sequential`` of supported modules, or a state dict with
its layer list, or a saved ``.pt`` file holding either.

Supported modules: Linear, ReLU, ReLU6, LeakyReLU, PReLU, Hardtanh, Identity, Dropout
(inference), Flatten, Unflatten, Conv1d, Conv2d (zero padding), AvgPool1d/2d, MaxPool1d/2d,
BatchNorm1d/2d (inference: running statistics), and nested Sequentials. Float weights
become the dyadic rationals they denote (a batch norm's ``sqrt(var + eps)`` is the one
rounding; see `exactrelu.io.layers`). Tensors carry a batch axis of size one; a
network whose first module is not a Linear needs ``input_shape`` (without the batch
axis, e.g. ``(1, 8, 8)``).

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
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..core.domain import Domain
from ..core.errors import InputError
from ..core.network import Network
from ..core.numbers import to_fraction
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


def _array(t: Any) -> np.ndarray:
    return exact_array(t.detach().cpu().double().numpy())


def input_shape_of(module: Any, input_shape: Sequence[int] | None = None) -> tuple[int, ...]:
    """``input_shape`` (without the batch axis) when given, else ``(in_features,)`` of a
    first Linear module; `InputError` otherwise."""
    if input_shape is not None:
        return tuple(int(s) for s in input_shape)
    torch = _torch()
    first = next((m for m in _flatten(torch, module) if not isinstance(m, (torch.nn.Identity, torch.nn.Dropout))), None)
    if not isinstance(first, torch.nn.Linear):
        raise InputError("give the input shape without the batch axis (input_shape=, or --input-shape on the "
                         "command line): the first module is not a Linear", path="input_shape")
    return (first.in_features,)


def network_from_torch(module: Any, input_shape: Sequence[int] | None = None, name: str = "") -> Network:
    """The network a torch module computes (in inference mode), with exact weights."""
    torch = _torch()
    mods = list(_flatten(torch, module))
    builder = LayerBuilder((1, *input_shape_of(module, input_shape)))
    t = builder.input()
    for i, m in enumerate(mods):
        t = _module(torch, builder, t, m, f"module {i} ({type(m).__name__})")
    return builder.network(t, name or type(module).__name__, "torch module")


def _flatten(torch: Any, module: Any) -> Any:
    if isinstance(module, torch.nn.Sequential):
        for m in module:
            yield from _flatten(torch, m)
    else:
        yield module


def _pair(v: Any, k: int) -> list[int]:
    return list(v) if isinstance(v, (tuple, list)) else [int(v)] * k


def _module(torch: Any, b: LayerBuilder, t: Tensor, m: Any, where: str) -> Tensor:
    nn = torch.nn
    if isinstance(m, (nn.Identity, nn.Dropout)):
        return t
    if isinstance(m, nn.Linear):
        if t.shape[-1] != m.in_features:
            raise InputError(f"{where}: expected {m.in_features} input features, got the shape {t.shape[1:]}")
        t = matmul(t, _array(m.weight).T)
        return add_const(t, _array(m.bias)) if m.bias is not None else t
    if isinstance(m, nn.ReLU):
        return b.activate(t, "relu", where)
    if isinstance(m, nn.ReLU6):
        return b.activate(t, "hardtanh", where, min=0, max=6)
    if isinstance(m, nn.Hardtanh):
        return b.activate(t, "hardtanh", where, min=Fraction(m.min_val), max=Fraction(m.max_val))
    if isinstance(m, nn.LeakyReLU):
        return b.activate(t, "leaky_relu", where, alpha=Fraction(m.negative_slope))
    if isinstance(m, nn.PReLU):
        w = _array(m.weight).ravel()
        if w.size == 1:
            return b.activate(t, "leaky_relu", where, alpha=to_fraction(w[0]))
        if len(t.shape) < 2 or t.shape[1] != w.size:
            raise InputError(f"{where}: expected {w.size} channels on axis 1, got the shape {t.shape}")
        per = np.broadcast_to(w.reshape((1, w.size) + (1,) * (len(t.shape) - 2)), t.shape)
        return b.activate(t, "prelu", where, alpha=[to_fraction(v) for v in per.ravel()])
    if isinstance(m, nn.Flatten):
        shape = list(t.shape)
        s, e = m.start_dim % len(shape), m.end_dim % len(shape)
        return reshape(t, shape[:s] + [int(np.prod(shape[s:e + 1]))] + shape[e + 1:])
    if isinstance(m, nn.Unflatten):
        shape = list(t.shape)
        d = m.dim % len(shape)
        return reshape(t, shape[:d] + list(m.unflattened_size) + shape[d + 1:])
    if isinstance(m, (nn.Conv1d, nn.Conv2d)):
        k = 1 if isinstance(m, nn.Conv1d) else 2
        if m.padding_mode != "zeros":
            raise InputError(f"{where}: padding_mode {m.padding_mode!r} is not supported (only 'zeros')")
        if len(t.shape) != k + 2:
            raise InputError(f"{where}: expected an input of shape (C, {'L' if k == 1 else 'H, W'}), got {t.shape[1:]}")
        dil = _pair(m.dilation, k)
        strides = _pair(m.stride, k)
        if isinstance(m.padding, str):
            pads = _same_pads(t.shape[2:], m.kernel_size, dil) if m.padding == "same" else [0] * (2 * k)
        else:
            pads = _pair(m.padding, k) * 2
        bias = _array(m.bias) if m.bias is not None else None
        return conv(t, _array(m.weight), bias, strides=strides, pads=pads, dilations=dil, group=m.groups)
    if isinstance(m, (nn.AvgPool1d, nn.AvgPool2d, nn.MaxPool1d, nn.MaxPool2d)):
        k = 1 if isinstance(m, (nn.AvgPool1d, nn.MaxPool1d)) else 2
        if len(t.shape) != k + 2:
            raise InputError(f"{where}: expected an input with {k} spatial axes, got the shape {t.shape[1:]}")
        kernel = _pair(m.kernel_size, k)
        strides = _pair(m.stride if m.stride is not None else m.kernel_size, k)
        pads = _pair(m.padding, k) * 2
        if isinstance(m, (nn.AvgPool1d, nn.AvgPool2d)):
            if getattr(m, "divisor_override", None):
                raise InputError(f"{where}: divisor_override is not supported")
            return avg_pool(t, kernel, strides, pads, count_include_pad=m.count_include_pad, ceil_mode=m.ceil_mode)
        if m.return_indices:
            raise InputError(f"{where}: return_indices is not supported")
        return max_pool(b, t, kernel, strides, pads, _pair(m.dilation, k), m.ceil_mode, where)
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        if m.running_mean is None or m.running_var is None:
            raise InputError(f"{where}: expected running statistics (track_running_stats=True)")
        c = m.num_features
        one = np.array([exact_scalar(1)] * c, dtype=object)
        zero = np.array([exact_scalar(0)] * c, dtype=object)
        scale = _array(m.weight) if m.weight is not None else one
        shift = _array(m.bias) if m.bias is not None else zero
        return batch_norm(t, scale, shift, _array(m.running_mean), _array(m.running_var), Fraction(m.eps), where)
    raise InputError(
        f"{where}: the module {type(m).__name__} is not supported "
        f"(supported: {', '.join(c.__name__ for c in _module_classes(torch) if c is not nn.Sequential)})"
    )


def _same_pads(spatial: Sequence[int], kernel: Sequence[int] | int, dil: Sequence[int]) -> list[int]:
    k = len(spatial)
    ks = _pair(kernel, k)
    total = [dil[i] * (ks[i] - 1) for i in range(k)]
    return [p // 2 for p in total] + [p - p // 2 for p in total]


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
