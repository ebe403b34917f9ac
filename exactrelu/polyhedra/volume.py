"""Exact volumes of polytopes ``{x : A x <= b}`` (Lasserre's recursion, all rational).

Lasserre: ``vol_n(P) = (1/n) Σ_i (b_i / ||a_i||) vol_{n-1}(F_i)``, where ``F_i`` is the
face on row i. Projecting ``F_i`` onto the coordinates without ``x_k`` (``a_ik != 0``)
scales its volume by ``|a_ik| / ||a_i||``, so
``vol_n(P) = (1/n) Σ_i (b_i / |a_ik|) vol_{n-1}(π_k F_i)``: no square roots, exact. Rows
are merged when they define the same half-space (duplicates would count twice); rows
that define no facet contribute faces of lower dimension, whose volume the recursion
finds to be 0. The cost grows like m^(n-1) for m rows: meant for small n.

>>> polytope_volume([[1, 0], [0, 1], [-1, -1]], [1, 1, 0])     # triangle (1,1),(-1,1),(1,-1)
Fraction(2, 1)
>>> polytope_volume([[1], [-1], [1]], [3, -1, 5])
Fraction(2, 1)
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Sequence

from flint import fmpq

from ..core.errors import LimitReached
from ..core.numbers import to_fmpq, to_fraction


def polytope_volume(A: Sequence[Sequence[Fraction]], b: Sequence[Fraction], *, deadline: float | None = None) -> Fraction:
    """The exact n-dimensional volume of the bounded polyhedron ``{A x <= b}`` (0 when it
    is empty or lower-dimensional). The caller guarantees boundedness. ``deadline`` (a
    `time.perf_counter` value): past it, `LimitReached` is raised (checked at every face
    of the recursion)."""
    rows = [[to_fmpq(v) for v in row] for row in A]
    rhs = [to_fmpq(v) for v in b]
    return to_fraction(_volume(rows, rhs, deadline))


def simplex_volume(vertices: Sequence[Sequence[Fraction]]) -> Fraction:
    """The volume of the simplex with n+1 vertices in R^n: ``|det| / n!``.

    >>> simplex_volume([[0, 0], [1, 0], [0, 1]])
    Fraction(1, 2)
    """
    from math import factorial

    from flint import fmpq_mat

    n = len(vertices) - 1
    v0 = [to_fmpq(x) for x in vertices[0]]
    m = fmpq_mat(n, n, [to_fmpq(vertices[i + 1][k]) - v0[k] for i in range(n) for k in range(n)])
    return abs(to_fraction(m.det())) / factorial(n)


def _volume(A: list[list[fmpq]], b: list[fmpq], deadline: float | None) -> fmpq:
    if deadline is not None and time.perf_counter() > deadline:
        raise LimitReached("time limit reached while computing a volume")
    n = len(A[0]) if A else 0
    rows: dict[tuple[fmpq, ...], tuple[list[fmpq], fmpq]] = {}
    for a, beta in zip(A, b):
        k = next((t for t, v in enumerate(a) if v != 0), None)
        if k is None:
            if beta < 0:
                return fmpq(0)
            continue
        s = abs(a[k])
        key = tuple(v / s for v in a) + (beta / s,)
        rows.setdefault(key, (a, beta))
    items = list(rows.values())
    if n == 1:
        lo, hi = None, None
        for a, beta in items:
            t = beta / a[0]
            if a[0] > 0:
                hi = t if hi is None or t < hi else hi
            else:
                lo = t if lo is None or t > lo else lo
        if lo is None or hi is None:
            raise ValueError("unbounded polyhedron")
        return hi - lo if hi > lo else fmpq(0)
    total = fmpq(0)
    for i, (a, beta) in enumerate(items):
        if beta == 0:
            continue
        k = next(t for t, v in enumerate(a) if v != 0)
        # x_k = (beta - sum_{t != k} a_t x_t) / a_k on the face
        sub_A, sub_b = [], []
        for j, (c, gamma) in enumerate(items):
            if j == i:
                continue
            f = c[k] / a[k]
            sub_A.append([c[t] - f * a[t] for t in range(n) if t != k])
            sub_b.append(gamma - f * beta)
        if not sub_A:
            raise ValueError("unbounded polyhedron")
        face = _volume(sub_A, sub_b, deadline)
        if face != 0:
            total += beta / abs(a[k]) * face
    return total / n
