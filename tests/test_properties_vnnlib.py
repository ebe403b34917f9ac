"""The VNN-LIB reader: exact numbers, normal form, 1.0 and 2.0 syntax, and errors that name
the file and the line. Expected values are read off the texts by hand."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from exactrelu.core.errors import InputError
from exactrelu.properties.vnnlib import parse_vnnlib, read_vnnlib

# tests/conftest.py's SHARED_DATA (conftest is not importable under --import-mode=importlib)
DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "vnncomp"
HEAD = "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n"


def test_decimals_are_exact():
    p = parse_vnnlib(HEAD + "(assert (<= X_0 0.6))\n(assert (>= Y_0 -1.5e-3))")
    (c,) = p.disjuncts
    a, b = c.atoms
    assert (a.x_coef, a.y_coef, a.const) == ((1, 0), (0, 0), Fraction(-3, 5))
    assert (b.x_coef, b.y_coef, b.const) == ((0, 0), (-1, 0), Fraction(-3, 2000))
    # a float would make this 0.1000000000000000055511151231257827...
    p = parse_vnnlib(HEAD + "(assert (<= X_0 0.1))\n(assert (<= Y_0 0))")
    assert p.disjuncts[0].atoms[0].const == Fraction(-1, 10)


def test_linear_terms():
    # 2*Y_0 - (Y_1 + 3) + (- X_1) <= 0.5  ->  2 y0 - y1 - x1 - 7/2 <= 0
    p = parse_vnnlib(HEAD + "(assert (<= (+ (* 2 Y_0) (- (+ Y_1 3)) (- X_1)) 0.5))")
    (a,) = p.disjuncts[0].atoms
    assert (a.x_coef, a.y_coef, a.const) == ((0, -1), (2, -1), Fraction(-7, 2))
    p = parse_vnnlib(HEAD + "(assert (>= (* Y_1 0.25) (- Y_0 X_0 1)))")  # y1/4 >= y0 - x0 - 1
    (a,) = p.disjuncts[0].atoms
    assert (a.x_coef, a.y_coef, a.const) == ((-1, 0), (1, Fraction(-1, 4)), -1)


def test_dnf_of_nested_formulas():
    text = HEAD + """
    (assert (or (and (<= X_0 1) (>= X_0 0)) (and (<= X_0 3) (>= X_0 2))))
    (assert (or (<= Y_0 Y_1) (and (>= Y_0 1) (>= Y_1 1))))"""
    p = parse_vnnlib(text)
    assert len(p.disjuncts) == 4  # 2 input boxes x 2 output conditions
    assert [len(c.atoms) for c in p.disjuncts] == [3, 4, 3, 4]
    groups = p.groups
    assert [len(g.conjunctions) for g in groups] == [2, 2]
    assert [len(g.input_atoms) for g in groups] == [2, 2]
    # semantics: x0 in [2, 3] and y0 = y1 = 1 lies in the unsafe set; x0 = 1.5 does not
    assert p.violated_at([Fraction(5, 2), 0], [1, 1])
    assert not p.violated_at([Fraction(3, 2), 0], [1, 1])


def test_strict_chained_and_equality():
    p = parse_vnnlib(HEAD + "(assert (< 0 X_0 1))\n(assert (= Y_0 Y_1))")
    atoms = p.disjuncts[0].atoms
    assert [a.strict for a in atoms] == [True, True, False, False]
    assert p.violated_at([Fraction(1, 2), 0], [2, 2])
    assert not p.violated_at([Fraction(1), 0], [2, 2])
    assert not p.violated_at([Fraction(1, 2), 0], [2, 3])


def test_vnnlib_2():
    text = """(vnnlib-version <2.0>)
    (declare-network f (declare-input X real [1,2]) (declare-output Y real [2]))
    (assert (>= X[0,1] 0.25))
    (assert (<= Y[1] X[0,0]))"""
    p = parse_vnnlib(text)
    assert (p.input_dim, p.output_dim) == (2, 2)
    a, b = p.disjuncts[0].atoms
    assert (a.x_coef, a.const) == ((0, -1), Fraction(1, 4))
    assert (b.x_coef, b.y_coef) == ((-1, 0), (0, 1))


@pytest.mark.parametrize(
    "body, line, message",
    [
        ("(assert (<= X_0 0.1.2))", 5, "expected a number or a variable, got '0.1.2'"),
        ("(assert (<= X_0 (* X_1 Y_0)))", 5, "multiplies by constants only"),
        ("(assert (=> X_0 1))", 5, "unsupported '=>'"),
        ("(assert (<= X_0 Z_3))", 5, "got 'Z_3'"),
        ("(assert (<= X_0 Y_7))", 5, "Y_7 is used but not declared"),
        ("(assert (<= X_0 1)", 5, "expected ')'"),
        ("(assert (<= X_0 1)))", 5, "unexpected ')'"),
        ("(declare-fun g (Real) Real)", 5, "unsupported command 'declare-fun'"),
        ("(declare-const X_0 Real)", 5, "declared twice"),
        ("(declare-const X_2 Int)", 5, "sort Real"),
        ("(assert (<= X_0 1/3))", 5, "got '1/3'"),
    ],
)
def test_errors_name_file_and_line(body, line, message):
    with pytest.raises(InputError) as e:
        parse_vnnlib(HEAD + body, "bad.vnnlib")
    assert e.value.file == "bad.vnnlib"
    assert e.value.path == f"line {line}"
    assert message in e.value.message


def test_missing_declarations():
    with pytest.raises(InputError, match="X_1 is missing"):
        parse_vnnlib("(declare-const X_0 Real)(declare-const X_2 Real)(declare-const Y_0 Real)(assert (<= Y_0 1))")
    with pytest.raises(InputError, match="at least one assert"):
        parse_vnnlib(HEAD)


def test_unreadable_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_vnnlib(tmp_path / "none.vnnlib")


@pytest.mark.parametrize("path", sorted(DATA.glob("*/*.vnnlib")) + sorted(DATA.glob("rl/vnnlib/*.vnnlib")), ids=lambda p: p.name)
def test_every_shared_property_reads(path):
    p = read_vnnlib(path)
    assert p.disjuncts and all(g.input_atoms for g in p.groups)


@pytest.mark.skipif(not DATA.is_dir(), reason="shared data absent")
def test_acas_prop_6_shape():
    p = read_vnnlib(DATA / "acasxu" / "prop_6.vnnlib")
    assert (p.input_dim, p.output_dim, len(p.disjuncts)) == (5, 5, 8)
    g0, g1 = p.groups
    assert len(g0.conjunctions) == len(g1.conjunctions) == 4
    # (<= X_0 0.700434925): the bound is the decimal itself
    assert any(a.x_coef == (1, 0, 0, 0, 0) and a.const == Fraction(-700434925, 10**9) for a in g0.input_atoms)
