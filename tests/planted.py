"""Small synthetic customer groups with planted behaviour, for profile/naming/lever tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.cleaning import Cleaner
from core.features import add_features
from core.schema import BEHAVIOUR_COLUMNS

# Typical six-month behaviour of planted archetypes; money is varied ±20 % around these.
ARCHETYPES: dict[str, dict[str, float]] = {
    "cash": dict(BALANCE=3000, BALANCE_FREQUENCY=1.0, ONEOFF_PURCHASES=20,
                 INSTALLMENTS_PURCHASES=0, CASH_ADVANCE=2000, PURCHASES_FREQUENCY=0.05,
                 ONEOFF_PURCHASES_FREQUENCY=0.05, PURCHASES_INSTALLMENTS_FREQUENCY=0.0,
                 CASH_ADVANCE_FREQUENCY=0.4, CASH_ADVANCE_TRX=8, PURCHASES_TRX=1,
                 CREDIT_LIMIT=4000, PAYMENTS=840, MINIMUM_PAYMENTS=800, PRC_FULL_PAYMENT=0.0,
                 TENURE=12),
    "installment": dict(BALANCE=500, BALANCE_FREQUENCY=1.0, ONEOFF_PURCHASES=50,
                        INSTALLMENTS_PURCHASES=1000, CASH_ADVANCE=0, PURCHASES_FREQUENCY=0.85,
                        ONEOFF_PURCHASES_FREQUENCY=0.05, PURCHASES_INSTALLMENTS_FREQUENCY=0.8,
                        CASH_ADVANCE_FREQUENCY=0.0, CASH_ADVANCE_TRX=0, PURCHASES_TRX=15,
                        CREDIT_LIMIT=3000, PAYMENTS=1000, MINIMUM_PAYMENTS=200,
                        PRC_FULL_PAYMENT=0.3, TENURE=12),
    "oneoff": dict(BALANCE=1000, BALANCE_FREQUENCY=1.0, ONEOFF_PURCHASES=1500,
                   INSTALLMENTS_PURCHASES=50, CASH_ADVANCE=0, PURCHASES_FREQUENCY=0.4,
                   ONEOFF_PURCHASES_FREQUENCY=0.35, PURCHASES_INSTALLMENTS_FREQUENCY=0.05,
                   CASH_ADVANCE_FREQUENCY=0.0, CASH_ADVANCE_TRX=0, PURCHASES_TRX=7,
                   CREDIT_LIMIT=3500, PAYMENTS=1200, MINIMUM_PAYMENTS=300, PRC_FULL_PAYMENT=0.1,
                   TENURE=12),
    "dormant": dict(BALANCE=20, BALANCE_FREQUENCY=0.2, ONEOFF_PURCHASES=30,
                    INSTALLMENTS_PURCHASES=0, CASH_ADVANCE=0, PURCHASES_FREQUENCY=0.08,
                    ONEOFF_PURCHASES_FREQUENCY=0.08, PURCHASES_INSTALLMENTS_FREQUENCY=0.0,
                    CASH_ADVANCE_FREQUENCY=0.0, CASH_ADVANCE_TRX=0, PURCHASES_TRX=1,
                    CREDIT_LIMIT=2500, PAYMENTS=100, MINIMUM_PAYMENTS=50, PRC_FULL_PAYMENT=0.1,
                    TENURE=12),
}
MONEY = ("BALANCE", "ONEOFF_PURCHASES", "INSTALLMENTS_PURCHASES", "CASH_ADVANCE", "CREDIT_LIMIT",
         "PAYMENTS", "MINIMUM_PAYMENTS")


def planted(groups: list[tuple[str, int] | tuple[str, int, dict[str, float]]],
            seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Cleaned customers with features, and labels 1.. in the order of ``groups``.

    Each group is ``(archetype, size)`` or ``(archetype, size, overrides)``.
    """
    rng = np.random.default_rng(seed)
    parts, labels = [], []
    for number, (kind, size, *rest) in enumerate(groups, start=1):
        values = ARCHETYPES[kind] | (rest[0] if rest else {})
        part = pd.DataFrame({c: np.full(size, float(values[c])) for c in values})
        for column in MONEY:
            part[column] *= rng.uniform(0.8, 1.2, size)
        part["PURCHASES"] = part["ONEOFF_PURCHASES"] + part["INSTALLMENTS_PURCHASES"]
        parts.append(part)
        labels.append(np.full(size, number))
    raw = pd.concat(parts, ignore_index=True)[list(BEHAVIOUR_COLUMNS)]
    raw.insert(0, "CUST_ID", [f"C{i:05d}" for i in range(len(raw))])
    return add_features(Cleaner().fit(raw).transform(raw)), np.concatenate(labels)


FOUR = [("cash", 60), ("installment", 50), ("oneoff", 40), ("dormant", 30)]
