"""Synthetic demo customers generated from behaviour archetypes.

The built-in demo data set is the project's own synthetic data: no row describes a
real customer. Each customer is drawn from one behaviour archetype (revolvers with
cash advances, installment shoppers, one-off big spenders, ...) and the 17 CC GENERAL
columns are derived from a few latent quantities per customer (tenure, affluence, how
often they buy, take cash, carry a balance and pay in full), so that the columns stay
consistent with each other. Every numeric constant below was calibrated against the
summary statistics (quantiles, shares of zeros, Spearman correlations) of the public
CC GENERAL data set, never against its rows. The archetype is not part of the output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import ConfigError
from core.resources import shipped_folder
from core.schema import BEHAVIOUR_COLUMNS, ID_COLUMN

DEMO_PATH: Path = shipped_folder("core", "data") / "demo_customers.csv"
DEMO_ROWS = 9000
DEMO_SEED = 20_251_127

__all__ = ["ARCHETYPES", "DEMO_PATH", "DEMO_ROWS", "DEMO_SEED", "Archetype", "generate_demo_data"]

Beta = tuple[float, float]


@dataclass(frozen=True)
class Archetype:
    """One behaviour pattern of card holders, with the parameters that generate it.

    Amounts are medians of log-normal draws; ``Beta`` pairs are the ``(a, b)``
    parameters of a per-customer propensity (the chance of doing something in a month).

    Parameters
    ----------
    name, description : str
        Short identifier and one plain-language sentence.
    share : float
        Expected share of customers with this behaviour.
    credit_limit : float
        Median credit limit.
    utilisation : Beta
        Balance carried as a share of the credit limit (before full payments).
    balance_months : Beta
        Propensity of the balance to change in a month.
    purchase_prob : float
        Probability that the customer buys anything at all.
    purchase_months : Beta
        Propensity to buy in a month.
    oneoff_prob, installment_prob : float
        Probability that a buyer uses one-off / installment purchases.
    oneoff_month, installment_month : float
        Median one-off / installment amount per month with such purchases.
    purchase_tickets : float
        Median number of purchase transactions per month with purchases.
    cash_prob : float
        Probability that the customer takes cash advances at all.
    cash_months : Beta
        Propensity to take a cash advance in a month.
    cash_ticket : float
        Median amount per cash-advance transaction.
    full_payer_prob : float
        Probability that the customer ever pays the full balance.
    full_payment_months : Beta
        Propensity of a full payer to pay in full in a month.
    short_tenure : float
        Probability that the account is younger than 12 months.
    no_payment : float
        Probability that the customer paid nothing in the period.
    """

    name: str
    share: float
    description: str
    credit_limit: float
    utilisation: Beta
    balance_months: Beta
    purchase_prob: float
    purchase_months: Beta
    oneoff_prob: float
    installment_prob: float
    oneoff_month: float
    installment_month: float
    purchase_tickets: float
    cash_prob: float
    cash_months: Beta
    cash_ticket: float
    full_payer_prob: float
    full_payment_months: Beta
    short_tenure: float = 0.07
    no_payment: float = 0.02


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype(
        "cash_revolver", 0.22,
        "Revolves a high balance on frequent cash advances; rarely buys or pays in full.",
        credit_limit=3500, utilisation=(5, 2), balance_months=(5, 0.3),
        purchase_prob=0.25, purchase_months=(0.6, 3), oneoff_prob=0.6, installment_prob=0.5,
        oneoff_month=200, installment_month=60, purchase_tickets=1.5,
        cash_prob=1.0, cash_months=(1.2, 3), cash_ticket=350,
        full_payer_prob=0.15, full_payment_months=(0.8, 6), no_payment=0.03,
    ),
    Archetype(
        "heavy_user", 0.07,
        "High limit, buys often in both ways, also takes cash advances and revolves a big balance.",
        credit_limit=8000, utilisation=(3, 3), balance_months=(6, 0.3),
        purchase_prob=1.0, purchase_months=(4, 1), oneoff_prob=0.9, installment_prob=0.6,
        oneoff_month=320, installment_month=150, purchase_tickets=3,
        cash_prob=1.0, cash_months=(1.5, 3), cash_ticket=420,
        full_payer_prob=0.2, full_payment_months=(1, 4), no_payment=0.005,
    ),
    Archetype(
        "installment_shopper", 0.20,
        "Buys almost every month in installments on a low limit; seldom takes cash.",
        credit_limit=1800, utilisation=(2, 3), balance_months=(4, 0.3),
        purchase_prob=1.0, purchase_months=(3, 0.6), oneoff_prob=0.5, installment_prob=1.0,
        oneoff_month=100, installment_month=60, purchase_tickets=1.4,
        cash_prob=0.12, cash_months=(1, 6), cash_ticket=280,
        full_payer_prob=0.45, full_payment_months=(1, 2),
    ),
    Archetype(
        "oneoff_big_spender", 0.12,
        "High limit, large one-off purchases, revolves a sizeable balance.",
        credit_limit=8000, utilisation=(3, 2.5), balance_months=(4, 0.3),
        purchase_prob=1.0, purchase_months=(1.5, 1.5), oneoff_prob=1.0, installment_prob=0.6,
        oneoff_month=390, installment_month=100, purchase_tickets=2,
        cash_prob=0.2, cash_months=(1, 6), cash_ticket=560,
        full_payer_prob=0.3, full_payment_months=(1, 2),
    ),
    Archetype(
        "full_payer", 0.15,
        "Transactor: buys often, pays the full balance most months, carries almost nothing.",
        credit_limit=4500, utilisation=(0.8, 4), balance_months=(1.5, 0.8),
        purchase_prob=1.0, purchase_months=(2.5, 0.8), oneoff_prob=0.5, installment_prob=0.8,
        oneoff_month=160, installment_month=70, purchase_tickets=2,
        cash_prob=0.05, cash_months=(1, 8), cash_ticket=280,
        full_payer_prob=0.95, full_payment_months=(2, 0.35), no_payment=0.005,
    ),
    Archetype(
        "dormant", 0.15,
        "Low activity: a few small purchases or one small cash advance, balance rarely moves.",
        credit_limit=1500, utilisation=(0.5, 6), balance_months=(1.2, 0.8),
        purchase_prob=0.7, purchase_months=(0.5, 5), oneoff_prob=0.5, installment_prob=0.5,
        oneoff_month=100, installment_month=40, purchase_tickets=1.1,
        cash_prob=0.35, cash_months=(0.5, 8), cash_ticket=210,
        full_payer_prob=0.3, full_payment_months=(1, 2), no_payment=0.06,
    ),
    Archetype(
        "new_account", 0.09,
        "Opened 6-11 months ago: lower limit, mixed and still settling behaviour.",
        credit_limit=1500, utilisation=(2, 2), balance_months=(1.2, 1),
        purchase_prob=0.6, purchase_months=(1, 1.5), oneoff_prob=0.5, installment_prob=0.6,
        oneoff_month=200, installment_month=70, purchase_tickets=1.8,
        cash_prob=0.6, cash_months=(1.2, 3), cash_ticket=350,
        full_payer_prob=0.2, full_payment_months=(1, 2), short_tenure=1.0, no_payment=0.04,
    ),
)

# Calibration constants shared by all archetypes (from CC GENERAL summary statistics).
SHORT_TENURE_WEIGHTS = (0.0228, 0.0212, 0.0219, 0.0196, 0.0264, 0.0408)  # tenure 6, 7, ..., 11
# Log-scale loadings of two latent traits: affluence (limit, spend, balance), appetite (spend).
AFFLUENCE_LIMIT, AFFLUENCE_SPEND, AFFLUENCE_BALANCE = 0.4, 0.4, 0.2
APPETITE_SPEND, APPETITE_TICKETS = 0.5, 0.5
# Log-scale spread of the individual draws.
LIMIT_NOISE, AMOUNT_NOISE, TICKET_NOISE, CASH_NOISE = 0.35, 0.6, 0.6, 0.5
BALANCE_NOISE, PAYMENT_NOISE, MINIMUM_NOISE, FLOOR_NOISE = 0.4, 0.45, 0.6, 0.9
LIMIT_STEPS = ((500, 0.82), (100, 0.16), (50, 0.02))  # (rounding step, share of customers)
MAX_LIMIT = 30_000.0
ONEOFF_MONTHS, INSTALLMENT_MONTHS = (1.2, 2.0), (4.0, 1.0)  # Beta of their share of buying months
CASH_EXTRA_TRX = 0.8  # median extra cash-advance transactions per month with cash advances
CASH_IN_BALANCE = 0.3  # share of the cash advances still in the balance
OVER_LIMIT = 0.97, 0.06  # median and spread of the cap on balance / credit limit
FULL_PAYER_BALANCE = 0.05  # balance of one who always pays in full, relative to one who never does
# PAYMENTS ~ PAYMENT_SCALE * ((base + full-payment share) * purchases + weights . (cash, balance,
# limit)), scaled down for accounts younger than 12 months.
PAYMENT_SCALE, PAYMENT_BASE, PAYMENT_WEIGHTS = 1.25, 0.4, (0.4, 0.1, 0.03)
MINIMUM_RATE, MINIMUM_FLOOR = 0.27, 80.0  # minimum payments ~ rate * balance + floor
# Quirks of the real file.
NO_BALANCE = 0.009  # balance never updated (frequency 0, balance 0)
CASH_OVERCOUNT = 0.002  # CASH_ADVANCE_FREQUENCY above 1
PURCHASE_MISMATCH = 0.002  # PURCHASES below ONEOFF + INSTALLMENTS (returned goods)
EXTRA_MISSING_MINIMUM = 0.007  # missing MINIMUM_PAYMENTS besides the rows that paid nothing
ROWS_PER_MISSING_LIMIT = 9000  # one missing CREDIT_LIMIT per this many rows, from 1,000 rows


def generate_demo_data(rows: int = DEMO_ROWS, *, seed: int = DEMO_SEED) -> pd.DataFrame:
    """Generate synthetic credit-card customers in the CC GENERAL schema.

    Parameters
    ----------
    rows : int, default DEMO_ROWS
        Number of customers.
    seed : int, default DEMO_SEED
        Seed of the random generator; the same seed gives the same frame.

    Returns
    -------
    pandas.DataFrame
        ``CUST_ID`` (``"D000001"``, ...) and the 17 behaviour columns in schema order.
        Money and frequency columns are floats rounded to 6 decimals (purchase amounts
        to cents), counts and ``TENURE`` are integers. Like the real file it has some
        missing ``MINIMUM_PAYMENTS`` (mostly where ``PAYMENTS`` is 0), one missing
        ``CREDIT_LIMIT`` per 9,000 rows (none below 1,000), a few ``CASH_ADVANCE_FREQUENCY``
        above 1 and a few ``PURCHASES`` below ``ONEOFF_PURCHASES + INSTALLMENTS_PURCHASES``.

    Raises
    ------
    ConfigError
        If ``rows`` is not a positive integer or ``seed`` is not an integer.

    Examples
    --------
    >>> generate_demo_data(3, seed=1)["CUST_ID"].tolist()
    ['D000001', 'D000002', 'D000003']
    """
    if isinstance(rows, bool) or not isinstance(rows, int | np.integer) or rows < 1:
        raise ConfigError(f"rows must be a positive integer, got {rows!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ConfigError(f"seed must be an integer, got {seed!r}")
    d = _Draws(np.random.default_rng(seed), int(rows))
    weights = np.asarray(SHORT_TENURE_WEIGHTS) / sum(SHORT_TENURE_WEIGHTS)
    short_tenure = d.rng.choice(np.arange(6, 12), size=d.n, p=weights)
    tenure = np.where(d.chance(d.param("short_tenure")), short_tenure, 12)
    affluence, appetite = d.rng.standard_normal(d.n), d.rng.standard_normal(d.n)
    spend_scale = np.exp(AFFLUENCE_SPEND * affluence + APPETITE_SPEND * appetite)
    buyer, casher = d.flags(d.param("purchase_prob"), d.param("cash_prob"))

    columns = _purchases(d, tenure, buyer, spend_scale, appetite)
    columns |= _cash_advances(d, tenure, casher, spend_scale)
    columns |= _account(d, tenure, affluence, columns)
    columns["TENURE"] = tenure

    width = max(6, len(str(d.n)))
    ids = "D" + pd.Series(np.arange(1, d.n + 1)).astype(str).str.zfill(width)
    data = {ID_COLUMN: ids}
    for name in BEHAVIOUR_COLUMNS:
        values = columns[name]
        data[name] = np.round(values, 6) if values.dtype.kind == "f" else values.astype(np.int64)
    return pd.DataFrame(data)


class _Draws:
    """The random generator, the row count and each row's archetype, with vectorised draws."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.rng, self.n = rng, n
        self._kind = rng.choice(len(ARCHETYPES), size=n, p=[a.share for a in ARCHETYPES])

    def param(self, name: str) -> np.ndarray:
        """Each row's value of the archetype parameter ``name``."""
        return np.array([getattr(a, name) for a in ARCHETYPES], dtype=np.float64)[self._kind]

    def beta(self, name: str) -> np.ndarray:
        """One propensity per row from the archetype's ``Beta(a, b)`` parameter ``name``."""
        ab = self.param(name)
        return self.rng.beta(ab[:, 0], ab[:, 1])

    def chance(self, probability: np.ndarray | float) -> np.ndarray:
        """One Bernoulli flag per row."""
        return self.rng.random(self.n) < probability

    def lognormal(self, median: np.ndarray | float, sigma: float) -> np.ndarray:
        """One log-normal draw per row with the given median(s) and log-scale spread."""
        return self.rng.lognormal(np.log(median), sigma, size=self.n)

    def months(self, months: np.ndarray, propensity: np.ndarray) -> np.ndarray:
        """Active months among ``months``: binomial, but at least 1 where ``months`` > 0."""
        return np.minimum(np.maximum(self.rng.binomial(months, propensity), 1), months)

    def flags(self, p_a: np.ndarray, p_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Two independent flags; a row with neither gets one, chosen by the odds."""
        a, b = self.chance(p_a), self.chance(p_b)
        neither, pick_a = ~(a | b), self.chance(p_a / (p_a + p_b))
        return a | (neither & pick_a), b | (neither & ~pick_a)


def _purchases(d: _Draws, tenure: np.ndarray, buyer: np.ndarray, spend_scale: np.ndarray,
               appetite: np.ndarray) -> dict[str, np.ndarray]:
    """Purchase amounts (to cents), frequencies and transactions."""
    months = np.where(buyer, d.months(tenure, d.beta("purchase_months")), 0)
    oneoff_user, installment_user = d.flags(d.param("oneoff_prob"), d.param("installment_prob"))
    both = oneoff_user & installment_user
    oneoff_months = oneoff_user * np.where(
        both, d.months(months, d.rng.beta(*ONEOFF_MONTHS, d.n)), months)
    installment_months = installment_user * np.where(
        both, d.months(months, d.rng.beta(*INSTALLMENT_MONTHS, d.n)), months)
    oneoff = np.round(oneoff_months * d.lognormal(
        d.param("oneoff_month") * spend_scale, AMOUNT_NOISE), 2)
    installments = np.round(installment_months * d.lognormal(
        d.param("installment_month") * spend_scale, AMOUNT_NOISE), 2)
    tickets = d.lognormal(d.param("purchase_tickets") * np.exp(APPETITE_TICKETS * appetite),
                          TICKET_NOISE)
    total = oneoff + installments
    returned = d.chance(PURCHASE_MISMATCH) * np.round(total * d.rng.uniform(0.05, 0.4, d.n))
    return {
        "PURCHASES": np.round(total - returned, 2),
        "ONEOFF_PURCHASES": oneoff,
        "INSTALLMENTS_PURCHASES": installments,
        "PURCHASES_FREQUENCY": months / tenure,
        "ONEOFF_PURCHASES_FREQUENCY": oneoff_months / tenure,
        "PURCHASES_INSTALLMENTS_FREQUENCY": installment_months / tenure,
        "PURCHASES_TRX": months + d.rng.poisson(months * np.maximum(tickets - 1, 0)),
    }


def _cash_advances(d: _Draws, tenure: np.ndarray, casher: np.ndarray,
                   spend_scale: np.ndarray) -> dict[str, np.ndarray]:
    """Cash-advance amount, frequency (occasionally above 1) and transactions."""
    months = np.where(casher, d.months(tenure, d.beta("cash_months")), 0)
    overcount = tenure + d.rng.integers(1, tenure // 2, endpoint=True)
    months = np.where(casher & d.chance(CASH_OVERCOUNT), overcount, months)
    trx = months + d.rng.poisson(months * d.lognormal(CASH_EXTRA_TRX, 1.0))
    ticket = d.lognormal(d.param("cash_ticket") * spend_scale, CASH_NOISE)
    return {
        "CASH_ADVANCE": ticket * np.sqrt(trx * months),
        "CASH_ADVANCE_FREQUENCY": months / tenure,
        "CASH_ADVANCE_TRX": trx,
    }


def _account(d: _Draws, tenure: np.ndarray, affluence: np.ndarray,
             spending: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Credit limit, balance, payments, minimum payments and full-payment share."""
    limit = _credit_limit(d, d.param("credit_limit") * np.exp(AFFLUENCE_LIMIT * affluence))
    active = np.maximum(spending["PURCHASES_FREQUENCY"], spending["CASH_ADVANCE_FREQUENCY"])
    active_months = np.round(np.minimum(active, 1) * tenure)
    balance_months = np.maximum(d.rng.binomial(tenure, d.beta("balance_months")), active_months)
    balance_frequency = np.where(d.chance(NO_BALANCE), 0, balance_months / tenure)

    paid_nothing = d.chance(d.param("no_payment"))
    full_payer = ~paid_nothing & d.chance(d.param("full_payer_prob"))
    full_share = full_payer * d.months(tenure, d.beta("full_payment_months")) / tenure
    utilisation = d.beta("utilisation") * (1 - (1 - FULL_PAYER_BALANCE) * full_share)
    revolving = (d.param("credit_limit") * np.exp(AFFLUENCE_BALANCE * affluence) * utilisation
                 * d.lognormal(1.0, BALANCE_NOISE))
    cash = spending["CASH_ADVANCE"]
    cap = limit * d.lognormal(*OVER_LIMIT)
    balance = np.minimum(revolving + CASH_IN_BALANCE * cash, cap) * balance_frequency

    w_cash, w_balance, w_limit = PAYMENT_WEIGHTS
    owed = ((PAYMENT_BASE + full_share) * spending["PURCHASES"]
            + w_cash * cash + w_balance * balance + w_limit * limit) * (tenure / 12) ** 1.5
    payments = np.where(paid_nothing, 0.0, owed * d.lognormal(PAYMENT_SCALE, PAYMENT_NOISE))
    minimum = (MINIMUM_RATE * balance * d.lognormal(1.0, MINIMUM_NOISE)
               + d.lognormal(MINIMUM_FLOOR, FLOOR_NOISE) * tenure / 12)
    no_minimum = (payments == 0) | ((full_share == 0) & d.chance(EXTRA_MISSING_MINIMUM))
    missing_limits = max(1, d.n // ROWS_PER_MISSING_LIMIT) if d.n >= 1000 else 0
    limit[d.rng.choice(d.n, size=missing_limits, replace=False)] = np.nan
    return {
        "BALANCE": balance,
        "BALANCE_FREQUENCY": balance_frequency,
        "CREDIT_LIMIT": limit,
        "PAYMENTS": payments,
        "MINIMUM_PAYMENTS": np.where(no_minimum, np.nan, minimum),
        "PRC_FULL_PAYMENT": full_share,
    }


def _credit_limit(d: _Draws, median: np.ndarray) -> np.ndarray:
    """Credit limits around ``median``, rounded to the bank-like steps of LIMIT_STEPS."""
    raw = d.lognormal(median, LIMIT_NOISE)
    steps, shares = zip(*LIMIT_STEPS, strict=True)
    step = d.rng.choice(np.asarray(steps, dtype=np.float64), size=d.n, p=shares)
    return np.clip(np.round(raw / step) * step, step, MAX_LIMIT)
