"""Bytes → raw table: sniff the format, guard sizes, decode text, and read CSV, XLSX or Parquet.

Readers return a :class:`RawTable` of cells *as found* (CSV cells are strings; XLSX and
Parquet cells keep their types); typing and checks belong to :mod:`core.validation`.
Anything that stops a file from being read as a table raises
:class:`~core.errors.DataValidationError` with a sentence a business user can act on.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from core.errors import DataValidationError
from core.headers import match_header

MAX_COLUMNS = 1000
XLSX_EXPANSION = 20  # an .xlsx or .parquet may unpack to at most this many times the byte limit
ZIP_BOMB_RATIO = 200  # an entry above 10 MB unpacked and this compression ratio is refused
ZIP_MAX_ENTRIES = 10_000
DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_LINES = 50

_NOT_TABLES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"), (b"\x1f\x8b", "a gzip-compressed file (unpack it first)"),
    (b"Rar!", "a RAR archive"), (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"SQLite format 3", "an SQLite database"),
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HELP = "Save the table as CSV, Excel (.xlsx) or Parquet and try again."
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_LEADING_BLANK_LINES = re.compile(r"(?:[ \t]*(?:\r\n|\r|\n))+")
_FIRST_LINE = re.compile(r"[^\r\n]*")
_SEP_HINT = re.compile(r"sep=([,;\t|])[ \t]*\r?\n", re.IGNORECASE)


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
        Spreadsheet row number of each frame row (the header row is row 1 in a plain file).
    kind : str
        ``'csv'``, ``'xlsx'``, ``'parquet'`` or ``'frame'``.
    decimal_comma : bool
        True when a decimal comma is possible (a CSV not separated by commas).
    blank_rows : tuple of int
        Row numbers of blank lines the reader skipped itself.
    """

    headers: tuple[object, ...]
    frame: pd.DataFrame
    row_numbers: np.ndarray
    kind: str
    decimal_comma: bool = False
    blank_rows: tuple[int, ...] = field(default=())


def megabytes(size: int) -> str:
    """Format a byte count in MB for messages (``52428800`` → ``'50 MB'``)."""
    value = size / 1_048_576
    if value >= 0.1:
        return f"{value:.1f}".removesuffix(".0") + " MB"
    return f"{value:.2g} MB"


def rows_text(rows: Sequence[int] | np.ndarray, shown: int = 5) -> str:
    """Describe spreadsheet row numbers: ``'rows 4, 9, 15, 16, 20 and 7 more'``."""
    listed = ", ".join(str(int(r)) for r in rows[:shown])
    more = f" and {len(rows) - shown:,} more" if len(rows) > shown else ""
    return f"{'row' if len(rows) == 1 else 'rows'} {listed}{more}"


def check_size(size: int, max_bytes: int, name: str) -> None:
    """Raise when a file is larger than the limit, naming both sizes in MB."""
    if size > max_bytes:
        raise DataValidationError(
            [f"the file is {megabytes(size)}, over the {megabytes(max_bytes)} limit. "
             "Remove columns or customers you do not need, or split the file."], name)


def read_table(data: bytes, *, name: str, max_bytes: int) -> RawTable:
    """Read raw bytes as a table, deciding the format from the content.

    Parameters
    ----------
    data : bytes
        The whole file.
    name : str
        File name for messages; its extension is only a hint.
    max_bytes : int
        Size limit of the file; an .xlsx may unpack to ``XLSX_EXPANSION`` times this.

    Returns
    -------
    RawTable

    Raises
    ------
    DataValidationError
        The file is empty, too large, of another kind, damaged, or has ragged rows.
    """
    check_size(len(data), max_bytes, name)
    if not data.strip():
        raise DataValidationError(["the file is empty."], name)
    for magic, what in _NOT_TABLES:
        if data.startswith(magic):
            raise DataValidationError([f"the file is {what}, not a table. {_HELP}"], name)
    if data.startswith(_OLE2):
        raise DataValidationError(
            ["the file is a password-protected or old-format (.xls) Excel workbook, which "
             "cannot be read. Save it as .xlsx without a password, or as CSV."], name)
    if data.startswith(b"PK"):
        return _read_xlsx(data, name, max_bytes)
    if data.startswith(b"PAR1"):
        return _read_parquet(data, name, max_bytes)
    return _read_csv(_decode(data, name), name)


# ---------------------------------------------------------------- text / CSV


def _decode(data: bytes, name: str) -> str:
    """Decode text: BOM first, then UTF-16 without BOM, UTF-8, cp1252, Latin-1 (never lossy)."""
    head = data[:4000]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    try:
        if data.startswith(codecs.BOM_UTF8):
            text = _decode_8bit(data[len(codecs.BOM_UTF8):])
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        elif odd > len(head) // 5 and even < odd // 10:
            text = data.decode("utf-16-le")
        elif even > len(head) // 5 and odd < even // 10:
            text = data.decode("utf-16-be")
        else:
            text = _decode_8bit(data)
    except UnicodeDecodeError as exc:
        raise _binary(name) from exc
    sample = text[:65536]
    if len(_CONTROL.findall(sample)) > max(2, len(sample) // 1000):
        raise _binary(name)
    start = sample.lstrip()[:15].lower()
    if start.startswith(("<!doctype", "<html", "<?xml")):
        raise DataValidationError(
            [f"the file is a web page or XML document, not a table. {_HELP}"], name)
    if start.startswith(("{", "[{", "[\n", "[ ")):
        raise DataValidationError([f"the file is JSON, not a table. {_HELP}"], name)
    return text


def _binary(name: str) -> DataValidationError:
    suffix = name.lower().rsplit(".", 1)[-1]
    what = {"xlsx": "is not a valid Excel workbook", "xlsm": "is not a valid Excel workbook",
            "parquet": "is not a valid Parquet file"}.get(suffix, "does not look like a table")
    return DataValidationError(
        [f"the file {what}: it contains binary data (it may be damaged or of another kind). "
         f"{_HELP}"], name)


def _decode_8bit(data: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _sniff_delimiter(lines: Sequence[str]) -> str:
    """Pick the delimiter whose header is most recognisable and whose rows have constant width."""
    def score(delimiter: str) -> tuple[int, bool, int, int]:
        rows = [r for r in csv.reader(lines, delimiter=delimiter) if any(f.strip() for f in r)]
        if not rows:
            return (0, False, 0, 0)
        recognised = sum(match_header(h) is not None for h in rows[0])
        constant = len({len(r) for r in rows}) == 1
        return (recognised, constant, min(len(rows[0]), 2), -DELIMITERS.index(delimiter))

    return max(DELIMITERS, key=score)


def _read_csv(text: str, name: str) -> RawTable:
    leading = _LEADING_BLANK_LINES.match(text)
    skipped = len(_NEWLINE.findall(leading.group())) if leading else 0
    text = text[leading.end():] if leading else text
    hint = _SEP_HINT.match(text)  # Excel's "sep=;" first line; Excel does not show it as a row
    text = text[hint.end():] if hint else text
    if not text.strip():
        raise DataValidationError(["the file is empty."], name)
    header_line = _FIRST_LINE.match(text).group()  # type: ignore[union-attr]
    lines = [header_line, *text[len(header_line):200_000].splitlines()[1:_SAMPLE_LINES]]
    try:
        delimiter = hint.group(1) if hint else _sniff_delimiter(lines)
        width = len(next(csv.reader([header_line], delimiter=delimiter)))
    except csv.Error:  # a cell over csv's field limit (131,072 characters)
        raise DataValidationError(
            [f"a cell in the first lines holds more than {csv.field_size_limit():,} "
             "characters; a customer table has short cells. Is this the right file?"],
            name) from None
    if width > MAX_COLUMNS:
        raise DataValidationError(
            [f"the file has {width:,} columns; at most {MAX_COLUMNS:,} are accepted. "
             "Is this the right file?"], name)
    table, blank, ragged = _parse_csv(text, delimiter, width, name)
    repaired = _repair_header(header_line, delimiter, width, table, ragged)
    if repaired is not None:
        text = repaired + text[len(header_line):]
        width += 1 if len(repaired) > len(header_line) else -1
        table, blank, ragged = _parse_csv(text, delimiter, width, name)
    header_broken = bool(ragged) and ragged[0][0] == 1
    if ragged and not header_broken:
        raise DataValidationError(_ragged_problems(ragged, width, skipped), name)
    frame = table.to_pandas()
    frame.columns = range(frame.shape[1])
    headers = tuple(frame.iloc[0]) if len(frame) else ()
    swallowed = re.compile(f"[\r\n].*{re.escape(delimiter)}", re.DOTALL)  # open quote
    if header_broken or not headers or any(swallowed.search(h) for h in headers):
        raise DataValidationError(
            ["the header row could not be read: it may contain an unclosed quote or a line "
             "break inside a column name."], name)
    kept = np.ones(table.num_rows + len(blank), dtype=bool)
    kept[np.asarray(blank, dtype=np.int64) - 1] = False
    numbers = np.flatnonzero(kept) + 1 + skipped
    body = frame.iloc[1:].reset_index(drop=True)
    return RawTable(headers, body, numbers[1:], "csv", decimal_comma=delimiter != ",",
                    blank_rows=tuple(n + skipped for n in blank))


def _parse_csv(text: str, delimiter: str, width: int,
               name: str) -> tuple[pa.Table, list[int], list[tuple[int, int]]]:
    blank: list[int] = []
    ragged: list[tuple[int, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        if row.text.strip(f"{delimiter}\"' \t\r\n"):
            ragged.append((row.number, row.actual_columns))
        else:
            blank.append(row.number)
        return "skip"

    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False,
                                           block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                             ignore_empty_lines=False,
                                             invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DataValidationError(
            [f"the file could not be read as a CSV table (it may be damaged or have an "
             f"unclosed quote). {_HELP}"], name) from exc
    return table, blank, ragged


def _repair_header(header: str, delimiter: str, width: int, table: pa.Table,
                   ragged: list[tuple[int, int]]) -> str | None:
    """Fix a header one field shorter/longer than *every* data row (unnamed index, trailing sep)."""
    if not ragged:
        return None
    lengths = [pc.fill_null(pc.utf8_length(c.cast(pa.string())), 0) for c in table.columns]
    filled = pc.sum(pc.greater(functools.reduce(pc.add, lengths), 0)).as_py() or 0
    if filled > 1:  # some data rows have the header's width
        return None
    widths = {actual for _, actual in ragged}
    if widths == {width + 1}:
        return delimiter + header
    if widths == {width - 1} and header.rstrip().endswith(delimiter):
        return header.rstrip()[:-1]
    return None


def _ragged_problems(ragged: list[tuple[int, int]], width: int, offset: int) -> list[str]:
    problems = []
    for more, word in ((True, "more"), (False, "fewer")):
        rows = np.array([n + offset for n, actual in ragged if (actual > width) == more])
        if len(rows):
            counts = sorted({a for _, a in ragged if (a > width) == more})
            found = ", ".join(str(c) for c in counts[:3]) + (" value" if counts == [1] else
                                                             " values")
            problems.append(
                f"{len(rows):,} {'row has' if len(rows) == 1 else 'rows have'} {word} values "
                f"than the {width} header columns ({rows_text(rows)}; found {found}). Check for "
                "separators, line breaks or unclosed quotes inside values, or missing cells.")
    return problems


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
             f"{_HELP}"], name) from exc
    names = {e.filename for e in entries}
    if "xl/workbook.xml" not in names:
        what = ("an OpenDocument spreadsheet" if "content.xml" in names
                else "a zip archive, not an Excel workbook")
        raise DataValidationError([f"the file is {what}. {_HELP}"], name)
    if any(e.flag_bits & 0x1 for e in entries):
        raise DataValidationError(["the Excel workbook is encrypted. Remove the password."], name)
    unpacked = sum(e.file_size for e in entries)
    bomb = any(e.file_size > 10_000_000 and e.file_size > ZIP_BOMB_RATIO * max(e.compress_size, 1)
               for e in entries)
    if len(entries) > ZIP_MAX_ENTRIES or unpacked > XLSX_EXPANSION * max_bytes or bomb:
        raise DataValidationError(
            [f"the Excel workbook would unpack to {megabytes(unpacked)}, far more than its "
             f"size suggests, so it is not opened. Save the sheet as CSV instead."], name)


def _read_xlsx(data: bytes, name: str, max_bytes: int) -> RawTable:
    import openpyxl  # noqa: PLC0415 - only needed for workbooks

    _check_zip(data, name, max_bytes)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on damaged workbooks
        raise DataValidationError(
            [f"the Excel workbook is damaged or has no sheets and cannot be read. {_HELP}"],
            name) from exc
    try:
        if not book.worksheets:
            raise DataValidationError(["the Excel workbook has no sheets."], name)
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # a wrong stored size must not cut rows off
        rows = _sheet_rows(sheet, name)
    finally:
        book.close()
    width = max((len(r) for r in rows), default=0)
    if width == 0:
        raise DataValidationError([f"the first sheet ('{sheet.title}') is empty."], name)
    first = next(i for i, r in enumerate(rows) if r)
    padded = [r + (None,) * (width - len(r)) for r in rows[first:]]
    frame = pd.DataFrame(padded[1:], columns=range(width), dtype=object)
    numbers = np.arange(first + 2, first + 1 + len(padded))
    return RawTable(tuple(padded[0]), frame, numbers, "xlsx")


def _sheet_rows(sheet: object, name: str) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    try:
        for row in sheet.iter_rows(values_only=True):  # type: ignore[attr-defined]
            end = len(row)
            while end and (row[end - 1] is None or row[end - 1] == ""):
                end -= 1
            if end > MAX_COLUMNS:
                raise DataValidationError(
                    [f"the first sheet has values in {end:,} columns; at most {MAX_COLUMNS:,} "
                     "are accepted. Is this the right file?"], name)
            rows.append(tuple(row[:end]))
    except DataValidationError:
        raise
    except Exception as exc:  # damaged sheet XML raises parser-specific errors
        raise DataValidationError(
            [f"the first sheet of the Excel workbook is damaged and cannot be read. {_HELP}"],
            name) from exc
    while rows and not rows[-1]:
        rows.pop()
    return rows


# ---------------------------------------------------------------- Parquet


def _read_parquet(data: bytes, name: str, max_bytes: int) -> RawTable:
    damaged = f"the Parquet file is damaged or incomplete and cannot be read. {_HELP}"
    if not data.endswith(b"PAR1"):
        raise DataValidationError([damaged], name)
    try:
        handle = pq.ParquetFile(io.BytesIO(data))
        meta = handle.metadata
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataValidationError([damaged], name) from exc
    if meta.num_columns > MAX_COLUMNS:
        raise DataValidationError(
            [f"the file has {meta.num_columns:,} columns; at most {MAX_COLUMNS:,} are accepted. "
             "Is this the right file?"], name)
    unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if unpacked > XLSX_EXPANSION * max_bytes:
        raise DataValidationError(
            [f"the Parquet file would unpack to {megabytes(unpacked)}, more than this app "
             "accepts. Remove columns or customers you do not need."], name)
    try:
        table = handle.read()
        table.validate(full=True)  # e.g. invalid UTF-8 in a damaged string column
        frame = table.to_pandas(ignore_metadata=True)
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise DataValidationError([damaged], name) from exc
    frame.columns = range(frame.shape[1])
    return RawTable(tuple(table.column_names), frame, np.arange(2, len(frame) + 2), "parquet")
