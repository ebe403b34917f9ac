"""Input domains: all of R^n, a box, or a polyhedron ``{x : A x <= b}``.

>>> d = Domain.from_box([[0, 1], ["-1/2", "1/2"]])
>>> d.contains([Fraction(1, 2), Fraction(0)]), d.contains([2, 0])
(True, False)
>>> len(d.A)
4
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

from .errors import InputError
from .numbers import format_number, parse_matrix, parse_number, parse_vector


@dataclass(frozen=True)
class Domain:
    """``{x in R^dim : A x <= b}``; ``box`` is kept when the domain was given as one."""

    dim: int
    A: tuple[tuple[Fraction, ...], ...] = ()
    b: tuple[Fraction, ...] = ()
    box: tuple[tuple[Fraction, Fraction], ...] | None = None

    @classmethod
    def whole(cls, dim: int) -> "Domain":
        return cls(dim)

    @classmethod
    def from_box(cls, bounds: Sequence[Sequence[Any]], path: str = "box") -> "Domain":
        box = []
        for i, pair in enumerate(bounds):
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise InputError("expected a pair [lo, hi]", path=f"{path}[{i}]")
            lo = parse_number(pair[0], f"{path}[{i}][0]")
            hi = parse_number(pair[1], f"{path}[{i}][1]")
            if not lo < hi:
                raise InputError(f"expected lo < hi, got [{lo}, {hi}]", path=f"{path}[{i}]")
            box.append((lo, hi))
        n = len(box)
        A, b = [], []
        for i, (lo, hi) in enumerate(box):
            e = tuple(Fraction(1) if j == i else Fraction(0) for j in range(n))
            A.append(e)
            b.append(hi)
            A.append(tuple(-v for v in e))
            b.append(-lo)
        return cls(n, tuple(A), tuple(b), tuple(box))

    @classmethod
    def ball(cls, center: Sequence[Any], radius: Any, norm: Any = "inf", path: str = "ball") -> "Domain":
        """The closed ball ``{x : ‖x − center‖_p <= radius}`` for p = ∞ (a box) or p = 1 (a
        cross-polytope: the 2^n half-spaces ``s·(x − center) <= radius``, s in {±1}^n), the
        domains of local Lipschitz and verification questions. An ℓ2 ball is not a
        polytope: it is an `InputError` (its ℓ∞ ball of the same radius contains it, its ℓ1
        ball is inside it, for bounds either way).

        >>> Domain.ball([0, 1], "1/2").box
        ((Fraction(-1, 2), Fraction(1, 2)), (Fraction(1, 2), Fraction(3, 2)))
        >>> d = Domain.ball([0, 0], 1, norm="1")
        >>> len(d.A), d.contains([Fraction(1, 2), Fraction(-1, 2)]), d.contains([1, 1])
        (4, True, False)
        """
        from .norms import parse_norm

        c = [parse_number(v, f"{path}.center[{i}]") for i, v in enumerate(center)]
        r = parse_number(radius, f"{path}.radius")
        if not r > 0:
            raise InputError(f"expected a positive radius, got {r}", path=f"{path}.radius")
        p = parse_norm(norm, f"{path}.norm")
        if p == "inf":
            return cls.from_box([[v - r, v + r] for v in c], path)
        if p == "2":
            raise InputError("an l2 ball is not a polytope, so not a domain here (exact analyses need linear "
                             "constraints): use the l-inf ball of the same radius (it contains it) or the l1 ball "
                             "(inside it)", path=f"{path}.norm")
        if len(c) > 16:
            raise InputError(f"an l1 ball in dimension {len(c)} has 2^{len(c)} facets; at most 16 dimensions",
                             path=f"{path}.center")
        A, b = [], []
        for signs in itertools.product((1, -1), repeat=len(c)):
            A.append(tuple(Fraction(s) for s in signs))
            b.append(r + sum((s * v for s, v in zip(signs, c)), Fraction(0)))
        return cls(len(c), tuple(A), tuple(b))

    @classmethod
    def from_halfspaces(cls, A: Any, b: Any, dim: int, path: str = "halfspaces") -> "Domain":
        rows = parse_matrix(A, f"{path}.A", dim)
        rhs = parse_vector(b, f"{path}.b", len(rows))
        return cls(dim, rows, rhs)

    @classmethod
    def from_json(cls, data: Any, dim: int, path: str = "domain") -> "Domain":
        if data is None:
            return cls.whole(dim)
        if not isinstance(data, dict) or len(data) != 1 or not ({"box", "halfspaces"} & data.keys()):
            raise InputError('expected {"box": [[lo, hi], ...]} or {"halfspaces": {"A": ..., "b": ...}}', path=path)
        if "box" in data:
            bounds = data["box"]
            if not isinstance(bounds, list) or len(bounds) != dim:
                raise InputError(f"expected a list of {dim} pairs [lo, hi]", path=f"{path}.box")
            return cls.from_box(bounds, f"{path}.box")
        hs = data["halfspaces"]
        if not isinstance(hs, dict) or "A" not in hs or "b" not in hs:
            raise InputError('expected {"A": [[...], ...], "b": [...]}', path=f"{path}.halfspaces")
        return cls.from_halfspaces(hs["A"], hs["b"], dim, f"{path}.halfspaces")

    def to_json(self) -> dict[str, Any] | None:
        if self.is_whole:
            return None
        if self.box is not None:
            return {"box": [[format_number(lo), format_number(hi)] for lo, hi in self.box]}
        return {
            "halfspaces": {
                "A": [[format_number(v) for v in row] for row in self.A],
                "b": [format_number(v) for v in self.b],
            }
        }

    @property
    def is_whole(self) -> bool:
        return not self.A

    def contains(self, x: Sequence[Any]) -> bool:
        x = [Fraction(v) for v in x]
        return all(sum(a * v for a, v in zip(row, x)) <= bi for row, bi in zip(self.A, self.b))

    def volume(self) -> Fraction | None:
        """The box's volume; None for other domains."""
        if self.box is None:
            return None
        vol = Fraction(1)
        for lo, hi in self.box:
            vol *= hi - lo
        return vol
