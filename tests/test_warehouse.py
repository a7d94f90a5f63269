"""Usage aggregated in the warehouse (`sources: usage: warehouse:`): the same signal table as
the CSV path on the same events, from DuckDB (in-process) and from a real PostgreSQL server
the suite starts itself; clear errors for what can go wrong; no password ever shown."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import FIVE_USAGE, write
from csops_cli.config import default_config_text, parse_config
from csops_cli.errors import ConfigError, InputError, ProblemCode
from csops_cli.loading import load_exports
from csops_cli.signals import build_signals_at

ibis = pytest.importorskip("ibis", reason="the warehouse extra (ibis-framework) is not installed")
duckdb = pytest.importorskip("duckdb", reason="the warehouse-duckdb extra is not installed")

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"
OTHER_EXPORTS = ("accounts.csv", "contracts.csv", "activities.csv", "team.csv")
USAGE_COLUMNS = {"account_id": "VARCHAR", "timestamp": "TIMESTAMPTZ", "user_id": "VARCHAR",
                 "feature": "VARCHAR", "business_unit": "VARCHAR"}


def config_with(folder: Path, usage_source: str) -> Path:
    """The packaged playbooks.yaml with a `sources: usage:` warehouse entry, in ``folder``."""
    path = folder / "playbooks.yaml"
    path.write_text(default_config_text() + "\nsources:\n  usage:\n"
                    + "".join(f"    {line}\n" for line in usage_source.strip().splitlines()),
                    encoding="utf-8")
    return path


def warehouse_folder(source: Path, target: Path, usage_source: str) -> Path:
    """The exports of ``source`` without the usage file, and a config reading the usage from
    the warehouse."""
    target.mkdir(parents=True, exist_ok=True)
    for name in OTHER_EXPORTS:
        if (source / name).exists():
            shutil.copy(source / name, target / name)
    config_with(target, usage_source)
    return target


def duckdb_with(usage_csv: Path, path: Path, table: str = "usage",
                columns: dict[str, str] = USAGE_COLUMNS) -> Path:
    """A DuckDB file holding the usage export as a typed table (time zones read as UTC)."""
    connection = duckdb.connect(str(path))
    connection.execute("SET TimeZone = 'UTC'")
    schema, _, name = table.rpartition(".")
    if schema:
        connection.execute(f"CREATE SCHEMA {schema}")
    connection.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, header = true, "
                       "columns = $columns)".replace("$columns", repr(columns)),
                       [str(usage_csv)])
    connection.close()
    return path


def signal_tables(folder: Path, config_path: Path | None, dates: list[str]) -> dict:
    text = (config_path.read_text(encoding="utf-8") if config_path is not None
            else default_config_text())
    config = parse_config(text)
    exports = load_exports(folder, config)
    return {date: signals.frame for date, signals in build_signals_at(
        exports, config, [pd.Timestamp(d) for d in dates]).items()}


def assert_same_signals(csv_folder: Path, warehouse: Path, dates: list[str]) -> None:
    expected = signal_tables(csv_folder, None, dates)
    actual = signal_tables(warehouse, warehouse / "playbooks.yaml", dates)
    assert list(expected) == list(actual)
    for date in expected:
        pd.testing.assert_frame_equal(actual[date], expected[date], check_exact=True,
                                      obj=f"signals as of {date:%Y-%m-%d}")


def health_json(cli, folder: Path, *extra: str) -> dict:
    result = cli("health", folder, "--format", "json", "--no-save", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- the configuration -----------------------------------------------------------------------

def test_a_warehouse_source_is_read_into_its_model():
    config = parse_config(default_config_text() + """
sources:
  usage:
    warehouse: postgres://csops@db.example.com:5432/events
    table: analytics.events
    columns: {account_id: company_id, date: event_time, feature: event_name}
    where: event_name != 'test'
""")
    source = config.usage_warehouse
    assert source.warehouse == "postgres://csops@db.example.com:5432/events"
    assert source.table == "analytics.events"
    assert (source.columns.account_id, source.columns.date, source.columns.feature,
            source.columns.user_id) == ("company_id", "event_time", "event_name", None)
    assert source.where == "event_name != 'test'"
    assert "usage" not in {table for table, entries in config.sources.items()
                           if isinstance(entries, list)}


@pytest.mark.parametrize(("entry", "code", "message", "fix"), [
    ("warehouse: mysql://db/x\n    table: t", ProblemCode.INVALID_VALUE,
     "sources.usage.warehouse: not a warehouse URL: 'mysql' is not one of postgres",
     "postgres://user@host:5432/db"),
    ("warehouse: postgres://db/x\n    tabel: t", ProblemCode.UNKNOWN_KEY,
     "unknown key 'tabel' at sources.usage.tabel", "did you mean 'table'?"),
    ("warehouse: postgres://db/x\n    table: t\n    columns: {acount_id: x}",
     ProblemCode.UNKNOWN_KEY, "unknown key 'acount_id' at sources.usage.columns.acount_id",
     "did you mean 'account_id'?"),
    ("warehouse: postgres://db/x\n    table: t\n    where: \"feature ==\"",
     ProblemCode.BAD_CONDITION, "sources.usage.where: not a valid condition", None),
])
def test_a_bad_warehouse_source_is_refused_with_its_line(entry, code, message, fix):
    text = default_config_text() + "\nsources:\n  usage:\n    " + entry + "\n"
    first_line = text.splitlines().index("sources:") + 3  # the line after `usage:`
    with pytest.raises(ConfigError) as raised:
        parse_config(text, "p.yaml")
    problem = next(problem for problem in raised.value.problems if problem.code == code)
    assert problem.message.startswith(message)
    assert problem.line is not None and problem.line >= first_line
    if fix:
        assert fix in problem.fix


def test_only_usage_comes_from_a_warehouse():
    with pytest.raises(ConfigError) as raised:
        parse_config(default_config_text()
                     + "\nsources:\n  accounts:\n    warehouse: postgres://db/x\n    table: t\n")
    assert raised.value.problems[0].message == (
        "sources.accounts: only usage can come from a warehouse, not accounts")


# --- DuckDB, in-process ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_duckdb(tmp_path_factory) -> Path:
    return duckdb_with(SAMPLE_DATA / "usage.csv", tmp_path_factory.mktemp("duck") / "ev.db",
                       "analytics.usage")


def test_duckdb_gives_the_signal_table_of_the_csv_files(sample_duckdb, tmp_path):
    folder = warehouse_folder(SAMPLE_DATA, tmp_path / "wh", f"""
warehouse: duckdb:///{sample_duckdb}
table: analytics.usage
""")
    assert_same_signals(SAMPLE_DATA, folder, ["2026-11-20", "2026-10-21", "2026-01-05"])


def test_duckdb_gives_the_health_json_of_the_csv_files(sample_duckdb, tmp_path, cli):
    folder = warehouse_folder(SAMPLE_DATA, tmp_path / "wh", f"""
warehouse: duckdb:///{sample_duckdb}
table: analytics.usage
""")
    assert health_json(cli, folder) == health_json(cli, SAMPLE_DATA)


def test_time_zones_and_the_five_accounts(five, tmp_path):
    """Date-times compare by their UTC date: 002's u9 login at 20:00 -05:00 is on 07-01."""
    database = duckdb_with(five / "usage.csv", tmp_path / "five.db")
    folder = warehouse_folder(five, tmp_path / "wh", f"""
warehouse: duckdb:///{database}
table: usage
""")
    assert_same_signals(five, folder, ["2026-06-30", "2026-06-10", "2026-07-01"])
    june = signal_tables(folder, folder / "playbooks.yaml", ["2026-06-30"])
    frame = next(iter(june.values()))
    assert frame["active_users_30d"].tolist() == [2, 2, 1, 0, 0]
    assert frame["logins_30d"].tolist() == [1, 2, 0, 0, 0]


def test_columns_are_mapped_and_the_where_keeps_rows(five, tmp_path):
    """Renamed columns, and a `where` translated node by node: rows it drops are as if not
    in the export (compared with the CSV without them)."""
    rows = pd.read_csv(five / "usage.csv", dtype=str)
    renamed = rows.rename(columns={"account_id": "Company", "timestamp": "event_time",
                                   "feature": "Event", "user_id": "who",
                                   "business_unit": "unit"})
    renamed["source"] = np.where(rows["user_id"] == "u2", "Test", "web")
    renamed.to_csv(tmp_path / "renamed.csv", index=False)
    connection = duckdb.connect(str(tmp_path / "renamed.db"))
    connection.execute("CREATE TABLE events AS SELECT * FROM read_csv(?, header = true, "
                       "all_varchar = true)", [str(tmp_path / "renamed.csv")])
    connection.close()
    folder = warehouse_folder(five, tmp_path / "wh", f"""
warehouse: duckdb:///{tmp_path / "renamed.db"}
table: events
columns: {{account_id: Company, date: event_time, feature: Event, user_id: who,
           business_unit: unit}}
where: source != 'test' and not (Event in ['ALERTS'] and who == null)
""")
    kept = five.parent / "kept"
    kept.mkdir()
    for name in OTHER_EXPORTS:
        if (five / name).exists():
            shutil.copy(five / name, kept / name)
    rows[rows["user_id"] != "u2"].to_csv(kept / "usage.csv", index=False)
    assert_same_signals(kept, folder, ["2026-06-30", "2026-07-01"])


@pytest.mark.parametrize(("where", "message"), [
    ("sorce != 'x'", "unknown column 'sorce' in the warehouse table"),
    ("add_months(event_time, 1) > '2026-01-01'", "add_months(...) is not available"),
    ("Event > 3", "cannot compare text with number"),
])
def test_a_where_the_warehouse_cannot_use_is_refused(five, tmp_path, cli, where, message):
    rows = pd.read_csv(five / "usage.csv", dtype=str).rename(
        columns={"feature": "Event", "timestamp": "event_time"})
    rows["source"] = "web"
    rows.to_csv(tmp_path / "u.csv", index=False)
    connection = duckdb.connect(str(tmp_path / "u.db"))
    connection.execute("CREATE TABLE events AS SELECT * FROM read_csv(?, header = true)",
                       [str(tmp_path / "u.csv")])
    connection.close()
    folder = warehouse_folder(five, tmp_path / "wh", f"""
warehouse: duckdb:///{tmp_path / "u.db"}
table: events
columns: {{date: event_time, feature: Event}}
where: "{where}"
""")
    result = cli("health", folder, "--no-save")
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "sources.usage.where" in result.output
    assert "Traceback" not in result.output


def test_a_missing_table_or_column_is_named(sample_duckdb, tmp_path, cli):
    folder = warehouse_folder(SAMPLE_DATA, tmp_path / "wh", f"""
warehouse: duckdb:///{sample_duckdb}
table: analytics.usage_events
""")
    result = cli("health", folder, "--no-save")
    assert result.exit_code == 2
    assert "no table 'analytics.usage_events' in the warehouse" in result.output
    config_with(folder, f"""
warehouse: duckdb:///{sample_duckdb}
table: analytics.usage
columns: {{account_id: company_id}}
""")
    result = cli("health", folder, "--no-save")
    assert result.exit_code == 2
    assert "no column 'company_id' (for account_id) in the table" in result.output
    assert ("columns of analytics.usage: account_id, timestamp, user_id, feature, "
            "business_unit") in " ".join(result.output.split())


def test_a_missing_database_file_is_not_created(tmp_path, cli):
    folder = warehouse_folder(SAMPLE_DATA, tmp_path / "wh", f"""
warehouse: duckdb:///{tmp_path / "nowhere.db"}
table: usage
""")
    result = cli("health", folder, "--no-save")
    assert result.exit_code == 2
    assert f"no DuckDB database at {tmp_path / 'nowhere.db'}" in result.output
    assert not (tmp_path / "nowhere.db").exists()


def test_a_missing_driver_names_the_extra_to_install(tmp_path, cli, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "psycopg" else real(name, *args))
    folder = warehouse_folder(SAMPLE_DATA, tmp_path / "wh", """
warehouse: postgres://csops@localhost:5432/events
table: usage
""")
    result = cli("health", folder, "--no-save")
    assert result.exit_code == 2
    assert "the postgres driver (psycopg) is not installed" in result.output
    assert "pip install 'csops-cli[warehouse-postgres]'" in result.output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_no_connection_is_a_clear_error_without_the_password(tmp_path, cli, monkeypatch):
    pytest.importorskip("psycopg", reason="the warehouse-postgres extra is not installed")
    monkeypatch.setenv("WAREHOUSE_SECRET", "s3cr3t-from-env")
    port = free_port()  # nothing listens there
    for url in (f"postgres://csops:hunter2-in-url@127.0.0.1:{port}/events",
                f"postgres://csops:${{WAREHOUSE_SECRET}}@127.0.0.1:{port}/events"):
        folder = warehouse_folder(SAMPLE_DATA, tmp_path / "wh", f"""
warehouse: {url}
table: usage
""")
        result = cli("health", folder, "--no-save")
        assert result.exit_code == 2, result.output
        assert "cannot connect to the warehouse" in result.output
        assert f"postgres://csops:***@127.0.0.1:{port}/events" in result.output
        assert "hunter2" not in result.output
        assert "s3cr3t" not in result.output
        assert "Traceback" not in result.output


def test_an_unset_variable_in_the_url_is_named(tmp_path, cli, monkeypatch):
    monkeypatch.delenv("CSOPS_NO_SUCH_VARIABLE", raising=False)
    folder = warehouse_folder(SAMPLE_DATA, tmp_path / "wh", """
warehouse: postgres://csops:${CSOPS_NO_SUCH_VARIABLE}@localhost/events
table: usage
""")
    result = cli("health", folder, "--no-save")
    assert result.exit_code == 2
    assert "environment variable CSOPS_NO_SUCH_VARIABLE is not set" in result.output


def test_masked_urls():
    from csops_cli.usage.warehouse import masked

    assert masked("postgres://ann:pw@db:5432/x") == "postgres://ann:***@db:5432/x"
    assert masked("postgres://ann@db/x") == "postgres://ann@db/x"
    assert masked("snowflake://ann:p%40ss@acct/db/schema?warehouse=wh") == (
        "snowflake://ann:***@acct/db/schema?warehouse=wh")


# --- a real PostgreSQL server ------------------------------------------------------------------

def _server_binaries() -> Path | None:
    found = shutil.which("initdb")
    candidates = ([found] if found else []) + sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    for initdb in candidates:
        if Path(initdb).with_name("pg_ctl").exists():
            return Path(initdb).parent
    return None


def _unavailable(reason: str):
    if os.environ.get("CSOPS_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"CSOPS_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


class Postgres:
    def __init__(self, port: int):
        self.port = port
        self.url = f"postgres://csops@127.0.0.1:{port}/csops"

    def connect(self, database: str = "csops"):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user="csops",
                               dbname=database, options="-c TimeZone=UTC", autocommit=True)

    def load_usage(self, usage_csv: Path, table: str) -> None:
        """The usage export into a typed table, with COPY."""
        from psycopg import sql

        schema, _, name = table.rpartition(".")
        target = sql.Identifier(schema, name) if schema else sql.Identifier(name)
        with self.connect() as connection, connection.cursor() as cursor:
            if schema:
                cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(schema)))
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
            cursor.execute(sql.SQL("CREATE TABLE {} (account_id text, timestamp timestamptz, "
                                   "user_id text, feature text, business_unit text)"
                                   ).format(target))
            copy = sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv, HEADER true)").format(target)
            with cursor.copy(copy) as writer, usage_csv.open("rb") as source:
                while block := source.read(1 << 20):
                    writer.write(block)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of the suite's own, in a temporary folder, on a free local port;
    stopped at the end. As root the server runs as nobody (initdb refuses root)."""
    pytest.importorskip("psycopg", reason="the warehouse-postgres extra is not installed")
    binaries = _server_binaries()
    if binaries is None:
        _unavailable("no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in "
                     "/usr/lib/postgresql/*/bin: apt-get install postgresql")
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="csops-pg-"))
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            shutil.rmtree(base)
            _unavailable("running as root without runuser: initdb refuses root")
        import pwd

        nobody = pwd.getpwnam("nobody")
        os.chown(base, nobody.pw_uid, nobody.pw_gid)
        as_user = [runuser, "-u", "nobody", "--"]
    data, port = base / "data", free_port()

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, cwd=base)

    started = False
    try:
        run(str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "csops",
            "-E", "UTF8", "--no-sync", "--no-locale")
        run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w",
            "-o", f"-k {base} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        started = True
        server = Postgres(port)
        import psycopg

        for attempt in range(50):
            try:
                with server.connect("postgres") as connection:
                    connection.execute("CREATE DATABASE csops")
                break
            except psycopg.OperationalError:  # still starting
                if attempt == 49:
                    raise
                time.sleep(0.1)
        yield server
    except subprocess.CalledProcessError as error:
        _unavailable(f"the PostgreSQL server did not start: {error.stderr.decode()[-300:]}")
    finally:
        if started:
            run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def sample_postgres(postgres) -> Postgres:
    postgres.load_usage(SAMPLE_DATA / "usage.csv", "analytics.usage")
    return postgres


def test_postgres_gives_the_signal_table_of_the_csv_files(sample_postgres, tmp_path):
    folder = warehouse_folder(SAMPLE_DATA, tmp_path / "wh", f"""
warehouse: {sample_postgres.url}
table: analytics.usage
""")
    assert_same_signals(SAMPLE_DATA, folder, ["2026-11-20", "2026-10-21", "2026-01-05"])


def test_postgres_duckdb_and_csv_give_the_same_health_json(sample_postgres, sample_duckdb,
                                                           tmp_path, cli):
    from_postgres = warehouse_folder(SAMPLE_DATA, tmp_path / "pg", f"""
warehouse: {sample_postgres.url}
table: analytics.usage
""")
    from_duckdb = warehouse_folder(SAMPLE_DATA, tmp_path / "duck", f"""
warehouse: duckdb:///{sample_duckdb}
table: analytics.usage
""")
    expected = health_json(cli, SAMPLE_DATA)
    assert health_json(cli, from_postgres) == expected
    assert health_json(cli, from_duckdb) == expected


def test_postgres_time_zones_and_a_missing_table(postgres, five, tmp_path, cli):
    postgres.load_usage(five / "usage.csv", "five_usage")
    folder = warehouse_folder(five, tmp_path / "wh", f"""
warehouse: {postgres.url}
table: five_usage
""")
    assert_same_signals(five, folder, ["2026-06-30", "2026-06-10", "2026-07-01"])
    config_with(folder, f"""
warehouse: {postgres.url}
table: public.no_such_table
""")
    result = cli("health", folder, "--no-save")
    assert result.exit_code == 2
    assert "no table 'public.no_such_table' in the warehouse" in result.output


# --- a million events ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def million(tmp_path_factory) -> Path:
    from csops_cli.sample import generate

    folder = tmp_path_factory.mktemp("million")
    generate(folder, accounts=2_500, seed=11, as_of=pd.Timestamp("2026-11-20"),
             events=1_000_000)
    return folder


@pytest.mark.slow
def test_a_million_events_in_duckdb(million, tmp_path):
    database = duckdb_with(million / "usage.csv", tmp_path / "million.db")
    folder = warehouse_folder(million, tmp_path / "wh", f"""
warehouse: duckdb:///{database}
table: usage
""")
    assert_same_signals(million, folder, ["2026-11-20", "2026-10-21"])


@pytest.mark.slow
def test_a_million_events_in_postgres(postgres, million, tmp_path):
    postgres.load_usage(million / "usage.csv", "million_usage")
    folder = warehouse_folder(million, tmp_path / "wh", f"""
warehouse: {postgres.url}
table: million_usage
""")
    assert_same_signals(million, folder, ["2026-11-20", "2026-10-21"])


def test_the_usage_file_is_not_read_when_the_warehouse_holds_it(sample_duckdb, tmp_path):
    """A usage export left in the folder is not the usage: the warehouse is."""
    folder = warehouse_folder(SAMPLE_DATA, tmp_path / "wh", f"""
warehouse: duckdb:///{sample_duckdb}
table: analytics.usage
""")
    write(folder, "usage.csv", FIVE_USAGE)
    config = parse_config((folder / "playbooks.yaml").read_text(encoding="utf-8"))
    exports = load_exports(folder, config)
    assert exports.usage.warehouse is not None
    assert exports.usage.rows == 120_003
    assert exports.usage.paths == []


def test_errors_are_input_errors(tmp_path):
    config = parse_config(default_config_text() + f"""
sources:
  usage:
    warehouse: duckdb:///{tmp_path / "none.db"}
    table: usage
""")
    with pytest.raises(InputError) as raised:
        load_exports(SAMPLE_DATA, config)
    assert raised.value.problems[0].code == ProblemCode.WAREHOUSE_UNREACHABLE


def test_a_business_unit_is_new_only_for_usage_older_than_the_window(five, tmp_path):
    """As of 06-30 the window starts 06-01: 004's usage starts that very day, so its second
    unit is not new (its usage is not older than the window); 005's usage is older."""
    with (five / "usage.csv").open("a", encoding="utf-8") as usage:
        usage.write("004,2026-06-01 08:00,u1,login,Ops\n004,2026-06-20,u1,login,Sales\n"
                    "005,2026-05-31 23:59,u1,login,Ops\n005,2026-06-20,u1,login,Sales\n")
    database = duckdb_with(five / "usage.csv", tmp_path / "five.db")
    folder = warehouse_folder(five, tmp_path / "wh", f"""
warehouse: duckdb:///{database}
table: usage
""")
    june = next(iter(signal_tables(folder, folder / "playbooks.yaml", ["2026-06-30"]).values()))
    assert june["new_business_unit"].tolist() == [True, False, False, False, True]
    assert_same_signals(five, folder, ["2026-06-30"])


def test_an_explicit_usage_file_wins_over_the_warehouse(tmp_path, cli):
    folder = warehouse_folder(SAMPLE_DATA, tmp_path / "wh", f"""
warehouse: duckdb:///{tmp_path / "none.db"}
table: usage
""")
    assert health_json(cli, folder, "--usage", SAMPLE_DATA / "usage.csv") == health_json(
        cli, SAMPLE_DATA)


def without_usage_examples(audit: dict) -> dict:
    """The audit with usage findings' examples reduced to what a table in the warehouse can
    show: no file line, and the examples of rows after a date (shown latest first there,
    in file order from a file) left out."""
    for finding in audit["findings"]:
        if finding["check"].endswith("_usage"):
            finding["examples"] = ([example["detail"] for example in finding["examples"]]
                                   if finding["check"] == "orphan_usage" else [])
    return audit


def test_the_audit_reads_usage_rows_from_the_warehouse(sample_duckdb, tmp_path, cli):
    folder = warehouse_folder(SAMPLE_DATA, tmp_path / "wh", f"""
warehouse: duckdb:///{sample_duckdb}
table: analytics.usage
""")
    for as_of in ("2026-11-20", "2026-10-01"):
        from_csv = cli("audit", SAMPLE_DATA, "--format", "json", "--as-of", as_of)
        from_warehouse = cli("audit", folder, "--format", "json", "--as-of", as_of)
        assert from_warehouse.exit_code == from_csv.exit_code, from_warehouse.output
        expected = without_usage_examples(json.loads(from_csv.stdout))
        actual = without_usage_examples(json.loads(from_warehouse.stdout))
        assert actual == expected
        checks = {finding["check"]: finding for finding in actual["findings"]}
        assert checks["orphan_usage"]["count"] == 3
        assert checks["orphan_usage"]["examples"] == ["account_id A99999"] * 3
    assert checks["future_usage"]["count"] > 0  # as of 10-01: the rows after it, counted


def test_validate_checks_the_warehouse_table(sample_duckdb, tmp_path, cli):
    folder = warehouse_folder(SAMPLE_DATA, tmp_path / "wh", f"""
warehouse: duckdb:///{sample_duckdb}
table: analytics.usage
columns: {{date: timestamp}}
""")
    result = cli("validate", folder)
    assert result.exit_code == 0, result.output
    usage = next(line for line in result.output.splitlines() if line.startswith("│ usage"))
    assert [cell.strip() for cell in usage.split("│")[2:6]] == [
        "analytics.usage (warehouse)", "120,003", "warehouse",
        "account_id, timestamp, user_id, feature, business_unit"]
    config_with(folder, f"""
warehouse: duckdb:///{sample_duckdb}
table: analytics.usage
columns: {{feature: event}}
""")
    result = cli("validate", folder)
    assert result.exit_code == 2
    assert "no column 'event' (for feature) in the table" in result.output


def test_a_lost_connection_is_a_clear_error(sample_postgres, tmp_path, default_config):
    """The server ends the session between two queries: an InputError naming the warehouse,
    no traceback of the driver's."""
    from csops_cli.usage.warehouse import WarehouseUsage

    config = parse_config(default_config_text() + f"""
sources:
  usage:
    warehouse: {sample_postgres.url}
    table: analytics.usage
""")
    usage = WarehouseUsage(config.usage_warehouse, config.label)
    usage.check()
    process = usage.connection.con.info.backend_pid
    with sample_postgres.connect() as connection:
        connection.execute("SELECT pg_terminate_backend(%s)", [process])
    with pytest.raises(InputError) as raised:
        _ = usage.day_rows
    problem = raised.value.problems[0]
    assert problem.code == ProblemCode.WAREHOUSE_UNREACHABLE
    assert problem.message.startswith("the warehouse query failed")
    assert raised.value.message.startswith(f"{sample_postgres.url}: ")


def test_first_value_is_on_or_after_the_onboarding_start(five, tmp_path):
    """003's onboarding starts 2026-06-25 (its first contract's signed_date): dashboards used
    on 06-01, before it, are not its first value; those of 06-30 are."""
    with (five / "usage.csv").open("a", encoding="utf-8") as usage:
        usage.write("003,2026-06-01,u1,dashboards,HR\n")
    database = duckdb_with(five / "usage.csv", tmp_path / "five.db")
    folder = warehouse_folder(five, tmp_path / "wh", f"""
warehouse: duckdb:///{database}
table: usage
""")
    june = next(iter(signal_tables(folder, folder / "playbooks.yaml", ["2026-06-30"]).values()))
    assert june.loc["003", "first_value_date"] == pd.Timestamp("2026-06-30")
    assert_same_signals(five, folder, ["2026-06-30", "2026-06-29"])


def test_problems_name_the_line_of_the_config(sample_duckdb, tmp_path):
    folder = warehouse_folder(SAMPLE_DATA, tmp_path / "wh", f"""
warehouse: duckdb:///{sample_duckdb}
table: analytics.usage
columns:
  account_id: company_id
where: sorce == 'web'
""")
    text = (folder / "playbooks.yaml").read_text(encoding="utf-8").splitlines()
    line_of = {key: text.index(line) + 1 for line in text
               for key in ("account_id: company_id", "where: sorce")
               if line.strip().startswith(key)}
    config = parse_config("\n".join(text), "playbooks.yaml")
    with pytest.raises(InputError) as raised:
        load_exports(folder, config)
    problem = raised.value.problems[0]
    assert (problem.file, problem.line, problem.column, problem.value) == (
        "playbooks.yaml", line_of["account_id: company_id"], "sources.usage.columns.account_id",
        "company_id")
    config_with(folder, f"""
warehouse: duckdb:///{sample_duckdb}
table: analytics.usage
where: sorce == 'web'
""")
    text = (folder / "playbooks.yaml").read_text(encoding="utf-8")
    line_of["where: sorce"] = text.splitlines().index("    where: sorce == 'web'") + 1
    with pytest.raises(ConfigError) as raised:
        load_exports(folder, parse_config(text, "playbooks.yaml"))
    problem = raised.value.problems[0]
    assert (problem.line, problem.column, problem.code) == (
        line_of["where: sorce"], "sources.usage.where", ProblemCode.BAD_CONDITION)
    assert problem.message == ("sources.usage.where: unknown column 'sorce' in the warehouse "
                               "table ← here at column 1")
    assert problem.fix.startswith("columns: account_id, timestamp")


def test_no_core_features_and_no_login_events(five, tmp_path):
    """Empty lists in the config select nothing, not the rows with a blank feature."""
    with (five / "usage.csv").open("a", encoding="utf-8") as usage:
        usage.write("001,2026-06-20,u5,,Finance\n001,2026-06-21,u5,  ,Finance\n")
    database = duckdb_with(five / "usage.csv", tmp_path / "five.db")
    folder = warehouse_folder(five, tmp_path / "wh", f"""
warehouse: duckdb:///{database}
table: usage
""")
    text = (folder / "playbooks.yaml").read_text(encoding="utf-8")
    text = text.replace("  core_features: [dashboards, reports, integrations, automations, "
                        "alerts]", "  core_features: []").replace(
        "  login_events: [login, session_start]", "  login_events: []")
    assert "core_features: []" in text and "login_events: []" in text
    (folder / "playbooks.yaml").write_text(text, encoding="utf-8")
    (five / "playbooks.yaml").write_text(text.split("\nsources:")[0], encoding="utf-8")
    expected = signal_tables(five, five / "playbooks.yaml", ["2026-06-30"])
    actual = signal_tables(folder, folder / "playbooks.yaml", ["2026-06-30"])
    for date, frame in expected.items():
        pd.testing.assert_frame_equal(actual[date], frame, check_exact=True)
        assert frame["logins_30d"].tolist() == [0, 0, 0, 0, 0]
        assert frame["first_value_date"].isna().all()


# --- daily roll-ups: count and active_users ----------------------------------------------------

# one row per account, day and feature; as of 2026-06-30 the window is 06-01..06-30
ROLLUPS = """
account_id,timestamp,feature,count,active_users
001,2026-06-30,login,3,2
001,2026-06-15,reports,2,4
001,2026-05-20,dashboards,1,9
002,2026-06-10,login,5,
002,2026-06-11,integrations,1,3
003,2026-06-30,dashboards,1,1
004,2026-07-01,login,1,7
"""
ROLLUP_COLUMNS = {"account_id": "VARCHAR", "timestamp": "DATE", "feature": "VARCHAR",
                  "count": "INTEGER", "active_users": "INTEGER"}


def rollups_folder(five: Path) -> Path:
    write(five, "usage.csv", ROLLUPS)
    return five


def test_daily_rollups_in_duckdb_give_the_csv_files_signals(five, tmp_path):
    folder = rollups_folder(five)
    database = duckdb_with(folder / "usage.csv", tmp_path / "rollups.db", "rollups",
                           ROLLUP_COLUMNS)
    warehouse = warehouse_folder(folder, tmp_path / "wh", f"""
warehouse: duckdb:///{database}
table: rollups
""")
    assert_same_signals(folder, warehouse, ["2026-06-30", "2026-07-01", "2026-06-12"])
    june = next(iter(signal_tables(warehouse, warehouse / "playbooks.yaml",
                                   ["2026-06-30"]).values()))
    # worked out by hand: the busiest day of the window (a blank is none), the logins summed
    assert june["active_users_30d"].tolist() == [4, 3, 1, 0, 0]
    assert june["logins_30d"].tolist() == [3, 5, 0, 0, 0]


def test_daily_rollups_in_postgres_give_the_csv_files_signals(postgres, five, tmp_path):
    from psycopg import sql

    folder = rollups_folder(five)
    with postgres.connect() as connection, connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS rollups")
        cursor.execute(sql.SQL("CREATE TABLE rollups ({})").format(sql.SQL(", ").join(
            sql.SQL(f"{{}} {kind}").format(sql.Identifier(name))
            for name, kind in ROLLUP_COLUMNS.items())))
        copy = "COPY rollups FROM STDIN WITH (FORMAT csv, HEADER true)"
        with cursor.copy(copy) as writer:
            writer.write((folder / "usage.csv").read_bytes())
    warehouse = warehouse_folder(folder, tmp_path / "wh", f"""
warehouse: {postgres.url}
table: rollups
columns: {{date: timestamp, active_users: active_users}}
""")
    assert_same_signals(folder, warehouse, ["2026-06-30", "2026-07-01", "2026-06-12"])
