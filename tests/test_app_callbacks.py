"""Callbacks, view state, store and upload decoding, tested as plain functions."""

import time
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import replace

import flask
import numpy as np
import pytest
from dash import Patch, no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict
from plotly.graph_objects import Figure

from core.clustering import estimate_fit_seconds
from core.demo import generate_demo_data
from core.errors import DataValidationError
from core.loading import from_frame
from core.pipeline import SegmentationConfig
from core.sweep import sweep_k
from dashapp import ids
from dashapp.app import follow_state, state_from_url
from dashapp.state import ViewState, parse_query, parse_state, segment_numbers
from dashapp.store import Store, get_store, map_key, segmentation_cache_key
from dashapp.uploads import load_upload
from tests.conftest import UPLOAD_LIMIT
from tests.dash_helpers import data_url, text_of

# --- view state ---------------------------------------------------------------------------

def test_query_round_trip_and_defaults_left_out():
    view = ViewState("abc", SegmentationConfig(features=("BALANCE", "TENURE"), k=7, pca=0.9,
                                               random_state=3))
    assert parse_query(view.query()) == view
    assert ViewState().query() == ""


@pytest.mark.parametrize("query", [
    "?k=99", "?k=one", "?k=1", "?algorithm=drop%20table", "?scaling=minmax", "?pca=5",
    "?seed=-1", "?features=sed", "?features=BALANCE", "?data=" + "x" * 500,
])
def test_tampered_links_fall_back_to_defaults(query):
    view = parse_query(query)
    assert view.config == SegmentationConfig() and view.data is None


def test_segment_numbers_from_the_browser_are_checked():
    assert segment_numbers([3, "2", 1, 9, True, 3, None, 2.0], k=5) == [3, 1]
    assert segment_numbers("1,2", k=5) == [] and segment_numbers(None, k=5) == []


# --- store ----------------------------------------------------------------------------------

def test_numbers_follow_k_and_do_not_depend_on_the_path(app, tmp_path):
    store = get_store()
    four = store.segmentation(store.starting_id, SegmentationConfig(k=4))
    five = store.segmentation(store.starting_id, SegmentationConfig(k=5))
    for segment in range(1, 5):
        assert np.mean(five.labels[four.labels == segment] == segment) > 0.5
    fresh = Store(tmp_path / "other")  # a copied link opened on another server
    assert np.array_equal(fresh.segmentation(fresh.starting_id, SegmentationConfig(k=5)).labels,
                          five.labels)


def test_unknown_data_sets_fall_back_to_the_demo(app):
    store = get_store()
    assert store.active({"data": "nope", "k": 6}).data == store.starting_id
    assert store.active({"data": "nope", "k": 6}).config.k == 6


# --- uploads --------------------------------------------------------------------------------

@pytest.mark.parametrize(("contents", "message"), [
    ("", "damaged"), ("hello", "damaged"), ("data:text/csv;base64,@@@", "damaged"),
    (data_url(b"x" * (UPLOAD_LIMIT + 10)), "larger than the 5 MB limit"),
    (data_url(b"CUST_ID,BALANCE\nC1,1\n"), "CREDIT_LIMIT"),
])
def test_bad_uploads_are_explained(contents, message):
    with pytest.raises(DataValidationError, match=message):
        load_upload(contents, "cards.csv", UPLOAD_LIMIT)


def test_upload_callback_keeps_the_data_on_failure_and_switches_on_success(app, pages, demo_state):
    with app.server.app_context():  # the upload limit comes from the Flask config
        bad = pages.data.upload(data_url(b"CUST_ID,BALANCE\nC1,abc\n"), "bad.csv", demo_state)
        good_csv = generate_demo_data(300, seed=8).to_csv(index=False).encode()
        state, status = pages.data.upload(data_url(good_csv), "mine.csv", demo_state)
    assert bad[0] is no_update and "bad.csv" in text_of(bad[1])
    assert state["data"] != demo_state["data"] and get_store().has(state["data"])
    assert "300 customers" in text_of(status)
    assert pages.data.back_to_demo(1, state)[0]["data"] == get_store().starting_id
    assert pages.data.back_to_demo(None, state) == (no_update, no_update)


# --- app shell ------------------------------------------------------------------------------

def test_links_carry_the_state_and_stale_links_say_so(app):
    state, notice = state_from_url("?data=gone&k=6")
    assert state["k"] == 6 and state["data"] == get_store().starting_id
    assert "not available to you" in text_of(notice)
    footer, hrefs, query = follow_state(state, [{"page": "/"}, {"page": "/segments"}])
    assert "Demo customers" in text_of(footer) and "9,000 customers" in text_of(footer)
    assert hrefs == ["/" + query, "/segments" + query] and "k=6" in query


# --- segments page --------------------------------------------------------------------------


def test_settings_that_cannot_be_used_keep_the_view(pages, demo_state):
    state, error, _, _, request, _ = pages.segments.apply_controls(
        5, "custom", ["BALANCE", "FAVOURITE_COLOUR"], "kmeans", "standard", False, 42, demo_state,
        pages.segments.HIDDEN)
    assert state is no_update and request is no_update
    assert "cannot be used" in text_of(error) and "FAVOURITE_COLOUR" in text_of(error)
    state, error, status, stop, request, _ = pages.segments.apply_controls(
        6, "behaviour", [], "kmeans", "robust", True, 7, demo_state, pages.segments.HIDDEN)
    assert error is None and status is None and request is no_update and stop is no_update
    assert parse_state(state).config == SegmentationConfig(
        features="behaviour", k=6, scaling="robust", pca=0.9, random_state=7)


def test_a_k_change_fits_the_next_k_once_its_last_response_is_sent(app, pages, demo_state):
    store = get_store()
    config = SegmentationConfig(k=5, random_state=4242)  # a seed no other test fits
    state = {**demo_state, "k": 5, "seed": 4242}
    stored = {k: segmentation_cache_key(store.starting_id, replace(config, k=k)) for k in (4, 5, 6)}
    with app.server.test_request_context("/"):
        pages.segments.apply_controls(5, "seed", [], "kmeans", "standard", False, 4242,
                                      demo_state, pages.segments.HIDDEN)
        in_callback(pages.segments.render_segments, state, [], None, "TOTAL_SPENDING", None,
                    None, triggered=f"{ids.STATE}.data")
        assert store._stored(stored[5]) and store._stored(stored[4])
        assert not store._stored(stored[6])  # not while the response is on its way
        response = app.server.process_response(flask.Response("sent"))
    response.close()  # the server closes a response once it has sent it
    assert store._stored(stored[6])
    for k in (4, 6):
        assert store.stability_if_ready(store.starting_id, replace(config, k=k)) is not None


def test_two_workers_asking_for_one_result_compute_it_once(tmp_path):
    workers = [Store(tmp_path / "store") for _ in range(2)]  # one cache folder, as in gunicorn
    calls = []

    def compute():
        calls.append(1)
        time.sleep(0.2)  # long enough for the other worker to ask meanwhile
        return "fitted"

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda store: store._memo(("slow",), compute), workers))
    assert results == ["fitted", "fitted"] and len(calls) == 1


def test_prefetch_stays_off_when_it_is_turned_off(tmp_path):
    store = Store(tmp_path / "store", prefetch=False)
    view = ViewState(store.starting_id, SegmentationConfig(k=3))
    store.segmentation(view.data, view.config)
    store.prefetch_neighbours(view)
    assert not store._stored(segmentation_cache_key(store.starting_id, SegmentationConfig(k=4)))


@pytest.mark.parametrize("columns", [[], ["BALANCE"], None, "BALANCE,TENURE", [["x"], 3]])
def test_custom_without_two_columns_waits_without_an_error(pages, demo_state, columns):
    idle = pages.segments.HIDDEN  # the busy banner's style: no job running
    assert pages.segments.apply_controls(5, "custom", columns, "kmeans", "standard", False, 42,
                                         demo_state, idle)[:3] == (no_update, None, no_update)
    assert "Pick at least two columns" in pages.segments.describe_preset("custom")[0]


def test_slow_settings_go_to_the_background_job_and_come_back_from_the_store(pages,
                                                                            demo_state):
    state, error, _, stop, request, message = pages.segments.apply_controls(
        3, "seed", [], "gmm", "standard", False, 9137, demo_state,  # a seed of its own
        pages.segments.HIDDEN)
    assert state is no_update and error is None and stop is no_update
    assert set(request) == {"ticket", "algorithm"} and request["algorithm"] == "gmm"
    assert "Fitting Gaussian mixture on 9,000 customers…" in text_of(message)
    forged = {"ticket": "made-up", "algorithm": "gmm"}
    assert pages.segments.fit_in_background(forged, "nonce") == (no_update, no_update)
    done, error = pages.segments.fit_in_background(request, "nonce")
    wanted = SegmentationConfig(algorithm="gmm", k=3, random_state=9137)
    assert parse_state(done).config == wanted and error is None
    assert pages.segments.fit_in_background(request, "nonce") == (no_update, no_update)  # once
    assert get_store().fit_seconds(demo_state["data"], wanted) == 0
    controls = (3, "seed", [], "gmm", "standard", False, 9137)
    assert pages.segments.show_fitted(done, *controls, demo_state) == done
    moved_on = (3, "seed", [], "kmeans", "standard", False, 42)  # back to the view shown
    assert pages.segments.show_fitted(done, *moved_on, demo_state) is no_update
    again = pages.segments.apply_controls(3, "seed", [], "gmm", "standard", False, 9137,
                                          demo_state, pages.segments.HIDDEN)
    assert again[0] == done and again[4] is no_update  # now instant, from the store
    # while a job runs, any settings that do not start another one stop it
    assert pages.segments.apply_controls(4, "seed", [], "kmeans", "standard", False, 42,
                                         demo_state, {})[3] is not no_update


def test_cancel_puts_the_controls_back_and_says_so(pages, demo_state):
    request = {"ticket": "t", "algorithm": "agglomerative"}
    status, k, preset, columns, algorithm, *_ = pages.segments.fit_cancelled(
        1, request, {**demo_state, "k": 6, "features": "behaviour"})
    assert "Agglomerative (Ward) was cancelled" in text_of(status)
    assert (k, preset, columns, algorithm) == (6, "behaviour", [], "kmeans")
    assert pages.segments.fit_cancelled(None, request, demo_state) is no_update


def test_fit_seconds_counts_the_missing_fits_of_the_k_chain(app, demo_state):
    store = get_store()
    assert store.fit_seconds(store.starting_id, SegmentationConfig()) == 0  # warm at start
    rows = len(store.data(store.starting_id).frame)
    config = SegmentationConfig(k=5, random_state=9138)
    assert store.fit_seconds(store.starting_id, config) == pytest.approx(
        4 * estimate_fit_seconds("kmeans", rows, 4))  # k = 2..5, none fitted yet
    hdbscan = SegmentationConfig(algorithm="hdbscan", k=5, random_state=9138)
    assert store.fit_seconds(store.starting_id, hdbscan) == estimate_fit_seconds("hdbscan", rows, 5)


def test_map_is_drawn_once_then_only_recoloured(pages, demo_state):
    figure, key, note, *_ = pages.segments.draw_map({**demo_state, "k": 4}, None)
    assert isinstance(figure, Figure) and "4 segments" in text_of(note)
    patch, same_key, *_ = pages.segments.draw_map({**demo_state, "k": 5}, key)
    assert isinstance(patch, Patch) and same_key is no_update
    other, new_key, *_ = pages.segments.draw_map({**demo_state, "features": "behaviour"}, key)
    assert isinstance(other, Figure) and new_key != key


def test_hdbscan_shows_the_k_it_found_and_its_noise_share(pages, demo_state):
    state = {**demo_state, "algorithm": "hdbscan"}
    result = get_store().segmentation(get_store().starting_id, get_store().active(state).config)
    _, _, note, k_disabled, k_note = pages.segments.draw_map(state, None)
    noise = result.clusters.n_noise
    assert noise > 0  # the demo's overlapping groups leave some unclustered
    share = f"{noise:,} customers ({100 * noise / 9000:.1f}\u00a0%) fit no segment"
    assert share in text_of(note) and f"{result.k} segments" in text_of(note)
    assert k_disabled is True and k_note == f"HDBSCAN chooses k itself: found {result.k}"
    cards = pages.segments.draw_cards(state, None)
    assert share in text_of(cards[0]) and len(cards) == result.k + 1
    assert pages.segments.draw_map(demo_state, None)[3:] == (False, None)


def test_lasso_selection_narrows_kpis_distribution_and_heatmap(pages, demo_state):
    store = get_store()
    coords = store.projection(store.starting_id, SegmentationConfig()).coords
    drawn_on = map_key(store.active(demo_state))
    box = {"box": {"x": [float(coords[:, 0].min()), 0.0], "y": [-10.0, 10.0]}, "map": drawn_on}
    expected = int((coords[:, 0] <= 0).sum())
    mask = store.selection_mask(store.active(demo_state), box)
    assert store.selection_mask(store.active(demo_state), box) is mask  # tested once a render
    assert not mask.flags.writeable and int(mask.sum()) == expected
    assert f"Selected on the map: {expected:,} customers" in text_of(
        pages.segments.show_kpis(demo_state, box, None))
    assert pages.segments.draw_distribution(demo_state, "BALANCE", box, None).data[0].name \
        == "Selection"
    heatmap = pages.segments.draw_heatmap(demo_state, box, None)
    assert heatmap.data[0].y[0] == "Selection"
    lasso = {"lasso": {"x": [-100, 0, 0, -100], "y": [-100, -100, 100, 100]}, "map": drawn_on}
    assert f"{expected:,} customers" in text_of(pages.segments.show_kpis(demo_state, lasso, None))
    other_map = {**lasso, "map": map_key(store.active({**demo_state, "features": "behaviour"}))}
    assert "All customers" in text_of(pages.segments.show_kpis(demo_state, other_map, None))


def in_callback(function, *args, triggered: str = "view-state.data"):
    """Run ``function`` as Dash would for an input ``triggered`` (for code that reads ctx)."""
    def run():
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": triggered, "value": 1}]))
        return function(*args)
    return copy_context().run(run)


def test_one_render_draws_every_view_and_a_highlight_only_what_shows_it(pages, demo_state):
    render, views = pages.segments.render_segments, list(pages.segments.VIEWS)
    drawn = dict(zip(views, in_callback(render, demo_state, [2, 9], None, "TOTAL_SPENDING",
                                        None, None, triggered=f"{ids.STATE}.data"),
                     strict=True))
    assert len(drawn["options"]) == 4 and drawn["highlight"] == [2]  # 9 is not a segment
    assert no_update not in (drawn["map"], drawn["cards"], drawn["kpis"])
    assert drawn["migration_card"] == pages.segments.HIDDEN  # no previous k yet
    again = dict(zip(views, in_callback(render, demo_state, [2], None, "TOTAL_SPENDING",
                                        drawn["map_key"], drawn["history"],
                                        triggered=f"{ids.SEGMENT_FILTER}.value"), strict=True))
    changed = {name for name, value in again.items() if value is not no_update}
    assert changed == {"map", "cards", "kpis", "heatmap", "distribution"}
    assert "Highlighted segment 2: " in text_of(pages.segments.show_kpis(demo_state, None, [2]))
    cards = pages.segments.draw_cards(demo_state, [2])
    assert len(cards) == 4 and "c2c-highlighted" in cards[1].children.className


def test_a_k_change_keeps_kpis_that_do_not_depend_on_k(pages, demo_state):
    render, views = pages.segments.render_segments, list(pages.segments.VIEWS)
    first = dict(zip(views, in_callback(render, demo_state, [], None, "TOTAL_SPENDING", None,
                                        None, triggered=f"{ids.STATE}.data"), strict=True))

    def k_change(highlight):
        return dict(zip(views, in_callback(render, {**demo_state, "k": 5}, highlight, None,
                                           "TOTAL_SPENDING", first["map_key"], first["history"],
                                           triggered=f"{ids.STATE}.data"), strict=True))
    assert k_change([])["kpis"] is no_update  # all customers: the same for every k
    assert "Highlighted segment 2: " in text_of(k_change([2])["kpis"])  # segment 2 changed


def test_migration_needs_two_k_values(pages, demo_state):
    history = pages.segments.remember_previous({**demo_state, "k": 4}, None)
    assert pages.segments.draw_migration(history) is None  # nothing to compare: card hidden
    history = pages.segments.remember_previous({**demo_state, "k": 5}, history)
    sankey = pages.segments.draw_migration(history).data[0]
    assert len(sankey.node.label) == 4 + 5 and sum(sankey.link.value) == 9000


# --- overview and choose k -------------------------------------------------------------------

def test_overview_follows_the_segment_filter(pages, demo_state):
    everyone = pages.overview.show_overview(demo_state, None)
    assert "9,000" in text_of(everyone[0]) and len(everyone) == 2 + pages.overview.CHART_COUNT
    some = pages.overview.show_overview(demo_state, [1])
    size = get_store().segmentation(get_store().starting_id, SegmentationConfig()).profiles[0].size
    assert f"{size:,}" in text_of(some[0])


def test_sweep_result_is_kept_and_offers_its_k(pages, demo_state):
    demo_state = {**demo_state, "seed": 123}  # settings no other test sweeps
    assert pages.choose_k.show_stored_sweep(demo_state)[3] == pages.choose_k.HIDDEN
    store = get_store()
    config = SegmentationConfig(random_state=123)
    result = sweep_k(store.prepared(store.starting_id, config).matrix, range(2, 6))
    store.keep_sweep(store.starting_id, config, result)
    figure, text, button, style = pages.choose_k.show_stored_sweep(demo_state)
    assert f"k = {result.recommended_k}" in text_of(text) and style == {}
    href = pages.choose_k.use_recommended_k(1, demo_state)
    assert href == "/segments" + ViewState(demo_state["data"], SegmentationConfig(
        k=result.recommended_k, random_state=123)).query()


def test_stability_of_too_few_customers_says_so_instead_of_failing(pages):
    data = get_store().add(from_frame(generate_demo_data(12, seed=5), source="tiny.csv"))
    state = {"data": data, "k": 7}  # halves of 12 customers cannot hold 7 segments
    placeholders = [{"type": ids.STABILITY, "segment": s} for s in (1, 2)]
    badges = pages.segments.show_stability(placeholders, state)
    assert [text_of(b) for b in badges] == ["stability not measured (too few customers)"] * 2
