"""plan.json: the round trip, and every way a plan file can be wrong."""

from __future__ import annotations

import json
from datetime import date

import pytest

from core.campaign import CampaignPlan
from core.plan_file import (
    FORMAT,
    MAX_PLAN_BYTES,
    PlanFileError,
    plan_from_json,
    plan_to_dict,
    plan_to_json,
    read_plan_file,
)

PLAN = CampaignPlan(name="Spring push", segment=2, objective="Grow installment volume",
                    offer="0 % plan", channel="Email", cost_per_contact=0.5, response_rate=0.03,
                    value_per_responder=120.0, offer_cost_per_responder=10.0, budget_cap=150.0,
                    holdout_share=0.3, start=date(2026, 12, 1), duration_days=30, seed=7)


def test_round_trip_keeps_every_field():
    text = plan_to_json(PLAN)
    payload = json.loads(text)
    assert payload["segments"] == [2] and payload["start"] == "2026-12-01"
    assert {"name", "segments", "holdout_share", "budget_cap", "cost_per_contact"} <= set(payload)
    assert "segment" not in payload
    assert plan_from_json(text) == (PLAN, (2,))
    assert plan_from_json(text.encode()) == (PLAN, (2,))


def test_several_segments_and_no_cap():
    payload = plan_to_dict(PLAN, (3, 1)) | {"budget_cap": None}
    plan, segments = plan_from_json(json.dumps(payload))
    assert segments == (3, 1) and plan.segment == 3 and plan.budget_cap is None


def _changed(**changes) -> str:
    return json.dumps(plan_to_dict(PLAN) | changes)


@pytest.mark.parametrize(("text", "message"), [
    ("", "not valid JSON"), ("{", "not valid JSON"), ("[1]", "not a campaign plan file"),
    ("\xff\xfe", "not valid JSON"), ("[" * 50_000, "not valid JSON"),
    (json.dumps({"format": "other"}), "not a campaign plan file"),
    (_changed(schema_version=2), "schema version 2"),
    (_changed(holdout_share=0.9), "holdout_share must be a finite number between 0 and 0.5"),
    (_changed(holdout_share="10%"), "holdout_share must be a number; got '10%'"),
    (_changed(budget_cap=-1), "budget_cap .* got -1"),
    (_changed(response_rate=1e400), "response_rate"),
    (_changed(segments=[]), "segments must be a non-empty list"),
    (_changed(segments=[1, 1]), "distinct"), (_changed(segments=[0]), "segments"),
    (_changed(segments="1"), "segments"), (_changed(segments=[True]), "segments"),
    (_changed(start="tomorrow"), "start must be a date"), (_changed(start=20261201), "start"),
    (_changed(name=""), "name must be non-empty"), (_changed(duration_days=2.5), "duration_days"),
    (_changed(hack=1), "unknown field.*'hack'"),
    (json.dumps({k: v for k, v in plan_to_dict(PLAN).items() if k != "seed"}), "missing.*seed"),
    ("x" * (MAX_PLAN_BYTES + 1), "at most 64 KB"),
])
def test_bad_plan_files_name_the_problem(text, message):
    with pytest.raises(PlanFileError, match=message):
        plan_from_json(text)


def test_reading_from_disk(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(plan_to_json(PLAN), encoding="utf-8")
    assert read_plan_file(path) == (PLAN, (2,))
    with pytest.raises(PlanFileError, match="cannot read"):
        read_plan_file(tmp_path / "missing.json")
    assert FORMAT in path.read_text()
