"""The play condition language, compiled by an allow-list into vectorised pandas operations.

    health_score < 70 or health_change <= -10
    license_utilization > 0.8 and segment in ['Strategic', 'Commercial']

Allowed: and or not, < <= > >= == !=, in [...] / not in [...], + - * /, numbers, 'strings',
true false null, and column names of the signal table. The text is parsed with the standard
library's ``ast`` and every node is checked against that list; nothing is ever passed to eval,
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

from .errors import ConfigError, Problem

MAX_LENGTH = 2_000
MAX_DEPTH = 30
CONSTANT_NAMES = {"true": True, "false": False, "null": None,
                  "True": True, "False": False, "None": None}
COMPARISONS: dict[type, Callable] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}
ARITHMETIC: dict[type, Callable] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
SYMBOLS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
           ast.NotEq: "!=", ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


class ConditionError(ValueError):
    """A condition that is not in the language; ``column`` is its 1-based position."""

    def __init__(self, message: str, column: int | None = None, fix: str | None = None):
        super().__init__(message if column is None else f"{message} (at column {column})")
        self.message = message
        self.column = column
        self.fix = fix


def parse(text: str) -> ast.Expression:
    """Syntax and allow-list check, without knowing the columns (done at config load)."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("the condition is empty", fix="write e.g. health_score < 70")
    if len(text) > MAX_LENGTH:
        raise ConditionError(f"the condition is {len(text):,} characters long; the limit is "
                             f"{MAX_LENGTH:,}", fix="split it into several plays")
    if "\n" in text.strip() or "\r" in text:
        text = " ".join(text.split())
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ConditionError(f"not a valid condition: {error.msg}", error.offset,
                             fix="use and/or/not, comparisons, numbers and 'quoted text'"
                             ) from None
    except (RecursionError, MemoryError, ValueError):
        raise ConditionError("the condition is nested too deeply") from None
    _check(tree.body, 0)
    return tree


def _check(node: ast.AST, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ConditionError("the condition is nested too deeply", _col(node))
    if isinstance(node, ast.BoolOp) and isinstance(node.op, (ast.And, ast.Or)):
        children = node.values
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub, ast.UAdd)):
        children = [node.operand]
    elif isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
        children = [node.left, node.right]
    elif isinstance(node, ast.Compare):
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(right, (ast.List, ast.Tuple)):
                    raise ConditionError("'in' needs a list: x in ['a', 'b']", _col(right))
                for item in right.elts:
                    if _constant(item) is _NOT_CONSTANT:
                        raise ConditionError("a list may only hold numbers, text, true, false "
                                             "or null", _col(item))
            elif type(op) not in COMPARISONS:
                raise ConditionError(f"'{type(op).__name__}' is not allowed", _col(node))
        children = [node.left] + [c for c, op in zip(node.comparators, node.ops, strict=True)
                                  if not isinstance(op, (ast.In, ast.NotIn))]
    elif isinstance(node, ast.Name):
        return
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, (bool, int, float, str)) or node.value is None:
            return
        raise ConditionError(f"{type(node.value).__name__} values are not allowed", _col(node))
    else:
        what = {ast.Call: "function calls", ast.Attribute: "attribute access",
                ast.Subscript: "indexing", ast.Lambda: "lambda", ast.ListComp: "comprehensions",
                ast.GeneratorExp: "comprehensions", ast.SetComp: "comprehensions",
                ast.DictComp: "comprehensions", ast.IfExp: "if/else expressions",
                ast.NamedExpr: "assignment", ast.Starred: "starred values",
                ast.List: "lists outside 'in'", ast.Tuple: "tuples outside 'in'",
                ast.Dict: "dictionaries", ast.Set: "sets", ast.JoinedStr: "f-strings",
                ast.Await: "await", ast.Yield: "yield"}.get(type(node), type(node).__name__)
        raise ConditionError(f"not allowed in a condition: {what}", _col(node),
                             fix="use column names, comparisons, and/or/not, + - * /")
    for child in children:
        _check(child, depth + 1)


def _col(node: ast.AST) -> int | None:
    offset = getattr(node, "col_offset", None)
    return None if offset is None else offset + 1


_NOT_CONSTANT = object()


def _constant(node: ast.AST):
    if isinstance(node, ast.Constant) and (isinstance(node.value, (bool, int, float, str))
                                           or node.value is None):
        return node.value
    if isinstance(node, ast.Name) and node.id in CONSTANT_NAMES:
        return CONSTANT_NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _constant(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    return _NOT_CONSTANT


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
    constant = _constant(node)
    if constant is not _NOT_CONSTANT:
        kind = ("null" if constant is None else "bool" if isinstance(constant, bool)
                else "number" if isinstance(constant, (int, float)) else "text")
        return Value(kind, lambda frame, c=constant: c)
    if isinstance(node, ast.Name):
        if node.id not in kinds:
            close = difflib.get_close_matches(node.id, list(kinds), n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}?" if close else \
                "see `csops explain` for the columns of the signal table"
            raise ConditionError(f"unknown name '{node.id}'", _col(node), fix=hint)
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
            raise ConditionError(f"'-' needs a number, not {operand.kind}", _col(node))
        sign = -1 if isinstance(node.op, ast.USub) else 1
        return Value("number", lambda frame: _numeric(operand.compute(frame)) * sign)
    if isinstance(node, ast.BinOp):
        left, right = _compile(node.left, kinds, names), _compile(node.right, kinds, names)
        symbol = SYMBOLS[type(node.op)]
        for side in (left, right):
            if side.kind != "number":
                raise ConditionError(f"'{symbol}' needs numbers, not {side.kind}", _col(node))
        function = ARITHMETIC[type(node.op)]
        return Value("number", lambda frame: function(_numeric(left.compute(frame)),
                                                      _numeric(right.compute(frame))))
    if isinstance(node, ast.Compare):
        return _compile_compare(node, kinds, names)
    raise ConditionError(f"{type(node).__name__} is not allowed", _col(node))  # pragma: no cover


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
                         "e.g. arr > 0", _col(node))


def _compile_compare(node: ast.Compare, kinds, names) -> Value:
    pieces = []
    left = _compile(node.left, kinds, names)
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        if isinstance(op, (ast.In, ast.NotIn)):
            items = [_constant(item) for item in right_node.elts]
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
            raise ConditionError(f"'{symbol}' with null: use == null or != null", _col(node))
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
                             _col(node))
    if "bool" in kinds and not isinstance(op, (ast.Eq, ast.NotEq)):
        raise ConditionError(f"'{symbol}' does not apply to true/false", _col(node))
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
                                     _col(node)) from None
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
            raise ConditionError("a list of text for a number column", _col(node))
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
                   column=f"plays.{play_id}.when", value=text.strip()[:80], fix=error.fix)


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
