"""Engineered features and categorical behaviour styles, each defined once with a description."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.schema import COLUMN_BY_NAME, unit_of


def safe_divide(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """``numerator / denominator``, 0 where the denominator is not positive."""
    num = numerator.to_numpy(dtype=float)
    den = denominator.to_numpy(dtype=float)
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return pd.Series(out, index=numerator.index)


@dataclass(frozen=True)
class Feature:
    """A numeric feature computed from the cleaned behavioural columns."""

    name: str
    label: str
    description: str
    compute: Callable[[pd.DataFrame], pd.Series]
    kind: str  # money, monthly money, share or ratio (see core.schema.unit_of)
    skewed: bool = False  # heavy right tail: log1p before scaling

    @property
    def unit(self) -> str:
        """Plain-language unit, e.g. ``currency per month``."""
        return unit_of(self.kind)


@dataclass(frozen=True)
class Style:
    """A categorical behaviour style: each customer gets exactly one of ``categories``."""

    name: str
    label: str
    description: str
    categories: tuple[str, ...]
    rule: Callable[[pd.DataFrame], list[np.ndarray]]  # one boolean mask per category but the last

    def assign(self, frame: pd.DataFrame) -> pd.Categorical:
        """The style of every customer; the last category catches everyone else."""
        masks = self.rule(frame)
        values = np.select(masks, self.categories[:-1], default=self.categories[-1])
        return pd.Categorical(values, categories=self.categories)


def _total_spending(f: pd.DataFrame) -> pd.Series:
    return f["PURCHASES"] + f["CASH_ADVANCE"]


FEATURES: tuple[Feature, ...] = (
    Feature("TOTAL_SPENDING", "Total spending",
            "Purchases plus cash advances over the six months", _total_spending, "money",
            skewed=True),
    Feature("ONEOFF_SHARE", "One-off share",
            "Share of purchases paid in a single payment",
            lambda f: safe_divide(f["ONEOFF_PURCHASES"], f["PURCHASES"]), "share"),
    Feature("INSTALLMENT_SHARE", "Installment share",
            "Share of purchases paid in installments",
            lambda f: safe_divide(f["INSTALLMENTS_PURCHASES"], f["PURCHASES"]), "share"),
    Feature("CASH_ADVANCE_SHARE", "Cash-advance share",
            "Share of total spending taken as cash advances",
            lambda f: safe_divide(f["CASH_ADVANCE"], _total_spending(f)), "share"),
    Feature("UTILISATION", "Credit utilisation",
            "Balance as a share of the credit limit",
            lambda f: safe_divide(f["BALANCE"], f["CREDIT_LIMIT"]), "ratio", skewed=True),
    Feature("PAYMENT_TO_MINIMUM", "Payments to minimum",
            "Payments made divided by minimum payments due",
            lambda f: safe_divide(f["PAYMENTS"], f["MINIMUM_PAYMENTS"]), "ratio", skewed=True),
    Feature("CASH_ADVANCE_TO_LIMIT", "Cash advance to limit",
            "Cash advances as a share of the credit limit",
            lambda f: safe_divide(f["CASH_ADVANCE"], f["CREDIT_LIMIT"]), "ratio", skewed=True),
    Feature("MONTHLY_PURCHASES", "Monthly purchases",
            "Average purchases per month of tenure",
            lambda f: safe_divide(f["PURCHASES"], f["TENURE"]), "monthly money", skewed=True),
    Feature("MONTHLY_CASH_ADVANCE", "Monthly cash advance",
            "Average cash advance per month of tenure",
            lambda f: safe_divide(f["CASH_ADVANCE"], f["TENURE"]), "monthly money", skewed=True),
    Feature("MONTHLY_PAYMENTS", "Monthly payments",
            "Average payments per month of tenure",
            lambda f: safe_divide(f["PAYMENTS"], f["TENURE"]), "monthly money", skewed=True),
)
FEATURE_BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}

DOMINANT_SHARE = 0.6  # a purchase or spending kind "dominates" above this share
FULL_PAYER_SHARE = 0.75  # full balance paid in at least this share of months
MINIMUM_ONLY_RATIO = 1.1  # payments at most 10 % above the minimum due


STYLES: tuple[Style, ...] = (
    Style("PURCHASE_STYLE", "Purchase style",
          "How purchases split between one-off and installment payments",
          ("No purchases", "One-off dominant", "Installments dominant", "Balanced"),
          lambda f: [f["PURCHASES"].to_numpy() <= 0,
                     f["ONEOFF_SHARE"].to_numpy() >= DOMINANT_SHARE,
                     f["INSTALLMENT_SHARE"].to_numpy() >= DOMINANT_SHARE]),
    Style("MONETARY_STYLE", "Monetary style",
          "Whether spending goes to cash advances or to retail purchases",
          ("No spending", "Cash-focused", "Retail-focused", "Mixed"),
          lambda f: [f["TOTAL_SPENDING"].to_numpy() <= 0,
                     f["CASH_ADVANCE_SHARE"].to_numpy() >= DOMINANT_SHARE,
                     f["CASH_ADVANCE_SHARE"].to_numpy() <= 1 - DOMINANT_SHARE]),
    Style("PAYMENT_BEHAVIOUR", "Payment behaviour",
          "How the customer pays the card back",
          ("No payment", "Full payer", "Minimum-only", "Partial payer"),
          lambda f: [f["PAYMENTS"].to_numpy() <= 0,
                     f["PRC_FULL_PAYMENT"].to_numpy() >= FULL_PAYER_SHARE,
                     f["PAYMENT_TO_MINIMUM"].to_numpy() <= MINIMUM_ONLY_RATIO]),
)
STYLE_BY_NAME: dict[str, Style] = {s.name: s for s in STYLES}


def label(name: str) -> str:
    """Business label of a behavioural column or engineered feature; other names unchanged."""
    if name in COLUMN_BY_NAME:
        return COLUMN_BY_NAME[name].label
    return FEATURE_BY_NAME[name].label if name in FEATURE_BY_NAME else name


def unit(name: str) -> str:
    """Plain-language unit of a behavioural column or engineered feature, e.g. ``months``."""
    return (COLUMN_BY_NAME.get(name) or FEATURE_BY_NAME[name]).unit


def kind(name: str) -> str | None:
    """The kind of a behavioural column or engineered feature (``money``, ``count``, ...);
    None for other names."""
    column = COLUMN_BY_NAME.get(name) or FEATURE_BY_NAME.get(name)
    return None if column is None else column.kind


def is_money(name: str) -> bool:
    """True for a behavioural column or engineered feature that is an amount of money."""
    return kind(name) in ("money", "monthly money")


def add_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` (cleaned behavioural columns) with every feature and style added."""
    out = frame.copy()
    for feature in FEATURES:
        out[feature.name] = feature.compute(out).to_numpy()
    for style in STYLES:
        out[style.name] = style.assign(out)
    return out
