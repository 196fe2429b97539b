"""Text tables: decode the bytes, find the header below any title or comment lines, read CSV.

The delimiter and the header line are chosen together: the line among the first ones that
names the most CC GENERAL columns, split by the delimiter that names them. Lines above it
(titles, ``#`` comments), ``#`` comment lines and footer lines below the table are left out
with a note; Arrow's CSV reader does the parsing.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from core.errors import DataValidationError
from core.headers import column_letter, header_score, match_header
from core.tables import (
    HEADER_SEARCH,
    HELP,
    MAX_COLUMNS,
    RawTable,
    above_header_note,
    left_out,
    rows_convention,
    rows_text,
    short,
)

DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_LINES = 50
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_SEP_HINT = re.compile(r"sep=([,;\t|])[ \t]*\r?\n", re.IGNORECASE)


def decode(data: bytes, name: str) -> str:
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
        raise binary_error(name) from exc
    sample = text[:65536]
    if len(_CONTROL.findall(sample)) > max(2, len(sample) // 1000):
        raise binary_error(name)
    start = sample.lstrip()[:15].lower()
    if start.startswith(("{", "[{", "[\n", "[ ")):
        raise DataValidationError([f"the file is JSON, not a table. {HELP}"], name)
    return text


def binary_error(name: str) -> DataValidationError:
    """The error for bytes that are not text, worded after the file's extension."""
    suffix = name.lower().rsplit(".", 1)[-1]
    what = {"xlsx": "is not a valid Excel workbook", "xlsm": "is not a valid Excel workbook",
            "xls": "is not a valid Excel workbook",
            "parquet": "is not a valid Parquet file"}.get(suffix, "does not look like a table")
    return DataValidationError(
        [f"the file {what}: it contains binary data (it may be damaged or of another kind). "
         f"{HELP}"], name)


def _decode_8bit(data: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


@dataclass(frozen=True)
class _Header:
    line: int  # 0-based physical line of the header
    offset: int  # character offset of that line
    delimiter: str


class _LongCell(Exception):
    """A cell over csv's field limit (131,072 characters) at ``row`` and 0-based ``column``."""

    def __init__(self, row: int, column: int, cell: str) -> None:
        super().__init__(row, column)
        self.row, self.column, self.cell = row, column, cell

    def problem(self, header: list[str]) -> str:
        name = header[self.column].strip() if self.column < len(header) else ""
        where = f"{name} (column {column_letter(self.column)})" if name and self.row > 1 \
            else f"column {column_letter(self.column)}"
        return (f"row {self.row}, {where} holds a cell longer than the "
                f"{csv.field_size_limit():,} characters a table cell may have (starting "
                f"{short(self.cell[:20])}); a customer table has short cells. Is this the "
                "right file?")


def _split(line: str, delimiter: str, row: int) -> list[str]:
    """One line's cells; raises _LongCell for a cell over csv's field limit."""
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        cells = line.split(delimiter)
        longest = max(range(len(cells)), key=lambda i: len(cells[i]))
        raise _LongCell(row, longest, cells[longest]) from None


def _sniff_delimiter(lines: Sequence[str], first_row: int) -> str:
    """Pick the delimiter whose header is most recognisable and whose rows have constant width."""
    def score(delimiter: str) -> tuple[int, bool, int, int]:
        rows = [r for r in (_split(line, delimiter, first_row + i) for i, line in enumerate(lines))
                if any(f.strip() for f in r)]
        if not rows:
            return (0, False, 0, 0)
        recognised = sum(match_header(h) is not None for h in rows[0])
        constant = len({len(r) for r in rows}) == 1
        return (recognised, constant, min(len(rows[0]), 2), -DELIMITERS.index(delimiter))

    return max(DELIMITERS, key=score)


def _find_header(text: str, hint: str | None) -> _Header:
    """The header line (the first naming the most columns among the first non-blank lines)."""
    lines, starts, offset = [], [], 0
    for match in _LINE.finditer(text[:200_000]):
        if not match.group() or len(lines) >= HEADER_SEARCH + _SAMPLE_LINES:
            break
        lines.append(match.group().rstrip("\r\n"))
        starts.append(offset)
        offset = match.end()
    delimiters = (hint,) if hint else DELIMITERS
    candidates = [i for i, line in enumerate(lines) if line.strip()][:HEADER_SEARCH]
    scores = {(i, d): header_score(_split(lines[i], d, i + 1)) for i in candidates
              for d in delimiters}
    best = max(scores.values(), default=0)
    line = min(i for (i, _), s in scores.items() if s == best) if best else candidates[0]
    if hint:
        delimiter = hint
    else:
        tied = [d for d in DELIMITERS if scores[(line, d)] == best]
        delimiter = tied[0] if best and len(tied) == 1 else _sniff_delimiter(lines[line:], line + 1)
    return _Header(line, starts[line], delimiter)


def read_csv(text: str, name: str) -> RawTable:
    """Read CSV text as a table of string cells; the header may sit below a title."""
    hint = _SEP_HINT.match(text.lstrip(" \t\r\n"))  # Excel's "sep=;" line; not shown as a row
    if hint:
        text = text.lstrip(" \t\r\n")[hint.end():]
    if not text or text.isspace():  # stops at the first character: no copy of a big file
        raise DataValidationError(["the file is empty."], name)
    try:
        found = _find_header(text, hint.group(1) if hint else None)
    except _LongCell as long_cell:
        first = next((line for line in text[:300_000].splitlines() if line.strip()), "")
        delimiter = hint.group(1) if hint else max(DELIMITERS, key=first[:1000].count)
        raise DataValidationError([long_cell.problem(first.split(delimiter))], name,
                                  note=rows_convention(None)) from None
    notes = []
    above = [line for line in text[:found.offset].splitlines() if line.strip()]
    if above:
        cells = [c for c in _split(above[0], found.delimiter, 1) if c.strip()]
        notes.append(above_header_note(1, found.line + 1, ", ".join(cells) or above[0]))
    skipped, text = found.line, text[found.offset:]
    header_line = _LINE.match(text).group().rstrip("\r\n")  # type: ignore[union-attr]
    width = len(next(csv.reader([header_line], delimiter=found.delimiter)))  # split above
    if width > MAX_COLUMNS:
        raise DataValidationError(
            [f"the file has {width:,} columns; at most {MAX_COLUMNS:,} are accepted. "
             "Is this the right file?"], name)
    parsed = _parse_csv(text, found.delimiter, width, name)
    repaired = _repair_header(header_line, found.delimiter, width, parsed)
    if repaired is not None:
        text = repaired + text[len(header_line):]
        width += 1 if len(repaired) > len(header_line) else -1
        parsed = _parse_csv(text, found.delimiter, width, name)
    footers = parsed.footers(width)
    ragged = [(n, a) for n, a, _ in parsed.ragged if n not in footers]
    if ragged and ragged[0][0] != 1:
        raise DataValidationError(_ragged_problems(ragged, width, skipped), name)
    frame = parsed.table.to_pandas()
    frame.columns = range(frame.shape[1])
    headers = tuple(frame.iloc[0]) if len(frame) else ()
    swallowed = re.compile(f"[\r\n].*{re.escape(found.delimiter)}", re.DOTALL)  # open quote
    if ragged or not headers or any(swallowed.search(h) for h in headers):
        raise DataValidationError(
            ["the header row could not be read: it may contain an unclosed quote or a line "
             "break inside a column name."], name)
    notes += _skipped_notes(parsed, footers, skipped)
    left_out = parsed.blank + parsed.comments + sorted(footers)
    kept = np.ones(parsed.table.num_rows + len(left_out), dtype=bool)
    kept[np.asarray(left_out, dtype=np.int64) - 1] = False
    numbers = np.flatnonzero(kept) + 1 + skipped
    body = frame.iloc[1:].reset_index(drop=True)
    return RawTable(headers, body, numbers[1:], "csv", header_row=skipped + 1,
                    blank_rows=tuple(n + skipped for n in parsed.blank), notes=tuple(notes))


@dataclass(frozen=True, eq=False)
class _Parsed:
    table: pa.Table
    blank: list[int]
    comments: list[int]
    ragged: list[tuple[int, int, str]]  # (row, cells found, text)

    def footers(self, width: int) -> dict[int, str]:
        """Short rows after the last full row, with at most half the header's cells filled:
        notes below the table ("Generated by …, page 1 of 1"), not customers."""
        last = self.table.num_rows + len(self.blank) + len(self.comments) + len(self.ragged)
        footers: dict[int, str] = {}
        for number, found, text in reversed(self.ragged):
            filled = [f for f in re.split(r"[,;\t|]", text) if f.strip(" \t\"'\r\n")]
            ahead = range(number + 1, last + 1)
            if found >= width or len(filled) > width // 2 or any(
                    n not in footers and n not in self.blank and n not in self.comments
                    for n in ahead):
                break
            footers[number] = text.strip()
        return footers


def _parse_csv(text: str, delimiter: str, width: int, name: str) -> _Parsed:
    blank: list[int] = []
    comments: list[int] = []
    ragged: list[tuple[int, int, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        if not row.text.strip(f"{delimiter}\"' \t\r\n"):
            blank.append(row.number)
        elif row.text.lstrip().startswith("#"):
            comments.append(row.number)
        else:
            ragged.append((row.number, row.actual_columns, row.text))
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
             f"unclosed quote). {HELP}"], name) from exc
    return _Parsed(table, blank, comments, ragged)


def _skipped_notes(parsed: _Parsed, footers: dict[int, str], offset: int) -> list[str]:
    notes = []
    if parsed.comments:
        rows = [n + offset for n in parsed.comments]
        notes.append(f"{len(rows):,} comment {'line' if len(rows) == 1 else 'lines'} starting "
                     f"with '#' ({rows_text(rows)}) {left_out(len(rows), 'data', 'data')}.")
    if footers:
        rows = sorted(n + offset for n in footers)
        first = footers[min(footers)]
        notes.append(f"{'the line' if len(rows) == 1 else f'{len(rows)} lines'} below the table "
                     f"({rows_text(rows)}: {short(first)}) {left_out(len(rows))}.")
    return notes


def _repair_header(header: str, delimiter: str, width: int, parsed: _Parsed) -> str | None:
    """Fix a header one field shorter/longer than *every* data row (unnamed index, trailing sep)."""
    if not parsed.ragged:
        return None
    table = parsed.table
    lengths = [pc.fill_null(pc.utf8_length(c.cast(pa.string())), 0) for c in table.columns]
    filled = pc.sum(pc.greater(functools.reduce(pc.add, lengths), 0)).as_py() or 0
    if filled > 1:  # some data rows have the header's width
        return None
    widths = {actual for _, actual, _ in parsed.ragged}
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
