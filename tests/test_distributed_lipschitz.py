"""Exact L with the branch and bound's subtrees as tasks: the same value, witness, pattern
and Jacobian as the single search (ties go to the first region in its depth-first order),
whatever the split, in-process or on 1 or 2 workers, with a worker killed mid-run; limits
give the merged certified bracket; bad input stays the project's InputError."""

from __future__ import annotations

import json

import pytest
from dask_tasks import WorkerKiller
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from preset_nets import integer_net

from exactrelu.constructions import sawtooth_network
from exactrelu.core.domain import Domain
from exactrelu.core.errors import InputError, LimitReached
from exactrelu.core.network import Network, activation, affine
from exactrelu.distributed.lipschitz import lipschitz
from exactrelu.lipschitz import lipschitz as single
from exactrelu.strategies import networks


def _doc(res):
    """The result's JSON without its diagnostics (work done and time, which may differ)."""
    doc = res.to_json()
    doc.pop("diagnostics")
    return json.dumps(doc, sort_keys=True)


def _net(n: int, widths: list[int], seed: int) -> Network:
    return integer_net(n, widths, seed, top=4, out_top=3, outputs=2)


def _ties() -> Network:
    """Every region has the same ℓ∞ norm (|x| + |y| in four quadrants, J = ±1 entries): the
    tie rule alone picks the answer."""
    return Network.from_layers(2, [affine([[1, 0], [-1, 0], [0, 1], [0, -1]]), activation("relu"),
                                   affine([[1, 1, 1, 1]])])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(max_input_dim=3, max_width=3, max_hidden_layers=2, kinds=("relu", "leaky_relu", "hardtanh", "abs")),
       st.sampled_from(["1", "inf", "2"]), st.sampled_from([None, "box"]), st.integers(1, 12), st.booleans())
def test_any_split_gives_the_single_search_answer(net, norm, kind, parts, prune):
    domain = Domain.from_box([[-1, 1]] * net.input_dim) if kind == "box" else None
    assert _doc(lipschitz(net, norm, domain, subtrees=parts, prune=prune)) == _doc(single(net, norm, domain, prune=prune))


@pytest.mark.parametrize("norm", ["1", "2", "inf"])
def test_ties_go_to_the_first_region_of_the_order(norm):
    whole = single(_ties(), norm)
    for parts in (1, 2, 3, 5, 8):
        assert _doc(lipschitz(_ties(), norm, subtrees=parts)) == _doc(whole)


@pytest.mark.parametrize("norm", ["1", "2", "inf"])
def test_one_and_two_workers_and_in_process_agree_byte_for_byte(dask_clients, norm):
    net = _net(3, [5, 5], seed=1)
    dom = Domain.from_box([[-1, 1]] * 3)
    here = _doc(single(net, norm, dom))
    assert _doc(lipschitz(net, norm, dom, subtrees=16)) == here
    assert _doc(lipschitz(net, norm, dom, client=dask_clients[1])) == here
    assert _doc(lipschitz(net, norm, dom, client=dask_clients[2])) == here
    assert _doc(lipschitz(net, norm, dom, client=dask_clients[2], subtrees=40)) == here


def test_a_worker_killed_mid_search_changes_nothing(dask_clients):
    client = dask_clients[2]
    net = _net(4, [8, 8], seed=3)
    expected = _doc(single(net, "inf"))
    kill_one = WorkerKiller(client)
    assert _doc(lipschitz(net, "inf", client=client, subtrees=24, progress=kill_one)) == expected
    kill_one.recover()


def test_a_time_limit_gives_the_merged_certified_bracket(dask_clients):
    net = _net(4, [8, 8], seed=3)
    exact = single(net, "inf").exact
    with pytest.raises(LimitReached) as e:
        lipschitz(net, "inf", client=dask_clients[1], subtrees=64, time_limit=0.3)
    q = e.value.partial.value
    lo, hi = q.interval
    assert lo <= exact <= hi and q.guarantee == "certified"


def test_a_node_limit_bounds_each_part():
    net = _net(4, [8, 8], seed=3)
    exact = single(net, "inf").exact
    with pytest.raises(LimitReached) as e:
        lipschitz(net, "inf", subtrees=4, max_nodes=5)
    lo, hi = e.value.partial.value.interval
    assert lo <= exact <= hi


def test_bad_input_is_an_input_error():
    with pytest.raises(InputError):
        lipschitz(sawtooth_network(1), "inf", Domain.from_box([[0, 1], [0, 1]]), subtrees=2)
    with pytest.raises(InputError):
        lipschitz(sawtooth_network(1), "inf", subtrees=0)
    with pytest.raises(InputError):
        lipschitz(sawtooth_network(1), "7", subtrees=2)


def _sabotage():
    import exactrelu.distributed.lipschitz as module

    def boom(*args, **kwargs):
        raise ZeroDivisionError("boom")

    module.saved_search_subtree, module.search_subtree = module.search_subtree, boom


def _restore():
    import exactrelu.distributed.lipschitz as module

    module.search_subtree = module.saved_search_subtree
    del module.saved_search_subtree


def test_worker_errors_arrive_as_the_projects_own(dask_clients):
    from exactrelu.distributed.executor import TaskFailed

    client = dask_clients[1]
    net = _net(3, [5, 5], seed=1)
    with pytest.raises(LimitReached) as e:  # raised on the worker, with its partial result
        lipschitz(net, "inf", client=client, subtrees=2, max_nodes=3)
    assert e.value.partial.value.guarantee == "certified"
    client.run(_sabotage)
    try:
        with pytest.raises(TaskFailed, match="ZeroDivisionError: boom"):
            lipschitz(net, "inf", client=client, subtrees=4)
    finally:
        client.run(_restore)
    assert _doc(lipschitz(net, "inf", client=client)) == _doc(single(net, "inf"))


def test_a_time_limit_holds_while_the_search_is_split():
    """Splitting the search's top into subtrees is search work too: past the limit there,
    `LimitReached` with a certified bracket (digits-cnn's split ran 43 s past a 5 s limit)."""
    net = _net(4, [8, 8], seed=3)
    exact = single(net, "inf").exact
    from exactrelu.lipschitz import split_search

    with pytest.raises(LimitReached) as e:
        split_search(net, "inf", Domain.whole(4), 64, time_limit=1e-9)
    lo, hi = e.value.partial.value.interval
    assert lo <= exact <= hi
    parts, _ = split_search(net, "inf", Domain.whole(4), 64, time_limit=60)  # within the limit: the split
    assert len(parts) >= 64
