"""Plain-language names and descriptions for segments, from rules on their profiles.

Each segment first gets an archetype — the first rule below that holds, comparing the segment
with all customers ("population"):

============  =================================================================================
archetype     rule (shares are segment means, money is compared by medians)
============  =================================================================================
non-paying    at least half the segment made no payment
new           average tenure at most 10 months and 2 months below the population's
low activity  median total spending at most 40 % of the population's, purchase frequency ≤ 0.4
cash          cash advances are at least half of spending (mean cash-advance share ≥ 0.5)
full payer    full balance paid in at least half of the months (mean full-payment share ≥ 0.5)
all-rounder   purchase frequency ≥ 0.7 with both one-off and installment frequency ≥ 0.3
installment   at least 60 % of the purchase amount in installments
one-off       at least 60 % of the purchase amount in one-off purchases
everyday      anything else
============  =================================================================================

The archetype picks the base name, refined by a second fact (e.g. "Cash-advance revolvers"
when the segment carries a high or minimum-paid balance, "Big one-off spenders" when spending is
at least 1.5 times the population's). Segments that would share a name get, each, the trait
that best tells them apart and is true against the population too ("Installment shoppers — high
balance" / "Installment shoppers — low limit"); failing that, a trait on which it is the extreme of
its namesakes ("Dormant accounts — highest balance"), then two traits, and last its rank by size
among them ("Dormant accounts — 2nd largest"), so names are always distinct and never numbers.

Risk flags are plain phrases: "high utilisation" (median balance at least half the limit),
"minimum payments only" (at least 40 % pay at most 10 % above the minimum), "heavy cash advance
use" (median six-month cash advances at least a quarter of the limit) and "no payments made" (at
least half paid nothing). A description is one paragraph of four sentences: who they are and what
dominates, spending and credit limit, how they pay, and their risk signals — each figure beside
the population's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from enum import StrEnum
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.currency import money

if TYPE_CHECKING:
    from core.profiling import SegmentProfile

NO_PAYMENT_SHARE = 0.5
NEW_TENURE = 10.0  # months
NEW_TENURE_GAP = 2.0  # months below the population's average tenure
LOW_SPENDING_RATIO = 0.4
LOW_PURCHASE_FREQUENCY = 0.4
DORMANT_SPENDING_RATIO = 0.2
DORMANT_BALANCE_FREQUENCY = 0.5
DOMINANT_SHARE = 0.5  # cash advances or full payments "dominate" from this share
MIX_SHARE = 0.6  # installment or one-off purchases "lead" from this share
FREQUENT = 0.7  # purchase frequency of an all-rounder
EACH_KIND = 0.3  # one-off and installment frequency of an all-rounder
CARD_PURCHASES = 0.5  # purchase frequency of cash users who also buy with the card
HIGH_RATIO = 1.5  # spending or credit limit "high" from this multiple of the population's
LOW_LIMIT_RATIO = 0.75
NO_PURCHASE_FREQUENCY = 0.1
TRAIT_MIN_Z = 0.2  # a trait is named only if the segment is this far from the population

HIGH_UTILISATION = "high utilisation"
MINIMUM_ONLY = "minimum payments only"
HEAVY_CASH = "heavy cash advance use"
NO_PAYMENTS = "no payments made"
REPAYMENT_RISKS = (HIGH_UTILISATION, MINIMUM_ONLY, NO_PAYMENTS)
UTILISATION_RISK = 0.5  # median balance at least half the credit limit
MINIMUM_ONLY_RISK = 0.4  # share of the segment paying only about the minimum
HEAVY_CASH_TO_LIMIT = 0.25  # median six-month cash advances at least a quarter of the limit


class Archetype(StrEnum):
    """The dominant behaviour of a segment; decides its base name and its campaign levers."""

    NON_PAYING = "non-paying"
    NEW = "new"
    LOW_ACTIVITY = "low activity"
    CASH = "cash"
    FULL_PAYER = "full payer"
    ALL_ROUNDER = "all-rounder"
    INSTALLMENT = "installment"
    ONE_OFF = "one-off"
    EVERYDAY = "everyday"


# column, phrase when the segment is below the population, phrase when above, and the phrases for
# the lowest and the highest of the segments that share a name
TRAITS: tuple[tuple[str, str, str, str, str], ...] = (
    ("BALANCE", "low balance", "high balance", "lowest balance", "highest balance"),
    ("CREDIT_LIMIT", "low limit", "high limit", "lowest limit", "highest limit"),
    ("TOTAL_SPENDING", "light spenders", "big spenders", "lightest spenders", "biggest spenders"),
    ("PURCHASES_FREQUENCY", "rare purchases", "frequent purchases", "fewest purchases",
     "most frequent purchases"),
    ("CASH_ADVANCE_SHARE", "little cash", "cash-heavy", "least cash", "most cash"),
    ("INSTALLMENT_SHARE", "few installments", "installment buyers", "fewest installments",
     "most installments"),
    ("ONEOFF_SHARE", "few one-off buys", "one-off buyers", "fewest one-off buys",
     "most one-off buys"),
    ("PRC_FULL_PAYMENT", "rarely pay in full", "often pay in full", "least often pay in full",
     "most often pay in full"),
    ("UTILISATION", "low utilisation", "high utilisation", "lowest utilisation",
     "highest utilisation"),
    ("TENURE", "newer accounts", "long-standing accounts", "newest accounts", "oldest accounts"),
)


def pct(value: float) -> str:
    """A share as a whole percentage, e.g. ``0.623`` → ``"62 %"``."""
    return f"{100 * value:.0f} %"


def customers(count: int) -> str:
    """``"1 customer"``, ``"1,234 customers"``."""
    return f"{count:,} customer" + ("" if count == 1 else "s")


def versus(profile: SegmentProfile, text: str) -> str:
    """`` (all customers: text)``, or nothing when the segment is all customers."""
    return "" if profile.share == 1.0 else f" (all customers: {text})"


def population_note(profile: SegmentProfile, population: SegmentProfile, column: str,
                    fmt: Callable[[float], str], *, median: bool = False) -> str:
    """The population's mean (or median) of ``column`` to set beside the segment's figure.

    E.g. ``" (all customers: 39 %)"``; nothing when the segment is all customers.
    """
    return versus(profile, fmt((population.medians if median else population.means)[column]))


def score(value: float) -> str:
    """A 0-1 frequency score, e.g. ``0.8123`` → ``"0.81"``."""
    return f"{value:.2f}"


def months(value: float) -> str:
    """A number of months, e.g. ``11.52`` → ``"11.5"``."""
    return f"{value:.1f}"


def median_ratio(profile: SegmentProfile, population: SegmentProfile, column: str) -> float:
    """Segment median over population median of ``column`` (means when that median is 0)."""
    value, base = profile.medians[column], population.medians[column]
    if base <= 0:
        value, base = profile.means[column], population.means[column]
    if base <= 0:
        return 1.0 if value <= 0 else float("inf")
    return float(value / base)


def archetype(profile: SegmentProfile, population: SegmentProfile) -> Archetype:
    """The first archetype whose rule (see the module docstring) the segment meets."""
    m, payment = profile.means, profile.style_mix["PAYMENT_BEHAVIOUR"]
    spending = median_ratio(profile, population, "TOTAL_SPENDING")
    rules = (
        (Archetype.NON_PAYING, payment["No payment"] >= NO_PAYMENT_SHARE),
        (Archetype.NEW, m["TENURE"] <= min(NEW_TENURE,
                                           population.means["TENURE"] - NEW_TENURE_GAP)),
        (Archetype.LOW_ACTIVITY, spending <= LOW_SPENDING_RATIO
         and m["PURCHASES_FREQUENCY"] <= LOW_PURCHASE_FREQUENCY),
        (Archetype.CASH, m["CASH_ADVANCE_SHARE"] >= DOMINANT_SHARE),
        (Archetype.FULL_PAYER, m["PRC_FULL_PAYMENT"] >= DOMINANT_SHARE),
        (Archetype.ALL_ROUNDER, m["PURCHASES_FREQUENCY"] >= FREQUENT
         and m["ONEOFF_PURCHASES_FREQUENCY"] >= EACH_KIND
         and m["PURCHASES_INSTALLMENTS_FREQUENCY"] >= EACH_KIND),
        (Archetype.INSTALLMENT, m["INSTALLMENT_SHARE"] >= MIX_SHARE),
        (Archetype.ONE_OFF, m["ONEOFF_SHARE"] >= MIX_SHARE),
    )
    return next((kind for kind, holds in rules if holds), Archetype.EVERYDAY)


def base_name(profile: SegmentProfile, population: SegmentProfile, kind: Archetype) -> str:
    """The short name of an archetype, refined by the segment's second most telling fact."""
    m = profile.means
    spending = median_ratio(profile, population, "TOTAL_SPENDING")
    limit = median_ratio(profile, population, "CREDIT_LIMIT")
    if kind is Archetype.CASH:
        who = "Cash-and-card" if m["PURCHASES_FREQUENCY"] >= CARD_PURCHASES else "Cash-advance"
        revolving = any(flag in profile.risk_flags for flag in REPAYMENT_RISKS)
        return f"{who} {'revolvers' if revolving else 'users'}"
    if kind is Archetype.ALL_ROUNDER:
        if max(spending, limit) < HIGH_RATIO:
            return "Frequent all-rounders"
        return "High-limit all-rounders" if limit > spending else "High-spending all-rounders"
    if kind is Archetype.ONE_OFF:
        return "Big one-off spenders" if spending >= HIGH_RATIO else "One-off shoppers"
    if kind is Archetype.LOW_ACTIVITY:
        return "Dormant accounts" if _dormant(profile, population) else "Low-activity accounts"
    if kind is Archetype.NEW:
        return "New low-limit accounts" if limit <= LOW_LIMIT_RATIO else "New accounts"
    if kind is Archetype.EVERYDAY:
        return "Heavy card users" if spending >= HIGH_RATIO else "Everyday card users"
    return {Archetype.NON_PAYING: "Non-paying accounts",
            Archetype.FULL_PAYER: "Full-paying transactors",
            Archetype.INSTALLMENT: "Installment shoppers"}[kind]


def _dormant(profile: SegmentProfile, population: SegmentProfile) -> bool:
    """A low-activity segment that barely spends or whose balance rarely moves."""
    return (median_ratio(profile, population, "TOTAL_SPENDING") <= DORMANT_SPENDING_RATIO
            or profile.means["BALANCE_FREQUENCY"] <= DORMANT_BALANCE_FREQUENCY)


def name_segments(profiles: Sequence[SegmentProfile],
                  population: SegmentProfile) -> list[tuple[str, str]]:
    """Name and describe every segment of one segmentation.

    Parameters
    ----------
    profiles : sequence of SegmentProfile
        The segments (their statistics and risk flags; names are ignored).
    population : SegmentProfile
        All customers profiled as one segment, the reference the rules compare with.

    Returns
    -------
    list of (str, str)
        ``(name, description)`` per segment, in the order of ``profiles``. Names are distinct.
    """
    kinds = [archetype(p, population) for p in profiles]
    if len(profiles) == 1 and profiles[0].share == 1.0:
        names = ["All customers"]
    else:
        names = _distinct([base_name(p, population, kind)
                           for p, kind in zip(profiles, kinds, strict=True)], profiles)
    return [(name, describe(p, population, kind))
            for name, p, kind in zip(names, profiles, kinds, strict=True)]


def _distinct(names: list[str], profiles: Sequence[SegmentProfile]) -> list[str]:
    """``names`` with every repeated name extended by what tells its holders apart.

    Each holder, in segment order, takes the first of its :func:`_suffixes` no other holder has
    taken; the last one, its rank by size, is never shared, so the names always end distinct.
    """
    members: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(names):
        members[name].append(i)
    out = list(names)
    for name, group in members.items():
        if len(group) == 1:
            continue
        z = np.array([[profiles[i].z_scores[trait[0]] for trait in TRAITS] for i in group])
        by_size = sorted(group, key=lambda i: (-profiles[i].size, profiles[i].segment))
        taken: set[frozenset[str]] = set()
        for row, i in enumerate(group):
            suffix = next(s for s in _suffixes(profiles[i], z, row, by_size.index(i) + 1)
                          if frozenset(s) not in taken)
            taken.add(frozenset(suffix))
            out[i] = f"{name} — {', '.join(suffix)}"
    return out


def _suffixes(profile: SegmentProfile, z: np.ndarray, row: int,
              rank: int) -> Iterator[tuple[str, ...]]:
    """What may set segment ``row`` of namesakes with trait z-scores ``z`` apart, best first.

    One trait true against its namesakes and the population, one on which it is the highest or
    lowest of its namesakes, two traits of the first kind, and last its rank by size.
    """
    apart = z - z.mean(axis=0)
    phrases = _trait_phrases(profile, z[row], apart[row])
    yield from ((phrase,) for phrase in phrases)
    for j in np.argsort(-np.abs(apart[row]), kind="stable"):
        others = np.delete(z[:, j], row)
        if z[row, j] < others.min():
            yield (TRAITS[j][3],)
        elif z[row, j] > others.max():
            yield (TRAITS[j][4],)
    yield from combinations(phrases, 2)
    yield ("largest" if rank == 1 else f"{_ordinal(rank)} largest",)


def _ordinal(number: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``22nd``."""
    last = 0 if 11 <= number % 100 <= 13 else number % 10
    return f"{number}" + {1: "st", 2: "nd", 3: "rd"}.get(last, "th")


def _trait_phrases(profile: SegmentProfile, z: np.ndarray, apart: np.ndarray) -> list[str]:
    """Trait phrases true for the segment against both its namesakes and the population.

    "no purchases" comes first when it applies; the others are ordered by how far the segment is
    from its namesakes' average on the trait.
    """
    phrases = []
    for j in np.argsort(-np.abs(apart), kind="stable"):
        column, low, high, _, _ = TRAITS[j]
        if abs(z[j]) < TRAIT_MIN_Z or np.sign(z[j]) != np.sign(apart[j]):
            continue
        if column == "PURCHASES_FREQUENCY" and profile.means[column] < NO_PURCHASE_FREQUENCY:
            phrases.insert(0, "no purchases")
        else:
            phrases.append(high if z[j] > 0 else low)
    return phrases


def describe(profile: SegmentProfile, population: SegmentProfile, kind: Archetype) -> str:
    """One paragraph on the segment in business language, with numbers from its profile.

    Figures are set beside the population's, except when the segment is the whole population.
    """
    med = profile.medians
    payment, population_payment = (profile.style_mix["PAYMENT_BEHAVIOUR"],
                                   population.style_mix["PAYMENT_BEHAVIOUR"])
    who = (f"All {customers(profile.size)}" if profile.share == 1.0 else
           f"{customers(profile.size)} ({pct(profile.share)} of the base)")
    limit = (f"a median credit limit of {money(med['CREDIT_LIMIT'])}"
             + population_note(profile, population, "CREDIT_LIMIT", money, median=True))
    spending = (f"Over the six months they spend a median {money(med['TOTAL_SPENDING'])}"
                + population_note(profile, population, "TOTAL_SPENDING", money, median=True))
    return " ".join([
        f"{who} {_lead(profile, population, kind)}.",
        f"They have {limit}." if kind is Archetype.LOW_ACTIVITY else f"{spending}, on {limit}.",
        f"{pct(payment['Full payer'])} usually pay their balance in full and "
        f"{pct(payment['Minimum-only'])} pay little more than the minimum"
        + versus(profile, f"{pct(population_payment['Full payer'])} and "
                          f"{pct(population_payment['Minimum-only'])}") + ".",
        _risk_sentence(profile),
    ])


def _lead(profile: SegmentProfile, population: SegmentProfile, kind: Archetype) -> str:
    """What dominates the segment's behaviour, with the population's figure beside it."""
    m = profile.means

    def note(column: str, fmt: Callable[[float], str], *, median: bool = False) -> str:
        return population_note(profile, population, column, fmt, median=median)

    purchases = f"{m['PURCHASES_TRX']:.0f} purchases in six months"
    if kind is Archetype.NON_PAYING:
        share = profile.style_mix["PAYMENT_BEHAVIOUR"]["No payment"]
        return (f"whose card is not being paid back: {pct(share)} of them made no payment in "
                f"the six months, on a median balance of {money(profile.medians['BALANCE'])}")
    if kind is Archetype.NEW:
        return (f"with young accounts: {months(m['TENURE'])} months of card service on "
                f"average{note('TENURE', months)}")
    if kind is Archetype.LOW_ACTIVITY:
        rarely = (f", and their balance rarely moves, with an update frequency of "
                  f"{score(m['BALANCE_FREQUENCY'])} of 1{note('BALANCE_FREQUENCY', score)}"
                  if _dormant(profile, population) else "")
        return (f"who hardly use the card: they spend a median "
                f"{money(profile.medians['TOTAL_SPENDING'])} over the six months"
                f"{note('TOTAL_SPENDING', money, median=True)}, with a purchase frequency of "
                f"{score(m['PURCHASES_FREQUENCY'])} of 1{note('PURCHASES_FREQUENCY', score)}"
                f"{rarely}")
    if kind is Archetype.CASH:
        use = ("use the card heavily for both cash and purchases"
               if m["PURCHASES_FREQUENCY"] >= CARD_PURCHASES else "use the card mainly for cash")
        return (f"who {use}: {pct(m['CASH_ADVANCE_SHARE'])} of their spending is cash advances"
                f"{note('CASH_ADVANCE_SHARE', pct)}, taken in about "
                f"{m['CASH_ADVANCE_TRX']:.0f} transactions over six months")
    if kind is Archetype.FULL_PAYER:
        return (f"who pay their card off: the full balance is paid in "
                f"{pct(m['PRC_FULL_PAYMENT'])} of months on average"
                f"{note('PRC_FULL_PAYMENT', pct)}")
    if kind is Archetype.ALL_ROUNDER:
        return (f"who use the card often and for everything: a purchase frequency of "
                f"{score(m['PURCHASES_FREQUENCY'])} of 1{note('PURCHASES_FREQUENCY', score)} "
                f"and {purchases}, {pct(m['ONEOFF_SHARE'])} one-off and "
                f"{pct(m['INSTALLMENT_SHARE'])} in installments by amount")
    if kind is Archetype.INSTALLMENT:
        return (f"who buy mainly in installments, over {purchases}: "
                f"{pct(m['INSTALLMENT_SHARE'])} of their purchase amount is paid in "
                f"installments{note('INSTALLMENT_SHARE', pct)}")
    if kind is Archetype.ONE_OFF:
        return (f"who buy mainly in single payments, over {purchases}: "
                f"{pct(m['ONEOFF_SHARE'])} of their purchase amount is one-off"
                f"{note('ONEOFF_SHARE', pct)}")
    return (f"with no single dominant use of the card: {pct(m['ONEOFF_SHARE'])} of their "
            f"purchase amount is one-off, {pct(m['INSTALLMENT_SHARE'])} in installments, and "
            f"{pct(m['CASH_ADVANCE_SHARE'])} of their spending is cash advances")


def risk_flags(medians: pd.Series, style_mix: dict[str, dict[str, float]]) -> tuple[str, ...]:
    """Plain-language risk signals of a group of customers, from its medians and style mix."""
    payment = style_mix["PAYMENT_BEHAVIOUR"]
    checks = (
        (HIGH_UTILISATION, medians["UTILISATION"] >= UTILISATION_RISK),
        (MINIMUM_ONLY, payment["Minimum-only"] >= MINIMUM_ONLY_RISK),
        (HEAVY_CASH, medians["CASH_ADVANCE_TO_LIMIT"] >= HEAVY_CASH_TO_LIMIT),
        (NO_PAYMENTS, payment["No payment"] >= NO_PAYMENT_SHARE),
    )
    return tuple(flag for flag, raised in checks if raised)


def risk_details(profile: SegmentProfile) -> list[str]:
    """Each of the segment's risk flags with the figure behind it."""
    med, payment = profile.medians, profile.style_mix["PAYMENT_BEHAVIOUR"]
    details = {
        HIGH_UTILISATION: f"median balance {pct(med['UTILISATION'])} of the limit",
        MINIMUM_ONLY: f"{pct(payment['Minimum-only'])} of them",
        HEAVY_CASH: f"median cash advances {pct(med['CASH_ADVANCE_TO_LIMIT'])} of the limit",
        NO_PAYMENTS: f"{pct(payment['No payment'])} of them",
    }
    return [f"{flag} ({details[flag]})" for flag in profile.risk_flags]


def _risk_sentence(profile: SegmentProfile) -> str:
    """The segment's risk signals with the figure behind each, or that there are none."""
    if not profile.risk_flags:
        return "No risk signal stands out."
    return "Risk signals: " + "; ".join(risk_details(profile)) + "."
