"""A standalone HTML report of one segmentation: one file that opens offline, nothing fetched.

plotly.js is inlined once in the page head; every chart is a ``<div>`` drawn by it. A
Content-Security-Policy forbids any network request from the page, and every text that comes
from the user's data (file name, attribute names, segment and plan names) is HTML-escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline

from core.campaign import CampaignPlan, Projection
from core.currency import money
from core.features import STYLES, label
from core.loading import CustomerData
from core.naming import risk_details
from core.pipeline import Segmentation
from core.profiling import NUMERIC_FEATURES, SegmentProfile
from core.stability import StabilityResult
from core.summary import box_stats, style_mix
from core.sweep import SweepResult
from dashapp.figures import (
    column_label,
    distribution_figure,
    profile_heatmap,
    segment_label,
    style_mix_bar,
    sweep_figure,
    value_prefix,
    value_text,
)
from dashapp.glossary import TERMS
from dashapp.theme import segment_colour

REPORT_TERMS = (("Inertia", "inertia"), ("Silhouette", "silhouette"),
                ("Calinski–Harabasz", "calinski_harabasz"), ("Davies–Bouldin", "davies_bouldin"),
                ("z-score", "z_score"), ("Effect size", "effect_size"),
                ("Stability (Jaccard)", "stability"), ("Control group", "control_group"),
                ("Incremental revenue", "incremental_revenue"), ("ROI", "roi"),
                ("Minimum detectable uplift", "mde"))
DISTRIBUTION_FEATURE = "TOTAL_SPENDING"
METRIC_LABELS: dict[str, str] = {
    "inertia": "Inertia (within-segment spread; lower is tighter)",
    "silhouette": "Silhouette (-1 to 1; higher separates better)",
    "calinski_harabasz": "Calinski–Harabasz (higher is better)",
    "davies_bouldin": "Davies–Bouldin (lower is better)",
}
FIGURE_CONFIG = {"displaylogo": False, "responsive": True}
# No request may leave the page: scripts and styles only inline, images only as data URIs.
CONTENT_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; "
                  "style-src 'unsafe-inline'; img-src data: blob:; font-src data:")
STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #333;
       max-width: 1100px; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
.muted { color: #777; } .warning { color: #a15c00; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .3rem .6rem; text-align: left; vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.segment { border-left: 6px solid #4477AA; padding: .2rem 1rem; margin: 1.5rem 0; }
.chart { height: 460px; margin: 1rem 0; } .chart.tall { height: 560px; }
@media print { .chart { break-inside: avoid; } }
"""


def build_report(data: CustomerData, segmentation: Segmentation, *,
                 sweep: SweepResult | None = None,
                 stability: StabilityResult | None = None,
                 plans: Sequence[tuple[CampaignPlan, Projection]] = ()) -> str:
    """One self-contained HTML document describing a segmentation and its campaigns.

    Parameters
    ----------
    data : CustomerData
        The loaded table the segmentation was fitted on (source, size, quality notes).
    segmentation : Segmentation
    sweep : SweepResult, optional
        The k sweep behind the choice of k; without it the report states k and its scores.
    stability : StabilityResult, optional
        The stability the app shows for this segmentation (``Store.stability``); default: the
        segmentation's own, if it was assessed.
    plans : sequence of (CampaignPlan, Projection)
        Campaign plans with their projections (:func:`core.campaign.project`).

    Returns
    -------
    str
        The HTML document (about 5 MB, most of it plotly.js).
    """
    figures = _Figures()
    title = f"Customer segments of {data.source}"
    body = "\n".join([
        f"<h1>{escape(title)}</h1>",
        f"<p class='muted'>Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by Clusters to "
        f"Campaigns.</p>",
        _data_section(data, segmentation),
        _k_section(segmentation, sweep, figures),
        _segments_section(segmentation, stability or segmentation.stability, figures),
        _plans_section(plans, segmentation.profiles),
        _terms_section(),
    ])
    return (f"<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
            f"<meta http-equiv='Content-Security-Policy' content=\"{CONTENT_POLICY}\">\n"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n"
            f"<script>{plotly.offline.get_plotlyjs()}</script>\n</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n")


class _Figures:
    """Turns figures into ``<div>`` snippets with stable ids (``figure-1``, ``figure-2``...)."""

    def __init__(self) -> None:
        self.count = 0

    def html(self, figure: go.Figure, *, tall: bool = False) -> str:
        """``figure`` as a chart ``<div>`` drawn by the page's plotly.js."""
        self.count += 1
        snippet = pio.to_html(figure, full_html=False, include_plotlyjs=False,
                              config=FIGURE_CONFIG, div_id=f"figure-{self.count}")
        return f"<div class='chart{' tall' if tall else ''}'>{snippet}</div>"


# --- sections -------------------------------------------------------------------------------

def _data_section(data: CustomerData, segmentation: Segmentation) -> str:
    """Where the data came from, what the loader noticed and what cleaning changed."""
    feature_set = segmentation.prepared.preprocessor.feature_set
    config = segmentation.config
    facts = [
        ("Source", data.source),
        ("Customers", f"{len(data):,}"),
        ("Extra columns kept", ", ".join(data.attributes) or "none"),
        ("Algorithm", segmentation.clusters.algorithm + _noise_note(segmentation.clusters.n_noise)),
        ("Feature set", f"{feature_set.name}: {feature_set.description}"),
        ("Features", ", ".join(label(c) for c in feature_set.columns)),
        ("Scaling", config.scaling + (f", PCA {config.pca}" if config.pca is not None else "")),
        ("Random seed", str(config.random_state)),
    ]
    renamed = [f"'{found}' → {canonical}" for found, canonical in data.renamed]
    return "\n".join([
        "<h2>Data</h2>",
        _table((), facts),
        "<h3>What we noticed in the file</h3>",
        _list(data.quality.lines(), empty="No problems found."),
        f"<p class='muted'>Headers matched: {escape('; '.join(renamed))}</p>" if renamed else "",
        "<h3>What cleaning changed</h3>",
        _list(segmentation.prepared.cleaning.lines(),
              empty="Nothing needed filling or fixing."),
    ])


def _noise_note(n_noise: int) -> str:
    """What happened to the customers hdbscan called noise, if any."""
    if not n_noise:
        return ""
    return f" ({n_noise:,} customers it called noise were put in the nearest segment)"


def _k_section(segmentation: Segmentation, sweep: SweepResult | None,
               figures: _Figures) -> str:
    """The chosen k, why (the sweep and its recommendation), and the fit's quality scores."""
    k = segmentation.k
    scores = [(METRIC_LABELS.get(name, name), _number(value, ",.3f"))
              for name, value in segmentation.metrics.items()]
    parts = ["<h2>Choosing k</h2>"]
    if sweep is None:
        parts.append(f"<p>k = {k} segments was set directly; no sweep of k was run.</p>")
    else:
        parts.append(f"<p><strong>Recommendation:</strong> {escape(sweep.reason)}</p>")
        if sweep.alternative_k is not None:
            parts.append(f"<p><strong>Best with 3 or more segments</strong> (two segments rarely "
                         f"make two useful campaigns): {escape(sweep.alternative_reason)}</p>")
        if sweep.recommended_k != k:
            parts.append(f"<p>The segmentation below uses k = {k}, chosen instead of the "
                         f"recommended k = {sweep.recommended_k}.</p>")
        if sweep.silhouette_sample_size is not None:
            parts.append(f"<p class='muted'>Silhouettes were computed on the same random "
                         f"{sweep.silhouette_sample_size:,} customers for every k.</p>")
        parts.append(figures.html(sweep_figure(sweep), tall=True))
    parts += [f"<h3>Scores of the fit with k = {k}</h3>",
              _table(("Score", "Value"), scores, numeric=(1,))]
    return "\n".join(parts)


def _segments_section(segmentation: Segmentation, stability: StabilityResult | None,
                      figures: _Figures) -> str:
    """Charts comparing the segments, stability, then one block per segment."""
    profiles = segmentation.profiles
    names = [p.name for p in profiles]
    frame, labels = segmentation.prepared.frame, segmentation.labels
    stats = box_stats(frame[DISTRIBUTION_FEATURE].to_numpy(), labels)
    charts = [
        "<h3>Profiles (z-scores: how far each segment's average is from all customers')</h3>",
        figures.html(profile_heatmap(profiles, NUMERIC_FEATURES), tall=True),
        f"<h3>{escape(column_label(DISTRIBUTION_FEATURE, unit=True))} by segment</h3>",
        figures.html(distribution_figure(stats, column_label(DISTRIBUTION_FEATURE), names,
                                         prefix=value_prefix(DISTRIBUTION_FEATURE))),
        *(figures.html(style_mix_bar(style_mix(frame, s.name, labels), s.label, names))
          for s in STYLES),
    ]
    overview = [(segment_label(p.segment, p.name), f"{p.size:,}", f"{p.share:.1%}",
                 _verdict(stability, p.segment)) for p in profiles]
    return "\n".join([
        f"<h2>Segments (k = {segmentation.k})</h2>",
        _table(("Segment", "Customers", "Share", "Stability"), overview, numeric=(1, 2)),
        _stability_note(stability),
        *charts,
        *(_segment_block(p, _verdict(stability, p.segment)) for p in profiles),
    ])


def _stability_note(result: StabilityResult | None) -> str:
    """How the stability was measured, or that it was not."""
    if result is None:
        return "<p class='muted'>Stability was not assessed for this report.</p>"
    return (f"<p class='muted'>Stability: the segmentation was re-fitted on {result.n_resamples} "
            f"random subsamples of {result.sample_fraction:.0%} of the customers; mean adjusted "
            f"Rand index {result.mean_ari:.2f}. A segment is stable when its mean Jaccard "
            f"similarity to the re-fits is at least 0.75, fairly stable from 0.6 (Hennig, "
            f"2007).</p>")


def _verdict(result: StabilityResult | None, segment: int) -> str:
    """``stable (Jaccard 0.93)``, or a dash when stability was not assessed."""
    if result is None or segment not in result.jaccard:
        return "—"
    return f"{result.verdict(segment)} (Jaccard {_number(result.jaccard[segment], '.2f')})"


def _segment_block(profile: SegmentProfile, verdict: str) -> str:
    """Name, size, stability, description, top features, levers and risk signals of a segment."""
    features = [(f.label, _value(f.name, f.segment_mean), _value(f.name, f.population_mean),
                 "higher" if f.effect > 0 else "lower", _number(f.effect, "+.2f"))
                for f in profile.top_features]
    levers = [f"<strong>{escape(lever.objective)}</strong>: {escape(lever.offer)} via "
              f"{escape(lever.channel)} — {escape(lever.rationale)}" for lever in profile.levers]
    return "\n".join([
        f"<section class='segment' style='border-color: {segment_colour(profile.segment)}'>"
        f"<h3>{escape(segment_label(profile.segment, profile.name))}</h3>",
        f"<p class='muted'>{profile.size:,} customers ({profile.share:.1%}) · stability: "
        f"{escape(verdict)}</p>",
        f"<p>{escape(profile.description)}</p>",
        "<h4>What sets it apart</h4>",
        _table(("Feature", "Segment mean", "All customers", "Direction", "Effect size"),
               features, numeric=(1, 2, 4)),
        "<h4>Campaign levers</h4>",
        _list(levers, empty="No lever suggested.", escaped=True),
        "<h4>Risk signals</h4>",
        _list(risk_details(profile), empty="No risk signal stands out."),
        "</section>",
    ])


def _plans_section(plans: Sequence[tuple[CampaignPlan, Projection]],
                   profiles: Sequence[SegmentProfile]) -> str:
    """The campaign plans, their projections (one row per plan) and why some cannot measure."""
    if not plans:
        return "<h2>Campaign plans</h2>\n<p class='muted'>No campaign has been planned yet.</p>"
    names = {p.segment: p.name for p in profiles}
    what = [(plan.name, segment_label(plan.segment, names.get(plan.segment, "?")),
             plan.objective, plan.offer, plan.channel, _number(plan.holdout_share, ".0%"),
             _money(plan.budget_cap), str(plan.start),
             _number(plan.duration_days, ",.0f")) for plan, _ in plans]
    numbers = [(plan.name, plan.segment, _number(p.audience, ",.0f"),
                _number(p.treated, ",.0f") + (" (budget cap)" if p.capped_by_budget else ""),
                _number(p.control, ",.0f"), _money(p.total_cost),
                _number(p.expected_responders, ",.0f"), _money(p.incremental_revenue),
                _number(p.roi, ".0%"), _points(p.mde), "yes" if p.measurable else "no")
               for plan, p in plans]
    warnings = [f"{plan.name} (segment {plan.segment}): {p.warning}"
                for plan, p in plans if p.warning]
    return "\n".join([
        "<h2>Campaign plans</h2>",
        _table(("Plan", "Segment", "Objective", "Offer", "Channel", "Holdout", "Budget cap",
                "Start", "Days"), what, numeric=(5, 6, 8)),
        "<h3>Projections</h3>",
        _table(("Plan", "Segment", "Audience", "Treated", "Control", "Total cost",
                "Expected responders", "Incremental revenue", "ROI", "Minimum detectable uplift",
                "Measurable"), numbers, numeric=tuple(range(1, 10))),
        _list(warnings, empty="Every plan can measure its expected uplift.", css="warning"),
    ])


def _terms_section() -> str:
    """The statistical terms of the report in plain words, as the app's info marks say them."""
    rows = [(name, TERMS[term]) for name, term in REPORT_TERMS]
    return "<h2>What the terms mean</h2>\n" + _table(("Term", "Meaning"), rows)


# --- HTML helpers ---------------------------------------------------------------------------

def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *,
           numeric: Sequence[int] = ()) -> str:
    """Escaped cells in a table; no header row without ``headers``, ``numeric`` columns right."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    body = "".join("<tr>" + "".join(_cell(value, i in numeric) for i, value in enumerate(row))
                   + "</tr>" for row in rows)
    return f"<table>{thead}<tbody>{body}</tbody></table>"


def _cell(value: Any, numeric: bool) -> str:
    """One escaped table cell, right-aligned when ``numeric``."""
    align = " class='number'" if numeric else ""
    return f"<td{align}>{escape(str(value))}</td>"


def _list(items: Sequence[str], *, empty: str, escaped: bool = False, css: str = "") -> str:
    """A bullet list (items escaped unless ``escaped``), or ``empty`` in muted text."""
    if not items:
        return f"<p class='muted'>{escape(empty)}</p>"
    return (f"<ul class='{css}'>" + "".join(f"<li>{item if escaped else escape(item)}</li>"
                                             for item in items) + "</ul>")


def _points(share: float | None) -> str:
    """A difference in response rate in percentage points, e.g. ``1.9 points``."""
    return "—" if share is None else f"{share * 100:.1f} points"


def _number(value: Any, spec: str) -> str:
    """``value`` formatted with ``spec``; a dash when missing or not a finite number."""
    return "—" if _missing(value) else format(value, spec)


def _value(name: str, value: Any) -> str:
    """A value of column ``name`` as the app shows it (money in the currency); a dash if
    missing."""
    return "—" if _missing(value) else value_text(name, value)


def _money(value: Any) -> str:
    """An amount in the currency; a dash when missing."""
    return "—" if _missing(value) else money(value)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))
