"""The app in headless Chromium (dash[testing]): what a business user clicks through."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from core.demo import generate_demo_data
from dashapp import ids
from tests.dash_helpers import (
    TIMEOUT,
    cards,
    click,
    click_slider_mark,
    legend_entries,
    plot_js,
    wait_for,
)

pytestmark = pytest.mark.browser
def test_every_page_loads_without_console_errors(dash_duo, app):
    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text(f"#{ids.KPI_ROW}", "9,000", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text(f"#{ids.FOOTER}", "Demo customers", timeout=TIMEOUT)
    for page, marker in (("/segments", ".c2c-segment-card"), ("/choose-k", f"#{ids.SWEEP_RUN}"),
                         ("/data", f"#{ids.UPLOAD}")):
        dash_duo.find_element(f"a[href^='{page}']").click()
        dash_duo.wait_for_element(marker, timeout=TIMEOUT)
    assert dash_duo.get_logs() == []


def test_moving_k_changes_cards_and_legend_and_the_address(dash_duo, app):
    dash_duo.start_server(app, )
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/segments?k=4")
    wait_for(dash_duo, lambda: cards(dash_duo) == 4 and legend_entries(dash_duo) == 4,
             "4 cards and 4 legend entries")
    handle = dash_duo.find_element(f"#{ids.K_SLIDER} [role=slider]")
    handle.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)  # the keys users step k with
    wait_for(dash_duo, lambda: cards(dash_duo) == 6 and legend_entries(dash_duo) == 6,
             "6 cards and 6 legend entries after moving k")
    assert dash_duo.driver.execute_script(plot_js(ids.SEGMENT_MAP, "gd._fullData[0].x.length")) \
        == 9000
    wait_for(dash_duo, lambda: "k=6" in dash_duo.driver.current_url, "k=6 in the address bar")
    dash_duo.wait_for_text_to_equal(f"#{ids.MAP_NOTE} span, #{ids.MAP_NOTE}",
                                    dash_duo.find_element(f"#{ids.MAP_NOTE}").text)
    dash_duo.wait_for_text_to_equal(f"#{ids.K_VALUE}", "k = 6")
    drag = ActionChains(dash_duo.driver).click_and_hold(handle).move_by_offset(45, 0)
    drag.perform()  # while the handle is held, the badge follows it and nothing is fitted
    wait_for(dash_duo, lambda: dash_duo.find_element(f"#{ids.K_VALUE}").text != "k = 6",
             "the badge following the dragged handle")
    dragged = int(dash_duo.find_element(f"#{ids.K_VALUE}").text.removeprefix("k = "))
    assert dragged > 6 and cards(dash_duo) == 6
    ActionChains(dash_duo.driver).release().perform()
    wait_for(dash_duo, lambda: cards(dash_duo) == dragged, f"{dragged} cards after the drag")
    assert dash_duo.get_logs() == []


def test_a_copied_link_restores_k_and_features(dash_duo, app):
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/segments?k=7&features=behaviour")
    wait_for(dash_duo, lambda: cards(dash_duo) == 7, "7 segment cards")
    checked = dash_duo.find_element(f"#{ids.FEATURE_PRESET} input:checked")
    assert checked.get_attribute("value") == "behaviour"
    assert "7 segments" in dash_duo.find_element(f"#{ids.MAP_NOTE}").text
    assert dash_duo.get_logs() == []


def test_lasso_selection_filters_distribution_and_kpis(dash_duo, app):
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/segments")
    wait_for(dash_duo, lambda: cards(dash_duo) == 4, "segment cards")
    plot = dash_duo.find_element(f"#{ids.SEGMENT_MAP} .nsewdrag")
    width, height = plot.size["width"], plot.size["height"]
    (ActionChains(dash_duo.driver).move_to_element(plot)
     .move_by_offset(-width // 2 + 5, -height // 2 + 5).click_and_hold()
     .move_by_offset(width // 2, 0).move_by_offset(0, height - 10)
     .move_by_offset(-width // 2, 0).move_by_offset(0, -(height - 10)).release().perform())
    dash_duo.wait_for_contains_text(f"#{ids.SEGMENT_KPIS}", "Selected on the map",
                                    timeout=TIMEOUT)
    selected = int(dash_duo.find_element(f"#{ids.SEGMENT_KPIS} .c2c-scope").text
                   .split(": ")[1].split()[0].replace(",", ""))
    assert 0 < selected < 9000
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script(
        plot_js(ids.DISTRIBUTION, "gd._fullData[0].name")) == "Selection",
        "a Selection box in the distribution")
    assert dash_duo.get_logs() == []


def test_sweep_runs_with_progress_and_use_this_k(dash_duo, app):
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/choose-k")
    dash_duo.find_element(f"#{ids.SWEEP_RUN}").click()
    dash_duo.wait_for_contains_text(f"#{ids.SWEEP_SUMMARY}", "Recommended: k =",
                                    timeout=TIMEOUT)
    assert dash_duo.find_element(f"#{ids.SWEEP_PROGRESS}").text == "11/11"
    assert dash_duo.driver.execute_script(plot_js(ids.SWEEP_FIGURE, "gd._fullData[0].x.length")) \
        == 11
    wait_for(dash_duo, lambda: dash_duo.find_element(f"#{ids.SWEEP_RUN}").is_enabled(),
             "run button enabled again")
    k = dash_duo.find_element(f"#{ids.SWEEP_SUMMARY} strong").text.split("= ")[1].rstrip(". ")
    dash_duo.find_element(f"#{ids.USE_K}").click()
    wait_for(dash_duo, lambda: cards(dash_duo) == int(k), f"{k} cards on the Segments page")
    assert dash_duo.get_logs() == []


def test_sweep_can_be_cancelled(dash_duo, app):
    dash_duo.start_server(app)
    # Gaussian mixtures over k = 2..15 take many seconds: time to cancel.
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/choose-k?algorithm=gmm")
    click_slider_mark(dash_duo, ids.SWEEP_RANGE, 15)
    dash_duo.find_element(f"#{ids.SWEEP_RUN}").click()
    wait_for(dash_duo, lambda: dash_duo.find_element(f"#{ids.SWEEP_CANCEL}").is_enabled(),
             "cancel enabled while running")
    dash_duo.find_element(f"#{ids.SWEEP_CANCEL}").click()
    dash_duo.wait_for_contains_text(f"#{ids.SWEEP_STATUS}", "Sweep cancelled", timeout=TIMEOUT)
    wait_for(dash_duo, lambda: dash_duo.find_element(f"#{ids.SWEEP_RUN}").is_enabled(),
             "run enabled again after cancel")
    dash_duo.driver.implicitly_wait(0)
    import time
    time.sleep(3)
    assert dash_duo.find_element(f"#{ids.SWEEP_SUMMARY}").text == ""
    assert dash_duo.get_logs() == []


def upload(dash_duo, path) -> None:
    dash_duo.find_element(f"#{ids.UPLOAD} input[type=file]").send_keys(str(path))


def test_bad_upload_keeps_the_data_and_a_good_one_replaces_it(dash_duo, app, tmp_path):
    bad = tmp_path / "broken_cards.csv"
    generate_demo_data(50, seed=1).drop(columns="CREDIT_LIMIT").to_csv(bad, index=False)
    good = tmp_path / "my_customers.csv"
    generate_demo_data(500, seed=2).to_csv(good, index=False)
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/data")
    dash_duo.wait_for_contains_text(f"#{ids.FOOTER}", "Demo customers", timeout=TIMEOUT)
    upload(dash_duo, bad)
    dash_duo.wait_for_contains_text(f"#{ids.UPLOAD_STATUS}", "CREDIT_LIMIT", timeout=TIMEOUT)
    assert "was not loaded" in dash_duo.find_element(f"#{ids.UPLOAD_STATUS}").text
    assert "Demo customers" in dash_duo.find_element(f"#{ids.FOOTER}").text
    upload(dash_duo, good)
    dash_duo.wait_for_contains_text(f"#{ids.FOOTER}", "my_customers.csv", timeout=TIMEOUT)
    assert "500 customers" in dash_duo.find_element(f"#{ids.FOOTER}").text
    dash_duo.find_element("a[href^='/segments']").click()
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script(
        plot_js(ids.SEGMENT_MAP, "gd._fullData[0].x.length")) == 500, "500 points on the map")
    assert dash_duo.get_logs() == []


def test_plan_a_campaign_reload_and_find_it_saved(dash_duo, app):
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/campaigns")
    tab = dash_duo.wait_for_element(f"#{ids.CAMPAIGN_TABS} .nav-item:nth-child(3) .nav-link",
                                    timeout=TIMEOUT)
    tab.click()
    name = dash_duo.wait_for_element("input[id*='\"field\":\"name\"']", timeout=TIMEOUT)
    name.clear()
    name.send_keys("Browser test plan\t")
    dash_duo.wait_for_contains_text(f"#{ids.PLAN_PROJECTION}", "ROI", timeout=TIMEOUT)
    click(dash_duo, f"#{ids.PLAN_SAVE}")
    dash_duo.wait_for_contains_text(f"#{ids.PLAN_STATUS}", "Browser test plan", timeout=TIMEOUT)
    dash_duo.driver.refresh()
    dash_duo.wait_for_element(f"#{ids.CAMPAIGN_TABS} .nav-item:nth-child(3) .nav-link",
                              timeout=TIMEOUT).click()
    wait_for(dash_duo, lambda: dash_duo.find_element(
        "input[id*='\"field\":\"name\"']").get_attribute("value") == "Browser test plan",
        "the saved plan is back after a reload")
    assert dash_duo.get_logs() == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_download_member_lists(dash_duo, app, fmt):
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/campaigns")
    click(dash_duo, f"#{ids.EXPORT_SCOPE} input[value='everyone']")
    click(dash_duo, f"#{ids.EXPORT_FORMAT} input[value='{fmt}']")
    click(dash_duo, f"#{ids.EXPORT_BUTTON}")
    dash_duo.wait_for_contains_text(f"#{ids.EXPORT_STATUS}", "9,000 customers exported",
                                    timeout=TIMEOUT)
    name = dash_duo.find_element(f"#{ids.EXPORT_STATUS}").text.split(" to ")[1].split(" (")[0]
    path = Path(dash_duo.download_path) / name
    wait_for(dash_duo, path.exists, f"{name} downloaded")
    frame = {"csv": pd.read_csv, "xlsx": pd.read_excel, "parquet": pd.read_parquet}[fmt](path)
    assert len(frame) == 9000 and frame["CUST_ID"].is_unique
    assert list(frame.columns[:6]) == ["CUST_ID", "segment", "segment_name",
                                       "distance_to_centre", "campaign_group", "plan_name"]
    assert dash_duo.get_logs() == []
