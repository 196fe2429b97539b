"""Member lists for the campaign tools, as CSV, XLSX or Parquet that spreadsheets cannot run.

>>> members = member_list(segmentation, segments=[2], attributes=["REGION"])  # doctest: +SKIP
>>> write_export(members, "xlsx", export_filename("cards", 5, [2], "xlsx"))   # doctest: +SKIP

Formula injection (OWASP "CSV injection", ASVS 5.0 V1.2.10, CWE-1236): in CSV and XLSX, a text
cell or header that starts with ``=``, ``+``, ``-``, ``@``, TAB, CR, LF or NUL, or whose first
character after leading whitespace and double quotes is one of ``= + - @`` (or their full-width
forms), gets a leading single quote. The customer id is the exception: it stays exact so campaign
tools can match it (the loader warns about such ids; in XLSX they are text cells, which never
run). Text that is exactly a decimal number (``-12.5``) is left alone, as in Superset's
``escape_value``: it cannot be a formula. Numeric columns are never touched, so negative numbers
stay numbers. XLSX text is always written as string cells, so no cell is a formula (or an error
code such as ``#N/A``). Parquet is not read by spreadsheets and keeps every value exactly.

The same member list always gives the same bytes (XLSX carries fixed timestamps), and a list
with campaign groups says in its metadata how they were drawn.

Writers stream: CSV and Parquet in chunks of :data:`CHUNK_ROWS` rows, XLSX through openpyxl's
write-only mode (rows go to a temporary file, text as inline strings), so besides the member list
an export holds at most one neutralised chunk in memory.
"""

from __future__ import annotations

import io
import math
import operator
import os
import re
import unicodedata
import zipfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from core.campaign import GROUP_RULE, CampaignPlan, assign_groups
from core.errors import ConfigError
from core.features import FEATURE_BY_NAME, STYLE_BY_NAME
from core.formula import looks_like_formula
from core.pipeline import Segmentation
from core.schema import BEHAVIOUR_COLUMNS, ID_COLUMN

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

__all__ = ["EXPORT_ROW_LIMIT_XLSX", "FORMATS", "export_bytes", "export_filename",
           "exportable_attributes", "member_list", "neutralise", "neutralise_frame",
           "with_campaign", "write_export"]

FORMATS: tuple[str, ...] = ("csv", "xlsx", "parquet")
EXPORT_ROW_LIMIT_XLSX: int = 1_048_575  # an Excel sheet holds 1,048,576 rows, one is the header
XLSX_COLUMN_LIMIT = 16_384
XLSX_CELL_CHARS = 32_767
XLSX_EXACT_DIGITS = 15  # Excel keeps 15 significant digits; longer integers travel as text
CHUNK_ROWS = 100_000
CSV_ENCODING = "utf-8-sig"  # the byte-order mark makes Excel read UTF-8; pandas and tools skip it
MEMBER_COLUMNS: tuple[str, ...] = (ID_COLUMN, "segment", "segment_name", "distance_to_centre")
CAMPAIGN_GROUP, PLAN_NAME = "campaign_group", "plan_name"
COLLISION_PREFIX = "input_"  # an attribute named like a member column is exported as input_<name>
MAX_LABEL_CHARS = 60
DATA_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq")

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
FIXED_TIME = datetime(1980, 1, 1)  # the earliest time a zip entry can carry


# --- member lists ---------------------------------------------------------------------------

def member_list(segmentation: Segmentation, *, segments: Collection[int] | None = None,
                mask: np.ndarray | None = None, attributes: Sequence[str] = (),
                plans: Mapping[int, CampaignPlan] | None = None) -> pd.DataFrame:
    """The customers to hand to a campaign tool, one row each, in input order.

    Parameters
    ----------
    segmentation : Segmentation
    segments : collection of int, optional
        Segment numbers to export; None exports every segment.
    mask : array of bool, shape (n_customers,), optional
        The customers selected on screen (e.g. with the lasso). With ``segments``, only the
        selected customers of those segments are exported.
    attributes : sequence of str
        Extra columns: pass-through attributes of the loaded file or behavioural columns
        (see :func:`exportable_attributes`). Behavioural values are the cleaned ones (missing
        values filled as for the segmentation). An attribute named like a member column is
        exported as ``input_<name>``.
    plans : mapping of int to CampaignPlan, optional
        The campaign plan of each planned segment, whose audience is the whole segment. Adds
        ``campaign_group`` and ``plan_name`` (:func:`with_campaign`); both are empty for
        customers of segments without a plan. A customer's group is the one of the whole
        segment's plan, also when only some of the segment is exported.

    Returns
    -------
    DataFrame
        ``CUST_ID`` (text), ``segment``, ``segment_name``, ``distance_to_centre``, the campaign
        columns when ``plans`` is given, then ``attributes``; a RangeIndex.

    Raises
    ------
    ConfigError
        For an unknown segment or attribute, or a mask of the wrong length or type.
    """
    names = _checked_attributes(segmentation, attributes)
    rows = _chosen_rows(segmentation, segments, mask)
    members = segmentation.assignments()
    if plans is not None:
        members = with_campaign(members, [(plan, [_checked_segment(segmentation, segment)])
                                          for segment, plan in plans.items()])
    members = members[rows].reset_index(drop=True)
    if not names:
        return members
    extra = segmentation.prepared.frame.loc[rows, names].reset_index(drop=True)
    extra.columns = [COLLISION_PREFIX + n if n in members.columns else n for n in names]
    return pd.concat([members, extra], axis=1)


def with_campaign(assignments: pd.DataFrame,
                  audiences: Sequence[tuple[CampaignPlan, Collection[int]]]) -> pd.DataFrame:
    """``assignments`` with the campaign group and plan name of every customer.

    Parameters
    ----------
    assignments : DataFrame
        ``CUST_ID`` and ``segment`` per customer (e.g. :meth:`Segmentation.assignments` or
        :meth:`SegmentModel.score`).
    audiences : sequence of (CampaignPlan, collection of int)
        Each plan with the segments that form its audience; no segment in two audiences.

    Returns
    -------
    DataFrame
        A copy with ``campaign_group`` (``treatment``, ``control`` or ``not_contacted``, drawn
        by :func:`core.campaign.assign_groups` over each audience) and ``plan_name``; both
        empty outside every audience.
    """
    group = np.full(len(assignments), None, dtype=object)
    plan_name = np.full(len(assignments), None, dtype=object)
    covered: set[int] = set()
    for plan, segments in audiences:
        chosen = {operator.index(s) for s in segments}
        if chosen & covered:
            raise ConfigError(f"segments {sorted(chosen & covered)} are in two plans' audiences")
        covered |= chosen
        inside = assignments["segment"].isin(chosen).to_numpy()
        group[inside] = assign_groups(assignments[ID_COLUMN].to_numpy()[inside], plan)
        plan_name[inside] = plan.name
    return assignments.assign(**{CAMPAIGN_GROUP: pd.Series(group, dtype="str",
                                                           index=assignments.index),
                                 PLAN_NAME: pd.Series(plan_name, dtype="str",
                                                      index=assignments.index)})


def exportable_attributes(segmentation: Segmentation) -> tuple[str, ...]:
    """Columns a member list may add: the file's pass-through attributes, then behaviour."""
    derived = {ID_COLUMN, *BEHAVIOUR_COLUMNS, *FEATURE_BY_NAME, *STYLE_BY_NAME}
    passed = [c for c in segmentation.prepared.frame.columns if c not in derived]
    return (*passed, *BEHAVIOUR_COLUMNS)


def _chosen_rows(segmentation: Segmentation, segments: Collection[int] | None,
                 mask: np.ndarray | None) -> np.ndarray:
    """Boolean row mask: customers of ``segments`` (all when None) that are also in ``mask``."""
    labels = segmentation.labels
    rows = np.ones(len(labels), dtype=bool)
    if segments is not None:
        rows &= np.isin(labels, [_checked_segment(segmentation, s) for s in segments])
    if mask is not None:
        rows &= _checked_mask(mask, len(labels), "mask")
    return rows


def _checked_segment(segmentation: Segmentation, segment: Any) -> int:
    """``segment`` as an int, if it is one of the segmentation's segment numbers."""
    numbers = [p.segment for p in segmentation.profiles]
    try:
        number = operator.index(segment)
    except TypeError:
        number = None
    if isinstance(segment, bool) or number not in numbers:
        raise ConfigError(f"no segment {segment!r}; the segments are {numbers}.")
    return number


def _checked_mask(mask: Any, n: int, what: str) -> np.ndarray:
    """``mask`` if it is ``n`` booleans, one per customer, else a ConfigError."""
    array = np.asarray(mask)
    if array.dtype != bool or array.shape != (n,):
        raise ConfigError(f"{what} must be {n:,} booleans, one per customer; got {array.dtype} "
                          f"of shape {array.shape}.")
    return array


def _checked_attributes(segmentation: Segmentation, attributes: Sequence[str]) -> list[str]:
    """``attributes`` without repeats, after checking each may be exported."""
    if isinstance(attributes, str):
        attributes = [attributes]
    if not isinstance(attributes, Sequence) or not all(isinstance(a, str) for a in attributes):
        raise ConfigError(f"attributes must be a list of column names; got {attributes!r:.60}")
    allowed = exportable_attributes(segmentation)
    unknown = [a for a in attributes if a not in allowed]
    if unknown:
        raise ConfigError(f"cannot export unknown column(s) {', '.join(map(repr, unknown))}; "
                          f"choose from {', '.join(allowed)}.")
    return list(dict.fromkeys(attributes))


# --- formula neutralisation -----------------------------------------------------------------

def neutralise(value: Any) -> Any:
    """``value`` made inert for spreadsheets: formula-leading text gets a leading ``'``.

    Non-text values and text that is exactly a decimal number are returned unchanged.

    >>> neutralise("=1+1"), neutralise("  @SUM(A1)"), neutralise("-2"), neutralise(-2)
    ("'=1+1", "'  @SUM(A1)", '-2', -2)
    """
    if looks_like_formula(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :func:`neutralise` applied to its headers and text columns.

    The customer id column is left exact, so campaign tools can match every customer (the
    loader warns about ids that begin like a formula). Numeric, boolean and date columns are
    shared with ``frame``, not copied.
    """
    out = frame.copy(deep=False)
    for position in range(frame.shape[1]):
        values = frame.iloc[:, position]
        if _is_text(values.dtype) and frame.columns[position] != ID_COLUMN:
            out.isetitem(position, values.map(neutralise, na_action="ignore"))
    out.columns = [neutralise(str(c)) for c in frame.columns]
    return out


def _is_text(dtype: Any) -> bool:
    """Whether a column of this dtype can hold text."""
    return (pd.api.types.is_object_dtype(dtype)
            or isinstance(dtype, pd.StringDtype | pd.CategoricalDtype))


# --- writers --------------------------------------------------------------------------------

def write_export(frame: pd.DataFrame, fmt: str,
                 target: BinaryIO | str | os.PathLike[str]) -> None:
    """Write ``frame`` (a member list) as ``fmt``, streaming, to a path or binary handle.

    Parameters
    ----------
    frame : DataFrame
    fmt : {"csv", "xlsx", "parquet"}
        CSV: UTF-8 with a byte-order mark, comma-separated, CRLF line ends, values neutralised.
        XLSX: one sheet ``members``, text as string cells, values neutralised. Parquet: values
        exactly as in ``frame``.
    target : binary file object or path
        A handle is written to and left open; a path is created or overwritten.

    Raises
    ------
    ConfigError
        For an unknown format, or an XLSX export larger than a sheet (:data:`EXPORT_ROW_LIMIT_XLSX`
        rows, 16,384 columns) or with a text cell over 32,767 characters. Nothing is truncated.
    """
    fmt = _checked_format(fmt)
    if fmt == "xlsx":
        _check_fits_sheet(frame)
    with _binary(target) as handle:
        _WRITERS[fmt](frame, handle)


def export_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """:func:`write_export` into memory, e.g. for a browser download."""
    buffer = io.BytesIO()
    write_export(frame, fmt, buffer)
    return buffer.getvalue()


def _checked_format(fmt: str) -> str:
    """``fmt`` in lower case, if it is one of :data:`FORMATS`."""
    name = str(fmt).lower().lstrip(".")
    if name not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    return name


def _check_fits_sheet(frame: pd.DataFrame) -> None:
    """Refuse, with the counts and before anything is written, what one Excel sheet cannot hold."""
    rows, columns = frame.shape
    if rows > EXPORT_ROW_LIMIT_XLSX:
        raise ConfigError(f"{rows:,} customers do not fit in an Excel sheet (at most "
                          f"{EXPORT_ROW_LIMIT_XLSX:,} rows below the header); export CSV or "
                          f"Parquet, or fewer segments.")
    if columns > XLSX_COLUMN_LIMIT:
        raise ConfigError(f"{columns:,} columns do not fit in an Excel sheet (at most "
                          f"{XLSX_COLUMN_LIMIT:,}); tick fewer attributes.")
    for position, column in enumerate(frame.columns):
        values = frame.iloc[:, position]
        if not _is_text(values.dtype):
            continue
        longest = max((len(neutralise(v)) for v in values
                       if isinstance(v, str) and len(v) >= XLSX_CELL_CHARS), default=0)
        if longest > XLSX_CELL_CHARS:
            raise ConfigError(f"column {column!r} holds a text of {longest:,} characters; an "
                              f"Excel cell holds at most {XLSX_CELL_CHARS:,}. Export CSV or "
                              f"Parquet, or leave the column out.")


@contextmanager
def _binary(target: BinaryIO | str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary handle on ``target``: opened (and closed) here when it is a path."""
    if isinstance(target, str | os.PathLike):
        with open(target, "wb") as handle:
            yield handle
    else:
        yield target


def _chunks(frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """Consecutive slices of at most :data:`CHUNK_ROWS` rows (views, not copies)."""
    for start in range(0, len(frame), CHUNK_ROWS):
        yield frame.iloc[start:start + CHUNK_ROWS]


def _write_csv(frame: pd.DataFrame, handle: BinaryIO) -> None:
    """RFC 4180 CSV, header first, one neutralised chunk at a time."""
    text = io.TextIOWrapper(handle, encoding=CSV_ENCODING, newline="")
    try:
        neutralise_frame(frame.iloc[:0]).to_csv(text, index=False, lineterminator="\r\n")
        for chunk in _chunks(frame):
            neutralise_frame(chunk).to_csv(text, index=False, header=False,
                                           lineterminator="\r\n")
        text.flush()
    finally:
        text.detach()  # leave the caller's handle open


def _write_parquet(frame: pd.DataFrame, handle: BinaryIO) -> None:
    """Parquet with one row group per chunk, values unchanged."""
    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    schema = schema.with_metadata({**schema.metadata, **_file_notes(frame)})
    with pq.ParquetWriter(handle, schema) as writer:
        for chunk in _chunks(frame):
            writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))


def _write_xlsx(frame: pd.DataFrame, handle: BinaryIO) -> None:
    """One write-only sheet: neutralised text as string cells, numbers as numbers."""
    book = Workbook(write_only=True)
    book.properties.created = FIXED_TIME
    book.properties.description = _file_notes(frame).get(b"campaign_group_rule", b"").decode()
    sheet = book.create_sheet("members")
    sheet.append([_xlsx_value(sheet, neutralise(str(c))) for c in frame.columns])
    for chunk in _chunks(frame):
        for row in neutralise_frame(chunk).itertuples(index=False, name=None):
            sheet.append([_xlsx_value(sheet, value) for value in row])
    raw = io.BytesIO()
    book.save(raw)
    _reproducible_zip(raw, handle)


def _file_notes(frame: pd.DataFrame) -> dict[bytes, bytes]:
    """File metadata of a member list: how its campaign groups were drawn, when it has them."""
    return {b"campaign_group_rule": GROUP_RULE.encode()} if CAMPAIGN_GROUP in frame else {}


def _reproducible_zip(source: BinaryIO, target: BinaryIO) -> None:
    """Copy an XLSX archive with fixed timestamps, so the same members give the same bytes.

    openpyxl stamps the save time into ``docProps/core.xml`` and every zip entry.
    """
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(source) as archive, \
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for entry in archive.infolist():
            content = archive.read(entry)
            if entry.filename == "docProps/core.xml":
                content = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", content)
            out.writestr(zipfile.ZipInfo(entry.filename, FIXED_TIME.timetuple()[:6]), content,
                         compress_type=zipfile.ZIP_DEFLATED)


def _xlsx_value(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    """A value openpyxl writes faithfully: text as a string cell, missing as an empty cell.

    Integers beyond Excel's 15 significant digits become text (Excel would round them);
    characters XML cannot hold (control characters) become U+FFFD.
    """
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))
        cell.data_type = "s"  # never a formula ('f') or an error code ('e')
        return cell
    if value is None or pd.isna(value):
        return None
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        return None
    if (isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
            and abs(int(value)) >= 10 ** XLSX_EXACT_DIGITS):
        return _xlsx_value(sheet, str(value))
    return value


_WRITERS = {"csv": _write_csv, "xlsx": _write_xlsx, "parquet": _write_parquet}


# --- file names -----------------------------------------------------------------------------

def export_filename(data_label: str, k: int, segments: Collection[int] | None, fmt: str,
                    selection: bool = False) -> str:
    """A safe download name, e.g. ``cards_k6_segments-1-3-4.xlsx`` or ``cards_k6_selection.csv``.

    Parameters
    ----------
    data_label : str
        The data set's name, e.g. its file name (a data-file extension is dropped).
    k : int
        Number of segments.
    segments : collection of int or None
        The exported segments; None for all.
    fmt : {"csv", "xlsx", "parquet"}
    selection : bool
        Whether the export is limited to the customers selected on screen.

    Returns
    -------
    str
        Only ``A-Z a-z 0-9 . _ -``: no path separators, spaces, quotes or line breaks; accents
        are dropped (``Übersicht`` → ``Ubersicht``); the data set's part is at most 60 characters.
    """
    fmt = _checked_format(fmt)
    parts = [safe_label(data_label), f"k{operator.index(k)}"]
    if segments is not None:
        numbers = sorted({operator.index(s) for s in segments})
        word = "segment" if len(numbers) == 1 else "segments"
        parts.append(f"{word}-{'-'.join(map(str, numbers)) or 'none'}")
    if selection:
        parts.append("selection")
    elif segments is None:
        parts.append("all")
    return f"{'_'.join(parts)}.{fmt}"


def safe_label(label: str) -> str:
    """``label`` reduced to ``[A-Za-z0-9._-]``, at most MAX_LABEL_CHARS, or ``customers``."""
    text = str(label)
    if text.lower().endswith(DATA_SUFFIXES):
        text = text.rsplit(".", 1)[0]
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"-{2,}", "-", _UNSAFE_NAME_CHARS.sub("-", ascii_text)).strip("-._")
    return slug[:MAX_LABEL_CHARS].rstrip("-._") or "customers"
