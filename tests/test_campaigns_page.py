"""The Campaigns page: plans per segment, persistence, portfolio, exports and the report."""

from __future__ import annotations

import base64
import io
from importlib import import_module

import pandas as pd
import pytest
from dash import no_update

from core.errors import ConfigError
from core.plans import segmentation_key
from dashapp.plan_form import FIELDS, plan_from_form
from dashapp.store import get_store, map_key
from tests.dash_helpers import text_of


@pytest.fixture
def campaigns(app):
    return import_module("pages.campaigns")


def form(campaigns, demo_state, segment: int) -> list:
    """The form's field values as the page fills them for ``segment``."""
    panel = campaigns.show_tab(str(segment), demo_state)[2]
    return [column.children[1].value for column in panel.children]


def test_a_segment_tab_is_prefilled_from_its_levers_and_projected(campaigns, demo_state):
    result = get_store().segmentation(get_store().demo_id, get_store().active(demo_state).config)
    values = form(campaigns, demo_state, 2)
    assert values[1] == result.profiles[1].levers[0].objective
    projection = text_of(campaigns.project_plan(values, "2", demo_state))
    assert f"{result.profiles[1].size:,}" in projection and "ROI" in projection
    broken = list(values)
    broken[[f.name for f in FIELDS].index("response_rate")] = 250
    assert "between 0 and 1" in text_of(campaigns.project_plan(broken, "2", demo_state))


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
    key = segmentation_key(store.demo_id, store.active(demo_state).config)
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
    result = store.segmentation(store.demo_id, store.active(demo_state).config)
    download, status = campaigns.export_members(1, "segments", [2, 3], [], fmt, None,
                                                demo_state)
    expected = result.profiles[1].size + result.profiles[2].size
    assert f"{expected:,} customers exported" in text_of(status)
    assert download["filename"].endswith(f"_k{result.k}_segments-2-3.{fmt}")
    raw = io.BytesIO(base64.b64decode(download["content"]))
    frame = {"csv": pd.read_csv, "xlsx": pd.read_excel, "parquet": pd.read_parquet}[fmt](raw)
    assert len(frame) == expected and set(frame["segment"]) == {2, 3}
    assert {"CUST_ID", "segment_name", "campaign_group", "plan_name"} <= set(frame.columns)
    assert set(frame["campaign_group"]) == {"treatment", "control"}


def test_exporting_a_selection_needs_one(campaigns, demo_state):
    _, status = campaigns.export_members(1, "selection", None, [], "csv", None, demo_state)
    assert "Nothing is selected" in text_of(status)
    store = get_store()
    box = {"box": {"x": [-100, 0], "y": [-100, 100]},
           "map": map_key(store.active(demo_state))}
    coords = store.projection(store.demo_id, store.active(demo_state).config).coords
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
