"""Properties as exact linear formulas over a network's inputs ``x`` and outputs ``y``.

A `Property` (SPEC §5) is the *unsafe set* of a VNN-LIB file in disjunctive normal form:
a disjunction of `Conjunction`\\ s, each a list of `Atom`\\ s ``a·x + c·y + d <= 0`` (or
``< 0``). The atoms on ``x`` alone form a conjunction's *input set*; the property is
**violated** when some x has ``(x, f(x))`` in one conjunction, and **holds** otherwise.
`Property.groups` gathers the conjunctions that share an input set, so that one search
over that set decides all of them at once (ACAS Xu φ6: two input boxes, four output
conditions each).

>>> x_le = Atom((Fraction(1),), (Fraction(0),), Fraction(-1))          # x0 - 1 <= 0
>>> y_ge = Atom((Fraction(0),), (Fraction(-1),), Fraction(1, 2))       # 1/2 - y0 <= 0
>>> prop = Property(1, 1, (Conjunction((x_le, y_ge)),))
>>> prop.violated_at([Fraction(1)], [Fraction(1, 2)]), prop.violated_at([Fraction(1)], [Fraction(0)])
(True, False)
>>> [len(g.conjunctions) for g in prop.groups]
[1]
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

from ..core.numbers import format_number

Vec = tuple[Fraction, ...]


@dataclass(frozen=True)
class Atom:
    """``x_coef · x + y_coef · y + const <= 0`` (``< 0`` when ``strict``), exactly."""

    x_coef: Vec
    y_coef: Vec
    const: Fraction
    strict: bool = False

    @property
    def on_inputs_only(self) -> bool:
        return not any(self.y_coef)

    def value(self, x: Sequence[Fraction], y: Sequence[Fraction]) -> Fraction:
        """The left-hand side at (x, y): the atom holds when it is ``<= 0`` (``< 0`` if strict)."""
        s = self.const
        for a, v in zip(self.x_coef, x):
            if a:
                s += a * v
        for a, v in zip(self.y_coef, y):
            if a:
                s += a * v
        return s

    def holds(self, x: Sequence[Fraction], y: Sequence[Fraction]) -> bool:
        v = self.value(x, y)
        return v < 0 if self.strict else v <= 0

    def text(self) -> str:
        """The atom in the VNN-LIB variable names, for people: ``X_0 - Y_1 + 1/2 <= 0``."""
        terms = []
        for name, coef in (("X", self.x_coef), ("Y", self.y_coef)):
            for i, a in enumerate(coef):
                if a:
                    mag = "" if abs(a) == 1 else f"{format_number(abs(a))}*"
                    terms.append(("- " if a < 0 else "+ ") + f"{mag}{name}_{i}")
        if self.const or not terms:
            terms.append(("- " if self.const < 0 else "+ ") + format_number(abs(self.const)))
        lhs = " ".join(terms)
        lhs = lhs[2:] if lhs.startswith("+ ") else "-" + lhs[2:]
        return f"{lhs} {'<' if self.strict else '<='} 0"

    def to_json(self) -> dict[str, Any]:
        return {
            "x": [format_number(v) for v in self.x_coef],
            "y": [format_number(v) for v in self.y_coef],
            "const": format_number(self.const),
            "strict": self.strict,
        }


@dataclass(frozen=True)
class Conjunction:
    """All of its atoms at once."""

    atoms: tuple[Atom, ...]

    @property
    def input_atoms(self) -> tuple[Atom, ...]:
        return tuple(a for a in self.atoms if a.on_inputs_only)

    @property
    def output_atoms(self) -> tuple[Atom, ...]:
        """The atoms that involve y (possibly x too)."""
        return tuple(a for a in self.atoms if not a.on_inputs_only)

    def holds(self, x: Sequence[Fraction], y: Sequence[Fraction]) -> bool:
        return all(a.holds(x, y) for a in self.atoms)


@dataclass(frozen=True)
class Group:
    """Conjunctions sharing one input set: ``input_atoms`` (on x only) and, per
    conjunction, its atoms on y (``conjunctions[k]``; an empty one means the input set
    alone is unsafe)."""

    input_atoms: tuple[Atom, ...]
    conjunctions: tuple[tuple[Atom, ...], ...]
    indices: tuple[int, ...]  # the conjunctions' positions in `Property.disjuncts`


@dataclass(frozen=True)
class Property:
    """The unsafe set ``OR_k AND_j atom_kj`` over ``input_dim`` inputs and ``output_dim`` outputs."""

    input_dim: int
    output_dim: int
    disjuncts: tuple[Conjunction, ...]
    source: str = ""

    def violated_at(self, x: Sequence[Fraction], y: Sequence[Fraction]) -> bool:
        """Whether (x, y) lies in the unsafe set (exact)."""
        return any(c.holds(x, y) for c in self.disjuncts)

    def in_input_set(self, x: Sequence[Fraction]) -> bool:
        """Whether x satisfies the input atoms of some conjunction (exact)."""
        return any(all(a.holds(x, ()) for a in c.input_atoms) for c in self.disjuncts)

    @property
    def groups(self) -> tuple[Group, ...]:
        order: dict[frozenset[Atom], list[int]] = {}
        for k, c in enumerate(self.disjuncts):
            order.setdefault(frozenset(c.input_atoms), []).append(k)
        out = []
        for _, ks in order.items():
            first = self.disjuncts[ks[0]]
            out.append(Group(first.input_atoms, tuple(self.disjuncts[k].output_atoms for k in ks), tuple(ks)))
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        """The property as exact rows (for certificates)."""
        return {
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "disjuncts": [[a.to_json() for a in c.atoms] for c in self.disjuncts],
        }
