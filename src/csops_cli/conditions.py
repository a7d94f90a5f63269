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

__all__ = ["Condition", "ConditionError", "compile_condition", "compile_plays", "parse"]


# --- compiling against a table -----------------------------------------------------------------

@dataclass(frozen=True)
class Value:
    """A compiled sub-expression: its kind and how to compute it over a frame."""

    kind: str  # number | text | bool | date | null
    compute: Callable[[pd.DataFrame], object]  # a Series, or a scalar constant


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


def compile_condition(text: str, frame: pd.DataFrame) -> Condition:
    """Compile ``text`` for the columns of ``frame``. Raises ConditionError."""
    tree = parse(text)
    kinds = {str(name): column_kind(frame[name]) for name in frame.columns}
    names: list[str] = []
    value = _compile(tree.body, kinds, names)
    if value.kind not in ("bool", "null"):
        raise ConditionError(f"the condition gives a {value.kind}, not true/false: compare it, "
                             f"e.g. {text.strip()} > 0", 1)
    evaluate = _as_mask(value)
    return Condition(text, tuple(dict.fromkeys(names)), evaluate)


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
        return Value(kind, lambda frame, c=literal: c)
    if isinstance(node, ast.Name):
        if node.id not in kinds:
            close = difflib.get_close_matches(node.id, list(kinds), n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}?" if close else \
                "see `csops explain` for the columns of the signal table"
            raise ConditionError(f"unknown name '{node.id}'", column_of(node), fix=hint)
        names.append(node.id)
        name, kind = node.id, kinds[node.id]
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
        for side in (left, right):
            if side.kind != "number":
                raise ConditionError(f"'{symbol}' needs numbers, not {side.kind}", column_of(node))
        function = ARITHMETIC[type(node.op)]
        return Value("number", lambda frame: function(_numeric(left.compute(frame)),
                                                      _numeric(right.compute(frame))))
    if isinstance(node, ast.Compare):
        return _compile_compare(node, kinds, names)
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

    def compare(frame):
        a, b = prepare(left.compute(frame)), prepare(right.compute(frame))
        if not isinstance(a, pd.Series) and not isinstance(b, pd.Series):
            return pd.Series(bool(function(a, b)), index=frame.index)
        result = function(a, b)
        known = _known(a) & _known(b)
        return result.fillna(False).astype(bool) & known
    return compare


def _prepare(kinds: set[str], node: ast.AST):
    if kinds == {"text"}:
        return lambda v: v.astype("string").str.lower() if isinstance(v, pd.Series) else \
            str(v).lower()
    if "date" in kinds:
        def as_date(v):
            if isinstance(v, pd.Series):
                return pd.to_datetime(v, errors="coerce") if v.dtype.kind != "M" else v
            try:
                return pd.Timestamp(str(v))
            except (ValueError, TypeError):
                raise ConditionError(f"'{v}' is not a date (write 'YYYY-MM-DD')",
                                     column_of(node)) from None
        return as_date
    if kinds == {"number"}:
        return _numeric
    return lambda v: v


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
