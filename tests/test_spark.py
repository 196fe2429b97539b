"""The Spark engine (core/spark) against the local engine: the same cleaning and features bit for
bit, the same labels as SegmentModel.predict on demo data and edge rows (near ties included), a
fit within 5 % of the local inertia, the same campaign groups, and one-line CLI errors.

One Spark session (local[2]) serves the whole module; the CLI reuses it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="the [spark] extra (pyspark) is not installed")

from sklearn.metrics import adjusted_rand_score  # noqa: E402

from core import spark as spark_engine  # noqa: E402
from core.campaign import default_plan  # noqa: E402
from core.cleaning import MEDIAN_COLUMNS, MODE_COLUMNS, Cleaner  # noqa: E402
from core.cli import main  # noqa: E402
from core.demo import DEMO_PATH, generate_demo_data  # noqa: E402
from core.features import FEATURES, STYLES, add_features  # noqa: E402
from core.loading import load_customers  # noqa: E402
from core.model import SegmentModel  # noqa: E402
from core.pipeline import SegmentationConfig, prepare, segment_customers  # noqa: E402
from core.plan_file import plan_to_json  # noqa: E402
from core.preprocessing import resolve_feature_set  # noqa: E402
from core.profiling import NUMERIC_FEATURES, profile_segments  # noqa: E402
from core.schema import BEHAVIOUR_COLUMNS, ID_COLUMN  # noqa: E402
from core.spark import fitting, frames, scoring  # noqa: E402
from core.spark.session import spark_session  # noqa: E402

ATTRIBUTE = "SCORE"  # a pass-through column a custom feature set uses


# Small data: few shuffle partitions, and the JVM's quick compiler only (a short-lived JVM spends
# most of its CPU in the optimising JIT otherwise).
TEST_CONFS = [("spark.sql.shuffle.partitions", "4"),
              ("spark.driver.extraJavaOptions",
               spark_engine.session_confs("local")["spark.driver.extraJavaOptions"]
               + " -XX:TieredStopAtLevel=1")]


@pytest.fixture(scope="module")
def spark():
    with spark_session("local[2]", TEST_CONFS) as session:
        yield session


def _edge_rows() -> pd.DataFrame:
    """Rows for every cleaning rule, division by zero, log of negatives, marks and extremes."""
    base = generate_demo_data(1, seed=1).iloc[0]
    rows = []

    def row(**values: object) -> None:
        rows.append({**base.to_dict(), **values, ID_COLUMN: f"E{len(rows):03d}"})

    for column in BEHAVIOUR_COLUMNS:  # each column missing once (median, mode, paying median)
        row(**{column: None})
    row(MINIMUM_PAYMENTS=None, PAYMENTS=0.0)  # missing with no payments → 0
    row(MINIMUM_PAYMENTS=None, PAYMENTS=None)  # PAYMENTS filled first, then paying median
    row(MINIMUM_PAYMENTS="NA", PAYMENTS="-")  # missing-value spellings and marks
    row(CREDIT_LIMIT="#N/A", TENURE="n/a")
    row(**dict.fromkeys(BEHAVIOUR_COLUMNS, 0.0))  # every division by zero
    row(CREDIT_LIMIT=0.0, TENURE=0.0, MINIMUM_PAYMENTS=0.0)
    row(PURCHASES=1234.5, ONEOFF_PURCHASES=1000.0, INSTALLMENTS_PURCHASES=234.5 + 1e-9)  # close
    row(PURCHASES=1234.6, ONEOFF_PURCHASES=1000.0, INSTALLMENTS_PURCHASES=234.5)  # repaired
    row(PURCHASES=0.0, ONEOFF_PURCHASES=0.1, INSTALLMENTS_PURCHASES=0.2)  # 0.1 + 0.2
    row(BALANCE=-250.75)  # a credit balance: log-scaled as 0
    row(BALANCE=1e14, CREDIT_LIMIT=1e-3, PAYMENTS=5e-324, CASH_ADVANCE=9.99e14)
    row(PURCHASES_FREQUENCY=1.5, PRC_FULL_PAYMENT=1.0, CASH_ADVANCE_FREQUENCY=1.0)
    row(**{c: None for c in BEHAVIOUR_COLUMNS if c != "TENURE"})  # no behaviour at all
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """The demo file, and a larger table: demo rows, more synthetic rows, the edge rows and an
    attribute column with gaps."""
    folder = tmp_path_factory.mktemp("spark")
    more = generate_demo_data(12_000, seed=7)
    more[ID_COLUMN] = "M" + more[ID_COLUMN]
    table = pd.concat([pd.read_csv(DEMO_PATH), more, _edge_rows()], ignore_index=True)
    rng = np.random.default_rng(3)
    table[ATTRIBUTE] = rng.integers(300, 850, len(table)).astype(float)
    table.loc[rng.random(len(table)) < 0.05, ATTRIBUTE] = np.nan
    table.to_csv(folder / "customers.csv", index=False)
    numbers = table.assign(**{c: pd.to_numeric(table[c], errors="coerce")
                              for c in BEHAVIOUR_COLUMNS})  # the marks as missing values
    numbers.to_parquet(folder / "customers.parquet", index=False)
    return {"demo": DEMO_PATH, "csv": folder / "customers.csv",
            "parquet": folder / "customers.parquet", "folder": folder}


@pytest.fixture(scope="module")
def local_data(files):
    return load_customers(files["csv"], max_bytes=None)


@pytest.fixture(scope="module")
def spark_data(spark, files):
    return frames.read_customers(spark, str(files["csv"]))


# --- every local rule has its Spark counterpart ---------------------------------------------

def test_every_feature_and_cleaning_rule_has_a_spark_counterpart():
    assert list(frames.SPARK_FEATURES) == [f.name for f in FEATURES]
    assert sorted(MEDIAN_COLUMNS + MODE_COLUMNS + ("MINIMUM_PAYMENTS",)) == \
        sorted(BEHAVIOUR_COLUMNS)
    frame = pd.DataFrame([dict.fromkeys(BEHAVIOUR_COLUMNS, np.nan)] * 2)
    steps = Cleaner().fit(frame).clean(frame)[1].steps
    # the rules frames.clean implements: fill the median and mode columns, MINIMUM_PAYMENTS'
    # two rules, the PURCHASES repair; a new rule in core.cleaning fails here
    assert [s.column for s in steps] == list(MEDIAN_COLUMNS + MODE_COLUMNS) + [
        "MINIMUM_PAYMENTS", "MINIMUM_PAYMENTS", "PURCHASES"]


def test_session_confs_for_local_and_cluster_masters():
    local = spark_engine.session_confs("local[2]", [("spark.sql.shuffle.partitions", "8")])
    assert local["spark.driver.bindAddress"] == "127.0.0.1"
    assert local["spark.ui.enabled"] == "false"
    assert local["spark.sql.shuffle.partitions"] == "8"
    cluster = spark_engine.session_confs("spark://head:7077",
                                         [("spark.ui.enabled", "true")])
    assert "spark.driver.bindAddress" not in cluster and cluster["spark.ui.enabled"] == "true"
    assert spark_engine.parse_conf(" spark.executor.memory = 4g ") == (
        "spark.executor.memory", "4g")
    for master in ("local", "local[*]", "local[4]", "local[2,3]", "yarn", "spark://h:7077"):
        assert spark_engine.check_master(master) == master


# --- cleaning, features and styles: the same bits -------------------------------------------

def test_cleaning_features_and_styles_equal_the_local_engine_bit_for_bit(spark_data,
                                                                       local_data):
    cleaner = Cleaner().fit(local_data.behaviour)
    expected = add_features(cleaner.transform(local_data.frame)).set_index(ID_COLUMN)
    prepared = frames.add_features(frames.clean(spark_data.frame, cleaner.fill_values_))
    rows = prepared.select(ID_COLUMN, *NUMERIC_FEATURES, *(s.name for s in STYLES)).collect()
    got = pd.DataFrame([r.asDict() for r in rows]).set_index(ID_COLUMN).loc[expected.index]
    assert len(got) == len(expected) == 21_000 + len(_edge_rows())
    for column in NUMERIC_FEATURES:
        want, have = expected[column].to_numpy(float), got[column].to_numpy(float)
        assert np.array_equal(want, have), column  # exact, edge rows included
    for style in STYLES:
        assert np.array_equal(got[style.name].to_numpy(), expected[style.name].cat.codes), \
            style.name


# --- scoring: the labels of SegmentModel.predict --------------------------------------------

CONFIGS = [
    SegmentationConfig(),
    SegmentationConfig(features="behaviour", k=6, scaling="robust"),
    SegmentationConfig(features="engineered", k=5),
    SegmentationConfig(features="behaviour", k=7, pca=3),
    SegmentationConfig(features="seed", k=3, pca=0.9, scaling="robust"),
    SegmentationConfig(features=("PURCHASES_FREQUENCY", "TOTAL_SPENDING", ATTRIBUTE), k=4),
]


def _spark_scores(spark, customers, model: SegmentModel) -> tuple[pd.DataFrame, int]:
    prepared = frames.add_features(frames.clean(customers.frame, model.cleaner.fill_values_))
    collected = []
    _, ties = scoring.label(spark, prepared, model, lambda f: collected.append(
        f.select(ID_COLUMN, scoring.SEGMENT, scoring.DISTANCE).collect()))
    rows = collected[-1]
    return pd.DataFrame([r.asDict() for r in rows]).set_index(ID_COLUMN), ties


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.features}-k{c.k}-{c.pca}")
def test_spark_labels_equal_the_local_engine(spark, spark_data, local_data, config):
    model = segment_customers(local_data, config).model
    want = model.score(local_data.frame).set_index(ID_COLUMN)
    got, _ = _spark_scores(spark, spark_data, model)
    got = got.loc[want.index]
    assert np.array_equal(got["segment"].to_numpy(), want["segment"].to_numpy())
    np.testing.assert_allclose(got[scoring.DISTANCE], want[scoring.DISTANCE], rtol=1e-12,
                               atol=1e-12)


def test_customers_on_a_boundary_are_labelled_by_the_local_engine(spark, spark_data,
                                                                  local_data):
    """A centre mirrored around many customers' shared model-space point puts them within
    rounding of two centres: Spark flags them as near ties and takes the local engine's labels.
    A repeated centre never wins (ties go to the first copy, as numpy's argmin)."""
    model = segment_customers(local_data, SegmentationConfig(k=4)).model
    X = model.preprocessor.transform(add_features(model.cleaner.transform(local_data.frame)))
    points, counts = np.unique(X, axis=0, return_counts=True)
    shared = points[counts.argmax()]  # customers who neither buy nor take cash
    assert counts.max() >= 10
    centres = model.centres.copy()
    centres[2] = 2 * shared - centres[0]  # equidistant from centres 1 and 3
    centres[3] = centres[0]
    doctored = SegmentModel(model.cleaner, model.preprocessor, centres, model.names,
                            model.config)
    got, ties = _spark_scores(spark, spark_data, doctored)
    want = doctored.score(local_data.frame).set_index(ID_COLUMN)
    assert ties >= counts.max()
    assert np.array_equal(got.loc[want.index, "segment"].to_numpy(), want["segment"].to_numpy())
    np.testing.assert_allclose(got.loc[want.index, scoring.DISTANCE], want[scoring.DISTANCE],
                               rtol=1e-12)
    assert 4 not in set(got["segment"])
    prepared = frames.add_features(frames.clean(spark_data.frame, model.cleaner.fill_values_))
    assigned = scoring.assign(prepared, doctored)
    with pytest.warns(UserWarning, match="Spark's own labels are kept"):
        assert scoring.with_local_labels(spark, assigned, doctored, limit=0) is assigned


# --- fitting ---------------------------------------------------------------------------------

def test_fitted_cleaner_and_preprocessor_match_the_local_fit(spark, spark_data, local_data):
    cleaner = fitting.fit_cleaner(spark_data.frame)
    local = Cleaner().fit(local_data.behaviour)
    for column in MODE_COLUMNS:
        assert cleaner.fill_values_[column] == local.fill_values_[column], column
    for column in MEDIAN_COLUMNS + ("MINIMUM_PAYMENTS",):
        assert cleaner.fill_values_[column] == pytest.approx(local.fill_values_[column],
                                                             rel=1e-3), column
    prepared = frames.add_features(frames.clean(spark_data.frame, local.fill_values_)).cache()
    for config in (SegmentationConfig(features="behaviour", pca=0.8),
                   SegmentationConfig(features="engineered", scaling="robust", pca=2)):
        feature_set = resolve_feature_set(config.features)
        want = prepare(local_data, config).preprocessor
        got = fitting.fit_preprocessor(prepared, feature_set, scaling=config.scaling,
                                       pca=config.pca)
        tolerance = 1e-9 if config.scaling == "standard" else 2e-2  # approximate quartiles
        np.testing.assert_allclose(got.center_, want.center_, rtol=tolerance, atol=tolerance)
        np.testing.assert_allclose(got.scale_, want.scale_, rtol=tolerance)
        assert got.pca_components_.shape == want.pca_components_.shape
        np.testing.assert_allclose(got.pca_components_, want.pca_components_,
                                   atol=1e-6 if config.scaling == "standard" else 0.1)
    prepared.unpersist()


def test_fit_on_spark_matches_the_local_fit_and_scores_locally(spark, files, tmp_path, capsys):
    out = tmp_path / "fit"  # as a URI: model.json and profiles.csv go through Hadoop's files
    assert main(["fit", "--engine", "spark", "--data", str(files["demo"]), "--k", "4",
                 "--out", out.as_uri()]) == 0
    printed = capsys.readouterr().out
    assert "Spark MLlib kmeans" in printed and "wrote assignments.parquet" in printed
    model = SegmentModel.load(out / "model.json")  # the local engine's model format
    data = load_customers(DEMO_PATH)
    assignments = pd.read_parquet(out / "assignments.parquet").set_index(ID_COLUMN)
    local_scores = model.score(data.frame).set_index(ID_COLUMN)
    assert np.array_equal(assignments.loc[local_scores.index, "segment"].to_numpy(),
                          local_scores["segment"].to_numpy())
    assert list(assignments.columns) == ["segment", "segment_name", "distance_to_centre"]
    local = segment_customers(data, SegmentationConfig(k=4))
    inertia = float((local_scores[scoring.DISTANCE] ** 2).sum())
    ari = adjusted_rand_score(local.labels, local_scores["segment"])
    print(f"\nSpark fit on the demo data: inertia {inertia:.6g} vs local "
          f"{local.clusters.inertia:.6g} (ratio {inertia / local.clusters.inertia:.4f}), "
          f"adjusted Rand index {ari:.4f}")
    assert inertia <= 1.05 * local.clusters.inertia
    profiles = pd.read_csv(out / "profiles.csv")
    want = profile_segments(add_features(model.cleaner.transform(data.frame)),
                            local_scores["segment"].to_numpy())
    assert list(profiles["name"]) == [p.name for p in want] == list(model.names)
    assert list(profiles["size"]) == [p.size for p in want]
    np.testing.assert_allclose(profiles[list(NUMERIC_FEATURES)].to_numpy(),
                               np.array([p.means.to_numpy() for p in want]), rtol=1e-9)


# --- the command line ------------------------------------------------------------------------

def test_cli_score_on_spark_equals_local_score(files, tmp_path, local_data, capsys):
    model = segment_customers(local_data, SegmentationConfig(features="behaviour", k=5)).model
    model.save(tmp_path / "model.json")
    out = tmp_path / "scored.parquet"  # Parquet input here; the other tests read the CSV
    assert main(["score", "--engine", "spark", "--model", str(tmp_path / "model.json"),
                 "--data", str(files["parquet"]), "--out", str(out)]) == 0
    assert "on Spark" in capsys.readouterr().out
    got = pd.read_parquet(out).set_index(ID_COLUMN)
    assert main(["score", "--model", str(tmp_path / "model.json"), "--data",
                 str(files["parquet"]), "--out", str(tmp_path / "scored.csv")]) == 0
    want = pd.read_csv(tmp_path / "scored.csv", dtype={ID_COLUMN: str}).set_index(ID_COLUMN)
    assert np.array_equal(got.loc[want.index, "segment"], want["segment"])
    assert (got.loc[want.index, "segment_name"] == want["segment_name"]).all()


def test_cli_export_on_spark_draws_the_local_engines_groups(files, tmp_path, local_data,
                                                            capsys):
    result = segment_customers(local_data, SegmentationConfig(k=4))
    result.model.save(tmp_path / "model.json")
    plan = default_plan(result.model.segment(2))
    plan = replace(plan, budget_cap=plan.cost_per_treated * 1500, holdout_share=0.15)
    (tmp_path / "plan.json").write_text(plan_to_json(plan, (2, 3)))
    common = ["export", "--model", str(tmp_path / "model.json"), "--plan",
              str(tmp_path / "plan.json"), "--data", str(files["csv"])]
    assert main([*common, "--out", str(tmp_path / "local.parquet")]) == 0
    local_summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main([*common, "--engine", "spark", "--out", str(tmp_path / "spark.parquet")]) == 0
    spark_summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert spark_summary == local_summary and local_summary["not_contacted"] > 0
    want = pd.read_parquet(tmp_path / "local.parquet")
    got = pd.read_parquet(tmp_path / "spark.parquet")
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got.set_index(ID_COLUMN).loc[want[ID_COLUMN]].reset_index(),
                                  want, check_dtype=False)


def _fails(capsys, argv: list[str], expected: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("c2c: error: ") and expected in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def _bad_file(folder: Path, name: str, change) -> str:
    change(pd.read_csv(DEMO_PATH, nrows=50, dtype=str)).to_csv(folder / name, index=False)
    return str(folder / name)


def test_cli_spark_errors_are_one_line(files, tmp_path, capsys):
    folder = tmp_path
    fit = ["fit", "--engine", "spark", "--out", str(folder / "out")]
    _fails(capsys, [*fit, "--data", str(folder / "missing.csv")], "cannot be opened")
    no_columns = _bad_file(folder, "columns.csv",
                           lambda f: f.drop(columns=["TENURE", "PAYMENTS"]))
    _fails(capsys, [*fit, "--data", no_columns], "missing columns PAYMENTS, TENURE")
    text = _bad_file(folder, "text.csv", lambda f: f.assign(BALANCE="lots"))
    _fails(capsys, [*fit, "--data", text], "column BALANCE must be numeric; 50 rows contain "
           "text (e.g. 'lots')")
    negative = _bad_file(folder, "negative.csv", lambda f: f.assign(PAYMENTS="-5"))
    _fails(capsys, [*fit, "--data", negative], "column PAYMENTS must not be negative")
    duplicated = _bad_file(folder, "ids.csv", lambda f: f.assign(CUST_ID="C1"))
    _fails(capsys, [*fit, "--data", duplicated], "CUST_ID must be unique; 1 id appears")
    _fails(capsys, [*fit, "--conf", "spark.executor.memory"], "--conf expects spark.KEY=VALUE")
    _fails(capsys, [*fit, "--conf", "memory=4g"], "--conf expects spark.KEY=VALUE")
    _fails(capsys, [*fit, "--master", "local[0]"], "--master must be local")
    _fails(capsys, [*fit, "--master", "nowhere:7077"], "--master must be local")
    _fails(capsys, [*fit, "--algorithm", "gmm"], "MLlib KMeans")
    _fails(capsys, ["fit", "--master", "local[2]", "--out", str(folder / "o")],
           "add --engine spark")
    model = segment_customers(load_customers(DEMO_PATH), SegmentationConfig()).model
    model.save(folder / "model.json")
    plan = folder / "plan.json"
    plan.write_text(plan_to_json(default_plan(model.segment(1))))
    _fails(capsys, ["export", "--engine", "spark", "--model", str(folder / "model.json"),
                    "--plan", str(plan), "--data", str(files["demo"]),
                    "--out", str(folder / "m.xlsx")], "Parquet folder")


def test_cli_without_pyspark_names_the_extra(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark now fails
    _fails(capsys, ["fit", "--engine", "spark", "--out", str(tmp_path)],
           "the Spark engine needs the [spark] extra: pip install "
           "'clusters-to-campaigns[spark]'")
