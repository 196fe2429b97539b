"""Segments page flows: slow fits in the background (busy state, cancel), HDBSCAN's own k and
noise, and "Custom…" before anything is picked; plus the rule that decides what is slow."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from core.clustering import (
    ALGORITHMS,
    MINIBATCH_THRESHOLD,
    SLOW_FIT_SECONDS,
    estimate_fit_seconds,
)
from core.errors import ConfigError
from core.pipeline import SegmentationConfig
from dashapp import ids
from dashapp.components import noise_text
from dashapp.store import get_store
from tests.dash_helpers import TIMEOUT, cards, click, wait_for

SHOTS = Path(__file__).resolve().parents[1] / ".tmp" / "shots"
DEMO_ROWS = 9_000

# --- the rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(("algorithm", "slow"), [
    ("kmeans", False), ("minibatch", False), ("birch", False),
    ("gmm", True), ("agglomerative", True), ("hdbscan", True),
])
def test_what_is_slow_on_the_demo_data(algorithm, slow):
    assert (estimate_fit_seconds(algorithm, DEMO_ROWS, 4) >= SLOW_FIT_SECONDS) is slow


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_estimates_grow_with_the_rows(algorithm):
    small, large = (estimate_fit_seconds(algorithm, n, 4) for n in (5_000, 10_000))
    assert 0 < small < large


def test_the_rule_follows_what_each_algorithm_does():
    assert estimate_fit_seconds("agglomerative", 20_000, 4) == pytest.approx(
        4 * estimate_fit_seconds("agglomerative", 10_000, 4))  # quadratic
    assert estimate_fit_seconds("gmm", 9_000, 8) == pytest.approx(
        2 * estimate_fit_seconds("gmm", 9_000, 4))  # a Gaussian per segment
    big = MINIBATCH_THRESHOLD + 1  # kmeans takes the minibatch path there
    assert estimate_fit_seconds("kmeans", big, 4) == estimate_fit_seconds("minibatch", big, 4)
    with pytest.raises(ConfigError, match="unknown algorithm"):
        estimate_fit_seconds("magic", 100, 4)


# --- in the browser -------------------------------------------------------------------------

def open_segments(dash_duo, app, query: str, k: int) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/segments{query}")
    wait_for(dash_duo, lambda: cards(dash_duo) == k, f"{k} segment cards")


def choose_algorithm(dash_duo, algorithm: str) -> None:
    settings = dash_duo.find_element(f"#{ids.MODEL_SETTINGS}")
    if settings.get_attribute("open") is None:  # folded away at the default settings
        settings.find_element(By.TAG_NAME, "summary").click()
    Select(dash_duo.find_element(f"#{ids.ALGORITHM}")).select_by_value(algorithm)


def busy(dash_duo) -> bool:
    return dash_duo.find_element(f"#{ids.FIT_BUSY}").is_displayed()


def settled(dash_duo) -> bool:
    """No callback waiting for the server."""
    return dash_duo.redux_state_rqs == []


def map_note(dash_duo) -> str:
    return dash_duo.find_element(f"#{ids.MAP_NOTE}").text


def fit_jobs() -> list[psutil.Process]:
    """Background jobs alive: forks of this process (the test server runs in it)."""
    me, jobs = psutil.Process(), []
    for child in me.children():
        try:
            if child.exe() == me.exe() and child.status() != psutil.STATUS_ZOMBIE:
                jobs.append(child)
        except psutil.NoSuchProcess:  # ended while we looked
            pass
    return jobs


def screenshot(dash_duo, name: str, top: str | None = None) -> None:
    """Save the window to .tmp/shots, scrolled so that ``top`` (a selector) heads it."""
    if top:
        element = dash_duo.find_element(top)
        dash_duo.driver.execute_script("document.activeElement.blur();"
                                       "arguments[0].scrollIntoView({block: 'start'})", element)
        wait_for(dash_duo, lambda: abs(dash_duo.driver.execute_script(
            "return arguments[0].getBoundingClientRect().top", element)) < 5, f"{top} in view")
    SHOTS.mkdir(parents=True, exist_ok=True)
    dash_duo.driver.save_screenshot(str(SHOTS / name))


@pytest.mark.browser
def test_agglomerative_shows_the_busy_state_then_its_segments(dash_duo, app):
    open_segments(dash_duo, app, "?k=3&seed=101", 3)  # a seed no other test fits
    choose_algorithm(dash_duo, "agglomerative")
    wait_for(dash_duo, lambda: busy(dash_duo), "the busy state")
    assert ("Fitting Agglomerative (Ward) on 9,000 customers…"
            in dash_duo.find_element(f"#{ids.FIT_BUSY}").text)
    screenshot(dash_duo, "segments_busy.png")
    assert "K-means" in map_note(dash_duo) and cards(dash_duo) == 3  # the old view stays up
    click(dash_duo, f"div[id*='{ids.SEGMENT_CARD}'][id*='\"segment\":2']")  # and usable
    dash_duo.wait_for_contains_text(f"#{ids.SEGMENT_KPIS}", "Highlighted segment 2: ",
                                    timeout=TIMEOUT)
    assert busy(dash_duo)
    dash_duo.wait_for_contains_text(f"#{ids.MAP_NOTE}", "Agglomerative (Ward)", timeout=TIMEOUT)
    wait_for(dash_duo, lambda: not busy(dash_duo), "the busy state gone")
    assert cards(dash_duo) == 3 and "algorithm=agglomerative" in dash_duo.driver.current_url
    assert dash_duo.find_element(f"#{ids.CONFIG_ERROR}").text == ""
    wait_for(dash_duo, lambda: settled(dash_duo) and "checking stability" not in
             dash_duo.find_element(f"#{ids.SEGMENT_CARDS}").text,
             "the stability badges")  # re-fits that take seconds
    assert dash_duo.get_logs() == []


@pytest.mark.browser
def test_cancel_keeps_the_previous_view_and_says_so(dash_duo, app):
    open_segments(dash_duo, app, "?k=4&seed=102", 4)
    before = map_note(dash_duo)
    choose_algorithm(dash_duo, "agglomerative")  # k = 2, 3, 4 to fit: several seconds
    wait_for(dash_duo, lambda: busy(dash_duo) and fit_jobs(), "the background job running")
    click(dash_duo, f"#{ids.FIT_CANCEL}")
    dash_duo.wait_for_contains_text(f"#{ids.FIT_STATUS}",
                                    "Fitting Agglomerative (Ward) was cancelled", timeout=TIMEOUT)
    wait_for(dash_duo, lambda: not busy(dash_duo), "the busy state gone")
    wait_for(dash_duo, lambda: not fit_jobs(), "the job stopped")
    wait_for(dash_duo, lambda: settled(dash_duo), "callbacks settled")
    assert dash_duo.find_element(f"#{ids.ALGORITHM}").get_attribute("value") == "kmeans"
    assert map_note(dash_duo) == before and cards(dash_duo) == 4
    assert "agglomerative" not in dash_duo.driver.current_url
    screenshot(dash_duo, "segments_cancelled.png")
    store = get_store()
    stopped = SegmentationConfig(algorithm="agglomerative", k=4, random_state=102)
    assert store.fit_seconds(store.starting_id, stopped) > 0  # never finished
    assert dash_duo.get_logs() == []


@pytest.mark.browser
def test_going_back_to_the_settings_shown_while_fitting_keeps_the_view(dash_duo, app):
    open_segments(dash_duo, app, "?k=2&seed=104", 2)
    before = map_note(dash_duo)
    choose_algorithm(dash_duo, "agglomerative")
    wait_for(dash_duo, lambda: busy(dash_duo), "the busy state")
    choose_algorithm(dash_duo, "kmeans")  # changed my mind: the job stops
    wait_for(dash_duo, lambda: not busy(dash_duo) and settled(dash_duo), "the job gone")
    wait_for(dash_duo, lambda: not fit_jobs(), "the job stopped")
    assert map_note(dash_duo) == before and "agglomerative" not in dash_duo.driver.current_url
    store = get_store()
    stopped = SegmentationConfig(algorithm="agglomerative", k=2, random_state=104)
    assert store.fit_seconds(store.starting_id, stopped) > 0  # stopped before it finished
    assert dash_duo.get_logs() == []


@pytest.mark.browser
def test_hdbscan_shows_the_k_it_found_and_the_noise_share(dash_duo, app):
    open_segments(dash_duo, app, "?seed=103", 4)
    choose_algorithm(dash_duo, "hdbscan")
    dash_duo.wait_for_contains_text(f"#{ids.K_NOTE}", "HDBSCAN chooses k itself: found",
                                    timeout=TIMEOUT)
    found = int(dash_duo.find_element(f"#{ids.K_NOTE}").text.rsplit(" ", 1)[1])
    wait_for(dash_duo, lambda: cards(dash_duo) == found, f"{found} segment cards")
    assert found != 4 and f"{found} segments" in map_note(dash_duo)
    assert dash_duo.find_element(f"#{ids.K_SLIDER} [role=slider]").get_attribute(
        "data-disabled") is not None
    result = get_store().segmentation(get_store().starting_id, SegmentationConfig(
        algorithm="hdbscan", random_state=103))
    noise = noise_text(result.clusters.n_noise, DEMO_ROWS)  # its wording: test_app_callbacks
    assert noise.replace("\xa0", " ") in map_note(dash_duo)  # selenium reads nbsp as a space
    assert noise in dash_duo.driver.execute_script(
        f"return document.getElementById('{ids.SEGMENT_CARDS}').textContent")
    names = [e.text for e in dash_duo.find_elements(".c2c-segment-card .card-header")]
    assert len(set(names)) == found and not any("segment" in name for name in names)
    wait_for(dash_duo, lambda: settled(dash_duo), "callbacks settled")
    screenshot(dash_duo, "segments_hdbscan.png")
    screenshot(dash_duo, "segments_hdbscan_cards.png", f"#{ids.SEGMENT_CARDS}")
    assert dash_duo.get_logs() == []


@pytest.mark.browser
def test_custom_with_nothing_picked_is_a_hint_not_an_error(dash_duo, app):
    open_segments(dash_duo, app, "", 4)
    before = map_note(dash_duo)
    click(dash_duo, f"#{ids.FEATURE_PRESET} input[value='custom']")
    dash_duo.wait_for_contains_text(f"#{ids.FEATURE_HELP}", "Pick at least two columns",
                                    timeout=TIMEOUT)
    wait_for(dash_duo, lambda: settled(dash_duo), "callbacks settled")
    assert dash_duo.find_elements(f"#{ids.CONFIG_ERROR} .alert") == []
    assert map_note(dash_duo) == before and cards(dash_duo) == 4
    assert dash_duo.get_logs() == []
