"""The CC GENERAL schema: one id column and 17 behavioural columns, defined once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.currency import money_unit

Kind = Literal["money", "frequency", "count", "months"]

UNITS: dict[str, str] = {
    "frequency": "score 0-1",
    "count": "transactions, six months",
    "months": "months",
    "share": "share 0-1",
    "ratio": "ratio",
}


def unit_of(kind: str, *, over_period: bool = True) -> str:
    """Plain-language unit of a kind of value; money in ``C2C_CURRENCY`` (core.currency).

    ``over_period`` money is summed over the six months; otherwise it is held at the end.
    """
    if kind == "money":
        return f"{money_unit()}, six months" if over_period else money_unit()
    if kind == "monthly money":
        return f"{money_unit()} per month"
    return UNITS[kind]


@dataclass(frozen=True)
class Column:
    """One behavioural column of the customer table."""

    name: str
    label: str
    description: str
    kind: Kind
    over_period: bool = True  # False: an amount at the end of the period (balance, limit)

    @property
    def unit(self) -> str:
        """Plain-language unit, derived from the kind (see :func:`unit_of`)."""
        return unit_of(self.kind, over_period=self.over_period)


ID_COLUMN = "CUST_ID"
ID_LABEL = "Customer id"

COLUMNS: tuple[Column, ...] = (
    Column("BALANCE", "Balance", "Balance left on the account", "money", over_period=False),
    Column("BALANCE_FREQUENCY", "Balance update frequency",
           "How often the balance is updated", "frequency"),
    Column("PURCHASES", "Purchases", "Amount of purchases", "money"),
    Column("ONEOFF_PURCHASES", "One-off purchases",
           "Amount of purchases paid in a single payment", "money"),
    Column("INSTALLMENTS_PURCHASES", "Installment purchases",
           "Amount of purchases paid in installments", "money"),
    Column("CASH_ADVANCE", "Cash advance", "Cash advances taken", "money"),
    Column("PURCHASES_FREQUENCY", "Purchase frequency",
           "How often purchases are made", "frequency"),
    Column("ONEOFF_PURCHASES_FREQUENCY", "One-off purchase frequency",
           "How often one-off purchases are made", "frequency"),
    Column("PURCHASES_INSTALLMENTS_FREQUENCY", "Installment purchase frequency",
           "How often installment purchases are made", "frequency"),
    Column("CASH_ADVANCE_FREQUENCY", "Cash-advance frequency",
           "How often cash advances are taken", "frequency"),
    Column("CASH_ADVANCE_TRX", "Cash-advance transactions",
           "Number of cash-advance transactions", "count"),
    Column("PURCHASES_TRX", "Purchase transactions", "Number of purchase transactions", "count"),
    Column("CREDIT_LIMIT", "Credit limit", "Credit limit of the card", "money",
           over_period=False),
    Column("PAYMENTS", "Payments", "Amount paid by the card holder", "money"),
    Column("MINIMUM_PAYMENTS", "Minimum payments", "Minimum payments due or made", "money"),
    Column("PRC_FULL_PAYMENT", "Full-payment share",
           "Share of months in which the full balance was paid", "frequency"),
    Column("TENURE", "Tenure", "Months of card service (6-12)", "months"),
)

COLUMN_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
BEHAVIOUR_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS)
MONEY_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "money")
FREQUENCY_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "frequency")
COUNT_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "count")
