"""The play condition language: its syntax, checked by an allow-list (no pandas needed, so
the configuration is checked before any table is read). ``conditions`` compiles it into
vectorised pandas operations.

    health_score < 70 or health_change <= -10
    license_utilization > 0.8 and segment in ['Strategic', 'Commercial']

Allowed: and or not, < <= > >= == !=, in [...] / not in [...], + - * /, numbers, 'strings',
true false null, column names, and the functions of ``FUNCTIONS`` (date arithmetic and the like,
used by the `sources:` expressions). The text is parsed with the standard
library's ``ast`` and every node is checked against that list; nothing is ever passed to eval,
exec, DataFrame.query/eval or SQL. A comparison with a missing value is false; text compares
ignoring case.
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
import sys
from collections.abc import Callable

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
# name -> (fewest, most) arguments; None: any number
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "add_months": (2, 2), "add_days": (2, 2), "months_between": (2, 2),
    "days_between": (2, 2), "coalesce": (1, None), "max": (2, 2), "min": (2, 2),
    "lower": (1, 1), "contains": (2, 2), "date": (1, 1), "continues_term": (2, 2),
    "if_else": (3, 3), "absent": (1, 1),
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
        raise ConditionError("the condition is nested too deeply", column_of(node))
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
                    raise ConditionError("'in' needs a list: x in ['a', 'b']", column_of(right))
                for item in right.elts:
                    if constant(item) is NOT_CONSTANT:
                        raise ConditionError("a list may only hold numbers, text, true, false "
                                             "or null", column_of(item),
                                             fix="write each item out, e.g. [1000, 'SMB']")
                    _check(item, depth + 1)
            elif type(op) not in COMPARISONS:
                raise ConditionError(f"'{type(op).__name__}' is not allowed", column_of(node))
        children = [node.left] + [c for c, op in zip(node.comparators, node.ops, strict=True)
                                  if not isinstance(op, (ast.In, ast.NotIn))]
    elif isinstance(node, ast.Call):
        children = _call_arguments(node)
    elif isinstance(node, ast.Name):
        return
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            _check_number(node)
        if isinstance(node.value, (bool, int, float, str)) or node.value is None:
            return
        raise ConditionError(f"{type(node.value).__name__} values are not allowed", column_of(node))
    else:
        what = {ast.Call: "function calls", ast.Attribute: "attribute access",
                ast.Subscript: "indexing", ast.Lambda: "lambda", ast.ListComp: "comprehensions",
                ast.GeneratorExp: "comprehensions", ast.SetComp: "comprehensions",
                ast.DictComp: "comprehensions", ast.IfExp: "if/else expressions",
                ast.NamedExpr: "assignment", ast.Starred: "starred values",
                ast.List: "lists outside 'in'", ast.Tuple: "tuples outside 'in'",
                ast.Dict: "dictionaries", ast.Set: "sets", ast.JoinedStr: "f-strings",
                ast.Await: "await", ast.Yield: "yield"}.get(type(node), type(node).__name__)
        raise ConditionError(f"not allowed in a condition: {what}", column_of(node),
                             fix="use column names, comparisons, and/or/not, + - * /")
    for child in children:
        _check(child, depth + 1)


def _check_number(node: ast.Constant) -> None:
    """Numbers are compared as floats: one beyond what a float holds (1e400, or an integer of
    hundreds of digits) would compare as infinity or fail to convert."""
    value = node.value
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    try:
        finite = math.isfinite(float(value))
    except OverflowError:
        finite = False
    if not finite:
        raise ConditionError(f"the {_shortened(value)} is larger than any value csops "
                             f"compares (about {sys.float_info.max:.1e})", column_of(node),
                             fix="write a smaller number")


def _shortened(value: int | float) -> str:
    """How a refused number is named: an integer by its digits when long (the text is at
    most MAX_LENGTH characters, well inside what str() converts)."""
    if isinstance(value, float):
        return "number"
    text = str(abs(value))
    return f"number {text}" if len(text) <= 20 else f"number of {len(text):,} digits"


def _call_arguments(node: ast.Call) -> list[ast.AST]:
    """A call is allowed only to a named function of FUNCTIONS, with plain arguments."""
    if not isinstance(node.func, ast.Name):
        raise ConditionError("not allowed in a condition: function calls other than "
                             f"{', '.join(FUNCTIONS)}", column_of(node))
    name = node.func.id
    if name not in FUNCTIONS:
        close = difflib.get_close_matches(name, list(FUNCTIONS), n=1, cutoff=0.5)
        raise ConditionError(f"not allowed in a condition: function calls to '{name}' "
                             "(an unknown function)", column_of(node),
                             fix=(f"did you mean {close[0]}?" if close else
                                  f"functions: {', '.join(FUNCTIONS)}"))
    if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
        raise ConditionError(f"{name}(...) takes plain arguments only", column_of(node))
    fewest, most = FUNCTIONS[name]
    count = len(node.args)
    if count < fewest or (most is not None and count > most):
        wanted = str(fewest) if fewest == most else (
            f"at least {fewest}" if most is None else f"{fewest} to {most}")
        raise ConditionError(f"{name}(...) takes {wanted} argument(s), not {count}",
                             column_of(node))
    return list(node.args)


def column_of(node: ast.AST) -> int | None:
    """1-based column of a node in the condition text."""
    offset = getattr(node, "col_offset", None)
    return None if offset is None else offset + 1


NOT_CONSTANT = object()


def constant(node: ast.AST):
    """The value of a literal (number, text, true/false/null, signed number), else
    NOT_CONSTANT."""
    if isinstance(node, ast.Constant) and (isinstance(node.value, (bool, int, float, str))
                                           or node.value is None):
        return node.value
    if isinstance(node, ast.Name) and node.id in CONSTANT_NAMES:
        return CONSTANT_NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = constant(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    return NOT_CONSTANT
