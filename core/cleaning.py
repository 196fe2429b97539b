"""Missing-value and consistency cleaning, learned on fit and applied on transform."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.currency import money

MEDIAN_COLUMNS: tuple[str, ...] = (
    "CREDIT_LIMIT", "BALANCE", "PURCHASES", "ONEOFF_PURCHASES",
    "INSTALLMENTS_PURCHASES", "CASH_ADVANCE", "PAYMENTS",
)
MODE_COLUMNS: tuple[str, ...] = (
    "BALANCE_FREQUENCY", "PURCHASES_FREQUENCY", "ONEOFF_PURCHASES_FREQUENCY",
    "PURCHASES_INSTALLMENTS_FREQUENCY", "CASH_ADVANCE_FREQUENCY", "CASH_ADVANCE_TRX",
    "PURCHASES_TRX", "TENURE", "PRC_FULL_PAYMENT",
)


@dataclass(frozen=True)
class CleaningStep:
    """One cleaning rule and how many cells it changed."""

    column: str
    rule: str
    cells: int


@dataclass(frozen=True)
class CleaningReport:
    """What cleaning changed, rule by rule (steps that changed nothing included)."""

    rows: int
    steps: tuple[CleaningStep, ...]

    @property
    def cells_changed(self) -> int:
        """Total number of cells any rule changed."""
        return sum(step.cells for step in self.steps)

    def lines(self) -> list[str]:
        """Plain-language sentences for the steps that changed something."""
        return [f"{s.column}: {s.cells:,} {'cell' if s.cells == 1 else 'cells'} — {s.rule}"
                for s in self.steps if s.cells]


def _filled(value: float | pd.Series, fallback: float = 0.0) -> float:
    """A learned fill value (a scalar, or the first mode), or ``fallback`` for all-missing input."""
    if isinstance(value, pd.Series):
        value = value.iloc[0] if len(value) else np.nan
    return fallback if pd.isna(value) else float(value)


class Cleaner:
    """Fill missing values and repair PURCHASES, following the seed project's rules.

    ``fit`` learns the fill values from a table; ``transform`` applies them, so new
    customers are cleaned with the values learned on the segmented population.

    Rules: CREDIT_LIMIT and the other money columns ← median; MINIMUM_PAYMENTS ← 0 where
    PAYMENTS == 0, else the median of MINIMUM_PAYMENTS over rows with PAYMENTS ≠ 0;
    frequencies, counts, TENURE and PRC_FULL_PAYMENT ← mode; then PURCHASES ←
    ONEOFF_PURCHASES + INSTALLMENTS_PURCHASES where they disagree.
    """

    def fit(self, frame: pd.DataFrame) -> Cleaner:
        """Learn fill values from ``frame`` (the 17 behavioural columns); returns self."""
        fills = {c: _filled(frame[c].median()) for c in MEDIAN_COLUMNS}
        fills |= {c: _filled(frame[c].mode(dropna=True)) for c in MODE_COLUMNS}
        paying = frame.loc[frame["PAYMENTS"].fillna(0) != 0, "MINIMUM_PAYMENTS"]
        fills["MINIMUM_PAYMENTS"] = _filled(paying.median())
        self.fill_values_ = fills
        return self

    def clean(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, CleaningReport]:
        """Return a cleaned copy of ``frame`` and the report of what changed."""
        out = frame.copy()
        steps = []
        for column in MEDIAN_COLUMNS + MODE_COLUMNS:
            missing = out[column].isna()
            kind = "median" if column in MEDIAN_COLUMNS else "most common value"
            value = self.fill_values_[column]
            out.loc[missing, column] = value
            shown = money(value) if column in MEDIAN_COLUMNS else f"{value:,.4g}"  # amounts
            rule = f"missing → {kind} ({shown})"
            steps.append(CleaningStep(column, rule, int(missing.sum())))
        missing = out["MINIMUM_PAYMENTS"].isna()
        no_payment = missing & (out["PAYMENTS"] == 0)
        out.loc[no_payment, "MINIMUM_PAYMENTS"] = 0.0
        out.loc[missing & ~no_payment, "MINIMUM_PAYMENTS"] = self.fill_values_["MINIMUM_PAYMENTS"]
        steps.append(CleaningStep("MINIMUM_PAYMENTS", "missing with no payments → 0",
                                  int(no_payment.sum())))
        fill = money(self.fill_values_["MINIMUM_PAYMENTS"])
        steps.append(CleaningStep("MINIMUM_PAYMENTS", f"missing → median of paying customers "
                                  f"({fill})", int((missing & ~no_payment).sum())))
        parts = out["ONEOFF_PURCHASES"] + out["INSTALLMENTS_PURCHASES"]
        mismatch = ~np.isclose(out["PURCHASES"], parts)
        out.loc[mismatch, "PURCHASES"] = parts[mismatch]
        steps.append(CleaningStep("PURCHASES", "set to one-off + installment purchases",
                                  int(mismatch.sum())))
        return out, CleaningReport(rows=len(out), steps=tuple(steps))

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return a cleaned copy of ``frame``."""
        return self.clean(frame)[0]
