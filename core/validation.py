"""Raw table → typed customer frame and quality report, or one error naming every problem.

Blocking problems (missing or clashing columns, text in numeric columns, infinite or
negative values, blank or duplicate ids, no rows) are collected over the whole table and
raised together as one :class:`~core.errors.DataValidationError`. Soft problems become
:class:`QualityIssue` warnings. All checks are vectorised: a million rows is fine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_integer_dtype,
    is_numeric_dtype,
    is_object_dtype,
    is_string_dtype,
)

from core.errors import DataValidationError
from core.formula import FORMULA_CHARACTERS, formula_like
from core.headers import (
    HeaderMatch,
    clean_header,
    closest_header,
    column_letter,
    is_blank_name,
    is_row_numbers,
    match_header,
    match_headers,
)
from core.numbers import ParsedColumn, parse_numbers, uses_decimal_comma
from core.report_rows import report_rows
from core.schema import (
    BEHAVIOUR_COLUMNS,
    COLUMN_BY_NAME,
    COUNT_COLUMNS,
    FREQUENCY_COLUMNS,
    ID_COLUMN,
)
from core.tables import RawTable, rows_convention, rows_text, short

TENURE_RANGE = (6, 12)
CREDIT_BALANCE_COLUMN = "BALANCE"  # a credit balance (overpayment) is real: warned, not refused
PLACEHOLDER_LIMIT = 1e15  # no amount or count reaches this; 2**63 - 1 or 2**64 - 1 mean "unknown"
TYPE_MAXIMA = (2**31 - 1, 2**32 - 1, 2**63 - 1, 2**64 - 1)
_SHOWN_ROWS = 5


@dataclass(frozen=True)
class QualityIssue:
    """One soft problem: the table loads, but the user should know.

    Attributes
    ----------
    column : str
        Canonical column (or attribute / header) concerned; ``''`` for the whole table.
    message : str
        A sentence for a business user, starting with the column.
    count : int
        Number of cells or rows concerned.
    rows : tuple of int
        First few spreadsheet row numbers (header = row 1, first customer = row 2).
    level : str
        ``'warning'`` (data quality) or ``'info'`` (what the loader did, e.g. renamed headers).
    """

    column: str
    message: str
    count: int
    rows: tuple[int, ...] = ()
    level: str = "warning"


@dataclass(frozen=True)
class QualityReport:
    """Soft problems found while loading a table of ``rows`` customers.

    ``header_row`` is the header's row number in the file; messages count rows from the top
    of the file (:func:`core.tables.rows_convention`).
    """

    rows: int
    issues: tuple[QualityIssue, ...] = ()
    header_row: int = 1

    @property
    def convention(self) -> str:
        """The sentence saying how row numbers in these messages are counted."""
        return rows_convention(self.header_row)

    @property
    def warnings(self) -> tuple[QualityIssue, ...]:
        """The issues about data quality (level ``'warning'``)."""
        return tuple(i for i in self.issues if i.level == "warning")

    def for_column(self, column: str) -> tuple[QualityIssue, ...]:
        """The issues about one column."""
        return tuple(i for i in self.issues if i.column == column)

    def lines(self) -> list[str]:
        """One plain sentence per issue, warnings first."""
        ordered = sorted(self.issues, key=lambda i: i.level != "warning")
        return [i.message for i in ordered]


@dataclass(frozen=True, eq=False)
class Validated:
    """The outcome of :func:`validate`."""

    frame: pd.DataFrame
    attributes: tuple[str, ...]
    renamed: tuple[tuple[str, str], ...]
    quality: QualityReport


def _cells(values: pd.Series, positions: np.ndarray, limit: int = 3) -> str:
    """Up to ``limit`` distinct example cells, as reprs."""
    shown: list[str] = []
    for value in values.iloc[positions[:200]]:
        value = value.item() if isinstance(value, np.generic) else value
        text = short(value) if isinstance(value, str) else repr(
            value if isinstance(value, int | float) else str(value))
        if text not in shown:
            shown.append(text)
        if len(shown) == limit:
            break
    return ", ".join(shown)


def _blank(values: pd.Series) -> np.ndarray:
    """True where a cell is empty (missing, or only whitespace)."""
    if is_numeric_dtype(values.dtype) or is_bool_dtype(values.dtype):
        return values.isna().to_numpy()
    text = values if is_string_dtype(values.dtype) and not is_object_dtype(values.dtype) \
        else values.astype("str")
    return (text.isna() | text.str.strip().eq("")).to_numpy(dtype=bool)


def _ids(values: pd.Series) -> pd.Series:
    """Customer ids as text, exactly as written (only surrounding spaces removed)."""
    if is_integer_dtype(values.dtype) or is_bool_dtype(values.dtype):
        return values.astype("str").mask(values.isna()).reset_index(drop=True)
    if is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(numbers)
        text = values.astype("str")
        if (numbers[finite] == np.round(numbers[finite])).all() and \
                (np.abs(numbers[finite]) < 2**53).all():
            text = pd.Series(np.where(finite, numbers, 0).astype(np.int64)).astype("str")
        return text.mask(~finite).reset_index(drop=True)
    if is_object_dtype(values.dtype):
        values = pd.Series([str(int(v)) if isinstance(v, float) and v.is_integer() else v
                            for v in values], dtype=object)
    return values.astype("str").str.strip()


def _attribute(values: pd.Series) -> pd.Series:
    """A pass-through column: numbers stay numbers, text stays text (codes like '007' kept)."""
    if is_object_dtype(values.dtype):
        values = values.infer_objects()
    if not (is_object_dtype(values.dtype) or is_string_dtype(values.dtype)):
        return values.reset_index(drop=True)
    blank = _blank(values)
    text = values.astype("str").str.strip().mask(blank)
    filled = text[~blank]
    if len(filled) and not filled.str.match(r"[+-]?0\d").any():
        numbers = pd.to_numeric(filled, errors="coerce")
        if numbers.notna().all():
            return pd.to_numeric(text, errors="coerce").reset_index(drop=True)
    return text.reset_index(drop=True)


class _Checker:
    """Collects blocking problems and soft issues for one table."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows
        self.problems: list[str] = []
        self.issues: list[QualityIssue] = []

    def where(self, mask: np.ndarray) -> tuple[np.ndarray, str]:
        positions = np.flatnonzero(mask)
        return positions, rows_text(self.rows[positions])

    def issue(self, column: str, message: str, mask: np.ndarray, level: str = "warning") -> None:
        positions = np.flatnonzero(mask)
        rows = tuple(int(r) for r in self.rows[positions[:_SHOWN_ROWS]])
        self.issues.append(QualityIssue(column, message, len(positions), rows, level))

    def info(self, column: str, message: str, count: int, rows: tuple[int, ...] = ()) -> None:
        self.issues.append(QualityIssue(column, message, count, rows, "info"))


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def _check_headers(check: _Checker, headers: list[str], origin: list[int], match: HeaderMatch,
                   no_rows: bool) -> None:
    for name, positions in match.conflicts.items():
        found = [f"{headers[p]!r} (column {column_letter(origin[p])})" for p in positions]
        listed = ", ".join(found[:-1]) + " and " + found[-1]
        check.problems.append(f"headers {listed} all match column {name}; keep one and rename "
                              "or delete the others." if len(found) > 2 else
                              f"headers {listed} both match column {name}; keep one and "
                              "rename or delete the other.")
    if not match.columns and not match.conflicts:
        shown = ", ".join(repr(h) for h in headers[:5] if h) or "none"
        more = f" and {len(headers) - 5:,} more" if len(headers) > 5 else ""
        check.problems.append(
            f"none of the expected columns ({ID_COLUMN}, {', '.join(BEHAVIOUR_COLUMNS[:3])}, ...) "
            f"were found; headers found: {shown}{more}. Is this a CC GENERAL customer table "
            "with its header in the first row?")
        return
    unknown = [headers[p] for p in match.attributes if headers[p]]
    alone: list[str] = []
    for name in match.missing:
        closest = closest_header(name, unknown)
        if closest is not None:
            check.problems.append(f"missing column {name} (closest header found: {closest!r}).")
        else:
            alone.append(name)
    if alone:
        check.problems.append(f"missing {'column' if len(alone) == 1 else 'columns'} "
                              f"{', '.join(alone)} (no similar header found).")
    if no_rows:
        check.problems.append("the file has a header row but no customer rows.")


def _check_ids(check: _Checker, ids: pd.Series) -> None:
    blank = (ids.isna() | ids.eq("")).to_numpy(dtype=bool)
    if blank.any():
        _, where = check.where(blank)
        check.problems.append(f"{ID_COLUMN} is blank in {_plural(int(blank.sum()), 'row', 'rows')}"
                              f" ({where}); every customer needs an id.")
    duplicated = ids.duplicated(keep=False).to_numpy(dtype=bool) & ~blank
    if duplicated.any():
        repeated = ids[duplicated]
        names = repeated.unique()
        where = check.rows[np.flatnonzero(duplicated)]
        parts = [f"{name!r} ({rows_text(where[repeated.eq(name).to_numpy()])})"
                 for name in names[:_SHOWN_ROWS]]
        more = f" and {len(names) - _SHOWN_ROWS:,} more" if len(names) > _SHOWN_ROWS else ""
        ids_text = _plural(len(names), "id appears", "ids appear")
        check.problems.append(f"{ID_COLUMN} must be unique; {ids_text} more than once: "
                              f"{', '.join(parts)}{more}.")
    formulas = formula_like(ids).to_numpy() & ~blank
    if formulas.any():
        positions, where = check.where(formulas)
        check.issue(ID_COLUMN, f"{ID_COLUMN}: {_plural(len(positions), 'id begins', 'ids begin')}"
                    f" like a spreadsheet formula ({FORMULA_CHARACTERS}), e.g. "
                    f"{_cells(ids, positions)} ({where}). Ids are kept and exported exactly; "
                    "open member lists in a spreadsheet as XLSX, where they are text.", formulas)


def _check_column(check: _Checker, name: str, raw: pd.Series, parsed: ParsedColumn) -> None:
    """Blocking checks (text, dates, percent, infinite, negative, placeholders), then notes."""
    values = parsed.values
    if name not in FREQUENCY_COLUMNS and parsed.percent.any():
        positions, where = check.where(parsed.percent)
        check.problems.append(f"column {name} holds percentages ({where}: "
                              f"{_cells(raw, positions)}); only frequency columns (scores 0-1) "
                              "may be written as percentages.")
        values = np.where(parsed.percent, np.nan, values)
    if parsed.dates.any():
        positions, where = check.where(parsed.dates)
        check.problems.append(f"column {name} holds dates or times, not numbers ({where}: "
                              f"{_cells(raw, positions)}); {name} must be a number "
                              f"({COLUMN_BY_NAME[name].unit}).")
    if parsed.text.any():
        positions, where = check.where(parsed.text)
        examples = _cells(raw, positions)
        hint = ("Check the decimal separator or export with '.' decimals."
                if any(ch.isdigit() for ch in examples) else "Leave unknown values empty instead.")
        check.problems.append(f"column {name} must be numeric; "
                              f"{_plural(len(positions), 'row contains', 'rows contain')} text "
                              f"({where}: {examples}). {hint}")
    infinite = np.isinf(values)
    if infinite.any():
        positions, where = check.where(infinite)
        check.problems.append(f"column {name} contains infinite values in "
                              f"{_plural(len(positions), 'row', 'rows')} ({where}: "
                              f"{_cells(raw, positions)}); use real numbers or leave the cells "
                              "empty.")
    placeholder = np.isfinite(values) & ((np.abs(values) >= PLACEHOLDER_LIMIT) | (
        np.isin(values, TYPE_MAXIMA) & (name in COUNT_COLUMNS)))
    if placeholder.any():
        positions, where = check.where(placeholder)
        check.problems.append(f"column {name} holds {_cells(raw, positions)} ({where}), far beyond "
                              "any real amount or count: the largest number a file type can "
                              "store, usually a placeholder for 'unknown'. Leave unknown values "
                              "empty.")
    _check_negative(check, name, raw, values)
    _format_notes(check, name, raw, parsed)
    _soft_checks(check, name, values)


def _check_negative(check: _Checker, name: str, raw: pd.Series, values: np.ndarray) -> None:
    negative = np.isfinite(values) & (values < 0)
    if not negative.any():
        return
    positions, where = check.where(negative)
    if name == CREDIT_BALANCE_COLUMN:
        check.issue(name, f"{name}: {_plural(len(positions), 'customer has', 'customers have')} "
                    f"a credit balance (below 0; {where}: {_cells(raw, positions)}). Kept as "
                    "found; segmentations that log-scale money count them as a balance of 0.",
                    negative)
        return
    check.problems.append(f"column {name} must not be negative "
                          f"({COLUMN_BY_NAME[name].label.lower()} cannot be below 0); "
                          f"{_plural(len(positions), 'row is', 'rows are')} below 0 ({where}: "
                          f"{_cells(raw, positions)}).")


def _format_notes(check: _Checker, name: str, raw: pd.Series, parsed: ParsedColumn) -> None:
    """Say how unusual cells were read: percentages, missing-value marks, errors."""
    percent = parsed.percent if name in FREQUENCY_COLUMNS else parsed.percent[:0]
    for mask, one, many, what in (
            (percent, "value is", "values are", " written as percentages and divided by 100"),
            (parsed.marks, "cell holds a missing-value mark", "cells hold missing-value marks",
             ", counted as missing")):
        if mask.any():
            positions = np.flatnonzero(mask)
            check.issue(name, f"{name}: {_plural(len(positions), one, many)}{what} (e.g. "
                        f"{_cells(raw, positions)}).", mask, "info")
    if parsed.errors.any():
        found = sorted(set(raw[parsed.errors].astype("str").str.strip().str.upper()))
        cells = _plural(int(parsed.errors.sum()), "spreadsheet error cell",
                        "spreadsheet error cells")
        check.issue(name, f"{name}: {cells} ({', '.join(found)}) will be treated as missing.",
                    parsed.errors)


def _soft_checks(check: _Checker, name: str, values: np.ndarray) -> None:
    missing = np.isnan(values)
    if missing.any():
        share = 100 * missing.mean()
        percent = f"{share:.1f}" if share >= 0.1 else "<0.1"
        check.issue(name, f"{name}: {int(missing.sum()):,} missing ({percent} %) — will be "
                    "filled during cleaning.", missing)
    finite = np.isfinite(values)
    if name in FREQUENCY_COLUMNS:
        above = finite & (values > 1)
        if above.any():
            check.issue(name, f"{name}: {_plural(int(above.sum()), 'value is', 'values are')} "
                        f"above 1 (up to {values[above].max():g}); frequencies are scores "
                        "between 0 and 1.", above)
    if name in COUNT_COLUMNS or name == "TENURE":
        fractional = finite & (values != np.round(values))
        if fractional.any():
            check.issue(name, f"{name}: {_plural(int(fractional.sum()), 'value is', 'values are')}"
                        " not whole numbers.", fractional)
    if name == "TENURE":
        low, high = TENURE_RANGE
        outside = finite & ((values < low) | (values > high))
        if outside.any():
            check.issue(name, f"{name}: {_plural(int(outside.sum()), 'value is', 'values are')} "
                        f"outside {low}-{high} months.", outside)


def _formatted_note(check: _Checker, frame: pd.DataFrame, columns: dict[str, int],
                    parsed: dict[str, ParsedColumn]) -> None:
    """One note for every column whose numbers carry currency signs or thousands separators."""
    formatted = [n for n, p in parsed.items() if p.formatted.any()]
    if not formatted:
        return
    first = parsed[formatted[0]].formatted
    example = _cells(frame[columns[formatted[0]]], np.flatnonzero(first))
    check.issue("", f"{_plural(len(formatted), 'column', 'columns')} ({', '.join(formatted)}) "
                f"{'holds' if len(formatted) == 1 else 'hold'} numbers written with currency "
                f"signs or thousands separators, read as numbers (e.g. {example}).",
                np.logical_or.reduce([parsed[n].formatted for n in formatted]), "info")


def _check_purchases(check: _Checker, numbers: dict[str, np.ndarray]) -> None:
    if not {"PURCHASES", "ONEOFF_PURCHASES", "INSTALLMENTS_PURCHASES"} <= numbers.keys():
        return
    total = numbers["ONEOFF_PURCHASES"] + numbers["INSTALLMENTS_PURCHASES"]
    purchases = numbers["PURCHASES"]
    # a file that rounds amounts (to cents or whole units) makes sums differ by up to a unit
    differ = np.isfinite(total) & np.isfinite(purchases) & ~np.isclose(purchases, total, atol=1)
    if differ.any():
        rows = _plural(int(differ.sum()), "row differs", "rows differ")
        check.issue("PURCHASES", f"PURCHASES: {rows} from ONEOFF_PURCHASES + "
                    "INSTALLMENTS_PURCHASES.", differ)


def _parse_all(frame: pd.DataFrame, columns: dict[str, int]) -> dict[str, ParsedColumn]:
    """Parse every behavioural column; switch the whole table to decimal commas if it uses them."""
    present = [n for n in BEHAVIOUR_COLUMNS if n in columns]
    cells = [frame[columns[n]] for n in present]
    parsed = [parse_numbers(c, comma=False) for c in cells]
    if uses_decimal_comma(cells, parsed):
        parsed = [parse_numbers(c, comma=True) for c in cells]
    return dict(zip(present, parsed, strict=True))


def _row_number_column(frame: pd.DataFrame, headers: list[str], match: HeaderMatch) -> bool:
    """True when the first column is a saved row index rather than data."""
    if frame.shape[1] < 2 or frame.empty or not is_row_numbers(frame[frame.columns[0]]):
        return False
    name = match_header(headers[0])
    if name is None or 0 in match.attributes:
        return is_blank_name(headers[0]) or len(frame) >= 2
    return name in match.conflicts


def _attribute_names(headers: list[str], origin: list[int],
                     positions: tuple[int, ...]) -> list[str]:
    names: list[str] = []
    for position in positions:
        base = headers[position] or f"column {column_letter(origin[position])}"
        name, n = base, 2
        while name in names:
            name, n = f"{base} ({n})", n + 1
        names.append(name)
    return names


def _drop_empty(raw: RawTable, headers: list[str]) -> tuple[
        pd.DataFrame, list[str], list[int], np.ndarray, np.ndarray]:
    """Drop blank rows and blank unnamed columns; return what is left and where it came from.

    Returns the frame (columns relabelled 0, 1, ...), its headers, each column's position in
    the file, each row's spreadsheet number, and the numbers of blank rows *between* data rows.
    """
    frame = raw.frame
    blank = {c: _blank(frame[c]) for c in frame.columns}
    keep_columns = [c for c in frame.columns if headers[c] or not blank[c].all()]
    keep_rows = ~np.logical_and.reduce([blank[c] for c in keep_columns]) if keep_columns \
        else np.zeros(len(frame), dtype=bool)
    rows = raw.row_numbers[keep_rows]
    skipped = np.sort(np.concatenate([raw.row_numbers[~keep_rows], raw.blank_rows]))
    skipped = skipped[skipped < rows.max()] if len(rows) else skipped[:0]
    if not keep_rows.all():
        frame = frame.iloc[np.flatnonzero(keep_rows)]
    frame = frame[keep_columns].reset_index(drop=True)
    frame.columns = range(frame.shape[1])
    return frame, [headers[c] for c in keep_columns], [int(c) for c in keep_columns], rows, \
        skipped


def validate(raw: RawTable, source: str) -> Validated:
    """Turn a raw table into the typed customer frame, or raise every blocking problem at once.

    Parameters
    ----------
    raw : RawTable
        Cells as read by :mod:`core.readers` (or from an in-memory frame).
    source : str
        File name or label, used as the error prefix.

    Returns
    -------
    Validated
        The frame (``CUST_ID`` text, 17 float64 columns, then attributes), attribute names,
        renamed headers and the quality report.

    Raises
    ------
    DataValidationError
        With one sentence per blocking problem.
    """
    headers = [clean_header(h) for h in raw.headers]
    if not any(headers) and raw.frame.empty:
        raise DataValidationError(["the file is empty."], source)
    frame, headers, origin, rows, skipped_rows = _drop_empty(raw, headers)
    check = _Checker(rows)
    for note in raw.notes:
        check.info("", note, 0)

    match = match_headers(headers)
    report, notes = report_rows(frame, match.columns, rows)
    if report.any():
        frame = frame[~report].reset_index(drop=True)
        rows = check.rows = rows[~report]
    for note in notes:
        check.info("", note, 0)
    if _row_number_column(frame, headers, match):
        label = f"({headers[0]!r})" if headers[0] else "(without a header)"
        check.info(headers[0], f"the first column {label} holds row numbers and was left out.",
                   len(frame))
        frame = frame.drop(columns=0)
        frame.columns = range(frame.shape[1])
        headers, origin = headers[1:], origin[1:]
        match = match_headers(headers)
    _check_headers(check, headers, origin, match, no_rows=frame.empty)
    convention = rows_convention(raw.header_row)
    if frame.empty:
        raise DataValidationError(check.problems, source, note=convention)
    if len(skipped_rows):
        check.info("", f"{_plural(len(skipped_rows), 'empty row was', 'empty rows were')} "
                   f"skipped ({rows_text(skipped_rows)}).", len(skipped_rows),
                   tuple(int(r) for r in skipped_rows[:_SHOWN_ROWS]))

    ids = None
    if ID_COLUMN in match.columns:
        ids = _ids(frame[match.columns[ID_COLUMN]]).reset_index(drop=True)
        _check_ids(check, ids)
    parsed = _parse_all(frame, match.columns)
    for name, column in parsed.items():
        _check_column(check, name, frame[match.columns[name]], column)
    _formatted_note(check, frame, match.columns, parsed)
    _check_purchases(check, {n: v.values for n, v in parsed.items()})
    if parsed:
        empty = np.logical_and.reduce([np.isnan(v.values) for v in parsed.values()])
        if empty.any():
            check.issue("", f"{_plural(int(empty.sum()), 'customer has', 'customers have')} no "
                        f"behaviour values at all ({check.where(empty)[1]}).", empty)
    if check.problems:
        raise DataValidationError(check.problems, source, note=convention)

    renamed = tuple((headers[p], name) for name, p in match.columns.items()
                    if headers[p] != name)
    if renamed:
        pairs = ", ".join(f"{found!r} → {name}" for found, name in renamed)
        check.info("", f"{_plural(len(renamed), 'header was', 'headers were')} matched to the "
                   f"standard column names: {pairs}.", len(renamed))
    attributes = _attribute_names(headers, origin, match.attributes)
    columns: dict[str, pd.Series | np.ndarray] = {ID_COLUMN: ids}
    columns.update({n: v.values for n, v in parsed.items()})
    columns.update({a: _attribute(frame[p]) for a, p in zip(attributes, match.attributes,
                                                               strict=True)})
    out = pd.DataFrame(columns)
    issues = sorted(check.issues, key=lambda i: i.level != "warning")
    return Validated(out, tuple(attributes), renamed,
                     QualityReport(len(out), tuple(issues), raw.header_row))
