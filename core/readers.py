"""Bytes → raw table: sniff the format from the content, unpack gzip, and hand to the reader.

Readers return a :class:`~core.tables.RawTable` of cells *as found* (CSV and HTML cells are
strings; Excel and Parquet cells keep their types); typing and checks belong to
:mod:`core.validation`. Anything that stops a file from being read as a table raises
:class:`~core.errors.DataValidationError` with a sentence a business user can act on.
"""

from __future__ import annotations

import zlib
from dataclasses import replace

from core.errors import DataValidationError
from core.read_parquet import read_parquet
from core.read_sheets import XLSX_EXPANSION, read_html, read_xls, read_xlsx
from core.read_text import decode, read_csv
from core.tables import HELP, RawTable, check_size, megabytes

__all__ = ["check_size", "read_table"]

_NOT_TABLES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"), (b"Rar!", "a RAR archive"), (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"SQLite format 3", "an SQLite database"),
)
_GZIP = b"\x1f\x8b"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003, or an encrypted .xlsx


def read_table(data: bytes, *, name: str, max_bytes: int) -> RawTable:
    """Read raw bytes as a table, deciding the format from the content.

    Parameters
    ----------
    data : bytes
        The whole file.
    name : str
        File name for messages; its extension is only a hint.
    max_bytes : int
        Size limit of the file; a compressed file may unpack to ``XLSX_EXPANSION`` times this.

    Returns
    -------
    RawTable

    Raises
    ------
    DataValidationError
        The file is empty, too large, of another kind, damaged, or has ragged rows.
    """
    check_size(len(data), max_bytes, name)
    if data.startswith(_GZIP):
        data = _gunzip(data, name, XLSX_EXPANSION * max_bytes)
        raw = _read(data, name, max_bytes)
        note = f"the file is gzip-compressed; it was unpacked ({megabytes(len(data))}) and read."
        return replace(raw, notes=(note, *raw.notes))
    return _read(data, name, max_bytes)


def _read(data: bytes, name: str, max_bytes: int) -> RawTable:
    if not data or data.isspace():  # stops at the first byte: no copy of a big file
        raise DataValidationError(["the file is empty."], name)
    for magic, what in (*_NOT_TABLES, (_GZIP, "compressed twice (gzip inside gzip)")):
        if data.startswith(magic):
            raise DataValidationError([f"the file is {what}, not a table. {HELP}"], name)
    if data.startswith(_OLE2):
        return read_xls(data, name)
    if data.startswith(b"PK"):
        return read_xlsx(data, name, max_bytes)
    if data.startswith(b"PAR1"):
        return read_parquet(data, name, max_bytes)
    text = decode(data, name)
    start = text[:1000].lstrip().lower()
    if start.startswith(("<!doctype html", "<html", "<table", "<meta", "<head", "<body")):
        return read_html(text, name)
    if start.startswith(("<!doctype", "<?xml")):
        raise DataValidationError(
            [f"the file is an XML document, not a table. {HELP}"], name)
    return read_csv(text, name)


def _gunzip(data: bytes, name: str, limit: int) -> bytes:
    """Unpack gzip (every member, as ``gzip -d`` does), refusing before more than ``limit``
    bytes are produced."""
    parts: list[bytes] = []
    size, rest = 0, data
    while rest:
        unpacker = zlib.decompressobj(wbits=31)
        try:
            part = unpacker.decompress(rest, limit + 1 - size)
        except zlib.error as exc:
            raise DataValidationError(
                [f"the file is gzip-compressed but damaged, so it cannot be unpacked. {HELP}"],
                name) from exc
        size += len(part)
        if size > limit or unpacker.unconsumed_tail:
            raise DataValidationError(
                [f"the gzip-compressed file would unpack to more than {megabytes(limit)}, "
                 "more than this app accepts. Split the file."], name)
        if not unpacker.eof:
            raise DataValidationError(
                [f"the gzip-compressed file is incomplete (cut off), so it cannot be unpacked. "
                 f"{HELP}"], name)
        parts.append(part)
        rest = unpacker.unused_data.lstrip(b"\0")  # gzip pads members with zero bytes
    return b"".join(parts)
