"""The raw table every reader returns, and the helpers readers share (sizes, rows, header search).

Row numbers follow one convention everywhere: the rows of the file as a spreadsheet shows
them, counted from 1 at the top of the file (in a plain CSV the header is row 1 and every
line is one row; text above the header counts too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.headers import locate_header

MAX_COLUMNS = 1000
HEADER_SEARCH = 30  # the header is looked for in the first 30 non-empty rows
HELP = "Save the table as CSV, Excel (.xlsx) or Parquet and try again."


@dataclass(frozen=True, eq=False)
class RawTable:
    """A table as read, before typing.

    Attributes
    ----------
    headers : tuple of object
        The header row as found (blanks allowed, duplicates allowed).
    frame : DataFrame
        One column per header, labelled by position (0, 1, ...), cells as read.
    row_numbers : ndarray of int
        Row number of each frame row in the file (see the module docstring).
    kind : str
        ``'csv'``, ``'xlsx'``, ``'xls'``, ``'html'``, ``'parquet'`` or ``'frame'``.
    header_row : int
        Row number of the header.
    blank_rows : tuple of int
        Row numbers of blank lines the reader skipped itself.
    notes : tuple of str
        What the reader did that the user should know (sheet chosen, title skipped, unpacked).
    """

    headers: tuple[object, ...]
    frame: pd.DataFrame
    row_numbers: np.ndarray
    kind: str
    header_row: int = 1
    blank_rows: tuple[int, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())


def megabytes(size: int) -> str:
    """Format a byte count in MB for messages (``52428800`` → ``'50 MB'``)."""
    value = size / 1_048_576
    if value >= 0.1:
        return f"{value:.1f}".removesuffix(".0") + " MB"
    return f"{value:.2g} MB"


def rows_text(rows: Sequence[int] | np.ndarray, shown: int = 5) -> str:
    """Describe row numbers: ``'rows 4, 9, 15, 16, 20 and 7 more'``."""
    listed = ", ".join(str(int(r)) for r in rows[:shown])
    more = f" and {len(rows) - shown:,} more" if len(rows) > shown else ""
    return f"{'row' if len(rows) == 1 else 'rows'} {listed}{more}"


def rows_convention(header_row: int | None) -> str:
    """The sentence that says how messages number rows, for this file's header row if known."""
    where = f"; the header is row {header_row}" if header_row else ""
    return f"Row numbers are the rows of the file as a spreadsheet shows them{where}."


def check_size(size: int, max_bytes: int, name: str) -> None:
    """Raise when a file is larger than the limit, naming both sizes in MB."""
    if size > max_bytes:
        raise DataValidationError(
            [f"the file is {megabytes(size)}, over the {megabytes(max_bytes)} limit. "
             "Remove columns or customers you do not need, or split the file."], name)


def short(value: object, limit: int = 60) -> str:
    """A cell or line as a short quoted example for messages."""
    text = " ".join(str(value).split())
    return repr(text if len(text) <= limit else text[:limit - 1] + "…")


def left_out(count: int, one: str = "a customer", many: str = "customers") -> str:
    """``'is not a customer and was left out'``, or the plural for ``count`` rows."""
    return (f"is not {one} and was left out" if count == 1
            else f"are not {many} and were left out")


def above_header_note(first_row: int, header_row: int, title: object, where: str = "") -> str:
    """Note that the rows above the header (a title, comments) were left out."""
    count = header_row - first_row
    rows = f"row {first_row}" if count == 1 else f"rows {first_row}-{header_row - 1}"
    table = "part of the table"
    return (f"the header is in row {header_row}{where}; {rows} above it (starting "
            f"{short(title)}) {left_out(count, table, table)}.")


def grid_table(rows: list[tuple[object, ...]], kind: str, *, where: str = "",
               notes: tuple[str, ...] = ()) -> RawTable:
    """Build a RawTable from sheet rows (row 1 first), finding the header below any title rows.

    Parameters
    ----------
    rows : list of tuple
        Every row of the sheet, cells as read, trailing empty cells removed.
    kind : str
        The reader's kind, e.g. ``'xlsx'``.
    where : str
        Where the table was found, for notes (e.g. ``" of sheet 'Customers'"``).
    notes : tuple of str
        Notes the reader already has (e.g. which sheet was chosen).
    """
    while rows and not rows[-1]:
        rows = rows[:-1]
    filled = [i for i, r in enumerate(rows) if any(_filled(c) for c in r)]
    first = filled[0]
    header = filled[locate_header([rows[i] for i in filled[:HEADER_SEARCH]])]
    if header > first:
        notes = (*notes, above_header_note(first + 1, header + 1, _first_cell(rows[first]),
                                           where))
    width = max(len(r) for r in rows[header:])
    padded = [r + (None,) * (width - len(r)) for r in rows[header:]]
    frame = pd.DataFrame(padded[1:], columns=range(width), dtype=object)
    numbers = np.arange(header + 2, header + 1 + len(padded))
    return RawTable(tuple(padded[0]), frame, numbers, kind, header_row=header + 1, notes=notes)


def _filled(cell: object) -> bool:
    return cell is not None and str(cell).strip() != ""


def _first_cell(row: tuple[object, ...]) -> object:
    return next(c for c in row if _filled(c))
