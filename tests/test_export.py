"""Member-list exports: completeness, formula neutralisation, round trips, limits, file names."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import date

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import export
from core.campaign import CampaignPlan, assign_groups, project
from core.demo import generate_demo_data
from core.errors import ConfigError
from core.export import (
    FORMATS,
    MEMBER_COLUMNS,
    export_bytes,
    export_filename,
    member_list,
    neutralise,
    neutralise_frame,
    write_export,
)
from core.loading import from_frame
from core.pipeline import SegmentationConfig, segment_customers

ROWS = 600
K = 4
HOSTILE = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=x", "\n=x", "\x00=x", "  =x", " =x",
           '""=x', "=cmd|' /C calc'!A0", "\uff1d1+1"]
HARMLESS = ["North", "-5", "+3.5", "1e5", "a=b", "O'Brien", "#N/A", "x-y", "café"]
HOSTILE_HEADER = "=HYPERLINK(\"http://x\")"
TEXT_ATTRIBUTES = ["REGION", "CODE", HOSTILE_HEADER]
# A cell a spreadsheet may evaluate: the leading characters OWASP and ASVS name.
DANGEROUS = re.compile(r"[\t\r\n\x00]|[\s\"]*[=+\-@\uff1d\uff0b\uff0d\uff20]")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def data():
    """Demo customers with hostile ids, ids with leading zeros and hostile attributes."""
    frame = generate_demo_data(ROWS, seed=11)
    ids = frame["CUST_ID"].to_numpy(dtype=object)
    ids[:len(HOSTILE)] = [f"{h.strip()}#{i}" for i, h in enumerate(HOSTILE)]  # loader strips
    ids[len(HOSTILE):len(HOSTILE) + 3] = ["000123", "007", "0000000000000000042"]
    cycle = HOSTILE + HARMLESS
    return from_frame(frame.assign(
        CUST_ID=ids,
        REGION=[cycle[i % len(cycle)] for i in range(ROWS)],
        CODE=[f"{i:05d}" for i in range(ROWS)],
        NUM=np.arange(ROWS) - ROWS // 2,
        **{HOSTILE_HEADER: ["@evil"] * ROWS},
    ), source="cards.csv")


@pytest.fixture(scope="module")
def segmentation(data):
    return segment_customers(data, SegmentationConfig(k=K))


@pytest.fixture(scope="module")
def ids(segmentation):
    return segmentation.prepared.frame["CUST_ID"].to_numpy(dtype=object)


@pytest.fixture(scope="module")
def full(segmentation):
    """Everyone, with a campaign on segments 1 and 3 (3 capped) and every kind of attribute."""
    return member_list(segmentation, attributes=[*TEXT_ATTRIBUTES, "NUM", "BALANCE"],
                       plans=PLANS)


def campaign_plan(segment: int, **changes) -> CampaignPlan:
    values = dict(name=f"=plan {segment}", segment=segment, objective="Grow", offer="Cashback",
                  channel="Email", cost_per_contact=0.02, response_rate=0.01,
                  value_per_responder=40.0, offer_cost_per_responder=10.0, budget_cap=None,
                  holdout_share=0.2, start=date(2025, 1, 6), duration_days=30, seed=segment)
    return CampaignPlan(**(values | changes))


PLANS = {1: campaign_plan(1), 3: campaign_plan(3, budget_cap=1.0)}


def _read(fmt: str, content: bytes, text_columns) -> pd.DataFrame:
    """An export read back, text columns as text (only empty cells missing)."""
    options = {"dtype": dict.fromkeys(text_columns, str), "keep_default_na": False,
               "na_values": [""]}
    if fmt == "csv":
        return pd.read_csv(io.BytesIO(content), **options)
    if fmt == "xlsx":
        return pd.read_excel(io.BytesIO(content), engine="openpyxl", **options)
    return pd.read_parquet(io.BytesIO(content))


def _expected(frame: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """What an export of ``frame`` holds: neutralised text, and in XLSX NUL as U+FFFD."""
    if fmt == "parquet":
        return frame
    out = neutralise_frame(frame)
    if fmt == "xlsx":
        text = _text_columns(out)
        out[text] = out[text].replace("\x00", "\ufffd", regex=True)
    return out


def _text_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]


# --- member lists ---------------------------------------------------------------------------

def test_member_list_holds_everyone_in_input_order(segmentation, ids):
    members = member_list(segmentation)
    assert tuple(members.columns) == MEMBER_COLUMNS
    assert members["CUST_ID"].tolist() == ids.tolist()
    pd.testing.assert_frame_equal(members, segmentation.assignments())


@settings(max_examples=30, deadline=None)
@given(groups=st.lists(st.integers(0, K - 1), min_size=K, max_size=K))
def test_per_segment_exports_cover_every_customer_once(segmentation, ids, groups):
    sizes = {p.segment: p.size for p in segmentation.profiles}
    exported = []
    for group in set(groups):
        chosen = [s for s, g in zip(range(1, K + 1), groups, strict=True) if g == group]
        members = member_list(segmentation, segments=chosen)
        assert len(members) == sum(sizes[s] for s in chosen)
        assert set(members["segment"]) <= set(chosen)
        positions = np.flatnonzero(np.isin(segmentation.labels, chosen))
        assert members["CUST_ID"].tolist() == ids[positions].tolist()  # input order
        exported += members["CUST_ID"].tolist()
    assert len(exported) == len(set(exported)) == len(ids)
    assert set(exported) == set(ids)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), share=st.floats(0, 1),
       segments=st.none() | st.sets(st.integers(1, K), max_size=K))
def test_selection_exports_exactly_the_selected_customers(segmentation, ids, seed, share,
                                                          segments):
    mask = np.random.default_rng(seed).random(len(ids)) < share
    members = member_list(segmentation, segments=segments, mask=mask)
    rows = mask if segments is None else mask & np.isin(segmentation.labels, list(segments))
    assert len(members) == rows.sum()
    assert members["CUST_ID"].tolist() == ids[rows].tolist()


@pytest.mark.parametrize("fmt", FORMATS)
def test_per_segment_files_reunite_every_customer(segmentation, ids, fmt):
    exported = []
    for profile in segmentation.profiles:
        content = export_bytes(member_list(segmentation, segments=[profile.segment]), fmt)
        frame = _read(fmt, content, ["CUST_ID", "segment_name"])
        assert len(frame) == profile.size
        exported += frame["CUST_ID"].tolist()
    expected = _expected(pd.DataFrame({"CUST_ID": ids}), fmt)["CUST_ID"]
    assert sorted(exported) == sorted(expected)


def test_campaign_columns_split_planned_segments_only(segmentation, full):
    planned = full["segment"].isin([1, 3]).to_numpy()
    assert full.loc[~planned, ["campaign_group", "plan_name"]].isna().all().all()
    for segment, plan in PLANS.items():
        inside = full["segment"] == segment
        projection = project(plan, int(inside.sum()))
        counts = full.loc[inside, "campaign_group"].value_counts()
        assert (counts.get("treatment", 0), counts.get("control", 0),
                counts.get("not_contacted", 0)) == (projection.treated, projection.control,
                                                    projection.not_contacted)
        assert (full.loc[inside, "plan_name"] == plan.name).all()
    assert PLANS[3].budget_cap and projection.not_contacted > 0  # the cap leaves some out


@settings(max_examples=40, deadline=None)
@given(chosen=st.sets(st.integers(1, K), min_size=1, max_size=K),
       holdout=st.floats(0, 0.5), seed=st.integers(0, 2**63 - 1),
       cap=st.none() | st.sampled_from([0.0, 0.01, 0.5]) | st.floats(0, 1e7),
       fmt=st.sampled_from(FORMATS), data=st.data())
def test_exported_groups_equal_the_projection_for_random_plans(segmentation, chosen, holdout,
                                                               seed, cap, fmt, data):
    plans = {s: campaign_plan(s, holdout_share=holdout, budget_cap=cap, seed=seed,
                              cost_per_contact=data.draw(st.floats(0, 5)))
             for s in chosen}
    members = member_list(segmentation, segments=chosen, plans=plans)
    back = _read(fmt, export_bytes(members, fmt), ["CUST_ID", "campaign_group"])
    assert back["CUST_ID"].tolist() == _expected(members, fmt)["CUST_ID"].tolist()
    assert back["CUST_ID"].is_unique
    for segment, plan in plans.items():
        groups = back.loc[back["segment"] == segment, "campaign_group"]
        projection = project(plan, len(groups))
        assert len(groups) == next(p.size for p in segmentation.profiles
                                   if p.segment == segment)
        assert groups.isin(["treatment", "control", "not_contacted"]).all()
        assert (groups == "treatment").sum() == projection.treated
        assert (groups == "control").sum() == projection.control
        assert (groups == "not_contacted").sum() == projection.not_contacted


def test_groups_follow_the_whole_segment_in_any_export(segmentation, full, ids):
    mask = np.random.default_rng(3).random(len(ids)) < 0.3
    selected = member_list(segmentation, mask=mask, plans=PLANS)
    expected = full.set_index("CUST_ID").loc[selected["CUST_ID"], "campaign_group"]
    assert selected["campaign_group"].tolist() == expected.tolist()
    one = member_list(segmentation, segments=[1], plans=PLANS)
    inside = segmentation.labels == 1
    assert one["campaign_group"].tolist() == assign_groups(ids[inside], PLANS[1]).tolist()


def test_segments_in_two_audiences_are_refused(segmentation):
    assignments = segmentation.assignments()
    with pytest.raises(ConfigError, match=r"segments \[2\] are in two"):
        export.with_campaign(assignments, [(PLANS[1], [1, 2]), (PLANS[3], [2, 3])])


def test_group_rule_is_in_the_file_metadata(full):
    parquet = pq.read_schema(io.BytesIO(export_bytes(full, "parquet"))).metadata
    assert parquet[b"campaign_group_rule"].decode().startswith("Who is in which group")
    book = openpyxl.load_workbook(io.BytesIO(export_bytes(full, "xlsx")))
    assert "seeded hash" in book.properties.description


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_members_give_the_same_bytes(full, fmt):
    first = export_bytes(full, fmt)
    time.sleep(1.1)  # zip entries and Excel's properties carry seconds
    assert export_bytes(full, fmt) == first


def test_attributes_are_allowlisted(segmentation):
    members = member_list(segmentation, attributes=["REGION", "BALANCE", "REGION"])
    assert list(members.columns) == [*MEMBER_COLUMNS, "REGION", "BALANCE"]
    for bad in ("TOTAL_SPENDING", "no such column", "CUST_ID"):
        with pytest.raises(ConfigError, match=re.escape(repr(bad))):
            member_list(segmentation, attributes=[bad])


@pytest.mark.parametrize("kwargs", [
    {"segments": [K + 1]}, {"segments": [1.5]}, {"segments": [True]},
    {"mask": np.ones(3, dtype=bool)}, {"mask": np.ones(ROWS, dtype=int)},
    {"plans": {K + 1: campaign_plan(1)}}, {"plans": {"1": campaign_plan(1)}},
])
def test_bad_segments_and_masks_are_refused(segmentation, kwargs):
    with pytest.raises(ConfigError):
        member_list(segmentation, **kwargs)


def test_attribute_named_like_a_member_column_is_renamed():
    data = from_frame(generate_demo_data(120, seed=2).assign(segment="from file"))
    members = member_list(segment_customers(data, SegmentationConfig(k=2)),
                          attributes=["segment"])
    assert list(members.columns) == [*MEMBER_COLUMNS, "input_segment"]
    assert set(members["segment"]) == {1, 2}
    assert set(members["input_segment"]) == {"from file"}


# --- neutralisation -------------------------------------------------------------------------

@pytest.mark.parametrize("value", HOSTILE)
def test_formula_leading_text_is_prefixed(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", [*HARMLESS, "", -2, -2.5, 0, None, np.nan])
def test_other_values_are_unchanged(value):
    assert neutralise(value) is value


def test_neutralise_frame_changes_text_and_headers_only():
    frame = pd.DataFrame({"=h": ["=x", "ok"], "n": [-1.5, 2.0], "i": [-3, 4]})
    out = neutralise_frame(frame)
    assert list(out.columns) == ["'=h", "n", "i"]
    assert out["'=h"].tolist() == ["'=x", "ok"]
    assert out["n"].tolist() == [-1.5, 2.0] and out["i"].tolist() == [-3, 4]
    assert frame["=h"].tolist() == ["=x", "ok"]  # the input is untouched


def test_csv_cells_and_headers_are_neutralised_and_ids_stay_exact(full):
    rows = list(csv.reader(io.StringIO(export_bytes(full, "csv").decode("utf-8-sig"),
                                       newline="")))
    assert rows[0][rows[0].index("'" + HOSTILE_HEADER)]  # the header itself
    assert [row[0] for row in rows[1:]] == full["CUST_ID"].tolist()  # ids untouched
    cells = [cell for row in rows for cell in row[1:]]
    assert not [c for c in cells if DANGEROUS.match(c) and not _is_number(c)]
    assert {"'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'=plan 1", "'@evil"} <= set(cells)
    assert len(rows) == len(full) + 1


def test_raw_hostile_cells_are_neutralised_in_csv_and_xlsx_but_not_ids():
    frame = pd.DataFrame({"CUST_ID": ["@00125", "=1+1", "-7x"], "=x": HOSTILE[:3],
                          "amount": [-0.5, -1.5, -2.5], "count": [0, -1, -2]})
    rows = list(csv.reader(io.StringIO(export_bytes(frame, "csv").decode("utf-8-sig"),
                                       newline="")))
    assert rows[0] == ["CUST_ID", "'=x", "amount", "count"]
    assert [r[0] for r in rows[1:]] == ["@00125", "=1+1", "-7x"]
    assert [r[1] for r in rows[1:]] == ["'" + h for h in HOSTILE[:3]]
    assert [r[2] for r in rows[1:]] == [repr(v) for v in frame["amount"]]  # not prefixed
    sheet = openpyxl.load_workbook(io.BytesIO(export_bytes(frame, "xlsx"))).active
    assert [(c.value, c.data_type) for c in sheet["A"]][1:] == [
        ("@00125", "s"), ("=1+1", "s"), ("-7x", "s")]  # exact, and text cells never run
    assert [c.value for c in sheet["B"]][1:] == ["'" + h for h in HOSTILE[:3]]
    assert [c.value for c in sheet["C"]][1:] == frame["amount"].tolist()
    assert [c.value for c in sheet["D"]][1:] == frame["count"].tolist()
    assert pd.read_parquet(io.BytesIO(export_bytes(frame, "parquet")))["CUST_ID"].tolist() == \
        frame["CUST_ID"].tolist()


def test_xlsx_has_no_formulas_and_text_only_in_string_cells(full):
    sheet = openpyxl.load_workbook(io.BytesIO(export_bytes(full, "xlsx"))).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type in ("f", "e")]
    assert all(c.data_type == "s" for c in cells if isinstance(c.value, str))
    numbers = [c for c in cells if isinstance(c.value, int | float)]
    assert numbers and all(c.data_type == "n" for c in numbers)
    assert min(c.value for c in numbers) < 0  # NUM holds negative numbers, kept as numbers
    assert "'" + HOSTILE_HEADER in [c.value for c in sheet[1]]


# --- round trips and streaming --------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_equals_the_member_list(full, fmt):
    expected = _expected(full, fmt)
    back = _read(fmt, export_bytes(full, fmt), _text_columns(expected))
    pd.testing.assert_frame_equal(back, expected, check_dtype=False, check_exact=False,
                                  rtol=0, atol=1e-9)
    assert back.loc[full["CUST_ID"] == "000123", "CUST_ID"].item() == "000123"
    assert back["CODE"].str.len().eq(5).all()  # leading zeros kept


@pytest.mark.parametrize("fmt", FORMATS)
def test_chunked_writers_match_one_chunk(full, fmt, monkeypatch, tmp_path):
    whole = _read(fmt, export_bytes(full, fmt), _text_columns(neutralise_frame(full)))
    monkeypatch.setattr(export, "CHUNK_ROWS", 7)
    target = tmp_path / f"members.{fmt}"
    write_export(full, fmt, target)
    chunked = _read(fmt, target.read_bytes(), _text_columns(neutralise_frame(full)))
    pd.testing.assert_frame_equal(chunked, whole)
    if fmt == "parquet":
        assert pq.ParquetFile(target).num_row_groups == -(-len(full) // 7)


def test_handle_stays_open_and_empty_exports_keep_headers(full):
    handle = io.BytesIO()
    write_export(full.iloc[:0], "csv", handle)
    assert not handle.closed
    assert handle.getvalue().decode("utf-8-sig").startswith("CUST_ID,segment,")
    for fmt in ("xlsx", "parquet"):
        back = _read(fmt, export_bytes(full.iloc[:0], fmt), [])
        assert back.empty and list(back.columns) == list(_expected(full, fmt).columns)


# --- limits ---------------------------------------------------------------------------------

def test_xlsx_over_the_row_limit_is_refused_with_the_count(full, monkeypatch, tmp_path):
    monkeypatch.setattr(export, "EXPORT_ROW_LIMIT_XLSX", 100)
    target = tmp_path / "members.xlsx"
    with pytest.raises(ConfigError, match=f"{len(full):,} customers .*at most 100 rows"):
        write_export(full, "xlsx", target)
    assert not target.exists()
    back = _read("csv", export_bytes(full, "csv"), _text_columns(full))
    assert len(back) == len(full)  # CSV has no such limit and is never truncated


def test_xlsx_refuses_overlong_text_and_keeps_long_integers_exact():
    with pytest.raises(ConfigError, match="'note' .* 40,000 characters"):
        export_bytes(pd.DataFrame({"note": ["x" * 40_000]}), "xlsx")
    frame = pd.DataFrame({"id": [10**15 + 1, 42]})
    cells = list(openpyxl.load_workbook(io.BytesIO(export_bytes(frame, "xlsx"))).active["A"])
    assert [(c.value, c.data_type) for c in cells[1:]] == [(str(10**15 + 1), "s"), (42, "n")]


def test_unknown_format_is_refused(full):
    with pytest.raises(ConfigError, match="'pdf'"):
        export_bytes(full, "pdf")


# --- file names -----------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "name"), [
    (("demo-customers", 5, [2], "csv"), "demo-customers_k5_segment-2.csv"),
    (("cards", 6, [4, 1, 3], "xlsx"), "cards_k6_segments-1-3-4.xlsx"),
    (("cards.xlsx", 6, None, "parquet"), "cards_k6_all.parquet"),
    (("cards", 6, None, "csv", True), "cards_k6_selection.csv"),
    (("cards", 6, [2], "CSV", True), "cards_k6_segment-2_selection.csv"),
    (("../../etc/passwd", 3, None, "csv"), "etc-passwd_k3_all.csv"),
    (("C:\\Users\\me\\cards.csv", 3, None, "csv"), "C-Users-me-cards_k3_all.csv"),
    (("a\r\nb\x00c", 3, None, "csv"), "a-b-c_k3_all.csv"),
    (("Kundenübersicht 2024", 3, None, "csv"), "Kundenubersicht-2024_k3_all.csv"),
    (("東京", 3, None, "csv"), "customers_k3_all.csv"),
    ((".hidden", 3, None, "csv"), "hidden_k3_all.csv"),
])
def test_export_filename(args, name):
    assert export_filename(*args) == name


@pytest.mark.parametrize("label", ["x" * 500, "<script>", "a/b\\c:d*e?f\"g<h>i|j", "..", "'; rm"])
def test_export_filenames_are_safe(label):
    name = export_filename(label, 4, [1], "xlsx")
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name)
    assert len(name) <= 100


def test_filename_refuses_unknown_format():
    with pytest.raises(ConfigError):
        export_filename("cards", 4, None, "exe")
