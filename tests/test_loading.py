"""Loading customer tables: every format from path and bytes, encodings, delimiters, decimals."""

import gzip
import hashlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference import REFERENCE_CSV, needs_reference

from core.errors import DataValidationError
from core.loading import DEFAULT_MAX_BYTES, CustomerData, from_frame, load_customers
from core.schema import BEHAVIOUR_COLUMNS, COLUMNS, ID_COLUMN

COLUMNS_OUT = [ID_COLUMN, *BEHAVIOUR_COLUMNS]


def customers(n: int = 8, seed: int = 0) -> pd.DataFrame:
    """A synthetic valid customer table (no rows of the real file)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({ID_COLUMN: [f"C{20001 + i}" for i in range(n)]})
    for column in COLUMNS:
        if column.kind == "money":
            frame[column.name] = rng.gamma(1.0, 1500.0, n).round(2)
        elif column.kind == "frequency":
            frame[column.name] = rng.uniform(0, 1, n).round(6)
        elif column.kind == "count":
            frame[column.name] = rng.integers(0, 30, n).astype(float)
        else:
            frame[column.name] = rng.integers(6, 13, n).astype(float)
    frame["PURCHASES"] = frame["ONEOFF_PURCHASES"] + frame["INSTALLMENTS_PURCHASES"]
    return frame


def to_bytes(frame: pd.DataFrame, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    if fmt == "csv":
        buffer.write(frame.to_csv(index=False, **kwargs).encode(kwargs.pop("encoding", "utf-8")))
    elif fmt == "xlsx":
        frame.to_excel(buffer, index=False)
    else:
        frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def assert_same(data: CustomerData, expected: pd.DataFrame) -> None:
    frame = data.frame
    assert list(frame.columns[:18]) == COLUMNS_OUT
    assert isinstance(frame.index, pd.RangeIndex) and len(frame) == len(expected)
    assert frame[ID_COLUMN].tolist() == expected[ID_COLUMN].astype(str).tolist()
    assert pd.api.types.is_string_dtype(frame[ID_COLUMN].dtype)
    assert (frame[list(BEHAVIOUR_COLUMNS)].dtypes == np.float64).all()
    assert np.allclose(frame[list(BEHAVIOUR_COLUMNS)].to_numpy(),
                       expected[list(BEHAVIOUR_COLUMNS)].to_numpy(dtype=float), equal_nan=True)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
@pytest.mark.parametrize("via", ["path", "bytes"])
def test_every_format_from_path_and_bytes(tmp_path, fmt, via):
    expected = customers()
    content = to_bytes(expected, fmt)
    if via == "path":
        path = tmp_path / f"cards.{fmt}"
        path.write_bytes(content)
        data = load_customers(path)
        assert data.source == f"cards.{fmt}"
    else:
        data = load_customers(content, filename=f"upload.{fmt}")
        assert data.source == f"upload.{fmt}"
    assert_same(data, expected)
    assert data.content_hash == hashlib.sha256(content).hexdigest()
    assert data.quality.issues == () and data.renamed == () and data.attributes == ()


@pytest.mark.parametrize("fmt, name", [("xlsx", "cards.csv"), ("parquet", "cards.xlsx"),
                                       ("csv", "cards.parquet")])
def test_content_decides_the_format_not_the_name(fmt, name):
    expected = customers()
    assert_same(load_customers(to_bytes(expected, fmt), filename=name), expected)


def test_bytes_without_a_filename_are_labelled():
    data = load_customers(to_bytes(customers(), "csv"))
    assert data.source == "uploaded file"
    assert DEFAULT_MAX_BYTES == 50 * 1024 * 1024


def test_str_path_works(tmp_path):
    path = tmp_path / "cards.csv"
    path.write_bytes(to_bytes(customers(), "csv"))
    assert len(load_customers(str(path))) == 8


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"])
def test_encodings(encoding):
    expected = customers().assign(city=["Zürich", "Malmö", "São Paulo", "Köln", "Paris",
                                        "Besançon", "Genève", "Łódź" if "utf" in encoding
                                        else "Lodz"])
    content = expected.to_csv(index=False).encode(encoding)
    data = load_customers(content, filename="cards.csv")
    assert_same(data, expected)
    assert data.frame["city"].tolist() == expected["city"].tolist()
    assert data.renamed == ()  # no BOM left in the first header


def test_cp1252_euro_sign():
    expected = customers().assign(note="€ premium")
    data = load_customers(expected.to_csv(index=False).encode("cp1252"))
    assert set(data.frame["note"]) == {"€ premium"}


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(sep):
    expected = customers()
    assert_same(load_customers(expected.to_csv(index=False, sep=sep).encode()), expected)


def european(frame: pd.DataFrame, sep: str = ";") -> bytes:
    """Write a table the way a European-locale spreadsheet exports it: 1.234,56 and 12,5."""
    def cell(value: object) -> str:
        if isinstance(value, float):
            text = f"{value:,.6f}".rstrip("0").rstrip(".")
            return text.replace(",", "_").replace(".", ",").replace("_", ".")
        return str(value)

    lines = [sep.join(frame.columns)]
    lines += [sep.join(cell(v) for v in row) for row in frame.itertuples(index=False)]
    return "\r\n".join(lines).encode("cp1252")


@pytest.mark.parametrize("sep", [";", "\t"])
def test_decimal_comma_gives_the_same_frame(sep):
    expected = customers()
    expected.loc[0, "BALANCE"] = 1234.56
    expected.loc[1, "CREDIT_LIMIT"] = 12500.0
    content = european(expected, sep)
    assert b"1.234,56" in content and b"12.500" in content
    data = load_customers(content, filename="export.csv")
    assert_same(data, expected)
    assert list(data.frame.columns) == COLUMNS_OUT


def test_decimal_comma_with_simple_values():
    content = european(customers(3).round(1))
    assert b",5" in content or b",1" in content
    assert_same(load_customers(content), customers(3).round(1))


def test_pass_through_attributes_keep_their_kind():
    expected = customers(4).assign(region=["North", "South", "", "East"],
                                   age=[31, 45, 52, 28], score=[0.5, 1.5, None, 2.0],
                                   zip=["01234", "10115", "00501", "75001"])
    for fmt in ("csv", "xlsx", "parquet"):
        data = load_customers(to_bytes(expected, fmt))
        assert data.attributes == ("region", "age", "score", "zip")
        frame = data.frame
        assert list(frame.columns) == [*COLUMNS_OUT, "region", "age", "score", "zip"]
        assert frame["region"].iloc[[0, 1, 3]].tolist() == ["North", "South", "East"]
        assert frame["region"].isna().iloc[2] or frame["region"].iloc[2] == ""
        assert frame["age"].tolist() == [31, 45, 52, 28]
        assert frame["score"].iloc[[0, 1, 3]].tolist() == [0.5, 1.5, 2.0]
        assert frame["zip"].tolist() == ["01234", "10115", "00501", "75001"]


def test_duplicate_and_blank_attribute_headers_get_distinct_names():
    content = to_bytes(customers(3), "csv").replace(b"TENURE\n", b"TENURE,note,note,\n")
    content = content.replace(b"\n", b",a,b,c\n").replace(b"TENURE,note,note,,a,b,c",
                                                         b"TENURE,note,note,")
    data = load_customers(content)
    assert data.attributes == ("note", "note (2)", "column U")


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_leading_zero_ids_are_kept_as_text(fmt):
    expected = customers(4).assign(CUST_ID=["00123", "0042", "7", "000"])
    data = load_customers(to_bytes(expected, fmt))
    assert data.frame[ID_COLUMN].tolist() == ["00123", "0042", "7", "000"]


def test_numeric_ids_in_a_workbook_read_without_decimals():
    expected = customers(3).assign(CUST_ID=[101, 102, 103])
    assert load_customers(to_bytes(expected, "xlsx")).frame[ID_COLUMN].tolist() == [
        "101", "102", "103"]


def test_row_order_and_ids_are_preserved():
    expected = customers(50, seed=3).sample(frac=1, random_state=1)
    data = load_customers(to_bytes(expected, "csv"))
    assert data.frame[ID_COLUMN].tolist() == expected[ID_COLUMN].tolist()


@pytest.mark.parametrize("token", ["", "NA", "NaN", "null", "nan", "  "])
def test_missing_value_tokens(token):
    content = to_bytes(customers(4), "csv").decode().splitlines()
    cells = content[2].split(",")
    cells[15] = token  # MINIMUM_PAYMENTS of the second customer
    content[2] = ",".join(cells)
    data = load_customers("\n".join(content).encode())
    assert np.isnan(data.frame.loc[1, "MINIMUM_PAYMENTS"])
    (issue,) = data.quality.for_column("MINIMUM_PAYMENTS")
    assert issue.count == 1 and issue.rows == (3,)
    assert issue.message == ("MINIMUM_PAYMENTS: 1 missing (25.0 %) — will be filled during "
                             "cleaning.")


def test_soft_problems_are_warnings():
    frame = customers(10)
    frame.loc[2, "CASH_ADVANCE_FREQUENCY"] = 1.5
    frame.loc[4, "PURCHASES"] += 100
    frame.loc[5, "TENURE"] = 24
    frame.loc[6, "PURCHASES_TRX"] = 2.5
    data = load_customers(to_bytes(frame, "csv"))
    by_column = {i.column: i for i in data.quality.warnings}
    assert by_column["CASH_ADVANCE_FREQUENCY"].rows == (4,)
    assert "above 1 (up to 1.5)" in by_column["CASH_ADVANCE_FREQUENCY"].message
    assert by_column["PURCHASES"].count == 1 and by_column["PURCHASES"].rows == (6,)
    assert by_column["TENURE"].rows == (7,) and "outside 6-12" in by_column["TENURE"].message
    assert by_column["PURCHASES_TRX"].rows == (8,)
    assert "not whole numbers" in by_column["PURCHASES_TRX"].message
    assert data.frame.loc[2, "CASH_ADVANCE_FREQUENCY"] == 1.5


def test_spreadsheet_error_strings_become_missing_with_a_warning():
    frame = customers(6).astype({"CREDIT_LIMIT": object})
    frame.loc[1, "CREDIT_LIMIT"] = "#DIV/0!"
    frame.loc[3, "CREDIT_LIMIT"] = "#N/A"
    data = load_customers(to_bytes(frame, "csv"))
    assert data.frame["CREDIT_LIMIT"].isna().tolist() == [False, True, False, True, False, False]
    messages = " ".join(i.message for i in data.quality.for_column("CREDIT_LIMIT"))
    assert "2 spreadsheet error cells (#DIV/0!, #N/A)" in messages
    assert "2 missing" in messages


def test_blank_lines_are_skipped_and_row_numbers_stay_true():
    lines = to_bytes(customers(5), "csv").decode().splitlines()
    lines.insert(3, "")  # a blank line becomes spreadsheet row 4
    cells = lines[5].split(",")
    cells[1] = "abc"  # row 6 in the file
    lines[5] = ",".join(cells)
    with pytest.raises(DataValidationError) as caught:
        load_customers(("\n".join(lines) + "\n\n").encode())
    assert "(row 6: 'abc')" in str(caught.value)
    lines[5] = lines[4]
    lines[5] = "C9," + lines[5].split(",", 1)[1]
    data = load_customers(("\n\n" + "\n".join(lines)).encode())
    assert len(data) == 5
    assert any("1 empty row was skipped (row 6)" in line for line in data.quality.lines())


def test_header_without_a_name_for_the_index_column():
    content = customers(4).to_csv(index=True).encode()
    content = content[1:]  # drop the empty first header cell: data rows are one field longer
    data = load_customers(content)
    assert_same(data, customers(4))


def test_trailing_separator_on_every_line():
    lines = to_bytes(customers(4), "csv").decode().splitlines()
    assert_same(load_customers("\n".join(f"{line}," for line in lines).encode()), customers(4))
    lines[0] += ","
    assert_same(load_customers("\n".join(lines).encode()), customers(4))


def test_quoted_values_with_separators_and_line_breaks():
    frame = customers(3).assign(note=["a, b", 'say "hi"', "two\nlines"])
    data = load_customers(to_bytes(frame, "csv"))
    assert data.frame["note"].tolist() == ["a, b", 'say "hi"', "two\nlines"]


def test_windows_line_endings_and_spaces_around_cells():
    text = to_bytes(customers(3), "csv").decode().replace(",", " , ").replace("\n", "\r\n")
    data = load_customers(text.encode())
    assert_same(data, customers(3))


def test_from_frame_matches_csv_loading():
    frame = customers(6)
    via_frame = from_frame(frame, source="demo")
    assert via_frame.source == "demo"
    pd.testing.assert_frame_equal(via_frame.frame, load_customers(to_bytes(frame, "csv")).frame)
    assert via_frame.content_hash == from_frame(frame.copy()).content_hash
    changed = frame.copy()
    changed.loc[0, "BALANCE"] += 1
    assert from_frame(changed).content_hash != via_frame.content_hash


def test_from_frame_accepts_an_id_index_and_renamed_columns():
    frame = customers(4).rename(columns={"PURCHASES": "Purchases"}).set_index(ID_COLUMN)
    data = from_frame(frame)
    assert data.frame[ID_COLUMN].tolist() == customers(4)[ID_COLUMN].tolist()
    assert data.renamed == (("Purchases", "PURCHASES"),)


def test_from_frame_validates():
    frame = customers(4)
    frame.loc[2, "PAYMENTS"] = -5.0
    with pytest.raises(DataValidationError, match=r"PAYMENTS must not be negative.*row 4"):
        from_frame(frame, source="my table")
    with pytest.raises(DataValidationError, match="expected a table"):
        from_frame([1, 2, 3])  # type: ignore[arg-type]


def test_missing_path_is_a_validation_error(tmp_path):
    with pytest.raises(DataValidationError, match="cannot be opened"):
        load_customers(tmp_path / "nope.csv")
    with pytest.raises(DataValidationError, match="folder"):
        load_customers(tmp_path)


def test_error_source_is_the_file_name(tmp_path):
    path = tmp_path / "cards.csv"
    path.write_bytes(b"")
    with pytest.raises(DataValidationError) as caught:
        load_customers(path)
    assert caught.value.source == "cards.csv"
    assert str(caught.value) == "cards.csv: the file is empty."


def test_large_table_loads(tmp_path):
    frame = customers(50_000, seed=5)
    data = load_customers(to_bytes(frame, "csv"))
    assert len(data) == 50_000 and data.quality.issues == ()


@needs_reference
def test_reference_file_loads_with_its_known_flaws():
    data = load_customers(REFERENCE_CSV)
    assert data.source == "cc_general.csv" and len(data) == 8950
    assert list(data.frame.columns) == COLUMNS_OUT and data.attributes == ()
    assert data.frame[ID_COLUMN].is_unique
    warnings = {i.column: i for i in data.quality.warnings}
    assert warnings["MINIMUM_PAYMENTS"].count == 313
    assert warnings["MINIMUM_PAYMENTS"].message.startswith("MINIMUM_PAYMENTS: 313 missing (3.5 %)")
    assert warnings["CREDIT_LIMIT"].count == 1
    assert "up to 1.5" in warnings["CASH_ADVANCE_FREQUENCY"].message
    assert warnings["PURCHASES"].count > 0
    assert data.content_hash == hashlib.sha256(Path(REFERENCE_CSV).read_bytes()).hexdigest()


def test_excel_sep_hint_line():
    content = b"sep=;\r\n" + european(customers(3))
    assert_same(load_customers(content), customers(3))


def test_mixed_decimal_marks_are_not_guessed():
    text = customers(3).to_csv(index=False, sep=";")
    text = text.replace(str(customers(3).loc[0, "BALANCE"]), "1234,5")
    with pytest.raises(DataValidationError, match=r"column BALANCE must be numeric.*'1234,5'"):
        load_customers(text.encode())


def test_numeric_ids_from_parquet_with_a_gap_are_reported_blank():
    frame = customers(3).assign(CUST_ID=[7.0, None, 9.0])
    with pytest.raises(DataValidationError, match=r"CUST_ID is blank in 1 row \(row 3\)"):
        load_customers(to_bytes(frame, "parquet"))
    frame = customers(3).assign(CUST_ID=[7.0, 8.0, 9.0])
    assert load_customers(to_bytes(frame, "parquet")).frame[ID_COLUMN].tolist() == ["7", "8", "9"]


def test_dates_in_a_number_column_of_a_workbook_are_refused():
    frame = customers(3).astype({"TENURE": object})
    frame.loc[1, "TENURE"] = pd.Timestamp("2024-01-31")
    with pytest.raises(DataValidationError, match=r"TENURE holds dates or times, not numbers "
                       r"\(row 3: '2024-01-31 00:00:00'\); TENURE must be a number \(months\)"):
        load_customers(to_bytes(frame, "xlsx"))


def test_old_mac_line_endings_and_leading_blank_lines():
    text = "\r\r" + to_bytes(customers(3), "csv").decode().replace("\n", "\r")
    assert_same(load_customers(text.encode()), customers(3))


def test_ids_that_begin_like_a_formula_are_reported_and_kept_exact(tmp_path):
    from core.demo import generate_demo_data
    from core.export import export_bytes, member_list
    from core.pipeline import SegmentationConfig, segment_customers

    frame = generate_demo_data(60, seed=3)
    frame.loc[[2, 5, 9], ID_COLUMN] = ["@00125", "=1+1", "+44 20"]
    frame.loc[11, ID_COLUMN] = "-12"  # a plain number is no formula
    path = tmp_path / "cards.csv"
    frame.to_csv(path, index=False)
    data = load_customers(path)
    [issue] = [i for i in data.quality.issues if i.column == ID_COLUMN]
    assert issue.count == 3 and issue.rows == (4, 7, 11)  # file lines: the header is line 1
    assert "'@00125', '=1+1', '+44 20'" in issue.message and "exactly" in issue.message
    assert data.frame[ID_COLUMN].tolist() == frame[ID_COLUMN].tolist()
    members = member_list(segment_customers(data, SegmentationConfig(k=2)))
    for fmt, read in (("csv", pd.read_csv), ("xlsx", pd.read_excel),
                      ("parquet", pd.read_parquet)):
        back = read(io.BytesIO(export_bytes(members, fmt)), **(
            {} if fmt == "parquet" else {"dtype": {ID_COLUMN: str}}))
        assert back[ID_COLUMN].tolist() == frame[ID_COLUMN].tolist(), fmt


def test_a_gzip_file_of_several_members_is_unpacked_whole():
    text = to_bytes(customers(6), "csv")
    header, *lines = text.splitlines(keepends=True)
    members = gzip.compress(header + b"".join(lines[:3]), mtime=0) + \
        gzip.compress(b"".join(lines[3:]), mtime=0)  # as `cat a.gz b.gz` or a streaming export
    data = load_customers(members, filename="cards.csv.gz")
    assert data.frame[ID_COLUMN].tolist() == customers(6)[ID_COLUMN].tolist()
    assert any("gzip-compressed" in line for line in data.quality.lines())
    member = gzip.compress(b"a" * 12_000_000, mtime=0)  # 12 MB packed into about 12 KB
    with pytest.raises(DataValidationError, match="would unpack to more than 20 MB"):
        load_customers(member * 2, filename="bomb.csv.gz", max_bytes=2**20)  # 24 MB in all
