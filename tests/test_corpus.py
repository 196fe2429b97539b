"""The loader corpus (tests/data/corpus, built by tests/corpus/build.py): every real-world
variant of a customer file loads the right rows and values, or is refused with one message
naming file, column, row and example, in the loader and through the upload page."""

from __future__ import annotations

import pandas as pd
import pytest

from core.errors import DataValidationError
from core.loading import load_customers
from core.schema import BEHAVIOUR_COLUMNS, ID_COLUMN
from dashapp import ids
from dashapp.components import sentence
from dashapp.store import get_store
from tests.corpus.build import CORPUS, OUTCOMES, build, outcomes_table
from tests.corpus.cases import CASES, Case, Loads, Refused
from tests.dash_helpers import TIMEOUT, data_url


def _param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []
    return pytest.param(case, id=case.name, marks=marks)


CORPUS_CASES = [_param(c) for c in CASES]


def expected_frame(case: Case) -> pd.DataFrame:
    assert isinstance(case.outcome, Loads)
    frame = case.outcome.expect(case.source()).reset_index(drop=True)
    return frame.astype(dict.fromkeys(BEHAVIOUR_COLUMNS, "float64"))


def check_loaded(case: Case, data) -> None:
    expected = expected_frame(case)
    assert data.frame.columns.tolist()[:18] == [ID_COLUMN, *BEHAVIOUR_COLUMNS]
    assert data.attributes == tuple(expected.columns[18:])
    pd.testing.assert_frame_equal(data.frame, expected, check_dtype=False, check_exact=False,
                                  rtol=0, atol=1e-9)
    assert data.quality.header_row == case.outcome.header
    messages = "\n".join(data.quality.lines())
    assert [n for n in case.outcome.notes if n not in messages] == [], messages


def check_refused(case: Case, error: DataValidationError) -> None:
    assert isinstance(case.outcome, Refused)
    assert len(error.problems) == case.outcome.problems, error.problems
    message = str(error)
    assert message.startswith(f"{case.name}: ")
    assert [p for p in case.outcome.parts if p not in message] == [], message


@pytest.mark.parametrize("case", CORPUS_CASES)
def test_each_corpus_file_loads_its_rows_or_is_refused_with_one_message(case):
    path = CORPUS / case.name
    if isinstance(case.outcome, Loads):
        check_loaded(case, load_customers(path))
    else:
        with pytest.raises(DataValidationError) as caught:  # any other exception fails
            load_customers(path)
        check_refused(case, caught.value)


def test_the_corpus_is_what_the_build_script_writes(tmp_path):
    fresh = {p.name: p.read_bytes() for p in build(tmp_path)}
    committed = {p.name: p.read_bytes() for p in CORPUS.iterdir() if p.name != OUTCOMES}
    assert len(fresh) >= 60
    assert sorted(committed) == sorted(fresh), "run `make corpus`"
    assert [n for n in fresh if committed[n] != fresh[n]] == [], "run `make corpus`"


def test_the_outcome_table_is_what_the_loader_does_now():
    assert (CORPUS / OUTCOMES).read_text(encoding="utf-8") == outcomes_table(), \
        "the loader's outcomes changed: run `make corpus` and review OUTCOMES.md"


# --- through the upload page ---------------------------------------------------------------

def text_of(component) -> str:
    """All text in a component tree as the server sends it (JSON)."""
    if isinstance(component, dict):
        return text_of(component.get("props", {}).get("children"))
    if isinstance(component, list):
        return " ".join(text_of(c) for c in component)
    return "" if component is None else str(component)


@pytest.fixture(scope="module")
def send_upload(app):
    """POST a file to the upload callback as the browser does; returns (status code, outputs)."""
    client = app.server.test_client()
    dependency = next(d for d in client.get("/_dash-dependencies").get_json()
                      if d["inputs"] == [{"id": ids.UPLOAD, "property": "contents"}])
    outputs = [{"id": part.split("@")[0].rpartition(".")[0],
                "property": part.split("@")[0].rpartition(".")[2]}
               for part in dependency["output"].strip(".").split("...")]

    def send(name: str, state: dict) -> tuple[int, dict]:
        body = {"output": dependency["output"], "outputs": outputs, "changedPropIds":
                [f"{ids.UPLOAD}.contents"],
                "inputs": [{"id": ids.UPLOAD, "property": "contents",
                            "value": data_url((CORPUS / name).read_bytes(),
                                              "application/octet-stream")}],
                "state": [{"id": ids.UPLOAD, "property": "filename", "value": name},
                          {"id": ids.STATE, "property": "data", "value": state}]}
        response = client.post("/_dash-update-component", json=body)
        return response.status_code, (response.get_json() or {}).get("response", {})
    return send


@pytest.fixture(scope="module")
def previous(send_upload) -> dict:
    """The view state after a good upload: the data every refusal must leave active."""
    status, outputs = send_upload("plain.xlsx", {})
    return outputs[ids.STATE]["data"]


@pytest.mark.parametrize("case", CORPUS_CASES)
def test_the_upload_page_loads_or_explains_each_corpus_file(case, send_upload, previous):
    status, outputs = send_upload(case.name, previous)
    assert status == 200
    shown = text_of(outputs[ids.UPLOAD_STATUS]["children"])
    if isinstance(case.outcome, Loads):
        assert f"Loaded {case.name}: 40 customers" in shown
        data_id = outputs[ids.STATE]["data"]["data"]
        assert data_id != previous["data"]
        check_loaded(case, get_store().data(data_id))
    else:
        assert f"{case.name} was not loaded — the current data stays active" in shown
        assert ids.STATE not in outputs, "a refused file must leave the previous data active"
        missing = [p for p in case.outcome.parts if p not in shown and sentence(p) not in shown]
        assert missing == [], shown  # a message shown on its own starts with a capital


@pytest.mark.browser
def test_a_refused_corpus_file_keeps_the_data_and_a_report_layout_replaces_it(dash_duo, app):
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/data")
    dash_duo.wait_for_contains_text(f"#{ids.FOOTER}", "Demo customers", timeout=TIMEOUT)
    upload = f"#{ids.UPLOAD} input[type=file]"
    dash_duo.find_element(upload).send_keys(str(CORPUS / "accounting_negative.csv"))
    dash_duo.wait_for_contains_text(f"#{ids.UPLOAD_STATUS}", "PAYMENTS", timeout=TIMEOUT)
    status = dash_duo.find_element(f"#{ids.UPLOAD_STATUS}").text
    assert "accounting_negative.csv was not loaded" in status
    assert "row 7: '(1,234.56)'" in status
    assert "Demo customers" in dash_duo.find_element(f"#{ids.FOOTER}").text
    dash_duo.find_element(upload).send_keys(str(CORPUS / "report_layout.csv"))
    dash_duo.wait_for_contains_text(f"#{ids.FOOTER}", "report_layout.csv", timeout=TIMEOUT)
    assert "40 customers" in dash_duo.find_element(f"#{ids.FOOTER}").text
    assert "Loaded report_layout.csv: 40 customers" in \
        dash_duo.find_element(f"#{ids.UPLOAD_STATUS}").text
    dash_duo.wait_for_contains_text(f"#{ids.DATA_SUMMARY}", "'Total'", timeout=TIMEOUT)
    summary = dash_duo.find_element(f"#{ids.DATA_SUMMARY}").text
    assert "labels or units" in summary and "Generated by CardSys" in summary
    assert dash_duo.get_logs() == []
