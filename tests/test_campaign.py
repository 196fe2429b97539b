"""Campaign plans: ROI and MDE maths against hand computations, allocation, holdout, defaults."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import inspect
import math
import re
from collections import Counter
from datetime import date, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import core.levers
from core.campaign import (
    CHANNEL_COST,
    DEFAULT_DURATION_DAYS,
    DEFAULT_HOLDOUT,
    OBJECTIVE_VALUE,
    Z_SUM,
    CampaignPlan,
    allocate,
    assign_groups,
    campaign_summary,
    customer_draws,
    default_plan,
    project,
)
from core.demo import generate_demo_data
from core.errors import ConfigError
from core.loading import from_frame
from core.pipeline import SegmentationConfig, segment_customers

START = date(2025, 3, 3)


def plan(**changes) -> CampaignPlan:
    """The worked example: 0.50 per contact, 3 % uplift, 120 per responder, 10 offer cost."""
    values = dict(name="Spring push", segment=1, objective="Grow installment volume",
                  offer="0 % plan", channel="Email", cost_per_contact=0.5, response_rate=0.03,
                  value_per_responder=120.0, offer_cost_per_responder=10.0, budget_cap=None,
                  holdout_share=0.1, start=START, duration_days=30, seed=7)
    return CampaignPlan(**(values | changes))


# --- projection: hand-computed cases -------------------------------------------------------

def test_worked_example_matches_the_hand_computation():
    result = project(plan(), 1000)
    assert (result.audience, result.control, result.treated) == (1000, 100, 900)  # 10 % of 1,000
    assert result.expected_responders == pytest.approx(27)       # 900 × 0.03
    assert result.total_cost == pytest.approx(720)               # 900 × 0.5 + 27 × 10 = 450 + 270
    assert result.incremental_revenue == pytest.approx(3240)     # 27 × 120
    assert result.roi == pytest.approx(3.5)                      # (3,240 − 720) / 720
    assert not result.capped_by_budget


def test_roi_does_not_depend_on_scale():
    assert plan().roi == pytest.approx(project(plan(), 1000).roi)  # (3.6 − 0.8) / 0.8 = 3.5


def test_mde_matches_the_hand_computation():
    # p(1 − p) = 0.03 × 0.97 = 0.0291; 1/900 + 1/100 = 0.011111…; product 0.00032333…
    # sqrt = 0.0179815; × (1.959964 + 0.841621 = 2.801585) = 0.0503766
    result = project(plan(), 1000)
    assert abs(Z_SUM - (1.959964 + 0.841621)) < 1e-6
    assert result.mde == pytest.approx(0.0503766, rel=1e-5)
    assert not result.measurable  # 5.04 points > 3 points expected


def test_a_large_holdout_measures_the_uplift():
    # 100,000 customers, 20 % holdout: 80,000 treated, 20,000 control.
    # 1/80,000 + 1/20,000 = 0.0000625; × 0.0291 = 1.81875e-6; sqrt = 0.00134861
    # × 2.801585 = 0.0037783 ≤ 0.03 → measurable
    result = project(plan(holdout_share=0.2), 100_000)
    assert (result.treated, result.control) == (80_000, 20_000)
    assert result.mde == pytest.approx(0.0037783, rel=1e-4)
    assert result.measurable and result.warning is None


def test_too_small_control_group_warns_in_plain_language():
    assert project(plan(), 1000).warning == (
        "The control group (100 customers) is too small: it can only detect an uplift of "
        "5.0 points, above the 3.0 points expected. Raise the holdout share or skip measurement.")


def test_too_small_treated_group_points_at_the_budget():
    # cap 8 / 0.8 per treated customer = 10 treated, 100 control
    # 1/10 + 1/100 = 0.11; × 0.0291 = 0.003201; sqrt = 0.0565774; × 2.801585 = 0.158506
    result = project(plan(budget_cap=8), 1000)
    assert (result.treated, result.control) == (10, 100)
    assert result.warning == (
        "The treated group (10 customers) is too small: it can only detect an uplift of "
        "15.9 points, above the 3.0 points expected. Raise the budget cap or skip measurement.")


def test_no_holdout_cannot_be_measured():
    result = project(plan(holdout_share=0), 1000)
    assert (result.treated, result.control, result.mde) == (1000, 0, None)
    assert not result.measurable
    assert result.warning == "No holdout: results cannot be measured."


def test_budget_cap_limits_contacts_to_the_expected_cost():
    # cost per treated customer = 0.5 + 0.03 × 10 = 0.8; floor(400 / 0.8) = 500 treated
    result = project(plan(budget_cap=400), 1000)
    assert (result.treated, result.control) == (500, 100)
    assert result.capped_by_budget
    assert result.total_cost == pytest.approx(400)           # 500 × 0.5 + 15 × 10 = 250 + 150
    assert result.incremental_revenue == pytest.approx(1800)  # 15 × 120
    assert result.roi == pytest.approx(3.5)


def test_budget_cap_above_the_need_changes_nothing():
    assert project(plan(budget_cap=10_000), 1000) == project(plan(), 1000)


def test_budget_division_tolerates_float_error():
    # 0.3 / 0.1 is 2.9999999999999996 in floating point; three contacts fit the cap
    result = project(plan(cost_per_contact=0.1, response_rate=0.0, budget_cap=0.3), 100)
    assert result.treated == 3


def test_zero_cost_has_no_roi():
    result = project(plan(cost_per_contact=0, offer_cost_per_responder=0), 1000)
    assert result.total_cost == 0
    assert result.roi is None and plan(cost_per_contact=0, offer_cost_per_responder=0).roi is None
    assert result.incremental_revenue == pytest.approx(3240)


@pytest.mark.parametrize(("audience", "control"), [(25, 3), (15, 2), (5, 1), (4, 0), (0, 0)])
def test_control_size_rounds_halves_up(audience, control):
    # 25 × 0.1 = 2.5 → 3 (not banker's 2); 4 × 0.1 = 0.4 → 0
    assert project(plan(), audience).control == control


def test_empty_segment_and_zero_response_are_explained():
    assert project(plan(), 0).warning == (
        "The segment is empty: there is nobody to contact or measure.")
    assert project(plan(budget_cap=0), 1000).warning.startswith("Nobody is contacted")
    zero = project(plan(response_rate=0.0, holdout_share=0.5), 10_000)
    assert zero.mde == 0 and not zero.measurable
    assert zero.warning == "The expected response rate is 0: there is no uplift to measure."


def test_audience_must_be_a_whole_number():
    with pytest.raises(ConfigError, match=r"audience must be between 0 .* got -1"):
        project(plan(), -1)
    with pytest.raises(ConfigError, match=r"audience must be a whole number; got 10\.5"):
        project(plan(), 10.5)


# --- allocation -----------------------------------------------------------------------------

def portfolio() -> list[tuple[CampaignPlan, int]]:
    """Four segments: ROI 3.5 (900 contacts), 4.0 (400), 2.0 (250), −0.5 (unprofitable)."""
    return [
        # 0.5 + 0.03 × 10 = 0.8 per contact, 3.6 back → ROI 3.5; 1,000 − 100 holdout = 900
        (plan(segment=1, name="A"), 1000),
        # 1.0 per contact, 0.05 × 100 = 5.0 back → ROI 4.0; 500 − 100 holdout = 400
        (plan(segment=2, name="B", cost_per_contact=1.0, response_rate=0.05,
              value_per_responder=100, offer_cost_per_responder=0, holdout_share=0.2), 500),
        # 0.1 + 0.02 × 5 = 0.2 per contact, 0.6 back → ROI 2.0; own cap 50 / 0.2 = 250
        (plan(segment=4, name="D", cost_per_contact=0.1, response_rate=0.02,
              value_per_responder=30, offer_cost_per_responder=5, holdout_share=0,
              budget_cap=50), 1000),
        # 0.2 per contact, 0.01 × 10 = 0.1 back → ROI −0.5
        (plan(segment=3, name="C", cost_per_contact=0.2, response_rate=0.01,
              value_per_responder=10, offer_cost_per_responder=0), 2000),
    ]


def test_allocation_funds_best_roi_first_until_the_budget_runs_out():
    # B: 400 × 1.0 = 400 → 600 left; A: floor(600 / 0.8) = 750 of 900 → 600 spent, 0 left
    result = allocate(portfolio(), 1000)
    lines = {line.segment: line for line in result.lines}
    assert [line.segment for line in result.lines] == [2, 1, 4, 3]
    assert [(line.funded, line.available) for line in result.lines] == [
        (400, 400), (750, 900), (0, 250), (0, 1800)]
    assert lines[2].spent == pytest.approx(400) and lines[1].spent == pytest.approx(600)
    assert lines[2].incremental_revenue == pytest.approx(2000)  # 400 × 5.0
    assert lines[1].incremental_revenue == pytest.approx(2700)  # 750 × 3.6
    assert result.spent == pytest.approx(1000) and result.remaining == pytest.approx(0)
    assert result.roi == pytest.approx(3.7)                     # (4,700 − 1,000) / 1,000
    assert lines[2].reason == "Fully funded: all 400 contacts."
    assert lines[1].reason == "Partly funded: the total budget ran out after 750 of 900 contacts."
    assert lines[4].reason == "Not funded: the total budget ran out before this segment."
    assert lines[3].reason.startswith("Not funded: the expected ROI is -50%")


def test_allocation_caps_by_audience_and_own_cap_and_reports_the_remainder():
    # B 400 + A 900 × 0.8 = 720 + D 250 × 0.2 = 50 → 1,170 spent of 10,000
    result = allocate(portfolio(), 10_000)
    assert [line.funded for line in result.lines] == [400, 900, 250, 0]
    assert result.spent == pytest.approx(1170)
    assert result.remaining == pytest.approx(8830)
    assert result.incremental_revenue == pytest.approx(2000 + 3240 + 150)  # 250 × 0.6 = 150


def test_leftover_money_funds_cheaper_contacts_further_down():
    # 408.5: B takes 400 → 8.5; A floor(8.5 / 0.8) = 10 (8.0) → 0.5; D floor(0.5 / 0.2) = 2 (0.4)
    result = allocate(portfolio(), 408.5)
    assert [line.funded for line in result.lines] == [400, 10, 2, 0]
    assert result.remaining == pytest.approx(0.1)


def test_free_plans_with_a_return_come_first_and_cost_nothing():
    free = plan(segment=9, name="Free", cost_per_contact=0, offer_cost_per_responder=0)
    result = allocate([*portfolio(), (free, 100)], 0)
    assert result.lines[0].segment == 9 and result.lines[0].funded == 90
    assert result.lines[0].spent == 0 and result.lines[0].roi is None
    assert result.spent == 0


def test_allocation_rejects_bad_budgets_and_repeated_segments():
    with pytest.raises(ConfigError, match=r"total_budget .* got -5"):
        allocate(portfolio(), -5)
    with pytest.raises(ConfigError, match=r"segments \[1\] have several"):
        allocate([(plan(), 10), (plan(name="other"), 10)], 100)


# --- campaign groups ------------------------------------------------------------------------

IDS = [f"C{i:05d}" for i in range(10_000)]


def groups(ids=IDS, **changes) -> np.ndarray:
    return assign_groups(ids, plan(**changes))


def test_groups_have_exactly_the_projected_sizes():
    for changes in ({}, {"holdout_share": 0.3, "budget_cap": 150.0}, {"budget_cap": 0.0},
                    {"holdout_share": 0.0}, {"holdout_share": 0.5, "budget_cap": 1e308}):
        projection = project(plan(**changes), len(IDS))
        counts = Counter(groups(**changes).tolist())
        assert (counts["treatment"], counts["control"], counts["not_contacted"]) == (
            projection.treated, projection.control, projection.not_contacted)
        assert sum(counts.values()) == len(IDS)


def test_groups_are_deterministic_and_follow_the_id_not_the_order():
    assert np.array_equal(groups(), groups())
    order = np.random.default_rng(0).permutation(len(IDS))
    shuffled = groups(np.array(IDS, dtype=object)[order])
    assert np.array_equal(shuffled, groups()[order])
    assert not np.array_equal(groups(seed=3), groups(seed=4))


def test_groups_follow_the_documented_rule():
    # rank by u = first 53 bits of blake2b(f"{seed}:{id}", 8 bytes) / 2**53: control first,
    # then as many treated as the cap affords, the rest not contacted
    def uniform(customer: str) -> float:
        digest = hashlib.blake2b(f"5:{customer}".encode(), digest_size=8).digest()
        return (int.from_bytes(digest, "big") >> 11) / 2**53

    ids = IDS[:500]
    ranked = sorted(ids, key=uniform)
    result = dict(zip(ids, assign_groups(ids, plan(seed=5, holdout_share=0.3, budget_cap=50.0)),
                      strict=True))
    treated = math.floor(50.0 / plan().cost_per_treated)
    assert [result[c] for c in ranked] == (["control"] * 150 + ["treatment"] * treated
                                           + ["not_contacted"] * (350 - treated))
    assert np.allclose(customer_draws(ids, 5), [uniform(c) for c in ids])


def test_draws_edges_and_input_checks():
    assert customer_draws([], 1).shape == (0,) and groups([]).shape == (0,)
    assert np.array_equal(customer_draws(np.arange(50), 1),
                          customer_draws([str(i) for i in range(50)], 1))
    with pytest.raises(ConfigError, match=r"shape \(2, 2\)"):
        customer_draws(np.array([["a", "b"], ["c", "d"]]), 1)
    with pytest.raises(ConfigError, match="got -1"):
        customer_draws(IDS, -1)


def test_a_huge_budget_cap_contacts_everyone_without_overflow():
    projection = project(plan(budget_cap=1e308, cost_per_contact=1e-300,
                              offer_cost_per_responder=0), 1000)
    assert projection.treated == 900 and not projection.capped_by_budget


@given(ids=st.lists(st.text(max_size=12), unique=True, max_size=60), seed=st.integers(0, 2**63 - 1),
       share=st.floats(0, 0.5), cap=st.none() | st.floats(0, 100))
def test_every_audience_member_gets_exactly_one_group(ids, seed, share, cap):
    result = assign_groups(ids, plan(seed=seed, holdout_share=share, budget_cap=cap))
    projection = project(plan(holdout_share=share, budget_cap=cap), len(ids))
    counts = Counter(result.tolist())
    assert set(counts) <= {"treatment", "control", "not_contacted"}
    assert (counts["treatment"], counts["control"]) == (projection.treated, projection.control)
    summary = campaign_summary(plan(holdout_share=share, budget_cap=cap), result.tolist())
    assert (summary["audience"], summary["contacted"], summary["control"],
            summary["not_contacted"]) == (len(ids), projection.treated, projection.control,
                                          projection.not_contacted)


# --- defaults from a real profile -----------------------------------------------------------

@pytest.fixture(scope="module")
def profiles():
    data = from_frame(generate_demo_data(600, seed=1))
    return segment_customers(data, SegmentationConfig(k=4)).profiles


def test_default_plan_takes_the_main_lever_and_channel_defaults(profiles):
    for profile in profiles:
        lever = profile.levers[0]
        result = default_plan(profile, seed=11, start=START)
        assert (result.objective, result.offer, result.channel) == (
            lever.objective, lever.offer, lever.channel)
        assert (result.name, result.segment, result.seed) == (lever.objective, profile.segment, 11)
        assert (result.cost_per_contact, result.response_rate) == CHANNEL_COST[lever.channel]
        assert (result.value_per_responder,
                result.offer_cost_per_responder) == OBJECTIVE_VALUE[lever.objective]
        assert (result.holdout_share, result.duration_days, result.budget_cap) == (
            DEFAULT_HOLDOUT, DEFAULT_DURATION_DAYS, None)
        assert result.roi > 0


def test_default_plan_name_and_start(profiles):
    result = default_plan(profiles[0], name="  Q3 test  ")
    assert result.name == "Q3 test" and result.start == date.today()


def test_default_plan_needs_a_lever(profiles):
    with pytest.raises(ConfigError, match="no suggested lever"):
        default_plan(dataclasses.replace(profiles[0], levers=()))


def test_every_lever_objective_has_planning_defaults():
    tree = ast.parse(inspect.getsource(core.levers))
    objectives = {node.args[0].value for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Lever"
                  and isinstance(node.args[0], ast.Constant)}
    assert len(objectives) >= 10
    assert objectives <= set(OBJECTIVE_VALUE)


# --- validation -----------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value"), [
    ("cost_per_contact", -0.5), ("offer_cost_per_responder", -1), ("value_per_responder", "12"),
    ("response_rate", 1.5), ("response_rate", float("nan")), ("holdout_share", 0.6),
    ("holdout_share", -0.1), ("budget_cap", -100), ("budget_cap", float("inf")),
    ("duration_days", 0), ("duration_days", 7.5), ("segment", -1), ("segment", True),
    ("seed", -3), ("start", datetime(2025, 3, 3, 9, 0)), ("start", "2025-03-03"), ("name", ""),
    ("name", "   "), ("channel", None),
])
def test_validation_errors_show_the_bad_value(field, value):
    with pytest.raises(ConfigError, match=re.escape(repr(value))):
        plan(**{field: value})


def test_long_names_are_rejected_with_their_length():
    assert plan(name="x" * 100).name == "x" * 100
    with pytest.raises(ConfigError, match="at most 100 characters; got 101"):
        plan(name="x" * 101)


def test_plans_are_frozen_normalised_and_revalidated_on_replace():
    result = plan(name=" Spring ", segment=np.int64(2), cost_per_contact=np.float32(0.25))
    assert result.name == "Spring" and type(result.segment) is int
    assert type(result.cost_per_contact) is float and result.end == date(2025, 4, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.seed = 1  # type: ignore[misc]
    with pytest.raises(ConfigError, match="got 2.0"):
        dataclasses.replace(result, response_rate=2.0)
    with pytest.raises(ConfigError, match="too late"):
        plan(start=date(9999, 12, 15))
