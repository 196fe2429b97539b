"""``c2c plan`` and ``c2c export``: the app's hand-off as a scheduled job."""

from __future__ import annotations

import dataclasses
import json
import time

import pandas as pd
import pytest

from core.campaign import default_plan, project
from core.cli import main
from core.demo import generate_demo_data
from core.export import export_bytes, member_list
from core.loading import load_customers
from core.pipeline import SegmentationConfig, segment_customers
from core.plan_file import plan_from_json, plan_to_json
from tests.reference import REFERENCE_CSV, needs_reference

GROUPS = ("treatment", "control", "not_contacted")


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A customer file and the model ``c2c fit`` wrote for it (k = 4, seed features)."""
    folder = tmp_path_factory.mktemp("job")
    customers = folder / "customers.csv"
    generate_demo_data(1500, seed=21).to_csv(customers, index=False)
    assert main(["fit", "--data", str(customers), "--k", "4", "--out", str(folder)]) == 0
    return folder, customers


def _capped_plan(folder, segment: int = 1, **changes):
    """``c2c plan`` for ``segment``, edited as an analyst would (cap 40, 30 % holdout)."""
    path = folder / f"plan-{segment}.json"
    assert main(["plan", "--model", str(folder / "model.json"), "--segment", str(segment),
                 "--out", str(path)]) == 0
    payload = json.loads(path.read_text()) | {"budget_cap": 40, "holdout_share": 0.3} | changes
    path.write_text(json.dumps(payload))
    return path


def _export(folder, customers, plan_path, out, capsys) -> dict:
    assert main(["export", "--model", str(folder / "model.json"), "--plan", str(plan_path),
                 "--data", str(customers), "--out", str(out)]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_plan_is_the_plan_the_app_prefills(fitted):
    folder, customers = fitted
    path = folder / "plan.json"
    assert main(["plan", "--model", str(folder / "model.json"), "--segment", "2",
                 "--out", str(path)]) == 0
    segmentation = segment_customers(load_customers(customers), SegmentationConfig(k=4))
    assert path.read_text() == plan_to_json(default_plan(segmentation.profiles[1]))
    payload = json.loads(path.read_text())
    assert payload["segments"] == [2] and payload["budget_cap"] is None
    assert 0 <= payload["holdout_share"] <= 1 and payload["cost_per_contact"] >= 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_export_writes_the_plan_and_reports_it(fitted, tmp_path, capsys, fmt):
    folder, customers = fitted
    plan_path = _capped_plan(folder)
    out = tmp_path / f"members.{fmt}"
    summary = _export(folder, customers, plan_path, out, capsys)
    members = _read(out)
    plan, _ = plan_from_json(plan_path.read_text())
    projection = project(plan, summary["audience"])
    counts = members["campaign_group"].value_counts()
    assert (summary["contacted"], summary["control"], summary["not_contacted"]) == tuple(
        int(counts.get(g, 0)) for g in GROUPS) == (projection.treated, projection.control,
                                                   projection.not_contacted)
    assert projection.capped_by_budget and summary["total_cost"] <= 40
    assert summary["roi"] == pytest.approx(projection.roi, abs=1e-4)
    assert len(members) == summary["audience"] and members["CUST_ID"].is_unique
    assert set(members["segment"]) == {1} and (members["plan_name"] == plan.name).all()
    first = out.read_bytes()
    time.sleep(1.1)  # a second later: timestamps must not leak into the file
    _export(folder, customers, plan_path, out, capsys)
    assert out.read_bytes() == first


def test_export_equals_the_member_list_of_the_same_segmentation(fitted, tmp_path, capsys):
    """The job and the app's export (core.export.member_list) hand over the same groups."""
    folder, customers = fitted
    plan_path = _capped_plan(folder, 3, holdout_share=0.2, seed=5)
    out = tmp_path / "members.csv"
    _export(folder, customers, plan_path, out, capsys)
    plan, _ = plan_from_json(plan_path.read_text())
    segmentation = segment_customers(load_customers(customers), SegmentationConfig(k=4))
    on_screen = member_list(segmentation, segments=[3], plans={3: plan})
    assert out.read_bytes() == export_bytes(on_screen, "csv")


def test_a_plan_over_several_segments_is_one_audience(fitted, tmp_path, capsys):
    folder, customers = fitted
    plan_path = _capped_plan(folder, segments=[1, 4], budget_cap=None)
    summary = _export(folder, customers, plan_path, tmp_path / "m.parquet", capsys)
    members = pd.read_parquet(tmp_path / "m.parquet")
    assert set(members["segment"]) == {1, 4} and summary["not_contacted"] == 0
    assert summary["audience"] == len(members)


@pytest.mark.parametrize(("change", "message"), [
    ({"holdout_share": 0.9}, "holdout_share"), ({"segments": [9]}, "segments 1-4; got 9"),
    ({"budget_cap": "lots"}, "budget_cap"), ({"extra": 1}, "unknown field"),
])
def test_bad_plans_exit_2_with_one_message(fitted, tmp_path, capsys, change, message):
    folder, customers = fitted
    plan_path = _capped_plan(folder, **change)
    code = main(["export", "--model", str(folder / "model.json"), "--plan", str(plan_path),
                 "--data", str(customers), "--out", str(tmp_path / "m.csv")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.csv").exists()


def test_bad_models_and_arguments_exit_2(fitted, tmp_path, capsys):
    folder, customers = fitted
    plan_path = _capped_plan(folder)
    broken = tmp_path / "model.json"
    broken.write_text('{"format": "nope"}')
    runs = [
        (["export", "--model", str(broken), "--plan", str(plan_path), "--data", str(customers),
          "--out", str(tmp_path / "m.csv")], "not a Clusters to Campaigns model"),
        (["plan", "--model", str(folder / "model.json"), "--segment", "7", "--out",
          str(tmp_path / "p.json")], "segments 1-4; got 7"),
        (["export", "--model", str(folder / "model.json"), "--plan", str(customers),
          "--data", str(customers), "--out", str(tmp_path / "m.csv")], "is it a plan.json?"),
        (["export", "--model", str(folder / "model.json"), "--plan", str(broken),
          "--data", str(customers), "--out", str(tmp_path / "m.csv")], "not a campaign plan"),
    ]
    for args, message in runs:
        assert main(args) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
    assert main(["export", "--model", "m", "--plan", "p", "--data", "d", "--out", "m.txt"]) == 2
    assert ".csv, .xlsx, .parquet; got 'm.txt'" in capsys.readouterr().err


def test_models_without_levers_cannot_prefill_a_plan(fitted, tmp_path, capsys):
    folder, _ = fitted
    payload = json.loads((folder / "model.json").read_text())
    payload.pop("levers")
    old = tmp_path / "old-model.json"
    old.write_text(json.dumps(payload))
    assert main(["plan", "--model", str(old), "--segment", "1", "--out",
                 str(tmp_path / "p.json")]) == 2
    assert "no suggested lever" in capsys.readouterr().err


@needs_reference
def test_the_budget_cap_scenario_on_the_real_file(tmp_path, capsys):
    """The issue's scenario: k = 4, seed features, segment 1, cap 150, 30 % holdout."""
    data = load_customers(REFERENCE_CSV)
    segmentation = segment_customers(data, SegmentationConfig(k=4))
    segmentation.model.save(tmp_path / "model.json")
    plan = dataclasses.replace(default_plan(segmentation.profiles[0]), budget_cap=150.0,
                               holdout_share=0.3)
    (tmp_path / "plan.json").write_text(plan_to_json(plan))
    summary = _export(tmp_path, REFERENCE_CSV, tmp_path / "plan.json", tmp_path / "m.xlsx",
                      capsys)
    projection = project(plan, segmentation.profiles[0].size)
    assert (summary["audience"], summary["contacted"], summary["control"]) == (
        projection.audience, projection.treated, projection.control)
    counts = _read(tmp_path / "m.xlsx")["campaign_group"].value_counts()
    assert counts["treatment"] == projection.treated and counts["control"] == projection.control


def _read(path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype={"CUST_ID": str})
    if path.suffix == ".xlsx":
        return pd.read_excel(path, dtype={"CUST_ID": str})
    return pd.read_parquet(path)
