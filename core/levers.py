"""Suggested campaign levers per segment, following the seed project's playbook.

Cash-focused segments get cash perks, plus fee relief and budgeting nudges when repayment risk
signals are raised; installment-led segments get merchant installment programmes; one-off-led
segments get cashback and flash offers; low-activity segments get reactivation offers. The other
archetypes of ``core.naming`` get the nearest fitting play, and any other segment with a
repayment risk signal gets budgeting nudges as its second lever.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.currency import money
from core.naming import (
    HIGH_RATIO,
    LOW_LIMIT_RATIO,
    REPAYMENT_RISKS,
    Archetype,
    archetype,
    median_ratio,
    months,
    pct,
    population_note,
    risk_details,
    score,
)

if TYPE_CHECKING:
    from core.profiling import SegmentProfile

APP_PUSH = "Mobile app push"
EMAIL = "Email"
EMAIL_SMS = "Email and SMS"
IN_APP = "In-app messages and email"
MAX_LEVERS = 3


@dataclass(frozen=True)
class Lever:
    """One campaign idea for a segment: what to achieve, what to offer, where, and why."""

    objective: str
    offer: str
    channel: str
    rationale: str


def suggest_levers(profile: SegmentProfile, population: SegmentProfile) -> tuple[Lever, ...]:
    """One to three campaign levers for a segment, the main recommendation first.

    Parameters
    ----------
    profile : SegmentProfile
        The segment (its statistics and risk flags).
    population : SegmentProfile
        All customers profiled as one segment, the reference for the archetype rules.

    Returns
    -------
    tuple of Lever
        The archetype's play, with fee relief or budgeting nudges second when repayment risk
        signals are raised.
    """
    kind = archetype(profile, population)
    levers = _PLAYS[kind](profile, population)
    if kind is not Archetype.NON_PAYING and set(profile.risk_flags) & set(REPAYMENT_RISKS):
        levers.insert(1, _risk_care(profile, cash=kind is Archetype.CASH))
    return tuple(levers[:MAX_LEVERS])


def _risk_care(profile: SegmentProfile, *, cash: bool) -> Lever:
    offer = ("Fee relief on cash advances for customers who join a budgeting plan, with monthly "
             "budgeting nudges" if cash else
             "Budgeting nudges and a fixed monthly repayment plan for the balance")
    return Lever("Lower repayment risk", offer, IN_APP, "; ".join(risk_details(profile)))


def _cash(profile: SegmentProfile, population: SegmentProfile) -> list[Lever]:
    levers = [Lever(
        "Keep cash users on the card",
        "Cash perk: no cash-advance fee for three months at partner ATMs",
        APP_PUSH,
        f"{pct(profile.means['CASH_ADVANCE_SHARE'])} of their spending is cash advances"
        f"{population_note(profile, population, 'CASH_ADVANCE_SHARE', pct)}, about "
        f"{profile.means['CASH_ADVANCE_TRX']:.0f} withdrawals in six months")]
    if profile.means["PURCHASES_FREQUENCY"] < population.means["PURCHASES_FREQUENCY"]:
        levers.append(Lever(
            "Move cash spending to card purchases",
            "Bonus cashback on card purchases in the next 60 days",
            APP_PUSH,
            _purchase_frequency(profile, population)))
    return levers


def _installment(profile: SegmentProfile, population: SegmentProfile) -> list[Lever]:
    return [Lever(
        "Grow installment volume",
        "0 % merchant installment plan at partner stores",
        APP_PUSH,
        f"{pct(profile.means['INSTALLMENT_SHARE'])} of their purchase amount is paid in "
        f"installments{population_note(profile, population, 'INSTALLMENT_SHARE', pct)}")]


def _one_off(profile: SegmentProfile, population: SegmentProfile) -> list[Lever]:
    return [
        Lever("Grow one-off purchase volume",
              "Cashback on one-off purchases above a spending threshold",
              EMAIL,
              f"{pct(profile.means['ONEOFF_SHARE'])} of their purchase amount is one-off"
              f"{population_note(profile, population, 'ONEOFF_SHARE', pct)}"),
        _flash_offers(profile, population),
    ]


def _flash_offers(profile: SegmentProfile, population: SegmentProfile) -> Lever:
    return Lever("Raise purchase frequency", "48-hour flash offers with partner merchants",
                 APP_PUSH, _purchase_frequency(profile, population))


def _purchase_frequency(profile: SegmentProfile, population: SegmentProfile) -> str:
    return (f"purchase frequency {score(profile.means['PURCHASES_FREQUENCY'])} of 1"
            + population_note(profile, population, "PURCHASES_FREQUENCY", score))


def _top_spenders(profile: SegmentProfile, population: SegmentProfile) -> Lever:
    return Lever("Retain and reward top spenders",
                 "Tiered cashback on all purchases with a premium-card upgrade",
                 EMAIL,
                 f"median spending {money(profile.medians['TOTAL_SPENDING'])} in six months, "
                 f"{median_ratio(profile, population, 'TOTAL_SPENDING'):.1f} times the typical "
                 "customer's")


def _all_rounder(profile: SegmentProfile, population: SegmentProfile) -> list[Lever]:
    high = median_ratio(profile, population, "TOTAL_SPENDING") >= HIGH_RATIO
    m = profile.means
    return [
        _top_spenders(profile, population) if high else _flash_offers(profile, population),
        Lever("Grow installment volume",
              "Split large one-off purchases into a 0 % merchant installment plan",
              APP_PUSH,
              f"{pct(m['ONEOFF_SHARE'])} of their purchase amount is one-off, and they already "
              f"buy in installments (frequency {score(m['PURCHASES_INSTALLMENTS_FREQUENCY'])} "
              "of 1)"),
    ]


def _full_payer(profile: SegmentProfile, population: SegmentProfile) -> list[Lever]:
    return [
        Lever("Grow card spend from low-risk customers",
              "Cashback on everyday purchases",
              EMAIL,
              f"full balance paid in {pct(profile.means['PRC_FULL_PAYMENT'])} of months"
              f"{population_note(profile, population, 'PRC_FULL_PAYMENT', pct)}"),
        _flash_offers(profile, population),
    ]


def _low_activity(profile: SegmentProfile, population: SegmentProfile) -> list[Lever]:
    return [Lever(
        "Reactivate the card",
        "Bonus cashback on purchases in the next 30 days",
        EMAIL_SMS,
        f"median spending {money(profile.medians['TOTAL_SPENDING'])} in six months"
        + population_note(profile, population, "TOTAL_SPENDING", money, median=True))]


def _non_paying(profile: SegmentProfile, population: SegmentProfile) -> list[Lever]:
    return [Lever(
        "Get repayments started",
        "Late-fee relief for customers who set up automatic payments, with payment reminders",
        EMAIL_SMS,
        "; ".join(risk_details(profile)))]


def _new(profile: SegmentProfile, population: SegmentProfile) -> list[Lever]:
    levers = [Lever(
        "Activate new card holders",
        "Welcome cashback on the first three purchases",
        APP_PUSH,
        f"{months(profile.means['TENURE'])} months of card service on average"
        + population_note(profile, population, "TENURE", months))]
    if median_ratio(profile, population, "CREDIT_LIMIT") <= LOW_LIMIT_RATIO:
        levers.append(Lever(
            "Grow with the customer",
            "Credit-limit review after six on-time payments",
            EMAIL,
            f"median credit limit {money(profile.medians['CREDIT_LIMIT'])}"
            + population_note(profile, population, "CREDIT_LIMIT", money, median=True)))
    return levers


def _everyday(profile: SegmentProfile, population: SegmentProfile) -> list[Lever]:
    levers = [_flash_offers(profile, population)]
    if median_ratio(profile, population, "TOTAL_SPENDING") >= HIGH_RATIO:
        levers.insert(0, _top_spenders(profile, population))
    return levers


_PLAYS: dict[Archetype, Callable[[SegmentProfile, SegmentProfile], list[Lever]]] = {
    Archetype.NON_PAYING: _non_paying,
    Archetype.NEW: _new,
    Archetype.LOW_ACTIVITY: _low_activity,
    Archetype.CASH: _cash,
    Archetype.FULL_PAYER: _full_payer,
    Archetype.ALL_ROUNDER: _all_rounder,
    Archetype.INSTALLMENT: _installment,
    Archetype.ONE_OFF: _one_off,
    Archetype.EVERYDAY: _everyday,
}
