"""``C2C_CURRENCY``: plain numbers by default; set, every amount the app, report and CLI write
names it, and a bad value stops the start with a message naming it."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from core.cli import main
from core.currency import money, money_prefix, money_unit
from core.errors import ConfigError
from core.features import unit
from core.pipeline import SegmentationConfig
from core.schema import ID_COLUMN
from dashapp.config import Settings
from dashapp.figures import column_label, value_text
from dashapp.members_table import column_defs
from dashapp.report import build_report
from dashapp.store import get_store, segmentation_cache_key
from tests.dash_helpers import text_of


@pytest.fixture
def euro(monkeypatch):
    monkeypatch.setenv("C2C_CURRENCY", "€")


@pytest.mark.parametrize(("setting", "amount", "negative", "unit_word"), [
    ("", "1,462", "-5", "currency"),
    ("€", "€1,462", "-€5", "€"),
    ("US$", "US$1,462", "-US$5", "US$"),
    ("EUR", "EUR 1,462", "-EUR 5", "EUR"),
])
def test_amounts_are_written_in_the_setting(monkeypatch, setting, amount, negative, unit_word):
    monkeypatch.setenv("C2C_CURRENCY", setting)
    assert money(1462.3) == amount and money(-5) == negative and money(-0.2) == money(0)
    assert money_unit() == unit_word
    assert unit("BALANCE") == unit_word and unit("PURCHASES") == f"{unit_word}, six months"
    assert unit("MONTHLY_PAYMENTS") == f"{unit_word} per month"
    assert unit("PURCHASES_FREQUENCY") == "score 0-1" and unit("UTILISATION") == "ratio"


@pytest.mark.parametrize("setting", ["12", "E U", "<b>", "€€€€", "EUROPE", "'$'", "$\\"])
def test_a_bad_currency_stops_the_app_and_the_cli_with_its_value(monkeypatch, capsys, tmp_path,
                                                                 setting):
    monkeypatch.setenv("C2C_CURRENCY", setting)
    with pytest.raises(ConfigError, match=re.escape("C2C_CURRENCY must be") + ".*" +
                       re.escape(repr(setting))):
        Settings.from_env()
    assert main(["fit", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "C2C_CURRENCY" in err and "Traceback" not in err
    assert not (tmp_path / "model.json").exists()  # stopped before any work


def test_labels_and_values_name_the_currency(euro):
    assert column_label("CREDIT_LIMIT", unit=True) == "Credit limit (€)"
    assert column_label("TOTAL_SPENDING", unit=True) == "Total spending (€, six months)"
    assert value_text("BALANCE", 1462.3) == "€1,462"
    assert value_text("PURCHASES_FREQUENCY", 0.5) == "0.50"
    assert money_prefix() == "€"


def test_descriptions_cards_and_grid_show_the_currency(app, demo_state, pages, euro):
    store = get_store()
    result = store.current(demo_state)[1]
    for profile in result.profiles:  # every figure of a thousand or more but counts is money
        assert "€" in profile.description, profile.description
        assert not re.search(r"(?<!€)\b\d{1,3}(,\d{3})+(?! customers)", profile.description), \
            profile.description
    overview = pages.overview.show_overview(demo_state, [])
    assert re.search(r"Total spending\s*€[\d.]+ [kM]", text_of(overview[0]))
    balance = overview[4]  # the first distribution: balance
    assert balance.layout.xaxis.title.text == "Balance (€)"
    assert all(t.startswith("€") for t in balance.layout.xaxis.ticktext)
    members = pd.DataFrame({ID_COLUMN: ["C1"], "segment": [1], "segment_name": ["x"],
                            "BALANCE": [1.0], "TENURE": [12]})
    formats = {d["field"]: d.get("valueFormatter", {}).get("function", "")
               for d in column_defs(members)}
    assert "'€' + d3.format" in formats["BALANCE"] and "'' + d3.format" in formats["TENURE"]


def test_a_change_of_currency_is_never_served_from_the_old_cache(app, demo_state, monkeypatch):
    store = get_store()
    config = SegmentationConfig()
    plain = store.segmentation(store.starting_id, config).profiles[0].description
    monkeypatch.setenv("C2C_CURRENCY", "CHF")
    assert segmentation_cache_key(store.starting_id, config)[-1] == "CHF"
    swiss = store.segmentation(store.starting_id, config).profiles[0].description
    assert "CHF " in swiss and "CHF" not in plain
    assert re.sub(r"CHF ", "", swiss) == plain


def test_campaign_numbers_and_the_report_use_the_currency(app, demo_state, pages, euro):
    campaigns = pages.campaigns
    panel = campaigns.show_tab("1", demo_state)[2]
    headings = [column.children[0].children for column in panel.children]
    assert "Cost per contact (€)" in headings and "Budget cap (€, optional)" in headings
    assert "Plan name" in headings
    values = [column.children[1].value for column in panel.children]
    projection = text_of(campaigns.project_plan(values, "1", demo_state))
    assert re.search(r"Total cost\s*€[\d,]+", projection)
    portfolio = campaigns.show_portfolio(500, demo_state, None)
    assert "€" in text_of(portfolio) and "left unspent" in text_of(portfolio)
    store = get_store()
    view, result = store.current(demo_state)
    report = build_report(store.data(view.data), result)
    assert "€" in report and "(€, six months)" in report


def test_the_cli_model_carries_the_levers_the_app_shows(app, demo_state, tmp_path, euro):
    assert main(["fit", "--k", "4", "--out", str(tmp_path)]) == 0
    model = json.loads((tmp_path / "model.json").read_text())
    saved = {name: [lever["rationale"] for lever in levers]  # the app numbers segments along k
             for name, levers in zip(model["names"], model["levers"], strict=True)}
    store = get_store()
    profiles = store.segmentation(store.starting_id, SegmentationConfig(k=4)).profiles
    assert saved == {p.name: [lever.rationale for lever in p.levers] for p in profiles}
    assert any("€" in rationale for rationales in saved.values() for rationale in rationales)
