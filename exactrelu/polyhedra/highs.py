"""HiGHS, silenced, as a float LP proposer (`FloatLP`): it only proposes; exact
arithmetic checks every answer.

highspy prints a banner on standard output when a solver is made, before any option can
turn output off; `quiet_highs` makes one with the process's standard output pointed
elsewhere for that moment, so that nothing but a command's own output (a ``--json``
document) reaches stdout.

>>> import numpy as np
>>> lp = FloatLP()
>>> lp.load(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), [1.0, 1.0, 0.0])
True
>>> x, ray, tight = lp.maximize(2)          # max -x - y over x <= 1, y <= 1: unbounded
>>> x is None and ray is not None
True
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np


def quiet_highs() -> Any:
    """A ``highspy.Highs`` with its output off, made without its banner on stdout (the
    banner is written by C code to file descriptor 1, so Python's ``sys.stdout`` cannot
    catch it: the descriptor is pointed at the null device while the solver is made)."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
        finally:
            os.close(null)
        highs = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    highs.setOptionValue("output_flag", False)
    return highs


class FloatLP:
    """HiGHS on the rows of one region at a time (`load`), in floats, warm-started from
    one objective to the next: proposes the maximum of ``a_g x`` over the rows other
    than g (an optimal point and the n rows tight there). It only proposes; exact
    arithmetic checks. One per enumeration (HiGHS starts on the first `load`; should
    ``highspy``, a dependency, fail to import, there is none and exact LPs do its work)."""

    def __init__(self) -> None:
        self.highs: Any = None

    def load(self, Af: np.ndarray, bf: list[float]) -> bool:
        """Make ``{x : Af x <= bf}`` the polyhedron of the next `maximize` calls;
        False when highspy is not installed."""
        if self.highs is False:
            return False
        try:
            import highspy
        except ImportError:
            self.highs = False
            return False
        if self.highs is None:
            self.highs = quiet_highs()
            self.highs.setOptionValue("presolve", "off")
            self.inf = highspy.kHighsInf
            self.upper = highspy.HighsBasisStatus.kUpper
            self.optimal = highspy.HighsModelStatus.kOptimal
            self.unbounded = highspy.HighsModelStatus.kUnbounded
        m, n = Af.shape
        self.b = bf
        self.cols = np.arange(n, dtype=np.int32)
        self.Af = Af
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, m
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = np.full(n, -self.inf)
        lp.col_upper_ = np.full(n, self.inf)
        lp.row_lower_ = np.full(m, -self.inf)
        lp.row_upper_ = np.array(bf)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.arange(0, m * n + 1, n, dtype=np.int32)
        lp.a_matrix_.index_ = np.tile(self.cols, m)
        lp.a_matrix_.value_ = Af.ravel()
        lp.sense_ = highspy.ObjSense.kMaximize
        self.highs.passModel(lp)
        return True

    def maximize(self, g: int) -> tuple[np.ndarray | None, np.ndarray | None, list[int] | None] | None:
        """``max a_g x`` over the other rows, in floats: ``(x, None, tight)`` with an
        optimal x and the rows tight there when they are exactly n (else None), or
        ``(None, ray, None)`` when the maximum is unbounded; None when HiGHS finds
        neither."""
        h = self.highs
        h.changeRowBounds(g, -self.inf, self.inf)
        h.changeColsCost(len(self.cols), self.cols, self.Af[g])
        h.run()
        status = h.getModelStatus()
        found = None
        if status == self.optimal:
            x = np.array(h.getSolution().col_value)
            tight = [j for j, st in enumerate(h.getBasis().row_status) if st == self.upper]
            found = (x, None, tight if len(tight) == len(self.cols) else None)
        elif status == self.unbounded:
            _, has_ray, ray = h.getPrimalRay()
            if has_ray:
                found = (None, np.array(ray), None)
        h.changeRowBounds(g, -self.inf, self.b[g])
        if found is None or not np.all(np.isfinite(found[0] if found[0] is not None else found[1])):
            return None
        return found
