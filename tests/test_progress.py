"""Progress on stderr: shown in a terminal for a phase that takes over a second, never on
stdout, never with --quiet or when stderr is not a terminal, and nothing for fast phases."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from csops_cli import progress

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
SRC = Path(__file__).resolve().parents[1] / "src"
# csops as run by a person, with the scoring made slow (1.5 s) so that its phase is shown
SLOW_SCORING = """
import sys, time
import csops_cli.health as health
score, seconds = health.score, float(sys.argv.pop(1))
def slow(*args, **kwargs):
    time.sleep(seconds)
    return score(*args, **kwargs)
health.score = slow
from csops_cli.entry import main
sys.argv[0] = "csops"
main()
"""
CURSOR_HIDDEN = b"\x1b[?25l"  # what rich's live display writes first


def run(args: list[str], tmp_path: Path, seconds: float = 1.5, stderr_terminal: bool = True
        ) -> tuple[int, bytes, bytes]:
    """Run csops with scoring taking ``seconds``, one of stdout and stderr on a
    pseudo-terminal of 100 columns (stderr unless ``stderr_terminal`` is off), the other
    into a file. Returns the exit code, stdout and stderr."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "NO_COLOR")}
    env["PYTHONPATH"] = str(SRC)
    env["TERM"] = "xterm-256color"
    other = tmp_path / "other-stream"
    with other.open("wb") as file:
        process = subprocess.Popen(
            [sys.executable, "-c", SLOW_SCORING, str(seconds), *args], cwd=tmp_path, env=env,
            stdin=subprocess.DEVNULL, stdout=file if stderr_terminal else slave,
            stderr=slave if stderr_terminal else file)
    os.close(slave)
    terminal = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the process closed its end
                break
            if not chunk:
                break
            terminal += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=60)
    os.close(master)
    if stderr_terminal:
        return process.returncode, other.read_bytes(), terminal
    # a terminal turns each newline written into CR LF
    return process.returncode, terminal.replace(b"\r\n", b"\n"), other.read_bytes()


HEALTH = ["health", str(SAMPLE), "--no-save", "-f", "csv"]


def test_a_slow_phase_shows_progress_on_the_terminal_and_never_on_stdout(tmp_path):
    code, stdout, stderr = run(HEALTH, tmp_path)
    assert code == 0, stderr
    assert CURSOR_HIDDEN in stderr
    assert b"scoring" in stderr
    # transient: the display is cleared and the cursor shown again when the phase ends
    assert stderr.index(b"\x1b[?25h") > stderr.index(b"scoring")
    assert stdout.startswith(b"account_id,account_name,segment,health_score")
    assert b"\x1b" not in stdout
    assert b"scoring" not in stdout


def test_quiet_shows_no_progress(tmp_path):
    code, stdout, stderr = run([*HEALTH, "--quiet"], tmp_path)
    assert code == 0
    assert stderr == b""
    assert stdout.startswith(b"account_id,")


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path):
    code, stdout, stderr = run(HEALTH, tmp_path, stderr_terminal=False)
    assert code == 0
    assert CURSOR_HIDDEN not in stderr
    assert b"scoring" not in stderr
    assert b"config:" in stderr  # the notes are there: only the progress is left out
    assert b"scoring" not in stdout


def test_a_fast_run_shows_no_progress_at_all(tmp_path):
    # every phase of the shipped sample takes well under a second: no flicker
    code, stdout, stderr = run(HEALTH, tmp_path, seconds=0)
    assert code == 0
    assert CURSOR_HIDDEN not in stderr
    assert b"scoring" not in stderr
    assert b"config:" in stderr


# --- the core's side: marks that cost nothing when nothing is shown -------------------------

class Recorder:
    """A display that writes down what it is told."""

    def __init__(self):
        self.events: list[tuple] = []
        self.closed = False

    def begin(self, description, total):
        self.events.append(("begin", description, total))
        return description

    def advance(self, handle, steps):
        self.events.append(("advance", handle, steps))

    def end(self, handle):
        self.events.append(("end", handle))

    def close(self):
        self.closed = True


def test_phases_reach_the_display_that_a_command_installed():
    recorder = Recorder()
    with progress.shown(recorder):
        with progress.phase("reading usage.csv"):
            pass
        assert list(progress.steps(["2026-01-01", "2026-02-01"], "scoring past dates")) == [
            "2026-01-01", "2026-02-01"]
    assert recorder.events == [
        ("begin", "reading usage.csv", None), ("end", "reading usage.csv"),
        ("begin", "scoring past dates", 2), ("advance", "scoring past dates", 1),
        ("advance", "scoring past dates", 1), ("end", "scoring past dates")]
    assert recorder.closed
    # the command is over: later phases go nowhere
    with progress.phase("writing") as advance:
        advance()
    assert len(recorder.events) == 6


def test_a_phase_ends_even_when_its_work_fails():
    recorder = Recorder()
    with progress.shown(recorder), pytest.raises(ValueError):
        with progress.phase("building signals"):
            raise ValueError("bad")
    assert recorder.events[-1] == ("end", "building signals")


def test_cli_runs_in_process_show_no_progress(cli):
    # CliRunner's stderr is no terminal: the display is never installed
    result = cli("health", SAMPLE, "--no-save", "-f", "csv")
    assert result.exit_code == 0
    assert "\x1b" not in result.stderr


def test_each_phase_of_a_health_run_is_marked(tmp_path, default_config):
    from csops_cli.history import History, data_set_of
    from csops_cli.jobs import health_report
    from csops_cli.loading import load_exports
    from csops_cli.render import emit

    recorder = Recorder()
    with progress.shown(recorder):
        exports = load_exports(SAMPLE, default_config)
        store = History.open(tmp_path / "history.db", data_set_of(exports))
        emit(health_report(exports, default_config, None, store), "csv", tmp_path / "h.csv")
    begun = [event[1] for event in recorder.events if event[0] == "begin"]
    # the exports are read side by side: in any order, before anything else
    assert sorted(begun[:5]) == ["reading accounts.csv", "reading activities.csv",
                                 "reading contracts.csv", "reading team.csv",
                                 "reading usage.csv"]
    # scored as of as_of and as of a week earlier (no snapshot yet)
    assert begun[5:] == ["building signals as of 2 dates", "scoring", "scoring",
                         "storing the snapshot", "writing h.csv"]
    assert len([event for event in recorder.events if event[0] == "end"]) == len(begun)


class Stream(io.StringIO):
    def __init__(self, terminal: bool):
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


@pytest.mark.parametrize(("terminal", "quiet", "shown"), [
    (True, False, True), (False, False, False), (True, True, False)])
def test_the_display_is_installed_only_for_a_terminal_without_quiet(monkeypatch, terminal,
                                                                     quiet, shown):
    from csops_cli.commands.common import progress_shown

    stderr = Stream(terminal)
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.setenv("TERM", "xterm-256color")
    with progress_shown(quiet), progress.phase("rebuilding past dates"):
        time.sleep(1.3)
    assert ("rebuilding past dates" in stderr.getvalue()) is shown
