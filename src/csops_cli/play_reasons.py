"""Why a play fired for an account: the values that made its condition true, only those.

``license_utilization > 0.8 or new_business_unit`` that fired on a new business unit says
``new_business_unit=true``, not ``license_utilization=0.48; new_business_unit=true``. The
condition is split at ``and``/``or``/``not`` into its comparisons; each is compiled by the same
allow-list compiler as the whole, and a column is named for a row when a comparison that reads
it helped make the row true: every part of an ``and``, the true parts of an ``or``, the whole
of a ``not``. A missing value never makes a comparison true, so no ``null`` reaches a CRM note.
"""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd

from .condition_syntax import parse
from .conditions import compile_condition

Contributions = dict[str, pd.Series]  # column -> rows where it helped make the part true


def reasons(condition: str, frame: pd.DataFrame) -> pd.Series:
    """'health_score=62.3; health_change=-12' for each row of ``frame`` (rows for which the
    condition holds; for others the text is empty)."""
    if frame.empty:
        return pd.Series([], index=frame.index, dtype="string")
    truth, helped = _contributions(parse(condition).body, frame)
    text = pd.Series("", index=frame.index, dtype="string")
    for name, rows in helped.items():
        shown = _shown(frame[name])
        rows = rows & truth & shown.notna().to_numpy(dtype=bool)
        part = (name + "=" + shown).where(rows, "")
        text = text.where(~rows | (text == ""), text + "; ") + part.fillna("")
    return text


def _contributions(node: ast.AST, frame: pd.DataFrame) -> tuple[np.ndarray, Contributions]:
    if isinstance(node, ast.BoolOp):
        parts = [_contributions(value, frame) for value in node.values]
        truths = [truth for truth, _ in parts]
        if isinstance(node.op, ast.And):
            truth = np.logical_and.reduce(truths)
            return truth, _union(helped for _, helped in parts)
        truth = np.logical_or.reduce(truths)
        return truth, _union({name: rows & part_truth for name, rows in helped.items()}
                             for part_truth, helped in parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner, helped = _contributions(node.operand, frame)
        names = dict.fromkeys(helped) or dict.fromkeys(_names(node.operand))
        return ~inner, dict.fromkeys(names, ~inner)
    condition = compile_condition(ast.unparse(node), frame)
    truth = condition(frame).to_numpy(dtype=bool)
    return truth, dict.fromkeys(condition.names, truth)


def _union(parts) -> Contributions:
    merged: Contributions = {}
    for helped in parts:
        for name, rows in helped.items():
            merged[name] = merged[name] | rows if name in merged else rows
    return merged


def _names(node: ast.AST) -> list[str]:
    return [child.id for child in ast.walk(node) if isinstance(child, ast.Name)]


def _shown(values: pd.Series) -> pd.Series:
    """A column's values as short text; missing values stay missing."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.map({True: "true", False: "false"}).astype("string")
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.astype("float64").to_numpy(dtype=float, na_value=np.nan)
        return pd.Series(number_text(numbers), index=values.index, dtype="string")
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values.dt.strftime("%Y-%m-%d").astype("string")
    return values.astype("string")


# below this, a number times 100 is exact to far better than a hundredth of a cent
EXACT_BELOW = 2.0 ** 40


def number_text(numbers: np.ndarray) -> np.ndarray:
    """Numbers as short text (None where missing): whole ones as ``{:.0f}`` writes them,
    others as ``{:.2f}``, digit for digit. Made with integer arithmetic over the whole array;
    the few numbers it cannot settle (a half cent apart from a tie of the rounding, too large,
    infinite, minus zero) are formatted one by one."""
    import pyarrow as pa
    import pyarrow.compute as pc

    present = ~np.isnan(numbers)
    finite = np.isfinite(numbers) & (np.abs(numbers) < EXACT_BELOW)
    whole = finite & (np.round(numbers) == numbers)
    cents = np.where(finite, numbers, 0.0) * 100
    nearest = np.round(cents)
    settled = finite & ~np.signbit(numbers) | finite & (numbers < 0)  # not minus zero
    settled &= whole | (np.abs(np.abs(cents - nearest) - 0.5) > 1e-6)
    units = np.where(whole, numbers, 0).astype(np.int64)
    hundredths = np.abs(nearest).astype(np.int64)
    sign = np.where(numbers < 0, "-", "")
    fraction = pa.array(hundredths % 100).cast(pa.string())
    decimals = pc.binary_join_element_wise(
        pa.array(sign), pa.array(hundredths // 100).cast(pa.string()),
        pc.utf8_lpad(fraction, 2, "0"), "")  # sign, units, two digits
    decimals = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(decimals, 0, -2), pc.utf8_slice_codeunits(decimals, -2),
        ".")
    text = np.where(whole, pa.array(units).cast(pa.string()).to_numpy(zero_copy_only=False),
                    decimals.to_numpy(zero_copy_only=False)).astype(object)
    for position in np.flatnonzero(present & ~settled):
        number = float(numbers[position])
        text[position] = f"{number:.0f}" if np.round(number) == number else f"{number:.2f}"
    text[~present] = None
    return text


def values_read(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.Series:
    """Every value a condition reads ('missing' where there is none): why a play did not
    fire, as `csops explain` shows it."""
    text = pd.Series("", index=frame.index, dtype="string")
    for number, name in enumerate(names):
        part = name + "=" + _shown(frame[name]).fillna("missing")
        text = part if number == 0 else text + "; " + part
    return text
