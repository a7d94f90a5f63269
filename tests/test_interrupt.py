"""Ctrl-C at any moment of a large run, including while the usage export is read in its
threads: exit status 130 within a second, no traceback, nothing written."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC)}


@pytest.fixture(scope="session")
def large_exports(tmp_path_factory) -> Path:
    """About 2.7 million usage events (170 MB): the read lasts well past one second."""
    folder = tmp_path_factory.mktemp("large") / "exports"
    subprocess.run([sys.executable, "-m", "csops_cli", "sample", str(folder), "--accounts",
                    "20000", "--events", "3000000", "--seed", "1"], check=True,
                   env=environment(), stdout=subprocess.DEVNULL)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("after_seconds", [0.1, 0.3, 0.6, 1.0])
def test_ctrl_c_ends_the_run_at_once(large_exports, tmp_path, after_seconds):
    before = sorted(large_exports.iterdir())
    run = subprocess.Popen([sys.executable, "-m", "csops_cli", "health", str(large_exports),
                            "--no-save"], cwd=tmp_path, env=environment(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(after_seconds)
    assert run.poll() is None, "the run ended before the signal: use more data"
    run.send_signal(signal.SIGINT)
    sent = time.monotonic()
    try:
        out, err = run.communicate(timeout=10)
    finally:
        run.kill()
    assert time.monotonic() - sent < 1.0
    assert run.returncode == 130
    assert b"Traceback" not in err
    assert out == b""  # no half-written report
    assert sorted(large_exports.iterdir()) == before and list(tmp_path.iterdir()) == []
