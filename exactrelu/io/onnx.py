"""ONNX models in and out, exactly.

Reading walks the graph node by node (`exactrelu.io.layers`): every float weight becomes
the dyadic rational it denotes, affine operators compose exactly, and each activation
closes an affine layer. Supported operators: Gemm (alpha, beta, transA, transB), MatMul,
Add, Sub, Mul and Div by constants, Neg, Relu, LeakyRelu, PRelu, Clip (as hardtanh, or a
one-sided clamp), Abs, Conv, BatchNormalization (inference; folded), AveragePool,
GlobalAveragePool, MaxPool (exactly, as pairwise maxima), Flatten, Reshape, Transpose,
Squeeze, Unsqueeze, Slice, Gather, Expand, Tile, Concat, Identity, Dropout (inference),
Constant, Shape, and any operator whose inputs are all integer constants (shape
arithmetic). Anything else is an `InputError` naming the operator and the node.

Writing uses float64 weights; a rational that binary64 cannot hold is rounded, with an
`InexactConversion` warning. The case's name, source and domain travel in the model's
metadata, so that case → ONNX → case is the identity when every weight is a binary64 number.

>>> from exactrelu.core.network import Network, affine, activation
>>> net = Network.from_layers(1, [affine([[1], [-1]], [0, "1/2"]), activation("relu"), affine([[1, 1]])])
>>> network_from_onnx(network_to_onnx(net)).layers == net.layers
True
"""

from __future__ import annotations

import json
import warnings
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from ..core.domain import Domain
from ..core.errors import InputError
from ..core.network import ActivationLayer, AffineLayer, Network
from ..core.numbers import to_fraction
from .case import Case
from .layers import (
    InexactConversion,
    LayerBuilder,
    Tensor,
    add,
    add_const,
    avg_pool,
    batch_norm,
    conv,
    exact_array,
    from_const,
    matmul,
    max_pool,
    mul_const,
    rmatmul,
    take,
    transpose,
)

OPSET = 17
_DATA_OPS = {"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Slice", "Gather", "Expand", "Tile"}
SUPPORTED = tuple(
    sorted(
        {"Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Neg", "Relu", "LeakyRelu", "PRelu", "Clip", "Abs",
         "Conv", "BatchNormalization", "AveragePool", "GlobalAveragePool", "MaxPool", "Concat", "Identity",
         "Dropout", "Constant", "Shape"} | _DATA_OPS
    )
)


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise InputError("reading ONNX needs the 'onnx' package: pip install 'exactrelu[onnx]'") from None
    return onnx


def read_onnx(path: str) -> Case:
    """An ONNX file as a `Case` (domain from the model's metadata, else all of R^n)."""
    onnx = _onnx()
    try:
        model = onnx.load(str(path))
    except Exception as e:  # onnx raises DecodeError, OSError, ...
        raise InputError(f"cannot read an ONNX model: {e}", file=str(path)) from None
    try:
        net = network_from_onnx(model, source=f"ONNX file {path}")
        domain = _domain_from_metadata(model, net.input_dim)
    except InputError as e:
        raise e.at(file=str(path)) from None
    return Case(net, domain, {}, str(path))


def _metadata(model: Any) -> dict[str, str]:
    return {p.key: p.value for p in model.metadata_props}


def _domain_from_metadata(model: Any, dim: int) -> Domain:
    text = _metadata(model).get("exactrelu.domain")
    if not text:
        return Domain.whole(dim)
    from .case import loads_json

    try:
        data = loads_json(text)
    except InputError as e:
        raise e.at(prefix="metadata 'exactrelu.domain'") from None
    return Domain.from_json(data, dim)


def _tensor(numpy_helper: Any, tensor: Any, where: str) -> Any:
    """A tensor's array; a corrupt one (unknown element type, data not matching its shape) is
    an `InputError` at ``where``."""
    try:
        return numpy_helper.to_array(tensor)
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise InputError(f"expected a well-formed tensor: {e}", path=where) from None


def network_from_onnx(model: Any, name: str = "", source: str = "") -> Network:
    """The network an ONNX model computes, with exact rational weights."""
    onnx = _onnx()
    from onnx import numpy_helper

    graph = model.graph
    meta = _metadata(model)
    name = name or meta.get("exactrelu.name", "") or graph.name
    source = meta.get("exactrelu.source", "") or source
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), OPSET)
    values: dict[str, Any] = {}
    for init in graph.initializer:
        values[init.name] = _const(_tensor(numpy_helper, init, f"initializer '{init.name}'"),
                                   f"initializer '{init.name}'")
    inputs = [i for i in graph.input if i.name not in values]
    if len(inputs) != 1:
        raise InputError(f"expected one graph input, got {len(inputs)}: {[i.name for i in inputs]}", path="graph.input")
    builder = LayerBuilder(_input_shape(inputs[0]))
    values[inputs[0].name] = builder.input()
    for k, node in enumerate(graph.node):
        where = f"node {k} '{node.name or node.output[0]}' ({node.op_type})"
        if node.domain not in ("", "ai.onnx"):
            raise InputError(f"{where}: the operator domain {node.domain!r} is not supported", path=f"graph.node[{k}]")
        ins = []
        for n in node.input:
            if n and n not in values:
                raise InputError(f"{where}: unknown input {n!r}", path=f"graph.node[{k}]")
            ins.append(values[n] if n else None)
        for t in ins:
            if isinstance(t, Tensor):
                builder.check(t, where)
        try:
            outs = _apply(onnx, node, ins, builder, opset, where)
        except InputError as e:
            raise (e if e.path else e.at(prefix=f"graph.node[{k}]")) from None
        for n, v in zip(node.output, outs):
            if n:
                values[n] = v
    if len(graph.output) != 1:
        raise InputError(f"expected one graph output, got {len(graph.output)}", path="graph.output")
    out = values.get(graph.output[0].name)
    if not isinstance(out, Tensor):
        raise InputError("expected the graph output to depend on the input", path="graph.output")
    return builder.network(out, name, source)


def _input_shape(value_info: Any) -> tuple[int, ...]:
    tt = value_info.type.tensor_type
    if not tt.HasField("shape"):
        raise InputError(f"the input {value_info.name!r} has no shape", path="graph.input")
    shape = []
    for i, d in enumerate(tt.shape.dim):
        if d.HasField("dim_value") and d.dim_value > 0:
            shape.append(d.dim_value)
        elif i == 0:
            shape.append(1)  # a batch axis: the network is read for one sample
        else:
            raise InputError(f"the input {value_info.name!r} has an unknown size on axis {i}", path="graph.input")
    return tuple(shape) or (1,)


def _const(arr: np.ndarray, where: str) -> np.ndarray:
    if arr.dtype.kind == "f":
        try:
            return exact_array(arr)
        except InputError as e:
            raise e.at(prefix=where) from None
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64)
    raise InputError(f"{where}: expected a numeric tensor, got dtype {arr.dtype}")


def _is_int(v: Any) -> bool:
    return isinstance(v, np.ndarray) and v.dtype != object


def _exact(v: np.ndarray) -> np.ndarray:
    return v if v.dtype == object else exact_array(v)


def _attrs(onnx: Any, node: Any) -> dict[str, Any]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _run_reference(onnx: Any, node: Any, arrays: Sequence[np.ndarray | None], opset: int) -> list[np.ndarray]:
    """Run one node with onnx's reference evaluator on integer arrays (shapes, indices)."""
    from onnx import helper
    from onnx.reference import ReferenceEvaluator

    names = [f"i{j}" if a is not None else "" for j, a in enumerate(arrays)]
    outs = [f"o{j}" for j in range(len(node.output))]
    new = helper.make_node(node.op_type, names, outs, **_attrs(onnx, node))
    feeds = {n: a for n, a in zip(names, arrays) if n}
    vi = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape) for n, a in feeds.items()]
    graph = helper.make_graph([new], "g", vi, [helper.make_tensor_value_info(o, 0, None) for o in outs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    try:
        return [np.asarray(r) for r in ReferenceEvaluator(model).run(None, feeds)]
    except Exception as e:
        raise InputError(f"cannot evaluate {node.op_type} on its constant inputs: {e}") from None


def _apply(onnx: Any, node: Any, ins: list[Any], b: LayerBuilder, opset: int, where: str) -> list[Any]:
    op = node.op_type
    at = _attrs(onnx, node)
    x = ins[0] if ins else None
    present = [v for v in ins if v is not None]
    if op == "Constant":
        return [_constant_node(onnx, at, where)]
    if op in ("Identity", "Dropout"):
        if op == "Dropout" and len(ins) > 2 and ins[2] is not None and bool(np.asarray(ins[2]).item()):
            raise InputError(f"{where}: expected inference mode (training_mode false)")
        return [x]
    if op == "Shape":
        shape = np.array(x.shape if isinstance(x, Tensor) else np.shape(x), dtype=np.int64)
        return [shape[at.get("start", 0): at.get("end", len(shape))]]
    if present and all(_is_int(v) for v in present):
        return _run_reference(onnx, node, ins, opset)
    if op in _DATA_OPS:
        if any(isinstance(v, Tensor) for v in ins[1:]) or any(v is not None and not _is_int(v) for v in ins[1:]):
            raise InputError(f"{where}: expected constant integer shapes, axes or indices")
        return [_move(onnx, node, x, ins[1:], opset)]
    if op == "Concat":
        return [_concat(onnx, node, ins, opset, where)]
    if op in ("Add", "Sub", "Mul", "Div"):
        return [_arith(op, ins[0], ins[1], where)]
    if op == "Neg":
        return [mul_const(x, np.array(-1)) if isinstance(x, Tensor) else -_exact(x)]
    if op == "MatMul":
        return [_matmul(ins[0], ins[1], where)]
    if op == "Gemm":
        return [_gemm(ins, at, where)]
    if not isinstance(x, Tensor):
        raise InputError(f"{where}: expected the input to depend on the network input "
                         f"(constant folding of {op} is not supported)")
    if op == "Relu":
        return [b.activate(x, "relu", where)]
    if op == "Abs":
        return [b.activate(x, "abs", where)]
    if op == "LeakyRelu":
        return [b.activate(x, "leaky_relu", where, alpha=exact_array(np.float32(at.get("alpha", 0.01))).item())]
    if op == "PRelu":
        slope = _exact(ins[1])
        if slope.ndim <= 1 and slope.size == 1:  # one shared slope: a leaky ReLU
            return [b.activate(x, "leaky_relu", where, alpha=to_fraction(slope.ravel()[0]))]
        slope = np.broadcast_to(slope, x.shape)
        return [b.activate(x, "prelu", where, alpha=[to_fraction(v) for v in slope.ravel()])]
    if op == "Clip":
        return [_clip(x, ins, at, b, opset, where)]
    if op == "Conv":
        return [_conv(x, ins, at, where)]
    if op == "BatchNormalization":
        if at.get("training_mode", 0):
            raise InputError(f"{where}: expected inference mode (training_mode 0)")
        scale, shift, mean, var = (_exact(v) for v in ins[1:5])
        return [batch_norm(x, scale, shift, mean, var, np.float32(at.get("epsilon", 1e-5)), where)]
    if op in ("AveragePool", "MaxPool"):
        k = len(x.shape) - 2
        kernel = list(at["kernel_shape"])
        strides = list(at.get("strides", [1] * k))
        dil = list(at.get("dilations", [1] * k))
        pads = _pads(at, x.shape[2:], kernel, strides, dil, where)
        ceil = bool(at.get("ceil_mode", 0))
        if op == "AveragePool":
            if any(d != 1 for d in dil):
                raise InputError(f"{where}: dilated average pools are not supported")
            return [avg_pool(x, kernel, strides, pads, count_include_pad=bool(at.get("count_include_pad", 0)), ceil_mode=ceil)]
        if len(node.output) > 1 and node.output[1]:
            raise InputError(f"{where}: the Indices output of MaxPool is not supported")
        return [max_pool(b, x, kernel, strides, pads, dil, ceil, where)]
    if op == "GlobalAveragePool":
        spatial = list(x.shape[2:])
        return [avg_pool(x, spatial, [1] * len(spatial), [0] * (2 * len(spatial)))]
    raise InputError(f"{where}: the operator {op} is not supported (supported: {', '.join(SUPPORTED)})")


def _constant_node(onnx: Any, at: dict[str, Any], where: str) -> np.ndarray:
    from onnx import numpy_helper

    if "value" in at:
        return _const(_tensor(numpy_helper, at["value"], where), where)
    if "value_float" in at:
        return exact_array(np.float32(at["value_float"]))
    if "value_floats" in at:
        return exact_array(np.array(at["value_floats"], dtype=np.float32))
    if "value_int" in at:
        return np.array(at["value_int"], dtype=np.int64)
    if "value_ints" in at:
        return np.array(at["value_ints"], dtype=np.int64)
    raise InputError(f"{where}: expected a numeric constant (value, value_float(s) or value_int(s))")


def _move(onnx: Any, node: Any, x: Any, rest: list[Any], opset: int) -> Any:
    """A data-movement operator, run on the array of flat indices, then gathered exactly."""
    size = x.size if isinstance(x, Tensor) else int(np.size(x))
    shape = x.shape if isinstance(x, Tensor) else np.shape(x)
    idx = np.arange(size, dtype=np.int64).reshape(shape)
    moved = _run_reference(onnx, node, [idx] + rest, opset)[0]
    if isinstance(x, Tensor):
        return take(x, moved)
    return np.asarray(x).ravel()[moved]


def _concat(onnx: Any, node: Any, ins: list[Any], opset: int, where: str) -> Any:
    tensors = [v for v in ins if isinstance(v, Tensor)]
    if not tensors:
        return np.concatenate([_exact(v) for v in ins], axis=_attrs(onnx, node)["axis"])
    like = tensors[0]
    parts = [v if isinstance(v, Tensor) else from_const(_exact(v), like) for v in ins]
    for p in parts:
        if p.base != like.base:
            raise InputError(f"{where}: expected all inputs to depend on the same layer")
    offsets = np.cumsum([0] + [p.size for p in parts])
    idx = [np.arange(o, o + p.size, dtype=np.int64).reshape(p.shape) for o, p in zip(offsets, parts)]
    moved = _run_reference(onnx, node, idx, opset)[0]
    stacked = np.concatenate([p.rows() for p in parts], axis=0)
    return Tensor(stacked[moved], like.base)


def _arith(op: str, a: Any, c: Any, where: str) -> Any:
    ta, tc = isinstance(a, Tensor), isinstance(c, Tensor)
    if not ta and not tc:
        a, c = _exact(a), _exact(c)
        if op == "Div" and np.any(c == 0):
            raise InputError(f"{where}: division by zero")
        return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op](a, c)
    if op == "Add":
        return add(a, c) if ta and tc else add_const(a, _exact(c)) if ta else add_const(c, _exact(a))
    if op == "Sub":
        if ta and tc:
            return add(a, mul_const(c, np.array(-1)))
        return add_const(a, -_exact(c)) if ta else add_const(mul_const(c, np.array(-1)), _exact(a))
    if ta and tc:
        raise InputError(f"{where}: {op} of two input-dependent tensors is not piecewise linear")
    if op == "Mul":
        return mul_const(a, _exact(c)) if ta else mul_const(c, _exact(a))
    if tc:
        raise InputError(f"{where}: division by an input-dependent tensor is not piecewise linear")
    c = _exact(c)
    if np.any(c == 0):
        raise InputError(f"{where}: division by zero")
    return mul_const(a, 1 / c)


def _matmul(a: Any, c: Any, where: str) -> Any:
    if isinstance(a, Tensor) and isinstance(c, Tensor):
        raise InputError(f"{where}: a product of two input-dependent tensors is not piecewise linear")
    if isinstance(a, Tensor):
        return matmul(a, _exact(c))
    if isinstance(c, Tensor):
        return rmatmul(_exact(a), c)
    return np.matmul(_exact(a), _exact(c))


def _gemm(ins: list[Any], at: dict[str, Any], where: str) -> Any:
    a, c = ins[0], ins[1]
    if at.get("transA", 0):
        a = transpose(a) if isinstance(a, Tensor) else _exact(a).T
    if at.get("transB", 0):
        c = transpose(c) if isinstance(c, Tensor) else _exact(c).T
    y = _matmul(a, c, where)
    alpha = exact_array(np.float32(at.get("alpha", 1.0)))
    beta = exact_array(np.float32(at.get("beta", 1.0)))
    if alpha != 1:
        y = mul_const(y, alpha) if isinstance(y, Tensor) else y * alpha
    if len(ins) > 2 and ins[2] is not None:
        bias = _exact(ins[2]) * beta
        y = add_const(y, bias) if isinstance(y, Tensor) else y + bias
    return y


def _clip(x: Tensor, ins: list[Any], at: dict[str, Any], b: LayerBuilder, opset: int, where: str) -> Tensor:
    if opset < 11:
        lo = exact_array(np.float32(at["min"])).item() if "min" in at else None
        hi = exact_array(np.float32(at["max"])).item() if "max" in at else None
    else:
        lo = _exact(ins[1]).item() if len(ins) > 1 and ins[1] is not None else None
        hi = _exact(ins[2]).item() if len(ins) > 2 and ins[2] is not None else None
    lo_f = to_fraction(lo) if lo is not None else None
    hi_f = to_fraction(hi) if hi is not None else None
    if lo_f is not None and hi_f is not None:
        if not lo_f < hi_f:
            raise InputError(f"{where}: expected min < max, got {lo_f} and {hi_f}")
        return b.activate(x, "hardtanh", where, min=lo_f, max=hi_f)
    if lo_f is not None:
        return b.activate(x, "spline", where, knots=[lo_f], slopes=[0, 1], value=lo_f)
    if hi_f is not None:
        return b.activate(x, "spline", where, knots=[hi_f], slopes=[1, 0], value=hi_f)
    return x


def _pads(at: dict[str, Any], spatial: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
          dil: Sequence[int], where: str) -> list[int]:
    k = len(spatial)
    auto = at.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("NOTSET", ""):
        return list(at.get("pads", [0] * (2 * k)))
    if auto == "VALID":
        return [0] * (2 * k)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for i in range(k):
            out = -(-spatial[i] // strides[i])
            total = max(0, (out - 1) * strides[i] + dil[i] * (kernel[i] - 1) + 1 - spatial[i])
            small, big = total // 2, total - total // 2
            begin.append(small if auto == "SAME_UPPER" else big)
            end.append(big if auto == "SAME_UPPER" else small)
        return begin + end
    raise InputError(f"{where}: unknown auto_pad {auto!r}")


def _conv(x: Tensor, ins: list[Any], at: dict[str, Any], where: str) -> Tensor:
    w = _exact(ins[1])
    bias = _exact(ins[2]) if len(ins) > 2 and ins[2] is not None else None
    k = w.ndim - 2
    kernel = list(at.get("kernel_shape", w.shape[2:]))
    strides = list(at.get("strides", [1] * k))
    dil = list(at.get("dilations", [1] * k))
    pads = _pads(at, x.shape[2:], kernel, strides, dil, where)
    return conv(x, w, bias, strides=strides, pads=pads, dilations=dil, group=int(at.get("group", 1)))


# -- writing ------------------------------------------------------------------------------


def network_to_onnx(net: Network, domain: Domain | None = None) -> Any:
    """An ONNX model (opset 17, float64) computing ``net``; input ``x`` of shape (N, n).

    Rationals that binary64 cannot hold are rounded to nearest, with one
    `InexactConversion` warning saying how many. Spline activations have no ONNX operator
    and raise `InputError`.
    """
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    rounded = [0]

    def arr(values: Any) -> np.ndarray:
        flat = [v for v in np.asarray(values, dtype=object).ravel()]
        out = np.array([float(v) for v in flat], dtype=np.float64)
        rounded[0] += sum(Fraction(float(v)) != v for v in flat)
        return out.reshape(np.shape(values))

    nodes, inits = [], []
    cur = "x"
    for i, layer in enumerate(net.layers):
        out = f"h{i}"
        if isinstance(layer, AffineLayer):
            inits.append(numpy_helper.from_array(arr(layer.weight), f"W{i}"))
            inits.append(numpy_helper.from_array(arr(layer.bias), f"b{i}"))
            nodes.append(helper.make_node("Gemm", [cur, f"W{i}", f"b{i}"], [out], transB=1, name=f"affine{i}"))
        else:
            nodes += _activation_nodes(helper, numpy_helper, layer, cur, out, i, inits, arr)
        cur = out
    n_out = net.output_dim
    graph = helper.make_graph(
        nodes,
        net.name or "exactrelu",
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["N", net.input_dim])],
        [helper.make_tensor_value_info(cur, TensorProto.DOUBLE, ["N", n_out])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="exactrelu")
    model.ir_version = 8
    meta = {"exactrelu.name": net.name, "exactrelu.source": net.source}
    if domain is not None and not domain.is_whole:
        meta["exactrelu.domain"] = json.dumps(domain.to_json())
    helper.set_model_props(model, {k: v for k, v in meta.items() if v})
    if rounded[0]:
        warnings.warn(
            f"{rounded[0]} weight(s) are not binary64 numbers; the ONNX model holds their nearest doubles",
            InexactConversion,
            stacklevel=2,
        )
    onnx.checker.check_model(model)
    return model


def _activation_nodes(helper: Any, numpy_helper: Any, layer: ActivationLayer, cur: str, out: str, i: int,
                      inits: list[Any], arr: Any) -> list[Any]:
    fn = layer.functions[0]
    if layer.kind == "relu":
        return [helper.make_node("Relu", [cur], [out], name=f"relu{i}")]
    if layer.kind == "abs":
        return [helper.make_node("Abs", [cur], [out], name=f"abs{i}")]
    if layer.kind == "hardtanh":
        inits.append(numpy_helper.from_array(arr(fn.params[0]), f"lo{i}"))
        inits.append(numpy_helper.from_array(arr(fn.params[1]), f"hi{i}"))
        return [helper.make_node("Clip", [cur, f"lo{i}", f"hi{i}"], [out], name=f"hardtanh{i}")]
    if layer.kind in ("leaky_relu", "prelu"):
        alphas = [f.params[0] for f in layer.functions]
        slope = arr(alphas) if layer.kind == "leaky_relu" else arr([alphas])  # (1,) shared, (1, n) per neuron
        inits.append(numpy_helper.from_array(slope, f"alpha{i}"))
        return [helper.make_node("PRelu", [cur, f"alpha{i}"], [out], name=f"{layer.kind}{i}")]
    raise InputError(
        f"layer {i} ({layer.kind}) has no ONNX operator; write the case as JSON instead", path=f"layers[{i}]"
    )


def write_onnx(case: Case | Network, path: str) -> None:
    """Write a case (or a network) as an ONNX file (atomically)."""
    from .files import write_atomic

    if isinstance(case, Network):
        case = Case(case, Domain.whole(case.input_dim))
    model = network_to_onnx(case.network, case.domain)
    write_atomic(path, model.SerializeToString())


def onnxruntime_difference(net: Network, model: Any, points: Sequence[Sequence[Fraction]]) -> float:
    """The largest ``|onnxruntime(x) − f(x)|`` over the points, f evaluated exactly.

    Measures what the float64 model loses against the exact network (rounded weights,
    float arithmetic). Needs ``onnxruntime``.

    >>> from exactrelu.core.network import Network, affine, activation
    >>> net = Network.from_layers(1, [affine([["1/3"]]), activation("relu")])
    >>> 0 < onnxruntime_difference(net, network_to_onnx_quiet(net), [[Fraction(1)]]) < 1e-16
    True
    """
    try:
        import onnxruntime
    except ImportError:
        raise InputError("checking against onnxruntime needs it: pip install 'exactrelu[onnx]'") from None
    data = model if isinstance(model, (bytes, str)) else model.SerializeToString()
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    dtype = np.float64 if "double" in inp.type else np.float32
    shape = [d if isinstance(d, int) and d > 0 else 1 for d in inp.shape]
    worst = 0.0
    for x in points:
        got = session.run(None, {inp.name: np.array([float(v) for v in x], dtype=dtype).reshape(shape)})[0]
        want = net.evaluate(list(x))
        worst = max(worst, max(abs(Fraction(float(g)) - w) for g, w in zip(np.ravel(got), want)))
    return float(worst)


def network_to_onnx_quiet(net: Network, domain: Domain | None = None) -> Any:
    """`network_to_onnx` with its `InexactConversion` warning silenced (the caller measures)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InexactConversion)
        return network_to_onnx(net, domain)
