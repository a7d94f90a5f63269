"""--out x.xlsx: a formatted workbook, reopened here with openpyxl to check what Excel sees."""

from __future__ import annotations

import datetime
import io
import os

import pytest
from openpyxl import load_workbook

from conftest import write
from csops_cli import output
from csops_cli.errors import UsageError

ACCOUNTS = """
account_id,account_name,segment,csm_owner
00123,=SUM(A1:A2),Strategic,Ann
00456,Café Ünïcode,SMB,Bob
"""
CONTRACTS = """
contract_id,account_id,start_date,end_date,arr,licenses,signed_date,contract_type
C1,00123,2025-09-01,2026-09-01,120000,10,2025-08-20,new
C2,00456,2026-06-26,2027-06-26,8000,4,2026-06-25,new
"""


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    write(folder, "accounts.csv", ACCOUNTS)
    write(folder, "contracts.csv", CONTRACTS)
    return folder


def run_to_workbook(cli, tmp_path, *args):
    out = tmp_path / "out.xlsx"
    result = cli(*args, "--as-of", "2026-06-30", "--out", out, "-q")
    assert result.exit_code == 0, result.output
    return load_workbook(out)


def by_header(sheet) -> dict[str, list]:
    """Each column's cells below the header, by header."""
    rows = list(sheet.iter_rows())
    return {cell.value: [row[i] for row in rows[1:]] for i, cell in enumerate(rows[0])}


def test_health_workbook_header_types_and_formats(cli, data, tmp_path):
    book = run_to_workbook(cli, tmp_path, "health", data)
    assert book.sheetnames == ["Health"]
    sheet = book["Health"]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])
    columns = by_header(sheet)
    ids = columns["account_id"]
    # all-digit IDs stay text with their leading zeros
    assert sorted(c.value for c in ids) == ["00123", "00456"]
    assert {c.data_type for c in ids} == {"s"}
    names = {c.value: c for c in columns["account_name"]}
    assert set(names) == {"=SUM(A1:A2)", "Café Ünïcode"}
    assert names["=SUM(A1:A2)"].data_type == "s"  # a string that looks like a formula
    arr = {c.value for c in columns["arr"]}
    assert arr == {120000, 8000}
    assert {c.number_format for c in columns["arr"]} == {"#,##0"}
    assert {c.data_type for c in columns["health_score"]} == {"n"}
    assert {c.number_format for c in columns["health_score"]} == {"0.0"}
    assert all(0 <= c.value <= 100 for c in columns["health_score"])
    # widths from the content: the longest name fits, and nothing is wider than the cap
    widths = {sheet.cell(1, i + 1).value: sheet.column_dimensions[letter].width
              for i, letter in enumerate("ABCDEFGHIJKLMNOP"[:sheet.max_column])}
    assert widths["account_name"] >= len("account_name")
    assert max(widths.values()) <= output.MAX_COLUMN_WIDTH


def test_dates_are_excel_dates(cli, data, tmp_path):
    book = run_to_workbook(cli, tmp_path, "renewals", data, "--days", "365")
    columns = by_header(book.active)
    dates = {c.value for c in columns["renewal_date"]}
    assert dates == {datetime.datetime(2026, 9, 1), datetime.datetime(2027, 6, 26)}
    assert {c.number_format for c in columns["renewal_date"]} == {"yyyy-mm-dd"}
    assert {c.data_type for c in columns["account_id"]} == {"s"}


def test_action_list_dates_and_ids(cli, data, tmp_path):
    book = run_to_workbook(cli, tmp_path, "plays", data, "--dry-run")
    assert book.sheetnames == ["Actions"]
    columns = by_header(book.active)
    assert columns["action_id"] and {c.data_type for c in columns["action_id"]} == {"s"}
    assert all(isinstance(c.value, datetime.datetime) for c in columns["due_date"])
    assert {c.number_format for c in columns["due_date"]} == {"yyyy-mm-dd"}
    assert {c.value for c in columns["account_id"]} <= {"00123", "00456"}


def test_several_tables_get_a_sheet_each(cli, data, tmp_path):
    metrics = run_to_workbook(cli, tmp_path, "metrics", data)
    assert metrics.sheetnames == ["Metrics", "By segment"]
    overall = by_header(metrics["Metrics"])
    assert [c.value for c in overall["metric"]] == ["ttfv", "nrr", "grr", "adoption_rate",
                                                    "expansion_conversion",
                                                    "activity_to_outcome"]
    segments = {c.value for c in by_header(metrics["By segment"])["segment"]}
    assert segments == {"Strategic", "SMB"}
    audit = run_to_workbook(cli, tmp_path, "audit", data)
    assert audit.sheetnames == ["Findings", "Metric definitions", "Export coverage"]


def test_format_xlsx_to_a_terminal_is_refused(monkeypatch):
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdout", Terminal())
    with pytest.raises(UsageError, match="--out FILE.xlsx"):
        output.format_for(None, "xlsx")
    assert output.format_for(None, None) == "table"
    assert output.format_for(output.Path("x.XLSX"), None) == "xlsx"


def test_format_xlsx_piped_writes_the_workbook_to_stdout(cli, data):
    result = cli("health", data, "--as-of", "2026-06-30", "-f", "xlsx", "-q", "--no-save")
    assert result.exit_code == 0, result.output
    book = load_workbook(io.BytesIO(result.stdout_bytes))
    assert book.sheetnames == ["Health"]


def test_refused_over_an_input(cli, data, tmp_path):
    before = (data / "accounts.csv").read_bytes()
    result = cli("health", data, "--as-of", "2026-06-30", "-f", "xlsx",
                 "--out", data / "accounts.csv")
    assert result.exit_code == 2
    assert "would replace it" in result.output
    assert (data / "accounts.csv").read_bytes() == before


def test_written_atomically(tmp_path, monkeypatch):
    target = tmp_path / "report.xlsx"
    target.write_bytes(b"the old workbook")
    os.chmod(target, 0o640)
    workbook = output.xlsx_bytes([("Sheet", output_frame())])
    output.write_bytes(target, workbook)
    assert target.read_bytes() == workbook
    assert oct(target.stat().st_mode & 0o777) == oct(0o640)  # the replaced file's mode

    def full_disk(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(UsageError, match="disk is full"):
        output.write_bytes(target, b"half")
    assert target.read_bytes() == workbook  # the old file, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.xlsx"]  # no temporary


def output_frame():
    import pandas as pd

    return pd.DataFrame({"account_id": ["007"], "arr": [1.5]})


def test_sheet_names_are_valid_and_unique():
    taken: set[str] = set()
    assert output.sheet_title("By segment/owner: [all]?", taken) == "By segment owner   all"
    assert output.sheet_title("x" * 40, taken) == "x" * 31
    assert output.sheet_title("x" * 40, taken) == "x" * 27 + " (2)"


def test_number_formats_by_column_name():
    assert output.number_format("forecast_arr", False) == "#,##0"
    assert output.number_format("renewal_probability", False) == "0.0%"
    assert output.number_format("churn_rate", False) == "0.0%"
    assert output.number_format("usage_score", False) == "0.0"
    assert output.number_format("accounts", True) == "#,##0"
    assert output.number_format("lift", False) == "General"


def test_cells_of_every_kind_read_back():
    import pandas as pd

    frame = pd.DataFrame({
        "account_id": ["00123", "7", None],
        "name": ["a & <b>", "esc\x1bape", "+44 20 7946"],
        "mixed": ["=1+1", 3.5, True],
        "due_date": ["2026-01-02", None, "2026-03-04"],
        "stamp": pd.to_datetime(["2026-01-01 10:30", None, "2026-01-02 00:00"]),
        "open": [True, False, None],
    })
    book = load_workbook(io.BytesIO(output.xlsx_bytes([("Kinds", frame)])))
    cells = [[(c.value, c.data_type) for c in row] for row in book["Kinds"].iter_rows(min_row=2)]
    assert cells == [
        [("00123", "s"), ("a & <b>", "s"), ("=1+1", "s"),
         (datetime.datetime(2026, 1, 2), "d"), (datetime.datetime(2026, 1, 1, 10, 30), "d"),
         (True, "b")],
        # a control character is written as Excel's escape, which Excel shows as the character
        [("7", "s"), ("esc_x001B_ape", "s"), (3.5, "n"), (None, "n"), (None, "n"),
         (False, "b")],
        [(None, "n"), ("+44 20 7946", "s"), (True, "b"), (datetime.datetime(2026, 3, 4), "d"),
         (datetime.datetime(2026, 1, 2), "d"), (None, "n")],
    ]
    formats = [c.number_format for c in book["Kinds"][2]]
    assert formats == ["@", "General", "General", "yyyy-mm-dd", "yyyy-mm-dd hh:mm", "General"]


def test_a_result_without_rows_is_a_header_only_sheet():
    import pandas as pd

    book = load_workbook(io.BytesIO(output.xlsx_bytes(
        [("Findings", pd.DataFrame(columns=["check", "count"]))])))
    assert [[c.value for c in row] for row in book["Findings"].iter_rows()] == [
        ["check", "count"]]


def test_validate_writes_every_problem_to_a_workbook(cli, data, tmp_path):
    write(data, "contracts.csv", CONTRACTS.replace(",8000,", ",eight thousand,"))
    out = tmp_path / "problems.xlsx"
    result = cli("validate", data, "--out", out)
    assert result.exit_code == 2  # the problems are still an error
    book = load_workbook(out)
    assert book.sheetnames == ["Exports", "Problems", "Data errors", "Assumptions"]
    problems = [[c.value for c in row] for row in book["Problems"].iter_rows()]
    assert problems[0] == ["file", "line", "column", "value", "problem", "fix", "code"]
    assert [(p[0].endswith("contracts.csv"), p[1], p[2], p[3], p[6]) for p in problems[1:]] \
        == [(True, 3, "arr", "eight thousand", "not_an_amount")]
    refused = cli("validate", data, "--out", data / "accounts.csv")
    assert refused.exit_code == 2 and "would replace it" in refused.output


def test_a_temporary_folder_that_cannot_be_written_is_an_error(cli, data, tmp_path,
                                                               monkeypatch):
    import tempfile

    from csops_cli.errors import ProblemCode

    gone = tmp_path / "no-such-folder"
    monkeypatch.setattr(tempfile, "tempdir", str(gone))  # where the rows are spooled
    with pytest.raises(UsageError, match=f"temporary folder {gone}") as raised:
        output.xlsx_bytes([("Sheet", output_frame())])
    assert raised.value.code == ProblemCode.UNWRITABLE_OUTPUT
    out = tmp_path / "h.xlsx"
    result = cli("health", data, "--as-of", "2026-06-30", "--out", out, "-q", "--no-save")
    assert result.exit_code == 2
    assert "cannot build the workbook in the temporary folder" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_many_rows_keep_their_order_and_values():
    import pandas as pd

    rows = 25_000  # the rows are written one by one in blocks, each row whole
    frame = pd.DataFrame({"account_id": [f"{n:05d}" for n in range(rows)],
                          "arr": [float(n * 100) for n in range(rows)],
                          "renewal_date": pd.date_range("2026-01-01", periods=rows)})
    sheet = load_workbook(io.BytesIO(output.xlsx_bytes([("Health", frame)])))["Health"]
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(values) == rows
    assert values[0] == ("00000", 0, datetime.datetime(2026, 1, 1))
    assert values[-1] == ("24999", 2499900, datetime.datetime(2094, 6, 12))


def test_no_tables_is_one_empty_sheet():
    assert load_workbook(io.BytesIO(output.xlsx_bytes([]))).sheetnames == ["Empty"]


def test_format_help_names_xlsx(cli):
    result = cli("health", "--help")
    assert "table, csv, json or xlsx" in " ".join(result.output.split())
