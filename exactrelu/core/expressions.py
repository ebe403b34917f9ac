"""A safe reader for the closed forms a case file may state: polynomials in the
convention ``c`` and square roots (``"c**2 - c"``, ``"-sqrt(2)/2"``, ``"oo"``).

Nothing of the text reaches sympy's parser or ``eval``: a small recursive-descent
parser accepts numbers (the case format's decimals), the symbol ``c``, ``sqrt(...)``,
``oo``, ``+ - * /``, powers ``^`` or ``**`` with a small integer exponent, and
parentheses, and builds the sympy expression from those pieces alone. Anything else is
an `InputError` naming the position.

>>> parse_expression("c**2 - c")
c**2 - c
>>> parse_expression("-sqrt(2)/2")
-sqrt(2)/2
>>> parse_expression("__import__('os')")
Traceback (most recent call last):
...
exactrelu.core.errors.InputError: expected c, sqrt or oo, got the name '__import__' at character 1 of "__import__('os')"
"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy

from .conventions import C
from .errors import InputError
from .numbers import parse_number

MAX_LENGTH = 4000
MAX_DEPTH = 64
MAX_EXPONENT = 64
MAX_SIZE = 4096


def _size(e: sympy.Expr) -> int:
    """How a power of ``e`` grows: the bits of a number, else the degree in c (at least 1) times
    the bits of its largest coefficient."""
    if e.is_Rational:
        return max(int(e.p).bit_length(), int(e.q).bit_length(), 1)
    try:
        poly = sympy.Poly(e, C)
    except sympy.PolynomialError:
        return MAX_SIZE + 1
    bits = 1
    for coeff in poly.coeffs():
        bits = max(bits, *(_size(r) for r in (coeff.as_numer_denom()) if r.is_Rational), 1)
    return max(poly.degree(), 1) * bits

_TOKEN = re.compile(r"\s*(?:(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)|(?P<name>[A-Za-z_]+)|(?P<op>\*\*|[-+*/^()]))", re.ASCII)


def parse_expression(text: str, path: str = "") -> sympy.Expr:
    """The sympy expression a closed-form string denotes, read without evaluating code."""
    if not isinstance(text, str):
        raise InputError(f"expected a closed form as a string, got {type(text).__name__}", path=path)
    if len(text) > MAX_LENGTH:
        raise InputError(f"expected a closed form of at most {MAX_LENGTH} characters, got {len(text)}", path=path)
    return _Parser(text, path).parse()


class _Parser:
    """expr := term (('+'|'-') term)*; term := unary (('*'|'/') unary)*;
    unary := ('+'|'-') unary | power; power := atom (('^'|'**') unary)?;
    atom := number | 'c' | 'oo' | 'sqrt' '(' expr ')' | '(' expr ')'."""

    def __init__(self, text: str, path: str) -> None:
        self.text, self.path = text, path
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise self._error("expected a number, c, sqrt(...), an operator or a parenthesis", pos)
            kind = m.lastgroup or ""
            if kind == "name" and m.group(kind) not in ("c", "oo", "sqrt"):
                raise self._error(f"expected c, sqrt or oo, got the name {m.group(kind)!r}", m.start(kind))
            self.tokens.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()
        self.i = 0
        self.depth = 0

    def _error(self, what: str, pos: int) -> InputError:
        return InputError(f"{what} at character {pos + 1} of {self.text!r}", path=self.path)

    def _peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "", len(self.text))

    def _take(self, value: str) -> bool:
        if self._peek()[1] == value and self._peek()[0] == "op":
            self.i += 1
            return True
        return False

    def parse(self) -> sympy.Expr:
        e = self._expr()
        kind, _, pos = self._peek()
        if kind != "end":
            raise self._error("expected an operator or the end", pos)
        return e

    def _nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self._error(f"expected at most {MAX_DEPTH} nested terms", self._peek()[2])

    def _expr(self) -> sympy.Expr:
        self._nested()
        e = self._term()
        while True:
            if self._take("+"):
                e = e + self._term()
            elif self._take("-"):
                e = e - self._term()
            else:
                self.depth -= 1
                return e

    def _term(self) -> sympy.Expr:
        e = self._unary()
        while True:
            if self._take("*"):
                e = e * self._unary()
            elif self._take("/"):
                pos = self._peek()[2]
                d = self._unary()
                if d == 0:
                    raise self._error("expected a nonzero divisor", pos)
                e = e / d
            else:
                return e

    def _unary(self) -> sympy.Expr:
        self._nested()
        if self._take("-"):
            e = -self._unary()
        elif self._take("+"):
            e = self._unary()
        else:
            e = self._power()
        self.depth -= 1
        return e

    def _power(self) -> sympy.Expr:
        base = self._atom()
        if self._take("^") or self._take("**"):
            pos = self._peek()[2]
            exp = self._unary()
            if not (exp.is_Integer and abs(int(exp)) <= MAX_EXPONENT):
                raise self._error(f"expected an integer exponent of at most {MAX_EXPONENT} in size", pos)
            if base == 0 and exp < 0:
                raise self._error("expected a nonzero base for a negative exponent", pos)
            if _size(base) * abs(int(exp)) > MAX_SIZE:  # ((9^64)^64)^64 would take forever
                raise self._error(f"expected a power of at most {MAX_SIZE} in size (degree times exponent, "
                                  "or bits of a number times exponent)", pos)
            return base ** exp
        return base

    def _atom(self) -> sympy.Expr:
        kind, value, pos = self._peek()
        if kind == "num":
            self.i += 1
            q: Fraction = parse_number(value, self.path)
            return sympy.Rational(q.numerator, q.denominator)
        if kind == "name":
            self.i += 1
            if value == "c":
                return C
            if value == "oo":
                return sympy.oo
            if not self._take("("):
                raise self._error("expected '(' after sqrt", self._peek()[2])
            arg = self._expr()
            if not self._take(")"):
                raise self._error("expected ')'", self._peek()[2])
            return sympy.sqrt(arg)
        if self._take("("):
            e = self._expr()
            if not self._take(")"):
                raise self._error("expected ')'", self._peek()[2])
            return e
        raise self._error("expected a number, c, sqrt(...) or '('", pos)
