"""The seeds' networks, built exactly.

>>> seed003_identity().evaluate(["-1/3"])
(Fraction(-1, 3),)
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from .core.errors import InputError
from .core.network import Network, activation, affine


def seed000_minimal(alpha: Any, beta: Any, gamma: Any) -> Network:
    """Seed 000 §3.1: ``f_θ(x) = α·max(βx + γ, 0)``, θ = (α, β, γ).

    >>> seed000_minimal(2, 1, -1).evaluate([3])
    (Fraction(4, 1),)
    """
    return Network.from_layers(
        1,
        [affine([[beta]], [gamma]), activation("relu"), affine([[alpha]])],
        name="seed000-minimal",
        source="seed 000, §3.1 'A minimal counter-example'",
    )


def seed003_identity() -> Network:
    """``relu(x) − relu(−x)``: equals x, yet ``DΦ_c(0) = 2c`` (seed 003)."""
    return Network.from_layers(
        1,
        [affine([[1], [-1]]), activation("relu"), affine([[1, -1]])],
        name="seed003-identity",
        source="seed 003, 'Behaviour of the Derivative on Nullsets'",
    )


def seed003_relu() -> Network:
    """``relu(relu(x) − relu(−x))``: equals relu(x), yet ``DΦ_c(0) = 2c²``."""
    return Network.from_layers(
        1,
        [affine([[1], [-1]]), activation("relu"), affine([[1, -1]]), activation("relu"), affine([[1]])],
        name="seed003-relu",
        source="seed 003, 'Behaviour of the Derivative on Nullsets'",
    )


def seed003_zero() -> Network:
    """``relu(relu(2x) − relu(x)) − relu(x)``: equals 0, yet ``DΦ_c(0) = c² − c``.

    >>> from exactrelu.calculus import derivative
    >>> derivative(seed003_zero(), [0], "c").matrix
    ((c**2 - c,),)
    """
    return Network.from_layers(
        1,
        [
            affine([[2], [1]]),
            activation("relu"),
            affine([[1, -1], [0, 1]]),
            # neuron 0 is relu; neuron 1 passes relu(x) on unchanged (a spline with no knot)
            activation("spline", knots=[[0], []], slopes=[[0, 1], [1]], value=[0, 0]),
            affine([[1, -1]]),
        ],
        name="seed003-zero",
        source="seed 003, 'Behaviour of the Derivative on Nullsets'",
    )


def hat() -> Network:
    """The hat ``g(x) = 2 relu(x) − 4 relu(x − 1/2) + 2 relu(x − 1)``: 2x on [0, 1/2],
    2(1 − x) on [1/2, 1], 0 outside (seed 004, 'Approximation of x²').

    >>> [hat().evaluate([t])[0] for t in ("-1", "1/4", "1/2", "3/4", "2")]
    [Fraction(0, 1), Fraction(1, 2), Fraction(1, 1), Fraction(1, 2), Fraction(0, 1)]
    """
    return hat_power(1)


def _hat_layer(row: list[Any]) -> list[Any]:
    """The affine map to the three hat neurons ``y, y − 1/2, y − 1`` of ``y = row·input``,
    followed by a ReLU."""
    return [affine([row, row, row], [0, Fraction(-1, 2), -1]), activation("relu")]


def hat_power(r: int) -> Network:
    """``g_r = g ∘ … ∘ g`` (r times) as a depth-r ReLU network of width 3.

    >>> hat_power(2).evaluate(["1/4"]), hat_power(3).evaluate(["1/16"])
    ((Fraction(1, 1),), (Fraction(1, 2),))
    """
    if r < 1:
        raise InputError(f"expected r >= 1, got {r}", path="r")
    layers: list[Any] = _hat_layer([1])
    for _ in range(r - 1):
        layers += _hat_layer([2, -4, 2])
    layers.append(affine([[2, -4, 2]]))
    return Network.from_layers(1, layers, name=f"hat-power-{r}", source="seed 004, 'Approximation of x²': g_r")


def yarotsky_value(ell: int, x: Fraction) -> Fraction:
    """``f_ℓ(x) = x − Σ_{r=1}^{ℓ} g_r(x)/4^r`` evaluated directly (no network).

    >>> yarotsky_value(2, Fraction(1, 4)), yarotsky_value(1, Fraction(-2))
    (Fraction(1, 16), Fraction(-2, 1))
    """
    x = Fraction(x)
    total, y = x, x
    for r in range(1, ell + 1):
        y = 2 * y if 0 <= y <= Fraction(1, 2) else 2 * (1 - y) if Fraction(1, 2) < y <= 1 else Fraction(0)
        total -= y / 4**r
    return total


def sawtooth_network(ell: int) -> Network:
    """Yarotsky's ``f_ℓ`` on ``[0, ∞)`` as one hidden layer of ``2^ℓ + 1`` ReLUs with knots
    ``k/2^ℓ``: ``Σ_k c_k relu(x − k/2^ℓ)``, ``c_0 = 2^-ℓ``, ``c_k = 2^{1-ℓ}``, ``c_last = 2^-ℓ − 1``.
    It equals ``f_ℓ`` for ``x >= 0`` (slope 1 beyond 1) and is 0 for ``x < 0``. For ℓ = 1 it
    is the SPEC's ``sawtooth-1`` case.

    >>> net = sawtooth_network(2)
    >>> all(net.evaluate([t])[0] == yarotsky_value(2, t) for t in map(Fraction, ("0", "1/8", "3/4", "1", "5/2")))
    True
    """
    n = 2**ell
    h = Fraction(1, n)
    coeffs = [h] + [2 * h] * (n - 1) + [h - 1]
    return Network.from_layers(
        1,
        [affine([[1]] * (n + 1), [-k * h for k in range(n + 1)]), activation("relu"), affine([coeffs])],
        name=f"sawtooth-{ell}",
        source="seed 004, 'Approximation of x²' and table 'Results and optimality of K4': f_ℓ, shallow form",
    )


def yarotsky_deep(ell: int) -> Network:
    """``f_ℓ`` on ``[0, ∞)`` as a depth-ℓ ReLU network of width 4 (Yarotsky's form): hidden
    layer r holds the three hat neurons of ``g_{r-1}`` and an accumulator ``relu(f_{r-1})``
    (``f_0 = x``; every ``f_r >= 0`` on [0, ∞), so the ReLU passes it unchanged).

    >>> net = yarotsky_deep(3)
    >>> all(net.evaluate([t])[0] == yarotsky_value(3, t) for t in map(Fraction, ("0", "1/8", "5/16", "1", "3")))
    True
    """
    if ell < 1:
        raise InputError(f"expected l >= 1, got {ell}", path="ell")
    layers: list[Any] = [affine([[1], [1], [1], [1]], [0, Fraction(-1, 2), -1, 0]), activation("relu")]
    for r in range(1, ell):
        g = [2, -4, 2]
        acc = [-Fraction(2, 4**r), Fraction(4, 4**r), -Fraction(2, 4**r), 1]
        layers += [affine([g + [0], g + [0], g + [0], acc], [0, Fraction(-1, 2), -1, 0]), activation("relu")]
    layers.append(affine([[-Fraction(2, 4**ell), Fraction(4, 4**ell), -Fraction(2, 4**ell), 1]]))
    return Network.from_layers(
        1, layers, name=f"yarotsky-deep-{ell}", source="seed 004 / seed 003: f_ℓ, deep form (width 4, depth ℓ)"
    )


def sawtooth_width3(ell: int) -> Network:
    """``f_ℓ`` as seed 004's sawtooth table computes its bounds: one hidden layer of width 3 per
    factor g. With ``y_r = g_r(x)`` (``y_0 = x``) and the partial sum ``s_r = x − Σ_(k≤r) y_k/4^k``,
    layer r + 1 holds ``relu(2y_r − 1)``, ``relu(1 − 2y_r)`` and ``relu(s_r)``; since
    ``g(y) = 1 − relu(2y − 1) − relu(1 − 2y)``, the next layer reads ``y_(r+1) = 1 − a − b`` and
    ``s_(r+1) = c − y_(r+1)/4^(r+1)`` off those three, and the output is ``s_ℓ``. Weights:
    ``W_0 = (2, −2, 1)ᵀ``, ``b_0 = (−1, 1, 0)``; between, rows ``(−2, −2, 0)``, ``(2, 2, 0)``,
    ``(q, q, 1)`` with biases ``1, −1, −q``, ``q = 4^-r``; last ``(q, q, 1)``, ``−q``, ``q = 4^-ℓ``.
    It equals ``f_ℓ`` on [0, 1] (there every ``s_r >= 0``).

    >>> net = sawtooth_width3(3)
    >>> all(net.evaluate([t])[0] == yarotsky_value(3, t) for t in map(Fraction, ("0", "1/8", "5/16", "2/3", "1")))
    True
    """
    if ell < 1:
        raise InputError(f"expected l >= 1, got {ell}", path="ell")
    layers: list[Any] = [affine([[2], [-2], [1]], [-1, 1, 0]), activation("relu")]
    for r in range(1, ell):
        q = Fraction(1, 4**r)
        layers += [affine([[-2, -2, 0], [2, 2, 0], [q, q, 1]], [1, -1, -q]), activation("relu")]
    q = Fraction(1, 4**ell)
    layers.append(affine([[q, q, 1]], [-q]))
    return Network.from_layers(
        1, layers, name=f"sawtooth-width3-{ell}",
        source="seed 004, table 'Results and optimality of K4': f_ℓ with one width-3 hidden layer per factor g",
    )


def product_network(ell: int) -> Network:
    """An approximation of ``xy`` on ``[-1, 1]²`` from squares:
    ``xy = 2(s(|x+y|/2) − s(|x|/2) − s(|y|/2))`` with ``s = f_ℓ`` (`sawtooth_network`), each
    ``|t|`` as ``relu(t) + relu(−t)``. Exact at the dyadic grid where f_ℓ is exact.

    >>> product_network(3).evaluate(["1/2", "-1/2"])
    (Fraction(-1, 4),)
    """
    sq = sawtooth_network(ell).chain
    w_in = [row[0] for row in sq.affines[0].weight]
    b_in = list(sq.affines[0].bias)
    w_out = list(sq.affines[1].weight[0])
    k = len(w_in)
    half = Fraction(1, 2)
    # |x+y|/2, |x|/2, |y|/2 from relu(±(x+y)), relu(±x), relu(±y)
    first = affine([[1, 1], [-1, -1], [1, 0], [-1, 0], [0, 1], [0, -1]])
    halves = affine([[half, half, 0, 0, 0, 0], [0, 0, half, half, 0, 0], [0, 0, 0, 0, half, half]])
    rows, bias = [], []
    for c in range(3):
        for j in range(k):
            row = [0, 0, 0]
            row[c] = w_in[j]
            rows.append(row)
            bias.append(b_in[j])
    signs = [2, -2, -2]
    out = [signs[c] * w_out[j] for c in range(3) for j in range(k)]
    return Network.from_layers(
        2,
        [first, activation("relu"), halves, affine(rows, bias), activation("relu"), affine([out])],
        name=f"product-{ell}",
        source="seed 004, 'A test for T(x, y) = xy' (Yarotsky's product from squares)",
    )


def random_network(widths: list[int], seed: int, bias: bool = False) -> Network:
    """Seed 004's random nets: entries i.i.d. N(0, 1) drawn by ``numpy.random.default_rng(seed)``
    (layer by layer, each matrix row-major), read exactly from their float64 values; ReLU
    between layers; zero biases unless ``bias``.

    >>> net = random_network([8, 10, 6, 3], seed=0)
    >>> net.chain.widths, net.output_dim
    ((10, 6), 3)
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    layers: list[Any] = []
    for i in range(len(widths) - 1):
        w = rng.standard_normal((widths[i + 1], widths[i]))
        b = rng.standard_normal(widths[i + 1]) if bias else None
        layers.append(affine(w, b))
        if i < len(widths) - 2:
            layers.append(activation("relu"))
    return Network.from_layers(
        widths[0], layers, name=f"random-{'-'.join(map(str, widths))}-seed{seed}",
        source="seed 004, 'Matrices with random weights (from C.P.)'",
    )


def circle_network(width: int, knots: int, seed: int) -> Network:
    """Seed 002's ``(2, 2W, 1)`` network with one linear-spline activation per hidden neuron,
    ``σ(x) = Σ_k a_k relu(x − τ_k) + b1 x + b2`` (eq. 18) with ``knots`` knots, all
    parameters small rationals drawn by ``numpy.random.default_rng(seed)``. The paper's
    final sigmoid is not PL and is left out (the output is the last affine layer).

    >>> net = circle_network(2, 3, seed=1)
    >>> net.chain.widths, len(net.chain.acts[0][0].knots) <= 3
    ((4,), True)
    """
    import numpy as np

    rng = np.random.default_rng(seed)

    def small(size: Any, den: int = 4) -> Any:
        return [[Fraction(int(v), den) for v in row] for row in rng.integers(-2 * den, 2 * den + 1, size=size)]

    hidden = 2 * width
    w1 = small((hidden, 2))
    b1 = [v[0] for v in small((hidden, 1))]
    fns = []
    for _ in range(hidden):
        tau = sorted({Fraction(int(v), 4) for v in rng.integers(-8, 9, size=knots)})
        a = [Fraction(int(v), 4) for v in rng.integers(-4, 5, size=len(tau))]
        lin = Fraction(int(rng.integers(-4, 5)), 4)
        const = Fraction(int(rng.integers(-4, 5)), 4)
        fns.append((tau, a, lin, const))
    from .core.activations import spline_from_relus

    splines = [spline_from_relus(a, tau, lin, const) for tau, a, lin, const in fns]
    act = activation(
        "spline",
        knots=[list(s.knots) for s in splines],
        slopes=[list(s.slopes) for s in splines],
        value=[s.value for s in splines],
    )
    w2 = small((1, hidden))
    return Network.from_layers(
        2,
        [affine(w1, b1), act, affine(w2)],
        name=f"circle-2-{hidden}-1-seed{seed}",
        source="seed 002, 'Experimental Setup': (2, 2W, 1) with spline activations",
    )


def linear_pieces_1d(net: Network, lo: Any, hi: Any) -> list[tuple[Fraction, Fraction, Fraction, Fraction]]:
    """The affine pieces of a one-input, one-output network on ``[lo, hi]``, exactly:
    ``(u, v, a, b)`` with ``f(x) = a x + b`` on ``[u, v]``, from left to right.

    A sweep: on the piece starting at u, every pre-activation is affine (read off at two
    points inside it), so the next breakpoint is the nearest crossing of a knot by one of
    them, found exactly.

    >>> linear_pieces_1d(sawtooth_network(1), 0, 1)
    [(Fraction(0, 1), Fraction(1, 2), Fraction(1, 2), Fraction(0, 1)), (Fraction(1, 2), Fraction(1, 1), Fraction(3, 2), Fraction(-1, 2))]
    """
    from .core.numbers import parse_number

    lo, hi = parse_number(lo, "lo"), parse_number(hi, "hi")
    if net.input_dim != 1 or net.output_dim != 1:
        raise InputError("expected a network from R to R", path="network")
    chain = net.chain
    pieces = []
    u = lo
    while u < hi:
        v = hi
        while True:
            p1, p2 = u + (v - u) / 3, u + 2 * (v - u) / 3
            (pre1, out1), (pre2, out2) = net.forward([p1]), net.forward([p2])
            if not _same_piece(chain, pre1, pre2):
                v = p2
                continue
            # on the region holding [p1, p2] every pre-activation is the line through its
            # two values; the region ends at the nearest knot crossings on either side
            left, right = u, hi
            for l, fns in enumerate(chain.acts):
                for j, fn in enumerate(fns):
                    z1, z2 = pre1[l][j], pre2[l][j]
                    if z1 == z2:
                        continue
                    slope = (z2 - z1) / (p2 - p1)
                    for t in fn.knots:
                        x = p1 + (t - z1) / slope
                        if x <= p1 and x > left:
                            left = x
                        if x >= p2 and x < right:
                            right = x
            if left == u:
                break
            v = left
        a = (out2[0] - out1[0]) / (p2 - p1)
        pieces.append((u, right, a, out1[0] - a * p1))
        u = right
    return pieces


def _same_piece(chain: Any, pre1: Any, pre2: Any) -> bool:
    """Whether every neuron sits on one piece throughout [p1, p2] (layer by layer, each
    pre-activation is affine there, so equal strict pieces at both ends suffice; a neuron
    equal at both ends is constant and splits nothing)."""
    for l, fns in enumerate(chain.acts):
        for j, fn in enumerate(fns):
            z1, z2 = pre1[l][j], pre2[l][j]
            if z1 == z2:
                continue
            s1, s2 = fn.state(z1), fn.state(z2)
            if s1 != s2 or s1 % 2:
                return False
    return True


def w1inf_distance_to_square(net: Network, lo: Any = 0, hi: Any = 1) -> tuple[Fraction, Fraction]:
    """Seed 003's ``W^{1,∞}((lo, hi))`` distance between ``x²`` and a network ``R -> R``:
    ``(‖x² − f‖_∞, ‖2x − f'‖_∞)``, exactly (f' is defined almost everywhere).

    On a piece ``f = a x + b`` over ``[u, v]``: ``|x² − a x − b|`` is largest at u, v or the
    vertex ``a/2`` when inside; ``|2x − a|`` at u or v.

    >>> w1inf_distance_to_square(sawtooth_network(2))
    (Fraction(1, 64), Fraction(1, 4))
    """
    value, deriv = Fraction(0), Fraction(0)
    for u, v, a, b in linear_pieces_1d(net, lo, hi):
        points = [u, v] + ([a / 2] if u < a / 2 < v else [])
        value = max([value] + [abs(x * x - a * x - b) for x in points])
        deriv = max(deriv, abs(2 * u - a), abs(2 * v - a))
    return value, deriv
