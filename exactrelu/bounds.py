"""Upper bounds on the Lipschitz constant: seed 004's K family and seed 002's C, C_E.

For a network ``f = W_ℓ σ W_{ℓ-1} … σ W_0`` (affine layers ``W_0 … W_ℓ``, ℓ hidden
layers; biases play no part) and an operator norm:

- ``K_star = Π ‖W_r‖``;
- ``K = max ‖W_ℓ D_ℓ … D_1 W_0‖`` over all 0/1 diagonal ``D_r`` (feasible or not), by
  branch and bound; exact, or a certified interval beyond ``max_nodes``;
- ``K1`` (Combettes–Pesquet) ``= 2^-ℓ Σ_S Π ‖segment‖`` over the subsets S of hidden
  layers, the product of the norms of the segments ``W_{(t,s)} = W_{t-1} … W_s`` between
  consecutive layers of S, by a dynamic program over the last layer chosen (O(ℓ²)
  segment norms);
- ``K2`` (Virmaux–Scaman), ℓ2 only: ``"seqlip"`` is SeqLip's product over hidden layers of
  ``max_σ ‖Σ̃_{i+1} V_{i+1}ᵀ diag(σ) U_i Σ̃_i‖`` with ``W_i = U_i Σ_i V_iᵀ`` (``Σ̃ = Σ`` for the
  first and last layer, ``Σ^{1/2}`` otherwise), certified in floats (`exactrelu.floats.seqlip`);
  ``"max_sigma"`` is the paper's ``max_{σ∈[0,1]} ‖W_ℓ diag(σ_ℓ) … W_0‖``, which
  equals ``K`` in ℓ2 (a convex function's maximum over a box is at a vertex); ℓ∞ only:
  ``"seqlip_inf"``, SeqLip's split with each factor measured in ℓ∞ (seed 004's printed K2,
  `exactrelu.floats.seqlip.seqlip_inf_upper`);
- ``K3 = ‖ |W_ℓ| … |W_0| ‖`` (one pass of the all-ones vector through the absolute weights
  for ℓ∞, backwards for ℓ1; valid for ℓ2 too, the spectral norm being monotone on
  nonnegative matrices);
- ``K4 = 2^-ℓ Σ_S ‖ |W_seg| … |W_seg| ‖`` (seed 004's definition: the norm of each term,
  then the sum; it does not factor along the chain, so the 2^ℓ terms are visited by a
  depth-first search that shares prefixes, one matrix-vector product per term);
- ``C`` (seed 002, Theorem 1) ``= Π ‖W_l‖_{q,∞} Π ‖σ_l‖_{BV2,p}`` and ``C_E``
  (Proposition 3) ``= Π ‖W_l‖_F Π ‖σ_l‖_{BV2,1}``; the last affine layer counts with the
  identity activation (``‖id‖_BV2 = 1``).

When they bound L: ``K_star`` and ``K3`` need every activation slope in [-1, 1]; ``K``,
``K1``, ``K2``, ``K4`` need every slope in [0, 1] (each ``D`` is then a convex combination of
0/1 diagonals); ``C`` and ``C_E`` hold for every PL activation. Where the proof does not
apply, the functions raise `InputError` and `bounds` lists the bound under ``undefined``.

>>> from exactrelu.constructions import sawtooth_network
>>> b = bounds(sawtooth_network(1), "1")
>>> [str(b.values[k].value) for k in ("K_star", "K", "K1", "K3", "K4")]
['3', '3/2', '2', '2', '3/2']
"""

from __future__ import annotations

import itertools
import math
import time
from fractions import Fraction
from typing import Any, Sequence

import numpy as np
from flint import fmpq_mat

from .core.algebraic import Algebraic, enclosure, sqrt_of_largest_root
from .core.domain import Domain
from .core.errors import InputError
from .core.network import Network
from .core.norms import abs_matrix, below_in_l2, norm_2, operator_norm, parse_norm
from .core.numbers import to_fraction
from .core.results import CERTIFIED, EXACT, Bounds, Quantity

K2_DEFINITIONS = ("seqlip", "max_sigma", "seqlip_inf")
WIDTH = Fraction(1, 2**40)  # width of the certified intervals of ℓ2 sums and products


# -- helpers --------------------------------------------------------------------------------


def weights(net: Network) -> list[fmpq_mat]:
    """``W_0 … W_ℓ`` of the network's chain, exactly."""
    return [a.W for a in net.chain.affines]


def _slopes(net: Network) -> list[Fraction]:
    return [s for fns in net.chain.acts for fn in fns for s in fn.slopes]


def require_slopes(net: Network, name: str, low: int) -> None:
    """Raise `InputError` unless every activation slope lies in ``[low, 1]``."""
    bad = [s for s in _slopes(net) if not low <= s <= 1]
    if bad:
        raise InputError(
            f"{name} bounds L only when every activation slope lies in [{low}, 1]; "
            f"this network has slope {bad[0]}",
            path="--bound",
        )


def _quantity(x: Fraction | Algebraic) -> Quantity:
    """An exact number as a `Quantity` (irrational: text and a certified interval)."""
    if isinstance(x, Fraction):
        return Quantity(x, EXACT)
    if x.is_rational:
        return Quantity(x.value, EXACT)
    a = x.refine(WIDTH)
    return Quantity(float(a), EXACT, interval=a.interval, algebraic=a.text(), number=a)


def _interval_quantity(lo: Fraction, hi: Fraction) -> Quantity:
    """A certified upper bound with an enclosure ``[lo, hi]`` of the exact value, both ends
    rounded outwards to 16 significant decimal digits.

    >>> _interval_quantity(Fraction(1, 3), Fraction(1, 3)).value
    Fraction(1, 3)
    >>> q = _interval_quantity(Fraction(1, 3), Fraction(1, 3) + Fraction(1, 10**30))
    >>> q.value * 10**16, q.interval[0] * 10**16
    (Fraction(3333333333333334, 1), Fraction(3333333333333333, 1))
    """
    if lo == hi:
        return Quantity(hi, EXACT)
    lo, hi = _round_decimal(lo, math.floor), _round_decimal(hi, math.ceil)
    return Quantity(hi, CERTIFIED, upper=True, interval=(lo, hi))


def _round_decimal(q: Fraction, direction: Any, digits: int = 16) -> Fraction:
    """``q`` rounded (``math.floor`` or ``math.ceil``) to ``digits`` significant decimal digits."""
    if q == 0:
        return q
    exponent = digits - 1 - math.floor(math.log10(abs(q)))
    scale = Fraction(10) ** exponent
    return Fraction(direction(q * scale)) / scale


def _norm(m: fmpq_mat, norm: str) -> Fraction | Algebraic:
    return operator_norm(m, norm)


def _abs_norm_1_inf(mats: Sequence[fmpq_mat], norm: str) -> Fraction:
    """``‖ |M_k| … |M_1| ‖`` for ℓ1/ℓ∞ by one pass of a ones vector (mats in the order applied)."""
    if norm == "inf":
        v = fmpq_mat(mats[0].ncols(), 1, [1] * mats[0].ncols())
        for m in mats:
            v = abs_matrix(m) * v
        return max(to_fraction(v[i, 0]) for i in range(v.nrows()))
    u = fmpq_mat(1, mats[-1].nrows(), [1] * mats[-1].nrows())
    for m in reversed(mats):
        u = u * abs_matrix(m)
    return max(to_fraction(u[0, j]) for j in range(u.ncols()))


def segments(ws: Sequence[fmpq_mat]) -> dict[tuple[int, int], fmpq_mat]:
    """``W_{(t,s)} = W_{t-1} … W_s`` for ``0 <= s < t <= len(ws)``."""
    out = {}
    for s in range(len(ws)):
        m = ws[s]
        out[(s + 1, s)] = m
        for t in range(s + 2, len(ws) + 1):
            m = ws[t - 1] * m
            out[(t, s)] = m
    return out


# -- the bounds -----------------------------------------------------------------------------


def k_star(net: Network, norm: str) -> Quantity:
    """``Π ‖W_r‖``: exact for ℓ1/ℓ∞, a certified upper bound for ℓ2.

    >>> from exactrelu.constructions import sawtooth_network
    >>> k_star(sawtooth_network(1), "inf").value
    Fraction(2, 1)
    """
    norm = parse_norm(norm)
    require_slopes(net, "K_star", -1)
    norms = [_norm(w, norm) for w in weights(net)]
    return _product(norms)


def _product(factors: Sequence[Fraction | Algebraic]) -> Quantity:
    lo, hi = Fraction(1), Fraction(1)
    for f in factors:
        a, b = enclosure(f, WIDTH)
        lo, hi = lo * a, hi * b
    return _interval_quantity(lo, hi)


def k3(net: Network, norm: str) -> Quantity:
    """``‖ |W_ℓ| … |W_0| ‖``; ℓ2 exact as an algebraic number.

    >>> from exactrelu.constructions import sawtooth_network
    >>> k3(sawtooth_network(2), "inf").value      # 1/4 + 3·1/2 + 3/4
    Fraction(5, 2)
    """
    norm = parse_norm(norm)
    require_slopes(net, "K3", -1)
    ws = weights(net)
    if norm != "2":
        return Quantity(_abs_norm_1_inf(ws, norm), EXACT)
    p = abs_matrix(ws[0])
    for w in ws[1:]:
        p = abs_matrix(w) * p
    return _quantity(norm_2(p))


def k1(net: Network, norm: str) -> Quantity:
    """Combettes–Pesquet's ``K1`` by a dynamic program over the last hidden layer chosen.

    >>> from exactrelu.constructions import sawtooth_network
    >>> k1(sawtooth_network(1), "1").value
    Fraction(2, 1)
    """
    norm = parse_norm(norm)
    require_slopes(net, "K1", 0)
    ws = weights(net)
    ell = len(ws) - 1
    seg = segments(ws)
    enc = {key: enclosure(_norm(m, norm), WIDTH) for key, m in seg.items()}

    def dynamic_program(end: int) -> Fraction:  # end 0: the lower ends of the norms, 1: the upper
        f = [Fraction(1)] + [Fraction(0)] * (ell + 1)
        for j in range(1, ell + 2):
            f[j] = sum((f[i] * enc[(j, i)][end] for i in range(j)), Fraction(0))
        return f[ell + 1] / 2**ell

    return _interval_quantity(dynamic_program(0), dynamic_program(1))


def k4(net: Network, norm: str, max_terms: int = 1 << 20) -> Quantity:
    """Seed 004's ``K4``: the 2^ℓ terms by a depth-first search sharing prefixes.

    >>> from exactrelu.constructions import sawtooth_network
    >>> k4(sawtooth_network(2), "1").value
    Fraction(7, 4)
    """
    norm = parse_norm(norm)
    require_slopes(net, "K4", 0)
    ws = weights(net)
    ell = len(ws) - 1
    if 2**ell > max_terms:
        raise InputError(f"K4 has 2^{ell} terms, more than max_terms={max_terms}", path="--max-terms")
    seg = {key: abs_matrix(m) for key, m in segments(ws).items()}
    if norm == "1":  # ‖P‖_1 = ‖Pᵀ‖_∞: run on the transposed chain
        seg = {(ell + 1 - s, ell + 1 - t): m.transpose() for (t, s), m in seg.items()}
    lo_total, hi_total = Fraction(0), Fraction(0)
    n = ws[0].ncols() if norm != "1" else ws[-1].nrows()
    start = fmpq_mat(n, 1, [1] * n) if norm != "2" else _identity(ws[0].ncols())
    stack = [(0, start)]
    while stack:
        r, v = stack.pop()
        end = seg[(ell + 1, r)] * v
        if norm == "2":
            lo, hi = enclosure(norm_2(end), WIDTH)
        else:
            lo = hi = max(to_fraction(end[i, 0]) for i in range(end.nrows()))
        lo_total += lo
        hi_total += hi
        for r2 in range(r + 1, ell + 1):
            stack.append((r2, seg[(r2, r)] * v))
    return _interval_quantity(lo_total / 2**ell, hi_total / 2**ell)


def _identity(n: int) -> fmpq_mat:
    return fmpq_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])


def k_patterns(net: Network, norm: str, max_nodes: int = 200_000,
               time_limit: float | None = None) -> tuple[Quantity, dict[str, Any]]:
    """``K``: the largest norm over all 0/1 diagonal patterns, by branch and bound.

    ℓ1/ℓ∞: a search over the patterns of hidden layers ℓ … 2 (rows of the partial product
    from the output side), pruning a subtree when its K3-style bound (the row's absolute
    values times the all-ones pass through the remaining absolute weights) cannot beat the
    best found; layer 1 is closed in one step (for a row a and input sign vector s, the best
    D_1 gives ``Σ_j relu(a_j (W_0 s)_j)``). ℓ2: every pattern's norm proposed in floats, the
    largest computed exactly and every other pattern proved below it exactly. Beyond
    ``max_nodes`` (or ``time_limit`` seconds): a certified interval [best found, largest open
    bound] (ℓ2: `InputError`, K undefined).

    >>> from exactrelu.constructions import sawtooth_network
    >>> k_patterns(sawtooth_network(2), "inf")[0].value
    Fraction(7, 4)
    """
    norm = parse_norm(norm)
    ws = weights(net)
    deadline = None if time_limit is None else time.monotonic() + time_limit
    if norm == "2":
        return _k_l2(ws, max_nodes, deadline)
    if norm == "1":
        ws = [w.transpose() for w in reversed(ws)]
    mats = [_int_array(w) for w in ws]
    scale = Fraction(1)
    for w in ws:
        scale /= _denominator(w)
    lo, hi, nodes = k_inf_arrays(mats, max_nodes, deadline)
    return _interval_quantity(Fraction(lo) * scale, Fraction(hi) * scale), {"K_nodes": nodes}


def _denominator(m: fmpq_mat) -> int:
    d = 1
    for row in m.table():
        for v in row:
            d = math.lcm(d, int(v.q))
    return d


def _int_array(m: fmpq_mat) -> np.ndarray:
    """``d·M`` as an integer object array, d the common denominator of M."""
    d = _denominator(m)
    return np.array([[int(v.p) * (d // int(v.q)) for v in row] for row in m.table()], dtype=object).reshape(
        m.nrows(), m.ncols()
    )


BLOCK_WORK = 1 << 18  # entries of pattern × weight work per block: bounds one node's time and memory


def _bit_rows(start: int, stop: int, width: int, dtype: Any, values: tuple[int, int] = (0, 1)) -> np.ndarray:
    """Rows ``start … stop-1`` of ``itertools.product(values, repeat=width)``, without the others."""
    zero, one = values
    rows = [[one if (i >> (width - 1 - j)) & 1 else zero for j in range(width)] for i in range(start, stop)]
    return np.array(rows, dtype=dtype).reshape(stop - start, width)


def _block(width: int, other: int) -> int:
    """Patterns per block for a layer of ``width`` neurons meeting ``other`` columns."""
    return max(1, min(1 << min(width, 62), BLOCK_WORK // max(1, width * other)))


def k_inf_arrays(mats: Sequence[np.ndarray], max_nodes: int = 200_000,
                 deadline: float | None = None) -> tuple[Any, Any, int]:
    """The branch and bound of `k_patterns` for ℓ∞ on weight arrays ``W_0 … W_ℓ``: exact on
    integer object arrays, float on float arrays. Returns (best found, upper bound, nodes);
    they are equal unless ``max_nodes`` (or the ``deadline``, a `time.monotonic` time)
    stopped the search.

    The 2^width patterns of a layer are made a block at a time (`BLOCK_WORK`), never all at
    once: a block beyond the first counts as a node, so ``max_nodes`` bounds the time and the
    memory of the search on wide layers too.

    >>> import numpy as np
    >>> k_inf_arrays([np.array([[1], [1]], dtype=object), np.array([[1, -1]], dtype=object)])[:2]
    (1, 1)
    """
    ell = len(mats) - 1
    w0 = mats[0]
    if ell == 0:
        v = abs(w0).sum(axis=1).max()
        return v, v, 1
    # abs-forward vectors t[k]: |W_{k-1}| … |W_0| 1, for the bound of a row over layer k
    t = [None, abs(w0).sum(axis=1)]
    for k in range(1, ell):
        t.append(abs(mats[k]).dot(t[k]))
    n = w0.shape[1]
    w1 = w0.shape[0]
    close_by_signs = n <= w1
    dtype = object if w0.dtype == object else float
    zero = w0.dtype.type(0) if w0.dtype != object else 0
    close_count = 1 << n if close_by_signs else 1 << w1
    close_block = _block(n, w1) if close_by_signs else _block(w1, n)
    if close_count <= close_block:  # one block: made once
        first_close = _close_block(w0, 0, close_count, close_by_signs, dtype)

    def close_part(a: np.ndarray, start: int) -> Any:
        if close_count <= close_block:
            block = first_close
        else:
            block = _close_block(w0, start, min(close_count, start + close_block), close_by_signs, dtype)
        if close_by_signs:
            return np.maximum(a[:, None] * block, zero).sum(axis=0).max()
        return abs((block * a[None, :]).dot(w0)).sum(axis=1).max()

    best = zero
    open_bound = zero
    nodes = 0
    small_pats: dict[int, np.ndarray] = {}
    # stack entries (k, a, bound, start): a node when start is None, else the children of the
    # node (k, a) from pattern ``start`` on (k == 1: the closing patterns from ``start`` on)
    stack: list[tuple[int, np.ndarray, Any, int | None]] = []
    for i in range(mats[-1].shape[0]):
        a = mats[-1][i]
        stack.append((ell, a, abs(a).dot(t[ell]), None))
    while stack:
        k, a, bound, start = stack.pop()
        if bound <= best:
            continue
        nodes += 1
        if nodes > max_nodes or deadline is not None and time.monotonic() > deadline:
            open_bound = max([open_bound, bound] + [b for _, _, b, _ in stack])
            break
        begin = 0 if start is None else start
        if k == 1:
            if begin + close_block < close_count:
                stack.append((k, a, bound, begin + close_block))
            best = max(best, close_part(a, begin))
            continue
        width = mats[k - 1].shape[0]
        count = 1 << width
        step = _block(width, mats[k - 1].shape[1])
        end = min(count, begin + step)
        if end < count:
            stack.append((k, a, bound, end))
        if count <= step:
            if k not in small_pats:
                small_pats[k] = _bit_rows(0, count, width, w0.dtype)
            pats = small_pats[k]
        else:
            pats = _bit_rows(begin, end, width, w0.dtype)
        children = (pats * a[None, :]).dot(mats[k - 1])  # rows over layer k-1
        cb = abs(children).dot(t[k - 1])
        order = _ascending(cb)
        for idx in order:
            if cb[idx] > best:
                stack.append((k - 1, children[idx], cb[idx], None))
    return best, max(best, open_bound), nodes


def _ascending(values: np.ndarray) -> Any:
    """Indices of ``values`` in ascending order: by their floats (the order the search always
    used), exactly when an exact integer is beyond binary64's range (a weight of 4.9e-324
    scales the integers of its layer by 2^1074)."""
    try:
        return np.argsort(np.array([float(v) for v in values]))
    except OverflowError:
        return sorted(range(len(values)), key=values.__getitem__)


def _close_block(w0: np.ndarray, start: int, stop: int, by_signs: bool, dtype: Any) -> np.ndarray:
    """Closing layer 1: sign vectors (as columns of ``W_0 s``) or 0/1 patterns, rows start … stop-1."""
    if by_signs:
        return w0.dot(_bit_rows(start, stop, w0.shape[1], dtype, (1, -1)).T)  # w1 × block
    return _bit_rows(start, stop, w0.shape[0], w0.dtype)


def _past(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise InputError("K in ℓ2 stopped at the time limit (raise it with --time-limit)", path="--time-limit")


def _k_l2(ws: Sequence[fmpq_mat], max_nodes: int, deadline: float | None = None) -> tuple[Quantity, dict[str, Any]]:
    widths = [w.nrows() for w in ws[:-1]]
    total = 2 ** sum(widths)
    if total > max_nodes:
        raise InputError(
            f"K in ℓ2 enumerates 2^{sum(widths)} patterns, more than max_nodes={max_nodes}", path="--max-nodes"
        )
    floats = [np.array([[float(v) for v in row] for row in w.table()]).reshape(w.nrows(), w.ncols()) for w in ws]
    pats = list(itertools.product((0, 1), repeat=sum(widths)))
    vals = []
    for p in pats:
        _past(deadline)
        m = floats[0]
        pos = 0
        for k, w in enumerate(floats[1:]):
            d = np.array(p[pos:pos + widths[k]], dtype=float)
            pos += widths[k]
            m = w @ (d[:, None] * m)
        vals.append(np.linalg.norm(m, 2))
    order = np.argsort(vals)[::-1]
    best = norm_2(_pattern_product(ws, pats[order[0]]))
    for idx in order[1:]:  # each other pattern proved below the best exactly, or compared exactly
        _past(deadline)
        j = _pattern_product(ws, pats[idx])
        if below_in_l2(j, best.value if best.is_rational else best.interval[0]):
            continue
        cand = norm_2(j)
        if cand.compare(best) > 0:
            best = cand
    return _quantity(best), {"K_nodes": total}


def _pattern_product(ws: Sequence[fmpq_mat], pattern: Sequence[int]) -> fmpq_mat:
    m = ws[0]
    pos = 0
    for w in ws[1:]:
        width = m.nrows()
        d = pattern[pos:pos + width]
        pos += width
        m = w * fmpq_mat(width, width, [d[i] if i == j else 0 for i in range(width) for j in range(width)]) * m
    return m


def k2(net: Network, definition: str = "seqlip") -> Quantity:
    """Virmaux–Scaman's bound on the ℓ2 Lipschitz constant.

    ``"seqlip"``: SeqLip's product, a certified upper bound (`exactrelu.floats.seqlip`: float SVD
    factors, every rounding error bounded); ``"max_sigma"``:
    ``max_{σ∈[0,1]} ‖W_ℓ diag(σ_ℓ) … W_0‖_2``, equal to ``K`` in ℓ2 (exact);
    ``"seqlip_inf"``: the same split as ``"seqlip"`` with each factor's norm in ℓ∞, a
    certified upper bound on the ℓ∞ Lipschitz constant (seed 004's K2 column).

    >>> from exactrelu.constructions import sawtooth_network
    >>> q = k2(sawtooth_network(1))
    >>> q.guarantee, 1.5 <= float(q.value) <= 1.5 * (1 + 1e-9)
    ('certified', True)
    """
    require_slopes(net, "K2", 0)
    if definition == "max_sigma":
        return k_patterns(net, "2")[0]
    if definition == "seqlip_inf":
        from .floats.seqlip import (
            seqlip_inf_upper,  # the facade's hand-over to the float floor
        )

        return Quantity(seqlip_inf_upper(weights(net)), CERTIFIED, upper=True)
    if definition != "seqlip":
        raise InputError(f"expected a K2 definition among {', '.join(K2_DEFINITIONS)}, got {definition!r}", path="--k2")
    from .floats.arithmetic import (  # the facade's hand-over to the float floor
        NUMPY,
        Chain,
    )
    from .floats.operators import exact_weights, from_network
    from .floats.seqlip import seqlip_upper

    chain = Chain(from_network(net), NUMPY, exact_weights(net), norm="2")
    return Quantity(seqlip_upper([NUMPY.to_numpy(m) for m in chain.mats], chain.rads), CERTIFIED, upper=True)


def c_theorem1(net: Network, norm: str) -> Quantity:
    """Seed 002's Theorem 1: ``C = Π ‖W_l‖_{q,∞} Π ‖σ_l‖_{BV2,p}`` (1/p + 1/q = 1).

    >>> from exactrelu.constructions import sawtooth_network
    >>> c_theorem1(sawtooth_network(1), "inf").value   # ‖W_0‖_{1,∞}=1, ‖W_1‖_{1,∞}=2, ‖relu‖=2, ‖id‖=1
    Fraction(4, 1)
    """
    norm = parse_norm(norm)
    chain = net.chain
    bv = [[fn.bv2_norm() for fn in fns] for fns in chain.acts] + [[Fraction(1)] * net.output_dim]
    if norm == "2":
        sq = Fraction(1)
        for a, b in zip(chain.affines, bv):
            sq *= max(sum((v * v for v in row), Fraction(0)) for row in a.weight)
            sq *= sum((x * x for x in b), Fraction(0))
        return _quantity(_sqrt(sq))
    value = Fraction(1)
    for a, b in zip(chain.affines, bv):
        if norm == "1":  # q = ∞: the largest entry; p = 1: the sum over neurons
            value *= max(abs(v) for row in a.weight for v in row) * sum(b, Fraction(0))
        else:  # p = ∞, q = 1: the largest row sum; the largest BV2 norm
            value *= max(sum((abs(v) for v in row), Fraction(0)) for row in a.weight) * max(b)
    return Quantity(value, EXACT)


def c_e(net: Network) -> Quantity:
    """Seed 002's Proposition 3 (ℓ2): ``C_E = Π ‖W_l‖_F Π ‖σ_l‖_{BV2,1}``, exactly.

    >>> from exactrelu.constructions import sawtooth_network
    >>> c_e(sawtooth_network(1)).algebraic.startswith("the root of")
    True
    """
    chain = net.chain
    sq = Fraction(1)
    for a in chain.affines:
        sq *= sum((v * v for row in a.weight for v in row), Fraction(0))
    for fns in chain.acts:
        s = sum((fn.bv2_norm() for fn in fns), Fraction(0))
        sq *= s * s
    sq *= net.output_dim**2
    return _quantity(_sqrt(sq))


def _sqrt(q: Fraction) -> Fraction | Algebraic:
    if q == 0:
        return Fraction(0)
    return sqrt_of_largest_root((-q.numerator, q.denominator))


def bounds(
    net: Network,
    norm: str,
    *,
    backend: str = "exact",
    device: str | None = None,
    max_nodes: int = 200_000,
    k2_definition: str = "seqlip",
    domain: Domain | None = None,
    time_limit: float | None = None,
    **float_options: Any,
) -> Bounds:
    """Every bound that applies, for ``norm`` in ``{"1", "2", "inf"}``.

    ``backend="exact"`` computes here; ``"numpy"`` / ``"torch"`` hand over to
    `exactrelu.floats.bounds.bounds` (``backend=``, ``device``, ``domain`` and
    ``**float_options``) (``mode``, ``precision``, ``samples``, ...).
    The K bounds hold on every domain; ``domain`` only bounds where the float paths
    search for a lower bound on L. ``max_nodes`` and ``time_limit`` (seconds) bound K's
    search, the one exponential bound: beyond them K is a certified bracket, its top at most
    K4 in ℓ1 and ℓ∞ (K ≤ K4, seed 004; ``diagnostics["K_upper"]`` says when K4 capped it).

    >>> from exactrelu.constructions import sawtooth_network
    >>> b = bounds(sawtooth_network(1), "inf")
    >>> b.values["K3"].value, sorted(b.undefined)
    (Fraction(2, 1), ['K2'])
    """
    norm = parse_norm(norm)
    if backend != "exact":
        return _delegate(net, norm, backend, device, domain, float_options)
    if float_options:
        raise InputError("an option of the numpy and torch backends only (this is --backend exact)",
                         path="--" + sorted(float_options)[0])
    start = time.perf_counter()
    values: dict[str, Quantity] = {}
    undefined: dict[str, str] = {}
    diagnostics: dict[str, Any] = {}

    def attempt(name: str, fn: Any) -> None:
        try:
            out = fn()
        except InputError as e:
            undefined[name] = e.message
            return
        if isinstance(out, tuple):
            values[name], extra = out
            diagnostics.update(extra)
        else:
            values[name] = out

    attempt("K_star", lambda: k_star(net, norm))
    attempt("K", lambda: (require_slopes(net, "K", 0), k_patterns(net, norm, max_nodes, time_limit))[1])
    attempt("K1", lambda: k1(net, norm))
    k2_norm = "inf" if k2_definition == "seqlip_inf" else "2"
    if norm == k2_norm:
        attempt("K2", lambda: k2(net, k2_definition))
    elif k2_norm == "inf":
        undefined["K2"] = "the seqlip_inf definition of K2 bounds the ℓ∞ norm only"
    else:
        undefined["K2"] = "Virmaux–Scaman's bound is defined for the ℓ2 norm only"
    attempt("K3", lambda: k3(net, norm))
    attempt("K4", lambda: k4(net, norm))
    attempt("C", lambda: c_theorem1(net, norm))
    if norm == "2":
        attempt("C_E", lambda: c_e(net))
    k, k4_ = values.get("K"), values.get("K4")
    if norm != "2" and k is not None and k.interval and k4_ is not None and k4_.value < k.interval[1]:
        values["K"] = _interval_quantity(Fraction(k.interval[0]), k4_.value)  # K ≤ K4 (seed 004): the bracket's top
        diagnostics["K_upper"] = "K4"
    diagnostics["time_s"] = round(time.perf_counter() - start, 6)
    return Bounds(norm, values, undefined, diagnostics)


def _delegate(net: Network, norm: str, backend: str, device: str | None, domain: Domain | None,
              options: dict[str, Any]) -> Bounds:
    from .floats.bounds import bounds as float_bounds

    return float_bounds(net, norm, device, backend=backend, domain=domain, **options)
