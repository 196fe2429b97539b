"""Choose k: a sweep is a job in the shared store, followed from any page load, and cancellable.

The callbacks are tested as plain functions (the job runs in this process), then in headless
Chromium: leave the page while a sweep runs, come back, and see it finish or cancel it.
"""

from __future__ import annotations

import json
import re
from contextvars import copy_context
from importlib import import_module

import numpy as np
import pytest
from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict
from sklearn.datasets import make_blobs

from core.demo import generate_demo_data
from core.loading import from_frame
from core.sweep import sweep_k
from dashapp import ids
from dashapp.store import get_store
from tests.dash_helpers import TIMEOUT, cards, click_slider_mark, plot_js, text_of, wait_for

TRIANGLE = np.array([[0, 0], [4, 0], [2, 3.5]])
# two far-apart groups of three blobs: k = 2 scores best, k = 6 finds every blob
NESTED, _ = make_blobs([100] * 6, centers=np.vstack([TRIANGLE, TRIANGLE + [30, 0]]),
                       cluster_std=0.5, random_state=3)
SWEEP_TIMEOUT = 120  # Gaussian mixtures over k = 2..8 take ~6 s alone, more on a busy machine


def follow(choose_k, job_id, state, *, tick: bool = True) -> tuple:
    """``follow_sweep`` as Dash runs it after a poll tick, or after a page load / new job."""
    trigger = f"{ids.SWEEP_POLL}.n_intervals" if tick else f"{ids.SWEEP_JOB}.data"

    def run():
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": trigger, "value": 1}]))
        return choose_k.follow_sweep(1, job_id, state)
    return copy_context().run(run)


def start(choose_k, k_range, state, previous=None) -> str:
    return choose_k.start_sweep(1, k_range, state, previous)


@pytest.mark.parametrize("k_range", [None, "2-12", [2], [2, "12"], [True, 5], [2.5, 6],
                                     [2, 3, 4]])
def test_run_refuses_a_range_that_is_not_two_whole_numbers(pages, demo_state, k_range):
    assert start(pages.choose_k, k_range, demo_state) is no_update


@pytest.mark.parametrize("job_id", [None, 7, "../../etc", "f" * 32, ["a"], {"id": 1}])
def test_an_unknown_or_forged_job_id_shows_an_idle_page(pages, demo_state, job_id):
    choose_k = pages.choose_k
    assert follow(choose_k, job_id, demo_state) == choose_k.IDLE
    assert choose_k.cancel_sweep(1, job_id) is no_update
    assert choose_k.run_sweep(job_id) is None
    assert start(choose_k, [2, 3], demo_state, previous=job_id) is not no_update


def test_a_job_runs_once_and_its_result_is_shown_and_offered(pages, demo_state):
    choose_k, state = pages.choose_k, {**demo_state, "seed": 21}  # settings no other test sweeps
    job_id = start(choose_k, [6, -4], state)  # clipped to k = 2..6
    assert choose_k._job(job_id)["ks"] == (2, 3, 4, 5, 6)
    view = follow(choose_k, job_id, state, tick=False)
    assert view[2] == "starting…" and view[5:8] == (True, False, False)
    assert view[9:] == (job_id, [2, 6])  # handed to a worker; the picker shows its range
    assert follow(choose_k, job_id, state)[9:] == (no_update, no_update)  # not on a tick
    choose_k.run_sweep(job_id)
    value, total, label, _, status, run_off, cancel_off, poll_off, done, _, _ = \
        follow(choose_k, job_id, state)
    assert (value, total, label, status) == (5, 5, "5/5", None)
    assert (run_off, cancel_off, poll_off, done) == (False, True, True, job_id)
    _, text, button, style = choose_k.show_stored_sweep(state, done)
    assert "Recommended: k =" in text_of(text) and style == {}
    assert choose_k.cancel_sweep(1, job_id) is no_update  # nothing left to cancel
    choose_k.run_sweep(job_id)  # a replayed start does not run it again
    assert choose_k._job(job_id)["status"] == "done"
    other = {**state, "features": "behaviour"}
    assert follow(choose_k, job_id, other, tick=False) == choose_k.IDLE  # another view's job


def test_a_cancelled_job_stops_before_its_next_k_and_says_so(pages, demo_state):
    choose_k, state = pages.choose_k, {**demo_state, "seed": 22}
    job_id = start(choose_k, [2, 9], state)
    assert choose_k.cancel_sweep(1, job_id) is True
    assert "Cancelling" in follow(choose_k, job_id, state)[4]
    choose_k.run_sweep(job_id)
    view = follow(choose_k, job_id, state)
    assert text_of(view[4]) == "Sweep cancelled after 0 of 8 values of k."
    assert view[3] == "secondary" and view[5:8] == (False, True, True)
    assert choose_k.show_stored_sweep(state)[3] == choose_k.HIDDEN  # no result was kept


def test_a_new_run_cancels_the_previous_one_and_a_stalled_job_frees_the_page(pages, demo_state):
    choose_k, state = pages.choose_k, {**demo_state, "seed": 23}
    first = start(choose_k, [2, 4], state)
    second = start(choose_k, [2, 5], state, previous=first)
    choose_k.run_sweep(first)
    assert choose_k._job(first)["status"] == "cancelled"
    job = choose_k._job(second)  # never started by a worker, silent for too long
    get_store().cache.set(choose_k._key("job", second),
                          {**job, "updated": job["updated"] - choose_k.STALL_SECONDS - 1})
    view = follow(choose_k, second, state)
    assert "may have stopped" in view[4] and view[5:8] == (False, False, False)
    assert choose_k.cancel_sweep(1, second) is True
    assert text_of(follow(choose_k, second, state)[4]).startswith("Sweep cancelled")


def test_when_k_2_scores_best_the_page_offers_the_best_k_of_3_or_more(pages, demo_state):
    choose_k, state = pages.choose_k, {**demo_state, "seed": 24}
    store = get_store()
    config = store.active(state).config
    store.keep_sweep(store.starting_id, config, sweep_k(NESTED, range(2, 9), n_init=3))
    figure, text, button, _ = choose_k.show_stored_sweep(state)
    assert "Recommended: k = 2." in text_of(text) and button.startswith("Use k = 2")
    assert "Two segments rarely make two useful campaigns." in text_of(text)
    assert "Best with 3 or more: k = 6." in text_of(text)
    assert choose_k.offer_alternative_k(state) == ("Use k = 6 on the Segments page", {})
    assert "k=6" in choose_k.use_alternative_k(1, state)
    assert "k=2" in choose_k.use_recommended_k(1, state)
    dotted = [s for s in figure.layout.shapes if s.line.dash == "dot"]
    assert len(dotted) == 4 and {s.x0 for s in dotted} == {6}
    assert figure.layout.title.text == "Recommended k = 2 (best k ≥ 3: 6)"
    assert choose_k.offer_alternative_k(demo_state)[1] == choose_k.HIDDEN


def test_a_sweep_that_cannot_run_says_why(pages):
    tiny = get_store().add(from_frame(generate_demo_data(6, seed=3), source="tiny.csv"))
    state = {"data": tiny}
    job_id = start(pages.choose_k, [2, 12], state)
    pages.choose_k.run_sweep(job_id)
    view = follow(pages.choose_k, job_id, state)
    assert "The sweep failed." in text_of(view[4]) and view[5:8] == (False, True, True)


def _text(dash_duo, component_id: str) -> str:
    return dash_duo.find_element(f"#{component_id}").text


def _leave_and_come_back(dash_duo) -> None:
    """To the Segments page by the navbar, then back to Choose k the same way."""
    dash_duo.find_element("a[href^='/segments']").click()
    wait_for(dash_duo, lambda: cards(dash_duo) > 0, "segment cards on the Segments page")
    dash_duo.find_element("a[href^='/choose-k']").click()
    dash_duo.wait_for_element(f"#{ids.SWEEP_RUN}", timeout=TIMEOUT)


def _job(dash_duo):
    """This tab's sweep job, as the shared store holds it."""
    job_id = json.loads(dash_duo.driver.execute_script(
        f"return window.sessionStorage.getItem('{ids.SWEEP_JOB}');"))
    return import_module("pages.choose_k")._job(job_id)


def _start(dash_duo, query: str, high: int) -> None:
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/choose-k?{query}")
    click_slider_mark(dash_duo, ids.SWEEP_RANGE, high)
    dash_duo.find_element(f"#{ids.SWEEP_RUN}").click()
    dash_duo.wait_for_contains_text(f"#{ids.SWEEP_STATUS}", "Sweeping k = 2 to", timeout=TIMEOUT)


@pytest.mark.browser
def test_a_sweep_left_running_shows_its_progress_and_result_on_coming_back(dash_duo, app):
    dash_duo.start_server(app)
    _start(dash_duo, "algorithm=gmm&seed=11", 8)  # settings no other test sweeps
    _leave_and_come_back(dash_duo)
    dash_duo.wait_for_contains_text(f"#{ids.SWEEP_STATUS}", "Sweeping k = 2 to 8",
                                    timeout=TIMEOUT)
    assert re.fullmatch(r"\d/7|starting…", _text(dash_duo, ids.SWEEP_PROGRESS))
    assert not dash_duo.find_element(f"#{ids.SWEEP_RUN}").is_enabled()
    wait_for(dash_duo, lambda: [i.get_attribute("value") for i in dash_duo.find_elements(
        f"#{ids.SWEEP_RANGE} input")] == ["2", "8"], "the job's range on the slider")
    dash_duo.wait_for_contains_text(f"#{ids.SWEEP_SUMMARY}", "Recommended: k =",
                                    timeout=SWEEP_TIMEOUT)
    assert _text(dash_duo, ids.SWEEP_PROGRESS) == "7/7"
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script(
        plot_js(ids.SWEEP_FIGURE, "gd._fullData[0].x.length")) == 7, "7 values of k drawn")
    wait_for(dash_duo, lambda: dash_duo.find_element(f"#{ids.SWEEP_RUN}").is_enabled(),
             "run button enabled again")
    assert _text(dash_duo, ids.SWEEP_STATUS) == ""
    assert _job(dash_duo)["status"] == "done"
    assert dash_duo.get_logs() == []


@pytest.mark.browser
def test_a_sweep_left_running_can_be_cancelled_on_coming_back(dash_duo, app):
    dash_duo.start_server(app)
    _start(dash_duo, "algorithm=gmm&seed=12", 15)  # ~30 s of fits: time to cancel
    _leave_and_come_back(dash_duo)
    wait_for(dash_duo, lambda: dash_duo.find_element(f"#{ids.SWEEP_CANCEL}").is_enabled(),
             "cancel enabled for the running sweep")
    dash_duo.find_element(f"#{ids.SWEEP_CANCEL}").click()
    dash_duo.wait_for_contains_text(f"#{ids.SWEEP_STATUS}", "Sweep cancelled",
                                    timeout=SWEEP_TIMEOUT)
    wait_for(dash_duo, lambda: dash_duo.find_element(f"#{ids.SWEEP_RUN}").is_enabled(),
             "run enabled again after cancel")
    assert not dash_duo.find_element(f"#{ids.SWEEP_CANCEL}").is_enabled()
    job = _job(dash_duo)
    assert job["status"] == "cancelled" and job["done"] < len(job["ks"]) == 14  # stopped early
    assert get_store().sweep(job["data"], job["config"]) is None
    assert _text(dash_duo, ids.SWEEP_SUMMARY) == ""
    assert dash_duo.get_logs() == []
