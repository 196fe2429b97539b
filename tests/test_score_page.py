"""Score page: one customer, model.json download and upload, batch scoring; one browser test."""

import base64
import io
import json
from importlib import import_module
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dash import no_update
from selenium.webdriver.common.action_chains import ActionChains

from core.demo import generate_demo_data
from core.model import SegmentModel
from core.pipeline import SegmentationConfig
from core.schema import BEHAVIOUR_COLUMNS, COLUMN_BY_NAME, ID_COLUMN
from dashapp import ids
from dashapp.store import get_store
from tests.dash_helpers import TIMEOUT, click, data_url, fetched, text_of, wait_for

FIELD_IDS = [{"type": ids.SCORE_FIELD, "column": c} for c in BEHAVIOUR_COLUMNS]


@pytest.fixture
def score(app):
    """The page module as Dash imported it."""
    return import_module("pages.score")


@pytest.fixture
def current(app):
    """The demo data's segmentation with default settings (what ``demo_state`` shows)."""
    store = get_store()
    return store.segmentation(store.starting_id, SegmentationConfig())


def form_values(row: pd.Series) -> list[float]:
    return [float(row[c]) for c in BEHAVIOUR_COLUMNS]


def model_upload(payload) -> str:
    text = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return data_url(text, "application/json")


def downloaded(result: dict) -> bytes:
    return base64.b64decode(result["content"]) if result["base64"] else result["content"].encode()


# --- one customer ---------------------------------------------------------------------------

def test_form_is_every_column_once(score):
    columns = [c for stack in score.FORM for _, group in stack for c in group]
    assert sorted(columns) == sorted(BEHAVIOUR_COLUMNS)


def test_form_finds_the_segment_the_model_predicts(score, current, demo_state):
    frame = current.prepared.frame
    for segment in range(1, current.k + 1):
        row = int(np.flatnonzero(current.labels == segment)[0])
        expected, _ = current.model.predict(frame.iloc[[row]])
        result = score.find_segment(1, None, form_values(frame.iloc[row]), FIELD_IDS, demo_state)
        name = current.profiles[expected[0] - 1].name
        assert f"{expected[0]} · {name}" in text_of(result)
        assert current.profiles[expected[0] - 1].description in text_of(result)


def test_median_customer_prefills_and_scores(score, current, demo_state):
    values, _ = score.fill_median(demo_state, None, FIELD_IDS)
    assert values[BEHAVIOUR_COLUMNS.index("TENURE")] == 12
    result = text_of(score.find_segment(1, None, values, FIELD_IDS, demo_state))
    assert any(f"· {p.name}" in result for p in current.profiles)
    assert "Distance to the segment's centre" in result


def test_purchases_that_are_not_the_sum_of_their_parts_are_noted(score, current, demo_state):
    values, _ = score.fill_median(demo_state, None, FIELD_IDS)
    assert "was scored as one-off" not in text_of(
        score.find_segment(1, None, values, FIELD_IDS, demo_state))
    values[BEHAVIOUR_COLUMNS.index("PURCHASES")] += 500
    assert "was scored as one-off + installment purchases" in text_of(
        score.find_segment(1, None, values, FIELD_IDS, demo_state))


@pytest.mark.parametrize(("column", "value", "message"), [
    ("BALANCE", None, "Balance is empty: enter a number between 0 and 100,000,000."),
    ("CREDIT_LIMIT", "", "Credit limit is empty: enter a number between 0 and 100,000,000."),
    ("TENURE", " ", "Tenure (months) is empty: enter a whole number between 6 and 12."),
    ("CASH_ADVANCE", -5, "Cash advance must be between 0 and 100,000,000; got -5."),
    ("PURCHASES_FREQUENCY", "3", "Purchase frequency must be between 0 and 1; got 3."),
    ("PURCHASES_TRX", 2.5, "Purchase transactions must be a whole number; got 2.5."),
    ("TENURE", "30", "Tenure (months) must be between 6 and 12; got 30."),
    ("TENURE", 13, "Tenure (months) must be between 6 and 12; got 13."),
    ("PAYMENTS", "lots", "Payments must be a number between 0 and 100,000,000; got 'lots'."),
    ("PAYMENTS", "1e999", "Payments must be a number between 0 and 100,000,000; got '1e999'."),
    ("CASH_ADVANCE_TRX", "4,5", "Cash-advance transactions must be a whole number between 0 and "
                                "100,000; got '4,5'."),
])
def test_unusable_fields_are_named(score, current, demo_state, column, value, message):
    values = form_values(current.prepared.frame.iloc[0])
    values[BEHAVIOUR_COLUMNS.index(column)] = value
    result, marked, feedback = score.find_segment(1, None, values, FIELD_IDS, demo_state)
    assert "Check these fields" in text_of(result) and message in text_of(result)
    index = BEHAVIOUR_COLUMNS.index(column)
    assert marked == [i == index for i in range(len(BEHAVIOUR_COLUMNS))]
    assert feedback[index] == message


@pytest.mark.parametrize("column", BEHAVIOUR_COLUMNS)
@pytest.mark.parametrize("case", ["empty", "text", "too low", "too high"])
def test_every_field_says_what_it_takes(score, current, demo_state, column, case):
    low, high, *_ = score.RANGES[COLUMN_BY_NAME[column].kind]
    values = form_values(current.prepared.frame.iloc[0])
    values[BEHAVIOUR_COLUMNS.index(column)] = {"empty": "", "text": "abc", "too low": low - 1,
                                               "too high": high * 10}[case]
    result, marked, feedback = score.find_segment(1, None, values, FIELD_IDS, demo_state)
    assert sum(marked) == 1 and marked[BEHAVIOUR_COLUMNS.index(column)]
    message = feedback[BEHAVIOUR_COLUMNS.index(column)]
    assert message.startswith(COLUMN_BY_NAME[column].label)
    assert f"between {low:,.0f} and {high:,.0f}" in message
    assert message in text_of(result)


def test_a_valid_form_clears_the_marks(score, current, demo_state):
    values = form_values(current.prepared.frame.iloc[0])
    result, marked, feedback = score.find_segment(1, None, values, FIELD_IDS, demo_state)
    assert "This customer belongs to" in text_of(result)
    assert marked == [False] * len(BEHAVIOUR_COLUMNS) and feedback == [None] * len(marked)
    assert score.fill_median(demo_state, None, FIELD_IDS)[1] == [False] * len(marked)


def test_tampered_form_input_is_explained(score, demo_state):
    result, marked, _ = score.find_segment(1, None, None, None, demo_state)
    assert text_of(result).count("is empty") == len(BEHAVIOUR_COLUMNS) and marked == []
    tampered = [{"type": ids.SCORE_FIELD, "column": ["TENURE"]}, "x", None]
    result, marked, _ = score.find_segment(1, None, [12, 1, 2], tampered, demo_state)
    assert text_of(result).count("is empty") == len(BEHAVIOUR_COLUMNS)
    assert marked == [False] * 3
    assert "is empty" in text_of(score.find_segment(1, None, 5, {"a": 1}, demo_state)[0])
    assert score.find_segment(None, None, [], [], demo_state) is no_update


# --- model.json -----------------------------------------------------------------------------

def test_model_download_round_trips(score, current, demo_state):
    result = score.download_model(1, demo_state)
    assert result["filename"] == "model_Demo-customers-synthetic_k4.json"
    model = SegmentModel.from_json(downloaded(result))
    frame = current.prepared.frame.iloc[:500]
    pd.testing.assert_frame_equal(model.score(frame), current.model.score(frame))
    assert score.download_model(None, demo_state) is no_update


def _with(model: SegmentModel, **changes) -> dict:
    return {**model.to_dict(), **changes}


@pytest.mark.parametrize(("payload", "message"), [
    (b"hello", "not valid JSON"),
    (b"\xff\xfe", "not UTF-8"),
    ({"format": "something/else"}, "not a Clusters to Campaigns model file"),
    ("version", "schema version 99 is not supported"),
    ("columns", "FAVOURITE_COLOUR"),
    ("centres", "'centres' has the wrong shape"),
    (b"[" * 100_000, "not valid JSON"),
])
def test_bad_model_uploads_are_explained_and_change_nothing(score, current, payload, message):
    model = current.model
    if payload == "version":
        payload = _with(model, schema_version=99)
    elif payload == "columns":
        features = model.to_dict()["feature_set"]
        payload = _with(model, feature_set={
            **features, "columns": [*features["columns"][:-1], "FAVOURITE_COLOUR"]})
    elif payload == "centres":
        payload = _with(model, centres=model.centres[:, :2].tolist())
    stored, status = score.upload_model(model_upload(payload), "model.json")
    assert stored is no_update
    assert "model.json was not used" in text_of(status) and message in text_of(status)


def test_damaged_upload_is_explained(score):
    stored, status = score.upload_model("data:application/json;base64,@@", "model.json")
    assert stored is no_update and "damaged" in text_of(status)


def test_uploaded_model_scores_until_dropped(score, current, demo_state):
    other = get_store().segmentation(get_store().starting_id, SegmentationConfig(k=5)).model
    stored, status = score.upload_model(model_upload(other.to_json().encode()), "five.json")
    assert "Scoring with five.json (5 segments)" in text_of(status)
    info, reset_disabled = score.describe_model(demo_state, stored)
    assert "Uploaded model" in text_of(info) and "5 segments" in text_of(info)
    assert reset_disabled is False
    row = current.prepared.frame.iloc[[7]]
    expected, _ = other.predict(row)
    result = text_of(score.find_segment(1, stored, form_values(row.iloc[0]), FIELD_IDS,
                                        demo_state))
    assert f"{expected[0]} · {other.names[expected[0] - 1]}" in result
    assert "uploaded file five.json" in result
    assert score.use_current_model(1) == (None, None)
    info, reset_disabled = score.describe_model(demo_state, None)
    assert "Uploaded model" not in text_of(info) and reset_disabled is True


def test_tampered_model_store_falls_back_to_the_current_model(score, current, demo_state):
    used = score.page_model(demo_state, {"name": "x.json", "json": '{"format": 1}'})
    assert used.model is current.model and not used.uploaded


# --- many customers -------------------------------------------------------------------------

def test_batch_counts_sum_to_the_rows_and_the_csv_matches(app, score, current, demo_state):
    customers = generate_demo_data(300, seed=5)
    customers.loc[0, ID_COLUMN] = "=HYPERLINK(\"http://x\")"
    with app.server.app_context():
        batch, status = score.upload_batch(data_url(customers.to_csv(index=False).encode()),
                                           "new.csv")
    assert status is None
    summary, disabled = score.summarise_batch(batch, None, demo_state)
    assert "300 customers scored" in text_of(summary) and disabled is False
    scored, used, _ = score.score_batch(batch, demo_state, None)
    counts = score.segment_counts(scored, used.model)
    assert sum(c for *_, c in counts) == 300 and len(counts) == current.k
    for segment, name, count in counts:
        assert f"{segment} · {name}" in text_of(summary) and f"{count:,}" in text_of(summary)
    result = score.download_scored(1, batch, None, demo_state)
    assert result["filename"] == "scored_new_k4.csv"
    written = pd.read_csv(io.BytesIO(fetched(result)), encoding="utf-8-sig",
                          dtype={ID_COLUMN: str})
    assert list(written.columns) == [ID_COLUMN, "segment", "segment_name", "distance_to_centre"]
    assert written[ID_COLUMN].iloc[0] == '=HYPERLINK("http://x")'  # ids stay exact
    assert (written[ID_COLUMN].iloc[1:] == customers[ID_COLUMN].iloc[1:].to_numpy()).all()
    expected = current.model.score(get_store().data(batch["data"]).frame)
    assert (written["segment"] == expected["segment"]).all()
    np.testing.assert_allclose(written["distance_to_centre"], expected["distance_to_centre"])


def test_bad_batch_file_shows_the_loaders_message(app, score, demo_state):
    broken = generate_demo_data(20, seed=1).drop(columns="CREDIT_LIMIT")
    with app.server.app_context():
        batch, status = score.upload_batch(data_url(broken.to_csv(index=False).encode()),
                                           "broken.csv")
    assert batch is no_update
    assert "broken.csv was not scored" in text_of(status) and "CREDIT_LIMIT" in text_of(status)
    gone, disabled = score.summarise_batch({"data": "expired"}, None, demo_state)
    assert "no longer on the server" in text_of(gone) and disabled is True
    assert score.download_scored(1, {"data": "expired"}, None, demo_state) is no_update


# --- in the browser -------------------------------------------------------------------------

FORM_FIELDS = f"input[id*='{ids.SCORE_FIELD}']"


def press_find_segment(dash_duo) -> None:
    # The button sits below the fold of the 1400x1000 window: scroll it up before clicking.
    button = dash_duo.find_element(f"#{ids.SCORE_FIND}")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", button)
    ActionChains(dash_duo.driver).move_to_element(button).click().perform()


def open_prefilled_form(dash_duo, app) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/score")
    wait_for(dash_duo, lambda: len(dash_duo.find_elements(FORM_FIELDS)) == 17 and all(
        field.get_attribute("value") for field in dash_duo.find_elements(FORM_FIELDS)),
        "the form pre-filled with the median customer")


@pytest.mark.browser
def test_find_segment_for_the_median_customer(dash_duo, app, current):
    open_prefilled_form(dash_duo, app)
    press_find_segment(dash_duo)
    dash_duo.wait_for_contains_text(f"#{ids.SCORE_RESULT}", "This customer belongs to",
                                    timeout=TIMEOUT)
    result = dash_duo.find_element(f"#{ids.SCORE_RESULT}").text
    assert any(profile.name in result for profile in current.profiles)
    assert dash_duo.get_logs() == []


@pytest.mark.browser
def test_an_out_of_range_value_marks_its_field_and_says_the_range(dash_duo, app):
    open_prefilled_form(dash_duo, app)
    tenure = dash_duo.find_element("input[id*='\"column\":\"TENURE\"']")
    tenure.clear()
    tenure.send_keys("30")
    click(dash_duo, f"#{ids.SCORE_FIND}")
    message = "Tenure (months) must be between 6 and 12; got 30."
    dash_duo.wait_for_contains_text(f"#{ids.SCORE_RESULT}", message, timeout=TIMEOUT)
    wait_for(dash_duo, lambda: "is-invalid" in tenure.get_attribute("class"),
             "the tenure field marked invalid")
    feedback = dash_duo.find_element(f"div[id*='{ids.SCORE_FEEDBACK}'][id*='TENURE']")
    assert feedback.text == message and feedback.is_displayed()
    assert len(dash_duo.find_elements(f"{FORM_FIELDS}.is-invalid")) == 1
    shots = Path(__file__).resolve().parents[1] / ".tmp" / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    dash_duo.driver.execute_script("document.activeElement.blur();"
                                   "arguments[0].scrollIntoView({block: 'center'})", feedback)
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script(
        "return arguments[0].getBoundingClientRect().bottom < window.innerHeight", feedback),
        "the message in view")
    dash_duo.driver.save_screenshot(str(shots / "score_invalid_field.png"))
    dash_duo.find_element(f"#{ids.SCORE_MEDIAN}").click()  # reset clears the mark
    wait_for(dash_duo, lambda: "is-invalid" not in tenure.get_attribute("class"),
             "the mark cleared by the reset")
    assert dash_duo.get_logs() == []
