"""Regions cell by cell (the first layer's pieces), merged by pattern: the merged graph is
the single-process graph in pattern order (patterns, rows, maps, boundedness, facets and
neighbours, adjacency, linear pieces); only points may differ. The JSON is identical in
process and on 1 and 2 workers, the certificate passes the independent checker, a killed
worker changes nothing, a limit gives the merged partial graph."""

from __future__ import annotations

import json
from argparse import Namespace

import pytest
from dask_tasks import WorkerKiller
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from preset_nets import integer_net

from exactrelu.certificate import build_certificate
from exactrelu.checker import check_certificate
from exactrelu.cli.commands.regions import summary
from exactrelu.core.domain import Domain
from exactrelu.core.errors import InputError, LimitReached
from exactrelu.core.network import Network, activation, affine
from exactrelu.distributed.regions import cells_of, enumerate_regions
from exactrelu.io.case import Case
from exactrelu.regions import enumerate_regions as single
from exactrelu.strategies import networks


def _canonical(g):
    """The graph as plain data in pattern order, without points (witnesses, facet points,
    non-facet multipliers may differ between equally valid runs)."""
    order = sorted(range(len(g.regions)), key=lambda i: g.regions[i].pattern)
    new = {old: k for k, old in enumerate(order)}
    regions = []
    for old in order:
        r = g.regions[old]
        regions.append((r.pattern, r.A, r.b, r.labels, r.jacobian, r.offset, r.bounded,
                        sorted((f.rows, None if f.neighbor is None else new[f.neighbor]) for f in r.facets),
                        sorted(nf.rows for nf in r.nonfacets)))
    edges = sorted((min(new[i], new[j]), max(new[i], new[j]), tuple(d["neurons"])) for i, j, d in g.graph.edges(data=True))
    pieces: dict[int, int] = {}
    labels = [pieces.setdefault(g.piece_labels[old], len(pieces)) for old in order]
    return regions, edges, labels, g.bounded_regions, len(g.kinks)


def _json(g) -> str:
    doc = summary(g, Namespace(list=True, volumes=True)).doc
    for key in ("seconds",):
        doc.pop(key)
    return json.dumps(doc, sort_keys=True)


def _net(n: int, widths: list[int], seed: int) -> Network:
    return integer_net(n, widths, seed)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(max_input_dim=3, max_width=3, max_hidden_layers=2, kinds=("relu", "leaky_relu", "hardtanh", "abs")),
       st.sampled_from([None, "box"]), st.sampled_from([1, 2, 4, 16]))
def test_the_merged_graph_is_the_single_process_graph(net, kind, cells):
    domain = Domain.from_box([[-1, 1]] * net.input_dim) if kind == "box" else None
    merged = enumerate_regions(net, domain, cells=cells)
    assert [r.pattern for r in merged.regions] == sorted(r.pattern for r in merged.regions)
    assert _canonical(merged) == _canonical(single(net, domain))


def test_degenerate_nets_merge_too():
    # coincident first-layer neurons, a neuron of layer 2 on layer 1's hyperplane, a dead one
    net = Network.from_layers(2, [affine([[1, 0], [2, 0], [0, 1], [0, 0]], [0, 0, 0, 1]), activation("relu"),
                                  affine([[1, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]], [0, 0, -1]), activation("relu"),
                                  affine([[1, -1, 1]])])
    for cells in (1, 2, 3, 8):
        assert _canonical(enumerate_regions(net, cells=cells)) == _canonical(single(net))


def test_the_cells_cover_the_domain_once():
    net = _net(2, [5, 4], seed=2)
    parts = cells_of(net, Domain.whole(2), 8)
    assert len(parts) >= 8
    g = single(net)
    # every region lies in exactly one cell: its witness satisfies exactly one cell's rows
    for r in g.regions:
        inside = [c for c in parts if all(sum(a * x for a, x in zip(row, r.witness)) < b for row, b in c)]
        assert len(inside) == 1


def test_json_is_identical_in_process_and_on_one_and_two_workers(dask_clients):
    for net, dom in ((_net(2, [6, 5], seed=4), None), (_net(3, [5, 4], seed=5), Domain.from_box([[-2, 2]] * 3))):
        here = _json(enumerate_regions(net, dom, cells=16))
        assert _json(enumerate_regions(net, dom, cells=16, client=dask_clients[1])) == here
        assert _json(enumerate_regions(net, dom, cells=16, client=dask_clients[2])) == here
        assert _canonical(enumerate_regions(net, dom, cells=16, client=dask_clients[2])) == _canonical(single(net, dom))


def test_the_certificate_of_a_distributed_run_passes_the_checker(dask_clients):
    net = _net(2, [5, 4], seed=6)
    for dom in (Domain.whole(2), Domain.from_box([[-1, 2], [-1, 1]])):
        g = enumerate_regions(net, dom, cells=8, client=dask_clients[2])
        verdict = check_certificate(build_certificate(Case(net, dom), g, ("1", "inf", "2")))
        assert verdict.ok, verdict.problems


def test_a_worker_killed_mid_enumeration_changes_nothing(dask_clients):
    client = dask_clients[2]
    net = _net(3, [6, 5], seed=7)
    expected = _json(enumerate_regions(net, cells=24))
    kill_one = WorkerKiller(client)
    assert _json(enumerate_regions(net, cells=24, client=client, progress=kill_one)) == expected
    kill_one.recover()


def test_limits_give_the_merged_partial_graph():
    net = _net(3, [6, 5], seed=7)
    total = single(net).activation_regions
    with pytest.raises(LimitReached) as e:
        enumerate_regions(net, cells=16, max_regions=total // 3)
    g = e.value.partial
    assert not g.complete and total // 3 < g.activation_regions < total
    assert set(r.pattern for r in g.regions) < set(r.pattern for r in single(net).regions)
    with pytest.raises(LimitReached) as e:
        enumerate_regions(net, cells=16, time_limit=0.01)
    assert not e.value.partial.complete


def test_a_time_limit_holds_while_the_domain_is_split():
    """The split into cells is itself an enumeration (of the first neurons' pieces): past the
    limit there, the partial graph has no region and is not complete (digits-cnn's 64-D split
    ran for minutes before)."""
    net = _net(3, [6, 5], seed=7)
    with pytest.raises(LimitReached) as e:
        enumerate_regions(net, cells=16, time_limit=1e-9)
    assert "splitting" in str(e.value)
    assert not e.value.partial.complete and e.value.partial.activation_regions == 0


def test_bad_input_is_an_input_error():
    net = _net(2, [3], seed=1)
    with pytest.raises(InputError):
        enumerate_regions(net, Domain.whole(3))
    with pytest.raises(InputError):
        enumerate_regions(net, cells=0)
