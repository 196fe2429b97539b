"""The portable JSON model: round trip, scoring new customers, and damaged files."""

import json

import numpy as np
import pytest

from core.demo import generate_demo_data
from core.errors import ModelFileError
from core.loading import from_frame
from core.model import SegmentModel
from core.pipeline import SegmentationConfig, segment_customers
from core.schema import ID_COLUMN


@pytest.fixture(scope="module", params=[
    SegmentationConfig(k=4),
    SegmentationConfig(features="behaviour", k=5, pca=0.9, scaling="robust"),
], ids=["seed", "behaviour-pca"])
def fitted(request):
    return segment_customers(from_frame(generate_demo_data(800, seed=9)), request.param)


def test_round_trip_scores_the_same_customers_identically(fitted, tmp_path):
    path = tmp_path / "model.json"
    fitted.model.save(path)
    model = SegmentModel.load(path)
    scored = model.score(fitted.prepared.frame)
    expected = fitted.assignments()
    assert np.array_equal(scored["segment"], expected["segment"])
    assert scored["segment_name"].tolist() == expected["segment_name"].tolist()
    assert np.allclose(scored["distance_to_centre"], expected["distance_to_centre"])
    assert json.loads(path.read_text())["schema_version"] == 1


def test_new_customers_are_cleaned_with_the_learned_values(fitted):
    new = generate_demo_data(50, seed=123)
    new.loc[0, "CREDIT_LIMIT"] = np.nan
    new.loc[1, "MINIMUM_PAYMENTS"] = np.nan
    scored = SegmentModel.from_json(fitted.model.to_json()).score(new)
    assert scored[ID_COLUMN].tolist() == new[ID_COLUMN].tolist()
    assert scored["segment"].between(1, fitted.k).all()


def _damaged(model_json: str, change) -> str:
    payload = json.loads(model_json)
    change(payload)
    return json.dumps(payload)


@pytest.mark.parametrize(("change", "message"), [
    (lambda p: p.update(format="something-else"), "not a Clusters to Campaigns model"),
    (lambda p: p.update(schema_version=99), "schema version 99"),
    (lambda p: p.pop("centres"), "centres"),
    (lambda p: p.update(centres=[[1.0, 2.0]]), "wrong shape"),
    (lambda p: p["center"].__setitem__(0, None), "center"),
    (lambda p: p.update(scale="big"), "scale"),
    (lambda p: p["cleaning"].pop("TENURE"), "17 behavioural columns"),
    (lambda p: p.pop("feature_set"), "incomplete or damaged"),
])
def test_damaged_model_files_are_rejected_clearly(fitted, change, message):
    with pytest.raises(ModelFileError, match=message):
        SegmentModel.from_json(_damaged(fitted.model.to_json(), change))


@pytest.mark.parametrize("text", [b"", b"\x89PNG\r\n", "{not json", "[1, 2]", "[" * 100_000])
def test_files_that_are_not_models(text):
    with pytest.raises(ModelFileError):
        SegmentModel.from_json(text)


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelFileError, match="cannot read"):
        SegmentModel.load(tmp_path / "nope.json")


def test_model_using_an_attribute_the_data_lacks():
    frame = generate_demo_data(300, seed=4).assign(SCORE=np.arange(300.0))
    result = segment_customers(from_frame(frame), SegmentationConfig(features=("SCORE", "BALANCE")))
    with pytest.raises(ModelFileError, match="SCORE"):
        result.model.score(generate_demo_data(10))


def test_levers_travel_with_the_model_and_prefill_the_same_plan(fitted):
    from core.campaign import default_plan

    model = SegmentModel.from_json(fitted.model.to_json())
    for profile in fitted.profiles:
        segment = model.segment(profile.segment)
        assert (segment.name, segment.levers) == (profile.name, profile.levers)
        assert default_plan(segment) == default_plan(profile)


@pytest.mark.parametrize("number", [0, -1, 99, True, "1", 1.0])
def test_asking_for_a_segment_the_model_lacks(fitted, number):
    with pytest.raises(ModelFileError, match="segments 1-"):
        fitted.model.segment(number)


@pytest.mark.parametrize("levers", [{"a": 1}, [[{"objective": "x"}]], "many", [[1]] * 9,
                                    [[{"objective": 1, "offer": "o", "channel": "c",
                                       "rationale": "r"}]]])
def test_damaged_levers_are_rejected(fitted, levers):
    with pytest.raises(ModelFileError, match="levers"):
        SegmentModel.from_json(_damaged(fitted.model.to_json(), lambda p: p.update(levers=levers)))


def test_models_saved_without_levers_still_score(fitted):
    model = SegmentModel.from_json(_damaged(fitted.model.to_json(), lambda p: p.pop("levers")))
    assert model.segment(1).levers == ()
    assert np.array_equal(model.score(fitted.prepared.frame)["segment"], fitted.labels)
