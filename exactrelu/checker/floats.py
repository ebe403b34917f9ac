"""The checker's floating-point filter for ReLU networks: the canonical bounds of
`exactrelu.checker.property` and the signs of its layered bounds, decided exactly from
float64 evaluations that carry an error radius.

Written for the checker alone (it shares no code with the engine). Each row of the
backward pass is a float vector ν with a radius ρ (``|ν_exact − ν| <= ρ`` elementwise)
and a float constant with its radius. The rule's discrete steps are taken from the
floats only when the radius cannot change them: the multiplier ``round(s ν)`` (nearest
multiple of ``2^-lambda_bits``, ties up) when the interval ``s (ν ± ρ)`` stays in one
rounding cell and, where s depends on the sign of ν, on one side of 0; the outward
rounding of a bound to ``2^-grid_bits`` when the bound's interval stays in one cell.
Otherwise the element is decided from its exact value (one `Fraction` dot product), or
the row (a bound) is left to the caller's exact code. Multipliers, once decided, are
exact floats, so the radius of ``ν = λ W`` is that of one matrix product:
``|fl(λ W) − λ W| <= γ_n |λ| |W|`` (any summation order; Higham, §3.1), bounded here by
``(n + 8) 2^-52 |λ| |W|``, plus ``|λ| |W − fl(W)|`` where a weight is not a float.

>>> from fractions import Fraction
>>> f = ReluFilter([[[Fraction(1)], [Fraction(-1)]], [[Fraction(1), Fraction(1)]]],
...                [[Fraction(0), Fraction(0)], [Fraction(0)]], 16, 16, 24)
>>> box = [(Fraction(-1, 3), Fraction(5, 3))]
>>> layers = f.bounds(box, {})
>>> [(lo * 2**16).tolist() for lo, _ in layers], [(hi * 2**16).tolist() for _, hi in layers]   # outward to 2^-16
([[-21846.0, -109227.0]], [[109227.0, 21846.0]])
>>> f.sign(layers, box, [Fraction(-1)], [Fraction(0)], Fraction(3), None)   # 3 - |x| > 0 on the box
1
>>> f.bounds([(Fraction(-1), Fraction(2))], {})     # -1 is a grid point: the floats cannot tell floor(-1 ± ε)
Traceback (most recent call last):
...
exactrelu.checker.floats.Undecided: layer 0, row 0
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

import numpy as np

_E = 2.0**-52
_FLOOR = 2.0**-1000  # underflow, per operation


class Undecided(Exception):
    """The floats cannot settle this bound: the caller's exact code must."""


def _radius(n: int) -> float:
    return (n + 8) * _E


def _to_float(values: Sequence[Fraction]) -> tuple[np.ndarray, np.ndarray]:
    f = np.array([float(v) for v in values], dtype=float)
    r = np.array([0.0 if Fraction(x) == v else _E * abs(x) for x, v in zip(f, values)], dtype=float)
    return f, r


def _floor_cells(x: np.ndarray, r: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """floor(x·scale) and whether it holds for every value within r of x."""
    c = np.floor(x * scale)
    slack = (r * scale) * (1 + 8 * _E) + np.abs(x * scale) * _E + np.where(r > 0, _FLOOR, 0.0)
    ok = (np.floor(x * scale - slack) == c) & (np.floor(x * scale + slack) == c) & (np.abs(x * scale) < 2.0**51)
    return c, ok


class ReluFilter:
    """The floats of one ReLU network: ``weights[l]`` (rows) and ``biases[l]`` per affine layer."""

    def __init__(self, weights: Sequence[Sequence[Sequence[Fraction]]], biases: Sequence[Sequence[Fraction]],
                 grid_bits: int, slope_bits: int, lambda_bits: int) -> None:
        self.Wq = [[list(row) for row in W] for W in weights]
        self.W, self.rW, self.b, self.rb = [], [], [], []
        for W, b in zip(weights, biases):
            cols = len(W[0]) if W else 0
            f, r = _to_float([v for row in W for v in row])
            self.W.append(f.reshape(len(W), cols))
            self.rW.append(r.reshape(len(W), cols))
            bf, br = _to_float(list(b))
            self.b.append(bf)
            self.rb.append(br)
        self.bq = [list(b) for b in biases]
        self.grid = float(2**grid_bits)
        self.sbits = slope_bits
        self.lam = float(2**lambda_bits)
        self.lbits = lambda_bits
        self._memo: dict[tuple[bytes, bytes], tuple[np.ndarray, np.ndarray, dict[int, Fraction]]] = {}

    # -- one row set, backwards -------------------------------------------------------------

    def _backward(self, top: int, nu: np.ndarray, rnu: np.ndarray, d: np.ndarray, rd: np.ndarray,
                  exact_nu, layers, lambdas: Sequence[np.ndarray] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """From ν on the outputs of hidden layer top-1 down to the inputs; returns ν, its
        radius, d, its radius, and which rows stayed decided."""
        good = np.ones(len(d), dtype=bool)
        for l in range(top - 1, -1, -1):
            lo, hi = layers[l]
            w = len(lo)
            on = lo >= 0
            off = (hi <= 0) & ~on
            mid = ~on & ~off
            if lambdas is None:
                lam, good = self._multipliers(nu, rnu, lo, hi, on, mid, exact_nu, good)
            else:
                lam = np.broadcast_to(lambdas[l], nu.shape)
            big = np.maximum(np.abs(lo), np.abs(hi))
            gap = nu - lam
            term = np.where(mid, np.minimum(np.minimum(-lam * lo, 0.0), gap * hi),
                            np.where(on, np.minimum(gap * lo, gap * hi), np.minimum(-lam * lo, -lam * hi)))
            rterm = (rnu + 4 * _E * (np.abs(nu) + np.abs(lam))) * big + _FLOOR
            tsum = term.sum(axis=1)
            bias = lam @ self.b[l]
            rd = rd + (rterm.sum(axis=1) + _radius(w) * (np.abs(term).sum(axis=1) + np.abs(lam) @ np.abs(self.b[l]))
                       + np.abs(lam) @ self.rb[l] + 2 * _E * (np.abs(d) + np.abs(tsum) + np.abs(bias))) * (1 + _radius(w)) + _FLOOR
            d = d + tsum + bias
            W = self.W[l]
            nu = lam @ W
            rnu = (_radius(W.shape[0]) * (np.abs(lam) @ np.abs(W)) + np.abs(lam) @ self.rW[l]) * (1 + _radius(W.shape[0])) + _FLOOR
            if lambdas is None:
                exact_nu = self._exact_nu_of(l, lam)
        return nu, rnu, d, rd, good

    def _exact_nu_of(self, l: int, lam: np.ndarray):
        Wq = self.Wq[l]

        def exact(r: int, i: int) -> Fraction:
            return sum((Fraction(float(v)) * Wq[j][i] for j, v in enumerate(lam[r]) if v), Fraction(0))

        return exact

    def _slopes(self, lo: np.ndarray, hi: np.ndarray, on: np.ndarray, mid: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[int, Fraction]]:
        """s⁺ and s⁻ per neuron (the chord hi / (hi − lo) to the nearest 2^-slope_bits, ties up), once per layer."""
        key = (lo.tobytes(), hi.tobytes())
        if key in self._memo:
            return self._memo[key]
        up = np.where(on | (mid & (hi > -lo)), 1.0, 0.0)
        down = np.where(on, 1.0, 0.0)
        chords: dict[int, Fraction] = {}
        for i in np.nonzero(mid)[0]:
            a, b = Fraction(float(lo[i])), Fraction(float(hi[i]))
            q = b / (b - a) * (1 << self.sbits) + Fraction(1, 2)
            chords[int(i)] = Fraction(q.numerator // q.denominator, 1 << self.sbits)
            down[i] = float(chords[int(i)])
        self._memo = {key: (up, down, chords)} if len(self._memo) > 64 else {**self._memo, key: (up, down, chords)}
        return up, down, chords

    def _multipliers(self, nu, rnu, lo, hi, on, mid, exact_nu, good):
        """The rule's λ (as floats, exactly) for every element; undecidable rows marked."""
        up, down, chords = self._slopes(lo, hi, on, mid)
        cells = []
        for s in (up, down):
            x = nu * s * self.lam
            slack = rnu * s * self.lam * (1 + 8 * _E) + np.where((s != 0) & (s != 1), np.abs(x) * _E + _FLOOR, 0.0) + np.where(rnu > 0, _FLOOR, 0.0)
            c = np.floor(x + 0.5)
            fine = (np.floor(x + 0.5 - slack) == c) & (np.floor(x + 0.5 + slack) == c) & (np.abs(x) < 2.0**50)
            cells.append((c, fine))
        (c_up, f_up), (c_down, f_down) = cells
        margin = rnu * (1 + 8 * _E) + _FLOOR
        positive, negative = nu - margin > 0, nu + margin < 0
        same = up == down
        out = np.where(same | positive, c_up, np.where(negative, c_down, 0.0))
        # the sign unknown: both slopes must give 0 (the rule's value at ν = 0)
        settled = np.where(same | positive, f_up, np.where(negative, f_down, f_up & f_down & (c_up == 0) & (c_down == 0)))
        for r, i in zip(*np.nonzero(~settled & good[:, None])):
            v = exact_nu(int(r), int(i))
            if v == 0:
                out[r, i] = 0.0
                continue
            s = Fraction(int(up[i])) if v > 0 else chords.get(int(i), Fraction(int(down[i])))
            q = v * s * (1 << self.lbits) + Fraction(1, 2)
            k = q.numerator // q.denominator
            if abs(k) >= 2**52:
                good[r] = False
            out[r, i] = float(k)
        return out / self.lam, good

    def _box(self, nu, rnu, d, rd, box):
        lo, rlo = _to_float([a for a, _ in box])
        hi, rhi = _to_float([b for _, b in box])
        t = np.minimum(nu * lo, nu * hi)
        big = np.maximum(np.abs(lo), np.abs(hi))
        rt = (rnu + 4 * _E * np.abs(nu)) * big + np.abs(nu) * np.maximum(rlo, rhi) + _FLOOR
        s = t.sum(axis=1)
        n = len(lo)
        v = d + s
        rv = (rd + rt.sum(axis=1) + _radius(n) * np.abs(t).sum(axis=1) + 2 * _E * (np.abs(d) + np.abs(s))) * (1 + _radius(n)) + _FLOOR
        return v, rv

    # -- what the checker asks ----------------------------------------------------------------

    def bounds(self, box: Sequence[tuple[Fraction, Fraction]], restrict: dict, exact_row=None) -> list[tuple[np.ndarray, np.ndarray]] | None:
        """Every hidden layer's canonical (lo, hi), as floats holding the exact values; None
        for an empty node. A row the floats cannot settle goes to ``exact_row(layer, r,
        layers)`` (r < w: the lower bound of neuron r; else minus the upper bound of neuron
        r − w), or raises `Undecided` when none is given."""
        layers: list[tuple[np.ndarray, np.ndarray]] = []
        for l in range(len(self.W) - 1):
            W, rW, b, rb = self.W[l], self.rW[l], self.b[l], self.rb[l]
            w = W.shape[0]
            Wq = self.Wq[l]

            def exact0(r: int, i: int, Wq=Wq, w=w) -> Fraction:
                return Wq[r % w][i] if r < w else -Wq[r % w][i]

            nu, rnu, d, rd, good = self._backward(l, np.vstack([W, -W]), np.vstack([rW, rW]), np.concatenate([b, -b]), np.concatenate([rb, rb]),
                                                  exact0, layers, None)
            v, rv = self._box(nu, rnu, d, rd, box)
            cells, ok = _floor_cells(v, rv, self.grid)
            for r in np.nonzero(~(ok & good))[0]:
                if exact_row is None:
                    raise Undecided(f"layer {l}, row {r}")
                c = exact_row(l, int(r), layers)
                if abs(c) >= 2**52:
                    raise Undecided(f"layer {l}, row {r}: too large for a float")
                cells[r] = float(c)
            lo, hi = cells[:w] / self.grid, -cells[w:] / self.grid
            for (ll, i), (a, c) in restrict.items():
                if ll == l:
                    if a is not None and a > lo[i]:
                        lo[i] = float(a)
                    if c is not None and c < hi[i]:
                        hi[i] = float(c)
            if np.any(lo > hi):
                return None
            layers.append((lo, hi))
        return layers

    def sign(self, layers, box, cy: Sequence[Fraction], cx: Sequence[Fraction], const: Fraction,
             lambdas: Sequence[Sequence[Fraction]] | None) -> int | None:
        """The sign (1, 0, -1) of the layered bound of ``cy·y + cx·x + const``, or None when
        the floats cannot tell (``lambdas`` must be floats' exact values, else None too)."""
        L = len(self.W) - 1
        W, rW = self.W[L], self.rW[L]
        c, rc = _to_float(list(cy))
        nu = c @ W
        k = W.shape[0]
        rnu = (_radius(k) * (np.abs(c) @ np.abs(W)) + np.abs(c) @ rW + rc @ np.abs(W)) * (1 + _radius(k)) + _FLOOR
        c0, rc0 = _to_float([const])
        d = c0[0] + c @ self.b[L]
        rd = (rc0[0] + _radius(k) * (abs(c0[0]) + np.abs(c) @ np.abs(self.b[L])) + np.abs(c) @ self.rb[L] + rc @ np.abs(self.b[L])) * (1 + _radius(k)) + _FLOOR
        Wq = self.Wq[L]

        def exact0(r: int, i: int) -> Fraction:
            return sum((v * Wq[o][i] for o, v in enumerate(cy) if v), Fraction(0))

        lam = None
        if lambdas is not None:
            lam = [_to_float(list(row)) for row in lambdas]
            if any(r.any() for _, r in lam):
                return None
            lam = [f for f, _ in lam]
        nu, rnu, dd, rdd, good = self._backward(L, nu[None, :], rnu[None, :], np.array([d]), np.array([rd]), exact0, layers, lam)
        x, rx = _to_float(list(cx))
        nu = nu + x
        rnu = (rnu + rx + 2 * _E * np.abs(nu)) * (1 + 8 * _E)
        v, rv = self._box(nu, rnu, dd, rdd, box)
        if not good[0] or not np.isfinite(v[0]):
            return None
        if v[0] - rv[0] > 0:
            return 1
        if v[0] + rv[0] < 0:
            return -1
        if rv[0] == 0 and v[0] == 0:
            return 0
        return None
