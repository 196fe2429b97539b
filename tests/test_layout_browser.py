"""Layout facts a marketer sees, in Chromium at 1,100 and 1,400 px wide: nothing cut, legends
where colour carries meaning, the navbar stays, no console errors."""

from __future__ import annotations

import pytest

from dashapp import ids
from tests.dash_helpers import TIMEOUT, cards, legend_entries, plot_js, wait_for

pytestmark = pytest.mark.browser

INSIDE = """
const [inner, outer] = [arguments[0], arguments[1]].map(
    s => document.querySelector(s).getBoundingClientRect());
return inner.width > 0 && inner.left >= outer.left - 1 && inner.right <= outer.right + 1
    && inner.top >= outer.top - 1 && inner.bottom <= outer.bottom + 1;
"""
OVERLAPS = """
const boxes = [...document.querySelectorAll(arguments[0])].map(m => m.getBoundingClientRect());
return boxes.some((a, i) => boxes.some((b, j) => i < j && a.right > b.left && b.right > a.left
    && a.bottom > b.top && b.bottom > a.top));
"""
CUT = """
return [...document.querySelectorAll(arguments[0])]
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent);
"""


def inside(dash_duo, inner: str, outer: str) -> bool:
    return dash_duo.driver.execute_script(INSIDE, inner, outer)


@pytest.mark.parametrize("width", [1100, 1400])
def test_segments_page_fits_its_width(dash_duo, app, width):
    dash_duo.start_server(app)
    dash_duo.driver.set_window_size(width, 1000)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/segments?k=8")
    wait_for(dash_duo, lambda: cards(dash_duo) == 8 and legend_entries(dash_duo) == 8,
             "8 cards and a legend entry for each segment")
    for graph, axis in ((ids.SEGMENT_MAP, "xtitle"), (ids.SEGMENT_MAP, "ytitle"),
                        (ids.DISTRIBUTION, "xtitle")):  # axis titles inside their charts
        assert inside(dash_duo, f"#{graph} .{axis}", f"#{graph} .main-svg"), (graph, axis)
    assert dash_duo.driver.execute_script(CUT, ".c2c-card-title, .c2c-kpi-title") == []
    assert not dash_duo.driver.execute_script(OVERLAPS, f"#{ids.K_SLIDER} .dash-slider-mark")
    dash_duo.driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script(
        "return window.scrollY > 500 && "
        "document.querySelector('.navbar').getBoundingClientRect().top === 0"),
        "the navbar stays at the top while the page scrolls")
    controls = dash_duo.driver.execute_script(
        "return document.querySelector('.c2c-controls').getBoundingClientRect().top")
    assert 56 <= controls < 120  # k and the features stay in reach under the navbar
    assert dash_duo.find_element(f"#{ids.MODEL_SETTINGS}").get_attribute("open") is None
    assert dash_duo.get_logs() == []


@pytest.mark.parametrize("width", [1100, 1400])
def test_overview_explains_its_colours_and_its_data(dash_duo, app, width):
    dash_duo.start_server(app)
    dash_duo.driver.set_window_size(width, 1000)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/")
    dash_duo.wait_for_contains_text(f"#{ids.KPI_ROW}", "Demo data", timeout=TIMEOUT)
    legend = dash_duo.find_element(".c2c-legend").text
    assert legend.startswith("Dots are coloured by segment") and "4 ·" in legend
    assert "Choose segments" in dash_duo.find_element(".c2c-intro").text
    for chart in range(6):  # the scatters and distributions: axis titles inside their charts
        wait_for(dash_duo, lambda c=chart: dash_duo.find_elements(
            f"#{ids.OVERVIEW_CHART}-{c} .ytitle"), f"chart {chart} drawn")
        for axis in ("xtitle", "ytitle"):
            graph = f"#{ids.OVERVIEW_CHART}-{chart}"
            assert inside(dash_duo, f"{graph} .{axis}", f"{graph} .main-svg"), (chart, axis)
    assert dash_duo.driver.execute_script(CUT, ".card-header, .c2c-kpi-title") == []
    assert dash_duo.get_logs() == []


def test_amounts_name_the_currency_it_is_given(dash_duo, app, monkeypatch):
    monkeypatch.setenv("C2C_CURRENCY", "€")
    dash_duo.start_server(app)
    dash_duo.driver.set_window_size(1100, 1000)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/")
    dash_duo.wait_for_contains_text(f"#{ids.KPI_ROW}", "TOTAL SPENDING", timeout=TIMEOUT)
    assert dash_duo.find_elements(".c2c-kpi-value")[-1].text.startswith("€")  # the spending
    balance = f"{ids.OVERVIEW_CHART}-3"  # the first distribution: balance
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script(
        plot_js(balance, "gd._fullLayout.xaxis.title.text")) == "Balance (€)",
        "the balance axis names the currency")
    ticks = [t.text for t in dash_duo.find_elements(f"#{balance} .xtick text")]
    assert ticks and all(t.startswith("€") for t in ticks), ticks
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/campaigns")
    dash_duo.wait_for_contains_text(f"#{ids.PORTFOLIO_PANEL}", "Total budget (€)",
                                    timeout=TIMEOUT)
    dash_duo.wait_for_contains_text(f"#{ids.PORTFOLIO_VIEW}", "€", timeout=TIMEOUT)
    assert dash_duo.get_logs() == []
