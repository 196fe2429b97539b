"""Segment names and descriptions: archetype rules, distinct names, numbers in the text."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from core.cleaning import Cleaner
from core.currency import money
from core.demo import DEMO_PATH
from core.features import add_features
from core.loading import load_customers
from core.naming import TRAITS, Archetype, archetype, name_segments, pct
from core.pipeline import SegmentationConfig, segment_customers
from core.profiling import profile_segments
from core.schema import BEHAVIOUR_COLUMNS
from tests.planted import FOUR, planted
from tests.reference import REFERENCE_CSV, needs_reference

JARGON = ("z-score", "centroid", "cluster", "standard deviation", "effect size", "log")


def names(groups, seed: int = 0) -> list[str]:
    frame, labels = planted(groups, seed)
    return [p.name for p in profile_segments(frame, labels)]


def test_planted_groups_get_names_that_say_what_they_do():
    cash, installment, oneoff, dormant = names(FOUR)
    assert cash == "Cash-advance revolvers"
    assert installment == "Installment shoppers"
    assert oneoff == "One-off shoppers"
    assert dormant == "Dormant accounts"


@pytest.mark.parametrize(("group", "expected"), [
    (("cash", 40, {"BALANCE": 300, "PAYMENTS": 3000, "PRC_FULL_PAYMENT": 0.9}),
     "Cash-advance users"),
    (("cash", 40, {"PURCHASES_FREQUENCY": 0.8, "ONEOFF_PURCHASES": 1500}),
     "Cash-and-card revolvers"),
    (("installment", 40, {"TENURE": 6, "CREDIT_LIMIT": 1000}), "New low-limit accounts"),
    (("installment", 40, {"TENURE": 7}), "New accounts"),
    (("oneoff", 40, {"ONEOFF_PURCHASES": 6000}), "Big one-off spenders"),
    (("dormant", 40, {"PAYMENTS": 0}), "Non-paying accounts"),
    (("installment", 40, {"PRC_FULL_PAYMENT": 0.9, "PAYMENTS": 3000}), "Full-paying transactors"),
    (("oneoff", 40, {"INSTALLMENTS_PURCHASES": 1500, "PURCHASES_FREQUENCY": 0.9,
                     "ONEOFF_PURCHASES_FREQUENCY": 0.6, "PURCHASES_INSTALLMENTS_FREQUENCY": 0.6}),
     "High-spending all-rounders"),
    (("dormant", 40, {"BALANCE_FREQUENCY": 0.9, "ONEOFF_PURCHASES": 400}),
     "Low-activity accounts"),
])
def test_each_archetype_rule(group, expected):
    others = [("cash", 40), ("installment", 40), ("oneoff", 40)]
    assert names([group, *others])[0] == expected


def test_archetypes_drive_names_in_rule_order():
    frame, labels = planted([("dormant", 40, {"PAYMENTS": 0, "TENURE": 6}), *FOUR])
    profiles = profile_segments(frame, labels)
    (population,) = profile_segments(frame, np.zeros(len(frame), dtype=int))
    # no payments outranks new and low activity
    assert archetype(profiles[0], population) is Archetype.NON_PAYING
    assert archetype(profiles[1], population) is Archetype.CASH


def test_alike_groups_get_distinct_names_from_their_most_telling_trait():
    found = names([("installment", 50, {"BALANCE": 2500}), ("installment", 50),
                   ("cash", 40)])
    assert len(set(found)) == 3
    first, second, _ = found
    assert first.startswith("Installment shoppers — ")
    assert second.startswith("Installment shoppers — ")
    assert "high" in first.split(" — ")[1]
    assert "low" in second.split(" — ")[1]


def test_disambiguating_traits_are_true_against_the_population():
    frame, labels = planted([("installment", 50, {"CREDIT_LIMIT": 9000}),
                             ("installment", 50, {"CREDIT_LIMIT": 1200}), ("cash", 40)])
    high, low, _ = profile_segments(frame, labels)
    assert high.name == "Installment shoppers — high limit"
    assert low.name == "Installment shoppers — low limit"


@pytest.mark.parametrize("copies", [2, 3, 5])
def test_names_stay_distinct_for_identical_groups(copies):
    found = names([("installment", 30)] * copies + [("cash", 30)])
    assert len(set(found)) == len(found)
    assert not any(re.search(r"\(\d+\)", name) for name in found)


def test_many_alike_segments_get_distinct_plain_names():
    frame, labels = planted([("installment", 30)] * 10 + [("cash", 30)])
    profiles = profile_segments(frame, labels)
    found = [p.name for p in profiles]
    assert len(set(found)) == len(found)
    assert not any(re.search(r"segment \d", name) for name in found)
    # a name saying a segment is the highest or lowest of its namesakes on a trait is true
    alike = profiles[:10]
    for profile in alike:
        suffix = profile.name.split(" — ")[1]
        for column, _, _, lowest, highest in TRAITS:
            values = [p.z_scores[column] for p in alike]
            if suffix == highest:
                assert profile.z_scores[column] == max(values)
            if suffix == lowest:
                assert profile.z_scores[column] == min(values)
    assert any(p.name.split(" — ")[1].startswith(("highest", "lowest", "most", "fewest"))
               for p in alike)


def test_identical_segments_are_told_apart_by_size():
    frame, labels = planted([("installment", 30), ("cash", 30)])
    twice = pd.concat([frame[labels == 1]] * 2 + [frame[labels == 2]], ignore_index=True)
    found = [p.name for p in profile_segments(twice, np.repeat([1, 2, 3], 30))]
    assert found == ["Installment shoppers — largest", "Installment shoppers — 2nd largest",
                     "Cash-advance revolvers"]


def test_hdbscan_segments_of_the_demo_data_all_get_plain_names():
    result = segment_customers(load_customers(DEMO_PATH), SegmentationConfig(algorithm="hdbscan"))
    found = [p.name for p in result.profiles]
    assert result.k > 4 and len(set(found)) == result.k
    assert not any(re.search(r"segment \d", name) for name in found)


def test_descriptions_give_size_share_and_real_numbers():
    frame, labels = planted(FOUR)
    profiles = profile_segments(frame, labels)
    for profile in profiles:
        text = profile.description
        assert text.startswith(f"{profile.size:,} customers ({pct(profile.share)} of the base)")
        assert money(profile.medians["CREDIT_LIMIT"]) in text
        assert 2 <= len(re.findall(r"[.!?](?:\s|$)", text)) <= 4
        assert not any(word in text.lower() for word in JARGON)
        assert "all customers:" in text
    cash, installment, _, dormant = profiles
    assert pct(cash.means["CASH_ADVANCE_SHARE"]) in cash.description
    assert "high utilisation" in cash.description
    assert pct(installment.means["INSTALLMENT_SHARE"]) in installment.description
    assert money(dormant.medians["TOTAL_SPENDING"]) in dormant.description


def test_a_single_segment_is_described_without_comparing_it_to_itself():
    frame, _ = planted(FOUR)
    (only,) = profile_segments(frame, np.ones(len(frame), dtype=int))
    assert only.name == "All customers"
    assert only.description.startswith(f"All {len(frame):,} customers")
    assert "all customers:" not in only.description


def test_a_one_customer_segment_reads_in_the_singular():
    frame, labels = planted([("cash", 1), ("installment", 20), ("dormant", 20)])
    lone = profile_segments(frame, labels)[0]
    assert lone.description.startswith("1 customer (")


def test_name_segments_returns_a_name_and_description_per_profile():
    frame, labels = planted(FOUR)
    profiles = profile_segments(frame, labels)
    (population,) = profile_segments(frame, np.zeros(len(frame), dtype=int))
    named = name_segments(profiles, population)
    assert [name for name, _ in named] == [p.name for p in profiles]
    for (_, text), profile in zip(named, profiles, strict=True):
        assert text.split(":")[0] == profile.description.split(":")[0]


@pytest.fixture(scope="module")
def reference() -> tuple[pd.DataFrame, np.ndarray]:
    """The real file cleaned with features, and its log1p + standard-scaled 17 columns."""
    raw = pd.read_csv(REFERENCE_CSV)
    frame = add_features(Cleaner().fit(raw).transform(raw))
    return frame, StandardScaler().fit_transform(np.log1p(frame[list(BEHAVIOUR_COLUMNS)]))


@needs_reference
@pytest.mark.parametrize("k", [4, 6, 8])
def test_real_file_segments_get_distinct_readable_names(reference, k):
    frame, matrix = reference
    labels = KMeans(k, n_init=2, random_state=0).fit_predict(matrix) + 1
    profiles = profile_segments(frame, labels)
    found = [p.name for p in profiles]
    assert len(set(found)) == k
    assert all(2 <= len(name.split(" — ")[0].split()) <= 4 for name in found)
    assert any("Cash" in name for name in found)
    assert any("Installment" in name for name in found)
    for profile in profiles:
        assert not any(word in profile.description.lower() for word in JARGON)
