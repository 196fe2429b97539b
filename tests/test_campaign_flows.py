"""The Campaigns page in headless Chromium: the member list is the plan on screen, plan.json
goes out and comes back, and wrong form values are marked and explained."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from dashapp import ids
from tests.dash_helpers import TIMEOUT, click, wait_for

pytestmark = pytest.mark.browser
FIELD = "input[id*='\"field\":\"{}\"']"


def _open_segment_tab(dash_duo, segment: int) -> None:
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/campaigns")
    dash_duo.wait_for_element(f"#{ids.CAMPAIGN_TABS} .nav-item:nth-child({segment + 1}) "
                              ".nav-link", timeout=TIMEOUT).click()
    dash_duo.wait_for_contains_text(f"#{ids.PLAN_PROJECTION}", "ROI", timeout=TIMEOUT)


def _type(dash_duo, field: str, text: str) -> None:
    box = dash_duo.find_element(FIELD.format(field))
    box.clear()
    box.send_keys(text + "\t")


def _shown(dash_duo, label: str) -> int:
    text = dash_duo.find_element(f"#{ids.PLAN_PROJECTION}").text
    return int(re.search(rf"{re.escape(label)}\n?\s*([\d,]+)", text).group(1).replace(",", ""))


def _downloaded(dash_duo, status_id: str, pattern: str) -> Path:
    dash_duo.wait_for_contains_text(f"#{status_id}", "exported", timeout=TIMEOUT)
    name = re.search(pattern, dash_duo.find_element(f"#{status_id}").text).group(0)
    path = Path(dash_duo.download_path) / name
    wait_for(dash_duo, path.exists, f"{name} downloaded")
    return path


def test_member_list_counts_are_the_projection_on_screen(dash_duo, app):
    dash_duo.start_server(app)
    _open_segment_tab(dash_duo, 2)
    _type(dash_duo, "name", "Capped in the browser")
    _type(dash_duo, "budget_cap", "3")
    _type(dash_duo, "holdout_share", "30")
    dash_duo.wait_for_contains_text(f"#{ids.PLAN_PROJECTION}", "Capped by the budget",
                                    timeout=TIMEOUT)
    shown = {group: _shown(dash_duo, label) for group, label in (
        ("treatment", "Contacted"), ("control", "Control group"),
        ("not_contacted", "Not contacted (budget cap)"))}
    click(dash_duo, f"#{ids.PLAN_SAVE}")
    dash_duo.wait_for_contains_text(f"#{ids.PLAN_STATUS}", "Saved", timeout=TIMEOUT)
    click(dash_duo, f"#{ids.EXPORT_SCOPE} input[value='everyone']")
    click(dash_duo, f"#{ids.EXPORT_BUTTON}")
    frame = pd.read_csv(_downloaded(dash_duo, ids.EXPORT_STATUS, r"\S+\.csv"))
    planned = frame[frame["plan_name"] == "Capped in the browser"]
    assert set(planned["segment"]) == {2}
    assert planned["campaign_group"].value_counts().to_dict() == shown
    assert dash_duo.get_logs() == []


def test_plan_json_downloads_and_loads_into_another_tab(dash_duo, app):
    dash_duo.start_server(app)
    _open_segment_tab(dash_duo, 3)
    _type(dash_duo, "name", "Travels as JSON")
    _type(dash_duo, "holdout_share", "25")
    click(dash_duo, f"#{ids.PLAN_DOWNLOAD_BUTTON}")
    path = Path(dash_duo.download_path) / "plan_segment-3_Travels-as-JSON.json"
    wait_for(dash_duo, path.exists, "plan.json downloaded")
    plan = json.loads(path.read_text())
    assert plan["segments"] == [3] and plan["holdout_share"] == 0.25
    dash_duo.find_element(f"#{ids.CAMPAIGN_TABS} .nav-item:nth-child(5) .nav-link").click()
    wait_for(dash_duo, lambda: dash_duo.find_element(FIELD.format("name"))
             .get_attribute("value") != "Travels as JSON", "segment 4's own plan")
    dash_duo.find_element(f"#{ids.PLAN_UPLOAD} input[type=file]").send_keys(str(path))
    dash_duo.wait_for_contains_text(f"#{ids.PLAN_STATUS}", "Loaded “Travels as JSON”",
                                    timeout=TIMEOUT)
    assert "written for segment 3" in dash_duo.find_element(f"#{ids.PLAN_STATUS}").text
    assert dash_duo.find_element(FIELD.format("holdout_share")).get_attribute("value") == "25"
    assert dash_duo.get_logs() == []


def test_a_bad_value_is_marked_and_explained(dash_duo, app):
    dash_duo.start_server(app)
    _open_segment_tab(dash_duo, 1)
    _type(dash_duo, "response_rate", "-5")
    dash_duo.wait_for_contains_text(
        f"#{ids.PLAN_PROJECTION}", "Expected response (uplift, %): enter a number from 0 to 100",
        timeout=TIMEOUT)
    wait_for(dash_duo, lambda: "is-invalid" in dash_duo.find_element(
        FIELD.format("response_rate")).get_attribute("class"), "the field is marked")
    assert "is-invalid" not in dash_duo.find_element(FIELD.format("name")).get_attribute("class")
    _type(dash_duo, "response_rate", "2")
    dash_duo.wait_for_contains_text(f"#{ids.PLAN_PROJECTION}", "ROI", timeout=TIMEOUT)
    assert "is-invalid" not in dash_duo.find_element(
        FIELD.format("response_rate")).get_attribute("class")
    assert dash_duo.get_logs() == []
