"""Writing outputs: stdout for '-' and /dev/stdout, a pipe written to directly and kept a pipe.
(Atomic writes under SIGKILL: test_nothing_lost.py; Excel-safe CSV: test_nothing_executes.py.)"""

import os
import subprocess
import sys
import threading
from pathlib import Path

from conftest import sample_paying

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"


def test_dash_and_dev_stdout_write_to_stdout(tmp_path):
    written = []
    for target in ("-", "/dev/stdout"):
        result = subprocess.run([sys.executable, "-m", "csops_cli", "health", SAMPLE,
                                 "--no-save", "--quiet", "--format", "csv", "--out", target],
                                capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("account_id,account_name,")
        written.append(result.stdout)
    assert written[0] == written[1] and \
        len(written[0].splitlines()) == 1 + len(sample_paying("2026-11-20"))
    # no file named - or similar, no history: only the cache of parsed exports
    assert [path.name for path in tmp_path.iterdir()] == [".csops"]
    assert [path.name for path in (tmp_path / ".csops").iterdir()] == ["cache"]


def test_a_pipe_is_written_to_directly_and_stays_a_pipe(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = subprocess.run([sys.executable, "-m", "csops_cli", "health", SAMPLE, "--no-save",
                             "--quiet", "--out", fifo], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert received and received[0].startswith(b"account_id,account_name,")
    # the whole table went through the pipe
    assert received[0].count(b"\n") == 1 + len(sample_paying("2026-11-20"))
    assert fifo.is_fifo()


def test_csv_of_string_columns_in_many_chunks_holds_only_their_values():
    """pandas keeps a string column built by concatenation as many Arrow chunks, some empty;
    the CSV must hold exactly the values (pyarrow's writer once emitted stray memory)."""
    import pandas as pd
    import pyarrow as pa

    from csops_cli.output import csv_text

    empty = pa.array([], pa.large_string())
    chunks = pa.chunked_array([empty] * 9 + [pa.array(["a", "b,c", "d"], pa.large_string())])
    frame = pd.DataFrame({"text": pd.Series(pd.arrays.ArrowStringArray(chunks)),
                          "n": [1.5, 2.0, 3.0]})
    assert csv_text(frame) == 'text,n\n"a",1.5\n"b,c",2\n"d",3\n'
