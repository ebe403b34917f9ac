"""The ``.nnet`` format (ACAS Xu; sisl/NNet), read and written exactly.

The file: ``//`` comment lines; ``numLayers, inputSize, outputSize, maxLayerSize``; the
layer sizes (input first); an unused flag; the input minimums, the input maximums; the
means of the inputs and one mean for all outputs; the ranges likewise; then, per layer,
its weight rows and its biases (one per line). Hidden layers are ReLU, the last is affine.

The reference evaluation normalises each input, ``(x_i − mean_i) / range_i``, runs the
network, and rescales each output, ``y_j · range_out + mean_out`` (the last mean and
range). It also clamps inputs into ``[min_i, max_i]``; here the minimums and maximums are
the case's box domain instead, on which the clamp is the identity. The normalisation
becomes two exact affine layers, and every decimal is read as the decimal it is.

>>> import tempfile, os
>>> text = '''// tiny
... 1,1,1,1,
... 1,1,
... 0,
... -1,
... 3,
... 1,0.5,
... 2,4,
... 0.25,
... 0.5,
... '''
>>> with tempfile.TemporaryDirectory() as d:
...     p = os.path.join(d, "t.nnet")
...     _ = open(p, "w").write(text)
...     case = read_nnet(p)
>>> case.network.evaluate([3])   # ((3 - 1)/2 · 1/4 + 1/2) · 4 + 1/2 = 7/2
(Fraction(7, 2),)
>>> case.domain.box
((Fraction(-1, 1), Fraction(3, 1)),)
"""

from __future__ import annotations

import warnings
from fractions import Fraction
from pathlib import Path

from ..core.domain import Domain
from ..core.errors import InputError
from ..core.network import AffineLayer, Network, activation
from ..core.numbers import parse_number
from .case import Case
from .files import write_atomic
from .layers import InexactConversion


def read_nnet(path: str, normalize: bool = True) -> Case:
    """A ``.nnet`` file as a `Case`: box domain from the input bounds, normalisation as
    affine layers (omitted when ``normalize`` is False, or when it is the identity)."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the file: {e}", file=str(p)) from None
    try:
        return _parse(lines, str(p), normalize)
    except InputError as e:
        raise e.at(file=str(p)) from None


def _parse(lines: list[str], path: str, normalize: bool) -> Case:
    rows: list[tuple[int, list[str]]] = []
    for n, line in enumerate(lines, start=1):
        if line.startswith("//") or not line.strip():
            continue
        rows.append((n, [t.strip() for t in line.split(",") if t.strip()]))
    it = iter(rows)

    def take(count: int | None, what: str, first_only: bool = False) -> list[Fraction]:
        try:
            n, toks = next(it)
        except StopIteration:
            raise InputError(f"unexpected end of file: expected {what}") from None
        if first_only:
            toks = toks[:1]
        if count is not None and len(toks) != count:
            raise InputError(f"expected {count} numbers ({what}), got {len(toks)}", path=f"line {n}")
        return [parse_number(t, f"line {n}") for t in toks]

    def ints(vals: list[Fraction], what: str) -> list[int]:
        if any(v.denominator != 1 or v < 1 for v in vals):
            raise InputError(f"expected positive integers ({what}), got {[str(v) for v in vals]}")
        return [int(v) for v in vals]

    n_layers, n_in, n_out, _ = ints(take(4, "numLayers, inputSize, outputSize, maxLayerSize"), "header")
    sizes = ints(take(n_layers + 1, "the layer sizes"), "layer sizes")
    if sizes[0] != n_in or sizes[-1] != n_out:
        raise InputError(f"the layer sizes {sizes} do not start with {n_in} inputs and end with {n_out} outputs")
    take(None, "the unused flag line")
    mins = take(n_in, "the input minimums")
    maxes = take(n_in, "the input maximums")
    means = take(n_in + 1, "the input means and the output mean")
    ranges = take(n_in + 1, "the input ranges and the output range")
    if any(r == 0 for r in ranges):
        raise InputError("expected nonzero ranges (they divide)")
    layers: list = []
    if normalize and (any(means[:-1]) or any(r != 1 for r in ranges[:-1])):
        layers.append(_diagonal([1 / r for r in ranges[:-1]], [-m / r for m, r in zip(means[:-1], ranges[:-1])]))
    for k in range(n_layers):
        weight = tuple(tuple(take(sizes[k], f"a weight row of layer {k + 1}")) for _ in range(sizes[k + 1]))
        bias = tuple(take(1, f"a bias of layer {k + 1}", first_only=True)[0] for _ in range(sizes[k + 1]))
        layers.append(AffineLayer(weight, bias))
        if k < n_layers - 1:
            layers.append(activation("relu"))
    if normalize and (means[-1] != 0 or ranges[-1] != 1):
        layers.append(_diagonal([ranges[-1]] * n_out, [means[-1]] * n_out))
    name = Path(path).stem
    net = Network.from_layers(n_in, layers, name, f".nnet file {path}")
    domain = Domain.from_box([[lo, hi] for lo, hi in zip(mins, maxes)])
    return Case(net, domain, {}, path)


def _diagonal(scale: list[Fraction], shift: list[Fraction]) -> AffineLayer:
    n = len(scale)
    zero = Fraction(0)
    return AffineLayer(tuple(tuple(scale[i] if i == j else zero for j in range(n)) for i in range(n)), tuple(shift))


def decimal_text(q: Fraction) -> tuple[str, bool]:
    """The decimal of a rational: exact when its denominator is 2^a·5^b, else 17 digits.

    >>> decimal_text(Fraction(-3, 8)), decimal_text(Fraction(1, 3))
    (('-0.375', True), ('3.3333333333333331e-01', False))
    """
    d = q.denominator
    a = b = 0
    while d % 2 == 0:
        d //= 2
        a += 1
    while d % 5 == 0:
        d //= 5
        b += 1
    if d != 1:
        return f"{float(q):.16e}", False
    k = max(a, b)
    num = abs(q.numerator) * 10**k // q.denominator
    digits = str(num).rjust(k + 1, "0")
    text = digits if k == 0 else f"{digits[:-k]}.{digits[-k:]}".rstrip("0").rstrip(".")
    return ("-" if q < 0 else "") + text, True


def write_nnet(case: Case, path: str) -> None:
    """Write a ReLU network on a box domain as ``.nnet`` (means 0, ranges 1).

    Weights are written as exact decimals where they have one, else to 17 significant
    digits with an `InexactConversion` warning.
    """
    net, dom = case.network, case.domain
    chain = net.chain
    for l, fns in enumerate(chain.acts):
        if any(f.kind != "relu" for f in fns):
            raise InputError(f"the .nnet format holds ReLU networks only; hidden layer {l} is {fns[0].kind}")
    if dom.box is None:
        raise InputError("the .nnet format needs input bounds: give the case a box domain")
    sizes = [net.input_dim] + [a.out_dim for a in chain.affines]
    inexact = 0

    def fmt(values: tuple[Fraction, ...]) -> str:
        nonlocal inexact
        out = []
        for v in values:
            text, ok = decimal_text(v)
            inexact += not ok
            out.append(text)
        return ",".join(out) + ","

    lines = [f"// written by exactrelu: {net.name}" if net.name else "// written by exactrelu"]
    lines.append(f"{len(chain.affines)},{net.input_dim},{net.output_dim},{max(sizes)},")
    lines.append(",".join(map(str, sizes)) + ",")
    lines.append("0,")
    lines.append(fmt(tuple(lo for lo, _ in dom.box)))
    lines.append(fmt(tuple(hi for _, hi in dom.box)))
    lines.append(fmt(tuple(Fraction(0) for _ in range(net.input_dim + 1))))
    lines.append(fmt(tuple(Fraction(1) for _ in range(net.input_dim + 1))))
    for aff in chain.affines:
        lines += [fmt(row) for row in aff.weight]
        lines += [fmt((b,)) for b in aff.bias]
    if inexact:
        warnings.warn(
            f"{inexact} number(s) have no finite decimal; written to 17 significant digits",
            InexactConversion,
            stacklevel=2,
        )
    write_atomic(path, "\n".join(lines) + "\n")
