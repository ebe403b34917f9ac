"""ONNX in and out: every supported operator against onnxruntime, round trips, clear errors.

The oracle is onnxruntime itself: the graphs below use small dyadic weights and integer
inputs, on which float arithmetic is exact, so onnxruntime's output must equal the exact
evaluation of the loaded network *exactly*.
"""

import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from exactrelu.core.domain import Domain  # noqa: E402
from exactrelu.core.errors import InputError  # noqa: E402
from exactrelu.core.network import Network, activation, affine  # noqa: E402
from exactrelu.core.numbers import format_number, parse_number  # noqa: E402
from exactrelu.io.case import Case, case_from_json, case_to_json  # noqa: E402
from exactrelu.io.layers import InexactConversion  # noqa: E402
from exactrelu.io.onnx import network_from_onnx, network_to_onnx, read_onnx, write_onnx  # noqa: E402
from exactrelu.strategies import networks, points  # noqa: E402

rng = np.random.default_rng(7)


def dyadic(shape, scale=8, lo=-12, hi=13):
    """Small multiples of 1/scale: exact in float32 and float64, and exact under small products."""
    return rng.integers(lo, hi, size=shape).astype(np.float64) / scale


def model(nodes, in_shape, out_name, inits=(), dtype=TensorProto.DOUBLE, opset=17):
    graph = helper.make_graph(
        nodes, "t", [helper.make_tensor_value_info("x", dtype, in_shape)],
        [helper.make_tensor_value_info(out_name, dtype, None)],
        [numpy_helper.from_array(np.asarray(v, dtype=np.float64 if dtype == TensorProto.DOUBLE else np.float32), k)
         if not isinstance(v, np.ndarray) or v.dtype.kind == "f" else numpy_helper.from_array(v, k)
         for k, v in inits],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def check_against_runtime(m, in_shape, trials=6, dtype=np.float64, rel=0):
    """onnxruntime's output equals the exact evaluation at integer inputs (``rel=0``), or is
    within ``rel`` relative error where the graph divides by numbers that are not powers of 2."""
    net = network_from_onnx(m)
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    for _ in range(trials):
        x = rng.integers(-4, 5, size=in_shape).astype(dtype)
        want = sess.run(None, {"x": x})[0].ravel()
        got = net.evaluate([int(v) for v in x.ravel()])
        if rel == 0:
            assert [Fraction(float(w)) for w in want] == list(got)
        else:
            assert all(abs(Fraction(float(w)) - g) <= rel * (1 + abs(g)) for w, g in zip(want, got))
    return net


def test_gemm_with_alpha_beta_and_transposes():
    W = dyadic((3, 4))
    C = dyadic((3,))
    nodes = [helper.make_node("Gemm", ["x", "W", "C"], ["y"], alpha=0.5, beta=2.0, transB=1)]
    check_against_runtime(model(nodes, [1, 4], "y", [("W", W), ("C", C)]), (1, 4))
    # transA: the input is (4, 1), read as a column
    nodes = [helper.make_node("Gemm", ["x", "W", "C"], ["y"], transA=1, transB=1, alpha=0.25)]
    check_against_runtime(model(nodes, [4, 1], "y", [("W", W), ("C", C.reshape(1, 3))]), (4, 1))
    # the input as the second factor: W @ x
    nodes = [helper.make_node("Gemm", ["W", "x"], ["y"])]
    check_against_runtime(model(nodes, [4, 2], "y", [("W", W)]), (4, 2))


def test_matmul_add_sub_mul_div_neg_and_activations():
    W = dyadic((4, 3))
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["a"]),
        helper.make_node("Add", ["a", "b"], ["b1"]),
        helper.make_node("Sub", ["c", "b1"], ["b2"]),  # constant minus tensor
        helper.make_node("Mul", ["b2", "m"], ["b3"]),
        helper.make_node("Div", ["b3", "d"], ["b4"]),
        helper.make_node("Relu", ["b4"], ["r"]),
        helper.make_node("MatMul", ["V", "r"], ["v"]),  # constant @ tensor (1-D)
        helper.make_node("LeakyRelu", ["v"], ["l"], alpha=0.25),
        helper.make_node("Neg", ["l"], ["n"]),
        helper.make_node("Abs", ["n"], ["ab"]),
        helper.make_node("Sub", ["ab", "c2"], ["s"]),
        helper.make_node("PRelu", ["s", "slope"], ["p"]),
        helper.make_node("Clip", ["p", "lo", "hi"], ["cl"]),
        helper.make_node("Clip", ["cl", "lo"], ["y"]),  # min only
    ]
    inits = [("W", W), ("b", dyadic((3,))), ("c", dyadic((3,))), ("m", np.array([2.0, -0.5, 1.0])),
             ("d", np.array([4.0, 0.5, -2.0])), ("V", dyadic((2, 3))), ("c2", np.array([0.5, 1.0])),
             ("slope", np.array([0.125, -0.5])), ("lo", np.array(-0.75)), ("hi", np.array(1.5))]
    net = check_against_runtime(model(nodes, [4], "y", inits), (4,), trials=10)
    kinds = [layer.kind for layer in net.layers if not hasattr(layer, "weight")]
    assert kinds == ["relu", "leaky_relu", "abs", "prelu", "hardtanh", "spline"]


def test_conv_pools_batchnorm_flatten_reshape_transpose_concat():
    Wc = dyadic((4, 1, 3, 3))  # group 2: one input channel per group
    bc = dyadic((4,))
    nodes = [
        helper.make_node("Conv", ["x", "Wc", "bc"], ["c"], pads=[1, 1, 1, 1], strides=[1, 1], group=2),
        helper.make_node("BatchNormalization", ["c", "g", "beta", "mu", "var"], ["bn"], epsilon=0.0),
        helper.make_node("Relu", ["bn"], ["r"]),
        helper.make_node("AveragePool", ["r"], ["ap"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("AveragePool", ["r"], ["ap2"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                         count_include_pad=1),
        helper.make_node("GlobalAveragePool", ["r"], ["gp"]),
        helper.make_node("Reshape", ["ap", "shape"], ["f2"]),
        helper.make_node("Transpose", ["ap2"], ["t"], perm=[0, 1, 3, 2]),
        helper.make_node("Flatten", ["t"], ["f3"]),
        helper.make_node("Flatten", ["gp"], ["f4"]),
        helper.make_node("Concat", ["f2", "f3", "f4"], ["cat"], axis=1),
        helper.make_node("Identity", ["cat"], ["y"]),
    ]
    inits = [("Wc", Wc), ("bc", bc), ("g", np.array([1.0, -2.0, 0.5, 3.0])), ("beta", dyadic((4,))),
             ("mu", dyadic((4,))), ("var", np.array([0.25, 4.0, 1.0, 0.0625])), ("shape", np.array([1, -1], dtype=np.int64))]
    with warnings.catch_warnings():
        warnings.simplefilter("error", InexactConversion)  # every sqrt(var + eps) here is rational
        # onnxruntime has no float64 Conv: float32 (still exact on these dyadic numbers, except
        # the averages over 9 or 6 entries, which float32 rounds)
        m = model(nodes, [1, 2, 4, 4], "y", inits, dtype=TensorProto.FLOAT)
        check_against_runtime(m, (1, 2, 4, 4), dtype=np.float32, rel=Fraction(1, 10**6))


@pytest.mark.parametrize(
    "attrs",
    [dict(kernel_shape=[2, 2], strides=[2, 2]),
     dict(kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]),  # overlapping windows, padding never wins
     dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
     dict(kernel_shape=[3, 2], strides=[2, 1], dilations=[1, 2])],
)
def test_maxpool_is_exact(attrs):
    nodes = [
        helper.make_node("Conv", ["x", "Wc"], ["c"]),
        helper.make_node("MaxPool", ["c"], ["mp"], **attrs),
        helper.make_node("Flatten", ["mp"], ["f"]),
        helper.make_node("Relu", ["f"], ["y"]),
    ]
    m = model(nodes, [1, 1, 5, 5], "y", [("Wc", dyadic((2, 1, 1, 1)))], dtype=TensorProto.FLOAT)
    check_against_runtime(m, (1, 1, 5, 5), dtype=np.float32)


def test_shape_arithmetic_as_torch_exports_it():
    """Reshape fed by Shape -> Gather -> Unsqueeze -> Concat, and a Constant node."""
    nodes = [
        helper.make_node("Shape", ["x"], ["sh"]),
        helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(np.array(0, dtype=np.int64))),
        helper.make_node("Gather", ["sh", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "ax"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["newshape"], axis=0),
        helper.make_node("Reshape", ["x", "newshape"], ["flat"]),
        helper.make_node("Constant", [], ["k"], value_float=0.5),
        helper.make_node("Mul", ["flat", "k"], ["y"]),
    ]
    inits = [("ax", np.array([0], dtype=np.int64)), ("minus1", np.array([-1], dtype=np.int64))]
    net = check_against_runtime(model(nodes, [1, 2, 3], "y", inits, dtype=TensorProto.FLOAT), (1, 2, 3), dtype=np.float32)
    assert net.input_dim == 6 and net.output_dim == 6


def test_symbolic_batch_axis_and_float32_weights_read_exactly():
    W = np.array([[0.1, 0.2]], dtype=np.float32)
    nodes = [helper.make_node("Gemm", ["x", "W"], ["y"], transB=1)]
    net = network_from_onnx(model(nodes, ["N", 2], "y", [("W", W)], dtype=TensorProto.FLOAT))
    # the float32 number nearest 0.1, exactly: 13421773 / 2^27
    assert net.chain.affines[-1].weight[0] == (Fraction(13421773, 2**27), Fraction(13421773, 2**26))


@pytest.mark.parametrize("op", ["Sigmoid", "Tanh", "Softmax", "Exp", "Sqrt", "Erf", "Elu"])
def test_unsupported_operator_names_op_and_node(op):
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="first"), helper.make_node(op, ["r"], ["y"], name="bad_one")]
    with pytest.raises(InputError) as e:
        network_from_onnx(model(nodes, [1, 3], "y"))
    msg = str(e.value)
    assert op in msg and "bad_one" in msg and "node 1" in msg and "not supported" in msg


def test_nonlinear_products_and_skip_connections_are_clear_errors():
    prod = [helper.make_node("Mul", ["x", "x"], ["y"], name="square")]
    with pytest.raises(InputError, match="square.*not piecewise linear"):
        network_from_onnx(model(prod, [1, 2], "y"))
    skip = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Add", ["r", "x"], ["y"], name="residual")]
    with pytest.raises(InputError, match="residual.*skip"):
        network_from_onnx(model(skip, [1, 2], "y"))
    div = [helper.make_node("Div", ["c", "x"], ["y"], name="inv")]
    with pytest.raises(InputError, match="inv.*division"):
        network_from_onnx(model(div, [1, 2], "y", [("c", np.array([1.0, 2.0]))]))


def test_bad_files_are_input_errors(tmp_path):
    p = tmp_path / "junk.onnx"
    p.write_bytes(b"not a protobuf at all")
    with pytest.raises(InputError, match="junk.onnx"):
        read_onnx(str(p))


def _round_to_doubles(doc):
    """Every number of a case document replaced by its nearest binary64 number."""
    if isinstance(doc, dict):
        return {k: (_round_to_doubles(v) if k not in ("type", "name", "format", "source") else v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_round_to_doubles(v) for v in doc]
    if isinstance(doc, str):
        return format_number(Fraction(float(parse_number(doc))))
    return doc


ROUNDTRIP_KINDS = ("relu", "leaky_relu", "prelu", "hardtanh", "abs")


@settings(max_examples=40)
@given(networks(max_input_dim=3, max_width=4, max_hidden_layers=3, kinds=ROUNDTRIP_KINDS))
def test_case_onnx_case_is_the_identity_on_double_weights(net):
    net = case_from_json(_round_to_doubles(case_to_json(net))).network
    with warnings.catch_warnings():
        warnings.simplefilter("error", InexactConversion)
        back = network_from_onnx(network_to_onnx(net))
    assert back.layers == net.layers
    assert back.name == net.name


@settings(max_examples=30)
@given(networks(max_input_dim=3, max_width=4, max_hidden_layers=3, kinds=ROUNDTRIP_KINDS), st.data())
def test_onnxruntime_agrees_with_exact_evaluation(net, data):
    """Any rational network (rounded to doubles on export): onnxruntime's float64 output is
    within a small relative error of the exact value of the *original* network."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InexactConversion)
        m = network_to_onnx(net)
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    for _ in range(3):
        x = data.draw(points(net.input_dim))
        got = sess.run(None, {"x": np.array([[float(v) for v in x]])})[0].ravel()
        want = net.evaluate(x)
        for g, w in zip(got, want):
            assert abs(Fraction(float(g)) - w) <= Fraction(1, 10**9) * (1 + abs(w))


def test_export_warns_when_a_rational_is_not_a_double(tmp_path):
    net = Network.from_layers(1, [affine([["1/3"]]), activation("relu")])
    with pytest.warns(InexactConversion, match="1 weight"):
        write_onnx(net, str(tmp_path / "n.onnx"))


def test_domain_name_and_source_travel_in_metadata(tmp_path):
    net = Network.from_layers(2, [affine([[1, 2]], ["1/2"]), activation("relu")], name="tiny", source="a test")
    case = Case(net, Domain.from_box([["-1/2", 1], [0, 2]]))
    path = tmp_path / "tiny.onnx"
    write_onnx(case, str(path))
    back = read_onnx(str(path))
    assert back.domain == case.domain and back.network.name == "tiny" and back.network.source == "a test"


def test_splines_have_no_onnx_operator():
    net = Network.from_layers(1, [affine([[1]]), activation("spline", knots=[0, 1], slopes=[0, 1, 0], value=0)])
    with pytest.raises(InputError, match="spline"):
        network_to_onnx(net)


def test_torch_onnx_export_reads_like_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    m = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.ReLU(), torch.nn.AvgPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(8, 3), torch.nn.PReLU(), torch.nn.Linear(3, 2),
    ).eval()
    import io

    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(m, torch.zeros(1, 1, 4, 4), buf, dynamo=False)
    net = network_from_onnx(onnx.load_from_string(buf.getvalue()))
    for _ in range(5):
        x = torch.randn(1, 1, 4, 4)
        want = m.double()(x.double()).detach().numpy().ravel()
        got = [float(v) for v in net.evaluate(x.double().numpy().ravel().tolist())]
        assert np.allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("strides, pads, dil, group", [((1, 1), (1, 1, 1, 1), (1, 1), 1), ((2, 1), (0, 2, 1, 0), (1, 2), 2)])
def test_convolution_fast_path_on_the_identity_equals_the_general_one(strides, pads, dil, group):
    from exactrelu.io.layers import LayerBuilder, conv, exact_array, mul_const

    b = LayerBuilder((1, 2, 5, 4))
    w = exact_array(dyadic((4, 2 // group, 3, 2)))
    bias = exact_array(dyadic((4,)))
    fast = conv(b.input(), w, bias, strides=strides, pads=pads, dilations=dil, group=group)
    general_input = mul_const(b.input(), np.array(exact_array(np.array(1.0)).item()))  # same map, not flagged identity
    assert not general_input.identity
    slow = conv(general_input, w, bias, strides=strides, pads=pads, dilations=dil, group=group)
    assert fast.shape == slow.shape and (fast.coeffs == slow.coeffs).all()
