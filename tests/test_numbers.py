"""Numbers as people write them: each style parses to the number it means, or is classified."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.numbers import parse_numbers, uses_decimal_comma


def parsed(*cells: object, comma: bool = False):
    return parse_numbers(pd.Series(cells, dtype=object), comma=comma)


@pytest.mark.parametrize(("cell", "comma", "value"), [
    ("1,234.56", False, 1234.56), ("$1,234.56", False, 1234.56), ("$40.90", False, 40.9),
    ("-$40.90", False, -40.9), ("USD 12", False, 12.0), ("1 234.56", False, 1234.56),
    ("1'234.56", False, 1234.56), ("(12.50)", False, -12.5), ("1.234,56 €", True, 1234.56),
    ("1\u00a0234,56", True, 1234.56), ("1\u202f234,56", True, 1234.56), ("12,5", True, 12.5),
    ("1.234.567", True, 1234567.0), ("5,4e-3", True, 0.0054), ("45%", False, 0.45),
    ("12,5 %", True, 0.125),
])
def test_formatted_numbers_mean_what_they_say(cell, comma, value):
    column = parsed(cell, comma=comma)
    assert column.values[0] == pytest.approx(value)
    assert not column.text[0]


def test_each_unusual_cell_is_classified_once():
    column = parsed("1,234.56", "45%", "-", "N/A", "?", "n.a.", "#N/A", "abc", "", None, "nan",
                    pd.Timestamp("2026-01-01"), 7, 2.5)
    assert column.formatted.tolist() == [True] + [False] * 13
    assert column.percent.tolist() == [False, True] + [False] * 12
    assert column.marks.tolist() == [False, False, True, True, True, True] + [False] * 8
    assert column.errors.tolist() == [False] * 6 + [True] + [False] * 7
    assert column.text.tolist() == [False] * 7 + [True] + [False] * 6
    assert column.dates.tolist() == [False] * 11 + [True, False, False]
    assert np.isnan(column.values[2:11]).all() and column.values[12:].tolist() == [7.0, 2.5]


def test_timestamp_columns_are_dates_not_nanoseconds():
    column = parse_numbers(pd.Series(pd.to_datetime(["2026-01-01", None])), comma=False)
    assert column.dates.tolist() == [True, False] and np.isnan(column.values).all()


@pytest.mark.parametrize(("cells", "expected"), [
    (["12,5", "1.234,56"], True), (["1 234,56"], True), (["12,5", "12.5"], False),
    (["1,234"], False), (["1,234.56"], False), (["12"], False),
])
def test_the_decimal_comma_is_chosen_only_on_unambiguous_evidence(cells, expected):
    columns = [pd.Series(cells, dtype="str")]
    assert uses_decimal_comma(columns, [parse_numbers(c, comma=False) for c in columns]) \
        is expected


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False).map(lambda v: round(v, 2)))
def test_grouped_and_currency_forms_round_trip(value):
    dot = f"${value:,.2f}".replace("$-", "-$")
    comma = f"{value:,.2f}".replace(",", "\u00a0").replace(".", ",") + " €"
    assert parsed(dot).values[0] == pytest.approx(value)
    assert parsed(comma, comma=True).values[0] == pytest.approx(value)
