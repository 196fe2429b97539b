"""Colours and the base plotly layout shared by every figure of the app.

Segment ``n`` (1..15) is always drawn in ``SEGMENT_COLOURS[n - 1]``: on the map (through
``SEGMENT_COLORSCALE``, so marker colours travel as one small int8 array), in the legends,
boxes, histograms and the Sankey diagram.
"""

from __future__ import annotations

from collections.abc import Collection

import plotly.graph_objects as go

# Paul Tol's "muted" scheme (9 colours), then six from Okabe & Ito: both are designed to stay
# distinguishable with the common colour-vision deficiencies. The first colours are the most
# distinct, as most segmentations have fewer than ten segments.
SEGMENT_COLOURS: tuple[str, ...] = (
    "#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933",
    "#AA4499", "#E69F00", "#0072B2", "#D55E00", "#56B4E9", "#CC79A7", "#000000",
)
MAX_SEGMENTS = len(SEGMENT_COLOURS)

NEUTRAL_GREY = "#BBBBBB"  # the population, customers not selected
SELECTION_GREY = "#555555"  # the selected customers, drawn next to the segments
CATEGORY_COLOURS: tuple[str, ...] = (NEUTRAL_GREY, "#77AADD", "#EE8866", "#44BB99")
DIVERGING_COLORSCALE: tuple[tuple[float, str], ...] = (  # Tol "BuRd", blue = below average
    (0.0, "#2166AC"), (0.25, "#92C5DE"), (0.5, "#F7F7F7"), (0.75, "#F4A582"), (1.0, "#B2182B"),
)
LINE_COLOUR = "#4477AA"
TEXT_COLOUR = "#333333"
MUTED_TEXT = "#777777"  # notes and empty-state messages
GRID_COLOUR = "#EEEEEE"

# Integer n maps to the middle of band n - 1, so each segment number gets exactly its colour.
SEGMENT_CMIN = 0.5
SEGMENT_CMAX = MAX_SEGMENTS + 0.5


def segment_colorscale(colours: tuple[str, ...] = SEGMENT_COLOURS) -> tuple[tuple[float, str], ...]:
    """A discrete colorscale giving integer ``n`` exactly ``colours[n - 1]``."""
    return tuple((edge / MAX_SEGMENTS, colour) for i, colour in enumerate(colours)
                 for edge in (i, i + 1))


SEGMENT_COLORSCALE = segment_colorscale()


def highlighted_colours(highlight: Collection[int]) -> tuple[str, ...]:
    """Segment colours with every segment not in ``highlight`` greyed out (none: all colour)."""
    if not highlight:
        return SEGMENT_COLOURS
    return tuple(c if n in highlight else NEUTRAL_GREY
                 for n, c in enumerate(SEGMENT_COLOURS, start=1))


def segment_colour(segment: int) -> str:
    """Colour of segment number ``segment`` (1-based)."""
    if not 1 <= segment <= MAX_SEGMENTS:
        raise ValueError(f"segment numbers run from 1 to {MAX_SEGMENTS}; got {segment!r}")
    return SEGMENT_COLOURS[segment - 1]


_AXIS = {"gridcolor": GRID_COLOUR, "zeroline": False, "linecolor": "#CCCCCC",
         "ticks": "outside", "tickcolor": "#CCCCCC", "automargin": True,
         "title": {"standoff": 8}}

BASE_TEMPLATE = go.layout.Template(layout={
    "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
             "size": 13, "color": TEXT_COLOUR},
    "title": {"font": {"size": 15}, "x": 0, "xanchor": "left", "xref": "paper"},
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "colorway": list(SEGMENT_COLOURS),
    "xaxis": _AXIS,
    "yaxis": _AXIS,
    "legend": {"bgcolor": "rgba(255,255,255,0.8)", "font": {"size": 12}},
    "hoverlabel": {"bgcolor": "white", "font": {"size": 12}},
})  # white backgrounds and hovermode "closest" are plotly.js's defaults
