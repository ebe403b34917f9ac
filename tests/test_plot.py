"""Pictures: 1-D graphs, 2-D region maps and 2-D slices are written, are not blank, and
show the exact region counts, kinks and largest ‖J‖ worked out by hand."""

import json
from fractions import Fraction

import pytest

pytest.importorskip("matplotlib")

from exactrelu.cli.main import main  # noqa: E402
from exactrelu.cli.plotting import clip_polygon, plot_network, slice_network  # noqa: E402
from exactrelu.core.domain import Domain  # noqa: E402
from exactrelu.core.network import Network, activation, affine  # noqa: E402
from exactrelu.io.case import write_case  # noqa: E402

# tent: 2 relu(x) - 4 relu(x - 1/2) + 2 relu(x - 1); on [-1, 2]: pieces (-1,0) (0,1/2) (1/2,1) (1,2),
# slopes 0, 2, -2, 0: 4 regions, 3 kinks, L = 2.
TENT = Network.from_layers(1, [affine([[1], [1], [1]], [0, "-1/2", -1]), activation("relu"), affine([[2, -4, 2]])],
                           name="tent")
# three lines in general position: 7 regions, every one of the 9 edges a kink (each neuron has a
# nonzero output weight); J = (a + c, -b + c) for the on-states a, b, c of relu(x), relu(y),
# relu(x+y-1): the largest row sum is 3 at a = c = 1, b = 0 (x = 3, y = -1 is such a point).
LINES = Network.from_layers(2, [affine([[1, 0], [0, 1], [1, 1]], [0, 0, -1]), activation("relu"),
                                affine([[1, -1, 1]])], name="three lines")
# relu(x) + relu(y) + relu(z) sliced at z = 1: the quadrants, 4 kinks, full J = (a, b, 1): ‖J‖∞ at most 3.
SUM3 = Network.from_layers(3, [affine([[1, 0, 0], [0, 1, 0], [0, 0, 1]]), activation("relu"), affine([[1, 1, 1]])],
                           name="sum of three relus")


def not_blank(path):
    import matplotlib.image as mpimg

    img = mpimg.imread(str(path))
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    assert img[..., :3].std() > 0.05  # more than a flat background
    return img


def test_1d_graph(tmp_path):
    s = plot_network(TENT, Domain.from_box([[-1, 2]]), str(tmp_path / "tent.png"))
    assert (s.kind, s.regions, s.kinks, s.complete) == ("1d", 4, 3, True)
    assert s.max_norm.value == 2 and Fraction(0) < s.witness[0] < 1
    not_blank(tmp_path / "tent.png")


def test_2d_map_by_norm_and_by_pattern(tmp_path):
    s = plot_network(LINES, Domain.whole(2), str(tmp_path / "lines.png"), norm="inf")
    assert (s.kind, s.regions, s.kinks) == ("2d", 7, 9)
    assert s.max_norm == 3
    x, y = s.witness
    assert x > 0 and y < 0 and x + y > 1  # the star is in the region where ‖J‖∞ = 3
    not_blank(tmp_path / "lines.png")
    s2 = plot_network(LINES, Domain.from_box([[-2, 2], [-2, 2]]), str(tmp_path / "lines.svg"), color="pattern")
    assert s2.regions == 7 and s2.window == ((-2.0, 2.0), (-2.0, 2.0))
    svg = (tmp_path / "lines.svg").read_text()
    assert svg.count("<path") > 10


def test_slice_of_a_3d_network(tmp_path):
    s = plot_network(SUM3, Domain.whole(3), str(tmp_path / "slice.png"), at=[0, 0, 1], norm="inf")
    assert (s.kind, s.regions, s.kinks) == ("slice", 4, 4)
    assert s.max_norm == 3 and s.witness[2] == 1 and s.witness[0] > 0 and s.witness[1] > 0
    assert s.slice_point == (0, 0, 1)
    not_blank(tmp_path / "slice.png")


def test_slice_network_is_the_restriction():
    sub, dom = slice_network(SUM3, Domain.from_box([[-1, 1], [-2, 2], [0, 3]]), [0, 0, 2], (2, 0))
    assert dom.box == ((0, 3), (-1, 1))
    assert sub.evaluate([Fraction(1, 2), -1]) == SUM3.evaluate([-1, 0, Fraction(1, 2)])


def test_clip_polygon_keeps_edge_labels():
    sq = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)]
    poly, labels = clip_polygon(sq, list("senw"), (1.0, 1.0), 2.0, "diag")
    assert poly == [(0.0, 0.0), (2.0, 0.0), (0.0, 2.0)] and labels == ["s", "diag", "w"]


def test_cli_plot_json_and_limits(tmp_path, capsys):
    case = tmp_path / "lines.json"
    write_case(LINES, case)
    status = main(["plot", "--json", str(case), "-o", str(tmp_path / "p.png"), "--norm", "1"])
    doc = json.loads(capsys.readouterr().out)
    assert status == 0 and doc["activation_regions"] == 7 and doc["kinks"] == 9 and doc["complete"]
    assert doc["max_norm"] == "2" and doc["max_norm_guarantee"] == "exact"  # ‖(a+c, c-b)‖₁ = max column sum
    status = main(["plot", "--json", str(case), "-o", str(tmp_path / "q.png"), "--max-regions", "2"])
    doc = json.loads(capsys.readouterr().out)
    assert status == 3 and doc["activation_regions"] == 2 and not doc["complete"]
    assert doc["max_norm_guarantee"] == "lower bound"
    not_blank(tmp_path / "q.png")  # the partial picture is still drawn
    assert main(["plot", str(case), "-o", str(tmp_path / "r.txt")]) == 2
    assert main(["plot", str(case), "-o", str(tmp_path / "r.png"), "--window", "1,0,0,1"]) == 2


def test_window_cuts_the_domain_before_enumerating(tmp_path):
    # in [0, 2]²: x = 0 and y = 0 are on the border, x + y = 1 splits it in two; ‖J‖∞ is 2 above the line
    s = plot_network(LINES, Domain.whole(2), str(tmp_path / "w.png"), window=[[0, 2], [0, 2]], norm="inf")
    assert (s.regions, s.kinks, s.max_norm) == (2, 1, 2)
    assert sum(s.witness) > 1


def test_default_window_shows_the_regions_not_the_farthest_point():
    """A far witness (an unbounded region's interior point) must not shrink the picture to a
    dot: every region is visible in a window about the size of the structure."""
    from types import SimpleNamespace

    from exactrelu.cli.plotting import _auto_window

    F = Fraction
    quadrant = [([[F(-1), F(0)], [F(0), F(-1)]], (F(10**6), F(10**6))),  # x > 0, y > 0: a far witness
                ([[F(1), F(0)], [F(0), F(-1)]], (F(-1), F(1))),
                ([[F(1), F(0)], [F(0), F(1)]], (F(-1), F(-1))),
                ([[F(-1), F(0)], [F(0), F(1)]], (F(1), F(-1)))]
    regions = [SimpleNamespace(A=A, b=[F(0), F(0)], witness=w) for A, w in quadrant]
    graph = SimpleNamespace(domain=Domain.whole(2), regions=regions)
    (x0, x1), (y0, y1) = _auto_window(graph)
    assert x0 < 0 < x1 and y0 < 0 < y1 and x1 - x0 < 10


def test_1d_default_window_shows_both_regions(tmp_path):
    net = Network.from_layers(1, [affine([[1]], ["-1000"]), activation("relu"), affine([[1]])])
    out = tmp_path / "relu.png"
    s = plot_network(net, Domain.whole(1), str(out))
    (x0, x1), = s.window
    assert s.regions == 2 and x0 < 1000 < x1 and x1 - x0 < 2000  # the kink and both sides
