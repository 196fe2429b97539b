"""Property tests: random valid tables round-trip; a text cell is always reported by row."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import DataValidationError
from core.loading import from_frame, load_customers
from core.report_rows import SUMMARY_LABEL
from core.schema import BEHAVIOUR_COLUMNS, COLUMN_BY_NAME, ID_COLUMN

SETTINGS = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

_ID_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"))


def _value(name: str) -> st.SearchStrategy[float | None]:
    kind = COLUMN_BY_NAME[name].kind
    if kind == "money":
        number = st.floats(0, 1e7, allow_nan=False, allow_subnormal=False)
    elif kind == "frequency":
        number = st.floats(0, 1.5, allow_nan=False, allow_subnormal=False)
    elif kind == "count":
        number = st.integers(0, 500).map(float)
    else:
        number = st.integers(1, 24).map(float)
    return st.one_of(st.none(), number) if name != "PURCHASES" else number


@st.composite
def tables(draw: st.DrawFn, max_rows: int = 25) -> pd.DataFrame:
    """A valid table: unique non-blank text ids (leading zeros, unicode), missing cells."""
    ids = draw(st.lists(st.text(_ID_CHARS, min_size=1, max_size=8).filter(
        lambda i: not SUMMARY_LABEL.fullmatch(i)), min_size=1, max_size=max_rows, unique=True))
    columns = {ID_COLUMN: ids}
    for name in BEHAVIOUR_COLUMNS:
        columns[name] = draw(st.lists(_value(name), min_size=len(ids), max_size=len(ids)))
    return pd.DataFrame(columns).astype({n: float for n in BEHAVIOUR_COLUMNS})


def _round_trip(frame: pd.DataFrame, fmt: str) -> pd.DataFrame:
    buffer = io.BytesIO()
    if fmt == "csv":
        buffer.write(frame.to_csv(index=False).encode("utf-8"))
    elif fmt == "csv;":
        buffer.write(frame.to_csv(index=False, sep=";", decimal=",").encode("utf-8"))
    else:
        frame.to_parquet(buffer, index=False)
    return load_customers(buffer.getvalue(), filename=f"t.{fmt}").frame


@pytest.mark.parametrize("fmt", ["csv", "csv;", "parquet"])
@SETTINGS
@given(frame=tables())
def test_valid_tables_round_trip(fmt, frame):
    loaded = _round_trip(frame, fmt)
    assert len(loaded) == len(frame)
    assert loaded[ID_COLUMN].tolist() == frame[ID_COLUMN].tolist()
    np.testing.assert_allclose(loaded[list(BEHAVIOUR_COLUMNS)].to_numpy(),
                               frame[list(BEHAVIOUR_COLUMNS)].to_numpy(),
                               rtol=1e-9, atol=1e-9, equal_nan=True)


@SETTINGS
@given(frame=tables())
def test_from_frame_keeps_every_value(frame):
    data = from_frame(frame)
    assert data.frame[ID_COLUMN].tolist() == frame[ID_COLUMN].tolist()
    pd.testing.assert_frame_equal(data.frame[list(BEHAVIOUR_COLUMNS)],
                                  frame[list(BEHAVIOUR_COLUMNS)])
    missing = {i.column: i.count for i in data.quality.warnings if "missing" in i.message}
    for name in BEHAVIOUR_COLUMNS:
        assert missing.get(name, 0) == int(frame[name].isna().sum())


_WORDS = st.text(st.sampled_from("abcxyzKLM/&!"), min_size=1, max_size=6).filter(
    lambda t: t.lower() not in {"na", "nan", "null", "none", "inf", "infinity"})


@SETTINGS
@given(frame=tables(), data=st.data())
def test_one_text_cell_is_always_reported_with_its_row(frame, data):
    row = data.draw(st.integers(0, len(frame) - 1), label="row")
    column = data.draw(st.sampled_from(BEHAVIOUR_COLUMNS), label="column")
    word = data.draw(_WORDS, label="text")
    frame = frame.astype({column: object})
    frame.loc[row, column] = word
    content = frame.to_csv(index=False).encode("utf-8")
    with pytest.raises(DataValidationError) as caught:
        load_customers(content, filename="t.csv")
    problems = [p for p in caught.value.problems if p.startswith(f"column {column} ")]
    assert len(problems) == 1, caught.value.problems
    assert f"(row {row + 2}: {word!r})" in problems[0]


def _seed_files() -> dict[str, bytes]:
    frame = pd.DataFrame({ID_COLUMN: ["C1", "C2", "C3"], "note": ["a,b", 'q"t', "x"]})
    for name in BEHAVIOUR_COLUMNS:
        frame[name] = [1.5, 2.0, 0.25]
    frame["PURCHASES"] = frame["ONEOFF_PURCHASES"] + frame["INSTALLMENTS_PURCHASES"]
    files = {"csv": frame.to_csv(index=False).encode(),
             "csv;": frame.to_csv(index=False, sep=";", decimal=",").encode("utf-16")}
    for fmt in ("xlsx", "parquet"):
        buffer = io.BytesIO()
        (frame.to_excel if fmt == "xlsx" else frame.to_parquet)(buffer, index=False)
        files[fmt] = buffer.getvalue()
    return files


SEED_FILES = _seed_files()


@settings(max_examples=120, deadline=None, database=None)
@given(fmt=st.sampled_from(sorted(SEED_FILES)), data=st.data())
def test_damaged_files_fail_only_with_a_validation_error(fmt, data):
    content = bytearray(SEED_FILES[fmt])
    how = data.draw(st.sampled_from(["flip", "cut", "insert"]), label="damage")
    at = data.draw(st.integers(0, len(content) - 1), label="at")
    if how == "flip":
        content[at] = data.draw(st.integers(0, 255), label="byte")
    elif how == "cut":
        del content[at:]
    else:
        content[at:at] = data.draw(st.sampled_from([b",", b";", b"\n", b"\r", b'"', b"\x00"]))
    try:
        loaded = load_customers(bytes(content), filename=f"damaged.{fmt.rstrip(';')}")
    except DataValidationError as error:
        assert error.problems and all(isinstance(p, str) and p for p in error.problems)
    else:
        assert loaded.frame[ID_COLUMN].notna().all()
