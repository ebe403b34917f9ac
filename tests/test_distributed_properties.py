"""prove / range cell by cell: the answers of the single search (against the region engine
on random tiny nets), a canonical counterexample and argmax, certificates that compose and
pass the independent checker, identical JSON in-process and on 1 and 2 workers, a killed
worker changing nothing, limits with the merged partial result."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from dask_tasks import WorkerKiller
from hypothesis import given, settings
from hypothesis import strategies as st
from preset_nets import integer_net
from test_properties_prove import as_property, instances, region_answer, region_max

from exactrelu.checker import check_certificate
from exactrelu.core.domain import Domain
from exactrelu.core.errors import InputError, LimitReached
from exactrelu.core.network import Network, activation, affine
from exactrelu.distributed.properties import output_range, prove, split_box
from exactrelu.properties.prove import prove as single_prove
from exactrelu.properties.range import output_range as single_range
from exactrelu.properties.search import Options
from exactrelu.properties.vnnlib import parse_vnnlib
from exactrelu.strategies import rationals

F = Fraction


def _json(res) -> str:
    doc = res.to_json()
    doc.pop("diagnostics", None)
    return json.dumps(doc, sort_keys=True)


def _net(n: int, widths: list[int], seed: int) -> Network:
    return integer_net(n, widths, seed, outputs=2)


def _prop(n: int, unsafe: str):
    decl = "".join(f"(declare-const X_{i} Real)" for i in range(n)) + "(declare-const Y_0 Real)(declare-const Y_1 Real)"
    box = "".join(f"(assert (<= -1 X_{i} 1))" for i in range(n))
    return parse_vnnlib(decl + box + unsafe)


NET = _net(3, [6, 6], seed=11)
TOP = single_range(NET, Domain.from_box([[-1, 1]] * 3), [F(1), F(0)]).max   # max of y0 on the box
HOLDS = _prop(3, f"(assert (> Y_0 {float(TOP) + 0.25}))")
VIOLATED = _prop(3, f"(assert (>= Y_0 {float(TOP) - 0.5}))")
RNET = _net(2, [5, 4], seed=12)


@settings(max_examples=40, deadline=None)
@given(instances(), st.sampled_from([1, 2, 4, 8]))
def test_prove_in_cells_agrees_with_the_region_engine(inst, cells):
    net, box, atoms = inst
    prop = as_property(net.input_dim, net.output_dim, box, atoms)
    res = prove(net, prop, cells=cells, options=Options(attack=0), certificate=True)
    assert (res.value == "violated") == region_answer(net, box, atoms)
    if res.value == "violated":
        x = res.counterexample.x
        assert all(lo <= v <= hi for v, (lo, hi) in zip(x, box)) and all(a.holds(x, net.evaluate(x)) for a in atoms)
    else:
        verdict = check_certificate(res.certificate)
        assert verdict.ok, verdict.problems


@settings(max_examples=30, deadline=None)
@given(instances(kinds=("relu", "abs", "hardtanh")), st.data(), st.sampled_from([1, 3, 8]))
def test_range_in_cells_agrees_with_the_region_engine(inst, data, cells):
    net, box, _ = inst
    c = tuple(data.draw(rationals(2, 1)) for _ in range(net.output_dim))
    r = output_range(net, Domain.from_box([[lo, hi] for lo, hi in box]), c, cells=cells)
    assert (r.max, r.min) == (region_max(net, box, c), -region_max(net, box, tuple(-v for v in c)))
    for x, v in ((r.argmax, r.max), (r.argmin, r.min)):
        assert all(lo <= t <= hi for t, (lo, hi) in zip(x, box))
        assert sum((a * y for a, y in zip(c, net.evaluate(x))), F(0)) == v


def test_the_counterexample_is_the_first_cells():
    # |x| >= 3/2 on [-2, 2]: both ends violate; the first cell (x <= -1) has the counterexample
    abs_net = Network.from_layers(1, [affine([[1], [-1]]), activation("relu"), affine([[1, 1]])])
    prop = parse_vnnlib("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= -2 X_0 2))(assert (>= Y_0 1.5))")
    for cells in (2, 4, 8):
        assert prove(abs_net, prop, cells=cells).counterexample.x[0] <= -F(3, 2)


def test_the_cells_cover_the_box():
    box = ((F(0), F(1)), (F(2), F(2)), (F(-1), F(3)))   # a flat input is never split
    parts, tree = split_box(box, 8)
    assert len(parts) == 8 and all(c[1] == (F(2), F(2)) for c in parts)
    assert sum((hi - lo) * (h2 - l2) for (lo, hi), _, (l2, h2) in parts) == 4
    assert tree(list(range(8)))["split"] == {"input": 2, "at": "1"}


@pytest.mark.parametrize("case", ["holds", "violated", "range"])
def test_json_is_identical_in_process_and_on_one_and_two_workers(dask_clients, case):
    def run(**kw):
        if case == "range":
            return output_range(RNET, Domain.from_box([[-1, 1]] * 2), [F(1), F(-1)], cells=8, **kw)
        res = prove(NET, HOLDS if case == "holds" else VIOLATED, cells=8, certificate=True, **kw)
        return res, json.dumps(res.certificate, sort_keys=True)

    here = run()
    one, two = run(client=dask_clients[1]), run(client=dask_clients[2])
    if case == "range":
        assert _json(here) == _json(one) == _json(two)
        single = single_range(RNET, Domain.from_box([[-1, 1]] * 2), [F(1), F(-1)])
        assert (here.max, here.min) == (single.max, single.min)
        return
    assert _json(here[0]) == _json(one[0]) == _json(two[0])
    assert here[1] == one[1] == two[1]
    assert here[0].value == single_prove(NET, HOLDS if case == "holds" else VIOLATED).value == case


def test_the_certificate_of_a_distributed_run_passes_the_checker(dask_clients):
    res = prove(NET, HOLDS, cells=8, certificate=True, client=dask_clients[2])
    assert res.value == "holds"
    verdict = check_certificate(res.certificate)
    assert verdict.ok, verdict.problems
    res.certificate["groups"][0]["tree"]["children"][1] = {"proofs": []}  # half the box left open
    assert not check_certificate(res.certificate).ok


def test_a_worker_killed_mid_proof_changes_nothing(dask_clients):
    client = dask_clients[2]
    expected = _json(prove(NET, HOLDS, cells=16))
    kill_one = WorkerKiller(client)
    assert _json(prove(NET, HOLDS, cells=16, client=client, progress=kill_one)) == expected
    kill_one.recover()


def test_limits_give_the_merged_partial_result(dask_clients):
    with pytest.raises(LimitReached) as e:
        prove(NET, HOLDS, cells=16, max_nodes=1, options=Options(attack=0), client=dask_clients[1])
    partial = e.value.partial
    assert partial.value == "unknown" and 0 <= partial.settled < 1
    with pytest.raises(LimitReached) as e:
        output_range(NET, Domain.from_box([[-1, 1]] * 3), [F(1), F(0)], cells=16, time_limit=0.5)
    r = e.value.partial
    assert r is None or r.max <= TOP


def test_bad_input_is_an_input_error():
    with pytest.raises(InputError):
        prove(NET, _prop(2, "(assert (>= Y_0 0))"), cells=4)
    with pytest.raises(InputError):
        prove(NET, HOLDS, cells=0)
    with pytest.raises(InputError):
        output_range(NET, Domain.whole(3), [F(1), F(0)])
