"""The end-to-end engine on demo data and, when present, the real reference file."""

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from core.demo import generate_demo_data
from core.errors import ConfigError
from core.loading import from_frame, load_customers
from core.pipeline import SegmentationConfig, segment_customers, sweep
from core.schema import ID_COLUMN
from tests.reference import REFERENCE_CSV, needs_reference


@pytest.fixture(scope="module")
def demo():
    return from_frame(generate_demo_data(1500, seed=5), source="demo")


@needs_reference
def test_seed_preset_reproduces_the_seed_segmentation_on_the_reference_file():
    """The seed's published steps, written out independently, give the same segments."""
    raw = pd.read_csv(REFERENCE_CSV)
    parts = raw["ONEOFF_PURCHASES"] + raw["INSTALLMENTS_PURCHASES"]
    purchases = raw["PURCHASES"].where(np.isclose(raw["PURCHASES"], parts), parts)
    spending = purchases + raw["CASH_ADVANCE"]
    columns = raw[["PURCHASES_FREQUENCY", "CASH_ADVANCE_FREQUENCY", "PURCHASES_TRX",
                   "CASH_ADVANCE_TRX"]].assign(TOTAL_SPENDING=spending)
    expected = KMeans(n_clusters=4, random_state=42).fit_predict(
        StandardScaler().fit_transform(np.log1p(columns)))
    ours = segment_customers(load_customers(REFERENCE_CSV),
                             SegmentationConfig(features="seed", k=4, random_state=42, n_init=1))
    assert adjusted_rand_score(expected, ours.labels) > 0.99
    assert sorted(np.bincount(expected)) == pytest.approx(
        sorted(np.bincount(ours.labels)[1:]), abs=15)


def test_segmentation_result_is_complete_and_consistent(demo):
    result = segment_customers(demo, SegmentationConfig(k=5))
    assert result.k == 5 and set(result.labels) == {1, 2, 3, 4, 5}
    sizes = np.bincount(result.labels)[1:]
    assert list(sizes) == sorted(sizes, reverse=True)
    assert [p.segment for p in result.profiles] == [1, 2, 3, 4, 5]
    assert len({p.name for p in result.profiles}) == 5
    table = result.assignments()
    assert list(table.columns) == [ID_COLUMN, "segment", "segment_name", "distance_to_centre"]
    assert table[ID_COLUMN].tolist() == demo.frame[ID_COLUMN].tolist()
    assert (table["distance_to_centre"] >= 0).all()
    assert {"silhouette", "calinski_harabasz", "davies_bouldin", "inertia"} <= set(result.metrics)
    assert result.data_id == demo.content_hash


def test_identical_inputs_give_identical_segments(demo):
    a = segment_customers(demo, SegmentationConfig(k=4, random_state=3))
    b = segment_customers(demo, SegmentationConfig(k=4, random_state=3))
    assert np.array_equal(a.labels, b.labels)
    assert [p.name for p in a.profiles] == [p.name for p in b.profiles]


def test_segments_keep_their_numbers_when_k_grows(demo):
    four = segment_customers(demo, SegmentationConfig(k=4))
    five = segment_customers(demo, SegmentationConfig(k=5), reference_labels=four.labels)
    assert set(five.labels) == {1, 2, 3, 4, 5}
    for segment in range(1, 5):
        members = four.labels == segment
        # most of each old segment stays under its old number
        assert np.mean(five.labels[members] == segment) > 0.5
    # centres follow the renumbering: each customer is nearest its own segment's centre
    X = five.prepared.matrix
    nearest = np.argmin(((X[:, None, :] - five.clusters.centres[None]) ** 2).sum(-1), axis=1) + 1
    assert np.mean(nearest == five.labels) > 0.95


@pytest.mark.parametrize("config", [
    SegmentationConfig(features="behaviour", k=3, pca=3),
    SegmentationConfig(features="engineered", k=6, scaling="robust"),
    SegmentationConfig(features=("BALANCE", "UTILISATION", "TENURE"), algorithm="gmm", k=3),
    SegmentationConfig(features="seed", algorithm="birch", k=4),
])
def test_other_feature_sets_and_algorithms(demo, config):
    result = segment_customers(demo, config)
    assert result.k == config.k and result.prepared.matrix.shape[0] == len(demo.frame)


def test_custom_features_may_use_numeric_attributes():
    frame = generate_demo_data(400, seed=2).assign(SCORE=np.arange(400.0), REGION="north")
    data = from_frame(frame)
    result = segment_customers(data, SegmentationConfig(features=("SCORE", "BALANCE"), k=3))
    assert result.k == 3
    with pytest.raises(ConfigError, match="REGION"):
        segment_customers(data, SegmentationConfig(features=("REGION", "BALANCE"), k=3))


def test_stability_on_request(demo):
    result = segment_customers(demo, SegmentationConfig(k=3), with_stability=True)
    assert 0 <= result.stability.mean_ari <= 1
    assert set(result.stability.jaccard) == {1, 2, 3}


def test_sweep_through_the_pipeline(demo):
    seen = []
    result = sweep(demo, SegmentationConfig(), range(2, 6), progress=lambda d, t: seen.append(d))
    assert result.table["k"].tolist() == [2, 3, 4, 5]
    assert seen == [1, 2, 3, 4]
    assert 2 <= result.recommended_k <= 5 and result.reason


def test_segments_stay_numbered_1_to_k_when_k_shrinks(demo):
    six = segment_customers(demo, SegmentationConfig(k=6))
    four = segment_customers(demo, SegmentationConfig(k=4), reference_labels=six.labels)
    assert set(four.labels) == {1, 2, 3, 4}
    assert len(four.profiles) == 4 and four.assignments()["segment_name"].notna().all()
