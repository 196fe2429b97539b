"""Load a customer table from a file, raw bytes or a DataFrame: the public entry points.

>>> data = load_customers("cards.csv")                            # doctest: +SKIP
>>> data.frame.columns[:3].tolist(), data.quality.lines()[:1]     # doctest: +SKIP
(['CUST_ID', 'BALANCE', 'BALANCE_FREQUENCY'], ['MINIMUM_PAYMENTS: 313 missing (3.5 %) — ...'])

The format is decided by the content (zip → XLSX, ``PAR1`` → Parquet, otherwise CSV
text); headers are matched forgivingly (:mod:`core.headers`); every blocking problem is
raised at once as one :class:`~core.errors.DataValidationError` (:mod:`core.validation`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.readers import check_size, read_table
from core.schema import BEHAVIOUR_COLUMNS
from core.tables import RawTable
from core.validation import QualityIssue, QualityReport, validate

__all__ = ["DEFAULT_MAX_BYTES", "CustomerData", "QualityIssue", "QualityReport",
           "from_frame", "load_customers"]

DEFAULT_MAX_BYTES: int = 50 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class CustomerData:
    """A validated customer table, ready for cleaning and segmentation.

    Attributes
    ----------
    frame : DataFrame
        ``CUST_ID`` (text), the 17 behavioural columns (float64, NaN where missing), then the
        pass-through attribute columns; original row order, RangeIndex.
    attributes : tuple of str
        Names of the pass-through (unknown extra) columns.
    source : str
        File name or label, e.g. ``'cards.xlsx'``.
    quality : QualityReport
        Soft problems (warnings) and notes on what the loader did.
    renamed : tuple of (str, str)
        ``(header as found, canonical name)`` for every header that was not canonical.
    content_hash : str
        Hex SHA-256 of the raw bytes (files) or of the frame content (``from_frame``).
    """

    frame: pd.DataFrame
    attributes: tuple[str, ...]
    source: str
    quality: QualityReport
    renamed: tuple[tuple[str, str], ...]
    content_hash: str

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def behaviour(self) -> pd.DataFrame:
        """The 17 behavioural columns only."""
        return self.frame[list(BEHAVIOUR_COLUMNS)]


def load_customers(source: str | os.PathLike[str] | bytes, *, filename: str | None = None,
                   max_bytes: int | None = DEFAULT_MAX_BYTES) -> CustomerData:
    """Load and validate a customer table from a path or raw bytes.

    Parameters
    ----------
    source : str, path-like or bytes
        A file path, or the file's content (e.g. a decoded upload).
    filename : str, optional
        Name used in messages and as ``source``; also a format hint. Defaults to the path's
        file name, or ``'uploaded file'`` for bytes.
    max_bytes : int or None, default 50 MB
        Larger files are refused before they are parsed (the browser upload's cap). ``None``:
        no limit, for the command line and server-side files; a compressed file (.xlsx,
        .parquet, gzip) may then still unpack to only ``XLSX_EXPANSION`` (20) times its own
        size, or times 50 MB if it is smaller (the zip-bomb guards need a bound).

    Returns
    -------
    CustomerData

    Raises
    ------
    DataValidationError
        Listing every blocking problem (unreadable file, missing columns, text in numeric
        columns, duplicate ids, ...), prefixed with the file name.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = filename or "uploaded file"
    else:
        path = Path(source)
        name = filename or path.name
        try:
            if max_bytes is not None:
                check_size(path.stat().st_size, max_bytes, name)
            data = path.read_bytes()
        except IsADirectoryError as exc:
            raise DataValidationError([f"{path} is a folder, not a file."], name) from exc
        except OSError as exc:
            raise DataValidationError([f"the file {str(path)!r} cannot be opened "
                                       f"({exc.strerror or 'unreadable'})."], name) from exc
    # No limit: read_table's own size check passes, and its unpack guards scale with the file.
    limit = max(len(data), DEFAULT_MAX_BYTES) if max_bytes is None else max_bytes
    content_hash = hashlib.sha256(data).hexdigest()
    raw = read_table(data, name=name, max_bytes=limit)
    del data  # free the file's bytes (its size in memory) before validation
    return _build(raw, name, content_hash)


def from_frame(frame: pd.DataFrame, *, source: str = "table") -> CustomerData:
    """Validate an in-memory table with the same header matching and checks as files.

    Parameters
    ----------
    frame : DataFrame
        Any table with the CC GENERAL columns (headers matched forgivingly); a named index
        (e.g. ``CUST_ID`` after ``set_index``) is treated as a column. Row numbers in messages
        follow the spreadsheet convention (first row = row 2).
    source : str, default 'table'
        Label used in messages.

    Returns
    -------
    CustomerData
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError([f"expected a table, got {type(frame).__name__}."], source)
    if any(name is not None for name in frame.index.names):
        frame = frame.reset_index()
    headers = tuple(frame.columns)
    positional = frame.set_axis(range(frame.shape[1]), axis=1).reset_index(drop=True)
    raw = RawTable(headers, positional, np.arange(2, len(frame) + 2), "frame")
    return _build(raw, source, None)


def _build(raw: RawTable, name: str, content_hash: str | None) -> CustomerData:
    result = validate(raw, name)
    return CustomerData(frame=result.frame, attributes=result.attributes, source=name,
                        quality=result.quality, renamed=result.renamed,
                        content_hash=content_hash or _frame_hash(result.frame))


def _frame_hash(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256("\x1f".join(map(str, frame.columns)).encode("utf-8"))
    try:
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    except TypeError:  # unhashable cells (lists, dicts) in an attribute column
        digest.update(frame.to_csv(index=False).encode("utf-8"))
    return digest.hexdigest()
