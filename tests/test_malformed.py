"""A corpus of malformed customer files, generated in code: each must fail clearly or warn.

Every blocking case raises one DataValidationError whose message names what is wrong
(column, spreadsheet rows, example values); soft cases load and carry a warning.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import openpyxl
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.loading import load_customers
from core.schema import BEHAVIOUR_COLUMNS, ID_COLUMN


def customers(n: int = 8) -> pd.DataFrame:
    """A valid synthetic table: ids C30001..., money, frequencies, counts, tenure 12."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.uniform(0, 1, (n, 17)).round(4), columns=list(BEHAVIOUR_COLUMNS))
    for money in ("BALANCE", "ONEOFF_PURCHASES", "INSTALLMENTS_PURCHASES", "CASH_ADVANCE",
                  "CREDIT_LIMIT", "PAYMENTS", "MINIMUM_PAYMENTS"):
        frame[money] = (frame[money] * 5000).round(2)
    frame["PURCHASES"] = frame["ONEOFF_PURCHASES"] + frame["INSTALLMENTS_PURCHASES"]
    frame[["CASH_ADVANCE_TRX", "PURCHASES_TRX", "TENURE"]] = [1.0, 4.0, 12.0]
    frame.insert(0, ID_COLUMN, [f"C{30001 + i}" for i in range(n)])
    return frame


def csv(frame: pd.DataFrame, **kwargs) -> bytes:
    return frame.to_csv(index=False, **kwargs).encode()


def with_cells(cells: dict[tuple[int, str], object], n: int = 8) -> pd.DataFrame:
    """customers(n) with some cells replaced: {(row index, column): value}."""
    frame = customers(n).astype(object)
    for (row, column), value in cells.items():
        frame.loc[row, column] = value
    return frame


def lines(content: bytes) -> list[str]:
    return content.decode().splitlines()


def xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def table_rows(frame: pd.DataFrame) -> list[list[object]]:
    return [list(frame.columns), *frame.astype(object).values.tolist()]


def rezip(content: bytes, replace: dict[str, bytes | None]) -> bytes:
    """Rewrite entries of a zip (None drops the entry)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        names = [info.filename for info in source.infolist()]
        for name in names + [n for n in replace if n not in names]:
            data = replace[name] if name in replace else source.read(name)
            if data is not None:
                target.writestr(name, data)
    return out.getvalue()


def declare_huge_sizes(content: bytes) -> bytes:
    """Patch the central directory so every entry claims to unpack to ~3.7 GB."""
    data = bytearray(content)
    for match in re.finditer(rb"PK\x01\x02", content):
        struct.pack_into("<I", data, match.start() + 24, 0xDD000000)
    return bytes(data)


def parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def parquet_bad_utf8() -> bytes:
    """A Parquet file whose string column holds bytes that are not UTF-8."""
    buffer = io.BytesIO()
    customers().assign(CUST_ID=[f"ID{i}XYZ" for i in range(8)]).to_parquet(
        buffer, index=False, compression=None, use_dictionary=False)
    return buffer.getvalue().replace(b"ID3XYZ", b"ID3\xff\xfe\xfd")


def ragged(more: list[int], fewer: list[int]) -> bytes:
    text = lines(csv(customers()))
    for row in more:
        text[row - 1] += ",extra"
    for row in fewer:
        text[row - 1] = text[row - 1].rsplit(",", 1)[0]
    return "\n".join(text).encode()


def missing_columns(*names: str) -> bytes:
    return csv(customers().drop(columns=list(names)))


def renamed(**names: str) -> bytes:
    return csv(customers().rename(columns=names))


def many_problems() -> bytes:
    frame = with_cells({(1, "BALANCE"): "abc", (2, "PAYMENTS"): -3.0, (3, ID_COLUMN): "C30001",
                        (4, "CASH_ADVANCE"): "inf"})
    return csv(frame.drop(columns=["TENURE"]))


@dataclass(frozen=True)
class Case:
    """One malformed input; ``expect`` substrings must all appear in the message(s)."""

    build: Callable[[], bytes]
    expect: tuple[str, ...]
    filename: str = "cards.csv"
    max_bytes: int | None = None
    soft: bool = False
    problems: int = field(default=1)


CASES: dict[str, Case] = {
    "empty bytes": Case(lambda: b"", ("cards.csv: the file is empty",)),
    "only whitespace": Case(lambda: b" \n\r\n\t\n", ("the file is empty",)),
    "header only": Case(lambda: lines(csv(customers()))[0].encode(), ("no customer rows",)),
    "header and blank lines": Case(lambda: (lines(csv(customers()))[0] + "\n\n,,\n").encode(),
                                   ("no customer rows",)),
    "binary junk named .csv": Case(lambda: bytes(np.random.default_rng(1).integers(
        0, 256, 4000, dtype=np.uint8)), ("binary data",)),
    "png image": Case(lambda: b"\x89PNG\r\n\x1a\n" + bytes(200), ("PNG image",), "cards.png"),
    "pdf document": Case(lambda: b"%PDF-1.7\n" + bytes(100), ("PDF document",)),
    "gzip file": Case(lambda: b"\x1f\x8b\x08\x00" + bytes(100), ("gzip",), "cards.csv.gz"),
    "html page saved as .csv": Case(lambda: b"<!DOCTYPE html><html><body>Sign in</body></html>",
                                    ("web page",)),
    "json file": Case(lambda: b'[{"CUST_ID": "C1", "BALANCE": 3}]', ("JSON",), "cards.json"),
    "undecodable utf-16": Case(lambda: b"\xff\xfe" + "CUST_ID".encode("utf-16-le") + b"\x00",
                               ("binary data",)),
    "unclosed quote in the header": Case(lambda: b'CUST_ID,"BALANCE\nC1,2\nC2,3\n',
                                         ("header row could not be read", "unclosed quote")),
    "parquet with invalid text bytes": Case(lambda: parquet_bad_utf8(), ("Parquet", "damaged"),
                                            "cards.parquet"),
    "truncated parquet": Case(lambda: parquet(customers())[:-200], ("Parquet", "damaged"),
                              "cards.parquet"),
    "parquet with junk body": Case(lambda: b"PAR1" + bytes(300) + b"PAR1",
                                   ("Parquet", "damaged"), "cards.parquet"),
    "corrupt zip renamed .xlsx": Case(lambda: b"PK\x03\x04" + bytes(range(256)) * 4,
                                      ("damaged Excel workbook",), "cards.xlsx"),
    "truncated xlsx": Case(lambda: xlsx(table_rows(customers()))[:1500],
                           ("damaged Excel workbook",), "cards.xlsx"),
    "zip that is not a workbook": Case(lambda: rezip(xlsx([["a"]]), {"xl/workbook.xml": None}),
                                       ("zip archive, not an Excel workbook",), "cards.xlsx"),
    "encrypted or legacy workbook": Case(lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
                                         ("password-protected",), "cards.xlsx"),
    "xlsx declaring a huge unpacked size": Case(
        lambda: declare_huge_sizes(xlsx(table_rows(customers()))), ("would unpack to",),
        "cards.xlsx"),
    "xlsx zip bomb (compression ratio)": Case(
        lambda: rezip(xlsx([["a"]]), {"xl/media/blank.bin": bytes(12_000_000)}),
        ("would unpack to", "Save the sheet as CSV"), "cards.xlsx"),
    "xlsx damaged sheet xml": Case(
        lambda: rezip(xlsx(table_rows(customers())), {"xl/worksheets/sheet1.xml": b"<wor"}),
        ("Excel workbook", "cannot be read"), "cards.xlsx"),
    "xlsx with no sheets": Case(
        lambda: rezip(xlsx([["a"]]), {"xl/workbook.xml": (
            b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b"<sheets/></workbook>")}), ("no sheets",), "cards.xlsx"),
    "xlsx with an empty sheet": Case(lambda: xlsx([]), ("sheet 'Sheet' is empty",),
                                     "cards.xlsx"),
    "xlsx header only": Case(lambda: xlsx(table_rows(customers())[:1]), ("no customer rows",),
                             "cards.xlsx"),
    "xlsx text in a number column": Case(
        lambda: xlsx(table_rows(with_cells({(2, "PAYMENTS"): "about 1500"}))),
        ("column PAYMENTS must be numeric", "row 4", "'about 1500'"), "cards.xlsx"),
    "ragged: a row too long": Case(lambda: ragged(more=[4], fewer=[]),
                                   ("1 row has more values", "row 4", "found 19 values")),
    "ragged: a row too short": Case(lambda: ragged(more=[], fewer=[3]),
                                    ("1 row has fewer values", "row 3", "found 17 values")),
    "ragged both ways": Case(lambda: ragged(more=[2, 5], fewer=[7]),
                             ("2 rows have more values", "rows 2, 5", "row 7"), problems=2),
    "missing CUST_ID": Case(lambda: missing_columns(ID_COLUMN),
                            ("missing column CUST_ID (no similar header found)",)),
    "missing several columns": Case(lambda: missing_columns("TENURE", "BALANCE", "PAYMENTS"),
                                    ("missing columns BALANCE, PAYMENTS, TENURE",)),
    "misspelt header": Case(lambda: renamed(CREDIT_LIMIT="CREDT LIMT"),
                            ("missing column CREDIT_LIMIT (closest header found: 'CREDT LIMT')",)),
    "no expected header at all": Case(lambda: b"name;age\nAnna;31\n",
                                      ("none of the expected columns", "'name'", "'age'")),
    "duplicate ids": Case(lambda: csv(with_cells({(3, ID_COLUMN): "C30001",
                                                  (6, ID_COLUMN): "C30002"})),
                          ("CUST_ID must be unique", "'C30001' (rows 2, 5)",
                           "'C30002' (rows 3, 8)")),
    "blank ids": Case(lambda: csv(with_cells({(1, ID_COLUMN): "", (4, ID_COLUMN): "  "})),
                      ("CUST_ID is blank in 2 rows (rows 3, 6)",)),
    "text in a numeric column": Case(
        lambda: csv(with_cells({(i, "CREDIT_LIMIT"): v for i, v in enumerate(
            ["1.500,00", "n/a", "abc", "x", "y", "z", "12 EUR"])})),
        ("column CREDIT_LIMIT must be numeric; 5 rows contain text",
         "rows 2, 4, 5, 6, 7: '1.500,00', 'abc', 'x'", "decimal separator")),
    "decimal comma in a comma-separated file": Case(
        lambda: csv(with_cells({(0, "BALANCE"): "1.500,00", (5, "BALANCE"): "12,5"})),
        ("column BALANCE must be numeric", "rows 2, 7", "'1.500,00', '12,5'",
         "Check the decimal separator")),
    "infinite value": Case(lambda: csv(with_cells({(2, "PAYMENTS"): "inf",
                                                   (3, "PAYMENTS"): "-Infinity"})),
                           ("column PAYMENTS contains infinite values in 2 rows",
                            "rows 4, 5: 'inf', '-Infinity'")),
    "negative money": Case(lambda: csv(with_cells({(5, "CREDIT_LIMIT"): -1000.0})),
                           ("column CREDIT_LIMIT must not be negative", "row 7", "'-1000.0'")),
    "negative frequency": Case(lambda: csv(with_cells({(0, "PURCHASES_FREQUENCY"): -0.5})),
                               ("column PURCHASES_FREQUENCY must not be negative", "row 2")),
    "negative count": Case(lambda: csv(with_cells({(1, "PURCHASES_TRX"): -2})),
                           ("column PURCHASES_TRX must not be negative", "row 3", "'-2'")),
    "two headers for one column": Case(lambda: csv(customers().assign(Purchases=1.0)),
                                       ("headers 'PURCHASES' (column D) and 'Purchases' "
                                        "(column S) both match column PURCHASES",)),
    "one-column file": Case(lambda: b"CUST_ID\nC1\nC2\n",
                            ("missing columns BALANCE, BALANCE_FREQUENCY",)),
    "10k-column file": Case(lambda: ("\n".join([",".join(f"c{i}" for i in range(10_000)),
                                                ",".join("1" * 10_000)])).encode(),
                            ("10,000 columns", "at most 1,000")),
    "over the size limit": Case(lambda: csv(customers(200)), ("MB, over the", "MB limit"),
                                max_bytes=10_000),
    "several problems at once": Case(many_problems, (
        "5 problems found", "missing column TENURE", "column BALANCE must be numeric",
        "column PAYMENTS must not be negative", "'C30001' (rows 2, 5)"), problems=5),
    # soft: the table loads, with a warning naming the column and rows
    "xlsx formula error cells": Case(
        lambda: xlsx(table_rows(with_cells({(1, "BALANCE"): "#DIV/0!", (3, "BALANCE"): "#N/A"}))),
        ("BALANCE: 2 spreadsheet error cells (#DIV/0!, #N/A) will be treated as missing",),
        "cards.xlsx", soft=True),
    "csv spreadsheet error strings": Case(
        lambda: csv(with_cells({(0, "TENURE"): "#VALUE!", (2, "TENURE"): "#REF!"})),
        ("TENURE: 2 spreadsheet error cells",), soft=True),
    "frequency above 1": Case(lambda: csv(with_cells({(4, "CASH_ADVANCE_FREQUENCY"): 1.5})),
                              ("CASH_ADVANCE_FREQUENCY: 1 value is above 1 (up to 1.5)",),
                              soft=True),
    "purchases do not add up": Case(lambda: csv(with_cells({(2, "PURCHASES"): 99999.0})),
                                    ("PURCHASES: 1 row differs from ONEOFF_PURCHASES",),
                                    soft=True),
    "tenure outside 6-12": Case(lambda: csv(with_cells({(1, "TENURE"): 3.0})),
                                ("TENURE: 1 value is outside 6-12 months",), soft=True),
    "count not whole": Case(lambda: csv(with_cells({(1, "CASH_ADVANCE_TRX"): 1.5})),
                            ("CASH_ADVANCE_TRX: 1 value is not whole",), soft=True),
    "missing values": Case(lambda: csv(with_cells({(1, "MINIMUM_PAYMENTS"): None,
                                                   (2, "MINIMUM_PAYMENTS"): "NA"})),
                           ("MINIMUM_PAYMENTS: 2 missing (25.0 %) — will be filled",), soft=True),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_malformed_input(case: Case) -> None:
    content = case.build()
    kwargs = {"max_bytes": case.max_bytes} if case.max_bytes else {}
    if case.soft:
        data = load_customers(content, filename=case.filename, **kwargs)
        text = "\n".join(data.quality.lines())
        assert data.quality.warnings
    else:
        with pytest.raises(DataValidationError) as caught:
            load_customers(content, filename=case.filename, **kwargs)
        error = caught.value
        text = str(error)
        assert error.source == case.filename
        assert len(error.problems) == case.problems, error.problems
        assert "Traceback" not in text and "dtype" not in text and "Error" not in text
    for expected in case.expect:
        assert expected in text, f"{expected!r} not in:\n{text}"


def test_corpus_is_large_enough():
    assert sum(not c.soft for c in CASES.values()) >= 30


def test_error_cells_in_xlsx_become_missing():
    content = CASES["xlsx formula error cells"].build()
    data = load_customers(content, filename="cards.xlsx")
    assert data.frame["BALANCE"].isna().tolist()[:4] == [False, True, False, True]
    (error,) = [i for i in data.quality.for_column("BALANCE") if "error" in i.message]
    assert error.rows == (3, 5) and error.count == 2


def test_unreadable_files_do_not_say_anything_else():
    with pytest.raises(DataValidationError) as caught:
        load_customers(b"\x89PNG" + bytes(50), filename="photo.png")
    assert caught.value.problems == (
        "the file is a PNG image, not a table. Save the table as CSV, Excel (.xlsx) or "
        "Parquet and try again.",)


def test_size_limit_is_checked_before_reading_a_path(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 3_000_000)
    with pytest.raises(DataValidationError, match=r"the file is 2.9 MB, over the 1 MB limit"):
        load_customers(path, max_bytes=1_048_576)
