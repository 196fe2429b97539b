"""Degenerate data: fewer distinct customers than k is a clear error, never a smaller k.

Engine, sweep, command line and app, on demo customers whose behaviour repeats a few profiles
(or is the same for everyone), and on a feature that is constant for every customer.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dash import no_update
from dash.exceptions import PreventUpdate

from core import clustering
from core.cli import main
from core.clustering import ALGORITHMS, count_profiles, fit_clusters
from core.demo import generate_demo_data
from core.errors import ConfigError
from core.loading import from_frame
from core.pipeline import SegmentationConfig, prepare, segment_customers, sweep
from core.schema import BEHAVIOUR_COLUMNS
from core.stability import assess_stability
from core.sweep import _k_text
from dashapp import ids
from dashapp.store import get_store
from tests.dash_helpers import TIMEOUT, cards, click_slider_mark, text_of, wait_for

ROWS = 8_950
TWO = ("Only 2 distinct customer profiles among 8,950 customers on the chosen features (seed); "
       "k = 4 needs at least 4. Choose k of 2 or less, or other features.")
ONE = ("All 8,950 customers are identical on the chosen features (seed); there is nothing to "
       "segment. Choose other features.")
CONSTANT = "CASH_ADVANCE is 0 for every customer, so it cannot tell segments apart."
C2C = str(Path(sys.executable).with_name("c2c"))


def profiled(profiles: int, rows: int = ROWS) -> pd.DataFrame:
    """Demo customers whose 17 behavioural columns repeat ``profiles`` distinct customers."""
    frame = generate_demo_data(rows, seed=5)
    templates = frame.drop_duplicates("PURCHASES_TRX").index[:profiles]
    columns = list(BEHAVIOUR_COLUMNS)
    frame[columns] = frame.loc[templates[np.arange(rows) % profiles], columns].to_numpy()
    return frame


def all_zero(rows: int = ROWS) -> pd.DataFrame:
    """Demo customers with no activity at all (a one-year tenure)."""
    frame = generate_demo_data(rows, seed=5)
    frame[list(BEHAVIOUR_COLUMNS)] = 0.0
    frame["TENURE"] = 12.0
    return frame


def no_cash_advances(rows: int = 2_000) -> pd.DataFrame:
    frame = generate_demo_data(rows, seed=6)
    frame["CASH_ADVANCE"] = 0.0
    return frame


@pytest.fixture(autouse=True)
def warnings_are_errors(request):
    """A ConvergenceWarning (or any other) fails the test instead of scrolling past; browser
    tests check the browser's logs instead."""
    with warnings.catch_warnings():
        if not request.node.get_closest_marker("browser"):
            warnings.simplefilter("error")
        yield


def raised(call) -> str:
    with pytest.raises(ConfigError) as info:
        call()
    return str(info.value)


# --- engine ---------------------------------------------------------------------------------

def test_two_profiles_and_k_4_is_an_error_naming_the_numbers():
    data = from_frame(profiled(2), source="two.csv")
    assert raised(lambda: segment_customers(data, SegmentationConfig(k=4))) == TWO
    two = segment_customers(data, SegmentationConfig(k=2))
    assert two.k == 2 and np.isfinite(two.metrics["silhouette"])


@pytest.mark.parametrize("frame", [all_zero, lambda: profiled(1)], ids=["all-zero", "constant"])
@pytest.mark.parametrize("algorithm", ["kmeans", "hdbscan"])
def test_one_profile_has_nothing_to_segment(frame, algorithm):
    data = from_frame(frame(), source="same.csv")
    config = SegmentationConfig(k=4, algorithm=algorithm)
    assert raised(lambda: segment_customers(data, config)) == ONE


def test_a_custom_feature_set_is_named_by_its_columns():
    data = from_frame(profiled(2), source="two.csv")
    config = SegmentationConfig(features=("PURCHASES_TRX", "BALANCE"), k=3)
    assert "on the chosen features (PURCHASES_TRX, BALANCE); k = 3" in raised(
        lambda: segment_customers(data, config))


@pytest.mark.parametrize("algorithm", [a for a in ALGORITHMS if a != "hdbscan"])
def test_every_algorithm_refuses_more_segments_than_profiles(algorithm):
    X = np.repeat(np.eye(4)[:3] * 3, 50, axis=0)
    assert raised(lambda: fit_clusters(X, algorithm=algorithm, k=4)) == (
        "Only 3 distinct customer profiles among 150 customers on the chosen features; k = 4 "
        "needs at least 4. Choose k of 3 or less, or other features.")
    assert fit_clusters(X, algorithm=algorithm, k=3).k == 3


def test_birch_refuses_profiles_closer_than_its_radius_instead_of_merging_them():
    X = np.repeat(np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0]]), 50, axis=0)
    assert raised(lambda: fit_clusters(X, algorithm="birch", k=3)) == (
        "birch found only 2 groups of similar customers, fewer than k = 3; choose k of 2 or "
        "less, or use kmeans.")
    assert fit_clusters(X, algorithm="kmeans", k=3).k == 3


def test_profiles_are_counted_exactly_below_the_limit_and_capped_above_it():
    X = np.zeros((100_000, 17))
    X[77_777, 3] = 1.0  # one customer the strided sample does not hold
    assert count_profiles(X, 5) == 2
    assert count_profiles(np.array([[0.0, 1.0], [-0.0, 1.0]]), 5) == 1
    assert count_profiles(np.random.default_rng(1).normal(size=(10_000, 3)), 4) == 4


def test_minibatch_keeps_a_rare_profile_its_sample_misses(monkeypatch):
    monkeypatch.setattr(clustering, "MINIBATCH_THRESHOLD", 1_000)
    monkeypatch.setattr(clustering, "_MINIBATCH_SAMPLE_ROWS", 200)
    X = np.repeat(np.eye(4)[:3] * 10, 1_000, axis=0)
    X = np.vstack([X, np.eye(4)[3:] * 10])  # a fourth profile held by one customer
    sample = np.random.default_rng(42).choice(len(X), 200, replace=False)
    assert len(X) - 1 not in sample  # the case under test
    result = fit_clusters(X, k=4)
    assert result.algorithm == "minibatch" and result.k == 4
    assert result.labels[-1] == 4 and np.bincount(result.labels)[1:].tolist() == [1000] * 3 + [1]


# --- sweep ----------------------------------------------------------------------------------

def test_a_sweep_fits_only_the_k_the_profiles_allow_and_says_which_were_left_out():
    data = from_frame(profiled(5), source="five.csv")
    result = sweep(data, SegmentationConfig(n_init=2), range(2, 13))
    assert result.table["k"].tolist() == [2, 3, 4, 5]
    assert result.left_out_k == tuple(range(6, 13))
    assert 2 <= result.recommended_k <= 5
    assert result.reason.endswith(
        " k = 6 to 12 were left out: there are only 5 distinct customer profiles among 8,950 "
        "customers on the chosen features (seed).")


def test_a_sweep_with_no_feasible_k_is_an_error():
    five = from_frame(profiled(5), source="five.csv")
    assert raised(lambda: sweep(five, SegmentationConfig(), range(6, 13))).startswith(
        "Only 5 distinct customer profiles among 8,950 customers on the chosen features (seed); "
        "k = 6 needs at least 6.")
    same = from_frame(all_zero(), source="zero.csv")
    assert raised(lambda: sweep(same, SegmentationConfig(), range(2, 13))) == ONE


@pytest.mark.parametrize(("ks", "text"), [
    ((6,), "k = 6"), ((6, 8), "k = 6 and 8"), ((6, 7), "k = 6 and 7"),
    ((6, 7, 8), "k = 6 to 8"), ((6, 8, 10), "k = 6, 8 and 10"),
])
def test_left_out_k_read_as_a_list(ks, text):
    assert _k_text(ks) == text


# --- a feature that is the same for every customer ------------------------------------------

@pytest.mark.parametrize("scaling", ["standard", "robust"])
@pytest.mark.parametrize("pca", [None, 0.9])
def test_a_constant_column_scales_to_numbers_and_is_named(scaling, pca):
    data = from_frame(no_cash_advances(), source="no_cash.csv")
    config = SegmentationConfig(features="behaviour", scaling=scaling, pca=pca)
    prepared = prepare(data, config)
    assert np.isfinite(prepared.matrix).all() and prepared.warnings == (CONSTANT,)
    assert segment_customers(data, config).k == 4


def test_every_constant_column_is_named_and_identical_customers_give_no_nan():
    frame = no_cash_advances()
    frame["TENURE"] = 12.0
    prepared = prepare(from_frame(frame), SegmentationConfig(features="behaviour"))
    assert prepared.warnings == (CONSTANT, "TENURE is 12 for every customer, so it cannot tell "
                                           "segments apart.")
    same = prepare(from_frame(all_zero(500)), SegmentationConfig(pca=0.9))
    assert np.isfinite(same.matrix).all() and len(same.warnings) == 5


# --- command line ---------------------------------------------------------------------------

def c2c(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([C2C, *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(("frame", "message"), [(lambda: profiled(2), TWO), (all_zero, ONE)],
                         ids=["two-profiles", "all-zero"])
def test_fit_exits_2_with_one_line_and_no_warnings(tmp_path, frame, message):
    path = tmp_path / "customers.csv"
    frame().to_csv(path, index=False)
    done = c2c("fit", "--data", str(path), "--k", "4", "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and done.stderr == f"c2c: error: {message}\n"
    assert "Warning" not in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_sweep_and_fit_say_what_they_left_out_or_cannot_use(tmp_path):
    five, no_cash = tmp_path / "five.csv", tmp_path / "no_cash.csv"
    profiled(5).to_csv(five, index=False)
    no_cash_advances().to_csv(no_cash, index=False)
    swept = c2c("sweep", "--data", str(five), "--out", str(tmp_path / "sweep.csv"))
    assert swept.returncode == 0 and swept.stderr == ""
    assert "k = 6 to 12 were left out: there are only 5 distinct" in swept.stdout
    assert pd.read_csv(tmp_path / "sweep.csv")["k"].tolist() == [2, 3, 4, 5]
    fitted = c2c("fit", "--data", str(no_cash), "--features", "behaviour", "--out",
                 str(tmp_path / "fit"))
    assert fitted.returncode == 0 and fitted.stderr == ""
    assert f"warning: {CONSTANT}" in fitted.stdout and "4 segments" in fitted.stdout


def test_fit_says_when_the_silhouette_cannot_be_computed(tmp_path, capsys):
    frame, columns = profiled(2, rows=5_000), list(BEHAVIOUR_COLUMNS)
    frame.loc[:4_998, columns] = frame.loc[0, columns].to_numpy()  # only the last one differs
    path = tmp_path / "one_outlier.csv"
    frame.to_csv(path, index=False)
    assert main(["fit", "--data", str(path), "--k", "2", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out  # the seeded silhouette sample misses the one outlier
    assert "silhouette not computed (its sample of customers holds one segment only)" in out
    assert "nan" not in out


# --- app: Segments and Choose k -------------------------------------------------------------

def added(frame: pd.DataFrame, name: str) -> dict:
    """The view state of ``frame`` added to the app's store."""
    return {"data": get_store().add(from_frame(frame, source=name))}


def controls(k: int) -> tuple:
    return (k, "seed", [], "kmeans", "standard", False, 42)


def test_segments_page_keeps_the_view_and_names_the_numbers(pages):
    segments = pages.segments
    state = {**added(profiled(2), "two.csv"), "k": 2}
    new_state, error, *_, request, _ = segments.apply_controls(*controls(4), state,
                                                               segments.HIDDEN)
    assert new_state is no_update and request is no_update
    assert "cannot be used" in text_of(error) and TWO in text_of(error)  # k = 4, not 3
    assert segments.explain_unusable_view(state) is None
    assert "2 segments" in text_of(segments.draw_map(state, None)[2])


def test_segments_page_opened_on_unusable_settings_says_why_and_draws_nothing(pages):
    segments = pages.segments
    state = {**added(profiled(2), "two.csv"), "k": 4}
    assert TWO in text_of(segments.explain_unusable_view(state))
    for draw in (lambda: segments.draw_map(state, None), lambda: segments.draw_cards(state, None),
                 lambda: segments.show_kpis(state, None, None)):
        with pytest.raises(PreventUpdate):
            draw()
    assert segments.draw_migration([state, {**state, "k": 2}]) is None  # no migration view
    fitted, error, *_ = segments.apply_controls(*controls(2), state, segments.HIDDEN)
    assert fitted["k"] == 2 and error is None


def test_overview_and_campaigns_say_why_instead_of_failing(pages):
    state = {**added(profiled(2), "two.csv"), "k": 4}
    kpis, *charts, quality = pages.overview.show_overview(state, None)
    assert TWO in text_of(kpis) and all(c is no_update for c in (*charts, quality))
    assert pages.overview.filter_options(state) == []
    assert TWO in text_of(pages.campaigns.show_portfolio(1000, state, None))
    for tab in (lambda: pages.campaigns.build_tabs(state),
                lambda: pages.campaigns.show_tab("1", state)):
        with pytest.raises(PreventUpdate):
            tab()


def test_segments_page_names_a_constant_feature(pages):
    state = {**added(no_cash_advances(), "no_cash.csv"), "features": "behaviour"}
    assert CONSTANT in text_of(pages.segments.draw_map(state, None)[2])


def run_sweep(choose_k, state: dict) -> tuple:
    """Start, run and follow a sweep over k = 2..12 as the page does."""
    job_id = choose_k.start_sweep(1, [2, 12], state, None)
    choose_k.run_sweep(job_id)
    return job_id, choose_k._job(job_id)


def test_choose_k_shows_the_k_left_out_or_why_it_cannot_sweep(pages):
    choose_k = pages.choose_k
    five = added(profiled(5), "five.csv")
    job_id, job = run_sweep(choose_k, five)
    assert job["status"] == "done"
    _, text, button, style = choose_k.show_stored_sweep(five, job_id)
    assert "k = 6 to 12 were left out: there are only 5 distinct" in text_of(text)
    assert style == {}
    same = added(all_zero(), "zero.csv")
    _, job = run_sweep(choose_k, same)
    assert job["status"] == "failed" and job["error"] == ONE


@pytest.mark.browser
def test_loading_two_profiles_shows_why_then_k_2_works(dash_duo, app, tmp_path):
    path = tmp_path / "two_profiles.csv"
    profiled(2).to_csv(path, index=False)
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/data")
    dash_duo.find_element(f"#{ids.UPLOAD} input[type=file]").send_keys(str(path))
    dash_duo.wait_for_contains_text(f"#{ids.FOOTER}", "two_profiles.csv", timeout=TIMEOUT)
    dash_duo.find_element("a[href^='/segments']").click()
    dash_duo.wait_for_contains_text(f"#{ids.FIT_STATUS}", TWO, timeout=TIMEOUT)
    assert cards(dash_duo) == 0
    click_slider_mark(dash_duo, ids.K_SLIDER, 2)
    wait_for(dash_duo, lambda: cards(dash_duo) == 2, "2 segment cards")
    assert dash_duo.find_element(f"#{ids.FIT_STATUS}").text == ""
    assert dash_duo.get_logs() == []


def test_stability_scores_a_rare_profile_a_subsample_misses_instead_of_failing():
    X = np.zeros((200, 2))
    X[0] = 5.0  # one customer unlike the others: half the subsamples miss them
    labels = np.where(np.arange(200) == 0, 2, 1)
    result = assess_stability(X, labels, k=2, n_resamples=6, sample_fraction=0.5, n_init=1,
                              random_state=3)
    assert result.jaccard[1] == pytest.approx(1.0) and 0 <= result.jaccard[2] <= 1
