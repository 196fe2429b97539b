"""The Members table on the Segments page in headless Chromium: it pages through every
customer on the server, sorts, filters, follows the highlight, and exports what it counts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.export import member_list
from dashapp import ids
from dashapp.members_table import table_attributes
from dashapp.store import get_store
from tests.dash_helpers import TIMEOUT, click, wait_for

pytestmark = pytest.mark.browser
GRID = f"#{ids.MEMBERS_GRID}"


def _js_text(dash_duo, selector: str):
    """innerText of the first element matching ``selector``, or None (never a stale element)."""
    return dash_duo.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;",
        selector)


def _count(dash_duo) -> int | None:
    """How many customers the caption says the table lists."""
    text = _js_text(dash_duo, f"#{ids.MEMBERS_CAPTION} .c2c-members-count")
    return int(text.replace(",", "")) if text else None


def _cell(dash_duo, row: int, column: str = "CUST_ID"):
    return _js_text(dash_duo, f"{GRID} .ag-row[row-index='{row}'] .ag-cell[col-id='{column}']")


def _shown_ids(dash_duo) -> list[str]:
    return dash_duo.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText);",
        f"{GRID} .ag-cell[col-id='CUST_ID']")


def _members(demo_state) -> tuple[pd.DataFrame, object]:
    """The member list the table lists with no highlight or selection, and its segmentation."""
    _, result = get_store().current(demo_state)
    return member_list(result, attributes=table_attributes(result)), result


def _open(dash_duo, app) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/segments")
    dash_duo.wait_for_element(f"#{ids.SEGMENT_CARDS} .c2c-segment-card", timeout=TIMEOUT)
    click(dash_duo, f"#{ids.MEMBERS_TOGGLE}")  # the list opens on request
    wait_for(dash_duo, lambda: _count(dash_duo) == 9000, "9,000 customers in the table")


def _filter(dash_duo, column: str, text: str) -> None:
    box = dash_duo.find_element(f"{GRID} .ag-floating-filter[col-id='{column}'] input")
    box.clear()
    box.send_keys(text)


def test_the_table_pages_sorts_and_filters_every_customer(dash_duo, app, demo_state):
    members, _ = _members(demo_state)
    _open(dash_duo, app)
    wait_for(dash_duo, lambda: _cell(dash_duo, 0) == members["CUST_ID"][0], "the first customer")
    assert _js_text(dash_duo, f"{GRID} .ag-paging-row-summary-panel").endswith("of 9,000")
    size = len(_shown_ids(dash_duo))
    click(dash_duo, f"{GRID} .ag-paging-button[aria-label='Next Page']")
    wait_for(dash_duo, lambda: _cell(dash_duo, size) == members["CUST_ID"][size], "page 2")
    click(dash_duo, f"{GRID} .ag-paging-button[aria-label='Last Page']")
    wait_for(dash_duo, lambda: _cell(dash_duo, 8999) == members["CUST_ID"][8999],
             "the last customer on the last page")
    click(dash_duo, f"{GRID} .ag-paging-button[aria-label='First Page']")

    for direction in ("asc", "desc"):  # one click sorts up, the next one down
        click(dash_duo, f"{GRID} .ag-header-cell[col-id='BALANCE'] .ag-header-cell-label")
        first = members.sort_values("BALANCE", ascending=direction == "asc",
                                    kind="stable")["CUST_ID"].iloc[0]
        wait_for(dash_duo, lambda first=first: _cell(dash_duo, 0) == first,
                 f"the first customer by balance, {direction}")
    assert _cell(dash_duo, 0) != members["CUST_ID"][0]

    _filter(dash_duo, "CUST_ID", "d00012")  # text filters ignore case, as AG Grid's do
    expected = members[members["CUST_ID"].str.contains("D00012")]
    wait_for(dash_duo, lambda: _count(dash_duo) == len(expected), f"{len(expected)} ids match")
    assert "match the column filters" in _js_text(dash_duo, f"#{ids.MEMBERS_CAPTION}")
    wait_for(dash_duo, lambda: set(_shown_ids(dash_duo)) <= set(expected["CUST_ID"]),
             "only matching ids on screen")
    assert dash_duo.get_logs() == []


def test_highlighting_narrows_the_table_and_export_writes_what_it_counts(dash_duo, app,
                                                                         demo_state):
    members, result = _members(demo_state)
    segment = result.profiles[1]
    _open(dash_duo, app)
    click(dash_duo, f"div[id*='{ids.SEGMENT_CARD}'][id*='\"segment\":{segment.segment}']")
    wait_for(dash_duo, lambda: _count(dash_duo) == segment.size,
             f"the {segment.size:,} customers of segment {segment.segment}")
    caption = _js_text(dash_duo, f"#{ids.MEMBERS_CAPTION}")
    assert f"in segment {segment.segment} · {segment.name}" in caption
    wait_for(dash_duo, lambda: (_cell(dash_duo, 0, "segment") or "").startswith(
        f"{segment.segment} · "), "rows of the highlighted segment")

    _filter(dash_duo, "CUST_ID", "D0001")
    chosen = members[(members["segment"] == segment.segment)
                     & members["CUST_ID"].str.contains("D0001")]
    wait_for(dash_duo, lambda: _count(dash_duo) == len(chosen), f"{len(chosen)} after filtering")
    click(dash_duo, f"#{ids.MEMBERS_EXPORT}")
    dash_duo.wait_for_contains_text(f"#{ids.MEMBERS_STATUS}", "exported", timeout=TIMEOUT)
    status = dash_duo.find_element(f"#{ids.MEMBERS_STATUS}").text
    name = status.split(" to ")[1].split(" (")[0]
    assert status.startswith(f"{len(chosen):,} customers") and \
        name.endswith(f"_segment-{segment.segment}.csv")
    path = Path(dash_duo.download_path) / name
    wait_for(dash_duo, path.exists, f"{name} downloaded")
    exported = pd.read_csv(path, dtype={"CUST_ID": str})
    assert exported["CUST_ID"].tolist() == chosen["CUST_ID"].tolist()
    assert {"campaign_group", "plan_name", "BALANCE"} <= set(exported.columns)
    assert _count(dash_duo) == len(exported)
    assert dash_duo.get_logs() == []
