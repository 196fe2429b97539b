"""Parquet files: metadata checks before reading, then Arrow; cells keep their stored types."""

from __future__ import annotations

import io
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from core.errors import DataValidationError
from core.read_sheets import XLSX_EXPANSION
from core.tables import HELP, MAX_COLUMNS, RawTable, megabytes

_UNNAMED_INDEX = re.compile(r"__index_level_\d+__")


def read_parquet(data: bytes, name: str, max_bytes: int) -> RawTable:
    """Read a Parquet file after checking its column count and unpacked size."""
    damaged = f"the Parquet file is damaged or incomplete and cannot be read. {HELP}"
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
    unnamed = [c for c in table.column_names if _UNNAMED_INDEX.fullmatch(c)]
    notes = ()
    if unnamed:  # pandas saved its row index (a named index, e.g. CUST_ID, is data and kept)
        frame = frame.drop(columns=unnamed)
        notes = (f"the saved row index ({', '.join(repr(c) for c in unnamed)}) is not customer "
                 "data and was left out.",)
    headers = tuple(c for c in table.column_names if c not in unnamed)
    frame.columns = range(frame.shape[1])
    return RawTable(headers, frame, np.arange(2, len(frame) + 2), "parquet", notes=notes)
