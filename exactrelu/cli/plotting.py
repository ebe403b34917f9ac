"""Pictures of activation regions: 1-D graphs, 2-D region maps, and 2-D slices.

The regions, their Jacobians, the kinks (facets across which the affine map changes)
and the largest ``‖J‖`` are decided exactly (`exactrelu.regions.traversal`, `exactrelu.core.norms`);
only the drawing is in floats. A network with more than two inputs is drawn on a 2-D
slice through a point: the slice is itself a network, ``(s, t) ↦ f(p with x_i = s,
x_j = t)``, whose regions are the traces of the full network's regions on the plane;
regions are then coloured by the full network's ``‖J‖``.

Needs matplotlib (the optional extra ``plot``); the Agg backend is used, so no display
is needed.

>>> import tempfile, os
>>> from exactrelu.core.network import Network, affine, activation
>>> from exactrelu.core.domain import Domain
>>> net = Network.from_layers(2, [affine([[1, 0], [0, 1], [1, 1]], [0, 0, -1]),
...                               activation("relu"), affine([[1, -1, 1]])])
>>> with tempfile.TemporaryDirectory() as d:
...     s = plot_network(net, Domain.from_box([[-2, 2], [-2, 2]]), os.path.join(d, "r.png"))
...     size = os.path.getsize(os.path.join(d, "r.png"))
>>> s.regions, s.kinks > 0, size > 1000
(7, True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np

from ..core.domain import Domain
from ..core.errors import InputError, LimitReached
from ..core.network import AffineLayer, Network
from ..core.numbers import fmpq_matrix

Norm = str


@dataclass(frozen=True)
class PlotSummary:
    """What a picture shows. ``max_norm`` is the largest ``‖J‖`` over the drawn regions
    (exact: a Fraction, or an `exactrelu.core.norms.Algebraic` for ℓ2), attained at
    ``witness`` (input coordinates of the full network). For a 1-D or 2-D network drawn
    on its whole domain that is the Lipschitz constant; with a window, it is the one of the
    domain cut to the window; on a slice it is a lower bound for the full network's."""

    path: str
    kind: str
    regions: int
    kinks: int
    norm: str
    max_norm: Any
    witness: tuple[Fraction, ...]
    complete: bool
    window: tuple[tuple[float, float], ...]
    slice_point: tuple[Fraction, ...] | None = None
    axes: tuple[int, ...] = ()


def slice_network(
    net: Network, domain: Domain, point: Sequence[Fraction], axes: tuple[int, int] = (0, 1)
) -> tuple[Network, Domain]:
    """The 2-D slice ``(s, t) ↦ f(point with x_i = s, x_j = t)`` as a network, and its domain.

    >>> from exactrelu.core.network import affine, activation
    >>> net = Network.from_layers(3, [affine([[1, 1, 1]]), activation("relu")])
    >>> sub, dom = slice_network(net, Domain.whole(3), [0, 0, 5], (0, 1))
    >>> sub.evaluate([1, -7])
    (Fraction(0, 1),)
    """
    n = net.input_dim
    i, j = axes
    if not (0 <= i < n and 0 <= j < n and i != j):
        raise InputError(f"expected two different axes in 0..{n - 1}, got {i},{j}", path="--axes")
    if len(point) != n:
        raise InputError(f"expected a point of dimension {n}, got {len(point)}", path="--at")
    p = [Fraction(v) for v in point]
    zero, one = Fraction(0), Fraction(1)
    weight = tuple((one if k == i else zero, one if k == j else zero) for k in range(n))
    bias = tuple(zero if k in (i, j) else p[k] for k in range(n))
    sub = Network.from_layers(2, (AffineLayer(weight, bias),) + net.layers, net.name, net.source)
    if domain.is_whole:
        return sub, Domain.whole(2)
    if domain.box is not None:
        return sub, Domain.from_box([domain.box[i], domain.box[j]])
    rows = [(a[i], a[j]) for a in domain.A]
    rhs = [bk - sum(a[k] * p[k] for k in range(n) if k not in (i, j)) for a, bk in zip(domain.A, domain.b)]
    return sub, Domain(2, tuple(rows), tuple(rhs))


def restrict_to_window(domain: Domain, window: Sequence[Sequence[Any]]) -> Domain:
    """The domain cut down to the drawing window (a box, one ``(lo, hi)`` per input).

    >>> restrict_to_window(Domain.from_box([[0, 4], [0, 4]]), [[-1, 1], [2, 9]]).box
    ((Fraction(0, 1), Fraction(1, 1)), (Fraction(2, 1), Fraction(4, 1)))
    """
    win = [(Fraction(lo), Fraction(hi)) for lo, hi in window]
    if len(win) != domain.dim:
        raise InputError(f"expected a window of {domain.dim} ranges, got {len(win)}", path="--window")
    if domain.is_whole:
        return Domain.from_box(win, "--window")
    if domain.box is not None:
        box = [(max(a, c), min(b, d)) for (a, b), (c, d) in zip(domain.box, win)]
        if any(lo >= hi for lo, hi in box):
            raise InputError("the window does not meet the domain", path="--window")
        return Domain.from_box(box, "--window")
    w = Domain.from_box(win, "--window")
    return Domain(domain.dim, domain.A + w.A, domain.b + w.b)


def default_point(domain: Domain) -> tuple[Fraction, ...]:
    """The box's centre, an interior point of a polyhedral domain, or the origin."""
    if domain.box is not None:
        return tuple((lo + hi) / 2 for lo, hi in domain.box)
    if domain.is_whole:
        return tuple(Fraction(0) for _ in range(domain.dim))
    from ..polyhedra.lp import interior_point

    res = interior_point([list(r) for r in domain.A], list(domain.b), dim=domain.dim)
    if not res.nonempty:
        raise InputError("the domain has an empty interior", path="domain")
    return tuple(Fraction(v) for v in res.point)


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise InputError("pictures need matplotlib: pip install 'exactrelu[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _norm_value(jac: Sequence[Sequence[Fraction]], norm: Norm) -> Any:
    from ..core.norms import operator_norm

    return operator_norm(fmpq_matrix(jac), norm)


def _to_float(x: Any) -> float:
    if isinstance(x, Fraction):
        return float(x)
    if x.is_rational:
        return float(x.value)
    lo, hi = x.refine(Fraction(1, 2**60)).interval
    return float((lo + hi) / 2)


def _norm_label(norm: Norm) -> str:
    return {"1": "‖J‖₁", "2": "‖J‖₂", "inf": "‖J‖∞"}[norm]


def plot_network(
    net: Network,
    domain: Domain,
    path: str,
    *,
    color: str = "norm",
    norm: Norm = "2",
    at: Sequence[Any] | None = None,
    axes: tuple[int, int] = (0, 1),
    window: Sequence[Sequence[float]] | None = None,
    max_regions: int | None = 5000,
    time_limit: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    title: str | None = None,
) -> PlotSummary:
    """Draw the activation regions of ``net`` on ``domain`` to ``path`` (.png, .svg, .pdf).

    1 input: the graph of f over its regions (kinks as dots), shaded by ``‖J‖``.
    2 inputs: the region map, coloured by ``‖J‖`` (``color="norm"``) or one colour per
    region (``"pattern"``); kinks are thick black lines, region boundaries that are not
    kinks thin dashed grey lines. More inputs: the 2-D slice through ``at`` (default:
    the domain's centre) along ``axes``. A ``window`` (one ``(lo, hi)`` per drawn axis)
    cuts the domain down before enumerating. The region with the largest ``‖J‖`` is marked
    with a star at its witness point. A region limit stops enumeration: the partial
    picture is still written, and `LimitReached` carries its summary as ``partial``.
    """
    from ..core.norms import parse_norm
    from ..regions import enumerate_regions

    norm = parse_norm(norm)
    if color not in ("norm", "pattern"):
        raise InputError(f"expected 'norm' or 'pattern', got {color!r}", path="--color")
    plt = _matplotlib()
    n = net.input_dim
    kind = "1d" if n == 1 else "2d" if n == 2 else "slice"
    draw_net, draw_dom, point = net, domain, None
    if kind == "slice":
        point = tuple(Fraction(v) for v in at) if at is not None else default_point(domain)
        draw_net, draw_dom = slice_network(net, domain, point, axes)
    if window is not None:
        draw_dom = restrict_to_window(draw_dom, window)
    limit: LimitReached | None = None
    try:
        graph = enumerate_regions(draw_net, draw_dom, max_regions=max_regions, time_limit=time_limit, progress=progress)
    except LimitReached as e:
        if e.partial is None:
            raise
        graph, limit = e.partial, e
    regions = graph.regions
    if not regions:
        raise InputError("no region to draw")
    lift = (lambda w: _lift(w, point, axes)) if kind == "slice" else (lambda w: tuple(w))
    if kind == "slice":
        from ..calculus import derivative

        jacs = [derivative(net, lift(r.witness)).matrix for r in regions]
    else:
        jacs = [r.jacobian for r in regions]
    from ..core.algebraic import maximum

    norms = [_norm_value(j, norm) for j in jacs]
    best, best_value = maximum(norms)
    values = np.array([_to_float(v) for v in norms])
    kinks = graph.kinks
    fig, ax = plt.subplots(figsize=(6.4, 5.2) if n > 1 else (6.4, 4.2), dpi=120)
    if kind == "1d":
        win = _draw_1d(plt, ax, graph, values, norm, best, window)
    else:
        win = _draw_2d(plt, ax, graph, values, color, norm, best, window)
    if kind == "slice":
        names = [f"x{axes[0] + 1}", f"x{axes[1] + 1}"]
        fixed = ", ".join(f"x{k + 1}={float(v):.4g}" for k, v in enumerate(point) if k not in axes)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        sub = f"slice through {fixed}" if fixed else "slice"
    else:
        sub = ""
    head = title or net.name or "network"
    status = "" if graph.complete else " (INCOMPLETE: limit reached)"
    from ..core.report import real_text

    value = real_text(best_value)
    value = value if value.startswith("≈") else "= " + value
    where = " in the window" if window is not None else ""
    if kind == "slice" or window is not None:
        what = f"max {_norm_label(norm)}" + (" on the slice" if kind == "slice" else "") + where
    else:
        what = f"L in ℓ{'∞' if norm == 'inf' else norm}"
    ax.set_title(
        f"{head}: {len(regions)} regions{where}{status}\n{sub + ', ' if sub else ''}{what} {value} (★)",
        fontsize=10,
    )
    fig.tight_layout()
    import io

    from ..io.files import write_atomic

    buf = io.BytesIO()
    fig.savefig(buf, format=str(path).rsplit(".", 1)[-1].lower())
    plt.close(fig)
    write_atomic(path, buf.getvalue())
    summary = PlotSummary(
        str(path), kind, len(regions), len(kinks), norm, best_value, lift(regions[best].witness),
        graph.complete, win, point, tuple(axes) if kind == "slice" else (),
    )
    if limit is not None:
        raise LimitReached(str(limit), partial=summary)
    return summary


def _lift(w: Sequence[Fraction], point: Sequence[Fraction] | None, axes: tuple[int, int]) -> tuple[Fraction, ...]:
    assert point is not None
    out = list(point)
    out[axes[0]], out[axes[1]] = w[0], w[1]
    return tuple(out)


# -- 1-D -------------------------------------------------------------------------------


def _interval(r: Any) -> tuple[float, float]:
    lo, hi = -np.inf, np.inf
    for a, b in zip(r.A, r.b):
        if a[0] > 0:
            hi = min(hi, float(b / a[0]))
        elif a[0] < 0:
            lo = max(lo, float(b / a[0]))
    return lo, hi


def _draw_1d(plt: Any, ax: Any, graph: Any, values: np.ndarray, norm: Norm, best: int, window: Any) -> tuple:
    regions = graph.regions
    spans = [_interval(r) for r in regions]
    if window is not None:
        x0, x1 = float(window[0][0]), float(window[0][1])
    elif graph.domain.box is not None:
        lo, hi = (float(v) for v in graph.domain.box[0])
        x0, x1 = lo - 0.03 * (hi - lo), hi + 0.03 * (hi - lo)
    else:  # as small as it can be while showing the most regions (each 1/500 of the width)
        ends = [e for s in spans for e in s if np.isfinite(e)] + [float(r.witness[0]) for r in regions]
        centre = float(np.median(ends))

        def shown(h: float) -> int:
            return sum(1 for lo, hi in spans if min(hi, centre + h) - max(lo, centre - h) >= 0.004 * h)

        half = _visible_window((centre,), _halves([(e,) for e in ends], (centre,)), shown) * 1.25
        x0, x1 = centre - half, centre + half
    cmap = plt.get_cmap("viridis")
    vmin, vmax = float(values.min()), float(values.max())
    scale = (lambda v: 0.5) if vmax == vmin else (lambda v: (v - vmin) / (vmax - vmin))
    m = len(regions[0].offset)
    colors = plt.get_cmap("tab10")
    for r, (lo, hi), v in zip(regions, spans, values):
        a, b = max(lo, x0), min(hi, x1)
        if a >= b:
            continue
        ax.axvspan(a, b, color=cmap(scale(v)), alpha=0.3, lw=0)
        xs = np.array([a, b])
        for k in range(m):
            ys = float(r.jacobian[k][0]) * xs + float(r.offset[k])
            ax.plot(xs, ys, color=colors(k % 10), lw=1.8)
    for kink in graph.kinks:
        x = float(kink.point[0])
        r = regions[kink.regions[0]]
        for k in range(m):
            ax.plot([x], [float(r.jacobian[k][0]) * x + float(r.offset[k])], "o", color="black", ms=4, zorder=5)
        ax.axvline(x, color="black", lw=0.6, ls=":")
    w = regions[best].witness
    for k in range(m):
        y = float(regions[best].jacobian[k][0] * w[0] + regions[best].offset[k])
        ax.plot([float(w[0])], [y], marker="*", color="red", ms=14, mec="black", zorder=6)
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(vmin, vmax if vmax > vmin else vmin + 1))
    plt.colorbar(sm, ax=ax, label=_norm_label(norm))
    ax.set_xlim(x0, x1)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)" if m == 1 else "f(x) (one line per output)")
    return ((x0, x1),)


# -- 2-D -------------------------------------------------------------------------------

Polygon = list[tuple[float, float]]


def clip_polygon(poly: Polygon, labels: list[Any], a: Sequence[float], b: float, label: Any) -> tuple[Polygon, list[Any]]:
    """Clip a convex polygon (vertices, and a label per edge ``poly[k] -> poly[k+1]``) by
    ``a·x <= b``; the new edge along the line gets ``label``.

    >>> sq = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
    >>> p, l = clip_polygon(sq, ["s", "e", "n", "w"], (1.0, 0.0), 0.5, "cut")
    >>> p, l
    ([(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)], ['s', 'cut', 'n', 'w'])
    """
    out: Polygon = []
    out_labels: list[Any] = []
    k = len(poly)
    for idx in range(k):
        p, q = poly[idx], poly[(idx + 1) % k]
        fp = a[0] * p[0] + a[1] * p[1] - b
        fq = a[0] * q[0] + a[1] * q[1] - b
        cut = (p[0] + fp / (fp - fq) * (q[0] - p[0]), p[1] + fp / (fp - fq) * (q[1] - p[1])) if fp * fq < 0 else None
        if fp <= 0:
            out.append(p)
            if fq <= 0:
                out_labels.append(labels[idx])
            elif fp < 0:
                out_labels.append(labels[idx])
                out.append(cut)
                out_labels.append(label)
            else:  # p on the line, q outside: the edge from p runs along the line
                out_labels.append(label)
        elif fq < 0:
            out.append(cut)
            out_labels.append(labels[idx])
    return out, out_labels


def _region_polygon(r: Any, box: Sequence[Sequence[float]]) -> tuple[Polygon, list[Any]]:
    (x0, x1), (y0, y1) = box
    poly: Polygon = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    labels: list[Any] = ["window"] * 4
    for k, (a, b) in enumerate(zip(r.A, r.b)):
        poly, labels = clip_polygon(poly, labels, (float(a[0]), float(a[1])), float(b), k)
        if len(poly) < 3:
            return [], []
    return poly, labels


def _area(poly: Polygon) -> float:
    return abs(sum(p[0] * q[1] - q[0] * p[1] for p, q in zip(poly, poly[1:] + poly[:1]))) / 2


def _visible_window(centre: Sequence[float], halves: Sequence[float], shown: Callable[[float], int]) -> float:
    """The half-width among ``halves`` (ascending) that shows the most regions (``shown(h)``),
    the smallest of those: the regions, not the farthest vertex, decide the default window."""
    best_h, best_n = halves[-1], -1
    for h in halves:
        n = shown(h)
        if n > best_n:
            best_h, best_n = h, n
    return best_h


def _halves(points: Sequence[Sequence[float]], centre: Sequence[float]) -> list[float]:
    """Candidate half-widths: every distance (∞-norm) from the centre to a point, and a
    geometric ladder, from the median distance (the points' typical scale) to the farthest."""
    dists = sorted(max(abs(p[i] - centre[i]) for i in range(len(centre))) for p in points)
    positive = [d for d in dists if d > 0] or [0.5]
    lo = positive[len(positive) // 2]
    hi = max(positive[-1], lo)
    ladder = [lo * (hi / lo) ** (k / 24) for k in range(25)]
    return sorted({d for d in positive if d >= lo} | set(ladder))


def _auto_window(graph: Any) -> tuple[tuple[float, float], tuple[float, float]]:
    """The default drawing box of the plane: the domain's box; else a square around the
    regions' vertices and witnesses (their median as the centre), as small as it can be while
    showing the most regions (each at least 1/10⁴ of the picture)."""
    dom = graph.domain
    if dom.box is not None:
        return tuple((float(lo), float(hi)) for lo, hi in dom.box)  # type: ignore[return-value]
    big = 1e7
    pts = []
    for r in graph.regions:
        poly, _ = _region_polygon(r, ((-big, big), (-big, big)))
        pts += [p for p in poly if max(abs(p[0]), abs(p[1])) < big / 10]
        pts.append((float(r.witness[0]), float(r.witness[1])))
    centre = (float(np.median([p[0] for p in pts])), float(np.median([p[1] for p in pts])))

    def shown(h: float) -> int:
        box = ((centre[0] - h, centre[0] + h), (centre[1] - h, centre[1] + h))
        return sum(1 for r in graph.regions if _area(_region_polygon(r, box)[0] or [(0, 0)]) >= 4e-4 * h * h)

    half = _visible_window(centre, _halves(pts, centre), shown) * 1.15
    return (centre[0] - half, centre[0] + half), (centre[1] - half, centre[1] + half)


def _draw_2d(plt: Any, ax: Any, graph: Any, values: np.ndarray, color: str, norm: Norm, best: int, window: Any) -> tuple:
    from matplotlib.collections import LineCollection, PolyCollection

    regions = graph.regions
    box = tuple(tuple(map(float, w)) for w in window) if window is not None else _auto_window(graph)
    polys, faces, kink_segs, flat_segs, border = [], [], [], [], []
    cmap = plt.get_cmap("viridis" if color == "norm" else "tab20")
    vmin, vmax = float(values.min()), float(values.max())
    norm_c = plt.Normalize(vmin, vmax if vmax > vmin else vmin + 1)
    maps = [r.affine_map() for r in regions]
    for i, r in enumerate(regions):
        poly, labels = _region_polygon(r, box)
        if not poly:
            continue
        polys.append(poly)
        faces.append(cmap(norm_c(values[i])) if color == "norm" else cmap(i % 20))
        across = {row: f.neighbor for f in r.facets for row in f.rows}
        for k, lab in enumerate(labels):
            if lab == "window":
                continue
            seg = (poly[k], poly[(k + 1) % len(poly)])
            if abs(seg[0][0] - seg[1][0]) + abs(seg[0][1] - seg[1][1]) < 1e-12:
                continue
            j = across.get(lab)
            if j is None or j >= len(regions):  # the domain's boundary, or unexplored (limit reached)
                border.append(seg)
            elif i < j:
                (kink_segs if maps[i] != maps[j] else flat_segs).append(seg)
    ax.add_collection(PolyCollection(polys, facecolors=faces, edgecolors="none"))
    ax.add_collection(LineCollection(flat_segs, colors="0.45", linewidths=0.6, linestyles=(0, (3, 3))))
    ax.add_collection(LineCollection(kink_segs, colors="black", linewidths=1.4))
    ax.add_collection(LineCollection(border, colors="black", linewidths=0.8))
    w = regions[best].witness
    ax.plot([float(w[0])], [float(w[1])], marker="*", color="red", ms=16, mec="black", zorder=6)
    if color == "norm":
        sm = plt.cm.ScalarMappable(cmap=cmap, norm=norm_c)
        plt.colorbar(sm, ax=ax, label=_norm_label(norm))
    ax.set_xlim(*box[0])
    ax.set_ylim(*box[1])
    ax.set_aspect("equal" if _similar(box) else "auto")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return box


def _similar(box: Sequence[Sequence[float]]) -> bool:
    wx, wy = box[0][1] - box[0][0], box[1][1] - box[1][0]
    return 0.2 < wx / wy < 5


def plot_case(case: Any, path: str, **options: Any) -> PlotSummary:
    """`plot_network` on a `Case`'s network and domain."""
    return plot_network(case.network, case.domain, path, **options)
