"""A small CNN on scikit-learn's bundled 8×8 digits (no download), trained with torch, seeded.

Architecture (1×8×8 inputs scaled to [0, 1]):
``Conv2d(1, 8, 3, padding=1) → ReLU → Conv2d(8, 16, 3, stride=2, padding=1) → ReLU →
Flatten → Linear(256, 32) → ReLU → Linear(32, 10)``: 800 hidden neurons, 9,802 parameters.
`save_case` writes it as an exactrelu case: the float32 weights are the exact dyadic
rationals they denote, each convolution an explicit affine layer. `module_from_case`
rebuilds the torch module from such a case (reading the kernels back out of the explicit
matrices and checking that they rebuild those matrices exactly), so the case is the one
source of truth for both the exact and the implicit float paths.

Training takes a few seconds of CPU (Adam, 40 epochs, batch 64; torch seeded, one thread).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..core.errors import InputError

INPUT_SHAPE = (1, 8, 8)
SOURCE = ("exactrelu.models.digits: CNN trained with torch (seed {seed}) on scikit-learn's load_digits, "
          "inputs scaled to [0, 1]; test accuracy {accuracy:.4f} on a seeded 20% split")


def architecture() -> Any:
    """The untrained module."""
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(256, 32), nn.ReLU(), nn.Linear(32, 10),
    )


def maxpool_architecture() -> Any:
    """The same sizes with two 2×2 max-pools instead of the strided convolution (for the
    float paths' max-pool treatments, `exactrelu.io.torch.operators_from_torch`'s ``max_pool``)."""
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10),
    )


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, train labels, test images, test labels); images (N, 1, 8, 8) in [0, 1]."""
    from sklearn.datasets import load_digits

    d = load_digits()
    X = (d.images / 16.0).astype(np.float32).reshape(-1, *INPUT_SHAPE)
    y = d.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(X))
    cut = int(0.8 * len(X))
    return X[order[:cut]], y[order[:cut]], X[order[cut:]], y[order[cut:]]


@dataclass(frozen=True)
class Trained:
    module: Any
    accuracy: float
    seed: int


def train(seed: int = 0, epochs: int = 40, build: Callable[[], Any] = architecture) -> Trained:
    """Train the CNN that ``build`` makes (deterministic on one CPU thread for a given seed
    and torch version)."""
    import torch

    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        Xtr, ytr, Xte, yte = data(seed)
        model = build()
        opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
        X, y = torch.from_numpy(Xtr), torch.from_numpy(ytr)
        gen = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            perm = torch.randperm(len(X), generator=gen)
            for i in range(0, len(X), 64):
                idx = perm[i:i + 64]
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
                loss.backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            acc = float((model(torch.from_numpy(Xte)).argmax(1) == torch.from_numpy(yte)).float().mean())
    finally:
        torch.set_num_threads(threads)
    return Trained(model, acc, seed)


def save_case(trained: Trained, path: str) -> Any:
    """Write the trained CNN as a case (domain: the box [0, 1]^64); returns the exact `Network`."""
    from ..core.domain import Domain
    from ..floats.operators import to_network
    from ..io.case import write_case
    from ..io.torch import operators_from_torch

    op = operators_from_torch(trained.module, INPUT_SHAPE, name="digits-cnn")
    net = to_network(op, "digits-cnn", SOURCE.format(seed=trained.seed, accuracy=trained.accuracy))
    write_case(net, path, domain=Domain.from_box([[0, 1]] * 64))
    return net


def module_from_case(net: Any) -> Any:
    """The torch module (float32 weights) of a digits-cnn case's exact `Network`."""
    import torch

    from ..floats.operators import to_network
    from ..io.torch import operators_from_torch

    chain = net.chain
    if [a.out_dim for a in chain.affines] != [512, 256, 32, 10] or net.input_dim != 64:
        raise InputError("expected the digits-cnn architecture (64 → 512 → 256 → 32 → 10)", path="layers")
    m = architecture()
    convs = [(m[0], chain.affines[0], (8, 8)), (m[2], chain.affines[1], (8, 8))]
    with torch.no_grad():
        for conv, aff, (h, w) in convs:
            co, ci, kh, kw = conv.weight.shape
            ho, wo = (h + 2 - kh) // conv.stride[0] + 1, (w + 2 - kw) // conv.stride[1] + 1
            for o in range(co):
                row = o * ho * wo + 1 * wo + 1  # output pixel (1, 1) sees the whole kernel
                oi, oj = conv.stride[0] * 1 - 1, conv.stride[1] * 1 - 1  # its window's top-left input
                for c in range(ci):
                    for a in range(kh):
                        for b in range(kw):
                            conv.weight[o, c, a, b] = float(aff.weight[row][c * h * w + (oi + a) * w + oj + b])
                conv.bias[o] = float(aff.bias[row])
        for lin, aff in ((m[5], chain.affines[2]), (m[7], chain.affines[3])):
            lin.weight.copy_(torch.tensor([[float(v) for v in r] for r in aff.weight]))
            lin.bias.copy_(torch.tensor([float(v) for v in aff.bias]))
    m.eval()
    rebuilt = to_network(operators_from_torch(m, INPUT_SHAPE))
    if any(a.weight != b.weight or a.bias != b.bias for a, b in zip(rebuilt.chain.affines, chain.affines)):
        raise InputError("the case's matrices are not those of a digits-cnn convolution", path="layers")
    return m

