"""The Campaigns page: plans per segment, persistence, portfolio, exports and the report."""

from __future__ import annotations

import base64
import io
from importlib import import_module

import pandas as pd
import pytest
from dash import no_update

from core.cli import main
from core.demo import DEMO_PATH
from core.errors import ConfigError
from core.plan_file import plan_from_json
from dashapp.plan_form import FIELDS, plan_from_form
from dashapp.store import get_store, map_key
from tests.dash_helpers import fetched, text_of


@pytest.fixture
def campaigns(app):
    return import_module("pages.campaigns")


def form(campaigns, demo_state, segment: int) -> list:
    """The form's field values as the page fills them for ``segment``."""
    panel = campaigns.show_tab(str(segment), demo_state)[2]
    return [column.children[1].value for column in panel.children]


def test_a_segment_tab_is_prefilled_from_its_levers_and_projected(campaigns, demo_state):
    store = get_store()
    result = store.segmentation(store.starting_id, store.active(demo_state).config)
    values = form(campaigns, demo_state, 2)
    assert values[1] == result.profiles[1].levers[0].objective
    projection = text_of(campaigns.project_plan(values, "2", demo_state))
    assert f"{result.profiles[1].size:,}" in projection and "ROI" in projection
    broken = list(values)
    broken[[f.name for f in FIELDS].index("response_rate")] = 250
    alert, invalid = campaigns.project_plan(broken, "2", demo_state)
    assert "Expected response (uplift, %): enter a number from 0 to 100; got 250" in text_of(alert)
    assert invalid == [f.name == "response_rate" for f in FIELDS]
    assert campaigns.project_plan(values, "2", demo_state)[1] == [False] * len(FIELDS)


def test_saved_plans_persist_and_reload_by_name(campaigns, demo_state):
    values = form(campaigns, demo_state, 1)
    values[0] = "Spring installments"
    status, names = campaigns.save_plan(1, values, "1", demo_state)
    assert "Saved “Spring installments”" in text_of(status)
    assert "Spring installments" in [option["value"] for option in names]
    # reopening the tab shows the saved plan, and picking it by name fills the form
    assert campaigns.show_tab("1", demo_state)[4] == "Spring installments"
    assert campaigns.load_saved_plan("Spring installments", "1", demo_state)[0] \
        == "Spring installments"
    store = get_store()
    key = store.plan_key(store.segmentation(store.starting_id, store.active(demo_state).config))
    assert store.plans.latest(key, 1).name == "Spring installments"
    assert campaigns.save_plan(None, values, "1", demo_state) == (no_update, no_update)
    values[0] = ""
    assert "not saved" in text_of(campaigns.save_plan(2, values, "1", demo_state)[0])


def test_portfolio_spends_within_the_budget(campaigns, demo_state):
    view = campaigns.show_portfolio(500, demo_state, None)
    table = text_of(view)
    assert "Total" in table and "left unspent" in table
    assert "cannot be computed" in text_of(campaigns.show_portfolio(-5, demo_state, None))


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_exports_match_the_segment_sizes_and_carry_campaign_groups(campaigns, demo_state, fmt):
    store = get_store()
    result = store.segmentation(store.starting_id, store.active(demo_state).config)
    download, status = campaigns.export_members(1, "segments", [2, 3], [], fmt, None,
                                                demo_state)
    expected = result.profiles[1].size + result.profiles[2].size
    assert f"{expected:,} customers exported" in text_of(status)
    assert download["filename"].endswith(f"_k{result.k}_segments-2-3.{fmt}")
    raw = io.BytesIO(fetched(download))
    frame = {"csv": pd.read_csv, "xlsx": pd.read_excel, "parquet": pd.read_parquet}[fmt](raw)
    assert len(frame) == expected and set(frame["segment"]) == {2, 3}
    assert {"CUST_ID", "segment_name", "campaign_group", "plan_name"} <= set(frame.columns)
    assert set(frame["campaign_group"]) <= {"treatment", "control", "not_contacted"}


def test_exporting_a_selection_needs_one(campaigns, demo_state):
    _, status = campaigns.export_members(1, "selection", None, [], "csv", None, demo_state)
    assert "Nothing is selected" in text_of(status)
    store = get_store()
    box = {"box": {"x": [-100, 0], "y": [-100, 100]},
           "map": map_key(store.active(demo_state))}
    coords = store.projection(store.starting_id, store.active(demo_state).config).coords
    download, status = campaigns.export_members(1, "selection", None, [], "csv", box,
                                                demo_state)
    assert f"{int((coords[:, 0] <= 0).sum()):,} customers exported" in text_of(status)
    assert download["filename"].endswith("_selection.csv")


def test_report_is_one_offline_html_file(campaigns, demo_state):
    report = campaigns.download_report(1, demo_state)
    assert report["filename"].endswith(".html")
    assert report["content"].count("<html") == 1 and 'src="http' not in report["content"]


def test_plan_form_names_the_bad_field():
    values = {f.name: "" for f in FIELDS}
    with pytest.raises(ConfigError, match="Plan name"):
        plan_from_form(1, 0, values)


def _field(name: str) -> int:
    return [f.name for f in FIELDS].index(name)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("response_rate", -5, "Expected response (uplift, %): enter a number from 0 to 100; got -5"),
    ("response_rate", None, "Expected response (uplift, %): enter a number from 0 to 100."),
    ("holdout_share", 60, "Control group (holdout, %): enter a number from 0 to 50; got 60"),
    ("duration_days", 2.5, "Duration (days): enter a whole number from 1 to 3660; got 2.5"),
    ("budget_cap", "lots", "Budget cap: enter a number of 0 or more; got 'lots'"),
    ("start", "someday", "Start date: enter a date like 2026-12-01; got 'someday'"),
    ("cost_per_contact", 1e309, "Cost per contact: enter a number of 0 or more; got inf"),
])
def test_forms_say_what_is_allowed_and_mark_the_field(campaigns, demo_state, field, value,
                                                       message):
    values = form(campaigns, demo_state, 2)
    values[_field(field)] = value
    alert, invalid = campaigns.project_plan(values, "2", demo_state)
    assert message in text_of(alert)
    assert invalid == [f.name == field for f in FIELDS]


def test_hostile_form_payloads_never_fail(campaigns, demo_state):
    for values in ([], [None], ["x"] * 40, [{"a": 1}] * len(FIELDS), "abc"):
        alert, _ = campaigns.project_plan(values, "2", demo_state)
        assert alert is no_update or "cannot be projected" in text_of(alert)
    budget = form(campaigns, demo_state, 2)
    budget[_field("budget_cap")] = 1e308
    assert "Audience" in text_of(campaigns.project_plan(budget, "2", demo_state)[0])


def _capped(campaigns, demo_state, segment: int) -> list:
    values = form(campaigns, demo_state, segment)
    values[_field("name")] = f"Capped {segment}"
    values[_field("budget_cap")] = 5
    values[_field("holdout_share")] = 30
    return values


def test_the_export_is_the_plan_on_screen(campaigns, demo_state):
    """Counts in the member list equal the projection the tab shows, for a capped plan."""
    values = _capped(campaigns, demo_state, 4)
    campaigns.save_plan(1, values, "4", demo_state)
    shown = text_of(campaigns.project_plan(values, "4", demo_state)[0])
    for fmt in ("csv", "xlsx", "parquet"):
        download, status = campaigns.export_members(1, "segments", [4], [], fmt, None,
                                                    demo_state)
        raw = io.BytesIO(fetched(download))
        frame = {"csv": pd.read_csv, "xlsx": pd.read_excel, "parquet": pd.read_parquet}[fmt](raw)
        counts = frame["campaign_group"].value_counts()
        for group, label in (("treatment", "Contacted"), ("control", "Control group"),
                             ("not_contacted", "Not contacted (budget cap)")):
            assert f"{label} {counts[group]:,}" in shown
            assert f"{counts[group]:,} {group}" in text_of(status)
        assert (frame["plan_name"] == "Capped 4").all()


def test_plan_json_downloads_and_loads_back(campaigns, demo_state):
    values = _capped(campaigns, demo_state, 3)
    download, status = campaigns.download_plan(1, values, "3", demo_state)
    assert status is None and download["filename"].startswith("plan_segment-3_")
    plan, segments = plan_from_json(download["content"])
    assert segments == (3,) and plan.budget_cap == 5 and plan.holdout_share == 0.3
    contents = "data:application/json;base64," + base64.b64encode(
        download["content"].encode()).decode()
    loaded, note = campaigns.load_plan_file(contents, "plan.json", "2", demo_state)
    assert loaded == values and "written for segment 3" in text_of(note)
    assert "Loaded “Capped 3”" in text_of(note)


@pytest.mark.parametrize(("contents", "message"), [
    ("data:application/json;base64,e30=", "not a campaign plan file"),
    ("data:application/json;base64,!!!", "damaged"),
    ("not a data url", "damaged"),
    ("data:application/json;base64," + base64.b64encode(b"x" * 70_000).decode(), "64 KB"),
])
def test_bad_plan_files_keep_the_form(campaigns, demo_state, contents, message):
    fields, status = campaigns.load_plan_file(contents, "<b>evil</b>.json", "2", demo_state)
    assert fields == [no_update] * len(FIELDS)
    assert message in text_of(status) and "<b>evil</b>.json was not loaded" in text_of(status)


def test_the_job_hands_over_what_the_app_exports(campaigns, demo_state, tmp_path, capsys):
    """c2c export with the app's model.json and plan.json writes the app's member list."""
    values = _capped(campaigns, demo_state, 1)
    campaigns.save_plan(1, values, "1", demo_state)
    download, _ = campaigns.export_members(1, "segments", [1], [], "csv", None, demo_state)
    plan = campaigns.download_plan(1, values, "1", demo_state)[0]["content"]
    (tmp_path / "plan.json").write_text(plan)
    store = get_store()
    store.segmentation(store.starting_id, store.active(demo_state).config).model.save(
        tmp_path / "model.json")
    assert main(["export", "--model", str(tmp_path / "model.json"), "--plan",
                 str(tmp_path / "plan.json"), "--data", str(DEMO_PATH),
                 "--out", str(tmp_path / "members.csv")]) == 0
    assert (tmp_path / "members.csv").read_bytes() == fetched(download)
