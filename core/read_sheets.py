"""Spreadsheets: Excel workbooks (.xlsx with openpyxl, legacy .xls with xlrd) and HTML tables.

A workbook may hold notes on its first sheet and the customers on another: every sheet's
first rows are scored by how many CC GENERAL columns they name, and the best sheet is read
(with a note saying which). Title and merged group-header rows above the header are left
out (:func:`core.tables.grid_table`).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Iterator

from core.errors import DataValidationError
from core.headers import header_score
from core.tables import HEADER_SEARCH, HELP, MAX_COLUMNS, RawTable, grid_table, megabytes

XLSX_EXPANSION = 20  # an .xlsx may unpack to at most this many times the byte limit
ZIP_BOMB_RATIO = 200  # an entry above 10 MB unpacked and this compression ratio is refused
ZIP_MAX_ENTRIES = 10_000


def _trimmed(rows: Iterable[Iterable[object]], label: str, name: str) -> Iterator[tuple]:
    """Rows without trailing empty cells, refusing sheets wider than MAX_COLUMNS."""
    for row in rows:
        row = tuple(row)
        end = len(row)
        while end and (row[end - 1] is None or row[end - 1] == ""):
            end -= 1
        if end > MAX_COLUMNS:
            raise DataValidationError(
                [f"{label} has values in {end:,} columns; at most {MAX_COLUMNS:,} "
                 "are accepted. Is this the right file?"], name)
        yield row[:end]


def _best_sheet(sheets: list[tuple[str, Callable[[], Iterator[tuple]]]], kind: str,
                name: str) -> RawTable:
    """Read the sheet whose first rows name the most columns (ties: the first sheet).

    ``sheets`` pairs a label for messages (``"sheet 'Customers'"``, ``"table 2"``) with a
    function that yields the sheet's rows.
    """
    def score(rows: Callable[[], Iterator[tuple]]) -> int:
        head = []
        for row in rows():
            head.append(header_score(row))
            if len(head) >= HEADER_SEARCH:
                break
        return max(head, default=0)

    if not sheets:
        raise DataValidationError(["the workbook has no sheets."], name)
    scores = [score(rows) for _, rows in sheets] if len(sheets) > 1 else [1]
    best = scores.index(max(scores))
    label, rows = sheets[best]
    table = list(rows())
    if not any(table):
        raise DataValidationError([f"{label} is empty."], name)
    notes: tuple[str, ...] = ()
    if best > 0:
        before = ", ".join(first for first, _ in sheets[:best])
        notes = (f"the customers were read from {label}; {before} before it "
                 f"{'has' if best == 1 else 'have'} no customer table.",)
    return grid_table(table, kind, where=f" of {label}" if len(sheets) > 1 else "",
                      notes=notes)


# ---------------------------------------------------------------- XLSX


def _check_zip(data: bytes, name: str, max_bytes: int) -> None:
    """Inspect the zip central directory before any XML is parsed (zip-bomb guard)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, RuntimeError,
            EOFError) as exc:  # RuntimeError: NotImplementedError for unknown zip versions
        raise DataValidationError(
            [f"the file is a damaged Excel workbook or zip archive and cannot be opened. "
             f"{HELP}"], name) from exc
    names = {e.filename for e in entries}
    if "xl/workbook.xml" not in names:
        what = ("an OpenDocument spreadsheet" if "content.xml" in names
                else "a zip archive, not an Excel workbook")
        raise DataValidationError([f"the file is {what}. {HELP}"], name)
    if any(e.flag_bits & 0x1 for e in entries):
        raise DataValidationError(["the Excel workbook is encrypted. Remove the password."], name)
    unpacked = sum(e.file_size for e in entries)
    bomb = any(e.file_size > 10_000_000 and e.file_size > ZIP_BOMB_RATIO * max(e.compress_size, 1)
               for e in entries)
    if len(entries) > ZIP_MAX_ENTRIES or unpacked > XLSX_EXPANSION * max_bytes or bomb:
        raise DataValidationError(
            [f"the Excel workbook would unpack to {megabytes(unpacked)}, far more than its "
             f"size suggests, so it is not opened. Save the sheet as CSV instead."], name)


def read_xlsx(data: bytes, name: str, max_bytes: int) -> RawTable:
    """Read the customer sheet of an .xlsx workbook (cached values of formulas)."""
    import openpyxl  # noqa: PLC0415 - only needed for workbooks

    _check_zip(data, name, max_bytes)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on damaged workbooks
        raise DataValidationError(
            [f"the Excel workbook is damaged or has no sheets and cannot be read. {HELP}"],
            name) from exc

    def reader(sheet: object) -> Callable[[], Iterator[tuple]]:
        def rows() -> Iterator[tuple]:
            sheet.reset_dimensions()  # type: ignore[attr-defined]  # a wrong stored size
            try:
                yield from _trimmed(sheet.iter_rows(values_only=True),  # type: ignore[attr-defined]
                                    f"sheet '{sheet.title}'", name)  # type: ignore[attr-defined]
            except DataValidationError:
                raise
            except Exception as exc:  # damaged sheet XML raises parser-specific errors
                raise DataValidationError(
                    [f"sheet '{sheet.title}' of the Excel workbook is damaged and cannot be "  # type: ignore[attr-defined]
                     f"read. {HELP}"], name) from exc
        return rows

    try:
        return _best_sheet([(f"sheet '{s.title}'", reader(s)) for s in book.worksheets],
                           "xlsx", name)
    finally:
        book.close()


# ---------------------------------------------------------------- XLS (Excel 97-2003)


def read_xls(data: bytes, name: str) -> RawTable:
    """Read the customer sheet of a legacy .xls workbook with xlrd."""
    import xlrd  # noqa: PLC0415 - only needed for legacy workbooks

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, struct errors...
        raise DataValidationError(
            ["the file is a password-protected, damaged or unsupported Excel 97-2003 "
             "workbook and cannot be read. Save it as .xlsx without a password, or as CSV."],
            name) from exc

    def reader(index: int) -> Callable[[], Iterator[tuple]]:
        def rows() -> Iterator[tuple]:
            sheet = book.sheet_by_index(index)
            cells = ([_xls_cell(c, book.datemode) for c in sheet.row(r)]
                     for r in range(sheet.nrows))
            yield from _trimmed(cells, f"sheet '{sheet.name}'", name)
        return rows

    try:
        return _best_sheet([(f"sheet '{title}'", reader(i))
                            for i, title in enumerate(book.sheet_names())], "xls", name)
    except DataValidationError:
        raise
    except Exception as exc:  # a damaged sheet record
        raise DataValidationError(
            [f"the Excel 97-2003 workbook is damaged and cannot be read. {HELP}"], name) from exc
    finally:
        book.release_resources()


def _xls_cell(cell: object, datemode: int) -> object:
    import xlrd  # noqa: PLC0415

    kind, value = cell.ctype, cell.value  # type: ignore[attr-defined]
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate_as_datetime(value, datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return value
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#VALUE!")
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    return value


# ---------------------------------------------------------------- HTML tables


def read_html(text: str, name: str) -> RawTable:
    """Read the HTML table that names the most columns (CRMs save these as .xls)."""
    import lxml.html  # noqa: PLC0415 - only needed for HTML tables

    try:
        document = lxml.html.fromstring(text)
    except Exception as exc:  # lxml raises ParserError / XMLSyntaxError on junk
        raise DataValidationError([f"the file is a web page that cannot be read. {HELP}"],
                                  name) from exc
    tables = document.xpath("//table")
    if not tables:
        raise DataValidationError([f"the file is a web page without a table. {HELP}"], name)

    def reader(table: object) -> Callable[[], Iterator[tuple]]:
        def rows() -> Iterator[tuple]:
            cells = ([_html_cell(c) for c in tr.xpath("./th|./td")]
                     for tr in table.xpath(".//tr"))  # type: ignore[attr-defined]
            yield from _trimmed(cells, "the table", name)
        return rows

    return _best_sheet([(f"table {i + 1}", reader(t)) for i, t in enumerate(tables)], "html",
                       name)


def _html_cell(cell: object) -> str | None:
    text = " ".join(cell.text_content().split())  # type: ignore[attr-defined]
    return text or None

