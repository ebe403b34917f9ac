"""A strict reader of VNN-LIB property files, numbers read exactly.

VNN-LIB 1.0 (the VNN-COMP format): ``(declare-const X_i Real)`` / ``(declare-const Y_j Real)``
and ``(assert F)``, where F is built from ``and``, ``or`` and the comparisons ``<=``, ``>=``,
``<``, ``>``, ``=`` (chainable, as in SMT-LIB) between linear terms: numbers, variables,
``(+ t ...)``, ``(- t)``, ``(- t u ...)``, and ``(* c t)`` with at least one side a constant.
The asserts' conjunction is put in disjunctive normal form (`formula.Property`).

VNN-LIB 2.0, where practical: ``(vnnlib-version <2.0>)``, one ``(declare-network NAME
(declare-input X TYPE [shape]) (declare-output Y TYPE [shape]))``, variables ``X[i]`` or
``X[i,j]`` (row-major over the shape), and the same formulas. Hidden variables,
several networks and equivalence statements are reported as unsupported.

Numbers are exact: ``0.6`` is 3/5, ``-1.5e-3`` is -3/2000, ``1/3`` is not VNN-LIB (an
error). Nothing read is evaluated: the reader is a tokenizer and a recursive descent on
the S-expressions. Every error names the file, the line and what was expected
(`InputError`, exit status 2 at the command line).

The PyPI package ``vnnlib`` (1.0.2) was tried: it reads VNN-LIB 2.0 only (every 1.0 file of
VNN-COMP fails with a syntax error on ``declare-const``), rejects ``1`` as a Real, and gives
constants as floats (their lexeme is kept, but a reader on top of it would still not read
the competition's files); hence this reader.

>>> p = parse_vnnlib('''
... (declare-const X_0 Real)
... (declare-const Y_0 Real)
... (declare-const Y_1 Real)
... (assert (>= X_0 0.6)) (assert (<= X_0 1))
... (assert (or (and (>= Y_0 Y_1)) (and (<= (+ Y_1 (* 2 Y_0)) -0.1))))''')
>>> p.input_dim, p.output_dim, len(p.disjuncts)
(1, 2, 2)
>>> p.disjuncts[0].atoms[0].text()           # (>= X_0 0.6) is 0.6 - X_0 <= 0, exactly
'-X_0 + 3/5 <= 0'
>>> parse_vnnlib("(declare-const X_0 Real)\\n(assert (<= X_0 0.1.2))", "p.vnnlib")
Traceback (most recent call last):
...
exactrelu.core.errors.InputError: p.vnnlib: line 2: expected a number or a variable, got '0.1.2'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Union

from ..core.errors import InputError
from .formula import Atom, Conjunction, Property

MAX_DISJUNCTS = 100_000

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_V1 = re.compile(r"([XY])_(\d+)")
_V2 = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\[([\d\s,]+)\]")


@dataclass(frozen=True)
class Token:
    text: str
    line: int


SExpr = Union[Token, "list[SExpr]"]


class _Reader:
    """One file's state: its name (for errors) and the declared variables."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.declared: dict[str, set[int]] = {"X": set(), "Y": set()}
        self.v2: dict[str, tuple[str, tuple[int, ...]]] = {}  # 2.0: name -> (X|Y, shape)
        self.version2 = False

    def error(self, line: int, message: str) -> InputError:
        return InputError(message, path=f"line {line}", file=self.file)

    # -- tokens and S-expressions ------------------------------------------------------

    def tokens(self, text: str) -> list[Token]:
        out: list[Token] = []
        i, line, n = 0, 1, len(text)
        while i < n:
            ch = text[i]
            if ch == "\n":
                line += 1
                i += 1
            elif ch.isspace():
                i += 1
            elif ch == ";":
                while i < n and text[i] != "\n":
                    i += 1
            elif ch in "()":
                out.append(Token(ch, line))
                i += 1
            else:
                j = i
                while j < n and not text[j].isspace() and text[j] not in "();":
                    if text[j] == "[":  # 2.0 indices and shapes may hold spaces: X[0, 1]
                        k = text.find("]", j)
                        if k < 0 or "\n" in text[j:k]:
                            raise self.error(line, "expected ']' closing '[' on the same line")
                        j = k
                    j += 1
                out.append(Token(text[i:j], line))
                i = j
        return out

    def sexprs(self, toks: list[Token]) -> list[SExpr]:
        stack: list[list[SExpr]] = [[]]
        opened: list[int] = []
        for t in toks:
            if t.text == "(":
                stack.append([])
                opened.append(t.line)
            elif t.text == ")":
                if len(stack) == 1:
                    raise self.error(t.line, "unexpected ')': no '(' is open")
                done = stack.pop()
                opened.pop()
                stack[-1].append(done)
            else:
                stack[-1].append(t)
        if opened:
            raise self.error(opened[-1], "expected ')' closing the '(' opened on this line (end of file reached)")
        return stack[0]

    # -- commands ------------------------------------------------------------------------

    def command(self, e: SExpr, asserts: list[list[list[Atom]]]) -> None:
        if isinstance(e, Token):
            raise self.error(e.line, f"expected a command in parentheses, got {e.text!r}")
        if not e or not isinstance(e[0], Token):
            raise self.error(_line(e), "expected a command: declare-const, assert (or 2.0's vnnlib-version, declare-network)")
        head = e[0].text
        line = e[0].line
        if head == "declare-const":
            if len(e) != 3 or not all(isinstance(t, Token) for t in e[1:]):
                raise self.error(line, "expected (declare-const NAME Real)")
            name, sort = e[1].text, e[2].text  # type: ignore[union-attr]
            m = _V1.fullmatch(name)
            if m is None:
                raise self.error(line, f"expected a variable named X_i (input) or Y_j (output), got {name!r}")
            if sort != "Real":
                raise self.error(line, f"expected the sort Real for {name}, got {sort!r}")
            idx = int(m.group(2))
            if idx in self.declared[m.group(1)]:
                raise self.error(line, f"{name} is declared twice")
            self.declared[m.group(1)].add(idx)
        elif head == "assert":
            if len(e) != 2:
                raise self.error(line, "expected (assert FORMULA) with one formula")
            asserts.append(self.formula(e[1]))
        elif head == "vnnlib-version":
            if len(e) != 2 or not isinstance(e[1], Token) or e[1].text not in ("<2.0>", "2.0"):
                raise self.error(line, "expected (vnnlib-version <2.0>)")
            self.version2 = True
        elif head == "declare-network":
            self.network(e)
        else:
            raise self.error(line, f"expected declare-const or assert, got the unsupported command {head!r}")

    def network(self, e: list[SExpr]) -> None:
        line = e[0].line  # type: ignore[union-attr]
        if self.v2:
            raise self.error(line, "unsupported: more than one declare-network")
        for part in e[2:]:
            if isinstance(part, Token) or not part or not isinstance(part[0], Token):
                raise self.error(line, "expected (declare-input NAME TYPE [shape]) or (declare-output NAME TYPE [shape])")
            kind = part[0].text
            if kind not in ("declare-input", "declare-output"):
                raise self.error(part[0].line, f"unsupported in declare-network: {kind!r} (inputs and outputs only)")
            if len(part) < 4 or not all(isinstance(t, Token) for t in part[1:4]):
                raise self.error(part[0].line, f"expected ({kind} NAME TYPE [shape])")
            name, shape_text = part[1].text, part[3].text  # type: ignore[union-attr]
            if not (shape_text.startswith("[") and shape_text.endswith("]")):
                raise self.error(part[0].line, f"expected a shape like [5] or [1,5], got {shape_text!r}")
            try:
                shape = tuple(int(s) for s in shape_text[1:-1].split(",") if s.strip())
            except ValueError:
                raise self.error(part[0].line, f"expected a shape of integers, got {shape_text!r}") from None
            role = "X" if kind == "declare-input" else "Y"
            if any(r == role for r, _ in self.v2.values()):
                raise self.error(part[0].line, f"unsupported: more than one {kind}")
            self.v2[name] = (role, shape)
            size = 1
            for s in shape:
                size *= s
            self.declared[role] = set(range(size))

    # -- formulas, in DNF: a list of conjunctions, each a list of atoms --------------------

    def formula(self, e: SExpr) -> list[list[Atom]]:
        if isinstance(e, Token):
            raise self.error(e.line, f"expected a formula in parentheses, got {e.text!r}")
        if not e or not isinstance(e[0], Token):
            raise self.error(_line(e), "expected a formula: (and ...), (or ...), or a comparison")
        head, line = e[0].text, e[0].line
        if head == "and":
            out: list[list[Atom]] = [[]]
            for sub in e[1:]:
                parts = self.formula(sub)
                out = [a + b for a in out for b in parts]
                if len(out) > MAX_DISJUNCTS:
                    raise self.error(line, f"the formula has more than {MAX_DISJUNCTS} disjuncts in normal form")
            return out
        if head == "or":
            if len(e) < 2:
                raise self.error(line, "expected (or F ...) with at least one formula")
            out = []
            for sub in e[1:]:
                out.extend(self.formula(sub))
                if len(out) > MAX_DISJUNCTS:
                    raise self.error(line, f"the formula has more than {MAX_DISJUNCTS} disjuncts in normal form")
            return out
        if head in ("<=", ">=", "<", ">", "="):
            if len(e) < 3:
                raise self.error(line, f"expected ({head} TERM TERM) with at least two terms")
            terms = [self.term(t) for t in e[1:]]
            atoms: list[Atom] = []
            for left, right in zip(terms, terms[1:]):
                if head in ("<=", "<", "="):
                    atoms.append(self.atom(left, right, head == "<"))
                if head in (">=", ">", "="):
                    atoms.append(self.atom(right, left, head == ">"))
            return [atoms]
        raise self.error(line, f"expected and, or, <=, >=, <, > or =, got the unsupported {head!r}")

    def atom(self, left: "_Lin", right: "_Lin", strict: bool) -> Atom:
        """``left <= right`` (``<``) as ``left - right <= 0``."""
        diff = left.minus(right)
        nx = max(self.declared["X"], default=-1) + 1
        ny = max(self.declared["Y"], default=-1) + 1
        xs = tuple(diff.coef.get(("X", i), Fraction(0)) for i in range(nx))
        ys = tuple(diff.coef.get(("Y", j), Fraction(0)) for j in range(ny))
        return Atom(xs, ys, diff.const, strict)

    def term(self, e: SExpr) -> "_Lin":
        if isinstance(e, Token):
            return self.leaf(e)
        if not e or not isinstance(e[0], Token):
            raise self.error(_line(e), "expected a term: a number, a variable, or (+ ...), (- ...), (* ...)")
        head, line = e[0].text, e[0].line
        args = [self.term(t) for t in e[1:]]
        if not args:
            raise self.error(line, f"expected ({head} TERM ...) with at least one term")
        if head == "+":
            out = args[0]
            for a in args[1:]:
                out = out.plus(a)
            return out
        if head == "-":
            if len(args) == 1:
                return args[0].scaled(Fraction(-1))
            out = args[0]
            for a in args[1:]:
                out = out.minus(a)
            return out
        if head == "*":
            out = args[0]
            for a in args[1:]:
                if a.is_constant:
                    out = out.scaled(a.const)
                elif out.is_constant:
                    out = a.scaled(out.const)
                else:
                    raise self.error(line, "expected a linear term: (* ...) multiplies by constants only")
            return out
        raise self.error(line, f"expected +, - or * in a term, got the unsupported {head!r}")

    def leaf(self, t: Token) -> "_Lin":
        if _NUMBER.fullmatch(t.text):
            return _Lin({}, Fraction(t.text))
        role, index = self.variable(t)
        if role is None:
            raise self.error(t.line, f"expected a number or a variable, got {t.text!r}")
        if index not in self.declared[role]:
            raise self.error(t.line, f"{t.text} is used but not declared")
        return _Lin({(role, index): Fraction(1)}, Fraction(0))

    def variable(self, t: Token) -> tuple[str | None, int]:
        m = _V1.fullmatch(t.text)
        if m is not None and not self.v2:
            return m.group(1), int(m.group(2))
        m = _V2.fullmatch(t.text)
        if m is not None and m.group(1) in self.v2:
            role, shape = self.v2[m.group(1)]
            try:
                idx = [int(s) for s in m.group(2).split(",")]
            except ValueError:
                return None, 0
            if len(idx) != len(shape) or any(not 0 <= i < s for i, s in zip(idx, shape)):
                raise self.error(t.line, f"index {m.group(2)!r} of {m.group(1)} does not fit its shape {list(shape)}")
            flat = 0
            for i, s in zip(idx, shape):
                flat = flat * s + i
            return role, flat
        return None, 0


@dataclass(frozen=True)
class _Lin:
    """A linear term: coefficients on (role, index), and a constant."""

    coef: dict[tuple[str, int], Fraction]
    const: Fraction

    @property
    def is_constant(self) -> bool:
        return not any(self.coef.values())

    def plus(self, other: "_Lin") -> "_Lin":
        c = dict(self.coef)
        for k, v in other.coef.items():
            c[k] = c.get(k, Fraction(0)) + v
        return _Lin(c, self.const + other.const)

    def scaled(self, s: Fraction) -> "_Lin":
        return _Lin({k: v * s for k, v in self.coef.items()}, self.const * s)

    def minus(self, other: "_Lin") -> "_Lin":
        return self.plus(other.scaled(Fraction(-1)))


def _line(e: SExpr) -> int:
    while not isinstance(e, Token):
        if not e:
            return 0
        e = e[0]
    return e.line


def _dims(declared: set[int], role: str, reader: _Reader) -> int:
    n = max(declared, default=-1) + 1
    if set(range(n)) != declared:
        missing = min(set(range(n)) - declared)
        raise reader.error(1, f"expected {role}_0 … {role}_{n - 1} all declared; {role}_{missing} is missing")
    return n


def sexpressions(text: str, file: str = "") -> list[SExpr]:
    """The S-expressions of a text (comments after ``;`` dropped): tokens carry ``text`` and
    ``line``; unbalanced parentheses raise `InputError` naming the file and the line.
    Shared with the result-file reader (`exactrelu.properties.result`)."""
    reader = _Reader(file)
    return reader.sexprs(reader.tokens(text))


def parse_vnnlib(text: str, file: str = "") -> Property:
    """A `Property` from the text of a VNN-LIB file (``file`` names it in errors)."""
    reader = _Reader(file)
    asserts: list[list[list[Atom]]] = []
    exprs = reader.sexprs(reader.tokens(text))
    for e in exprs:
        reader.command(e, asserts)
    nx = _dims(reader.declared["X"], "X", reader)
    ny = _dims(reader.declared["Y"], "Y", reader)
    if nx == 0:
        raise reader.error(1, "expected at least one input variable X_0")
    if ny == 0:
        raise reader.error(1, "expected at least one output variable Y_0")
    if not asserts:
        raise reader.error(1, "expected at least one assert")
    dnf: list[list[Atom]] = [[]]
    for parts in asserts:
        dnf = [a + b for a in dnf for b in parts]
        if len(dnf) > MAX_DISJUNCTS:
            raise reader.error(1, f"the asserts have more than {MAX_DISJUNCTS} disjuncts in normal form")
    disjuncts = tuple(Conjunction(tuple(dict.fromkeys(_pad(a, nx, ny) for a in c))) for c in dnf)
    return Property(nx, ny, disjuncts, file)


def _pad(a: Atom, nx: int, ny: int) -> Atom:
    """Atoms are built as variables are declared; give each the final dimensions."""
    zero = Fraction(0)
    xs = a.x_coef + (zero,) * (nx - len(a.x_coef))
    ys = a.y_coef + (zero,) * (ny - len(a.y_coef))
    return Atom(xs, ys, a.const, a.strict)


def read_vnnlib(path: str | Path) -> Property:
    """A `Property` from a VNN-LIB file; unreadable or malformed files raise `InputError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the file: {getattr(e, 'strerror', None) or e}", file=str(p)) from None
    return parse_vnnlib(text, str(p))
