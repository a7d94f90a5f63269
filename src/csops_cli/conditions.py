"""Play conditions compiled against the signal table into vectorised pandas operations.

The language and its allow-list live in ``condition_syntax``; nothing is ever passed to eval,
exec, DataFrame.query/eval or SQL. A comparison with a missing value is false; text compares
ignoring case.
"""

from __future__ import annotations

import ast
import difflib
import operator
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .condition_syntax import (
    ARITHMETIC,
    COMPARISONS,
    NOT_CONSTANT,
    SYMBOLS,
    ConditionError,
    column_of,
    constant,
    parse,
)
from .errors import ConfigError, Problem, ProblemCode

__all__ = ["Condition", "ConditionError", "Expression", "compile_condition",
           "compile_expression", "compile_plays", "condition_problem", "parse"]


# --- compiling against a table -----------------------------------------------------------------

@dataclass(frozen=True)
class Value:
    """A compiled sub-expression: its kind and how to compute it over a frame."""

    kind: str  # number | text | bool | date | null
    compute: Callable[[pd.DataFrame], object]  # a Series, or a scalar constant
    literal: object = NOT_CONSTANT  # the value, when written in the condition
    column: int | None = None  # where it starts in the condition


@dataclass(frozen=True)
class Condition:
    text: str
    names: tuple[str, ...]  # the columns it reads, for the reason shown with an action
    _evaluate: Callable[[pd.DataFrame], pd.Series]

    def __call__(self, frame: pd.DataFrame) -> pd.Series:
        with np.errstate(all="ignore"):
            return self._evaluate(frame)


def column_kind(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    return "text"


def compile_condition(text: str, frame: pd.DataFrame, kinds: dict[str, str] | None = None
                      ) -> Condition:
    """Compile ``text`` for the columns of ``frame`` (``kinds`` overrides a column's kind).
    Raises ConditionError."""
    tree = parse(text)
    kinds = {str(name): column_kind(frame[name]) for name in frame.columns} | (kinds or {})
    names: list[str] = []
    value = _compile(tree.body, kinds, names)
    if value.kind not in ("bool", "null"):
        raise ConditionError(f"the condition gives a {value.kind}, not true/false: compare it, "
                             f"e.g. {text.strip()} > 0", 1)
    evaluate = _as_mask(value)
    return Condition(text, tuple(dict.fromkeys(names)), evaluate)


@dataclass(frozen=True)
class Expression:
    """A compiled value expression (a `derive:` of sources): one value per row."""

    text: str
    kind: str  # number | text | bool | date | null
    names: tuple[str, ...]
    _compute: Callable[[pd.DataFrame], object]

    def __call__(self, frame: pd.DataFrame) -> pd.Series:
        with np.errstate(all="ignore"):
            return _broadcast(self._compute(frame), frame)


def compile_expression(text: str, frame: pd.DataFrame, kinds: dict[str, str] | None = None
                       ) -> Expression:
    """Compile a value expression for the columns of ``frame`` (``kinds`` overrides a column's
    kind: "null" for a column the file lacks). Raises ConditionError."""
    tree = parse(text)
    kinds = {str(name): column_kind(frame[name]) for name in frame.columns} | (kinds or {})
    names: list[str] = []
    value = _compile(tree.body, kinds, names)
    return Expression(text, value.kind, tuple(dict.fromkeys(names)), value.compute)


def _broadcast(value, frame: pd.DataFrame) -> pd.Series:
    if isinstance(value, pd.Series):
        return value
    if value is None:
        return pd.Series(pd.NA, index=frame.index, dtype="object")
    return pd.Series([value] * len(frame), index=frame.index)


def _as_mask(value: Value) -> Callable[[pd.DataFrame], pd.Series]:
    def evaluate(frame: pd.DataFrame) -> pd.Series:
        result = value.compute(frame)
        if not isinstance(result, pd.Series):
            return pd.Series(bool(result), index=frame.index)
        return result.fillna(False).astype(bool)
    return evaluate


def _compile(node: ast.AST, kinds: dict[str, str], names: list[str]) -> Value:
    literal = constant(node)
    if literal is not NOT_CONSTANT:
        kind = ("null" if literal is None else "bool" if isinstance(literal, bool)
                else "number" if isinstance(literal, (int, float)) else "text")
        return Value(kind, lambda frame, c=literal: c, literal, column_of(node))
    if isinstance(node, ast.Name):
        if node.id not in kinds:
            close = difflib.get_close_matches(node.id, list(kinds), n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}?" if close else \
                "see `csops explain` for the columns of the signal table"
            raise ConditionError(f"unknown name '{node.id}'", column_of(node), fix=hint)
        names.append(node.id)
        name, kind = node.id, kinds[node.id]
        if kind == "absent":  # a column the file lacks (sources: optional)
            return Value("null", lambda frame: None)
        return Value(kind, lambda frame: frame[name])
    if isinstance(node, ast.BoolOp):
        parts = [_truth(_compile(v, kinds, names), v) for v in node.values]
        combine = operator.and_ if isinstance(node.op, ast.And) else operator.or_

        def boolean(frame, parts=parts, combine=combine):
            result = parts[0](frame)
            for part in parts[1:]:
                result = combine(result, part(frame))
            return result
        return Value("bool", boolean)
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand, kinds, names)
        if isinstance(node.op, ast.Not):
            truth = _truth(operand, node.operand)
            return Value("bool", lambda frame: ~truth(frame))
        if operand.kind != "number":
            raise ConditionError(f"'-' needs a number, not {operand.kind}", column_of(node))
        sign = -1 if isinstance(node.op, ast.USub) else 1
        return Value("number", lambda frame: _numeric(operand.compute(frame)) * sign)
    if isinstance(node, ast.BinOp):
        left, right = _compile(node.left, kinds, names), _compile(node.right, kinds, names)
        symbol = SYMBOLS[type(node.op)]
        if isinstance(node.op, ast.Add) and {left.kind, right.kind} <= {"text", "null"} \
                and "text" in {left.kind, right.kind}:
            return Value("text", lambda frame: _text(left.compute(frame), frame)
                         + _text(right.compute(frame), frame))
        for side in (left, right):
            if side.kind not in ("number", "null"):
                raise ConditionError(f"'{symbol}' needs numbers, not {side.kind}", column_of(node))
        function = ARITHMETIC[type(node.op)]
        return Value("number", lambda frame: function(_numeric(left.compute(frame)),
                                                      _numeric(right.compute(frame))))
    if isinstance(node, ast.Compare):
        return _compile_compare(node, kinds, names)
    if isinstance(node, ast.Call):
        return _compile_call(node, kinds, names)
    raise ConditionError(f"{type(node).__name__} is not allowed",  # pragma: no cover
                         column_of(node))


def _numeric(value):
    if isinstance(value, pd.Series):
        return pd.to_numeric(value, errors="coerce").astype("float64")
    return np.float64(value)  # numpy: 0 / 0 is NaN (compares false), not an exception


def _truth(value: Value, node: ast.AST) -> Callable[[pd.DataFrame], pd.Series | bool]:
    """A value used as true/false: booleans as they are, missing as false."""
    if value.kind == "bool":
        def truth(frame):
            result = value.compute(frame)
            if isinstance(result, pd.Series):
                return result.fillna(False).astype(bool)
            return bool(result)
        return truth
    if value.kind == "null":
        return lambda frame: False
    raise ConditionError(f"a {value.kind} is not true/false by itself: compare it, "
                         "e.g. arr > 0", column_of(node))


def _compile_compare(node: ast.Compare, kinds, names) -> Value:
    pieces = []
    left = _compile(node.left, kinds, names)
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        if isinstance(op, (ast.In, ast.NotIn)):
            items = [constant(item) for item in right_node.elts]
            pieces.append(_membership(left, items, isinstance(op, ast.NotIn), node))
            left = Value("null", lambda frame: None)  # chaining after 'in' makes no sense
            continue
        right = _compile(right_node, kinds, names)
        pieces.append(_comparison(left, right, op, node))
        left = right

    def all_true(frame):
        result = pieces[0](frame)
        for piece in pieces[1:]:
            result = result & piece(frame)
        return result
    return Value("bool", all_true)


def _comparison(left: Value, right: Value, op: ast.cmpop, node: ast.AST):
    symbol = SYMBOLS[type(op)]
    if "null" in (left.kind, right.kind):
        if not isinstance(op, (ast.Eq, ast.NotEq)):
            raise ConditionError(f"'{symbol}' with null: use == null or != null", column_of(node))
        other = right if left.kind == "null" else left
        wanted_missing = isinstance(op, ast.Eq)

        def missing(frame):
            value = other.compute(frame)
            if not isinstance(value, pd.Series):
                return (value is None) == wanted_missing
            return value.isna() if wanted_missing else value.notna()
        return missing
    kinds = {left.kind, right.kind}
    if len(kinds) > 1 and kinds != {"date", "text"}:
        raise ConditionError(f"cannot compare {left.kind} with {right.kind} using '{symbol}'",
                             column_of(node))
    if "bool" in kinds and not isinstance(op, (ast.Eq, ast.NotEq)):
        raise ConditionError(f"'{symbol}' does not apply to true/false", column_of(node))
    function = COMPARISONS[type(op)]
    prepare = _prepare(kinds, node)
    if kinds == {"date", "text"}:  # text written in the condition must be a date: known now
        for side in (left, right):
            if side.kind == "text" and side.literal is not NOT_CONSTANT:
                _date_literal(side.literal, side.column)

    def compare(frame):
        a, b = prepare(left.compute(frame), frame), prepare(right.compute(frame), frame)
        if not isinstance(a, pd.Series) and not isinstance(b, pd.Series):
            return pd.Series(bool(function(a, b)), index=frame.index)
        result = function(a, b)
        known = _known(a) & _known(b)
        return result.fillna(False).astype(bool) & known
    return compare


def _prepare(kinds: set[str], node: ast.AST):
    """How both sides are made comparable: (value, frame) -> value."""
    if kinds == {"text"}:
        return lambda v, frame: v.astype("string").str.lower() if isinstance(v, pd.Series) \
            else str(v).lower()
    if "date" in kinds:
        def as_date(v, frame):
            if isinstance(v, pd.Series):  # text read as dates the way exports are read
                return v if v.dtype.kind == "M" else _dates(v, frame)
            return _date_literal(v, column_of(node))
        return as_date
    if kinds == {"number"}:
        return lambda v, frame: _numeric(v)
    return lambda v, frame: v


def _date_literal(value, column: int | None) -> pd.Timestamp:
    """A date written in a condition, read as dates in exports are; 'today' and 'now' are
    refused: they would be the clock's date, not as_of, and change a past --as-of's result."""
    from .loading import values as parsers

    text = str(value).strip()
    if text.lower() in ("today", "now"):
        raise ConditionError(f"'{value}' is the clock's date, not as_of", column,
                             fix="compare a day count with as_of instead, e.g. "
                                 "days_to_renewal <= 30")
    try:
        parsed, bad = parsers.parse_dates(pd.Series([text], dtype="string"))
    except ValueError:  # digits pandas does not read (e.g. '𝟎'): no date either
        parsed, bad = pd.Series([pd.NaT]), pd.Series([True])
    if bool(bad.iloc[0]) or pd.isna(parsed.iloc[0]):
        raise ConditionError(f"'{value}' is not a date", column,
                             fix="write a date as 'YYYY-MM-DD', e.g. renewal_date < "
                                 "'2027-01-01'")
    return pd.Timestamp(parsed.iloc[0])


def _known(value):
    if isinstance(value, pd.Series):
        return value.notna()
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def _membership(left: Value, items: list, negate: bool, node: ast.AST):
    if left.kind == "text":
        wanted = [str(i).lower() for i in items if i is not None]
    elif left.kind == "number":
        if any(isinstance(i, str) for i in items):
            raise ConditionError("a list of text for a number column", column_of(node))
        wanted = [float(i) for i in items if i is not None]
    else:
        wanted = [i for i in items if i is not None]

    def member(frame):
        value = left.compute(frame)
        if not isinstance(value, pd.Series):
            value = pd.Series([value] * len(frame), index=frame.index, dtype=object)
        if left.kind == "text":
            value = value.astype("string").str.lower()
        elif left.kind == "number":
            value = _numeric(value)
        inside = value.isin(wanted).fillna(False).astype(bool)
        known = value.notna()
        return (known & ~inside) if negate else (known & inside)
    return member


def condition_problem(label: str, play_id: str, text: str, error: ConditionError,
                      line: int | None = None) -> Problem:
    pointer = ""
    if error.column is not None:
        pointer = f": {text.strip()} ← here at column {error.column}"
    return Problem(label, f"play '{play_id}': {error.message}{pointer}", line=line,
                   column=f"plays.{play_id}.when", value=text.strip()[:80], fix=error.fix,
                   code=ProblemCode.BAD_CONDITION)


def compile_plays(plays, frame: pd.DataFrame, label: str, lines: dict[str, int] | None = None
                  ) -> dict[str, Condition]:
    """Compile every play's condition; all problems are reported together."""
    compiled, problems = {}, []
    for play in plays:
        try:
            compiled[play.id] = compile_condition(play.when, frame)
        except ConditionError as error:
            problems.append(condition_problem(label, play.id, play.when, error,
                                              (lines or {}).get(play.id)))
    if problems:
        raise ConfigError(f"{label}: {len(problems)} play condition(s) cannot be used",
                          problems)
    return compiled


# --- functions (allow-listed in condition_syntax.FUNCTIONS) ------------------------------------

def _compile_call(node: ast.Call, kinds, names) -> Value:
    name = node.func.id  # type: ignore[attr-defined]  # checked by condition_syntax
    args = [_compile(arg, kinds, names) for arg in node.args]
    where = column_of(node)

    def need(index: int, *wanted: str) -> Value:
        arg = args[index]
        if arg.kind not in wanted and arg.kind != "null":
            raise ConditionError(f"{name}(...) argument {index + 1} must be a "
                                 f"{' or '.join(wanted)}, not a {arg.kind}",
                                 column_of(node.args[index]))
        return arg

    if name == "absent":
        column = node.args[0]
        if not isinstance(column, ast.Name) or column.id not in kinds:
            raise ConditionError("absent(...) takes a column name", where)
        missing = kinds[column.id] == "absent"
        return Value("bool", lambda frame: missing)
    if name in ("add_months", "add_days"):
        start, amount = need(0, "date", "text"), need(1, "number")
        unit = "months" if name == "add_months" else "days"
        return Value("date", lambda frame: _add(_dates(start.compute(frame), frame),
                                                amount.compute(frame), unit))
    if name in ("months_between", "days_between"):
        start, end = need(0, "date", "text"), need(1, "date", "text")
        between = _months_between if name == "months_between" else _days_between
        return Value("number", lambda frame: between(_dates(start.compute(frame), frame),
                                                     _dates(end.compute(frame), frame)))
    if name == "date":
        value = need(0, "date", "text", "number")
        return Value("date", lambda frame: _dates(value.compute(frame), frame))
    if name == "lower":
        value = need(0, "text", "number")
        return Value("text", lambda frame: _text(value.compute(frame), frame).str.lower())
    if name == "contains":
        value = need(0, "text", "number")
        need(1, "text")
        if constant(node.args[1]) is NOT_CONSTANT:
            raise ConditionError("contains(text, 'x'): the second argument is quoted text",
                                 column_of(node.args[1]))
        wanted = str(constant(node.args[1])).lower()
        return Value("bool", lambda frame: _text(value.compute(frame), frame).str.lower()
                     .str.contains(wanted, regex=False).fillna(False).astype(bool))
    if name in ("coalesce", "max", "min", "if_else"):
        values = args[1:] if name == "if_else" else args
        kind = _common_kind(name, values, where)
        if kind == "date":
            def prepare(v, frame):
                return _dates(v, frame)
        elif kind == "number":
            def prepare(v, frame):
                return _numeric(_broadcast(v, frame))
        else:
            def prepare(v, frame):
                return _broadcast(v, frame)
        if name == "if_else":
            test = _truth(args[0], node.args[0])
            yes, no = args[1], args[2]

            def choose(frame):
                mask = _broadcast(test(frame), frame).astype(bool)
                a, b = prepare(yes.compute(frame), frame), prepare(no.compute(frame), frame)
                if kind in ("text", "null"):
                    a, b = a.astype("object"), b.astype("object")
                return a.where(mask, b)
            return Value(kind, choose)
        if name == "coalesce":
            def first(frame):
                result = prepare(values[0].compute(frame), frame)
                if kind in ("text", "null"):
                    result = result.astype("object")
                for other in values[1:]:
                    result = result.where(result.notna(), prepare(other.compute(frame), frame))
                return result
            return Value(kind, first)
        if kind not in ("number", "date"):
            raise ConditionError(f"{name}(...) needs numbers or dates", where)
        pick_max = name == "max"

        def extreme(frame):
            a, b = prepare(values[0].compute(frame), frame), prepare(values[1].compute(frame),
                                                                   frame)
            both = pd.concat([a, b], axis=1)
            return both.max(axis=1, skipna=False) if pick_max else both.min(axis=1, skipna=False)
        return Value(kind, extreme)
    if name == "continues_term":
        account, start = need(0, "text", "number"), need(1, "date", "text")
        if "end_date" not in kinds:
            raise ConditionError("continues_term(...) needs an end_date set before it",
                                 where, fix="derive end_date above this line")
        names.append("end_date")
        return Value("bool", lambda frame: _continues_term(
            _broadcast(account.compute(frame), frame), _dates(start.compute(frame), frame),
            _dates(frame["end_date"], frame)))
    raise ConditionError(f"unknown function '{name}'", where)  # pragma: no cover


def _common_kind(name: str, values: list[Value], where: int | None) -> str:
    kinds = {v.kind for v in values} - {"null"}
    if not kinds:
        return "null"
    if len(kinds) == 1:
        return kinds.pop()
    if kinds == {"date", "text"}:
        return "date"
    raise ConditionError(f"{name}(...) mixes {' and '.join(sorted(kinds))}", where)


def _text(value, frame: pd.DataFrame) -> pd.Series:
    return _broadcast(value, frame).astype("string")


EPOCH_MS_FROM = 10**11  # seconds reach this in the year 5138: larger numbers are ms, then µs
EPOCH_US_FROM = 10**14


def _epoch(numbers: pd.Series) -> pd.Series:
    numbers = pd.Series(np.asarray(numbers, dtype="float64"), index=numbers.index)
    magnitude = numbers.abs()
    seconds = numbers.where(magnitude < EPOCH_MS_FROM,
                            numbers.where(magnitude >= EPOCH_US_FROM, numbers / 1e3))
    seconds = seconds.where(magnitude < EPOCH_US_FROM, numbers / 1e6)
    seconds = seconds.where((seconds > -9e9) & (seconds < 9e9))  # what datetime64[ns] holds
    return pd.to_datetime(seconds, unit="s", errors="coerce").astype("datetime64[ns]")


def _dates(value, frame: pd.DataFrame) -> pd.Series:
    """Dates from date, text (ISO, US, named months, epoch digits) or epoch numbers."""
    from .loading import values as parsers

    series = _broadcast(value, frame)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        return series.astype("datetime64[ns]")
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
            series.dtype):
        return _epoch(series.astype("float64"))
    text = series.astype("string").str.strip().str.replace(r"\s*UTC$", "", regex=True)
    digits = text.str.fullmatch(r"\d{9,17}(\.\d+)?").fillna(False).astype(bool)
    parsed, _ = parsers.parse_dates(text.where(~digits))
    parsed = parsed.astype("datetime64[ns]")
    if digits.any():
        parsed = parsed.where(~digits, _epoch(pd.to_numeric(text.where(digits),
                                                            errors="coerce")))
    return parsed


def _add(start: pd.Series, amount, unit: str) -> pd.Series:
    """``start`` plus whole months or days; a result past the dates pandas holds is missing."""
    def shifted(dates: pd.Series, whole: float) -> pd.Series:
        offset = (pd.DateOffset(months=int(whole)) if unit == "months"
                  else pd.Timedelta(days=int(whole)))
        try:
            return dates + offset
        except (OverflowError, pd.errors.OutOfBoundsDatetime, ValueError):
            return pd.Series(pd.NaT, index=dates.index, dtype="datetime64[ns]")

    if not isinstance(amount, pd.Series):
        if amount is None or (isinstance(amount, float) and not np.isfinite(amount)):
            return pd.Series(pd.NaT, index=start.index, dtype="datetime64[ns]")
        return shifted(start, amount)
    amount = _numeric(amount)
    result = pd.Series(pd.NaT, index=start.index, dtype="datetime64[ns]")
    for whole in amount[np.isfinite(amount)].unique():
        rows = (amount == whole).to_numpy()
        result[rows] = shifted(start[rows], whole)
    return result


def _months_between(start: pd.Series, end: pd.Series) -> pd.Series:
    """Whole calendar months, the end excluded: 2026-01-01 -> 2027-01-01 is 12."""
    months = ((end.dt.year - start.dt.year) * 12 + (end.dt.month - start.dt.month)
              - (end.dt.day < start.dt.day).astype("float64"))
    return months.astype("float64")


def _days_between(start: pd.Series, end: pd.Series) -> pd.Series:
    return (end - start).dt.days.astype("float64")


TERM_GAP_DAYS = 31


def _continues_term(account: pd.Series, start: pd.Series, end: pd.Series) -> pd.Series:
    """True where another row of the same account ends within 31 days of this row's start."""
    rows = pd.DataFrame({"account": account.astype("string").str.lower().to_numpy(),
                         "start": start.to_numpy(), "end": end.to_numpy(),
                         "row": np.arange(len(account))})
    pairs = rows[["account", "start", "row"]].merge(
        rows[["account", "end", "row"]].rename(columns={"row": "other"}), on="account")
    gap = (pairs["start"] - pairs["end"]).abs()
    near = pairs[(pairs["row"] != pairs["other"]) & (gap <= pd.Timedelta(days=TERM_GAP_DAYS))]
    result = np.zeros(len(account), dtype=bool)
    result[near["row"].unique()] = True
    return pd.Series(result, index=account.index)
