"""Forgiving header matching: normalisation, aliases, closest match and row-number columns."""

import numpy as np
import pandas as pd
import pytest

from core.headers import (
    CANONICAL,
    closest_header,
    column_letter,
    compact,
    is_blank_name,
    is_row_numbers,
    match_header,
    match_headers,
    token_key,
)
from core.loading import from_frame
from core.schema import BEHAVIOUR_COLUMNS, ID_COLUMN


def customers(n: int = 5) -> pd.DataFrame:
    """A small valid table with canonical headers."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.uniform(0, 1, (n, 17)).round(4), columns=list(BEHAVIOUR_COLUMNS))
    frame["PURCHASES"] = frame["ONEOFF_PURCHASES"] + frame["INSTALLMENTS_PURCHASES"]
    frame[["CASH_ADVANCE_TRX", "PURCHASES_TRX", "TENURE"]] = [2.0, 3.0, 12.0]
    frame.insert(0, ID_COLUMN, [f"C{i:04d}" for i in range(n)])
    return frame


@pytest.mark.parametrize("name", CANONICAL)
def test_every_canonical_name_matches_itself(name):
    assert match_header(name) == name
    assert match_header(name.lower()) == name
    assert match_header(name.replace("_", " ").title()) == name
    assert match_header(f"  {name}\ufeff ") == name


def test_canonical_token_keys_are_distinct():
    assert len({token_key(n) for n in CANONICAL}) == len(CANONICAL)


@pytest.mark.parametrize("header, expected", [
    ("Cust Id", "CUST_ID"), ("cust_id", "CUST_ID"), ("CustomerID", "CUST_ID"),
    ("customer-id", "CUST_ID"), ("CUSTID", "CUST_ID"), ("\ufeffCUST_ID", "CUST_ID"),
    ("PRCFULLPAYMENT", "PRC_FULL_PAYMENT"), ("PCT_FULL_PAYMENT", "PRC_FULL_PAYMENT"),
    ("Percent Full Payment", "PRC_FULL_PAYMENT"), ("Full Payment", "PRC_FULL_PAYMENT"),
    ("Purchase Frequency", "PURCHASES_FREQUENCY"), ("Frequency Purchases", "PURCHASES_FREQUENCY"),
    ("purchases.frequency", "PURCHASES_FREQUENCY"),
    ("ONE_OFF_PURCHASES", "ONEOFF_PURCHASES"), ("One-off purchases", "ONEOFF_PURCHASES"),
    ("oneOffPurchasesFrequency", "ONEOFF_PURCHASES_FREQUENCY"),
    ("Installment Purchases", "INSTALLMENTS_PURCHASES"),
    ("Instalments Purchases", "INSTALLMENTS_PURCHASES"),
    ("Purchases Installments Frequency", "PURCHASES_INSTALLMENTS_FREQUENCY"),
    ("Installments Frequency", "PURCHASES_INSTALLMENTS_FREQUENCY"),
    ("Cash Advance Trx", "CASH_ADVANCE_TRX"), ("cash_advance_transactions", "CASH_ADVANCE_TRX"),
    ("Cash Advances", "CASH_ADVANCE"), ("Cash Adv Freq", "CASH_ADVANCE_FREQUENCY"),
    ("Number of purchases", "PURCHASES_TRX"), ("Purchases TRX", "PURCHASES_TRX"),
    ("Min Payments", "MINIMUM_PAYMENTS"), ("minimum_payment", "MINIMUM_PAYMENTS"),
    ("Payments", "PAYMENTS"), ("payment", "PAYMENTS"),
    ("Credit Limit", "CREDIT_LIMIT"), ("credit-limit", "CREDIT_LIMIT"),
    ("Tenure (months)", "TENURE"), ("Balance (USD)", "BALANCE"),
    ("Balance Frequency", "BALANCE_FREQUENCY"), ("BALANCEFREQUENCY", "BALANCE_FREQUENCY"),
])
def test_renamed_headers_match(header, expected):
    assert match_header(header) == expected


@pytest.mark.parametrize("header", ["region", "CREDT LIMT", "", "Unnamed: 0", "segment",
                                    "Frequency", "score"])
def test_unknown_or_misspelt_headers_are_not_guessed(header):
    assert match_header(header) is None


def test_normalisation_is_order_and_form_insensitive():
    assert token_key("Frequency Purchases") == token_key("PURCHASES_FREQUENCY")
    assert token_key("cash-advance.TRANSACTIONS") == token_key("CASH_ADVANCE_TRX")
    assert compact(" Cust-Id ") == "custid"


def test_closest_header_names_the_misspelling():
    assert closest_header("CREDIT_LIMIT", ["region", "CREDT LIMT"]) == "CREDT LIMT"
    assert closest_header("TENURE", ["region", "zip"]) is None


def test_match_headers_reports_conflicts_missing_and_attributes():
    headers = ["CUST_ID", "Purchases", "PURCHASES", "region", *BEHAVIOUR_COLUMNS[3:-1]]
    match = match_headers(headers)
    assert match.conflicts == {"PURCHASES": (1, 2)}
    assert match.missing == ("BALANCE", "BALANCE_FREQUENCY", "TENURE")
    assert match.attributes == (3,)
    assert match.columns["CUST_ID"] == 0


@pytest.mark.parametrize("values, expected", [
    ([0, 1, 2, 3], True), ([1, 2, 3], True), (["0", "1", "2"], True), ([1.0, 2.0], True),
    ([2, 3, 4], False), ([0, 2, 3], False), ([1, 1, 2], False), (["C1", "C2"], False),
    ([0, 1, None], False), ([], False),
])
def test_row_numbers_are_consecutive_integers_from_0_or_1(values, expected):
    assert is_row_numbers(pd.Series(values, dtype=object)) is expected


@pytest.mark.parametrize("header", ["", "Unnamed: 0", "index", "#", "No.", "row number"])
def test_blank_names(header):
    assert is_blank_name(header)


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "A", "Z", "AA", "AB", "ZZ", "AAA"]


@pytest.mark.parametrize("header, start", [("Unnamed: 0", 0), ("", 1), ("index", 0), ("row", 1)])
def test_leading_row_number_column_is_dropped(header, start):
    frame = customers()
    frame.insert(0, header, range(start, start + len(frame)))
    data = from_frame(frame)
    assert list(data.frame.columns) == [ID_COLUMN, *BEHAVIOUR_COLUMNS]
    assert data.attributes == ()
    assert any("row numbers" in line for line in data.quality.lines())


def test_row_number_column_is_never_taken_for_the_id():
    frame = customers()
    frame.insert(0, "ID", range(len(frame)))  # 'ID' alone would otherwise match CUST_ID
    data = from_frame(frame)
    assert data.frame[ID_COLUMN].tolist() == customers()[ID_COLUMN].tolist()


def test_numeric_ids_that_count_from_one_stay_ids():
    frame = customers()
    frame[ID_COLUMN] = range(1, len(frame) + 1)
    data = from_frame(frame)
    assert data.frame[ID_COLUMN].tolist() == ["1", "2", "3", "4", "5"]


def test_unnamed_column_that_is_not_a_row_number_is_kept_as_attribute():
    frame = customers()
    frame.insert(0, "Unnamed: 0", [5, 3, 9, 1, 0])
    data = from_frame(frame)
    assert data.attributes == ("Unnamed: 0",)
    assert data.frame["Unnamed: 0"].tolist() == [5, 3, 9, 1, 0]


def test_renamed_headers_are_recorded_and_reported():
    frame = customers().rename(columns={"CUST_ID": "Cust Id", "TENURE": "Tenure (months)",
                                        "PRC_FULL_PAYMENT": "PRCFULLPAYMENT"})
    data = from_frame(frame)
    assert list(data.frame.columns) == [ID_COLUMN, *BEHAVIOUR_COLUMNS]
    assert set(data.renamed) == {("Cust Id", "CUST_ID"), ("Tenure (months)", "TENURE"),
                                 ("PRCFULLPAYMENT", "PRC_FULL_PAYMENT")}
    info = [i for i in data.quality.issues if i.level == "info"]
    assert info and "'Cust Id' → CUST_ID" in info[0].message
    assert data.quality.warnings == ()


def test_a_bare_alias_yields_to_the_real_column():
    frame = customers().assign(Customer=["Ann", "Bo", "Cy", "Di", "Ed"], Limit=1.0)
    data = from_frame(frame)
    assert data.frame[ID_COLUMN].tolist() == customers()[ID_COLUMN].tolist()
    assert data.attributes == ("Customer", "Limit")
    assert match_headers(["Customer", "ID"]).conflicts == {"CUST_ID": (0, 1)}


def test_a_row_with_only_an_id_is_flagged():
    frame = customers()
    frame.loc[2, list(BEHAVIOUR_COLUMNS)] = np.nan
    data = from_frame(frame)
    assert "1 customer has no behaviour values at all (row 4)." in data.quality.lines()
