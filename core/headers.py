"""Forgiving header matching: map the headers of a customer table to the CC GENERAL names.

Public copies of the data set rename columns in many small ways (``Cust Id``,
``CustomerID``, ``PRCFULLPAYMENT``, ``Frequency Purchases``, ``Min Payments``,
``Tenure (months)``...). A header is matched, in order, by its exact canonical name,
by its letters and digits alone (``PRCFULLPAYMENT``), and by a *token key*: words
split on separators and camel case, singularised, abbreviations expanded, filler words
dropped, one-off joined, and sorted, so word order does not matter. A small alias table
covers the renamings that drop a word (``Installments Frequency``). Misspelt headers are
never guessed: they are named as the closest header in the missing-column message.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.schema import BEHAVIOUR_COLUMNS, ID_COLUMN

CANONICAL: tuple[str, ...] = (ID_COLUMN, *BEHAVIOUR_COLUMNS)

# Abbreviations and synonyms, applied to singular tokens.
_SYNONYMS: dict[str, str] = {
    "cust": "customer", "client": "customer", "cardholder": "customer",
    "identifier": "id", "bal": "balance",
    "freq": "frequency", "frq": "frequency", "frequence": "frequency",
    "purch": "purchase", "prch": "purchase",
    "instalment": "installment", "install": "installment", "instl": "installment",
    "inst": "installment", "adv": "advance",
    "transaction": "trx", "tran": "trx", "txn": "trx", "tx": "trx",
    "number": "trx", "num": "trx", "nbr": "trx", "count": "trx", "cnt": "trx",
    "min": "minimum", "pmt": "payment", "pymt": "payment", "paymt": "payment",
    "pay": "payment", "lim": "limit", "cred": "credit",
    "pct": "prc", "percent": "prc", "percentage": "prc", "perc": "prc", "share": "prc",
    "ratio": "prc", "proportion": "prc",
    "oneof": "oneoff",
}
_FILLER = frozenset({"of", "the", "in", "per", "amount", "amt", "total", "no", "month", "usd"})

# Renamings that drop or replace a word; written as headers, keyed through `token_key`.
_ALIASES: dict[str, str] = {
    "Customer": ID_COLUMN, "ID": ID_COLUMN, "Customer Number": ID_COLUMN,
    "Card Holder ID": ID_COLUMN, "Account ID": ID_COLUMN,
    "One-off": "ONEOFF_PURCHASES", "Installments": "INSTALLMENTS_PURCHASES",
    "Cash": "CASH_ADVANCE", "Oneoff Frequency": "ONEOFF_PURCHASES_FREQUENCY",
    "Installments Frequency": "PURCHASES_INSTALLMENTS_FREQUENCY",
    "Cash Frequency": "CASH_ADVANCE_FREQUENCY", "Cash Trx": "CASH_ADVANCE_TRX",
    "Full Payment": "PRC_FULL_PAYMENT", "Full Payment Frequency": "PRC_FULL_PAYMENT",
    "Limit": "CREDIT_LIMIT", "Minimum": "MINIMUM_PAYMENTS",
}

_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_ALNUM = re.compile(r"[^0-9a-zA-Z]+")
_BLANK_NAMES = re.compile(r"^(unnamed(: ?\d+)?|index|row|rows|#|no\.?|nr\.?|row ?number|rownum)$",
                          re.IGNORECASE)


def clean_header(header: object) -> str:
    """Return a header as text without a byte-order mark or surrounding whitespace."""
    if header is None or (isinstance(header, float) and np.isnan(header)):
        return ""
    return str(header).replace("\ufeff", "").strip()


def compact(header: object) -> str:
    """Return the letters and digits of a header, lower-cased (``'Cust Id'`` → ``'custid'``)."""
    return _NON_ALNUM.sub("", clean_header(header)).lower()


def _singular(token: str) -> str:
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith("s") and not token.endswith("ss") and len(token) > 3:
        return token[:-1]
    return token


def token_key(header: object) -> str:
    """Return the order-insensitive token key of a header.

    Parameters
    ----------
    header : object
        A header as found in a file.

    Returns
    -------
    str
        Sorted, de-duplicated, singular, unabbreviated words joined by spaces, e.g.
        ``'Frequency Purchases'`` and ``'PURCHASES_FREQUENCY'`` both give
        ``'frequency purchase'``.
    """
    text = _CAMEL.sub(" ", _PARENTHESES.sub(" ", clean_header(header)))
    tokens = [_singular(t) for t in _NON_ALNUM.split(text.lower()) if t]
    tokens = [_SYNONYMS.get(t, t) for t in tokens]
    joined: list[str] = []
    for token in tokens:
        if token == "off" and joined and joined[-1] == "one":
            joined[-1] = "oneoff"
        else:
            joined.append(token)
    return " ".join(sorted({t for t in joined if t not in _FILLER}))


def _tables() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    by_compact = {compact(name): name for name in CANONICAL}
    by_key = {token_key(name): name for name in CANONICAL}
    by_alias: dict[str, str] = {}
    for alias, name in _ALIASES.items():
        by_alias[compact(alias)] = by_alias[token_key(alias)] = name
    return by_compact, by_key, by_alias


_BY_COMPACT, _BY_KEY, _BY_ALIAS = _tables()

# How a header matched, strongest first; an ALIAS match yields to a stronger one.
EXACT, COMPACT, TOKENS, ALIAS = range(4)


def match_strength(header: object) -> tuple[str, int] | None:
    """Return ``(canonical name, strength)`` for a header, or None when it is unknown.

    Strength is ``EXACT`` (the canonical name), ``COMPACT`` (same letters and digits, e.g.
    ``PRCFULLPAYMENT``), ``TOKENS`` (same words in any form or order, e.g. ``Min Payments``)
    or ``ALIAS`` (a renaming that drops words, e.g. ``Customer`` or ``Limit``).
    """
    text = clean_header(header)
    if text in CANONICAL:
        return text, EXACT
    for table, strength in ((_BY_COMPACT, COMPACT), (_BY_KEY, TOKENS)):
        name = table.get(compact(text) if strength == COMPACT else token_key(text))
        if name is not None:
            return name, strength
    name = _BY_ALIAS.get(compact(text)) or _BY_ALIAS.get(token_key(text))
    return (name, ALIAS) if name is not None else None


def match_header(header: object) -> str | None:
    """Return the canonical column a header stands for, or None when it is unknown.

    Examples
    --------
    >>> match_header("Cust Id"), match_header("PRCFULLPAYMENT"), match_header("Tenure (months)")
    ('CUST_ID', 'PRC_FULL_PAYMENT', 'TENURE')
    """
    found = match_strength(header)
    return found[0] if found else None


def header_score(cells: Sequence[object]) -> int:
    """Number of distinct CC GENERAL columns a row of cells names (0 for a title or data row)."""
    return len({match_header(c) for c in cells if isinstance(c, str)} - {None})


def locate_header(rows: Sequence[Sequence[object]]) -> int:
    """Index of the row most likely to be the header: the first that names the most columns.

    Title lines, comments and merged group headers above the real header name few or no
    columns; when no row names any, the first row is the header (and the missing-column
    message explains).
    """
    scores = [header_score(row) for row in rows]
    return scores.index(max(scores)) if scores else 0


def is_blank_name(header: object) -> bool:
    """True for headers a row-number column typically has: empty, ``Unnamed: 0``, ``index``..."""
    text = clean_header(header)
    return text == "" or bool(_BLANK_NAMES.match(text))


def closest_header(name: str, candidates: Sequence[str]) -> str | None:
    """Return the candidate header most similar to a canonical name, or None if none is close.

    Parameters
    ----------
    name : str
        A canonical column name, e.g. ``'CREDIT_LIMIT'``.
    candidates : sequence of str
        Headers found in the file that matched no column.
    """
    def spaced(text: str) -> str:
        return " ".join(_NON_ALNUM.split(clean_header(text).lower())).strip()

    by_spaced = {spaced(c): c for c in candidates if spaced(c)}
    found = difflib.get_close_matches(spaced(name), list(by_spaced), n=1, cutoff=0.6)
    return by_spaced[found[0]] if found else None


def is_row_numbers(values: pd.Series) -> bool:
    """True when values are consecutive whole numbers starting at 0 or 1 (a saved row index)."""
    if values.empty or pd.to_numeric(values.iloc[:1], errors="coerce").iloc[0] not in (0, 1):
        return False
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    start = numbers[0]
    if start not in (0.0, 1.0):
        return False
    return bool(np.array_equal(numbers, np.arange(start, start + len(numbers))))


@dataclass(frozen=True)
class HeaderMatch:
    """How the headers of one table map onto the canonical columns.

    Attributes
    ----------
    columns : dict
        Canonical name → position of the header that supplies it.
    attributes : tuple of int
        Positions of the unknown headers, kept as pass-through attributes (including a bare
        alias such as ``Customer`` when a stronger header supplies the same column).
    conflicts : dict
        Canonical name → positions of two or more headers that all match it.
    missing : tuple of str
        Canonical names no header supplies.
    """

    columns: dict[str, int]
    attributes: tuple[int, ...]
    conflicts: dict[str, tuple[int, ...]]
    missing: tuple[str, ...]


def match_headers(headers: Sequence[object]) -> HeaderMatch:
    """Match every header of a table; positions refer to ``headers``.

    Parameters
    ----------
    headers : sequence
        The header row as found (any values; blanks allowed).

    Returns
    -------
    HeaderMatch
    """
    found: dict[str, list[tuple[int, int]]] = {}
    attributes: list[int] = []
    for position, header in enumerate(headers):
        match = match_strength(header)
        if match is None:
            attributes.append(position)
        else:
            found.setdefault(match[0], []).append((match[1], position))
    columns: dict[str, int] = {}
    conflicts: dict[str, tuple[int, ...]] = {}
    for name, candidates in found.items():
        strong = [position for strength, position in candidates if strength < ALIAS]
        if len(strong) == 1 or len(candidates) == 1:  # a bare alias yields to a real match
            columns[name] = strong[0] if strong else candidates[0][1]
            attributes += [p for s, p in candidates if s == ALIAS and p != columns[name]]
        else:
            conflicts[name] = tuple(position for _, position in candidates)
    missing = tuple(name for name in CANONICAL if name not in found)
    return HeaderMatch(columns, tuple(sorted(attributes)), conflicts, missing)


def column_letter(position: int) -> str:
    """Spreadsheet letter of a 0-based column position (0 → ``'A'``, 27 → ``'AB'``)."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
