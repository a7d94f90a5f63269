"""The warehouse backend: the usage aggregation pushed down into the engine that holds the
events (PostgreSQL, DuckDB, Snowflake, BigQuery, Trino, Databricks/Spark), through ibis.

The expressions are built from the validated config (``sources: usage: warehouse:``) and the
parsed ``where`` tree, node by node; table and column names go through ibis as identifiers, and
no user text ever becomes SQL. Only per-account rows come back, as Arrow: a few queries, each
one pass over the table, whatever the number of as_of days.

Credentials stay out of the config: ``${NAME}`` in the URL is read from the environment (or the
driver reads its own variables, such as ``PGPASSWORD``), and every message shows the URL with
its password masked.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from ..condition_syntax import (
    ARITHMETIC,
    COMPARISONS,
    NOT_CONSTANT,
    SYMBOLS,
    ConditionError,
    column_of,
    constant,
    parse,
)
from ..errors import ConfigError, InputError, Problem, ProblemCode
from ..loading.tables import Table
from .rules import UsageAggregates, UsageQuery

if TYPE_CHECKING:
    import pyarrow as pa

    from ..config import Config, WarehouseSource


@dataclass(frozen=True)
class Engine:
    backend: str  # the ibis backend
    extra: str  # the csops-cli extra that installs its driver
    driver: str  # the driver module


ENGINES = {
    "postgres": Engine("postgres", "warehouse-postgres", "psycopg"),
    "postgresql": Engine("postgres", "warehouse-postgres", "psycopg"),
    "duckdb": Engine("duckdb", "warehouse-duckdb", "duckdb"),
    "snowflake": Engine("snowflake", "warehouse-snowflake", "snowflake.connector"),
    "bigquery": Engine("bigquery", "warehouse-bigquery", "google.cloud.bigquery"),
    "trino": Engine("trino", "warehouse-trino", "trino"),
    "databricks": Engine("databricks", "warehouse-databricks", "databricks.sql"),
    "pyspark": Engine("pyspark", "warehouse-pyspark", "pyspark"),
}
CONNECT_TIMEOUT_SECONDS = 15
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def masked(url: str) -> str:
    """The URL as it may be shown: a password replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


class WarehouseUsage:
    """A usage table in a warehouse: connected on first use, checked against the config."""

    def __init__(self, source: WarehouseSource, label: str,
                 lines: dict[str, int] | None = None):
        self.source = source
        self.label = label  # the config file, for messages
        self.lines = lines or {}  # "sources.usage.<key>" -> its line in the config file
        self.scheme = source.warehouse.partition("://")[0].lower()
        self.engine = ENGINES[self.scheme]
        self.shown_url = masked(source.warehouse)

    # --- connecting -------------------------------------------------------------------------

    def _url(self) -> str:
        """The URL with ``${NAME}`` filled in from the environment."""
        def value(match: re.Match) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(
                    f"{self.label}: sources.usage.warehouse names ${{{name}}}, which is not "
                    "set in the environment", [Problem(
                        self.label, f"environment variable {name} is not set",
                        line=self._line("warehouse"), column="sources.usage.warehouse",
                        value=self.shown_url,
                        fix=f"export {name}=... before running csops",
                        code=ProblemCode.INVALID_VALUE)])
            return os.environ[name]
        return _VARIABLE.sub(value, self.source.warehouse)

    def _secret_free(self, text: str, url: str) -> str:
        """A driver's message without the password, should it quote the URL."""
        password = urlsplit(url).password
        text = text.replace(url, masked(url))
        return text.replace(password, "***") if password else text

    def _line(self, key: str) -> int | None:
        """The line of ``sources.usage.<key>`` in the config file (else of the nearest key
        above it that is written there)."""
        while f"sources.usage.{key}" not in self.lines and "." in key:
            key = key.rsplit(".", 1)[0]
        return self.lines.get(f"sources.usage.{key}",
                              self.lines.get("sources.usage.warehouse"))

    def _error(self, message: str, fix: str, code: ProblemCode, detail: str | None = None,
               key: str = "warehouse") -> InputError:
        shown = f"{message}: {detail}" if detail else message
        value = self.shown_url if key == "warehouse" else self.source.table
        return InputError(f"{self.shown_url}: {message}", [Problem(
            self.label, shown, line=self._line(key), column=f"sources.usage.{key}",
            value=value, fix=fix, code=code)])

    @cached_property
    def connection(self) -> Any:
        engine = self.engine
        install = f"pip install 'csops-cli[{engine.extra}]'"
        if importlib.util.find_spec("ibis") is None:
            raise self._error("the warehouse backend is not installed", install,
                              ProblemCode.MISSING_DRIVER)
        if importlib.util.find_spec(engine.driver.split(".")[0]) is None:
            raise self._error(f"the {engine.backend} driver ({engine.driver}) is not installed",
                              install, ProblemCode.MISSING_DRIVER)
        import ibis

        url = self._url()
        driver_errors = self._driver_errors()
        try:
            if engine.backend == "duckdb":
                return self._duckdb(ibis, url)
            if engine.backend == "postgres":
                # dates of time-zone-aware timestamps are taken in UTC
                return ibis.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                    options="-c TimeZone=UTC")
            return ibis.connect(url)
        except driver_errors as error:
            raise self._error("cannot connect to the warehouse", _connect_fix(self.scheme),
                              ProblemCode.WAREHOUSE_UNREACHABLE,
                              self._secret_free(_first_line(error), url)) from None
        except (ValueError, TypeError) as error:  # ibis refusing the URL's shape
            raise self._error("not a usable warehouse URL", _connect_fix(self.scheme),
                              ProblemCode.WAREHOUSE_UNREACHABLE,
                              self._secret_free(_first_line(error), url)) from None

    def _duckdb(self, ibis, url: str):
        path = Path(urlsplit(url).path if url.startswith("duckdb:///") else
                    url.removeprefix("duckdb://"))
        if url.startswith("duckdb:////"):
            path = Path("/" + str(path).lstrip("/"))
        if not path.is_file():
            raise self._error(f"no DuckDB database at {path}",
                              "check the path after duckdb:/// (three slashes, then the path)",
                              ProblemCode.WAREHOUSE_UNREACHABLE)
        connection = ibis.duckdb.connect(str(path), read_only=True)
        connection.raw_sql("SET TimeZone = 'UTC'")  # dates of time-zone-aware timestamps
        return connection

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        """The exceptions a driver raises for a connection or query that fails."""
        from ibis.common.exceptions import IbisError

        return (IbisError, OSError, *_driver_error(self.engine.backend))

    def _run(self, expression) -> pa.Table:
        """One query; a connection lost or timed out is the warehouse's, not a bug."""
        try:
            return expression.to_pyarrow()
        except self._driver_errors() as error:
            raise self._error("the warehouse query failed", "check the connection and run "
                              "the command again", ProblemCode.WAREHOUSE_UNREACHABLE,
                              self._secret_free(_first_line(error), self._url())) from None

    # --- the table ----------------------------------------------------------------------------

    @cached_property
    def table(self):
        from ibis.common.exceptions import TableNotFound

        schema, _, name = self.source.table.rpartition(".")
        try:
            return self.connection.table(name, database=schema or None)
        except TableNotFound:
            raise self._error(f"no table '{self.source.table}' in the warehouse",
                              "check `table:` in sources.usage (schema.table)",
                              ProblemCode.MISSING_TABLE, key="table") from None
        except self._driver_errors() as error:
            raise self._error(f"cannot read table '{self.source.table}'",
                              "check `table:` in sources.usage and the user's rights",
                              ProblemCode.MISSING_TABLE, _first_line(error),
                              key="table") from None

    @cached_property
    def columns(self) -> dict[str, str | None]:
        """Canonical usage column -> the table's column (None: absent)."""
        existing = list(self.table.columns)
        by_lower = {name.lower(): name for name in existing}
        mapped: dict[str, str | None] = {}
        problems = []
        for canonical, named in self.source.columns.model_dump().items():
            if named is None:  # optional, not named: a column of the canonical name, if any
                mapped[canonical] = by_lower.get(canonical)
                continue
            found = named if named in existing else by_lower.get(named.lower())
            if found is None:
                problems.append(Problem(
                    self.label, f"no column '{named}' (for {canonical}) in the table "
                    f"{self.source.table}", line=self._line(f"columns.{canonical}"),
                    column=f"sources.usage.columns.{canonical}", value=named,
                    fix=f"columns of {self.source.table}: {', '.join(existing)}",
                    code=ProblemCode.MISSING_COLUMN))
            mapped[canonical] = found
        if problems:
            raise InputError(f"{self.source.table}: {len(problems)} column(s) not found",
                             problems)
        return mapped

    @cached_property
    def events(self):
        """The usage as canonical columns: account, day, user, feature, unit, weight; rows
        the ``where`` keeps."""
        import ibis

        table = self.table
        columns = self.columns
        if self.source.where:
            table = table.filter(self._where(table))
        day = table[columns["date"]]
        if day.type().is_string():  # an offset written in the text is kept: UTC dates
            day = day.cast("timestamp('UTC')")
        if day.type().is_timestamp():
            day = day.date()
        elif not day.type().is_date():
            raise InputError(f"{self.source.table}: the date column is not a date", [Problem(
                self.label, f"column '{columns['date']}' holds {day.type()}, not dates",
                line=self._line("columns.date"), column="sources.usage.columns.date",
                value=columns["date"],
                fix="name a date or timestamp column", code=ProblemCode.NOT_A_DATE)])
        fields: dict[str, Any] = {
            "account": table[columns["account_id"]].cast("string").strip(),
            "day": day}
        if columns["user_id"]:
            user = table[columns["user_id"]].cast("string").strip()
            fields["user"] = user.nullif("")
        if columns["feature"]:
            fields["feature"] = table[columns["feature"]].cast("string").strip().lower()
        if columns["business_unit"]:
            unit = table[columns["business_unit"]].cast("string").strip()
            fields["unit"] = unit.nullif("")
        fields["weight"] = (table[columns["count"]].cast("float64").fill_null(1.0)
                            if columns["count"] else ibis.literal(1))  # an integer: a
        #                                    float literal is NUMERIC to PostgreSQL
        if columns["active_users"]:
            fields["active"] = table[columns["active_users"]].cast("float64")
        return table.select(**fields)

    def _where(self, table):
        try:
            return _WhereTranslator(table).condition(self.source.where)
        except ConditionError as error:
            pointer = f" ← here at column {error.column}" if error.column else ""
            raise ConfigError(f"{self.label}: sources.usage.where cannot be used", [Problem(
                self.label, f"sources.usage.where: {error.message}{pointer}",
                line=self._line("where"), column="sources.usage.where",
                value=self.source.where, fix=error.fix, code=ProblemCode.BAD_CONDITION)]
            ) from None

    def check(self) -> None:
        """Connect, find the table and its columns, compile the ``where``: every problem of
        the config before any signal is built."""
        _ = self.events

    # --- what signals ask --------------------------------------------------------------------

    @cached_property
    def day_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(day numbers, rows on that day), dated rows only: a few thousand rows."""
        from ibis import _

        events = self.events
        by_day = events.filter(events.day.notnull()).group_by("day").aggregate(
            rows=_.count())
        result = self._run(by_day)
        return (_day_numbers(result["day"]), result["rows"].to_numpy().astype(np.int64))

    def aggregate(self, query: UsageQuery) -> dict[int, UsageAggregates]:
        import pandas as pd

        columns = self.columns
        events = self.events
        ids = pd.Index(query.ids.astype(str))
        windows = [(today, query.first_day(today)) for today in query.as_of_days]

        def aligned(result: pa.Table, name: str, fill) -> np.ndarray:
            series = pd.Series(result[name].to_numpy(zero_copy_only=False),
                               index=result["account"].to_pylist())
            series = series[~series.index.duplicated()]
            return series.reindex(ids).fillna(fill).to_numpy()

        main = self._run(self._per_account(events, query, windows))
        first_day = _day_numbers(main["first_day"])
        first_day = pd.Series(first_day, index=main["account"].to_pylist()).reindex(ids)
        has_feature = columns["feature"] is not None
        core = units = users = value = None
        if columns["user_id"]:
            users = self._run(self._users(events, windows))
        if has_feature:
            core = self._run(self._first_seen(events, _among(events.feature,
                                                              query.core_features),
                                              "feature", windows))
            value = self._first_value(events, query, main)
        if columns["business_unit"]:
            units = self._run(self._first_seen(events, events.unit.notnull(), "unit",
                                               windows))
        found: dict[int, UsageAggregates] = {}
        for number, (today, first) in enumerate(windows):
            used_before = (first_day < first).fillna(False).to_numpy(dtype=bool)
            found[today] = UsageAggregates(
                as_of_day=today,
                distinct_users=(aligned(users, f"in_{number}", 0).astype(np.int64)
                                if users is not None else None),
                busiest_day_users=(
                    # as the tally: none in the window, or only blanks, is 0
                    np.maximum(aligned(main, f"busiest_{number}", 0.0).astype(float), 0.0)
                    if columns["active_users"] else None),
                logins=(aligned(main, f"logins_{number}", 0.0).astype(float)
                        if has_feature else None),
                core_features_used=(aligned(core, f"in_{number}", 0).astype(np.int64)
                                    if core is not None else None),
                new_core_feature=(aligned(core, f"new_{number}", False).astype(bool)
                                  if core is not None else None),
                new_business_unit=(aligned(units, f"new_{number}", False).astype(bool)
                                   & used_before if units is not None else None),
                first_value_day=(np.where(value <= today, value, np.nan)
                                 if value is not None else None))
        return found

    def _per_account(self, events, query: UsageQuery, windows: list[tuple[int, int]]):
        columns = self.columns
        measures: dict[str, Any] = {"first_day": events.day.min()}
        if columns["feature"]:
            measures["first_value_any"] = events.day.min(
                where=_among(events.feature, query.value_features))
        for number, (today, first) in enumerate(windows):
            recent = (events.day >= _date(first)) & (events.day <= _date(today))
            if columns["feature"]:
                login = _among(events.feature, query.login_events)
                measures[f"logins_{number}"] = events.weight.sum(where=recent & login)
            if columns["active_users"]:  # the window's busiest day (a day's rows: its users)
                measures[f"busiest_{number}"] = events.active.max(where=recent)
        return events.group_by("account").aggregate(**measures)

    @staticmethod
    def _users(events, windows: list[tuple[int, int]]):
        """Distinct users per account in each window: (account, user) pairs of the days the
        windows cover, then counted per account. No COUNT(DISTINCT ...) FILTER, which most
        engines can neither hash nor run in parallel."""
        from ibis import _

        first = min(start for _today, start in windows)
        last = max(today for today, _start in windows)
        seen = events.filter(events.user.notnull() & (events.day >= _date(first))
                             & (events.day <= _date(last)))
        pairs = seen.group_by(["account", "user"]).aggregate(**{
            f"in_{number}": ((_.day >= _date(start)) & (_.day <= _date(today))).any()
            for number, (today, start) in enumerate(windows)})
        return pairs.group_by("account").aggregate(**{
            f"in_{number}": pairs[f"in_{number}"].ifelse(1, 0).sum()
            for number in range(len(windows))})

    @staticmethod
    def _first_seen(events, keep, key: str, windows: list[tuple[int, int]]):
        """Per account and window: the keys (core features, business units) seen in the
        window (``in_``), and whether one was first seen there, so never before (``new_``)."""
        from ibis import _

        pairs = events.filter(keep).group_by(["account", key]).aggregate(
            first=_.day.min(), **{
                f"in_{number}": ((_.day >= _date(start)) & (_.day <= _date(today))).any()
                for number, (today, start) in enumerate(windows)})
        measures = {}
        for number, (today, start) in enumerate(windows):
            measures[f"new_{number}"] = ((pairs.first >= _date(start))
                                         & (pairs.first <= _date(today))).any()
            measures[f"in_{number}"] = pairs[f"in_{number}"].ifelse(1, 0).sum()
        return pairs.group_by("account").aggregate(**measures)

    def _first_value(self, events, query: UsageQuery, main: pa.Table) -> np.ndarray:
        """First value day by account (NaN: none): the first value-feature day on or after
        the onboarding start. Mostly the first value-feature day of all; only for accounts
        that used one before their onboarding started are their starts sent along, as a
        small table, and asked for again."""
        import ibis
        import pandas as pd
        import pyarrow as pa

        ids = pd.Index(query.ids.astype(str))
        first_any = pd.Series(_day_numbers(main["first_value_any"]),
                              index=main["account"].to_pylist()).reindex(ids).to_numpy()
        onboarding = query.onboarding_start
        with np.errstate(invalid="ignore"):
            first = np.where(first_any >= onboarding, first_any, np.nan)  # NaN: never
            early = first_any < onboarding
        if not early.any():
            return first
        starts = ibis.memtable(pa.table({
            "onboarding_account": pa.array(np.asarray(ids)[early], pa.string()),
            "onboarding_day": pa.array(onboarding[early].astype(np.int64)
                                       .astype("datetime64[D]"), pa.date32())}))
        value = events.filter(_among(events.feature, query.value_features))
        joined = value.join(starts, value.account == starts.onboarding_account)
        joined = joined.filter(joined.day >= joined.onboarding_day)
        result = self._run(joined.group_by("account").aggregate(first=ibis._.day.min()))
        later = pd.Series(_day_numbers(result["first"]), index=result["account"].to_pylist())
        first[early] = later.reindex(ids[early]).to_numpy(dtype=float)
        return first


def _driver_error(backend: str) -> tuple[type[BaseException], ...]:
    """The base exception of an engine's driver (the DB-API ``Error`` where it has one)."""
    if backend == "postgres":
        import psycopg

        return (psycopg.Error,)
    if backend == "duckdb":
        import duckdb

        return (duckdb.Error,)
    if backend == "snowflake":
        import snowflake.connector

        return (snowflake.connector.Error,)
    if backend == "bigquery":
        from google.api_core.exceptions import GoogleAPIError

        return (GoogleAPIError,)
    if backend == "trino":
        import trino.exceptions

        return (trino.exceptions.TrinoException, trino.exceptions.Error)
    if backend == "databricks":
        import databricks.sql.exc

        return (databricks.sql.exc.Error,)
    if backend == "pyspark":
        from pyspark.errors import PySparkException

        return (PySparkException,)
    return ()


def _among(column, names) -> Any:
    """The column is one of the names (none: never; an empty IN list is no SQL)."""
    import ibis

    return column.isin(sorted(names)) if names else ibis.literal(False)


def _date(day: int):
    import ibis

    return ibis.date(str(np.datetime64(int(day), "D")))


def _day_numbers(column: pa.ChunkedArray) -> np.ndarray:
    """Day numbers (float, NaN: none) of an Arrow date column."""
    import pyarrow as pa

    column = column.cast(pa.date32()) if column.type != pa.date32() else column
    values = column.cast(pa.int32()).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=float)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def _connect_fix(scheme: str) -> str:
    if scheme in ("postgres", "postgresql"):
        return ("check host, port and database in the URL; the password comes from "
                "PGPASSWORD, ~/.pgpass or ${NAME} in the URL")
    return "check the URL and that the warehouse is reachable"


# --- the `where`, translated node by node ------------------------------------------------------

class _WhereTranslator:
    """The condition language (see :mod:`csops_cli.condition_syntax`) as ibis expressions over
    the table's own columns, with the language's rules: a comparison with a missing value is
    false, text compares ignoring case."""

    FUNCTIONS = ("lower", "contains", "coalesce", "date", "add_days", "days_between",
                 "absent")

    def __init__(self, table):
        self.table = table
        self.names = {name.lower(): name for name in table.columns}

    def condition(self, text: str):
        kind, value = self._value(parse(text).body)
        if kind != "bool":
            raise ConditionError(f"the condition gives a {kind}, not true/false", 1)
        return value.fill_null(False)

    def _value(self, node: ast.AST) -> tuple[str, Any]:
        import ibis

        literal = constant(node)
        if literal is not NOT_CONSTANT:
            if literal is None:
                return "null", None
            kind = ("bool" if isinstance(literal, bool) else
                    "number" if isinstance(literal, (int, float)) else "text")
            return kind, ibis.literal(literal)
        if isinstance(node, ast.Name):
            return self._column(node)
        if isinstance(node, ast.BoolOp):
            parts = [self._truth(value) for value in node.values]
            result = parts[0]
            for part in parts[1:]:
                result = (result & part) if isinstance(node.op, ast.And) else (result | part)
            return "bool", result
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return "bool", ~self._truth(node.operand)
            kind, value = self._value(node.operand)
            if kind != "number":
                raise ConditionError(f"'-' needs a number, not {kind}", column_of(node))
            return "number", (-value if isinstance(node.op, ast.USub) else value)
        if isinstance(node, ast.BinOp):
            (left_kind, left), (right_kind, right) = (self._value(node.left),
                                                      self._value(node.right))
            symbol = SYMBOLS[type(node.op)]
            if {left_kind, right_kind} != {"number"}:
                raise ConditionError(f"'{symbol}' needs numbers, not "
                                     f"{left_kind if left_kind != 'number' else right_kind}",
                                     column_of(node))
            left, right = left.cast("float64"), right.cast("float64")
            return "number", ARITHMETIC[type(node.op)](left, right)
        if isinstance(node, ast.Compare):
            return "bool", self._compare(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise ConditionError(f"{type(node).__name__} is not allowed", column_of(node))

    def _column(self, node: ast.Name) -> tuple[str, Any]:
        name = self.names.get(node.id.lower())
        if name is None:
            import difflib

            close = difflib.get_close_matches(node.id, list(self.table.columns), n=3,
                                              cutoff=0.5)
            raise ConditionError(f"unknown column '{node.id}' in the warehouse table",
                                 column_of(node),
                                 fix=(f"did you mean {', '.join(close)}?" if close else
                                      f"columns: {', '.join(self.table.columns)}"))
        column = self.table[name]
        kind = column.type()
        if kind.is_boolean():
            return "bool", column
        if kind.is_numeric():
            return "number", column
        if kind.is_date():
            return "date", column
        if kind.is_timestamp():
            return "date", column.date()
        if kind.is_string():
            return "text", column
        raise ConditionError(f"column '{name}' holds {kind}, which a condition cannot use",
                             column_of(node))

    def _truth(self, node: ast.AST):
        kind, value = self._value(node)
        if kind == "null":
            import ibis

            return ibis.literal(False)
        if kind != "bool":
            raise ConditionError(f"a {kind} is not true/false by itself: compare it",
                                 column_of(node))
        return value.fill_null(False)

    def _compare(self, node: ast.Compare):
        import ibis

        result = ibis.literal(True)
        left_node = node.left
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.In, ast.NotIn)):
                piece = self._membership(left_node, right_node, isinstance(op, ast.NotIn))
            else:
                piece = self._comparison(left_node, op, right_node, node)
            result = result & piece.fill_null(False)
            left_node = right_node
        return result

    def _comparison(self, left_node, op, right_node, node):
        (left_kind, left), (right_kind, right) = (self._value(left_node),
                                                  self._value(right_node))
        symbol = SYMBOLS[type(op)]
        if "null" in (left_kind, right_kind):
            if not isinstance(op, (ast.Eq, ast.NotEq)):
                raise ConditionError(f"'{symbol}' with null: use == null or != null",
                                     column_of(node))
            other = right if left_kind == "null" else left
            if other is None:
                import ibis

                return ibis.literal(isinstance(op, ast.Eq))
            return other.isnull() if isinstance(op, ast.Eq) else other.notnull()
        kinds = {left_kind, right_kind}
        if kinds == {"date", "text"}:  # text written beside a date is a date
            left, right = (self._date_side(left_kind, left, left_node),
                           self._date_side(right_kind, right, right_node))
        elif len(kinds) > 1:
            raise ConditionError(f"cannot compare {left_kind} with {right_kind} using "
                                 f"'{symbol}'", column_of(node))
        elif kinds == {"text"}:
            left, right = left.lower(), right.lower()
        elif "bool" in kinds and not isinstance(op, (ast.Eq, ast.NotEq)):
            raise ConditionError(f"'{symbol}' does not apply to true/false", column_of(node))
        return COMPARISONS[type(op)](left, right)

    def _date_side(self, kind: str, value, node: ast.AST):
        if kind == "date":
            return value
        literal = constant(node)
        if literal is NOT_CONSTANT:
            raise ConditionError("a text column compared with a date: write date(column)",
                                 column_of(node))
        from ..conditions import _date_literal

        return _date(int(np.datetime64(_date_literal(literal, column_of(node)).date(), "D")
                         .astype(np.int64)))

    def _membership(self, left_node, right_node, negate: bool):
        kind, value = self._value(left_node)
        items = [constant(item) for item in right_node.elts]
        present = [item for item in items if item is not None]
        if kind == "text":
            value, wanted = value.lower(), [str(item).lower() for item in present]
        elif kind == "number":
            if any(isinstance(item, str) for item in present):
                raise ConditionError("a list of text for a number column",
                                     column_of(left_node))
            value, wanted = value.cast("float64"), [float(item) for item in present]
        else:
            wanted = present
        if value is None or not wanted:
            import ibis

            return ibis.literal(False) if value is None else (
                value.notnull() if negate else ibis.literal(False))
        inside = value.isin(wanted)
        return value.notnull() & (~inside if negate else inside)

    def _call(self, node: ast.Call) -> tuple[str, Any]:
        import ibis

        name = node.func.id  # type: ignore[attr-defined]  # checked by condition_syntax
        if name not in self.FUNCTIONS:
            raise ConditionError(f"{name}(...) is not available in a warehouse `where`",
                                 column_of(node),
                                 fix=f"functions here: {', '.join(self.FUNCTIONS)}")
        if name == "absent":  # a named column exists, or the name is unknown
            if not isinstance(node.args[0], ast.Name):
                raise ConditionError("absent(...) takes a column name", column_of(node))
            self._column(node.args[0])
            return "bool", ibis.literal(False)
        args = [self._value(arg) for arg in node.args]
        if name == "lower":
            return "text", args[0][1].cast("string").lower()
        if name == "contains":
            wanted = constant(node.args[1])
            if not isinstance(wanted, str):
                raise ConditionError("contains(text, 'x'): the second argument is quoted text",
                                     column_of(node.args[1]))
            return "bool", args[0][1].cast("string").lower().contains(wanted.lower())
        if name == "coalesce":
            kinds = {kind for kind, _ in args} - {"null"}
            if len(kinds) > 1:
                raise ConditionError(f"coalesce(...) mixes {' and '.join(sorted(kinds))}",
                                     column_of(node))
            values = [value for kind, value in args if kind != "null"]
            if not values:
                return "null", None
            return kinds.pop(), ibis.coalesce(*values) if len(values) > 1 else values[0]
        if name == "date":
            kind, value = args[0]
            if kind == "date":
                return "date", value
            if kind == "text" and constant(node.args[0]) is NOT_CONSTANT:
                return "date", value.cast("timestamp('UTC')").date()
            return "date", self._date_side(kind, value, node.args[0])
        if name == "add_days":
            amount = constant(node.args[1])
            if args[0][0] != "date" or not isinstance(amount, int) or isinstance(amount, bool):
                raise ConditionError("add_days(date, N): a date and a whole number",
                                     column_of(node))
            return "date", args[0][1] + ibis.interval(days=amount)
        # days_between
        start, end = (self._date_side(kind, value, arg)
                      for (kind, value), arg in zip(args, node.args, strict=True))
        return "number", end.delta(start, "day").cast("float64")


class WarehouseEvents:
    """What the audit and the backtest ask of usage events (first and last day, rows after a
    day, rows of unknown accounts, a few example rows), answered by the warehouse. A row's
    position is its rank among the dated rows, latest day first: the rows after a day are the
    first ranks, so positions of two such answers can be compared."""

    def __init__(self, usage: WarehouseUsage, known_ids: Callable[[], Any]):
        self.usage = usage
        self.known_ids = known_ids  # the accounts export's ids (None: not readable)

    def first_day(self) -> int | None:
        day = self.usage.day_rows[0]
        return int(day.min()) if len(day) else None

    def last_day(self) -> int | None:
        day = self.usage.day_rows[0]
        return int(day.max()) if len(day) else None

    def after(self, day: int) -> np.ndarray:
        days, rows = self.usage.day_rows
        return np.arange(int(rows[days > day].sum()))

    def _ranked(self, positions: np.ndarray):
        events = self.usage.events
        ordered = events.filter(events.day.notnull()).order_by(
            [events.day.desc(), events.account])
        first = int(positions.min()) if len(positions) else 0
        count = int(positions.max()) - first + 1 if len(positions) else 0
        rows = self.usage._run(ordered.select("account", "day").limit(count, offset=first))
        return first, rows

    def account_ids(self, positions: np.ndarray) -> list[str]:
        first, rows = self._ranked(positions)
        accounts = rows["account"].to_pylist()
        return [accounts[position - first] for position in positions.tolist()]

    def days(self, positions: np.ndarray) -> np.ndarray:
        first, rows = self._ranked(positions)
        days = _day_numbers(rows["day"])
        return days[positions - first].astype(np.int64)

    def unknown_accounts(self) -> tuple[np.ndarray, list[str]]:
        """Rows whose account is not in the accounts export: their count as positions, and
        the accounts of the first few."""
        import ibis
        import pyarrow as pa

        known = self.known_ids()
        if known is None:
            return np.zeros(0, np.int64), []
        events = self.usage.events
        accounts = ibis.memtable(pa.table({"known_account": pa.array(
            [str(account) for account in known], pa.string())}))
        unknown = events.anti_join(accounts, events.account == accounts.known_account)
        count = int(self.usage._run(unknown.aggregate(rows=unknown.count()))["rows"][0]
                    .as_py())
        shown = self.usage._run(unknown.select("account").order_by("account").limit(
            UNKNOWN_SHOWN))["account"].to_pylist()
        return np.arange(count), shown + [""] * (count - len(shown))


UNKNOWN_SHOWN = 20  # accounts shown of the rows for accounts the accounts export lacks


class WarehouseTable(Table):
    """The usage table of a warehouse source: no file, no frame; signals ask its
    :class:`WarehouseUsage` for the per-account aggregates, the audit its
    :class:`WarehouseEvents` for rows."""

    def __init__(self, config: Config, known_ids: Callable[[], Any]):
        source = config.usage_warehouse
        assert source is not None
        usage = WarehouseUsage(source, config.label, config.source_lines)
        usage.check()
        super().__init__("usage", Path(source.table), None, None,
                         {("timestamp" if name == "date" else name): column
                          for name, column in usage.columns.items() if column},
                         raw=None, events=WarehouseEvents(usage, known_ids))
        self.warehouse = usage
        self.source_id = "warehouse"

    def usage_frame(self):
        raise InputError(f"{self.warehouse.shown_url}: this command reads every usage event",
                         [Problem(str(self.path), "the usage is aggregated in the warehouse; "
                                  "this command needs the events themselves",
                                  fix="export the usage table to a file for this command",
                                  code=ProblemCode.MISSING_EXPORT)])

    @property
    def rows(self) -> int:
        return int(self.warehouse.day_rows[1].sum())

    @property
    def warnings(self) -> list[Problem]:
        return []

    @property
    def paths(self) -> list[Path]:
        return []  # no file is read

    def lines(self, positions) -> list[int | None]:
        return [None for _ in positions]
