"""Fuzzing: the CSV loader, the money and date parsers, only ever fail with the project's own
errors, and a CSV that csops writes reads back to what was written."""

import csv
import io
import string

import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from csops_cli.config import default_config_text, parse_config
from csops_cli.errors import CsopsError
from csops_cli.loading import load_table
from csops_cli.loading.values import parse_dates, parse_money, parse_number
from csops_cli.output import csv_text

CONFIG = parse_config(default_config_text())
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_load_or_raise_the_projects_error(tmp_path, data):
    path = tmp_path / "accounts.csv"
    path.write_bytes(data)
    try:
        load_table("accounts", path, CONFIG)
    except CsopsError:
        pass


cells = st.text(alphabet=string.printable + "éü€£¥–“”\u00a0", max_size=20)


@FUZZ
@given(st.lists(st.tuples(cells, cells, cells), min_size=1, max_size=8))
def test_well_formed_csv_with_odd_values(tmp_path, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["account_id", "account_name", "note"])
    writer.writerows(rows)
    path = tmp_path / "accounts.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    try:
        table = load_table("accounts", path, CONFIG)
    except CsopsError:
        return
    for column in ("account_id", "account_name"):
        assert table.frame[column].notna().all()


@FUZZ
@given(st.lists(st.tuples(st.text(alphabet=string.ascii_letters + string.digits + " -_.",
                                  min_size=1, max_size=12),
                          st.text(alphabet=string.printable, min_size=1, max_size=30)),
                min_size=1, max_size=10))
def test_a_written_csv_reads_back_to_what_was_written(tmp_path, rows):
    rows = [(i.strip() or "x", n) for i, n in rows]
    frame = pd.DataFrame(rows, columns=["account_id", "account_name"])
    path = tmp_path / "accounts.csv"
    path.write_text(csv_text(frame), encoding="utf-8")
    try:
        table = load_table("accounts", path, CONFIG)
    except CsopsError:
        # only a name that is blank once stripped may be refused (a required value)
        assert any(not n.strip() or not n.strip("'").strip() for _, n in rows)
        return
    names = table.frame["account_name"].tolist()
    expected = []
    for _, name in rows:
        shown = "'" + name if name.startswith(("=", "+", "-", "@", "\t", "\r", "\n")) else name
        expected.append(shown.strip())
    assert names == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=25), st.none()), max_size=20))
@example(["\U00010d30"])  # a digit outside ASCII: "\\d" matches it, pandas cannot read it
@example(["\u0663", "12\u0664"])
def test_parsers_never_raise(values):
    series = pd.Series(values, dtype="string")
    for parse in (parse_money, parse_number, lambda s: parse_dates(s, False),
                  lambda s: parse_dates(s, True)):
        parsed, bad = parse(series)
        assert len(parsed) == len(bad) == len(series)
        assert not (bad & series.isna()).any()  # a missing cell is never "bad"


@given(st.decimals(min_value=-10**9, max_value=10**9, places=2))
def test_money_round_trips_through_export_formats(amount):
    value = float(amount)
    grouped = f"{abs(value):,.2f}"
    for text in (f"{value:.2f}", f"${grouped}" if value >= 0 else f"(${grouped})",
                 f"USD {grouped}" if value >= 0 else f"-USD {grouped}"):
        parsed, bad = parse_money(pd.Series([text], dtype="string"))
        assert not bad.iloc[0], text
        assert parsed.iloc[0] == round(value, 2), text
