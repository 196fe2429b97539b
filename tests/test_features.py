"""Engineered features, behaviour styles, feature sets and preprocessing."""

import numpy as np
import pandas as pd
import pytest

from core.errors import ConfigError
from core.features import FEATURES, STYLES, add_features, safe_divide
from core.preprocessing import PRESETS, Preprocessor, resolve_feature_set
from core.schema import BEHAVIOUR_COLUMNS


def customers(**overrides) -> pd.DataFrame:
    base = dict.fromkeys(BEHAVIOUR_COLUMNS, 0.0) | {"TENURE": 12.0, "CREDIT_LIMIT": 1000.0}
    rows = [base | row for row in overrides.pop("rows")]
    return pd.DataFrame(rows, columns=list(BEHAVIOUR_COLUMNS))


def test_safe_divide_is_zero_for_zero_or_negative_denominators():
    out = safe_divide(pd.Series([1.0, 2.0, 3.0]), pd.Series([2.0, 0.0, -1.0]))
    assert out.tolist() == [0.5, 0.0, 0.0]


def test_ratio_features_on_hand_computed_rows():
    frame = add_features(customers(rows=[
        {"PURCHASES": 300, "ONEOFF_PURCHASES": 240, "INSTALLMENTS_PURCHASES": 60,
         "CASH_ADVANCE": 100, "BALANCE": 500, "PAYMENTS": 90, "MINIMUM_PAYMENTS": 30,
         "TENURE": 6},
    ]))
    row = frame.iloc[0]
    assert row["TOTAL_SPENDING"] == 400
    assert row["ONEOFF_SHARE"] == pytest.approx(0.8)
    assert row["INSTALLMENT_SHARE"] == pytest.approx(0.2)
    assert row["CASH_ADVANCE_SHARE"] == pytest.approx(0.25)
    assert row["UTILISATION"] == pytest.approx(0.5)
    assert row["PAYMENT_TO_MINIMUM"] == pytest.approx(3.0)
    assert row["CASH_ADVANCE_TO_LIMIT"] == pytest.approx(0.1)
    assert row["MONTHLY_PURCHASES"] == pytest.approx(50)


@pytest.mark.parametrize(("row", "style", "expected"), [
    ({}, "PURCHASE_STYLE", "No purchases"),
    ({"PURCHASES": 100, "ONEOFF_PURCHASES": 90, "INSTALLMENTS_PURCHASES": 10},
     "PURCHASE_STYLE", "One-off dominant"),
    ({"PURCHASES": 100, "ONEOFF_PURCHASES": 10, "INSTALLMENTS_PURCHASES": 90},
     "PURCHASE_STYLE", "Installments dominant"),
    ({"PURCHASES": 100, "ONEOFF_PURCHASES": 50, "INSTALLMENTS_PURCHASES": 50},
     "PURCHASE_STYLE", "Balanced"),
    ({}, "MONETARY_STYLE", "No spending"),
    ({"CASH_ADVANCE": 900, "PURCHASES": 100}, "MONETARY_STYLE", "Cash-focused"),
    ({"CASH_ADVANCE": 10, "PURCHASES": 100}, "MONETARY_STYLE", "Retail-focused"),
    ({"CASH_ADVANCE": 50, "PURCHASES": 50}, "MONETARY_STYLE", "Mixed"),
    ({}, "PAYMENT_BEHAVIOUR", "No payment"),
    ({"PAYMENTS": 500, "PRC_FULL_PAYMENT": 1.0}, "PAYMENT_BEHAVIOUR", "Full payer"),
    ({"PAYMENTS": 100, "MINIMUM_PAYMENTS": 100}, "PAYMENT_BEHAVIOUR", "Minimum-only"),
    ({"PAYMENTS": 300, "MINIMUM_PAYMENTS": 100}, "PAYMENT_BEHAVIOUR", "Partial payer"),
])
def test_styles(row, style, expected):
    assert add_features(customers(rows=[row]))[style].iloc[0] == expected


def test_every_feature_and_style_is_described_and_added():
    frame = add_features(customers(rows=[{}, {"PURCHASES": 5}]))
    for item in FEATURES + STYLES:
        assert item.name in frame.columns and item.label and item.description
    assert np.isfinite(frame[[f.name for f in FEATURES]].to_numpy()).all()


def test_seed_preset_is_the_published_pipeline():
    seed = PRESETS["seed"]
    assert seed.columns == ("PURCHASES_FREQUENCY", "CASH_ADVANCE_FREQUENCY", "PURCHASES_TRX",
                            "CASH_ADVANCE_TRX", "TOTAL_SPENDING")
    assert seed.log_columns == seed.columns
    assert PRESETS["behaviour"].columns == BEHAVIOUR_COLUMNS


def test_custom_feature_sets_and_their_errors():
    custom = resolve_feature_set("BALANCE, UTILISATION")
    assert custom.columns == ("BALANCE", "UTILISATION")
    assert custom.log_columns == ("BALANCE", "UTILISATION")
    assert resolve_feature_set(["TENURE", "SCORE"], available=["SCORE"]).log_columns == ()
    with pytest.raises(ConfigError, match="unknown feature set 'sed'"):
        resolve_feature_set("sed")
    with pytest.raises(ConfigError, match="'BALANSE'"):
        resolve_feature_set(["BALANSE", "TENURE"])
    with pytest.raises(ConfigError, match="at least two distinct"):
        resolve_feature_set(["TENURE", "TENURE"])


def _matrix_frame(rows: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.lognormal(3, 1, (rows, 17)), columns=list(BEHAVIOUR_COLUMNS))
    return add_features(frame)


@pytest.mark.parametrize("scaling", ["standard", "robust"])
def test_preprocessor_logs_skewed_columns_then_scales(scaling):
    frame = _matrix_frame()
    fs = resolve_feature_set(["BALANCE", "PURCHASES_FREQUENCY"])
    X = Preprocessor(feature_set=fs, scaling=scaling).fit(frame).transform(frame)
    logged = np.log1p(frame["BALANCE"])
    if scaling == "standard":
        assert X.mean(axis=0) == pytest.approx([0, 0], abs=1e-9)
        assert X[:, 0] == pytest.approx((logged - logged.mean()) / logged.std(ddof=0))
    else:
        assert np.median(X, axis=0) == pytest.approx([0, 0], abs=1e-9)
    assert X[:, 1] == pytest.approx(
        (frame["PURCHASES_FREQUENCY"] - (frame["PURCHASES_FREQUENCY"].mean()
         if scaling == "standard" else frame["PURCHASES_FREQUENCY"].median()))
        / (frame["PURCHASES_FREQUENCY"].std(ddof=0) if scaling == "standard"
           else np.subtract(*np.percentile(frame["PURCHASES_FREQUENCY"], [75, 25]))))


@pytest.mark.parametrize(("pca", "dims"), [(2, 2), (0.99, None)])
def test_preprocessor_pca(pca, dims):
    frame = _matrix_frame()
    pre = Preprocessor(feature_set=PRESETS["behaviour"], pca=pca).fit(frame)
    X = pre.transform(frame)
    assert X.shape[1] == (dims or len(pre.pca_components_))
    assert pre.output_names[0] == "PC1"
    assert X.var(axis=0)[0] >= X.var(axis=0)[-1]


@pytest.mark.parametrize("bad", [0, 99, 1.5, -0.1, True])
def test_preprocessor_rejects_bad_pca(bad):
    with pytest.raises(ConfigError, match="pca must be"):
        Preprocessor(feature_set=PRESETS["seed"], pca=bad).fit(_matrix_frame())


def test_preprocessor_rejects_unknown_scaling_and_fills_missing_attribute_values():
    frame = _matrix_frame()
    with pytest.raises(ConfigError, match="'minmax'"):
        Preprocessor(feature_set=PRESETS["seed"], scaling="minmax").fit(frame)
    frame["SCORE"] = np.where(np.arange(len(frame)) % 5 == 0, np.nan, 1.0 * np.arange(len(frame)))
    fs = resolve_feature_set(["SCORE", "TENURE"], available=["SCORE"])
    assert np.isfinite(Preprocessor(feature_set=fs).fit(frame).transform(frame)).all()
