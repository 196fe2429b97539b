"""The Members table's rows: AG Grid's sort and filter models applied on the server, pages
within bounds, hostile requests refused, and the same customers as the Campaigns export."""

from __future__ import annotations

import io
import json
from importlib import import_module

import numpy as np
import pandas as pd
import pytest
from dash import no_update
from hypothesis import given, settings
from hypothesis import strategies as st

from core.demo import generate_demo_data
from core.errors import ConfigError
from core.export import member_list
from core.loading import from_frame
from core.member_rows import (
    MAX_FILTER_CHARS,
    MAX_PAGE_ROWS,
    matching_members,
    member_page,
    records,
)
from core.pipeline import SegmentationConfig, segment_customers
from dashapp import members_table
from dashapp.members_table import (
    KEY_COLUMNS,
    MAX_ATTRIBUTE_COLUMNS,
    NO_ROWS,
    column_defs,
    table_attributes,
)
from dashapp.store import get_store, map_key
from tests.dash_helpers import fetched, text_of

ROWS = 400
REGIONS = ["North", "south", "NORTH-east", "West", None, "", "  "]


@pytest.fixture(scope="module")
def members() -> pd.DataFrame:
    """A member list with a text attribute (missing and blank values) and numbers with gaps."""
    frame = generate_demo_data(ROWS, seed=5)
    rng = np.random.default_rng(5)
    frame["REGION"] = [REGIONS[i % len(REGIONS)] for i in range(ROWS)]
    frame["SCORE"] = np.where(rng.random(ROWS) < 0.1, np.nan, rng.integers(0, 20, ROWS))
    result = segment_customers(from_frame(frame), SegmentationConfig(k=4))
    return member_list(result, attributes=["REGION", "SCORE", "BALANCE", "TENURE"])


def page(members, **request):
    return member_page(members, {"startRow": 0, "endRow": MAX_PAGE_ROWS, **request})


def ids_of(frame: pd.DataFrame) -> list[str]:
    return frame["CUST_ID"].tolist()


def text(column: str, kind: str, value: str | None = None) -> dict:
    return {"filterModel": {column: {"filterType": "text", "type": kind, "filter": value}}}


def number(column: str, kind: str, value=None, to=None) -> dict:
    return {"filterModel": {column: {"filterType": "number", "type": kind, "filter": value,
                                     "filterTo": to}}}


# --- paging ---------------------------------------------------------------------------------

def test_pages_follow_the_member_list_in_order(members):
    pages = [member_page(members, {"startRow": s, "endRow": s + 150}) for s in range(0, ROWS,
                                                                                      150)]
    assert all(p.count == ROWS for p in pages)
    pd.testing.assert_frame_equal(pd.concat([p.rows for p in pages], ignore_index=True),
                                  members)
    assert matching_members(members) is members  # nothing to apply: no copy


@pytest.mark.parametrize(("start", "end", "expected"), [
    (-50, 10, (0, 10)), (10, 5, (10, 10)), (0, 10 ** 12, (0, ROWS)),
    (10 ** 30, 10 ** 30 + 5, (ROWS, ROWS)), (390, 420, (390, ROWS)), (5.0, 7.0, (5, 7)),
])
def test_row_ranges_are_clipped_to_the_list_and_a_page(members, start, end, expected):
    result = member_page(members, {"startRow": start, "endRow": end})
    assert (result.start, result.start + len(result.rows)) == expected
    assert result.count == ROWS


def test_a_page_is_at_most_max_page_rows(members):
    big = pd.concat([members] * 2, ignore_index=True)
    assert len(member_page(big, {"startRow": 0, "endRow": 10_000}).rows) == MAX_PAGE_ROWS
    assert len(member_page(big, None).rows) == 100  # no range: the first block


# --- sorting --------------------------------------------------------------------------------

@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_numbers_sort_stably_with_missing_values_last(members, direction):
    rows = page(members, sortModel=[{"colId": "SCORE", "sort": direction}]).rows
    expected = members.sort_values("SCORE", ascending=direction == "asc", kind="stable",
                                   na_position="last")
    assert ids_of(rows) == ids_of(expected)
    assert rows["SCORE"].isna().to_numpy()[-members["SCORE"].isna().sum():].all()


def test_text_sorts_ignoring_case_and_several_keys_apply_in_order(members):
    rows = page(members, sortModel=[{"colId": "REGION", "sort": "desc"},
                                    {"colId": "BALANCE", "sort": "asc"}]).rows
    key = members["REGION"].str.lower()
    expected = members.assign(key=key).sort_values(["key", "BALANCE"], ascending=[False, True],
                                                   kind="stable", na_position="last")
    assert ids_of(rows) == ids_of(expected)
    assert rows["REGION"].iloc[0] == "West" and pd.isna(rows["REGION"].iloc[-1])


def test_sorting_then_paging_gives_consecutive_slices(members):
    sort = [{"colId": "segment", "sort": "asc"}]
    whole = ids_of(page(members, sortModel=sort).rows)
    pieces = [ids_of(member_page(members, {"startRow": s, "endRow": s + 64,
                                           "sortModel": sort}).rows) for s in range(0, ROWS, 64)]
    assert sum(pieces, []) == whole


# --- filtering ------------------------------------------------------------------------------

def _lower(values: pd.Series) -> list:
    return [v.lower() if isinstance(v, str) else None for v in values]


TEXT_CASES = {
    "equals": lambda v: v == "north",
    "notEqual": lambda v: v != "north",
    "contains": lambda v: v is not None and "north" in v,
    "notContains": lambda v: v is None or "north" not in v,
    "startsWith": lambda v: v is not None and v.startswith("north"),
    "endsWith": lambda v: v is not None and v.endswith("north"),
    "blank": lambda v: v is None or v.strip() == "",
    "notBlank": lambda v: v is not None and v.strip() != "",
}


@pytest.mark.parametrize("kind", TEXT_CASES)
def test_every_text_filter_ignores_case(members, kind):
    value = None if kind in ("blank", "notBlank") else "NORTH"
    result = page(members, **text("REGION", kind, value))
    expected = [cid for cid, v in zip(members["CUST_ID"], _lower(members["REGION"]),
                                      strict=True) if TEXT_CASES[kind](v)]
    assert ids_of(result.rows) == expected and result.count == len(expected)
    assert 0 < result.count < ROWS


NUMBER_CASES = {
    "equals": (5, None, lambda v: v == 5),
    "notEqual": (5, None, lambda v: v != 5),
    "greaterThan": (5, None, lambda v: v > 5),
    "greaterThanOrEqual": (5, None, lambda v: v >= 5),
    "lessThan": (5, None, lambda v: v < 5),
    "lessThanOrEqual": (5, None, lambda v: v <= 5),
    "inRange": (3, 7, lambda v: 3 <= v <= 7),
    "blank": (None, None, np.isnan),
    "notBlank": (None, None, lambda v: not np.isnan(v)),
}


@pytest.mark.parametrize("kind", NUMBER_CASES)
def test_every_number_filter(members, kind):
    value, to, test = NUMBER_CASES[kind]
    result = page(members, **number("SCORE", kind, value, to))
    expected = [cid for cid, v in zip(members["CUST_ID"], members["SCORE"], strict=True)
                if test(v)]
    assert ids_of(result.rows) == expected and 0 < result.count < ROWS


def test_in_range_takes_its_bounds_in_either_order(members):
    assert page(members, **number("SCORE", "inRange", 7, 3)).count == \
        page(members, **number("SCORE", "inRange", 3, 7)).count


def test_conditions_join_with_and_or_and_columns_with_and(members):
    def joined(operator):
        return {"filterType": "number", "operator": operator, "conditions": [
            {"filterType": "number", "type": "lessThan", "filter": 3},
            {"filterType": "number", "type": "greaterThan", "filter": 15}]}
    scores = members["SCORE"]
    assert page(members, filterModel={"SCORE": joined("OR")}).count == \
        int(((scores < 3) | (scores > 15)).sum())
    assert page(members, filterModel={"SCORE": joined("AND")}).count == 0
    both = {"SCORE": joined("OR"),
            "REGION": {"filterType": "text", "type": "contains", "filter": "north"}}
    expected = ((scores < 3) | (scores > 15)) & members["REGION"].str.lower().str.contains(
        "north", regex=False).fillna(False).astype(bool)
    assert ids_of(page(members, filterModel=both).rows) == ids_of(members[expected])


def test_the_id_filter_and_sort_give_what_matching_members_exports(members):
    models = dict(filterModel={"CUST_ID": {"filterType": "text", "type": "contains",
                                           "filter": "1"}},
                  sortModel=[{"colId": "distance_to_centre", "sort": "desc"}])
    shown = page(members, **models)
    exported = matching_members(members, models["filterModel"], models["sortModel"])
    pd.testing.assert_frame_equal(shown.rows, exported.iloc[:MAX_PAGE_ROWS])
    assert shown.count == len(exported)


# --- hostile requests -----------------------------------------------------------------------

HOSTILE = [
    "not a dict", ["startRow", 0],
    {"startRow": "0"}, {"startRow": True}, {"endRow": 1.5}, {"startRow": None},
    {"sortModel": "BALANCE"}, {"sortModel": [{"colId": "nope", "sort": "asc"}]},
    {"sortModel": [{"colId": "BALANCE", "sort": "up"}]}, {"sortModel": [None]},
    {"sortModel": [{"colId": "BALANCE", "sort": "asc"}] * 2},
    {"sortModel": [{"colId": ["BALANCE"], "sort": "asc"}]},
    {"sortModel": [{"colId": "BALANCE", "sort": "asc"}] * 100},
    {"filterModel": []}, {"filterModel": {"nope": {}}}, {"filterModel": {"BALANCE": "x"}},
    text("BALANCE", "contains", "1"), number("REGION", "equals", 1),
    text("REGION", "regex", ".*"), text("REGION", ["contains"], "x"),
    text("REGION", "contains", 5), text("REGION", "contains", None),
    text("REGION", "contains", "x" * (MAX_FILTER_CHARS + 1)),
    number("SCORE", "equals", "5"), number("SCORE", "equals", True),
    number("SCORE", "equals", float("nan")), number("SCORE", "lessThan", float("inf")),
    number("SCORE", "inRange", 1), number("SCORE", "equals", 10 ** 400),
    {"filterModel": {"SCORE": {"filterType": "number", "operator": "XOR",
                               "conditions": [{"type": "equals", "filter": 1}]}}},
    {"filterModel": {"SCORE": {"filterType": "number", "operator": "OR",
                               "conditions": [{"type": "equals", "filter": 1}] * 100}}},
    {"filterModel": {"SCORE": {"filterType": "number", "operator": "OR", "conditions": []}}},
    {"filterModel": {"SCORE": {"filterType": "number", "operator": "OR",
                               "conditions": "equals"}}},
    {"filterModel": {f"c{i}": {} for i in range(1000)}},
]


@pytest.mark.parametrize("request_", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_requests_are_refused_with_a_short_message(members, request_):
    with pytest.raises(ConfigError) as error:
        member_page(members, request_)
    assert len(str(error.value)) < 800


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    | st.sampled_from(["REGION", "SCORE", "CUST_ID", "segment", "asc", "desc", "contains",
                       "inRange", "blank", "text", "number", "AND", "OR"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["colId", "sort", "filterType", "type", "filter", "filterTo",
                         "operator", "conditions", "REGION", "SCORE", "x"]), inner, max_size=5),
    max_leaves=20)


@settings(max_examples=300, deadline=None, database=None)
@given(st.fixed_dictionaries({}, optional={
    "startRow": JSON, "endRow": JSON, "sortModel": JSON, "filterModel": JSON}))
def test_any_json_request_gives_a_bounded_page_or_a_config_error(members, request_):
    try:
        result = member_page(members, request_)
    except ConfigError:
        return
    assert len(result.rows) <= MAX_PAGE_ROWS and 0 <= result.count <= ROWS


# --- rows for the browser -------------------------------------------------------------------

def test_records_are_plain_json_values():
    frame = pd.DataFrame({"a": [1, 2], "b": [np.nan, np.inf], "c": ["x", None],
                          "d": pd.array([1, None], dtype="Int64")})
    rows = records(frame)
    assert rows == [{"a": 1, "b": None, "c": "x", "d": 1}, {"a": 2, "b": None, "c": None,
                                                             "d": None}]
    assert type(rows[0]["a"]) is int
    json.dumps(rows, allow_nan=False)


# --- the table in the app -------------------------------------------------------------------

@pytest.fixture
def campaigns(app):
    return import_module("pages.campaigns")


def _table(request, state, highlight=None, selection=None):
    response, caption = members_table.serve_rows(request, state, highlight, selection)
    return response, " ".join(text_of(caption).split())


def test_the_table_of_two_segments_is_the_campaigns_export(campaigns, demo_state):
    _, result = get_store().current(demo_state)
    rows, caption = [], ""
    for start in range(0, 9000, MAX_PAGE_ROWS):
        response, caption = _table({"startRow": start, "endRow": start + MAX_PAGE_ROWS},
                                   demo_state, [2, 3])
        rows += response["rowData"]
    size = result.profiles[1].size + result.profiles[2].size
    assert len(rows) == response["rowCount"] == size
    assert caption.startswith(f"{size:,} customers in segments 2 · {result.profiles[1].name}")
    link, _ = campaigns.export_members(1, "segments", [2, 3], table_attributes(result),
                                       "parquet", None, demo_state)
    exported = pd.read_parquet(io.BytesIO(fetched(link)))
    table = pd.DataFrame(rows)
    pd.testing.assert_frame_equal(table, exported[table.columns], check_dtype=False)
    # "Export these" with no column filter writes exactly the Campaigns page's file
    ours, status = members_table.export_these(1, "parquet", {"startRow": 0}, demo_state,
                                              [3, 2], None)
    assert fetched(ours) == fetched(link) and ours["filename"] == link["filename"]
    assert text_of(status).startswith(f"{size:,} customers exported")


def test_the_map_selection_comes_before_the_highlight(demo_state):
    store = get_store()
    view = store.active(demo_state)
    box = {"box": {"x": [-100, 0], "y": [-100, 100]}, "map": map_key(view)}
    inside = int((store.projection(view.data, view.config).coords[:, 0] <= 0).sum())
    response, caption = _table({"startRow": 0, "endRow": 10}, demo_state, [1], box)
    assert response["rowCount"] == inside and "selected on the map" in caption
    response, caption = _table({"startRow": 0, "endRow": 10}, demo_state, None, None)
    assert response["rowCount"] == 9000 and "in all segments" in caption


def test_column_filters_show_in_the_caption_and_in_the_export(demo_state):
    request = {"startRow": 0, "endRow": 50, "filterModel": {
        "CUST_ID": {"filterType": "text", "type": "endsWith", "filter": "7"}},
        "sortModel": [{"colId": "BALANCE", "sort": "desc"}]}
    response, caption = _table(request, demo_state, [1])
    assert "match the column filters" in caption
    link, status = members_table.export_these(1, "csv", request, demo_state, [1], None)
    exported = pd.read_csv(io.BytesIO(fetched(link)), dtype={"CUST_ID": str})
    assert len(exported) == response["rowCount"] and exported["CUST_ID"].str.endswith("7").all()
    assert exported["CUST_ID"].tolist()[:50] == [r["CUST_ID"] for r in response["rowData"]]
    assert exported["BALANCE"].is_monotonic_decreasing


@pytest.mark.parametrize("request_", [h for h in HOSTILE if isinstance(h, dict)][::3])
def test_hostile_requests_get_no_rows_and_a_reason(demo_state, request_):
    response, caption = _table(request_, demo_state, "2", {"lasso": "x"})
    assert response == NO_ROWS and caption.startswith("No customers to list:")
    link, status = members_table.export_these(1, "csv", request_, demo_state, None, None)
    models = {"filterModel", "sortModel"} & set(request_)
    assert ("The export failed" in text_of(status)) == bool(models)


def test_bad_export_settings_and_states_never_fail(demo_state):
    _, status = members_table.export_these(1, "exe", None, demo_state, None, None)
    assert "Unknown export format 'exe'" in text_of(status)
    assert members_table.export_these(None, "csv", None, demo_state, None, None) == \
        (no_update, no_update)
    for state in ({"k": [1], "data": 5}, "x", None):
        response, _ = _table({}, state, [True], [])
        assert response["rowCount"] == 9000


def test_pass_through_columns_are_shown_with_filters_of_their_kind(members):
    columns = {c["field"]: c for c in column_defs(members)}
    assert "segment_name" not in columns  # shown inside the Segment column
    assert columns["REGION"]["filter"] == "agTextColumnFilter"
    assert columns["SCORE"]["filter"] == "agNumberColumnFilter"
    assert "d3.format(',.2~f')" in columns["SCORE"]["valueFormatter"]["function"]
    assert columns["BALANCE"]["headerName"] == "Balance"


def test_at_most_thirty_pass_through_columns_come_before_the_key_columns():
    frame = generate_demo_data(60, seed=1)
    frame = frame.assign(**{f"EXTRA_{i}": i for i in range(MAX_ATTRIBUTE_COLUMNS + 5)})
    result = segment_customers(from_frame(frame), SegmentationConfig(k=2))
    assert table_attributes(result) == [*(f"EXTRA_{i}" for i in range(MAX_ATTRIBUTE_COLUMNS)),
                                        *KEY_COLUMNS]


def test_columns_follow_the_loaded_file(demo_state):
    assert members_table.show_columns(False, demo_state, None) is no_update  # closed: nothing
    columns = members_table.show_columns(True, demo_state, None)
    fields = [c["field"] for c in columns]
    assert fields[:3] == ["CUST_ID", "segment", "distance_to_centre"]
    assert fields[3:] == list(KEY_COLUMNS)
    assert columns[1]["filter"] == "agNumberColumnFilter" and \
        columns[0]["filter"] == "agTextColumnFilter"
    assert members_table.show_columns(True, demo_state, columns) is no_update
