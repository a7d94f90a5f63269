"""Problem codes: stable, each one used, and required of every Problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from csops_cli.errors import InputError, Problem, ProblemCode

SOURCE = Path(__file__).resolve().parents[1] / "src" / "csops_cli"


def test_a_problem_without_a_code_cannot_be_made():
    with pytest.raises(TypeError, match="code"):
        Problem("accounts.csv", "something is wrong")  # type: ignore[call-arg]


def test_codes_are_snake_case_names_equal_to_their_values():
    for code in ProblemCode:
        assert re.fullmatch(r"[a-z]+(_[a-z0-9]+)*", code.value), code
        assert code.name.lower() == code.value
        assert code == code.value  # a plain string in JSON and comparisons


def test_every_code_is_used_by_the_code_that_refuses_input():
    text = "\n".join(path.read_text() for path in SOURCE.rglob("*.py")
                     if path.name != "errors.py")
    unused = [code.name for code in ProblemCode if f"ProblemCode.{code.name}" not in text]
    assert unused == []


def test_an_unusable_history_file_says_so_by_code(tmp_path):
    from csops_cli.history import History

    path = tmp_path / "history.db"
    path.write_bytes(b"not a database at all, " * 100)
    with pytest.raises(InputError) as caught:
        History(path).previous(__import__("pandas").Timestamp("2026-01-01"))
    [problem] = caught.value.problems
    assert (problem.file, problem.code) == (str(path), ProblemCode.UNUSABLE_HISTORY)
