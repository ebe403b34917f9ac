"""Real algebraic numbers, exactly: the one root of an integer polynomial in an isolating
interval with rational ends (`Algebraic`). They compare exactly (`Algebraic.compare` and
the rich comparisons), refine on demand, and carry ℓ2 norms (`sqrt_of_largest_root`).

>>> root2 = sqrt_of_largest_root((-2, 1))          # sqrt(2)
>>> root2 < Fraction(3, 2), root2 > Fraction(7, 5), root2 == sqrt_of_largest_root((-8, 4))
(True, True, True)
>>> root2.text()
'the root of x**2 - 2 in [1, 2]'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from flint import arb, fmpz_poly


def _sign_at(poly: Sequence[int], q: Fraction) -> int:
    """The sign of the integer polynomial (ascending coefficients) at the rational q."""
    a, b = q.numerator, q.denominator
    d = len(poly) - 1
    total = sum(c * a**i * b ** (d - i) for i, c in enumerate(poly))
    return (total > 0) - (total < 0)


def _arb_bounds(x: arb) -> tuple[Fraction, Fraction]:
    """Rational ends of an arb ball."""
    man, exp = x.mid().man_exp()
    mid = Fraction(int(man)) * Fraction(2) ** int(exp)
    rman, rexp = x.rad().man_exp()
    rad = Fraction(int(rman)) * Fraction(2) ** int(rexp)
    return mid - rad, mid + rad


@dataclass(frozen=True, eq=False)
class Algebraic:
    """A real algebraic number: the one root of ``poly`` in ``interval``.

    ``poly``: the minimal polynomial, integer coefficients in ascending order, primitive,
    leading coefficient positive. ``interval``: ``(lo, hi)`` rationals with ``lo <= hi``
    containing exactly one real root of ``poly`` (``lo == hi`` only for a rational).
    """

    poly: tuple[int, ...]
    interval: tuple[Fraction, Fraction]

    @classmethod
    def rational(cls, q: Fraction | int) -> "Algebraic":
        """A rational as an algebraic number of degree 1.

        >>> Algebraic.rational(Fraction(3, 2)).poly
        (-3, 2)
        """
        q = Fraction(q)
        return cls((-q.numerator, q.denominator), (q, q))

    @property
    def is_rational(self) -> bool:
        return len(self.poly) == 2

    @property
    def value(self) -> Fraction | None:
        """The rational value, or None when the number is irrational."""
        return Fraction(-self.poly[0], self.poly[1]) if self.is_rational else None

    def refine(self, width: Fraction) -> "Algebraic":
        """The same number with an isolating interval no wider than ``width`` (exact bisection)."""
        if self.is_rational:
            return self
        lo, hi = self.interval
        s_lo = _sign_at(self.poly, lo)
        while hi - lo > width:
            mid = (lo + hi) / 2
            s = _sign_at(self.poly, mid)
            if s == 0:  # impossible for an irreducible polynomial of degree > 1
                raise ArithmeticError("rational root of an irreducible polynomial")
            if s == s_lo:
                lo = mid
            else:
                hi = mid
        return Algebraic(self.poly, (lo, hi))

    def compare(self, other: "Algebraic | Fraction | int") -> int:
        """-1, 0 or 1 as self <, =, > other, decided exactly.

        >>> two = Algebraic.rational(2)
        >>> root2 = sqrt_of_largest_root((-2, 1))   # sqrt(2)
        >>> root2.compare(two), two.compare(root2), root2.compare(root2), root2.compare(Fraction(7, 5))
        (-1, 1, 0, 1)
        """
        if not isinstance(other, Algebraic):
            other = Algebraic.rational(Fraction(other))
        if self.is_rational and other.is_rational:
            a, b = self.value, other.value
            return (a > b) - (a < b)
        if self.poly == other.poly:
            lo = max(self.interval[0], other.interval[0])
            hi = min(self.interval[1], other.interval[1])
            if lo < hi and _sign_at(self.poly, lo) * _sign_at(self.poly, hi) < 0:
                return 0
        a, b = self, other
        while True:
            if a.interval[1] < b.interval[0]:
                return -1
            if b.interval[1] < a.interval[0]:
                return 1
            if a.is_rational and b.is_rational:  # pragma: no cover - handled above
                return 0
            wa = a.interval[1] - a.interval[0]
            wb = b.interval[1] - b.interval[0]
            width = max(wa, wb) / 4 or Fraction(1, 2**60)
            a, b = a.refine(width), b.refine(width)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (Algebraic, Fraction, int)) or isinstance(other, bool):
            return NotImplemented
        return self.compare(other) == 0

    def __hash__(self) -> int:  # equal numbers have one minimal polynomial
        return hash(self.value) if self.is_rational else hash(self.poly)

    def __lt__(self, other: "Algebraic | Fraction | int") -> bool:
        return self.compare(other) < 0

    def __le__(self, other: "Algebraic | Fraction | int") -> bool:
        return self.compare(other) <= 0

    def __gt__(self, other: "Algebraic | Fraction | int") -> bool:
        return self.compare(other) > 0

    def __ge__(self, other: "Algebraic | Fraction | int") -> bool:
        return self.compare(other) >= 0

    def __float__(self) -> float:
        if self.is_rational:
            return float(self.value)
        lo, hi = self.refine(Fraction(1, 2**60)).interval
        return float((lo + hi) / 2)

    def text(self) -> str:
        """The exact description: the rational, or ``root of P in [lo, hi]``.

        >>> sqrt_of_largest_root((-2, 1)).text()
        'the root of x**2 - 2 in [1, 2]'
        """
        if self.is_rational:
            v = self.value
            return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
        lo, hi = self.interval
        return f"the root of {poly_text(self.poly)} in [{lo}, {hi}]"


def poly_text(poly: Sequence[int]) -> str:
    """An integer polynomial (ascending coefficients) as text in x.

    >>> poly_text((-2, 0, 3))
    '3*x**2 - 2'
    """
    terms = []
    for i in range(len(poly) - 1, -1, -1):
        c = poly[i]
        if c == 0:
            continue
        mag = abs(c)
        mono = "" if i == 0 else "x" if i == 1 else f"x**{i}"
        body = str(mag) if not mono else mono if mag == 1 else f"{mag}*{mono}"
        sign = "-" if c < 0 else "+"
        terms.append((sign, body))
    if not terms:
        return "0"
    first_sign, first = terms[0]
    out = ("-" if first_sign == "-" else "") + first
    for sign, body in terms[1:]:
        out += f" {sign} {body}"
    return out


def _primitive(p: fmpz_poly) -> tuple[int, ...]:
    coeffs = [int(c) for c in p.coeffs()]
    g = 0
    for c in coeffs:
        g = math.gcd(g, c)
    if coeffs[-1] < 0:
        g = -g
    return tuple(c // g for c in coeffs)


def _largest_real_root_factor(poly: fmpz_poly) -> tuple[tuple[int, ...], tuple[Fraction, Fraction]]:
    """The irreducible factor of ``poly`` (all of whose roots are real) holding its largest
    root, with a short dyadic interval isolating that root among the factor's roots."""
    best: Algebraic | None = None
    _, factors = poly.factor()
    for fac, _mult in factors:
        coeffs = _primitive(fac)
        if len(coeffs) == 2:
            candidate = Algebraic.rational(Fraction(-coeffs[0], coeffs[1]))
        else:
            roots = sorted((_arb_bounds(z.real) for z, _ in fac.complex_roots()), key=lambda iv: iv[1])
            candidate = _as_algebraic(coeffs, _coarsen(roots[-1], roots[:-1]))
        if best is None or candidate.compare(best) > 0:
            best = candidate
    assert best is not None
    return best.poly, best.interval


def _coarsen(iv: tuple[Fraction, Fraction], others: Sequence[tuple[Fraction, Fraction]]) -> tuple[Fraction, Fraction]:
    """The coarsest dyadic interval ``[a/2^k, b/2^k]`` around ``iv`` that meets none of ``others``."""
    lo, hi = iv
    k = 0
    while True:
        scale = Fraction(2) ** k
        a = Fraction(math.floor(lo * scale)) / scale
        b = Fraction(math.ceil(hi * scale)) / scale
        if a < b and all(o[1] < a or o[0] > b for o in others):
            return a, b
        k += 1


def _as_algebraic(coeffs: tuple[int, ...], iv: tuple[Fraction, Fraction]) -> Algebraic:
    """An `Algebraic` from an arb-derived interval, its root checked exactly by a sign change."""
    if len(coeffs) == 2:
        return Algebraic(coeffs, iv)
    lo, hi = iv
    if not (_sign_at(coeffs, lo) * _sign_at(coeffs, hi) < 0):
        raise ArithmeticError("root isolation failed: no sign change on the interval")
    return Algebraic(coeffs, (lo, hi))


def sqrt_of_largest_root(poly: Sequence[int]) -> Algebraic:
    """``sqrt`` of the largest root of an integer polynomial (ascending coefficients) whose
    roots are all real and nonnegative (a characteristic polynomial of ``MᵀM``).

    >>> sqrt_of_largest_root((4, -5, 1)).value     # roots 1 and 4
    Fraction(2, 1)
    """
    p = fmpz_poly(list(poly))
    coeffs, iv = _largest_real_root_factor(p)
    lam = _as_algebraic(coeffs, iv)
    if lam.is_rational and lam.value == 0:
        return Algebraic.rational(0)
    squared = fmpz_poly([c if i % 2 == 0 else 0 for i, c in enumerate(_interleave(coeffs))])
    s_coeffs, s_iv = _largest_real_root_factor(squared)
    return _as_algebraic(s_coeffs, s_iv)


def _interleave(coeffs: Sequence[int]) -> list[int]:
    """Coefficients of p(x²) from those of p(x)."""
    out = [0] * (2 * len(coeffs) - 1)
    for i, c in enumerate(coeffs):
        out[2 * i] = c
    return out


def as_algebraic(x: Fraction | Algebraic) -> Algebraic:
    """Rationals and algebraic numbers in one type, for exact comparison."""
    return x if isinstance(x, Algebraic) else Algebraic.rational(x)


def maximum(values: Sequence[Fraction | Algebraic]) -> tuple[int, Fraction | Algebraic]:
    """(index, value) of the largest, compared exactly (first one on ties).

    >>> maximum([Fraction(1), sqrt_of_largest_root((-2, 1)), Fraction(7, 5)])[0]
    1
    """
    best = 0
    for i in range(1, len(values)):
        if as_algebraic(values[i]).compare(as_algebraic(values[best])) > 0:
            best = i
    return best, values[best]


def lower_rational(x: Fraction | Algebraic) -> Fraction:
    """A rational ``<= x`` (x itself when rational)."""
    return x if isinstance(x, Fraction) else (x.value if x.is_rational else x.interval[0])


def enclosure(x: Fraction | Algebraic, width: Fraction = Fraction(1, 2**40)) -> tuple[Fraction, Fraction]:
    """Rational ``(lo, hi)`` with ``lo <= x <= hi`` and ``hi - lo <= width``.

    >>> enclosure(Fraction(3, 2))
    (Fraction(3, 2), Fraction(3, 2))
    """
    if isinstance(x, Fraction):
        return x, x
    return x.refine(width).interval
