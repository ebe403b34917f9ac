"""Pooling windows: which input positions each output position of a pooling layer reads
(kernel, strides, padding, dilation, ceil mode, as ONNX and torch define them).

>>> pool_windows([4], [2], [2], [0, 0])
([2], [[((0,), True), ((1,), True)], [((2,), True), ((3,), True)]])
"""

from __future__ import annotations

import itertools
from typing import Sequence

from .errors import InputError


def pool_windows(
    spatial: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int] | None = None,
    ceil_mode: bool = False,
) -> tuple[list[int], list[list[tuple[tuple[int, ...], bool]]]]:
    """Output sizes, and for each output position (row-major) its window: (input position,
    inside the input?) pairs. Positions in the padding are marked False."""
    k = len(spatial)
    dil = list(dilations or [1] * k)
    out_sp = []
    for i in range(k):
        span = spatial[i] + pads[i] + pads[i + k] - dil[i] * (kernel[i] - 1) - 1
        o = (-(-span // strides[i]) if ceil_mode else span // strides[i]) + 1
        if ceil_mode and (o - 1) * strides[i] >= spatial[i] + pads[i]:
            o -= 1
        if o < 1:
            raise InputError(f"the pooling window {tuple(kernel)} does not fit the input {tuple(spatial)}")
        out_sp.append(o)
    windows = []
    for pos in itertools.product(*(range(o) for o in out_sp)):
        win = []
        for offs in itertools.product(*(range(s) for s in kernel)):
            p = tuple(pos[i] * strides[i] - pads[i] + offs[i] * dil[i] for i in range(k))
            inside = all(0 <= p[i] < spatial[i] for i in range(k))
            in_pad = all(-pads[i] <= p[i] < spatial[i] + pads[i + k] for i in range(k))
            if inside or in_pad:
                win.append((p, inside))
        windows.append(win)
    return out_sp, windows
