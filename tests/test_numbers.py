"""The case format's number syntax, read exactly (SPEC §2)."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exactrelu.core.errors import InputError
from exactrelu.core.numbers import (
    format_number,
    parse_number,
    parse_point,
    to_fmpq,
    to_fraction,
)


@pytest.mark.parametrize(
    "text, value",
    [
        ("0.1", Fraction(1, 10)),
        ("-3e-2", Fraction(-3, 100)),
        ("1E3", Fraction(1000)),
        (".5", Fraction(1, 2)),
        ("5.", Fraction(5)),
        ("31/16", Fraction(31, 16)),
        ("-7/14", Fraction(-1, 2)),
        ("7/-14", Fraction(-1, 2)),
        (" 12 ", Fraction(12)),
        (3, Fraction(3)),
        (0.5, Fraction(1, 2)),
    ],
)
def test_reads_exactly(text, value):
    assert parse_number(text) == value


def test_json_float_is_its_binary64_value():
    # 0.1 as a double is 3602879701896397 / 2^55, not 1/10.
    assert parse_number(0.1) == Fraction(3602879701896397, 2**55)
    assert parse_number(0.1) != Fraction(1, 10)


@pytest.mark.parametrize(
    "bad", ["1/0", "nan", "NaN", "inf", "-Infinity", "", "1/2/3", "0x10", "1,5", "abc", "1e", None, [], {}, True, float("nan"), float("inf")]
)
def test_rejects_non_numbers(bad):
    with pytest.raises(InputError) as e:
        parse_number(bad, "layers[0].weight[0][0]")
    assert e.value.path == "layers[0].weight[0][0]"


@given(st.fractions())
def test_format_then_parse_is_identity(q):
    assert parse_number(format_number(q)) == q
    assert to_fraction(to_fmpq(q)) == q


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_are_exact(f):
    assert float(parse_number(f)) == f
    assert parse_number(f) == Fraction(f)


def test_point_syntax():
    assert parse_point("1/3,-2,0.25") == (Fraction(1, 3), Fraction(-2), Fraction(1, 4))
    with pytest.raises(InputError, match="dimension 2"):
        parse_point("1,2,3", 2)
    with pytest.raises(InputError, match="comma-separated"):
        parse_point("1,,2")
