"""Campaign levers: the seed playbook per archetype, risk care, and the shape of a lever."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from core.levers import Lever, suggest_levers
from core.naming import pct
from core.profiling import SegmentProfile, profile_segments
from tests.planted import FOUR, planted


@pytest.fixture(scope="module")
def four() -> tuple[SegmentProfile, ...]:
    return profile_segments(*planted(FOUR))


def offers(profile: SegmentProfile) -> str:
    return " | ".join(f"{lever.objective}: {lever.offer}" for lever in profile.levers).lower()


def test_every_segment_gets_one_to_three_complete_levers(four):
    for profile in four:
        assert 1 <= len(profile.levers) <= 3
        for lever in profile.levers:
            assert isinstance(lever, Lever)
            assert all(getattr(lever, f.name).strip() for f in dataclasses.fields(Lever))


def test_lever_is_frozen():
    lever = Lever("Grow installment volume", "0 % plan", "Mobile app push", "62 % installments")
    with pytest.raises(dataclasses.FrozenInstanceError):
        lever.offer = "other"  # type: ignore[misc]


def test_cash_revolvers_get_a_cash_perk_first_then_fee_relief(four):
    cash = four[0]
    assert "cash perk" in cash.levers[0].offer.lower()
    assert pct(cash.means["CASH_ADVANCE_SHARE"]) in cash.levers[0].rationale
    relief = cash.levers[1]
    assert "fee relief" in relief.offer.lower() and "budgeting" in relief.offer.lower()
    assert "high utilisation" in relief.rationale


def test_cash_users_without_repayment_risk_get_no_fee_relief():
    frame, labels = planted([("cash", 40, {"BALANCE": 300, "PAYMENTS": 3000,
                                           "PRC_FULL_PAYMENT": 0.9}), *FOUR[1:]])
    cash = profile_segments(frame, labels)[0]
    assert cash.name == "Cash-advance users"
    assert "cash perk" in cash.levers[0].offer.lower()
    assert "fee relief" not in offers(cash)


def test_installment_shoppers_get_a_merchant_installment_programme(four):
    installment = four[1]
    assert "merchant installment" in installment.levers[0].offer
    assert pct(installment.means["INSTALLMENT_SHARE"]) in installment.levers[0].rationale


def test_one_off_shoppers_get_cashback_and_flash_offers(four):
    oneoff = four[2]
    assert "cashback" in oneoff.levers[0].offer.lower()
    assert "flash offers" in offers(oneoff)


def test_dormant_accounts_get_reactivation(four):
    dormant = four[3]
    assert "reactivat" in dormant.levers[0].objective.lower()
    assert "fee relief" not in offers(dormant)


def test_other_segments_with_repayment_risk_get_budgeting_nudges_second():
    frame, labels = planted([("installment", 40, {"BALANCE": 2500}), *FOUR[:1], *FOUR[2:]])
    installment = profile_segments(frame, labels)[0]
    assert "high utilisation" in installment.risk_flags
    assert "merchant installment" in installment.levers[0].offer
    assert "budgeting nudges" in installment.levers[1].offer.lower()


def test_non_paying_accounts_get_repayment_help_not_spending_offers():
    frame, labels = planted([("dormant", 40, {"PAYMENTS": 0}), *FOUR[:3]])
    non_paying = profile_segments(frame, labels)[0]
    assert non_paying.name == "Non-paying accounts"
    assert non_paying.levers[0].objective == "Get repayments started"
    assert "cashback" not in offers(non_paying)


def test_suggest_levers_is_deterministic_and_matches_the_profile(four):
    frame, labels = planted(FOUR)
    (population,) = profile_segments(frame, np.zeros(len(frame), dtype=int))
    for profile in four:
        assert [lever.objective for lever in suggest_levers(profile, population)] == [
            lever.objective for lever in profile.levers]
