"""Pages of a member list for a table in the browser: sort, filter and page on the server.

A browser table (AG Grid's infinite row model) asks for rows ``[startRow, endRow)`` of a member
list (:func:`core.export.member_list`) with its sort model and filter model; :func:`member_page`
answers with those rows and how many customers match, so a million customers never travel.

>>> page = member_page(members, {"startRow": 0, "endRow": 100,          # doctest: +SKIP
...                              "sortModel": [{"colId": "BALANCE", "sort": "desc"}],
...                              "filterModel": {"CUST_ID": {"filterType": "text",
...                                                          "type": "contains", "filter": "C1"}}})

The models are AG Grid's:

- sort model: ``[{"colId": column, "sort": "asc" | "desc"}, ...]``, first key first; ties keep
  the member list's order, missing values come last.
- filter model: ``{column: condition}``, all columns must match. A condition is
  ``{"filterType": "text", "type": T, "filter": text}`` with T one of :data:`TEXT_TESTS`
  (case-insensitive, as AG Grid's text filter), or ``{"filterType": "number", "type": T,
  "filter": x, "filterTo": y}`` with T one of :data:`NUMBER_TESTS` (``inRange`` includes both
  ends), or several of them: ``{"filterType": ..., "operator": "AND" | "OR", "conditions":
  [...]}``. Missing values match ``blank`` and the negations (``notEqual``, ``notContains``,
  ``notBlank`` is the negation of ``blank``) only.

Every model comes from the browser: an unknown column or test, a value of the wrong type, text
longer than :data:`MAX_FILTER_CHARS` or more than :data:`MAX_CONDITIONS` conditions raise
:class:`~core.errors.ConfigError`; a row range is clipped to the list and to at most
:data:`MAX_PAGE_ROWS` rows. Filters and sorts are vectorised, and a sort orders only the
customers that pass the filters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.errors import ConfigError

__all__ = ["MAX_PAGE_ROWS", "NUMBER_TESTS", "TEXT_TESTS", "RowPage", "matching_members",
           "member_page", "records"]

MAX_PAGE_ROWS = 500
MAX_FILTER_CHARS = 200
MAX_CONDITIONS = 8
DEFAULT_PAGE_ROWS = 100

_Test = Callable[[pd.Series, Any, Any], np.ndarray]

TEXT_TESTS: dict[str, _Test] = {
    "equals": lambda v, f, _: (v == f).to_numpy(dtype=bool, na_value=False),
    "contains": lambda v, f, _: v.str.contains(f, regex=False).to_numpy(dtype=bool,
                                                                        na_value=False),
    "startsWith": lambda v, f, _: v.str.startswith(f).to_numpy(dtype=bool, na_value=False),
    "endsWith": lambda v, f, _: v.str.endswith(f).to_numpy(dtype=bool, na_value=False),
    "blank": lambda v, f, _: (v.isna() | (v.str.strip() == "")).to_numpy(dtype=bool,
                                                                         na_value=True),
}
NUMBER_TESTS: dict[str, _Test] = {
    "equals": lambda v, f, _: v == f,
    "greaterThan": lambda v, f, _: v > f,
    "greaterThanOrEqual": lambda v, f, _: v >= f,
    "lessThan": lambda v, f, _: v < f,
    "lessThanOrEqual": lambda v, f, _: v <= f,
    "inRange": lambda v, f, to: (v >= min(f, to)) & (v <= max(f, to)),
    "blank": lambda v, f, _: np.isnan(v),
}
NEGATIONS = {"notEqual": "equals", "notContains": "contains", "notBlank": "blank"}
NO_VALUE = ("blank",)  # tests without a filter value


@dataclass(frozen=True)
class RowPage:
    """Rows ``start``.. of the customers that pass the filters, in the sort's order."""

    rows: pd.DataFrame
    count: int  # customers that pass the filters
    start: int


def member_page(members: pd.DataFrame, request: Mapping[str, Any] | None) -> RowPage:
    """The rows a table asked for: ``request`` is AG Grid's ``getRowsRequest``.

    Parameters
    ----------
    members : DataFrame
        A member list (:func:`core.export.member_list`): one row per customer, a RangeIndex.
    request : mapping or None
        ``startRow`` and ``endRow`` (ints; default the first :data:`DEFAULT_PAGE_ROWS` rows),
        ``sortModel`` and ``filterModel`` (see the module docstring); other keys are ignored.

    Returns
    -------
    RowPage
        At most :data:`MAX_PAGE_ROWS` rows, and how many customers pass the filters.

    Raises
    ------
    ConfigError
        For a request or model that is not one a table sends (see the module docstring).
    """
    request = {} if request is None else request
    if not isinstance(request, Mapping):
        raise ConfigError(f"a row request must be a dict; got {type(request).__name__}.")
    positions = _ordered_positions(members, request.get("filterModel"),
                                   request.get("sortModel"))
    start, end = _row_range(request, len(positions))
    return RowPage(members.iloc[positions[start:end]].reset_index(drop=True), len(positions),
                   start)


def matching_members(members: pd.DataFrame, filter_model: Any = None,
                     sort_model: Any = None) -> pd.DataFrame:
    """Every customer of ``members`` that passes ``filter_model``, in ``sort_model``'s order:
    what the table shows, page after page (e.g. to export it). A RangeIndex."""
    positions = _ordered_positions(members, filter_model, sort_model)
    if len(positions) == len(members) and not _sort_keys(members, sort_model):
        return members
    return members.iloc[positions].reset_index(drop=True)


def records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """``rows`` as JSON-ready dicts: Python scalars, None for missing and infinite values."""
    numeric = rows.select_dtypes("number").columns
    clean = rows.astype(object)
    for column in numeric:
        values = rows[column].to_numpy(dtype=float, na_value=np.nan)
        clean[column] = np.where(np.isfinite(values), rows[column].astype(object), None)
    return clean.where(rows.notna(), None).to_dict("records")


# --- ordering -------------------------------------------------------------------------------

def _ordered_positions(members: pd.DataFrame, filter_model: Any,
                       sort_model: Any) -> np.ndarray:
    """Row positions of the customers that pass the filters, sorted."""
    keys = _sort_keys(members, sort_model)
    keep = np.flatnonzero(_matching(members, filter_model))
    if not keys:
        return keep
    columns = [column for column, _ in keys]
    subset = members[columns].iloc[keep].reset_index(drop=True)
    order = subset.sort_values(columns, ascending=[ascending for _, ascending in keys],
                               kind="stable", na_position="last", key=_sort_key).index
    return keep[order.to_numpy()]


def _sort_key(values: pd.Series) -> pd.Series:
    """Numbers as they are, text case-insensitively (as AG Grid's filters compare it)."""
    return values if _is_number(values) else _text(values)


def _sort_keys(members: pd.DataFrame, sort_model: Any) -> list[tuple[str, bool]]:
    """``[(column, ascending), ...]`` of a checked sort model."""
    if sort_model is None:
        return []
    if not isinstance(sort_model, list) or len(sort_model) > members.shape[1]:
        raise ConfigError(f"a sort model must be a list of at most {members.shape[1]} "
                          f"columns; got {_shown(sort_model)}.")
    keys: list[tuple[str, bool]] = []
    for entry in sort_model:
        if not isinstance(entry, Mapping) or entry.get("sort") not in ("asc", "desc"):
            raise ConfigError(f"each sort is {{'colId': column, 'sort': 'asc' or 'desc'}}; "
                              f"got {_shown(entry)}.")
        column = _column(members, entry.get("colId"))
        if column in dict(keys):
            raise ConfigError(f"the sort model names {column!r} twice.")
        keys.append((column, entry["sort"] == "asc"))
    return keys


def _row_range(request: Mapping[str, Any], count: int) -> tuple[int, int]:
    """``[start, end)`` of the request, inside ``[0, count]`` and at most MAX_PAGE_ROWS long."""
    start = _integer(request.get("startRow", 0), "startRow")
    end = _integer(request.get("endRow", start + DEFAULT_PAGE_ROWS), "endRow")
    start = min(max(start, 0), count)
    return start, min(max(end, start), start + MAX_PAGE_ROWS, count)


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            (isinstance(value, float) and not value.is_integer()):
        raise ConfigError(f"{what} must be a whole number; got {_shown(value)}.")
    return int(value)


# --- filtering ------------------------------------------------------------------------------

def _matching(members: pd.DataFrame, filter_model: Any) -> np.ndarray:
    """Which customers pass every column's filter."""
    keep = np.ones(len(members), dtype=bool)
    if filter_model is None:
        return keep
    if not isinstance(filter_model, Mapping) or len(filter_model) > members.shape[1]:
        raise ConfigError(f"a filter model must be a dict of at most {members.shape[1]} "
                          f"columns; got {_shown(filter_model)}.")
    for name, model in filter_model.items():
        column = _column(members, name)
        keep &= _column_filter(members[column], column, model)
    return keep


def _column_filter(values: pd.Series, column: str, model: Any) -> np.ndarray:
    """Which values pass one column's filter (a condition, or conditions joined by AND/OR)."""
    if not isinstance(model, Mapping):
        raise ConfigError(f"the filter of {column!r} must be a dict; got {_shown(model)}.")
    kind = "number" if _is_number(values) else "text"
    if model.get("filterType") != kind:
        raise ConfigError(f"{column!r} takes a {kind} filter; got filterType "
                          f"{_shown(model.get('filterType'))}.")
    prepared = (values.to_numpy(dtype=float, na_value=np.nan) if kind == "number"
                else _text(values))
    if "conditions" not in model:
        return _condition(prepared, column, kind, model)
    conditions, joined = model.get("conditions"), model.get("operator")
    if not isinstance(conditions, list) or not 1 <= len(conditions) <= MAX_CONDITIONS \
            or joined not in ("AND", "OR"):
        raise ConfigError(f"the filter of {column!r} joins 1 to {MAX_CONDITIONS} conditions "
                          f"with AND or OR; got {_shown(model)}.")
    results = [_condition(prepared, column, kind, c) for c in conditions]
    return np.logical_and.reduce(results) if joined == "AND" else np.logical_or.reduce(results)


def _condition(values: pd.Series | np.ndarray, column: str, kind: str, model: Any) -> np.ndarray:
    """Which values pass one condition."""
    tests = NUMBER_TESTS if kind == "number" else TEXT_TESTS
    name = model.get("type") if isinstance(model, Mapping) else None
    name = name if isinstance(name, str) else repr(name)
    positive = NEGATIONS.get(name, name)
    if positive not in tests:
        raise ConfigError(f"unknown {kind} filter {_shown(name)} on {column!r}; use one of "
                          f"{', '.join([*tests, *NEGATIONS])}.")
    if positive in NO_VALUE:
        bound = bound_to = None
    elif kind == "number":
        bound = _number(model.get("filter"), column)
        bound_to = _number(model.get("filterTo"), column) if positive == "inRange" else None
    else:
        bound, bound_to = _needle(model.get("filter"), column), None
    passed = tests[positive](values, bound, bound_to)
    return ~passed if name in NEGATIONS else passed


def _number(value: Any, column: str) -> float:
    try:
        number = float(value) if isinstance(value, int | float) else math.nan
    except OverflowError:  # an int beyond any float
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise ConfigError(f"the number filter on {column!r} needs a number; got "
                          f"{_shown(value)}.")
    return number


def _needle(value: Any, column: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_FILTER_CHARS:
        raise ConfigError(f"the text filter on {column!r} needs a text of at most "
                          f"{MAX_FILTER_CHARS} characters; got {_shown(value)}.")
    return value.lower()


# --- helpers --------------------------------------------------------------------------------

def _column(members: pd.DataFrame, name: Any) -> str:
    if not isinstance(name, str) or name not in members.columns:
        raise ConfigError(f"no column {_shown(name)} in this table; the columns are "
                          f"{', '.join(map(str, members.columns))}.")
    return name


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _text(values: pd.Series) -> pd.Series:
    """Lower-cased text (pandas' Arrow-backed ``str``), missing values kept missing."""
    return values.astype("str").str.lower()


def _shown(value: Any) -> str:
    """``repr(value)``, cut short: a hostile value never floods a message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

