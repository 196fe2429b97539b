"""The synthetic demo data: determinism, schema, consistency, quirks and calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.demo import ARCHETYPES, DEMO_PATH, DEMO_ROWS, DEMO_SEED, generate_demo_data
from core.errors import ConfigError
from core.schema import (
    BEHAVIOUR_COLUMNS,
    COLUMNS,
    COUNT_COLUMNS,
    FREQUENCY_COLUMNS,
    ID_COLUMN,
    MONEY_COLUMNS,
)
from tests.reference import REFERENCE_CSV, needs_reference

INT_COLUMNS = (*COUNT_COLUMNS, "TENURE")
PURCHASE_AMOUNTS = ("PURCHASES", "ONEOFF_PURCHASES", "INSTALLMENTS_PURCHASES")


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return generate_demo_data()


def test_same_seed_gives_the_same_frame_and_another_seed_does_not():
    first = generate_demo_data(2000, seed=7)
    pd.testing.assert_frame_equal(first, generate_demo_data(2000, seed=7))
    other = generate_demo_data(2000, seed=8)
    assert not first[list(BEHAVIOUR_COLUMNS)].equals(other[list(BEHAVIOUR_COLUMNS)])


def test_schema_columns_ids_and_dtypes(demo):
    assert list(demo.columns) == [ID_COLUMN, *BEHAVIOUR_COLUMNS]
    assert len(demo) == DEMO_ROWS
    assert demo[ID_COLUMN].is_unique and demo[ID_COLUMN].str.fullmatch(r"D\d{6}").all()
    assert demo[ID_COLUMN].iloc[0] == "D000001"
    for name in BEHAVIOUR_COLUMNS:
        expected = np.int64 if name in INT_COLUMNS else np.float64
        assert demo[name].dtype == expected, name
    assert not {a.name for a in ARCHETYPES} & set(demo.columns)


def test_floats_are_rounded_like_the_real_file(demo):
    for name in set(BEHAVIOUR_COLUMNS) - set(INT_COLUMNS):
        values = demo[name].dropna()
        decimals = 2 if name in PURCHASE_AMOUNTS else 6
        assert (values == values.round(decimals)).all(), name


def test_values_stay_in_their_ranges(demo):
    assert (demo[list(MONEY_COLUMNS)].fillna(0) >= 0).all().all()
    assert (demo[list(COUNT_COLUMNS)] >= 0).all().all()
    scores = [c for c in FREQUENCY_COLUMNS if c != "CASH_ADVANCE_FREQUENCY"]
    assert demo[scores].ge(0).all().all() and demo[scores].le(1).all().all()
    assert demo["CASH_ADVANCE_FREQUENCY"].between(0, 1.5).all()
    assert demo["TENURE"].between(6, 12).all()
    limit = demo["CREDIT_LIMIT"].dropna()
    assert limit.between(50, 30_000).all() and (limit % 50 == 0).all()
    assert (limit % 500 == 0).mean() > 0.7


def test_columns_are_consistent_per_customer(demo):
    parts = demo["ONEOFF_PURCHASES"] + demo["INSTALLMENTS_PURCHASES"]
    assert ((demo["PURCHASES"] - parts).abs() < 0.005).mean() > 0.99
    assert (demo["PURCHASES"] <= parts + 0.005).all()
    bought = demo["PURCHASES_FREQUENCY"] > 0
    assert (bought == (demo["PURCHASES_TRX"] > 0)).all() and (bought == (parts > 0)).all()
    for part in ("ONEOFF_PURCHASES_FREQUENCY", "PURCHASES_INSTALLMENTS_FREQUENCY"):
        assert (demo[part] <= demo["PURCHASES_FREQUENCY"]).all(), part
    cash = demo["CASH_ADVANCE"] > 0
    assert (cash == (demo["CASH_ADVANCE_TRX"] > 0)).all()
    assert (cash == (demo["CASH_ADVANCE_FREQUENCY"] > 0)).all()
    cash_months = (demo["CASH_ADVANCE_FREQUENCY"] * demo["TENURE"]).round()
    assert (demo["CASH_ADVANCE_TRX"] >= cash_months).all()
    assert (bought | cash).all()
    assert ((demo["BALANCE"] == 0) == (demo["BALANCE_FREQUENCY"] == 0)).mean() > 0.999
    paid_nothing = demo["PAYMENTS"] == 0
    assert demo.loc[paid_nothing, "MINIMUM_PAYMENTS"].isna().all()
    assert (demo.loc[paid_nothing, "PRC_FULL_PAYMENT"] == 0).all()


def test_quirks_of_the_real_file_are_present(demo):
    missing_minimum = demo["MINIMUM_PAYMENTS"].isna()
    assert 0.025 <= missing_minimum.mean() <= 0.045
    assert (demo.loc[missing_minimum, "PAYMENTS"] == 0).mean() > 0.6
    assert demo["CREDIT_LIMIT"].isna().sum() == 1
    assert 0.80 <= (demo["TENURE"] == 12).mean() <= 0.89
    assert set(demo["TENURE"]) == set(range(6, 13))
    assert (demo["CASH_ADVANCE_FREQUENCY"] > 1).sum() >= 1
    parts = demo["ONEOFF_PURCHASES"] + demo["INSTALLMENTS_PURCHASES"]
    assert (demo["PURCHASES"] < parts - 1).sum() >= 1


def test_committed_demo_file_is_the_generated_data(demo):
    committed = pd.read_csv(DEMO_PATH)
    pd.testing.assert_frame_equal(committed, demo, check_exact=False, rtol=0, atol=1e-9)


@pytest.mark.parametrize(("rows", "missing_limits"), [(1, 0), (10, 0), (50_000, 5)])
def test_any_size_works(rows, missing_limits):
    frame = generate_demo_data(rows, seed=3)
    assert frame.shape == (rows, 1 + len(BEHAVIOUR_COLUMNS))
    assert frame[ID_COLUMN].is_unique
    assert frame["CREDIT_LIMIT"].isna().sum() == missing_limits
    assert frame.drop(columns=["CREDIT_LIMIT", "MINIMUM_PAYMENTS"]).notna().all().all()


@pytest.mark.parametrize("rows", [0, -5, 2.5, True, "100"])
def test_bad_row_counts_are_refused(rows):
    with pytest.raises(ConfigError, match="rows must be a positive integer"):
        generate_demo_data(rows)


@pytest.mark.parametrize("seed", [None, 1.5, "1"])
def test_bad_seeds_are_refused(seed):
    with pytest.raises(ConfigError, match="seed must be an integer"):
        generate_demo_data(10, seed=seed)


def test_archetypes_are_well_formed():
    assert sum(a.share for a in ARCHETYPES) == pytest.approx(1.0)
    assert len({a.name for a in ARCHETYPES}) == len(ARCHETYPES)
    assert all(a.description for a in ARCHETYPES)
    assert [a.name for a in ARCHETYPES if a.short_tenure == 1.0] == ["new_account"]


def test_readme_documents_the_columns_archetypes_and_seed():
    text = (DEMO_PATH.parent / "README.md").read_text(encoding="utf-8")
    for column in COLUMNS:
        assert f"| `{column.name}` | {column.label} | {column.unit} | {column.description}" in text
    for archetype in ARCHETYPES:
        share = f"{archetype.share * 100:.0f} %"
        assert f"| `{archetype.name}` | {share} | {archetype.description} |" in text
    assert f"--rows {DEMO_ROWS} --seed {DEMO_SEED} --out data/demo_customers.csv" in text


# --- calibration against the real file (summary statistics only) --------------------------

def _gaps(sample: pd.DataFrame, real: pd.DataFrame) -> dict[str, float]:
    """Largest per-column gaps between two tables and the mean Spearman difference."""
    columns = list(BEHAVIOUR_COLUMNS)
    q_sample = np.log1p(sample[columns].quantile([0.5, 0.9]))
    q_real = np.log1p(real[columns].quantile([0.5, 0.9]))
    gap = (q_sample - q_real).abs()
    zeros = ((sample[columns] == 0).mean() - (real[columns] == 0).mean()).abs()
    spearman = (sample[columns].corr("spearman") - real[columns].corr("spearman")).abs()
    upper = np.triu_indices(len(columns), 1)
    return {
        "median": gap.loc[0.5].max(),
        "p90": gap.loc[0.9].max(),
        "zero share": zeros.max(),
        "spearman": spearman.to_numpy()[upper].mean(),
    }


TOLERANCES = {"median": 0.3, "p90": 0.3, "zero share": 0.08, "spearman": 0.08}


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return pd.read_csv(REFERENCE_CSV, usecols=list(BEHAVIOUR_COLUMNS))


@needs_reference
def test_demo_data_matches_the_real_summary_statistics(demo, real):
    gaps = _gaps(demo, real)
    assert all(gaps[name] <= limit for name, limit in TOLERANCES.items()), gaps


@needs_reference
def test_calibration_check_rejects_independent_uniform_columns(real):
    rng = np.random.default_rng(0)
    naive = pd.DataFrame({c: rng.uniform(real[c].min(), real[c].max(), DEMO_ROWS)
                          for c in BEHAVIOUR_COLUMNS})
    gaps = _gaps(naive, real)
    assert all(gaps[name] > limit for name, limit in TOLERANCES.items()), gaps
