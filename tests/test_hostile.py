"""Hostile and careless input (issue 11): no file runs code, none crashes or hangs, none is
read laxly; limits are honoured and reported; the CLI never shows a traceback, and exit 1
means only "a check failed"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from exactrelu.cli.main import INTERNAL_ERROR, main
from exactrelu.core.errors import InputError, InputLimit, LimitReached
from exactrelu.core.limits import Limits, using
from exactrelu.core.network import AffineLayer, Network, activation, affine
from exactrelu.core.numbers import format_number, parse_number
from exactrelu.io.case import case_from_json, read_case

BASE = {
    "format": "exactrelu-network/1",
    "name": "tent",
    "input_dim": 2,
    "layers": [
        {"type": "affine", "weight": [["1", "0"], ["0", "1"]], "bias": ["0", "0"]},
        {"type": "relu"},
        {"type": "affine", "weight": [["1", "1"]]},
    ],
}
CODE = "__import__('os').system('touch {flag}') or 1"


def _case(**changes):
    doc = json.loads(json.dumps(BASE))
    doc.update(changes)
    return doc


def _write(tmp_path, doc, name="case.json") -> str:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def _cli(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out
    return status, out, err


# -- no code execution -------------------------------------------------------------------------


@pytest.mark.parametrize("expected", [
    lambda f: {"lipschitz": {"inf": CODE.format(flag=f)}},
    lambda f: {"lipschitz": {"2": CODE.format(flag=f)}},
    lambda f: {"bounds": {"inf": {"K3": CODE.format(flag=f)}}},
    lambda f: {"jacobian": [{"at": "1,1", "jacobian": [[CODE.format(flag=f), "1"]]}]},
    lambda f: {"jacobian": [{"at": "0,0", "convention": "c", "in_clarke_for": [[CODE.format(flag=f), "1"]]}]},
    lambda f: {"jacobian": [{"at": "0,0", "convention": CODE.format(flag=f), "jacobian": [["0", "0"]]}]},
])
def test_expected_strings_run_no_code(tmp_path, capsys, expected):
    flag = tmp_path / "PWNED"
    path = _write(tmp_path, _case(expected=expected(flag)))
    status, _, err = _cli(capsys, "verify", path)
    assert status == 2 and "expected" in err
    assert not flag.exists()


def test_a_pickle_that_would_write_a_file_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    from exactrelu.io.torch import read_torch

    flag = tmp_path / "PWNED"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {flag}",))

    torch.save({"state_dict": Evil(), "layers": ["linear"]}, tmp_path / "evil.pt")
    with pytest.raises(InputError, match="weights_only=True"):
        read_torch(str(tmp_path / "evil.pt"))
    assert not flag.exists()


def test_closed_forms_are_bounded_in_size():
    from exactrelu.core.expressions import parse_expression

    with pytest.raises(InputError, match="power of at most"):
        parse_expression("(((((9^64)^64)^64)^64)^64)")  # 9^(64^5): would never finish
    assert str(parse_expression("(c+1)^3")) == "(c + 1)**3"


# -- malformed input: an error with its place, or a limit --------------------------------------


BAD_LAYERS = {
    "kind key": {"type": "mystery", "kind": "x"},
    "dict type": {"type": {"a": 1}},
    "list type": {"type": ["relu"]},
}


@pytest.mark.parametrize("name", sorted(BAD_LAYERS))
def test_bad_layer_types_are_input_errors(name):
    doc = _case(layers=[BASE["layers"][0], BAD_LAYERS[name], BASE["layers"][2]])
    with pytest.raises(InputError) as e:
        case_from_json(doc)
    assert e.value.path == "layers[1].type"


def test_encodings(tmp_path):
    text = json.dumps(_case(name="café"), ensure_ascii=False)
    for data, words in [(text.encode("utf-16"), "UTF-16"), (text.encode("latin-1"), "byte 0xe9 at line 1")]:
        path = tmp_path / "enc.json"
        path.write_bytes(data)
        with pytest.raises(InputError, match=words):
            read_case(path)
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())  # a UTF-8 byte-order mark is skipped
    assert read_case(path).name == "café"
    path.write_text(json.dumps(_case(name="\udcff")))  # a lone surrogate: no file could hold it
    with pytest.raises(InputError, match="surrogate") as e:
        read_case(path)
    assert e.value.path == "name"


def test_deep_nesting_is_a_limit(tmp_path):
    for depth in (150, 1000, 100_000):
        text = json.dumps(_case()).replace('"bias": ["0", "0"]', '"bias": ' + "[" * depth + "]" * depth)
        with pytest.raises(InputLimit, match="nested"):
            read_case(_write(tmp_path, text))


def test_duplicate_and_unknown_keys_have_their_path(tmp_path):
    text = json.dumps(_case()).replace('"input_dim": 2', '"input_dim": 3, "input_dim": 2')
    with pytest.raises(InputError, match="duplicate key 'input_dim'") as e:
        read_case(_write(tmp_path, text))
    assert e.value.path == "input_dim"
    with pytest.raises(InputError, match="unknown key") as e:
        case_from_json(_case(domian={"box": [["0", "1"], ["0", "1"]]}))
    assert e.value.path == "domian"
    with pytest.raises(InputError, match="unknown key") as e:
        from exactrelu.verify import verify_case

        verify_case(case_from_json(_case(expected={"jacobian": [{"at": "1,1", "jacobain": [["1", "1"]]}]})))
    assert e.value.path == "expected.jacobian[0].jacobain"


def test_non_ascii_digits_are_not_numbers():
    for text in ("١٢", "１２", "1_000", "٣/٤"):
        with pytest.raises(InputError, match="ASCII"):
            parse_number(text, "w")


@pytest.mark.parametrize("text", ["1e999999999", "1e-999999", "9" * 5000, "1/" + "7" * 1200, "1e400", "1E308",
                                  "1e-101", "-3/1" + "0" * 101])
def test_huge_numbers_are_limits_before_they_are_built(text):
    with pytest.raises(InputLimit) as e:
        parse_number(text, "layers[0].weight[0][0]")
    assert e.value.path == "layers[0].weight[0][0]" and "--max-" in e.value.message


def test_huge_json_literals(tmp_path):
    for literal, error in [("9" * 5000, InputLimit), ("1e400", InputError), ("1e999999999", InputError)]:
        text = json.dumps(_case()).replace('["1", "0"]', f"[{literal}, 0]", 1)
        with pytest.raises(error) as e:
            read_case(_write(tmp_path, text))
        assert e.value.path == "layers[0].weight[0][0]"
    text = json.dumps(_case()).replace('["1", "0"]', "[4.9e-324, 0]", 1)  # binary64, but its reciprocal is not
    with pytest.raises(InputLimit, match="10\\^-100"):
        read_case(_write(tmp_path, text))
    assert read_case(_write(tmp_path, text), Limits(magnitude=400)).network.layers[0].weight[0][0] == Fraction(4.9e-324)
    text = json.dumps(_case()).replace('["1", "0"]', "[1e-50, 0]", 1)
    assert read_case(_write(tmp_path, text)).network.layers[0].weight[0][0] == Fraction(1e-50)


def test_raised_limits_read_and_print_numbers_of_any_length(tmp_path, capsys):
    big = "3" * 5000
    doc = _case(layers=[{"type": "affine", "weight": [[big, "0"], ["0", "1"]]}, {"type": "relu"},
                        {"type": "affine", "weight": [["1", "1"]]}])
    with pytest.raises(InputLimit):
        case_from_json(doc)
    limits = Limits(digits=6000, magnitude=6000)
    value = (10**5000 - 1) // 3  # the integer "33…3" (5000 digits)
    assert case_from_json(doc, limits).network.layers[0].weight[0][0] == value
    assert format_number(Fraction(value**2, 7)).endswith("/7")  # 10,000 digits: printed all the same
    # a weight of 1/33…3: L = 1 + 1/33…3 has 10,000 digits (more than Python prints by default)
    doc["layers"][0]["weight"][0][0] = "1/" + big
    path = _write(tmp_path, doc)
    status, out, _ = _cli(capsys, "lipschitz", path, "--norm", "inf", "--json", "--max-digits", "6000",
                          "--max-magnitude", "6000")
    assert status == 0 and json.loads(out)["value"] == format_number(1 + Fraction(1, value))
    status, out, _ = _cli(capsys, "lipschitz", path, "--max-digits", "6000", "--max-magnitude", "6000")
    assert status == 0 and "L (ℓ∞) ≈ 1 (exact in --json)" in out
    status, _, err = _cli(capsys, "lipschitz", path)
    assert status == 3 and "--max-digits" in err
    # a magnitude raised past what the float proposals take: a limit too, never a crash
    doc["layers"][0]["weight"][0][0] = big
    status, _, err = _cli(capsys, "lipschitz", _write(tmp_path, doc), "--max-digits", "6000", "--max-magnitude", "6000")
    assert status in (0, 3)


def test_bad_numbers_in_domains_and_activations(tmp_path, capsys):
    docs = [
        _case(layers=[BASE["layers"][0], {"type": "hardtanh", "min": "-1", "max": "1e400"}, BASE["layers"][2]]),
        _case(domain={"halfspaces": {"A": [["1E308", "0"], ["0", "1"]], "b": ["1", "1"]}}),
        _case(domain={"box": [["0", "1e-999999"], ["0", "1"]]}),
    ]
    for doc in docs:
        status, _, err = _cli(capsys, "regions", _write(tmp_path, doc))
        assert status == 3 and "limit reached" in err


def test_nnet_numbers(tmp_path):
    from exactrelu.io.nnet import read_nnet

    text = "1,1,1,1,\n1,1,\n0,\n-1,\n3,\n1,0.5,\n2,4,\n1e999999999,\n0.5,\n"
    path = tmp_path / "t.nnet"
    path.write_text(text)
    with pytest.raises(InputLimit) as e:
        read_nnet(str(path))
    assert e.value.path == "line 8"


def test_onnx_tensor_of_a_corrupt_type(tmp_path):
    onnx = pytest.importorskip("onnx")
    from exactrelu.io.onnx import read_onnx, write_onnx

    write_onnx(case_from_json(BASE), str(tmp_path / "m.onnx"))
    model = onnx.load(str(tmp_path / "m.onnx"))
    model.graph.initializer[0].data_type = 0  # UNDEFINED
    (tmp_path / "bad.onnx").write_bytes(model.SerializeToString())
    with pytest.raises(InputError, match="well-formed tensor"):
        read_onnx(str(tmp_path / "bad.onnx"))


def test_onnx_weights_within_the_magnitude_limit(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    from exactrelu.io.onnx import read_onnx, write_onnx

    write_onnx(case_from_json(BASE), str(tmp_path / "m.onnx"))
    model = onnx.load(str(tmp_path / "m.onnx"))
    init = model.graph.initializer[0]
    w = numpy_helper.to_array(init).astype("float64").copy()
    w.flat[0] = 3.6e-307  # a bit flip in an exponent
    init.CopyFrom(numpy_helper.from_array(w, init.name))
    (tmp_path / "tiny.onnx").write_bytes(model.SerializeToString())
    with pytest.raises(InputLimit, match="--max-magnitude") as e:
        read_onnx(str(tmp_path / "tiny.onnx"))
    assert "initializer" in str(e.value) and "tiny.onnx" in str(e.value)


def test_onnx_keeps_the_domain_key(tmp_path):
    pytest.importorskip("onnx")
    from exactrelu.io.onnx import read_onnx, write_onnx

    case = case_from_json(_case(domain={"box": [["0", "1"], ["-1", "1"]]}))
    write_onnx(case, str(tmp_path / "m.onnx"))
    assert read_onnx(str(tmp_path / "m.onnx")).domain == case.domain


# -- the API validates as the loader does ------------------------------------------------------


def test_network_api_validates():
    layers = [affine([[1]]), activation("relu"), affine([[1]])]
    for dim in (-1, 0, 2.0, True, "1"):
        with pytest.raises(InputError, match="input_dim"):
            Network.from_layers(dim, layers)
    with pytest.raises(InputError, match="layers"):
        Network.from_layers(1, [affine([[1]]), "relu"])
    with pytest.raises(InputError, match="Fraction"):
        AffineLayer(((0.5,),), (Fraction(0),))
    with pytest.raises(InputLimit, match="--max-layers"), using(Limits(layers=2)):
        Network.from_layers(1, layers)
    with pytest.raises(InputLimit, match="--max-neurons"):
        Network.from_layers(1, layers, limits=Limits(neurons=2))


# -- the command line --------------------------------------------------------------------------


def test_negative_numbers_in_options(tmp_path, capsys):
    path = _write(tmp_path, BASE)
    status, out, _ = _cli(capsys, "jacobian", path, "--at", "-1/2,0", "--json")
    assert status == 0 and json.loads(out)["point"] == ["-1/2", "0"]
    status, out, _ = _cli(capsys, "jacobian", path, "--at", "-.5,-1e-1", "--direction", "-1,-1", "--json")
    assert status == 0 and json.loads(out)["directional_derivative"] == ["0"]


@pytest.mark.parametrize("argv", [
    ["regions", "{p}", "--max-regions", "-1"], ["regions", "{p}", "--max-regions", "0"],
    ["regions", "{p}", "--time-limit", "0"], ["lipschitz", "{p}", "--max-nodes", "-5"],
    ["bounds", "{p}", "--max-nodes", "0"], ["plot", "{p}", "-o", "x.png", "--max-regions", "-1"],
    ["regions", "{p}", "--max-digits", "0"], ["regions", "{p}", "--time-limit", "nan"],
])
def test_limits_that_mean_nothing_are_usage_errors(tmp_path, argv):
    path = _write(tmp_path, BASE)
    with pytest.raises(SystemExit) as e:
        main([a.format(p=path) for a in argv])
    assert e.value.code == 2


@pytest.mark.parametrize("argv", [
    ["regions", "{p}", "--max-regions", "-1"], ["regions", "{p}", "--bogus"], ["regions"], [],
    ["lipschitz", "{p}", "--norm", "7"], ["regions", "{p}", "--workers", "0"],
])
def test_a_usage_error_under_json_prints_one_json_document(tmp_path, argv):
    """``--json`` promises one JSON document on stdout: a usage error (argparse's, status 2)
    is one too, ``{"error": ..., "status": 2}``, as every other error."""
    path = _write(tmp_path, BASE)
    res = subprocess.run([sys.executable, "-m", "exactrelu", *[a.format(p=path) for a in argv], "--json"],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    doc = json.loads(res.stdout)
    assert doc["status"] == 2 and doc["error"]


def test_a_limit_reports_what_was_found(capsys):
    status, out, err = _cli(capsys, "regions", "cases/seed004/sawtooth-6.json", "--max-regions", "3", "--json")
    doc = json.loads(out)
    assert status == 3 and doc["activation_regions"] == 3 and doc["complete"] is False
    status, out, _ = _cli(capsys, "regions", "cases/seed004/sawtooth-6.json", "--max-regions", "3")
    assert status == 3 and "INCOMPLETE" in out
    status, out, _ = _cli(capsys, "lipschitz", "cases/arrangements/braid-4.json", "--norm", "2", "--max-nodes", "1",
                          "--json")
    doc = json.loads(out)
    assert status == 3 and doc["value_guarantee"] == "certified upper bound" and len(doc["interval"]) == 2
    status, out, _ = _cli(capsys, "lipschitz", "cases/arrangements/braid-4.json", "--max-nodes", "1")
    assert status == 3 and " in [" in out and "L (ℓ∞) =" not in out
    status, out, _ = _cli(capsys, "bounds", "cases/arrangements/braid-4.json", "--l-max-nodes", "1", "--json")
    assert status == 3 and json.loads(out)["K3"] is not None


def test_volumes_stop_at_the_time_limit(monkeypatch, capsys):
    from exactrelu.regions.graph import RegionGraph

    clock = iter(range(0, 10**6, 5))  # every reading of the clock: 5 s later
    monkeypatch.setattr("exactrelu.cli.commands.regions.time.monotonic", lambda: next(clock))
    status, out, _ = _cli(capsys, "regions", "cases/degenerate/box-quadrants.json", "--volumes", "--time-limit", "12",
                          "--json")
    doc = json.loads(out)
    assert status == 3 and doc["complete"] is False and 0 < len(doc["volumes"]) < doc["activation_regions"]
    assert RegionGraph  # the graph itself was complete: only the volumes stopped


def test_stdout_carries_only_the_document(monkeypatch, capfd):
    from exactrelu.cli.commands import Outcome

    def noisy(args):
        os.write(1, b"Running HiGHS 1.16.0: a banner from C\n")
        print("a stray print")
        return Outcome({"ok": True}, "ok")

    monkeypatch.setattr("exactrelu.cli.commands.regions.run", noisy)
    assert main(["regions", "cases/seed003/relu.json", "--json"]) == 0
    out, err = capfd.readouterr()
    assert json.loads(out) == {"ok": True} and "banner" in err and "stray" in err


def test_a_bug_is_an_internal_error_never_a_verdict(monkeypatch, capsys):
    def broken(args):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr("exactrelu.cli.commands.regions.run", broken)
    status, out, err = _cli(capsys, "regions", "cases/seed003/relu.json", "--json")
    assert status == INTERNAL_ERROR != 1
    assert "internal error" in err and json.loads(out)["status"] == INTERNAL_ERROR


def test_unwritable_outputs(tmp_path, capsys):
    case = "cases/degenerate/coincident-2d.json"
    for argv in (["plot", case, "-o", str(tmp_path / "no" / "x.png")], ["plot", case, "-o", str(tmp_path)],
                 ["convert", case, str(tmp_path)], ["convert", case, str(tmp_path / "no" / "x.onnx")],
                 ["convert", case, str(tmp_path / "x")]):
        status, _, err = _cli(capsys, *argv)
        assert status == 2 and str(tmp_path) in err
    os.chmod(tmp_path, 0o500)
    try:
        if not os.access(tmp_path, os.W_OK):  # (root writes anywhere)
            status, _, err = _cli(capsys, "convert", case, str(tmp_path / "x.json"))
            assert status == 2 and "permission" in err
    finally:
        os.chmod(tmp_path, 0o700)
    assert list(tmp_path.iterdir()) == []


def test_atomic_writes_leave_no_temporary_on_failure(tmp_path, monkeypatch):
    from exactrelu.io.files import write_atomic

    target = tmp_path / "out.json"
    target.write_text("old")

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("exactrelu.io.atomic.os.replace", fail)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new")
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"] and target.read_text() == "old"


@pytest.mark.parametrize("path, words", [("cases/seed004", "is a directory"), ("cases/seed004/nothing", "no such file"),
                                         ("cases/seed004/nothing.json", "no such file")])
def test_paths_that_are_not_files(capsys, path, words):
    status, _, err = _cli(capsys, "regions", path)
    assert status == 2 and words in err


def test_version_and_help_import_no_analysis():
    import subprocess
    import sys

    code = ("import sys; from exactrelu.cli.main import main; main(['--help']) if False else None; "
            "import contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try: main(['--help'])\n"
            "    except SystemExit: pass\n"
            "    try: main(['regions', '--help'])\n"
            "    except SystemExit: pass\n"
            "print(sorted(m for m in ('sympy', 'scipy', 'networkx', 'highspy', 'matplotlib', 'torch') if m in sys.modules))")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip() == "[]"


def test_limit_reached_is_also_raised_for_input_limits():
    assert issubclass(InputLimit, LimitReached) and issubclass(InputLimit, InputError)


def test_tiny_weights_scale_exact_integers_beyond_floats():
    """A weight of 4.9e-324 (a JSON float: 2^-1074, read with the magnitude limit raised) makes
    K's exact integers too large for a float; the search orders them exactly then (found by
    benchmarks/fuzz.py)."""
    from exactrelu.bounds import bounds

    doc = _case(layers=[{"type": "affine", "weight": [[4.9e-324, "1"], ["1", "-1"]]}, {"type": "relu"},
                        {"type": "affine", "weight": [["1", "1"]]}, {"type": "relu"},
                        {"type": "affine", "weight": [["2"]]}])
    net = case_from_json(json.loads(json.dumps(doc)), Limits(magnitude=400)).network
    eps = Fraction(1, 2**1074)
    # J = 2·(d1·[ε, 1] + d2·[1, -1]) over the 0/1 patterns (d1, d2) (the last unit on):
    # ℓ∞ (the row's absolute sum) is largest for d2 alone, 4; ℓ1 (a column) for both, 2 + 2ε
    assert bounds(net, "inf")["K"].value == 4
    assert bounds(net, "1")["K"].value == 2 + 2 * eps


def test_no_call_in_the_package_can_run_text_as_code():
    """No ``eval``, ``exec``, ``sympify``, ``parse_expr`` or ``pickle.load(s)`` anywhere in
    ``exactrelu/`` (read as syntax trees): file content can reach none of them because none
    is there. (``ast.literal_eval`` reads only literals; ``torch.load`` is called with
    ``weights_only=True``, tested above.)"""
    import ast
    from pathlib import Path

    banned = {"eval", "exec", "sympify", "parse_expr", "load", "loads"}
    found = []
    for path in sorted((Path(__file__).resolve().parent.parent / "exactrelu").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else None
            if name in ("load", "loads") and owner not in ("pickle", "cloudpickle", "dill", "marshal"):
                continue  # json.loads, torch.load (weights_only), onnx.load: data, not code
            if name in ("eval", "exec") and isinstance(f, ast.Attribute) and owner != "builtins":
                continue  # a module's .eval() mode, a polynomial's .eval(0): methods, not the builtin
            if name in banned:
                found.append(f"{path.name}:{node.lineno}: {owner + '.' if owner else ''}{name}")
    assert not found, found
