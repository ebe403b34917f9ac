"""What `check` accepts is true: on random small rational networks (exactrelu.strategies),
every certificate the checker accepts, the honest one and every random tampering of it
that gets through, states the true number of regions and the true L_1, L_inf and L_2,
computed by the independent brute force over all patterns of its own case
(tests/brute.py); for one-input networks also the true linear pieces and bounded
regions (intervals on a line, by hand)."""

from __future__ import annotations

import copy
import json
import random
from fractions import Fraction
from typing import Any

from brute import assert_verdict_true
from hypothesis import given, settings
from hypothesis import strategies as st

from exactrelu.certificate import certify
from exactrelu.checker import check_certificate
from exactrelu.core.domain import Domain
from exactrelu.io.case import Case
from exactrelu.strategies import networks

F = Fraction


def _leaves(doc: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(doc, dict):
        for k, x in doc.items():
            out += _leaves(x, path + (k,))
    elif isinstance(doc, list):
        for i, x in enumerate(doc):
            out += _leaves(x, path + (i,))
    return out


def _tamper(cert: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """One random change somewhere in the certificate: a number moved, an index or state
    changed, an entry deleted, duplicated or swapped, a key deleted."""
    doc = copy.deepcopy(cert)
    path = rng.choice(_leaves(doc)[1:])
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    x = parent[key]
    choice = rng.random()
    if choice < 0.15:
        if isinstance(parent, list):
            del parent[key]
        else:
            del parent[key]
    elif choice < 0.25 and isinstance(parent, list):
        parent.insert(key, copy.deepcopy(x))
    elif choice < 0.35 and isinstance(parent, list) and len(parent) > 1:
        j = rng.randrange(len(parent))
        parent[key], parent[j] = parent[j], parent[key]
    elif isinstance(x, str):
        try:
            q = F(x)
        except ValueError:
            parent[key] = x + "x"
        else:
            parent[key] = str(rng.choice([q + 1, q - 1, q / 2, -q, F(0), q + F(1, 3), 2 * q]))
    elif isinstance(x, bool) or x is None:
        parent[key] = 0
    elif isinstance(x, int):
        parent[key] = x + rng.choice([1, -1, 2])
    elif isinstance(x, float):
        parent[key] = x * 1.5 + 1
    elif isinstance(x, list) and x:
        x.pop(rng.randrange(len(x)))
    elif isinstance(x, dict) and x:
        x.pop(rng.choice(list(x)))
    return doc


DOMAINS = st.sampled_from([None, "box"])


@settings(max_examples=30)
@given(networks(max_input_dim=2, max_width=3, max_hidden_layers=2), DOMAINS, st.randoms(use_true_random=False))
def test_accepted_certificates_state_the_truth(net, kind, rnd):
    n = net.input_dim
    domain = Domain.from_box([["-3/2", 2]] * n) if kind == "box" else Domain.whole(n)
    cert = json.loads(json.dumps(certify(Case(net, domain), ("1", "inf", "2"))))
    v = check_certificate(cert)
    assert v.ok, v.problems
    assert_verdict_true(cert, v)
    rng = random.Random(rnd.random())
    for _ in range(25):
        doc = _tamper(cert, rng)
        if rng.random() < 0.3:
            doc = _tamper(doc, rng)
        w = check_certificate(doc)
        if w.ok:
            assert_verdict_true(doc, w)


@settings(max_examples=20)
@given(networks(max_input_dim=1, max_width=3, max_hidden_layers=2))
def test_one_input_certificates_count_pieces_and_bounded_regions(net):
    cert = json.loads(json.dumps(certify(Case(net, Domain.whole(1)))))
    v = check_certificate(cert)
    assert v.ok
    assert_verdict_true(cert, v)
