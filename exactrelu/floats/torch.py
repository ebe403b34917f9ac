"""The torch arrays behind ``backend="torch"`` of `exactrelu.floats.bounds.bounds`: the same
certified bounds, on a CPU or a GPU.

Everything runs in float64 (TF32 and reduced precision never apply to float64
products); on CUDA, cuDNN is disabled while convolutions run, so that they are
plain sums of products (no FFT or Winograd transform, whose rounding errors the
bounds do not cover). A device that does not exist is an `InputError`, never a
silent fall-back to another device.

>>> from exactrelu.core.network import Network, affine, activation
>>> net = Network.from_layers(1, [affine([[1], [1], [1]], [0, "-1/2", -1]), activation("relu"),
...                               affine([[2, -4, 2]])])
>>> from exactrelu.floats.bounds import bounds
>>> b = bounds(net, "inf", device="cpu", backend="torch")
>>> b.diagnostics["device"], round(float(b["K4"]), 9)
('cpu', 4.0)
>>> bounds(net, "inf", device="tpu", backend="torch")
Traceback (most recent call last):
...
exactrelu.core.errors.InputError: --device: expected a torch device among cpu, cuda, cuda:N, got 'tpu'
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from ..core.errors import InputError
from .arithmetic import NumpyArrays


def resolve_device(device: str | None) -> str:
    """``None`` → ``"cuda"`` when a GPU is there, else ``"cpu"``; a device that does not
    exist → `InputError`.

    >>> resolve_device("cpu")
    'cpu'
    """
    import torch

    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    text = str(device).strip().lower()
    try:
        dev = torch.device(text)
    except (RuntimeError, TypeError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):
        raise InputError(f"expected a torch device among cpu, cuda, cuda:N, got {device!r}", path="--device")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError(f"device {device!r} requested, but torch sees no CUDA GPU here", path="--device")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InputError(
                f"device {device!r} requested, but only {torch.cuda.device_count()} CUDA GPU(s) exist",
                path="--device",
            )
    return str(dev)


class TorchArrays(NumpyArrays):
    """torch float64 tensors on one device, with the primitives the bounds and operators use."""

    name = "torch"

    def __init__(self, device: str = "cpu") -> None:
        import torch

        self.torch = torch
        self.device = device
        self.dev = torch.device(device)

    def asarray(self, a: Any) -> Any:
        return self.torch.as_tensor(np.asarray(a, dtype=np.float64) if isinstance(a, np.ndarray) else a,
                                    dtype=self.torch.float64, device=self.dev)

    def to_numpy(self, a: Any) -> np.ndarray:
        return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)

    def to32(self, a: Any) -> Any:
        return a.float()

    def to64(self, a: Any) -> Any:
        return a.double()

    def matmul(self, a: Any, b: Any) -> Any:
        return a @ b

    def abs(self, a: Any) -> Any:
        return a.abs()

    def max(self, a: Any) -> float:
        return float(a.max().item()) if a.numel() else 0.0

    def sumsq(self, a: Any) -> float:
        return float((a * a).sum().item())

    def rowmax(self, a: Any) -> Any:
        return a.amax(dim=1, keepdim=True)

    def cat(self, parts: list[Any]) -> Any:
        return self.torch.cat(parts, dim=0)

    def size(self, a: Any) -> int:
        return int(a.numel())

    def scale_rows(self, a: Any, s: np.ndarray) -> Any:
        return a * self.asarray(np.asarray(s).reshape(-1, 1))

    def _conv_context(self) -> Any:
        if self.dev.type == "cuda":
            return self.torch.backends.cudnn.flags(enabled=False)
        return contextlib.nullcontext()

    def conv2d(self, x, w, stride, padding, groups):
        with self._conv_context():
            return self.torch.nn.functional.conv2d(x, w, None, stride, padding, 1, groups)

    def conv2d_t(self, y, w, stride, padding, groups, in_hw):
        kh, kw = w.shape[2], w.shape[3]
        ho, wo = y.shape[2], y.shape[3]
        extra = (in_hw[0] - ((ho - 1) * stride[0] - 2 * padding[0] + kh),
                 in_hw[1] - ((wo - 1) * stride[1] - 2 * padding[1] + kw))
        with self._conv_context():
            return self.torch.nn.functional.conv_transpose2d(y, w, None, stride, padding, extra, groups)



def torch_arrays(device: str | None) -> TorchArrays:
    """Torch's arrays on ``device`` (None: "cuda" when a GPU is there, else "cpu")."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise InputError("the torch backend needs torch (pip install 'exactrelu[torch]')", path="--backend") from None
    return TorchArrays(resolve_device(device))
