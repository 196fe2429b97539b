"""File writers for the corpus: the same table in the shapes real exports take, byte-for-byte
reproducible (gzip without a time stamp, workbooks with fixed times, Parquet without pandas
metadata)."""

from __future__ import annotations

import codecs
import gzip
import html
import io
import math
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import xlwt
from openpyxl import Workbook
from openpyxl.worksheet.table import Table, TableStyleInfo

from core.export import FIXED_TIME, _reproducible_zip

NBSP, NNBSP = "\u00a0", "\u202f"
Row = Sequence[object]


def plain(value: object) -> object:
    """A cell as Python writes it: numpy scalars as Python numbers, NaN as an empty cell."""
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and math.isnan(value) else value


def table_rows(frame: pd.DataFrame) -> list[list[object]]:
    """The header and the rows of a frame as lists of plain cells."""
    return [list(frame.columns)] + [[plain(v) for v in row]
                                    for row in frame.itertuples(index=False, name=None)]


def as_text(frame: pd.DataFrame, columns: Sequence[str], style: Callable[[float], str]
            ) -> pd.DataFrame:
    """The frame with ``columns`` written as text in ``style`` (missing values stay empty)."""
    out = frame.astype(dict.fromkeys(columns, object))
    for column in columns:
        out[column] = [style(v) if pd.notna(v) else "" for v in frame[column]]
    return out


def csv_text(frame: pd.DataFrame, *, sep: str = ",", decimal: str = ".", newline: str = "\n",
             quoting: int = 0, above: Sequence[str] = (), below: Sequence[str] = ()) -> str:
    """CSV as pandas writes it, with lines above the header and below the table."""
    body = frame.to_csv(index=False, sep=sep, decimal=decimal, lineterminator=newline,
                        quoting=quoting)
    return "".join(f"{line}{newline}" for line in above) + body + \
        "".join(f"{line}{newline}" for line in below)


def utf16(text: str) -> bytes:
    """Excel's "Unicode text": UTF-16 little-endian with a byte-order mark."""
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def zipped(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name, FIXED_TIME.timetuple()[:6]), data,
                             compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def ods(rows: Sequence[Row]) -> bytes:
    """A minimal OpenDocument spreadsheet (LibreOffice Calc), text cells only."""
    cells = "".join("<table:table-row>" + "".join(
        f"<table:table-cell office:value-type=\"string\"><text:p>{html.escape(str(v))}"
        "</text:p></table:table-cell>" for v in row) + "</table:table-row>" for row in rows)
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
               f'<office:spreadsheet><table:table table:name="Customers">{cells}</table:table>'
               "</office:spreadsheet></office:body></office:document-content>")
    return zipped({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                   "content.xml": content.encode()})


@dataclass(frozen=True)
class Sheet:
    """One worksheet: rows from row 1, merged ranges, number formats by 1-based column, and
    optionally an Excel table (Insert > Table) over a range."""

    title: str
    rows: Sequence[Row]
    merged: Sequence[str] = ()
    formats: dict[int, str] = field(default_factory=dict)
    table: str | None = None


def xlsx(*sheets: Sheet, cached: dict[str, float] | None = None) -> bytes:
    """An .xlsx workbook. Text starting with ``=`` is a formula (openpyxl stores no result);
    ``cached`` adds results to formula cells by reference (``{"B42": 123.4}``), as Excel does."""
    book = Workbook()
    book.remove(book.active)
    book.properties.created = book.properties.modified = FIXED_TIME
    for spec in sheets:
        sheet = book.create_sheet(spec.title)
        for row in spec.rows:
            sheet.append([plain(v) for v in row])
        for cells in spec.merged:
            sheet.merge_cells(cells)
        if spec.table:
            table = Table(displayName="Customers", ref=spec.table)
            table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
            sheet.add_table(table)
        for column, number_format in spec.formats.items():
            for (cell,) in sheet.iter_rows(min_col=column, max_col=column):
                if isinstance(cell.value, int | float):
                    cell.number_format = number_format
    raw, out = io.BytesIO(), io.BytesIO()
    book.save(raw)
    _reproducible_zip(io.BytesIO(_with_results(raw.getvalue(), cached or {})), out)
    return out.getvalue()


def _with_results(data: bytes, cached: dict[str, float]) -> bytes:
    if not cached:
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename.startswith("xl/worksheets/sheet"):
                text = content.decode()
                for ref, value in cached.items():
                    start = text.index(f'<c r="{ref}"')
                    end = text.index("</c>", start)
                    cell = text[start:end].replace("<v></v>", "").replace("<v />", "")
                    text = text[:start] + cell + f"<v>{value!r}</v>" + text[end:]
                content = text.encode()
            target.writestr(entry, content)
    return out.getvalue()


def xls(rows: Sequence[Row], *, title: str | None = None, sheet: str = "Customers") -> bytes:
    """A legacy Excel 97-2003 workbook (xlwt); a title is merged across the table's width."""
    book = xlwt.Workbook(encoding="utf-8")
    page = book.add_sheet(sheet)
    top = 0
    if title is not None:
        page.write_merge(0, 0, 0, len(rows[0]) - 1, title)
        top = 2
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            value = plain(value)
            if value is not None:
                page.write(top + r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def html_page(*tables: Sequence[Row], head: str = "") -> bytes:
    """An HTML page with tables, as CRMs save them with an .xls name (first row as <th>)."""
    def cells(row: Row, tag: str) -> str:
        return "".join(f"<{tag}>{'' if v is None else html.escape(str(v))}</{tag}>" for v in row)

    parts = []
    for rows in tables:
        body = "\n".join(f"<tr>{cells(row, 'th' if i == 0 else 'td')}</tr>"
                         for i, row in enumerate(rows))
        parts.append(f"<table border=\"1\">\n{body}\n</table>")
    page = (f"<html><head><meta charset=\"utf-8\"><title>Export</title>{head}</head>\n<body>\n"
            + "\n".join(parts) + "\n</body></html>\n")
    return page.encode()


def parquet(columns: dict[str, pa.Array] | pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(columns if isinstance(columns, pa.Table) else pa.table(columns), out)
    return out.getvalue()


def arrow_columns(frame: pd.DataFrame) -> dict[str, pa.Array]:
    """The frame's columns as Arrow arrays, with the frame's own types (no pandas metadata)."""
    return {c: pa.array(frame[c].to_numpy(), from_pandas=True) for c in frame.columns}
