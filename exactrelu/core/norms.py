"""Exact operator norms of rational matrices: ℓ1, ℓ∞ (rational) and ℓ2 (algebraic).

``‖M‖_1`` is the largest column sum of absolute values, ``‖M‖_∞`` the largest row sum;
both are rational. ``‖M‖_2`` is ``sqrt(λ_max(MᵀM))``, an algebraic number: it is given
by its minimal polynomial over the integers and an interval with rational ends holding
exactly one real root of it, which `Algebraic.refine` narrows as far as asked. Two such
numbers compare exactly (`Algebraic.compare`), so a maximum of ℓ2 norms is exact too.

>>> from exactrelu.core.numbers import fmpq_matrix
>>> m = fmpq_matrix([[1, 1], [0, 1]])
>>> operator_norm(m, "1"), operator_norm(m, "inf")
(Fraction(2, 1), Fraction(2, 1))
>>> s = operator_norm(m, "2")            # the golden ratio
>>> s.poly, s.is_rational
((-1, -1, 1), False)
>>> lo, hi = s.refine(Fraction(1, 10**6)).interval
>>> float(lo) <= (1 + 5 ** 0.5) / 2 <= float(hi)
True
>>> operator_norm(fmpq_matrix([[3, 0], [0, 4]]), "2").value
Fraction(4, 1)
"""

from __future__ import annotations

import math
from fractions import Fraction

from flint import fmpq, fmpq_mat

from .algebraic import Algebraic, sqrt_of_largest_root
from .errors import InputError
from .numbers import to_fraction

NORMS = ("1", "2", "inf")


def parse_norm(text: object, path: str = "--norm") -> str:
    """The norm's canonical name: ``"1"``, ``"2"`` or ``"inf"``.

    >>> parse_norm(2), parse_norm("infinity"), parse_norm("l1")
    ('2', 'inf', '1')
    """
    key = str(text).strip().lower().removeprefix("l").removeprefix("ℓ")
    key = {"infinity": "inf", "∞": "inf", "oo": "inf"}.get(key, key)
    if key not in NORMS:
        raise InputError(f"expected a norm among 1, 2, inf, got {text!r}", path=path)
    return key


def abs_matrix(m: fmpq_mat) -> fmpq_mat:
    """The entrywise absolute value ``|M|``."""
    return fmpq_mat(m.nrows(), m.ncols(), [abs(v) for row in m.table() for v in row])


def norm_1(m: fmpq_mat) -> Fraction:
    """``‖M‖_1``: the largest column sum of absolute values.

    >>> from exactrelu.core.numbers import fmpq_matrix
    >>> norm_1(fmpq_matrix([[1, -2], ["1/2", 3]]))
    Fraction(5, 1)
    """
    return norm_inf(m.transpose())


def norm_inf(m: fmpq_mat) -> Fraction:
    """``‖M‖_∞``: the largest row sum of absolute values.

    >>> from exactrelu.core.numbers import fmpq_matrix
    >>> norm_inf(fmpq_matrix([[1, -2], ["1/2", 3]]))
    Fraction(7, 2)
    """
    rows = m.table()
    if not rows or not rows[0]:
        return Fraction(0)
    return max(to_fraction(sum((abs(v) for v in r), fmpq(0))) for r in rows)


def gram(m: fmpq_mat) -> fmpq_mat:
    """``MᵀM`` or ``MMᵀ``, whichever is smaller (same nonzero spectrum)."""
    return m.transpose() * m if m.ncols() <= m.nrows() else m * m.transpose()


def norm_2(m: fmpq_mat) -> Algebraic:
    """``‖M‖_2 = sqrt(λ_max(MᵀM))`` exactly.

    >>> from exactrelu.core.numbers import fmpq_matrix
    >>> norm_2(fmpq_matrix([[1, 1]])).text()
    'the root of x**2 - 2 in [1, 2]'
    """
    g = gram(m)
    if all(v == 0 for row in g.table() for v in row):
        return Algebraic.rational(0)
    cp = g.charpoly()
    den = 1
    for c in cp.coeffs():
        den = den * int(c.q) // math.gcd(den, int(c.q))
    ints = [int((c * den).p) for c in cp.coeffs()]
    return sqrt_of_largest_root(ints)


def operator_norm(m: fmpq_mat, norm: str) -> Fraction | Algebraic:
    """The induced norm ``norm`` (``"1"``, ``"2"``, ``"inf"``) of a rational matrix, exactly."""
    norm = parse_norm(norm)
    if norm == "1":
        return norm_1(m)
    if norm == "inf":
        return norm_inf(m)
    return norm_2(m)


def below_in_l2(m: fmpq_mat, bound: Fraction) -> bool:
    """Whether ``‖M‖_2 < bound``, decided exactly: ``bound²·I − MᵀM`` positive definite
    (all pivots of its exact LDLᵀ positive). No eigenvalue is computed.

    >>> from exactrelu.core.numbers import fmpq_matrix
    >>> m = fmpq_matrix([[1, 1]])                 # norm sqrt(2)
    >>> below_in_l2(m, Fraction(3, 2)), below_in_l2(m, Fraction(7, 5))
    (True, False)
    """
    if bound <= 0:
        return False
    g = gram(m)
    n = g.nrows()
    b2 = fmpq(bound.numerator**2, bound.denominator**2)
    a = [[(b2 if i == j else fmpq(0)) - g[i, j] for j in range(n)] for i in range(n)]
    for k in range(n):
        pivot = a[k][k]
        if pivot <= 0:
            return False
        for i in range(k + 1, n):
            if a[i][k] == 0:
                continue
            f = a[i][k] / pivot
            for j in range(k + 1, n):
                a[i][j] -= f * a[k][j]
    return True
