"""Numbers as people write them in exports: ``1,234.56``, ``$40.90``, ``1.234,56 €``,
``1 234,56`` (French, non-breaking space), ``45%``, ``(12.50)``, ``12.50-``, missing-value marks
and dates written as text.

A column is parsed in one of two decimal styles, chosen once for the whole table
(:func:`uses_decimal_comma`); clean columns take a fast Arrow path, and only cells that do not
parse there are normalised (currency signs, thousands separators, percent, accounting
negatives) and classified: missing-value mark, spreadsheet error, date, or text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import (
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_numeric_dtype,
    is_object_dtype,
    is_string_dtype,
    is_timedelta64_dtype,
)

NULL_SPELLINGS = frozenset({"", "na", "nan", "null", "none", "<na>"})  # read as missing silently
MISSING_MARKS = frozenset({"-", "--", "—", "–", "n/a", "n.a.", "n.a", "na.", "?", "."})  # noted
ERROR_CELLS = frozenset({"#VALUE!", "#DIV/0!", "#N/A", "#REF!", "#NAME?", "#NUM!", "#NULL!",
                         "#SPILL!", "#CALC!", "#GETTING_DATA"})
_CURRENCY = r"(?:[$€£¥₹]|(?:USD|EUR|GBP|CHF|CAD|AUD|JPY)\b)"
_LEADING_CURRENCY = rf"^([+-]?)\s*{_CURRENCY}\s*"
_TRAILING_CURRENCY = rf"\s*{_CURRENCY}$"
_SPACES = "[ \u00a0\u202f]"  # space, no-break space, narrow no-break space (French Excel)
_DOT_GROUPED = rf"[+-]?\d{{1,3}}(?:(?:,\d{{3}})+|(?:{_SPACES}\d{{3}})+|(?:'\d{{3}})+)(?:\.\d+)?"
_COMMA_GROUPED = rf"[+-]?\d{{1,3}}(?:(?:\.\d{{3}})+|(?:{_SPACES}\d{{3}})+)(?:,\d+)?"
_EXPONENT = r"(?:[eE][+-]?\d+)?"
_COMMA_DECIMAL = rf"[+-]?\d*,\d+{_EXPONENT}"
# Written only in one style: 12,5 / 1.234,56 / 1 234,56 (comma) and 12.5 / 1,234.56 (dot)
_COMMA_ONLY = (rf"[+-]?(?:\d*,\d{{1,2}}|\d*,\d{{4,}}|"
               rf"\d{{1,3}}(?:(?:\.\d{{3}})+|(?:{_SPACES}\d{{3}})+),\d+){_EXPONENT}")
_DOT_ONLY = (r"[+-]?(?:\d*\.\d{1,2}|\d*\.\d{4,}|\d{4,}\.\d+|0\.\d+|\d{1,3}(?:,\d{3})+\.\d+)"
             + _EXPONENT)
# Dates and times written as text: 2025-06-30, 30/06/2025, 30.06.25, 30 Jun 2025, Jun 30, 2025,
# each with an optional time (14:05, 14:05:09.5, T14:05Z, +02:00), or a time alone.
_TIME = r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AaPp][Mm])?(?:Z|\s*[+-]\d{2}:?\d{2})?"
_MONTH = r"[A-Za-z]{3,9}\.?"
_DATE_TEXT = (rf"(?:(?:\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}|\d{{1,2}}[-/.]\d{{1,2}}[-/.]\d{{2,4}}"
              rf"|\d{{1,2}}[ -]{_MONTH}[ -]\d{{2,4}}|{_MONTH} \d{{1,2}},? \d{{4}})"
              rf"(?:[ T]{_TIME})?|{_TIME})")


@dataclass(frozen=True, eq=False)
class ParsedColumn:
    """One column's numbers and what each unreadable or unusual cell was.

    Attributes
    ----------
    values : ndarray of float64
        The numbers; NaN where a cell is empty, a mark, an error, a date or text.
    text, errors, marks, dates : ndarray of bool
        Cells that are text, spreadsheet errors (``#N/A``), missing-value marks (``-``,
        ``N/A``, ``?``; not empty cells) and dates or times (typed, or written as text such
        as ``2025-06-30``).
    formatted : ndarray of bool
        Numbers read after removing currency signs or thousands separators.
    percent : ndarray of bool
        Numbers written with ``%`` (``values`` holds them divided by 100).
    """

    values: np.ndarray
    text: np.ndarray
    errors: np.ndarray
    marks: np.ndarray
    dates: np.ndarray
    formatted: np.ndarray
    percent: np.ndarray


def parse_numbers(values: pd.Series, comma: bool) -> ParsedColumn:
    """Parse one column in the dot (``comma=False``) or comma decimal style."""
    n = len(values)
    none = np.zeros(n, dtype=bool)
    if is_datetime64_any_dtype(values.dtype) or is_timedelta64_dtype(values.dtype):
        return ParsedColumn(np.full(n, np.nan), none, none, none, values.notna().to_numpy(),
                            none, none)
    if is_bool_dtype(values.dtype) or is_numeric_dtype(values.dtype):
        return ParsedColumn(values.to_numpy(dtype="float64", na_value=np.nan), none, none, none,
                            none, none, none)
    if not comma:
        fast = _fast_numbers(values)
        if fast is not None:
            return ParsedColumn(fast, none, none, none, none, none, none)
    numbers = np.full(n, np.nan)
    dates = none.copy()
    cells = values
    if is_object_dtype(values.dtype):
        kinds = values.map(type)
        numeric = kinds.isin((int, float, bool)).to_numpy()
        numbers[numeric] = values[numeric].to_numpy(dtype="float64")
        dates = np.array(values.map(lambda v: isinstance(v, dt.date | dt.time | dt.timedelta)),
                         dtype=bool)
        cells = values.where(~(numeric | dates))
    todo = np.flatnonzero(~np.isfinite(numbers) & ~dates & values.notna().to_numpy())
    parsed = _normalised(cells.iloc[todo].astype("str").str.strip(), comma)
    numbers[todo] = parsed.values
    column = ParsedColumn(numbers, *(np.zeros(n, dtype=bool) for _ in range(6)))
    for name in ("text", "errors", "marks", "dates", "formatted", "percent"):
        getattr(column, name)[todo] = getattr(parsed, name)
    column.dates[:] |= dates
    return column


def uses_decimal_comma(columns: list[pd.Series], parsed: list[ParsedColumn]) -> bool:
    """True when numbers are written 1.234,56 / 12,5 / 1 234,56 and never 12.5 / 1,234.56.

    ``parsed`` holds the same columns parsed in the dot style: comma-style numbers show up
    there as text cells.
    """
    if not any(_written(v[p.text]).str.fullmatch(_COMMA_ONLY).any()
               for v, p in zip(columns, parsed, strict=True) if p.text.any()):
        return False
    return not any(_written(v[~np.isnan(p.values)]).str.fullmatch(_DOT_ONLY).any()
                   for v, p in zip(columns, parsed, strict=True))


def _written(values: pd.Series) -> pd.Series:
    """Text cells as written, without currency signs or a percent sign."""
    if not (is_object_dtype(values.dtype) or is_string_dtype(values.dtype)):
        return pd.Series([], dtype=object)
    is_text = values.map(lambda v: isinstance(v, str)) if is_object_dtype(values.dtype) else None
    cells = values if is_text is None else values[is_text]
    return _without_currency(cells.astype("str").str.strip()).str.removesuffix("%")


def _without_currency(text: pd.Series) -> pd.Series:
    """Text without a leading (after any sign) or trailing currency sign or code."""
    return text.str.replace(_LEADING_CURRENCY, r"\1", regex=True) \
        .str.replace(_TRAILING_CURRENCY, "", regex=True)


def _normalised(cells: pd.Series, comma: bool) -> ParsedColumn:
    """Parse stripped text cells after removing currency, grouping, percent and parentheses."""
    text = _without_currency(cells)
    percent = text.str.fullmatch(r".*\d\s*%")
    text = text.mask(percent, text.str.removesuffix("%").str.strip())
    negative = text.str.fullmatch(r"\(\s*[\d.,' \u00a0\u202f]+\s*\)") | \
        text.str.fullmatch(r"\d[\d.,' \u00a0\u202f]*-")  # (12.50), and SAP's trailing minus 12.50-
    text = text.mask(negative, "-" + text.str.strip("() -"))
    grouped = text.str.fullmatch(_COMMA_GROUPED if comma else _DOT_GROUPED)
    separators = r"[.\s\u00a0\u202f]" if comma else r"[,'\s\u00a0\u202f]"
    text = text.mask(grouped, text.str.replace(separators, "", regex=True))
    reformatted = (text != cells).to_numpy(dtype=bool)  # before 12,5 → 12.5: that is a style
    if comma:
        text = text.mask(text.str.fullmatch(_COMMA_DECIMAL), text.str.replace(",", ".",
                                                                              regex=False))
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    read = ~np.isnan(values)
    values = np.where(percent.to_numpy(dtype=bool) & read, values / 100, values)
    upper = cells.str.upper()
    errors = upper.isin(ERROR_CELLS).to_numpy(dtype=bool) & ~read
    lower = cells.str.lower()
    marks = lower.isin(MISSING_MARKS).to_numpy(dtype=bool) & ~read
    nulls = lower.isin(NULL_SPELLINGS).to_numpy(dtype=bool)
    formatted = read & reformatted & ~percent.to_numpy(dtype=bool)
    dates = cells.str.fullmatch(_DATE_TEXT).to_numpy(dtype=bool) & ~read
    return ParsedColumn(values, ~read & ~errors & ~marks & ~nulls & ~dates, errors, marks, dates,
                        formatted, read & percent.to_numpy(dtype=bool))


def _fast_numbers(values: pd.Series) -> np.ndarray | None:
    """Parse a clean text column with Arrow (about 10x faster); None when a cell is not a number."""
    if is_object_dtype(values.dtype) or not is_string_dtype(values.dtype):
        return None
    text = pc.utf8_trim_whitespace(pa.array(values))
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)
    try:
        return pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None

