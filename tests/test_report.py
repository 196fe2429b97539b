"""The standalone HTML report: one offline document, everything in it, user text escaped."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from html import escape
from html.parser import HTMLParser
from importlib import import_module
from pathlib import Path

import plotly.offline
import pytest

import dashapp
from core.campaign import default_plan, project
from core.demo import generate_demo_data
from core.loading import from_frame
from core.pipeline import SegmentationConfig, segment_customers, sweep
from dashapp.components import create_stability_badge
from dashapp.glossary import TERMS
from dashapp.report import REPORT_TERMS, build_report
from dashapp.store import get_store

HOSTILE = "<script>alert(1)</script>"
HOSTILE_PLAN = "<img src=x onerror=alert(2)>"
PLOTLY_JS = plotly.offline.get_plotlyjs()
VOID = {"meta", "br", "img", "hr", "input", "link", "col", "wbr", "source", "area", "base"}
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//"""  # src="http...", href=//...
                      r"""|<link|@import|url\(\s*["']?http""", re.IGNORECASE)


class _Nesting(HTMLParser):
    """Records tags left open, closed out of order or never opened."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> while open: {self.stack[-3:]}")
        else:
            self.stack.pop()


@pytest.fixture(scope="module")
def data():
    frame = generate_demo_data(900, seed=5).assign(REGION=HOSTILE)
    return from_frame(frame, source=f"{HOSTILE}.csv")


@pytest.fixture(scope="module")
def segmentation(data):
    fitted = segment_customers(data, SegmentationConfig(k=3), with_stability=True)
    renamed = list(fitted.profiles)
    renamed[0] = dataclasses.replace(renamed[0], name=f"{HOSTILE} spenders")
    return dataclasses.replace(fitted, profiles=tuple(renamed))


@pytest.fixture(scope="module")
def k_sweep(data):
    return sweep(data, SegmentationConfig(k=3, n_init=2), ks=range(2, 6))


@pytest.fixture(scope="module")
def plans(segmentation):
    chosen = []
    for profile in segmentation.profiles[:2]:
        plan = default_plan(profile, start=date(2025, 3, 3),
                            name=f"{HOSTILE_PLAN} {profile.segment}")
        chosen.append((plan, project(plan, profile.size)))
    return chosen


@pytest.fixture(scope="module")
def report(data, segmentation, k_sweep, plans):
    return build_report(data, segmentation, sweep=k_sweep, plans=plans)


@pytest.fixture(scope="module")
def page(report):
    """The report without the plotly.js bundle: what the report itself wrote."""
    return report.replace(PLOTLY_JS, "")


def test_one_document_with_plotly_js_inlined_once(report, page):
    assert report.startswith("<!DOCTYPE html>")
    assert report.count(PLOTLY_JS) == 1
    assert report.count("<html") == report.count("</html>") == 1
    assert page.count("plotly.js v") == 0
    figures = page.count("class=\"plotly-graph-div\"")
    assert figures == 6  # sweep, heatmap, spending boxes, three style mixes
    assert page.count("<script") == 1 + figures  # the bundle, then one call per chart


def test_opens_offline(page):
    assert not EXTERNAL.findall(page)
    assert "default-src 'none'" in page  # the browser may not fetch anything either


def test_parses_as_well_nested_html(report):
    parser = _Nesting()
    parser.feed(report)
    parser.close()
    assert parser.problems == []
    assert parser.stack == []


def test_holds_every_section(page, segmentation, k_sweep, plans):
    for heading in ("Data", "Choosing k", "Segments (k = 3)", "Campaign plans", "Projections"):
        assert f"{heading}</h" in page
    assert escape(k_sweep.reason) in page
    for profile in segmentation.profiles:
        assert escape(profile.name) in page
        assert escape(profile.description) in page
        assert escape(segmentation.stability.verdict(profile.segment)) in page
    for plan, projection in plans:
        assert escape(plan.name) in page
        assert f"{projection.audience:,}" in page
    for line in segmentation.prepared.cleaning.lines():
        assert escape(line) in page


def test_its_statistical_terms_are_explained_in_the_apps_words(page):
    assert "What the terms mean</h2>" in page
    for name, term in REPORT_TERMS:
        assert f"<td>{escape(name)}</td><td>{escape(TERMS[term])}</td>" in page


def test_every_term_of_the_glossary_is_shown_somewhere():
    shown = "\n".join(path.read_text() for path in Path(dashapp.__file__).parent.rglob("*.py")
                      if path.name != "glossary.py")
    assert [t for t in TERMS if f'"{t}"' not in shown] == []


def test_user_text_is_escaped(page):
    for text in (HOSTILE, HOSTILE_PLAN):
        assert text not in page
    assert escape(f"{HOSTILE}.csv") in page
    assert escape(f"{HOSTILE} spenders") in page
    assert escape(HOSTILE_PLAN) in page


def test_size_is_mostly_plotly_js(report, page):
    assert len(report) < len(PLOTLY_JS) + 400_000
    assert len(page) < 400_000


def test_without_sweep_stability_or_plans_says_so(data):
    plain = segment_customers(data, SegmentationConfig(k=2))
    page = build_report(data, plain).replace(PLOTLY_JS, "")
    assert "k = 2 segments was set directly" in page
    assert "Stability was not assessed" in page
    assert "No campaign has been planned yet" in page
    assert page.count("class=\"plotly-graph-div\"") == 5


BADGE_JACCARD = re.compile(r"Score (\d\.\d\d) of 1")


def _app_stability(state: dict) -> list[str]:
    """What the Segments page's badges say, per segment: ``verdict (Jaccard 0.93)``."""
    store = get_store()
    view, segmentation = store.current(state)
    stability = store.stability(view.data, view.config)
    badges = [create_stability_badge(stability.verdict(p.segment), stability.jaccard[p.segment])
              for p in segmentation.profiles]
    return [f"{b.children} (Jaccard {BADGE_JACCARD.search(b.title)[1]})" for b in badges]


def _report_stability(page: str) -> list[str]:
    """The stability column of the report's segment table."""
    table = page.split("<th>Stability</th>")[1].split("</table>")[0]
    return re.findall(r"<td>([a-z ]+ \(Jaccard [\d.]+\))</td>", table)


@pytest.mark.parametrize("k", [3, 5])
def test_stability_is_the_one_the_app_shows(app, demo_state, k):
    store = get_store()
    state = {**demo_state, "k": k}
    view, segmentation = store.current(state)
    page = build_report(store.data(view.data), segmentation,
                        stability=store.stability(view.data, view.config))
    assert _report_stability(page) == _app_stability(state)
    assert len(_report_stability(page)) == k
    assert "Stability was not assessed" not in page


def test_the_downloaded_report_carries_the_app_stability(app, demo_state):
    page = import_module("pages.campaigns").download_report(1, demo_state)["content"]
    assert _report_stability(page) == _app_stability(demo_state)


def test_the_best_k_of_3_or_more_is_reported_when_k_2_scores_best(data, segmentation, k_sweep):
    two = dataclasses.replace(k_sweep, recommended_k=2, alternative_k=4,
                              alternative_reason=f"k = 4: {HOSTILE} reasons.")
    page = build_report(data, segmentation, sweep=two).replace(PLOTLY_JS, "")
    assert "Best with 3 or more segments" in page
    assert escape(two.alternative_reason) in page and HOSTILE not in page
    assert "Best with 3 or more" not in build_report(data, segmentation, sweep=k_sweep)
