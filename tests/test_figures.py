"""dashapp.figures and dashapp.theme: structure, typed arrays, colours and payload sizes."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.io.json import to_json_plotly

from core.demo import generate_demo_data
from core.loading import from_frame
from core.pipeline import Segmentation, SegmentationConfig, segment_customers
from core.projection import MapProjection, project
from core.summary import (
    box_stats,
    histogram,
    migration,
    selection_z_scores,
    style_mix,
)
from core.sweep import SweepResult
from dashapp import figures
from dashapp.theme import (
    MAX_SEGMENTS,
    NEUTRAL_GREY,
    SEGMENT_CMAX,
    SEGMENT_CMIN,
    SEGMENT_COLORSCALE,
    SEGMENT_COLOURS,
    SELECTION_GREY,
    segment_colour,
)

PATCH_MAX_BYTES = 15_000  # measured: 13.5 KB (k = 4) to 14.0 KB (k = 15) for 9,000 labels
KEYS = ["BALANCE", "PURCHASES", "CASH_ADVANCE_FREQUENCY"]


@pytest.fixture(scope="module")
def segmentation() -> Segmentation:
    return segment_customers(from_frame(generate_demo_data(600, seed=1)),
                             SegmentationConfig(k=4))


@pytest.fixture(scope="module")
def names(segmentation: Segmentation) -> list[str]:
    return [p.name for p in segmentation.profiles]


@pytest.fixture(scope="module")
def projection(segmentation: Segmentation) -> MapProjection:
    prepared = segmentation.prepared
    return project(prepared.matrix, prepared.preprocessor.output_names)


@pytest.fixture(scope="module")
def segment_map(segmentation: Segmentation, projection: MapProjection,
                names: list[str]) -> go.Figure:
    return figures.segment_map(projection, segmentation.labels, names)


def as_json(figure: go.Figure) -> dict:
    return json.loads(to_json_plotly(figure))


def decoded(spec: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=spec["dtype"])


def size(obj: object) -> int:
    return len(to_json_plotly(obj.to_plotly_json()).encode())


def big_projection(n: int = 9000) -> MapProjection:
    coords = np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)
    loadings = pd.DataFrame([[0.8, 0.1], [0.2, -0.9]], index=["PURCHASES", "CASH_ADVANCE"],
                            columns=["PC1", "PC2"])
    return MapProjection(coords, loadings, (0.5, 0.3))


def colour_of(value: float) -> str:
    """The colour the discrete SEGMENT_COLORSCALE gives a marker.color value."""
    position = (value - SEGMENT_CMIN) / (SEGMENT_CMAX - SEGMENT_CMIN)
    band = [colour for (low, colour), (high, _) in zip(SEGMENT_COLORSCALE[::2],
                                                       SEGMENT_COLORSCALE[1::2], strict=True)
            if low < position < high]
    return band[0]


def test_segment_colours_are_distinct_and_numbered_from_one() -> None:
    assert len(set(SEGMENT_COLOURS)) == MAX_SEGMENTS == 15
    assert segment_colour(1) == SEGMENT_COLOURS[0] and segment_colour(15) == SEGMENT_COLOURS[14]
    assert NEUTRAL_GREY not in SEGMENT_COLOURS
    with pytest.raises(ValueError, match="1 to 15"):
        segment_colour(0)


def test_the_colorscale_gives_every_segment_number_its_own_colour() -> None:
    assert [colour_of(n) for n in range(1, 16)] == list(SEGMENT_COLOURS)


def test_segment_map_has_one_point_trace_and_one_legend_entry_per_segment(
        segment_map: go.Figure, names: list[str]) -> None:
    assert len(segment_map.data) == 1 + MAX_SEGMENTS
    legend = [t for t in segment_map.data[1:] if t.visible]
    assert [t.name for t in legend] == [f"{n} · {name}" for n, name in enumerate(names, 1)]
    assert [t.marker.color for t in legend] == list(SEGMENT_COLOURS[:4])
    assert segment_map.data[0].showlegend is False


def test_segment_map_sends_typed_arrays(segment_map: go.Figure, segmentation: Segmentation,
                                        projection: MapProjection) -> None:
    points = as_json(segment_map)["data"][0]
    assert points["x"]["dtype"] == points["y"]["dtype"] == "f4"
    np.testing.assert_array_equal(decoded(points["x"]), projection.coords[:, 0])
    np.testing.assert_array_equal(decoded(points["y"]), projection.coords[:, 1])
    colours = decoded(points["marker"]["color"])
    assert points["marker"]["color"]["dtype"] == "i1"
    np.testing.assert_array_equal(colours, segmentation.labels)
    assert (points["marker"]["cmin"], points["marker"]["cmax"]) == (0.5, 15.5)


def test_segment_map_hover_names_the_segment_without_per_point_text(
        segment_map: go.Figure) -> None:
    points = segment_map.data[0]
    assert "Segment %{marker.color}" in points.hovertemplate
    assert points.text is None and points.hovertext is None and points.customdata is None


def test_segment_map_keeps_zoom_and_lasso(segment_map: go.Figure) -> None:
    layout = segment_map.layout
    assert layout.dragmode == "lasso" and layout.uirevision == "segment-map"
    assert layout.xaxis.title.text.startswith("PC1") and layout.yaxis.title.text.startswith("PC2")


def test_recolour_patch_replaces_colours_and_legend() -> None:
    labels = np.random.default_rng(2).integers(1, 7, 9000)
    operations = figures.recolour_map(labels, [f"name {n}" for n in range(1, 7)]
                                      ).to_plotly_json()["operations"]
    colour = operations[0]
    assert colour["location"] == ["data", 0, "marker", "color"]
    np.testing.assert_array_equal(decoded(colour["params"]["value"]), labels)
    legend = {op["location"][1]: op["params"]["value"] for op in operations[1:]}
    assert sorted(legend) == list(range(1, 16))
    assert [n for n, entry in legend.items() if entry["visible"]] == list(range(1, 7))
    assert legend[6]["name"] == "6 · name 6"


@pytest.mark.parametrize("k", [4, 15])
def test_recolour_patch_is_small(k: int) -> None:
    labels = np.random.default_rng(k).integers(1, k + 1, 9000)
    names = ["Cash-and-card revolvers"] * k
    patch = size(figures.recolour_map(labels, names))
    full = size(figures.segment_map(big_projection(), labels, names))
    assert patch <= PATCH_MAX_BYTES
    assert 7 * patch < full  # x/y (float32) dominate the full map; the patch has neither


@pytest.mark.parametrize("labels", [[0, 1], [1, 16]])
def test_segment_numbers_must_fit_the_colours(labels: list[int]) -> None:
    with pytest.raises(ValueError, match="1..15"):
        figures.recolour_map(np.array(labels), ["a"])


def test_distribution_boxes_use_precomputed_statistics(segmentation: Segmentation,
                                                       names: list[str]) -> None:
    frame = segmentation.prepared.frame
    mask = np.arange(len(frame)) < 100
    stats = box_stats(frame["BALANCE"], segmentation.labels, mask)
    figure = figures.distribution_figure(stats, "Balance", names, prefix="€")
    assert [b.y[0].replace("<br>", " ") for b in figure.data] == ["Selection"] + [
        f"{n} · {name}" for n, name in enumerate(names, 1)]
    lines = [line for b in figure.data for line in b.y[0].split("<br>")]
    assert all(len(line) <= figures.BOX_LABEL_WIDTH or " " not in line for line in lines)
    assert figure.layout.xaxis.tickprefix == "€"
    assert figure.data[0].marker.color == SELECTION_GREY
    assert [b.marker.color for b in figure.data[1:]] == list(SEGMENT_COLOURS[:4])
    assert figure.data[1].q1[0] == pytest.approx(stats.loc[1, "q1"], rel=1e-5)  # 6 digits
    assert figure.data[1].upperfence[0] == pytest.approx(stats.loc[1, "upper"], rel=1e-5)
    assert all(b.x is None for b in figure.data)  # no raw values travel
    assert size(figure) < 5_000


def test_distribution_skips_an_empty_selection(segmentation: Segmentation,
                                               names: list[str]) -> None:
    frame = segmentation.prepared.frame
    stats = box_stats(frame["BALANCE"], segmentation.labels, np.zeros(len(frame), dtype=bool))
    figure = figures.distribution_figure(stats, "Balance", names, colours=["#000000"] * 4)
    assert len(figure.data) == 4
    assert {b.marker.color for b in figure.data} == {"#000000"}


def test_histogram_bars_draw_one_bar_per_bin() -> None:
    result = histogram(np.random.default_rng(0).exponential(size=500), bins=25)
    figure = figures.histogram_bars(result, "Balance (currency)")
    bars = figure.data[0]
    assert len(bars.x) == 25 and sum(bars.y) == 500
    assert bars.width == pytest.approx(np.diff(result.edges))
    assert figure.layout.xaxis.title.text == "Balance (currency)"


def test_profile_heatmap_rows_features_and_selection(segmentation: Segmentation,
                                                     names: list[str]) -> None:
    features = ["BALANCE", "CASH_ADVANCE", "PRC_FULL_PAYMENT", "UTILISATION"]
    frame = segmentation.prepared.frame
    top_ten = frame["CASH_ADVANCE"].rank(ascending=False).to_numpy() <= 10
    selection = selection_z_scores(frame, top_ten, features)
    means = frame.loc[top_ten, features].mean()
    plain = figures.profile_heatmap(segmentation.profiles, features).data[0]
    heatmap = figures.profile_heatmap(segmentation.profiles, features, pd.DataFrame(
        {"z_score": selection, "mean": means})).data[0]
    assert np.shape(plain.z) == (4, 4) and np.shape(heatmap.z) == (5, 4)
    assert list(heatmap.y) == ["Selection"] + [f"{n} · {name}" for n, name in enumerate(names, 1)]
    assert list(heatmap.x) == ["Balance", "Cash advance", "Full-payment share",
                               "Credit utilisation"]
    raw = np.asarray(heatmap.customdata, dtype=float)
    np.testing.assert_allclose(raw[0], selection.to_numpy())
    np.testing.assert_allclose(heatmap.z, np.clip(raw, -2.5, 2.5))
    assert np.abs(raw).max() > 2.5  # the clip is exercised
    assert heatmap.zmid == 0 and (heatmap.zmin, heatmap.zmax) == (-2.5, 2.5)
    assert heatmap.text[1][0] == f"{segmentation.profiles[0].means['BALANCE']:,.0f}"
    assert heatmap.text[0][0] == f"{means['BALANCE']:,.0f}"  # the selection's own mean


def test_migration_sankey_nodes_and_flows(segmentation: Segmentation, names: list[str]) -> None:
    after = np.random.default_rng(0).integers(1, 7, len(segmentation.labels))
    flows = migration(segmentation.labels, after)
    sankey = figures.migration_sankey(flows, names, [f"new {n}" for n in range(1, 7)]).data[0]
    assert len(sankey.node.label) == 4 + 6
    assert list(sankey.node.color) == list(SEGMENT_COLOURS[:4] + SEGMENT_COLOURS[:6])
    assert sum(sankey.link.value) == len(after)
    assert max(sankey.link.source) < 4 <= min(sankey.link.target)


def test_sweep_figure_marks_the_recommended_k_in_every_panel() -> None:
    ks = np.arange(2, 9)
    table = pd.DataFrame({"k": ks, "inertia": 1000 / ks, "silhouette": 0.5 - 0.01 * ks,
                          "calinski_harabasz": 100 + ks, "davies_bouldin": 1 - 0.02 * ks,
                          "bic": np.nan})
    sweep = SweepResult(table, recommended_k=5, reason="", knee_k=4, silhouette_sample_size=None,
                        algorithm="kmeans")
    figure = figures.sweep_figure(sweep)
    lines = [s for s in figure.layout.shapes if s.line.dash == "dash"]
    assert len(lines) == 4 and {s.x0 for s in lines} == {5}
    assert len({(s.xref, s.yref) for s in lines}) == 4
    texts = [a.text for a in figure.layout.annotations]
    assert sum("better" in t for t in texts) == 3 and texts.count("k = 5") == 4
    elbow = [t for t in figure.data if t.name == "elbow"]
    assert list(elbow[0].x) == [4] and list(elbow[0].y) == [250]


def test_relationship_scatter_is_typed_and_says_it_is_a_sample() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.exponential(size=3000), rng.exponential(size=3000)
    x[:7] = 0
    figure = figures.relationship_scatter(x, y, "Payments", "Minimum payments", log=True,
                                          colour=rng.integers(1, 5, 3000), total=9000)
    points = as_json(figure)["data"][0]
    assert points["x"]["dtype"] == "f4" and len(decoded(points["x"])) == 3000
    assert points["marker"]["color"]["dtype"] == "i1"
    assert figure.layout.xaxis.type == figure.layout.yaxis.type == "log"
    note = figure.layout.annotations[0].text
    assert "3,000 of 9,000 customers shown" in note and "7 zeros hidden" in note
    assert not figures.relationship_scatter(x[:10], y[:10], "a", "b").layout.annotations


def test_style_mix_bar_stacks_groups_or_lists_categories(segmentation: Segmentation,
                                                         names: list[str]) -> None:
    frame = segmentation.prepared.frame
    by_segment = style_mix(frame, "PURCHASE_STYLE", segmentation.labels)
    stacked = figures.style_mix_bar(by_segment, "Purchase style", names)
    assert [t.name for t in stacked.data] == list(by_segment.columns)
    assert stacked.layout.barmode == "stack"
    assert list(stacked.data[0].y) == [f"{n} · {name}" for n, name in enumerate(names, 1)]
    single = figures.style_mix_bar(style_mix(frame, "PURCHASE_STYLE"), "Purchase style")
    assert len(single.data) == 1 and list(single.data[0].y) == list(by_segment.columns)
    assert sum(single.data[0].x) == pytest.approx(100)


def test_empty_figure_shows_only_the_message() -> None:
    figure = figures.empty_figure("Nothing selected")
    assert not figure.data
    assert [a.text for a in figure.layout.annotations] == ["Nothing selected"]
    assert figure.layout.xaxis.visible is False and figure.layout.yaxis.visible is False


def test_every_figure_uses_the_base_template(segment_map: go.Figure) -> None:
    for figure in (segment_map, figures.empty_figure("x")):
        assert figure.layout.template.layout.xaxis.gridcolor == "#EEEEEE"
        assert figure.layout.template.layout.colorway == SEGMENT_COLOURS


def test_portfolio_bars_run_best_roi_first_with_titled_axes() -> None:
    from types import SimpleNamespace

    lines = [SimpleNamespace(segment=1, roi=0.4, spent=100.0),
             SimpleNamespace(segment=2, roi=2.5, spent=300.0),
             SimpleNamespace(segment=3, roi=None, spent=0.0)]
    figure = figures.portfolio_figure(lines, ["a", "b", "c"])
    assert list(figure.data[0].y) == ["2 · b", "1 · a", "3 · c"]  # the order of the split
    assert figure.layout.xaxis.title.text == "Return on spend (%)"
    assert figure.layout.xaxis2.title.text == "Budget (currency)"
