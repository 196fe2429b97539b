"""Cleaning rules, learned on fit and applied on transform, with the report of what changed."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.cleaning import MEDIAN_COLUMNS, MODE_COLUMNS, Cleaner
from core.schema import BEHAVIOUR_COLUMNS


def table(rows: int = 6, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.uniform(1, 100, (rows, 17)), columns=list(BEHAVIOUR_COLUMNS))
    frame["PURCHASES"] = frame["ONEOFF_PURCHASES"] + frame["INSTALLMENTS_PURCHASES"]
    return frame


def test_credit_limit_and_money_columns_take_the_median():
    frame = table()
    frame.loc[2, "CREDIT_LIMIT"] = np.nan
    frame.loc[4, "BALANCE"] = np.nan
    out, report = Cleaner().fit(frame).clean(frame)
    assert out.loc[2, "CREDIT_LIMIT"] == pytest.approx(frame["CREDIT_LIMIT"].median())
    assert out.loc[4, "BALANCE"] == pytest.approx(frame["BALANCE"].median())
    changed = {(s.column, s.cells) for s in report.steps if s.cells}
    assert ("CREDIT_LIMIT", 1) in changed and ("BALANCE", 1) in changed


def test_frequencies_counts_and_tenure_take_the_mode():
    frame = table()
    frame["TENURE"] = [12, 12, 12, 8, 6, np.nan]
    frame.loc[0, "PURCHASES_TRX"] = np.nan
    frame["PURCHASES_TRX"] = [np.nan, 3, 3, 5, 7, 9]
    out = Cleaner().fit(frame).transform(frame)
    assert out.loc[5, "TENURE"] == 12
    assert out.loc[0, "PURCHASES_TRX"] == 3


def test_minimum_payments_zero_without_payments_else_median_of_payers():
    frame = table()
    frame["PAYMENTS"] = [0.0, 50, 60, 70, 0, 90]
    frame["MINIMUM_PAYMENTS"] = [np.nan, np.nan, 10, 20, 1000, 40]
    cleaner = Cleaner().fit(frame)
    out, report = cleaner.clean(frame)
    assert out.loc[0, "MINIMUM_PAYMENTS"] == 0
    # median over rows with PAYMENTS != 0 only (10, 20, 40): the 1000 of a non-payer is excluded
    assert out.loc[1, "MINIMUM_PAYMENTS"] == 20
    assert [s.cells for s in report.steps if s.column == "MINIMUM_PAYMENTS"] == [1, 1]


def test_purchases_repaired_to_the_sum_of_its_parts():
    frame = table()
    frame.loc[3, "PURCHASES"] = 1.0
    out, report = Cleaner().fit(frame).clean(frame)
    assert out.loc[3, "PURCHASES"] == pytest.approx(
        frame.loc[3, "ONEOFF_PURCHASES"] + frame.loc[3, "INSTALLMENTS_PURCHASES"])
    assert report.steps[-1].column == "PURCHASES" and report.steps[-1].cells == 1
    assert report.lines() == ["PURCHASES: 1 cell — set to one-off + installment purchases"]


def test_transform_uses_values_learned_on_fit():
    train, new = table(seed=1), table(rows=2, seed=2)
    new.loc[0, "CREDIT_LIMIT"] = np.nan
    out = Cleaner().fit(train).transform(new)
    assert out.loc[0, "CREDIT_LIMIT"] == pytest.approx(train["CREDIT_LIMIT"].median())


def test_all_missing_column_falls_back_to_zero_and_input_is_untouched():
    frame = table()
    frame["CASH_ADVANCE"] = np.nan
    before = frame.copy()
    out = Cleaner().fit(frame).transform(frame)
    assert (out["CASH_ADVANCE"] == 0).all()
    pd.testing.assert_frame_equal(frame, before)


def test_every_column_has_exactly_one_rule():
    ruled = MEDIAN_COLUMNS + MODE_COLUMNS + ("MINIMUM_PAYMENTS",)
    assert sorted(ruled) == sorted(BEHAVIOUR_COLUMNS)


cell = st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(cell, min_size=17, max_size=17), min_size=1, max_size=25))
def test_cleaning_leaves_no_gaps_keeps_rows_and_is_idempotent(rows):
    frame = pd.DataFrame(rows, columns=list(BEHAVIOUR_COLUMNS), dtype=float)
    frame.index = [f"row{i}" for i in range(len(frame))]
    cleaner = Cleaner().fit(frame)
    once = cleaner.transform(frame)
    assert np.isfinite(once.to_numpy()).all()
    assert list(once.index) == list(frame.index)
    twice, report = cleaner.clean(once)
    assert report.cells_changed == 0
    pd.testing.assert_frame_equal(once, twice)
