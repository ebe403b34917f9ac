"""The scale-out options on the commands: --workers N (an embedded cluster) and --scheduler
ADDR (a running one) give the same JSON as each other (but for time), certificates that
`exactrelu check` accepts, exit 3 with the merged partial result at --time-limit, and
without dask an install hint (exit 2)."""

from __future__ import annotations

import json
import sys

import pytest
from preset_nets import integer_net

from exactrelu.cli.main import main
from exactrelu.core.domain import Domain
from exactrelu.core.network import Network
from exactrelu.io.case import write_case

pytest.importorskip("distributed")

TIMES = ("seconds", "diagnostics")


def _net(n: int, widths: list[int], seed: int) -> Network:
    return integer_net(n, widths, seed)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    path = tmp_path_factory.mktemp("cases") / "net.json"
    write_case(_net(2, [6, 5], seed=21), path, domain=Domain.from_box([[-2, 2], [-2, 2]]))
    return str(path)


@pytest.fixture(scope="module")
def vnnlib(tmp_path_factory):
    path = tmp_path_factory.mktemp("props") / "p.vnnlib"
    path.write_text("(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)"
                    "(assert (<= -2 X_0 2))(assert (<= -2 X_1 2))(assert (>= Y_0 1000))")
    return str(path)


def _run(capsys, *argv: str) -> tuple[int, dict]:
    status = main(["--json", *argv])
    out = capsys.readouterr().out
    doc = json.loads(out) if out.strip() else {}
    for key in TIMES:
        doc.pop(key, None)
    return status, doc


def test_workers_and_scheduler_agree(capsys, case, dask_clients):
    address = dask_clients[2].scheduler.address
    embedded = _run(capsys, "regions", case, "--list", "--workers", "1")
    assert embedded == _run(capsys, "regions", case, "--list", "--scheduler", address) and embedded[0] == 0
    one = dask_clients[1].scheduler.address
    for command in (["lipschitz", case, "--norm", "1"], ["range", case]):
        assert _run(capsys, *command, "--scheduler", one) == _run(capsys, *command, "--scheduler", address)
    status, doc = _run(capsys, "lipschitz", case, "--norm", "2", "--scheduler", address)
    single = _run(capsys, "lipschitz", case, "--norm", "2")
    assert doc == single[1] and status == 0


def test_certificates_from_a_cluster_pass_check(capsys, case, vnnlib, tmp_path, dask_clients):
    address = dask_clients[2].scheduler.address
    cert = str(tmp_path / "regions.cert.json")
    assert _run(capsys, "certify", case, "-o", cert, "--scheduler", address, "--tasks", "8")[0] == 0
    assert _run(capsys, "check", cert)[0] == 0
    proof = str(tmp_path / "prop.cert.json")
    status, doc = _run(capsys, "prove", case, vnnlib, "-o", proof, "--scheduler", address, "--tasks", "4")
    assert status == 0 and doc["result"] == "holds"
    assert _run(capsys, "check", proof)[0] == 0


def test_a_time_limit_exits_3_with_the_merged_partial(capsys, tmp_path, dask_clients):
    path = tmp_path / "big.json"
    write_case(_net(3, [8, 8], seed=22), path)
    address = dask_clients[1].scheduler.address
    status, doc = _run(capsys, "regions", str(path), "--scheduler", address, "--time-limit", "0.5")
    assert status == 3 and doc["complete"] is False
    status, doc = _run(capsys, "lipschitz", str(path), "--scheduler", address, "--time-limit", "0.2", "--tasks", "64")
    assert status == 3 and doc["guarantee"] == "certified"


def test_the_dashboard_link_is_printed(capsys, case, dask_clients):
    main(["regions", case, "--scheduler", dask_clients[1].scheduler.address])
    assert "dashboard" in capsys.readouterr().err


def test_without_dask_the_options_say_how_to_install_it(capsys, case, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert main(["regions", case, "--workers", "2"]) == 2
    assert "pip install 'exactrelu[distributed]'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:  # a usage error
        main(["regions", case, "--workers", "0"])
    assert e.value.code == 2
