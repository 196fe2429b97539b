"""Pure figure builders: core result objects in, ``plotly.graph_objects.Figure`` out.

Builders never read global data and never fit anything. Payloads stay small: large arrays
travel as typed arrays (float32 coordinates, int8 segment numbers), distributions as
pre-aggregated statistics, and no point carries a pre-formatted hover string.

``names`` arguments list segment names in segment order: segment ``n`` is ``names[n - 1]``.
"""

from __future__ import annotations

import base64
import textwrap
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import plotly.graph_objects as go
from dash import Patch
from plotly.subplots import make_subplots

from core.currency import money_prefix, money_unit
from core.features import is_money, kind, label
from core.features import unit as unit_of_column
from core.profiling import SegmentProfile
from core.projection import MapProjection
from core.summary import POPULATION, SELECTION, Histogram
from core.sweep import SweepResult
from dashapp.theme import (
    BASE_TEMPLATE,
    CATEGORY_COLOURS,
    DIVERGING_COLORSCALE,
    LINE_COLOUR,
    MAX_SEGMENTS,
    MUTED_TEXT,
    NEUTRAL_GREY,
    SEGMENT_CMAX,
    SEGMENT_CMIN,
    SEGMENT_COLORSCALE,
    SELECTION_GREY,
    highlighted_colours,
    segment_colorscale,
    segment_colour,
)

MAP_MARKER_SIZE = 4
BOX_LABEL_WIDTH = 20  # characters per line of a box plot's segment names: the plot keeps room
Z_CLIP = 2.5  # heatmap colours saturate beyond +-2.5 standard deviations
SELECTION_LABEL = "Selection"
SWEEP_PANELS: tuple[tuple[str, str], ...] = (
    ("inertia", "Inertia: look for the elbow"),
    ("silhouette", "Silhouette: higher is better"),
    ("calinski_harabasz", "Calinski–Harabasz: higher is better"),
    ("davies_bouldin", "Davies–Bouldin: lower is better"),
)


# --- labels and encodings -------------------------------------------------------------------

def typed_array(values: npt.ArrayLike, dtype: npt.DTypeLike) -> dict[str, str]:
    """``values`` as a plotly.js typed-array spec ``{"dtype", "bdata"}`` (base64, little-endian).

    ``dash.Patch`` sends numpy arrays as JSON lists; this keeps them binary.
    """
    array = np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<"))
    return {"dtype": array.dtype.str[1:], "bdata": base64.b64encode(array).decode("ascii")}


def segment_label(segment: int, name: str) -> str:
    """``1 · Cash-advance revolvers``."""
    return f"{segment} · {name}"


def column_label(name: str, *, unit: bool = False, before_unit: str = " ") -> str:
    """Business label of a behavioural column or engineered feature, optionally with its unit
    (after ``before_unit``: ``"<br>"`` puts it on a line of its own in a chart)."""
    if unit and kind(name) is not None:
        return f"{label(name)}{before_unit}({unit_of_column(name)})"
    return label(name)


def value_prefix(name: str) -> str:
    """What goes before a value of the column on axes and in hovers: the currency for money."""
    return money_prefix() if is_money(name) else ""


def value_text(name: str, value: float) -> str:
    """A value of the column as the app shows it, e.g. ``€1,462`` or ``0.86``."""
    return f"{value_prefix(name)}{value:{number_format(name)}}"


def number_format(name: str) -> str:
    """Format spec (valid for Python and d3) for values of a column: whole units or 2 decimals."""
    return f",.{_decimals(name)}f"


def _decimals(name: str) -> int:
    """Decimals shown: 0 for money, counts and months; 2 for scores, shares and ratios."""
    return 0 if is_money(name) or kind(name) in ("count", "months") else 2


def _segment_numbers(labels: npt.ArrayLike) -> np.ndarray:
    """Segment numbers as int8, checked to lie in 1..MAX_SEGMENTS."""
    array = np.asarray(labels)
    if array.ndim != 1 or (array.size and not 1 <= array.min() <= array.max() <= MAX_SEGMENTS):
        raise ValueError(f"labels must be segment numbers 1..{MAX_SEGMENTS}, one per point")
    return array.astype(np.int8)


def _segment_marker(labels: npt.ArrayLike) -> dict[str, Any]:
    """Marker colours from segment numbers through the fixed discrete colorscale."""
    return {"color": _segment_numbers(labels), "colorscale": SEGMENT_COLORSCALE,
            "cmin": SEGMENT_CMIN, "cmax": SEGMENT_CMAX, "showscale": False}


def _group_label(group: int | str, names: Sequence[str] | None) -> str:
    """Row label of a summary table row: a segment, the selection or all customers."""
    if group == SELECTION:
        return SELECTION_LABEL
    if group == POPULATION:
        return "All customers"
    return segment_label(int(group), names[int(group) - 1]) if names else f"Segment {group}"


def _translucent(colour: str, alpha: float) -> str:
    """``#RRGGBB`` with an alpha channel, ``#RRGGBBAA`` (a third the bytes of ``rgba(…)``)."""
    return f"{colour[:7]}{round(alpha * 255):02X}"


def _figure(data: Sequence[Any] = (), **layout: Any) -> go.Figure:
    """A figure on the app's base template."""
    return go.Figure(data=list(data), layout={"template": BASE_TEMPLATE, **layout})


# --- segment map ----------------------------------------------------------------------------

def segment_map(projection: MapProjection, labels: npt.ArrayLike, names: Sequence[str], *,
                revision: str = "segment-map") -> go.Figure:
    """The PCA map: every customer (or the projection's sample of a large table) a point
    coloured by segment, lasso-selectable.

    Trace 0 holds all points (float32 x/y, int8 segment numbers through the fixed
    :data:`~dashapp.theme.SEGMENT_COLORSCALE`); traces 1..15 are legend-only entries, one slot
    per possible segment, so :func:`recolour_map` can rename and show or hide them without
    resending trace 0. The tooltip names only the segment: per-point hover text would triple
    the payload, so the page describes the hovered customer beside the map instead.

    Parameters
    ----------
    projection : MapProjection
    labels : array of int, shape (n,)
        Segment number (1..15) of every customer (the drawn ones are picked here).
    names : sequence of str
        Segment names, ``names[n - 1]`` for segment ``n``.
    revision : str
        ``uirevision``: zoom and selection survive updates while it stays the same.
    """
    coords = np.asarray(projection.drawn(projection.coords), dtype=np.float32)
    marker = _segment_marker(projection.drawn(np.asarray(labels)))
    if len(marker["color"]) != len(coords):
        raise ValueError(f"{len(marker['color'])} labels for {len(coords)} points")
    points = go.Scattergl(
        x=np.ascontiguousarray(coords[:, 0]), y=np.ascontiguousarray(coords[:, 1]),
        mode="markers", name="customers", showlegend=False,
        marker=marker | {"size": MAP_MARKER_SIZE, "opacity": 0.7},
        unselected={"marker": {"color": NEUTRAL_GREY, "opacity": 0.3}},
        hovertemplate="Segment %{marker.color}<extra></extra>")
    # one line per driving behaviour on the (shorter) vertical axis, so its title fits
    titles = [{"text": projection.axis_title(axis).replace(": ", "<br>", 1)
               .replace(", ", "<br>" if axis else ", "), "font": {"size": 12}}
              for axis in (0, 1)]
    return _figure([points, *_legend_traces(names)],
                   xaxis={"title": titles[0]}, yaxis={"title": titles[1]},
                   dragmode="lasso", uirevision=revision, showlegend=True,
                   legend={"orientation": "h", "yanchor": "top", "y": -0.32, "x": 0,
                           "itemclick": False, "itemdoubleclick": False},
                   margin={"l": 60, "r": 10, "t": 10, "b": 10})


def recolour_map(labels: npt.ArrayLike, names: Sequence[str],
                 patch: Patch | None = None) -> Patch:
    """A Patch for a :func:`segment_map` figure: new segment numbers and legend, same points.

    Only the int8 segment numbers of trace 0 and the names and visibility of the legend slots
    travel (~14 KB for 9,000 customers, against ~250-400 KB for the whole map). Pass ``patch``
    to add these changes to another Patch (e.g. :func:`highlight_map`'s).
    """
    patch = Patch() if patch is None else patch
    patch["data"][0]["marker"]["color"] = typed_array(_segment_numbers(labels), np.int8)
    for slot, entry in enumerate(_legend_entries(names), start=1):
        patch["data"][slot].update(entry)
    return patch


def highlight_map(highlight: Collection[int], patch: Patch | go.Figure | None = None):
    """Grey out every segment not in ``highlight`` (empty: all in colour): a new Patch, or
    the same changes made to ``patch`` (a Patch, or a :func:`segment_map` figure)."""
    colours = highlighted_colours(highlight)
    patch = Patch() if patch is None else patch
    patch["data"][0]["marker"]["colorscale"] = segment_colorscale(colours)
    for slot in range(1, MAX_SEGMENTS + 1):
        patch["data"][slot]["marker"]["color"] = colours[slot - 1]
    return patch


def _legend_traces(names: Sequence[str]) -> list[dict[str, Any]]:
    """One legend-only trace per segment slot 1..15, slot ``n`` in segment ``n``'s colour."""
    return [{"type": "scattergl", "x": [None], "y": [None], "mode": "markers",
             "marker": {"color": segment_colour(n), "size": 10}, **entry}
            for n, entry in enumerate(_legend_entries(names), start=1)]


def _legend_entries(names: Sequence[str]) -> list[dict[str, Any]]:
    """Name and visibility of each legend slot; slots beyond ``len(names)`` are hidden."""
    if len(names) > MAX_SEGMENTS:
        raise ValueError(f"at most {MAX_SEGMENTS} segments can be drawn; got {len(names)}")
    return [{"name": segment_label(n, names[n - 1]), "visible": True} if n <= len(names)
            else {"visible": False} for n in range(1, MAX_SEGMENTS + 1)]


# --- distributions --------------------------------------------------------------------------

def distribution_figure(stats: pd.DataFrame, feature_label: str, names: Sequence[str],
                        colours: Sequence[str] | None = None, *, prefix: str = "") -> go.Figure:
    """Horizontal box plots from :func:`core.summary.box_stats`, one per segment.

    The selection (a grey box) comes first; groups without customers are left out.
    ``colours[n - 1]`` overrides segment ``n``'s colour; ``prefix`` goes before values (see
    :func:`value_prefix`).
    """
    # six significant digits: more than any axis or hover shows, and a third fewer bytes
    rows = stats[stats["count"] > 0].map(lambda value: float(f"{value:.6g}"))
    order = [g for g in rows.index if g == SELECTION] + [g for g in rows.index if g != SELECTION]
    boxes = [go.Box(y=["<br>".join(textwrap.wrap(_group_label(group, names), BOX_LABEL_WIDTH,
                                                  break_on_hyphens=False))],
                    orientation="h",
                    q1=[rows.at[group, "q1"]], median=[rows.at[group, "median"]],
                    q3=[rows.at[group, "q3"]], lowerfence=[rows.at[group, "lower"]],
                    upperfence=[rows.at[group, "upper"]], mean=[rows.at[group, "mean"]],
                    name=_group_label(group, names), showlegend=False,
                    marker_color=_group_colour(group, colours))
             for group in order]
    return _figure(boxes, xaxis={"title": feature_label, "nticks": 5,  # unrotated on a narrow card
                                 "tickprefix": prefix},
                   yaxis={"autorange": "reversed", "title": None, "automargin": True})


def _group_colour(group: int | str, colours: Sequence[str] | None) -> str:
    """Grey for the selection, else the segment's colour (or its override in ``colours``)."""
    if group == SELECTION:
        return SELECTION_GREY
    return colours[int(group) - 1] if colours else segment_colour(int(group))


def histogram_bars(histogram: Histogram, label: str, *, prefix: str = "") -> go.Figure:
    """Bars of one pre-aggregated distribution (:func:`core.summary.histogram`), on the
    ``log1p`` scale when it is; hover shows the bin, ``prefix`` goes before values (see
    :func:`value_prefix`)."""
    edges = histogram.edges
    position = np.log1p(edges) if histogram.log else edges
    bars = go.Bar(x=(position[:-1] + position[1:]) / 2, width=np.diff(position),
                  y=histogram.counts, name=label, marker={"color": LINE_COLOUR},
                  customdata=np.column_stack([edges[:-1], edges[1:]]),
                  hovertemplate=f"{label}<br>{prefix}%{{customdata[0]:,.4~g}} to "
                                f"{prefix}%{{customdata[1]:,.4~g}}: %{{y:,}} customers"
                                "<extra></extra>")
    return _figure([bars], bargap=0.05, showlegend=False, yaxis_title="Customers",
                   xaxis={"title": label, **_bin_axis(edges, histogram.log, prefix)})


def _bin_axis(edges: np.ndarray, log: bool, prefix: str) -> dict[str, Any]:
    """Axis settings for bins: ticks at 0, 1, 10, 100, ... on the ``log1p`` scale when ``log``."""
    if not log:
        return {"tickprefix": prefix}
    top = max(float(edges[-1]), 1.0)
    first = 1 if top >= 1000 else 0  # on long axes a tick at 1 crowds the one at 0
    ticks = np.array([0.0] + [10.0 ** p for p in range(first, int(np.ceil(np.log10(top))) + 1)])
    return {"tickvals": np.log1p(ticks).tolist(),
            "ticktext": [f"{prefix}{t:,.0f}" for t in ticks],
            "range": [np.log1p(edges[0]), np.log1p(edges[-1])]}


# --- profiles, migration, sweep -------------------------------------------------------------

def profile_heatmap(profiles: Sequence[SegmentProfile], features: Sequence[str],
                    selection: pd.DataFrame | None = None,
                    highlight: Collection[int] = ()) -> go.Figure:
    """Segments × features z-scores (colours clipped at ±2.5), the selection as the top row.

    Hover shows the exact z-score and the row's mean in the feature's units; the rows of
    the ``highlight`` segments are marked in bold. ``selection`` is indexed by feature, with
    the selected customers' ``z_score`` and ``mean``.
    """
    rows = [(f"<b>▶ {segment_label(p.segment, p.name)}</b>" if p.segment in highlight
             else segment_label(p.segment, p.name)) for p in profiles]
    z = np.array([[p.z_scores[f] for f in features] for p in profiles], dtype=float)
    text = [[value_text(f, p.means[f]) for f in features] for p in profiles]
    if selection is not None:
        chosen = selection.reindex(list(features))
        rows.insert(0, SELECTION_LABEL)
        z = np.vstack([chosen["z_score"].to_numpy(dtype=float), z])
        text.insert(0, [value_text(f, chosen.at[f, "mean"]) for f in features])
    z = z.astype(np.float32)  # the hover shows two decimals: half the bytes of float64
    heatmap = go.Heatmap(
        z=np.clip(z, -Z_CLIP, Z_CLIP), x=[column_label(f) for f in features], y=rows,
        customdata=z, text=text, zmin=-Z_CLIP, zmax=Z_CLIP, zmid=0,
        colorscale=DIVERGING_COLORSCALE, xgap=1, ygap=1,
        colorbar={"title": {"text": "z-score"}, "thickness": 12},
        hovertemplate="<b>%{y}</b><br>%{x}: mean %{text}<br>z-score %{customdata:+.2f}"
                      "<extra></extra>")
    return _figure([heatmap], yaxis={"autorange": "reversed", "title": None},
                   xaxis={"tickangle": -40, "title": None, "showgrid": False})


def migration_sankey(migration_df: pd.DataFrame, from_names: Sequence[str],
                     to_names: Sequence[str]) -> go.Figure:
    """Flows of customers from the previous k's segments (left) to the current ones (right)."""
    before, after = [int(s) for s in migration_df.index], [int(s) for s in migration_df.columns]
    counts = migration_df.to_numpy()
    source, target = np.nonzero(counts)
    sankey = go.Sankey(
        arrangement="snap",
        node={"label": [segment_label(s, from_names[s - 1]) for s in before]
                       + [segment_label(s, to_names[s - 1]) for s in after],
              "color": [segment_colour(s) for s in before + after], "pad": 12, "thickness": 14,
              "hovertemplate": "%{label}: %{value:,} customers<extra></extra>"},
        link={"source": source.tolist(), "target": (target + len(before)).tolist(),
              "value": counts[source, target].tolist(),
              "color": [_translucent(segment_colour(before[i]), 0.35) for i in source],
              "hovertemplate": "%{source.label} → %{target.label}: "
                               "%{value:,} customers<extra></extra>"})
    headers = [{"text": f"Before (k = {len(before)})", "x": 0, "xanchor": "left"},
               {"text": f"Now (k = {len(after)})", "x": 1, "xanchor": "right"}]
    return _figure([sankey], annotations=[{**h, "xref": "paper", "yref": "paper", "y": 1.06,
                                           "showarrow": False} for h in headers])


def sweep_figure(sweep: SweepResult) -> go.Figure:
    """Four quality scores against k, the recommended k dashed in every panel (the best k ≥ 3
    dotted when the recommendation is 2), the elbow ringed."""
    table, k = sweep.table, sweep.recommended_k
    figure = make_subplots(rows=2, cols=2, subplot_titles=[title for _, title in SWEEP_PANELS],
                           horizontal_spacing=0.14, vertical_spacing=0.2)
    figure.update_annotations(font_size=12)
    for i, (column, _) in enumerate(SWEEP_PANELS):
        row, col = divmod(i, 2)
        figure.add_trace(go.Scatter(x=table["k"], y=table[column], mode="lines+markers",
                                    line_color=LINE_COLOUR, showlegend=False,
                                    hovertemplate="k = %{x}: %{y:,.3~g}<extra></extra>"),
                         row=row + 1, col=col + 1)
        figure.add_vline(x=k, line={"dash": "dash", "color": SELECTION_GREY, "width": 1},
                         annotation_text=f"k = {k}", annotation_position="top right",
                         annotation_font_size=11, row=row + 1, col=col + 1)
        if sweep.alternative_k is not None:
            figure.add_vline(x=sweep.alternative_k,
                             line={"dash": "dot", "color": SELECTION_GREY, "width": 1},
                             annotation_text=f"k = {sweep.alternative_k}",
                             annotation_position="top right", annotation_font_size=11,
                             row=row + 1, col=col + 1)
    if sweep.knee_k is not None:
        elbow = table.loc[table["k"] == sweep.knee_k, "inertia"]
        figure.add_trace(go.Scatter(x=[sweep.knee_k], y=elbow, mode="markers", name="elbow",
                                    marker={"symbol": "circle-open", "size": 14,
                                            "color": SELECTION_GREY, "line": {"width": 2}},
                                    showlegend=False,
                                    hovertemplate="elbow at k = %{x}<extra></extra>"),
                         row=1, col=1)
    figure.update_xaxes(dtick=1)
    figure.update_xaxes(title_text="k (segments)", row=2)
    also = "" if sweep.alternative_k is None else f" (best k ≥ 3: {sweep.alternative_k})"
    figure.update_layout(template=BASE_TEMPLATE, title=f"Recommended k = {k}{also}",
                         margin={"t": 70})
    return figure


# --- overview ---------------------------------------------------------------------------------

def relationship_scatter(x: npt.ArrayLike, y: npt.ArrayLike, x_label: str, y_label: str,
                         log: bool = False, colour: npt.ArrayLike | None = None,
                         total: int | None = None, prefixes: tuple[str, str] = ("", "")
                         ) -> go.Figure:
    """Scatter of two columns for (a sample of) customers, e.g. payments vs minimum payments.

    Pass at most ~3,000 points (:func:`core.summary.sample_rows`) and ``total``, the number of
    customers they were drawn from, so the chart says it shows a sample. ``colour`` optionally
    gives segment numbers; ``log`` puts both axes on a log scale (zeros cannot be drawn there
    and are counted in the note). ``prefixes`` go before x and y values (:func:`value_prefix`).
    """
    xs, ys = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)
    marker: dict[str, Any] = {"size": 5, "opacity": 0.5, "color": LINE_COLOUR}
    if colour is not None:
        marker |= _segment_marker(colour)
    points = go.Scattergl(x=xs, y=ys, mode="markers", marker=marker, showlegend=False,
                          hovertemplate=f"{x_label}: {prefixes[0]}%{{x:,.4~g}}<br>"
                                        f"{y_label}: {prefixes[1]}%{{y:,.4~g}}<extra></extra>")
    axis = {"type": "log", "dtick": 1, "tickformat": "~s"} if log else {"type": "linear"}
    return _figure([points], xaxis={"title": x_label, "tickprefix": prefixes[0], **axis},
                   yaxis={"title": y_label, "tickprefix": prefixes[1], **axis},
                   annotations=_sample_note(xs, ys, log, total))


def _sample_note(xs: np.ndarray, ys: np.ndarray, log: bool,
                 total: int | None) -> list[dict[str, Any]]:
    """A small note above the plot: sample size and points hidden by log axes, if any."""
    parts = []
    if total is not None and total > len(xs):
        parts.append(f"{len(xs):,} of {total:,} customers shown")
    hidden = int(((xs <= 0) | (ys <= 0)).sum()) if log else 0
    if hidden:
        parts.append(f"{hidden:,} zeros hidden (log axes)")
    if not parts:
        return []
    text = "; ".join(parts)
    return [{"text": text[0].upper() + text[1:], "xref": "paper", "yref": "paper", "x": 1,
             "y": 1.01, "xanchor": "right", "yanchor": "bottom", "showarrow": False,
             "font": {"size": 11, "color": MUTED_TEXT}}]


def style_mix_bar(mix: pd.DataFrame, title: str, names: Sequence[str] | None = None) -> go.Figure:
    """Shares of a behaviour style's categories (:func:`core.summary.style_mix`).

    One group: one bar per category. Several groups (segments, selection): one stacked bar
    per group, each category a colour.
    """
    categories = list(mix.columns)
    colours = dict(zip(categories, CATEGORY_COLOURS, strict=False))
    hover = "%{y}: %{x:.1f} %<extra>%{fullData.name}</extra>"
    if len(mix) == 1:
        bars = [go.Bar(x=100 * mix.iloc[0].to_numpy(), y=categories, orientation="h",
                       marker_color=[colours.get(c, LINE_COLOUR) for c in categories],
                       name=_group_label(mix.index[0], names), hovertemplate=hover)]
    else:
        groups = [_group_label(g, names) for g in mix.index]
        bars = [go.Bar(x=100 * mix[c].to_numpy(), y=groups, orientation="h", name=str(c),
                       marker_color=colours.get(c, LINE_COLOUR), hovertemplate=hover)
                for c in categories]
    return _figure(bars, title=title, barmode="stack", xaxis={"title": "Share (%)"},
                   yaxis={"autorange": "reversed", "title": None},
                   showlegend=len(mix) > 1,
                   legend={"orientation": "h", "y": -0.2, "x": 0, "traceorder": "normal"})


def empty_figure(message: str) -> go.Figure:
    """A blank chart with ``message`` in the middle, for "no data" or "nothing selected"."""
    return _figure(xaxis={"visible": False}, yaxis={"visible": False},
                   annotations=[{"text": message, "xref": "paper", "yref": "paper", "x": 0.5,
                                 "y": 0.5, "showarrow": False,
                                 "font": {"size": 14, "color": MUTED_TEXT}}])


# --- campaigns ------------------------------------------------------------------------------

def portfolio_figure(lines: Sequence[Any], names: Sequence[str]) -> go.Figure:
    """Expected ROI and spend per segment's plan, from :func:`core.campaign.allocate` lines,
    best ROI first (the order the budget is split in)."""
    ordered = sorted(lines, key=lambda line: (-(line.roi or 0.0), line.segment))
    labels = [segment_label(line.segment, names[line.segment - 1]) for line in ordered]
    colours = [segment_colour(line.segment) for line in ordered]
    figure = make_subplots(rows=1, cols=2, horizontal_spacing=0.28,
                           subplot_titles=("Expected ROI of each plan", "Budget allocated"))
    figure.add_bar(x=[line.roi or 0.0 for line in ordered], y=labels, orientation="h",
                   marker_color=colours, hovertemplate="%{y}: ROI %{x:.0%}<extra></extra>",
                   row=1, col=1)
    figure.add_bar(x=[line.spent for line in ordered], y=labels, orientation="h",
                   marker_color=colours,
                   hovertemplate=f"%{{y}}: {money_prefix()}%{{x:,.0f}}<extra></extra>",
                   row=1, col=2)
    figure.update_layout(template=BASE_TEMPLATE, showlegend=False)
    figure.update_xaxes(tickformat=".0%", title="Return on spend (%)", row=1, col=1)
    figure.update_xaxes(tickformat=",.0f", tickprefix=money_prefix(),
                        title=f"Budget ({money_unit()})", row=1, col=2)
    figure.update_yaxes(autorange="reversed", title=None)
    figure.update_yaxes(showticklabels=False, row=1, col=2)
    figure.update_annotations(font_size=13)
    return figure
