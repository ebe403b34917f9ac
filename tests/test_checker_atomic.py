"""`certify -o` writes atomically: the old file or the whole new one, and no temporary
file left behind by an exception, SIGTERM or SIGINT in the middle of the write."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from exactrelu.io.atomic import write_text_atomic

# a writer whose text comes slowly, piece by piece: a signal lands mid-write
SLOW_WRITER = """
import sys, time
from exactrelu.io.atomic import write_text_atomic

def pieces():
    for _ in range(2000):
        time.sleep(0.005)
        yield "x" * 100 + "\\n"

write_text_atomic(sys.argv[1], pieces())
"""


def _leftovers(tmp_path):
    return sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_write_leaves_the_old_file_and_no_temporary(tmp_path, sig):
    target = tmp_path / "cert.json"
    target.write_text("old")
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(target)], stderr=subprocess.PIPE)
    for _ in range(2000):  # until the temporary file exists: the write has begun
        if _leftovers(tmp_path) or proc.poll() is not None:
            break
        time.sleep(0.005)
    assert _leftovers(tmp_path), "the writer never started"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -sig, err.decode()  # the process still ends by the signal
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_an_exception_mid_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "cert.json"
    target.write_text("old")

    def pieces():
        yield "new"
        raise ValueError("boom")

    with pytest.raises(ValueError):
        write_text_atomic(target, pieces())
    assert target.read_text() == "old" and _leftovers(tmp_path) == []


def test_a_signal_whose_handler_returns_stops_the_write(tmp_path):
    target = tmp_path / "cert.json"
    seen = []
    old = signal.signal(signal.SIGTERM, lambda s, f: seen.append(s))
    try:
        def pieces():
            yield "a"
            signal.raise_signal(signal.SIGTERM)
            yield "b"

        with pytest.raises(InterruptedError):
            write_text_atomic(target, pieces())
    finally:
        signal.signal(signal.SIGTERM, old)
    assert seen == [signal.SIGTERM] and not target.exists() and _leftovers(tmp_path) == []


def test_certify_to_an_unwritable_place_is_a_clean_error(tmp_path):
    case = tmp_path / "net.json"
    case.write_text('{"format": "exactrelu-network/1", "input_dim": 1, "layers": [{"type": "relu"}]}')
    res = subprocess.run([sys.executable, "-m", "exactrelu", "certify", str(case), "-o", str(tmp_path / "no" / "c.json")],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr
